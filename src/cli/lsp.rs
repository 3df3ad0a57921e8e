//! `chaosc lsp`: the language server that editors start.

use clap::Args;

use super::exit;
use crate::lsp;

/// Arguments of `chaosc lsp`.
#[derive(Debug, Args)]
pub struct LspArgs {
    /// Talk over standard input and output, the only transport; accepted
    /// because language clients such as VS Code's pass it.
    #[arg(long)]
    pub stdio: bool,
}

/// Runs the language server until the editor ends it, and returns the exit
/// code: 1 when the editor sends `exit` before `shutdown` or the connection
/// fails, as the protocol specifies.
pub fn execute(_args: &LspArgs) -> u8 {
    match lsp::serve_stdio() {
        Ok(()) => exit::SUCCESS,
        Err(error) => {
            // Standard output carries the protocol, so the error goes to
            // standard error, where editors show a server's log.
            eprintln!("error: {error}");
            1
        }
    }
}

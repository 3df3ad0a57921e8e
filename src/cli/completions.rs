//! `chaosc completions`: shell completion scripts generated from the
//! command-line definition, so they never fall behind it.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, exit};

/// Arguments of `chaosc completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script to standard output.
pub fn execute(args: &CompletionsArgs) -> u8 {
    // The script is built in memory because the generator panics when its
    // writer fails, as a closed pipe would make standard output fail.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut visible_command(), "chaosc", &mut script);
    // A closed pipe (as in `chaosc completions bash | head`) is not an error
    // of the script.
    drop(std::io::stdout().write_all(&script));
    exit::SUCCESS
}

/// Rebuilds the command line without its hidden subcommands, such as
/// `guardian`. The generators of clap_complete 4.6 offer hidden subcommands
/// too, and `clap::Command` cannot remove a subcommand, so the root is
/// assembled again from the same arguments and visible subcommands.
fn visible_command() -> clap::Command {
    let full = Cli::command();
    let mut root = clap::Command::new("chaosc")
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(
            full.get_subcommands()
                .filter(|sub| !sub.is_hide_set())
                .cloned(),
        );
    if let Some(about) = full.get_about() {
        root = root.about(about.clone());
    }
    root
}

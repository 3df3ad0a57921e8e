//! `chaosc lsp`: a language server for `.chaos` files over stdio. It
//! publishes the checker's diagnostics as the text changes, and offers
//! hover, go to definition, completion, formatting and document symbols.
//!
//! The server is synchronous: it handles one message at a time on the
//! thread that calls [`serve_stdio`], which is fast enough because every
//! request works on one small document.

mod catalog;
mod completion;
mod definition;
mod diagnostics;
mod error;
mod files;
mod format;
mod hover;
mod index;
mod position;
mod resolve;
mod server;
mod symbols;
mod tokens;

pub use error::LspError;
pub use format::{FormatError, format_source};

/// Serves the language server protocol on standard input and output until
/// the editor sends `shutdown` and `exit`.
pub fn serve_stdio() -> Result<(), LspError> {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    let result = server::serve(&connection);
    // The writer thread ends once every sender of the connection is gone.
    drop(connection);
    io_threads.join().map_err(LspError::Stdio)?;
    result
}

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
mod templates;
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

#[cfg(test)]
mod tests {
    use super::index::DocumentIndex;
    use super::{completion, diagnostics, hover, resolve, symbols};

    /// Runs every feature that needs no file system on `text` at `offset`.
    fn exercise(text: &str, offset: usize) {
        let uri: lsp_types::Uri = "file:///x.chaos".parse().unwrap();
        let index = DocumentIndex::new(text);
        resolve::resolve(&index, offset);
        hover::hover(&index, offset);
        completion::complete(&index, offset);
        symbols::document_symbols(&index);
        drop(super::format_source(text));
        // The checker is the slowest part, so it runs once per word typed.
        if offset == text.len() && text.ends_with([' ', '\n']) {
            diagnostics::diagnose(&uri, text);
        }
    }

    #[test]
    fn features_survive_every_prefix() {
        // Non-ASCII text and blanks make offsets and columns differ.
        let source = format!(
            "{}\n/* é\u{3000}𝄞 */ target\u{3000}x = proxy {{\n\u{3000}  listen = \"ü\"\n",
            include_str!("../../scenarios/quickstart.chaos")
        );
        let boundaries = (0..=source.len()).filter(|&i| source.is_char_boundary(i));
        for end in boundaries {
            exercise(&source[..end], end);
            exercise(&source, end);
        }
    }
}

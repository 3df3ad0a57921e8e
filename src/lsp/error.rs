//! The errors that end the language server.

use std::path::PathBuf;

use thiserror::Error;

/// A failure of the language server itself, as opposed to a finding about
/// the edited document, which becomes a diagnostic.
#[derive(Debug, Error)]
pub enum LspError {
    #[error("the language server protocol failed: {0}")]
    Protocol(#[from] lsp_server::ProtocolError),

    #[error("the connection to the editor closed before `shutdown`")]
    Disconnected,

    #[error("the editor sent `exit` before `shutdown`")]
    ExitBeforeShutdown,

    #[error("invalid `initialize` parameters: {0}")]
    InvalidInitialize(serde_json::Error),

    #[error("cannot write `{path}`: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("cannot build a file URI from `{uri}`")]
    InvalidUri { uri: String },

    #[error("neither `XDG_CACHE_HOME` nor `HOME` is set, so the stdlib has no cache directory")]
    NoCacheDir,

    #[error("the stdio threads failed: {0}")]
    Stdio(std::io::Error),
}

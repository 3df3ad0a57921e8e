//! `chaosc fmt`: re-indents `.chaos` files by bracket depth, four spaces a
//! level, and trims trailing spaces. It keeps every comment, every space
//! within a line and every token, so the formatted file means exactly what
//! the original did.

use std::path::PathBuf;

use clap::Args;
use miette::Diagnostic;
use thiserror::Error;

use super::exit;
use super::governed::print_error;
use super::source::{expand_paths, read_source};
use crate::lsp::{FormatError, format_source};

/// A file that `fmt` could not format or write back.
#[derive(Debug, Error, Diagnostic)]
enum FmtError {
    #[error("cannot format `{path}`: {reason}")]
    #[diagnostic(
        code(chaos::E0908),
        help(
            "fix the brackets, strings and comments (`chaosc check` shows where), then format again"
        )
    )]
    Unformattable { path: String, reason: FormatError },

    #[error("cannot write `{path}`: {reason}")]
    #[diagnostic(
        code(chaos::E0909),
        help("check the file's permissions and the free space of its disk")
    )]
    Unwritable { path: String, reason: String },
}

/// Arguments of `chaosc fmt`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Files to format in place; directories are searched for `.chaos` files.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,

    /// Change nothing; list the files that are not formatted and exit 1.
    #[arg(long)]
    pub check: bool,
}

/// Runs `chaosc fmt`.
pub fn execute(args: &FmtArgs) -> u8 {
    let mut unformatted = 0;
    let mut failed = false;
    for path in expand_paths(&args.paths) {
        let source = match path.and_then(|path| read_source(&path)) {
            Ok(source) => source,
            Err(error) => {
                print_error(&error);
                failed = true;
                continue;
            }
        };
        let formatted = match format_source(&source.text) {
            Ok(formatted) => formatted,
            Err(reason) => {
                print_error(&FmtError::Unformattable {
                    path: source.display_name(),
                    reason,
                });
                failed = true;
                continue;
            }
        };
        if formatted == source.text {
            continue;
        }
        unformatted += 1;
        if args.check {
            println!("{}", source.display_name());
        } else if let Err(error) = std::fs::write(&source.path, formatted) {
            print_error(&FmtError::Unwritable {
                path: source.display_name(),
                reason: error.to_string(),
            });
            failed = true;
        }
    }
    if failed {
        exit::USAGE
    } else if args.check && unformatted > 0 {
        exit::CHECK_FAILED
    } else {
        exit::SUCCESS
    }
}

//! `use "./other.chaos"`: checking the files a file imports, and detecting
//! import cycles.

use std::path::{Path, PathBuf};

use miette::Diagnostic as _;

use super::{CheckError, check_inner, is_error};
use crate::cli::source::read_source;
use crate::model::Model;
use crate::syntax::{self, ImportDecl, Item};

/// Checks every file that `file` imports and returns their models. `path` is
/// the importing file, `None` for text without a file (imports are then
/// relative to the current directory); `stack` holds the files being
/// imported, outermost first.
pub fn load_imports(
    diagnostics: &mut Vec<CheckError>,
    file: &syntax::File,
    path: Option<&Path>,
    stack: &mut Vec<PathBuf>,
) -> Vec<Model> {
    let directory = path.and_then(Path::parent).unwrap_or(Path::new("."));
    let mut models = Vec::new();
    for item in &file.items {
        let Item::Import(decl) = item else { continue };
        if let Some(model) = load_import(diagnostics, decl, directory, stack) {
            models.push(model);
        }
    }
    models
}

fn load_import(
    diagnostics: &mut Vec<CheckError>,
    decl: &ImportDecl,
    directory: &Path,
    stack: &mut Vec<PathBuf>,
) -> Option<Model> {
    let resolved = directory.join(&decl.path);
    let Ok(canonical) = resolved.canonicalize() else {
        diagnostics.push(CheckError::ImportNotFound {
            path: decl.path.clone(),
            span: decl.path_span.into(),
            help: Some(format!(
                "the path is relative to the importing file's directory, here `{}`",
                directory.display()
            )),
        });
        return None;
    };

    if let Some(position) = stack.iter().position(|open| *open == canonical) {
        let mut names: Vec<String> = stack[position..].iter().map(|p| file_name(p)).collect();
        names.push(file_name(&canonical));
        diagnostics.push(CheckError::ImportCycle {
            cycle: names.join(" -> "),
            span: decl.path_span.into(),
        });
        return None;
    }

    // Imports are read like the files named on the command line, so only a
    // regular file is read, and at most 8 MiB of it. A FIFO would block the
    // checker, and `/proc/self/pagemap` reports a size of 0 but reads on.
    let source = match read_source(&canonical) {
        Ok(file) => file.text,
        Err(error) => {
            diagnostics.push(CheckError::ImportUnreadable {
                path: decl.path.clone(),
                reason: error.to_string(),
                span: decl.path_span.into(),
                help: error.help().map(|help| help.to_string()),
            });
            return None;
        }
    };

    stack.push(canonical.clone());
    let output = match syntax::parse_file(&source) {
        Ok(file) => Ok(check_inner(&file, &source, Some(&canonical), stack)),
        Err(errors) => Err(errors.len()),
    };
    stack.pop();

    let count = match output {
        Ok(output) if !output.has_errors() => return output.model,
        Ok(output) => output.diagnostics.iter().filter(|d| is_error(d)).count(),
        Err(count) => count,
    };
    diagnostics.push(CheckError::ImportHasErrors {
        path: decl.path.clone(),
        count,
        errors: if count == 1 { "error" } else { "errors" },
        span: decl.path_span.into(),
        help: Some(format!(
            "run `chaosc check {}` to see them",
            resolved.display()
        )),
    });
    None
}

/// Returns the last component of a path, for short cycle messages.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

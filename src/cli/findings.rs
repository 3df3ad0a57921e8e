//! The findings of `chaosc check` for each file, kept as diagnostics so that
//! every output format renders the same list.

use std::path::{Path, PathBuf};

use miette::Diagnostic;

use super::render::{JsonDiagnostic, Style, render_human, to_json};
use super::source::{expand_paths, read_source};
use crate::check;
use crate::governance::content::import_paths;
use crate::syntax;

/// A diagnostic of any stage: input, syntax or check.
pub type BoxedDiagnostic = Box<dyn Diagnostic + Send + Sync>;

/// The findings of one file.
#[derive(Debug)]
pub struct FileFindings {
    /// The path as given on the command line or found in a directory.
    pub path: String,
    /// The text of the file; `None` when it could not be read.
    pub source: Option<String>,
    /// The paths of the file's `use "..."` imports as written, for its
    /// content hash; empty when the file could not be read or parsed.
    pub imports: Vec<String>,
    pub diagnostics: Vec<BoxedDiagnostic>,
}

impl FileFindings {
    /// Renders every diagnostic for people, in order.
    pub fn render_human(&self, style: Style) -> String {
        let mut out = String::new();
        for diagnostic in &self.diagnostics {
            let source = self
                .source
                .as_deref()
                .map(|text| (self.path.as_str(), text));
            out.push_str(&render_human(diagnostic.as_ref(), source, style));
        }
        out
    }

    /// Converts every diagnostic into its JSON form.
    pub fn to_json(&self) -> Vec<JsonDiagnostic> {
        let source = self.source.as_deref();
        self.diagnostics
            .iter()
            .map(|diagnostic| to_json(diagnostic.as_ref(), source))
            .collect()
    }

    /// Counts errors and warnings; `deny_warnings` counts warnings as errors.
    pub fn counts(&self, deny_warnings: bool) -> (usize, usize) {
        let errors = self
            .diagnostics
            .iter()
            .filter(|d| is_error_diagnostic(d.as_ref()))
            .count();
        let warnings = self.diagnostics.len() - errors;
        if deny_warnings {
            (errors + warnings, 0)
        } else {
            (errors, warnings)
        }
    }
}

/// Tells whether a diagnostic of any stage is an error.
fn is_error_diagnostic(diagnostic: &dyn Diagnostic) -> bool {
    !matches!(
        diagnostic.severity(),
        Some(miette::Severity::Warning | miette::Severity::Advice)
    )
}

/// Checks every file named, searching directories for `.chaos` files.
pub fn check_paths(paths: &[PathBuf]) -> Vec<FileFindings> {
    check_paths_under_policy(paths, crate::governance::policy::DEFAULT_POLICY)
}

/// Checks every file named like [`check_paths`], with `governance_policy`
/// as the text of the governance policy in force.
pub fn check_paths_under_policy(paths: &[PathBuf], governance_policy: &str) -> Vec<FileFindings> {
    expand_paths(paths)
        .into_iter()
        .map(|path| match path {
            Ok(path) => check_path_under_policy(&path, governance_policy),
            Err(error) => FileFindings {
                path: String::new(),
                source: None,
                imports: Vec::new(),
                diagnostics: vec![Box::new(error)],
            },
        })
        .collect()
}

/// Reads and checks one file.
pub fn check_path(path: &Path) -> FileFindings {
    check_path_under_policy(path, crate::governance::policy::DEFAULT_POLICY)
}

/// Reads and checks one file under the governance policy text given.
pub fn check_path_under_policy(path: &Path, governance_policy: &str) -> FileFindings {
    let source = match read_source(path) {
        Ok(source) => source,
        Err(error) => {
            return FileFindings {
                path: path.display().to_string(),
                source: None,
                imports: Vec::new(),
                diagnostics: vec![Box::new(error)],
            };
        }
    };
    // The file is parsed here rather than inside the checker so that its
    // imports are kept for the content hash, which need not parse it again.
    let (imports, diagnostics): (Vec<String>, Vec<BoxedDiagnostic>) =
        match syntax::parse_file(&source.text) {
            Err(errors) => {
                let errors = errors.into_iter();
                let diagnostics = errors.map(|error| Box::new(error) as BoxedDiagnostic);
                (Vec::new(), diagnostics.collect())
            }
            Ok(file) => {
                let output =
                    check::check_parsed_under_policy(path, &source.text, &file, governance_policy);
                let diagnostics = output.diagnostics.into_iter();
                let diagnostics =
                    diagnostics.map(|diagnostic| Box::new(diagnostic) as BoxedDiagnostic);
                (import_paths(&file), diagnostics.collect())
            }
        };
    FileFindings {
        path: source.display_name(),
        source: Some(source.text),
        imports,
        diagnostics,
    }
}

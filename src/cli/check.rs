//! `chaosc check`: report every error and warning of the given files.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::render::{JsonDiagnostic, Style, render_human, to_json};
use super::source::{expand_paths, read_source};
use super::{OutputFormat, exit};
use crate::check::{self, CheckError, is_error};

/// Arguments of `chaosc check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files to check; directories are searched for `.chaos` files.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// Treat warnings as errors.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// The findings for one file.
#[derive(Debug, Serialize)]
struct FileReport {
    path: String,
    diagnostics: Vec<JsonDiagnostic>,
}

/// The whole `check --format json` document.
#[derive(Debug, Serialize)]
struct CheckReport {
    files: Vec<FileReport>,
    errors: usize,
    warnings: usize,
}

/// Runs `chaosc check` and returns its exit code.
pub fn execute(args: &CheckArgs) -> u8 {
    let style = Style::for_stderr();
    let mut report = CheckReport {
        files: Vec::new(),
        errors: 0,
        warnings: 0,
    };
    let mut human = String::new();
    let mut io_failed = false;

    for path in expand_paths(&args.paths) {
        let source = match path.and_then(|path| read_source(&path)) {
            Ok(source) => source,
            Err(error) => {
                io_failed = true;
                human.push_str(&render_human(&error, None, style));
                report.files.push(FileReport {
                    path: String::new(),
                    diagnostics: vec![to_json(&error, None)],
                });
                continue;
            }
        };
        let name = source.display_name();
        let mut file = FileReport {
            path: name.clone(),
            diagnostics: Vec::new(),
        };
        match check::check_source(&source.text) {
            Err(syntax_error) => {
                report.errors += 1;
                human.push_str(&render_human(
                    &syntax_error,
                    Some((&name, &source.text)),
                    style,
                ));
                file.diagnostics
                    .push(to_json(&syntax_error, Some(&source.text)));
            }
            Ok(output) => {
                for diagnostic in &output.diagnostics {
                    count(&mut report, diagnostic, args.deny_warnings);
                    human.push_str(&render_human(
                        diagnostic,
                        Some((&name, &source.text)),
                        style,
                    ));
                    file.diagnostics
                        .push(to_json(diagnostic, Some(&source.text)));
                }
            }
        }
        report.files.push(file);
    }

    let printed = match args.format {
        OutputFormat::Human => {
            let summary = summary_line(&report);
            writeln!(std::io::stderr(), "{human}{summary}")
        }
        OutputFormat::Json => {
            let json = serde_json::to_string_pretty(&report).expect("the report serializes");
            writeln!(std::io::stdout(), "{json}")
        }
    };
    // A closed pipe (as in `chaosc check | head`) is not an error of the check.
    drop(printed);

    if io_failed {
        exit::USAGE
    } else if report.errors > 0 {
        exit::CHECK_FAILED
    } else {
        exit::SUCCESS
    }
}

fn count(report: &mut CheckReport, diagnostic: &CheckError, deny_warnings: bool) {
    if is_error(diagnostic) || deny_warnings {
        report.errors += 1;
    } else {
        report.warnings += 1;
    }
}

fn summary_line(report: &CheckReport) -> String {
    let files = report.files.len();
    format!(
        "checked {files} {}: {} {}, {} {}",
        plural(files, "file", "files"),
        report.errors,
        plural(report.errors, "error", "errors"),
        report.warnings,
        plural(report.warnings, "warning", "warnings"),
    )
}

/// Picks the singular or plural form for `count`.
pub fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 { one } else { many }
}

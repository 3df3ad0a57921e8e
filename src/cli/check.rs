//! `chaosc check`: report every error and warning of the given files.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::findings::{FileFindings, check_paths_under_policy};
use super::governed::Context;
use super::render::{JsonDiagnostic, Style};
use super::{exit, github, sarif};
use crate::governance::content::content_hash_with_imports;
use crate::governance::policy::Policy;

/// The output formats of `chaosc check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Reports for people, on standard error.
    Human,
    /// One JSON document on standard output.
    Json,
    /// A SARIF 2.1.0 log on standard output, for code-scanning services.
    Sarif,
    /// GitHub Actions workflow commands on standard output, shown as
    /// annotations on pull requests.
    Github,
}

/// Arguments of `chaosc check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files to check; directories are searched for `.chaos` files.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,

    /// Treat warnings as errors.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// The findings for one file, as JSON.
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
pub fn execute(args: &CheckArgs, context: &Context) -> u8 {
    let policy = match context.policy() {
        Ok(policy) => policy,
        Err(code) => return code,
    };
    let files = check_paths_under_policy(&args.paths, &policy.identity_text());
    record_checks(&files, &policy, context, args.deny_warnings);
    let (errors, warnings) = files.iter().fold((0, 0), |(errors, warnings), file| {
        let (e, w) = file.counts(args.deny_warnings);
        (errors + e, warnings + w)
    });

    let printed = match args.format {
        CheckFormat::Human => {
            let style = Style::for_stderr();
            let mut text: String = files.iter().map(|file| file.render_human(style)).collect();
            // A path that could not be read counts as an error, not a file.
            let read = files.iter().filter(|file| file.source.is_some()).count();
            text.push_str(&summary_line(read, errors, warnings));
            writeln!(std::io::stderr(), "{text}")
        }
        CheckFormat::Json => {
            let report = CheckReport {
                files: files
                    .iter()
                    .map(|file| FileReport {
                        path: file.path.clone(),
                        diagnostics: file.to_json(),
                    })
                    .collect(),
                errors,
                warnings,
            };
            let json = serde_json::to_string_pretty(&report).expect("the report serializes");
            writeln!(std::io::stdout(), "{json}")
        }
        CheckFormat::Sarif => {
            let log = sarif::render(&files);
            let json = serde_json::to_string_pretty(&log).expect("the log serializes");
            writeln!(std::io::stdout(), "{json}")
        }
        CheckFormat::Github => write!(std::io::stdout(), "{}", github::render(&files)),
    };
    // A closed pipe (as in `chaosc check | head`) is not an error of the check.
    drop(printed);

    if has_input_error(&files) {
        exit::USAGE
    } else if errors > 0 {
        exit::CHECK_FAILED
    } else {
        exit::SUCCESS
    }
}

/// Appends one audit record per file checked. Files that could not be read
/// are left out: there is no content to name.
fn record_checks(files: &[FileFindings], policy: &Policy, context: &Context, deny: bool) {
    let events: Vec<_> = files
        .iter()
        .filter_map(|file| {
            let source = file.source.as_deref()?;
            let (errors, warnings) = file.counts(deny);
            let mut event = context.event(
                "check",
                serde_json::json!({ "file": file.path, "errors": errors, "warnings": warnings }),
            );
            let path = Path::new(&file.path);
            let hash = content_hash_with_imports(path, source, &file.imports);
            event.scenario_hash = Some(hash);
            Some(event)
        })
        .collect();
    if !events.is_empty() {
        let hash = crate::governance::assessment::default_policy_hash(policy);
        context.audit(&hash, &events);
    }
}

/// Tells whether some file could not be read at all.
fn has_input_error(files: &[FileFindings]) -> bool {
    files.iter().any(|file| file.source.is_none())
}

fn summary_line(files: usize, errors: usize, warnings: usize) -> String {
    format!(
        "checked {files} {}: {errors} {}, {warnings} {}",
        plural(files, "file", "files"),
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
    )
}

/// Picks the singular or plural form for `count`.
pub fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 { one } else { many }
}

//! `chaosc history` and `chaosc report`: past runs from the store.

use std::path::Path;

use clap::{Args, ValueEnum};
use miette::Diagnostic;
use thiserror::Error;

use super::render::{Style, render_human};
use super::{OutputFormat, exit};
use crate::report::{render_junit, render_markdown};
use crate::store::Store;

/// Arguments of `chaosc history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// List recovery executions instead of runs.
    #[arg(long)]
    pub recoveries: bool,

    /// How many entries to list, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

/// Arguments of `chaosc report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run id, or its first characters; not needed with `--framework`.
    #[arg(value_name = "RUN_ID", required_unless_present = "framework")]
    pub run: Option<String>,

    /// Report on one compliance framework across runs instead of one run.
    #[arg(long, value_name = "NAME", conflicts_with = "run")]
    pub framework: Option<String>,

    /// With `--framework`, only what happened at or after this date or
    /// RFC 3339 time.
    #[arg(long, value_name = "DATE", requires = "framework")]
    pub since: Option<String>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
}

/// The formats of a run report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// The full result as JSON.
    Json,
    /// Markdown for people.
    Md,
    /// JUnit XML for CI.
    Junit,
    /// A self-contained HTML page (compliance reports only).
    Html,
}

/// Renders a result in a report format.
pub fn render_report(result: &serde_json::Value, format: ReportFormat) -> String {
    match format {
        ReportFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(result).expect("JSON values serialize")
        ),
        ReportFormat::Md => render_markdown(result),
        ReportFormat::Junit => render_junit(result),
        // A run has no HTML report; its Markdown is the closest for people.
        ReportFormat::Html => render_markdown(result),
    }
}

fn open_store(db: &Path) -> Result<Store, u8> {
    Store::open(db).map_err(|error| {
        eprint!("{}", render_human(&error, None, Style::for_stderr()));
        exit::USAGE
    })
}

/// Returns an RFC 3339 time to the second, or `time` as it is when it
/// does not parse.
fn short_time(time: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(time).map_or_else(
        |_| time.to_owned(),
        |parsed| parsed.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
    )
}

/// Runs `chaosc history`.
pub fn execute_history(args: &HistoryArgs, db: &Path) -> u8 {
    let store = match open_store(db) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let printed = if args.recoveries {
        store.recoveries(args.limit).map(|rows| match args.format {
            OutputFormat::Json => serde_json::to_string_pretty(&rows).expect("rows serialize"),
            OutputFormat::Human => std::iter::once(format!(
                "{:<25}  {:<8}  {:<20} {:<20} {:<10} {:>9}  RTO",
                "STARTED", "RUN", "PLAN", "STRATEGY", "STATUS", "TIME"
            ))
            .chain(rows.iter().map(|row| {
                let rto = match row.rto_met {
                    Some(true) => "RTO met",
                    Some(false) => "RTO missed",
                    None => "no RTO",
                };
                let run = row
                    .run_id
                    .as_deref()
                    .map_or("drill".to_owned(), |id| id[..8.min(id.len())].to_owned());
                format!(
                    "{:<25}  {run:<8}  {:<20} {:<20} {:<10} {:>8.2}s  {rto}",
                    short_time(&row.started_at),
                    row.plan,
                    row.strategy,
                    row.status,
                    row.recovery_time_seconds
                )
            }))
            .collect::<Vec<_>>()
            .join("\n"),
        })
    } else {
        store.runs(args.limit).map(|rows| match args.format {
            OutputFormat::Json => serde_json::to_string_pretty(&rows).expect("rows serialize"),
            OutputFormat::Human => std::iter::once(format!(
                "{:<25}  {:<8}  {:<24} {:<12} {:<10} {:>9}  FILE",
                "STARTED", "RUN", "EXPERIMENT", "STATUS", "VERDICT", "TIME"
            ))
            .chain(rows.iter().map(|row| {
                let verdict = if row.success { "success" } else { "no success" };
                format!(
                    "{:<25}  {:<8}  {:<24} {:<12} {verdict:<10} {:>8.1}s  {}",
                    short_time(&row.started_at),
                    &row.id[..8.min(row.id.len())],
                    row.experiment,
                    row.status,
                    row.duration_seconds,
                    row.file
                )
            }))
            .collect::<Vec<_>>()
            .join("\n"),
        })
    };
    match printed {
        Ok(text) => {
            if !text.is_empty() {
                println!("{text}");
            }
            exit::SUCCESS
        }
        Err(error) => {
            eprint!("{}", render_human(&error, None, Style::for_stderr()));
            exit::USAGE
        }
    }
}

/// A run id that names no run of the store.
#[derive(Debug, Error, Diagnostic)]
#[error("no run with an id starting with `{run}`")]
#[diagnostic(
    code(chaos::E0922),
    help("`chaosc history` lists the runs of this store; `--db` chooses another store")
)]
struct RunNotFound {
    run: String,
}

/// Runs `chaosc report`.
pub fn execute_report(args: &ReportArgs, context: &super::governed::Context) -> u8 {
    if let Some(framework) = &args.framework {
        return super::compliance::execute(framework, args.since.as_deref(), args.format, context);
    }
    let Some(run) = args.run.as_deref() else {
        eprintln!("chaosc: give a run id, or `--framework NAME`");
        return exit::USAGE;
    };
    let store = match open_store(&context.db) {
        Ok(store) => store,
        Err(code) => return code,
    };
    match store.run_result(run) {
        Ok(Some(result)) => {
            print!("{}", render_report(&result, args.format));
            exit::SUCCESS
        }
        Ok(None) => {
            let error = RunNotFound {
                run: run.to_owned(),
            };
            eprint!("{}", render_human(&error, None, Style::for_stderr()));
            exit::USAGE
        }
        Err(error) => {
            eprint!("{}", render_human(&error, None, Style::for_stderr()));
            exit::USAGE
        }
    }
}

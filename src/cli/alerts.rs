//! `chaosc alerts`: the alerts that runs raised, kept in the store.

use std::path::Path;

use clap::{Args, Subcommand, ValueEnum};
use miette::Diagnostic;
use thiserror::Error;

use super::exit;
use super::render::{Style, render_human};
use crate::runtime::alerts::Alert;
use crate::store::Store;
use crate::store::alerts::AlertChange;

/// Arguments of `chaosc alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub command: AlertsCommand,
}

/// The operations on alerts.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List the active (firing or acknowledged) alerts, newest first.
    List(ListArgs),
    /// Acknowledge an alert: someone is on it. The global `--as NAME` says
    /// who (else `$USER`).
    Ack {
        /// The alert id, or its first characters.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Mark an alert resolved.
    Resolve {
        /// The alert id, or its first characters.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// List every alert, resolved ones included, newest first.
    History(ListArgs),
    /// Write every alert as JSON or CSV on standard output.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
    },
}

/// Arguments of the listing commands.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// How many alerts to list.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The formats of `chaosc alerts export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}

/// An alert operation that could not be done.
#[derive(Debug, Error, Diagnostic)]
pub enum AlertsError {
    #[error("no alert has an id starting with `{id}`")]
    #[diagnostic(
        code(chaos::E1101),
        help("list the alerts with `chaosc alerts history`")
    )]
    NotFound { id: String },

    #[error("{count} alerts have ids starting with `{id}`")]
    #[diagnostic(code(chaos::E1102), help("write more characters of the id"))]
    Ambiguous { id: String, count: usize },

    #[error("alert `{id}` is already resolved")]
    #[diagnostic(code(chaos::E1103))]
    AlreadyResolved { id: String },
}

/// Runs `chaosc alerts`.
pub fn execute(args: &AlertsArgs, db: &Path, actor: Option<String>) -> u8 {
    let style = Style::for_stderr();
    let mut store = match Store::open(db) {
        Ok(store) => store,
        Err(error) => {
            eprint!("{}", render_human(&error, None, style));
            return exit::USAGE;
        }
    };
    let outcome = match &args.command {
        AlertsCommand::List(list) => store
            .alerts(true, list.limit)
            .map(|alerts| print_list(&alerts, list.json)),
        AlertsCommand::History(list) => store
            .alerts(false, list.limit)
            .map(|alerts| print_list(&alerts, list.json)),
        AlertsCommand::Export { format } => store
            .alerts(false, usize::MAX >> 1)
            .map(|alerts| export(&alerts, *format)),
        AlertsCommand::Ack { id } => store
            .acknowledge_alert(id, &actor.unwrap_or_else(super::governed::user_name))
            .map(|(change, alert)| report_change(id, change, alert, "acknowledged")),
        AlertsCommand::Resolve { id } => store
            .resolve_alert(id)
            .map(|(change, alert)| report_change(id, change, alert, "resolved")),
    };
    outcome.unwrap_or_else(|error| {
        eprint!("{}", render_human(&error, None, style));
        exit::USAGE
    })
}

fn report_change(id: &str, change: AlertChange, alert: Option<Alert>, done: &str) -> u8 {
    let error = match change {
        AlertChange::Changed => {
            let alert = alert.expect("a changed alert is returned");
            println!("alert {} ({}) {done}", alert.id, alert.rule);
            return exit::SUCCESS;
        }
        AlertChange::NotFound => AlertsError::NotFound { id: id.to_owned() },
        AlertChange::Ambiguous(count) => AlertsError::Ambiguous {
            id: id.to_owned(),
            count,
        },
        AlertChange::AlreadyResolved => AlertsError::AlreadyResolved {
            id: alert.map_or_else(|| id.to_owned(), |alert| alert.id),
        },
    };
    eprint!("{}", render_human(&error, None, Style::for_stderr()));
    exit::USAGE
}

fn print_list(alerts: &[Alert], json: bool) -> u8 {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(alerts).expect("alerts serialize")
        );
        return exit::SUCCESS;
    }
    if alerts.is_empty() {
        println!("no alerts");
        return exit::SUCCESS;
    }
    for alert in alerts {
        let by = alert
            .acknowledged_by
            .as_deref()
            .map(|name| format!(" by {name}"))
            .unwrap_or_default();
        println!(
            "{}  {:<12} {:<8} {:<20} {}{by}  {}",
            alert.id,
            alert.state.name(),
            alert.severity.name(),
            alert.rule,
            alert.fired_at.format("%Y-%m-%d %H:%M:%S"),
            alert.message
        );
    }
    exit::SUCCESS
}

fn export(alerts: &[Alert], format: ExportFormat) -> u8 {
    match format {
        ExportFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(alerts).expect("alerts serialize")
            );
        }
        ExportFormat::Csv => print!("{}", to_csv(alerts)),
    }
    exit::SUCCESS
}

/// Renders alerts as CSV (RFC 4180: fields with commas, quotes or line
/// breaks are quoted, and quotes doubled).
fn to_csv(alerts: &[Alert]) -> String {
    let mut out = String::from(
        "id,rule,run_id,experiment,severity,status,metric,value,op,threshold,fired_at,acknowledged_by,acknowledged_at,resolved_at,message\n",
    );
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map(|at| at.to_rfc3339()).unwrap_or_default()
    };
    for alert in alerts {
        let fields = [
            alert.id.clone(),
            alert.rule.clone(),
            alert.run_id.clone(),
            alert.experiment.clone(),
            alert.severity.name().to_owned(),
            alert.state.name().to_owned(),
            alert.metric.clone(),
            alert.value.to_string(),
            alert.op.clone(),
            alert.threshold.to_string(),
            alert.fired_at.to_rfc3339(),
            alert.acknowledged_by.clone().unwrap_or_default(),
            time(alert.acknowledged_at),
            time(alert.resolved_at),
            alert.message.clone(),
        ];
        let quoted: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

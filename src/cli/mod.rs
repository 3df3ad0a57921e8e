//! The command line: argument definitions and one module per command.

mod alerts;
mod approve;
mod assessment;
mod audit;
mod check;
mod completions;
mod compliance;
mod doctor;
pub mod exit;
pub mod explain;
pub mod findings;
mod fmt;
mod gate;
pub mod github;
pub mod governed;
mod graph;
mod history;
mod impact;
mod import;
mod lsp;
mod man;
mod recover;
pub mod render;
mod run;
pub mod sarif;
pub mod source;
mod stress_worker;

pub use check::CheckFormat;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Checks and runs chaos experiments written in the `.chaos` language.
#[derive(Debug, Parser)]
#[command(name = "chaosc", version, about, propagate_version = true)]
pub struct Cli {
    /// Directory for the fault journal; defaults to `$XDG_STATE_HOME/chaosc`
    /// or `~/.local/state/chaosc`.
    #[arg(long, global = true, env = "CHAOSC_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// The SQLite store of past runs; defaults to `chaosc.db` in the state
    /// directory.
    #[arg(long, global = true, env = "CHAOSC_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// A local governance policy file (TOML) laid over the default one;
    /// defaults to `policy.toml` in the state directory when it exists.
    #[arg(long, global = true, env = "CHAOSC_POLICY", value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Who acts, as recorded in the audit trail and in approvals; defaults
    /// to `$USER`, except for `approve`, which needs it.
    #[arg(long = "as", global = true, env = "CHAOSC_ACTOR", value_name = "NAME")]
    pub actor: Option<String>,

    /// Log more: `-v` for info, `-vv` for debug, `-vvv` for trace. `RUST_LOG`
    /// overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Format of the log lines written to standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// The format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The output format of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    Human,
    /// One JSON document on standard output.
    Json,
}

/// The commands of chaosc.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files for errors without running anything.
    Check(check::CheckArgs),
    /// Print the page of a diagnostic code: what it means, why, an example
    /// and the fix.
    Explain(explain::ExplainArgs),
    /// Check a file, then run its experiment: inject, observe, revert.
    Run(run::RunArgs),
    /// Re-indent `.chaos` files by bracket depth, keeping comments.
    Fmt(fmt::FmtArgs),
    /// Draw the step and recovery graphs as DOT or Mermaid.
    Graph(graph::GraphArgs),
    /// Print what `run` would do, touching nothing (same as `run --dry-run`).
    Plan(run::PlanArgs),
    /// Revert the faults that a killed or crashed run left behind, or run a
    /// scenario's recovery plan as a drill.
    Recover(recover::RecoverArgs),
    /// List past runs and recovery executions.
    History(history::HistoryArgs),
    /// Print the report of a past run, or the compliance report of a
    /// framework with `--framework`.
    Report(history::ReportArgs),
    /// Show which fault kinds this host can inject, and why not.
    Doctor(doctor::DoctorArgs),
    /// Convert a Chaos Toolkit experiment (JSON or YAML) into a `.chaos` file.
    Import(import::ImportArgs),
    /// Serve the language server protocol on stdio for editors.
    Lsp(lsp::LspArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the manual page in roff.
    Man(man::ManArgs),
    /// List, acknowledge, resolve and export the alerts that runs raised.
    Alerts(alerts::AlertsArgs),
    /// Approve a scenario's current content in one role.
    Approve(approve::ApproveArgs),
    /// List the roles an experiment needs and the approvals it has.
    Approvals(approve::ApprovalsArgs),
    /// Verify or export the audit trail.
    Audit(audit::AuditArgs),
    /// Estimate the business impact of an experiment's worst case.
    Impact(impact::ImpactArgs),
    /// Watch a running `chaosc run` and revert its faults if it dies.
    #[command(hide = true)]
    Guardian(recover::GuardianArgs),
    /// Burn CPU, hold memory or write files for a compute fault of a run.
    #[command(hide = true)]
    StressWorker(stress_worker::StressWorkerArgs),
}

/// Runs the command and returns the process exit code.
pub fn execute(cli: Cli) -> u8 {
    let state_dir = cli.state_dir.unwrap_or_else(default_state_dir);
    let db = cli
        .db
        .unwrap_or_else(|| crate::store::Store::default_path(&state_dir));
    let context = governed::Context {
        state_dir: state_dir.clone(),
        db: db.clone(),
        policy_file: cli.policy,
        actor: cli.actor,
    };
    match cli.command {
        Command::Check(args) => check::execute(&args, &context),
        Command::Explain(args) => explain::execute(&args),
        Command::Fmt(args) => fmt::execute(&args),
        Command::Graph(args) => graph::execute(&args),
        Command::Run(args) => run::execute(args, &context),
        Command::Plan(args) => run::execute_plan(&args, &context),
        Command::Recover(args) => recover::execute(&args, &context),
        Command::History(args) => history::execute_history(&args, &db),
        Command::Doctor(args) => doctor::execute(&args),
        Command::Import(args) => import::execute(&args),
        Command::Lsp(args) => lsp::execute(&args),
        Command::Completions(args) => completions::execute(&args),
        Command::Man(args) => man::execute(&args),
        Command::Alerts(args) => alerts::execute(&args, &db, context.actor.clone()),
        Command::Report(args) => history::execute_report(&args, &context),
        Command::Approve(args) => approve::execute_approve(&args, &context),
        Command::Approvals(args) => approve::execute_approvals(&args, &context),
        Command::Audit(args) => audit::execute(&args, &context),
        Command::Impact(args) => impact::execute(&args, &context),
        Command::Guardian(args) => recover::execute_guardian(&args),
        Command::StressWorker(args) => stress_worker::execute(&args),
    }
}

/// Returns `$XDG_STATE_HOME/chaosc`, or `~/.local/state/chaosc`.
fn default_state_dir() -> PathBuf {
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(state).join("chaosc");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".local/state/chaosc")
}

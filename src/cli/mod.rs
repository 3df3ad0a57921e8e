//! The command line: argument definitions and one module per command.

mod check;
mod completions;
pub mod exit;
mod lsp;
mod man;
mod recover;
pub mod render;
mod run;
pub mod source;

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
    /// Check a file, then run its experiment: inject, observe, revert.
    Run(run::RunArgs),
    /// Print what `run` would do, touching nothing (same as `run --dry-run`).
    Plan(run::PlanArgs),
    /// Revert the faults that a killed or crashed run left behind.
    Recover(recover::RecoverArgs),
    /// Serve the language server protocol on stdio for editors.
    Lsp(lsp::LspArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the manual page in roff.
    Man(man::ManArgs),
    /// Watch a running `chaosc run` and revert its faults if it dies.
    #[command(hide = true)]
    Guardian(recover::GuardianArgs),
}

/// Runs the command and returns the process exit code.
pub fn execute(cli: Cli) -> u8 {
    let state_dir = cli.state_dir.unwrap_or_else(default_state_dir);
    match cli.command {
        Command::Check(args) => check::execute(&args),
        Command::Run(args) => run::execute(args, &state_dir),
        Command::Plan(args) => run::execute_plan(&args),
        Command::Recover(args) => recover::execute(&args, &state_dir),
        Command::Lsp(args) => lsp::execute(&args),
        Command::Completions(args) => completions::execute(&args),
        Command::Man(args) => man::execute(&args),
        Command::Guardian(args) => recover::execute_guardian(&args),
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

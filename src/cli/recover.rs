//! `chaosc recover` and the hidden `chaosc guardian`.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{OutputFormat, exit};
use crate::runtime::recover::{JournalRecovery, recover_journal};
use crate::store::journal;

/// Arguments of `chaosc recover`.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// Also stop the target processes that dead runs launched.
    #[arg(long)]
    pub stop_targets: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

/// Arguments of `chaosc guardian`.
#[derive(Debug, Args)]
pub struct GuardianArgs {
    /// The journal of the run to guard.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
}

/// Runs `chaosc recover`.
pub fn execute(args: &RecoverArgs, state_dir: &Path) -> u8 {
    let mut reports = Vec::new();
    let mut failed = false;
    for path in journal::list(state_dir) {
        match recover_journal(&path, args.stop_targets) {
            Ok(report) => {
                failed |= report.owner_alive.is_none() && !report.clean;
                reports.push(report);
            }
            Err(error) => {
                failed = true;
                eprintln!("chaosc: cannot read journal `{}`: {error}", path.display());
            }
        }
    }

    match args.format {
        OutputFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&reports).expect("reports serialize")
            );
        }
        OutputFormat::Human => print_human(&reports),
    }
    if failed {
        exit::ROLLBACK_FAILED
    } else {
        exit::SUCCESS
    }
}

fn print_human(reports: &[JournalRecovery]) {
    if reports.is_empty() {
        println!("nothing to recover: no journal holds a fault");
        return;
    }
    for report in reports {
        let run = report.run_id.as_deref().unwrap_or("unknown run");
        if let Some(pid) = report.owner_alive {
            println!("run {run}: still running as process {pid}; left alone");
            continue;
        }
        println!("run {run}:");
        for action in &report.actions {
            println!(
                "  {} {}",
                if action.ok { "ok    " } else { "FAILED" },
                action.what
            );
        }
        if report.clean {
            println!("  journal removed");
        } else {
            println!("  journal kept at {}", report.journal.display());
        }
    }
}

/// Runs the guardian: waits for the run to close the pipe on standard
/// input, then reverts whatever its journal still holds.
pub fn execute_guardian(args: &GuardianArgs) -> u8 {
    let mut sink = Vec::new();
    // Nothing is ever written to the pipe; the read returns when the run's
    // end of it closes, at its exit or death.
    let _ = std::io::stdin().read_to_end(&mut sink);
    if !args.journal.exists() {
        return exit::SUCCESS;
    }
    match recover_journal(&args.journal, true) {
        Ok(report) if report.owner_alive.is_some() => exit::SUCCESS,
        Ok(report) => {
            for action in &report.actions {
                eprintln!("chaosc guardian: {}", action.what);
            }
            if report.clean {
                exit::SUCCESS
            } else {
                exit::ROLLBACK_FAILED
            }
        }
        Err(error) => {
            eprintln!(
                "chaosc guardian: cannot read `{}`: {error}",
                args.journal.display()
            );
            exit::ROLLBACK_FAILED
        }
    }
}

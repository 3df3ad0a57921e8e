//! `chaosc recover` and the hidden `chaosc guardian`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::json;

use super::governed::{Context, print_error, user_name};
use super::render::{Style, render_human};
use super::{OutputFormat, exit};
use crate::governance::audit::{self, AuditEvent};
use crate::model::RecoveryStatus;
use crate::runtime::killed::killed_result;
use crate::runtime::metrics::Metrics;
use crate::runtime::recover::{JournalRecovery, recover_journal};
use crate::runtime::{Progress, RunOptions, drill};
use crate::store::journal;
use crate::store::{RunOrigin, Store};

/// Arguments of `chaosc recover`.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// Also stop the target processes that dead runs launched.
    #[arg(long)]
    pub stop_targets: bool,

    /// Run this recovery plan of FILE as a drill, injecting nothing.
    #[arg(long, value_name = "NAME", requires = "file")]
    pub plan: Option<String>,

    /// The scenario whose recovery plan `--plan` runs.
    #[arg(value_name = "FILE", requires = "plan")]
    pub file: Option<PathBuf>,

    /// The experiment whose plan to run, when FILE declares several.
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,

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
pub fn execute(args: &RecoverArgs, context: &Context) -> u8 {
    let state_dir = context.state_dir.as_path();
    if let (Some(name), Some(file)) = (&args.plan, &args.file) {
        return execute_drill(args, name, file, state_dir, &context.db);
    }
    let mut reports = Vec::new();
    let mut failed = false;
    for path in journal::list(state_dir) {
        match recover_journal(&path, args.stop_targets) {
            Ok(report) => {
                failed |= report.owner_alive.is_none() && !report.clean && !report.targets_left;
                close_trail(&report, &context.actor(), "recover");
                reports.push(report);
            }
            Err(error) => {
                failed = true;
                let error = super::run::PreflightError::UnreadableJournal {
                    journal: path.display().to_string(),
                    reason: error.to_string(),
                };
                eprint!("{}", render_human(&error, None, Style::for_stderr()));
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
        OutputFormat::Human => print_human(&reports, failed),
    }
    if failed {
        exit::ROLLBACK_FAILED
    } else {
        exit::SUCCESS
    }
}

fn print_human(reports: &[JournalRecovery], failed: bool) {
    if reports.is_empty() {
        if !failed {
            println!("nothing to recover: no journal holds a fault");
        }
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
        } else if report.targets_left {
            println!(
                "  journal kept at {} for `chaosc recover --stop-targets`",
                report.journal.display()
            );
        } else {
            println!("  journal kept at {}", report.journal.display());
        }
    }
}

/// Runs the guardian: waits for the run to close the pipe on standard
/// input, then reverts whatever its journal still holds.
pub fn execute_guardian(args: &GuardianArgs) -> u8 {
    // A closed terminal must not end the guardian before it has reverted,
    // so SIGHUP is ignored and messages to a closed standard error are
    // dropped instead of panicking.
    //
    // SAFETY: ignoring a signal installs no handler code.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGHUP,
            nix::sys::signal::SigHandler::SigIgn,
        );
    }
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
            // The guardian acts for the run, so its records name the run's actor.
            let actor = report
                .origin
                .as_ref()
                .map_or_else(user_name, |origin| origin.audit.actor.clone());
            close_trail(&report, &actor, "guardian");
            for action in &report.actions {
                let _ = writeln!(std::io::stderr(), "chaosc guardian: {}", action.what);
            }
            if report.clean {
                exit::SUCCESS
            } else {
                exit::ROLLBACK_FAILED
            }
        }
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "chaosc guardian: cannot read `{}`: {error}",
                args.journal.display()
            );
            exit::ROLLBACK_FAILED
        }
    }
}

/// Runs `chaosc recover --plan NAME FILE`: a recovery drill.
fn execute_drill(args: &RecoverArgs, name: &str, file: &Path, state_dir: &Path, db: &Path) -> u8 {
    let plan = match super::run::load_plan(file, args.experiment.as_deref()) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let options = RunOptions {
        run_id: uuid::Uuid::new_v4().to_string(),
        seed: rand::random(),
        state_dir: state_dir.to_owned(),
        guardian: true,
        progress: Progress::plain(),
        metrics: Metrics::new(),
        audit: None,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("chaosc: cannot start the async runtime: {error}");
            return exit::USAGE;
        }
    };
    let result = match runtime.block_on(drill(&plan, name, options)) {
        Ok(result) => result,
        Err(error) => {
            eprint!("{}", render_human(&error, None, Style::for_stderr()));
            return exit::USAGE;
        }
    };
    if let Err(error) = Store::open(db).and_then(|mut store| store.record_recovery(&result)) {
        eprint!("{}", render_human(&error, None, Style::for_stderr()));
    }
    match args.format {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&result).expect("results serialize")
        ),
        OutputFormat::Human => {
            println!(
                "recovery plan `{}` ({}): {} in {:.2}s",
                result.plan, result.strategy, result.status, result.recovery_time_seconds
            );
            for action in &result.actions {
                println!(
                    "  {:<16} {:<10} {}",
                    action.name,
                    action.status,
                    action.output.as_deref().unwrap_or("")
                );
            }
        }
    }
    if result.status == RecoveryStatus::Completed && result.rto_met != Some(false) {
        exit::SUCCESS
    } else {
        exit::EXPERIMENT_FAILED
    }
}

/// Records in a dead run's audit trail what recovering its journal did: an
/// injection and a rollback for each fault found in place, then the end of
/// the run as killed unless the run recorded its end itself. A run that did
/// not is also added to the store's runs, so that `chaosc history` lists
/// it. Faults the run reverted itself before it died get no records here.
/// A journal without an audit trail (a drill's, or one written before
/// journals named the trail) is left out, as is a run that still lives.
fn close_trail(report: &JournalRecovery, actor: &str, recovered_by: &str) {
    let Some(origin) = &report.origin else {
        return;
    };
    if report.owner_alive.is_some() {
        return;
    }
    let written = Store::open(&origin.audit.db).and_then(|mut store| {
        // A run that ended but could not revert everything recorded its
        // injections and its end itself, so only the rollbacks are new.
        let ended = match &report.run_id {
            Some(run_id) => audit::has_ended(store.connection(), run_id)?,
            None => false,
        };
        if !ended && report.run_id.is_some() {
            store.record_run(&killed_result(report, origin, recovered_by, Utc::now()))?;
        }
        let events = trail_events(report, origin, actor, recovered_by, ended);
        if events.is_empty() {
            return Ok(());
        }
        audit::append(store.connection(), &origin.audit.policy_hash, &events)
    });
    if let Err(error) = written {
        let run = report.run_id.as_deref().unwrap_or("of unknown id");
        eprintln!("chaosc: failed to write the audit trail of dead run {run}");
        print_error(&error);
    }
}

/// Builds the records `close_trail` appends: for each fault, its injection
/// (unless the run `ended` on its own and recorded it) and its rollback,
/// then the run's end as killed unless it `ended` on its own.
fn trail_events(
    report: &JournalRecovery,
    origin: &RunOrigin,
    actor: &str,
    recovered_by: &str,
    ended: bool,
) -> Vec<AuditEvent> {
    let now = Utc::now();
    let event = |action: &str, at: DateTime<Utc>, details: serde_json::Value| {
        let mut event = AuditEvent::now(actor, action, details);
        event.at = at;
        event.experiment = Some(origin.experiment.clone());
        event.scenario_hash = Some(origin.audit.scenario_hash.clone());
        event.run_id = report.run_id.clone();
        event
    };
    let mut events = Vec::new();
    for fault in &report.faults {
        let names = json!({ "step": fault.step, "fault": fault.fault, "target": fault.target });
        if let (false, Some(at)) = (ended, fault.applied_at) {
            let mut details = names.clone();
            details["from"] = json!("journal");
            events.push(event("injection", at, details));
        }
        let mut details = names;
        details["outcome"] = json!(if fault.reverted { "reverted" } else { "failed" });
        details["detail"] = json!(fault.detail);
        details["by"] = json!(recovered_by);
        events.push(event("rollback", now, details));
    }
    if !ended {
        events.push(event(
            "run.end",
            now,
            json!({
                "status": "killed", "success": false,
                "rollback_complete": report.faults.iter().all(|fault| fault.reverted),
                "recovered_by": recovered_by,
            }),
        ));
    }
    events
}

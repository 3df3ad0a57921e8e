//! `chaosc run` and `chaosc plan`.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Local, Timelike, Weekday};
use clap::Args;
use miette::Diagnostic;
use thiserror::Error;
use tokio_util::sync::CancellationToken;

use super::render::{Style, render_human};
use super::source::read_source;
use super::{OutputFormat, exit};
use crate::check::{self, is_error};
use crate::model::ExperimentStatus;
use crate::plan::{self, Plan};
use crate::runtime::result::RunResult;
use crate::runtime::{Progress, RunOptions};
use crate::store::{JournalState, journal};

/// Arguments of `chaosc run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The `.chaos` file to run.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Output format of the final result.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// Print the plan and exit without touching anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Seed for every random choice; a run's seed is printed and kept in its
    /// result, so passing it again replays those choices.
    #[arg(long)]
    pub seed: Option<u64>,

    /// The experiment to run, when the file declares several.
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,

    /// Do not start the guardian process that reverts faults if chaosc
    /// dies; `chaosc recover` is then the only way back.
    #[arg(long)]
    pub no_guardian: bool,

    /// Print no progress lines.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Arguments of `chaosc plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The `.chaos` file to plan.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The experiment to plan, when the file declares several.
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,
}

/// A host state that forbids starting a run.
#[derive(Debug, Error, Diagnostic)]
pub enum PreflightError {
    #[error("faults of an earlier run are still in place ({count} in `{journal}`)")]
    #[diagnostic(
        code(chaos::E0912),
        help("run `chaosc recover` to revert them, then run the experiment again")
    )]
    StaleJournal { count: usize, journal: String },

    #[error(
        "experiment `{name}` may run only in business hours (Monday to Friday, 09:00 to 17:00 local time)"
    )]
    #[diagnostic(
        code(chaos::E0913),
        help("run it in business hours, or set `business_hours_only = false` in `safety`")
    )]
    OutsideBusinessHours { name: String },

    #[error("cannot start the async runtime: {reason}")]
    #[diagnostic(code(chaos::E0914))]
    Runtime { reason: String },
}

/// Runs `chaosc plan`.
pub fn execute_plan(args: &PlanArgs) -> u8 {
    match load_plan(&args.file, args.experiment.as_deref()) {
        Ok(plan) => {
            print_stdout(&plan.render());
            exit::SUCCESS
        }
        Err(code) => code,
    }
}

/// Runs `chaosc run`.
pub fn execute(args: RunArgs, state_dir: &Path) -> u8 {
    let plan = match load_plan(&args.file, args.experiment.as_deref()) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    if args.dry_run {
        print_stdout(&plan.render());
        return exit::SUCCESS;
    }
    if let Err(error) = preflight(&plan, state_dir) {
        eprint!("{}", render_human(&error, None, Style::for_stderr()));
        return exit::USAGE;
    }

    let seed = args.seed.unwrap_or_else(rand::random);
    let options = RunOptions {
        run_id: uuid::Uuid::new_v4().to_string(),
        seed,
        state_dir: state_dir.to_owned(),
        guardian: !args.no_guardian,
        progress: Progress::new(args.quiet),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            let error = PreflightError::Runtime {
                reason: error.to_string(),
            };
            eprint!("{}", render_human(&error, None, Style::for_stderr()));
            return exit::USAGE;
        }
    };

    let outcome = runtime.block_on(async {
        let interrupt = CancellationToken::new();
        tokio::spawn(forward_signals(interrupt.clone()));
        crate::runtime::run(&plan, options, interrupt).await
    });
    let result = match outcome {
        Ok(result) => result,
        Err(error) => {
            eprint!("{}", render_human(&error, None, Style::for_stderr()));
            return exit::USAGE;
        }
    };

    match args.format {
        OutputFormat::Json => {
            print_stdout(&format!(
                "{}\n",
                serde_json::to_string_pretty(&result).expect("results serialize")
            ));
        }
        OutputFormat::Human => print_stdout(&render_result(&result)),
    }
    exit_code(&result)
}

/// Cancels `interrupt` on the first SIGINT or SIGTERM. Later signals are
/// ignored: the run is already reverting, and stopping that half-way would
/// leave faults in place.
async fn forward_signals(interrupt: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGINT and SIGTERM");
        return;
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = int.recv() => {}
    }
    interrupt.cancel();
    loop {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = int.recv() => {}
        }
        eprintln!("chaosc: reverting faults; wait for the rollback to finish");
    }
}

/// Reads, checks and lowers a file, printing diagnostics; on failure returns
/// the exit code.
fn load_plan(file: &Path, experiment: Option<&str>) -> Result<Plan, u8> {
    let style = Style::for_stderr();
    let source = read_source(file).map_err(|error| {
        eprint!("{}", render_human(&error, None, style));
        exit::USAGE
    })?;
    let name = source.display_name();
    let output = check::check_source(&source.text).map_err(|error| {
        eprint!(
            "{}",
            render_human(&error, Some((&name, &source.text)), style)
        );
        exit::CHECK_FAILED
    })?;
    for diagnostic in &output.diagnostics {
        eprint!(
            "{}",
            render_human(diagnostic, Some((&name, &source.text)), style)
        );
    }
    let errors = output.diagnostics.iter().filter(|d| is_error(d)).count();
    let Some(model) = output.model.filter(|_| errors == 0) else {
        eprintln!(
            "{name}: {errors} {} found; nothing was run",
            super::check::plural(errors, "error", "errors")
        );
        return Err(exit::CHECK_FAILED);
    };
    plan::lower(&model, experiment, &name).map_err(|error| {
        eprint!("{}", render_human(&error, None, style));
        exit::CHECK_FAILED
    })
}

/// Refuses to start over faults left by a dead run, or outside business
/// hours when the experiment asks for them.
fn preflight(plan: &Plan, state_dir: &Path) -> Result<(), PreflightError> {
    for path in journal::list(state_dir) {
        let Ok(state) = JournalState::read(&path) else {
            continue;
        };
        let owner_alive = state
            .owner()
            .is_some_and(|(pid, start)| crate::runtime::process::is_alive(pid, start));
        let left = state.pending.iter().filter(|record| match record {
            crate::store::Record::Apply { revert, .. } => {
                crate::runtime::recover::acts_outside_run(revert)
            }
            _ => false,
        });
        let count = left.count();
        if !owner_alive && count > 0 {
            return Err(PreflightError::StaleJournal {
                count,
                journal: path.display().to_string(),
            });
        }
    }

    if plan.experiment.safety.business_hours_only {
        let now = Local::now();
        let weekday = !matches!(now.weekday(), Weekday::Sat | Weekday::Sun);
        if !(weekday && (9..17).contains(&now.hour())) {
            return Err(PreflightError::OutsideBusinessHours {
                name: plan.experiment.name.clone(),
            });
        }
    }
    Ok(())
}

fn exit_code(result: &RunResult) -> u8 {
    if !result.rollback_complete {
        return exit::ROLLBACK_FAILED;
    }
    match result.status {
        ExperimentStatus::Completed if result.success => exit::SUCCESS,
        ExperimentStatus::Aborted | ExperimentStatus::RolledBack => exit::ABORTED,
        _ => exit::EXPERIMENT_FAILED,
    }
}

/// Renders the final result for people.
fn render_result(result: &RunResult) -> String {
    let mut out = String::new();
    let verdict = if result.success {
        "success criteria met"
    } else {
        "success criteria not met"
    };
    out.push_str(&format!(
        "\n{}: {} ({verdict}) in {:.1}s\n",
        result.experiment, result.status, result.duration_seconds
    ));
    if let Some(reason) = &result.reason {
        out.push_str(&format!("  reason: {reason}\n"));
    }
    for step in &result.steps {
        let error = step
            .error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  step {:<16} {:?}{error}\n",
            step.name, step.status
        ));
    }
    for fault in &result.faults {
        out.push_str(&format!(
            "  fault {} {} on {}: verified {}, rollback {:?}\n",
            fault.id, fault.fault, fault.target, fault.verified, fault.rollback
        ));
    }
    for probe in &result.probes {
        let rate = probe
            .success_rate
            .map_or("n/a".to_owned(), |rate| format!("{:.0}%", rate * 100.0));
        out.push_str(&format!(
            "  probe {:<16} {} samples, {rate} passed\n",
            probe.name, probe.samples
        ));
    }
    for criterion in &result.success_criteria {
        let met = if criterion.met { "met" } else { "not met" };
        out.push_str(&format!("  success {}: {met}\n", criterion.condition));
    }
    for recovery in &result.recovery {
        out.push_str(&format!(
            "  recovery plan {}: {} in {:.2}s\n",
            recovery.plan, recovery.status, recovery.recovery_time_seconds
        ));
    }
    out.push_str(&format!(
        "  seed {} (replay with --seed {})\n",
        result.seed, result.seed
    ));
    out
}

fn print_stdout(text: &str) {
    // A closed pipe is not a failure of the run.
    let _ = std::io::stdout().write_all(text.as_bytes());
}

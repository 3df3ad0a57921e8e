//! `chaosc run` and `chaosc plan`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use miette::Diagnostic;
use thiserror::Error;
use tokio_util::sync::CancellationToken;

use super::gate::{self, GateOptions};
use super::governed::{Context, load_checked};
use super::render::{Style, render_human};
use super::{OutputFormat, exit};
use crate::governance::policy::Policy;
use crate::model::ExperimentStatus;
use crate::plan::Plan;
use crate::runtime::metrics::{Metrics, start_server};
use crate::runtime::result::{RollbackOutcome, RunResult, StepStatus};
use crate::runtime::{Progress, RunOptions};
use crate::store::{JournalState, Store, journal};

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

    /// How to show progress on standard error.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,

    /// Show no progress (the same as `--progress none`).
    #[arg(short, long)]
    pub quiet: bool,

    /// Serve Prometheus metrics on this address while the run goes on
    /// (127.0.0.1:9464 when given without a value).
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:9464")]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// Write the metrics in the Prometheus text format to this file at the
    /// end (for the node exporter's textfile collector).
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,

    /// Print the result in this report format instead of the summary.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub report: Option<super::history::ReportFormat>,

    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "PATH", requires = "report")]
    pub report_file: Option<PathBuf>,

    /// Who requests the run; their own approval counts only as the policy's
    /// self-approval rule allows. Defaults to the experiment's `created_by`.
    #[arg(long, value_name = "NAME")]
    pub requested_by: Option<String>,

    /// Judge business hours and blackout windows at this RFC 3339 time
    /// instead of the clock; only for tests and drills, and only when the
    /// policy sets `allow_clock_override = true`.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

/// The progress output of `chaosc run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// `live` when standard error is a terminal (and `TERM` is not
    /// `dumb`), `plain` otherwise.
    Auto,
    /// A view of the steps, faults, probes and stop conditions, redrawn in
    /// place at most ten times a second.
    Live,
    /// One timestamped line per event.
    Plain,
    /// No progress. Warnings, errors and the result still print.
    None,
}

impl ProgressMode {
    /// Starts the progress output of this mode for this standard error,
    /// with its drawing thread for a live view.
    fn start(self, quiet: bool) -> Progress {
        let mode = if quiet { ProgressMode::None } else { self };
        match mode {
            ProgressMode::Auto if stderr_is_terminal() => Progress::live(),
            ProgressMode::Auto | ProgressMode::Plain => Progress::plain(),
            ProgressMode::Live => Progress::live(),
            ProgressMode::None => Progress::silent(),
        }
    }
}

/// Tells whether standard error is a terminal that can move its cursor.
fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    let dumb = std::env::var_os("TERM").is_some_and(|term| term == "dumb");
    std::io::stderr().is_terminal() && !dumb
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

    #[error("cannot read the journal `{journal}`: {reason}")]
    #[diagnostic(
        code(chaos::E0907),
        help(
            "it may describe faults of a dead run that are still in place; check them by hand, then move the journal out of the state directory"
        )
    )]
    UnreadableJournal { journal: String, reason: String },

    #[error("cannot start the async runtime: {reason}")]
    #[diagnostic(code(chaos::E0914))]
    Runtime { reason: String },

    #[error("cannot serve metrics on {address}: {reason}")]
    #[diagnostic(
        code(chaos::E0915),
        help("choose a free address with `--metrics-addr`")
    )]
    Metrics {
        address: std::net::SocketAddr,
        reason: String,
    },
}

/// Runs `chaosc plan`.
pub fn execute_plan(args: &PlanArgs, context: &Context) -> u8 {
    plan_with_governance(&args.file, args.experiment.as_deref(), None, None, context)
}

/// Prints the plan of a file with its governance assessment, its windows
/// judged at `now` (an RFC 3339 time, or the clock when `None`), and
/// records that it was planned.
fn plan_with_governance(
    file: &Path,
    experiment: Option<&str>,
    requested_by: Option<&str>,
    now: Option<&str>,
    context: &Context,
) -> u8 {
    let policy = match context.policy() {
        Ok(policy) => policy,
        Err(code) => return code,
    };
    let now = match now {
        None => None,
        Some(text) => match gate::resolve_now(Some(text), &policy) {
            Ok(time) => Some(time),
            Err(error) => {
                super::governed::print_error(&error);
                return exit::USAGE;
            }
        },
    };
    let checked = match load_checked(file, experiment, &policy) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let text = super::assessment::render_plan(context, &checked, &policy, requested_by, now);
    print_stdout(&text);
    exit::SUCCESS
}

/// Runs `chaosc run`.
pub fn execute(args: RunArgs, context: &Context) -> u8 {
    if args.dry_run {
        return plan_with_governance(
            &args.file,
            args.experiment.as_deref(),
            args.requested_by.as_deref(),
            args.now.as_deref(),
            context,
        );
    }
    let policy = match context.policy() {
        Ok(policy) => policy,
        Err(code) => return code,
    };
    let checked = match load_checked(&args.file, args.experiment.as_deref(), &policy) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let plan = &checked.plan;
    let state_dir = context.state_dir.as_path();
    if let Err(error) = preflight(state_dir) {
        eprint!("{}", render_human(&error, None, Style::for_stderr()));
        return exit::USAGE;
    }
    let gate_options = GateOptions {
        now: args.now.as_deref(),
        requested_by: args.requested_by.as_deref(),
    };
    let gate = match gate::open(context, &checked, &policy, gate_options) {
        Ok(gate) => gate,
        Err(code) => return code,
    };

    let seed = args.seed.unwrap_or_else(rand::random);
    let metrics = Metrics::new();
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

    // The live view starts only now, so that nothing printed before the
    // run (the gate's messages) is drawn over.
    let progress = args.progress.start(args.quiet);
    let options = RunOptions {
        run_id: gate.run_id.clone(),
        seed,
        state_dir: state_dir.to_owned(),
        guardian: !args.no_guardian,
        progress: progress.clone(),
        metrics: std::sync::Arc::clone(&metrics),
        audit: Some(gate.audit_origin()),
    };
    let outcome = runtime.block_on(async {
        let interrupt = CancellationToken::new();
        // Listening starts before the run does, so that a signal at any
        // moment of the run reverts its faults instead of ending chaosc.
        match listen_for_signals() {
            Ok(signals) => {
                tokio::spawn(forward_signals(
                    signals,
                    interrupt.clone(),
                    progress.clone(),
                ));
            }
            Err(error) => tracing::error!(%error, "failed to listen for SIGINT and SIGTERM"),
        }
        let server = match args.metrics_addr {
            Some(address) => match start_server(&metrics, address).await {
                Ok(server) => Some(server),
                Err(error) => {
                    let error = PreflightError::Metrics {
                        address,
                        reason: error.to_string(),
                    };
                    return Err(Err(error));
                }
            },
            None => None,
        };
        let result = tokio::select! {
            result = crate::runtime::run(plan, options, interrupt) => result.map_err(Ok),
            () = injected_panic() => unreachable!("an injected panic never returns"),
        };
        if let Some(server) = server {
            server.abort();
        }
        result
    });
    progress.finish(outcome.as_ref().ok());
    let result = match outcome {
        Ok(result) => result,
        Err(Ok(error)) => {
            eprint!("{}", render_human(&error, None, Style::for_stderr()));
            return exit::USAGE;
        }
        Err(Err(error)) => {
            eprint!("{}", render_human(&error, None, Style::for_stderr()));
            return exit::USAGE;
        }
    };

    let experiment = &plan.experiment;
    metrics.finished(
        &result,
        experiment.category.name(),
        experiment.severity.name(),
    );
    let governance = gate.close(&checked, &result);
    let mut value = serde_json::to_value(&result).expect("results serialize");
    value["governance"] = governance;
    keep_records(
        &result,
        &value,
        &metrics,
        &context.db,
        args.metrics_file.as_deref(),
    );
    print_result(&result, &value, &args);
    exit_code(&result)
}

/// Panics `CHAOSC_PANIC_AFTER_MS` milliseconds into the run, in debug builds
/// only. The crash tests use it to show that a panic at any moment leaves
/// nothing behind once `chaosc recover` has run.
#[cfg(debug_assertions)]
async fn injected_panic() {
    let delay = std::env::var("CHAOSC_PANIC_AFTER_MS")
        .ok()
        .and_then(|value| value.parse().ok());
    match delay {
        Some(millis) => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            panic!("panic injected {millis}ms into the run");
        }
        None => std::future::pending().await,
    }
}

/// Waits forever, because release builds have no injected panic.
#[cfg(not(debug_assertions))]
async fn injected_panic() {
    std::future::pending().await
}

/// Stores the result and writes the metrics file. A failure here is
/// reported but does not change the verdict of the run.
fn keep_records(
    result: &RunResult,
    value: &serde_json::Value,
    metrics: &Metrics,
    db: &Path,
    metrics_file: Option<&Path>,
) {
    let stored = Store::open(db).and_then(|mut store| store.record_run_json(result, value));
    if let Err(error) = stored {
        eprint!("{}", render_human(&error, None, Style::for_stderr()));
    }
    if let Some(path) = metrics_file
        && let Err(error) = metrics.write_file(path)
    {
        eprintln!(
            "chaosc: cannot write the metrics file `{}`: {error}",
            path.display()
        );
    }
}

fn print_result(result: &RunResult, value: &serde_json::Value, args: &RunArgs) {
    let Some(format) = args.report else {
        match args.format {
            OutputFormat::Json => {
                let json = serde_json::to_string_pretty(value).expect("results serialize");
                print_stdout(&format!("{json}\n"));
            }
            OutputFormat::Human => print_stdout(&render_result(result)),
        }
        return;
    };
    let report = super::history::render_report(value, format);
    match &args.report_file {
        Some(path) => {
            if let Err(error) = std::fs::write(path, report) {
                eprintln!(
                    "chaosc: cannot write the report `{}`: {error}",
                    path.display()
                );
            }
            print_stdout(&render_result(result));
        }
        None => print_stdout(&report),
    }
}

/// The streams of SIGTERM and SIGINT arrivals.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

/// Installs the handlers of SIGTERM and SIGINT. Must be called inside the
/// runtime.
fn listen_for_signals() -> std::io::Result<Signals> {
    use tokio::signal::unix::{SignalKind, signal};
    Ok(Signals {
        terminate: signal(SignalKind::terminate())?,
        interrupt: signal(SignalKind::interrupt())?,
    })
}

/// Cancels `interrupt` on the first SIGINT or SIGTERM. Later signals are
/// ignored: the run is already reverting, and stopping that half-way would
/// leave faults in place.
async fn forward_signals(signals: Signals, interrupt: CancellationToken, progress: Progress) {
    let Signals {
        mut terminate,
        interrupt: mut int,
    } = signals;
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
        progress.notice("chaosc: reverting faults; wait for the rollback to finish");
    }
}

/// Reads, checks and lowers a file under the default policy, printing
/// diagnostics; on failure returns the exit code.
///
/// NOTE: `chaosc recover` drills load their scenario here, so a scenario
/// that pins the identity of a local policy file fails its check there.
pub(super) fn load_plan(file: &Path, experiment: Option<&str>) -> Result<Plan, u8> {
    load_checked(file, experiment, &Policy::default_only()).map(|checked| checked.plan)
}

/// Refuses to start over faults left by a dead run. Business hours,
/// blackout windows, approvals and target locks are the gate's.
fn preflight(state_dir: &Path) -> Result<(), PreflightError> {
    for path in journal::list(state_dir) {
        let state =
            JournalState::read(&path).map_err(|error| PreflightError::UnreadableJournal {
                journal: path.display().to_string(),
                reason: error.to_string(),
            })?;
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
    out.push_str(&format!(
        "\n{}: {} ({}) in {:.1}s\n",
        result.experiment,
        result.status,
        result.criteria_verdict(),
        result.duration_seconds
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
        let status = match step.status {
            StepStatus::Pending => "not run",
            StepStatus::Injected => "injected",
            StepStatus::Reverted => "reverted",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
        };
        out.push_str(&format!("  step   {:<16} {status}{error}\n", step.name));
    }
    for fault in &result.faults {
        let observed = if fault.verified {
            "observed"
        } else {
            "not observed"
        };
        let rollback = match fault.rollback {
            RollbackOutcome::Pending => "not reverted yet",
            RollbackOutcome::Reverted => "reverted",
            RollbackOutcome::Failed => "revert failed",
            RollbackOutcome::NotApplied => "never applied",
        };
        out.push_str(&format!(
            "  fault  {} {} on {}: {observed}, {rollback}\n",
            fault.id, fault.fault, fault.target
        ));
    }
    for probe in &result.probes {
        let rate = probe
            .success_rate
            .map_or("n/a".to_owned(), |rate| format!("{:.0}%", rate * 100.0));
        let samples = if probe.samples == 1 {
            "sample"
        } else {
            "samples"
        };
        out.push_str(&format!(
            "  probe  {:<16} {} {samples}, {rate} passed\n",
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

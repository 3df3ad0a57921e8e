//! The interpreter: runs a plan from setup to teardown.
//!
//! The order is fixed: set up targets, check the steady state, start the
//! probes, run the steps as their `after` graph allows, stop on the first of
//! (all steps ended, duration reached, stop condition, failing step,
//! interrupt), revert every fault newest first, run the recovery plans,
//! check the steady state again, judge the success criteria, tear down. The
//! whole run is bounded by the experiment's duration plus its rollback
//! timeout.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::JournalHandle;
use super::alerts::AlertEngine;
use super::faults::{self, FaultContext};
use super::guardian::Guardian;
use super::health::HealthSampler;
use super::injector::Injector;
use super::metrics::Metrics;
use super::monitor::{ProbeLog, RunMeasures};
use super::notify::{Notifier, resolve_channels};
use super::observer::Observer;
use super::probe::{ProbeContext, Sample, sample_with};
use super::process::{LaunchedProcess, proc_stat};
use super::progress::{Ending, Progress, ProgressEvent, RunOutline, StepOutline};
use super::proxy::ProxyHandle;
use super::recovery::execute_plan;
use super::result::*;
use super::snapshot;
use super::targets::{ProcessTarget, Targets};
use crate::model::{Attach, ExperimentStatus, Step, TargetSpec};
use crate::plan::Plan;
use crate::store::{AuditOrigin, Journal, Record};

/// How long a launched target may take to exit on SIGTERM at teardown.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How long the end of a run waits for queued notifications; they are
/// sent after the rollback, so this never delays it.
const NOTIFY_DRAIN: Duration = Duration::from_secs(15);

/// How many times a steady-state probe is tried after rollback before the
/// steady state counts as lost; a service that was just restarted may need
/// a moment.
const AFTER_ATTEMPTS: u32 = 3;

/// The settings of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub run_id: String,
    pub seed: u64,
    pub state_dir: PathBuf,
    /// Whether to start a guardian process that reverts if the run dies.
    pub guardian: bool,
    pub progress: Progress,
    pub metrics: Arc<Metrics>,
    /// The audit trail of the run, recorded in the journal's header.
    pub audit: Option<AuditOrigin>,
}

/// A run that could not start at all; nothing was injected.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RunSetupError {
    #[error("cannot create the journal in `{path}`: {reason}")]
    #[diagnostic(
        code(chaos::E0910),
        help(
            "chaosc records every fault there before injecting it; choose another directory with `--state-dir`"
        )
    )]
    Journal { path: String, reason: String },

    #[error("steps {steps} need root, and chaosc runs as an unprivileged user")]
    #[diagnostic(
        code(chaos::E0918),
        help(
            "run chaosc as root (for example with sudo), or remove those steps; nothing was injected"
        )
    )]
    NotRoot { steps: String },

    #[error("addresses the run needs are taken: {addresses}")]
    #[diagnostic(
        code(chaos::E0919),
        help(
            "stop what holds them (a target an earlier run left: `chaosc recover --stop-targets`) or choose other ports; nothing was injected"
        )
    )]
    AddressInUse { addresses: String },

    #[error("cannot start the guardian process: {reason}")]
    #[diagnostic(
        code(chaos::E0911),
        help("run with `--no-guardian` to rely on `chaosc recover` alone")
    )]
    Guardian { reason: String },
}

/// Runs `plan` until it ends or `interrupt` is cancelled.
pub async fn run(
    plan: &Plan,
    options: RunOptions,
    interrupt: CancellationToken,
) -> Result<RunResult, RunSetupError> {
    let needs_root = super::preflight::steps_needing_root(plan);
    if !needs_root.is_empty() && !super::preflight::is_root() {
        return Err(RunSetupError::NotRoot {
            steps: needs_root.join(", "),
        });
    }

    let busy = super::preflight::busy_addresses(plan);
    if !busy.is_empty() {
        return Err(RunSetupError::AddressInUse {
            addresses: busy.join("; "),
        });
    }

    let experiment = &plan.experiment;
    let progress = options.progress.clone();
    let started_at = Utc::now();
    let started = Instant::now();
    let hard_deadline = started + experiment.duration + experiment.safety.rollback_timeout;

    let header = Record::Run {
        run_id: options.run_id.clone(),
        pid: std::process::id(),
        start_time: proc_stat(std::process::id()).map_or(0, |stat| stat.start_time),
        file: plan.file.clone(),
        experiment: experiment.name.clone(),
        seed: options.seed,
        started_at,
        audit: options.audit.clone(),
    };
    let journal =
        Journal::create(&options.state_dir, &options.run_id, &header).map_err(|error| {
            RunSetupError::Journal {
                path: options.state_dir.display().to_string(),
                reason: error.to_string(),
            }
        })?;
    let journal_path = journal.path().to_owned();
    let journal = JournalHandle::new(journal);
    let guardian = if options.guardian {
        Some(
            Guardian::spawn(&journal_path).map_err(|error| RunSetupError::Guardian {
                reason: error.to_string(),
            })?,
        )
    } else {
        None
    };
    progress.emit(ProgressEvent::RunStarted(outline(
        plan,
        &options,
        journal_path.clone(),
        started.into_std() + experiment.duration,
    )));

    let mut state = RunState::new(plan, &options, started_at);
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let targets = match set_up_targets(plan, &options, &journal, &mut rng, &progress).await {
        Ok(targets) => targets,
        Err((targets, reason)) => {
            state.fail(reason);
            return Ok(finish(state, targets, &journal, guardian, &progress, None).await);
        }
    };

    let log = Arc::new(Mutex::new(ProbeLog::default()));
    let probe_context = ProbeContext::new(&targets);
    let sampled = Arc::new(Notify::new());
    let mut observer = Observer {
        engine: AlertEngine::new(
            &options.run_id,
            &experiment.name,
            plan.alert_rules.clone(),
            experiment.alert_channels.clone(),
        ),
        sampler: HealthSampler::default(),
        health: Vec::new(),
        log: Arc::clone(&log),
        sampled: Arc::clone(&sampled),
        metrics: Arc::clone(&options.metrics),
        notifier: None,
        processes: targets.processes.clone(),
        disk: options.state_dir.clone(),
        progress: progress.clone(),
        health_during: experiment.safety.monitoring,
    };
    observer.snapshot("before").await;
    state.result.health = observer.health.clone();
    let before = check_steady_state(plan, 1, &progress, &probe_context).await;
    state.result.steady_state.held_before = Some(before.iter().all(|sample| sample.ok));
    let failed_before = before.iter().find(|sample| !sample.ok).cloned();
    state.result.steady_state.before = before;
    if let Some(sample) = failed_before {
        state.fail(format!(
            "the steady state did not hold before injection: probe `{}`: {}",
            sample.probe,
            sample.error.unwrap_or_default()
        ));
        return Ok(finish(state, targets, &journal, guardian, &progress, Some(&log)).await);
    }

    let mut targets = targets;
    let copies_dir = options
        .state_dir
        .join("runs")
        .join(&options.run_id)
        .join("copies");
    targets.file_copies = super::actions::copy_file_targets(&targets, &copies_dir);
    let before_snapshot = snapshot::take(plan, &targets, &state.result.steady_state.before).await;
    state.result.snapshots.before = Some(before_snapshot);

    let monitor_stop = CancellationToken::new();
    let mut monitors = start_monitors(
        plan,
        &log,
        &sampled,
        &monitor_stop,
        &options,
        &probe_context,
    );
    // With `alerting = false` the rules still fire and are recorded, so
    // stop conditions over them work, but no channel's secret is read and
    // no channel is sent anything.
    let (channels, problems) = if experiment.safety.alerting {
        resolve_channels(&plan.channels)
    } else {
        (Vec::new(), Vec::new())
    };
    for problem in problems {
        warn!(run_id = %options.run_id, %problem, "notification channel left out");
        progress.emit(ProgressEvent::ChannelLeftOut(problem));
    }
    let (notifier, notifier_task) = Notifier::start(channels);
    observer.notifier = Some(notifier.clone());
    let observer_stop = CancellationToken::new();
    let observer_task = tokio::spawn(observer.watch(observer_stop.clone()));
    let injector = Arc::new(Injector::new(
        journal.clone(),
        Arc::clone(&options.metrics),
        progress.clone(),
    ));
    let touched: std::collections::BTreeSet<&String> = experiment
        .steps
        .iter()
        .flat_map(|step| step.targets.iter())
        .collect();
    options.metrics.set_blast_radius(touched.len());
    let steps_stop = CancellationToken::new();
    let mut steps = start_steps(
        plan,
        &targets,
        &injector,
        &journal,
        &steps_stop,
        &options,
        rand::RngExt::random(&mut rng),
    );

    let deadline = started + experiment.duration;
    let ending = watch_run(
        plan, &mut steps, &mut state, &log, &sampled, &interrupt, deadline, started,
    )
    .await;
    progress.emit(ProgressEvent::RollingBack(ending.clone()));

    // Rollback. The steps are stopped first, so that none injects
    // while faults come off; each finishes what it is doing (an injection
    // runs to its end and is then reverted) within the rollback timeout.
    steps_stop.cancel();
    let rollback_deadline = Instant::now() + experiment.safety.rollback_timeout;
    drain_steps(&mut steps, &mut state, rollback_deadline).await;
    let remaining = rollback_deadline.saturating_duration_since(Instant::now());
    let rollback_complete = matches!(timeout(remaining, injector.revert_all()).await, Ok(true));
    let rolled_back_at = Instant::now();
    state.result.faults = injector.results();
    state.result.rollback_complete = rollback_complete;
    for fault in &state.result.faults {
        progress.emit(ProgressEvent::FaultRolledBack(fault.clone()));
    }
    monitor_stop.cancel();
    // The monitors only sample probes; waiting for them keeps the log final.
    // A monitor that panicked loses its samples but must not end the run
    // before its targets are stopped.
    let drained = async {
        while let Some(joined) = monitors.join_next().await {
            if let Err(error) = joined {
                tracing::error!(%error, "a probe monitor failed");
            }
        }
    };
    let _ = timeout(Duration::from_secs(5), drained).await;

    // The alert rules are evaluated while the recovery plans run, so that
    // a rule over `chaosc_recovery_seconds` fires during a slow recovery.
    if ending != Ending::Interrupted {
        options.metrics.recovery_started();
        for recovery_plan in &experiment.recovery_plans {
            progress.emit(ProgressEvent::RecoveryStarted {
                plan: recovery_plan.name.clone(),
                strategy: recovery_plan.strategy.to_string(),
            });
            let result =
                execute_plan(recovery_plan, experiment, &targets, &journal, hard_deadline).await;
            progress.emit(ProgressEvent::RecoveryEnded {
                plan: result.plan.clone(),
                status: result.status.to_string(),
                seconds: result.recovery_time_seconds,
            });
            state.result.recovery.push(result);
        }
        let recovered = state
            .result
            .recovery
            .iter()
            .all(|result| result.status == crate::model::RecoveryStatus::Completed);
        let recovery_time = if experiment.recovery_plans.is_empty() {
            Duration::ZERO
        } else {
            rolled_back_at.elapsed()
        };
        options.metrics.recovery_ended(recovery_time.as_secs_f64());
        if recovered {
            state.result.recovery_time_seconds = Some(recovery_time.as_secs_f64());
        }
        let after = check_steady_state(plan, AFTER_ATTEMPTS, &progress, &probe_context).await;
        state.result.steady_state.held_after = Some(after.iter().all(|sample| sample.ok));
        let after_snapshot = snapshot::take(plan, &targets, &after).await;
        state.result.steady_state.after = after;
        if let Some(before) = &state.result.snapshots.before {
            state.result.snapshots.diff = snapshot::diff(before, &after_snapshot);
            if !before.files.is_empty() {
                state.result.rpo_met = Some(snapshot::files_intact(before, &after_snapshot));
            }
        }
        state.result.snapshots.after = Some(after_snapshot);
    }
    observer_stop.cancel();
    // The observer returns between two evaluations; if its task failed, the
    // run goes on without the alerts and snapshots it held.
    let mut observer = observer_task.await.ok();

    let recovery_time = state
        .result
        .recovery_time_seconds
        .map(Duration::from_secs_f64);
    if let Some(observer) = &mut observer {
        observer.evaluate();
        observer.snapshot("after").await;
        state.result.alerts = observer.alerts();
        state.result.health = std::mem::take(&mut observer.health);
    }
    judge(
        &mut state,
        plan,
        &ending,
        &log,
        RunMeasures {
            elapsed: started.elapsed(),
            recovery_time,
        },
    );
    drop(observer);
    let mut result = finish(state, targets, &journal, guardian, &progress, Some(&log)).await;
    result.notifications = notifier_task.finish(notifier, NOTIFY_DRAIN).await;
    Ok(result)
}

/// Ends chaosc at once, between starting a target and journaling its
/// process, when `CHAOSC_ABORT_AFTER_SPAWN` is set, in debug builds only.
/// A test uses it to show that such a target is still found and stopped.
#[cfg(debug_assertions)]
fn injected_abort_after_spawn() {
    if std::env::var_os("CHAOSC_ABORT_AFTER_SPAWN").is_some() {
        std::process::abort();
    }
}

/// Does nothing, because release builds have no injected abort.
#[cfg(not(debug_assertions))]
fn injected_abort_after_spawn() {}

/// Lists what the progress output shows from the start of a run.
fn outline(
    plan: &Plan,
    options: &RunOptions,
    journal: PathBuf,
    deadline: std::time::Instant,
) -> RunOutline {
    let experiment = &plan.experiment;
    let steps = experiment.steps.iter().map(|step| StepOutline {
        name: step.name.clone(),
        fault: step.fault.kind.clone(),
        targets: step.targets.clone(),
        after: step.after.clone(),
    });
    RunOutline {
        run_id: options.run_id.clone(),
        experiment: experiment.name.clone(),
        seed: options.seed,
        journal,
        deadline,
        steps: steps.collect(),
        probes: experiment.probes.iter().map(|p| p.name.clone()).collect(),
        stop_conditions: experiment
            .stop_conditions
            .iter()
            .map(|c| c.text.clone())
            .collect(),
    }
}

/// The result being built, with the step bookkeeping.
struct RunState {
    result: RunResult,
}

impl RunState {
    fn new(plan: &Plan, options: &RunOptions, started_at: chrono::DateTime<Utc>) -> Self {
        let steps = plan
            .experiment
            .steps
            .iter()
            .map(|step| StepResult {
                name: step.name.clone(),
                fault: step.fault.kind.clone(),
                targets: step.targets.clone(),
                status: StepStatus::Pending,
                started_at: None,
                ended_at: None,
                error: None,
            })
            .collect();
        RunState {
            result: RunResult {
                run_id: options.run_id.clone(),
                experiment: plan.experiment.name.clone(),
                file: plan.file.clone(),
                status: ExperimentStatus::Running,
                success: false,
                seed: options.seed,
                started_at,
                ended_at: started_at,
                duration_seconds: 0.0,
                reason: None,
                stop: None,
                steady_state: SteadyStateResult::default(),
                steps,
                faults: Vec::new(),
                probes: Vec::new(),
                success_criteria: Vec::new(),
                recovery: Vec::new(),
                rollback_complete: true,
                snapshots: SnapshotResult::default(),
                recovery_time_seconds: None,
                rpo_met: None,
                alerts: Vec::new(),
                notifications: Vec::new(),
                health: Vec::new(),
            },
        }
    }

    /// Marks the run failed, keeping the first reason.
    fn fail(&mut self, reason: String) {
        self.result.status = ExperimentStatus::Failed;
        self.result.reason.get_or_insert(reason);
    }

    fn record_step(&mut self, step: StepResult) {
        if let Some(slot) = self.result.steps.iter_mut().find(|s| s.name == step.name) {
            *slot = step;
        }
    }
}

/// Launches processes, attaches to pid files and starts proxies. On failure
/// returns what was set up, so that teardown can stop it, with the reason.
pub(super) async fn set_up_targets(
    plan: &Plan,
    options: &RunOptions,
    journal: &JournalHandle,
    rng: &mut ChaCha8Rng,
    progress: &Progress,
) -> Result<Targets, (Targets, String)> {
    let mut targets = Targets::default();
    let log_dir = options.state_dir.join("runs").join(&options.run_id);
    let _ = std::fs::create_dir_all(&log_dir);

    for target in &plan.targets {
        match &target.spec {
            TargetSpec::Launched(spec) => {
                let log = log_dir.join(format!("{}.log", target.name));
                let spec = &crate::store::journal::mark_launch(spec);
                let launching = Record::Launching {
                    target: target.name.clone(),
                    spec: spec.clone(),
                };
                if let Err(error) = journal.append(&[launching]).await {
                    return Err((targets, format!("cannot write the journal: {error}")));
                }
                let mut process = match LaunchedProcess::spawn(spec, Some(&log)).await {
                    Ok(process) => process,
                    Err(error) => {
                        return Err((targets, format!("target `{}`: {error}", target.name)));
                    }
                };
                injected_abort_after_spawn();
                let launch = Record::Launch {
                    target: target.name.clone(),
                    pid: process.pid,
                    start_time: process.start_time,
                    spec: spec.clone(),
                };
                let journaled = journal.append(&[launch]).await;
                let pid = process.pid;
                let ready = process.wait_ready().await;
                targets.processes.insert(
                    target.name.clone(),
                    Arc::new(tokio::sync::Mutex::new(ProcessTarget::Launched(Box::new(
                        process,
                    )))),
                );
                if let Err(error) = journaled {
                    return Err((targets, format!("cannot write the journal: {error}")));
                }
                if let Err(error) = ready {
                    return Err((targets, format!("target `{}`: {error}", target.name)));
                }
                progress.emit(ProgressEvent::TargetLaunched {
                    target: target.name.clone(),
                    pid,
                });
            }
            TargetSpec::Attached(attach) => {
                let found = super::process::find_attached(attach);
                let Some((pid, stat)) =
                    found.and_then(|pid| proc_stat(pid).map(|stat| (pid, stat)))
                else {
                    let reason = match attach {
                        Attach::Name(name) => super::process::name_problem(name),
                        _ => format!("no running process with {attach}"),
                    };
                    return Err((targets, format!("target `{}`: {reason}", target.name)));
                };
                targets.processes.insert(
                    target.name.clone(),
                    Arc::new(tokio::sync::Mutex::new(ProcessTarget::Attached {
                        pid,
                        start_time: stat.start_time,
                    })),
                );
                progress.emit(ProgressEvent::TargetAttached {
                    target: target.name.clone(),
                    pid,
                });
            }
            TargetSpec::File(_) | TargetSpec::Directory(_) | TargetSpec::Interface(_) => {
                targets
                    .host
                    .insert(target.name.clone(), target.spec.clone());
            }
            TargetSpec::Proxy(spec) => {
                let proxy_rng = ChaCha8Rng::seed_from_u64(rand::RngExt::random(rng));
                match ProxyHandle::start(spec.listen, spec.upstream, proxy_rng).await {
                    Ok(proxy) => {
                        progress.emit(ProgressEvent::ProxyStarted {
                            target: target.name.clone(),
                            listen: spec.listen,
                            upstream: spec.upstream,
                        });
                        targets.proxies.insert(target.name.clone(), Arc::new(proxy));
                    }
                    Err(error) => {
                        return Err((
                            targets,
                            format!(
                                "proxy `{}` cannot listen on {}: {error}",
                                target.name, spec.listen
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(targets)
}

/// Samples every steady-state probe, each up to `attempts` times until it
/// passes.
async fn check_steady_state(
    plan: &Plan,
    attempts: u32,
    progress: &Progress,
    context: &ProbeContext,
) -> Vec<Sample> {
    let probes = plan
        .experiment
        .probes
        .iter()
        .filter(|probe| probe.is_steady_state);
    let checks = probes.map(|probe| async move {
        let mut last = sample_with(probe, context).await;
        for _ in 1..attempts {
            if last.ok {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            last = sample_with(probe, context).await;
        }
        last
    });
    let samples = futures_join_all(checks).await;
    for sample in &samples {
        progress.emit(ProgressEvent::SteadyState(sample.clone()));
    }
    samples
}

/// Awaits futures concurrently, keeping their order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let futures: Vec<F> = futures.collect();
    let mut outputs = Vec::with_capacity(futures.len());
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    for future in pinned.iter_mut() {
        outputs.push(future.as_mut().await);
    }
    outputs
}

/// Starts one sampling task per probe.
fn start_monitors(
    plan: &Plan,
    log: &Arc<Mutex<ProbeLog>>,
    sampled: &Arc<Notify>,
    stop: &CancellationToken,
    options: &RunOptions,
    context: &ProbeContext,
) -> JoinSet<()> {
    let mut monitors = JoinSet::new();
    for probe in plan.experiment.probes.clone() {
        let context = context.clone();
        let log = Arc::clone(log);
        let metrics = Arc::clone(&options.metrics);
        let progress = options.progress.clone();
        let sampled = Arc::clone(sampled);
        let stop = stop.clone();
        let task = async move {
            loop {
                let next = Instant::now() + probe.interval;
                tokio::select! {
                    // Stopping drops a sample in flight, which is then not
                    // counted; the rollback does not wait for probes.
                    _ = stop.cancelled() => return,
                    taken = sample_with(&probe, &context) => {
                        let http = matches!(probe.kind, crate::model::ProbeKind::Http { .. });
                        metrics.probe_sampled(&probe.name, http, taken.ok, taken.latency.as_secs_f64());
                        progress.emit(ProgressEvent::ProbeSampled(taken.clone()));
                        log.lock().unwrap().record(taken);
                        sampled.notify_one();
                    }
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = sleep_until(next) => {}
                }
            }
        };
        monitors.spawn(task);
    }
    monitors
}

/// Starts one task per step. Each waits for the steps it comes after,
/// injects its fault on every target, holds it, and reverts it.
fn start_steps(
    plan: &Plan,
    targets: &Targets,
    injector: &Arc<Injector>,
    journal: &JournalHandle,
    stop: &CancellationToken,
    options: &RunOptions,
    steps_seed: u64,
) -> JoinSet<StepResult> {
    let mut done_tx: BTreeMap<String, watch::Sender<Option<bool>>> = BTreeMap::new();
    let mut done_rx: BTreeMap<String, watch::Receiver<Option<bool>>> = BTreeMap::new();
    for step in &plan.experiment.steps {
        let (tx, rx) = watch::channel(None);
        done_tx.insert(step.name.clone(), tx);
        done_rx.insert(step.name.clone(), rx);
    }

    let expires_at = Utc::now()
        + chrono::Duration::from_std(
            plan.experiment.duration + plan.experiment.safety.rollback_timeout,
        )
        .unwrap_or(chrono::Duration::MAX);
    let mut tasks = JoinSet::new();
    // Each step gets its own seed, drawn in declaration order, so that the
    // random choices of a fault do not depend on when other steps run.
    let mut seeds = ChaCha8Rng::seed_from_u64(steps_seed);
    for step in plan.experiment.steps.clone() {
        let dependencies: Vec<watch::Receiver<Option<bool>>> = step
            .after
            .iter()
            .filter_map(|name| done_rx.get(name).cloned())
            .collect();
        let done = done_tx.remove(&step.name).expect("one sender per step");
        let handles: Vec<_> = step
            .targets
            .iter()
            .filter_map(|name| targets.handle(name))
            .collect();
        let context = StepContext {
            injector: Arc::clone(injector),
            journal: journal.clone(),
            stop: stop.clone(),
            progress: options.progress.clone(),
            expires_at,
            run_id: options.run_id.clone(),
            state_dir: options.state_dir.clone(),
            seed: rand::RngExt::random(&mut seeds),
            gradual: plan.experiment.recovery_plans.iter().any(|recovery| {
                recovery.strategy == crate::model::RecoveryStrategy::GradualRecovery
            }),
        };
        let task = async move {
            let result = run_step(&step, dependencies, handles, &context).await;
            let _ = done.send(Some(result.status == StepStatus::Reverted));
            result
        };
        tasks.spawn(task);
    }
    tasks
}

/// The state a step task shares with the run.
struct StepContext {
    injector: Arc<Injector>,
    journal: JournalHandle,
    stop: CancellationToken,
    progress: Progress,
    expires_at: chrono::DateTime<Utc>,
    run_id: String,
    state_dir: PathBuf,
    /// The seed of the step's random choices.
    seed: u64,
    /// Whether faults are ramped down in steps at the end of their hold, as
    /// a gradual recovery plan asks.
    gradual: bool,
}

/// The levels a gradual recovery ramps a fault down through, and how long
/// each is held while the probes keep sampling.
const RAMP_LEVELS: &[f64] = &[0.75, 0.5, 0.25];
const RAMP_HOLD: Duration = Duration::from_secs(1);

async fn run_step(
    step: &Step,
    mut dependencies: Vec<watch::Receiver<Option<bool>>>,
    handles: Vec<super::TargetHandle>,
    context: &StepContext,
) -> StepResult {
    let mut result = StepResult {
        name: step.name.clone(),
        fault: step.fault.kind.clone(),
        targets: step.targets.clone(),
        status: StepStatus::Pending,
        started_at: None,
        ended_at: None,
        error: None,
    };

    for dependency in &mut dependencies {
        let ended = tokio::select! {
            _ = context.stop.cancelled() => return result,
            ended = dependency.wait_for(Option::is_some) => ended.map(|value| *value == Some(true)),
        };
        if !matches!(ended, Ok(true)) {
            let reason = "a step it runs after did not complete".to_owned();
            context.progress.emit(ProgressEvent::StepSkipped {
                step: step.name.clone(),
                reason: reason.clone(),
            });
            result.status = StepStatus::Skipped;
            result.error = Some(reason);
            return result;
        }
    }
    if context.stop.is_cancelled() {
        return result;
    }

    result.started_at = Some(Utc::now());
    context
        .progress
        .emit(ProgressEvent::StepInjecting(step.name.clone()));
    let mut applied = Vec::new();
    for (index, handle) in handles.iter().enumerate() {
        let fault_context = FaultContext {
            probability: step.probability,
            journal: context.journal.clone(),
            seed: context.seed.wrapping_add(index as u64),
            run_id: context.run_id.clone(),
            state_dir: context.state_dir.clone(),
            expires_at: context.expires_at,
            irreversible: step.irreversible,
        };
        let outcome = match faults::build(&step.fault, handle, fault_context).await {
            Ok(fault) => {
                context
                    .injector
                    .apply(&step.name, handle.name(), fault, context.expires_at)
                    .await
            }
            Err(error) => Err(error.to_string()),
        };
        match outcome {
            Ok(id) => applied.push(id),
            Err(error) => {
                context.progress.emit(ProgressEvent::StepFailed {
                    step: step.name.clone(),
                    error: error.clone(),
                });
                result.status = StepStatus::Failed;
                result.error = Some(error);
                break;
            }
        }
    }

    if result.status != StepStatus::Failed {
        result.status = StepStatus::Injected;
        context.progress.emit(ProgressEvent::StepActive {
            step: step.name.clone(),
            hold: step.hold,
        });
        let held = match step.hold {
            Some(hold) => {
                tokio::select! {
                    _ = context.stop.cancelled() => false,
                    _ = tokio::time::sleep(hold) => true,
                }
            }
            None => {
                context.stop.cancelled().await;
                false
            }
        };
        // A hold that ended on its own is ramped down in a gradual recovery;
        // a stop (a stop condition, a failure, a signal) reverts at once.
        if held && context.gradual {
            ramp_down(step, &applied, context).await;
        }
    }

    if !applied.is_empty() {
        context
            .progress
            .emit(ProgressEvent::StepReverting(step.name.clone()));
    }
    for id in applied.into_iter().rev() {
        if !context.injector.revert(id).await {
            result.status = StepStatus::Failed;
            result
                .error
                .get_or_insert_with(|| format!("fault {id} could not be reverted"));
        }
    }
    if result.status == StepStatus::Injected {
        result.status = StepStatus::Reverted;
        context
            .progress
            .emit(ProgressEvent::StepReverted(step.name.clone()));
    }
    result.ended_at = Some(Utc::now());
    result
}

/// Weakens the step's faults level by level, holding each level while the
/// probes sample, unless the run is stopped meanwhile.
async fn ramp_down(step: &Step, applied: &[u64], context: &StepContext) {
    for level in RAMP_LEVELS {
        for id in applied {
            match context.injector.ramp(*id, *level).await {
                Some(Ok(observed)) => context.progress.emit(ProgressEvent::StepRamped {
                    step: step.name.clone(),
                    observed,
                }),
                Some(Err(error)) => context.progress.emit(ProgressEvent::StepRampFailed {
                    step: step.name.clone(),
                    error,
                }),
                None => {}
            }
        }
        tokio::select! {
            _ = context.stop.cancelled() => return,
            _ = tokio::time::sleep(RAMP_HOLD) => {}
        }
    }
}

/// Waits for the first ending of the main phase.
#[allow(clippy::too_many_arguments)]
async fn watch_run(
    plan: &Plan,
    steps: &mut JoinSet<StepResult>,
    state: &mut RunState,
    log: &Arc<Mutex<ProbeLog>>,
    sampled: &Notify,
    interrupt: &CancellationToken,
    deadline: Instant,
    started: Instant,
) -> Ending {
    loop {
        tokio::select! {
            // Interrupts win over everything else that is ready.
            biased;
            _ = interrupt.cancelled() => {
                state.result.status = ExperimentStatus::Aborted;
                state.result.reason.get_or_insert("interrupted by a signal".to_owned());
                return Ending::Interrupted;
            }
            _ = sampled.notified() => {
                let now = Utc::now();
                let measures = RunMeasures { elapsed: started.elapsed(), recovery_time: None };
                let log = log.lock().unwrap();
                let fired = plan.experiment.stop_conditions.iter().find(|c| log.holds(c, measures, now));
                if let Some(condition) = fired {
                    state.result.stop = Some(StopEvent { condition: condition.text.clone(), at: now });
                    return Ending::StopCondition(condition.text.clone());
                }
            }
            joined = steps.join_next() => match joined {
                None => return Ending::Finished,
                Some(Ok(step)) => {
                    let failed = step.status == StepStatus::Failed;
                    let reason = format!("step `{}`: {}", step.name, step.error.clone().unwrap_or_default());
                    state.record_step(step);
                    if failed {
                        return Ending::StepFailed(reason);
                    }
                }
                Some(Err(error)) => {
                    warn!(%error, "a step task ended abnormally");
                    return Ending::StepFailed(format!("a step task ended abnormally: {error}"));
                }
            },
            _ = sleep_until(deadline) => {
                info!("the experiment reached its duration");
                return Ending::DurationReached;
            }
        }
    }
}

/// Collects the steps that are still running after the stop signal.
async fn drain_steps(steps: &mut JoinSet<StepResult>, state: &mut RunState, deadline: Instant) {
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match timeout(remaining, steps.join_next()).await {
            Ok(Some(Ok(step))) => state.record_step(step),
            Ok(Some(Err(error))) => warn!(%error, "a step task ended abnormally"),
            Ok(None) => return,
            Err(_) => {
                // The injector still reverts whatever these steps applied.
                warn!("steps still running at the rollback timeout; aborting them");
                steps.abort_all();
                return;
            }
        }
    }
}

/// Sets the final status and success from the ending and the criteria.
fn judge(
    state: &mut RunState,
    plan: &Plan,
    ending: &Ending,
    log: &Arc<Mutex<ProbeLog>>,
    measures: RunMeasures,
) {
    let now = Utc::now();
    let log = log.lock().unwrap();
    state.result.success_criteria = plan
        .experiment
        .success
        .iter()
        .map(|condition| CriterionResult {
            condition: condition.text.clone(),
            met: log.holds(condition, measures, now),
        })
        .collect();
    drop(log);

    match ending {
        Ending::Interrupted => {}
        Ending::StopCondition(condition) => {
            state.result.status = ExperimentStatus::RolledBack;
            state
                .result
                .reason
                .get_or_insert(format!("stop condition fired: {condition}"));
        }
        Ending::StepFailed(reason) => state.fail(reason.clone()),
        Ending::Finished | Ending::DurationReached => {}
    }
    if !state.result.rollback_complete {
        state.fail("some faults could not be reverted; run `chaosc recover`".to_owned());
    }
    if state.result.steady_state.held_after == Some(false) {
        state.fail("the steady state did not hold after rollback".to_owned());
    }
    for recovery in &state.result.recovery.clone() {
        if recovery.status != crate::model::RecoveryStatus::Completed {
            state.fail(format!(
                "recovery plan `{}` ended {}",
                recovery.plan, recovery.status
            ));
        }
    }
    let unmet: Vec<String> = state
        .result
        .success_criteria
        .iter()
        .filter(|c| !c.met)
        .map(|c| c.condition.clone())
        .collect();
    if !unmet.is_empty() && state.result.status == ExperimentStatus::Running {
        state.fail(format!("success criteria not met: {}", unmet.join(", ")));
    }
    if state.result.status == ExperimentStatus::Running {
        state.result.status = ExperimentStatus::Completed;
    }
    state.result.success = state.result.status == ExperimentStatus::Completed && unmet.is_empty();
}

/// Stops the targets, closes the journal and the guardian, and completes the
/// result.
async fn finish(
    mut state: RunState,
    targets: Targets,
    journal: &JournalHandle,
    guardian: Option<Guardian>,
    progress: &Progress,
    log: Option<&Arc<Mutex<ProbeLog>>>,
) -> RunResult {
    // The copies of file targets serve this run's recovery plans only.
    for copy in targets.file_copies.values() {
        let _ = std::fs::remove_file(copy);
        if let Some(folder) = copy.parent() {
            let _ = std::fs::remove_dir(folder);
        }
    }
    tear_down(
        targets,
        journal,
        guardian,
        progress,
        state.result.rollback_complete,
    )
    .await;
    if let Some(log) = log {
        state.result.probes = summarize(&log.lock().unwrap());
    }
    if state.result.status == ExperimentStatus::Running {
        state.result.status = ExperimentStatus::Failed;
    }
    let ended_at = Utc::now();
    state.result.ended_at = ended_at;
    state.result.duration_seconds =
        (ended_at - state.result.started_at).num_milliseconds() as f64 / 1000.0;
    state.result
}

/// Stops the proxies and the launched targets, removes the journal when
/// nothing in it is left in place, and lets the guardian go. Returns whether
/// the journal was removed.
pub(super) async fn tear_down(
    targets: Targets,
    journal: &JournalHandle,
    guardian: Option<Guardian>,
    progress: &Progress,
    faults_reverted: bool,
) -> bool {
    drop(targets.proxies);
    let mut stopped_all = true;
    for (name, instances) in targets.replicas.lock().await.iter_mut() {
        for instance in instances.iter_mut() {
            instance.stop(STOP_GRACE).await;
            let record = Record::Stop {
                target: name.clone(),
                pid: instance.pid,
            };
            stopped_all &= journal.append(&[record]).await.is_ok();
        }
    }
    for (name, process) in targets.processes {
        let mut guard = process.lock().await;
        if let ProcessTarget::Launched(launched) = &mut *guard {
            launched.stop(STOP_GRACE).await;
            let record = Record::Stop {
                target: name.clone(),
                pid: launched.pid,
            };
            stopped_all &= journal.append(&[record]).await.is_ok();
            progress.emit(ProgressEvent::TargetStopped(name.clone()));
        }
    }

    let path = journal.path().await;
    let clean = stopped_all
        && faults_reverted
        && crate::store::JournalState::read(&path).is_ok_and(|journal| journal.is_clean());
    if clean {
        if let Err(error) = std::fs::remove_file(&path) {
            warn!(%error, path = %path.display(), "cannot remove the journal");
        }
    } else {
        progress.emit(ProgressEvent::JournalKept(path.clone()));
    }
    if let Some(guardian) = guardian {
        guardian.release().await;
    }
    clean
}

/// Sums up the samples of each probe.
fn summarize(log: &ProbeLog) -> Vec<ProbeSummary> {
    use crate::model::ProbeMeasure;
    let finite = |value: f64| value.is_finite().then_some(value);
    log.probe_names()
        .into_iter()
        .map(|name| {
            let samples = log.samples(&name).to_vec();
            let successes = samples.iter().filter(|s| s.ok).count();
            ProbeSummary {
                samples: samples.len(),
                successes,
                failures: samples.len() - successes,
                success_rate: finite(log.measure(&name, ProbeMeasure::SuccessRate, None)),
                latency_p50_ms: finite(log.measure(&name, ProbeMeasure::LatencyP50, None) * 1000.0),
                latency_p99_ms: finite(log.measure(&name, ProbeMeasure::LatencyP99, None) * 1000.0),
                timeline: samples,
                name,
            }
        })
        .collect()
}

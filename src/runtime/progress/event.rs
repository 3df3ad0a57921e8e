//! The events a run reports while it goes on, and the plain line of each.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::model::ExperimentStatus;
use crate::runtime::probe::Sample;
use crate::runtime::result::{FaultResult, RollbackOutcome, RunResult};

/// The end of the main phase of a run, which starts the rollback.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// Every step ended.
    Finished,
    /// The experiment's duration was reached before every step ended.
    DurationReached,
    /// A stop condition held; the text is the condition as written.
    StopCondition(String),
    /// A step failed; the text names the step and the error.
    StepFailed(String),
    /// SIGINT or SIGTERM.
    Interrupted,
}

/// One thing that happened in a run, as the progress output shows it.
///
/// Events that only the live view shows have no plain line, so the plain
/// output stays one line per step of the run.
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    RunStarted(RunOutline),
    DrillStarted {
        plan: String,
        experiment: String,
    },
    TargetLaunched {
        target: String,
        pid: u32,
    },
    TargetAttached {
        target: String,
        pid: u32,
    },
    ProxyStarted {
        target: String,
        listen: SocketAddr,
        upstream: SocketAddr,
    },
    /// A steady-state probe checked before injection or after rollback.
    SteadyState(Sample),
    /// A notification channel whose secret could not be read; the text
    /// names the variable or file, never the secret.
    ChannelLeftOut(String),
    /// The steps the step runs after have ended; it starts injecting.
    StepInjecting(String),
    /// Every fault of the step is in place, held for `hold` (`None`: to the
    /// end of the run).
    StepActive {
        step: String,
        hold: Option<Duration>,
    },
    /// The hold ended; the step's faults come off.
    StepReverting(String),
    StepReverted(String),
    StepFailed {
        step: String,
        error: String,
    },
    StepSkipped {
        step: String,
        reason: String,
    },
    /// One level of a gradual recovery's ramp-down, as observed.
    StepRamped {
        step: String,
        observed: String,
    },
    StepRampFailed {
        step: String,
        error: String,
    },
    /// A fault was injected and is being verified.
    FaultInjected {
        id: u64,
        step: String,
        fault: String,
        target: String,
    },
    /// A fault was injected and observed.
    FaultVerified {
        id: u64,
        step: String,
        fault: String,
        target: String,
        observation: String,
    },
    /// A revert of one fault ended, well or not.
    FaultReverted {
        id: u64,
        outcome: RollbackOutcome,
    },
    /// A monitoring sample of a probe during the run.
    ProbeSampled(Sample),
    AlertFired {
        rule: String,
        severity: String,
        message: String,
    },
    AlertResolved {
        rule: String,
    },
    /// The main phase ended; every fault still in place comes off.
    RollingBack(Ending),
    /// The rollback outcome of one fault, reported after the rollback.
    FaultRolledBack(FaultResult),
    RecoveryStarted {
        plan: String,
        strategy: String,
    },
    RecoveryEnded {
        plan: String,
        status: String,
        seconds: f64,
    },
    TargetStopped(String),
    JournalKept(PathBuf),
    /// The run is over and its result is known.
    Finished(RunSummary),
}

/// The parts of a run that the live view lists from its start.
#[derive(Debug, Clone)]
pub struct RunOutline {
    pub run_id: String,
    pub experiment: String,
    pub seed: u64,
    pub journal: PathBuf,
    /// When the experiment reaches its duration.
    pub deadline: Instant,
    pub steps: Vec<StepOutline>,
    pub probes: Vec<String>,
    pub stop_conditions: Vec<String>,
}

/// A step as declared.
#[derive(Debug, Clone)]
pub struct StepOutline {
    pub name: String,
    pub fault: String,
    pub targets: Vec<String>,
    pub after: Vec<String>,
}

/// The verdict of a run, for the last frame of the live view.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub experiment: String,
    pub status: ExperimentStatus,
    /// How the success criteria came out, as the verdict line prints it.
    pub criteria: String,
    pub reason: Option<String>,
    pub duration_seconds: f64,
    pub rollback_complete: bool,
}

impl RunSummary {
    /// Takes the verdict out of `result`.
    pub fn of(result: &RunResult) -> Self {
        RunSummary {
            experiment: result.experiment.clone(),
            status: result.status,
            criteria: result.criteria_verdict(),
            reason: result.reason.clone(),
            duration_seconds: result.duration_seconds,
            rollback_complete: result.rollback_complete,
        }
    }
}

impl ProgressEvent {
    /// Returns the line the plain output prints for this event, or `None`
    /// for events that only the live view shows.
    pub fn plain_line(&self) -> Option<String> {
        let line = match self {
            ProgressEvent::RunStarted(outline) => format!(
                "run {} of `{}`, seed {}, journal {}",
                outline.run_id,
                outline.experiment,
                outline.seed,
                outline.journal.display()
            ),
            ProgressEvent::DrillStarted { plan, experiment } => {
                format!("drill of recovery plan `{plan}` of `{experiment}`")
            }
            ProgressEvent::TargetLaunched { target, pid } => {
                format!("launched `{target}` as process {pid}")
            }
            ProgressEvent::TargetAttached { target, pid } => {
                format!("attached to `{target}` as process {pid}")
            }
            ProgressEvent::ProxyStarted {
                target,
                listen,
                upstream,
            } => format!("proxy `{target}` on {listen} -> {upstream}"),
            ProgressEvent::SteadyState(sample) => steady_state_line(sample),
            ProgressEvent::ChannelLeftOut(problem) => {
                format!("notifications: {problem}; channel left out")
            }
            ProgressEvent::StepReverted(step) => format!("step `{step}`: reverted"),
            ProgressEvent::StepFailed { step, error } => format!("step `{step}` failed: {error}"),
            ProgressEvent::StepRamped { step, observed } => format!("step `{step}`: {observed}"),
            ProgressEvent::StepRampFailed { step, error } => {
                format!("step `{step}`: ramp failed: {error}")
            }
            ProgressEvent::FaultVerified {
                step,
                fault,
                target,
                observation,
                ..
            } => format!("step `{step}`: injected `{fault}` on `{target}`: {observation}"),
            ProgressEvent::AlertFired {
                rule,
                severity,
                message,
            } => format!("alert `{rule}` firing ({severity}): {message}"),
            ProgressEvent::AlertResolved { rule } => format!("alert `{rule}` resolved"),
            ProgressEvent::RollingBack(ending) => rolling_back_line(ending),
            ProgressEvent::FaultRolledBack(fault) => format!(
                "fault {} `{}` on `{}`: {}{}",
                fault.id,
                fault.fault,
                fault.target,
                fault.rollback,
                fault
                    .rollback_detail
                    .as_deref()
                    .map(|detail| format!(" ({detail})"))
                    .unwrap_or_default()
            ),
            ProgressEvent::RecoveryStarted { plan, strategy } => {
                format!("recovery plan `{plan}` ({strategy})")
            }
            ProgressEvent::RecoveryEnded {
                plan,
                status,
                seconds,
            } => format!("recovery plan `{plan}`: {status} in {seconds:.2}s"),
            ProgressEvent::TargetStopped(target) => format!("stopped `{target}`"),
            ProgressEvent::JournalKept(path) => {
                format!("journal kept at {}; run `chaosc recover`", path.display())
            }
            ProgressEvent::StepInjecting(_)
            | ProgressEvent::StepActive { .. }
            | ProgressEvent::StepReverting(_)
            | ProgressEvent::StepSkipped { .. }
            | ProgressEvent::FaultInjected { .. }
            | ProgressEvent::FaultReverted { .. }
            | ProgressEvent::ProbeSampled(_)
            | ProgressEvent::Finished(_) => return None,
        };
        Some(line)
    }
}

/// Prefixes `line` with the time since the run started, as every plain
/// line is printed.
pub fn timestamped(elapsed: Duration, line: &str) -> String {
    format!("[{:>7.2}s] {line}", elapsed.as_secs_f64())
}

fn steady_state_line(sample: &Sample) -> String {
    let verdict = if sample.ok {
        "holds".to_owned()
    } else {
        format!("fails: {}", sample.error.as_deref().unwrap_or(""))
    };
    format!(
        "steady state probe `{}` {verdict} ({:.1}ms)",
        sample.probe,
        sample.latency.as_secs_f64() * 1000.0
    )
}

fn rolling_back_line(ending: &Ending) -> String {
    match ending {
        Ending::Finished => "all steps ended; rolling back".to_owned(),
        Ending::DurationReached => "the experiment's duration is over; rolling back".to_owned(),
        Ending::StopCondition(condition) => {
            format!("stop condition fired: {condition}; rolling back")
        }
        Ending::StepFailed(reason) => format!("a step failed: {reason}; rolling back"),
        Ending::Interrupted => "interrupted; rolling back".to_owned(),
    }
}

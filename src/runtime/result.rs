//! The result of a run, printed as JSON by `chaosc run --format json`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::alerts::Alert;
use super::health::HealthSnapshot;
use super::notify::NotificationRecord;
use super::probe::Sample;
use crate::model::{ExperimentStatus, RecoveryStatus};

/// Everything a run did and observed.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub run_id: String,
    pub experiment: String,
    pub file: String,
    /// `completed`, `failed`, `aborted` (interrupted by a signal) or
    /// `rolled_back` (stopped by a stop condition).
    pub status: ExperimentStatus,
    /// Whether the experiment met its success criteria; only then is the
    /// exit code 0.
    pub success: bool,
    /// The seed of every random choice of the run; `--seed` replays them.
    pub seed: u64,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub duration_seconds: f64,
    /// The reason the run failed or stopped early, when it did.
    pub reason: Option<String>,
    /// The stop condition that fired, when one did.
    pub stop: Option<StopEvent>,
    pub steady_state: SteadyStateResult,
    pub steps: Vec<StepResult>,
    pub faults: Vec<FaultResult>,
    pub probes: Vec<ProbeSummary>,
    pub success_criteria: Vec<CriterionResult>,
    pub recovery: Vec<RecoveryResult>,
    /// Whether every fault the run applied was reverted.
    pub rollback_complete: bool,
    /// The system before the first injection and after recovery, and what
    /// differs between them.
    pub snapshots: SnapshotResult,
    /// Seconds from the last fault reverted to the end of the recovery
    /// plans, when every plan completed.
    pub recovery_time_seconds: Option<f64>,
    /// Whether no file target changed, so no data was lost: the recovery
    /// point objective is met whatever it is. `None` without file targets.
    pub rpo_met: Option<bool>,
    /// Every alert the watched rules raised, oldest first.
    pub alerts: Vec<Alert>,
    /// The outcome of every notification of those alerts.
    pub notifications: Vec<NotificationRecord>,
    /// Health of the host and the targets before, during and after the
    /// faults.
    pub health: Vec<HealthSnapshot>,
}

/// The snapshots of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SnapshotResult {
    pub before: Option<super::snapshot::SystemSnapshot>,
    pub after: Option<super::snapshot::SystemSnapshot>,
    pub diff: Vec<String>,
}

/// A stop condition that fired.
#[derive(Debug, Clone, Serialize)]
pub struct StopEvent {
    pub condition: String,
    pub at: DateTime<Utc>,
}

/// The steady-state probes before injection and after rollback.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SteadyStateResult {
    pub before: Vec<Sample>,
    pub after: Vec<Sample>,
    pub held_before: Option<bool>,
    pub held_after: Option<bool>,
}

/// The outcome of one step.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub name: String,
    pub fault: String,
    pub targets: Vec<String>,
    /// `pending` (never started), `injected`, `reverted`, `failed` or
    /// `skipped` (a step it waits for failed).
    pub status: StepStatus,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

/// The state of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    Injected,
    Reverted,
    Failed,
    Skipped,
}

/// The outcome of one fault on one target.
#[derive(Debug, Clone, Serialize)]
pub struct FaultResult {
    pub id: u64,
    pub step: String,
    pub fault: String,
    pub target: String,
    pub injected_at: Option<DateTime<Utc>>,
    /// The observation of the verification, or the reason it failed.
    pub verification: Option<String>,
    pub verified: bool,
    pub reverted_at: Option<DateTime<Utc>>,
    /// `reverted`, `failed` or `not_applied`.
    pub rollback: RollbackOutcome,
    /// The observation after reverting, or the reason reverting failed.
    pub rollback_detail: Option<String>,
    /// The levels the fault was ramped down through before it was reverted,
    /// in a gradual recovery.
    pub ramp: Vec<RampStep>,
}

/// One level of a gradual recovery.
#[derive(Debug, Clone, Serialize)]
pub struct RampStep {
    pub level: f64,
    pub at: DateTime<Utc>,
    pub observed: String,
}

/// The outcome of reverting one fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackOutcome {
    Pending,
    Reverted,
    Failed,
    NotApplied,
}

impl std::fmt::Display for RollbackOutcome {
    /// Writes the outcome in lower case, as the other states of a run read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RollbackOutcome::Pending => "pending",
            RollbackOutcome::Reverted => "reverted",
            RollbackOutcome::Failed => "failed",
            RollbackOutcome::NotApplied => "not applied",
        })
    }
}

/// The samples of one probe during the run, summed up.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeSummary {
    pub name: String,
    pub samples: usize,
    pub successes: usize,
    pub failures: usize,
    pub success_rate: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    /// Every sample, oldest first.
    pub timeline: Vec<Sample>,
}

/// Whether one success criterion was met.
#[derive(Debug, Clone, Serialize)]
pub struct CriterionResult {
    pub condition: String,
    pub met: bool,
}

/// Describes how the success criteria of a run came out, for its verdict
/// line: all met, how many of them were met, or not judged at all (the run
/// ended before they were). A run that stopped early is never a success,
/// even with every criterion met, so its verdict starts with that.
pub fn criteria_verdict(status: &str, met: usize, total: usize) -> String {
    let completed = status == ExperimentStatus::Completed.name();
    let stopped_early =
        status == ExperimentStatus::Aborted.name() || status == ExperimentStatus::RolledBack.name();
    match (met, total) {
        (_, 0) if completed => "no success criteria".to_owned(),
        (_, 0) => "success criteria not judged".to_owned(),
        (met, total) if stopped_early => {
            format!("not a success: stopped early, {met} of {total} success criteria met")
        }
        (met, total) if !completed => {
            format!("not a success: {met} of {total} success criteria met")
        }
        (met, total) if met == total => "success criteria met".to_owned(),
        (met, total) => format!("{met} of {total} success criteria met"),
    }
}

impl RunResult {
    /// Describes how the success criteria of this run came out.
    pub fn criteria_verdict(&self) -> String {
        let met = self.success_criteria.iter().filter(|c| c.met).count();
        criteria_verdict(self.status.name(), met, self.success_criteria.len())
    }
}

/// The execution of one recovery plan.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryResult {
    pub plan: String,
    pub strategy: String,
    pub status: RecoveryStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub recovery_time_seconds: f64,
    pub rto_seconds: Option<f64>,
    /// Whether the recovery time was within the RTO, when there is one.
    pub rto_met: Option<bool>,
    pub actions: Vec<ActionResult>,
    /// What each proxy refused while the plan ran: connections shed, failed
    /// fast by an open circuit, and upstream connections that failed.
    pub proxies: std::collections::BTreeMap<String, ProxyCounts>,
}

/// Connections a proxy refused or could not forward.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ProxyCounts {
    pub shed: u64,
    pub failed_fast: u64,
    pub upstream_failures: u64,
}

/// The execution of one recovery action.
#[derive(Debug, Clone, Serialize)]
pub struct ActionResult {
    pub name: String,
    pub status: RecoveryStatus,
    pub attempts: u32,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub output: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::criteria_verdict;

    #[test]
    fn criteria_verdict_cases() {
        let cases = [
            ("completed", 0, 0, "no success criteria"),
            ("aborted", 0, 0, "success criteria not judged"),
            ("completed", 2, 2, "success criteria met"),
            ("completed", 1, 2, "1 of 2 success criteria met"),
            (
                "aborted",
                2,
                2,
                "not a success: stopped early, 2 of 2 success criteria met",
            ),
            (
                "rolled_back",
                1,
                2,
                "not a success: stopped early, 1 of 2 success criteria met",
            ),
            ("failed", 0, 1, "not a success: 0 of 1 success criteria met"),
        ];
        for (status, met, total, expected) in cases {
            assert_eq!(criteria_verdict(status, met, total), expected);
        }
    }
}

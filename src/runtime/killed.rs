//! The result of a run that died before it ended, rebuilt from its journal
//! after the guardian or `chaosc recover` reverted what it left in place, so
//! that `chaosc history` lists the run.

use chrono::{DateTime, Utc};

use super::recover::JournalRecovery;
use super::result::{FaultResult, RollbackOutcome, RunResult};
use crate::model::ExperimentStatus;
use crate::store::RunOrigin;

/// Builds the result of the dead run of `report` as of `now`: aborted, not
/// a success, with the faults found in place and how reverting each went.
/// Faults the run reverted itself before it died are not in its journal,
/// so they are not listed.
pub fn killed_result(
    report: &JournalRecovery,
    origin: &RunOrigin,
    recovered_by: &str,
    now: DateTime<Utc>,
) -> RunResult {
    let faults: Vec<FaultResult> = report
        .faults
        .iter()
        .map(|fault| FaultResult {
            id: fault.id,
            step: fault.step.clone(),
            fault: fault.fault.clone(),
            target: fault.target.clone(),
            injected_at: fault.applied_at,
            verification: None,
            verified: false,
            reverted_at: fault.reverted.then_some(now),
            rollback: if fault.reverted {
                RollbackOutcome::Reverted
            } else {
                RollbackOutcome::Failed
            },
            rollback_detail: Some(fault.detail.clone()),
            ramp: Vec::new(),
        })
        .collect();
    let reverted = faults
        .iter()
        .filter(|fault| fault.rollback == RollbackOutcome::Reverted)
        .count();
    let reverter = match recovered_by {
        "guardian" => "the guardian",
        _ => "`chaosc recover`",
    };
    let reason = format!(
        "chaosc ended before the run did (killed or crashed); {reverter} reverted \
         {reverted} of the {} faults it left in place",
        faults.len()
    );
    RunResult {
        run_id: report.run_id.clone().unwrap_or_default(),
        experiment: origin.experiment.clone(),
        file: origin.file.clone(),
        status: ExperimentStatus::Aborted,
        success: false,
        seed: origin.seed,
        started_at: origin.started_at,
        ended_at: now,
        duration_seconds: (now - origin.started_at).as_seconds_f64().max(0.0),
        reason: Some(reason),
        stop: None,
        steady_state: Default::default(),
        steps: Vec::new(),
        rollback_complete: reverted == faults.len(),
        faults,
        probes: Vec::new(),
        success_criteria: Vec::new(),
        recovery: Vec::new(),
        snapshots: Default::default(),
        recovery_time_seconds: None,
        rpo_met: None,
        alerts: Vec::new(),
        notifications: Vec::new(),
        health: Vec::new(),
    }
}

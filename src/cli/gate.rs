//! The governance gate of `chaosc run`. Before anything is launched or
//! injected, it checks the time window, the approvals and the target locks.
//! After the run, it writes the audit records of what the run did and keeps
//! its governance facts.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::exit;
use super::governed::{Checked, Context, print_error};
use crate::governance::GovernanceError;
use crate::governance::approval::{ApprovalStatus, approvals_of, quoted_list};
use crate::governance::assessment::Assessment;
use crate::governance::audit::AuditEvent;
use crate::governance::calendar::Calendar;
use crate::governance::impact::{FaultWindow, ObservedImpact};
use crate::governance::lock::{self, Holder, LockError, LockKey};
use crate::governance::policy::Policy;
use crate::runtime::result::RunResult;
use crate::store::AuditOrigin;

/// The inputs of the gate taken from the command line.
#[derive(Debug, Clone, Copy)]
pub struct GateOptions<'a> {
    /// `--now`: the time the windows are judged at.
    pub now: Option<&'a str>,
    /// `--requested-by`: who requests the run.
    pub requested_by: Option<&'a str>,
}

/// A run that passed the gate; it holds the locks of its targets until it
/// is closed or dropped.
pub struct Gate {
    pub run_id: String,
    pub assessment: Assessment,
    pub approvals: ApprovalStatus,
    context: Context,
    locks_held: bool,
}

impl Gate {
    /// Names the audit trail of the run for its journal, so that a guardian
    /// or `chaosc recover` can close the trail if the run dies.
    pub fn audit_origin(&self) -> AuditOrigin {
        AuditOrigin {
            db: self.context.db.clone(),
            actor: self.context.actor(),
            policy_hash: self.assessment.policy_hash.clone(),
            scenario_hash: self.assessment.content_hash.clone(),
        }
    }
}

/// Resolves the time a run is judged at: `--now` when the policy allows a
/// clock override, else the clock.
pub fn resolve_now(now: Option<&str>, policy: &Policy) -> Result<DateTime<Utc>, GovernanceError> {
    let Some(text) = now else {
        return Ok(Utc::now());
    };
    if !policy.document.allow_clock_override {
        return Err(GovernanceError::ClockOverrideForbidden);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.to_utc())
        .map_err(|error| GovernanceError::InvalidTime {
            text: text.to_owned(),
            reason: error.to_string(),
        })
}

/// Checks the window, the approvals and the locks of a run, and records its
/// start. A rejection is printed, recorded and returned as the exit code.
pub fn open(
    context: &Context,
    checked: &Checked,
    policy: &Policy,
    options: GateOptions<'_>,
) -> Result<Gate, u8> {
    let assessment = checked.assess(policy, options.requested_by);
    let run_id = uuid::Uuid::new_v4().to_string();
    let reject = |error: &GovernanceError| {
        print_error(error);
        let event = scenario_event(context, "run.rejected", &assessment, Some(&run_id))
            .with_details(json!({
                "reason": error.to_string(),
                "frameworks": assessment.frameworks,
            }));
        context.audit(&assessment.policy_hash, &[event]);
        exit::USAGE
    };

    let now = resolve_now(options.now, policy).map_err(|error| reject(&error))?;
    let experiment = &checked.plan.experiment;
    let calendar = Calendar::of(experiment, policy, &assessment.framework_policies)
        .map_err(|error| reject(&error))?;
    calendar
        .check(&experiment.name, now)
        .map_err(|error| reject(&error))?;

    let mut store = context.store()?;
    let given = approvals_of(store.connection(), &experiment.name).map_err(|error| {
        print_error(&error);
        exit::USAGE
    })?;
    let approvals =
        ApprovalStatus::evaluate(&assessment.requirement, &given, &assessment.content_hash);
    if !approvals.missing.is_empty() {
        let error = missing_approvals(&assessment, &approvals, &checked.path);
        return Err(reject(&error));
    }

    let keys = lock_keys(checked);
    match lock::acquire(store.connection(), &keys, &run_id, Holder::current()) {
        Ok(taken_over) => {
            for key in taken_over {
                eprintln!("chaosc: took over the lock of `{key}` from a run that is gone");
            }
        }
        Err(LockError::Held(error)) => return Err(reject(&error)),
        Err(LockError::Store(error)) => {
            print_error(&error);
            return Err(exit::USAGE);
        }
    }

    let gate = Gate {
        run_id,
        assessment,
        approvals,
        context: context.clone(),
        locks_held: true,
    };
    let start = scenario_event(context, "run.start", &gate.assessment, Some(&gate.run_id))
        .with_details(json!({
            "file": checked.plan.file,
            "risk": gate.assessment.risk.level,
            "frameworks": gate.assessment.frameworks,
            "approved_by": approvers(&gate.approvals),
            "requested_by": options.requested_by,
            "clock_override": options.now,
            "targets": keys.iter().map(|key| &key.target).collect::<Vec<_>>(),
        }));
    // A run whose experiment requires an audit trail does not start without
    // its first record; dropping the gate releases the locks.
    if let Err(error) = context.try_audit(&gate.assessment.policy_hash, &[start]) {
        print_error(&error);
        if experiment.compliance.audit_trail_required {
            eprintln!("chaosc: the experiment requires an audit trail; nothing was run");
            return Err(exit::USAGE);
        }
    }
    Ok(gate)
}

impl Gate {
    /// Releases the locks, appends the audit records of what the run did
    /// and stores its governance facts; returns them as JSON for the result.
    pub fn close(mut self, checked: &Checked, result: &RunResult) -> Value {
        self.release();
        let observed = ObservedImpact::measure(&checked.model, &fault_windows(result));
        let governance = json!({
            "content_hash": self.assessment.content_hash,
            "policy_hash": self.assessment.policy_hash,
            "frameworks": self.assessment.frameworks,
            "risk": self.assessment.risk,
            "approvals": self.approvals.roles,
            "impact": self.assessment.impact,
            "observed_impact": observed,
            "actor": self.context.actor(),
        });

        let result_json = serde_json::to_value(result).expect("results serialize");
        let events = run_events(&self, result, &result_json);
        self.context.audit(&self.assessment.policy_hash, &events);
        if let Err(error) = self.store_facts(result, &governance) {
            print_error(&error);
        }
        governance
    }

    fn release(&mut self) {
        if !self.locks_held {
            return;
        }
        self.locks_held = false;
        let released = crate::store::Store::open(&self.context.db)
            .and_then(|mut store| lock::release(store.connection(), &self.run_id));
        if let Err(error) = released {
            eprintln!(
                "chaosc: the locks of run `{}` were not released",
                self.run_id
            );
            print_error(&error);
        }
    }

    fn store_facts(
        &self,
        result: &RunResult,
        governance: &Value,
    ) -> Result<(), crate::store::StoreError> {
        let mut store = crate::store::Store::open(&self.context.db)?;
        store.connection().execute(
            "INSERT OR REPLACE INTO run_governance
             (run_id, experiment, frameworks, risk, content_hash, policy_hash, started_at, summary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
                result.run_id,
                result.experiment,
                serde_json::to_string(&self.assessment.frameworks).expect("names serialize"),
                self.assessment.risk.level.name(),
                self.assessment.content_hash,
                self.assessment.policy_hash,
                result.started_at.to_rfc3339(),
                governance.to_string()
            ],
        )?;
        Ok(())
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.release();
    }
}

/// Returns the lock keys of the targets the steps and recovery actions act
/// on.
fn lock_keys(checked: &Checked) -> Vec<LockKey> {
    let experiment = &checked.plan.experiment;
    let step_targets = experiment.steps.iter().flat_map(|step| step.targets.iter());
    let action_targets = experiment
        .recovery_plans
        .iter()
        .flat_map(|plan| &plan.actions)
        .filter_map(|action| action.kind.target());
    let mut keys: Vec<LockKey> = Vec::new();
    for name in step_targets.map(String::as_str).chain(action_targets) {
        let Some(target) = checked.model.target(name) else {
            continue;
        };
        let key = LockKey::of(target);
        if !keys.iter().any(|known| known.key == key.key) {
            keys.push(key);
        }
    }
    keys
}

fn missing_approvals(
    assessment: &Assessment,
    status: &ApprovalStatus,
    path: &std::path::Path,
) -> GovernanceError {
    let mut help = String::new();
    for role in status
        .roles
        .iter()
        .filter(|role| role.approved_by.is_empty())
    {
        help.push_str(&format!(
            "`{}` is required by {}",
            role.role,
            role.required_by.join(", ")
        ));
        if let Some(note) = &role.note {
            help.push_str(&format!(" ({note})"));
        }
        help.push_str("; ");
    }
    if !status.void.is_empty() {
        help.push_str(&format!(
            "{} earlier approval{} no longer count because the scenario changed; ",
            status.void.len(),
            if status.void.len() == 1 { "" } else { "s" }
        ));
    }
    let first = status.missing.first().map_or("ROLE", String::as_str);
    help.push_str(&format!(
        "approve with `chaosc approve {} --role {first} --as NAME`",
        path.display()
    ));
    GovernanceError::ApprovalsMissing {
        experiment: assessment.experiment.clone(),
        missing: quoted_list(status.missing.iter().map(String::as_str)),
        help,
    }
}

fn approvers(status: &ApprovalStatus) -> Value {
    status
        .roles
        .iter()
        .map(|role| (role.role.clone(), json!(role.approved_by)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Creates an event about the assessed scenario.
pub fn scenario_event(
    context: &Context,
    action: &str,
    assessment: &Assessment,
    run_id: Option<&str>,
) -> AuditEvent {
    let mut event = context.event(action, json!({}));
    event.experiment = Some(assessment.experiment.clone());
    event.scenario_hash = Some(assessment.content_hash.clone());
    event.run_id = run_id.map(str::to_owned);
    event
}

/// Sets the details of an event.
trait WithDetails {
    fn with_details(self, details: Value) -> Self;
}

impl WithDetails for AuditEvent {
    fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

fn fault_windows(result: &RunResult) -> Vec<FaultWindow> {
    result
        .faults
        .iter()
        .filter_map(|fault| {
            let start = fault.injected_at?;
            Some(FaultWindow {
                target: fault.target.clone(),
                start,
                end: fault.reverted_at.unwrap_or(result.ended_at),
            })
        })
        .collect()
}

/// Builds the records of what a run did: each injection and rollback, each
/// recovery plan, each alert when the result carries them, and the end.
fn run_events(gate: &Gate, result: &RunResult, result_json: &Value) -> Vec<AuditEvent> {
    let event = |action: &str, at: DateTime<Utc>, details: Value| {
        let mut event = scenario_event(&gate.context, action, &gate.assessment, Some(&gate.run_id));
        event.at = at;
        event.with_details(details)
    };
    let mut events = Vec::new();
    for fault in &result.faults {
        if let Some(at) = fault.injected_at {
            events.push(event(
                "injection",
                at,
                json!({
                    "step": fault.step, "fault": fault.fault, "target": fault.target,
                    "verified": fault.verified, "verification": fault.verification,
                }),
            ));
        }
        if fault.rollback != crate::runtime::result::RollbackOutcome::NotApplied {
            events.push(event(
                "rollback",
                fault.reverted_at.unwrap_or(result.ended_at),
                json!({
                    "step": fault.step, "fault": fault.fault, "target": fault.target,
                    "outcome": fault.rollback, "detail": fault.rollback_detail,
                }),
            ));
        }
    }
    for recovery in &result.recovery {
        events.push(event(
            "recovery",
            recovery.ended_at,
            json!({
                "plan": recovery.plan, "strategy": recovery.strategy, "status": recovery.status,
                "recovery_time_seconds": recovery.recovery_time_seconds,
                "rto_seconds": recovery.rto_seconds, "rto_met": recovery.rto_met,
            }),
        ));
    }
    // Alerts come from the monitoring of the run when the result has them.
    for alert in result_json["alerts"].as_array().into_iter().flatten() {
        let at = alert["fired_at"]
            .as_str()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map_or(result.ended_at, |time| time.to_utc());
        events.push(event("alert", at, alert.clone()));
    }
    // Events keep their own times, but the trail lists them in the order
    // they happened; the sort is stable, so ties keep the order above.
    events.sort_by_key(|event| event.at);
    events.push(event(
        "run.end",
        result.ended_at,
        json!({
            "status": result.status, "success": result.success,
            "duration_seconds": result.duration_seconds, "reason": result.reason,
            "rollback_complete": result.rollback_complete,
        }),
    ));
    events
}

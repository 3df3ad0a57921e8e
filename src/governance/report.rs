//! The compliance report of one framework: the runs of experiments under
//! it, their approvals, rejections, failures and recovery times against the
//! RTO, the state of the audit chain, and whether each element the
//! framework requires is present.

use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

use super::audit;
use crate::model::FrameworkPolicy;
use crate::store::StoreError;

/// One run of an experiment under the framework.
#[derive(Debug, Clone, Serialize)]
pub struct RunEntry {
    pub run_id: String,
    pub experiment: String,
    pub started_at: String,
    pub risk: String,
    pub status: String,
    pub success: bool,
    pub reason: Option<String>,
    /// Each required role with the people who approved it.
    pub approvals: Vec<(String, Vec<String>)>,
    pub recoveries: Vec<RecoveryEntry>,
}

/// One recovery plan execution of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryEntry {
    pub plan: String,
    pub recovery_time_seconds: f64,
    pub rto_seconds: Option<f64>,
    pub rto_met: Option<bool>,
}

/// A run that the gate rejected.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    pub at: String,
    pub experiment: String,
    pub reason: String,
}

/// Whether a required element of the framework is present.
#[derive(Debug, Clone, Serialize)]
pub struct Element {
    pub element: String,
    /// `present`, `missing` or `not applicable`.
    pub status: &'static str,
    pub detail: String,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceReport {
    pub framework: String,
    pub description: String,
    pub generated_at: String,
    pub since: Option<String>,
    pub policy_hash: String,
    pub runs: Vec<RunEntry>,
    pub rejections: Vec<Rejection>,
    /// Runs that failed, by id, with their reason.
    pub failures: Vec<(String, String)>,
    /// The audit chain: `intact` or why it is broken.
    pub audit_chain: String,
    pub audit_records: usize,
    pub elements: Vec<Element>,
}

impl ComplianceReport {
    /// Gathers the report of `policy`'s framework from the store.
    pub fn gather(
        connection: &Connection,
        policy: &FrameworkPolicy,
        description: &str,
        since: Option<&str>,
        policy_hash: &str,
    ) -> Result<ComplianceReport, StoreError> {
        let name = policy.framework.name();
        let runs = runs_under(connection, name, since)?;
        let records = audit::records(connection, since)?;
        let rejections: Vec<Rejection> = records
            .iter()
            .filter(|record| record.action == "run.rejected")
            .filter_map(|record| {
                let details: Value = serde_json::from_str(&record.details).ok()?;
                let frameworks = details["frameworks"].as_array()?;
                frameworks.iter().any(|f| f == name).then(|| Rejection {
                    at: record.at.clone(),
                    experiment: record.experiment.clone().unwrap_or_default(),
                    reason: details["reason"].as_str().unwrap_or("").to_owned(),
                })
            })
            .collect();
        let chain = audit::verify(connection)?;
        let audit_chain = match &chain {
            Ok(_) => "intact".to_owned(),
            Err(error) => error.to_string(),
        };
        let failures = runs
            .iter()
            .filter(|run| !run.success)
            .map(|run| {
                let reason = run.reason.clone().unwrap_or_else(|| run.status.clone());
                (run.run_id.clone(), reason)
            })
            .collect();
        let elements = elements(policy, &runs, &records, chain.is_ok());
        Ok(ComplianceReport {
            framework: name.to_owned(),
            description: description.to_owned(),
            generated_at: chrono::Utc::now().to_rfc3339(),
            since: since.map(str::to_owned),
            policy_hash: policy_hash.to_owned(),
            runs,
            rejections,
            failures,
            audit_chain,
            audit_records: records.len(),
            elements,
        })
    }
}

/// Reads the runs whose experiment names the framework.
fn runs_under(
    connection: &Connection,
    framework: &str,
    since: Option<&str>,
) -> Result<Vec<RunEntry>, StoreError> {
    let mut statement = connection.prepare(
        "SELECT g.run_id, g.experiment, g.started_at, g.risk, g.frameworks, g.summary, r.result
         FROM run_governance g JOIN runs r ON r.id = g.run_id
         WHERE g.started_at >= ?1 ORDER BY g.started_at",
    )?;
    let rows = statement.query_map([since.unwrap_or("")], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, String>(5)?,
            row.get::<_, String>(6)?,
        ))
    })?;
    let mut runs = Vec::new();
    for row in rows {
        let (run_id, experiment, started_at, risk, frameworks, summary, result) = row?;
        let frameworks: Vec<String> = serde_json::from_str(&frameworks).unwrap_or_default();
        if !frameworks.iter().any(|name| name == framework) {
            continue;
        }
        let summary: Value = serde_json::from_str(&summary).unwrap_or_default();
        let result: Value = serde_json::from_str(&result).unwrap_or_default();
        runs.push(RunEntry {
            run_id,
            experiment,
            started_at,
            risk,
            status: result["status"].as_str().unwrap_or("").to_owned(),
            success: result["success"] == true,
            reason: result["reason"].as_str().map(str::to_owned),
            approvals: approvals_of_summary(&summary),
            recoveries: recoveries_of_result(&result),
        });
    }
    Ok(runs)
}

fn approvals_of_summary(summary: &Value) -> Vec<(String, Vec<String>)> {
    let roles = summary["approvals"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    roles
        .iter()
        .map(|role| {
            let name = role["role"].as_str().unwrap_or("").to_owned();
            let by = role["approved_by"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|who| who.as_str().map(str::to_owned))
                .collect();
            (name, by)
        })
        .collect()
}

fn recoveries_of_result(result: &Value) -> Vec<RecoveryEntry> {
    let plans = result["recovery"].as_array().map_or(&[][..], Vec::as_slice);
    plans
        .iter()
        .map(|plan| RecoveryEntry {
            plan: plan["plan"].as_str().unwrap_or("").to_owned(),
            recovery_time_seconds: plan["recovery_time_seconds"].as_f64().unwrap_or(0.0),
            rto_seconds: plan["rto_seconds"].as_f64(),
            rto_met: plan["rto_met"].as_bool(),
        })
        .collect()
}

/// Judges each element the framework requires against the runs.
fn elements(
    policy: &FrameworkPolicy,
    runs: &[RunEntry],
    records: &[audit::AuditRecord],
    chain_intact: bool,
) -> Vec<Element> {
    let mut elements = Vec::new();
    let judge = |ok: bool, applicable: bool| match (applicable, ok) {
        (false, _) => "not applicable",
        (true, true) => "present",
        (true, false) => "missing",
    };

    for role in &policy.approval_roles {
        let unapproved: Vec<&str> = runs
            .iter()
            .filter(|run| {
                !run.approvals
                    .iter()
                    .any(|(name, by)| name == role && !by.is_empty())
            })
            .map(|run| run.run_id.as_str())
            .collect();
        elements.push(Element {
            element: format!("approval by `{role}`"),
            status: judge(unapproved.is_empty(), !runs.is_empty()),
            detail: if unapproved.is_empty() {
                format!("every run of {} was approved", runs.len())
            } else {
                format!("runs without it: {}", unapproved.join(", "))
            },
        });
    }

    let unrecorded: Vec<&str> = runs
        .iter()
        .filter(|run| {
            let has = |action: &str| {
                records.iter().any(|record| {
                    record.action == action && record.run_id.as_deref() == Some(&run.run_id)
                })
            };
            !(has("run.start") && has("run.end"))
        })
        .map(|run| run.run_id.as_str())
        .collect();
    elements.push(Element {
        element: "audit trail".to_owned(),
        status: judge(chain_intact && unrecorded.is_empty(), policy.audit_required),
        detail: match (chain_intact, unrecorded.is_empty()) {
            (false, _) => "the audit chain is broken".to_owned(),
            (true, true) => "the chain is intact and records every run's start and end".to_owned(),
            (true, false) => format!("runs missing from the trail: {}", unrecorded.join(", ")),
        },
    });

    let missed: Vec<String> = runs
        .iter()
        .flat_map(|run| {
            run.recoveries
                .iter()
                .filter(|recovery| recovery.rto_met == Some(false))
                .map(move |recovery| format!("{} ({})", run.run_id, recovery.plan))
        })
        .collect();
    let with_rto = runs
        .iter()
        .flat_map(|run| &run.recoveries)
        .any(|recovery| recovery.rto_seconds.is_some());
    elements.push(Element {
        element: "recovery within RTO".to_owned(),
        status: judge(missed.is_empty(), with_rto),
        detail: if missed.is_empty() {
            "every recovery plan with an RTO met it".to_owned()
        } else {
            format!("RTO missed: {}", missed.join(", "))
        },
    });

    elements.push(Element {
        element: "blackout windows".to_owned(),
        status: judge(true, !policy.blackout_windows.is_empty()),
        detail: if policy.blackout_windows.is_empty() {
            "the framework declares none".to_owned()
        } else {
            format!(
                "{}; `chaosc run` rejects a start inside them",
                policy.blackout_windows.join(", ")
            )
        },
    });
    elements.push(Element {
        element: "forbidden faults on classified data".to_owned(),
        status: judge(true, !policy.forbidden.is_empty()),
        detail: "`chaosc check` rejects them, and a run starts only from a clean check".to_owned(),
    });
    elements
}

//! The governance part of `chaosc plan`: the policy identity, the risk and
//! its reasons, the approvals needed and given, the time window and the
//! business impact.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::gate::scenario_event;
use super::governed::{Checked, Context};
use crate::governance::approval::{ApprovalStatus, approvals_of};
use crate::governance::assessment::Assessment;
use crate::governance::calendar::{Calendar, Closed};
use crate::governance::policy::Policy;

/// Renders the plan of a checked scenario followed by its assessment, and
/// records in the audit trail that it was planned.
pub fn render_plan(
    context: &Context,
    checked: &Checked,
    policy: &Policy,
    requested_by: Option<&str>,
    now: Option<DateTime<Utc>>,
) -> String {
    let assessment = checked.assess(policy, requested_by);
    let mut out = checked.plan.render();
    let _ = writeln!(out, "\ngovernance:");
    let local = policy
        .local_path
        .as_ref()
        .map_or(String::new(), |path| format!(" (with {})", path.display()));
    let _ = writeln!(out, "  policy {}{local}", assessment.policy_hash);
    let _ = writeln!(out, "  scenario {}", assessment.content_hash);

    let _ = write!(out, "\n{}", assessment.risk.render());
    out.push_str(&render_approvals(context, &assessment));
    out.push_str(&render_window(checked, policy, &assessment, now));
    let _ = write!(out, "\n{}", assessment.impact.render());

    let event = scenario_event(context, "plan", &assessment, None);
    let mut event = event;
    event.details = json!({
        "file": checked.plan.file,
        "risk": assessment.risk.level,
        "worst_case_seconds": assessment.impact.worst_case_seconds,
    });
    context.audit(&assessment.policy_hash, &[event]);
    out
}

fn render_approvals(context: &Context, assessment: &Assessment) -> String {
    let mut out = String::from("\napprovals:\n");
    if assessment.requirement.roles.is_empty() {
        out.push_str("  none required\n");
        return out;
    }
    let given = context
        .store()
        .ok()
        .and_then(|mut store| approvals_of(store.connection(), &assessment.experiment).ok())
        .unwrap_or_default();
    let status =
        ApprovalStatus::evaluate(&assessment.requirement, &given, &assessment.content_hash);
    for role in &status.roles {
        let state = if role.approved_by.is_empty() {
            "missing".to_owned()
        } else {
            format!("approved by {}", role.approved_by.join(", "))
        };
        let _ = writeln!(
            out,
            "  {:<28} {state} (required by {})",
            role.role,
            role.required_by.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "  self-approval: {}",
        assessment.requirement.self_approval
    );
    out
}

fn render_window(
    checked: &Checked,
    policy: &Policy,
    assessment: &Assessment,
    now: Option<DateTime<Utc>>,
) -> String {
    let mut out = String::from("\nwindow:\n");
    let experiment = &checked.plan.experiment;
    let calendar = match Calendar::of(experiment, policy, &assessment.framework_policies) {
        Ok(calendar) => calendar,
        Err(error) => {
            let _ = writeln!(out, "  {error}");
            return out;
        }
    };
    let hours = if calendar.business_hours_only {
        format!("{} ({})", calendar.hours.text, calendar.zone.name())
    } else {
        "any hour".to_owned()
    };
    let _ = writeln!(out, "  runs in {hours}");
    for window in &calendar.blackouts {
        let _ = writeln!(out, "  blackout {} ({})", window.text, window.source);
    }
    // A time given with `--now` is printed, and the clock's time is "now".
    let (now, when) = match now {
        Some(time) => (time, format!("at {}", calendar.zone.format(time))),
        None => (Utc::now(), "now".to_owned()),
    };
    match calendar.closed_at(now) {
        None => {
            let _ = writeln!(out, "  open {when}");
        }
        Some(closed) => {
            let reason = match closed {
                Closed::Blackout(window) => format!("in blackout `{}`", window.text),
                Closed::OutsideHours => "outside business hours".to_owned(),
            };
            let next = calendar
                .next_open(now)
                .map_or("no opening found".to_owned(), |next| {
                    format!("opens at {}", calendar.zone.format(next))
                });
            let _ = writeln!(out, "  closed {when} ({reason}); {next}");
        }
    }
    out
}

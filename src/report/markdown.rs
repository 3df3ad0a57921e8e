//! The Markdown report of a run.

use std::fmt::Write;

use serde_json::Value;

use super::{items, text};
use crate::runtime::result::criteria_verdict;

/// Renders a run result as Markdown.
pub fn render_markdown(result: &Value) -> String {
    let mut out = String::new();
    let criteria = result["success_criteria"].as_array();
    let met = criteria.map_or(0, |list| {
        list.iter()
            .filter(|criterion| criterion["met"] == true)
            .count()
    });
    let verdict = criteria_verdict(
        result["status"].as_str().unwrap_or_default(),
        met,
        criteria.map_or(0, Vec::len),
    );
    let _ = writeln!(
        out,
        "# Experiment `{}`: {}\n",
        text(result, "experiment"),
        text(result, "status")
    );
    let _ = writeln!(out, "- run: `{}`", text(result, "run_id"));
    let _ = writeln!(out, "- file: `{}`", text(result, "file"));
    let _ = writeln!(out, "- started: {}", text(result, "started_at"));
    let _ = writeln!(
        out,
        "- duration: {:.1}s",
        result["duration_seconds"].as_f64().unwrap_or(0.0)
    );
    let _ = writeln!(out, "- verdict: {verdict}");
    let _ = writeln!(out, "- seed: {}", result["seed"]);
    if let Some(reason) = result["reason"].as_str() {
        let _ = writeln!(out, "- reason: {reason}");
    }

    let _ = writeln!(
        out,
        "\n## Steps\n\n| step | fault | targets | status | error |\n| --- | --- | --- | --- | --- |"
    );
    for step in items(result, "steps") {
        let targets: Vec<&str> = items(step, "targets")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            text(step, "name"),
            text(step, "fault"),
            targets.join(", "),
            text(step, "status"),
            text(step, "error")
        );
    }

    let _ = writeln!(
        out,
        "\n## Faults\n\n| id | fault | target | verified | observed | rollback |\n| --- | --- | --- | --- | --- | --- |"
    );
    for fault in items(result, "faults") {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            fault["id"],
            text(fault, "fault"),
            text(fault, "target"),
            fault["verified"],
            text(fault, "verification"),
            text(fault, "rollback")
        );
    }

    let _ = writeln!(
        out,
        "\n## Probes\n\n| probe | samples | passed | p50 | p99 |\n| --- | --- | --- | --- | --- |"
    );
    for probe in items(result, "probes") {
        let rate = probe["success_rate"]
            .as_f64()
            .map_or("n/a".to_owned(), |rate| format!("{:.1}%", rate * 100.0));
        let millis = |key: &str| {
            probe[key]
                .as_f64()
                .map_or("n/a".to_owned(), |ms| format!("{ms:.1}ms"))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {rate} | {} | {} |",
            text(probe, "name"),
            probe["samples"],
            millis("latency_p50_ms"),
            millis("latency_p99_ms")
        );
    }

    if !items(result, "success_criteria").is_empty() {
        let _ = writeln!(out, "\n## Success criteria\n");
        for criterion in items(result, "success_criteria") {
            let mark = if criterion["met"] == true {
                "met"
            } else {
                "not met"
            };
            let _ = writeln!(out, "- `{}`: {mark}", text(criterion, "condition"));
        }
    }

    for recovery in items(result, "recovery") {
        let _ = writeln!(
            out,
            "\n## Recovery plan `{}` ({}): {} in {:.2}s\n",
            text(recovery, "plan"),
            text(recovery, "strategy"),
            text(recovery, "status"),
            recovery["recovery_time_seconds"].as_f64().unwrap_or(0.0)
        );
        if let Some(met) = recovery["rto_met"].as_bool() {
            let _ = writeln!(out, "RTO {}.\n", if met { "met" } else { "missed" });
        }
        let _ = writeln!(
            out,
            "| action | status | attempts | output |\n| --- | --- | --- | --- |"
        );
        for action in items(recovery, "actions") {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                text(action, "name"),
                text(action, "status"),
                action["attempts"],
                text(action, "output").replace('|', "\\|")
            );
        }
    }
    render_governance(&mut out, &result["governance"]);
    out
}

/// Appends the governance facts of a run: its risk, approvals and business
/// impact. Results stored before governance existed have none.
fn render_governance(out: &mut String, governance: &Value) {
    if governance.is_null() {
        return;
    }
    let _ = writeln!(out, "\n## Governance\n");
    let _ = writeln!(out, "- risk: {}", text(&governance["risk"], "level"));
    let _ = writeln!(out, "- scenario: `{}`", text(governance, "content_hash"));
    let _ = writeln!(out, "- policy: `{}`", text(governance, "policy_hash"));
    for role in items(governance, "approvals") {
        let by: Vec<&str> = items(role, "approved_by")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let _ = writeln!(
            out,
            "- approval `{}`: {}",
            text(role, "role"),
            by.join(", ")
        );
    }
    let money = |list: &Value| {
        let amounts: Vec<String> = list
            .as_array()
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|m| {
                format!(
                    "{:.2} {}",
                    m["amount"].as_f64().unwrap_or(0.0),
                    text(m, "currency")
                )
            })
            .collect();
        if amounts.is_empty() {
            "unknown".to_owned()
        } else {
            amounts.join(" + ")
        }
    };
    let impact = &governance["impact"];
    let _ = writeln!(
        out,
        "- worst case: {:.0}s down, estimated cost {}, up to {} customers",
        impact["worst_case_seconds"].as_f64().unwrap_or(0.0),
        money(&impact["cost"]),
        impact["customers"]
    );
    let _ = writeln!(
        out,
        "- observed cost of the faults: {}",
        money(&governance["observed_impact"]["cost"])
    );
}

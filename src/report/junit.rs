//! The JUnit XML report of a run, for CI systems: one test case per step,
//! per success criterion, per recovery plan and for the steady state.

use std::fmt::Write;

use serde_json::Value;

use super::{items, text};

/// A test case of the report.
struct Case {
    class: &'static str,
    name: String,
    failure: Option<String>,
}

/// Renders a run result as JUnit XML.
pub fn render_junit(result: &Value) -> String {
    let mut cases = Vec::new();
    let held = |key: &str| result["steady_state"][key].as_bool();
    for (name, key) in [
        ("before injection", "held_before"),
        ("after rollback", "held_after"),
    ] {
        if let Some(ok) = held(key) {
            cases.push(Case {
                class: "steady_state",
                name: name.to_owned(),
                failure: (!ok).then(|| "the steady state did not hold".to_owned()),
            });
        }
    }
    for step in items(result, "steps") {
        let ok = text(step, "status") == "reverted";
        cases.push(Case {
            class: "step",
            name: text(step, "name").to_owned(),
            failure: (!ok).then(|| format!("{}: {}", text(step, "status"), text(step, "error"))),
        });
    }
    for criterion in items(result, "success_criteria") {
        cases.push(Case {
            class: "success",
            name: text(criterion, "condition").to_owned(),
            failure: (criterion["met"] != true).then(|| "not met".to_owned()),
        });
    }
    for recovery in items(result, "recovery") {
        let ok = text(recovery, "status") == "completed";
        cases.push(Case {
            class: "recovery",
            name: text(recovery, "plan").to_owned(),
            failure: (!ok).then(|| format!("ended {}", text(recovery, "status"))),
        });
    }

    let failures = cases.iter().filter(|case| case.failure.is_some()).count();
    let suite = escape(text(result, "experiment"));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\" timestamp=\"{}\">",
        cases.len(),
        result["duration_seconds"].as_f64().unwrap_or(0.0),
        escape(text(result, "started_at"))
    );
    for case in cases {
        let name = escape(&case.name);
        match case.failure {
            None => {
                let _ = writeln!(
                    out,
                    "  <testcase classname=\"{suite}.{}\" name=\"{name}\"/>",
                    case.class
                );
            }
            Some(message) => {
                let _ = writeln!(
                    out,
                    "  <testcase classname=\"{suite}.{}\" name=\"{name}\">",
                    case.class
                );
                let _ = writeln!(out, "    <failure message=\"{}\"/>", escape(&message));
                let _ = writeln!(out, "  </testcase>");
            }
        }
    }
    out.push_str("</testsuite>\n");
    out
}

/// Escapes text for an XML attribute.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

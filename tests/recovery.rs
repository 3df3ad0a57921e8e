//! Recovery plans run as dependency graphs: independent actions start
//! together, a failed action skips exactly its dependants and makes the
//! execution partial, timeouts are enforced, and the checker's critical path
//! matches the slowest chain measured.

mod common;

use chrono::DateTime;
use common::{Sandbox, output};

fn drill(sandbox: &Sandbox, actions: &str, rto: &str) -> serde_json::Value {
    let text = format!(
        r#"experiment drill {{
    category = application
    severity = low
    duration = 5m
    recovery plan restore (strategy = gradual_recovery, rto = {rto}) {{
{actions}
    }}
}}
"#
    );
    let file = sandbox.write("drill.chaos", &text);
    let result = output(
        sandbox
            .chaosc()
            .args(["recover", "--format", "json", "--plan", "restore"])
            .arg(&file),
    );
    let json = common::json(&result);
    sandbox.assert_no_journal();
    json
}

fn action<'a>(result: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    result["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|action| action["name"] == name)
        .unwrap()
}

fn seconds(value: &serde_json::Value, key: &str) -> f64 {
    let at = DateTime::parse_from_rfc3339(value[key].as_str().unwrap()).unwrap();
    at.timestamp_micros() as f64 / 1e6
}

#[test]
fn independent_actions_run_in_parallel() {
    let sandbox = Sandbox::new();
    let result = drill(
        &sandbox,
        "        action left = command [\"sleep\", \"1\"] timeout 5s\n\
         \x20       action right = command [\"sleep\", \"1\"] timeout 5s\n\
         \x20       action join = wait 100ms after left, right",
        "10m",
    );
    assert_eq!(result["status"], "completed");
    let (left, right, join) = (
        action(&result, "left"),
        action(&result, "right"),
        action(&result, "join"),
    );
    assert!(
        (seconds(left, "started_at") - seconds(right, "started_at")).abs() < 0.3,
        "left and right did not start together"
    );
    assert!(seconds(join, "started_at") >= seconds(left, "ended_at"));
    assert!(seconds(join, "started_at") >= seconds(right, "ended_at"));
    let total = result["recovery_time_seconds"].as_f64().unwrap();
    assert!(
        (1.0..1.8).contains(&total),
        "two parallel 1s actions took {total}s"
    );
}

#[test]
fn priority_orders_actions_that_compete() {
    let sandbox = Sandbox::new();
    let result = drill(
        &sandbox,
        "        action low = command [\"true\"] priority 1\n\
         \x20       action high = command [\"true\"] priority 9",
        "20m",
    );
    assert!(
        seconds(action(&result, "high"), "started_at")
            <= seconds(action(&result, "low"), "started_at")
    );
}

#[test]
fn failed_action_skips_its_dependants() {
    let sandbox = Sandbox::new();
    let result = drill(
        &sandbox,
        "        action broken = command [\"false\"] timeout 5s retries 1\n\
         \x20       action after_broken = wait 10ms after broken\n\
         \x20       action after_that = wait 10ms after after_broken\n\
         \x20       action independent = wait 10ms",
        "30m",
    );
    assert_eq!(result["status"], "partial");
    assert_eq!(action(&result, "broken")["status"], "failed");
    assert_eq!(action(&result, "broken")["attempts"], 2);
    assert_eq!(action(&result, "after_broken")["status"], "skipped");
    assert_eq!(action(&result, "after_that")["status"], "skipped");
    assert_eq!(action(&result, "independent")["status"], "completed");
}

#[test]
fn action_timeout_is_enforced() {
    let sandbox = Sandbox::new();
    let result = drill(
        &sandbox,
        "        action slow = command [\"sleep\", \"10\"] timeout 500ms",
        "30s",
    );
    let slow = action(&result, "slow");
    assert_eq!(slow["status"], "failed");
    assert!(slow["output"].as_str().unwrap().contains("timed out"));
    let took = seconds(slow, "ended_at") - seconds(slow, "started_at");
    assert!((0.4..2.0).contains(&took), "a 500ms timeout took {took}s");
    assert_eq!(result["status"], "failed");
}

#[test]
fn measured_time_matches_critical_path() {
    let sandbox = Sandbox::new();
    // The chain a -> b (1.5s in all) is slower than c (0.5s). Each action
    // waits 10ms less than its timeout, since a wait must end before its
    // timeout, so the run takes about the checker's critical path.
    let actions = "        action a = wait 990ms timeout 1s\n\
         \x20       action b = wait 490ms timeout 500ms after a\n\
         \x20       action c = wait 490ms timeout 500ms";
    let plan = output(sandbox.chaosc().arg("plan").arg(sandbox.write(
        "plan.chaos",
        &format!(
            "experiment drill {{\n    category = application\n    severity = low\n    duration = 5m\n    recovery plan restore (rto = 30s) {{\n{actions}\n    }}\n}}\n"
        ),
    )));
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("critical path a -> b = 1500ms"), "{text}");

    let result = drill(&sandbox, actions, "30s");
    let measured = result["recovery_time_seconds"].as_f64().unwrap();
    assert!(
        (1.45..2.0).contains(&measured),
        "critical path 1.5s, measured {measured}s"
    );
    assert_eq!(result["rto_met"], true);
}

#[test]
fn missed_rto_fails_the_drill() {
    let sandbox = Sandbox::new();
    let text = "experiment drill {\n    category = application\n    severity = low\n    duration = 5m\n    recovery plan restore (rto = 2s) {\n        action a = wait 1s timeout 3s\n    }\n}\n";
    let checked = output(
        sandbox
            .chaosc()
            .arg("check")
            .arg(sandbox.write("slow.chaos", text)),
    );
    assert_eq!(
        checked.status.code(),
        Some(1),
        "the checker should reject a critical path above the RTO"
    );
    assert!(String::from_utf8_lossy(&checked.stderr).contains("chaos::E0405"));
}

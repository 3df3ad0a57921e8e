//! Each recovery strategy runs as a scenario on real processes and a real
//! proxy, and reaches the outcome the strategy promises, observed through
//! the proxy's own counts and the actions' observations.

mod common;

use common::{Sandbox, output, repo};

fn run(scenario: &str) -> serde_json::Value {
    run_experiment(scenario, None)
}

/// Runs one experiment of a scenario, or its only one, and checks that it
/// completed with every fault reverted.
fn run_experiment(scenario: &str, experiment: Option<&str>) -> serde_json::Value {
    let sandbox = Sandbox::new();
    let mut command = sandbox.chaosc();
    command
        .current_dir(repo())
        .args(["run", "--quiet", "--format", "json"]);
    if let Some(experiment) = experiment {
        command.args(["--experiment", experiment]);
    }
    let result = output(command.arg(scenario));
    let json = common::json(&result);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{scenario} {experiment:?}: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(json["status"], "completed", "{scenario} {experiment:?}");
    assert_eq!(json["rollback_complete"], true, "{scenario} {experiment:?}");
    sandbox.assert_no_journal();
    json
}

fn action<'a>(result: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    result["recovery"][0]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()
}

fn output_of(result: &serde_json::Value, name: &str) -> String {
    let action = action(result, name);
    assert_eq!(action["status"], "completed", "{action}");
    action["output"].as_str().unwrap().to_owned()
}

/// Reads `key=N` from an action's output.
fn count(text: &str, key: &str) -> u64 {
    let start = text
        .find(&format!("{key}="))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        + key.len()
        + 1;
    text[start..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn blue_green_failover_moves_traffic_to_green() {
    let result = run("scenarios/blue_green_failover.chaos");
    assert_eq!(result["recovery"][0]["strategy"], "blue_green_failover");
    assert!(output_of(&result, "switch").contains("now forwards to 127.0.0.1:19202"));
    // The probe's expectation reads the body: the answer came from green.
    assert_eq!(output_of(&result, "confirm"), "probe `on_green` passed");
    assert_eq!(result["recovery"][0]["rto_met"], true);
}

#[test]
fn load_shedding_rejects_a_share_of_clients() {
    let result = run("scenarios/load_shedding.chaos");
    let shed = result["recovery"][0]["proxies"]["front"]["shed"]
        .as_u64()
        .unwrap();
    let clients = output_of(&result, "clients");
    let (ok, failed) = (count(&clients, "ok"), count(&clients, "failed"));
    assert_eq!(ok + failed, 20);
    assert!(shed >= 3, "only {shed} of 20 connections shed at 50%");
    assert!(ok >= 3, "only {ok} of 20 clients served at 50% shedding");
    assert!(
        failed >= shed.min(20) / 2,
        "{failed} failures for {shed} shed connections"
    );
}

#[test]
fn circuit_breaker_fails_fast_then_closes() {
    let result = run("scenarios/circuit_breaker.chaos");
    let counts = &result["recovery"][0]["proxies"]["front"];
    let failed_fast = counts["failed_fast"].as_u64().unwrap();
    let clients = output_of(&result, "clients");
    assert_eq!(
        count(&clients, "failed"),
        10,
        "the service was down: {clients}"
    );
    // Three upstream failures open the circuit; most of the other clients
    // are refused without an upstream connection being tried.
    assert!(failed_fast >= 4, "only {failed_fast} clients failed fast");
    // Once the service is back, a trial connection closes the circuit.
    assert_eq!(output_of(&result, "confirm"), "probe `home` passed");
}

#[test]
fn gradual_recovery_ramps_latency_down() {
    let result = run("scenarios/gradual_recovery.chaos");
    let fault = &result["faults"][0];
    let ramp = fault["ramp"].as_array().unwrap();
    let levels: Vec<f64> = ramp
        .iter()
        .map(|step| step["level"].as_f64().unwrap())
        .collect();
    assert_eq!(levels, vec![0.75, 0.5, 0.25]);
    // Each level's round trip is below the one before: the delay shrinks
    // step by step (400ms at full strength).
    let trips: Vec<f64> = ramp
        .iter()
        .map(|step| {
            let text = step["observed"].as_str().unwrap();
            text.split("round trip ")
                .nth(1)
                .unwrap()
                .trim_end_matches("ms")
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        (290.0..360.0).contains(&trips[0]),
        "75% of 400ms: {trips:?}"
    );
    assert!(
        trips[0] > trips[1] && trips[1] > trips[2],
        "not decreasing: {trips:?}"
    );
    assert_eq!(fault["rollback"], "reverted");
    assert!(
        fault["rollback_detail"]
            .as_str()
            .unwrap()
            .contains("round trip back to")
    );
}

#[test]
fn stdlib_templates_run_like_written_plans() {
    const SCENARIO: &str = "scenarios/recovery_templates.chaos";
    // Each experiment's plan is made from one template of `std::recovery`,
    // and its actions run and report as a plan written by hand does.
    // Each case: the experiment, its strategy, and each action's name with
    // a part of its expected output.
    type Outputs<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&str, &str, Outputs); 5] = [
        (
            "restart_from_template",
            "immediate_rollback",
            &[
                ("restart", "restarted `blue`"),
                ("verify", "probe `served` passed"),
            ],
        ),
        (
            "staged_from_template",
            "gradual_recovery",
            &[
                ("restart", "restarted `blue`"),
                ("admit_quarter", "over 1s at 75%"),
                ("admit_half", "over 1s at 50%"),
                ("admit_most", "over 1s at 25%"),
                ("verify", "probe `served` passed"),
            ],
        ),
        (
            "switch_from_template",
            "blue_green_failover",
            &[
                ("restart_blue", "restarted `blue`"),
                ("switch", "now forwards to 127.0.0.1:19242"),
                ("confirm", "probe `on_green` passed"),
            ],
        ),
        (
            "breaker_from_template",
            "circuit_breaker",
            &[
                ("arm", "fails fast after 3 upstream failures"),
                ("restart", "restarted `blue`"),
                ("half_open", "waited 2s"),
                ("verify", "probe `served` passed"),
            ],
        ),
        (
            "shed_from_template",
            "load_shedding",
            &[
                ("shed", "over 3s at 50%"),
                ("restart", "restarted `blue`"),
                ("verify", "probe `served` passed"),
            ],
        ),
    ];
    for (experiment, strategy, outputs) in cases {
        let result = run_experiment(SCENARIO, Some(experiment));
        assert_eq!(result["recovery"][0]["strategy"], strategy, "{experiment}");
        assert_eq!(result["recovery"][0]["rto_met"], true, "{experiment}");
        let actions = result["recovery"][0]["actions"].as_array().unwrap();
        assert_eq!(actions.len(), outputs.len(), "{experiment}: {actions:?}");
        for (name, expected) in outputs {
            let output = output_of(&result, name);
            assert!(
                output.contains(expected),
                "{experiment}: `{name}` output {output:?}"
            );
        }
    }
}

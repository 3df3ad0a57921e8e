//! The stream and HTTP faults of the proxy, injected by the real binary on
//! a real HTTP server on loopback: each must be observed, reverted and
//! observed gone.

mod common;

use common::{assert_no_journal, faults_of, free_port, run_json, write_file};

/// Each step, the fault call, and a word its observation must contain.
const STEPS: &[(&str, &str, &str)] = &[
    ("bw_down", "bandwidth(rate = 200kbit/s)", "downstream took"),
    (
        "bw_up",
        "bandwidth(rate = 1Mbit/s, direction = upstream)",
        "upstream took",
    ),
    ("slow_down", "slow_close(delay = 300ms)", "after the data"),
    (
        "slow_up",
        "slow_close(delay = 300ms, direction = upstream)",
        "after the data",
    ),
    ("silence", "timeout(timeout = 300ms)", "closed after"),
    ("reset", "reset_peer(timeout = 100ms)", "was reset after"),
    (
        "slices",
        "slicer(average_size = 100B, size_variation = 20B, delay = 2ms)",
        "reads",
    ),
    ("limit_down", "limit_data(bytes = 1000B)", "1000 of 2024"),
    (
        "limit_up",
        "limit_data(bytes = 5000B, direction = upstream)",
        "5000 of 6024",
    ),
    ("error", "http_error(status = 503)", "status 503"),
    ("abort", "http_abort()", "0 bytes back"),
    (
        "delay",
        "http_delay(delay = 200ms, path = \"/slow\")",
        "GET /slow got status 200",
    ),
    ("forbid", "auth_failure(status = 403)", "status 403"),
    (
        "strip",
        "auth_failure(strip = true)",
        "had no `Authorization`",
    ),
];

fn scenario(web: u16, listen: u16) -> String {
    let kinds = [
        "bandwidth",
        "slow_close",
        "timeout",
        "reset_peer",
        "slicer",
        "limit_data",
        "http_error",
        "http_abort",
        "http_delay",
        "auth_failure",
    ];
    let mut steps = String::new();
    let mut previous: Option<&str> = None;
    for (name, call, _) in STEPS {
        let after = previous.map(|p| format!(" after {p}")).unwrap_or_default();
        steps.push_str(&format!(
            "    step {name} = inject {call} on front for 500ms{after}\n"
        ));
        previous = Some(name);
    }
    format!(
        r#"use std::faults::{{{kinds}}}

target web = process {{
    command = ["python3", "-m", "http.server", "{web}", "--bind", "127.0.0.1"]
    ready = 127.0.0.1:{web}
}}

target front = proxy {{ listen = 127.0.0.1:{listen}, upstream = 127.0.0.1:{web} }}

experiment proxy_faults {{
    category = network
    severity = low
    duration = 2m
    blast_radius {{ limit = 2 }}
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}
    steady_state {{
        probe home = http GET "http://127.0.0.1:{listen}/" expect status == 200 within 2s every 1s
    }}
{steps}}}
"#,
        kinds = kinds.join(", ")
    )
}

#[test]
fn proxy_faults_observed_and_reverted() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "proxy.chaos",
        &scenario(free_port(), free_port()),
    );
    let result = run_json(dir.path(), &path);

    for (step, _, evidence) in STEPS {
        let faults = faults_of(&result, step);
        assert_eq!(
            faults.len(),
            1,
            "step `{step}` applied {} faults",
            faults.len()
        );
        let fault = faults[0];
        let verification = fault["verification"].as_str().unwrap_or_default();
        assert_eq!(fault["verified"], true, "step `{step}`: {verification}");
        assert!(
            verification.contains(evidence),
            "step `{step}`: {verification}"
        );
        assert_eq!(
            fault["rollback"], "reverted",
            "step `{step}`: {}",
            fault["rollback_detail"]
        );
    }
    assert_eq!(result["status"], "completed", "{}", result["reason"]);
    assert_no_journal(dir.path());
}

#[test]
fn http_error_share_of_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (web, listen) = (free_port(), free_port());
    let text = scenario(web, listen).replace(
        "step error = inject http_error(status = 503) on front for 500ms",
        "step error = inject http_error(status = 503) on front for 500ms with probability 50%",
    );
    let path = write_file(dir.path(), "share.chaos", &text);
    let result = run_json(dir.path(), &path);
    let fault = faults_of(&result, "error")[0];
    assert_eq!(fault["verified"], true, "{}", fault["verification"]);
}

//! What a run leaves for later: the store of past runs, reports, and the
//! Prometheus metrics served during the run and written at its end.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{OwnedProcess, RunningChaosc, Sandbox, free_port, output};

fn latency_scenario(
    sandbox: &Sandbox,
    upstream: u16,
    front: u16,
    hold: &str,
) -> std::path::PathBuf {
    named_scenario(sandbox, "records", upstream, front, hold)
}

fn named_scenario(
    sandbox: &Sandbox,
    name: &str,
    upstream: u16,
    front: u16,
    hold: &str,
) -> std::path::PathBuf {
    let text = format!(
        r#"use std::faults::latency
target front = proxy {{ listen = 127.0.0.1:{front}, upstream = 127.0.0.1:{upstream} }}
experiment {name} {{
    category = network
    severity = medium
    duration = 1m
    safety {{ business_hours_only = false }}
    steady_state {{
        probe home = http GET "http://127.0.0.1:{front}/" within 2s every 200ms
    }}
    step slow = inject latency(delay = 50ms) on front for {hold}
    success {{ home.success_rate >= 90% }}
    recovery plan settle (strategy = immediate_rollback, rto = 30s) {{
        action check = probe home timeout 10s
    }}
}}
"#
    );
    sandbox.write(&format!("{name}.chaos"), &text)
}

fn scrape(port: u16) -> String {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).expect("connect to the metrics server");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn metrics_are_served_during_the_run_and_written_after() {
    let sandbox = Sandbox::new();
    let (upstream, front, metrics_port) = (free_port(), free_port(), free_port());
    let _server = OwnedProcess::http_server(upstream);
    let file = latency_scenario(&sandbox, upstream, front, "3s");
    let metrics_file = sandbox.dir.path().join("chaosc.prom");
    let run = RunningChaosc::start(
        sandbox
            .chaosc()
            .args([
                "run",
                "--metrics-addr",
                &format!("127.0.0.1:{metrics_port}"),
                "--metrics-file",
            ])
            .arg(&metrics_file)
            .arg(&file),
    );
    run.wait_for_line("step `slow`: injected", Duration::from_secs(20));

    let live = scrape(metrics_port);
    assert!(live.starts_with("HTTP/1.1 200"), "{live}");
    assert!(
        live.contains(r#"chaosc_injections_total{fault="latency",target="front"} 1"#),
        "{live}"
    );
    assert!(live.contains("chaosc_active_faults 1"), "{live}");
    assert!(live.contains("chaosc_blast_radius_size 1"), "{live}");

    let finished = run.finish(Duration::from_secs(60));
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    let written = std::fs::read_to_string(&metrics_file).expect("the metrics file");
    assert!(
        written.contains(
            r#"chaosc_experiments_total{category="network",severity="medium",status="completed"} 1"#
        ),
        "{written}"
    );
    assert!(written.contains("chaosc_active_faults 0"));
    assert!(written.contains("chaosc_recovery_time_seconds_count"));
    assert!(
        written.contains(r#"chaosc_probe_latency_seconds_count{outcome="success",probe="home"}"#)
    );
    assert!(
        written.contains("chaosc_probe_failure_ratio 0\n"),
        "{written}"
    );
    sandbox.assert_no_journal();
}

#[test]
fn history_and_reports_read_the_store() {
    let sandbox = Sandbox::new();
    let (upstream, front) = (free_port(), free_port());
    let _server = OwnedProcess::http_server(upstream);
    let file = latency_scenario(&sandbox, upstream, front, "1s");
    let run = output(
        sandbox
            .chaosc()
            .args(["run", "--format", "json"])
            .arg(&file),
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let result = common::json(&run);
    let run_id = result["run_id"].as_str().unwrap();

    let history = output(sandbox.chaosc().args(["history", "--format", "json"]));
    let rows = common::json(&history);
    assert_eq!(rows[0]["id"], run_id);
    assert_eq!(rows[0]["status"], "completed");
    assert_eq!(rows[0]["success"], true);

    let recoveries = output(
        sandbox
            .chaosc()
            .args(["history", "--recoveries", "--format", "json"]),
    );
    let rows = common::json(&recoveries);
    assert_eq!(rows[0]["run_id"], run_id);
    assert_eq!(rows[0]["plan"], "settle");
    assert_eq!(rows[0]["rto_met"], true);

    let junit = output(
        sandbox
            .chaosc()
            .args(["report", &run_id[..8], "--format", "junit"]),
    );
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"<testsuite name="records" tests="5" failures="0""#),
        "{xml}"
    );
    assert!(xml.contains(r#"name="slow""#));

    let markdown = output(sandbox.chaosc().args(["report", run_id, "--format", "md"]));
    let text = String::from_utf8_lossy(&markdown.stdout);
    assert!(
        text.starts_with("# Experiment `records`: completed"),
        "{text}"
    );
    assert!(text.contains("| slow | latency | front | reverted |"));

    let stored = output(
        sandbox
            .chaosc()
            .args(["report", run_id, "--format", "json"]),
    );
    assert_eq!(common::json(&stored)["run_id"], run_id);

    let missing = output(sandbox.chaosc().args(["report", "ffffffff"]));
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn two_runs_share_one_store() {
    let sandbox = Sandbox::new();
    let upstream = free_port();
    let _server = OwnedProcess::http_server(upstream);
    let first = named_scenario(&sandbox, "records", upstream, free_port(), "2s");
    let second = named_scenario(&sandbox, "other", upstream, free_port(), "2s");

    let a = RunningChaosc::start(sandbox.chaosc().arg("run").arg(&first));
    let b = RunningChaosc::start(sandbox.chaosc().arg("run").arg(&second));
    let (a, b) = (
        a.finish(Duration::from_secs(60)),
        b.finish(Duration::from_secs(60)),
    );
    assert_eq!(a.code, Some(0), "{}", a.stderr);
    assert_eq!(b.code, Some(0), "{}", b.stderr);

    let history = common::json(&output(
        sandbox.chaosc().args(["history", "--format", "json"]),
    ));
    assert_eq!(history.as_array().unwrap().len(), 2);
    sandbox.assert_no_journal();
}

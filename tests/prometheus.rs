//! A real Prometheus server scrapes chaosc's metrics during a run, and a
//! PromQL probe of the same run reads a chaosc metric back from it.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{OwnedProcess, RunningChaosc, Sandbox, free_port, port_accepts, wait_until};

#[test]
fn promql_probe_reads_chaosc_metric_from_prometheus() {
    let Ok(binary) = which_prometheus() else {
        panic!("the `prometheus` binary is missing; install the Debian package `prometheus`");
    };
    let sandbox = Sandbox::new();
    let (upstream, front, metrics_port, prometheus_port) =
        (free_port(), free_port(), free_port(), free_port());
    let _server = OwnedProcess::http_server(upstream);

    let config = sandbox.write(
        "prometheus.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: chaosc\n    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n"
        ),
    );
    let storage = sandbox.dir.path().join("tsdb");
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", storage.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    // Dropping it kills and reaps Prometheus on every path, panics included.
    let _prometheus = OwnedProcess { child };
    assert!(
        wait_until(Duration::from_secs(30), || port_accepts(prometheus_port)),
        "prometheus never listened"
    );

    let text = format!(
        r#"use std::faults::latency
target front = proxy {{ listen = 127.0.0.1:{front}, upstream = 127.0.0.1:{upstream} }}
experiment scraped {{
    category = network
    severity = low
    duration = 1m
    safety {{ business_hours_only = false }}
    steady_state {{ probe home = http "http://127.0.0.1:{front}/" every 500ms }}
    probe radius = promql "http://127.0.0.1:{prometheus_port}" "max(chaosc_blast_radius_size{{job=\"chaosc\"}})" expect value >= 1 every 500ms
    step slow = inject latency(delay = 10ms) on front for 8s
    success {{ radius.value_max >= 1 }}
}}
"#
    );
    let file = sandbox.write("scraped.chaos", &text);
    let run = RunningChaosc::start(
        sandbox
            .chaosc()
            .args(["run", "--format", "json"])
            .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .arg(&file),
    );
    let finished = run.finish(Duration::from_secs(60));
    let result = finished.json();
    assert_eq!(finished.code, Some(0), "stderr:\n{}", finished.stderr);
    let radius = result["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|probe| probe["name"] == "radius")
        .unwrap();
    let values: Vec<f64> = radius["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|sample| sample["value"].as_f64())
        .collect();
    assert!(values.contains(&1.0), "{radius}");
    assert_eq!(result["success_criteria"][0]["met"], true);
    sandbox.assert_no_journal();
}

fn which_prometheus() -> Result<std::path::PathBuf, ()> {
    let candidates = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"];
    candidates
        .iter()
        .map(std::path::PathBuf::from)
        .find(|path| path.exists())
        .ok_or(())
}

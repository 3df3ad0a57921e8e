//! Monitoring on real components: probes of every kind, an alert rule that
//! stops the run, notifications to a webhook, a PagerDuty-style endpoint
//! and an SMTP server that the test runs on loopback, and secrets that
//! never leak into any output.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{RunningChaosc, Sandbox, free_port, output};

/// Requests a loopback HTTP server received: (path, body).
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// Starts an HTTP server on loopback that records every request and
/// answers 202 with an empty JSON object.
fn start_http_recorder() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Received = Arc::default();
    let sink = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let sink = Arc::clone(&sink);
            std::thread::spawn(move || serve_http(stream, &sink));
        }
    });
    (port, received)
}

fn serve_http(stream: TcpStream, sink: &Received) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_owned();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    sink.lock()
        .unwrap()
        .push((path, String::from_utf8_lossy(&body).into_owned()));
    let mut stream = stream;
    let _ = stream.write_all(
        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
}

/// Starts a minimal SMTP server (RFC 5321: EHLO, AUTH PLAIN, MAIL, RCPT,
/// DATA, QUIT) that records each whole session's transcript.
fn start_smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sessions: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&sessions);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let transcript = smtp_session(stream);
            sink.lock().unwrap().push(transcript);
        }
    });
    (port, sessions)
}

fn smtp_session(stream: TcpStream) -> String {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut transcript = String::new();
    let _ = writer.write_all(b"220 loopback ESMTP test\r\n");
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        transcript.push_str(&line);
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-loopback\r\n250 AUTH PLAIN LOGIN\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
            "AUTH" => b"235 authenticated\r\n",
            "DATA" => {
                let _ = writer.write_all(b"354 end with .\r\n");
                loop {
                    let mut data = String::new();
                    if reader.read_line(&mut data).unwrap_or(0) == 0 || data == ".\r\n" {
                        break;
                    }
                    transcript.push_str(&data);
                }
                b"250 queued\r\n"
            }
            "QUIT" => {
                let _ = writer.write_all(b"221 bye\r\n");
                break;
            }
            _ => b"502 not implemented\r\n",
        };
        let _ = writer.write_all(reply);
    }
    transcript
}

/// Lists every file below `dir`.
fn files_below(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_below(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn alert_stops_run_and_notifies_every_channel() {
    let sandbox = Sandbox::new();
    let (web, front, metrics_port) = (free_port(), free_port(), free_port());
    let (hooks, requests) = start_http_recorder();
    let (smtp, sessions) = start_smtp_server();

    let slack_secret = format!("http://127.0.0.1:{hooks}/slack/T0-s3cr3t-webhook-path");
    let routing_key = "R0UT1NG-k3y-planted-0042";
    let smtp_password = "smtp-pa55word-planted";
    let key_file = sandbox.write("routing.key", &format!("{routing_key}\n"));
    let marker = sandbox.write("marker.txt", "ready\n");
    let text = format!(
        r##"use std::faults::latency
target web = process {{
    command = ["python3", "-m", "http.server", "{web}", "--bind", "127.0.0.1"]
    ready = 127.0.0.1:{web}
}}
target front = proxy {{ listen = 127.0.0.1:{front}, upstream = 127.0.0.1:{web} }}
channel team = slack {{ webhook = env("OBS_SLACK_URL") }}
channel oncall = pagerduty {{ routing_key = file("{key}"), endpoint = "http://127.0.0.1:{hooks}/pd" }}
channel mail = email {{
    to = ["sre@example.test"], from = "chaosc@example.test",
    server = "127.0.0.1:{smtp}", username = "chaos", password = env("OBS_SMTP_PASSWORD"),
    starttls = false
}}
alert faults_active {{
    description = "a fault is in place"
    severity = critical
    channels = [team, oncall]
    threshold "chaosc_active_faults" gt 0
}}
experiment watched {{
    category = network
    severity = medium
    duration = 1m
    safety {{ business_hours_only = false }}
    monitoring {{ alerts = [faults_active], channels = [mail] }}
    steady_state {{
        probe home = http GET "http://127.0.0.1:{front}/" with {{ headers = {{ accept = "text/html" }} }} expect status == 200 and body =~ "Directory listing" within 2s every 200ms
        probe alive = process web every 200ms
        probe port = tcp 127.0.0.1:{web} expect latency < 1s
        probe listing = command ["cat", "{marker}"] expect exit == 0 and output =~ "^rea" every 500ms
        probe radius = metric "http://127.0.0.1:{metrics_port}/metrics" "chaosc_blast_radius_size" expect value in 0..5 every 500ms
    }}
    step slow = inject latency(delay = 20ms) on front for 20s
    stop when alert.faults_active firing
    success {{ home.success_rate >= 90% }}
}}
"##,
        key = key_file.display(),
        marker = marker.display(),
    );
    let file = sandbox.write("watched.chaos", &text);

    let run = RunningChaosc::start(
        sandbox
            .chaosc()
            .env("OBS_SLACK_URL", &slack_secret)
            .env("OBS_SMTP_PASSWORD", smtp_password)
            .args(["-vv", "--log-format", "json", "run", "--format", "json"])
            .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .arg(&file),
    );
    let finished = run.finish(Duration::from_secs(60));
    let result = finished.json();
    assert_eq!(finished.code, Some(4), "stderr:\n{}", finished.stderr);
    let stop = result["stop"]["condition"].as_str().unwrap();
    assert!(stop.contains("alert.faults_active"), "{stop}");
    assert_eq!(result["steady_state"]["held_before"], true);
    assert_eq!(result["steady_state"]["held_after"], true);

    let alerts = result["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["rule"], "faults_active");
    assert_eq!(alerts[0]["severity"], "critical");
    assert_eq!(alerts[0]["state"], "resolved");
    let alert_id = alerts[0]["id"].as_str().unwrap().to_owned();
    let dedup_key = alerts[0]["dedup_key"].as_str().unwrap().to_owned();

    let notifications = result["notifications"].as_array().unwrap();
    let delivered = |channel: &str, event: &str| {
        notifications
            .iter()
            .any(|n| n["channel"] == channel && n["event"] == event && n["delivered"] == true)
    };
    assert!(delivered("team", "trigger"), "{notifications:?}");
    assert!(delivered("oncall", "trigger"), "{notifications:?}");
    assert!(delivered("oncall", "resolve"), "{notifications:?}");
    assert!(delivered("mail", "trigger"), "{notifications:?}");

    let requests = requests.lock().unwrap().clone();
    let slack: Vec<serde_json::Value> = requests
        .iter()
        .filter(|(path, _)| path.starts_with("/slack/"))
        .map(|(_, body)| serde_json::from_str(body).unwrap())
        .collect();
    assert!(slack[0]["text"].as_str().unwrap().contains("faults_active"));
    assert!(slack[0]["blocks"].as_array().is_some_and(|b| !b.is_empty()));
    let pagerduty: Vec<serde_json::Value> = requests
        .iter()
        .filter(|(path, _)| path == "/pd")
        .map(|(_, body)| serde_json::from_str(body).unwrap())
        .collect();
    let actions: Vec<&str> = pagerduty
        .iter()
        .map(|event| event["event_action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"trigger") && actions.contains(&"resolve"),
        "{actions:?}"
    );
    for event in &pagerduty {
        assert_eq!(event["routing_key"], routing_key);
        assert_eq!(event["dedup_key"], dedup_key.as_str());
    }
    let trigger = pagerduty
        .iter()
        .find(|e| e["event_action"] == "trigger")
        .unwrap();
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "chaosc");

    let sessions = sessions.lock().unwrap().clone();
    let mail = sessions
        .iter()
        .find(|s| s.contains("DATA"))
        .expect("an SMTP session");
    assert!(mail.contains("AUTH PLAIN"), "{mail}");
    assert!(mail.contains("RCPT TO:<sre@example.test>"), "{mail}");
    assert!(mail.contains("faults_active"), "{mail}");

    let probes = result["probes"].as_array().unwrap();
    for name in ["home", "alive", "port", "listing", "radius"] {
        let probe = probes.iter().find(|p| p["name"] == name).unwrap();
        assert!(probe["successes"].as_u64().unwrap() > 0, "{name}: {probe}");
    }
    let phases: Vec<&str> = result["health"]
        .as_array()
        .unwrap()
        .iter()
        .map(|snapshot| snapshot["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases.first(), Some(&"before"));
    assert_eq!(phases.last(), Some(&"after"));
    let before = &result["health"][0];
    assert!(before["host"]["memory_usage"].as_f64().is_some());
    assert!(before["targets"][0]["rss_bytes"].as_u64().unwrap() > 0);

    // The alert is in the store, and people can take it on.
    let history = output(sandbox.chaosc().args(["alerts", "history", "--json"]));
    assert!(String::from_utf8_lossy(&history.stdout).contains(&alert_id));
    let ack = output(
        sandbox
            .chaosc()
            .args(["alerts", "ack", &alert_id[..8], "--as", "alice"]),
    );
    assert_eq!(
        ack.status.code(),
        Some(2),
        "a resolved alert cannot be acknowledged"
    );
    let csv = output(
        sandbox
            .chaosc()
            .args(["alerts", "export", "--format", "csv"]),
    );
    let csv = String::from_utf8_lossy(&csv.stdout).into_owned();
    assert!(csv.starts_with("id,rule,"), "{csv}");
    assert!(csv.contains(&format!("{alert_id},faults_active,")), "{csv}");

    // No secret appears in any output, log line or stored file.
    let mut outputs = vec![
        String::from_utf8_lossy(&finished.stdout).into_owned(),
        finished.stderr.clone(),
        csv,
    ];
    for path in files_below(&sandbox.state_dir()) {
        outputs.push(String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned());
    }
    for secret in [
        slack_secret.as_str(),
        "s3cr3t-webhook",
        routing_key,
        smtp_password,
    ] {
        for text in &outputs {
            assert!(!text.contains(secret), "secret {secret:?} leaked");
        }
    }
    sandbox.assert_no_journal();
}

#[test]
fn alerting_off_keeps_alerts_but_sends_nothing() {
    let sandbox = Sandbox::new();
    let (web, front) = (free_port(), free_port());
    let (hooks, requests) = start_http_recorder();
    let text = format!(
        r##"use std::faults::latency
target web = process {{
    command = ["python3", "-m", "http.server", "{web}", "--bind", "127.0.0.1"]
    ready = 127.0.0.1:{web}
}}
target front = proxy {{ listen = 127.0.0.1:{front}, upstream = 127.0.0.1:{web} }}
channel team = slack {{ webhook = env("QUIET_SLACK_URL") }}
alert faults_active {{ severity = critical, threshold "chaosc_active_faults" gt 0 }}
experiment quiet {{
    category = network
    severity = medium
    duration = 1m
    safety {{ business_hours_only = false, alerting = false, monitoring = false }}
    monitoring {{ alerts = [faults_active], channels = [team] }}
    steady_state {{ probe port = tcp 127.0.0.1:{web} }}
    step slow = inject latency(delay = 20ms) on front for 7s
}}
"##
    );
    let file = sandbox.write("quiet.chaos", &text);
    let run = RunningChaosc::start(
        sandbox
            .chaosc()
            .env(
                "QUIET_SLACK_URL",
                format!("http://127.0.0.1:{hooks}/slack/quiet"),
            )
            .args(["run", "--format", "json"])
            .arg(&file),
    );
    let finished = run.finish(Duration::from_secs(60));
    let result = finished.json();

    // The rule still fires, but no channel hears of it.
    assert_eq!(finished.code, Some(0), "stderr:\n{}", finished.stderr);
    assert_eq!(result["alerts"].as_array().unwrap().len(), 1, "{result}");
    assert_eq!(result["notifications"], serde_json::json!([]), "{result}");
    assert!(requests.lock().unwrap().is_empty());
    // Without a recovery plan, recovery takes no time.
    assert_eq!(result["recovery_time_seconds"], serde_json::json!(0.0));
    // Without monitoring, the host is looked at before and after only,
    // where it would be every 5 seconds during the 7 of the step.
    let phases: Vec<&str> = result["health"]
        .as_array()
        .unwrap()
        .iter()
        .map(|snapshot| snapshot["phase"].as_str().unwrap())
        .collect();
    assert!(!phases.contains(&"during"), "{phases:?}");
}

#[test]
fn rules_fire_on_recovery_time_and_http_errors() {
    let sandbox = Sandbox::new();
    let (web, front) = (free_port(), free_port());
    let text = format!(
        r##"use std::faults::latency
target web = process {{
    command = ["python3", "-m", "http.server", "{web}", "--bind", "127.0.0.1"]
    ready = 127.0.0.1:{web}
}}
target front = proxy {{ listen = 127.0.0.1:{front}, upstream = 127.0.0.1:{web} }}
alert slow_recovery {{ severity = warning, threshold "chaosc_recovery_seconds" gt 1s }}
alert http_errors {{ severity = error, threshold "chaosc_http_error_ratio" gt 50% }}
experiment recovering {{
    category = network
    severity = low
    duration = 1m
    safety {{ business_hours_only = false }}
    monitoring {{ alerts = [slow_recovery, http_errors] }}
    steady_state {{ probe port = tcp 127.0.0.1:{web} }}
    probe missing = http "http://127.0.0.1:{web}/missing" expect status == 200 every 200ms
    step slow = inject latency(delay = 5ms) on front for 2s
    success {{ missing.failures >= 1 }}
    recovery plan settle {{ action pause = wait 3s }}
}}
"##
    );
    let file = sandbox.write("recovering.chaos", &text);
    let run = RunningChaosc::start(
        sandbox
            .chaosc()
            .args(["run", "--format", "json"])
            .arg(&file),
    );
    let finished = run.finish(Duration::from_secs(60));
    let result = finished.json();

    // The web server returns 404 for the probed path, and the recovery plan
    // waits 3 seconds, so both rules fire: the second while the plan runs.
    assert_eq!(finished.code, Some(0), "stderr:\n{}", finished.stderr);
    let fired: Vec<&str> = result["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|alert| alert["rule"].as_str().unwrap())
        .collect();
    assert!(fired.contains(&"http_errors"), "{result}");
    assert!(fired.contains(&"slow_recovery"), "{result}");
    // Fired while the plan ran: the recovery had taken less than its 3 s.
    let slow = result["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|alert| alert["rule"] == "slow_recovery")
        .unwrap();
    assert!(slow["value"].as_f64().unwrap() < 3.0, "{slow}");
}

#[test]
fn acknowledge_and_resolve_change_the_store() {
    let sandbox = Sandbox::new();
    let (upstream, front) = (free_port(), free_port());
    let _server = common::OwnedProcess::http_server(upstream);
    let text = format!(
        r#"use std::faults::latency
target front = proxy {{ listen = 127.0.0.1:{front}, upstream = 127.0.0.1:{upstream} }}
alert slow {{ severity = warning, threshold home.latency_p50 gt 1ms }}
experiment acked {{
    category = network
    severity = low
    duration = 1m
    safety {{ business_hours_only = false }}
    monitoring {{ alerts = [slow] }}
    steady_state {{ probe home = http "http://127.0.0.1:{front}/" every 200ms }}
    step slow_down = inject latency(delay = 30ms) on front for 3s
}}
"#
    );
    let file = sandbox.write("acked.chaos", &text);
    let run = output(
        sandbox
            .chaosc()
            .args(["run", "--quiet", "--format", "json"])
            .arg(&file),
    );
    let result: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let alert = &result["alerts"][0];
    assert_eq!(alert["state"], "active", "{result}");
    let id = alert["id"].as_str().unwrap();

    let list = output(sandbox.chaosc().args(["alerts", "list"]));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains(id),
        "{listed}\n{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let ack = output(
        sandbox
            .chaosc()
            .args(["alerts", "ack", id, "--as", "alice"]),
    );
    assert_eq!(ack.status.code(), Some(0));
    let listed = output(sandbox.chaosc().args(["alerts", "list", "--json"]));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["state"], "acknowledged");
    assert_eq!(listed[0]["acknowledged_by"], "alice");
    let resolve = output(sandbox.chaosc().args(["alerts", "resolve", id]));
    assert_eq!(resolve.status.code(), Some(0));
    let list = output(sandbox.chaosc().args(["alerts", "list"]));
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "no alerts");
    let unknown = output(sandbox.chaosc().args(["alerts", "resolve", "nope"]));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("E1101"));
}

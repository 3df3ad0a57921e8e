//! The `time_skew` fault on a real launched target (`python3 -m
//! http.server`). The test reads the target's clock itself, from the `Date`
//! header of its responses. The clock must be shifted while the fault is
//! active and back after rollback, and no process may keep a shifted clock
//! after a run is killed and recovered by `chaosc recover` or the guardian.
//!
//! Needs libfaketime (`apt-get install faketime`).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{RunningChaosc, Sandbox, free_port, output, pids_with, port_accepts, wait_until};

/// How far, in seconds, a clock read from a `Date` header may be from the
/// expected value: the header has whole seconds, and a loaded host may
/// delay the response.
const TOLERANCE: f64 = 3.0;

/// Returns a scenario that launches a web server on `port` and shifts its
/// clock by `offset` (written as in a `.chaos` file) for `hold`.
fn scenario(port: u16, offset: &str, hold: &str) -> String {
    format!(
        r#"use std::faults::{{latency, time_skew}}

target web = process {{
    command = ["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
    ready = 127.0.0.1:{port}
}}

target front = proxy {{ listen = 127.0.0.1:{front}, upstream = 127.0.0.1:{port} }}

experiment skew {{
    category = infrastructure
    severity = low
    duration = 2m
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}

    step shift = inject time_skew({offset}) on web for {hold}
    // Keeps the run, and so the web server with its real clock back, up
    // for a while after the skew is reverted.
    step linger = inject latency(delay = 1ms) on front for 4s after shift

    recovery plan restore (rto = 1m) {{
        action restart_web = restart web timeout 20s
    }}
}}
"#,
        front = free_port()
    )
}

/// Reads the clock of the HTTP server on `port` from the `Date` header of
/// its response, and returns how many seconds it is ahead of this host's
/// clock (negative when behind), or why it could not be read.
fn clock_offset(port: u16) -> Result<f64, String> {
    let address: SocketAddr = ([127, 0, 0, 1], port).into();
    let sent = now();
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))
        .map_err(|error| format!("connect to {address}: {error}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|error| error.to_string())?;
    stream
        .write_all(b"HEAD / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .map_err(|error| format!("send to {address}: {error}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|error| format!("read from {address}: {error}"))?;
    let received = now();

    let date = response
        .lines()
        .find_map(|line| line.strip_prefix("Date: "))
        .ok_or_else(|| format!("no `Date` header in {response:?}"))?;
    let date = chrono::DateTime::parse_from_rfc2822(date.trim())
        .map_err(|error| format!("`{date}` is not an HTTP date: {error}"))?;
    // The header has whole seconds: the server's clock read half a second
    // more on average, at a moment half-way through the exchange.
    let server = date.timestamp() as f64 + 0.5;
    Ok(server - (sent + received) / 2.0)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Reads the clock of the server on `port` until it is `expected` seconds
/// off, for at most `limit`. Returns the last offset read, or the error.
fn wait_for_offset(port: u16, expected: f64, limit: Duration) -> Result<f64, String> {
    let mut last = Err("not read".to_owned());
    wait_until(limit, || {
        last = clock_offset(port);
        last.as_ref()
            .is_ok_and(|offset| (offset - expected).abs() <= TOLERANCE)
    });
    match last {
        Ok(offset) if (offset - expected).abs() <= TOLERANCE => Ok(offset),
        Ok(offset) => Err(format!("the clock is {offset:.1}s off, not {expected}s")),
        Err(error) => Err(error),
    }
}

/// Tells whether the process `pid` has libfaketime mapped, read from
/// `/proc/PID/maps`: the shared object is loaded only through the preload.
fn has_libfaketime(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .is_ok_and(|maps| maps.contains("libfaketime"))
}

/// Returns the files that libfaketime 0.9.10 keeps in `/dev/shm` for the
/// processes `pids`, named after them, which are left behind when such a
/// process is ended by a signal.
fn libfaketime_files(pids: &[u32]) -> Vec<String> {
    let names = pids.iter().flat_map(|pid| {
        [
            format!("/dev/shm/faketime_shm_{pid}"),
            format!("/dev/shm/sem.faketime_sem_{pid}"),
        ]
    });
    names
        .filter(|name| std::path::Path::new(name).exists())
        .collect()
}

/// Ends the processes whose command line contains `marker` and waits until
/// they are gone and `port` is free.
fn stop_servers(marker: &str, port: u16) {
    for pid in pids_with(marker) {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    assert!(
        wait_until(Duration::from_secs(5), || pids_with(marker).is_empty()),
        "servers left: {:?}",
        pids_with(marker)
    );
    assert!(
        wait_until(Duration::from_secs(5), || !port_accepts(port)),
        "port {port} still accepts connections"
    );
}

/// Runs a skew of `offset` and checks the target's clock while it is in
/// place and after it is reverted.
fn skew_measured_and_reverted(offset: &str, expected: f64, direction: &str) {
    let sandbox = Sandbox::new();
    let port = free_port();
    let marker = format!("http.server {port}");
    let file = sandbox.write("skew.chaos", &scenario(port, offset, "6s"));
    let run = RunningChaosc::start(
        sandbox
            .chaosc()
            .args(["run", "--format", "json"])
            .arg(&file),
    );

    run.wait_for_line("step `shift`: injected", Duration::from_secs(30));
    let during = wait_for_offset(port, expected, Duration::from_secs(3));
    let skewed: Vec<u32> = pids_with(&marker);
    let preloaded = skewed.iter().any(|pid| has_libfaketime(*pid));

    // The step line is printed when the revert is done. The fault's own
    // line is printed only in the closing summary, as the server stops.
    run.wait_for_line("step `shift`: reverted", Duration::from_secs(30));
    let after = wait_for_offset(port, 0.0, Duration::from_secs(5));
    let finished = run.finish(Duration::from_secs(60));

    assert!(during.is_ok(), "while skewed: {during:?}");
    assert!(preloaded, "no process of {skewed:?} has libfaketime mapped");
    assert!(after.is_ok(), "after the revert: {after:?}");
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    let result = finished.json();
    let fault = &result["faults"][0];
    let verification = fault["verification"].as_str().unwrap_or_default();
    assert_eq!(fault["verified"], true, "{verification}");
    assert!(
        verification.contains(&format!("{}s {direction}", expected.abs())),
        "{verification}"
    );
    assert_eq!(
        fault["rollback"], "reverted",
        "{}",
        fault["rollback_detail"]
    );
    assert!(
        wait_until(Duration::from_secs(5), || pids_with(&marker).is_empty()),
        "the run left servers: {:?}",
        pids_with(&marker)
    );
    assert!(!port_accepts(port), "port {port} still accepts connections");
    let left = libfaketime_files(&skewed);
    assert!(left.is_empty(), "libfaketime files left: {left:?}");
    sandbox.assert_no_journal();
}

#[test]
fn skew_ahead_measured_and_reverted() {
    skew_measured_and_reverted("offset = 1h", 3600.0, "ahead");
}

#[test]
fn skew_behind_measured_and_reverted() {
    skew_measured_and_reverted("offset = 90s, backward = true", -90.0, "behind");
}

/// A server that responds to every request with an empty `200 OK` and no
/// `Date` header, so that its clock cannot be read.
const SERVER_WITHOUT_DATE: &str = r#"import socket, sys

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen()
while True:
    connection, _ = server.accept()
    connection.recv(4096)
    connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    connection.close()
"#;

#[test]
fn target_without_clock_left_untouched() {
    let sandbox = Sandbox::new();
    let port = free_port();
    let server = sandbox.write("server.py", SERVER_WITHOUT_DATE);
    let text = scenario(port, "offset = 1h", "5s").replace(
        &format!(r#"["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]"#),
        &format!(r#"["python3", "{}", "{port}"]"#, server.display()),
    );
    let file = sandbox.write("skew.chaos", &text);
    let finished = RunningChaosc::start(
        sandbox
            .chaosc()
            .args(["run", "--format", "json"])
            .arg(&file),
    )
    .finish(Duration::from_secs(60));

    assert_eq!(finished.code, Some(3), "{}", finished.stderr);
    let launches = finished.stderr.matches("launched `web` as process").count();
    assert_eq!(
        launches, 1,
        "the target was restarted:\n{}",
        finished.stderr
    );
    let result = finished.json();
    let fault = &result["faults"][0];
    let verification = fault["verification"].as_str().unwrap_or_default();
    assert_eq!(fault["verified"], false, "{verification}");
    assert!(verification.contains("no `Date` header"), "{verification}");
    assert!(
        wait_until(Duration::from_secs(5), || !port_accepts(port)),
        "port {port} still accepts connections"
    );
    assert!(pids_with(&server.display().to_string()).is_empty());
    sandbox.assert_no_journal();
}

/// Starts a run with a long skew, waits until it is injected, kills the
/// run with SIGKILL, and returns the pids of the target's processes then.
fn kill_run_during_skew(sandbox: &Sandbox, port: u16, guardian: bool) -> Vec<u32> {
    let file = sandbox.write("skew.chaos", &scenario(port, "offset = 1h", "60s"));
    let mut command = sandbox.chaosc();
    command.arg("run");
    if !guardian {
        command.arg("--no-guardian");
    }
    let run = RunningChaosc::start(command.arg(&file));
    run.wait_for_line("step `shift`: injected", Duration::from_secs(30));
    let skewed = pids_with(&format!("http.server {port}"));
    run.signal("KILL");
    let finished = run.finish(Duration::from_secs(10));
    assert_eq!(finished.code, None, "chaosc was not killed");
    skewed
}

#[test]
fn recover_after_sigkill_unskews_target() {
    let sandbox = Sandbox::new();
    let port = free_port();
    let marker = format!("http.server {port}");
    let skewed = kill_run_during_skew(&sandbox, port, false);

    // Nothing reverted the skew: it outlived its run.
    let outlived = wait_for_offset(port, 3600.0, Duration::from_secs(3));
    let recovered = output(sandbox.chaosc().arg("recover"));
    let unskewed = wait_for_offset(port, 0.0, Duration::from_secs(10));
    let servers = pids_with(&marker);
    let preloaded: Vec<u32> = servers
        .iter()
        .copied()
        .filter(|pid| has_libfaketime(*pid))
        .collect();
    let journals = sandbox.journals();
    let left = libfaketime_files(&skewed);
    // The restarted target is the test's to stop, whatever was found.
    stop_servers(&marker, port);

    assert!(outlived.is_ok(), "after the kill: {outlived:?}");
    assert_eq!(
        recovered.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&recovered.stdout)
    );
    assert!(unskewed.is_ok(), "after recover: {unskewed:?}");
    assert!(
        preloaded.is_empty(),
        "processes with libfaketime: {preloaded:?}"
    );
    assert_eq!(servers.len(), 1, "servers after recover: {servers:?}");
    assert!(
        servers.iter().all(|pid| !skewed.contains(pid)),
        "the skewed server {skewed:?} still runs"
    );
    assert!(left.is_empty(), "libfaketime files left: {left:?}");
    assert!(journals.is_empty(), "journals left: {journals:?}");
}

#[test]
fn guardian_ends_skewed_target() {
    let sandbox = Sandbox::new();
    let port = free_port();
    let marker = format!("http.server {port}");
    let skewed = kill_run_during_skew(&sandbox, port, true);

    // The guardian stops every target of the dead run, the skewed one
    // included, and starts nothing again.
    let ended = wait_until(Duration::from_secs(15), || pids_with(&marker).is_empty());
    let left = pids_with(&marker);
    let journal_gone = wait_until(Duration::from_secs(5), || sandbox.journals().is_empty());
    let files = libfaketime_files(&skewed);
    stop_servers(&marker, port);

    assert!(!skewed.is_empty(), "no server ran when the run was killed");
    assert!(ended, "the guardian left servers: {left:?}");
    assert!(journal_gone, "the guardian left the journal");
    assert!(files.is_empty(), "libfaketime files left: {files:?}");
    let recovered = output(sandbox.chaosc().arg("recover"));
    assert_eq!(recovered.status.code(), Some(0));
}

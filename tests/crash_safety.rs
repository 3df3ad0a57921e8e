//! Crash trials. `chaosc run --no-guardian` applies faults of every kind:
//! the proxy faults, a paused and a killed process, file corruption,
//! configuration drift and a disk fill, and CPU, memory and I/O stress. A
//! clock skew is added where libfaketime is installed, and as root a cgroup
//! limit, netem, a bandwidth limit and a partition in namespaces the test
//! creates. The run is stopped at a moment drawn from a seeded generator:
//! by SIGKILL in every other trial, else by SIGTERM, SIGINT or a panic
//! injected into the run. After each trial `chaosc recover --stop-targets` must leave the
//! machine as it was before the run, no journal behind, an intact audit
//! chain and a readable store.
//!
//! The trials are reproducible: the seed and each trial's stop and delay
//! are printed. `CHAOSC_CRASH_TRIALS=400 cargo test --test crash_safety --
//! --nocapture` runs more trials (the default is 100, a few minutes on two
//! cores), and `CHAOSC_CRASH_SEED=N` replays a seed.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::netns::{self, Link};
use common::{
    OwnedProcess, Sandbox, free_port, pids_with, port_accepts, process_state, wait_until,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const DEFAULT_TRIALS: u64 = 100;
const DEFAULT_SEED: u64 = 0x00c4_a05c;

/// The latest moment, after `chaosc run` starts, at which a run is stopped.
/// A run of each scenario below takes about two seconds in the debug build,
/// so this covers set-up, injection, the hold and most rollbacks.
const MAX_DELAY_MS: u64 = 1800;

/// The exit code of a run with a fault that could not be reverted.
const NOT_REVERTED: i32 = 5;

/// The exit code of a Rust program that panicked.
const PANICKED: i32 = 101;

/// A SplitMix64 generator: small, seedable and the same on every platform.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not `{value}`")),
        Err(_) => default,
    }
}

/// How a trial ends the run.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Signal(Signal),
    /// A panic in the run's main task (`CHAOSC_PANIC_AFTER_MS`).
    Panic,
}

/// A scenario with a group of fault kinds, and the state the machine must
/// be back in after each trial.
trait Fixture {
    fn name(&self) -> &'static str;
    fn file(&self) -> &Path;
    /// Panics when the run left anything of its faults or targets behind.
    fn assert_clean(&self, trial: &str);
}

/// Returns the head of a trial scenario: the `use` of `kinds`, the targets
/// and the experiment's settings, up to its steps.
fn scenario_head(kinds: &str, targets: &str, category: &str, limit: usize) -> String {
    format!(
        r#"use std::faults::{{{kinds}}}

{targets}
experiment crash {{
    category = {category}
    severity = low
    duration = 1m
    blast_radius {{ limit = {limit} }}
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}

"#
    )
}

/// The proxy faults, each on its own proxy in front of one HTTP server.
struct ProxyFaults {
    file: PathBuf,
    ports: Vec<u16>,
    _backend: OwnedProcess,
}

const PROXY_STEPS: &[(&str, &str)] = &[
    ("latency", "latency(delay = 100ms)"),
    ("bandwidth", "bandwidth(rate = 100kbit/s)"),
    ("slow_close", "slow_close(delay = 200ms)"),
    ("timeout", "timeout(timeout = 200ms)"),
    ("reset_peer", "reset_peer()"),
    ("slicer", "slicer()"),
    ("limit_data", "limit_data(bytes = 10B)"),
    ("blackhole", "blackhole()"),
    ("http_error", "http_error(status = 503)"),
    ("http_abort", "http_abort()"),
    ("http_delay", "http_delay(delay = 100ms)"),
    ("auth_failure", "auth_failure(strip = true)"),
];

impl ProxyFaults {
    fn new(sandbox: &Sandbox) -> Self {
        let backend_port = free_port();
        let backend = OwnedProcess::http_server(backend_port);
        let ports: Vec<u16> = PROXY_STEPS.iter().map(|_| free_port()).collect();
        let kinds: Vec<&str> = PROXY_STEPS.iter().map(|(kind, _)| *kind).collect();
        let mut targets = String::new();
        let mut steps = String::new();
        for ((kind, call), port) in PROXY_STEPS.iter().zip(&ports) {
            targets.push_str(&format!(
                "target p_{kind} = proxy {{ listen = 127.0.0.1:{port}, upstream = 127.0.0.1:{backend_port} }}\n"
            ));
            steps.push_str(&format!(
                "    step s_{kind} = inject {call} on p_{kind} for 1s\n"
            ));
        }
        let text =
            scenario_head(&kinds.join(", "), &targets, "network", ports.len()) + &steps + "}\n";
        ProxyFaults {
            file: sandbox.write("proxy.chaos", &text),
            ports,
            _backend: backend,
        }
    }
}

impl Fixture for ProxyFaults {
    fn name(&self) -> &'static str {
        "proxy"
    }

    fn file(&self) -> &Path {
        &self.file
    }

    fn assert_clean(&self, trial: &str) {
        for port in &self.ports {
            assert!(
                wait_until(Duration::from_secs(2), || !port_accepts(*port)),
                "{trial}: a proxy of the dead run still listens on {port}"
            );
        }
    }
}

/// A paused process the test owns and a killed process the run launched.
struct ProcessFaults {
    file: PathBuf,
    app: OwnedProcess,
    /// A string in the launched target's command line.
    marker: String,
}

impl ProcessFaults {
    fn new(sandbox: &Sandbox) -> Self {
        let app = OwnedProcess::http_server(free_port());
        let pid_file = sandbox.write("app.pid", &app.pid().to_string());
        let worker_port = free_port();
        let www = sandbox.write("www/index.html", "crash trial\n");
        let www = www.parent().unwrap().display().to_string();
        let targets = format!(
            r#"target app = process {{ pid_file = "{pid_file}" }}
target worker = process {{
    command = ["python3", "-m", "http.server", "{worker_port}", "--bind", "127.0.0.1", "--directory", "{www}"]
    ready = 127.0.0.1:{worker_port}
}}
"#,
            pid_file = pid_file.display()
        );
        let steps = "    step freeze = inject process_pause() on app for 1s\n    \
                     step end = inject process_kill() on worker for 1s\n\n    \
                     recovery plan back (rto = 1m) {\n        \
                     action revive = restart worker timeout 20s\n    \
                     }\n}\n";
        let text = scenario_head("process_pause, process_kill", &targets, "compute", 2) + steps;
        ProcessFaults {
            file: sandbox.write("process.chaos", &text),
            app,
            marker: www,
        }
    }
}

impl Fixture for ProcessFaults {
    fn name(&self) -> &'static str {
        "process"
    }

    fn file(&self) -> &Path {
        &self.file
    }

    fn assert_clean(&self, trial: &str) {
        let running = wait_until(Duration::from_secs(2), || {
            process_state(self.app.pid()).is_some_and(|state| state != 'T')
        });
        assert!(
            running,
            "{trial}: the app is {:?}, not running",
            process_state(self.app.pid())
        );
        assert!(
            wait_until(Duration::from_secs(2), || pids_with(&self.marker)
                .is_empty()),
            "{trial}: launched targets left running: {:?}",
            pids_with(&self.marker)
        );
    }
}

/// A launched target restarted under libfaketime with its clock an hour
/// ahead.
struct ClockFaults {
    file: PathBuf,
    /// A string in the launched target's command line.
    marker: String,
    /// Files of libfaketime for ended processes that existed before the
    /// trials began. These are not leftovers of the trials.
    stale_before: BTreeSet<String>,
}

/// Returns the files in `/dev/shm` that libfaketime names after a process
/// that no longer exists.
fn stale_libfaketime_files() -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir("/dev/shm") else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| {
            let pid = name
                .strip_prefix("faketime_shm_")
                .or_else(|| name.strip_prefix("sem.faketime_sem_"));
            pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists())
        })
        .collect()
}

impl ClockFaults {
    fn new(sandbox: &Sandbox) -> Self {
        let port = free_port();
        let www = sandbox.write("clock/index.html", "crash trial\n");
        let www = www.parent().unwrap().display().to_string();
        let targets = format!(
            r#"target clock = process {{
    command = ["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1", "--directory", "{www}"]
    ready = 127.0.0.1:{port}
}}
"#
        );
        let steps = "    step ahead = inject time_skew(offset = 1h) on clock for 1s\n\n    \
                     recovery plan back (rto = 1m) {\n        \
                     action revive = restart clock timeout 20s\n    \
                     }\n}\n";
        let text = scenario_head("time_skew", &targets, "infrastructure", 1) + steps;
        ClockFaults {
            file: sandbox.write("clock.chaos", &text),
            marker: www,
            stale_before: stale_libfaketime_files(),
        }
    }
}

impl Fixture for ClockFaults {
    fn name(&self) -> &'static str {
        "clock"
    }

    fn file(&self) -> &Path {
        &self.file
    }

    fn assert_clean(&self, trial: &str) {
        assert!(
            wait_until(Duration::from_secs(2), || pids_with(&self.marker)
                .is_empty()),
            "{trial}: skewed or launched targets left running: {:?}",
            pids_with(&self.marker)
        );
        let left = || -> Vec<String> {
            let stale = stale_libfaketime_files();
            stale.difference(&self.stale_before).cloned().collect()
        };
        assert!(
            wait_until(Duration::from_secs(2), || left().is_empty()),
            "{trial}: libfaketime files of ended targets left in /dev/shm: {:?}",
            left()
        );
    }
}

/// Returns whether `chaosc doctor` reports `fault` as available here, and
/// prints why the trials leave it out when it is not.
fn available(sandbox: &Sandbox, fault: &str) -> bool {
    let output = sandbox
        .chaosc()
        .args(["doctor", "--format", "json"])
        .output()
        .expect("run chaosc doctor");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    let entry = report
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["fault"] == fault);
    let works = entry.is_some_and(|entry| entry["available"] == true);
    if !works {
        println!("`{fault}` is not available here, so no trial holds it: {entry:?}");
    }
    works
}

/// CPU, memory and I/O stress workers, and a cgroup limit where cgroups
/// can be used, on a launched target and a scratch directory.
struct ComputeFaults {
    file: PathBuf,
    scratch: PathBuf,
    /// A string in the launched target's command line.
    marker: String,
}

impl ComputeFaults {
    fn new(sandbox: &Sandbox, with_cgroup: bool) -> Self {
        let port = free_port();
        let www = sandbox.write("compute/index.html", "crash trial\n");
        let www = www.parent().unwrap().display().to_string();
        let scratch = sandbox
            .write("stress/.keep", "")
            .parent()
            .unwrap()
            .to_owned();
        std::fs::remove_file(scratch.join(".keep")).unwrap();
        let targets = format!(
            r#"target app = process {{
    command = ["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1", "--directory", "{www}"]
    ready = 127.0.0.1:{port}
}}
target scratch = directory {{ path = "{}" }}
"#,
            scratch.display()
        );
        let mut kinds = "cpu_stress, memory_stress, io_stress".to_owned();
        let mut steps = "    step burn = inject cpu_stress(workers = 1, load = 50%) on app for 1s\n    \
                         step hog = inject memory_stress(size = 16MiB) on app for 1s\n    \
                         step churn = inject io_stress(workers = 1, size = 4MiB) on scratch for 1s\n"
            .to_owned();
        if with_cgroup {
            kinds.push_str(", cgroup_limit");
            steps.push_str(
                "    step cap = inject cgroup_limit(cpu = 50%, memory = 256MiB) on app for 1s\n",
            );
        }
        steps.push_str("}\n");
        let text = scenario_head(&kinds, &targets, "compute", 2) + &steps;
        ComputeFaults {
            file: sandbox.write("compute.chaos", &text),
            scratch,
            marker: www,
        }
    }
}

/// Returns the cgroups named `chaosc-*` under `/sys/fs/cgroup`, down to
/// five levels.
fn chaosc_cgroups() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![(PathBuf::from("/sys/fs/cgroup"), 0)];
    while let Some((folder, depth)) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                continue;
            }
            if entry.file_name().to_string_lossy().starts_with("chaosc-") {
                found.push(path);
            } else if depth < 5 {
                folders.push((path, depth + 1));
            }
        }
    }
    found
}

impl Fixture for ComputeFaults {
    fn name(&self) -> &'static str {
        "compute"
    }

    fn file(&self) -> &Path {
        &self.file
    }

    fn assert_clean(&self, trial: &str) {
        assert!(
            wait_until(Duration::from_secs(2), || pids_with("stress-worker")
                .is_empty()),
            "{trial}: stress workers left: {:?}",
            pids_with("stress-worker")
        );
        let left: Vec<_> = std::fs::read_dir(&self.scratch)
            .unwrap()
            .flatten()
            .map(|entry| entry.path())
            .collect();
        assert!(left.is_empty(), "{trial}: stress files left: {left:?}");
        assert_eq!(
            chaosc_cgroups(),
            Vec::<PathBuf>::new(),
            "{trial}: cgroups left"
        );
        assert!(
            wait_until(Duration::from_secs(2), || pids_with(&self.marker)
                .is_empty()),
            "{trial}: launched targets left running: {:?}",
            pids_with(&self.marker)
        );
    }
}

/// A corrupted file, two drifted configuration files and a disk fill under
/// one root.
struct FileFaults {
    file: PathBuf,
    root: PathBuf,
    originals: Vec<(PathBuf, Vec<u8>)>,
}

impl FileFaults {
    fn new(sandbox: &Sandbox) -> Self {
        let root = sandbox
            .write("files/data.bin", "")
            .parent()
            .unwrap()
            .to_owned();
        let data: Vec<u8> = (0..16 * 1024u32)
            .map(|index| (index * 7 % 251) as u8)
            .collect();
        let originals: Vec<(PathBuf, Vec<u8>)> = [
            ("data.bin", data),
            ("app.json", br#"{"server": {"port": 8080}}"#.to_vec()),
            (".env", b"DATABASE_URL=postgres://db\nMODE=live\n".to_vec()),
        ]
        .into_iter()
        .map(|(name, bytes)| {
            let path = root.join(name);
            std::fs::write(&path, &bytes).unwrap();
            (path, bytes)
        })
        .collect();
        std::fs::create_dir_all(root.join("scratch")).unwrap();
        let root_text = root.display();
        let targets = format!(
            r#"target data = file {{ path = "{root_text}/data.bin", root = "{root_text}" }}
target json = file {{ path = "{root_text}/app.json", root = "{root_text}" }}
target env = file {{ path = "{root_text}/.env", root = "{root_text}" }}
target scratch = directory {{ path = "{root_text}/scratch" }}
"#
        );
        let steps = "    step flip = inject corrupt_file(offset = 10B, count = 64) on data for 1s\n    \
                     step port = inject config_drift(key = \"server.port\", value = \"9090\") on json for 1s\n    \
                     step secret = inject config_drift(key = \"DATABASE_URL\", remove = true) on env for 1s\n    \
                     step fill = inject disk_fill(size = 4MiB, keep_free = 1MiB) on scratch for 1s\n}\n";
        let text = scenario_head(
            "corrupt_file, config_drift, disk_fill",
            &targets,
            "storage",
            4,
        ) + steps;
        FileFaults {
            file: sandbox.write("files.chaos", &text),
            root,
            originals,
        }
    }
}

impl Fixture for FileFaults {
    fn name(&self) -> &'static str {
        "files"
    }

    fn file(&self) -> &Path {
        &self.file
    }

    fn assert_clean(&self, trial: &str) {
        for (path, bytes) in &self.originals {
            let now = std::fs::read(path).unwrap();
            assert!(
                &now == bytes,
                "{trial}: {} differs from its original",
                path.display()
            );
        }
        let left: Vec<_> = std::fs::read_dir(self.root.join("scratch"))
            .unwrap()
            .flatten()
            .map(|entry| entry.path())
            .collect();
        assert!(left.is_empty(), "{trial}: fill files left: {left:?}");
    }
}

/// netem (where the kernel has it), then a tbf bandwidth limit, then a
/// partition, on a veth pair between two namespaces the test owns.
struct KernelFaults {
    file: PathBuf,
    link: Link,
}

impl KernelFaults {
    fn new(sandbox: &Sandbox) -> Self {
        let link = Link::create();
        let targets = format!(
            "target link = interface {{ name = \"vnear\", netns = \"{}\", peer = {}.2:9 }}\n",
            link.near, link.prefix
        );
        let (kinds, mut steps) = if link.has_netem() {
            (
                "netem, link_bandwidth, partition",
                "    step delay = inject netem(delay = 20ms) on link for 500ms\n    \
                 step cap = inject link_bandwidth(rate = 1Mbit/s) on link for 500ms after delay\n"
                    .to_owned(),
            )
        } else {
            println!("the kernel has no netem qdisc: the kernel trials hold tbf and a partition");
            (
                "link_bandwidth, partition",
                "    step cap = inject link_bandwidth(rate = 1Mbit/s) on link for 500ms\n"
                    .to_owned(),
            )
        };
        steps.push_str("    step cut = inject partition() on link for 500ms after cap\n}\n");
        let text = scenario_head(kinds, &targets, "network", 1) + &steps;
        KernelFaults {
            file: sandbox.write("kernel.chaos", &text),
            link,
        }
    }
}

impl Fixture for KernelFaults {
    fn name(&self) -> &'static str {
        "kernel"
    }

    fn file(&self) -> &Path {
        &self.file
    }

    fn assert_clean(&self, trial: &str) {
        let qdisc = self.link.qdisc();
        assert!(
            !qdisc.contains("netem") && !qdisc.contains("tbf"),
            "{trial}: a qdisc is left: {qdisc}"
        );
        let tables = self.link.tables();
        assert!(
            !tables.contains("chaosc_"),
            "{trial}: a table is left: {tables}"
        );
    }
}

/// Runs a `chaosc` subcommand to completion and returns its exit code and
/// standard error.
fn chaosc(sandbox: &Sandbox, args: &[&str]) -> (Option<i32>, String) {
    let output = sandbox.chaosc().args(args).output().expect("run chaosc");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Waits at most `limit` for `child` to exit. Kills it by pid and panics
/// when it does not.
fn wait_bounded(child: &mut std::process::Child, limit: Duration, trial: &str) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for chaosc") {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{trial}: chaosc did not exit within {limit:?} of the stop");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs one trial: starts the fixture's run, stops it, recovers and checks
/// that nothing is left. Returns the run's exit code and whether it left a
/// journal, that is, whether it was stopped while faults or targets were in place.
fn run_trial(
    sandbox: &Sandbox,
    fixture: &dyn Fixture,
    stop: Stop,
    delay: Duration,
    trial: &str,
) -> (Option<i32>, bool) {
    let mut command = sandbox.chaosc();
    command
        .args(["run", "--no-guardian", "--quiet"])
        .arg(fixture.file())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Stop::Panic = stop {
        command.env("CHAOSC_PANIC_AFTER_MS", delay.as_millis().to_string());
    }
    let mut child = command.spawn().expect("start chaosc run");
    if let Stop::Signal(signal) = stop {
        std::thread::sleep(delay);
        // The run may have ended already, and then the signal reaches a
        // zombie and does nothing.
        let _ = kill(Pid::from_raw(child.id() as i32), signal);
    }
    let exit = wait_bounded(&mut child, Duration::from_secs(30), trial);
    assert_ne!(
        exit,
        Some(NOT_REVERTED),
        "{trial}: the run left a fault in place"
    );
    if let Stop::Signal(_) = stop {
        assert_ne!(exit, Some(PANICKED), "{trial}: chaosc panicked");
    }
    let journals = sandbox.journals();
    let interrupted = !journals.is_empty();

    let (code, stderr) = chaosc(sandbox, &["recover", "--stop-targets"]);
    assert_eq!(code, Some(0), "{trial}: chaosc recover failed:\n{stderr}");
    fixture.assert_clean(trial);
    sandbox.assert_no_journal();

    // Every run that left a journal has its end in the audit trail, written
    // by the run or, when it died, by `chaosc recover`.
    let export = sandbox
        .chaosc()
        .args(["audit", "export", "--format", "json"])
        .output()
        .expect("run chaosc");
    let trail: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    for journal in &journals {
        let run_id = journal.file_stem().unwrap().to_str().unwrap();
        let ends = trail
            .as_array()
            .unwrap()
            .iter()
            .filter(|record| record["run_id"] == run_id && record["action"] == "run.end")
            .count();
        assert_eq!(
            ends, 1,
            "{trial}: run {run_id} has {ends} ends in the trail"
        );
    }

    let (code, stderr) = chaosc(sandbox, &["audit", "verify"]);
    assert_eq!(
        code,
        Some(0),
        "{trial}: the audit chain is broken:\n{stderr}"
    );
    let history = sandbox
        .chaosc()
        .args(["history", "--format", "json", "--limit", "1000"])
        .output()
        .expect("run chaosc");
    assert_eq!(
        history.status.code(),
        Some(0),
        "{trial}: the store cannot be read:\n{}",
        String::from_utf8_lossy(&history.stderr)
    );
    // Every run that left a journal is in the history too.
    let runs: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    for journal in &journals {
        let run_id = journal.file_stem().unwrap().to_str().unwrap();
        assert!(
            runs.as_array()
                .unwrap()
                .iter()
                .any(|run| run["id"] == run_id),
            "{trial}: run {run_id} is not in the history"
        );
    }
    (exit, interrupted)
}

#[test]
fn stops_at_random_moments_are_recoverable() {
    let trials = env_number("CHAOSC_CRASH_TRIALS", DEFAULT_TRIALS);
    let seed = env_number("CHAOSC_CRASH_SEED", DEFAULT_SEED);
    println!("crash trials: {trials}, seed {seed} (replay with CHAOSC_CRASH_SEED={seed})");

    let sandbox = Sandbox::new();
    let mut fixtures: Vec<Box<dyn Fixture>> = vec![
        Box::new(ProxyFaults::new(&sandbox)),
        Box::new(ProcessFaults::new(&sandbox)),
        Box::new(FileFaults::new(&sandbox)),
    ];
    if netns::can_run() {
        fixtures.push(Box::new(KernelFaults::new(&sandbox)));
    }
    fixtures.push(Box::new(ComputeFaults::new(
        &sandbox,
        available(&sandbox, "cgroup_limit"),
    )));
    if available(&sandbox, "time_skew") {
        fixtures.push(Box::new(ClockFaults::new(&sandbox)));
    }
    for fixture in &fixtures {
        let (code, stderr) = chaosc(&sandbox, &["check", fixture.file().to_str().unwrap()]);
        assert_eq!(
            code,
            Some(0),
            "the {} scenario does not check:\n{stderr}",
            fixture.name()
        );
    }

    let others = [
        Stop::Signal(Signal::SIGTERM),
        Stop::Signal(Signal::SIGINT),
        Stop::Panic,
    ];
    let mut random = SplitMix64(seed);
    let mut killed = 0;
    let mut interrupted = 0;
    let mut panicked = 0;
    for index in 0..trials {
        // Each fixture gets a SIGKILL trial and then another kind of stop.
        let fixture = &fixtures[(index / 2) as usize % fixtures.len()];
        let stop = if index % 2 == 0 {
            killed += 1;
            Stop::Signal(Signal::SIGKILL)
        } else {
            others[random.below(others.len() as u64) as usize]
        };
        let delay = Duration::from_millis(random.below(MAX_DELAY_MS));
        let trial = format!(
            "trial {index} (seed {seed}, {} faults, {stop:?} after {delay:?})",
            fixture.name()
        );
        println!("{trial}");
        let (code, left_journal) = run_trial(&sandbox, fixture.as_ref(), stop, delay, &trial);
        println!("  exit code {code:?}, journal left: {left_journal}");
        interrupted += u64::from(left_journal);
        panicked += u64::from(code == Some(PANICKED));
    }
    println!("{killed} of {trials} trials ended with SIGKILL");
    println!("{interrupted} of {trials} runs left a journal for `chaosc recover`");
    println!("{panicked} of {trials} runs panicked");
    // SIGKILL and panics often land while faults are in place. If none did,
    // the trials proved nothing about recovery.
    assert!(
        trials < 24 || panicked > 0,
        "no injected panic took place in {trials} trials"
    );
    assert!(
        trials < 8 || interrupted * 8 >= trials,
        "only {interrupted} of {trials} runs were stopped while holding faults"
    );
}

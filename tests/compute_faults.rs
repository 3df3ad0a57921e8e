//! The compute faults on real processes, run by the real binary: CPU,
//! memory and I/O stress by `chaosc stress-worker` processes, and
//! `cgroup_limit` on a launched target. Each effect is measured from
//! `/proc` and `/sys/fs/cgroup` while the fault holds, and shown gone
//! afterwards: no worker left, no file left, no cgroup left, and the limit
//! files of the cgroups the targets started in unchanged. Each kind is also
//! recovered after `chaosc run` is killed with SIGKILL, by `chaosc recover`
//! and by the guardian.
//!
//! `cgroup_limit` needs root and a writable cgroup hierarchy. When `chaosc
//! doctor` reports it unavailable, its tests print why and pass without
//! checking anything.
//!
//! The test host may be busy with other work, so CPU shares are checked
//! against their upper bound (a duty cycle or a quota caps them) and for
//! being above zero, not for an exact value.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{RunningChaosc, Sandbox, output, process_state, wait_until};

/// Reads the fields of `/proc/PID/stat` after the command name.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Returns the CPU time of `pid` in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let fields = stat_fields(pid)?;
    Some(fields[11].parse::<u64>().ok()? + fields[12].parse::<u64>().ok()?)
}

/// Returns the share of one CPU each of `pids` used over `window`.
fn cpu_shares(pids: &[u32], window: Duration) -> Vec<f64> {
    let before: Vec<u64> = pids.iter().map(|pid| cpu_ticks(*pid).unwrap()).collect();
    let started = Instant::now();
    std::thread::sleep(window);
    let elapsed = started.elapsed().as_secs_f64();
    // `/proc` counts CPU time in USER_HZ, which is 100 on x86-64 and arm64.
    pids.iter()
        .zip(before)
        .map(|(pid, before)| (cpu_ticks(*pid).unwrap() - before) as f64 / 100.0 / elapsed)
        .collect()
}

/// Returns a field of `/proc/PID/status` in bytes.
fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text
        .lines()
        .find(|line| line.starts_with(&format!("{field}:")))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

/// Returns the bytes `pid` has passed to `write(2)` (`wchar` of
/// `/proc/PID/io`).
fn written(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    text.lines()
        .filter(|line| line.starts_with("wchar:"))
        .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

/// Returns the running stress workers that `parent` started, with their
/// command lines.
fn workers_of(parent: u32) -> Vec<(u32, String)> {
    let mut workers = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(fields) = stat_fields(pid) else {
            continue;
        };
        if fields[1] != parent.to_string() || fields[0] == "Z" {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
            .unwrap_or_default();
        if cmdline.contains("stress-worker") {
            workers.push((pid, cmdline));
        }
    }
    workers
}

/// Returns the workers of `parent` whose command line has `--kind KIND`.
fn workers_of_kind(parent: u32, kind: &str) -> Vec<u32> {
    workers_of(parent)
        .into_iter()
        .filter(|(_, cmdline)| cmdline.contains(&format!("--kind {kind} ")))
        .map(|(pid, _)| pid)
        .collect()
}

/// Asserts that none of `pids` runs any more (zombies count as gone).
fn assert_gone(pids: &[u32], what: &str) {
    let gone = wait_until(Duration::from_secs(5), || {
        pids.iter().all(|pid| process_state(*pid).is_none())
    });
    let left: Vec<_> = pids
        .iter()
        .filter(|pid| process_state(**pid).is_some())
        .collect();
    assert!(gone, "{what}: workers {left:?} still run");
}

/// Returns the entries of a directory.
fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default()
}

/// Returns the `revert` objects of the apply records in the sandbox's
/// journals.
fn journaled_reverts(sandbox: &Sandbox) -> Vec<serde_json::Value> {
    let mut reverts = Vec::new();
    for journal in sandbox.journals() {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        for line in text.lines() {
            let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if record["record"] == "apply" {
                reverts.push(record["revert"].clone());
            }
        }
    }
    reverts
}

/// Returns the worker pids that the journal's `end_workers` records list.
fn journaled_workers(sandbox: &Sandbox) -> Vec<u32> {
    let mut pids = Vec::new();
    for revert in journaled_reverts(sandbox) {
        assert_eq!(revert["kind"], "end_workers", "{revert}");
        for worker in revert["workers"].as_array().unwrap() {
            pids.push(worker["pid"].as_u64().unwrap() as u32);
        }
    }
    pids.sort_unstable();
    pids
}

/// Returns a scenario that imports `faults` and runs `steps`, with a
/// launched `sleep` as target `app` and `scratch` as directory target.
fn scenario(faults: &str, scratch: &Path, steps: &str) -> String {
    format!(
        r#"use std::faults::{{{faults}}}

target app = process {{ command = ["sleep", "120"] }}
target scratch = directory {{ path = "{scratch}" }}

experiment compute {{
    category = compute
    severity = low
    duration = 2m
    blast_radius {{ limit = 2 }}
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}

{steps}
}}
"#,
        scratch = scratch.display()
    )
}

/// Runs `chaosc check` on a scenario and asserts it is clean.
fn assert_checks(sandbox: &Sandbox, file: &Path) {
    let checked = output(sandbox.chaosc().arg("check").arg(file));
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// Returns the fault result of `step` from a run result.
fn fault<'a>(result: &'a serde_json::Value, step: &str) -> &'a serde_json::Value {
    result["faults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|fault| fault["step"] == step)
        .unwrap_or_else(|| panic!("no fault of step `{step}` in {result}"))
}

/// Asserts that a step's fault was observed and reverted, and returns its
/// verification.
fn assert_observed_and_reverted(result: &serde_json::Value, step: &str, words: &str) -> String {
    let fault = fault(result, step);
    let verification = fault["verification"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(fault["verified"], true, "step `{step}`: {verification}");
    assert!(
        verification.contains(words),
        "step `{step}`: {verification}"
    );
    assert_eq!(
        fault["rollback"], "reverted",
        "step `{step}`: {}",
        fault["rollback_detail"]
    );
    verification
}

#[test]
fn stress_faults_observed_then_gone() {
    let sandbox = Sandbox::new();
    let scratch = sandbox.dir.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let file = sandbox.write(
        "stress.chaos",
        &scenario(
            "cpu_stress, memory_stress, io_stress",
            &scratch,
            "    step burn = inject cpu_stress(workers = 2, load = 50%) on app for 3s
    step hog = inject memory_stress(size = 64MiB) on app for 3s
    step disk = inject io_stress(workers = 2, size = 4MiB) on scratch for 3s",
        ),
    );
    assert_checks(&sandbox, &file);
    let run = RunningChaosc::start(
        sandbox
            .chaosc()
            .args(["run", "--format", "json"])
            .arg(&file),
    );
    for step in ["burn", "hog", "disk"] {
        run.wait_for_line(&format!("step `{step}`: injected"), Duration::from_secs(30));
    }
    let parent = run.child.id();

    // Each CPU worker uses CPU time, but no more than its duty cycle allows.
    let burners = workers_of_kind(parent, "cpu");
    assert_eq!(burners.len(), 2, "{:?}", workers_of(parent));
    let shares = cpu_shares(&burners, Duration::from_millis(800));
    for share in &shares {
        assert!(
            *share > 0.0 && *share <= 0.5 + 0.25,
            "CPU shares {shares:?}"
        );
    }
    // Memory: the worker's pages are resident.
    let hogs = workers_of_kind(parent, "memory");
    assert_eq!(hogs.len(), 1, "{:?}", workers_of(parent));
    let resident = status_bytes(hogs[0], "VmRSS").unwrap();
    assert!(
        resident >= 60 << 20,
        "VmRSS of the memory worker: {resident}"
    );
    // I/O: the writers' counters grow and their files are in the directory.
    let writers = workers_of_kind(parent, "io");
    assert_eq!(writers.len(), 2, "{:?}", workers_of(parent));
    let before: u64 = writers.iter().map(|pid| written(*pid)).sum();
    std::thread::sleep(Duration::from_millis(300));
    let after: u64 = writers.iter().map(|pid| written(*pid)).sum();
    assert!(
        after > before,
        "the I/O workers wrote nothing: {before} then {after}"
    );
    let files = entries(&scratch);
    assert_eq!(files.len(), 2, "{files:?}");

    let finished = run.finish(Duration::from_secs(60));
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    let result = finished.json();
    assert_observed_and_reverted(&result, "burn", "2 CPU workers used");
    assert_observed_and_reverted(&result, "hog", "resident (VmRSS)");
    assert_observed_and_reverted(&result, "disk", "write_bytes");
    let mut all = burners;
    all.extend(&hogs);
    all.extend(&writers);
    assert_gone(&all, "after the run");
    assert!(entries(&scratch).is_empty(), "{:?}", entries(&scratch));
    sandbox.assert_no_journal();
}

/// A gradual recovery lowers the load of the CPU workers through 75%, 50%
/// and 25% of `load` before it ends them, and each level is measured.
#[test]
fn cpu_stress_ramps_load_down() {
    let sandbox = Sandbox::new();
    let file = sandbox.write(
        "ramp.chaos",
        &scenario(
            "cpu_stress",
            sandbox.dir.path(),
            "    step burn = inject cpu_stress(load = 80%) on app for 2s

    recovery plan gradual (strategy = gradual_recovery, rto = 30s) {
        action settle = wait 1s timeout 5s
    }",
        ),
    );
    let finished = output(
        sandbox
            .chaosc()
            .args(["run", "--quiet", "--format", "json"])
            .arg(&file),
    );
    let result: serde_json::Value =
        serde_json::from_slice(&finished.stdout).unwrap_or_else(|error| {
            panic!(
                "no JSON result ({error}): {}",
                String::from_utf8_lossy(&finished.stderr)
            )
        });
    assert_observed_and_reverted(&result, "burn", "1 CPU worker used");

    let ramp = fault(&result, "burn")["ramp"].as_array().unwrap().clone();
    let levels: Vec<f64> = ramp
        .iter()
        .map(|step| step["level"].as_f64().unwrap())
        .collect();
    assert_eq!(levels, vec![0.75, 0.5, 0.25]);
    for (step, load) in ramp.iter().zip([60.0, 40.0, 20.0]) {
        let observed = step["observed"].as_str().unwrap();
        assert!(
            observed.contains(&format!("(load {load:.0}%)")),
            "{observed}"
        );
        // "1 CPU worker used 58% of a CPU over 300ms (load 60%)"
        let used: f64 = observed
            .split(" used ")
            .nth(1)
            .and_then(|rest| rest.split('%').next())
            .and_then(|share| share.parse().ok())
            .unwrap_or_else(|| panic!("no share in {observed}"));
        assert!(used <= load + 25.0, "{observed}");
    }
    sandbox.assert_no_journal();
}

/// Runs a scenario with `--no-guardian`, waits until `step` is injected,
/// kills the run with SIGKILL and returns the run's stress workers. Checks
/// that the journal the run left lists exactly those workers.
fn kill_after_injection(sandbox: &Sandbox, file: &Path, step: &str) -> Vec<u32> {
    let run = RunningChaosc::start(sandbox.chaosc().arg("run").arg("--no-guardian").arg(file));
    run.wait_for_line(&format!("step `{step}`: injected"), Duration::from_secs(30));
    let mut workers: Vec<u32> = workers_of(run.child.id())
        .into_iter()
        .map(|(pid, _)| pid)
        .collect();
    workers.sort_unstable();
    run.signal("KILL");
    let finished = run.finish(Duration::from_secs(10));
    assert_eq!(finished.code, None, "chaosc was not killed");
    assert_eq!(journaled_workers(sandbox), workers);
    workers
}

/// Runs `chaosc recover --stop-targets` and asserts that it succeeds and
/// mentions `fault`.
fn recover(sandbox: &Sandbox, fault: &str) -> String {
    recover_with(sandbox, fault, &["recover", "--stop-targets"])
}

/// Runs chaosc with `args` and asserts that it succeeds, mentions `fault`
/// and leaves no journal.
fn recover_with(sandbox: &Sandbox, fault: &str, args: &[&str]) -> String {
    let recovered = output(sandbox.chaosc().args(args));
    let text = String::from_utf8_lossy(&recovered.stdout).into_owned();
    assert_eq!(recovered.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("`{fault}`")), "{text}");
    sandbox.assert_no_journal();
    text
}

#[test]
fn recover_after_sigkill_ends_stress_workers() {
    let cases = [
        (
            "cpu_stress",
            "burn",
            "cpu_stress(workers = 2, load = 20%)",
            2,
        ),
        ("memory_stress", "hog", "memory_stress(size = 32MiB)", 1),
    ];
    for (fault, step, call, count) in cases {
        let sandbox = Sandbox::new();
        let file = sandbox.write(
            &format!("{fault}.chaos"),
            &scenario(
                fault,
                sandbox.dir.path(),
                &format!("    step {step} = inject {call} on app for 60s"),
            ),
        );
        let workers = kill_after_injection(&sandbox, &file, step);
        assert_eq!(workers.len(), count, "{fault}");
        recover(&sandbox, fault);
        assert_gone(&workers, "after recover");
    }
}

#[test]
fn recover_after_sigkill_removes_io_stress_files() {
    let sandbox = Sandbox::new();
    let scratch = sandbox.dir.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let file = sandbox.write(
        "io.chaos",
        &scenario(
            "io_stress",
            &scratch,
            "    step disk = inject io_stress(workers = 2, size = 2MiB) on scratch for 60s",
        ),
    );
    let workers = kill_after_injection(&sandbox, &file, "disk");
    assert_eq!(workers.len(), 2);
    // The workers die with the run, but their files stay until recovered.
    assert_gone(&workers, "after SIGKILL");
    assert_eq!(entries(&scratch).len(), 2, "{:?}", entries(&scratch));
    let text = recover(&sandbox, "io_stress");
    assert!(text.contains("removed 2 files"), "{text}");
    assert!(entries(&scratch).is_empty(), "{:?}", entries(&scratch));
}

#[test]
fn guardian_ends_stress_when_run_is_killed() {
    let sandbox = Sandbox::new();
    let scratch = sandbox.dir.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let file = sandbox.write(
        "guarded.chaos",
        &scenario(
            "cpu_stress, memory_stress, io_stress",
            &scratch,
            "    step burn = inject cpu_stress(load = 20%) on app for 60s
    step hog = inject memory_stress(size = 16MiB) on app for 60s
    step disk = inject io_stress(size = 2MiB) on scratch for 60s",
        ),
    );
    let run = RunningChaosc::start(sandbox.chaosc().arg("run").arg(&file));
    for step in ["burn", "hog", "disk"] {
        run.wait_for_line(&format!("step `{step}`: injected"), Duration::from_secs(30));
    }
    let mut workers: Vec<u32> = workers_of(run.child.id())
        .into_iter()
        .map(|(pid, _)| pid)
        .collect();
    workers.sort_unstable();
    assert_eq!(workers.len(), 3);
    assert_eq!(journaled_workers(&sandbox), workers);

    run.signal("KILL");
    let finished = run.finish(Duration::from_secs(10));
    assert!(
        wait_until(Duration::from_secs(10), || sandbox.journals().is_empty()),
        "the guardian left the journal:\n{}",
        finished.stderr
    );
    assert_gone(&workers, "after the guardian");
    assert!(entries(&scratch).is_empty(), "{:?}", entries(&scratch));
}

/// Starts `chaosc stress-worker` from the test, so that no death signal
/// ends it with a run. It plays the part of a worker that outlived its run.
fn orphan_worker(marker: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_chaosc"))
        .args([
            "stress-worker",
            "--marker",
            marker,
            "--kind",
            "cpu",
            "--load",
            "0.1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a stress worker")
}

fn start_time(pid: u32) -> u64 {
    stat_fields(pid).unwrap()[19].parse().unwrap()
}

/// Writes a journal whose run has ended and whose one `cpu_stress` record
/// lists `workers` (pid and start time) and `files`.
fn write_dead_journal(sandbox: &Sandbox, marker: &str, workers: &[(u32, u64)], files: &[&Path]) {
    // The owner of the journal is a process that has ended.
    let mut owner = Command::new("true").spawn().unwrap();
    let owner_pid = owner.id();
    owner.wait().unwrap();
    let workers: Vec<serde_json::Value> = workers
        .iter()
        .map(|(pid, start_time)| serde_json::json!({"pid": pid, "start_time": start_time}))
        .collect();
    let records = [
        serde_json::json!({
            "record": "run", "run_id": "deadbeef-0000", "pid": owner_pid, "start_time": 1,
            "file": "gone.chaos", "experiment": "gone", "seed": 1,
            "started_at": "2026-01-01T00:00:00Z"
        }),
        serde_json::json!({
            "record": "apply", "id": 1, "step": "burn", "fault": "cpu_stress", "target": "app",
            "revert": {
                "kind": "end_workers",
                "marker": marker,
                "workers": workers,
                "files": files
            },
            "expires_at": "2026-01-01T00:10:00Z"
        }),
    ];
    let journal_dir = sandbox.state_dir().join("journal");
    std::fs::create_dir_all(&journal_dir).unwrap();
    let lines: Vec<String> = records.iter().map(|record| record.to_string()).collect();
    std::fs::write(
        journal_dir.join("deadbeef-0000.jsonl"),
        lines.join("\n") + "\n",
    )
    .unwrap();
}

/// Runs the guardian on the sandbox's one journal as a dead run would
/// leave it: the pipe on its standard input closes at once. Returns what
/// it printed.
fn run_guardian(sandbox: &Sandbox) -> String {
    let journals = sandbox.journals();
    assert_eq!(journals.len(), 1, "{journals:?}");
    let mut guardian = sandbox
        .chaosc()
        .arg("guardian")
        .arg("--journal")
        .arg(&journals[0])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the guardian");
    drop(guardian.stdin.take());
    let ended = guardian.wait_with_output().expect("wait for the guardian");
    let text = String::from_utf8_lossy(&ended.stderr).into_owned();
    assert_eq!(ended.status.code(), Some(0), "{text}");
    sandbox.assert_no_journal();
    text
}

/// A journal whose run is dead and whose workers still run: `chaosc
/// recover` and the guardian each end the worker it records and remove its
/// file. They leave alone a worker whose start time differs from the record
/// (a reused pid) and a process that has the recorded start time but not
/// the marker.
#[test]
fn recovery_ends_only_recorded_workers() {
    type Recovery = fn(&Sandbox) -> String;
    let cases: [(&str, Recovery); 2] = [
        ("recover", |sandbox| recover(sandbox, "cpu_stress")),
        ("guardian", run_guardian),
    ];
    for (name, recovery) in cases {
        let sandbox = Sandbox::new();
        let marker = "chaosc-deadbeef-0000000000000001";
        let mut leftover = orphan_worker(marker);
        let mut reused = orphan_worker(marker);
        let mut unmarked = Command::new("sleep").arg("30").spawn().unwrap();
        let scratch = sandbox.dir.path().join("scratch");
        std::fs::create_dir(&scratch).unwrap();
        let io_file = scratch.join(format!(".chaosc-io-{marker}-0"));
        std::fs::write(&io_file, b"written by a worker").unwrap();
        // Let the workers exec, so that their command lines carry the marker.
        assert!(wait_until(Duration::from_secs(5), || {
            [leftover.id(), reused.id()].iter().all(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(marker))
            })
        }));
        let workers = [
            (leftover.id(), start_time(leftover.id())),
            (reused.id(), start_time(reused.id()) + 1),
            (unmarked.id(), start_time(unmarked.id())),
        ];
        write_dead_journal(&sandbox, marker, &workers, &[&io_file]);

        let text = recovery(&sandbox);
        assert!(
            text.contains(&format!("ended workers {};", leftover.id())),
            "{name}: {text}"
        );
        assert!(text.contains("removed 1 files"), "{name}: {text}");
        let ended = wait_until(Duration::from_secs(2), || {
            leftover.try_wait().unwrap().is_some()
        });
        assert!(ended, "{name}: the leftover worker still runs");
        assert!(!io_file.exists(), "{name}: the worker's file is left");
        assert_eq!(
            reused.try_wait().unwrap(),
            None,
            "{name}: a worker with another start time was ended"
        );
        assert_eq!(
            unmarked.try_wait().unwrap(),
            None,
            "{name}: a process without the marker was ended"
        );
        for child in [&mut reused, &mut unmarked] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Returns whether `cgroup_limit` can run here, from `chaosc doctor`.
fn cgroups_usable(sandbox: &Sandbox) -> bool {
    let doctor = output(sandbox.chaosc().args(["doctor", "--format", "json"]));
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let entry = report
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["fault"] == "cgroup_limit")
        .expect("doctor lists cgroup_limit")
        .clone();
    if entry["available"] != true {
        eprintln!("skipped: cgroup_limit is not available here: {entry}");
    }
    entry["available"] == true
}

/// Returns the cgroup directories named in a verification.
fn cgroup_dirs(verification: &str) -> Vec<PathBuf> {
    verification
        .split('`')
        .filter(|part| part.starts_with("/sys/fs/cgroup") && part.contains("/chaosc-"))
        .map(PathBuf::from)
        .collect()
}

/// The cgroup files that hold a CPU, memory or block I/O limit, in cgroup v1
/// and v2.
const LIMIT_FILES: &[&str] = &[
    "cpu.cfs_period_us",
    "cpu.cfs_quota_us",
    "cpu.max",
    "memory.limit_in_bytes",
    "memory.max",
    "blkio.throttle.read_bps_device",
    "blkio.throttle.write_bps_device",
    "io.max",
];

/// Returns the directories of the cgroups this test process is in, one per
/// line of `/proc/self/cgroup` whose hierarchy is mounted. The targets a run
/// launches start in the same cgroups.
fn own_cgroup_dirs() -> Vec<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    // (root of the mounted part of the hierarchy, mount point, controllers;
    // empty for cgroup2)
    let mut mounts: Vec<(String, PathBuf, Vec<String>)> = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let controllers = match right[0] {
            "cgroup2" => Vec::new(),
            "cgroup" => right[2].split(',').map(str::to_owned).collect(),
            _ => continue,
        };
        mounts.push((left[3].to_owned(), PathBuf::from(left[4]), controllers));
    }
    let mut dirs = Vec::new();
    for line in std::fs::read_to_string("/proc/self/cgroup")
        .unwrap()
        .lines()
    {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
        let mount = mounts.iter().find(|(_, _, offered)| {
            if controllers.is_empty() {
                offered.is_empty()
            } else {
                controllers
                    .split(',')
                    .any(|name| offered.iter().any(|o| o == name))
            }
        });
        let Some((root, point, _)) = mount else {
            continue;
        };
        let Some(relative) = path.strip_prefix(root.trim_end_matches('/')) else {
            continue;
        };
        dirs.push(point.join(relative.trim_start_matches('/')));
    }
    dirs
}

/// Returns the contents of the limit files of the cgroups this test process
/// is in.
fn own_cgroup_limits() -> BTreeMap<PathBuf, String> {
    let mut limits = BTreeMap::new();
    for dir in own_cgroup_dirs() {
        for file in LIMIT_FILES {
            let path = dir.join(file);
            if let Ok(text) = std::fs::read_to_string(&path) {
                limits.insert(path, text);
            }
        }
    }
    assert!(
        limits
            .keys()
            .any(|path| path.ends_with("cpu.cfs_quota_us") || path.ends_with("cpu.max")),
        "no CPU limit file found in {:?}",
        own_cgroup_dirs()
    );
    limits
}

/// Returns the text of `/proc/PID/cgroup`.
fn cgroups_of(pid: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap()
}

/// Returns the cgroup directories that the journal's `remove_cgroups`
/// records list.
fn journaled_cgroups(sandbox: &Sandbox) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for revert in journaled_reverts(sandbox) {
        assert_eq!(revert["kind"], "remove_cgroups", "{revert}");
        for cgroup in revert["cgroups"].as_array().unwrap() {
            dirs.push(PathBuf::from(cgroup["path"].as_str().unwrap()));
        }
    }
    dirs
}

/// Stops a launched target that a recovery left running, by its pid.
fn stop_target(pid: u32) {
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -KILL {pid} failed");
    assert!(
        wait_until(Duration::from_secs(5), || process_state(pid).is_none()),
        "target {pid} still runs"
    );
}

/// Writes a scenario with two Python targets: one that spins on a CPU, and
/// one that grows by 8MiB steps once a trigger file exists, writing how many
/// steps it made. Returns the scenario, the trigger and the progress file.
fn cgroup_scenario(sandbox: &Sandbox, hold: &str) -> (PathBuf, PathBuf, PathBuf) {
    let trigger = sandbox.dir.path().join("grow");
    let progress = sandbox.dir.path().join("grown");
    let grow = format!(
        "import os, time\\nwhile not os.path.exists('{trigger}'): time.sleep(0.02)\\nblocks = []\\nfor step in range(32):\\n    block = bytearray(8 << 20)\\n    block[::4096] = b'x' * 2048\\n    blocks.append(block)\\n    open('{progress}', 'w').write(str(len(blocks)))\\n    time.sleep(0.01)\\ntime.sleep(120)",
        trigger = trigger.display(),
        progress = progress.display()
    );
    let spin_tag = spin_tag(sandbox);
    let text = format!(
        r#"use std::faults::cgroup_limit

target spin = process {{ command = ["python3", "-c", "while True: pass", "{spin_tag}"] }}
target grow = process {{ command = ["python3", "-c", "{grow}"] }}

experiment capped {{
    category = compute
    severity = low
    duration = 2m
    blast_radius {{ limit = 2 }}
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}

    step slow = inject cgroup_limit(cpu = 20%) on spin for {hold}
    step small = inject cgroup_limit(memory = 48MiB) on grow for {hold}
}}
"#
    );
    (sandbox.write("capped.chaos", &text), trigger, progress)
}

/// Returns an argument that distinguishes the spinning target of one test
/// from another's.
fn spin_tag(sandbox: &Sandbox) -> String {
    format!("spin-{}", sandbox.dir.path().display())
}

/// Returns the pid of the process whose command line contains `text`.
fn pid_with(text: &str) -> Option<u32> {
    common::pids_with(text).into_iter().next()
}

#[test]
fn cgroup_limit_caps_cpu_and_memory() {
    let sandbox = Sandbox::new();
    if !cgroups_usable(&sandbox) {
        return;
    }
    let limits_before = own_cgroup_limits();
    let (file, trigger, progress) = cgroup_scenario(&sandbox, "3s");
    assert_checks(&sandbox, &file);
    let run = RunningChaosc::start(
        sandbox
            .chaosc()
            .args(["run", "--format", "json"])
            .arg(&file),
    );
    run.wait_for_line("step `slow`: injected", Duration::from_secs(30));
    run.wait_for_line("step `small`: injected", Duration::from_secs(30));

    // The CPU-bound target is held to about its quota.
    let spin = pid_with(&spin_tag(&sandbox)).expect("the spinning target runs");
    let share = cpu_shares(&[spin], Duration::from_secs(1))[0];
    assert!(
        share <= 0.2 + 0.1,
        "the limited target used {share} of a CPU"
    );
    // The growing target cannot grow past the memory limit: the kernel
    // ends it before it has grown by 48MiB more.
    std::fs::write(&trigger, b"").unwrap();
    let grow = pid_with(&trigger.display().to_string()).expect("the growing target runs");
    let ended = wait_until(Duration::from_secs(10), || process_state(grow).is_none());
    let steps: u32 = std::fs::read_to_string(&progress)
        .unwrap_or_default()
        .parse()
        .unwrap_or(0);
    assert!(ended, "the growing target still runs after {steps} steps");
    assert!(
        steps <= 6,
        "the target grew by {steps} steps of 8MiB past a 48MiB limit"
    );

    let finished = run.finish(Duration::from_secs(60));
    let result = finished.json();
    let slow = assert_observed_and_reverted(&result, "slow", "20000");
    let small = assert_observed_and_reverted(&result, "small", "50331648");
    let dirs: Vec<PathBuf> = cgroup_dirs(&slow)
        .into_iter()
        .chain(cgroup_dirs(&small))
        .collect();
    assert_eq!(dirs.len(), 2, "{slow}\n{small}");
    for dir in &dirs {
        assert!(!dir.exists(), "cgroup `{}` left", dir.display());
    }
    assert_eq!(own_cgroup_limits(), limits_before);
    sandbox.assert_no_journal();
}

/// Starts the cgroup scenario, waits until both limits hold and checks that
/// the journal lists the cgroups the spinning target is in. Returns the run
/// and the pids of the spinning and the growing target.
fn start_limited(sandbox: &Sandbox, guardian: bool) -> (RunningChaosc, u32, u32) {
    let (file, trigger, _) = cgroup_scenario(sandbox, "60s");
    let mut command = sandbox.chaosc();
    command.arg("run");
    if !guardian {
        command.arg("--no-guardian");
    }
    let run = RunningChaosc::start(command.arg(&file));
    run.wait_for_line("step `slow`: injected", Duration::from_secs(30));
    run.wait_for_line("step `small`: injected", Duration::from_secs(30));
    let spin = pid_with(&spin_tag(sandbox)).expect("the spinning target runs");
    let grow = pid_with(&trigger.display().to_string()).expect("the growing target runs");

    let cgroups = journaled_cgroups(sandbox);
    assert_eq!(cgroups.len(), 2, "{cgroups:?}");
    for dir in &cgroups {
        assert!(dir.is_dir(), "cgroup `{}` is missing", dir.display());
    }
    // The two steps start together, so either may be journaled first.
    let spin_cgroups = cgroups_of(&spin.to_string());
    let in_journaled = cgroups.iter().any(|dir| {
        let name = dir.file_name().unwrap().to_str().unwrap();
        spin_cgroups.contains(name)
    });
    assert!(in_journaled, "{spin_cgroups}");
    (run, spin, grow)
}

#[test]
fn recover_after_sigkill_removes_cgroup() {
    let sandbox = Sandbox::new();
    if !cgroups_usable(&sandbox) {
        return;
    }
    let limits_before = own_cgroup_limits();
    let (run, spin, grow) = start_limited(&sandbox, false);
    let cgroups = journaled_cgroups(&sandbox);
    run.signal("KILL");
    run.finish(Duration::from_secs(10));

    // The run is dead; its cgroups and the targets in them are still there.
    for dir in &cgroups {
        assert!(dir.is_dir(), "cgroup `{}` is gone", dir.display());
    }
    assert!(process_state(spin).is_some(), "the spinning target is gone");
    // Without `--stop-targets` the journal stays for the targets it lists.
    let recovered = output(sandbox.chaosc().arg("recover"));
    let text = String::from_utf8_lossy(&recovered.stdout).into_owned();
    assert_eq!(recovered.status.code(), Some(0), "{text}");
    assert!(text.contains("`cgroup_limit`"), "{text}");
    assert!(text.contains("removed cgroup"), "{text}");
    assert_eq!(sandbox.journals().len(), 1, "{text}");
    for dir in &cgroups {
        assert!(!dir.exists(), "cgroup `{}` left", dir.display());
    }
    // The targets are back in the cgroups they were launched in, whose
    // limits are unchanged.
    let own = cgroups_of("self");
    for pid in [spin, grow] {
        assert_eq!(cgroups_of(&pid.to_string()), own, "target {pid}");
    }
    assert_eq!(own_cgroup_limits(), limits_before);
    stop_target(spin);
    stop_target(grow);
    let again = output(sandbox.chaosc().arg("recover"));
    assert_eq!(again.status.code(), Some(0));
    sandbox.assert_no_journal();
}

#[test]
fn guardian_removes_cgroup_when_run_is_killed() {
    let sandbox = Sandbox::new();
    if !cgroups_usable(&sandbox) {
        return;
    }
    let limits_before = own_cgroup_limits();
    let (run, spin, grow) = start_limited(&sandbox, true);
    let cgroups = journaled_cgroups(&sandbox);
    run.signal("KILL");
    let finished = run.finish(Duration::from_secs(10));

    assert!(
        wait_until(Duration::from_secs(10), || sandbox.journals().is_empty()),
        "the guardian left the journal:\n{}",
        finished.stderr
    );
    for dir in &cgroups {
        assert!(!dir.exists(), "cgroup `{}` left", dir.display());
    }
    assert_eq!(own_cgroup_limits(), limits_before);
    // The guardian also stops the targets the run launched.
    for pid in [spin, grow] {
        assert!(
            wait_until(Duration::from_secs(5), || process_state(pid).is_none()),
            "target {pid} still runs"
        );
    }
}

/// Returns the bytes `pid` passes to `write(2)` over one second.
fn write_rate(pid: u32) -> u64 {
    let before = written(pid);
    std::thread::sleep(Duration::from_secs(1));
    written(pid) - before
}

/// A target that writes 64KiB blocks with `O_DIRECT`, which cgroup v1
/// throttles (buffered writes are charged to the kernel's flusher), is held
/// to its `io_bandwidth` while the limit is in place and runs at full speed
/// before and after.
#[test]
fn cgroup_limit_throttles_direct_writes() {
    let sandbox = Sandbox::new();
    if !cgroups_usable(&sandbox) {
        return;
    }
    let limits_before = own_cgroup_limits();
    let data = sandbox.dir.path().join("direct.bin");
    let writer = format!(
        "import os, mmap\\nfd = os.open('{data}', os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o600)\\nblock = mmap.mmap(-1, 1 << 16)\\nblock.write(b'x' * (1 << 16))\\nn = 0\\nwhile True:\\n    os.pwrite(fd, block, (n % 64) << 16)\\n    n += 1",
        data = data.display()
    );
    let file = sandbox.write(
        "throttled.chaos",
        &format!(
            r#"use std::faults::{{cgroup_limit, cpu_stress}}

target app = process {{ command = ["sleep", "120"] }}
target writer = process {{ command = ["python3", "-c", "{writer}"] }}

experiment throttled {{
    category = compute
    severity = low
    duration = 2m
    blast_radius {{ limit = 2 }}
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}

    step warm = inject cpu_stress(load = 10%) on app for 2s
    step cap = inject cgroup_limit(io_bandwidth = 8Mbit/s) on writer for 3s after warm
    step cool = inject cpu_stress(load = 10%) on app for 3s after cap
}}
"#
        ),
    );
    let run = RunningChaosc::start(
        sandbox
            .chaosc()
            .args(["run", "--format", "json"])
            .arg(&file),
    );
    run.wait_for_line("step `warm`: injected", Duration::from_secs(30));
    let tag = data.display().to_string();
    let writer = pid_with(&tag).expect("the writing target runs");
    let free = write_rate(writer);

    run.wait_for_line("step `cap`: injected", Duration::from_secs(30));
    let limited = write_rate(writer);
    run.wait_for_line("step `cap`: reverted", Duration::from_secs(30));
    let released = write_rate(writer);

    // 8Mbit/s is 1,000,000 bytes/s; a few throttle slices may let a little
    // more by.
    assert!(limited > 0, "the limited target wrote nothing");
    assert!(
        limited <= 2_000_000,
        "{limited} bytes/s under a 1MB/s limit"
    );
    assert!(free >= 4 << 20, "only {free} bytes/s before the limit");
    assert!(
        released >= 4 << 20,
        "only {released} bytes/s after the limit"
    );

    let finished = run.finish(Duration::from_secs(60));
    let result = finished.json();
    let cap = assert_observed_and_reverted(&result, "cap", "1000000");
    let dirs = cgroup_dirs(&cap);
    assert_eq!(dirs.len(), 1, "{cap}");
    assert!(!dirs[0].exists(), "cgroup `{}` left", dirs[0].display());
    assert_eq!(own_cgroup_limits(), limits_before);
    sandbox.assert_no_journal();
}

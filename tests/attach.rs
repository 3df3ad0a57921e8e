//! Attaching to a process that already runs, by pid and by name: the run
//! pauses the process it found and continues it, kills it for good where
//! the step is `irreversible`, and a name that matches several processes
//! fails the run before anything is injected.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{OwnedProcess, Sandbox, chaosc, faults_of, process_state, run_json, wait_until};

/// Starts a copy of `sleep` that the test owns, and waits until it shows
/// in `/proc`.
fn sleeper(program: &Path) -> OwnedProcess {
    let sleeper = OwnedProcess::spawn(Command::new(program).arg("60"));
    assert!(wait_until(Duration::from_secs(5), || process_state(
        sleeper.pid()
    )
    .is_some()));
    sleeper
}

/// Links `sleep` into the sandbox under a name of at most 15 characters
/// (what `/proc/PID/comm` keeps) that is unique to this test process and
/// `tag`. The kernel names a process after the path it was started from,
/// and a link, unlike a copy, is never open for writing while a parallel
/// test forks, which would make it fail to start with "text file busy".
fn unique_sleep(sandbox: &Sandbox, tag: char) -> (std::path::PathBuf, String) {
    let name = format!("at{tag}{:08x}", std::process::id() ^ 0x5a5a_5a5a);
    let path = sandbox.dir.path().join(&name);
    let sleep = Command::new("sh")
        .args(["-c", "command -v sleep"])
        .output()
        .unwrap();
    let sleep = String::from_utf8(sleep.stdout).unwrap();
    std::os::unix::fs::symlink(sleep.trim(), &path).unwrap();
    (path, name)
}

fn scenario(sandbox: &Sandbox, attach: &str) -> std::path::PathBuf {
    sandbox.write(
        "attach.chaos",
        &format!(
            r#"use std::faults::process_pause
target app = process {{ {attach} }}
experiment attach {{
    category = compute
    severity = low
    duration = 1m
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}
    step freeze = inject process_pause() on app for 300ms
}}
"#
        ),
    )
}

#[test]
fn pause_by_name_and_pid() {
    let sandbox = Sandbox::new();
    let (program, name) = unique_sleep(&sandbox, 'p');
    let sleeper = sleeper(&program);

    for attach in [
        format!("name = \"{name}\""),
        format!("pid = {}", sleeper.pid()),
    ] {
        let file = scenario(&sandbox, &attach);
        let result = run_json(&sandbox.state_dir(), &file);
        assert_eq!(result["status"], "completed", "{attach}: {result}");
        let fault = faults_of(&result, "freeze")[0];
        assert_eq!(fault["verified"], true, "{attach}: {fault}");
        assert!(
            fault["verification"]
                .as_str()
                .unwrap()
                .contains(&sleeper.pid().to_string()),
            "{attach}: {fault}"
        );
        let state = process_state(sleeper.pid());
        assert!(
            state.is_some_and(|state| state != 'T'),
            "{attach}: the process is {state:?} after the run"
        );
    }
    sandbox.assert_no_journal();
}

#[test]
fn ambiguous_name_fails_before_injection() {
    let sandbox = Sandbox::new();
    let (program, name) = unique_sleep(&sandbox, 'a');
    let first = sleeper(&program);
    let second = sleeper(&program);
    let file = scenario(&sandbox, &format!("name = \"{name}\""));

    let output = chaosc(
        &sandbox.state_dir(),
        &["run", "--format", "json", "--quiet", file.to_str().unwrap()],
    );
    let result = output.json();
    assert_eq!(result["status"], "failed", "{result}");
    let reason = result["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("2 processes are named"), "{reason}");
    assert!(faults_of(&result, "freeze").is_empty(), "{result}");
    for sleeper in [&first, &second] {
        assert_eq!(process_state(sleeper.pid()), Some('S'));
    }

    let missing = scenario(&sandbox, "name = \"no-such-proc\"");
    let output = chaosc(
        &sandbox.state_dir(),
        &[
            "run",
            "--format",
            "json",
            "--quiet",
            missing.to_str().unwrap(),
        ],
    );
    let reason = output.json()["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("no running process is named"), "{reason}");
    sandbox.assert_no_journal();
}

#[test]
fn irreversible_kill_of_attached_process() {
    let sandbox = Sandbox::new();
    let (program, _) = unique_sleep(&sandbox, 'k');
    let sleeper = sleeper(&program);
    let file = sandbox.write(
        "kill.chaos",
        &format!(
            r#"use std::faults::process_kill
target app = process {{ pid = {} }}
experiment gone {{
    category = compute
    severity = low
    duration = 1m
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}
    step end = inject process_kill(signal = SIGTERM) on app for 1s irreversible
}}
"#,
            sleeper.pid()
        ),
    );
    let result = run_json(&sandbox.state_dir(), &file);
    assert_eq!(result["status"], "completed", "{result}");
    let fault = faults_of(&result, "end")[0];
    assert_eq!(fault["verified"], true, "{fault}");
    assert_eq!(fault["rollback"], "reverted", "{fault}");
    assert!(
        fault["rollback_detail"]
            .as_str()
            .unwrap()
            .contains("not started again"),
        "{fault}"
    );
    // The test owns the process and reaps it, so a zombie counts as gone.
    assert!(wait_until(Duration::from_secs(5), || {
        process_state(sleeper.pid()).is_none_or(|state| state == 'Z')
    }));
    assert!(sandbox.journals().is_empty());
}

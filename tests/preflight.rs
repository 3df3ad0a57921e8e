//! Runs that cannot finish are rejected before anything is journaled or
//! injected: faults that need root when chaosc runs as another user, and
//! addresses that another program holds.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::write_file;

const SCENARIO: &str = r#"use std::faults::partition
target link = interface { name = "chaosc-none0" }
experiment needs_root {
    category = network
    severity = low
    duration = 1m
    blast_radius { limit = 1 }
    safety { rollback = true, emergency_stop = true, business_hours_only = false }
    step cut = inject partition() on link for 1s
}
"#;

/// Runs `chaosc run FILE` through `command` with the state directory
/// `state`, and checks that the run was rejected with `code` before it
/// wrote a journal. Returns standard error.
fn assert_rejected(command: &mut Command, file: &Path, state: &Path, code: &str) -> String {
    let output = command
        .args(["run", file.to_str().unwrap()])
        .env("CHAOSC_STATE_DIR", state)
        .env("NO_COLOR", "1")
        .output()
        .expect("run chaosc");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(code), "{stderr}");
    assert!(!state.join("journal").exists(), "a journal was written");
    stderr
}

#[test]
fn root_fault_rejected_for_user() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let path = write_file(dir.path(), "root.chaos", SCENARIO);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let state = dir.path().join("state");

    let binary = env!("CARGO_BIN_EXE_chaosc");
    let mut command = if nix::unistd::Uid::effective().is_root() {
        // Drop to `nobody` for this one command.
        let mut command = Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", binary]);
        command
    } else {
        Command::new(binary)
    };
    let stderr = assert_rejected(&mut command, &path, &state, "chaos::E0918");
    assert!(stderr.contains("`cut` (`partition`)"), "{stderr}");
}

#[test]
fn taken_proxy_address_rejected_before_journal() {
    let dir = tempfile::tempdir().unwrap();
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let upstream = common::free_port();
    let scenario = format!(
        r#"use std::faults::latency
target front = proxy {{ listen = 127.0.0.1:{port}, upstream = 127.0.0.1:{upstream} }}
experiment taken {{
    category = network
    severity = low
    duration = 1m
    safety {{ rollback = true, emergency_stop = true, business_hours_only = false }}
    step slow = inject latency(delay = 10ms) on front for 1s
}}
"#
    );
    let path = write_file(dir.path(), "taken.chaos", &scenario);
    let state = dir.path().join("state");
    let mut command = Command::new(env!("CARGO_BIN_EXE_chaosc"));
    let stderr = assert_rejected(&mut command, &path, &state, "chaos::E0919");
    assert!(
        stderr.contains(&format!("`front` on 127.0.0.1:{port}")),
        "{stderr}"
    );
    drop(holder);
}

//! Kernel network faults on a veth pair between two network namespaces
//! that the test creates and always deletes. They need root; without it
//! the tests print why and pass without checking anything.

mod common;

use std::process::Command;

use common::netns::{Link, can_run};
use common::{assert_no_journal, chaosc, faults_of, run_json, write_file};

fn scenario(link: &Link, steps: &str, kinds: &str) -> String {
    format!(
        r#"use std::faults::{{{kinds}}}

target link = interface {{ name = "vnear", netns = "{netns}", peer = {prefix}.2:9 }}

experiment link_faults {{
    category = network
    severity = low
    duration = 1m
    blast_radius {{ limit = 1 }}
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}
{steps}}}
"#,
        netns = link.near,
        prefix = link.prefix
    )
}

#[test]
fn tbf_and_partition_applied_and_removed() {
    if !can_run() {
        return;
    }
    let link = Link::create();
    let state = tempfile::tempdir().unwrap();
    let steps = "    step slow = inject link_bandwidth(rate = 1Mbit/s) on link for 300ms\n    \
                 step cut = inject partition() on link for 300ms after slow\n";
    let path = write_file(
        state.path(),
        "link.chaos",
        &scenario(&link, steps, "link_bandwidth, partition"),
    );
    let result = run_json(state.path(), &path);

    let slow = faults_of(&result, "slow")[0];
    assert_eq!(slow["verified"], true, "{}", slow["verification"]);
    assert!(slow["verification"].as_str().unwrap().contains("tbf"));
    let cut = faults_of(&result, "cut")[0];
    assert_eq!(cut["verified"], true, "{}", cut["verification"]);
    assert!(
        cut["verification"]
            .as_str()
            .unwrap()
            .contains("no longer answers"),
        "{}",
        cut["verification"]
    );
    assert_eq!(result["status"], "completed", "{}", result["reason"]);
    assert!(!link.qdisc().contains("tbf"), "{}", link.qdisc());
    assert!(!link.tables().contains("chaosc_"), "{}", link.tables());
    assert_no_journal(state.path());
}

#[test]
fn netem_applied_or_rejected_clearly() {
    if !can_run() {
        return;
    }
    let link = Link::create();
    let state = tempfile::tempdir().unwrap();
    let steps = "    step slow = inject netem(delay = 50ms, loss = 1%) on link for 300ms\n";
    let path = write_file(
        state.path(),
        "netem.chaos",
        &scenario(&link, steps, "netem"),
    );
    let output = chaosc(
        state.path(),
        &["run", "--format", "json", "--quiet", path.to_str().unwrap()],
    );
    let result = output.json();
    let fault = faults_of(&result, "slow")[0];
    let verification = fault["verification"].as_str().unwrap_or_default();
    if verification.contains("lacks the `netem` qdisc") {
        // A kernel without netem: the run must fail and leave nothing.
        assert_eq!(result["status"], "failed");
    } else {
        assert_eq!(fault["verified"], true, "{verification}");
        assert!(verification.contains("grew from"), "{verification}");
        assert_eq!(result["status"], "completed", "{}", result["reason"]);
    }
    assert_eq!(result["rollback_complete"], true);
    assert!(!link.qdisc().contains("netem"), "{}", link.qdisc());
    assert_no_journal(state.path());
}

#[test]
fn recover_deletes_table_after_kill() {
    if !can_run() {
        return;
    }
    let link = Link::create();
    let state = tempfile::tempdir().unwrap();
    let steps = "    step cut = inject partition(direction = upstream) on link for 50s\n";
    let path = write_file(
        state.path(),
        "cut.chaos",
        &scenario(&link, steps, "partition"),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_chaosc"))
        .args(["run", "--quiet", "--no-guardian", path.to_str().unwrap()])
        .env("CHAOSC_STATE_DIR", state.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !link.tables().contains("chaosc_") {
        assert!(
            std::time::Instant::now() < deadline,
            "the partition was not applied in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let output = chaosc(state.path(), &["recover"]);
    assert_eq!(output.code, 0, "{}\n{}", output.stdout, output.stderr);
    assert!(!link.tables().contains("chaosc_"), "{}", link.tables());
    assert_no_journal(state.path());
}

#[test]
fn partition_of_missing_interface_fails() {
    if !can_run() {
        return;
    }
    let link = Link::create();
    let state = tempfile::tempdir().unwrap();
    let text = scenario(
        &link,
        "    step cut = inject partition() on link for 300ms\n",
        "partition",
    )
    .replace("name = \"vnear\"", "name = \"nosuch0\"");
    let path = write_file(state.path(), "missing.chaos", &text);
    let output = chaosc(
        state.path(),
        &["run", "--format", "json", "--quiet", path.to_str().unwrap()],
    );
    let result = output.json();
    assert_eq!(result["status"], "failed", "{result}");
    let reason = result["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("interface `nosuch0` not found"), "{reason}");
    // The error is logged, without colour codes when stderr is a pipe.
    assert!(output.stderr.contains("ERROR"), "{}", output.stderr);
    assert!(!output.stderr.contains('\u{1b}'), "{}", output.stderr);
    assert!(!link.tables().contains("chaosc_"), "{}", link.tables());
    assert_no_journal(state.path());
}

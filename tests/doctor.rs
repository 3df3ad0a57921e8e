//! `chaosc doctor` lists every fault kind with whether this host can
//! inject it, and a reason and a fix for each that it cannot.

mod common;

use common::chaosc;

#[test]
fn doctor_lists_every_fault() {
    let state = tempfile::tempdir().unwrap();
    let output = chaosc(state.path(), &["doctor", "--format", "json"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let report = output.json();
    let entries = report.as_array().expect("a list");
    for fault in [
        "latency",
        "http_error",
        "corrupt_file",
        "config_drift",
        "disk_fill",
        "partition",
        "netem",
        "time_skew",
        "cpu_stress",
        "memory_stress",
        "io_stress",
        "cgroup_limit",
    ] {
        let entry = entries.iter().find(|entry| entry["fault"] == fault);
        assert!(entry.is_some(), "`{fault}` missing from {report}");
    }
    for entry in entries {
        let problems = entry["problems"].as_array().unwrap();
        assert_eq!(entry["available"], problems.is_empty(), "{entry}");
        for problem in problems {
            assert!(!problem["reason"].as_str().unwrap().is_empty(), "{entry}");
            assert!(!problem["fix"].as_str().unwrap().is_empty(), "{entry}");
        }
    }
    let proxy = entries
        .iter()
        .find(|entry| entry["fault"] == "http_error")
        .unwrap();
    assert_eq!(proxy["available"], true, "{proxy}");

    // Whether libfaketime is installed depends on the host. Either way, the
    // report must state how to install it.
    let skew = entries
        .iter()
        .find(|entry| entry["fault"] == "time_skew")
        .unwrap();
    for problem in skew["problems"].as_array().unwrap() {
        assert!(
            problem["fix"]
                .as_str()
                .unwrap()
                .contains("apt-get install faketime"),
            "{skew}"
        );
    }

    // The stress faults need only `/proc` and the chaosc binary.
    for fault in ["cpu_stress", "memory_stress", "io_stress"] {
        let entry = entries
            .iter()
            .find(|entry| entry["fault"] == fault)
            .unwrap();
        assert_eq!(entry["available"], true, "{entry}");
    }
    let cgroup = entries
        .iter()
        .find(|entry| entry["fault"] == "cgroup_limit")
        .unwrap();
    if !nix::unistd::Uid::effective().is_root() {
        assert!(
            cgroup["problems"]
                .to_string()
                .contains("does not run as root"),
            "{cgroup}"
        );
    }
}

//! Every scenario under `scenarios/` is clean under `chaosc check`, and
//! each failure-mode scenario runs with the real binary: every fault is
//! observed and reverted, and nothing is left behind (no journal, no fill
//! file, no stress worker, files back to their original bytes, the web
//! server of `time_skew.chaos` gone).

mod common;

use std::path::{Path, PathBuf};

use common::{assert_no_journal, chaosc, pids_with, port_accepts, run_json};

/// Each scenario with a word that each fault's observation must contain.
const SCENARIOS: &[(&str, &[(&str, &str)])] = &[
    (
        "network_partition",
        &[("silence", "no answer"), ("cut", "closed after")],
    ),
    (
        "dependency_failure",
        &[
            ("errors", "status 503"),
            ("resets", "reset"),
            ("truncated", "64 of"),
        ],
    ),
    (
        "authentication_failure",
        &[
            ("rejected", "status 401"),
            ("stripped", "had no `Authorization`"),
        ],
    ),
    (
        "resource_exhaustion",
        &[
            ("full", "33554432 bytes"),
            ("burn", "CPU worker used"),
            ("hog", "resident (VmRSS)"),
            ("frozen", "stopped"),
        ],
    ),
    ("data_corruption", &[("flip", "differ from the original")]),
    (
        "configuration_drift",
        &[("shrink", "from 10 to 1"), ("debug", "from false to true")],
    ),
    ("time_skew", &[("ahead", "its clock is 3600s ahead")]),
];

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.chaos"))
}

#[test]
fn scenarios_check_clean() {
    let state = tempfile::tempdir().unwrap();
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for entry in std::fs::read_dir(directory).unwrap().flatten() {
        let path = entry.path();
        // The assets folder holds files the scenarios serve and run.
        if path.extension().is_none_or(|ext| ext != "chaos") {
            continue;
        }
        let output = chaosc(state.path(), &["check", path.to_str().unwrap()]);
        assert_eq!(
            output.code,
            0,
            "{}: {}{}",
            path.display(),
            output.stdout,
            output.stderr
        );
        let summary = format!("{}{}", output.stdout, output.stderr);
        assert!(
            summary.contains("0 errors, 0 warnings"),
            "{}: {summary}",
            path.display()
        );
    }
}

#[test]
fn failure_modes_observed_and_cleaned() {
    for (name, evidence) in SCENARIOS {
        let state = tempfile::tempdir().unwrap();
        let result = run_json(state.path(), &scenario(name));
        assert_eq!(
            result["status"], "completed",
            "{name}: {}",
            result["reason"]
        );
        assert_eq!(result["steady_state"]["held_after"], true, "{name}");
        let faults = result["faults"].as_array().unwrap();
        for (step, words) in *evidence {
            let fault = faults.iter().find(|fault| fault["step"] == *step);
            let fault = fault.unwrap_or_else(|| panic!("{name}: no fault for step `{step}`"));
            let verification = fault["verification"].as_str().unwrap_or_default();
            assert_eq!(fault["verified"], true, "{name}/{step}: {verification}");
            assert!(
                verification.contains(words),
                "{name}/{step}: {verification}"
            );
            assert_eq!(
                fault["rollback"], "reverted",
                "{name}/{step}: {}",
                fault["rollback_detail"]
            );
        }
        assert_no_journal(state.path());
        // Stress workers carry `chaosc-` and the first 8 characters of the
        // run id on their command line, and none may outlive the run.
        let run_id = result["run_id"].as_str().unwrap();
        let marker = format!("chaosc-{}-", &run_id[..8]);
        let workers = pids_with(&marker);
        assert!(
            workers.is_empty(),
            "{name}: stress workers left: {workers:?}"
        );
    }

    // The web server of `time_skew.chaos`, with or without a shifted
    // clock, ended with its run.
    assert!(
        pids_with("http.server 19070").is_empty(),
        "the time_skew target still runs"
    );
    assert!(!port_accepts(19070), "port 19070 still accepts connections");

    let scratch = Path::new("/tmp/chaosc-scenarios/scratch");
    let fills: Vec<_> = std::fs::read_dir(scratch)
        .map(|dir| dir.flatten().collect())
        .unwrap_or_default();
    assert!(fills.is_empty(), "fill files left: {fills:?}");
    let ledger = std::fs::read("/tmp/chaosc-scenarios/ledger.bin").unwrap();
    let original: Vec<u8> = (0..=255u8).cycle().take(256 * 64).collect();
    assert!(ledger == original, "the ledger differs from its original");
    let settings = std::fs::read_to_string("/tmp/chaosc-scenarios/settings.json").unwrap();
    // The scenarios' targets made these files; the test removes them before
    // its last check, so a failure there still leaves nothing behind.
    let _ = std::fs::remove_dir_all("/tmp/chaosc-scenarios");
    assert_eq!(settings, "{\"pool\": {\"size\": 10}, \"debug\": false}\n");
}

//! Helpers shared by the integration tests: free loopback ports, a state
//! directory per test, and running the real `chaosc` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Returns a loopback TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// The output of one `chaosc` command.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Parses standard output as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs `chaosc` with `args` and `CHAOSC_STATE_DIR` set to `state_dir`.
pub fn chaosc(state_dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_chaosc"))
        .args(args)
        .env("CHAOSC_STATE_DIR", state_dir)
        .output()
        .expect("run chaosc");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Writes `text` to `name` under `dir` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

/// Runs a scenario with `chaosc run --format json` and returns the result.
pub fn run_json(state_dir: &Path, scenario: &Path) -> Value {
    let scenario = scenario.to_str().expect("UTF-8 path");
    let output = chaosc(state_dir, &["run", "--format", "json", "--quiet", scenario]);
    let result = output.json();
    assert!(
        result["rollback_complete"] == Value::Bool(true),
        "rollback incomplete: {}\nstderr:\n{}",
        output.stdout,
        output.stderr
    );
    result
}

/// Returns the fault results of a run for `step`.
pub fn faults_of<'a>(result: &'a Value, step: &str) -> Vec<&'a Value> {
    let faults = result["faults"].as_array().expect("faults is a list");
    faults
        .iter()
        .filter(|fault| fault["step"] == step)
        .collect()
}

/// Asserts that the journal directory contains no journal, so nothing is left
/// to revert.
pub fn assert_no_journal(state_dir: &Path) {
    let journals: Vec<_> = std::fs::read_dir(state_dir.join("journal"))
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    assert!(journals.is_empty(), "journals left: {journals:?}");
}

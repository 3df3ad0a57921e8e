//! Input that is not a `.chaos` file at all gets a diagnostic and the
//! documented exit code, never a panic.

mod common;

use common::{Sandbox, output};

const USAGE: i32 = 2;
const CHECK_FAILED: i32 = 1;

fn stderr(result: &std::process::Output) -> String {
    String::from_utf8_lossy(&result.stderr).into_owned()
}

#[test]
fn missing_file_is_usage_error() {
    let sandbox = Sandbox::new();
    let result = output(sandbox.chaosc().args(["check", "/nonexistent/file.chaos"]));
    assert_eq!(result.status.code(), Some(USAGE));
    assert!(
        stderr(&result).contains("chaos::E0901"),
        "{}",
        stderr(&result)
    );
    assert!(stderr(&result).contains("no such file"));
}

#[test]
fn directory_without_files_is_usage_error() {
    let sandbox = Sandbox::new();
    let empty = sandbox.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let result = output(sandbox.chaosc().arg("check").arg(&empty));
    assert_eq!(result.status.code(), Some(USAGE));
    assert!(
        stderr(&result).contains("chaos::E0905"),
        "{}",
        stderr(&result)
    );
    assert!(
        stderr(&result).contains("checked 0 files: 1 error"),
        "{}",
        stderr(&result)
    );
}

#[test]
fn run_of_directory_is_usage_error() {
    let sandbox = Sandbox::new();
    let result = output(sandbox.chaosc().arg("run").arg(sandbox.dir.path()));
    assert_eq!(result.status.code(), Some(USAGE));
    assert!(
        stderr(&result).contains("chaos::E0902"),
        "{}",
        stderr(&result)
    );
}

#[test]
fn invalid_utf8_is_usage_error() {
    let sandbox = Sandbox::new();
    let path = sandbox.dir.path().join("binary.chaos");
    std::fs::write(&path, [0x74, 0x61, 0xff, 0xfe, 0x00, 0x80]).unwrap();
    let result = output(sandbox.chaosc().arg("check").arg(&path));
    assert_eq!(result.status.code(), Some(USAGE));
    assert!(
        stderr(&result).contains("chaos::E0903"),
        "{}",
        stderr(&result)
    );
    assert!(stderr(&result).contains("offset 2"));
}

#[test]
fn random_bytes_never_panic() {
    let sandbox = Sandbox::new();
    // A fixed linear congruential sequence keeps the test reproducible.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..40 {
        let bytes: Vec<u8> = (0..512)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 33) as u8
            })
            .collect();
        // Half the rounds keep only printable ASCII, so the parser sees them.
        let bytes: Vec<u8> = if round % 2 == 0 {
            bytes.into_iter().map(|b| b % 95 + 32).collect()
        } else {
            bytes
        };
        let path = sandbox.dir.path().join(format!("random{round}.chaos"));
        std::fs::write(&path, &bytes).unwrap();
        let result = output(sandbox.chaosc().arg("check").arg(&path));
        let code = result.status.code();
        assert!(
            code == Some(CHECK_FAILED) || code == Some(USAGE),
            "round {round}: {code:?}\n{}",
            stderr(&result)
        );
        assert!(
            !stderr(&result).contains("panicked"),
            "round {round} panicked"
        );
    }
}

#[test]
fn empty_file_checks_with_warning() {
    let sandbox = Sandbox::new();
    let path = sandbox.write("empty.chaos", "");
    let check = output(sandbox.chaosc().arg("check").arg(&path));
    assert_eq!(check.status.code(), Some(0));
    assert!(
        stderr(&check).contains("chaos::W0003"),
        "{}",
        stderr(&check)
    );

    let run = output(sandbox.chaosc().arg("run").arg(&path));
    assert_eq!(run.status.code(), Some(CHECK_FAILED));
    assert!(stderr(&run).contains("chaos::E0407"), "{}", stderr(&run));
}

#[test]
fn unknown_flag_is_usage_error() {
    let sandbox = Sandbox::new();
    let result = output(sandbox.chaosc().args(["check", "--frobnicate", "x.chaos"]));
    assert_eq!(result.status.code(), Some(USAGE));
    assert!(stderr(&result).contains("--frobnicate"));
}

#[test]
fn every_command_has_help() {
    let sandbox = Sandbox::new();
    for command in ["check", "run", "plan", "recover"] {
        let result = output(sandbox.chaosc().args([command, "--help"]));
        assert_eq!(result.status.code(), Some(0), "{command} --help");
        assert!(
            String::from_utf8_lossy(&result.stdout).contains("Usage"),
            "{command} --help"
        );
    }
}

#[test]
fn fmt_of_unclosed_brace_is_usage_error() {
    let sandbox = Sandbox::new();
    let path = sandbox.dir.path().join("open.chaos");
    std::fs::write(&path, "experiment e {\n  category = network\n").unwrap();
    let result = output(sandbox.chaosc().arg("fmt").arg(&path));
    assert_eq!(result.status.code(), Some(USAGE));
    assert!(
        stderr(&result).contains("chaos::E0908"),
        "{}",
        stderr(&result)
    );
    assert!(stderr(&result).contains("is never closed"));
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(after, "experiment e {\n  category = network\n");
}

#[test]
fn report_of_unknown_run_is_usage_error() {
    let sandbox = Sandbox::new();
    let result = output(sandbox.chaosc().args(["report", "0000"]));
    assert_eq!(result.status.code(), Some(USAGE));
    assert!(
        stderr(&result).contains("chaos::E0922"),
        "{}",
        stderr(&result)
    );
    assert!(stderr(&result).contains("chaosc history"));
}

#[test]
fn unknown_experiment_is_usage_error() {
    let sandbox = Sandbox::new();
    let file = sandbox.write(
        "one.chaos",
        "experiment only {\n    category = network\n    severity = low\n    duration = 1m\n}\n",
    );
    for command in ["run", "plan"] {
        let result = output(
            sandbox
                .chaosc()
                .args([command, "--experiment", "nope"])
                .arg(&file),
        );
        assert_eq!(result.status.code(), Some(USAGE), "{command}");
        assert!(
            stderr(&result).contains("chaos::E0409"),
            "{command}: {}",
            stderr(&result)
        );
    }
}

//! Data corruption, configuration drift and disk fill on real files, run by
//! the real binary: each change must be observed and then undone bit for
//! bit, also by `chaosc recover` after the run is killed.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_no_journal, chaosc, faults_of, run_json, write_file};

const JSON: &str = "{\n  \"server\": {\"port\": 8080},\n  \"debug\": false\n}\n";
const YAML: &str = "# service settings\nserver:\n  port: 8080\nfeatures: [a, b]\n";
const TOML: &str = "# service settings\n[server]\nport = 8080\n";
const ENV: &str = "# secrets\nDATABASE_URL=postgres://db/app\nexport LOG_LEVEL=info\n";

fn data_bytes() -> Vec<u8> {
    (0..64 * 1024u32)
        .map(|index| (index * 7 % 251) as u8)
        .collect()
}

fn scenario(root: &Path, hold: &str) -> String {
    let root = root.display();
    format!(
        r#"use std::faults::{{corrupt_file, config_drift, disk_fill}}

target data = file {{ path = "{root}/data.bin", root = "{root}" }}
target json = file {{ path = "{root}/app.json", root = "{root}" }}
target yaml = file {{ path = "{root}/app.yaml", root = "{root}" }}
target toml = file {{ path = "{root}/app.toml", root = "{root}" }}
target env = file {{ path = "{root}/.env", root = "{root}" }}
target scratch = directory {{ path = "{root}/scratch" }}

experiment data_faults {{
    category = storage
    severity = low
    duration = 2m
    blast_radius {{ limit = 6 }}
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}

    step flip = inject corrupt_file(offset = 100B, count = 64) on data for {hold} with probability 25%
    step port = inject config_drift(key = "server.port", value = "9090") on json for {hold}
    step feature = inject config_drift(key = "server.port", value = "1") on yaml for {hold}
    step table = inject config_drift(key = "server.tls", value = "true") on toml for {hold}
    step secret = inject config_drift(key = "DATABASE_URL", remove = true) on env for {hold}
    step fill = inject disk_fill(size = 8MiB, keep_free = 1MiB) on scratch for {hold}
}}
"#
    )
}

/// Writes the files of the scenario and returns their original bytes.
fn prepare(root: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    std::fs::create_dir_all(root.join("scratch")).unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("data.bin", data_bytes()),
        ("app.json", JSON.into()),
        ("app.yaml", YAML.into()),
        ("app.toml", TOML.into()),
        (".env", ENV.into()),
    ];
    files
        .into_iter()
        .map(|(name, bytes)| {
            let path = root.join(name);
            std::fs::write(&path, &bytes).unwrap();
            (path, bytes)
        })
        .collect()
}

fn assert_restored(originals: &[(std::path::PathBuf, Vec<u8>)], root: &Path) {
    for (path, bytes) in originals {
        let now = std::fs::read(path).unwrap();
        assert!(
            &now == bytes,
            "{} differs from its original",
            path.display()
        );
    }
    let left: Vec<_> = std::fs::read_dir(root.join("scratch"))
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "fill files left: {left:?}");
}

#[test]
fn data_faults_observed_and_restored() {
    let state = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let originals = prepare(root.path());
    let path = write_file(state.path(), "data.chaos", &scenario(root.path(), "300ms"));
    let result = run_json(state.path(), &path);

    let evidence = [
        ("flip", "differ from the original"),
        ("port", "went from 8080 to 9090"),
        ("feature", "went from 8080 to 1"),
        ("table", "went from absent to true"),
        ("secret", "to absent"),
        ("fill", "holds 8388608 bytes"),
    ];
    for (step, words) in evidence {
        let fault = faults_of(&result, step)[0];
        let verification = fault["verification"].as_str().unwrap_or_default();
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
    }
    assert_eq!(result["status"], "completed", "{}", result["reason"]);
    assert_restored(&originals, root.path());
    assert_no_journal(state.path());
}

#[test]
fn file_outside_root_rejected() {
    let state = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"keep").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), root.path().join("app.json"))
        .unwrap();
    let text = format!(
        r#"use std::faults::config_drift
target cfg = file {{ path = "{root}/app.json", root = "{root}" }}
experiment escape {{
    category = storage
    severity = low
    duration = 1m
    blast_radius {{ limit = 1 }}
    safety {{ rollback = true, emergency_stop = true, business_hours_only = false }}
    step change = inject config_drift(key = "a", value = "1") on cfg for 1s
}}
"#,
        root = root.path().display()
    );
    let path = write_file(state.path(), "escape.chaos", &text);
    let output = chaosc(
        state.path(),
        &["run", "--format", "json", "--quiet", path.to_str().unwrap()],
    );
    let result = output.json();
    assert_eq!(result["status"], "failed");
    let reason = result["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("symbolic link"), "{reason}");
    assert_eq!(
        std::fs::read(outside.path().join("secret")).unwrap(),
        b"keep"
    );
}

#[test]
fn recover_restores_after_kill() {
    let state = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let originals = prepare(root.path());
    let path = write_file(state.path(), "data.chaos", &scenario(root.path(), "1m"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chaosc"))
        .args(["run", "--quiet", "--no-guardian", path.to_str().unwrap()])
        .env("CHAOSC_STATE_DIR", state.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();

    // Wait until the fill file exists, which is the last step to inject.
    let deadline = Instant::now() + Duration::from_secs(20);
    let scratch = root.path().join("scratch");
    while std::fs::read_dir(&scratch).unwrap().count() == 0 {
        assert!(Instant::now() < deadline, "the run did not inject in time");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_ne!(
        std::fs::read(root.path().join("app.json")).unwrap(),
        JSON.as_bytes()
    );

    let output = chaosc(state.path(), &["recover", "--format", "json"]);
    assert_eq!(output.code, 0, "{}\n{}", output.stdout, output.stderr);
    assert_restored(&originals, root.path());
    assert_no_journal(state.path());
}

#[test]
fn overlapping_faults_on_one_file_fail() {
    let state = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let originals = prepare(root.path());
    let shown = root.path().display();
    let text = format!(
        r#"use std::faults::corrupt_file
target data = file {{ path = "{shown}/data.bin", root = "{shown}" }}
target again = file {{ path = "{shown}/./data.bin", root = "{shown}" }}
experiment overlap {{
    category = storage
    severity = low
    duration = 1m
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}
    step first = inject corrupt_file(offset = 0B, count = 64) on data for 1s
    step second = inject corrupt_file(offset = 0B, count = 64) on again for 2s
}}
"#
    );
    let path = write_file(state.path(), "overlap.chaos", &text);
    let result = run_json(state.path(), &path);

    assert_eq!(result["status"], "failed", "{result}");
    let reason = result["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("must not overlap"), "{reason}");
    assert_restored(&originals, root.path());
    assert_no_journal(state.path());
}

//! `chaosc import` on a corpus of Chaos Toolkit experiments: every file
//! converts into a scenario that checks clean, runs against a test-owned
//! HTTP server with the verdict its meaning implies, and reports what it
//! could not map. Malformed experiments get diagnostics that are compared
//! with snapshots.

mod common;

use std::path::{Path, PathBuf};

use common::{OwnedProcess, Sandbox, free_port, json, output, repo};

const SUCCESS: i32 = 0;
const EXPERIMENT_FAILED: i32 = 3;

/// Every corpus file, its exit code under `chaosc run`, and whether the
/// import must warn about elements it could not map.
const CORPUS: &[(&str, i32, bool)] = &[
    ("configuration.yaml", SUCCESS, true),
    // The method's command exits 1, so the `method` plan fails.
    ("failing_action.json", EXPERIMENT_FAILED, false),
    ("http_activities.json", SUCCESS, true),
    ("http_health.json", SUCCESS, false),
    ("jsonpath.json", SUCCESS, true),
    // The hypothesis requests a page the server does not have.
    ("missing_page.json", EXPERIMENT_FAILED, false),
    ("pauses_background.yaml", SUCCESS, false),
    ("process_probes.yaml", SUCCESS, false),
    ("python_controls.yaml", SUCCESS, true),
    ("regex_body.json", SUCCESS, true),
    ("rollbacks_ref.json", SUCCESS, false),
    ("runtime_strategies.json", SUCCESS, true),
    ("secrets.json", SUCCESS, true),
    ("shell_arguments.yaml", SUCCESS, true),
    ("status_list.json", SUCCESS, true),
    ("status_range.yaml", SUCCESS, false),
    // The method removes the file the hypothesis checks.
    ("steady_state_lost.json", EXPERIMENT_FAILED, false),
];

/// Copies a corpus file into the sandbox with its placeholders filled in.
fn instantiate(sandbox: &Sandbox, name: &str, port: u16) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("tests/import").join(name)).unwrap();
    let text = text
        .replace("{{PORT}}", &port.to_string())
        .replace("{{DIR}}", &sandbox.dir.path().display().to_string());
    sandbox.write(name, &text)
}

/// Imports `input` into `NAME.chaos` beside it and returns that path.
fn import(sandbox: &Sandbox, input: &Path) -> (PathBuf, String) {
    let out = input.with_extension("chaos");
    let result = output(
        sandbox
            .chaosc()
            .arg("import")
            .arg(input)
            .arg("-o")
            .arg(&out),
    );
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    assert_eq!(
        result.status.code(),
        Some(0),
        "import of {} failed:\n{stderr}",
        input.display()
    );
    (out, stderr)
}

#[test]
fn corpus_covers_every_file() {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("tests/import"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let listed: Vec<String> = CORPUS.iter().map(|(name, ..)| (*name).to_owned()).collect();
    assert_eq!(files, listed);
    assert!(
        files.len() >= 15,
        "the corpus has only {} files",
        files.len()
    );
}

#[test]
fn corpus_imports_and_checks_clean() {
    let sandbox = Sandbox::new();
    for (name, _, warns) in CORPUS {
        let input = instantiate(&sandbox, name, 8080);
        let (out, stderr) = import(&sandbox, &input);
        let check = output(
            sandbox
                .chaosc()
                .args(["check", "--deny-warnings"])
                .arg(&out),
        );
        assert_eq!(
            check.status.code(),
            Some(0),
            "{name} does not check clean:\n{}\n{}",
            String::from_utf8_lossy(&check.stderr),
            std::fs::read_to_string(&out).unwrap()
        );
        assert!(stderr.contains("import summary:"), "{name}: no summary");
        let has_warning = stderr.contains("chaos::W07");
        assert_eq!(has_warning, *warns, "{name} warnings:\n{stderr}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            text.contains("// UNMAPPED"),
            stderr.contains("chaos::W0750"),
            "{name}: placeholders and warnings disagree"
        );
    }
}

#[test]
fn corpus_runs_with_expected_verdicts() {
    let sandbox = Sandbox::new();
    let port = free_port();
    let _server = OwnedProcess::http_server(port);
    sandbox.write("marker", "");
    for (name, expected, _) in CORPUS {
        let input = instantiate(&sandbox, name, port);
        let (out, _) = import(&sandbox, &input);
        let run = output(sandbox.chaosc().args(["run", "--format", "json"]).arg(&out));
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(*expected), "{name}:\n{stderr}");
        let result = json(&run);
        let status = if *expected == SUCCESS {
            "completed"
        } else {
            "failed"
        };
        assert_eq!(result["status"], status, "{name}:\n{stderr}");
        sandbox.assert_no_journal();
    }
}

#[test]
fn method_runs_in_order_with_pauses() {
    let sandbox = Sandbox::new();
    let port = free_port();
    let _server = OwnedProcess::http_server(port);
    let input = instantiate(&sandbox, "pauses_background.yaml", port);
    let (out, _) = import(&sandbox, &input);
    let run = output(sandbox.chaosc().args(["run", "--format", "json"]).arg(&out));
    let result = json(&run);
    let method = &result["recovery"][0];
    assert_eq!(method["plan"], "method");
    // The background `sleep 2` runs beside the 0.5s and 1s pauses, and the
    // plan ends only when it has ended.
    let seconds = method["recovery_time_seconds"].as_f64().unwrap();
    assert!(seconds >= 2.0, "the method took only {seconds}s");
    assert!(seconds < 10.0, "the method took {seconds}s");
}

#[test]
fn secrets_are_never_written() {
    let sandbox = Sandbox::new();
    let input = instantiate(&sandbox, "secrets.json", 8080);
    let (out, stderr) = import(&sandbox, &input);
    let text = std::fs::read_to_string(out).unwrap();
    assert!(!text.contains("s3cr3t-inline-value"), "{text}");
    assert!(!stderr.contains("s3cr3t-inline-value"), "{stderr}");
    assert!(text.contains("secret `admin.api_password`"), "{text}");
    assert!(text.contains("\"Authorization\":\"<redacted>\""), "{text}");
    assert!(stderr.contains("chaos::W0752"), "{stderr}");
}

#[test]
fn import_writes_to_stdout_without_output() {
    let sandbox = Sandbox::new();
    let input = instantiate(&sandbox, "http_health.json", 8080);
    let result = output(sandbox.chaosc().arg("import").arg(&input));
    assert_eq!(result.status.code(), Some(0));
    let text = String::from_utf8_lossy(&result.stdout);
    assert!(
        text.contains("experiment home_page_survives_a_cache_flush {"),
        "{text}"
    );
    assert!(text.contains("recovery plan rollbacks {"), "{text}");
}

#[test]
fn unreadable_input_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let result = output(sandbox.chaosc().args(["import", "no-such-file.json"]));
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("chaos::E0708"), "{stderr}");
}

#[test]
fn malformed_inputs_match_snapshots() {
    let sandbox = Sandbox::new();
    let mut files: Vec<_> = std::fs::read_dir(repo().join("tests/import_bad"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .collect();
    files.sort();
    assert!(files.len() >= 8, "only {} malformed inputs", files.len());

    for path in files {
        let relative = path.strip_prefix(repo()).unwrap();
        let result = output(
            sandbox
                .chaosc()
                .current_dir(repo())
                .arg("import")
                .arg(relative),
        );
        let name = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace('.', "_");
        assert_eq!(result.status.code(), Some(1), "exit code of {name}");
        assert!(result.stdout.is_empty(), "{name} wrote a scenario");
        insta::assert_snapshot!(
            format!("import_{name}"),
            String::from_utf8_lossy(&result.stderr)
        );
    }
}

#[test]
fn request_headers_and_body_are_mapped() {
    let sandbox = Sandbox::new();
    let port = free_port();
    let experiment = format!(
        r#"{{
  "title": "Headers reach the service",
  "description": "An HTTP probe with headers and a JSON body.",
  "steady-state-hypothesis": {{
    "title": "The service answers",
    "probes": [
      {{
        "type": "probe",
        "name": "with-headers",
        "tolerance": 200,
        "provider": {{
          "type": "http",
          "url": "http://127.0.0.1:{port}/",
          "method": "PUT",
          "headers": {{"Accept": "text/plain", "X-Request-Source": "chaos"}},
          "arguments": {{"feature": "search"}}
        }}
      }},
      {{
        "type": "probe",
        "name": "with-credentials",
        "tolerance": 200,
        "provider": {{
          "type": "http",
          "url": "http://127.0.0.1:{port}/",
          "headers": {{"Authorization": "Bearer hunter2"}}
        }}
      }}
    ]
  }},
  "method": []
}}"#
    );
    let input = sandbox.write("headers.json", &experiment);
    let (out, _) = import(&sandbox, &input);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains(r#"http PUT "http://127.0.0.1:"#), "{text}");
    assert!(
        text.contains(r#"with { headers = { "Accept" = "text/plain", "X-Request-Source" = "chaos" }, body = "{\"feature\":\"search\"}" }"#),
        "{text}"
    );
    // A header that may hold a credential is never written.
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        text.contains("UNMAPPED $.steady-state-hypothesis.probes[1]"),
        "{text}"
    );
}

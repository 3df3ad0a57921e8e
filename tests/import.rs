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
    ("jsonpath.json", SUCCESS, false),
    // The hypothesis requests a page the server does not have.
    ("missing_page.json", EXPERIMENT_FAILED, false),
    ("pauses_background.yaml", SUCCESS, false),
    ("process_probes.yaml", SUCCESS, false),
    ("python_controls.yaml", SUCCESS, true),
    // The method's regex judges headers, which chaosc probes do not read.
    ("regex_body.json", SUCCESS, true),
    // One pattern uses a lookbehind, which the Rust `regex` crate lacks.
    ("regex_dialect.json", SUCCESS, true),
    ("rollbacks_ref.json", SUCCESS, false),
    ("runtime_strategies.json", SUCCESS, true),
    ("secrets.json", SUCCESS, true),
    ("shell_arguments.yaml", SUCCESS, true),
    ("status_list.json", SUCCESS, true),
    ("status_range.yaml", SUCCESS, false),
    // The method removes the file the hypothesis checks.
    ("steady_state_lost.json", EXPERIMENT_FAILED, false),
    // The only rollback calls Python, so its placeholder is outside any plan.
    ("unmapped_rollbacks.json", SUCCESS, true),
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
        let formatted = output(sandbox.chaosc().args(["fmt", "--check"]).arg(&out));
        assert_eq!(
            formatted.status.code(),
            Some(0),
            "{name} is not laid out as `chaosc fmt` would:\n{}",
            std::fs::read_to_string(&out).unwrap()
        );
        let has_warning = stderr.contains("chaos::W07");
        assert_eq!(has_warning, *warns, "{name} warnings:\n{stderr}");
        // Every placeholder has one warning: W0750, or W0753 and W0754 for
        // a pattern or JSON path construct.
        let text = std::fs::read_to_string(&out).unwrap();
        let placeholders = text.matches("// UNMAPPED").count();
        let placeholder_warnings = ["chaos::W0750", "chaos::W0753", "chaos::W0754"]
            .iter()
            .map(|code| stderr.matches(code).count())
            .sum::<usize>();
        assert_eq!(
            placeholders, placeholder_warnings,
            "{name}: placeholders and warnings disagree:\n{stderr}"
        );
    }
}

/// The document the test server sends for `/health`.
const HEALTH: &str = r#"{"status": "UP", "checks": [{"name": "db", "ok": true}, {"name": "cache", "ok": true}], "version": "2.4.1"}"#;

#[test]
fn corpus_runs_with_expected_verdicts() {
    let sandbox = Sandbox::new();
    let port = free_port();
    sandbox.write("health", HEALTH);
    let _server = OwnedProcess::http_server_in(port, sandbox.dir.path());
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
fn constructs_without_equivalent_are_marked() {
    let sandbox = Sandbox::new();
    let input = "tests/import_constructs/constructs.yaml";
    let result = output(sandbox.chaosc().current_dir(repo()).args(["import", input]));
    assert_eq!(result.status.code(), Some(0));
    let text = String::from_utf8_lossy(&result.stdout);
    assert_eq!(text.matches("// UNMAPPED").count(), 4, "{text}");
    insta::assert_snapshot!(
        "import_constructs_yaml",
        String::from_utf8_lossy(&result.stderr)
    );
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

/// Returns an experiment whose one steady-state probe requests `/health` and
/// judges it with `tolerance`, written as JSON.
fn health_experiment(port: u16, tolerance: &str) -> String {
    let provider =
        format!(r#"{{"type": "http", "url": "http://127.0.0.1:{port}/health", "timeout": 2}}"#);
    experiment_with_probe(&provider, tolerance)
}

/// Returns an experiment whose one steady-state probe is `provider` judged
/// by `tolerance`, both written as JSON.
fn experiment_with_probe(provider: &str, tolerance: &str) -> String {
    format!(
        r#"{{
  "title": "Health document is judged",
  "steady-state-hypothesis": {{
    "title": "The health document holds",
    "probes": [
      {{
        "type": "probe",
        "name": "health",
        "tolerance": {tolerance},
        "provider": {provider}
      }}
    ]
  }},
  "method": [{{"type": "action", "name": "noop", "provider": {{"type": "process", "path": "true"}}}}]
}}"#
    )
}

/// Returns the error of the first failing steady-state sample of `probe`,
/// taken before or after the plans.
fn failing_probe_error(result: &serde_json::Value, probe: &str) -> Option<String> {
    ["before", "after"]
        .iter()
        .filter_map(|phase| result["steady_state"][phase].as_array())
        .flatten()
        .find(|sample| sample["probe"] == probe && sample["ok"] == false)
        .map(|sample| sample["error"].as_str().unwrap_or_default().to_owned())
}

#[test]
fn regex_tolerances_judge_the_body() {
    let sandbox = Sandbox::new();
    let port = free_port();
    sandbox.write("health", &format!("{HEALTH}\n"));
    let _server = OwnedProcess::http_server_in(port, sandbox.dir.path());

    // Each tolerance, the expectation it becomes, and the verdict of a run
    // against HEALTH.
    let cases = [
        (
            r#"{"type": "regex", "pattern": "\"version\": \"2\\.\\d+\\.\\d+\"", "target": "body"}"#,
            r#"body =~ "\"version\": \"2\\.\\d+\\.\\d+\"""#,
            SUCCESS,
        ),
        (
            r#"{"type": "regex", "pattern": "\"ok\": true}]", "target": "body"}"#,
            r#"body =~ "\"ok\": true\\}\\]""#,
            SUCCESS,
        ),
        (
            r#"{"type": "regex", "pattern": "^\\{\"status\": \"DOWN\"", "target": "body"}"#,
            r#"body =~ "^\\{\"status\": \"DOWN\"""#,
            EXPERIMENT_FAILED,
        ),
        // The server sends a final newline, before which Python's `$` matches.
        (
            r#"{"type": "regex", "pattern": "(?i)\"VERSION\": \"2\\.4\\.1\"}$", "target": "body"}"#,
            r#"body =~ "(?i)\"VERSION\": \"2\\.4\\.1\"\\}(?:\\n?\\z)""#,
            SUCCESS,
        ),
    ];
    for (tolerance, written, expected) in cases {
        let input = sandbox.write("judged.json", &health_experiment(port, tolerance));
        let (out, _) = import(&sandbox, &input);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.contains(&format!("expect status >= 100 and {written} within 2s")),
            "{tolerance} is not written as {written}:\n{text}"
        );

        let run = output(sandbox.chaosc().args(["run", "--format", "json"]).arg(&out));
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(expected), "{tolerance}:\n{stderr}");
        let result = json(&run);
        let failure = failing_probe_error(&result, "health");
        if expected == SUCCESS {
            assert_eq!(failure, None, "{tolerance}: {result}");
            assert_eq!(result["steady_state"]["held_before"], true, "{tolerance}");
            assert_eq!(result["steady_state"]["held_after"], true, "{tolerance}");
        } else {
            let error =
                failure.unwrap_or_else(|| panic!("{tolerance}: no failing probe in {result}"));
            assert!(error.contains(written), "{tolerance}: {error}");
            assert!(error.contains("does not hold"), "{tolerance}: {error}");
        }
        sandbox.assert_no_journal();
    }
}

#[test]
fn json_path_tolerances_judge_the_document() {
    let sandbox = Sandbox::new();
    let port = free_port();
    let document = sandbox.write("health", HEALTH);
    let _server = OwnedProcess::http_server_in(port, sandbox.dir.path());
    let http =
        format!(r#"{{"type": "http", "url": "http://127.0.0.1:{port}/health", "timeout": 2}}"#);
    let command = format!(
        r#"{{"type": "process", "path": "cat", "arguments": [{}], "timeout": 2}}"#,
        serde_json::Value::from(document.display().to_string())
    );

    // Each provider and tolerance, the comparison it becomes, and the
    // verdict of a run against HEALTH.
    let cases = [
        (
            &http,
            r#"{"type": "jsonpath", "path": "$.status", "expect": "UP", "target": "body"}"#,
            r#"json("$.status") == "UP""#,
            SUCCESS,
        ),
        (
            &http,
            r#"{"type": "jsonpath", "path": "$.status", "expect": "DOWN", "target": "body"}"#,
            r#"json("$.status") == "DOWN""#,
            EXPERIMENT_FAILED,
        ),
        (
            &http,
            r#"{"type": "jsonpath", "path": "$.checks[*].name", "expect": ["db", "cache"], "target": "body"}"#,
            r#"json("$.checks[*].name") == ["db", "cache"]"#,
            SUCCESS,
        ),
        (
            &http,
            r#"{"type": "jsonpath", "path": "$.checks.*.ok", "expect": [true, false], "target": "body"}"#,
            r#"json("$.checks[*].ok") == [true, false]"#,
            EXPERIMENT_FAILED,
        ),
        (
            &http,
            r#"{"type": "jsonpath", "path": "$[\"checks\"][0]", "expect": {"ok": true, "name": "db"}, "target": "body"}"#,
            r#"json("$.checks[0]") == { "ok" = true, "name" = "db" }"#,
            SUCCESS,
        ),
        (
            &http,
            r#"{"type": "jsonpath", "path": "$.checks[*]", "count": 2, "target": "body"}"#,
            r#"json_count("$.checks[*]") == 2"#,
            SUCCESS,
        ),
        (
            &http,
            r#"{"type": "jsonpath", "path": "$.checks[*]", "count": 3, "target": "body"}"#,
            r#"json_count("$.checks[*]") == 3"#,
            EXPERIMENT_FAILED,
        ),
        (
            &http,
            r#"{"type": "jsonpath", "path": "$.version", "target": "body"}"#,
            r#"json_count("$.version") >= 1"#,
            SUCCESS,
        ),
        (
            &http,
            r#"{"type": "jsonpath", "path": "$.uptime", "target": "body"}"#,
            r#"json_count("$.uptime") >= 1"#,
            EXPERIMENT_FAILED,
        ),
        (
            &command,
            r#"{"type": "jsonpath", "path": "$.checks[-1].name", "expect": "cache", "target": "stdout"}"#,
            r#"json("$.checks[-1].name") == "cache""#,
            SUCCESS,
        ),
        (
            &command,
            r#"{"type": "jsonpath", "path": "$.checks[-1].name", "expect": "db", "target": "stdout"}"#,
            r#"json("$.checks[-1].name") == "db""#,
            EXPERIMENT_FAILED,
        ),
    ];
    for (provider, tolerance, written, expected) in cases {
        let input = sandbox.write("judged.json", &experiment_with_probe(provider, tolerance));
        let (out, stderr) = import(&sandbox, &input);
        assert!(!stderr.contains("chaos::W07"), "{tolerance}:\n{stderr}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.contains(&format!("{written} within 2s")),
            "{tolerance} is not written as {written}:\n{text}"
        );

        let run = output(sandbox.chaosc().args(["run", "--format", "json"]).arg(&out));
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(expected), "{tolerance}:\n{stderr}");
        let result = json(&run);
        let failure = failing_probe_error(&result, "health");
        if expected == SUCCESS {
            assert_eq!(failure, None, "{tolerance}: {result}");
            assert_eq!(result["steady_state"]["held_before"], true, "{tolerance}");
            assert_eq!(result["steady_state"]["held_after"], true, "{tolerance}");
        } else {
            let error =
                failure.unwrap_or_else(|| panic!("{tolerance}: no failing probe in {result}"));
            let subject = written.split(" ==").next().unwrap();
            assert!(error.contains(subject), "{tolerance}: {error}");
            assert!(error.contains("does not hold"), "{tolerance}: {error}");
        }
        sandbox.assert_no_journal();
    }
}

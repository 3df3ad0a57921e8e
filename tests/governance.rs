//! Governance on the real binary: approvals bound to content, time windows,
//! the risk and impact in the plan, target locks, the audit chain against
//! tampering, and the compliance report.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{OwnedProcess, RunningChaosc, Sandbox, free_port, output};

/// Writes a scenario of a latency fault through a proxy in front of `upstream`,
/// touching the `checkout` service; `extra` goes into the experiment.
fn scenario(sandbox: &Sandbox, name: &str, upstream: u16, front: u16, extra: &str) -> PathBuf {
    let text = format!(
        r#"use std::faults::latency
service checkout {{
    tier = high
    revenue_per_minute = 120 USD
    customers = 2000
    data = [cardholder]
    mtd = 1h
    rto = 5m
}}
target front = proxy {{
    listen = 127.0.0.1:{front}
    upstream = 127.0.0.1:{upstream}
}}
experiment {name} {{
    category = network
    severity = low
    duration = 1m
    created_by = "alice"
    safety {{ timeout = 30s, business_hours_only = false }}
    blast_radius {{ services = [checkout] }}
    {extra}
    steady_state {{
        probe home = http GET "http://127.0.0.1:{front}/" within 2s every 200ms
    }}
    step slow = inject latency(delay = 50ms) on front for 1s
    success {{ home.success_rate >= 90% }}
    recovery plan settle (strategy = immediate_rollback, rto = 30s) {{
        action check = probe home timeout 10s
    }}
}}
"#
    );
    sandbox.write(&format!("{name}.chaos"), &text)
}

/// Writes a local policy file that lets tests set the clock.
fn test_policy(sandbox: &Sandbox, extra: &str) -> PathBuf {
    sandbox.write(
        "policy.toml",
        &format!("allow_clock_override = true\n{extra}"),
    )
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A time outside every framework blackout window, on a weekday at 10:00 UTC.
const MARCH: &str = "2026-03-04T10:00:00Z";

#[test]
fn approvals_gate_the_run_and_edits_void_them() {
    let sandbox = Sandbox::new();
    let (upstream, front) = (free_port(), free_port());
    let _server = OwnedProcess::http_server(upstream);
    let file = scenario(
        &sandbox,
        "approved",
        upstream,
        front,
        "compliance { frameworks = [pci_dss], required_approvals = [\"security_officer\"] }",
    );
    let policy = test_policy(&sandbox, "");
    let run = |sandbox: &Sandbox| {
        output(
            sandbox
                .chaosc()
                .arg("--policy")
                .arg(&policy)
                .args(["run", "--now", MARCH, "--format", "json"])
                .arg(&file),
        )
    };

    let rejected = run(&sandbox);
    assert_eq!(rejected.status.code(), Some(2), "{}", stderr(&rejected));
    assert!(
        stderr(&rejected).contains("chaos::E1002"),
        "{}",
        stderr(&rejected)
    );
    assert!(stderr(&rejected).contains("`security_officer`"));
    assert!(stderr(&rejected).contains("framework pci_dss"));

    let anonymous = output(
        sandbox
            .chaosc()
            .env_remove("CHAOSC_ACTOR")
            .args(["approve", "--role", "security_officer"])
            .arg(&file),
    );
    assert_eq!(anonymous.status.code(), Some(2));
    assert!(stderr(&anonymous).contains("chaos::E1005"));

    let wrong_role = output(
        sandbox
            .chaosc()
            .args(["--as", "bob", "approve", "--role", "janitor"])
            .arg(&file),
    );
    assert_eq!(wrong_role.status.code(), Some(2));
    assert!(stderr(&wrong_role).contains("chaos::E1003"));

    // The requester approving alone does not count under `not_alone`.
    let own = output(
        sandbox
            .chaosc()
            .args(["--as", "alice", "approve", "--role", "security_officer"])
            .arg(&file),
    );
    assert_eq!(own.status.code(), Some(0), "{}", stderr(&own));
    let still_rejected = run(&sandbox);
    assert_eq!(still_rejected.status.code(), Some(2));
    assert!(
        stderr(&still_rejected).contains("may not approve it alone"),
        "{}",
        stderr(&still_rejected)
    );

    let bob = output(
        sandbox
            .chaosc()
            .args(["--as", "bob", "approve", "--role", "security_officer"])
            .args(["--comment", "reviewed the blast radius"])
            .arg(&file),
    );
    assert_eq!(bob.status.code(), Some(0), "{}", stderr(&bob));
    let listed = common::json(&output(
        sandbox
            .chaosc()
            .args(["approvals", "--format", "json"])
            .arg(&file),
    ));
    assert_eq!(listed["status"]["missing"], serde_json::json!([]));

    let approved = run(&sandbox);
    assert_eq!(approved.status.code(), Some(0), "{}", stderr(&approved));
    let result = common::json(&approved);
    let governance = &result["governance"];
    assert_eq!(governance["risk"]["level"], "low");
    assert_eq!(governance["frameworks"], serde_json::json!(["pci_dss"]));
    assert_eq!(governance["impact"]["services"][0]["service"], "checkout");
    assert!(governance["observed_impact"]["cost"].is_array());
    let run_id = result["run_id"].as_str().unwrap();
    let markdown = stdout(&output(sandbox.chaosc().args(["report", run_id])));
    assert!(markdown.contains("## Governance"), "{markdown}");
    assert!(
        markdown.contains("- approval `security_officer`: alice, bob"),
        "{markdown}"
    );
    assert!(markdown.contains("estimated cost 200.00 USD"), "{markdown}");

    // Any edit voids the approvals.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}// edited after approval\n")).unwrap();
    let voided = run(&sandbox);
    assert_eq!(voided.status.code(), Some(2));
    assert!(stderr(&voided).contains("scenario changed"));
    let listed = stdout(&output(sandbox.chaosc().arg("approvals").arg(&file)));
    assert!(listed.contains("security_officer"), "{listed}");
    assert!(
        listed.contains("void: `security_officer` by `bob`"),
        "{listed}"
    );
    sandbox.assert_no_journal();
}

#[test]
fn windows_reject_and_name_next_opening() {
    let sandbox = Sandbox::new();
    let (upstream, front) = (free_port(), free_port());
    let file = scenario(
        &sandbox,
        "windowed",
        upstream,
        front,
        "schedule { zone = \"Europe/Paris\", blackout = [\"2026-03-02T08:00..2026-03-02T12:00\"] }",
    );
    let hours = sandbox.write(
        "hours.chaos",
        &std::fs::read_to_string(&file)
            .unwrap()
            .replace("business_hours_only = false", "business_hours_only = true"),
    );

    // Without the policy's consent the clock cannot be set.
    let forbidden = output(sandbox.chaosc().args(["run", "--now", MARCH]).arg(&file));
    assert_eq!(forbidden.status.code(), Some(2));
    assert!(
        stderr(&forbidden).contains("chaos::E1010"),
        "{}",
        stderr(&forbidden)
    );

    let policy = test_policy(&sandbox, "");
    let run_with = |flags: &[&str], file: &Path, now: &str| {
        output(
            sandbox
                .chaosc()
                .arg("--policy")
                .arg(&policy)
                .arg("run")
                .args(flags)
                .args(["--now", now])
                .arg(file),
        )
    };
    let run_at = |file: &Path, now: &str| run_with(&[], file, now);
    // A dry run judges the windows at the same time, and checks the time.
    let dry = |now: &str| run_with(&["--dry-run"], &file, now);
    let planned = dry("2026-03-02T10:00:00+01:00");
    assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));
    let text = String::from_utf8_lossy(&planned.stdout).into_owned();
    assert!(
        text.contains("closed at 2026-03-02T10:00:00+01:00"),
        "{text}"
    );
    let garbage = dry("tomorrow");
    assert_eq!(garbage.status.code(), Some(2));
    assert!(
        stderr(&garbage).contains("chaos::E1011"),
        "{}",
        stderr(&garbage)
    );
    let forbidden = output(
        sandbox
            .chaosc()
            .args(["run", "--dry-run", "--now", MARCH])
            .arg(&file),
    );
    assert!(
        stderr(&forbidden).contains("chaos::E1010"),
        "{}",
        stderr(&forbidden)
    );

    let blackout = run_at(&file, "2026-03-02T10:00:00+01:00");
    assert_eq!(blackout.status.code(), Some(2));
    let text = stderr(&blackout);
    assert!(text.contains("chaos::E1012"), "{text}");
    assert!(text.contains("2026-03-02T12:00:00+01:00"), "{text}");

    // Saturday in Paris: business hours open on Monday at 09:00.
    let weekend = run_at(&hours, "2026-03-07T15:00:00+01:00");
    let text = stderr(&weekend);
    assert_eq!(weekend.status.code(), Some(2), "{text}");
    assert!(text.contains("chaos::E1013"), "{text}");
    assert!(text.contains("Europe/Paris"), "{text}");
    assert!(text.contains("2026-03-09T09:00:00+01:00"), "{text}");

    // A framework's annual window (pci_dss, 11-20..12-31 UTC) applies too.
    let pci = sandbox.write(
        "pci.chaos",
        &std::fs::read_to_string(&file).unwrap().replace(
            "schedule {",
            "compliance { frameworks = [pci_dss], required_approvals = [\"security_officer\"] }
    schedule {",
        ),
    );
    let frozen = run_at(&pci, "2026-12-01T10:00:00Z");
    let text = stderr(&frozen);
    assert!(text.contains("`11-20..12-31`"), "{text}");
    assert!(text.contains("pci_dss"), "{text}");
    assert!(text.contains("2027-01-01T01:00:00+01:00"), "{text}");

    let bad_zone = sandbox.write(
        "zone.chaos",
        &std::fs::read_to_string(&file)
            .unwrap()
            .replace("Europe/Paris", "Europe/Atlantis"),
    );
    let checked = output(sandbox.chaosc().arg("check").arg(&bad_zone));
    assert_eq!(checked.status.code(), Some(1));
    assert!(stderr(&checked).contains("is not in the IANA time zone database"));
}

#[test]
fn plan_explains_risk_and_impact() {
    let sandbox = Sandbox::new();
    let file = scenario(&sandbox, "assessed", free_port(), free_port(), "");
    let plan = output(sandbox.chaosc().arg("plan").arg(&file));
    let text = stdout(&plan);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    assert!(text.contains("risk low (score 0"), "{text}");
    assert!(text.contains("severity      low"), "{text}");
    assert!(text.contains("governance:\n  policy sha256:"), "{text}");
    assert!(
        text.contains("  compliance: no framework, no approval role\n"),
        "{text}"
    );
    assert!(
        !text.contains("[]"),
        "the plan prints an empty list: {text}"
    );
    assert!(
        text.contains("business impact of the worst case: 100s down"),
        "{text}"
    );
    assert!(text.contains("regulatory exposure: pci_dss"), "{text}");

    let impact = common::json(&output(
        sandbox
            .chaosc()
            .args(["impact", "--format", "json"])
            .arg(&file),
    ));
    // 60s duration + 30s rollback timeout + 10s recovery, at 120 USD a minute.
    assert_eq!(impact["worst_case_seconds"], 100.0);
    let cost = impact["cost"][0]["amount"].as_f64().unwrap();
    assert!((cost - 200.0).abs() < 1e-6, "{cost}");
    assert_eq!(impact["cost"][0]["currency"], "USD");
    assert_eq!(impact["customers"], 2000);
    assert_eq!(impact["services"][0]["rto_seconds"], 300.0);
}

#[test]
fn policy_file_changes_pinned_identity() {
    let sandbox = Sandbox::new();
    let file = scenario(&sandbox, "pinned", free_port(), free_port(), "");
    let plan = stdout(&output(sandbox.chaosc().arg("plan").arg(&file)));
    let hash = plan
        .lines()
        .find_map(|line| line.trim().strip_prefix("policy "))
        .expect("the plan prints the policy identity")
        .to_owned();
    let pinned = sandbox.write(
        "pinned_copy.chaos",
        &std::fs::read_to_string(&file)
            .unwrap()
            .replace("created_by = \"alice\"", &format!("policy = \"{hash}\"")),
    );
    let clean = output(sandbox.chaosc().arg("check").arg(&pinned));
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));

    // A local policy file in the state directory is part of the identity.
    std::fs::create_dir_all(sandbox.state_dir()).unwrap();
    std::fs::write(
        sandbox.state_dir().join("policy.toml"),
        "[risk_approvals]\nmedium = [\"team_lead\"]\n",
    )
    .unwrap();
    let changed = output(sandbox.chaosc().arg("check").arg(&pinned));
    assert_eq!(changed.status.code(), Some(1));
    assert!(stderr(&changed).contains("policy"), "{}", stderr(&changed));
}

#[test]
fn second_run_on_same_target_is_rejected() {
    let sandbox = Sandbox::new();
    let upstream = free_port();
    let (shared, other) = (free_port(), free_port());
    let _server = OwnedProcess::http_server(upstream);
    let first = scenario(&sandbox, "first", upstream, shared, "");
    let held = std::fs::read_to_string(&first)
        .unwrap()
        .replace("for 1s", "for 4s");
    std::fs::write(&first, held).unwrap();
    let second = scenario(&sandbox, "second", upstream, shared, "");
    let distinct = scenario(&sandbox, "distinct", upstream, other, "");

    let a = RunningChaosc::start(sandbox.chaosc().arg("run").arg(&first));
    a.wait_for_line("step `slow`: injected", Duration::from_secs(20));
    let rejected = output(sandbox.chaosc().arg("run").arg(&second));
    let text = stderr(&rejected);
    assert_eq!(rejected.status.code(), Some(2), "{text}");
    assert!(text.contains("chaos::E1020"), "{text}");
    assert!(
        text.contains(&format!("proxy 127.0.0.1:{shared}")),
        "{text}"
    );
    let alongside = output(sandbox.chaosc().arg("run").arg(&distinct));
    assert_eq!(alongside.status.code(), Some(0), "{}", stderr(&alongside));
    let a = a.finish(Duration::from_secs(60));
    assert_eq!(a.code, Some(0), "{}", a.stderr);

    // A lock left by a process that is gone is taken over.
    let db = sandbox.state_dir().join("chaosc.db");
    let connection = rusqlite::Connection::open(&db).unwrap();
    connection
        .execute(
            "INSERT INTO target_locks (key, target, run_id, pid, start_time, acquired_at)
             VALUES (?1, 'front', 'gone', ?2, 1, '2026-01-01T00:00:00Z')",
            rusqlite::params![format!("proxy 127.0.0.1:{shared}"), std::process::id()],
        )
        .unwrap();
    let after = output(sandbox.chaosc().arg("run").arg(&second));
    assert_eq!(after.status.code(), Some(0), "{}", stderr(&after));
    assert!(
        stderr(&after).contains("took over the lock"),
        "{}",
        stderr(&after)
    );
    let left: i64 = connection
        .query_row("SELECT COUNT(*) FROM target_locks", [], |row| row.get(0))
        .unwrap();
    assert_eq!(left, 0);
    sandbox.assert_no_journal();
}

/// Fills a trail with records and returns the store's path.
fn filled_trail(sandbox: &Sandbox) -> PathBuf {
    let file = scenario(sandbox, "audited", free_port(), free_port(), "");
    for _ in 0..3 {
        let checked = output(sandbox.chaosc().args(["--as", "carol", "check"]).arg(&file));
        assert_eq!(checked.status.code(), Some(0), "{}", stderr(&checked));
    }
    // Without `--as`, `$CHAOSC_ACTOR` or `$USER`, the actor is the account.
    let planned = output(
        sandbox
            .chaosc()
            .env_remove("USER")
            .env_remove("CHAOSC_ACTOR")
            .arg("plan")
            .arg(&file),
    );
    assert_eq!(planned.status.code(), Some(0));
    sandbox.state_dir().join("chaosc.db")
}

/// Copies the store, applies `tamper` to the copy and returns what
/// `audit verify` printed and its exit code.
fn verify_after(sandbox: &Sandbox, db: &Path, name: &str, tamper: &str) -> (Option<i32>, String) {
    let copy = sandbox.dir.path().join(format!("{name}.db"));
    std::fs::copy(db, &copy).unwrap();
    let connection = rusqlite::Connection::open(&copy).unwrap();
    connection.execute_batch(tamper).unwrap();
    drop(connection);
    let verified = output(
        sandbox
            .chaosc()
            .arg("--db")
            .arg(&copy)
            .args(["audit", "verify"]),
    );
    (verified.status.code(), stderr(&verified))
}

#[test]
fn audit_chain_detects_tampering() {
    let sandbox = Sandbox::new();
    let db = filled_trail(&sandbox);
    // Fold the write-ahead log into the file so that copies hold every row.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();

    let intact = output(sandbox.chaosc().args(["audit", "verify"]));
    assert_eq!(intact.status.code(), Some(0), "{}", stderr(&intact));
    assert!(
        stdout(&intact).contains("audit trail intact: 4 records"),
        "{}",
        stdout(&intact)
    );

    let cases = [
        (
            "changed",
            "UPDATE audit SET actor = 'mallory' WHERE sequence = 2;",
            "record 2",
        ),
        (
            "deleted",
            "DELETE FROM audit WHERE sequence = 2;",
            "record 2 is missing",
        ),
        (
            "deleted_last",
            "DELETE FROM audit WHERE sequence = 4;",
            "its head names record 4",
        ),
        (
            "inserted",
            "INSERT INTO audit (sequence, at, actor, action, policy_hash, details,
             previous_hash, hash) SELECT 9, at, actor, action, policy_hash, details,
             hash, hash FROM audit WHERE sequence = 4;",
            "record 5 is missing",
        ),
        (
            "reordered",
            "UPDATE audit SET sequence = 100 WHERE sequence = 2;
             UPDATE audit SET sequence = 2 WHERE sequence = 3;
             UPDATE audit SET sequence = 3 WHERE sequence = 100;",
            "record 2",
        ),
    ];
    for (name, tamper, expected) in cases {
        let (code, text) = verify_after(&sandbox, &db, name, tamper);
        assert_eq!(code, Some(1), "{name}: {text}");
        assert!(text.contains("chaos::E1030"), "{name}: {text}");
        assert!(
            text.contains(expected),
            "{name}: expected {expected:?} in {text}"
        );
    }

    let json = common::json(&output(
        sandbox
            .chaosc()
            .args(["audit", "export", "--format", "json"]),
    ));
    let records = json.as_array().unwrap();
    assert_eq!(records.len(), 4);
    assert_eq!(records[0]["actor"], "carol");
    assert_eq!(records[0]["action"], "check");
    assert_eq!(records[3]["action"], "plan");
    let account = nix::unistd::User::from_uid(nix::unistd::Uid::current())
        .unwrap()
        .unwrap();
    assert_eq!(records[3]["actor"], account.name.as_str());
    assert_eq!(records[1]["previous_hash"], records[0]["hash"]);
    assert!(
        records[0]["policy_hash"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );

    let future = common::json(&output(sandbox.chaosc().args([
        "audit",
        "export",
        "--since",
        "2999-01-01",
    ])));
    assert_eq!(future, serde_json::json!([]));
    let bad_date = output(
        sandbox
            .chaosc()
            .args(["audit", "export", "--since", "soon"]),
    );
    assert_eq!(bad_date.status.code(), Some(2));
    assert!(stderr(&bad_date).contains("chaos::E1032"));

    let csv = stdout(&output(
        sandbox
            .chaosc()
            .args(["audit", "export", "--format", "csv"]),
    ));
    assert!(csv.starts_with("sequence,at,actor,action,"), "{csv}");
    assert_eq!(csv.lines().count(), 5);
}

/// Returns the `scenario sha256:...` hash that `chaosc plan` prints.
fn planned_scenario_hash(sandbox: &Sandbox, file: &Path) -> String {
    let plan = output(sandbox.chaosc().arg("plan").arg(file));
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = stdout(&plan);
    let hash = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("scenario "));
    hash.unwrap_or_else(|| panic!("no scenario hash in {text}"))
        .to_owned()
}

#[test]
fn check_hashes_nested_imports() {
    let sandbox = Sandbox::new();
    sandbox.write("inner.chaos", "service inner { tier = low }\n");
    sandbox.write(
        "shared.chaos",
        "use \"./inner.chaos\"\nservice shared { tier = low }\n",
    );
    let file = scenario(&sandbox, "imported", free_port(), free_port(), "");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("use \"./shared.chaos\"\n{text}")).unwrap();

    let checked = output(sandbox.chaosc().arg("check").arg(&file));
    assert_eq!(checked.status.code(), Some(0), "{}", stderr(&checked));
    let planned = planned_scenario_hash(&sandbox, &file);
    sandbox.write("inner.chaos", "service inner { tier = high }\n");
    let rechecked = output(sandbox.chaosc().arg("check").arg(&file));
    assert_eq!(rechecked.status.code(), Some(0), "{}", stderr(&rechecked));

    // The check records the hash that approvals are bound to, covering the
    // import of an import.
    let trail = common::json(&output(sandbox.chaosc().args(["audit", "export"])));
    let records = trail.as_array().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["action"], "check");
    assert_eq!(records[0]["scenario_hash"].as_str(), Some(planned.as_str()));
    assert_eq!(records[2]["action"], "check");
    assert_ne!(records[2]["scenario_hash"], records[0]["scenario_hash"]);
    assert_eq!(
        records[2]["scenario_hash"].as_str(),
        Some(planned_scenario_hash(&sandbox, &file).as_str())
    );
}

#[test]
fn secrets_stay_out_of_the_trail() {
    let sandbox = Sandbox::new();
    let port = free_port();
    let file = sandbox.write(
        "secret.chaos",
        &format!(
            r#"use std::faults::process_pause
target web = process {{
    command = ["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
    env = {{ API_TOKEN = "s3cr3t-value" }}
    ready = 127.0.0.1:{port}
}}
experiment secret {{
    category = network
    severity = low
    duration = 1m
    safety {{ business_hours_only = false }}
    steady_state {{ probe home = http GET "http://127.0.0.1:{port}/" within 2s }}
    step pause = inject process_pause() on web for 1s
}}
"#
        ),
    );
    let run = output(sandbox.chaosc().arg("run").arg(&file));
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let exported = stdout(&output(sandbox.chaosc().args(["audit", "export"])));
    assert!(exported.contains("\"run.start\""), "{exported}");
    assert!(exported.contains("\"injection\""), "{exported}");
    assert!(exported.contains("\"rollback\""), "{exported}");
    assert!(exported.contains("\"run.end\""), "{exported}");
    assert!(!exported.contains("s3cr3t-value"), "{exported}");
    sandbox.assert_no_journal();
}

#[test]
fn compliance_report_covers_framework() {
    let sandbox = Sandbox::new();
    let (upstream, front) = (free_port(), free_port());
    let _server = OwnedProcess::http_server(upstream);
    let file = scenario(
        &sandbox,
        "reported",
        upstream,
        front,
        "compliance { frameworks = [gdpr], required_approvals = [\"data_protection_officer\"] }",
    );
    let approve = output(
        sandbox
            .chaosc()
            .args([
                "--as",
                "dana",
                "approve",
                "--role",
                "data_protection_officer",
            ])
            .arg(&file),
    );
    assert_eq!(approve.status.code(), Some(0), "{}", stderr(&approve));
    let run = output(sandbox.chaosc().arg("run").arg(&file));
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));

    let report = common::json(&output(sandbox.chaosc().args([
        "report",
        "--framework",
        "gdpr",
        "--since",
        "2020-01-01",
        "--format",
        "json",
    ])));
    assert_eq!(report["framework"], "gdpr");
    assert_eq!(report["audit_chain"], "intact");
    assert_eq!(report["runs"].as_array().unwrap().len(), 1);
    assert_eq!(report["runs"][0]["experiment"], "reported");
    let elements = report["elements"].as_array().unwrap();
    let status_of = |name: &str| {
        elements
            .iter()
            .find(|e| e["element"].as_str().unwrap().contains(name))
            .map(|e| e["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        status_of("data_protection_officer").as_deref(),
        Some("present")
    );
    assert_eq!(status_of("audit trail").as_deref(), Some("present"));
    assert_eq!(status_of("recovery within RTO").as_deref(), Some("present"));

    let none = common::json(&output(sandbox.chaosc().args([
        "report",
        "--framework",
        "sox",
        "--format",
        "json",
    ])));
    assert_eq!(none["runs"].as_array().unwrap().len(), 0);

    let markdown = stdout(&output(sandbox.chaosc().args([
        "report",
        "--framework",
        "gdpr",
    ])));
    assert!(
        markdown.starts_with("# Compliance report: gdpr"),
        "{markdown}"
    );
    assert!(markdown.contains("| approval by `data_protection_officer` | present |"));

    let html = stdout(&output(sandbox.chaosc().args([
        "report",
        "--framework",
        "gdpr",
        "--format",
        "html",
    ])));
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<td class=\"present\">present</td>"));
    let page = sandbox.write("report.html", &html);
    screenshot(&sandbox, &page);

    let unknown = output(sandbox.chaosc().args(["report", "--framework", "soc2"]));
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("chaos::E1031"));
}

/// Renders the page with headless Chromium when it is installed and checks
/// that a screenshot came out; without Chromium the check is skipped.
fn screenshot(sandbox: &Sandbox, page: &Path) {
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|name| {
        std::process::Command::new(name)
            .arg("--version")
            .output()
            .is_ok()
    }) else {
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
        return;
    };
    let picture = sandbox.dir.path().join("report.png");
    let profile = sandbox.dir.path().join("chromium-profile");
    let rendered = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1200,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", picture.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    let size = std::fs::metadata(&picture).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "the screenshot is only {size} bytes");
}

#[test]
fn approvals_and_runs_race_on_one_store() {
    let sandbox = Sandbox::new();
    let upstream = free_port();
    let _server = OwnedProcess::http_server(upstream);
    let roles: Vec<String> = (0..8).map(|index| format!("role_{index}")).collect();
    let quoted: Vec<String> = roles.iter().map(|role| format!("\"{role}\"")).collect();
    let gated = scenario(
        &sandbox,
        "gated",
        upstream,
        free_port(),
        &format!(
            "compliance {{ required_approvals = [{}] }}",
            quoted.join(", ")
        ),
    );
    let runs: Vec<PathBuf> = (0..3)
        .map(|index| {
            scenario(
                &sandbox,
                &format!("free_{index}"),
                upstream,
                free_port(),
                "",
            )
        })
        .collect();

    // Every approval and every run is its own process on the same database.
    let mut approvals: Vec<RunningChaosc> = roles
        .iter()
        .enumerate()
        .map(|(index, role)| {
            RunningChaosc::start(
                sandbox
                    .chaosc()
                    .args([
                        "--as",
                        &format!("approver_{index}"),
                        "approve",
                        "--role",
                        role,
                    ])
                    .arg(&gated),
            )
        })
        .collect();
    let mut running: Vec<RunningChaosc> = runs
        .iter()
        .map(|file| RunningChaosc::start(sandbox.chaosc().arg("run").arg(file)))
        .collect();
    for finished in approvals
        .drain(..)
        .chain(running.drain(..))
        .map(|process| process.finish(Duration::from_secs(60)))
    {
        assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    }

    let listed = common::json(&output(
        sandbox
            .chaosc()
            .args(["approvals", "--format", "json"])
            .arg(&gated),
    ));
    assert_eq!(
        listed["status"]["missing"],
        serde_json::json!([]),
        "{listed}"
    );
    let history = common::json(&output(
        sandbox.chaosc().args(["history", "--format", "json"]),
    ));
    assert_eq!(history.as_array().unwrap().len(), runs.len(), "{history}");
    let verified = output(sandbox.chaosc().args(["audit", "verify"]));
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
    sandbox.assert_no_journal();
}

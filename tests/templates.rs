//! Recovery plan templates: an instance checks its arguments, writes out
//! the same plan as one written by hand, and points every finding into the
//! instantiating file.

use chaosc::check::{CheckError, CheckOutput, check_source, stdlib};
use chaosc::model::RecoveryPlan;
use miette::Diagnostic;

/// Targets, probes and a step around one recovery plan.
fn experiment_with(plan: &str) -> String {
    format!(
        r#"use std::faults::process_kill
use std::recovery::*

target web = process {{
    command = ["python3", "-m", "http.server", "18181"]
    ready = 127.0.0.1:18181
}}
target green = process {{
    command = ["python3", "-m", "http.server", "18182"]
    ready = 127.0.0.1:18182
}}
target front = proxy {{ listen = 127.0.0.1:18180, upstream = 127.0.0.1:18181 }}

experiment e {{
    category = compute
    severity = low
    duration = 5m
    safety {{ business_hours_only = false }}
    steady_state {{
        probe home = http GET "http://127.0.0.1:18180/" expect status == 200
    }}
    step crash = inject process_kill() on web for 5s
    {plan}
}}
"#
    )
}

fn check(source: &str) -> CheckOutput {
    check_source(source).unwrap_or_else(|errors| panic!("syntax errors: {errors:?}"))
}

/// Lists the findings, leaving out the warnings about the fixture's targets
/// that a plan does not use.
fn findings(output: &CheckOutput) -> Vec<&CheckError> {
    output
        .diagnostics
        .iter()
        .filter(|diagnostic| !diagnostic.to_string().starts_with("target `"))
        .collect()
}

/// Lists the codes of the findings, such as `chaos::E0405`.
fn codes(output: &CheckOutput) -> Vec<String> {
    findings(output)
        .iter()
        .map(|diagnostic| diagnostic.code().unwrap().to_string())
        .collect()
}

/// Returns the text under the first label of the finding with `code`.
fn labelled<'a>(output: &CheckOutput, source: &'a str, code: &str) -> &'a str {
    let diagnostic = findings(output)
        .into_iter()
        .find(|diagnostic| diagnostic.code().unwrap().to_string() == code)
        .unwrap_or_else(|| panic!("no {code} in {:?}", codes(output)));
    let label = diagnostic.labels().unwrap().next().unwrap();
    &source[label.offset()..label.offset() + label.len()]
}

/// Returns the only recovery plan of a clean file.
fn plan_of(source: &str) -> RecoveryPlan {
    let output = check(source);
    assert!(findings(&output).is_empty(), "{:?}", output.diagnostics);
    let model = output.model.unwrap();
    model.experiments[0].recovery_plans[0].clone()
}

#[test]
fn instances_equal_written_plans() {
    let cases = [
        (
            "recovery plan p = restart_and_verify(app = web, health = home)",
            "recovery plan p (strategy = immediate_rollback, rto = 2m) {
                action restart = restart web timeout 30s
                action verify = probe home after restart timeout 30s
            }",
        ),
        (
            "recovery plan p = staged_readmission(app = web, front = front, health = home, \
             stage = 2s, action_timeout = 10s, rto = 1m)",
            "recovery plan p (strategy = gradual_recovery, rto = 1m) {
                action restart = restart web timeout 10s
                action admit_quarter = shed_load front 75% 2s after restart timeout 10s
                action admit_half = shed_load front 50% 2s after admit_quarter timeout 10s
                action admit_most = shed_load front 25% 2s after admit_half timeout 10s
                action verify = probe home after admit_most timeout 10s
            }",
        ),
        (
            "recovery plan p = blue_green_switch(blue = web, front = front, \
             green = 127.0.0.1:18182, health = home)",
            "recovery plan p (strategy = blue_green_failover, rto = 2m) {
                action restart_blue = restart web timeout 30s
                action switch = switch_traffic front 127.0.0.1:18182 timeout 30s
                action confirm = probe home after switch timeout 30s
            }",
        ),
        (
            "recovery plan p = breaker_and_restart(app = web, front = front, health = home, \
             failures = 3)",
            "recovery plan p (strategy = circuit_breaker, rto = 3m) {
                action arm = circuit_breaker front 3 10s timeout 30s
                action restart = restart web after arm timeout 30s
                action half_open = wait 10s after restart timeout 30s
                action verify = probe home after half_open timeout 30s
            }",
        ),
        (
            "recovery plan p = shed_and_restart(app = web, front = front, health = home, \
             share = 25%)",
            "recovery plan p (strategy = load_shedding, rto = 2m) {
                action shed = shed_load front 25% 20s timeout 30s
                action restart = restart web timeout 30s
                action verify = probe home after restart, shed timeout 30s
            }",
        ),
    ];
    for (instance, written) in cases {
        let mut from_template = plan_of(&experiment_with(instance));
        let by_hand = plan_of(&experiment_with(written));
        assert!(from_template.template.is_some(), "{instance}");
        from_template.template = None;
        assert_eq!(
            format!("{from_template:?}"),
            format!("{by_hand:?}"),
            "{instance}"
        );
    }
}

#[test]
fn scenario_instantiates_every_stdlib_template() {
    let findings = chaosc::cli::findings::check_path(std::path::Path::new(
        "scenarios/recovery_templates.chaos",
    ));
    assert!(findings.diagnostics.is_empty(), "{:?}", findings.to_json());
    let source = std::fs::read_to_string("scenarios/recovery_templates.chaos").unwrap();
    let model = check(&source).model.unwrap();
    let mut used: Vec<String> = model
        .experiments
        .iter()
        .flat_map(|experiment| &experiment.recovery_plans)
        .filter_map(|plan| plan.template.clone())
        .collect();
    let mut all: Vec<String> = stdlib::all_templates()
        .map(|template| template.name.clone())
        .collect();
    used.sort();
    all.sort();
    assert_eq!(used, all);
}

#[test]
fn rto_of_instance_is_checked_at_argument() {
    // The restart and the probe take 30s each, more than an RTO of 45s.
    let source = experiment_with(
        "recovery plan p = restart_and_verify(app = web, health = home, rto = 45s)",
    );
    let output = check(&source);
    assert_eq!(codes(&output), ["chaos::E0405"]);
    assert_eq!(labelled(&output, &source, "chaos::E0405"), "45s");

    // With the default RTO, the finding points at the call.
    let source = experiment_with(
        "recovery plan p = restart_and_verify(app = web, health = home, action_timeout = 2m)",
    );
    let output = check(&source);
    assert_eq!(codes(&output), ["chaos::E0405"]);
    assert_eq!(
        labelled(&output, &source, "chaos::E0405"),
        "restart_and_verify(app = web, health = home, action_timeout = 2m)"
    );
}

#[test]
fn instance_argument_findings() {
    let cases = [
        (
            "recovery plan p = restart_and_verify(app = web, health = home, timout = 1s)",
            "chaos::E0212",
            "timout",
        ),
        (
            "recovery plan p = restart_and_verify(app = web)",
            "chaos::E0213",
            "restart_and_verify(app = web)",
        ),
        (
            "recovery plan p = restart_and_verify(app = \"web\", health = home)",
            "chaos::E0214",
            "\"web\"",
        ),
        (
            "recovery plan p = shed_and_restart(app = web, front = green, health = home)",
            "chaos::E0214",
            "green",
        ),
        (
            "recovery plan p = restart_and_verify(app = web, health = home, rto = 5)",
            "chaos::E0204",
            "5",
        ),
        (
            "recovery plan p = restart_and_verify(app = wbe, health = home)",
            "chaos::E0101",
            "wbe",
        ),
        (
            "recovery plan p = restart_and_verify(app = web, health = hmoe)",
            "chaos::E0101",
            "hmoe",
        ),
        (
            "recovery plan p = restart_and_verify(app = web, app = web, health = home)",
            "chaos::E0102",
            "app = web",
        ),
        (
            "recovery plan p = restart_and_verfy(app = web, health = home)",
            "chaos::E0101",
            "restart_and_verfy",
        ),
    ];
    for (plan, code, label) in cases {
        let source = experiment_with(plan);
        let output = check(&source);
        assert!(
            codes(&output).contains(&code.to_owned()),
            "{plan}: {:?}",
            codes(&output)
        );
        assert_eq!(labelled(&output, &source, code), label, "{plan}");
    }
}

#[test]
fn unknown_template_help_names_closest() {
    let source = experiment_with("recovery plan p = restart_and_verfy(app = web, health = home)");
    let output = check(&source);
    let help = findings(&output)[0].help().unwrap().to_string();
    assert_eq!(help, "did you mean `restart_and_verify`?");
}

#[test]
fn template_not_imported_suggests_use() {
    let source = experiment_with("recovery plan p = restart_and_verify(app = web, health = home)")
        .replace("use std::recovery::*\n", "");
    let output = check(&source);
    assert_eq!(codes(&output), ["chaos::E0101"]);
    let help = findings(&output)[0].help().unwrap().to_string();
    assert_eq!(
        help,
        "add `use std::recovery::restart_and_verify` at the top of the file"
    );
}

#[test]
fn unused_template_import_warns() {
    let source =
        experiment_with("recovery plan p (rto = 1m) { action restart = restart web timeout 10s }")
            .replace(
                "use std::recovery::*",
                "use std::recovery::restart_and_verify",
            );
    let output = check(&source);
    assert_eq!(codes(&output), ["chaos::W0001"]);
    assert!(!output.has_errors());
}

#[test]
fn positional_argument_is_syntax_error() {
    let source = experiment_with("recovery plan p = restart_and_verify(web, home)");
    let errors = check_source(&source).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code().unwrap().to_string(), "chaos::E0001");
}

#[test]
fn finding_inside_template_points_at_call() {
    // The wait outlasts the default timeout of 300s; the template's own text
    // is not in the instance's place, so the finding points at the call.
    let template = "template plan settle(app: target) (rto = 20m) {
    action restart = restart app timeout 10s
    action pause = wait 10m after restart
}
";
    let source = format!(
        "{template}{}",
        experiment_with("recovery plan p = settle(app = web)")
    );
    let output = check(&source);
    assert_eq!(codes(&output), ["chaos::E0208"]);
    assert_eq!(
        labelled(&output, &source, "chaos::E0208"),
        "settle(app = web)"
    );
}

#[test]
fn local_template_is_instantiated() {
    let template = "/// Restarts a target.
template plan quick(app: target, limit: duration = 30s) (strategy = immediate_rollback, rto = limit) {
    action restart = restart app timeout 10s
}
";
    let source = format!(
        "{template}{}",
        experiment_with("recovery plan p = quick(app = web)")
    );
    let plan = plan_of(&source);
    assert_eq!(plan.template.as_deref(), Some("quick"));
    assert_eq!(plan.rto, Some(std::time::Duration::from_secs(30)));
    assert_eq!(plan.actions.len(), 1);
}

#[test]
fn template_declaration_findings() {
    let cases = [
        (
            "template plan t(app: target, rto: duration) (rto = app) { action r = restart app }",
            "chaos::E0203",
            "app",
        ),
        (
            "template plan t(app: target, wait_for: duration) { action r = restart wait_for }",
            "chaos::E0203",
            "wait_for",
        ),
        (
            "template plan t(app: process) { action r = restart app }",
            "chaos::E0101",
            "process",
        ),
        (
            "template plan t(app: target = web) { action r = restart app }",
            "chaos::E0208",
            "web",
        ),
        (
            "template plan t(app: target, front: target) { action s = shed_load front 50% 1s }",
            "chaos::E0203",
            "front",
        ),
        (
            "template plan t(app: target) { action r = reboot app }",
            "chaos::E0101",
            "reboot",
        ),
        (
            "template plan t(app: target) { action a = restart app after b\n\
             action b = restart app after a }",
            "chaos::E0301",
            "b",
        ),
        (
            "template plan t(app: target) (speed = fast) { action r = restart app }",
            "chaos::E0201",
            "speed",
        ),
        (
            "template plan t(app: target, spare: target) { action r = restart app }",
            "chaos::W0001",
            "spare",
        ),
        (
            "template plan t(app: target, app: proxy) { action r = restart app }",
            "chaos::E0102",
            "app",
        ),
    ];
    for (template, code, label) in cases {
        let source = format!("{template}\n");
        let output = check(&source);
        assert!(
            codes(&output).contains(&code.to_owned()),
            "{template}: {:?}",
            codes(&output)
        );
        assert_eq!(labelled(&output, &source, code), label, "{template}");
    }
}

#[test]
fn stdlib_templates_check_clean() {
    let source = include_str!("../stdlib/recovery.chaos");
    let output = check(source);
    assert!(output.diagnostics.is_empty(), "{:?}", output.diagnostics);
    assert_eq!(stdlib::all_templates().count(), 5);
}

#[test]
fn instance_must_cover_degraded_target() {
    // The step kills `web`, but the plan made from the template restarts
    // `green`, so `web` is left down.
    let source =
        experiment_with("recovery plan p = restart_and_verify(app = green, health = home)");
    let output = check(&source);
    assert_eq!(codes(&output), ["chaos::E0413"]);
    let help = findings(&output)[0].help().unwrap().to_string();
    assert_eq!(
        help,
        "recovery plan `p` from template `restart_and_verify` does not act on `web`; pass `web` \
         to the template, or add `recovery plan restore_web (rto = 5m) { action restart_web = \
         restart web }`"
    );
}

//! `chaosc fmt` re-indents files without changing what they mean,
//! and `chaosc graph` draws the step and recovery graphs with the critical
//! path marked.

mod common;

use common::{Sandbox, output, repo};

/// Removes every space, tab and newline, leaving the tokens.
fn tokens(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn shipped_files_are_formatted() {
    let sandbox = Sandbox::new();
    let result = output(sandbox.chaosc().current_dir(repo()).args([
        "fmt",
        "--check",
        "scenarios",
        "stdlib",
    ]));
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stdout)
    );
}

#[test]
fn fmt_restores_layout_and_keeps_tokens() {
    let sandbox = Sandbox::new();
    // A fixed linear congruential sequence keeps the test reproducible.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    // The scenarios and the standard library hold every kind of item,
    // recovery plan templates and their instances among them.
    let entries = ["scenarios", "stdlib"]
        .iter()
        .flat_map(|directory| std::fs::read_dir(repo().join(directory)).unwrap())
        .flatten();
    for entry in entries {
        let path = entry.path();
        if path.extension().is_none_or(|ext| ext != "chaos") {
            continue;
        }
        let original = std::fs::read_to_string(&path).unwrap();
        // Re-indent every line at random and add trailing spaces.
        let messy: String = original
            .lines()
            .map(|line| {
                format!(
                    "{}{}{}\n",
                    " ".repeat(next() % 9),
                    line.trim_start(),
                    " ".repeat(next() % 3)
                )
            })
            .collect();
        let file = sandbox.write("messy.chaos", &messy);
        let result = output(sandbox.chaosc().arg("fmt").arg(&file));
        assert_eq!(
            result.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        let formatted = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            formatted,
            original,
            "{} did not come back to its layout",
            path.display()
        );
        assert_eq!(tokens(&formatted), tokens(&messy));

        let again = output(sandbox.chaosc().args(["fmt", "--check"]).arg(&file));
        assert_eq!(
            again.status.code(),
            Some(0),
            "fmt is not idempotent on {}",
            path.display()
        );
    }
}

#[test]
fn fmt_check_lists_unformatted_file() {
    let sandbox = Sandbox::new();
    let file = sandbox.write(
        "bad.chaos",
        "target web = process {\ncommand = [\"true\"]   \n}\n",
    );
    let result = output(sandbox.chaosc().args(["fmt", "--check"]).arg(&file));
    assert_eq!(result.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&result.stdout).contains("bad.chaos"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "target web = process {\ncommand = [\"true\"]   \n}\n"
    );
}

#[test]
fn graph_marks_critical_path() {
    let sandbox = Sandbox::new();
    let dot = output(
        sandbox
            .chaosc()
            .current_dir(repo())
            .args(["graph", "scenarios/load_shedding.chaos"]),
    );
    let text = String::from_utf8_lossy(&dot.stdout);
    assert!(
        text.starts_with("digraph \"shed_while_recovering\""),
        "{text}"
    );
    assert!(
        text.contains("step_freeze [label=\"freeze: process_pause on web for 2s\"]"),
        "{text}"
    );
    // restart_web (10s) then clients (10s) then confirm (10s) is the slowest chain.
    assert!(
        text.contains("plan0_restart_web -> plan0_clients [color=red, penwidth=2];"),
        "{text}"
    );
    assert!(text.contains("plan0_restart_web -> plan0_shed;"), "{text}");

    let mermaid = output(sandbox.chaosc().current_dir(repo()).args([
        "graph",
        "--format",
        "mermaid",
        "scenarios/load_shedding.chaos",
    ]));
    let text = String::from_utf8_lossy(&mermaid.stdout);
    assert!(text.starts_with("flowchart LR"), "{text}");
    assert!(
        text.contains("plan0_restart_web ==> plan0_clients"),
        "{text}"
    );
}

#[test]
fn template_plan_shows_its_actions() {
    let sandbox = Sandbox::new();
    let dot = output(sandbox.chaosc().current_dir(repo()).args([
        "graph",
        "--experiment",
        "switch_from_template",
        "scenarios/recovery_templates.chaos",
    ]));
    let text = String::from_utf8_lossy(&dot.stdout);
    assert!(
        text.contains(
            "label=\"recovery plan failover from template blue_green_switch \
             (blue_green_failover, RTO 30s, critical path 20s)\";"
        ),
        "{text}"
    );
    assert!(
        text.contains("plan0_switch -> plan0_confirm [color=red, penwidth=2];"),
        "{text}"
    );
    // The actions show the arguments the template's parameters stand for.
    assert!(
        text.contains(
            "plan0_switch [label=\"switch: switch_traffic front 127.0.0.1:19242 (10s)\", \
             style=bold, color=red];"
        ),
        "{text}"
    );
    assert!(
        text.contains("plan0_restart_blue [label=\"restart_blue: restart blue (10s)\"];"),
        "{text}"
    );

    let plan = output(sandbox.chaosc().current_dir(repo()).args([
        "plan",
        "--experiment",
        "staged_from_template",
        "scenarios/recovery_templates.chaos",
    ]));
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains(
            "recovery plan `readmit` from template `staged_readmission` (gradual_recovery, \
             RTO 1m): critical path restart -> admit_quarter -> admit_half -> admit_most -> \
             verify = 50s, fits the RTO"
        ),
        "{text}"
    );
    let expanded = [
        "  restart          restart blue timeout 10s\n",
        "  admit_quarter    shed_load front 75% 1s timeout 10s after restart\n",
        "  admit_half       shed_load front 50% 1s timeout 10s after admit_quarter\n",
        "  admit_most       shed_load front 25% 1s timeout 10s after admit_half\n",
        "  verify           probe served timeout 10s after admit_most\n",
    ];
    assert!(text.contains(&expanded.concat()), "{text}");
}

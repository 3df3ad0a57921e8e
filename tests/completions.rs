//! `chaosc completions SHELL` and `chaosc man`: generated from the clap
//! definition, so these tests check that the output exists, names every
//! visible subcommand and leaves out the hidden `guardian`.

use std::process::{Command, Output};

/// Returns the subcommands a user can type, as `chaosc --help` lists them,
/// so that a new command is covered without editing this file.
fn subcommands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let listed = help.split("Commands:").nth(1).expect("a command list");
    let listed = listed.split("Options:").next().unwrap();
    let names: Vec<String> = listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 7, "too few commands in --help: {names:?}");
    names
}

/// The help text of the hidden `guardian` subcommand.
const GUARDIAN_ABOUT: &str = "Watch a running";

fn chaosc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chaosc"))
        .args(args)
        .output()
        .expect("run chaosc")
}

fn stdout_of(args: &[&str]) -> String {
    let output = chaosc(args);
    assert!(
        output.status.success(),
        "chaosc {args:?} failed: {output:?}"
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Writes how each shell's script offers a subcommand at the top level.
fn offer(shell: &str, subcommand: &str) -> String {
    match shell {
        "bash" => format!("chaosc,{subcommand})"),
        "zsh" => format!("'{subcommand}:"),
        _ => format!("__fish_chaosc_needs_command\" -f -a \"{subcommand}\""),
    }
}

#[test]
fn completions_name_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(!script.is_empty(), "{shell}: empty script");
        for subcommand in &subcommands() {
            let expected = offer(shell, subcommand);
            assert!(script.contains(&expected), "{shell}: `{expected}` missing");
        }
        let guardian = offer(shell, "guardian");
        assert!(!script.contains(&guardian), "{shell}: `{guardian}` present");
        assert!(
            !script.contains(GUARDIAN_ABOUT),
            "{shell}: offers `guardian`"
        );
    }
}

#[test]
fn bash_completion_parses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chaosc.bash");
    std::fs::write(&path, stdout_of(&["completions", "bash"])).unwrap();
    let output = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("run bash");
    assert!(output.status.success(), "bash -n failed: {output:?}");
}

#[test]
fn completions_reject_unknown_shell() {
    let output = chaosc(&["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
}

#[test]
fn man_page_names_subcommands() {
    let page = stdout_of(&["man"]);
    assert!(page.starts_with(".ie"), "not roff: {page}");
    assert!(page.contains(".TH chaosc 1"), "no title line: {page}");
    for subcommand in &subcommands() {
        let reference = format!("chaosc\\-{}(1)", subcommand.replace('-', "\\-"));
        assert!(page.contains(&reference), "`{reference}` missing");
    }
    assert!(!page.contains(GUARDIAN_ABOUT), "the page lists `guardian`");
}

#[test]
fn man_dir_writes_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let output = chaosc(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    // Every command has its page; commands with subcommands of their own
    // (such as `alerts`) also get a page for each of those.
    let mut expected: Vec<String> = subcommands()
        .iter()
        .map(|subcommand| format!("chaosc-{subcommand}.1"))
        .collect();
    expected.push("chaosc.1".to_owned());
    for page in &expected {
        assert!(pages.contains(page), "no page {page} in {pages:?}");
    }
    for page in &pages {
        let command = page.trim_end_matches(".1");
        assert!(
            expected
                .iter()
                .any(|listed| command.starts_with(listed.trim_end_matches(".1"))),
            "unexpected page {page}"
        );
    }
}

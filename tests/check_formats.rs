//! The machine formats of `chaosc check`: SARIF validated against the SARIF
//! 2.1.0 schema (vendored in `tests/sarif-schema-2.1.0.json`), and GitHub
//! workflow commands.

use std::path::PathBuf;

use chaosc::cli::findings::{FileFindings, check_paths};
use chaosc::cli::{github, sarif};

fn corpus() -> Vec<FileFindings> {
    check_paths(&[PathBuf::from("tests/check")])
}

#[test]
fn sarif_matches_schema() {
    // The published pattern of the `language` properties contains a stray `]`,
    // which the validator's meta-schema check rejects as a regex. chaosc
    // never writes `language`, so the test replaces the pattern by the
    // language-tag pattern it means, and the vendored file stays as
    // published.
    const PUBLISHED: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    const INTENDED: &str = r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#;
    let text = include_str!("sarif-schema-2.1.0.json");
    assert!(text.contains(PUBLISHED));
    let schema: serde_json::Value =
        serde_json::from_str(&text.replace(PUBLISHED, INTENDED)).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let log = sarif::render(&corpus());
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn sarif_lists_results_with_rules() {
    let log = sarif::render(&corpus());
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(results.len() > 40);
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
}

#[test]
fn sarif_region_points_at_token() {
    let files = check_paths(&[PathBuf::from("tests/check/e0206_unknown_member.chaos")]);
    let log = sarif::render(&files);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let result = results
        .iter()
        .find(|r| r["ruleId"] == "chaos::E0206")
        .unwrap();
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(result["ruleId"], "chaos::E0206");
    assert_eq!(region["startLine"], 12);
    assert_eq!(region["startColumn"], 16);
    assert_eq!(region["endColumn"], 22);
}

#[test]
fn github_annotations_have_position() {
    let files = check_paths(&[PathBuf::from("tests/check/e0206_unknown_member.chaos")]);
    let text = github::render(&files);
    let first = text.lines().find(|line| line.contains("E0206")).unwrap();
    assert!(
        first.starts_with(
            "::error file=tests/check/e0206_unknown_member.chaos,line=12,col=16,endLine=12,\
             endColumn=22,title=chaos%3A%3AE0206::`severe` is not a severity"
        ),
        "{first}"
    );
}

#[test]
fn github_warnings_use_warning_command() {
    let files = check_paths(&[PathBuf::from("tests/check/w0002_stop_never_fires.chaos")]);
    let text = github::render(&files);
    assert!(
        text.lines().any(|line| line.starts_with("::warning ")),
        "{text}"
    );
}

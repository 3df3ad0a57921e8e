//! SARIF 2.1.0 output, the format code-scanning services read (GitHub
//! code scanning among them).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::explain;
use super::findings::FileFindings;

/// The URI of the SARIF 2.1.0 schema, written into every log.
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Builds one SARIF log with one run of chaosc over every file.
pub fn render(files: &[FileFindings]) -> Value {
    let mut rule_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    let mut results = Vec::new();

    for file in files {
        for diagnostic in file.to_json() {
            let index = *rule_index
                .entry(diagnostic.code.clone())
                .or_insert_with(|| {
                    rules.push(rule(&diagnostic.code));
                    rules.len() - 1
                });
            let mut message = diagnostic.message.clone();
            if let Some(help) = &diagnostic.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let mut result = json!({
                "ruleId": diagnostic.code,
                "ruleIndex": index,
                "level": level(diagnostic.severity),
                "message": { "text": message },
            });
            if !file.path.is_empty() {
                let region = diagnostic.labels.first().map(|label| {
                    json!({
                        "startLine": label.line,
                        "startColumn": label.column,
                        "endLine": label.end_line,
                        "endColumn": label.end_column,
                        "charOffset": label.span.start,
                        "charLength": label.span.end - label.span.start,
                    })
                });
                let mut physical = json!({ "artifactLocation": { "uri": uri(&file.path) } });
                if let Some(region) = region {
                    physical["region"] = region;
                }
                result["locations"] = json!([{ "physicalLocation": physical }]);
            }
            results.push(result);
        }
    }

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "chaosc",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// Describes a diagnostic code as a SARIF reporting descriptor, with the
/// title and text of its `chaosc explain` page.
fn rule(code: &str) -> Value {
    let mut descriptor = json!({ "id": code });
    if let Some(page) = explain::find(code) {
        descriptor["shortDescription"] = json!({ "text": page.title });
        descriptor["fullDescription"] = json!({ "text": page.body.trim() });
        descriptor["help"] = json!({ "text": format!("run `chaosc explain {}`", page.code) });
    }
    descriptor
}

fn level(severity: &str) -> &'static str {
    match severity {
        "warning" => "warning",
        "advice" => "note",
        _ => "error",
    }
}

/// Turns a path into a relative URI reference, with `/` separators and
/// spaces and `%` escaped.
fn uri(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    path.replace('\\', "/")
        .replace('%', "%25")
        .replace(' ', "%20")
}

//! `chaosc report --framework NAME`: the compliance report of one framework
//! from the store.

use chrono::{DateTime, NaiveDate};

use super::exit;
use super::governed::{Context, print_error};
use super::history::ReportFormat;
use crate::governance::GovernanceError;
use crate::governance::assessment::default_policy_hash;
use crate::model::ComplianceFramework;
use crate::report::{render_compliance_html, render_compliance_markdown};

/// Parses `--since` as an RFC 3339 time or a date (its start, UTC) into the
/// RFC 3339 text the store compares with.
pub fn parse_since(text: &str) -> Result<String, GovernanceError> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.to_utc().to_rfc3339());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|start| start.and_utc().to_rfc3339())
        .ok_or_else(|| GovernanceError::InvalidDate {
            text: text.to_owned(),
        })
}

/// Runs `chaosc report --framework NAME`.
pub fn execute(name: &str, since: Option<&str>, format: ReportFormat, context: &Context) -> u8 {
    let Some(framework) = ComplianceFramework::from_name(name) else {
        let known: Vec<&str> = ComplianceFramework::ALL.iter().map(|f| f.name()).collect();
        print_error(&GovernanceError::UnknownFramework {
            name: name.to_owned(),
            known: known.join(", "),
        });
        return exit::USAGE;
    };
    let since = match since.map(parse_since).transpose() {
        Ok(since) => since,
        Err(error) => {
            print_error(&error);
            return exit::USAGE;
        }
    };
    let policy = match context.policy() {
        Ok(policy) => policy,
        Err(code) => return code,
    };
    let framework_policy = crate::check::stdlib::frameworks()
        .find(|policy| policy.framework == framework)
        .expect("the standard library declares every framework");
    let description = description_of(&framework_policy.text);
    let mut store = match context.store() {
        Ok(store) => store,
        Err(code) => return code,
    };
    let report = crate::governance::report::ComplianceReport::gather(
        store.connection(),
        framework_policy,
        &description,
        since.as_deref(),
        &default_policy_hash(&policy),
    );
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            print_error(&error);
            return exit::USAGE;
        }
    };
    let text = match format {
        ReportFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&report).expect("the report serializes")
        ),
        ReportFormat::Md => render_compliance_markdown(&report),
        ReportFormat::Html => render_compliance_html(&report),
        ReportFormat::Junit => {
            eprintln!("chaosc: a compliance report is written as `md`, `html` or `json`");
            return exit::USAGE;
        }
    };
    print!("{text}");
    exit::SUCCESS
}

/// Reads `description = "..."` from a framework declaration.
fn description_of(text: &str) -> String {
    text.lines()
        .find_map(|line| line.trim().strip_prefix("description = "))
        .map(|value| value.trim_matches('"').to_owned())
        .unwrap_or_default()
}

//! The compliance report of one framework as Markdown and as a
//! self-contained HTML page.

use std::fmt::Write;

use crate::governance::report::ComplianceReport;

/// Renders a compliance report as Markdown.
pub fn render_compliance_markdown(report: &ComplianceReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Compliance report: {}\n", report.framework);
    let _ = writeln!(out, "{}\n", report.description);
    let _ = writeln!(out, "- generated: {}", report.generated_at);
    let since = report.since.as_deref().unwrap_or("the first record");
    let _ = writeln!(out, "- since: {since}");
    let _ = writeln!(out, "- policy: `{}`", report.policy_hash);
    let _ = writeln!(
        out,
        "- audit chain: {} ({} records)",
        report.audit_chain, report.audit_records
    );

    let _ = writeln!(
        out,
        "\n## Required elements\n\n| element | status | detail |"
    );
    let _ = writeln!(out, "| --- | --- | --- |");
    for element in &report.elements {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            element.element, element.status, element.detail
        );
    }

    let _ = writeln!(
        out,
        "\n## Experiments run\n\n| run | experiment | started | risk | status | approvals | recovery |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- |");
    for run in &report.runs {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            short(&run.run_id),
            run.experiment,
            run.started_at,
            run.risk,
            run.status,
            approvals_text(&run.approvals),
            recovery_text(run)
        );
    }
    if report.runs.is_empty() {
        let _ = writeln!(out, "| none | | | | | | |");
    }

    let _ = writeln!(out, "\n## Failures\n");
    for (run, reason) in &report.failures {
        let _ = writeln!(out, "- `{}`: {reason}", short(run));
    }
    if report.failures.is_empty() {
        let _ = writeln!(out, "none");
    }
    let _ = writeln!(out, "\n## Rejected runs\n");
    for rejection in &report.rejections {
        let _ = writeln!(
            out,
            "- {} `{}`: {}",
            rejection.at, rejection.experiment, rejection.reason
        );
    }
    if report.rejections.is_empty() {
        let _ = writeln!(out, "none");
    }
    out
}

/// Renders a compliance report as one HTML page with its style inline, so
/// it can be mailed or archived as a single file.
pub fn render_compliance_html(report: &ComplianceReport) -> String {
    let mut out = String::new();
    let title = format!("Compliance report: {}", report.framework);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        escape(&title)
    );
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<p>{}</p>",
        escape(&title),
        escape(&report.description)
    );
    let since = report.since.as_deref().unwrap_or("the first record");
    let chain_class = if report.audit_chain == "intact" {
        "present"
    } else {
        "missing"
    };
    let _ = writeln!(
        out,
        "<dl><dt>generated</dt><dd>{}</dd><dt>since</dt><dd>{}</dd><dt>policy</dt>\
         <dd><code>{}</code></dd><dt>audit chain</dt><dd class=\"{chain_class}\">{} ({} records)</dd></dl>",
        escape(&report.generated_at),
        escape(since),
        escape(&report.policy_hash),
        escape(&report.audit_chain),
        report.audit_records
    );

    let _ = writeln!(
        out,
        "<h2>Required elements</h2>\n<table>\n<tr><th>element</th><th>status</th><th>detail</th></tr>"
    );
    for element in &report.elements {
        let class = element.status.replace(' ', "-");
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"{class}\">{}</td><td>{}</td></tr>",
            escape(&element.element),
            escape(element.status),
            escape(&element.detail)
        );
    }
    let _ = writeln!(out, "</table>");

    let _ = writeln!(
        out,
        "<h2>Experiments run</h2>\n<table>\n<tr><th>run</th><th>experiment</th><th>started</th>\
         <th>risk</th><th>status</th><th>approvals</th><th>recovery</th></tr>"
    );
    for run in &report.runs {
        let class = if run.success { "present" } else { "missing" };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"{class}\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(short(&run.run_id)),
            escape(&run.experiment),
            escape(&run.started_at),
            escape(&run.risk),
            escape(&run.status),
            escape(&approvals_text(&run.approvals)),
            escape(&recovery_text(run))
        );
    }
    if report.runs.is_empty() {
        let _ = writeln!(out, "<tr><td colspan=\"7\">no run in this period</td></tr>");
    }
    let _ = writeln!(out, "</table>");

    let _ = writeln!(out, "<h2>Failures</h2>\n<ul>");
    for (run, reason) in &report.failures {
        let _ = writeln!(
            out,
            "<li><code>{}</code>: {}</li>",
            escape(short(run)),
            escape(reason)
        );
    }
    if report.failures.is_empty() {
        let _ = writeln!(out, "<li>none</li>");
    }
    let _ = writeln!(out, "</ul>\n<h2>Rejected runs</h2>\n<ul>");
    for rejection in &report.rejections {
        let _ = writeln!(
            out,
            "<li>{} <code>{}</code>: {}</li>",
            escape(&rejection.at),
            escape(&rejection.experiment),
            escape(&rejection.reason)
        );
    }
    if report.rejections.is_empty() {
        let _ = writeln!(out, "<li>none</li>");
    }
    let _ = writeln!(out, "</ul>\n</body>\n</html>");
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f23;max-width:72rem}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.4rem .6rem;\
text-align:left;vertical-align:top}th{background:#f6f8fa}\
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}\
code{font-size:.9em}td:first-child code{white-space:nowrap}.present{color:#116329;font-weight:600}\
.missing{color:#a40e26;font-weight:600}.not-applicable{color:#57606a}";

fn short(id: &str) -> &str {
    &id[..8.min(id.len())]
}

fn approvals_text(approvals: &[(String, Vec<String>)]) -> String {
    if approvals.is_empty() {
        return "none required".to_owned();
    }
    approvals
        .iter()
        .map(|(role, by)| {
            if by.is_empty() {
                format!("{role}: missing")
            } else {
                format!("{role}: {}", by.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn recovery_text(run: &crate::governance::report::RunEntry) -> String {
    if run.recoveries.is_empty() {
        return "no plan".to_owned();
    }
    run.recoveries
        .iter()
        .map(|recovery| {
            let rto = match (recovery.rto_seconds, recovery.rto_met) {
                (Some(rto), Some(true)) => format!(" within RTO {rto:.0}s"),
                (Some(rto), _) => format!(" over RTO {rto:.0}s"),
                (None, _) => String::new(),
            };
            format!(
                "{} {:.2}s{rto}",
                recovery.plan, recovery.recovery_time_seconds
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Escapes text for HTML content and attribute values, and shows names
/// quoted in backticks as code, as the Markdown report does.
fn escape(text: &str) -> String {
    let escaped = escape_plain(text);
    let mut out = String::with_capacity(escaped.len());
    let mut parts = escaped.split('`').peekable();
    let mut inside = false;
    while let Some(part) = parts.next() {
        if inside && parts.peek().is_some() {
            out.push_str(&format!("<code>{part}</code>"));
        } else if inside {
            // An unpaired backtick stays as written.
            out.push('`');
            out.push_str(part);
        } else {
            out.push_str(part);
        }
        inside = !inside;
    }
    out
}

/// Escapes the characters that HTML gives a meaning to.
fn escape_plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_handles_markup() {
        assert_eq!(
            escape("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn backticks_become_code() {
        assert_eq!(escape("role `a<b>`"), "role <code>a&lt;b&gt;</code>");
        assert_eq!(escape("one ` alone"), "one ` alone");
    }
}

//! Diagnostics for a document, from the same checker as `chaosc check`.

use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri,
};

use super::position::LineIndex;
use crate::check;
use crate::syntax::Span;

/// Checks `text` and converts every finding into an LSP diagnostic. The
/// help line, when there is one, ends the message, and the secondary labels
/// (such as "first declared here") become related information.
pub fn diagnose(uri: &Uri, text: &str) -> Vec<Diagnostic> {
    let lines = LineIndex::new(text);
    match check::check_source(text) {
        Err(syntax_errors) => syntax_errors
            .iter()
            .map(|error| convert(uri, &lines, error))
            .collect(),
        Ok(output) => output
            .diagnostics
            .iter()
            .map(|diagnostic| convert(uri, &lines, diagnostic))
            .collect(),
    }
}

fn convert(uri: &Uri, lines: &LineIndex<'_>, diagnostic: &dyn miette::Diagnostic) -> Diagnostic {
    let mut labels: Vec<(Span, Option<String>)> = diagnostic
        .labels()
        .map(|labels| {
            labels
                .map(|label| {
                    let span = Span::new(label.offset(), label.offset() + label.len());
                    (span, label.label().map(str::to_owned))
                })
                .collect()
        })
        .unwrap_or_default();
    let primary = if labels.is_empty() {
        Span::default()
    } else {
        labels.remove(0).0
    };

    let mut message = diagnostic.to_string();
    if let Some(help) = diagnostic.help() {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = labels
        .into_iter()
        .map(|(span, label)| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), lines.range(span)),
            message: label.unwrap_or_default(),
        })
        .collect();
    let severity = match diagnostic.severity() {
        Some(miette::Severity::Warning) => DiagnosticSeverity::WARNING,
        Some(miette::Severity::Advice) => DiagnosticSeverity::HINT,
        _ => DiagnosticSeverity::ERROR,
    };

    Diagnostic {
        range: lines.range(primary),
        severity: Some(severity),
        code: diagnostic
            .code()
            .map(|code| NumberOrString::String(code.to_string())),
        source: Some("chaosc".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Diagnostic::default()
    }
}

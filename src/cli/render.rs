//! Rendering diagnostics for people (miette's graphical reports) and for
//! tools (JSON).

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NamedSource};
use serde::Serialize;

use crate::syntax::Span;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// The width reports wrap at.
    pub width: usize,
}

impl Style {
    /// The style for a terminal, or plain text when output is redirected or
    /// `NO_COLOR` is set.
    pub fn for_stderr() -> Style {
        use std::io::IsTerminal;
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Style { color, width: 100 }
    }
}

/// Renders one diagnostic as a graphical report, with the source excerpt
/// when `source` is given.
pub fn render_human(
    diagnostic: &dyn Diagnostic,
    source: Option<(&str, &str)>,
    style: Style,
) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(style.width);
    let mut out = String::new();
    let result = match source {
        Some((name, text)) => {
            let wrapped = WithSource {
                inner: diagnostic,
                source: NamedSource::new(name, text.to_owned()),
            };
            handler.render_report(&mut out, &wrapped)
        }
        None => handler.render_report(&mut out, diagnostic),
    };
    if result.is_err() {
        // Rendering into a String cannot fail on I/O; fall back to the
        // message alone if miette still reports an error.
        out = format!("{diagnostic}\n");
    }
    out
}

/// A diagnostic paired with the source text its labels point into.
struct WithSource<'a> {
    inner: &'a dyn Diagnostic,
    source: NamedSource<String>,
}

impl std::fmt::Debug for WithSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.inner, f)
    }
}

impl std::fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for WithSource<'_> {}

impl Diagnostic for WithSource<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.help()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.inner.labels()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
}

/// A diagnostic as JSON.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    pub code: String,
    pub severity: &'static str,
    pub message: String,
    pub help: Option<String>,
    /// 1-based line and column of the primary label, when there is one.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub span: Option<Span>,
    pub labels: Vec<JsonLabel>,
}

/// A labelled span of a diagnostic, as JSON.
#[derive(Debug, Serialize)]
pub struct JsonLabel {
    pub message: Option<String>,
    pub line: usize,
    pub column: usize,
    pub span: Span,
}

/// Converts a diagnostic into its JSON form; `source` resolves lines and
/// columns.
pub fn to_json(diagnostic: &dyn Diagnostic, source: Option<&str>) -> JsonDiagnostic {
    let labels: Vec<JsonLabel> = diagnostic
        .labels()
        .map(|labels| {
            labels
                .map(|label| {
                    let span = Span::new(label.offset(), label.offset() + label.len());
                    let (line, column) = source.map_or((0, 0), |text| span.line_col(text));
                    JsonLabel {
                        message: label.label().map(str::to_owned),
                        line,
                        column,
                        span,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let first = labels.first();
    JsonDiagnostic {
        code: diagnostic
            .code()
            .map(|code| code.to_string())
            .unwrap_or_default(),
        severity: severity_name(diagnostic),
        message: diagnostic.to_string(),
        help: diagnostic.help().map(|help| help.to_string()),
        line: first.map(|label| label.line),
        column: first.map(|label| label.column),
        span: first.map(|label| label.span),
        labels,
    }
}

/// Names the severity of a diagnostic: `error`, `warning` or `advice`.
pub fn severity_name(diagnostic: &dyn Diagnostic) -> &'static str {
    match diagnostic.severity() {
        Some(miette::Severity::Warning) => "warning",
        Some(miette::Severity::Advice) => "advice",
        _ => "error",
    }
}

//! Converting a Chaos Toolkit experiment into `.chaos` text. The hypothesis
//! becomes `steady_state`; the method and the rollbacks become the recovery
//! plans `method` and `rollbacks`, whose actions are chained with `after` so
//! that they run in the toolkit's order. What has no equivalent is written as
//! an `UNMAPPED` placeholder comment with a warning; nothing is left out
//! silently.

use std::collections::BTreeMap;

use serde::Serialize;

use super::error::ImportWarning;
use super::model::{Activity, ActivityEntry, Experiment, Extra, SecretSource};
use super::node::Node;
use super::substitute::Variables;
use super::tolerance::{ConstructKind, NotMapped};
use super::writer::{Lines, Names, comment_text, duration, identifier, quote};
use crate::model::Category;
use crate::syntax::Span;

/// Header names whose values are never copied into placeholder comments.
pub(super) const SENSITIVE_HEADER_WORDS: &[&str] =
    &["auth", "token", "secret", "key", "cookie", "password"];

/// The longest experiment the language allows, in minutes.
const MAX_DURATION_MINUTES: u64 = 480;

/// A converted experiment.
#[derive(Debug)]
pub struct Conversion {
    pub text: String,
    pub warnings: Vec<ImportWarning>,
    pub summary: Vec<SummaryEntry>,
}

/// What became of one element of the input.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryEntry {
    /// The element's JSON path in the input.
    pub path: String,
    /// The element as a person names it, such as ``action `kill-api` ``.
    pub element: String,
    /// What it became in the output.
    pub outcome: String,
    /// Whether it runs in chaosc; `false` for placeholders.
    pub mapped: bool,
}

/// Where an activity is converted into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    SteadyState,
    Method,
    Rollbacks,
}

/// A recovery plan being written: its actions and the end of its chain.
#[derive(Debug, Default)]
pub struct PlanBuilder {
    pub lines: Lines,
    pub names: Names,
    /// The action the next foreground action must come after.
    pub tail: Option<String>,
    pub action_count: usize,
}

/// The state of one conversion.
pub struct Converter<'a> {
    pub experiment: &'a Experiment,
    pub variables: Variables,
    /// Every named activity, by its name in the input, for `ref`.
    pub by_name: BTreeMap<String, &'a Activity>,
    pub probe_names: Names,
    /// Probes already declared, by the input name of their activity.
    pub declared_probes: BTreeMap<String, String>,
    pub steady_state: Lines,
    pub probes: Lines,
    pub warnings: Vec<ImportWarning>,
    pub summary: Vec<SummaryEntry>,
    /// Seconds the steady-state checks and recovery plans may take at most.
    pub budget_seconds: f64,
}

/// Converts `experiment`; `source_name` is named in the header comment.
pub fn convert(experiment: &Experiment, source_name: &str) -> Conversion {
    let mut converter = Converter::new(experiment);
    let header = converter.header(source_name);

    if let Some(hypothesis) = &experiment.hypothesis {
        converter
            .steady_state
            .comment(2, &format!("steady-state hypothesis: {}", hypothesis.title));
        for entry in &hypothesis.probes {
            converter.convert_entry(entry, Section::SteadyState, None);
        }
        if let Some(controls) = &hypothesis.controls {
            let mut lines = Lines::default();
            converter.unmapped_extra(&mut lines, 2, controls);
            converter.steady_state.extend(lines);
        }
    }
    let method = converter.convert_plan(&experiment.method, Section::Method);
    let rollbacks = converter.convert_plan(&experiment.rollbacks, Section::Rollbacks);

    let text = converter.assemble(header, method, rollbacks);
    Conversion {
        text,
        warnings: converter.warnings,
        summary: converter.summary,
    }
}

impl<'a> Converter<'a> {
    fn new(experiment: &'a Experiment) -> Self {
        let mut by_name = BTreeMap::new();
        let hypothesis = experiment
            .hypothesis
            .iter()
            .flat_map(|hypothesis| hypothesis.probes.iter());
        let entries = hypothesis
            .chain(&experiment.method)
            .chain(&experiment.rollbacks);
        for entry in entries {
            if let ActivityEntry::Activity(activity) = entry {
                by_name
                    .entry(activity.name.clone())
                    .or_insert(activity.as_ref());
            }
        }
        Converter {
            experiment,
            variables: Variables::new(experiment),
            by_name,
            probe_names: Names::default(),
            declared_probes: BTreeMap::new(),
            steady_state: Lines::default(),
            probes: Lines::default(),
            warnings: Vec::new(),
            summary: Vec::new(),
            budget_seconds: 0.0,
        }
    }

    /// Writes the comments above the experiment: where it came from, and the
    /// elements that have no place in the language but carry information.
    fn header(&mut self, source_name: &str) -> Lines {
        let experiment = self.experiment;
        let mut lines = Lines::default();
        lines.comment(
            0,
            &format!(
                "Imported by `chaosc import` from the Chaos Toolkit experiment {source_name}."
            ),
        );
        lines.comment(
            0,
            "Elements marked UNMAPPED have no equivalent in chaosc and need a manual port.",
        );
        lines.comment(0, &format!("title: {}", experiment.title));
        if let Some(version) = &experiment.version {
            lines.comment(0, &format!("version: {version}"));
            self.note("$.version", "version", "a header comment", true);
        }
        if !experiment.contributions.is_empty() {
            let ratings: Vec<String> = experiment
                .contributions
                .iter()
                .map(|(property, rating)| format!("{property} = {rating}"))
                .collect();
            lines.comment(0, &format!("contributions: {}", ratings.join(", ")));
            self.note("$.contributions", "contributions", "a header comment", true);
        }
        self.configuration_comments(&mut lines);
        self.secret_comments(&mut lines);
        for extra in &experiment.extras {
            lines.blank();
            self.unmapped_extra(&mut lines, 0, extra);
        }
        lines.blank();
        lines
    }

    fn configuration_comments(&mut self, lines: &mut Lines) {
        use super::model::ConfigValue;
        for entry in &self.experiment.configuration {
            let text = match &entry.value {
                ConfigValue::Inline(value) => format!(
                    "configuration `{}` = {}, written where it is used",
                    entry.name,
                    quote(value)
                ),
                ConfigValue::Env { key, default } => format!(
                    "configuration `{}` from environment variable `{key}`{}",
                    entry.name,
                    default.as_ref().map_or(String::new(), |default| format!(
                        ", default {} written where it is used",
                        quote(default)
                    ))
                ),
                ConfigValue::Other(kind) => {
                    format!("configuration `{}` from a `{kind}` source", entry.name)
                }
            };
            lines.comment(0, &text);
            self.note(
                &entry.path,
                &format!("configuration `{}`", entry.name),
                "a header comment",
                true,
            );
        }
    }

    fn secret_comments(&mut self, lines: &mut Lines) {
        for secret in &self.experiment.secrets {
            let name = format!("{}.{}", secret.scope, secret.key);
            let source = match &secret.source {
                SecretSource::Inline => "an inline value".to_owned(),
                SecretSource::Env(variable) => format!("environment variable `{variable}`"),
                SecretSource::Other(kind) => format!("a `{kind}` source"),
            };
            lines.comment(
                0,
                &format!("secret `{name}` from {source}; its value is not written"),
            );
            self.warnings.push(ImportWarning::SecretNotWritten {
                name: name.clone(),
                span: secret.span.into(),
            });
            let path = format!("$.secrets.{}.{}", secret.scope, secret.key);
            self.note(
                &path,
                &format!("secret `{name}`"),
                "a header comment without its value",
                false,
            );
        }
    }

    /// Converts the entries of the method or the rollbacks into a plan.
    fn convert_plan(&mut self, entries: &[ActivityEntry], section: Section) -> PlanBuilder {
        let mut plan = PlanBuilder::default();
        for entry in entries {
            self.convert_entry(entry, section, Some(&mut plan));
        }
        plan
    }

    /// Joins the parts into the file text.
    fn assemble(&mut self, header: Lines, method: PlanBuilder, rollbacks: PlanBuilder) -> String {
        let experiment = self.experiment;
        let mut lines = header;
        lines.line(
            0,
            &format!("experiment {} {{", identifier(&experiment.title)),
        );
        lines.comment(
            1,
            "chaosc requires a category, a severity and a duration, which the",
        );
        lines.comment(
            1,
            "toolkit lacks; the duration covers every timeout of the plans below.",
        );
        lines.line(1, &format!("category = {}", self.category()));
        lines.line(1, "severity = low");
        lines.line(1, &format!("duration = {}", self.duration_minutes()));
        lines.comment(
            1,
            "The toolkit runs experiments at any hour, so the import does too.",
        );
        lines.line(1, "safety { business_hours_only = false }");
        if let Some(description) = &experiment.description {
            lines.line(1, &format!("description = {}", quote(description)));
        }
        if !experiment.tags.is_empty() {
            lines.line(
                1,
                &format!("tags = {}", super::writer::string_list(&experiment.tags)),
            );
        }

        if !self.steady_state.is_empty() {
            lines.blank();
            lines.line(1, "steady_state {");
            lines.extend(std::mem::take(&mut self.steady_state));
            lines.line(1, "}");
        }
        if !self.probes.is_empty() {
            lines.blank();
            lines.comment(1, "probes that the method and the rollbacks run");
            lines.extend(std::mem::take(&mut self.probes));
        }
        for (name, plan, what) in [
            ("method", method, "the method, in order"),
            ("rollbacks", rollbacks, "the rollbacks, after the method"),
        ] {
            if plan.lines.is_empty() {
                continue;
            }
            lines.blank();
            if plan.action_count == 0 {
                // The lines were written for the inside of the plan.
                lines.comment(1, &format!("{what}: nothing in it could be mapped"));
                lines.extend_outdented(plan.lines);
                continue;
            }
            lines.comment(1, what);
            lines.line(1, &format!("recovery plan {name} {{"));
            lines.extend(plan.lines);
            lines.line(1, "}");
        }
        lines.line(0, "}");
        lines.into_text()
    }

    /// Picks the category named by the first tag that names one, or
    /// `application`.
    fn category(&self) -> &'static str {
        self.experiment
            .tags
            .iter()
            .find_map(|tag| Category::from_name(&tag.to_lowercase()))
            .unwrap_or(Category::Application)
            .name()
    }

    /// The experiment's duration: the time budget of its checks and plans,
    /// rounded up to whole minutes.
    fn duration_minutes(&self) -> String {
        let minutes = (self.budget_seconds / 60.0).ceil() as u64 + 1;
        format!("{}m", minutes.min(MAX_DURATION_MINUTES))
    }

    /// Records what became of an element.
    pub fn note(&mut self, path: &str, element: &str, outcome: &str, mapped: bool) {
        self.summary.push(SummaryEntry {
            path: path.to_owned(),
            element: element.to_owned(),
            outcome: outcome.to_owned(),
            mapped,
        });
    }

    /// Writes a placeholder for an element that cannot be mapped, with the
    /// warning and the summary entry that go with it.
    #[allow(clippy::too_many_arguments)]
    pub fn unmapped(
        &mut self,
        lines: &mut Lines,
        level: usize,
        path: &str,
        element: &str,
        reason: &str,
        raw: &Node,
        span: Span,
    ) {
        self.placeholder(lines, level, path, element, reason, raw);
        self.warnings.push(ImportWarning::Unmapped {
            path: path.to_owned(),
            element: element.to_owned(),
            reason: reason.to_owned(),
            span: span.into(),
            help: Some("port it by hand from the placeholder comment in the output".to_owned()),
        });
    }

    /// Writes a placeholder for an activity that cannot be mapped. A
    /// construct of a pattern or JSON path gets a warning of its own,
    /// marked at the construct.
    pub fn unmapped_activity(
        &mut self,
        lines: &mut Lines,
        level: usize,
        path: &str,
        activity: &Activity,
        not_mapped: NotMapped,
    ) {
        let element = describe(activity);
        let construct = match not_mapped {
            NotMapped::Reason(reason) => {
                let (raw, span) = (&activity.raw, activity.span);
                self.unmapped(lines, level, path, &element, &reason, raw, span);
                return;
            }
            NotMapped::Construct(construct) => construct,
        };
        let reason = &construct.reason;
        self.placeholder(lines, level, path, &element, reason, &activity.raw);
        let (path, span) = (path.to_owned(), construct.span.into());
        let warning = match construct.kind {
            ConstructKind::Regex => ImportWarning::RegexWithoutEquivalent {
                path,
                element,
                reason: construct.reason,
                span,
                help: construct.help,
            },
            ConstructKind::JsonPath => ImportWarning::JsonPathWithoutEquivalent {
                path,
                element,
                reason: construct.reason,
                span,
                help: construct.help,
            },
        };
        self.warnings.push(warning);
    }

    /// Writes the two comment lines of a placeholder and its summary entry.
    fn placeholder(
        &mut self,
        lines: &mut Lines,
        level: usize,
        path: &str,
        element: &str,
        reason: &str,
        raw: &Node,
    ) {
        lines.comment(level, &format!("UNMAPPED {path} ({element}): {reason}"));
        lines.comment(level, &compact_json(raw));
        self.note(path, element, &format!("placeholder: {reason}"), false);
    }

    /// Writes a placeholder for `controls`, `extensions` or `runtime`.
    pub fn unmapped_extra(&mut self, lines: &mut Lines, level: usize, extra: &Extra) {
        let reason = match extra.key.as_str() {
            "controls" => "chaosc has no controls that hook into a run",
            "extensions" => "chaosc has no extension data",
            _ => "chaosc fixes its own run order and has no runtime strategies",
        };
        let element = format!("`{}`", extra.key);
        self.unmapped(
            lines,
            level,
            &extra.path,
            &element,
            reason,
            &extra.node,
            extra.node.span,
        );
    }

    /// Records a mapping that differs from the input in a stated way.
    pub fn approximated(&mut self, activity: &Activity, reason: String) {
        self.warnings.push(ImportWarning::Approximated {
            path: activity.path.clone(),
            element: describe(activity),
            reason,
            span: activity.span.into(),
            help: None,
        });
    }
}

/// Names an activity as messages show it: ``action `kill-api` ``.
pub fn describe(activity: &Activity) -> String {
    format!("{} `{}`", activity.kind.name(), activity.name)
}

/// Writes a value as one line of JSON for a comment, with the values of
/// headers that may hold credentials replaced.
fn compact_json(node: &Node) -> String {
    let mut value = node.to_json();
    redact(&mut value);
    comment_text(&value.to_string())
}

fn redact(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "headers"
                    && let serde_json::Value::Object(headers) = child
                {
                    for (name, header) in headers.iter_mut() {
                        let lower = name.to_lowercase();
                        if SENSITIVE_HEADER_WORDS
                            .iter()
                            .any(|word| lower.contains(word))
                        {
                            *header = serde_json::Value::String("<redacted>".to_owned());
                        }
                    }
                } else {
                    redact(child);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Formats seconds for a `timeout` or `within` clause.
pub fn seconds(value: f64) -> String {
    duration(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_headers_are_redacted() {
        let mut value = serde_json::json!({
            "provider": {"headers": {"Authorization": "Bearer abc", "Accept": "text/plain"}}
        });
        redact(&mut value);
        assert_eq!(value["provider"]["headers"]["Authorization"], "<redacted>");
        assert_eq!(value["provider"]["headers"]["Accept"], "text/plain");
    }
}

//! Turning a tolerance into `expect` comparisons. The toolkit compares a
//! tolerance with the provider's output: for `http` an object of `status`,
//! `headers` and `body`, for `process` one of `status`, `stdout` and
//! `stderr`. A bare number or list is compared with `status`; a `range`,
//! `regex` or `jsonpath` with the field its `target` names.

use super::jsonpath2::{PathIssue, translate_path};
use super::model::{Tolerance, ToleranceKind};
use super::node::{Node, NodeKind};
use super::python_regex::{PatternIssue, translate};
use super::writer::{json_value, quote};
use crate::model::JsonPath;
use crate::syntax::Span;

/// The reason a tolerance, or the activity it belongs to, has no
/// equivalent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotMapped {
    /// A reason about the whole element.
    Reason(String),
    /// A construct of a pattern or a JSON path, marked in the input.
    Construct(UnmappedConstruct),
}

impl From<String> for NotMapped {
    fn from(reason: String) -> Self {
        NotMapped::Reason(reason)
    }
}

/// A construct of a `regex` pattern or a `jsonpath` path that chaosc cannot
/// express, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmappedConstruct {
    pub kind: ConstructKind,
    pub reason: String,
    /// Advice on rewriting the input without the construct.
    pub help: String,
    pub span: Span,
}

/// The language of an [`UnmappedConstruct`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstructKind {
    Regex,
    JsonPath,
}

/// The provider whose output a tolerance judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    Http,
    Process,
}

impl Observed {
    /// The chaosc field that holds the status: HTTP status or exit code.
    fn status_field(self) -> &'static str {
        match self {
            Observed::Http => "status",
            Observed::Process => "exit",
        }
    }

    /// The output field a `regex` tolerance may target, and its chaosc name.
    fn text_field(self) -> (&'static str, &'static str) {
        match self {
            Observed::Http => ("body", "body"),
            Observed::Process => ("stdout", "output"),
        }
    }
}

/// Returns the comparisons that accept what `tolerance` accepts, or the
/// reason none can.
pub fn expectations(tolerance: &Tolerance, observed: Observed) -> Result<Vec<String>, NotMapped> {
    let status = observed.status_field();
    match &tolerance.kind {
        ToleranceKind::Integer(code) => Ok(vec![format!("{status} == {code}")]),
        ToleranceKind::List(items) => Ok(status_set(items, status)?),
        ToleranceKind::Range { low, high, target } => match target.as_deref() {
            Some("status") => {
                let low = low.ceil() as i64;
                let high = high.floor() as i64;
                Ok(vec![
                    format!("{status} >= {low}"),
                    format!("{status} <= {high}"),
                ])
            }
            Some(other) => Err(NotMapped::Reason(format!(
                "a range over `{other}` needs a number parsed from text, which chaosc does not do"
            ))),
            None => Err(NotMapped::Reason(
                "a range without `target` compares the whole output object, so it never holds"
                    .to_owned(),
            )),
        },
        ToleranceKind::Regex {
            pattern,
            pattern_source,
            target,
        } => {
            let (name, field) = observed.text_field();
            check_target("regex", name, target.as_deref())?;
            match translate(pattern) {
                Ok(translated) => Ok(vec![format!("{field} =~ {}", quote(&translated))]),
                Err(PatternIssue::Unsupported(construct)) => {
                    Err(NotMapped::Construct(UnmappedConstruct {
                        kind: ConstructKind::Regex,
                        reason: construct.reason,
                        help: construct.help,
                        span: pattern_source.locate(construct.offset, construct.len),
                    }))
                }
                Err(PatternIssue::Invalid { message, .. }) => Err(NotMapped::Reason(format!(
                    "the pattern `{pattern}` is invalid once its references are resolved: \
                     {message}"
                ))),
            }
        }
        ToleranceKind::JsonPath {
            path,
            path_source,
            target,
            expect,
            count,
        } => {
            let (name, _) = observed.text_field();
            check_target("jsonpath", name, target.as_deref())?;
            let json_path = match translate_path(path) {
                Ok(json_path) => json_path,
                Err(PathIssue::Unsupported(construct)) => {
                    return Err(NotMapped::Construct(UnmappedConstruct {
                        kind: ConstructKind::JsonPath,
                        reason: construct.reason,
                        help: construct.help,
                        span: path_source.locate(construct.offset, construct.len),
                    }));
                }
                Err(PathIssue::Invalid { message, .. }) => {
                    return Err(NotMapped::Reason(format!(
                        "the path `{path}` is invalid once its references are resolved: {message}"
                    )));
                }
            };
            let comparison = json_path_comparison(&json_path, expect.as_ref(), count.as_ref())?;
            Ok(vec![comparison])
        }
        ToleranceKind::Probe => Err(NotMapped::Reason(
            "a probe tolerance hands the probe's output to another activity as its `value` \
             argument, and chaosc cannot pass a sample's output to another probe"
                .to_owned(),
        )),
        ToleranceKind::OtherScalar => Err(NotMapped::Reason(
            "the toolkit compares this value with the whole output object, so it never holds"
                .to_owned(),
        )),
    }
}

/// Checks that a `regex` or `jsonpath` tolerance judges the output field
/// chaosc reads, `name`. Without a target, the toolkit applies the
/// tolerance to the whole output object.
fn check_target(kind: &str, name: &str, target: Option<&str>) -> Result<(), NotMapped> {
    if target == Some(name) {
        return Ok(());
    }
    let found = match target {
        Some(target) => format!("`{target}`"),
        None => "none, so the toolkit applies it to the whole output object".to_owned(),
    };
    Err(NotMapped::Reason(format!(
        "a {kind} tolerance maps only when its target is `{name}`, found {found}"
    )))
}

/// Writes the comparison that holds when `path` selects what the toolkit
/// accepts: the values of `expect` (a list, or one value that stands for a
/// list of one) when it is given, else `count` values when that is given,
/// else at least one value.
fn json_path_comparison(
    path: &JsonPath,
    expect: Option<&Node>,
    count: Option<&Node>,
) -> Result<String, String> {
    let quoted = quote(path.as_str());
    if let Some(expect) = expect {
        let values = match &expect.kind {
            NodeKind::Array(items) => items.as_slice(),
            _ => std::slice::from_ref(expect),
        };
        if !path.is_singular() {
            let items = values
                .iter()
                .map(json_value)
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(format!("json({quoted}) == [{}]", items.join(", ")));
        }
        // A path without a wildcard selects at most one value, which
        // `json(PATH)` compares as itself, not as a list of one.
        return match values {
            [] => Ok(format!("json_count({quoted}) == 0")),
            [value] => Ok(format!("json({quoted}) == {}", json_value(value)?)),
            _ => Err(format!(
                "`{}` selects at most one value, so the {} values of `expect` never match",
                path.as_str(),
                values.len()
            )),
        };
    }
    match count.map(Node::as_i64) {
        None => Ok(format!("json_count({quoted}) >= 1")),
        Some(Some(count)) if count >= 0 => Ok(format!("json_count({quoted}) == {count}")),
        Some(_) => Err(
            "`count` is not a whole number of zero or more, so no number of values matches it"
                .to_owned(),
        ),
    }
}

/// Maps a list of accepted status codes to one comparison or a range; a
/// list with gaps has no equivalent, since `expect` joins with `and` only.
fn status_set(items: &[Node], field: &str) -> Result<Vec<String>, String> {
    let mut codes: Vec<i64> = Vec::new();
    for item in items {
        let Some(code) = item.as_i64() else {
            return Err(format!(
                "a list tolerance maps only when every item is a whole number, found {}",
                item.type_name()
            ));
        };
        codes.push(code);
    }
    codes.sort_unstable();
    codes.dedup();
    match codes.as_slice() {
        [] => Err("an empty list accepts nothing".to_owned()),
        [code] => Ok(vec![format!("{field} == {code}")]),
        [low, .., high] if (high - low) as usize == codes.len() - 1 => Ok(vec![
            format!("{field} >= {low}"),
            format!("{field} <= {high}"),
        ]),
        _ => Err(format!(
            "the accepted values {codes:?} have gaps, and `expect` cannot say \"one of\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::node::StringSource;

    fn tolerance(kind: ToleranceKind) -> Tolerance {
        Tolerance { kind }
    }

    fn numbers(values: &[f64]) -> Vec<Node> {
        values
            .iter()
            .map(|value| Node {
                kind: NodeKind::Number(*value),
                span: Span::default(),
            })
            .collect()
    }

    #[test]
    fn status_lists_map_when_contiguous() {
        let single = tolerance(ToleranceKind::List(numbers(&[200.0])));
        assert_eq!(
            expectations(&single, Observed::Http).unwrap(),
            ["status == 200"]
        );
        let run = tolerance(ToleranceKind::List(numbers(&[201.0, 200.0, 202.0])));
        assert_eq!(
            expectations(&run, Observed::Process).unwrap(),
            ["exit >= 200", "exit <= 202"]
        );
        let gaps = tolerance(ToleranceKind::List(numbers(&[200.0, 404.0])));
        assert!(expectations(&gaps, Observed::Http).is_err());
    }

    /// Reads a tolerance object written as JSON, as the importer does.
    fn read(text: &str) -> Tolerance {
        let node = crate::import::json::parse_json(text).unwrap();
        let field = |key: &str| node.get(key).cloned();
        let string = |key: &str| field(key).and_then(|value| value.as_str().map(str::to_owned));
        let source = |key: &str| StringSource::of(node.get(key).unwrap(), text);
        let kind = match string("type").as_deref() {
            Some("regex") => ToleranceKind::Regex {
                pattern: string("pattern").unwrap(),
                pattern_source: source("pattern"),
                target: string("target"),
            },
            _ => ToleranceKind::JsonPath {
                path: string("path").unwrap(),
                path_source: source("path"),
                target: string("target"),
                expect: field("expect"),
                count: field("count"),
            },
        };
        tolerance(kind)
    }

    #[test]
    fn regex_needs_the_text_target() {
        let regex = |target: &str| {
            read(&format!(
                r#"{{"type": "regex", "pattern": "^up$", "target": "{target}"}}"#
            ))
        };
        assert_eq!(
            expectations(&regex("stdout"), Observed::Process).unwrap(),
            [r#"output =~ "^up(?:\\n?\\z)""#]
        );
        assert!(expectations(&regex("stderr"), Observed::Process).is_err());
    }

    #[test]
    fn regex_without_equivalent_marks_the_construct() {
        let text = r#"{"type": "regex", "pattern": "ready(?= now)", "target": "body"}"#;
        let Err(NotMapped::Construct(construct)) = expectations(&read(text), Observed::Http) else {
            panic!("the lookahead is not reported as a construct");
        };
        assert_eq!(construct.kind, ConstructKind::Regex);
        assert!(
            construct.reason.contains("lookahead"),
            "{}",
            construct.reason
        );
        let start = text.find("(?=").unwrap();
        assert_eq!(construct.span, Span::new(start, start + 3));
    }

    #[test]
    fn json_paths_map_to_json_comparisons() {
        let cases = [
            (r#""path": "$.status""#, r#"json_count("$.status") >= 1"#),
            (
                r#""path": "$.status", "expect": "UP""#,
                r#"json("$.status") == "UP""#,
            ),
            (
                r#""path": "$.status", "expect": ["UP"]"#,
                r#"json("$.status") == "UP""#,
            ),
            (
                r#""path": "$.missing", "expect": []"#,
                r#"json_count("$.missing") == 0"#,
            ),
            (
                r#""path": "$.checks[*].ok", "expect": true"#,
                r#"json("$.checks[*].ok") == [true]"#,
            ),
            (
                r#""path": "$.checks.*.name", "expect": ["db", "cache"]"#,
                r#"json("$.checks[*].name") == ["db", "cache"]"#,
            ),
            (
                r#""path": "$[\"a b\"][-1]", "expect": {"v": [1.5, null]}"#,
                r#"json("$['a b'][-1]") == { "v" = [1.5, null] }"#,
            ),
            (
                r#""path": "$.checks[*]", "count": 2"#,
                r#"json_count("$.checks[*]") == 2"#,
            ),
            // `expect` takes precedence over `count`, as in the toolkit.
            (
                r#""path": "$.version", "count": 5, "expect": "2.4.1""#,
                r#"json("$.version") == "2.4.1""#,
            ),
        ];
        for (fields, comparison) in cases {
            let text = format!(r#"{{"type": "jsonpath", {fields}, "target": "body"}}"#);
            let written = expectations(&read(&text), Observed::Http);
            assert_eq!(written, Ok(vec![comparison.to_owned()]), "{text}");
        }
    }

    #[test]
    fn json_paths_that_never_match_are_reasons() {
        let cases = [
            (
                r#""path": "$.status", "expect": ["UP", "DOWN"]"#,
                "never match",
            ),
            (r#""path": "$.checks[*]", "count": 1.5"#, "`count`"),
            (
                r#""path": "$.status", "expect": "a\u0001b""#,
                "control character",
            ),
        ];
        for (fields, reason) in cases {
            let text = format!(r#"{{"type": "jsonpath", {fields}, "target": "body"}}"#);
            match expectations(&read(&text), Observed::Http) {
                Err(NotMapped::Reason(written)) => assert!(written.contains(reason), "{written}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn json_path_needs_the_text_target() {
        for target in ["", r#", "target": "stdout""#] {
            let text = format!(r#"{{"type": "jsonpath", "path": "$.status"{target}}}"#);
            let reason = expectations(&read(&text), Observed::Http).unwrap_err();
            assert!(
                matches!(&reason, NotMapped::Reason(reason) if reason.contains("`body`")),
                "{text}: {reason:?}"
            );
        }
        let text = r#"{"type": "jsonpath", "path": "$.jobs[*]", "target": "stdout"}"#;
        assert_eq!(
            expectations(&read(text), Observed::Process),
            Ok(vec![r#"json_count("$.jobs[*]") >= 1"#.to_owned()])
        );
    }

    #[test]
    fn json_path_without_equivalent_marks_the_construct() {
        let text = r#"{"type": "jsonpath", "path": "$.checks[?(@.ok = true)]", "target": "body"}"#;
        let Err(NotMapped::Construct(construct)) = expectations(&read(text), Observed::Http) else {
            panic!("the filter is not reported as a construct");
        };
        assert_eq!(construct.kind, ConstructKind::JsonPath);
        assert!(construct.reason.contains("filter"), "{}", construct.reason);
        let start = text.find("[?").unwrap() + 1;
        let end = text.find(")]").unwrap() + 1;
        assert_eq!(construct.span, Span::new(start, end));
    }
}

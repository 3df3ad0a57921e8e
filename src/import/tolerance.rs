//! Turning a tolerance into `expect` comparisons. The toolkit compares a
//! tolerance with the provider's output: for `http` an object of `status`,
//! `headers` and `body`, for `process` one of `status`, `stdout` and
//! `stderr`. A bare number or list is compared with `status`; a `range` or
//! `regex` with the field its `target` names.

use super::model::{Tolerance, ToleranceKind};
use super::node::Node;
use super::writer::quote;

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
pub fn expectations(tolerance: &Tolerance, observed: Observed) -> Result<Vec<String>, String> {
    let status = observed.status_field();
    match &tolerance.kind {
        ToleranceKind::Integer(code) => Ok(vec![format!("{status} == {code}")]),
        ToleranceKind::List(items) => status_set(items, status),
        ToleranceKind::Range { low, high, target } => match target.as_deref() {
            Some("status") => {
                let low = low.ceil() as i64;
                let high = high.floor() as i64;
                Ok(vec![
                    format!("{status} >= {low}"),
                    format!("{status} <= {high}"),
                ])
            }
            Some(other) => Err(format!(
                "a range over `{other}` needs a number parsed from text, which chaosc does not do"
            )),
            None => Err(
                "a range without `target` compares the whole output object, so it never holds"
                    .to_owned(),
            ),
        },
        ToleranceKind::Regex { pattern, target } => {
            let (name, field) = observed.text_field();
            if target.as_deref() != Some(name) {
                return Err(format!(
                    "a regex tolerance maps only when its target is `{name}`, found {}",
                    target
                        .as_deref()
                        .map_or("none".to_owned(), |t| format!("`{t}`"))
                ));
            }
            match anchored_literal(pattern) {
                Some(text) => Ok(vec![format!("{field} == {}", quote(&text))]),
                None => Err(format!(
                    "chaosc compares `{field}` as exact text and has no regular expressions, and \
                     `{pattern}` is not an anchored literal such as `^ok$`"
                )),
            }
        }
        ToleranceKind::JsonPath { path, .. } => Err(format!(
            "chaosc probes cannot select `{path}` from a JSON document"
        )),
        ToleranceKind::Probe => {
            Err("a probe tolerance runs another activity, which chaosc cannot do".to_owned())
        }
        ToleranceKind::OtherScalar => Err(
            "the toolkit compares this value with the whole output object, so it never holds"
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

/// Returns the text a regex matches exactly when it is `^text$` with no
/// other special character, or with only escaped ones.
fn anchored_literal(pattern: &str) -> Option<String> {
    let inner = pattern.strip_prefix('^')?.strip_suffix('$')?;
    let mut text = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let escaped = chars.next()?;
                if escaped.is_ascii_alphanumeric() {
                    return None;
                }
                text.push(escaped);
            }
            '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' => {
                return None;
            }
            c => text.push(c),
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::node::NodeKind;
    use crate::syntax::Span;

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

    #[test]
    fn anchored_literals_map_to_equality() {
        assert_eq!(anchored_literal("^ok$").as_deref(), Some("ok"));
        assert_eq!(anchored_literal(r"^v1\.2$").as_deref(), Some("v1.2"));
        assert_eq!(anchored_literal("^o.k$"), None);
        assert_eq!(anchored_literal("ok"), None);
        assert_eq!(anchored_literal(r"^\d$"), None);
    }

    #[test]
    fn regex_needs_the_text_target() {
        let regex = |target: &str| {
            tolerance(ToleranceKind::Regex {
                pattern: "^up$".to_owned(),
                target: Some(target.to_owned()),
            })
        };
        assert_eq!(
            expectations(&regex("stdout"), Observed::Process).unwrap(),
            ["output == \"up\""]
        );
        assert!(expectations(&regex("stderr"), Observed::Process).is_err());
    }
}

//! Checking `json(PATH)` and `json_count(PATH)` expectations. The path is
//! parsed when the file is checked. The value it is compared with must suit
//! what the path selects: one value for a path without wildcards, a list for
//! a path with one, and a whole number for `json_count`.

use super::CheckError;
use super::types::type_value;
use crate::model::{Expectation, JsonPath, JsonPathError, ProbeField, TypedValue, ValueType};
use crate::syntax::{self, CompareOp, Span, Value, ValueKind};

/// The help for a `json` field written without its path.
const PATH_HELP: &str = "write the path in parentheses, as in `json(\"$.status\") == \"up\"`";

/// Checks an expectation on `json(PATH)` or `json_count(PATH)`.
pub fn check_json_expectation(
    diagnostics: &mut Vec<CheckError>,
    field: ProbeField,
    tolerance: &syntax::Tolerance,
) -> Option<Expectation> {
    let Some(argument) = &tolerance.argument else {
        diagnostics.push(CheckError::InvalidValue {
            what: format!("`{}`", field.name()),
            reason: "it needs a JSON path".to_owned(),
            span: tolerance.field.span.into(),
            help: Some(PATH_HELP.to_owned()),
        });
        return None;
    };
    let path = parse_path(diagnostics, argument)?;
    let value = match field {
        ProbeField::JsonCount if tolerance.regex => {
            diagnostics.push(regex_on_number(tolerance));
            return None;
        }
        ProbeField::JsonCount => type_value(&tolerance.value, &ValueType::Integer)
            .map_err(|error| diagnostics.push(error))
            .ok()?,
        _ if !path.is_singular() => check_list_comparison(diagnostics, &path, tolerance)?,
        _ if tolerance.regex => {
            let pattern = super::probes::compile_pattern(diagnostics, &tolerance.value)?;
            return Some(Expectation {
                field,
                op: CompareOp::Eq,
                value: TypedValue::String(pattern.as_str().to_owned()),
                pattern: Some(pattern),
                json_path: Some(path),
            });
        }
        _ => check_value_comparison(diagnostics, tolerance)?,
    };
    Some(Expectation {
        field,
        op: tolerance.op,
        value,
        pattern: None,
        json_path: Some(path),
    })
}

/// Parses the path, reporting an error at the exact character when the
/// string is written without escapes, and at the whole string otherwise.
fn parse_path(diagnostics: &mut Vec<CheckError>, argument: &Value) -> Option<JsonPath> {
    let ValueKind::String(text) = &argument.kind else {
        return None;
    };
    JsonPath::parse(text)
        .map_err(|error| {
            diagnostics.push(CheckError::InvalidJsonPath {
                path: text.clone(),
                span: error_span(argument.span, text, &error).into(),
                reason: error.message,
                help: Some(error.help),
            });
        })
        .ok()
}

/// Maps an error in the path to the source. Every escape of a `.chaos`
/// string is longer than the character it stands for. So a string whose span
/// is its text and two quotes has no escape, and an offset in the text is an
/// offset in the source after the opening quote.
fn error_span(string: Span, text: &str, error: &JsonPathError) -> Span {
    let is_verbatim = string.end - string.start == text.len() + 2;
    if !is_verbatim {
        return string;
    }
    let start = string.start + 1 + error.offset;
    Span::new(start, start + error.len.max(1))
}

/// Types the value a path without wildcards is compared with: any JSON
/// value for `==` and `!=`, a number for an ordering.
fn check_value_comparison(
    diagnostics: &mut Vec<CheckError>,
    tolerance: &syntax::Tolerance,
) -> Option<TypedValue> {
    let json = json_literal(&tolerance.value)
        .map_err(|error| diagnostics.push(error))
        .ok()?;
    let is_ordering = !matches!(tolerance.op, CompareOp::Eq | CompareOp::Ne);
    if is_ordering && !json.is_number() {
        diagnostics.push(CheckError::TypeMismatch {
            expected: "a number".to_owned(),
            found: tolerance.value.kind.describe(),
            span: tolerance.value.span.into(),
            help: Some(format!(
                "`{}` orders numbers only; compare other values with `==` or `!=`",
                tolerance.op.symbol()
            )),
        });
        return None;
    }
    Some(TypedValue::Json(json))
}

/// Types the value a path with a wildcard is compared with: the path
/// selects a list, which only `==` and `!=` compare, with a list.
fn check_list_comparison(
    diagnostics: &mut Vec<CheckError>,
    path: &JsonPath,
    tolerance: &syntax::Tolerance,
) -> Option<TypedValue> {
    let help = format!(
        "compare the list with `==` or `!=` and a list, as in `json({:?}) == [1, 2]`, or count \
         what it selects with `json_count({:?}) >= 1`",
        path.as_str(),
        path.as_str()
    );
    let is_equality = matches!(tolerance.op, CompareOp::Eq | CompareOp::Ne);
    if tolerance.regex || !is_equality {
        let op = if tolerance.regex {
            "=~"
        } else {
            tolerance.op.symbol()
        };
        diagnostics.push(CheckError::InvalidValue {
            what: "comparison".to_owned(),
            reason: format!(
                "`{}` can select several values, so `json` is a list, which `{op}` cannot compare",
                path.as_str()
            ),
            span: tolerance.span.into(),
            help: Some(help),
        });
        return None;
    }
    if !matches!(tolerance.value.kind, ValueKind::List(_)) {
        diagnostics.push(CheckError::TypeMismatch {
            expected: "a list".to_owned(),
            found: tolerance.value.kind.describe(),
            span: tolerance.value.span.into(),
            help: Some(help),
        });
        return None;
    }
    json_literal(&tolerance.value)
        .map(TypedValue::Json)
        .map_err(|error| diagnostics.push(error))
        .ok()
}

/// Converts a value as written into JSON: strings, numbers without a
/// unit, booleans, lists, maps, and `null`.
fn json_literal(value: &Value) -> Result<serde_json::Value, CheckError> {
    use serde_json::Value as Json;
    let json = match &value.kind {
        ValueKind::String(text) => Json::String(text.clone()),
        ValueKind::Bool(flag) => Json::Bool(*flag),
        ValueKind::Quantity {
            number,
            text,
            unit: None,
        } => match text.parse::<i64>() {
            Ok(whole) => Json::from(whole),
            Err(_) => serde_json::Number::from_f64(*number)
                .map(Json::Number)
                .ok_or_else(|| not_json(value))?,
        },
        ValueKind::List(items) => Json::Array(
            items
                .iter()
                .map(json_literal)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        ValueKind::Map(entries) => {
            let mut members = serde_json::Map::new();
            for entry in entries {
                members.insert(entry.key.clone(), json_literal(&entry.value)?);
            }
            Json::Object(members)
        }
        ValueKind::Name(path) if path.len() == 1 && path[0].name == "null" => Json::Null,
        _ => return Err(not_json(value)),
    };
    Ok(json)
}

fn not_json(value: &Value) -> CheckError {
    CheckError::TypeMismatch {
        expected: "a JSON value".to_owned(),
        found: value.kind.describe(),
        span: value.span.into(),
        help: Some(
            "compare with a string, a number without a unit, `true`, `false`, `null`, a list or \
             a map"
                .to_owned(),
        ),
    }
}

fn regex_on_number(tolerance: &syntax::Tolerance) -> CheckError {
    CheckError::InvalidValue {
        what: "`json_count`".to_owned(),
        reason: "`=~` matches text, and `json_count` is a number".to_owned(),
        span: tolerance.span.into(),
        help: Some("compare the count with `==`, `<` or `in A..B`".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_span_points_into_verbatim_strings() {
        let error = JsonPath::parse("$..id").unwrap_err();
        // `"$..id"` written at offset 10 without escapes.
        assert_eq!(
            error_span(Span::new(10, 17), "$..id", &error),
            Span::new(12, 14)
        );
        // The same text written with an escape is one byte longer.
        assert_eq!(
            error_span(Span::new(10, 18), "$..id", &error),
            Span::new(10, 18)
        );
    }
}

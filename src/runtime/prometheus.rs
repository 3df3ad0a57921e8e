//! Reading numbers from Prometheus: the text exposition format (version
//! 0.0.4) that `/metrics` endpoints serve, and instant queries against a
//! server's HTTP API (`/api/v1/query`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::{LabelMatchOp, SeriesSelector};

/// One series of a scrape: its labels and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub metric: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses the text exposition format. Comments, `# HELP` and `# TYPE` lines
/// are skipped; a line that does not parse is an error naming its number.
pub fn parse_text(text: &str) -> Result<Vec<Series>, String> {
    let mut series = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = parse_line(line)
            .ok_or_else(|| format!("line {} is not a sample: {line}", index + 1))?;
        series.push(parsed);
    }
    Ok(series)
}

fn parse_line(line: &str) -> Option<Series> {
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .unwrap_or(line.len());
    let metric = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        let (parsed, remainder) = parse_labels(after_brace)?;
        labels = parsed;
        rest = remainder;
    }
    // A timestamp may follow the value; it is not needed here.
    let value = rest.split_whitespace().next()?;
    Some(Series {
        metric: metric.to_owned(),
        labels,
        value: parse_float(value)?,
    })
}

/// Parses `a="x",b="y"}` and returns the labels and the text after `}`.
fn parse_labels(text: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars
            .next_if(|(_, c)| c.is_whitespace() || *c == ',')
            .is_some()
        {}
        let (start, first) = chars.next()?;
        if first == '}' {
            return Some((labels, &text[start + 1..]));
        }
        let mut name = String::from(first);
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=') {
            name.push(c);
        }
        chars.next()?;
        if chars.next()?.1 != '"' {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()?.1 {
                '"' => break,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                other => value.push(other),
            }
        }
        labels.insert(name.trim().to_owned(), value);
    }
}

/// Parses a sample value, including `NaN`, `+Inf` and `-Inf`.
pub fn parse_float(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

/// Tells whether a series matches a selector.
pub fn matches(series: &Series, selector: &SeriesSelector) -> bool {
    series.metric == selector.metric
        && selector.matchers.iter().all(|matcher| {
            // A missing label matches as the empty string, as in PromQL.
            let value = series.labels.get(&matcher.label).map_or("", String::as_str);
            let pattern_matches = || {
                matcher
                    .pattern
                    .as_ref()
                    .is_some_and(|pattern| pattern.is_match(value))
            };
            match matcher.op {
                LabelMatchOp::Equal => value == matcher.value,
                LabelMatchOp::NotEqual => value != matcher.value,
                LabelMatchOp::Matches => pattern_matches(),
                LabelMatchOp::NotMatches => !pattern_matches(),
            }
        })
}

/// Selects the one series of a scrape that `selector` matches.
pub fn select(series: &[Series], selector: &SeriesSelector) -> Result<f64, String> {
    let found: Vec<&Series> = series.iter().filter(|s| matches(s, selector)).collect();
    match found.as_slice() {
        [one] => Ok(one.value),
        [] => Err(format!("no series matches `{}`", selector.metric)),
        many => Err(format!(
            "{} series match `{}`; add label matchers to select one",
            many.len(),
            selector.metric
        )),
    }
}

/// The body of an `/api/v1/query` response.
#[derive(Debug, Deserialize)]
struct QueryResponse {
    status: String,
    #[serde(default)]
    data: Option<QueryData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum QueryData {
    Scalar((f64, String)),
    Vector(Vec<VectorSample>),
    Matrix(serde::de::IgnoredAny),
    String(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
struct VectorSample {
    value: (f64, String),
}

/// Reads the one number of an instant query's response. A vector must hold
/// exactly one series, so that the comparison is never made with an
/// arbitrary one of several; aggregate with `sum(...)` or `max(...)`.
pub fn query_value(body: &str) -> Result<f64, String> {
    let response: QueryResponse =
        serde_json::from_str(body).map_err(|error| format!("invalid query response: {error}"))?;
    if response.status != "success" {
        return Err(format!(
            "the query failed: {}",
            response.error.unwrap_or(response.status)
        ));
    }
    let number = |text: &str| parse_float(text).ok_or_else(|| format!("`{text}` is not a number"));
    match response.data {
        Some(QueryData::Scalar((_, value))) => number(&value),
        Some(QueryData::Vector(samples)) => match samples.as_slice() {
            [one] => number(&one.value.1),
            [] => Err("the query returned no series".to_owned()),
            many => Err(format!(
                "the query returned {} series; aggregate them into one, as with `sum(...)`",
                many.len()
            )),
        },
        Some(QueryData::Matrix(_) | QueryData::String(_)) | None => {
            Err("the query returned no scalar or vector; write an instant query".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::probes::parse_selector;

    const SCRAPE: &str = r#"# HELP requests_total Requests.
# TYPE requests_total counter
requests_total{code="200",path="/api"} 12
requests_total{code="500",path="/api/x"} 3 1700000000000
up 1
temperature{room="a \"b\""} -Inf
"#;

    #[test]
    fn text_format_parses() {
        let series = parse_text(SCRAPE).unwrap();
        assert_eq!(series.len(), 4);
        assert_eq!(series[1].labels["path"], "/api/x");
        assert_eq!(series[1].value, 3.0);
        assert_eq!(series[3].labels["room"], "a \"b\"");
        assert_eq!(series[3].value, f64::NEG_INFINITY);
    }

    #[test]
    fn selector_picks_one_series() {
        let series = parse_text(SCRAPE).unwrap();
        let cases = [
            (r#"requests_total{code="500"}"#, Ok(3.0)),
            (r#"requests_total{path=~"/api"}"#, Ok(12.0)),
            (r#"requests_total{code!="200"}"#, Ok(3.0)),
            (r#"requests_total{path!~"/api/.*"}"#, Ok(12.0)),
            ("up", Ok(1.0)),
        ];
        for (text, expected) in cases {
            let selector = parse_selector(text).unwrap();
            assert_eq!(select(&series, &selector), expected, "{text}");
        }
    }

    #[test]
    fn selector_rejects_ambiguity() {
        let series = parse_text(SCRAPE).unwrap();
        let selector = parse_selector("requests_total").unwrap();
        assert!(select(&series, &selector).unwrap_err().contains("2 series"));
        let selector = parse_selector("missing").unwrap();
        assert!(
            select(&series, &selector)
                .unwrap_err()
                .contains("no series")
        );
    }

    #[test]
    fn query_response_values() {
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"42"]}]}}"#;
        assert_eq!(query_value(vector), Ok(42.0));
        let scalar = r#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"7"]}}"#;
        assert_eq!(query_value(scalar), Ok(7.0));
        let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(query_value(empty).is_err());
        let failed = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert!(query_value(failed).unwrap_err().contains("parse error"));
    }
}

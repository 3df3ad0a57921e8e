//! Reports of a run result for people and for CI: Markdown and JUnit XML;
//! and the compliance report of a framework as Markdown and HTML.
//! They read the result as JSON, the form it is stored in, so results of
//! older runs render as well as the current one.

mod compliance;
mod junit;
mod markdown;

pub use compliance::{render_compliance_html, render_compliance_markdown};
pub use junit::render_junit;
pub use markdown::render_markdown;

use serde_json::Value;

/// Reads a string field, or an empty string.
fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Reads an array field, or an empty slice.
fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

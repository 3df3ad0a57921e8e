//! Writing `.chaos` text: quoting strings, making identifiers out of free
//! text, formatting durations, and laying out indented blocks.

use std::collections::BTreeSet;

use super::node::{Node, NodeKind};
use crate::syntax::KEYWORDS;

/// The longest identifier made from a name; longer ones are cut.
const MAX_IDENT_CHARS: usize = 48;

/// Quotes `text` as a `.chaos` string. The language knows only the escapes
/// `\"`, `\\`, `\n` and `\t`, so other control characters become spaces.
pub fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push(' '),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Writes a JSON value of the input as the `.chaos` value that `json(PATH)`
/// compares with: a string, a number without a unit, `true`, `false`,
/// `null`, a list or a map. Returns the reason when a string contains a
/// control character other than a newline or a tab, which `.chaos` strings
/// cannot contain.
pub fn json_value(node: &Node) -> Result<String, String> {
    let text = match &node.kind {
        NodeKind::Null => "null".to_owned(),
        NodeKind::Bool(value) => value.to_string(),
        NodeKind::Number(number) => match node.as_i64() {
            Some(whole) => whole.to_string(),
            // `Display` for `f64` writes no exponent, as `.chaos` numbers.
            None => number.to_string(),
        },
        NodeKind::String(text) => json_string(text)?,
        NodeKind::Array(items) => {
            let items = items
                .iter()
                .map(json_value)
                .collect::<Result<Vec<_>, _>>()?;
            format!("[{}]", items.join(", "))
        }
        NodeKind::Object(entries) if entries.is_empty() => "{}".to_owned(),
        NodeKind::Object(entries) => {
            let mut members = Vec::new();
            for entry in entries {
                members.push(format!(
                    "{} = {}",
                    json_string(&entry.key)?,
                    json_value(&entry.value)?
                ));
            }
            format!("{{ {} }}", members.join(", "))
        }
    };
    Ok(text)
}

fn json_string(text: &str) -> Result<String, String> {
    match text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        Some(c) => Err(format!(
            "the string {text:?} contains the control character U+{:04X}, which a \
             `.chaos` string cannot contain",
            u32::from(c)
        )),
        None => Ok(quote(text)),
    }
}

/// Writes a list of strings, as for argv.
pub fn string_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|item| quote(item)).collect();
    format!("[{}]", items.join(", "))
}

/// Formats seconds as the shortest exact duration literal (`5s`, `1500ms`),
/// rounding up to whole milliseconds and to at least one.
pub fn duration(seconds: f64) -> String {
    let millis = (seconds * 1000.0).ceil().max(1.0) as u64;
    if millis.is_multiple_of(60_000) {
        format!("{}m", millis / 60_000)
    } else if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

/// Makes comment text safe for a `//` line: one line, no control characters.
pub fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Hands out identifiers made from free-text names, unique within one scope.
#[derive(Debug, Default)]
pub struct Names {
    taken: BTreeSet<String>,
}

impl Names {
    /// Returns an identifier for `name`: lowercase letters, digits and `_`,
    /// never a keyword, with `_2`, `_3`, ... added when already taken.
    pub fn unique(&mut self, name: &str) -> String {
        let base = identifier(name);
        let mut candidate = base.clone();
        let mut counter = 2;
        while self.taken.contains(&candidate) {
            candidate = format!("{base}_{counter}");
            counter += 1;
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

/// Turns free text into an identifier.
pub fn identifier(name: &str) -> String {
    let mut ident = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            ident.push(c.to_ascii_lowercase());
        } else if !ident.ends_with('_') && !ident.is_empty() {
            ident.push('_');
        }
    }
    let mut ident: String = ident
        .trim_end_matches('_')
        .chars()
        .take(MAX_IDENT_CHARS)
        .collect();
    ident = ident.trim_end_matches('_').to_owned();
    if ident.is_empty() {
        return "unnamed".to_owned();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) || KEYWORDS.contains(&ident.as_str()) {
        ident.insert(0, '_');
    }
    ident
}

/// Lines of text with indentation, four spaces a level.
#[derive(Debug, Default, Clone)]
pub struct Lines {
    lines: Vec<String>,
}

impl Lines {
    /// Adds one line at `level`.
    pub fn line(&mut self, level: usize, text: &str) {
        self.lines.push(format!("{}{text}", "    ".repeat(level)));
    }

    /// Adds a `//` comment line at `level`.
    pub fn comment(&mut self, level: usize, text: &str) {
        self.line(level, &format!("// {}", comment_text(text)));
    }

    /// Adds an empty line, unless the last line is already empty.
    pub fn blank(&mut self) {
        if self.lines.last().is_some_and(|line| !line.is_empty()) {
            self.lines.push(String::new());
        }
    }

    /// Appends every line of `other`.
    pub fn extend(&mut self, other: Lines) {
        self.lines.extend(other.lines);
    }

    /// Appends every line of `other` one level shallower, for lines written
    /// for a block that is left out.
    pub fn extend_outdented(&mut self, other: Lines) {
        let lines = other
            .lines
            .into_iter()
            .map(|line| match line.strip_prefix("    ") {
                Some(rest) => rest.to_owned(),
                None => line,
            });
        self.lines.extend(lines);
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Joins the lines into file text with a final newline.
    pub fn into_text(mut self) -> String {
        while self.lines.last().is_some_and(String::is_empty) {
            self.lines.pop();
        }
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_from_names() {
        let cases = [
            ("website-must-be-up", "website_must_be_up"),
            ("Kill the API!", "kill_the_api"),
            ("2xx responses", "_2xx_responses"),
            ("probe", "_probe"),
            ("***", "unnamed"),
        ];
        for (name, expected) in cases {
            assert_eq!(identifier(name), expected, "{name}");
        }
    }

    #[test]
    fn names_stay_unique() {
        let mut names = Names::default();
        assert_eq!(names.unique("check"), "check");
        assert_eq!(names.unique("check"), "check_2");
        assert_eq!(names.unique("Check"), "check_3");
    }

    #[test]
    fn durations_round_up_to_milliseconds() {
        assert_eq!(duration(5.0), "5s");
        assert_eq!(duration(0.25), "250ms");
        assert_eq!(duration(120.0), "2m");
        assert_eq!(duration(0.0), "1ms");
    }

    #[test]
    fn strings_escape_quotes_and_newlines() {
        assert_eq!(quote("a \"b\"\n\\"), r#""a \"b\"\n\\""#);
    }
}

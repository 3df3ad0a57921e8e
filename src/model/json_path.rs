//! JSON paths for `json(PATH)` and `json_count(PATH)` expectations, a subset
//! of RFC 9535. A path is the root `$` and then segments. A segment selects
//! a member by name (`.name`, `['name']`, `["name"]`), an array element by
//! index (`[0]`, or `[-1]` from the end) or every child (`.*`, `[*]`).
//! Descendant segments, slices, filters and lists of selectors are rejected
//! when the path is parsed, each with its own message.

use std::fmt;

/// The largest index RFC 9535 allows, 2^53 - 1, so that every index is
/// exact in the double-precision numbers of JSON.
const MAX_INDEX: i64 = (1 << 53) - 1;

/// A parsed JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    segments: Vec<JsonPathSegment>,
}

/// One segment of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonPathSegment {
    /// The member of an object with this name.
    Name(String),
    /// The element of an array at this index; a negative index counts from
    /// the end, so `-1` is the last element.
    Index(i64),
    /// Every element of an array, or every member value of an object.
    Wildcard,
}

/// An error in the text of a JSON path, with its place in the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonPathError {
    /// The byte offset in the path text where the problem starts.
    pub offset: usize,
    /// The length in bytes of the text at fault, at least 1 unless the
    /// path ends early.
    pub len: usize,
    pub message: String,
    pub help: String,
}

impl JsonPath {
    /// Parses `text`, which must start with `$`.
    pub fn parse(text: &str) -> Result<JsonPath, JsonPathError> {
        let segments = Parser { text, pos: 0 }.parse()?;
        Ok(JsonPath {
            text: text.to_owned(),
            segments,
        })
    }

    /// Builds a path from its segments, written in the canonical form:
    /// `.name` where the name allows it, `['name']` otherwise.
    pub fn from_segments(segments: Vec<JsonPathSegment>) -> JsonPath {
        let mut text = String::from("$");
        for segment in &segments {
            match segment {
                JsonPathSegment::Name(name) if is_shorthand_name(name) => {
                    text.push('.');
                    text.push_str(name);
                }
                JsonPathSegment::Name(name) => {
                    text.push_str("['");
                    text.push_str(&escape_name(name));
                    text.push_str("']");
                }
                JsonPathSegment::Index(index) => text.push_str(&format!("[{index}]")),
                JsonPathSegment::Wildcard => text.push_str("[*]"),
            }
        }
        JsonPath { text, segments }
    }

    /// Returns the path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns the segments after `$`.
    pub fn segments(&self) -> &[JsonPathSegment] {
        &self.segments
    }

    /// Tells whether the path selects at most one value: it has no
    /// wildcard.
    pub fn is_singular(&self) -> bool {
        !self.segments.contains(&JsonPathSegment::Wildcard)
    }

    /// Returns the values the path selects in `document`, in document
    /// order for arrays and in the order of their names for object
    /// members (serde_json keeps members sorted by name).
    pub fn query<'v>(&self, document: &'v serde_json::Value) -> Vec<&'v serde_json::Value> {
        use serde_json::Value;
        let mut current = vec![document];
        for segment in &self.segments {
            let mut next = Vec::new();
            for value in current {
                match (segment, value) {
                    (JsonPathSegment::Name(name), Value::Object(members)) => {
                        next.extend(members.get(name));
                    }
                    (JsonPathSegment::Index(index), Value::Array(items)) => {
                        let len = items.len() as i64;
                        let position = if *index < 0 { len + index } else { *index };
                        if (0..len).contains(&position) {
                            next.push(&items[position as usize]);
                        }
                    }
                    (JsonPathSegment::Wildcard, Value::Array(items)) => next.extend(items),
                    (JsonPathSegment::Wildcard, Value::Object(members)) => {
                        next.extend(members.values());
                    }
                    _ => {}
                }
            }
            current = next;
        }
        current
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Tells whether `name` can be written as `.name`: RFC 9535 allows ASCII
/// letters, `_` and any non-ASCII character, and digits after the first.
pub fn is_shorthand_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_first) && chars.all(is_name_char)
}

fn is_name_first(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

fn is_name_char(c: char) -> bool {
    is_name_first(c) || c.is_ascii_digit()
}

/// Escapes a name for a single-quoted string of a JSON path.
fn escape_name(name: &str) -> String {
    let mut text = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '\'' => text.push_str("\\'"),
            '\\' => text.push_str("\\\\"),
            '\u{8}' => text.push_str("\\b"),
            '\u{c}' => text.push_str("\\f"),
            '\n' => text.push_str("\\n"),
            '\r' => text.push_str("\\r"),
            '\t' => text.push_str("\\t"),
            c if u32::from(c) < 0x20 => text.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => text.push(c),
        }
    }
    text
}

/// The help shown with every parse error: what the subset contains.
const SUBSET_HELP: &str = "write `$` then names, indexes and `*`, as in `$.items[0].id`, \
                           `$['a key']` or `$.items[*]`";

struct Parser<'src> {
    text: &'src str,
    pos: usize,
}

impl Parser<'_> {
    fn parse(mut self) -> Result<Vec<JsonPathSegment>, JsonPathError> {
        if !self.text.starts_with('$') {
            return Err(self.error(0, 1, "a JSON path starts with `$`"));
        }
        self.pos = 1;
        let mut segments = Vec::new();
        loop {
            let blank_start = self.pos;
            self.skip_blank();
            let Some(c) = self.peek() else {
                if self.pos > blank_start {
                    let message = "the path ends with blank space";
                    return Err(self.error(blank_start, self.pos - blank_start, message));
                }
                return Ok(segments);
            };
            let segment = match c {
                '.' => self.dot_segment()?,
                '[' => self.bracket_segment()?,
                other => {
                    let message = format!("expected `.` or `[`, found `{other}`");
                    return Err(self.error(self.pos, other.len_utf8(), &message));
                }
            };
            segments.push(segment);
        }
    }

    /// `.name`, `.*`, or the unsupported `..`.
    fn dot_segment(&mut self) -> Result<JsonPathSegment, JsonPathError> {
        let start = self.pos;
        self.pos += 1;
        match self.peek() {
            Some('.') => Err(self.error(start, 2, "descendant segments (`..`) are not supported")),
            Some('*') => {
                self.pos += 1;
                Ok(JsonPathSegment::Wildcard)
            }
            Some(c) if is_name_first(c) => {
                let name_start = self.pos;
                while self.peek().is_some_and(is_name_char) {
                    self.pos += self.peek().map_or(1, char::len_utf8);
                }
                Ok(JsonPathSegment::Name(
                    self.text[name_start..self.pos].to_owned(),
                ))
            }
            Some(other) => {
                let word: String = self.text[self.pos..]
                    .chars()
                    .take_while(|c| *c == other || is_name_char(*c))
                    .collect();
                let message = format!(
                    "a name after `.` cannot start with `{other}`, so write it as `['{word}']`"
                );
                Err(self.error(self.pos, other.len_utf8(), &message))
            }
            None => Err(self.error(start, 1, "expected a name or `*` after `.`")),
        }
    }

    /// `['name']`, `["name"]`, `[index]` or `[*]`.
    fn bracket_segment(&mut self) -> Result<JsonPathSegment, JsonPathError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_blank();
        let selector_start = self.pos;
        let segment = match self.peek() {
            Some(quote @ ('\'' | '"')) => JsonPathSegment::Name(self.string(quote)?),
            Some('*') => {
                self.pos += 1;
                JsonPathSegment::Wildcard
            }
            Some(c) if c == '-' || c.is_ascii_digit() => JsonPathSegment::Index(self.index()?),
            Some('?') => {
                let message = "filter selectors (`[?...]`) are not supported";
                return Err(self.error(self.pos, 1, message));
            }
            Some(':') => return Err(self.slice_error()),
            Some(other) => {
                let message =
                    format!("expected a quoted name, an index or `*` after `[`, found `{other}`");
                return Err(self.error(self.pos, other.len_utf8(), &message));
            }
            None => return Err(self.error(open, 1, "the `[` is never closed")),
        };
        self.skip_blank();
        match self.peek() {
            Some(']') => {
                self.pos += 1;
                Ok(segment)
            }
            Some(',') => Err(self.error(
                selector_start,
                self.pos + 1 - selector_start,
                "lists of selectors (`[a, b]`) are not supported",
            )),
            Some(':') if matches!(segment, JsonPathSegment::Index(_)) => Err(self.slice_error()),
            Some(other) => {
                let message = format!("expected `]`, found `{other}`");
                Err(self.error(self.pos, other.len_utf8(), &message))
            }
            None => Err(self.error(open, 1, "the `[` is never closed")),
        }
    }

    fn slice_error(&self) -> JsonPathError {
        self.error(
            self.pos,
            1,
            "array slices (`[start:end]`) are not supported",
        )
    }

    /// Reads an integer without leading zeros, as RFC 9535 writes indexes.
    fn index(&mut self) -> Result<i64, JsonPathError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = &self.text[digits_start..self.pos];
        let len = self.pos - start;
        if digits.is_empty() {
            return Err(self.error(start, len, "expected digits after `-`"));
        }
        let is_negative_zero = digits == "0" && digits_start > start;
        if (digits.len() > 1 && digits.starts_with('0')) || is_negative_zero {
            let message = "an index has no leading zeros and no sign on zero";
            return Err(self.error(start, len, message));
        }
        let index = self.text[start..self.pos]
            .parse::<i64>()
            .ok()
            .filter(|index| index.abs() <= MAX_INDEX);
        index.ok_or_else(|| {
            let message = format!("an index lies between -{MAX_INDEX} and {MAX_INDEX}");
            self.error(start, len, &message)
        })
    }

    /// Reads a string in `quote`s with the escapes of RFC 9535.
    fn string(&mut self, quote: char) -> Result<String, JsonPathError> {
        let open = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                let message = format!("the string opened with `{quote}` is never closed");
                return Err(self.error(open, 1, &message));
            };
            let at = self.pos;
            self.pos += c.len_utf8();
            match c {
                c if c == quote => return Ok(value),
                '\\' => value.push(self.escape(at, quote)?),
                c if u32::from(c) < 0x20 => {
                    let message = "a control character must be escaped, as in `\\n`";
                    return Err(self.error(at, 1, message));
                }
                c => value.push(c),
            }
        }
    }

    /// Returns the character that the escape sequence starting at `at`
    /// encodes.
    fn escape(&mut self, at: usize, quote: char) -> Result<char, JsonPathError> {
        let Some(c) = self.peek() else {
            return Err(self.error(at, 1, "the escape `\\` ends the path"));
        };
        self.pos += c.len_utf8();
        let escaped = match c {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '/' | '\\' => c,
            c if c == quote => c,
            'u' => return self.unicode_escape(at),
            other => {
                let message = format!("`\\{other}` is not an escape of a JSON path string");
                return Err(self.error(at, 1 + other.len_utf8(), &message));
            }
        };
        Ok(escaped)
    }

    /// `\uXXXX`, with a surrogate pair written as two such escapes.
    fn unicode_escape(&mut self, at: usize) -> Result<char, JsonPathError> {
        let high = self.hex4(at)?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if !self.text[self.pos..].starts_with("\\u") {
                let message = "a high surrogate must be followed by `\\u` and a low one";
                return Err(self.error(at, self.pos - at, message));
            }
            self.pos += 2;
            let low = self.hex4(at)?;
            if !(0xDC00..0xE000).contains(&low) {
                let message = "a high surrogate must be followed by a low one";
                return Err(self.error(at, self.pos - at, message));
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(|| {
            let message = "a low surrogate must follow a high one";
            self.error(at, self.pos - at, message)
        })
    }

    fn hex4(&mut self, at: usize) -> Result<u32, JsonPathError> {
        let digits = self.text[self.pos..]
            .bytes()
            .take(4)
            .take_while(u8::is_ascii_hexdigit)
            .count();
        if digits < 4 {
            let message = "`\\u` is followed by four hexadecimal digits";
            return Err(self.error(at, self.pos + digits - at, message));
        }
        let code = u32::from_str_radix(&self.text[self.pos..self.pos + 4], 16).unwrap_or(0);
        self.pos += 4;
        Ok(code)
    }

    fn skip_blank(&mut self) {
        while self
            .peek()
            .is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
        {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn error(&self, offset: usize, len: usize, message: &str) -> JsonPathError {
        JsonPathError {
            offset,
            len,
            message: message.to_owned(),
            help: SUBSET_HELP.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn segments(text: &str) -> Vec<JsonPathSegment> {
        JsonPath::parse(text).unwrap().segments().to_vec()
    }

    fn error(text: &str) -> (usize, usize, String) {
        let error = JsonPath::parse(text).unwrap_err();
        (error.offset, error.len, error.message)
    }

    #[test]
    fn parses_names_indexes_and_wildcards() {
        use JsonPathSegment::{Index, Name, Wildcard};
        let name = |text: &str| Name(text.to_owned());
        assert_eq!(segments("$"), []);
        assert_eq!(segments("$.status"), [name("status")]);
        assert_eq!(
            segments("$.items[0].id"),
            [name("items"), Index(0), name("id")]
        );
        assert_eq!(segments("$['a key']"), [name("a key")]);
        assert_eq!(segments(r#"$["it's"]"#), [name("it's")]);
        assert_eq!(segments(r"$['it\'s']"), [name("it's")]);
        assert_eq!(segments(r"$['tab\there']"), [name("tab\there")]);
        assert_eq!(segments(r"$['\u00e9t\u00e9']"), [name("été")]);
        assert_eq!(segments(r"$['\ud83d\ude00']"), [name("😀")]);
        assert_eq!(segments("$.été"), [name("été")]);
        assert_eq!(segments("$[-1]"), [Index(-1)]);
        assert_eq!(segments("$.*"), [Wildcard]);
        assert_eq!(segments("$[ * ]"), [Wildcard]);
        assert_eq!(segments("$ .a [ 'b' ]"), [name("a"), name("b")]);
    }

    #[test]
    fn rejects_unsupported_parts_where_they_start() {
        let cases = [
            ("status", 0, 1, "a JSON path starts with `$`"),
            (
                "$..id",
                1,
                2,
                "descendant segments (`..`) are not supported",
            ),
            (
                "$.items[?@.id]",
                8,
                1,
                "filter selectors (`[?...]`) are not supported",
            ),
            (
                "$.items[1:3]",
                9,
                1,
                "array slices (`[start:end]`) are not supported",
            ),
            (
                "$[:3]",
                2,
                1,
                "array slices (`[start:end]`) are not supported",
            ),
            (
                "$[0,1]",
                2,
                2,
                "lists of selectors (`[a, b]`) are not supported",
            ),
            ("$.items[0", 7, 1, "the `[` is never closed"),
            ("$['a", 2, 1, "the string opened with `'` is never closed"),
            ("$.", 1, 1, "expected a name or `*` after `.`"),
            (
                "$.1a",
                2,
                1,
                "a name after `.` cannot start with `1`, so write it as `['1a']`",
            ),
            (
                "$[01]",
                2,
                2,
                "an index has no leading zeros and no sign on zero",
            ),
            (
                "$[-0]",
                2,
                2,
                "an index has no leading zeros and no sign on zero",
            ),
            ("$[-]", 2, 1, "expected digits after `-`"),
            (
                "$[9007199254740992]",
                2,
                16,
                "an index lies between -9007199254740991 and 9007199254740991",
            ),
            ("$a", 1, 1, "expected `.` or `[`, found `a`"),
            (
                "$[a]",
                2,
                1,
                "expected a quoted name, an index or `*` after `[`, found `a`",
            ),
            ("$['a'b]", 5, 1, "expected `]`, found `b`"),
            (
                r"$['\q']",
                3,
                2,
                "`\\q` is not an escape of a JSON path string",
            ),
            (
                r"$['\u12']",
                3,
                4,
                "`\\u` is followed by four hexadecimal digits",
            ),
            (
                r"$['\udc00']",
                3,
                6,
                "a low surrogate must follow a high one",
            ),
            ("$.a ", 3, 1, "the path ends with blank space"),
        ];
        for (text, offset, len, message) in cases {
            assert_eq!(
                error(text),
                (offset, len, message.to_owned()),
                "error for {text}"
            );
        }
    }

    #[test]
    fn canonical_text_round_trips() {
        use JsonPathSegment::{Index, Name, Wildcard};
        let path = JsonPath::from_segments(vec![
            Name("items".to_owned()),
            Wildcard,
            Index(-2),
            Name("a key's".to_owned()),
            Name("_id2".to_owned()),
        ]);
        assert_eq!(path.as_str(), r"$.items[*][-2]['a key\'s']._id2");
        assert_eq!(JsonPath::parse(path.as_str()).unwrap(), path);
    }

    #[test]
    fn singular_paths_have_no_wildcard() {
        assert!(JsonPath::parse("$.a[0]['b']").unwrap().is_singular());
        assert!(!JsonPath::parse("$.a[*].b").unwrap().is_singular());
        assert!(!JsonPath::parse("$.*").unwrap().is_singular());
    }

    #[test]
    fn query_selects_values() {
        let document = json!({
            "status": "UP",
            "items": [{"id": 1}, {"id": 2}, {"name": "x"}],
            "a key": {"b": true, "a": null}
        });
        let query = |text: &str| -> Vec<serde_json::Value> {
            JsonPath::parse(text)
                .unwrap()
                .query(&document)
                .into_iter()
                .cloned()
                .collect()
        };
        assert_eq!(query("$.status"), [json!("UP")]);
        assert_eq!(query("$.items[1].id"), [json!(2)]);
        assert_eq!(query("$.items[-1].name"), [json!("x")]);
        assert_eq!(query("$.items[*].id"), [json!(1), json!(2)]);
        assert_eq!(query("$['a key'].*"), [json!(null), json!(true)]);
        assert_eq!(query("$.items[3]"), Vec::<serde_json::Value>::new());
        assert_eq!(query("$.items[-4]"), Vec::<serde_json::Value>::new());
        assert_eq!(query("$.status.x"), Vec::<serde_json::Value>::new());
        assert_eq!(query("$.status[0]"), Vec::<serde_json::Value>::new());
        assert_eq!(query("$"), std::slice::from_ref(&document));
    }
}

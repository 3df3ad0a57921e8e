//! The document tree that JSON and YAML input are both read into: plain data
//! values, each with the byte span it was written at, so that a wrong type or
//! an unknown key can be reported at its place in the input file.

use crate::syntax::Span;

/// One value of the input document and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

/// The data of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Entry>),
}

/// The place of a string value's characters in the input, so that a place
/// inside the string, such as the mistake in a pattern, can be marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StringSource {
    /// The whole value as written, with its quotes.
    pub span: Span,
    /// The input offset of the value's first character, when the value is
    /// written character for character: without escapes or folded lines.
    verbatim_start: Option<usize>,
}

impl StringSource {
    /// Locates the string value of `node` in `text`, the input it was read
    /// from. A value is verbatim when the text between its quotes, or the
    /// whole plain YAML scalar, equals the value.
    pub fn of(node: &Node, text: &str) -> StringSource {
        let value = node.as_str().unwrap_or("");
        let raw = text.get(node.span.start..node.span.end).unwrap_or("");
        let inner = match raw.chars().next() {
            Some(quote @ ('"' | '\'')) if raw.len() >= 2 && raw.ends_with(quote) => {
                &raw[1..raw.len() - 1]
            }
            _ => raw,
        };
        let verbatim_start =
            (inner == value).then(|| node.span.start + (raw.len() - inner.len()) / 2);
        StringSource {
            span: node.span,
            verbatim_start,
        }
    }

    /// Returns the span of `len` bytes at byte `offset` of the value, or the
    /// whole value when it is not written verbatim.
    pub fn locate(&self, offset: usize, len: usize) -> Span {
        match self.verbatim_start {
            Some(start) => Span::new(start + offset, start + offset + len.max(1)),
            None => self.span,
        }
    }

    /// Forgets where the characters are, for a value that was changed after
    /// it was read, such as by resolving `${name}` references.
    pub fn whole(self) -> StringSource {
        StringSource {
            span: self.span,
            verbatim_start: None,
        }
    }
}

/// One `key: value` pair of an object, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    /// Names the type of the value as the messages show it.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Number(_) => "a number",
            NodeKind::String(_) => "a string",
            NodeKind::Array(_) => "a list",
            NodeKind::Object(_) => "an object",
        }
    }

    /// Returns the entry `key` when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Object(entries) => entries
                .iter()
                .find(|entry| entry.key == key)
                .map(|entry| &entry.value),
            _ => None,
        }
    }

    /// Returns the text when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(text) => Some(text),
            _ => None,
        }
    }

    /// Returns the number when this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self.kind {
            NodeKind::Number(number) => Some(number),
            _ => None,
        }
    }

    /// Returns the number when this is a whole number that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        let number = self.as_f64()?;
        let is_whole = number.fract() == 0.0 && number.abs() < 9.0e15;
        is_whole.then_some(number as i64)
    }

    /// Converts the value to JSON, for placeholder comments in the output.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(value) => Value::Bool(*value),
            NodeKind::Number(number) => match self.as_i64() {
                Some(whole) => Value::from(whole),
                None => serde_json::Number::from_f64(*number).map_or(Value::Null, Value::Number),
            },
            NodeKind::String(text) => Value::String(text.clone()),
            NodeKind::Array(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|entry| (entry.key.clone(), entry.value.to_json()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(value: f64) -> Node {
        Node {
            kind: NodeKind::Number(value),
            span: Span::default(),
        }
    }

    #[test]
    fn whole_numbers_convert_to_integers() {
        assert_eq!(number(200.0).as_i64(), Some(200));
        assert_eq!(number(-3.0).as_i64(), Some(-3));
        assert_eq!(number(1.5).as_i64(), None);
    }

    #[test]
    fn json_keeps_integers_whole() {
        assert_eq!(number(5.0).to_json().to_string(), "5");
        assert_eq!(number(0.25).to_json().to_string(), "0.25");
    }
}

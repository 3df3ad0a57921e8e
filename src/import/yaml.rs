//! A YAML reader that keeps the span of every value and key. It builds the
//! document tree from yaml-rust2's event stream, whose markers give the start
//! of each value, and resolves plain scalars by the YAML 1.2 core schema.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::error::ImportError;
use super::node::{Entry, Node, NodeKind};
use crate::syntax::Span;

/// The most values a document may expand to through aliases; a few aliases
/// of aliases could otherwise grow a small file into billions of values.
const MAX_NODES: usize = 100_000;

/// Parses a YAML document that holds exactly one top-level value.
pub fn parse_yaml(text: &str) -> Result<Node, ImportError> {
    let mut builder = TreeBuilder::new(text);
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, marker) = parser
            .next_token()
            .map_err(|error| ImportError::InvalidYaml {
                message: error.info().to_owned(),
                span: builder.point(error.marker()).into(),
            })?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                builder.documents += 1;
                if builder.documents > 1 {
                    return Err(ImportError::InvalidYaml {
                        message: "the file holds more than one document".to_owned(),
                        span: builder.point(&marker).into(),
                    });
                }
            }
            event => builder.push_event(event, &marker)?,
        }
    }
    builder.root.ok_or_else(|| ImportError::InvalidYaml {
        message: "the document is empty".to_owned(),
        span: Span::new(0, 0).into(),
    })
}

/// A collection whose end has not been read yet.
enum Frame {
    Sequence {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Mapping {
        start: usize,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<(String, Span)>,
    },
}

struct TreeBuilder<'src> {
    text: &'src str,
    /// The byte offset of every character, since markers count characters.
    char_offsets: Vec<usize>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
}

impl<'src> TreeBuilder<'src> {
    fn new(text: &'src str) -> Self {
        TreeBuilder {
            text,
            char_offsets: text.char_indices().map(|(offset, _)| offset).collect(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            documents: 0,
            nodes: 0,
        }
    }

    fn offset(&self, marker: &Marker) -> usize {
        self.char_offsets
            .get(marker.index())
            .copied()
            .unwrap_or(self.text.len())
    }

    /// A span of one character at `marker`, for errors.
    fn point(&self, marker: &Marker) -> Span {
        let start = self.offset(marker);
        let width = self.text[start..].chars().next().map_or(0, char::len_utf8);
        Span::new(start, start + width)
    }

    fn push_event(&mut self, event: Event, marker: &Marker) -> Result<(), ImportError> {
        let start = self.offset(marker);
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let is_string_tag = tag.is_some_and(|tag| tag.suffix == "str");
                let kind = if style == TScalarStyle::Plain && !is_string_tag {
                    resolve_plain(&value)
                } else {
                    NodeKind::String(value)
                };
                let span = Span::new(start, self.scalar_end(start));
                self.complete(Node { kind, span }, anchor, marker)
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Sequence {
                    start,
                    anchor,
                    items: Vec::new(),
                });
                Ok(())
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Mapping {
                    start,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => self.end_collection(marker),
            Event::Alias(anchor) => {
                let node =
                    self.anchors
                        .get(&anchor)
                        .cloned()
                        .ok_or_else(|| ImportError::InvalidYaml {
                            message: "unknown alias".to_owned(),
                            span: self.point(marker).into(),
                        })?;
                self.nodes += count_nodes(&node);
                let span = Span::new(start, self.scalar_end(start));
                self.complete(Node { span, ..node }, 0, marker)
            }
            _ => Ok(()),
        }
    }

    fn end_collection(&mut self, marker: &Marker) -> Result<(), ImportError> {
        let end = self.trim_end(self.offset(marker));
        let (kind, start, anchor) = match self.stack.pop() {
            Some(Frame::Sequence {
                start,
                anchor,
                items,
            }) => (NodeKind::Array(items), start, anchor),
            Some(Frame::Mapping {
                start,
                anchor,
                entries,
                ..
            }) => (NodeKind::Object(entries), start, anchor),
            None => return Ok(()),
        };
        let span = Span::new(start, end.max(start));
        self.complete(Node { kind, span }, anchor, marker)
    }

    /// Attaches a finished value to the collection it belongs to.
    fn complete(&mut self, node: Node, anchor: usize, marker: &Marker) -> Result<(), ImportError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ImportError::InvalidYaml {
                message: format!("the document expands to more than {MAX_NODES} values"),
                span: self.point(marker).into(),
            });
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping { entries, key, .. }) => match key.take() {
                Some((key, key_span)) => entries.push(Entry {
                    key,
                    key_span,
                    value: node,
                }),
                None => {
                    let text = match node.kind {
                        NodeKind::String(text) => text,
                        NodeKind::Number(_) | NodeKind::Bool(_) | NodeKind::Null => {
                            self.text[node.span.start..node.span.end].to_owned()
                        }
                        _ => {
                            return Err(ImportError::InvalidYaml {
                                message: "a key must be a plain value, not a list or mapping"
                                    .to_owned(),
                                span: node.span.into(),
                            });
                        }
                    };
                    *key = Some((text, node.span));
                }
            },
        }
        Ok(())
    }

    /// Finds where a scalar that starts at `start` ends in the source: at the
    /// closing quote of a quoted one, or at the end of its line otherwise
    /// (before a comment, and before `,`, `]` or `}` inside brackets).
    fn scalar_end(&self, start: usize) -> usize {
        let rest = &self.text[start.min(self.text.len())..];
        let mut chars = rest.char_indices();
        match chars.next() {
            Some((_, quote @ ('"' | '\''))) => {
                let mut escaped = false;
                for (at, c) in chars {
                    if c == '\n' {
                        return start + at;
                    }
                    if c == quote && !escaped {
                        return start + at + 1;
                    }
                    escaped = quote == '"' && c == '\\' && !escaped;
                }
                self.text.len()
            }
            _ => {
                let in_brackets = self.stack.iter().any(|frame| {
                    let open = match frame {
                        Frame::Sequence { start, .. } | Frame::Mapping { start, .. } => *start,
                    };
                    matches!(self.text.as_bytes().get(open), Some(b'[' | b'{'))
                });
                let line = rest.split('\n').next().unwrap_or("");
                let mut end = line.find(" #").unwrap_or(line.len());
                if in_brackets {
                    end = line[..end].find([',', ']', '}']).unwrap_or(end);
                }
                start + line[..end].trim_end().len()
            }
        }
    }

    /// Moves `end` back over whitespace, so that a block collection's span
    /// does not run into the blank lines after it.
    fn trim_end(&self, end: usize) -> usize {
        let end = end.min(self.text.len());
        self.text[..end].trim_end().len()
    }
}

/// Resolves a plain scalar to null, a boolean, a number or a string, as the
/// YAML 1.2 core schema does.
fn resolve_plain(value: &str) -> NodeKind {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return NodeKind::Number(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return NodeKind::Number(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeKind::Number(f64::NAN),
        _ => {}
    }
    if let Some(hex) = value.strip_prefix("0x")
        && let Ok(number) = i64::from_str_radix(hex, 16)
    {
        return NodeKind::Number(number as f64);
    }
    if let Some(octal) = value.strip_prefix("0o")
        && let Ok(number) = i64::from_str_radix(octal, 8)
    {
        return NodeKind::Number(number as f64);
    }
    let looks_numeric = value
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && value.bytes().any(|b| b.is_ascii_digit());
    match value.parse::<f64>() {
        Ok(number) if looks_numeric => NodeKind::Number(number),
        _ => NodeKind::String(value.to_owned()),
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Array(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        NodeKind::Object(entries) => {
            1 + entries
                .iter()
                .map(|entry| count_nodes(&entry.value))
                .sum::<usize>()
        }
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of<'a>(text: &'a str, node: &Node) -> &'a str {
        &text[node.span.start..node.span.end]
    }

    #[test]
    fn block_mapping_keeps_spans() {
        let text = "title: Café ok\ntags:\n  - a\n  - \"b c\"\nn: 3\n";
        let node = parse_yaml(text).unwrap();
        assert_eq!(node.get("title").unwrap().as_str(), Some("Café ok"));
        assert_eq!(text_of(text, node.get("title").unwrap()), "Café ok");
        let NodeKind::Array(tags) = &node.get("tags").unwrap().kind else {
            panic!("tags is not a list");
        };
        assert_eq!(text_of(text, &tags[1]), "\"b c\"");
        assert_eq!(node.get("n").unwrap().as_i64(), Some(3));
        assert_eq!(text_of(text, node.get("n").unwrap()), "3");
    }

    #[test]
    fn plain_scalars_resolve_by_core_schema() {
        let cases = [
            ("~", NodeKind::Null),
            ("true", NodeKind::Bool(true)),
            ("12", NodeKind::Number(12.0)),
            ("1.5", NodeKind::Number(1.5)),
            ("0x10", NodeKind::Number(16.0)),
            ("yes", NodeKind::String("yes".to_owned())),
            ("1.2.3", NodeKind::String("1.2.3".to_owned())),
        ];
        for (text, expected) in cases {
            assert_eq!(resolve_plain(text), expected, "{text}");
        }
    }

    #[test]
    fn quoted_numbers_stay_strings() {
        let node = parse_yaml("a: '200'\nb: !!str 300\n").unwrap();
        assert_eq!(node.get("a").unwrap().as_str(), Some("200"));
        assert_eq!(node.get("b").unwrap().as_str(), Some("300"));
    }

    #[test]
    fn aliases_copy_the_anchored_value() {
        let node = parse_yaml("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(node.get("b").unwrap().kind, node.get("a").unwrap().kind);
    }

    #[test]
    fn syntax_error_points_at_the_line() {
        let text = "a: 1\nb: [1, 2\nc: 3\n";
        let Err(ImportError::InvalidYaml { span, .. }) = parse_yaml(text) else {
            panic!("parsed");
        };
        assert!(span.offset() > 5, "offset {}", span.offset());
    }

    #[test]
    fn second_document_is_rejected() {
        assert!(parse_yaml("a: 1\n---\nb: 2\n").is_err());
    }
}

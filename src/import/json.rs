//! A JSON reader that keeps the span of every value and key. serde_json's
//! `Value` forgets where a value was written, and a diagnostic about a wrong
//! type must point at it, so the document is parsed here directly (RFC 8259).

use super::error::ImportError;
use super::node::{Entry, Node, NodeKind};
use crate::syntax::Span;

/// Nesting deeper than this is rejected instead of exhausting the stack.
const MAX_DEPTH: usize = 128;

/// Parses a whole JSON document.
pub fn parse_json(text: &str) -> Result<Node, ImportError> {
    let mut parser = JsonParser { text, pos: 0 };
    parser.skip_whitespace();
    let node = parser.parse_value(0)?;
    parser.skip_whitespace();
    if parser.pos < text.len() {
        return Err(parser.error("expected the end of the document", 1));
    }
    Ok(node)
}

struct JsonParser<'src> {
    text: &'src str,
    pos: usize,
}

impl JsonParser<'_> {
    fn error(&self, message: &str, width: usize) -> ImportError {
        let end = (self.pos + width).min(self.text.len());
        ImportError::InvalidJson {
            message: message.to_owned(),
            span: Span::new(self.pos, end.max(self.pos)).into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn parse_value(&mut self, depth: usize) -> Result<Node, ImportError> {
        if depth > MAX_DEPTH {
            return Err(self.error("the document nests deeper than 128 levels", 1));
        }
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => self.parse_object(depth)?,
            Some(b'[') => self.parse_array(depth)?,
            Some(b'"') => NodeKind::String(self.parse_string()?),
            Some(b'-' | b'0'..=b'9') => self.parse_number()?,
            Some(b't') => self.parse_word("true", NodeKind::Bool(true))?,
            Some(b'f') => self.parse_word("false", NodeKind::Bool(false))?,
            Some(b'n') => self.parse_word("null", NodeKind::Null)?,
            None => return Err(self.error("unexpected end of the document", 0)),
            Some(_) => return Err(self.error("expected a JSON value", 1)),
        };
        Ok(Node {
            kind,
            span: Span::new(start, self.pos),
        })
    }

    fn parse_word(&mut self, word: &str, kind: NodeKind) -> Result<NodeKind, ImportError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.error("expected a JSON value", 1))
        }
    }

    fn parse_object(&mut self, depth: usize) -> Result<NodeKind, ImportError> {
        self.pos += 1;
        let mut entries = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(NodeKind::Object(entries));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key in double quotes", 1));
            }
            let key_start = self.pos;
            let key = self.parse_string()?;
            let key_span = Span::new(key_start, self.pos);
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:` after the key", 1));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.parse_value(depth + 1)?;
            entries.push(Entry {
                key,
                key_span,
                value,
            });
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(NodeKind::Object(entries));
                }
                _ => return Err(self.error("expected `,` or `}`", 1)),
            }
        }
    }

    fn parse_array(&mut self, depth: usize) -> Result<NodeKind, ImportError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(NodeKind::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.parse_value(depth + 1)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(NodeKind::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`", 1)),
            }
        }
    }

    fn parse_number(&mut self) -> Result<NodeKind, ImportError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut end = start;
        while end < bytes.len()
            && matches!(bytes[end], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        {
            end += 1;
        }
        let literal = &self.text[start..end];
        let is_json_number = is_json_number(literal);
        match literal.parse::<f64>() {
            Ok(number) if is_json_number && number.is_finite() => {
                self.pos = end;
                Ok(NodeKind::Number(number))
            }
            _ => Err(self.error("invalid number", end - start)),
        }
    }

    fn parse_string(&mut self) -> Result<String, ImportError> {
        let start = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            let Some(c) = self.text[self.pos..].chars().next() else {
                self.pos = start;
                return Err(self.error("unterminated string", 1));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(text);
                }
                '\\' => {
                    self.pos += 1;
                    text.push(self.parse_escape()?);
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.error("control character in a string", 1));
                }
                c => {
                    text.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn parse_escape(&mut self) -> Result<char, ImportError> {
        let escaped = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                return self.parse_unicode_escape();
            }
            _ => return Err(self.error("invalid escape in a string", 1)),
        };
        self.pos += 1;
        Ok(escaped)
    }

    /// Reads the four hex digits after `\u`, and a second `\uXXXX` when the
    /// first is a high surrogate.
    fn parse_unicode_escape(&mut self) -> Result<char, ImportError> {
        let high = self.parse_hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high).ok_or_else(|| self.error("invalid unicode escape", 1));
        }
        if !self.text[self.pos..].starts_with("\\u") {
            return Err(self.error("unpaired surrogate in a unicode escape", 1));
        }
        self.pos += 2;
        let low = self.parse_hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(self.error("unpaired surrogate in a unicode escape", 1));
        }
        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        char::from_u32(code).ok_or_else(|| self.error("invalid unicode escape", 1))
    }

    fn parse_hex4(&mut self) -> Result<u32, ImportError> {
        let digits = self.text.get(self.pos..self.pos + 4);
        let code = digits
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|digits| u32::from_str_radix(digits, 16).ok())
            .ok_or_else(|| self.error("expected four hex digits after `\\u`", 1))?;
        self.pos += 4;
        Ok(code)
    }
}

/// Tells whether `literal` follows the JSON number syntax, which is stricter
/// than Rust's float parser (no leading `+`, no leading zeros, no bare `.`).
fn is_json_number(literal: &str) -> bool {
    let digits = literal.strip_prefix('-').unwrap_or(literal);
    let (mantissa, exponent) = match digits.find(['e', 'E']) {
        Some(at) => (&digits[..at], Some(&digits[at + 1..])),
        None => (digits, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let whole_ok = all_digits(whole) && (whole == "0" || !whole.starts_with('0'));
    let fraction_ok = fraction.is_none_or(all_digits);
    let exponent_ok = exponent
        .is_none_or(|exponent| all_digits(exponent.strip_prefix(['+', '-']).unwrap_or(exponent)));
    whole_ok && fraction_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keeps_spans() {
        let text = r#"{"title": "x", "n": [1, 2.5]}"#;
        let node = parse_json(text).unwrap();
        let title = node.get("title").unwrap();
        assert_eq!(&text[title.span.start..title.span.end], r#""x""#);
        let list = node.get("n").unwrap();
        assert_eq!(&text[list.span.start..list.span.end], "[1, 2.5]");
    }

    #[test]
    fn escapes_decode() {
        let node = parse_json(r#""a\n\u00e9\ud83d\ude00""#).unwrap();
        assert_eq!(node.as_str(), Some("a\né😀"));
    }

    #[test]
    fn syntax_errors_point_at_the_token() {
        let cases = [
            (r#"{"a": 1,}"#, 8, "expected a key in double quotes"),
            (r#"{"a" 1}"#, 5, "expected `:` after the key"),
            ("[1 2]", 3, "expected `,` or `]`"),
            ("01", 0, "invalid number"),
            (r#"{"a": tru}"#, 6, "expected a JSON value"),
            ("{} x", 3, "expected the end of the document"),
        ];
        for (text, offset, message) in cases {
            let Err(ImportError::InvalidJson {
                message: found,
                span,
            }) = parse_json(text)
            else {
                panic!("{text} parsed");
            };
            assert_eq!(found, message, "message for {text}");
            assert_eq!(span.offset(), offset, "offset for {text}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let text = "[".repeat(500);
        assert!(parse_json(&text).is_err());
    }
}

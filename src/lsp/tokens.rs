//! A forgiving lexer for `.chaos` text. The editor features work on tokens
//! rather than on the syntax tree because the text in an editor is often
//! invalid while it is typed, and the parser then yields no tree at all.

use crate::syntax::Span;

pub use crate::syntax::KEYWORDS;

/// The kind of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A name or a reserved word.
    Word,
    /// A number with anything that continues it: `300ms`, `99.9%`,
    /// `127.0.0.1`, `100/s`.
    Number,
    /// A string literal; `is_closed` is false when the line ends first.
    String {
        is_closed: bool,
    },
    LineComment,
    /// A block comment; `is_closed` is false when the text ends first.
    BlockComment {
        is_closed: bool,
    },
    /// An opening bracket: `{`, `(` or `[`.
    Open(char),
    /// A closing bracket: `}`, `)` or `]`.
    Close(char),
    /// Any other punctuation, including the two-character operators `::`,
    /// `==`, `!=`, `<=` and `>=`.
    Punct,
}

/// One token with its byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Token {
    /// Returns the text of the token.
    pub fn text<'src>(&self, source: &'src str) -> &'src str {
        &source[self.span.start..self.span.end]
    }

    /// Tells whether the token is a comment.
    pub fn is_comment(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::LineComment | TokenKind::BlockComment { .. }
        )
    }

    /// Tells whether the token is a name, that is a word but not a keyword.
    pub fn is_name(&self, source: &str) -> bool {
        self.kind == TokenKind::Word && !KEYWORDS.contains(&self.text(source))
    }

    /// Tells whether the token is the word or punctuation `text`.
    pub fn is(&self, source: &str, text: &str) -> bool {
        self.text(source) == text
    }
}

/// Splits `source` into tokens, comments included. Whitespace is skipped,
/// and no input makes it fail: what the grammar would reject still becomes
/// some token.
pub fn tokenize(source: &str) -> Vec<Token> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        let start = position;
        let c = source[position..].chars().next().unwrap_or(' ');
        let (kind, end) = match c {
            // Only the grammar's whitespace is skipped. Other space
            // characters are syntax errors, so they stay visible as tokens.
            ' ' | '\t' | '\r' | '\n' => {
                position += c.len_utf8();
                continue;
            }
            '/' if bytes.get(start + 1) == Some(&b'/') => {
                let end = source[start..]
                    .find('\n')
                    .map_or(source.len(), |i| start + i);
                (TokenKind::LineComment, end)
            }
            '/' if bytes.get(start + 1) == Some(&b'*') => block_comment(source, start),
            '"' => string(source, start),
            '{' | '(' | '[' => (TokenKind::Open(c), start + 1),
            '}' | ')' | ']' => (TokenKind::Close(c), start + 1),
            _ if c.is_ascii_alphabetic() || c == '_' => {
                (TokenKind::Word, scan_while(source, start, is_word_char))
            }
            _ if c.is_ascii_digit() || (c == '-' && next_is_digit(bytes, start)) => {
                let end = scan_while(source, start + 1, |c| {
                    is_word_char(c) || matches!(c, '.' | '%' | '/')
                });
                (TokenKind::Number, end)
            }
            _ => (TokenKind::Punct, start + punct_length(source, start)),
        };
        tokens.push(Token {
            kind,
            span: Span::new(start, end),
        });
        position = end;
    }
    tokens
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn next_is_digit(bytes: &[u8], start: usize) -> bool {
    bytes.get(start + 1).is_some_and(u8::is_ascii_digit)
}

fn scan_while(source: &str, start: usize, accept: impl Fn(char) -> bool) -> usize {
    source[start..]
        .char_indices()
        .find(|&(_, c)| !accept(c))
        .map_or(source.len(), |(index, _)| start + index)
}

fn punct_length(source: &str, start: usize) -> usize {
    const PAIRS: &[&str] = &["::", "==", "!=", "<=", ">="];
    let rest = &source[start..];
    if PAIRS.iter().any(|pair| rest.starts_with(pair)) {
        2
    } else {
        rest.chars().next().map_or(1, char::len_utf8)
    }
}

/// Scans a block comment starting at `start`; block comments nest.
fn block_comment(source: &str, start: usize) -> (TokenKind, usize) {
    let bytes = source.as_bytes();
    let mut depth = 0;
    let mut position = start;
    while position + 1 < bytes.len() {
        match (bytes[position], bytes[position + 1]) {
            (b'/', b'*') => {
                depth += 1;
                position += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                position += 2;
                if depth == 0 {
                    return (TokenKind::BlockComment { is_closed: true }, position);
                }
            }
            _ => position += 1,
        }
    }
    (TokenKind::BlockComment { is_closed: false }, source.len())
}

/// Scans a string starting at the quote at `start`. A string cannot span
/// lines, so an unclosed one ends at the end of its line.
fn string(source: &str, start: usize) -> (TokenKind, usize) {
    let mut escaped = false;
    for (index, c) in source[start + 1..].char_indices() {
        let position = start + 1 + index;
        match c {
            '\n' => return (TokenKind::String { is_closed: false }, position),
            '"' if !escaped => return (TokenKind::String { is_closed: true }, position + 1),
            '\\' if !escaped => escaped = true,
            _ => escaped = false,
        }
    }
    (TokenKind::String { is_closed: false }, source.len())
}

/// Finds the index of the token that contains `offset` or ends right at it,
/// preferring a word, so that a cursor just after a name still finds it.
pub fn token_at(tokens: &[Token], offset: usize) -> Option<usize> {
    let containing = tokens
        .iter()
        .position(|token| token.span.start <= offset && offset < token.span.end);
    let ending = tokens.iter().position(|token| token.span.end == offset);
    match (containing, ending) {
        (Some(index), Some(before)) if tokens[index].kind != TokenKind::Word => {
            (tokens[before].kind == TokenKind::Word)
                .then_some(before)
                .or(Some(index))
        }
        (Some(index), _) => Some(index),
        (None, ending) => ending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_and_texts(source: &str) -> Vec<(TokenKind, &str)> {
        tokenize(source)
            .iter()
            .map(|token| (token.kind, token.text(source)))
            .collect()
    }

    #[test]
    fn tokenize_step() {
        let source = "step s = inject latency(delay = 300ms) on db for 2m // slow";
        let expected = vec![
            (TokenKind::Word, "step"),
            (TokenKind::Word, "s"),
            (TokenKind::Punct, "="),
            (TokenKind::Word, "inject"),
            (TokenKind::Word, "latency"),
            (TokenKind::Open('('), "("),
            (TokenKind::Word, "delay"),
            (TokenKind::Punct, "="),
            (TokenKind::Number, "300ms"),
            (TokenKind::Close(')'), ")"),
            (TokenKind::Word, "on"),
            (TokenKind::Word, "db"),
            (TokenKind::Word, "for"),
            (TokenKind::Number, "2m"),
            (TokenKind::LineComment, "// slow"),
        ];
        assert_eq!(kinds_and_texts(source), expected);
    }

    #[test]
    fn tokenize_literals_and_operators() {
        let source = r#"a.b == 99.5% "x \" }" 127.0.0.1:80 -3 std::faults"#;
        let expected = vec![
            (TokenKind::Word, "a"),
            (TokenKind::Punct, "."),
            (TokenKind::Word, "b"),
            (TokenKind::Punct, "=="),
            (TokenKind::Number, "99.5%"),
            (TokenKind::String { is_closed: true }, r#""x \" }""#),
            (TokenKind::Number, "127.0.0.1"),
            (TokenKind::Punct, ":"),
            (TokenKind::Number, "80"),
            (TokenKind::Number, "-3"),
            (TokenKind::Word, "std"),
            (TokenKind::Punct, "::"),
            (TokenKind::Word, "faults"),
        ];
        assert_eq!(kinds_and_texts(source), expected);
    }

    #[test]
    fn tokenize_unclosed_string_and_comments() {
        let source = "\"open\n/* a /* nested */ b */ x /* open";
        let expected = vec![
            (TokenKind::String { is_closed: false }, "\"open"),
            (
                TokenKind::BlockComment { is_closed: true },
                "/* a /* nested */ b */",
            ),
            (TokenKind::Word, "x"),
            (TokenKind::BlockComment { is_closed: false }, "/* open"),
        ];
        assert_eq!(kinds_and_texts(source), expected);
    }

    #[test]
    fn token_at_prefers_word_before_cursor() {
        let source = "inject lat(";
        let tokens = tokenize(source);
        assert_eq!(token_at(&tokens, 10), Some(1));
        assert_eq!(token_at(&tokens, 8), Some(1));
        assert_eq!(token_at(&tokens, 6), Some(0));
        assert_eq!(token_at(&tokens, 11), Some(2));
    }
}

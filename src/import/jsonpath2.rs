//! Translating the paths of `jsonpath` tolerances, which the toolkit parses
//! with the Python package `jsonpath2` (read at release 0.4.5), into the
//! JSON paths of `json(PATH)`. The package has its own grammar: `$`, then
//! `.name`, `.*`, `..` (descendants) and brackets that hold one or more of
//! `"name"`, an index, `*`, a slice, a filter `?(...)`, a path, or a
//! function call such as `length()`. Blank space may stand between tokens.
//!
//! Names, indexes and `*` have the same meaning in chaosc, with one
//! difference: `*` on an object selects the member values in document order
//! in the package and in name order in chaosc. Everything else has no
//! equivalent. A path that the package would reject is reported with the
//! place of the mistake.

use crate::model::{JsonPath, JsonPathSegment};

/// The largest array index a chaosc JSON path takes, 2^53 - 1.
const MAX_INDEX: i64 = (1 << 53) - 1;

/// The deepest nesting of filters, inner paths, arrays and objects that is
/// read. The parser recurses once per level, and input beyond this depth
/// would only make a placeholder, as every nested construct does.
const MAX_DEPTH: usize = 64;

/// The function calls of `jsonpath2` 0.4.5. Any other name is an error.
const FUNCTIONS: &[&str] = &["charAt", "entries", "keys", "length", "substring", "values"];

/// The reason a path has no translation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathIssue {
    /// The package rejects the path as well.
    Invalid {
        /// The byte offset in the path where the mistake starts.
        offset: usize,
        len: usize,
        message: String,
    },
    /// A valid path with a construct chaosc JSON paths do not have.
    Unsupported(PathConstruct),
}

/// A construct of a valid path that chaosc JSON paths do not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathConstruct {
    /// The byte offset in the path where the construct starts.
    pub offset: usize,
    pub len: usize,
    pub reason: String,
    /// Advice on writing the path without the construct.
    pub help: String,
}

/// Returns the chaosc JSON path that selects what `text` selects, or why
/// there is none.
pub fn translate_path(text: &str) -> Result<JsonPath, PathIssue> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        segments: Vec::new(),
        unsupported: None,
        depth: 0,
    };
    parser.path()?;
    match parser.unsupported {
        Some(construct) => Err(PathIssue::Unsupported(construct)),
        None => Ok(JsonPath::from_segments(parser.segments)),
    }
}

/// A token of the `jsonpath2` grammar.
#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    Root,
    Current,
    Descendants,
    Dot,
    Star,
    OpenBracket,
    CloseBracket,
    OpenParen,
    CloseParen,
    OpenBrace,
    CloseBrace,
    Comma,
    Colon,
    Question,
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`.
    Comparison,
    /// `and`, `or` or `not`.
    Keyword(&'static str),
    /// `true`, `false` or `null`.
    Literal,
    /// A string in double quotes, with the text between the quotes.
    String(String),
    Number(String),
    Identifier(String),
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    offset: usize,
    len: usize,
}

/// Splits `text` into tokens as the package's lexer does: the longest
/// match wins, and a keyword wins over a name of the same length.
fn tokenize(text: &str) -> Result<Vec<Token>, PathIssue> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        let c = rest.chars().next().unwrap_or(' ');
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            pos += 1;
            continue;
        }
        let (kind, len) = match c {
            '$' => (TokenKind::Root, 1),
            '@' => (TokenKind::Current, 1),
            '.' if rest.starts_with("..") => (TokenKind::Descendants, 2),
            '.' => (TokenKind::Dot, 1),
            '*' => (TokenKind::Star, 1),
            '[' => (TokenKind::OpenBracket, 1),
            ']' => (TokenKind::CloseBracket, 1),
            '(' => (TokenKind::OpenParen, 1),
            ')' => (TokenKind::CloseParen, 1),
            '{' => (TokenKind::OpenBrace, 1),
            '}' => (TokenKind::CloseBrace, 1),
            ',' => (TokenKind::Comma, 1),
            ':' => (TokenKind::Colon, 1),
            '?' => (TokenKind::Question, 1),
            '=' => (TokenKind::Comparison, 1),
            '!' if rest.starts_with("!=") => (TokenKind::Comparison, 2),
            '<' | '>' if rest[1..].starts_with('=') => (TokenKind::Comparison, 2),
            '<' | '>' => (TokenKind::Comparison, 1),
            '"' => string_token(text, pos)?,
            '-' | '0'..='9' => number_token(rest).ok_or_else(|| unknown_token(pos, c))?,
            c if c == '_' || c.is_ascii_alphabetic() => {
                let len = rest
                    .bytes()
                    .take_while(|b| *b == b'_' || b.is_ascii_alphanumeric())
                    .count();
                let word = &rest[..len];
                let kind = match word {
                    "and" => TokenKind::Keyword("and"),
                    "or" => TokenKind::Keyword("or"),
                    "not" => TokenKind::Keyword("not"),
                    "true" | "false" | "null" => TokenKind::Literal,
                    _ => TokenKind::Identifier(word.to_owned()),
                };
                (kind, len)
            }
            c => return Err(unknown_token(pos, c)),
        };
        tokens.push(Token {
            kind,
            offset: pos,
            len,
        });
        pos += len;
    }
    Ok(tokens)
}

fn not_whole(token: &Token) -> PathIssue {
    PathIssue::Invalid {
        offset: token.offset,
        len: token.len,
        message: "an index must be a whole number".to_owned(),
    }
}

fn unknown_token(offset: usize, c: char) -> PathIssue {
    PathIssue::Invalid {
        offset,
        len: c.len_utf8(),
        message: format!("`{c}` cannot stand here in a `jsonpath2` path"),
    }
}

/// Reads a string in double quotes at `start`. The escapes are those of
/// JSON, and a control character must be escaped.
fn string_token(text: &str, start: usize) -> Result<(TokenKind, usize), PathIssue> {
    let mut chars = text[start + 1..].char_indices();
    let unclosed = || PathIssue::Invalid {
        offset: start,
        len: 1,
        message: "the string is never closed with `\"`".to_owned(),
    };
    while let Some((index, c)) = chars.next() {
        let at = start + 1 + index;
        match c {
            '"' => {
                let inner = text[start + 1..at].to_owned();
                return Ok((TokenKind::String(inner), at + 1 - start));
            }
            '\\' => {
                let valid = match chars.next() {
                    Some((_, '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't')) => true,
                    Some((_, 'u')) => (0..4).all(|_| {
                        chars
                            .next()
                            .is_some_and(|(_, digit)| digit.is_ascii_hexdigit())
                    }),
                    Some(_) => false,
                    None => return Err(unclosed()),
                };
                if !valid {
                    return Err(PathIssue::Invalid {
                        offset: at,
                        len: 2,
                        message: "the escape is not one of JSON's".to_owned(),
                    });
                }
            }
            c if u32::from(c) < 0x20 => {
                return Err(PathIssue::Invalid {
                    offset: at,
                    len: 1,
                    message: "a control character in a string must be escaped".to_owned(),
                });
            }
            _ => {}
        }
    }
    Err(unclosed())
}

/// Reads a JSON number at the start of `rest`: `-`, an integer without
/// leading zeros, a fraction and an exponent. Returns `None` for a `-`
/// without digits.
fn number_token(rest: &str) -> Option<(TokenKind, usize)> {
    let bytes = rest.as_bytes();
    let digits_from = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut len = usize::from(bytes[0] == b'-');
    match bytes.get(len) {
        Some(b'0') => len += 1,
        Some(b'1'..=b'9') => len += digits_from(len),
        _ => return None,
    }
    if bytes.get(len) == Some(&b'.') && digits_from(len + 1) > 0 {
        len += 1 + digits_from(len + 1);
    }
    if matches!(bytes.get(len), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(len + 1), Some(b'+' | b'-')));
        let digits = digits_from(len + 1 + sign);
        if digits > 0 {
            len += 1 + sign + digits;
        }
    }
    Some((TokenKind::Number(rest[..len].to_owned()), len))
}

struct Parser<'src> {
    text: &'src str,
    tokens: Vec<Token>,
    pos: usize,
    /// The segments of the top-level path, while it has only constructs
    /// chaosc has.
    segments: Vec<JsonPathSegment>,
    /// The first construct found that chaosc cannot express.
    unsupported: Option<PathConstruct>,
    /// The nesting depth of the current filter, inner path or value.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&TokenKind> {
        self.tokens.get(self.pos).map(|token| &token.kind)
    }

    /// Returns the offset of the current token, or the end of the path.
    fn offset(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map_or(self.text.len(), |token| token.offset)
    }

    /// Returns the offset just after the token before the current one.
    fn previous_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|index| self.tokens.get(index))
            .map_or(0, |token| token.offset + token.len)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += usize::from(token.is_some());
        token
    }

    /// Returns an error at the current token, or at the end of the path.
    fn unexpected(&self, expected: &str) -> PathIssue {
        let (found, offset, len) = match self.tokens.get(self.pos) {
            Some(token) => {
                let text = &self.text[token.offset..token.offset + token.len];
                (format!("`{text}`"), token.offset, token.len)
            }
            None => ("the end of the path".to_owned(), self.text.len(), 0),
        };
        PathIssue::Invalid {
            offset,
            len,
            message: format!("expected {expected}, found {found}"),
        }
    }

    fn expect(&mut self, kind: &TokenKind, expected: &str) -> Result<(), PathIssue> {
        if self.peek() == Some(kind) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Records a construct that starts at `offset` and ends with the token
    /// before the current one. Only the first one is reported.
    fn mark_unsupported(&mut self, offset: usize, reason: &str, help: &str) {
        let len = self.previous_end().saturating_sub(offset);
        self.unsupported.get_or_insert(PathConstruct {
            offset,
            len,
            reason: reason.to_owned(),
            help: help.to_owned(),
        });
    }

    /// Parses `$` and its segments, the whole text.
    fn path(&mut self) -> Result<(), PathIssue> {
        self.expect(&TokenKind::Root, "`$` at the start of the path")?;
        while self.peek().is_some() {
            let segment = self.segment()?;
            if let Some(segment) = segment {
                self.segments.push(segment);
            }
        }
        Ok(())
    }

    /// Parses the segments after `$` or `@` inside a filter, a function
    /// argument or a bracket, which have no equivalent however they are
    /// written.
    fn nested_segments(&mut self) -> Result<(), PathIssue> {
        self.descend()?;
        while matches!(
            self.peek(),
            Some(TokenKind::Dot | TokenKind::Descendants | TokenKind::OpenBracket)
        ) {
            self.segment()?;
        }
        self.depth -= 1;
        Ok(())
    }

    /// Parses one `.name`, `.*`, `..` or bracketed segment. Returns the
    /// chaosc segment, or `None` for a construct without one.
    fn segment(&mut self) -> Result<Option<JsonPathSegment>, PathIssue> {
        let start = self.offset();
        match self.peek() {
            Some(TokenKind::Dot) => {
                self.pos += 1;
                self.bareword(start)
            }
            Some(TokenKind::Descendants) => {
                self.pos += 1;
                if self.peek() == Some(&TokenKind::OpenBracket) {
                    self.brackets()?;
                } else {
                    self.bareword(start)?;
                }
                self.mark_unsupported(
                    start,
                    "the descendant segment `..` has no equivalent in chaosc JSON paths",
                    "write the whole path to the value, such as `$.service.checks[*].status` \
                     for `$..status`",
                );
                Ok(None)
            }
            Some(TokenKind::OpenBracket) => self.brackets(),
            _ => Err(self.unexpected("`.`, `..` or `[`")),
        }
    }

    /// Parses the name, `*` or function call after `.` or `..`.
    fn bareword(&mut self, start: usize) -> Result<Option<JsonPathSegment>, PathIssue> {
        let name = match self.peek() {
            Some(TokenKind::Star) => {
                self.pos += 1;
                return Ok(Some(JsonPathSegment::Wildcard));
            }
            Some(TokenKind::Identifier(name)) => name.clone(),
            _ => return Err(self.unexpected("a name or `*`")),
        };
        self.pos += 1;
        if self.peek() == Some(&TokenKind::OpenParen) {
            self.function_call(start, &name)?;
            return Ok(None);
        }
        Ok(Some(JsonPathSegment::Name(name)))
    }

    /// Parses the arguments of a function such as `length()`, after its
    /// name.
    fn function_call(&mut self, start: usize, name: &str) -> Result<(), PathIssue> {
        let name_offset = self.tokens[self.pos - 1].offset;
        if !FUNCTIONS.contains(&name) {
            return Err(PathIssue::Invalid {
                offset: name_offset,
                len: name.len(),
                message: format!(
                    "`{name}` is not a function of `jsonpath2`: write {}",
                    FUNCTIONS
                        .iter()
                        .map(|function| format!("`{function}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        self.expect(&TokenKind::OpenParen, "`(`")?;
        if self.peek() != Some(&TokenKind::CloseParen) {
            self.operand()?;
            while self.peek() == Some(&TokenKind::Comma) {
                self.pos += 1;
                self.operand()?;
            }
        }
        self.expect(&TokenKind::CloseParen, "`,` or `)`")?;
        self.mark_unsupported(
            start,
            &format!("the function `{name}()` has no equivalent in chaosc JSON paths"),
            "select the value without the function; `json_count(PATH)` counts what a path \
             selects",
        );
        Ok(())
    }

    /// Parses `[...]`: one or more subscripts separated by commas.
    fn brackets(&mut self) -> Result<Option<JsonPathSegment>, PathIssue> {
        let start = self.offset();
        self.expect(&TokenKind::OpenBracket, "`[`")?;
        let mut segments = vec![self.subscript()?];
        while self.peek() == Some(&TokenKind::Comma) {
            self.pos += 1;
            segments.push(self.subscript()?);
        }
        self.expect(&TokenKind::CloseBracket, "`,` or `]`")?;
        if segments.len() > 1 {
            self.mark_unsupported(
                start,
                "a list of subscripts has no equivalent in chaosc JSON paths",
                "select each value with a path of its own, in a probe of its own",
            );
            return Ok(None);
        }
        Ok(segments.pop().flatten())
    }

    /// Parses one subscript inside brackets.
    fn subscript(&mut self) -> Result<Option<JsonPathSegment>, PathIssue> {
        let start = self.offset();
        let Some(token) = self.next() else {
            return Err(self.unexpected("a subscript"));
        };
        match token.kind.clone() {
            // The package takes the text between the quotes as the name,
            // escapes and all: `["a\"b"]` selects the member `a\"b`.
            TokenKind::String(name) => {
                if name.chars().any(char::is_control) {
                    self.mark_unsupported(
                        start,
                        "a name with a control character cannot be written in a chaosc string",
                        "port the probe by hand from the placeholder comment",
                    );
                    return Ok(None);
                }
                Ok(Some(JsonPathSegment::Name(name)))
            }
            TokenKind::Number(text) => {
                if text.contains(['.', 'e', 'E']) {
                    return Err(not_whole(&token));
                }
                if self.peek() == Some(&TokenKind::Colon) {
                    self.slice(start)?;
                    return Ok(None);
                }
                match text.parse::<i64>() {
                    Ok(index) if index.abs() <= MAX_INDEX => {
                        Ok(Some(JsonPathSegment::Index(index)))
                    }
                    _ => {
                        self.mark_unsupported(
                            start,
                            "the index is beyond 2^53 - 1, the largest one chaosc JSON paths \
                             take",
                            "write an index that an array can have",
                        );
                        Ok(None)
                    }
                }
            }
            TokenKind::Colon => {
                self.pos -= 1;
                self.slice(start)?;
                Ok(None)
            }
            TokenKind::Star => Ok(Some(JsonPathSegment::Wildcard)),
            TokenKind::Question => {
                self.expect(&TokenKind::OpenParen, "`(` after `?`")?;
                self.expression()?;
                self.expect(&TokenKind::CloseParen, "`)`")?;
                self.mark_unsupported(
                    start,
                    "the filter `?(...)` has no equivalent in chaosc JSON paths",
                    "select the whole list with `[*]` and compare it with `json(PATH) == [...]`, \
                     or select one element by its index",
                );
                Ok(None)
            }
            TokenKind::Root | TokenKind::Current => {
                self.nested_segments()?;
                self.mark_unsupported(
                    start,
                    "a path as a subscript has no equivalent in chaosc JSON paths",
                    "write the name or index the inner path selects",
                );
                Ok(None)
            }
            TokenKind::Identifier(name) if self.peek() == Some(&TokenKind::OpenParen) => {
                self.function_call(start, &name)?;
                Ok(None)
            }
            TokenKind::Identifier(name) => Err(PathIssue::Invalid {
                offset: token.offset,
                len: token.len,
                message: format!(
                    "a name in brackets is written in double quotes, as `[\"{name}\"]`"
                ),
            }),
            _ => {
                self.pos -= 1;
                Err(self.unexpected("a string, an index, `*`, `:`, `?(` or a path"))
            }
        }
    }

    /// Parses `:END` or `:END:STEP` after an optional start, whole numbers
    /// each.
    fn slice(&mut self, start: usize) -> Result<(), PathIssue> {
        for _ in 0..2 {
            if self.peek() != Some(&TokenKind::Colon) {
                break;
            }
            self.pos += 1;
            if let Some(token) = self.tokens.get(self.pos)
                && let TokenKind::Number(text) = &token.kind
            {
                if text.contains(['.', 'e', 'E']) {
                    return Err(not_whole(token));
                }
                self.pos += 1;
            }
        }
        self.mark_unsupported(
            start,
            "the slice has no equivalent in chaosc JSON paths",
            "select each element by its index, or every element with `[*]`",
        );
        Ok(())
    }

    /// Parses a filter expression: operands compared with `=`, `!=`, `<`, `<=`,
    /// `>`, `>=`, joined with `and`, `or` and `not`, and grouped in
    /// parentheses.
    fn expression(&mut self) -> Result<(), PathIssue> {
        self.descend()?;
        loop {
            while self.peek() == Some(&TokenKind::Keyword("not")) {
                self.pos += 1;
            }
            if self.peek() == Some(&TokenKind::OpenParen) {
                self.pos += 1;
                self.expression()?;
                self.expect(&TokenKind::CloseParen, "`)`")?;
            } else {
                self.operand()?;
                if self.peek() == Some(&TokenKind::Comparison) {
                    self.pos += 1;
                    self.operand()?;
                }
            }
            match self.peek() {
                Some(TokenKind::Keyword("and" | "or")) => self.pos += 1,
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// Enters one level of nesting, or stops at [`MAX_DEPTH`] with the
    /// construct that nests so deeply.
    fn descend(&mut self) -> Result<(), PathIssue> {
        self.depth += 1;
        if self.depth <= MAX_DEPTH {
            return Ok(());
        }
        let offset = self.offset();
        Err(PathIssue::Unsupported(PathConstruct {
            offset,
            len: self.tokens.get(self.pos).map_or(0, |token| token.len),
            reason: format!("the path nests deeper than {MAX_DEPTH} levels"),
            help: "port the probe by hand from the placeholder comment".to_owned(),
        }))
    }

    /// Parses a path from `$` or `@`, or a JSON value.
    fn operand(&mut self) -> Result<(), PathIssue> {
        match self.peek() {
            Some(TokenKind::Root | TokenKind::Current) => {
                self.pos += 1;
                self.nested_segments()
            }
            _ => self.value(),
        }
    }

    /// Parses a JSON value: a string, a number, `true`, `false`, `null`, an
    /// array or an object.
    fn value(&mut self) -> Result<(), PathIssue> {
        self.descend()?;
        let result = self.value_at_depth();
        self.depth -= 1;
        result
    }

    fn value_at_depth(&mut self) -> Result<(), PathIssue> {
        match self.peek() {
            Some(TokenKind::String(_) | TokenKind::Number(_) | TokenKind::Literal) => {
                self.pos += 1;
                Ok(())
            }
            Some(TokenKind::OpenBracket) => {
                self.pos += 1;
                if self.peek() != Some(&TokenKind::CloseBracket) {
                    self.value()?;
                    while self.peek() == Some(&TokenKind::Comma) {
                        self.pos += 1;
                        self.value()?;
                    }
                }
                self.expect(&TokenKind::CloseBracket, "`,` or `]`")
            }
            Some(TokenKind::OpenBrace) => {
                self.pos += 1;
                if self.peek() != Some(&TokenKind::CloseBrace) {
                    self.member()?;
                    while self.peek() == Some(&TokenKind::Comma) {
                        self.pos += 1;
                        self.member()?;
                    }
                }
                self.expect(&TokenKind::CloseBrace, "`,` or `}`")
            }
            _ => Err(self.unexpected("a path or a JSON value")),
        }
    }

    /// Parses `"key": value` in an object.
    fn member(&mut self) -> Result<(), PathIssue> {
        match self.peek() {
            Some(TokenKind::String(_)) => self.pos += 1,
            _ => return Err(self.unexpected("a key in double quotes")),
        }
        self.expect(&TokenKind::Colon, "`:`")?;
        self.value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(path: &str) -> String {
        match translate_path(path) {
            Ok(translated) => translated.as_str().to_owned(),
            Err(issue) => panic!("{path}: {issue:?}"),
        }
    }

    #[test]
    fn translates_names_indexes_and_wildcards() {
        let cases = [
            ("$", "$"),
            ("$.status", "$.status"),
            ("$._id.a1", "$._id.a1"),
            ("$.checks[0].name", "$.checks[0].name"),
            ("$.checks[-1]", "$.checks[-1]"),
            ("$.checks[-0]", "$.checks[0]"),
            ("$.checks.*.ok", "$.checks[*].ok"),
            ("$.checks[*]", "$.checks[*]"),
            (r#"$["a b"]["x"]"#, "$['a b'].x"),
            (" $ . a [ 1 ] ", "$.a[1]"),
            ("$.nullable.notes.android", "$.nullable.notes.android"),
            // The package keeps the text between the quotes, escapes and all.
            (r#"$["a\"b"]"#, r#"$['a\\"b']"#),
            (r#"$["\u0061"]"#, r"$['\\u0061']"),
        ];
        for (path, translated) in cases {
            assert_eq!(ok(path), translated, "translation of {path:?}");
        }
    }

    #[test]
    fn translation_parses_back_to_the_same_path() {
        let paths = [
            r#"$["a b"]"#,
            r#"$["it's"]"#,
            r#"$["a\"b"]"#,
            r#"$["é"][2]"#,
        ];
        for path in paths {
            let translated = translate_path(path).unwrap();
            let parsed = JsonPath::parse(translated.as_str()).unwrap();
            assert_eq!(parsed, translated, "{path}");
        }
    }

    #[test]
    fn reports_constructs_without_equivalent() {
        let deep_filter = format!("$[?{}@{}]", "(".repeat(100), ")".repeat(100));
        let deep_value = format!("$[?(@ = {}1{})]", "[".repeat(100), "]".repeat(100));
        let deep_path = format!("${}{}", "[$".repeat(100), "]".repeat(100));
        // Each path, the place of the construct, and a word of its reason.
        let cases = [
            ("$..status", 1, 8, "descendant"),
            ("$.a..[0]", 3, 5, "descendant"),
            ("$.l[0,1]", 3, 5, "list of subscripts"),
            ("$.l[1:2]", 4, 3, "slice"),
            ("$.l[:2]", 4, 2, "slice"),
            ("$.l[::2]", 4, 3, "slice"),
            ("$.l[?(@.ok = true)]", 4, 14, "filter"),
            (
                "$.l[?(not @.a and (@.b >= 2 or @.c != \"x\"))]",
                4,
                39,
                "filter",
            ),
            ("$.l[?(@.tags = [1, {\"a\": null}])]", 4, 28, "filter"),
            ("$[$.key]", 2, 5, "path as a subscript"),
            ("$.name.length()", 6, 9, "`length()`"),
            ("$.name[substring(0, 2)]", 7, 15, "`substring()`"),
            ("$.l[9007199254740992]", 4, 16, "beyond"),
            // Only the first construct is reported.
            ("$..a[1:2]", 1, 3, "descendant"),
            (&deep_filter, 68, 1, "deeper than 64 levels"),
            (&deep_value, 71, 1, "deeper than 64 levels"),
            (&deep_path, 131, 1, "deeper than 64 levels"),
        ];
        for (path, offset, len, word) in cases {
            match translate_path(path) {
                Err(PathIssue::Unsupported(construct)) => {
                    assert_eq!(construct.offset, offset, "offset in {path:?}");
                    assert_eq!(construct.len, len, "length in {path:?}");
                    assert!(
                        construct.reason.contains(word),
                        "{path}: {}",
                        construct.reason
                    );
                    assert!(!construct.help.is_empty(), "{path}: no help");
                }
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    #[test]
    fn reports_invalid_paths_where_they_fail() {
        let cases = [
            (
                "",
                0,
                0,
                "expected `$` at the start of the path, found the end of the path",
            ),
            (
                "status",
                0,
                6,
                "expected `$` at the start of the path, found `status`",
            ),
            (
                "@.a",
                0,
                1,
                "expected `$` at the start of the path, found `@`",
            ),
            (
                "$.",
                2,
                0,
                "expected a name or `*`, found the end of the path",
            ),
            ("$.true", 2, 4, "expected a name or `*`, found `true`"),
            ("$.a.not", 4, 3, "expected a name or `*`, found `not`"),
            ("$.1a", 2, 1, "expected a name or `*`, found `1`"),
            ("$*", 1, 1, "expected `.`, `..` or `[`, found `*`"),
            ("$.a b", 4, 1, "expected `.`, `..` or `[`, found `b`"),
            ("$.é", 2, 2, "`é` cannot stand here in a `jsonpath2` path"),
            (
                "$['a']",
                2,
                1,
                "`'` cannot stand here in a `jsonpath2` path",
            ),
            ("$[1.5]", 2, 3, "an index must be a whole number"),
            ("$[1e0]", 2, 3, "an index must be a whole number"),
            ("$[01]", 3, 1, "expected `,` or `]`, found `1`"),
            (
                "$[]",
                2,
                1,
                "expected a string, an index, `*`, `:`, `?(` or a path, found `]`",
            ),
            (
                "$[0",
                3,
                0,
                "expected `,` or `]`, found the end of the path",
            ),
            (r#"$["a"#, 2, 1, "the string is never closed with `\"`"),
            (r#"$["a\x"]"#, 4, 2, "the escape is not one of JSON's"),
            ("$.a.foo()", 4, 3, "`foo` is not a function of `jsonpath2`"),
            (
                "$[name]",
                2,
                4,
                "a name in brackets is written in double quotes, as `[\"name\"]`",
            ),
            (
                "$[?(@.a = )]",
                10,
                1,
                "expected a path or a JSON value, found `)`",
            ),
            ("$[?@.a]", 3, 1, "expected `(` after `?`, found `@`"),
            ("$[-]", 2, 1, "`-` cannot stand here in a `jsonpath2` path"),
        ];
        for (path, offset, len, message) in cases {
            match translate_path(path) {
                Err(PathIssue::Invalid {
                    offset: found_offset,
                    len: found_len,
                    message: found_message,
                }) => {
                    assert_eq!(found_offset, offset, "offset in {path:?}");
                    assert_eq!(found_len, len, "length in {path:?}");
                    assert!(
                        found_message.starts_with(message),
                        "{path}: {found_message}"
                    );
                }
                other => panic!("{path}: {other:?}"),
            }
        }
    }
}

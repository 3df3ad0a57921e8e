//! Document formatting. This formatter is conservative: it only re-indents
//! lines by bracket depth, four spaces a level, trims trailing whitespace
//! and blank lines at the end, and keeps everything else, comments
//! included. [`format_source`] is the one entry point, so a full formatter
//! can replace it without touching the server.

use thiserror::Error;

use super::tokens::{Token, TokenKind, tokenize};

/// The indentation of one bracket level.
const INDENT: &str = "    ";

/// The characters the grammar reads as whitespace within a line. Any other
/// space character, such as a no-break space, is a syntax error, and
/// trimming it would turn an invalid file into a valid one.
const GRAMMAR_WHITESPACE: &[char] = &[' ', '\t', '\r'];

/// A text the formatter leaves alone because re-indenting it could make it
/// worse. Lines are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    #[error("line {line}: `{found}` closes nothing")]
    UnexpectedClose { found: char, line: usize },

    #[error("line {line}: `{found}` does not close the `{open}` on line {open_line}")]
    MismatchedClose {
        found: char,
        open: char,
        open_line: usize,
        line: usize,
    },

    #[error("line {line}: `{open}` is never closed")]
    UnclosedBracket { open: char, line: usize },

    #[error("line {line}: the string is not closed")]
    UnclosedString { line: usize },

    #[error("line {line}: the block comment is not closed")]
    UnclosedComment { line: usize },

    #[error("line {line}: a carriage return does not end the line")]
    LoneCarriageReturn { line: usize },
}

/// Re-indents `source` by bracket depth and trims trailing whitespace.
///
/// NOTE: a statement continued on the next line outside brackets (a step
/// with `for 2s` on its own line) loses its hanging indent, because the
/// continuation gets the indentation of its block.
pub fn format_source(source: &str) -> Result<String, FormatError> {
    // A lone `\r` is a syntax error, so the formatter keeps such a text
    // invalid by leaving it alone.
    if let Some(index) = lone_carriage_return(source) {
        let line = source[..index].matches('\n').count() + 1;
        return Err(FormatError::LoneCarriageReturn { line });
    }
    let tokens = tokenize(source);
    check_balanced(source, &tokens)?;

    let comments: Vec<&Token> = tokens.iter().filter(|token| token.is_comment()).collect();
    let mut next_comment = 0;
    let mut output = String::with_capacity(source.len());
    let mut depth = 0usize;
    let mut next_token = 0;
    let mut line_start = 0;
    for raw_line in source.split('\n') {
        let line = raw_line.trim_end_matches(GRAMMAR_WHITESPACE);
        let line_end = line_start + raw_line.len();

        // Comments are sorted and never overlap, so one cursor finds the
        // comment that could contain this line's start.
        while comments
            .get(next_comment)
            .is_some_and(|comment| comment.span.end <= line_start)
        {
            next_comment += 1;
        }
        let in_comment = comments.get(next_comment).is_some_and(|comment| {
            comment.span.start < line_start && line_start < comment.span.end
        });

        let depth_at_start = depth;
        let mut leading_closes = 0;
        let mut is_leading = true;
        while let Some(token) = tokens.get(next_token).filter(|t| t.span.start < line_end) {
            match token.kind {
                TokenKind::Open(_) => depth += 1,
                TokenKind::Close(_) => {
                    depth -= 1;
                    leading_closes += usize::from(is_leading && !in_comment);
                }
                _ => {}
            }
            is_leading &= matches!(token.kind, TokenKind::Close(_));
            next_token += 1;
        }

        if in_comment {
            output.push_str(line);
        } else {
            let text = line.trim_start_matches(GRAMMAR_WHITESPACE);
            if !text.is_empty() {
                output.push_str(&INDENT.repeat(depth_at_start - leading_closes));
                output.push_str(text);
            }
        }
        output.push('\n');
        line_start = line_end + 1;
    }

    let trimmed = output.trim_end_matches('\n');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    Ok(format!("{trimmed}\n"))
}

/// Rejects text whose brackets, strings or comments are not closed.
fn check_balanced(source: &str, tokens: &[Token]) -> Result<(), FormatError> {
    // Lines are counted from the previous token on, not from the start.
    let mut line = 1;
    let mut counted_to = 0;
    let mut open: Vec<(char, usize)> = Vec::new();
    for token in tokens {
        line += source[counted_to..token.span.start].matches('\n').count();
        counted_to = token.span.start;
        match token.kind {
            TokenKind::String { is_closed: false } => {
                return Err(FormatError::UnclosedString { line });
            }
            TokenKind::BlockComment { is_closed: false } => {
                return Err(FormatError::UnclosedComment { line });
            }
            TokenKind::Open(bracket) => open.push((bracket, line)),
            TokenKind::Close(found) => {
                let Some((bracket, open_line)) = open.pop() else {
                    return Err(FormatError::UnexpectedClose { found, line });
                };
                if closing_of(bracket) != found {
                    return Err(FormatError::MismatchedClose {
                        found,
                        open: bracket,
                        open_line,
                        line,
                    });
                }
            }
            _ => {}
        }
    }
    match open.pop() {
        Some((open, line)) => Err(FormatError::UnclosedBracket { open, line }),
        None => Ok(()),
    }
}

fn lone_carriage_return(source: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    (0..bytes.len()).find(|&index| bytes[index] == b'\r' && bytes.get(index + 1) != Some(&b'\n'))
}

fn closing_of(bracket: char) -> char {
    match bracket {
        '{' => '}',
        '(' => ')',
        _ => ']',
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse_file;

    #[test]
    fn reindents_by_depth() {
        let source = "experiment e {  \n\
                      severity = low\n\
                      \t  safety {\n\
                      rollback = true }\n\
                      steady_state {\n\
                      probe p = command [\n\
                      \"true\",\n\
                      ]\n\
                      }\n\
                      }\n\n\n";
        let expected = "experiment e {\n\
                        \x20   severity = low\n\
                        \x20   safety {\n\
                        \x20       rollback = true }\n\
                        \x20   steady_state {\n\
                        \x20       probe p = command [\n\
                        \x20           \"true\",\n\
                        \x20       ]\n\
                        \x20   }\n\
                        }\n";
        assert_eq!(format_source(source).unwrap(), expected);
    }

    #[test]
    fn keeps_comments_and_brackets_inside_them() {
        let source = "target t = proxy { // a { in a comment\n\
                      listen = 127.0.0.1:1 /* one\n\
                      \x20 kept as written { */\n\
                      s = \"}\"\n\
                      }\n";
        let expected = "target t = proxy { // a { in a comment\n\
                        \x20   listen = 127.0.0.1:1 /* one\n\
                        \x20 kept as written { */\n\
                        \x20   s = \"}\"\n\
                        }\n";
        assert_eq!(format_source(source).unwrap(), expected);
    }

    #[test]
    fn formatted_text_is_stable() {
        let source = include_str!("../../scenarios/quickstart.chaos");
        let once = format_source(source).unwrap();
        assert_eq!(format_source(&once).unwrap(), once);
    }

    #[test]
    fn rejects_unbalanced_text() {
        let cases = [
            (
                "a }",
                FormatError::UnexpectedClose {
                    found: '}',
                    line: 1,
                },
            ),
            (
                "a {\n)",
                FormatError::MismatchedClose {
                    found: ')',
                    open: '{',
                    open_line: 1,
                    line: 2,
                },
            ),
            ("\n[", FormatError::UnclosedBracket { open: '[', line: 2 }),
            ("s = \"x", FormatError::UnclosedString { line: 1 }),
            ("/* x", FormatError::UnclosedComment { line: 1 }),
            ("a\n// b\rc", FormatError::LoneCarriageReturn { line: 2 }),
            ("a\r", FormatError::LoneCarriageReturn { line: 1 }),
        ];
        for (source, expected) in cases {
            assert_eq!(format_source(source), Err(expected), "{source:?}");
        }
    }

    #[test]
    fn continuation_takes_block_indent() {
        let source = "experiment e {\n    step s = inject x() on t\n        for 2s\n}\n";
        let expected = "experiment e {\n    step s = inject x() on t\n    for 2s\n}\n";
        assert_eq!(format_source(source).unwrap(), expected);
    }

    #[test]
    fn keeps_space_characters_the_grammar_rejects() {
        // No-break space, form feed, line separator and next line.
        for space in ['\u{a0}', '\u{c}', '\u{2028}', '\u{85}'] {
            let sources = [
                format!("service s {{\n{space}tier = low\n}}\n"),
                format!("service s {{\n    tier = low{space}\n}}\n"),
                format!("service s {{\n{space}\n}}\n"),
            ];
            for source in sources {
                assert!(parse_file(&source).is_err(), "{source:?} parses");
                let formatted = format_source(&source).unwrap();
                assert!(formatted.contains(space), "{source:?} lost {space:?}");
                assert!(parse_file(&formatted).is_err(), "{formatted:?} parses");
            }
        }
    }

    #[test]
    fn long_file_formats_in_linear_time() {
        // 45,000 lines; the time grew with the square of the line count.
        let source = "service s {\ntier = low /* a\nb */\n}\n".repeat(11_250);
        let start = std::time::Instant::now();
        let formatted = format_source(&source).unwrap();
        let elapsed = start.elapsed();
        assert_eq!(formatted.lines().count(), 45_000);
        assert!(
            elapsed < std::time::Duration::from_secs(5),
            "took {elapsed:?}"
        );
    }

    #[test]
    fn empty_text_stays_empty() {
        assert_eq!(format_source("\n \n"), Ok(String::new()));
    }
}

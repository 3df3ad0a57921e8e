//! The bound on nesting, checked on the raw text before the grammar runs.
//! The pest parser, the syntax tree and every pass over it recurse once per
//! level of brackets, braces, parentheses and block comments, so a text
//! nested a few thousand levels deep would exhaust the stack.

use super::scan::{line_end, string_end};
use super::{Span, SyntaxError};

/// The deepest nesting of brackets, braces, parentheses and block comments
/// that a `.chaos` text may have, far more than a readable file needs.
pub const MAX_NESTING: usize = 64;

/// Finds the first bracket or block comment opened past [`MAX_NESTING`]
/// levels. Brackets inside strings and comments do not count, and nested
/// block comments do, because the grammar reads both by recursion.
pub(super) fn check_nesting(source: &str) -> Result<(), SyntaxError> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut position = 0;
    while position < bytes.len() {
        let start = position;
        match bytes[position] {
            b'"' => position = string_end(bytes, position),
            b'/' if bytes.get(position + 1) == Some(&b'/') => {
                position = line_end(bytes, position);
            }
            b'/' if bytes.get(position + 1) == Some(&b'*') => {
                position = block_comment_end(bytes, position, depth)?;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                position += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                position += 1;
            }
            _ => position += 1,
        }
        if depth > MAX_NESTING {
            return Err(too_deep(start, start + 1));
        }
    }
    Ok(())
}

/// Returns the offset after the block comment that opens at `start`, inside
/// `depth` levels of brackets.
fn block_comment_end(bytes: &[u8], start: usize, depth: usize) -> Result<usize, SyntaxError> {
    let mut comments = 0usize;
    let mut position = start;
    while position + 1 < bytes.len() {
        match (bytes[position], bytes[position + 1]) {
            (b'/', b'*') => {
                comments += 1;
                if depth + comments > MAX_NESTING {
                    return Err(too_deep(position, position + 2));
                }
                position += 2;
            }
            (b'*', b'/') => {
                comments -= 1;
                position += 2;
                if comments == 0 {
                    return Ok(position);
                }
            }
            _ => position += 1,
        }
    }
    Ok(bytes.len())
}

fn too_deep(start: usize, end: usize) -> SyntaxError {
    SyntaxError::TooDeep {
        limit: MAX_NESTING,
        span: Span::new(start, end).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(opener: &str, closer: &str, levels: usize) -> String {
        format!("{}{}", opener.repeat(levels), closer.repeat(levels))
    }

    #[test]
    fn nesting_at_limit_passes() {
        for (opener, closer) in [("[", "]"), ("{", "}"), ("(", ")"), ("/*", "*/")] {
            let text = nested(opener, closer, MAX_NESTING);
            assert!(check_nesting(&text).is_ok(), "{opener} x {MAX_NESTING}");
        }
    }

    #[test]
    fn nesting_past_limit_fails() {
        for (opener, closer) in [("[", "]"), ("{", "}"), ("(", ")"), ("/*", "*/")] {
            let text = nested(opener, closer, MAX_NESTING + 1);
            let error = check_nesting(&text).expect_err(opener);
            let offset = MAX_NESTING * opener.len();
            assert_eq!(error.span(), Span::new(offset, offset + opener.len()));
        }
    }

    #[test]
    fn comments_and_brackets_add_up() {
        let text = format!("{}/* {{ */", "[".repeat(MAX_NESTING));
        assert!(check_nesting(&text).is_err());
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let deep = "[".repeat(MAX_NESTING + 1);
        for text in [
            format!("s = \"{deep}\""),
            format!("s = \"\\\"{deep}\""),
            format!("// {deep}\n"),
            format!("/* {deep} */"),
        ] {
            assert!(check_nesting(&text).is_ok(), "{text}");
        }
    }
}

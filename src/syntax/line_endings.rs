//! The check for carriage returns that do not end a line.

use super::{Span, SyntaxError};

/// Finds the first carriage return that is not followed by a line feed. A
/// terminal moves to the start of the line at a lone `\r`, so the text after
/// it prints over a `//` comment and hides it. The parser would still read
/// that text as part of the comment.
pub(super) fn check_line_endings(source: &str) -> Result<(), SyntaxError> {
    let bytes = source.as_bytes();
    let lone = bytes
        .iter()
        .enumerate()
        .find(|&(index, &byte)| byte == b'\r' && bytes.get(index + 1) != Some(&b'\n'));
    match lone {
        Some((index, _)) => Err(SyntaxError::LoneCarriageReturn {
            span: Span::new(index, index + 1).into(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_accepted() {
        for text in ["a\nb\n", "a\r\nb\r\n", "", "\r\n"] {
            assert!(check_line_endings(text).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn lone_carriage_return_rejected() {
        for (text, offset) in [("// a\rb\n", 4), ("a\r", 1), ("\r\r\n", 0)] {
            let error = check_line_endings(text).expect_err(text);
            assert_eq!(error.span(), Span::new(offset, offset + 1), "{text:?}");
        }
    }
}

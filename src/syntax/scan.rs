//! Byte offsets of the tokens that hide brackets from a scan of `.chaos`
//! text: strings and line comments. The nesting limit and the stdlib index
//! both walk the text without the parser and skip these the same way.

/// Returns the offset after the string that opens at `start`, skipping
/// escaped characters. A string ends at its closing quote or, unclosed, at
/// the end of its line.
pub fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut position = start + 1;
    while let Some(&byte) = bytes.get(position) {
        match byte {
            b'\\' => position += 2,
            b'"' => return position + 1,
            b'\n' => return position,
            _ => position += 1,
        }
    }
    bytes.len()
}

/// Returns the offset of the newline that ends the line at `start`, or the
/// end of the text.
pub fn line_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&byte| byte == b'\n')
        .map_or(bytes.len(), |index| start + index)
}

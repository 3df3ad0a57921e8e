//! Conversion between byte offsets into a document and LSP positions, whose
//! `character` counts UTF-16 code units, as the protocol requires by default.

use lsp_types::{Position, Range};

use crate::syntax::Span;

/// The byte offsets at which the lines of one text start.
#[derive(Debug, Clone)]
pub struct LineIndex<'src> {
    text: &'src str,
    line_starts: Vec<usize>,
}

impl<'src> LineIndex<'src> {
    /// Indexes the lines of `text`; a line ends after `\n`.
    pub fn new(text: &'src str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(offset, _)| offset + 1));
        LineIndex { text, line_starts }
    }

    /// Converts a byte offset into a position. An offset past the end or
    /// inside a character moves back to the nearest character boundary.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let character: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(to_u32(line), to_u32(character))
    }

    /// Converts a span into a range.
    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }

    /// Converts a position into a byte offset. A line past the end maps to
    /// the end of the text, and a character past the end of its line to the
    /// end of the line, as the protocol specifies.
    pub fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.line_starts.get(position.line as usize) else {
            return self.text.len();
        };
        let line = &self.text[start..];
        let line = &line[..line.find('\n').unwrap_or(line.len())];
        let mut units = 0;
        for (index, c) in line.char_indices() {
            if units >= position.character as usize {
                return start + index;
            }
            units += c.len_utf16();
        }
        start + line.len()
    }

    /// Returns the position just after the last character.
    pub fn end(&self) -> Position {
        self.position(self.text.len())
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        // `é` is one UTF-16 unit and two bytes; `𝄞` is two units and four bytes.
        let text = "ab\né𝄞x\n";
        let index = LineIndex::new(text);
        let cases = [
            (0, Position::new(0, 0)),
            (2, Position::new(0, 2)),
            (3, Position::new(1, 0)),
            (5, Position::new(1, 1)),
            (9, Position::new(1, 3)),
            (10, Position::new(1, 4)),
            (11, Position::new(2, 0)),
        ];
        for (offset, position) in cases {
            assert_eq!(index.position(offset), position, "offset {offset}");
            assert_eq!(index.offset(position), offset, "position {position:?}");
        }
    }

    #[test]
    fn offset_inside_character_moves_back() {
        let index = LineIndex::new("é");
        assert_eq!(index.position(1), Position::new(0, 0));
    }

    #[test]
    fn position_past_line_end_clamps() {
        let index = LineIndex::new("ab\ncd");
        assert_eq!(index.offset(Position::new(0, 40)), 2);
        assert_eq!(index.offset(Position::new(7, 0)), 5);
        assert_eq!(index.end(), Position::new(1, 2));
    }
}

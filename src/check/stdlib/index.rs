//! The index of a stdlib module: the kind, name and place of each top-level
//! item, found by a small scanner instead of the parser. Scanning a module
//! costs a fraction of parsing it, so a check learns which names exist and
//! where their text is, then parses only the items it uses.

use std::ops::Range;

use crate::syntax::scan::{line_end, string_end};

/// The kinds of top-level item that the standard library declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Fault,
    Framework,
    Alert,
    Template,
}

impl ItemKind {
    /// Returns the kind of item that the keyword `word` starts.
    fn from_keyword(word: &str) -> Option<ItemKind> {
        match word {
            "fault" => Some(ItemKind::Fault),
            "framework" => Some(ItemKind::Framework),
            "alert" => Some(ItemKind::Alert),
            "template" => Some(ItemKind::Template),
            _ => None,
        }
    }
}

/// One top-level item of a module's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedItem<'src> {
    pub kind: ItemKind,
    pub name: &'src str,
    /// The bytes of the item, from the first of the `///` lines directly
    /// above it to its closing `}`. Parsed alone, this text yields the same
    /// declaration and documentation as the whole module does.
    pub range: Range<usize>,
    /// The offset of the keyword that starts the item, where the span of its
    /// parsed declaration starts.
    pub keyword: usize,
}

/// An item whose keyword has been read but not yet its closing `}`.
struct OpenItem<'src> {
    kind: ItemKind,
    keyword: usize,
    /// `template` is followed by `plan` before the name.
    expects_plan: bool,
    name: Option<&'src str>,
}

/// Lists the `fault`, `framework`, `alert` and `template` items of `source`
/// in order. The scanner skips comments and strings and counts brackets, so
/// that only words at depth 0 start an item and the `}` that returns to
/// depth 0 ends it. Other items (`service`, `experiment`, ...) are skipped.
/// The text is assumed valid: the test suite parses every stdlib module and
/// compares the index with the parser's items.
pub fn index_items(source: &str) -> Vec<IndexedItem<'_>> {
    let bytes = source.as_bytes();
    let mut items = Vec::new();
    let mut open: Option<OpenItem<'_>> = None;
    let mut depth = 0usize;
    let mut pos = 0;
    while pos < bytes.len() {
        let byte = bytes[pos];
        match byte {
            b'/' if bytes.get(pos + 1) == Some(&b'/') => pos = line_end(bytes, pos),
            b'/' if bytes.get(pos + 1) == Some(&b'*') => pos = block_comment_end(bytes, pos),
            b'"' => pos = string_end(bytes, pos),
            b'{' | b'(' | b'[' => {
                depth += 1;
                pos += 1;
            }
            b'}' | b')' | b']' => {
                depth = depth.saturating_sub(1);
                pos += 1;
                if depth == 0 && byte == b'}' {
                    items.extend(open.take().and_then(|item| close_item(source, item, pos)));
                }
            }
            _ if depth == 0 && is_word_start(byte) => {
                let end = word_end(bytes, pos);
                // A segment of a module path may be spelt like a keyword
                // (`use std::alert::...`), but it never starts an item.
                if !source[..pos].trim_end().ends_with("::") {
                    open = read_word(open, &source[pos..end], pos);
                }
                pos = end;
            }
            _ => pos += 1,
        }
    }
    items
}

/// Advances the item being read by one word at depth 0: a keyword opens an
/// item, and the word after it (after `plan`, for a template) is its name.
fn read_word<'src>(
    open: Option<OpenItem<'src>>,
    word: &'src str,
    pos: usize,
) -> Option<OpenItem<'src>> {
    match open {
        None => ItemKind::from_keyword(word).map(|kind| OpenItem {
            kind,
            keyword: pos,
            expects_plan: kind == ItemKind::Template,
            name: None,
        }),
        Some(mut item) => {
            if item.expects_plan && word == "plan" {
                item.expects_plan = false;
            } else if item.name.is_none() {
                item.name = Some(word);
            }
            Some(item)
        }
    }
}

/// Completes an item whose closing `}` ends just before `end`.
fn close_item<'src>(
    source: &'src str,
    item: OpenItem<'src>,
    end: usize,
) -> Option<IndexedItem<'src>> {
    Some(IndexedItem {
        kind: item.kind,
        name: item.name?,
        range: doc_start(source, item.keyword)..end,
        keyword: item.keyword,
    })
}

/// Finds the start of the `///` lines directly above the line of `keyword`,
/// which the parser takes as the item's documentation. Without such lines,
/// returns `keyword`.
fn doc_start(source: &str, keyword: usize) -> usize {
    let mut start = keyword;
    let Some(mut line_end) = source[..keyword].rfind('\n') else {
        return start;
    };
    loop {
        let line_start = source[..line_end]
            .rfind('\n')
            .map_or(0, |newline| newline + 1);
        if !source[line_start..line_end].trim_start().starts_with("///") {
            return start;
        }
        start = line_start;
        if line_start == 0 {
            return start;
        }
        line_end = line_start - 1;
    }
}

fn is_word_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_'
}

fn word_end(bytes: &[u8], start: usize) -> usize {
    let length = bytes[start..]
        .iter()
        .take_while(|byte| byte.is_ascii_alphanumeric() || **byte == b'_')
        .count();
    start + length
}

/// Returns the offset after the `*/` that closes the `/*` at `start`;
/// block comments nest.
fn block_comment_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut pos = start;
    while pos < bytes.len() {
        match (bytes[pos], bytes.get(pos + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                pos += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                pos += 2;
                if depth == 0 {
                    return pos;
                }
            }
            _ => pos += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_and_names(source: &str) -> Vec<(ItemKind, &str)> {
        index_items(source)
            .into_iter()
            .map(|item| (item.kind, item.name))
            .collect()
    }

    #[test]
    fn index_reads_each_kind() {
        let source = "fault a() { mode = x }\nframework sox { }\nalert b { severity = error }\n\
                      template plan c(app: target) (rto = 1m) { action r = restart app }\n";
        assert_eq!(
            kinds_and_names(source),
            vec![
                (ItemKind::Fault, "a"),
                (ItemKind::Framework, "sox"),
                (ItemKind::Alert, "b"),
                (ItemKind::Template, "c"),
            ]
        );
    }

    #[test]
    fn index_skips_other_items() {
        let source = "use std::faults::latency\nservice web { tier = low }\n\
                      experiment e { step s = inject latency(delay = 1s) on web }\nfault f() {}\n";
        assert_eq!(kinds_and_names(source), vec![(ItemKind::Fault, "f")]);
    }

    #[test]
    fn index_ignores_keywords_inside_items() {
        let source = "experiment e { alert = [x], fault { } }\nalert a { }\n";
        assert_eq!(kinds_and_names(source), vec![(ItemKind::Alert, "a")]);
    }

    #[test]
    fn index_ignores_keywords_in_paths() {
        let source = "use std::alert::x\nuse a :: fault::{y}\nfault f() {}\n";
        assert_eq!(kinds_and_names(source), vec![(ItemKind::Fault, "f")]);
    }

    #[test]
    fn index_skips_comments_and_strings() {
        let source = "// fault hidden() {\n/* fault x /* nested } */ alert y { */\n\
                      alert a { description = \"} fault z() { \\\" }\" }\nfault b() {}\n";
        assert_eq!(
            kinds_and_names(source),
            vec![(ItemKind::Alert, "a"), (ItemKind::Fault, "b")]
        );
    }

    #[test]
    fn index_ends_item_at_closing_brace() {
        let source = "fault a(x: int = 1) { applies_to = [proxy] }  // after\n";
        let items = index_items(source);
        assert_eq!(items.len(), 1);
        assert_eq!(
            &source[items[0].range.clone()],
            "fault a(x: int = 1) { applies_to = [proxy] }"
        );
        assert_eq!(items[0].keyword, 0);
    }

    #[test]
    fn index_range_starts_at_doc_lines() {
        let source = "// not documentation\n\n/// Line one.\n  /// Line two.\nfault a() {}\n";
        let items = index_items(source);
        let text = &source[items[0].range.clone()];
        assert_eq!(text, "/// Line one.\n  /// Line two.\nfault a() {}");
        assert_eq!(
            &source[items[0].keyword..items[0].range.end],
            "fault a() {}"
        );
    }

    #[test]
    fn index_range_stops_at_line_between() {
        let source = "/// Detached.\n\nfault a() {}\n";
        let items = index_items(source);
        assert_eq!(&source[items[0].range.clone()], "fault a() {}");
    }

    #[test]
    fn index_range_takes_doc_at_file_start() {
        let source = "/// First.\nfault a() {}";
        let items = index_items(source);
        assert_eq!(items[0].range, 0..source.len());
    }
}

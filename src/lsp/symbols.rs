//! Document symbols: the outline of targets, experiments and what they
//! declare, nested as in the file.

use lsp_types::{CompletionItemKind, DocumentSymbol, SymbolKind};

use super::index::{DeclKind, DocumentIndex};
use super::position::LineIndex;

/// Builds the outline of a document.
pub fn document_symbols(index: &DocumentIndex<'_>) -> Vec<DocumentSymbol> {
    let lines = LineIndex::new(index.source);
    children_of(index, &lines, None)
}

fn children_of(
    index: &DocumentIndex<'_>,
    lines: &LineIndex<'_>,
    parent: Option<usize>,
) -> Vec<DocumentSymbol> {
    index
        .decls
        .iter()
        .enumerate()
        .filter(|(_, decl)| decl.parent == parent)
        .map(|(position, decl)| {
            let children = children_of(index, lines, Some(position));
            // `deprecated` is superseded by `tags`, but the struct still has
            // the field, so it must be set.
            #[allow(deprecated)]
            DocumentSymbol {
                name: decl.name.clone(),
                detail: Some(detail(decl.kind, decl.detail.as_deref())),
                kind: symbol_kind(decl.kind),
                tags: None,
                deprecated: None,
                range: lines.range(decl.span),
                selection_range: lines.range(decl.name_span),
                children: (!children.is_empty()).then_some(children),
            }
        })
        .collect()
}

/// Describes a declaration in a word or two: `process target`,
/// `step injecting latency`.
pub fn detail(kind: DeclKind, word: Option<&str>) -> String {
    match (kind, word) {
        (DeclKind::Step, Some(fault)) => format!("step injecting {fault}"),
        (DeclKind::Target | DeclKind::Probe | DeclKind::Action, Some(word)) => {
            format!("{word} {}", kind.word())
        }
        _ => kind.word().to_owned(),
    }
}

/// Picks the symbol kind an editor shows for a declaration.
pub fn symbol_kind(kind: DeclKind) -> SymbolKind {
    match kind {
        DeclKind::Service => SymbolKind::MODULE,
        DeclKind::Target => SymbolKind::OBJECT,
        DeclKind::Fault => SymbolKind::FUNCTION,
        DeclKind::Experiment => SymbolKind::CLASS,
        DeclKind::Probe => SymbolKind::PROPERTY,
        DeclKind::Step => SymbolKind::EVENT,
        DeclKind::Plan => SymbolKind::NAMESPACE,
        DeclKind::Template => SymbolKind::INTERFACE,
        DeclKind::Action => SymbolKind::METHOD,
    }
}

/// Picks the completion item kind that matches [`symbol_kind`].
pub fn completion_kind(kind: DeclKind) -> CompletionItemKind {
    match kind {
        DeclKind::Service => CompletionItemKind::MODULE,
        DeclKind::Target => CompletionItemKind::VARIABLE,
        DeclKind::Fault => CompletionItemKind::FUNCTION,
        DeclKind::Experiment => CompletionItemKind::CLASS,
        DeclKind::Probe => CompletionItemKind::PROPERTY,
        DeclKind::Step => CompletionItemKind::EVENT,
        DeclKind::Plan => CompletionItemKind::STRUCT,
        DeclKind::Template => CompletionItemKind::INTERFACE,
        DeclKind::Action => CompletionItemKind::METHOD,
    }
}

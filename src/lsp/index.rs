//! The declarations of a document, found from its tokens so that the editor
//! features still work while the text has syntax errors.

use super::tokens::{Token, TokenKind, tokenize};
use crate::syntax::Span;

/// The kind of a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    Service,
    Target,
    Fault,
    Experiment,
    Probe,
    Step,
    Plan,
    Template,
    Action,
}

impl DeclKind {
    /// Returns the word the language uses for this kind of declaration.
    pub fn word(self) -> &'static str {
        match self {
            DeclKind::Service => "service",
            DeclKind::Target => "target",
            DeclKind::Fault => "fault",
            DeclKind::Experiment => "experiment",
            DeclKind::Probe => "probe",
            DeclKind::Step => "step",
            DeclKind::Plan => "recovery plan",
            DeclKind::Template => "recovery plan template",
            DeclKind::Action => "action",
        }
    }

    /// Tells whether a declaration of this kind can end with a braced
    /// block; a recovery plan made from a template has none.
    fn has_block(self) -> bool {
        matches!(
            self,
            DeclKind::Service
                | DeclKind::Target
                | DeclKind::Fault
                | DeclKind::Experiment
                | DeclKind::Plan
                | DeclKind::Template
        )
    }
}

/// One declaration of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decl {
    pub kind: DeclKind,
    pub name: String,
    pub name_span: Span,
    /// The whole declaration, from its keyword to its last token.
    pub span: Span,
    /// The index of the declaration whose block contains this one.
    pub parent: Option<usize>,
    /// A word that describes it: a target's or probe's kind, a step's fault,
    /// an action's kind.
    pub detail: Option<String>,
    /// Whether the declaration ends with a braced block of its own.
    pub has_block: bool,
}

/// The tokens and declarations of one text.
#[derive(Debug, Clone)]
pub struct DocumentIndex<'src> {
    pub source: &'src str,
    /// The tokens without comments, which the analyses walk.
    pub code: Vec<Token>,
    pub decls: Vec<Decl>,
}

/// Words that start an entry of a file, an experiment or a recovery plan.
const ENTRY_KEYWORDS: &[&str] = &[
    "use",
    "template",
    "service",
    "target",
    "fault",
    "experiment",
    "probe",
    "step",
    "stop",
    "success",
    "steady_state",
    "recovery",
    "action",
];

impl<'src> DocumentIndex<'src> {
    /// Tokenizes `source` and finds its declarations.
    pub fn new(source: &'src str) -> Self {
        let code: Vec<Token> = tokenize(source)
            .into_iter()
            .filter(|token| !token.is_comment())
            .collect();
        let decls = find_decls(source, &code);
        DocumentIndex {
            source,
            code,
            decls,
        }
    }

    /// Returns the text of the code token at `index`, or "" past the end.
    pub fn text(&self, index: usize) -> &'src str {
        self.code
            .get(index)
            .map_or("", |token| token.text(self.source))
    }

    /// Finds the index of the code token at `offset`, as
    /// [`super::tokens::token_at`] does.
    pub fn code_token_at(&self, offset: usize) -> Option<usize> {
        super::tokens::token_at(&self.code, offset)
    }

    /// Returns the top-level declaration that contains `offset`.
    pub fn top_level_at(&self, offset: usize) -> Option<usize> {
        self.decls.iter().position(|decl| {
            decl.parent.is_none() && decl.span.start <= offset && offset <= decl.span.end
        })
    }

    /// Returns the innermost declaration with a block that contains `offset`.
    pub fn container_at(&self, offset: usize) -> Option<usize> {
        self.decls
            .iter()
            .enumerate()
            .filter(|(_, decl)| decl.has_block)
            .filter(|(_, decl)| decl.span.start <= offset && offset <= decl.span.end)
            .max_by_key(|(_, decl)| decl.span.start)
            .map(|(index, _)| index)
    }

    /// Returns the top-level ancestor of a declaration, or itself.
    pub fn root_of(&self, mut index: usize) -> usize {
        while let Some(parent) = self.decls[index].parent {
            index = parent;
        }
        index
    }

    /// Finds a declaration of one of `kinds` named `name`, preferring one in
    /// the top-level declaration around `offset`.
    pub fn find(&self, name: &str, kinds: &[DeclKind], offset: usize) -> Option<usize> {
        let scope = self.top_level_at(offset);
        let mut candidates = self
            .decls
            .iter()
            .enumerate()
            .filter(|(_, decl)| decl.name == name && kinds.contains(&decl.kind))
            .map(|(index, _)| index);
        let first = candidates.next()?;
        let is_in_scope = |index: usize| Some(self.root_of(index)) == scope;
        if is_in_scope(first) {
            return Some(first);
        }
        Some(
            candidates
                .find(|&index| is_in_scope(index))
                .unwrap_or(first),
        )
    }
}

/// A declaration whose `{` has not been seen yet.
struct PendingBlock {
    decl: usize,
    /// The bracket depth at which the declaration's `{` appears.
    depth: usize,
}

fn find_decls(source: &str, code: &[Token]) -> Vec<Decl> {
    let mut decls: Vec<Decl> = Vec::new();
    // One entry per open bracket: the declaration that owns it, if it is the
    // block of a declaration.
    let mut stack: Vec<Option<usize>> = Vec::new();
    let mut pending: Option<PendingBlock> = None;

    for (index, token) in code.iter().enumerate() {
        match token.kind {
            TokenKind::Open(bracket) => {
                let owner = match &pending {
                    Some(block) if bracket == '{' && block.depth == stack.len() => Some(block.decl),
                    _ => None,
                };
                if owner.is_some() {
                    pending = None;
                }
                stack.push(owner);
            }
            TokenKind::Close(_) => {
                if let Some(Some(owner)) = stack.pop() {
                    decls[owner].span.end = token.span.end;
                }
            }
            TokenKind::Word => {
                let parent = stack.iter().rev().find_map(|owner| *owner);
                let Some(decl) = decl_at(source, code, index, parent) else {
                    continue;
                };
                if decl.has_block {
                    pending = Some(PendingBlock {
                        decl: decls.len(),
                        depth: stack.len(),
                    });
                }
                decls.push(decl);
            }
            _ => {}
        }
    }

    // A block left open by an unfinished edit reaches to the end of the text,
    // so that a cursor after its last token is still inside it.
    for owner in stack.into_iter().flatten() {
        decls[owner].span.end = source.len();
    }
    decls
}

/// Recognises a declaration that starts at the code token `index`.
fn decl_at(source: &str, code: &[Token], index: usize, parent: Option<usize>) -> Option<Decl> {
    let text = |i: usize| code.get(i).map_or("", |token| token.text(source));
    let is_name = |i: usize| code.get(i).is_some_and(|token| token.is_name(source));
    let keyword = code[index];

    let (kind, name_index) = match text(index) {
        "service" => (DeclKind::Service, index + 1),
        "target" => (DeclKind::Target, index + 1),
        "fault" => (DeclKind::Fault, index + 1),
        "experiment" => (DeclKind::Experiment, index + 1),
        "recovery" if text(index + 1) == "plan" => (DeclKind::Plan, index + 2),
        "template" if text(index + 1) == "plan" => (DeclKind::Template, index + 2),
        // `probe` also names an action kind (`action a = probe health`), so
        // only `probe NAME =` declares a probe.
        "probe" if text(index + 2) == "=" => (DeclKind::Probe, index + 1),
        "step" if text(index + 2) == "=" => (DeclKind::Step, index + 1),
        "action" if text(index + 2) == "=" => (DeclKind::Action, index + 1),
        _ => return None,
    };
    if !is_name(name_index) {
        return None;
    }

    let name_token = code[name_index];
    let detail = match kind {
        DeclKind::Target | DeclKind::Probe | DeclKind::Action => {
            Some(text(name_index + 2)).filter(|word| !word.is_empty())
        }
        DeclKind::Step => code[name_index..]
            .iter()
            .position(|token| token.is(source, "inject"))
            .map(|offset| text(name_index + offset + 1))
            .filter(|word| !word.is_empty()),
        _ => None,
    };
    // `recovery plan NAME = TEMPLATE(...)` ends at its closing parenthesis.
    let has_block = kind.has_block() && text(name_index + 1) != "=";
    let end = if has_block {
        name_token.span.end
    } else {
        entry_end(source, code, name_index + 1)
    };
    Some(Decl {
        kind,
        name: name_token.text(source).to_owned(),
        name_span: name_token.span,
        span: Span::new(keyword.span.start, end),
        parent,
        detail: detail.map(str::to_owned),
        has_block,
    })
}

/// Finds where an entry without a block (a probe, step or action) ends: at
/// the last token before the next entry of its block or the block's end.
/// `from` is the index of the `=` after the name.
fn entry_end(source: &str, code: &[Token], from: usize) -> usize {
    let mut depth = 0usize;
    // The word after `=` is a kind, even when it is the keyword `probe`.
    let kind = code
        .get(from + 1)
        .filter(|token| token.kind == TokenKind::Word);
    let Some(kind) = kind else {
        return code[from - 1].span.end;
    };
    let mut end = kind.span.end;
    for (index, token) in code.iter().enumerate().skip(from + 2) {
        match token.kind {
            TokenKind::Open(_) => depth += 1,
            TokenKind::Close(_) if depth == 0 => break,
            TokenKind::Close(_) => depth -= 1,
            TokenKind::Word if depth == 0 => {
                let next = code.get(index + 1).map_or("", |t| t.text(source));
                let starts_entry = ENTRY_KEYWORDS.contains(&token.text(source))
                    || (token.is_name(source) && (next == "=" || next == "{"));
                if starts_entry {
                    break;
                }
            }
            _ => {}
        }
        end = token.span.end;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"target web = process { command = ["x"] }
experiment e {
    steady_state {
        probe home = http GET "http://127.0.0.1:1/" expect status == 200
    }
    step slow = inject latency(delay = 1ms) on web
        for 2s
    severity = low
    recovery plan restore (rto = 1m) {
        action verify = probe home timeout 10s
    }
}
"#;

    fn summary(index: &DocumentIndex<'_>) -> Vec<(DeclKind, String, String, Option<usize>)> {
        index
            .decls
            .iter()
            .map(|decl| {
                let text = &index.source[decl.span.start..decl.span.end];
                (decl.kind, decl.name.clone(), text.to_owned(), decl.parent)
            })
            .collect()
    }

    #[test]
    fn finds_declarations_and_parents() {
        let index = DocumentIndex::new(SOURCE);
        let experiment = SOURCE[SOURCE.find("experiment").unwrap()..].trim_end();
        let plan_start = SOURCE.find("recovery").unwrap();
        let plan_end = SOURCE.rfind("    }").unwrap() + 5;
        let expected = vec![
            (
                DeclKind::Target,
                "web".to_owned(),
                r#"target web = process { command = ["x"] }"#.to_owned(),
                None,
            ),
            (
                DeclKind::Experiment,
                "e".to_owned(),
                experiment.to_owned(),
                None,
            ),
            (
                DeclKind::Probe,
                "home".to_owned(),
                r#"probe home = http GET "http://127.0.0.1:1/" expect status == 200"#.to_owned(),
                Some(1),
            ),
            (
                DeclKind::Step,
                "slow".to_owned(),
                "step slow = inject latency(delay = 1ms) on web\n        for 2s".to_owned(),
                Some(1),
            ),
            (
                DeclKind::Plan,
                "restore".to_owned(),
                SOURCE[plan_start..plan_end].to_owned(),
                Some(1),
            ),
            (
                DeclKind::Action,
                "verify".to_owned(),
                "action verify = probe home timeout 10s".to_owned(),
                Some(4),
            ),
        ];
        assert_eq!(summary(&index), expected);
        let details: Vec<Option<&str>> = index
            .decls
            .iter()
            .map(|decl| decl.detail.as_deref())
            .collect();
        let expected = [
            Some("process"),
            None,
            Some("http"),
            Some("latency"),
            None,
            Some("probe"),
        ];
        assert_eq!(details, expected);
    }

    #[test]
    fn unclosed_block_reaches_end() {
        let source = "experiment e {\n    step a = inject latency(";
        let index = DocumentIndex::new(source);
        assert_eq!(index.decls.len(), 2);
        assert_eq!(index.decls[0].span, Span::new(0, source.len()));
        assert_eq!(index.decls[1].parent, Some(0));
    }

    #[test]
    fn find_prefers_same_experiment() {
        let source = "experiment a { probe p = tcp 1.1.1.1:1 }\n\
                      experiment b { probe p = tcp 1.1.1.1:2 stop when p.failures > 1 }";
        let index = DocumentIndex::new(source);
        let use_in_b = source.rfind("p.failures").unwrap();
        assert_eq!(index.find("p", &[DeclKind::Probe], use_in_b), Some(3));
        assert_eq!(index.find("p", &[DeclKind::Probe], 0), Some(1));
        assert_eq!(index.find("q", &[DeclKind::Probe], 0), None);
    }
}

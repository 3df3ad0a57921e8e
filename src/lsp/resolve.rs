//! Resolution of the name under the cursor from the tokens around it.
//! Hover and go-to-definition share these rules.

use super::index::{DeclKind, DocumentIndex};
use super::tokens::TokenKind;
use crate::check::stdlib;

/// The thing a name refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Referent {
    /// A declaration of the document, by index.
    Decl(usize),
    /// A fault kind of the standard library.
    Fault(String),
    /// A compliance framework, alert rule or recovery plan template of a
    /// module of the standard library.
    StdlibItem { module: String, name: String },
    /// A module of the standard library, such as `std::faults`.
    Module(String),
    /// A named argument in a fault call: `jitter` in `latency(jitter = 5ms)`.
    Param { fault: String, param: String },
}

/// Finds what the name at `offset` refers to.
pub fn resolve(index: &DocumentIndex<'_>, offset: usize) -> Option<Referent> {
    let at = index.code_token_at(offset)?;
    let token = index.code[at];
    if !is_path_word(index, at) {
        return None;
    }
    let name = index.text(at);
    if let Some(decl) = index
        .decls
        .iter()
        .position(|decl| decl.name_span == token.span)
    {
        return Some(Referent::Decl(decl));
    }
    if let Some(referent) = resolve_in_use(index, at) {
        return Some(referent);
    }

    let previous = at.checked_sub(1).map_or("", |i| index.text(i));
    let next = index.text(at + 1);
    let position = token.span.start;
    let find = |kinds: &[DeclKind]| index.find(name, kinds, position).map(Referent::Decl);
    if previous == "inject" {
        return find(&[DeclKind::Fault]).or_else(|| Some(Referent::Fault(name.to_owned())));
    }
    let is_instance = previous == "=" && at >= 3 && index.text(at - 3) == "plan";
    if is_instance {
        return find(&[DeclKind::Template]).or_else(|| stdlib_template(name));
    }
    if next == "="
        && let Some(fault) = enclosing_fault_call(index, at)
    {
        return Some(Referent::Param {
            fault: fault.to_owned(),
            param: name.to_owned(),
        });
    }
    if next == "." || previous == "probe" {
        return find(&[DeclKind::Probe]);
    }
    if previous == "on" || previous == "restart" {
        return find(&[DeclKind::Target]);
    }
    if is_in_after_list(index, at) {
        let in_plan = index
            .container_at(position)
            .is_some_and(|container| index.decls[container].kind == DeclKind::Plan);
        let kind = if in_plan {
            DeclKind::Action
        } else {
            DeclKind::Step
        };
        return find(&[kind]);
    }
    find(&[
        DeclKind::Service,
        DeclKind::Target,
        DeclKind::Probe,
        DeclKind::Step,
        DeclKind::Action,
        DeclKind::Plan,
        DeclKind::Experiment,
        DeclKind::Fault,
        DeclKind::Template,
    ])
}

/// Resolves the name of a recovery plan template of the standard library.
fn stdlib_template(name: &str) -> Option<Referent> {
    let (module, _) = stdlib::find_template(name)?;
    Some(Referent::StdlibItem {
        module: module.to_owned(),
        name: name.to_owned(),
    })
}

/// Resolves a name in a `use` declaration: a module segment or an import.
fn resolve_in_use(index: &DocumentIndex<'_>, at: usize) -> Option<Referent> {
    let start = use_start(index, at)?;
    let mut module = Vec::new();
    let mut cursor = start + 1;
    // The path is the names joined by `::`; in `use a::b::c` without braces
    // the last name is the import.
    while cursor < index.code.len() && is_path_word(index, cursor) {
        let is_last = index.text(cursor + 1) != "::" || index.text(cursor + 2) == "{";
        let is_import = is_last && index.text(cursor + 1) != "::";
        if cursor == at {
            return Some(if is_import {
                imported(&module.join("::"), index.text(at))
            } else {
                module.push(index.text(cursor));
                Referent::Module(module.join("::"))
            });
        }
        module.push(index.text(cursor));
        if index.text(cursor + 1) != "::" {
            break;
        }
        cursor += 2;
    }
    // Past the path, every name is an import from the braced group.
    (at > cursor).then(|| imported(&module.join("::"), index.text(at)))
}

/// Resolves `name` imported from `module`. A name that is no framework,
/// alert rule or template of the module is taken as a fault kind, which
/// hover and go-to-definition then look up in the catalog.
fn imported(module: &str, name: &str) -> Referent {
    let is_item = stdlib::modules().get(module).is_some_and(|module| {
        module.framework(name).is_some()
            || module.alert_rule(name).is_some()
            || module.template(name).is_some()
    });
    if is_item {
        Referent::StdlibItem {
            module: module.to_owned(),
            name: name.to_owned(),
        }
    } else {
        Referent::Fault(name.to_owned())
    }
}

/// Finds the `use` keyword of the declaration that contains token `at`.
pub fn use_start(index: &DocumentIndex<'_>, at: usize) -> Option<usize> {
    let mut cursor = at;
    loop {
        let text = index.text(cursor);
        if text == "use" {
            return Some(cursor);
        }
        let is_part = is_path_word(index, cursor) || matches!(text, "::" | "{" | "," | "*");
        if !is_part || cursor == 0 {
            return None;
        }
        cursor -= 1;
    }
}

/// Tells whether token `at` is a name, or a keyword next to `::`, which a
/// module path may use as a segment, as `recovery` in `use std::recovery`.
pub fn is_path_word(index: &DocumentIndex<'_>, at: usize) -> bool {
    let token = index.code[at];
    let next_to_separator =
        index.text(at + 1) == "::" || at.checked_sub(1).is_some_and(|i| index.text(i) == "::");
    token.is_name(index.source) || (token.kind == TokenKind::Word && next_to_separator)
}

/// Returns the fault whose call's parentheses contain token `at`:
/// `latency` for a token inside `inject latency( ... )`.
pub fn enclosing_fault_call<'src>(index: &DocumentIndex<'src>, at: usize) -> Option<&'src str> {
    let mut depth = 0usize;
    for cursor in (0..at).rev() {
        match index.text(cursor) {
            ")" | "]" | "}" => depth += 1,
            "[" | "{" if depth > 0 => depth -= 1,
            "[" | "{" => return None,
            "(" if depth > 0 => depth -= 1,
            "(" => {
                let is_call = cursor >= 2 && index.text(cursor - 2) == "inject";
                return is_call.then(|| index.text(cursor - 1));
            }
            _ => {}
        }
    }
    None
}

/// Tells whether token `at` is in an `after a, b` list.
fn is_in_after_list(index: &DocumentIndex<'_>, at: usize) -> bool {
    let mut cursor = at;
    while cursor >= 2 && index.text(cursor - 1) == "," {
        cursor -= 2;
    }
    cursor >= 1 && index.text(cursor - 1) == "after"
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"use std::faults::{latency, process_kill}
target web = process { command = ["x"] }
experiment e {
    probe home = tcp 127.0.0.1:1
    step a = inject latency(jitter = 1ms) on web for 1s
    step b = inject process_kill() on web for 1s after a
    stop when home.failures > 1
    recovery plan r (rto = 1m) {
        action first = restart web
        action second = probe home after first
    }
}
"#;

    fn resolve_nth(word: &str, nth: usize) -> Option<Referent> {
        let index = DocumentIndex::new(SOURCE);
        let offset = SOURCE.match_indices(word).nth(nth).unwrap().0;
        // In `after a`, the name is the last word.
        let offset = offset + word.rfind(' ').map_or(0, |space| space + 1);
        resolve(&index, offset)
    }

    #[test]
    fn resolve_cases() {
        let index = DocumentIndex::new(SOURCE);
        let decl =
            |name: &str| Referent::Decl(index.decls.iter().position(|d| d.name == name).unwrap());
        let fault = |name: &str| Referent::Fault(name.to_owned());
        let cases = [
            ("std", 0, Some(Referent::Module("std".to_owned()))),
            (
                "faults",
                0,
                Some(Referent::Module("std::faults".to_owned())),
            ),
            ("latency", 0, Some(fault("latency"))),
            ("process_kill", 0, Some(fault("process_kill"))),
            ("latency", 1, Some(fault("latency"))),
            (
                "jitter",
                0,
                Some(Referent::Param {
                    fault: "latency".to_owned(),
                    param: "jitter".to_owned(),
                }),
            ),
            ("web", 0, Some(decl("web"))),
            ("web", 1, Some(decl("web"))),
            ("web", 3, Some(decl("web"))),
            ("after a", 0, Some(decl("a"))),
            ("home", 1, Some(decl("home"))),
            ("home", 2, Some(decl("home"))),
            ("first", 1, Some(decl("first"))),
            ("experiment", 0, None),
        ];
        for (word, nth, expected) in cases {
            assert_eq!(resolve_nth(word, nth), expected, "{word} #{nth}");
        }
    }

    #[test]
    fn use_of_single_name() {
        let source = "use std::faults::latency";
        let index = DocumentIndex::new(source);
        let resolve_word = |word: &str| resolve(&index, source.find(word).unwrap());
        assert_eq!(
            resolve_word("latency"),
            Some(Referent::Fault("latency".to_owned()))
        );
        assert_eq!(
            resolve_word("faults"),
            Some(Referent::Module("std::faults".to_owned()))
        );
    }

    #[test]
    fn use_of_framework_and_alert_rules() {
        let source = "use std::compliance::sox
use std::alerts::{recovery_slow, nothing}";
        let index = DocumentIndex::new(source);
        let resolve_word = |word: &str| resolve(&index, source.find(word).unwrap());
        let item = |module: &str, name: &str| {
            Some(Referent::StdlibItem {
                module: module.to_owned(),
                name: name.to_owned(),
            })
        };
        assert_eq!(resolve_word("sox"), item("std::compliance", "sox"));
        assert_eq!(
            resolve_word("recovery_slow"),
            item("std::alerts", "recovery_slow")
        );
        assert_eq!(
            resolve_word("nothing"),
            Some(Referent::Fault("nothing".to_owned()))
        );
        assert_eq!(
            resolve_word("compliance"),
            Some(Referent::Module("std::compliance".to_owned()))
        );
        assert_eq!(
            resolve_word("alerts"),
            Some(Referent::Module("std::alerts".to_owned()))
        );
    }
}

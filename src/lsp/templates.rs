//! Completion for recovery plans made from templates: the template names
//! after `recovery plan NAME =`, the parameters not yet named inside
//! `TEMPLATE(`, and after `name =` the targets, proxies or probes that a
//! parameter of that type takes. Templates of the document are read from
//! its tokens, so completion works while the text has syntax errors.

use std::collections::BTreeSet;

use lsp_types::{CompletionItem, CompletionItemKind};

use super::catalog::CatalogItem;
use super::index::{DeclKind, DocumentIndex};
use crate::check::stdlib;

/// One parameter of a template, as written in its declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ParamText {
    name: String,
    type_name: String,
    default: Option<String>,
}

/// Tells whether token `at` is the `=` of `recovery plan NAME =`, after
/// which a template's name is written.
pub fn is_instance_start(index: &DocumentIndex<'_>, at: usize) -> bool {
    index.text(at) == "="
        && at >= 3
        && index.text(at - 2) == "plan"
        && index.text(at - 3) == "recovery"
}

/// Returns the template whose instance's parentheses contain token `at`:
/// `restart_and_verify` for a token inside `recovery plan back =
/// restart_and_verify( ... )`.
pub fn enclosing_instance<'src>(index: &DocumentIndex<'src>, at: usize) -> Option<&'src str> {
    let mut depth = 0usize;
    for cursor in (0..at).rev() {
        match index.text(cursor) {
            ")" | "]" | "}" => depth += 1,
            "(" | "[" | "{" if depth > 0 => depth -= 1,
            "[" | "{" => return None,
            "(" => {
                let is_instance = cursor >= 2 && is_instance_start(index, cursor - 2);
                return is_instance.then(|| index.text(cursor - 1));
            }
            _ => {}
        }
    }
    None
}

/// Lists the templates of the document and of the standard library.
pub fn complete_template_name(index: &DocumentIndex<'_>) -> Vec<CompletionItem> {
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    for decl in index.decls.iter().filter(|d| d.kind == DeclKind::Template) {
        if seen.insert(decl.name.clone()) {
            items.push(CompletionItem {
                label: decl.name.clone(),
                kind: Some(CompletionItemKind::INTERFACE),
                detail: Some("recovery plan template".to_owned()),
                ..CompletionItem::default()
            });
        }
    }
    for template in stdlib::all_templates() {
        let Some((module, _)) = stdlib::find_template(&template.name) else {
            continue;
        };
        let Some(item) = CatalogItem::find(module, &template.name) else {
            continue;
        };
        if seen.insert(template.name.clone()) {
            items.push(CompletionItem {
                label: template.name.clone(),
                kind: Some(CompletionItemKind::INTERFACE),
                detail: Some(format!("recovery plan template of `{module}`")),
                documentation: Some(super::completion::markdown(item.markdown())),
                ..CompletionItem::default()
            });
        }
    }
    items
}

/// Completes inside `TEMPLATE( ... )`: the parameters not yet named, or
/// after `name =` the names of the targets, proxies or probes in scope
/// that fit the parameter's type.
pub fn complete_template_argument(
    index: &DocumentIndex<'_>,
    template: &str,
    previous: usize,
    offset: usize,
) -> Vec<CompletionItem> {
    let params = template_params(index, template);
    if index.text(previous) == "=" {
        let name = previous.checked_sub(1).map_or("", |i| index.text(i));
        let Some(param) = params.iter().find(|param| param.name == name) else {
            return Vec::new();
        };
        return fitting_names(index, &param.type_name, offset);
    }
    if !matches!(index.text(previous), "(" | ",") {
        return Vec::new();
    }

    let named = super::completion::named_arguments(index, previous);
    params
        .iter()
        .filter(|param| !named.contains(param.name.as_str()))
        .map(|param| CompletionItem {
            label: param.name.clone(),
            kind: Some(CompletionItemKind::FIELD),
            detail: Some(match &param.default {
                Some(default) => format!("{} = {default}", param.type_name),
                None => param.type_name.clone(),
            }),
            insert_text: Some(format!("{} = ", param.name)),
            ..CompletionItem::default()
        })
        .collect()
}

/// Lists the declared names a parameter of type `type_name` takes: targets
/// for `target`, proxy targets for `proxy`, probes for `probe`, and
/// nothing for a value type.
fn fitting_names(index: &DocumentIndex<'_>, type_name: &str, offset: usize) -> Vec<CompletionItem> {
    let (kind, only_proxies) = match type_name {
        "target" => (DeclKind::Target, false),
        "proxy" => (DeclKind::Target, true),
        "probe" => (DeclKind::Probe, false),
        _ => return Vec::new(),
    };
    let scope = index.top_level_at(offset);
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    for (position, decl) in index.decls.iter().enumerate() {
        let is_visible = decl.parent.is_none() || Some(index.root_of(position)) == scope;
        let fits = decl.kind == kind && (!only_proxies || decl.detail.as_deref() == Some("proxy"));
        if !fits || !is_visible || !seen.insert(decl.name.clone()) {
            continue;
        }
        items.push(CompletionItem {
            label: decl.name.clone(),
            kind: Some(super::symbols::completion_kind(decl.kind)),
            detail: Some(super::symbols::detail(decl.kind, decl.detail.as_deref())),
            ..CompletionItem::default()
        });
    }
    items
}

/// Finds the parameters of template `name`: declared in the document, or
/// else in the standard library.
fn template_params(index: &DocumentIndex<'_>, name: &str) -> Vec<ParamText> {
    let local = index
        .decls
        .iter()
        .find(|decl| decl.kind == DeclKind::Template && decl.name == name);
    if let Some(decl) = local {
        return local_params(index, decl.name_span.end);
    }
    let Some((_, template)) = stdlib::find_template(name) else {
        return Vec::new();
    };
    template
        .params
        .iter()
        .map(|param| ParamText {
            name: param.name.clone(),
            type_name: param.type_name.clone(),
            default: param.default_text.clone(),
        })
        .collect()
}

/// Reads `(name: type = default, ...)` from the tokens after a template's
/// name, which ends at `name_end`. An unfinished list yields the parameters
/// written so far.
fn local_params(index: &DocumentIndex<'_>, name_end: usize) -> Vec<ParamText> {
    let Some(open) = index
        .code
        .iter()
        .position(|token| token.span.start >= name_end)
        .filter(|&open| index.text(open) == "(")
    else {
        return Vec::new();
    };
    let mut params: Vec<ParamText> = Vec::new();
    // The token after the `=` of the parameter being read, if it has one.
    let mut default_start = None;
    let mut depth = 0usize;
    let mut end = index.code.len();
    for cursor in open + 1..index.code.len() {
        match index.text(cursor) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" if depth > 0 => depth -= 1,
            "," | ")" if depth == 0 => {
                set_default(index, params.last_mut(), default_start.take(), cursor);
                if index.text(cursor) == ")" {
                    end = cursor;
                    break;
                }
            }
            ":" if depth == 0 && cursor >= 1 => params.push(ParamText {
                name: index.text(cursor - 1).to_owned(),
                type_name: index.text(cursor + 1).to_owned(),
                default: None,
            }),
            "=" if depth == 0 => default_start = Some(cursor + 1),
            _ => {}
        }
    }
    set_default(index, params.last_mut(), default_start, end);
    params
}

/// Sets the default of `param` to the source text of the tokens from
/// `start` up to, not including, `end`.
fn set_default(
    index: &DocumentIndex<'_>,
    param: Option<&mut ParamText>,
    start: Option<usize>,
    end: usize,
) {
    let (Some(param), Some(start)) = (param, start) else {
        return;
    };
    if end > start {
        let from = index.code[start].span.start;
        let to = index.code[end - 1].span.end;
        param.default = Some(index.source[from..to].to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_params_read_from_tokens() {
        let source = "template plan t(app: target, hold: duration = 5s, env: labels = { a = \"1\", \
                      b = \"2\" }) {}";
        let index = DocumentIndex::new(source);
        let params = template_params(&index, "t");
        let expected = [
            ("app", "target", None),
            ("hold", "duration", Some("5s")),
            ("env", "labels", Some("{ a = \"1\", b = \"2\" }")),
        ];
        assert_eq!(params.len(), expected.len());
        for (param, (name, type_name, default)) in params.iter().zip(expected) {
            assert_eq!(param.name, name);
            assert_eq!(param.type_name, type_name);
            assert_eq!(param.default.as_deref(), default);
        }
    }

    #[test]
    fn unfinished_params_are_read_so_far() {
        let index = DocumentIndex::new("template plan t(app: target, rto: dur");
        let params = template_params(&index, "t");
        let names: Vec<&str> = params.iter().map(|param| param.name.as_str()).collect();
        assert_eq!(names, ["app", "rto"]);
    }
}

//! Completion: keywords, fault names after `inject`, the items of a
//! standard library module in `use`, the parameters of the fault inside
//! `fault(`, templates and their parameters in `recovery plan NAME =
//! TEMPLATE(`, the declared names that fit after `on`, `restart` and
//! `after`, and probe measures after `probe.`.

use std::collections::BTreeSet;

use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};

use super::catalog::{CatalogFault, CatalogItem, ItemKind};
use super::index::{DeclKind, DocumentIndex};
use super::resolve::{enclosing_fault_call, is_path_word, use_start};
use super::symbols::{completion_kind, detail};
use super::templates;
use super::tokens::{KEYWORDS, TokenKind};
use crate::check::stdlib;
use crate::model::ProbeMeasure;

/// Lists what may be written at `offset`. Clients filter the list by the
/// word being typed, so the list is not filtered here.
pub fn complete(index: &DocumentIndex<'_>, offset: usize) -> Vec<CompletionItem> {
    // The word being typed, if any, is replaced; the token before it sets
    // the context.
    let word_start = index
        .code
        .iter()
        .find(|t| t.kind == TokenKind::Word && t.span.start < offset && offset <= t.span.end)
        .map_or(offset, |token| token.span.start);
    let previous = index.code.iter().rposition(|t| t.span.end <= word_start);
    let Some(previous) = previous else {
        return keywords();
    };
    let previous_text = index.text(previous);

    if let Some(start) = use_start(index, previous) {
        return complete_use(index, start, previous);
    }
    if let Some(fault) = enclosing_fault_call(index, previous + 1) {
        return complete_argument(index, fault, previous);
    }
    if let Some(template) = templates::enclosing_instance(index, previous + 1) {
        return templates::complete_template_argument(index, template, previous, offset);
    }
    if templates::is_instance_start(index, previous) {
        return templates::complete_template_name(index);
    }
    match previous_text {
        "inject" => return faults(index),
        "on" | "restart" => return declared(index, &[DeclKind::Target], offset),
        "." if previous >= 1 && index.code[previous - 1].is_name(index.source) => {
            return measures();
        }
        _ => {}
    }
    if is_after_list_end(index, previous) {
        let in_plan = index
            .container_at(offset)
            .is_some_and(|container| index.decls[container].kind == DeclKind::Plan);
        let kind = if in_plan {
            DeclKind::Action
        } else {
            DeclKind::Step
        };
        return declared(index, &[kind], offset);
    }

    let mut items = keywords();
    items.extend(declared(
        index,
        &[
            DeclKind::Service,
            DeclKind::Target,
            DeclKind::Probe,
            DeclKind::Step,
        ],
        offset,
    ));
    items
}

/// Tells whether token `at` is `after` or a comma in an `after` list.
fn is_after_list_end(index: &DocumentIndex<'_>, at: usize) -> bool {
    let mut cursor = at;
    while index.text(cursor) == "," && cursor >= 2 && index.code[cursor - 1].is_name(index.source) {
        cursor -= 2;
    }
    index.text(cursor) == "after"
}

fn keywords() -> Vec<CompletionItem> {
    KEYWORDS
        .iter()
        .map(|keyword| CompletionItem {
            label: (*keyword).to_owned(),
            kind: Some(CompletionItemKind::KEYWORD),
            ..CompletionItem::default()
        })
        .collect()
}

/// Lists the fault kinds of the catalog and those declared in the file.
fn faults(index: &DocumentIndex<'_>) -> Vec<CompletionItem> {
    let mut items: Vec<CompletionItem> = CatalogFault::all().iter().map(fault_item).collect();
    let known: BTreeSet<String> = items.iter().map(|item| item.label.clone()).collect();
    for decl in &index.decls {
        if decl.kind == DeclKind::Fault && !known.contains(&decl.name) {
            items.push(CompletionItem {
                label: decl.name.clone(),
                kind: Some(CompletionItemKind::FUNCTION),
                detail: Some("fault".to_owned()),
                ..CompletionItem::default()
            });
        }
    }
    items
}

fn fault_item(fault: &CatalogFault) -> CompletionItem {
    CompletionItem {
        label: fault.def.name.clone(),
        kind: Some(CompletionItemKind::FUNCTION),
        detail: Some(fault.signature()),
        documentation: Some(markdown(fault.markdown())),
        ..CompletionItem::default()
    }
}

fn stdlib_item(item: &CatalogItem) -> CompletionItem {
    let kind = match item.kind {
        ItemKind::Framework => CompletionItemKind::STRUCT,
        ItemKind::AlertRule => CompletionItemKind::EVENT,
        ItemKind::Template => CompletionItemKind::SNIPPET,
    };
    CompletionItem {
        label: item.name.clone(),
        kind: Some(kind),
        detail: Some(item.kind.words().to_owned()),
        documentation: Some(markdown(item.markdown())),
        ..CompletionItem::default()
    }
}

/// Completes in `use`: the next module segment, or a module's fault kinds,
/// compliance frameworks, alert rules and templates.
fn complete_use(index: &DocumentIndex<'_>, start: usize, previous: usize) -> Vec<CompletionItem> {
    let mut path = Vec::new();
    let mut cursor = start + 1;
    while cursor <= previous && is_path_word(index, cursor) {
        if index.text(cursor + 1) != "::" || cursor + 1 > previous {
            break;
        }
        path.push(index.text(cursor));
        cursor += 2;
    }
    let path = path.join("::");

    if let Some(module) = stdlib::modules().get(path.as_str()) {
        let mut items: Vec<CompletionItem> = CatalogFault::all()
            .iter()
            .filter(|fault| std::ptr::eq(fault.module, module))
            .map(fault_item)
            .collect();
        items.extend(CatalogItem::in_module(&path).iter().map(stdlib_item));
        return items;
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}::")
    };
    let segments: BTreeSet<&str> = stdlib::modules()
        .keys()
        .filter_map(|module| module.strip_prefix(prefix.as_str()))
        .map(|rest| rest.split("::").next().unwrap_or(rest))
        .collect();
    segments
        .into_iter()
        .map(|segment| CompletionItem {
            label: segment.to_owned(),
            kind: Some(CompletionItemKind::MODULE),
            ..CompletionItem::default()
        })
        .collect()
}

/// Completes inside `fault( ... )`: the parameters not yet named, or after
/// `name =` the members of an enumeration parameter.
fn complete_argument(
    index: &DocumentIndex<'_>,
    fault: &str,
    previous: usize,
) -> Vec<CompletionItem> {
    let Some(fault) = CatalogFault::find(fault) else {
        return Vec::new();
    };
    let params = fault.params();
    if index.text(previous) == "=" {
        let name = previous.checked_sub(1).map_or("", |i| index.text(i));
        let members = params
            .iter()
            .find(|param| param.name == name)
            .map(|param| param.members.clone())
            .unwrap_or_default();
        return members
            .into_iter()
            .map(|member| CompletionItem {
                label: member.to_owned(),
                kind: Some(CompletionItemKind::ENUM_MEMBER),
                ..CompletionItem::default()
            })
            .collect();
    }
    if !matches!(index.text(previous), "(" | ",") {
        return Vec::new();
    }

    let named = named_arguments(index, previous);
    params
        .iter()
        .filter(|param| !named.contains(param.name.as_str()))
        .map(|param| CompletionItem {
            label: param.name.clone(),
            kind: Some(CompletionItemKind::FIELD),
            detail: Some(match &param.default_text {
                Some(default) => format!("{} = {default}", param.type_text),
                None => param.type_text.clone(),
            }),
            documentation: Some(markdown(param.markdown())),
            insert_text: Some(format!("{} = ", param.name)),
            ..CompletionItem::default()
        })
        .collect()
}

/// Collects the names of the arguments already written in the call whose
/// parentheses contain token `at`, before and after it.
pub(super) fn named_arguments<'src>(index: &DocumentIndex<'src>, at: usize) -> BTreeSet<&'src str> {
    let mut open = at;
    while index.text(open) != "(" && open > 0 {
        open -= 1;
    }
    let mut names = BTreeSet::new();
    let mut depth = 0usize;
    for cursor in open + 1..index.code.len() {
        match index.text(cursor) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" if depth == 0 => break,
            ")" | "]" | "}" => depth -= 1,
            "=" if depth == 0 => {
                names.insert(index.text(cursor - 1));
            }
            // A call left open while it is typed ends at the next keyword.
            text if depth == 0 && KEYWORDS.contains(&text) && !matches!(text, "true" | "false") => {
                break;
            }
            _ => {}
        }
    }
    names
}

/// Lists the declared names of the given kinds, those in the experiment
/// around `offset` first.
fn declared(index: &DocumentIndex<'_>, kinds: &[DeclKind], offset: usize) -> Vec<CompletionItem> {
    let scope = index.top_level_at(offset);
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    for (position, decl) in index.decls.iter().enumerate() {
        let is_visible = decl.parent.is_none() || Some(index.root_of(position)) == scope;
        if !kinds.contains(&decl.kind) || !is_visible || !seen.insert(decl.name.clone()) {
            continue;
        }
        items.push(CompletionItem {
            label: decl.name.clone(),
            kind: Some(completion_kind(decl.kind)),
            detail: Some(detail(decl.kind, decl.detail.as_deref())),
            ..CompletionItem::default()
        });
    }
    items
}

fn measures() -> Vec<CompletionItem> {
    ProbeMeasure::ALL
        .iter()
        .map(|(name, _)| CompletionItem {
            label: (*name).to_owned(),
            kind: Some(CompletionItemKind::FIELD),
            ..CompletionItem::default()
        })
        .collect()
}

pub(super) fn markdown(value: String) -> Documentation {
    Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Completes at the `|` in `source` and returns the labels.
    fn labels_at(source: &str) -> Vec<String> {
        let offset = source.find('|').unwrap();
        let text = source.replace('|', "");
        let index = DocumentIndex::new(&text);
        complete(&index, offset)
            .into_iter()
            .map(|item| item.label)
            .collect()
    }

    const PROXY: &str = "target front = proxy { listen = 127.0.0.1:1, upstream = 127.0.0.1:2 }\n";

    const PREFIX: &str = "target web = process { command = [\"x\"] }\n\
                          experiment e {\n\
                          probe home = tcp 127.0.0.1:1\n\
                          step a = inject latency(delay = 1ms) on web for 1s\n";

    #[test]
    fn completion_contexts() {
        let all_faults = [
            "latency",
            "blackhole",
            "process_kill",
            "process_pause",
            "bandwidth",
            "slow_close",
            "timeout",
            "reset_peer",
            "slicer",
            "limit_data",
            "http_error",
            "http_abort",
            "http_delay",
            "auth_failure",
            "corrupt_file",
            "config_drift",
            "disk_fill",
            "netem",
            "link_bandwidth",
            "partition",
            "time_skew",
            "cpu_stress",
            "memory_stress",
            "io_stress",
            "cgroup_limit",
        ];
        let cases: Vec<(String, Vec<&str>)> = vec![
            ("use |".to_owned(), vec!["std"]),
            (
                "use std::|".to_owned(),
                vec!["alerts", "compliance", "faults", "recovery"],
            ),
            (
                "use std::recovery::|".to_owned(),
                vec![
                    "restart_and_verify",
                    "staged_readmission",
                    "blue_green_switch",
                    "breaker_and_restart",
                    "shed_and_restart",
                ],
            ),
            ("use std::faults::|".to_owned(), all_faults.to_vec()),
            (
                "use std::compliance::|".to_owned(),
                vec!["sox", "pci_dss", "hipaa", "gdpr", "nist", "iso27001"],
            ),
            (
                "use std::alerts::{recovery_slow, |}".to_owned(),
                vec![
                    "probe_failures_high",
                    "recovery_slow",
                    "blast_radius_wide",
                    "error_rate_high",
                ],
            ),
            (
                "use std::faults::{latency, |}".to_owned(),
                all_faults.to_vec(),
            ),
            (format!("{PREFIX}step b = inject |"), all_faults.to_vec()),
            (format!("{PREFIX}step b = inject bla|"), all_faults.to_vec()),
            (
                format!("{PREFIX}step b = inject blackhole(direction = |"),
                vec!["upstream", "downstream", "both"],
            ),
            (
                format!("{PREFIX}step b = inject latency(|"),
                vec!["delay", "jitter", "direction"],
            ),
            (
                format!("{PREFIX}step b = inject latency(1ms, direction = both, |"),
                vec!["delay", "jitter"],
            ),
            (format!("{PREFIX}step b = inject nothing_known(|"), vec![]),
            (
                format!("{PREFIX}stop when home.|"),
                ProbeMeasure::ALL.iter().map(|(name, _)| *name).collect(),
            ),
            (
                format!("{PREFIX}recovery plan r {{ action x = restart w| }}"),
                vec!["web"],
            ),
            (
                format!("{PREFIX}recovery plan r {{ action x = wait 1s action y = wait 1s after |"),
                vec!["x", "y"],
            ),
            (
                format!("{PREFIX}recovery plan r = |"),
                vec![
                    "restart_and_verify",
                    "staged_readmission",
                    "blue_green_switch",
                    "breaker_and_restart",
                    "shed_and_restart",
                ],
            ),
            (
                format!("template plan mine(app: target) {{}}\n{PREFIX}recovery plan r = m|"),
                vec![
                    "mine",
                    "restart_and_verify",
                    "staged_readmission",
                    "blue_green_switch",
                    "breaker_and_restart",
                    "shed_and_restart",
                ],
            ),
            (
                format!("{PREFIX}recovery plan r = restart_and_verify(|"),
                vec!["app", "health", "action_timeout", "rto"],
            ),
            (
                format!("{PREFIX}recovery plan r = restart_and_verify(rto = 1m, |)"),
                vec!["app", "health", "action_timeout"],
            ),
            (
                format!("{PROXY}{PREFIX}recovery plan r = restart_and_verify(app = |"),
                vec!["front", "web"],
            ),
            (
                format!("{PROXY}{PREFIX}recovery plan r = shed_and_restart(front = |"),
                vec!["front"],
            ),
            (
                format!("{PROXY}{PREFIX}recovery plan r = shed_and_restart(hold = |"),
                vec![],
            ),
            (
                format!("{PREFIX}recovery plan r = restart_and_verify(health = h|"),
                vec!["home"],
            ),
            (
                format!(
                    "template plan mine(app: target, wait_for: duration = 5s) {{}}\n{PREFIX}\
                         recovery plan r = mine(|"
                ),
                vec!["app", "wait_for"],
            ),
        ];
        for (source, expected) in cases {
            assert_eq!(labels_at(&source), expected, "{source}");
        }
    }

    #[test]
    fn completion_anywhere_else_lists_keywords_and_names() {
        let labels = labels_at(&format!("{PREFIX}|"));
        assert_eq!(labels.len(), KEYWORDS.len() + 3);
        assert_eq!(labels[..2], ["use", "service"]);
        assert_eq!(labels[KEYWORDS.len()..], ["web", "home", "a"]);
    }
}

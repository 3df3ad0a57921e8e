//! Hover: the fault catalog's documentation on fault names and arguments,
//! the standard library's modules, compliance frameworks, alert rules and
//! recovery plan templates, and the declaration of a target, probe, step,
//! plan, template or action.

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::catalog::{CatalogFault, CatalogItem};
use super::index::{DeclKind, DocumentIndex};
use super::position::LineIndex;
use super::resolve::{Referent, resolve};
use crate::check::stdlib;

/// The number of lines of a declaration shown before it is cut short.
const MAX_DECL_LINES: usize = 10;

/// Describes the name at `offset`, or returns `None` when it refers to
/// nothing known.
pub fn hover(index: &DocumentIndex<'_>, offset: usize) -> Option<Hover> {
    let referent = resolve(index, offset)?;
    let text = match referent {
        Referent::Fault(name) => CatalogFault::find(&name)?.markdown(),
        Referent::StdlibItem { module, name } => CatalogItem::find(&module, &name)?.markdown(),
        Referent::Decl(decl) => describe_decl(index, decl),
        Referent::Module(path) => describe_module(&path)?,
        Referent::Param { fault, param } => {
            let fault = CatalogFault::find(&fault)?;
            let info = fault.params().into_iter().find(|info| info.name == param)?;
            format!("{}\n\nParameter of `{}`.", info.markdown(), fault.def.name)
        }
    };
    let token = index.code[index.code_token_at(offset)?];
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(LineIndex::new(index.source).range(token.span)),
    })
}

fn describe_decl(index: &DocumentIndex<'_>, decl: usize) -> String {
    let decl = &index.decls[decl];
    // A fault declared in the file being edited is usually the catalog
    // itself, whose rendering is richer than the source text.
    if decl.kind == DeclKind::Fault
        && let Some(fault) = CatalogFault::find(&decl.name)
    {
        return fault.markdown();
    }
    let text = &index.source[decl.span.start..decl.span.end];
    let mut lines: Vec<&str> = text.lines().take(MAX_DECL_LINES).collect();
    if text.lines().count() > MAX_DECL_LINES {
        lines.push("…");
    }
    let line_start = index.source[..decl.span.start]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let column = decl.span.start - line_start;
    format!("```chaos\n{}\n```", dedent(&lines, column).join("\n"))
}

/// Removes from the lines after the first the indentation of the first,
/// which starts at the declaration's keyword.
fn dedent(lines: &[&str], column: usize) -> Vec<String> {
    lines
        .iter()
        .enumerate()
        .map(|(number, line)| {
            // Only ASCII blanks are cut, so that the cut never splits a
            // character.
            let indent = line
                .bytes()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            let cut = if number == 0 { 0 } else { column.min(indent) };
            line[cut..].to_owned()
        })
        .collect()
}

/// Lists the items of a module by kind: fault kinds, compliance frameworks
/// and alert rules, leaving out the kinds the module has none of.
fn describe_module(path: &str) -> Option<String> {
    let module = stdlib::modules().get(path)?;
    let quoted = |names: Vec<&str>| -> Vec<String> {
        names.into_iter().map(|name| format!("`{name}`")).collect()
    };
    let faults = quoted(
        module
            .faults
            .iter()
            .map(|fault| fault.name.as_str())
            .collect(),
    );
    let frameworks = quoted(
        module
            .frameworks
            .iter()
            .map(|policy| policy.framework.name())
            .collect(),
    );
    let rules = quoted(
        module
            .alert_rules
            .iter()
            .map(|rule| rule.name.as_str())
            .collect(),
    );
    let templates = quoted(
        module
            .templates
            .iter()
            .map(|template| template.name.as_str())
            .collect(),
    );

    let mut text = format!("module `{path}`, from `{}`", module.file);
    for (heading, names) in [
        ("Faults", faults),
        ("Compliance frameworks", frameworks),
        ("Alert rules", rules),
        ("Recovery plan templates", templates),
    ] {
        if !names.is_empty() {
            text.push_str(&format!("\n\n{heading}: {}.", names.join(", ")));
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hover_text(source: &str, word: &str) -> Option<String> {
        let index = DocumentIndex::new(source);
        let offset = source.find(word).unwrap();
        let hover = hover(&index, offset)?;
        match hover.contents {
            HoverContents::Markup(markup) => Some(markup.value),
            other => panic!("unexpected contents {other:?}"),
        }
    }

    #[test]
    fn nested_declaration_is_dedented() {
        let source =
            "experiment e {\n    recovery plan restore {\n        action a = wait 1s\n    }\n}\n";
        let expected = "```chaos\nrecovery plan restore {\n    action a = wait 1s\n}\n```";
        assert_eq!(hover_text(source, "restore").as_deref(), Some(expected));
    }

    #[test]
    fn long_declaration_is_cut() {
        let body: String = (0..12).map(|i| format!("    key{i} = {i}\n")).collect();
        let source = format!("target t = process {{\n{body}}}\n");
        let text = hover_text(&source, "t =").unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), MAX_DECL_LINES + 3);
        assert_eq!(lines[1], "target t = process {");
        assert_eq!(lines[MAX_DECL_LINES + 1], "…");
    }

    #[test]
    fn module_lists_items_by_kind() {
        let source = "use std::compliance::sox\nuse std::alerts::recovery_slow";
        let expected = "module `std::compliance`, from `stdlib/compliance.chaos`\n\n\
                        Compliance frameworks: `sox`, `pci_dss`, `hipaa`, `gdpr`, `nist`, \
                        `iso27001`.";
        assert_eq!(hover_text(source, "compliance").as_deref(), Some(expected));
        let expected = "module `std::alerts`, from `stdlib/alerts.chaos`\n\n\
                        Alert rules: `probe_failures_high`, `recovery_slow`, \
                        `blast_radius_wide`, `error_rate_high`.";
        assert_eq!(hover_text(source, "alerts").as_deref(), Some(expected));
    }

    #[test]
    fn imported_alert_rule_shows_declaration() {
        let source = "use std::alerts::recovery_slow";
        let expected = CatalogItem::find("std::alerts", "recovery_slow")
            .unwrap()
            .markdown();
        assert_eq!(hover_text(source, "recovery_slow"), Some(expected));
    }

    #[test]
    fn unknown_fault_has_no_hover() {
        let source = "experiment e { step s = inject meteor() on x }";
        assert_eq!(hover_text(source, "meteor"), None);
    }
}

//! The standard library as an editor shows it: the fault catalog with
//! signatures, parameters with their types and defaults as written, and the
//! documentation comments, and the compliance frameworks and alert rules
//! with their declarations.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::check::stdlib::{self, Module};
use crate::check::{FaultDef, ParamDef};
use crate::model::ValueType;
use crate::syntax::{self, FaultDecl, Item, Span};

/// A fault kind of the standard library with its declaration.
pub struct CatalogFault {
    pub module: &'static Module,
    pub def: &'static FaultDef,
    decl: &'static FaultDecl,
}

/// The kind of a standard library item other than a fault kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Framework,
    AlertRule,
    Template,
}

impl ItemKind {
    /// Returns the words the documentation uses for this kind of item.
    pub fn words(self) -> &'static str {
        match self {
            ItemKind::Framework => "compliance framework",
            ItemKind::AlertRule => "alert rule",
            ItemKind::Template => "recovery plan template",
        }
    }
}

/// A compliance framework, alert rule or recovery plan template of the
/// standard library, with the place of its declaration in its module's
/// source.
#[derive(Debug, Clone)]
pub struct CatalogItem {
    pub module: &'static Module,
    pub kind: ItemKind,
    pub name: String,
    name_span: Span,
    /// The declaration from its keyword to its closing brace.
    span: Span,
}

/// One parameter of a fault, with its type and default as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamInfo {
    pub name: String,
    pub type_text: String,
    pub default_text: Option<String>,
    /// The members of an enumeration type, in declaration order.
    pub members: Vec<&'static str>,
}

impl CatalogFault {
    /// Finds a fault kind in the standard library.
    pub fn find(name: &str) -> Option<CatalogFault> {
        let (path, def) = stdlib::find_fault(name)?;
        let module = stdlib::modules().get(path)?;
        let decl = fault_decls().get(name)?;
        Some(CatalogFault { module, def, decl })
    }

    /// Returns every fault kind of the standard library, by module and name.
    pub fn all() -> Vec<CatalogFault> {
        stdlib::all_faults()
            .filter_map(|def| CatalogFault::find(&def.name))
            .collect()
    }

    /// Returns the span of the fault's name in its module's source.
    pub fn name_span(&self) -> Span {
        self.decl.name.span
    }

    /// Returns the span of parameter `name` in its module's source.
    pub fn param_span(&self, name: &str) -> Option<Span> {
        let param = self
            .decl
            .params
            .iter()
            .find(|param| param.name.name == name)?;
        Some(param.name.span)
    }

    /// Returns the fault's signature as written: `latency(delay: duration, ...)`.
    pub fn signature(&self) -> String {
        let params: Vec<&str> = self
            .decl
            .params
            .iter()
            .map(|param| self.text(param.span))
            .collect();
        format!("fault {}({})", self.def.name, params.join(", "))
    }

    /// Returns the parameters with their types and defaults as written.
    pub fn params(&self) -> Vec<ParamInfo> {
        self.decl
            .params
            .iter()
            .zip(&self.def.params)
            .map(|(param, def)| ParamInfo {
                name: param.name.name.clone(),
                type_text: self.text_of_type(param),
                default_text: param
                    .default
                    .as_ref()
                    .map(|value| self.text(value.span).to_owned()),
                members: members(def),
            })
            .collect()
    }

    /// Renders the hover text: signature, documentation, parameters and the
    /// catalog facts.
    pub fn markdown(&self) -> String {
        let mut text = format!("```chaos\n{}\n```\n\n", self.signature());
        if !self.def.doc.is_empty() {
            text.push_str(&self.def.doc.replace('\n', " "));
            text.push_str("\n\n");
        }
        if !self.def.params.is_empty() {
            text.push_str("Parameters:\n\n");
            for param in self.params() {
                text.push_str(&format!("- {}\n", param.markdown()));
            }
            text.push('\n');
        }
        let applies_to: Vec<String> = self
            .def
            .applies_to
            .iter()
            .map(|kind| format!("`{kind}`"))
            .collect();
        text.push_str(&format!(
            "Applies to: {}. Failure mode: `{}`. Category: `{}`. Privilege: `{}`.\n\n",
            applies_to.join(", "),
            self.def.mode,
            self.def.category,
            self.def.privilege,
        ));
        text.push_str(&format!("Defined in `{}`.", self.module.path));
        text
    }

    fn text(&self, span: Span) -> &'static str {
        &self.module.source[span.start..span.end]
    }

    fn text_of_type(&self, param: &syntax::Param) -> String {
        let name = &param.ty.name.name;
        if param.ty.is_list {
            format!("[{name}]")
        } else {
            name.clone()
        }
    }
}

impl ParamInfo {
    /// Renders one line: name, type, enumeration members and default.
    pub fn markdown(&self) -> String {
        let mut text = format!("`{}`: {}", self.name, self.type_text);
        if !self.members.is_empty() {
            let members: Vec<String> = self.members.iter().map(|m| format!("`{m}`")).collect();
            text.push_str(&format!(" (one of {})", members.join(", ")));
        }
        match &self.default_text {
            Some(default) => text.push_str(&format!(", default `{default}`")),
            None => text.push_str(", required"),
        }
        text
    }
}

impl CatalogItem {
    /// Finds a compliance framework, alert rule or template of module
    /// `module_path`.
    pub fn find(module_path: &str, name: &str) -> Option<CatalogItem> {
        CatalogItem::in_module(module_path)
            .into_iter()
            .find(|item| item.name == name)
    }

    /// Returns the compliance frameworks, alert rules and templates of module
    /// `module_path`, in declaration order.
    pub fn in_module(module_path: &str) -> Vec<CatalogItem> {
        let Some(module) = stdlib::modules().get(module_path) else {
            return Vec::new();
        };
        let Ok(file) = syntax::parse_file(module.source) else {
            return Vec::new();
        };
        file.items
            .iter()
            .filter_map(|item| match item {
                Item::Framework(decl) => Some((ItemKind::Framework, &decl.name, decl.span)),
                Item::Alert(decl) => Some((ItemKind::AlertRule, &decl.name, decl.span)),
                Item::Template(decl) => Some((ItemKind::Template, &decl.name, decl.span)),
                _ => None,
            })
            .map(|(kind, name, span)| CatalogItem {
                module,
                kind,
                name: name.name.clone(),
                name_span: name.span,
                span,
            })
            .collect()
    }

    /// Returns the span of the item's name in its module's source.
    pub fn name_span(&self) -> Span {
        self.name_span
    }

    /// Renders the hover text: the declaration as written, its
    /// documentation comment and its module.
    pub fn markdown(&self) -> String {
        let declaration = &self.module.source[self.span.start..self.span.end];
        let mut text = format!("```chaos\n{declaration}\n```\n\n");
        let doc = doc_comment_above(self.module.source, self.span.start);
        if !doc.is_empty() {
            text.push_str(&doc);
            text.push_str("\n\n");
        }
        text.push_str(&format!(
            "{} defined in `{}`.",
            capitalize(self.kind.words()),
            self.module.path
        ));
        text
    }
}

/// Joins the `///` lines right above the line of offset `start` into one
/// line of text.
fn doc_comment_above(source: &str, start: usize) -> String {
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let mut lines: Vec<&str> = source[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .take_while(|line| line.starts_with("///"))
        .map(|line| line.trim_start_matches('/').trim())
        .collect();
    lines.reverse();
    lines.join(" ")
}

fn capitalize(words: &str) -> String {
    let mut characters = words.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

/// Returns the fault declarations of every stdlib module, parsed once.
fn fault_decls() -> &'static BTreeMap<String, FaultDecl> {
    static DECLS: OnceLock<BTreeMap<String, FaultDecl>> = OnceLock::new();
    DECLS.get_or_init(|| {
        stdlib::modules()
            .values()
            .filter_map(|module| syntax::parse_file(module.source).ok())
            .flat_map(|file| file.items)
            .filter_map(|item| match item {
                Item::Fault(decl) => Some((decl.name.name.clone(), decl)),
                _ => None,
            })
            .collect()
    })
}

fn members(def: &ParamDef) -> Vec<&'static str> {
    match &def.ty {
        ValueType::Enum { members, .. } => members.clone(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_markdown() {
        let fault = CatalogFault::find("latency").unwrap();
        let expected = "```chaos\n\
            fault latency(delay: duration, jitter: duration = 0ms, \
            direction: direction = downstream)\n```\n\n\
            Delays the data a chaosc proxy forwards by `delay`, plus or minus a random \
            `jitter`, in one direction or both.\n\n\
            Parameters:\n\n\
            - `delay`: duration, required\n\
            - `jitter`: duration, default `0ms`\n\
            - `direction`: direction (one of `upstream`, `downstream`, `both`), \
            default `downstream`\n\n\
            Applies to: `proxy`. Failure mode: `dependency_failure`. Category: `network`. \
            Privilege: `user`.\n\n\
            Defined in `std::faults`.";
        assert_eq!(fault.markdown(), expected);
    }

    #[test]
    fn alert_rule_markdown() {
        let item = CatalogItem::find("std::alerts", "recovery_slow").unwrap();
        let expected = "```chaos\n\
            alert recovery_slow {\n    \
            description = \"recovery takes longer than 5 minutes\"\n    \
            severity = critical\n    \
            threshold \"chaosc_recovery_seconds\" gt 5m\n\
            }\n```\n\n\
            Recovery takes longer than five minutes.\n\n\
            Alert rule defined in `std::alerts`.";
        assert_eq!(item.markdown(), expected);
    }

    #[test]
    fn framework_without_doc_comment() {
        let item = CatalogItem::find("std::compliance", "sox").unwrap();
        let markdown = item.markdown();
        assert!(
            markdown.starts_with("```chaos\nframework sox {\n"),
            "{markdown}"
        );
        assert!(
            markdown.ends_with("}\n```\n\nCompliance framework defined in `std::compliance`."),
            "{markdown}"
        );
        assert_eq!(item.kind, ItemKind::Framework);
    }

    #[test]
    fn unknown_item_is_none() {
        assert!(CatalogItem::find("std::alerts", "latency").is_none());
        assert!(CatalogItem::find("std::faults", "sox").is_none());
    }

    #[test]
    fn unknown_fault_is_none() {
        assert!(CatalogFault::find("meteor_strike").is_none());
    }

    #[test]
    fn all_lists_catalog() {
        let names: Vec<String> = CatalogFault::all()
            .iter()
            .map(|f| f.def.name.clone())
            .collect();
        let expected = [
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
        assert_eq!(names, expected);
    }

    #[test]
    fn items_of_each_module() {
        let names = |path: &str| -> Vec<String> {
            CatalogItem::in_module(path)
                .into_iter()
                .map(|item| item.name)
                .collect()
        };
        assert_eq!(names("std::faults"), Vec::<String>::new());
        assert_eq!(
            names("std::compliance"),
            ["sox", "pci_dss", "hipaa", "gdpr", "nist", "iso27001"]
        );
        assert_eq!(
            names("std::alerts"),
            [
                "probe_failures_high",
                "recovery_slow",
                "blast_radius_wide",
                "error_rate_high"
            ]
        );
        assert!(CatalogItem::in_module("std::nothing").is_empty());
    }
}

//! A stdlib module that is scanned on first use and parsed only in the parts
//! a caller asks for: one fault at a time, and the frameworks, alert rules
//! and templates of the module together. A check of a file that imports one
//! fault parses that fault's few lines, not the whole standard library.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use super::index::{IndexedItem, ItemKind, index_items};
use super::{FaultDef, TemplateDef};
use crate::check::{compliance, faults, monitoring, templates};
use crate::model::{AlertRule, FrameworkPolicy};
use crate::syntax::{self, Item};

/// A stdlib module known by the index of its items.
#[derive(Debug)]
pub struct IndexedModule {
    pub path: &'static str,
    /// The file the module was read from, relative to the repository root.
    pub file: &'static str,
    pub source: &'static str,
    items: OnceLock<Vec<IndexedItem<'static>>>,
    /// The catalog entry of each item that is a fault, by item position,
    /// filled when the fault is first asked for.
    fault_defs: OnceLock<Vec<OnceLock<FaultDef>>>,
    contents: OnceLock<Contents>,
}

/// The items of a module other than faults, checked from one parse of the
/// whole module, because a template's declaration keeps spans into the
/// module's text.
#[derive(Debug, Default)]
pub(super) struct Contents {
    pub(super) frameworks: Vec<FrameworkPolicy>,
    pub(super) alert_rules: Vec<AlertRule>,
    pub(super) templates: Vec<TemplateDef>,
}

impl IndexedModule {
    /// Creates the module of `source`; nothing is scanned until it is used.
    pub fn new(path: &'static str, file: &'static str, source: &'static str) -> Self {
        IndexedModule {
            path,
            file,
            source,
            items: OnceLock::new(),
            fault_defs: OnceLock::new(),
            contents: OnceLock::new(),
        }
    }

    /// Lists the top-level items of the module in source order.
    pub fn items(&self) -> &[IndexedItem<'static>] {
        self.items.get_or_init(|| index_items(self.source))
    }

    /// Lists the names of the items of `kind`, in source order.
    pub fn names_of(&self, kind: ItemKind) -> impl Iterator<Item = &'static str> + '_ {
        self.items()
            .iter()
            .filter(move |item| item.kind == kind)
            .map(|item| item.name)
    }

    /// Lists the names of every item of the module: faults, frameworks,
    /// alert rules, then templates, the order of [`super::Module::item_names`].
    pub fn item_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        [
            ItemKind::Fault,
            ItemKind::Framework,
            ItemKind::Alert,
            ItemKind::Template,
        ]
        .into_iter()
        .flat_map(|kind| self.names_of(kind))
    }

    /// Tells whether the module declares an item of `kind` named `name`.
    fn declares(&self, kind: ItemKind, name: &str) -> bool {
        self.names_of(kind).any(|known| known == name)
    }

    /// Finds a fault kind by name, parsing its definition on first use.
    pub fn fault(&self, name: &str) -> Option<&FaultDef> {
        let position = self
            .items()
            .iter()
            .position(|item| item.kind == ItemKind::Fault && item.name == name)?;
        Some(self.fault_at(position))
    }

    /// Lists every fault kind of the module, parsing each on first use.
    pub fn faults(&self) -> impl Iterator<Item = &FaultDef> {
        let items = self.items().iter().enumerate();
        items
            .filter(|(_, item)| item.kind == ItemKind::Fault)
            .map(|(position, _)| self.fault_at(position))
    }

    /// Returns the definition of the fault at item `position`, parsing the
    /// fault's text alone on first use. A [`FaultDef`] keeps no span, so
    /// nothing in it depends on where in the module the text was.
    fn fault_at(&self, position: usize) -> &FaultDef {
        let cells = self.fault_defs.get_or_init(|| {
            let count = self.items().len();
            std::iter::repeat_with(OnceLock::new).take(count).collect()
        });
        cells[position].get_or_init(|| {
            let item = &self.items()[position];
            let text = &self.source[item.range.clone()];
            let file = self.file;
            let parsed = syntax::parse_file(text)
                .unwrap_or_else(|errors| panic!("stdlib `{file}` is invalid: {errors:?}"));
            let Some(Item::Fault(decl)) = parsed.items.first() else {
                panic!(
                    "stdlib `{file}`: the text of fault `{}` is not a fault",
                    item.name
                );
            };
            let mut diagnostics = Vec::new();
            faults::check_fault_decl(&mut diagnostics, decl)
                .unwrap_or_else(|| panic!("stdlib `{file}`: {diagnostics:?}"))
        })
    }

    /// Finds a compliance framework by name.
    pub fn framework(&self, name: &str) -> Option<&FrameworkPolicy> {
        if !self.declares(ItemKind::Framework, name) {
            return None;
        }
        self.frameworks()
            .iter()
            .find(|policy| policy.framework.name() == name)
    }

    /// Lists the compliance frameworks of the module.
    pub fn frameworks(&self) -> &[FrameworkPolicy] {
        &self.contents().frameworks
    }

    /// Finds an alert rule by name.
    pub fn alert_rule(&self, name: &str) -> Option<&AlertRule> {
        if !self.declares(ItemKind::Alert, name) {
            return None;
        }
        self.contents()
            .alert_rules
            .iter()
            .find(|rule| rule.name == name)
    }

    /// Finds a recovery plan template by name.
    pub fn template(&self, name: &str) -> Option<&TemplateDef> {
        if !self.declares(ItemKind::Template, name) {
            return None;
        }
        self.templates()
            .iter()
            .find(|template| template.name == name)
    }

    /// Lists the recovery plan templates of the module.
    pub fn templates(&self) -> &[TemplateDef] {
        &self.contents().templates
    }

    /// Returns the frameworks, alert rules and templates, parsing the whole
    /// module on first use. A module without any, such as `std::faults`, is
    /// never parsed here.
    fn contents(&self) -> &Contents {
        self.contents.get_or_init(|| {
            let has_contents = self.items().iter().any(|item| item.kind != ItemKind::Fault);
            if has_contents {
                self.parse_contents()
            } else {
                Contents::default()
            }
        })
    }

    fn parse_contents(&self) -> Contents {
        let (file, source) = (self.file, self.source);
        let parsed = syntax::parse_file(source)
            .unwrap_or_else(|errors| panic!("stdlib `{file}` is invalid: {errors:?}"));
        // `forbid` may name any fault kind of the catalog; the index has
        // their names without parsing them.
        let fault_kinds: Vec<&str> = super::fault_names().collect();
        check_contents(file, source, &parsed, &fault_kinds)
    }
}

/// Checks the frameworks, alert rules and templates of a parsed stdlib
/// module; `fault_kinds` are the names a framework may forbid.
pub(super) fn check_contents(
    file: &str,
    source: &str,
    parsed: &syntax::File,
    fault_kinds: &[&str],
) -> Contents {
    let mut contents = Contents::default();
    let mut diagnostics = Vec::new();
    for item in &parsed.items {
        match item {
            Item::Framework(decl) => contents.frameworks.extend(compliance::check_framework(
                &mut diagnostics,
                decl,
                fault_kinds,
                source,
            )),
            Item::Alert(decl) => contents.alert_rules.extend(monitoring::check_alert(
                &mut diagnostics,
                decl,
                &BTreeSet::new(),
            )),
            Item::Template(decl) => contents.templates.extend(templates::check_template_decl(
                &mut diagnostics,
                decl,
                source,
            )),
            _ => {}
        }
    }
    assert!(
        diagnostics.is_empty(),
        "stdlib `{file}` is invalid: {diagnostics:?}"
    );
    contents
}

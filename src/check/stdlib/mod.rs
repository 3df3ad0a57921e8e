//! The standard library: `.chaos` files embedded in the binary and imported
//! with `use std::...`. `std::faults` is the fault catalog (each fault's
//! parameters, types, defaults and the targets it acts on),
//! `std::compliance` the policy data of the compliance frameworks,
//! `std::alerts` the default alert rules, and `std::recovery` the recovery
//! plan templates.
//!
//! The checker reads the library through [`library`]: each module is
//! scanned into an index of its items and parsed only in the parts a file
//! uses, so that checking a small file does not parse the whole library.
//! [`modules`] parses every module at once, for the language server, which
//! shows all of it.

mod index;
mod indexed;

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use index::{IndexedItem, ItemKind};
pub use indexed::IndexedModule;

use super::templates::TemplateDef;
use crate::model::{
    AlertRule, Category, ComplianceFramework, FailureMode, FrameworkPolicy, Privilege, RevertKind,
    TargetKind, TypedValue, ValueType,
};
use crate::syntax::{self, Item};

/// The embedded stdlib files: module path, file path, text.
pub const MODULES: &[(&str, &str, &str)] = &[
    (
        "std::faults",
        "stdlib/faults.chaos",
        include_str!("../../../stdlib/faults.chaos"),
    ),
    (
        "std::compliance",
        "stdlib/compliance.chaos",
        include_str!("../../../stdlib/compliance.chaos"),
    ),
    (
        "std::alerts",
        "stdlib/alerts.chaos",
        include_str!("../../../stdlib/alerts.chaos"),
    ),
    (
        "std::recovery",
        "stdlib/recovery.chaos",
        include_str!("../../../stdlib/recovery.chaos"),
    ),
];

/// One parameter of a fault kind.
#[derive(Debug, Clone)]
pub struct ParamDef {
    pub name: String,
    pub ty: ValueType,
    /// The value used when a step leaves the parameter out; `None` makes the
    /// parameter required.
    pub default: Option<TypedValue>,
}

/// A fault kind of the catalog.
#[derive(Debug, Clone)]
pub struct FaultDef {
    pub name: String,
    pub params: Vec<ParamDef>,
    pub applies_to: Vec<TargetKind>,
    pub mode: FailureMode,
    pub category: Category,
    pub privilege: Privilege,
    /// The way reverting the fault restores its target.
    pub revert: RevertKind,
    /// The documentation written above the definition.
    pub doc: String,
}

/// A module of the standard library.
#[derive(Debug)]
pub struct Module {
    pub path: &'static str,
    /// The file the module was read from, relative to the repository root.
    pub file: &'static str,
    pub source: &'static str,
    pub faults: Vec<FaultDef>,
    pub frameworks: Vec<FrameworkPolicy>,
    pub alert_rules: Vec<AlertRule>,
    pub templates: Vec<TemplateDef>,
}

impl Module {
    /// Finds a fault kind by name.
    pub fn fault(&self, name: &str) -> Option<&FaultDef> {
        self.faults.iter().find(|fault| fault.name == name)
    }

    /// Finds a compliance framework by name.
    pub fn framework(&self, name: &str) -> Option<&FrameworkPolicy> {
        self.frameworks
            .iter()
            .find(|policy| policy.framework.name() == name)
    }

    /// Finds an alert rule by name.
    pub fn alert_rule(&self, name: &str) -> Option<&AlertRule> {
        self.alert_rules.iter().find(|rule| rule.name == name)
    }

    /// Finds a recovery plan template by name.
    pub fn template(&self, name: &str) -> Option<&TemplateDef> {
        self.templates.iter().find(|template| template.name == name)
    }

    /// Lists the names of every item of the module.
    pub fn item_names(&self) -> impl Iterator<Item = String> + '_ {
        let faults = self.faults.iter().map(|fault| fault.name.clone());
        let frameworks = self
            .frameworks
            .iter()
            .map(|policy| policy.framework.name().to_owned());
        let rules = self.alert_rules.iter().map(|rule| rule.name.clone());
        let templates = self.templates.iter().map(|template| template.name.clone());
        faults.chain(frameworks).chain(rules).chain(templates)
    }
}

/// Returns the modules of the standard library, parsed once.
pub fn modules() -> &'static BTreeMap<&'static str, Module> {
    static MODULES_CELL: OnceLock<BTreeMap<&'static str, Module>> = OnceLock::new();
    MODULES_CELL.get_or_init(load_modules)
}

/// Parses and checks the embedded files. Fault kinds are read first, since
/// compliance policies name them.
fn load_modules() -> BTreeMap<&'static str, Module> {
    // The embedded files are checked by the test suite, so a failure here
    // is a bug in chaosc, not in the user's input.
    let parsed: Vec<(&str, &str, &str, syntax::File)> = MODULES
        .iter()
        .map(|(path, file, source)| {
            let parsed = syntax::parse_file(source)
                .unwrap_or_else(|errors| panic!("stdlib `{file}` is invalid: {errors:?}"));
            (*path, *file, *source, parsed)
        })
        .collect();

    let mut faults: Vec<FaultDef> = Vec::new();
    for (_, file, _, parsed) in &parsed {
        for item in &parsed.items {
            if let Item::Fault(decl) = item {
                let mut diagnostics = Vec::new();
                let def = super::faults::check_fault_decl(&mut diagnostics, decl);
                faults.push(def.unwrap_or_else(|| panic!("stdlib `{file}`: {diagnostics:?}")));
            }
        }
    }

    let fault_kinds: Vec<&str> = faults.iter().map(|fault| fault.name.as_str()).collect();
    let mut modules = BTreeMap::new();
    for (path, file, source, parsed) in &parsed {
        let contents = indexed::check_contents(file, source, parsed, &fault_kinds);
        let module_faults = parsed.items.iter().filter_map(|item| match item {
            Item::Fault(decl) => faults.iter().find(|fault| fault.name == decl.name.name),
            _ => None,
        });
        let module = Module {
            path,
            file,
            source,
            faults: module_faults.cloned().collect(),
            frameworks: contents.frameworks,
            alert_rules: contents.alert_rules,
            templates: contents.templates,
        };
        modules.insert(*path, module);
    }
    modules
}

/// Returns the modules of the standard library by path, each scanned and
/// parsed on first use of its items.
pub fn library() -> &'static BTreeMap<&'static str, IndexedModule> {
    static LIBRARY: OnceLock<BTreeMap<&'static str, IndexedModule>> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        MODULES
            .iter()
            .map(|(path, file, source)| (*path, IndexedModule::new(path, file, source)))
            .collect()
    })
}

/// Finds a fault kind in any stdlib module, with the module's path.
pub fn find_fault(name: &str) -> Option<(&'static str, &'static FaultDef)> {
    library()
        .values()
        .find_map(|module| module.fault(name).map(|fault| (module.path, fault)))
}

/// Lists every fault kind of the catalog, parsing each on first use.
pub fn all_faults() -> impl Iterator<Item = &'static FaultDef> {
    library().values().flat_map(IndexedModule::faults)
}

/// Lists the names of every fault kind of the catalog from the index,
/// without parsing any fault.
pub fn fault_names() -> impl Iterator<Item = &'static str> {
    library()
        .values()
        .flat_map(|module| module.names_of(ItemKind::Fault))
}

/// Finds a recovery plan template in any stdlib module, with the module's
/// path.
pub fn find_template(name: &str) -> Option<(&'static str, &'static TemplateDef)> {
    library().values().find_map(|module| {
        module
            .template(name)
            .map(|template| (module.path, template))
    })
}

/// Lists every recovery plan template of the standard library.
pub fn all_templates() -> impl Iterator<Item = &'static TemplateDef> {
    library()
        .values()
        .flat_map(|module| module.templates().iter())
}

/// Lists every compliance framework of the standard library.
pub fn frameworks() -> impl Iterator<Item = &'static FrameworkPolicy> {
    library()
        .values()
        .flat_map(|module| module.frameworks().iter())
}

/// Lists every compliance framework of the standard library with the text
/// of its declaration, the [`FrameworkPolicy::text`] that the policy
/// identity hashes, read from the index without parsing.
pub fn framework_texts() -> impl Iterator<Item = (ComplianceFramework, &'static str)> {
    library().values().flat_map(|module| {
        let items = module.items().iter();
        let frameworks = items.filter(|item| item.kind == ItemKind::Framework);
        frameworks.map(|item| {
            let framework = ComplianceFramework::from_name(item.name).unwrap_or_else(|| {
                panic!(
                    "stdlib `{}`: `{}` is not a framework",
                    module.file, item.name
                )
            });
            (framework, &module.source[item.keyword..item.range.end])
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Span;

    /// Renders definitions for comparison; the definitions have no
    /// `PartialEq`, and their debug form shows every field.
    fn rendered<T: std::fmt::Debug>(items: impl IntoIterator<Item = T>) -> Vec<String> {
        items.into_iter().map(|item| format!("{item:?}")).collect()
    }

    #[test]
    fn library_has_every_module() {
        let library: Vec<&str> = library().keys().copied().collect();
        let parsed: Vec<&str> = modules().keys().copied().collect();
        assert_eq!(library, parsed);
    }

    #[test]
    fn library_matches_full_parse() {
        for (path, module) in modules() {
            let indexed = &library()[path];
            assert_eq!(indexed.file, module.file, "{path}");
            let names: Vec<String> = indexed.item_names().map(str::to_owned).collect();
            assert_eq!(names, module.item_names().collect::<Vec<_>>(), "{path}");
            assert_eq!(
                rendered(indexed.faults()),
                rendered(&module.faults),
                "{path}"
            );
            assert_eq!(
                rendered(indexed.frameworks()),
                rendered(&module.frameworks),
                "{path}"
            );
            assert_eq!(
                rendered(indexed.templates()),
                rendered(&module.templates),
                "{path}"
            );
            let rules = module
                .alert_rules
                .iter()
                .map(|rule| indexed.alert_rule(&rule.name));
            assert_eq!(
                rendered(rules),
                rendered(module.alert_rules.iter().map(Some))
            );
        }
    }

    #[test]
    fn library_finds_each_item_by_name() {
        for (path, module) in modules() {
            let indexed = &library()[path];
            for fault in &module.faults {
                let found = indexed.fault(&fault.name).map(|def| format!("{def:?}"));
                assert_eq!(found, Some(format!("{fault:?}")), "{path}");
            }
            for policy in &module.frameworks {
                let found = indexed.framework(policy.framework.name());
                assert_eq!(rendered(found), rendered(Some(policy)), "{path}");
            }
            for template in &module.templates {
                let found = indexed.template(&template.name);
                assert_eq!(rendered(found), rendered(Some(template)), "{path}");
            }
            assert!(indexed.fault("no_such_item").is_none());
            assert!(indexed.framework("no_such_item").is_none());
            assert!(indexed.alert_rule("no_such_item").is_none());
            assert!(indexed.template("no_such_item").is_none());
        }
    }

    #[test]
    fn lookups_match_full_parse() {
        let parsed_faults = modules().values().flat_map(|module| &module.faults);
        assert_eq!(rendered(all_faults()), rendered(parsed_faults.clone()));
        let names: Vec<&str> = parsed_faults.map(|fault| fault.name.as_str()).collect();
        assert_eq!(fault_names().collect::<Vec<_>>(), names);

        let parsed_frameworks = modules().values().flat_map(|module| &module.frameworks);
        assert_eq!(rendered(frameworks()), rendered(parsed_frameworks));
        let parsed_templates = modules().values().flat_map(|module| &module.templates);
        assert_eq!(rendered(all_templates()), rendered(parsed_templates));

        for module in modules().values() {
            for fault in &module.faults {
                let found = find_fault(&fault.name).map(|(path, def)| (path, format!("{def:?}")));
                assert_eq!(found, Some((module.path, format!("{fault:?}"))));
            }
            for template in &module.templates {
                let found = find_template(&template.name).map(|(path, _)| path);
                assert_eq!(found, Some(module.path));
            }
        }
    }

    #[test]
    fn framework_texts_match_full_parse() {
        let texts: Vec<(ComplianceFramework, &str)> = framework_texts().collect();
        let parsed = modules().values().flat_map(|module| &module.frameworks);
        let parsed: Vec<(ComplianceFramework, &str)> = parsed
            .map(|policy| (policy.framework, policy.text.as_str()))
            .collect();
        assert_eq!(texts, parsed);
    }

    /// Lists the `fault`, `framework`, `alert` and `template` items that the
    /// parser finds, with their kind, name and declaration span.
    fn parsed_items(source: &str) -> Vec<(ItemKind, String, Span)> {
        let file = syntax::parse_file(source).unwrap();
        file.items
            .iter()
            .filter_map(|item| {
                let (kind, name) = match item {
                    Item::Fault(decl) => (ItemKind::Fault, &decl.name.name),
                    Item::Framework(decl) => (ItemKind::Framework, &decl.name.name),
                    Item::Alert(decl) => (ItemKind::Alert, &decl.name.name),
                    Item::Template(decl) => (ItemKind::Template, &decl.name.name),
                    _ => return None,
                };
                Some((kind, name.clone(), item.span()))
            })
            .collect()
    }

    #[test]
    fn index_matches_parser() {
        for (_, file, source) in MODULES {
            let indexed: Vec<(ItemKind, String, Span)> = index::index_items(source)
                .iter()
                .map(|item| {
                    let span = Span::new(item.keyword, item.range.end);
                    (item.kind, item.name.to_owned(), span)
                })
                .collect();
            assert_eq!(indexed, parsed_items(source), "{file}");
        }
    }

    #[test]
    fn index_range_parses_alone() {
        for (_, file, source) in MODULES {
            for item in index::index_items(source) {
                let parsed = parsed_items(&source[item.range.clone()]);
                assert_eq!(parsed.len(), 1, "{file}: `{}`", item.name);
                assert_eq!((parsed[0].0, parsed[0].1.as_str()), (item.kind, item.name));
            }
        }
    }
}

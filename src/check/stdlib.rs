//! The standard library: `.chaos` files embedded in the binary and imported
//! with `use std::...`. `std::faults` is the fault catalog (each fault's
//! parameters, types, defaults and the targets it acts on),
//! `std::compliance` the policy data of the compliance frameworks,
//! `std::alerts` the default alert rules, and `std::recovery` the recovery
//! plan templates.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::templates::TemplateDef;
use crate::model::{
    AlertRule, Category, FailureMode, FrameworkPolicy, Privilege, RevertKind, TargetKind,
    TypedValue, ValueType,
};
use crate::syntax::{self, Item};

/// The embedded stdlib files: module path, file path, text.
pub const MODULES: &[(&str, &str, &str)] = &[
    (
        "std::faults",
        "stdlib/faults.chaos",
        include_str!("../../stdlib/faults.chaos"),
    ),
    (
        "std::compliance",
        "stdlib/compliance.chaos",
        include_str!("../../stdlib/compliance.chaos"),
    ),
    (
        "std::alerts",
        "stdlib/alerts.chaos",
        include_str!("../../stdlib/alerts.chaos"),
    ),
    (
        "std::recovery",
        "stdlib/recovery.chaos",
        include_str!("../../stdlib/recovery.chaos"),
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
    /// How reverting the fault restores its target.
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

    let all_faults: Vec<&FaultDef> = faults.iter().collect();
    let mut modules = BTreeMap::new();
    for (path, file, source, parsed) in &parsed {
        let mut module = Module {
            path,
            file,
            source,
            faults: Vec::new(),
            frameworks: Vec::new(),
            alert_rules: Vec::new(),
            templates: Vec::new(),
        };
        let mut diagnostics = Vec::new();
        for item in &parsed.items {
            match item {
                Item::Fault(decl) => {
                    let def = faults.iter().find(|fault| fault.name == decl.name.name);
                    module.faults.extend(def.cloned());
                }
                Item::Framework(decl) => module.frameworks.extend(
                    super::compliance::check_framework(&mut diagnostics, decl, &all_faults, source),
                ),
                Item::Alert(decl) => module.alert_rules.extend(super::monitoring::check_alert(
                    &mut diagnostics,
                    decl,
                    &BTreeSet::new(),
                )),
                Item::Template(decl) => {
                    module
                        .templates
                        .extend(super::templates::check_template_decl(
                            &mut diagnostics,
                            decl,
                            source,
                        ))
                }
                _ => {}
            }
        }
        assert!(
            diagnostics.is_empty(),
            "stdlib `{file}` is invalid: {diagnostics:?}"
        );
        modules.insert(*path, module);
    }
    modules
}

/// Finds a fault kind in any stdlib module, with the module's path.
pub fn find_fault(name: &str) -> Option<(&'static str, &'static FaultDef)> {
    modules()
        .values()
        .find_map(|module| module.fault(name).map(|fault| (module.path, fault)))
}

/// Every fault kind of the catalog.
pub fn all_faults() -> impl Iterator<Item = &'static FaultDef> {
    modules().values().flat_map(|module| module.faults.iter())
}

/// Finds a recovery plan template in any stdlib module, with the module's
/// path.
pub fn find_template(name: &str) -> Option<(&'static str, &'static TemplateDef)> {
    modules().values().find_map(|module| {
        module
            .template(name)
            .map(|template| (module.path, template))
    })
}

/// Lists every recovery plan template of the standard library.
pub fn all_templates() -> impl Iterator<Item = &'static TemplateDef> {
    modules()
        .values()
        .flat_map(|module| module.templates.iter())
}

/// Every compliance framework of the standard library.
pub fn frameworks() -> impl Iterator<Item = &'static FrameworkPolicy> {
    modules()
        .values()
        .flat_map(|module| module.frameworks.iter())
}

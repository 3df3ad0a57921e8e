//! The standard library: `.chaos` files embedded in the binary and imported
//! with `use std::...`. The fault catalog in `std::faults` tells the checker
//! each fault's parameters, types, defaults and the targets it acts on.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::model::{Category, FailureMode, Privilege, TargetKind, TypedValue, ValueType};
use crate::syntax::{self, FaultDecl, Item};

/// The embedded stdlib files, by module path.
const MODULES: &[(&str, &str, &str)] = &[(
    "std::faults",
    "stdlib/faults.chaos",
    include_str!("../../stdlib/faults.chaos"),
)];

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
}

impl Module {
    /// Finds a fault kind by name.
    pub fn fault(&self, name: &str) -> Option<&FaultDef> {
        self.faults.iter().find(|fault| fault.name == name)
    }
}

/// Returns the modules of the standard library, parsed once.
pub fn modules() -> &'static BTreeMap<&'static str, Module> {
    static MODULES_CELL: OnceLock<BTreeMap<&'static str, Module>> = OnceLock::new();
    MODULES_CELL.get_or_init(|| {
        MODULES
            .iter()
            .map(|(path, file, source)| {
                // The embedded files are checked by the test suite, so a
                // failure here is a bug in chaosc, not in the user's input.
                let parsed = syntax::parse_file(source).expect("the stdlib parses");
                let faults = parsed
                    .items
                    .iter()
                    .filter_map(|item| match item {
                        Item::Fault(fault) => Some(fault_def(fault)),
                        _ => None,
                    })
                    .collect();
                (
                    *path,
                    Module {
                        path,
                        file,
                        source,
                        faults,
                    },
                )
            })
            .collect()
    })
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

fn fault_def(decl: &FaultDecl) -> FaultDef {
    let mut diagnostics = Vec::new();
    let def = super::faults::check_fault_decl(&mut diagnostics, decl);
    // The test suite checks every stdlib file, so a failure here is a bug in
    // chaosc, not in the user's input.
    def.unwrap_or_else(|| {
        panic!(
            "stdlib fault `{}` is invalid: {diagnostics:?}",
            decl.name.name
        )
    })
}

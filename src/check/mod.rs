//! The checker: resolves names, types values, and proves the safety,
//! blast-radius and graph properties of a file before anything runs. It
//! reports every finding of a file, not only the first, and builds the typed
//! [`Model`] when there is no error.

mod error;
mod experiment;
mod faults;
mod graph;
pub(crate) mod probes;
mod recovery;
mod schema;
pub mod stdlib;
mod steps;
pub(crate) mod suggest;
mod targets;
mod types;

use std::collections::{BTreeMap, BTreeSet};

pub use error::CheckError;
pub use experiment::format_duration;
pub use graph::critical_path;
use miette::Diagnostic;
pub use probes::parse_http_url;
pub use stdlib::{FaultDef, ParamDef};

use crate::model::{Model, Target};
use crate::syntax::{self, Item, Span, SyntaxError, TargetDecl, UseNames};

/// The result of checking one file.
#[derive(Debug)]
pub struct CheckOutput {
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<CheckError>,
    /// The typed model, when no diagnostic is an error.
    pub model: Option<Model>,
}

impl CheckOutput {
    /// Tells whether any diagnostic is an error rather than a warning.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(is_error)
    }
}

/// Tells whether a diagnostic is an error rather than a warning.
pub fn is_error(diagnostic: &CheckError) -> bool {
    !matches!(
        diagnostic.severity(),
        Some(miette::Severity::Warning | miette::Severity::Advice)
    )
}

/// Parses and checks the text of one file.
pub fn check_source(source: &str) -> Result<CheckOutput, SyntaxError> {
    let file = syntax::parse_file(source)?;
    Ok(check_file(&file, source))
}

/// Checks a parsed file.
pub fn check_file(file: &syntax::File, source: &str) -> CheckOutput {
    let mut checker = Checker::new(source);
    checker.check(file);

    let mut diagnostics = checker.diagnostics;
    diagnostics.sort_by_key(|diagnostic| {
        diagnostic
            .labels()
            .and_then(|mut labels| labels.next())
            .map_or(0, |label| label.offset())
    });
    let has_errors = diagnostics.iter().any(is_error);
    let model = (!has_errors).then_some(checker.model);
    CheckOutput { diagnostics, model }
}

/// A fault kind in scope, with whether anything used it.
struct ImportedFault {
    def: FaultDef,
    span: Span,
    is_used: bool,
    /// Imports are reported when unused; local definitions are not.
    is_import: bool,
}

/// The state of one check.
struct Checker<'src> {
    source: &'src str,
    diagnostics: Vec<CheckError>,
    faults: BTreeMap<String, ImportedFault>,
    targets: BTreeMap<String, &'src TargetDecl>,
    used_targets: BTreeSet<String>,
    model: Model,
}

impl<'src> Checker<'src> {
    fn new(source: &'src str) -> Self {
        Checker {
            source,
            diagnostics: Vec::new(),
            faults: BTreeMap::new(),
            targets: BTreeMap::new(),
            used_targets: BTreeSet::new(),
            model: Model::default(),
        }
    }

    fn report(&mut self, error: CheckError) {
        self.diagnostics.push(error);
    }

    fn check(&mut self, file: &'src syntax::File) {
        if file.items.is_empty() {
            self.report(CheckError::EmptyFile {
                span: (0, 0).into(),
            });
            return;
        }
        self.check_unique_names(file);
        for item in &file.items {
            match item {
                Item::Use(decl) => self.check_use(decl),
                Item::Fault(decl) => {
                    if let Some(def) = faults::check_fault_decl(&mut self.diagnostics, decl) {
                        let entry = ImportedFault {
                            def,
                            span: decl.name.span,
                            is_used: false,
                            is_import: false,
                        };
                        self.faults.insert(decl.name.name.clone(), entry);
                    }
                }
                _ => {}
            }
        }

        for item in &file.items {
            match item {
                Item::Target(decl) => {
                    self.targets.insert(decl.name.name.clone(), decl);
                    if let Some(target) = targets::check_target(&mut self.diagnostics, decl) {
                        self.model.targets.push(target);
                    }
                }
                Item::Service(decl) => targets::check_service(&mut self.diagnostics, decl),
                _ => {}
            }
        }

        for item in &file.items {
            if let Item::Experiment(decl) = item
                && let Some(experiment) = self.check_experiment(decl)
            {
                self.model.experiments.push(experiment);
            }
        }
        self.check_unused(file);
    }

    /// Reports names declared twice among the top-level items.
    fn check_unique_names(&mut self, file: &syntax::File) {
        let mut seen: BTreeMap<(&str, &str), Span> = BTreeMap::new();
        for item in &file.items {
            let (kind, name) = match item {
                Item::Target(decl) => ("target", &decl.name),
                Item::Service(decl) => ("service", &decl.name),
                Item::Fault(decl) => ("fault", &decl.name),
                Item::Experiment(decl) => ("experiment", &decl.name),
                Item::Use(_) => continue,
            };
            if let Some(first) = seen.insert((kind, &name.name), name.span) {
                self.report(CheckError::Duplicate {
                    kind,
                    name: name.name.clone(),
                    span: name.span.into(),
                    first: first.into(),
                });
            }
        }
    }

    fn check_use(&mut self, decl: &syntax::UseDecl) {
        let path: Vec<&str> = decl.module.iter().map(|part| part.name.as_str()).collect();
        let path = path.join("::");
        let modules = stdlib::modules();
        let Some(module) = modules.get(path.as_str()) else {
            let span = decl.module.first().map_or(decl.span, |first| {
                first
                    .span
                    .to(decl.module.last().map_or(first.span, |last| last.span))
            });
            let known = modules.keys().copied();
            self.report(CheckError::UnknownModule {
                module: path,
                span: span.into(),
                help: Some(schema::known_names_help("", known)),
            });
            return;
        };

        let names: Vec<(String, Span)> = match &decl.names {
            UseNames::Names(names) => names.iter().map(|n| (n.name.clone(), n.span)).collect(),
            UseNames::Glob(span) => module
                .faults
                .iter()
                .map(|f| (f.name.clone(), *span))
                .collect(),
        };
        let is_glob = matches!(decl.names, UseNames::Glob(_));
        for (name, span) in names {
            let Some(def) = module.fault(&name) else {
                let known = module.faults.iter().map(|fault| fault.name.as_str());
                self.report(CheckError::UnknownImport {
                    module: path.clone(),
                    name,
                    span: span.into(),
                    help: Some(schema::known_names_help("", known)),
                });
                continue;
            };
            let entry = ImportedFault {
                def: def.clone(),
                span,
                is_used: false,
                is_import: !is_glob,
            };
            if let Some(previous) = self.faults.insert(name.clone(), entry) {
                self.report(CheckError::Duplicate {
                    kind: "import",
                    name,
                    span: span.into(),
                    first: previous.span.into(),
                });
            }
        }
    }

    /// Warns about imports and targets that nothing uses.
    fn check_unused(&mut self, file: &syntax::File) {
        let has_experiment = file
            .items
            .iter()
            .any(|item| matches!(item, Item::Experiment(_)));
        if !has_experiment {
            return;
        }
        let unused_imports: Vec<CheckError> = self
            .faults
            .iter()
            .filter(|(_, fault)| fault.is_import && !fault.is_used)
            .map(|(name, fault)| CheckError::Unused {
                kind: "import",
                name: name.clone(),
                span: fault.span.into(),
                help: Some("remove it from the `use` list".to_owned()),
            })
            .collect();
        self.diagnostics.extend(unused_imports);

        let unused_targets: Vec<CheckError> = self
            .targets
            .iter()
            .filter(|(name, _)| !self.used_targets.contains(*name))
            .map(|(name, decl)| CheckError::Unused {
                kind: "target",
                name: name.clone(),
                span: decl.name.span.into(),
                help: Some("inject a fault on it in a step, or remove it".to_owned()),
            })
            .collect();
        self.diagnostics.extend(unused_targets);
    }

    /// Returns the checked target named `name`.
    fn target(&self, name: &str) -> Option<&Target> {
        self.model.target(name)
    }
}

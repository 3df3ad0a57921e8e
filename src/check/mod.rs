//! The checker: resolves names, types values, and proves the safety,
//! blast-radius and graph properties of a file before anything runs. It
//! reports every finding of a file, not only the first, and builds the typed
//! [`Model`] when there is no error.

// Typing functions return a `CheckError` by value: it is built only on the
// error path and pushed straight into the list of findings, so its size
// costs nothing on the path that succeeds.
#![allow(clippy::result_large_err)]

mod actions;
mod arguments;
mod blast_radius;
mod compliance;
mod compute;
mod error;
mod experiment;
mod faults;
mod graph;
mod host_targets;
mod imports;
mod json_fields;
mod lints;
mod metadata;
mod monitoring;
mod observing;
pub(crate) mod probes;
mod recovery;
pub mod risk;
mod schedule;
mod schema;
mod services;
mod sovereignty;
pub mod stdlib;
mod steps;
pub(crate) mod suggest;
mod targets;
mod templates;
mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use arguments::{http_status_problem, time_skew_offset_problem};
pub use compliance::{policy_hash, policy_hash_of_texts};
pub use compute::MAX_STRESS_WORKERS;
pub use error::CheckError;
pub use experiment::format_duration;
pub use graph::DependencyGraph;
pub use graph::critical_path;
pub use host_targets::path_problem;
use miette::Diagnostic;
pub use probes::parse_http_url;
pub use stdlib::{FaultDef, ParamDef};
pub use templates::{ParamType, TemplateDef, TemplateParam};
pub use types::MAX_DURATION;

use crate::model::{Model, Target};
use crate::syntax::{self, Item, Span, SyntaxError, UseNames};

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

/// Parses and checks the text of one file; `use "./other.chaos"` imports
/// are resolved against the current directory.
pub fn check_source(source: &str) -> Result<CheckOutput, Vec<SyntaxError>> {
    let file = syntax::parse_file(source)?;
    Ok(check_file(&file, source))
}

/// Parses and checks the file at `path`, whose text is `source`; `use
/// "./other.chaos"` imports are resolved relative to its directory.
pub fn check_file_at(path: &Path, source: &str) -> Result<CheckOutput, Vec<SyntaxError>> {
    check_file_under_policy(path, source, crate::governance::policy::DEFAULT_POLICY)
}

/// Parses and checks the file at `path` like [`check_file_at`], with
/// `governance_policy` as the text of the governance policy in force, which
/// the policy identity that a file may pin covers.
pub fn check_file_under_policy(
    path: &Path,
    source: &str,
    governance_policy: &str,
) -> Result<CheckOutput, Vec<SyntaxError>> {
    let file = syntax::parse_file(source)?;
    Ok(check_parsed_under_policy(
        path,
        source,
        &file,
        governance_policy,
    ))
}

/// Checks the file at `path` like [`check_file_under_policy`], given `file`,
/// the parse of its text `source`.
pub fn check_parsed_under_policy(
    path: &Path,
    source: &str,
    file: &syntax::File,
    governance_policy: &str,
) -> CheckOutput {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let mut stack = vec![canonical];
    let mut checker = Checker::new(source);
    checker.governance_policy = governance_policy.to_owned();
    run_checker(checker, file, Some(path), &mut stack)
}

/// Checks a parsed file.
pub fn check_file(file: &syntax::File, source: &str) -> CheckOutput {
    check_inner(file, source, None, &mut Vec::new())
}

/// Checks a parsed file; `stack` holds the files whose imports are being
/// resolved, outermost first, to detect import cycles.
fn check_inner(
    file: &syntax::File,
    source: &str,
    path: Option<&Path>,
    stack: &mut Vec<PathBuf>,
) -> CheckOutput {
    run_checker(Checker::new(source), file, path, stack)
}

fn run_checker<'src>(
    mut checker: Checker<'src>,
    file: &'src syntax::File,
    path: Option<&Path>,
    stack: &mut Vec<PathBuf>,
) -> CheckOutput {
    for model in imports::load_imports(&mut checker.diagnostics, file, path, stack) {
        checker.merge_import(model);
    }
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
    /// The targets declared in this file, by name.
    targets: BTreeMap<String, Span>,
    /// The value of each `region` setting written in this file, keyed by
    /// `("target", NAME)` or `("service", NAME)`.
    region_spans: BTreeMap<(&'static str, String), Span>,
    /// Targets declared in imported files.
    imported_targets: BTreeSet<String>,
    used_targets: BTreeSet<String>,
    /// Alert rules imported from the standard library, with their `use`
    /// span and whether anything refers to them.
    imported_alerts: BTreeMap<String, (Span, bool)>,
    /// Every alert rule declared in this file, with the probes its
    /// thresholds read as `PROBE.MEASURE` and the span of each probe name.
    alert_probes: BTreeMap<String, Vec<(String, Span)>>,
    /// The recovery plan templates declared in this file or imported from
    /// the standard library.
    templates: BTreeMap<String, templates::ScopedTemplate>,
    /// The text of the governance policy in force, part of the policy
    /// identity.
    governance_policy: String,
    /// Frameworks that this file declares with errors. The standard
    /// library's rules are not used for them, so that their errors are not
    /// followed by errors against rules the file replaced.
    invalid_frameworks: BTreeSet<String>,
    model: Model,
}

impl<'src> Checker<'src> {
    fn new(source: &'src str) -> Self {
        Checker {
            source,
            diagnostics: Vec::new(),
            faults: BTreeMap::new(),
            targets: BTreeMap::new(),
            region_spans: BTreeMap::new(),
            imported_targets: BTreeSet::new(),
            used_targets: BTreeSet::new(),
            imported_alerts: BTreeMap::new(),
            alert_probes: BTreeMap::new(),
            templates: BTreeMap::new(),
            governance_policy: crate::governance::policy::DEFAULT_POLICY.to_owned(),
            invalid_frameworks: BTreeSet::new(),
            model: Model::default(),
        }
    }

    fn report(&mut self, error: CheckError) {
        self.diagnostics.push(error);
    }

    /// Brings the declarations of an imported file into scope.
    fn merge_import(&mut self, model: Model) {
        self.imported_targets
            .extend(model.targets.iter().map(|target| target.name.clone()));
        self.model.targets.extend(model.targets);
        self.model.services.extend(model.services);
        self.model.channels.extend(model.channels);
        self.model.alert_rules.extend(model.alert_rules);
        self.model.frameworks.extend(model.frameworks);
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
                Item::Template(decl) => self.check_local_template(decl),
                _ => {}
            }
        }
        self.check_catalog(file);

        for item in &file.items {
            if let Item::Experiment(decl) = item
                && let Some(experiment) = self.check_experiment(decl)
            {
                self.model.experiments.push(experiment);
            }
        }
        self.check_unused(file);
    }

    /// Checks the declarations experiments refer to: services, targets,
    /// channels, compliance frameworks and alert rules, in that order.
    fn check_catalog(&mut self, file: &'src syntax::File) {
        for item in &file.items {
            if let Item::Service(decl) = item
                && let Some(service) = services::check_service(&mut self.diagnostics, decl)
            {
                self.note_region_span("service", &decl.name.name, &decl.block);
                self.model.services.push(service);
            }
        }
        for item in &file.items {
            if let Item::Target(decl) = item {
                self.targets.insert(decl.name.name.clone(), decl.name.span);
                if let Some(target) = targets::check_target(&mut self.diagnostics, decl) {
                    self.note_region_span("target", &decl.name.name, &decl.block);
                    self.check_target_service(decl, &target);
                    self.model.targets.push(target);
                }
            }
        }
        for item in &file.items {
            match item {
                Item::Channel(decl) => {
                    if let Some(channel) = monitoring::check_channel(&mut self.diagnostics, decl) {
                        self.model.channels.push(channel);
                    }
                }
                Item::Framework(decl) => {
                    // `forbid` may name any fault kind of the catalog or of
                    // this file.
                    let mut fault_kinds: Vec<&str> = stdlib::fault_names().collect();
                    fault_kinds.extend(self.faults.keys().map(String::as_str));
                    let framework = compliance::check_framework(
                        &mut self.diagnostics,
                        decl,
                        &fault_kinds,
                        self.source,
                    );
                    match framework {
                        Some(framework) => self.model.frameworks.push(framework),
                        None => {
                            self.invalid_frameworks.insert(decl.name.name.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        for item in &file.items {
            if let Item::Alert(decl) = item {
                self.alert_probes
                    .insert(decl.name.name.clone(), observing::probes_read(decl));
                let channels: BTreeSet<&str> = self
                    .model
                    .channels
                    .iter()
                    .map(|channel| channel.name.as_str())
                    .collect();
                if let Some(rule) = monitoring::check_alert(&mut self.diagnostics, decl, &channels)
                {
                    self.model.alert_rules.push(rule);
                }
            }
        }
    }

    /// Remembers where the `region` of a declaration of this file is written.
    fn note_region_span(&mut self, kind: &'static str, name: &str, block: &syntax::Block) {
        if let Some(property) = block.property("region") {
            self.region_spans
                .insert((kind, name.to_owned()), property.value.span);
        }
    }

    /// Reports a target whose `service` is not in the service catalog.
    fn check_target_service(&mut self, decl: &syntax::TargetDecl, target: &Target) {
        let Some(service) = &target.service else {
            return;
        };
        if self.model.service(service).is_some() {
            return;
        }
        let span = decl
            .block
            .property("service")
            .map_or(decl.name.span, |p| p.value.span);
        let known = self
            .model
            .services
            .iter()
            .map(|service| service.name.as_str());
        self.report(CheckError::UnknownName {
            kind: "service",
            name: service.clone(),
            span: span.into(),
            help: Some(format!(
                "{}; declare it with `service {service} {{ tier = ... }}`",
                schema::known_names_help(service, known)
            )),
        });
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
                Item::Alert(decl) => ("alert rule", &decl.name),
                Item::Channel(decl) => ("channel", &decl.name),
                Item::Framework(decl) => ("framework", &decl.name),
                Item::Template(decl) => ("template", &decl.name),
                Item::Use(_) | Item::Import(_) => continue,
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
        let modules = stdlib::library();
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

        let is_glob = matches!(decl.names, UseNames::Glob(_));
        let names: Vec<(String, Span)> = match &decl.names {
            UseNames::Names(names) => names.iter().map(|n| (n.name.clone(), n.span)).collect(),
            UseNames::Glob(span) => module
                .item_names()
                .map(|name| (name.to_owned(), *span))
                .collect(),
        };
        for (name, span) in names {
            if let Some(def) = module.fault(&name) {
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
            } else if let Some(template) = module.template(&name) {
                let entry = templates::ScopedTemplate {
                    def: template.clone(),
                    span,
                    is_used: false,
                    is_import: !is_glob,
                };
                if let Some(previous) = self.templates.insert(name.clone(), entry) {
                    self.report(CheckError::Duplicate {
                        kind: "import",
                        name,
                        span: span.into(),
                        first: previous.span.into(),
                    });
                }
            } else if let Some(framework) = module.framework(&name) {
                self.model.frameworks.push(framework.clone());
            } else if let Some(rule) = module.alert_rule(&name) {
                if !is_glob {
                    self.imported_alerts.insert(name.clone(), (span, false));
                }
                self.model.alert_rules.push(rule.clone());
            } else {
                self.report(CheckError::UnknownImport {
                    module: path.clone(),
                    name: name.clone(),
                    span: span.into(),
                    help: Some(schema::known_names_help(&name, module.item_names())),
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
        let unused_faults = self
            .faults
            .iter()
            .filter(|(_, fault)| fault.is_import && !fault.is_used)
            .map(|(name, fault)| (name, fault.span));
        let unused_alerts = self
            .imported_alerts
            .iter()
            .filter(|(_, (_, used))| !used)
            .map(|(n, (s, _))| (n, *s));
        let unused_templates = self
            .templates
            .iter()
            .filter(|(_, template)| template.is_import && !template.is_used)
            .map(|(name, template)| (name, template.span));
        let unused_imports: Vec<CheckError> = unused_faults
            .chain(unused_alerts)
            .chain(unused_templates)
            .map(|(name, span)| CheckError::Unused {
                kind: "import",
                name: name.clone(),
                span: span.into(),
                help: Some("remove it from the `use` list".to_owned()),
            })
            .collect();
        self.diagnostics.extend(unused_imports);

        // A launched process that a proxy forwards to serves the
        // experiment even when no step names it.
        let upstreams: BTreeSet<std::net::SocketAddr> = self
            .model
            .targets
            .iter()
            .filter_map(|target| match &target.spec {
                crate::model::TargetSpec::Proxy(proxy) => Some(proxy.upstream),
                _ => None,
            })
            .chain(
                self.model
                    .experiments
                    .iter()
                    .flat_map(|experiment| &experiment.recovery_plans)
                    .flat_map(|plan| &plan.actions)
                    .filter_map(|action| match &action.kind {
                        crate::model::ActionKind::SwitchTraffic { upstream, .. } => Some(*upstream),
                        _ => None,
                    }),
            )
            .collect();
        let serving: BTreeSet<&str> = self
            .model
            .targets
            .iter()
            .filter(|target| match &target.spec {
                crate::model::TargetSpec::Launched(spec) => {
                    spec.ready.is_some_and(|ready| upstreams.contains(&ready))
                }
                _ => false,
            })
            .map(|target| target.name.as_str())
            .collect();
        let unused_targets: Vec<CheckError> = self
            .targets
            .iter()
            .filter(|(name, _)| !self.used_targets.contains(*name))
            .filter(|(name, _)| !serving.contains(name.as_str()))
            .map(|(name, span)| CheckError::Unused {
                kind: "target",
                name: name.clone(),
                span: (*span).into(),
                help: Some(
                    "inject a fault on it in a step, act on it in a recovery plan, or remove it"
                        .to_owned(),
                ),
            })
            .collect();
        self.diagnostics.extend(unused_targets);
    }

    /// Checks a template declared in this file and brings it into scope.
    fn check_local_template(&mut self, decl: &syntax::TemplateDecl) {
        let Some(def) = templates::check_template_decl(&mut self.diagnostics, decl, self.source)
        else {
            return;
        };
        let entry = templates::ScopedTemplate {
            def,
            span: decl.name.span,
            is_used: false,
            is_import: false,
        };
        if let Some(previous) = self.templates.insert(decl.name.name.clone(), entry) {
            self.report(CheckError::Duplicate {
                kind: "template",
                name: decl.name.name.clone(),
                span: decl.name.span.into(),
                first: previous.span.into(),
            });
        }
    }

    /// Tells whether a target of this name is in scope.
    fn has_target(&self, name: &str) -> bool {
        self.targets.contains_key(name) || self.imported_targets.contains(name)
    }

    /// Returns the checked target named `name`.
    fn target(&self, name: &str) -> Option<&Target> {
        self.model.target(name)
    }
}

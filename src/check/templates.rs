//! Recovery plan templates. `template plan NAME(PARAMS) (SETTINGS) { ACTIONS }`
//! declares a recovery plan with parameters, and `recovery plan NAME =
//! TEMPLATE(ARGS)` in an experiment instantiates it. Instantiation checks
//! each argument against its parameter, then writes out the plan the
//! template describes with every parameter replaced by its argument. That
//! plan is checked, and later run, exactly like a plan written by hand.
//!
//! Every span of the written-out plan points into the instantiating file:
//! an argument keeps its own span, and whatever the template itself wrote
//! (action names, kinds, literals, defaults) takes the span of the call.

use std::collections::{BTreeMap, BTreeSet};

use super::recovery::{PLAN_SETTINGS, check_action_graph};
use super::schema::known_names_help;
use super::stdlib;
use super::types::type_value;
use super::{CheckError, Checker, actions::ACTION_KINDS};
use crate::model::{Probe, RecoveryPlan, RecoveryStrategy, TargetKind, ValueType};
use crate::syntax::{
    ActionDecl, Argument, Ident, MapEntry, Param, RecoveryDecl, Span, TemplateCall, TemplateDecl,
    Value, ValueKind,
};

/// The type of a template parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    /// The name of a target in scope.
    Target,
    /// The name of a proxy target in scope.
    Proxy,
    /// The name of a probe of the experiment.
    Probe,
    /// A value of a type that fault parameters take, such as a duration.
    Value(ValueType),
}

impl ParamType {
    /// Finds the type written `name` in a parameter list.
    fn from_name(name: &str) -> Option<ParamType> {
        match name {
            "target" => Some(ParamType::Target),
            "proxy" => Some(ParamType::Proxy),
            "probe" => Some(ParamType::Probe),
            other => ValueType::from_name(other).map(ParamType::Value),
        }
    }

    /// Describes the values of this type, such as "a target name".
    fn describe(&self) -> String {
        match self {
            ParamType::Target => "a target name".to_owned(),
            ParamType::Proxy => "the name of a proxy target".to_owned(),
            ParamType::Probe => "a probe name".to_owned(),
            ParamType::Value(ty) => ty.to_string(),
        }
    }

    /// Tells whether a parameter of this type may stand where a value of
    /// type `slot` is expected. A proxy is a target, so a `proxy`
    /// parameter fits where any target does; the reverse does not hold.
    fn fits(&self, slot: &ParamType) -> bool {
        match (self, slot) {
            (ParamType::Target | ParamType::Proxy, ParamType::Target) => true,
            (ParamType::Value(ValueType::Path), ParamType::Value(ValueType::String)) => true,
            (ParamType::Value(ValueType::String), ParamType::Value(ValueType::Path)) => true,
            (own, slot) => own == slot,
        }
    }
}

/// One parameter of a checked template.
#[derive(Debug, Clone)]
pub struct TemplateParam {
    pub name: String,
    pub ty: ParamType,
    /// The type as written, such as `duration`.
    pub type_name: String,
    /// The value an instance gets when it gives no argument.
    pub default: Option<Value>,
    /// The default as written, for help lines.
    pub default_text: Option<String>,
}

/// A checked template, ready to be instantiated.
#[derive(Debug, Clone)]
pub struct TemplateDef {
    pub name: String,
    pub params: Vec<TemplateParam>,
    /// The declaration, whose settings and actions instances copy.
    pub decl: TemplateDecl,
}

impl TemplateDef {
    /// Lists the parameters for a help line: "`app` (target), `rto`
    /// (duration, default `5m`)".
    pub fn params_help(&self) -> String {
        if self.params.is_empty() {
            return format!("`{}` takes no parameters", self.name);
        }
        let params: Vec<String> = self
            .params
            .iter()
            .map(|param| match &param.default_text {
                Some(default) => {
                    format!(
                        "`{}` ({}, default `{default}`)",
                        param.name, param.type_name
                    )
                }
                None => format!("`{}` ({})", param.name, param.type_name),
            })
            .collect();
        format!(
            "the parameters of `{}` are {}",
            self.name,
            params.join(", ")
        )
    }
}

/// Checks a `template plan` declaration: its parameters, its settings, the
/// names and graph of its actions, and that each parameter is used where a
/// value of its type belongs. `source` is the text the declaration was read
/// from. The arguments of the actions are checked when an instance is.
pub fn check_template_decl(
    diagnostics: &mut Vec<CheckError>,
    decl: &TemplateDecl,
    source: &str,
) -> Option<TemplateDef> {
    let before = diagnostics.len();
    let params = check_params(diagnostics, &decl.params, source);
    check_template_settings(diagnostics, decl, &params);

    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for action in &decl.actions {
        if let Some(first) = seen.insert(&action.name.name, action.name.span) {
            diagnostics.push(CheckError::Duplicate {
                kind: "recovery action",
                name: action.name.name.clone(),
                span: action.name.span.into(),
                first: first.into(),
            });
        }
        if !ACTION_KINDS.contains(&action.kind.name.as_str()) {
            diagnostics.push(CheckError::UnknownName {
                kind: "action kind",
                name: action.kind.name.clone(),
                span: action.kind.span.into(),
                help: Some(known_names_help(
                    &action.kind.name,
                    ACTION_KINDS.iter().copied(),
                )),
            });
        }
        check_action_params(diagnostics, action, &params);
    }
    if diagnostics.len() == before {
        check_action_graph(diagnostics, &decl.actions);
    }
    let has_errors = diagnostics[before..].iter().any(super::is_error);
    report_unused_params(diagnostics, decl);

    (!has_errors).then(|| TemplateDef {
        name: decl.name.name.clone(),
        params,
        decl: decl.clone(),
    })
}

fn check_params(
    diagnostics: &mut Vec<CheckError>,
    decls: &[Param],
    source: &str,
) -> Vec<TemplateParam> {
    let mut params: Vec<TemplateParam> = Vec::new();
    for param in decls {
        if let Some(first) = decls.iter().find(|p| p.name.name == param.name.name)
            && first.span != param.span
        {
            diagnostics.push(CheckError::Duplicate {
                kind: "parameter",
                name: param.name.name.clone(),
                span: param.name.span.into(),
                first: first.name.span.into(),
            });
            continue;
        }
        let type_name = &param.ty.name;
        let Some(ty) = ParamType::from_name(&type_name.name) else {
            diagnostics.push(CheckError::UnknownName {
                kind: "parameter type",
                name: type_name.name.clone(),
                span: type_name.span.into(),
                help: Some(
                    "template parameters are target, proxy, probe, duration, percent, int, \
                     number, string, bool, signal, address, size, bandwidth, rate, money, path, \
                     labels, direction and method"
                        .to_owned(),
                ),
            });
            continue;
        };
        if let Some(default) = &param.default {
            match &ty {
                ParamType::Value(value_type) => {
                    if let Err(error) = type_value(default, value_type) {
                        diagnostics.push(error);
                        continue;
                    }
                }
                _ => {
                    diagnostics.push(CheckError::InvalidValue {
                        what: "parameter default".to_owned(),
                        reason: format!("a `{}` parameter cannot have one", type_name.name),
                        span: default.span.into(),
                        help: Some(format!(
                            "remove the default; each instance names its own {}",
                            type_name.name
                        )),
                    });
                    continue;
                }
            }
        }
        params.push(TemplateParam {
            name: param.name.name.clone(),
            ty,
            type_name: type_name.name.clone(),
            default: param.default.clone(),
            default_text: param
                .default
                .as_ref()
                .and_then(|value| source.get(value.span.start..value.span.end))
                .map(str::to_owned),
        });
    }
    params
}

/// Checks the `(strategy = ..., rto = ...)` of a template. A parameter may
/// stand for the RTO or RPO; the strategy is fixed by the template.
fn check_template_settings(
    diagnostics: &mut Vec<CheckError>,
    decl: &TemplateDecl,
    params: &[TemplateParam],
) {
    for setting in &decl.settings {
        let Some(name) = &setting.name else {
            diagnostics.push(CheckError::InvalidValue {
                what: "recovery plan setting".to_owned(),
                reason: "it has no name".to_owned(),
                span: setting.span.into(),
                help: Some("write `strategy = ...`, `rto = ...` or `rpo = ...`".to_owned()),
            });
            continue;
        };
        let ty = match name.name.as_str() {
            "strategy" => ValueType::enumeration(
                "recovery strategy",
                RecoveryStrategy::ALL,
                RecoveryStrategy::name,
            ),
            "rto" | "rpo" => ValueType::Duration,
            other => {
                diagnostics.push(CheckError::UnknownField {
                    kind: "recovery plan setting",
                    name: other.to_owned(),
                    span: name.span.into(),
                    help: Some(known_names_help(other, PLAN_SETTINGS)),
                });
                continue;
            }
        };
        if !check_param_use(
            diagnostics,
            &setting.value,
            &ParamType::Value(ty.clone()),
            params,
        ) && let Err(error) = type_value(&setting.value, &ty)
        {
            diagnostics.push(error);
        }
    }
}

/// Checks the parameters an action uses against the places they stand in:
/// its positional arguments and its `timeout`, `priority` and `retries`.
fn check_action_params(
    diagnostics: &mut Vec<CheckError>,
    action: &ActionDecl,
    params: &[TemplateParam],
) {
    for (position, value) in action.args.iter().enumerate() {
        match argument_slot(&action.kind.name, position) {
            Some(slot) => {
                check_param_use(diagnostics, value, &slot, params);
            }
            None => check_nested_params(diagnostics, value, params),
        }
    }
    let clauses = [
        (&action.timeout, ValueType::Duration),
        (&action.priority, ValueType::Integer),
        (&action.retries, ValueType::Integer),
    ];
    for (clause, ty) in clauses {
        if let Some(value) = clause
            && !check_param_use(diagnostics, value, &ParamType::Value(ty.clone()), params)
            && let Err(error) = type_value(value, &ty)
        {
            diagnostics.push(error);
        }
    }
}

/// Returns what the argument at `position` of an action of `kind` must be,
/// when it is a single name or value that a parameter may stand for.
fn argument_slot(kind: &str, position: usize) -> Option<ParamType> {
    let value = |ty| Some(ParamType::Value(ty));
    match (kind, position) {
        ("restart" | "redeploy" | "scale" | "restore", 0) => Some(ParamType::Target),
        ("switch_traffic" | "shed_load" | "circuit_breaker", 0) => Some(ParamType::Proxy),
        ("probe", 0) => Some(ParamType::Probe),
        ("scale" | "circuit_breaker" | "command", 1) => value(ValueType::Integer),
        ("restore", 1) => value(ValueType::Path),
        ("switch_traffic", 1) => value(ValueType::Address),
        ("shed_load", 1) => value(ValueType::Percent),
        ("shed_load" | "circuit_breaker", 2) | ("wait", 0) => value(ValueType::Duration),
        _ => None,
    }
}

/// Checks parameters inside a list or map argument, such as the argv of a
/// `command` action, where only strings belong.
fn check_nested_params(diagnostics: &mut Vec<CheckError>, value: &Value, params: &[TemplateParam]) {
    let items: Vec<&Value> = match &value.kind {
        ValueKind::List(items) => items.iter().collect(),
        ValueKind::Map(entries) => entries.iter().map(|entry| &entry.value).collect(),
        _ => {
            check_param_use(
                diagnostics,
                value,
                &ParamType::Value(ValueType::String),
                params,
            );
            return;
        }
    };
    for item in items {
        check_nested_params(diagnostics, item, params);
    }
}

/// Checks `value` when it names a parameter: the parameter's type must fit
/// `slot`. Tells whether the value is a parameter.
fn check_param_use(
    diagnostics: &mut Vec<CheckError>,
    value: &Value,
    slot: &ParamType,
    params: &[TemplateParam],
) -> bool {
    let Some(param) = param_named(value, params) else {
        return false;
    };
    if !param.ty.fits(slot) {
        diagnostics.push(CheckError::TypeMismatch {
            expected: slot.describe(),
            found: format!("parameter `{}` of type `{}`", param.name, param.type_name),
            span: value.span.into(),
            help: Some(format!(
                "declare `{}` with a type that fits here, or use another parameter",
                param.name
            )),
        });
    }
    true
}

/// Returns the parameter that `value` names, if it is a bare name of one.
fn param_named<'a>(value: &Value, params: &'a [TemplateParam]) -> Option<&'a TemplateParam> {
    match &value.kind {
        ValueKind::Name(path) if path.len() == 1 => {
            params.iter().find(|param| param.name == path[0].name)
        }
        _ => None,
    }
}

/// Warns about parameters that no setting or action uses.
fn report_unused_params(diagnostics: &mut Vec<CheckError>, decl: &TemplateDecl) {
    let mut used = BTreeSet::new();
    let values =
        decl.settings
            .iter()
            .map(|setting| &setting.value)
            .chain(decl.actions.iter().flat_map(|action| {
                action
                    .args
                    .iter()
                    .chain(&action.timeout)
                    .chain(&action.priority)
                    .chain(&action.retries)
            }));
    for value in values {
        collect_names(value, &mut used);
    }
    for param in &decl.params {
        if !used.contains(param.name.name.as_str()) {
            diagnostics.push(CheckError::Unused {
                kind: "template parameter",
                name: param.name.name.clone(),
                span: param.name.span.into(),
                help: Some("use it in a setting or an action, or remove it".to_owned()),
            });
        }
    }
}

fn collect_names<'a>(value: &'a Value, names: &mut BTreeSet<&'a str>) {
    match &value.kind {
        ValueKind::Name(path) if path.len() == 1 => {
            names.insert(&path[0].name);
        }
        ValueKind::List(items) => items.iter().for_each(|item| collect_names(item, names)),
        ValueKind::Map(entries) => entries
            .iter()
            .for_each(|entry| collect_names(&entry.value, names)),
        _ => {}
    }
}

/// A template in scope, with whether anything instantiated it.
pub(super) struct ScopedTemplate {
    pub def: TemplateDef,
    /// The `use` that imported it, or its declaration's name.
    pub span: Span,
    pub is_used: bool,
    /// Imports are reported when unused; local declarations are not.
    pub is_import: bool,
}

impl Checker<'_> {
    /// Checks a recovery plan of an experiment, written by hand or made
    /// from a template. Returns the plan with its declaration as written
    /// out, whose actions point into this file for later checks.
    pub(super) fn check_recovery_decl(
        &mut self,
        decl: &RecoveryDecl,
        probes: &[Probe],
        probe_scope: &mut super::probes::ProbeScope,
    ) -> Option<(RecoveryPlan, RecoveryDecl)> {
        let Some(call) = &decl.template else {
            let plan = self.check_recovery_plan(decl, probes, probe_scope)?;
            return Some((plan, decl.clone()));
        };
        let instance = self.instantiate(decl, call, probes, probe_scope)?;
        let mut plan = self.check_recovery_plan(&instance, probes, probe_scope)?;
        plan.template = Some(call.name.name.clone());
        Some((plan, instance))
    }

    /// Checks the arguments of `call` and writes out the plan it makes.
    fn instantiate(
        &mut self,
        decl: &RecoveryDecl,
        call: &TemplateCall,
        probes: &[Probe],
        probe_scope: &super::probes::ProbeScope,
    ) -> Option<RecoveryDecl> {
        let def = self.resolve_template(&call.name)?;
        let before = self.diagnostics.len();
        let mut bindings: BTreeMap<String, Value> = BTreeMap::new();
        let mut argument_spans: BTreeMap<&str, Span> = BTreeMap::new();
        for argument in &call.args {
            let Some(name) = &argument.name else { continue };
            let Some(param) = def.params.iter().find(|param| param.name == name.name) else {
                self.report(CheckError::UnknownTemplateParameter {
                    template: def.name.clone(),
                    name: name.name.clone(),
                    span: name.span.into(),
                    help: Some(def.params_help()),
                });
                continue;
            };
            if let Some(first) = argument_spans.insert(&name.name, argument.span) {
                self.report(CheckError::Duplicate {
                    kind: "argument",
                    name: name.name.clone(),
                    span: argument.span.into(),
                    first: first.into(),
                });
                continue;
            }
            if self.check_template_argument(&def, param, &argument.value, probes, probe_scope) {
                bindings.insert(param.name.clone(), argument.value.clone());
            }
        }

        for param in &def.params {
            if argument_spans.contains_key(param.name.as_str()) {
                continue;
            }
            match &param.default {
                Some(default) => {
                    let value = substitute(default, &BTreeMap::new(), call.span);
                    bindings.insert(param.name.clone(), value);
                }
                None => self.report(CheckError::MissingTemplateArgument {
                    template: def.name.clone(),
                    name: param.name.clone(),
                    span: call.span.into(),
                    help: Some(format!(
                        "write `{} = ...` with {}; {}",
                        param.name,
                        param.ty.describe(),
                        def.params_help()
                    )),
                }),
            }
        }
        if self.diagnostics.len() > before {
            return None;
        }
        Some(write_out(decl, &def.decl, &bindings, call.span))
    }

    /// Finds the template `name` in scope and marks it used.
    fn resolve_template(&mut self, name: &Ident) -> Option<TemplateDef> {
        if let Some(entry) = self.templates.get_mut(&name.name) {
            entry.is_used = true;
            return Some(entry.def.clone());
        }
        let help = match stdlib::find_template(&name.name) {
            Some((module, _)) => {
                format!("add `use {module}::{}` at the top of the file", name.name)
            }
            None => {
                let local = self.templates.keys().map(String::as_str);
                let library = stdlib::all_templates().map(|template| template.name.as_str());
                let known: Vec<&str> = local.chain(library).collect();
                known_names_help(&name.name, known)
            }
        };
        self.report(CheckError::UnknownName {
            kind: "template",
            name: name.name.clone(),
            span: name.span.into(),
            help: Some(help),
        });
        None
    }

    /// Checks one argument against its parameter. Returns true when it fits.
    fn check_template_argument(
        &mut self,
        def: &TemplateDef,
        param: &TemplateParam,
        value: &Value,
        probes: &[Probe],
        probe_scope: &super::probes::ProbeScope,
    ) -> bool {
        let wrong_type = |found: String| CheckError::TemplateArgumentType {
            template: def.name.clone(),
            name: param.name.clone(),
            expected: param.ty.describe(),
            found,
            span: value.span.into(),
            help: Some(def.params_help()),
        };
        let value_type = match &param.ty {
            ParamType::Value(value_type) => value_type,
            reference => {
                let ValueKind::Name(path) = &value.kind else {
                    self.report(wrong_type(value.kind.describe()));
                    return false;
                };
                if path.len() != 1 {
                    self.report(wrong_type(value.kind.describe()));
                    return false;
                }
                return self.check_reference_argument(
                    reference,
                    &path[0],
                    probes,
                    probe_scope,
                    wrong_type,
                );
            }
        };
        match type_value(value, value_type) {
            Ok(_) => true,
            Err(CheckError::TypeMismatch { found, .. }) => {
                self.report(wrong_type(found));
                false
            }
            Err(error) => {
                self.report(error);
                false
            }
        }
    }

    /// Checks that a target, proxy or probe argument names one in scope.
    fn check_reference_argument(
        &mut self,
        ty: &ParamType,
        name: &Ident,
        probes: &[Probe],
        probe_scope: &super::probes::ProbeScope,
        wrong_type: impl Fn(String) -> CheckError,
    ) -> bool {
        if *ty == ParamType::Probe {
            if probes.iter().any(|probe| probe.name == name.name) {
                return true;
            }
            // A probe that is declared but failed its own check is already
            // reported.
            if !probe_scope.declared.contains_key(&name.name) {
                let known = probe_scope.declared.keys().map(String::as_str);
                self.report(CheckError::UnknownName {
                    kind: "probe",
                    name: name.name.clone(),
                    span: name.span.into(),
                    help: Some(known_names_help(&name.name, known)),
                });
            }
            return false;
        }
        if !self.has_target(&name.name) {
            let known = self.model.targets.iter().map(|target| target.name.as_str());
            self.report(CheckError::UnknownName {
                kind: "target",
                name: name.name.clone(),
                span: name.span.into(),
                help: Some(known_names_help(&name.name, known)),
            });
            return false;
        }
        // The argument refers to the target even when the instance fails.
        self.used_targets.insert(name.name.clone());
        let kind = self.target(&name.name).map(|target| target.kind());
        match kind {
            Some(kind) if *ty == ParamType::Proxy && kind != TargetKind::Proxy => {
                self.report(wrong_type(format!(
                    "{} target `{}`",
                    kind.name(),
                    name.name
                )));
                false
            }
            _ => true,
        }
    }
}

/// Writes out the plan a template makes: its settings and actions with
/// each parameter replaced by its bound value, under the instance's name.
fn write_out(
    instance: &RecoveryDecl,
    template: &TemplateDecl,
    bindings: &BTreeMap<String, Value>,
    span: Span,
) -> RecoveryDecl {
    let ident = |ident: &Ident| Ident {
        name: ident.name.clone(),
        span,
    };
    let value = |value: &Value| substitute(value, bindings, span);
    let settings = template
        .settings
        .iter()
        .map(|setting| Argument {
            name: setting.name.as_ref().map(ident),
            value: value(&setting.value),
            span,
        })
        .collect();
    let actions = template
        .actions
        .iter()
        .map(|action| ActionDecl {
            name: ident(&action.name),
            kind: ident(&action.kind),
            args: action.args.iter().map(value).collect(),
            timeout: action.timeout.as_ref().map(value),
            priority: action.priority.as_ref().map(value),
            retries: action.retries.as_ref().map(value),
            after: action.after.iter().map(ident).collect(),
            span,
        })
        .collect();
    RecoveryDecl {
        name: instance.name.clone(),
        settings,
        actions,
        template: None,
        span: instance.span,
    }
}

/// Replaces each parameter named in `value` by its bound value, which keeps
/// its own span; everything else takes `span`.
fn substitute(value: &Value, bindings: &BTreeMap<String, Value>, span: Span) -> Value {
    let kind = match &value.kind {
        ValueKind::Name(path) if path.len() == 1 => {
            if let Some(bound) = bindings.get(&path[0].name) {
                return bound.clone();
            }
            ValueKind::Name(vec![Ident {
                name: path[0].name.clone(),
                span,
            }])
        }
        ValueKind::Name(path) => ValueKind::Name(
            path.iter()
                .map(|part| Ident {
                    name: part.name.clone(),
                    span,
                })
                .collect(),
        ),
        ValueKind::List(items) => ValueKind::List(
            items
                .iter()
                .map(|item| substitute(item, bindings, span))
                .collect(),
        ),
        ValueKind::Map(entries) => ValueKind::Map(
            entries
                .iter()
                .map(|entry| MapEntry {
                    key: entry.key.clone(),
                    key_span: span,
                    value: substitute(&entry.value, bindings, span),
                })
                .collect(),
        ),
        ValueKind::Call { name, args } => ValueKind::Call {
            name: Ident {
                name: name.name.clone(),
                span,
            },
            args: args
                .iter()
                .map(|arg| substitute(arg, bindings, span))
                .collect(),
        },
        other => other.clone(),
    };
    Value { kind, span }
}

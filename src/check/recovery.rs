//! Checking recovery plans: their settings, their actions and the graph the
//! actions form, whose critical path must fit the plan's RTO.

use std::collections::BTreeMap;
use std::time::Duration;

use super::experiment::format_duration;
use super::graph::{DependencyGraph, critical_path};
use super::probes::ProbeScope;
use super::schema::known_names_help;
use super::types::type_value;
use super::{CheckError, Checker};
use crate::model::{
    ActionKind, Probe, RecoveryAction, RecoveryPlan, RecoveryStrategy, TypedValue, ValueType,
};
use crate::syntax::{ActionDecl, RecoveryDecl, Value};

/// The timeout of a recovery action when the file gives none.
const DEFAULT_ACTION_TIMEOUT: Duration = Duration::from_secs(300);

/// The kinds of recovery action.
const ACTION_KINDS: &[&str] = &["restart", "probe", "command", "wait"];

impl Checker<'_> {
    /// Checks a recovery plan and builds its model.
    pub(super) fn check_recovery_plan(
        &mut self,
        decl: &RecoveryDecl,
        probes: &[Probe],
        probe_scope: &mut ProbeScope,
    ) -> Option<RecoveryPlan> {
        let before = self.diagnostics.len();
        let mut strategy = RecoveryStrategy::ImmediateRollback;
        let mut rto = None;
        let mut rpo = None;
        for setting in &decl.settings {
            let Some(name) = &setting.name else {
                self.report(CheckError::InvalidValue {
                    what: "recovery plan setting".to_owned(),
                    reason: "it has no name".to_owned(),
                    span: setting.span.into(),
                    help: Some("write `strategy = ...`, `rto = ...` or `rpo = ...`".to_owned()),
                });
                continue;
            };
            match name.name.as_str() {
                "strategy" => {
                    let ty = ValueType::enumeration(
                        "recovery strategy",
                        RecoveryStrategy::ALL,
                        RecoveryStrategy::name,
                    );
                    if let Some(TypedValue::Enum(member)) = self.typed(&setting.value, &ty) {
                        strategy = RecoveryStrategy::from_name(&member).unwrap_or(strategy);
                    }
                }
                "rto" => rto = self.typed(&setting.value, &ValueType::Duration),
                "rpo" => rpo = self.typed(&setting.value, &ValueType::Duration),
                other => self.report(CheckError::UnknownField {
                    kind: "recovery plan setting",
                    name: other.to_owned(),
                    span: name.span.into(),
                    help: Some(known_names_help(other, ["strategy", "rto", "rpo"])),
                }),
            }
        }

        let mut seen: BTreeMap<&str, &ActionDecl> = BTreeMap::new();
        let mut actions = Vec::new();
        for action in &decl.actions {
            if let Some(first) = seen.insert(&action.name.name, action) {
                self.report(CheckError::Duplicate {
                    kind: "recovery action",
                    name: action.name.name.clone(),
                    span: action.name.span.into(),
                    first: first.name.span.into(),
                });
                continue;
            }
            if let Some(checked) = self.check_action(action, probes, probe_scope) {
                actions.push(checked);
            }
        }
        if self.diagnostics.len() > before || !self.check_action_graph(decl) {
            return None;
        }

        let plan = RecoveryPlan {
            name: decl.name.name.clone(),
            strategy,
            rto: rto.and_then(|value| value.as_duration()),
            rpo: rpo.and_then(|value| value.as_duration()),
            actions,
        };
        self.check_rto(decl, &plan);
        Some(plan)
    }

    fn typed(&mut self, value: &Value, ty: &ValueType) -> Option<TypedValue> {
        type_value(value, ty)
            .map_err(|error| self.report(error))
            .ok()
    }

    fn check_action(
        &mut self,
        decl: &ActionDecl,
        probes: &[Probe],
        probe_scope: &mut ProbeScope,
    ) -> Option<RecoveryAction> {
        let before = self.diagnostics.len();
        let kind = self.check_action_kind(decl, probes, probe_scope);
        let timeout = match &decl.timeout {
            Some(value) => self.typed(value, &ValueType::Duration)?.as_duration()?,
            None => DEFAULT_ACTION_TIMEOUT,
        };
        let priority = match &decl.priority {
            Some(value) => match self.typed(value, &ValueType::Integer)? {
                TypedValue::Integer(priority) => priority,
                _ => return None,
            },
            None => 1,
        };
        let retries = match &decl.retries {
            Some(value) => match self.typed(value, &ValueType::Integer)? {
                TypedValue::Integer(retries) if (0..=100).contains(&retries) => retries as u32,
                _ => {
                    self.report(CheckError::InvalidValue {
                        what: "retry count".to_owned(),
                        reason: "it is not between 0 and 100".to_owned(),
                        span: value.span.into(),
                        help: None,
                    });
                    return None;
                }
            },
            None => 0,
        };
        let kind = kind?;
        (self.diagnostics.len() == before).then(|| RecoveryAction {
            name: decl.name.name.clone(),
            kind,
            timeout,
            priority,
            retries,
            depends_on: decl.after.iter().map(|name| name.name.clone()).collect(),
        })
    }

    fn check_action_kind(
        &mut self,
        decl: &ActionDecl,
        probes: &[Probe],
        probe_scope: &mut ProbeScope,
    ) -> Option<ActionKind> {
        let arity = |checker: &mut Self, expected: &str| {
            checker.report(CheckError::InvalidValue {
                what: format!("`{}` action", decl.kind.name),
                reason: format!("it has {} arguments", decl.args.len()),
                span: decl.kind.span.into(),
                help: Some(format!("a `{}` action takes {expected}", decl.kind.name)),
            });
        };
        match (decl.kind.name.as_str(), decl.args.as_slice()) {
            ("restart", [value]) => {
                let name = self.name_argument(value, "target")?;
                if !self.targets.contains_key(&name) {
                    let known = self.targets.keys().map(String::as_str);
                    self.report(CheckError::UnknownName {
                        kind: "target",
                        name: name.clone(),
                        span: value.span.into(),
                        help: Some(known_names_help(&name, known)),
                    });
                    return None;
                }
                self.used_targets.insert(name.clone());
                Some(ActionKind::Restart { target: name })
            }
            ("probe", [value]) => {
                let name = self.name_argument(value, "probe")?;
                if !probes.iter().any(|probe| probe.name == name) {
                    if !probe_scope.declared.contains_key(&name) {
                        let known = probe_scope.declared.keys().map(String::as_str);
                        self.report(CheckError::UnknownName {
                            kind: "probe",
                            name: name.clone(),
                            span: value.span.into(),
                            help: Some(known_names_help(&name, known)),
                        });
                    }
                    return None;
                }
                probe_scope.used.insert(name.clone());
                Some(ActionKind::Probe { probe: name })
            }
            ("command", [argv, rest @ ..]) if rest.len() <= 1 => {
                let argv_type = ValueType::List(Box::new(ValueType::String));
                let TypedValue::List(items) = self.typed(argv, &argv_type)? else {
                    return None;
                };
                let argv: Vec<String> = items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned))
                    .collect();
                if argv.is_empty() {
                    arity(
                        self,
                        "a non-empty command such as `[\"systemctl\", \"restart\", \"app\"]`",
                    );
                    return None;
                }
                let expect_exit = match rest.first() {
                    Some(value) => match self.typed(value, &ValueType::Integer)? {
                        TypedValue::Integer(code) => code as i32,
                        _ => return None,
                    },
                    None => 0,
                };
                Some(ActionKind::Command { argv, expect_exit })
            }
            ("wait", [value]) => {
                let duration = self.typed(value, &ValueType::Duration)?.as_duration()?;
                Some(ActionKind::Wait { duration })
            }
            ("restart", _) => {
                arity(self, "a target name");
                None
            }
            ("probe", _) => {
                arity(self, "a probe name");
                None
            }
            ("command", _) => {
                arity(self, "a command and an optional expected exit code");
                None
            }
            ("wait", _) => {
                arity(self, "a duration");
                None
            }
            (other, _) => {
                self.report(CheckError::UnknownName {
                    kind: "action kind",
                    name: other.to_owned(),
                    span: decl.kind.span.into(),
                    help: Some(known_names_help(other, ACTION_KINDS.iter().copied())),
                });
                None
            }
        }
    }

    /// Reads a bare name argument such as the target of `restart`.
    fn name_argument(&mut self, value: &Value, kind: &'static str) -> Option<String> {
        match &value.kind {
            crate::syntax::ValueKind::Name(path) if path.len() == 1 => Some(path[0].name.clone()),
            other => {
                self.report(CheckError::TypeMismatch {
                    expected: format!("a {kind} name"),
                    found: other.describe(),
                    span: value.span.into(),
                    help: None,
                });
                None
            }
        }
    }

    /// Checks the `after` names and the acyclicity of a plan's actions.
    fn check_action_graph(&mut self, decl: &RecoveryDecl) -> bool {
        let index_of = |name: &str| decl.actions.iter().position(|a| a.name.name == name);
        let mut edges = Vec::new();
        let mut ok = true;
        for (index, action) in decl.actions.iter().enumerate() {
            for name in &action.after {
                match index_of(&name.name) {
                    Some(dependency) => edges.push((dependency, index)),
                    None => {
                        let known = decl.actions.iter().map(|a| a.name.name.as_str());
                        self.report(CheckError::UnknownName {
                            kind: "recovery action",
                            name: name.name.clone(),
                            span: name.span.into(),
                            help: Some(known_names_help(&name.name, known)),
                        });
                        ok = false;
                    }
                }
            }
        }
        if !ok {
            return false;
        }
        let graph = DependencyGraph::new(decl.actions.len(), &edges);
        if let Some(cycle) = graph.find_cycle() {
            let path: Vec<&str> = cycle
                .iter()
                .map(|&i| decl.actions[i].name.name.as_str())
                .collect();
            self.report(CheckError::Cycle {
                graph: "recovery",
                path: path.join(" -> "),
                span: decl.actions[cycle[0]].name.span.into(),
            });
            return false;
        }
        true
    }

    fn check_rto(&mut self, decl: &RecoveryDecl, plan: &RecoveryPlan) {
        let Some(rto) = plan.rto else { return };
        let (total, path) = critical_path(plan);
        if total <= rto {
            return;
        }
        let span = decl
            .settings
            .iter()
            .find(|setting| setting.name.as_ref().is_some_and(|name| name.name == "rto"))
            .map_or(decl.name.span, |setting| setting.value.span);
        self.report(CheckError::RecoveryOverRto {
            plan: plan.name.clone(),
            critical_path: format_duration(total),
            rto: format_duration(rto),
            span: span.into(),
            path: path.join(" -> "),
            help: Some(
                "shorten the timeouts on the critical path, run actions in parallel, or raise \
                 the RTO"
                    .to_owned(),
            ),
        });
    }
}

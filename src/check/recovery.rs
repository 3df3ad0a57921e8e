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
    ActionKind, Probe, RecoveryAction, RecoveryPlan, RecoveryStrategy, RevertKind, Step,
    TypedValue, ValueType,
};
use crate::syntax::{ActionDecl, ExperimentDecl, RecoveryDecl, Value};

/// The settings a recovery plan takes in its parentheses.
pub(super) const PLAN_SETTINGS: [&str; 3] = ["strategy", "rto", "rpo"];

/// The timeout of a recovery action when the file gives none.
const DEFAULT_ACTION_TIMEOUT: Duration = Duration::from_secs(300);

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
                    help: Some(known_names_help(other, PLAN_SETTINGS)),
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
        if self.diagnostics.len() > before
            || !check_action_graph(&mut self.diagnostics, &decl.actions)
        {
            return None;
        }

        let plan = RecoveryPlan {
            name: decl.name.name.clone(),
            strategy,
            rto: rto.and_then(|value| value.as_duration()),
            rpo: rpo.and_then(|value| value.as_duration()),
            actions,
            template: None,
        };
        self.check_rto(decl, &plan);
        Some(plan)
    }

    pub(super) fn typed(&mut self, value: &Value, ty: &ValueType) -> Option<TypedValue> {
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
        self.check_hold_within_timeout(decl, &kind, timeout);
        (self.diagnostics.len() == before).then(|| RecoveryAction {
            name: decl.name.name.clone(),
            kind,
            timeout,
            priority,
            retries,
            depends_on: decl.after.iter().map(|name| name.name.clone()).collect(),
        })
    }

    /// Reports a `wait` or `shed_load` action whose duration is not below its
    /// timeout: the runtime would cut the action off and fail it.
    fn check_hold_within_timeout(
        &mut self,
        decl: &ActionDecl,
        kind: &ActionKind,
        timeout: Duration,
    ) {
        let (hold, value) = match kind {
            ActionKind::Wait { duration } => (*duration, decl.args.first()),
            ActionKind::ShedLoad { hold, .. } => (*hold, decl.args.get(2)),
            _ => return,
        };
        let Some(value) = value.filter(|_| hold >= timeout) else {
            return;
        };
        self.report(CheckError::InvalidValue {
            what: format!("`{}` duration", decl.kind.name),
            reason: format!(
                "{} is not shorter than the action's timeout of {}",
                format_duration(hold),
                format_duration(timeout)
            ),
            span: value.span.into(),
            help: Some(format!(
                "shorten it, or raise the timeout above it, as in `timeout {}`",
                format_duration(hold + hold)
            )),
        });
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

    /// Reports targets that a step leaves degraded (its fault is reverted by
    /// restarting the target) with no recovery action acting on them.
    pub(super) fn check_recovery_coverage(
        &mut self,
        decl: &ExperimentDecl,
        steps: &[Step],
        plans: &[RecoveryPlan],
    ) {
        let covered: Vec<&str> = plans
            .iter()
            .flat_map(|plan| {
                plan.actions
                    .iter()
                    .filter_map(|action| action.kind.target())
            })
            .collect();
        let mut reported = Vec::new();
        for (step, step_decl) in steps.iter().zip(&decl.steps) {
            let degrades = self
                .faults
                .get(&step.fault.kind)
                .is_some_and(|fault| fault.def.revert == RevertKind::Restart);
            // An irreversible step accepted a target that nothing starts
            // again, so no recovery action could cover it.
            if !degrades || step.irreversible {
                continue;
            }
            for target in &step.targets {
                if covered.contains(&target.as_str()) || reported.contains(target) {
                    continue;
                }
                reported.push(target.clone());
                // A plan made from a template has no action list of its
                // own to extend, so the help names a plan written by hand.
                let written = plans.iter().find(|plan| plan.template.is_none());
                let help = match (written, plans.first()) {
                    (Some(plan), _) => format!(
                        "add `action restart_{target} = restart {target}` to recovery plan `{}`",
                        plan.name
                    ),
                    (None, Some(plan)) => format!(
                        "recovery plan `{}` from template `{}` does not act on `{target}`; pass \
                         `{target}` to the template, or add `recovery plan restore_{target} \
                         (rto = 5m) {{ action restart_{target} = restart {target} }}`",
                        plan.name,
                        plan.template.as_deref().unwrap_or_default()
                    ),
                    (None, None) => format!(
                        "add `recovery plan restore (rto = 5m) {{ action restart_{target} = \
                         restart {target} }}`"
                    ),
                };
                self.report(CheckError::TargetNotRecovered {
                    target: target.clone(),
                    step: step.name.clone(),
                    span: step_decl.fault.name.span.into(),
                    help: Some(help),
                });
            }
        }
    }

    /// Reports plans whose RTO is above the RTO of a service the steps
    /// touch, or whose critical path is above its maximum tolerable downtime.
    pub(super) fn check_service_objectives(
        &mut self,
        decl: &ExperimentDecl,
        steps: &[Step],
        plans: &[RecoveryPlan],
    ) {
        let mut services: Vec<crate::model::Service> = Vec::new();
        for target in steps.iter().flat_map(|step| &step.targets) {
            let service = self.target(target).and_then(|t| t.service.as_deref());
            if let Some(service) = service.and_then(|name| self.model.service(name))
                && !services.iter().any(|known| known.name == service.name)
            {
                services.push(service.clone());
            }
        }
        for (plan, plan_decl) in plans.iter().zip(&decl.recovery_plans) {
            let (critical, _) = critical_path(plan);
            for service in &services {
                let checks = [
                    ("RTO", plan.rto, service.rto),
                    ("critical path", Some(critical), service.mtd),
                ];
                for (what, value, limit) in checks {
                    let (Some(value), Some(limit)) = (value, limit) else {
                        continue;
                    };
                    if value <= limit {
                        continue;
                    }
                    let limit_name = if what == "RTO" {
                        "RTO"
                    } else {
                        "maximum tolerable downtime"
                    };
                    self.report(CheckError::RecoveryAboveService {
                        plan: plan.name.clone(),
                        what,
                        value: format_duration(value),
                        limit: format!("{limit_name} {}", format_duration(limit)),
                        service: service.name.clone(),
                        span: plan_decl.name.span.into(),
                        help: Some(format!(
                            "bring the plan within {}; the service catalog sets it",
                            format_duration(limit)
                        )),
                    });
                }
            }
        }
    }
}

/// Checks the `after` names and the acyclicity of a plan's or template's
/// actions. Returns true when both are sound.
pub(super) fn check_action_graph(
    diagnostics: &mut Vec<CheckError>,
    actions: &[ActionDecl],
) -> bool {
    let index_of = |name: &str| actions.iter().position(|a| a.name.name == name);
    let mut edges = Vec::new();
    let mut ok = true;
    for (index, action) in actions.iter().enumerate() {
        for name in &action.after {
            match index_of(&name.name) {
                Some(dependency) => edges.push((dependency, index)),
                None => {
                    let known = actions.iter().map(|a| a.name.name.as_str());
                    diagnostics.push(CheckError::UnknownName {
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
    let graph = DependencyGraph::new(actions.len(), &edges);
    if let Some(cycle) = graph.find_cycle() {
        let path: Vec<&str> = cycle
            .iter()
            .map(|&i| actions[i].name.name.as_str())
            .collect();
        diagnostics.push(CheckError::Cycle {
            graph: "recovery",
            path: path.join(" -> "),
            span: actions[cycle[0]].name.span.into(),
        });
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use miette::Diagnostic;

    /// Checks a plan with one action and returns the codes of its errors.
    fn codes_of(action: &str) -> Vec<String> {
        let source = format!(
            "target front = proxy {{ listen = 127.0.0.1:18180, upstream = 127.0.0.1:18181 }}\n\
             experiment e {{\n\
                 category = network, severity = low, duration = 5m\n\
                 safety {{ business_hours_only = false }}\n\
                 recovery plan p {{ {action} }}\n\
             }}\n"
        );
        let output = crate::check::check_source(&source).unwrap();
        output
            .diagnostics
            .iter()
            .filter(|diagnostic| crate::check::is_error(diagnostic))
            .map(|diagnostic| diagnostic.code().unwrap().to_string())
            .collect()
    }

    #[test]
    fn hold_must_end_before_timeout() {
        let cases = [
            ("action w = wait 5s timeout 10s", vec![]),
            ("action w = wait 10s timeout 10s", vec!["chaos::E0208"]),
            ("action w = wait 6m", vec!["chaos::E0208"]),
            ("action s = shed_load front 50% 5s timeout 10s", vec![]),
            (
                "action s = shed_load front 50% 20s timeout 10s",
                vec!["chaos::E0208"],
            ),
        ];
        for (action, expected) in cases {
            assert_eq!(codes_of(action), expected, "{action}");
        }
    }
}

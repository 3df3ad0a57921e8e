//! Checking the steps of an experiment: fault arguments, target selection,
//! the step graph, the timeline and the blast radius.

use std::collections::BTreeMap;
use std::time::Duration;

use super::experiment::format_duration;
use super::graph::DependencyGraph;
use super::schema::{Settings, known_names_help};
use super::stdlib::{self, FaultDef};
use super::suggest::did_you_mean;
use super::types::type_value;
use super::{CheckError, Checker};
use crate::model::{FaultSpec, RevertKind, Step, TargetSpec, TypedValue, ValueType};
use crate::syntax::{ExperimentDecl, FaultCall, Selector, StepDecl};

/// Faults that start their target again to inject (under a shifted clock,
/// say), so they need a target that chaosc launched.
const INJECTED_BY_RESTART: &[&str] = &["time_skew"];

impl Checker<'_> {
    /// Checks every step, then the graph they form.
    pub(super) fn check_steps(
        &mut self,
        decl: &ExperimentDecl,
        settings: &Settings,
        duration: Duration,
        limit: u32,
    ) -> Vec<Step> {
        let mut names: BTreeMap<&str, &StepDecl> = BTreeMap::new();
        for step in &decl.steps {
            if let Some(first) = names.insert(&step.name.name, step) {
                self.report(CheckError::Duplicate {
                    kind: "step",
                    name: step.name.name.clone(),
                    span: step.name.span.into(),
                    first: first.name.span.into(),
                });
            }
        }

        // A step that fails its own checks still uses the target it names,
        // so that one error does not also bring an "unused target" warning.
        for step in &decl.steps {
            if let Selector::Name(name) = &step.selector {
                self.used_targets.insert(name.name.clone());
            }
        }
        let steps: Vec<Step> = decl
            .steps
            .iter()
            .filter_map(|step| self.check_step(step))
            .collect();
        if steps.len() != decl.steps.len() {
            // Graph and radius rules would only repeat errors about the
            // steps that failed to check.
            self.check_after_names(decl);
            return steps;
        }
        if self.check_step_graph(decl) {
            self.check_timeline(decl, &steps, settings, duration);
        }
        self.check_blast_radius_limit(decl, &steps, limit);
        steps
    }

    fn check_step(&mut self, decl: &StepDecl) -> Option<Step> {
        let before = self.diagnostics.len();
        let def = self.resolve_fault(&decl.fault)?.clone();
        let params = self.check_arguments(&def, &decl.fault);
        let targets = self.check_selector(&def, &decl.selector);

        let hold = decl.hold.as_ref().and_then(|value| {
            type_value(value, &ValueType::Duration)
                .map_err(|error| self.report(error))
                .ok()
        });
        let probability = match &decl.probability {
            Some(value) => self.check_share(value, "probability").unwrap_or(1.0),
            None => 1.0,
        };
        let ramp = decl.ramp.as_ref().and_then(|value| {
            type_value(value, &ValueType::Duration)
                .map_err(|error| self.report(error))
                .ok()
        });
        let rate = decl.rate.as_ref().and_then(|value| {
            type_value(value, &ValueType::Rate)
                .map_err(|error| self.report(error))
                .ok()
        });
        if let (Some(value), None) = (&decl.rate, &decl.ramp) {
            self.report(CheckError::InvalidValue {
                what: "injection rate".to_owned(),
                reason: "it applies only to gradual injection".to_owned(),
                span: value.span.into(),
                help: Some("add `ramp DURATION` to inject gradually at this rate".to_owned()),
            });
        }
        if let Some(targets) = &targets {
            self.check_reversible(&def, decl, targets);
        }
        self.check_fault_rules(decl, params.as_ref(), targets.as_deref());
        if let Some(params) = &params {
            self.check_compute_step(decl, params);
        }

        if self.diagnostics.len() > before {
            return None;
        }
        Some(Step {
            name: decl.name.name.clone(),
            fault: FaultSpec {
                kind: def.name.clone(),
                params: params?,
            },
            targets: targets?,
            hold: hold.and_then(|value| value.as_duration()),
            after: decl.after.iter().map(|name| name.name.clone()).collect(),
            probability,
            ramp: ramp.and_then(|value| value.as_duration()),
            rate: rate.and_then(|value| value.as_number()),
            irreversible: decl.irreversible.is_some(),
        })
    }

    /// Types a share that must be above 0% and at most 100%.
    fn check_share(&mut self, value: &crate::syntax::Value, what: &'static str) -> Option<f64> {
        let share = match type_value(value, &ValueType::Percent) {
            Ok(TypedValue::Percent(share)) => share,
            Ok(_) => return None,
            Err(error) => {
                self.report(error);
                return None;
            }
        };
        if share <= 0.0 {
            self.report(CheckError::ShareOutOfRange {
                what,
                value: format!("{}%", share * 100.0),
                span: value.span.into(),
                help: Some("write a share above 0%, such as `10%`".to_owned()),
            });
            return None;
        }
        Some(share)
    }

    /// Reports a fault that cannot be undone on one of its targets (such as
    /// killing a process chaosc did not launch) unless the step accepts it.
    /// A fault whose injection restarts its target cannot even be injected
    /// there, and `irreversible` does not change that.
    fn check_reversible(&mut self, def: &FaultDef, decl: &StepDecl, targets: &[String]) {
        let injected_by_restart = INJECTED_BY_RESTART.contains(&def.name.as_str());
        if def.revert != RevertKind::Restart
            || (decl.irreversible.is_some() && !injected_by_restart)
        {
            return;
        }
        for name in targets {
            let is_attached = self
                .target(name)
                .is_some_and(|t| matches!(t.spec, TargetSpec::Attached(_)));
            if !is_attached {
                continue;
            }
            let (reason, help) = if injected_by_restart {
                (
                    "cannot be injected on an attached process",
                    format!(
                        "`{}` starts its target again to inject, and `{name}` is attached to a \
                     running process that chaosc cannot start; launch it with `command`",
                        def.name
                    ),
                )
            } else {
                (
                    "irreversible without an opt-in",
                    format!(
                        "`{name}` is attached to a running process, so chaosc cannot start it again; \
                     add `irreversible` to the step to accept that, or launch it with `command`"
                    ),
                )
            };
            self.report(CheckError::IrreversibleFault {
                fault: def.name.clone(),
                target: name.clone(),
                reason,
                span: decl.fault.name.span.into(),
                help: Some(help),
            });
        }
    }

    fn resolve_fault(&mut self, call: &FaultCall) -> Option<&FaultDef> {
        let name = &call.name.name;
        if self.faults.contains_key(name) {
            let entry = self.faults.get_mut(name).unwrap();
            entry.is_used = true;
            return Some(&entry.def);
        }
        let error = match stdlib::find_fault(name) {
            Some((module, _)) => CheckError::FaultNotImported {
                name: name.clone(),
                span: call.name.span.into(),
                help: Some(format!("add `use {module}::{name}` at the top of the file")),
            },
            None => {
                let known = stdlib::fault_names();
                CheckError::UnknownName {
                    kind: "fault",
                    name: name.clone(),
                    span: call.name.span.into(),
                    help: Some(known_names_help(name, known)),
                }
            }
        };
        self.report(error);
        None
    }

    fn check_arguments(
        &mut self,
        def: &FaultDef,
        call: &FaultCall,
    ) -> Option<BTreeMap<String, TypedValue>> {
        let before = self.diagnostics.len();
        let mut params = BTreeMap::new();
        let mut given = BTreeMap::new();
        for (position, argument) in call.args.iter().enumerate() {
            let param = match &argument.name {
                Some(name) => def
                    .params
                    .iter()
                    .find(|param| param.name == name.name)
                    .or_else(|| {
                        let known = def.params.iter().map(|param| param.name.as_str());
                        self.report(CheckError::UnknownField {
                            kind: "parameter",
                            name: name.name.clone(),
                            span: name.span.into(),
                            help: Some(format!(
                                "`{}` takes {}",
                                def.name,
                                if def.params.is_empty() {
                                    "no parameters".to_owned()
                                } else {
                                    known_names_help("", known)
                                        .replace("expected one of", "the parameters")
                                }
                            )),
                        });
                        None
                    }),
                None => def.params.get(position).or_else(|| {
                    self.report(CheckError::InvalidValue {
                        what: "argument".to_owned(),
                        reason: format!(
                            "`{}` takes {} arguments, this is argument {}",
                            def.name,
                            def.params.len(),
                            position + 1
                        ),
                        span: argument.span.into(),
                        help: Some("remove it, or name the parameter it is for".to_owned()),
                    });
                    None
                }),
            };
            let Some(param) = param else { continue };
            if let Some(first) = given.insert(param.name.clone(), argument.span) {
                self.report(CheckError::Duplicate {
                    kind: "argument",
                    name: param.name.clone(),
                    span: argument.span.into(),
                    first: first.into(),
                });
                continue;
            }
            match type_value(&argument.value, &param.ty) {
                Ok(value) => {
                    params.insert(param.name.clone(), value);
                }
                Err(error) => self.report(error),
            }
        }

        for param in &def.params {
            if given.contains_key(&param.name) {
                continue;
            }
            match &param.default {
                Some(default) => {
                    params.insert(param.name.clone(), default.clone());
                }
                None => self.report(CheckError::MissingField {
                    kind: "parameter",
                    name: param.name.clone(),
                    span: call.span.into(),
                    help: Some(format!(
                        "write `{}({} = ...)` with {}",
                        def.name, param.name, param.ty
                    )),
                }),
            }
        }
        (self.diagnostics.len() == before).then_some(params)
    }

    /// Resolves the targets a step selects, and checks that the fault can
    /// act on each of them.
    fn check_selector(&mut self, def: &FaultDef, selector: &Selector) -> Option<Vec<String>> {
        let before = self.diagnostics.len();
        let (names, span) = match selector {
            Selector::Name(name) => {
                if !self.has_target(&name.name) {
                    let known = self.model.targets.iter().map(|target| target.name.as_str());
                    let help = match did_you_mean(&name.name, known) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => "declare it with `target NAME = process { ... }`".to_owned(),
                    };
                    self.report(CheckError::UnknownName {
                        kind: "target",
                        name: name.name.clone(),
                        span: name.span.into(),
                        help: Some(help),
                    });
                    return None;
                }
                (vec![name.name.clone()], name.span)
            }
            Selector::Labels {
                matches,
                pick,
                span,
            } => {
                let names = self.select_by_labels(matches, pick.as_ref(), *span)?;
                (names, *span)
            }
        };

        for name in &names {
            self.used_targets.insert(name.clone());
            // A target that failed its own checks has been reported already.
            let Some(target) = self.target(name) else {
                continue;
            };
            let kind = target.kind();
            if !def.applies_to.contains(&kind) {
                let kinds: Vec<&str> = def.applies_to.iter().map(|kind| kind.name()).collect();
                self.report(CheckError::FaultNotApplicable {
                    fault: def.name.clone(),
                    target: name.clone(),
                    target_kind: kind.name().to_owned(),
                    span: span.into(),
                    help: Some(format!(
                        "`{}` acts on {} targets",
                        def.name,
                        kinds.join(" and ")
                    )),
                });
            }
        }
        (self.diagnostics.len() == before).then_some(names)
    }

    /// Selects targets by labels; `pick` narrows the match to a count or a
    /// share, rounded up so that a share never selects nothing.
    fn select_by_labels(
        &mut self,
        matches: &[crate::syntax::LabelMatch],
        pick: Option<&crate::syntax::Value>,
        span: crate::syntax::Span,
    ) -> Option<Vec<String>> {
        let matched: Vec<String> = self
            .model
            .targets
            .iter()
            .filter(|target| {
                matches.iter().all(|m| {
                    let value = target.labels.get(&m.label.name);
                    (value.map(String::as_str) == Some(m.value.as_str())) == m.is_equal
                })
            })
            .map(|target| target.name.clone())
            .collect();
        if matched.is_empty() {
            let labels: std::collections::BTreeSet<&str> = self
                .model
                .targets
                .iter()
                .flat_map(|target| target.labels.keys().map(String::as_str))
                .collect();
            let help = if labels.is_empty() {
                "no target has `labels`; add `labels = { app = \"...\" }` to the targets".to_owned()
            } else {
                format!(
                    "check the label values; the targets have the labels {}",
                    super::types::backticked(&labels.into_iter().collect::<Vec<_>>())
                )
            };
            self.report(CheckError::SelectorMatchesNothing {
                span: span.into(),
                help: Some(help),
            });
            return None;
        }

        // A run may pick any of the matching targets, so each is in use.
        self.used_targets.extend(matched.iter().cloned());
        let Some(pick) = pick else {
            return Some(matched);
        };
        let count = match &pick.kind {
            crate::syntax::ValueKind::Quantity {
                unit: Some(unit), ..
            } if unit == "%" => {
                let share = self.check_share(pick, "pick")?;
                (share * matched.len() as f64).ceil() as usize
            }
            _ => {
                let TypedValue::Integer(count) = type_value(pick, &ValueType::Integer)
                    .map_err(|e| self.report(e))
                    .ok()?
                else {
                    return None;
                };
                count.max(0) as usize
            }
        };
        if count == 0 {
            self.report(CheckError::InvalidValue {
                what: "pick".to_owned(),
                reason: "it selects no target".to_owned(),
                span: pick.span.into(),
                help: Some("pick at least one target, or a share above 0%".to_owned()),
            });
            return None;
        }
        // The checker counts the worst case: the runtime samples `count`
        // targets among those that match, so it can touch any of them.
        Some(matched.into_iter().take(count.max(1)).collect())
    }

    /// Reports `after` names that are not steps of the experiment.
    fn check_after_names(&mut self, decl: &ExperimentDecl) -> bool {
        let mut ok = true;
        for step in &decl.steps {
            for name in &step.after {
                if !decl.steps.iter().any(|other| other.name.name == name.name) {
                    let known = decl.steps.iter().map(|s| s.name.name.as_str());
                    self.report(CheckError::UnknownName {
                        kind: "step",
                        name: name.name.clone(),
                        span: name.span.into(),
                        help: Some(known_names_help(&name.name, known)),
                    });
                    ok = false;
                }
            }
        }
        ok
    }

    /// Checks the `after` graph of the steps; returns whether it is sound.
    fn check_step_graph(&mut self, decl: &ExperimentDecl) -> bool {
        if !self.check_after_names(decl) {
            return false;
        }
        let index_of = |name: &str| decl.steps.iter().position(|step| step.name.name == name);
        let mut edges = Vec::new();
        for (index, step) in decl.steps.iter().enumerate() {
            for name in &step.after {
                let dependency = index_of(&name.name).unwrap();
                edges.push((dependency, index));
                let open = &decl.steps[dependency];
                if open.hold.is_none() {
                    self.report(CheckError::AfterOpenStep {
                        name: name.name.clone(),
                        span: name.span.into(),
                        step: open.name.span.into(),
                        help: Some(format!("add `for DURATION` to step `{}`", name.name)),
                    });
                }
            }
        }

        let graph = DependencyGraph::new(decl.steps.len(), &edges);
        if let Some(cycle) = graph.find_cycle() {
            let path: Vec<&str> = cycle
                .iter()
                .map(|&i| decl.steps[i].name.name.as_str())
                .collect();
            self.report(CheckError::Cycle {
                graph: "step",
                path: path.join(" -> "),
                span: decl.steps[cycle[0]].name.span.into(),
            });
            return false;
        }
        true
    }

    /// Checks that the steps end within the experiment's duration.
    fn check_timeline(
        &mut self,
        decl: &ExperimentDecl,
        steps: &[Step],
        settings: &Settings,
        duration: Duration,
    ) {
        if duration.is_zero() || settings.get("duration").is_none() {
            return;
        }
        let index_of = |name: &str| steps.iter().position(|step| step.name == name).unwrap();
        let edges: Vec<(usize, usize)> = steps
            .iter()
            .enumerate()
            .flat_map(|(index, step)| step.after.iter().map(move |name| (index_of(name), index)))
            .collect();
        let weights: Vec<Duration> = steps
            .iter()
            .map(|step| step.hold.unwrap_or_default())
            .collect();
        let graph = DependencyGraph::new(steps.len(), &edges);
        let Some((total, path)) = graph.longest_path(&weights) else {
            return;
        };
        if total > duration {
            let last = &decl.steps[*path.last().unwrap()];
            let chain: Vec<&str> = path.iter().map(|&i| steps[i].name.as_str()).collect();
            self.report(CheckError::TimelineTooLong {
                timeline: format_duration(total),
                duration: format_duration(duration),
                span: last
                    .hold
                    .as_ref()
                    .map_or(last.name.span, |hold| hold.span)
                    .into(),
                help: Some(format!(
                    "the chain {} ends after {}; shorten a step or lengthen the experiment",
                    chain.join(" -> "),
                    format_duration(total)
                )),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use miette::Diagnostic;

    /// Checks `body`, the inside of an experiment, after `head`, and returns
    /// the codes of every finding.
    fn codes_of(head: &str, body: &str) -> Vec<String> {
        let source = format!(
            "{head}\nexperiment e {{\n\
                 category = network, severity = low, duration = 5m\n\
                 safety {{ business_hours_only = false }}\n\
                 {body}\n\
             }}\n"
        );
        let output = crate::check::check_source(&source).unwrap();
        output
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.code().unwrap().to_string())
            .collect()
    }

    /// Returns the codes of the errors `codes_of` finds.
    fn errors_of(head: &str, body: &str) -> Vec<String> {
        codes_of(head, body)
            .into_iter()
            .filter(|code| !code.starts_with("chaos::W"))
            .collect()
    }

    #[test]
    fn picked_selector_uses_every_match() {
        let head = "use std::faults::latency\n\
                    target a = proxy { listen = 127.0.0.1:18180, upstream = 127.0.0.1:18181, labels = { tier = \"web\" } }\n\
                    target b = proxy { listen = 127.0.0.1:18182, upstream = 127.0.0.1:18181, labels = { tier = \"web\" } }\n\
                    target c = proxy { listen = 127.0.0.1:18183, upstream = 127.0.0.1:18181, labels = { tier = \"web\" } }";
        let body =
            "step slow = inject latency(delay = 10ms) on targets(tier == \"web\") pick 1 for 1m";
        assert_eq!(codes_of(head, body), Vec::<String>::new());
    }

    #[test]
    fn irreversible_lifts_kill_but_not_skew() {
        let head = "use std::faults::{process_kill, time_skew}\n\
                    target legacy = process { pid_file = \"/run/legacy.pid\", ready = 127.0.0.1:18090 }";
        let cases = [
            (
                "step k = inject process_kill() on legacy irreversible",
                vec![],
            ),
            (
                "step k = inject process_kill() on legacy",
                vec!["chaos::E0411"],
            ),
            (
                "step s = inject time_skew(offset = 1h) on legacy for 10s irreversible",
                vec!["chaos::E0411"],
            ),
        ];
        for (body, expected) in cases {
            let codes = errors_of(head, body);
            assert_eq!(codes, expected, "{body}");
        }
    }
}

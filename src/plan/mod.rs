//! Lowering a checked model into the plan of one run: the targets to set
//! up, the steps with their earliest start and end on the timeline, and the
//! recovery plans with their critical paths. `chaosc plan` prints it; `run`
//! executes it.

use std::fmt::Write;
use std::time::Duration;

use miette::Diagnostic;
use thiserror::Error;

use crate::check::risk::RiskFactors;
use crate::check::{critical_path, policy_hash, stdlib};
use crate::model::RiskLevel;
use crate::model::{
    ActionKind, AlertRule, Channel, Experiment, Model, RecoveryAction, Target, TargetSpec,
};

/// A file whose experiment cannot be chosen.
#[derive(Debug, Error, Diagnostic)]
pub enum PlanError {
    #[error("the file declares no experiment")]
    #[diagnostic(
        code(chaos::E0407),
        help("add `experiment NAME {{ ... }}`; only files with an experiment can run")
    )]
    NoExperiment,

    #[error("the file declares several experiments: {names}")]
    #[diagnostic(code(chaos::E0408), help("choose one with `--experiment NAME`"))]
    SeveralExperiments { names: String },

    #[error("no experiment `{name}` in the file")]
    #[diagnostic(code(chaos::E0409), help("the file declares {names}"))]
    UnknownExperiment { name: String, names: String },
}

/// One step placed on the timeline.
#[derive(Debug, Clone)]
pub struct ScheduledStep {
    pub name: String,
    /// The earliest time after the first injection the step can start.
    pub start: Duration,
    /// When its fault is reverted; `None` holds it to the end of the run.
    pub end: Option<Duration>,
}

/// What one run will do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub file: String,
    pub experiment: Experiment,
    /// Every target of the file: launched and attached processes, proxies.
    pub targets: Vec<Target>,
    pub schedule: Vec<ScheduledStep>,
    /// The factors the risk level was computed from.
    pub risk: RiskFactors,
    pub risk_level: RiskLevel,
    /// The identity of the compliance policy in force, for `policy = "..."`.
    pub policy: String,
    /// The alert rules the experiment watches.
    pub alert_rules: Vec<AlertRule>,
    /// The channels those rules and the experiment send alerts to.
    pub channels: Vec<Channel>,
}

/// Lowers the experiment `name` (or the file's only experiment) of `model`.
pub fn lower(model: &Model, name: Option<&str>, file: &str) -> Result<Plan, PlanError> {
    let names = || {
        model
            .experiments
            .iter()
            .map(|e| format!("`{}`", e.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let experiment = match (name, model.experiments.as_slice()) {
        (_, []) => return Err(PlanError::NoExperiment),
        (None, [only]) => only,
        (None, _) => return Err(PlanError::SeveralExperiments { names: names() }),
        (Some(name), all) => {
            all.iter()
                .find(|e| e.name == name)
                .ok_or_else(|| PlanError::UnknownExperiment {
                    name: name.to_owned(),
                    names: names(),
                })?
        }
    };
    let alert_rules: Vec<AlertRule> = model
        .alert_rules
        .iter()
        .filter(|rule| experiment.alerts.contains(&rule.name))
        .cloned()
        .collect();
    let channels = model
        .channels
        .iter()
        .filter(|channel| {
            experiment.alert_channels.contains(&channel.name)
                || alert_rules
                    .iter()
                    .any(|rule| rule.channels.contains(&channel.name))
        })
        .cloned()
        .collect();
    Ok(Plan {
        file: file.to_owned(),
        experiment: experiment.clone(),
        targets: model.targets.clone(),
        risk: RiskFactors::of(model, experiment.severity, &experiment.steps),
        risk_level: RiskFactors::of(model, experiment.severity, &experiment.steps).level(),
        policy: policy_in_force(model),
        schedule: schedule(experiment),
        alert_rules,
        channels,
    })
}

/// Returns the identity of the compliance policy in force: the file's
/// frameworks, and the standard library's for the others.
fn policy_in_force(model: &Model) -> String {
    let mut policies = model.frameworks.clone();
    for policy in stdlib::frameworks() {
        if !policies
            .iter()
            .any(|known| known.framework == policy.framework)
        {
            policies.push(policy.clone());
        }
    }
    // The plan shows the identity under the built-in governance policy; a
    // local policy file changes it, and `chaosc check` reports that one.
    let governance = crate::governance::policy::Policy::default_only();
    policy_hash(&policies, &governance.identity_text())
}

/// Places every step at the earliest time its dependencies allow.
fn schedule(experiment: &Experiment) -> Vec<ScheduledStep> {
    let mut placed: Vec<ScheduledStep> = Vec::new();
    // The checker proved the graph acyclic, so repeated passes place every
    // step; the bound guards against a model that skipped the checker.
    for _ in 0..=experiment.steps.len() {
        for step in &experiment.steps {
            if placed.iter().any(|p| p.name == step.name) {
                continue;
            }
            let ends: Option<Vec<Option<Duration>>> = step
                .after
                .iter()
                .map(|dependency| placed.iter().find(|p| &p.name == dependency).map(|p| p.end))
                .collect();
            let Some(ends) = ends else { continue };
            let start = ends
                .into_iter()
                .map(|end| end.unwrap_or(experiment.duration))
                .max()
                .unwrap_or_default();
            let end = step.hold.map(|hold| start + hold);
            placed.push(ScheduledStep {
                name: step.name.clone(),
                start,
                end,
            });
        }
    }
    placed
}

impl Plan {
    /// Renders the plan for people.
    pub fn render(&self) -> String {
        let experiment = &self.experiment;
        let mut out = String::new();
        let _ = writeln!(out, "experiment `{}` from {}", experiment.name, self.file);
        let _ = writeln!(
            out,
            "  category {}, severity {}, duration {}, blast radius limit {}",
            experiment.category,
            experiment.severity,
            format_duration(experiment.duration),
            experiment.blast_radius.limit
        );
        let safety = &experiment.safety;
        let _ = writeln!(
            out,
            "  safety: rollback {}, rollback timeout {}, emergency stop {}, business hours only {}",
            on_off(safety.rollback),
            format_duration(safety.rollback_timeout),
            on_off(safety.emergency_stop),
            on_off(safety.business_hours_only)
        );

        let risk = &self.risk;
        let data: Vec<&str> = risk.data.iter().map(|class| class.name()).collect();
        let tiers: Vec<&str> = risk.tiers.iter().map(|tier| tier.name()).collect();
        let _ = writeln!(
            out,
            "  risk {}: severity {}, {} {} touched, {}, {}",
            self.risk_level,
            risk.severity,
            risk.targets,
            if risk.targets == 1 {
                "target"
            } else {
                "targets"
            },
            listed("data", &data, "no classified data"),
            listed("tiers", &tiers, "no tier"),
        );
        let compliance = &experiment.compliance;
        let frameworks: Vec<&str> = compliance.frameworks.iter().map(|f| f.name()).collect();
        let roles: Vec<&str> = compliance
            .required_approvals
            .iter()
            .map(String::as_str)
            .collect();
        let _ = writeln!(
            out,
            "  compliance: {}, {}",
            listed("frameworks", &frameworks, "no framework"),
            listed("approval roles", &roles, "no approval role"),
        );
        let _ = writeln!(out, "\ntargets:");
        for target in &self.targets {
            let _ = writeln!(out, "  {:<16} {}", target.name, describe_target(target));
        }

        let _ = writeln!(out, "\nsteady state:");
        for probe in experiment.probes.iter().filter(|p| p.is_steady_state) {
            let _ = writeln!(
                out,
                "  probe {} every {}",
                probe.name,
                format_duration(probe.interval)
            );
        }

        let _ = writeln!(out, "\ntimeline:");
        for (scheduled, step) in self.schedule.iter().zip(&experiment.steps) {
            let end = scheduled
                .end
                .map_or("end of run".to_owned(), format_duration);
            let _ = writeln!(
                out,
                "  {:>8} .. {:<10} {} = {} on {}",
                format_duration(scheduled.start),
                end,
                step.name,
                step.fault.kind,
                step.targets.join(", ")
            );
        }
        for condition in &experiment.stop_conditions {
            let _ = writeln!(out, "  stop when {}", condition.text);
        }

        for plan in &experiment.recovery_plans {
            let (total, path) = critical_path(plan);
            let rto = plan.rto.map_or("no RTO".to_owned(), |rto| {
                format!("RTO {}", format_duration(rto))
            });
            let fits = match plan.rto {
                Some(rto) if total <= rto => ", fits the RTO",
                Some(_) => ", over the RTO",
                None => "",
            };
            let template = plan
                .template
                .as_ref()
                .map_or(String::new(), |name| format!(" from template `{name}`"));
            let _ = writeln!(
                out,
                "\nrecovery plan `{}`{template} ({}, {rto}): critical path {} = {}{fits}",
                plan.name,
                plan.strategy,
                path.join(" -> "),
                format_duration(total)
            );
            for action in &plan.actions {
                let _ = writeln!(out, "  {:<16} {}", action.name, describe_action(action));
            }
        }
        out
    }
}

/// Describes a recovery action as it would be written by hand, such as
/// `restart web timeout 10s after stop`. A plan made from a template shows
/// its actions this way, with every parameter replaced by its argument.
pub fn describe_action(action: &RecoveryAction) -> String {
    let mut text = describe_action_kind(&action.kind);
    let _ = write!(text, " timeout {}", format_duration(action.timeout));
    if action.priority != 1 {
        let _ = write!(text, " priority {}", action.priority);
    }
    if action.retries > 0 {
        let _ = write!(text, " retries {}", action.retries);
    }
    if !action.depends_on.is_empty() {
        let _ = write!(text, " after {}", action.depends_on.join(", "));
    }
    text
}

/// Describes what an action does, in the syntax of `.chaos` files:
/// `shed_load front 75% 10s`.
pub fn describe_action_kind(kind: &ActionKind) -> String {
    let percent = |share: f64| {
        let percent = format!("{:.2}", share * 100.0);
        let percent = percent.trim_end_matches('0').trim_end_matches('.');
        format!("{percent}%")
    };
    match kind {
        ActionKind::Restart { target } => format!("restart {target}"),
        ActionKind::Probe { probe } => format!("probe {probe}"),
        ActionKind::Command { argv, expect_exit } => {
            let quoted: Vec<String> = argv.iter().map(|arg| format!("{arg:?}")).collect();
            match expect_exit {
                0 => format!("command [{}]", quoted.join(", ")),
                code => format!("command [{}] {code}", quoted.join(", ")),
            }
        }
        ActionKind::Wait { duration } => format!("wait {}", format_duration(*duration)),
        ActionKind::Scale { target, replicas } => format!("scale {target} {replicas}"),
        ActionKind::Redeploy {
            target,
            command,
            env,
        } => {
            let mut text = format!("redeploy {target}");
            if command.is_some() {
                text.push_str(" with a new command");
            }
            if !env.is_empty() {
                let names: Vec<&str> = env.keys().map(String::as_str).collect();
                let _ = write!(text, " setting {}", names.join(", "));
            }
            text
        }
        ActionKind::Restore { target, from } => match from {
            Some(from) => format!("restore {target} {from:?}"),
            None => format!("restore {target}"),
        },
        ActionKind::SwitchTraffic { target, upstream } => {
            format!("switch_traffic {target} {upstream}")
        }
        ActionKind::ShedLoad {
            target,
            share,
            hold,
        } => format!(
            "shed_load {target} {} {}",
            percent(*share),
            format_duration(*hold)
        ),
        ActionKind::CircuitBreaker {
            target,
            failures,
            cooldown,
        } => format!(
            "circuit_breaker {target} {failures} {}",
            format_duration(*cooldown)
        ),
    }
}

/// Returns "`label` a, b" for a non-empty list, else `none`.
fn listed(label: &str, items: &[&str], none: &str) -> String {
    if items.is_empty() {
        none.to_owned()
    } else {
        format!("{label} {}", items.join(", "))
    }
}

fn describe_target(target: &Target) -> String {
    match &target.spec {
        TargetSpec::Launched(spec) => format!("process, launched: {}", spec.command.join(" ")),
        TargetSpec::Attached(attach) => format!("process, attached through its {attach}"),
        TargetSpec::Proxy(proxy) => format!("proxy {} -> {}", proxy.listen, proxy.upstream),
        TargetSpec::File(file) => {
            format!(
                "file {} (root {})",
                file.path.display(),
                file.root.display()
            )
        }
        TargetSpec::Directory(directory) => format!("directory {}", directory.path.display()),
        TargetSpec::Interface(interface) => match &interface.netns {
            Some(netns) => format!("interface {} in network namespace {netns}", interface.name),
            None => format!("interface {}", interface.name),
        },
    }
}

fn on_off(flag: bool) -> &'static str {
    if flag { "on" } else { "off" }
}

/// Formats a duration the way it is written in `.chaos` files.
pub fn format_duration(duration: Duration) -> String {
    crate::check::format_duration(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_kinds_read_as_written() {
        let target = || "front".to_owned();
        let cases = [
            (
                ActionKind::ShedLoad {
                    target: target(),
                    share: 1.0 / 3.0,
                    hold: Duration::from_secs(10),
                },
                "shed_load front 33.33% 10s",
            ),
            (
                ActionKind::CircuitBreaker {
                    target: target(),
                    failures: 3,
                    cooldown: Duration::from_millis(1500),
                },
                "circuit_breaker front 3 1500ms",
            ),
            (
                ActionKind::Command {
                    argv: vec!["sh".to_owned(), "say \"hi\"".to_owned()],
                    expect_exit: 2,
                },
                "command [\"sh\", \"say \\\"hi\\\"\"] 2",
            ),
            (
                ActionKind::Restore {
                    target: "db".to_owned(),
                    from: Some("db.bak".to_owned()),
                },
                "restore db \"db.bak\"",
            ),
            (
                ActionKind::Wait {
                    duration: Duration::from_secs(120),
                },
                "wait 2m",
            ),
        ];
        for (kind, expected) in cases {
            assert_eq!(describe_action_kind(&kind), expected);
        }
    }

    #[test]
    fn action_shows_clauses_set() {
        let action = RecoveryAction {
            name: "verify".to_owned(),
            kind: ActionKind::Probe {
                probe: "home".to_owned(),
            },
            timeout: Duration::from_secs(30),
            priority: 2,
            retries: 1,
            depends_on: vec!["restart".to_owned(), "shed".to_owned()],
        };
        assert_eq!(
            describe_action(&action),
            "probe home timeout 30s priority 2 retries 1 after restart, shed"
        );
    }
}

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
use crate::model::{AlertRule, Channel, Experiment, Model, Target, TargetSpec};

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
            "  risk {}: severity {}, {} {} touched, data [{}], tiers [{}]",
            self.risk_level,
            risk.severity,
            risk.targets,
            if risk.targets == 1 {
                "target"
            } else {
                "targets"
            },
            data.join(", "),
            tiers.join(", ")
        );
        let compliance = &experiment.compliance;
        let frameworks: Vec<&str> = compliance.frameworks.iter().map(|f| f.name()).collect();
        let _ = writeln!(
            out,
            "  compliance [{}], approval {}, required approvals [{}]",
            frameworks.join(", "),
            if compliance.approval_required {
                "required"
            } else {
                "not required"
            },
            compliance.required_approvals.join(", ")
        );
        let _ = writeln!(out, "  policy {}", self.policy);
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
            let _ = writeln!(
                out,
                "\nrecovery plan `{}` ({}, {rto}): critical path {} = {}{fits}",
                plan.name,
                plan.strategy,
                path.join(" -> "),
                format_duration(total)
            );
        }
        out
    }
}

fn describe_target(target: &Target) -> String {
    match &target.spec {
        TargetSpec::Launched(spec) => format!("process, launched: {}", spec.command.join(" ")),
        TargetSpec::Attached { pid_file } => {
            format!("process, attached through {}", pid_file.display())
        }
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

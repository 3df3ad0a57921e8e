//! Cross-references of the monitoring parts of an experiment: process
//! probes name targets of the file, stop or success conditions over alerts
//! name rules the experiment watches, and the rules it watches read probes
//! it declares.

use super::probes::ProbeScope;
use super::schema::known_names_help;
use super::{CheckError, Checker};
use crate::model::{Probe, ProbeKind, ProcessRef};
use crate::syntax::{AlertDecl, ExperimentDecl, Span, ValueKind};

/// Returns the probes that the thresholds of an alert rule read as
/// `PROBE.MEASURE`, with the span of each probe's name.
pub(super) fn probes_read(decl: &AlertDecl) -> Vec<(String, Span)> {
    decl.thresholds
        .iter()
        .filter_map(|threshold| match &threshold.metric.kind {
            ValueKind::Name(path) if path.len() == 2 && path[0].name != "host" => {
                Some((path[0].name.clone(), path[0].span))
            }
            _ => None,
        })
        .collect()
}

impl Checker<'_> {
    /// Reports `process NAME` probes whose target is not declared.
    pub(super) fn check_process_probes(&mut self, decl: &ExperimentDecl, probes: &[Probe]) {
        for probe in probes {
            let ProbeKind::Process {
                process: ProcessRef::Target(target),
            } = &probe.kind
            else {
                continue;
            };
            if self.model.targets.iter().any(|t| &t.name == target) {
                continue;
            }
            let Some(probe_decl) = decl.probes.iter().find(|p| p.name.name == probe.name) else {
                continue;
            };
            let known = self.model.targets.iter().map(|t| t.name.as_str());
            let help = known_names_help(target, known);
            self.report(CheckError::UnknownName {
                kind: "target",
                name: target.clone(),
                span: probe_decl.args[0].span.into(),
                help: Some(help),
            });
        }
    }

    /// Reports thresholds of the rules an experiment watches that read a
    /// probe the experiment does not declare: such a threshold never holds.
    pub(super) fn check_alert_probes(
        &mut self,
        decl: &ExperimentDecl,
        watched: &[String],
        scope: &ProbeScope,
    ) {
        let mut unknown = Vec::new();
        for rule in watched {
            for (probe, span) in self.alert_probes.get(rule).into_iter().flatten() {
                if !scope.declared.contains_key(probe) {
                    unknown.push((rule.clone(), probe.clone(), *span));
                }
            }
        }
        for (rule, probe, span) in unknown {
            let known = scope.declared.keys().map(String::as_str);
            let help = format!(
                "{}; the rule `{rule}` is watched by experiment `{}`, whose probes it reads",
                known_names_help(&probe, known),
                decl.name.name
            );
            self.report(CheckError::UnknownName {
                kind: "probe",
                name: probe,
                span: span.into(),
                help: Some(help),
            });
        }
    }

    /// Reports `alert.NAME STATE` conditions over rules the experiment does
    /// not watch with `monitoring { alerts = [...] }`.
    pub(super) fn check_alert_conditions(&mut self, decl: &ExperimentDecl, watched: &[String]) {
        let comparisons = decl
            .stop_conditions
            .iter()
            .chain(&decl.success)
            .flat_map(|condition| condition.any_of.iter().flatten());
        let mut unknown = Vec::new();
        for comparison in comparisons {
            let ValueKind::Name(path) = &comparison.left.kind else {
                continue;
            };
            if path.len() == 2 && path[0].name == "alert" && !watched.contains(&path[1].name) {
                unknown.push(path[1].clone());
            }
        }
        for rule in unknown {
            let help = format!(
                "{}; watch the rule with `monitoring {{ alerts = [{}] }}`",
                known_names_help(&rule.name, watched.iter().map(String::as_str)),
                rule.name
            );
            self.report(CheckError::UnknownName {
                kind: "watched alert rule",
                name: rule.name.clone(),
                span: rule.span.into(),
                help: Some(help),
            });
        }
    }
}

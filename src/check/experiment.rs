//! Checking an experiment: its settings, safety net, probes, conditions and
//! the rules that hold across them.

use std::collections::BTreeSet;
use std::time::Duration;

use super::schema::{Field, Settings, check_properties, check_section_names};
use super::{CheckError, Checker, probes};
use crate::model::{BlastRadius, Category, Experiment, SafetyNet, Severity, ValueType};
use crate::syntax::{ExperimentDecl, Section, Span};

/// No experiment may run longer than this (8 hours).
pub const MAX_DURATION: Duration = Duration::from_secs(480 * 60);

/// The blast-radius limit when the file gives none.
const DEFAULT_BLAST_RADIUS_LIMIT: i64 = 10;

/// The rollback timeout when the file gives none.
const DEFAULT_ROLLBACK_TIMEOUT: Duration = Duration::from_secs(300);

fn experiment_fields() -> Vec<Field> {
    vec![
        Field::required(
            "category",
            ValueType::enumeration("category", Category::ALL, Category::name),
        ),
        Field::required(
            "severity",
            ValueType::enumeration("severity", Severity::ALL, Severity::name),
        ),
        Field::required("duration", ValueType::Duration),
    ]
    .into_iter()
    .chain(super::metadata::metadata_fields())
    .collect()
}

fn safety_fields() -> Vec<Field> {
    vec![
        Field::optional("rollback", ValueType::Bool),
        Field::optional("timeout", ValueType::Duration),
        Field::optional("emergency_stop", ValueType::Bool),
        Field::optional("business_hours_only", ValueType::Bool),
        Field::optional("monitoring", ValueType::Bool),
        Field::optional("alerting", ValueType::Bool),
    ]
}

fn blast_radius_fields() -> Vec<Field> {
    vec![
        Field::optional("limit", ValueType::Integer),
        Field::optional(
            "services",
            ValueType::List(Box::new(ValueType::Reference { kind: "service" })),
        ),
    ]
}

impl Checker<'_> {
    /// Checks one experiment and builds its model when it has no error.
    pub(super) fn check_experiment(&mut self, decl: &ExperimentDecl) -> Option<Experiment> {
        let before = self
            .diagnostics
            .iter()
            .filter(|d| super::is_error(d))
            .count();
        let settings = check_properties(
            &mut self.diagnostics,
            &decl.block.properties,
            &experiment_fields(),
            "experiment setting",
            decl.name.span,
        );
        check_section_names(
            &mut self.diagnostics,
            &decl.block.sections,
            &[
                "blast_radius",
                "safety",
                "compliance",
                "monitoring",
                "schedule",
            ],
        );
        let safety = self.check_safety(section(decl, "safety"));
        let blast_radius = self.check_blast_radius(section(decl, "blast_radius"));
        let mut metadata = super::metadata::metadata_of(&settings);
        metadata.schedule = self.check_schedule(decl);
        let compliance = self.check_compliance_section(decl, &settings.texts("compliance"));
        let (alerts, alert_channels) = self.check_monitoring(decl);
        self.check_policy_pin(decl, metadata.policy.as_deref());

        let duration = settings.duration("duration", Duration::ZERO);
        self.check_duration(decl, duration);

        let mut probe_scope = probes::ProbeScope::default();
        let probes = probes::check_probes(&mut self.diagnostics, &decl.probes, &mut probe_scope);
        self.check_process_probes(decl, &probes);
        self.check_alert_conditions(decl, &alerts);
        self.check_alert_probes(decl, &alerts, &probe_scope);
        let steps = self.check_steps(decl, &settings, duration, blast_radius.limit);
        let stop_conditions = decl
            .stop_conditions
            .iter()
            .filter_map(|condition| {
                probes::check_condition(
                    &mut self.diagnostics,
                    condition,
                    &mut probe_scope,
                    self.source,
                )
            })
            .collect::<Vec<_>>();
        let success = decl
            .success
            .iter()
            .filter_map(|condition| {
                probes::check_condition(
                    &mut self.diagnostics,
                    condition,
                    &mut probe_scope,
                    self.source,
                )
            })
            .collect();
        // Each plan comes with its declaration as written out, which for a
        // plan made from a template contains the template's actions.
        let (recovery_plans, plan_decls): (Vec<_>, Vec<_>) = decl
            .recovery_plans
            .iter()
            .filter_map(|plan| self.check_recovery_decl(plan, &probes, &mut probe_scope))
            .unzip();

        self.check_severity_rules(decl, &settings, &safety, stop_conditions.len());
        self.check_rollback(decl, &safety);
        if steps.len() == decl.steps.len() {
            self.check_services_touched(decl, &steps, &blast_radius);
            if recovery_plans.len() == decl.recovery_plans.len() {
                self.check_recovery_coverage(decl, &steps, &recovery_plans);
                self.check_service_objectives(decl, &steps, &recovery_plans);
                self.check_data_sovereignty(
                    decl,
                    &compliance,
                    &steps,
                    &recovery_plans,
                    &plan_decls,
                );
            }
            let severity = settings.text("severity").and_then(Severity::from_name);
            if let Some(severity) = severity {
                let risk = self.risk_of(severity, &steps);
                let start = metadata.scheduled_start.as_deref();
                self.check_compliance_rules(decl, &compliance, &steps, start, risk);
            }
        }
        probes::report_unused(&mut self.diagnostics, &decl.probes, &probe_scope);

        let after = self
            .diagnostics
            .iter()
            .filter(|d| super::is_error(d))
            .count();
        if after > before {
            return None;
        }
        let experiment = Experiment {
            name: decl.name.name.clone(),
            category: Category::from_name(settings.text("category")?)?,
            severity: Severity::from_name(settings.text("severity")?)?,
            duration,
            blast_radius,
            safety,
            probes,
            steps,
            stop_conditions,
            success,
            recovery_plans,
            metadata,
            compliance,
            alerts,
            alert_channels,
        };
        super::lints::check_stop_conditions(
            &mut self.diagnostics,
            &experiment,
            &decl.stop_conditions,
        );
        Some(experiment)
    }

    fn check_safety(&mut self, section: Option<&Section>) -> SafetyNet {
        let settings = match section {
            Some(section) => {
                check_section_names(&mut self.diagnostics, &section.block.sections, &[]);
                check_properties(
                    &mut self.diagnostics,
                    &section.block.properties,
                    &safety_fields(),
                    "safety setting",
                    section.name.span,
                )
            }
            None => Settings::default(),
        };
        SafetyNet {
            rollback: settings.bool("rollback", true),
            rollback_timeout: settings.duration("timeout", DEFAULT_ROLLBACK_TIMEOUT),
            emergency_stop: settings.bool("emergency_stop", true),
            business_hours_only: settings.bool("business_hours_only", true),
            monitoring: settings.bool("monitoring", true),
            alerting: settings.bool("alerting", true),
        }
    }

    fn check_blast_radius(&mut self, section: Option<&Section>) -> BlastRadius {
        let settings = match section {
            Some(section) => {
                check_section_names(&mut self.diagnostics, &section.block.sections, &[]);
                let settings = check_properties(
                    &mut self.diagnostics,
                    &section.block.properties,
                    &blast_radius_fields(),
                    "blast radius setting",
                    section.name.span,
                );
                if let Some(property) = section.block.property("limit")
                    && settings.integer("limit", 1) < 1
                {
                    self.report(CheckError::InvalidValue {
                        what: "blast radius limit".to_owned(),
                        reason: "it is below 1".to_owned(),
                        span: property.value.span.into(),
                        help: Some("allow at least one target".to_owned()),
                    });
                }
                settings
            }
            None => Settings::default(),
        };
        BlastRadius {
            limit: settings
                .integer("limit", DEFAULT_BLAST_RADIUS_LIMIT)
                .clamp(0, u32::MAX.into()) as u32,
            services: settings.texts("services"),
        }
    }

    fn check_duration(&mut self, decl: &ExperimentDecl, duration: Duration) {
        let Some(property) = decl.block.property("duration") else {
            return;
        };
        if duration > MAX_DURATION {
            self.report(CheckError::DurationTooLong {
                duration: format_duration(duration),
                span: property.value.span.into(),
            });
        } else if duration.is_zero() && !self.diagnostics_touch(property.value.span) {
            self.report(CheckError::InvalidValue {
                what: "duration".to_owned(),
                reason: "it is zero".to_owned(),
                span: property.value.span.into(),
                help: Some("give the experiment time to run, such as `5m`".to_owned()),
            });
        }
    }

    /// Tells whether some diagnostic already points at `span`.
    fn diagnostics_touch(&self, span: Span) -> bool {
        use miette::Diagnostic;
        self.diagnostics.iter().any(|diagnostic| {
            diagnostic
                .labels()
                .is_some_and(|mut labels| labels.any(|label| label.offset() == span.start))
        })
    }

    fn check_severity_rules(
        &mut self,
        decl: &ExperimentDecl,
        settings: &Settings,
        safety: &SafetyNet,
        stop_conditions: usize,
    ) {
        let Some(severity) = settings.text("severity").and_then(Severity::from_name) else {
            return;
        };
        let needs_stop = matches!(severity, Severity::High | Severity::Critical);
        if needs_stop && (!safety.emergency_stop || stop_conditions == 0) {
            let span = decl
                .block
                .property("severity")
                .map_or(decl.name.span, |p| p.value.span);
            let missing = match (safety.emergency_stop, stop_conditions) {
                (false, 0) => "set `emergency_stop = true` in `safety` and add `stop when ...`",
                (false, _) => "set `emergency_stop = true` in `safety`",
                _ => "add a stop condition such as `stop when health.failures > 3`",
            };
            self.report(CheckError::EmergencyStopRequired {
                severity: severity.name().to_owned(),
                span: span.into(),
                help: Some(missing.to_owned()),
            });
        }
    }

    fn check_rollback(&mut self, decl: &ExperimentDecl, safety: &SafetyNet) {
        if safety.rollback {
            return;
        }
        let Some(step) = decl.steps.first() else {
            return;
        };
        let span = section(decl, "safety")
            .and_then(|section| section.block.property("rollback"))
            .map_or(decl.name.span, |property| property.span);
        self.report(CheckError::RollbackDisabled {
            step: step.name.name.clone(),
            span: span.into(),
        });
    }
}

/// Finds the section `name` of an experiment.
pub(super) fn section<'a>(decl: &'a ExperimentDecl, name: &str) -> Option<&'a Section> {
    decl.block
        .sections
        .iter()
        .find(|section| section.name.name == name)
}

/// Formats a duration the way it would be written in a file.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(3_600_000) && millis > 0 {
        format!("{}h", millis / 3_600_000)
    } else if millis.is_multiple_of(60_000) && millis > 0 {
        format!("{}m", millis / 60_000)
    } else if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

/// Returns the distinct names in `names`, in order.
pub fn distinct<'a>(names: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    names
        .into_iter()
        .filter(|name| seen.insert(*name))
        .cloned()
        .collect()
}

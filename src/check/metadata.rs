//! The descriptive settings of an experiment (who, why, when), its
//! monitoring section, the policy it pins and its computed risk.

use super::risk::RiskFactors;
use super::schema::{Field, Settings, check_properties, check_section_names, known_names_help};
use super::{CheckError, Checker, policy_hash};
use crate::model::{ComplianceFramework, Metadata, RiskLevel, Severity, Step, ValueType};
use crate::syntax::{ExperimentDecl, ValueKind};

/// The descriptive settings an experiment may hold.
pub fn metadata_fields() -> Vec<Field> {
    let strings = || ValueType::List(Box::new(ValueType::String));
    let framework = ValueType::enumeration(
        "compliance framework",
        ComplianceFramework::ALL,
        ComplianceFramework::name,
    );
    vec![
        Field::optional("description", ValueType::String),
        Field::optional("tags", strings()),
        Field::optional("created_by", ValueType::String),
        Field::optional("business_justification", ValueType::String),
        Field::optional("business_owner", ValueType::String),
        Field::optional("technical_owner", ValueType::String),
        Field::optional(
            "emergency_contacts",
            ValueType::List(Box::new(ValueType::StringMap)),
        ),
        Field::optional("scheduled_start", ValueType::String),
        Field::optional("policy", ValueType::String),
        Field::optional("compliance", ValueType::List(Box::new(framework))),
    ]
}

/// Reads the descriptive settings of a checked experiment.
pub fn metadata_of(settings: &Settings) -> Metadata {
    let text = |name| settings.text(name).map(str::to_owned);
    let contacts = match settings.get("emergency_contacts") {
        Some(crate::model::TypedValue::List(items)) => items
            .iter()
            .filter_map(|item| match item {
                crate::model::TypedValue::StringMap(map) => Some(map.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Metadata {
        description: text("description"),
        tags: settings.texts("tags"),
        created_by: text("created_by"),
        business_justification: text("business_justification"),
        business_owner: text("business_owner"),
        technical_owner: text("technical_owner"),
        emergency_contacts: contacts,
        scheduled_start: text("scheduled_start"),
        policy: text("policy"),
        schedule: Default::default(),
    }
}

fn monitoring_fields() -> Vec<Field> {
    vec![
        Field::optional(
            "alerts",
            ValueType::List(Box::new(ValueType::Reference { kind: "alert rule" })),
        ),
        Field::optional(
            "channels",
            ValueType::List(Box::new(ValueType::Reference { kind: "channel" })),
        ),
    ]
}

impl Checker<'_> {
    /// Checks `monitoring { alerts = [...], channels = [...] }` and returns
    /// the alert rules and channels it names.
    pub(super) fn check_monitoring(&mut self, decl: &ExperimentDecl) -> (Vec<String>, Vec<String>) {
        let Some(section) = super::experiment::section(decl, "monitoring") else {
            return (Vec::new(), Vec::new());
        };
        check_section_names(&mut self.diagnostics, &section.block.sections, &[]);
        let settings = check_properties(
            &mut self.diagnostics,
            &section.block.properties,
            &monitoring_fields(),
            "monitoring setting",
            section.name.span,
        );
        if let Some(property) = section.block.property("channels") {
            let channels = self
                .model
                .channels
                .iter()
                .map(|channel| channel.name.as_str())
                .collect();
            super::monitoring::check_channel_names(&mut self.diagnostics, property, &channels);
        }
        if let Some(property) = section.block.property("alerts")
            && let ValueKind::List(items) = &property.value.kind
        {
            for item in items {
                let ValueKind::Name(path) = &item.kind else {
                    continue;
                };
                let name = &path[0].name;
                if let Some((_, used)) = self.imported_alerts.get_mut(name) {
                    *used = true;
                }
                // A rule of this file with errors is still declared, and its
                // own errors report what is wrong with it.
                if self.model.alert_rules.iter().any(|rule| &rule.name == name)
                    || self.alert_probes.contains_key(name)
                {
                    continue;
                }
                let known = self.model.alert_rules.iter().map(|rule| rule.name.as_str());
                let help = known_names_help(name, known);
                self.report(CheckError::UnknownName {
                    kind: "alert rule",
                    name: name.clone(),
                    span: item.span.into(),
                    help: Some(format!(
                        "{help}; the standard rules come from `use std::alerts::*`"
                    )),
                });
            }
        }
        (settings.texts("alerts"), settings.texts("channels"))
    }

    /// Checks `policy = "sha256:..."` against the policy in force.
    pub(super) fn check_policy_pin(&mut self, decl: &ExperimentDecl, pinned: Option<&str>) {
        let Some(pinned) = pinned else { return };
        let Some(property) = decl.block.property("policy") else {
            return;
        };
        let is_well_formed = pinned
            .strip_prefix("sha256:")
            .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()));
        if !is_well_formed {
            self.report(CheckError::InvalidValue {
                what: "policy identity".to_owned(),
                reason: format!("`{pinned}` is not `sha256:` and 64 hexadecimal digits"),
                span: property.value.span.into(),
                help: Some("copy the identity that `chaosc plan` prints".to_owned()),
            });
            return;
        }
        let actual = policy_hash(&self.policies(), &self.governance_policy);
        if !pinned.eq_ignore_ascii_case(&actual) {
            self.report(CheckError::PolicyMismatch {
                pinned: pinned.to_owned(),
                actual: actual.clone(),
                span: property.value.span.into(),
                help: Some(format!(
                    "the compliance policy changed since it was pinned; review the change, then \
                     pin `policy = \"{actual}\"`"
                )),
            });
        }
    }

    /// Computes the risk of an experiment from its checked steps.
    pub(super) fn risk_of(&self, severity: Severity, steps: &[Step]) -> RiskLevel {
        RiskFactors::of(&self.model, severity, steps).level()
    }
}

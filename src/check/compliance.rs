//! Compliance: the policy data of each framework (`framework pci_dss {...}`,
//! from the standard library or the user's files) and the rules it imposes
//! on an experiment: forbidden faults on classified data, approval roles,
//! the audit trail and blackout windows. The regions a framework allows for
//! classified data are checked in `sovereignty.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike};
use sha2::{Digest, Sha256};

use super::schema::{Field, Settings, check_properties, check_section_names, known_names_help};
use super::stdlib;
use super::{CheckError, Checker};
use crate::governance::window::{month_day_problem, parse_month_day, shown};
use crate::model::{
    ComplianceFramework, ComplianceSpec, DataClass, FailureMode, FrameworkPolicy, RiskLevel, Step,
    ValueType,
};
use crate::syntax::{ExperimentDecl, FrameworkDecl, Property, Section, Span, ValueKind};

fn framework_fields() -> Vec<Field> {
    let strings = || ValueType::List(Box::new(ValueType::String));
    vec![
        Field::optional("description", ValueType::String),
        Field::optional("approval_roles", strings()),
        Field::optional("audit_required", ValueType::Bool),
        Field::optional("blackout", strings()),
    ]
}

/// Checks a `framework` declaration; `fault_kinds` are the names of the
/// fault kinds that `forbid` may name besides the failure modes.
pub fn check_framework(
    diagnostics: &mut Vec<CheckError>,
    decl: &FrameworkDecl,
    fault_kinds: &[&str],
    source: &str,
) -> Option<FrameworkPolicy> {
    let before = diagnostics.len();
    let Some(framework) = ComplianceFramework::from_name(&decl.name.name) else {
        let known = ComplianceFramework::ALL
            .iter()
            .map(|framework| framework.name());
        diagnostics.push(CheckError::UnknownMember {
            name: decl.name.name.clone(),
            enumeration: "compliance framework".to_owned(),
            span: decl.name.span.into(),
            help: Some(known_names_help(&decl.name.name, known)),
        });
        return None;
    };
    check_section_names(diagnostics, &decl.block.sections, &["forbid", "regions"]);
    let settings = check_properties(
        diagnostics,
        &decl.block.properties,
        &framework_fields(),
        "framework setting",
        decl.name.span,
    );
    let forbidden = decl
        .block
        .sections
        .iter()
        .find(|section| section.name.name == "forbid")
        .map(|section| check_forbid(diagnostics, section, fault_kinds))
        .unwrap_or_default();
    let regions = decl
        .block
        .sections
        .iter()
        .find(|section| section.name.name == "regions")
        .map(|section| check_regions(diagnostics, section))
        .unwrap_or_default();
    let blackout_windows = settings.texts("blackout");
    if let Some(property) = decl.block.property("blackout")
        && let ValueKind::List(items) = &property.value.kind
    {
        for (window, item) in blackout_windows.iter().zip(items) {
            if parse_window(window).is_none() {
                diagnostics.push(CheckError::InvalidValue {
                    what: "blackout window".to_owned(),
                    reason: window
                        .split("..")
                        .find_map(month_day_problem)
                        .unwrap_or_else(|| {
                            format!("`{}` is not a date range `MM-DD..MM-DD`", shown(window))
                        }),
                    span: item.span.into(),
                    help: Some("write a range such as `\"12-15..01-05\"` (UTC)".to_owned()),
                });
            }
        }
    }

    let text = source
        .get(decl.span.start..decl.span.end)
        .unwrap_or_default()
        .to_owned();
    (diagnostics.len() == before).then(|| FrameworkPolicy {
        framework,
        forbidden,
        regions,
        approval_roles: settings.texts("approval_roles"),
        audit_required: settings.bool("audit_required", true),
        blackout_windows,
        text,
    })
}

/// Reads the key of a property as a data class, reporting a key that is
/// not one.
fn data_class_key(diagnostics: &mut Vec<CheckError>, property: &Property) -> Option<DataClass> {
    let class = DataClass::from_name(&property.key.name);
    if class.is_none() {
        let known = DataClass::ALL.iter().map(|class| class.name());
        diagnostics.push(CheckError::UnknownMember {
            name: property.key.name.clone(),
            enumeration: "data class".to_owned(),
            span: property.key.span.into(),
            help: Some(known_names_help(&property.key.name, known)),
        });
    }
    class
}

/// Checks `forbid { cardholder = [data_corruption, process_kill] }`: keys
/// are data classes, values fault kinds or failure modes.
fn check_forbid(
    diagnostics: &mut Vec<CheckError>,
    section: &Section,
    fault_kinds: &[&str],
) -> BTreeMap<DataClass, Vec<String>> {
    check_section_names(diagnostics, &section.block.sections, &[]);
    let mut forbidden = BTreeMap::new();
    for property in &section.block.properties {
        let Some(class) = data_class_key(diagnostics, property) else {
            continue;
        };
        let ValueKind::List(items) = &property.value.kind else {
            diagnostics.push(CheckError::TypeMismatch {
                expected: "a list of fault kinds and failure modes".to_owned(),
                found: property.value.kind.describe(),
                span: property.value.span.into(),
                help: None,
            });
            continue;
        };
        let mut names = Vec::new();
        for item in items {
            let name = match &item.kind {
                ValueKind::Name(path) if path.len() == 1 => path[0].name.clone(),
                other => {
                    diagnostics.push(CheckError::TypeMismatch {
                        expected: "a fault kind or failure mode".to_owned(),
                        found: other.describe(),
                        span: item.span.into(),
                        help: None,
                    });
                    continue;
                }
            };
            let is_mode = FailureMode::from_name(&name).is_some();
            if !is_mode && !fault_kinds.contains(&name.as_str()) {
                let modes = FailureMode::ALL.iter().map(|mode| mode.name());
                let known = modes.chain(fault_kinds.iter().copied());
                diagnostics.push(CheckError::UnknownName {
                    kind: "fault kind or failure mode",
                    name: name.clone(),
                    span: item.span.into(),
                    help: Some(known_names_help(&name, known)),
                });
                continue;
            }
            names.push(name);
        }
        forbidden.insert(class, names);
    }
    forbidden
}

/// Checks `regions { pii = ["eu-*", "westeurope"] }`: keys are data
/// classes, values the region names and `prefix*` patterns where data of
/// that class may be.
fn check_regions(
    diagnostics: &mut Vec<CheckError>,
    section: &Section,
) -> BTreeMap<DataClass, Vec<String>> {
    check_section_names(diagnostics, &section.block.sections, &[]);
    let mut regions = BTreeMap::new();
    for property in &section.block.properties {
        let Some(class) = data_class_key(diagnostics, property) else {
            continue;
        };
        let strings = ValueType::List(Box::new(ValueType::String));
        let patterns = match super::types::type_value(&property.value, &strings) {
            Ok(crate::model::TypedValue::List(items)) => items,
            Ok(_) => continue,
            Err(error) => {
                diagnostics.push(error);
                continue;
            }
        };
        let ValueKind::List(values) = &property.value.kind else {
            continue;
        };
        let mut allowed = Vec::new();
        for (pattern, value) in patterns.iter().zip(values) {
            let Some(pattern) = pattern.as_str() else {
                continue;
            };
            if !super::sovereignty::is_region_pattern(pattern) {
                diagnostics.push(CheckError::InvalidValue {
                    what: "region pattern".to_owned(),
                    reason: format!("`{pattern}` is neither a region name nor a prefix with `*`"),
                    span: value.span.into(),
                    help: Some(
                        "write a region such as `\"eu-west-1\"` or a prefix such as `\"eu-*\"`"
                            .to_owned(),
                    ),
                });
                continue;
            }
            allowed.push(pattern.to_owned());
        }
        regions.insert(class, allowed);
    }
    regions
}

/// Parses an annual window `MM-DD..MM-DD` into (month, day) pairs.
fn parse_window(text: &str) -> Option<((u32, u32), (u32, u32))> {
    let (start, end) = text.split_once("..")?;
    Some((parse_month_day(start)?, parse_month_day(end)?))
}

/// Tells whether `date` (month, day) falls in a window; a window whose end
/// comes before its start wraps over the new year.
fn in_window(date: (u32, u32), window: ((u32, u32), (u32, u32))) -> bool {
    let (start, end) = window;
    if start <= end {
        start <= date && date <= end
    } else {
        date >= start || date <= end
    }
}

/// Computes the identity of the policy in force: a SHA-256 over the text of
/// every framework declaration, in framework order, then the text of the
/// governance policy (`stdlib/policy.toml` and any local policy file).
pub fn policy_hash(frameworks: &[FrameworkPolicy], governance_policy: &str) -> String {
    let texts = frameworks
        .iter()
        .map(|policy| (policy.framework, policy.text.as_str()));
    policy_hash_of_texts(texts, governance_policy)
}

/// Computes the identity of the policy in force like [`policy_hash`], from
/// each framework's declaration text alone.
pub fn policy_hash_of_texts<'a>(
    frameworks: impl IntoIterator<Item = (ComplianceFramework, &'a str)>,
    governance_policy: &str,
) -> String {
    let mut sorted: Vec<(ComplianceFramework, &str)> = frameworks.into_iter().collect();
    sorted.sort_by_key(|(framework, _)| *framework);
    let mut hasher = Sha256::new();
    for (_, text) in sorted {
        hasher.update(text.as_bytes());
        hasher.update(b"\n");
    }
    hasher.update(governance_policy.as_bytes());
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

fn compliance_fields() -> Vec<Field> {
    let strings = || ValueType::List(Box::new(ValueType::String));
    let framework = ValueType::enumeration(
        "compliance framework",
        ComplianceFramework::ALL,
        ComplianceFramework::name,
    );
    vec![
        Field::optional("frameworks", ValueType::List(Box::new(framework))),
        Field::optional("data_sovereignty_check", ValueType::Bool),
        Field::optional("audit_trail_required", ValueType::Bool),
        Field::optional("approval_required", ValueType::Bool),
        Field::optional("approvers", strings()),
        Field::optional("required_approvals", strings()),
    ]
}

impl Checker<'_> {
    /// Returns the policies in force: the frameworks declared or imported,
    /// and the standard library's for the others, except those that this
    /// file declares with errors.
    pub(super) fn policies(&self) -> Vec<FrameworkPolicy> {
        let mut policies = self.model.frameworks.clone();
        for policy in stdlib::frameworks() {
            let replaced = policies
                .iter()
                .any(|known| known.framework == policy.framework)
                || self.invalid_frameworks.contains(policy.framework.name());
            if !replaced {
                policies.push(policy.clone());
            }
        }
        policies
    }

    /// Checks the `compliance { ... }` section of an experiment.
    pub(super) fn check_compliance_section(
        &mut self,
        decl: &ExperimentDecl,
        shorthand: &[String],
    ) -> ComplianceSpec {
        let section = super::experiment::section(decl, "compliance");
        let settings = match section {
            Some(section) => {
                check_section_names(&mut self.diagnostics, &section.block.sections, &[]);
                check_properties(
                    &mut self.diagnostics,
                    &section.block.properties,
                    &compliance_fields(),
                    "compliance setting",
                    section.name.span,
                )
            }
            None => Settings::default(),
        };
        let mut frameworks: Vec<ComplianceFramework> = shorthand
            .iter()
            .filter_map(|name| ComplianceFramework::from_name(name))
            .collect();
        for name in settings.texts("frameworks") {
            if let Some(framework) = ComplianceFramework::from_name(&name)
                && !frameworks.contains(&framework)
            {
                frameworks.push(framework);
            }
        }
        let defaults = ComplianceSpec::default();
        ComplianceSpec {
            frameworks,
            data_sovereignty_check: settings
                .bool("data_sovereignty_check", defaults.data_sovereignty_check),
            audit_trail_required: settings
                .bool("audit_trail_required", defaults.audit_trail_required),
            approval_required: settings.bool("approval_required", defaults.approval_required),
            approvers: settings.texts("approvers"),
            required_approvals: settings.texts("required_approvals"),
        }
    }

    /// Checks the rules of every framework an experiment names.
    pub(super) fn check_compliance_rules(
        &mut self,
        decl: &ExperimentDecl,
        spec: &ComplianceSpec,
        steps: &[Step],
        scheduled_start: Option<&str>,
        risk: RiskLevel,
    ) {
        let section = super::experiment::section(decl, "compliance");
        let section_span = section.map_or(decl.name.span, |section| section.name.span);
        let setting_span = |name: &str| {
            section
                .and_then(|s| s.block.property(name))
                .map_or(section_span, |p| p.span)
        };
        // The policies in force are built only when a framework is named,
        // because that parses the stdlib frameworks.
        let policies = if spec.frameworks.is_empty() {
            Vec::new()
        } else {
            self.policies()
        };
        for framework in &spec.frameworks {
            let Some(policy) = policies
                .iter()
                .find(|policy| policy.framework == *framework)
            else {
                continue;
            };
            self.check_forbidden_faults(decl, policy, steps);
            for role in &policy.approval_roles {
                if !spec.required_approvals.contains(role) {
                    self.report(CheckError::ApprovalRoleMissing {
                        framework: framework.name().to_owned(),
                        role: role.clone(),
                        span: setting_span("required_approvals").into(),
                        help: Some(format!(
                            "add `\"{role}\"` to `required_approvals` in `compliance`"
                        )),
                    });
                }
            }
            if !policy.approval_roles.is_empty() && !spec.approval_required {
                self.report(CheckError::ApprovalRequired {
                    reason: format!("{} requires approvals", framework.name()),
                    span: setting_span("approval_required").into(),
                    help: Some("remove `approval_required = false`".to_owned()),
                });
            }
            if policy.audit_required && !spec.audit_trail_required {
                self.report(CheckError::AuditRequired {
                    framework: framework.name().to_owned(),
                    span: setting_span("audit_trail_required").into(),
                });
            }
            self.check_blackout(decl, policy, scheduled_start);
        }

        if matches!(risk, RiskLevel::High | RiskLevel::Critical) && !spec.approval_required {
            self.report(CheckError::ApprovalRequired {
                reason: format!("the experiment's risk is {risk}"),
                span: setting_span("approval_required").into(),
                help: Some(
                    "experiments of high or critical risk need approval; remove \
                     `approval_required = false`"
                        .to_owned(),
                ),
            });
        }
    }

    fn check_forbidden_faults(
        &mut self,
        decl: &ExperimentDecl,
        policy: &FrameworkPolicy,
        steps: &[Step],
    ) {
        for (step, step_decl) in steps.iter().zip(&decl.steps) {
            let mode = self
                .faults
                .get(&step.fault.kind)
                .map(|fault| fault.def.mode.name());
            let classes = self.data_classes_of(&step.targets);
            for class in classes {
                let Some(forbidden) = policy.forbidden.get(&class) else {
                    continue;
                };
                let hit = forbidden
                    .iter()
                    .find(|name| **name == step.fault.kind || Some(name.as_str()) == mode);
                if let Some(name) = hit {
                    self.report(CheckError::ForbiddenFault {
                        framework: policy.framework.name().to_owned(),
                        fault: step.fault.kind.clone(),
                        data_class: class.name().to_owned(),
                        span: step_decl.fault.name.span.into(),
                        help: Some(format!(
                            "`{name}` is forbidden on {} data; choose another fault or target \
                             a service without {} data",
                            class.name(),
                            class.name()
                        )),
                    });
                }
            }
        }
    }

    /// Returns the data classes of the services of `targets`.
    pub(super) fn data_classes_of(&self, targets: &[String]) -> Vec<DataClass> {
        let mut classes = Vec::new();
        for name in targets {
            let service = self.target(name).and_then(|t| t.service.as_deref());
            let Some(service) = service.and_then(|s| self.model.service(s)) else {
                continue;
            };
            for class in &service.data {
                if !classes.contains(class) {
                    classes.push(*class);
                }
            }
        }
        classes
    }

    fn check_blackout(
        &mut self,
        decl: &ExperimentDecl,
        policy: &FrameworkPolicy,
        start: Option<&str>,
    ) {
        let Some(start) = start else { return };
        let Ok(time) = DateTime::parse_from_rfc3339(start) else {
            return;
        };
        let utc = time.to_utc();
        let date = (utc.month(), utc.day());
        for window in &policy.blackout_windows {
            let Some(range) = parse_window(window) else {
                continue;
            };
            if in_window(date, range) {
                let span: Span = decl
                    .block
                    .property("scheduled_start")
                    .map_or(decl.name.span, |p| p.value.span);
                self.report(CheckError::BlackoutWindow {
                    framework: policy.framework.name().to_owned(),
                    window: window.clone(),
                    start: start.to_owned(),
                    span: span.into(),
                    help: Some("schedule the experiment outside the window".to_owned()),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_parses_month_days() {
        assert_eq!(parse_window("12-15..01-05"), Some(((12, 15), (1, 5))));
        assert_eq!(parse_window("13-01..01-05"), None);
    }

    #[test]
    fn window_wraps_over_new_year() {
        let window = parse_window("12-15..01-05").unwrap();
        assert!(in_window((12, 24), window));
        assert!(in_window((1, 2), window));
        assert!(!in_window((6, 1), window));
    }
}

//! Data sovereignty: where classified data may be. A target or service
//! declares its region (`region = "eu-west-1"`), and a compliance framework
//! lists, per data class, the regions allowed for it (`regions { pii =
//! ["eu-*"] }`). With `data_sovereignty_check` on, an experiment that names
//! such a framework may act on a target holding that class of data only in
//! an allowed region, and may send that data's traffic only to a target in
//! an allowed region. A target whose region is not declared fails the
//! check, since nothing proves that its data stays where it must.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use super::{CheckError, Checker};
use crate::model::{
    ActionKind, ComplianceSpec, DataClass, FrameworkPolicy, RecoveryPlan, Step, TargetSpec,
};
use crate::syntax::{ExperimentDecl, RecoveryDecl, Selector, Span};

/// The maximum length of a region name or pattern, in bytes.
const MAX_REGION_LEN: usize = 64;

/// Tells whether `text` is a region name: lowercase ASCII letters, digits
/// and `-`, starting with a letter, such as `eu-west-1` or `westeurope`.
pub fn is_region(text: &str) -> bool {
    text.len() <= MAX_REGION_LEN
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Tells whether `text` is a region pattern: a region name, or a prefix of
/// one followed by `*`.
pub fn is_region_pattern(text: &str) -> bool {
    match text.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => is_region(prefix),
        None => is_region(text),
    }
}

/// Tells whether `region` matches `pattern`: equal to it, or starting with
/// its prefix when it ends with `*`.
pub fn region_matches(pattern: &str, region: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => region.starts_with(prefix),
        None => region == pattern,
    }
}

/// The region and data classes of a target, as the files declare them.
struct Placement {
    /// The region, from the target or else from its service.
    region: Option<String>,
    /// The data classes of the target's service.
    classes: Vec<DataClass>,
    /// The declared region's value in this file, when it is written here.
    region_span: Option<Span>,
    /// The target's service, for help lines.
    service: Option<String>,
}

/// Something the experiment does with a target's data, and where it is
/// written.
struct Exposure {
    /// "step `slow` acts on target `db`".
    subject: String,
    target: String,
    span: Span,
    /// Extra data classes the exposure carries, such as those of the proxy
    /// whose traffic a switch sends to the target.
    carried: Vec<DataClass>,
    /// The remedy that the help line suggests.
    remedy: String,
}

impl Checker<'_> {
    /// Reports the steps and recovery actions that act on, or send traffic
    /// to, classified data outside the regions the named frameworks allow.
    pub(super) fn check_data_sovereignty(
        &mut self,
        decl: &ExperimentDecl,
        spec: &ComplianceSpec,
        steps: &[Step],
        plans: &[RecoveryPlan],
        plan_decls: &[RecoveryDecl],
    ) {
        // Without a framework named there is no region rule, and the policies
        // in force are not needed, so the stdlib frameworks stay unparsed.
        if !spec.data_sovereignty_check || spec.frameworks.is_empty() {
            return;
        }
        let policies: Vec<FrameworkPolicy> = self
            .policies()
            .into_iter()
            .filter(|policy| spec.frameworks.contains(&policy.framework))
            .filter(|policy| !policy.regions.is_empty())
            .collect();
        if policies.is_empty() {
            return;
        }

        let mut exposures = Vec::new();
        for (step, step_decl) in steps.iter().zip(&decl.steps) {
            let span = match &step_decl.selector {
                Selector::Name(name) => name.span,
                Selector::Labels { span, .. } => *span,
            };
            exposures.extend(step.targets.iter().map(|target| Exposure {
                subject: format!("step `{}` acts on target `{target}`", step.name),
                target: target.clone(),
                span,
                carried: Vec::new(),
                remedy: format!("act on a target there, or leave `{target}` out of the step"),
            }));
        }
        for (plan, plan_decl) in plans.iter().zip(plan_decls) {
            exposures.extend(self.plan_exposures(plan, plan_decl, &policies));
        }

        let mut reported = BTreeSet::new();
        for exposure in &exposures {
            for policy in &policies {
                self.check_exposure(exposure, policy, &mut reported);
            }
        }
    }

    /// Lists the targets a plan's actions act on, and the targets its
    /// traffic switches send data to. A switch to an address that no target
    /// serves is reported here, since no region can be found for it.
    fn plan_exposures(
        &mut self,
        plan: &RecoveryPlan,
        plan_decl: &RecoveryDecl,
        policies: &[FrameworkPolicy],
    ) -> Vec<Exposure> {
        let mut exposures = Vec::new();
        for action in &plan.actions {
            let span = action_span(plan_decl, &action.name, 0);
            if let Some(target) = action.kind.target() {
                exposures.push(Exposure {
                    subject: format!(
                        "recovery action `{}` acts on target `{target}`",
                        action.name
                    ),
                    target: target.to_owned(),
                    span,
                    carried: Vec::new(),
                    remedy: format!("act on a target there, or leave `{target}` out of the plan"),
                });
            }
            let ActionKind::SwitchTraffic { target, upstream } = &action.kind else {
                continue;
            };
            let carried = self.data_classes_of(std::slice::from_ref(target));
            let span = action_span(plan_decl, &action.name, 1);
            match self.target_serving(*upstream) {
                Some(destination) => {
                    // The switch uses the destination even when the
                    // experiment fails its check and leaves no model.
                    self.used_targets.insert(destination.clone());
                    exposures.push(Exposure {
                        subject: format!(
                            "recovery action `{}` sends the traffic of `{target}` to target \
                         `{destination}`",
                            action.name
                        ),
                        target: destination,
                        span,
                        carried,
                        remedy: "switch to the address of a target there".to_owned(),
                    });
                }
                None => {
                    let subject = format!(
                        "the address {upstream}, where recovery action `{}` sends the traffic \
                         of `{target}`,",
                        action.name
                    );
                    self.report_unknown_destination(&subject, &carried, span, policies);
                }
            }
        }
        exposures
    }

    /// Reports traffic of restricted data sent to an address that no
    /// declared target serves.
    fn report_unknown_destination(
        &mut self,
        subject: &str,
        carried: &[DataClass],
        span: Span,
        policies: &[FrameworkPolicy],
    ) {
        for policy in policies {
            let Some(&(class, allowed)) = restrictions(policy, carried).first() else {
                continue;
            };
            self.report(CheckError::RegionUndeclared {
                subject: subject.to_owned(),
                framework: policy.framework.name().to_owned(),
                data_class: class.name().to_owned(),
                span: span.into(),
                help: Some(format!(
                    "no declared target serves it; declare the target that listens there, with \
                     its `region`; {} allows {} data in {}",
                    policy.framework.name(),
                    class.name(),
                    patterns_text(allowed)
                )),
            });
        }
    }

    /// Checks one exposure against one framework, once per target and
    /// framework.
    fn check_exposure(
        &mut self,
        exposure: &Exposure,
        policy: &FrameworkPolicy,
        reported: &mut BTreeSet<(String, &'static str)>,
    ) {
        let placement = self.placement(&exposure.target);
        let mut classes = placement.classes.clone();
        classes.extend(exposure.carried.iter().copied());
        let restricted = restrictions(policy, &classes);
        let Some(&(first_class, first_allowed)) = restricted.first() else {
            return;
        };

        let framework = policy.framework.name();
        let Some(region) = &placement.region else {
            if reported.insert((exposure.target.clone(), framework)) {
                self.report_undeclared(exposure, &placement, policy, first_class, first_allowed);
            }
            return;
        };

        // The region must be allowed for every restricted class the target
        // holds, so the first class that does not allow it is reported.
        let violated = restricted.iter().find(|(_, allowed)| {
            !allowed
                .iter()
                .any(|pattern| region_matches(pattern, region))
        });
        let Some(&(class, allowed)) = violated else {
            return;
        };
        if !reported.insert((exposure.target.clone(), framework)) {
            return;
        }

        // The region's declaration is the thing to change, when it is in
        // this file; otherwise the place where the experiment acts on it.
        let span = placement.region_span.unwrap_or(exposure.span);
        self.report(CheckError::RegionNotAllowed {
            subject: exposure.subject.clone(),
            region: region.clone(),
            framework: framework.to_owned(),
            data_class: class.name().to_owned(),
            span: span.into(),
            help: Some(format!(
                "{framework} allows {} data only in {}; {}",
                class.name(),
                patterns_text(allowed),
                exposure.remedy
            )),
        });
    }

    fn report_undeclared(
        &mut self,
        exposure: &Exposure,
        placement: &Placement,
        policy: &FrameworkPolicy,
        class: DataClass,
        allowed: &[String],
    ) {
        let target = &exposure.target;
        let (subject, where_to) = match &placement.service {
            Some(service) => (
                format!("target `{target}` of service `{service}`"),
                format!("on target `{target}` or service `{service}`"),
            ),
            None => (
                format!("target `{target}`"),
                format!("on target `{target}`"),
            ),
        };
        self.report(CheckError::RegionUndeclared {
            subject,
            framework: policy.framework.name().to_owned(),
            data_class: class.name().to_owned(),
            span: exposure.span.into(),
            help: Some(format!(
                "write where it runs, as in `region = \"eu-west-1\"`, {where_to}; {} allows {} \
                 data in {}",
                policy.framework.name(),
                class.name(),
                patterns_text(allowed)
            )),
        });
    }

    /// Finds where target `name` and its data are.
    fn placement(&self, name: &str) -> Placement {
        let target = self.target(name);
        let service_name = target.and_then(|target| target.service.clone());
        let service = service_name
            .as_deref()
            .and_then(|service| self.model.service(service));
        let own = target.and_then(|target| target.region.clone());
        let (region, region_span) = match own {
            Some(region) => (
                Some(region),
                self.region_spans.get(&("target", name.to_owned())),
            ),
            None => {
                let region = service.and_then(|service| service.region.clone());
                let key = ("service", service_name.clone().unwrap_or_default());
                (region, self.region_spans.get(&key))
            }
        };
        Placement {
            region,
            classes: self.data_classes_of(&[name.to_owned()]),
            region_span: region_span.copied(),
            service: service_name,
        }
    }

    /// Finds the target that serves `address`: a launched process that is
    /// ready on it, or a proxy that listens on it.
    fn target_serving(&self, address: SocketAddr) -> Option<String> {
        self.model
            .targets
            .iter()
            .find(|target| match &target.spec {
                TargetSpec::Launched(spec) => spec.ready == Some(address),
                TargetSpec::Proxy(proxy) => proxy.listen == address,
                _ => false,
            })
            .map(|target| target.name.clone())
    }
}

/// Lists the classes of `classes` that `policy` restricts, in order, each
/// with its allowed region patterns.
fn restrictions<'a>(
    policy: &'a FrameworkPolicy,
    classes: &[DataClass],
) -> Vec<(DataClass, &'a [String])> {
    classes
        .iter()
        .filter_map(|class| {
            policy
                .regions
                .get(class)
                .map(|allowed| (*class, allowed.as_slice()))
        })
        .collect()
}

/// Finds where the action `name` of a plan is written: its argument at
/// `position`, or the plan's name. In a plan made from a template, an
/// argument that a parameter stands for points at the instance's argument,
/// and the template's own text at the call.
fn action_span(plan_decl: &RecoveryDecl, name: &str, position: usize) -> Span {
    plan_decl
        .actions
        .iter()
        .find(|action| action.name.name == name)
        .map_or(plan_decl.name.span, |action| {
            action
                .args
                .get(position)
                .map_or(action.span, |value| value.span)
        })
}

/// Lists region patterns for a help line, eight at most.
fn patterns_text(patterns: &[String]) -> String {
    const SHOWN: usize = 8;
    let quoted: Vec<String> = patterns
        .iter()
        .take(SHOWN)
        .map(|pattern| format!("`{pattern}`"))
        .collect();
    let more = patterns.len().saturating_sub(SHOWN);
    if more == 0 {
        quoted.join(", ")
    } else {
        format!("{} and {more} more", quoted.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        assert!(is_region("eu-west-1"));
        assert!(is_region("westeurope"));
        assert!(!is_region("EU-West-1"));
        assert!(!is_region("1eu"));
        assert!(!is_region(""));
        assert!(!is_region("eu west"));
    }

    #[test]
    fn region_patterns() {
        assert!(is_region_pattern("eu-*"));
        assert!(is_region_pattern("*"));
        assert!(is_region_pattern("eu-west-1"));
        assert!(!is_region_pattern("*-west-1"));
        assert!(!is_region_pattern("eu-**"));
    }

    #[test]
    fn patterns_match_prefixes() {
        assert!(region_matches("eu-*", "eu-west-1"));
        assert!(!region_matches("eu-*", "us-east-1"));
        assert!(region_matches("westeurope", "westeurope"));
        assert!(!region_matches("westeurope", "westeurope2"));
        assert!(region_matches("*", "us-east-1"));
    }
}

//! The assessment of one experiment before it runs: its content hash, the
//! policy identity, its risk with the reasons, the approvals it needs and
//! the business impact of its worst case.

use std::path::Path;

use serde::Serialize;

use super::approval::Requirement;
use super::content::content_hash;
use super::impact::BusinessImpact;
use super::policy::Policy;
use super::risk::RiskExplanation;
use crate::check::risk::RiskFactors;
use crate::model::{FrameworkPolicy, Model};
use crate::plan::Plan;

/// What governance knows about one experiment of one file.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub experiment: String,
    pub file: String,
    pub content_hash: String,
    pub policy_hash: String,
    pub frameworks: Vec<String>,
    pub risk: RiskExplanation,
    pub requirement: Requirement,
    pub impact: BusinessImpact,
    /// The framework policies in force, for the calendar and reports.
    #[serde(skip)]
    pub framework_policies: Vec<FrameworkPolicy>,
}

impl Assessment {
    /// Assesses the planned experiment of the file at `path`, whose text is
    /// `source`, under `policy`.
    pub fn of(
        path: &Path,
        source: &str,
        model: &Model,
        plan: &Plan,
        policy: &Policy,
        requested_by: Option<&str>,
    ) -> Assessment {
        let experiment = &plan.experiment;
        let framework_policies = frameworks_in_force(model);
        let factors = RiskFactors::of(model, experiment.severity, &experiment.steps);
        let risk = RiskExplanation::of(&factors);
        let requirement = Requirement::of(
            experiment,
            risk.level,
            &framework_policies,
            policy,
            requested_by,
        );
        Assessment {
            experiment: experiment.name.clone(),
            file: plan.file.clone(),
            content_hash: content_hash(path, source),
            policy_hash: crate::check::policy_hash(&framework_policies, &policy.identity_text()),
            frameworks: experiment
                .compliance
                .frameworks
                .iter()
                .map(|framework| framework.name().to_owned())
                .collect(),
            impact: BusinessImpact::estimate(model, experiment, &framework_policies),
            risk,
            requirement,
            framework_policies,
        }
    }
}

/// Returns the framework policies in force: those the file declares or
/// imports, and the standard library's for the others.
pub fn frameworks_in_force(model: &Model) -> Vec<FrameworkPolicy> {
    let mut policies = model.frameworks.clone();
    for policy in crate::check::stdlib::frameworks() {
        if !policies
            .iter()
            .any(|known| known.framework == policy.framework)
        {
            policies.push(policy.clone());
        }
    }
    policies
}

/// Returns the policy identity when no file declares its own frameworks.
pub fn default_policy_hash(policy: &Policy) -> String {
    // These are the texts of `frameworks_in_force(&Model::default())`, read
    // from the stdlib index so that each `chaosc check`, which records this
    // hash, does not parse the frameworks.
    let texts = crate::check::stdlib::framework_texts();
    crate::check::policy_hash_of_texts(texts, &policy.identity_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_hash_matches_parsed_frameworks() {
        let policy = Policy::default_only();
        let parsed = crate::check::policy_hash(
            &frameworks_in_force(&Model::default()),
            &policy.identity_text(),
        );
        assert_eq!(default_policy_hash(&policy), parsed);
    }
}

//! The explanation of an experiment's risk level: which input added how
//! many points, as `chaosc plan` prints it. The level itself comes from
//! `check::risk`, and a test keeps the two in step.

use serde::Serialize;

use crate::check::risk::{RiskFactors, WIDE_BLAST_RADIUS, is_sensitive};
use crate::model::{RiskLevel, ServiceTier, Severity};

/// One input of the risk score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskInput {
    /// `severity`, `blast radius`, `data` or `tier`.
    pub input: &'static str,
    /// The experiment's value of the input, such as `6 targets`.
    pub value: String,
    pub points: u32,
}

/// A risk level with the inputs that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskExplanation {
    pub level: RiskLevel,
    pub score: u32,
    pub inputs: Vec<RiskInput>,
}

impl RiskExplanation {
    /// Explains the level of `factors`.
    pub fn of(factors: &RiskFactors) -> RiskExplanation {
        let severity_points = match factors.severity {
            Severity::Low => 0,
            Severity::Medium => 1,
            Severity::High => 2,
            Severity::Critical => 3,
        };
        let sensitive: Vec<&str> = factors
            .data
            .iter()
            .filter(|class| is_sensitive(**class))
            .map(|class| class.name())
            .collect();
        let data_value = if factors.data.is_empty() {
            "no classified data".to_owned()
        } else {
            let all: Vec<&str> = factors.data.iter().map(|class| class.name()).collect();
            format!("{} (sensitive: {})", all.join(", "), none_or(&sensitive))
        };
        let tiers: Vec<&str> = factors.tiers.iter().map(|tier| tier.name()).collect();
        let inputs = vec![
            RiskInput {
                input: "severity",
                value: factors.severity.name().to_owned(),
                points: severity_points,
            },
            RiskInput {
                input: "blast radius",
                value: format!(
                    "{} target{} (wide from {WIDE_BLAST_RADIUS})",
                    factors.targets,
                    if factors.targets == 1 { "" } else { "s" }
                ),
                points: u32::from(factors.targets >= WIDE_BLAST_RADIUS),
            },
            RiskInput {
                input: "data",
                value: data_value,
                points: u32::from(!sensitive.is_empty()),
            },
            RiskInput {
                input: "tier",
                value: if tiers.is_empty() {
                    "no tier".to_owned()
                } else {
                    tiers.join(", ")
                },
                points: u32::from(factors.tiers.contains(&ServiceTier::Critical)),
            },
        ];
        let score = inputs.iter().map(|input| input.points).sum();
        RiskExplanation {
            level: factors.level(),
            score,
            inputs,
        }
    }

    /// Renders the explanation as indented lines for the plan.
    pub fn render(&self) -> String {
        let mut out = format!(
            "risk {} (score {}: 0 low, 1 medium, 2 high, 3 or more critical)\n",
            self.level, self.score
        );
        for input in &self.inputs {
            out.push_str(&format!(
                "  {:<13} {:<40} +{}\n",
                input.input, input.value, input.points
            ));
        }
        out
    }
}

fn none_or(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DataClass;

    /// Severity, targets, data classes, tiers, then the expected level.
    type Case = (
        Severity,
        usize,
        &'static [DataClass],
        &'static [ServiceTier],
        RiskLevel,
    );

    const CASES: &[Case] = &[
        (Severity::Low, 1, &[], &[], RiskLevel::Low),
        (Severity::Medium, 1, &[], &[], RiskLevel::Medium),
        (Severity::High, 1, &[], &[], RiskLevel::High),
        (Severity::Critical, 1, &[], &[], RiskLevel::Critical),
        (Severity::Low, 4, &[], &[], RiskLevel::Low),
        (Severity::Low, 5, &[], &[], RiskLevel::Medium),
        (
            Severity::Low,
            1,
            &[DataClass::Internal],
            &[],
            RiskLevel::Low,
        ),
        (
            Severity::Low,
            1,
            &[DataClass::Public, DataClass::Pii],
            &[],
            RiskLevel::Medium,
        ),
        (
            Severity::Low,
            1,
            &[DataClass::Cardholder],
            &[ServiceTier::Critical],
            RiskLevel::High,
        ),
        (Severity::Low, 1, &[], &[ServiceTier::High], RiskLevel::Low),
        (
            Severity::Medium,
            5,
            &[DataClass::Phi],
            &[],
            RiskLevel::Critical,
        ),
        (
            Severity::High,
            1,
            &[DataClass::Financial],
            &[],
            RiskLevel::Critical,
        ),
        (
            Severity::Critical,
            9,
            &[DataClass::Phi],
            &[ServiceTier::Critical],
            RiskLevel::Critical,
        ),
    ];

    #[test]
    fn risk_cases_give_expected_levels() {
        for (severity, targets, data, tiers, expected) in CASES {
            let factors = RiskFactors {
                severity: *severity,
                targets: *targets,
                data: data.to_vec(),
                tiers: tiers.to_vec(),
            };
            let explanation = RiskExplanation::of(&factors);
            let case = format!("{severity} with {targets} targets, {data:?}, {tiers:?}");
            assert_eq!(factors.level(), *expected, "level of {case}");
            assert_eq!(explanation.level, *expected, "explained level of {case}");
        }
    }

    #[test]
    fn explanation_score_matches_level() {
        for (severity, targets, data, tiers, _) in CASES {
            let factors = RiskFactors {
                severity: *severity,
                targets: *targets,
                data: data.to_vec(),
                tiers: tiers.to_vec(),
            };
            let explanation = RiskExplanation::of(&factors);
            let from_score = match explanation.score {
                0 => RiskLevel::Low,
                1 => RiskLevel::Medium,
                2 => RiskLevel::High,
                _ => RiskLevel::Critical,
            };
            assert_eq!(from_score, factors.level(), "{explanation:?}");
        }
    }

    #[test]
    fn explanation_names_each_input() {
        let factors = RiskFactors {
            severity: Severity::Medium,
            targets: 6,
            data: vec![DataClass::Pii],
            tiers: vec![ServiceTier::Critical],
        };
        let text = RiskExplanation::of(&factors).render();
        assert!(text.starts_with("risk critical (score 4"), "{text}");
        assert!(text.contains("6 targets (wide from 5)"), "{text}");
        assert!(text.contains("pii (sensitive: pii)"), "{text}");
    }
}

//! The risk level of an experiment, computed from its severity, its blast
//! radius, the data classes it touches and the tier of its services.
//!
//! The score starts at the severity (low 0, medium 1, high 2, critical 3)
//! and gains one point for each of: five or more targets touched, a service
//! holding sensitive data (PII, PHI, cardholder or financial data), and a
//! service of tier `critical`. Scores of 0, 1 and 2 are low, medium and high
//! risk; 3 and above is critical.

use crate::model::{DataClass, Model, RiskLevel, ServiceTier, Severity, Step};

/// The number of targets from which the blast radius raises the risk.
pub const WIDE_BLAST_RADIUS: usize = 5;

/// What the risk of an experiment is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFactors {
    pub severity: Severity,
    /// Distinct targets the steps act on.
    pub targets: usize,
    pub data: Vec<DataClass>,
    pub tiers: Vec<ServiceTier>,
}

impl RiskFactors {
    /// Gathers the factors of an experiment's steps from the model they
    /// belong to.
    pub fn of(model: &Model, severity: Severity, steps: &[Step]) -> RiskFactors {
        let mut targets: Vec<&str> = Vec::new();
        for step in steps {
            for target in &step.targets {
                if !targets.contains(&target.as_str()) {
                    targets.push(target);
                }
            }
        }
        let services = targets
            .iter()
            .filter_map(|name| model.target(name)?.service.as_deref())
            .filter_map(|name| model.service(name));
        let mut data = Vec::new();
        let mut tiers = Vec::new();
        for service in services {
            for class in &service.data {
                if !data.contains(class) {
                    data.push(*class);
                }
            }
            if let Some(tier) = service.tier
                && !tiers.contains(&tier)
            {
                tiers.push(tier);
            }
        }
        RiskFactors {
            severity,
            targets: targets.len(),
            data,
            tiers,
        }
    }

    /// Computes the risk level.
    pub fn level(&self) -> RiskLevel {
        let mut score = match self.severity {
            Severity::Low => 0,
            Severity::Medium => 1,
            Severity::High => 2,
            Severity::Critical => 3,
        };
        if self.targets >= WIDE_BLAST_RADIUS {
            score += 1;
        }
        if self.data.iter().any(|class| is_sensitive(*class)) {
            score += 1;
        }
        if self.tiers.contains(&ServiceTier::Critical) {
            score += 1;
        }
        match score {
            0 => RiskLevel::Low,
            1 => RiskLevel::Medium,
            2 => RiskLevel::High,
            _ => RiskLevel::Critical,
        }
    }
}

/// Tells whether a data class is regulated or sensitive.
pub fn is_sensitive(class: DataClass) -> bool {
    matches!(
        class,
        DataClass::Pii | DataClass::Phi | DataClass::Cardholder | DataClass::Financial
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factors(severity: Severity) -> RiskFactors {
        RiskFactors {
            severity,
            targets: 1,
            data: Vec::new(),
            tiers: Vec::new(),
        }
    }

    #[test]
    fn severity_alone_sets_level() {
        assert_eq!(factors(Severity::Low).level(), RiskLevel::Low);
        assert_eq!(factors(Severity::High).level(), RiskLevel::High);
    }

    #[test]
    fn sensitive_data_raises_level() {
        let mut low = factors(Severity::Low);
        low.data = vec![DataClass::Cardholder];
        assert_eq!(low.level(), RiskLevel::Medium);
    }

    #[test]
    fn all_factors_reach_critical() {
        let factors = RiskFactors {
            severity: Severity::Medium,
            targets: 6,
            data: vec![DataClass::Phi],
            tiers: vec![ServiceTier::Critical],
        };
        assert_eq!(factors.level(), RiskLevel::Critical);
    }
}

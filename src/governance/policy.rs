//! The governance policy in force: `stdlib/policy.toml`, embedded in the
//! binary, with a local policy file laid over it. It sets the roles each
//! risk level needs, who may approve their own experiment, the business
//! hours and blackout windows, and whether the clock may be overridden.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::GovernanceError;
use crate::cli::source::read_source;
use crate::model::RiskLevel;

/// The default policy.
pub const DEFAULT_POLICY: &str = include_str!("../../stdlib/policy.toml");

/// The name of the local policy file looked for in the state directory.
pub const LOCAL_POLICY_FILE: &str = "policy.toml";

/// Whether the person who requests an experiment may approve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfApproval {
    /// Their approval counts like anyone's.
    Allowed,
    /// Their approval counts only when another person approved too.
    NotAlone,
    /// Their approval counts for no role.
    Forbidden,
}

impl std::fmt::Display for SelfApproval {
    /// Writes the rule as the policy file spells it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SelfApproval::Allowed => "allowed",
            SelfApproval::NotAlone => "not_alone",
            SelfApproval::Forbidden => "forbidden",
        })
    }
}

impl SelfApproval {
    /// Returns the stricter of two rules.
    pub fn stricter(self, other: SelfApproval) -> SelfApproval {
        let rank = |rule| match rule {
            SelfApproval::Allowed => 0,
            SelfApproval::NotAlone => 1,
            SelfApproval::Forbidden => 2,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// The business hours and blackout windows of the policy.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulePolicy {
    /// An IANA time zone; `None` is the host's local time.
    pub zone: Option<String>,
    pub business_hours: String,
    #[serde(default)]
    pub blackout: Vec<String>,
}

/// Rules of one compliance framework that replace the general ones.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkRules {
    pub self_approval: Option<SelfApproval>,
}

/// The policy document, after the local file was laid over the default.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    pub allow_clock_override: bool,
    pub self_approval: SelfApproval,
    pub schedule: SchedulePolicy,
    pub risk_approvals: BTreeMap<RiskLevel, Vec<String>>,
    #[serde(default)]
    pub frameworks: BTreeMap<String, FrameworkRules>,
}

/// The policy in force and where it came from.
#[derive(Debug, Clone)]
pub struct Policy {
    pub document: PolicyDocument,
    /// The local policy file, when there is one.
    pub local_path: Option<PathBuf>,
    /// The local file's text, hashed into the policy identity.
    pub local_text: Option<String>,
}

impl Policy {
    /// Loads the policy: the default, with `explicit` laid over it, or else
    /// `policy.toml` of the state directory when that file exists.
    pub fn load(explicit: Option<&Path>, state_dir: &Path) -> Result<Policy, GovernanceError> {
        let in_state_dir = state_dir.join(LOCAL_POLICY_FILE);
        let path = match explicit {
            Some(path) => Some(path.to_owned()),
            None => in_state_dir.is_file().then_some(in_state_dir),
        };
        let local_text = match &path {
            // A policy file is read with the checks of a `.chaos` file, so
            // that a FIFO or a device cannot block or fill memory.
            Some(path) => Some(
                read_source(path)
                    .map_err(|error| GovernanceError::PolicyUnreadable {
                        path: path.display().to_string(),
                        reason: error.reason(),
                    })?
                    .text,
            ),
            None => None,
        };
        let document = merge_documents(local_text.as_deref(), path.as_deref())?;
        Ok(Policy {
            document,
            local_path: path,
            local_text,
        })
    }

    /// Returns the default policy alone.
    pub fn default_only() -> Policy {
        Policy {
            document: merge_documents(None, None).expect("the default policy is valid"),
            local_path: None,
            local_text: None,
        }
    }

    /// Returns the text hashed into the policy identity with the frameworks:
    /// the default policy and the local file as written.
    pub fn identity_text(&self) -> String {
        let mut text = String::from(DEFAULT_POLICY);
        if let Some(local) = &self.local_text {
            text.push_str("\n# local policy\n");
            text.push_str(local);
        }
        text
    }

    /// Returns the roles that an experiment of `risk` needs.
    pub fn roles_for_risk(&self, risk: RiskLevel) -> &[String] {
        self.document
            .risk_approvals
            .get(&risk)
            .map_or(&[], Vec::as_slice)
    }

    /// Returns the self-approval rule for an experiment under `frameworks`:
    /// the strictest of the general rule and each framework's own.
    pub fn self_approval(&self, frameworks: &[String]) -> SelfApproval {
        frameworks
            .iter()
            .filter_map(|name| self.document.frameworks.get(name)?.self_approval)
            .fold(self.document.self_approval, SelfApproval::stricter)
    }
}

/// Parses the default policy, lays the local text over it and checks the
/// result.
fn merge_documents(
    local: Option<&str>,
    path: Option<&Path>,
) -> Result<PolicyDocument, GovernanceError> {
    let invalid = |reason: String| GovernanceError::PolicyInvalid {
        path: path.map_or("stdlib/policy.toml".to_owned(), |p| p.display().to_string()),
        reason,
    };
    let mut merged: toml::Table = DEFAULT_POLICY.parse().expect("the default policy parses");
    if let Some(local) = local {
        let overlay: toml::Table = local
            .parse()
            .map_err(|error: toml::de::Error| invalid(error.message().to_owned()))?;
        merge_tables(&mut merged, overlay);
    }
    let document: PolicyDocument = toml::Value::Table(merged)
        .try_into()
        .map_err(|error: toml::de::Error| invalid(error.message().to_owned()))?;
    validate(&document).map_err(invalid)?;
    Ok(document)
}

/// Lays `overlay` over `base`: tables merge key by key, other values replace.
fn merge_tables(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(over)) => {
                merge_tables(inner, over)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Checks what the types alone do not: the zone, hours and windows parse.
fn validate(document: &PolicyDocument) -> Result<(), String> {
    use super::window::{Blackout, BusinessHours, Zone, shown};
    let schedule = &document.schedule;
    let zone = match &schedule.zone {
        Some(name) => Zone::parse(name)?,
        None => Zone::Local,
    };
    BusinessHours::parse(&schedule.business_hours)
        .map_err(|reason| format!("`schedule.business_hours`: {reason}"))?;
    for window in &schedule.blackout {
        Blackout::parse(window, &zone, "policy")
            .map_err(|reason| format!("blackout window `{}`: {reason}", shown(window)))?;
    }
    for name in document.frameworks.keys() {
        if crate::model::ComplianceFramework::from_name(name).is_none() {
            return Err(format!("`frameworks.{name}` is not a compliance framework"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_parses() {
        let policy = Policy::default_only();
        assert_eq!(policy.roles_for_risk(RiskLevel::High), ["change_manager"]);
        assert!(policy.roles_for_risk(RiskLevel::Low).is_empty());
        assert!(!policy.document.allow_clock_override);
    }

    #[test]
    fn local_file_overrides_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("local.toml");
        std::fs::write(
            &path,
            "allow_clock_override = true\n[schedule]\nzone = \"Asia/Tokyo\"\n",
        )
        .unwrap();
        let policy = Policy::load(Some(&path), dir.path()).unwrap();
        assert!(policy.document.allow_clock_override);
        assert_eq!(policy.document.schedule.zone.as_deref(), Some("Asia/Tokyo"));
        // Keys the local file leaves out keep their defaults.
        assert_eq!(
            policy.document.schedule.business_hours,
            "Mon-Fri 09:00-17:00"
        );
        assert_ne!(
            policy.identity_text(),
            Policy::default_only().identity_text()
        );
    }

    #[test]
    fn local_file_in_state_dir_is_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(LOCAL_POLICY_FILE),
            "self_approval = \"allowed\"\n",
        )
        .unwrap();
        let policy = Policy::load(None, dir.path()).unwrap();
        assert_eq!(policy.document.self_approval, SelfApproval::Allowed);
    }

    #[test]
    fn invalid_local_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        for text in [
            "allow_clock_overide = true",
            "[schedule]\nzone = \"Mars/Base\"",
            "[schedule]\nblackout = [\"soon\"]",
            "[frameworks.soc2]\nself_approval = \"allowed\"",
        ] {
            std::fs::write(&path, text).unwrap();
            let error = Policy::load(Some(&path), dir.path()).unwrap_err();
            assert!(
                matches!(error, GovernanceError::PolicyInvalid { .. }),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn strictest_self_approval_wins() {
        let policy = Policy::default_only();
        assert_eq!(policy.self_approval(&[]), SelfApproval::NotAlone);
        let sox = policy.self_approval(&["gdpr".to_owned(), "sox".to_owned()]);
        assert_eq!(sox, SelfApproval::Forbidden);
    }
}

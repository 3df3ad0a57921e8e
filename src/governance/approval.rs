//! Approvals: the roles an experiment needs, the approvals recorded in the
//! store for its exact content, and whether they cover every role under the
//! policy's self-approval rule.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::policy::{Policy, SelfApproval};
use crate::model::{Experiment, FrameworkPolicy, RiskLevel};
use crate::store::StoreError;

/// A role an experiment needs, with what requires it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequiredRole {
    pub role: String,
    /// `experiment`, `risk high`, `framework sox` and so on.
    pub required_by: Vec<String>,
}

/// Who must approve an experiment, and under which rule.
#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    pub roles: Vec<RequiredRole>,
    pub self_approval: SelfApproval,
    /// The people who request the experiment.
    pub requesters: Vec<String>,
    /// The people allowed to approve; empty allows anyone.
    pub approvers: Vec<String>,
}

impl Requirement {
    /// Gathers the roles from the experiment's own `required_approvals`, the
    /// policy's roles for its risk level and the roles of each framework it
    /// names.
    pub fn of(
        experiment: &Experiment,
        risk: RiskLevel,
        frameworks: &[FrameworkPolicy],
        policy: &Policy,
        requested_by: Option<&str>,
    ) -> Requirement {
        let mut roles: Vec<RequiredRole> = Vec::new();
        let mut add = |role: &str, source: String| match roles.iter_mut().find(|r| r.role == role) {
            Some(known) => known.required_by.push(source),
            None => roles.push(RequiredRole {
                role: role.to_owned(),
                required_by: vec![source],
            }),
        };
        for role in &experiment.compliance.required_approvals {
            add(role, "experiment".to_owned());
        }
        for role in policy.roles_for_risk(risk) {
            add(role, format!("risk {risk}"));
        }
        for framework in &experiment.compliance.frameworks {
            let policy = frameworks.iter().find(|p| p.framework == *framework);
            for role in policy.map_or(&[][..], |p| p.approval_roles.as_slice()) {
                add(role, format!("framework {framework}"));
            }
        }

        let names: Vec<String> = experiment
            .compliance
            .frameworks
            .iter()
            .map(|framework| framework.name().to_owned())
            .collect();
        let mut requesters = Vec::new();
        for name in [requested_by, experiment.metadata.created_by.as_deref()]
            .into_iter()
            .flatten()
        {
            if !requesters.iter().any(|known| known == name) {
                requesters.push(name.to_owned());
            }
        }
        Requirement {
            roles,
            self_approval: policy.self_approval(&names),
            requesters,
            approvers: experiment.compliance.approvers.clone(),
        }
    }

    /// Tells whether an experiment needs the role.
    pub fn needs(&self, role: &str) -> bool {
        self.roles.iter().any(|required| required.role == role)
    }

    /// Returns the role names, comma-separated and quoted for messages.
    pub fn role_list(&self) -> String {
        quoted_list(self.roles.iter().map(|role| role.role.as_str()))
    }
}

/// An approval as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub experiment: String,
    pub file: String,
    /// The content hash of the scenario when it was approved.
    pub content_hash: String,
    pub policy_hash: String,
    pub role: String,
    pub approver: String,
    pub comment: Option<String>,
    pub approved_at: String,
}

/// Stores an approval.
pub fn record(connection: &Connection, approval: &Approval) -> Result<(), StoreError> {
    connection.execute(
        "INSERT INTO approvals
         (experiment, file, content_hash, policy_hash, role, approver, comment, approved_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            approval.experiment,
            approval.file,
            approval.content_hash,
            approval.policy_hash,
            approval.role,
            approval.approver,
            approval.comment,
            approval.approved_at
        ],
    )?;
    Ok(())
}

/// Lists every approval of an experiment, oldest first, whatever content
/// it was given for.
pub fn approvals_of(
    connection: &Connection,
    experiment: &str,
) -> Result<Vec<Approval>, StoreError> {
    let mut statement = connection.prepare(
        "SELECT experiment, file, content_hash, policy_hash, role, approver, comment, approved_at
         FROM approvals WHERE experiment = ?1 ORDER BY id",
    )?;
    let rows = statement.query_map([experiment], |row| {
        Ok(Approval {
            experiment: row.get(0)?,
            file: row.get(1)?,
            content_hash: row.get(2)?,
            policy_hash: row.get(3)?,
            role: row.get(4)?,
            approver: row.get(5)?,
            comment: row.get(6)?,
            approved_at: row.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether one role is covered.
#[derive(Debug, Clone, Serialize)]
pub struct RoleStatus {
    pub role: String,
    pub required_by: Vec<String>,
    /// The people whose approval counts for the role.
    pub approved_by: Vec<String>,
    /// Why an approval given for the role does not count, when one does not.
    pub note: Option<String>,
}

/// The approvals of an experiment against what it needs.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalStatus {
    pub content_hash: String,
    pub roles: Vec<RoleStatus>,
    pub missing: Vec<String>,
    /// Approvals of earlier content of the scenario, void since it changed.
    pub void: Vec<Approval>,
}

impl ApprovalStatus {
    /// Compares the approvals of an experiment with its requirement; only
    /// approvals of `content_hash` count.
    pub fn evaluate(
        requirement: &Requirement,
        approvals: &[Approval],
        content_hash: &str,
    ) -> ApprovalStatus {
        let (current, void): (Vec<&Approval>, Vec<&Approval>) = approvals
            .iter()
            .partition(|approval| approval.content_hash == content_hash);
        let is_requester = |name: &str| requirement.requesters.iter().any(|r| r == name);
        let is_allowed = |name: &str| {
            requirement.approvers.is_empty() || requirement.approvers.iter().any(|a| a == name)
        };
        let someone_else = current
            .iter()
            .any(|approval| !is_requester(&approval.approver) && is_allowed(&approval.approver));

        let mut roles = Vec::new();
        for required in &requirement.roles {
            let given: Vec<&&Approval> =
                current.iter().filter(|a| a.role == required.role).collect();
            let mut approved_by: Vec<String> = Vec::new();
            let mut note = None;
            for approval in given {
                let name = approval.approver.as_str();
                let counts = if !is_allowed(name) {
                    note = Some(format!("`{name}` is not among the experiment's approvers"));
                    false
                } else if is_requester(name) {
                    match requirement.self_approval {
                        SelfApproval::Allowed => true,
                        SelfApproval::NotAlone if someone_else => true,
                        SelfApproval::NotAlone => {
                            note = Some(format!(
                                "`{name}` requested the experiment and may not approve it alone"
                            ));
                            false
                        }
                        SelfApproval::Forbidden => {
                            note = Some(format!(
                                "`{name}` requested the experiment and may not approve it"
                            ));
                            false
                        }
                    }
                } else {
                    true
                };
                if counts && !approved_by.iter().any(|known| known == name) {
                    approved_by.push(name.to_owned());
                }
            }
            roles.push(RoleStatus {
                role: required.role.clone(),
                required_by: required.required_by.clone(),
                approved_by,
                note,
            });
        }
        let missing = roles
            .iter()
            .filter(|role| role.approved_by.is_empty())
            .map(|role| role.role.clone())
            .collect();
        ApprovalStatus {
            content_hash: content_hash.to_owned(),
            roles,
            missing,
            void: void.into_iter().cloned().collect(),
        }
    }
}

/// Joins names as `` `a`, `b` and `c` ``.
pub fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.into_iter().map(|name| format!("`{name}`")).collect();
    match names.as_slice() {
        [] => "nothing".to_owned(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirement(rule: SelfApproval) -> Requirement {
        Requirement {
            roles: vec![
                RequiredRole {
                    role: "security_officer".to_owned(),
                    required_by: vec!["framework pci_dss".to_owned()],
                },
                RequiredRole {
                    role: "change_manager".to_owned(),
                    required_by: vec!["risk high".to_owned()],
                },
            ],
            self_approval: rule,
            requesters: vec!["alice".to_owned()],
            approvers: Vec::new(),
        }
    }

    fn approval(role: &str, approver: &str, hash: &str) -> Approval {
        Approval {
            experiment: "e".to_owned(),
            file: "e.chaos".to_owned(),
            content_hash: hash.to_owned(),
            policy_hash: "p".to_owned(),
            role: role.to_owned(),
            approver: approver.to_owned(),
            comment: None,
            approved_at: "2026-03-02T10:00:00Z".to_owned(),
        }
    }

    #[test]
    fn every_role_covered() {
        let approvals = [
            approval("security_officer", "bob", "h"),
            approval("change_manager", "carol", "h"),
        ];
        let status =
            ApprovalStatus::evaluate(&requirement(SelfApproval::NotAlone), &approvals, "h");
        assert!(status.missing.is_empty());
    }

    #[test]
    fn approval_of_other_content_is_void() {
        let approvals = [
            approval("security_officer", "bob", "old"),
            approval("change_manager", "carol", "h"),
        ];
        let status =
            ApprovalStatus::evaluate(&requirement(SelfApproval::NotAlone), &approvals, "h");
        assert_eq!(status.missing, ["security_officer"]);
        assert_eq!(status.void.len(), 1);
    }

    #[test]
    fn requester_may_not_approve_alone() {
        let alone = [
            approval("security_officer", "alice", "h"),
            approval("change_manager", "alice", "h"),
        ];
        let status = ApprovalStatus::evaluate(&requirement(SelfApproval::NotAlone), &alone, "h");
        assert_eq!(status.missing, ["security_officer", "change_manager"]);

        let with_bob = [
            approval("security_officer", "alice", "h"),
            approval("change_manager", "bob", "h"),
        ];
        let status = ApprovalStatus::evaluate(&requirement(SelfApproval::NotAlone), &with_bob, "h");
        assert!(status.missing.is_empty());
    }

    #[test]
    fn forbidden_self_approval_never_counts() {
        let approvals = [
            approval("security_officer", "alice", "h"),
            approval("change_manager", "bob", "h"),
        ];
        let status =
            ApprovalStatus::evaluate(&requirement(SelfApproval::Forbidden), &approvals, "h");
        assert_eq!(status.missing, ["security_officer"]);
        assert!(status.roles[0].note.as_deref().unwrap().contains("alice"));
    }

    #[test]
    fn list_reads_naturally() {
        assert_eq!(quoted_list(["a"]), "`a`");
        assert_eq!(quoted_list(["a", "b", "c"]), "`a`, `b` and `c`");
    }
}

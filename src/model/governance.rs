//! The service catalog, compliance policies and experiment metadata, after
//! checking.

use std::collections::BTreeMap;
use std::time::Duration;

use super::enums::{ComplianceFramework, DataClass, ServiceTier};

/// An entry of the service catalog.
#[derive(Debug, Clone, Default)]
pub struct Service {
    pub name: String,
    pub tier: Option<ServiceTier>,
    pub data: Vec<DataClass>,
    /// Revenue lost per minute of downtime, with its currency.
    pub revenue_per_minute: Option<(f64, String)>,
    pub customers: Option<i64>,
    /// Maximum tolerable downtime.
    pub mtd: Option<Duration>,
    /// Recovery time objective.
    pub rto: Option<Duration>,
    /// Recovery point objective.
    pub rpo: Option<Duration>,
    pub owner: Option<String>,
    /// The region where the service runs and keeps its data, such as
    /// `eu-west-1`. A target's own region takes precedence over it.
    pub region: Option<String>,
}

/// The policy data of one compliance framework.
#[derive(Debug, Clone)]
pub struct FrameworkPolicy {
    pub framework: ComplianceFramework,
    /// For each data class, the fault kinds and failure modes forbidden on
    /// services that hold it.
    pub forbidden: BTreeMap<DataClass, Vec<String>>,
    /// For each data class, the region patterns where the data may be:
    /// names such as `eu-west-1`, or prefixes such as `eu-*`.
    pub regions: BTreeMap<DataClass, Vec<String>>,
    /// The roles that must approve an experiment under this framework.
    pub approval_roles: Vec<String>,
    pub audit_required: bool,
    /// Annual date ranges `MM-DD..MM-DD` (UTC) when no experiment may start.
    pub blackout_windows: Vec<String>,
    /// The declaration as written, hashed into the policy identity.
    pub text: String,
}

/// The compliance requirements of an experiment.
#[derive(Debug, Clone)]
pub struct ComplianceSpec {
    pub frameworks: Vec<ComplianceFramework>,
    pub data_sovereignty_check: bool,
    pub audit_trail_required: bool,
    pub approval_required: bool,
    /// The people allowed to approve.
    pub approvers: Vec<String>,
    /// The roles whose approval the experiment needs.
    pub required_approvals: Vec<String>,
}

impl Default for ComplianceSpec {
    /// The defaults of the safety model: every check on, nobody listed.
    fn default() -> Self {
        ComplianceSpec {
            frameworks: Vec::new(),
            data_sovereignty_check: true,
            audit_trail_required: true,
            approval_required: true,
            approvers: Vec::new(),
            required_approvals: Vec::new(),
        }
    }
}

/// Who and why: the descriptive settings of an experiment.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub created_by: Option<String>,
    pub business_justification: Option<String>,
    pub business_owner: Option<String>,
    pub technical_owner: Option<String>,
    /// Each contact as a map such as `{ name = "...", phone = "..." }`.
    pub emergency_contacts: Vec<BTreeMap<String, String>>,
    /// The planned start, RFC 3339.
    pub scheduled_start: Option<String>,
    /// The pinned policy identity, `sha256:...`.
    pub policy: Option<String>,
    /// The time zone, business hours and blackout windows of the experiment.
    pub schedule: ScheduleSpec,
}

/// The `schedule { ... }` section of an experiment, as written and checked.
/// Each value replaces the policy's; blackout windows add to the policy's.
#[derive(Debug, Clone, Default)]
pub struct ScheduleSpec {
    /// An IANA time zone name.
    pub zone: Option<String>,
    /// Days and hours such as `Mon-Fri 09:00-17:00`.
    pub business_hours: Option<String>,
    pub blackout: Vec<String>,
}

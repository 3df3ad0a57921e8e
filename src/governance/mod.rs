//! Governance: approvals bound to a scenario's content, business hours and
//! blackout windows, the risk level and business impact of an experiment,
//! locks on the targets in use, a tamper-evident audit trail and compliance
//! reports. The policy in force comes from `stdlib/policy.toml` and a local
//! policy file; its identity is a hash that audit records carry.

pub mod approval;
pub mod assessment;
pub mod audit;
pub mod calendar;
pub mod content;
mod error;
pub mod impact;
pub mod lock;
pub mod policy;
pub mod report;
pub mod risk;
pub mod window;

pub use error::GovernanceError;

use sha2::{Digest, Sha256};

/// Formats a finished SHA-256 as `sha256:` and 64 hexadecimal digits.
pub(crate) fn hex_digest(hasher: Sha256) -> String {
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

//! The one trait every fault kind implements: inject, verify by observation,
//! revert.

use async_trait::async_trait;

use super::revert::RevertAction;

/// Why a fault could not be injected, observed or reverted.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct FaultError(pub String);

/// A fault bound to one target.
///
/// The runtime calls `revert_action` and journals the result before
/// `inject`, so that a crash at any point leaves enough on disk to undo the
/// fault. `verify` must observe the effect (measure a delay, see a process
/// gone) rather than trust that `inject` returned. `revert` must be safe to
/// call when `inject` failed half-way.
#[async_trait]
pub trait Fault: Send {
    /// Returns the catalog name of the fault kind.
    fn kind(&self) -> &'static str;

    /// Describes how to undo the fault from another process.
    fn revert_action(&self) -> RevertAction;

    /// Applies the fault.
    async fn inject(&mut self) -> Result<(), FaultError>;

    /// Observes that the fault is in effect; returns what was seen.
    async fn verify(&mut self) -> Result<String, FaultError>;

    /// Undoes the fault; returns what was seen after undoing it.
    async fn revert(&mut self) -> Result<String, FaultError>;

    /// Tells whether the fault can be weakened step by step before it is
    /// reverted, as a gradual recovery does.
    fn can_ramp(&self) -> bool {
        false
    }

    /// Sets the fault to `level` (from 0 to 1) of its full strength and
    /// returns what was observed at that level.
    async fn ramp(&mut self, level: f64) -> Result<String, FaultError> {
        let _ = level;
        Err(FaultError(format!("`{}` cannot be ramped", self.kind())))
    }
}

//! The injection runtime: launches targets, injects faults through one
//! shared [`fault::Fault`] trait, watches probes, reverts every fault on
//! every exit path, and runs recovery plans.

pub mod actions;
pub mod alerts;
mod drill;
pub mod fault;
pub mod faults;
mod guardian;
pub mod health;
mod http_client;
mod injector;
mod interpreter;
pub mod killed;
pub mod metrics;
pub mod monitor;
pub mod netns;
pub mod notify;
mod observer;
pub mod preflight;
pub mod probe;
pub mod process;
pub mod progress;
pub mod prometheus;
pub mod proxy;
pub mod recover;
mod recovery;
pub mod result;
pub mod revert;
pub mod snapshot;
mod targets;

use std::sync::Arc;

pub use drill::{DrillError, drill};
pub use interpreter::{RunOptions, RunSetupError, run};
pub use progress::Progress;
pub use targets::{ProcessTarget, TargetHandle, Targets};

use crate::store::{Journal, Record};

/// A journal shared by the tasks of a run.
#[derive(Clone)]
pub struct JournalHandle(Arc<tokio::sync::Mutex<Journal>>);

impl JournalHandle {
    /// Wraps an open journal.
    pub fn new(journal: Journal) -> Self {
        JournalHandle(Arc::new(tokio::sync::Mutex::new(journal)))
    }

    /// Appends records, each synced to disk before this returns.
    pub async fn append(&self, records: &[Record]) -> std::io::Result<()> {
        let mut journal = self.0.lock().await;
        records.iter().try_for_each(|record| journal.append(record))
    }

    /// Returns a fresh fault id.
    pub async fn next_fault_id(&self) -> u64 {
        self.0.lock().await.next_fault_id()
    }

    /// Returns the journal's path.
    pub async fn path(&self) -> std::path::PathBuf {
        self.0.lock().await.path().to_owned()
    }
}

//! The injector: applies faults (journal first), verifies them, and reverts
//! them one by one or all at once in reverse order of application.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tracing::{error, info};

use super::JournalHandle;
use super::fault::Fault;
use super::metrics::Metrics;
use super::progress::{Progress, ProgressEvent};
use super::result::{FaultResult, RollbackOutcome};
use super::revert::RevertAction;
use crate::store::Record;

/// A fault the injector has journaled, with its bookkeeping.
struct Entry {
    /// The file whose bytes the fault changes and restores, if any.
    file: Option<PathBuf>,
    result: FaultResult,
    fault: Arc<tokio::sync::Mutex<Box<dyn Fault>>>,
}

/// The faults of one run.
pub struct Injector {
    journal: JournalHandle,
    entries: Mutex<Vec<Entry>>,
    metrics: Arc<Metrics>,
    progress: Progress,
}

impl Injector {
    /// Creates an injector that journals to `journal` and reports each
    /// inject, verify and revert to `progress`.
    pub fn new(journal: JournalHandle, metrics: Arc<Metrics>, progress: Progress) -> Self {
        Injector {
            journal,
            metrics,
            progress,
            entries: Mutex::new(Vec::new()),
        }
    }

    /// Journals, injects and verifies a fault. On success returns the fault's
    /// id; on failure the fault is reverted before the error is returned.
    pub async fn apply(
        &self,
        step: &str,
        target: &str,
        fault: Box<dyn Fault>,
        expires_at: DateTime<Utc>,
    ) -> Result<u64, String> {
        let kind = fault.kind();
        let revert = fault.revert_action();
        if let RevertAction::RestoreFile(backup) = &revert
            && let Some(holder) = self.file_holder(&backup.path)
        {
            // Each fault restores the bytes it found, so a second fault on
            // the file would back up the first one's changes and restore
            // them after the first was undone.
            return Err(format!(
                "cannot inject `{kind}` on `{target}`: `{}` is already changed by fault \
                 {holder} of this run; faults on one file must not overlap, so run one step \
                 `after` the other",
                backup.path.display()
            ));
        }
        let id = self.journal.next_fault_id().await;
        let record = Record::Apply {
            id,
            step: step.to_owned(),
            fault: kind.to_owned(),
            target: target.to_owned(),
            revert: revert.clone(),
            expires_at,
            at: Some(chrono::Utc::now()),
        };
        // The record must be on disk before the fault exists: without it a
        // crash could leave a fault that nothing knows how to revert.
        self.journal.append(&[record]).await.map_err(|error| {
            format!("cannot write the journal, so `{kind}` was not injected: {error}")
        })?;

        let fault = Arc::new(tokio::sync::Mutex::new(fault));
        self.entries.lock().unwrap().push(Entry {
            file: match &revert {
                RevertAction::RestoreFile(backup) => Some(backup.path.clone()),
                _ => None,
            },
            result: FaultResult {
                id,
                step: step.to_owned(),
                fault: kind.to_owned(),
                target: target.to_owned(),
                injected_at: None,
                verification: None,
                verified: false,
                reverted_at: None,
                rollback: RollbackOutcome::Pending,
                rollback_detail: None,
                ramp: Vec::new(),
            },
            fault: Arc::clone(&fault),
        });

        let mut guard = fault.lock().await;
        if let Err(failure) = guard.inject().await {
            drop(guard);
            self.update(id, |result| {
                result.verification = Some(format!("injection failed: {failure}"))
            });
            error!(step, target, fault = kind, error = %failure, "injection failed");
            self.revert(id).await;
            return Err(format!("cannot inject `{kind}` on `{target}`: {failure}"));
        }
        self.update(id, |result| result.injected_at = Some(Utc::now()));
        self.metrics.injected(kind, target);
        info!(step, target, fault = kind, "injected");
        self.progress.emit(ProgressEvent::FaultInjected {
            id,
            step: step.to_owned(),
            fault: kind.to_owned(),
            target: target.to_owned(),
        });

        let verified = guard.verify().await;
        drop(guard);
        match verified {
            Ok(observation) => {
                self.update(id, |result| {
                    result.verification = Some(observation.clone());
                    result.verified = true;
                });
                self.progress.emit(ProgressEvent::FaultVerified {
                    id,
                    step: step.to_owned(),
                    fault: kind.to_owned(),
                    target: target.to_owned(),
                    observation,
                });
                Ok(id)
            }
            Err(failure) => {
                self.update(id, |result| result.verification = Some(failure.to_string()));
                error!(step, target, fault = kind, error = %failure, "fault not observed");
                self.revert(id).await;
                Err(format!(
                    "`{kind}` on `{target}` was injected but not observed: {failure}"
                ))
            }
        }
    }

    /// Reverts the fault `id` if it is still in place; returns whether it is
    /// gone now.
    pub async fn revert(&self, id: u64) -> bool {
        let Some(fault) = self.fault(id) else {
            return false;
        };
        let mut guard = fault.lock().await;
        // Another caller may have reverted it while this one waited.
        let state = self
            .entries
            .lock()
            .unwrap()
            .iter()
            .find(|e| e.result.id == id)
            .map(|e| e.result.rollback);
        if state != Some(RollbackOutcome::Pending) {
            return state == Some(RollbackOutcome::Reverted)
                || state == Some(RollbackOutcome::NotApplied);
        }

        let outcome = guard.revert().await;
        drop(guard);
        let result = self.result(id);
        let injected = result
            .as_ref()
            .is_some_and(|result| result.injected_at.is_some());
        let kind = result.map(|result| result.fault).unwrap_or_default();
        match outcome {
            Ok(detail) => {
                if let Err(error) = self.journal.append(&[Record::Reverted { id }]).await {
                    // The fault is gone; a stale record only makes `chaosc
                    // recover` repeat a revert, which is harmless.
                    error!(id, %error, "cannot journal a revert");
                }
                if injected {
                    self.metrics.reverted();
                }
                info!(id, fault = %kind, "reverted");
                self.update(id, |result| {
                    result.rollback = RollbackOutcome::Reverted;
                    result.reverted_at = Some(Utc::now());
                    result.rollback_detail = Some(detail);
                });
                self.progress.emit(ProgressEvent::FaultReverted {
                    id,
                    outcome: RollbackOutcome::Reverted,
                });
                true
            }
            Err(failure) => {
                error!(id, fault = %kind, error = %failure, "revert failed");
                self.update(id, |result| {
                    result.rollback = RollbackOutcome::Failed;
                    result.rollback_detail = Some(failure.to_string());
                });
                self.progress.emit(ProgressEvent::FaultReverted {
                    id,
                    outcome: RollbackOutcome::Failed,
                });
                false
            }
        }
    }

    /// Weakens the fault `id` to `level` of its strength, if it is still in
    /// place and can be ramped; records what was observed.
    pub async fn ramp(&self, id: u64, level: f64) -> Option<Result<String, String>> {
        let fault = self.fault(id)?;
        let mut guard = fault.lock().await;
        let pending = self
            .result(id)
            .is_some_and(|r| r.rollback == RollbackOutcome::Pending);
        if !pending || !guard.can_ramp() {
            return None;
        }
        let outcome = guard.ramp(level).await.map_err(|error| error.to_string());
        drop(guard);
        let observed = match &outcome {
            Ok(text) | Err(text) => text.clone(),
        };
        self.update(id, |result| {
            result.ramp.push(super::result::RampStep {
                level,
                at: Utc::now(),
                observed,
            });
        });
        Some(outcome)
    }

    /// Reverts every fault still in place, newest first, so that faults
    /// layered on the same target come off in the opposite order they went
    /// on. Returns whether every fault is gone.
    pub async fn revert_all(&self) -> bool {
        let ids: Vec<u64> = {
            let entries = self.entries.lock().unwrap();
            entries
                .iter()
                .rev()
                .filter(|e| e.result.rollback == RollbackOutcome::Pending)
                .map(|e| e.result.id)
                .collect()
        };
        let mut all_gone = true;
        for id in ids {
            all_gone &= self.revert(id).await;
        }
        all_gone && self.all_reverted()
    }

    /// Tells whether no fault is in place or failed to revert.
    pub fn all_reverted(&self) -> bool {
        self.entries.lock().unwrap().iter().all(|entry| {
            matches!(
                entry.result.rollback,
                RollbackOutcome::Reverted | RollbackOutcome::NotApplied
            )
        })
    }

    /// Returns the results of every fault, in order of application.
    pub fn results(&self) -> Vec<FaultResult> {
        self.entries
            .lock()
            .unwrap()
            .iter()
            .map(|entry| entry.result.clone())
            .collect()
    }

    fn result(&self, id: u64) -> Option<FaultResult> {
        self.entries
            .lock()
            .unwrap()
            .iter()
            .find(|e| e.result.id == id)
            .map(|e| e.result.clone())
    }

    /// Returns the id of a fault of this run that changes `path` and has
    /// not been reverted yet.
    fn file_holder(&self, path: &Path) -> Option<u64> {
        self.entries
            .lock()
            .unwrap()
            .iter()
            .find(|entry| entry.file.as_deref() == Some(path) && entry.result.reverted_at.is_none())
            .map(|entry| entry.result.id)
    }

    fn fault(&self, id: u64) -> Option<Arc<tokio::sync::Mutex<Box<dyn Fault>>>> {
        self.entries
            .lock()
            .unwrap()
            .iter()
            .find(|e| e.result.id == id)
            .map(|e| Arc::clone(&e.fault))
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut FaultResult)) {
        if let Some(entry) = self
            .entries
            .lock()
            .unwrap()
            .iter_mut()
            .find(|e| e.result.id == id)
        {
            change(&mut entry.result);
        }
    }
}

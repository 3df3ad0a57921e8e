//! Faults on processes: kill (reverted by a restart) and pause (reverted by
//! SIGCONT).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use nix::sys::signal::Signal;
use tokio::sync::Mutex;

use super::FaultContext;
use crate::model::{FaultSpec, TypedValue};
use crate::runtime::JournalHandle;
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::process::{is_alive, proc_stat, signal};
use crate::runtime::revert::RevertAction;
use crate::runtime::targets::ProcessTarget;
use crate::runtime::targets::restart_launched;

/// How long a killed process may take to be gone, and a paused one to show
/// as stopped, before the fault counts as not observed.
const OBSERVE_LIMIT: Duration = Duration::from_secs(5);

/// Ends a launched target with a signal; reverting starts it again.
pub struct Kill {
    target: String,
    process: Arc<Mutex<ProcessTarget>>,
    signal: Signal,
    journal: JournalHandle,
    /// The process as it was before the kill.
    victim: (u32, u64),
    /// How to start the target again; `None` for an attached process that
    /// an `irreversible` step kills for good.
    spec: Option<crate::model::LaunchSpec>,
}

impl Kill {
    /// Waits for an attached process to be gone. chaosc is not its parent,
    /// so it watches for the process to leave `/proc` instead of reaping it.
    async fn verify_attached_gone(&self) -> Result<String, FaultError> {
        let (pid, start_time) = self.victim;
        let started = tokio::time::Instant::now();
        while started.elapsed() < OBSERVE_LIMIT {
            if !is_alive(pid, start_time) {
                return Ok(format!(
                    "process {pid} is gone {:.0}ms after {}",
                    started.elapsed().as_secs_f64() * 1000.0,
                    self.signal
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Err(FaultError(format!(
            "process {pid} still runs {}s after {}",
            OBSERVE_LIMIT.as_secs(),
            self.signal
        )))
    }

    pub async fn new(
        spec: &FaultSpec,
        target: &str,
        process: Arc<Mutex<ProcessTarget>>,
        context: FaultContext,
    ) -> Result<Self, FaultError> {
        let signal = match spec.params.get("signal") {
            Some(TypedValue::Signal(signal)) => *signal,
            _ => Signal::SIGKILL,
        };
        let (victim, launch) = {
            let guard = process.lock().await;
            match &*guard {
                ProcessTarget::Launched(launched) => (
                    (launched.pid, launched.start_time),
                    Some(launched.spec.clone()),
                ),
                ProcessTarget::Attached { pid, start_time } if context.irreversible => {
                    ((*pid, *start_time), None)
                }
                ProcessTarget::Attached { .. } => {
                    return Err(FaultError(format!(
                        "target `{target}` was not launched by chaosc, so a kill could not be \
                         reverted; mark the step `irreversible` to accept that"
                    )));
                }
            }
        };
        Ok(Kill {
            target: target.to_owned(),
            process,
            signal,
            journal: context.journal,
            victim,
            spec: launch,
        })
    }
}

#[async_trait]
impl Fault for Kill {
    fn kind(&self) -> &'static str {
        "process_kill"
    }

    fn revert_action(&self) -> RevertAction {
        match &self.spec {
            Some(spec) => RevertAction::Restart {
                target: self.target.clone(),
                pid: self.victim.0,
                start_time: self.victim.1,
                spec: spec.clone(),
            },
            None => RevertAction::Accepted {
                description: format!("process {} of `{}` was killed", self.victim.0, self.target),
            },
        }
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        let guard = self.process.lock().await;
        let (pid, _) = guard.identity();
        signal(pid, self.signal).map_err(|error| {
            FaultError(format!(
                "cannot send {} to process {pid}: {error}",
                self.signal
            ))
        })
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let mut guard = self.process.lock().await;
        let ProcessTarget::Launched(process) = &mut *guard else {
            drop(guard);
            return self.verify_attached_gone().await;
        };
        let pid = process.pid;
        let started = tokio::time::Instant::now();
        if process.wait_exit(OBSERVE_LIMIT).await {
            // A target under a `time_skew` leaves the files libfaketime
            // named after it when a signal ends it.
            super::remove_libfaketime_shm(pid);
            let status = process
                .try_exit_status()
                .unwrap_or_else(|| "an unknown status".to_owned());
            return Ok(format!(
                "process {pid} is gone ({status}) {:.0}ms after {}",
                started.elapsed().as_secs_f64() * 1000.0,
                self.signal
            ));
        }
        Err(FaultError(format!(
            "process {pid} still runs {}s after {}",
            OBSERVE_LIMIT.as_secs(),
            self.signal
        )))
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        let mut guard = self.process.lock().await;
        let ProcessTarget::Launched(process) = &mut *guard else {
            return Ok(format!(
                "process {} was not started again: the step accepted that it cannot be",
                self.victim.0
            ));
        };
        if process.is_running() {
            return Ok(format!(
                "process {} still runs; nothing to restart",
                process.pid
            ));
        }
        let new_pid = restart_launched(&self.target, process, &self.journal)
            .await
            .map_err(FaultError)?;
        Ok(format!("restarted as process {new_pid}, ready"))
    }
}

/// Stops a process with SIGSTOP; reverting continues it.
pub struct Pause {
    target: String,
    process: Arc<Mutex<ProcessTarget>>,
    identity: (u32, u64),
}

impl Pause {
    pub async fn new(target: &str, process: Arc<Mutex<ProcessTarget>>) -> Self {
        let identity = process.lock().await.identity();
        Pause {
            target: target.to_owned(),
            process,
            identity,
        }
    }

    async fn wait_for_state(pid: u32, stopped: bool) -> bool {
        let deadline = tokio::time::Instant::now() + OBSERVE_LIMIT;
        while tokio::time::Instant::now() < deadline {
            match proc_stat(pid) {
                Some(stat) if (stat.state == 'T') == stopped => return true,
                None => return false,
                _ => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
        false
    }
}

#[async_trait]
impl Fault for Pause {
    fn kind(&self) -> &'static str {
        "process_pause"
    }

    fn revert_action(&self) -> RevertAction {
        let (pid, start_time) = self.identity;
        RevertAction::Continue { pid, start_time }
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        let (pid, _) = self.process.lock().await.identity();
        signal(pid, Signal::SIGSTOP).map_err(|error| {
            FaultError(format!(
                "cannot stop process {pid} of `{}`: {error}",
                self.target
            ))
        })
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let (pid, _) = self.process.lock().await.identity();
        if Self::wait_for_state(pid, true).await {
            return Ok(format!("process {pid} is stopped (state T)"));
        }
        Err(FaultError(format!(
            "process {pid} of `{}` is not stopped after SIGSTOP",
            self.target
        )))
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        let (pid, _) = self.process.lock().await.identity();
        if proc_stat(pid).is_none() {
            return Ok(format!("process {pid} no longer exists"));
        }
        signal(pid, Signal::SIGCONT)
            .map_err(|error| FaultError(format!("cannot continue process {pid}: {error}")))?;
        if Self::wait_for_state(pid, false).await {
            return Ok(format!("process {pid} runs again"));
        }
        Err(FaultError(format!(
            "process {pid} is still stopped after SIGCONT"
        )))
    }
}

//! Reverting a fault from outside the run that applied it: what the journal
//! records for each fault, and how the guardian and `chaosc recover` undo it.

use std::time::Duration;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use super::process::{is_alive, proc_stat, signal, spawn_detached};
use crate::model::LaunchSpec;

/// How to undo one fault without the process that applied it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RevertAction {
    /// The fault lives inside the `chaosc run` process (a proxy fault) and
    /// ended with it.
    EndsWithRun,
    /// Continue a process stopped with SIGSTOP.
    Continue { pid: u32, start_time: u64 },
    /// Start a killed launched target again if it no longer runs.
    Restart {
        target: String,
        pid: u32,
        start_time: u64,
        spec: LaunchSpec,
    },
}

/// The outcome of reverting a journal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevertOutcome {
    /// The fault was undone now.
    Reverted(String),
    /// Nothing was left to undo.
    NothingLeft(String),
}

impl RevertAction {
    /// Undoes the fault. Each case is safe to repeat.
    pub fn execute(&self) -> Result<RevertOutcome, String> {
        match self {
            RevertAction::EndsWithRun => Ok(RevertOutcome::NothingLeft(
                "the fault ended with its run".to_owned(),
            )),
            RevertAction::Continue { pid, start_time } => continue_process(*pid, *start_time),
            RevertAction::Restart {
                target,
                pid,
                start_time,
                spec,
            } => restart_target(target, *pid, *start_time, spec),
        }
    }
}

fn continue_process(pid: u32, start_time: u64) -> Result<RevertOutcome, String> {
    if !is_alive(pid, start_time) {
        return Ok(RevertOutcome::NothingLeft(format!(
            "process {pid} no longer exists"
        )));
    }
    signal(pid, Signal::SIGCONT)
        .map_err(|error| format!("cannot continue process {pid}: {error}"))?;
    // SIGCONT takes effect asynchronously; confirm it by observation.
    for _ in 0..100 {
        if proc_stat(pid).is_none_or(|stat| stat.state != 'T') {
            return Ok(RevertOutcome::Reverted(format!("continued process {pid}")));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!("process {pid} is still stopped after SIGCONT"))
}

fn restart_target(
    target: &str,
    pid: u32,
    start_time: u64,
    spec: &LaunchSpec,
) -> Result<RevertOutcome, String> {
    if is_alive(pid, start_time) {
        return Ok(RevertOutcome::NothingLeft(format!(
            "target `{target}` still runs as {pid}"
        )));
    }
    if let Some(address) = spec.ready
        && std::net::TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
    {
        return Ok(RevertOutcome::NothingLeft(format!(
            "something already accepts connections on {address} for target `{target}`"
        )));
    }
    let new_pid = spawn_detached(spec)
        .map_err(|error| format!("cannot restart target `{target}`: {error}"))?;
    Ok(RevertOutcome::Reverted(format!(
        "restarted target `{target}` as process {new_pid}"
    )))
}

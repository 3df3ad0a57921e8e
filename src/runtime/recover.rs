//! Reverting what a dead run left behind, from its journal. The guardian
//! and `chaosc recover` both use this.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::Serialize;

use super::faults::{is_skewed, remove_libfaketime_shm};
use super::process::{is_alive, pids_with_env, proc_stat, signal};
use super::revert::{RevertAction, RevertOutcome};
use crate::store::journal::{LAUNCH_MARKER, launch_marker};
use crate::store::{JournalState, Record, RunOrigin};

/// What recovering one journal did.
#[derive(Debug, Clone, Serialize)]
pub struct JournalRecovery {
    pub journal: PathBuf,
    pub run_id: Option<String>,
    /// Set when the run that owns the journal still runs; nothing was done.
    pub owner_alive: Option<u32>,
    pub actions: Vec<RecoveryStep>,
    /// The faults found in place and what reverting each did.
    #[serde(skip)]
    pub faults: Vec<RecoveredFault>,
    /// The run and its audit trail, from the journal's header.
    #[serde(skip)]
    pub origin: Option<RunOrigin>,
    /// Whether nothing is left in place and the journal was removed.
    pub clean: bool,
    /// Whether the faults are gone but targets the run launched still run,
    /// so the journal is kept for `chaosc recover --stop-targets`.
    pub targets_left: bool,
}

/// One thing done (or failed) while recovering.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryStep {
    pub what: String,
    pub ok: bool,
}

/// A fault that a dead run left in place, and how its revert went.
#[derive(Debug, Clone)]
pub struct RecoveredFault {
    /// The fault's id in the journal.
    pub id: u64,
    pub step: String,
    pub fault: String,
    pub target: String,
    /// When the run recorded the fault, just before applying it.
    pub applied_at: Option<chrono::DateTime<chrono::Utc>>,
    pub reverted: bool,
    pub detail: String,
}

/// Reverts the pending faults of the journal at `path`, newest first, and
/// when `stop_targets` is set stops the targets its run launched. Removes
/// the journal when nothing is left. A journal whose run still lives is
/// left alone.
pub fn recover_journal(path: &Path, stop_targets: bool) -> std::io::Result<JournalRecovery> {
    let state = JournalState::read(path)?;
    let mut report = JournalRecovery {
        journal: path.to_owned(),
        run_id: state.run_id().map(str::to_owned),
        owner_alive: None,
        actions: Vec::new(),
        faults: Vec::new(),
        origin: state.origin(),
        clean: false,
        targets_left: false,
    };
    if let Some((pid, start_time)) = state.owner()
        && pid != std::process::id()
        && still_runs(pid, start_time)
    {
        report.owner_alive = Some(pid);
        return Ok(report);
    }

    let mut all_done = true;
    let mut reverted = Vec::new();
    for record in state.pending.iter().rev() {
        let Record::Apply {
            id,
            step,
            fault,
            target,
            revert,
            at,
            ..
        } = record
        else {
            continue;
        };
        let what = format!("fault {id} `{fault}` on `{target}`");
        let outcome = if stop_targets {
            revert.execute_before_stopping_targets()
        } else {
            revert.execute()
        };
        if outcome.is_ok() {
            reverted.push(Record::Reverted { id: *id });
        }
        let (ok, detail) = match outcome {
            Ok(RevertOutcome::Reverted(detail) | RevertOutcome::NothingLeft(detail)) => {
                (true, detail)
            }
            Err(error) => (false, error.to_string()),
        };
        all_done &= ok;
        report.actions.push(RecoveryStep {
            what: format!("{what}: {detail}"),
            ok,
        });
        report.faults.push(RecoveredFault {
            id: *id,
            step: step.clone(),
            fault: fault.clone(),
            target: target.clone(),
            applied_at: *at,
            reverted: ok,
            detail,
        });
    }

    // A process started just before the run died has no `Launch` record,
    // only the marker its `Launching` record put in its environment.
    let found = unjournaled_launches(&state.launching);
    let launched: Vec<Record> = state.launched.iter().chain(&found).cloned().collect();
    if stop_targets {
        for record in &launched {
            let Record::Launch {
                target,
                pid,
                start_time,
                spec,
            } = record
            else {
                continue;
            };
            let outcome = stop_process(*pid, *start_time);
            let stopped = outcome != Stop::StillRuns;
            if stopped && is_skewed(spec) {
                // A target whose clock was shifted and that ended by a
                // signal, with the run or before this recovery, leaves the
                // files libfaketime named after its pid.
                remove_libfaketime_shm(*pid);
            }
            all_done &= stopped;
            report.actions.push(RecoveryStep {
                what: format!(
                    "target `{target}` (process {pid}): {}",
                    match outcome {
                        Stop::AlreadyGone => "already gone",
                        Stop::Stopped => "stopped",
                        Stop::StillRuns => "still runs",
                    }
                ),
                ok: stopped,
            });
        }
    } else {
        for record in &launched {
            let Record::Launch {
                target,
                pid,
                start_time,
                spec,
            } = record
            else {
                continue;
            };
            if !is_alive(*pid, *start_time) {
                if is_skewed(spec) {
                    remove_libfaketime_shm(*pid);
                }
                continue;
            }
            report.targets_left = true;
            report.actions.push(RecoveryStep {
                what: format!(
                    "target `{target}` launched by the run still runs as process {pid}; \
                     `chaosc recover --stop-targets` stops it"
                ),
                ok: true,
            });
        }
    }

    // The journal stays while a target it launched runs, because it is
    // what `--stop-targets` finds the target by.
    if all_done && !report.targets_left {
        std::fs::remove_file(path)?;
        report.clean = true;
    } else {
        // A kept journal records which faults are gone, so that neither
        // the next recover nor the next run takes them for faults in place,
        // and the targets found by their marker.
        let records: Vec<Record> = reverted.into_iter().chain(found).collect();
        crate::store::journal::append_records(path, &records)?;
    }
    Ok(report)
}

/// Returns a `Launch` record for each running process that carries the
/// marker of a `Launching` record.
fn unjournaled_launches(launching: &[Record]) -> Vec<Record> {
    let mut found = Vec::new();
    for record in launching {
        let Record::Launching { target, spec } = record else {
            continue;
        };
        let Some(marker) = launch_marker(spec) else {
            continue;
        };
        for pid in pids_with_env(&format!("{LAUNCH_MARKER}={marker}")) {
            let Some(stat) = proc_stat(pid) else {
                continue;
            };
            found.push(Record::Launch {
                target: target.clone(),
                pid,
                start_time: stat.start_time,
                spec: spec.clone(),
            });
        }
    }
    found
}

/// The `PF_EXITING` bit of the flags in `/proc/PID/stat`, set once the
/// process has begun to exit.
const PF_EXITING: u64 = 0x4;

/// Returns whether the process still runs. A process that has begun to
/// exit is waited for, up to 5 seconds, rather than taken as alive. That
/// happens to a killed run, whose pipe to the guardian closes before the
/// kernel has torn the process down.
fn still_runs(pid: u32, start_time: u64) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while is_alive(pid, start_time) {
        if !is_exiting(pid) || std::time::Instant::now() >= deadline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Returns whether `pid` has begun to exit.
fn is_exiting(pid: u32) -> bool {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The flags are field 9 of the file, and the fields after the command
    // name start at field 3.
    text.rfind(')')
        .and_then(|end| {
            text[end + 1..]
                .split_whitespace()
                .nth(6)?
                .parse::<u64>()
                .ok()
        })
        .is_some_and(|flags| flags & PF_EXITING != 0)
}

/// How stopping a launched target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The process had ended before.
    AlreadyGone,
    Stopped,
    StillRuns,
}

/// Stops a process group that a run launched: continue, terminate, kill.
fn stop_process(pid: u32, start_time: u64) -> Stop {
    if !is_alive(pid, start_time) {
        return Stop::AlreadyGone;
    }
    let group = nix::unistd::Pid::from_raw(pid as i32);
    let _ = nix::sys::signal::killpg(group, Signal::SIGCONT);
    let _ = signal(pid, Signal::SIGTERM);
    for _ in 0..50 {
        if !is_alive(pid, start_time) {
            return Stop::Stopped;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = signal(pid, Signal::SIGKILL);
    for _ in 0..50 {
        if !is_alive(pid, start_time) {
            return Stop::Stopped;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Stop::StillRuns
}

/// Returns whether a revert action is one a recover can still act on.
pub fn acts_outside_run(action: &RevertAction) -> bool {
    !matches!(
        action,
        RevertAction::EndsWithRun | RevertAction::Accepted { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_target_loses_libfaketime_files() {
        // A process that has ended, as a skewed target killed with its run.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let files = [
            PathBuf::from(format!("/dev/shm/faketime_shm_{pid}")),
            PathBuf::from(format!("/dev/shm/sem.faketime_sem_{pid}")),
        ];
        if files.iter().any(|file| std::fs::write(file, b"").is_err()) {
            eprintln!("skipped: cannot write to /dev/shm");
            return;
        }

        let scratch = tempfile::tempdir().unwrap();
        let journal = scratch.path().join("journal.jsonl");
        let launch = Record::Launch {
            target: "clock".to_owned(),
            pid,
            start_time: 1,
            spec: crate::model::LaunchSpec {
                command: vec!["true".to_owned()],
                env: [("CHAOSC_TIME_SKEW".to_owned(), "run/clock".to_owned())].into(),
                cwd: None,
                ready: None,
                ready_timeout: Duration::from_secs(1),
            },
        };
        let line = serde_json::to_string(&launch).unwrap() + "\n";
        std::fs::write(&journal, line).unwrap();
        let report = recover_journal(&journal, true).unwrap();

        let left: Vec<_> = files.iter().filter(|file| file.exists()).collect();
        for file in &left {
            let _ = std::fs::remove_file(file);
        }
        assert!(left.is_empty(), "left behind: {left:?}");
        assert!(report.clean, "{report:?}");
        // The target had ended before, so the recovery did not stop it.
        assert_eq!(
            report.actions[0].what,
            format!("target `clock` (process {pid}): already gone")
        );
    }
}

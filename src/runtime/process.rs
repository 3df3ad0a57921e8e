//! Local processes: reading their state from `/proc`, and launching,
//! signalling and stopping the targets that chaosc starts.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep};

use crate::model::{Attach, LaunchSpec};

/// The fields of `/proc/PID/stat` that chaosc reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// The state letter: `R`, `S`, `D`, `T` (stopped), `Z` (zombie), ...
    pub state: char,
    /// The start time in clock ticks since boot; with the pid it identifies
    /// a process even after its pid is reused.
    pub start_time: u64,
}

/// Reads `/proc/PID/stat`, or `None` when no such process exists.
pub fn proc_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces or `)`, so the
    // fields are counted from the last `)`.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // Field 22 of the file; `rest` starts at field 3.
    let start_time = fields.get(19)?.parse().ok()?;
    Some(ProcStat { state, start_time })
}

/// Tells whether the process `pid` that started at `start_time` still runs
/// (a zombie counts as gone).
pub fn is_alive(pid: u32, start_time: u64) -> bool {
    proc_stat(pid).is_some_and(|stat| stat.start_time == start_time && stat.state != 'Z')
}

/// The maximum name length `/proc/PID/comm` keeps; the kernel cuts longer names.
const COMM_LENGTH: usize = 15;

/// Returns the pid that an attached target names: the one in its pid file,
/// its pid, or the one running process with its name. `None` when there is
/// no such pid, or when several processes have the name.
pub fn find_attached(attach: &Attach) -> Option<u32> {
    match attach {
        Attach::PidFile(path) => std::fs::read_to_string(path).ok()?.trim().parse().ok(),
        Attach::Pid(pid) => Some(*pid),
        Attach::Name(name) => match pids_named(name).as_slice() {
            [pid] => Some(*pid),
            _ => None,
        },
    }
}

/// Returns the live processes other than chaosc itself whose name is
/// `name`: their `/proc/PID/comm`, or for a name longer than `comm` holds,
/// the file name of their first argument.
pub fn pids_named(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter(|pid| *pid != std::process::id())
        .filter(|pid| proc_stat(*pid).is_some_and(|stat| stat.state != 'Z'))
        .filter(|pid| process_name_is(*pid, name))
        .collect();
    pids.sort_unstable();
    pids
}

fn process_name_is(pid: u32, name: &str) -> bool {
    let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else {
        return false;
    };
    let comm = comm.trim_end_matches('\n');
    if name.len() <= COMM_LENGTH {
        return comm == name;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let first = cmdline.split(|byte| *byte == 0).next().unwrap_or_default();
    let first = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(first);
    let file_name = Path::new(first).file_name().and_then(|name| name.to_str());
    file_name == Some(name)
}

/// Explains why `name` does not name exactly one running process.
pub fn name_problem(name: &str) -> String {
    match pids_named(name).as_slice() {
        [] => format!("no running process is named `{name}`"),
        [pid] => format!("process `{name}` ({pid}) ended while chaosc attached to it"),
        pids => {
            let listed: Vec<String> = pids.iter().map(u32::to_string).collect();
            format!(
                "{} processes are named `{name}` (pids {}); attach with `pid` or `pid_file` \
                 to pick one",
                pids.len(),
                listed.join(", ")
            )
        }
    }
}

/// Sends `signal` to `pid`.
///
/// A pid of 0 or one above `i32::MAX` is rejected: `kill(2)` would read it
/// as the caller's process group or as every process.
pub fn signal(pid: u32, signal: Signal) -> nix::Result<()> {
    let Ok(raw) = i32::try_from(pid) else {
        return Err(nix::errno::Errno::ESRCH);
    };
    if raw <= 0 {
        return Err(nix::errno::Errno::ESRCH);
    }
    kill(Pid::from_raw(raw), signal)
}

/// A target process that chaosc launched.
#[derive(Debug)]
pub struct LaunchedProcess {
    pub spec: LaunchSpec,
    child: Option<tokio::process::Child>,
    pub pid: u32,
    pub start_time: u64,
}

/// Why a launched process could not be started or did not become ready.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("`{program}` exited with {status} before it was ready")]
    Exited { program: String, status: String },
    #[error("`{program}` did not accept connections on {address} within {timeout:?}")]
    NotReady {
        program: String,
        address: std::net::SocketAddr,
        timeout: Duration,
    },
    #[error(
        "{address} already accepts connections before `{program}` started; is an earlier run's process still there?"
    )]
    AddressInUse {
        program: String,
        address: std::net::SocketAddr,
    },
}

impl LaunchedProcess {
    /// Starts the process in its own process group, so that a Ctrl-C in the
    /// terminal reaches chaosc (which reverts faults) and not the target.
    pub async fn spawn(spec: &LaunchSpec, log: Option<&Path>) -> Result<Self, LaunchError> {
        let program = spec.command[0].clone();
        if let Some(address) = spec.ready
            && accepts(address).await
        {
            return Err(LaunchError::AddressInUse { program, address });
        }

        let mut command = tokio::process::Command::new(&spec.command[0]);
        command
            .args(&spec.command[1..])
            .envs(&spec.env)
            .stdin(Stdio::null())
            .process_group(0);
        if let Some(cwd) = &spec.cwd {
            command.current_dir(cwd);
        }
        match log.map(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        }) {
            Some(Ok(file)) => {
                let clone = file.try_clone().map_err(|source| LaunchError::Spawn {
                    program: program.clone(),
                    source,
                })?;
                command.stdout(clone).stderr(file);
            }
            _ => {
                command.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }

        let child = command
            .spawn()
            .map_err(|source| LaunchError::Spawn { program, source })?;
        let pid = child.id().unwrap_or_default();
        let start_time = proc_stat(pid).map_or(0, |stat| stat.start_time);
        Ok(LaunchedProcess {
            spec: spec.clone(),
            child: Some(child),
            pid,
            start_time,
        })
    }

    /// Waits until the process accepts connections on its `ready` address.
    pub async fn wait_ready(&mut self) -> Result<(), LaunchError> {
        let program = self.spec.command[0].clone();
        let Some(address) = self.spec.ready else {
            return Ok(());
        };
        let timeout = self.spec.ready_timeout;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_exit_status() {
                return Err(LaunchError::Exited { program, status });
            }
            if accepts(address).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(LaunchError::NotReady {
                    program,
                    address,
                    timeout,
                });
            }
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// Returns the exit status if the process has ended.
    pub fn try_exit_status(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }

    /// Tells whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        self.try_exit_status().is_none() && is_alive(self.pid, self.start_time)
    }

    /// Sends a signal to the process.
    pub fn signal(&self, signal: Signal) -> nix::Result<()> {
        self::signal(self.pid, signal)
    }

    /// Waits until the process has ended, up to `timeout`; reaps it.
    pub async fn wait_exit(&mut self, timeout: Duration) -> bool {
        let Some(child) = self.child.as_mut() else {
            return !is_alive(self.pid, self.start_time);
        };
        tokio::time::timeout(timeout, child.wait()).await.is_ok()
    }

    /// Stops the process group: SIGCONT (a paused process cannot act on
    /// SIGTERM), SIGTERM, then SIGKILL after `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        if self.pid == 0 || !self.is_running() {
            self.reap().await;
            return;
        }
        let group = Pid::from_raw(self.pid as i32);
        // Errors mean the group is already gone, which is the goal.
        let _ = killpg(group, Signal::SIGCONT);
        let _ = killpg(group, Signal::SIGTERM);
        if !self.wait_exit(grace).await {
            let _ = killpg(group, Signal::SIGKILL);
            self.wait_exit(Duration::from_secs(5)).await;
        }
        // Whatever else is left in the group (children of the target) ends
        // with the target.
        let _ = killpg(group, Signal::SIGKILL);
    }

    async fn reap(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = tokio::time::timeout(Duration::from_secs(1), child.wait()).await;
        }
    }
}

/// Tells whether something accepts TCP connections on `address`.
pub async fn accepts(address: std::net::SocketAddr) -> bool {
    let connect = TcpStream::connect(address);
    matches!(
        tokio::time::timeout(Duration::from_millis(500), connect).await,
        Ok(Ok(_))
    )
}

/// Starts a process outside any run, detached from chaosc: used to restart
/// a killed target when recovering from a journal.
pub fn spawn_detached(spec: &LaunchSpec) -> std::io::Result<u32> {
    let mut command = std::process::Command::new(&spec.command[0]);
    command
        .args(&spec.command[1..])
        .envs(&spec.env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    if let Some(cwd) = &spec.cwd {
        command.current_dir(cwd);
    }
    let child = command.spawn()?;
    Ok(child.id())
}

/// Returns the pids of the processes whose environment at start contains
/// `entry` (`NAME=value`), read from `/proc/PID/environ`. The environment
/// of another user's process cannot be read, so such processes are skipped.
pub fn pids_with_env(entry: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let expected = entry.as_bytes();
    let mut pids = Vec::new();
    for dir in entries.flatten() {
        let Some(pid) = dir.file_name().to_str().and_then(|name| name.parse().ok()) else {
            continue;
        };
        let Ok(environ) = std::fs::read(dir.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|byte| *byte == 0)
            .any(|item| item == expected)
        {
            pids.push(pid);
        }
    }
    pids
}

/// Ends every process whose environment contains `entry`: SIGCONT (a
/// stopped process cannot act on SIGTERM) and SIGTERM, then SIGKILL to
/// those still running after `grace`. Returns the pids it ended, or the
/// pids that survived even SIGKILL.
pub fn end_with_env(entry: &str, grace: Duration) -> Result<Vec<u32>, Vec<u32>> {
    let found: Vec<(u32, u64)> = pids_with_env(entry)
        .into_iter()
        .filter_map(|pid| proc_stat(pid).map(|stat| (pid, stat.start_time)))
        .collect();
    let running = |found: &[(u32, u64)]| -> Vec<(u32, u64)> {
        let alive = found.iter().filter(|(pid, start)| is_alive(*pid, *start));
        alive.copied().collect()
    };
    let wait_gone = |limit: Duration| {
        let deadline = std::time::Instant::now() + limit;
        while !running(&found).is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    };

    // Errors mean the process is already gone, which is the goal.
    for (pid, _) in &found {
        let _ = signal(*pid, Signal::SIGCONT);
        let _ = signal(*pid, Signal::SIGTERM);
    }
    wait_gone(grace);
    for (pid, _) in running(&found) {
        let _ = signal(pid, Signal::SIGKILL);
    }
    wait_gone(Duration::from_secs(2));

    let survivors: Vec<u32> = running(&found).into_iter().map(|(pid, _)| pid).collect();
    if survivors.is_empty() {
        Ok(found.into_iter().map(|(pid, _)| pid).collect())
    } else {
        Err(survivors)
    }
}

//! Compute stress: `cpu_stress` and `memory_stress` on the host a process
//! target runs on, and `io_stress` in a directory target. Each runs its
//! work in `chaosc stress-worker` processes (see [`super::worker`]).
//!
//! The workers are spawned idle when the fault is built, so that their pids
//! and start times are in the journal before they do anything, and `inject`
//! sends them `start`. Reverting ends them and removes the files of an I/O
//! stress. `chaosc recover` and the guardian end them from the journal, and
//! check the start time and the marker on their command line first, so a
//! reused pid is never signalled.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::FaultContext;
use super::confine::confine_directory;
use super::fill::available_bytes;
use super::procfs::{cmdline_has, cpu_shares, format_bytes, io_counters, status_bytes};
use super::worker::WorkerJob;
use crate::model::{DirectorySpec, FaultSpec, TypedValue};
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::process::{is_alive, proc_stat, signal};
use crate::runtime::revert::{RevertAction, RevertOutcome};

/// The maximum number of workers one fault may start.
const MAX_WORKERS: i64 = crate::check::MAX_STRESS_WORKERS;

/// The free space an I/O stress leaves in its directory's file system, on
/// top of its files.
const IO_KEEP_FREE: u64 = 64 << 20;

/// How long CPU and I/O are measured to verify a stress.
const MEASURE_WINDOW: Duration = Duration::from_millis(500);

/// How long CPU is measured after a ramp step.
const RAMP_WINDOW: Duration = Duration::from_millis(300);

/// How long a memory worker may take to reach its size.
const MEMORY_LIMIT: Duration = Duration::from_secs(10);

/// How far above its load share a CPU worker may measure before the duty
/// cycle counts as broken (the clock-tick granularity of `/proc` and the
/// measuring window's edges add noise).
const LOAD_TOLERANCE: f64 = 0.25;

/// The start of the names of the files an I/O stress writes.
const IO_FILE_PREFIX: &str = ".chaosc-io-";

/// A stress worker as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerProcess {
    pub pid: u32,
    /// The start time from `/proc/PID/stat`, which distinguishes the worker
    /// from a later process that reuses its pid.
    pub start_time: u64,
}

/// The kind of work the workers of a fault do.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Cpu { load: f64 },
    Memory { size: u64, touch: bool },
    Io { size: u64 },
}

/// A running worker.
struct Worker {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    pid: u32,
    start_time: u64,
}

/// CPU, memory or I/O stress by worker processes.
pub struct Stress {
    mode: Mode,
    /// An argument on every worker's command line, naming the run and the
    /// fault, checked before a worker is signalled from the journal.
    marker: String,
    workers: Vec<Worker>,
    /// The files the workers of an I/O stress write.
    files: Vec<PathBuf>,
    /// The directory of an I/O stress.
    directory: Option<PathBuf>,
    /// The load the CPU workers run at now, after ramps.
    load_now: f64,
}

fn integer_param(spec: &FaultSpec, name: &str, default: i64) -> i64 {
    match spec.params.get(name) {
        Some(TypedValue::Integer(value)) => *value,
        _ => default,
    }
}

fn size_param(spec: &FaultSpec, name: &str) -> u64 {
    match spec.params.get(name) {
        Some(TypedValue::Size(bytes)) => *bytes,
        _ => 0,
    }
}

fn workers_param(spec: &FaultSpec) -> Result<usize, FaultError> {
    let workers = integer_param(spec, "workers", 1);
    if !(1..=MAX_WORKERS).contains(&workers) {
        return Err(FaultError(format!(
            "`{}` needs from 1 to {MAX_WORKERS} workers, not {workers}",
            spec.kind
        )));
    }
    Ok(workers as usize)
}

/// Returns the marker of a fault: `chaosc-`, the first 8 characters of the
/// run id and the fault's seed in hex.
fn marker(context: &FaultContext) -> String {
    let run = context.run_id.get(..8).unwrap_or(&context.run_id);
    format!("chaosc-{run}-{:016x}", context.seed)
}

/// Returns `MemAvailable` of `/proc/meminfo` in bytes.
fn memory_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text
        .lines()
        .find(|line| line.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl Stress {
    /// Starts the idle workers of a `cpu_stress`.
    pub async fn cpu(spec: &FaultSpec, context: &FaultContext) -> Result<Self, FaultError> {
        let workers = workers_param(spec)?;
        let load = match spec.params.get("load") {
            Some(TypedValue::Percent(share)) => *share,
            _ => 1.0,
        };
        if !(load > 0.0 && load <= 1.0) {
            return Err(FaultError(format!(
                "`cpu_stress` needs a `load` above 0% and at most 100%, not {}%",
                load * 100.0
            )));
        }
        let jobs = vec![WorkerJob::Cpu { load }; workers];
        Self::start(Mode::Cpu { load }, marker(context), jobs, Vec::new(), None).await
    }

    /// Starts the idle worker of a `memory_stress`.
    pub async fn memory(spec: &FaultSpec, context: &FaultContext) -> Result<Self, FaultError> {
        let size = size_param(spec, "size");
        let touch = !matches!(spec.params.get("touch"), Some(TypedValue::Bool(false)));
        if size == 0 {
            return Err(FaultError(
                "`memory_stress` needs a `size` above 0B".to_owned(),
            ));
        }
        if let Some(available) = memory_available()
            && touch
            && size > available
        {
            return Err(FaultError(format!(
                "`memory_stress` of {} is more than the {} of memory the host has available",
                format_bytes(size),
                format_bytes(available)
            )));
        }
        let jobs = vec![WorkerJob::Memory { size, touch }];
        Self::start(
            Mode::Memory { size, touch },
            marker(context),
            jobs,
            Vec::new(),
            None,
        )
        .await
    }

    /// Checks the directory and starts the idle workers of an `io_stress`.
    pub async fn io(
        spec: &FaultSpec,
        directory: &DirectorySpec,
        context: &FaultContext,
    ) -> Result<Self, FaultError> {
        let directory = confine_directory(&directory.path)?;
        let workers = workers_param(spec)?;
        let size = size_param(spec, "size");
        if size == 0 {
            return Err(FaultError("`io_stress` needs a `size` above 0B".to_owned()));
        }
        let needed = size.saturating_mul(workers as u64);
        let available = available_bytes(&directory)?;
        if available < needed.saturating_add(IO_KEEP_FREE) {
            return Err(FaultError(format!(
                "{workers} files of {} would leave less than {} of the {} free in `{}`",
                format_bytes(size),
                format_bytes(IO_KEEP_FREE),
                format_bytes(available),
                directory.display()
            )));
        }
        let marker = marker(context);
        let files: Vec<PathBuf> = (0..workers)
            .map(|index| directory.join(format!("{IO_FILE_PREFIX}{marker}-{index}")))
            .collect();
        let jobs = files
            .iter()
            .map(|file| WorkerJob::Io {
                file: file.clone(),
                size,
            })
            .collect();
        Self::start(Mode::Io { size }, marker, jobs, files, Some(directory)).await
    }

    async fn start(
        mode: Mode,
        marker: String,
        jobs: Vec<WorkerJob>,
        files: Vec<PathBuf>,
        directory: Option<PathBuf>,
    ) -> Result<Self, FaultError> {
        let mut workers = Vec::with_capacity(jobs.len());
        for job in &jobs {
            // A worker spawned before a failure is killed when `workers` is
            // dropped.
            workers.push(spawn_worker(&marker, job)?);
        }
        let load_now = match mode {
            Mode::Cpu { load } => load,
            _ => 0.0,
        };
        Ok(Stress {
            mode,
            marker,
            workers,
            files,
            directory,
            load_now,
        })
    }

    fn pids(&self) -> Vec<u32> {
        self.workers.iter().map(|worker| worker.pid).collect()
    }

    /// Sends a control line to every worker.
    async fn tell(&mut self, line: &str) -> Result<(), FaultError> {
        for worker in &mut self.workers {
            let Some(stdin) = worker.stdin.as_mut() else {
                return Err(FaultError(format!(
                    "worker {} has no control pipe",
                    worker.pid
                )));
            };
            let sent = async {
                stdin.write_all(line.as_bytes()).await?;
                stdin.write_all(b"\n").await?;
                stdin.flush().await
            };
            sent.await.map_err(|error| {
                FaultError(format!(
                    "cannot send {line:?} to worker {}: {error}",
                    worker.pid
                ))
            })?;
        }
        Ok(())
    }

    /// Returns an error naming the first worker that has ended.
    fn check_running(&mut self) -> Result<(), FaultError> {
        for worker in &mut self.workers {
            if let Ok(Some(status)) = worker.child.try_wait() {
                return Err(FaultError(format!(
                    "worker {} ended ({status})",
                    worker.pid
                )));
            }
        }
        Ok(())
    }

    /// Measures the CPU share of every worker. Fails when one is gone, when
    /// none used any CPU, or when they used clearly more than the load.
    async fn measure_cpu(&mut self, window: Duration) -> Result<String, FaultError> {
        let shares = cpu_shares(&self.pids(), window).await;
        self.check_running()?;
        let mut seen = Vec::with_capacity(shares.len());
        for (worker, share) in self.workers.iter().zip(&shares) {
            let Some(share) = share else {
                return Err(FaultError(format!("worker {} is gone", worker.pid)));
            };
            seen.push(*share);
        }
        let total: f64 = seen.iter().sum();
        let mean = total / seen.len().max(1) as f64;
        let shares_text = seen
            .iter()
            .map(|share| format!("{:.0}%", share * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        if self.load_now > 0.0 && total <= 0.0 {
            return Err(FaultError(format!(
                "the CPU workers used no CPU time in {}ms",
                window.as_millis()
            )));
        }
        if mean > self.load_now + LOAD_TOLERANCE {
            return Err(FaultError(format!(
                "the CPU workers used {shares_text} of a CPU, well above the requested {:.0}% load",
                self.load_now * 100.0
            )));
        }
        Ok(format!(
            "{} CPU worker{} used {shares_text} of a CPU over {}ms (load {:.0}%)",
            seen.len(),
            if seen.len() == 1 { "" } else { "s" },
            window.as_millis(),
            self.load_now * 100.0
        ))
    }

    /// Waits until the memory worker's `VmRSS` (with `touch`) or `VmSize`
    /// reaches `size`.
    async fn verify_memory(&mut self, size: u64, touch: bool) -> Result<String, FaultError> {
        let pid = self.workers[0].pid;
        let field = if touch { "VmRSS" } else { "VmSize" };
        // A touched page may be counted a little later than written, and
        // the allocator keeps a few pages of its own.
        let expected = if touch { size / 100 * 95 } else { size };
        let deadline = tokio::time::Instant::now() + MEMORY_LIMIT;
        let mut seen = 0;
        while tokio::time::Instant::now() < deadline {
            self.check_running()?;
            seen = status_bytes(pid, field).unwrap_or(0);
            if seen >= expected {
                let what = if touch { "resident" } else { "mapped" };
                return Ok(format!(
                    "worker {pid} has {} {what} ({field}), {} requested",
                    format_bytes(seen),
                    format_bytes(size)
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(FaultError(format!(
            "worker {pid} has {} ({field}) after {}s, less than the requested {}",
            format_bytes(seen),
            MEMORY_LIMIT.as_secs(),
            format_bytes(size)
        )))
    }

    /// Measures the bytes the I/O workers write over a window, from `wchar`
    /// of `/proc/PID/io`, and checks that their files exist.
    async fn verify_io(&mut self) -> Result<String, FaultError> {
        let pids = self.pids();
        let read = |pid: &u32| {
            io_counters(*pid).ok_or_else(|| {
                FaultError(format!(
                    "cannot read /proc/{pid}/io (the kernel needs CONFIG_TASK_IO_ACCOUNTING)"
                ))
            })
        };

        let before = pids.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        let started = tokio::time::Instant::now();
        tokio::time::sleep(MEASURE_WINDOW).await;
        self.check_running()?;
        let after = pids.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        let elapsed = started.elapsed();

        let (mut written, mut stored) = (0, 0);
        for (before, after) in before.iter().zip(&after) {
            written += after.wchar.saturating_sub(before.wchar);
            stored += after.write_bytes.saturating_sub(before.write_bytes);
        }
        if written == 0 {
            return Err(FaultError(format!(
                "the I/O workers wrote nothing in {}ms",
                elapsed.as_millis()
            )));
        }

        let missing: Vec<String> = self
            .files
            .iter()
            .filter(|file| !file.exists())
            .map(|file| format!("`{}`", file.display()))
            .collect();
        if !missing.is_empty() {
            return Err(FaultError(format!(
                "the I/O stress files {} are missing",
                missing.join(", ")
            )));
        }

        let directory = self.directory.as_deref().unwrap_or(Path::new("?"));
        Ok(format!(
            "{} I/O worker{} wrote {} ({} to storage, /proc/PID/io write_bytes) in {}ms into `{}`",
            pids.len(),
            if pids.len() == 1 { "" } else { "s" },
            format_bytes(written),
            format_bytes(stored),
            elapsed.as_millis(),
            directory.display()
        ))
    }
}

/// Spawns one idle worker for `job`.
fn spawn_worker(marker: &str, job: &WorkerJob) -> Result<Worker, FaultError> {
    let exe = std::env::current_exe()
        .map_err(|error| FaultError(format!("cannot find the chaosc binary: {error}")))?;
    let mut command = tokio::process::Command::new(exe);
    command
        .arg("stress-worker")
        .arg("--marker")
        .arg(marker)
        .args(job.to_args())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        // Its own process group keeps a Ctrl-C in the terminal from reaching
        // it, because the run reverts the fault by itself.
        .process_group(0)
        .kill_on_drop(true);

    let parent = std::process::id();
    // SAFETY: between fork and exec the closure only makes system calls
    // (prctl, getppid) and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            // The parent may have died before the death signal was set.
            if nix::unistd::getppid().as_raw() as u32 != parent {
                return Err(nix::errno::Errno::ESRCH.into());
            }
            Ok(())
        });
    }

    let mut child = command
        .spawn()
        .map_err(|error| FaultError(format!("cannot start a stress worker: {error}")))?;
    let pid = child
        .id()
        .ok_or_else(|| FaultError("a stress worker exited immediately".to_owned()))?;
    let start_time = proc_stat(pid)
        .map(|stat| stat.start_time)
        .ok_or_else(|| FaultError(format!("stress worker {pid} exited immediately")))?;
    let stdin = child.stdin.take();
    Ok(Worker {
        child,
        stdin,
        pid,
        start_time,
    })
}

#[async_trait]
impl Fault for Stress {
    fn kind(&self) -> &'static str {
        match self.mode {
            Mode::Cpu { .. } => "cpu_stress",
            Mode::Memory { .. } => "memory_stress",
            Mode::Io { .. } => "io_stress",
        }
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::EndWorkers {
            marker: self.marker.clone(),
            workers: self
                .workers
                .iter()
                .map(|worker| WorkerProcess {
                    pid: worker.pid,
                    start_time: worker.start_time,
                })
                .collect(),
            files: self.files.clone(),
        }
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        self.tell("start").await
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        match self.mode {
            Mode::Cpu { .. } => self.measure_cpu(MEASURE_WINDOW).await,
            Mode::Memory { size, touch } => self.verify_memory(size, touch).await,
            Mode::Io { .. } => self.verify_io().await,
        }
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        for worker in &mut self.workers {
            drop(worker.stdin.take());
            let _ = worker.child.start_kill();
        }
        let mut ended = Vec::with_capacity(self.workers.len());
        for worker in &mut self.workers {
            let waited = tokio::time::timeout(Duration::from_secs(5), worker.child.wait()).await;
            if waited.is_err() || is_alive(worker.pid, worker.start_time) {
                return Err(FaultError(format!(
                    "stress worker {} still runs after SIGKILL",
                    worker.pid
                )));
            }
            ended.push(worker.pid.to_string());
        }
        let removed = remove_files(&self.files).map_err(FaultError)?;
        if let Some(file) = self.files.iter().find(|file| file.exists()) {
            return Err(FaultError(format!("`{}` still exists", file.display())));
        }
        let mut text = format!("ended workers {}", ended.join(", "));
        if !self.files.is_empty() {
            text.push_str(&format!("; removed {removed} files"));
        }
        Ok(text)
    }

    fn can_ramp(&self) -> bool {
        matches!(self.mode, Mode::Cpu { .. })
    }

    async fn ramp(&mut self, level: f64) -> Result<String, FaultError> {
        let Mode::Cpu { load } = self.mode else {
            return Err(FaultError(format!("`{}` cannot be ramped", self.kind())));
        };
        self.load_now = load * level.clamp(0.0, 1.0);
        self.tell(&format!("load {}", self.load_now)).await?;
        // The workers pick the new load up at their next duty period.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.measure_cpu(RAMP_WINDOW).await
    }
}

/// Removes the files an I/O stress wrote and returns how many it removed.
/// A path whose name does not start with `.chaosc-io-` is an error.
fn remove_files(files: &[PathBuf]) -> Result<usize, String> {
    let mut removed = 0;
    for file in files {
        let named_by_chaosc = file
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with(IO_FILE_PREFIX));
        if !named_by_chaosc {
            return Err(format!(
                "`{}` is not a file that an I/O stress writes, so it was left in place",
                file.display()
            ));
        }
        match std::fs::remove_file(file) {
            Ok(()) => removed += 1,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(format!("cannot remove `{}`: {error}", file.display())),
        }
    }
    Ok(removed)
}

/// Ends the workers a journal records, from outside the run that started
/// them, and removes their files. A process is signalled only if its start
/// time is the recorded one and its command line carries `marker`.
pub fn end_workers(
    marker: &str,
    workers: &[WorkerProcess],
    files: &[PathBuf],
) -> Result<RevertOutcome, String> {
    let mut ended = Vec::new();
    for worker in workers {
        if is_alive(worker.pid, worker.start_time) && cmdline_has(worker.pid, marker) {
            signal(worker.pid, Signal::SIGKILL)
                .map_err(|error| format!("cannot end stress worker {}: {error}", worker.pid))?;
            ended.push(worker);
        }
    }
    for worker in &ended {
        let mut tries = 0;
        while is_alive(worker.pid, worker.start_time) {
            tries += 1;
            if tries > 250 {
                return Err(format!(
                    "stress worker {} still runs after SIGKILL",
                    worker.pid
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let removed = remove_files(files)?;
    if ended.is_empty() && removed == 0 {
        return Ok(RevertOutcome::NothingLeft(format!(
            "no worker of `{marker}` runs and none of its files is left"
        )));
    }
    let pids: Vec<String> = ended.iter().map(|worker| worker.pid.to_string()).collect();
    let mut text = if pids.is_empty() {
        "no worker left".to_owned()
    } else {
        format!("ended workers {}", pids.join(", "))
    };
    if removed > 0 {
        text.push_str(&format!("; removed {removed} files"));
    }
    Ok(RevertOutcome::Reverted(text))
}

/// Returns why a stress fault cannot run on this host, as reasons with
/// fixes.
pub fn host_problems(fault: &str) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if let Err(error) = std::env::current_exe() {
        problems.push((
            format!("cannot find the chaosc binary to start workers: {error}"),
            "run chaosc from a path that exists, with /proc mounted".to_owned(),
        ));
    }
    if super::procfs::cpu_ticks(std::process::id()).is_none() {
        problems.push((
            "/proc/PID/stat cannot be read, so the workers cannot be observed".to_owned(),
            "mount procfs at /proc".to_owned(),
        ));
    }
    if fault == "io_stress" && io_counters(std::process::id()).is_none() {
        problems.push((
            "/proc/PID/io cannot be read, so the writes cannot be observed".to_owned(),
            "use a kernel built with CONFIG_TASK_IO_ACCOUNTING=y".to_owned(),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_workers_leaves_other_processes() {
        // This test process carries no marker, so even with its true start
        // time it is not signalled.
        let pid = std::process::id();
        let start_time = proc_stat(pid).unwrap().start_time;
        let outcome = end_workers(
            "chaosc-none-0000000000000000",
            &[WorkerProcess { pid, start_time }],
            &[],
        )
        .unwrap();
        assert!(
            matches!(outcome, RevertOutcome::NothingLeft(_)),
            "{outcome:?}"
        );
    }

    #[test]
    fn remove_files_rejects_foreign_names() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("data.db");
        std::fs::write(&foreign, b"keep").unwrap();
        assert!(remove_files(std::slice::from_ref(&foreign)).is_err());
        assert!(foreign.exists());
        let ours = dir.path().join(".chaosc-io-chaosc-run-1-0");
        std::fs::write(&ours, b"x").unwrap();
        assert_eq!(remove_files(&[ours.clone(), ours.clone()]), Ok(1));
        assert!(!ours.exists());
    }
}

//! The stress worker: the process behind `cpu_stress`, `memory_stress` and
//! `io_stress`. `chaosc run` starts it as the hidden `chaosc stress-worker`
//! command (so nothing else has to be installed), with its standard input
//! as a control pipe:
//!
//! - `start` makes it begin its work. It is spawned idle, so that its pid
//!   and start time are in the journal before it does anything.
//! - `load SHARE` changes the duty cycle of a CPU worker (a ramp).
//! - The end of the input (the run closed the pipe, or died) ends it.
//!
//! The parent also sets `PR_SET_PDEATHSIG` before the worker's `exec`, so a
//! worker gets SIGKILL when the thread that spawned it exits. Recovery does
//! not rely on that: `chaosc recover` and the guardian end the workers that
//! outlived their run from the journal.

use std::io::{BufRead, Seek, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The length of one duty cycle of a CPU worker.
const DUTY_PERIOD: Duration = Duration::from_millis(100);

/// The size of one write of an I/O worker.
const IO_CHUNK: usize = 1 << 20;

/// How many bytes an I/O worker writes between two `fsync`s.
const IO_SYNC_EVERY: u64 = 4 << 20;

/// The work a worker does once started.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerJob {
    /// Burn `load` (from 0 to 1) of one CPU.
    Cpu { load: f64 },
    /// Allocate `size` bytes and, with `touch`, write every page of them.
    Memory { size: u64, touch: bool },
    /// Write and sync `file` up to `size` bytes, over and over.
    Io { file: PathBuf, size: u64 },
}

impl WorkerJob {
    /// Returns the arguments of `chaosc stress-worker` that describe the job.
    pub fn to_args(&self) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = Vec::new();
        match self {
            WorkerJob::Cpu { load } => {
                args.extend(["--kind".into(), "cpu".into(), "--load".into()]);
                args.push(load.to_string().into());
            }
            WorkerJob::Memory { size, touch } => {
                args.extend(["--kind".into(), "memory".into(), "--size".into()]);
                args.push(size.to_string().into());
                args.extend(["--touch".into(), touch.to_string().into()]);
            }
            WorkerJob::Io { file, size } => {
                args.extend(["--kind".into(), "io".into(), "--size".into()]);
                args.push(size.to_string().into());
                args.extend(["--file".into(), file.clone().into_os_string()]);
            }
        }
        args
    }
}

/// The load of a CPU worker, as the bits of an `f64`.
static LOAD: AtomicU64 = AtomicU64::new(0);

/// Runs a worker until its control pipe closes and returns the exit code.
pub fn run(job: WorkerJob) -> u8 {
    if let WorkerJob::Cpu { load } = &job {
        LOAD.store(load.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }
    let (started_tx, started_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || control(started_tx));
    if started_rx.recv().is_err() {
        return 0;
    }
    let outcome = match job {
        WorkerJob::Cpu { .. } => burn(),
        WorkerJob::Memory { size, touch } => hold_memory(size, touch),
        WorkerJob::Io { file, size } => write_loop(&file, size),
    };
    match outcome {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("chaosc stress-worker: {error}");
            1
        }
    }
}

/// Reads control lines from standard input, and exits the process when the
/// input ends.
fn control(started: mpsc::Sender<()>) {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("start"), None) => {
                let _ = started.send(());
            }
            (Some("load"), Some(share)) => {
                if let Ok(share) = share.parse::<f64>() {
                    LOAD.store(share.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
                }
            }
            _ => eprintln!("chaosc stress-worker: ignored unknown control line {line:?}"),
        }
    }
    // The run closed the pipe or died, so the worker's job is over.
    std::process::exit(0);
}

/// Spins for the load's share of each duty period and sleeps the rest.
fn burn() -> Result<(), String> {
    let mut spins: u64 = 0;
    loop {
        let load = f64::from_bits(LOAD.load(Ordering::Relaxed));
        let started = Instant::now();
        let busy = DUTY_PERIOD.mul_f64(load);
        while started.elapsed() < busy {
            for _ in 0..1000 {
                spins = std::hint::black_box(spins.wrapping_add(1));
            }
        }
        let rest = DUTY_PERIOD.saturating_sub(started.elapsed());
        if !rest.is_zero() {
            std::thread::sleep(rest);
        }
    }
}

/// Allocates the memory, touches it, and keeps it until the end.
fn hold_memory(size: u64, touch: bool) -> Result<(), String> {
    let size = usize::try_from(size).map_err(|_| format!("{size} bytes do not fit in memory"))?;
    let block: Vec<u8> = if touch {
        // Non-zero bytes: every page is written, so it is resident and not
        // the shared zero page.
        vec![0xa5; size]
    } else {
        Vec::with_capacity(size)
    };
    std::hint::black_box(&block);
    loop {
        std::thread::park();
        std::hint::black_box(&block);
    }
}

/// Writes `size` bytes into `file`, syncing every few MiB, then starts again
/// from its beginning, until the worker is ended.
fn write_loop(path: &std::path::Path, size: u64) -> Result<(), String> {
    let io = |error: std::io::Error| format!("cannot write `{}`: {error}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io)?;
    let chunk = vec![0x5a_u8; IO_CHUNK];
    let mut written: u64 = 0;
    loop {
        let take = (size - written).min(IO_CHUNK as u64) as usize;
        file.write_all(&chunk[..take]).map_err(io)?;
        written += take as u64;
        if written >= size || written.is_multiple_of(IO_SYNC_EVERY) {
            file.sync_data().map_err(io)?;
        }
        if written >= size {
            file.rewind().map_err(io)?;
            written = 0;
        }
    }
}

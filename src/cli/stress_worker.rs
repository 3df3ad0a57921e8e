//! `chaosc stress-worker`: the hidden command behind the workers of
//! `cpu_stress`, `memory_stress` and `io_stress`. `chaosc run` starts it,
//! and it is not meant to be run by hand.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::exit;
use crate::runtime::faults::{WorkerJob, run_worker};

/// The resource a worker stresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WorkerKind {
    Cpu,
    Memory,
    Io,
}

/// Arguments of `chaosc stress-worker`.
#[derive(Debug, Args)]
pub struct StressWorkerArgs {
    /// The marker that names the run and the fault. `chaosc recover` checks
    /// that the command line carries it before it ends a worker.
    #[arg(long)]
    pub marker: String,
    #[arg(long, value_enum)]
    pub kind: WorkerKind,
    /// The share of one CPU a CPU worker burns, from 0 to 1.
    #[arg(long, default_value_t = 1.0)]
    pub load: f64,
    /// The bytes a memory worker allocates, or an I/O worker writes per pass
    /// over its file.
    #[arg(long, default_value_t = 0)]
    pub size: u64,
    /// Whether a memory worker writes every page it allocates.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub touch: bool,
    /// The file an I/O worker writes.
    #[arg(long)]
    pub file: Option<PathBuf>,
}

/// Runs `chaosc stress-worker` until its standard input closes.
pub fn execute(args: &StressWorkerArgs) -> u8 {
    let job = match (args.kind, &args.file) {
        (WorkerKind::Cpu, _) => WorkerJob::Cpu { load: args.load },
        (WorkerKind::Memory, _) => WorkerJob::Memory {
            size: args.size,
            touch: args.touch,
        },
        (WorkerKind::Io, Some(file)) => WorkerJob::Io {
            file: file.clone(),
            size: args.size.max(1),
        },
        (WorkerKind::Io, None) => {
            eprintln!("chaosc stress-worker: `--kind io` needs `--file`");
            return exit::USAGE;
        }
    };
    run_worker(job)
}

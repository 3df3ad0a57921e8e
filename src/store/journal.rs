//! The fault journal: one append-only file per run, in which every fault is
//! recorded (and synced to disk) before it is applied, and marked when it is
//! reverted. Whatever a run leaves unreverted, because it was killed or the
//! machine lost power, can be reverted from the journal by the guardian or by
//! `chaosc recover`.
//!
//! The format is JSON lines, so a record torn by a crash in the middle of a
//! write is the last line and is skipped on reading.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::LaunchSpec;
use crate::runtime::revert::RevertAction;

/// One line of a journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// The first line: which run owns the journal.
    Run {
        run_id: String,
        /// The `chaosc run` process and its start time, which together tell
        /// whether the owner is still alive even after its pid is reused.
        pid: u32,
        start_time: u64,
        file: String,
        experiment: String,
        seed: u64,
        started_at: DateTime<Utc>,
        /// The audit trail of the run, so that the guardian or `chaosc
        /// recover` can close it after the run died. Absent for drills.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audit: Option<AuditOrigin>,
    },
    /// A target process that the run is about to launch. Its `spec` sets
    /// [`LAUNCH_MARKER`] in the process's environment, so that a process
    /// started just before the run died, with no `Launch` record yet, is
    /// still found.
    Launching { target: String, spec: LaunchSpec },
    /// A target process that the run launched.
    Launch {
        target: String,
        pid: u32,
        start_time: u64,
        spec: LaunchSpec,
    },
    /// A launched target that the run stopped.
    Stop { target: String, pid: u32 },
    /// A fault about to be applied, and how to revert it from outside.
    Apply {
        id: u64,
        step: String,
        fault: String,
        target: String,
        revert: RevertAction,
        /// After this time the fault must be gone, whatever happens.
        expires_at: DateTime<Utc>,
        /// When the record was written, just before the fault was applied.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<DateTime<Utc>>,
    },
    /// A fault that was reverted.
    Reverted { id: u64 },
}

/// The audit trail of a run: the store it is in, and who and what its
/// records name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditOrigin {
    pub db: PathBuf,
    pub actor: String,
    pub policy_hash: String,
    pub scenario_hash: String,
}

/// The environment variable that names each launch of a target, so that
/// `chaosc recover` can find a process the run started but had not yet
/// journaled when it died.
pub const LAUNCH_MARKER: &str = "CHAOSC_LAUNCH";

/// Returns the marker of a launch, when its spec has one.
pub fn launch_marker(spec: &LaunchSpec) -> Option<&str> {
    spec.env.get(LAUNCH_MARKER).map(String::as_str)
}

/// Returns `spec` with a new marker of its own in its environment.
pub fn mark_launch(spec: &LaunchSpec) -> LaunchSpec {
    let mut marked = spec.clone();
    marked
        .env
        .insert(LAUNCH_MARKER.to_owned(), uuid::Uuid::new_v4().to_string());
    marked
}

/// The run a journal's header names (experiment, file, seed, start and
/// audit trail), for closing the records of a run that died.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOrigin {
    pub experiment: String,
    pub file: String,
    pub seed: u64,
    pub started_at: DateTime<Utc>,
    pub audit: AuditOrigin,
}

/// An open journal that a run appends to.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    next_id: u64,
}

impl Journal {
    /// Creates the journal of a new run under `state_dir/journal/`.
    pub fn create(state_dir: &Path, run_id: &str, header: &Record) -> std::io::Result<Journal> {
        let directory = journal_dir(state_dir);
        super::create_private_dir(&directory)?;
        let path = directory.join(format!("{run_id}.jsonl"));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        let mut journal = Journal {
            path,
            file,
            next_id: 1,
        };
        journal.append(header)?;
        // The new file's directory entry must be durable too, or a crash
        // could lose the whole journal with the record in it.
        File::open(&directory)?.sync_all()?;
        Ok(journal)
    }

    /// Returns the path of the journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns a fresh id for an `Apply` record.
    pub fn next_fault_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Appends a record and syncs it to disk before returning.
    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }

    /// Removes the journal once nothing in it is left to revert.
    pub fn remove(self) -> std::io::Result<()> {
        std::fs::remove_file(&self.path)
    }
}

/// Returns the directory that holds the journals.
pub fn journal_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("journal")
}

/// Lists the journal files under `state_dir`, oldest name first.
pub fn list(state_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(journal_dir(state_dir)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    paths.sort();
    paths
}

/// Appends `records` to the existing journal at `path` and syncs it, for
/// a recovery that keeps the journal. Does nothing for no records.
pub fn append_records(path: &Path, records: &[Record]) -> std::io::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    // A torn last line would stand in the middle once more lines follow,
    // and make the journal unreadable, so it goes first: reading skipped
    // it anyway.
    let bytes = std::fs::read(path)?;
    let whole = bytes
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |end| end + 1);
    let mut file = OpenOptions::new().append(true).open(path)?;
    if whole < bytes.len() {
        file.set_len(whole as u64)?;
    }
    let mut text = String::new();
    for record in records {
        text.push_str(&serde_json::to_string(record).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    file.write_all(text.as_bytes())?;
    file.sync_data()
}

/// What a journal says is still in place.
#[derive(Debug, Clone, Default)]
pub struct JournalState {
    /// The `Run` header, if the file has one.
    pub header: Option<Record>,
    /// `Apply` records without a matching `Reverted`, in the order applied.
    pub pending: Vec<Record>,
    /// `Launch` records without a matching `Stop`.
    pub launched: Vec<Record>,
    /// `Launching` records without a `Launch` of the same marker.
    pub launching: Vec<Record>,
}

impl JournalState {
    /// Reads a journal, skipping a torn last line. Any other damaged line
    /// makes the whole journal unreadable, because a fault it describes
    /// could not be reverted. A path that is not a regular file is
    /// unreadable too.
    pub fn read(path: &Path) -> std::io::Result<JournalState> {
        let metadata = std::fs::symlink_metadata(path)?;
        if !metadata.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "it is not a regular file",
            ));
        }
        let bytes = std::fs::read(path)?;
        let lines: Vec<&[u8]> = bytes.split(|byte| *byte == b'\n').collect();
        let last = lines.iter().rposition(|line| !line.is_empty());
        let mut state = JournalState::default();
        for (index, line) in lines.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let record = match serde_json::from_slice::<Record>(line) {
                Ok(record) => record,
                // A crash in the middle of a write tears only the last line.
                Err(_) if Some(index) == last => continue,
                Err(error) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("line {} is damaged: {error}", index + 1),
                    ));
                }
            };
            match &record {
                Record::Run { .. } => state.header = Some(record),
                Record::Launching { .. } => state.launching.push(record),
                Record::Launch { spec, .. } => {
                    let marker = launch_marker(spec);
                    state.launching.retain(|r| {
                        !matches!(r, Record::Launching { spec: s, .. } if launch_marker(s) == marker)
                    });
                    state.launched.push(record);
                }
                Record::Stop { pid, .. } => {
                    state
                        .launched
                        .retain(|r| !matches!(r, Record::Launch { pid: p, .. } if p == pid));
                }
                Record::Apply { .. } => state.pending.push(record),
                Record::Reverted { id } => {
                    state
                        .pending
                        .retain(|r| !matches!(r, Record::Apply { id: i, .. } if i == id));
                }
            }
        }
        Ok(state)
    }

    /// Returns the owner's pid and start time.
    pub fn owner(&self) -> Option<(u32, u64)> {
        match &self.header {
            Some(Record::Run {
                pid, start_time, ..
            }) => Some((*pid, *start_time)),
            _ => None,
        }
    }

    /// Returns the run id from the header.
    pub fn run_id(&self) -> Option<&str> {
        match &self.header {
            Some(Record::Run { run_id, .. }) => Some(run_id),
            _ => None,
        }
    }

    /// Returns what the header says of a run that has an audit trail.
    pub fn origin(&self) -> Option<RunOrigin> {
        match &self.header {
            Some(Record::Run {
                experiment,
                file,
                seed,
                started_at,
                audit: Some(audit),
                ..
            }) => Some(RunOrigin {
                experiment: experiment.clone(),
                file: file.clone(),
                seed: *seed,
                started_at: *started_at,
                audit: audit.clone(),
            }),
            _ => None,
        }
    }

    /// Tells whether the journal records nothing left in place.
    pub fn is_clean(&self) -> bool {
        self.pending.is_empty() && self.launched.is_empty()
    }
}

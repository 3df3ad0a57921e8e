//! Backups of files that faults change: a copy under the state directory,
//! the SHA-256 and times of the original, and a restore that writes the
//! original bytes back in place (same inode, owner and mode) and proves it
//! by hash. The journal carries the backup, so `chaosc recover` can restore
//! a file from another process.

use std::fs::{FileTimes, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::runtime::revert::RevertOutcome;

/// A file's original content, kept to restore it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileBackup {
    /// The file that a fault changes.
    pub path: PathBuf,
    /// The copy of its original bytes.
    pub backup: PathBuf,
    /// The SHA-256 of the original bytes, in hex.
    pub sha256: String,
    /// The original modification time, in nanoseconds since the epoch. A
    /// `u64` lasts until the year 2554, and the journal's tagged records
    /// cannot carry a `u128`.
    pub modified_ns: Option<u64>,
}

impl FileBackup {
    /// Describes the backup of `path` (hashing it now) to be kept at
    /// `backup`; nothing is copied before [`FileBackup::write`].
    pub fn plan(path: &Path, backup: PathBuf) -> std::io::Result<FileBackup> {
        let sha256 = sha256_file(path)?;
        let modified_ns = std::fs::metadata(path)?
            .modified()
            .ok()
            .and_then(|time| time.duration_since(SystemTime::UNIX_EPOCH).ok())
            .and_then(|since| u64::try_from(since.as_nanos()).ok());
        Ok(FileBackup {
            path: path.to_owned(),
            backup,
            sha256,
            modified_ns,
        })
    }

    /// Copies the original to the backup path and syncs it, after checking
    /// that the file still has the planned content.
    pub fn write(&self) -> Result<(), String> {
        let mut bytes = Vec::new();
        super::confine::open(&self.path, super::confine::Access::Read)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(|error| format!("cannot read `{}`: {error}", self.path.display()))?;
        if sha256_hex(&bytes) != self.sha256 {
            return Err(format!(
                "`{}` changed since the fault was planned",
                self.path.display()
            ));
        }
        if let Some(parent) = self.backup.parent() {
            crate::store::create_private_dir(parent)
                .map_err(|error| format!("cannot create `{}`: {error}", parent.display()))?;
        }
        // The original may hold secrets, so only its owner reads the copy.
        let mut copy = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.backup)
            .map_err(|error| {
                format!("cannot create backup `{}`: {error}", self.backup.display())
            })?;
        copy.write_all(&bytes)
            .and_then(|()| copy.sync_all())
            .map_err(|error| format!("cannot write backup `{}`: {error}", self.backup.display()))
    }

    /// Removes the backup, and the run's folder of backups with its last
    /// one. Removing a folder that still contains files fails and changes
    /// nothing.
    fn discard(&self) {
        let _ = std::fs::remove_file(&self.backup);
        if let Some(folder) = self.backup.parent() {
            let _ = std::fs::remove_dir(folder);
        }
    }

    /// Writes the original bytes back in place, restores the modification
    /// time, checks the hash and removes the backup. Safe to repeat.
    pub fn restore(&self) -> Result<RevertOutcome, String> {
        let current = sha256_file(&self.path).ok();
        if current.as_deref() == Some(self.sha256.as_str()) {
            // Already original: the fault never wrote, or a restore ran.
            self.discard();
            return Ok(RevertOutcome::NothingLeft(format!(
                "`{}` has its original content (sha256 {})",
                self.path.display(),
                short(&self.sha256)
            )));
        }
        let original = std::fs::read(&self.backup)
            .map_err(|error| format!("cannot read backup `{}`: {error}", self.backup.display()))?;
        if sha256_hex(&original) != self.sha256 {
            return Err(format!(
                "backup `{}` does not match its hash",
                self.backup.display()
            ));
        }

        let mut file = super::confine::open(&self.path, super::confine::Access::Truncate)
            .map_err(|error| format!("cannot open `{}`: {error}", self.path.display()))?;
        file.write_all(&original)
            .and_then(|()| file.sync_all())
            .map_err(|error| format!("cannot restore `{}`: {error}", self.path.display()))?;
        if let Some(nanos) = self.modified_ns {
            let modified = SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos);
            // The content is what matters; a time left new is only cosmetic.
            let _ = file.set_times(FileTimes::new().set_modified(modified));
        }
        drop(file);

        let restored = sha256_file(&self.path)
            .map_err(|error| format!("cannot read `{}`: {error}", self.path.display()))?;
        if restored != self.sha256 {
            return Err(format!(
                "`{}` does not match the original after restore",
                self.path.display()
            ));
        }
        self.discard();
        Ok(RevertOutcome::Reverted(format!(
            "restored `{}` (sha256 {})",
            self.path.display(),
            short(&self.sha256)
        )))
    }
}

/// Returns the SHA-256 of a file, in hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    super::confine::sha256_of(path)
}

/// Returns the SHA-256 of bytes, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Returns the first 12 hex digits of a hash, for messages.
pub fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// Returns the backup path of fault `key` of a run.
pub fn backup_path(state_dir: &Path, run_id: &str, key: &str) -> PathBuf {
    state_dir.join("backups").join(run_id).join(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_restores_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        let original: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        std::fs::write(&path, &original).unwrap();

        let backup = FileBackup::plan(&path, dir.path().join("backups/one")).unwrap();
        backup.write().unwrap();
        std::fs::write(&path, b"changed").unwrap();
        let outcome = backup.restore().unwrap();
        assert!(matches!(outcome, RevertOutcome::Reverted(_)), "{outcome:?}");
        assert_eq!(std::fs::read(&path).unwrap(), original);
        assert!(!backup.backup.exists());
        assert!(!dir.path().join("backups").exists());

        let again = backup.restore().unwrap();
        assert!(matches!(again, RevertOutcome::NothingLeft(_)), "{again:?}");
    }

    #[test]
    fn backup_write_rejects_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"one").unwrap();
        let backup = FileBackup::plan(&path, dir.path().join("copy")).unwrap();
        std::fs::write(&path, b"two").unwrap();
        assert!(backup.write().unwrap_err().contains("changed"));
    }
}

//! What chaosc keeps on disk: the fault journal of each run, and the
//! SQLite store of past runs and recovery executions.

pub mod alerts;
pub mod db;
pub mod journal;

pub use db::{Store, StoreError};
pub use journal::{AuditOrigin, Journal, JournalState, Record, RunOrigin};

/// Creates `path` and its missing parents with mode 0700, because the
/// state directory contains backups of files that may contain secrets, the
/// journal that directs `chaosc recover`, and the audit trail. Folders that
/// exist keep their mode.
pub fn create_private_dir(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

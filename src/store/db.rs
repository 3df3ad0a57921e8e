//! The embedded SQLite store: past runs with their results and recovery
//! executions, kept between runs with nothing to install. The schema is
//! versioned with `PRAGMA user_version` and migrated forward on open.

use std::path::{Path, PathBuf};
use std::time::Duration;

use miette::Diagnostic;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use thiserror::Error;

use crate::runtime::result::{RecoveryResult, RunResult};

/// The migrations, in order; migration `i` brings the schema to version
/// `i + 1`. A released migration is never edited, only followed by another.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL,
        file TEXT NOT NULL,
        status TEXT NOT NULL,
        success INTEGER NOT NULL,
        seed TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT NOT NULL,
        duration_seconds REAL NOT NULL,
        result TEXT NOT NULL
    );
    CREATE INDEX runs_started_at ON runs (started_at);
    CREATE TABLE recoveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT,
        plan TEXT NOT NULL,
        strategy TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        recovery_time_seconds REAL NOT NULL,
        rto_met INTEGER,
        result TEXT NOT NULL
    );",
    "CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        run_id TEXT NOT NULL,
        experiment TEXT NOT NULL,
        severity TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL,
        metric TEXT NOT NULL,
        value REAL,
        op TEXT NOT NULL,
        threshold REAL NOT NULL,
        dedup_key TEXT NOT NULL,
        fired_at TEXT NOT NULL,
        acknowledged_by TEXT,
        acknowledged_at TEXT,
        resolved_at TEXT,
        channels TEXT NOT NULL
    );
    CREATE INDEX alerts_fired_at ON alerts (fired_at);",
    // Governance: approvals bound to a scenario's content hash, the audit
    // trail as a hash chain with its head, locks of the targets in use,
    // and the governance facts of each run for compliance reports.
    "CREATE TABLE approvals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        experiment TEXT NOT NULL,
        file TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        policy_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        approver TEXT NOT NULL,
        comment TEXT,
        approved_at TEXT NOT NULL
    );
    CREATE INDEX approvals_content_hash ON approvals (content_hash);
    CREATE TABLE audit (
        sequence INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        experiment TEXT,
        run_id TEXT,
        scenario_hash TEXT,
        policy_hash TEXT NOT NULL,
        details TEXT NOT NULL,
        previous_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        sequence INTEGER NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE target_locks (
        key TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        run_id TEXT NOT NULL,
        pid INTEGER NOT NULL,
        start_time INTEGER NOT NULL,
        acquired_at TEXT NOT NULL
    );
    CREATE TABLE run_governance (
        run_id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL,
        frameworks TEXT NOT NULL,
        risk TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        policy_hash TEXT NOT NULL,
        started_at TEXT NOT NULL,
        summary TEXT NOT NULL
    );",
];

/// How long a command waits for another process to release the store.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The size of the write-ahead log above which opening the store empties
/// it. A process that opens the store alone rebuilds the log's index by
/// reading the whole log. A store used only by short commands saw its log
/// grow to 2.3 MB, read and copied again by every `check`, which then took
/// 13 ms instead of 3.5 ms.
const WAL_LIMIT_BYTES: u64 = 256 * 1024;

/// Returns the size of the write-ahead log of the store at `path`, 0 when
/// there is none.
fn wal_bytes(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |metadata| metadata.len())
}

/// A store that cannot be opened or written.
#[derive(Debug, Error, Diagnostic)]
pub enum StoreError {
    #[error("cannot open the store `{path}`: {reason}")]
    #[diagnostic(
        code(chaos::E0920),
        help("check the path and its permissions, or choose another with `--db`")
    )]
    Open { path: String, reason: String },

    #[error("cannot read or write the store: {0}")]
    #[diagnostic(
        code(chaos::E0921),
        help("another process may hold a lock for long; try again")
    )]
    Sql(#[from] rusqlite::Error),
}

/// The open store.
pub struct Store {
    connection: Connection,
}

/// One past run, as listed by `chaosc history`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub experiment: String,
    pub file: String,
    pub status: String,
    pub success: bool,
    pub started_at: String,
    pub duration_seconds: f64,
}

/// One past recovery execution.
#[derive(Debug, Clone, Serialize)]
pub struct RecoverySummary {
    pub run_id: Option<String>,
    pub plan: String,
    pub strategy: String,
    pub status: String,
    pub started_at: String,
    pub recovery_time_seconds: f64,
    pub rto_met: Option<bool>,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(parent) = path.parent() {
            super::create_private_dir(parent).map_err(|error| open_error(error.to_string()))?;
        }
        let connection = Connection::open(path).map_err(|error| open_error(error.to_string()))?;
        // WAL lets readers work while a run writes; the busy timeout lets two
        // runs that finish together take turns instead of failing.
        connection.busy_timeout(BUSY_TIMEOUT)?;
        set_wal(&connection)?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        // Closing without a checkpoint spares every short command (a
        // `check` in a pull request) the fsyncs of one; SQLite checkpoints
        // as the log grows, and the next open reads the log as it is.
        connection.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        if wal_bytes(path) > WAL_LIMIT_BYTES {
            // Copies the log into the database and empties it. This only
            // works while no other process uses the store, so it does not
            // wait for them and a failure is ignored.
            connection.busy_timeout(Duration::ZERO)?;
            let _ = connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            connection.busy_timeout(BUSY_TIMEOUT)?;
        }
        let mut store = Store { connection };
        store.migrate()?;
        Ok(store)
    }

    /// Returns the connection, for the modules that own their own tables
    /// (governance).
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.connection
    }

    /// Returns the default path of the store under the state directory.
    pub fn default_path(state_dir: &Path) -> PathBuf {
        state_dir.join("chaosc.db")
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        // An immediate transaction takes the write lock before reading the
        // version, so two processes opening a new store migrate it once.
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 =
            transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            transaction.execute_batch(migration)?;
            transaction.pragma_update(None, "user_version", index as i64 + 1)?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Records a finished run and its recovery executions in one
    /// transaction, so a crash never leaves half of it.
    pub fn record_run(&mut self, result: &RunResult) -> Result<(), StoreError> {
        let value = serde_json::to_value(result).expect("results serialize");
        self.record_run_json(result, &value)
    }

    /// Records a finished run like [`Store::record_run`], keeping `value`
    /// (the result as JSON, with what other layers added to it) as its
    /// stored result.
    pub fn record_run_json(
        &mut self,
        result: &RunResult,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let json = value.to_string();
        let transaction = self.connection.transaction()?;
        transaction.execute(
            "INSERT OR REPLACE INTO runs
             (id, experiment, file, status, success, seed, started_at, ended_at, duration_seconds, result)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                result.run_id,
                result.experiment,
                result.file,
                result.status.name(),
                result.success,
                result.seed.to_string(),
                result.started_at.to_rfc3339(),
                result.ended_at.to_rfc3339(),
                result.duration_seconds,
                json
            ],
        )?;
        for recovery in &result.recovery {
            insert_recovery(&transaction, Some(&result.run_id), recovery)?;
        }
        for alert in &result.alerts {
            super::alerts::insert_alert(&transaction, alert)?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Records a recovery execution that ran outside any run (a drill).
    pub fn record_recovery(&mut self, recovery: &RecoveryResult) -> Result<(), StoreError> {
        let transaction = self.connection.transaction()?;
        insert_recovery(&transaction, None, recovery)?;
        transaction.commit()?;
        Ok(())
    }

    /// Lists the newest runs first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT id, experiment, file, status, success, started_at, duration_seconds
             FROM runs ORDER BY started_at DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([limit as i64], |row| {
            Ok(RunSummary {
                id: row.get(0)?,
                experiment: row.get(1)?,
                file: row.get(2)?,
                status: row.get(3)?,
                success: row.get(4)?,
                started_at: row.get(5)?,
                duration_seconds: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Returns the stored result of the run whose id starts with `prefix`.
    pub fn run_result(&self, prefix: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let pattern = format!("{}%", prefix.replace(['%', '_'], ""));
        let json: Option<String> = self
            .connection
            .query_row(
                "SELECT result FROM runs WHERE id LIKE ?1 ORDER BY started_at DESC LIMIT 1",
                [pattern],
                |row| row.get(0),
            )
            .optional()?;
        Ok(json.and_then(|text| serde_json::from_str(&text).ok()))
    }

    /// Lists the newest recovery executions first.
    pub fn recoveries(&self, limit: usize) -> Result<Vec<RecoverySummary>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT run_id, plan, strategy, status, started_at, recovery_time_seconds, rto_met
             FROM recoveries ORDER BY started_at DESC, id DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([limit as i64], |row| {
            Ok(RecoverySummary {
                run_id: row.get(0)?,
                plan: row.get(1)?,
                strategy: row.get(2)?,
                status: row.get(3)?,
                started_at: row.get(4)?,
                recovery_time_seconds: row.get(5)?,
                rto_met: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Switches the store to write-ahead logging. The switch needs a moment of
/// exclusive access, which SQLite does not wait for, so it is retried.
fn set_wal(connection: &Connection) -> Result<(), StoreError> {
    let mut attempts = 0;
    loop {
        match connection.pragma_update(None, "journal_mode", "WAL") {
            Ok(()) => return Ok(()),
            Err(error) if attempts < 50 && is_busy(&error) => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => return Err(error.into()),
        }
    }
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn insert_recovery(
    transaction: &rusqlite::Transaction<'_>,
    run_id: Option<&str>,
    recovery: &RecoveryResult,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(recovery).expect("results serialize");
    transaction.execute(
        "INSERT INTO recoveries
         (run_id, plan, strategy, status, started_at, recovery_time_seconds, rto_met, result)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            run_id,
            recovery.plan,
            recovery.strategy,
            recovery.status.name(),
            recovery.started_at.to_rfc3339(),
            recovery.recovery_time_seconds,
            recovery.rto_met,
            json
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_empties_a_long_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chaosc.db");
        {
            let store = Store::open(&path).unwrap();
            store
                .connection
                .execute_batch(
                    "CREATE TABLE filler (data BLOB);
                     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
                     INSERT INTO filler SELECT zeroblob(8192) FROM n;",
                )
                .unwrap();
        }
        assert!(wal_bytes(&path) > WAL_LIMIT_BYTES, "{}", wal_bytes(&path));

        drop(Store::open(&path).unwrap());
        assert_eq!(wal_bytes(&path), 0);
        let store = Store::open(&path).unwrap();
        let rows: i64 = store
            .connection
            .query_row("SELECT COUNT(*) FROM filler", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 100);
    }

    #[test]
    fn migrations_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chaosc.db");
        Store::open(&path).unwrap();
        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }
}

//! The audit trail: an append-only list of records in the store, each
//! holding the hash of the record before it, so that changing, deleting,
//! inserting or reordering a record breaks the chain where it happened.
//!
//! A record's hash covers its sequence number and every field, the previous
//! hash included. The `audit_head` row keeps the sequence and hash of the
//! last record, so that deleting records at the end is detected too.
//!
//! NOTE: the chain is tamper-evident, not tamper-proof. Someone who can
//! write the store and recomputes every hash with this formula can forge a
//! consistent trail; keep exports of the trail elsewhere to compare with.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::GovernanceError;
use crate::store::StoreError;

/// The previous hash of the first record.
pub const GENESIS_HASH: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// Keys whose values never enter the trail.
const SECRET_KEY_PARTS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "token",
    "credential",
    "api_key",
    "apikey",
    "authorization",
    "private_key",
    "cookie",
];

/// A record about to be appended.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// What happened: `check`, `plan`, `approve`, `run.start`, `injection`,
    /// `rollback`, `recovery`, `alert`, `run.end` and so on.
    pub action: String,
    pub experiment: Option<String>,
    pub run_id: Option<String>,
    pub scenario_hash: Option<String>,
    pub details: Value,
}

impl AuditEvent {
    /// Creates an event that happens now.
    pub fn now(actor: &str, action: &str, details: Value) -> AuditEvent {
        AuditEvent {
            at: Utc::now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            experiment: None,
            run_id: None,
            scenario_hash: None,
            details,
        }
    }
}

/// A record of the trail, as stored and exported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub sequence: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub experiment: Option<String>,
    pub run_id: Option<String>,
    pub scenario_hash: Option<String>,
    pub policy_hash: String,
    /// A JSON object, with secrets replaced by `[redacted]`.
    pub details: String,
    pub previous_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// Computes the hash of the record from its fields.
    pub fn compute_hash(&self) -> String {
        let mut hasher = Sha256::new();
        let optional = |value: &Option<String>| match value {
            Some(text) => format!("+{text}"),
            None => "-".to_owned(),
        };
        let fields = [
            self.sequence.to_string(),
            self.at.clone(),
            self.actor.clone(),
            self.action.clone(),
            optional(&self.experiment),
            optional(&self.run_id),
            optional(&self.scenario_hash),
            self.policy_hash.clone(),
            self.details.clone(),
            self.previous_hash.clone(),
        ];
        for field in fields {
            // Each field is length-prefixed so that no two records with
            // different fields hash the same text.
            hasher.update(field.len().to_string().as_bytes());
            hasher.update(b":");
            hasher.update(field.as_bytes());
        }
        super::hex_digest(hasher)
    }
}

/// Tells whether the trail already records the end of run `run_id`.
pub fn has_ended(connection: &Connection, run_id: &str) -> Result<bool, StoreError> {
    let count: i64 = connection.query_row(
        "SELECT COUNT(*) FROM audit WHERE run_id = ?1 AND action = 'run.end'",
        [run_id],
        |row| row.get(0),
    )?;
    Ok(count > 0)
}

/// Appends events to the trail in one transaction, in order.
pub fn append(
    connection: &mut Connection,
    policy_hash: &str,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    // An immediate transaction takes the write lock before reading the
    // head, so two processes appending at once never fork the chain.
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let head: Option<(i64, String)> = transaction
        .query_row(
            "SELECT sequence, hash FROM audit_head WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let (mut sequence, mut previous) = head.unwrap_or((0, GENESIS_HASH.to_owned()));

    for event in events {
        sequence += 1;
        let mut details = event.details.clone();
        redact(&mut details);
        let mut record = AuditRecord {
            sequence,
            at: event
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            actor: event.actor.clone(),
            action: event.action.clone(),
            experiment: event.experiment.clone(),
            run_id: event.run_id.clone(),
            scenario_hash: event.scenario_hash.clone(),
            policy_hash: policy_hash.to_owned(),
            details: details.to_string(),
            previous_hash: previous.clone(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        transaction.execute(
            "INSERT INTO audit (sequence, at, actor, action, experiment, run_id, scenario_hash,
             policy_hash, details, previous_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                record.sequence,
                record.at,
                record.actor,
                record.action,
                record.experiment,
                record.run_id,
                record.scenario_hash,
                record.policy_hash,
                record.details,
                record.previous_hash,
                record.hash
            ],
        )?;
        previous = record.hash;
    }
    transaction.execute(
        "INSERT INTO audit_head (id, sequence, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET sequence = excluded.sequence, hash = excluded.hash",
        params![sequence, previous],
    )?;
    transaction.commit()?;
    Ok(())
}

/// Reads the records in the order they were stored (by row id), which is
/// the order a reordering would change; `since` keeps records at or after
/// an RFC 3339 time.
pub fn records(
    connection: &Connection,
    since: Option<&str>,
) -> Result<Vec<AuditRecord>, StoreError> {
    let mut statement = connection.prepare(
        "SELECT sequence, at, actor, action, experiment, run_id, scenario_hash, policy_hash,
         details, previous_hash, hash FROM audit ORDER BY rowid",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(AuditRecord {
            sequence: row.get(0)?,
            at: row.get(1)?,
            actor: row.get(2)?,
            action: row.get(3)?,
            experiment: row.get(4)?,
            run_id: row.get(5)?,
            scenario_hash: row.get(6)?,
            policy_hash: row.get(7)?,
            details: row.get(8)?,
            previous_hash: row.get(9)?,
            hash: row.get(10)?,
        })
    })?;
    let mut all: Vec<AuditRecord> = rows.collect::<Result<_, _>>()?;
    if let Some(since) = since {
        all.retain(|record| record.at.as_str() >= since);
    }
    Ok(all)
}

/// The outcome of verifying an intact chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainStatus {
    pub records: usize,
    /// The hash of the last record, or the genesis hash of an empty trail.
    pub head: String,
}

/// Verifies the whole chain and names the first record that breaks it.
pub fn verify(connection: &Connection) -> Result<Result<ChainStatus, GovernanceError>, StoreError> {
    let records = records(connection, None)?;
    let head: Option<(i64, String)> = connection
        .query_row(
            "SELECT sequence, hash FROM audit_head WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(verify_records(&records, head))
}

/// Verifies records read in storage order against the head row.
pub fn verify_records(
    records: &[AuditRecord],
    head: Option<(i64, String)>,
) -> Result<ChainStatus, GovernanceError> {
    let broken =
        |sequence: i64, reason: String| GovernanceError::AuditChainBroken { sequence, reason };
    let mut previous = GENESIS_HASH.to_owned();
    for (index, record) in records.iter().enumerate() {
        let expected_sequence = index as i64 + 1;
        if record.sequence != expected_sequence {
            let reason = if record.sequence > expected_sequence {
                format!(
                    "record {expected_sequence} is missing (found record {} in its place)",
                    record.sequence
                )
            } else {
                format!(
                    "found record {} where record {expected_sequence} belongs",
                    record.sequence
                )
            };
            return Err(broken(expected_sequence, reason));
        }
        if record.previous_hash != previous {
            return Err(broken(
                record.sequence,
                "its previous hash does not match the record before it (a record was removed, \
                 inserted or moved)"
                    .to_owned(),
            ));
        }
        if record.compute_hash() != record.hash {
            return Err(broken(
                record.sequence,
                format!(
                    "its content does not match its hash (`{}` by `{}` at {})",
                    record.action, record.actor, record.at
                ),
            ));
        }
        previous = record.hash.clone();
    }

    let count = records.len() as i64;
    match head {
        None if count == 0 => {}
        None => {
            return Err(broken(1, "the head of the chain is missing".to_owned()));
        }
        Some((sequence, hash)) => {
            if sequence > count {
                return Err(broken(
                    count + 1,
                    format!(
                        "the trail ends at record {count} but its head names record {sequence}"
                    ),
                ));
            }
            if sequence < count || hash != previous {
                return Err(broken(
                    count,
                    "the last record does not match the head of the chain".to_owned(),
                ));
            }
        }
    }
    Ok(ChainStatus {
        records: records.len(),
        head: previous,
    })
}

/// Replaces the value of every key that names a secret with `[redacted]`.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                let lower = key.to_ascii_lowercase();
                if SECRET_KEY_PARTS.iter().any(|part| lower.contains(part)) {
                    *inner = Value::String("[redacted]".to_owned());
                } else {
                    redact(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Returns a store with `count` records; the directory lives as long as
    /// the returned handle.
    fn trail(count: usize) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chaosc.db");
        let mut store = crate::store::Store::open(&path).unwrap();
        let events: Vec<AuditEvent> = (0..count)
            .map(|index| AuditEvent::now("alice", "check", json!({ "index": index })))
            .collect();
        append(store.connection(), "sha256:policy", &events).unwrap();
        (dir, Connection::open(path).unwrap())
    }

    fn sequence_of_break(connection: &Connection) -> Option<i64> {
        match verify(connection).unwrap() {
            Ok(_) => None,
            Err(GovernanceError::AuditChainBroken { sequence, .. }) => Some(sequence),
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn intact_chain_verifies() {
        let (_dir, connection) = trail(3);
        let status = verify(&connection).unwrap().unwrap();
        assert_eq!(status.records, 3);
    }

    #[test]
    fn empty_trail_verifies() {
        let (_dir, connection) = trail(0);
        let status = verify(&connection).unwrap().unwrap();
        assert_eq!(status.records, 0);
        assert_eq!(status.head, GENESIS_HASH);
    }

    #[test]
    fn changed_record_is_named() {
        let (_dir, connection) = trail(4);
        connection
            .execute("UPDATE audit SET actor = 'mallory' WHERE sequence = 3", [])
            .unwrap();
        assert_eq!(sequence_of_break(&connection), Some(3));
    }

    #[test]
    fn deleted_last_record_is_detected() {
        let (_dir, connection) = trail(4);
        connection
            .execute("DELETE FROM audit WHERE sequence = 4", [])
            .unwrap();
        assert_eq!(sequence_of_break(&connection), Some(4));
    }

    #[test]
    fn secrets_are_redacted() {
        let mut details = json!({
            "target": "api",
            "env": { "API_TOKEN": "s3cr3t", "PORT": "80" },
            "items": [{ "password": "hunter2" }]
        });
        redact(&mut details);
        let text = details.to_string();
        assert!(!text.contains("s3cr3t"));
        assert!(!text.contains("hunter2"));
        assert!(text.contains("\"PORT\":\"80\""));
    }
}

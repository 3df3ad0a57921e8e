//! Data corruption: flips bytes of a file target. The original is copied
//! under the state directory first and written back bit for bit on revert,
//! checked by SHA-256.

use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use async_trait::async_trait;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use super::FaultContext;
use super::backup::{FileBackup, backup_path, sha256_file, short};
use super::confine::confine_file;
use crate::model::{FaultSpec, FileSpec, TypedValue};
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::revert::{RevertAction, RevertOutcome};

/// Flips bytes in `[offset, offset + count)` of a file, each with the
/// step's probability (at least one byte in all).
pub struct CorruptFile {
    path: PathBuf,
    backup: FileBackup,
    offset: u64,
    count: u64,
    probability: f64,
    rng: ChaCha8Rng,
    /// The flipped bytes: offset, original value, new value.
    flipped: Vec<(u64, u8, u8)>,
}

impl CorruptFile {
    /// Checks the target and plans the backup of the file.
    pub fn new(
        spec: &FaultSpec,
        file: &FileSpec,
        context: &FaultContext,
    ) -> Result<Self, FaultError> {
        let path = confine_file(file)?;
        let offset = match spec.params.get("offset") {
            Some(TypedValue::Size(bytes)) => *bytes,
            _ => 0,
        };
        let count = match spec.params.get("count") {
            Some(TypedValue::Integer(count)) if *count > 0 => *count as u64,
            _ => {
                return Err(FaultError(
                    "`corrupt_file` needs a `count` above 0".to_owned(),
                ));
            }
        };
        let length = std::fs::metadata(&path)
            .map_err(|error| FaultError(format!("cannot read `{}`: {error}", path.display())))?
            .len();
        if offset >= length {
            return Err(FaultError(format!(
                "offset {offset} is past the end of `{}` ({length} bytes)",
                path.display()
            )));
        }
        let key = format!("corrupt-{:016x}", context.seed);
        let backup = FileBackup::plan(
            &path,
            backup_path(&context.state_dir, &context.run_id, &key),
        )
        .map_err(|error| FaultError(format!("cannot read `{}`: {error}", path.display())))?;
        Ok(CorruptFile {
            count: count.min(length - offset),
            path,
            backup,
            offset,
            probability: context.probability,
            rng: ChaCha8Rng::seed_from_u64(context.seed),
            flipped: Vec::new(),
        })
    }

    /// Chooses the offsets to flip, each with a mask that changes the byte.
    fn choose(&mut self) -> Vec<(u64, u8)> {
        let mut chosen: Vec<(u64, u8)> = (self.offset..self.offset + self.count)
            .filter(|_| self.probability >= 1.0 || self.rng.random::<f64>() < self.probability)
            .map(|at| (at, 0))
            .collect();
        if chosen.is_empty() {
            chosen.push((
                self.rng.random_range(self.offset..self.offset + self.count),
                0,
            ));
        }
        for (_, mask) in &mut chosen {
            *mask = self.rng.random_range(1..=255);
        }
        chosen
    }
}

#[async_trait]
impl Fault for CorruptFile {
    fn kind(&self) -> &'static str {
        "corrupt_file"
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::RestoreFile(self.backup.clone())
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        self.backup.write().map_err(FaultError)?;
        let file = super::confine::open(&self.path, super::confine::Access::ReadWrite).map_err(
            |error| FaultError(format!("cannot open `{}`: {error}", self.path.display())),
        )?;
        let chosen = self.choose();
        let path = self.path.clone();
        let io = |error: std::io::Error| {
            FaultError(format!("cannot corrupt `{}`: {error}", path.display()))
        };
        for (at, mask) in chosen {
            let mut byte = [0u8; 1];
            file.read_exact_at(&mut byte, at).map_err(io)?;
            let new = byte[0] ^ mask;
            file.write_all_at(&[new], at).map_err(io)?;
            self.flipped.push((at, byte[0], new));
        }
        file.sync_all().map_err(io)
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let bytes = std::fs::read(&self.path).map_err(|error| {
            FaultError(format!("cannot read `{}`: {error}", self.path.display()))
        })?;
        let changed = self
            .flipped
            .iter()
            .filter(|(at, original, _)| bytes.get(*at as usize).is_some_and(|now| now != original))
            .count();
        let hash = super::backup::sha256_hex(&bytes);
        if changed != self.flipped.len() || hash == self.backup.sha256 {
            return Err(FaultError(format!(
                "{changed} of {} flipped bytes of `{}` differ from the original",
                self.flipped.len(),
                self.path.display()
            )));
        }
        let first = self.flipped.first().map_or(0, |(at, _, _)| *at);
        Ok(format!(
            "{} byte(s) of `{}` differ from the original, first at offset {first}; sha256 {} -> {}",
            changed,
            self.path.display(),
            short(&self.backup.sha256),
            short(&hash)
        ))
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        let outcome = self.backup.restore().map_err(FaultError)?;
        let hash = sha256_file(&self.path).map_err(|error| FaultError(error.to_string()))?;
        if hash != self.backup.sha256 {
            return Err(FaultError(format!(
                "`{}` still differs from its original",
                self.path.display()
            )));
        }
        Ok(match outcome {
            RevertOutcome::Reverted(detail) | RevertOutcome::NothingLeft(detail) => detail,
        })
    }
}

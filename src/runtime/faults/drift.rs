//! Configuration drift: changes, adds or removes one key of a JSON, YAML,
//! TOML or `.env` file target. The original bytes are kept under the state
//! directory and written back exactly on revert, checked by SHA-256.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::FaultContext;
use super::backup::{FileBackup, backup_path, sha256_file, short};
use super::config_format::{Change, Format, apply, canonical, lookup};
use super::confine::{Access, confine_file};
use crate::model::{FaultSpec, FileSpec, TypedValue};
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::revert::{RevertAction, RevertOutcome};

/// Sets or removes one key of a configuration file.
pub struct ConfigDrift {
    path: PathBuf,
    format: Format,
    key: String,
    change: Change,
    backup: FileBackup,
    /// The key's value before the change, for the report.
    before: Option<String>,
}

impl ConfigDrift {
    /// Checks the target, its format and the key, and plans the backup.
    pub fn new(
        spec: &FaultSpec,
        file: &FileSpec,
        context: &FaultContext,
    ) -> Result<Self, FaultError> {
        let path = confine_file(file)?;
        let format = Format::of(&path).ok_or_else(|| {
            FaultError(format!(
                "cannot tell the format of `{}`; name it `.json`, `.yaml`, `.yml`, `.toml` or `.env`",
                path.display()
            ))
        })?;
        let key = spec.text("key").unwrap_or_default().to_owned();
        let remove = matches!(spec.params.get("remove"), Some(TypedValue::Bool(true)));
        let change = if remove {
            Change::Remove
        } else {
            Change::Set(spec.text("value").unwrap_or_default().to_owned())
        };
        let text = read_text(&path)
            .map_err(|error| FaultError(format!("cannot read `{}`: {error}", path.display())))?;
        let before = lookup(format, &text, &key).map_err(FaultError)?;
        if remove && before.is_none() {
            return Err(FaultError(format!(
                "`{}` has no key `{key}` to remove",
                path.display()
            )));
        }
        let name = format!("drift-{:016x}", context.seed);
        let backup = FileBackup::plan(
            &path,
            backup_path(&context.state_dir, &context.run_id, &name),
        )
        .map_err(|error| FaultError(format!("cannot read `{}`: {error}", path.display())))?;
        Ok(ConfigDrift {
            path,
            format,
            key,
            change,
            backup,
            before,
        })
    }
}

#[async_trait]
impl Fault for ConfigDrift {
    fn kind(&self) -> &'static str {
        "config_drift"
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::RestoreFile(self.backup.clone())
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        self.backup.write().map_err(FaultError)?;
        let text = read_text(&self.path).map_err(|error| {
            FaultError(format!("cannot read `{}`: {error}", self.path.display()))
        })?;
        let edited = apply(self.format, &text, &self.key, &self.change).map_err(FaultError)?;
        // Written in place, so the file keeps its inode, owner and mode.
        super::confine::open(&self.path, Access::Truncate)
            .and_then(|mut file| file.write_all(edited.as_bytes()))
            .map_err(|error| FaultError(format!("cannot write `{}`: {error}", self.path.display())))
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let text = read_text(&self.path).map_err(|error| {
            FaultError(format!("cannot read `{}`: {error}", self.path.display()))
        })?;
        let now = lookup(self.format, &text, &self.key).map_err(FaultError)?;
        let expected = match &self.change {
            Change::Set(raw) => Some(canonical(self.format, raw)),
            Change::Remove => None,
        };
        let describe =
            |value: &Option<String>| value.clone().unwrap_or_else(|| "absent".to_owned());
        if now != expected {
            return Err(FaultError(format!(
                "`{}` in `{}` is {}, expected {}",
                self.key,
                self.path.display(),
                describe(&now),
                describe(&expected)
            )));
        }
        let hash = super::backup::sha256_hex(text.as_bytes());
        Ok(format!(
            "`{}` in `{}` went from {} to {}; sha256 {} -> {}",
            self.key,
            self.path.display(),
            describe(&self.before),
            describe(&now),
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

/// Reads a confined file as text, rejecting symbolic and hard links.
fn read_text(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    super::confine::open(path, Access::Read)?.read_to_string(&mut text)?;
    Ok(text)
}

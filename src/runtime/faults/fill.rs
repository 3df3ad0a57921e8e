//! Disk fill: writes a file of a given size into a directory target, so
//! that the file system has that much less free space. The file's name
//! starts with `.chaosc-fill-` so that it is easy to find; reverting
//! removes it.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use async_trait::async_trait;

use super::FaultContext;
use super::confine::confine_directory;
use crate::model::{DirectorySpec, FaultSpec, TypedValue};
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::revert::RevertAction;

/// The size of one write while filling.
const WRITE_CHUNK: usize = 1 << 20;

/// Writes `size` bytes into a new file of a directory.
pub struct DiskFill {
    path: PathBuf,
    size: u64,
    /// Free bytes that must remain after the fill.
    keep_free: u64,
}

fn size_param(spec: &FaultSpec, name: &str) -> u64 {
    match spec.params.get(name) {
        Some(TypedValue::Size(bytes)) => *bytes,
        _ => 0,
    }
}

/// Returns the bytes an unprivileged writer can still use on the file
/// system of `path`.
pub fn available_bytes(path: &std::path::Path) -> Result<u64, FaultError> {
    let stat = nix::sys::statvfs::statvfs(path).map_err(|error| {
        FaultError(format!(
            "cannot read free space of `{}`: {error}",
            path.display()
        ))
    })?;
    Ok(stat.blocks_available() as u64 * stat.fragment_size() as u64)
}

impl DiskFill {
    /// Checks the directory and names the fill file.
    pub fn new(
        spec: &FaultSpec,
        directory: &DirectorySpec,
        context: &FaultContext,
    ) -> Result<Self, FaultError> {
        let directory = confine_directory(&directory.path)?;
        let size = size_param(spec, "size");
        if size == 0 {
            return Err(FaultError("`disk_fill` needs a `size` above 0B".to_owned()));
        }
        let run = context.run_id.get(..8).unwrap_or(&context.run_id);
        let path = directory.join(format!(".chaosc-fill-{run}-{:08x}", context.seed as u32));
        Ok(DiskFill {
            path,
            size,
            keep_free: size_param(spec, "keep_free"),
        })
    }
}

#[async_trait]
impl Fault for DiskFill {
    fn kind(&self) -> &'static str {
        "disk_fill"
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::RemoveFile {
            path: self.path.clone(),
        }
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        let directory = self.path.parent().unwrap_or(&self.path).to_owned();
        let available = available_bytes(&directory)?;
        if available < self.size.saturating_add(self.keep_free) {
            return Err(FaultError(format!(
                "filling {} bytes would leave less than `keep_free` ({} bytes) of the {available} free in `{}`",
                self.size,
                self.keep_free,
                directory.display()
            )));
        }
        let path = self.path.clone();
        let size = self.size;
        // Writing gigabytes blocks, so it runs off the async threads.
        tokio::task::spawn_blocking(move || write_fill(&path, size))
            .await
            .map_err(|error| FaultError(format!("the fill task failed: {error}")))?
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let metadata = std::fs::metadata(&self.path)
            .map_err(|error| FaultError(format!("fill file `{}`: {error}", self.path.display())))?;
        let allocated = metadata.blocks() * 512;
        if metadata.len() != self.size || allocated < self.size {
            return Err(FaultError(format!(
                "fill file `{}` has {} bytes with {allocated} allocated, expected {}",
                self.path.display(),
                metadata.len(),
                self.size
            )));
        }
        let directory = self.path.parent().unwrap_or(&self.path);
        let available = available_bytes(directory)?;
        Ok(format!(
            "`{}` holds {} bytes on disk; {available} bytes left free",
            self.path.display(),
            allocated
        ))
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(FaultError(format!(
                    "cannot remove `{}`: {error}",
                    self.path.display()
                )));
            }
        }
        if self.path.exists() {
            return Err(FaultError(format!(
                "`{}` still exists",
                self.path.display()
            )));
        }
        Ok(format!("removed `{}`", self.path.display()))
    }
}

/// Writes `size` bytes of non-zero data (so that no file system can store
/// it sparse) and syncs it.
fn write_fill(path: &std::path::Path, size: u64) -> Result<(), FaultError> {
    let io =
        |error: std::io::Error| FaultError(format!("cannot fill `{}`: {error}", path.display()));
    let mut file = super::confine::open(path, super::confine::Access::CreateNew).map_err(io)?;
    let chunk = vec![0xa5u8; WRITE_CHUNK];
    let mut left = size;
    while left > 0 {
        let take = left.min(WRITE_CHUNK as u64) as usize;
        file.write_all(&chunk[..take]).map_err(io)?;
        left -= take as u64;
    }
    file.sync_all().map_err(io)
}

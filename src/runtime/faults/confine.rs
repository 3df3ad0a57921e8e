//! Keeping file faults inside the roots a scenario declares. The checker
//! rejects relative paths and `..`; here the paths are checked again on
//! disk, right before a fault touches them, because symlinks and hard links
//! only show there.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

use crate::model::FileSpec;
use crate::runtime::fault::FaultError;

/// Returns the canonical path of a file target once it is shown to be a
/// regular file with one link, reached without leaving its root.
pub fn confine_file(spec: &FileSpec) -> Result<PathBuf, FaultError> {
    let fail = |reason: String| FaultError(format!("file `{}`: {reason}", spec.path.display()));
    if let Some(problem) = crate::check::path_problem(&spec.path) {
        return Err(fail(problem.to_owned()));
    }
    let root = spec.root.canonicalize().map_err(|error| {
        fail(format!(
            "cannot resolve root `{}`: {error}",
            spec.root.display()
        ))
    })?;
    let metadata =
        std::fs::symlink_metadata(&spec.path).map_err(|error| fail(error.to_string()))?;
    if metadata.file_type().is_symlink() {
        return Err(fail(
            "it is a symbolic link; name the file it points to".to_owned(),
        ));
    }
    if !metadata.is_file() {
        return Err(fail("it is not a regular file".to_owned()));
    }
    if metadata.nlink() > 1 {
        return Err(fail(format!(
            "it has {} hard links, so a change would reach paths outside the root",
            metadata.nlink()
        )));
    }
    let resolved = spec
        .path
        .canonicalize()
        .map_err(|error| fail(error.to_string()))?;
    if !resolved.starts_with(&root) {
        return Err(fail(format!(
            "it resolves to `{}`, outside the root `{}`",
            resolved.display(),
            root.display()
        )));
    }
    Ok(resolved)
}

/// Returns the canonical path of a directory target once it is shown to
/// be a directory reached without any symbolic link.
pub fn confine_directory(path: &Path) -> Result<PathBuf, FaultError> {
    let fail = |reason: String| FaultError(format!("directory `{}`: {reason}", path.display()));
    if let Some(problem) = crate::check::path_problem(path) {
        return Err(fail(problem.to_owned()));
    }
    let metadata = std::fs::symlink_metadata(path).map_err(|error| fail(error.to_string()))?;
    if metadata.file_type().is_symlink() {
        return Err(fail(
            "it is a symbolic link; name the directory it points to".to_owned(),
        ));
    }
    if !metadata.is_dir() {
        return Err(fail("it is not a directory".to_owned()));
    }
    let resolved = path
        .canonicalize()
        .map_err(|error| fail(error.to_string()))?;
    // A link in a parent would send the files elsewhere, perhaps to
    // another file system, without the path saying so.
    let written: PathBuf = path.components().collect();
    if resolved != written {
        return Err(fail(format!(
            "a folder on its path is a symbolic link (it resolves to `{}`); name the real path",
            resolved.display()
        )));
    }
    Ok(resolved)
}

/// The access mode a fault opens a confined file with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    ReadWrite,
    /// Write from the start, dropping what was there.
    Truncate,
    /// Create a file that must not exist yet.
    CreateNew,
}

/// Opens a confined path, rejecting a symbolic link in any component and a
/// file with a second hard link. A link made between the confinement check
/// and the open therefore cannot lead the fault outside its root.
pub fn open(path: &Path, access: Access) -> io::Result<File> {
    let flags = OFlag::O_CLOEXEC
        | OFlag::O_NOFOLLOW
        | match access {
            Access::Read => OFlag::O_RDONLY,
            Access::ReadWrite => OFlag::O_RDWR,
            Access::Truncate => OFlag::O_WRONLY | OFlag::O_TRUNC,
            Access::CreateNew => OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
        };
    // openat2 accepts a mode only with O_CREAT and rejects one otherwise.
    let mode = match access {
        Access::CreateNew => Mode::from_bits_truncate(0o600),
        _ => Mode::empty(),
    };
    let how = OpenHow::new()
        .flags(flags)
        .mode(mode)
        .resolve(ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let descriptor = match nix::fcntl::openat2(AT_FDCWD, path, how) {
        // Kernels before 5.6 have no openat2. O_NOFOLLOW still rejects a
        // link in the last component, and the root check ran just before.
        Err(Errno::ENOSYS) => nix::fcntl::open(path, flags, mode),
        other => other,
    }
    .map_err(io::Error::from)?;
    let file = File::from(descriptor);
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::other("it is not a regular file"));
    }
    if metadata.nlink() > 1 {
        return Err(io::Error::other(format!(
            "it has {} hard links, so a change would reach paths outside the root",
            metadata.nlink()
        )));
    }
    Ok(file)
}

/// Returns the SHA-256 of a confined file, in hex, read in pieces.
pub fn sha256_of(path: &Path) -> io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = open(path, Access::Read)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let count = file.read(&mut buffer)?;
        if count == 0 {
            break;
        }
        hasher.update(&buffer[..count]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(root: &Path, path: PathBuf) -> FileSpec {
        FileSpec {
            path,
            root: root.to_owned(),
        }
    }

    #[test]
    fn confine_accepts_plain_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.bin");
        std::fs::write(&file, b"data").unwrap();
        assert!(confine_file(&spec(dir.path(), file)).is_ok());
    }

    #[test]
    fn confine_rejects_symlink_out_of_root() {
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("secret");
        std::fs::write(&target, b"secret").unwrap();
        let root = tempfile::tempdir().unwrap();
        let inner = root.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        // A symlinked directory inside the root that leads out of it.
        std::os::unix::fs::symlink(outside.path(), inner.join("escape")).unwrap();
        let error = confine_file(&spec(root.path(), inner.join("escape/secret"))).unwrap_err();
        assert!(error.0.contains("outside the root"), "{error}");

        std::os::unix::fs::symlink(&target, root.path().join("link")).unwrap();
        let error = confine_file(&spec(root.path(), root.path().join("link"))).unwrap_err();
        assert!(error.0.contains("symbolic link"), "{error}");
    }

    #[test]
    fn confine_rejects_hard_link() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a");
        std::fs::write(&file, b"a").unwrap();
        std::fs::hard_link(&file, dir.path().join("b")).unwrap();
        let error = confine_file(&spec(dir.path(), file)).unwrap_err();
        assert!(error.0.contains("hard links"), "{error}");
    }

    #[test]
    fn confine_rejects_parent_components() {
        let dir = tempfile::tempdir().unwrap();
        let error = confine_file(&spec(dir.path(), dir.path().join("../x"))).unwrap_err();
        assert!(error.0.contains("`..`"), "{error}");
    }

    #[test]
    fn open_rejects_symlinked_components() {
        let root = tempfile::tempdir().unwrap();
        let real = root.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("data"), b"data").unwrap();
        std::os::unix::fs::symlink(&real, root.path().join("swapped")).unwrap();
        assert!(open(&real.join("data"), Access::Read).is_ok());
        // A symlinked directory fails the open even if a check passed.
        assert!(open(&root.path().join("swapped/data"), Access::Read).is_err());
        std::os::unix::fs::symlink(real.join("data"), root.path().join("last")).unwrap();
        assert!(open(&root.path().join("last"), Access::ReadWrite).is_err());
    }

    #[test]
    fn directory_behind_linked_parent_rejected() {
        let base = tempfile::tempdir().unwrap();
        let real = base.path().join("real");
        std::fs::create_dir_all(real.join("sub")).unwrap();
        std::os::unix::fs::symlink(&real, base.path().join("linked")).unwrap();
        assert!(confine_directory(&real.join("sub")).is_ok());
        let error = confine_directory(&base.path().join("linked/sub")).unwrap_err();
        assert!(error.0.contains("symbolic link"), "{error}");
    }

    #[test]
    fn open_rejects_hard_links() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a");
        std::fs::write(&file, b"a").unwrap();
        assert!(confine_file(&spec(dir.path(), file.clone())).is_ok());
        std::fs::hard_link(&file, dir.path().join("b")).unwrap();
        let error = open(&file, Access::ReadWrite).unwrap_err();
        assert!(error.to_string().contains("hard links"), "{error}");
    }
}

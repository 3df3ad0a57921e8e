//! Keeping file faults inside the roots a scenario declares. The checker
//! rejects relative paths and `..`; here the paths are checked again on
//! disk, right before a fault touches them, because symlinks and hard links
//! only show there.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

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
/// be a directory and not a symlink.
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
    path.canonicalize().map_err(|error| fail(error.to_string()))
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
}

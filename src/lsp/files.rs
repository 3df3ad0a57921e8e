//! Locations outside the edited document: `file:` URIs, and the standard
//! library's files, which go-to-definition must open.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::Uri;

use super::LspError;
use crate::check::stdlib::Module;

/// Converts an absolute path into a `file:` URI, percent-encoding every
/// byte outside the unreserved set of RFC 3986 and `/`.
pub fn path_to_uri(path: &Path) -> Result<Uri, LspError> {
    use std::os::unix::ffi::OsStrExt;
    let mut text = String::from("file://");
    for &byte in path.as_os_str().as_bytes() {
        let is_plain = byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte);
        if is_plain {
            text.push(char::from(byte));
        } else {
            text.push_str(&format!("%{byte:02X}"));
        }
    }
    Uri::from_str(&text).map_err(|_| LspError::InvalidUri { uri: text })
}

/// Converts a `file:` URI into a path; other schemes have none.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let rest = uri.as_str().strip_prefix("file://")?;
    // A host part (`file://host/path`) is allowed by the scheme but names
    // another machine, so only the empty host is accepted.
    if !rest.starts_with('/') {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let mut bytes = Vec::with_capacity(rest.len());
    let mut input = rest.bytes();
    while let Some(byte) = input.next() {
        if byte != b'%' {
            bytes.push(byte);
            continue;
        }
        let high = input.next().and_then(hex_value)?;
        let low = input.next().and_then(hex_value)?;
        bytes.push(high * 16 + low);
    }
    Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|digit| u8::try_from(digit).ok())
}

/// Finds or writes the files of the standard library modules.
#[derive(Debug, Default)]
pub struct StdlibFiles {
    /// The workspace folder, which contains `stdlib/` when it is a checkout of
    /// chaosc itself.
    pub workspace: Option<PathBuf>,
}

impl StdlibFiles {
    /// Returns a file that contains exactly the embedded source of `module`:
    /// the workspace's own copy when it is identical, or else a copy
    /// written under the cache directory.
    pub fn path_of(&self, module: &Module) -> Result<PathBuf, LspError> {
        if let Some(workspace) = &self.workspace {
            let path = workspace.join(module.file);
            if std::fs::read_to_string(&path).is_ok_and(|text| text == module.source) {
                return Ok(path);
            }
        }
        let path = cache_dir()?
            .join(env!("CARGO_PKG_VERSION"))
            .join(module.file);
        if std::fs::read_to_string(&path).is_ok_and(|text| text == module.source) {
            return Ok(path);
        }
        write_read_only(&path, module.source).map_err(|error| LspError::Io {
            path: path.clone(),
            error,
        })?;
        Ok(path)
    }
}

/// Returns `$XDG_CACHE_HOME/chaosc`, or `~/.cache/chaosc`.
fn cache_dir() -> Result<PathBuf, LspError> {
    if let Some(cache) = std::env::var_os("XDG_CACHE_HOME").filter(|dir| !dir.is_empty()) {
        return Ok(PathBuf::from(cache).join("chaosc"));
    }
    match std::env::var_os("HOME").filter(|dir| !dir.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".cache/chaosc")),
        None => Err(LspError::NoCacheDir),
    }
}

/// Writes `text` to a temporary file beside `path` and renames it over
/// `path`, so that a reader never sees half a file. The copy is read-only
/// because edits to it would change nothing the checker reads.
fn write_read_only(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let temporary = parent.join(format!(".{}.tmp", std::process::id()));
    std::fs::write(&temporary, text)?;
    std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o444))?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_round_trip_encodes_spaces() {
        let path = Path::new("/tmp/a b/ü.chaos");
        let uri = path_to_uri(path).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/%C3%BC.chaos");
        assert_eq!(uri_to_path(&uri).unwrap(), path);
    }

    #[test]
    fn uri_of_other_scheme_has_no_path() {
        let uri = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(uri_to_path(&uri), None);
    }

    #[test]
    fn stdlib_copy_is_written_once() {
        let module = crate::check::stdlib::modules().get("std::faults").unwrap();
        let workspace = tempfile::tempdir().unwrap();
        let files = StdlibFiles {
            workspace: Some(workspace.path().to_owned()),
        };
        let in_workspace = workspace.path().join(module.file);
        std::fs::create_dir_all(in_workspace.parent().unwrap()).unwrap();
        std::fs::write(&in_workspace, module.source).unwrap();
        assert_eq!(files.path_of(module).unwrap(), in_workspace);
    }
}

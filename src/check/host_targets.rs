//! Checking the targets that name things on the host rather than processes
//! or proxies: files confined to a root, directories, and network
//! interfaces. The runtime checks the paths again on disk before it touches
//! them, since links and mounts can change after checking.

use std::path::{Component, Path, PathBuf};

use super::CheckError;
use super::schema::{Field, Settings};
use crate::model::{
    DirectorySpec, FileSpec, InterfaceSpec, TargetKind, TargetSpec, TypedValue, ValueType,
};
use crate::syntax::TargetDecl;

/// The maximum interface name length Linux accepts (`IFNAMSIZ` less the NUL).
const MAX_INTERFACE_NAME: usize = 15;

/// Returns the settings a target of `kind` may hold.
pub fn fields(kind: TargetKind) -> Vec<Field> {
    let mut fields = match kind {
        TargetKind::File => vec![
            Field::required("path", ValueType::Path),
            Field::required("root", ValueType::Path),
        ],
        TargetKind::Directory => vec![Field::required("path", ValueType::Path)],
        _ => vec![
            Field::required("name", ValueType::String),
            Field::optional("netns", ValueType::String),
            Field::optional("peer", ValueType::Address),
        ],
    };
    fields.push(Field::optional("labels", ValueType::StringMap));
    fields.push(Field::optional("service", ValueType::String));
    fields.push(Field::optional("region", ValueType::String));
    fields
}

/// Builds the spec of a file, directory or interface target, reporting
/// paths and names that can never be valid.
pub fn spec(
    diagnostics: &mut Vec<CheckError>,
    decl: &TargetDecl,
    kind: TargetKind,
    settings: &Settings,
) -> Option<TargetSpec> {
    let before = diagnostics.len();
    let spec = match kind {
        TargetKind::File => {
            let path = checked_path(diagnostics, decl, settings, "path")?;
            let root = checked_path(diagnostics, decl, settings, "root")?;
            if !path.starts_with(&root) || path == root {
                report(
                    diagnostics,
                    decl,
                    "path",
                    "it is not inside `root`",
                    format!("name a file under {}, or widen `root`", root.display()),
                );
            }
            TargetSpec::File(FileSpec { path, root })
        }
        TargetKind::Directory => {
            let path = checked_path(diagnostics, decl, settings, "path")?;
            TargetSpec::Directory(DirectorySpec { path })
        }
        _ => {
            let name = settings.text("name")?.to_owned();
            if name.is_empty() || name.len() > MAX_INTERFACE_NAME || name.contains(['/', ' ']) {
                report(
                    diagnostics,
                    decl,
                    "name",
                    "it is not a valid interface name",
                    format!(
                        "interface names have 1 to {MAX_INTERFACE_NAME} characters and no `/` or spaces"
                    ),
                );
            }
            let netns = settings.text("netns").map(str::to_owned);
            if netns
                .as_deref()
                .is_some_and(|netns| netns.is_empty() || netns.contains('/'))
            {
                report(
                    diagnostics,
                    decl,
                    "netns",
                    "it is not a namespace name",
                    "write the name that `ip netns list` shows".to_owned(),
                );
            }
            let peer = match settings.get("peer") {
                Some(TypedValue::Address(address)) => Some(*address),
                _ => None,
            };
            TargetSpec::Interface(InterfaceSpec { name, netns, peer })
        }
    };
    (diagnostics.len() == before).then_some(spec)
}

/// Returns the path setting `name` if it is absolute and has no `..`.
fn checked_path(
    diagnostics: &mut Vec<CheckError>,
    decl: &TargetDecl,
    settings: &Settings,
    name: &'static str,
) -> Option<PathBuf> {
    let path = PathBuf::from(settings.text(name)?);
    if let Some(reason) = path_problem(&path) {
        report(
            diagnostics,
            decl,
            name,
            reason,
            "write an absolute path without `..`".to_owned(),
        );
        return None;
    }
    Some(path)
}

/// Tells why a declared path cannot be used, if it cannot.
pub fn path_problem(path: &Path) -> Option<&'static str> {
    if !path.is_absolute() {
        return Some("it is not an absolute path");
    }
    if path.components().any(|part| part == Component::ParentDir) {
        return Some("it contains `..`");
    }
    None
}

fn report(
    diagnostics: &mut Vec<CheckError>,
    decl: &TargetDecl,
    name: &str,
    reason: &str,
    help: String,
) {
    let span = decl
        .block
        .property(name)
        .map_or(decl.name.span, |property| property.value.span);
    diagnostics.push(CheckError::InvalidValue {
        what: format!("`{name}`"),
        reason: reason.to_owned(),
        span: span.into(),
        help: Some(help),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_problems() {
        assert_eq!(path_problem(Path::new("/srv/app/config.json")), None);
        assert_eq!(
            path_problem(Path::new("config.json")),
            Some("it is not an absolute path")
        );
        assert_eq!(
            path_problem(Path::new("/srv/../etc/passwd")),
            Some("it contains `..`")
        );
    }
}

//! The content hash of a scenario: a SHA-256 over its text and the text of
//! every file it imports, so that an approval is bound to exactly what was
//! reviewed and any later edit voids it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::cli::source::read_source;
use crate::syntax::{self, Item};

/// Computes the content hash of the scenario at `path` whose text is
/// `source`. Imports are followed depth first in the order they are
/// written; each file is hashed once, under the import path as written, so
/// that moving the whole tree keeps the hash. An import that cannot be read
/// or parsed is hashed by its path alone: the checker rejects such a file
/// before any hash matters.
pub fn content_hash(path: &Path, source: &str) -> String {
    let imports = match syntax::parse_file(source) {
        Ok(file) => import_paths(&file),
        Err(_) => Vec::new(),
    };
    content_hash_with_imports(path, source, &imports)
}

/// Computes the content hash like [`content_hash`], given `imports`, the
/// [`import_paths`] of the scenario's parse, for a caller that has parsed
/// it already. Pass no imports when the text does not parse.
pub fn content_hash_with_imports(path: &Path, source: &str, imports: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"chaosc scenario\0");
    hasher.update(source.as_bytes());
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let mut seen = vec![canonical];
    hash_imports(&mut hasher, path, imports, &mut seen);
    super::hex_digest(hasher)
}

/// Lists the paths of the `use "..."` imports of a parsed file, as written
/// and in order.
pub fn import_paths(file: &syntax::File) -> Vec<String> {
    let imports = file.items.iter().filter_map(|item| match item {
        Item::Import(decl) => Some(decl.path.clone()),
        _ => None,
    });
    imports.collect()
}

fn hash_imports(hasher: &mut Sha256, path: &Path, imports: &[String], seen: &mut Vec<PathBuf>) {
    let directory = path.parent().unwrap_or(Path::new("."));
    for import in imports {
        let resolved = directory.join(import);
        let canonical = resolved.canonicalize().unwrap_or_else(|_| resolved.clone());
        if seen.contains(&canonical) {
            continue;
        }
        seen.push(canonical);
        hasher.update(b"\0import\0");
        hasher.update(import.as_bytes());
        hasher.update(b"\0");
        // Imports are read as the checker reads them, so a FIFO cannot
        // block and a device or an endless `/proc` file cannot run on.
        if let Ok(file) = read_source(&resolved) {
            hasher.update(file.text.as_bytes());
            let nested = match syntax::parse_file(&file.text) {
                Ok(parsed) => import_paths(&parsed),
                Err(_) => Vec::new(),
            };
            hash_imports(hasher, &resolved, &nested, seen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_changes_with_imported_file() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main.chaos");
        let common = dir.path().join("common.chaos");
        let source = "use \"./common.chaos\"\n";
        std::fs::write(&main, source).unwrap();
        std::fs::write(&common, "service a { tier = low }\n").unwrap();
        let before = content_hash(&main, source);
        assert_eq!(before, content_hash(&main, source));
        assert!(before.starts_with("sha256:"));

        std::fs::write(&common, "service a { tier = critical }\n").unwrap();
        assert_ne!(before, content_hash(&main, source));
    }

    #[test]
    fn hash_changes_with_scenario_text() {
        let path = Path::new("scenario.chaos");
        assert_ne!(
            content_hash(path, "service a { tier = low }"),
            content_hash(path, "service a { tier = high }")
        );
    }
}

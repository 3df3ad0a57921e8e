//! Reading `.chaos` files, with every way that can fail as a diagnostic.

use std::io::Read;
use std::path::{Path, PathBuf};

use miette::Diagnostic;
use thiserror::Error;

/// The largest `.chaos` file chaosc reads; real files are a few kilobytes,
/// and the limit keeps a stray large file from stalling a lint.
pub const MAX_SOURCE_BYTES: u64 = 8 * 1024 * 1024;

/// A file that could not be read as `.chaos` text.
#[derive(Debug, Error, Diagnostic)]
pub enum InputError {
    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(code(chaos::E0901), help("check the path and its permissions"))]
    Unreadable { path: String, reason: String },

    #[error("`{path}` is a directory")]
    #[diagnostic(code(chaos::E0902), help("name a `.chaos` file, not a directory"))]
    IsDirectory { path: String },

    #[error("`{path}` is not UTF-8 text: invalid byte at offset {offset}")]
    #[diagnostic(
        code(chaos::E0903),
        help("`.chaos` files are UTF-8 text; check the file's encoding")
    )]
    NotUtf8 { path: String, offset: usize },

    #[error("`{path}` is {size} bytes, more than the limit of {limit} bytes")]
    #[diagnostic(
        code(chaos::E0904),
        help("`.chaos` files are small text files; check that this is the right file")
    )]
    TooLarge { path: String, size: u64, limit: u64 },

    #[error("`{path}` is not a regular file")]
    #[diagnostic(
        code(chaos::E0906),
        help("name a `.chaos` file; pipes, devices and sockets could block or never end")
    )]
    NotRegularFile { path: String },

    #[error("no `.chaos` files under `{path}`")]
    #[diagnostic(
        code(chaos::E0905),
        help("name a `.chaos` file or a directory that holds some")
    )]
    NoFiles { path: String },
}

impl InputError {
    /// Returns why the file could not be read, without its path, for
    /// messages of inputs that are not `.chaos` files.
    pub fn reason(&self) -> String {
        match self {
            InputError::Unreadable { reason, .. } => reason.clone(),
            InputError::IsDirectory { .. } => "it is a directory".to_owned(),
            InputError::NotUtf8 { offset, .. } => {
                format!("it is not UTF-8 text: invalid byte at offset {offset}")
            }
            InputError::TooLarge { limit, .. } => {
                format!("it is larger than the limit of {limit} bytes")
            }
            InputError::NotRegularFile { .. } => {
                "it is not a regular file, and a pipe, device or socket could block or never end"
                    .to_owned()
            }
            InputError::NoFiles { .. } => "it contains no `.chaos` files".to_owned(),
        }
    }
}

/// The text of one source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    /// Returns the path as shown in diagnostics.
    pub fn display_name(&self) -> String {
        self.path.display().to_string()
    }
}

/// Reads one file as UTF-8 text.
pub fn read_source(path: &Path) -> Result<SourceFile, InputError> {
    let name = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|error| InputError::Unreadable {
        path: name.clone(),
        reason: describe(&error),
    })?;
    if metadata.is_dir() {
        return Err(InputError::IsDirectory { path: name });
    }
    if !metadata.is_file() {
        return Err(InputError::NotRegularFile { path: name });
    }
    if metadata.len() > MAX_SOURCE_BYTES {
        return Err(InputError::TooLarge {
            path: name,
            size: metadata.len(),
            limit: MAX_SOURCE_BYTES,
        });
    }

    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|error| InputError::Unreadable {
            path: name.clone(),
            reason: describe(&error),
        })?;
    // The file may have grown since its size was read.
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(InputError::TooLarge {
            path: name,
            size: bytes.len() as u64,
            limit: MAX_SOURCE_BYTES,
        });
    }
    let text = String::from_utf8(bytes).map_err(|error| InputError::NotUtf8 {
        path: name,
        offset: error.utf8_error().valid_up_to(),
    })?;
    Ok(SourceFile {
        path: path.to_owned(),
        text,
    })
}

/// Expands directories into the `.chaos` files below them, sorted.
pub fn expand_paths(paths: &[PathBuf]) -> Vec<Result<PathBuf, InputError>> {
    let mut expanded = Vec::new();
    for path in paths {
        if !path.is_dir() {
            expanded.push(Ok(path.clone()));
            continue;
        }
        let mut found = Vec::new();
        collect_chaos_files(path, &mut found);
        found.sort();
        if found.is_empty() {
            expanded.push(Err(InputError::NoFiles {
                path: path.display().to_string(),
            }));
        }
        expanded.extend(found.into_iter().map(Ok));
    }
    expanded
}

fn collect_chaos_files(directory: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // Symbolic links are not followed, so a link cycle cannot loop.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect_chaos_files(&path, found);
        } else if kind.is_file() && path.extension().is_some_and(|ext| ext == "chaos") {
            found.push(path);
        }
    }
}

fn describe(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => error.to_string(),
    }
}

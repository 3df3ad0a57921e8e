//! `chaosc import`: converting a Chaos Toolkit experiment (JSON or YAML) into
//! a `.chaos` scenario. The input is read into a tree that keeps spans
//! ([`node`]), read as an experiment ([`read`]), converted ([`convert`]) and
//! then checked with the same checker as `chaosc check`, so an import never
//! writes a scenario that does not check. `docs/import.md` lists the mapping.

mod activity;
mod argv;
mod convert;
mod error;
mod json;
mod jsonpath2;
mod model;
mod node;
mod python_regex;
mod read;
mod substitute;
mod tolerance;
mod writer;
mod yaml;

use std::path::Path;

pub use convert::SummaryEntry;
pub use error::{ImportError, ImportWarning};

/// The syntax of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Json,
    Yaml,
}

impl InputFormat {
    /// Picks the format from the file extension, or from the text when the
    /// extension names neither: JSON documents start with `{`.
    pub fn detect(path: &Path, text: &str) -> InputFormat {
        match path.extension().and_then(|ext| ext.to_str()) {
            Some("json") => InputFormat::Json,
            Some("yaml" | "yml") => InputFormat::Yaml,
            _ if text.trim_start().starts_with('{') => InputFormat::Json,
            _ => InputFormat::Yaml,
        }
    }
}

/// A converted experiment.
#[derive(Debug)]
pub struct Imported {
    /// The `.chaos` text.
    pub text: String,
    /// Warnings about elements kept as placeholders or mapped with a
    /// difference, with spans into the input.
    pub warnings: Vec<ImportWarning>,
    /// What became of each element of the input.
    pub summary: Vec<SummaryEntry>,
}

/// Converts the experiment in `text`; `source_name` is named in the output's
/// header comment. Returns every error of the input when it is not a valid
/// experiment.
pub fn import_experiment(
    text: &str,
    format: InputFormat,
    source_name: &str,
) -> Result<Imported, Vec<ImportError>> {
    let root = match format {
        InputFormat::Json => json::parse_json(text),
        InputFormat::Yaml => yaml::parse_yaml(text),
    }
    .map_err(|error| vec![error])?;
    let experiment = read::read_experiment(&root, text)?;
    let conversion = convert::convert(&experiment, source_name);
    verify(&conversion.text)?;
    Ok(Imported {
        text: conversion.text,
        warnings: conversion.warnings,
        summary: conversion.summary,
    })
}

/// Returns `text` with the inline values of `secrets` overwritten by `*`,
/// byte for byte, so that diagnostics can show excerpts of the input without
/// revealing a secret while their spans stay valid. A text that does not
/// parse is returned unchanged, since its secrets cannot be located.
pub fn mask_inline_secrets(text: &str, format: InputFormat) -> String {
    let root = match format {
        InputFormat::Json => json::parse_json(text),
        InputFormat::Yaml => yaml::parse_yaml(text),
    };
    let Some(node::NodeKind::Object(scopes)) = root.ok().and_then(|root| {
        let secrets = root.get("secrets")?.kind.clone();
        Some(secrets)
    }) else {
        return text.to_owned();
    };
    let mut bytes = text.as_bytes().to_vec();
    for scope in &scopes {
        let node::NodeKind::Object(entries) = &scope.value.kind else {
            continue;
        };
        for entry in entries {
            if matches!(entry.value.kind, node::NodeKind::Object(_)) {
                continue;
            }
            let span = entry.value.span;
            for byte in &mut bytes[span.start.min(text.len())..span.end.min(text.len())] {
                *byte = b'*';
            }
        }
    }
    // Every masked byte is ASCII and every span covers whole characters.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

/// Checks the generated text as `chaosc check` would; any error there is a
/// defect of the importer, reported instead of writing a broken scenario.
fn verify(text: &str) -> Result<(), Vec<ImportError>> {
    let details = match crate::check::check_source(text) {
        Err(errors) => errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        Ok(output) if output.has_errors() => output
            .diagnostics
            .iter()
            .filter(|diagnostic| crate::check::is_error(diagnostic))
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        Ok(_) => return Ok(()),
    };
    Err(vec![ImportError::GeneratedInvalid { details }])
}

//! The diagnostics of `chaosc import`: errors that stop an import (input that
//! is not a valid Chaos Toolkit experiment) and warnings about elements that
//! were kept as placeholders or mapped with a difference. Codes are in the
//! range 0700-0799, errors below 0750 and warnings from 0750 on.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

/// An input that cannot be imported, with its place in the input file.
#[derive(Debug, Clone, Error, Diagnostic)]
pub enum ImportError {
    #[error("invalid JSON: {message}")]
    #[diagnostic(code(chaos::E0701), help("fix the JSON syntax at this place"))]
    InvalidJson {
        message: String,
        #[label("here")]
        span: SourceSpan,
    },

    #[error("invalid YAML: {message}")]
    #[diagnostic(code(chaos::E0702), help("fix the YAML syntax at this place"))]
    InvalidYaml {
        message: String,
        #[label("here")]
        span: SourceSpan,
    },

    #[error("`{path}` must be {expected}, found {found}")]
    #[diagnostic(code(chaos::E0703))]
    WrongType {
        path: String,
        expected: String,
        found: &'static str,
        #[label("{found}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("unknown key `{key}` in `{path}`")]
    #[diagnostic(code(chaos::E0704))]
    UnknownKey {
        path: String,
        key: String,
        #[label("not a key of this element")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("missing key `{key}` in `{path}`")]
    #[diagnostic(code(chaos::E0705))]
    MissingKey {
        path: String,
        key: String,
        #[label("`{key}` is required here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("invalid `{path}`: {reason}")]
    #[diagnostic(code(chaos::E0706))]
    InvalidValue {
        path: String,
        reason: String,
        #[label("invalid value")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("invalid regular expression in `{path}`: {reason}")]
    #[diagnostic(
        code(chaos::E0711),
        help(
            "the toolkit compiles the pattern with Python's `re` module, which rejects it as \
             well; fix the pattern at the marked place"
        )
    )]
    InvalidPattern {
        path: String,
        reason: String,
        #[label("here")]
        span: SourceSpan,
    },

    #[error("invalid JSON path in `{path}`: {reason}")]
    #[diagnostic(
        code(chaos::E0712),
        help(
            "the toolkit parses the path with the Python package `jsonpath2`, which rejects it \
             as well; fix the path at the marked place"
        )
    )]
    InvalidJsonPath {
        path: String,
        reason: String,
        #[label("here")]
        span: SourceSpan,
    },

    #[error("`{path}` refers to `{name}`, but no activity has that name")]
    #[diagnostic(code(chaos::E0707))]
    UnknownReference {
        path: String,
        name: String,
        #[label("no activity named `{name}`")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(
        code(chaos::E0708),
        help("name a Chaos Toolkit experiment file (JSON or YAML) that exists and is readable")
    )]
    Unreadable { path: String, reason: String },

    #[error("cannot write `{path}`: {reason}")]
    #[diagnostic(
        code(chaos::E0709),
        help("check that the folder exists and is writable")
    )]
    Unwritable { path: String, reason: String },

    #[error("the generated scenario does not pass `chaosc check`: {details}")]
    #[diagnostic(
        code(chaos::E0710),
        help("this is a defect of `chaosc import`; the scenario was not written")
    )]
    GeneratedInvalid { details: String },
}

/// An element of the input that the output does not reproduce exactly.
#[derive(Debug, Clone, Error, Diagnostic)]
pub enum ImportWarning {
    #[error("`{path}` ({element}) is not mapped: {reason}")]
    #[diagnostic(code(chaos::W0750), severity(Warning))]
    Unmapped {
        path: String,
        element: String,
        reason: String,
        #[label("kept as a placeholder comment")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("`{path}` ({element}) is mapped with a difference: {reason}")]
    #[diagnostic(code(chaos::W0751), severity(Warning))]
    Approximated {
        path: String,
        element: String,
        reason: String,
        #[label("mapped with a difference")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("`{path}` ({element}) is not mapped: {reason}")]
    #[diagnostic(code(chaos::W0753), severity(Warning))]
    RegexWithoutEquivalent {
        path: String,
        element: String,
        reason: String,
        #[label("no equivalent in the Rust `regex` crate")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`{path}` ({element}) is not mapped: {reason}")]
    #[diagnostic(code(chaos::W0754), severity(Warning))]
    JsonPathWithoutEquivalent {
        path: String,
        element: String,
        reason: String,
        #[label("no equivalent in chaosc JSON paths")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("secret `{name}` is not written to the scenario")]
    #[diagnostic(
        code(chaos::W0752),
        severity(Warning),
        help(
            "chaosc has no secret store; elements that use the secret are kept as placeholder \
             comments that name it, never its value"
        )
    )]
    SecretNotWritten {
        name: String,
        #[label("declared here")]
        span: SourceSpan,
    },
}

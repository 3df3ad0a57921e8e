//! chaosc: a declarative language for chaos experiments, its checker and the
//! runtime that injects, observes and reverts real faults.
//!
//! The modules follow the pipeline: [`syntax`] parses text into a tree,
//! [`check`] resolves and types it into a model, [`plan`] lowers the model
//! into an execution plan, [`runtime`] executes it, [`store`] keeps the
//! journal, and [`cli`] puts commands on top.

// Diagnostics are large values, but they are built only on the cold path of
// a file with errors, so boxing every `Result<_, CheckError>` would cost more
// readability than the moves it saves.
#![allow(clippy::result_large_err)]

pub mod check;
pub mod cli;
pub mod governance;
pub mod import;
pub mod lsp;
pub mod model;
pub mod plan;
pub mod report;
pub mod runtime;
pub mod store;
pub mod syntax;

//! chaosc: a declarative language for chaos experiments, its checker and the
//! runtime that injects, observes and reverts real faults.
//!
//! The modules follow the pipeline: [`syntax`] parses text into a tree,
//! [`check`] resolves and types it into a model, [`plan`] lowers the model
//! into an execution plan, [`runtime`] executes it, [`store`] keeps the
//! journal, and [`cli`] puts commands on top.

pub mod check;
pub mod cli;
pub mod model;
pub mod plan;
pub mod runtime;
pub mod store;
pub mod syntax;

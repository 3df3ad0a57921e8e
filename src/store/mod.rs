//! What chaosc keeps on disk: the fault journal of each run, and the
//! SQLite store of past runs and recovery executions.

pub mod alerts;
pub mod db;
pub mod journal;

pub use db::{Store, StoreError};
pub use journal::{Journal, JournalState, Record};

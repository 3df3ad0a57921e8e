//! What chaosc keeps on disk: the fault journal.

pub mod journal;

pub use journal::{Journal, JournalState, Record};

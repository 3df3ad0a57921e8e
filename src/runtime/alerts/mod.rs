//! Alert rules during a run: thresholds that must hold for a duration
//! before an alert fires, one active alert per rule (de-duplication), a
//! cooldown between two alerts of a rule, and automatic resolution when no
//! threshold holds any more.

mod engine;

pub use engine::{Alert, AlertEngine, AlertEvent};

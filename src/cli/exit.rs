//! The exit codes of `chaosc`, documented in the README.

/// The command succeeded; for `run`, the experiment met its success criteria.
pub const SUCCESS: u8 = 0;
/// `check` or `run` found errors in a file.
pub const CHECK_FAILED: u8 = 1;
/// Bad usage, an unreadable file, or a host that cannot run the experiment
/// (missing privilege, faults left by an earlier run).
pub const USAGE: u8 = 2;
/// The experiment ran and failed: the steady state did not hold, a fault
/// could not be injected, or a success criterion was not met.
pub const EXPERIMENT_FAILED: u8 = 3;
/// The experiment was stopped early by a stop condition or a signal, and
/// every fault was reverted.
pub const ABORTED: u8 = 4;
/// Some fault could not be reverted; `chaosc recover` must be run.
pub const ROLLBACK_FAILED: u8 = 5;

//! Progress lines for people watching a run: one timestamped line per event
//! on standard error.

use std::io::Write;
use std::time::Instant;

/// Where progress goes.
#[derive(Debug, Clone)]
pub struct Progress {
    started: Instant,
    quiet: bool,
}

impl Progress {
    /// Prints progress from now on, unless `quiet`.
    pub fn new(quiet: bool) -> Self {
        Progress {
            started: Instant::now(),
            quiet,
        }
    }

    /// Prints one event with the time since the run started.
    pub fn line(&self, text: impl AsRef<str>) {
        if self.quiet {
            return;
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        // A closed standard error must not stop a run that is reverting faults.
        let _ = writeln!(std::io::stderr(), "[{elapsed:>7.2}s] {}", text.as_ref());
    }
}

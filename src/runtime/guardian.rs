//! The guardian: a small process that `chaosc run` starts, which reverts
//! what the journal holds if the run dies without cleaning up, even by
//! SIGKILL. It learns of the death when the pipe to the run closes: the
//! kernel closes a dead process's end of the pipe, whatever killed it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// A running guardian.
pub struct Guardian {
    child: Child,
}

impl Guardian {
    /// Starts a guardian for the journal at `journal`.
    pub fn spawn(journal: &Path) -> std::io::Result<Guardian> {
        let exe = std::env::current_exe()?;
        let child = Command::new(exe)
            .arg("guardian")
            .arg("--journal")
            .arg(journal)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            // Its own process group keeps a Ctrl-C in the terminal from
            // reaching it: the run handles Ctrl-C and reverts by itself.
            .process_group(0)
            .spawn()?;
        Ok(Guardian { child })
    }

    /// Lets the guardian go once the run has cleaned up: closing the pipe
    /// makes it look at the journal, find it gone, and exit.
    pub async fn release(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            // It should have exited at once; do not leave it behind.
            let _ = self.child.kill().await;
        }
    }
}

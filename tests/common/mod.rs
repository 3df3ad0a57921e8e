//! Helpers shared by the integration tests: the real binary, a private
//! state directory per test, free loopback ports, and checks that a test
//! left nothing behind.

#![allow(dead_code)]

pub mod netns;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A private state directory and scratch space for one test.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    /// The state directory chaosc keeps its journal in.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// A `chaosc` command that uses this sandbox's state directory.
    pub fn chaosc(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chaosc"));
        command
            .env("CHAOSC_STATE_DIR", self.state_dir())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        command
    }

    /// Writes a file into the sandbox, creating its folders, and returns
    /// its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))
            .expect("create a test folder");
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    /// Returns the journal files still present.
    pub fn journals(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.state_dir().join("journal")) else {
            return Vec::new();
        };
        entries.flatten().map(|entry| entry.path()).collect()
    }

    /// Asserts that no journal holds anything.
    pub fn assert_no_journal(&self) {
        let journals = self.journals();
        assert!(journals.is_empty(), "journal files left: {journals:?}");
    }
}

/// Runs a command to completion and returns its output.
pub fn output(command: &mut Command) -> Output {
    command.output().expect("run chaosc")
}

/// Returns a loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().unwrap().port()
}

/// Tells whether something accepts connections on `port` of 127.0.0.1.
pub fn port_accepts(port: u16) -> bool {
    let address: SocketAddr = ([127, 0, 0, 1], port).into();
    TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
}

/// Waits until `condition` holds or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}

/// Returns the state letter of a process from `/proc`, or `None` when it is
/// gone (zombies count as gone).
pub fn process_state(pid: u32) -> Option<char> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = text[text.rfind(')')? + 2..].chars().next()?;
    (state != 'Z').then_some(state)
}

/// Returns the pids of processes whose command line contains `marker`.
pub fn pids_with(marker: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(marker) && process_state(pid).is_some() {
            pids.push(pid);
        }
    }
    pids
}

/// A process the test started; it is killed and reaped when dropped.
pub struct OwnedProcess {
    pub child: std::process::Child,
}

impl OwnedProcess {
    /// Starts `python3 -m http.server PORT` on loopback and waits until it
    /// accepts connections.
    pub fn http_server(port: u16) -> Self {
        Self::start_http_server(port, None)
    }

    /// Starts `python3 -m http.server PORT` on loopback, serving the files
    /// of `dir`, and waits until it accepts connections.
    pub fn http_server_in(port: u16, dir: &Path) -> Self {
        Self::start_http_server(port, Some(dir))
    }

    fn start_http_server(port: u16, dir: Option<&Path>) -> Self {
        let mut command = Command::new("python3");
        command.args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ]);
        if let Some(dir) = dir {
            command.arg("--directory").arg(dir);
        }
        let process = Self::spawn(&mut command);
        assert!(
            wait_until(Duration::from_secs(10), || port_accepts(port)),
            "test server never listened"
        );
        process
    }

    /// Starts `command` with no standard input or output.
    pub fn spawn(command: &mut Command) -> Self {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a test process");
        OwnedProcess { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for OwnedProcess {
    fn drop(&mut self) {
        // SIGCONT first: a stopped process would not die until continued.
        let _ = Command::new("kill")
            .args(["-CONT", &self.pid().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses the JSON document a command printed on standard output.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Returns the repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A `chaosc run` in the background whose progress lines can be awaited.
pub struct RunningChaosc {
    pub child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
}

/// What a background run printed and how it ended.
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl RunningChaosc {
    /// Starts `command` with its output captured.
    pub fn start(command: &mut Command) -> Self {
        use std::io::BufRead;
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chaosc");
        let stderr = child.stderr.take().unwrap();
        let mut stdout_pipe = child.stdout.take().unwrap();
        // Standard output is drained as it comes, so a large result never
        // blocks the run on a full pipe.
        let stdout = std::thread::spawn(move || {
            use std::io::Read;
            let mut bytes = Vec::new();
            let _ = stdout_pipe.read_to_end(&mut bytes);
            bytes
        });
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                sink.lock().unwrap().push(line);
            }
        });
        RunningChaosc {
            child,
            lines,
            reader: Some(reader),
            stdout: Some(stdout),
        }
    }

    /// Waits until a progress line contains `text`; panics after `limit`.
    pub fn wait_for_line(&self, text: &str, limit: Duration) {
        let found = wait_until(limit, || {
            self.lines
                .lock()
                .unwrap()
                .iter()
                .any(|line| line.contains(text))
        });
        assert!(
            found,
            "no line with {text:?} within {limit:?}; got:\n{}",
            self.lines.lock().unwrap().join("\n")
        );
    }

    /// Sends a signal to the run.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status();
        assert!(
            status.is_ok_and(|status| status.success()),
            "kill -{signal} failed"
        );
    }

    /// Waits for the run to end, at most `limit`.
    pub fn finish(mut self, limit: Duration) -> Finished {
        let ended = wait_until(limit, || matches!(self.child.try_wait(), Ok(Some(_))));
        if !ended {
            let _ = self.child.kill();
        }
        let status = self.child.wait().expect("wait for chaosc");
        let stdout = self
            .stdout
            .take()
            .map(|reader| reader.join().unwrap_or_default())
            .unwrap_or_default();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        assert!(ended, "chaosc did not end within {limit:?}");
        Finished {
            code: status.code(),
            stdout,
            stderr: self.lines.lock().unwrap().join("\n"),
        }
    }
}

impl Finished {
    /// Parses standard output as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&self.stdout),
                self.stderr
            )
        })
    }
}

// Helpers for tests that only need a state directory, not a sandbox.

/// The output of one `chaosc` command.
pub struct CommandOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CommandOutput {
    /// Parses standard output as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs `chaosc` with `args` and `CHAOSC_STATE_DIR` set to `state_dir`.
pub fn chaosc(state_dir: &Path, args: &[&str]) -> CommandOutput {
    let output = Command::new(env!("CARGO_BIN_EXE_chaosc"))
        .args(args)
        .env("CHAOSC_STATE_DIR", state_dir)
        .output()
        .expect("run chaosc");
    CommandOutput {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Writes `text` to `name` under `dir` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

/// Runs a scenario with `chaosc run --format json` and returns the result.
pub fn run_json(state_dir: &Path, scenario: &Path) -> serde_json::Value {
    let scenario = scenario.to_str().expect("UTF-8 path");
    let output = chaosc(state_dir, &["run", "--format", "json", "--quiet", scenario]);
    let result = output.json();
    assert!(
        result["rollback_complete"] == serde_json::Value::Bool(true),
        "rollback incomplete: {}\nstderr:\n{}",
        output.stdout,
        output.stderr
    );
    result
}

/// Returns the fault results of a run for `step`.
pub fn faults_of<'a>(result: &'a serde_json::Value, step: &str) -> Vec<&'a serde_json::Value> {
    let faults = result["faults"].as_array().expect("faults is a list");
    faults
        .iter()
        .filter(|fault| fault["step"] == step)
        .collect()
}

/// Asserts that the journal directory contains no journal, so nothing is left
/// to revert.
pub fn assert_no_journal(state_dir: &Path) {
    let journals: Vec<_> = std::fs::read_dir(state_dir.join("journal"))
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    assert!(journals.is_empty(), "journals left: {journals:?}");
}

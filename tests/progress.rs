//! The progress output of `chaosc run`. The live view is driven through a
//! real pseudo-terminal and its output is replayed into a terminal emulator
//! (`vt100`), so the tests see the screen and scrollback a person would
//! see. The plain and silent outputs are read from a pipe.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{Sandbox, free_port, output, pids_with, port_accepts, repo, wait_until};

const ABORTED: i32 = 4;
const USAGE: i32 = 2;

/// The size of the pseudo-terminal and of the emulator that replays it.
const ROWS: u16 = 40;
const COLUMNS: u16 = 120;

const HIDE_CURSOR: &[u8] = b"\x1b[?25l";

/// A `chaosc` process whose standard input, output and error are the
/// slave side of a pseudo-terminal, which is also its controlling terminal.
struct PtyRun {
    child: Child,
    master: File,
    output: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl PtyRun {
    fn start(command: &mut Command) -> Self {
        let size = nix::pty::Winsize {
            ws_row: ROWS,
            ws_col: COLUMNS,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(&size, None).expect("open a pseudo-terminal");
        let slave = |pty: &OwnedFd| Stdio::from(pty.try_clone().expect("duplicate the slave"));
        command
            .stdin(slave(&pty.slave))
            .stdout(slave(&pty.slave))
            .stderr(slave(&pty.slave))
            // The terminal a person runs chaosc in, whatever TERM the test
            // itself runs with.
            .env("TERM", "xterm-256color");
        // SAFETY: between fork and exec the closure only makes system calls
        // that are async-signal-safe (setsid and ioctl) and allocates nothing.
        unsafe {
            command.pre_exec(|| {
                // A new session whose controlling terminal is the pty, so a
                // Ctrl-C typed into it sends SIGINT to chaosc as a shell's
                // terminal would.
                nix::unistd::setsid()?;
                if libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("start chaosc in a pty");
        // Only the child may keep the slave open, so that reading the master
        // ends when the child and the processes it started have closed it.
        drop(pty.slave);

        let master = File::from(pty.master);
        let mut source = master.try_clone().expect("duplicate the master");
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        let reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            // Reading fails with EIO once no process has the slave open.
            while let Ok(read) = source.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..read]);
            }
        });
        PtyRun {
            child,
            master,
            output,
            reader,
        }
    }

    /// Returns what the terminal received so far, with the pty's `\r\n`
    /// turned back into `\n`.
    fn text(&self) -> String {
        let bytes = self.output.lock().unwrap().clone();
        String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
    }

    /// Waits until the terminal received `text`, and panics after `limit`.
    fn wait_for(&self, text: &str, limit: Duration) {
        let found = wait_until(limit, || self.text().contains(text));
        assert!(found, "no {text:?} within {limit:?}; got:\n{}", self.text());
    }

    /// Types `bytes` into the terminal.
    fn type_keys(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("write to the pty");
    }

    /// Waits for the run to end, at most `limit`, and returns its exit code
    /// and every byte it wrote to the terminal.
    fn finish(mut self, limit: Duration) -> (Option<i32>, Vec<u8>) {
        let ended = wait_until(limit, || matches!(self.child.try_wait(), Ok(Some(_))));
        if !ended {
            let _ = self.child.kill();
        }
        let status = self.child.wait().expect("wait for chaosc");
        // The guardian keeps the slave open a moment longer than chaosc.
        wait_until(Duration::from_secs(10), || self.reader.is_finished());
        let bytes = self.output.lock().unwrap().clone();
        assert!(
            ended,
            "chaosc did not end within {limit:?}; got:\n{}",
            String::from_utf8_lossy(&bytes)
        );
        (status.code(), bytes)
    }
}

/// Replays `bytes` into a terminal emulator of the pty's size and returns
/// it, to read the screen and scrollback a person would see.
fn replay(bytes: &[u8]) -> vt100::Parser {
    let rows = NonZeroU16::new(ROWS).unwrap();
    let columns = NonZeroU16::new(COLUMNS).unwrap();
    let mut terminal = vt100::Parser::new(rows, columns, 10_000);
    terminal.process(bytes);
    terminal
}

/// Returns every line of the emulated terminal, scrollback first, with
/// trailing spaces and trailing empty rows removed.
fn transcript(terminal: &mut vt100::Parser) -> Vec<String> {
    let scrolled = terminal.screen().scrollback_len();
    let mut lines = Vec::new();
    // At scrollback offset N the top row is the Nth line above the screen.
    for offset in (1..=scrolled).rev() {
        terminal.screen_mut().set_scrollback(offset);
        lines.extend(terminal.screen().rows(0, COLUMNS).next());
    }
    terminal.screen_mut().set_scrollback(0);
    lines.extend(terminal.screen().rows(0, COLUMNS));
    let mut lines: Vec<String> = lines
        .into_iter()
        .map(|line| line.trim_end().to_owned())
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// Returns the index of the only line that starts with `prefix`.
fn only_line(lines: &[String], prefix: &str) -> usize {
    let found: Vec<usize> = (0..lines.len())
        .filter(|index| lines[*index].starts_with(prefix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one line starting with {prefix:?}, found {}:\n{}",
        found.len(),
        lines.join("\n")
    );
    found[0]
}

/// Returns the index of the first line at or after `from` equal to `line`.
fn line_after(lines: &[String], from: usize, line: &str) -> usize {
    let found = lines[from..].iter().position(|candidate| candidate == line);
    let Some(offset) = found else {
        panic!("no line {line:?} after line {from}:\n{}", lines.join("\n"));
    };
    from + offset
}

/// The variable that the webhook of the scenario's Slack channel is read
/// from. The tests never set it.
const UNSET_WEBHOOK: &str = "CHAOSC_PROGRESS_TEST_WEBHOOK";

/// Writes a scenario on free loopback ports: a launched HTTP server `web`
/// behind a proxy `front`, a probe through the proxy, and 100ms of latency
/// on the proxy for `hold`. The experiment ends with `extra`.
fn latency_scenario(sandbox: &Sandbox, hold: &str, extra: &str) -> (PathBuf, u16, u16) {
    let (web_port, front_port) = (free_port(), free_port());
    let text = format!(
        r#"use std::faults::latency

target web = process {{
    command = ["python3", "-m", "http.server", "{web_port}", "--bind", "127.0.0.1"]
    ready = 127.0.0.1:{web_port}
}}
target front = proxy {{ listen = 127.0.0.1:{front_port}, upstream = 127.0.0.1:{web_port} }}
channel team = slack {{ webhook = env("{UNSET_WEBHOOK}") }}

experiment watched {{
    category = network
    severity = low
    duration = 2m
    safety {{ timeout = 30s, business_hours_only = false }}

    steady_state {{
        probe home = http GET "http://127.0.0.1:{front_port}/" expect status == 200 within 2s every 200ms
    }}

    step slow = inject latency(delay = 100ms, jitter = 0ms) on front for {hold}
{extra}
}}
"#
    );
    (sandbox.write("watched.chaos", &text), web_port, front_port)
}

#[test]
fn live_view_redraws_quickstart() {
    let sandbox = Sandbox::new();
    assert!(
        pids_with("http.server 18181").is_empty(),
        "a quickstart server is already running"
    );
    let run = PtyRun::start(sandbox.chaosc().current_dir(repo()).args([
        "run",
        "--progress",
        "live",
        "scenarios/quickstart.chaos",
    ]));
    let (code, bytes) = run.finish(Duration::from_secs(90));
    let raw = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
    assert_eq!(code, Some(0), "terminal output:\n{raw}");

    // While the run went on, the view showed each fault with its
    // verification and each step with the time its faults have left. The
    // plain output has neither.
    assert!(
        raw.contains("faults in place\n  #1 latency on front  verified: round trip grew by"),
        "no verified latency fault in any frame:\n{raw}"
    );
    assert!(
        raw.contains("\n  #2 process_kill on web  verified: process "),
        "no verified kill in any frame:\n{raw}"
    );
    assert!(
        raw.contains("\n  slow   active     latency on front     "),
        "the latency step was never shown active:\n{raw}"
    );
    assert!(
        raw.contains("\n  home  ok         "),
        "the probe was never shown passing:\n{raw}"
    );
    assert!(bytes.windows(HIDE_CURSOR.len()).any(|w| w == HIDE_CURSOR));

    // Each frame replaced the last one, so what stays on the terminal is one
    // final frame with the verdict, and the result below it.
    let mut terminal = replay(&bytes);
    assert!(
        !terminal.screen().hide_cursor(),
        "the cursor is still hidden"
    );
    let lines = transcript(&mut terminal);
    let header = only_line(&lines, "chaosc run `quickstart`  run ");
    let verdict = "quickstart: completed (success criteria met) in ";
    assert!(
        lines[header + 1].starts_with(verdict),
        "no verdict under the header:\n{}",
        lines.join("\n")
    );
    let steps = line_after(&lines, header, "steps");
    assert!(lines[steps + 1].starts_with("  slow   reverted   latency on front"));
    assert!(lines[steps + 2].starts_with("  crash  reverted   process_kill on web"));
    let faults = line_after(&lines, header, "faults");
    assert_eq!(lines[faults + 1], "  #1 latency on front  reverted");
    assert_eq!(lines[faults + 2], "  #2 process_kill on web  reverted");
    for stale in ["chaosc run: setting up", "events", "faults in place"] {
        assert!(
            !lines.iter().any(|line| line.starts_with(stale)),
            "{stale:?} left on the terminal:\n{}",
            lines.join("\n")
        );
    }
    assert!(
        !lines.iter().any(|line| line.starts_with("running  ")),
        "a running frame left on the terminal:\n{}",
        lines.join("\n")
    );
    let summary = only_line(&lines, "  seed ");
    assert!(summary > faults, "the result is not below the view");
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.starts_with(verdict))
            .count(),
        2,
        "the verdict is not both in the view and in the result:\n{}",
        lines.join("\n")
    );

    assert!(!port_accepts(18180), "proxy port still bound");
    assert!(pids_with("http.server 18181").is_empty());
    sandbox.assert_no_journal();
}

#[test]
fn ctrl_c_restores_terminal() {
    let sandbox = Sandbox::new();
    // The channel cannot be used, so the run logs a warning while the view
    // is on screen. `-v` adds the info lines of each injection and revert.
    let monitoring = "    monitoring { channels = [team] }";
    let (file, web_port, front_port) = latency_scenario(&sandbox, "60s", monitoring);
    // No `--progress`: `auto` must pick the live view on a terminal.
    let mut run = PtyRun::start(
        sandbox
            .chaosc()
            .env_remove(UNSET_WEBHOOK)
            .args(["-v", "run"])
            .arg(&file),
    );
    run.wait_for(
        "faults in place\n  #1 latency on front  verified: ",
        Duration::from_secs(30),
    );
    run.type_keys(b"\x03");
    let (code, bytes) = run.finish(Duration::from_secs(40));
    let raw = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
    assert_eq!(code, Some(ABORTED), "terminal output:\n{raw}");

    let mut terminal = replay(&bytes);
    assert!(
        !terminal.screen().hide_cursor(),
        "the cursor is still hidden"
    );
    let lines = transcript(&mut terminal);
    let header = only_line(&lines, "chaosc run `watched`  run ");
    assert!(
        lines[header + 1].starts_with("watched: aborted (success criteria not judged) in "),
        "no verdict under the header:\n{}",
        lines.join("\n")
    );
    assert!(
        lines[header + 1].ends_with(": interrupted by a signal"),
        "{}",
        lines[header + 1]
    );
    let faults = line_after(&lines, header, "faults");
    assert_eq!(lines[faults + 1], "  #1 latency on front  reverted");

    // Log lines went above the view and stayed there.
    let logged = |level: &str, text: &str| {
        let found = lines[..header]
            .iter()
            .any(|line| line.contains(level) && line.contains(text));
        assert!(
            found,
            "no {level} line with {text:?} above the view:\n{}",
            lines.join("\n")
        );
    };
    logged("WARN", "notification channel left out");
    // The warning is wider than the terminal, so the variable's name is on
    // a wrapped row.
    assert!(lines[..header].concat().contains(UNSET_WEBHOOK));
    logged("INFO", "injected step=\"slow\" target=\"front\"");
    logged("INFO", "reverted id=1 fault=latency");

    assert!(!port_accepts(front_port), "the proxy still listens");
    assert!(!port_accepts(web_port), "the web server still listens");
    assert!(pids_with(&format!("http.server {web_port}")).is_empty());
    sandbox.assert_no_journal();
}

#[test]
fn plain_prints_one_line_per_event() {
    let sandbox = Sandbox::new();
    let (file, _, _) = latency_scenario(&sandbox, "1s", "");
    let result = output(
        sandbox
            .chaosc()
            .args(["run", "--progress", "plain"])
            .arg(&file),
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "stderr:\n{stderr}");

    assert!(!stderr.contains('\x1b'), "escape sequences in:\n{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    for line in &lines {
        let stamp = line
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("s] "))
            .map(|(seconds, _)| seconds.trim());
        assert!(
            stamp.is_some_and(|seconds| seconds.parse::<f64>().is_ok()),
            "not a timestamped line: {line:?}"
        );
    }
    let expected = [
        "] run ",
        "] launched `web` as process ",
        "] proxy `front` on 127.0.0.1:",
        "] steady state probe `home` holds",
        "] step `slow`: injected `latency` on `front`: round trip grew by ",
        "] step `slow`: reverted",
        "] all steps ended; rolling back",
        "] fault 1 `latency` on `front`: reverted",
        "] stopped `web`",
    ];
    let mut from = 0;
    for text in expected {
        let found = lines[from..].iter().position(|line| line.contains(text));
        let Some(offset) = found else {
            panic!("no line with {text:?} after line {from}:\n{stderr}");
        };
        from += offset + 1;
    }
    let injected = lines
        .iter()
        .filter(|line| line.contains("injected `latency`"))
        .count();
    assert_eq!(injected, 1, "one event, one line:\n{stderr}");

    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        stdout.starts_with("\nwatched: completed (no success criteria) in "),
        "{stdout}"
    );
    sandbox.assert_no_journal();
}

#[test]
fn auto_is_plain_into_a_pipe() {
    let sandbox = Sandbox::new();
    let (file, _, _) = latency_scenario(&sandbox, "1s", "");
    let result = output(sandbox.chaosc().arg("run").arg(&file));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(!stderr.contains('\x1b'), "escape sequences in:\n{stderr}");
    assert!(stderr.contains("] step `slow`: reverted\n"), "{stderr}");
}

#[test]
fn none_prints_only_the_verdict() {
    let sandbox = Sandbox::new();
    let (file, _, _) = latency_scenario(&sandbox, "1s", "");
    let result = output(
        sandbox
            .chaosc()
            .args(["run", "--progress", "none"])
            .arg(&file),
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "stderr:\n{stderr}");
    assert_eq!(stderr, "");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        stdout.starts_with("\nwatched: completed (no success criteria) in "),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  step   slow             reverted\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  fault  1 latency on front: observed, reverted\n"),
        "{stdout}"
    );
}

#[test]
fn invalid_mode_lists_choices() {
    let sandbox = Sandbox::new();
    let result =
        output(
            sandbox
                .chaosc()
                .args(["run", "--progress", "fancy", "scenarios/quickstart.chaos"]),
        );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(USAGE), "stderr:\n{stderr}");
    assert!(
        stderr.contains("invalid value 'fancy' for '--progress <MODE>'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[possible values: auto, live, plain, none]"),
        "{stderr}"
    );
}

#[test]
fn duration_end_is_named_as_such() {
    let sandbox = Sandbox::new();
    let (upstream, front) = (free_port(), free_port());
    let _server = common::OwnedProcess::http_server(upstream);
    let text = format!(
        r#"use std::faults::latency
target front = proxy {{ listen = 127.0.0.1:{front}, upstream = 127.0.0.1:{upstream} }}
experiment held {{
    category = network
    severity = low
    duration = 2s
    safety {{ business_hours_only = false }}
    step hold = inject latency(delay = 5ms) on front
}}
"#
    );
    let file = sandbox.write("held.chaos", &text);
    let result = output(
        sandbox
            .chaosc()
            .args(["run", "--progress", "plain"])
            .arg(&file),
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "stderr:\n{stderr}");
    // The hold has no end of its own, so the duration ended the run.
    assert!(
        stderr.contains("] the experiment's duration is over; rolling back"),
        "{stderr}"
    );
    assert!(!stderr.contains("all steps ended"), "{stderr}");
}

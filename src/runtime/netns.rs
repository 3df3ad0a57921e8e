//! Running host tools (`tc`, `nft`) as argv, never through a shell,
//! optionally inside a network namespace, and measuring TCP round trips
//! from inside a namespace.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Builds the command for `argv`, run inside `netns` with `ip netns exec`
/// when one is named.
pub fn command(netns: Option<&str>, argv: &[&str]) -> Command {
    let mut command = match netns {
        Some(netns) => {
            let mut command = Command::new("ip");
            command.args(["netns", "exec", netns]).args(argv);
            command
        }
        None => {
            let mut command = Command::new(argv[0]);
            command.args(&argv[1..]);
            command
        }
    };
    command.stdin(Stdio::null());
    command
}

/// Runs `argv` (in `netns`) and returns its standard output; the error
/// holds the command line and its standard error.
pub fn run(netns: Option<&str>, argv: &[&str]) -> Result<String, String> {
    run_with_input(netns, argv, None)
}

/// Runs `argv` (in `netns`) with `input` on standard input.
pub fn run_with_input(
    netns: Option<&str>,
    argv: &[&str],
    input: Option<&str>,
) -> Result<String, String> {
    use std::io::Write;
    let mut command = command(netns, argv);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let line = argv.join(" ");
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot run `{line}`: {error}"))?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(input.as_bytes())
            .map_err(|error| format!("cannot write to `{line}`: {error}"))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|error| format!("`{line}` failed: {error}"))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!(
        "`{line}` exited with {}: {}",
        output.status,
        stderr.trim()
    ))
}

/// How one TCP connection attempt ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Connect {
    /// The peer answered (accepted or refused) after this long: one round
    /// trip.
    Answered(Duration),
    /// Nothing came back within the timeout.
    Silent,
}

/// Connects to `peer` from inside `netns` (or from here) and times the
/// answer. The namespace is entered on a thread of its own, which ends
/// after the attempt, so no other thread changes namespace.
pub fn connect_from(
    netns: Option<&str>,
    peer: SocketAddr,
    timeout: Duration,
) -> Result<Connect, String> {
    let netns = netns.map(str::to_owned);
    let attempt = std::thread::spawn(move || {
        if let Some(netns) = &netns {
            let path = format!("/run/netns/{netns}");
            let file = std::fs::File::open(&path)
                .map_err(|error| format!("cannot open `{path}`: {error}"))?;
            nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|error| format!("cannot enter network namespace `{netns}`: {error}"))?;
        }
        let started = Instant::now();
        match std::net::TcpStream::connect_timeout(&peer, timeout) {
            Ok(_) => Ok(Connect::Answered(started.elapsed())),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                Ok(Connect::Answered(started.elapsed()))
            }
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => Ok(Connect::Silent),
            Err(error) => Err(format!("cannot connect to {peer}: {error}")),
        }
    });
    attempt
        .join()
        .map_err(|_| "the connect thread panicked".to_owned())?
}

/// Returns the fastest of `samples` answered round trips to `peer`, or
/// `None` if none was answered.
pub fn fastest_round_trip(
    netns: Option<&str>,
    peer: SocketAddr,
    samples: usize,
    timeout: Duration,
) -> Result<Option<Duration>, String> {
    let mut fastest: Option<Duration> = None;
    for _ in 0..samples {
        if let Connect::Answered(took) = connect_from(netns, peer, timeout)? {
            fastest = Some(fastest.map_or(took, |best| best.min(took)));
        }
    }
    Ok(fastest)
}

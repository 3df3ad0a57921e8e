//! Readers of the `/proc` files through which the compute faults observe
//! their effect: CPU time, resident memory, I/O counters, command lines and
//! process groups.

use std::time::Duration;

/// Returns the fields of `/proc/PID/stat` after the command name, which may
/// contain spaces or `)`. Index 0 is field 3 of the file (the state).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Returns the CPU time (user and system) that `pid` has used, in clock
/// ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let fields = stat_fields(pid)?;
    // Fields 14 (utime) and 15 (stime) of the file.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

/// Returns the process group of `pid`.
pub fn process_group(pid: u32) -> Option<u32> {
    // Field 5 of the file.
    stat_fields(pid)?.get(2)?.parse().ok()
}

/// Returns the clock ticks per second that `/proc` counts CPU time in.
pub fn ticks_per_second() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        _ => 100.0,
    }
}

/// Measures the share of one CPU that each of `pids` used over `window`,
/// from their CPU time in `/proc`. A process that is gone at either end of
/// the window gets `None`.
pub async fn cpu_shares(pids: &[u32], window: Duration) -> Vec<Option<f64>> {
    let before: Vec<Option<u64>> = pids.iter().map(|pid| cpu_ticks(*pid)).collect();
    let started = tokio::time::Instant::now();
    tokio::time::sleep(window).await;
    let elapsed = started.elapsed().as_secs_f64();
    let ticks = ticks_per_second();
    pids.iter()
        .zip(before)
        .map(|(pid, before)| {
            let after = cpu_ticks(*pid)?;
            Some(after.saturating_sub(before?) as f64 / ticks / elapsed)
        })
        .collect()
}

/// Returns a field of `/proc/PID/status` given in kB, in bytes.
pub fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text
        .lines()
        .find(|line| line.split(':').next() == Some(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The write counters of `/proc/PID/io`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoCounters {
    /// Bytes passed to `write(2)` and related system calls.
    pub wchar: u64,
    /// Bytes the process caused to be sent to the storage layer.
    pub write_bytes: u64,
}

/// Reads `/proc/PID/io`. Returns `None` when the file is missing, because
/// the kernel lacks `CONFIG_TASK_IO_ACCOUNTING`, or unreadable, because the
/// caller may not trace the process.
pub fn io_counters(pid: u32) -> Option<IoCounters> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))?
            .trim()
            .parse()
            .ok()
    };
    Some(IoCounters {
        wchar: field("wchar")?,
        write_bytes: field("write_bytes")?,
    })
}

/// Tells whether the command line of `pid` contains `marker` as one of its
/// arguments.
pub fn cmdline_has(pid: u32, marker: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|bytes| {
        bytes
            .split(|byte| *byte == 0)
            .any(|argument| argument == marker.as_bytes())
    })
}

/// Returns the pids of the processes in process group `group`.
pub fn group_members(group: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| process_group(*pid) == Some(group))
        .collect()
}

/// Formats a byte count with a binary unit, such as `64.0MiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        let pid = std::process::id();
        assert!(cpu_ticks(pid).is_some());
        assert!(status_bytes(pid, "VmRSS").is_some_and(|bytes| bytes > 0));
        assert!(process_group(pid).is_some());
        assert!(!cmdline_has(pid, "no-such-argument-anywhere"));
    }

    #[test]
    fn formats_bytes() {
        assert_eq!(format_bytes(512), "512B");
        assert_eq!(format_bytes(64 << 20), "64.0MiB");
        assert_eq!(format_bytes(3 << 29), "1.5GiB");
    }
}

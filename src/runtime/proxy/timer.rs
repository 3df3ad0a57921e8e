//! A precise timer for the proxy's delays. Tokio's `sleep` works at
//! millisecond granularity (its documentation says so), so a
//! `latency(50ms)` would land up to a millisecond or two late. A timerfd
//! fires at the requested nanosecond plus the thread's timer slack (50 µs
//! by default, see prctl(2)) and is read through tokio's reactor.
//!
//! A thread that sleeps lets its CPU go idle, and waking an idle CPU can
//! take milliseconds on a virtual machine. On the benchmark machine a 50 ms
//! `time.sleep` in Python ended 0.16 ms late at the median and 2.2 ms late
//! at the 99th percentile. So the timer fires [`SPIN`] early, and the
//! writer yields to other tasks until the due time, which keeps its CPU
//! awake.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Duration;

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

/// How long before the due time the timer fires; the writer yields for
/// the rest. Each delayed piece costs up to this much CPU.
pub(super) const SPIN: Duration = Duration::from_millis(1);

/// A timerfd that tokio's reactor can watch.
struct Fd(TimerFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// One writer's timer. It is created on the first wait that needs it, so a
/// connection that is never delayed has no extra descriptor.
#[derive(Default)]
pub(super) struct Timer {
    fd: Option<AsyncFd<Fd>>,
}

impl Timer {
    /// Waits until `due`. Without a timerfd (descriptors exhausted, say) it
    /// falls back to tokio's timer for the first part of the wait, which
    /// may then end a millisecond late but never early.
    pub(super) async fn wait_until(&mut self, due: Instant) {
        if due <= Instant::now() {
            return;
        }
        if self.fd.is_none() {
            self.fd = open().ok();
        }
        let early = due.checked_sub(SPIN).unwrap_or(due);
        let waited = match &self.fd {
            Some(fd) => wait(fd, early).await,
            None => Err(io::ErrorKind::Unsupported.into()),
        };
        if waited.is_err() {
            self.fd = None;
            tokio::time::sleep_until(early).await;
        }
        while Instant::now() < due {
            tokio::task::yield_now().await;
        }
    }
}

fn open() -> io::Result<AsyncFd<Fd>> {
    let flags = TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC;
    let timer = TimerFd::new(ClockId::CLOCK_MONOTONIC, flags)?;
    // SAFETY: `Fd` owns the timerfd and hands out its number unchanged
    // until the `AsyncFd` that owns `Fd` is dropped, so the number stays
    // open and names the same timer for as long as it is registered.
    unsafe { AsyncFd::register_with_interest(Fd(timer), tokio::io::Interest::READABLE) }
        .map_err(io::Error::from)
}

/// Arms the timer for `due` and waits for it to fire. Tokio's `Instant`
/// reads `CLOCK_MONOTONIC`, the clock of the timer, so the interval left is
/// the interval the kernel waits.
async fn wait(fd: &AsyncFd<Fd>, due: Instant) -> io::Result<()> {
    let left = due.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Ok(());
    }
    let expiration = Expiration::OneShot(TimeSpec::from_duration(left));
    fd.get_ref()
        .0
        .set(expiration, TimerSetTimeFlags::empty())
        .map_err(io::Error::from)?;
    loop {
        let mut ready = fd.readable().await?;
        // Reading the expiry count consumes it; an empty read means the
        // readiness was stale, and `try_io` clears it before waiting again.
        match ready.try_io(|inner| inner.get_ref().0.wait().map_err(io::Error::from)) {
            Ok(result) => return result,
            Err(_would_block) => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_fires_early_and_uses_the_timerfd() {
        let mut timer = Timer::default();
        let mut worst = Duration::ZERO;
        for _ in 0..20 {
            let due = Instant::now() + Duration::from_micros(3_300);
            timer.wait_until(due).await;
            let now = Instant::now();
            assert!(now >= due, "woke {:?} early", due - now);
            worst = worst.max(now - due);
        }
        assert!(timer.fd.is_some(), "the timerfd was not used");
        // The bound is loose so that a busy machine does not fail it; the
        // accuracy itself is measured by bench/run.
        assert!(worst < Duration::from_millis(20), "woke {worst:?} late");
    }

    #[tokio::test]
    async fn past_due_returns_at_once_without_a_descriptor() {
        let mut timer = Timer::default();
        timer.wait_until(Instant::now()).await;
        assert!(timer.fd.is_none());
    }
}

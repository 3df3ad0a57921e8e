//! Giving freed memory back to the system. glibc keeps the freed read
//! buffers of idle connections in its heaps, where they count towards the
//! process's resident memory until a call to `malloc_trim` returns them.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The shortest time between two returns, because each one walks every
/// heap of the allocator.
const SPACING: Duration = Duration::from_secs(1);

/// The time memory was last returned, and whether a later return is scheduled.
static STATE: Mutex<(Option<Instant>, bool)> = Mutex::new((None, false));

/// Returns the free pages of the allocator's heaps to the system now, or
/// at the end of the current spacing when the last return was less than
/// `SPACING` ago, so that buffers freed in a burst are all returned. Must
/// run inside a tokio runtime.
pub(super) fn release_freed() {
    let mut state = STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let (last, scheduled) = &mut *state;
    match last.map(|at| at.elapsed()) {
        Some(elapsed) if elapsed < SPACING => {
            if !*scheduled {
                *scheduled = true;
                tokio::spawn(async move {
                    tokio::time::sleep(SPACING - elapsed).await;
                    let mut state = STATE
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    *state = (Some(Instant::now()), false);
                    drop(state);
                    trim();
                });
            }
        }
        _ => {
            *last = Some(Instant::now());
            drop(state);
            trim();
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only reorganizes the allocator's free lists and
    // takes the allocator's own locks, so any thread may call it.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

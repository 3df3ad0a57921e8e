//! Waiting for the bytes written to a socket to reach its peer.
//!
//! A reset discards what the resetting socket has not sent yet. When the
//! proxy passes on a peer's reset, the bytes that peer sent before it are
//! often still in the proxy's socket to the other side, and without the
//! proxy they would have reached that side before the reset.

use std::os::fd::AsRawFd;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long the peer may take no bytes before the wait gives up. A peer
/// that stopped reading would never take the rest.
const STALL: Duration = Duration::from_secs(1);

/// How often the count of bytes left is read.
const POLL: Duration = Duration::from_millis(1);

/// Waits until the peer of `stream` has acknowledged every byte written to
/// it, or has taken none for [`STALL`].
pub(super) async fn until_sent(stream: &TcpStream) {
    let mut left = unsent(stream);
    let mut moved_at = Instant::now();
    while let Some(count @ 1..) = left {
        tokio::time::sleep(POLL).await;
        left = unsent(stream);
        if left != Some(count) {
            moved_at = Instant::now();
        } else if moved_at.elapsed() >= STALL {
            return;
        }
    }
}

/// Returns the bytes written to `stream` that its peer has not acknowledged
/// yet, or `None` when the socket cannot tell.
pub(super) fn unsent(stream: &TcpStream) -> Option<usize> {
    let mut count: libc::c_int = 0;
    // SAFETY: TIOCOUTQ writes one int through the pointer, which points to
    // `count`, alive for the whole call.
    let result = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut count) };
    (result == 0).then(|| usize::try_from(count).unwrap_or(0))
}

//! Reads that also return when their bytes reached the socket.
//!
//! A latency toxic delays bytes from the moment they arrived,
//! not from the moment chaosc got to read them. On a virtual machine,
//! waking the reading thread takes a tenth of a millisecond at the median
//! and more at the tail, and that wait is not part of the fault. With
//! `SO_TIMESTAMPNS` set on a socket, the kernel stamps each packet on
//! arrival, and a read returns the stamp of the last packet it read from.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use nix::sys::time::{TimeSpec, TimeValLike};
use nix::time::{ClockId, clock_gettime};
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The oldest stamp that is trusted. An older one means the wall clock was
/// stepped between the stamp and the read, and the read time is used.
const OLDEST: Duration = Duration::from_secs(1);

/// Asks the kernel to stamp the packets of `stream` from now on. Packets
/// already queued keep no stamp, and reads of them return the read time.
pub(super) fn enable(stream: &TcpStream) -> io::Result<()> {
    setsockopt(&stream.as_fd(), sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)
}

/// Reads into `buffer` once data is there, and returns the count and when
/// the last of the bytes arrived (the read time where the kernel gave no
/// stamp). A count of zero is the end of the stream.
pub(super) async fn read(stream: &TcpStream, buffer: &mut [u8]) -> io::Result<(usize, Instant)> {
    loop {
        stream.readable().await?;
        match stream.try_io(Interest::READABLE, || receive(stream, buffer)) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            outcome => return outcome,
        }
    }
}

fn receive(stream: &TcpStream, buffer: &mut [u8]) -> io::Result<(usize, Instant)> {
    let mut control = nix::cmsg_space!(TimeSpec);
    let mut slices = [IoSliceMut::new(buffer)];
    let message = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut slices,
        Some(&mut control),
        MsgFlags::MSG_DONTWAIT,
    )
    .map_err(io::Error::from)?;
    // The wall clock is read first, so a pause of the thread between the
    // two reads makes the arrival look later than it was, never earlier,
    // and no byte leaves before its delay is over.
    let wall = clock_gettime(ClockId::CLOCK_REALTIME).ok();
    let now = Instant::now();
    let stamp = message.cmsgs().ok().and_then(|mut messages| {
        messages.find_map(|message| match message {
            ControlMessageOwned::ScmTimestampns(stamp) => Some(stamp),
            _ => None,
        })
    });
    let arrived = stamp
        .zip(wall)
        .and_then(|(stamp, wall)| arrival(stamp, wall, now))
        .unwrap_or(now);
    Ok((message.bytes, arrived))
}

/// Turns a wall-clock stamp into the monotonic instant it names, given the
/// wall clock `wall` and the monotonic time `now` read right after it.
fn arrival(stamp: TimeSpec, wall: TimeSpec, now: Instant) -> Option<Instant> {
    // A negative age, a stamp ahead of the wall clock, means it was stepped.
    let age = Duration::from_nanos(u64::try_from((wall - stamp).num_nanoseconds()).ok()?);
    (age <= OLDEST).then(|| now.checked_sub(age)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (sender, accepted) = tokio::join!(TcpStream::connect(address), listener.accept());
        (sender.unwrap(), accepted.unwrap().0)
    }

    #[tokio::test]
    async fn read_late_returns_the_arrival() {
        let (mut sender, receiver) = pair().await;
        enable(&receiver).unwrap();
        // The kernel turns stamping on in a work queue, so the first
        // packets after `enable` may still arrive without a stamp.
        let mut ages = Vec::new();
        for _ in 0..20 {
            sender.write_all(b"ping").await.unwrap();
            let sent = Instant::now();
            tokio::time::sleep(Duration::from_millis(30)).await;
            let mut buffer = [0u8; 16];
            let (count, arrived) = read(&receiver, &mut buffer).await.unwrap();
            let read_at = Instant::now();
            assert_eq!(&buffer[..count], b"ping");
            assert!(arrived + Duration::from_millis(5) >= sent);
            ages.push(read_at - arrived);
            if read_at - arrived >= Duration::from_millis(25) {
                return;
            }
        }
        panic!("no read returned an arrival before the read: {ages:?}");
    }

    #[tokio::test]
    async fn unstamped_read_returns_the_read_time() {
        let (mut sender, receiver) = pair().await;
        sender.write_all(b"ping").await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let before = Instant::now();
        let mut buffer = [0u8; 16];
        let (count, arrived) = read(&receiver, &mut buffer).await.unwrap();
        assert_eq!(count, 4);
        assert!(arrived >= before);
    }

    #[test]
    fn stepped_clock_stamps_are_ignored() {
        let wall = clock_gettime(ClockId::CLOCK_REALTIME).unwrap();
        let now = Instant::now();
        let ahead = wall + TimeSpec::from_duration(Duration::from_millis(200));
        let stale = wall - TimeSpec::from_duration(Duration::from_secs(5));
        let recent = wall - TimeSpec::from_duration(Duration::from_millis(10));
        assert_eq!(arrival(ahead, wall, now), None);
        assert_eq!(arrival(stale, wall, now), None);
        assert_eq!(
            arrival(recent, wall, now),
            now.checked_sub(Duration::from_millis(10))
        );
    }

    #[tokio::test]
    async fn end_of_stream_reads_zero() {
        let (sender, receiver) = pair().await;
        enable(&receiver).unwrap();
        drop(sender);
        let mut buffer = [0u8; 16];
        assert_eq!(read(&receiver, &mut buffer).await.unwrap().0, 0);
    }
}

//! Zero-copy forwarding for the stretches of a stream that no toxic
//! touches: `splice(2)` moves the received pages from one socket through a
//! pipe to the other, so the bytes never enter chaosc.

use std::io;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// The maximum pipe size requested, and so the maximum one call moves. The
/// kernel caps unprivileged pipes at `/proc/sys/fs/pipe-max-size` (1 MiB by
/// default), and a pipe that cannot grow keeps its default of 64 KiB.
const PIPE_BYTES: usize = 1 << 20;

/// A non-blocking pipe between two sockets.
pub(super) struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl Pipe {
    pub(super) fn new() -> io::Result<Pipe> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        // A smaller pipe only means more calls per megabyte.
        let _ = fcntl(&write, FcntlArg::F_SETPIPE_SZ(PIPE_BYTES as i32));
        Ok(Pipe { read, write })
    }
}

/// The outcome of one move.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Moved {
    /// `from` had nothing to read after all: its readiness was stale.
    Nothing,
    /// `from` reached the end of its stream.
    End,
    Bytes(usize),
}

/// Moves the bytes `from` has ready into `to`, waiting until `to` took them
/// all. The pipe is empty before and after, so that its being full never
/// passes for `from` having no data.
pub(super) async fn move_ready(from: &TcpStream, to: &TcpStream, pipe: &Pipe) -> io::Result<Moved> {
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    let received = from.try_io(Interest::READABLE, || {
        splice(from, None, &pipe.write, None, PIPE_BYTES, flags).map_err(io::Error::from)
    });
    let count = match received {
        Ok(0) => return Ok(Moved::End),
        Ok(count) => count,
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(Moved::Nothing),
        Err(error) => return Err(error),
    };
    let mut left = count;
    while left > 0 {
        to.writable().await?;
        let written = to.try_io(Interest::WRITABLE, || {
            splice(&pipe.read, None, to, None, left, flags).map_err(io::Error::from)
        });
        match written {
            Ok(written) => left -= written,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    Ok(Moved::Bytes(count))
}

/// Tells whether an error means that splicing cannot work on these file
/// descriptors at all, so that the copy path must take over.
pub(super) fn is_unsupported(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error().map(Errno::from_raw),
        Some(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(address), listener.accept());
        (client.unwrap(), accepted.unwrap().0)
    }

    #[tokio::test]
    async fn move_ready_carries_bytes_and_end() {
        let (mut source, from) = pair().await;
        let (to, mut sink) = pair().await;
        let pipe = Pipe::new().unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|index| (index % 251) as u8).collect();

        let sender = tokio::spawn(async move {
            source.write_all(&data).await.unwrap();
            source.shutdown().await.unwrap();
            data
        });
        let receiver = tokio::spawn(async move {
            let mut received = Vec::new();
            sink.read_to_end(&mut received).await.unwrap();
            received
        });
        let mut moved = 0;
        loop {
            from.readable().await.unwrap();
            match move_ready(&from, &to, &pipe).await.unwrap() {
                Moved::Nothing => {}
                Moved::End => break,
                Moved::Bytes(count) => moved += count,
            }
        }
        drop(to);
        let sent = sender.await.unwrap();
        assert_eq!(moved, sent.len());
        assert_eq!(receiver.await.unwrap(), sent);
    }
}

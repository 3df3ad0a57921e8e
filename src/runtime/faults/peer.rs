//! A peer of the fault verifiers: a one-connection server on loopback that
//! a proxy forwards a diverted connection to, and the client end of that
//! connection. Together they show what a toxic does to real bytes on real
//! sockets through the proxy's listener, without sending anything to the
//! real upstream.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::runtime::proxy::ProxyHandle;

/// What the peer does with the one connection it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Send this many bytes in one write, close its sending side, then read
    /// until the end.
    Send(usize),
    /// Read until the end of the stream.
    Receive,
    /// Send this many bytes in one write and keep the connection open
    /// while reading until the end.
    SendAndHold(usize),
    /// Read one HTTP request head and answer `200 OK`.
    Http,
}

/// What one end of a connection observed.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The bytes read, in order.
    pub received: Vec<u8>,
    /// The size of each successful read.
    pub reads: Vec<usize>,
    /// When the first byte arrived.
    pub first_byte: Option<Instant>,
    /// When the stream ended (end of stream or error).
    pub ended: Option<Instant>,
    /// Whether the stream ended with a connection reset.
    pub reset: bool,
    /// When this end started to read or write.
    pub started: Instant,
}

impl Observed {
    fn new() -> Self {
        Observed {
            received: Vec::new(),
            reads: Vec::new(),
            first_byte: None,
            ended: None,
            reset: false,
            started: Instant::now(),
        }
    }

    /// Returns the time from the start to the end of the stream.
    pub fn time_to_end(&self) -> Option<Duration> {
        self.ended.map(|ended| ended - self.started)
    }

    /// Reads from `stream` until the end, an error or `limit`.
    async fn read_all(&mut self, stream: &mut TcpStream, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
                Err(_) => return,
                Ok(Ok(0)) => {
                    self.ended = Some(Instant::now());
                    return;
                }
                Ok(Ok(n)) => {
                    self.first_byte.get_or_insert_with(Instant::now);
                    self.reads.push(n);
                    self.received.extend_from_slice(&buffer[..n]);
                }
                Ok(Err(error)) => {
                    self.ended = Some(Instant::now());
                    self.reset = error.kind() == std::io::ErrorKind::ConnectionReset;
                    return;
                }
            }
        }
    }
}

/// A running peer.
pub struct Peer {
    pub address: SocketAddr,
    task: JoinHandle<Option<Observed>>,
}

impl Peer {
    /// Starts a peer that accepts one connection within `limit` and plays
    /// `script` on it, for at most `limit` in all.
    pub async fn start(script: Script, limit: Duration) -> std::io::Result<Peer> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let deadline = Instant::now() + limit;
            let (mut stream, _) = tokio::time::timeout_at(deadline, listener.accept())
                .await
                .ok()?
                .ok()?;
            let _ = stream.set_nodelay(true);
            let mut observed = Observed::new();
            let remaining = deadline.saturating_duration_since(Instant::now());
            match script {
                Script::Send(size) => {
                    stream.write_all(&payload(size)).await.ok()?;
                    stream.shutdown().await.ok()?;
                    observed.read_all(&mut stream, remaining).await;
                }
                Script::SendAndHold(size) => {
                    stream.write_all(&payload(size)).await.ok()?;
                    observed.read_all(&mut stream, remaining).await;
                }
                Script::Receive => observed.read_all(&mut stream, remaining).await,
                Script::Http => answer_http(&mut stream, &mut observed, remaining).await,
            }
            Some(observed)
        });
        Ok(Peer { address, task })
    }

    /// Waits for what the peer observed; `None` if it saw no connection.
    pub async fn observed(self) -> Option<Observed> {
        self.task.await.ok().flatten()
    }
}

/// Reads one request head and answers it.
async fn answer_http(stream: &mut TcpStream, observed: &mut Observed, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut buffer = vec![0u8; 16 * 1024];
    while !observed
        .received
        .windows(4)
        .any(|window| window == b"\r\n\r\n")
    {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(n @ 1..)) => {
                observed.first_byte.get_or_insert_with(Instant::now);
                observed.reads.push(n);
                observed.received.extend_from_slice(&buffer[..n]);
            }
            _ => {
                observed.ended = Some(Instant::now());
                return;
            }
        }
    }
    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    // The client may have gone; what it saw is judged on its side.
    let _ = stream.write_all(answer).await;
    let _ = stream.shutdown().await;
}

/// Returns `size` bytes of a repeating pattern.
pub fn payload(size: usize) -> Vec<u8> {
    (0..size).map(|index| b'a' + (index % 26) as u8).collect()
}

/// Connects through `proxy` to `peer`, writes `send`, closes the sending
/// side when `close` is set, and reads until the end or `limit`.
pub async fn exchange(
    proxy: &ProxyHandle,
    peer: &Peer,
    send: &[u8],
    close: bool,
    limit: Duration,
) -> std::io::Result<Observed> {
    let mut observed = Observed::new();
    let mut stream = match proxy.connect_diverted(peer.address).await {
        Ok(stream) => stream,
        // A reset-peer toxic with no timeout can reset the connection
        // before the handshake is seen through.
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
            observed.ended = Some(Instant::now());
            observed.reset = true;
            return Ok(observed);
        }
        Err(error) => return Err(error),
    };
    // A toxic may close or reset the connection while this still writes;
    // the reading below records how the stream ended.
    if !send.is_empty() {
        let _ = stream.write_all(send).await;
    }
    if close {
        let _ = stream.shutdown().await;
    }
    observed.read_all(&mut stream, limit).await;
    Ok(observed)
}

/// Times one round trip through `proxy` to a peer of its own: connect,
/// close the sending side, and wait until the peer's close comes back.
/// With `exempt`, no toxic acts on the connection. Returns `None` when the
/// close does not come back within `limit`.
pub async fn round_trip(
    proxy: &ProxyHandle,
    exempt: bool,
    limit: Duration,
) -> std::io::Result<Option<Duration>> {
    let peer = Peer::start(Script::Receive, limit).await?;
    let started = Instant::now();
    let mut stream = if exempt {
        proxy.connect_diverted_exempt(peer.address).await?
    } else {
        proxy.connect_diverted(peer.address).await?
    };
    // A toxic may already have closed the connection, and the read below
    // records that.
    let _ = stream.shutdown().await;
    let mut observed = Observed::new();
    observed.read_all(&mut stream, limit).await;
    drop(stream);
    // The peer has ended with the connection; this only reaps its task.
    drop(peer.observed().await);
    Ok(observed.ended.map(|ended| ended - started))
}

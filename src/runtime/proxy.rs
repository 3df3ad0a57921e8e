//! The built-in TCP fault proxy: it forwards connections from its listen
//! address to an upstream and applies toxics (latency, blackhole) to the
//! data on the way, per direction. Toxics can be added and removed while
//! connections are open; each chunk of data sees the toxics in force when it
//! was read.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::model::Direction;

/// A fault the proxy applies to the data it forwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Toxic {
    /// Hold each chunk for `delay` plus a uniform random `-jitter..=jitter`.
    Latency {
        delay: Duration,
        jitter: Duration,
        direction: Direction,
    },
    /// Read data and drop it; forward nothing, not even the end of stream.
    Blackhole { direction: Direction },
}

impl Toxic {
    fn direction(&self) -> Direction {
        match self {
            Toxic::Latency { direction, .. } | Toxic::Blackhole { direction } => *direction,
        }
    }
}

/// A toxic in force, with its id and the share of chunks it affects.
#[derive(Debug, Clone)]
struct ActiveToxic {
    id: u64,
    toxic: Toxic,
    toxicity: f64,
}

/// The state shared by the accept loop, the connections and the handle.
struct Shared {
    upstream: Mutex<SocketAddr>,
    toxics: Mutex<Vec<ActiveToxic>>,
    /// Wakes connections held by a blackhole when toxics change.
    changed: Notify,
    rng: Mutex<ChaCha8Rng>,
    next_id: Mutex<u64>,
}

/// A running proxy; dropping it stops the proxy and closes its connections.
pub struct ProxyHandle {
    listen: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for ProxyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyHandle")
            .field("listen", &self.listen)
            .finish()
    }
}

impl ProxyHandle {
    /// Binds `listen` and starts forwarding to `upstream`.
    pub async fn start(
        listen: SocketAddr,
        upstream: SocketAddr,
        rng: ChaCha8Rng,
    ) -> std::io::Result<ProxyHandle> {
        let listener = TcpListener::bind(listen).await?;
        let listen = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            toxics: Mutex::new(Vec::new()),
            changed: Notify::new(),
            rng: Mutex::new(rng),
            next_id: Mutex::new(1),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(ProxyHandle {
            listen,
            shared,
            task,
        })
    }

    /// Returns the address the proxy listens on.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen
    }

    /// Returns the address the proxy forwards to.
    pub fn upstream(&self) -> SocketAddr {
        *self.shared.upstream.lock().unwrap()
    }

    /// Puts a toxic in force for a share `toxicity` (0 to 1) of the chunks,
    /// and returns its id.
    pub fn add_toxic(&self, toxic: Toxic, toxicity: f64) -> u64 {
        let id = {
            let mut next = self.shared.next_id.lock().unwrap();
            *next += 1;
            *next - 1
        };
        self.shared.toxics.lock().unwrap().push(ActiveToxic {
            id,
            toxic,
            toxicity,
        });
        self.shared.changed.notify_waiters();
        id
    }

    /// Removes a toxic; returns whether it was in force.
    pub fn remove_toxic(&self, id: u64) -> bool {
        let mut toxics = self.shared.toxics.lock().unwrap();
        let before = toxics.len();
        toxics.retain(|active| active.id != id);
        let removed = toxics.len() != before;
        drop(toxics);
        self.shared.changed.notify_waiters();
        removed
    }

    /// Returns how many toxics are in force.
    pub fn toxic_count(&self) -> usize {
        self.shared.toxics.lock().unwrap().len()
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every
        // connection task and closes their sockets.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    debug!(%peer, "proxy accepted a connection");
                    connections.spawn(serve(client, Arc::clone(&shared)));
                }
                Err(error) => {
                    warn!(%error, "proxy failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            // Reap finished connections so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve(client: TcpStream, shared: Arc<Shared>) {
    let upstream_addr = *shared.upstream.lock().unwrap();
    let upstream = match TcpStream::connect(upstream_addr).await {
        Ok(stream) => stream,
        Err(error) => {
            debug!(%error, %upstream_addr, "proxy cannot reach its upstream");
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    let up = pipe(
        client_read,
        upstream_write,
        Direction::Upstream,
        Arc::clone(&shared),
    );
    let down = pipe(upstream_read, client_write, Direction::Downstream, shared);
    tokio::join!(up, down);
}

/// Forwards one direction of a connection through the toxics in force.
async fn pipe(
    mut reader: tokio::net::tcp::OwnedReadHalf,
    mut writer: tokio::net::tcp::OwnedWriteHalf,
    flow: Direction,
    shared: Arc<Shared>,
) {
    // The reader stamps each chunk with the time it may be written; the
    // writer waits for that time. Chunks keep their order, so a shorter
    // jitter never reorders a stream.
    let (chunk_tx, mut chunk_rx) = mpsc::unbounded_channel::<(Instant, Option<Vec<u8>>)>();
    let writer_task = async move {
        while let Some((due, chunk)) = chunk_rx.recv().await {
            tokio::time::sleep_until(due).await;
            let Some(bytes) = chunk else {
                let _ = writer.shutdown().await;
                return;
            };
            if writer.write_all(&bytes).await.is_err() {
                return;
            }
        }
    };

    let reader_task = async move {
        let mut buffer = vec![0u8; 32 * 1024];
        loop {
            let read = reader.read(&mut buffer).await;
            let chunk = match read {
                Ok(0) | Err(_) => None,
                Ok(n) => Some(buffer[..n].to_vec()),
            };
            let is_end = chunk.is_none();
            let Some(delay) = wait_out_blackhole(&shared, flow, is_end).await else {
                // The chunk fell into a blackhole.
                continue;
            };
            if chunk_tx.send((Instant::now() + delay, chunk)).is_err() || is_end {
                return;
            }
        }
    };
    tokio::join!(reader_task, writer_task);
}

/// Decides the fate of a chunk read now: `None` drops it (a blackhole is in
/// force), `Some(delay)` forwards it after `delay`. The end of a stream is
/// never dropped: it waits until no blackhole holds it back.
async fn wait_out_blackhole(shared: &Shared, flow: Direction, is_end: bool) -> Option<Duration> {
    loop {
        let changed = shared.changed.notified();
        let (blackholed, delay) = toxic_effect(shared, flow);
        if !blackholed {
            return Some(delay);
        }
        if !is_end {
            return None;
        }
        changed.await;
    }
}

/// Returns whether a blackhole takes the chunk and the latency it gets.
fn toxic_effect(shared: &Shared, flow: Direction) -> (bool, Duration) {
    let toxics = shared.toxics.lock().unwrap();
    let mut rng = shared.rng.lock().unwrap();
    let mut delay = Duration::ZERO;
    for active in toxics
        .iter()
        .filter(|active| active.toxic.direction().covers(flow))
    {
        if active.toxicity < 1.0 && rng.random::<f64>() >= active.toxicity {
            continue;
        }
        match active.toxic {
            Toxic::Blackhole { .. } => return (true, Duration::ZERO),
            Toxic::Latency {
                delay: base,
                jitter,
                ..
            } => {
                let jitter_ms = jitter.as_secs_f64() * 1000.0;
                let offset = if jitter_ms > 0.0 {
                    rng.random_range(-jitter_ms..=jitter_ms)
                } else {
                    0.0
                };
                let total = (base.as_secs_f64() * 1000.0 + offset).max(0.0);
                delay += Duration::from_secs_f64(total / 1000.0);
            }
        }
    }
    (false, delay)
}

/// Measures one round trip through the proxy without speaking the
/// upstream's protocol: connect, close the sending side, and time how long
/// the upstream's answer (its first byte or its own close) takes to come
/// back. Returns `None` when nothing comes back within `timeout`.
pub async fn measure_round_trip(address: SocketAddr, timeout: Duration) -> Option<Duration> {
    let started = Instant::now();
    let attempt = async {
        let mut stream = TcpStream::connect(address).await.ok()?;
        stream.shutdown().await.ok()?;
        let mut byte = [0u8; 1];
        let _ = stream.read(&mut byte).await;
        Some(started.elapsed())
    };
    tokio::time::timeout(timeout, attempt).await.ok().flatten()
}

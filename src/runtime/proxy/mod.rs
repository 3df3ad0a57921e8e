//! The built-in TCP fault proxy: it forwards connections from its listen
//! address to an upstream and applies toxics to the data on the way, per
//! direction, in the manner of Toxiproxy. Toxics can be added and removed
//! while connections are open.
//!
//! A toxic with a toxicity below 1 takes hold of a share of the
//! connections: each connection draws once per toxic whether the toxic
//! applies to it. HTTP toxics draw once per request instead. Every draw comes
//! from the proxy's seeded generator.

mod admission;
mod drain;
mod http;
mod link;
mod memory;
mod stamp;
mod timer;
mod toxic;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, warn};

pub use admission::AdmissionCounts;
use admission::{Admission, Gate};
pub use http::{parse_status, reason_phrase};
pub use toxic::{HttpAction, HttpToxic, Toxic};

use crate::model::Direction;

/// A toxic in force, with its id and the share of connections it affects.
#[derive(Debug, Clone)]
struct ActiveToxic {
    id: u64,
    toxic: Toxic,
    toxicity: f64,
    /// When the toxic was put in force; timers of connections that were
    /// already open start here.
    added_at: Instant,
}

/// The state shared by the accept loop, the connections and the handle.
struct Shared {
    /// The upstream, shedding and circuit breaker for new connections.
    gate: Mutex<Gate>,
    toxics: Mutex<Vec<ActiveToxic>>,
    /// Wakes connections that wait on the toxics when they change.
    changed: Notify,
    rng: Mutex<ChaCha8Rng>,
    next_id: AtomicU64,
    /// Connections from these client addresses go to another upstream; the
    /// fault verifiers use it to observe a toxic on a peer of their own.
    diversions: Mutex<HashMap<SocketAddr, Diversion>>,
}

/// The destination of a diverted connection, and whether the toxics act on it.
#[derive(Debug, Clone, Copy)]
struct Diversion {
    peer: SocketAddr,
    /// Whether the toxics leave the connection alone, which makes it a
    /// control beside the connections they act on.
    exempt: bool,
}

impl Shared {
    /// Draws whether something with `toxicity` happens this time.
    fn draw(&self, toxicity: f64) -> bool {
        toxicity >= 1.0 || self.rng.lock().unwrap().random::<f64>() < toxicity
    }
}

/// How a connection is ended by a toxic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Close both sockets normally (FIN).
    Close,
    /// Reset both sockets (RST).
    Reset,
}

/// One proxied connection: which toxics hold it, and how to end it.
struct Connection {
    shared: Arc<Shared>,
    /// No toxic acts on this connection (a verifier's control).
    exempt: bool,
    opened_at: Instant,
    /// The draw of each toxic for this connection, made on first use.
    draws: Mutex<HashMap<u64, bool>>,
    end_tx: watch::Sender<Option<End>>,
}

impl Connection {
    /// Returns the stream toxics that hold this connection in `flow`.
    fn stream_toxics(&self, flow: Direction) -> Vec<ActiveToxic> {
        if self.exempt {
            return Vec::new();
        }
        let toxics = self.shared.toxics.lock().unwrap().clone();
        toxics
            .into_iter()
            .filter(|active| !matches!(active.toxic, Toxic::Http(_)))
            .filter(|active| active.toxic.direction().covers(flow))
            .filter(|active| self.is_held_by(active))
            .collect()
    }

    /// Returns the HTTP toxics in force, with their toxicity.
    /// Tells whether an HTTP toxic is in force on this connection.
    fn has_http_toxics(&self) -> bool {
        let toxics = self.shared.toxics.lock().unwrap();
        !self.exempt
            && toxics
                .iter()
                .any(|active| matches!(active.toxic, Toxic::Http(_)))
    }

    fn http_toxics(&self) -> Vec<(HttpToxic, f64)> {
        if self.exempt {
            return Vec::new();
        }
        let toxics = self.shared.toxics.lock().unwrap();
        toxics
            .iter()
            .filter_map(|active| match &active.toxic {
                Toxic::Http(http) => Some((http.clone(), active.toxicity)),
                _ => None,
            })
            .collect()
    }

    fn is_held_by(&self, active: &ActiveToxic) -> bool {
        let mut draws = self.draws.lock().unwrap();
        *draws
            .entry(active.id)
            .or_insert_with(|| self.shared.draw(active.toxicity))
    }

    /// Tells whether a toxic drops the data of `flow` (blackhole, timeout).
    fn drops(&self, flow: Direction) -> bool {
        self.stream_toxics(flow).iter().any(|active| {
            matches!(
                active.toxic,
                Toxic::Blackhole { .. } | Toxic::Timeout { .. }
            )
        })
    }

    /// Ends the connection; the first request wins.
    fn end(&self, end: End) {
        self.end_tx.send_if_modified(|current| {
            let is_first = current.is_none();
            current.get_or_insert(end);
            is_first
        });
    }

    /// Waits until a timeout or reset-peer toxic that holds the connection
    /// comes due, and returns how it ends the connection.
    async fn supervise(&self) -> End {
        loop {
            let changed = self.shared.changed.notified();
            let due = [Direction::Upstream, Direction::Downstream]
                .into_iter()
                .flat_map(|flow| self.stream_toxics(flow))
                .filter_map(|active| {
                    let start = active.added_at.max(self.opened_at);
                    match active.toxic {
                        Toxic::Timeout { timeout, .. } if !timeout.is_zero() => {
                            Some((start + timeout, End::Close))
                        }
                        Toxic::ResetPeer { timeout, .. } => Some((start + timeout, End::Reset)),
                        _ => None,
                    }
                })
                .min_by_key(|(at, _)| *at);
            match due {
                Some((at, end)) if at <= Instant::now() => return end,
                Some((at, _)) => {
                    tokio::select! {
                        _ = changed => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => changed.await,
            }
        }
    }
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
            gate: Mutex::new(Gate::new(upstream)),
            toxics: Mutex::new(Vec::new()),
            changed: Notify::new(),
            rng: Mutex::new(rng),
            next_id: AtomicU64::new(1),
            diversions: Mutex::new(HashMap::new()),
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
        self.shared.gate.lock().unwrap().upstream()
    }

    /// Sends new connections to `upstream` and returns the previous one.
    pub fn switch_upstream(&self, upstream: SocketAddr) -> SocketAddr {
        self.shared.gate.lock().unwrap().switch_upstream(upstream)
    }

    /// Sheds a share (0 to 1) of new connections; 0 stops shedding.
    pub fn set_shed_share(&self, share: f64) {
        self.shared.gate.lock().unwrap().set_shed_share(share);
    }

    /// Arms a circuit breaker over the upstream connections.
    pub fn arm_breaker(&self, failures: u32, cooldown: Duration) {
        self.shared
            .gate
            .lock()
            .unwrap()
            .arm_breaker(failures, cooldown);
    }

    /// Returns how many connections the proxy refused or could not forward.
    pub fn admission_counts(&self) -> AdmissionCounts {
        self.shared.gate.lock().unwrap().counts()
    }

    /// Puts a toxic in force for a share `toxicity` (0 to 1) of the
    /// connections (of the requests, for HTTP toxics), and returns its id.
    pub fn add_toxic(&self, toxic: Toxic, toxicity: f64) -> u64 {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let active = ActiveToxic {
            id,
            toxic,
            toxicity,
            added_at: Instant::now(),
        };
        self.shared.toxics.lock().unwrap().push(active);
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

    /// Connects to the proxy from a fresh loopback port whose connection the
    /// proxy forwards to `peer` instead of its upstream. Fault verifiers use
    /// it to observe a toxic through the real listener without sending
    /// anything to the real upstream.
    pub async fn connect_diverted(&self, peer: SocketAddr) -> std::io::Result<TcpStream> {
        self.connect_diverted_as(Diversion {
            peer,
            exempt: false,
        })
        .await
    }

    /// Connects like [`ProxyHandle::connect_diverted`], but no toxic acts on
    /// the connection, so it measures the proxy as it is without them.
    pub async fn connect_diverted_exempt(&self, peer: SocketAddr) -> std::io::Result<TcpStream> {
        self.connect_diverted_as(Diversion { peer, exempt: true })
            .await
    }

    async fn connect_diverted_as(&self, diversion: Diversion) -> std::io::Result<TcpStream> {
        let connect_to = loopback_if_unspecified(self.listen);
        let socket = if connect_to.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        let local = SocketAddr::new(connect_to.ip(), 0);
        socket.bind(local)?;
        let from = socket.local_addr()?;
        self.shared
            .diversions
            .lock()
            .unwrap()
            .insert(from, diversion);
        let connected = socket.connect(connect_to).await;
        if connected.is_err() {
            self.shared.diversions.lock().unwrap().remove(&from);
        }
        let stream = connected?;
        // An error here means a toxic already reset the connection, which
        // the caller sees on its first read.
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every
        // connection task and closes their sockets.
        self.task.abort();
    }
}

/// Returns `address` with an unspecified IP (`0.0.0.0`, `::`) replaced by
/// loopback, so that it can be connected to.
pub fn loopback_if_unspecified(address: SocketAddr) -> SocketAddr {
    if !address.ip().is_unspecified() {
        return address;
    }
    let ip: std::net::IpAddr = if address.is_ipv4() {
        std::net::Ipv4Addr::LOCALHOST.into()
    } else {
        std::net::Ipv6Addr::LOCALHOST.into()
    };
    SocketAddr::new(ip, address.port())
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    debug!(%peer, "proxy accepted a connection");
                    connections.spawn(serve(client, peer, Arc::clone(&shared)));
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

async fn serve(mut client: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let diverted = shared.diversions.lock().unwrap().remove(&peer);
    let upstream_addr = match diverted {
        Some(diversion) => diversion.peer,
        None => {
            let draw = shared.rng.lock().unwrap().random::<f64>();
            match shared.gate.lock().unwrap().admit(Instant::now(), draw) {
                Admission::Forward(address) => address,
                // Dropping the client closes it at once: a fast failure the
                // client can retry, instead of a hang.
                Admission::Shed | Admission::CircuitOpen => return,
            }
        }
    };
    let connected = TcpStream::connect(upstream_addr).await;
    if diverted.is_none() {
        shared
            .gate
            .lock()
            .unwrap()
            .record(Instant::now(), connected.is_ok());
    }
    let mut upstream = match connected {
        Ok(stream) => stream,
        Err(error) => {
            debug!(%error, %upstream_addr, "proxy cannot reach its upstream");
            return;
        }
    };
    // Errors only cost latency: Nagle's algorithm would merge small writes.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);

    let (end_tx, mut end_rx) = watch::channel(None);
    let connection = Connection {
        shared,
        exempt: diverted.is_some_and(|diversion| diversion.exempt),
        opened_at: Instant::now(),
        draws: Mutex::default(),
        end_tx,
    };
    let ending = {
        let (client_read, client_write) = client.split();
        let (upstream_read, upstream_write) = upstream.split();
        let pipes = link::forward(
            &connection,
            client_read,
            client_write,
            upstream_read,
            upstream_write,
        );
        tokio::select! {
            _ = pipes => None,
            end = end_rx.wait_for(Option::is_some) => end.ok().and_then(|end| *end),
            end = connection.supervise() => Some(end),
        }
    };
    // The pipes are dropped here; what is left is to close the sockets the
    // way the toxic asked. Errors mean the peer is already gone.
    if ending == Some(End::Reset) {
        let _ = client.set_zero_linger();
        let _ = upstream.set_zero_linger();
    }
}

/// Measures one round trip through the proxy without speaking the
/// upstream's protocol: connect, close the sending side, and time how long
/// the upstream's answer (its first byte or its own close) takes to come
/// back. Returns `None` when nothing comes back within `timeout`.
pub async fn measure_round_trip(address: SocketAddr, timeout: Duration) -> Option<Duration> {
    let started = Instant::now();
    let attempt = async {
        let mut stream = TcpStream::connect(loopback_if_unspecified(address))
            .await
            .ok()?;
        stream.shutdown().await.ok()?;
        let mut byte = [0u8; 1];
        let _ = stream.read(&mut byte).await;
        Some(started.elapsed())
    };
    tokio::time::timeout(timeout, attempt).await.ok().flatten()
}

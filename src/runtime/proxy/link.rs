//! The two directions of one proxied connection. In each direction a
//! reader applies the toxics in force to every chunk it reads (and, towards
//! the upstream, to every HTTP request it finds), stamps the pieces with the
//! time they may be written, and hands them to a writer that waits for that
//! time. Pieces keep their order, so a shorter delay never reorders a
//! stream. While no toxic applies to a direction and its writer has nothing
//! queued, the reader writes what it reads straight to the other socket.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rand::RngExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::sync::{Mutex, Notify, mpsc};
use tokio::time::Instant;

use super::drain;
use super::http::{RequestFramer, Segment, response};
use super::stamp;
use super::timer::Timer;
use super::{ActiveToxic, Connection, End, HttpAction, Toxic};
use crate::model::Direction;

/// Headers that carry credentials, which `StripAuthorization` removes.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization"];

/// The first size of a direction's read buffer: enough for a request or a
/// reply, so that a thousand quiet connections stay small.
const FIRST_BUFFER_BYTES: usize = 4 * 1024;

/// The size a read buffer may grow to while untouched reads keep filling
/// it. On loopback a plain relay moved about 70% more per second with reads
/// of 1 MiB than with reads of 64 KiB, likely because fewer reads mean fewer
/// wake-ups of the processes on either side.
const MAX_BUFFER_BYTES: usize = 1 << 20;

/// How long a direction waits for data before its grown read buffer goes
/// back to the first size, so that idle connections stay small.
const IDLE_BEFORE_SHRINK: Duration = Duration::from_millis(250);

/// The number of bytes a direction's queue may hold before its reader stops
/// reading. A held-back sender then gets the back pressure of a slow
/// network, and chaosc's memory stays bounded.
const QUEUE_LIMIT_BYTES: usize = 4 << 20;

/// The maximum size of one read while a toxic applies, so that toxics see
/// chunks of a steady size.
const TOXIC_READ_BYTES: usize = 64 * 1024;

/// The longest a bandwidth-limited piece takes to send, so that a large
/// chunk trickles out instead of arriving in one late burst.
const PACING_TICK: Duration = Duration::from_millis(50);

/// What a reader hands to the writer of its direction.
enum Message {
    /// Write these bytes at `due`.
    Data { due: Instant, bytes: Vec<u8> },
    /// Send the end of the stream at `due`.
    Finish { due: Instant },
    /// Close the whole connection at `due` (a data limit was reached).
    Close { due: Instant },
    /// Reset the whole connection at `due` (a peer reset its side).
    Reset { due: Instant },
    /// Write this answer at once in the upstream's place, then close the
    /// whole connection.
    Reply(Vec<u8>),
}

impl Message {
    /// Returns the number of bytes the message carries.
    fn size(&self) -> usize {
        match self {
            Message::Data { bytes, .. } | Message::Reply(bytes) => bytes.len(),
            Message::Finish { .. } | Message::Close { .. } | Message::Reset { .. } => 0,
        }
    }
}

/// The messages and bytes a direction's writer has not finished yet,
/// shared by its readers and its writer.
#[derive(Default)]
struct Backlog {
    messages: AtomicUsize,
    bytes: AtomicUsize,
    /// Woken each time the writer finishes a message.
    drained: Notify,
}

impl Backlog {
    /// Counts a message as finished.
    fn finish(&self, size: usize) {
        self.bytes.fetch_sub(size, Ordering::SeqCst);
        self.messages.fetch_sub(1, Ordering::SeqCst);
        self.drained.notify_waiters();
    }
}

/// The sending side of a direction's queue.
struct Queue<'a> {
    tx: mpsc::UnboundedSender<Message>,
    backlog: &'a Backlog,
}

impl Queue<'_> {
    /// Queues a message and returns `false` once the writer has ended.
    fn send(&self, message: Message) -> bool {
        let size = message.size();
        self.backlog.messages.fetch_add(1, Ordering::SeqCst);
        self.backlog.bytes.fetch_add(size, Ordering::SeqCst);
        let sent = self.tx.send(message).is_ok();
        if !sent {
            self.backlog.bytes.fetch_sub(size, Ordering::SeqCst);
            self.backlog.messages.fetch_sub(1, Ordering::SeqCst);
        }
        sent
    }

    /// Waits until the queue contains less than `QUEUE_LIMIT_BYTES`, so that
    /// a reader stops taking data the writer cannot pass on yet. Returns at
    /// once when the writer has ended, so that the reader's next `send`
    /// fails and ends it too.
    async fn room(&self) {
        loop {
            let drained = self.backlog.drained.notified();
            if self.backlog.bytes.load(Ordering::SeqCst) < QUEUE_LIMIT_BYTES {
                return;
            }
            tokio::select! {
                _ = drained => {}
                _ = self.tx.closed() => return,
            }
        }
    }

    /// Tells whether the writer has written everything queued so far.
    fn is_idle(&self) -> bool {
        self.backlog.messages.load(Ordering::SeqCst) == 0
    }
}

/// Forwards both directions of a connection until both have ended.
pub(super) async fn forward(
    connection: &Connection,
    client_read: ReadHalf<'_>,
    client_write: WriteHalf<'_>,
    upstream_read: ReadHalf<'_>,
    upstream_write: WriteHalf<'_>,
) {
    let (up_tx, up_rx) = mpsc::unbounded_channel();
    let (down_tx, down_rx) = mpsc::unbounded_channel();
    let (up_backlog, down_backlog) = (Backlog::default(), Backlog::default());
    let up_queue = Queue {
        tx: up_tx,
        backlog: &up_backlog,
    };
    let down_queue = Queue {
        tx: down_tx.clone(),
        backlog: &down_backlog,
    };
    let replies = Queue {
        tx: down_tx,
        backlog: &down_backlog,
    };
    let (upstream_write, client_write) = (Mutex::new(upstream_write), Mutex::new(client_write));
    tokio::join!(
        read(
            connection,
            client_read,
            &upstream_write,
            Direction::Upstream,
            up_queue,
            Some(replies)
        ),
        write(connection, &upstream_write, up_rx, &up_backlog),
        read(
            connection,
            upstream_read,
            &client_write,
            Direction::Downstream,
            down_queue,
            None
        ),
        write(connection, &client_write, down_rx, &down_backlog),
    );
}

async fn write(
    connection: &Connection,
    writer: &Mutex<WriteHalf<'_>>,
    mut rx: mpsc::UnboundedReceiver<Message>,
    backlog: &Backlog,
) {
    let mut timer = Timer::default();
    while let Some(message) = rx.recv().await {
        let size = message.size();
        let go_on = write_message(connection, writer, &mut timer, message).await;
        backlog.finish(size);
        if !go_on {
            return;
        }
    }
}

/// Writes one message at its due time and returns `false` when the direction
/// has ended.
async fn write_message(
    connection: &Connection,
    writer: &Mutex<WriteHalf<'_>>,
    timer: &mut Timer,
    message: Message,
) -> bool {
    match message {
        Message::Data { due, bytes } => {
            timer.wait_until(due).await;
            match writer.lock().await.write_all(&bytes).await {
                Ok(()) => true,
                Err(error) => {
                    if is_reset(&error) {
                        connection.end(End::Reset);
                    }
                    false
                }
            }
        }
        Message::Finish { due } => {
            timer.wait_until(due).await;
            // A failed shutdown means the peer is gone already.
            let _ = writer.lock().await.shutdown().await;
            false
        }
        Message::Close { due } => {
            timer.wait_until(due).await;
            connection.end(End::Close);
            false
        }
        Message::Reset { due } => {
            timer.wait_until(due).await;
            // What the peer sent before its reset reaches this side first,
            // as it would without the proxy.
            drain::until_sent(writer.lock().await.as_ref()).await;
            connection.end(End::Reset);
            false
        }
        Message::Reply(bytes) => {
            // The response is written even if the client stopped reading,
            // because the connection closes right after either way.
            let mut writer = writer.lock().await;
            let _ = writer.write_all(&bytes).await;
            let _ = writer.flush().await;
            connection.end(End::Close);
            false
        }
    }
}

/// The bookkeeping of one direction.
struct Flow {
    direction: Direction,
    /// Bytes forwarded so far, for data limits.
    forwarded: u64,
    /// The due time of the last piece; later pieces never go before it.
    last_due: Instant,
    /// When a bandwidth-limited link is free to send again.
    link_free: Instant,
    /// Whether the kernel was asked to stamp arrivals on the socket read.
    stamped: bool,
}

async fn read(
    connection: &Connection,
    reader: ReadHalf<'_>,
    writer: &Mutex<WriteHalf<'_>>,
    direction: Direction,
    queue: Queue<'_>,
    replies: Option<Queue<'_>>,
) {
    let now = Instant::now();
    let mut flow = Flow {
        direction,
        forwarded: 0,
        last_due: now,
        link_free: now,
        stamped: false,
    };
    let mut framer = replies.is_some().then(RequestFramer::default);
    let mut buffer = vec![0u8; FIRST_BUFFER_BYTES];
    loop {
        // Wait for data without taking it, so that a toxic added while the
        // connection was idle still applies to what comes next.
        let ready = if buffer.len() > FIRST_BUFFER_BYTES {
            match tokio::time::timeout(IDLE_BEFORE_SHRINK, reader.as_ref().readable()).await {
                Ok(ready) => ready,
                Err(_) => {
                    buffer = vec![0u8; FIRST_BUFFER_BYTES];
                    super::memory::release_freed();
                    reader.as_ref().readable().await
                }
            }
        } else {
            reader.as_ref().readable().await
        };
        if ready.is_err() {
            flush_held(connection, &mut flow, &queue, framer.as_mut());
            finish(connection, &mut flow, &queue).await;
            return;
        }
        // Requests are framed only while an HTTP toxic is in force, or while
        // the framer keeps part of a head read then. Other bytes pass as
        // they come.
        let framing = framer.as_ref().is_some_and(|framer| {
            framer.is_holding() || (!framer.is_raw() && connection.has_http_toxics())
        });
        if !framing && let Some(framer) = framer.as_mut() {
            framer.restart();
        }
        let untouched =
            queue.is_idle() && !framing && connection.stream_toxics(direction).is_empty();
        if untouched {
            let mut writer = writer.lock().await;
            let outcome = match reader.as_ref().try_read(&mut buffer) {
                // The readiness was stale.
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Ok(0) => Err(None),
                Ok(count) => writer
                    .write_all(&buffer[..count])
                    .await
                    .map(|()| count)
                    .map_err(Some),
                Err(error) => Err(Some(error)),
            };
            drop(writer);
            let count = match outcome {
                Ok(count) => count,
                Err(error) => {
                    end_direction(connection, &mut flow, &queue, error).await;
                    return;
                }
            };
            flow.forwarded += count as u64;
            if count == buffer.len() && count < MAX_BUFFER_BYTES {
                buffer.resize(count * 2, 0);
            }
            continue;
        }
        queue.room().await;
        if buffer.len() < TOXIC_READ_BYTES {
            buffer.resize(TOXIC_READ_BYTES, 0);
        }
        if !flow.stamped {
            flow.stamped = true;
            // Without stamps the delays count from the read, a little late.
            let _ = stamp::enable(reader.as_ref());
        }
        let read = stamp::read(reader.as_ref(), &mut buffer[..TOXIC_READ_BYTES]).await;
        let Ok((n @ 1.., arrived)) = read else {
            flush_held(connection, &mut flow, &queue, framer.as_mut());
            end_direction(connection, &mut flow, &queue, read.err()).await;
            return;
        };
        let chunk = &buffer[..n];
        let pieces = match (&mut framer, &replies) {
            (Some(framer), Some(replies)) if framing => {
                match apply_http(connection, framer.push(chunk), replies) {
                    Some(pieces) => pieces,
                    // The request was answered or aborted by a toxic.
                    None => return,
                }
            }
            _ => vec![(chunk.to_vec(), Duration::ZERO)],
        };
        for (bytes, delay) in pieces {
            if !forward_piece(connection, &mut flow, bytes, delay, arrived, &queue) {
                return;
            }
        }
    }
}

/// Forwards the bytes of a head that the framer holds when the stream ends
/// before the head does, so that they reach the upstream as they would
/// without the proxy.
fn flush_held(
    connection: &Connection,
    flow: &mut Flow,
    queue: &Queue<'_>,
    framer: Option<&mut RequestFramer>,
) {
    let head_start = framer.map(RequestFramer::take_held).unwrap_or_default();
    if !head_start.is_empty() {
        // A closed queue means the writer ended, and the bytes have nowhere
        // to go.
        forward_piece(
            connection,
            flow,
            head_start,
            Duration::ZERO,
            Instant::now(),
            queue,
        );
    }
}

/// Ends a direction after the end of its stream or after `error` on one of
/// its sockets. A reset resets the whole connection after the data queued
/// before it, so that each peer gets the reset it would get without the
/// proxy. Any other end closes the stream normally.
async fn end_direction(
    connection: &Connection,
    flow: &mut Flow,
    queue: &Queue<'_>,
    error: Option<io::Error>,
) {
    if !error.as_ref().is_some_and(is_reset) {
        finish(connection, flow, queue).await;
        return;
    }
    let toxics = connection.stream_toxics(flow.direction);
    let due = flow
        .last_due
        .max(Instant::now() + latency(connection, &toxics));
    // A closed queue means the writer ended already, so nothing is left to
    // send before the reset.
    if !queue.send(Message::Reset { due }) {
        connection.end(End::Reset);
    }
}

/// Tells whether a socket error means the peer reset the connection.
fn is_reset(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// Sends the end of the stream once no toxic drops it, after any latency
/// and slow close.
async fn finish(connection: &Connection, flow: &mut Flow, queue: &Queue<'_>) {
    loop {
        let changed = connection.shared.changed.notified();
        if !connection.drops(flow.direction) {
            break;
        }
        changed.await;
    }
    let toxics = connection.stream_toxics(flow.direction);
    let hold: Duration = toxics
        .iter()
        .map(|active| match active.toxic {
            Toxic::SlowClose { delay, .. } => delay,
            _ => Duration::ZERO,
        })
        .sum();
    // The end of the stream travels like data: a latency toxic holds it
    // too, so a client waiting for the close sees the delay.
    let due = flow
        .last_due
        .max(Instant::now() + hold + latency(connection, &toxics));
    // A closed channel means the writer ended already.
    queue.send(Message::Finish { due });
}

/// Applies the HTTP toxics to the segments of the client's stream. Returns
/// the bytes to forward with the delay each gets, or `None` when a toxic
/// answered or aborted the request and nothing more may be forwarded.
fn apply_http(
    connection: &Connection,
    segments: Vec<Segment>,
    replies: &Queue<'_>,
) -> Option<Vec<(Vec<u8>, Duration)>> {
    let mut pieces = Vec::new();
    for segment in segments {
        let head = match segment {
            Segment::Data(bytes) => {
                pieces.push((bytes, Duration::ZERO));
                continue;
            }
            Segment::Head(head) => head,
        };
        let taken = connection
            .http_toxics()
            .into_iter()
            .find(|(toxic, toxicity)| {
                toxic.matches(&head.method, &head.target) && connection.shared.draw(*toxicity)
            });
        match taken.map(|(toxic, _)| toxic.action) {
            None => pieces.push((head.raw, Duration::ZERO)),
            Some(HttpAction::Delay(delay)) => pieces.push((head.raw, delay)),
            Some(HttpAction::StripAuthorization) => {
                pieces.push((head.without_headers(CREDENTIAL_HEADERS), Duration::ZERO));
            }
            Some(HttpAction::Respond { status, headers }) => {
                // A closed channel means the client is gone already.
                replies.send(Message::Reply(response(status, &headers)));
                return None;
            }
            Some(HttpAction::Abort) => {
                connection.end(End::Close);
                return None;
            }
        }
    }
    Some(pieces)
}

/// Applies the stream toxics to one piece that `arrived` at the proxy and
/// queues what is left of it. Its delays count from the arrival.
/// Returns `false` once the direction must stop reading.
fn forward_piece(
    connection: &Connection,
    flow: &mut Flow,
    mut bytes: Vec<u8>,
    extra_delay: Duration,
    arrived: Instant,
    queue: &Queue<'_>,
) -> bool {
    let toxics = connection.stream_toxics(flow.direction);
    if toxics
        .iter()
        .any(|a| matches!(a.toxic, Toxic::Blackhole { .. } | Toxic::Timeout { .. }))
    {
        return true;
    }

    let limit = toxics
        .iter()
        .filter_map(|active| match active.toxic {
            Toxic::LimitData { bytes, .. } => Some(bytes),
            _ => None,
        })
        .min();
    let mut limit_reached = false;
    if let Some(limit) = limit {
        let room = limit.saturating_sub(flow.forwarded);
        if bytes.len() as u64 >= room {
            bytes.truncate(usize::try_from(room).unwrap_or(usize::MAX));
            limit_reached = true;
        }
    }
    flow.forwarded += bytes.len() as u64;

    let delay = extra_delay + latency(connection, &toxics);
    let mut due = arrived + delay;
    for (slice, gap) in slices(connection, &toxics, bytes) {
        due += gap;
        for (piece, send_time) in paced(&toxics, slice) {
            let start = due.max(flow.last_due).max(flow.link_free);
            flow.link_free = start + send_time;
            flow.last_due = start;
            let message = Message::Data {
                due: start,
                bytes: piece,
            };
            if !queue.send(message) {
                return false;
            }
        }
    }
    if limit_reached {
        queue.send(Message::Close {
            due: flow.last_due.max(flow.link_free),
        });
        return false;
    }
    true
}

/// Returns the latency the toxics add to a piece, jitter drawn now.
fn latency(connection: &Connection, toxics: &[ActiveToxic]) -> Duration {
    let mut total = Duration::ZERO;
    for active in toxics {
        let Toxic::Latency { delay, jitter, .. } = active.toxic else {
            continue;
        };
        let jitter_ms = jitter.as_secs_f64() * 1000.0;
        let offset = if jitter_ms > 0.0 {
            connection
                .shared
                .rng
                .lock()
                .unwrap()
                .random_range(-jitter_ms..=jitter_ms)
        } else {
            0.0
        };
        let millis = (delay.as_secs_f64() * 1000.0 + offset).max(0.0);
        total += Duration::from_secs_f64(millis / 1000.0);
    }
    total
}

/// Splits a piece as a slicer toxic asks, with the gap before each slice.
fn slices(
    connection: &Connection,
    toxics: &[ActiveToxic],
    bytes: Vec<u8>,
) -> Vec<(Vec<u8>, Duration)> {
    let slicer = toxics.iter().find_map(|active| match active.toxic {
        Toxic::Slicer {
            average_size,
            size_variation,
            delay,
            ..
        } => Some((average_size, size_variation, delay)),
        _ => None,
    });
    let Some((average, variation, delay)) = slicer else {
        return vec![(bytes, Duration::ZERO)];
    };
    let mut out = Vec::new();
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let size = slice_size(connection, average, variation).min(rest.len());
        let gap = if out.is_empty() {
            Duration::ZERO
        } else {
            delay
        };
        out.push((rest[..size].to_vec(), gap));
        rest = &rest[size..];
    }
    out
}

fn slice_size(connection: &Connection, average: usize, variation: usize) -> usize {
    let variation = variation.min(average.saturating_sub(1));
    if variation == 0 {
        return average.max(1);
    }
    let low = average - variation;
    let high = average + variation;
    connection
        .shared
        .rng
        .lock()
        .unwrap()
        .random_range(low..=high)
        .max(1)
}

/// Splits a slice into pieces a bandwidth limit can send in one pacing
/// tick, each with the time it takes to send.
fn paced(toxics: &[ActiveToxic], bytes: Vec<u8>) -> Vec<(Vec<u8>, Duration)> {
    let rate = toxics
        .iter()
        .filter_map(|active| match active.toxic {
            Toxic::Bandwidth {
                bits_per_second, ..
            } => Some(bits_per_second.max(1)),
            _ => None,
        })
        .min();
    let Some(rate) = rate else {
        return vec![(bytes, Duration::ZERO)];
    };
    let per_tick = usize::try_from(rate / 8 * PACING_TICK.as_millis() as u64 / 1000)
        .unwrap_or(usize::MAX)
        .max(1);
    bytes
        .chunks(per_tick)
        .map(|piece| {
            let seconds = piece.len() as f64 * 8.0 / rate as f64;
            (piece.to_vec(), Duration::from_secs_f64(seconds))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn bandwidth(bits_per_second: u64) -> ActiveToxic {
        ActiveToxic {
            id: 1,
            toxic: Toxic::Bandwidth {
                bits_per_second,
                direction: Direction::Both,
            },
            toxicity: 1.0,
            added_at: Instant::now(),
        }
    }

    #[test]
    fn pacing_splits_into_ticks() {
        // 80 kbit/s is 10,000 bytes a second, 500 bytes per 50ms tick.
        let pieces = paced(&[bandwidth(80_000)], vec![0; 1200]);
        let sizes: Vec<usize> = pieces.iter().map(|(piece, _)| piece.len()).collect();
        assert_eq!(sizes, [500, 500, 200]);
        assert_eq!(pieces[0].1, Duration::from_millis(50));
        assert_eq!(pieces[2].1, Duration::from_millis(20));
    }

    #[test]
    fn pacing_without_bandwidth_keeps_piece() {
        let pieces = paced(&[], vec![7; 10]);
        assert_eq!(pieces, [(vec![7; 10], Duration::ZERO)]);
    }

    /// Returns a stream whose every 4-byte word contains its own index, so
    /// that a lost, doubled or reordered piece shows.
    fn counted(bytes: usize) -> Vec<u8> {
        (0..bytes / 4)
            .flat_map(|word| (word as u32).to_le_bytes())
            .collect()
    }

    /// Starts a proxy on a free loopback port in front of `upstream`.
    async fn proxy_to(upstream: std::net::SocketAddr) -> super::super::ProxyHandle {
        use rand::SeedableRng;

        let seeded = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        super::super::ProxyHandle::start("127.0.0.1:0".parse().unwrap(), upstream, seeded)
            .await
            .unwrap()
    }

    /// Opens a client connection to `proxy`.
    async fn connect(proxy: &super::super::ProxyHandle) -> tokio::net::TcpStream {
        tokio::net::TcpStream::connect(proxy.listen_addr())
            .await
            .unwrap()
    }

    /// Starts an upstream that sends `source` in pieces of 64 KiB, pausing
    /// `pause` after each, and a proxy in front of it.
    async fn proxied_source(
        source: Vec<u8>,
        pause: Duration,
    ) -> (
        super::super::ProxyHandle,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = upstream.accept().await?;
            for piece in source.chunks(64 * 1024) {
                stream.write_all(piece).await?;
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
            stream.shutdown().await
        });
        let proxy = proxy_to(upstream_addr).await;
        (proxy, server)
    }

    #[tokio::test]
    async fn toxic_toggle_keeps_stream_order() {
        let sent = counted(16 << 20);
        // The upstream sends at a steady pace, so that pieces are still
        // waiting out their latency when new bytes arrive after the toxic
        // is removed.
        let (proxy, server) = proxied_source(sent.clone(), Duration::from_millis(1)).await;
        let mut client = connect(&proxy).await;

        let latency = Toxic::Latency {
            delay: Duration::from_millis(5),
            jitter: Duration::from_millis(4),
            direction: Direction::Downstream,
        };
        let mut received = Vec::with_capacity(sent.len());
        let mut chunk = vec![0u8; 64 * 1024];
        let (mut added, mut removed) = (None, false);
        loop {
            let count = client.read(&mut chunk).await.unwrap();
            if count == 0 {
                break;
            }
            received.extend_from_slice(&chunk[..count]);
            let mebibytes = received.len() >> 20;
            if added.is_none() && mebibytes >= 2 {
                added = Some(proxy.add_toxic(latency.clone(), 1.0));
            }
            if let Some(id) = added.filter(|_| !removed && mebibytes >= 8) {
                assert!(proxy.remove_toxic(id));
                removed = true;
            }
        }
        server.await.unwrap().unwrap();
        assert!(removed, "the toxic was never removed");
        assert_eq!(received.len(), sent.len());
        assert!(received == sent, "bytes were lost, doubled or reordered");
    }

    #[tokio::test]
    async fn toxic_queue_holds_back_sender() {
        let sent = counted(64 << 20);
        let (proxy, server) = proxied_source(sent.clone(), Duration::ZERO).await;
        proxy.add_toxic(
            Toxic::Latency {
                delay: Duration::from_millis(1),
                jitter: Duration::ZERO,
                direction: Direction::Downstream,
            },
            1.0,
        );
        let mut client = connect(&proxy).await;

        // The client reads nothing for a while: without a bound on the queue
        // the proxy would take all 64 MiB and the server would finish.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(!server.is_finished(), "the proxy took every byte");

        let mut received = Vec::with_capacity(sent.len());
        client.read_to_end(&mut received).await.unwrap();
        server.await.unwrap().unwrap();
        assert_eq!(received.len(), sent.len());
        assert!(received == sent, "bytes were lost, doubled or reordered");
    }

    #[tokio::test]
    async fn full_queue_ends_with_client() {
        let (proxy, server) = proxied_source(counted(64 << 20), Duration::ZERO).await;
        // Small pieces keep the queue above its limit after the writer's
        // last, failed piece, so only the writer's end can release the reader.
        proxy.add_toxic(
            Toxic::Slicer {
                average_size: 256,
                size_variation: 0,
                delay: Duration::ZERO,
                direction: Direction::Downstream,
            },
            1.0,
        );
        let mut client = connect(&proxy).await;
        let mut chunk = vec![0u8; 64 * 1024];
        client.read_exact(&mut chunk).await.unwrap();

        // The queue is full when the client goes away: the connection must
        // still end, and the upstream see it closed.
        tokio::time::sleep(Duration::from_millis(500)).await;
        drop(client);
        let sent = tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("the proxy kept the upstream connection open");
        assert!(sent.unwrap().is_err(), "the upstream sent everything");
    }

    /// Returns the bytes a client of a proxy reads, and how the stream ends,
    /// when the upstream sends `size` bytes, waits until the proxy has taken
    /// them all, and then resets the connection, with `toxic` in force. The
    /// client starts reading after `pause`.
    async fn upstream_reset_seen(
        toxic: Option<Toxic>,
        size: usize,
        pause: Duration,
    ) -> (usize, Option<io::ErrorKind>) {
        let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = upstream.accept().await.unwrap();
            stream.write_all(&vec![b'x'; size]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            let deadline = Instant::now() + Duration::from_secs(5);
            while super::drain::unsent(&stream) != Some(0) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            stream.set_zero_linger().unwrap();
        });

        let proxy = proxy_to(upstream_addr).await;
        if let Some(toxic) = toxic {
            proxy.add_toxic(toxic, 1.0);
        }
        let mut client = connect(&proxy).await;
        tokio::time::sleep(pause).await;

        let mut received = 0;
        let mut chunk = [0u8; 1024];
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match client.read(&mut chunk).await {
                    Ok(0) => return None,
                    Ok(count) => received += count,
                    Err(error) => return Some(error.kind()),
                }
            }
        })
        .await
        .expect("the connection stayed open after the upstream reset it");
        server.await.unwrap();
        (received, end)
    }

    #[tokio::test]
    async fn upstream_reset_resets_client() {
        let reset = Some(io::ErrorKind::ConnectionReset);
        assert_eq!(
            upstream_reset_seen(None, 14, Duration::ZERO).await,
            (14, reset)
        );
        // Bytes the proxy took before the reset but the client had no room
        // for yet still reach the client, ahead of the reset.
        let size = 3 << 20;
        let late = Duration::from_millis(500);
        assert_eq!(upstream_reset_seen(None, size, late).await, (size, reset));
        // The reset comes 20 ms after the data, so it must wait for the
        // delayed data instead of overtaking it.
        let latency = Toxic::Latency {
            delay: Duration::from_millis(100),
            jitter: Duration::ZERO,
            direction: Direction::Downstream,
        };
        assert_eq!(
            upstream_reset_seen(Some(latency), 14, Duration::ZERO).await,
            (14, reset)
        );
    }

    /// Returns what the upstream of a proxy receives when a client sends
    /// `sent` and closes its side, with `toxic` in force.
    async fn upstream_receives(toxic: Option<Toxic>, sent: &'static [u8]) -> Vec<u8> {
        let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = upstream.accept().await.unwrap();
            let mut received = Vec::new();
            stream.read_to_end(&mut received).await.unwrap();
            received
        });
        let proxy = proxy_to(upstream_addr).await;
        if let Some(toxic) = toxic {
            proxy.add_toxic(toxic, 1.0);
        }
        let mut client = connect(&proxy).await;
        client.write_all(sent).await.unwrap();
        client.shutdown().await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the upstream never saw the end of the stream")
            .unwrap()
    }

    #[tokio::test]
    async fn text_commands_pass_unframed() {
        for sent in [&b"WAIT p1\n"[..], b"SET a b\r\n", b"GET / HTTP/1.0\n\n"] {
            assert_eq!(upstream_receives(None, sent).await, sent);
        }
    }

    #[tokio::test]
    async fn unfinished_head_reaches_upstream() {
        let delay = Toxic::Http(super::super::HttpToxic {
            method: None,
            path_prefix: "/".to_owned(),
            action: HttpAction::Delay(Duration::from_millis(1)),
        });
        let sent = b"GET / HTTP/1.1\r\nHost: x\r\n";
        assert_eq!(upstream_receives(Some(delay), sent).await, sent);
    }
}

//! Just enough HTTP/1.x for the proxy's HTTP toxics: splitting the client's
//! byte stream into request heads and the bytes between them, and building
//! the answers the proxy sends in the upstream's place.
//!
//! The framer follows `Content-Length` and chunked bodies so that it finds
//! every head on a keep-alive connection. A stream that does not start like
//! an HTTP/1.x request, or that switches protocols (`CONNECT`, `Upgrade`),
//! is passed through untouched from then on.

/// The longest request head the framer buffers before it gives up on HTTP.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A request head read from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// The request target, usually a path with an optional query.
    pub target: String,
    /// The header fields in their order, names as written.
    pub headers: Vec<(String, String)>,
    /// The head exactly as received, up to and including the empty line.
    pub raw: Vec<u8>,
}

impl RequestHead {
    /// Returns the value of the first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Returns the head with the headers named in `names` (any case) left
    /// out; the other lines keep their bytes and order.
    pub fn without_headers(&self, names: &[&str]) -> Vec<u8> {
        let text = String::from_utf8_lossy(&self.raw);
        let mut out = Vec::with_capacity(self.raw.len());
        // The first line is the request line, never a header.
        for (index, line) in text.split_inclusive("\r\n").enumerate() {
            let name = line.split(':').next().unwrap_or_default().trim();
            let is_header = index > 0 && line.contains(':');
            if is_header && names.iter().any(|drop| drop.eq_ignore_ascii_case(name)) {
                continue;
            }
            out.extend_from_slice(line.as_bytes());
        }
        out
    }
}

/// A piece of the client's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// The head of a new request.
    Head(RequestHead),
    /// Body bytes, or any bytes once the stream is not HTTP.
    Data(Vec<u8>),
}

/// Where the framer is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    /// A body with this many bytes left.
    Body(u64),
    /// The size line of the next chunk of a chunked body.
    ChunkSize,
    /// Chunk data with this many bytes left, then its CRLF.
    ChunkData(u64),
    /// The trailer of a chunked body, up to an empty line.
    Trailer,
    /// Not HTTP (any more): everything passes as data.
    Raw,
}

/// Splits a client's byte stream into request heads and other bytes.
#[derive(Debug)]
pub struct RequestFramer {
    state: State,
    /// Bytes of an unfinished head, size line or trailer line.
    pending: Vec<u8>,
}

impl Default for RequestFramer {
    fn default() -> Self {
        RequestFramer {
            state: State::Head,
            pending: Vec::new(),
        }
    }
}

impl RequestFramer {
    /// Tells whether the stream is no longer HTTP, so that every byte
    /// passes as data from now on.
    pub fn is_raw(&self) -> bool {
        self.state == State::Raw
    }

    /// Tells whether the framer keeps bytes of an unfinished head, which
    /// no segment has returned yet.
    pub fn is_holding(&self) -> bool {
        self.state == State::Head && !self.pending.is_empty()
    }

    /// Removes and returns the bytes of an unfinished head, for a stream
    /// that ends before the head does.
    pub fn take_held(&mut self) -> Vec<u8> {
        if self.state == State::Head {
            std::mem::take(&mut self.pending)
        } else {
            Vec::new()
        }
    }

    /// Starts over at the next read, as if it began the stream, unless the
    /// stream is known not to be HTTP. Used after bytes passed unframed.
    pub fn restart(&mut self) {
        if self.state != State::Raw {
            self.state = State::Head;
            self.pending.clear();
        }
    }

    /// Feeds bytes read from the client; returns the segments they complete.
    /// Bytes of an unfinished head are kept until the head is complete.
    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<Segment> {
        let mut segments = Vec::new();
        let mut data = Vec::new();
        while !bytes.is_empty() {
            match self.state {
                State::Raw => {
                    data.extend_from_slice(bytes);
                    bytes = &[];
                }
                State::Head => {
                    let (head, rest) = self.take_head(bytes, &mut data);
                    bytes = rest;
                    if let Some(head) = head {
                        flush(&mut segments, &mut data);
                        segments.push(Segment::Head(head));
                    }
                }
                State::Body(left) => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                    data.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::Head
                    } else {
                        State::Body(left)
                    };
                }
                State::ChunkData(left) => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                    data.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    let left = left - take as u64;
                    // The CRLF after the data is read as an empty size line.
                    self.state = if left == 0 {
                        State::ChunkSize
                    } else {
                        State::ChunkData(left)
                    };
                }
                State::ChunkSize | State::Trailer => {
                    let Some(end) = bytes.iter().position(|&b| b == b'\n') else {
                        self.pending.extend_from_slice(bytes);
                        data.extend_from_slice(bytes);
                        bytes = &[];
                        continue;
                    };
                    self.pending.extend_from_slice(&bytes[..=end]);
                    data.extend_from_slice(&bytes[..=end]);
                    bytes = &bytes[end + 1..];
                    let line = std::mem::take(&mut self.pending);
                    self.state = self.after_line(&line);
                }
            }
        }
        flush(&mut segments, &mut data);
        segments
    }

    /// Accumulates a head; returns it once complete with the bytes after it.
    fn take_head<'b>(
        &mut self,
        bytes: &'b [u8],
        data: &mut Vec<u8>,
    ) -> (Option<RequestHead>, &'b [u8]) {
        let start = self.pending.len().saturating_sub(3);
        self.pending.extend_from_slice(bytes);
        let Some(end) = find(&self.pending[start..], b"\r\n\r\n").map(|at| start + at + 4) else {
            if self.pending.len() > MAX_HEAD_BYTES || !looks_like_request(&self.pending) {
                self.state = State::Raw;
                data.append(&mut self.pending);
            }
            return (None, &[]);
        };
        let rest_len = self.pending.len() - end;
        let rest = &bytes[bytes.len() - rest_len..];
        let raw: Vec<u8> = self.pending.drain(..).take(end).collect();
        match parse_head(&raw) {
            Some(head) => {
                self.state = body_state(&head);
                (Some(head), rest)
            }
            None => {
                self.state = State::Raw;
                data.extend_from_slice(&raw);
                (None, rest)
            }
        }
    }

    fn after_line(&self, line: &[u8]) -> State {
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        match self.state {
            State::Trailer if text.is_empty() => State::Head,
            State::Trailer => State::Trailer,
            // The CRLF that ends the data of the previous chunk.
            _ if text.is_empty() => State::ChunkSize,
            _ => {
                let size = text.split(';').next().unwrap_or_default().trim();
                match u64::from_str_radix(size, 16) {
                    Ok(0) => State::Trailer,
                    Ok(size) => State::ChunkData(size),
                    Err(_) => State::Raw,
                }
            }
        }
    }
}

fn flush(segments: &mut Vec<Segment>, data: &mut Vec<u8>) {
    if !data.is_empty() {
        segments.push(Segment::Data(std::mem::take(data)));
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Tells whether the start of a stream can still be an HTTP request head:
/// a token of capital letters followed by a space, and once the line is
/// complete, a line that ends with the version and CRLF, with CRLF after
/// every later line too. Commands of other text protocols, such as `SET a b`
/// or `USER x`, then pass at once, and so does a head with a bare LF, which
/// would otherwise wait for a CRLF CRLF that never comes.
fn looks_like_request(bytes: &[u8]) -> bool {
    let method_len = bytes.iter().take_while(|b| b.is_ascii_uppercase()).count();
    if method_len == bytes.len() {
        return method_len <= 16;
    }
    if method_len == 0 || bytes[method_len] != b' ' {
        return false;
    }
    let Some(line_end) = bytes.iter().position(|&b| b == b'\n') else {
        return true;
    };
    let Some(line) = bytes[..line_end].strip_suffix(b"\r") else {
        return false;
    };
    let bare_lf = bytes
        .windows(2)
        .any(|pair| pair[1] == b'\n' && pair[0] != b'\r');
    match line.len().checked_sub(9).map(|at| &line[at..]) {
        Some([b' ', b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor]) => {
            minor.is_ascii_digit() && !bare_lf
        }
        _ => false,
    }
}

fn parse_head(raw: &[u8]) -> Option<RequestHead> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let version = request_line.next()?;
    if !version.starts_with("HTTP/1.") || !looks_like_request(method.as_bytes()) {
        return None;
    }
    let headers = lines
        .filter(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Some(RequestHead {
        method,
        target,
        headers,
        raw: raw.to_vec(),
    })
}

/// Returns how the body after `head` is framed.
fn body_state(head: &RequestHead) -> State {
    let upgrades = head.method == "CONNECT" || head.header("upgrade").is_some();
    if upgrades {
        return State::Raw;
    }
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return State::ChunkSize;
    }
    match head
        .header("content-length")
        .map(|value| value.parse::<u64>())
    {
        None | Some(Ok(0)) => State::Head,
        Some(Ok(length)) => State::Body(length),
        Some(Err(_)) => State::Raw,
    }
}

/// Builds a complete response that closes the connection.
pub fn response(status: u16, headers: &[(String, String)]) -> Vec<u8> {
    let reason = reason_phrase(status);
    let body = format!("{status} {reason} (injected by chaosc)\n");
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Content-Type: text/plain\r\nConnection: close\r\n");
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

/// Returns the reason phrase of common status codes.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// Reads the status code from the start of a response.
pub fn parse_status(response: &[u8]) -> Option<u16> {
    let line = response.split(|&b| b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let mut parts = text.split(' ');
    parts
        .next()
        .filter(|version| version.starts_with("HTTP/1."))?;
    parts.next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heads(segments: &[Segment]) -> Vec<(String, String)> {
        segments
            .iter()
            .filter_map(|segment| match segment {
                Segment::Head(head) => Some((head.method.clone(), head.target.clone())),
                Segment::Data(_) => None,
            })
            .collect()
    }

    fn data(segments: &[Segment]) -> Vec<u8> {
        segments
            .iter()
            .flat_map(|segment| match segment {
                Segment::Data(bytes) => bytes.clone(),
                Segment::Head(_) => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn framer_finds_keep_alive_requests() {
        let stream = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
                       POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\
                       DELETE /c HTTP/1.1\r\n\r\n";
        let segments = RequestFramer::default().push(stream);
        let expected = [("GET", "/a"), ("POST", "/b"), ("DELETE", "/c")]
            .map(|(m, t)| (m.to_owned(), t.to_owned()));
        assert_eq!(heads(&segments), expected);
        assert_eq!(data(&segments), b"hello");
    }

    #[test]
    fn framer_joins_head_split_across_reads() {
        let mut framer = RequestFramer::default();
        let stream = b"GET /split HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut segments = Vec::new();
        for byte in stream {
            segments.extend(framer.push(std::slice::from_ref(byte)));
        }
        assert_eq!(heads(&segments), [("GET".to_owned(), "/split".to_owned())]);
        assert!(data(&segments).is_empty());
    }

    #[test]
    fn framer_follows_chunked_body() {
        let stream = b"POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                       5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n\
                       GET /next HTTP/1.1\r\n\r\n";
        let mut framer = RequestFramer::default();
        let mut segments = Vec::new();
        for piece in stream.chunks(3) {
            segments.extend(framer.push(piece));
        }
        let methods: Vec<String> = heads(&segments).into_iter().map(|(m, _)| m).collect();
        assert_eq!(methods, ["POST", "GET"]);
        let body = data(&segments);
        assert!(body.starts_with(b"5\r\nhello\r\n"));
        assert!(body.ends_with(b"X-Trailer: 1\r\n\r\n"));
    }

    #[test]
    fn framer_passes_other_protocols() {
        let stream = b"\x16\x03\x01binary tls hello\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        let segments = RequestFramer::default().push(stream);
        assert!(heads(&segments).is_empty());
        assert_eq!(data(&segments), stream);
    }

    #[test]
    fn framer_passes_other_text_protocols() {
        for stream in [
            &b"SET a b\r\n"[..],
            b"WAIT p1\n",
            b"USER x\r\nPASS y\r\n",
            b"GET / HTTP/1.0\n\n",
            b"GET /ok HTTP/1.1\r\nHost: x\nConnection: close\n\n",
        ] {
            let mut framer = RequestFramer::default();
            let segments = framer.push(stream);
            assert_eq!(
                data(&segments),
                stream,
                "{:?}",
                String::from_utf8_lossy(stream)
            );
            assert!(framer.is_raw());
        }
    }

    #[test]
    fn framer_holds_unfinished_head_until_taken() {
        let mut framer = RequestFramer::default();
        assert!(framer.push(b"GET / HTTP/1.1\r\nHost: x\r\n").is_empty());
        assert!(framer.is_holding());
        assert_eq!(framer.take_held(), b"GET / HTTP/1.1\r\nHost: x\r\n");
        assert!(!framer.is_holding());
    }

    #[test]
    fn framer_passes_upgraded_stream() {
        let stream =
            b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET /not-a-request HTTP/1.1\r\n\r\n";
        let segments = RequestFramer::default().push(stream);
        assert_eq!(heads(&segments).len(), 1);
        assert_eq!(data(&segments), b"GET /not-a-request HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn head_without_authorization() {
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nproxy-authorization: b\r\nAccept: */*\r\n\r\n";
        let segments = RequestFramer::default().push(raw);
        let Segment::Head(head) = &segments[0] else {
            panic!("no head in {segments:?}")
        };
        assert_eq!(head.header("AUTHORIZATION"), Some("Bearer t"));
        let stripped = head.without_headers(&["authorization", "proxy-authorization"]);
        assert_eq!(
            stripped,
            b"GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"
        );
    }

    #[test]
    fn response_has_status_and_length() {
        let bytes = response(503, &[("Retry-After".to_owned(), "1".to_owned())]);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(text.contains("Retry-After: 1\r\n"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert_eq!(parse_status(&bytes), Some(503));
    }
}

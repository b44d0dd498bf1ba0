//! A small blocking HTTP/1.1 client for the exporting connectors (each runs on its own
//! thread): requests with headers and a body, keep-alive, timeouts, plain or TLS.
//!
//! One [`Client`] holds at most one connection to one destination and reuses it while the
//! server keeps it open. A reused connection that turns out closed before any byte of the
//! answer came back (the server's idle timeout) is reopened and the request sent once more.
//! Every wait is bounded by the timeout: connecting, each write, each read, and the whole
//! answer after the request left. The answer's head is capped at [`MAX_HEAD`] bytes, its
//! body at the client's `max_body` (beyond it the body is cut, marked, and the connection
//! dropped); `Content-Length`, chunked and until-close bodies are understood.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::connect::{self, Failure};
use super::destination::{Destination, Endpoint};
use super::tls::ClientConfig;
use super::transport::Transport;
use crate::clock::now_monotonic;

/// The most a response head (status line and headers) may be.
pub const MAX_HEAD: usize = 16 * 1024;

/// Why a request got no answer.
#[derive(Debug)]
pub enum Error {
    /// Could not connect; the failure's class says how long to back off.
    Connect(Failure),
    /// The answer (or a write) did not complete within the timeout.
    Timeout,
    /// The connection broke.
    Io(io::Error),
    /// The request could not be sent as given, or the answer is not HTTP/1.x.
    Malformed(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connect(Failure::Timeout) => f.write_str("cannot connect: timeout"),
            Error::Connect(Failure::Transport(e) | Failure::Tls(e) | Failure::Refused { reason: e, .. }) => {
                f.write_str(e)
            }
            Error::Timeout => f.write_str("timeout waiting for the server"),
            Error::Io(e) => write!(f, "connection error: {e}"),
            Error::Malformed(e) => f.write_str(e),
        }
    }
}

fn io_error(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout,
        _ => Error::Io(e),
    }
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// In the order received; names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than the client's `max_body` and was cut there.
    pub truncated: bool,
}

impl Response {
    /// The first header of that name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// `Retry-After` in seconds (the HTTP-date form is not used by time-series databases and
    /// reads as absent).
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")?.trim().parse::<u64>().ok().map(Duration::from_secs)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A keep-alive client of one destination.
pub struct Client {
    dest: Destination,
    tls: Option<Arc<ClientConfig>>,
    timeout: Duration,
    max_body: usize,
    host_header: String,
    conn: Option<Conn>,
}

impl Client {
    /// `tls` is needed for a `:SSL` destination; `timeout` bounds every wait (see the module).
    pub fn new(
        dest: Destination,
        tls: Option<Arc<ClientConfig>>,
        timeout: Duration,
        max_body: usize,
    ) -> Client {
        let host_header = match &dest.endpoint {
            Endpoint::Tcp { host, port, .. } if host.contains(':') => format!("[{host}]:{port}"),
            Endpoint::Tcp { host, port, .. } => format!("{host}:{port}"),
            Endpoint::Unix(_) => "localhost".into(),
        };
        Client { dest, tls, timeout, max_body, host_header, conn: None }
    }

    pub fn destination(&self) -> &Destination {
        &self.dest
    }

    /// Whether a connection is open (kept alive from an earlier request).
    pub fn connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Drops the connection; the next request opens a new one.
    pub fn close(&mut self) {
        self.conn = None;
    }

    /// `POST path` with `headers` (beyond Host, User-Agent, Content-Length, Connection).
    pub fn post(&mut self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Response, Error> {
        self.request("POST", path, headers, body)
    }

    /// Sends one request and reads its answer. A 4xx or 5xx is a [`Response`], not an error.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, Error> {
        let head = self.head(method, path, headers, body.len())?;
        loop {
            let reused = self.conn.is_some();
            let conn = match self.conn.as_mut() {
                Some(c) => c,
                None => {
                    let t =
                        connect::open(&self.dest, self.timeout, self.tls.as_ref()).map_err(Error::Connect)?;
                    self.conn.insert(Conn { t, buf: Vec::new(), pos: 0, got_any: false })
                }
            };
            conn.got_any = false;
            let deadline = now_monotonic() + self.timeout;
            let result =
                send(conn, &head, body).and_then(|()| read_response(conn, method, self.max_body, deadline));
            match result {
                Ok((response, keep)) => {
                    if !keep {
                        self.conn = None;
                    }
                    return Ok(response);
                }
                Err(e) => {
                    let stale = reused && !conn.got_any && matches!(&e, Error::Io(_));
                    self.conn = None;
                    if !stale {
                        return Err(e);
                    }
                    // The server closed the idle connection: once more on a new one.
                }
            }
        }
    }

    fn head(&self, method: &str, path: &str, headers: &[(&str, &str)], len: usize) -> Result<Vec<u8>, Error> {
        let bad = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n');
        if bad(method) || method.contains(' ') || bad(path) || path.contains(' ') || !path.starts_with('/') {
            return Err(Error::Malformed(format!("bad request line '{method} {path}'")));
        }
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}/{}\r\nContent-Length: {len}\r\nConnection: keep-alive\r\n",
            self.host_header,
            crate::PROGRAM,
            crate::VERSION
        );
        for (name, value) in headers {
            if bad(name) || bad(value) || name.is_empty() || name.contains(':') {
                return Err(Error::Malformed(format!("bad request header '{name}'")));
            }
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        Ok(head.into_bytes())
    }
}

/// Where an answer's bytes come from: the connection, or (for the fuzz target) a slice.
trait Source {
    /// Appends what can be read now, at most `max` bytes; 0 at the end of the stream.
    fn read_some(&mut self, into: &mut Vec<u8>, max: usize) -> io::Result<usize>;
}

impl Source for Transport {
    fn read_some(&mut self, into: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        self.read_into(into, max)
    }
}

/// Bytes given at once, handed out in small pieces (so every split of the input is seen).
struct Slice<'a> {
    data: &'a [u8],
    step: usize,
}

impl Source for Slice<'_> {
    fn read_some(&mut self, into: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        let n = self.data.len().min(max).min(self.step.max(1));
        into.extend_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Reads one answer from `data` as [`Client::request`] would from a connection, `step`
/// bytes per read (the fuzz target's entry: any bytes give an answer or an error, never a
/// panic, and the body is never longer than `max_body`). Returns the answer and whether
/// the connection could be kept.
pub fn parse_response(
    data: &[u8],
    step: usize,
    method: &str,
    max_body: usize,
) -> Result<(Response, bool), Error> {
    let mut conn = Conn { t: Slice { data, step }, buf: Vec::new(), pos: 0, got_any: false };
    read_response(&mut conn, method, max_body, now_monotonic() + Duration::from_secs(3600))
}

/// A connection and what was read from it but not used yet.
struct Conn<S = Transport> {
    t: S,
    buf: Vec<u8>,
    pos: usize,
    /// A byte of the answer arrived (so a failure is not a stale keep-alive connection).
    got_any: bool,
}

impl<S: Source> Conn<S> {
    /// Reads more into the buffer; `false` at the end of the stream.
    fn fill(&mut self, deadline: Instant) -> Result<bool, Error> {
        if now_monotonic() > deadline {
            return Err(Error::Timeout);
        }
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let n = self.t.read_some(&mut self.buf, 16 * 1024).map_err(io_error)?;
        if n > 0 {
            self.got_any = true;
        }
        Ok(n > 0)
    }

    /// One line without its CRLF (or LF), at most `max` bytes.
    fn line(&mut self, max: usize, deadline: Instant) -> Result<String, Error> {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|b| *b == b'\n') {
                let line = &self.buf[self.pos..self.pos + i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let text = String::from_utf8_lossy(line).into_owned();
                self.pos += i + 1;
                return Ok(text);
            }
            if self.buf.len() - self.pos > max {
                return Err(Error::Malformed("response line too long".into()));
            }
            if !self.fill(deadline)? {
                return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
            }
        }
    }

    /// Up to `n` bytes of body (`None`: until the end of the stream) appended to `out`, kept
    /// up to `room`; `false` when the body was longer than `room` (reading stops there).
    fn body(
        &mut self,
        n: Option<usize>,
        out: &mut Vec<u8>,
        room: usize,
        deadline: Instant,
    ) -> Result<bool, Error> {
        let mut left = n.unwrap_or(usize::MAX);
        while left > 0 {
            if self.pos == self.buf.len() && !self.fill(deadline)? {
                return match n {
                    None => Ok(true),
                    Some(_) => Err(Error::Io(io::ErrorKind::UnexpectedEof.into())),
                };
            }
            let take = (self.buf.len() - self.pos).min(left);
            let keep = take.min(room.saturating_sub(out.len()));
            out.extend_from_slice(&self.buf[self.pos..self.pos + keep]);
            self.pos += take;
            left -= take;
            if keep < take {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn send(conn: &mut Conn, head: &[u8], body: &[u8]) -> Result<(), Error> {
    conn.buf.clear();
    conn.pos = 0;
    conn.t.write_all(head).map_err(io_error)?;
    conn.t.write_all(body).map_err(io_error)?;
    Write::flush(&mut conn.t).map_err(io_error)
}

/// The answer, and whether the connection may be kept.
fn read_response<S: Source>(
    conn: &mut Conn<S>,
    method: &str,
    max_body: usize,
    deadline: Instant,
) -> Result<(Response, bool), Error> {
    loop {
        let mut head_bytes = 0usize;
        let status_line = conn.line(MAX_HEAD, deadline)?;
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let status = parts.next().and_then(|s| s.parse::<u16>().ok()).filter(|s| (100..600).contains(s));
        let (Some(status), true) = (status, version.starts_with("HTTP/1.")) else {
            return Err(Error::Malformed(format!(
                "not an HTTP/1.x status line: '{}'",
                status_line.escape_debug()
            )));
        };
        let mut headers = Vec::new();
        loop {
            let line = conn.line(MAX_HEAD, deadline)?;
            head_bytes += line.len() + 2;
            if head_bytes > MAX_HEAD {
                return Err(Error::Malformed("response head too large".into()));
            }
            if line.is_empty() {
                break;
            }
            match line.split_once(':') {
                Some((n, v)) => headers.push((n.trim().to_owned(), v.trim().to_owned())),
                None => {
                    return Err(Error::Malformed(format!("bad response header '{}'", line.escape_debug())))
                }
            }
        }
        if (100..200).contains(&status) {
            continue; // 100 Continue and friends: the real answer follows
        }
        let mut response = Response { status, headers, body: Vec::new(), truncated: false };
        let has_token = |name: &str, token: &str| {
            response
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .any(|(_, v)| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        };
        let mut keep = !has_token("connection", "close") && version != "HTTP/1.0";
        let chunked = has_token("transfer-encoding", "chunked");
        let length = response.header("content-length").map(|v| v.trim().parse::<usize>());
        let mut body = Vec::new();
        let complete = if method == "HEAD" || status == 204 || status == 304 {
            true
        } else if chunked {
            chunked_body(conn, &mut body, max_body, deadline)?
        } else {
            match length {
                Some(Ok(n)) => conn.body(Some(n), &mut body, max_body, deadline)?,
                Some(Err(_)) => return Err(Error::Malformed("bad Content-Length".into())),
                None => {
                    keep = false;
                    conn.body(None, &mut body, max_body, deadline)?
                }
            }
        };
        response.body = body;
        response.truncated = !complete;
        return Ok((response, keep && complete));
    }
}

/// A chunked body; `false` when it was cut at `room`.
fn chunked_body<S: Source>(
    conn: &mut Conn<S>,
    out: &mut Vec<u8>,
    room: usize,
    deadline: Instant,
) -> Result<bool, Error> {
    loop {
        let line = conn.line(1024, deadline)?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| Error::Malformed(format!("bad chunk size '{}'", line.escape_debug())))?;
        if size == 0 {
            // Trailers, up to the empty line.
            let mut trailer_bytes = 0usize;
            loop {
                let t = conn.line(MAX_HEAD, deadline)?;
                trailer_bytes += t.len() + 2;
                if t.is_empty() {
                    return Ok(true);
                }
                if trailer_bytes > MAX_HEAD {
                    return Err(Error::Malformed("response trailers too large".into()));
                }
            }
        }
        if !conn.body(Some(size), out, room, deadline)? {
            return Ok(false);
        }
        if !conn.line(2, deadline)?.is_empty() {
            return Err(Error::Malformed("no CRLF after a chunk".into()));
        }
    }
}

#[cfg(test)]
mod tests;

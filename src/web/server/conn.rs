//! One accepted connection: its transport (plain or TLS, see [`crate::net::Transport`]),
//! the response bytes in flight, and what it is now — an HTTP client (with its request-head
//! buffer and deadlines) or, after an accepted STREAM request, a child's stream.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use super::{TlsConfig, HEAD_LIMIT, KEEP_BUFFER};
use crate::net::Transport;
use crate::stream::receiver::hub::StreamConn;
use crate::web::bind::SslMode;
use crate::web::files::FileBody;

pub(super) struct Conn {
    pub id: u64,
    pub peer: SocketAddr,
    pub listener: usize,
    pub transport: Transport,
    pub wbuf: Vec<u8>,
    pub wpos: usize,
    pub last_activity: Instant,
    /// The turn of the loop that last drove this connection.
    pub turn: u64,
    pub state: State,
}

/// What a connection carries.
pub(super) enum State {
    /// HTTP requests, and a STREAM request head until it is answered.
    Http(Http),
    /// After an accepted STREAM request: the child's stream.
    Stream(Box<StreamConn>),
}

/// The HTTP side of a connection.
pub(super) struct Http {
    /// The request head arriving, capped at [`HEAD_LIMIT`] + 1 bytes.
    pub rbuf: Vec<u8>,
    /// When the current (incomplete) request head started to arrive.
    pub request_started: Option<Instant>,
    pub close_when_flushed: bool,
    pub peer_eof: bool,
    /// `^SSL=optional|force` until the first byte decides (0x16 = a TLS handshake record).
    pub detect: Option<SslMode>,
    /// A plain-text client on a `^SSL=force` address: redirect to https.
    pub redirect_to_tls: bool,
    /// The rest of a static file being sent, a piece at a time after `wbuf` empties.
    pub body: Option<FileBody>,
}

impl Http {
    pub fn new(listener_ssl: SslMode) -> Http {
        Http {
            rbuf: Vec::new(),
            request_started: None,
            close_when_flushed: false,
            peer_eof: false,
            detect: (listener_ssl != SslMode::None).then_some(listener_ssl),
            redirect_to_tls: false,
            body: None,
        }
    }
}

/// How far [`Conn::flush`] got.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Flushed {
    /// Nothing is left to write.
    All,
    /// The socket is full: writable readiness will come.
    Full,
    /// The turn's share was written and more is left: continue next turn.
    Budget,
}

pub(super) enum Fill {
    Got,
    WouldBlock,
    Eof,
}

impl Conn {
    /// The child's stream, once the connection is one.
    pub fn stream(&self) -> Option<&StreamConn> {
        match &self.state {
            State::Stream(st) => Some(st),
            State::Http(_) => None,
        }
    }

    /// Reads stream bytes (plaintext) into `buf`: `Some(0)` at the end of the stream,
    /// `None` when nothing more is available now.
    pub fn read_stream(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.transport.read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(tls_context(e)),
        }
    }

    /// Writes what is pending, at most about `limit` bytes to the socket.
    pub fn flush(&mut self, limit: usize) -> io::Result<Flushed> {
        // rustls buffers what it is given: hand it no more than the turn's share.
        let chunk = if self.transport.is_tls() { 64 * 1024 } else { usize::MAX };
        let mut written = 0usize;
        while self.wpos < self.wbuf.len() {
            if written >= limit {
                return Ok(Flushed::Budget);
            }
            let end = self.wbuf.len().min(self.wpos.saturating_add((limit - written).min(chunk)));
            match self.transport.write(&self.wbuf[self.wpos..end]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.wpos += n;
                    written += n;
                    self.last_activity = crate::clock::now_monotonic();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::Full),
                Err(e) => return Err(e),
            }
        }
        if !self.transport.flush()? {
            return Ok(Flushed::Full);
        }
        self.wbuf.clear();
        self.wpos = 0;
        if self.wbuf.capacity() > KEEP_BUFFER {
            self.wbuf.shrink_to(KEEP_BUFFER);
        }
        Ok(Flushed::All)
    }

    /// Reads what the socket has into the request-head buffer, up to the head limit; on a
    /// `^SSL=` listener the first byte decides between TLS and plain text.
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    pub fn fill(&mut self, tls_config: &Option<TlsConfig>) -> io::Result<Fill> {
        let State::Http(h) = &mut self.state else { return Ok(Fill::WouldBlock) };
        let room = (HEAD_LIMIT + 1).saturating_sub(h.rbuf.len());
        if room == 0 {
            // parse() has already answered 431 for a full buffer; nothing to read into.
            return Ok(Fill::WouldBlock);
        }
        let r = match self.transport.read_into(&mut h.rbuf, room) {
            Ok(0) => Fill::Eof,
            Ok(_) => Fill::Got,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Fill::WouldBlock,
            Err(e) => return Err(tls_context(e)),
        };
        if let (Some(mode), Some(&first)) = (h.detect, h.rbuf.first()) {
            h.detect = None;
            if first == 0x16 {
                #[cfg(feature = "tls")]
                if let Some(cfg) = tls_config {
                    self.transport.accept_tls(cfg, &h.rbuf).map_err(tls_context)?;
                    h.rbuf.clear();
                    return Ok(Fill::Got);
                }
                return Err(io::Error::other("TLS handshake on a server without TLS"));
            }
            h.redirect_to_tls = mode == SslMode::Force;
        }
        Ok(r)
    }
}

/// The transport reports a TLS protocol error as `InvalidData` with rustls' reason; the log
/// lines name it as TLS.
fn tls_context(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::InvalidData => io::Error::other(format!("TLS: {e}")),
        _ => e,
    }
}

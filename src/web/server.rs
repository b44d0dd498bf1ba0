//! The event loop: one mio `Poll` owning every listening and accepted socket.
//!
//! Per connection: a read buffer capped at [`HEAD_LIMIT`] (requests have no bodies), one
//! response in flight (the next pipelined request is parsed only after the previous
//! response left), an idle deadline and a deadline for a request head to arrive. Over the
//! connection cap a client gets a `503` and is closed; a bad request gets its status and is
//! closed; nothing a client sends can affect another connection.
//!
//! Fairness: every connection gets a bounded share of each turn of the loop — an HTTP
//! connection one request and [`WRITE_PER_TURN`] bytes of response, a child's stream one
//! [`Budget`] (lines, bytes of lines, LZ4 blocks, a time slice) and [`STREAM_READ_BUDGET`]
//! bytes read. Readiness is edge-triggered, so a connection stopped with work left goes on
//! the `ready` list and is continued on the next turn, for which `poll` does not wait.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use super::bind::{BindSpec, SslMode};
use super::http::{self, Parsed, Request, Response, Status};
use super::api;
use super::context::{Context, Limits};
use crate::stream::receiver::hub::{StreamConn, Streaming, Upgrade, STREAM_IDLE_TIMEOUT};
use crate::stream::receiver::{Budget, Flow};

/// Largest request head accepted (request line and headers).
pub const HEAD_LIMIT: usize = 16 * 1024;
/// Responses larger than this keep their buffer; smaller idle buffers are trimmed to it.
const KEEP_BUFFER: usize = 64 * 1024;
const WAKER: Token = Token(usize::MAX);
const SWEEP_EVERY: Duration = Duration::from_millis(500);
/// Bytes read from one stream connection before the loop turns to the others (the
/// receiver's [`Budget`] usually ends the turn first).
const STREAM_READ_BUDGET: usize = 256 * 1024;
/// Bytes of response written to one HTTP connection per turn: a client reading a large
/// response as fast as loopback allows still lets the others in between.
const WRITE_PER_TURN: usize = 256 * 1024;

#[cfg(feature = "tls")]
type TlsConfig = Arc<rustls::ServerConfig>;
#[cfg(not(feature = "tls"))]
type TlsConfig = ();

pub(crate) struct Listener {
    pub sock: TcpListener,
    pub addr: SocketAddr,
    pub ssl: SslMode,
    pub acl: Vec<String>,
}

/// Binds a listening socket (SO_REUSEADDR; `[::]` is dual-stack where the kernel allows,
/// otherwise IPv4 `0.0.0.0` is tried) with a queue of `backlog` connections not yet accepted
/// (`[web] listen backlog`; the kernel caps it at `net.core.somaxconn`). A burst of
/// connections beyond the queue would have its handshakes dropped and retried by the clients
/// a second later.
pub(crate) fn listen(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let l = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) if addr.ip().is_unspecified() && addr.is_ipv6() => {
            log::warn!("web: cannot listen on {addr} ({e}); trying IPv4 only");
            TcpListener::bind(SocketAddr::new(IpAddr::from([0, 0, 0, 0]), addr.port()))?
        }
        Err(e) => return Err(e),
    };
    set_backlog(&l, backlog)?;
    Ok(l)
}

/// `listen(2)` again on a listening socket: Linux takes the new queue length.
fn set_backlog(l: &TcpListener, backlog: u32) -> io::Result<()> {
    crate::sys::net::set_listen_backlog(l, backlog)
}

enum Transport {
    Plain,
    /// `^SSL=optional|force`: the first byte decides (0x16 = a TLS handshake record).
    Detect,
    #[cfg(feature = "tls")]
    Tls(Box<rustls::ServerConnection>),
}

struct Conn {
    id: u64,
    sock: TcpStream,
    peer: SocketAddr,
    listener: usize,
    transport: Transport,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    wpos: usize,
    last_activity: Instant,
    /// When the current (incomplete) request head started to arrive.
    request_started: Option<Instant>,
    close_when_flushed: bool,
    peer_eof: bool,
    /// A plain-text client on a `^SSL=force` address: redirect to https.
    redirect_to_tls: bool,
    listener_ssl: SslMode,
    /// After an accepted STREAM request: the child's stream.
    stream: Option<Box<StreamConn>>,
    /// The turn of the loop that last drove this connection.
    turn: u64,
}

/// How far [`Conn::flush`] got.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Flushed {
    /// Nothing is left to write.
    All,
    /// The socket is full: writable readiness will come.
    Full,
    /// The turn's share was written and more is left: continue next turn.
    Budget,
}

enum Fill {
    Got,
    WouldBlock,
    Eof,
}

pub(crate) struct EventLoop {
    poll: Poll,
    listeners: Vec<Listener>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    open: usize,
    ctx: Context,
    limits: Limits,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    tls: Option<TlsConfig>,
    stop: Arc<AtomicBool>,
    next_id: u64,
    accept_paused: bool,
    refused_over_cap: u64,
    /// The parent side of streaming; `None`: STREAM requests are closed.
    streaming: Option<Streaming>,
    /// Where stream connections read into (one buffer for all of them).
    scratch: Vec<u8>,
    /// Connections that stopped at their budget with work left: `(slot, connection id)`,
    /// continued on the next turn without waiting for readiness.
    ready: Vec<(usize, u64)>,
    /// Turns of the loop so far.
    turn: u64,
}

impl EventLoop {
    pub(crate) fn new(
        listeners: Vec<Listener>,
        ctx: Context,
        limits: Limits,
        tls: Option<TlsConfig>,
        stop: Arc<AtomicBool>,
        streaming: Option<Streaming>,
    ) -> io::Result<(EventLoop, Arc<Waker>)> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let mut listeners = listeners;
        for (i, l) in listeners.iter_mut().enumerate() {
            poll.registry().register(&mut l.sock, Token(i), Interest::READABLE)?;
        }
        let el = EventLoop {
            poll,
            listeners,
            conns: Vec::new(),
            free: Vec::new(),
            open: 0,
            ctx,
            limits,
            tls,
            stop,
            next_id: 1,
            accept_paused: false,
            refused_over_cap: 0,
            streaming,
            scratch: vec![0; 16 * 1024],
            ready: Vec::new(),
            turn: 0,
        };
        Ok((el, waker))
    }

    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut last_sweep = Instant::now();
        // The other half of `ready`'s double buffer: no allocation per turn under load.
        let mut spare: Vec<(usize, u64)> = Vec::new();
        while !self.stop.load(Ordering::SeqCst) {
            let timeout = if self.ready.is_empty() { SWEEP_EVERY } else { Duration::ZERO };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("web: poll failed: {e}; the web server stops");
                break;
            }
            self.turn += 1;
            // Connections left with work on the previous turn (taken before the events: what
            // is queued during this turn waits for the next).
            let mut pending = std::mem::replace(&mut self.ready, std::mem::take(&mut spare));
            for ev in events.iter() {
                let t = ev.token();
                if t == WAKER {
                    continue;
                }
                if t.0 < self.listeners.len() {
                    self.accept(t.0);
                } else {
                    self.drive(t.0 - self.listeners.len());
                }
            }
            // One already driven by an event this turn has had its share (and queued itself
            // again if it needs more).
            let turn = self.turn;
            for (slot, id) in pending.drain(..) {
                if self.conns.get(slot).and_then(Option::as_ref).is_some_and(|c| c.id == id && c.turn != turn)
                {
                    self.drive(slot);
                }
            }
            spare = pending;
            if last_sweep.elapsed() >= SWEEP_EVERY {
                last_sweep = Instant::now();
                self.sweep();
            }
        }
        let open = self.open;
        for slot in 0..self.conns.len() {
            self.close(slot);
        }
        log::info!("web: stopped ({open} connection(s) closed)");
    }

    fn accept(&mut self, li: usize) {
        loop {
            let (mut sock, peer) = match self.listeners[li].sock.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: stop accepting until the next sweep.
                    if !self.accept_paused {
                        log::error!(
                            "web: accept on {} failed: {e}; pausing accepts",
                            self.listeners[li].addr
                        );
                    }
                    self.accept_paused = true;
                    return;
                }
            };
            if !self.ctx.connection_allowed(peer.ip()) {
                log::info!("web: {peer}: connection refused by [web] allow connections from");
                continue;
            }
            if self.open >= self.limits.max_connections {
                // Best effort, never blocking: the socket is fresh, its buffer empty.
                let _ = sock.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 32\r\nConnection: close\r\n\r\ntoo many connections; try later\n");
                self.refused_over_cap += 1;
                continue;
            }
            let _ = sock.set_nodelay(true);
            let slot = match self.free.pop() {
                Some(s) => s,
                None => {
                    self.conns.push(None);
                    self.conns.len() - 1
                }
            };
            let token = Token(self.listeners.len() + slot);
            if let Err(e) =
                self.poll.registry().register(&mut sock, token, Interest::READABLE | Interest::WRITABLE)
            {
                log::error!("web: {peer}: cannot register the connection: {e}");
                self.free.push(slot);
                continue;
            }
            let listener_ssl = self.listeners[li].ssl;
            let transport = match listener_ssl {
                SslMode::None => Transport::Plain,
                _ => Transport::Detect,
            };
            let id = self.next_id;
            self.next_id += 1;
            self.conns[slot] = Some(Conn {
                id,
                sock,
                peer,
                listener: li,
                transport,
                rbuf: Vec::new(),
                wbuf: Vec::new(),
                wpos: 0,
                last_activity: Instant::now(),
                request_started: None,
                close_when_flushed: false,
                peer_eof: false,
                redirect_to_tls: false,
                listener_ssl,
                stream: None,
                turn: 0,
            });
            self.open += 1;
            // The request usually arrived with the connection: answer it in this turn.
            self.drive(slot);
        }
    }

    fn close(&mut self, slot: usize) {
        if let Some(mut c) = self.conns.get_mut(slot).and_then(Option::take) {
            if let Some(st) = c.stream.take() {
                let now = crate::clock::now_realtime_sec();
                log::info!("{}: disconnected (completed {} updates).", st.name, st.receiver.updates());
                if st.receiver.paused() > 0 {
                    log::info!(
                        "{}: {} turn(s) of the event loop ended at this child's work budget.",
                        st.name,
                        st.receiver.paused()
                    );
                }
                if let Some(s) = self.streaming.as_mut() {
                    s.detach(&st.guid, c.id, &st.host, now);
                }
            }
            let _ = self.poll.registry().deregister(&mut c.sock);
            self.free.push(slot);
            self.open -= 1;
        }
    }

    /// Runs a connection as far as it can go without blocking.
    fn drive(&mut self, slot: usize) {
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else { return };
        conn.turn = self.turn;
        let keep = if conn.stream.is_some() {
            self.stream_step(&mut conn, slot)
        } else {
            self.step(&mut conn, slot)
        };
        self.conns[slot] = Some(conn);
        if !keep {
            self.close(slot);
        }
    }

    /// One HTTP connection's share of a turn: at most one request answered and
    /// [`WRITE_PER_TURN`] bytes written; what is left waits on the `ready` list.
    fn step(&mut self, conn: &mut Conn, slot: usize) -> bool {
        let mut answered = false;
        loop {
            match conn.flush(WRITE_PER_TURN) {
                Ok(Flushed::All) => {}
                Ok(Flushed::Full) => return true, // wait until writable
                Ok(Flushed::Budget) => {
                    self.ready.push((slot, conn.id));
                    return true;
                }
                Err(e) => {
                    log::debug!("web: {}: write failed: {e}", conn.peer);
                    return false;
                }
            }
            if conn.close_when_flushed {
                return false;
            }
            if answered {
                // A pipelined request, or unread bytes in the socket: next turn.
                self.ready.push((slot, conn.id));
                return true;
            }
            // A STREAM head goes to the receiver's own parser: 1.37 children put raw spaces
            // in the query, which no HTTP request line may hold.
            if self.streaming.is_some() && conn.rbuf.starts_with(b"STREAM ") {
                if let Some(keep) = self.stream_request(conn, slot) {
                    return keep;
                }
            } else if !conn.rbuf.is_empty() {
                match http::parse(&conn.rbuf, HEAD_LIMIT) {
                    Parsed::Http(req, used) => {
                        conn.rbuf.drain(..used);
                        conn.request_started = if conn.rbuf.is_empty() { None } else { Some(Instant::now()) };
                        self.respond(conn, &req);
                        answered = true;
                        continue;
                    }
                    Parsed::Stream { query, .. } => {
                        if self.streaming.is_none() {
                            let host =
                                query.split('&').find_map(|kv| kv.strip_prefix("hostname=")).unwrap_or("?");
                            log::info!(
                                "STREAM {host} [receive from [{}]:{}]: streaming is not enabled on this node; closing",
                                conn.peer.ip(),
                                conn.peer.port()
                            );
                            return false;
                        }
                        if let Some(keep) = self.stream_request(conn, slot) {
                            return keep;
                        }
                    }
                    Parsed::Bad(status, reason) => {
                        log::info!("web: {}: {} {reason}; closing", conn.peer, status.code());
                        let r = Response::text(status, reason);
                        conn.rbuf.clear();
                        conn.close_when_flushed = true;
                        http::write_head(&mut conn.wbuf, &r, r.body.len(), false, false, "");
                        conn.wbuf.extend_from_slice(&r.body);
                        access_log(conn, "-", status, r.body.len(), r.body.len(), Duration::ZERO, "-");
                        continue;
                    }
                    Parsed::Incomplete => {}
                }
            }
            if conn.peer_eof {
                return false;
            }
            let before = conn.rbuf.len();
            match conn.fill(&self.tls) {
                Ok(Fill::Got) => {
                    if before == 0 && !conn.rbuf.is_empty() {
                        conn.request_started = Some(Instant::now());
                    }
                    conn.last_activity = Instant::now();
                }
                Ok(Fill::WouldBlock) => return true,
                Ok(Fill::Eof) => conn.peer_eof = true,
                Err(e) => {
                    log::debug!("web: {}: {e}; closing", conn.peer);
                    return false;
                }
            }
        }
    }

    fn respond(&mut self, conn: &mut Conn, req: &Request) {
        let started = Instant::now();
        let listener = &self.listeners[conn.listener];
        let mut resp = if conn.redirect_to_tls {
            conn.close_when_flushed = true;
            let host = req.host.clone().unwrap_or_else(|| listener.addr.to_string());
            Response::redirect(format!("https://{host}{}", req.target))
        } else if req.path == "/netdata.conf" && !BindSpec::allows(&listener.acl, "netdata.conf")
            || req.path != "/netdata.conf" && !BindSpec::allows(&listener.acl, "dashboard")
        {
            Response::text(Status::Forbidden, "You are not allowed to access this resource.")
        } else {
            api::handle(&self.ctx, req, conn.peer.ip())
        };
        let keep_alive = req.keep_alive && !conn.close_when_flushed && !conn.peer_eof;
        if !keep_alive {
            conn.close_when_flushed = true;
        }
        let size = resp.body.len();
        let mut gzip = false;
        if resp.gzipped {
            if req.accepts_gzip {
                gzip = true;
            } else if let Some(plain) = super::gzip::decompress(&resp.body) {
                resp.body = plain;
                resp.gzipped = false;
            }
        } else if let Some(level) = self.limits.gzip_level {
            if req.accepts_gzip && resp.body.len() >= 1024 {
                resp.body = super::gzip::compress(&resp.body, level);
                gzip = true;
            }
        }
        http::write_head(
            &mut conn.wbuf,
            &resp,
            resp.body.len(),
            gzip,
            keep_alive,
            &self.limits.extra_headers,
        );
        if req.method != http::Method::Head {
            conn.wbuf.extend_from_slice(&resp.body);
        }
        access_log(
            conn,
            req.method.as_str(),
            resp.status,
            resp.body.len(),
            size,
            started.elapsed(),
            &req.target,
        );
    }

    /// A STREAM request head in the read buffer: answers it. `None` while the head is
    /// incomplete; `Some(keep)` once answered.
    fn stream_request(&mut self, conn: &mut Conn, slot: usize) -> Option<bool> {
        let Some(streaming) = self.streaming.as_mut() else { return Some(false) };
        let line_end = conn.rbuf.iter().position(|&b| b == b'\n').unwrap_or(conn.rbuf.len());
        let line = String::from_utf8_lossy(&conn.rbuf[..line_end]);
        let query = line
            .strip_prefix("STREAM ")
            .map(|l| l.trim_end().trim_end_matches("HTTP/1.1").trim_end_matches("HTTP/1.0").trim_end())
            .unwrap_or("")
            .to_owned();
        let query = query.as_str();
        if conn.redirect_to_tls {
            log::error!(
                "STREAM [receive from [{}]:{}]: a plain-text STREAM request on an address with ^SSL=force. Forbidding access.",
                conn.peer.ip(),
                conn.peer.port()
            );
            return Some(false);
        }
        let allows = BindSpec::allows(&self.listeners[conn.listener].acl, "streaming");
        let now = crate::clock::now_realtime_sec();
        match streaming.upgrade(&self.ctx.hosts, &conn.rbuf, conn.peer, allows, now) {
            Upgrade::Incomplete => None,
            Upgrade::Close => Some(false),
            Upgrade::Refuse { reply, status } => {
                conn.rbuf.clear();
                conn.wbuf.extend_from_slice(reply.as_bytes());
                conn.close_when_flushed = true;
                conn.request_started = None;
                stream_access_log(conn, status, query);
                Some(self.step(conn, slot))
            }
            Upgrade::Accept(a) => {
                let a = *a;
                if let Some(old) = a.replaces {
                    log::info!("{}: closing the stale receiver of the same machine GUID", a.name);
                    if self.conns.get(old.slot).and_then(Option::as_ref).is_some_and(|c| c.id == old.conn_id)
                    {
                        self.close(old.slot);
                    }
                }
                let Some(streaming) = self.streaming.as_mut() else { return Some(false) };
                streaming.attach(a.guid, conn.id, slot, now);
                stream_access_log(conn, 200, query);
                conn.wbuf.extend_from_slice(a.reply.as_bytes());
                let rest = conn.rbuf.split_off(a.head_len.min(conn.rbuf.len()));
                conn.rbuf = Vec::new();
                conn.request_started = None;
                let host = Arc::clone(a.receiver.host());
                let mut st = Box::new(StreamConn { receiver: a.receiver, guid: a.guid, name: a.name, host });
                // Bytes that came with the head are applied within the stream's budget.
                st.receiver.queue(&rest);
                conn.stream = Some(st);
                Some(self.stream_step(conn, slot))
            }
        }
    }

    /// Runs a child's stream as far as it goes without blocking, or until its [`Budget`]
    /// for this turn (or [`STREAM_READ_BUDGET`]) is spent: what is left is continued on the
    /// next turn, before anything more is read.
    fn stream_step(&mut self, conn: &mut Conn, slot: usize) -> bool {
        let mut budget = Budget::per_turn();
        let mut read = 0;
        let mut flow = match self.stream_apply(conn, None, &mut budget) {
            Some(flow) => flow,
            None => return false,
        };
        loop {
            if let Err(e) = conn.flush(usize::MAX) {
                if let Some(st) = conn.stream.as_ref() {
                    log::error!("{}: cannot write to the child: {e}; closing the connection.", st.name);
                }
                return false;
            }
            if flow == Flow::Paused || read >= STREAM_READ_BUDGET {
                self.ready.push((slot, conn.id));
                return true;
            }
            let n = match conn.read_stream(&mut self.scratch) {
                Ok(Some(0)) => {
                    if let Some(st) = conn.stream.as_ref() {
                        log::info!("{}: the child closed the connection.", st.name);
                    }
                    return false;
                }
                Ok(Some(n)) => n,
                Ok(None) => return true,
                Err(e) => {
                    if let Some(st) = conn.stream.as_ref() {
                        log::error!("{}: read failed: {e}; closing the connection.", st.name);
                    }
                    return false;
                }
            };
            read += n;
            conn.last_activity = Instant::now();
            let scratch = std::mem::take(&mut self.scratch);
            let applied = self.stream_apply(conn, Some(&scratch[..n]), &mut budget);
            self.scratch = scratch;
            flow = match applied {
                Some(flow) => flow,
                None => return false,
            };
        }
    }

    /// Hands `bytes` (or, with `None`, what the receiver kept from an earlier turn) to the
    /// child's receiver; `None` when the connection must close (logged).
    fn stream_apply(&mut self, conn: &mut Conn, bytes: Option<&[u8]>, budget: &mut Budget) -> Option<Flow> {
        let st = conn.stream.as_mut()?;
        let now = crate::clock::now_realtime_usec();
        let result = match bytes {
            Some(b) => st.receiver.feed_within(b, now, &mut conn.wbuf, budget),
            None if st.receiver.has_held_input() => st.receiver.resume(now, &mut conn.wbuf, budget),
            None => return Some(Flow::Done),
        };
        match result {
            Ok(flow) => {
                if let Some(s) = self.streaming.as_mut() {
                    s.data(&st.guid, crate::clock::now_realtime_sec());
                }
                Some(flow)
            }
            Err(why) => {
                log::error!("{}: {why}; closing the connection.", st.name);
                None
            }
        }
    }

    /// Deadlines and paused accepts.
    fn sweep(&mut self) {
        let now = Instant::now();
        if self.refused_over_cap > 0 {
            log::warn!(
                "web: {} connection(s) refused: at the limit of {} ([web] max connections)",
                self.refused_over_cap,
                self.limits.max_connections
            );
            self.refused_over_cap = 0;
        }
        if let Some(s) = self.streaming.as_mut() {
            s.cleanup(&self.ctx.hosts, crate::clock::now_realtime_sec());
        }
        if self.accept_paused {
            self.accept_paused = false;
            for li in 0..self.listeners.len() {
                self.accept(li);
            }
        }
        for slot in 0..self.conns.len() {
            let Some(c) = self.conns[slot].as_mut() else { continue };
            let timed_out =
                c.request_started.is_some_and(|t| now.duration_since(t) > self.limits.request_timeout);
            if timed_out {
                log::info!(
                    "web: {}: request head not complete in {:?}; closing",
                    c.peer,
                    self.limits.request_timeout
                );
                let r = Response::text(Status::RequestTimeout, "request timeout");
                let mut out = Vec::new();
                http::write_head(&mut out, &r, r.body.len(), false, false, "");
                out.extend_from_slice(&r.body);
                if matches!(c.transport, Transport::Plain) && c.wbuf.len() == c.wpos {
                    let _ = c.sock.write(&out);
                }
                self.close(slot);
            } else if c.stream.is_some() {
                if now.duration_since(c.last_activity) > STREAM_IDLE_TIMEOUT {
                    if let Some(st) = c.stream.as_ref() {
                        log::error!(
                            "{}: no data for {:?}; closing the connection.",
                            st.name,
                            STREAM_IDLE_TIMEOUT
                        );
                    }
                    self.close(slot);
                }
            } else if now.duration_since(c.last_activity) > self.limits.idle_timeout {
                log::debug!("web: {}: idle for {:?}; closing", c.peer, self.limits.idle_timeout);
                self.close(slot);
            }
        }
    }
}

fn access_log(
    conn: &Conn,
    method: &str,
    status: Status,
    sent: usize,
    size: usize,
    took: Duration,
    target: &str,
) {
    let ratio = if size > 0 { sent as f64 * 100.0 / size as f64 } else { 100.0 };
    crate::logging::access(&format!(
        "{}: {} '{}' (sent/all = {sent}/{size} bytes {ratio:.0}%, prep = {:.3} ms) {} '{}'",
        conn.id,
        conn.peer,
        method,
        took.as_secs_f64() * 1000.0,
        status.code(),
        target.escape_debug()
    ));
}

/// The access-log line of a STREAM request (Netdata logs the query as the target).
fn stream_access_log(conn: &Conn, status: u16, query: &str) {
    crate::logging::access(&format!(
        "{}: {} 'STREAM' (sent/all = 0/0 bytes -0%, prep = 0.000 ms) {status} '{}'",
        conn.id,
        conn.peer,
        query.escape_debug()
    ));
}

impl Conn {
    /// Reads stream bytes (plaintext) into `buf`: `Some(0)` at the end of the stream,
    /// `None` when nothing more is available now.
    fn read_stream(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match &mut self.transport {
            Transport::Plain | Transport::Detect => loop {
                match self.sock.read(buf) {
                    Ok(n) => return Ok(Some(n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            },
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => loop {
                match tls.reader().read(buf) {
                    Ok(n) => return Ok(Some(n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                match tls.read_tls(&mut self.sock) {
                    Ok(0) => return Ok(Some(0)),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
                if let Err(e) = tls.process_new_packets() {
                    let _ = tls.write_tls(&mut self.sock);
                    return Err(io::Error::other(format!("TLS: {e}")));
                }
            },
        }
    }

    /// Writes what is pending, at most about `limit` bytes to the socket.
    fn flush(&mut self, limit: usize) -> io::Result<Flushed> {
        let mut written = 0usize;
        match &mut self.transport {
            Transport::Plain | Transport::Detect => {
                while self.wpos < self.wbuf.len() {
                    if written >= limit {
                        return Ok(Flushed::Budget);
                    }
                    let end = self.wbuf.len().min(self.wpos.saturating_add(limit - written));
                    match self.sock.write(&self.wbuf[self.wpos..end]) {
                        Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                        Ok(n) => {
                            self.wpos += n;
                            written += n;
                            self.last_activity = Instant::now();
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::Full),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => loop {
                // rustls buffers what it is given: hand it no more than the turn's share.
                while self.wpos < self.wbuf.len() && !tls.wants_write() {
                    let end = self.wbuf.len().min(self.wpos.saturating_add(limit.min(64 * 1024)));
                    let n = tls.writer().write(&self.wbuf[self.wpos..end])?;
                    if n == 0 {
                        break;
                    }
                    self.wpos += n;
                }
                if !tls.wants_write() {
                    if self.wpos < self.wbuf.len() {
                        continue;
                    }
                    break;
                }
                if written >= limit {
                    return Ok(Flushed::Budget);
                }
                match tls.write_tls(&mut self.sock) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        written += n;
                        self.last_activity = Instant::now();
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::Full),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            },
        }
        self.wbuf.clear();
        self.wpos = 0;
        if self.wbuf.capacity() > KEEP_BUFFER {
            self.wbuf.shrink_to(KEEP_BUFFER);
        }
        Ok(Flushed::All)
    }

    /// Reads what the socket has, up to the head limit.
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    fn fill(&mut self, tls_config: &Option<TlsConfig>) -> io::Result<Fill> {
        let room = (HEAD_LIMIT + 1).saturating_sub(self.rbuf.len());
        if room == 0 {
            // parse() has already answered 431 for a full buffer; nothing to read into.
            return Ok(Fill::WouldBlock);
        }
        let mut buf = [0u8; 4096];
        let want = room.min(buf.len());
        match &mut self.transport {
            Transport::Plain => read_plain(&mut self.sock, &mut buf[..want], &mut self.rbuf),
            Transport::Detect => {
                let r = read_plain(&mut self.sock, &mut buf[..want], &mut self.rbuf)?;
                if let Some(&first) = self.rbuf.first() {
                    if first == 0x16 {
                        #[cfg(feature = "tls")]
                        if let Some(cfg) = tls_config {
                            let mut tls = rustls::ServerConnection::new(Arc::clone(cfg))
                                .map_err(|e| io::Error::other(e.to_string()))?;
                            let mut hello = &self.rbuf[..];
                            while !hello.is_empty() {
                                tls.read_tls(&mut hello)?;
                            }
                            self.rbuf.clear();
                            self.transport = Transport::Tls(Box::new(tls));
                            return self.tls_packets().map(|_| Fill::Got);
                        }
                        return Err(io::Error::other("TLS handshake on a server without TLS"));
                    }
                    self.redirect_to_tls = self.listener_ssl == SslMode::Force;
                    self.transport = Transport::Plain;
                }
                Ok(r)
            }
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => {
                // Plaintext rustls still holds (pipelined requests beyond the head limit).
                let mut probe = [0u8; 4096];
                let room = (HEAD_LIMIT + 1).saturating_sub(self.rbuf.len()).min(probe.len());
                match tls.reader().read(&mut probe[..room]) {
                    Ok(0) => return Ok(Fill::Eof),
                    Ok(n) => {
                        self.rbuf.extend_from_slice(&probe[..n]);
                        return Ok(Fill::Got);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                match tls.read_tls(&mut self.sock) {
                    Ok(0) => return Ok(Fill::Eof),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Fill::WouldBlock),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Fill::Got),
                    Err(e) => return Err(e),
                }
                self.tls_packets()
            }
        }
    }

    /// Processes received TLS records and moves plaintext into the read buffer.
    #[cfg(feature = "tls")]
    fn tls_packets(&mut self) -> io::Result<Fill> {
        let Transport::Tls(tls) = &mut self.transport else { return Ok(Fill::WouldBlock) };
        if let Err(e) = tls.process_new_packets() {
            // Send the alert, then close.
            let _ = tls.write_tls(&mut self.sock);
            return Err(io::Error::other(format!("TLS: {e}")));
        }
        let mut buf = [0u8; 4096];
        loop {
            let room = (HEAD_LIMIT + 1).saturating_sub(self.rbuf.len()).min(buf.len());
            if room == 0 {
                break;
            }
            match tls.reader().read(&mut buf[..room]) {
                Ok(0) => return Ok(Fill::Eof),
                Ok(n) => self.rbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(Fill::Got)
    }
}

fn read_plain(sock: &mut TcpStream, buf: &mut [u8], into: &mut Vec<u8>) -> io::Result<Fill> {
    loop {
        match sock.read(buf) {
            Ok(0) => return Ok(Fill::Eof),
            Ok(n) => {
                into.extend_from_slice(&buf[..n]);
                return Ok(Fill::Got);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Fill::WouldBlock),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

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
//!
//! Here: listening and the loop (accept, drive, close, the sweep of deadlines);
//! `conn.rs` a connection and its I/O, `requests.rs` HTTP requests, `upgrade.rs` STREAM
//! requests and a child's stream once accepted.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};

use super::bind::SslMode;
use super::context::{Context, Limits};
use super::files::Workspace;
use super::http::{self, Response, Status};
use crate::clock::now_monotonic;
use crate::net::{Socket, Transport};
use crate::stream::receiver::hub::{Streaming, STREAM_IDLE_TIMEOUT};

mod conn;
mod requests;
mod upgrade;

use conn::{Conn, Http, State};

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
    /// The compressor and buffers static files are sent through, one piece at a time.
    files: Workspace,
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
            tls,
            stop,
            next_id: 1,
            accept_paused: false,
            refused_over_cap: 0,
            streaming,
            scratch: vec![0; 16 * 1024],
            ready: Vec::new(),
            turn: 0,
            files: Workspace::new(limits.gzip_level.unwrap_or(3)),
            limits,
        };
        Ok((el, waker))
    }

    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut last_sweep = now_monotonic();
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
                last_sweep = now_monotonic();
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
            let mut transport = Transport::plain(Socket::Tcp(sock));
            let slot = match self.free.pop() {
                Some(s) => s,
                None => {
                    self.conns.push(None);
                    self.conns.len() - 1
                }
            };
            let token = Token(self.listeners.len() + slot);
            if let Err(e) =
                transport.register(self.poll.registry(), token, Interest::READABLE | Interest::WRITABLE)
            {
                log::error!("web: {peer}: cannot register the connection: {e}");
                self.free.push(slot);
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            self.conns[slot] = Some(Conn {
                id,
                peer,
                listener: li,
                transport,
                wbuf: Vec::new(),
                wpos: 0,
                last_activity: now_monotonic(),
                turn: 0,
                state: State::Http(Http::new(self.listeners[li].ssl)),
            });
            self.open += 1;
            // The request usually arrived with the connection: answer it in this turn.
            self.drive(slot);
        }
    }

    fn close(&mut self, slot: usize) {
        if let Some(mut c) = self.conns.get_mut(slot).and_then(Option::take) {
            if let State::Stream(st) = &c.state {
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
            let _ = c.transport.deregister(self.poll.registry());
            self.free.push(slot);
            self.open -= 1;
        }
    }

    /// Runs a connection as far as it can go without blocking.
    fn drive(&mut self, slot: usize) {
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else { return };
        conn.turn = self.turn;
        let keep = if matches!(conn.state, State::Stream(_)) {
            self.stream_step(&mut conn, slot)
        } else {
            self.step(&mut conn, slot)
        };
        self.conns[slot] = Some(conn);
        if !keep {
            self.close(slot);
        }
    }

    /// Deadlines and paused accepts.
    fn sweep(&mut self) {
        let now = now_monotonic();
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
            let timed_out = match &c.state {
                State::Http(h) => {
                    h.request_started.is_some_and(|t| now.duration_since(t) > self.limits.request_timeout)
                }
                State::Stream(_) => false,
            };
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
                let plain = matches!(&c.state, State::Http(h) if h.detect.is_none()) && !c.transport.is_tls();
                if plain && c.wbuf.len() == c.wpos {
                    let _ = c.transport.write(&out);
                }
                self.close(slot);
            } else if let Some(st) = c.stream() {
                if now.duration_since(c.last_activity) > STREAM_IDLE_TIMEOUT {
                    log::error!(
                        "{}: no data for {:?}; closing the connection.",
                        st.name,
                        STREAM_IDLE_TIMEOUT
                    );
                    self.close(slot);
                }
            } else if now.duration_since(c.last_activity) > self.limits.idle_timeout {
                log::debug!("web: {}: idle for {:?}; closing", c.peer, self.limits.idle_timeout);
                self.close(slot);
            }
        }
    }
}

//! The sender: one thread per streamed host that owns the connection to the parent.
//!
//! Collector threads append protocol text to a fixed [`RingBuffer`] through the host's
//! [`Observer`]; this thread connects (TCP, unix socket or TLS), performs the handshake,
//! fails over across destinations with a jittered back-off, compresses whole batches of
//! lines into LZ4 blocks, writes without blocking, and answers the parent's replication
//! requests from the host's database (or its RAM window in memory mode `none`) without
//! letting them crowd out live data.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::Mutex;

use super::destination::{Destination, Endpoint};
use super::handshake::{self, Backoff, Rejection, Reply, Request};
use super::lz4::{Compressor, MAX_BLOCK_INPUT};
use super::ring::RingBuffer;
use super::tls::{self, TlsSettings};
use crate::clock;
use crate::protocol::{emit, Caps, ReplayChart, Words};
use crate::rrd::{ChartView, Host, Observer, StreamState};

/// Chooses the charts that are streamed (`send charts matching`, on id or name).
pub type ChartFilter = Box<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// Everything the sender needs from `stream.conf`.
pub struct Settings {
    pub destinations: Vec<Destination>,
    pub timeout: Duration,
    pub reconnect_delay: Duration,
    pub max_backoff: Duration,
    pub buffer_size: usize,
    pub compression: bool,
    /// Offer and answer replication (`[db] enable replication`, per host for a proxy).
    pub replication: bool,
    pub resync_iterations: u32,
    pub tls: TlsSettings,
    pub send_charts: ChartFilter,
    /// The STREAM request; its `caps` are filled in by the sender.
    pub request: Request,
}

/// A running sender; stopping it (or dropping it) closes the connection.
pub struct Sender {
    shared: Arc<Shared>,
    host: Arc<Host>,
    stop_tx: Option<crossbeam_channel::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Counters of a sender, for self-monitoring.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub connected: bool,
    pub buffer_used: usize,
    pub buffer_size: usize,
    /// Wrapping counters.
    pub bytes_sent: u32,
    pub commits_dropped: u32,
}

struct Shared {
    hostname: String,
    ring: Mutex<RingBuffer>,
    /// Connection generation; 0 while not connected (nothing is queued then).
    generation: AtomicU32,
    caps: AtomicU32,
    waker: Mutex<Option<Arc<Waker>>>,
    stop: AtomicBool,
    resync_iterations: u32,
    send_charts: ChartFilter,
    bytes_sent: AtomicU32,
    dropped: AtomicU32,
    dropped_logged: AtomicU32,
}

impl Shared {
    fn stats(&self) -> Stats {
        let ring = self.ring.lock();
        Stats {
            connected: self.generation.load(Ordering::Acquire) != 0,
            buffer_used: ring.len(),
            buffer_size: ring.capacity(),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            commits_dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

const SOCKET: Token = Token(0);
const WAKE: Token = Token(1);
/// A parent line longer than this ends the connection.
const MAX_PARENT_LINE: usize = 16 * 1024;
/// How long the first bytes of a batch wait for the rest of the second's collections.
const BATCH_DELAY: Duration = Duration::from_millis(250);
/// At most this many replication requests wait for buffer space.
const MAX_PENDING_REPLAYS: usize = 4096;

thread_local! {
    static SCRATCH: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(4096));
}

impl Sender {
    /// Starts streaming `host`: installs the observer and the sender thread.
    pub fn start(host: Arc<Host>, mut settings: Settings) -> io::Result<Sender> {
        let shared = Arc::new(Shared {
            hostname: host.hostname().to_owned(),
            ring: Mutex::new(RingBuffer::with_capacity(settings.buffer_size.max(64 * 1024))),
            generation: AtomicU32::new(0),
            caps: AtomicU32::new(0),
            waker: Mutex::new(None),
            stop: AtomicBool::new(false),
            resync_iterations: settings.resync_iterations,
            send_charts: std::mem::replace(&mut settings.send_charts, Box::new(|_, _| true)),
            bytes_sent: AtomicU32::new(0),
            dropped: AtomicU32::new(0),
            dropped_logged: AtomicU32::new(0),
        });
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(0);
        host.set_observer(Some(Arc::clone(&shared) as Arc<dyn Observer>));
        let thread = {
            let shared = Arc::clone(&shared);
            let host = Arc::clone(&host);
            std::thread::Builder::new()
                .name("stream.sender".into())
                .stack_size(256 * 1024)
                .spawn(move || run(&shared, &host, settings, &stop_rx))?
        };
        Ok(Sender { shared, host, stop_tx: Some(stop_tx), thread: Some(thread) })
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// A reader of [`Sender::stats`] that other threads can keep (self-monitoring).
    pub fn stats_reader(&self) -> impl Fn() -> Stats + Send + Sync + 'static {
        let shared = Arc::clone(&self.shared);
        move || shared.stats()
    }

    /// Closes the connection and ends the thread.
    pub fn stop(&mut self) {
        self.host.set_observer(None);
        self.shared.stop.store(true, Ordering::Release);
        self.stop_tx.take();
        if let Some(w) = self.shared.waker.lock().as_ref() {
            let _ = w.wake();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Observer for Shared {
    fn collected(&self, chart: &ChartView<'_>, state: &mut StreamState) {
        let generation = self.generation.load(Ordering::Acquire);
        if generation == 0 {
            return;
        }
        let meta = chart.meta();
        if !(self.send_charts)(&meta.id, &meta.name) {
            return;
        }
        SCRATCH.with(|cell| {
            let mut out = cell.borrow_mut();
            out.clear();
            let caps = Caps(self.caps.load(Ordering::Acquire));
            let mut next = state.clone();
            if state.generation != generation {
                emit::definition(&mut out, chart, caps, clock::now_realtime_sec());
                next.generation = generation;
                next.replicating = caps.has(Caps::REPLICATION);
                next.resync_left = if caps.has(Caps::REPLICATION) { 0 } else { self.resync_iterations };
            }
            if !next.replicating {
                let usec = if next.resync_left > 0 {
                    next.resync_left -= 1;
                    0
                } else {
                    chart.usec_since_last_update()
                };
                emit::data(&mut out, chart, usec);
            }
            if out.is_empty() || self.push(out.as_bytes()) {
                *state = next;
            } else {
                // Overflow: the definition goes again when there is room; with replication
                // the parent then asks for what was dropped here.
                state.generation = 0;
            }
        });
    }

    /// The definition with the obsolete flag goes once, as Netdata's sender does, so the
    /// parent marks the chart obsolete (and frees it after its own cleanup time).
    fn obsoleted(&self, chart: &ChartView<'_>, state: &mut StreamState) {
        let generation = self.generation.load(Ordering::Acquire);
        let meta = chart.meta();
        if generation == 0 || !(self.send_charts)(&meta.id, &meta.name) {
            return;
        }
        SCRATCH.with(|cell| {
            let mut out = cell.borrow_mut();
            out.clear();
            let caps = Caps(self.caps.load(Ordering::Acquire));
            emit::definition(&mut out, chart, caps, clock::now_realtime_sec());
            if self.push(out.as_bytes()) {
                state.generation = generation;
                state.replicating = caps.has(Caps::REPLICATION);
            }
        });
    }
}

impl Shared {
    fn push(&self, bytes: &[u8]) -> bool {
        let mut ring = self.ring.lock();
        let was_empty = ring.is_empty();
        if !ring.push(bytes) {
            drop(ring);
            let n = self.dropped.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            let logged = self.dropped_logged.load(Ordering::Relaxed);
            if n.wrapping_sub(logged) >= 1 && (logged == 0 || n.is_power_of_two()) {
                self.dropped_logged.store(n, Ordering::Relaxed);
                log::error!(
                    "STREAM {} [send]: the send buffer is full; {n} collections dropped so far, their charts will be sent again and replicated",
                    self.hostname
                );
            }
            return false;
        }
        drop(ring);
        if was_empty {
            if let Some(w) = self.waker.lock().as_ref() {
                let _ = w.wake();
            }
        }
        true
    }
}

/// How a connection attempt or a session ended.
enum Failure {
    /// Could not connect or the handshake failed on the transport.
    Transport(String),
    /// The parent answered with a rejection.
    Rejected(Rejection),
    /// Nothing could be sent or received for `timeout seconds`.
    Timeout,
    /// The TLS handshake failed (certificate or protocol): retried after 5 minutes, as
    /// Netdata 1.37 postpones a destination after an SSL error or an invalid certificate.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls(String),
}

fn run(shared: &Arc<Shared>, host: &Arc<Host>, settings: Settings, stop: &Receiver<()>) {
    let seed = clock::now_realtime_usec() ^ u64::from(std::process::id()) << 32;
    let mut backoff = match Backoff::try_new(settings.reconnect_delay, settings.max_backoff, seed) {
        Ok(b) => b,
        Err(e) => {
            log::error!("STREAM {} [send]: {e}; streaming is disabled", shared.hostname);
            return;
        }
    };
    let tls_config = if settings.destinations.iter().any(|d| d.tls) {
        match tls::client_config(&settings.tls) {
            Ok(c) => Some(c),
            Err(e) => {
                log::error!("STREAM {} [send]: TLS is not usable: {e}", shared.hostname);
                None
            }
        }
    } else {
        None
    };
    let mut ours = Caps::ours(settings.compression);
    if !settings.replication {
        ours = ours.without(Caps::REPLICATION);
    }
    let mut request = settings.request.clone();
    request.caps = ours;
    let request = match request.encode() {
        Ok(r) => r,
        Err(e) => {
            log::error!("STREAM {} [send]: {e}; streaming is disabled", shared.hostname);
            return;
        }
    };
    let mut generation: u32 = 0;
    let mut first = 0usize;
    let n = settings.destinations.len();
    loop {
        let mut floor = Duration::ZERO;
        let mut session = None;
        for k in 0..n {
            let i = (first + k) % n;
            let dest = &settings.destinations[i];
            log::info!("STREAM {} [send to {dest}]: connecting...", shared.hostname);
            match connect(dest, &request, ours, settings.timeout, tls_config.as_ref()) {
                Ok((conn, caps)) => {
                    // The destination that worked goes last, so a failover tries the others first.
                    first = (i + 1) % n;
                    session = Some((conn, caps, dest));
                    break;
                }
                Err(Failure::Rejected(r)) => {
                    log::error!("STREAM {} [send to {dest}]: {}", shared.hostname, r.describe());
                    floor = floor.max(r.retry_after(settings.reconnect_delay));
                }
                Err(Failure::Transport(e)) => {
                    log::error!("STREAM {} [send to {dest}]: {e}", shared.hostname);
                }
                Err(Failure::Timeout) => {
                    log::error!(
                        "STREAM {} [send to {dest}]: timeout waiting for the parent's reply",
                        shared.hostname
                    );
                    floor = floor.max(Duration::from_secs(30));
                }
                Err(Failure::Tls(e)) => {
                    log::error!("STREAM {} [send to {dest}]: {e}", shared.hostname);
                    floor = floor.max(Duration::from_secs(300));
                }
            }
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
        }
        if let Some((conn, caps, dest)) = session {
            backoff.reset();
            generation = generation.wrapping_add(1).max(1);
            let end = stream(shared, host, conn, caps, generation, dest, &settings);
            shared.generation.store(0, Ordering::Release);
            *shared.waker.lock() = None;
            match end {
                Ok(()) => return, // stopped
                Err(Failure::Timeout) => log::error!(
                    "STREAM {} [send to {dest}]: nothing could be sent or received for {} s; disconnecting",
                    shared.hostname,
                    settings.timeout.as_secs()
                ),
                Err(Failure::Transport(e))
                | Err(Failure::Tls(e))
                | Err(Failure::Rejected(Rejection::NotUnderstood(e))) => {
                    log::error!("STREAM {} [send to {dest}]: {e}", shared.hostname)
                }
                Err(Failure::Rejected(r)) => {
                    log::error!("STREAM {} [send to {dest}]: {}", shared.hostname, r.describe())
                }
            }
        }
        let delay = backoff.next(floor);
        let at = clock::now_realtime_sec() + delay.as_secs() as i64;
        let stamp = crate::logging::local_timestamp(at);
        log::info!(
            "STREAM {} [send]: next connection attempt in {} s (at {})",
            shared.hostname,
            delay.as_secs(),
            String::from_utf8_lossy(&stamp[11..])
        );
        match stop.recv_timeout(delay) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
    }
}

/// An established connection, before it is made non-blocking.
enum Conn {
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<rustls::ClientConnection>, TcpStream),
    Unix(UnixStream),
}

fn connect(
    dest: &Destination,
    request: &[u8],
    ours: Caps,
    timeout: Duration,
    tls_config: Option<&Arc<tls::ClientConfig>>,
) -> Result<(Conn, Caps), Failure> {
    let transport = |e: io::Error, what: &str| Failure::Transport(format!("{what}: {e}"));
    let mut conn = match &dest.endpoint {
        Endpoint::Unix(path) => {
            let s = UnixStream::connect(path).map_err(|e| transport(e, "cannot connect"))?;
            s.set_read_timeout(Some(timeout)).map_err(|e| transport(e, "socket"))?;
            s.set_write_timeout(Some(timeout)).map_err(|e| transport(e, "socket"))?;
            Conn::Unix(s)
        }
        Endpoint::Tcp { host, interface, port } => {
            let addrs =
                resolve(host, interface.as_deref(), *port).map_err(|e| transport(e, "cannot resolve"))?;
            let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
            let mut stream = None;
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, timeout) {
                    Ok(s) => {
                        stream = Some(s);
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            let s = stream.ok_or_else(|| transport(last, "cannot connect"))?;
            s.set_read_timeout(Some(timeout)).map_err(|e| transport(e, "socket"))?;
            s.set_write_timeout(Some(timeout)).map_err(|e| transport(e, "socket"))?;
            let _ = s.set_nodelay(true);
            if dest.tls {
                let config = tls_config.ok_or_else(|| Failure::Transport("TLS is not configured".into()))?;
                tls_conn(config, host, s)?
            } else {
                Conn::Tcp(s)
            }
        }
    };
    let io_error = |e: io::Error| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::Timeout,
        _ => Failure::Transport(format!("handshake failed: {e}")),
    };
    let mut reply = [0u8; handshake::MAX_REPLY];
    let n = match &mut conn {
        Conn::Tcp(s) => {
            s.write_all(request).map_err(io_error)?;
            s.read(&mut reply).map_err(io_error)?
        }
        Conn::Unix(s) => {
            s.write_all(request).map_err(io_error)?;
            s.read(&mut reply).map_err(io_error)?
        }
        #[cfg(feature = "tls")]
        Conn::Tls(c, s) => {
            let mut tls = rustls::Stream::new(c.as_mut(), s);
            tls.write_all(request).map_err(tls_error)?;
            tls.read(&mut reply).map_err(tls_error)?
        }
    };
    if n == 0 {
        return Err(Failure::Transport("the parent closed the connection without replying".into()));
    }
    match handshake::parse_reply(&reply[..n], ours) {
        Reply::Accepted(caps) => Ok((conn, caps)),
        Reply::Rejected(r) => Err(Failure::Rejected(r)),
    }
}

#[cfg(feature = "tls")]
fn tls_conn(config: &Arc<tls::ClientConfig>, host: &str, s: TcpStream) -> Result<Conn, Failure> {
    let name = tls::server_name(host).map_err(|e| Failure::Transport(format!("TLS server name: {e}")))?;
    let c = rustls::ClientConnection::new(Arc::clone(config), name)
        .map_err(|e| Failure::Transport(format!("TLS: {e}")))?;
    Ok(Conn::Tls(Box::new(c), s))
}

#[cfg(not(feature = "tls"))]
fn tls_conn(config: &Arc<tls::ClientConfig>, _host: &str, _s: TcpStream) -> Result<Conn, Failure> {
    match **config {}
}

#[cfg(feature = "tls")]
fn tls_error(e: io::Error) -> Failure {
    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) {
        return Failure::Timeout;
    }
    // rustls reports certificate problems as InvalidData with its reason inside.
    Failure::Tls(tls::describe_failure(&e))
}

fn resolve(host: &str, interface: Option<&str>, port: u16) -> io::Result<Vec<SocketAddr>> {
    let mut addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    if let Some(ifname) = interface {
        let index = crate::sys::net::interface_index(ifname)?;
        for a in &mut addrs {
            if let SocketAddr::V6(v6) = a {
                v6.set_scope_id(index);
            }
        }
    }
    Ok(addrs)
}

/// The non-blocking transport of a session.
enum Transport {
    Tcp(mio::net::TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<rustls::ClientConnection>, mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Transport {
    fn new(conn: Conn) -> io::Result<Transport> {
        Ok(match conn {
            Conn::Tcp(s) => {
                s.set_nonblocking(true)?;
                Transport::Tcp(mio::net::TcpStream::from_std(s))
            }
            #[cfg(feature = "tls")]
            Conn::Tls(c, s) => {
                s.set_nonblocking(true)?;
                Transport::Tls(c, mio::net::TcpStream::from_std(s))
            }
            Conn::Unix(s) => {
                s.set_nonblocking(true)?;
                Transport::Unix(mio::net::UnixStream::from_std(s))
            }
        })
    }

    fn register(&mut self, poll: &Poll) -> io::Result<()> {
        let interest = Interest::READABLE | Interest::WRITABLE;
        match self {
            Transport::Tcp(s) => poll.registry().register(s, SOCKET, interest),
            #[cfg(feature = "tls")]
            Transport::Tls(_, s) => poll.registry().register(s, SOCKET, interest),
            Transport::Unix(s) => poll.registry().register(s, SOCKET, interest),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.read(buf),
            Transport::Unix(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(c, s) => loop {
                match c.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if c.read_tls(s)? == 0 {
                            return Ok(0);
                        }
                        c.process_new_packets().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    }
                    Err(e) => return Err(e),
                }
            },
        }
    }

    /// Writes what it can of `data` without blocking.
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.write(data),
            Transport::Unix(s) => s.write(data),
            #[cfg(feature = "tls")]
            Transport::Tls(c, s) => {
                flush_tls(c, s)?;
                if c.wants_write() {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                let n = c.writer().write(data)?;
                match flush_tls(c, s) {
                    Ok(()) => Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(n),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Pushes out TLS records still buffered (plain sockets have none).
    fn flush(&mut self) -> io::Result<()> {
        match self {
            #[cfg(feature = "tls")]
            Transport::Tls(c, s) => match flush_tls(c, s) {
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => Err(e),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

#[cfg(feature = "tls")]
fn flush_tls(c: &mut rustls::ClientConnection, s: &mut mio::net::TcpStream) -> io::Result<()> {
    while c.wants_write() {
        c.write_tls(s)?;
    }
    Ok(())
}

/// One connected session; `Ok` when the sender was asked to stop.
fn stream(
    shared: &Arc<Shared>,
    host: &Arc<Host>,
    conn: Conn,
    caps: Caps,
    generation: u32,
    dest: &Destination,
    settings: &Settings,
) -> Result<(), Failure> {
    let fail = |e: io::Error| Failure::Transport(format!("connection error: {e}"));
    let mut transport = Transport::new(conn).map_err(fail)?;
    let mut poll = Poll::new().map_err(fail)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).map_err(fail)?);
    transport.register(&poll).map_err(fail)?;
    log::info!(
        "STREAM {} [send to {dest}]: established link with negotiated capabilities: {caps}",
        shared.hostname
    );

    // Host-level lines first; chart lines follow once the generation is published.
    {
        let mut first = String::new();
        if caps.has(Caps::CLAIM) {
            first.push_str(&format!("CLAIMED_ID {} NULL\n", host.guid()));
        }
        if caps.has(Caps::HLABELS) {
            emit::host_labels(&mut first, &host.labels());
        }
        let mut ring = shared.ring.lock();
        ring.clear();
        ring.push(first.as_bytes());
    }
    shared.caps.store(caps.0, Ordering::Release);
    *shared.waker.lock() = Some(Arc::clone(&waker));
    shared.generation.store(generation, Ordering::Release);
    log::info!("STREAM {} [send to {dest}]: established communication - sending metrics...", shared.hostname);

    let compress = caps.has(Caps::COMPRESSION);
    let mut compressor = Compressor::new();
    let mut chunk: Vec<u8> = Vec::with_capacity(MAX_BLOCK_INPUT);
    let mut out: Vec<u8> = Vec::with_capacity(MAX_BLOCK_INPUT + 64);
    let mut inbuf: Vec<u8> = Vec::with_capacity(4096);
    let mut tmp = [0u8; 4096];
    let mut replays: VecDeque<ReplayChart> = VecDeque::new();
    let mut events = Events::with_capacity(8);
    let mut last_progress = Instant::now();
    // When the first bytes of a batch arrived: collectors all tick on the same second, so
    // waiting a moment lets one block carry every chart of the second (far better LZ4 ratio,
    // one write instead of dozens).
    let mut batch_since: Option<Instant> = None;

    loop {
        let wait = match batch_since {
            Some(t) => BATCH_DELAY.saturating_sub(t.elapsed()).max(Duration::from_millis(1)),
            None => Duration::from_millis(1000),
        };
        if let Err(e) = poll.poll(&mut events, Some(wait)) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(fail(e));
            }
        }
        if shared.stop.load(Ordering::Acquire) {
            return Ok(());
        }

        // What the parent says.
        loop {
            match transport.read(&mut tmp) {
                Ok(0) => return Err(Failure::Transport("the parent closed the connection".into())),
                Ok(n) => {
                    last_progress = Instant::now();
                    inbuf.extend_from_slice(&tmp[..n]);
                    while let Some(pos) = inbuf.iter().position(|b| *b == b'\n') {
                        let line = String::from_utf8_lossy(&inbuf[..pos]).into_owned();
                        inbuf.drain(..=pos);
                        parent_line(shared, &line, &mut replays);
                    }
                    if inbuf.len() > MAX_PARENT_LINE {
                        return Err(Failure::Transport("the parent sent a line longer than 16 KiB".into()));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(fail(e)),
            }
        }

        serve_replays(shared, host, &mut replays);

        // What we send.
        loop {
            if out.is_empty() {
                chunk.clear();
                {
                    let mut ring = shared.ring.lock();
                    if ring.is_empty() {
                        batch_since = None;
                        break;
                    }
                    if ring.len() < MAX_BLOCK_INPUT {
                        match batch_since {
                            None => {
                                batch_since = Some(Instant::now());
                                break;
                            }
                            Some(t) if t.elapsed() < BATCH_DELAY => break,
                            Some(_) => {}
                        }
                    }
                    ring.peek_into(MAX_BLOCK_INPUT, &mut chunk);
                    // Whole lines only: the parent was not offered binary splitting.
                    let take = match chunk.iter().rposition(|b| *b == b'\n') {
                        Some(p) => p + 1,
                        None => chunk.len(),
                    };
                    chunk.truncate(take);
                    ring.consume(take);
                    if ring.is_empty() {
                        batch_since = None;
                    }
                }
                if chunk.is_empty() {
                    break;
                }
                if compress {
                    compressor.compress(&chunk, &mut out).map_err(Failure::Transport)?;
                } else {
                    out.extend_from_slice(&chunk);
                }
            }
            match transport.write(&out) {
                Ok(0) => return Err(Failure::Transport("the parent closed the connection".into())),
                Ok(n) => {
                    out.drain(..n);
                    shared.bytes_sent.fetch_add(n as u32, Ordering::Relaxed);
                    last_progress = Instant::now();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(fail(e)),
            }
        }
        transport.flush().map_err(fail)?;

        let pending = !out.is_empty() || !shared.ring.lock().is_empty() || !replays.is_empty();
        if pending && last_progress.elapsed() > settings.timeout {
            return Err(Failure::Timeout);
        }
    }
}

fn parent_line(shared: &Shared, line: &str, replays: &mut VecDeque<ReplayChart>) {
    let words = Words::split(line);
    match words.keyword() {
        None => {}
        Some("REPLAY_CHART") if !Caps(shared.caps.load(Ordering::Acquire)).has(Caps::REPLICATION) => {
            // Not negotiated (`[db] enable replication = no`): nothing is replayed.
            log::info!(
                "STREAM {} [send]: replication is not enabled; ignoring REPLAY_CHART",
                shared.hostname
            );
        }
        Some("REPLAY_CHART") => match ReplayChart::parse(&words) {
            Some(req) => {
                if let Some(old) = replays.iter_mut().find(|r| r.chart == req.chart) {
                    *old = req; // the newest request for a chart replaces an older one
                } else if replays.len() < MAX_PENDING_REPLAYS {
                    replays.push_back(req);
                } else {
                    log::error!(
                        "STREAM {} [send]: too many pending replication requests; ignoring one",
                        shared.hostname
                    );
                }
            }
            None => log::error!("STREAM {} [send]: malformed line from the parent: {line}", shared.hostname),
        },
        Some(other) => {
            log::info!("STREAM {} [send]: ignoring '{other}' from the parent", shared.hostname);
        }
    }
}

/// Answers queued replication requests while the buffer has room for live data too.
fn serve_replays(shared: &Shared, host: &Host, replays: &mut VecDeque<ReplayChart>) {
    let capacity = shared.ring.lock().capacity();
    // An answer may use at most a quarter of the buffer; none starts above half full.
    let budget = capacity / 4;
    while let Some(req) = replays.front() {
        if shared.ring.lock().free() < capacity / 2 {
            return;
        }
        let Some(chart) = host.chart(&req.chart) else {
            log::error!(
                "STREAM {} [send]: the parent asked to replicate unknown chart '{}'",
                shared.hostname,
                req.chart
            );
            replays.pop_front();
            continue;
        };
        let generation = shared.generation.load(Ordering::Acquire);
        let served = chart.with_view(|view, state| {
            let dims = view.dimensions().count().max(1);
            let id_len: usize = view.dimensions().map(|d| d.meta().id.len()).sum();
            let per_point = 64 + dims * 24 + id_len;
            let max_points = (budget / per_point).max(1);
            let mut text = String::new();
            let enable = emit::replay(&mut text, view, req, clock::now_realtime_sec(), max_points);
            if !shared.push(text.as_bytes()) {
                return false;
            }
            if enable && state.generation == generation {
                state.replicating = false;
            }
            true
        });
        if !served {
            return; // try again when the buffer drains
        }
        replays.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rrd::{ChartMeta, DimensionMeta, HostSettings};

    fn shared(capacity: usize, caps: Caps) -> Arc<Shared> {
        Arc::new(Shared {
            hostname: "test".into(),
            ring: Mutex::new(RingBuffer::with_capacity(capacity)),
            generation: AtomicU32::new(1),
            caps: AtomicU32::new(caps.0),
            waker: Mutex::new(None),
            stop: AtomicBool::new(false),
            resync_iterations: 2,
            send_charts: Box::new(|id, _| id != "skip.me"),
            bytes_sent: AtomicU32::new(0),
            dropped: AtomicU32::new(0),
            dropped_logged: AtomicU32::new(0),
        })
    }

    fn drain(s: &Shared) -> String {
        let mut ring = s.ring.lock();
        let mut out = Vec::new();
        let n = ring.peek_into(usize::MAX, &mut out);
        ring.consume(n);
        String::from_utf8(out).unwrap()
    }

    fn collect(chart: &crate::rrd::Chart, t: u64, v: i64) {
        let mut c = chart.begin(t * 1_000_000 + 500_000, 0, false);
        c.set(0, v);
        c.end();
    }

    #[test]
    fn a_full_buffer_drops_the_newest_collection_and_resends_the_definition() {
        let host = Host::new("g", "h", HostSettings::default());
        let s = shared(400, Caps(0));
        host.set_observer(Some(Arc::clone(&s) as Arc<dyn Observer>));
        let chart = host.chart_define(ChartMeta::new("a", "b"));
        chart.dimension(DimensionMeta::new("x"));

        collect(&chart, 1000, 1);
        let first = drain(&s);
        assert!(first.starts_with("CHART \"a.b\""), "definition first: {first}");
        assert!(first.contains("BEGIN \"a.b\" 0\n"), "clock resync without replication: {first}");

        // Fill the buffer so that the next collection does not fit.
        assert!(s.ring.lock().push(&[b'#'; 390]));
        collect(&chart, 1001, 2);
        assert_eq!(s.dropped.load(Ordering::Relaxed), 1, "the dropped collection is counted");
        assert_eq!(s.ring.lock().len(), 390, "nothing partial was queued");

        // Room again: the definition goes first, then the data.
        drain(&s);
        collect(&chart, 1002, 3);
        let again = drain(&s);
        assert!(again.starts_with("CHART \"a.b\""), "{again}");
        assert!(again.contains("SET \"x\" = 3\n"), "{again}");
    }

    #[test]
    fn a_chart_that_becomes_obsolete_is_sent_once_with_the_flag() {
        let host = Host::new("g", "h", HostSettings::default());
        let s = shared(64 * 1024, Caps(0));
        host.set_observer(Some(Arc::clone(&s) as Arc<dyn Observer>));
        let chart = host.chart_define(ChartMeta::new("net", "wlan1"));
        chart.dimension(DimensionMeta::new("x"));
        collect(&chart, 1000, 1);
        assert!(!drain(&s).contains("obsolete"));
        let mut meta = chart.meta();
        meta.options.obsolete = true;
        chart.redefine(meta.clone());
        let text = drain(&s);
        assert_eq!(text.matches("CHART \"net.wlan1\"").count(), 1, "{text}");
        assert!(text.contains("\"obsolete   \""), "the obsolete option slot: {text}");
        assert!(text.contains("DIMENSION \"x\""), "{text}");
        chart.redefine(meta);
        assert_eq!(drain(&s), "", "once");
    }

    #[test]
    fn replication_holds_data_until_the_parent_asked_and_filters_apply() {
        let host = Host::new("g", "h", HostSettings::default());
        let s = shared(64 * 1024, Caps::REPLICATION | Caps::CLABELS);
        host.set_observer(Some(Arc::clone(&s) as Arc<dyn Observer>));
        let chart = host.chart_define(ChartMeta::new("a", "b"));
        chart.dimension(DimensionMeta::new("x"));
        let skipped = host.chart_define(ChartMeta::new("skip", "me"));
        skipped.dimension(DimensionMeta::new("x"));
        collect(&chart, 1000, 1);
        collect(&chart, 1001, 2);
        collect(&skipped, 1001, 2);
        let text = drain(&s);
        assert!(text.contains("CHART_DEFINITION_END"), "{text}");
        assert!(!text.contains("BEGIN"), "no data before REPLAY_CHART is served: {text}");
        assert!(!text.contains("skip.me"), "send charts matching: {text}");

        let mut replays = VecDeque::from([ReplayChart {
            chart: "a.b".into(),
            start_streaming: true,
            after: 0,
            before: 0,
        }]);
        serve_replays(&s, &host, &mut replays);
        assert!(replays.is_empty());
        assert!(drain(&s).contains("REND 1 "));
        collect(&chart, 1002, 3);
        assert!(drain(&s).contains("SET \"x\" = 3\n"), "streams after the replication answer");
    }
}

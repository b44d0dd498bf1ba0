//! The sender: one thread per streamed host that owns the connection to the parent.
//!
//! Collector threads append protocol text to a fixed [`RingBuffer`] through the host's
//! [`Observer`]; this thread connects (TCP, unix socket or TLS), performs the handshake,
//! fails over across destinations with a jittered back-off, compresses whole batches of
//! lines into LZ4 blocks, writes without blocking, and answers the parent's replication
//! requests from the host's database (or its RAM window in memory mode `none`) without
//! letting them crowd out live data.
//!
//! Here: the settings, the running [`Sender`], its [`Stats`], and the observer that fills the
//! buffer. `connect.rs` runs the thread (destinations, handshake, back-off; sockets and TLS
//! come from [`crate::net`]), `session.rs` one connected session (batching, LZ4, the
//! parent's lines), `host_lines.rs` the host's labels and variables, `replay.rs` the
//! replication answers.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use mio::Waker;
use parking_lot::Mutex;

use super::destination::Destination;
use super::handshake::Request;
use super::ring::RingBuffer;
use super::tls::TlsSettings;
use crate::clock;
use crate::protocol::{emit, Caps};
use crate::rrd::{ChartView, Host, Observer, StreamState};

mod connect;
mod host_lines;
mod replay;
mod session;

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
    /// Where the current connection goes, and the bytes sent, for the log lines.
    link: Mutex<Link>,
}

/// The connection as the log lines name it.
#[derive(Default)]
struct Link {
    destination: String,
    /// Bytes written to parents since start, and on the current connection.
    sent_total: u64,
    sent_connection: u64,
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

thread_local! {
    /// Each collecting thread's line buffer: it grows to its largest chart and stays, so
    /// twenty collector threads cost what their charts need, not a fixed page each.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
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
            link: Mutex::new(Link::default()),
        });
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(0);
        host.set_observer(Some(Arc::clone(&shared) as Arc<dyn Observer>));
        let thread = {
            let shared = Arc::clone(&shared);
            let host = Arc::clone(&host);
            // Netdata's thread name, which its log lines carry (`grep STREAM` finds them).
            // (A NUL would make the thread's creation panic: no control character goes in.)
            let hostname: String =
                host.hostname().chars().map(|c| if c.is_control() { '?' } else { c }).collect();
            let name = format!("STREAM_SENDER[{hostname}]");
            crate::sys::thread::spawn(name, crate::sys::thread::MEDIUM, move || {
                connect::run(&shared, &host, settings, &stop_rx)
            })?
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
            let (size, unsent) = (ring.capacity(), ring.len());
            drop(ring);
            let n = self.dropped.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            let logged = self.dropped_logged.load(Ordering::Relaxed);
            if n.wrapping_sub(logged) >= 1 && (logged == 0 || n.is_power_of_two()) {
                self.dropped_logged.store(n, Ordering::Relaxed);
                let (destination, total, connection) = {
                    let link = self.link.lock();
                    (link.destination.clone(), link.sent_total, link.sent_connection)
                };
                // Netdata's words (its guide quotes them), then what nanodata does instead
                // of closing the connection.
                log::error!(
                    "STREAM {} [send to {}]: too many data pending - buffer is {size} bytes long, {unsent} unsent - \
                     we have sent {} bytes in total, {} on this connection. nanodata does not close the connection: \
                     it drops this collection instead ({n} dropped so far); the charts are sent again and replicated.",
                    self.hostname,
                    destination,
                    total,
                    connection
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

#[cfg(test)]
mod tests;

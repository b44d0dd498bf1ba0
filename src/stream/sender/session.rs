//! One connected session: the host-level lines, then batches of whole lines from the send
//! buffer (LZ4-compressed when negotiated) written without blocking, the parent's lines
//! (replication requests) read and queued, and the send timeout.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};

use super::host_lines::HostVariables;
use super::replay::serve_replays;
use super::{Settings, Shared};
use crate::clock;
use crate::net::connect::Failure;
use crate::net::{Destination, Transport};
use crate::protocol::{Caps, ReplayChart, Words};
use crate::rrd::Host;
use crate::stream::lz4::{Compressor, MAX_BLOCK_INPUT};

const SOCKET: Token = Token(0);
const WAKE: Token = Token(1);
/// A parent line longer than this ends the connection.
const MAX_PARENT_LINE: usize = 16 * 1024;
/// How long the first bytes of a batch wait for the rest of the second's collections.
const BATCH_DELAY: Duration = Duration::from_millis(250);
/// At most this many replication requests wait for buffer space.
const MAX_PENDING_REPLAYS: usize = 4096;

/// One connected session; `Ok` when the sender was asked to stop.
pub(super) fn stream(
    shared: &Arc<Shared>,
    host: &Arc<Host>,
    conn: Transport,
    caps: Caps,
    generation: u32,
    dest: &Destination,
    settings: &Settings,
) -> Result<(), Failure> {
    let fail = |e: io::Error| Failure::Transport(format!("connection error: {e}"));
    let mut transport = conn.into_nonblocking().map_err(fail)?;
    let mut poll = Poll::new().map_err(fail)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).map_err(fail)?);
    transport.register(poll.registry(), SOCKET, Interest::READABLE | Interest::WRITABLE).map_err(fail)?;
    log::info!(
        "STREAM {} [send to {dest}]: established link with negotiated capabilities: {caps}",
        shared.hostname
    );

    {
        let mut link = shared.link.lock();
        link.destination = dest.to_string();
        link.sent_connection = 0;
    }
    // Host-level lines first; chart lines follow once the generation is published. What an
    // earlier connection left unsent goes: every chart is defined again on this one.
    let (mut host_variables, discarded) = {
        let mut first = String::new();
        let tracker = HostVariables::connect(host, caps, &mut first);
        let mut ring = shared.ring.lock();
        let discarded = ring.len();
        ring.clear();
        ring.push(first.as_bytes());
        (tracker, discarded)
    };
    shared.caps.store(caps.0, Ordering::Release);
    *shared.waker.lock() = Some(Arc::clone(&waker));
    shared.generation.store(generation, Ordering::Release);
    // The words of Netdata's streaming guide.
    log::info!("STREAM {} [send to {dest}]: established communication - sending metrics...", shared.hostname);
    if discarded > 0 {
        log::error!(
            "STREAM {} [send]: discarding {discarded} bytes of metrics already in the buffer.",
            shared.hostname
        );
    }
    log::info!("STREAM {} [send]: ready - sending metrics...", shared.hostname);

    let compress = caps.has(Caps::COMPRESSION);
    let mut compressor = Compressor::new();
    let mut chunk: Vec<u8> = Vec::with_capacity(MAX_BLOCK_INPUT);
    let mut out: Vec<u8> = Vec::with_capacity(MAX_BLOCK_INPUT + 64);
    let mut inbuf: Vec<u8> = Vec::with_capacity(4096);
    let mut tmp = [0u8; 4096];
    let mut replays: VecDeque<ReplayChart> = VecDeque::new();
    let mut events = Events::with_capacity(8);
    let mut last_progress = clock::now_monotonic();
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
                    last_progress = clock::now_monotonic();
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

        host_variables.poll(shared, host);
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
                                batch_since = Some(clock::now_monotonic());
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
                    {
                        let mut link = shared.link.lock();
                        link.sent_total += n as u64;
                        link.sent_connection += n as u64;
                    }
                    last_progress = clock::now_monotonic();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(fail(e)),
            }
        }
        transport.flush().map_err(fail)?; // a full socket: the rest goes on the next turn

        let pending = !out.is_empty() || !shared.ring.lock().is_empty() || !replays.is_empty();
        if pending && last_progress.elapsed() > settings.timeout {
            return Err(Failure::Timeout);
        }
    }
}

pub(super) fn parent_line(shared: &Shared, line: &str, replays: &mut VecDeque<ReplayChart>) {
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

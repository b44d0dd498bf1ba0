//! The sender thread's outer loop: connect to the next destination (over
//! [`crate::net::connect`]), send the STREAM request, read the parent's reply, run the
//! session, and after a failure or a disconnection wait the back-off before the next round.

use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::session::stream;
use super::{Settings, Shared};
use crate::clock;
use crate::net::connect::{self, Connector, Failure, Round};
use crate::net::{tls, Destination, Transport};
use crate::protocol::Caps;
use crate::rrd::Host;
use crate::stream::handshake::{self, Backoff, Reply};

pub(super) fn run(shared: &Arc<Shared>, host: &Arc<Host>, settings: Settings, stop: &Receiver<()>) {
    let seed = clock::now_realtime_usec() ^ u64::from(std::process::id()) << 32;
    let backoff = match Backoff::try_new(settings.reconnect_delay, settings.max_backoff, seed) {
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
    let mut connector = Connector::new(settings.destinations.clone(), backoff);
    let mut generation: u32 = 0;
    loop {
        let round = connector.round(
            |dest| {
                let name = format!("STREAM {} [send to {dest}]", shared.hostname);
                log::info!("{name}: connecting...");
                let conn =
                    connect::open_reporting(dest, settings.timeout, tls_config.as_ref(), &mut |a, e| {
                        log::error!("{}", connect::failed_to_connect(a, e))
                    })
                    .map_err(|f| match f {
                        Failure::Transport(e) => Failure::Transport(format!("failed to connect: {e}")),
                        other => other,
                    })?;
                log::info!("{name}: initializing communication...");
                shake_hands(conn, dest, &name, &request, ours, settings.reconnect_delay)
            },
            |dest, failure| match failure {
                Failure::Timeout => log::error!(
                    "STREAM {} [send to {dest}]: timeout waiting for the parent's reply",
                    shared.hostname
                ),
                Failure::Transport(e) | Failure::Tls(e) | Failure::Refused { reason: e, .. } => {
                    log::error!("STREAM {} [send to {dest}]: {e}", shared.hostname)
                }
            },
            || shared.stop.load(Ordering::Acquire),
        );
        match round {
            Round::Stopped => return,
            Round::Failed => {}
            Round::Connected((conn, caps), i) => {
                let dest = &connector.destinations()[i];
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
                    Err(Failure::Transport(e)) | Err(Failure::Tls(e)) | Err(Failure::Refused { reason: e, .. }) => {
                        log::error!("STREAM {} [send to {dest}]: {e}", shared.hostname)
                    }
                }
            }
        }
        let delay = connector.next_delay();
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

/// Sends the STREAM request on a fresh (blocking) connection and reads the parent's reply.
fn shake_hands(
    mut conn: Transport,
    dest: &Destination,
    name: &str,
    request: &[u8],
    ours: Caps,
    reconnect_delay: Duration,
) -> Result<(Transport, Caps), Failure> {
    let fail = |e: io::Error| Failure::handshake(e, dest.tls);
    conn.write_all(request).map_err(fail)?;
    Write::flush(&mut conn).map_err(fail)?;
    log::info!("{name}: waiting response from remote netdata...");
    let mut reply = [0u8; handshake::MAX_REPLY];
    let n = conn.read(&mut reply).map_err(fail)?;
    if n == 0 {
        return Err(Failure::Transport("the parent closed the connection without replying".into()));
    }
    match handshake::parse_reply(&reply[..n], ours) {
        Reply::Accepted(caps) => Ok((conn, caps)),
        Reply::Rejected(r) => {
            Err(Failure::Refused { reason: r.describe(), retry_after: r.retry_after(reconnect_delay) })
        }
    }
}

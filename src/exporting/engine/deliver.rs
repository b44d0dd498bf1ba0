//! Getting one batch to the backend, and saying how it went.
//!
//! - TCP connectors (graphite, json plaintext, opentsdb telnet): a batch is sent when every
//!   byte was written and flushed. A connection that sat idle is checked first
//!   ([`Transport::peer_closed`]): a backend that restarted closed it, and bytes written into
//!   it would be lost. What the backend writes back (OpenTSDB's error lines) is read and
//!   counted, never waited for. Plain TCP has no acknowledgement: a backend that stops just
//!   after a batch was written may never have read it. So the last batch written on a
//!   connection is kept, and when that connection turns out closed or broken it is written
//!   again, first, on the next one — a duplicate (same names, values and times) at worst,
//!   never a hole.
//! - HTTP connectors (`:http`, `:https`, remote write): a batch is sent when the answer is
//!   2xx. 429, 408 and 5xx are retried later (`Retry-After` is a floor, capped at
//!   [`MAX_RETRY_AFTER`]); any other status refuses the batch for good.
//!
//! A connection failure moves on to the next destination of the list (failover) within the
//! same attempt; only when every destination failed is the attempt a retry.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use crate::config::settings::{Connector, Instance};
use crate::exporting::format::Format;
use crate::exporting::remote_write;
use crate::net::connect::{self, Failure};
use crate::net::destination::Destination;
use crate::net::http_client::{self, Client};
use crate::net::tls::ClientConfig;
use crate::net::transport::Transport;

/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// The path Netdata POSTs the line formats to.
pub const LINES_PATH: &str = "/api/put";
/// The most read back from a TCP backend per batch (what it says is only counted).
const MAX_DRAIN: usize = 1 << 20;
/// The most of a refusal's body quoted in the log.
const QUOTED_BODY: usize = 200;

/// How one attempt to deliver a batch ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (HTTP 2xx; TCP: written and flushed).
    Sent,
    /// Not now: try again after at least `floor`.
    Retry { why: String, floor: Duration },
    /// Refused for good: the batch is dropped.
    Refused { why: String },
}

/// What an attempt cost besides its outcome.
#[derive(Debug, Default, Clone, Copy)]
pub struct Traffic {
    /// Connections opened.
    pub connects: usize,
    /// Bytes read back.
    pub received: usize,
    /// Requests answered (HTTP) or batches written (TCP).
    pub responses: usize,
}

enum Wire {
    Tcp {
        conn: Option<Transport>,
        /// The last batch written on `conn`: written again if `conn` turns out dead.
        last: Vec<u8>,
        /// `last` must go again before the next batch (its connection died).
        resend: bool,
    },
    Http {
        clients: Vec<Client>,
        path: String,
        headers: Vec<(String, String)>,
    },
}

/// The connection side of one instance.
pub struct Delivery {
    destinations: Vec<Destination>,
    /// The destination in use (the next to try after a failure).
    current: usize,
    timeout: Duration,
    tls: Option<Arc<ClientConfig>>,
    wire: Wire,
    pub traffic: Traffic,
}

impl Delivery {
    /// The delivery of `instance` (with at least one destination); `format` is `None` for
    /// remote write. `tls` is needed for `:https` types and `:SSL` destinations.
    pub fn new(instance: &Instance, format: Option<Format>, tls: Option<Arc<ClientConfig>>) -> Delivery {
        let timeout = instance.timeout();
        let wire = if instance.kind.http() {
            let mut headers: Vec<(String, String)> = match format.and_then(Format::content_type) {
                Some(ct) => vec![("Content-Type".into(), ct.into())],
                None => remote_write::headers().iter().map(|(n, v)| ((*n).into(), (*v).into())).collect(),
            };
            if !instance.username.is_empty() || !instance.password.is_empty() {
                let pair = format!("{}:{}", instance.username, instance.password);
                headers.push(("Authorization".into(), format!("Basic {}", base64(pair.as_bytes()))));
            }
            let path = match instance.kind.connector() {
                Connector::PrometheusRemoteWrite => instance.remote_write_url_path.clone(),
                _ => LINES_PATH.into(),
            };
            let clients = instance
                .destinations
                .iter()
                .map(|d| Client::new(d.clone(), tls.clone(), timeout, 64 * 1024))
                .collect();
            Wire::Http { clients, path, headers }
        } else {
            Wire::Tcp { conn: None, last: Vec::new(), resend: false }
        };
        Delivery {
            destinations: instance.destinations.clone(),
            current: 0,
            timeout,
            tls,
            wire,
            traffic: Traffic::default(),
        }
    }

    /// The destination in use, for log lines.
    pub fn destination(&self) -> Option<&Destination> {
        self.destinations.get(self.current)
    }

    /// One attempt to deliver `body`, failing over across the destinations.
    pub fn send(&mut self, body: &[u8]) -> Outcome {
        self.send_body(Body::Borrowed(body))
    }

    /// [`Delivery::send`] of a batch whose buffer may be taken: a TCP connection keeps the
    /// batch it wrote last, and takes it by exchanging buffers (`body` then holds the one
    /// kept before, whatever it holds) instead of copying it.
    pub fn send_owned(&mut self, body: &mut Vec<u8>) -> Outcome {
        self.send_body(Body::Owned(body))
    }

    fn send_body(&mut self, mut body: Body<'_>) -> Outcome {
        let n = self.destinations.len().max(1);
        let mut floor = Duration::ZERO;
        let mut why = String::from("no destination");
        for _ in 0..n {
            let result = match &mut self.wire {
                Wire::Tcp { conn, last, resend } => send_tcp(
                    conn,
                    (last, resend),
                    &self.destinations[self.current],
                    self.timeout,
                    self.tls.as_ref(),
                    &mut self.traffic,
                    &mut body,
                ),
                Wire::Http { clients, path, headers } => {
                    let h: Vec<(&str, &str)> =
                        headers.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                    send_http(&mut clients[self.current], path, &h, body.bytes(), &mut self.traffic)
                }
            };
            match result {
                Attempt::Done(outcome) => return outcome,
                Attempt::NextDestination(reason, f) => {
                    why = format!("{}: {reason}", self.destinations[self.current]);
                    floor = floor.max(f);
                    self.current = (self.current + 1) % n;
                }
            }
        }
        Outcome::Retry { why, floor }
    }

    /// Closes what is open (the next batch connects again).
    pub fn close(&mut self) {
        match &mut self.wire {
            Wire::Tcp { conn, .. } => *conn = None,
            Wire::Http { clients, .. } => clients.iter_mut().for_each(Client::close),
        }
    }
}

enum Attempt {
    Done(Outcome),
    /// This destination did not take it: try the next (with the failure's least delay).
    NextDestination(String, Duration),
}

fn send_tcp(
    conn: &mut Option<Transport>,
    (last, resend): (&mut Vec<u8>, &mut bool),
    dest: &Destination,
    timeout: Duration,
    tls: Option<&Arc<ClientConfig>>,
    traffic: &mut Traffic,
    body: &mut Body<'_>,
) -> Attempt {
    // What the backend wrote back is read first: a backend that wrote (an OpenTSDB error
    // line) and then closed shows its end only once that is read.
    if let Some(t) = conn.as_mut() {
        traffic.received += drain(t);
    }
    if conn.as_ref().is_some_and(Transport::peer_closed) {
        // Bytes written into it would be lost: the batch goes on a new connection, after the
        // one written last (the backend may have gone before reading it).
        *conn = None;
        *resend = !last.is_empty();
    }
    let t = match conn {
        Some(t) => t,
        None => match connect::open(dest, timeout, tls) {
            Ok(t) => {
                traffic.connects += 1;
                conn.insert(t)
            }
            Err(f) => return Attempt::NextDestination(describe(&f), f.floor()),
        },
    };
    let again: &[u8] = if *resend { last } else { &[] };
    let written = t.write_all(again).and_then(|()| t.write_all(body.bytes())).and_then(|()| Write::flush(t));
    match written {
        Ok(()) => {
            traffic.responses += 1;
            *resend = false;
            match body {
                Body::Owned(b) => std::mem::swap(last, *b),
                Body::Borrowed(b) => {
                    last.clear();
                    last.extend_from_slice(b);
                }
            }
            Attempt::Done(Outcome::Sent)
        }
        Err(e) => {
            *conn = None;
            *resend = !last.is_empty();
            let floor = match e.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => connect::TIMEOUT_FLOOR,
                _ => Duration::ZERO,
            };
            Attempt::NextDestination(format!("write failed: {e}"), floor)
        }
    }
}

/// A batch to send: borrowed, or in a buffer the connection may take ([`Delivery::send_owned`]).
enum Body<'a> {
    Borrowed(&'a [u8]),
    Owned(&'a mut Vec<u8>),
}

impl Body<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Body::Borrowed(b) => b,
            Body::Owned(b) => b,
        }
    }
}

/// Reads what a plain TCP backend wrote back, without waiting.
fn drain(t: &mut Transport) -> usize {
    if t.is_tls() {
        return 0;
    }
    let mut got = 0;
    let mut buf = [0u8; 4096];
    while got < MAX_DRAIN && t.has_pending() {
        match Read::read(t, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    got
}

fn send_http(
    client: &mut Client,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    traffic: &mut Traffic,
) -> Attempt {
    let was_connected = client.connected();
    let result = client.post(path, headers, body);
    if !was_connected && !matches!(result, Err(http_client::Error::Connect(_))) {
        traffic.connects += 1;
    }
    let response = match result {
        Ok(r) => r,
        Err(http_client::Error::Connect(f)) => return Attempt::NextDestination(describe(&f), f.floor()),
        Err(http_client::Error::Timeout) => {
            return Attempt::NextDestination("no answer in time".into(), connect::TIMEOUT_FLOOR)
        }
        Err(e) => return Attempt::NextDestination(e.to_string(), Duration::ZERO),
    };
    traffic.responses += 1;
    traffic.received += response.body.len();
    let status = response.status;
    if response.is_success() {
        return Attempt::Done(Outcome::Sent);
    }
    let text = String::from_utf8_lossy(&response.body[..response.body.len().min(QUOTED_BODY)]);
    let why = format!("HTTP {status} from {}: {}", client.destination(), text.trim());
    if status == 429 || status == 408 || (500..600).contains(&status) {
        let floor = response.retry_after().unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER);
        return Attempt::Done(Outcome::Retry { why, floor });
    }
    Attempt::Done(Outcome::Refused { why })
}

fn describe(f: &Failure) -> String {
    match f {
        Failure::Transport(e) | Failure::Tls(e) => e.clone(),
        Failure::Refused { reason, .. } => reason.clone(),
        Failure::Timeout => "timeout".into(),
    }
}

/// Standard base64 with padding (HTTP basic authentication).
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "deliver_tests.rs"]
pub(super) mod tests;

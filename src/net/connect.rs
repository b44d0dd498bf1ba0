//! Opening a destination, and failing over across a destination list.
//!
//! [`open`] resolves (again on every attempt), connects with a timeout, binds a link-local
//! IPv6 address to its interface, and starts TLS for `:SSL`; the result is a blocking
//! [`Transport`] with socket timeouts, ready for a handshake. [`Connector`] walks a list in
//! turn — the destination that worked goes last, so a failover tries the others first —
//! and after a round without success waits a jittered exponential back-off that each
//! failure class can raise (a refusal's own delay, a timeout, a TLS error).

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

use super::backoff::Backoff;
use super::destination::{Destination, Endpoint};
use super::tls;
use super::transport::{Socket, Transport};

/// How a connection attempt (or a session) failed; the class sets the least delay before
/// the next attempt.
#[derive(Debug)]
pub enum Failure {
    /// Could not connect, or the connection broke: the back-off alone decides.
    Transport(String),
    /// The peer answered with a refusal that says how long to stay away.
    Refused { reason: String, retry_after: Duration },
    /// Nothing came back in time: retried after at least [`TIMEOUT_FLOOR`].
    Timeout,
    /// The TLS handshake failed (certificate or protocol): retried after [`TLS_FLOOR`], as
    /// Netdata 1.37 postpones a destination after an SSL error or an invalid certificate.
    Tls(String),
}

/// The least delay after a timeout.
pub const TIMEOUT_FLOOR: Duration = Duration::from_secs(30);
/// The least delay after a TLS failure.
pub const TLS_FLOOR: Duration = Duration::from_secs(300);

impl Failure {
    /// The least delay before the next attempt this failure asks for.
    pub fn floor(&self) -> Duration {
        match self {
            Failure::Transport(_) => Duration::ZERO,
            Failure::Refused { retry_after, .. } => *retry_after,
            Failure::Timeout => TIMEOUT_FLOOR,
            Failure::Tls(_) => TLS_FLOOR,
        }
    }

    /// An I/O error of a handshake: a socket timeout is [`Failure::Timeout`]; over TLS any
    /// other error is [`Failure::Tls`] (with the certificate hint when one was refused).
    pub fn handshake(e: std::io::Error, tls: bool) -> Failure {
        if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) {
            return Failure::Timeout;
        }
        if tls {
            return Failure::Tls(tls_failure(&e));
        }
        Failure::Transport(format!("handshake failed: {e}"))
    }
}

#[cfg(feature = "tls")]
fn tls_failure(e: &std::io::Error) -> String {
    tls::describe_failure(e)
}

#[cfg(not(feature = "tls"))]
fn tls_failure(e: &std::io::Error) -> String {
    format!("TLS handshake failed: {e}")
}

/// Connects to `dest`: a blocking transport whose reads and writes time out after `timeout`.
pub fn open(
    dest: &Destination,
    timeout: Duration,
    tls_config: Option<&Arc<tls::ClientConfig>>,
) -> Result<Transport, Failure> {
    open_reporting(dest, timeout, tls_config, &mut |_, _| {})
}

/// [`open`], telling `refused` about each address of the destination that could not be
/// connected to (the stream sender logs Netdata's line for each, see [`failed_to_connect`]).
pub fn open_reporting(
    dest: &Destination,
    timeout: Duration,
    tls_config: Option<&Arc<tls::ClientConfig>>,
    refused: &mut dyn FnMut(&SocketAddr, &std::io::Error),
) -> Result<Transport, Failure> {
    let transport = |e: std::io::Error, what: &str| Failure::Transport(format!("{what}: {e}"));
    match &dest.endpoint {
        Endpoint::Unix(path) => {
            let s = UnixStream::connect(path).map_err(|e| transport(e, "cannot connect"))?;
            Ok(Transport::plain(Socket::unix(s, Some(timeout)).map_err(|e| transport(e, "socket"))?))
        }
        Endpoint::Tcp { host, interface, port } => {
            let addrs =
                resolve(host, interface.as_deref(), *port).map_err(|e| transport(e, "cannot resolve"))?;
            let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
            let mut stream = None;
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, timeout) {
                    Ok(s) => {
                        stream = Some(s);
                        break;
                    }
                    Err(e) => {
                        refused(&addr, &e);
                        last = e;
                    }
                }
            }
            let s = stream.ok_or_else(|| transport(last, "cannot connect"))?;
            let _ = s.set_nodelay(true);
            let sock = Socket::tcp(s, Some(timeout)).map_err(|e| transport(e, "socket"))?;
            if !dest.tls {
                return Ok(Transport::plain(sock));
            }
            let config = tls_config.ok_or_else(|| Failure::Transport("TLS is not configured".into()))?;
            Transport::tls_client(sock, config, host).map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidInput => Failure::Transport(format!("TLS server name: {e}")),
                _ => Failure::Transport(format!("TLS: {e}")),
            })
        }
    }
}

/// Netdata's words for an address that could not be connected to, as its streaming guide
/// quotes them: `Failed to connect to '10.11.12.1', port '19999' (errno 111, Connection
/// refused)`; a timeout (no errno) is `Timed out while connecting to '…', port '…'.`
pub fn failed_to_connect(addr: &SocketAddr, e: &std::io::Error) -> String {
    let (ip, port) = (addr.ip(), addr.port());
    match e.raw_os_error() {
        Some(errno) => {
            // The C library's text alone, without Rust's " (os error N)".
            let text = std::io::Error::from_raw_os_error(errno).to_string();
            let text = text.strip_suffix(&format!(" (os error {errno})")).unwrap_or(&text);
            format!("Failed to connect to '{ip}', port '{port}' (errno {errno}, {text})")
        }
        None if e.kind() == std::io::ErrorKind::TimedOut => {
            format!("Timed out while connecting to '{ip}', port '{port}'.")
        }
        None => format!("Failed to connect to '{ip}', port '{port}' ({e})"),
    }
}

/// The addresses of `host`, link-local IPv6 ones scoped to `interface`.
pub fn resolve(host: &str, interface: Option<&str>, port: u16) -> std::io::Result<Vec<SocketAddr>> {
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

/// How one round over the list ended.
pub enum Round<T> {
    /// `attempt` succeeded for the destination at this index.
    Connected(T, usize),
    /// Every destination failed (each failure was reported).
    Failed,
    /// `stop` said so between attempts.
    Stopped,
}

/// A destination list walked in turn, with the back-off between rounds.
pub struct Connector {
    destinations: Vec<Destination>,
    /// Where the next round starts.
    first: usize,
    backoff: Backoff,
    /// The largest failure floor of the current round.
    floor: Duration,
}

impl Connector {
    pub fn new(destinations: Vec<Destination>, backoff: Backoff) -> Connector {
        Connector { destinations, first: 0, backoff, floor: Duration::ZERO }
    }

    pub fn destinations(&self) -> &[Destination] {
        &self.destinations
    }

    /// Tries each destination once, starting after the one that worked last: `attempt`
    /// connects and shakes hands, `report` logs a failure, `stop` is asked after each failure.
    /// A success resets the back-off (the floors of failures before it still count for the
    /// delay after the session).
    pub fn round<T>(
        &mut self,
        mut attempt: impl FnMut(&Destination) -> Result<T, Failure>,
        mut report: impl FnMut(&Destination, &Failure),
        stop: impl Fn() -> bool,
    ) -> Round<T> {
        self.floor = Duration::ZERO;
        let n = self.destinations.len();
        for k in 0..n {
            let i = (self.first + k) % n;
            let dest = &self.destinations[i];
            match attempt(dest) {
                Ok(t) => {
                    // The destination that worked goes last, so a failover tries the others first.
                    self.first = (i + 1) % n;
                    self.backoff.reset();
                    return Round::Connected(t, i);
                }
                Err(f) => {
                    report(dest, &f);
                    self.floor = self.floor.max(f.floor());
                }
            }
            if stop() {
                return Round::Stopped;
            }
        }
        Round::Failed
    }

    /// The delay before the next round: the back-off, at least the largest floor of the
    /// last round's failures.
    pub fn next_delay(&mut self) -> Duration {
        self.backoff.next(self.floor)
    }
}

#[cfg(test)]
mod tests;

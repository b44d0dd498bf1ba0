//! One byte pipe over plain TCP, a unix socket, or TLS (client or server side).
//!
//! The sender and the web server drive it non-blocking from a mio loop: [`Transport::read`]
//! and [`Transport::write`] return `WouldBlock` when the socket has nothing or is full, and
//! [`Transport::flush`] pushes out TLS records rustls still holds. The HTTP client and the
//! sender's handshake use the same transport blocking, with socket timeouts (a timeout then
//! shows as `WouldBlock` or `TimedOut`). The socket is a mio one in both cases, so the
//! transport can be registered with a `Poll` once it is made non-blocking.

use std::io::{self, Read, Write};
use std::time::Duration;

use mio::{Interest, Registry, Token};

/// The socket under a transport.
pub enum Socket {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Socket {
    /// A connected std TCP stream, blocking with `timeout` on reads and writes (`None`:
    /// non-blocking).
    pub fn tcp(s: std::net::TcpStream, timeout: Option<Duration>) -> io::Result<Socket> {
        set_mode(&s, timeout)?;
        Ok(Socket::Tcp(mio::net::TcpStream::from_std(s)))
    }

    /// A connected std unix stream, as [`Socket::tcp`].
    pub fn unix(s: std::os::unix::net::UnixStream, timeout: Option<Duration>) -> io::Result<Socket> {
        set_mode(&s, timeout)?;
        Ok(Socket::Unix(mio::net::UnixStream::from_std(s)))
    }

    /// The same socket, non-blocking (for a mio loop).
    fn into_nonblocking(self) -> io::Result<Socket> {
        match self {
            Socket::Tcp(s) => Socket::tcp(s.into(), None),
            Socket::Unix(s) => Socket::unix(s.into(), None),
        }
    }

    fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Socket::Tcp(s) => s,
            Socket::Unix(s) => s,
        }
    }
}

/// What std offers on both socket types to choose blocking (with timeouts) or not.
trait Mode {
    fn nonblocking(&self, on: bool) -> io::Result<()>;
    fn timeouts(&self, t: Duration) -> io::Result<()>;
}

impl Mode for std::net::TcpStream {
    fn nonblocking(&self, on: bool) -> io::Result<()> {
        self.set_nonblocking(on)
    }
    fn timeouts(&self, t: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(t)).and_then(|()| self.set_write_timeout(Some(t)))
    }
}

impl Mode for std::os::unix::net::UnixStream {
    fn nonblocking(&self, on: bool) -> io::Result<()> {
        self.set_nonblocking(on)
    }
    fn timeouts(&self, t: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(t)).and_then(|()| self.set_write_timeout(Some(t)))
    }
}

fn set_mode(s: &impl Mode, timeout: Option<Duration>) -> io::Result<()> {
    match timeout {
        Some(t) => s.nonblocking(false).and_then(|()| s.timeouts(t)),
        None => s.nonblocking(true),
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.read(buf),
            Socket::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.write(data),
            Socket::Unix(s) => s.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A socket and, over TCP, maybe a TLS session on it.
pub struct Transport {
    sock: Socket,
    #[cfg(feature = "tls")]
    tls: Option<Box<rustls::Connection>>,
}

impl Transport {
    /// Plain text over `sock`.
    pub fn plain(sock: Socket) -> Transport {
        Transport {
            sock,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// The client side of TLS to `host` (the name the certificate must carry) over `sock`.
    #[cfg(feature = "tls")]
    pub fn tls_client(
        sock: Socket,
        config: &std::sync::Arc<crate::net::tls::ClientConfig>,
        host: &str,
    ) -> io::Result<Transport> {
        let name = crate::net::tls::server_name(host)?;
        let c =
            rustls::ClientConnection::new(std::sync::Arc::clone(config), name).map_err(io::Error::other)?;
        Ok(Transport { sock, tls: Some(Box::new(rustls::Connection::Client(c))) })
    }

    /// Never called in a build without TLS (there is no configuration to call it with).
    #[cfg(not(feature = "tls"))]
    pub fn tls_client(
        _sock: Socket,
        config: &std::sync::Arc<crate::net::tls::ClientConfig>,
        _host: &str,
    ) -> io::Result<Transport> {
        match **config {}
    }

    /// Turns a plain server connection into TLS: `hello` is what was already read from the
    /// socket (the start of the client's handshake).
    #[cfg(feature = "tls")]
    pub fn accept_tls(
        &mut self,
        config: &std::sync::Arc<crate::net::tls::ServerConfig>,
        mut hello: &[u8],
    ) -> io::Result<()> {
        let mut tls = rustls::ServerConnection::new(std::sync::Arc::clone(config))
            .map_err(|e| io::Error::other(e.to_string()))?;
        while !hello.is_empty() {
            tls.read_tls(&mut hello)?;
        }
        let mut tls = rustls::Connection::Server(tls);
        if let Err(e) = tls.process_new_packets() {
            // Send the alert, then close.
            let _ = tls.write_tls(&mut self.sock);
            return Err(tls_error(e));
        }
        self.tls = Some(Box::new(tls));
        Ok(())
    }

    /// Whether the bytes go through TLS.
    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    /// Whether TLS records wait to be written to the socket (plain sockets buffer nothing).
    pub fn wants_write(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.as_ref().is_some_and(|t| t.wants_write());
        #[cfg(not(feature = "tls"))]
        false
    }

    /// The same transport with its socket non-blocking, ready to register with a `Poll`.
    pub fn into_nonblocking(self) -> io::Result<Transport> {
        Ok(Transport {
            sock: self.sock.into_nonblocking()?,
            #[cfg(feature = "tls")]
            tls: self.tls,
        })
    }

    pub fn register(&mut self, registry: &Registry, token: Token, interest: Interest) -> io::Result<()> {
        registry.register(self.sock.source(), token, interest)
    }

    pub fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.deregister(self.sock.source())
    }

    /// Reads plaintext into `buf`: `Ok(0)` at the end of the stream, `WouldBlock` when
    /// nothing more is there now. Over TLS, records are read and processed until plaintext
    /// comes out; handshake records due go out first.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_mut() {
            return loop {
                match tls.reader().read(buf) {
                    Ok(n) => break Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => break Err(e),
                }
                // A blocking handshake waits for the peer only after its own flight left.
                match flush_tls(tls, &mut self.sock) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => break Err(e),
                }
                match tls.read_tls(&mut self.sock) {
                    Ok(0) => break Ok(0),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => break Err(e),
                }
                if let Err(e) = tls.process_new_packets() {
                    // Send the alert, then close.
                    let _ = tls.write_tls(&mut self.sock);
                    break Err(tls_error(e));
                }
            };
        }
        loop {
            match self.sock.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }

    /// Appends what can be read now, at most `max` bytes, to `into` (as [`Transport::read`]).
    pub fn read_into(&mut self, into: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        let mut buf = [0u8; 4096];
        let want = max.min(buf.len());
        let n = self.read(&mut buf[..want])?;
        into.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    /// Writes what it can of `data` without blocking (a non-blocking socket): `WouldBlock`
    /// when nothing was taken. Over TLS, records still waiting go first, so what rustls
    /// buffers stays bounded by one call's data.
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_mut() {
            flush_tls(tls, &mut self.sock)?;
            if tls.wants_write() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = tls.writer().write(data)?;
            return match flush_tls(tls, &mut self.sock) {
                Ok(()) => Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(n),
                Err(e) => Err(e),
            };
        }
        loop {
            match self.sock.write(data) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }

    /// Whether the peer has closed the connection (or it broke), seen without blocking:
    /// checked before a batch goes out on a connection that sat idle, so that a backend which
    /// restarted is not written into (the kernel would take the bytes and lose them). Bytes
    /// the peer sent and nobody reads (a backend's error lines) do not count as closed.
    pub fn peer_closed(&self) -> bool {
        let mut b = [0u8; 1];
        let r = match &self.sock {
            Socket::Tcp(s) => crate::sys::net::peek_nonblocking(s, &mut b),
            Socket::Unix(s) => crate::sys::net::peek_nonblocking(s, &mut b),
        };
        match r {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted),
        }
    }

    /// Whether bytes wait to be read (seen without blocking).
    pub fn has_pending(&self) -> bool {
        let mut b = [0u8; 1];
        let r = match &self.sock {
            Socket::Tcp(s) => crate::sys::net::peek_nonblocking(s, &mut b),
            Socket::Unix(s) => crate::sys::net::peek_nonblocking(s, &mut b),
        };
        matches!(r, Ok(n) if n > 0)
    }

    /// Pushes out TLS records still buffered: `true` when nothing is left, `false` when the
    /// socket is full (plain sockets buffer nothing).
    pub fn flush(&mut self) -> io::Result<bool> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_mut() {
            return match flush_tls(tls, &mut self.sock) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
                Err(e) => Err(e),
            };
        }
        Ok(true)
    }
}

/// Blocking use (the HTTP client, handshakes): `write_all`, `read_exact` and friends.
impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Transport::read(self, buf)
    }
}

impl Write for Transport {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        Transport::write(self, data)
    }

    /// Blocking: every TLS record is written (a socket timeout ends it with an error).
    fn flush(&mut self) -> io::Result<()> {
        match Transport::flush(self)? {
            true => Ok(()),
            false => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

#[cfg(feature = "tls")]
fn flush_tls(c: &mut rustls::Connection, s: &mut Socket) -> io::Result<()> {
    while c.wants_write() {
        match c.write_tls(s) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// rustls errors travel as `InvalidData` with the rustls error inside, so a caller can tell
/// a refused certificate ([`crate::net::tls::describe_failure`]).
#[cfg(feature = "tls")]
fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

#[cfg(test)]
mod tests;

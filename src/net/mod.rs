//! Networking shared by every role that talks to another machine: the sender (child →
//! parent), the web server (and the parent side of streaming), and the exporting connectors.
//!
//! - [`transport`]: one non-blocking (or, with timeouts, blocking) byte pipe over plain TCP,
//!   a unix socket, or TLS in either direction.
//! - [`tls`]: the rustls setup for both directions (client trust with pinned self-signed
//!   certificates, server certificate and key); stubs when the `tls` feature is off.
//! - [`destination`]: the `[PROTOCOL:]HOST[%IF][:PORT][:SSL]` lists of stream.conf and
//!   exporting.conf.
//! - [`connect`]: opening a destination, and the [`connect::Connector`] that fails over across
//!   a list with a back-off per failure class ([`backoff`]).
//! - [`http_client`]: a small blocking HTTP/1.1 client for POSTs with keep-alive and
//!   timeouts (exporting connector threads).

pub mod backoff;
pub mod connect;
pub mod destination;
pub mod http_client;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(not(feature = "tls"))]
#[path = "tls/disabled.rs"]
pub mod tls;
pub mod transport;

pub use destination::{Destination, Endpoint};
pub use transport::{Socket, Transport};

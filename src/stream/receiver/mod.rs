//! Streaming, parent side: the pure logic of receiving children, ready for an event loop,
//! and the [`hub`] that holds what the receivers share.
//!
//! Apart from the hub (which starts proxy senders and frees orphan hosts on a thread of
//! their own), nothing here does I/O, reads a clock or spawns a thread: every function takes
//! what it needs (bytes, configuration, the time, the state of other receivers) and returns
//! a value. The event loop (the web server's, through the hub) owns sockets, buffers and the
//! database and calls, in order:
//! [`request::parse`] on the bytes read so far, [`access::decide`] on the result,
//! [`negotiate::negotiate`] for the reply, then feeds the stream to the shared line parser
//! within the bounds of [`limits::ReceiverLimits`], driving [`replication`] per chart.
//!
//! Guarantees: no function in this module panics or allocates without bound on any input;
//! reply strings are Netdata 1.37's, byte for byte (see [`super::handshake`]).

pub mod access;
pub mod budget;
pub mod charts;
#[cfg(feature = "web")]
pub mod hub;
pub mod ingest;
pub mod limits;
pub mod negotiate;
pub mod replication;
pub mod request;

pub use access::{decide, AcceptedStream, ChildSettings, Context, Decision};
pub use budget::{Budget, Cost, Flow};
pub use ingest::Receiver;
pub use limits::{LimitError, ReceiverLimits};
pub use negotiate::{for_child, negotiate, Grant};
pub use request::{parse, Parsed, Refusal, StreamRequest};

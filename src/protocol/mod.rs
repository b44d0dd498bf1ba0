//! The line protocol of Netdata 1.37 (protocol.md §1.4, §2, §3), in both directions: it owns
//! the wire. Reading serves plugins.d and the stream receiver (a parent); writing serves the
//! stream sender (a child). Nothing here knows about sockets or roles: `stream` and `plugins`
//! move the bytes and call in.
//!
//! Reading, in layers each usable alone:
//! * [`LineBuffer`] cuts bytes into lines of at most [`MAX_LINE`] bytes, without blocking;
//! * [`Words`] splits a line by the §2.1 rules (quotes, `=` as separator, 20 words at most) —
//!   the one tokenizer of the wire, for lines from a plugin, a child or a parent;
//! * [`Command`] is one line parsed into a typed keyword with its arguments;
//! * [`Session`] applies commands to one host with the §2.2 semantics.
//!
//! Writing: [`emit`] formats what a child sends (host labels, definitions, data, replication
//! answers). Both: [`Caps`], the capabilities negotiated in the handshake, which decide what
//! is sent; [`ReplayChart`], the parent's replication request, parsed and written by one
//! type; [`check_point`] and [`check_in_request`], the rule a replicated point must pass.
//!
//! Nothing here panics on any input. Every bound is a field of [`Limits`]; crossing one is an
//! [`Error`] whose [`Action`] says what the owner of the source does next.

mod caps;
mod command;
pub mod emit;
mod framer;
pub mod number;
mod replay;
mod session;
mod words;

pub use caps::Caps;
pub use command::{ChartDef, Command, DimensionDef, VariableScope};
pub use framer::{head_end, Frame, LineBuffer, MAX_LINE};
pub use replay::{check_in_request, check_point, PointError, ReplayChart};
pub use session::{Event, Session, Trust};
pub use words::{Words, MAX_WORDS};

use std::fmt;

/// What the owner of a source does after an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Stop this source: kill the plugin (restarted by the §5.6 rules), drop the stream
    /// connection (the child reconnects).
    Stop,
    /// Stop it and never restart it (✖ in protocol.md §2.2, and `DISABLE`): a plugin is not
    /// restarted; a stream is dropped too.
    Disable,
}

/// A line that could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub action: Action,
    pub message: String,
    /// Set for the errors Netdata's streaming guide quotes in its own words (see
    /// [`Session::stream_wording`]).
    pub cause: Cause,
}

/// Errors a stream receiver words as Netdata does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cause {
    #[default]
    Other,
    /// A line whose keyword is not one of the protocol's (printable form).
    UnknownKeyword(String),
    /// `SET` without a dimension id.
    SetWithoutDimension,
}

impl Error {
    pub fn stop(message: impl Into<String>) -> Error {
        Error { action: Action::Stop, message: message.into(), cause: Cause::Other }
    }

    pub fn disable(message: impl Into<String>) -> Error {
        Error { action: Action::Disable, message: message.into(), cause: Cause::Other }
    }

    fn because(self, cause: Cause) -> Error {
        Error { cause, ..self }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The bounds of one source, each with its action when crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line in bytes; a longer one is an error that stops the source.
    pub line: usize,
    /// Charts one source may define; one more is an error that disables it (it would hit
    /// the same bound after every restart).
    pub charts: usize,
    /// Dimensions per chart; one more disables the source, for the same reason.
    pub dimensions: usize,
    /// Dimensions of all the charts one source defined, together: each costs its ring of
    /// slots once written (history × 4 bytes), so `charts × dimensions` alone would let one
    /// source take gigabytes. One more disables the source.
    pub total_dimensions: usize,
    /// Pending host labels (`LABEL` before `OVERWRITE`) and chart labels (`CLABEL` before
    /// `CLABEL_COMMIT`); more are dropped with a (rate-limited) warning.
    pub labels: usize,
    /// Bytes of one `FUNCTION_RESULT_BEGIN` … `END` block (Netdata: 10 MiB); a larger one
    /// stops the source. The body is counted, not kept.
    pub function_result: usize,
    /// Collections refused because their `BEGIN` would have moved a chart's clock past now
    /// plus [`crate::rrd::MAX_FUTURE_SECS`]; this many stop the source (a child is
    /// disconnected, a plugin stopped). Each one is refused at O(1) cost, so the bound only
    /// says when to stop listening to a source whose clock cannot be trusted.
    pub clock_strikes: u32,
    /// Replicated points refused for lying outside the range the parent asked for
    /// (`REPLAY_CHART` after/before, one update every of tolerance on each side); this many
    /// stop the source. Only streams are asked for replication.
    pub replay_strikes: u32,
}

impl Limits {
    /// Bounds for an external plugin on a router-sized node.
    pub const PLUGIN: Limits = Limits {
        line: MAX_LINE,
        charts: 1000,
        dimensions: 1000,
        // No tighter than charts × dimensions: plugins run locally, as configured.
        total_dimensions: 1000 * 1000,
        labels: 256,
        function_result: 10 << 20,
        clock_strikes: 10,
        replay_strikes: 10,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::PLUGIN
    }
}

#[cfg(test)]
mod tests;

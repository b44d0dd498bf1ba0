//! Resource bounds for untrusted children: a small policy type, valid by construction.
//!
//! Guarantees: a [`ReceiverLimits`] can only be built with every bound inside its documented
//! range, and with the three per-connection buffers (receive buffer, longest line, largest
//! decompressed block) summing to at most [`BUFFER_BUDGET`] = 64 KiB per connected child.
//! The LZ4 history window of a compressed stream (64 KiB, fixed by the format and owned by
//! [`crate::stream::lz4::Decompressor`]) is not a buffer of this policy and comes on top.
//! A child that crosses a bound loses only its own connection (the caller's duty), with the
//! reason from the `check_*` functions in its log line.

use std::fmt;

use crate::protocol::{Limits, MAX_LINE};
use crate::stream::lz4::MAX_BLOCK_OUTPUT;

/// Most bytes of buffers one connected child may pin.
pub const BUFFER_BUDGET: usize = 64 * 1024;

/// The bounds applied to every streaming child.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ReceiverLimits {
    max_hosts: usize,
    charts_per_host: usize,
    dimensions_per_chart: usize,
    dimensions_per_host: usize,
    line: usize,
    decompressed_block: usize,
    receive_buffer: usize,
}

/// A bound outside its range, or buffers over the budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitError {
    OutOfRange { name: &'static str, value: usize, min: usize, max: usize },
    OverBudget { total: usize },
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::OutOfRange { name, value, min, max } => {
                write!(f, "{name} = {value} is outside {min}..={max}")
            }
            LimitError::OverBudget { total } => write!(
                f,
                "receive buffer + line + decompressed block = {total} bytes, more than {BUFFER_BUDGET} per child"
            ),
        }
    }
}

impl std::error::Error for LimitError {}

/// `Ok` when `min ≤ value ≤ max`, else which limit is out of its range.
fn range(name: &'static str, value: usize, min: usize, max: usize) -> Result<(), LimitError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(LimitError::OutOfRange { name, value, min, max })
    }
}

impl ReceiverLimits {
    /// Defaults for a router-sized or small fleet parent:
    /// * 200 child hosts;
    /// * 2000 charts per host (a busy 1.37 child has 500–1500);
    /// * 1000 dimensions per chart (as for plugins);
    /// * 10000 dimensions per child in total: a busy 1.37 child has 2000–5000; each dimension
    ///   keeps a ring of `history` slots of 4 bytes once written (14 KiB at the default hour),
    ///   so one child holds at most ~140 MiB instead of the 28 GB that 2000 charts × 1000
    ///   dimensions would allow — what a parent on a router can afford for one device, and
    ///   still 2× the largest child seen;
    /// * lines of 15360 bytes (the shared parser's longest, enough for any 1.37 line);
    /// * decompressed blocks of 16384 bytes (the most a 1.37 child compresses at once);
    /// * a 16 KiB receive buffer;
    ///
    /// so at most a 15 KiB line buffer per plain child (the receive buffer is the event
    /// loop's, shared), and with LZ4 the 64 KiB window plus room for a block and one block.
    pub const DEFAULT: ReceiverLimits = ReceiverLimits {
        max_hosts: 200,
        charts_per_host: 2_000,
        dimensions_per_chart: 1_000,
        dimensions_per_host: 10_000,
        line: MAX_LINE,
        decompressed_block: MAX_BLOCK_OUTPUT,
        receive_buffer: 16 * 1024,
    };

    /// Ranges: hosts 1..=100000, charts per host 1..=100000, dimensions per chart 1..=10000,
    /// line 1024..=[`MAX_LINE`], decompressed block 1024..=[`MAX_BLOCK_OUTPUT`] (below 16384 a
    /// Netdata child's full blocks are refused), receive buffer 1024..=65536; and the three
    /// buffers within [`BUFFER_BUDGET`].
    pub fn try_new(
        max_hosts: usize,
        charts_per_host: usize,
        dimensions_per_chart: usize,
        line: usize,
        decompressed_block: usize,
        receive_buffer: usize,
    ) -> Result<ReceiverLimits, LimitError> {
        range("max hosts", max_hosts, 1, 100_000)?;
        range("charts per host", charts_per_host, 1, 100_000)?;
        range("dimensions per chart", dimensions_per_chart, 1, 10_000)?;
        range("line length", line, 1024, MAX_LINE)?;
        range("decompressed block size", decompressed_block, 1024, MAX_BLOCK_OUTPUT)?;
        range("receive buffer", receive_buffer, 1024, 65_536)?;
        let total = line + decompressed_block + receive_buffer;
        if total > BUFFER_BUDGET {
            return Err(LimitError::OverBudget { total });
        }
        Ok(ReceiverLimits {
            max_hosts,
            charts_per_host,
            dimensions_per_chart,
            dimensions_per_host: ReceiverLimits::DEFAULT.dimensions_per_host,
            line,
            decompressed_block,
            receive_buffer,
        })
    }

    pub fn max_hosts(&self) -> usize {
        self.max_hosts
    }
    pub fn charts_per_host(&self) -> usize {
        self.charts_per_host
    }
    pub fn dimensions_per_chart(&self) -> usize {
        self.dimensions_per_chart
    }
    pub fn dimensions_per_host(&self) -> usize {
        self.dimensions_per_host
    }

    /// The same limits with at most `n` dimensions per child in total (all its charts
    /// together), in 1..=10000000; one more closes the child's connection.
    pub fn with_dimensions_per_host(self, n: usize) -> Result<ReceiverLimits, LimitError> {
        range("dimensions per child", n, 1, 10_000_000)?;
        Ok(ReceiverLimits { dimensions_per_host: n, ..self })
    }
    pub fn line(&self) -> usize {
        self.line
    }
    pub fn decompressed_block(&self) -> usize {
        self.decompressed_block
    }
    pub fn receive_buffer(&self) -> usize {
        self.receive_buffer
    }

    /// Bytes of buffers one connected child pins (≤ [`BUFFER_BUDGET`]).
    pub fn buffer_bytes(&self) -> usize {
        self.line + self.decompressed_block + self.receive_buffer
    }

    /// The bounds for the shared line parser's [`crate::protocol::Session`] of one child
    /// (labels and function results as for plugins).
    pub fn session_limits(&self) -> Limits {
        Limits {
            line: self.line,
            charts: self.charts_per_host,
            dimensions: self.dimensions_per_chart,
            total_dimensions: self.dimensions_per_host,
            ..Limits::PLUGIN
        }
    }

    /// Whether one more child host may be created when `hosts` already exist (a known GUID
    /// reconnecting creates none). `Err` is the log reason; the child is then answered
    /// with the "too busy" reply, which makes it retry after its reconnect delay.
    pub fn check_hosts(&self, hosts: usize) -> Result<(), String> {
        if hosts < self.max_hosts {
            Ok(())
        } else {
            Err(format!("this parent already has {hosts} child hosts, the most it accepts"))
        }
    }

    /// Whether a decompressed block of `len` bytes is acceptable.
    pub fn check_block(&self, len: usize) -> Result<(), String> {
        if len <= self.decompressed_block {
            Ok(())
        } else {
            Err(format!(
                "a compressed block decodes to {len} bytes, more than the {} allowed",
                self.decompressed_block
            ))
        }
    }
}

impl Default for ReceiverLimits {
    fn default() -> Self {
        ReceiverLimits::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_within_budget() {
        let d = ReceiverLimits::DEFAULT;
        let rebuilt = ReceiverLimits::try_new(
            d.max_hosts(),
            d.charts_per_host(),
            d.dimensions_per_chart(),
            d.line(),
            d.decompressed_block(),
            d.receive_buffer(),
        );
        assert_eq!(rebuilt.and_then(|l| l.with_dimensions_per_host(d.dimensions_per_host())), Ok(d));
        assert_eq!(d.buffer_bytes(), 15_360 + 16_384 + 16_384);
        assert!(d.buffer_bytes() <= BUFFER_BUDGET);
        let s = d.session_limits();
        assert_eq!((s.line, s.charts, s.dimensions), (15_360, 2_000, 1_000));
        assert_eq!(s.total_dimensions, 10_000);
        // Far below what charts × dimensions per chart would allow.
        assert!(d.dimensions_per_host() * 100 < d.charts_per_host() * d.dimensions_per_chart());
        assert_eq!(ReceiverLimits::default(), d);
    }

    #[test]
    fn nonsense_is_rejected() {
        let ok = |h, c, d, l, b, r| ReceiverLimits::try_new(h, c, d, l, b, r);
        assert!(matches!(
            ok(0, 1, 1, 4096, 4096, 4096),
            Err(LimitError::OutOfRange { name: "max hosts", .. })
        ));
        assert!(matches!(
            ok(1, 0, 1, 4096, 4096, 4096),
            Err(LimitError::OutOfRange { name: "charts per host", .. })
        ));
        assert!(matches!(ok(1, 1, 0, 4096, 4096, 4096), Err(LimitError::OutOfRange { .. })));
        assert!(matches!(
            ok(1, 1, 1, 10, 4096, 4096),
            Err(LimitError::OutOfRange { name: "line length", .. })
        ));
        assert!(matches!(ok(1, 1, 1, 4096, 1 << 20, 4096), Err(LimitError::OutOfRange { .. })));
        assert!(matches!(ok(1, 1, 1, 4096, 4096, usize::MAX), Err(LimitError::OutOfRange { .. })));
        let over = ok(1, 1, 1, 15_360, 16_384, 65_536);
        assert_eq!(over, Err(LimitError::OverBudget { total: 15_360 + 16_384 + 65_536 }));
        assert!(over.unwrap_err().to_string().contains("more than 65536"));
        assert!(ok(1, 1, 1, 1024, 1024, 1024).is_ok());
        let d = ReceiverLimits::DEFAULT;
        assert!(matches!(
            d.with_dimensions_per_host(0),
            Err(LimitError::OutOfRange { name: "dimensions per child", .. })
        ));
        assert!(d.with_dimensions_per_host(10_000_001).is_err());
        let l = d.with_dimensions_per_host(500).expect("valid");
        assert_eq!((l.dimensions_per_host(), l.session_limits().total_dimensions), (500, 500));
        assert_eq!(l.charts_per_host(), d.charts_per_host(), "the other bounds are kept");
    }

    #[test]
    fn checks() {
        let l = ReceiverLimits::try_new(2, 10, 10, 4096, 4096, 4096).expect("valid");
        assert!(l.check_hosts(1).is_ok());
        assert!(l.check_hosts(2).unwrap_err().contains("already has 2 child hosts"));
        assert!(l.check_block(4096).is_ok());
        assert!(l.check_block(4097).is_err());
    }
}

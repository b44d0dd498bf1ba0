//! The data model: hosts → charts → dimensions, and the collection arithmetic.
//!
//! Collection goes through one chart API with Netdata's BEGIN/SET/END semantics taking **raw
//! integers** ([`Chart::begin`], [`Collection::set`], [`Collection::end`]). The arithmetic of
//! [`chart`] — the four algorithms, counter wrap and reset detection, and the interpolation of
//! collected values onto `update every` boundaries — follows Netdata 1.37 step by step, because
//! a Netdata parent recomputes the same stored numbers from the same raw values that a
//! nanodata child streams.
//!
//! Locks are per host (its chart index) and per chart (its state and storage); no lock spans
//! hosts and none is held across I/O other than the memory-mapped storage.
//!
//! Charts and dimensions marked obsolete (a vanished device, a plugin's or a child's
//! `obsolete` option) are removed with their storage by [`cleanup`] once `[db] cleanup obsolete
//! charts after secs` have passed, so a node's memory follows what exists, not what ever did.

mod chart;
pub mod cleanup;
mod health_policy;
mod host;
mod variables;

pub use chart::{
    Chart, ChartMeta, ChartView, ClockLeap, ClockRefused, Collection, DimView, DimensionMeta, Point,
    StreamState, TierRange,
};
pub use cleanup::{CleanupPolicy, Removed};
pub use health_policy::{HealthEnabled, HealthPolicy, DEFAULT_HEALTH_LOG_HISTORY};
pub use host::{ChildStatus, Host, HostSettings, Hosts};
pub use variables::{VariableSet, Variables, MAX_CHART_VARIABLES, MAX_HOST_VARIABLES, MAX_VARIABLE_NAME};

use std::fmt;

/// How far past the local clock a time from outside (a child's `BEGIN` microseconds,
/// `RSSTATE`, `RDSTATE`, a replicated point; a plugin's `BEGIN`) may move a chart's clock.
/// Further is refused: nothing is stored.
///
/// 60 s: wide enough for the clock of a child without NTP to be ahead of its parent's by
/// what a cheap real-time clock drifts in weeks, plus network delay and the half-second
/// alignment of collections; narrow enough that one line can make a chart store at most a
/// minute of slots beyond what really elapsed (so the work of every line is bounded by the
/// dimensions and the real time, whatever the peer wrote).
pub const MAX_FUTURE_SECS: u64 = 60;

/// Sees every completed collection of a host's charts (the streaming sender). Called with
/// the chart locked, before the collection's raw values are cleared; it must not block.
pub trait Observer: Send + Sync {
    fn collected(&self, chart: &ChartView<'_>, stream: &mut StreamState);

    /// The chart has just become obsolete (it will not be collected again). Called with the
    /// chart locked; it must not block.
    fn obsoleted(&self, _chart: &ChartView<'_>, _stream: &mut StreamState) {}
}

/// How a dimension turns raw collected integers into stored values (protocol.md §5.4).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// `value × multiplier / divisor`.
    Absolute,
    /// The per-second rate of a counter, `Δvalue × multiplier / divisor / Δt`.
    Incremental,
    /// The dimension's share of the sum of all dimensions of the chart, in percent.
    PercentageOfAbsoluteRow,
    /// The dimension's share of the increment of all dimensions of the chart, in percent.
    PercentageOfIncrementalRow,
}

impl Algorithm {
    /// Parses the wire name; like Netdata, anything unknown is `absolute`.
    pub fn parse(name: &str) -> Algorithm {
        match name {
            "incremental" => Algorithm::Incremental,
            "percentage-of-absolute-row" => Algorithm::PercentageOfAbsoluteRow,
            "percentage-of-incremental-row" => Algorithm::PercentageOfIncrementalRow,
            _ => Algorithm::Absolute,
        }
    }

    /// The name used on the wire and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Absolute => "absolute",
            Algorithm::Incremental => "incremental",
            Algorithm::PercentageOfAbsoluteRow => "percentage-of-absolute-row",
            Algorithm::PercentageOfIncrementalRow => "percentage-of-incremental-row",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a chart is drawn.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChartType {
    Line,
    Area,
    Stacked,
}

impl ChartType {
    /// Parses the wire name; like Netdata, anything unknown is `line`.
    pub fn parse(name: &str) -> ChartType {
        match name {
            "area" => ChartType::Area,
            "stacked" => ChartType::Stacked,
            _ => ChartType::Line,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChartType::Line => "line",
            ChartType::Area => "area",
            ChartType::Stacked => "stacked",
        }
    }
}

/// Chart options of the `CHART` line.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartOptions {
    pub obsolete: bool,
    pub detail: bool,
    pub store_first: bool,
    pub hidden: bool,
}

impl ChartOptions {
    /// Parses the space-separated options word of a `CHART` line (substring match, as Netdata).
    pub fn parse(words: &str) -> ChartOptions {
        ChartOptions {
            obsolete: words.contains("obsolete"),
            detail: words.contains("detail"),
            store_first: words.contains("store_first"),
            hidden: words.contains("hidden"),
        }
    }

    /// The four-slot form a 1.37 child sends: `obsolete detail store_first hidden`, empty slots
    /// kept, so no options is three spaces.
    pub fn to_wire(self) -> String {
        let slot = |on: bool, word: &'static str| if on { word } else { "" };
        format!(
            "{} {} {} {}",
            slot(self.obsolete, "obsolete"),
            slot(self.detail, "detail"),
            slot(self.store_first, "store_first"),
            slot(self.hidden, "hidden")
        )
    }
}

/// Dimension options of the `DIMENSION` line.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct DimensionOptions {
    pub obsolete: bool,
    pub hidden: bool,
    /// Do not flag counter resets or overflows (`noreset` / `nooverflow`).
    pub noreset: bool,
}

impl DimensionOptions {
    pub fn parse(words: &str) -> DimensionOptions {
        DimensionOptions {
            obsolete: words.contains("obsolete"),
            hidden: words.contains("hidden"),
            noreset: words.contains("noreset") || words.contains("nooverflow"),
        }
    }

    /// The three-slot form a 1.37 child sends: `obsolete hidden noreset`.
    pub fn to_wire(self) -> String {
        let slot = |on: bool, word: &'static str| if on { word } else { "" };
        format!(
            "{} {} {}",
            slot(self.obsolete, "obsolete"),
            slot(self.hidden, "hidden"),
            slot(self.noreset, "noreset")
        )
    }
}

/// Label source bits as Netdata sends them (`CLABEL name value source`).
pub mod label_source {
    pub const AUTO: u32 = 1;
    pub const CONFIG: u32 = 2;
    pub const K8S: u32 = 4;
    pub const ACLK: u32 = 8;
    pub const PERMANENT: u32 = 1 << 29;
}

/// A name/value label with its source bitmask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub name: String,
    pub value: String,
    pub source: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_words_round_trip() {
        let o = ChartOptions::parse(" detail  ");
        assert!(o.detail && !o.obsolete && !o.hidden && !o.store_first);
        assert_eq!(o.to_wire(), " detail  ");
        assert_eq!(ChartOptions::default().to_wire(), "   ");
        let d = DimensionOptions::parse(" hidden ");
        assert!(d.hidden && !d.noreset);
        assert_eq!(d.to_wire(), " hidden ");
        assert!(DimensionOptions::parse("nooverflow").noreset);
    }

    #[test]
    fn unknown_names_fall_back_like_netdata() {
        assert_eq!(Algorithm::parse("bogus"), Algorithm::Absolute);
        assert_eq!(ChartType::parse("pie"), ChartType::Line);
        for a in [
            Algorithm::Absolute,
            Algorithm::Incremental,
            Algorithm::PercentageOfAbsoluteRow,
            Algorithm::PercentageOfIncrementalRow,
        ] {
            assert_eq!(Algorithm::parse(a.as_str()), a);
        }
    }
}

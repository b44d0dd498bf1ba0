//! `/proc/net/stat/nf_conntrack`: the connection tracker's table size and events, summed
//! over the per-CPU rows (hex counters; columns found by their header names, which differ
//! between kernels). Without that file, `/proc/sys/net/netfilter/nf_conntrack_count` still
//! gives the number of tracked connections.
//!
//! Chart ids, titles, units, families, priorities and dimensions are Netdata 1.37's. The
//! charts are always shown (`[plugin:proc:/proc/net/stat/nf_conntrack]`, Netdata's option
//! names, default `yes`): a router's conntrack table at zero is worth seeing.
//!
//! Like Netdata's proc plugin it also keeps the host variable `netfilter_conntrack_max` (the
//! table size, `/proc/sys/net/netfilter/nf_conntrack_max`, read every
//! `[plugin:proc:/proc/sys/net/netfilter/nf_conntrack_max] read every seconds`, default 10)
//! for the stock alarm on the table's use; where that file does not exist there is no such
//! variable.

use std::path::Path;
use std::sync::Arc;

use super::table::{keyed, Dim, FileSet, FileSpec, Format, KeyedFile, Mode, Spec};
use super::{parse_u64, CollectError, Collector, ProcFile};
use crate::clock::USEC_PER_SEC;
use crate::rrd::Host;

const MODULE: &str = "/proc/net/stat/nf_conntrack";
/// The host variable with the table size (stock `health.d/netfilter.conf` reads it).
pub const CONNTRACK_MAX: &str = "netfilter_conntrack_max";
/// Netdata's default of `read every seconds` for the table size.
pub const DEFAULT_MAX_EVERY: u32 = 10;

/// The conntrack collector: reads `proc/net/stat/nf_conntrack` (or, without it,
/// `proc/sys/net/netfilter/nf_conntrack_count`) below `prefix`, and every `max_every`
/// seconds `proc/sys/net/netfilter/nf_conntrack_max`; `mode` answers each chart's switch.
pub fn new(
    host: Arc<Host>,
    prefix: &Path,
    mode: &dyn Fn(&str, &Spec) -> Mode,
    update_every: u32,
    max_every: u32,
) -> Conntrack {
    Conntrack {
        table: keyed(Arc::clone(&host), prefix, &Files, mode, false, update_every),
        host,
        max: ProcFile::new(prefix.join("proc/sys/net/netfilter/nf_conntrack_max")),
        max_every_ut: u64::from(max_every.max(1)) * USEC_PER_SEC,
        max_read_ut: None,
    }
}

/// The charts of [`new`], and the table size as a host variable.
pub struct Conntrack {
    table: KeyedFile,
    host: Arc<Host>,
    max: ProcFile,
    max_every_ut: u64,
    /// When the table size was last read.
    max_read_ut: Option<u64>,
}

impl Collector for Conntrack {
    fn name(&self) -> &str {
        self.table.name()
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let collected = self.table.collect(now_ut);
        if matches!(collected, Err(CollectError::Disabled(_))) {
            return collected; // no conntrack here at all: no table size either
        }
        let due = self.max_read_ut.is_none_or(|t| now_ut.saturating_sub(t) >= self.max_every_ut);
        if due {
            self.max_read_ut = Some(now_ut);
            // A missing file (no conntrack sysctl in this namespace) is simply no variable;
            // it is looked for again next time, as Netdata does.
            if let Ok(text) = self.max.read() {
                let text = text.trim();
                if text.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
                    self.host.set_variable(CONNTRACK_MAX, parse_u64(text) as f64);
                }
            }
        }
        collected
    }
}

struct Files;

impl FileSet for Files {
    const NAME: &'static str = "proc.nf_conntrack";
    const MODULE: Option<&'static str> = None;
    fn files(&self) -> Vec<(bool, &'static FileSpec)> {
        vec![(true, &STAT), (true, &COUNT)]
    }
}

static STAT: FileSpec = FileSpec { name: MODULE, format: Format::HexRows, charts: &CHARTS, fallback: false };
static COUNT: FileSpec = FileSpec {
    name: "/proc/sys/net/netfilter/nf_conntrack_count",
    format: Format::Number("entries"),
    charts: &[],
    fallback: true,
};

const fn inc(f: &'static str, name: &'static str, m: i64) -> Dim {
    Dim::inc("", f, name, m)
}

/// A `netfilter.*` chart of family `conntrack`.
const fn nf(
    id: &'static str,
    title: &'static str,
    units: &'static str,
    priority: i64,
    dims: &'static [Dim],
) -> Spec {
    Spec::new("netfilter", id, title, units, "conntrack", priority, dims)
}

#[rustfmt::skip]
pub static CHARTS: [Spec; 6] = [
    nf("conntrack_sockets", "Connection Tracker Connections", "active connections", 8700, &[
        Dim::abs("", "entries", "connections", 1).id("connections"),
    ]).option("netfilter connections"),
    nf("conntrack_new", "Connection Tracker New Connections", "connections/s", 8701, &[
        inc("new", "new", 1),
        inc("ignore", "ignore", -1),
        inc("invalid", "invalid", -1),
    ]).option("netfilter new connections"),
    nf("conntrack_changes", "Connection Tracker Changes", "changes/s", 8702, &[
        inc("insert", "inserted", 1).id("inserted"),
        inc("delete", "deleted", -1).id("deleted"),
        inc("delete_list", "delete_list", -1),
    ]).detail().option("netfilter connection changes"),
    nf("conntrack_expect", "Connection Tracker Expectations", "expectations/s", 8703, &[
        inc("expect_create", "created", 1).id("created"),
        inc("expect_delete", "deleted", -1).id("deleted"),
        inc("expect_new", "new", 1).id("new"),
    ]).detail().option("netfilter connection expectations"),
    nf("conntrack_search", "Connection Tracker Searches", "searches/s", 8710, &[
        inc("searched", "searched", 1),
        inc("search_restart", "restarted", -1).id("restarted"),
        inc("found", "found", 1),
    ]).detail().option("netfilter connection searches"),
    nf("conntrack_errors", "Connection Tracker Errors", "events/s", 8705, &[
        inc("icmp_error", "icmp_error", 1),
        inc("insert_failed", "insert_failed", -1),
        inc("drop", "drop", -1),
        inc("early_drop", "early_drop", -1),
    ]).detail().option("netfilter errors"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::table::tests::{approx, fixture, host, last, scratch, T0};
    use crate::collectors::{CollectError, Collector};

    #[test]
    fn rows_are_summed_and_entries_taken_once() {
        let dir = scratch("conntrack");
        std::fs::create_dir_all(dir.join("proc/net/stat")).unwrap();
        let host = host();
        let mut c = new(Arc::clone(&host), &dir, &|_, _| Mode::Yes, 1, DEFAULT_MAX_EVERY);
        for (i, f) in ["nf_conntrack.1", "nf_conntrack.2", "nf_conntrack.3"].iter().enumerate() {
            std::fs::copy(fixture(&format!("proc/{f}")), dir.join("proc/net/stat/nf_conntrack")).unwrap();
            c.collect(T0 + i as u64 * 1_000_000).unwrap();
        }
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(
            ids,
            [
                "netfilter.conntrack_sockets",
                "netfilter.conntrack_new",
                "netfilter.conntrack_changes",
                "netfilter.conntrack_expect",
                "netfilter.conntrack_search",
                "netfilter.conntrack_errors"
            ]
        );
        let s = host.chart("netfilter.conntrack_sockets").unwrap().meta();
        assert_eq!((s.units.as_str(), s.priority, s.module.as_str()), ("active connections", 8700, MODULE));
        // entries 0x1f4 = 500 on both CPUs' rows: 500 connections, not 1000.
        assert!(approx(last(&host, "netfilter.conntrack_sockets", "connections"), 500.0));
        // new: +0x10 on cpu0 and +0x20 on cpu1 each second.
        assert!(approx(last(&host, "netfilter.conntrack_new", "new"), 48.0));
        assert!(approx(last(&host, "netfilter.conntrack_errors", "drop"), -2.0));
        assert!(approx(last(&host, "netfilter.conntrack_changes", "inserted"), 40.0));
        assert_eq!(host.variable(CONNTRACK_MAX), None, "no nf_conntrack_max file, no variable");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn without_stats_the_count_file_still_counts() {
        let dir = scratch("conntrack-count");
        std::fs::create_dir_all(dir.join("proc/sys/net/netfilter")).unwrap();
        std::fs::copy(
            fixture("proc/nf_conntrack_count.1"),
            dir.join("proc/sys/net/netfilter/nf_conntrack_count"),
        )
        .unwrap();
        let host = host();
        let mut c = new(Arc::clone(&host), &dir, &|_, _| Mode::Yes, 1, DEFAULT_MAX_EVERY);
        c.collect(T0).unwrap();
        c.collect(T0 + 1_000_000).unwrap();
        assert!(approx(last(&host, "netfilter.conntrack_sockets", "connections"), 1234.0));
        assert!(host.chart("netfilter.conntrack_new").is_none());
        let mut gone = new(host, &scratch("conntrack-none"), &|_, _| Mode::Yes, 1, DEFAULT_MAX_EVERY);
        assert!(matches!(gone.collect(T0), Err(CollectError::Disabled(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_table_size_is_a_host_variable_read_every_max_every_seconds() {
        let dir = scratch("conntrack-max");
        std::fs::create_dir_all(dir.join("proc/net/stat")).unwrap();
        std::fs::create_dir_all(dir.join("proc/sys/net/netfilter")).unwrap();
        std::fs::copy(fixture("proc/nf_conntrack.1"), dir.join("proc/net/stat/nf_conntrack")).unwrap();
        let max = dir.join("proc/sys/net/netfilter/nf_conntrack_max");
        std::fs::write(&max, "65536\n").unwrap();
        let host = host();
        let mut c = new(Arc::clone(&host), &dir, &|_, _| Mode::Yes, 1, 10);
        c.collect(T0).unwrap();
        assert_eq!(host.variable(CONNTRACK_MAX), Some(65536.0), "read on the first collection");
        std::fs::write(&max, "262144\n").unwrap();
        c.collect(T0 + 9_000_000).unwrap();
        assert_eq!(host.variable(CONNTRACK_MAX), Some(65536.0), "not again before 10 s");
        c.collect(T0 + 10_000_000).unwrap();
        assert_eq!(host.variable(CONNTRACK_MAX), Some(262144.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn new_kernel_header_parses() {
        let host = host();
        let dir = scratch("conntrack-real");
        std::fs::create_dir_all(dir.join("proc/net/stat")).unwrap();
        std::fs::copy(fixture("proc/nf_conntrack.real-x86_64"), dir.join("proc/net/stat/nf_conntrack"))
            .unwrap();
        let mut c = new(Arc::clone(&host), &dir, &|_, _| Mode::Yes, 1, DEFAULT_MAX_EVERY);
        c.collect(T0).unwrap();
        assert_eq!(host.chart_count(), 6);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

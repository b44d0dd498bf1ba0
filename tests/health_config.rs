//! The `health.d` reader against real files: Debian's Netdata 1.37.1 stock files (read in
//! place from /usr/lib/netdata, never copied) load without an error and give the entries
//! read by hand from them; nanodata's own stock files (conf.d/health.d) load without an
//! error and bind to charts nanodata's collectors make.
#![cfg(feature = "health")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

use common::{require, Dep};
use nanodata::health::config::{self, AlarmConfig, Delay, Dirs, Kind, Repeat};
use nanodata::health::expr::{Expr, NoVars};
use nanodata::query::Group;

const NETDATA_STOCK: &str = "/usr/lib/netdata/conf.d/health.d";

/// Debian's files, or `None` when the `netdata` package is not installed (`require`
/// decides: under CI that fails the test).
fn netdata_stock() -> Option<PathBuf> {
    if !require(Dep::Netdata, "the test reads Debian's stock health.d in place") {
        return None;
    }
    let dir = PathBuf::from(NETDATA_STOCK);
    assert!(dir.is_dir(), "{NETDATA_STOCK} is missing although the netdata package is installed");
    Some(dir)
}

fn no_user_dir() -> PathBuf {
    std::env::temp_dir().join(format!("nanodata-health-config-no-user-dir-{}", std::process::id()))
}

fn find<'a>(entries: &'a [AlarmConfig], name: &str) -> &'a AlarmConfig {
    let found: Vec<&AlarmConfig> = entries.iter().filter(|e| e.name == name).collect();
    assert_eq!(found.len(), 1, "entries named {name}");
    found[0]
}

/// The entry defined at `line` of `file` in `dir`.
fn at<'a>(entries: &'a [AlarmConfig], dir: &Path, file: &str, line: usize) -> &'a AlarmConfig {
    let source = format!("{line}@{}", dir.join(file).display());
    entries.iter().find(|e| e.source == source).unwrap_or_else(|| panic!("no entry at {source}"))
}

fn expr(e: &Option<nanodata::health::expr::Expr>) -> Option<&str> {
    e.as_ref().map(|e| e.source())
}

#[test]
fn netdata_stock_files_load_without_errors() {
    let Some(stock) = netdata_stock() else { return };
    let loaded = config::read(&Dirs { stock: stock.clone(), user: no_user_dir() });
    let shown: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
    assert!(shown.is_empty(), "errors: {shown:#?}");
    assert_eq!(loaded.files.len(), 76);
    assert_eq!(loaded.entries.len(), 284);
    let alarms = loaded.entries.iter().filter(|e| e.kind == Kind::Alarm).count();
    let templates = loaded.entries.iter().filter(|e| e.kind == Kind::Template).count();
    assert_eq!((alarms, templates), (44, 240));
    // protocol.md §9.1: 11 entries use no-clear-notification; 7 lookups use foreach.
    assert_eq!(loaded.entries.iter().filter(|e| e.no_clear_notification).count(), 11);
    assert_eq!(
        loaded.entries.iter().filter(|e| e.lookup.as_ref().is_some_and(|l| l.foreach.is_some())).count(),
        7
    );
    // Files are read in name order.
    let names: Vec<&str> = loaded.files.iter().filter_map(|p| p.file_name()?.to_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.first(), Some(&"adaptec_raid.conf"));
}

#[test]
fn netdata_stock_entries_read_by_hand() {
    let Some(stock) = netdata_stock() else { return };
    let entries = config::load(&Dirs { stock: stock.clone(), user: no_user_dir() });

    // cpu.conf, line 4 (line 53 has the FreeBSD one of the same name).
    let c = at(&entries, &stock, "cpu.conf", 4);
    assert_eq!((c.kind, c.name.as_str()), (Kind::Template, "10min_cpu_usage"));
    assert_eq!(at(&entries, &stock, "cpu.conf", 53).os.as_deref(), Some("freebsd"));
    assert_eq!(c.on, "system.cpu");
    assert_eq!(c.source, format!("4@{}", stock.join("cpu.conf").display()));
    assert_eq!(
        (c.class.as_deref(), c.type_.as_deref(), c.component.as_deref()),
        (Some("Utilization"), Some("System"), Some("CPU"))
    );
    assert_eq!((c.os.as_deref(), c.hosts.as_deref()), (Some("linux"), Some("*")));
    let l = c.lookup.as_ref().expect("lookup");
    assert_eq!((l.group, l.after, l.before, l.every), (Group::Average, -600, 0, 600));
    assert!(l.options.unaligned && !l.options.absolute && !l.options.percentage);
    assert_eq!(l.of.as_deref(), Some("user,system,softirq,irq,guest"));
    assert_eq!(l.foreach, None);
    assert_eq!((c.units.as_deref(), c.every, c.update_every()), (Some("%"), Some(60), Some(60)));
    // trim_all made the two spaces before `?` one.
    assert_eq!(expr(&c.warn), Some("$this > (($status >= $WARNING) ? (75) : (85))"));
    assert_eq!(expr(&c.crit), Some("$this > (($status == $CRITICAL) ? (85) : (95))"));
    assert!(c.calc.is_none());
    assert_eq!(c.delay, Delay { up: 0, down: 900, multiplier: 1.5, max: Some(3600) });
    assert_eq!(c.repeat, Repeat::default());
    assert_eq!(
        c.info.as_deref(),
        Some("average CPU utilization over the last 10 minutes (excluding iowait, nice and steal)")
    );
    assert_eq!(c.to.as_deref(), Some("sysadmin"));
    assert!(!c.no_clear_notification);

    // dbengine.conf, line 34: an `alarm`, its info continued over two lines, with an
    // apostrophe that strip_quotes turns into a space.
    let c = at(&entries, &stock, "dbengine.conf", 34);
    assert_eq!((c.kind, c.name.as_str()), (Kind::Alarm, "10min_dbengine_global_flushing_warnings"));
    assert_eq!(c.on, "netdata.dbengine_global_errors");
    assert_eq!(c.source, format!("34@{}", stock.join("dbengine.conf").display()));
    assert_eq!(
        (c.class.as_deref(), c.type_.as_deref(), c.component.as_deref()),
        (Some("Errors"), Some("Netdata"), Some("DB engine"))
    );
    assert_eq!((c.os.as_deref(), c.hosts.as_deref()), (Some("linux freebsd macos"), Some("*")));
    let l = c.lookup.as_ref().expect("lookup");
    assert_eq!((l.group, l.after, l.every), (Group::Sum, -600, 600));
    assert!(l.options.unaligned);
    assert_eq!(l.of.as_deref(), Some("pg_cache_over_half_dirty_events"));
    assert_eq!((c.units.as_deref(), c.every), (Some("errors"), Some(10)));
    assert_eq!((expr(&c.warn), expr(&c.crit)), (Some("$this > 0"), None));
    assert_eq!(c.delay, Delay { up: 0, down: 3600, multiplier: 1.5, max: Some(10800) });
    assert_eq!(
        c.info.as_deref(),
        Some(
            "number of times when dbengine dirty pages were over 50% of the instance s page cache \
             in the last 10 minutes. Metric data are at risk of not being stored in the database. \
             To remedy, reduce disk load or use faster disks."
        )
    );
    assert_eq!(c.to.as_deref(), Some("sysadmin"));

    // ping.conf, line 35: green and red, `$label:host` kept as text in info.
    let c = at(&entries, &stock, "ping.conf", 35);
    assert_eq!(c.name, "ping_host_latency");
    assert_eq!(c.families.as_deref(), Some("*"));
    assert_eq!((c.kind, c.on.as_str()), (Kind::Template, "ping.host_rtt"));
    assert_eq!(c.source, format!("35@{}", stock.join("ping.conf").display()));
    assert_eq!((c.green, c.red), (Some(500.0), Some(1000.0)));
    let l = c.lookup.as_ref().expect("lookup");
    assert_eq!((l.group, l.after, l.of.as_deref()), (Group::Average, -10, Some("avg")));
    assert_eq!(expr(&c.warn), Some("$this > $green OR $max > $red"));
    assert_eq!(expr(&c.crit), Some("$this > $red"));
    assert_eq!(c.delay, Delay { up: 0, down: 1800, multiplier: 1.5, max: Some(7200) });
    assert_eq!(
        c.info.as_deref(),
        Some("average latency to the network host $label:host over the last 10 seconds")
    );

    // adaptec_raid.conf, line 4: `foreach`.
    let c = at(&entries, &stock, "adaptec_raid.conf", 4);
    assert_eq!(c.name, "adaptec_raid_ld_status");
    let l = c.lookup.as_ref().expect("lookup");
    assert_eq!((l.group, l.after, l.of.as_deref(), l.foreach.as_deref()), (Group::Max, -10, None, Some("*")));
    assert_eq!(c.families, None);
    assert_eq!(expr(&c.crit), Some("$this > 0"));

    // ram.conf: `host labels` with the spaces around `=` taken out.
    let c = at(&entries, &stock, "ram.conf", 36);
    assert_eq!((c.kind, c.name.as_str(), c.on.as_str()), (Kind::Alarm, "oom_kill", "mem.oom_kill"));
    assert_eq!(c.host_labels.as_deref(), Some("_is_k8s_node=false"));
    assert_eq!((c.every, c.delay.down, c.delay.max), (Some(300), 600, None));
}

/// Contexts nanodata's collectors make, with the dimensions (ids and names) the stock
/// files use: src/collectors/proc_stat.rs (system.cpu), loadavg.rs, meminfo.rs (system.ram,
/// system.swap, mem.available), vmstat.rs (mem.oom_kill), net_dev.rs (net.errors, net.drops),
/// softnet.rs, nf_conntrack.rs, net_netstat.rs (ip.tcp_accept_queue), net_snmp.rs
/// (ipv4.tcphandshake), entropy.rs, diskspace.rs, uptime.rs, self_stats.rs (streaming), and
/// the parent's per-child connection charts (src/stream/receiver/charts.rs).
const NANODATA_CONTEXTS: &[(&str, &[&str])] = &[
    ("system.cpu", &["guest_nice", "guest", "steal", "softirq", "irq", "user", "system", "nice", "iowait"]),
    ("system.load", &["load1", "load5", "load15"]),
    ("system.ram", &["free", "used", "cached", "buffers"]),
    ("system.swap", &["free", "used"]),
    ("mem.available", &["MemAvailable", "avail"]),
    ("mem.oom_kill", &["kills"]),
    ("net.errors", &["inbound", "outbound"]),
    ("net.drops", &["inbound", "outbound"]),
    ("system.softnet_stat", &["processed", "dropped", "squeezed", "received_rps", "flow_limit_count"]),
    ("netfilter.conntrack_sockets", &["connections"]),
    ("netfilter.conntrack_errors", &["icmp_error", "insert_failed", "drop", "early_drop"]),
    ("ip.tcp_accept_queue", &["ListenOverflows", "overflows", "ListenDrops", "drops"]),
    ("ipv4.tcphandshake", &["EstabResets", "OutRsts", "AttemptFails", "TCPSynRetrans"]),
    ("system.entropy", &["entropy"]),
    ("disk.space", &["avail", "used", "reserved_for_root"]),
    ("disk.inodes", &["avail", "used", "reserved_for_root"]),
    ("system.uptime", &["uptime"]),
    ("netdata.streaming_buffer", &["used", "free"]),
    ("netdata.streaming_dropped", &["dropped"]),
    // src/stream/receiver/charts.rs: one chart per child, on a parent.
    ("netdata.streaming_child", &["connected", "seconds_since_data"]),
];

fn nanodata_stock() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf.d/health.d")
}

#[test]
fn nanodata_stock_files_load_and_bind_to_nanodata_charts() {
    let stock = nanodata_stock();
    let loaded = config::read(&Dirs { stock: stock.clone(), user: no_user_dir() });
    let shown: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
    assert!(shown.is_empty(), "errors: {shown:#?}");
    let files: Vec<&str> = loaded.files.iter().filter_map(|p| p.file_name()?.to_str()).collect();
    for f in ["cpu.conf", "ram.conf", "net.conf", "netfilter.conf", "tcp.conf", "entropy.conf"] {
        assert!(files.contains(&f), "{f} in {files:?}");
    }
    assert!(loaded.entries.len() >= 20, "{} entries", loaded.entries.len());

    let known: BTreeMap<&str, &[&str]> = NANODATA_CONTEXTS.iter().copied().collect();
    let mut names = std::collections::BTreeSet::new();
    for e in &loaded.entries {
        assert!(names.insert(e.name.as_str()), "{} is defined twice", e.name);
        // An alarm's `on` is a chart id; every chart nanodata makes for these is the one
        // chart of its context (system.*, netfilter.*, netdata.*), so both read the same.
        let dims = known.get(e.on.as_str()).unwrap_or_else(|| {
            panic!("{} ({}) is on '{}', which nanodata does not chart", e.name, e.source, e.on)
        });
        if let Some(of) = e.lookup.as_ref().and_then(|l| l.of.as_deref()) {
            for d in of.split([',', '|', ' ']).filter(|d| !d.is_empty()) {
                assert!(dims.contains(&d), "{}: dimension '{d}' is not on {}", e.name, e.on);
            }
        }
        assert!(e.update_every().is_some_and(|s| s >= 10), "{}: evaluated every 10 s or less often", e.name);
        assert!(e.warn.is_some() || e.crit.is_some(), "{} raises nothing", e.name);
        assert!(e.info.as_deref().is_some_and(|i| !i.is_empty()), "{} has no info", e.name);
        assert!(e.units.is_some() && e.to.is_some() && e.class.is_some(), "{} lacks units/to/class", e.name);
        assert!(e.source.ends_with(".conf"), "{}", e.source);
    }

    // Spot checks, by hand from the files.
    let c = find(&loaded.entries, "cpu_busy_10min");
    assert_eq!((c.kind, c.on.as_str()), (Kind::Template, "system.cpu"));
    let l = c.lookup.as_ref().expect("lookup");
    assert_eq!((l.group, l.after, l.every), (Group::Average, -600, 600));
    assert_eq!(l.of.as_deref(), Some("user,system,softirq,irq,guest"));
    assert_eq!(c.every, Some(60));
    let c = find(&loaded.entries, "conntrack_table_use");
    assert_eq!((c.kind, c.on.as_str(), c.every), (Kind::Alarm, "netfilter.conntrack_sockets", Some(10)));
    assert_eq!(expr(&c.calc), Some("$this * 100 / $netfilter_conntrack_max"));
    let c = find(&loaded.entries, "ram_available_low");
    assert_eq!(expr(&c.warn), Some("$this < (($status >= $WARNING) ? (15) : (10))"));
    assert_eq!(c.delay, Delay { up: 0, down: 600, multiplier: 1.5, max: Some(3600) });
    let c = find(&loaded.entries, "streaming_child_disconnected");
    assert_eq!((c.kind, c.on.as_str(), c.every), (Kind::Template, "netdata.streaming_child", Some(10)));
    assert_eq!((expr(&c.calc), expr(&c.crit)), (Some("$connected"), Some("$this == 0")));
    assert_eq!(c.delay, Delay { up: 30, down: 120, multiplier: 1.5, max: Some(3600) });
    assert_eq!(c.to.as_deref(), Some("sysadmin"));
}

/// nanodata's stock files never carry Netdata's text: no line of them (other than
/// blank or a bare key) appears in Debian's stock files.
#[test]
fn nanodata_stock_files_are_not_netdata_text() {
    let Some(netdata) = netdata_stock() else { return };
    let mut theirs = std::collections::HashSet::new();
    for entry in std::fs::read_dir(netdata).expect("netdata stock dir").flatten() {
        if let Ok(text) = std::fs::read_to_string(entry.path()) {
            for line in text.lines() {
                theirs.insert(line.trim().to_owned());
            }
        }
    }
    for entry in std::fs::read_dir(nanodata_stock()).expect("nanodata stock dir").flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("read");
        for line in text.lines().map(str::trim) {
            let prose = line.starts_with('#') || line.starts_with("info:");
            if prose && line.len() > 12 {
                assert!(!theirs.contains(line), "{}: '{line}' is Netdata's text", entry.path().display());
            }
        }
    }
}

// ---- properties --------------------------------------------------------------------------

mod properties {
    use proptest::prelude::*;

    use nanodata::health::config::{self, duration, Kind};
    use nanodata::query::Group;
    use std::path::Path;

    fn cfg() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
        ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
    }

    /// Lines made of the pieces the syntax cares about, shuffled: whatever the text, the
    /// parser returns, and what it returns is complete.
    fn line() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "alarm:",
            "template:",
            "on:",
            "lookup:",
            "every:",
            "calc:",
            "warn:",
            "crit:",
            "delay:",
            "repeat:",
            "options:",
            "to:",
            "info:",
            "host labels:",
            "families:",
            " ",
            "  ",
            "\t",
            "\\",
            "#",
            ":",
            "-10m",
            "1h",
            "never",
            "average",
            "sum",
            "of",
            "foreach",
            "at",
            "unaligned",
            "up",
            "down",
            "multiplier",
            "max",
            "off",
            "warning",
            "1.5",
            "x",
            "é",
            "$this > 1",
            "*",
            ",",
            "\r",
        ]);
        prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(cfg())]

        #[test]
        fn any_text_parses_into_complete_entries(lines in prop::collection::vec(line(), 0..40)) {
            let text = lines.join("\n");
            let (entries, errors) = config::parse(&text, Path::new("p.conf"));
            let physical = text.split('\n').count();
            for e in &entries {
                prop_assert!(!e.on.is_empty());
                prop_assert!(e.update_every().is_some_and(|s| s > 0));
                prop_assert!(e.lookup.is_some() || e.calc.is_some() || e.warn.is_some() || e.crit.is_some());
                prop_assert!(e.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_'));
                prop_assert!(e.source.ends_with("@p.conf"));
            }
            for err in &errors {
                prop_assert!(err.line >= 1 && err.line <= physical, "{}", err);
            }
        }

        #[test]
        fn duration_never_panics(s in ".{0,12}") {
            let _ = duration(&s);
        }

        /// A well-formed entry, written with any case of keys, any spacing, and its lookup
        /// split over continuation lines, reads back as written.
        #[test]
        fn written_entries_read_back(
            after_min in 1i64..600,
            before_min in 0i64..60,
            every_s in 1u32..3600,
            up_s in 0u32..7200,
            mult_tenths in 10u32..40,
            upper in any::<bool>(),
            pad in prop::sample::select(vec![" ", "   ", "\t", " \t "]),
            split_at in 0usize..6,
            template in any::<bool>(),
        ) {
            let key = |k: &str| if upper { k.to_ascii_uppercase() } else { k.to_owned() };
            let words = [
                "max".to_owned(),
                format!("-{after_min}m"),
                "at".to_owned(),
                format!("-{before_min}m"),
                "unaligned".to_owned(),
                "of a,b".to_owned(),
            ];
            let mut lookup = words[..split_at].join(" ");
            lookup.push_str(" \\\n   ");
            lookup.push_str(&words[split_at..].join(" "));
            let kind = if template { "template" } else { "alarm" };
            let text = format!(
                "# generated\n{pad}{}:{pad}gen_1{pad}\n{}: c.x\n{}: {lookup}\n{}:{pad}{every_s}s\n{}: $this > 0\n\
                 {}: up {up_s} multiplier {}.{}\n",
                key(kind), key("on"), key("lookup"), key("every"), key("warn"), key("delay"),
                mult_tenths / 10, mult_tenths % 10,
            );
            let (entries, errors) = config::parse(&text, Path::new("g.conf"));
            prop_assert!(errors.is_empty(), "{:?}\n{}", errors, text);
            prop_assert_eq!(entries.len(), 1);
            let e = &entries[0];
            prop_assert_eq!(e.kind, if template { Kind::Template } else { Kind::Alarm });
            prop_assert_eq!(e.name.as_str(), "gen_1");
            prop_assert_eq!(e.source.as_str(), "2@g.conf");
            let l = e.lookup.as_ref().expect("lookup");
            prop_assert_eq!(l.group, Group::Max);
            prop_assert_eq!((l.after, l.before, l.every), (-60 * after_min, -60 * before_min, 60 * after_min as u32));
            prop_assert!(l.options.unaligned);
            prop_assert_eq!(l.of.as_deref(), Some("a,b"));
            prop_assert_eq!(e.every, Some(every_s));
            prop_assert_eq!(e.delay.up, up_s);
            prop_assert!((e.delay.multiplier - f64::from(mult_tenths) / 10.0).abs() < 1e-9);
        }
    }
}

/// Every `calc`, `warn` and `crit` of Debian's stock files parses, evaluates (a value or one
/// of the two failures, never a panic) with no variables, all ones, or mixed values, and its
/// printed form parses back to the same print.
#[test]
fn every_stock_expression_parses_evaluates_and_prints() {
    let Some(stock) = netdata_stock() else { return };
    let loaded = config::read(&Dirs { stock, user: no_user_dir() });
    let mut n = 0;
    let ones = |name: &str| Some(if name == "status" { 3.0 } else { 1.0 });
    let mixed = |name: &str| Some(name.len() as f64 - 4.0);
    for entry in &loaded.entries {
        for e in [&entry.calc, &entry.warn, &entry.crit].into_iter().flatten() {
            let _ = (e.eval(&NoVars), e.eval(&ones), e.eval(&mixed));
            let again = Expr::parse(&e.parsed()).unwrap_or_else(|err| {
                panic!("{}: {:?} prints as {:?}: {err}", entry.source, e.source(), e.parsed())
            });
            assert_eq!(again.parsed(), e.parsed(), "{}", entry.source);
            n += 1;
        }
    }
    // Debian's 1.37.1 files hold 517 of these lines.
    assert_eq!(n, 517, "stock expressions found");
}

//! Unit tests of the `health.d` reader: expected values are worked out by hand from
//! Netdata's rules (health_config.c, `config_parse_duration`, `trim_all`, `strip_quotes`,
//! `rrdvar_fix_name`, `recursive_config_double_dir_load`).

use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::query::{Group, Options};

fn parse_ok(text: &str) -> Vec<AlarmConfig> {
    let (entries, errors) = parse(text, Path::new("/x/t.conf"));
    assert!(errors.is_empty(), "unexpected errors: {errors:?}");
    entries
}

fn one(text: &str) -> AlarmConfig {
    let mut v = parse_ok(text);
    assert_eq!(v.len(), 1, "{v:?}");
    v.remove(0)
}

fn lookup_of(value: &str) -> Lookup {
    one(&format!("template: t\non: c\nlookup: {value}\n")).lookup.expect("a lookup")
}

#[test]
fn durations() {
    assert_eq!(duration("10"), Some(10));
    assert_eq!(duration("10s"), Some(10));
    assert_eq!(duration("-10m"), Some(-600));
    assert_eq!(duration("+5m"), Some(300));
    assert_eq!(duration("1h"), Some(3600));
    assert_eq!(duration("2d"), Some(172_800));
    assert_eq!(duration("1w"), Some(604_800));
    assert_eq!(duration("1M"), Some(30 * 86_400));
    assert_eq!(duration("1Y"), Some(365 * 86_400));
    assert_eq!(duration("never"), Some(0));
    // Decimals, truncated toward zero like Netdata's (int) cast.
    assert_eq!(duration("1.5m"), Some(90));
    assert_eq!(duration("0.5"), Some(0));
    assert_eq!(duration("-1.5h"), Some(-5400));
    // The first character after the number picks the unit; anything else is seconds.
    assert_eq!(duration("10min"), Some(600));
    assert_eq!(duration("10x"), Some(10));
    assert_eq!(duration("  30s"), Some(30));
    // Not durations.
    assert_eq!(duration(""), None);
    assert_eq!(duration("m"), None);
    assert_eq!(duration("-"), None);
    assert_eq!(duration("abc"), None);
    assert_eq!(duration("Never"), None);
    // Beyond Netdata's int.
    assert_eq!(duration("100Y"), None);
    assert_eq!(duration("68Y"), Some(68 * 31_536_000));
}

#[test]
fn lookup_minimal_sets_every_to_after() {
    let l = lookup_of("average -10m");
    assert_eq!(l.group, Group::Average);
    assert_eq!((l.after, l.before, l.every), (-600, 0, 600));
    assert_eq!(l.options, Options::default());
    assert!(!l.anomaly_bit);
    assert_eq!((l.of, l.foreach), (None, None));
}

#[test]
fn lookup_every_modifier() {
    let l = lookup_of("max -1h at -10m every 5m unaligned");
    assert_eq!(l.group, Group::Max);
    assert_eq!((l.after, l.before, l.every), (-3600, -600, 300));
    assert!(l.options.unaligned);
    let l = lookup_of("sum -1m absolute min2max null2zero percentage unaligned anomaly-bit match-ids");
    assert_eq!(l.group, Group::Sum);
    let o = l.options;
    assert!(o.absolute && o.min2max && o.null2zero && o.percentage && o.unaligned && o.match_ids);
    assert!(!o.match_names && !o.nonzero && !o.display_absolute);
    assert!(l.anomaly_bit);
    assert!(lookup_of("min -1m abs").options.absolute);
    assert!(lookup_of("min -1m absolute_sum").options.absolute);
    assert!(lookup_of("min -1m match-names").options.match_names);
    assert!(lookup_of("min -1m match_names").options.match_names);
    assert!(lookup_of("min -1m match_ids").options.match_ids);
    // Keywords ignore case, as Netdata's strcasecmp.
    assert!(lookup_of("min -1m UNALIGNED").options.unaligned);
}

#[test]
fn lookup_of_and_foreach() {
    let l = lookup_of("average -10m unaligned of user,system,softirq,irq,guest");
    assert_eq!(l.of.as_deref(), Some("user,system,softirq,irq,guest"));
    // `of` takes the rest of the line, spaces and negations included.
    let l = lookup_of("average -1m unaligned absolute match-names of !success, *");
    assert_eq!(l.of.as_deref(), Some("!success, *"));
    // ... up to ` foreach`.
    let l = lookup_of("sum -10s of in out foreach *");
    assert_eq!(l.of.as_deref(), Some("in out"));
    assert_eq!(l.foreach.as_deref(), Some("*"));
    let l = lookup_of("max -10s foreach a|b,c");
    assert_eq!((l.of, l.foreach.as_deref()), (None, Some("a|b,c")));
    // `all` (any case) or nothing: every dimension.
    assert_eq!(lookup_of("average -1m of all").of, None);
    assert_eq!(lookup_of("average -1m of ALL").of, None);
    assert_eq!(lookup_of("average -1m of").of, None);
    // Words after `of` are dimensions, not keywords.
    let l = lookup_of("average -1m of unaligned");
    assert_eq!(l.of.as_deref(), Some("unaligned"));
    assert!(!l.options.unaligned);
}

#[test]
fn lookup_errors_drop_the_entry() {
    for bad in [
        "average",
        "nosuchmethod -1m",
        "average soon",
        "average 0",
        "average -1m at",
        "average -1m every never",
        "average -1m sideways",
        "average -1m foreach",
    ] {
        let (entries, errors) = parse(&format!("template: t\non: c\nlookup: {bad}\n"), Path::new("f"));
        assert!(entries.is_empty(), "{bad}: {entries:?}");
        assert_eq!(errors.len(), 1, "{bad}: {errors:?}");
        assert_eq!(errors[0].line, 3);
        assert!(errors[0].entry_skipped);
    }
}

#[test]
fn delay_and_repeat() {
    let c = one("alarm: a\non: c\nevery: 10s\ncalc: 1\ndelay: up 1m down 15m multiplier 1.5 max 1h\n");
    assert_eq!(c.delay, Delay { up: 60, down: 900, multiplier: 1.5, max: Some(3600) });
    let c = one("alarm: a\non: c\nevery: 10s\ncalc: 1\ndelay: DOWN 5m\n");
    assert_eq!(c.delay, Delay { up: 0, down: 300, multiplier: 1.0, max: None });
    let c = one("alarm: a\non: c\nevery: 10s\ncalc: 1\nrepeat: warning 2h critical 30m\n");
    assert_eq!(c.repeat, Repeat { off: false, warning: Some(7200), critical: Some(1800) });
    let c = one("alarm: a\non: c\nevery: 10s\ncalc: 1\nrepeat: critical never\n");
    assert_eq!(c.repeat, Repeat { off: false, warning: None, critical: Some(0) });
    // `off` wins and ends the line, as in Netdata.
    let c = one("alarm: a\non: c\nevery: 10s\ncalc: 1\nrepeat: warning 1m off critical 1m\n");
    assert_eq!(c.repeat, Repeat { off: true, warning: None, critical: None });
    let c = one("alarm: a\non: c\nevery: 10s\ncalc: 1\n");
    assert_eq!(c.delay, Delay::default());
    assert_eq!(c.repeat, Repeat::default());
    for bad in [
        "delay: up",
        "delay: up soon",
        "delay: up -1m",
        "delay: multiplier 0",
        "delay: multiplier x",
        "delay: sideways 1m",
        "repeat: warning",
        "repeat: hourly 1h",
        "options: no-clear-notification loud",
        "every: 0",
        "every: soon",
        "green: lots",
    ] {
        let (entries, errors) =
            parse(&format!("alarm: a\non: c\nevery: 10s\ncalc: 1\n{bad}\n"), Path::new("f"));
        assert!(entries.is_empty(), "{bad}");
        assert_eq!((errors.len(), errors[0].line), (1, 5), "{bad}: {errors:?}");
    }
}

#[test]
fn every_key_and_lookup_order() {
    // A lookup sets the frequency to its own `every`, over an earlier `every:` line.
    let c = one("template: t\non: c\nevery: 1m\nlookup: average -10s\n");
    assert_eq!((c.every, c.update_every()), (None, Some(10)));
    let c = one("template: t\non: c\nlookup: average -10s\nevery: 1m\n");
    assert_eq!((c.every, c.update_every()), (Some(60), Some(60)));
}

#[test]
fn every_other_key() {
    let text = "\
Template: all_keys
       on: net.packets
       os: linux freebsd
    hosts: *
 families: eth* !lo
   charts: net.eth0
   plugin: proc.plugin
   module: /proc/net/dev
host  labels: role = router
   lookup: average -1m unaligned of received
     calc: $this * 2
    every: 30s
    green: 5
      red: 1e3
     warn: $this > $green
     crit: $this > $red
     exec: /bin/notify
       to: sysadmin  netops
    units: 'packets'/s
     info: the interface's \"rate\"
    class: Workload
     type: System
component: Network
    delay: up 1m
   repeat: off
  options: no-clear
";
    let c = one(text);
    assert_eq!((c.kind, c.name.as_str(), c.on.as_str()), (Kind::Template, "all_keys", "net.packets"));
    assert_eq!(c.os.as_deref(), Some("linux freebsd"));
    assert_eq!(c.hosts.as_deref(), Some("*"));
    assert_eq!(c.families.as_deref(), Some("eth* !lo"));
    assert_eq!(c.charts.as_deref(), Some("net.eth0"));
    assert_eq!(c.plugin.as_deref(), Some("proc.plugin"));
    assert_eq!(c.module.as_deref(), Some("/proc/net/dev"));
    assert_eq!(c.host_labels.as_deref(), Some("role=router"));
    assert_eq!(c.lookup.as_ref().and_then(|l| l.of.as_deref()), Some("received"));
    assert_eq!(c.calc.as_ref().map(|e| e.source()), Some("$this * 2"));
    assert_eq!(c.warn.as_ref().map(|e| e.source()), Some("$this > $green"));
    assert_eq!(c.crit.as_ref().map(|e| e.source()), Some("$this > $red"));
    assert_eq!((c.every, c.green, c.red), (Some(30), Some(5.0), Some(1000.0)));
    assert_eq!(c.exec.as_deref(), Some("/bin/notify"));
    // trim_all: inner whitespace runs become one space.
    assert_eq!(c.to.as_deref(), Some("sysadmin netops"));
    // strip_quotes: quotes become spaces.
    assert_eq!(c.units.as_deref(), Some(" packets /s"));
    assert_eq!(c.info.as_deref(), Some("the interface s  rate "));
    assert_eq!(c.class.as_deref(), Some("Workload"));
    assert_eq!(c.type_.as_deref(), Some("System"));
    assert_eq!(c.component.as_deref(), Some("Network"));
    assert_eq!(c.delay.up, 60);
    assert!(c.repeat.off);
    assert!(c.no_clear_notification);
}

#[test]
fn continuation_lines() {
    let text =
        "alarm: a\non: c\nevery: 10s\ncalc: 1\ninfo: first part, \\\n      second part \\\n  third\nto: x\n";
    let c = one(text);
    assert_eq!(c.info.as_deref(), Some("first part, second part third"));
    assert_eq!(c.to.as_deref(), Some("x"));
    // A key split over lines works too, and a comment-looking continuation is text.
    let c = one("alarm: a\non: c\nevery: 10s\ncalc: 1\ninfo: \\\n# not a comment\n");
    assert_eq!(c.info.as_deref(), Some("# not a comment"));
    // An empty line ends a continuation; the last line of a file cannot continue.
    let c = one("alarm: a\non: c\nevery: 10s\ncalc: 1\ninfo: x \\\n\nto: y \\");
    assert_eq!((c.info.as_deref(), c.to.as_deref()), (Some("x"), Some("y")));
    // Errors name the last physical line of a continued line, as Netdata counts.
    let (_, errors) = parse("alarm: a\non: c\nevery: \\\n soon\n", Path::new("f"));
    assert_eq!(errors[0].line, 4);
}

#[test]
fn comments_blank_lines_and_crlf() {
    let text = "# header\r\n\r\n   # indented comment\r\n  alarm: a\r\n\ton: c\r\nevery: 10s\r\ncalc: 1\r\n";
    let c = one(text);
    assert_eq!((c.name.as_str(), c.on.as_str(), c.every), ("a", "c", Some(10)));
}

#[test]
fn bad_line_skips_only_its_entry() {
    let text = "\
template: first
      on: system.cpu
  lookup: average -1m
    warn: $this > 1

template: second
      on: system.load
  lookup: sometimes -1m
    warn: $this > 1
     to: sysadmin
no colon here

template: third
      on: system.ram
  lookup: average -1m
    crit: $this > 2
";
    let (entries, errors) = parse(text, Path::new("/etc/netdata/health.d/t.conf"));
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["first", "third"]);
    // Only the first bad line of the broken entry is reported.
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 8);
    assert!(errors[0].entry_skipped);
    let shown = errors[0].to_string();
    assert!(shown.starts_with("/etc/netdata/health.d/t.conf:8: "), "{shown}");
    assert!(shown.contains("sometimes"), "{shown}");
    // A bad line outside any broken entry is reported alone.
    let (entries, errors) = parse("template: t\non: c\nlookup: average -1m\nwhat\n", Path::new("f"));
    assert!(entries.is_empty());
    assert_eq!((errors[0].line, errors[0].entry_skipped), (4, true));
}

#[test]
fn unknown_key_is_ignored_and_the_entry_stays() {
    let (entries, errors) = parse("alarm: a\non: c\ncolour: red\nevery: 10s\ncalc: 1\n", Path::new("f"));
    assert_eq!(entries.len(), 1);
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].entry_skipped), (3, false));
    // `families` and `charts` are template keys; Netdata does not know them on an alarm.
    let (entries, errors) = parse("alarm: a\non: c\nfamilies: *\nevery: 10s\ncalc: 1\n", Path::new("f"));
    assert_eq!((entries.len(), entries[0].families.clone()), (1, None));
    assert_eq!(errors.len(), 1);
    // Keys before the first entry.
    let (entries, errors) = parse("on: c\nalarm: a\non: c\nevery: 10s\ncalc: 1\n", Path::new("f"));
    assert_eq!((entries.len(), errors.len(), errors[0].line), (1, 1, 1));
}

#[test]
fn incomplete_entries_are_dropped() {
    // No `on`, no frequency, nothing to evaluate: Netdata refuses each.
    for (text, what) in [
        ("alarm: a\nevery: 10s\ncalc: 1\n", "no 'on'"),
        ("alarm: a\non: c\ncalc: 1\n", "no frequency"),
        ("alarm: a\non: c\nevery: 10s\nto: x\n", "useless"),
    ] {
        let (entries, errors) = parse(&format!("# c\n{text}"), Path::new("f"));
        assert!(entries.is_empty(), "{what}");
        assert_eq!(errors.len(), 1, "{what}");
        assert_eq!(errors[0].line, 2, "{what}: reported at the alarm line");
        assert!(errors[0].message.contains(what), "{}", errors[0].message);
    }
    // A nameless entry is dropped, and the next one loads.
    let (entries, errors) = parse("alarm:\non: c\nalarm: b\non: c\nevery: 1m\ncalc: 1\n", Path::new("f"));
    assert_eq!((entries.len(), entries[0].name.as_str(), errors.len()), (1, "b", 1));
}

#[test]
fn keys_ignore_case() {
    let c = one("ALARM: a\nOn: c\nEVERY: 10s\nCalc: 1\nHost Labels: x=y\n");
    assert_eq!((c.on.as_str(), c.every, c.host_labels.as_deref()), ("c", Some(10), Some("x=y")));
}

#[test]
fn names_are_fixed_like_rrdvar_fix_name() {
    let c = one("alarm: disk space-used %\non: c\nevery: 10s\ncalc: 1\n");
    assert_eq!(c.name, "disk_space_used__");
    let c = one("template: é.ok_1\non: c\nevery: 10s\ncalc: 1\n");
    assert_eq!(c.name, "__.ok_1");
}

#[test]
fn sources_name_the_entry_line_and_file() {
    let text =
        "# c\n\n alarm: a\n on: c\n every: 10s\n calc: 1\n\n\ntemplate: b\non: c\nevery: 1m\ncalc: 2\n";
    let entries = {
        let (e, errors) = parse(text, Path::new("/usr/lib/netdata/conf.d/health.d/x.conf"));
        assert!(errors.is_empty());
        e
    };
    let sources: Vec<&str> = entries.iter().map(|e| e.source.as_str()).collect();
    assert_eq!(
        sources,
        ["3@/usr/lib/netdata/conf.d/health.d/x.conf", "9@/usr/lib/netdata/conf.d/health.d/x.conf"]
    );
    assert_eq!((entries[0].kind, entries[1].kind), (Kind::Alarm, Kind::Template));
}

#[test]
fn long_line_is_a_bad_line() {
    let long = "x".repeat(MAX_LINE + 1);
    let (entries, errors) =
        parse(&format!("alarm: a\non: c\nevery: 10s\ncalc: 1\ninfo: {long}\n"), Path::new("f"));
    assert!(entries.is_empty());
    assert_eq!(errors[0].line, 5);
    // Continuations count together.
    let half = "y".repeat(MAX_LINE / 2 + 10);
    let text = format!("alarm: a\non: c\nevery: 10s\ncalc: 1\ninfo: {half} \\\n{half}\n");
    let (entries, errors) = parse(&text, Path::new("f"));
    assert!(entries.is_empty());
    assert_eq!(errors[0].line, 6);
    // A long line in an entry already dropped is not reported again.
    let text = format!("alarm: a\non: c\nevery: soon\ninfo: {long}\nalarm: b\non: c\nevery: 1m\ncalc: 1\n");
    let (entries, errors) = parse(&text, Path::new("f"));
    assert_eq!((entries.len(), errors.len(), errors[0].line), (1, 1, 3));
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("nanodata-hconf-{tag}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    if let Some(parent) = dir.join(name).parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(dir.join(name), text).expect("write");
}

fn entry(name: &str) -> String {
    format!("alarm: {name}\non: c\nevery: 10s\ncalc: 1\n")
}

#[test]
fn user_file_replaces_stock_file_of_the_same_name() {
    let root = TempDir::new("dirs");
    let stock = root.0.join("stock");
    let user = root.0.join("user");
    write(&stock, "b.conf", &entry("stock_b"));
    write(&stock, "a.conf", &entry("stock_a"));
    write(&stock, "c.conf", &entry("stock_c"));
    write(&stock, "notes.txt", &entry("not_read"));
    write(&stock, ".conf", &entry("not_read_either"));
    write(&user, "b.conf", &entry("user_b"));
    write(&user, "d.conf", &entry("user_d"));
    // Subdirectories: a stock one with no user twin is read from stock, a user one
    // replaces files of the same name in the stock twin.
    write(&stock, "sub/e.conf", &entry("stock_e"));
    write(&stock, "sub/f.conf", &entry("stock_f"));
    write(&user, "sub/f.conf", &entry("user_f"));
    write(&stock, "deep/1/2/3/g.conf", &entry("too_deep"));
    write(&stock, "deep/1/2/h.conf", &entry("deep_enough"));

    let loaded = read(&Dirs { stock: stock.clone(), user: user.clone() });
    let names: Vec<&str> = loaded.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["stock_a", "user_b", "stock_c", "user_d", "deep_enough", "stock_e", "user_f"]);
    assert_eq!(loaded.files.len(), 7);
    assert_eq!(loaded.files[1], user.join("b.conf"));
    assert_eq!(loaded.entries[1].source, format!("1@{}", user.join("b.conf").display()));
    assert_eq!(loaded.entries[0].source, format!("1@{}", stock.join("a.conf").display()));
    // The 4th level is refused, with an error.
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert!(loaded.errors[0].message.contains("deeper"));

    // The same directory as stock and user is read once.
    let once = read(&Dirs { stock: user.clone(), user: user.clone() });
    assert_eq!(once.entries.len(), 3);
    assert_eq!(load(&Dirs { stock, user }).len(), 7);
}

#[test]
fn oversized_file_is_skipped() {
    let root = TempDir::new("big");
    let mut big = entry("big");
    big.push_str(&"# padding\n".repeat((MAX_FILE as usize) / 10 + 1));
    write(&root.0, "big.conf", &big);
    write(&root.0, "ok.conf", &entry("ok"));
    let loaded = read(&Dirs { stock: root.0.join("none"), user: root.0.clone() });
    assert_eq!(loaded.entries.len(), 1);
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!((loaded.errors[0].line, loaded.errors[0].path.clone()), (0, root.0.join("big.conf")));
}

#[test]
fn a_continuation_on_the_last_line_reports_that_line() {
    // Found by the `health_config` fuzz target: the empty piece after the final newline was
    // counted as line 3 of a two-line file.
    let (entries, errors) = parse("info: one \\\n", Path::new("/x.conf"));
    assert!(entries.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 1);
    let (_, errors) = parse("alarm: a\n  bogus: x \\\n", Path::new("/x.conf"));
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert!(lines.contains(&2) && lines.iter().all(|&l| l <= 2), "{errors:?}");
}

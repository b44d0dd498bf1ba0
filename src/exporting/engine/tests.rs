//! The worker of one instance in-process: hosts built in memory with points stored by
//! hand, batches made for chosen export times (`make`, `export_due`) and delivered to
//! loopback servers (`deliver`). Values and timestamps are computed by hand from the window
//! rules of protocol.md §10: with charts collected every second and exports every 2 s, the
//! export at `B` after one at `B − 2` averages the slots `B − 4` and `B − 3` and is stamped
//! `B − 3`.

use std::io::Read;
use std::net::TcpListener;

use super::deliver::tests::{closed_port, instance, HttpSink};
use super::*;
use crate::rrd::{ChartMeta, DimensionMeta, Host, HostSettings};

const T0: i64 = 1_700_000_000;
const HOSTNAME: &str = "h";

/// A node whose chart `test.x` has one dimension `a` holding `k` at `T0 + k`, k = 0..=60.
fn hosts() -> Arc<Hosts> {
    hosts_from(T0)
}

/// The same with `k` at `base + k`.
fn hosts_from(base: i64) -> Arc<Hosts> {
    let hosts = Hosts::new(Host::new(
        "g0",
        "node",
        HostSettings { mode: MemoryMode::Ram, history: 600, update_every: 1, ..HostSettings::default() },
    ));
    let c = hosts.localhost().chart_define(ChartMeta::new("test", "x").update_every(1));
    c.dimension(DimensionMeta::new("a"));
    for k in 0..=60 {
        c.store_point(0, base + k, k as f64, false);
    }
    Arc::new(hosts)
}

/// A worker of `[section]` with `body`, exporting `test.*` every 2 s, the last export at
/// `T0 + 10`.
fn worker(section: &str, body: &str) -> Worker {
    let i = instance(section, &format!("\tupdate every = 2\n\tsend charts matching = test.*\n{body}"));
    let ctx = Context { hosts: hosts(), hostname: HOSTNAME.into(), spool_dir: None };
    let mut w = Worker::new(&i, &ctx, Arc::new(Mutex::new(Counters::default()))).expect("a worker");
    w.last_export = T0 + 10;
    // Exports on the even seconds, so the windows below read simply (Netdata's phase, second
    // 1 of 2 on this node, is tested on its own at the end).
    w.phase = 0;
    w
}

fn counters(w: &Worker) -> Counters {
    *w.counters.lock()
}

/// `(value, timestamp)` of every graphite line of `text`, checking the metric's name.
fn graphite_points(text: &str) -> Vec<(f64, i64)> {
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 3, "{l}");
            assert_eq!(f[0], "netdata.h.test.x.a", "{l}");
            (f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect()
}

/// What the batches waiting in the backlog say, oldest first (emptying it).
fn drain_backlog(w: &mut Worker) -> Vec<(f64, i64)> {
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    while let Some(e) = w.backlog.pop() {
        out.extend(graphite_points(std::str::from_utf8(e.bytes(&mut scratch).unwrap()).unwrap()));
    }
    out
}

/// The average of slots `s − 1` and `s` (values `k` at `T0 + k`), stamped `s`.
fn window(s: i64) -> (f64, i64) {
    window_from(T0, s)
}

/// The same with values `k` at `base + k`.
fn window_from(base: i64, s: i64) -> (f64, i64) {
    ((2 * (s - base) - 1) as f64 / 2.0, s)
}

fn stop() -> Receiver<()> {
    // The sender is leaked on purpose: a dropped one would read as "stop".
    let (tx, rx) = bounded(1);
    std::mem::forget(tx);
    rx
}

/// Reads from `l`'s first connection until `n` lines came.
fn read_lines(l: &TcpListener, n: usize) -> String {
    let (mut s, _) = l.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while text.lines().count() < n || !text.ends_with('\n') {
        let k = s.read(&mut buf).expect("the batches within 10 s");
        assert!(k > 0, "closed after {text:?}");
        text.push_str(std::str::from_utf8(&buf[..k]).unwrap());
    }
    text
}

#[test]
fn a_full_backlog_drops_the_oldest_and_counts_them_lost() {
    let port = closed_port();
    let mut w =
        worker("graphite:g", &format!("\tdestination = 127.0.0.1:{port}\n\tbuffer on failures = 3\n"));
    for b in [12, 14, 16, 18, 20] {
        w.make(T0 + b);
    }
    let c = counters(&w);
    assert_eq!((c.made_batches, c.made_metrics), (5, 5));
    assert_eq!((c.lost_batches, c.lost_metrics), (2, 2), "the two oldest went");
    assert_eq!((c.buffered_batches, c.buffered_metrics), (3, 3));
    let line = "netdata.h.test.x.a 12.5000000 1700000013\n".len();
    // 8.5 and 10.5: one digit fewer, and as many as the others.
    assert_eq!(c.lost_bytes, 2 * line - 1);

    // The backend is down: the batches stay.
    let rx = stop();
    assert!(w.deliver(&rx));
    let c = counters(&w);
    assert_eq!((c.failures, c.sent_batches, c.buffered_batches), (1, 0, 3));
    assert!(w.retry_at.is_some());

    // It is back: the three newest arrive in order, once.
    let l = TcpListener::bind(("127.0.0.1", port)).expect("the port again");
    w.retry_at = None;
    assert!(w.deliver(&rx));
    let got = graphite_points(&read_lines(&l, 3));
    assert_eq!(got, vec![window(T0 + 13), window(T0 + 15), window(T0 + 17)]);
    assert_eq!(got[0], (12.5, T0 + 13));
    let c = counters(&w);
    assert_eq!((c.sent_batches, c.sent_metrics, c.sent_bytes), (3, 3, 3 * line));
    assert_eq!((c.buffered_batches, c.lost_batches, c.connects), (0, 2, 1));
}

#[test]
fn a_refused_batch_is_counted_and_not_retried() {
    let sink = HttpSink::answering("400 Bad Request", "");
    let mut w = worker("json:http:j", &format!("\tdestination = {}\n", sink.destination()));
    let rx = stop();
    w.make(T0 + 12);
    w.make(T0 + 14);
    assert!(w.deliver(&rx));
    let got = sink.requests();
    assert_eq!(got.len(), 2, "each batch posted once");
    let stamps: Vec<bool> = got
        .iter()
        .zip([9, 11])
        .map(|(r, s)| String::from_utf8_lossy(&r.body).contains(&format!("\"timestamp\": {}", T0 + s)))
        .collect();
    let bodies: Vec<_> = got.iter().map(|r| String::from_utf8_lossy(&r.body)).collect();
    assert_eq!(stamps, [true, true], "{bodies:?}");
    let c = counters(&w);
    assert_eq!((c.refused_batches, c.refused_metrics), (2, 2));
    assert_eq!(c.refused_bytes, got.iter().map(|r| r.body.len()).sum::<usize>());
    assert_eq!((c.failures, c.sent_batches, c.buffered_batches, c.lost_batches), (0, 0, 0, 0));
    assert!(w.retry_at.is_none(), "a refusal is no reason to wait");

    // Nothing is tried again; the next batch is posted once more.
    assert!(w.deliver(&rx));
    assert_eq!(sink.requests().len(), 2);
    w.make(T0 + 16);
    assert!(w.deliver(&rx));
    assert_eq!(sink.requests().len(), 3);
    assert_eq!(counters(&w).refused_batches, 3);
}

#[test]
fn catch_up_makes_one_batch_per_missed_window() {
    // Due at T0+12, woken at T0+21: the exports at 12, 14, 16, 18 and 20, each its window.
    let mut w = worker(
        "graphite:g",
        &format!("\tdestination = 127.0.0.1:{}\n\tbuffer on failures = 60\n", closed_port()),
    );
    assert_eq!(w.export_due(T0 + 21, T0 + 12), T0 + 22);
    assert_eq!(counters(&w).made_batches, 5);
    let want: Vec<(f64, i64)> = [9, 11, 13, 15, 17].iter().map(|s| window(T0 + s)).collect();
    assert_eq!(drain_backlog(&mut w), want);
    assert_eq!(w.last_export, T0 + 20);
    // On time: one.
    assert_eq!(w.export_due(T0 + 22, T0 + 22), T0 + 24);
    assert_eq!(drain_backlog(&mut w), vec![window(T0 + 19)]);

    // A gap longer than the backlog: the newest `buffer on failures` windows, contiguous.
    let mut w = worker(
        "graphite:g",
        &format!("\tdestination = 127.0.0.1:{}\n\tbuffer on failures = 3\n", closed_port()),
    );
    assert_eq!(w.export_due(T0 + 31, T0 + 12), T0 + 32);
    assert_eq!(drain_backlog(&mut w), vec![window(T0 + 23), window(T0 + 25), window(T0 + 27)]);
    let c = counters(&w);
    // Due: 12, 14, …, 30 (ten); the seven oldest are skipped and counted lost.
    assert_eq!((c.made_batches, c.lost_batches), (3, 7));

    // `as collected` has one value per dimension to send, however long the gap.
    let mut w = worker(
        "graphite:g",
        &format!("\tdestination = 127.0.0.1:{}\n\tdata source = as collected\n", closed_port()),
    );
    let chart = w.hosts.localhost().chart("test.x").unwrap();
    let mut col = chart.begin((T0 as u64 + 20) * USEC_PER_SEC, 0, false);
    col.set(0, 42);
    col.end();
    assert_eq!(w.export_due(T0 + 21, T0 + 12), T0 + 22);
    assert_eq!(counters(&w).made_batches, 1);
    let mut scratch = Vec::new();
    let e = w.backlog.pop().unwrap();
    assert_eq!(
        std::str::from_utf8(e.bytes(&mut scratch).unwrap()).unwrap(),
        "netdata.h.test.x.a 42 1700000020\n"
    );
}

#[test]
fn retry_after_is_a_floor_of_the_next_attempt() {
    let sink = HttpSink::answering("429 Too Many Requests", "Retry-After: 7\r\n");
    let mut w = worker("json:http:j", &format!("\tdestination = {}\n", sink.destination()));
    let rx = stop();
    w.make(T0 + 12);
    // The back-off starts at 1 s with ±20 % jitter: each try below must still wait 7 s.
    for n in 1..=10 {
        w.retry_at = None;
        w.backoff.reset();
        let before = clock::now_monotonic();
        assert!(w.deliver(&rx));
        let wait = w.retry_at.expect("a retry").saturating_duration_since(before);
        assert!(wait >= Duration::from_secs(7), "try {n}: next attempt after {wait:?}");
        assert!(wait <= Duration::from_secs(9), "try {n}: {wait:?}");
    }
    let c = counters(&w);
    assert_eq!((c.failures, c.buffered_batches, c.refused_batches), (10, 1, 0));
    assert_eq!(sink.requests().len(), 10);
}

#[test]
fn a_full_backlog_tries_once_more_at_each_export_before_it_drops() {
    // The back-off may be a minute; a backlog that is full at the next export must not
    // lose its oldest batch to it while the backend may be back.
    let port = closed_port();
    let mut w =
        worker("graphite:g", &format!("\tdestination = 127.0.0.1:{port}\n\tbuffer on failures = 2\n"));
    let rx = stop();
    assert_eq!(w.step(T0 + 12, T0 + 12, &rx), Some(T0 + 14));
    assert_eq!(counters(&w).failures, 1);
    let far = || Some(clock::now_monotonic() + MAX_BACKOFF);
    w.retry_at = far();
    // Not full before this export: the back-off holds.
    assert_eq!(w.step(T0 + 14, T0 + 14, &rx), Some(T0 + 16));
    let c = counters(&w);
    assert_eq!((c.failures, c.buffered_batches), (1, 2));
    // Full, the backend still down: one attempt, then the oldest goes.
    w.retry_at = far();
    assert_eq!(w.step(T0 + 16, T0 + 16, &rx), Some(T0 + 18));
    let c = counters(&w);
    assert_eq!((c.failures, c.lost_batches, c.buffered_batches), (2, 1, 2), "one attempt per export");
    // Full, the backend back: everything arrives before anything is dropped.
    w.retry_at = far();
    let l = TcpListener::bind(("127.0.0.1", port)).expect("the port again");
    assert_eq!(w.step(T0 + 18, T0 + 18, &rx), Some(T0 + 20));
    assert_eq!(graphite_points(&read_lines(&l, 3)), vec![window(T0 + 11), window(T0 + 13), window(T0 + 15)]);
    let c = counters(&w);
    assert_eq!((c.sent_batches, c.lost_batches, c.buffered_batches), (3, 1, 0));
}

#[test]
fn a_restart_sends_the_spool_and_then_the_windows_it_missed() {
    let dir = std::env::temp_dir().join(format!("nanodata-engine-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let now = clock::now_realtime_sec();
    let r = now - now.rem_euclid(2) - 20; // the last export of the previous run
    let base = r - 30;
    let ctx = Context { hosts: hosts_from(base), hostname: HOSTNAME.into(), spool_dir: Some(dir.clone()) };
    let i = instance(
        "graphite:g",
        &format!(
            "\tupdate every = 2\n\tsend charts matching = test.*\n\tbuffer on failures = 60\n\tdestination = 127.0.0.1:{}\n",
            closed_port()
        ),
    );
    let new = || Worker::new(&i, &ctx, Arc::new(Mutex::new(Counters::default()))).expect("a worker");

    // The previous run: one batch not sent, then an orderly stop.
    let mut before = new();
    before.last_export = r - 2;
    before.make(r);
    before.finish();
    assert!(dir.join("g.spool").exists());

    // The next start has the batch and exports from r on, but only once the charts are back.
    let mut w = new();
    w.phase = 0;
    assert!(!dir.join("g.spool").exists(), "read once");
    assert_eq!((w.last_export, w.backlog.len()), (r, 1));
    assert!(w.settle_until >= now + 2, "{} {now}", w.settle_until);
    let rx = stop();
    let next = r + 2;
    assert_eq!(w.step(w.settle_until - 1, next, &rx), Some(next), "not yet");
    let c = counters(&w);
    assert_eq!((c.made_batches, c.failures, c.buffered_batches), (0, 1, 1), "the spool is tried at once");
    let at = w.settle_until;
    let last_due = at - at.rem_euclid(2);
    assert_eq!(w.step(at, next, &rx), Some(last_due + 2));
    let mut want = vec![window_from(base, r - 3)];
    want.extend((next..=last_due).step_by(2).map(|b| window_from(base, b - 3)));
    assert_eq!(drain_backlog(&mut w), want, "the spooled batch, then every window since r");
    let _ = std::fs::remove_dir_all(&dir);
}

// The schedule against Netdata 1.37's `mark_scheduled_instances`: an instance is due when
// `now % update every >= update every - the node's update every`, `now` being a second the
// node collects in.

#[test]
fn exports_in_the_last_collected_second_before_each_multiple() {
    // Node collecting every second: second 4 of 5, 9 of 10, every second for 1.
    assert_eq!(phase(5, 1), 4);
    assert_eq!(phase(10, 1), 9);
    assert_eq!(phase(1, 1), 0);
    // Every 2 s: Netdata wakes at even seconds, 8 is the first with 8 % 10 >= 8.
    assert_eq!(phase(10, 2), 8);
    // Every 5 s: 5 % 10 >= 5.
    assert_eq!(phase(10, 5), 5);
    // An instance faster than the node: every multiple.
    assert_eq!(phase(1, 5), 0);
}

#[test]
fn the_latest_export_time() {
    // Every 5 s at second 4: …, 1699999999, 1700000004, …
    assert_eq!(due_at_or_before(1_700_000_004, 5, 4), 1_700_000_004);
    assert_eq!(due_at_or_before(1_700_000_003, 5, 4), 1_699_999_999);
    assert_eq!(due_at_or_before(1_700_000_008, 5, 4), 1_700_000_004);
    assert_eq!(due_at_or_before(1_700_000_009, 5, 4), 1_700_000_009);
    assert_eq!(due_at_or_before(1_700_000_009, 1, 0), 1_700_000_009);
    assert_eq!(due_at_or_before(1_700_000_009, 10, 9), 1_700_000_009);
    assert_eq!(due_at_or_before(1_700_000_008, 10, 9), 1_699_999_999);
}

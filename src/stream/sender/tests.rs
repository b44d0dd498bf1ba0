//! The observer, the send buffer and replication answers, without sockets.

use std::collections::VecDeque;

use super::replay::serve_replays;
use super::*;
use crate::protocol::ReplayChart;
use crate::rrd::{ChartMeta, DimensionMeta, HostSettings};

fn shared(capacity: usize, caps: Caps) -> Arc<Shared> {
    Arc::new(Shared {
        hostname: "test".into(),
        ring: Mutex::new(RingBuffer::with_capacity(capacity)),
        generation: AtomicU32::new(1),
        caps: AtomicU32::new(caps.0),
        waker: Mutex::new(None),
        stop: AtomicBool::new(false),
        resync_iterations: 2,
        send_charts: Box::new(|id, _| id != "skip.me"),
        bytes_sent: AtomicU32::new(0),
        dropped: AtomicU32::new(0),
        dropped_logged: AtomicU32::new(0),
        link: Mutex::new(Link::default()),
    })
}

fn drain(s: &Shared) -> String {
    let mut ring = s.ring.lock();
    let mut out = Vec::new();
    let n = ring.peek_into(usize::MAX, &mut out);
    ring.consume(n);
    String::from_utf8(out).unwrap()
}

fn collect(chart: &crate::rrd::Chart, t: u64, v: i64) {
    let mut c = chart.begin(t * 1_000_000 + 500_000, 0, false);
    c.set(0, v);
    c.end();
}

#[test]
fn a_full_buffer_drops_the_newest_collection_and_resends_the_definition() {
    let host = Host::new("g", "h", HostSettings::default());
    let s = shared(400, Caps(0));
    host.set_observer(Some(Arc::clone(&s) as Arc<dyn Observer>));
    let chart = host.chart_define(ChartMeta::new("a", "b"));
    chart.dimension(DimensionMeta::new("x"));

    collect(&chart, 1000, 1);
    let first = drain(&s);
    assert!(first.starts_with("CHART \"a.b\""), "definition first: {first}");
    assert!(first.contains("BEGIN \"a.b\" 0\n"), "clock resync without replication: {first}");

    // Fill the buffer so that the next collection does not fit.
    assert!(s.ring.lock().push(&[b'#'; 390]));
    collect(&chart, 1001, 2);
    assert_eq!(s.dropped.load(Ordering::Relaxed), 1, "the dropped collection is counted");
    assert_eq!(s.ring.lock().len(), 390, "nothing partial was queued");

    // Room again: the definition goes first, then the data.
    drain(&s);
    collect(&chart, 1002, 3);
    let again = drain(&s);
    assert!(again.starts_with("CHART \"a.b\""), "{again}");
    assert!(again.contains("SET \"x\" = 3\n"), "{again}");
}

#[test]
fn a_chart_that_becomes_obsolete_is_sent_once_with_the_flag() {
    let host = Host::new("g", "h", HostSettings::default());
    let s = shared(64 * 1024, Caps(0));
    host.set_observer(Some(Arc::clone(&s) as Arc<dyn Observer>));
    let chart = host.chart_define(ChartMeta::new("net", "wlan1"));
    chart.dimension(DimensionMeta::new("x"));
    collect(&chart, 1000, 1);
    assert!(!drain(&s).contains("obsolete"));
    let mut meta = chart.meta();
    meta.options.obsolete = true;
    chart.redefine(meta.clone());
    let text = drain(&s);
    assert_eq!(text.matches("CHART \"net.wlan1\"").count(), 1, "{text}");
    assert!(text.contains("\"obsolete   \""), "the obsolete option slot: {text}");
    assert!(text.contains("DIMENSION \"x\""), "{text}");
    chart.redefine(meta);
    assert_eq!(drain(&s), "", "once");
}

#[test]
fn replication_holds_data_until_the_parent_asked_and_filters_apply() {
    let host = Host::new("g", "h", HostSettings::default());
    let s = shared(64 * 1024, Caps::REPLICATION | Caps::CLABELS);
    host.set_observer(Some(Arc::clone(&s) as Arc<dyn Observer>));
    let chart = host.chart_define(ChartMeta::new("a", "b"));
    chart.dimension(DimensionMeta::new("x"));
    let skipped = host.chart_define(ChartMeta::new("skip", "me"));
    skipped.dimension(DimensionMeta::new("x"));
    collect(&chart, 1000, 1);
    collect(&chart, 1001, 2);
    collect(&skipped, 1001, 2);
    let text = drain(&s);
    assert!(text.contains("CHART_DEFINITION_END"), "{text}");
    assert!(!text.contains("BEGIN"), "no data before REPLAY_CHART is served: {text}");
    assert!(!text.contains("skip.me"), "send charts matching: {text}");

    let mut replays =
        VecDeque::from([ReplayChart { chart: "a.b".into(), start_streaming: true, after: 0, before: 0 }]);
    serve_replays(&s, &host, &mut replays);
    assert!(replays.is_empty());
    assert!(drain(&s).contains("REND 1 "));
    collect(&chart, 1002, 3);
    assert!(drain(&s).contains("SET \"x\" = 3\n"), "streams after the replication answer");
}

#[test]
fn host_variables_go_on_connect_and_again_when_one_changes() {
    use super::host_lines::HostVariables;
    let host = Host::new("g", "h", HostSettings::default());
    host.set_variable("active_processors", 2.0);
    let s = shared(64 * 1024, Caps::HLABELS);

    let mut first = String::new();
    let mut tracker = HostVariables::connect(&host, Caps::HLABELS, &mut first);
    assert_eq!(first, "OVERWRITE labels\nVARIABLE HOST active_processors = 2.0000000\n");

    // Nothing changed: nothing queued, whatever the number of turns.
    for _ in 0..3 {
        tracker.poll(&s, &host);
    }
    assert_eq!(drain(&s), "");

    // A new variable, and an old one set to the same value: all of them go once.
    host.set_variable("netfilter_conntrack_max", 65536.0);
    host.set_variable("active_processors", 2.0);
    tracker.poll(&s, &host);
    tracker.poll(&s, &host);
    assert_eq!(
        drain(&s),
        "VARIABLE HOST active_processors = 2.0000000\nVARIABLE HOST netfilter_conntrack_max = 65536.0000000\n"
    );
    host.set_variable("active_processors", 2.0);
    tracker.poll(&s, &host);
    assert_eq!(drain(&s), "", "the same value is not a change");

    // No room: tried again on the next turn, not lost.
    host.set_variable("active_processors", 4.0);
    assert!(s.ring.lock().push(&[b'#'; 64 * 1024 - 10]));
    tracker.poll(&s, &host);
    assert_eq!(drain(&s).len(), 64 * 1024 - 10, "only the filler was queued");
    tracker.poll(&s, &host);
    assert!(drain(&s).starts_with("VARIABLE HOST active_processors = 4.0000000\n"));

    // A reconnection sends them all again.
    let mut again = String::new();
    HostVariables::connect(&host, Caps(0), &mut again);
    assert_eq!(
        again,
        "VARIABLE HOST active_processors = 4.0000000\nVARIABLE HOST netfilter_conntrack_max = 65536.0000000\n"
    );
}

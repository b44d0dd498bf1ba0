//! What a child reads from its parent (`stream::handshake::parse_reply`, then
//! `protocol::Words::split` / `ReplayChart::parse`), with each replication request answered
//! by `protocol::emit::replay` from a chart holding a minute of data, as the sender does.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nanodata::protocol::{emit, Caps, ReplayChart, Words};
use nanodata::rrd::{Algorithm, Chart, ChartMeta, DimensionMeta, Host, HostSettings};
use nanodata::stream::handshake;

const T0: u64 = 1_700_000_000;

fn chart() -> &'static (Host, std::sync::Arc<Chart>) {
    static CHART: OnceLock<(Host, std::sync::Arc<Chart>)> = OnceLock::new();
    CHART.get_or_init(|| {
        let host = Host::new("g", "h", HostSettings { history: 50, ..HostSettings::default() });
        let c = host.chart_define(ChartMeta::new("system", "cpu").update_every(2));
        c.dimension(DimensionMeta::new("user").algorithm(Algorithm::Incremental));
        c.dimension(DimensionMeta::new("idle"));
        for s in 0..60u64 {
            let mut col = c.begin((T0 + 2 * s) * 1_000_000, if s == 0 { 0 } else { 2_000_000 }, true);
            col.set(0, (s * s) as i64);
            if s % 7 != 0 {
                col.set(1, s as i64);
            }
            col.end();
        }
        (host, c)
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or("");
    if let handshake::Reply::Rejected(r) = handshake::parse_reply(first.as_bytes(), Caps::ours(true)) {
        let _ = r.describe();
    }
    let (_, c) = chart();
    let now = (T0 + 130) as i64;
    for line in lines.take(64) {
        let words = Words::split(line);
        assert!(words.len() <= 20);
        if let Some(req) = ReplayChart::parse(&words) {
            let mut out = String::new();
            c.with_view(|v, _| emit::replay(&mut out, v, &req, now, 100));
            assert!(out.lines().filter(|l| l.starts_with("RBEGIN ''")).count() <= 100, "the point budget holds");
        }
    }
});

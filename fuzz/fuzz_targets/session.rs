//! A session applying protocol bytes to a host (`protocol::Session` with `LineBuffer`),
//! as a plugin or a streaming child would send them, on a `ram` host with a small
//! retention; then everything the host holds is queried and written back out as a child
//! would stream it (`protocol::emit`).
//!
//! Input: byte 0 picks the trust (plugin or child) and the clock step per line; the rest is
//! the stream.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use nanodata::db::MemoryMode;
use nanodata::protocol::{emit, Caps, Limits, LineBuffer, ReplayChart, Session, Trust};
use nanodata::rrd::{Host, HostSettings};

const T0: u64 = 1_700_000_000_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, stream)) = data.split_first() else { return };
    let host = Arc::new(Host::new(
        "fuzz-guid",
        "fuzz",
        HostSettings { mode: MemoryMode::Ram, history: 16, ..HostSettings::default() },
    ));
    let trust = if mode & 1 == 0 { Trust::Measured } else { Trust::Trusted };
    let step = u64::from(mode >> 1) * 250_000; // 0 to ~32 s per line
    #[allow(clippy::needless_update)] // the rest: bounds added later keep their defaults
    let limits =
        Limits { line: 4096, charts: 16, dimensions: 32, labels: 16, function_result: 64 << 10, ..Limits::PLUGIN };
    let mut session = Session::new(Arc::clone(&host), "fuzz", 0, trust, limits);
    let mut lines = LineBuffer::new(limits.line);
    let mut now = T0;
    let mut rest = stream;
    'feed: while !rest.is_empty() {
        let n = lines.push(rest);
        rest = &rest[n..];
        while let Some(frame) = lines.next_line() {
            now += step;
            if session.frame(frame, now).is_err() {
                break 'feed; // the owner stops the source
            }
        }
        if n == 0 {
            break;
        }
    }
    assert!(session.chart_count() <= limits.charts);
    let now_s = (now / 1_000_000) as i64;
    let mut out = String::new();
    for chart in host.charts() {
        assert!(chart.dimension_count() <= limits.dimensions);
        for d in 0..chart.dimension_count() {
            let points = chart.query(d, 0, i64::MAX);
            assert!(points.len() <= 16, "retention bounds a query: {}", points.len());
        }
        let _ = chart.last_values();
        out.clear();
        chart.with_view(|v, _| {
            emit::definition(&mut out, v, Caps(u32::MAX), now_s);
            emit::data(&mut out, v, 1_000_000);
            let req =
                ReplayChart { chart: v.meta().id.clone(), start_streaming: true, after: 1, before: now_s };
            emit::replay(&mut out, v, &req, now_s, 32);
        });
    }
});

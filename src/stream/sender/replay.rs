//! Answers to the parent's `REPLAY_CHART` requests, from the host's database (or its RAM
//! window), paced so that they never crowd live data out of the send buffer.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use super::Shared;
use crate::clock;
use crate::protocol::{emit, ReplayChart};
use crate::rrd::Host;

/// Answers queued replication requests while the buffer has room for live data too.
pub(super) fn serve_replays(shared: &Shared, host: &Host, replays: &mut VecDeque<ReplayChart>) {
    let capacity = shared.ring.lock().capacity();
    // An answer may use at most a quarter of the buffer; none starts above half full.
    let budget = capacity / 4;
    while let Some(req) = replays.front() {
        if shared.ring.lock().free() < capacity / 2 {
            return;
        }
        let Some(chart) = host.chart(&req.chart) else {
            log::error!(
                "STREAM {} [send]: the parent asked to replicate unknown chart '{}'",
                shared.hostname,
                req.chart
            );
            replays.pop_front();
            continue;
        };
        let generation = shared.generation.load(Ordering::Acquire);
        let served = chart.with_view(|view, state| {
            let dims = view.dimensions().count().max(1);
            let id_len: usize = view.dimensions().map(|d| d.meta().id.len()).sum();
            let per_point = 64 + dims * 24 + id_len;
            let max_points = (budget / per_point).max(1);
            let mut text = String::new();
            let enable = emit::replay(&mut text, view, req, clock::now_realtime_sec(), max_points);
            if !shared.push(text.as_bytes()) {
                return false;
            }
            if enable && state.generation == generation {
                state.replicating = false;
            }
            true
        });
        if !served {
            return; // try again when the buffer drains
        }
        replays.pop_front();
    }
}

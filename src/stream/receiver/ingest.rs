//! One accepted child's stream, after the handshake: bytes in, database updates and
//! `REPLAY_CHART` requests out. No I/O: the event loop reads the socket and hands the bytes
//! to [`Receiver::feed`], then writes what it appended to the output buffer.
//!
//! Guarantees: memory per child is fixed by [`ReceiverLimits`] (the line buffer; with LZ4 the
//! decompressor's 64 KiB window and room for one block on top); every error names its reason
//! and ends only this child's connection; every `CHART_DEFINITION_END` is answered (by the
//! planner of [`super::replication`]), so no chart of the child is left waiting.

use std::collections::HashMap;
use std::sync::Arc;

use super::access::ChildSettings;
use super::limits::ReceiverLimits;
use super::replication::{ChartReplication, ChildTimes, Local, Rend, ReplayRequest, Settings};
use crate::protocol::{Event, LineBuffer, Session, Trust};
use crate::rrd::Host;
use crate::stream::caps::Caps;

/// Most bytes of `REPLAY_CHART` requests waiting for a child that does not read them.
pub const MAX_PENDING_OUTPUT: usize = 256 * 1024;

/// The state of one child's stream.
pub struct Receiver {
    host: Arc<Host>,
    session: Session,
    lines: LineBuffer,
    #[cfg(feature = "compression")]
    lz4: Option<crate::stream::lz4::Decompressor>,
    replication: Settings,
    charts: HashMap<String, ChartReplication>,
    /// The host's `removed_charts()` when `charts` was last pruned of removed charts.
    pruned_at: u64,
    /// Lines applied so far.
    lines_applied: u64,
    bytes_in: u64,
}

impl Receiver {
    /// A receiver for `host` speaking the granted capabilities; `source` names the child in
    /// log lines (`ip:port`).
    pub fn new(
        host: Arc<Host>,
        granted: Caps,
        settings: &ChildSettings,
        limits: &ReceiverLimits,
        source: &str,
    ) -> Receiver {
        let session = Session::new(
            Arc::clone(&host),
            source,
            settings.update_every,
            Trust::Trusted,
            limits.session_limits(),
        );
        #[cfg(feature = "compression")]
        let lz4 = granted
            .has(Caps::COMPRESSION)
            .then(|| crate::stream::lz4::Decompressor::strict(limits.decompressed_block()));
        Receiver {
            host,
            session,
            lines: LineBuffer::new(limits.line()),
            #[cfg(feature = "compression")]
            lz4,
            replication: Settings::for_child(settings, granted),
            charts: HashMap::new(),
            pruned_at: 0,
            lines_applied: 0,
            bytes_in: 0,
        }
    }

    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// Completed collections (`END` and `REND`), Netdata's "completed N updates".
    pub fn updates(&self) -> u64 {
        self.session.collections()
    }

    /// Bytes received from the child after the handshake.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Bytes of buffers this receiver holds.
    pub fn memory_bytes(&self) -> usize {
        #[cfg(feature = "compression")]
        let lz4 = self.lz4.as_ref().map_or(0, |d| d.memory_bytes());
        #[cfg(not(feature = "compression"))]
        let lz4 = 0;
        self.lines.max_line() + 4096 + lz4
    }

    /// Applies bytes received from the child at `now_ut` (microseconds, wall clock);
    /// `REPLAY_CHART` requests are appended to `out`. An error is the reason to close the
    /// connection.
    pub fn feed(&mut self, bytes: &[u8], now_ut: u64, out: &mut Vec<u8>) -> Result<(), String> {
        self.bytes_in += bytes.len() as u64;
        #[cfg(feature = "compression")]
        if let Some(mut lz4) = self.lz4.take() {
            // Each block is applied as soon as it is decoded: no buffer of decoded text.
            let r = lz4.feed_blocks(bytes, |block| self.text(block, now_ut, out));
            self.lz4 = Some(lz4);
            return r;
        }
        self.text(bytes, now_ut, out)
    }

    /// Plain text of the stream: cut into lines and applied.
    fn text(&mut self, mut bytes: &[u8], now_ut: u64, out: &mut Vec<u8>) -> Result<(), String> {
        while !bytes.is_empty() {
            let n = self.lines.push(bytes);
            bytes = &bytes[n..];
            self.drain(now_ut, out)?;
            if n == 0 && !bytes.is_empty() {
                // Cannot happen: a drained buffer always has room.
                return Err("the line buffer is stuck".into());
            }
        }
        Ok(())
    }

    fn drain(&mut self, now_ut: u64, out: &mut Vec<u8>) -> Result<(), String> {
        while let Some(frame) = self.lines.next_line() {
            let event = self.session.frame(frame, now_ut).map_err(|e| e.message)?;
            self.lines_applied += 1;
            if let Some(event) = event {
                self.event(event, now_ut, out)?;
            }
        }
        if out.len() > MAX_PENDING_OUTPUT {
            return Err(format!(
                "the child does not read its replication requests ({} bytes pending)",
                out.len()
            ));
        }
        Ok(())
    }

    fn event(&mut self, event: Event, now_ut: u64, out: &mut Vec<u8>) -> Result<(), String> {
        let now = i64::try_from(now_ut / 1_000_000).unwrap_or(i64::MAX);
        match event {
            Event::ChartDefinitionEnd { chart, first_entry_t, last_entry_t, child_now_t } => {
                self.forget_removed();
                let local = self.local(&chart, now);
                let child = ChildTimes { first: first_entry_t, last: last_entry_t, now: child_now_t };
                let state = self.charts.entry(chart.clone()).or_default();
                if let Some(req) = state.on_definition_end(&self.replication, child, &local) {
                    request(out, &chart, &req)?;
                }
            }
            Event::ReplayEnd { chart, start_streaming, after, before } => {
                let local = self.local(&chart, now);
                let rend = Rend { start_streaming, after, before, child: None };
                let Some(state) = self.charts.get_mut(&chart) else {
                    return Err(format!("REND for chart '{chart}' that was never requested"));
                };
                if let Some(req) = state.on_rend(&self.replication, &rend, &local)? {
                    request(out, &chart, &req)?;
                }
            }
            Event::ClaimedId { .. } | Event::FunctionResult { .. } => {}
        }
        Ok(())
    }

    /// Drops the replication state of charts that cleanup removed (obsolete ones), once per
    /// batch of removals, so the map follows the charts that exist.
    fn forget_removed(&mut self) {
        let removed = self.host.removed_charts();
        if removed != self.pruned_at {
            self.pruned_at = removed;
            let host = &self.host;
            self.charts.retain(|id, _| host.chart(id).is_some());
            self.charts.shrink_to_fit();
        }
    }

    /// What this parent holds of `chart` now.
    fn local(&self, chart: &str, now: i64) -> Local {
        match self.host.chart(chart) {
            Some(c) => {
                Local { has_dimensions: c.dimension_count() > 0, last: c.last_entry_t().unwrap_or(0), now }
            }
            None => Local { has_dimensions: false, last: 0, now },
        }
    }
}

fn request(out: &mut Vec<u8>, chart: &str, req: &ReplayRequest) -> Result<(), String> {
    let line =
        req.line(chart).ok_or_else(|| format!("chart id '{}' cannot be quoted", chart.escape_debug()))?;
    out.extend_from_slice(line.as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rrd::{Host, HostSettings};
    use crate::stream::receiver::negotiate::tests::settings;

    const T0: u64 = 1_700_000_000;

    fn receiver(caps: Caps) -> Receiver {
        let host =
            Arc::new(Host::new("g", "child", HostSettings { history: 600, ..HostSettings::default() }));
        Receiver::new(host, caps, &settings(), &ReceiverLimits::DEFAULT, "127.0.0.1:1")
    }

    fn definition(first: i64, last: i64, now: u64) -> String {
        format!(
            "CHART \"system.x\" \"\" \"X\" \"n\" \"x\" \"system.x\" \"line\" 1 1 \"   \" \"p\" \"\"\n\
             DIMENSION \"a\" \"a\" \"absolute\" 1 1 \"  \"\nCHART_DEFINITION_END {first} {last} {now}\n"
        )
    }

    #[test]
    fn definitions_are_answered_and_data_is_stored() {
        let mut r = receiver(Caps(5056));
        let mut out = Vec::new();
        r.feed(definition(0, 0, T0).as_bytes(), T0 * 1_000_000, &mut out).unwrap();
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "REPLAY_CHART \"system.x\" \"true\" 0 0\n");
        out.clear();
        let answer = format!("RBEGIN \"system.x\"\nRSSTATE 0 0\nREND 1 0 {T0} true 0 0 {T0}\n");
        r.feed(answer.as_bytes(), T0 * 1_000_000, &mut out).unwrap();
        for i in 0..5u64 {
            let t = (T0 + i) * 1_000_000 + 500_000;
            r.feed(
                format!("BEGIN \"system.x\" 1000000\nSET \"a\" = {}\nEND\n", i * 10).as_bytes(),
                t,
                &mut out,
            )
            .unwrap();
        }
        assert!(out.is_empty());
        assert_eq!(r.updates(), 6);
        let chart = r.host().chart("system.x").unwrap();
        assert!(chart.last_entry_t().is_some());
    }

    #[test]
    fn replicated_points_are_stored_in_steps() {
        let mut r = receiver(Caps(5056));
        let mut out = Vec::new();
        let now = T0 + 10;
        r.feed(definition(T0 as i64 - 5, T0 as i64 + 9, now).as_bytes(), now * 1_000_000, &mut out).unwrap();
        let line = String::from_utf8(out.clone()).unwrap();
        assert_eq!(line, format!("REPLAY_CHART \"system.x\" \"true\" {} {}\n", T0 - 5, T0 + 9));
        out.clear();
        let mut answer = String::from("RBEGIN \"system.x\"\n");
        for t in T0 - 4..=T0 + 9 {
            answer.push_str(&format!(
                "RBEGIN '' {} {t} {now}\nRSET \"a\" {}.0000000 \"\"\n",
                t - 1,
                t + 10 - T0
            ));
        }
        answer.push_str(&format!("REND 1 {} {} true {} {} {now}\n", T0 - 5, T0 + 9, T0 - 5, T0 + 9));
        r.feed(answer.as_bytes(), now * 1_000_000, &mut out).unwrap();
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
        let c = r.host().chart("system.x").unwrap();
        let pts = c.query(0, T0 as i64 - 4, T0 as i64 + 9);
        assert_eq!(pts.len(), 14);
        assert_eq!(pts[0].value, Some(6.0));
        assert_eq!(pts[13].value, Some(19.0));
    }

    #[test]
    fn malformed_streams_are_errors_with_reasons() {
        let mut out = Vec::new();
        let err = receiver(Caps(5056)).feed(b"SET \"a\" = 1\n", T0 * 1_000_000, &mut out).unwrap_err();
        assert_eq!(err, "SET without a chart");
        let err = receiver(Caps(5056)).feed(b"HELLO world\n", T0 * 1_000_000, &mut out).unwrap_err();
        assert_eq!(err, "unknown keyword 'HELLO'");
        let mut long = vec![b'x'; 20_000];
        long.push(b'\n');
        let err = receiver(Caps(5056)).feed(&long, T0 * 1_000_000, &mut out).unwrap_err();
        assert!(err.contains("longer than the limit"), "{err}");
        let err =
            receiver(Caps(5056)).feed(b"REND 1 0 0 true 0 0 0\n", T0 * 1_000_000, &mut out).unwrap_err();
        assert!(err.contains("never requested"), "{err}");
    }

    #[cfg(feature = "compression")]
    #[test]
    fn compressed_streams_are_decoded_and_bad_headers_refused() {
        let mut c = crate::stream::lz4::Compressor::new();
        let mut wire = Vec::new();
        c.compress(definition(0, 0, T0).as_bytes(), &mut wire).unwrap();
        let mut r = receiver(Caps(6080));
        let mut out = Vec::new();
        for piece in wire.chunks(7) {
            r.feed(piece, T0 * 1_000_000, &mut out).unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "REPLAY_CHART \"system.x\" \"true\" 0 0\n");
        let err = receiver(Caps(6080)).feed(b"CHART x\n", 0, &mut Vec::new()).unwrap_err();
        assert!(err.starts_with("bad LZ4 block header"), "{err}");
    }
}

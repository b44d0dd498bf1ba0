//! One accepted child's stream, after the handshake: bytes in, database updates and
//! `REPLAY_CHART` requests out. No I/O: the event loop reads the socket and hands the bytes
//! to [`Receiver::feed`], then writes what it appended to the output buffer.
//!
//! Work per call is bounded by a [`Budget`] (lines, bytes of lines, LZ4 blocks, a time slice):
//! [`Receiver::feed_within`] stops between two lines when it runs out and keeps the rest of
//! its input, so one child's backlog is spread over turns of the event loop.
//!
//! Guarantees: memory per child is fixed by [`ReceiverLimits`] (the line buffer; with LZ4 the
//! decompressor's 64 KiB window and room for one block on top), plus, only while the child
//! sends more than a turn's budget, the rest of one read and one block; every error names its reason
//! and ends only this child's connection; every `CHART_DEFINITION_END` is answered (by the
//! planner of [`super::replication`]), so no chart of the child is left waiting.

use std::collections::HashMap;
use std::sync::Arc;

use super::access::ChildSettings;
use super::budget::{Budget, Cost, Flow};
use super::limits::ReceiverLimits;
use super::replication::{ChartReplication, ChildTimes, Local, Rend, Settings};
use crate::protocol::{Caps, Event, Frame, LineBuffer, ReplayChart, Session, Trust};
use crate::rrd::Host;

/// Most bytes of `REPLAY_CHART` requests waiting for a child that does not read them.
pub const MAX_PENDING_OUTPUT: usize = 256 * 1024;

/// The state of one child's stream.
pub struct Receiver {
    host: Arc<Host>,
    session: Session,
    lines: LineBuffer,
    #[cfg(feature = "compression")]
    lz4: Option<crate::stream::lz4::Decompressor>,
    /// Input received and not consumed yet: the rest of a read after the turn's budget ran
    /// out, or (LZ4) the start of a block not complete yet. Empty — and unallocated — while
    /// the child's lines cost less than the budget.
    held: Vec<u8>,
    /// LZ4: text of the last decoded block that the turn's budget did not cover.
    #[cfg(feature = "compression")]
    held_text: Vec<u8>,
    replication: Settings,
    charts: HashMap<String, ChartReplication>,
    /// The host's `removed_charts()` when `charts` was last pruned of removed charts.
    pruned_at: u64,
    /// Lines applied so far.
    lines_applied: u64,
    bytes_in: u64,
    /// Calls that ended at their budget with input left.
    paused: u64,
    /// When the input kept by a paused call arrived: it is applied at that time, as it
    /// would have been without the budget.
    held_ut: Option<u64>,
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
            held: Vec::new(),
            #[cfg(feature = "compression")]
            held_text: Vec::new(),
            replication: Settings::for_child(settings, granted),
            charts: HashMap::new(),
            pruned_at: 0,
            lines_applied: 0,
            bytes_in: 0,
            paused: 0,
            held_ut: None,
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

    /// Lines applied so far.
    pub fn lines_applied(&self) -> u64 {
        self.lines_applied
    }

    /// How many times [`Receiver::feed_within`] stopped at its budget with work left.
    pub fn paused(&self) -> u64 {
        self.paused
    }

    /// Bytes of buffers this receiver holds.
    pub fn memory_bytes(&self) -> usize {
        #[cfg(feature = "compression")]
        let lz4 = self.lz4.as_ref().map_or(0, |d| d.memory_bytes()) + self.held_text.capacity();
        #[cfg(not(feature = "compression"))]
        let lz4 = 0;
        self.lines.max_line() + 4096 + lz4 + self.held.capacity()
    }

    /// Applies bytes received from the child at `now_ut` (microseconds, wall clock), all of
    /// them at once; `REPLAY_CHART` requests are appended to `out`. An error is the reason
    /// to close the connection. (The event loop uses [`Receiver::feed_within`].)
    pub fn feed(&mut self, bytes: &[u8], now_ut: u64, out: &mut Vec<u8>) -> Result<(), String> {
        self.feed_within(bytes, now_ut, out, &mut Budget::unlimited()).map(|_| ())
    }

    /// Keeps bytes received with the handshake for the next [`Receiver::feed_within`] (or
    /// [`Receiver::resume`]), without applying them now.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.bytes_in += bytes.len() as u64;
        self.held.extend_from_slice(bytes);
    }

    /// Whether input is kept from an earlier call (the caller must call
    /// [`Receiver::resume`] before waiting for the socket again).
    pub fn has_held_input(&self) -> bool {
        #[cfg(feature = "compression")]
        let text = !self.held_text.is_empty();
        #[cfg(not(feature = "compression"))]
        let text = false;
        text || !self.held.is_empty() || self.lines.buffered() > 0
    }

    /// Continues what an earlier call left within `budget`.
    pub fn resume(&mut self, now_ut: u64, out: &mut Vec<u8>, budget: &mut Budget) -> Result<Flow, String> {
        self.feed_within(&[], now_ut, out, budget)
    }

    /// Applies what earlier calls left, then `bytes`, until `budget` runs out: stops between
    /// two lines (or two LZ4 blocks) and keeps the rest for [`Receiver::resume`]
    /// ([`Flow::Paused`]). Kept input is at most one read plus one LZ4 block, since the
    /// caller reads nothing more while this returns `Paused`.
    pub fn feed_within(
        &mut self,
        bytes: &[u8],
        now_ut: u64,
        out: &mut Vec<u8>,
        budget: &mut Budget,
    ) -> Result<Flow, String> {
        self.bytes_in += bytes.len() as u64;
        // The caller reads nothing while a call is paused, so what is kept came with the
        // last bytes given: it keeps their time.
        let at = if bytes.is_empty() { self.held_ut.unwrap_or(now_ut) } else { now_ut };
        let flow = self.feed_inner(bytes, &mut Turn { now_ut: at, out, budget })?;
        if flow == Flow::Paused {
            self.paused += 1;
        }
        self.held_ut = (flow == Flow::Paused).then_some(at);
        Ok(flow)
    }

    fn feed_inner(&mut self, bytes: &[u8], t: &mut Turn<'_>) -> Result<Flow, String> {
        if self.text_held(t)? == Flow::Paused {
            self.held.extend_from_slice(bytes);
            return Ok(Flow::Paused);
        }
        if !self.held.is_empty() {
            let mut held = std::mem::take(&mut self.held);
            held.extend_from_slice(bytes);
            let (used, flow) = self.consume(&held, t)?;
            if used < held.len() {
                held.drain(..used);
                self.held = held;
            }
            // Otherwise `held` is dropped: an idle child keeps no buffer here.
            return Ok(flow);
        }
        let (used, flow) = self.consume(bytes, t)?;
        self.held.extend_from_slice(&bytes[used..]);
        Ok(flow)
    }

    /// Lines already framed and (LZ4) decoded text left by an earlier call.
    fn text_held(&mut self, t: &mut Turn<'_>) -> Result<Flow, String> {
        if self.drain(t)? == Flow::Paused {
            return Ok(Flow::Paused);
        }
        #[cfg(feature = "compression")]
        if !self.held_text.is_empty() {
            let mut text = std::mem::take(&mut self.held_text);
            let (used, flow) = self.text(&text, t)?;
            if used < text.len() {
                text.drain(..used);
                self.held_text = text;
            }
            return Ok(flow);
        }
        Ok(Flow::Done)
    }

    /// Raw input: decoded if compressed, then cut into lines and applied. Returns the bytes
    /// used; the rest is for the next call.
    fn consume(&mut self, bytes: &[u8], t: &mut Turn<'_>) -> Result<(usize, Flow), String> {
        #[cfg(feature = "compression")]
        if let Some(mut lz4) = self.lz4.take() {
            let r = self.blocks(&mut lz4, bytes, t);
            self.lz4 = Some(lz4);
            return r;
        }
        self.text(bytes, t)
    }

    /// Decodes whole LZ4 blocks one at a time, each applied as soon as it is decoded (no
    /// buffer of decoded text unless the budget ends inside a block).
    #[cfg(feature = "compression")]
    fn blocks(
        &mut self,
        lz4: &mut crate::stream::lz4::Decompressor,
        input: &[u8],
        t: &mut Turn<'_>,
    ) -> Result<(usize, Flow), String> {
        let mut at = 0;
        while at < input.len() {
            if t.budget.blocks_exhausted() {
                return Ok((at, Flow::Paused));
            }
            let Some(len) = frame_len(&input[at..]) else { break };
            t.budget.block();
            let mut flow = Flow::Done;
            lz4.feed_blocks(&input[at..at + len], |text| {
                let (used, f) = self.text(text, t)?;
                if f == Flow::Paused {
                    self.held_text.extend_from_slice(&text[used..]);
                    flow = Flow::Paused;
                }
                Ok(())
            })?;
            at += len;
            if flow == Flow::Paused {
                return Ok((at, Flow::Paused));
            }
        }
        Ok((at, Flow::Done))
    }

    /// Plain text of the stream: cut into lines and applied within the budget.
    fn text(&mut self, bytes: &[u8], t: &mut Turn<'_>) -> Result<(usize, Flow), String> {
        let mut used = 0;
        loop {
            if self.drain(t)? == Flow::Paused {
                return Ok((used, Flow::Paused));
            }
            if used == bytes.len() {
                return Ok((used, Flow::Done));
            }
            let n = self.lines.push(&bytes[used..]);
            if n == 0 {
                // Cannot happen: a drained buffer always has room.
                return Err("the line buffer is stuck".into());
            }
            used += n;
        }
    }

    /// Applies the complete lines in the line buffer while the budget lasts.
    fn drain(&mut self, t: &mut Turn<'_>) -> Result<Flow, String> {
        let Turn { now_ut, out, budget } = t;
        let now_ut = *now_ut;
        let flow = loop {
            if budget.lines_exhausted() {
                break if self.lines.buffered() > 0 { Flow::Paused } else { Flow::Done };
            }
            let Some(frame) = self.lines.next_line() else { break Flow::Done };
            let (len, cost) = match frame {
                Frame::Line(l) => (l.len(), Cost::of(l)),
                Frame::TooLong { at_least } => (at_least, Cost::Heavy),
            };
            let event = self.session.frame(frame, now_ut).map_err(|e| self.session.stream_wording(&e))?;
            self.lines_applied += 1;
            budget.line(len, cost);
            if let Some(event) = event {
                self.event(event, now_ut, out)?;
            }
        };
        if out.len() > MAX_PENDING_OUTPUT {
            return Err(format!(
                "the child does not read its replication requests ({} bytes pending)",
                out.len()
            ));
        }
        Ok(flow)
    }

    fn event(&mut self, event: Event, now_ut: u64, out: &mut Vec<u8>) -> Result<(), String> {
        let now = i64::try_from(now_ut / 1_000_000).unwrap_or(i64::MAX);
        match event {
            Event::ChartDefinitionEnd { chart, first_entry_t, last_entry_t, child_now_t } => {
                self.forget_removed();
                let local = self.local(&chart, now);
                let child = ChildTimes { first: first_entry_t, last: last_entry_t, now: child_now_t };
                let state = self.charts.entry(chart.clone()).or_default();
                if let Some(req) = state.on_definition_end(&self.replication, &chart, child, &local) {
                    note(&self.session, &chart, state.take_note());
                    self.session.expect_replay(&chart, req.after, req.before, req.start_streaming);
                    request(out, &req)?;
                }
            }
            Event::ReplayEnd { chart, start_streaming, after, before } => {
                let local = self.local(&chart, now);
                let rend = Rend { start_streaming, after, before, child: None };
                let Some(state) = self.charts.get_mut(&chart) else {
                    return Err(format!("REND for chart '{chart}' that was never requested"));
                };
                let next = state
                    .on_rend(&self.replication, &rend, &local)
                    .map_err(|e| format!("chart '{chart}': {e}"))?;
                note(&self.session, &chart, state.take_note());
                if let Some(req) = next {
                    self.session.expect_replay(&chart, req.after, req.before, req.start_streaming);
                    request(out, &req)?;
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

/// What one call applies with: its time, where replication requests go, its budget.
struct Turn<'a> {
    now_ut: u64,
    out: &'a mut Vec<u8>,
    budget: &'a mut Budget,
}

/// The bytes of the LZ4 frame at the start of `input` once it is complete: a header and its
/// block, or just 4 bytes that are no valid header (for the decompressor to refuse).
#[cfg(feature = "compression")]
fn frame_len(input: &[u8]) -> Option<usize> {
    use crate::stream::lz4::{parse_header, MAX_BLOCK_OUTPUT};
    let h: [u8; 4] = input.get(..4)?.try_into().ok()?;
    match parse_header(h) {
        Some(len) if len <= MAX_BLOCK_OUTPUT => (input.len() >= 4 + len).then_some(4 + len),
        _ => Some(4),
    }
}

fn request(out: &mut Vec<u8>, req: &ReplayChart) -> Result<(), String> {
    let line =
        req.line().ok_or_else(|| format!("chart id '{}' cannot be quoted", req.chart.escape_debug()))?;
    out.extend_from_slice(line.as_bytes());
    Ok(())
}

/// Logs why a chart's replication ended early (see [`ChartReplication::take_note`]).
fn note(session: &Session, chart: &str, note: Option<String>) {
    if let Some(why) = note {
        log::warn!("{}: replication of chart '{chart}': {why}", session.source());
    }
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
        // In the words of Netdata's streaming guide.
        assert_eq!(
            err,
            "sent command 'HELLO' which is not known by netdata, for host 'child'. Disabling it."
        );
        let set = format!("{}BEGIN system.x\nSET\n", definition(0, 0, T0));
        let err = receiver(Caps(5056)).feed(set.as_bytes(), T0 * 1_000_000, &mut out).unwrap_err();
        assert!(err.starts_with("requested a SET on chart 'system.x' of host 'child', without a dimension."));
        let mut long = vec![b'x'; 20_000];
        long.push(b'\n');
        let err = receiver(Caps(5056)).feed(&long, T0 * 1_000_000, &mut out).unwrap_err();
        assert!(err.contains("longer than the limit"), "{err}");
        let err =
            receiver(Caps(5056)).feed(b"REND 1 0 0 true 0 0 0\n", T0 * 1_000_000, &mut out).unwrap_err();
        assert!(err.contains("never requested"), "{err}");
    }

    /// Dimensions of the backlog's chart: 50 collections of them make 15000 `SET` lines while
    /// the chart's clock stays within the 60 s a child may be ahead of ours (all of the
    /// backlog is applied at the same local time).
    const BACKLOG_DIMS: u64 = 298;
    /// Lines of `backlog(50)`: CHART, the dimensions, CHART_DEFINITION_END, then per
    /// collection BEGIN, the SETs and END.
    const BACKLOG_LINES: u64 = 1 + BACKLOG_DIMS + 1 + 50 * (BACKLOG_DIMS + 2);

    /// A backlog of `n` collections of a [`BACKLOG_DIMS`]-dimension chart, after its definition.
    fn backlog(n: u64) -> Vec<u8> {
        let mut dims = String::new();
        for d in 1..BACKLOG_DIMS {
            dims.push_str(&format!("DIMENSION \"d{d}\" \"d{d}\" \"absolute\" 1 1 \"  \"\n"));
        }
        let text = definition(0, 0, T0)
            .replace("CHART_DEFINITION_END 0 0", &format!("{dims}CHART_DEFINITION_END 0 0"));
        let mut text = text;
        for i in 0..n {
            text.push_str(&format!("BEGIN \"system.x\" 1000000\nSET \"a\" = {i}\n"));
            for d in 1..BACKLOG_DIMS {
                text.push_str(&format!("SET \"d{d}\" = {}\n", d * i));
            }
            text.push_str("END\n");
        }
        text.into_bytes()
    }

    /// Feeds `wire` in reads of `read` bytes, each turn with `budget()`, resuming held work
    /// before reading more as the event loop does; returns how many turns it took.
    fn turns(r: &mut Receiver, wire: &[u8], read: usize, budget: impl Fn() -> Budget) -> usize {
        let mut out = Vec::new();
        let (mut at, mut turns) = (0, 0);
        loop {
            turns += 1;
            assert!(turns < 100_000, "no progress");
            let mut b = budget();
            let mut flow = r.resume(T0 * 1_000_000, &mut out, &mut b).unwrap();
            while flow == Flow::Done && at < wire.len() {
                let end = (at + read).min(wire.len());
                flow = r.feed_within(&wire[at..end], T0 * 1_000_000, &mut out, &mut b).unwrap();
                at = end;
            }
            if flow == Flow::Done {
                return turns;
            }
        }
    }

    #[test]
    fn a_backlog_is_applied_over_several_turns_with_the_same_result() {
        let wire = backlog(50); // 15000 lines + the definition
        let mut all = receiver(Caps(5056));
        all.feed(&wire, T0 * 1_000_000, &mut Vec::new()).unwrap();
        assert_eq!(all.paused(), 0);
        let lines = all.lines_applied();
        assert_eq!(lines, BACKLOG_LINES);

        let mut r = receiver(Caps(5056));
        let n = turns(&mut r, &wire, 16 * 1024, || Budget::new(1000, usize::MAX, 8));
        assert_eq!(r.lines_applied(), lines);
        assert!(n >= 15, "{lines} lines at 1000 a turn took {n} turns");
        assert!(r.paused() >= 14, "paused {} times", r.paused());
        assert_eq!(r.updates(), all.updates());
        assert!(!r.has_held_input());
        assert_eq!(r.held.capacity(), 0, "nothing kept once the backlog is done");
        // The bytes budget ends turns as well: ~20 bytes a line, 4 KiB a turn.
        let mut small = receiver(Caps(5056));
        let n = turns(&mut small, &wire, 16 * 1024, || Budget::new(u32::MAX, 4096, 8));
        assert_eq!(small.lines_applied(), lines);
        assert!(n >= 50, "{n} turns");
    }

    #[cfg(feature = "compression")]
    #[test]
    fn a_compressed_backlog_is_spread_over_turns_by_lines_and_blocks() {
        let text = backlog(50);
        let mut c = crate::stream::lz4::Compressor::new();
        let mut wire = Vec::new();
        for chunk in text.chunks(crate::stream::lz4::MAX_BLOCK_INPUT) {
            c.compress(chunk, &mut wire).unwrap();
        }
        let blocks = text.len().div_ceil(crate::stream::lz4::MAX_BLOCK_INPUT);
        let mut r = receiver(Caps(6080));
        // Awkward reads that split blocks, 500 lines a turn.
        let n = turns(&mut r, &wire, 777, || Budget::new(500, usize::MAX, 8));
        assert_eq!(r.lines_applied(), BACKLOG_LINES);
        assert!(n >= 30, "{n} turns");
        assert!(r.held_text.is_empty() && r.held.is_empty());
        // One block a turn: at least as many turns as blocks.
        let mut one = receiver(Caps(6080));
        let n = turns(&mut one, &wire, 16 * 1024, || Budget::new(u32::MAX, usize::MAX, 1));
        assert_eq!(one.lines_applied(), BACKLOG_LINES);
        assert!(n >= blocks, "{n} turns for {blocks} blocks");
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

//! The parent's side of replication (protocol.md §3.1 step 2): which `REPLAY_CHART` to send
//! for a chart, and when a chart's replication ends. The request itself ([`ReplayChart`])
//! and the rule for the `RBEGIN` points of the answer (step 5,
//! [`crate::protocol::check_point`]) belong to the wire, in [`crate::protocol`].
//!
//! Guarantees: pure integer arithmetic on the times given (no clock is read); every request
//! satisfies `after <= before`, and a non-empty request lies within the child's
//! `[first, last]` and never ends after the parent's `now`; an empty request (`0 0 true`) is
//! produced exactly in §3.1's cases, so every `CHART_DEFINITION_END` gets an answer and no chart
//! is left waiting. No overflow on hostile times (saturating arithmetic).
//!
//! A child cannot keep a chart's replication going: a `REND … false` that moves nothing
//! (its `before` not after the requested `after`, or any answer to an empty request) ends
//! the chart's replication with an empty request ("stream now"), and a second one on the
//! same connection is an error (the child is disconnected); the rounds of one chart on one
//! connection are bounded by what `seconds to replicate` / `step` needs ([`max_rounds`]).
//! Replicated points must lie in the range requested ([`crate::protocol::check_in_request`]).

use crate::protocol::{Caps, ReplayChart};

/// The replication settings of one child (from [`super::access::ChildSettings`], with
/// `enabled` false unless `REPLICATION` was negotiated too).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub enabled: bool,
    pub seconds_to_replicate: u64,
    /// Seconds per request; 0 is taken as 1.
    pub step: u64,
}

impl Settings {
    /// A child's replication settings: enabled only when `enable replication` resolved to
    /// yes and `REPLICATION` was granted (see [`super::negotiate::for_child`]).
    pub fn for_child(settings: &super::access::ChildSettings, granted: Caps) -> Settings {
        Settings {
            enabled: settings.replication && granted.has(Caps::REPLICATION),
            seconds_to_replicate: settings.seconds_to_replicate,
            step: settings.replication_step,
        }
    }
}

/// What the child says it holds for a chart (`CHART_DEFINITION_END` or `REND`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ChildTimes {
    pub first: i64,
    pub last: i64,
    pub now: Option<i64>,
}

/// The parent's side of one chart at the time of a request.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Local {
    /// The chart has dimensions.
    pub has_dimensions: bool,
    /// Time of the last entry stored here for the chart, 0 for none (`L`).
    pub last: i64,
    /// The parent's wall clock, unix seconds.
    pub now: i64,
}

/// §3.1 step 2. `gap_start` is `None` for the first request of a chart (the gap then starts
/// at `L`, or `now − seconds to replicate` when nothing is stored) and the previous
/// request's `before` for a follow-up after `REND … false`.
pub fn plan(
    s: &Settings,
    chart: &str,
    child: &ChildTimes,
    local: &Local,
    gap_start: Option<i64>,
) -> ReplayChart {
    let l = local.last.min(local.now);
    if !s.enabled
        || child.last == 0
        || !local.has_dimensions
        || child.first <= 0
        || child.first > child.last
        || l > child.last
    {
        return ReplayChart::empty(chart);
    }
    let step = i64::try_from(s.step.max(1)).unwrap_or(i64::MAX);
    let window = i64::try_from(s.seconds_to_replicate).unwrap_or(i64::MAX);
    let start = gap_start.unwrap_or(if l > 0 { l } else { local.now.saturating_sub(window) });
    let mut after = child.first.max(start);
    let before = after.saturating_add(step).min(local.now).min(child.last);
    if after > before {
        after = before;
    }
    let start_streaming = local.now.saturating_sub(after) <= step || before == child.last;
    ReplayChart { chart: chart.to_owned(), start_streaming, after, before }
}

/// Most non-empty requests for one chart on one connection: twice what the window needs
/// in steps, plus a few for definitions sent again (a child sends a chart's definition again
/// when it changes, and each one is answered).
pub fn max_rounds(s: &Settings) -> u32 {
    let step = s.step.max(1);
    let needed = s.seconds_to_replicate.div_ceil(step);
    u32::try_from(needed.saturating_mul(2).saturating_add(8)).unwrap_or(u32::MAX)
}

/// The `REND` fields the planner uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Rend {
    pub start_streaming: bool,
    pub after: i64,
    pub before: i64,
    /// The child's first/last/now as `REND` reports them; `None` keeps those of the
    /// `CHART_DEFINITION_END`.
    pub child: Option<ChildTimes>,
}

/// One chart's replication: at most one request in flight; a definition that arrives while
/// one is in flight is not answered again (Netdata: "already replicating").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartReplication {
    in_flight: Option<ReplayChart>,
    child: Option<ChildTimes>,
    finished: bool,
    /// Non-empty requests sent on this connection.
    rounds: u32,
    /// Answers that made no progress on this connection.
    idle: u32,
    /// Why the last answer ended the chart's replication early, for the owner's log line.
    note: Option<String>,
}

impl ChartReplication {
    pub fn new() -> ChartReplication {
        ChartReplication::default()
    }

    /// Counts a non-empty request against [`max_rounds`]; past it, the empty request
    /// ("stream now") instead, with the reason kept for [`ChartReplication::take_note`].
    fn counted(&mut self, s: &Settings, r: ReplayChart) -> ReplayChart {
        if r.is_empty() {
            return r;
        }
        if self.rounds >= max_rounds(s) {
            self.note = Some(format!(
                "{} replication requests on this connection, the most the window needs; \
                 its replication ends",
                self.rounds
            ));
            return ReplayChart::empty(&r.chart);
        }
        self.rounds += 1;
        r
    }

    /// `CHART_DEFINITION_END`: the request to send, or `None` while one is in flight.
    pub fn on_definition_end(
        &mut self,
        s: &Settings,
        chart: &str,
        child: ChildTimes,
        local: &Local,
    ) -> Option<ReplayChart> {
        if self.in_flight.is_some() {
            return None;
        }
        let r = self.counted(s, plan(s, chart, &child, local, None));
        self.child = Some(child);
        self.in_flight = Some(r.clone());
        self.finished = false;
        Some(r)
    }

    /// `REND`: `Ok(None)` when the chart is replicated (streaming resumes), `Ok(Some(r))` for
    /// the follow-up to send, `Err` for a `REND` that answers nothing or goes backwards (the
    /// connection should be dropped).
    pub fn on_rend(
        &mut self,
        s: &Settings,
        rend: &Rend,
        local: &Local,
    ) -> Result<Option<ReplayChart>, String> {
        let Some(asked) = self.in_flight.take() else {
            return Err("REND without a pending REPLAY_CHART".into());
        };
        if rend.start_streaming {
            self.finished = true;
            return Ok(None);
        }
        if !asked.is_empty() && rend.before < asked.after {
            let e =
                format!("REND before={} is earlier than the requested after={}", rend.before, asked.after);
            self.in_flight = Some(asked);
            return Err(e);
        }
        if asked.is_empty() || rend.before <= asked.after {
            // "Not finished" without moving: asking again would get the same answer forever.
            self.idle += 1;
            let what = if asked.is_empty() {
                "answered the empty request (\"stream now\") with REND … false".to_string()
            } else {
                format!(
                    "answered {}..{} with REND … false ending at {}",
                    asked.after, asked.before, rend.before
                )
            };
            if self.idle >= 2 {
                let e = format!(
                    "{} replication answers of this chart made no progress (the last {what})",
                    self.idle
                );
                self.in_flight = Some(asked);
                return Err(e);
            }
            self.note = Some(format!("{what}: no progress; its replication ends"));
            let r = ReplayChart::empty(&asked.chart);
            self.in_flight = Some(r.clone());
            return Ok(Some(r));
        }
        if let Some(c) = rend.child {
            self.child = Some(c);
        }
        let child = self.child.unwrap_or(ChildTimes { first: 0, last: 0, now: None });
        let r = self.counted(s, plan(s, &asked.chart, &child, local, Some(rend.before)));
        self.in_flight = Some(r.clone());
        Ok(Some(r))
    }

    /// Why the last call ended the chart's replication early (taken once), for a log line.
    pub fn take_note(&mut self) -> Option<String> {
        self.note.take()
    }

    /// The request waiting for its `REND`.
    pub fn in_flight(&self) -> Option<&ReplayChart> {
        self.in_flight.as_ref()
    }

    /// The child said `REND … true` to the last request.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Settings = Settings { enabled: true, seconds_to_replicate: 86_400, step: 600 };

    fn child(first: i64, last: i64) -> ChildTimes {
        ChildTimes { first, last, now: Some(10_000) }
    }
    fn local(last: i64) -> Local {
        Local { has_dimensions: true, last, now: 10_000 }
    }
    const ID: &str = "system.cpu";
    fn req(after: i64, before: i64, start_streaming: bool) -> ReplayChart {
        ReplayChart { chart: ID.into(), start_streaming, after, before }
    }

    #[test]
    fn first_request_of_an_empty_parent() {
        // L = 0: the gap starts at now − 86400 = −76400; the child's first entry wins.
        let r = plan(&S, ID, &child(1_000, 9_999), &local(0), None);
        assert_eq!(r, req(1_000, 1_600, false));
        assert_eq!(r.line().as_deref(), Some("REPLAY_CHART \"system.cpu\" \"false\" 1000 1600\n"));
        // A shorter window: the gap starts at 10000 − 3600 = 6400.
        let s = Settings { seconds_to_replicate: 3_600, ..S };
        assert_eq!(plan(&s, ID, &child(1_000, 9_999), &local(0), None), req(6_400, 7_000, false));
    }

    #[test]
    fn short_gap_ends_at_the_child_last_entry() {
        // L = 9700: after 9700, before min(10300, 10000, 9999) = 9999; now − after = 300 ≤ 600.
        let r = plan(&S, "net.eth0", &child(1_000, 9_999), &local(9_700), None);
        assert_eq!(r, ReplayChart { chart: "net.eth0".into(), ..req(9_700, 9_999, true) });
        assert_eq!(r.line().as_deref(), Some("REPLAY_CHART \"net.eth0\" \"true\" 9700 9999\n"));
        // L = 8000: 8000..8600, now − after = 2000 > 600 and 8600 ≠ 9999.
        assert_eq!(plan(&S, ID, &child(1_000, 9_999), &local(8_000), None), req(8_000, 8_600, false));
        // L = 9399: 9399..9999 (the step reaches the child's last entry).
        assert_eq!(plan(&S, ID, &child(1_000, 9_999), &local(9_399), None), req(9_399, 9_999, true));
    }

    #[test]
    fn follow_ups_continue_from_before() {
        assert_eq!(plan(&S, ID, &child(1_000, 9_999), &local(1_600), Some(1_600)), req(1_600, 2_200, false));
        // now − after = 700 > 600 and 9900 ≠ 9999: not yet.
        assert_eq!(plan(&S, ID, &child(1_000, 9_999), &local(9_000), Some(9_300)), req(9_300, 9_900, false));
        // 9500..min(10100, 10000, 9999): the last step.
        assert_eq!(plan(&S, ID, &child(1_000, 9_999), &local(9_000), Some(9_500)), req(9_500, 9_999, true));
    }

    #[test]
    fn empty_requests() {
        let empty = ReplayChart::empty(ID);
        assert_eq!(ReplayChart::empty("x").line().as_deref(), Some("REPLAY_CHART \"x\" \"true\" 0 0\n"));
        let off = Settings { enabled: false, ..S };
        assert_eq!(plan(&off, ID, &child(1_000, 9_999), &local(0), None), empty, "replication disabled");
        assert_eq!(
            plan(&S, ID, &child(0, 0), &local(0), None),
            empty,
            "child without stored data (mode none)"
        );
        assert_eq!(plan(&S, ID, &child(0, 9_999), &local(0), None), empty, "child first <= 0");
        assert_eq!(plan(&S, ID, &child(5_000, 4_000), &local(0), None), empty, "first > last");
        assert_eq!(
            plan(&S, ID, &child(1_000, 9_999), &local(10_000), None),
            empty,
            "parent ahead of the child"
        );
        let no_dims = Local { has_dimensions: false, ..local(0) };
        assert_eq!(plan(&S, ID, &child(1_000, 9_999), &no_dims, None), empty, "no dimensions");
    }

    #[test]
    fn clamps() {
        // L in the parent's future is clamped to now: 10000..min(10600, 10000, 15000).
        assert_eq!(plan(&S, ID, &child(1_000, 15_000), &local(20_000), None), req(10_000, 10_000, true));
        // The child's clock is ahead: after is pulled back to before.
        assert_eq!(plan(&S, ID, &child(12_000, 13_000), &local(0), None), req(10_000, 10_000, true));
        // Step 0 is taken as 1; hostile extremes do not overflow.
        let s = Settings { step: 0, seconds_to_replicate: u64::MAX, ..S };
        assert_eq!(plan(&s, ID, &child(1_000, 9_999), &local(5_000), None), req(5_000, 5_001, false));
        let r =
            plan(&s, ID, &child(1, i64::MAX), &Local { has_dimensions: true, last: 0, now: i64::MAX }, None);
        assert!(r.after <= r.before);
        let r = plan(
            &S,
            ID,
            &child(1, i64::MAX),
            &Local { has_dimensions: true, last: i64::MIN, now: i64::MIN },
            None,
        );
        assert!(r.after <= r.before);
    }

    #[test]
    fn requests_stay_between_the_window_and_now_whatever_the_child_claims() {
        let now = 1_700_000_000;
        let l = Local { has_dimensions: true, last: 0, now };
        let window = S.seconds_to_replicate as i64;
        let step = S.step as i64;
        let claims = [
            (1, i64::MAX, Some(i64::MAX)),
            (now + 3_600, now + 7_200, Some(now + 7_200)),
            (1, now + 100_000_000, None),
            (i64::MIN + 1, i64::MAX, Some(i64::MIN)),
            (1, 2, Some(now)),
        ];
        for (first, last, cnow) in claims {
            let child = ChildTimes { first, last, now: cnow };
            let mut c = ChartReplication::new();
            let Some(mut r) = c.on_definition_end(&S, ID, child, &l) else { panic!("unanswered") };
            // Follow the conversation with RENDs that claim absurd progress too.
            for before in [i64::MAX, now + 3_600, i64::MIN, r.before] {
                assert!(r.after <= r.before, "{first} {last}: {r:?}");
                assert!(r.before <= now, "never after our now: {r:?}");
                // (A child whose newest point is older than the window gets the empty-range
                // request at its last point: nothing to answer.)
                let floor = (now - window).min(last);
                assert!(r.is_empty() || r.after >= floor, "never before the window: {r:?}");
                assert!(r.before - r.after <= step, "one step at most: {r:?}");
                if r.start_streaming {
                    break;
                }
                let rend =
                    Rend { start_streaming: false, after: r.after, before: before.max(r.after), child: None };
                match c.on_rend(&S, &rend, &l) {
                    Ok(Some(next)) => r = next,
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }

    #[test]
    fn settings_follow_the_grant() {
        let mut cs = crate::stream::receiver::negotiate::tests::settings();
        assert!(Settings::for_child(&cs, Caps(6080)).enabled);
        assert!(!Settings::for_child(&cs, Caps(6080 - 4096)).enabled, "not granted");
        cs.replication = false;
        assert!(!Settings::for_child(&cs, Caps(6080)).enabled, "disabled in stream.conf");
        assert_eq!(Settings::for_child(&cs, Caps(6080)).step, 600);
    }

    #[test]
    fn chart_state_machine() {
        let mut c = ChartReplication::new();
        let r = c.on_definition_end(&S, ID, child(1_000, 9_999), &local(0));
        assert_eq!(r, Some(req(1_000, 1_600, false)));
        // A repeated definition while replicating is not answered twice.
        assert_eq!(c.on_definition_end(&S, ID, child(1_000, 9_999), &local(0)), None);
        // REND false: continue from before (the child's times from REND are used).
        let rend =
            Rend { start_streaming: false, after: 1_000, before: 1_600, child: Some(child(1_000, 9_999)) };
        assert_eq!(c.on_rend(&S, &rend, &local(1_600)), Ok(Some(req(1_600, 2_200, false))));
        let rend = Rend { start_streaming: false, after: 1_600, before: 2_200, child: None };
        assert_eq!(c.on_rend(&S, &rend, &local(2_200)), Ok(Some(req(2_200, 2_800, false))));
        assert!(!c.is_finished());
        let rend = Rend { start_streaming: true, after: 2_200, before: 2_800, child: None };
        assert_eq!(c.on_rend(&S, &rend, &local(2_800)), Ok(None));
        assert!(c.is_finished() && c.in_flight().is_none());
        // A stray REND is an error, so is one going backwards.
        assert!(c.on_rend(&S, &rend, &local(2_800)).is_err());
        c.on_definition_end(&S, ID, child(1_000, 9_999), &local(5_000));
        let back = Rend { start_streaming: false, after: 5_000, before: 10, child: None };
        assert!(c.on_rend(&S, &back, &local(5_000)).is_err());
        // Memory mode none child: an empty request, then REND true.
        let mut c = ChartReplication::new();
        assert_eq!(c.on_definition_end(&S, ID, child(0, 0), &local(0)), Some(ReplayChart::empty(ID)));
        let rend = Rend { start_streaming: true, after: 0, before: 0, child: None };
        assert_eq!(c.on_rend(&S, &rend, &local(0)), Ok(None));
    }

    #[test]
    fn rounds_are_bounded_by_the_window() {
        assert_eq!(max_rounds(&S), 86_400 / 600 * 2 + 8);
        assert_eq!(max_rounds(&Settings { step: 0, seconds_to_replicate: u64::MAX, ..S }), u32::MAX);
        // A child that claims a long history and answers every request with exactly what was
        // asked, "not finished": the requests follow the window, then replication ends.
        let now = 1_700_000_000;
        let l = Local { has_dimensions: true, last: 0, now };
        let mut c = ChartReplication::new();
        let child = ChildTimes { first: 1, last: 4_102_444_800, now: Some(9_000_000_000) };
        let mut r = c.on_definition_end(&S, ID, child, &l).expect("answered");
        let mut requests = 1u32;
        let end = loop {
            let rend = Rend { start_streaming: false, after: r.after, before: r.before, child: Some(child) };
            match c.on_rend(&S, &rend, &l) {
                Ok(Some(next)) => {
                    r = next;
                    requests += 1;
                    assert!(requests <= max_rounds(&S) + 2, "unbounded");
                }
                other => break other,
            }
        };
        // 144 steps to now, the last one ([now, now]) answered without progress: an empty
        // request ends it, and its "not finished" answer is the error.
        assert!(
            end.as_ref().is_err_and(|e| e.contains("2 replication answers of this chart made no progress")),
            "{end:?}"
        );
        assert_eq!(requests, 86_400 / 600 + 2);
        // Redefinitions cannot make it ask again beyond the bound: past it, an empty request.
        let mut c = ChartReplication::new();
        let mut sent = 0;
        for _ in 0..max_rounds(&S) + 5 {
            let r = c.on_definition_end(&S, ID, child, &l).expect("answered");
            sent += u32::from(!r.is_empty());
            let rend = Rend { start_streaming: true, after: r.after, before: r.before, child: None };
            assert_eq!(c.on_rend(&S, &rend, &l), Ok(None));
        }
        assert_eq!(sent, max_rounds(&S));
        assert!(c.take_note().is_some_and(|n| n.contains("the most the window needs")));
    }

    #[test]
    fn an_answer_without_progress_ends_the_chart_and_a_second_one_is_an_error() {
        let mut c = ChartReplication::new();
        let r = c.on_definition_end(&S, ID, child(1_000, 9_999), &local(0)).expect("answered");
        assert_eq!(r, req(1_000, 1_600, false));
        // before == after: nothing moved. The chart is told to stream (an empty request).
        let stuck = Rend { start_streaming: false, after: 1_000, before: 1_000, child: None };
        assert_eq!(c.on_rend(&S, &stuck, &local(0)), Ok(Some(ReplayChart::empty(ID))));
        let note = c.take_note().expect("a reason to log");
        assert!(note.contains("no progress; its replication ends"), "{note}");
        assert_eq!(c.take_note(), None, "taken once");
        // "Not finished" to the empty request: the second answer without progress.
        let again = Rend { start_streaming: false, after: 0, before: 0, child: None };
        let e = c.on_rend(&S, &again, &local(0)).unwrap_err();
        assert!(e.contains("2 replication answers of this chart made no progress"), "{e}");
        assert!(e.contains("the empty request"), "{e}");
        // A child without data (empty request) that says "not finished" once is told again to
        // stream, and its REND true ends it normally.
        let mut c = ChartReplication::new();
        assert_eq!(c.on_definition_end(&S, ID, child(0, 0), &local(0)), Some(ReplayChart::empty(ID)));
        assert_eq!(c.on_rend(&S, &again, &local(0)), Ok(Some(ReplayChart::empty(ID))));
        let done = Rend { start_streaming: true, after: 0, before: 0, child: None };
        assert_eq!(c.on_rend(&S, &done, &local(0)), Ok(None));
        assert!(c.is_finished());
    }
}

//! The parent's side of replication (protocol.md §3.1 steps 2 and 5): which `REPLAY_CHART`
//! to send for a chart, and which `RBEGIN` points to store.
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
//! Replicated points must lie in the range requested ([`check_in_request`]).

/// One `REPLAY_CHART` request.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ReplayRequest {
    pub after: i64,
    pub before: i64,
    /// The child may resume normal streaming after answering.
    pub start_streaming: bool,
}

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
    pub fn for_child(
        settings: &super::access::ChildSettings,
        granted: crate::stream::caps::Caps,
    ) -> Settings {
        Settings {
            enabled: settings.replication && granted.has(crate::stream::caps::Caps::REPLICATION),
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

impl ReplayRequest {
    /// "Nothing to replicate, stream now."
    pub const EMPTY: ReplayRequest = ReplayRequest { after: 0, before: 0, start_streaming: true };

    pub fn is_empty(&self) -> bool {
        self.after == 0 && self.before == 0
    }

    /// `REPLAY_CHART "<id>" "<true|false>" <after> <before>\n`. The id is quoted with `'`
    /// when it contains `"`; `None` when it holds both quotes or a control character (such
    /// an id cannot have come from the parser).
    pub fn line(&self, chart_id: &str) -> Option<String> {
        if chart_id.chars().any(char::is_control) {
            return None;
        }
        let q = match (chart_id.contains('"'), chart_id.contains('\'')) {
            (false, _) => '"',
            (true, false) => '\'',
            (true, true) => return None,
        };
        Some(format!(
            "REPLAY_CHART {q}{chart_id}{q} \"{}\" {} {}\n",
            self.start_streaming, self.after, self.before
        ))
    }
}

/// §3.1 step 2. `gap_start` is `None` for the first request of a chart (the gap then starts
/// at `L`, or `now − seconds to replicate` when nothing is stored) and the previous
/// request's `before` for a follow-up after `REND … false`.
pub fn plan(s: &Settings, child: &ChildTimes, local: &Local, gap_start: Option<i64>) -> ReplayRequest {
    let l = local.last.min(local.now);
    if !s.enabled
        || child.last == 0
        || !local.has_dimensions
        || child.first <= 0
        || child.first > child.last
        || l > child.last
    {
        return ReplayRequest::EMPTY;
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
    ReplayRequest { after, before, start_streaming }
}

/// Why an `RBEGIN` point is not stored.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PointError {
    /// `start` is not positive or not before `end`.
    NotIncreasing,
    /// `end − start` is not the chart's update every.
    WrongLength,
    /// The point ends in the child's future (beyond `child_now + update_every`), or beyond
    /// the parent's `now + update_every + 4` when the child sent no `child_now`.
    InTheFuture,
    /// The point ends more than [`crate::rrd::MAX_FUTURE_SECS`] past the parent's clock,
    /// whatever the child says its own clock is.
    AheadOfUs,
    /// No `REPLAY_CHART` with a range is waiting for an answer for this chart.
    NotAsked,
    /// The point lies outside the range the parent asked for (`after`, `before`).
    OutsideRequest { after: i64, before: i64 },
}

impl std::fmt::Display for PointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PointError::NotIncreasing => "its start is not before its end",
            PointError::WrongLength => "it is not one update every long",
            PointError::InTheFuture => "it is in the future",
            PointError::AheadOfUs => "it is ahead of our clock by more than the tolerance",
            PointError::NotAsked => "no replication of a range of this chart was asked for",
            PointError::OutsideRequest { after, before } => {
                return write!(f, "it is outside the range asked for ({after}..{before})")
            }
        })
    }
}

/// §3.1 step 5: a replicated point is stored only if `0 < start < end`,
/// `end − start == update_every`, and both are `< child_now + update_every + 1` (or
/// `< now + update_every + 5` without `child_now`). Netdata changes the chart's update every
/// on a point of another length; nanodata refuses the point instead, so stored slots stay
/// aligned. Whatever `child_now` says, a point ending more than
/// [`crate::rrd::MAX_FUTURE_SECS`] after the parent's `now` is refused too: a lying
/// `child_now` cannot move a chart's storage into the future.
pub fn check_point(
    start: i64,
    end: i64,
    update_every: u32,
    child_now: Option<i64>,
    now: i64,
) -> Result<(), PointError> {
    if start <= 0 || start >= end {
        return Err(PointError::NotIncreasing);
    }
    let ue = i64::from(update_every);
    if end.saturating_sub(start) != ue {
        return Err(PointError::WrongLength);
    }
    let limit = match child_now {
        Some(cn) => cn.saturating_add(ue).saturating_add(1),
        None => now.saturating_add(ue).saturating_add(5),
    };
    if start >= limit || end >= limit {
        return Err(PointError::InTheFuture);
    }
    let tolerance = i64::try_from(crate::rrd::MAX_FUTURE_SECS).unwrap_or(i64::MAX);
    if end > now.saturating_add(tolerance) {
        return Err(PointError::AheadOfUs);
    }
    Ok(())
}

/// Whether a replicated point `start..end` answers the request `asked` (`after`, `before`;
/// `None` or the empty `0 0` when none is waiting): its end must lie within
/// `[after − update_every, before + update_every]` (one step of tolerance for alignment).
/// A point outside could only move the chart's storage away from the gap being filled.
pub fn check_in_request(
    start: i64,
    end: i64,
    update_every: u32,
    asked: Option<(i64, i64)>,
) -> Result<(), PointError> {
    let Some((after, before)) = asked.filter(|&(a, b)| a != 0 || b != 0) else {
        return Err(PointError::NotAsked);
    };
    let ue = i64::from(update_every.max(1));
    if end < after.saturating_sub(ue) || end > before.saturating_add(ue) || start > before {
        return Err(PointError::OutsideRequest { after, before });
    }
    Ok(())
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
    in_flight: Option<ReplayRequest>,
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
    fn counted(&mut self, s: &Settings, r: ReplayRequest) -> ReplayRequest {
        if r.is_empty() {
            return r;
        }
        if self.rounds >= max_rounds(s) {
            self.note = Some(format!(
                "{} replication requests on this connection, the most the window needs; \
                 its replication ends",
                self.rounds
            ));
            return ReplayRequest::EMPTY;
        }
        self.rounds += 1;
        r
    }

    /// `CHART_DEFINITION_END`: the request to send, or `None` while one is in flight.
    pub fn on_definition_end(
        &mut self,
        s: &Settings,
        child: ChildTimes,
        local: &Local,
    ) -> Option<ReplayRequest> {
        if self.in_flight.is_some() {
            return None;
        }
        let r = self.counted(s, plan(s, &child, local, None));
        self.child = Some(child);
        self.in_flight = Some(r);
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
    ) -> Result<Option<ReplayRequest>, String> {
        let Some(asked) = self.in_flight else {
            return Err("REND without a pending REPLAY_CHART".into());
        };
        if rend.start_streaming {
            self.in_flight = None;
            self.finished = true;
            return Ok(None);
        }
        if !asked.is_empty() && rend.before < asked.after {
            return Err(format!(
                "REND before={} is earlier than the requested after={}",
                rend.before, asked.after
            ));
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
                return Err(format!(
                    "{} replication answers of this chart made no progress (the last {what})",
                    self.idle
                ));
            }
            self.note = Some(format!("{what}: no progress; its replication ends"));
            self.in_flight = Some(ReplayRequest::EMPTY);
            return Ok(Some(ReplayRequest::EMPTY));
        }
        if let Some(c) = rend.child {
            self.child = Some(c);
        }
        let child = self.child.unwrap_or(ChildTimes { first: 0, last: 0, now: None });
        let r = self.counted(s, plan(s, &child, local, Some(rend.before)));
        self.in_flight = Some(r);
        Ok(Some(r))
    }

    /// Why the last call ended the chart's replication early (taken once), for a log line.
    pub fn take_note(&mut self) -> Option<String> {
        self.note.take()
    }

    /// The request waiting for its `REND`.
    pub fn in_flight(&self) -> Option<ReplayRequest> {
        self.in_flight
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
    fn req(after: i64, before: i64, start_streaming: bool) -> ReplayRequest {
        ReplayRequest { after, before, start_streaming }
    }

    #[test]
    fn first_request_of_an_empty_parent() {
        // L = 0: the gap starts at now − 86400 = −76400; the child's first entry wins.
        let r = plan(&S, &child(1_000, 9_999), &local(0), None);
        assert_eq!(r, req(1_000, 1_600, false));
        assert_eq!(
            r.line("system.cpu").as_deref(),
            Some("REPLAY_CHART \"system.cpu\" \"false\" 1000 1600\n")
        );
        // A shorter window: the gap starts at 10000 − 3600 = 6400.
        let s = Settings { seconds_to_replicate: 3_600, ..S };
        assert_eq!(plan(&s, &child(1_000, 9_999), &local(0), None), req(6_400, 7_000, false));
    }

    #[test]
    fn short_gap_ends_at_the_child_last_entry() {
        // L = 9700: after 9700, before min(10300, 10000, 9999) = 9999; now − after = 300 ≤ 600.
        let r = plan(&S, &child(1_000, 9_999), &local(9_700), None);
        assert_eq!(r, req(9_700, 9_999, true));
        assert_eq!(r.line("net.eth0").as_deref(), Some("REPLAY_CHART \"net.eth0\" \"true\" 9700 9999\n"));
        // L = 8000: 8000..8600, now − after = 2000 > 600 and 8600 ≠ 9999.
        assert_eq!(plan(&S, &child(1_000, 9_999), &local(8_000), None), req(8_000, 8_600, false));
        // L = 9399: 9399..9999 (the step reaches the child's last entry).
        assert_eq!(plan(&S, &child(1_000, 9_999), &local(9_399), None), req(9_399, 9_999, true));
    }

    #[test]
    fn follow_ups_continue_from_before() {
        assert_eq!(plan(&S, &child(1_000, 9_999), &local(1_600), Some(1_600)), req(1_600, 2_200, false));
        // now − after = 700 > 600 and 9900 ≠ 9999: not yet.
        assert_eq!(plan(&S, &child(1_000, 9_999), &local(9_000), Some(9_300)), req(9_300, 9_900, false));
        // 9500..min(10100, 10000, 9999): the last step.
        assert_eq!(plan(&S, &child(1_000, 9_999), &local(9_000), Some(9_500)), req(9_500, 9_999, true));
    }

    #[test]
    fn empty_requests() {
        let empty = ReplayRequest::EMPTY;
        assert_eq!(empty.line("x").as_deref(), Some("REPLAY_CHART \"x\" \"true\" 0 0\n"));
        let off = Settings { enabled: false, ..S };
        assert_eq!(plan(&off, &child(1_000, 9_999), &local(0), None), empty, "replication disabled");
        assert_eq!(plan(&S, &child(0, 0), &local(0), None), empty, "child without stored data (mode none)");
        assert_eq!(plan(&S, &child(0, 9_999), &local(0), None), empty, "child first <= 0");
        assert_eq!(plan(&S, &child(5_000, 4_000), &local(0), None), empty, "first > last");
        assert_eq!(plan(&S, &child(1_000, 9_999), &local(10_000), None), empty, "parent ahead of the child");
        let no_dims = Local { has_dimensions: false, ..local(0) };
        assert_eq!(plan(&S, &child(1_000, 9_999), &no_dims, None), empty, "no dimensions");
    }

    #[test]
    fn clamps() {
        // L in the parent's future is clamped to now: 10000..min(10600, 10000, 15000).
        assert_eq!(plan(&S, &child(1_000, 15_000), &local(20_000), None), req(10_000, 10_000, true));
        // The child's clock is ahead: after is pulled back to before.
        assert_eq!(plan(&S, &child(12_000, 13_000), &local(0), None), req(10_000, 10_000, true));
        // Step 0 is taken as 1; hostile extremes do not overflow.
        let s = Settings { step: 0, seconds_to_replicate: u64::MAX, ..S };
        assert_eq!(plan(&s, &child(1_000, 9_999), &local(5_000), None), req(5_000, 5_001, false));
        let r = plan(&s, &child(1, i64::MAX), &Local { has_dimensions: true, last: 0, now: i64::MAX }, None);
        assert!(r.after <= r.before);
        let r = plan(
            &S,
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
            let Some(mut r) = c.on_definition_end(&S, child, &l) else { panic!("unanswered") };
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
    fn quoting_the_chart_id() {
        let r = req(1, 2, false);
        assert_eq!(r.line("a\"b").as_deref(), Some("REPLAY_CHART 'a\"b' \"false\" 1 2\n"));
        assert_eq!(r.line("a\"b'c"), None);
        assert_eq!(r.line("a\nb"), None);
    }

    #[test]
    fn rbegin_points() {
        // update every 1, child_now 1000: both ends must be < 1002.
        assert_eq!(check_point(998, 999, 1, Some(1_000), 1_000), Ok(()));
        assert_eq!(check_point(1_000, 1_001, 1, Some(1_000), 1_000), Ok(()));
        assert_eq!(check_point(1_001, 1_002, 1, Some(1_000), 1_000), Err(PointError::InTheFuture));
        assert_eq!(check_point(10, 10, 1, Some(1_000), 1_000), Err(PointError::NotIncreasing));
        assert_eq!(check_point(0, 1, 1, Some(1_000), 1_000), Err(PointError::NotIncreasing));
        assert_eq!(check_point(12, 10, 1, Some(1_000), 1_000), Err(PointError::NotIncreasing));
        assert_eq!(check_point(10, 12, 1, Some(1_000), 1_000), Err(PointError::WrongLength));
        assert_eq!(check_point(100, 110, 10, Some(1_000), 1_000), Ok(()));
        assert_eq!(check_point(1_000, 1_010, 10, Some(1_000), 1_000), Ok(()), "1010 < 1011");
        // Without child_now: < now + ue + 5 = 1006.
        assert_eq!(check_point(1_004, 1_005, 1, None, 1_000), Ok(()));
        assert_eq!(check_point(1_005, 1_006, 1, None, 1_000), Err(PointError::InTheFuture));
        assert_eq!(check_point(i64::MAX - 1, i64::MAX, 1, Some(i64::MAX), 0), Err(PointError::InTheFuture));
        assert_eq!(check_point(i64::MIN, 1, 1, None, 0), Err(PointError::NotIncreasing));
    }

    #[test]
    fn rbegin_points_ahead_of_the_parent_are_refused_whatever_child_now_says() {
        let now = 1_700_000_000;
        // A child whose clock is 30 s ahead: its newest points are still within 60 s.
        assert_eq!(check_point(now + 29, now + 30, 1, Some(now + 30), now), Ok(()));
        assert_eq!(check_point(now + 59, now + 60, 1, Some(now + 3_600), now), Ok(()));
        // A child_now an hour (or years) ahead does not let its points in.
        assert_eq!(check_point(now + 60, now + 61, 1, Some(now + 3_600), now), Err(PointError::AheadOfUs));
        assert_eq!(
            check_point(now + 3_599, now + 3_600, 1, Some(now + 3_600), now),
            Err(PointError::AheadOfUs)
        );
        assert_eq!(
            check_point(i64::MAX - 10, i64::MAX - 9, 1, Some(i64::MAX), now),
            Err(PointError::AheadOfUs)
        );
        // Points far in the past are the store's business (older than the window: ignored).
        assert_eq!(check_point(1, 2, 1, Some(now), now), Ok(()));
    }

    #[test]
    fn settings_follow_the_grant() {
        use crate::stream::caps::Caps;
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
        let r = c.on_definition_end(&S, child(1_000, 9_999), &local(0));
        assert_eq!(r, Some(req(1_000, 1_600, false)));
        // A repeated definition while replicating is not answered twice.
        assert_eq!(c.on_definition_end(&S, child(1_000, 9_999), &local(0)), None);
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
        c.on_definition_end(&S, child(1_000, 9_999), &local(5_000));
        let back = Rend { start_streaming: false, after: 5_000, before: 10, child: None };
        assert!(c.on_rend(&S, &back, &local(5_000)).is_err());
        // Memory mode none child: an empty request, then REND true.
        let mut c = ChartReplication::new();
        assert_eq!(c.on_definition_end(&S, child(0, 0), &local(0)), Some(ReplayRequest::EMPTY));
        let rend = Rend { start_streaming: true, after: 0, before: 0, child: None };
        assert_eq!(c.on_rend(&S, &rend, &local(0)), Ok(None));
    }

    #[test]
    fn points_must_lie_in_the_range_asked() {
        assert_eq!(check_in_request(99, 100, 1, None), Err(PointError::NotAsked));
        assert_eq!(check_in_request(99, 100, 1, Some((0, 0))), Err(PointError::NotAsked), "empty request");
        let asked = Some((1_000, 1_600));
        assert_eq!(check_in_request(1_000, 1_001, 1, asked), Ok(()));
        assert_eq!(check_in_request(1_599, 1_600, 1, asked), Ok(()));
        // One update every of tolerance on each side.
        assert_eq!(check_in_request(998, 999, 1, asked), Ok(()));
        assert_eq!(check_in_request(1_600, 1_601, 1, asked), Ok(()));
        let outside = Err(PointError::OutsideRequest { after: 1_000, before: 1_600 });
        assert_eq!(check_in_request(997, 998, 1, asked), outside);
        assert_eq!(check_in_request(1_601, 1_602, 1, asked), outside);
        assert_eq!(check_in_request(1_000 - 3_600, 1_001 - 3_600, 1, asked), outside, "an hour before");
        assert_eq!(check_in_request(i64::MAX - 1, i64::MAX, 1, asked), outside);
        assert_eq!(check_in_request(i64::MIN, i64::MIN + 1, 1, asked), outside);
        assert_eq!(check_in_request(980, 990, 10, asked), Ok(()), "tolerance of the chart's step");
        let why = PointError::OutsideRequest { after: 1_000, before: 1_600 }.to_string();
        assert_eq!(why, "it is outside the range asked for (1000..1600)");
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
        let mut r = c.on_definition_end(&S, child, &l).expect("answered");
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
            let r = c.on_definition_end(&S, child, &l).expect("answered");
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
        let r = c.on_definition_end(&S, child(1_000, 9_999), &local(0)).expect("answered");
        assert_eq!(r, req(1_000, 1_600, false));
        // before == after: nothing moved. The chart is told to stream (an empty request).
        let stuck = Rend { start_streaming: false, after: 1_000, before: 1_000, child: None };
        assert_eq!(c.on_rend(&S, &stuck, &local(0)), Ok(Some(ReplayRequest::EMPTY)));
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
        assert_eq!(c.on_definition_end(&S, child(0, 0), &local(0)), Some(ReplayRequest::EMPTY));
        assert_eq!(c.on_rend(&S, &again, &local(0)), Ok(Some(ReplayRequest::EMPTY)));
        let done = Rend { start_streaming: true, after: 0, before: 0, child: None };
        assert_eq!(c.on_rend(&S, &done, &local(0)), Ok(None));
        assert!(c.is_finished());
    }
}

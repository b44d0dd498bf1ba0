//! Replication on the wire (protocol.md §3), both directions: the `REPLAY_CHART` request a
//! parent writes and a child reads ([`ReplayChart`], one type with one quoting rule), and the
//! rule every replicated point (`RBEGIN '' <start> <end> <child_now>`) must pass before it is
//! stored: [`check_point`] for its times, [`check_in_request`] for the range asked.
//!
//! What to ask is the parent's planner (`stream::receiver::replication`); the child's answer
//! is written by [`super::emit::replay`] and read by [`super::Session`].

use super::words::Words;

/// `REPLAY_CHART "<chart>" "<true|false>" <after> <before>` (protocol.md §2.4): the parent
/// asks a child for the points of one chart in `(after, before]`; `0 0` asks for none
/// ("stream now").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayChart {
    pub chart: String,
    /// The child may resume normal streaming after answering.
    pub start_streaming: bool,
    pub after: i64,
    pub before: i64,
}

impl ReplayChart {
    /// "Nothing to replicate, stream now" (`0 0 true`).
    pub fn empty(chart: &str) -> ReplayChart {
        ReplayChart { chart: chart.to_owned(), start_streaming: true, after: 0, before: 0 }
    }

    /// Whether this is the empty request ([`ReplayChart::empty`]).
    pub fn is_empty(&self) -> bool {
        self.after == 0 && self.before == 0
    }

    /// Reads a line split by [`Words`] (the tokenizer a 1.37 child reads its parent with,
    /// protocol.md §2.1): `None` unless it is `REPLAY_CHART` with all four arguments and
    /// decimal times. Only `true` starts streaming, as in Netdata.
    pub fn parse(words: &Words<'_>) -> Option<ReplayChart> {
        if words.keyword() != Some("REPLAY_CHART") {
            return None;
        }
        Some(ReplayChart {
            chart: words.get(1)?.to_owned(),
            start_streaming: words.get(2)? == "true",
            after: words.get(3)?.parse().ok()?,
            before: words.get(4)?.parse().ok()?,
        })
    }

    /// The line, `\n` included, as a 1.37 parent writes it. The chart id must come back
    /// exactly as the child knows it, so unlike the lossy [`super::emit::quoted`] (which
    /// replaces what it cannot carry) it is quoted with `"`, or with `'` when it contains
    /// `"`; `None` when it holds both quotes or a control character (such an id cannot have
    /// come from the parser).
    pub fn line(&self) -> Option<String> {
        let id = &self.chart;
        if id.chars().any(char::is_control) {
            return None;
        }
        let q = match (id.contains('"'), id.contains('\'')) {
            (false, _) => '"',
            (true, false) => '\'',
            (true, true) => return None,
        };
        Some(format!("REPLAY_CHART {q}{id}{q} \"{}\" {} {}\n", self.start_streaming, self.after, self.before))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn quoting_the_chart_id() {
        let r =
            |chart: &str| ReplayChart { chart: chart.into(), start_streaming: false, after: 1, before: 2 };
        assert_eq!(r("a\"b").line().as_deref(), Some("REPLAY_CHART 'a\"b' \"false\" 1 2\n"));
        assert_eq!(r("a\"b'c").line(), None);
        assert_eq!(r("a\nb").line(), None);
    }

    #[test]
    fn parent_lines_split_into_words() {
        let parse = |line| ReplayChart::parse(&Words::split(line));
        assert_eq!(
            Words::split("REPLAY_CHART \"system.cpu\" \"true\" 0 0").iter().collect::<Vec<_>>(),
            ["REPLAY_CHART", "system.cpu", "true", "0", "0"]
        );
        assert_eq!(
            parse("REPLAY_CHART 'a.b' \"false\" 10 20\r"),
            Some(ReplayChart { chart: "a.b".into(), start_streaming: false, after: 10, before: 20 })
        );
        assert_eq!(parse("REPLAY_CHART x"), None);
        assert_eq!(parse("REPLAY_CHART \"x\" \"true\" 1 y"), None);
        assert_eq!(parse("FUNCTION \"x\" \"true\" 1 2"), None);
        assert_eq!(parse(""), None);
    }

    /// What the parent writes, the child reads back unchanged: the one quoting rule holds in
    /// both directions.
    #[test]
    fn requests_read_back_as_written() {
        for chart in ["system.cpu", "a\"b", "a'b", "a b=c", "a\\b", "", "é.ü"] {
            for (start_streaming, after, before) in
                [(true, 0, 0), (false, 1_000, 1_600), (true, -1, i64::MAX)]
            {
                let r = ReplayChart { chart: chart.into(), start_streaming, after, before };
                let line = r.line().expect("quotable");
                assert_eq!(ReplayChart::parse(&Words::split(&line)), Some(r), "{line}");
            }
        }
    }
}

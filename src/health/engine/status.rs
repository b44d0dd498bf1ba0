//! The small policies of an alarm, as pure functions and types (protocol.md §9.1): the
//! status from the `warn`/`crit` results, the delay (hysteresis) of status changes, the
//! repeat schedule and the notification suppression rules.

use std::fmt;

use crate::health::config::Delay;
use crate::health::expr::EvalError;

/// An alarm's status, with Netdata's numeric values (which expressions see as `$REMOVED`,
/// `$CLEAR`, …, and which order "higher" and "lower" for delays).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Removed = -2,
    Undefined = -1,
    Uninitialized = 0,
    Clear = 1,
    /// Internal: an expression is true (never an alarm's status).
    Raised = 2,
    Warning = 3,
    Critical = 4,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Removed,
        Status::Undefined,
        Status::Uninitialized,
        Status::Clear,
        Status::Raised,
        Status::Warning,
        Status::Critical,
    ];

    /// The name the API, the log and the notification script use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Removed => "REMOVED",
            Status::Undefined => "UNDEFINED",
            Status::Uninitialized => "UNINITIALIZED",
            Status::Clear => "CLEAR",
            Status::Raised => "RAISED",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
        }
    }

    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The numeric value (`$status`, `$WARNING`, …).
    pub fn value(self) -> f64 {
        f64::from(self as i8)
    }

    /// The status of one side (`warn` or `crit`) from its evaluation: a failed evaluation
    /// (NaN, inf) is UNDEFINED, non-zero RAISED, zero CLEAR.
    pub fn of_result(result: &Result<f64, EvalError>) -> Status {
        match result {
            Ok(v) if !v.is_finite() => Status::Undefined,
            Ok(v) if *v != 0.0 => Status::Raised,
            Ok(_) => Status::Clear,
            Err(_) => Status::Undefined,
        }
    }

    /// The alarm's status from its two sides (UNDEFINED for a side without expression):
    /// warn CLEAR ⇒ CLEAR, warn RAISED ⇒ WARNING; then crit RAISED ⇒ CRITICAL, crit CLEAR ⇒
    /// CLEAR only if still UNDEFINED.
    pub fn decide(warn: Status, crit: Status) -> Status {
        let mut status = match warn {
            Status::Clear => Status::Clear,
            Status::Raised => Status::Warning,
            _ => Status::Undefined,
        };
        match crit {
            Status::Raised => status = Status::Critical,
            Status::Clear if status == Status::Undefined => status = Status::Clear,
            _ => {}
        }
        status
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alarm's delay configuration with Netdata's default `max` resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct DelayPolicy {
    pub up: u32,
    pub down: u32,
    pub multiplier: f64,
    pub max: u32,
}

impl DelayPolicy {
    pub fn new(d: &Delay) -> DelayPolicy {
        let multiplier = if d.multiplier.is_finite() && d.multiplier > 0.0 { d.multiplier } else { 1.0 };
        let scaled = |v: u32| (f64::from(v) * multiplier).min(f64::from(u32::MAX)) as u32;
        let max = d.max.unwrap_or_else(|| scaled(d.up).max(scaled(d.down)));
        DelayPolicy { up: d.up, down: d.down, multiplier, max }
    }
}

/// The running delay of an alarm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DelayState {
    pub up_current: u32,
    pub down_current: u32,
    /// The delay given to the last change, seconds.
    pub last: u32,
    /// No notification before this time (unix seconds).
    pub up_to: i64,
}

impl DelayState {
    /// A status change from `old` to `new` at `now`: inside the previous delay both current
    /// delays grow by the multiplier (capped at max), else they restart from the configured
    /// ones. The delay used is the up one for a higher status, else the down one. Returns it.
    pub fn change(&mut self, p: &DelayPolicy, old: Status, new: Status, now: i64) -> u32 {
        if now > self.up_to {
            self.up_current = p.up;
            self.down_current = p.down;
        } else {
            let grow = |v: u32| ((f64::from(v) * p.multiplier) as u32).min(p.max);
            self.up_current = grow(self.up_current);
            self.down_current = grow(self.down_current);
        }
        let delay = if new > old { self.up_current } else { self.down_current };
        self.last = delay;
        self.up_to = now + i64::from(delay);
        delay
    }
}

/// `repeat:` resolved against the `[health] default repeat …` settings (0: never).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RepeatPolicy {
    pub warning: u32,
    pub critical: u32,
}

impl RepeatPolicy {
    pub fn new(r: &crate::health::config::Repeat, default_warning: u32, default_critical: u32) -> Self {
        if r.off {
            return RepeatPolicy::default();
        }
        RepeatPolicy {
            warning: r.warning.unwrap_or(default_warning),
            critical: r.critical.unwrap_or(default_critical),
        }
    }

    pub fn repeating(&self) -> bool {
        self.warning > 0 || self.critical > 0
    }
}

/// The repeat state of an alarm.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepeatState {
    pub last_repeat: i64,
    pub times: u32,
    /// The CLEAR after a repeated WARNING/CRITICAL has been sent (Netdata's RUN_ONCE).
    pub cleared_once: bool,
}

/// A repeat notification due now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepeatDue {
    /// The CLEAR that ends a repeated WARNING/CRITICAL (sent once).
    pub clear_once: bool,
}

impl RepeatState {
    /// Whether a repeating alarm re-notifies at `now`: past its delay, WARNING and
    /// CRITICAL every `warning`/`critical` seconds; a CLEAR once after them (with the period
    /// of the status it left).
    pub fn due(
        &mut self,
        p: &RepeatPolicy,
        status: Status,
        old_status: Status,
        delay_up_to: i64,
        now: i64,
    ) -> Option<RepeatDue> {
        if !p.repeating() || delay_up_to > now {
            return None;
        }
        let every = match status {
            Status::Warning => {
                self.cleared_once = false;
                p.warning
            }
            Status::Critical => {
                self.cleared_once = false;
                p.critical
            }
            Status::Clear if !self.cleared_once => match old_status {
                Status::Critical => p.critical,
                Status::Warning => p.warning,
                _ => 0,
            },
            _ => 0,
        };
        if every == 0 || self.last_repeat + i64::from(every) > now {
            return None;
        }
        self.last_repeat = now;
        self.times = self.times.saturating_add(1);
        let clear_once = status == Status::Clear;
        self.cleared_once |= clear_once;
        Some(RepeatDue { clear_once })
    }
}

/// Why a log entry sends no notification.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Below CLEAR (REMOVED, UNDEFINED, UNINITIALIZED).
    Internal,
    /// CLEAR of an alarm with `no-clear-notification`.
    NoClear,
    /// `to: silent`.
    Silent,
    /// The last notification run for this alarm had the same status.
    SameStatus,
    /// A CLEAR, and nothing was ever sent for this alarm.
    NothingSent,
}

/// What [`notification`] looks at.
#[derive(Clone, Debug)]
pub struct NotifyCheck<'a> {
    pub new_status: Status,
    pub old_status: Status,
    pub no_clear_notification: bool,
    pub recipient: &'a str,
    /// The status of the last entry of this alarm whose notification ran, if any.
    pub last_sent: Option<Status>,
    /// A CLEAR that ends a repeated alarm (see [`RepeatDue::clear_once`]).
    pub clear_once: bool,
}

/// Netdata's rules for whether an entry notifies: `Ok(())` runs the script.
pub fn notification(c: &NotifyCheck<'_>) -> Result<(), Skip> {
    if c.new_status < Status::Clear {
        return Err(Skip::Internal);
    }
    if c.new_status <= Status::Clear && c.no_clear_notification {
        return Err(Skip::NoClear);
    }
    if c.recipient.split_whitespace().any(|r| r == "silent") {
        return Err(Skip::Silent);
    }
    if !c.no_clear_notification {
        match c.last_sent {
            Some(s) if s == c.new_status => return Err(Skip::SameStatus),
            Some(_) => {}
            None if c.new_status == Status::Clear && !(c.clear_once && c.old_status >= Status::Raised) => {
                return Err(Skip::NothingSent)
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::config::Repeat;
    use Status::*;

    fn nan() -> Result<f64, EvalError> {
        Err(EvalError::NaN { unknown: vec![] })
    }

    #[test]
    fn side_status_from_results() {
        assert_eq!(Status::of_result(&Ok(1.0)), Raised);
        assert_eq!(Status::of_result(&Ok(-0.5)), Raised);
        assert_eq!(Status::of_result(&Ok(0.0)), Clear);
        assert_eq!(Status::of_result(&Ok(f64::NAN)), Undefined);
        assert_eq!(Status::of_result(&Ok(f64::INFINITY)), Undefined);
        assert_eq!(Status::of_result(&Ok(f64::NEG_INFINITY)), Undefined);
        assert_eq!(Status::of_result(&nan()), Undefined);
        assert_eq!(Status::of_result(&Err(EvalError::Infinite)), Undefined);
    }

    #[test]
    fn alarm_status_from_both_sides() {
        // (warn, crit) → status, by §9.1.
        let table = [
            (Undefined, Undefined, Undefined),
            (Clear, Undefined, Clear),
            (Raised, Undefined, Warning),
            (Undefined, Clear, Clear),
            (Undefined, Raised, Critical),
            (Clear, Clear, Clear),
            (Clear, Raised, Critical),
            (Raised, Clear, Warning),
            (Raised, Raised, Critical),
        ];
        for (w, c, want) in table {
            assert_eq!(Status::decide(w, c), want, "warn {w} crit {c}");
        }
        assert_eq!(Status::decide(Status::of_result(&Ok(f64::INFINITY)), Status::of_result(&Ok(0.0))), Clear);
        assert_eq!(Status::parse("WARNING"), Some(Warning));
        assert_eq!(Critical.value(), 4.0);
        assert_eq!(Removed.value(), -2.0);
    }

    #[test]
    fn delay_up_down_multiplier_and_max() {
        // up 10, down 60, multiplier 2, max 100.
        let p = DelayPolicy::new(&Delay { up: 10, down: 60, multiplier: 2.0, max: Some(100) });
        let mut d = DelayState::default();
        // 1000: CLEAR → WARNING (up): 10, until 1010.
        assert_eq!(d.change(&p, Clear, Warning, 1000), 10);
        assert_eq!(d.up_to, 1010);
        // 1005 (inside): WARNING → CLEAR (down): both doubled: up 20, down 120 → max 100.
        assert_eq!(d.change(&p, Warning, Clear, 1005), 100);
        assert_eq!((d.up_current, d.down_current, d.up_to), (20, 100, 1105));
        // 1100 (inside): CLEAR → CRITICAL: up 40.
        assert_eq!(d.change(&p, Clear, Critical, 1100), 40);
        assert_eq!(d.up_to, 1140);
        // 1141 (past): reset to the configured ones: CRITICAL → WARNING is down: 60.
        assert_eq!(d.change(&p, Critical, Warning, 1141), 60);
        assert_eq!((d.up_current, d.down_current, d.last, d.up_to), (10, 60, 60, 1201));
        // At exactly up_to it is still inside (Netdata: now > up_to resets).
        assert_eq!(d.change(&p, Warning, Critical, 1201), 20);
    }

    #[test]
    fn delay_max_defaults_to_the_larger_scaled_delay() {
        let p = DelayPolicy::new(&Delay { up: 10, down: 30, multiplier: 1.5, max: None });
        assert_eq!(p.max, 45);
        assert_eq!(DelayPolicy::new(&Delay::default()).max, 0);
        let mut d = DelayState::default();
        assert_eq!(d.change(&DelayPolicy::new(&Delay::default()), Uninitialized, Clear, 5), 0);
        assert_eq!(d.up_to, 5);
        let mut d = DelayState::default();
        assert_eq!(d.change(&p, Clear, Warning, 100), 10);
        assert_eq!(d.change(&p, Warning, Clear, 101), 45); // 30 × 1.5
        assert_eq!(d.change(&p, Clear, Warning, 102), 22); // 10 × 1.5 × 1.5 = 22.5 → 22
        assert_eq!(d.change(&p, Warning, Clear, 103), 45); // capped
    }

    #[test]
    fn repeat_policy_and_timing() {
        let r = Repeat { off: false, warning: Some(60), critical: None };
        let p = RepeatPolicy::new(&r, 0, 300);
        assert_eq!(p, RepeatPolicy { warning: 60, critical: 300 });
        assert_eq!(RepeatPolicy::new(&Repeat { off: true, ..r }, 10, 10), RepeatPolicy::default());
        assert!(!RepeatPolicy::new(&Repeat::default(), 0, 0).repeating());

        let mut s = RepeatState::default();
        // WARNING since 1000, delay until 1010: nothing before.
        assert_eq!(s.due(&p, Warning, Clear, 1010, 1005), None);
        assert!(s.due(&p, Warning, Clear, 1010, 1010).is_some());
        assert_eq!((s.last_repeat, s.times), (1010, 1));
        assert_eq!(s.due(&p, Warning, Clear, 1010, 1069), None);
        assert!(s.due(&p, Warning, Clear, 1010, 1070).is_some());
        // CRITICAL: every 300 from the last repeat.
        assert_eq!(s.due(&p, Critical, Warning, 1070, 1300), None);
        assert!(s.due(&p, Critical, Warning, 1070, 1370).is_some());
        assert_eq!(s.times, 3);
        // CLEAR after CRITICAL: once, with the critical period, flagged.
        assert_eq!(s.due(&p, Clear, Critical, 1400, 1600), None);
        assert_eq!(s.due(&p, Clear, Critical, 1400, 1670), Some(RepeatDue { clear_once: true }));
        assert_eq!(s.due(&p, Clear, Critical, 1400, 5000), None, "CLEAR is sent once");
        // UNDEFINED never repeats.
        assert_eq!(s.due(&p, Undefined, Clear, 0, 9000), None);
    }

    fn check(new: Status, old: Status, last_sent: Option<Status>) -> NotifyCheck<'static> {
        NotifyCheck {
            new_status: new,
            old_status: old,
            no_clear_notification: false,
            recipient: "sysadmin",
            last_sent,
            clear_once: false,
        }
    }

    #[test]
    fn notification_suppression_rules() {
        assert_eq!(notification(&check(Warning, Clear, None)), Ok(()));
        assert_eq!(notification(&check(Critical, Warning, Some(Warning))), Ok(()));
        assert_eq!(notification(&check(Clear, Warning, Some(Warning))), Ok(()));
        for s in [Removed, Undefined, Uninitialized] {
            assert_eq!(notification(&check(s, Warning, Some(Warning))), Err(Skip::Internal));
        }
        assert_eq!(notification(&check(Clear, Warning, None)), Err(Skip::NothingSent));
        assert_eq!(notification(&check(Warning, Critical, Some(Warning))), Err(Skip::SameStatus));
        let no_clear = NotifyCheck { no_clear_notification: true, ..check(Clear, Warning, Some(Warning)) };
        assert_eq!(notification(&no_clear), Err(Skip::NoClear));
        // With no-clear-notification the same-status rule is not applied (as Netdata).
        let no_clear = NotifyCheck { no_clear_notification: true, ..check(Warning, Clear, Some(Warning)) };
        assert_eq!(notification(&no_clear), Ok(()));
        let silent = NotifyCheck { recipient: "silent", ..check(Critical, Clear, None) };
        assert_eq!(notification(&silent), Err(Skip::Silent));
        // The CLEAR closing a repeated alarm goes out even though the log has no sent entry.
        let once = NotifyCheck { clear_once: true, ..check(Clear, Critical, None) };
        assert_eq!(notification(&once), Ok(()));
        let once = NotifyCheck { clear_once: true, ..check(Clear, Undefined, None) };
        assert_eq!(notification(&once), Err(Skip::NothingSent));
    }
}

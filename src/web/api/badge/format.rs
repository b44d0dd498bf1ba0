//! The value text of a badge: a number with its units, as Netdata 1.37 writes it (checked
//! against a running 1.37.1, `tests/web_badges.rs`).
//!
//! Some units change how the value reads instead of following it: durations (`seconds`,
//! `minutes`, `hours`, each also with ` ago`) become `1 day 02:03:04`, `1d 01h 00m`,
//! `2d 2h` or `now`; the two-state units (`on/off`, `up/down`, `ok/error`, `ok/failed`, and
//! their `-` and joined spellings) become one of their words; `empty`/`null` drop the
//! units; `percentage`/`percent`/`pcent` become `%`. Any other units follow the number,
//! after a space unless they are `%`. Numbers without a `precision` get as many decimals as
//! their size deserves, trailing zeros removed. Nothing here is scaled (Netdata's badges
//! do not turn `MiB` into `GiB`).

/// The text for `value` (NaN: no value) in `units`, with `precision` decimals (`None`: by
/// the value's size; at most 50).
pub fn value_text(value: f64, units: &str, precision: Option<usize>) -> String {
    let value = if value.is_finite() { value } else { f64::NAN };
    let number_units = match UnitsFormat::of(units) {
        UnitsFormat::Duration(unit, ago) => return duration(value, unit, ago),
        UnitsFormat::TwoState(yes, no) => {
            // NaN is not zero: a badge with no value reads as the first word, like Netdata's.
            return if value != 0.0 { yes } else { no }.to_owned();
        }
        UnitsFormat::Empty => "",
        UnitsFormat::Percent => "%",
        UnitsFormat::Plain => units,
    };
    if value.is_nan() {
        return "-".to_owned();
    }
    let mut out = match precision {
        Some(p) => format!("{value:.prec$}", prec = p.min(50)),
        None => auto_number(value),
    };
    if !number_units.is_empty() {
        if number_units != "%" {
            out.push(' ');
        }
        out.push_str(number_units);
    }
    out
}

/// `value` with decimals chosen by its magnitude: none from 1000 up, one from 10, two from
/// 0.1, then four, five, six and seven as it shrinks; trailing zeros (and a bare point)
/// removed, except from the whole numbers.
pub fn auto_number(value: f64) -> String {
    let a = value.abs();
    let decimals = match a {
        _ if a >= 1000.0 => return format!("{value:.0}"),
        _ if a >= 10.0 => 1,
        _ if a >= 0.1 => 2,
        _ if a >= 0.01 => 4,
        _ if a >= 0.001 => 5,
        _ if a >= 0.0001 => 6,
        _ => 7,
    };
    let mut s = format!("{value:.decimals$}");
    let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
    s.truncate(trimmed);
    s
}

/// The time unit of a duration format.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum TimeUnit {
    Seconds,
    Minutes,
    Hours,
}

/// How a units string is shown.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum UnitsFormat {
    /// A duration; `true`: followed by ` ago`.
    Duration(TimeUnit, bool),
    /// The first word for any value but zero, the second for zero.
    TwoState(&'static str, &'static str),
    /// The number alone.
    Empty,
    /// The number and `%`.
    Percent,
    /// The number and the units as given.
    Plain,
}

impl UnitsFormat {
    fn of(units: &str) -> UnitsFormat {
        use TimeUnit::*;
        match units {
            "seconds" => UnitsFormat::Duration(Seconds, false),
            "seconds ago" => UnitsFormat::Duration(Seconds, true),
            "minutes" => UnitsFormat::Duration(Minutes, false),
            "minutes ago" => UnitsFormat::Duration(Minutes, true),
            "hours" => UnitsFormat::Duration(Hours, false),
            "hours ago" => UnitsFormat::Duration(Hours, true),
            "on/off" | "on-off" | "onoff" => UnitsFormat::TwoState("on", "off"),
            "up/down" | "up-down" | "updown" => UnitsFormat::TwoState("up", "down"),
            "ok/error" | "ok-error" | "okerror" => UnitsFormat::TwoState("ok", "error"),
            "ok/failed" | "ok-failed" | "okfailed" => UnitsFormat::TwoState("ok", "failed"),
            "empty" | "null" => UnitsFormat::Empty,
            "percentage" | "percent" | "pcent" => UnitsFormat::Percent,
            _ => UnitsFormat::Plain,
        }
    }
}

/// A duration of `value` `unit`s: `undefined` without a value, `now` for exactly zero;
/// otherwise the whole units (fractions dropped). Netdata counts in an unsigned integer, so a
/// negative value wraps around (a huge number of days); so does this, to read the same.
fn duration(value: f64, unit: TimeUnit, ago: bool) -> String {
    if value.is_nan() {
        return "undefined".to_owned();
    }
    if value == 0.0 {
        return "now".to_owned();
    }
    let t = (value as i64) as u64;
    let mut s = match unit {
        TimeUnit::Seconds => {
            let (d, rest) = (t / 86_400, t % 86_400);
            let clock = format!("{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
            match d {
                0 => clock,
                1 => format!("1 day {clock}"),
                _ => format!("{d} days {clock}"),
            }
        }
        TimeUnit::Minutes => {
            let (d, h, m) = (t / 1440, t % 1440 / 60, t % 60);
            if d > 0 {
                format!("{d}d {h:02}h {m:02}m")
            } else {
                format!("{h}h {m}m")
            }
        }
        TimeUnit::Hours => {
            let (d, h) = (t / 24, t % 24);
            if d > 0 {
                format!("{d}d {h}h")
            } else {
                format!("{h}h")
            }
        }
    };
    if ago {
        s.push_str(" ago");
    }
    s
}

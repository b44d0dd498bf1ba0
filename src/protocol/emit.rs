//! Writing the line protocol a 1.37 child sends (protocol.md §2.3, §3): host labels, chart
//! definitions, per-collection data and the answers to [`ReplayChart`] requests, appended
//! to a reusable `String`. What is written here is read back by [`super::Session`] (a
//! parent's receiver); tests/properties.rs checks the round trip.

use std::fmt::Write;

use super::caps::Caps;
use super::replay::ReplayChart;
use crate::rrd::{ChartView, Label, Variables};

/// Appends `"value"`; the protocol has no escaping, so a double quote inside becomes a single
/// quote, control characters become spaces and a backslash that would escape the closing
/// quote is dropped. (A [`ReplayChart`] must name its chart exactly, so it has its own rule:
/// [`ReplayChart::line`].)
pub fn quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        out.push(match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        });
    }
    // A backslash protects the next character from the tokenizer (protocol.md §2.1), so an
    // odd run of them at the end would swallow the closing quote and the rest of the line
    // (found by tests/properties.rs): the last one is dropped.
    if out.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1 {
        out.pop();
    }
    out.push('"');
}

/// `LABEL "<name>" = <source> "<value>"` per host label, then `OVERWRITE labels`.
pub fn host_labels(out: &mut String, labels: &[Label]) {
    for l in labels {
        out.push_str("LABEL ");
        quoted(out, &l.name);
        let _ = write!(out, " = {} ", l.source);
        quoted(out, &l.value);
        out.push('\n');
    }
    out.push_str("OVERWRITE labels\n");
}

/// `VARIABLE HOST <name> = <value>` per custom host variable (what a 1.37 child sends on
/// connect and when one changes; the value as C's `%0.7f`).
pub fn host_variables(out: &mut String, vars: &Variables) {
    for (name, value) in vars.iter() {
        variable(out, "HOST", name, value);
    }
}

/// One `VARIABLE <scope> <name> = <value>` line. Names are already clean (letters, digits,
/// `.` and `_`), so they go unquoted as Netdata sends them.
fn variable(out: &mut String, scope: &str, name: &str, value: f64) {
    let _ = write!(out, "VARIABLE {scope} {name} = ");
    // C's printf spelling of the non-finite values, which both parsers read back.
    if value.is_nan() {
        out.push_str("nan\n");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "inf\n" } else { "-inf\n" });
    } else {
        let _ = writeln!(out, "{value:.7}");
    }
}

/// The definition block of a chart: `CHART`, chart labels, `DIMENSION`s, the chart's custom
/// variables and, with replication, `CHART_DEFINITION_END first last now`.
pub fn definition(out: &mut String, chart: &ChartView<'_>, caps: Caps, now: i64) {
    let m = chart.meta();
    out.push_str("CHART ");
    quoted(out, &m.id);
    out.push(' ');
    let name_part =
        if m.name == m.id { "" } else { m.name.split_once('.').map_or(m.name.as_str(), |(_, n)| n) };
    quoted(out, name_part);
    for v in [&m.title, &m.units, &m.family, &m.context] {
        out.push(' ');
        quoted(out, v);
    }
    out.push(' ');
    quoted(out, m.chart_type.as_str());
    let _ = write!(out, " {} {} ", m.priority, m.update_every);
    quoted(out, &m.options.to_wire());
    out.push(' ');
    quoted(out, &m.plugin);
    out.push(' ');
    quoted(out, &m.module);
    out.push('\n');
    if caps.has(Caps::CLABELS) && !m.labels.is_empty() {
        for l in &m.labels {
            out.push_str("CLABEL ");
            quoted(out, &l.name);
            out.push(' ');
            quoted(out, &l.value);
            let _ = writeln!(out, " {}", l.source);
        }
        out.push_str("CLABEL_COMMIT\n");
    }
    for d in chart.dimensions() {
        let dm = d.meta();
        out.push_str("DIMENSION ");
        quoted(out, &dm.id);
        out.push(' ');
        quoted(out, &dm.name);
        out.push(' ');
        quoted(out, dm.algorithm.as_str());
        let _ = write!(out, " {} {} ", dm.multiplier, dm.divisor);
        quoted(out, &dm.options.to_wire());
        out.push('\n');
    }
    for (name, value) in chart.variables().iter() {
        variable(out, "CHART", name, value);
    }
    if caps.has(Caps::REPLICATION) {
        let (first, last) = retention(chart, now);
        let _ = writeln!(out, "CHART_DEFINITION_END {first} {last} {now}");
    }
}

/// The chart's stored range as a child announces it: `(0, 0)` when nothing is stored.
pub fn retention(chart: &ChartView<'_>, now: i64) -> (i64, i64) {
    let ue = i64::from(chart.meta().update_every.max(1));
    match (chart.first_entry_t(), chart.last_entry_t()) {
        (Some(first), Some(last)) => {
            let last = last.min(now);
            let first = if first >= last { last - ue } else { first };
            (first.max(0), last.max(0))
        }
        _ => (0, 0),
    }
}

/// One collection: `BEGIN "<id>" <usec>`, `SET "<dim>" = <raw>` per updated dimension, `END`.
pub fn data(out: &mut String, chart: &ChartView<'_>, usec: u64) {
    out.push_str("BEGIN ");
    quoted(out, &chart.meta().id);
    let _ = writeln!(out, " {usec}");
    for d in chart.dimensions().filter(|d| d.updated()) {
        out.push_str("SET ");
        quoted(out, &d.meta().id);
        let _ = writeln!(out, " = {}", d.collected_value());
    }
    out.push_str("END\n");
}

/// Writes the answer to `req` (protocol.md §3.1 step 4), at most `max_points` points.
/// Returns whether the chart may stream normally afterwards.
pub fn replay(
    out: &mut String,
    chart: &ChartView<'_>,
    req: &ReplayChart,
    now: i64,
    max_points: usize,
) -> bool {
    let m = chart.meta();
    let ue = i64::from(m.update_every.max(1));
    let (first, last) = retention(chart, now);
    out.push_str("RBEGIN ");
    quoted(out, &m.id);
    out.push('\n');

    let mut before = req.before;
    let mut cut = false;
    if req.after != 0 && req.before != 0 && last > 0 {
        if req.start_streaming && last > before {
            before = last;
        }
        // First point end > after; saturating, because `after` is the parent's number
        // (`REPLAY_CHART … 9223372036854775807 …` overflowed here, found by fuzzing).
        let start = (req.after.max(first - ue) / ue).saturating_mul(ue).saturating_add(ue);
        let mut end = before.min(last);
        let mut count = 0usize;
        let mut t = start;
        while t <= end {
            if count == max_points {
                end = t - ue; // the parent asks again from here
                cut = true;
                break;
            }
            let _ = writeln!(out, "RBEGIN '' {} {t} {now}", t - ue);
            for (i, d) in chart.dimensions().enumerate() {
                out.push_str("RSET ");
                quoted(out, &d.meta().id);
                let p = chart.point(i, t);
                match p.value {
                    Some(v) => {
                        let _ = writeln!(out, " {v:.7} \"{}\"", if p.reset { "R" } else { "" });
                    }
                    None => out.push_str(" NAN \"E\"\n"),
                }
            }
            count += 1;
            t += ue;
        }
        before = end.max(req.after);
    }
    // Streaming resumes only when nothing is left to send; a cut answer makes the parent
    // ask for the rest first.
    let enable = !cut && (req.start_streaming || before == last || req.after == 0 || req.before == 0);
    if enable {
        for d in chart.dimensions() {
            out.push_str("RDSTATE ");
            quoted(out, &d.meta().id);
            let _ = writeln!(
                out,
                " {} {} {:.7} {:.7}",
                d.last_collected_ut(),
                d.last_collected_value(),
                finite(d.last_calculated_value()),
                finite(d.last_stored_value())
            );
        }
        let _ = writeln!(out, "RSSTATE {} {}", chart.last_collected_ut(), chart.last_updated_ut());
    }
    let _ = writeln!(
        out,
        "REND {ue} {first} {last} {} {} {before} {now}",
        if enable { "true" } else { "false" },
        req.after
    );
    enable
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rrd::{Algorithm, ChartMeta, ChartType, DimensionMeta, Host, HostSettings};

    const S: u64 = 1_000_000;
    const T0: u64 = 1_700_000_000;

    fn host() -> Host {
        Host::new("g", "h", HostSettings { history: 100, ..HostSettings::default() })
    }

    #[test]
    fn definition_matches_a_1_37_child_byte_for_byte() {
        let h = host();
        let c = h.chart_define(
            ChartMeta::new("system", "cpu")
                .title("Total CPU utilization")
                .units("percentage")
                .family("cpu")
                .context("system.cpu")
                .chart_type(ChartType::Stacked)
                .priority(100)
                .source("proc.plugin", "/proc/stat"),
        );
        c.dimension(DimensionMeta::new("user").algorithm(Algorithm::PercentageOfIncrementalRow));
        c.dimension(DimensionMeta::new("idle").algorithm(Algorithm::PercentageOfIncrementalRow).hidden());
        let mut out = String::new();
        c.with_view(|v, _| definition(&mut out, v, Caps(16320), 1795300178));
        // The lines of shared/peer/captures/nocomp-3-child-stream-head.txt.
        assert_eq!(
            out,
            "CHART \"system.cpu\" \"\" \"Total CPU utilization\" \"percentage\" \"cpu\" \"system.cpu\" \"stacked\" 100 1 \"   \" \"proc.plugin\" \"/proc/stat\"\n\
             CLABEL \"_collect_plugin\" \"proc.plugin\" 536870913\n\
             CLABEL \"_collect_module\" \"/proc/stat\" 536870913\n\
             CLABEL_COMMIT\n\
             DIMENSION \"user\" \"user\" \"percentage-of-incremental-row\" 1 1 \"  \"\n\
             DIMENSION \"idle\" \"idle\" \"percentage-of-incremental-row\" 1 1 \" hidden \"\n\
             CHART_DEFINITION_END 0 0 1795300178\n"
        );
    }

    #[test]
    fn variables_are_sent_as_a_1_37_child_writes_them() {
        let h = host();
        assert!(h.set_variable("active_processors", 4.0).changed());
        assert!(h.set_variable("odd", -0.125).changed());
        assert!(h.set_variable("gone", f64::NAN).changed());
        assert!(h.set_variable("big", f64::INFINITY).changed());
        let mut out = String::new();
        h.with_variables(|v| host_variables(&mut out, v));
        assert_eq!(
            out,
            "VARIABLE HOST active_processors = 4.0000000\n\
             VARIABLE HOST odd = -0.1250000\n\
             VARIABLE HOST gone = nan\n\
             VARIABLE HOST big = inf\n"
        );

        // Read back by the parser (scopes, names, values).
        let parent = std::sync::Arc::new(host());
        let mut s = crate::protocol::Session::new(
            std::sync::Arc::clone(&parent),
            "child",
            0,
            crate::protocol::Trust::Trusted,
            crate::protocol::Limits::PLUGIN,
        );
        for line in out.lines() {
            s.line(line.as_bytes(), T0 * S).unwrap();
        }
        assert_eq!(parent.variable("active_processors"), Some(4.0));
        assert_eq!(parent.variable("odd"), Some(-0.125));
        assert!(parent.variable("gone").is_some_and(f64::is_nan));
        assert_eq!(parent.variable("big"), Some(f64::INFINITY));

        // A chart's variables go with its definition, after the dimensions.
        let c = h.chart_define(ChartMeta::new("a", "b"));
        c.dimension(DimensionMeta::new("x"));
        c.set_variable("limit", 7.0);
        let mut out = String::new();
        c.with_view(|v, _| definition(&mut out, v, Caps(0), 0));
        assert!(
            out.ends_with(
                "DIMENSION \"x\" \"x\" \"absolute\" 1 1 \"  \"\nVARIABLE CHART limit = 7.0000000\n"
            ),
            "{out}"
        );
    }

    /// tests/properties.rs found a value ending in a backslash (`C:\`) written as
    /// `"C:\"`, where the backslash protects the closing quote: the parser (ours and
    /// Netdata's) then took the rest of the line into that word and lost the others.
    #[test]
    fn trailing_backslash_cannot_swallow_the_closing_quote() {
        for (value, want) in
            [("C:\\", "\"C:\""), ("a\\\\", "\"a\\\\\""), ("\\\\\\", "\"\\\\\""), ("a\\b", "\"a\\b\"")]
        {
            let mut out = String::new();
            quoted(&mut out, value);
            assert_eq!(out, want, "{value}");
            let line = format!("CLABEL {out} \"v\" 1");
            let w = crate::protocol::Words::split(&line);
            assert_eq!((w.len(), w.get(2), w.get(3)), (4, Some("v"), Some("1")), "{line}");
        }
    }

    #[test]
    fn quotes_cannot_break_out() {
        let mut out = String::new();
        quoted(&mut out, "a \"b\"\nc");
        assert_eq!(out, "\"a 'b' c\"");
    }

    #[test]
    fn data_and_replay_lines() {
        let h = host();
        let c = h.chart_define(ChartMeta::new("net", "eth0"));
        c.dimension(DimensionMeta::new("received").algorithm(Algorithm::Incremental));
        c.dimension(DimensionMeta::new("sent").algorithm(Algorithm::Incremental).scale(-1, 1));
        for i in 0..6u64 {
            let mut col = c.begin((T0 + i) * S + S / 2, 0, false);
            col.set(0, (i * 100) as i64);
            if i != 3 {
                col.set(1, (i * 10) as i64);
            }
            col.end();
        }
        let mut out = String::new();
        c.with_view(|v, _| data(&mut out, v, 1_000_000));
        assert_eq!(out, "BEGIN \"net.eth0\" 1000000\nEND\n", "only dimensions set in this collection");

        // Points T0+1..T0+5 are stored; ask for (T0+2, T0+4].
        let req = ReplayChart {
            chart: "net.eth0".into(),
            start_streaming: false,
            after: (T0 + 2) as i64,
            before: (T0 + 4) as i64,
        };
        let mut out = String::new();
        let enable = c.with_view(|v, _| replay(&mut out, v, &req, (T0 + 6) as i64, 100));
        assert!(!enable, "the child has newer data than before and start_streaming is false");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "RBEGIN \"net.eth0\"");
        assert_eq!(lines[1], format!("RBEGIN '' {} {} {}", T0 + 2, T0 + 3, T0 + 6));
        assert_eq!(lines[2], "RSET \"received\" 100.0000000 \"\"");
        assert_eq!(
            lines[3], "RSET \"sent\" NAN \"E\"",
            "the collection that skipped 'sent' left a gap at T0+3"
        );
        assert_eq!(lines[4], format!("RBEGIN '' {} {} {}", T0 + 3, T0 + 4, T0 + 6));
        assert_eq!(
            lines.last().unwrap(),
            &format!("REND 1 {} {} false {} {} {}", T0 + 1, T0 + 5, T0 + 2, T0 + 4, T0 + 6)
        );

        // start_streaming extends to the last point and enables streaming with the states.
        let req = ReplayChart { start_streaming: true, ..req };
        let mut out = String::new();
        assert!(c.with_view(|v, _| replay(&mut out, v, &req, (T0 + 6) as i64, 100)));
        assert!(out.contains(&format!("RBEGIN '' {} {} {}", T0 + 4, T0 + 5, T0 + 6)));
        assert!(out.contains("RDSTATE \"received\" "));
        assert!(out.contains("RSSTATE "));
        assert!(out.ends_with(&format!(
            "REND 1 {} {} true {} {} {}\n",
            T0 + 1,
            T0 + 5,
            T0 + 2,
            T0 + 5,
            T0 + 6
        )));

        // A point budget cuts the answer short and asks to continue.
        let mut out = String::new();
        let req = ReplayChart { start_streaming: true, after: T0 as i64, before: (T0 + 5) as i64, ..req };
        assert!(!c.with_view(|v, _| replay(&mut out, v, &req, (T0 + 6) as i64, 2)));
        assert!(
            out.ends_with(&format!("REND 1 {} {} false {} {} {}\n", T0 + 1, T0 + 5, T0, T0 + 2, T0 + 6)),
            "{out}"
        );

        // An empty request (no data on the parent's side or none here).
        let mut out = String::new();
        let req = ReplayChart { chart: "net.eth0".into(), start_streaming: true, after: 0, before: 0 };
        assert!(c.with_view(|v, _| replay(&mut out, v, &req, (T0 + 6) as i64, 100)));
        assert!(!out.contains("RSET"));
    }

    /// Fuzzing (fuzz/fuzz_targets/parent_lines.rs) found a parent's `REPLAY_CHART` with
    /// `after` = i64::MAX overflowing the first point's time (a panic in debug builds, a
    /// wrapped time and a garbage answer in release).
    #[test]
    fn replay_request_at_the_end_of_time_does_not_overflow() {
        let h = host();
        let c = h.chart_define(ChartMeta::new("system", "cpu").update_every(2));
        c.dimension(DimensionMeta::new("user"));
        for i in 0..5u64 {
            let mut col = c.begin((T0 + 2 * i) * S, 2 * S, true);
            col.set(0, i as i64);
            col.end();
        }
        let now = (T0 + 10) as i64;
        let points = |after, before| {
            let req = ReplayChart { chart: "system.cpu".into(), start_streaming: false, after, before };
            let mut out = String::new();
            c.with_view(|v, _| replay(&mut out, v, &req, now, 100));
            assert!(out.ends_with(&format!("{now}\n")), "{out}");
            out.lines().filter(|l| l.starts_with("RBEGIN ''")).count()
        };
        let all = points(1, now);
        assert!(all >= 4, "the stored points: {all}");
        for (after, before) in [(i64::MAX, 1), (i64::MAX, i64::MAX), (i64::MAX - 1, now)] {
            assert_eq!(points(after, before), 0, "nothing is after {after}");
        }
        assert_eq!(points(i64::MIN, i64::MAX), all);
    }
}

//! `--history SECONDS`: the simulated children offer replication (protocol.md §3) and claim
//! to hold that many seconds of history; every `REPLAY_CHART` the parent sends is answered
//! with points computed from the dimensions' generators (what a child with a database would
//! send: `RBEGIN`, `RSET` per dimension and second, `RDSTATE`/`RSSTATE` when streaming may
//! resume, `REND`), so a parent ingests hours or days of history in minutes.
//!
//! The generators' time is the wall clock: second `e` of the epoch is generator step
//! `e − base`, for the history and for the live `BEGIN`/`SET` that follow, so counters stay
//! continuous across the switch.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nanodata::protocol::{ReplayChart, Words};

use crate::sets::ChartDef;
use crate::{send, Stream};

/// The most points one answer carries; the parent asks again for the rest.
const MAX_POINTS: i64 = 3600;

/// The history a child claims: from `first` to the present, generator step `e − base` at
/// epoch second `e`.
#[derive(Clone, Copy)]
pub(crate) struct History {
    pub(crate) first: i64,
    pub(crate) base: i64,
}

impl History {
    /// `seconds` of history ending now.
    pub(crate) fn ending_now(seconds: u64) -> History {
        let now = now_epoch();
        let first = now - seconds as i64;
        // Step 2 at the first point, so that every point has a previous second.
        History { first, base: first - 2 }
    }

    /// The generator step of epoch second `t`.
    pub(crate) fn step(&self, t: i64) -> u64 {
        (t - self.base).max(2) as u64
    }
}

pub(crate) fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `CHART_DEFINITION_END <first> <last> <now>`: ends a chart's definition and starts its
/// replication.
pub(crate) fn definition_end(out: &mut String, h: &History) {
    let now = now_epoch();
    let _ = writeln!(out, "CHART_DEFINITION_END {} {now} {now}", h.first);
}

/// What [`replicate`] did for one child.
#[derive(Default)]
pub(crate) struct Replicated {
    pub(crate) requests: u64,
    pub(crate) points: u64,
}

/// Answers the parent's `REPLAY_CHART` requests until every chart may stream (an answer
/// ended with `REND … true`), or fails after `limit`.
pub(crate) fn replicate(
    sock: &mut TcpStream,
    stream: &mut Stream,
    h: &History,
    limit: Duration,
) -> Result<Replicated, String> {
    let mut pending: HashSet<String> = stream.charts.iter().map(|c| c.id.clone()).collect();
    let mut done = Replicated::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut values = Vec::new();
    sock.set_read_timeout(Some(Duration::from_secs(1))).ok();
    let deadline = Instant::now() + limit;
    while !pending.is_empty() {
        if Instant::now() > deadline {
            return Err(format!(
                "{} of {} charts still replicating after {} s",
                pending.len(),
                stream.charts.len(),
                limit.as_secs()
            ));
        }
        match sock.read(&mut chunk) {
            Ok(0) => return Err("the parent closed the connection during replication".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                continue
            }
            Err(e) => return Err(e.to_string()),
        }
        while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = buf.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&raw[..nl]).into_owned();
            let words = Words::split(line.trim_end());
            let Some(req) = ReplayChart::parse(&words) else {
                eprintln!("stream_load: ignoring a line from the parent: {line:?}");
                continue;
            };
            let Some(chart) = stream.charts.iter().find(|c| c.id == req.chart) else {
                return Err(format!("the parent asked to replicate unknown chart {:?}", req.chart));
            };
            let (enable, points) = answer(&mut stream.text, chart, &req, h, now_epoch(), &mut values);
            done.requests += 1;
            done.points += points;
            stream.seal()?;
            send(sock, &stream.wire)?;
            if enable {
                pending.remove(&req.chart);
            }
        }
    }
    sock.set_read_timeout(Some(Duration::from_secs(300))).ok();
    Ok(done)
}

/// One answer to `req`, as a child holding `h` writes it at `now` (the shape of a 1.37
/// child's answer; the child's last point is `now`). Returns whether streaming resumes and
/// how many points it carries.
fn answer(
    out: &mut String,
    chart: &ChartDef,
    req: &ReplayChart,
    h: &History,
    now: i64,
    values: &mut Vec<f64>,
) -> (bool, u64) {
    let (first, last) = (h.first, now);
    let _ = writeln!(out, "RBEGIN \"{}\"", chart.id);
    let mut before = req.before;
    let mut cut = false;
    let mut points = 0;
    if req.after != 0 && req.before != 0 {
        if req.start_streaming && last > before {
            before = last;
        }
        let start = req.after.max(first - 1) + 1;
        let mut end = before.min(last);
        let mut t = start;
        while t <= end {
            if points == MAX_POINTS {
                end = t - 1;
                cut = true;
                break;
            }
            let _ = writeln!(out, "RBEGIN '' {} {t} {now}", t - 1);
            chart.stored(h.step(t), values);
            for (d, v) in chart.dims.iter().zip(values.iter()) {
                let _ = writeln!(out, "RSET \"{}\" {v:.7} \"\"", d.id);
            }
            points += 1;
            t += 1;
        }
        before = end.max(req.after);
    }
    let enable = !cut && (req.start_streaming || before == last || req.after == 0 || req.before == 0);
    if enable {
        let ut = last * 1_000_000;
        chart.stored(h.step(last), values);
        for (d, v) in chart.dims.iter().zip(values.iter()) {
            let _ = writeln!(out, "RDSTATE \"{}\" {ut} {} {v:.7} {v:.7}", d.id, d.gen.value(h.step(last)));
        }
        let _ = writeln!(out, "RSSTATE {ut} {ut}");
    }
    let _ = writeln!(
        out,
        "REND 1 {first} {last} {} {} {before} {now}",
        if enable { "true" } else { "false" },
        req.after
    );
    (enable, points as u64 * chart.dims.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sets::{ChartDef, Gen};

    fn chart() -> ChartDef {
        ChartDef::new("t.c", "t", "u", "f", "t.c", "line", 1).dim("a", "incremental", 1, 1, Gen::Rate(5)).dim(
            "b",
            "absolute",
            1,
            10,
            Gen::Gauge(100, 0),
        )
    }

    fn req(after: i64, before: i64, start: bool) -> ReplayChart {
        ReplayChart { chart: "t.c".into(), start_streaming: start, after, before }
    }

    #[test]
    fn a_step_carries_every_second_in_the_window() {
        let h = History { first: 1000, base: 998 };
        let mut out = String::new();
        let (enable, points) = answer(&mut out, &chart(), &req(1000, 1002, false), &h, 2000, &mut Vec::new());
        assert!(!enable);
        assert_eq!(points, 4);
        // A counter growing by 5 a second stores 5; a gauge of 100 divided by 10 stores 10.
        assert_eq!(
            out,
            "RBEGIN \"t.c\"\nRBEGIN '' 1000 1001 2000\nRSET \"a\" 5.0000000 \"\"\nRSET \"b\" 10.0000000 \"\"\n\
             RBEGIN '' 1001 1002 2000\nRSET \"a\" 5.0000000 \"\"\nRSET \"b\" 10.0000000 \"\"\n\
             REND 1 1000 2000 false 1000 1002 2000\n"
        );
    }

    #[test]
    fn the_last_step_runs_to_now_and_restores_the_state() {
        let h = History { first: 1000, base: 998 };
        let mut out = String::new();
        let (enable, points) = answer(&mut out, &chart(), &req(1998, 1999, true), &h, 2000, &mut Vec::new());
        assert!(enable);
        assert_eq!(points, 4, "1999 and 2000");
        // Step of 2000 is 1002: the counter reads 5 × 1002.
        assert!(out.contains("RDSTATE \"a\" 2000000000 5010 5.0000000 5.0000000\n"), "{out}");
        assert!(
            out.ends_with("RSSTATE 2000000000 2000000000\nREND 1 1000 2000 true 1998 2000 2000\n"),
            "{out}"
        );
    }

    #[test]
    fn long_windows_are_cut() {
        let h = History { first: 0, base: -2 };
        let mut out = String::new();
        let (enable, points) = answer(&mut out, &chart(), &req(1, 10_000, true), &h, 20_000, &mut Vec::new());
        assert!(!enable);
        assert_eq!(points, 2 * MAX_POINTS as u64);
        assert!(out.ends_with(&format!("REND 1 0 20000 false 1 {} 20000\n", 1 + MAX_POINTS)), "{out}");
    }

    #[test]
    fn the_empty_request_resumes_streaming() {
        let h = History { first: 1000, base: 998 };
        let mut out = String::new();
        let (enable, points) = answer(&mut out, &chart(), &req(0, 0, true), &h, 2000, &mut Vec::new());
        assert!(enable && points == 0);
        assert!(out.starts_with("RBEGIN \"t.c\"\nRDSTATE"), "{out}");
    }
}

//! Tests of the session (keyword semantics, error classes, limits) and a property loop
//! that feeds random bytes through the whole stack.

use std::sync::Arc;

use super::*;
use crate::rrd::{Algorithm, ChartType, Host, HostSettings};

const T0: u64 = 1_700_000_000_000_000;
const SEC: u64 = 1_000_000;

fn host(name: &str) -> Arc<Host> {
    Arc::new(Host::new(
        &format!("guid-{name}"),
        name,
        HostSettings { history: 60, ..HostSettings::default() },
    ))
}

fn session(h: &Arc<Host>) -> Session {
    Session::new(Arc::clone(h), "test.plugin", 0, Trust::Measured, Limits::PLUGIN)
}

/// Feeds `text` line by line at `now`; returns the first error.
fn feed(s: &mut Session, text: &str, now: u64) -> Result<Vec<Event>, Error> {
    let mut events = Vec::new();
    for line in text.lines() {
        if let Some(e) = s.line(line.as_bytes(), now)? {
            events.push(e);
        }
    }
    Ok(events)
}

fn action(s: &mut Session, text: &str) -> Action {
    feed(s, text, T0).expect_err(text).action
}

#[test]
fn a_plugin_iteration_stores_values() {
    let h = host("a");
    let mut s = session(&h);
    feed(
        &mut s,
        "CHART test.one '' 'One' 'things' '' '' line 100 1\nDIMENSION x '' absolute 1 1\nDIMENSION y\n",
        T0,
    )
    .unwrap();
    for k in 0..5u64 {
        let now = T0 + k * SEC;
        let usec = if k == 0 { 0 } else { SEC };
        feed(&mut s, &format!("BEGIN test.one {usec}\nSET x = {}\nSET y = 010\nEND\n", 10 * k), now).unwrap();
    }
    assert_eq!(s.collections(), 5);
    let chart = h.chart("test.one").unwrap();
    let last = chart.last_values();
    assert_eq!(last[0].0, 40);
    assert_eq!(last[1].0, 8, "SET values are C numbers: 010 is octal");
    let points = chart.query(0, 0, i64::MAX);
    assert!(points.len() >= 3, "{points:?}");
    assert!(points.iter().any(|p| p.value == Some(30.0)), "{points:?}");
}

#[test]
fn chart_defaults_follow_netdata() {
    let h = host("b");
    let mut s = session(&h);
    feed(&mut s, "CHART net.eth0 net.wan\n", T0).unwrap();
    let m = h.chart("net.eth0").unwrap().meta();
    assert_eq!((m.name.as_str(), m.title.as_str(), m.units.as_str()), ("net.wan", "", "unknown"));
    assert_eq!((m.family.as_str(), m.context.as_str()), ("net", "net.eth0"));
    assert_eq!((m.chart_type, m.priority, m.update_every), (ChartType::Line, 1000, 1));
    assert_eq!((m.plugin.as_str(), m.module.as_str()), ("test.plugin", ""));
    assert!(m.labels.iter().any(|l| l.name == "_collect_plugin" && l.value == "test.plugin"));

    feed(&mut s, "CHART net.eth1 NULL t u f c stacked 5 3 'hidden' p m\n", T0).unwrap();
    let m = h.chart("net.eth1").unwrap().meta();
    assert_eq!((m.name.as_str(), m.family.as_str(), m.context.as_str()), ("net.eth1", "f", "c"));
    assert_eq!((m.chart_type, m.priority, m.update_every), (ChartType::Stacked, 5, 3));
    assert!(m.options.hidden);
    assert_eq!((m.plugin.as_str(), m.module.as_str()), ("p", "m"));
}

#[test]
fn dimension_definition_and_update() {
    let h = host("c");
    let mut s = session(&h);
    feed(&mut s, "CHART a.b\nDIMENSION d dee incremental -8 0x10 hidden\nDIMENSION d dee2\n", T0).unwrap();
    let dims = h.chart("a.b").unwrap().dimensions();
    assert_eq!(dims.len(), 1);
    assert_eq!(dims[0].name, "dee2");
    assert_eq!(dims[0].algorithm, Algorithm::Absolute, "a redefinition replaces everything");
    assert!(!dims[0].options.hidden);
}

#[test]
fn missing_chart_or_dimension_disables() {
    let h = host("d");
    let mut s = session(&h);
    assert_eq!(action(&mut s, "BEGIN no.such"), Action::Disable);
    assert_eq!(action(&mut s, "SET x = 1"), Action::Disable);
    assert_eq!(action(&mut s, "END"), Action::Disable);
    assert_eq!(action(&mut s, "DIMENSION x"), Action::Disable);
    assert_eq!(action(&mut s, "CHART_DEFINITION_END 1 2 3"), Action::Disable);
    assert_eq!(action(&mut s, "RBEGIN"), Action::Disable);
    assert_eq!(action(&mut s, "CHART nodot"), Action::Disable);
    assert_eq!(action(&mut s, "DISABLE"), Action::Disable);
    feed(&mut s, "CHART a.b\nDIMENSION x\nBEGIN a.b\n", T0).unwrap();
    assert_eq!(action(&mut s, "SET y = 1"), Action::Disable);
    feed(&mut s, "BEGIN a.b\n", T0).unwrap();
    assert_eq!(action(&mut s, "RSET y 1 ''"), Action::Disable);
    feed(&mut s, "FLUSH\n", T0).unwrap();
    assert_eq!(action(&mut s, "SET x = 1"), Action::Disable, "FLUSH clears the chart");
    assert_eq!(action(&mut s, "CLABEL_COMMIT"), Action::Disable);
}

#[test]
fn other_errors_stop() {
    let h = host("e");
    let mut s = session(&h);
    assert_eq!(action(&mut s, "HELLO world"), Action::Stop);
    assert_eq!(action(&mut s, "end"), Action::Stop, "keywords are case-sensitive");
    assert_eq!(action(&mut s, "CLABEL a b 1"), Action::Stop);
    assert_eq!(action(&mut s, "REND 1 2"), Action::Stop);
    let e = s.frame(Frame::TooLong { at_least: 100_000 }, T0).unwrap_err();
    assert_eq!(e.action, Action::Stop);
    assert!(e.message.contains("15360"), "{e}");
    // Blank lines and plain variables are fine.
    feed(&mut s, "\n   \n\t\nVARIABLE x = 1\nVARIABLE HOST y = NAN\nFUNCTION f 10 'h'\n", T0).unwrap();
}

#[test]
fn host_labels_replace_on_overwrite_and_are_bounded() {
    let h = host("f");
    let mut s = Session::new(Arc::clone(&h), "p", 0, Trust::Trusted, Limits { labels: 2, ..Limits::PLUGIN });
    feed(&mut s, "LABEL room = 2 kitchen\nLABEL note 1 a b  c\nLABEL third 1 x\n", T0).unwrap();
    assert!(h.labels().is_empty(), "pending until OVERWRITE");
    feed(&mut s, "OVERWRITE labels\n", T0).unwrap();
    let labels = h.labels();
    assert_eq!(labels.len(), 2, "the third was dropped: {labels:?}");
    assert_eq!((labels[1].name.as_str(), labels[1].value.as_str(), labels[1].source), ("note", "a b c", 1));
    feed(&mut s, "OVERWRITE\n", T0).unwrap();
    assert!(h.labels().is_empty());
}

#[test]
fn chart_labels_commit_replaces_the_batch_and_keeps_permanent_ones() {
    let h = host("g");
    let mut s = session(&h);
    feed(&mut s, "CHART a.b\nCLABEL x 1 2\nCLABEL y 2 2\nCLABEL_COMMIT\n", T0).unwrap();
    let names =
        |h: &Host| h.chart("a.b").unwrap().meta().labels.iter().map(|l| l.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&h), ["_collect_plugin", "_collect_module", "x", "y"]);
    feed(&mut s, "BEGIN a.b\nCLABEL y 3 2\nCLABEL_COMMIT\n", T0).unwrap();
    assert_eq!(names(&h), ["_collect_plugin", "_collect_module", "y"]);
    feed(&mut s, "CHART a.b\n", T0).unwrap();
    assert_eq!(names(&h), ["y", "_collect_plugin", "_collect_module"], "a redefinition keeps labels");
}

#[test]
fn function_results_are_captured_verbatim_until_their_end() {
    let h = host("h");
    let mut s = session(&h);
    let events = feed(
        &mut s,
        "FUNCTION_RESULT_BEGIN tx 200 json 0\nnot a keyword\n{\"a\": 1}\nFUNCTION_RESULT_END\nFLUSH\n",
        T0,
    )
    .unwrap();
    assert_eq!(events, [Event::FunctionResult { transaction: "tx".into(), code: 200, bytes: 23 }]);
    let mut s = Session::new(
        Arc::clone(&h),
        "p",
        0,
        Trust::Measured,
        Limits { function_result: 10, ..Limits::PLUGIN },
    );
    assert_eq!(action(&mut s, "FUNCTION_RESULT_BEGIN tx 200 json 0\n0123456789"), Action::Stop);
}

#[test]
fn charts_and_dimensions_are_bounded() {
    let h = host("i");
    let limits = Limits { charts: 2, dimensions: 2, ..Limits::PLUGIN };
    let mut s = Session::new(Arc::clone(&h), "p", 0, Trust::Measured, limits);
    feed(&mut s, "CHART a.one\nDIMENSION x\nDIMENSION y\nDIMENSION x\nCHART a.two\nCHART a.one\n", T0)
        .unwrap();
    assert_eq!(action(&mut s, "DIMENSION z"), Action::Disable);
    assert_eq!(action(&mut s, "CHART a.three"), Action::Disable);
    assert_eq!(s.chart_count(), 2);
    assert_eq!(h.chart_count(), 2);
}

#[test]
fn replication_and_streaming_events() {
    let h = host("j");
    let mut s = Session::new(Arc::clone(&h), "10.0.0.1:1234", 0, Trust::Trusted, Limits::PLUGIN);
    let g = "11111111-2222-3333-4444-555555555555";
    let events = feed(
        &mut s,
        &format!(
            "CHART a.b\nDIMENSION x\nCHART_DEFINITION_END 10 20 30\nRBEGIN a.b 10 20 30\nRSET x 1.5 ''\n\
             RDSTATE x 1 2 3 4\nRSSTATE 1 2\nREND 1 10 20 true 10 20 30\nCLAIMED_ID {g} NULL\n"
        ),
        T0,
    )
    .unwrap();
    assert_eq!(
        events,
        [
            Event::ChartDefinitionEnd {
                chart: "a.b".into(),
                first_entry_t: 10,
                last_entry_t: 20,
                child_now_t: Some(30)
            },
            Event::ReplayEnd { chart: "a.b".into(), start_streaming: true, after: 10, before: 20 },
            Event::ClaimedId { machine_guid: g.into(), claim_id: None },
        ]
    );
    assert_eq!(s.collections(), 1, "REND counts as a collection");
}

/// A child's chart of `dims` dimensions collected `n` times, one per second from `T0 + 0.5`.
fn child_chart(dims: usize, n: u64) -> (Arc<Host>, Session, u64) {
    let h = host("leap");
    let mut s = Session::new(Arc::clone(&h), "10.0.0.9:1234", 0, Trust::Trusted, Limits::PLUGIN);
    let mut def = String::from("CHART leap.c '' t u f leap.c line 1 1\n");
    for i in 0..dims {
        def.push_str(&format!("DIMENSION d{i} '' absolute 1 1\n"));
    }
    feed(&mut s, &def, T0).unwrap();
    let mut now = T0 + SEC / 2;
    for k in 0..n {
        let usec = if k == 0 { 0 } else { SEC };
        feed(&mut s, &format!("BEGIN leap.c {usec}\nSET d0 = {k}\nEND\n"), now).unwrap();
        now += SEC;
    }
    (h, s, now)
}

#[test]
fn a_child_s_begin_in_the_future_is_refused_and_repeated_ones_stop_it() {
    let (h, mut s, mut now) = child_chart(1000, 5);
    let chart = h.chart("leap.c").unwrap();
    let stored = chart.query(0, 0, i64::MAX);
    let done = s.collections();
    // The attack: each line would move the chart's clock an hour ahead.
    let leap = "BEGIN leap.c 3599000000\nSET d0 = 1\nEND\n";
    for k in 1..Limits::PLUGIN.clock_strikes {
        feed(&mut s, leap, now).unwrap();
        assert_eq!(s.clock_strikes(), k);
        now += 1000;
    }
    // Nothing was stored: not the leap, not a slot in between.
    assert_eq!(s.collections(), done);
    assert_eq!(chart.query(0, 0, i64::MAX), stored);
    assert!(chart.last_entry_t().unwrap() <= (now / SEC) as i64);
    // Good lines in between are still taken.
    feed(&mut s, "BEGIN leap.c 1000000\nSET d0 = 9\nEND\n", now + SEC).unwrap();
    assert_eq!(s.collections(), done + 1);
    assert_eq!(chart.query(0, 0, i64::MAX).last().and_then(|p| p.value), Some(9.0));
    // The last strike stops the source, with a reason naming the chart and the leap.
    let e = feed(&mut s, leap, now + SEC).unwrap_err();
    assert_eq!(e.action, Action::Stop);
    assert!(e.message.contains("'leap.c'") && e.message.contains("into the future"), "{e}");
    assert!(e.message.contains(" s ahead of the local clock (at most 60 s allowed)"), "{e}");
}

#[test]
fn a_plugin_s_begin_in_the_future_is_refused_too() {
    let h = host("pl");
    let mut s = session(&h);
    feed(&mut s, "CHART p.c '' t u f p.c line 1 1\nDIMENSION x '' absolute 1 1\n", T0).unwrap();
    let mut now = T0 + SEC / 2;
    for k in 0..4u64 {
        let usec = if k == 0 { 0 } else { SEC };
        feed(&mut s, &format!("BEGIN p.c {usec}\nSET x = 1\nEND\n"), now).unwrap();
        now += SEC;
    }
    let before = h.chart("p.c").unwrap().last_entry_t();
    let mut stopped = None;
    for _ in 0..Limits::PLUGIN.clock_strikes {
        if let Err(e) = feed(&mut s, "BEGIN p.c 3599000000\nSET x = 1\nEND\n", now) {
            stopped = Some(e);
            break;
        }
    }
    let e = stopped.expect("the plugin is stopped after repeated leaps");
    assert_eq!(e.action, Action::Stop);
    assert_eq!(s.clock_strikes(), Limits::PLUGIN.clock_strikes);
    assert_eq!(h.chart("p.c").unwrap().last_entry_t(), before);
}

#[test]
fn replication_times_ahead_of_the_parent_are_refused() {
    let (h, mut s, now) = child_chart(2, 3);
    let chart = h.chart("leap.c").unwrap();
    let last = chart.last_entry_t().unwrap();
    let now_s = now / SEC;
    // (A range that covers every point: this test is about the clock, not the range asked.)
    s.expect_replay("leap.c", now_s as i64 - 10, now_s as i64 + 3_600, false);
    // Points whose child_now claims an hour ahead: those beyond now + 60 s are not stored;
    // one within the tolerance is.
    let mut answer = String::from("RBEGIN leap.c\n");
    for t in [now_s + 3_599, now_s + 3_600, now_s + 61] {
        answer.push_str(&format!("RBEGIN '' {} {t} {}\nRSET d0 5 ''\n", t - 1, now_s + 3_600));
    }
    answer.push_str(&format!("RBEGIN '' {} {} {}\nRSET d0 6 ''\n", now_s + 29, now_s + 30, now_s + 3_600));
    // States an hour ahead are refused (the chart keeps its clock); no strike, no stop.
    let far = (now_s + 3_600) * SEC;
    answer.push_str(&format!("RDSTATE d0 {far} 77 1 1\nRSSTATE {far} {far}\n"));
    answer.push_str(&format!("REND 1 1 {} true 1 {} {}\n", now_s + 3_600, now_s + 3_600, now_s + 3_600));
    feed(&mut s, &answer, now).unwrap();
    assert_eq!(chart.last_entry_t(), Some((now_s + 30) as i64), "only the point within 60 s");
    assert!(chart.last_entry_t().unwrap() > last);
    assert_eq!(s.clock_strikes(), 0);
    assert_eq!(chart.last_values()[0].0, 2, "RDSTATE refused: the last collected value is kept");
    // The chart's clock was not moved: the next BEGIN counts from where it was.
    feed(&mut s, "BEGIN leap.c 1000000\nSET d0 = 3\nEND\n", now).unwrap();
    assert_eq!(s.clock_strikes(), 0);
    assert_eq!(chart.last_values()[0].0, 3);
}

#[test]
fn a_chart_s_update_every_changes_once_per_connection() {
    let h = host("step");
    let mut s = session(&h);
    let def = |ue: u32| format!("CHART s.c '' t u f s.c line 1 {ue}\nDIMENSION x '' absolute 1 1\n");
    feed(&mut s, &def(1), T0).unwrap();
    feed(&mut s, &def(1), T0).unwrap();
    feed(&mut s, &def(2), T0).unwrap();
    assert_eq!(h.chart("s.c").unwrap().meta().update_every, 2);
    feed(&mut s, &def(2), T0).unwrap();
    // Flipping it back and forth would reopen every dimension's storage on each line.
    let e = feed(&mut s, &def(1), T0).unwrap_err();
    assert_eq!(e.action, Action::Stop);
    assert!(e.message.contains("'s.c' changed its update every again (2 s to 1 s)"), "{e}");
    assert_eq!(h.chart("s.c").unwrap().meta().update_every, 2, "the change was refused");
    // A new connection (session) may change it once more.
    let mut again = session(&h);
    feed(&mut again, &def(1), T0).unwrap();
    assert_eq!(h.chart("s.c").unwrap().meta().update_every, 1);
}

#[test]
fn a_session_never_touches_another_host() {
    let a = host("k1");
    let b = host("k2");
    let mut sb = session(&b);
    feed(&mut sb, "CHART only.b\nDIMENSION x\n", T0).unwrap();
    let mut sa = session(&a);
    assert_eq!(action(&mut sa, "BEGIN only.b"), Action::Disable);
    feed(&mut sa, "CHART x.y\nLABEL a 1 b\nOVERWRITE\n", T0).unwrap();
    assert_eq!(b.chart_count(), 1);
    assert!(b.labels().is_empty());
}

#[test]
fn random_input_never_panics() {
    const TOKENS: &[&str] = &[
        "CHART",
        "DIMENSION",
        "BEGIN",
        "SET",
        "END",
        "FLUSH",
        "VARIABLE",
        "LABEL",
        "OVERWRITE",
        "CLABEL",
        "CLABEL_COMMIT",
        "FUNCTION",
        "FUNCTION_RESULT_BEGIN",
        "FUNCTION_RESULT_END",
        "CHART_DEFINITION_END",
        "RBEGIN",
        "RSET",
        "RDSTATE",
        "RSSTATE",
        "REND",
        "CLAIMED_ID",
        "DISABLE",
        "a.b",
        "a.c",
        "x",
        "y",
        "=",
        "\"",
        "'",
        "\\",
        "0x",
        "010",
        "-1",
        "9999999999999999999999",
        "NAN",
        "-inf",
        "1.5e308",
        "",
        " ",
        "\t",
        "é",
        "\u{0}",
        "GLOBAL",
        "CHART",
        "incremental",
        "percentage-of-incremental-row",
        "obsolete hidden",
        "\r",
        "''",
        "\"\"",
    ];
    let h = host("fuzz");
    let mut rng = crate::rng::Rng::new(0x9E37_79B9_7F4A_7C15);
    let mut lb = LineBuffer::new(256);
    let mut s =
        Session::new(Arc::clone(&h), "fuzz", 0, Trust::Measured, Limits { charts: 8, ..Limits::PLUGIN });
    let mut now = T0;
    for round in 0..20_000 {
        let mut bytes = Vec::new();
        if round % 3 == 0 {
            // Raw bytes, newlines included.
            for _ in 0..rng.below(300) {
                bytes.push(rng.next_u64() as u8);
            }
        } else {
            // Token soup that reaches deep into the keyword handlers.
            for _ in 0..1 + rng.below(8) {
                let mut line = String::new();
                for _ in 0..rng.below(25) {
                    line.push_str(TOKENS[rng.below(TOKENS.len())]);
                    line.push(if rng.below(5) == 0 { '=' } else { ' ' });
                }
                bytes.extend_from_slice(line.as_bytes());
                bytes.push(b'\n');
            }
        }
        let mut fed = 0;
        while fed < bytes.len() {
            fed += lb.push(&bytes[fed..]);
            while let Some(frame) = lb.next_line() {
                now += rng.below(2_000_000) as u64;
                if s.frame(frame, now).is_err() && rng.below(4) == 0 {
                    // The owner would restart the source: a fresh session on the same host.
                    s = Session::new(
                        Arc::clone(&h),
                        "fuzz",
                        0,
                        Trust::Measured,
                        Limits { charts: 8, ..Limits::PLUGIN },
                    );
                }
            }
        }
        // The tokenizer and the number parsers alone, on raw text.
        let text = String::from_utf8_lossy(&bytes);
        for w in Words::split(&text).iter() {
            let _ = (number::c_integer(w), number::decimal(w), number::double(w));
        }
    }
    assert!(h.chart_count() > 0, "the soup defined some charts");
}

#[test]
fn charts_freed_by_cleanup_no_longer_count_against_the_source_s_limit() {
    let h = host("churn");
    let limits = Limits { charts: 2, ..Limits::PLUGIN };
    let mut s = Session::new(Arc::clone(&h), "p", 0, Trust::Measured, limits);
    let chart =
        |id: &str, options: &str| format!("CHART a.{id} '' t u '' '' line 1 1 '{options}'\nDIMENSION x\n");
    feed(&mut s, &(chart("one", "") + &chart("two", "")), T0).unwrap();
    // Obsolete but not freed yet: still counted.
    feed(&mut s, &chart("one", "obsolete"), T0).unwrap();
    let since = h.chart("a.one").unwrap().obsolete_since().expect("obsolete");
    let mut probe = Session::new(Arc::clone(&h), "p", 0, Trust::Measured, limits);
    feed(&mut probe, &(chart("one", "") + &chart("two", "")), T0).unwrap();
    assert_eq!(action(&mut probe, &chart("three", "")), Action::Disable);
    // Put a.one back to obsolete (the probe revived it), then free it.
    feed(&mut s, &chart("one", "obsolete"), T0).unwrap();
    let policy = crate::rrd::CleanupPolicy::new(5, false);
    assert_eq!(h.cleanup_obsolete(since + 3600, &policy, 10).charts, 1);
    assert!(h.chart("a.one").is_none());
    feed(&mut s, &chart("three", ""), T0).expect("a.one no longer counts");
    assert_eq!(s.chart_count(), 2);
    assert!(h.chart("a.three").is_some() && h.chart("a.two").is_some());
}

#[test]
fn a_collection_that_straddles_the_removal_of_a_dimension_is_dropped_not_misfiled() {
    let h = host("layout");
    let mut s = session(&h);
    feed(
        &mut s,
        "CHART a.b '' t u '' '' line 1 1\nDIMENSION gone '' absolute 1 1 obsolete\nDIMENSION x\n",
        T0,
    )
    .unwrap();
    let chart = h.chart("a.b").unwrap();
    assert_eq!(chart.dimension_index("x"), Some(1));
    feed(&mut s, "BEGIN a.b\nSET x = 42\n", T0).unwrap();
    // Cleanup frees `gone` between SET and END: `x` moves to index 0.
    let later = crate::clock::now_realtime_sec() + 3600;
    assert_eq!(h.cleanup_obsolete(later, &crate::rrd::CleanupPolicy::new(5, false), 10).dimensions, 1);
    assert_eq!(chart.dimension_index("x"), Some(0));
    feed(&mut s, "END\n", T0).unwrap();
    assert_eq!(s.collections(), 0, "dropped");
    assert_eq!(chart.last_values()[0].0, 0, "nothing was filed under the wrong dimension");
    feed(&mut s, "BEGIN a.b\nSET x = 43\nEND\n", T0 + SEC).unwrap();
    assert_eq!(s.collections(), 1);
    assert_eq!(chart.last_values()[0].0, 43);
}

#[test]
fn replicated_points_outside_the_range_asked_are_refused_and_repeated_ones_stop_the_child() {
    let (h, mut s, now) = child_chart(100, 3);
    let chart = h.chart("leap.c").unwrap();
    let now_s = (now / SEC) as i64;
    let last = chart.last_entry_t().unwrap();
    // Without a request, a point is not asked for.
    feed(
        &mut s,
        &format!("RBEGIN leap.c\nRBEGIN '' {} {} {now_s}\nRSET d0 5 ''\n", last - 21, last - 20),
        now,
    )
    .unwrap();
    assert_eq!(s.replay_strikes(), 1);
    assert_eq!(chart.first_entry_t(), Some(last - 1), "nothing stored");
    // Asked for the 30 s before the chart's last entry: a point inside is stored, one an hour
    // before (or after) is refused, whatever child_now says.
    let (after, before) = (last - 30, last);
    s.expect_replay("leap.c", after, before, false);
    let point = |t: i64| format!("RBEGIN '' {} {t} {}\nRSET d0 7 ''\n", t - 1, t + 1);
    feed(&mut s, &format!("RBEGIN leap.c\n{}", point(last - 10)), now).unwrap();
    assert_eq!(chart.query(0, last - 10, last - 10)[0].value, Some(7.0));
    assert_eq!(s.replay_strikes(), 1);
    let first = chart.first_entry_t();
    feed(&mut s, &point(last - 3_600), now).unwrap();
    feed(&mut s, &point(after - 2), now).unwrap();
    feed(&mut s, &point(before + 2), now).unwrap();
    assert_eq!(s.replay_strikes(), 4);
    assert_eq!(
        (chart.first_entry_t(), chart.last_entry_t()),
        (first, Some(last)),
        "the storage did not move"
    );
    // One step of tolerance on each side.
    feed(&mut s, &point(after - 1), now).unwrap();
    feed(&mut s, &point(before + 1), now).unwrap();
    assert_eq!(s.replay_strikes(), 4);
    // The REND ends the request: points after it are not asked for.
    feed(&mut s, &format!("REND 1 1 {now_s} false {after} {before} {now_s}\n"), now).unwrap();
    let mut stopped = None;
    for k in 0..Limits::PLUGIN.replay_strikes {
        if let Err(e) = feed(&mut s, &format!("RBEGIN leap.c\n{}", point(last - 20 + i64::from(k))), now) {
            stopped = Some(e);
            break;
        }
    }
    let e = stopped.expect("stopped after repeated strikes");
    assert_eq!(e.action, Action::Stop);
    assert_eq!(s.replay_strikes(), Limits::PLUGIN.replay_strikes);
    assert!(e.message.contains("replicated points refused for lying outside the range asked"), "{e}");
    assert!(e.message.contains("no replication of a range of this chart was asked for"), "{e}");
}

#[test]
fn the_dimensions_of_all_charts_of_a_source_are_bounded() {
    let h = host("dims");
    let limits = Limits { total_dimensions: 5, ..Limits::PLUGIN };
    let mut s = Session::new(Arc::clone(&h), "10.0.0.1:1", 0, Trust::Trusted, limits);
    let chart = |id: &str, dims: std::ops::Range<usize>| {
        let mut t = format!("CHART t.{id} '' t u f t.{id} line 1 1\n");
        for d in dims {
            t.push_str(&format!("DIMENSION d{d} '' absolute 1 1\n"));
        }
        t
    };
    feed(&mut s, &chart("a", 0..3), T0).unwrap();
    feed(&mut s, &chart("b", 0..2), T0).unwrap();
    assert_eq!(s.dimension_total(), 5);
    // Defining them again changes nothing.
    feed(&mut s, &(chart("a", 0..3) + &chart("b", 0..2)), T0).unwrap();
    assert_eq!(s.dimension_total(), 5);
    let e = feed(&mut s, &chart("b", 2..3), T0).unwrap_err();
    assert_eq!(e.action, Action::Disable);
    assert!(e.message.contains("would bring this source to 6 dimensions, more than the limit of 5"), "{e}");
    assert_eq!(h.chart("t.b").unwrap().dimension_count(), 2, "the dimension was not created");
    let e = feed(&mut s, &chart("c", 0..1), T0).unwrap_err();
    assert_eq!(e.action, Action::Disable);
    // A new connection takes over the charts with their dimensions: no more room either.
    let mut again = Session::new(Arc::clone(&h), "10.0.0.1:2", 0, Trust::Trusted, limits);
    feed(&mut again, &chart("a", 0..3), T0).unwrap();
    feed(&mut again, &chart("b", 0..2), T0).unwrap();
    assert_eq!(again.dimension_total(), 5);
    assert!(feed(&mut again, &chart("a", 3..4), T0).is_err());
    // A smaller bound refuses a chart that brings more dimensions than are left.
    let tight = Limits { total_dimensions: 4, ..Limits::PLUGIN };
    let mut third = Session::new(Arc::clone(&h), "10.0.0.1:3", 0, Trust::Trusted, tight);
    feed(&mut third, &chart("a", 0..3), T0).unwrap();
    let e = feed(&mut third, &chart("b", 0..2), T0).unwrap_err();
    assert!(e.message.contains("2 more dimension(s)"), "{e}");
}

#[test]
fn an_unchanged_redefinition_keeps_the_storage() {
    let (h, mut s, now) = child_chart(100, 5);
    let chart = h.chart("leap.c").unwrap();
    let stored = chart.query(0, 0, i64::MAX);
    let bytes = chart.memory_bytes();
    let mut def = String::from("CHART leap.c '' t u f leap.c line 1 1\n");
    for i in 0..100 {
        def.push_str(&format!("DIMENSION d{i} '' absolute 1 1\n"));
    }
    for _ in 0..50 {
        feed(&mut s, &def, now).unwrap();
    }
    // A changed title and options: the chart changes, its storage stays.
    feed(&mut s, &def.replacen("'' t u", "'' other u", 1), now).unwrap();
    assert_eq!(chart.meta().title, "other");
    assert_eq!(chart.query(0, 0, i64::MAX), stored, "the stored points are kept");
    assert_eq!(chart.memory_bytes(), bytes);
    assert_eq!(chart.dimension_count(), 100);
    assert_eq!(chart.dimension_index("d99"), Some(99));
}

#[test]
fn an_identical_chart_line_is_applied_again_after_another_change() {
    let h = host("same");
    let mut s = session(&h);
    let def = "CHART s.c '' Title u f s.c line 1 1\nDIMENSION x '' absolute 1 1\n";
    feed(&mut s, def, T0).unwrap();
    let chart = h.chart("s.c").unwrap();
    let v = chart.definition_version();
    for _ in 0..10 {
        feed(&mut s, def, T0).unwrap();
    }
    assert_eq!(chart.definition_version(), v, "identical lines change nothing");
    // Another source (or a CLABEL batch) changes the chart: the same line applies again.
    let mut other = session(&h);
    feed(&mut other, "CHART s.c '' Other u f s.c line 1 1\nDIMENSION x '' incremental 1 1\n", T0).unwrap();
    assert_eq!(chart.meta().title, "Other");
    feed(&mut s, def, T0).unwrap();
    assert_eq!(chart.meta().title, "Title");
    assert_eq!(chart.dimensions()[0].algorithm, Algorithm::Absolute);
    // A changed dimension line is applied, an identical one not counted twice.
    feed(&mut s, "DIMENSION x '' absolute 2 1\nDIMENSION x '' absolute 2 1\n", T0).unwrap();
    assert_eq!(chart.dimensions()[0].multiplier, 2);
    assert_eq!(s.dimension_total(), 1);
    // An unchanged redefinition still resynchronises the next collection's clock, as before:
    // the collection after it stores at the local clock.
    let mut child = Session::new(Arc::clone(&h), "10.0.0.1:1", 0, Trust::Trusted, Limits::PLUGIN);
    feed(&mut child, def, T0).unwrap();
    feed(&mut child, def, T0).unwrap(); // (the first one changed the multiplier back)
    feed(&mut child, "BEGIN s.c\nSET x = 1\nEND\n", T0).unwrap();
    feed(&mut child, "BEGIN s.c 1000000\nSET x = 1\nEND\n", T0 + SEC).unwrap();
    feed(&mut child, def, T0 + 2 * SEC).unwrap();
    feed(&mut child, "BEGIN s.c 5000000\nSET x = 2\nEND\n", T0 + 2 * SEC).unwrap();
    assert_eq!(chart.last_entry_t(), Some((T0 / SEC + 2) as i64));
}

#[test]
fn a_child_told_to_stream_may_send_up_to_its_last_entry() {
    let (h, mut s, now) = child_chart(1, 3);
    let chart = h.chart("leap.c").unwrap();
    let now_s = (now / SEC) as i64;
    let last = chart.last_entry_t().unwrap();
    // (A Netdata child told to start streaming sends what it has up to its last entry.)
    s.expect_replay("leap.c", last - 20, last - 10, true);
    let point = |t: i64| format!("RBEGIN '' {} {t} {}\nRSET d0 7 ''\n", t - 1, t + 1);
    feed(&mut s, &format!("RBEGIN leap.c\n{}{}", point(last - 5), point(now_s + 1)), now).unwrap();
    assert_eq!(s.replay_strikes(), 0);
    assert_eq!(chart.last_entry_t(), Some(now_s + 1));
    // Beyond our clock's tolerance: refused by the clock check, no strike (a child whose
    // clock is ahead sends such points on every connection).
    feed(&mut s, &point(now_s + 3_600), now).unwrap();
    assert_eq!((s.replay_strikes(), chart.last_entry_t()), (0, Some(now_s + 1)));
    // Not told to stream: the range ends at its before.
    s.expect_replay("leap.c", last - 20, last - 10, false);
    feed(&mut s, &point(last - 5), now).unwrap();
    assert_eq!(s.replay_strikes(), 1);
    // An empty request expects no point at all.
    s.expect_replay("leap.c", 0, 0, true);
    feed(&mut s, &point(last - 15), now).unwrap();
    assert_eq!(s.replay_strikes(), 2);
}

#[path = "tests_vars.rs"]
mod variables;

//! Property tests (proptest) of the round trips the fuzz targets cannot judge alone:
//! the sender's LZ4 compressor against the receiver's decoder over random splits of the
//! stream, storage numbers within their documented precision, and the line protocol as
//! `protocol::emit` writes it parsed back by `protocol`.
//!
//! Case counts are kept small so that `cargo test` stays quick; `PROPTEST_CASES=N` runs more.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use nanodata::db::StorageNumber;
use nanodata::protocol::{emit, Caps, Command, ReplayChart, Words};
use nanodata::rrd::{
    Algorithm, ChartMeta, ChartOptions, ChartType, ChartView, DimensionMeta, DimensionOptions, Host,
    HostSettings, Label, Observer, StreamState,
};
use nanodata::stream::lz4::{Compressor, Decompressor, MAX_BLOCK_INPUT, MAX_BLOCK_OUTPUT};

fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

// ---- LZ4 --------------------------------------------------------------------------------

/// A block of plaintext: compressible (a small alphabet, repeats of earlier text) or not.
fn block() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2000),
        prop::collection::vec(
            prop::sample::select(b"SET \"user\" = 0123456789\n".to_vec()),
            0..MAX_BLOCK_INPUT
        ),
        (prop::collection::vec(any::<u8>(), 1..64), 1usize..400).prop_map(|(unit, n)| {
            let mut v: Vec<u8> = unit.iter().copied().cycle().take(unit.len() * n).collect();
            v.truncate(MAX_BLOCK_INPUT);
            v
        }),
    ]
}

proptest! {
    #![proptest_config(config(48))]

    /// Whatever the sender compresses, block by block with its rolling 64 KiB dictionary,
    /// the parent's strict decoder gives back byte for byte, however TCP cuts the stream.
    #[test]
    fn lz4_round_trip_over_random_splits(
        blocks in prop::collection::vec(block(), 1..24),
        cuts in prop::collection::vec(1usize..6000, 1..64),
    ) {
        let mut c = Compressor::new();
        let mut wire = Vec::new();
        let mut plain = Vec::new();
        for b in &blocks {
            c.compress(b, &mut wire).map_err(TestCaseError::fail)?;
            plain.extend_from_slice(b);
        }
        let mut d = Decompressor::strict(MAX_BLOCK_OUTPUT);
        let mut out = Vec::new();
        let mut rest = &wire[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = cuts[i % cuts.len()].min(rest.len());
            d.feed_blocks(&rest[..n], |b| {
                out.extend_from_slice(b);
                Ok(())
            }).map_err(TestCaseError::fail)?;
            rest = &rest[n..];
            i += 1;
        }
        prop_assert_eq!(out.len(), plain.len());
        prop_assert!(out == plain, "decoded plaintext differs");
    }
}

// ---- storage numbers --------------------------------------------------------------------

/// Finite values over the whole range, with extra weight near the documented boundaries.
fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        (-1e-6f64..1e-6),
        (-1000f64..1000.0),
        (-1.6e14f64..1.6e14),
        (0.1f64..0.2),
        (any::<bool>(), 1e13f64..1.7e14).prop_map(|(neg, v)| if neg { -v } else { v }),
        (any::<bool>(), 1e21f64..1e300).prop_map(|(neg, v)| if neg { -v } else { v }),
    ]
}

proptest! {
    #![proptest_config(config(4000))]

    /// The guarantees of `src/db/number.rs`: relative error about 3e-7 in [0.168, 1.6e14],
    /// absolute error 5e-8 below, saturation above ~1.6e21; flags and sign preserved; the
    /// raw word round-trips.
    #[test]
    fn storage_numbers_unpack_within_the_documented_precision(v in finite(), reset in any::<bool>()) {
        let n = StorageNumber::pack(v, reset);
        prop_assert!(!n.is_empty(), "a finite value is stored");
        prop_assert_eq!(n.is_reset(), reset);
        prop_assert_eq!(StorageNumber::from_bits(n.to_bits()), n);
        let got = n.value().expect("a stored value");
        let a = v.abs();
        if (0.168..=1.6e14).contains(&a) {
            let rel = (got - v).abs() / a;
            prop_assert!(rel <= 3.0e-7, "{v} → {got}: relative error {rel:e}");
        } else if a < 0.168 {
            prop_assert!((got - v).abs() <= 5.0e-8 * (1.0 + 1e-9), "{v} → {got}");
        } else if a > 1.7e21 {
            let max = 16_777_215.0 * 1e14;
            prop_assert_eq!(got.abs(), max, "saturates");
        }
        if got != 0.0 {
            prop_assert_eq!(got.is_sign_negative(), v.is_sign_negative());
        }
    }

    /// NaN and the infinities are the empty slot, whatever the reset flag.
    #[test]
    fn storage_numbers_non_finite_is_empty(reset in any::<bool>(), which in 0..3) {
        let v = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][which as usize];
        prop_assert_eq!(StorageNumber::pack(v, reset), StorageNumber::EMPTY);
        prop_assert!(StorageNumber::pack(v, reset).value().is_none());
    }
}

// ---- the line protocol: protocol::emit ↔ protocol ----------------------------------------

/// What a value becomes on the wire: `quoted` has no escaping, so `"` becomes `'` and
/// control characters become spaces…
fn wire(s: &str) -> String {
    let mut w: String = s
        .chars()
        .map(|c| {
            if c == '"' {
                '\''
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    // …and a backslash that would escape the closing quote is dropped.
    if w.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1 {
        w.pop();
    }
    w
}

/// Text a collector or a child could put in a title, a family, a label value…: printable
/// ASCII with the protocol's own quotes, separators and backslashes, some UTF-8, controls.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::char::range(' ', '~'),
            1 => prop::sample::select(vec!['"', '\'', '\\', '=', '\t', '\n', '\r', 'é', '€', '𝄞', '\u{7f}']),
        ],
        0..24,
    )
    .prop_map(|v| v.into_iter().collect())
}

/// An id word: what Netdata allows in ids (no separators or quotes), never empty.
fn id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_][a-zA-Z0-9_:/@+-]{0,15}"
}

#[derive(Debug, Clone)]
struct Dim {
    id: String,
    name: String,
    algorithm: Algorithm,
    multiplier: i64,
    divisor: i64,
    options: DimensionOptions,
    values: Vec<Option<i64>>,
}

fn dimension(points: usize) -> impl Strategy<Value = Dim> {
    (
        id(),
        prop_oneof![Just(String::new()), text()],
        prop::sample::select(vec![
            Algorithm::Absolute,
            Algorithm::Incremental,
            Algorithm::PercentageOfAbsoluteRow,
            Algorithm::PercentageOfIncrementalRow,
        ]),
        prop_oneof![Just(1i64), -1_000_000i64..1_000_000],
        prop_oneof![Just(1i64), -1_000_000i64..1_000_000],
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::collection::vec(prop::option::weighted(0.9, -(1i64 << 40)..(1i64 << 40)), points),
    )
        .prop_map(|(id, name, algorithm, multiplier, divisor, (obsolete, hidden, noreset), values)| {
            Dim {
                name: if name.is_empty() { id.clone() } else { name },
                id,
                algorithm,
                multiplier: if multiplier == 0 { 1 } else { multiplier },
                divisor: if divisor == 0 { 1 } else { divisor },
                options: DimensionOptions { obsolete, hidden, noreset },
                values,
            }
        })
}

#[derive(Debug, Clone)]
struct Def {
    meta: ChartMeta,
    dims: Vec<Dim>,
}

const POINTS: usize = 6;

fn chart() -> impl Strategy<Value = Def> {
    (
        ("[a-z][a-z0-9_]{0,8}", id(), prop::option::of("[a-zA-Z0-9_][a-zA-Z0-9_-]{0,10}")),
        (text(), text(), text(), text()),
        (
            prop::sample::select(vec![ChartType::Line, ChartType::Area, ChartType::Stacked]),
            any::<i64>(),
            1u32..=3600,
        ),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        (text(), text()),
        prop::collection::vec((id(), text(), 0u32..=0x3fff_ffff), 0..4),
        prop::collection::vec(dimension(POINTS), 1..6),
    )
        .prop_map(
            |(
                (type_, id, name),
                (title, units, family, context),
                (chart_type, priority, update_every),
                (obsolete, detail, store_first, hidden),
                (plugin, module),
                labels,
                dims,
            )| {
                let mut meta = ChartMeta::new(&type_, &id)
                    .title(&title)
                    .units(&units)
                    .family(&family)
                    .context(&context)
                    .chart_type(chart_type)
                    .priority(priority)
                    .update_every(update_every);
                if let Some(n) = name.filter(|n| *n != id) {
                    meta.name = format!("{type_}.{n}");
                }
                meta.options = ChartOptions { obsolete, detail, store_first, hidden };
                meta.plugin = plugin;
                meta.module = module;
                meta.labels =
                    labels.into_iter().map(|(name, value, source)| Label { name, value, source }).collect();
                // Dimension ids are unique within a chart.
                let mut seen = std::collections::HashSet::new();
                let dims = dims.into_iter().filter(|d| seen.insert(d.id.clone())).collect();
                Def { meta, dims }
            },
        )
}

/// Writes what the sender would for each collection (the last one is kept).
#[derive(Default)]
struct Recorder(Mutex<(String, u64)>);

impl Observer for Recorder {
    fn collected(&self, chart: &ChartView<'_>, _: &mut StreamState) {
        if let Ok(mut last) = self.0.lock() {
            let usec = chart.usec_since_last_update();
            last.0.clear();
            emit::data(&mut last.0, chart, usec);
            last.1 = usec;
        }
    }
}

fn parse(line: &str) -> Command<'_> {
    let w = Words::split(line);
    Command::parse(&w).unwrap_or_else(|e| panic!("{line:?} does not parse: {e}"))
}

proptest! {
    #![proptest_config(config(200))]

    /// A chart's definition, one collection and a replication answer, as a child writes
    /// them, parse back to the same values (up to what the wire cannot carry: `"` and
    /// control characters).
    #[test]
    fn protocol_write_then_parse_gives_the_same_chart(def in chart()) {
        const T0: i64 = 1_700_000_000;
        let host = Host::new("g", "h", HostSettings { history: 32, ..HostSettings::default() });
        let c = host.chart_define(def.meta.clone());
        for d in &def.dims {
            c.dimension(DimensionMeta {
                id: d.id.clone(),
                name: d.name.clone(),
                algorithm: d.algorithm,
                multiplier: d.multiplier,
                divisor: d.divisor,
                options: d.options,
            });
        }
        let recorder = Arc::new(Recorder::default());
        host.set_observer(Some(Arc::clone(&recorder) as Arc<dyn Observer>));
        let ue = i64::from(def.meta.update_every);
        for p in 0..POINTS {
            let t = T0 + p as i64 * ue;
            let mut col = c.begin(t as u64 * 1_000_000, if p == 0 { 0 } else { ue as u64 * 1_000_000 }, true);
            for (i, d) in def.dims.iter().enumerate() {
                if let Some(v) = d.values[p] {
                    col.set(i, v);
                }
            }
            col.end();
        }
        let meta = c.meta();
        let now = T0 + POINTS as i64 * ue;

        // CHART, CLABEL…, DIMENSION…, CHART_DEFINITION_END
        let mut out = String::new();
        c.with_view(|v, _| emit::definition(&mut out, v, Caps(16320), now));
        let mut lines = out.lines();
        let line = lines.next().unwrap_or_default();
        let Command::Chart(cd) = parse(line) else { panic!("not a CHART: {line}") };
        prop_assert_eq!(cd.full_id(), meta.id.clone());
        let expect_name = (meta.name != meta.id).then(|| meta.name.split_once('.').map_or(meta.name.as_str(), |(_, n)| n));
        prop_assert_eq!(cd.name, expect_name, "name in {}", line);
        prop_assert_eq!(cd.title, wire(&meta.title), "title in {}", line);
        prop_assert_eq!(cd.units.unwrap_or(""), wire(&meta.units), "units in {}", line);
        prop_assert_eq!(cd.family.unwrap_or(""), wire(&meta.family), "family in {}", line);
        prop_assert_eq!(cd.context.unwrap_or(""), wire(&meta.context), "context in {}", line);
        prop_assert_eq!(cd.chart_type, meta.chart_type);
        prop_assert_eq!(cd.priority, meta.priority);
        prop_assert_eq!(cd.update_every, meta.update_every);
        prop_assert_eq!(cd.options.unwrap_or_default(), meta.options);
        prop_assert_eq!(cd.plugin.unwrap_or(""), wire(&meta.plugin), "plugin in {}", line);
        prop_assert_eq!(cd.module.unwrap_or(""), wire(&meta.module), "module in {}", line);
        for l in &meta.labels {
            let line = lines.next().unwrap_or_default();
            let Command::Clabel { name, value, source } = parse(line) else { panic!("not a CLABEL: {line}") };
            prop_assert_eq!((name.to_owned(), value.to_owned(), source), (wire(&l.name), wire(&l.value), l.source), "{}", line);
        }
        if !meta.labels.is_empty() {
            prop_assert!(matches!(parse(lines.next().unwrap_or_default()), Command::ClabelCommit));
        }
        for d in c.dimensions() {
            let line = lines.next().unwrap_or_default();
            let Command::Dimension(dd) = parse(line) else { panic!("not a DIMENSION: {line}") };
            prop_assert_eq!(dd.id, wire(&d.id), "id in {}", line);
            // An empty name defaults to the id.
            let name = Some(wire(&d.name)).filter(|n| !n.is_empty()).unwrap_or_else(|| wire(&d.id));
            prop_assert_eq!(dd.name, name, "name in {}", line);
            prop_assert_eq!(dd.algorithm, d.algorithm);
            prop_assert_eq!((dd.multiplier, dd.divisor), (d.multiplier, d.divisor));
            prop_assert_eq!(dd.options, d.options);
        }
        let line = lines.next().unwrap_or_default();
        let Command::ChartDefinitionEnd { first_entry_t, last_entry_t, child_now_t } = parse(line) else {
            panic!("not a CHART_DEFINITION_END: {line}")
        };
        let (first, last) = c.with_view(|v, _| emit::retention(v, now));
        prop_assert_eq!((first_entry_t, last_entry_t, child_now_t), (first, last, Some(now)));
        prop_assert_eq!(lines.next(), None);

        // BEGIN, SET… (the dimensions set in the last collection), END: written while the
        // collection completes, as the sender does.
        let (out, usec_sent) = recorder.0.lock().map_err(|_| TestCaseError::fail("poisoned"))?.clone();
        let mut lines = out.lines();
        let line = lines.next().unwrap_or_default();
        let Command::Begin { chart, usec } = parse(line) else { panic!("not a BEGIN: {line}") };
        prop_assert_eq!((chart, usec), (meta.id.as_str(), usec_sent));
        for (i, d) in def.dims.iter().enumerate().filter(|(_, d)| d.values[POINTS - 1].is_some()) {
            let line = lines.next().unwrap_or_default();
            let Command::Set { dim, value } = parse(line) else { panic!("not a SET: {line}") };
            prop_assert_eq!((dim.to_owned(), value), (wire(&c.dimensions()[i].id), d.values[POINTS - 1]), "{}", line);
        }
        prop_assert!(matches!(parse(lines.next().unwrap_or_default()), Command::End));
        prop_assert_eq!(lines.next(), None);

        // RBEGIN, (RBEGIN '', RSET…)…, RDSTATE…, RSSTATE, REND
        let req = ReplayChart { chart: meta.id.clone(), start_streaming: true, after: T0 - 10 * ue, before: now };
        let mut out = String::new();
        let enabled = c.with_view(|v, _| emit::replay(&mut out, v, &req, now, 1000));
        let mut lines = out.lines().peekable();
        let line = lines.next().unwrap_or_default();
        let Command::ReplayBegin { chart, .. } = parse(line) else { panic!("not an RBEGIN: {line}") };
        prop_assert_eq!(chart, Some(meta.id.as_str()));
        let mut points = 0;
        while lines.peek().is_some_and(|l| l.starts_with("RBEGIN ''")) {
            let line = lines.next().unwrap_or_default();
            let Command::ReplayBegin { chart: None, start_t, end_t, child_now_t } = parse(line) else {
                panic!("not a point's RBEGIN: {line}")
            };
            prop_assert_eq!((end_t - start_t, child_now_t), (ue, Some(now)));
            for i in 0..c.dimension_count() {
                let line = lines.next().unwrap_or_default();
                let Command::ReplaySet { dim, value, flags } = parse(line) else { panic!("not an RSET: {line}") };
                prop_assert_eq!(dim, wire(&c.dimensions()[i].id));
                let p = c.with_view(|v, _| v.point(i, end_t));
                match p.value {
                    Some(want) => {
                        prop_assert!((value - want).abs() <= 5e-8 + want.abs() * 1e-15, "{line}: {value} vs {want}");
                        prop_assert_eq!(flags, if p.reset { "R" } else { "" });
                    }
                    None => prop_assert!(value.is_nan() && flags == "E", "{}", line),
                }
            }
            points += 1;
        }
        prop_assert!(points >= 1, "a replication answer with data has points:\n{}", out);
        if enabled {
            for i in 0..c.dimension_count() {
                let line = lines.next().unwrap_or_default();
                let Command::ReplayDimensionState { dim, .. } = parse(line) else { panic!("not an RDSTATE: {line}") };
                prop_assert_eq!(dim, wire(&c.dimensions()[i].id));
            }
            let line = lines.next().unwrap_or_default();
            prop_assert!(matches!(parse(line), Command::ReplayChartState { .. }), "{}", line);
        }
        let line = lines.next().unwrap_or_default();
        let Command::ReplayEnd { update_every, first_entry_t, last_entry_t, start_streaming, after, child_now_t, .. } =
            parse(line) else { panic!("not an REND: {line}") };
        prop_assert_eq!((update_every, first_entry_t, last_entry_t), (meta.update_every, first, last));
        prop_assert_eq!((start_streaming, after, child_now_t), (enabled, req.after, Some(now)));
        prop_assert_eq!(lines.next(), None);
    }
}

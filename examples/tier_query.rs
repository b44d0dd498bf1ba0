//! Times the per-minute tier query of the storage bench without the network: one chart of
//! 10 dimensions in a `dbengine` store (the bench's budgets: 8192/4096/2048 MB for 3000
//! dimensions, tiers every 60 and 3600 s), a day of 1 s values (3 zero, 2 steady, 3 random
//! integers, 2 random thousandths), then `REPS` runs of `after=-86400&points=1440&tier=1` and
//! of the same without `tier=`, then the first rendered as the API's JSON, each printed as the median and least µs per query:
//! `cargo run --release --example tier_query -- [REPS] [SECONDS] [tier1|default|json]`.
//! The store lives in a temporary directory, removed at the end.

// Benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::time::Instant;

use nanodata::db::{MemoryMode, PlanOptions, TierPlan};
use nanodata::query::{run, Request, Target};
use nanodata::rng::Rng;
use nanodata::rrd::{ChartMeta, DimensionMeta, Host, HostSettings};

const DIMS: usize = 10;
const MB: u64 = 1 << 20;

fn main() {
    let mut args = std::env::args().skip(1);
    let reps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let seconds: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(86_400);
    // `tier1` or `default`: only that query (for a profile).
    let only = args.next();
    let dir = std::env::temp_dir().join(format!("nanodata-tier-query-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let options = PlanOptions {
        tiers: 3,
        iterations: vec![60, 60],
        retention: 3600,
        retention_secs: vec![None; 3],
        budget_bytes: Some(vec![8192 * MB, 4096 * MB, 2048 * MB]),
        expected_dimensions: 3000,
    };
    let settings = HostSettings {
        mode: MemoryMode::Dbengine,
        history: 3600,
        cache_dir: dir.clone(),
        tiers: Some(Arc::new(TierPlan::new(options, 0))),
        ..HostSettings::default()
    };
    let host = Host::new("11111111-2222-3333-4444-000000000000", "load0", settings);
    let chart = host.chart_define(ChartMeta::new("load", "c0").update_every(1));
    for d in 0..DIMS {
        chart.dimension(DimensionMeta::new(&format!("d{d}")));
    }
    // The end of the day on a whole hour, so the tiers' spans are whole.
    let now: i64 = 1_700_000_000 / 3600 * 3600;
    let start = now - seconds + 1;
    let mut rng = Rng::new(17);
    let fill = Instant::now();
    for t in start..=now {
        for d in 0..DIMS {
            let v = match d {
                0..=2 => 0.0,
                3..=4 => 100.0 * d as f64,
                5..=7 => rng.below(1000) as f64,
                _ => rng.below(1_000_000) as f64 / 1000.0,
            };
            chart.store_point(d, t, v, false);
        }
    }
    eprintln!("stored {} s × {DIMS} dims in {:.1} s", seconds, fill.elapsed().as_secs_f64());
    let target = Target::Chart("load.c0".into());
    for (label, tier) in [("after=-86400&points=1440&tier=1", Some(1)), ("after=-86400&points=1440", None)] {
        if only.as_deref().is_some_and(|o| o == "json" || (o == "tier1") != tier.is_some()) {
            continue;
        }
        let req = Request { after: -86_400, before: 0, points: 1440, tier, ..Request::default() };
        let rows = run(&host, &target, &req, now).expect("answered");
        let filled = rows.values.iter().filter(|r| r.iter().any(Option::is_some)).count();
        let (median, min) = timed(reps, || run(&host, &target, &req, now).expect("answered"));
        println!(
            "{label}: tier {} rows {} (filled {filled}) db_points {:?}: median {median:.0} µs, min {min:.0} µs ({reps} runs)",
            rows.tier,
            rows.times.len(),
            rows.db_points_per_tier,
        );
    }
    // The same with the JSON the API writes (what the storage bench times, less HTTP).
    #[cfg(feature = "web")]
    if only.as_deref().is_none_or(|o| o == "json") {
        use nanodata::web::api::data::{render, run as run_data, DataQuery};
        let pairs: Vec<(String, String)> =
            [("chart", "load.c0"), ("after", "-86400"), ("points", "1440"), ("tier", "1")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let q = DataQuery::parse(&pairs).expect("a valid query");
        let (median, min) = timed(reps, || {
            let rows = run_data(&host, &q, now).expect("answered");
            render(&q, "load.c0", "load.c0", &rows)
        });
        println!(
            "after=-86400&points=1440&tier=1 rendered as JSON: median {median:.0} µs, min {min:.0} µs ({reps} runs)"
        );
    }
    drop(chart);
    drop(host);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `f` `reps` times (at least once): the median and the least µs a run took.
fn timed<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    let mut us: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let t0 = Instant::now();
            std::hint::black_box(f());
            t0.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    us.sort_by(f64::total_cmp);
    (us[us.len() / 2], us[0])
}

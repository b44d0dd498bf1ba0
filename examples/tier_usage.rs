//! What the upper tiers of a database directory hold: per tier, the points retained, the
//! bytes of the archive records, and so the bytes per archived point (the storage bench's
//! measure of nanodata's compressed tiers). Reads at most `max` dimension files of
//! `<cache dir>/<host>/<chart>/<dim>.db`:
//! `cargo run --release --example tier_usage -- CACHE_DIR [max]`.

use std::path::PathBuf;

use nanodata::db::{read_file_tier, tier_file_usage};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: tier_usage CACHE_DIR [max files]");
        std::process::exit(2);
    };
    let max: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let mut files = Vec::new();
    for host in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        for chart in std::fs::read_dir(host.path()).into_iter().flatten().flatten() {
            for dim in std::fs::read_dir(chart.path()).into_iter().flatten().flatten() {
                if dim.file_name().as_encoded_bytes().ends_with(b".db") && files.len() < max {
                    files.push(dim.path());
                }
            }
        }
    }
    println!("| tier | files | points retained | in the rings | archived | archive bytes used | bytes per archived point |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for tier in 1..=2 {
        let (mut n, mut retained, mut in_rings, mut used) = (0u64, 0u64, 0u64, 0u64);
        for f in &files {
            let (Ok(Some(u)), Ok(points)) = (tier_file_usage(f, tier), read_file_tier(f, tier)) else {
                continue;
            };
            let kept = points.iter().filter(|p| p.count > 0).count() as u64;
            n += 1;
            retained += kept;
            in_rings += kept.min(u64::from(u.ring_points));
            used += u64::from(u.archive_used);
        }
        let archived = retained - in_rings;
        let per = if archived > 0 { format!("{:.2}", used as f64 / archived as f64) } else { "n/a".into() };
        println!("| {tier} | {n} | {retained} | {in_rings} | {archived} | {used} | {per} |");
    }
}

//! `/proc/pressure/{cpu,memory,io}` (pressure stall information, Linux 4.20+): the share of
//! time tasks waited for a resource over 10, 60 and 300 seconds, and the total stall time.
//!
//! Chart ids, titles, units, families, priorities and dimensions are Netdata 1.37's. The
//! kernel refreshes the averages every 2 seconds, so Netdata (and [`super::start_internal`])
//! collects them no more often than that. A chart appears when its line exists (`full` for
//! CPU only since Linux 5.13).

use std::path::Path;
use std::sync::Arc;

use super::table::PLUGIN;
use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{Algorithm, Chart, ChartMeta, DimensionMeta, Host};

const MODULE: &str = "/proc/pressure";

/// The shortest interval worth collecting at.
pub const MIN_UPDATE_EVERY: u32 = 2;

/// The pressure collector.
pub struct Pressure {
    host: Arc<Host>,
    update_every: u32,
    resources: Vec<Resource>,
}

struct Resource {
    file: ProcFile,
    /// `cpu`, `memory`, `io` (chart ids) with its title word, family and base priority.
    id: &'static str,
    title: &'static str,
    family: &'static str,
    priority: i64,
    /// `some` and `full`: the percentages chart and the stall time chart.
    charts: [Option<(Arc<Chart>, Arc<Chart>)>; 2],
}

const RESOURCES: [(&str, &str, &str, i64); 3] =
    [("cpu", "CPU", "cpu", 140), ("memory", "Memory", "ram", 240), ("io", "I/O", "disk", 190)];
const KINDS: [&str; 2] = ["some", "full"];

impl Pressure {
    /// Reads `proc/pressure/*` below `prefix`.
    pub fn new(host: Arc<Host>, prefix: &Path, update_every: u32) -> Pressure {
        let resources = RESOURCES
            .iter()
            .map(|&(id, title, family, priority)| Resource {
                file: ProcFile::new(prefix.join("proc/pressure").join(id)),
                id,
                title,
                family,
                priority,
                charts: [None, None],
            })
            .collect();
        Pressure { host, update_every: update_every.max(1), resources }
    }
}

impl Collector for Pressure {
    fn name(&self) -> &str {
        "proc.pressure"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let mut i = 0;
        let mut failed = None;
        while i < self.resources.len() {
            let r = &mut self.resources[i];
            // kind → [avg10, avg60, avg300 (×100), total µs]
            let mut lines: [Option<[i64; 4]>; 2] = [None, None];
            match r.file.read() {
                Ok(text) => {
                    for line in text.lines() {
                        let mut words = line.split_ascii_whitespace();
                        let Some(k) = words.next().and_then(|w| KINDS.iter().position(|k| *k == w)) else {
                            continue;
                        };
                        let mut v = [0i64; 4];
                        for w in words {
                            let Some((key, value)) = w.split_once('=') else { continue };
                            match key {
                                "avg10" => v[0] = hundredths(value),
                                "avg60" => v[1] = hundredths(value),
                                "avg300" => v[2] = hundredths(value),
                                "total" => v[3] = parse_i64(value),
                                _ => {}
                            }
                        }
                        lines[k] = Some(v);
                    }
                }
                Err(CollectError::Disabled(why)) => {
                    log::info!("proc.pressure: {why}");
                    self.resources.remove(i);
                    continue;
                }
                Err(e) => failed = Some(e),
            }
            for (k, v) in lines.iter().enumerate() {
                let Some(v) = v else { continue };
                let (pct, stall) = charts(&self.host, r, k, self.update_every);
                let mut c = pct.begin(now_ut, 0, false);
                for (d, x) in v[..3].iter().enumerate() {
                    c.set(d, *x);
                }
                c.end();
                let mut c = stall.begin(now_ut, 0, false);
                c.set(0, v[3] / 1000);
                c.end();
            }
            i += 1;
        }
        if self.resources.is_empty() {
            return Err(CollectError::Disabled("no /proc/pressure files".into()));
        }
        failed.map_or(Ok(()), Err)
    }
}

/// The charts of `kind` of resource `r`, created on first use.
fn charts(host: &Host, r: &mut Resource, kind: usize, update_every: u32) -> (Arc<Chart>, Arc<Chart>) {
    if let Some((a, b)) = &r.charts[kind] {
        return (Arc::clone(a), Arc::clone(b));
    }
    let k = KINDS[kind];
    let priority = r.priority + 10 * kind as i64;
    let define = |suffix: &str, title: &str, units: &str, priority: i64| {
        let id = format!("{}_{k}_pressure{suffix}", r.id);
        host.chart_define(
            ChartMeta::new("system", &id)
                .title(title)
                .units(units)
                .family(r.family)
                .context(&format!("system.{id}"))
                .priority(priority)
                .update_every(update_every)
                .source(PLUGIN, MODULE),
        )
    };
    let pct = define("", &format!("{} {k} pressure", r.title), "percentage", priority);
    for window in ["10", "60", "300"] {
        pct.dimension(DimensionMeta::new(&format!("{k} {window}")).scale(1, 100));
    }
    let stall = define("_stall_time", &format!("{} {k} pressure stall time", r.title), "ms", priority + 5);
    stall.dimension(DimensionMeta::new("time").algorithm(Algorithm::Incremental));
    r.charts[kind] = Some((Arc::clone(&pct), Arc::clone(&stall)));
    (pct, stall)
}

/// `28.32` → 2832 (two decimals, as the kernel prints them).
fn hundredths(word: &str) -> i64 {
    let (int, frac) = word.split_once('.').unwrap_or((word, ""));
    let mut f =
        frac.bytes()
            .take(2)
            .fold(0i64, |a, b| if b.is_ascii_digit() { a * 10 + i64::from(b - b'0') } else { a });
    if frac.len() == 1 {
        f *= 10;
    }
    parse_i64(int) * 100 + f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::table::tests::{approx, fixture, host, last, scratch, T0};

    #[test]
    fn charts_match_netdata() {
        let dir = scratch("pressure");
        let p = dir.join("proc/pressure");
        std::fs::create_dir_all(&p).unwrap();
        let host = host();
        let mut c = Pressure::new(Arc::clone(&host), &dir, 2);
        for (i, n) in ["1", "2", "3"].iter().enumerate() {
            std::fs::copy(fixture(&format!("proc/pressure_cpu.{n}")), p.join("cpu")).unwrap();
            std::fs::copy(fixture("proc/pressure_io.real-x86_64"), p.join("io")).unwrap();
            c.collect(T0 + i as u64 * 2_000_000).unwrap();
        }
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(
            ids,
            [
                "system.cpu_some_pressure",
                "system.cpu_some_pressure_stall_time",
                "system.io_some_pressure",
                "system.io_some_pressure_stall_time",
                "system.io_full_pressure",
                "system.io_full_pressure_stall_time",
            ],
            "an old kernel without cpu full; no memory file"
        );
        let m = host.chart("system.io_full_pressure").unwrap().meta();
        assert_eq!(
            (m.title.as_str(), m.family.as_str(), m.priority, m.update_every),
            ("I/O full pressure", "disk", 200, 2)
        );
        assert_eq!(host.chart("system.cpu_some_pressure_stall_time").unwrap().meta().priority, 145);
        assert!(approx(last(&host, "system.cpu_some_pressure", "some 10"), 12.5));
        // total +100000 µs per 2 s = 50 ms/s.
        assert!(approx(last(&host, "system.cpu_some_pressure_stall_time", "time"), 50.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn decimals() {
        assert_eq!(hundredths("28.32"), 2832);
        assert_eq!(hundredths("0.00"), 0);
        assert_eq!(hundredths("1.5"), 150);
        assert_eq!(hundredths("100"), 10000);
    }

    #[test]
    fn no_psi_disables() {
        let mut c = Pressure::new(host(), Path::new("/nonexistent"), 2);
        assert!(matches!(c.collect(T0), Err(CollectError::Disabled(_))));
    }
}

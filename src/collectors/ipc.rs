//! System V IPC: the semaphores and shared memory segments in use, from `/proc/sysvipc/sem`
//! and `/proc/sysvipc/shm`.
//!
//! The charts are Netdata 1.37's `ipc` module: `system.ipc_semaphores` (the semaphores of
//! all sets), `system.ipc_semaphore_arrays` (the sets), `system.shared_memory_segments` and
//! `system.shared_memory_bytes` (their `size`s). Netdata asks `semctl(SEM_INFO)` for the
//! semaphores; the table in `/proc` holds the same numbers for the same IPC namespace.
//! Netdata's message-queue charts (only drawn while queues exist) and its
//! `ipc_semaphores_max`/`ipc_semaphores_arrays_max` host variables are not made: nanodata
//! has no host variables yet.
//!
//! Columns are found by their names in the header line; a row narrower than the header, or
//! whose counted column is not a number, is not counted. A missing table is dropped with a
//! log line; with both missing (a kernel without SysV IPC) the collector disables itself.

use std::path::PathBuf;
use std::sync::Arc;

use super::table::PLUGIN;
use super::{parse_u64, CollectError, Collector, ProcFile};
use crate::rrd::{Chart, ChartMeta, ChartType, DimensionMeta, Host};

pub const MODULE: &str = "ipc";

/// The System V IPC collector.
pub struct Ipc {
    host: Arc<Host>,
    update_every: u32,
    tables: Vec<Table>,
    /// Collected at least once.
    started: bool,
}

struct Table {
    file: ProcFile,
    kind: &'static Kind,
    /// The charts of `kind.charts`, defined at the first good reading.
    charts: Option<[Arc<Chart>; 2]>,
    /// The file is gone: not read any more.
    dropped: bool,
}

/// One `/proc/sysvipc` table: the column summed, and its charts in the order Netdata
/// defines them.
struct Kind {
    column: &'static str,
    charts: [Spec; 2],
}

/// What a chart shows of its table.
#[derive(Clone, Copy)]
enum Count {
    /// The sum of the table's column.
    Sum,
    /// The number of rows.
    Rows,
}

/// A chart of one absolute dimension.
struct Spec {
    count: Count,
    id: &'static str,
    title: &'static str,
    units: &'static str,
    family: &'static str,
    chart_type: ChartType,
    priority: i64,
    dim: &'static str,
}

static SEM: Kind = Kind {
    column: "nsems",
    charts: [
        Spec {
            count: Count::Sum,
            id: "ipc_semaphores",
            title: "IPC Semaphores",
            units: "semaphores",
            family: "ipc semaphores",
            chart_type: ChartType::Area,
            priority: 1203,
            dim: "semaphores",
        },
        Spec {
            count: Count::Rows,
            id: "ipc_semaphore_arrays",
            title: "IPC Semaphore Arrays",
            units: "arrays",
            family: "ipc semaphores",
            chart_type: ChartType::Area,
            priority: 1204,
            dim: "arrays",
        },
    ],
};

static SHM: Kind = Kind {
    column: "size",
    charts: [
        Spec {
            count: Count::Rows,
            id: "shared_memory_segments",
            title: "IPC Shared Memory Number of Segments",
            units: "segments",
            family: "ipc shared memory",
            chart_type: ChartType::Stacked,
            priority: 1205,
            dim: "segments",
        },
        Spec {
            count: Count::Sum,
            id: "shared_memory_bytes",
            title: "IPC Shared Memory Used Bytes",
            units: "bytes",
            family: "ipc shared memory",
            chart_type: ChartType::Stacked,
            priority: 1206,
            dim: "bytes",
        },
    ],
};

impl Ipc {
    /// `sem` and `shm` are normally `/proc/sysvipc/sem` and `/proc/sysvipc/shm`.
    pub fn new(host: Arc<Host>, sem: impl Into<PathBuf>, shm: impl Into<PathBuf>, update_every: u32) -> Ipc {
        let table =
            |path: PathBuf, kind| Table { file: ProcFile::new(path), kind, charts: None, dropped: false };
        Ipc {
            host,
            update_every: update_every.max(1),
            tables: vec![table(sem.into(), &SEM), table(shm.into(), &SHM)],
            started: false,
        }
    }
}

impl Collector for Ipc {
    fn name(&self) -> &str {
        "proc.ipc"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        if !self.started {
            self.started = true;
            if self.tables.iter().all(|t| !t.file.path().exists()) {
                return Err(CollectError::Disabled(
                    "no /proc/sysvipc tables (a kernel without SysV IPC)".into(),
                ));
            }
        }
        let mut failed = None;
        for t in &mut self.tables {
            let (rows, sum) = match t.file.read() {
                Ok(text) => match tally(text, t.kind.column) {
                    Some(v) => v,
                    None => {
                        let path = t.file.path().display();
                        failed =
                            Some(CollectError::Failed(format!("{path} has no {} column", t.kind.column)));
                        continue;
                    }
                },
                Err(CollectError::Disabled(why)) => {
                    log::info!("proc.ipc: {why}; not reading it any more");
                    t.dropped = true;
                    continue;
                }
                Err(e) => {
                    failed = Some(e);
                    continue;
                }
            };
            let charts = t.charts.get_or_insert_with(|| {
                t.kind.charts.each_ref().map(|spec| define(&self.host, spec, self.update_every))
            });
            for (chart, spec) in charts.iter().zip(&t.kind.charts) {
                let value = match spec.count {
                    Count::Sum => sum,
                    Count::Rows => rows,
                };
                let mut c = chart.begin(now_ut, 0, false);
                c.set(0, value as i64);
                c.end();
            }
        }
        self.tables.retain(|t| !t.dropped);
        if self.tables.is_empty() {
            return Err(CollectError::Disabled("no /proc/sysvipc table is left".into()));
        }
        failed.map_or(Ok(()), Err)
    }
}

/// The rows of a `/proc/sysvipc` table and the sum of its column `column`; `None` when the
/// header has no such column.
fn tally(text: &str, column: &str) -> Option<(u64, u64)> {
    let mut lines = text.lines();
    let header = lines.next()?;
    let width = header.split_ascii_whitespace().count();
    let at = header.split_ascii_whitespace().position(|w| w == column)?;
    let (mut rows, mut sum) = (0u64, 0u64);
    for line in lines {
        // Netdata also skips rows narrower than the table (it wants all 16 of `shm`).
        if line.split_ascii_whitespace().count() < width {
            continue;
        }
        let Some(value) = line.split_ascii_whitespace().nth(at) else { continue };
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        rows += 1;
        sum = sum.wrapping_add(parse_u64(value));
    }
    Some((rows, sum))
}

fn define(host: &Host, spec: &Spec, update_every: u32) -> Arc<Chart> {
    let chart = host.chart_define(
        ChartMeta::new("system", spec.id)
            .title(spec.title)
            .units(spec.units)
            .family(spec.family)
            .chart_type(spec.chart_type)
            .priority(spec.priority)
            .update_every(update_every)
            .source(PLUGIN, MODULE),
    );
    chart.dimension(DimensionMeta::new(spec.dim));
    chart
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::USEC_PER_SEC;
    use crate::collectors::testing::{host, last, Scratch, T0};
    use crate::rrd::Algorithm;

    /// An `Ipc` over `<scratch>/sem` and `<scratch>/shm`.
    fn ipc(host: &Arc<Host>, s: &Scratch) -> Ipc {
        Ipc::new(Arc::clone(host), s.path("sem"), s.path("shm"), 1)
    }

    /// Stages `sysvipc/sem<suffix>` and `sysvipc/shm<suffix>`, then collects at `t`.
    fn tick(c: &mut Ipc, s: &Scratch, suffix: &str, t: u64) -> Result<(), CollectError> {
        s.stage(&format!("sysvipc/sem{suffix}"), "sem");
        s.stage(&format!("sysvipc/shm{suffix}"), "shm");
        c.collect(t)
    }

    fn value(host: &Host, chart: &str) -> f64 {
        last(&host.chart(chart).unwrap(), 0)
    }

    fn collected(host: &Host, chart: &str) -> i64 {
        host.chart(chart).unwrap().with_view(|v, _| v.dimensions().next().unwrap().last_collected_value())
    }

    #[test]
    fn charts_match_netdata_and_follow_the_tables() {
        let s = Scratch::new("ipc");
        let host = host();
        let mut c = ipc(&host, &s);
        tick(&mut c, &s, "", T0).unwrap();
        assert_eq!(collected(&host, "system.ipc_semaphores"), 5, "4 + 1");
        assert_eq!(collected(&host, "system.ipc_semaphore_arrays"), 2);
        assert_eq!(collected(&host, "system.shared_memory_segments"), 2);
        assert_eq!(collected(&host, "system.shared_memory_bytes"), 1_048_576 + 65_536);
        tick(&mut c, &s, ".2", T0 + USEC_PER_SEC).unwrap();
        tick(&mut c, &s, ".2", T0 + 2 * USEC_PER_SEC).unwrap();
        assert_eq!(value(&host, "system.ipc_semaphores"), 22.0, "4 + 1 + 17");
        assert_eq!(value(&host, "system.ipc_semaphore_arrays"), 3.0);
        assert_eq!(value(&host, "system.shared_memory_segments"), 3.0);
        assert_eq!(collected(&host, "system.shared_memory_bytes"), 34_668_544);
        // Stored as Netdata stores numbers: to about seven digits.
        assert!((value(&host, "system.shared_memory_bytes") / 34_668_544.0 - 1.0).abs() < 1e-6);

        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(
            ids,
            [
                "system.ipc_semaphores",
                "system.ipc_semaphore_arrays",
                "system.shared_memory_segments",
                "system.shared_memory_bytes"
            ]
        );
        for (id, title, units, family, chart_type, priority, dim) in [
            (
                "system.ipc_semaphores",
                "IPC Semaphores",
                "semaphores",
                "ipc semaphores",
                ChartType::Area,
                1203,
                "semaphores",
            ),
            (
                "system.ipc_semaphore_arrays",
                "IPC Semaphore Arrays",
                "arrays",
                "ipc semaphores",
                ChartType::Area,
                1204,
                "arrays",
            ),
            (
                "system.shared_memory_segments",
                "IPC Shared Memory Number of Segments",
                "segments",
                "ipc shared memory",
                ChartType::Stacked,
                1205,
                "segments",
            ),
            (
                "system.shared_memory_bytes",
                "IPC Shared Memory Used Bytes",
                "bytes",
                "ipc shared memory",
                ChartType::Stacked,
                1206,
                "bytes",
            ),
        ] {
            let chart = host.chart(id).unwrap();
            let m = chart.meta();
            assert_eq!(
                (m.title.as_str(), m.units.as_str(), m.family.as_str(), m.context.as_str()),
                (title, units, family, id)
            );
            assert_eq!(
                (m.chart_type, m.priority, m.plugin.as_str(), m.module.as_str()),
                (chart_type, priority, PLUGIN, "ipc")
            );
            let dims = chart.dimensions();
            assert_eq!(dims.len(), 1);
            let d = &dims[0];
            assert_eq!(
                (d.id.as_str(), d.name.as_str(), d.algorithm, d.multiplier, d.divisor),
                (dim, dim, Algorithm::Absolute, 1, 1)
            );
        }
    }

    #[test]
    fn malformed_rows_are_not_counted() {
        let s = Scratch::new("ipc-malformed");
        let host = host();
        let mut c = ipc(&host, &s);
        tick(&mut c, &s, ".malformed", T0).unwrap();
        tick(&mut c, &s, ".malformed", T0 + USEC_PER_SEC).unwrap();
        assert_eq!(value(&host, "system.ipc_semaphores"), 22.0);
        assert_eq!(value(&host, "system.ipc_semaphore_arrays"), 3.0);
        assert_eq!(value(&host, "system.shared_memory_segments"), 3.0);
        assert_eq!(collected(&host, "system.shared_memory_bytes"), 34_668_544, "not the cut-off 4096");
    }

    #[test]
    fn no_objects_are_zeros_as_in_the_capture() {
        let s = Scratch::new("ipc-empty");
        let host = host();
        let mut c = ipc(&host, &s);
        tick(&mut c, &s, ".real-x86_64", T0).unwrap();
        tick(&mut c, &s, ".real-x86_64", T0 + USEC_PER_SEC).unwrap();
        for id in ["system.ipc_semaphores", "system.ipc_semaphore_arrays", "system.shared_memory_bytes"] {
            assert_eq!(value(&host, id), 0.0, "{id}");
        }
    }

    #[test]
    fn a_table_without_its_column_fails_the_tick() {
        let s = Scratch::new("ipc-garbage");
        let host = host();
        let mut c = ipc(&host, &s);
        s.stage("sysvipc/sem", "sem");
        s.stage("loadavg.router", "shm");
        assert!(matches!(c.collect(T0), Err(CollectError::Failed(_))));
        assert_eq!(collected(&host, "system.ipc_semaphores"), 5, "the other table is collected");
        assert!(host.chart("system.shared_memory_bytes").is_none());
    }

    #[test]
    fn missing_tables() {
        // Only semaphores: shared memory is dropped, semaphores go on.
        let s = Scratch::new("ipc-sem-only");
        let host = host();
        let mut c = ipc(&host, &s);
        s.stage("sysvipc/sem", "sem");
        c.collect(T0).unwrap();
        c.collect(T0 + USEC_PER_SEC).unwrap();
        assert_eq!(c.tables.len(), 1);
        assert_eq!(value(&host, "system.ipc_semaphores"), 5.0);
        // No SysV IPC at all.
        let mut c = Ipc::new(host, "/nonexistent/sysvipc/sem", "/nonexistent/sysvipc/shm", 1);
        assert!(matches!(c.collect(T0), Err(CollectError::Disabled(_))));
    }
}

//! Clock synchronisation from `adjtimex(2)` (read only), as Netdata 1.37's timex.plugin:
//! `system.clock_sync_state` (1 when the kernel says the clock is synchronised),
//! `system.clock_status` (the `STA_UNSYNC` and `STA_CLOCKERR` flags) and
//! `system.clock_sync_offset` (the offset to the reference clock, milliseconds).
//!
//! A router without a battery-backed clock boots in 1970 and relies on NTP; these charts
//! show whether it got there. One system call per tick, no file.

use std::sync::Arc;

use super::{CollectError, Collector};
use crate::rrd::{Chart, ChartMeta, DimensionMeta, Host};
use crate::sys::time;

const PLUGIN: &str = "timex.plugin";

/// What one `adjtimex` call said.
pub use crate::sys::time::ClockState as Reading;

/// Where readings come from (the system call, or a test's sequence).
pub type Source = Box<dyn FnMut() -> Result<Reading, String> + Send>;

/// The collector.
pub struct Timex {
    host: Arc<Host>,
    source: Source,
    update_every: u32,
    sync: bool,
    offset: bool,
    charts: Option<Charts>,
    failed_before: bool,
}

struct Charts {
    state: Option<Arc<Chart>>,
    status: Option<Arc<Chart>>,
    offset: Option<(Arc<Chart>, bool)>,
}

impl Timex {
    /// `sync`: the state and status charts (`clock synchronization state`); `offset`: the
    /// offset chart (`time offset`).
    pub fn new(host: Arc<Host>, source: Source, update_every: u32, sync: bool, offset: bool) -> Timex {
        Timex {
            host,
            source,
            update_every: update_every.max(1),
            sync,
            offset,
            charts: None,
            failed_before: false,
        }
    }

    fn meta(&self, id: &str, title: &str, units: &str, priority: i64) -> ChartMeta {
        ChartMeta::new("system", id)
            .title(title)
            .units(units)
            .family("clock synchronization")
            .priority(priority)
            .update_every(self.update_every)
            .source(PLUGIN, "")
    }

    fn define(&self, nano: bool) -> Charts {
        let h = &self.host;
        let state = self.sync.then(|| {
            let c = h.chart_define(self.meta(
                "clock_sync_state",
                "System Clock Synchronization State",
                "state",
                1100,
            ));
            c.dimension(DimensionMeta::new("state"));
            c
        });
        let status = self.sync.then(|| {
            let c = h.chart_define(self.meta("clock_status", "System Clock Status", "status", 1105));
            c.dimension(DimensionMeta::new("unsync"));
            c.dimension(DimensionMeta::new("clockerr"));
            c
        });
        let offset = self.offset.then(|| {
            let c = h.chart_define(self.meta(
                "clock_sync_offset",
                "Computed Time Offset Between Local System and Reference Clock",
                "milliseconds",
                1110,
            ));
            c.dimension(DimensionMeta::new("offset").scale(1, offset_divisor(nano)));
            (c, nano)
        });
        Charts { state, status, offset }
    }
}

fn offset_divisor(nano: bool) -> i64 {
    if nano {
        1_000_000
    } else {
        1_000
    }
}

impl Collector for Timex {
    fn name(&self) -> &str {
        "timex"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let r = match (self.source)() {
            Ok(r) => r,
            // Failing the first time: this system does not let us read the clock.
            Err(e) if self.charts.is_none() && !self.failed_before => {
                return Err(CollectError::Disabled(format!("cannot read the clock state: {e}")))
            }
            Err(e) => {
                self.failed_before = true;
                return Err(CollectError::Failed(format!("cannot read the clock state: {e}")));
            }
        };
        let nano = r.status & time::STA_NANO != 0;
        if self.charts.is_none() {
            self.charts = Some(self.define(nano));
        }
        let Some(charts) = &mut self.charts else { return Ok(()) };
        if let Some(c) = &charts.state {
            let mut c = c.begin(now_ut, 0, false);
            c.set(0, i64::from(r.state != time::TIME_ERROR));
            c.end();
        }
        if let Some(c) = &charts.status {
            let mut c = c.begin(now_ut, 0, false);
            c.set(0, i64::from(r.status & time::STA_UNSYNC != 0));
            c.set(1, i64::from(r.status & time::STA_CLOCKERR != 0));
            c.end();
        }
        if let Some((c, was_nano)) = &mut charts.offset {
            if *was_nano != nano {
                // The kernel switched units (ntpd set or cleared STA_NANO): rescale.
                c.dimension(DimensionMeta::new("offset").scale(1, offset_divisor(nano)));
                *was_nano = nano;
            }
            let mut c = c.begin(now_ut, 0, false);
            c.set(0, r.offset);
            c.end();
        }
        Ok(())
    }
}

/// `adjtimex(2)` with no modes: reads the kernel's clock discipline without changing it.
pub fn adjtimex() -> Result<Reading, String> {
    crate::sys::time::adjtimex().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::USEC_PER_SEC;
    use crate::collectors::testing::{host, last, T0};

    fn sequence(readings: Vec<Result<Reading, String>>) -> Source {
        let mut it = readings.into_iter();
        Box::new(move || it.next().unwrap_or_else(|| Err("no more".into())))
    }

    #[test]
    fn synchronised_then_lost_then_nanoseconds() {
        let host = host();
        let ok = Reading { state: time::TIME_OK, status: time::STA_PLL, offset: -2_500 };
        let lost = Reading { state: time::TIME_ERROR, status: time::STA_UNSYNC, offset: 0 };
        let nano = Reading { state: time::TIME_OK, status: time::STA_NANO, offset: 7_000_000 };
        let mut c =
            Timex::new(Arc::clone(&host), sequence(vec![Ok(ok), Ok(ok), Ok(lost), Ok(nano)]), 1, true, true);
        // The first collection opens the slot; values are stored from the second on.
        c.collect(T0).unwrap();
        c.collect(T0 + USEC_PER_SEC).unwrap();
        let state = host.chart("system.clock_sync_state").unwrap();
        let status = host.chart("system.clock_status").unwrap();
        let offset = host.chart("system.clock_sync_offset").unwrap();
        let m = offset.meta();
        assert_eq!(
            (m.units.as_str(), m.family.as_str(), m.priority, m.plugin.as_str(), m.update_every),
            ("milliseconds", "clock synchronization", 1110, "timex.plugin", 1)
        );
        assert_eq!(last(&state, 0), 1.0);
        assert_eq!((last(&status, 0), last(&status, 1)), (0.0, 0.0));
        assert_eq!(last(&offset, 0), -2.5, "-2500 µs");
        c.collect(T0 + 2 * USEC_PER_SEC).unwrap();
        assert_eq!(last(&state, 0), 0.0);
        assert_eq!(last(&status, 0), 1.0, "unsync flag");
        c.collect(T0 + 3 * USEC_PER_SEC).unwrap();
        assert_eq!(last(&offset, 0), 7.0, "7,000,000 ns with STA_NANO");
        // A failure after readings worked is a failed tick, not the end of the collector.
        assert!(matches!(c.collect(T0 + 4 * USEC_PER_SEC), Err(CollectError::Failed(_))));
    }

    #[test]
    fn a_clock_that_cannot_be_read_disables_the_collector() {
        let host = host();
        let mut c = Timex::new(Arc::clone(&host), sequence(vec![Err("EPERM".into())]), 10, true, true);
        assert!(matches!(c.collect(T0), Err(CollectError::Disabled(_))));
        assert!(host.chart("system.clock_sync_state").is_none());
    }

    #[test]
    fn switches() {
        let host = host();
        let ok = Reading { state: time::TIME_OK, status: 0, offset: 1_000 };
        let mut c = Timex::new(Arc::clone(&host), sequence(vec![Ok(ok), Ok(ok)]), 10, false, true);
        c.collect(T0).unwrap();
        c.collect(T0 + 10 * USEC_PER_SEC).unwrap();
        assert_eq!(host.chart("system.clock_sync_offset").unwrap().meta().update_every, 10);
        assert!(host.chart("system.clock_sync_state").is_none());
        assert!(host.chart("system.clock_status").is_none());
        assert_eq!(last(&host.chart("system.clock_sync_offset").unwrap(), 0), 1.0);
    }

    #[test]
    fn this_system() {
        // Reading the clock needs no privilege; containers allow it too.
        let r = adjtimex().expect("adjtimex");
        assert!((time::TIME_OK..=time::TIME_ERROR).contains(&r.state), "{r:?}");
    }
}

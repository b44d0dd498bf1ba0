//! The storage tiers of this node, charted: `netdata.db_tier_bytes` (bytes of the rings of
//! every alive dimension, per tier: disk for `dbengine`/`map`/`save`, RAM for `ram`) and
//! `netdata.db_tier_retention` (the time each tier of a new one-second dimension keeps at
//! least: a compressed tier keeps more when its data compresses).
//! One pair per plan in use: `dbengine` (budgets) and `tiers` (`storage tiers` on
//! `ram`/`save`/`map`). nanodata's own charts: Netdata 1.37's dbengine charts describe its
//! page cache and datafiles, which nanodata does not have.
//!
//! Reads counters the plans keep as dimensions come and go: no chart is locked, so the cost
//! does not grow with the number of hosts.

use std::sync::Arc;

use super::{CollectError, Collector};
use crate::db::{TierPlan, TierPlans};
use crate::rrd::{Chart, ChartMeta, ChartType, DimensionMeta, Host};

/// One plan: its name in the chart ids, the plan, and its two charts once defined.
type Charted = (&'static str, Arc<TierPlan>, Option<[Arc<Chart>; 2]>);

/// The collector.
pub struct DbTiers {
    host: Arc<Host>,
    update_every: u32,
    /// Per plan: its name, the plan, and its two charts once defined.
    plans: Vec<Charted>,
}

impl DbTiers {
    /// `None` when the node has no tier plan (nothing to chart).
    pub fn new(host: Arc<Host>, plans: &TierPlans, update_every: u32) -> Option<DbTiers> {
        let mut list = Vec::new();
        if let Some(p) = &plans.dbengine {
            list.push(("dbengine", Arc::clone(p), None));
        }
        if let Some(p) = &plans.fixed {
            list.push(("tiers", Arc::clone(p), None));
        }
        (!list.is_empty()).then_some(DbTiers { host, update_every: update_every.max(1), plans: list })
    }

    fn define(&self, name: &str, plan: &TierPlan, priority: i64) -> [Arc<Chart>; 2] {
        let suffix = if name == "dbengine" { String::new() } else { format!("_{name}") };
        let meta = |id: String, title: &str, units: &str, chart_type: ChartType, priority: i64| {
            ChartMeta::new("netdata", &id)
                .title(title)
                .units(units)
                .family("db")
                .context(&format!("netdata.{}", id.trim_end_matches(&suffix)))
                .chart_type(chart_type)
                .priority(priority)
                .update_every(self.update_every)
                .source("netdata", "stats")
        };
        let bytes = self.host.chart_define(meta(
            format!("db_tier_bytes{suffix}"),
            &format!("Storage Tiers Size ({name})"),
            "bytes",
            ChartType::Stacked,
            priority,
        ));
        let retention = self.host.chart_define(meta(
            format!("db_tier_retention{suffix}"),
            &format!("Storage Tiers Retention of a New Dimension ({name})"),
            "seconds",
            ChartType::Line,
            priority + 1,
        ));
        for k in 0..plan.options().tiers {
            bytes.dimension(DimensionMeta::new(&format!("tier{k}")));
            retention.dimension(DimensionMeta::new(&format!("tier{k}")));
        }
        [bytes, retention]
    }
}

impl Collector for DbTiers {
    fn name(&self) -> &str {
        "netdata.db_tiers"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        for i in 0..self.plans.len() {
            if self.plans[i].2.is_none() {
                let charts = self.define(self.plans[i].0, &self.plans[i].1, 130_100 + 10 * i as i64);
                self.plans[i].2 = Some(charts);
            }
            let (_, plan, Some([bytes, retention])) = &self.plans[i] else { continue };
            let sizes = plan.sizes(1);
            let mut c = bytes.begin(now_ut, 0, false);
            for k in 0..plan.options().tiers {
                c.set(k, i64::try_from(plan.allocated_bytes(k)).unwrap_or(i64::MAX));
            }
            c.end();
            let mut c = retention.begin(now_ut, 0, false);
            for k in 0..plan.options().tiers {
                let secs = plan.tier_update_every(1, k).saturating_mul(sizes.points_at_least(k));
                c.set(k, i64::try_from(secs).unwrap_or(i64::MAX));
            }
            c.end();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{host, last, T0};
    use crate::db::PlanOptions;

    #[test]
    fn charts_the_bytes_and_retention_of_each_tier() {
        let options = PlanOptions {
            tiers: 2,
            iterations: vec![10],
            retention: 100,
            retention_secs: vec![],
            budget_bytes: None,
            expected_dimensions: 0,
        };
        let plan = Arc::new(TierPlan::new(options, 0));
        let plans = TierPlans { fixed: Some(Arc::clone(&plan)), dbengine: None };
        let h = host();
        let _three: Vec<_> = (0..3).map(|_| plan.new_dimension(1)).collect();
        let mut c = DbTiers::new(Arc::clone(&h), &plans, 1).expect("a plan: a collector");
        for k in 0..3 {
            c.collect(T0 + k * 1_000_000).unwrap();
        }
        let bytes = h.chart("netdata.db_tier_bytes_tiers").expect("defined");
        assert_eq!(bytes.meta().context, "netdata.db_tier_bytes");
        // Three dimensions of 100 slots of 4 bytes, and 100 points of 14 bytes.
        assert_eq!(last(&bytes, 0), 1200.0);
        assert_eq!(last(&bytes, 1), 4200.0);
        let retention = h.chart("netdata.db_tier_retention_tiers").unwrap();
        assert_eq!((last(&retention, 0), last(&retention, 1)), (100.0, 1000.0));
        assert!(DbTiers::new(h, &TierPlans::default(), 1).is_none(), "no plan, no charts");
    }
}

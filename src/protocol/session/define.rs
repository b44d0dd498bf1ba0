//! `CHART` and `DIMENSION` lines: what a source may define, checked against the session's
//! limits before anything reaches the host.

use std::sync::Arc;

use super::{fingerprint, Session};
use crate::protocol::command::{printable, ChartDef, DimensionDef};
use crate::protocol::{Action, Cause, Error};
use crate::rrd::{Chart, ChartMeta, DimensionMeta};

impl Session {
    pub(super) fn chart(&mut self, def: ChartDef<'_>) -> Result<(), Error> {
        let full = def.full_id();
        self.forget_removed();
        let fingerprint = fingerprint(&def, self.update_every);
        if let Some(&(f, version)) = self.defined.get(&full) {
            if f == fingerprint {
                if let Some(chart) = self.host.chart(&full) {
                    if chart.redefine_unchanged(version) {
                        // The same line as last time and nothing changed since: O(line).
                        self.set_current(Some(chart));
                        return Ok(());
                    }
                }
            }
        }
        if !self.defined.contains_key(&full) && self.defined.len() >= self.limits.charts {
            return Err(Error::disable(format!(
                "chart '{}' would exceed the limit of {} charts per source",
                printable(&full),
                self.limits.charts
            )));
        }
        let existing = self.host.chart(&full).map(|c| c.meta());
        let mut meta = ChartMeta::new(def.type_, def.id)
            .title(def.title)
            .units(def.units.unwrap_or("unknown"))
            .family(def.family.unwrap_or(def.type_))
            .chart_type(def.chart_type)
            .priority(def.priority)
            .update_every(if def.update_every == 0 { self.update_every } else { def.update_every });
        if let Some(name) = def.name {
            meta.name = format!("{}.{name}", def.type_);
        }
        if let Some(context) = def.context {
            meta.context = context.to_owned();
        }
        meta.options = match (def.options, &existing) {
            (Some(o), _) => o,
            // Absent options: not obsolete, no detail or store_first; hidden is kept.
            (None, Some(old)) => {
                crate::rrd::ChartOptions { hidden: old.options.hidden, ..Default::default() }
            }
            (None, None) => Default::default(),
        };
        if let Some(old) = existing {
            if old.update_every != meta.update_every && !self.restepped.insert(full.clone()) {
                return Err(Error::stop(format!(
                    "chart '{}' changed its update every again ({} s to {} s) on this connection; \
                     each change restarts the storage of all its dimensions",
                    printable(&full),
                    old.update_every,
                    meta.update_every
                )));
            }
            meta.labels = old.labels;
        }
        let meta = meta.source(def.plugin.unwrap_or(&self.source), def.module.unwrap_or(""));
        let chart = self.host.chart_define(meta);
        if !self.defined.contains_key(&full) {
            // A chart this source takes over (defined on an earlier connection) brings its
            // dimensions into this source's total.
            let dims = chart.dimension_count();
            if self.dimension_total.saturating_add(dims) > self.limits.total_dimensions {
                return Err(self.too_many_dimensions(&full, dims));
            }
            self.dimension_total += dims;
        }
        self.defined.insert(full, (fingerprint, chart.definition_version()));
        self.set_current(Some(chart));
        Ok(())
    }

    /// Forgets the charts cleanup removed (obsolete ones), so that a source that keeps
    /// replacing its charts is bounded by what exists, not by what it ever defined, and the
    /// ids do not pin the freed charts' memory. One atomic load per call; the walk runs only
    /// when the host removed charts since the last one.
    pub(super) fn forget_removed(&mut self) {
        let removed = self.host.removed_charts();
        if removed == self.pruned_at {
            return;
        }
        self.pruned_at = removed;
        let host = &self.host;
        let mut total = 0usize;
        self.defined.retain(|id, _| match host.chart(id) {
            Some(c) => {
                total = total.saturating_add(c.dimension_count());
                true
            }
            None => false,
        });
        self.dimension_total = total;
        self.replay_asked.retain(|id, _| host.chart(id).is_some());
        let defined = &self.defined;
        self.restepped.retain(|id| defined.contains_key(id));
        if self.defined.capacity() > 4 * self.defined.len().max(16) {
            self.defined.shrink_to_fit();
        }
    }

    pub(super) fn dimension(&mut self, def: DimensionDef<'_>) -> Result<(), Error> {
        let chart = self.need_chart("DIMENSION", Action::Disable)?;
        let same = chart.dimension_unchanged(
            def.id,
            def.name,
            def.algorithm,
            def.multiplier,
            def.divisor,
            def.options,
        );
        if same.is_some() {
            return Ok(()); // defined again as it is: nothing to build or compare
        }
        let new = chart.dimension_index(def.id).is_none();
        if new && chart.dimension_count() >= self.limits.dimensions {
            return Err(Error::disable(format!(
                "dimension '{}' would exceed the limit of {} dimensions of chart '{}'",
                printable(def.id),
                self.limits.dimensions,
                chart.id()
            )));
        }
        if new && self.dimension_total >= self.limits.total_dimensions {
            return Err(self.too_many_dimensions(chart.id(), 1));
        }
        let mut meta = DimensionMeta::new(def.id)
            .name(def.name)
            .algorithm(def.algorithm)
            .scale(def.multiplier, def.divisor);
        meta.options = def.options;
        let before = chart.dimension_count();
        chart.dimension(meta);
        // (Counted from the chart, not from `new`: another source may add the same id.)
        self.dimension_total += chart.dimension_count().saturating_sub(before);
        Ok(())
    }

    /// The error of a definition that would take this source past
    /// [`Limits::total_dimensions`]: it disables the source (it would hit the same bound on
    /// every reconnection).
    pub(super) fn too_many_dimensions(&self, chart: &str, adding: usize) -> Error {
        Error::disable(format!(
            "chart '{}': {adding} more dimension(s) would bring this source to {} dimensions, \
             more than the limit of {} (each keeps its own ring of slots)",
            printable(chart),
            self.dimension_total.saturating_add(adding),
            self.limits.total_dimensions
        ))
    }

    pub(super) fn need_chart(&self, keyword: &str, action: Action) -> Result<Arc<Chart>, Error> {
        self.current.clone().ok_or_else(|| Error {
            action,
            message: format!("{keyword} without a chart"),
            cause: Cause::Other,
        })
    }
}

//! A chart's custom variables (`VARIABLE CHART name = value`), kept under the chart's lock.

use super::Chart;
use crate::rrd::variables::{VariableSet, MAX_CHART_VARIABLES};

impl Chart {
    /// Sets the custom chart variable `name` (cleaned as Netdata does) to `value`. At most
    /// [`MAX_CHART_VARIABLES`] are kept; a new one past that is refused, with one log line
    /// per chart.
    pub fn set_variable(&self, name: &str, value: f64) -> VariableSet {
        let mut st = self.state.lock();
        let r = st.variables.set(name, value, MAX_CHART_VARIABLES);
        if r == VariableSet::Full && st.variables.first_refusal() {
            log::error!(
                "chart '{}': more than {MAX_CHART_VARIABLES} chart variables; '{}' and any further new ones are not kept",
                self.id,
                name.escape_debug()
            );
        }
        r
    }

    /// The value of the custom chart variable `name`.
    pub fn variable(&self, name: &str) -> Option<f64> {
        self.state.lock().variables.get(name)
    }
}

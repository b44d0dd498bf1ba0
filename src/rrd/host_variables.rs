//! A host's custom variables (`VARIABLE HOST`, the collectors' `active_processors` and
//! `netfilter_conntrack_max`), and the version the streaming sender watches.

use std::sync::atomic::Ordering;

use super::Host;
use crate::rrd::variables::{VariableSet, Variables, MAX_HOST_VARIABLES};

impl Host {
    /// Sets the custom host variable `name` (cleaned as Netdata does) to `value`. At most
    /// [`MAX_HOST_VARIABLES`] are kept; a new one past that is refused, with one log line
    /// per host. [`Host::variables_version`] changes when the value is different.
    pub fn set_variable(&self, name: &str, value: f64) -> VariableSet {
        let mut vars = self.variables.write();
        let r = vars.set(name, value, MAX_HOST_VARIABLES);
        match r {
            VariableSet::Added | VariableSet::Changed => {
                self.variables_version.fetch_add(1, Ordering::AcqRel);
            }
            VariableSet::Full if vars.first_refusal() => log::error!(
                "host '{}': more than {MAX_HOST_VARIABLES} host variables; '{}' and any further new ones are not kept",
                self.hostname,
                name.escape_debug()
            ),
            _ => {}
        }
        r
    }

    /// The value of the custom host variable `name`.
    pub fn variable(&self, name: &str) -> Option<f64> {
        self.variables.read().get(name)
    }

    /// Runs `f` on the host's custom variables (read-locked; `f` must not block).
    pub fn with_variables<R>(&self, f: impl FnOnce(&Variables) -> R) -> R {
        f(&self.variables.read())
    }

    /// Changes whenever a host variable was added or set to a different value.
    pub fn variables_version(&self) -> usize {
        self.variables_version.load(Ordering::Acquire)
    }
}

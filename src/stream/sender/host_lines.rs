//! The host-level lines of a session: on connect the claimed id, the host labels and every
//! custom host variable; afterwards the host variables again whenever one changed (Netdata
//! 1.37 sends `VARIABLE HOST` lines right after connecting and on every change).
//!
//! Checking for a change costs one atomic load per turn of the session loop; lines are
//! built only when the host's variable version moved, into a buffer kept for the session.

use super::Shared;
use crate::protocol::{emit, Caps};
use crate::rrd::Host;

/// Sends a host's variables again when they change.
pub(super) struct HostVariables {
    /// The [`Host::variables_version`] last queued.
    sent: usize,
    lines: String,
}

impl HostVariables {
    /// The lines that open a session (claimed id, labels, host variables) into `out`, and
    /// the tracker of the variables they carried.
    pub(super) fn connect(host: &Host, caps: Caps, out: &mut String) -> HostVariables {
        if caps.has(Caps::CLAIM) {
            out.push_str("CLAIMED_ID ");
            out.push_str(host.guid());
            out.push_str(" NULL\n");
        }
        if caps.has(Caps::HLABELS) {
            emit::host_labels(out, &host.labels());
        }
        // Read before the lines are built: a change made meanwhile is sent again, never lost.
        let sent = host.variables_version();
        host.with_variables(|v| emit::host_variables(out, v));
        HostVariables { sent, lines: String::new() }
    }

    /// Queues every host variable if any changed since they were last queued. When the
    /// send buffer has no room they are tried again on the next call.
    pub(super) fn poll(&mut self, shared: &Shared, host: &Host) {
        let version = host.variables_version();
        if version == self.sent {
            return;
        }
        self.lines.clear();
        host.with_variables(|v| emit::host_variables(&mut self.lines, v));
        if self.lines.is_empty() || shared.push(self.lines.as_bytes()) {
            self.sent = version;
        }
    }
}

//! Whether alarms run for a host, and from when their notifications may go out: the
//! per-host half of `stream.conf`'s `health enabled` / `postpone alarms on connect seconds` /
//! `health log history`, set by the stream receiver each time a child connects and read by
//! the health engine before it evaluates a host.
//!
//! Guarantees: a plain value type; [`HealthPolicy::active`] and
//! [`HealthPolicy::postponed`] are pure functions of the policy, the host's connection state
//! and the time given.

/// `health enabled` of a child (`[health] enabled` for localhost).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HealthEnabled {
    /// Alarms run whether or not the child is connected.
    #[default]
    Yes,
    /// No alarms for this host.
    No,
    /// Alarms run while the child is connected (`auto`).
    Auto,
}

impl HealthEnabled {
    /// From a resolved `stream.conf` tristate: `None` is `auto`.
    pub fn from_tristate(v: Option<bool>) -> HealthEnabled {
        match v {
            None => HealthEnabled::Auto,
            Some(true) => HealthEnabled::Yes,
            Some(false) => HealthEnabled::No,
        }
    }
}

/// Netdata's default of `[API_KEY] default health log history`: 5 days.
pub const DEFAULT_HEALTH_LOG_HISTORY: u64 = 432_000;

/// How the health engine treats one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthPolicy {
    pub enabled: HealthEnabled,
    /// Unix seconds: no notification (and no status escalation) before this time; 0: none.
    /// A child sets it to its connection time plus `postpone alarms on connect seconds`.
    pub postpone_until: i64,
    /// Seconds of alarm log kept for this host (`health log history`).
    pub log_history_secs: u64,
}

impl Default for HealthPolicy {
    /// Localhost's: enabled, nothing postponed, Netdata's log history.
    fn default() -> Self {
        HealthPolicy {
            enabled: HealthEnabled::Yes,
            postpone_until: 0,
            log_history_secs: DEFAULT_HEALTH_LOG_HISTORY,
        }
    }
}

impl HealthPolicy {
    /// The policy of a child that connected at `now` (unix seconds) with these resolved
    /// settings: `health` as `stream.conf`'s tristate (`None`: auto), alarms postponed for
    /// `postpone_secs`, `log_history_secs` of alarm log.
    pub fn on_connect(
        health: Option<bool>,
        postpone_secs: u64,
        log_history_secs: u64,
        now: i64,
    ) -> HealthPolicy {
        let postpone = i64::try_from(postpone_secs).unwrap_or(i64::MAX);
        HealthPolicy {
            enabled: HealthEnabled::from_tristate(health),
            postpone_until: now.saturating_add(postpone),
            log_history_secs,
        }
    }

    /// Whether alarms are evaluated now, for a host whose child is `reachable` (localhost:
    /// pass `true`).
    pub fn active(&self, reachable: bool) -> bool {
        match self.enabled {
            HealthEnabled::Yes => true,
            HealthEnabled::No => false,
            HealthEnabled::Auto => reachable,
        }
    }

    /// Whether notifications (and status escalations) are still held back at `now`.
    pub fn postponed(&self, now: i64) -> bool {
        now < self.postpone_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_log_history_is_the_stream_conf_key_s() {
        let key = crate::config::keys::PEER_DEFAULT_HEALTH_LOG_HISTORY;
        assert_eq!(key.default, DEFAULT_HEALTH_LOG_HISTORY.to_string());
        assert_eq!(crate::config::keys::PEER_HEALTH_LOG_HISTORY.default, key.default);
    }

    #[test]
    fn tristate_maps_to_yes_no_auto() {
        assert_eq!(HealthEnabled::from_tristate(None), HealthEnabled::Auto);
        assert_eq!(HealthEnabled::from_tristate(Some(true)), HealthEnabled::Yes);
        assert_eq!(HealthEnabled::from_tristate(Some(false)), HealthEnabled::No);
    }

    #[test]
    fn auto_follows_the_connection_yes_and_no_do_not() {
        let p = |h| HealthPolicy::on_connect(h, 0, 0, 0);
        assert_eq!((p(None).active(true), p(None).active(false)), (true, false));
        assert_eq!((p(Some(true)).active(true), p(Some(true)).active(false)), (true, true));
        assert_eq!((p(Some(false)).active(true), p(Some(false)).active(false)), (false, false));
        assert!(HealthPolicy::default().active(true));
    }

    #[test]
    fn postponement_ends_exactly_after_the_configured_seconds() {
        let p = HealthPolicy::on_connect(Some(true), 60, 3600, 1_000);
        assert_eq!(p.postpone_until, 1_060);
        assert!(p.postponed(1_059));
        assert!(!p.postponed(1_060));
        assert_eq!(p.log_history_secs, 3600);
        assert!(!HealthPolicy::default().postponed(0), "localhost postpones nothing");
        assert_eq!(HealthPolicy::on_connect(None, u64::MAX, 0, 5).postpone_until, i64::MAX);
    }
}

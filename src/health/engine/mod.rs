//! The health engine: binds the loaded entries to the charts of every host with a database,
//! evaluates them on one thread, keeps each host's alarm log and queues notifications.
//!
//! [`Health`] is shared (an `Arc`) between the health thread and the web API: the API reads
//! a host's alarms ([`Health::host_alarms`]), its log ([`Health::host_log`]) and the counts
//! per status under that host's lock only, which the health thread takes per host and
//! never across a query, a file write or a notification.
//!
//! The thread ([`Health::start`]) wakes when the next alarm is due, at most every `[health]
//! run at least every seconds`; a pass discovers new hosts (a child on a parent) and new or
//! removed charts cheaply (see [`eval::Memo`]), so alarms bind as charts appear. A system
//! suspend (the wall clock ran ahead of the monotonic clock) postpones every alarm by
//! `postpone alarms during hibernation for seconds`; a child that has just connected is
//! postponed for 60 s (Netdata's `default postpone alarms on connect seconds`).

mod alarm;
mod bind;
mod eval;
mod log;
mod notices;
mod notify;
mod record;
pub mod silencers;
pub mod status;
mod variables;
mod vars;

#[cfg(test)]
mod tests;

pub use alarm::{AlarmView, LookupView, DEFAULT_RECIPIENT};
pub use log::{value_string, LogEntry};
pub use notify::{arguments, NO_EDIT_COMMAND};
pub use silencers::{Selector, SelectorKey, SilenceType, Silencers};
pub use status::Status;
pub use variables::{list as list_chart_variables, ChartVariables};

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::PathBuf;
// 32-bit MIPS has no 64-bit atomics: counters are `usize`.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, RecvTimeoutError, Sender};
use parking_lot::{Mutex, RwLock};

use crate::clock::{self, USEC_PER_SEC};
use crate::config::settings::HealthSettings;
use crate::db::MemoryMode;
use crate::health::config::AlarmConfig;
use crate::rrd::{Host, Hosts};

use self::alarm::Defaults;
use self::bind::Entries;
use self::eval::{HostState, Memo};
use self::log::AlarmLog;
use self::notify::{Job, Notifier};

/// A host and its health.
type HostPair = (Arc<HostHealth>, Arc<Host>);

/// The health of every host this node holds.
pub struct Health {
    run_every: u32,
    postpone_hibernation: u32,
    max_log_entries: usize,
    log_dir: Option<PathBuf>,
    defaults: Defaults,
    /// Swapped whole by [`Health::reload`]; a pass works on the one it started with.
    entries: RwLock<Arc<Entries>>,
    hosts: RwLock<Vec<Arc<HostHealth>>>,
    notifier: Mutex<Option<Notifier>>,
    /// Added to the environment of every notification script.
    environment: notify::Environment,
    /// Until when every alarm waits (a hibernation was detected).
    postponed_until: Mutex<i64>,
    /// `/api/v1/manage/health`'s state, and its version (bumped on every change; a host
    /// applies it to its alarms when its copy is older).
    silencers: RwLock<Silencers>,
    silencers_version: AtomicUsize,
}

/// One host's health: its alarms and log, behind one lock.
pub struct HostHealth {
    pub guid: String,
    pub hostname: String,
    localhost: bool,
    host: Weak<Host>,
    state: Mutex<HostState>,
}

/// How many alarms of a host are in each status (`/api/v1/info` `alarms`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// CLEAR (Netdata's `normal`).
    pub normal: usize,
    pub warning: usize,
    pub critical: usize,
    pub undefined: usize,
    pub uninitialized: usize,
}

impl Health {
    /// The engine for `configs` (no thread yet: see [`Health::start`]).
    pub fn new(settings: &HealthSettings, configs: Vec<AlarmConfig>) -> Health {
        Health {
            run_every: settings.run_every.max(1),
            postpone_hibernation: settings.postpone_hibernation,
            max_log_entries: settings.max_log_entries.max(1),
            log_dir: Some(settings.log_dir.clone()),
            defaults: Defaults {
                exec: settings.script.to_string_lossy().into_owned(),
                repeat_warning: settings.repeat_warning,
                repeat_critical: settings.repeat_critical,
            },
            entries: RwLock::new(Arc::new(Entries::new(configs))),
            hosts: RwLock::new(Vec::new()),
            notifier: Mutex::new(None),
            environment: notify::Environment::default(),
            postponed_until: Mutex::new(0),
            silencers: RwLock::new(Silencers::default()),
            silencers_version: AtomicUsize::new(1),
        }
    }

    /// The `NETDATA_*` variables (those of plugins.d) for the notification scripts, as
    /// Netdata exports them to `alarm-notify.sh`.
    pub fn with_environment(mut self, env: Vec<(String, String)>) -> Health {
        self.environment = Arc::new(env);
        self
    }

    /// Keeps the alarm logs in memory only (tests).
    pub fn without_files(mut self) -> Health {
        self.log_dir = None;
        self
    }

    /// How many entries were loaded (without `foreach` ones).
    pub fn entries(&self) -> usize {
        self.entries.read().list.len()
    }

    /// Replaces the loaded entries (SIGUSR2): every host rebinds on its next pass. Alarms
    /// whose entry is gone are REMOVED; the others start again under the new entry with the
    /// ids the log knows them by, so what was already notified is not notified again.
    pub fn reload(&self, configs: Vec<AlarmConfig>) {
        let entries = Arc::new(Entries::new(configs));
        ::log::info!("health: reloaded, {} alarm and template entries", entries.list.len());
        *self.entries.write() = entries;
        for hh in self.hosts.read().iter() {
            hh.state.lock().memo.force = true;
        }
    }

    /// Starts the notifier thread (done by [`Health::start`]).
    pub fn start_notifier(&self, timeout: Duration) -> io::Result<()> {
        let n = Notifier::start(timeout, Arc::clone(&self.environment))?;
        *self.notifier.lock() = Some(n);
        Ok(())
    }

    /// Starts the notifier and the health thread over `hosts`.
    pub fn start(self: &Arc<Self>, hosts: Arc<Hosts>) -> io::Result<Running> {
        self.start_notifier(notify::TIMEOUT)?;
        let (tx, rx) = bounded::<()>(1);
        let health = Arc::clone(self);
        let thread = crate::sys::thread::spawn("health", crate::sys::thread::MEDIUM, move || {
            let mut last_real = clock::now_realtime_usec();
            let mut last_mono = clock::now_monotonic();
            loop {
                let now_us = clock::now_realtime_usec();
                let mono = clock::now_monotonic();
                let real_gap = now_us.saturating_sub(last_real) / USEC_PER_SEC;
                let mono_gap = mono.duration_since(last_mono).as_secs();
                (last_real, last_mono) = (now_us, mono);
                let now = (now_us / USEC_PER_SEC) as i64;
                if real_gap > mono_gap + 10 && health.postpone_hibernation > 0 {
                    ::log::info!(
                        "health: the system was suspended for about {} s; alarms wait {} s",
                        real_gap - mono_gap,
                        health.postpone_hibernation
                    );
                    *health.postponed_until.lock() = now + i64::from(health.postpone_hibernation);
                }
                let next = health.pass(&hosts, now);
                let wake_us = u64::try_from(next).unwrap_or(0) * USEC_PER_SEC;
                let sleep = Duration::from_micros(wake_us.saturating_sub(clock::now_realtime_usec()))
                    .clamp(Duration::from_millis(100), Duration::from_secs(u64::from(health.run_every)));
                match rx.recv_timeout(sleep) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
            }
        })?;
        let loaded = self.entries();
        ::log::info!("health: {loaded} alarm and template entries loaded");
        if loaded > 0 && !std::path::Path::new(&self.defaults.exec).exists() {
            ::log::warn!(
                "health: the notification script {} does not exist ([health] script to execute on alarm); \
                 notifications of alarms without exec: will fail",
                self.defaults.exec
            );
        }
        Ok(Running { stop: Some(tx), thread: Some(thread), health: Arc::clone(self) })
    }

    /// One pass over every host at `now`: returns when the next alarm is due (at most
    /// `run at least every seconds` away).
    pub fn pass(&self, hosts: &Hosts, now: i64) -> i64 {
        let mut next = now + i64::from(self.run_every);
        let current = self.sync_hosts(hosts, now);
        if now < *self.postponed_until.lock() {
            return next;
        }
        for (hh, host) in current {
            // `health enabled = no`, or `auto` and the child is away: nothing is evaluated
            // and nothing stays bound (its alarms are REMOVED, which notifies no one), so a
            // child that left leaves no stale or flapping alarm behind. Its log stays: when
            // it is back, what was already notified is not notified again.
            if !host.health_active() {
                self.deactivate_host(&hh, now);
                continue;
            }
            // A child that has just connected: `postpone alarms on connect seconds`.
            if host.health_policy().postponed(now) {
                continue;
            }
            if let Some(t) = self.host_pass(&hh, &host, now) {
                next = next.min(t);
            }
        }
        next
    }

    /// The hosts with a database, each with its health. The health of hosts that went
    /// away is REMOVED and forgotten first, then a new host's is created with its log
    /// loaded (so a child that comes back reads what its previous life wrote).
    fn sync_hosts(&self, hosts: &Hosts, now: i64) -> Vec<HostPair> {
        let all: Vec<Arc<Host>> =
            hosts.all().into_iter().filter(|h| h.settings().mode != MemoryMode::None).collect();
        let known = self.hosts.read().clone();
        let by_guid: HashMap<&str, &Arc<HostHealth>> =
            known.iter().map(|hh| (hh.guid.as_str(), hh)).collect();
        let found: Vec<(Option<Arc<HostHealth>>, Arc<Host>)> = all
            .into_iter()
            .map(|host| {
                let hh = by_guid
                    .get(host.guid())
                    .filter(|hh| hh.host.upgrade().is_some_and(|h| Arc::ptr_eq(&h, &host)))
                    .map(|hh| Arc::clone(hh));
                (hh, host)
            })
            .collect();
        let kept: HashSet<*const HostHealth> =
            found.iter().filter_map(|(hh, _)| hh.as_ref().map(Arc::as_ptr)).collect();
        let gone: Vec<Arc<HostHealth>> =
            known.iter().filter(|hh| !kept.contains(&Arc::as_ptr(hh))).cloned().collect();
        for hh in &gone {
            self.remove_host(hh, now);
        }
        let mut added = Vec::new();
        let current: Vec<HostPair> = found
            .into_iter()
            .map(|(hh, host)| match hh {
                Some(hh) => (hh, host),
                None => {
                    let hh = Arc::new(self.host_health(&host, Arc::ptr_eq(&host, hosts.localhost()), now));
                    added.push(Arc::clone(&hh));
                    (hh, host)
                }
            })
            .collect();
        if !added.is_empty() || !gone.is_empty() {
            let mut list = self.hosts.write();
            list.retain(|hh| !gone.iter().any(|g| Arc::ptr_eq(g, hh)));
            list.extend(added);
        }
        current
    }

    fn host_health(&self, host: &Arc<Host>, localhost: bool, now: i64) -> HostHealth {
        let first_id = u32::try_from(now).unwrap_or(1);
        let log = match &self.log_dir {
            Some(dir) => AlarmLog::load(self.max_log_entries, first_id, log::path_of(dir, host.guid())),
            None => AlarmLog::new(self.max_log_entries, first_id, None),
        };
        let next_alarm_id = first_id.max(log.max_alarm_id().wrapping_add(1)).max(1);
        HostHealth {
            guid: host.guid().to_owned(),
            hostname: host.hostname().to_owned(),
            localhost,
            host: Arc::downgrade(host),
            state: Mutex::new(HostState {
                alarms: Vec::new(),
                log,
                next_alarm_id,
                charts: Vec::new(),
                memo: Memo::default(),
                last_processed_id: 0,
                lines: Vec::new(),
                silencers_version: 0,
            }),
        }
    }

    fn queue(&self, job: Job) {
        match self.notifier.lock().as_ref() {
            Some(n) => {
                n.send(job);
            }
            None => ::log::debug!("health: no notifier running; notification {} not sent", job.unique_id),
        }
    }

    fn host(&self, guid: &str) -> Option<Arc<HostHealth>> {
        self.hosts.read().iter().find(|h| h.guid == guid || h.hostname == guid).cloned()
    }

    /// Every alarm of the host (machine GUID or hostname), in binding order.
    pub fn host_alarms(&self, guid: &str) -> Vec<AlarmView> {
        self.host(guid).map(|h| h.state.lock().alarms.iter().map(|a| a.view()).collect()).unwrap_or_default()
    }

    /// The host's log entries with `unique_id > after`, newest first (as Netdata lists them).
    pub fn host_log(&self, guid: &str, after: u32) -> Vec<LogEntry> {
        let Some(h) = self.host(guid) else { return Vec::new() };
        let st = h.state.lock();
        st.log.entries().iter().rev().take_while(|e| e.unique_id > after).cloned().collect()
    }

    /// The newest unique id of the host's log (0: none).
    pub fn latest_unique_id(&self, guid: &str) -> u32 {
        self.host(guid).map_or(0, |h| h.state.lock().log.latest_unique_id())
    }

    /// The host's alarms per status.
    pub fn counts(&self, guid: &str) -> Counts {
        let mut c = Counts::default();
        if let Some(h) = self.host(guid) {
            for a in &h.state.lock().alarms {
                match a.status {
                    Status::Clear => c.normal += 1,
                    Status::Warning => c.warning += 1,
                    Status::Critical => c.critical += 1,
                    Status::Undefined => c.undefined += 1,
                    Status::Uninitialized => c.uninitialized += 1,
                    _ => {}
                }
            }
        }
        c
    }

    /// Whether alarms run for this host (it has a database and was seen by a pass).
    pub fn runs_on(&self, guid: &str) -> bool {
        self.host(guid).is_some()
    }

    /// A copy of the silencers (`/api/v1/manage/health?cmd=LIST`).
    pub fn silencers(&self) -> Silencers {
        self.silencers.read().clone()
    }

    /// Changes the silencers; every host applies them to its alarms at its next pass.
    pub fn change_silencers<R>(&self, f: impl FnOnce(&mut Silencers) -> R) -> R {
        let r = f(&mut self.silencers.write());
        self.silencers_version.fetch_add(1, Ordering::SeqCst);
        r
    }

    /// Whether alarms are evaluated for `host` now (it has a database and its health
    /// policy is on): `/api/v1/alarms` `status`.
    pub fn enabled_for(&self, host: &Host) -> bool {
        host.settings().mode != MemoryMode::None && host.health_active()
    }

    /// The variables the alarms of `chart` (id or name) of `host` see, as
    /// `/api/v1/alarm_variables` lists them; `None` without such a chart.
    pub fn chart_variables(&self, host: &Host, chart: &str) -> Option<ChartVariables> {
        let alarms: Vec<(String, String, f64)> = self
            .host(host.guid())
            .map(|h| {
                h.state.lock().alarms.iter().map(|a| (a.key.id.clone(), a.name.clone(), a.value)).collect()
            })
            .unwrap_or_default();
        variables::list(host, chart, &alarms)
    }

    /// Notifications dropped because the queue was full.
    pub fn notifications_dropped(&self) -> u64 {
        self.notifier.lock().as_ref().map_or(0, Notifier::dropped)
    }
}

/// The running health thread; stopped by [`Running::stop`] or on drop.
pub struct Running {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    health: Arc<Health>,
}

impl Running {
    /// Stops the thread (waiting for the pass in progress) and the notifier (not waiting
    /// for a program that runs).
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.try_send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(mut n) = self.health.notifier.lock().take() {
            n.stop();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

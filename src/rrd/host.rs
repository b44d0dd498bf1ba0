//! Hosts and the registry of hosts a node holds (itself and, on a parent, its children).

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use super::chart::{Chart, ChartMeta, ObserverSlot, StorageSettings};
use super::cleanup::{CleanupPolicy, Removed};
use super::health_policy::HealthPolicy;
use super::variables::Variables;
use super::{Label, Observer};
use crate::db::{MemoryMode, TierPlan};

#[path = "host_variables.rs"]
mod variables;

/// How a host stores its charts.
#[derive(Clone, Debug)]
pub struct HostSettings {
    pub mode: MemoryMode,
    /// Slots per dimension (`[db] retention`, alias `history`).
    pub history: u32,
    /// Default `update every` of the host's charts, seconds.
    pub update_every: u32,
    /// `[directories] cache`; the host's files go to `<cache>/<machine guid>/`.
    pub cache_dir: PathBuf,
    /// `[db] gap when lost iterations above`.
    pub gap_when_lost_iterations_above: u32,
    /// In memory mode `none`, seconds of recent values kept in RAM to answer replication
    /// (`[stream] replication window`; 0: none).
    pub replication_window: u32,
    /// How the rings of the host's dimensions are sized, tiers included (`dbengine`, or
    /// `storage tiers` on `ram`/`save`/`map`); `None`: one tier of `history` slots.
    pub tiers: Option<Arc<TierPlan>>,
}

impl Default for HostSettings {
    /// Built-in defaults: RAM, 3600 slots of 1 s, no replication window.
    fn default() -> Self {
        HostSettings {
            mode: MemoryMode::Ram,
            history: 3600,
            update_every: 1,
            cache_dir: PathBuf::from("/var/cache/nanodata"),
            gap_when_lost_iterations_above: 1,
            replication_window: 0,
            tiers: None,
        }
    }
}

/// How a host streamed to this node is (or was) connected, and what its child said about
/// itself in the STREAM request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChildStatus {
    /// A receiver is attached now.
    pub reachable: bool,
    /// Streaming hops between the child and this node (1: directly connected).
    pub hops: u16,
    /// When the child last connected or disconnected (unix seconds).
    pub since: i64,
    /// The `NETDATA_*` system information of the request, in its order.
    pub system_info: Vec<(String, String)>,
    /// `User-Agent`: program and version (`netdata`, `v1.37.1`).
    pub program: String,
    pub program_version: String,
    pub os: String,
    pub timezone: String,
    pub abbrev_timezone: String,
    pub utc_offset: i32,
    pub tags: String,
}

impl ChildStatus {
    /// A system information value of the request.
    pub fn info(&self, name: &str) -> Option<&str> {
        self.system_info.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// One monitored host: its identity, labels and charts.
pub struct Host {
    guid: String,
    hostname: String,
    settings: HostSettings,
    charts: RwLock<ChartIndex>,
    labels: RwLock<Vec<Label>>,
    observer: ObserverSlot,
    child: RwLock<Option<ChildStatus>>,
    health: RwLock<HealthPolicy>,
    /// Charts removed by cleanup so far: sources that remember chart ids compare it with
    /// the value they last saw to know when to forget the removed ones.
    /// (`usize`: 32-bit MIPS has no 64-bit atomics; sources only compare it for change.)
    removed: AtomicUsize,
    /// Custom host variables (`VARIABLE HOST`, collectors' `active_processors`, …).
    variables: RwLock<Variables>,
    /// Bumped whenever a host variable is added or gets a different value: the sender
    /// compares it to know when to send them again (`usize`: no 64-bit atomics on MIPS).
    variables_version: AtomicUsize,
}

#[derive(Default)]
struct ChartIndex {
    list: Vec<Arc<Chart>>,
    by_id: HashMap<String, usize>,
}

impl Host {
    pub fn new(guid: &str, hostname: &str, settings: HostSettings) -> Host {
        Host {
            guid: guid.to_owned(),
            hostname: hostname.to_owned(),
            settings,
            charts: RwLock::new(ChartIndex::default()),
            labels: RwLock::new(Vec::new()),
            observer: ObserverSlot::default(),
            child: RwLock::new(None),
            health: RwLock::new(HealthPolicy::default()),
            removed: AtomicUsize::new(0),
            variables: RwLock::new(Variables::default()),
            variables_version: AtomicUsize::new(0),
        }
    }

    /// How many charts cleanup has removed from this host so far.
    pub fn removed_charts(&self) -> u64 {
        self.removed.load(Ordering::Acquire) as u64
    }

    /// Frees what became obsolete at least `policy.after` seconds before `now` (unix
    /// seconds): whole charts (removed from the index, so the API, the sender and new
    /// `BEGIN`s no longer find them) and obsolete dimensions of live charts, with their files
    /// when `policy.delete_files`. At most `budget` charts are removed per call; the scan
    /// itself reads one atomic per chart and takes no chart lock for live charts.
    pub fn cleanup_obsolete(&self, now: i64, policy: &CleanupPolicy, budget: usize) -> Removed {
        let mut out = Removed::default();
        let (candidates, with_dims): (Vec<Arc<Chart>>, Vec<Arc<Chart>>) = {
            let index = self.charts.read();
            let old =
                |c: &&Arc<Chart>| c.obsolete_since().is_some_and(|t| now.saturating_sub(t) >= policy.after);
            let charts = index.list.iter().filter(old).cloned().collect();
            let dims =
                index.list.iter().filter(|c| c.has_obsolete_dimensions()).take(budget).cloned().collect();
            (charts, dims)
        };
        let files = self.settings.mode.has_files() && policy.delete_files;
        let dir = self.db_dir();

        // Obsolete charts still collected are skipped, so they never use up the budget.
        let expired: Vec<Arc<Chart>> =
            candidates.into_iter().filter(|c| c.expired(now, policy.after)).take(budget).collect();
        let gone: std::collections::HashSet<*const Chart> = expired.iter().map(Arc::as_ptr).collect();
        if !expired.is_empty() {
            let mut index = self.charts.write();
            let before = index.list.len();
            index.list.retain(|c| !gone.contains(&Arc::as_ptr(c)));
            out.charts = before - index.list.len();
            let ChartIndex { list, by_id } = &mut *index;
            // Updated in place, not rebuilt: no allocation per remaining chart (a rebuild
            // would also scatter new keys over the heap the removed charts just freed).
            for c in &expired {
                by_id.remove(c.id());
            }
            for (i, c) in list.iter().enumerate() {
                match by_id.get_mut(c.id()) {
                    Some(slot) => *slot = i,
                    None => {
                        by_id.insert(c.id().to_owned(), i);
                    }
                }
            }
            // Give memory back when the host shrank a lot (a parent after a churn).
            if list.capacity() > 64 && list.len() < list.capacity() / 4 {
                list.shrink_to(list.len() * 2);
                by_id.shrink_to(list.len() * 2);
            }
            self.removed.fetch_add(out.charts, Ordering::AcqRel);
        }
        for chart in &expired {
            out.dimensions += chart.dimension_count();
            if files {
                // Under the read lock: a chart of the same id cannot be created (and open
                // its files) while they are deleted.
                let index = self.charts.read();
                if !index.by_id.contains_key(chart.id()) {
                    delete_chart_files(&dir, chart);
                }
            }
        }
        for chart in with_dims {
            if gone.contains(&Arc::as_ptr(&chart)) {
                continue;
            }
            out.dimensions +=
                chart.remove_expired_dimensions(now, policy.after, files.then_some(dir.as_path()));
        }
        // The last handles: dropping them frees the storage (unmapping `map` files, whose
        // deletion the file system completes only now, which can take milliseconds each).
        drop(expired);
        if out.charts > 0 || out.dimensions > 0 {
            log::info!(
                "host '{}': removed {} obsolete chart(s) and {} obsolete dimension(s) unused for {} s or more{}",
                self.hostname,
                out.charts,
                out.dimensions,
                policy.after,
                if files { ", with their files" } else { "" }
            );
        }
        out
    }

    /// How this host is streamed to this node; `None` for localhost.
    pub fn child_status(&self) -> Option<ChildStatus> {
        self.child.read().clone()
    }

    /// Whether the child is connected and since when (unix seconds), without copying its
    /// status; `None` for localhost.
    pub fn child_connection(&self) -> Option<(bool, i64)> {
        self.child.read().as_ref().map(|c| (c.reachable, c.since))
    }

    /// Calls `f` with how this host is streamed to this node (`None` for localhost), read
    /// under the lock without copying it. `f` must not call back into this host's status.
    pub fn with_child_status<R>(&self, f: impl FnOnce(Option<&ChildStatus>) -> R) -> R {
        f(self.child.read().as_ref())
    }

    /// Sets how this host is streamed to this node.
    pub fn set_child_status(&self, status: ChildStatus) {
        *self.child.write() = Some(status);
    }

    /// Marks the child as connected or not since `since`.
    pub fn set_reachable(&self, reachable: bool, since: i64) {
        if let Some(s) = self.child.write().as_mut() {
            s.reachable = reachable;
            s.since = since;
        }
    }

    /// Whether alarms run for this host and from when they may notify (localhost: enabled,
    /// nothing postponed, until the health configuration says otherwise).
    pub fn health_policy(&self) -> HealthPolicy {
        *self.health.read()
    }

    /// Sets the health policy (the receiver does, on every connection of the child).
    pub fn set_health_policy(&self, policy: HealthPolicy) {
        *self.health.write() = policy;
    }

    /// Whether alarms are evaluated for this host now: its policy, with `auto` following
    /// whether the child is connected (localhost counts as connected). Reads no more than
    /// two small locks; clones nothing.
    pub fn health_active(&self) -> bool {
        let reachable = self.child.read().as_ref().is_none_or(|s| s.reachable);
        self.health_policy().active(reachable)
    }

    /// Sets (or clears) the observer of every collection of this host's charts.
    pub fn set_observer(&self, observer: Option<Arc<dyn Observer>>) {
        *self.observer.write() = observer;
    }

    pub fn guid(&self) -> &str {
        &self.guid
    }

    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    pub fn settings(&self) -> &HostSettings {
        &self.settings
    }

    /// The directory holding this host's database files (`save` and `map` modes).
    pub fn db_dir(&self) -> PathBuf {
        self.settings.cache_dir.join(&self.guid)
    }

    /// Defines a chart: creates it, or redefines the existing chart with the same id.
    /// A chart whose `update every` is 0 gets the host's.
    pub fn chart_define(&self, mut meta: ChartMeta) -> Arc<Chart> {
        if meta.update_every == 0 {
            meta.update_every = self.settings.update_every.max(1);
        }
        if let Some(chart) = self.chart(&meta.id) {
            chart.redefine(meta);
            return chart;
        }
        let mut index = self.charts.write();
        // Another thread may have created it between the read and the write lock.
        if let Some(&i) = index.by_id.get(&meta.id) {
            let chart = Arc::clone(&index.list[i]);
            drop(index);
            chart.redefine(meta);
            return chart;
        }
        let (mode, entries) = match (self.settings.mode, self.settings.replication_window) {
            // A host without a database keeps the last few minutes in RAM so that it can
            // answer its parent's replication requests after a reconnection.
            (MemoryMode::None, window) if window > 0 => {
                (MemoryMode::Ram, window.div_ceil(meta.update_every.max(1)).max(2))
            }
            (mode, _) => (mode, self.settings.history.max(1)),
        };
        let plan = if mode == self.settings.mode { self.settings.tiers.clone() } else { None };
        let storage = StorageSettings {
            mode,
            dir: mode.has_files().then(|| self.db_dir()),
            entries,
            plan,
            gap_when_lost_iterations_above: self.settings.gap_when_lost_iterations_above,
        };
        let id = meta.id.clone();
        let chart = Arc::new(Chart::new(meta, storage, Arc::clone(&self.observer)));
        let slot = index.list.len();
        index.by_id.insert(id, slot);
        index.list.push(Arc::clone(&chart));
        chart
    }

    /// The chart with this id (`type.id`).
    pub fn chart(&self, id: &str) -> Option<Arc<Chart>> {
        let index = self.charts.read();
        index.by_id.get(id).map(|&i| Arc::clone(&index.list[i]))
    }

    /// The chart with this id or, failing that, this name.
    pub fn chart_by_id_or_name(&self, key: &str) -> Option<Arc<Chart>> {
        self.chart(key).or_else(|| self.charts().into_iter().find(|c| c.meta().name == key))
    }

    /// Every chart, in creation order.
    pub fn charts(&self) -> Vec<Arc<Chart>> {
        self.charts.read().list.clone()
    }

    pub fn chart_count(&self) -> usize {
        self.charts.read().list.len()
    }

    pub fn labels(&self) -> Vec<Label> {
        self.labels.read().clone()
    }

    pub fn set_labels(&self, labels: Vec<Label>) {
        *self.labels.write() = labels;
    }

    /// Writes every chart's `save`-mode files and flushes `map`-mode mappings. Every chart is
    /// attempted; the first error is returned.
    pub fn save(&self) -> io::Result<()> {
        let mut result = Ok(());
        for chart in self.charts() {
            if let Err(e) = chart.save() {
                log::error!("host '{}': cannot save chart '{}': {e}", self.hostname, chart.id());
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        result
    }
}

/// Deletes the files of a removed chart: each dimension's, then its directory if empty.
fn delete_chart_files(dir: &std::path::Path, chart: &Chart) {
    let mut chart_dir = None;
    for id in chart.dimension_ids() {
        let path = crate::db::dimension_path(dir, chart.id(), &id);
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != io::ErrorKind::NotFound {
                log::warn!("cannot delete {}: {e}", path.display());
            }
        }
        chart_dir = path.parent().map(std::path::Path::to_path_buf);
    }
    if let Some(d) = chart_dir {
        let _ = std::fs::remove_dir(d); // fails harmlessly if something else is in it
    }
}

/// Every host this node holds: itself first, then any hosts streamed to it.
pub struct Hosts {
    localhost: Arc<Host>,
    others: RwLock<Vec<Arc<Host>>>,
}

impl Hosts {
    pub fn new(localhost: Host) -> Hosts {
        Hosts { localhost: Arc::new(localhost), others: RwLock::new(Vec::new()) }
    }

    pub fn localhost(&self) -> &Arc<Host> {
        &self.localhost
    }

    /// Adds a host (a child); returns the existing one if its GUID is already known.
    pub fn add(&self, host: Host) -> Arc<Host> {
        if let Some(h) = self.find(host.guid()) {
            return h;
        }
        let host = Arc::new(host);
        self.others.write().push(Arc::clone(&host));
        host
    }

    /// Removes a child host (orphan cleanup); localhost is never removed.
    pub fn remove(&self, guid: &str) -> Option<Arc<Host>> {
        let mut others = self.others.write();
        let i = others.iter().position(|h| h.guid == guid)?;
        Some(others.remove(i))
    }

    /// How many hosts besides localhost this node holds.
    pub fn children(&self) -> usize {
        self.others.read().len()
    }

    /// The host with this machine GUID or hostname.
    pub fn find(&self, key: &str) -> Option<Arc<Host>> {
        if self.localhost.guid == key || self.localhost.hostname == key {
            return Some(Arc::clone(&self.localhost));
        }
        let others = self.others.read();
        others.iter().find(|h| h.guid == key).or_else(|| others.iter().find(|h| h.hostname == key)).cloned()
    }

    /// Every host, localhost first.
    pub fn all(&self) -> Vec<Arc<Host>> {
        let mut v = vec![Arc::clone(&self.localhost)];
        v.extend(self.others.read().iter().cloned());
        v
    }

    /// [`Host::cleanup_obsolete`] on every host, sharing `policy.max_charts_per_run`.
    pub fn cleanup_obsolete(&self, now: i64, policy: &CleanupPolicy) -> Removed {
        let mut total = Removed::default();
        for host in self.all() {
            let budget = policy.max_charts_per_run.saturating_sub(total.charts);
            if budget == 0 {
                break;
            }
            let r = host.cleanup_obsolete(now, policy, budget);
            total.charts += r.charts;
            total.dimensions += r.dimensions;
        }
        total
    }

    /// Saves every host's database (orderly stop).
    pub fn save(&self) -> io::Result<()> {
        let mut result = Ok(());
        for host in self.all() {
            if let Err(e) = host.save() {
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rrd::DimensionMeta;

    fn settings() -> HostSettings {
        HostSettings { history: 60, update_every: 2, ..HostSettings::default() }
    }

    #[test]
    fn charts_are_created_once_and_found_by_id_or_name() {
        let host = Host::new("guid-1", "router", settings());
        let mut meta = ChartMeta::new("net", "eth0").update_every(0);
        meta.update_every = 0;
        meta.name = "net.wan".into();
        let a = host.chart_define(meta.clone());
        a.dimension(DimensionMeta::new("received"));
        let b = host.chart_define(meta);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(b.dimensions().len(), 1, "redefinition keeps dimensions");
        assert_eq!(a.meta().update_every, 2, "0 takes the host's update every");
        assert!(host.chart_by_id_or_name("net.wan").is_some());
        assert!(host.chart("net.wan").is_none());
        assert_eq!(host.chart_count(), 1);
    }

    #[test]
    fn hosts_are_found_by_guid_or_hostname() {
        let hosts = Hosts::new(Host::new("g0", "parent", settings()));
        let child = hosts.add(Host::new("g1", "child", settings()));
        assert!(Arc::ptr_eq(&hosts.add(Host::new("g1", "renamed", settings())), &child));
        assert_eq!(hosts.find("child").map(|h| h.guid().to_owned()), Some("g1".into()));
        assert_eq!(hosts.find("g0").map(|h| h.hostname().to_owned()), Some("parent".into()));
        assert_eq!(hosts.all().len(), 2);
        assert!(hosts.find("nobody").is_none());
    }

    fn obsolete(host: &Host, id: &str) -> Arc<Chart> {
        let chart = host.chart(id).unwrap();
        let mut meta = chart.meta();
        meta.options.obsolete = true;
        assert!(chart.redefine(meta));
        chart
    }

    fn collect(chart: &Chart, now_s: i64, v: i64) {
        let mut c = chart.begin(now_s as u64 * crate::clock::USEC_PER_SEC, 0, false);
        c.set(0, v);
        c.end();
    }

    fn scratch(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("nanodata-cleanup-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        p
    }

    #[test]
    fn an_obsolete_chart_is_removed_after_the_cleanup_time_and_comes_back_fresh() {
        let host = Host::new("g", "h", settings());
        for id in ["eth0", "eth1"] {
            host.chart_define(ChartMeta::new("net", id)).dimension(DimensionMeta::new("rx"));
        }
        let policy = CleanupPolicy::new(10, true);
        let old = obsolete(&host, "net.eth1");
        let since = old.obsolete_since().unwrap();
        let now = crate::clock::now_realtime_sec();
        assert!((now - since).abs() <= 1, "marked with the clock's time");

        assert_eq!(host.cleanup_obsolete(since + 9, &policy, 100), Removed::default(), "too early");
        assert!(host.chart("net.eth1").is_some());
        let r = host.cleanup_obsolete(since + 10, &policy, 100);
        assert_eq!(r, Removed { charts: 1, dimensions: 1 });
        assert!(host.chart("net.eth1").is_none());
        assert_eq!(host.chart_count(), 1);
        assert_eq!(host.removed_charts(), 1);
        assert!(host.chart("net.eth0").is_some(), "a live chart is never removed");
        assert_eq!(host.cleanup_obsolete(since + 100_000, &policy, 100).charts, 0);

        // Defined again: a new chart, not the freed one, and it collects.
        let again = host.chart_define(ChartMeta::new("net", "eth1"));
        assert!(!Arc::ptr_eq(&again, &old));
        assert_eq!(again.dimension(DimensionMeta::new("rx")), 0);
        assert!(again.obsolete_since().is_none());
        let t = now + 1000;
        for k in 0..4 {
            collect(&again, t + k, 7);
        }
        assert_eq!(again.query(0, 0, i64::MAX).iter().filter(|p| p.value == Some(7.0)).count(), 3);
        assert!(Arc::ptr_eq(&host.chart("net.eth1").unwrap(), &again));
    }

    #[test]
    fn a_chart_still_collected_or_revived_is_kept() {
        let host = Host::new("g", "h", settings());
        host.chart_define(ChartMeta::new("a", "collected")).dimension(DimensionMeta::new("x"));
        host.chart_define(ChartMeta::new("a", "revived")).dimension(DimensionMeta::new("x"));
        let policy = CleanupPolicy::new(10, true);
        let busy = obsolete(&host, "a.collected");
        let since = busy.obsolete_since().unwrap();
        // Collected 8 s after it became obsolete: it stays until 10 s after that.
        collect(&busy, since + 8, 1);
        assert_eq!(host.cleanup_obsolete(since + 12, &policy, 100).charts, 0);
        assert_eq!(host.cleanup_obsolete(since + 19, &policy, 100).charts, 1);
        assert!(host.chart("a.collected").is_none());

        let revived = obsolete(&host, "a.revived");
        let mut meta = revived.meta();
        meta.options.obsolete = false;
        revived.redefine(meta);
        assert!(revived.obsolete_since().is_none());
        assert_eq!(host.cleanup_obsolete(since + 100_000, &policy, 100).charts, 0);
        assert!(host.chart("a.revived").is_some());
    }

    #[test]
    fn the_index_still_finds_every_chart_after_removals_in_the_middle() {
        let host = Host::new("g", "h", settings());
        let charts: Vec<_> = (0..10)
            .map(|i| {
                let c = host.chart_define(ChartMeta::new("c", &i.to_string()));
                c.dimension(DimensionMeta::new("x"));
                c
            })
            .collect();
        let mut since = 0;
        for i in [0, 3, 4, 8] {
            since = obsolete(&host, &format!("c.{i}")).obsolete_since().unwrap();
        }
        assert_eq!(host.cleanup_obsolete(since + 10, &CleanupPolicy::new(1, true), 100).charts, 4);
        for (i, c) in charts.iter().enumerate() {
            let found = host.chart(&format!("c.{i}"));
            if [0, 3, 4, 8].contains(&i) {
                assert!(found.is_none(), "c.{i}");
            } else {
                assert!(found.is_some_and(|f| Arc::ptr_eq(&f, c)), "c.{i}");
            }
        }
        let again = host.chart_define(ChartMeta::new("c", "3"));
        assert!(Arc::ptr_eq(&host.chart("c.3").unwrap(), &again));
        assert_eq!(host.charts().len(), 7);
    }

    #[test]
    fn cleanup_removes_at_most_its_budget_per_run() {
        let hosts = Hosts::new(Host::new("g0", "parent", settings()));
        let child = hosts.add(Host::new("g1", "child", settings()));
        let mut since = 0;
        for h in [hosts.localhost(), &child] {
            for i in 0..5 {
                h.chart_define(ChartMeta::new("c", &i.to_string())).dimension(DimensionMeta::new("x"));
                since = obsolete(h, &format!("c.{i}")).obsolete_since().unwrap();
            }
        }
        let mut policy = CleanupPolicy::new(1, true);
        policy.max_charts_per_run = 4;
        let later = since + 5;
        assert_eq!(hosts.cleanup_obsolete(later, &policy).charts, 4);
        assert_eq!(hosts.cleanup_obsolete(later, &policy).charts, 4);
        assert_eq!(hosts.cleanup_obsolete(later, &policy).charts, 2);
        assert_eq!(hosts.localhost().chart_count() + child.chart_count(), 0);
    }

    #[test]
    fn the_files_of_removed_charts_and_dimensions_are_deleted_when_configured() {
        for delete in [true, false] {
            let dir = scratch(if delete { "delete" } else { "keep" });
            let host = Host::new(
                "g",
                "h",
                HostSettings { mode: MemoryMode::Map, cache_dir: dir.clone(), ..settings() },
            );
            let chart = host.chart_define(ChartMeta::new("disk", "sdb"));
            chart.dimension(DimensionMeta::new("reads"));
            let keep = host.chart_define(ChartMeta::new("disk", "sda"));
            keep.dimension(DimensionMeta::new("reads"));
            let mut gone = DimensionMeta::new("writes");
            keep.dimension(gone.clone());
            let file = |c: &str, d: &str| crate::db::dimension_path(&host.db_dir(), c, d);
            assert!(file("disk.sdb", "reads").exists() && file("disk.sda", "writes").exists());

            let since = obsolete(&host, "disk.sdb").obsolete_since().unwrap();
            gone.options.obsolete = true;
            keep.dimension(gone);
            assert!(keep.has_obsolete_dimensions());
            let r = host.cleanup_obsolete(since + 60, &CleanupPolicy::new(60, delete), 100);
            assert_eq!(r, Removed { charts: 1, dimensions: 2 });
            assert_eq!(file("disk.sdb", "reads").exists(), !delete);
            assert_eq!(file("disk.sdb", "reads").parent().unwrap().exists(), !delete);
            assert_eq!(file("disk.sda", "writes").exists(), !delete);
            assert!(file("disk.sda", "reads").exists(), "a live dimension keeps its file");
            assert_eq!(keep.dimensions().iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["reads"]);
            assert!(!keep.has_obsolete_dimensions());
            drop((chart, keep, host));
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

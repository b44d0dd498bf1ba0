//! The exporting engine: one thread per enabled instance (`exp-<name>`), each making a batch
//! of every host the node holds every `update every` seconds and getting it to its backend.
//!
//! - **Schedule.** Exports happen when Netdata 1.37 makes them (`mark_scheduled_instances`):
//!   once per `update every`, in the last of its seconds the node collects in before each
//!   wall-clock multiple — at `now % update every == update every − the node's update
//!   every` (second 9 of 10 on a node collecting every second). Each covers the window
//!   since the previous one ([`crate::exporting::source`]). A thread that fell behind
//!   (a slow backend, a suspended machine) makes the exports it missed, up to `buffer on
//!   failures` of them, so `average`/`sum` series have no hole; `as collected` makes one.
//! - **Delivery** ([`deliver`]): a batch counts as sent only once the backend took it. Until
//!   then it waits in the [`backlog`], and the thread retries with a capped, jittered
//!   exponential back-off (1 s doubling to [`MAX_BACKOFF`], at least a `Retry-After`).
//!   A backlog that is full is tried once more at each export, back-off or not, before the
//!   new batch pushes its oldest out.
//!   A refusal for good (a 4xx but 408/429) drops the batch and counts it.
//! - **Restart.** With `keep backlog on restart` (default), a stop writes the backlog and the
//!   time of the last export to `<cache dir>/exporting/<name>.spool`; the next start sends
//!   those batches first and, for `average`/`sum` on a node whose database survived
//!   (`save`, `map`), exports the windows it missed while down — two collection intervals
//!   after the start, once the collectors have defined their charts again.
//! - **Self-monitoring** ([`stats`]): counters readable through [`Running::counters`], and
//!   the `netdata.exporting_<name>_*` charts.
//!
//! A connector thread only reads charts (each under its own lock, briefly) and never holds
//! anything collection, streaming or the web server wait on while it talks to its backend.

pub mod backlog;
pub mod deliver;
pub mod encode;
pub mod stats;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TryRecvError};
use parking_lot::Mutex;

use crate::clock::{self, USEC_PER_SEC};
use crate::config::settings::{DataSource, ExportingSettings, Instance};
use crate::db::MemoryMode;
use crate::exporting::format::{Batch, Filters};
use crate::exporting::source::Export;
use crate::net::backoff::Backoff;
use crate::rrd::Hosts;

use backlog::{Backlog, Entry};
use deliver::{Delivery, Outcome};
pub use stats::Counters;

/// The longest wait between two attempts while a backend fails.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// At most one line per instance per this long about the same trouble.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// Stack of a connector thread.
const STACK: usize = 256 * 1024;

/// What the engine needs besides the settings.
pub struct Context {
    pub hosts: Arc<Hosts>,
    /// The node's own hostname (`[global] hostname`), sent for it when neither the instance
    /// nor `[exporting:global]` names it.
    pub hostname: String,
    /// Where spool files go (`<cache dir>/exporting`); `None`: never spooled.
    pub spool_dir: Option<PathBuf>,
}

/// The running connector threads.
#[derive(Default)]
pub struct Running {
    instances: Vec<Handle>,
}

struct Handle {
    name: String,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Mutex<Counters>>,
}

/// Starts a thread for every enabled instance; an instance that cannot start is logged
/// and left out.
pub fn start(settings: &ExportingSettings, ctx: &Context) -> Running {
    let mut running = Running::default();
    if let Some(dir) = &ctx.spool_dir {
        if settings.enabled_instances().any(|i| i.keep_backlog) {
            if let Err(e) = std::fs::create_dir_all(dir) {
                log::error!(
                    "exporting: cannot create {}: {e}; backlogs are not kept across restarts",
                    dir.display()
                );
            }
        }
    }
    for instance in settings.enabled_instances() {
        let counters = Arc::new(Mutex::new(Counters::default()));
        let worker = match Worker::new(instance, ctx, Arc::clone(&counters)) {
            Ok(w) => w,
            Err(e) => {
                log::error!("exporting: instance '{}' ({}): {e}; not started", instance.name, instance.kind);
                continue;
            }
        };
        let (tx, rx) = bounded::<()>(1);
        let thread_name: String = format!("exp-{}", instance.name).chars().take(15).collect();
        match crate::sys::thread::spawn(thread_name, STACK, move || worker.run(&rx)) {
            Ok(thread) => {
                log::info!(
                    "exporting: instance '{}' ({}) sends {} every {} s to {}",
                    instance.name,
                    instance.kind,
                    instance.data_source,
                    instance.update_every,
                    instance.destinations.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
                );
                running.instances.push(Handle {
                    name: instance.name.clone(),
                    stop: Some(tx),
                    thread: Some(thread),
                    counters,
                });
            }
            Err(e) => log::error!("exporting: instance '{}': cannot start its thread: {e}", instance.name),
        }
    }
    running
}

impl Running {
    /// The instances running, by name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.instances.iter().map(|h| h.name.as_str())
    }

    /// What instance `name` did so far.
    pub fn counters(&self, name: &str) -> Option<Counters> {
        self.instances.iter().find(|h| h.name == name).map(|h| *h.counters.lock())
    }

    /// Stops every thread: the attempt in progress ends (at most `timeout ms` per
    /// destination), the backlog is spooled.
    pub fn stop(&mut self) {
        for h in &mut self.instances {
            if let Some(tx) = h.stop.take() {
                let _ = tx.try_send(());
            }
        }
        for h in &mut self.instances {
            if let Some(t) = h.thread.take() {
                if t.join().is_err() {
                    log::error!("exporting: instance '{}': its thread panicked", h.name);
                }
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One instance's thread state.
struct Worker {
    instance: Instance,
    hosts: Arc<Hosts>,
    hostname: String,
    filters: Filters,
    encoder: encode::Encoder,
    delivery: Delivery,
    backlog: Backlog,
    backoff: Backoff,
    /// No attempt before this (a failure's back-off).
    retry_at: Option<Instant>,
    /// Consecutive failed attempts, and when the last line about them was logged.
    failures: usize,
    logged: Option<Instant>,
    refusals_unlogged: usize,
    counters: Arc<Mutex<Counters>>,
    charts: Option<stats::Charts>,
    spool: Option<PathBuf>,
    /// The `before` of the last export (seconds).
    last_export: i64,
    /// No export before this (seconds): after a restart, the collectors define their charts
    /// again before the missed windows are read from them.
    settle_until: i64,
    /// Exports are made at seconds `t` with `t % update every == phase` ([`phase`]).
    phase: i64,
    out: Vec<u8>,
    /// The buffer of the batch delivered last, for the next one.
    spare: Vec<u8>,
    /// The size of the last batch: a new buffer's capacity.
    reserve: usize,
    scratch: Vec<u8>,
}

impl Worker {
    fn new(instance: &Instance, ctx: &Context, counters: Arc<Mutex<Counters>>) -> Result<Worker, String> {
        if instance.destinations.is_empty() {
            return Err("no destination".into());
        }
        let tls = if instance.kind.tls() || instance.destinations.iter().any(|d| d.tls) {
            Some(crate::net::tls::client_config(&instance.tls).map_err(|e| format!("TLS: {e}"))?)
        } else {
            None
        };
        let format = encode::format_of(instance);
        let encoder = encode::Encoder::new(instance);
        // Spread a fleet's retries: the instance name and the start time.
        let seed = instance
            .name
            .bytes()
            .fold(clock::now_realtime_usec(), |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        let backoff = Backoff::try_new(Duration::from_secs(1), MAX_BACKOFF, seed)?;
        let hostname =
            if instance.hostname.is_empty() { ctx.hostname.clone() } else { instance.hostname.clone() };
        let localhost = ctx.hosts.localhost();
        let charts = stats::Charts::new(localhost, &instance.name, instance.update_every);
        let spool = match (&ctx.spool_dir, instance.keep_backlog) {
            (Some(dir), true) => Some(dir.join(format!("{}.spool", sanitize(&instance.name)))),
            _ => None,
        };
        let mut w = Worker {
            filters: Filters::from_patterns(
                instance.send_hosts_matching.clone(),
                instance.send_charts_matching.clone(),
            ),
            backlog: Backlog::new(instance.buffer_on_failures, encoder.compressible()),
            delivery: Delivery::new(instance, format, tls),
            encoder,
            instance: instance.clone(),
            hosts: Arc::clone(&ctx.hosts),
            hostname,
            backoff,
            retry_at: None,
            failures: 0,
            logged: None,
            refusals_unlogged: 0,
            counters,
            charts,
            spool,
            last_export: clock::now_realtime_sec(),
            settle_until: 0,
            phase: phase(instance.update_every, localhost.settings().update_every),
            out: Vec::new(),
            spare: Vec::new(),
            reserve: 0,
            scratch: Vec::new(),
        };
        w.restore();
        Ok(w)
    }

    /// The spool of the previous run, if any.
    fn restore(&mut self) {
        let Some(path) = self.spool.clone() else { return };
        let name = &self.instance.name;
        match self.backlog.load(&path, &self.spool_kind()) {
            Ok((0, None)) => {}
            Ok((n, last)) => {
                let stores = self.hosts.localhost().settings().mode != MemoryMode::None;
                if let Some(t) =
                    last.filter(|_| stores && self.instance.data_source != DataSource::AsCollected)
                {
                    self.last_export = t.min(self.last_export);
                    // A chart exists again only once its collector ran: until then the
                    // windows missed while down would read as empty and be skipped.
                    let host_every = i64::from(self.hosts.localhost().settings().update_every.max(1));
                    self.settle_until = clock::now_realtime_sec() + 2 * host_every;
                }
                log::info!(
                    "exporting: instance '{name}': {n} batch(es) kept from the previous run ({}); \
                     exporting from {}",
                    path.display(),
                    self.last_export
                );
            }
            Err(e) => {
                log::error!("exporting: instance '{name}': spool file {} set aside: {e}", path.display())
            }
        }
        self.count(|_| {});
    }

    fn spool_kind(&self) -> String {
        format!("{} {} {}", self.instance.kind, self.instance.data_source, self.instance.prefix)
    }

    fn run(mut self, stop: &Receiver<()>) {
        let ue = i64::from(self.instance.update_every.max(1));
        let mut next = due_at_or_before(self.last_export, ue, self.phase) + ue;
        loop {
            let now_us = clock::now_realtime_usec();
            let Some(n) = self.step((now_us / USEC_PER_SEC) as i64, next, stop) else { break };
            next = n;
            let at = next.max(self.settle_until);
            let until_next =
                u64::try_from(at).unwrap_or(0).saturating_mul(USEC_PER_SEC).saturating_sub(now_us);
            let mut wait = Duration::from_micros(until_next.max(1000));
            if let (Some(t), false) = (self.retry_at, self.backlog.is_empty()) {
                wait = wait.min(t.saturating_duration_since(clock::now_monotonic()));
            }
            match stop.recv_timeout(wait) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        self.finish();
    }

    /// One turn of the loop at `now` (seconds): the exports due from the boundary `next` on,
    /// then delivery. Returns the next boundary; `None` when told to stop.
    fn step(&mut self, now: i64, mut next: i64, stop: &Receiver<()>) -> Option<i64> {
        let ue = i64::from(self.instance.update_every.max(1));
        if next - now > ue {
            // The clock went back: start again from now rather than wait for it.
            log::warn!(
                "exporting: instance '{}': the clock went back {} s; exporting from now",
                self.instance.name,
                next - ue - now
            );
            self.last_export = now;
            next = due_at_or_before(now, ue, self.phase) + ue;
        }
        if now >= next && now >= self.settle_until {
            if !self.last_chance(stop) {
                return None;
            }
            next = self.export_due(now, next);
        }
        self.deliver(stop).then_some(next)
    }

    /// A full backlog drops its oldest batch when the next one is made: before that, the
    /// backend is tried once more, whatever the back-off says (it may be back, and a minute
    /// of back-off must not cost data). False when told to stop.
    fn last_chance(&mut self, stop: &Receiver<()>) -> bool {
        if self.retry_at.is_none() || self.backlog.len() < self.backlog.capacity() {
            return true;
        }
        self.retry_at = None;
        self.deliver(stop)
    }

    /// Makes the exports due at `now`, from the boundary `next` on; returns the next
    /// boundary.
    fn export_due(&mut self, now: i64, next: i64) -> i64 {
        let ue = i64::from(self.instance.update_every.max(1));
        let last_due = due_at_or_before(now, ue, self.phase);
        let mut first = next;
        if self.instance.data_source == DataSource::AsCollected {
            first = last_due;
        }
        let due = ((last_due - first) / ue + 1).max(1);
        let keep = self.backlog.capacity() as i64;
        if due > keep {
            let skipped = due - keep;
            log::warn!(
                "exporting: instance '{}': {skipped} export(s) of {ue} s were due while it could not run; \
                 the newest {keep} ('buffer on failures') are made, the window before them is not exported",
                self.instance.name
            );
            first += skipped * ue;
            self.last_export = first - ue;
            // Counted as lost batches (their metrics were never read, so are not counted).
            self.count(|c| c.lost_batches += usize::try_from(skipped).unwrap_or(usize::MAX));
        }
        let mut before = first;
        while before <= last_due {
            self.make(before);
            before += ue;
        }
        let cpu = crate::sys::mem::thread_cpu_usec().unwrap_or((0, 0));
        if let Some(charts) = self.charts.as_mut() {
            let c = *self.counters.lock();
            charts.update(last_due, &c, cpu);
        }
        last_due + ue
    }

    /// One export with `before` as its time.
    fn make(&mut self, before: i64) {
        let export = Export { source: self.instance.data_source, after: self.last_export, before };
        let batch = Batch { export, filters: &self.filters, hostname: &self.hostname };
        if self.out.capacity() == 0 {
            // The buffer of the batch delivered last (its pages are in memory), or a new one
            // the size of the last batch.
            self.out = match std::mem::take(&mut self.spare) {
                spare if spare.capacity() > 0 => spare,
                _ => Vec::with_capacity(self.reserve),
            };
        }
        let made = self.encoder.encode(&self.hosts, &batch, &mut self.out);
        self.last_export = before;
        let metrics = match made {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => {
                log::error!("exporting: instance '{}': {e}; batch dropped", self.instance.name);
                return;
            }
        };
        self.reserve = self.out.len();
        let data = std::mem::take(&mut self.out);
        let dropped = self.backlog.push(Entry::new(data, metrics, before));
        if dropped.batches > 0 {
            log::warn!(
                "exporting: instance '{}': 'buffer on failures' ({}) is full: the oldest {} batch(es), {} metrics, dropped",
                self.instance.name,
                self.backlog.capacity(),
                dropped.batches,
                dropped.metrics
            );
        }
        if self.retry_at.is_some() {
            self.backlog.compact();
        }
        self.count(|c| {
            c.made_batches += 1;
            c.made_metrics += metrics;
            c.lost_batches += dropped.batches;
            c.lost_metrics += dropped.metrics;
            c.lost_bytes += dropped.bytes;
        });
    }

    /// Removes the oldest batch (delivered, or refused for good) and keeps its buffer for the
    /// next batch.
    fn recycle(&mut self) {
        if let Some(buffer) = self.backlog.pop().and_then(Entry::into_buffer) {
            self.spare = buffer;
        }
    }

    /// Sends what waits, oldest first, until the backend fails or the backlog is empty;
    /// false when told to stop.
    fn deliver(&mut self, stop: &Receiver<()>) -> bool {
        while let Some(front) = self.backlog.front_mut() {
            if self.retry_at.is_some_and(|t| clock::now_monotonic() < t) {
                break;
            }
            let (metrics, len) = (front.metrics, front.len());
            // A batch sent whole over TCP is kept by the connection: its buffer is exchanged
            // for the one kept before, and the entry is removed (only on `Sent`).
            let outcome = match front.buffer_mut() {
                Some(buffer) => self.delivery.send_owned(buffer),
                None => match front.bytes(&mut self.scratch) {
                    Ok(bytes) => self.delivery.send(bytes),
                    Err(e) => Outcome::Refused { why: e.to_string() },
                },
            };
            let traffic = std::mem::take(&mut self.delivery.traffic);
            self.count(|c| {
                c.connects += traffic.connects;
                c.received_bytes += traffic.received;
                c.responses += traffic.responses;
            });
            match outcome {
                Outcome::Sent => {
                    self.recycle();
                    if self.failures > 0 {
                        log::info!(
                            "exporting: instance '{}': the backend takes batches again after {} failed attempt(s); \
                             {} batch(es) still waiting",
                            self.instance.name,
                            self.failures,
                            self.backlog.len()
                        );
                    }
                    self.failures = 0;
                    self.retry_at = None;
                    self.backoff.reset();
                    self.count(|c| {
                        c.sent_batches += 1;
                        c.sent_metrics += metrics;
                        c.sent_bytes += len;
                    });
                }
                Outcome::Retry { why, floor } => {
                    // The jitter spreads the back-off, never below a `Retry-After`.
                    let delay = self.backoff.next(floor).max(floor);
                    self.retry_at = Some(clock::now_monotonic() + delay);
                    self.failures += 1;
                    self.backlog.compact();
                    self.count(|c| c.failures += 1);
                    if self.should_log() {
                        log::warn!(
                            "exporting: instance '{}': cannot send: {why}; {} batch(es), {} metrics kept \
                             (at most {}), next attempt in {} s",
                            self.instance.name,
                            self.backlog.len(),
                            self.backlog.metrics(),
                            self.backlog.capacity(),
                            delay.as_secs()
                        );
                    }
                    break;
                }
                Outcome::Refused { why } => {
                    self.recycle();
                    self.refusals_unlogged += 1;
                    if self.should_log() {
                        log::error!(
                            "exporting: instance '{}': batch of {metrics} metrics refused for good, dropped \
                             ({} refusal(s) since the last such line): {why}",
                            self.instance.name,
                            self.refusals_unlogged
                        );
                        self.refusals_unlogged = 0;
                    }
                    self.count(|c| {
                        c.refused_batches += 1;
                        c.refused_metrics += metrics;
                        c.refused_bytes += len;
                    });
                }
            }
            if !matches!(stop.try_recv(), Err(TryRecvError::Empty)) {
                return false;
            }
        }
        true
    }

    fn should_log(&mut self) -> bool {
        let now = clock::now_monotonic();
        if self.logged.is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            return false;
        }
        self.logged = Some(now);
        true
    }

    /// Updates the shared counters (`f`), and the backlog's figures.
    fn count(&self, f: impl FnOnce(&mut Counters)) {
        let mut c = self.counters.lock();
        f(&mut c);
        c.buffered_batches = self.backlog.len();
        c.buffered_metrics = self.backlog.metrics();
        c.buffered_bytes = self.backlog.bytes();
        c.backlog_memory = self.backlog.held();
        c.backlog_memory_peak = c.backlog_memory_peak.max(c.backlog_memory);
    }

    /// At stop: the backlog goes to the spool, or is said to be lost.
    fn finish(mut self) {
        self.delivery.close();
        let name = &self.instance.name;
        match &self.spool {
            Some(path) => match self.backlog.save(path, &self.spool_kind(), self.last_export) {
                Ok(0) => {}
                Ok(n) => log::info!(
                    "exporting: instance '{name}': {n} batch(es) not yet sent kept in {} for the next start",
                    path.display()
                ),
                Err(e) => log::error!(
                    "exporting: instance '{name}': cannot write {}: {e}; {} batch(es) not sent are lost",
                    path.display(),
                    self.backlog.len()
                ),
            },
            None if !self.backlog.is_empty() => log::warn!(
                "exporting: instance '{name}': {} batch(es), {} metrics, not sent are lost at stop \
                 ('keep backlog on restart' is off)",
                self.backlog.len(),
                self.backlog.metrics()
            ),
            None => {}
        }
    }
}

/// When in each period of `update every` an instance exports, as Netdata 1.37 does: the
/// first second `t` with `t % update_every >= update_every - node_update_every`, seconds
/// the node collects in being multiples of its update every.
pub fn phase(update_every: u32, node_update_every: u32) -> i64 {
    let (ue, node) = (i64::from(update_every.max(1)), i64::from(node_update_every.max(1)));
    // Netdata's loop wakes on multiples of the node's update every.
    (ue - node.min(ue)..ue).find(|t| t % node == 0).unwrap_or(0)
}

/// The latest export time at or before `t`, exporting every `every` seconds at `phase`.
pub fn due_at_or_before(t: i64, every: i64, phase: i64) -> i64 {
    t - (t - phase).rem_euclid(every.max(1))
}

/// A file name from an instance name.
fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// `<cache dir>/exporting`.
pub fn spool_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("exporting")
}

#[cfg(test)]
mod tests;

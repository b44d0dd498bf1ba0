//! Housekeeping of obsolete charts and dimensions (`[db] cleanup obsolete charts after secs`,
//! `[db] delete obsolete charts files`).
//!
//! A chart becomes obsolete when its source says so: a collector whose interface, disk or
//! mount vanished, a plugin's or a child's `CHART … obsolete`, a `DIMENSION … obsolete`.
//! Once it has been obsolete, uncollected and unstored for the configured time, one small
//! thread removes it from its host — the API, the sender and the receivers no longer find
//! it — and frees its storage, deleting its `save`/`map` files if configured. A source that
//! defines it again gets a fresh chart. Each run scans one atomic per chart and removes at
//! most [`CleanupPolicy::max_charts_per_run`] charts, so a run stays short on a large parent.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, RecvTimeoutError, Sender};

use super::Hosts;
use crate::clock;
use crate::config::settings::CleanupSettings;

/// Netdata's default for `cleanup obsolete charts after secs`.
pub const DEFAULT_AFTER_SECS: i64 = 3600;

/// What cleanup frees and how fast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// Seconds a chart or dimension stays after it became obsolete and was last collected.
    pub after: i64,
    /// Delete the `save`/`map` files of what is removed.
    pub delete_files: bool,
    /// Most charts removed per run over all hosts; the rest wait for the next run.
    pub max_charts_per_run: usize,
}

/// What a cleanup run removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    pub charts: usize,
    /// Dimensions of removed charts plus obsolete dimensions removed from live charts.
    pub dimensions: usize,
}

impl CleanupPolicy {
    /// The default bound of charts removed per run.
    pub const MAX_CHARTS_PER_RUN: usize = 2_000;

    /// A policy; `after` below 1 s is raised to 1 s (Netdata's minimum is 10 s; a shorter
    /// time is for tests).
    pub fn new(after: i64, delete_files: bool) -> CleanupPolicy {
        CleanupPolicy { after: after.max(1), delete_files, max_charts_per_run: Self::MAX_CHARTS_PER_RUN }
    }

    /// `[db] cleanup obsolete charts after secs` and `[db] delete obsolete charts files`.
    pub fn from_settings(settings: &CleanupSettings) -> CleanupPolicy {
        let secs = settings.obsolete_charts_after_secs;
        if secs == 0 {
            log::warn!("[db] cleanup obsolete charts after secs = 0 is too short; using 1");
        }
        let after = i64::try_from(secs).unwrap_or(i64::MAX);
        CleanupPolicy::new(after, settings.delete_obsolete_files)
    }

    /// How often the housekeeping thread runs: a tenth of the expiry time, between 1 s and
    /// 60 s, so a chart lives at most 10 % longer than configured.
    pub fn interval(&self) -> Duration {
        Duration::from_secs((self.after / 10).clamp(1, 60) as u64)
    }
}

impl Default for CleanupPolicy {
    fn default() -> Self {
        CleanupPolicy::new(DEFAULT_AFTER_SECS, true)
    }
}

/// The housekeeping thread; stopped (and joined) by [`Housekeeping::stop`] or on drop.
pub struct Housekeeping {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the thread that runs [`Hosts::cleanup_obsolete`] every [`CleanupPolicy::interval`].
pub fn start(hosts: Arc<Hosts>, policy: CleanupPolicy) -> io::Result<Housekeeping> {
    let (tx, rx) = bounded::<()>(1);
    let every = policy.interval();
    let thread = crate::sys::thread::spawn("housekeeping", crate::sys::thread::MEDIUM, move || {
        let mut trim_again = false;
        loop {
            match rx.recv_timeout(every) {
                Err(RecvTimeoutError::Timeout) => {
                    let removed = hosts.cleanup_obsolete(clock::now_realtime_sec(), &policy);
                    let any = removed.charts > 0 || removed.dimensions > 0;
                    // Once more on the next run: the sessions that defined the charts forget
                    // their ids when they next speak, which frees the last pieces pinning
                    // the heap's pages.
                    if any || trim_again {
                        give_back_free_memory();
                    }
                    trim_again = any;
                }
                _ => return,
            }
        }
    })?;
    Ok(Housekeeping { stop: Some(tx), thread: Some(thread) })
}

/// Returns the allocator's free pages to the system after a cleanup freed charts (or a
/// host): glibc keeps freed memory in its heap (only its top is trimmed on its own), so
/// without this the node's RSS would stay near its highest point after every churn.
pub fn give_back_free_memory() {
    crate::sys::mem::trim_allocator();
}

impl Housekeeping {
    /// Tells the thread to stop. A run in progress (deleting thousands of files can take the
    /// file system seconds) is not waited for: it only removes what is already gone from
    /// the index, so the daemon's orderly stop (saving the hosts) does not need it.
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.try_send(());
        }
        if let Some(t) = self.thread.take() {
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Housekeeping {
    fn drop(&mut self) {
        self.stop();
    }
}

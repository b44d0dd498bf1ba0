//! Helpers shared by the collectors' fixture tests.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::clock::USEC_PER_SEC;
use crate::rrd::{Chart, Host, HostSettings};

/// A tick half a second past a whole second, like the collector threads' wake-ups.
pub const T0: u64 = 1_700_000_000 * USEC_PER_SEC + USEC_PER_SEC / 2;

/// `tests/fixtures/proc/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proc").join(name)
}

/// `tests/fixtures/sys`'s parent: a host prefix whose `sys/` is the fixture tree.
pub fn sys_prefix() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A RAM-mode host with one-second steps.
pub fn host() -> Arc<Host> {
    Arc::new(Host::new(
        "00000000-0000-0000-0000-000000000001",
        "test",
        HostSettings { history: 60, ..HostSettings::default() },
    ))
}

/// The newest stored value of dimension `dim` (NaN when there is none).
pub fn last(chart: &Chart, dim: usize) -> f64 {
    chart.query(dim, 0, i64::MAX).last().and_then(|p| p.value).unwrap_or(f64::NAN)
}

/// A scratch directory for staging fixture sequences, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nanodata-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Copies fixture `name` to `<scratch>/<to>`.
    pub fn stage(&self, name: &str, to: &str) {
        std::fs::copy(fixture(name), self.0.join(to)).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

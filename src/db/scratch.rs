//! A scratch directory for the storage tests, unique per test and removed on drop.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    /// `<temp dir>/nanodata-<tag>-<pid>-<n>`, empty.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("nanodata-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// The file of the dimension `dim` of `chart` in this host directory.
    pub fn file(&self, chart: &str, dim: &str) -> PathBuf {
        super::dimension_path(&self.0, chart, dim)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

//! The pid file: `<pid>\n`, present for as long as the daemon runs.

use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A written pid file, removed when dropped.
#[derive(Debug)]
pub struct PidFile(PathBuf);

impl PidFile {
    /// Writes this process's pid and a newline to `path` (replacing any stale file,
    /// mode 0o644).
    pub fn create(path: &Path) -> io::Result<PidFile> {
        let mut file =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o644).open(path)?;
        file.write_all(format!("{}\n", std::process::id()).as_bytes())?;
        Ok(PidFile(path.to_path_buf()))
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Nothing useful to do if it is already gone or the directory became read-only.
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_and_removed_on_drop() {
        let path = std::env::temp_dir().join(format!("nanodata-test-{}.pid", std::process::id()));
        std::fs::write(&path, b"99999999\nstale junk\n").unwrap();
        let pid = PidFile::create(&path).unwrap();
        assert_eq!(pid.path(), path);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{}\n", std::process::id()));
        drop(pid);
        assert!(!path.exists());
    }

    #[test]
    fn missing_directory_is_an_error() {
        let path = std::env::temp_dir().join("nanodata-no-such-dir/x/nanodata.pid");
        assert!(PidFile::create(&path).is_err());
    }
}

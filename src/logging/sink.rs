//! Where a log's lines go: nowhere, stderr, stdout, syslog or an append-only file.
//!
//! Each line reaches the sink as one complete buffer and is written with one call, so
//! lines stay whole even when two logs share stderr.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use log::Level;

use super::Target;
use crate::sys::syslog;

/// An opened log destination.
pub enum Sink {
    None,
    Stderr,
    Stdout,
    Syslog,
    File { path: PathBuf, file: File },
}

impl Sink {
    /// Opens `target`; a file is opened for appending (created 0o644, parent dir created).
    /// The error names the path.
    pub fn open(target: &Target) -> io::Result<Sink> {
        Ok(match target {
            Target::None => Sink::None,
            Target::Stderr => Sink::Stderr,
            Target::Stdout => Sink::Stdout,
            Target::Syslog => Sink::Syslog,
            Target::File(path) => Sink::File { path: path.clone(), file: open_append(path)? },
        })
    }

    /// True when lines go to syslog, which stamps its own time.
    pub fn is_syslog(&self) -> bool {
        matches!(self, Sink::Syslog)
    }

    /// Writes one complete, newline-terminated line. Errors are dropped: there is nowhere
    /// left to report them.
    pub fn write_line(&mut self, line: &[u8], level: Level) {
        let _ = match self {
            Sink::None => Ok(()),
            Sink::Stderr => io::stderr().lock().write_all(line),
            Sink::Stdout => io::stdout().lock().write_all(line),
            Sink::File { file, .. } => file.write_all(line),
            Sink::Syslog => {
                syslog(level, line);
                Ok(())
            }
        };
    }

    /// Reopens a file at its path; the old handle is kept if that fails.
    pub fn reopen(&mut self) -> io::Result<()> {
        if let Sink::File { path, file } = self {
            *file = open_append(path)?;
        }
        Ok(())
    }

    pub fn flush(&mut self) {
        let _ = match self {
            Sink::Stdout => io::stdout().flush(),
            Sink::Stderr => io::stderr().flush(),
            _ => Ok(()),
        };
    }
}

/// Connects to syslog as `nanodata[pid]` with the named facility ("daemon", "local0"..).
/// Unknown names fall back to `daemon`.
pub fn open_syslog(facility: &str) {
    syslog::open(facility_code(facility));
}

/// The syslog facility code for a netdata.conf facility name.
pub fn facility_code(name: &str) -> syslog::Code {
    match name.trim().to_ascii_lowercase().as_str() {
        "auth" => syslog::LOG_AUTH,
        "authpriv" => syslog::LOG_AUTHPRIV,
        "cron" => syslog::LOG_CRON,
        "ftp" => syslog::LOG_FTP,
        "kern" => syslog::LOG_KERN,
        "lpr" => syslog::LOG_LPR,
        "mail" => syslog::LOG_MAIL,
        "news" => syslog::LOG_NEWS,
        "syslog" => syslog::LOG_SYSLOG,
        "user" => syslog::LOG_USER,
        "uucp" => syslog::LOG_UUCP,
        "local0" => syslog::LOG_LOCAL0,
        "local1" => syslog::LOG_LOCAL1,
        "local2" => syslog::LOG_LOCAL2,
        "local3" => syslog::LOG_LOCAL3,
        "local4" => syslog::LOG_LOCAL4,
        "local5" => syslog::LOG_LOCAL5,
        "local6" => syslog::LOG_LOCAL6,
        "local7" => syslog::LOG_LOCAL7,
        _ => syslog::LOG_DAEMON,
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            std::fs::DirBuilder::new().recursive(true).mode(0o755).create(parent).map_err(named)?;
        }
    }
    OpenOptions::new().append(true).create(true).mode(0o644).open(path).map_err(named)
}

fn syslog(level: Level, line: &[u8]) {
    let prio = match level {
        Level::Error => syslog::LOG_ERR,
        Level::Warn => syslog::LOG_WARNING,
        Level::Info => syslog::LOG_INFO,
        Level::Debug | Level::Trace => syslog::LOG_DEBUG,
    };
    // The message stops at the first NUL or the newline, whichever comes first.
    syslog::send(prio, line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_names() {
        assert_eq!(facility_code("daemon"), syslog::LOG_DAEMON);
        assert_eq!(facility_code("LOCAL3"), syslog::LOG_LOCAL3);
        assert_eq!(facility_code("bogus"), syslog::LOG_DAEMON);
    }

    #[test]
    fn file_parent_dir_created_and_error_names_path() {
        let dir = std::env::temp_dir().join(format!("nanodata-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub/health.log");
        let mut sink = Sink::open(&Target::File(path.clone())).unwrap();
        sink.write_line(b"x\n", Level::Info);
        assert_eq!(std::fs::read(&path).unwrap(), b"x\n");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o022, 0o644 & !0o022);

        let bad = path.join("not-a-dir/x.log"); // parent is a regular file
        let err = Sink::open(&Target::File(bad)).err().unwrap();
        assert!(err.to_string().contains("health.log"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! The daemon's logs: the error log (the `log` crate's global sink), the access log and the
//! health log, each sent to a file, syslog, stderr, stdout or nowhere.
//!
//! Lines look like Netdata's: `2026-11-22 00:45:12: nanodata: INFO  : main : message`
//! (local time). The error log has Netdata's flood protection: at most N lines per window,
//! then one notice, silence until the window ends, and one line saying how much was dropped.
//! Files are opened for appending and reopened on SIGHUP (`reopen`) for logrotate.
//!
//! `init_stderr` installs the logger early, writing to stderr; `configure` later swaps every
//! target in place, so nothing logged in between is lost, and replays the (bounded) lines
//! logged before it into the configured error log, so that configuration warnings are found
//! in `error.log` too. The work is done by [`Logger`],
//! which tests use directly because the `log` crate allows only one global logger.

mod logger;
mod sink;

use std::io;
use std::path::{Path, PathBuf};

use log::{LevelFilter, Metadata, Record};

pub use logger::{level_label, local_timestamp, Admit, Flood, Logger};
pub use sink::{facility_code, Sink};

/// Where one log goes, as written in netdata.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    None,
    Stderr,
    Stdout,
    Syslog,
    File(PathBuf),
}

impl Target {
    /// `none`, `syslog`, `stderr` (or `system`), `stdout`, else a file path; a relative path
    /// is taken inside `log_dir`. An empty value means `none`.
    pub fn parse(value: &str, log_dir: &Path) -> Target {
        match value.trim() {
            "" | "none" => Target::None,
            "syslog" => Target::Syslog,
            "stderr" | "system" => Target::Stderr,
            "stdout" => Target::Stdout,
            path => {
                let path = Path::new(path);
                if path.is_absolute() {
                    Target::File(path.to_path_buf())
                } else {
                    Target::File(log_dir.join(path))
                }
            }
        }
    }
}

/// The logging part of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub error: Target,
    pub access: Target,
    pub health: Target,
    /// Most verbose level the error log writes.
    pub level: LevelFilter,
    /// Flood-protection window in seconds; 0 disables protection.
    pub flood_period_secs: u64,
    /// Error-log lines allowed per window; 0 disables protection.
    pub flood_max_lines: u64,
    /// Syslog facility name: "daemon", "local0".."local7", ...
    pub syslog_facility: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            error: Target::Stderr,
            access: Target::None,
            health: Target::None,
            level: LevelFilter::Info,
            flood_period_secs: Flood::DEFAULT_PERIOD_SECS,
            flood_max_lines: Flood::DEFAULT_MAX_LINES,
            syslog_facility: "daemon".to_owned(),
        }
    }
}

/// Installs the logger writing to stderr at `level`, before the configuration is read.
/// Installing twice only changes the level.
pub fn init_stderr(level: LevelFilter) {
    install();
    log::set_max_level(level);
}

/// Points the three logs at `settings`' targets, replacing the current sinks in place.
///
/// A file that cannot be opened falls back to stderr; the first such error (naming the
/// path) is returned so the caller can log it.
pub fn configure(settings: &Settings) -> io::Result<()> {
    install();
    log::set_max_level(settings.level);
    let targets = [(&ERROR, &settings.error), (&ACCESS, &settings.access), (&HEALTH, &settings.health)];
    if targets.iter().any(|(_, t)| **t == Target::Syslog) {
        sink::open_syslog(&settings.syslog_facility);
    }
    let mut first_error = None;
    for (logger, target) in targets {
        let sink = Sink::open(target).unwrap_or_else(|e| {
            first_error.get_or_insert(e);
            Sink::Stderr
        });
        // The old sink (and its file) is dropped here, after the lock is released.
        drop(logger.set_sink(sink));
    }
    ERROR.set_flood(Flood::new(settings.flood_period_secs, settings.flood_max_lines));
    // Lines from before went to stderr; a different error log gets them too.
    let early = EARLY.lock().take().unwrap_or_default();
    if settings.error != Target::Stderr {
        for line in &early {
            ERROR.write_at(line.time, line.level, &line.thread, format_args!("{}", line.message));
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Reopens every file target (SIGHUP after logrotate), then logs one info line.
pub fn reopen() {
    for logger in [&ERROR, &ACCESS, &HEALTH] {
        if let Err(e) = logger.reopen() {
            log::error!("cannot reopen log file, still writing to the old one: {e}");
        }
    }
    log::info!("log files reopened");
}

/// Writes one line to the access log.
pub fn access(line: &str) {
    ACCESS.line(line);
}

/// Writes one line to the health log.
pub fn health(line: &str) {
    HEALTH.line(line);
}

/// Flushes all three logs.
pub fn flush() {
    for logger in [&ERROR, &ACCESS, &HEALTH] {
        logger.flush();
    }
}

/// A line logged before `configure`, kept for replay.
struct EarlyLine {
    time: i64,
    level: log::Level,
    thread: String,
    message: String,
}

/// At most this many early lines are kept; start-up logs far fewer.
const EARLY_MAX_LINES: usize = 256;

/// Lines logged before `configure`; `None` once configured.
static EARLY: parking_lot::Mutex<Option<Vec<EarlyLine>>> = parking_lot::Mutex::new(Some(Vec::new()));

static ERROR: Logger =
    Logger::new(Sink::Stderr, Flood::new(Flood::DEFAULT_PERIOD_SECS, Flood::DEFAULT_MAX_LINES));
static ACCESS: Logger = Logger::new(Sink::None, Flood::disabled());
static HEALTH: Logger = Logger::new(Sink::None, Flood::disabled());

/// The `log` crate's view of the error log.
struct ErrorLog;

static ERROR_LOG: ErrorLog = ErrorLog;

impl log::Log for ErrorLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        if let Some(early) = EARLY.lock().as_mut() {
            if early.len() < EARLY_MAX_LINES {
                early.push(EarlyLine {
                    time: crate::clock::now_realtime_sec(),
                    level: record.level(),
                    thread: name.to_owned(),
                    message: record.args().to_string(),
                });
            }
        }
        ERROR.write(record.level(), name, *record.args());
    }

    fn flush(&self) {
        ERROR.flush();
    }
}

fn install() {
    // Fails only when a logger is already installed, which is ours or a test harness's.
    let _ = log::set_logger(&ERROR_LOG);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_parse() {
        let dir = Path::new("/var/log/nanodata");
        assert_eq!(Target::parse("none", dir), Target::None);
        assert_eq!(Target::parse("", dir), Target::None);
        assert_eq!(Target::parse("syslog", dir), Target::Syslog);
        assert_eq!(Target::parse("stderr", dir), Target::Stderr);
        assert_eq!(Target::parse(" system ", dir), Target::Stderr);
        assert_eq!(Target::parse("stdout", dir), Target::Stdout);
        assert_eq!(Target::parse("error.log", dir), Target::File(dir.join("error.log")));
        assert_eq!(Target::parse("/tmp/x.log", dir), Target::File("/tmp/x.log".into()));
    }

    #[test]
    fn level_labels_are_five_wide() {
        for level in
            [log::Level::Error, log::Level::Warn, log::Level::Info, log::Level::Debug, log::Level::Trace]
        {
            assert_eq!(level_label(level).len(), 5);
        }
    }

    /// The only test touching the process-wide logger: installs it, points all three logs
    /// at files, logs through the `log` macros, rotates, and checks the bad-path fallback.
    #[test]
    fn global_configure_reopen_and_fallback() {
        let dir = std::env::temp_dir().join(format!("nanodata-global-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        init_stderr(LevelFilter::Info);
        let settings = Settings {
            error: Target::parse("error.log", &dir),
            access: Target::parse("access.log", &dir),
            health: Target::parse("health.log", &dir),
            level: LevelFilter::Debug,
            flood_period_secs: 0,
            flood_max_lines: 0,
            syslog_facility: "daemon".into(),
        };
        configure(&settings).unwrap();
        log::debug!("debug via macro");
        log::trace!("trace is filtered");
        access("GET /api/v1/info");
        health("alarm cpu.usage CRITICAL");
        std::fs::rename(dir.join("error.log"), dir.join("error.log.1")).unwrap();
        reopen();
        log::warn!("after reopen");
        flush();

        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let old = read("error.log.1");
        assert!(old.contains(": nanodata: DEBUG : "), "{old}");
        let me = std::thread::current().name().unwrap_or("unnamed").to_owned();
        assert!(old.contains(&format!("DEBUG : {me} : debug via macro\n")), "{old}");
        assert!(!old.contains("trace is filtered"));
        let new = read("error.log");
        assert!(new.contains("INFO  : ") && new.contains(": log files reopened\n"), "{new}");
        assert!(new.contains("WARN  : ") && new.contains(": after reopen\n"));
        assert!(read("access.log").ends_with(": nanodata: GET /api/v1/info\n"));
        assert!(read("health.log").ends_with(": nanodata: alarm cpu.usage CRITICAL\n"));

        // A file under a regular file cannot be opened: stderr takes over, error returned.
        let bad = Settings { error: Target::File(dir.join("access.log/x.log")), ..settings };
        let err = configure(&bad).err().unwrap();
        assert!(err.to_string().contains("x.log"), "{err}");
        configure(&Settings { error: Target::Stderr, ..Settings::default() }).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

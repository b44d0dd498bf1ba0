//! The testable core of the logger: one `Logger` per log (error, access, health).
//!
//! A `Logger` owns its sink, its flood-protection window and a reusable line buffer behind
//! one mutex, so a line is formatted and written in one piece and lines from concurrent
//! threads never interleave. Time is passed in (`write_at`, `line_at`) so tests can drive
//! the flood window without sleeping; `write` and `line` read the wall clock.

use std::fmt;
use std::io::{self, Write};

use log::Level;
use parking_lot::Mutex;

use super::sink::Sink;

/// One log: a sink, a flood-protection policy and a line buffer, behind one lock.
pub struct Logger {
    state: Mutex<State>,
}

impl Logger {
    /// A logger writing to `sink` with the given flood protection.
    pub const fn new(sink: Sink, flood: Flood) -> Logger {
        Logger { state: Mutex::new(State { sink, flood, buf: Vec::new() }) }
    }

    /// Writes one error-log line stamped with the current wall-clock time.
    pub fn write(&self, level: Level, thread: &str, msg: fmt::Arguments<'_>) {
        self.write_at(crate::clock::now_realtime_sec(), level, thread, msg);
    }

    /// Writes one error-log line as if the time were `now` (seconds since the epoch):
    /// `YYYY-MM-DD HH:MM:SS: nanodata: LEVEL : THREAD : message`, subject to flood protection.
    pub fn write_at(&self, now: i64, level: Level, thread: &str, msg: fmt::Arguments<'_>) {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        match st.flood.admit(now) {
            Admit::Pass => {}
            Admit::Resume { suppressed, seconds } => {
                let notice = format_args!(
                    "flood protection ended: {suppressed} messages were suppressed \
                     in the last {seconds} seconds"
                );
                st.emit(now, Level::Info, thread, notice);
            }
            Admit::Limit { count, seconds, remaining } => {
                let notice = format_args!(
                    "logged too many messages ({count} in the last {seconds} seconds); \
                     suppressing further messages for {remaining} seconds"
                );
                st.emit(now, Level::Warn, thread, notice);
                return;
            }
            Admit::Drop => return,
        }
        st.emit(now, level, thread, msg);
    }

    /// Writes one plain line (access or health log) stamped with the current time.
    pub fn line(&self, text: &str) {
        self.line_at(crate::clock::now_realtime_sec(), text);
    }

    /// Writes `YYYY-MM-DD HH:MM:SS: nanodata: text` as if the time were `now`; syslog gets
    /// `text` alone. Not subject to flood protection.
    pub fn line_at(&self, now: i64, text: &str) {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        st.buf.clear();
        if !st.sink.is_syslog() {
            push_prefix(&mut st.buf, now);
        }
        st.buf.extend_from_slice(text.as_bytes());
        finish_line(&mut st.buf);
        st.sink.write_line(&st.buf, Level::Info);
    }

    /// Replaces the sink; the old one (and its file) is dropped after the swap.
    pub fn set_sink(&self, sink: Sink) -> Sink {
        std::mem::replace(&mut self.state.lock().sink, sink)
    }

    /// Changes the flood-protection limits and starts a fresh window.
    pub fn set_flood(&self, flood: Flood) {
        self.state.lock().flood = flood;
    }

    /// Reopens a file sink at its path (after logrotate moved it); other sinks are untouched.
    /// On failure the old file stays in use.
    pub fn reopen(&self) -> io::Result<()> {
        self.state.lock().sink.reopen()
    }

    /// Flushes buffered output (only stdout buffers).
    pub fn flush(&self) {
        self.state.lock().sink.flush();
    }
}

/// Flood protection: at most `max_lines` lines per window of `period_secs` seconds.
///
/// A window opens with the first line after the previous one ended. A `Flood` with either
/// limit 0 never suppresses anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flood {
    period: i64,
    max_lines: u64,
    start: i64,
    count: u64,
    suppressed: u64,
}

impl Flood {
    /// Netdata's default window (`errors flood protection period`), in seconds.
    pub const DEFAULT_PERIOD_SECS: u64 = 1200;
    /// Netdata's default limit (`logs to trigger flood protection`).
    pub const DEFAULT_MAX_LINES: u64 = 200;

    /// A policy of `max_lines` per `period_secs`; 0 for either disables it.
    pub const fn new(period_secs: u64, max_lines: u64) -> Flood {
        let period = if period_secs > i64::MAX as u64 { i64::MAX } else { period_secs as i64 };
        Flood { period, max_lines, start: 0, count: 0, suppressed: 0 }
    }

    /// No flood protection at all.
    pub const fn disabled() -> Flood {
        Flood::new(0, 0)
    }

    /// Decides the fate of one line logged at `now`.
    pub fn admit(&mut self, now: i64) -> Admit {
        if self.period == 0 || self.max_lines == 0 {
            return Admit::Pass;
        }
        let elapsed = now.saturating_sub(self.start);
        // A window that ended (or a clock that stepped back) starts a new one.
        let mut resumed = None;
        if self.count == 0 || elapsed >= self.period || elapsed < 0 {
            if self.suppressed > 0 {
                resumed = Some((self.suppressed, elapsed.max(0)));
            }
            self.start = now;
            self.count = 0;
            self.suppressed = 0;
        }
        self.count += 1;
        if self.count <= self.max_lines {
            return match resumed {
                Some((suppressed, seconds)) => Admit::Resume { suppressed, seconds },
                None => Admit::Pass,
            };
        }
        self.suppressed += 1;
        if self.count == self.max_lines + 1 {
            let seconds = now - self.start;
            Admit::Limit { count: self.count, seconds, remaining: self.period - seconds }
        } else {
            Admit::Drop
        }
    }
}

/// What flood protection says about one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Write the line.
    Pass,
    /// A suppressing window ended: write a notice with the count, then the line.
    Resume { suppressed: u64, seconds: i64 },
    /// The limit was just crossed: write the suppression notice instead of the line.
    Limit { count: u64, seconds: i64, remaining: i64 },
    /// Suppressed: write nothing.
    Drop,
}

/// The padded five-character level label of a log line.
pub fn level_label(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARN ",
        Level::Info => "INFO ",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    }
}

/// `YYYY-MM-DD HH:MM:SS` in local time, without allocating.
pub fn local_timestamp(secs: i64) -> [u8; 19] {
    let mut out = *b"0000-00-00 00:00:00";
    // A time the C library cannot hold (a 32-bit time_t past 2038) is left as zeros rather
    // than wrapped to 1901.
    let Some(tm) = crate::sys::time::local_time(secs) else {
        return out;
    };
    put_digits(&mut out[0..4], tm.year.clamp(0, 9999) as u32);
    put_digits(&mut out[5..7], tm.month);
    put_digits(&mut out[8..10], tm.day);
    put_digits(&mut out[11..13], tm.hour);
    put_digits(&mut out[14..16], tm.minute);
    put_digits(&mut out[17..19], tm.second);
    out
}

struct State {
    sink: Sink,
    flood: Flood,
    /// Reused for every line so steady-state logging does not allocate.
    buf: Vec<u8>,
}

impl State {
    fn emit(&mut self, now: i64, level: Level, thread: &str, msg: fmt::Arguments<'_>) {
        self.buf.clear();
        if !self.sink.is_syslog() {
            push_prefix(&mut self.buf, now);
        }
        self.buf.extend_from_slice(level_label(level).as_bytes());
        self.buf.extend_from_slice(b" : ");
        self.buf.extend_from_slice(thread.as_bytes());
        self.buf.extend_from_slice(b" : ");
        // Writing into a Vec only fails if a Display impl reports an error; keep what we got.
        let _ = self.buf.write_fmt(msg);
        finish_line(&mut self.buf);
        self.sink.write_line(&self.buf, level);
    }
}

/// `YYYY-MM-DD HH:MM:SS: nanodata: `
fn push_prefix(buf: &mut Vec<u8>, now: i64) {
    buf.extend_from_slice(&local_timestamp(now));
    buf.extend_from_slice(b": ");
    buf.extend_from_slice(crate::PROGRAM.as_bytes());
    buf.extend_from_slice(b": ");
}

/// Ends the buffer with exactly one newline.
fn finish_line(buf: &mut Vec<u8>) {
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    buf.push(b'\n');
}

/// Writes `value` zero-padded into all of `out`.
fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::Target;
    use std::path::{Path, PathBuf};

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nanodata-log-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn file_logger(path: &Path, flood: Flood) -> Logger {
        let sink = Sink::open(&Target::File(path.to_path_buf())).unwrap();
        Logger::new(sink, flood)
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect()
    }

    /// Checks `YYYY-MM-DD HH:MM:SS` without a regex.
    fn is_timestamp(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 19
            && b.iter().enumerate().all(|(i, &c)| match i {
                4 | 7 => c == b'-',
                10 => c == b' ',
                13 | 16 => c == b':',
                _ => c.is_ascii_digit(),
            })
    }

    #[test]
    fn line_format_from_named_thread() {
        let dir = temp_dir("format");
        let path = dir.join("error.log");
        let logger = std::sync::Arc::new(file_logger(&path, Flood::disabled()));
        let l = logger.clone();
        std::thread::Builder::new()
            .name("web-worker".into())
            .spawn(move || {
                let name = std::thread::current().name().unwrap_or("unnamed").to_owned();
                l.write(Level::Info, &name, format_args!("hello {}", 42));
                l.write(Level::Error, &name, format_args!("trailing newline\n"));
            })
            .unwrap()
            .join()
            .unwrap();
        let got = lines(&path);
        assert_eq!(got.len(), 2);
        let (ts, rest) = got[0].split_at(19);
        assert!(is_timestamp(ts), "{ts:?}");
        assert_eq!(rest, ": nanodata: INFO  : web-worker : hello 42");
        assert!(got[1].ends_with(": nanodata: ERROR : web-worker : trailing newline"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn timestamp_is_local_time_shape() {
        assert!(is_timestamp(std::str::from_utf8(&local_timestamp(0)).unwrap()));
        assert!(is_timestamp(std::str::from_utf8(&local_timestamp(1_795_000_000)).unwrap()));
        let mut d = [0u8; 4];
        put_digits(&mut d, 7);
        assert_eq!(&d, b"0007");
    }

    #[test]
    fn plain_line_has_prefix() {
        let dir = temp_dir("plain");
        let path = dir.join("access.log");
        let logger = file_logger(&path, Flood::disabled());
        logger.line_at(1_000_000_000, "DATA 127.0.0.1 /api/v1/info");
        let got = lines(&path);
        assert_eq!(got.len(), 1);
        assert!(is_timestamp(&got[0][..19]));
        assert_eq!(&got[0][19..], ": nanodata: DATA 127.0.0.1 /api/v1/info");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reopen_after_logrotate_rename() {
        let dir = temp_dir("rotate");
        let path = dir.join("error.log");
        let rotated = dir.join("error.log.1");
        let logger = file_logger(&path, Flood::disabled());
        logger.write(Level::Info, "main", format_args!("before rotation"));
        std::fs::rename(&path, &rotated).unwrap();
        logger.write(Level::Info, "main", format_args!("still old file"));
        logger.reopen().unwrap();
        logger.write(Level::Info, "main", format_args!("after rotation"));
        let old = lines(&rotated);
        let new = lines(&path);
        assert_eq!(old.len(), 2);
        assert!(old[0].ends_with(": before rotation"));
        assert!(old[1].ends_with(": still old file"));
        assert_eq!(new.len(), 1);
        assert!(new[0].ends_with(": after rotation"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn flood_policy_counts_windows() {
        let mut f = Flood::new(10, 3);
        assert_eq!(f.admit(100), Admit::Pass);
        assert_eq!(f.admit(101), Admit::Pass);
        assert_eq!(f.admit(102), Admit::Pass);
        assert_eq!(f.admit(104), Admit::Limit { count: 4, seconds: 4, remaining: 6 });
        assert_eq!(f.admit(105), Admit::Drop);
        assert_eq!(f.admit(109), Admit::Drop);
        assert_eq!(f.admit(110), Admit::Resume { suppressed: 3, seconds: 10 });
        assert_eq!(f.admit(111), Admit::Pass);
        // A quiet window ends without a notice.
        assert_eq!(f.admit(200), Admit::Pass);
        // A clock stepping back starts a new window.
        assert_eq!(f.admit(50), Admit::Pass);
    }

    #[test]
    fn flood_disabled_by_zero() {
        for mut f in [Flood::new(0, 5), Flood::new(5, 0), Flood::disabled()] {
            for t in 0..1000 {
                assert_eq!(f.admit(t / 100), Admit::Pass);
            }
        }
    }

    #[test]
    fn flood_notices_written_to_log() {
        let dir = temp_dir("flood");
        let path = dir.join("error.log");
        let logger = file_logger(&path, Flood::new(60, 2));
        for i in 0..5 {
            logger.write_at(1000 + i, Level::Info, "main", format_args!("line {i}"));
        }
        logger.write_at(1060, Level::Error, "main", format_args!("after window"));
        let got = lines(&path);
        assert_eq!(got.len(), 5, "{got:#?}");
        assert!(got[0].ends_with("INFO  : main : line 0"));
        assert!(got[1].ends_with("INFO  : main : line 1"));
        assert!(got[2].ends_with(
            "WARN  : main : logged too many messages (3 in the last 2 seconds); \
             suppressing further messages for 58 seconds"
        ));
        assert!(got[3].contains("INFO  : main : flood protection ended: 3 messages were suppressed"));
        assert!(got[4].ends_with("ERROR : main : after window"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn concurrent_lines_do_not_interleave() {
        let dir = temp_dir("threads");
        let path = dir.join("error.log");
        let logger = std::sync::Arc::new(file_logger(&path, Flood::disabled()));
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let l = logger.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        l.write(Level::Debug, "t", format_args!("{t}:{i}:{}", "x".repeat(300)));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let got = lines(&path);
        assert_eq!(got.len(), 800);
        assert!(got.iter().all(|l| l.ends_with(&"x".repeat(300)) && l.contains("DEBUG : t : ")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! A host's alarm log: every status change of its alarms (protocol.md §9.1 `alarm_log`),
//! bounded in memory (`[health] in memory max health log entries`) and kept across restarts
//! in `<[directories] lib>/health/<machine guid>.log`.
//!
//! The file is a list of records, one a line, tab-separated, strings escaped (`\t`, `\n`,
//! `\\`). A record is a whole entry: an entry whose flags change later (its notification
//! ran, a newer entry superseded it) is written again, and on load the last record of a
//! `unique_id` wins. Records are appended; once the file holds more than twice the entries
//! kept, it is rewritten with just those (a temporary file renamed over it). A line that
//! does not parse is skipped (the count and the first bad line are logged once).

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;

use super::record::{parse_record, record};
pub use super::record::{path_of, Writes};
use super::status::Status;

/// One status change of an alarm (or a notification repeat).
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    pub unique_id: u32,
    pub alarm_id: u32,
    pub alarm_event_id: u32,
    pub config_hash_id: String,
    pub when: i64,
    /// Seconds in the previous status.
    pub duration: i64,
    /// Seconds in WARNING/CRITICAL up to this change (across consecutive raised statuses).
    pub non_clear_duration: i64,
    pub name: String,
    pub chart: String,
    pub context: String,
    pub family: String,
    pub class: String,
    pub component: String,
    pub type_: String,
    /// The notification program (the alarm's `exec:` or the default script).
    pub exec: String,
    /// The recipients (`to:`, default `root`).
    pub recipient: String,
    /// `line@file` of the alarm's definition.
    pub source: String,
    pub units: String,
    pub info: String,
    pub status: Status,
    pub old_status: Status,
    pub value: f64,
    pub old_value: f64,
    /// The delay given to this change (seconds) and when it ends.
    pub delay: u32,
    pub delay_up_to_timestamp: i64,
    /// The entry that superseded this one, and the one this one superseded (0: none).
    pub updated_by_id: u32,
    pub updates_id: u32,
    /// Looked at for a notification (sent or not).
    pub processed: bool,
    /// Superseded by a newer change of the same alarm.
    pub updated: bool,
    /// The notification program was started.
    pub exec_run: bool,
    /// It could not start, timed out, or exited non-zero.
    pub exec_failed: bool,
    /// Its exit code (-1: none).
    pub exec_code: i32,
    pub exec_run_timestamp: i64,
    /// `to: silent`.
    pub silenced: bool,
    pub no_clear_notification: bool,
    /// When the alarm last repeated its notification (0: never).
    pub last_repeat: i64,
}

impl LogEntry {
    /// Netdata's `value_string`: the value with its units.
    pub fn value_string(&self) -> String {
        value_string(self.value, &self.units)
    }

    pub fn old_value_string(&self) -> String {
        value_string(self.old_value, &self.units)
    }
}

/// A value with its units as Netdata shows it in the log and notifications (`-` alone for
/// no value, as Netdata 1.37 shows it; two decimals, trailing zeros dropped).
pub fn value_string(value: f64, units: &str) -> String {
    if !value.is_finite() {
        return "-".to_owned();
    }
    let mut s = {
        let t = format!("{value:.2}");
        let t = if t.contains('.') { t.trim_end_matches('0').trim_end_matches('.').to_owned() } else { t };
        if t == "-0" {
            "0".to_owned()
        } else {
            t
        }
    };
    if !units.is_empty() {
        if units != "%" {
            s.push(' ');
        }
        s.push_str(units);
    }
    s
}

/// A host's log: newest last, at most `max` entries.
#[derive(Debug)]
pub struct AlarmLog {
    entries: VecDeque<LogEntry>,
    max: usize,
    next_unique_id: u32,
    /// Records waiting to be written (unique ids; the entry's current state is written).
    dirty: Vec<u32>,
    /// Records in the file now (to know when to compact).
    file_records: usize,
    path: Option<PathBuf>,
}

impl AlarmLog {
    /// An empty log; unique ids start at `first_id` (Netdata starts them at the time the
    /// host is created, so they grow across restarts).
    pub fn new(max: usize, first_id: u32, path: Option<PathBuf>) -> AlarmLog {
        AlarmLog {
            entries: VecDeque::new(),
            max: max.max(1),
            next_unique_id: first_id.max(1),
            dirty: Vec::new(),
            file_records: 0,
            path,
        }
    }

    /// Loads `path` (if it exists) into a new log; ids continue after the loaded ones.
    pub fn load(max: usize, first_id: u32, path: PathBuf) -> AlarmLog {
        let mut log = AlarmLog::new(max, first_id, Some(path.clone()));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return log,
            Err(e) => {
                log::error!("health: cannot read the alarm log {}: {e}; starting empty", path.display());
                return log;
            }
        };
        let mut bad = 0usize;
        let mut first_bad = 0usize;
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            log.file_records += 1;
            match parse_record(line) {
                Some(e) => log.merge(e),
                None => {
                    bad += 1;
                    if first_bad == 0 {
                        first_bad = i + 1;
                    }
                }
            }
        }
        if bad > 0 {
            log::error!(
                "health: {}: skipped {bad} bad line(s) of the alarm log (the first at line {first_bad})",
                path.display()
            );
        }
        if let Some(max_id) = log.entries.iter().map(|e| e.unique_id).max() {
            log.next_unique_id = log.next_unique_id.max(max_id.saturating_add(1));
        }
        log
    }

    /// An entry read from the file: replaces the entry with its unique id or is added.
    fn merge(&mut self, e: LogEntry) {
        if let Some(old) = self.entries.iter_mut().find(|o| o.unique_id == e.unique_id) {
            *old = e;
            return;
        }
        let at = self.entries.partition_point(|o| o.unique_id < e.unique_id);
        self.entries.insert(at, e);
        while self.entries.len() > self.max {
            self.entries.pop_front();
        }
    }

    /// The next unique id (also used by repeat notifications, which are not logged).
    pub fn next_id(&mut self) -> u32 {
        let id = self.next_unique_id;
        self.next_unique_id = self.next_unique_id.wrapping_add(1).max(1);
        id
    }

    /// The newest unique id given so far (0: none).
    pub fn latest_unique_id(&self) -> u32 {
        self.entries.back().map_or(0, |e| e.unique_id)
    }

    /// Adds a status change: marks the previous entry of the same alarm UPDATED (linking
    /// both) and carries its non-clear duration over when both were raised.
    pub fn add(&mut self, mut e: LogEntry) -> u32 {
        if e.unique_id == 0 {
            e.unique_id = self.next_id();
        }
        if let Some(prev) = self.entries.iter_mut().rev().find(|p| p.alarm_id == e.alarm_id) {
            if !prev.updated && prev.updated_by_id == 0 {
                prev.updated = true;
                prev.updated_by_id = e.unique_id;
                e.updates_id = prev.unique_id;
                let raised = |s: Status| s == Status::Warning || s == Status::Critical;
                if raised(prev.status) && raised(prev.old_status) {
                    e.non_clear_duration += prev.non_clear_duration;
                }
                let id = prev.unique_id;
                self.dirty.push(id);
            }
        }
        let id = e.unique_id;
        self.entries.push_back(e);
        self.dirty.push(id);
        while self.entries.len() > self.max {
            self.entries.pop_front();
        }
        id
    }

    pub fn get_mut(&mut self, unique_id: u32) -> Option<&mut LogEntry> {
        self.entries.iter_mut().rev().find(|e| e.unique_id == unique_id)
    }

    /// Marks an entry to be written again (its flags changed).
    pub fn touch(&mut self, unique_id: u32) {
        self.dirty.push(unique_id);
    }

    pub fn entries(&self) -> &VecDeque<LogEntry> {
        &self.entries
    }

    pub fn entries_mut(&mut self) -> &mut VecDeque<LogEntry> {
        &mut self.entries
    }

    /// The last alarm id and its next event id found in the log for `(chart, name)`.
    pub fn ids_of(&self, chart: &str, name: &str) -> Option<(u32, u32)> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.chart == chart && e.name == name)
            .map(|e| (e.alarm_id, e.alarm_event_id.wrapping_add(1)))
    }

    /// The largest alarm id in the log (0: none).
    pub fn max_alarm_id(&self) -> u32 {
        self.entries.iter().map(|e| e.alarm_id).max().unwrap_or(0)
    }

    /// What to write: the records of the entries changed since the last call, and whether
    /// the whole file should be rewritten instead (then `records` holds every entry).
    pub fn take_writes(&mut self) -> Option<Writes> {
        let path = self.path.clone()?;
        if self.dirty.is_empty() {
            return None;
        }
        let compact = self.file_records + self.dirty.len() > self.max * 2;
        let mut text = String::new();
        if compact {
            for e in &self.entries {
                record(e, &mut text);
            }
            self.file_records = self.entries.len();
        } else {
            self.dirty.sort_unstable();
            self.dirty.dedup();
            for id in &self.dirty {
                if let Some(e) = self.entries.iter().rev().find(|e| e.unique_id == *id) {
                    record(e, &mut text);
                    self.file_records += 1;
                }
            }
        }
        self.dirty.clear();
        Some(Writes { path, text, compact })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn entry(alarm_id: u32, status: Status, old: Status) -> LogEntry {
        LogEntry {
            unique_id: 0,
            alarm_id,
            alarm_event_id: 1,
            config_hash_id: "h".into(),
            when: 1000,
            duration: 10,
            non_clear_duration: 0,
            name: "load".into(),
            chart: "system.load".into(),
            context: "system.load".into(),
            family: "load".into(),
            class: "Utilization".into(),
            component: "Load".into(),
            type_: "System".into(),
            exec: "/bin/notify".into(),
            recipient: "sysadmin".into(),
            source: "3@/etc/health.d/a\tb.conf".into(),
            units: "%".into(),
            info: "line one\nline two \\ end".into(),
            status,
            old_status: old,
            value: 1.5,
            old_value: f64::NAN,
            delay: 0,
            delay_up_to_timestamp: 1000,
            updated_by_id: 0,
            updates_id: 0,
            processed: false,
            updated: false,
            exec_run: false,
            exec_failed: false,
            exec_code: -1,
            exec_run_timestamp: 0,
            silenced: false,
            no_clear_notification: false,
            last_repeat: 0,
        }
    }

    #[test]
    fn value_strings() {
        assert_eq!(value_string(12.345, "%"), "12.35%");
        assert_eq!(value_string(3.0, "MiB"), "3 MiB");
        assert_eq!(value_string(0.5, ""), "0.5");
        assert_eq!(value_string(f64::NAN, "%"), "-", "Netdata 1.37 shows no units without a value");
    }

    #[test]
    fn adding_links_the_previous_entry_and_bounds_the_log() {
        let mut log = AlarmLog::new(3, 100, None);
        let mut a = entry(7, Status::Warning, Status::Clear);
        a.non_clear_duration = 0;
        let first = log.add(a);
        assert_eq!(first, 100);
        let mut b = entry(7, Status::Critical, Status::Warning);
        b.non_clear_duration = 20;
        let second = log.add(b);
        let e = log.entries();
        assert_eq!((e[0].updated, e[0].updated_by_id), (true, second));
        assert_eq!(e[1].updates_id, first);
        // The previous one was CLEAR → WARNING: its non-clear time is not carried.
        assert_eq!(e[1].non_clear_duration, 20);
        let mut c = entry(7, Status::Warning, Status::Critical);
        c.non_clear_duration = 5;
        log.add(c);
        assert_eq!(log.entries()[2].non_clear_duration, 25, "WARNING→CRITICAL carried");
        log.add(entry(8, Status::Clear, Status::Uninitialized));
        assert_eq!(log.entries().len(), 3);
        assert_eq!(log.entries()[0].unique_id, 101, "the oldest went");
        assert_eq!(log.latest_unique_id(), 103);
        assert_eq!(log.ids_of("system.load", "load"), Some((8, 2)));
    }

    #[test]
    fn the_file_round_trips_skips_bad_lines_and_compacts() {
        let dir = std::env::temp_dir().join(format!("nanodata-health-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = path_of(&dir, "guid");
        let mut log = AlarmLog::new(10, 500, Some(path.clone()));
        let id = log.add(entry(1, Status::Warning, Status::Clear));
        log.take_writes().unwrap().write();
        log.get_mut(id).unwrap().exec_run = true;
        log.touch(id);
        log.add(entry(1, Status::Clear, Status::Warning));
        let w = log.take_writes().unwrap();
        assert!(!w.compact);
        w.write();
        // A torn line at the end and garbage in the middle.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("N1\t12\tgarbage\nnot a record\n");
        std::fs::write(&path, text).unwrap();

        let loaded = AlarmLog::load(10, 1, path.clone());
        assert_eq!(loaded.entries().len(), 2);
        let want0 = LogEntry {
            unique_id: 500,
            exec_run: true,
            updated: true,
            updated_by_id: 501,
            ..entry(1, Status::Warning, Status::Clear)
        };
        assert_eq!(format!("{:?}", loaded.entries()[0]), format!("{want0:?}"), "NaN compares by text");
        assert_eq!(loaded.entries()[1].updates_id, 500);
        assert_eq!(loaded.entries()[0].source, "3@/etc/health.d/a\tb.conf");
        assert_eq!(loaded.entries()[0].info, "line one\nline two \\ end");
        let mut loaded = loaded;
        assert_eq!(loaded.next_id(), 502, "ids continue after the loaded ones");

        // 3 records + 2 bad lines in the file; 17 more records would pass 2 × 10: compacted.
        for _ in 0..9 {
            loaded.add(entry(2, Status::Warning, Status::Clear));
        }
        let w = loaded.take_writes().unwrap();
        assert!(w.compact, "{} records", loaded.file_records);
        w.write();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 10);
        assert_eq!(AlarmLog::load(10, 1, path).entries().len(), 10);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

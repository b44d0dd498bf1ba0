//! The alarm log's file format (see [`super::log`]): one record a line, tab-separated,
//! strings escaped; and the writes, done outside the host's lock.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use super::log::LogEntry;
use super::status::Status;

/// Records to append (or a whole file to write), produced under the host's lock and
/// written after it is released.
#[derive(Debug)]
pub struct Writes {
    pub path: PathBuf,
    pub text: String,
    pub compact: bool,
}

impl Writes {
    pub fn write(&self) {
        if let Err(e) = self.try_write() {
            log::error!("health: cannot write the alarm log {}: {e}", self.path.display());
        }
    }

    fn try_write(&self) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if self.compact {
            let tmp = self.path.with_extension("log.new");
            std::fs::write(&tmp, &self.text)?;
            std::fs::rename(&tmp, &self.path)
        } else {
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
            f.write_all(self.text.as_bytes())
        }
    }
}

/// The log file of the host `guid` under `dir`.
pub fn path_of(dir: &Path, guid: &str) -> PathBuf {
    dir.join(format!("{guid}.log"))
}

const VERSION: &str = "N1";
const FIELDS: usize = 38;

pub(super) fn record(e: &LogEntry, out: &mut String) {
    let strings = [
        &e.config_hash_id,
        &e.name,
        &e.chart,
        &e.context,
        &e.family,
        &e.class,
        &e.component,
        &e.type_,
        &e.exec,
        &e.recipient,
        &e.source,
        &e.units,
        &e.info,
    ];
    let _ = write!(
        out,
        "{VERSION}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        e.unique_id,
        e.alarm_id,
        e.alarm_event_id,
        e.when,
        e.duration,
        e.non_clear_duration,
        e.status as i8,
        e.old_status as i8,
        e.value,
        e.old_value,
        e.delay,
        e.delay_up_to_timestamp,
        e.updated_by_id,
        e.updates_id,
        u8::from(e.processed),
        u8::from(e.updated),
        u8::from(e.exec_run),
        u8::from(e.exec_failed),
        e.exec_code,
        e.exec_run_timestamp,
        u8::from(e.silenced),
        u8::from(e.no_clear_notification),
        e.last_repeat,
        strings.len(),
    );
    for s in strings {
        out.push('\t');
        escape(s, out);
    }
    out.push('\n');
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(match chars.next()? {
                '\\' => '\\',
                't' => '\t',
                'n' => '\n',
                'r' => '\r',
                _ => return None,
            });
        } else {
            out.push(c);
        }
    }
    Some(out)
}

pub(super) fn parse_record(line: &str) -> Option<LogEntry> {
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() != FIELDS || f[0] != VERSION || f[24] != "13" {
        return None;
    }
    let n = |i: usize| f[i].parse::<i64>().ok();
    let u = |i: usize| f[i].parse::<u32>().ok();
    let b = |i: usize| match f[i] {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    };
    let status = |i: usize| -> Option<Status> {
        let v = f[i].parse::<i8>().ok()?;
        Status::ALL.into_iter().find(|s| *s as i8 == v)
    };
    let s = |i: usize| unescape(f[i]);
    Some(LogEntry {
        unique_id: u(1).filter(|&id| id != 0)?,
        alarm_id: u(2)?,
        alarm_event_id: u(3)?,
        when: n(4)?,
        duration: n(5)?,
        non_clear_duration: n(6)?,
        status: status(7)?,
        old_status: status(8)?,
        value: f[9].parse().ok()?,
        old_value: f[10].parse().ok()?,
        delay: u(11)?,
        delay_up_to_timestamp: n(12)?,
        updated_by_id: u(13)?,
        updates_id: u(14)?,
        processed: b(15)?,
        updated: b(16)?,
        exec_run: b(17)?,
        exec_failed: b(18)?,
        exec_code: f[19].parse().ok()?,
        exec_run_timestamp: n(20)?,
        silenced: b(21)?,
        no_clear_notification: b(22)?,
        last_repeat: n(23)?,
        config_hash_id: s(25)?,
        name: s(26)?,
        chart: s(27)?,
        context: s(28)?,
        family: s(29)?,
        class: s(30)?,
        component: s(31)?,
        type_: s(32)?,
        exec: s(33)?,
        recipient: s(34)?,
        source: s(35)?,
        units: s(36)?,
        info: s(37)?,
    })
}

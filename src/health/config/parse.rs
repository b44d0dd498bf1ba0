//! One `health.d` file's text into entries, with Netdata's line rules (health_config.c,
//! `health_readfile`): lines are trimmed; empty lines and lines starting with `#` are
//! skipped; a line ending in `\` goes on with the next one (the `\` becomes a space);
//! `key: value` splits at the first `:`, and both sides get Netdata's `trim_all` (inner
//! whitespace runs become one space); keys are matched ignoring ASCII case, as Netdata's
//! `strcasecmp` does. A line number is the last physical line of a continued line, which is
//! what Netdata counts too.

use std::path::Path;

use crate::health::expr::Expr;

use super::values::{self, is_c_space};
use super::{AlarmConfig, ConfigError, Kind, MAX_LINE};

/// See [`super::parse`].
pub(super) fn parse(text: &str, path: &Path) -> (Vec<AlarmConfig>, Vec<ConfigError>) {
    let mut p = Parser { path, entries: Vec::new(), errors: Vec::new(), current: None };
    let mut joined = String::new();
    let mut lines = text.split('\n').enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let at_end = lines.peek().is_none();
        // The empty piece after a final newline is no line: a continuation that runs into
        // it ends on the line before.
        let line = if at_end && raw.is_empty() { index.max(1) } else { index + 1 };
        if at_end && raw.is_empty() && joined.is_empty() {
            break;
        }
        joined.push_str(raw);
        let trimmed = joined.trim_matches(is_c_space);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            joined.clear();
            continue;
        }
        if trimmed.len() > MAX_LINE {
            p.bad_line(line, format!("line longer than {MAX_LINE} bytes"));
            joined.clear();
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            if !at_end {
                joined = format!("{head} ");
                continue;
            }
        }
        let logical = trimmed.strip_suffix('\\').unwrap_or(trimmed).to_owned();
        joined.clear();
        p.line(line, &logical);
    }
    p.finish_entry();
    (p.entries, p.errors)
}

/// An entry being read, and whether one of its lines was bad.
struct Current {
    config: AlarmConfig,
    line: usize,
    broken: bool,
}

struct Parser<'a> {
    path: &'a Path,
    entries: Vec<AlarmConfig>,
    errors: Vec<ConfigError>,
    current: Option<Current>,
}

impl Parser<'_> {
    fn line(&mut self, line: usize, text: &str) {
        let broken = self.current.as_ref().is_some_and(|c| c.broken);
        let Some((key, value)) = text.split_once(':') else {
            if broken {
                return;
            }
            self.bad_line(line, format!("line does not contain a ':': '{text}'"));
            return;
        };
        let key = values::trim_all(key);
        let value = values::trim_all(value);
        if key.is_empty() {
            if broken {
                return;
            }
            self.bad_line(line, "the key before ':' is empty".into());
            return;
        }
        let kind = if key.eq_ignore_ascii_case("alarm") {
            Some(Kind::Alarm)
        } else if key.eq_ignore_ascii_case("template") {
            Some(Kind::Template)
        } else {
            None
        };
        if let Some(kind) = kind {
            self.start_entry(line, kind, &value);
            return;
        }
        match &self.current {
            None => {
                self.ignored_line(
                    line,
                    format!("key '{key}' outside an entry (expected 'alarm' or 'template' first)"),
                );
                return;
            }
            Some(c) if c.broken => return,
            Some(_) => {}
        }
        if value.is_empty() {
            self.bad_line(line, format!("key '{key}' has an empty value"));
            return;
        }
        match self.set(&key, value) {
            Ok(()) => {}
            Err(SetError::Bad(message)) => self.bad_line(line, message),
            Err(SetError::Unknown(message)) => self.ignored_line(line, message),
        }
    }

    fn start_entry(&mut self, line: usize, kind: Kind, value: &str) {
        self.finish_entry();
        let what = kind_name(kind);
        let source = format!("{line}@{}", self.path.display());
        let mut config = AlarmConfig::new(kind, value.to_owned(), source);
        if value.is_empty() {
            self.current = Some(Current { config, line, broken: false });
            self.bad_line(line, format!("{what} without a name"));
            return;
        }
        if let Some(fixed) = values::fix_name(value) {
            log::warn!("health: {}:{line}: renamed {what} '{value}' to '{fixed}'", self.path.display());
            config.name = fixed;
        }
        self.current = Some(Current { config, line, broken: false });
    }

    /// Ends the entry being read: kept if none of its lines was bad and it is complete
    /// the way Netdata requires (an `on`, a frequency, something to evaluate).
    fn finish_entry(&mut self) {
        let Some(Current { config, line, broken }) = self.current.take() else { return };
        if broken {
            return;
        }
        let what = kind_name(config.kind);
        let problem = if config.on.is_empty() {
            Some(format!("{what} '{}' has no 'on' key", config.name))
        } else if config.every.is_none() && config.lookup.is_none() {
            Some(format!("{what} '{}' has no frequency (no 'every' and no 'lookup')", config.name))
        } else if config.lookup.is_none()
            && config.calc.is_none()
            && config.warn.is_none()
            && config.crit.is_none()
        {
            Some(format!("{what} '{}' is useless (no lookup, calc, warn or crit)", config.name))
        } else {
            None
        };
        match problem {
            Some(message) => self.errors.push(ConfigError {
                path: self.path.to_path_buf(),
                line,
                message: format!("{message}; entry skipped"),
                entry_skipped: true,
            }),
            None => self.entries.push(config),
        }
    }

    /// Applies `key: value` to the current entry.
    fn set(&mut self, key: &str, value: String) -> Result<(), SetError> {
        let Some(current) = self.current.as_mut() else { return Ok(()) };
        let c = &mut current.config;
        let is_template = c.kind == Kind::Template;
        match key.to_ascii_lowercase().as_str() {
            "on" => c.on = value,
            "os" => c.os = Some(value),
            "hosts" => c.hosts = Some(value),
            "families" if is_template => c.families = Some(value),
            "charts" if is_template => c.charts = Some(value),
            "plugin" => c.plugin = Some(value),
            "module" => c.module = Some(value),
            "host labels" => c.host_labels = Some(values::trim_around_equal(&value)),
            "lookup" => {
                c.lookup = Some(values::lookup(&value)?);
                // Netdata's lookup sets the frequency to its own `every`, over an earlier
                // `every:` line; a later `every:` line wins again.
                c.every = None;
            }
            "calc" => c.calc = Some(expression(key, &value)?),
            "warn" => c.warn = Some(expression(key, &value)?),
            "crit" => c.crit = Some(expression(key, &value)?),
            "every" => match values::duration(&value) {
                Some(s) if s > 0 => c.every = Some(s as u32),
                Some(_) => {
                    return Err(SetError::Bad(format!("'every' must be a positive duration, got '{value}'")))
                }
                None => return Err(SetError::Bad(format!("'every': '{value}' is not a duration"))),
            },
            "green" => c.green = Some(values::number(&value)?),
            "red" => c.red = Some(values::number(&value)?),
            "exec" => c.exec = Some(value),
            "to" => c.to = Some(value),
            "units" => c.units = Some(values::strip_quotes(&value)),
            "info" => c.info = Some(values::strip_quotes(&value)),
            "class" => c.class = Some(values::strip_quotes(&value)),
            "type" => c.type_ = Some(values::strip_quotes(&value)),
            "component" => c.component = Some(values::strip_quotes(&value)),
            "delay" => c.delay = values::delay(&value)?,
            "repeat" => c.repeat = values::repeat(&value)?,
            "options" => c.no_clear_notification |= values::no_clear_notification(&value)?,
            _ => {
                let message = format!("{} '{}' has unknown key '{key}'", kind_name(c.kind), c.name);
                return Err(SetError::Unknown(message));
            }
        }
        Ok(())
    }

    /// A line that drops the entry it belongs to.
    /// Only the first bad line of an entry is reported; the rest of it is not read.
    fn bad_line(&mut self, line: usize, message: String) {
        let entry_skipped = match self.current.as_mut() {
            Some(c) if c.broken => return,
            Some(c) => {
                c.broken = true;
                true
            }
            None => false,
        };
        let message = match &self.current {
            Some(c) => format!("{message}; {} '{}' skipped", kind_name(c.config.kind), c.config.name),
            None => message,
        };
        self.errors.push(ConfigError { path: self.path.to_path_buf(), line, message, entry_skipped });
    }

    /// A line that is ignored while its entry stays (Netdata's rule for unknown keys).
    fn ignored_line(&mut self, line: usize, message: String) {
        self.errors.push(ConfigError {
            path: self.path.to_path_buf(),
            line,
            message: format!("{message}; line ignored"),
            entry_skipped: false,
        });
    }
}

/// Why a `key: value` line was not applied.
enum SetError {
    /// The value does not parse: the entry is dropped.
    Bad(String),
    /// Netdata does not know the key: the line is ignored, the entry stays.
    Unknown(String),
}

impl From<String> for SetError {
    fn from(message: String) -> SetError {
        SetError::Bad(message)
    }
}

fn expression(key: &str, value: &str) -> Result<Expr, String> {
    Expr::parse(value).map_err(|e| format!("'{key}' has an unparsable expression '{value}': {e}"))
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Alarm => "alarm",
        Kind::Template => "template",
    }
}

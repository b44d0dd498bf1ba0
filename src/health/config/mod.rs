//! Netdata's `health.d` configuration (protocol.md §9): `alarm:` and `template:` entries,
//! read from the stock directory and the user directory (a user file replaces the stock file
//! of the same name). A bad line is logged with its file and line and skips only its entry.
//!
//! - [`parse`] turns one file's text into entries and errors (line rules in `parse.rs`,
//!   value syntaxes in `values.rs`);
//! - [`load`] walks the two directories like Netdata's `recursive_config_double_dir_load`
//!   (`load.rs`) and logs every error with its file and line.
//!
//! Bounds: a file over [`MAX_FILE`] bytes is skipped, a (continued) line over [`MAX_LINE`]
//! bytes is a bad line, at most [`MAX_FILES`] files are read, subdirectories are followed
//! [`MAX_DEPTH`] levels deep (Netdata's limit).
//!
//! Where nanodata is stricter than Netdata: Netdata logs a value it cannot parse (a bad
//! expression, an unknown `lookup`/`delay`/`repeat`/`options` word, a bad duration or
//! number, an empty value, a line without `:`) and keeps the entry with that part missing
//! or zero; nanodata drops the whole entry, so a half-understood alarm never runs. Unknown
//! keys are ignored with an error, as in Netdata.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::health::expr::Expr;
use crate::query::{Group, Options};

mod load;
mod parse;
#[cfg(test)]
mod tests;
mod values;

pub use load::{load, read, Loaded};
pub use values::duration;

/// Longest line (after joining `\` continuations), Netdata's `HEALTH_CONF_MAX_LINE`.
pub const MAX_LINE: usize = 4096;
/// Largest file read; a bigger one is skipped with an error.
pub const MAX_FILE: u64 = 1 << 20;
/// Most files read from the two directories together.
pub const MAX_FILES: usize = 4096;
/// Deepest subdirectory followed (Netdata's `recursive_config_double_dir_load` stops at 3).
pub const MAX_DEPTH: usize = 3;

/// Parses one `health.d` file. `path` is what `source` and the errors name.
pub fn parse(text: &str, path: &Path) -> (Vec<AlarmConfig>, Vec<ConfigError>) {
    parse::parse(text, path)
}

/// A problem in a `health.d` file, at a line (0: the file as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
    /// The entry the line belongs to was dropped (`false`: only the line was ignored, or
    /// the line was outside any entry).
    pub entry_skipped: bool,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
        }
    }
}

/// `alarm:` binds to one chart (`on:` a chart id or name), `template:` to every chart of a
/// context (`on:` a context).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Alarm,
    Template,
}

/// One entry of a `health.d` file.
#[derive(Clone, Debug)]
pub struct AlarmConfig {
    pub kind: Kind,
    pub name: String,
    /// Chart id or name (alarm) or context (template).
    pub on: String,
    /// `<line>@<path>` of the `alarm:`/`template:` line, as Netdata reports it.
    pub source: String,
    /// Simple patterns, as written (`None`: the key is absent, which matches everything).
    pub os: Option<String>,
    pub hosts: Option<String>,
    pub families: Option<String>,
    pub charts: Option<String>,
    pub plugin: Option<String>,
    pub module: Option<String>,
    /// `host labels:`, with the spaces around `=` taken out (Netdata's
    /// `simple_pattern_trim_around_equal`).
    pub host_labels: Option<String>,
    pub lookup: Option<Lookup>,
    pub calc: Option<Expr>,
    pub warn: Option<Expr>,
    pub crit: Option<Expr>,
    /// Seconds between evaluations (`every:`; `None`: the lookup's `every`, see
    /// [`AlarmConfig::update_every`]; an entry with neither is refused, as Netdata does).
    pub every: Option<u32>,
    pub green: Option<f64>,
    pub red: Option<f64>,
    pub exec: Option<String>,
    /// Recipients (`to:`); `silent` disables notifications.
    pub to: Option<String>,
    pub units: Option<String>,
    pub info: Option<String>,
    pub class: Option<String>,
    pub type_: Option<String>,
    pub component: Option<String>,
    pub delay: Delay,
    pub repeat: Repeat,
    pub no_clear_notification: bool,
}

impl AlarmConfig {
    /// An entry with only its kind, name and source set (every other key absent).
    pub fn new(kind: Kind, name: String, source: String) -> AlarmConfig {
        AlarmConfig {
            kind,
            name,
            on: String::new(),
            source,
            os: None,
            hosts: None,
            families: None,
            charts: None,
            plugin: None,
            module: None,
            host_labels: None,
            lookup: None,
            calc: None,
            warn: None,
            crit: None,
            every: None,
            green: None,
            red: None,
            exec: None,
            to: None,
            units: None,
            info: None,
            class: None,
            type_: None,
            component: None,
            delay: Delay::default(),
            repeat: Repeat::default(),
            no_clear_notification: false,
        }
    }

    /// Seconds between evaluations: `every:`, else the lookup's `every`; `None` for neither
    /// (never the case for an entry [`parse`] returns).
    pub fn update_every(&self) -> Option<u32> {
        self.every.or(self.lookup.as_ref().map(|l| l.every))
    }
}

/// `lookup: METHOD AFTER [at BEFORE] [every DUR] [options…] [of DIMS] [foreach DIMS]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    pub group: Group,
    /// Seconds relative to now, normally negative; never 0 (no lookup then).
    pub after: i64,
    /// Seconds, `at`; 0 when absent.
    pub before: i64,
    /// Seconds between lookups; |after| when absent.
    pub every: u32,
    /// `absolute`, `percentage`, `unaligned`, `min2max`, `null2zero`, `match-ids`,
    /// `match-names` (the query engine's words).
    pub options: Options,
    pub anomaly_bit: bool,
    /// `of DIMS` (simple pattern of dimension ids or names); `None` or `all`: every one.
    pub of: Option<String>,
    /// `foreach DIMS`: one alarm per matching dimension.
    pub foreach: Option<String>,
}

/// `delay: [up D] [down D] [multiplier X] [max D]` (seconds).
#[derive(Clone, Debug, PartialEq)]
pub struct Delay {
    pub up: u32,
    pub down: u32,
    pub multiplier: f64,
    /// `None`: Netdata's default, the larger of up × multiplier and down × multiplier.
    pub max: Option<u32>,
}

impl Default for Delay {
    fn default() -> Delay {
        Delay { up: 0, down: 0, multiplier: 1.0, max: None }
    }
}

/// `repeat: [off] [warning D] [critical D]` (seconds; `None`: `[health] default repeat …`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Repeat {
    pub off: bool,
    pub warning: Option<u32>,
    pub critical: Option<u32>,
}

/// Where the files are read from.
#[derive(Clone, Debug)]
pub struct Dirs {
    /// `[directories] stock health config`.
    pub stock: PathBuf,
    /// `[directories] health config`.
    pub user: PathBuf,
}

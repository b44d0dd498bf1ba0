//! Netdata's `health.d` configuration (protocol.md §9): `alarm:` and `template:` entries,
//! read from the stock directory and the user directory (a user file replaces the stock file
//! of the same name). A bad line is logged with its file and line and skips only its entry.

use std::path::PathBuf;

use crate::health::expr::Expr;
use crate::query::{Group, Options};

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
    pub host_labels: Option<String>,
    pub lookup: Option<Lookup>,
    pub calc: Option<Expr>,
    pub warn: Option<Expr>,
    pub crit: Option<Expr>,
    /// Seconds between evaluations (`every:`; `None`: the lookup's `every`, else the chart's
    /// update every).
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

/// `lookup: METHOD AFTER [at BEFORE] [every DUR] [options…] [of DIMS] [foreach DIMS]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    pub group: Group,
    /// Seconds, negative (relative to now).
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

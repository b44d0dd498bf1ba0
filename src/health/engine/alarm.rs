//! A runtime alarm: one `alarm:` or `template:` entry bound to one chart, with its
//! evaluation state, and [`AlarmView`], the copy the web API renders.

use std::sync::Arc;

use super::status::{DelayPolicy, DelayState, RepeatPolicy, RepeatState, Status};
use crate::health::config::{AlarmConfig, Lookup};
use crate::health::expr::EvalError;
use crate::query::Request;
use crate::rrd::Chart;
use crate::simple_pattern::SimplePattern;

/// The default recipient (`to:` absent), as Netdata's.
pub const DEFAULT_RECIPIENT: &str = "root";

/// The static part of a chart an alarm is bound to.
#[derive(Clone, Debug)]
pub struct ChartKey {
    pub id: String,
    pub name: String,
    pub family: String,
    pub context: String,
}

/// What an alarm is made from: an entry bound to a chart (for `foreach`, to one of its
/// dimensions).
pub struct Instance {
    pub config: Arc<AlarmConfig>,
    pub chart: Arc<Chart>,
    pub key: ChartKey,
    /// The entry's name, or `<name>_<dimension>` for `foreach`.
    pub name: String,
    /// The dimension id a `foreach` alarm's lookup reads.
    pub dimension: Option<String>,
}

/// An alarm bound to a chart.
pub struct Alarm {
    pub id: u32,
    pub name: String,
    pub dimension: Option<String>,
    pub next_event_id: u32,
    pub config: Arc<AlarmConfig>,
    pub config_hash_id: String,
    pub chart: Arc<Chart>,
    pub key: ChartKey,
    /// The lookup as a query, built once.
    pub request: Option<Arc<Request>>,
    pub update_every: u32,
    pub exec: String,
    pub recipient: String,
    pub delay_policy: DelayPolicy,
    pub repeat_policy: RepeatPolicy,

    pub status: Status,
    pub old_status: Status,
    pub value: f64,
    pub old_value: f64,
    pub last_status_change: i64,
    pub last_updated: i64,
    pub next_update: i64,
    pub db_after: i64,
    pub db_before: i64,
    pub delay: DelayState,
    pub repeat: RepeatState,
    /// Runnable in the current pass.
    pub runnable: bool,
    /// Not evaluated (`/api/v1/manage/health` DISABLE).
    pub disabled: bool,
    /// Evaluated but not notified (`/api/v1/manage/health` SILENCE).
    pub silenced: bool,
    /// The last evaluation errors of calc, warn, crit (for the notification's argument 22).
    pub calc_error: Option<EvalError>,
    pub warn_error: Option<EvalError>,
    pub crit_error: Option<EvalError>,
}

/// The engine-wide values an alarm's creation needs.
#[derive(Clone, Debug)]
pub struct Defaults {
    pub exec: String,
    pub repeat_warning: u32,
    pub repeat_critical: u32,
}

impl Alarm {
    pub fn new(i: Instance, ids: (u32, u32), d: &Defaults, now: i64) -> Alarm {
        let Instance { config, chart, key, name, dimension } = i;
        let chart_every = chart.update_every().max(1);
        let update_every = config
            .every
            .filter(|&e| e > 0)
            .or_else(|| config.lookup.as_ref().map(|l| l.every).filter(|&e| e > 0))
            .unwrap_or(chart_every);
        Alarm {
            id: ids.0,
            next_event_id: ids.1.max(1),
            config_hash_id: config_hash(&config),
            request: config.lookup.as_ref().map(|l| Arc::new(request_of(l, dimension.as_deref()))),
            name,
            dimension,
            update_every,
            exec: config.exec.clone().filter(|e| !e.is_empty()).unwrap_or_else(|| d.exec.clone()),
            recipient: config
                .to
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| DEFAULT_RECIPIENT.into()),
            delay_policy: DelayPolicy::new(&config.delay),
            repeat_policy: RepeatPolicy::new(&config.repeat, d.repeat_warning, d.repeat_critical),
            config,
            chart,
            key,
            status: Status::Uninitialized,
            old_status: Status::Uninitialized,
            value: f64::NAN,
            old_value: f64::NAN,
            last_status_change: now,
            last_updated: 0,
            next_update: 0,
            db_after: 0,
            db_before: 0,
            delay: DelayState::default(),
            repeat: RepeatState::default(),
            runnable: false,
            disabled: false,
            silenced: false,
            calc_error: None,
            warn_error: None,
            crit_error: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A copy for the API.
    pub fn view(&self) -> AlarmView {
        AlarmView {
            id: self.id,
            config_hash_id: self.config_hash_id.clone(),
            name: self.name.clone(),
            dimension: self.dimension.clone(),
            chart: self.key.id.clone(),
            chart_name: self.key.name.clone(),
            family: self.key.family.clone(),
            context: self.key.context.clone(),
            exec: self.exec.clone(),
            recipient: self.recipient.clone(),
            status: self.status,
            last_status_change: self.last_status_change,
            last_updated: self.last_updated,
            next_update: self.next_update,
            update_every: self.update_every,
            delay_up_duration: self.delay_policy.up,
            delay_down_duration: self.delay_policy.down,
            delay_max_duration: self.delay_policy.max,
            delay_multiplier: self.delay_policy.multiplier,
            delay: self.delay.last,
            delay_up_to_timestamp: self.delay.up_to,
            warn_repeat_every: self.repeat_policy.warning,
            crit_repeat_every: self.repeat_policy.critical,
            last_repeat: self.repeat.last_repeat,
            times_repeat: self.repeat.times,
            db_after: self.db_after,
            db_before: self.db_before,
            value: self.value,
            disabled: self.disabled,
            silenced: self.silenced,
            config: Arc::clone(&self.config),
        }
    }
}

/// What `/api/v1/alarms` shows of an alarm (protocol.md §8.5); the configured fields
/// (`class`, `units`, `info`, `calc`, `lookup`, `green`, …) are in `config`.
#[derive(Clone, Debug)]
pub struct AlarmView {
    pub id: u32,
    pub config_hash_id: String,
    pub name: String,
    /// The dimension a `foreach` alarm reads.
    pub dimension: Option<String>,
    /// Chart id (`type.id`); the API key is `<chart>.<name>`.
    pub chart: String,
    pub chart_name: String,
    pub family: String,
    pub context: String,
    /// The effective notification program and recipients.
    pub exec: String,
    pub recipient: String,
    pub status: Status,
    pub last_status_change: i64,
    pub last_updated: i64,
    pub next_update: i64,
    pub update_every: u32,
    pub delay_up_duration: u32,
    pub delay_down_duration: u32,
    pub delay_max_duration: u32,
    pub delay_multiplier: f64,
    pub delay: u32,
    pub delay_up_to_timestamp: i64,
    pub warn_repeat_every: u32,
    pub crit_repeat_every: u32,
    pub last_repeat: i64,
    pub times_repeat: u32,
    pub db_after: i64,
    pub db_before: i64,
    /// NaN: no value (`null`).
    pub value: f64,
    pub disabled: bool,
    pub silenced: bool,
    pub config: Arc<AlarmConfig>,
}

impl AlarmView {
    /// `value_string`: the value with its units.
    pub fn value_string(&self) -> String {
        super::log::value_string(self.value, self.config.units.as_deref().unwrap_or(""))
    }

    /// `lookup_dimensions` (`of`, or empty for all), `lookup_method`, `lookup_after`,
    /// `lookup_before`, `lookup_options` — `None` without a lookup.
    pub fn lookup(&self) -> Option<LookupView> {
        self.config.lookup.as_ref().map(|l| LookupView {
            dimensions: self.dimension.clone().or_else(|| l.of.clone()).unwrap_or_default(),
            method: l.group.name(),
            after: l.after,
            before: l.before,
            options: options_text(l),
        })
    }
}

/// The lookup fields of the API.
#[derive(Clone, Debug, PartialEq)]
pub struct LookupView {
    pub dimensions: String,
    pub method: String,
    pub after: i64,
    pub before: i64,
    pub options: String,
}

/// The lookup's options as words, in Netdata's order.
fn options_text(l: &Lookup) -> String {
    let o = &l.options;
    let words = [
        (o.absolute, "absolute"),
        (o.min2max, "min2max"),
        (o.null2zero, "null2zero"),
        (o.percentage, "percentage"),
        (o.unaligned, "unaligned"),
        (l.anomaly_bit, "anomaly-bit"),
        (o.match_ids, "match-ids"),
        (o.match_names, "match-names"),
    ];
    let on: Vec<&str> = words.iter().filter(|(on, _)| *on).map(|(_, w)| *w).collect();
    on.join(" ")
}

/// The query of a `lookup:`: one point over `[now + after, now + before]`; a `foreach`
/// alarm reads its one dimension (by id) instead of `of`.
pub fn request_of(l: &Lookup, dimension: Option<&str>) -> Request {
    let mut options = l.options;
    let dimensions = match dimension {
        Some(id) => {
            options.match_ids = true;
            options.match_names = false;
            Some(SimplePattern::parse_with(&escape(id), " "))
        }
        None => {
            l.of.as_deref()
                .map(str::trim)
                .filter(|of| !of.is_empty() && *of != "all")
                .map(|of| SimplePattern::parse_with(of, ",| \t\r\n"))
        }
    };
    Request {
        after: l.after,
        before: l.before,
        points: 1,
        group: l.group,
        dimensions,
        options,
        ..Request::default()
    }
}

/// A dimension id as a one-word simple pattern that matches only itself.
fn escape(id: &str) -> String {
    let mut out = String::with_capacity(id.len() + 2);
    if id.starts_with('!') {
        out.push('\\');
    }
    for c in id.chars() {
        if matches!(c, '*' | '\\' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A stable id of an entry's definition, shaped like a UUID (Netdata's `config_hash_id`).
fn config_hash(c: &AlarmConfig) -> String {
    let text = format!(
        "{:?}|{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        c.kind,
        c.name,
        c.on,
        c.source,
        c.lookup,
        c.calc.as_ref().map(|e| e.source()),
        c.warn.as_ref().map(|e| e.source()),
        c.crit.as_ref().map(|e| e.source()),
        c.every,
        c.exec,
        c.to
    );
    // Two FNV-1a 64 hashes with different bases: 128 bits.
    let fnv =
        |basis: u64| text.bytes().fold(basis, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    let (a, b) = (fnv(0xcbf2_9ce4_8422_2325), fnv(0x8422_2325_cbf2_9ce4));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

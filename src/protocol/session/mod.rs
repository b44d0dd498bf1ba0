//! Applies protocol lines to one host (protocol.md §2.2): the parser state machine shared
//! by plugins.d and the stream receiver.
//!
//! A [`Session`] belongs to one source (a plugin process, a streaming connection) and one
//! host, and only ever touches that host. It holds the current chart, the values `SET` since
//! `BEGIN` (buffered, so no chart lock is held between lines), the pending host and chart
//! labels, and the function-result capture state. Every line either applies, is ignored as
//! documented, or returns an [`Error`] whose [`Action`] tells the owner whether to stop the
//! source or disable it for good.
//!
//! Time from the source is bounded: no line moves a chart's clock (or its storage) more than
//! [`crate::rrd::MAX_FUTURE_SECS`] past the local clock. Such a line is refused (nothing is
//! stored) and counted; after [`Limits::clock_strikes`] refused collections the source is
//! stopped, with a reason naming the chart and how far ahead it was.
//!
//! Replicated points are bounded too: the owner tells the session which range it asked a
//! chart for ([`Session::expect_replay`]); a point outside it is refused and is a strike, and
//! after [`Limits::replay_strikes`] of them the source is stopped. So every stored point lies
//! within one request's step, never a jump the storage would have to clear, and a replicated
//! point costs O(dimensions). Defined dimensions are bounded per source in total
//! ([`Limits::total_dimensions`]), and a `CHART` or `DIMENSION` line that changes nothing
//! costs a hash lookup and a comparison.

mod define;
mod strikes;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::command::{printable, ChartDef, Command, VariableScope};
use super::framer::Frame;
use super::replay::{check_in_request, check_point};
use super::words::Words;
use super::{Action, Cause, Error, Limits};
use crate::rrd::{label_source, Chart, Host, Label, VariableSet, MAX_VARIABLE_NAME};

/// A fingerprint of everything a `CHART` line says (with the source's default update
/// every, which stands in for a 0): equal lines, equal fingerprints.
fn fingerprint(def: &ChartDef<'_>, default_update_every: u32) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (def.type_, def.id, def.name, def.title, def.units, def.family, def.context).hash(&mut h);
    (std::mem::discriminant(&def.chart_type), def.priority, def.update_every, default_update_every)
        .hash(&mut h);
    def.options.map(|o| (o.obsolete, o.detail, o.store_first, o.hidden)).hash(&mut h);
    (def.plugin, def.module).hash(&mut h);
    h.finish()
}

/// Whether the microseconds of `BEGIN` are taken as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// A streaming child: its durations drive the parent's arithmetic, so they are trusted.
    Trusted,
    /// A plugin: its durations are checked against the local clock.
    Measured,
}

/// Something the owner of the session may have to act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `CHART_DEFINITION_END`: a streaming child offers replication of this chart.
    ChartDefinitionEnd { chart: String, first_entry_t: i64, last_entry_t: i64, child_now_t: Option<i64> },
    /// `REND`: a replication response for this chart is complete.
    ReplayEnd { chart: String, start_streaming: bool, after: i64, before: i64 },
    /// `CLAIMED_ID`.
    ClaimedId { machine_guid: String, claim_id: Option<String> },
    /// A `FUNCTION_RESULT_BEGIN` … `FUNCTION_RESULT_END` block was received (and dropped:
    /// nanodata does not call functions yet).
    FunctionResult { transaction: String, code: i64, bytes: usize },
}

/// The parser state of one source.
pub struct Session {
    host: Arc<Host>,
    source: String,
    update_every: u32,
    trust: Trust,
    limits: Limits,
    /// Charts this source has defined (bounded by `limits.charts`); ids of charts that
    /// cleanup removed are forgotten when the bound is reached.
    /// With each: the fingerprint of its last `CHART` line and the chart's definition
    /// version after it, so an identical line skips rebuilding the metadata.
    defined: HashMap<String, (u64, u64)>,
    /// Charts whose `update every` this source changed (each change reopens every
    /// dimension's storage: allowed once per chart, so a source cannot make every line cost
    /// dimensions × retention).
    restepped: HashSet<String>,
    /// The host's [`Host::removed_charts`] when `defined` was last pruned.
    pruned_at: u64,
    /// Dimensions of the charts in `defined` (bounded by `limits.total_dimensions`).
    dimension_total: usize,
    /// The range of the `REPLAY_CHART` waiting for its answer, and whether it told the child
    /// to start streaming, per chart (at most one per chart this source defined).
    replay_asked: HashMap<String, (i64, i64, bool)>,
    /// Replicated points refused for lying outside the range asked.
    replay_strikes: u32,
    current: Option<Arc<Chart>>,
    collecting: Option<Begun>,
    /// Values `SET` in this iteration, by dimension index (reused between iterations).
    values: Vec<Option<i64>>,
    host_labels: Vec<Label>,
    /// `Some` once a `CLABEL` batch has started on the current chart.
    chart_labels: Option<Vec<Label>>,
    capture: Option<Capture>,
    /// Where the `RSET`s of the current replicated point go (its end time).
    replay_at: Option<i64>,
    replay_refused: u64,
    /// Collections refused for moving a chart's clock too far ahead.
    clock_strikes: u32,
    /// `RSSTATE`/`RDSTATE` lines refused for the same reason (not strikes: a child whose
    /// clock is ahead sends one per chart and dimension on every connection).
    states_refused: u64,
    collections: u64,
    dropped_labels: u64,
}

struct Begun {
    now_ut: u64,
    usec: u64,
    /// The chart's [`Chart::layout`] when the collection began.
    layout: usize,
}

struct Capture {
    transaction: String,
    code: i64,
    bytes: usize,
}

impl Session {
    /// A session on `host` for the source named `source` (a plugin's file name, the
    /// `ip:port` of a child). Charts that give no `update every` get `update_every` (0: the
    /// host's).
    pub fn new(host: Arc<Host>, source: &str, update_every: u32, trust: Trust, limits: Limits) -> Session {
        Session {
            host,
            source: source.to_owned(),
            update_every,
            trust,
            limits,
            defined: HashMap::new(),
            restepped: HashSet::new(),
            pruned_at: 0,
            dimension_total: 0,
            replay_asked: HashMap::new(),
            replay_strikes: 0,
            current: None,
            collecting: None,
            values: Vec::new(),
            host_labels: Vec::new(),
            chart_labels: None,
            capture: None,
            replay_at: None,
            replay_refused: 0,
            clock_strikes: 0,
            states_refused: 0,
            collections: 0,
            dropped_labels: 0,
        }
    }

    /// Successful collections (`END` and `REND`) so far.
    pub fn collections(&self) -> u64 {
        self.collections
    }

    /// Collections refused so far because they would have moved a chart's clock too far
    /// ahead of the local clock.
    pub fn clock_strikes(&self) -> u32 {
        self.clock_strikes
    }

    /// Charts defined by this source.
    pub fn chart_count(&self) -> usize {
        self.defined.len()
    }

    /// Dimensions of the charts this source defined.
    pub fn dimension_total(&self) -> usize {
        self.dimension_total
    }

    /// Replicated points refused so far for lying outside the range asked.
    pub fn replay_strikes(&self) -> u32 {
        self.replay_strikes
    }

    /// The name of the source in log lines (`ip:port` of a child, a plugin's file name).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// `e` in the words of Netdata's streaming guide where it quotes them (a child's unknown
    /// command, a `SET` without a dimension), else its own message.
    pub fn stream_wording(&self, e: &Error) -> String {
        let host = self.host.hostname();
        match (&e.cause, &self.current) {
            (Cause::UnknownKeyword(word), _) => {
                format!(
                    "sent command '{word}' which is not known by netdata, for host '{host}'. Disabling it."
                )
            }
            (Cause::SetWithoutDimension, Some(chart)) => format!(
                "requested a SET on chart '{}' of host '{host}', without a dimension. Disabling it.",
                chart.id()
            ),
            _ => e.message.clone(),
        }
    }

    /// The owner sent `REPLAY_CHART <chart> <start_streaming> <after> <before>`: the points
    /// of its answer must lie in that range (an empty request, `0 0`, expects none). A child
    /// told to start streaming sends what it has up to its last entry (a Netdata child does),
    /// so such a range has no end here: its points past our clock plus
    /// [`crate::rrd::MAX_FUTURE_SECS`] are refused without a strike, as for a child whose
    /// clock is ahead.
    /// Replaces the chart's previous request; the chart's `REND` ends it.
    pub fn expect_replay(&mut self, chart: &str, after: i64, before: i64, start_streaming: bool) {
        let asked = (after, before, start_streaming);
        if let Some(r) = self.replay_asked.get_mut(chart) {
            *r = asked;
        } else if self.replay_asked.len() < self.limits.charts {
            self.replay_asked.insert(chart.to_owned(), asked);
        }
    }

    /// Applies what a [`super::LineBuffer`] produced; an over-long line is an error that
    /// stops the source.
    pub fn frame(&mut self, frame: Frame<'_>, now_ut: u64) -> Result<Option<Event>, Error> {
        match frame {
            Frame::Line(line) => self.line(line, now_ut),
            Frame::TooLong { at_least } => Err(Error::stop(format!(
                "line of at least {at_least} bytes is longer than the limit of {} bytes",
                self.limits.line
            ))),
        }
    }

    /// Applies one line (without its newline) at time `now_ut` (microseconds).
    pub fn line(&mut self, line: &[u8], now_ut: u64) -> Result<Option<Event>, Error> {
        let text = String::from_utf8_lossy(line);
        let words = Words::split(&text);
        if let Some(mut capture) = self.capture.take() {
            if words.keyword() == Some("FUNCTION_RESULT_END") {
                let Capture { transaction, code, bytes } = capture;
                return Ok(Some(Event::FunctionResult { transaction, code, bytes }));
            }
            capture.bytes += line.len() + 1;
            if capture.bytes > self.limits.function_result {
                return Err(Error::stop(format!(
                    "function result larger than {} bytes",
                    self.limits.function_result
                )));
            }
            self.capture = Some(capture);
            return Ok(None);
        }
        if words.is_empty() {
            return Ok(None);
        }
        let command = Command::parse(&words)?;
        self.apply(command, now_ut)
    }

    /// Applies one parsed command.
    pub fn apply(&mut self, command: Command<'_>, now_ut: u64) -> Result<Option<Event>, Error> {
        match command {
            Command::Chart(def) => self.chart(def)?,
            Command::Dimension(def) => self.dimension(def)?,
            Command::ChartDefinitionEnd { first_entry_t, last_entry_t, child_now_t } => {
                let chart = self.need_chart("CHART_DEFINITION_END", Action::Disable)?;
                return Ok(Some(Event::ChartDefinitionEnd {
                    chart: chart.id().to_owned(),
                    first_entry_t,
                    last_entry_t,
                    child_now_t,
                }));
            }
            Command::Begin { chart, usec } => {
                let Some(found) = self.host.chart(chart) else {
                    return Err(Error::disable(format!("BEGIN for unknown chart '{}'", printable(chart))));
                };
                self.set_current(Some(found));
                self.begin(now_ut, usec);
            }
            Command::Set { dim, value } => {
                let chart = self.need_chart("SET", Action::Disable)?;
                let Some(index) = chart.dimension_index(dim) else {
                    return Err(Error::disable(format!(
                        "SET for unknown dimension '{}' of chart '{}'",
                        printable(dim),
                        chart.id()
                    )));
                };
                if self.collecting.is_none() {
                    // CHART … SET without BEGIN: Netdata collects into the current chart too.
                    self.begin(now_ut, 0);
                }
                if let Some(value) = value {
                    if self.values.len() <= index {
                        self.values.resize(index + 1, None);
                    }
                    self.values[index] = Some(value);
                }
            }
            Command::End => {
                let chart = self.need_chart("END", Action::Disable)?;
                let begun =
                    self.collecting.take().unwrap_or(Begun { now_ut, usec: 0, layout: chart.layout() });
                if begun.layout != chart.layout() {
                    // Obsolete dimensions were freed since BEGIN: the indices of the values
                    // set may name other dimensions now. This one collection is dropped.
                    log::debug!(
                        "{}: collection of '{}' dropped: dimensions were freed meanwhile",
                        self.source,
                        chart.id()
                    );
                    self.set_current(None);
                    return Ok(None);
                }
                let refused = match chart.try_begin(begun.now_ut, begun.usec, self.trust == Trust::Trusted) {
                    Ok(mut collection) => {
                        for (index, value) in self.values.iter_mut().enumerate() {
                            if let Some(v) = value.take() {
                                collection.set(index, v);
                            }
                        }
                        collection.end();
                        self.collections += 1;
                        None
                    }
                    Err(leap) => Some(leap),
                };
                self.set_current(None);
                self.forget_removed();
                if let Some(leap) = refused {
                    self.clock_leap(&chart, begun.usec, leap)?;
                }
            }
            Command::Flush => {
                self.set_current(None);
            }
            Command::Disable => return Err(Error::disable("the source asked to be disabled (DISABLE)")),
            Command::Variable { scope, name, value } => self.variable(scope, name, value),
            Command::Label { name, source, value } => {
                if self.host_labels.len() < self.limits.labels {
                    self.host_labels.push(Label { name: name.to_owned(), value: value.into_owned(), source });
                } else {
                    self.label_dropped(name);
                }
            }
            Command::Overwrite => {
                self.host.set_labels(std::mem::take(&mut self.host_labels));
            }
            Command::Clabel { name, value, source } => {
                self.need_chart("CLABEL", Action::Stop)?;
                let labels = self.chart_labels.get_or_insert_with(Vec::new);
                if labels.len() < self.limits.labels {
                    labels.push(Label { name: name.to_owned(), value: value.to_owned(), source });
                } else {
                    self.label_dropped(name);
                }
            }
            Command::ClabelCommit => {
                let chart = self.need_chart("CLABEL_COMMIT", Action::Disable)?;
                let Some(batch) = self.chart_labels.take() else {
                    return Err(Error::disable("CLABEL_COMMIT without CLABEL"));
                };
                // Labels not re-sent in the batch go, except the permanent ones the agent
                // itself attaches (`_collect_plugin`, `_collect_module`).
                let mut labels: Vec<Label> = chart
                    .meta()
                    .labels
                    .into_iter()
                    .filter(|l| {
                        l.source & label_source::PERMANENT != 0 && !batch.iter().any(|b| b.name == l.name)
                    })
                    .collect();
                labels.extend(batch);
                chart.set_labels(labels);
            }
            Command::Function { name, .. } => {
                log::debug!(
                    "{}: FUNCTION '{}' ignored (functions are not supported)",
                    self.source,
                    printable(name)
                );
            }
            Command::FunctionResultBegin { transaction, code, .. } => {
                self.capture = Some(Capture { transaction: printable(transaction), code, bytes: 0 });
            }
            Command::FunctionResultEnd => {}
            Command::ReplayBegin { chart, start_t, end_t, child_now_t } => {
                let found = match chart {
                    None => self.need_chart("RBEGIN", Action::Disable)?,
                    Some(id) => match self.host.chart(id) {
                        Some(c) => c,
                        None => {
                            return Err(Error::disable(format!(
                                "RBEGIN for unknown chart '{}'",
                                printable(id)
                            )))
                        }
                    },
                };
                let same = self.current.as_ref().is_some_and(|c| Arc::ptr_eq(c, &found));
                if !same {
                    self.set_current(Some(found.clone()));
                }
                // `RBEGIN "id"` opens an answer; `RBEGIN '' start end now` one point of it,
                // stored at `end` if it is one update every long and not in the future.
                self.replay_at = None;
                if start_t != 0 || end_t != 0 {
                    let ue = found.update_every();
                    let asked = self.replay_asked.get(found.id()).map(|&(after, before, open)| {
                        let empty = after == 0 && before == 0;
                        (after, if open && !empty { i64::MAX } else { before })
                    });
                    let now_s = i64::try_from(now_ut / 1_000_000).unwrap_or(i64::MAX);
                    if let Err(why) = check_in_request(start_t, end_t, ue, asked) {
                        // (Said with the clock's reason too, when there is one.)
                        let why = match check_point(start_t, end_t, ue, child_now_t, now_s) {
                            Ok(()) => why.to_string(),
                            Err(clock) => format!("{clock}, and {why}"),
                        };
                        self.replay_strike(&found, start_t, end_t, &why)?;
                        return Ok(None);
                    }
                    // The local clock bounds the point whatever child_now says (refused points
                    // cost O(1) and are no strike: a child whose clock is ahead sends some
                    // on every connection).
                    match check_point(start_t, end_t, ue, child_now_t, now_s) {
                        Ok(()) => self.replay_at = Some(end_t),
                        Err(why) => {
                            self.replay_refused += 1;
                            if self.replay_refused.is_power_of_two() {
                                log::warn!(
                                    "{}: replicated point {start_t}..{end_t} of chart '{}' not stored: {why} ({} so far)",
                                    self.source,
                                    found.id(),
                                    self.replay_refused
                                );
                            }
                        }
                    }
                }
            }
            Command::ReplaySet { dim, value, flags } => {
                let chart = self.need_chart("RSET", Action::Disable)?;
                let Some(index) = chart.dimension_index(dim) else {
                    return Err(Error::disable(format!(
                        "replay for unknown dimension '{}' of chart '{}'",
                        printable(dim),
                        chart.id()
                    )));
                };
                if let Some(t) = self.replay_at {
                    let value = if flags.contains('E') { f64::NAN } else { value };
                    chart.store_point(index, t, value, flags.contains('R'));
                }
            }
            Command::ReplayDimensionState {
                dim,
                last_collected_ut,
                last_collected_value,
                last_calculated_value,
                last_stored_value,
            } => {
                let chart = self.need_chart("RDSTATE", Action::Disable)?;
                let Some(index) = chart.dimension_index(dim) else {
                    return Err(Error::disable(format!(
                        "replay for unknown dimension '{}' of chart '{}'",
                        printable(dim),
                        chart.id()
                    )));
                };
                if let Err(leap) = chart.restore_dimension(
                    index,
                    last_collected_ut,
                    last_collected_value,
                    last_calculated_value,
                    last_stored_value,
                    now_ut,
                ) {
                    self.state_refused("RDSTATE", &chart, leap);
                }
            }
            Command::ReplayChartState { last_collected_ut, last_updated_ut } => {
                let chart = self.need_chart("RSSTATE", Action::Stop)?;
                if let Err(why) = chart.restore_clock(last_collected_ut, last_updated_ut, now_ut) {
                    // The chart keeps its own clock: its next collection is placed by ours.
                    self.state_refused("RSSTATE", &chart, why);
                }
            }
            Command::ReplayEnd { start_streaming, after, before, .. } => {
                let chart = self.current.as_ref().map(|c| c.id().to_owned()).unwrap_or_default();
                self.replay_asked.remove(&chart);
                self.set_current(None);
                self.collections += 1;
                return Ok(Some(Event::ReplayEnd { chart, start_streaming, after, before }));
            }
            Command::ClaimedId { machine_guid, claim_id } => {
                return Ok(Some(Event::ClaimedId {
                    machine_guid: machine_guid.to_owned(),
                    claim_id: claim_id.map(str::to_owned),
                }));
            }
        }
        Ok(None)
    }

    /// Changes the current chart; values `SET` and a `CLABEL` batch of the old one are
    /// dropped (Netdata does not roll back, but nothing of them was stored yet here).
    fn set_current(&mut self, chart: Option<Arc<Chart>>) {
        self.current = chart;
        self.collecting = None;
        self.chart_labels = None;
        self.replay_at = None;
        self.values.iter_mut().for_each(|v| *v = None);
    }

    /// `VARIABLE [scope] name = value` (Netdata 1.37's `pluginsd_variable`): `HOST`/`GLOBAL`
    /// sets a host variable, `CHART`/`LOCAL` one of the current chart; without a scope the
    /// current chart's if there is one, else the host's. An empty value, or `CHART` without
    /// a current chart, is logged and ignored (not an error: Netdata carries on too).
    fn variable(&mut self, scope: Option<VariableScope>, name: &str, value: Option<f64>) {
        let Some(value) = value else {
            log::debug!("{}: VARIABLE '{}' with an empty value ignored", self.source, printable(name));
            return;
        };
        let chart = match scope {
            Some(VariableScope::Host) => None,
            Some(VariableScope::Chart) => match &self.current {
                Some(c) => Some(c),
                None => {
                    log::error!(
                        "{}: VARIABLE CHART '{}' on host '{}' without a chart; ignored",
                        self.source,
                        printable(name),
                        self.host.hostname()
                    );
                    return;
                }
            },
            None => self.current.as_ref(),
        };
        let set = match chart {
            Some(c) => c.set_variable(name, value),
            None => self.host.set_variable(name, value),
        };
        if set == VariableSet::BadName {
            log::error!(
                "{}: VARIABLE name '{}' is longer than {MAX_VARIABLE_NAME} bytes; ignored",
                self.source,
                printable(name)
            );
        }
    }

    fn begin(&mut self, now_ut: u64, usec: u64) {
        self.values.iter_mut().for_each(|v| *v = None);
        let layout = self.current.as_ref().map_or(0, |c| c.layout());
        self.collecting = Some(Begun { now_ut, usec, layout });
    }
}

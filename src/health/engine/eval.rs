//! One host's evaluation pass (protocol.md §9.1): rebind when its charts changed, pick the
//! alarms due, check that each can run, look its value up (no health lock held), then under
//! the host's health lock: `calc`, `warn`/`crit` → status, delay, log entries, repeats and
//! notifications (see `notices`). The log's new records are written and the notifications
//! queued after the lock is released.

use std::sync::Arc;

use super::alarm::{Alarm, ChartKey, Instance};
use super::bind::{Binding, HostFacts};
use super::log::LogEntry;
use super::status::Status;
use super::vars::AlarmVars;
use super::{Health, HostHealth};
use crate::health::expr::EvalError;
use crate::query::{self, Request};
use crate::rrd::{Chart, Host};

/// What tells a host's charts changed: checked every pass (cheap), and a fuller signature
/// (definition versions and obsolete flags, one chart lock each) every [`FULL_CHECK_EVERY`].
#[derive(Debug, Default)]
pub struct Memo {
    bound: bool,
    chart_count: usize,
    removed: u64,
    signature: u64,
    checked_at: i64,
    /// An alarm's chart turned obsolete: rebind on the next pass.
    pub force: bool,
}

/// Seconds between full checks of a host's chart definitions.
const FULL_CHECK_EVERY: i64 = 60;

/// An alarm due in this pass.
struct Due {
    index: usize,
    chart: Arc<Chart>,
    request: Option<Arc<Request>>,
}

/// What was measured for a due alarm without the health lock.
struct Measured {
    index: usize,
    runnable: bool,
    obsolete: bool,
    /// Value (NaN: none or a failed query), window after and before.
    lookup: Option<(f64, i64, i64)>,
}

impl Health {
    /// Evaluates the due alarms of one host; returns when it next has one due.
    pub(super) fn host_pass(&self, hh: &Arc<HostHealth>, host: &Host, now: i64) -> Option<i64> {
        self.rebind_if_needed(hh, host, now);
        self.apply_silencers(hh);
        let due: Vec<Due> = {
            let st = hh.state.lock();
            st.alarms
                .iter()
                .enumerate()
                .filter(|(_, a)| a.next_update <= now && a.update_every > 0 && !a.disabled)
                .map(|(index, a)| Due { index, chart: Arc::clone(&a.chart), request: a.request.clone() })
                .collect()
        };
        let measured: Vec<Measured> = due.iter().map(|d| measure(d, now)).collect();
        drop(due);

        let (writes, jobs, next) = {
            let mut st = hh.state.lock();
            let st = &mut *st;
            self.evaluate(st, &measured, hh, host, now);
            let jobs = self.notifications(st, hh, now);
            let next = st.alarms.iter().map(|a| a.next_update).filter(|&t| t > now).min();
            (st.take_output(), jobs, next)
        };
        write_output(writes);
        for job in jobs {
            self.queue(job);
        }
        next
    }

    /// Lookup results → calc → warn/crit → status, for every runnable alarm.
    fn evaluate(&self, st: &mut HostState, measured: &[Measured], hh: &HostHealth, host: &Host, now: i64) {
        let mut runnable = Vec::with_capacity(measured.len());
        // Runnable means evaluated in this pass (repeats are looked at only then).
        for a in &mut st.alarms {
            a.runnable = false;
        }
        for m in measured {
            st.memo.force |= m.obsolete;
            let Some(a) = st.alarms.get_mut(m.index) else { continue };
            a.runnable = m.runnable;
            if !m.runnable {
                continue;
            }
            runnable.push(m.index);
            a.old_value = a.value;
            if let Some((value, after, before)) = m.lookup {
                a.value = value;
                a.db_after = after;
                a.db_before = before;
            }
        }
        for &i in &runnable {
            let Some(calc) = st.alarms[i].config.calc.as_ref() else { continue };
            let vars = AlarmVars { this: &st.alarms[i], alarms: &st.alarms, charts: &st.charts, host, now };
            let r = calc.eval(&vars);
            let a = &mut st.alarms[i];
            match r {
                Ok(v) => {
                    a.value = v;
                    a.calc_error = None;
                }
                Err(e) => {
                    a.value = f64::NAN;
                    a.calc_error = Some(e);
                }
            }
        }
        for &i in &runnable {
            let (warn, crit) = {
                let a = &st.alarms[i];
                let vars = AlarmVars { this: a, alarms: &st.alarms, charts: &st.charts, host, now };
                let w = a.config.warn.as_ref().map(|e| e.eval(&vars));
                let c = a.config.crit.as_ref().map(|e| e.eval(&vars));
                (w, c)
            };
            let side =
                |r: &Option<Result<f64, EvalError>>| r.as_ref().map_or(Status::Undefined, Status::of_result);
            let status = Status::decide(side(&warn), side(&crit));
            let a = &mut st.alarms[i];
            a.warn_error = warn.and_then(Result::err);
            a.crit_error = crit.and_then(Result::err);
            if status != a.status {
                transition(st, i, status, now, &hh.hostname, true);
            }
            let a = &mut st.alarms[i];
            a.last_updated = now;
            a.next_update = now + i64::from(a.update_every);
        }
    }

    /// Sets the alarms' disabled and silenced flags when the silencers changed since this
    /// host last applied them (or its alarms were rebound).
    fn apply_silencers(&self, hh: &HostHealth) {
        let version = self.silencers_version.load(std::sync::atomic::Ordering::SeqCst);
        if hh.state.lock().silencers_version == version {
            return;
        }
        let silencers = self.silencers.read().clone();
        let mut st = hh.state.lock();
        for a in &mut st.alarms {
            let t = super::silencers::Target {
                alarm: &a.name,
                chart: &a.key.id,
                context: &a.key.context,
                host: &hh.hostname,
                family: &a.key.family,
            };
            (a.disabled, a.silenced) = silencers.flags(&t);
        }
        st.silencers_version = version;
    }

    /// Rebinds the host's alarms when its charts changed (see [`Memo`]).
    fn rebind_if_needed(&self, hh: &HostHealth, host: &Host, now: i64) {
        let count = host.chart_count();
        let removed = host.removed_charts();
        let (changed, full) = {
            let st = hh.state.lock();
            let m = &st.memo;
            let quick = !m.bound
                || m.force
                || m.chart_count != count
                || m.removed != removed
                || st.alarms.iter().any(|a| a.chart.obsolete_since().is_some());
            (quick, now - m.checked_at >= FULL_CHECK_EVERY)
        };
        if !changed && !full {
            return;
        }
        let charts = host.charts();
        let mut signature = 0u64;
        for c in &charts {
            let obsolete = u64::from(c.obsolete_since().is_some());
            signature =
                signature.wrapping_mul(31).wrapping_add(c.definition_version().wrapping_mul(2) + obsolete);
        }
        {
            let mut st = hh.state.lock();
            if full {
                st.memo.checked_at = now;
            }
            if !(changed || full && st.memo.signature != signature) {
                return;
            }
        }
        let facts = HostFacts {
            hostname: host.hostname().to_owned(),
            os: host.child_status().map_or_else(|| "linux".to_owned(), |c| c.os),
            labels: host.labels(),
        };
        let usable: Vec<Arc<Chart>> = charts.into_iter().filter(|c| c.obsolete_since().is_none()).collect();
        let metas: Vec<_> = usable.iter().map(|c| c.meta()).collect();
        let entries = Arc::clone(&self.entries.read());
        let bindings = entries.bind(&entries.for_host(&facts), &metas, |ci| usable[ci].dimensions());

        let mut st = hh.state.lock();
        let st = &mut *st;
        st.memo = Memo { bound: true, chart_count: count, removed, signature, checked_at: now, force: false };
        st.charts = usable
            .iter()
            .zip(&metas)
            .map(|(c, m)| {
                let key = ChartKey {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    family: m.family.clone(),
                    context: m.context.clone(),
                };
                (Arc::clone(c), key)
            })
            .collect();
        // Alarms no longer wanted are REMOVED (logged) and freed.
        let same = |a: &Alarm, b: &Binding| {
            Arc::ptr_eq(&usable[b.chart], &a.chart)
                && Arc::ptr_eq(&entries.list[b.entry].config, &a.config)
                && a.name == b.name
        };
        let wanted = |a: &Alarm| bindings.iter().any(|b| same(a, b));
        let mut i = 0;
        while i < st.alarms.len() {
            if wanted(&st.alarms[i]) {
                i += 1;
                continue;
            }
            transition(st, i, Status::Removed, now, &hh.hostname, false);
            st.alarms.remove(i);
        }
        for b in bindings {
            if st.alarms.iter().any(|a| same(a, &b)) {
                continue;
            }
            let key = st.charts[b.chart].1.clone();
            let ids = match st.log.ids_of(&key.id, &b.name) {
                Some(ids) => ids,
                None => {
                    let id = st.next_alarm_id;
                    st.next_alarm_id = st.next_alarm_id.wrapping_add(1).max(1);
                    (id, 1)
                }
            };
            let instance = Instance {
                config: Arc::clone(&entries.list[b.entry].config),
                chart: Arc::clone(&usable[b.chart]),
                key,
                name: b.name,
                dimension: b.dimension,
            };
            st.alarms.push(Alarm::new(instance, ids, &self.defaults, now));
            st.silencers_version = 0;
        }
    }

    /// A host whose health is off for now: its alarms are REMOVED (once) and binding starts
    /// afresh when it is on again.
    pub(super) fn deactivate_host(&self, hh: &HostHealth, now: i64) {
        if hh.state.lock().memo.bound {
            self.remove_host(hh, now);
            hh.state.lock().memo = Memo::default();
        }
    }

    /// Every alarm of a host that went away becomes REMOVED (logged).
    pub(super) fn remove_host(&self, hh: &HostHealth, now: i64) {
        let writes = {
            let mut st = hh.state.lock();
            let st = &mut *st;
            while !st.alarms.is_empty() {
                transition(st, 0, Status::Removed, now, &hh.hostname, false);
                st.alarms.remove(0);
            }
            st.charts.clear();
            st.take_output()
        };
        write_output(writes);
    }
}

/// A host's health state, behind its lock.
pub struct HostState {
    pub alarms: Vec<Alarm>,
    pub log: super::log::AlarmLog,
    pub next_alarm_id: u32,
    /// The host's usable charts (for family and host variables).
    pub charts: Vec<(Arc<Chart>, ChartKey)>,
    pub memo: Memo,
    pub last_processed_id: u32,
    /// Health log lines, written once the lock is released.
    pub lines: Vec<String>,
    /// The silencers version applied to `alarms` (0: none yet).
    pub silencers_version: usize,
}

impl HostState {
    /// What to write once the lock is released: the log's records and the health log lines.
    pub fn take_output(&mut self) -> (Option<super::log::Writes>, Vec<String>) {
        (self.log.take_writes(), std::mem::take(&mut self.lines))
    }
}

/// Writes what [`HostState::take_output`] took.
pub fn write_output((writes, lines): (Option<super::log::Writes>, Vec<String>)) {
    if let Some(w) = writes {
        w.write();
    }
    for line in lines {
        crate::logging::health(&line);
    }
}

/// Whether a due alarm can run now, and its lookup value (§9.1).
fn measure(d: &Due, now: i64) -> Measured {
    let mut m = Measured { index: d.index, runnable: false, obsolete: false, lookup: None };
    if d.chart.obsolete_since().is_some() {
        m.obsolete = true;
        return m;
    }
    let (collections, last_collected) = d.chart.with_view(|v, _| (v.collections(), v.last_collected_ut()));
    if collections < 2 || last_collected == 0 {
        return m;
    }
    if let Some(req) = &d.request {
        let ue = i64::from(d.chart.update_every().max(1));
        let (Some(first), Some(last)) = (d.chart.first_entry_any_tier_t(), d.chart.last_entry_t()) else {
            return m;
        };
        let needed = now + req.before + req.after;
        if needed + ue < first || needed - ue > last {
            return m;
        }
        let req = window(req, ue, now);
        m.lookup = Some(match query::run_chart(&d.chart, &req, now) {
            Ok(rows) => {
                let v = rows.values.last().and_then(|row| query::row_value(row, req.options.min2max));
                (v.unwrap_or(f64::NAN), rows.after, rows.before)
            }
            Err(e) => {
                log::debug!("health: lookup on '{}' failed: {}", d.chart.id(), e.message());
                (f64::NAN, 0, 0)
            }
        });
    }
    m.runnable = true;
    m
}

/// The lookup's window as absolute times, one bucket: `[now + before − |after| + 1, now +
/// before]`, unless `unaligned` with its end moved back to a multiple of its duration (as
/// Netdata aligns a one-point query), so consecutive evaluations see whole, disjoint windows.
fn window(req: &Request, ue: i64, now: i64) -> Request {
    let duration = (-req.after).max(ue);
    let mut before = now + req.before;
    if !req.options.unaligned {
        let step = duration + (ue - duration % ue) % ue;
        before -= before.rem_euclid(step);
    }
    let mut r = req.clone();
    r.after = before - duration + 1;
    r.before = before;
    r.options.unaligned = true;
    r
}

/// A log entry for alarm `a` going from `old` to `new` at `now` (ids and delay left to the
/// caller).
pub(super) fn entry_of(a: &Alarm, new: Status, old: Status, now: i64) -> LogEntry {
    let c = &a.config;
    let duration = now - a.last_status_change;
    let raised = |s: Status| s == Status::Warning || s == Status::Critical;
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    LogEntry {
        unique_id: 0,
        alarm_id: a.id,
        alarm_event_id: a.next_event_id,
        config_hash_id: a.config_hash_id.clone(),
        when: now,
        duration,
        non_clear_duration: if raised(old) { duration } else { 0 },
        name: a.name.clone(),
        chart: a.key.id.clone(),
        context: a.key.context.clone(),
        family: a.key.family.clone(),
        class: text(&c.class),
        component: text(&c.component),
        type_: text(&c.type_),
        exec: a.exec.clone(),
        recipient: a.recipient.clone(),
        source: c.source.clone(),
        units: text(&c.units),
        info: text(&c.info),
        status: new,
        old_status: old,
        value: a.value,
        old_value: a.old_value,
        delay: 0,
        delay_up_to_timestamp: now,
        updated_by_id: 0,
        updates_id: 0,
        processed: false,
        updated: false,
        exec_run: false,
        exec_failed: false,
        exec_code: -1,
        exec_run_timestamp: 0,
        silenced: a.silenced,
        no_clear_notification: c.no_clear_notification,
        last_repeat: 0,
    }
}

/// Alarm `i` changes status: the delay (unless `delayed` is false: removals), a log entry
/// that supersedes the previous one, a line in the health log.
fn transition(st: &mut HostState, i: usize, new: Status, now: i64, hostname: &str, delayed: bool) {
    let a = &mut st.alarms[i];
    let old = a.status;
    if delayed {
        a.delay.change(&a.delay_policy, old, new, now);
    }
    let mut e = entry_of(a, new, old, now);
    if delayed {
        e.delay = a.delay.last;
        e.delay_up_to_timestamp = a.delay.up_to;
    }
    st.lines.push(format!(
        "{hostname} {}.{} {old} -> {new}, value {} ({})",
        a.key.id,
        a.name,
        e.value_string(),
        a.config.source
    ));
    a.next_event_id = a.next_event_id.wrapping_add(1);
    a.last_status_change = now;
    a.old_status = old;
    a.status = new;
    st.log.add(e);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_windows_are_whole_and_aligned_unless_unaligned() {
        let t0 = 1_700_000_000;
        let req = Request { after: -10, before: 0, points: 1, ..Request::default() };
        // At T0 + 25 the window ends at T0 + 20 and spans 10 slots.
        let w = window(&req, 1, t0 + 25);
        assert_eq!((w.after, w.before, w.options.unaligned), (t0 + 11, t0 + 20, true));
        let mut un = req.clone();
        un.options.unaligned = true;
        let w = window(&un, 1, t0 + 25);
        assert_eq!((w.after, w.before), (t0 + 16, t0 + 25));
        // `at -1m` on a 2 s chart, a 5 s lookup: aligned on 6 s (5 rounded up to the step);
        // T0 + 40 is a multiple of 6 (1 700 000 040 = 6 × 283 333 340).
        let at = Request { after: -5, before: -60, points: 1, ..Request::default() };
        let w = window(&at, 2, t0 + 100);
        assert_eq!((w.after, w.before), (t0 + 36, t0 + 40));
        let w = window(&at, 2, t0 + 103);
        assert_eq!((w.after, w.before), (t0 + 36, t0 + 40), "T0 + 43 goes back to T0 + 40");
    }
}

//! Notifications of a pass: the repeats of repeating alarms, then the log entries whose
//! delay has passed and that nothing superseded, each checked against Netdata's rules
//! ([`status::notification`]) and turned into a [`Job`] with its 29 arguments.

use std::sync::Arc;

use super::alarm::Alarm;
use super::eval::{entry_of, HostState};
use super::notify::{self, Expression, Job, Raised};
use super::status::{self, NotifyCheck, Skip, Status};
use super::{Health, HostHealth};
use crate::health::expr::EvalError;

impl Health {
    /// Repeats of repeating alarms, then the log entries whose delay has passed.
    pub(super) fn notifications(&self, st: &mut HostState, hh: &Arc<HostHealth>, now: i64) -> Vec<Job> {
        let mut jobs = Vec::new();
        let mut raised: Option<Raised> = None;
        let child_guid = if hh.localhost { String::new() } else { hh.guid.clone() };
        for i in 0..st.alarms.len() {
            let a = &mut st.alarms[i];
            if !a.runnable || !a.repeat_policy.repeating() || a.silenced {
                continue;
            }
            let Some(due) = a.repeat.due(&a.repeat_policy, a.status, a.old_status, a.delay.up_to, now) else {
                continue;
            };
            let a = &st.alarms[i];
            let mut e = entry_of(a, a.status, a.old_status, now);
            e.unique_id = st.log.next_id();
            e.last_repeat = now;
            e.delay = a.delay.last;
            e.delay_up_to_timestamp = a.delay.up_to;
            let check = NotifyCheck {
                new_status: e.status,
                old_status: e.old_status,
                no_clear_notification: e.no_clear_notification,
                recipient: &e.recipient,
                last_sent: None,
                clear_once: due.clear_once,
            };
            if status::notification(&check).is_ok() {
                let r = raised.get_or_insert_with(|| raised_of(&st.alarms));
                let args = notify::arguments(&e, &hh.hostname, &child_guid, &expression(a, e.status), r);
                jobs.push(Job {
                    host: Arc::downgrade(hh),
                    unique_id: e.unique_id,
                    logged: false,
                    program: a.exec.clone(),
                    args,
                });
            }
        }

        let HostState { alarms, log, last_processed_id, .. } = st;
        let entries = log.entries_mut();
        let mut start = entries.len();
        while start > 0 && entries[start - 1].unique_id >= *last_processed_id {
            start -= 1;
        }
        let mut first_waiting = u32::MAX;
        let mut touched = Vec::new();
        for k in start..entries.len() {
            let e = &entries[k];
            if e.processed || e.updated {
                continue;
            }
            let alarm = alarms.iter().find(|a| a.id == e.alarm_id);
            if alarm.is_some_and(|a| a.repeat_policy.repeating()) {
                continue;
            }
            first_waiting = first_waiting.min(e.unique_id);
            if now < e.delay_up_to_timestamp {
                continue;
            }
            let last_sent =
                entries.range(..k).rev().find(|p| p.alarm_id == e.alarm_id && p.exec_run).map(|p| p.status);
            let check = NotifyCheck {
                new_status: e.status,
                old_status: e.old_status,
                no_clear_notification: e.no_clear_notification,
                recipient: &e.recipient,
                last_sent,
                clear_once: false,
            };
            // Silenced (`/api/v1/manage/health`): looked at, never run.
            let verdict = if e.silenced { Err(Skip::Silent) } else { status::notification(&check) };
            let e = &mut entries[k];
            e.processed = true;
            touched.push(e.unique_id);
            match verdict {
                Ok(()) => {
                    e.exec_run = true;
                    e.exec_run_timestamp = now;
                    let r = raised.get_or_insert_with(|| raised_of(alarms));
                    let expr = alarm.map(|a| expression(a, e.status)).unwrap_or_default();
                    let args = notify::arguments(e, &hh.hostname, &child_guid, &expr, r);
                    jobs.push(Job {
                        host: Arc::downgrade(hh),
                        unique_id: e.unique_id,
                        logged: true,
                        program: e.exec.clone(),
                        args,
                    });
                }
                Err(Skip::Silent) => e.silenced = true,
                Err(_) => {}
            }
        }
        *last_processed_id = if first_waiting == u32::MAX {
            entries.back().map_or(0, |e| e.unique_id.wrapping_add(1))
        } else {
            first_waiting
        };
        for id in touched {
            log.touch(id);
        }
        jobs
    }
}

/// Arguments 23–26: the host's alarms in WARNING and CRITICAL.
fn raised_of(alarms: &[Alarm]) -> Raised {
    let mut r = Raised::default();
    for a in alarms {
        let (n, list) = match a.status {
            Status::Warning => (&mut r.warnings, &mut r.warning_list),
            Status::Critical => (&mut r.criticals, &mut r.critical_list),
            _ => continue,
        };
        *n += 1;
        if !list.is_empty() {
            list.push(',');
        }
        list.push_str(&format!("{}={}", a.name, a.last_status_change));
    }
    r
}

/// Arguments 21–22: the expression behind `status` (warn for WARNING, crit for CRITICAL,
/// calc for CLEAR) and its last error.
fn expression(a: &Alarm, status: Status) -> Expression {
    let c = &a.config;
    let (expr, error) = match status {
        Status::Warning => (c.warn.as_ref(), a.warn_error.as_ref()),
        Status::Critical => (c.crit.as_ref(), a.crit_error.as_ref()),
        Status::Clear => (c.calc.as_ref(), a.calc_error.as_ref()),
        _ => (None, None),
    };
    Expression {
        source: expr.map(|e| e.source().to_owned()),
        error: error.map(|e| match e {
            EvalError::NaN { unknown } if !unknown.is_empty() => {
                format!("expression result is NaN; unknown variables: {}", unknown.join(", "))
            }
            EvalError::NaN { .. } => "expression result is NaN".to_owned(),
            EvalError::Infinite => "expression result is infinite".to_owned(),
        }),
    }
}

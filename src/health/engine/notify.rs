//! Notifications: the 29 arguments of Netdata's `alarm-notify.sh` (protocol.md §9), a
//! bounded queue the health thread never blocks on (full ⇒ the notification is dropped,
//! counted and logged), and the one notifier thread that runs each program (no shell) with a
//! timeout and records its exit code in the alarm log.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
// 32-bit MIPS has no 64-bit atomics: the drop counter is a `usize`.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};

use super::log::LogEntry;
use super::HostHealth;
use crate::clock;
use crate::sys;

/// Notifications waiting at most; more are dropped.
pub const QUEUE: usize = 256;
/// A notification program still running after this is killed.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The edit command argument (28) when there is none.
pub const NO_EDIT_COMMAND: &str = "UNKNOWN=0=UNKNOWN";

/// One run of the notification program.
pub struct Job {
    /// Where to record the outcome (`None`: nowhere, a repeat).
    pub host: Weak<HostHealth>,
    pub unique_id: u32,
    pub logged: bool,
    pub program: String,
    pub args: Vec<String>,
}

/// What the host's other alarms look like when a notification is built (arguments 23–26).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Raised {
    pub warnings: usize,
    pub criticals: usize,
    /// `name=last_status_change` joined by `,`.
    pub warning_list: String,
    pub critical_list: String,
}

/// The expression behind a status and its last error (arguments 21 and 22).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expression {
    pub source: Option<String>,
    pub error: Option<String>,
}

/// The 29 arguments, in order: recipients, host, unique id, alarm id, event id, when, name,
/// chart, family, status, old status, value, old value, source, duration, non-clear
/// duration, units, info, value string, old value string, expression source, its error,
/// #warnings, #criticals, warning list, critical list, classification, edit command,
/// child machine GUID (empty for this node).
pub fn arguments(
    e: &LogEntry,
    hostname: &str,
    child_guid: &str,
    expr: &Expression,
    raised: &Raised,
) -> Vec<String> {
    let or = |s: &str, default: &str| if s.is_empty() { default.to_owned() } else { s.to_owned() };
    vec![
        e.recipient.clone(),
        hostname.to_owned(),
        e.unique_id.to_string(),
        e.alarm_id.to_string(),
        e.alarm_event_id.to_string(),
        e.when.to_string(),
        e.name.clone(),
        or(&e.chart, "NOCHART"),
        or(&e.family, "NOFAMILY"),
        e.status.as_str().to_owned(),
        e.old_status.as_str().to_owned(),
        rounded(e.value),
        rounded(e.old_value),
        e.source.clone(),
        e.duration.to_string(),
        e.non_clear_duration.to_string(),
        e.units.clone(),
        e.info.clone(),
        e.value_string(),
        e.old_value_string(),
        expr.source.clone().unwrap_or_else(|| "NOSOURCE".into()),
        expr.error.clone().unwrap_or_else(|| "NOERRMSG".into()),
        raised.warnings.to_string(),
        raised.criticals.to_string(),
        raised.warning_list.clone(),
        raised.critical_list.clone(),
        or(&e.class, "Unknown"),
        NO_EDIT_COMMAND.into(),
        child_guid.to_owned(),
    ]
}

/// A value rounded to an integer as C's `%0.0f` prints it (`nan`, `inf`, `-inf`; but `0`
/// for a negative value that rounds to zero).
fn rounded(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        let s = format!("{v:.0}");
        if s == "-0" {
            "0".into()
        } else {
            s
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code; 128 + signal when killed; -1 when it could not start.
    pub code: i32,
    pub failed: bool,
    pub detail: String,
}

/// The environment a notification script gets besides the daemon's own (Netdata's
/// `NETDATA_*` variables: `alarm-notify.sh` reads its configuration directories from them).
pub type Environment = Arc<Vec<(String, String)>>;

/// Runs `program` with `args` (no shell) and `env` added to the daemon's environment,
/// killing it (and its process group) after `timeout`.
pub fn run(program: &str, args: &[String], env: &[(String, String)], timeout: Duration) -> Outcome {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .process_group(0);
    sys::process::reset_signals_before_exec(&mut cmd);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Outcome { code: -1, failed: true, detail: format!("cannot run it: {e}") },
    };
    let deadline = clock::now_monotonic() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if clock::now_monotonic() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => break None,
            Err(e) => return Outcome { code: -1, failed: true, detail: format!("cannot wait for it: {e}") },
        }
    };
    let (status, timed_out) = match status {
        Some(s) => (s, false),
        None => {
            sys::process::signal_group(&child, sys::signal::SIGKILL);
            match child.wait() {
                Ok(s) => (s, true),
                Err(e) => return Outcome { code: -1, failed: true, detail: format!("cannot reap it: {e}") },
            }
        }
    };
    let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    let detail = match (timed_out, status.code()) {
        (true, _) => format!("killed after {} s", timeout.as_secs()),
        (false, Some(c)) => format!("exited with code {c}"),
        (false, None) => format!("killed by signal {}", status.signal().unwrap_or(0)),
    };
    Outcome { code, failed: timed_out || code != 0, detail }
}

/// The queue and its thread.
pub struct Notifier {
    tx: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    dropped: Arc<AtomicUsize>,
    /// Set by [`Notifier::stop`]: jobs still queued are not run.
    stopping: Arc<AtomicBool>,
}

impl Notifier {
    /// Starts the notifier thread.
    pub fn start(timeout: Duration, env: Environment) -> std::io::Result<Notifier> {
        let (tx, rx) = bounded::<Job>(QUEUE);
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stopping);
        let thread = sys::thread::spawn("health.notify", sys::thread::SMALL, move || {
            serve(&rx, timeout, &env, &stop)
        })?;
        Ok(Notifier { tx: Some(tx), thread: Some(thread), dropped: Arc::new(AtomicUsize::new(0)), stopping })
    }

    /// Queues a job; never blocks. Returns false (counted, logged) when the queue is full.
    pub fn send(&self, job: Job) -> bool {
        let Some(tx) = &self.tx else { return false };
        match tx.try_send(job) {
            Ok(()) => true,
            Err(TrySendError::Full(job)) | Err(TrySendError::Disconnected(job)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                log::error!(
                    "health: the notification queue is full ({QUEUE}); dropped the notification of alarm log entry {} ({n} dropped so far)",
                    job.unique_id
                );
                if job.logged {
                    record(&job, None);
                }
                false
            }
        }
    }

    /// Notifications dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed) as u64
    }

    /// Stops taking jobs; the thread ends after the one running (not waited for), and the
    /// jobs still queued are not run.
    pub fn stop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        self.tx = None;
        if let Some(t) = self.thread.take() {
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(rx: &Receiver<Job>, timeout: Duration, env: &[(String, String)], stopping: &AtomicBool) {
    loop {
        let job = match rx.recv_timeout(Duration::from_secs(3600)) {
            Ok(j) => j,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if stopping.load(Ordering::Acquire) {
            return;
        }
        let outcome = run(&job.program, &job.args, env, timeout);
        let arg = |i: usize| job.args.get(i).map_or("", String::as_str);
        let (host, name, chart, status) = (arg(1), arg(6), arg(7), arg(9));
        if outcome.failed {
            log::error!(
                "health: notification of {name} on {host} {chart} ({status}): '{}' {}",
                job.program,
                outcome.detail
            );
        }
        crate::logging::health(&format!("notification {host} {chart}.{name} {status}: {}", outcome.detail));
        if job.logged {
            record(&job, Some(&outcome));
        }
    }
}

/// Writes the outcome into the log entry (`None`: the program never ran).
fn record(job: &Job, outcome: Option<&Outcome>) {
    let Some(host) = job.host.upgrade() else { return };
    let mut st = host.state.lock();
    if let Some(e) = st.log.get_mut(job.unique_id) {
        match outcome {
            Some(o) => {
                e.exec_code = o.code;
                e.exec_failed = o.failed;
            }
            None => {
                e.exec_run = false;
                e.exec_failed = true;
            }
        }
        st.log.touch(job.unique_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job whose program takes a second, whatever its 29 arguments.
    fn slow_job() -> Job {
        let mut args = vec!["x".to_owned(); 29];
        args[0] = "-c".into();
        args[1] = "sleep 1".into();
        Job { host: Weak::new(), unique_id: 1, logged: false, program: "/bin/sh".into(), args }
    }

    #[test]
    fn exit_codes_timeouts_and_missing_programs() {
        assert_eq!(
            run("/bin/true", &[], &[], TIMEOUT),
            Outcome { code: 0, failed: false, detail: "exited with code 0".into() }
        );
        let o = run("/bin/sh", &["-c".into(), "exit 7".into()], &[], TIMEOUT);
        assert_eq!((o.code, o.failed), (7, true));
        let o = run("/bin/sleep", &["30".into()], &[], Duration::from_millis(200));
        assert_eq!((o.code, o.failed), (128 + 9, true));
        assert!(o.detail.contains("killed after"), "{}", o.detail);
        let o = run("/nonexistent/alarm-notify.sh", &[], &[], TIMEOUT);
        assert_eq!((o.code, o.failed), (-1, true));
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_blocking() {
        let mut n = Notifier::start(Duration::from_secs(5), Environment::default()).unwrap();
        // The first job keeps the thread busy; the queue holds QUEUE more; the rest drop.
        let sent = (0..QUEUE + 20).filter(|_| n.send(slow_job())).count();
        assert!(sent <= QUEUE + 1, "{sent}");
        assert_eq!(n.dropped() as usize, QUEUE + 20 - sent);
        assert!(n.dropped() >= 19);
        n.stop();
        assert!(!n.send(slow_job()), "stopped");
    }

    #[test]
    fn rounded_values() {
        assert_eq!(rounded(2.5), "2");
        assert_eq!(rounded(3.7), "4");
        assert_eq!(rounded(-0.2), "0");
        assert_eq!(rounded(f64::NAN), "nan");
        assert_eq!(rounded(f64::NEG_INFINITY), "-inf");
    }
}

//! One external plugin: its process, the thread reading its output, and its restarts.
//!
//! The thread polls the plugin's stdout with a short timeout, so it notices the daemon
//! stopping and a plugin gone silent without another thread. The plugin runs in its own
//! process group; stopping it sends SIGTERM to the group (so a shell plugin's `sleep` dies
//! too), then SIGKILL after a grace period, and always reaps it.

use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::lifecycle::{self, Exit, History, Next};
use crate::clock;
use crate::protocol::{Action, Limits, LineBuffer, Session, Trust};
use crate::rrd::Host;
use crate::sys;
use crate::sys::signal::{SIGKILL, SIGTERM};

/// How often the reader wakes up to look at the stop signal and the silence timer.
const POLL: Duration = Duration::from_millis(100);
/// Time a plugin gets between SIGTERM and SIGKILL when it misbehaved.
const GRACE: Duration = Duration::from_secs(2);
/// The same when the daemon stops: every plugin must be gone within about a second.
const GRACE_AT_STOP: Duration = Duration::from_millis(500);

/// Everything needed to run one plugin.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Name without `.plugin`, as in `[plugins] <name>` and `[plugin:<name>]`.
    pub name: String,
    pub path: PathBuf,
    pub update_every: u32,
    pub command_options: String,
    /// A plugin silent for this long is stopped.
    pub silence: Duration,
    /// The environment of protocol.md §5.2 (without `NETDATA_UPDATE_EVERY`).
    pub env: Arc<Vec<(String, String)>>,
    /// Where the plugin's stderr goes: the error log file, or the daemon's stderr.
    pub stderr: Option<PathBuf>,
}

impl Spec {
    fn file_name(&self) -> String {
        format!("{}.plugin", self.name)
    }

    /// `/bin/sh -c "exec <path> <update every> <options>"` (the path quoted for the shell).
    fn command(&self) -> Command {
        let path = self.path.display().to_string().replace('\'', r"'\''");
        let line = format!("exec '{path}' {} {}", self.update_every, self.command_options);
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(line.trim_end());
        cmd.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd.env("NETDATA_UPDATE_EVERY", self.update_every.to_string());
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        let stderr = self.stderr.as_ref().and_then(|p| std::fs::OpenOptions::new().append(true).open(p).ok());
        cmd.stderr(stderr.map_or_else(Stdio::inherit, Stdio::from));
        cmd.process_group(0);
        sys::process::reset_signals_before_exec(&mut cmd);
        cmd
    }
}

/// Why reading a plugin's output ended.
enum Ended {
    /// stdout closed.
    Eof,
    /// A line could not be applied.
    Protocol(crate::protocol::Error, u64),
    /// No output for too long.
    Silent,
    /// Reading failed.
    Io(io::Error),
    /// The daemon is stopping.
    Stopping,
}

/// Runs the plugin until it is disabled or the daemon stops (`stop` disconnects).
pub fn run(spec: Spec, host: Arc<Host>, stop: Receiver<()>) {
    let tag = format!("plugins.d: '{}'", spec.file_name());
    let mut history = History::default();
    loop {
        let mut child = match spec.command().spawn() {
            Ok(c) => c,
            Err(e) => {
                log::error!("{tag}: cannot start it: {e}; disabled");
                return;
            }
        };
        log::info!("{tag}: started (pid {}), update every {} s", child.id(), spec.update_every);
        let mut stdout = child.stdout.take();
        let stdin = child.stdin.take();
        let mut session = Session::new(
            Arc::clone(&host),
            &spec.file_name(),
            spec.update_every,
            Trust::Measured,
            Limits::PLUGIN,
        );
        let ended = match &mut stdout {
            Some(out) => read(out, &mut session, &spec, &stop),
            None => Ended::Io(io::Error::other("no stdout pipe")),
        };
        let stopping = matches!(ended, Ended::Stopping);
        let disabled = match &ended {
            Ended::Protocol(e, _) if e.action == Action::Disable => Some(e.message.clone()),
            _ => None,
        };
        match &ended {
            Ended::Eof => log::info!("{tag}: its output ended"),
            Ended::Protocol(e, line) => log::error!("{tag}: line {line}: {e}; stopping it"),
            Ended::Silent => log::error!("{tag}: no output for {} s; stopping it", spec.silence.as_secs()),
            Ended::Io(e) => log::error!("{tag}: cannot read its output: {e}; stopping it"),
            Ended::Stopping => {}
        }
        let status = terminate(&mut child, if stopping { GRACE_AT_STOP } else { GRACE }, &tag);
        drop(stdout);
        drop(stdin);
        if stopping {
            log::info!("{tag}: stopped ({})", describe(status));
            return;
        }
        let exit = match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(sig)) => Exit::Signal(sig),
            (None, None) => Exit::Code(-1),
        };
        let collected = session.collections() > 0;
        match lifecycle::decide(&mut history, disabled.as_deref(), exit, collected, spec.update_every) {
            Next::Disable(why) => {
                log::error!(
                    "{tag}: {} after {} collections; disabled: {why}",
                    describe(status),
                    session.collections()
                );
                return;
            }
            Next::Restart(after) => {
                log::info!(
                    "{tag}: {} after {} collections; restarting in {} s",
                    describe(status),
                    session.collections(),
                    after.as_secs()
                );
                match stop.recv_timeout(after) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
            }
        }
    }
}

/// Feeds the plugin's output to the session until it ends, fails, goes silent or the daemon
/// stops.
fn read(out: &mut ChildStdout, session: &mut Session, spec: &Spec, stop: &Receiver<()>) -> Ended {
    let mut lines = LineBuffer::new(Limits::PLUGIN.line);
    let mut line_no: u64 = 0;
    let mut last_output = clock::now_monotonic();
    loop {
        match stop.try_recv() {
            Err(TryRecvError::Empty) => {}
            _ => return Ended::Stopping,
        }
        let ready = match sys::fd::wait_readable(out, POLL) {
            Ok(ready) => ready,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Ended::Io(e),
        };
        if !ready {
            if last_output.elapsed() >= spec.silence {
                return Ended::Silent;
            }
            continue;
        }
        let n = match out.read(lines.spare()) {
            Ok(0) => {
                if let Some(frame) = lines.finish() {
                    line_no += 1;
                    if let Err(e) = session.frame(frame, clock::now_realtime_usec()) {
                        return Ended::Protocol(e, line_no);
                    }
                }
                return Ended::Eof;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Ended::Io(e),
        };
        lines.filled(n);
        last_output = clock::now_monotonic();
        let now = clock::now_realtime_usec();
        while let Some(frame) = lines.next_line() {
            line_no += 1;
            if let Err(e) = session.frame(frame, now) {
                return Ended::Protocol(e, line_no);
            }
        }
    }
}

/// Ends the plugin's process group and reaps the plugin: SIGTERM, then SIGKILL after
/// `grace`.
fn terminate(child: &mut Child, grace: Duration, tag: &str) -> ExitStatus {
    if let Ok(Some(status)) = child.try_wait() {
        return status;
    }
    sys::process::signal_group(child, SIGTERM);
    let deadline = clock::now_monotonic() + grace;
    while clock::now_monotonic() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    log::error!("{tag}: still running {} ms after SIGTERM; sending SIGKILL", grace.as_millis());
    sys::process::signal_group(child, SIGKILL);
    match child.wait() {
        Ok(status) => status,
        // Only if it was reaped elsewhere, which nothing in the daemon does.
        Err(_) => ExitStatus::from_raw(SIGKILL),
    }
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "ended".into(),
    }
}

//! The attack bench (issue 12, item 3): a nanodata parent with 100 good simulated children
//! streaming every second, then one attack at a time, each measured the same way.
//!
//! Every phase starts a fresh parent (release build, loopback, its own temporary
//! directories, memory mode `ram`, a `stream.conf` with an API key), connects the good
//! children (the real protocol: handshake, `CHART`/`DIMENSION`, `BEGIN`/`SET`/`END` each
//! second), lets them settle, then runs the attack for `--phase-secs` while two probe
//! threads poll `/api/v1/info` and a data query of a good child's chart about 20 times a
//! second each, on a new connection every time (as curl or a dashboard's first request
//! would). After the phase every good child's chart is read back: a second the child sent
//! during the phase whose value the parent never stored is lost (each second's value is
//! unique); a child whose connection was closed loses its whole window.
//!
//! Every phase has a hard time limit: a request still unanswered two seconds after the
//! phase ended is recorded with the time it had waited, and the phase reports "stalled".
//! A fresh parent per phase keeps one attack's after-effects out of the next row.
//! The parent's RSS is sampled; past `--max-rss-mb` the attacker stops sending, and past
//! twice that the parent is killed, so a memory attack cannot take the machine down.
//!
//! ```text
//! make bench-attack                                   the worktree's release binary
//! make bench-attack BIN=/path/to/nanodata             another binary ("before"/"after")
//! BIN=/path/to/nanodata target/release/examples/attack    the same without make
//! cargo run --release --example attack -- --bin target/release/nanodata \
//!     [--children 100] [--phase-secs 10] [--only baseline,time-leap] [--conns 2000]
//! ```
//!
//! The table is markdown on stdout; progress goes to stderr. Loopback only.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const KEY: &str = "11111111-2222-3333-4444-555555555555";
/// VCAPS HLABELS CLAIM CLABELS: a 1.37 child without replication or compression.
const CAPS_BASIC: u32 = 64 + 128 + 256 + 512;
const CAP_COMPRESSION: u32 = 1024;
const CAP_REPLICATION: u32 = 4096;
/// Good children's charts and dimensions per chart.
const GOOD_CHARTS: usize = 5;
const GOOD_DIMS: usize = 10;
/// Seconds the good children stream before a phase's window starts.
const WARMUP: Duration = Duration::from_secs(2);
/// How long after a phase's end a request may still complete before the phase is "stalled".
const GRACE: Duration = Duration::from_secs(2);
/// How long after a phase (and its 2 s of extra streaming) the parent may take to answer
/// again before its good children's data is read back.
const RECOVERY: Duration = Duration::from_secs(8);
/// Probe period per probe thread (~20 requests a second).
const PROBE_EVERY: Duration = Duration::from_millis(50);
/// The targets of issue 12.
const TARGET_P99_MS: f64 = 50.0;
const TARGET_MAX_MS: f64 = 500.0;

struct Args {
    bin: PathBuf,
    children: usize,
    phase: Duration,
    only: Option<Vec<String>>,
    conns: usize,
    max_connections: usize,
    max_rss_mb: u64,
}

fn args() -> Args {
    let mut a = Args {
        bin: std::env::var_os("BIN").map(PathBuf::from).unwrap_or_else(|| "target/release/nanodata".into()),
        children: 100,
        phase: Duration::from_secs(10),
        only: None,
        conns: 2000,
        max_connections: 8192,
        max_rss_mb: 2048,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let num = |v: &str| v.parse::<usize>().unwrap_or_else(|_| usage(&format!("{flag}: not a number")));
        match flag.as_str() {
            "--bin" => a.bin = v.into(),
            "--children" => a.children = num(&v).max(1),
            "--phase-secs" => a.phase = Duration::from_secs(num(&v).max(3) as u64),
            "--only" => a.only = Some(v.split(',').map(str::to_string).collect()),
            "--conns" => a.conns = num(&v).max(1),
            "--max-connections" => a.max_connections = num(&v).max(1),
            "--max-rss-mb" => a.max_rss_mb = num(&v).max(64) as u64,
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    a
}

fn usage(why: &str) -> ! {
    eprintln!(
        "attack: {why}\nusage: attack [--bin PATH (or BIN=)] [--children N] [--phase-secs S] [--only p1,p2] \
         [--conns N] [--max-connections N] [--max-rss-mb M]\nphases: {}",
        PHASES.iter().map(|p| p.name).collect::<Vec<_>>().join(",")
    );
    std::process::exit(2)
}

/// One row of the bench: a name, what it does, and the attack (None: the baseline).
struct Phase {
    name: &'static str,
    attack: Option<fn(&Ctx) -> String>,
}

const PHASES: &[Phase] = &[
    Phase { name: "baseline", attack: None },
    Phase { name: "time-leap", attack: Some(time_leap) },
    Phase { name: "replay-past", attack: Some(replay_past) },
    Phase { name: "replay-future", attack: Some(replay_future) },
    Phase { name: "replay-claims", attack: Some(replay_claims) },
    Phase { name: "max-definitions", attack: Some(max_definitions) },
    Phase { name: "definition-flood", attack: Some(definition_flood) },
    Phase { name: "line-1MiB", attack: Some(line_1mib) },
    Phase { name: "lz4-bomb", attack: Some(lz4_bomb) },
    Phase { name: "huge-query", attack: Some(huge_query) },
    Phase { name: "slowloris-http", attack: Some(slowloris_http) },
    Phase { name: "slowloris-stream", attack: Some(slowloris_stream) },
    Phase { name: "idle-connections", attack: Some(idle_connections) },
];

fn main() {
    let a = args();
    if !a.bin.exists() {
        usage(&format!("{} does not exist (build it, or give --bin / BIN=)", a.bin.display()));
    }
    let nofile = raise_nofile();
    // The bench and the parent each hold every attack connection (and the parent inherits
    // this limit): keep room for the children, probes and files.
    let room = usize::try_from(nofile).unwrap_or(usize::MAX).saturating_sub(500).max(100);
    let a = if a.conns > room {
        eprintln!("attack: --conns {} lowered to {room} (RLIMIT_NOFILE {nofile})", a.conns);
        Args { conns: room, ..a }
    } else {
        a
    };
    if let Some(only) = &a.only {
        if let Some(bad) = only.iter().find(|o| !PHASES.iter().any(|p| p.name == o.as_str())) {
            usage(&format!("unknown phase {bad}"));
        }
    }
    eprintln!(
        "attack: {} — {} good children, {} s per phase, RLIMIT_NOFILE {nofile} (inherited by the parent)",
        a.bin.display(),
        a.children,
        a.phase.as_secs()
    );
    let started = Instant::now();
    let mut rows = Vec::new();
    for p in PHASES {
        if a.only.as_ref().is_some_and(|o| !o.iter().any(|n| n == p.name)) {
            continue;
        }
        eprintln!("attack: phase {} ...", p.name);
        let row = match run_phase(&a, p) {
            Ok(r) => r,
            Err(e) => Row::failed(p.name, e),
        };
        eprintln!("attack:   {}", row.markdown());
        rows.push(row);
    }
    println!(
        "\nAttack bench: `{}`, {} good children × {} dims/s, {} s per phase, [web] max connections {}, \
         {} s in all. Latencies of a new connection's request, ms; targets p99 < {TARGET_P99_MS} ms, \
         max < {TARGET_MAX_MS} ms, no second lost.\n",
        a.bin.display(),
        a.children,
        GOOD_CHARTS * GOOD_DIMS,
        a.phase.as_secs(),
        a.max_connections,
        started.elapsed().as_secs()
    );
    println!("| phase | info p50/p99/max ms | data p50/p99/max ms | good children: seconds lost of child-seconds | parent RSS max | attacker outcome |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        println!("{}", r.markdown());
    }
    let failing: Vec<&str> = rows.iter().filter(|r| !r.meets_targets()).map(|r| r.name).collect();
    println!(
        "\nPhases missing a target: {}",
        if failing.is_empty() { "none".to_string() } else { failing.join(", ") }
    );
}

// ---- one phase -------------------------------------------------------------------------

/// What an attack gets: where the parent is and when to stop.
struct Ctx {
    port: u16,
    until: Instant,
    started: Instant,
    /// Set when the parent's RSS crossed `--max-rss-mb`: stop sending.
    rss_cap: Arc<AtomicBool>,
    conns: usize,
}

impl Ctx {
    fn over(&self) -> bool {
        Instant::now() >= self.until || self.rss_cap.load(Ordering::Relaxed)
    }
    fn secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

struct Row {
    name: &'static str,
    info: Latency,
    data: Latency,
    lost: String,
    lost_any: bool,
    rss_mib: u64,
    outcome: String,
}

impl Row {
    fn failed(name: &'static str, why: String) -> Row {
        Row {
            name,
            info: Latency::default(),
            data: Latency::default(),
            lost: "?".into(),
            lost_any: true,
            rss_mib: 0,
            outcome: format!("bench error: {why}"),
        }
    }

    fn markdown(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} MiB | {} |",
            self.name,
            self.info.cell(),
            self.data.cell(),
            self.lost,
            self.rss_mib,
            self.outcome.replace('|', "\\|")
        )
    }

    fn meets_targets(&self) -> bool {
        self.info.meets() && self.data.meets() && !self.lost_any
    }
}

fn run_phase(a: &Args, phase: &Phase) -> Result<Row, String> {
    let mut parent = Parent::start(a, phase.name)?;
    let port = parent.port;
    let good = GoodChildren::start(port, a.children)?;
    std::thread::sleep(WARMUP);

    let started = Instant::now();
    let t0 = unix_now();
    let until = started + a.phase;
    let hard = until + GRACE;
    let rss_cap = Arc::new(AtomicBool::new(false));
    let rss_max = Arc::new(AtomicU64::new(0));
    let killed = Arc::new(AtomicBool::new(false));

    let info = spawn_probe(port, "/api/v1/info".to_string(), until, hard);
    let data = spawn_probe(
        port,
        "/host/good0/api/v1/data?chart=good.c0&after=-60&points=60&format=json".into(),
        until,
        hard,
    );
    let monitor = {
        let (pid, cap, max, killed) =
            (parent.pid(), Arc::clone(&rss_cap), Arc::clone(&rss_max), Arc::clone(&killed));
        let limit_kib = a.max_rss_mb * 1024;
        std::thread::spawn(move || {
            while Instant::now() < hard {
                let rss = rss_kib(pid);
                max.fetch_max(rss, Ordering::Relaxed);
                if rss > limit_kib {
                    cap.store(true, Ordering::Relaxed);
                }
                if rss > 2 * limit_kib && !killed.swap(true, Ordering::Relaxed) {
                    // SAFETY: kill(2) on the pid of a child process this bench started and
                    // has not reaped yet (the Parent is dropped only after this thread ends).
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let attack = phase.attack.map(|f| {
        let ctx = Ctx { port, until, started, rss_cap: Arc::clone(&rss_cap), conns: a.conns };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f(&ctx));
        });
        rx
    });

    let info = info.join().unwrap_or_default();
    let data = data.join().unwrap_or_default();
    let _ = monitor.join();
    let mut outcome = match attack {
        None => "—".to_string(),
        // Attacks stop at `until` (every socket operation has a timeout); one that does not
        // is reported rather than waited for.
        Some(rx) => rx
            .recv_timeout(hard.saturating_duration_since(Instant::now()) + GRACE)
            .unwrap_or_else(|_| "the attacker's thread was still blocked at the hard limit".into()),
    };
    if rss_cap.load(Ordering::Relaxed) {
        outcome.push_str(&format!("; stopped at the RSS cap of {} MiB", a.max_rss_mb));
    }
    if killed.load(Ordering::Relaxed) {
        outcome.push_str("; parent KILLED at twice the RSS cap");
    }
    let t_end = t0 + a.phase.as_secs() as i64 - 1;

    // The good children keep streaming a little; once the parent answers again (it may
    // still be working through what the attacker queued) their charts are read back.
    std::thread::sleep(Duration::from_secs(2));
    let recovery = Instant::now() + RECOVERY;
    let mut answered = false;
    while parent.alive() && Instant::now() < recovery {
        if let Ok((200, _)) = http_get(port, "/api/v1/info", recovery) {
            answered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let closed = good.closed();
    let sent = good.sent_between(t0 + 1, t_end);
    let expected = sent.len() as i64;
    let lost = if answered {
        count_lost(port, &sent, t0 + 1, &closed, Instant::now() + Duration::from_secs(6))
    } else {
        Lost {
            seconds: 0,
            children: 0,
            unverified: a.children,
            closed: closed.iter().filter(|c| **c).count(),
        }
    };
    if !answered {
        outcome.push_str(&format!(
            "; parent still not answering {:.0} s after the phase",
            until.elapsed().as_secs_f64()
        ));
    }
    good.stop();
    if let Some(line) = parent.log_line(phase.name) {
        outcome.push_str(&format!("; log: `{line}"));
    }
    let rss_mib = rss_max.load(Ordering::Relaxed) / 1024;
    parent.stop();
    Ok(Row {
        name: phase.name,
        info,
        data,
        lost_any: lost.seconds > 0 || lost.unverified > 0 || lost.closed > 0,
        lost: lost.cell(expected * a.children as i64, a.children),
        rss_mib,
        outcome,
    })
}

// ---- the parent ------------------------------------------------------------------------

struct Parent {
    proc: std::process::Child,
    port: u16,
    dir: PathBuf,
}

impl Parent {
    fn start(a: &Args, phase: &str) -> Result<Parent, String> {
        let dir = std::env::temp_dir().join(format!("nanodata-attack-{}-{phase}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["etc", "cache", "lib", "log"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        // Good children and attackers share one API key; their hosts store in RAM, one hour.
        let stream_conf = format!(
            "[stream]\n    max child hosts = 1000\n[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    \
             default history = 3600\n    enable compression = yes\n"
        );
        std::fs::write(dir.join("etc/stream.conf"), stream_conf).map_err(|e| e.to_string())?;
        let port = free_port()?;
        let d = |s: &str| dir.join(s).display().to_string();
        let set = |args: &mut Vec<String>, section: &str, key: &str, value: String| {
            args.extend(["-W".into(), "set".into(), section.into(), key.into(), value]);
        };
        let mut args: Vec<String> = vec!["-D".into(), "-c".into(), "/dev/null".into()];
        set(&mut args, "directories", "config", d("etc"));
        set(&mut args, "directories", "cache", d("cache"));
        set(&mut args, "directories", "lib", d("lib"));
        set(&mut args, "directories", "log", d("log"));
        set(&mut args, "logs", "error", d("log/error.log"));
        set(&mut args, "logs", "access", "none".into());
        // 100 children's connection lines would trip the flood protection (200 lines)
        // before the attacker's line could be read.
        set(&mut args, "logs", "errors to trigger flood protection", "1000000".into());
        set(&mut args, "web", "bind to", format!("127.0.0.1:{port}"));
        set(&mut args, "web", "max connections", a.max_connections.to_string());
        set(&mut args, "plugins", "proc", "no".into());
        set(&mut args, "plugins", "diskspace", "no".into());
        set(&mut args, "db", "mode", "ram".into());
        let out = std::fs::File::create(dir.join("stdout.log")).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let proc = Command::new(&a.bin)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", a.bin.display()))?;
        let mut p = Parent { proc, port, dir };
        let limit = Instant::now() + Duration::from_secs(20);
        while Instant::now() < limit {
            if let Ok((200, _)) = http_get(port, "/api/v1/info", Instant::now() + Duration::from_secs(1)) {
                return Ok(p);
            }
            if !p.alive() {
                return Err(format!(
                    "the parent exited at start; see {}",
                    p.dir.join("stdout.log").display()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        p.stop();
        Err("the parent did not answer /api/v1/info within 20 s".into())
    }

    fn pid(&self) -> u32 {
        self.proc.id()
    }

    fn alive(&mut self) -> bool {
        matches!(self.proc.try_wait(), Ok(None))
    }

    /// The first significant error-log line about this phase's attacker (its hosts are
    /// named `evil-<phase>…`): an error or a closed connection rather than the routine
    /// accept lines; for the connection attacks, the first warning or error of the web
    /// server. With the number of such lines.
    fn log_line(&self, phase: &str) -> Option<String> {
        let log = std::fs::read(self.dir.join("log/error.log")).ok()?;
        let log = String::from_utf8_lossy(&log);
        let tag = format!("evil-{phase}");
        let significant = |l: &&str| {
            let tagged = l.contains(&tag)
                && (l.contains("ERROR")
                    || l.contains("WARN")
                    || l.contains("closing")
                    || l.contains("Forbidding"));
            let web = !l.contains("good")
                && !l.contains("logged too many messages")
                && (l.contains("ERROR")
                    || l.contains("WARN")
                    || l.contains("timeout")
                    || l.contains("refused"));
            tagged || web
        };
        let mut lines = log.lines().filter(significant);
        let first = lines.next()?;
        let more = lines.count();
        // Keep the message: drop "<date>: nanodata: LEVEL : THREAD : ".
        let text = first.splitn(3, " : ").nth(2).unwrap_or(first);
        let mut short: String = text.chars().take(200).collect();
        if short.len() < text.len() {
            short.push('…');
        }
        Some(if more > 0 { format!("{short}` (+{more} more)") } else { format!("{short}`") })
    }

    fn stop(&mut self) {
        let _ = self.proc.kill();
        let _ = self.proc.wait();
        if std::env::var_os("ATTACK_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Parent {
    fn drop(&mut self) {
        if self.alive() {
            self.stop();
        }
    }
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// VmRSS of a process, KiB (0 once it is gone).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Raises the soft RLIMIT_NOFILE to the hard one (thousands of attack sockets); the parent
/// inherits it (nanodata does not change its own). Returns the limit in effect.
// rlim_t is 32 bits on some targets.
#[allow(clippy::unnecessary_cast)]
fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
    lim.rlim_cur as u64
}

// ---- HTTP probes ----------------------------------------------------------------------

/// One `GET` on a new connection (`Connection: close`): the status and body. An error when
/// `deadline` passes first.
fn http_get(port: u16, path: &str, deadline: Instant) -> Result<(u16, Vec<u8>), String> {
    let left = |d: Instant| d.saturating_duration_since(Instant::now());
    if left(deadline).is_zero() {
        return Err("stalled".into());
    }
    let mut s = TcpStream::connect_timeout(&addr(port), left(deadline)).map_err(|e| e.to_string())?;
    s.set_nodelay(true).ok();
    s.set_write_timeout(Some(left(deadline).max(Duration::from_millis(1)))).ok();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let l = left(deadline);
        if l.is_zero() {
            return Err("stalled".into());
        }
        s.set_read_timeout(Some(l.min(Duration::from_millis(250)))).ok();
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                if buf.is_empty() {
                    return Err(e.to_string());
                }
                break;
            }
        }
    }
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no response head")?;
    let status = std::str::from_utf8(&buf[..head_end])
        .ok()
        .and_then(|h| h.split_whitespace().nth(1)?.parse().ok())
        .ok_or("bad status line")?;
    Ok((status, buf[head_end + 4..].to_vec()))
}

/// Latencies of one probe over a phase.
#[derive(Default)]
struct Latency {
    ms: Vec<f64>,
    /// Answers other than 200, and failed connections.
    errors: usize,
    /// A request was still unanswered at the hard limit.
    stalled: bool,
}

impl Latency {
    fn pct(&self, p: f64) -> f64 {
        if self.ms.is_empty() {
            return f64::NAN;
        }
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        let i = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[i.clamp(1, v.len()) - 1]
    }

    fn cell(&self) -> String {
        if self.ms.is_empty() {
            return "no answer".into();
        }
        let max = self.pct(100.0);
        let mut c = format!("{:.1} / {:.1} / {}", self.pct(50.0), self.pct(99.0), fmt_ms(max));
        if self.stalled {
            c = format!("{:.1} / {:.1} / **stalled** ≥ {}", self.pct(50.0), self.pct(99.0), fmt_ms(max));
        }
        if self.errors > 0 {
            c.push_str(&format!(" ({} of {} failed)", self.errors, self.ms.len()));
        }
        c
    }

    fn meets(&self) -> bool {
        !self.ms.is_empty()
            && !self.stalled
            && self.errors == 0
            && self.pct(99.0) < TARGET_P99_MS
            && self.pct(100.0) < TARGET_MAX_MS
    }
}

fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.1}")
    }
}

/// Polls `path` every [`PROBE_EVERY`] until `until`; the last request may run to `hard`.
fn spawn_probe(port: u16, path: String, until: Instant, hard: Instant) -> std::thread::JoinHandle<Latency> {
    std::thread::spawn(move || {
        let mut l = Latency::default();
        let mut next = Instant::now();
        while Instant::now() < until {
            let t = Instant::now();
            let r = http_get(port, &path, hard);
            l.ms.push(t.elapsed().as_secs_f64() * 1000.0);
            match r {
                Ok((200, _)) => {}
                Ok(_) => l.errors += 1,
                Err(e) => {
                    l.errors += 1;
                    if Instant::now() >= hard || e == "stalled" {
                        l.stalled = true;
                        break;
                    }
                }
            }
            next += PROBE_EVERY;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else {
                next = now;
            }
        }
        l
    })
}

// ---- good children --------------------------------------------------------------------

/// The good children: one thread sends every child's second of data at each wall-clock
/// second and notes a child whose connection the parent closed.
struct GoodChildren {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<bool>>,
    closed: Arc<std::sync::Mutex<Vec<bool>>>,
    /// `(value of d0, wall-clock second it was sent)` for every second sent.
    sent: Arc<std::sync::Mutex<Vec<(u64, i64)>>>,
}

impl GoodChildren {
    fn start(port: u16, n: usize) -> Result<GoodChildren, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut defs = String::new();
        for c in 0..GOOD_CHARTS {
            defs.push_str(&chart_line(&format!("good.c{c}"), "good", ""));
            for d in 0..GOOD_DIMS {
                defs.push_str(&dim_line(&format!("d{d}")));
            }
        }
        let mut socks = Vec::with_capacity(n);
        for i in 0..n {
            let (mut s, _) = handshake(port, &format!("good{i}"), CAPS_BASIC, deadline)?;
            write_until(&mut s, defs.as_bytes(), deadline).map_err(|e| format!("good{i}: {e}"))?;
            socks.push(s);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let closed = Arc::new(std::sync::Mutex::new(vec![false; n]));
        let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
        let thread = {
            let (stop, closed, sent) = (Arc::clone(&stop), Arc::clone(&closed), Arc::clone(&sent));
            std::thread::spawn(move || {
                let mut counter = 0u64;
                let mut text = String::new();
                while !stop.load(Ordering::Relaxed) {
                    // Sleep to 100 ms after the next wall-clock second.
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                    let into = now.subsec_millis() as u64;
                    let wait = if into < 100 { 100 - into } else { 1100 - into };
                    std::thread::sleep(Duration::from_millis(wait));
                    counter += 1;
                    sent.lock().unwrap_or_else(|p| p.into_inner()).push((counter * 10, unix_now()));
                    text.clear();
                    for c in 0..GOOD_CHARTS {
                        text.push_str(&format!("BEGIN \"good.c{c}\" 1000000\n"));
                        for d in 0..GOOD_DIMS {
                            text.push_str(&format!("SET \"d{d}\" = {}\n", counter * 10 + d as u64));
                        }
                        text.push_str("END\n");
                    }
                    let until = Instant::now() + Duration::from_millis(500);
                    let mut gone = closed.lock().unwrap_or_else(|p| p.into_inner());
                    for (i, s) in socks.iter_mut().enumerate() {
                        if gone[i] {
                            continue;
                        }
                        // A child blocked for half a second (parent not reading) is not
                        // counted as closed: its bytes are queued by the kernel.
                        if write_until(
                            s,
                            text.as_bytes(),
                            until.max(Instant::now() + Duration::from_millis(5)),
                        )
                        .is_err_and(|e| e != "deadline")
                            || peer_closed(s)
                        {
                            gone[i] = true;
                        }
                    }
                }
                let gone = closed.lock().unwrap_or_else(|p| p.into_inner()).clone();
                drop(socks);
                gone
            })
        };
        Ok(GoodChildren { stop, thread, closed, sent })
    }

    /// The values of d0 sent during the wall-clock seconds `[after, before]`.
    fn sent_between(&self, after: i64, before: i64) -> Vec<u64> {
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter().filter(|(_, t)| (after..=before).contains(t)).map(|(v, _)| *v).collect()
    }

    fn closed(&self) -> Vec<bool> {
        self.closed.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

struct Lost {
    seconds: i64,
    children: usize,
    unverified: usize,
    closed: usize,
}

impl Lost {
    /// `window` is the number of child-seconds checked (children × seconds).
    fn cell(&self, window: i64, children: usize) -> String {
        if self.unverified >= children {
            return format!("? of {window}: the parent did not answer");
        }
        let mut parts = vec![if self.seconds == 0 {
            "0".to_string()
        } else {
            format!("**{}** ({} children)", self.seconds, self.children)
        }];
        if self.closed > 0 {
            parts.push(format!("{} disconnected", self.closed));
        }
        let mut cell = format!("{} of {window}", parts.join(", "));
        if self.unverified > 0 {
            cell.push_str(&format!(" (+{} children unverified: no answer)", self.unverified));
        }
        cell
    }
}

/// Reads each good child's `good.c0` back from a little before the window to now and
/// counts the seconds sent in the window (`expected`: values of `d0`, which are unique)
/// whose value was never stored. Empty slots alone would not do: a child's `BEGIN` gives
/// the time since its previous second, so a parent that fell behind stores late data
/// contiguously. A closed child counts its whole window as lost.
fn count_lost(port: u16, expected: &[u64], after: i64, closed: &[bool], deadline: Instant) -> Lost {
    let mut l = Lost { seconds: 0, children: 0, unverified: 0, closed: 0 };
    let want = expected.len() as i64;
    let mut todo: Vec<usize> = Vec::new();
    for (i, c) in closed.iter().enumerate() {
        if *c {
            l.closed += 1;
            l.children += 1;
            l.seconds += want;
        } else {
            todo.push(i);
        }
    }
    let (from, to) = (after - 30, unix_now() + 2);
    // Two passes: a child whose query timed out (the parent still busy) is asked again.
    for _ in 0..2 {
        let mut again = Vec::new();
        for &i in &todo {
            let path = format!(
                "/host/good{i}/api/v1/data?chart=good.c0&dimensions=d0&after={from}&before={to}&points={}&group=max&format=csv&options=seconds",
                to - from + 1
            );
            let per = (Instant::now() + Duration::from_secs(2)).min(deadline);
            match http_get(port, &path, per) {
                Ok((200, body)) => {
                    let text = String::from_utf8_lossy(&body);
                    if i == 0 && std::env::var_os("ATTACK_VERBOSE").is_some() {
                        eprintln!("attack: good0 {path} (expected {expected:?}):\n{text}");
                    }
                    // The first line is the header; then `time,d0` rows.
                    let stored: std::collections::HashSet<u64> = text
                        .lines()
                        .skip(1)
                        .filter_map(|r| r.split(',').nth(1)?.trim().parse::<f64>().ok())
                        .map(|v| v.round() as u64)
                        .collect();
                    let missing = expected.iter().filter(|v| !stored.contains(v)).count() as i64;
                    if missing > 0 {
                        l.seconds += missing;
                        l.children += 1;
                    }
                }
                _ => again.push(i),
            }
        }
        todo = again;
    }
    l.unverified = todo.len();
    l
}

// ---- the protocol ---------------------------------------------------------------------

fn chart_line(id: &str, title: &str, options: &str) -> String {
    format!("CHART \"{id}\" \"\" \"{title}\" \"things\" \"attack\" \"{id}\" \"line\" 1000 1 \"{options}\" \"attack\" \"\"\n")
}

fn dim_line(name: &str) -> String {
    format!("DIMENSION \"{name}\" \"{name}\" \"absolute\" 1 1 \"\"\n")
}

/// A STREAM handshake as a 1.37 child with capabilities `ver`: the socket and the granted
/// capabilities.
fn handshake(port: u16, hostname: &str, ver: u32, deadline: Instant) -> Result<(TcpStream, u32), String> {
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
    let mut s = TcpStream::connect_timeout(&addr(port), left).map_err(|e| format!("{hostname}: {e}"))?;
    s.set_nodelay(true).ok();
    let guid = uuid::Uuid::new_v4();
    let head = format!(
        "STREAM key={KEY}&hostname={hostname}&registry_hostname={hostname}&machine_guid={guid}&update_every=1&os=linux&timezone=UTC&abbrev_timezone=UTC&utc_offset=0&hops=1&ver={ver} HTTP/1.1\r\nUser-Agent: attack/1\r\nAccept: */*\r\n\r\n"
    );
    write_until(&mut s, head.as_bytes(), deadline).map_err(|e| format!("{hostname}: {e}"))?;
    s.set_read_timeout(Some(left.min(Duration::from_secs(5)))).ok();
    let mut reply = [0u8; 256];
    let got = s.read(&mut reply).map_err(|e| format!("{hostname}: no reply to the handshake: {e}"))?;
    let reply = String::from_utf8_lossy(&reply[..got]).into_owned();
    let Some(v) = reply.strip_prefix("Hit me baby, push them over with the version=") else {
        return Err(format!("{hostname}: refused: {:?}", reply.trim()));
    };
    Ok((s, v.trim().parse().unwrap_or(0)))
}

/// Writes all of `bytes` unless `deadline` passes (`Err("deadline")`) or the parent closed
/// the connection (`Err(reason)`).
fn write_until(s: &mut TcpStream, bytes: &[u8], deadline: Instant) -> Result<(), String> {
    let mut pos = 0;
    while pos < bytes.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("deadline".into());
        }
        s.set_write_timeout(Some(left.min(Duration::from_millis(200)))).ok();
        match s.write(&bytes[pos..]) {
            Ok(0) => return Err("connection closed".into()),
            Ok(n) => pos += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

/// The parent closed this connection (EOF or reset seen without blocking). Bytes the
/// parent sent are read and dropped.
fn peer_closed(s: &mut TcpStream) -> bool {
    if s.set_nonblocking(true).is_err() {
        return true;
    }
    let mut buf = [0u8; 4096];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break true,
        }
    };
    let _ = s.set_nonblocking(false);
    closed
}

/// How an attacking stream ended, for the outcome column.
fn ended(ctx: &Ctx, s: &mut TcpStream, r: Result<(), String>, what: &str) -> String {
    match r {
        Err(e) if e != "deadline" => {
            format!("closed by the parent at {:.1} s ({e}) after {what}", ctx.secs())
        }
        _ if peer_closed(s) => format!("closed by the parent by {:.1} s, after {what}", ctx.secs()),
        _ => format!("still connected at the end, after {what}"),
    }
}

/// Sends `batch` over and over until the phase ends or the parent closes the connection;
/// returns the result and the number of batches sent.
fn repeat(ctx: &Ctx, s: &mut TcpStream, batch: &[u8]) -> (Result<(), String>, u64) {
    let mut n = 0;
    while !ctx.over() {
        if let Err(e) = write_until(s, batch, ctx.until) {
            return (Err(e), n);
        }
        n += 1;
    }
    (Ok(()), n)
}

fn kib(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{:.0} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

// ---- the attacks ----------------------------------------------------------------------

/// A chart with 1000 dimensions, then `BEGIN … 3599000000` (an hour ahead each) with one
/// `SET` and `END`, as fast as the parent reads them.
fn time_leap(ctx: &Ctx) -> String {
    let (mut s, _) = match handshake(ctx.port, "evil-time-leap", CAPS_BASIC, ctx.until) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let mut def = chart_line("evil.leap", "leap", "");
    for d in 0..1000 {
        def.push_str(&dim_line(&format!("d{d}")));
    }
    if let Err(e) = write_until(&mut s, def.as_bytes(), ctx.until) {
        return ended(ctx, &mut s, Err(e), "the definition");
    }
    let one = "BEGIN \"evil.leap\" 3599000000\nSET \"d0\" = 1\nEND\n";
    let batch = one.repeat(10);
    let (r, n) = repeat(ctx, &mut s, batch.as_bytes());
    ended(ctx, &mut s, r, &format!("{} leaps ({})", n * 10, kib(n * batch.len() as u64)))
}

/// Replication points an hour apart starting in 2001.
fn replay_past(ctx: &Ctx) -> String {
    replay_points(ctx, "evil-replay-past", 1_000_000_000)
}

/// Replication points an hour apart starting ten years ahead.
fn replay_future(ctx: &Ctx) -> String {
    replay_points(ctx, "evil-replay-future", unix_now() + 10 * 365 * 86_400)
}

/// A replicating child (100 dimensions) whose replication response carries points an
/// hour apart from `base` on, each with a `child_now` just after it (so every point passes
/// the "not in the child's future" check), as fast as the parent reads them.
fn replay_points(ctx: &Ctx, host: &str, base: i64) -> String {
    let (mut s, granted) = match handshake(ctx.port, host, CAPS_BASIC | CAP_REPLICATION, ctx.until) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if granted & CAP_REPLICATION == 0 {
        return format!("replication not granted (version {granted})");
    }
    let now = unix_now();
    let mut def = chart_line("evil.replay", "replay", "");
    for d in 0..100 {
        def.push_str(&dim_line(&format!("d{d}")));
    }
    def.push_str(&format!("CHART_DEFINITION_END {} {now} {now}\n", now - 3600));
    if let Err(e) = write_until(&mut s, def.as_bytes(), ctx.until) {
        return ended(ctx, &mut s, Err(e), "the definition");
    }
    let request = read_line(&mut s, Duration::from_secs(2));
    if let Err(e) = write_until(&mut s, b"RBEGIN \"evil.replay\"\n", ctx.until) {
        return ended(ctx, &mut s, Err(e), "the definition");
    }
    let mut k = 0i64;
    let mut sent = 0u64;
    let mut r = Ok(());
    while !ctx.over() {
        let mut batch = String::new();
        for _ in 0..10 {
            let start = base + k * 3600;
            batch.push_str(&format!("RBEGIN '' {start} {} {}\n", start + 1, start + 2));
            for d in 0..100 {
                batch.push_str(&format!("RSET \"d{d}\" 1.0000000 \"\"\n"));
            }
            k += 1;
        }
        sent += batch.len() as u64;
        r = write_until(&mut s, batch.as_bytes(), ctx.until);
        if r.is_err() {
            break;
        }
    }
    let asked = request.map_or("no REPLAY_CHART".to_string(), |l| format!("asked `{}`", l.trim()));
    ended(ctx, &mut s, r, &format!("{asked}; {k} points an hour apart ({})", kib(sent)))
}

/// Reads one line (at most 4 KiB) within `timeout`.
fn read_line(s: &mut TcpStream, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while Instant::now() < deadline && line.len() < 4096 {
        s.set_read_timeout(Some(
            deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)),
        ))
        .ok();
        match s.read(&mut b) {
            Ok(1) if b[0] == b'\n' => return Some(String::from_utf8_lossy(&line).into_owned()),
            Ok(1) => line.push(b[0]),
            _ => return None,
        }
    }
    None
}

/// Two replicating children whose charts claim absurd first/last/now times in
/// `CHART_DEFINITION_END`, and which answer every `REPLAY_CHART` with an empty response
/// whose `REND` says "not finished", so the parent keeps asking.
fn replay_claims(ctx: &Ctx) -> String {
    let now = unix_now();
    let years = 30 * 365 * 86_400;
    let a = std::thread::scope(|sc| {
        let one = sc.spawn(|| {
            claims(
                ctx,
                "evil-replay-claims",
                &[(1, 4_102_444_800, 9_000_000_000), (now - years, now + years, now)],
            )
        });
        let two = sc.spawn(|| {
            claims(ctx, "evil-replay-claims2", &[(i64::MIN + 1, i64::MAX, i64::MAX), (-1, -1, -1)])
        });
        [one.join().unwrap_or_default(), two.join().unwrap_or_default()]
    });
    a.join("; ")
}

fn claims(ctx: &Ctx, host: &str, times: &[(i64, i64, i64)]) -> String {
    let (mut s, granted) = match handshake(ctx.port, host, CAPS_BASIC | CAP_REPLICATION, ctx.until) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if granted & CAP_REPLICATION == 0 {
        return format!("{host}: replication not granted (version {granted})");
    }
    let charts = 100;
    let mut def = String::new();
    for c in 0..charts {
        def.push_str(&chart_line(&format!("evil.claim{c}"), "claims", ""));
        for d in 0..10 {
            def.push_str(&dim_line(&format!("d{d}")));
        }
        let (first, last, now) = times[c % times.len()];
        def.push_str(&format!("CHART_DEFINITION_END {first} {last} {now}\n"));
    }
    if let Err(e) = write_until(&mut s, def.as_bytes(), ctx.until) {
        return format!("{host}: {}", ended(ctx, &mut s, Err(e), "the definitions"));
    }
    let mut requests = 0u64;
    let mut widest = 0i64;
    let mut oldest = i64::MAX;
    let mut newest = i64::MIN;
    let mut pending = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut r = Ok(());
    s.set_read_timeout(Some(Duration::from_millis(100))).ok();
    'run: while !ctx.over() {
        match s.read(&mut buf) {
            Ok(0) => {
                r = Err("connection closed".into());
                break;
            }
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
            Err(e) => {
                r = Err(e.to_string());
                break;
            }
        }
        let mut answer = String::new();
        while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&line);
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.first() != Some(&"REPLAY_CHART") || w.len() < 5 {
                continue;
            }
            requests += 1;
            let id = w[1].trim_matches(|c| c == '"' || c == '\'');
            let (after, before): (i64, i64) = (w[3].parse().unwrap_or(0), w[4].parse().unwrap_or(0));
            widest = widest.max(before.saturating_sub(after));
            if after != 0 {
                oldest = oldest.min(after);
            }
            newest = newest.max(before);
            let c: usize = id.trim_start_matches("evil.claim").parse().unwrap_or(0);
            let (first, last, now) = times[c % times.len()];
            answer
                .push_str(&format!("RBEGIN \"{id}\"\nREND 1 {first} {last} false {after} {before} {now}\n"));
        }
        if !answer.is_empty() {
            if let Err(e) = write_until(&mut s, answer.as_bytes(), ctx.until) {
                r = Err(e);
                break 'run;
            }
        }
    }
    let range = if oldest <= newest { format!(", asked from {oldest} to {newest}") } else { String::new() };
    format!(
        "{host}: {}",
        ended(ctx, &mut s, r, &format!("{requests} REPLAY_CHART answered (widest {widest} s{range})"))
    )
}

/// Charts × dimensions up to the parent's default limits (2000 × 1000), as fast as it reads.
fn max_definitions(ctx: &Ctx) -> String {
    let (mut s, _) = match handshake(ctx.port, "evil-max-definitions", CAPS_BASIC, ctx.until) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let mut dims = String::new();
    for d in 0..1000 {
        dims.push_str(&dim_line(&format!("dimension_number_{d}")));
    }
    let mut charts = 0u64;
    let mut r = Ok(());
    while charts < 2000 && !ctx.over() {
        let def = chart_line(&format!("evil.max{charts}"), "max", "") + &dims;
        r = write_until(&mut s, def.as_bytes(), ctx.until);
        if r.is_err() {
            break;
        }
        charts += 1;
    }
    ended(ctx, &mut s, r, &format!("{charts} charts × 1000 dimensions sent"))
}

/// The same 10 charts × 100 dimensions redefined in a loop, their title and the `obsolete`
/// option changing every time.
fn definition_flood(ctx: &Ctx) -> String {
    let (mut s, _) = match handshake(ctx.port, "evil-definition-flood", CAPS_BASIC, ctx.until) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let mut dims = String::new();
    for d in 0..100 {
        dims.push_str(&dim_line(&format!("d{d}")));
    }
    let mut rounds = 0u64;
    let mut bytes = 0u64;
    let mut r = Ok(());
    while !ctx.over() {
        let mut batch = String::new();
        for c in 0..10 {
            let options = if rounds % 2 == 0 { "obsolete" } else { "" };
            batch.push_str(&chart_line(&format!("evil.flood{c}"), &format!("flood {rounds}"), options));
            batch.push_str(&dims);
        }
        bytes += batch.len() as u64;
        r = write_until(&mut s, batch.as_bytes(), ctx.until);
        if r.is_err() {
            break;
        }
        rounds += 1;
    }
    ended(ctx, &mut s, r, &format!("{rounds} rounds of 10 charts ({})", kib(bytes)))
}

/// A 1 MiB line on a stream and a 1 MiB HTTP request line, each repeated on a new
/// connection while the phase lasts.
fn line_1mib(ctx: &Ctx) -> String {
    let big = "x".repeat(1 << 20);
    std::thread::scope(|sc| {
        let stream = sc.spawn(|| {
            let (mut tries, mut closed) = (0, 0);
            let mut first = String::new();
            while !ctx.over() {
                let Ok((mut s, _)) = handshake(ctx.port, "evil-line-1MiB", CAPS_BASIC, ctx.until) else {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                };
                tries += 1;
                let line = format!("CHART evil.{big}\n");
                let r = write_until(&mut s, line.as_bytes(), ctx.until);
                std::thread::sleep(Duration::from_millis(200));
                if r.as_ref().is_err_and(|e| e != "deadline") || peer_closed(&mut s) {
                    closed += 1;
                    if first.is_empty() {
                        first = format!(" (first at {:.1} s)", ctx.secs());
                    }
                }
            }
            format!("stream: {closed} of {tries} connections closed by the parent{first}")
        });
        let http = sc.spawn(|| {
            let (mut tries, mut statuses) = (0, std::collections::BTreeMap::<String, u32>::new());
            let req = format!("GET /api/v1/info?{big} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            while !ctx.over() {
                let Ok(mut s) = TcpStream::connect_timeout(&addr(ctx.port), Duration::from_secs(1)) else {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                };
                tries += 1;
                let _ = write_until(&mut s, req.as_bytes(), ctx.until);
                let status = read_line(&mut s, Duration::from_secs(1))
                    .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
                    .unwrap_or_else(|| "no answer".into());
                *statuses.entry(status).or_default() += 1;
            }
            let st: Vec<String> = statuses.iter().map(|(k, v)| format!("{v}× {k}")).collect();
            format!("HTTP: {tries} requests: {}", st.join(", "))
        });
        format!("{}; {}", stream.join().unwrap_or_default(), http.join().unwrap_or_default())
    })
}

/// LZ4 on a compressed stream: a block that decodes to 2 MiB, a header claiming a full
/// block followed by a few bytes and silence, and a stream of valid 16 KiB blocks of
/// `FLUSH` lines compressed ~200:1, as fast as the parent reads them.
fn lz4_bomb(ctx: &Ctx) -> String {
    if lz4_block(b"\n").is_none() {
        return "not run: the bench was built without the `compression` feature".into();
    }
    let ver = CAPS_BASIC | CAP_COMPRESSION;
    std::thread::scope(|sc| {
        let bomb = sc.spawn(|| {
            let (mut tries, mut closed) = (0, 0);
            let block = lz4_block(&vec![b'\n'; 2 << 20]).unwrap_or_default();
            let mut wire = header(block.len()).to_vec();
            wire.extend_from_slice(&block);
            while !ctx.over() {
                let Ok((mut s, granted)) = handshake(ctx.port, "evil-lz4-bomb", ver, ctx.until) else {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                };
                if granted & CAP_COMPRESSION == 0 {
                    return "compression not granted".to_string();
                }
                tries += 1;
                let r = write_until(&mut s, &wire, ctx.until);
                std::thread::sleep(Duration::from_millis(200));
                if r.is_err_and(|e| e != "deadline") || peer_closed(&mut s) {
                    closed += 1;
                }
            }
            format!("2 MiB block ({} B): {closed} of {tries} connections closed", block.len())
        });
        let partial = sc.spawn(|| {
            let Ok((mut s, _)) = handshake(ctx.port, "evil-lz4-bomb-partial", ver, ctx.until) else {
                return "partial block: refused".to_string();
            };
            let mut wire = header(16_383).to_vec();
            wire.extend_from_slice(&[0x1f; 16]);
            let r = write_until(&mut s, &wire, ctx.until);
            while !ctx.over() && r.is_ok() {
                std::thread::sleep(Duration::from_millis(200));
                if peer_closed(&mut s) {
                    break;
                }
            }
            format!(
                "partial block: {}",
                ended(ctx, &mut s, r.and(Err("deadline".into())), "16 of 16383 bytes")
            )
        });
        let flood = sc.spawn(|| {
            // After the bomb's first try: a stalled loop would not answer its handshake.
            std::thread::sleep(Duration::from_secs(2));
            let Ok((mut s, _)) = handshake(ctx.port, "evil-lz4-bomb-flood", ver, ctx.until) else {
                return "flood: refused".to_string();
            };
            let plain = "FLUSH\n".repeat(16_384 / 6);
            let block = lz4_block(plain.as_bytes()).unwrap_or_default();
            let mut batch = Vec::new();
            for _ in 0..100 {
                batch.extend_from_slice(&header(block.len()));
                batch.extend_from_slice(&block);
            }
            let (r, n) = repeat(ctx, &mut s, &batch);
            let what = format!(
                "{} blocks of {} B → {} of FLUSH lines",
                n * 100,
                block.len() + 4,
                kib(n * 100 * plain.len() as u64)
            );
            format!("flood: {}", ended(ctx, &mut s, r, &what))
        });
        [bomb, partial, flood].map(|h| h.join().unwrap_or_default()).join("; ")
    })
}

/// Two clients asking back to back for data queries with absurd windows and `points`
/// (since 1970, two billion points) on good children's charts and on the parent's own.
fn huge_query(ctx: &Ctx) -> String {
    let paths = [
        "/host/good1/api/v1/data?chart=good.c1&after=-2000000000&before=0&points=2000000000&group=average&format=json",
        "/api/v1/data?chart=netdata.server_cpu&after=1&before=4000000000&points=0&gtime=1&format=csv",
        "/host/good2/api/v1/data?chart=good.c2&after=-2000000000&points=100000000&format=array&options=seconds",
    ];
    let run = |offset: usize| {
        let (mut n, mut worst, mut biggest) = (0usize, 0f64, 0usize);
        let mut statuses = std::collections::BTreeMap::<String, u32>::new();
        while !ctx.over() {
            let t = Instant::now();
            let r = http_get(ctx.port, paths[(n + offset) % paths.len()], ctx.until + GRACE);
            worst = worst.max(t.elapsed().as_secs_f64());
            let k = match r {
                Ok((code, body)) => {
                    biggest = biggest.max(body.len());
                    code.to_string()
                }
                Err(_) => "no answer".into(),
            };
            *statuses.entry(k).or_default() += 1;
            n += 1;
        }
        let st: Vec<String> = statuses.iter().map(|(k, v)| format!("{v}× {k}")).collect();
        format!("{n} queries ({}), slowest {worst:.2} s, largest body {}", st.join(", "), kib(biggest as u64))
    };
    std::thread::scope(|sc| {
        let (a, b) = (sc.spawn(|| run(0)), sc.spawn(|| run(1)));
        format!("{}; {}", a.join().unwrap_or_default(), b.join().unwrap_or_default())
    })
}

/// One independent LZ4 block (no dictionary), `None` without the `compression` feature.
fn lz4_block(plain: &[u8]) -> Option<Vec<u8>> {
    #[cfg(feature = "compression")]
    return Some(lz4_flex::block::compress(plain));
    #[cfg(not(feature = "compression"))]
    return {
        let _ = plain;
        None
    };
}

/// Netdata's 4-byte block header (protocol.md §4) for a compressed length below 16384.
fn header(len: usize) -> [u8; 4] {
    [0xFA, 0x80 | (len & 0x7F) as u8, 0x80 | ((len >> 7) & 0x7F) as u8, 0x0A]
}

/// `--conns` connections that send a request head one byte a second and never finish it.
fn slowloris_http(ctx: &Ctx) -> String {
    slowloris(ctx, "GET /api/v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".into())
}

/// `--conns` connections that send a STREAM request one byte a second and never finish it.
fn slowloris_stream(ctx: &Ctx) -> String {
    slowloris(
        ctx,
        format!("STREAM key={KEY}&machine_guid={}&hostname=evil-slowloris-stream", uuid::Uuid::new_v4()),
    )
}

fn slowloris(ctx: &Ctx, start: String) -> String {
    let (mut socks, refused) = open_many(ctx, ctx.conns, start.as_bytes());
    let opened = socks.len();
    let mut closed = vec![false; socks.len()];
    while !ctx.over() {
        let next = Instant::now() + Duration::from_secs(1);
        for (i, s) in socks.iter_mut().enumerate() {
            if closed[i] {
                continue;
            }
            s.set_nonblocking(true).ok();
            let w = s.write(b"a");
            s.set_nonblocking(false).ok();
            if w.is_err_and(|e| e.kind() != io::ErrorKind::WouldBlock) || peer_closed(s) {
                closed[i] = true;
            }
        }
        std::thread::sleep(
            next.saturating_duration_since(Instant::now())
                .min(ctx.until.saturating_duration_since(Instant::now())),
        );
    }
    let gone =
        socks.iter_mut().zip(&closed).filter_map(|(s, c)| (*c || peer_closed(s)).then_some(())).count();
    format!("{opened} slow connections opened ({refused}), {gone} closed by the parent, one byte/s each")
}

/// `--conns` connections that send nothing.
fn idle_connections(ctx: &Ctx) -> String {
    let (mut socks, refused) = open_many(ctx, ctx.conns, b"");
    let opened = socks.len();
    while !ctx.over() {
        std::thread::sleep(Duration::from_millis(200));
    }
    let gone = socks.iter_mut().filter_map(|s| peer_closed(s).then_some(())).count();
    format!("{opened} idle connections opened ({refused}), {gone} closed by the parent by the end")
}

/// Opens up to `n` connections (stopping at the phase's end), each sending `first`.
/// Returns them and a note on the ones that failed ("N failed: first reason").
fn open_many(ctx: &Ctx, n: usize, first: &[u8]) -> (Vec<TcpStream>, String) {
    let mut socks = Vec::with_capacity(n);
    let (mut refused, mut why) = (0, String::new());
    for _ in 0..n {
        if ctx.over() {
            break;
        }
        let r = TcpStream::connect_timeout(&addr(ctx.port), Duration::from_secs(1)).and_then(|mut s| {
            if !first.is_empty() {
                write_until(&mut s, first, Instant::now() + Duration::from_millis(200))
                    .map_err(io::Error::other)?;
            }
            Ok(s)
        });
        match r {
            Ok(s) => socks.push(s),
            Err(e) => {
                refused += 1;
                if why.is_empty() {
                    why = format!(": {e}");
                }
            }
        }
    }
    (socks, format!("{refused} failed{why}"))
}

//! A load generator for a streaming parent (nanodata or Netdata 1.37): N simulated children,
//! each streaming M dimensions per second with the real protocol (STREAM handshake, chart
//! definitions, `BEGIN`/`SET`/`END` once a second, LZ4 blocks with the rolling dictionary
//! when negotiated). With `--pid` it measures the parent: the window runs from the first
//! measured tick until the parent has processed everything (its CPU time stops moving), and
//! gives samples/s ingested, the CPU of the process and of nanodata's event-loop thread
//! (`WEB`), and RSS before the children connect and with them connected.
//!
//! `--shared yes` (the default) makes every child send the same bytes (the same values, and
//! with LZ4 the same blocks, since every child's dictionary sees the same history): the
//! generator then costs one payload per thread instead of one per child, so on a 2-core
//! machine it can load the parent's core fully. The parent still decodes, parses and stores
//! every child's stream on its own. `--shared no` gives every child its own stream, and its
//! own noisy values (`--values noisy|mixed`): a store that compresses across series (Netdata's
//! dbengine LZ4s extents holding many metrics' pages) finds no child's data in another's.
//!
//! ```text
//! cargo run --release --example stream_load -- --port 19999 --children 100 --dims 200 \
//!     --seconds 30 --compression yes --pid <parent pid>
//! ```
//!
//! `--set router` streams, instead of `--dims` dimensions in charts of `load.c`, what a
//! router's collectors chart (cpu, load, ram, entropy, two interfaces, TCP/UDP errors,
//! conntrack, the root filesystem; 21 charts, 59 dimensions) with Netdata's chart ids and
//! contexts, so stock health alarms bind to every simulated child.
//!
//! `--values` shapes the load set's rates: `steady` (the default: two values alternating,
//! which a compressing store shrinks to almost nothing), `noisy` (random each second) or
//! `mixed` (per chart a quarter zero, a quarter steady, half noisy).
//!
//! `--history S` makes the children offer replication and claim S seconds of history, which
//! they send as the parent asks (`REPLAY_CHART`, answered from the generators: see
//! `stream_load/replay.rs`), every child connecting and replicating at once, before the live
//! seconds start. It implies `--shared no` (each child answers on its own stream). Without it
//! replication is not offered (the children have no history). Every child gets its own random
//! machine GUID. Loopback or test networks only.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nanodata::stream::lz4::Compressor;

#[path = "stream_load/replay.rs"]
mod replay;
#[path = "stream_load/sets.rs"]
mod sets;

use replay::History;
use sets::{load_set, router_set, ChartDef, Values};

struct Args {
    host: String,
    port: u16,
    key: String,
    children: usize,
    dims: usize,
    dims_per_chart: usize,
    seconds: u64,
    compression: bool,
    threads: usize,
    shared: bool,
    router: bool,
    values: Values,
    pid: Option<u32>,
    /// Seconds of history offered by replication (0: none).
    history: u64,
    /// How long the children may take to replicate.
    history_limit: u64,
}

fn args() -> Args {
    let mut a = Args {
        host: "127.0.0.1".into(),
        port: 19999,
        key: "11111111-2222-3333-4444-555555555555".into(),
        children: 10,
        dims: 100,
        dims_per_chart: 10,
        seconds: 20,
        compression: true,
        threads: 2,
        shared: true,
        router: false,
        values: Values::Steady,
        pid: None,
        history: 0,
        history_limit: 3600,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let num = |v: &str| v.parse::<usize>().unwrap_or_else(|_| usage(&format!("{flag}: not a number")));
        match flag.as_str() {
            "--host" => a.host = v,
            "--port" => a.port = num(&v) as u16,
            "--key" => a.key = v,
            "--children" => a.children = num(&v).max(1),
            "--dims" => a.dims = num(&v).max(1),
            "--dims-per-chart" => a.dims_per_chart = num(&v).max(1),
            "--seconds" => a.seconds = num(&v).max(1) as u64,
            "--compression" => a.compression = v == "yes",
            "--threads" => a.threads = num(&v).max(1),
            "--shared" => a.shared = v == "yes",
            "--pid" => a.pid = Some(num(&v) as u32),
            "--values" => {
                a.values = Values::parse(&v).unwrap_or_else(|| usage("--values: steady, noisy or mixed"))
            }
            "--history" => a.history = num(&v) as u64,
            "--history-limit" => a.history_limit = num(&v).max(1) as u64,
            "--set" => match v.as_str() {
                "load" => a.router = false,
                "router" => a.router = true,
                _ => usage("--set: load or router"),
            },
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    if a.history > 0 {
        a.shared = false;
    }
    a
}

fn usage(why: &str) -> ! {
    eprintln!("stream_load: {why}\nusage: stream_load [--host H] [--port P] [--key UUID] [--children N] [--dims M] [--dims-per-chart K] [--seconds S] [--compression yes|no] [--threads T] [--shared yes|no] [--set load|router] [--values steady|noisy|mixed] [--pid PARENT_PID] [--history SECONDS] [--history-limit SECONDS]");
    std::process::exit(2)
}

/// The protocol text of a simulated child, turned into wire bytes (LZ4 blocks with the
/// rolling dictionary when negotiated). Deterministic: two streams fed the same calls produce
/// the same bytes, which is what `--shared` relies on.
struct Stream {
    lz4: Option<Compressor>,
    charts: Vec<ChartDef>,
    counter: u64,
    text: String,
    wire: Vec<u8>,
    /// With `--history`: the generators follow the wall clock, and the definitions end with
    /// `CHART_DEFINITION_END`.
    history: Option<History>,
    /// With `--history`, the first live `BEGIN` after replication says 0 µs (the parent
    /// measures the time since the replicated state).
    resumed: bool,
}

impl Stream {
    /// A child's stream; `salt` (its number, 0 for the shared stream) makes its noisy values
    /// its own.
    fn new(a: &Args, compression: bool, salt: u64) -> Stream {
        Stream {
            lz4: compression.then(Compressor::new),
            charts: if a.router { router_set() } else { load_set(a.dims, a.dims_per_chart, a.values, salt) },
            counter: 0,
            text: String::new(),
            wire: Vec::new(),
            history: None,
            resumed: false,
        }
    }

    /// The chart definitions, one commit (one LZ4 block) per chart, as `wire` pieces.
    fn define(&mut self, mut emit: impl FnMut(&[u8]) -> Result<(), String>) -> Result<(), String> {
        for ci in 0..self.charts.len() {
            let c = &self.charts[ci];
            self.text.push_str(&c.chart);
            self.text.push('\n');
            for d in &c.dims {
                self.text.push_str(&d.line);
                self.text.push('\n');
            }
            if let Some(h) = &self.history {
                replay::definition_end(&mut self.text, h);
            }
            self.seal()?;
            emit(&self.wire)?;
        }
        Ok(())
    }

    /// One second of data: every chart's `BEGIN`/`SET`/`END`, one commit per chart as a 1.37
    /// child does. Returns the number of samples.
    fn tick(&mut self, mut emit: impl FnMut(&[u8]) -> Result<(), String>) -> Result<usize, String> {
        use std::fmt::Write as _;
        self.counter += 1;
        if let Some(h) = &self.history {
            self.counter = self.counter.max(h.step(replay::now_epoch()));
        }
        let usec = if self.resumed { 1_000_000 } else { 0 };
        self.resumed = true;
        let mut n = 0;
        for ci in 0..self.charts.len() {
            let c = &self.charts[ci];
            let _ = writeln!(self.text, "BEGIN \"{}\" {usec}", c.id);
            for d in &c.dims {
                let _ = writeln!(self.text, "SET \"{}\" = {}", d.id, d.gen.value(self.counter));
            }
            self.text.push_str("END\n");
            n += c.dims.len();
            self.seal()?;
            emit(&self.wire)?;
        }
        Ok(n)
    }

    /// Moves the pending text into `wire`; LZ4 blocks end at line ends (the children do not
    /// offer `BINARY`) unless a line alone is longer than a block.
    fn seal(&mut self) -> Result<(), String> {
        self.wire.clear();
        match self.lz4.as_mut() {
            Some(c) => {
                let mut rest = self.text.as_bytes();
                while !rest.is_empty() {
                    let max = nanodata::stream::lz4::MAX_BLOCK_INPUT.min(rest.len());
                    let cut = if max == rest.len() {
                        max
                    } else {
                        rest[..max].iter().rposition(|&b| b == b'\n').map_or(max, |nl| nl + 1)
                    };
                    c.compress(&rest[..cut], &mut self.wire)?;
                    rest = &rest[cut..];
                }
            }
            None => self.wire.extend_from_slice(self.text.as_bytes()),
        }
        self.text.clear();
        Ok(())
    }
}

/// One simulated child: its connection, and its own stream unless the children share one.
struct Child {
    sock: TcpStream,
    compression: bool,
    own: Option<Stream>,
}

impl Child {
    fn connect(a: &Args, n: usize) -> Result<Child, String> {
        let mut sock = TcpStream::connect((a.host.as_str(), a.port)).map_err(|e| e.to_string())?;
        sock.set_nodelay(true).ok();
        // A parent may take long to answer while many children connect (Netdata 1.37 loads
        // its health.d for each new host): wait up to 5 minutes for the handshake.
        sock.set_read_timeout(Some(Duration::from_secs(300))).ok();
        let guid = uuid::Uuid::new_v4();
        // VCAPS HLABELS CLAIM CLABELS (+ COMPRESSION) (+ REPLICATION with --history).
        let ver = 64
            + 128
            + 256
            + 512
            + if a.compression { 1024 } else { 0 }
            + if a.history > 0 { 4096 } else { 0 };
        let head = format!(
            "STREAM key={}&hostname=load{n}&registry_hostname=load{n}&machine_guid={guid}&update_every=1&os=linux&timezone=UTC&abbrev_timezone=UTC&utc_offset=0&hops=1&ver={ver} HTTP/1.1\r\nUser-Agent: stream_load/1\r\nAccept: */*\r\n\r\n",
            a.key
        );
        sock.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        let mut reply = [0u8; 128];
        let got = sock.read(&mut reply).map_err(|e| e.to_string())?;
        let reply = String::from_utf8_lossy(&reply[..got]).into_owned();
        let Some(v) = reply.strip_prefix("Hit me baby, push them over with the version=") else {
            return Err(format!("refused: {reply:?}"));
        };
        let granted: u32 = v.trim().parse().unwrap_or(0);
        let compression = granted & 1024 != 0;
        if a.history > 0 && granted & 4096 == 0 {
            return Err(format!(
                "the parent did not grant replication (version={granted}): no history can be sent"
            ));
        }
        let own = if a.shared {
            None
        } else {
            let mut own = Stream::new(a, compression, n as u64);
            own.history = (a.history > 0).then(|| History::ending_now(a.history));
            own.define(|w| send(&mut sock, w))?;
            if let Some(h) = own.history {
                let r = replay::replicate(&mut sock, &mut own, &h, Duration::from_secs(a.history_limit))?;
                println!("child {n}: replicated {} points in {} answers", r.points, r.requests);
            }
            Some(own)
        };
        Ok(Child { sock, compression, own })
    }
}

fn send(sock: &mut TcpStream, wire: &[u8]) -> Result<(), String> {
    sock.write_all(wire).map_err(|e| e.to_string())
}

/// A group of children served by one thread: with `shared`, one stream whose bytes every
/// child sends (the parent still decodes, parses and stores each child on its own).
struct Group {
    children: Vec<Child>,
    shared: Option<Stream>,
}

impl Group {
    fn define(&mut self) -> Result<(), String> {
        let Group { children, shared } = self;
        match shared {
            Some(s) => s.define(|w| children.iter_mut().try_for_each(|c| send(&mut c.sock, w))),
            None => Ok(()),
        }
    }

    fn tick(&mut self) -> Result<usize, String> {
        let Group { children, shared } = self;
        match shared {
            Some(s) => {
                Ok(s.tick(|w| children.iter_mut().try_for_each(|c| send(&mut c.sock, w)))? * children.len())
            }
            None => {
                let mut n = 0;
                for Child { sock, own, .. } in children.iter_mut() {
                    if let Some(own) = own {
                        n += own.tick(|w| send(sock, w))?;
                    }
                }
                Ok(n)
            }
        }
    }
}

/// utime + stime of a process (or of one of its threads), seconds.
fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    let after = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat; `after` starts at field 3.
    (ticks(11) + ticks(12)) / 100.0
}

/// The stat file of the parent's thread named `name` (nanodata's event loop is `WEB`).
fn thread_stat(pid: u32, name: &str) -> Option<String> {
    let dir = format!("/proc/{pid}/task");
    std::fs::read_dir(&dir).ok()?.flatten().find_map(|t| {
        let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
        (comm.trim() == name).then(|| t.path().join("stat").display().to_string())
    })
}

/// VmRSS of a process, KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Waits (at most 60 s) until the parent's CPU time stops moving for 300 ms: everything
/// sent has been read and processed. Returns when that happened.
fn drained(proc_stat: &str) -> Instant {
    let limit = Instant::now() + Duration::from_secs(60);
    let mut last = cpu_seconds(proc_stat);
    let mut quiet_since = Instant::now();
    while Instant::now() < limit {
        std::thread::sleep(Duration::from_millis(100));
        let now = cpu_seconds(proc_stat);
        // One clock tick (10 ms) of housekeeping is not ingestion.
        if now - last > 0.011 {
            quiet_since = Instant::now();
        }
        last = now;
        if quiet_since.elapsed() >= Duration::from_millis(300) {
            return quiet_since;
        }
    }
    eprintln!("stream_load: the parent did not go idle within 60 s after the load stopped");
    Instant::now()
}

fn main() {
    let a = args();
    let rss_before = a.pid.map(rss_kib);
    let started = Instant::now();
    let mut children = Vec::with_capacity(a.children);
    if a.history > 0 {
        // Every child connects and replicates at once (the parent serves them in parallel).
        let results: Vec<Result<Child, String>> = std::thread::scope(|s| {
            let a = &a;
            let handles: Vec<_> = (0..a.children).map(|n| s.spawn(move || Child::connect(a, n))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into()))).collect()
        });
        for (n, r) in results.into_iter().enumerate() {
            match r {
                Ok(c) => children.push(c),
                Err(e) => {
                    eprintln!("child {n}: {e}");
                    std::process::exit(1);
                }
            }
        }
    } else {
        for n in 0..a.children {
            match Child::connect(&a, n) {
                Ok(c) => children.push(c),
                Err(e) => {
                    eprintln!("child {n}: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    let compression = children[0].compression;
    if a.shared && children.iter().any(|c| c.compression != compression) {
        eprintln!("stream_load: the parent granted compression to some children only; use --shared no");
        std::process::exit(1);
    }

    // Split the children over the threads; every thread ticks its children once a second.
    let per = children.len().div_ceil(a.threads);
    let mut groups = Vec::new();
    while !children.is_empty() {
        let rest = children.split_off(per.min(children.len()));
        let batch = std::mem::replace(&mut children, rest);
        let mut group = Group { children: batch, shared: a.shared.then(|| Stream::new(&a, compression, 0)) };
        if let Err(e) = group.define() {
            eprintln!("stream_load: sending the definitions failed: {e}");
            std::process::exit(1);
        }
        groups.push(group);
    }
    let set = if a.router { router_set() } else { load_set(a.dims, a.dims_per_chart, a.values, 0) };
    println!(
        "{} children connected and defined in {:.1} s ({} set: {} charts, {} dims, {:?} values, compression {}, {})",
        a.children,
        started.elapsed().as_secs_f64(),
        if a.router { "router" } else { "load" },
        set.len(),
        set.iter().map(|c| c.dims.len()).sum::<usize>(),
        a.values,
        if compression { "on" } else { "off" },
        if a.shared { "one payload shared by all children" } else { "a payload per child" }
    );
    let proc_stat = a.pid.map(|pid| format!("/proc/{pid}/stat"));
    let web_stat = a.pid.and_then(|pid| thread_stat(pid, "WEB"));
    // Definitions processed before the clock starts.
    if let Some(p) = &proc_stat {
        drained(p);
    }
    let warmup = 3u64;
    let total = a.seconds + warmup;
    let handles: Vec<_> = groups
        .into_iter()
        .map(|mut group| {
            std::thread::spawn(move || {
                let t0 = Instant::now();
                let mut samples = 0u64;
                let mut all = 0u64;
                let mut late = 0u64;
                for s in 0..total {
                    let due = t0 + Duration::from_secs(s);
                    let now = Instant::now();
                    if now < due {
                        std::thread::sleep(due - now);
                    } else if now > due + Duration::from_millis(500) {
                        late += 1;
                    }
                    let n = group.tick().unwrap_or_else(|e| {
                        eprintln!("send failed: {e}");
                        std::process::exit(1)
                    });
                    all += n as u64;
                    if s >= warmup {
                        samples += n as u64;
                    }
                }
                (samples, all, late, group)
            })
        })
        .collect();
    // The measurement window starts after the warm-up.
    std::thread::sleep(Duration::from_secs(warmup));
    let t_start = Instant::now();
    let cpu0 = proc_stat.as_deref().map(cpu_seconds).unwrap_or(0.0);
    let web0 = web_stat.as_deref().map(cpu_seconds).unwrap_or(0.0);
    let rss_connected = a.pid.map(rss_kib);
    let mut samples = 0;
    let mut all = 0;
    let mut late = 0;
    let mut keep = Vec::new();
    for h in handles {
        let (s, al, l, g) = h.join().expect("thread");
        samples += s;
        all += al;
        late += l;
        keep.push(g);
    }
    let sent_by = t_start.elapsed().as_secs_f64();
    let rate = samples as f64 / a.seconds as f64;
    println!("sent {samples} samples in {} s: {rate:.0} samples/s ({late} late ticks)", a.seconds);
    println!("sent {all} samples in all ({total} seconds, the {warmup} of warm-up included)");
    if let (Some(pid), Some(p)) = (a.pid, proc_stat.as_deref()) {
        // The window ends when the parent has processed everything that was sent.
        let end = drained(p);
        // `seconds` ticks cover `seconds` seconds; longer if the parent fell behind.
        let wall = end.saturating_duration_since(t_start).as_secs_f64().max(a.seconds as f64);
        let cpu = cpu_seconds(p) - cpu0;
        let rss_after = rss_kib(pid);
        let before = rss_before.unwrap_or(0);
        println!(
            "parent pid {pid}: idle {:.1} s after the last send; {:.0} samples/s ingested; CPU {:.1} % of a core ({:.0} samples per CPU-second)",
            end.saturating_duration_since(t_start).as_secs_f64() - sent_by,
            samples as f64 / wall,
            cpu / wall * 100.0,
            if cpu > 0.0 { samples as f64 / cpu } else { f64::INFINITY },
        );
        if let Some(w) = web_stat.as_deref() {
            let web = cpu_seconds(w) - web0;
            println!(
                "  event-loop thread WEB: CPU {:.1} % of a core ({:.0} samples per CPU-second)",
                web / wall * 100.0,
                if web > 0.0 { samples as f64 / web } else { f64::INFINITY }
            );
        }
        println!(
            "  RSS {before} KiB before, {} KiB connected, {rss_after} KiB at the end: {:.1} KiB per child",
            rss_connected.unwrap_or(0),
            (rss_after.saturating_sub(before)) as f64 / a.children as f64
        );
    }
    drop(keep);
}

//! A load generator for a streaming parent (nanodata or Netdata 1.37): N simulated children,
//! each streaming M dimensions per second with the real protocol (STREAM handshake, chart
//! definitions, `BEGIN`/`SET`/`END` once a second, LZ4 blocks with the rolling dictionary
//! when negotiated). With `--pid` it measures the parent: CPU over the window, RSS before
//! the children connect and with them connected.
//!
//! ```text
//! cargo run --release --example stream_load -- --port 19999 --children 100 --dims 200 \
//!     --seconds 30 --compression yes --pid <parent pid>
//! ```
//!
//! Replication is not offered (the children have no history); every child gets its own
//! random machine GUID. Loopback or test networks only.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nanodata::stream::lz4::Compressor;

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
    pid: Option<u32>,
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
        pid: None,
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
            "--pid" => a.pid = Some(num(&v) as u32),
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    a
}

fn usage(why: &str) -> ! {
    eprintln!("stream_load: {why}\nusage: stream_load [--host H] [--port P] [--key UUID] [--children N] [--dims M] [--dims-per-chart K] [--seconds S] [--compression yes|no] [--threads T] [--pid PARENT_PID]");
    std::process::exit(2)
}

/// One simulated child.
struct Child {
    sock: TcpStream,
    lz4: Option<Compressor>,
    charts: Vec<String>,
    dims_per_chart: usize,
    dims: usize,
    counter: u64,
    text: String,
    wire: Vec<u8>,
}

impl Child {
    fn connect(a: &Args, n: usize) -> Result<Child, String> {
        let mut sock = TcpStream::connect((a.host.as_str(), a.port)).map_err(|e| e.to_string())?;
        sock.set_nodelay(true).ok();
        sock.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let guid = uuid::Uuid::new_v4();
        // VCAPS HLABELS CLAIM CLABELS (+ COMPRESSION): no replication.
        let ver = 64 + 128 + 256 + 512 + if a.compression { 1024 } else { 0 };
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
        let lz4 = (granted & 1024 != 0).then(Compressor::new);
        let charts: Vec<String> =
            (0..a.dims.div_ceil(a.dims_per_chart)).map(|c| format!("load.c{c}")).collect();
        let mut child = Child {
            sock,
            lz4,
            charts,
            dims_per_chart: a.dims_per_chart,
            dims: a.dims,
            counter: 0,
            text: String::new(),
            wire: Vec::new(),
        };
        child.define()?;
        Ok(child)
    }

    fn define(&mut self) -> Result<(), String> {
        use std::fmt::Write as _;
        let mut d = 0;
        for (ci, chart) in self.charts.clone().iter().enumerate() {
            let _ = writeln!(
                self.text,
                "CHART \"{chart}\" \"\" \"load {ci}\" \"things/s\" \"load\" \"load.c\" \"line\" {} 1 \"   \" \"stream_load\" \"\"",
                1000 + ci
            );
            for k in 0..self.dims_per_chart {
                if d == self.dims {
                    break;
                }
                let _ = writeln!(self.text, "DIMENSION \"d{k}\" \"d{k}\" \"incremental\" 1 1 \"  \"");
                d += 1;
            }
            self.send_text()?;
        }
        Ok(())
    }

    /// One second of data: every chart's `BEGIN`/`SET`/`END`.
    fn tick(&mut self) -> Result<usize, String> {
        use std::fmt::Write as _;
        self.counter += 1;
        let mut d = 0;
        for chart in self.charts.clone() {
            let _ = writeln!(self.text, "BEGIN \"{chart}\" 1000000");
            for k in 0..self.dims_per_chart {
                if d == self.dims {
                    break;
                }
                let v = self.counter * (k as u64 + 1) * 1000 + (self.counter * 7919 + k as u64) % 997;
                let _ = writeln!(self.text, "SET \"d{k}\" = {v}");
                d += 1;
            }
            self.text.push_str("END\n");
            // One commit per chart, as a 1.37 child does (and one LZ4 block each).
            self.send_text()?;
        }
        Ok(d)
    }

    fn send_text(&mut self) -> Result<(), String> {
        self.wire.clear();
        match self.lz4.as_mut() {
            Some(c) => {
                for piece in self.text.as_bytes().chunks(nanodata::stream::lz4::MAX_BLOCK_INPUT) {
                    c.compress(piece, &mut self.wire)?;
                }
            }
            None => self.wire.extend_from_slice(self.text.as_bytes()),
        }
        self.text.clear();
        self.sock.write_all(&self.wire).map_err(|e| e.to_string())
    }
}

/// utime + stime of a process, seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat; `after` starts at field 3.
    (ticks(11) + ticks(12)) / 100.0
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

fn main() {
    let a = args();
    let rss_before = a.pid.map(rss_kib);
    let started = Instant::now();
    let mut children = Vec::with_capacity(a.children);
    for n in 0..a.children {
        match Child::connect(&a, n) {
            Ok(c) => children.push(c),
            Err(e) => {
                eprintln!("child {n}: {e}");
                std::process::exit(1);
            }
        }
    }
    println!(
        "{} children connected and defined in {:.1} s ({} charts × {} dims each, compression {})",
        children.len(),
        started.elapsed().as_secs_f64(),
        children[0].charts.len(),
        a.dims_per_chart,
        if children[0].lz4.is_some() { "on" } else { "off" }
    );

    // Split the children over the threads; every thread ticks its children once a second.
    let per = children.len().div_ceil(a.threads);
    let mut groups = Vec::new();
    while !children.is_empty() {
        let rest = children.split_off(per.min(children.len()));
        groups.push(std::mem::replace(&mut children, rest));
    }
    let warmup = 3u64;
    let total = a.seconds + warmup;
    let cpu_at = std::sync::Arc::new(parking_lot::Mutex::new(None::<(Instant, f64)>));
    let handles: Vec<_> = groups
        .into_iter()
        .map(|mut group| {
            std::thread::spawn(move || {
                let t0 = Instant::now();
                let mut samples = 0u64;
                let mut late = 0u64;
                for s in 0..total {
                    let due = t0 + Duration::from_secs(s);
                    let now = Instant::now();
                    if now < due {
                        std::thread::sleep(due - now);
                    } else if now > due + Duration::from_millis(500) {
                        late += 1;
                    }
                    for c in group.iter_mut() {
                        let n = c.tick().unwrap_or_else(|e| {
                            eprintln!("send failed: {e}");
                            std::process::exit(1)
                        });
                        if s >= warmup {
                            samples += n as u64;
                        }
                    }
                }
                (samples, late, group)
            })
        })
        .collect();
    // The measurement window starts after the warm-up.
    std::thread::sleep(Duration::from_secs(warmup));
    if let Some(pid) = a.pid {
        *cpu_at.lock() = Some((Instant::now(), cpu_seconds(pid)));
    }
    let rss_connected = a.pid.map(rss_kib);
    let mut samples = 0;
    let mut late = 0;
    let mut keep = Vec::new();
    for h in handles {
        let (s, l, g) = h.join().expect("thread");
        samples += s;
        late += l;
        keep.push(g);
    }
    // Let the parent drain what is in flight before the CPU is read.
    std::thread::sleep(Duration::from_millis(500));
    let rate = samples as f64 / a.seconds as f64;
    println!("sent {samples} samples in {} s: {rate:.0} samples/s ({late} late ticks)", a.seconds);
    if let (Some(pid), Some((t, cpu0))) = (a.pid, *cpu_at.lock()) {
        let wall = t.elapsed().as_secs_f64();
        let cpu = cpu_seconds(pid) - cpu0;
        let rss_after = rss_kib(pid);
        let before = rss_before.unwrap_or(0);
        println!(
            "parent pid {pid}: CPU {:.1} % of a core ({:.0} samples/s per core-second); RSS {before} KiB before, {} KiB connected, {rss_after} KiB at the end: {:.1} KiB per child",
            cpu / wall * 100.0,
            if cpu > 0.0 { rate / (cpu / wall) } else { f64::INFINITY },
            rss_connected.unwrap_or(0),
            (rss_after.saturating_sub(before)) as f64 / a.children as f64
        );
    }
    drop(keep);
}

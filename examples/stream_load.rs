//! A load generator for streaming parents: N simulated children, each streaming C charts of
//! D dimensions every second with Netdata 1.37's protocol (STREAM handshake, CHART/DIMENSION
//! definitions, BEGIN/SET/END per iteration, LZ4 with the rolling dictionary when the parent
//! grants it), to a nanodata or a Netdata parent.
//!
//! ```text
//! cargo run --release --example stream_load -- --dest 127.0.0.1:19999 --key KEY \
//!     --children 100 --charts 20 --dims 10 --seconds 60 [--compression yes|no] [--threads 2]
//! ```
//!
//! Each child is its own TCP connection with its own hostname (`PREFIX-N`) and machine GUID
//! (derived from `--seed` and N, so reruns reuse the same hosts). Iterations are sent on
//! wall-clock second boundaries; a worker that cannot write a second's data before the next
//! boundary counts the miss. Values are counters that move every second, so LZ4 sees real
//! digits, not a repeated block. At the end one line of JSON (prefix `RESULT `) reports what
//! was offered and written; `bench/parent.py` drives this against both parents.
//!
//! The simulated children advertise neither replication nor functions: they have no history
//! to replay, so the parent never waits for a `CHART_DEFINITION_END`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nanodata::stream::caps::Caps;
use nanodata::stream::handshake::{self, Reply, Request};
use nanodata::stream::lz4;

const USAGE: &str = "usage: stream_load --dest HOST:PORT --key API_KEY [--children N] [--charts C] \
[--dims D] [--seconds S] [--compression yes|no] [--threads T] [--prefix NAME] [--seed N] [--connect-rate N]";

#[derive(Clone, Debug)]
struct Options {
    dest: String,
    key: String,
    children: u32,
    charts: u32,
    dims: u32,
    seconds: u64,
    compression: bool,
    threads: u32,
    prefix: String,
    seed: u32,
    /// New connections per second (0: as fast as possible).
    connect_rate: u32,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        dest: String::new(),
        key: String::new(),
        children: 10,
        charts: 20,
        dims: 10,
        seconds: 30,
        compression: true,
        threads: 1,
        prefix: "loadchild".into(),
        seed: 1,
        connect_rate: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(name) = args.next() {
        if name == "-h" || name == "--help" {
            return Err(USAGE.into());
        }
        let value = args.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?;
        let num = |v: &str| v.parse::<u64>().map_err(|_| format!("{name}: '{v}' is not a number"));
        match name.as_str() {
            "--dest" => o.dest = value,
            "--key" => o.key = value,
            "--children" => o.children = num(&value)?.try_into().map_err(|_| "--children too large")?,
            "--charts" => o.charts = num(&value)?.try_into().map_err(|_| "--charts too large")?,
            "--dims" => o.dims = num(&value)?.try_into().map_err(|_| "--dims too large")?,
            "--seconds" => o.seconds = num(&value)?,
            "--threads" => o.threads = num(&value)?.try_into().map_err(|_| "--threads too large")?,
            "--seed" => o.seed = num(&value)?.try_into().map_err(|_| "--seed too large")?,
            "--connect-rate" => o.connect_rate = num(&value)?.try_into().map_err(|_| "--connect-rate too large")?,
            "--prefix" => o.prefix = value,
            "--compression" => {
                o.compression = match value.as_str() {
                    "yes" | "on" | "true" => true,
                    "no" | "off" | "false" => false,
                    v => return Err(format!("--compression: '{v}' is not yes or no")),
                }
            }
            _ => return Err(format!("unknown option {name}\n{USAGE}")),
        }
    }
    if o.dest.is_empty() || o.key.is_empty() {
        return Err(USAGE.into());
    }
    if o.children == 0 || o.charts == 0 || o.dims == 0 || o.threads == 0 {
        return Err("--children, --charts, --dims and --threads must be at least 1".into());
    }
    Ok(o)
}

/// One simulated child's connection and protocol state.
struct Child {
    index: u32,
    sock: TcpStream,
    lz4: Option<lz4::Compressor>,
    /// Samples whose iteration was written completely.
    samples: u64,
}

/// Totals of one worker.
#[derive(Default, Debug, Clone, Copy)]
struct Totals {
    connected: u32,
    refused: u32,
    failed: u32,
    samples: u64,
    wire_bytes: u64,
    plain_bytes: u64,
    iterations: u64,
    missed_seconds: u64,
    disconnected: u32,
}

fn guid(seed: u32, index: u32) -> String {
    format!("{seed:08x}-4c0a-4d00-8000-{index:012x}")
}

fn connect(o: &Options, index: u32, addr: SocketAddr) -> Result<Child, (bool, String)> {
    let hostname = format!("{}-{index}", o.prefix);
    let mut sock = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| (false, format!("{hostname}: connect: {e}")))?;
    sock.set_nodelay(true).ok();
    sock.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let ours = if o.compression {
        Caps::VCAPS | Caps::HLABELS | Caps::CLABELS | Caps::COMPRESSION
    } else {
        Caps::VCAPS | Caps::HLABELS | Caps::CLABELS
    };
    let req = Request {
        api_key: o.key.clone(),
        hostname: hostname.clone(),
        registry_hostname: hostname.clone(),
        machine_guid: guid(o.seed, index),
        update_every: 1,
        os: "linux".into(),
        timezone: "Etc/UTC".into(),
        abbrev_timezone: "UTC".into(),
        utc_offset: 0,
        hops: 1,
        tags: String::new(),
        caps: ours,
        system_info: vec![
            ("NETDATA_SYSTEM_OS_NAME".into(), "loadgen".into()),
            ("NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT".into(), "1".into()),
        ],
        program: "stream_load".into(),
        version: nanodata::VERSION.into(),
    };
    let bytes = req.encode().map_err(|e| (false, format!("{hostname}: {e}")))?;
    sock.write_all(&bytes).map_err(|e| (false, format!("{hostname}: send request: {e}")))?;
    let mut reply = vec![0u8; handshake::MAX_REPLY];
    let n = sock.read(&mut reply).map_err(|e| (false, format!("{hostname}: read reply: {e}")))?;
    let caps = match handshake::parse_reply(&reply[..n], ours) {
        Reply::Accepted(caps) => caps,
        Reply::Rejected(r) => return Err((true, format!("{hostname}: {}", r.describe()))),
    };
    sock.set_nonblocking(false).ok();
    let lz4 = caps.has(Caps::COMPRESSION).then(lz4::Compressor::new);
    Ok(Child { index, sock, lz4, samples: 0 })
}

/// Appends the chart and dimension definitions of one child.
fn definitions(o: &Options, out: &mut Vec<u8>) {
    for c in 0..o.charts {
        let _ = writeln!(
            out,
            "CHART load.chart{c} '' 'simulated chart {c}' 'events/s' 'load' 'load.chart{c}' line {} 1 '' 'stream_load' 'load'",
            100_000 + c
        );
        for d in 0..o.dims {
            let _ = writeln!(out, "DIMENSION d{d} '' incremental 1 1 ''");
        }
    }
}

/// Appends one iteration (every chart) for second `tick`.
fn iteration(o: &Options, child: u32, tick: u64, out: &mut Vec<u8>) {
    let mut num = itoa_buf();
    for c in 0..o.charts {
        out.extend_from_slice(b"BEGIN load.chart");
        out.extend_from_slice(fmt_u64(&mut num, c.into()));
        out.extend_from_slice(b" 1000000\n");
        for d in 0..o.dims {
            // A counter per dimension growing at its own rate (per dimension, chart and
            // child), with a wobble below that rate, so the counter never goes back.
            let rate = 1 + u64::from(d) * 7 + u64::from(c) * 3 + u64::from(child % 13);
            let wobble = (tick ^ u64::from(d)).wrapping_mul(2_654_435_761) % rate;
            let value = tick.wrapping_mul(rate).wrapping_add(wobble).wrapping_add(u64::from(d) << 20);
            out.extend_from_slice(b"SET d");
            out.extend_from_slice(fmt_u64(&mut num, d.into()));
            out.extend_from_slice(b" = ");
            out.extend_from_slice(fmt_u64(&mut num, value));
            out.push(b'\n');
        }
        out.extend_from_slice(b"END\n");
    }
}

fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

fn fmt_u64(buf: &mut [u8; 20], mut v: u64) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Writes `plain` to the child, compressed in blocks that end on line boundaries.
fn send(child: &mut Child, plain: &[u8], wire: &mut Vec<u8>) -> io::Result<u64> {
    wire.clear();
    match child.lz4.as_mut() {
        None => wire.extend_from_slice(plain),
        Some(c) => {
            let mut rest = plain;
            while !rest.is_empty() {
                let mut cut = rest.len().min(lz4::MAX_BLOCK_INPUT);
                if cut < rest.len() {
                    cut = rest[..cut].iter().rposition(|&b| b == b'\n').map_or(cut, |p| p + 1);
                }
                c.compress(&rest[..cut], wire).map_err(io::Error::other)?;
                rest = &rest[cut..];
            }
        }
    }
    child.sock.write_all(wire)?;
    Ok(wire.len() as u64)
}

/// Discards whatever the parent sent (it may ask for nothing, but must never block).
fn drain(child: &mut Child, scratch: &mut [u8]) -> io::Result<()> {
    child.sock.set_nonblocking(true)?;
    let result = loop {
        match child.sock.read(scratch) {
            Ok(0) => break Err(io::Error::new(io::ErrorKind::UnexpectedEof, "parent closed the stream")),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    child.sock.set_nonblocking(false)?;
    result
}

fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

fn worker(o: Arc<Options>, id: u32, addr: SocketAddr, stop: Arc<AtomicBool>, ready: Arc<AtomicU32>) -> Totals {
    let mut t = Totals::default();
    let mut children = Vec::new();
    let mut plain = Vec::with_capacity(64 * 1024);
    let mut wire = Vec::with_capacity(64 * 1024);
    let mut scratch = vec![0u8; 16 * 1024];
    let pause = if o.connect_rate > 0 {
        Duration::from_secs_f64(f64::from(o.threads) / f64::from(o.connect_rate))
    } else {
        Duration::ZERO
    };
    for index in (id..o.children).step_by(o.threads as usize) {
        match connect(&o, index, addr) {
            Ok(mut child) => {
                plain.clear();
                definitions(&o, &mut plain);
                match send(&mut child, &plain, &mut wire) {
                    Ok(n) => {
                        t.wire_bytes += n;
                        t.plain_bytes += plain.len() as u64;
                        t.connected += 1;
                        children.push(child);
                    }
                    Err(e) => {
                        eprintln!("{}-{index}: sending definitions: {e}", o.prefix);
                        t.failed += 1;
                    }
                }
            }
            Err((refused, msg)) => {
                eprintln!("{msg}");
                if refused {
                    t.refused += 1;
                } else {
                    t.failed += 1;
                }
            }
        }
        if !pause.is_zero() {
            thread::sleep(pause);
        }
    }
    ready.fetch_add(1, Ordering::SeqCst);
    // Everyone starts on the same second once all workers have connected.
    while ready.load(Ordering::SeqCst) < o.threads && !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(10));
    }
    let start = unix_now().as_secs() + 1;
    if id == 0 {
        // For drivers: every worker has connected; iterations start at this second.
        println!("STREAMING {start}");
        let _ = io::stdout().flush();
    }
    let mut next = start;
    while !stop.load(Ordering::Relaxed) && next < start + o.seconds {
        let now = unix_now();
        let at = Duration::from_secs(next);
        if now < at {
            thread::sleep(at - now);
        }
        let mut i = 0;
        while i < children.len() {
            let child = &mut children[i];
            plain.clear();
            iteration(&o, child.index, next, &mut plain);
            let outcome = send(child, &plain, &mut wire).and_then(|n| drain(child, &mut scratch).map(|()| n));
            match outcome {
                Ok(n) => {
                    t.wire_bytes += n;
                    t.plain_bytes += plain.len() as u64;
                    child.samples += u64::from(o.charts) * u64::from(o.dims);
                    t.iterations += 1;
                    i += 1;
                }
                Err(e) => {
                    eprintln!("{}-{}: stream ended: {e}", o.prefix, child.index);
                    t.disconnected += 1;
                    children.swap_remove(i);
                }
            }
        }
        // A worker that is behind skips the seconds it missed rather than bursting.
        let after = unix_now().as_secs();
        if after > next + 1 {
            t.missed_seconds += after - next - 1;
            next = after;
        } else {
            next += 1;
        }
    }
    t.samples = children.iter().map(|c| c.samples).sum();
    t
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => Arc::new(o),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let addr = match o.dest.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        Ok(None) | Err(_) => {
            eprintln!("--dest {}: cannot resolve", o.dest);
            return ExitCode::from(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(AtomicU32::new(0));
    let began = Instant::now();
    let handles: Vec<_> = (0..o.threads)
        .map(|id| {
            let (o, stop, ready) = (Arc::clone(&o), Arc::clone(&stop), Arc::clone(&ready));
            thread::spawn(move || worker(o, id, addr, stop, ready))
        })
        .collect();
    let mut sum = Totals::default();
    for h in handles {
        let t = h.join().unwrap_or_default();
        sum.connected += t.connected;
        sum.refused += t.refused;
        sum.failed += t.failed;
        sum.samples += t.samples;
        sum.wire_bytes += t.wire_bytes;
        sum.plain_bytes += t.plain_bytes;
        sum.iterations += t.iterations;
        sum.missed_seconds += t.missed_seconds;
        sum.disconnected += t.disconnected;
    }
    let offered = u64::from(o.children) * u64::from(o.charts) * u64::from(o.dims) * o.seconds;
    println!(
        "RESULT {{\"children\":{},\"connected\":{},\"refused\":{},\"failed\":{},\"disconnected\":{},\
\"charts\":{},\"dims\":{},\"seconds\":{},\"compression\":{},\"samples_offered\":{},\"samples_sent\":{},\
\"samples_per_s\":{:.0},\"wire_bytes\":{},\"plain_bytes\":{},\"missed_seconds\":{},\"elapsed_s\":{:.1}}}",
        o.children,
        sum.connected,
        sum.refused,
        sum.failed,
        sum.disconnected,
        o.charts,
        o.dims,
        o.seconds,
        o.compression,
        offered,
        sum.samples,
        sum.samples as f64 / o.seconds as f64,
        sum.wire_bytes,
        sum.plain_bytes,
        sum.missed_seconds,
        began.elapsed().as_secs_f64()
    );
    if sum.connected == 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

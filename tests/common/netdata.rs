//! The real Netdata 1.37 (Debian's `netdata` package) as a test peer on loopback: a parent
//! in its own temporary directories, on its own port, with an API key enabled.
//!
//! Interop tests call [`require_netdata`] (that is, [`super::require`] with [`Dep::Netdata`])
//! first: without the package they fail under CI and are skipped with a message elsewhere.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Dep;

/// Dimension labels and one row per second: `(time, values in label order)`.
pub type Rows = (Vec<String>, Vec<(i64, Vec<Option<f64>>)>);

pub const NETDATA: &str = "/usr/sbin/netdata";
pub const API_KEY: &str = "11111111-2222-3333-4444-555555555555";

/// True when the test may use Netdata; see [`super::require`] for what happens otherwise.
pub fn require_netdata(why: &str) -> bool {
    super::require(Dep::Netdata, why)
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// How the parent is set up.
#[derive(Clone, Debug)]
pub struct ParentOptions {
    pub compression: bool,
    /// `(certificate, key)` PEM files: the port accepts TLS and plain text.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Extra stream.conf text (e.g. a `[MACHINE_GUID]` section).
    pub stream_extra: String,
    /// `allow from` of the API key.
    pub allow_from: String,
    pub api_key: String,
}

impl Default for ParentOptions {
    fn default() -> Self {
        ParentOptions {
            compression: true,
            tls: None,
            stream_extra: String::new(),
            allow_from: "*".into(),
            api_key: API_KEY.into(),
        }
    }
}

/// A running Netdata parent.
pub struct NetdataParent {
    pub base: PathBuf,
    pub port: u16,
    pub options: ParentOptions,
    child: Option<Child>,
}

impl NetdataParent {
    /// Writes the configuration under `base` and starts the parent; waits until its API
    /// answers.
    pub fn start(base: &Path, port: u16, options: ParentOptions) -> NetdataParent {
        netdata_dirs(base);
        let b = base.display();
        let tls = match &options.tls {
            Some((cert, key)) => {
                format!("    ssl certificate = {}\n    ssl key = {}\n", cert.display(), key.display())
            }
            None => String::new(),
        };
        let bind = if options.tls.is_some() {
            format!(
                "127.0.0.1:{port}=dashboard|registry|badges|management|streaming|netdata.conf^SSL=optional"
            )
        } else {
            format!("127.0.0.1:{port}")
        };
        let off = format!("    proc = no\n{}", plugins_off());
        let conf = format!(
            "[global]\n    hostname = ndparent\n    run as user = netdata\n\
             [db]\n    mode = ram\n    update every = 1\n    retention = 3600\n\
             [directories]\n    config = {b}/etc\n    cache = {b}/cache\n    lib = {b}/lib\n    log = {b}/log\n    lock = {b}/lib/lock\n    home = {b}/lib\n\
             [web]\n    bind to = {bind}\n    mode = static-threaded\n    allow connections from = *\n    allow streaming from = *\n{tls}\
             [logs]\n    errors to trigger flood protection = 1000000\n\
             [registry]\n    enabled = no\n\
             [health]\n    enabled = no\n    script to execute on alarm = /bin/true\n\
             [statsd]\n    enabled = no\n\
             [ml]\n    enabled = no\n\
             [plugins]\n    enable running new plugins = no\n{off}"
        );
        std::fs::write(base.join("etc/netdata.conf"), conf).unwrap();
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let stream = format!(
            "[stream]\n    enabled = no\n    enable compression = {c}\n\n\
             [{key}]\n    type = api\n    enabled = yes\n    allow from = {allow}\n    default memory mode = ram\n    default history = 3600\n    health enabled by default = no\n    enable compression = {c}\n    enable replication = yes\n{extra}\n",
            c = yes_no(options.compression),
            key = options.api_key,
            allow = options.allow_from,
            extra = options.stream_extra,
        );
        std::fs::write(base.join("etc/stream.conf"), stream).unwrap();
        let status = Command::new("chown")
            .args(["-R", "netdata:"])
            .args(["cache", "lib", "log"].map(|d| base.join(d)))
            .status()
            .expect("chown");
        assert!(status.success(), "chown to the netdata user failed (tests run as root)");
        let stdout = std::fs::File::create(base.join("stdout.log")).unwrap();
        let child = Command::new(NETDATA)
            .args(["-D", "-c"])
            .arg(base.join("etc/netdata.conf"))
            .env("DO_NOT_TRACK", "1")
            .env("DISABLE_TELEMETRY", "1")
            .stdin(Stdio::null())
            .stdout(stdout.try_clone().unwrap())
            .stderr(stdout)
            .spawn()
            .expect("start netdata");
        let mut parent = NetdataParent { base: base.to_path_buf(), port, options, child: Some(child) };
        parent.wait_until_up(Duration::from_secs(30));
        parent
    }

    fn wait_until_up(&mut self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.get("/api/v1/info").is_some() {
                return;
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!("netdata exited with {status}; log:\n{}", self.log());
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("netdata did not answer on port {} within {limit:?}; log:\n{}", self.port, self.log());
    }

    /// The body of `GET path` if the answer is 200.
    pub fn get(&self, path: &str) -> Option<String> {
        http_get(self.port, path)
    }

    /// The parent's error log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.base.join("log/error.log")).unwrap_or_default()
    }

    /// Stops the parent (TERM, then KILL after 20 s).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: kill(2) on the pid of a child we own.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the parent again with the same configuration (and the same GUID).
    pub fn restart(&mut self) {
        self.stop();
        let fresh = NetdataParent::start(&self.base.clone(), self.port, self.options.clone());
        *self = fresh;
    }

    /// Waits until the parent holds host `hostname` with chart `chart`.
    pub fn wait_for_chart(&self, hostname: &str, chart: &str, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(body) = self.get(&format!("/host/{hostname}/api/v1/chart?chart={chart}")) {
                if body.contains(&format!("\"id\": \"{chart}\""))
                    || body.contains(&format!("\"id\":\"{chart}\""))
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "the parent has no chart {chart} of host {hostname} after {limit:?}; parent log:\n{}",
            self.log()
        );
    }

    /// The stored values of `chart` on the parent for host `hostname` between `after` and
    /// `before`: one row per second, `(time, values in dimension order)` with the labels.
    /// A busy parent (the other tests' Netdata instances share 2 cores) may time out or not
    /// have indexed a chart yet: the query is retried for up to 15 s before giving up.
    pub fn data(&self, hostname: &str, chart: &str, after: i64, before: i64) -> Rows {
        let path = format!(
            "/host/{hostname}/api/v1/data?chart={chart}&after={after}&before={before}&points=0&group=average&gtime=0&format=csv&options=seconds|flip"
        );
        data_retrying(self.port, &path)
    }
}

impl Drop for NetdataParent {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Parses Netdata's CSV data format (`time,dim1,dim2` then rows; empty = null).
pub fn parse_csv(body: &str) -> Rows {
    let mut lines = body.lines();
    let labels: Vec<String> =
        lines.next().unwrap_or_default().split(',').skip(1).map(|s| s.trim().to_owned()).collect();
    let rows = lines
        .filter_map(|l| {
            let mut cols = l.split(',');
            let t = cols.next()?.trim().parse::<f64>().ok()? as i64;
            let values = cols.map(|c| c.trim().parse::<f64>().ok()).collect();
            Some((t, values))
        })
        .collect();
    (labels, rows)
}

/// A CSV data query ([`data_query`]) retried for up to 15 s until it answers with a header:
/// a busy agent (the other tests' agents share 2 cores) may time out, drop the connection or
/// not have indexed a chart yet.
pub fn data_retrying(port: u16, path: &str) -> Rows {
    let start = Instant::now();
    loop {
        let rows = parse_csv(&http_get(port, path).unwrap_or_default());
        if !rows.0.is_empty() {
            return rows;
        }
        if start.elapsed() > Duration::from_secs(15) {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A minimal HTTP/1.1 GET on 127.0.0.1; the body when the status is 200.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return Some(dechunk(body));
    }
    Some(body.to_owned())
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A test CA and a certificate for 127.0.0.1 signed by it, made with the openssl command:
/// `(certificate, key, CA certificate)`. Callers check `require(Dep::Openssl, …)` first.
pub fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    assert!(
        Dep::Openssl.present(),
        "openssl is missing: call require(Dep::Openssl, …) before certificates()"
    );
    std::fs::create_dir_all(dir).unwrap();
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl {args:?} failed");
    };
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=nanodata test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "cert.pem",
    ]);
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let _ = Command::new("chown").arg("netdata:").arg(&cert).arg(&key).status();
    (cert, key, dir.join("ca.pem"))
}

/// How a Netdata child is set up.
#[derive(Clone, Debug)]
pub struct ChildOptions {
    pub hostname: String,
    /// Where it streams: `127.0.0.1:<port>` (with `:SSL` appended for TLS).
    pub destination: String,
    pub api_key: String,
    pub compression: bool,
    /// `[db] mode` (`ram` keeps data the child's own API can show and replicate).
    pub memory_mode: String,
    /// The child's own web port (its API), or `None` for a headless child.
    pub web_port: Option<u16>,
    /// `[health] enabled` (Debian's stock `health.d`, notifications to `/bin/true`).
    pub health: bool,
}

/// A running Netdata child (only the proc plugin collects), streaming to a parent.
pub struct NetdataChild {
    pub base: PathBuf,
    pub options: ChildOptions,
    child: Option<Child>,
}

/// The `[plugins]` lines that turn off what a Netdata test peer does not need: every
/// external plugin and the internal modules but `proc` (callers that want `proc` off too say
/// so themselves).
pub fn plugins_off() -> String {
    [
        "diskspace",
        "cgroups",
        "tc",
        "idlejitter",
        "timex",
        "statsd",
        "checks",
        "apps",
        "python.d",
        "charts.d",
        "perf",
        "slabinfo",
        "cups",
        "nfacct",
        "fping",
        "ioping",
        "ebpf",
        "go.d",
        "freeipmi",
    ]
    .iter()
    .map(|p| format!("    {p} = no\n"))
    .collect()
}

/// The directories a Netdata test peer under `base` uses, and its telemetry opt-out.
pub fn netdata_dirs(base: &Path) {
    for d in ["etc", "cache", "lib/registry", "lib/lock", "log"] {
        std::fs::create_dir_all(base.join(d)).unwrap();
    }
    std::fs::write(base.join("etc/.opt-out-from-anonymous-statistics"), "").unwrap();
}

impl NetdataChild {
    /// Writes the configuration under `base` and starts the child.
    pub fn start(base: &Path, options: ChildOptions) -> NetdataChild {
        netdata_dirs(base);
        let b = base.display();
        let web = match options.web_port {
            Some(p) => format!("[web]\n    bind to = 127.0.0.1:{p}\n    mode = static-threaded\n"),
            None => "[web]\n    mode = none\n".to_string(),
        };
        let off = plugins_off();
        let conf = format!(
            "[global]\n    hostname = {host}\n    run as user = netdata\n\
             [db]\n    mode = {mode}\n    update every = 1\n    retention = 3600\n\
             [directories]\n    config = {b}/etc\n    cache = {b}/cache\n    lib = {b}/lib\n    log = {b}/log\n    lock = {b}/lib/lock\n    home = {b}/lib\n\
             {web}\
             [logs]\n    errors to trigger flood protection = 1000000\n\
             [registry]\n    enabled = no\n\
             [health]\n    enabled = {health}\n    script to execute on alarm = /bin/true\n\
             [statsd]\n    enabled = no\n\
             [ml]\n    enabled = no\n\
             [plugins]\n    enable running new plugins = no\n    proc = yes\n{off}",
            host = options.hostname,
            mode = options.memory_mode,
            health = if options.health { "yes" } else { "no" },
        );
        std::fs::write(base.join("etc/netdata.conf"), conf).unwrap();
        let stream = format!(
            "[stream]\n    enabled = yes\n    destination = {dest}\n    api key = {key}\n    enable compression = {c}\n    timeout seconds = 60\n    reconnect delay seconds = 1\n    ssl skip certificate verification = yes\n",
            dest = options.destination,
            key = options.api_key,
            c = if options.compression { "yes" } else { "no" },
        );
        std::fs::write(base.join("etc/stream.conf"), stream).unwrap();
        let status = Command::new("chown")
            .args(["-R", "netdata:"])
            .args(["cache", "lib", "log"].map(|d| base.join(d)))
            .status()
            .expect("chown");
        assert!(status.success(), "chown to the netdata user failed (tests run as root)");
        let stdout = std::fs::File::create(base.join("stdout.log")).unwrap();
        let child = Command::new(NETDATA)
            .args(["-D", "-c"])
            .arg(base.join("etc/netdata.conf"))
            .env("DO_NOT_TRACK", "1")
            .env("DISABLE_TELEMETRY", "1")
            .stdin(Stdio::null())
            .stdout(stdout.try_clone().unwrap())
            .stderr(stdout)
            .spawn()
            .expect("start netdata");
        NetdataChild { base: base.to_path_buf(), options, child: Some(child) }
    }

    /// The body of `GET path` on the child's own API if the answer is 200.
    pub fn get(&self, path: &str) -> Option<String> {
        http_get(self.options.web_port?, path)
    }

    /// The child's error log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.base.join("log/error.log")).unwrap_or_default()
    }

    /// Freezes the child (SIGSTOP) for `d`, leaving a gap in its own database.
    pub fn freeze(&self, d: Duration) {
        let Some(c) = self.child.as_ref() else { return };
        // SAFETY: kill(2) on the pid of a child we own.
        unsafe { libc::kill(c.id() as i32, libc::SIGSTOP) };
        std::thread::sleep(d);
        // SAFETY: as above.
        unsafe { libc::kill(c.id() as i32, libc::SIGCONT) };
    }

    /// Waits until the child's log contains `needle`.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.log().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("no {needle:?} in the Netdata child's log within {limit:?}; log:\n{}", self.log());
    }

    /// The child's own stored values of `chart` (as [`NetdataParent::data`]).
    pub fn data(&self, chart: &str, after: i64, before: i64) -> Rows {
        let port = self.options.web_port.expect("the child has no web port");
        data_retrying(port, &data_query("", chart, after, before))
    }

    /// Stops the child (TERM, then KILL after 20 s).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: kill(2) on the pid of a child we own.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NetdataChild {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `/api/v1/data` request the interop tests compare: every stored second, oldest first.
pub fn data_query(prefix: &str, chart: &str, after: i64, before: i64) -> String {
    format!(
        "{prefix}/api/v1/data?chart={chart}&after={after}&before={before}&points=0&group=average&gtime=0&format=csv&options=seconds|flip"
    )
}

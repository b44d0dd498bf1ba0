//! Helpers shared by the integration tests: a node in a temporary directory, started as the
//! real binary, with bounded waits that fail with the node's log attached, and [`require`],
//! the one place that decides what happens when a test needs something the machine lacks.
//!
//! Skip policy: a test that needs an outside program (Netdata, openssl, ping, …) calls
//! `require(Dep::…, why)` first. When it is there the test runs. When it is missing, under CI
//! (`CI` set to anything but empty, `0`, `false` or `no`, as CI services set `CI=true`) the
//! test fails with the Debian package to install; on a developer machine it prints
//! `SKIPPED <test>: …` and returns early. `tests/browser/run.sh` follows the same rule.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]
#![allow(dead_code)]

pub mod backends;
pub mod exporting;
pub mod netdata;
pub mod roles;
pub mod witness;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_nanodata");

/// The log line that says the node is up and collecting.
pub const READY: &str = "collector thread(s) running";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Something a test needs from the machine, with the Debian package that provides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dep {
    /// The real Netdata 1.37 as a test peer (`/usr/sbin/netdata`, and its `netdata` user).
    Netdata,
    /// Netdata's `charts.d.plugin` and its modules.
    NetdataPluginsBash,
    /// Netdata's `python.d.plugin` and its modules (with python3 and its libraries).
    NetdataPluginsPython,
    /// The `openssl` command, to make test certificates.
    Openssl,
    /// The `ping` command, used by the shipped `gateway_ping.plugin`.
    Ping,
    /// Root, to switch users (CI runs as root).
    Root,
    /// VictoriaMetrics, a remote write / graphite / opentsdb backend for the exporting tests.
    VictoriaMetrics,
    /// Prometheus with its remote write receiver, for the exporting tests.
    Prometheus,
    /// `promtool`, from the same `prometheus` package: checks the exposition format.
    Promtool,
}

impl Dep {
    /// Whether the machine has it.
    pub fn present(self) -> bool {
        match self {
            Dep::Netdata => Path::new(netdata::NETDATA).exists(),
            Dep::NetdataPluginsBash => Path::new("/usr/lib/netdata/plugins.d/charts.d.plugin").exists(),
            Dep::NetdataPluginsPython => {
                Path::new("/usr/lib/netdata/plugins.d/python.d.plugin").exists()
                    && Path::new("/usr/lib/netdata/python.d/python_modules").is_dir()
                    && on_path("python3")
            }
            Dep::Openssl => on_path("openssl"),
            Dep::Ping => on_path("ping"),
            // SAFETY: geteuid has no preconditions and cannot fail.
            Dep::Root => (unsafe { libc::geteuid() }) == 0,
            Dep::VictoriaMetrics => on_path("victoria-metrics"),
            Dep::Prometheus => on_path("prometheus"),
            Dep::Promtool => on_path("promtool"),
        }
    }

    /// What makes it present: the Debian package to install, or what else to do.
    pub fn remedy(self) -> &'static str {
        match self {
            Dep::Netdata => "apt-get install netdata",
            Dep::NetdataPluginsBash => "apt-get install netdata-plugins-bash",
            Dep::NetdataPluginsPython => "apt-get install netdata-plugins-python",
            Dep::Openssl => "apt-get install openssl",
            Dep::Ping => "apt-get install iputils-ping",
            Dep::Root => "run the tests as root",
            Dep::VictoriaMetrics => "apt-get install victoria-metrics",
            Dep::Prometheus | Dep::Promtool => "apt-get install prometheus",
        }
    }
}

/// True when the tests run under CI, where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false" | "no"))
}

/// The one decision about a missing dependency: true when `dep` is there; when it is missing,
/// a failure under CI (naming the package) and otherwise a `SKIPPED` line and false, so the
/// caller returns. `why` says what the test uses it for.
pub fn require(dep: Dep, why: &str) -> bool {
    if dep.present() {
        return true;
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let remedy = dep.remedy();
    assert!(!in_ci(), "{test}: {dep:?} is missing ({why}); CI must not skip: {remedy} (.ci/run does)");
    eprintln!("SKIPPED {test}: {dep:?} is missing ({why}); {remedy}, or set CI=true to fail instead");
    false
}

/// Whether an executable `name` is in one of the `PATH` directories (or the usual sbin ones,
/// which a non-root `PATH` may lack).
fn on_path(name: &str) -> bool {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .filter(|d| !d.is_empty())
        .any(|d| Path::new(d).join(name).is_file());
    found
}

/// A node's directories and configuration file.
pub struct Node {
    pub dir: PathBuf,
    pub mode: String,
}

impl Node {
    /// A fresh directory with a `nanodata.conf` for memory mode `mode`, every directory
    /// inside it and the error log in `log/error.log`.
    pub fn new(name: &str, mode: &str) -> Node {
        let dir = std::env::temp_dir().join(format!(
            "nanodata-it-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("log")).unwrap();
        let d = dir.display();
        let conf = format!(
            "# written by the integration tests\n\
             [global]\n\thostname = it-{name}\n\trun as user = \n\
             [directories]\n\tconfig = {d}/etc\n\tcache = {d}/cache\n\tlib = {d}/lib\n\tlog = {d}/log\n\
             [logs]\n\terror = {d}/log/error.log\n\taccess = none\n\thealth = none\n\
             [db]\n\tmode = {mode}\n\tupdate every = 1\n\tretention = 600\n"
        );
        std::fs::write(dir.join("nanodata.conf"), conf).unwrap();
        Node { dir, mode: mode.to_owned() }
    }

    pub fn append_config(&self, text: &str) {
        let path = self.dir.join("nanodata.conf");
        let mut conf = std::fs::read_to_string(&path).unwrap();
        conf.push_str(text);
        std::fs::write(path, conf).unwrap();
    }

    /// Writes `<config dir>/stream.conf`.
    pub fn write_stream_conf(&self, text: &str) {
        std::fs::create_dir_all(self.dir.join("etc")).unwrap();
        std::fs::write(self.dir.join("etc/stream.conf"), text).unwrap();
    }

    /// Uses the machine GUID of another node (a clone of the same device).
    pub fn copy_guid_from(&self, other: &Node) {
        std::fs::create_dir_all(self.dir.join("lib/registry")).unwrap();
        std::fs::copy(
            other.dir.join("lib/registry/netdata.public.unique.id"),
            self.dir.join("lib/registry/netdata.public.unique.id"),
        )
        .unwrap();
    }

    pub fn config_arg(&self) -> String {
        self.dir.join("nanodata.conf").display().to_string()
    }

    /// Starts the daemon in the foreground with extra arguments.
    pub fn start(&self, extra: &[&str]) -> Run {
        self.start_config(&self.config_arg(), extra)
    }

    /// Starts the daemon with another configuration file (its error log must still go to
    /// this node's `log/error.log`, for example with `-W set logs error …`).
    pub fn start_config(&self, config: &str, extra: &[&str]) -> Run {
        // Measured before the spawn: the child starts writing at once.
        let log_from = self.log_len();
        let child = Command::new(BIN)
            .arg("-D")
            .arg("-c")
            .arg(config)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nanodata");
        Run { child, log: self.dir.join("log/error.log"), log_from }
    }

    /// Starts the daemon and waits until its collectors run.
    pub fn start_ready(&self, extra: &[&str]) -> Run {
        let mut run = self.start(extra);
        run.wait_for_log(READY, Duration::from_secs(10));
        run
    }

    /// Starts the daemon, lets it collect for `secs` seconds and stops it in order.
    pub fn run_for(&self, secs: u64) {
        let mut run = self.start_ready(&[]);
        std::thread::sleep(Duration::from_secs(secs));
        run.stop_orderly();
    }

    /// Runs a command that prints and exits (`-W get`, `-W dumpconfig`) and returns stdout.
    pub fn command(&self, args: &[&str]) -> String {
        let out =
            Command::new(BIN).arg("-c").arg(self.config_arg()).args(args).output().expect("run nanodata");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn log_len(&self) -> u64 {
        std::fs::metadata(self.dir.join("log/error.log")).map(|m| m.len()).unwrap_or(0)
    }

    pub fn guid(&self) -> String {
        std::fs::read_to_string(self.dir.join("lib/registry/netdata.public.unique.id")).unwrap_or_default()
    }

    /// The database file of one dimension.
    pub fn db_file(&self, chart: &str, dim: &str) -> PathBuf {
        self.dir.join("cache").join(self.guid()).join(chart).join(format!("{dim}.db"))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A running daemon.
pub struct Run {
    child: Child,
    log: PathBuf,
    log_from: u64,
}

impl Run {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What this run wrote to the error log.
    pub fn log(&self) -> String {
        let all = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(&all[(self.log_from as usize).min(all.len())..]).into_owned()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// How many lines of this run's log contain `needle`.
    pub fn count_in_log(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Waits until the log of this run contains `needle`.
    pub fn wait_for_log(&mut self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.log().contains(needle) {
                return;
            }
            assert!(self.is_running(), "nanodata exited early; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no {needle:?} in the log within {limit:?}; log:\n{}", self.log());
    }

    /// Waits until the dimension holds `n` non-empty points, and fails at `limit` saying how
    /// many it had. Map mode writes its file while running, so the file is read; the other
    /// modes write only at stop, so the node's own data API is asked instead (the node must
    /// run a web server, e.g. `[web] bind to = 127.0.0.1:0`: its address is read from the log).
    pub fn wait_for_points(&mut self, node: &Node, chart: &str, dim: &str, n: usize, limit: Duration) {
        let start = Instant::now();
        let mut have;
        let mut port = None;
        loop {
            have = if node.mode == "map" {
                db_points(&node.db_file(chart, dim)).len()
            } else {
                port = port.or_else(|| self.web_port());
                port.map_or(0, |p| api_points(p, chart, dim))
            };
            if have >= n {
                return;
            }
            assert!(self.is_running(), "nanodata exited early; log:\n{}", self.log());
            if start.elapsed() >= limit {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let how = match (node.mode.as_str(), port) {
            ("map", _) => format!("in {}", node.db_file(chart, dim).display()),
            (_, Some(p)) => format!("through the data API on 127.0.0.1:{p}"),
            (mode, None) => format!(
                "memory mode {mode} shows points only through the data API, and this node logged no \
                 'web: listening on 127.0.0.1:…' (bind its web server, e.g. [web] bind to = 127.0.0.1:0)"
            ),
        };
        panic!("{chart}/{dim}: {have} of {n} points within {limit:?} ({how}); log:\n{}", self.log());
    }

    /// The loopback port the node's web server said it listens on.
    pub fn web_port(&self) -> Option<u16> {
        self.log().lines().find_map(|l| {
            let rest = l.split("web: listening on 127.0.0.1:").nth(1)?;
            rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
        })
    }

    /// SIGTERM, then waits for a clean exit; returns how long the stop took.
    pub fn stop_orderly(&mut self) -> Duration {
        // SAFETY: kill(2) on the pid of a child we own.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "exit status {status:?}; log:\n{}", self.log());
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("nanodata did not stop on SIGTERM; log:\n{}", self.log());
    }

    /// SIGKILL: no chance to save anything.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The non-empty points stored in a database file, read without touching it. A file that
/// is missing or mid-creation reads as no points.
pub fn db_points(file: &Path) -> Vec<(i64, u32)> {
    nanodata::db::read_file(file)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, n)| !n.is_empty())
        .map(|(t, n)| (t, n.to_bits()))
        .collect()
}

/// How many non-empty points of `chart`/`dim` a node's data API returns (the whole retention).
pub fn api_points(port: u16, chart: &str, dim: &str) -> usize {
    let path = format!(
        "/api/v1/data?chart={chart}&dimensions={dim}&after=-86400&points=0&group=average&gtime=0&format=csv&options=seconds|match-ids"
    );
    let (labels, rows) = netdata::parse_csv(&netdata::http_get(port, &path).unwrap_or_default());
    if labels.len() != 1 {
        return 0;
    }
    rows.iter().filter(|(_, v)| v.first().copied().flatten().is_some()).count()
}

/// Polls `check` every 200 ms until it returns true; after `limit` fails with `what` and the
/// logs of `logs` (the nodes involved).
pub fn wait_until(what: &str, limit: Duration, logs: &[&Run], mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        if start.elapsed() > limit {
            let all: Vec<String> = logs.iter().map(|r| r.log()).collect();
            panic!("{what}: not within {limit:?}; logs:\n{}", all.join("\n----\n"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Asserts that every point of `before` is still in `after`, unchanged.
pub fn assert_kept(before: &[(i64, u32)], after: &[(i64, u32)]) {
    for p in before {
        assert!(after.contains(p), "point at {} was lost: before {before:?}, after {after:?}", p.0);
    }
}

//! Real time-series databases on loopback for the exporting tests: VictoriaMetrics and
//! Prometheus (Debian packages `victoria-metrics`, `prometheus`), each started in its own
//! process group with a temporary data directory; both go when the [`Backend`] is dropped.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nanodata::net::http_client::{Client, Response};
use nanodata::net::Destination;

use super::netdata::free_port;

/// A backend process in its own process group, with its data directory; both go on drop.
pub struct Backend {
    pub name: &'static str,
    child: Child,
    pub dir: PathBuf,
    pub port: u16,
}

impl Backend {
    pub fn start(name: &'static str, program: &str, args: impl Fn(&PathBuf, u16) -> Vec<String>) -> Backend {
        let dir = std::env::temp_dir().join(format!("nanodata-rw-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.join("backend.log")).unwrap();
        let child = Command::new(program)
            .args(args(&dir, port))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let mut b = Backend { name, child, dir, port };
        b.wait_ready();
        b
    }

    pub fn victoria_metrics() -> Backend {
        Backend::start("vm", "victoria-metrics", |dir, port| victoria_metrics_args(dir, port, &[]))
    }

    pub fn prometheus() -> Backend {
        Backend::start("prom", "prometheus", |dir, port| {
            let config = dir.join("prometheus.yml");
            std::fs::write(&config, "global:\n  scrape_interval: 1m\nscrape_configs: []\n").unwrap();
            vec![
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--web.enable-remote-write-receiver".into(),
                "--log.level=warn".into(),
            ]
        })
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("backend.log")).unwrap_or_default()
    }

    pub fn client(&self) -> Client {
        let dest = Destination::parse(&format!("127.0.0.1:{}", self.port), 0).unwrap();
        Client::new(dest, None, Duration::from_secs(10), 16 << 20)
    }

    /// Polls the readiness endpoint for up to 60 s.
    pub fn wait_ready(&mut self) {
        let path = if self.name == "vm" { "/health" } else { "/-/ready" };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut c = self.client();
        loop {
            if let Ok(r) = c.request("GET", path, &[], b"") {
                if r.status == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) before it was ready:\n{}", self.name, self.log());
            }
            assert!(Instant::now() < deadline, "{} not ready in 60 s:\n{}", self.name, self.log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn get(&self, path: &str) -> Response {
        let r = self.client().request("GET", path, &[], b"").unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(
            r.is_success(),
            "GET {path}: {} {}\n{}",
            r.status,
            String::from_utf8_lossy(&r.body),
            self.log()
        );
        r
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: signals the process group this test started (the child leads it).
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above; harmless when the group is already gone.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Numbers the data directories of [`Backend::start_own`].
static OWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The flags [`Backend::victoria_metrics`] starts with, and `extra`.
fn victoria_metrics_args(dir: &std::path::Path, port: u16, extra: &[String]) -> Vec<String> {
    let mut args = vec![
        format!("-storageDataPath={}", dir.join("data").display()),
        format!("-httpListenAddr=127.0.0.1:{port}"),
        "-retentionPeriod=100y".into(),
        "-loggerLevel=WARN".into(),
    ];
    args.extend(extra.iter().cloned());
    args
}

/// Starts `program` with `args` in its own process group in `dir`, its output appended to
/// `dir/backend.log`.
fn spawn_in(dir: &std::path::Path, program: &str, args: &[String]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("backend.log"))
        .unwrap_or_else(|e| panic!("{}/backend.log: {e}", dir.display()));
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"))
}

impl Backend {
    /// Like [`Backend::start`], in a data directory of its own, so that several backends of
    /// one kind can run in one test binary.
    pub fn start_own(
        name: &'static str,
        program: &str,
        args: impl Fn(&PathBuf, u16) -> Vec<String>,
    ) -> Backend {
        let n = OWN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("nanodata-be-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let child = spawn_in(&dir, program, &args(&dir, port));
        let mut b = Backend { name, child, dir, port };
        b.wait_ready();
        b
    }

    /// VictoriaMetrics in a data directory of its own with `extra` flags (for example
    /// `-graphiteListenAddr=127.0.0.1:<port>`); [`Backend::restart_victoria_metrics`] takes
    /// the same.
    pub fn victoria_metrics_with(extra: &[String]) -> Backend {
        let extra = extra.to_vec();
        Backend::start_own("vm", "victoria-metrics", move |dir, port| {
            victoria_metrics_args(dir, port, &extra)
        })
    }

    /// Stops the backend's process group (SIGTERM, SIGKILL after 20 s) and keeps its data
    /// directory and port for [`Backend::restart_victoria_metrics`].
    pub fn stop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: signals the process group this test started (the child leads it).
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }

    /// Starts VictoriaMetrics again (after [`Backend::stop`]) on the same port with the same
    /// data directory and `extra` flags; waits until it is ready.
    pub fn restart_victoria_metrics(&mut self, extra: &[String]) {
        assert!(
            matches!(self.child.try_wait(), Ok(Some(_))),
            "{} is still running: stop it first",
            self.name
        );
        self.child =
            spawn_in(&self.dir, "victoria-metrics", &victoria_metrics_args(&self.dir, self.port, extra));
        self.wait_ready();
    }
}

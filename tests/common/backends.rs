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
        Backend::start("vm", "victoria-metrics", |dir, port| {
            vec![
                format!("-storageDataPath={}", dir.join("data").display()),
                format!("-httpListenAddr=127.0.0.1:{port}"),
                "-retentionPeriod=100y".into(),
                "-loggerLevel=WARN".into(),
            ]
        })
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


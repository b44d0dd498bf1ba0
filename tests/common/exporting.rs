//! Loopback helpers of the exporting tests: [`Sink`], a TCP listener that keeps every byte
//! an exporting instance sends (answering HTTP requests `200`), and [`Exporter`], the real
//! Netdata 1.37 (Debian's package) with its proc plugin and an `exporting.conf`.

#![allow(dead_code)]

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::netdata::{netdata_dirs, plugins_off, NETDATA};

/// A loopback TCP sink: everything received on any connection, per connection. HTTP
/// requests are answered `200` (Netdata reads and discards the answer).
pub struct Sink {
    pub port: u16,
    data: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Sink {
    pub fn start(http: bool) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a sink");
        let port = listener.local_addr().expect("address").port();
        let data = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&data);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let index = {
                        let mut all = shared.lock().unwrap();
                        all.push(Vec::new());
                        all.len() - 1
                    };
                    let mut buf = [0u8; 65536];
                    let mut answered = 0;
                    loop {
                        let n = match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let requests = {
                            let mut all = shared.lock().unwrap();
                            all[index].extend_from_slice(&buf[..n]);
                            http_requests(&all[index]).len()
                        };
                        while http && answered < requests {
                            use std::io::Write;
                            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                            answered += 1;
                        }
                    }
                });
            }
        });
        Sink { port, data }
    }

    /// All bytes received so far, connections one after the other.
    pub fn bytes(&self) -> Vec<Vec<u8>> {
        self.data.lock().unwrap().clone()
    }

    /// The complete lines received so far.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for conn in self.bytes() {
            let text = String::from_utf8_lossy(&conn).into_owned();
            let complete = text.rfind('\n').map_or("", |i| &text[..i]);
            out.extend(complete.lines().filter(|l| !l.is_empty()).map(str::to_owned));
        }
        out
    }

    /// The complete HTTP requests received so far: `(head, body)`.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.bytes().iter().flat_map(|c| http_requests(c)).collect()
    }
}

/// Complete `(head, body)` HTTP requests in `raw` (by `Content-Length`).
pub fn http_requests(raw: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(end) = find(rest, b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        let body_start = end + 4;
        if rest.len() < body_start + length {
            break;
        }
        out.push((head, String::from_utf8_lossy(&rest[body_start..body_start + length]).into_owned()));
        rest = &rest[body_start + length..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Netdata with the proc plugin and an `exporting.conf` naming the sinks.
pub struct Exporter {
    pub base: PathBuf,
    pub web_port: u16,
    child: Option<Child>,
}

impl Exporter {
    /// Starts Netdata in `base` (emptied first) as `hostname`, with `host_labels` (the
    /// lines of its `[host labels]` section) and `exporting_conf`.
    pub fn start(
        base: &Path,
        web_port: u16,
        hostname: &str,
        host_labels: &str,
        exporting_conf: &str,
    ) -> Exporter {
        let _ = std::fs::remove_dir_all(base);
        netdata_dirs(base);
        let b = base.display();
        let off = plugins_off();
        let conf = format!(
            "[global]\n    hostname = {hostname}\n    run as user = netdata\n\
             [db]\n    mode = ram\n    update every = 1\n    retention = 600\n\
             [directories]\n    config = {b}/etc\n    cache = {b}/cache\n    lib = {b}/lib\n    log = {b}/log\n    lock = {b}/lib/lock\n    home = {b}/lib\n\
             [web]\n    bind to = 127.0.0.1:{web_port}\n    mode = static-threaded\n\
             [logs]\n    errors to trigger flood protection = 1000000\n\
             [registry]\n    enabled = no\n\
             [health]\n    enabled = no\n\
             [statsd]\n    enabled = no\n\
             [ml]\n    enabled = no\n\
             [host labels]\n{host_labels}\
             [plugins]\n    enable running new plugins = no\n    proc = yes\n{off}"
        );
        std::fs::write(base.join("etc/netdata.conf"), conf).unwrap();
        std::fs::write(base.join("etc/stream.conf"), "[stream]\n    enabled = no\n").unwrap();
        std::fs::write(base.join("etc/exporting.conf"), exporting_conf).unwrap();
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
        Exporter { base: base.to_path_buf(), web_port, child: Some(child) }
    }

    /// Netdata's error log and standard output so far.
    pub fn log(&self) -> String {
        let read = |p: &str| std::fs::read_to_string(self.base.join(p)).unwrap_or_default();
        format!("--- error.log\n{}\n--- stdout\n{}", read("log/error.log"), read("stdout.log"))
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
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

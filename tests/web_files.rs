//! Static web files (`[directories] web`) over real loopback sockets: what is served and
//! with which headers (content types, `ETag`, `Last-Modified`, `Cache-Control`, 304s, gzip
//! in chunks, HEAD, HTTP/1.0), what is refused (path traversal as raw bytes, encoded,
//! double-encoded, with backslashes or NUL, absolute paths, symlinks out of the directory,
//! files of another owner), that API paths win over files, that `/host/<name>/` serves the
//! same files, and that the built-in dashboard stays the default (the registry actions of
//! Netdata's dashboard: `tests/web_registry.rs`).
//!
//! Every test runs the server in-process on a temporary directory it fills itself; expected
//! values come from the files written and their metadata, never from the server.

// Tests time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nanodata::config::settings::NodeSettings;
use nanodata::config::{Config, FileKind};
use nanodata::db::MemoryMode;
use nanodata::rrd::{Host, HostSettings, Hosts};
use nanodata::web::{self, WebServer};

const PARENT_GUID: &str = "03096a8c-e5fb-11f1-8630-02fc00000001";
const CHILD_GUID: &str = "08beed44-e5fb-11f1-a5d6-02fc00000001";
const SECRET: &str = "TOP-SECRET-OUTSIDE-THE-WEB-DIRECTORY";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// `base/web` (the served directory) and `base/secret.txt` beside it.
struct Tree {
    base: PathBuf,
}

impl Tree {
    fn new(name: &str) -> Tree {
        let base = std::env::temp_dir().join(format!(
            "nanodata-webfiles-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("web/sub")).unwrap();
        std::fs::write(base.join("secret.txt"), SECRET).unwrap();
        let t = Tree { base };
        t.write("index.html", b"<!doctype html><title>my pages</title>");
        t.write("sub/index.html", b"<p>sub</p>");
        t
    }

    fn web(&self) -> PathBuf {
        self.base.join("web")
    }

    fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.web().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        p
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.base);
        }
    }
}

struct Server {
    web: Option<WebServer>,
}

impl Server {
    /// Serves `web` (with extra configuration lines) for a parent and a child `child1`.
    fn start(web: &Path, extra: &str) -> Server {
        let text = format!(
            "[web]\n\tbind to = 127.0.0.1:0\n{extra}\n[directories]\n\tconfig = /nonexistent\n\tweb = {}\n",
            web.display()
        );
        let (cfg, _) = Config::parse(FileKind::Netdata, &text, "test");
        let settings = HostSettings {
            mode: MemoryMode::Ram,
            history: 60,
            update_every: 1,
            cache_dir: std::env::temp_dir(),
            gap_when_lost_iterations_above: 1,
            replication_window: 0,
            tiers: None,
        };
        let hosts = Arc::new(Hosts::new(Host::new(PARENT_GUID, "parent", settings.clone())));
        hosts.add(Host::new(CHILD_GUID, "child1", settings));
        let node = NodeSettings::from_config(&cfg, &Config::new(FileKind::Stream));
        Server { web: Some(web::start(node.web, hosts).expect("web server started")) }
    }

    fn addr(&self) -> SocketAddr {
        self.web.as_ref().unwrap().local_addrs()[0]
    }

    fn get(&self, target: &str) -> Reply {
        self.raw(format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
    }

    fn get_with(&self, target: &str, headers: &str) -> Reply {
        self.raw(format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{headers}\r\n").as_bytes())
    }

    /// Sends `request` as it is and reads until the server closes.
    fn raw(&self, request: &[u8]) -> Reply {
        let mut s = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(request).unwrap();
        let mut all = Vec::new();
        let _ = s.read_to_end(&mut all);
        Reply::parse(&all).unwrap_or_else(|| panic!("no reply to {:?}", String::from_utf8_lossy(request)))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(w) = self.web.take() {
            w.stop();
        }
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn parse(all: &[u8]) -> Option<Reply> {
        let end = all.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&all[..end]).into_owned();
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some(Reply { status, head, body: all[end + 4..].to_vec() })
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The payload of a chunked body.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap(), 16).unwrap();
        b = &b[eol + 2..];
        if n == 0 {
            assert_eq!(b, b"\r\n", "the last chunk ends the body");
            return out;
        }
        out.extend_from_slice(&b[..n]);
        assert_eq!(&b[n..n + 2], b"\r\n");
        b = &b[n + 2..];
    }
}

/// IMF-fixdate of `secs`, computed here independently of the server (civil-from-days).
fn http_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        [(m - 1) as usize];
    format!("{wd}, {d:02} {mon} {y:04} {:02}:{:02}:{:02} GMT", rem / 3600, rem / 60 % 60, rem % 60)
}

/// Bytes that compress well but are not one repeated run.
fn text_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| b"netdata nanodata 0123456789\n"[(i * 7 + i / 97) % 28]).collect()
}

/// Bytes deflate cannot shrink.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9u32;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn files_are_served_with_their_type_and_validators() {
    let t = Tree::new("serve");
    let js = t.write("lib/app.js", &text_bytes(3000));
    t.write("img/logo.png", &random_bytes(2000));
    t.write("fonts/x.woff2", &random_bytes(100));
    let srv = Server::start(&t.web(), "");

    let r = srv.get("/");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"<!doctype html><title>my pages</title>");
    assert_eq!(r.header("Content-Type").as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("Cache-Control").as_deref(), Some("no-cache"), "pages are revalidated");
    assert_eq!(srv.get("/index.html").body, r.body);

    let r = srv.get("/lib/app.js");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, text_bytes(3000));
    assert_eq!(r.header("Content-Length").as_deref(), Some("3000"));
    assert_eq!(r.header("Content-Type").as_deref(), Some("application/javascript; charset=utf-8"));
    assert_eq!(r.header("Cache-Control").as_deref(), Some("public, max-age=86400"));
    assert_eq!(r.header("X-Content-Type-Options").as_deref(), Some("nosniff"));
    let meta = std::fs::metadata(&js).unwrap();
    assert_eq!(r.header("Last-Modified"), Some(http_date(meta.mtime())));
    let ns = meta.mtime() as i128 * 1_000_000_000 + i128::from(meta.mtime_nsec());
    assert_eq!(r.header("ETag"), Some(format!("W/\"{:x}-{:x}-{:x}\"", 3000, ns, meta.ino())));

    for (path, ct) in [("/img/logo.png", "image/png"), ("/fonts/x.woff2", "font/woff2")] {
        let r = srv.get(path);
        assert_eq!((r.status, r.header("Content-Type").as_deref()), (200, Some(ct)), "{path}");
    }
    assert_eq!(srv.get("/sub/").text(), "<p>sub</p>");
    let r = srv.get("/missing.js");
    assert_eq!(r.status, 404);
    assert!(r.text().contains("no such file"), "{}", r.text());
}

#[test]
fn a_directory_is_redirected_to_its_slash_and_then_served() {
    let t = Tree::new("dirs");
    std::fs::create_dir_all(t.web().join("empty")).unwrap();
    let srv = Server::start(&t.web(), "");
    let r = srv.get("/sub?x=1");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("Location").as_deref(), Some("/sub/?x=1"));
    assert_eq!(srv.get("/empty/").status, 404, "no index, no listing");
    let r = srv.get("/host/child1/sub");
    assert_eq!(r.header("Location").as_deref(), Some("/host/child1/sub/"));
}

#[test]
fn conditional_requests_get_304_on_a_kept_alive_connection() {
    let t = Tree::new("cond");
    t.write("app.css", &text_bytes(5000));
    let srv = Server::start(&t.web(), "");
    let first = srv.get("/app.css");
    let etag = first.header("ETag").unwrap();
    let lm = first.header("Last-Modified").unwrap();

    // Two conditional requests and a plain one on one connection: a 304 has no body, so the
    // next answer starts right after its head.
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /app.css HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\n\r\n\
         GET /app.css HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: {lm}\r\n\r\n\
         GET /app.css HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"nope\"\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let text = String::from_utf8_lossy(&all).into_owned();
    let heads: Vec<&str> = text.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(heads.len(), 3, "{text}");
    for h in &heads[..2] {
        assert!(h.starts_with("304 Not Modified\r\n"), "{h}");
        assert!(!h.contains("Content-Length"), "a 304 announces no body: {h}");
        assert!(h.contains(&format!("ETag: {etag}\r\n")), "{h}");
        assert!(h.ends_with("\r\n\r\n"), "nothing after the head: {h:?}");
    }
    assert!(heads[2].starts_with("200 OK\r\n"), "another tag: the file again");
    assert!(all.ends_with(&text_bytes(5000)));

    // A date before the modification: the file.
    let mtime = std::fs::metadata(t.web().join("app.css")).unwrap().mtime();
    let r = srv.get_with("/app.css", &format!("If-Modified-Since: {}\r\n", http_date(mtime - 1)));
    assert_eq!(r.status, 200);
    // A changed file has a new tag.
    std::fs::write(t.web().join("app.css"), text_bytes(5001)).unwrap();
    let r = srv.get_with("/app.css", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!((r.status, r.body.len()), (200, 5001));
}

#[test]
fn gzip_when_accepted_in_chunks_and_plain_for_http10_and_images() {
    let t = Tree::new("gzip");
    // Over a megabyte: many 64 KiB pieces, several turns of the loop.
    let big = text_bytes(1_300_000);
    t.write("big.js", &big);
    t.write("pic.png", &random_bytes(100_000));
    t.write("tiny.js", b"var a;");
    let srv = Server::start(&t.web(), "");

    let r = srv.get_with("/big.js", "Accept-Encoding: gzip, deflate\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
    assert_eq!(r.header("Transfer-Encoding").as_deref(), Some("chunked"));
    assert_eq!(r.header("Content-Length"), None);
    let gz = dechunk(&r.body);
    assert!(gz.len() < big.len() / 4, "compressed to {} of {}", gz.len(), big.len());
    assert_eq!(nanodata::web::gzip::decompress(&gz).expect("a valid gzip member"), big);

    let r = srv.raw(b"GET /big.js HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
    assert_eq!(r.header("Content-Encoding"), None, "no chunked encoding in HTTP/1.0");
    assert_eq!(r.header("Content-Length").as_deref(), Some("1300000"));
    assert_eq!(r.body, big);

    let r = srv.get_with("/pic.png", "Accept-Encoding: gzip\r\n");
    assert_eq!(r.header("Content-Encoding"), None, "PNG does not shrink");
    assert_eq!(r.body, random_bytes(100_000));
    let r = srv.get_with("/tiny.js", "Accept-Encoding: gzip\r\n");
    assert_eq!((r.header("Content-Encoding"), r.body.as_slice()), (None, &b"var a;"[..]));

    let srv_off = Server::start(&t.web(), "\tenable gzip compression = no\n");
    let r = srv_off.get_with("/big.js", "Accept-Encoding: gzip\r\n");
    assert_eq!((r.header("Content-Encoding"), r.body.len()), (None, big.len()));
}

#[test]
fn head_answers_the_headers_only_and_keeps_the_connection() {
    let t = Tree::new("head");
    t.write("a.txt", &text_bytes(70_000));
    let srv = Server::start(&t.web(), "");
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(
        b"HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&all[..end]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("Content-Length: 70000\r\n"), "{head}");
    let rest = Reply::parse(&all[end..]).expect("the GET's answer follows the HEAD's head");
    assert_eq!(rest.body, text_bytes(70_000));
}

#[test]
fn path_traversal_is_refused_in_every_spelling() {
    let t = Tree::new("traversal");
    t.write("a/b/c.txt", b"deep");
    let srv = Server::start(&t.web(), "");
    // Raw bytes on the request line, one percent-encoding, two, mixed with backslashes and
    // NUL: none may reach the secret beside the directory. 403 from the file rules, 400 from
    // the HTTP parser (NUL, invalid UTF-8, a target not starting with `/`).
    let cases: &[(&[u8], u16)] = &[
        (b"GET /../secret.txt", 403),
        (b"GET /a/b/../../../secret.txt", 403),
        (b"GET /%2e%2e/secret.txt", 403),
        (b"GET /%2E%2E/secret.txt", 403),
        (b"GET /a/%2e%2e/%2e%2e/secret.txt", 403),
        (b"GET /.%2e/secret.txt", 403),
        (b"GET /%2e%2e%2fsecret.txt", 403),
        (b"GET /%252e%252e/secret.txt", 403),
        (b"GET /%252e%252e%252fsecret.txt", 403),
        (b"GET /..\\secret.txt", 403),
        (b"GET /%5c..%5csecret.txt", 403),
        (b"GET /..%5csecret.txt", 403),
        (b"GET /a/b/c.txt%00.html", 400),
        (b"GET /%00../secret.txt", 400),
        (b"GET /a\x00/../../secret.txt", 400),
        (b"GET /%c0%ae%c0%ae/secret.txt", 400),
        (b"GET ../secret.txt", 400),
        (b"GET http://t/../secret.txt", 400),
        (b"GET /host/child1/../../secret.txt", 403),
        (b"GET /host/child1/%2e%2e/%2e%2e/secret.txt", 403),
    ];
    for &(line, want) in cases {
        let mut req = line.to_vec();
        req.extend_from_slice(b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let req = req.as_slice();
        let r = srv.raw(req);
        let shown = String::from_utf8_lossy(req).escape_debug().to_string();
        assert_eq!(r.status, want, "{shown}: {}", r.text());
        assert!(!r.text().contains(SECRET), "{shown} leaked the secret");
    }
    // Still serving after all that, and a deep path is fine.
    assert_eq!(srv.get("/a/b/c.txt").body, b"deep");
}

#[test]
fn absolute_paths_are_looked_up_inside_the_directory() {
    let t = Tree::new("absolute");
    let srv = Server::start(&t.web(), "");
    let abs = t.base.join("secret.txt");
    for target in [format!("/{}", abs.display()), format!("//{}", abs.display()), "//etc/passwd".into()] {
        let r = srv.get(&target);
        assert_eq!(r.status, 404, "{target}: a path below the directory, which has none");
        assert!(!r.text().contains(SECRET) && !r.text().contains("root:"), "{target}");
    }
}

#[test]
fn symlinks_that_leave_the_directory_are_refused() {
    let t = Tree::new("symlinks");
    let web = t.web();
    symlink(t.base.join("secret.txt"), web.join("out.txt")).unwrap();
    symlink("../secret.txt", web.join("relative-out.txt")).unwrap();
    symlink("/etc", web.join("etc")).unwrap();
    symlink(&t.base, web.join("parent")).unwrap();
    t.write("real.js", b"inside");
    symlink("real.js", web.join("in.js")).unwrap();
    symlink("sub", web.join("alias")).unwrap();
    let srv = Server::start(&web, "");
    for target in ["/out.txt", "/relative-out.txt", "/etc/passwd", "/etc/", "/parent/secret.txt"] {
        let r = srv.get(target);
        assert_eq!(r.status, 403, "{target}: {}", r.text());
        assert!(!r.text().contains(SECRET) && !r.text().contains("root:"), "{target}");
    }
    assert_eq!(srv.get("/in.js").body, b"inside", "a symlink inside the directory is followed");
    assert_eq!(srv.get("/parent/web/real.js").body, b"inside", "out and back in: the file is inside");

    // `[web] web files symlink targets` names the places outside a symlink may lead to
    // (the default: Debian's shared fonts and scripts, which netdata-web links to).
    std::fs::create_dir_all(t.base.join("public")).unwrap();
    std::fs::write(t.base.join("public/font.woff2"), b"wOF2").unwrap();
    symlink(t.base.join("public/font.woff2"), web.join("font.woff2")).unwrap();
    assert_eq!(srv.get("/font.woff2").status, 403, "not a default place");
    let public = std::fs::canonicalize(t.base.join("public")).unwrap();
    let srv = Server::start(&web, &format!("\tweb files symlink targets = {}/*\n", public.display()));
    assert_eq!(srv.get("/font.woff2").body, b"wOF2");
    for target in ["/out.txt", "/relative-out.txt", "/etc/passwd", "/parent/secret.txt"] {
        assert_eq!(srv.get(target).status, 403, "{target} is still refused");
    }
    assert_eq!(srv.get("/alias/").body, b"<p>sub</p>");
}

#[test]
fn only_regular_files_are_served() {
    let t = Tree::new("kinds");
    symlink("/dev/zero", t.web().join("zero.txt")).unwrap();
    let fifo = t.web().join("pipe.txt");
    let made_fifo = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    let srv = Server::start(&t.web(), "");
    assert_eq!(srv.get("/zero.txt").status, 403, "a device (through a symlink that leaves) is refused");
    if made_fifo {
        let started = Instant::now();
        assert_eq!(srv.get("/pipe.txt").status, 403, "a FIFO is refused");
        assert!(started.elapsed() < Duration::from_secs(5), "and opening it did not block");
    }
}

#[test]
fn hidden_files_are_not_served_but_well_known_is() {
    let t = Tree::new("hidden");
    t.write(".git/config", b"[core]");
    t.write(".htpasswd", b"admin:x");
    t.write(".well-known/dnt/cookies", b"{}");
    let srv = Server::start(&t.web(), "");
    assert_eq!(srv.get("/.git/config").status, 403);
    assert_eq!(srv.get("/.htpasswd").status, 403);
    assert_eq!(srv.get("/.well-known/dnt/cookies").body, b"{}");
}

#[test]
fn files_of_another_owner_or_group_are_refused_when_asked() {
    let t = Tree::new("owner");
    let meta = std::fs::metadata(t.web().join("index.html")).unwrap();
    let (uid, gid) = (meta.uid(), meta.gid());
    let same = Server::start(&t.web(), &format!("\tweb files owner = {uid}\n\tweb files group = {gid}\n"));
    assert_eq!(same.get("/").status, 200);
    let other = Server::start(&t.web(), &format!("\tweb files owner = {}\n", uid + 4242));
    let r = other.get("/");
    assert_eq!(r.status, 403);
    assert!(r.text().contains("not permitted"), "{}", r.text());
    let other = Server::start(&t.web(), &format!("\tweb files group = {}\n", gid + 4242));
    assert_eq!(other.get("/").status, 403);
    // By name: root owns nothing of a non-root test run, and everything of a root one.
    let by_name = Server::start(&t.web(), "\tweb files owner = root\n");
    assert_eq!(by_name.get("/").status, if uid == 0 { 200 } else { 403 });
}

#[test]
fn api_paths_win_over_files() {
    let t = Tree::new("api");
    t.write("api/v1/info", b"a file named like the API");
    t.write("netdata.conf", b"a file named like the configuration");
    t.write("host/child1/x.txt", b"a file under host/");
    t.write("x.txt", b"x");
    let srv = Server::start(&t.web(), "");
    let r = srv.get("/api/v1/info");
    assert_eq!(r.status, 200);
    assert!(r.text().contains(&format!("\"uid\": \"{PARENT_GUID}\"")), "{}", r.text());
    assert!(srv.get("/netdata.conf").text().contains("[web]"));
    // `/host/<name>/` names a host: the files are served below it.
    assert_eq!(srv.get("/host/child1/x.txt").body, b"x");
    assert_eq!(srv.get("/host/nobody/x.txt").status, 404);
    let r = srv.get("/host/child1/api/v1/info");
    assert!(r.text().contains(&format!("\"uid\": \"{CHILD_GUID}\"")), "{}", r.text());
    // Netdata's dashboard asks `//api/v1/info`: empty segments are skipped, as Netdata does.
    let r = srv.get("//api/v1/info");
    assert!(r.text().contains(&format!("\"uid\": \"{PARENT_GUID}\"")), "{}", r.text());
    let r = srv.get("/host/child1//api/v1/info");
    assert!(r.text().contains(&format!("\"uid\": \"{CHILD_GUID}\"")), "{}", r.text());
}

#[test]
fn the_built_in_dashboard_stays_without_an_index_html() {
    let t = Tree::new("builtin");
    std::fs::remove_file(t.web().join("index.html")).unwrap();
    let srv = Server::start(&t.web(), "");
    let r = srv.get_with("/", "");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<title>nanodata</title>"), "the built-in page");
    assert_eq!(srv.get("/sub/").status, 404, "and no files at all");
    let missing = Server::start(&t.base.join("nonexistent"), "");
    assert!(missing.get("/").text().contains("<title>nanodata</title>"));
}

#[test]
fn a_missing_favicon_falls_back_to_the_built_in_one() {
    let t = Tree::new("favicon");
    let srv = Server::start(&t.web(), "");
    let r = srv.get("/favicon.ico");
    assert_eq!((r.status, r.header("Content-Type").as_deref()), (200, Some("image/svg+xml")));
    t.write("favicon.ico", b"\x00\x00\x01\x00");
    let r = srv.get("/favicon.ico");
    assert_eq!(
        (r.header("Content-Type").as_deref(), r.body.as_slice()),
        (Some("image/vnd.microsoft.icon"), &b"\x00\x00\x01\x00"[..])
    );
}

#[test]
fn files_over_the_size_cap_are_refused() {
    let t = Tree::new("cap");
    let f = std::fs::File::create(t.web().join("huge.bin")).unwrap();
    // Sparse: 32 MiB + 1 byte on disk costs nothing.
    f.set_len(32 * 1024 * 1024 + 1).unwrap();
    let f = std::fs::File::create(t.web().join("at-cap.bin")).unwrap();
    f.set_len(32 * 1024 * 1024).unwrap();
    let srv = Server::start(&t.web(), "");
    assert_eq!(srv.get("/huge.bin").status, 403);
    let r = srv.raw(b"HEAD /at-cap.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!((r.status, r.header("Content-Length").as_deref()), (200, Some("33554432")));
}

#[test]
fn a_slow_reader_of_a_large_file_does_not_hold_up_others() {
    let t = Tree::new("fair");
    t.write("big.bin", &random_bytes(8 * 1024 * 1024));
    let srv = Server::start(&t.web(), "");
    // Asks for 8 MiB and reads nothing: the server fills the socket and waits.
    let mut slow = TcpStream::connect(srv.addr()).unwrap();
    slow.write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(srv.get("/index.html").status, 200);
    }
    assert!(started.elapsed() < Duration::from_secs(5), "others served meanwhile: {:?}", started.elapsed());
    // The slow one still gets every byte.
    slow.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut all = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let want = 8 * 1024 * 1024;
    while all.len() < want + 100 {
        match slow.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
        if let Some(end) = all.windows(4).position(|w| w == b"\r\n\r\n") {
            if all.len() - end - 4 >= want {
                break;
            }
        }
    }
    let r = Reply::parse(&all).unwrap();
    assert_eq!(r.body, random_bytes(want));
}

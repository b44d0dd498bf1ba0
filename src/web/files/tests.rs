use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};

use super::*;
use crate::web::http::{parse, Parsed};

/// A web directory with `index.html`, `app.js`, `sub/{index,page}.html`, a directory without an
/// index, a secret file beside the directory, and symlinks in and out of it.
struct Dir {
    base: PathBuf,
    files: WebFiles,
}

impl Dir {
    fn new(name: &str) -> Dir {
        let base = std::env::temp_dir().join(format!("nanodata-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let web = base.join("web");
        std::fs::create_dir_all(web.join("sub")).unwrap();
        std::fs::create_dir_all(web.join("empty")).unwrap();
        std::fs::create_dir_all(web.join(".well-known")).unwrap();
        std::fs::write(web.join("index.html"), "<html>index</html>").unwrap();
        std::fs::write(web.join("app.js"), "var x = 1;\n".repeat(300)).unwrap();
        std::fs::write(web.join("sub/page.html"), "<p>sub</p>").unwrap();
        std::fs::write(web.join("sub/index.html"), "<p>sub index</p>").unwrap();
        std::fs::write(web.join(".well-known/dnt"), "{}").unwrap();
        std::fs::write(web.join(".secret"), "hidden").unwrap();
        std::fs::write(base.join("secret.txt"), "TOP SECRET").unwrap();
        symlink(base.join("secret.txt"), web.join("out.txt")).unwrap();
        symlink(base.join("secret.txt"), web.join("sub/out.html")).unwrap();
        symlink("/etc", web.join("etc")).unwrap();
        symlink(web.join("app.js"), web.join("in.js")).unwrap();
        symlink("sub", web.join("alias")).unwrap();
        let root = std::fs::canonicalize(&web).unwrap();
        Dir { base, files: WebFiles::with_ids(root, None, None) }
    }

    fn web(&self) -> PathBuf {
        self.base.join("web")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn get(target: &str, headers: &str) -> Request {
    let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
    match parse(raw.as_bytes(), 16384) {
        Parsed::Http(r, _) => r,
        other => panic!("{target}: {other:?}"),
    }
}

fn serve(d: &Dir, target: &str) -> Response {
    let req = get(target, "");
    d.files.serve(&req.path, &req)
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers.split("\r\n").find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(": ")))
}

#[test]
fn files_are_served_with_type_validators_and_cache_policy() {
    let d = Dir::new("serve");
    let r = serve(&d, "/");
    assert_eq!(r.status, Status::Ok);
    assert_eq!(r.content_type, "text/html; charset=utf-8");
    assert_eq!(r.cache_control, "no-cache", "pages are revalidated");
    let body = r.file.as_ref().expect("a file body");
    assert_eq!(body.size(), 18);
    let r = serve(&d, "/app.js");
    assert_eq!((r.status, r.content_type), (Status::Ok, "application/javascript; charset=utf-8"));
    assert_eq!(r.cache_control, "public, max-age=86400");
    let meta = std::fs::metadata(d.web().join("app.js")).unwrap();
    // W/"size-mtime in ns-inode", each in hex.
    let want = format!(
        "W/\"{:x}-{:x}-{:x}\"",
        3300,
        meta.mtime() as i128 * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        meta.ino()
    );
    assert_eq!(header(&r, "ETag"), Some(want.as_str()));
    assert_eq!(header(&r, "Last-Modified"), Some(types::http_date(meta.mtime()).as_str()));
    assert_eq!(header(&r, "X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(serve(&d, "/sub/page.html").status, Status::Ok);
    assert_eq!(serve(&d, "/sub/").status, Status::Ok, "a directory's index.html");
    assert_eq!(serve(&d, "/.well-known/dnt").status, Status::Ok);
    assert_eq!(serve(&d, "/in.js").status, Status::Ok, "a symlink inside the directory");
    assert_eq!(serve(&d, "/alias/page.html").status, Status::Ok, "a directory symlink inside it");
}

#[test]
fn a_directory_without_slash_is_redirected_and_without_index_is_404() {
    let d = Dir::new("dirs");
    let r = serve(&d, "/sub?x=1");
    assert_eq!(r.status, Status::MovedPermanently);
    assert_eq!(r.location.as_deref(), Some("/sub/?x=1"));
    let req = get("/host/child/sub", "");
    let r = d.files.serve("/sub", &req);
    assert_eq!(r.location.as_deref(), Some("/host/child/sub/"), "the host prefix is kept");
    assert_eq!(serve(&d, "/empty/").status, Status::NotFound);
    assert_eq!(serve(&d, "/nothing.html").status, Status::NotFound);
    assert_eq!(serve(&d, "/app.js/x").status, Status::NotFound, "a file is not a directory");
}

#[test]
fn traversal_and_strange_names_are_refused() {
    let d = Dir::new("traversal");
    for target in [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/%252e%252e/secret.txt",
        "/..%2fsecret.txt",
        "/..%5csecret.txt",
        "/sub\\..\\..\\secret.txt",
        "/%5c..%5csecret.txt",
        "//etc/passwd/..",
        "/a%20b",
        "/index.html%20",
        "/index.html;x",
        "/~root",
        "/.secret",
        "/sub/.secret",
        "/.git/config",
    ] {
        let r = serve(&d, target);
        assert_eq!(r.status, Status::Forbidden, "{target}");
        assert!(r.file.is_none());
        let text = String::from_utf8_lossy(&r.body).into_owned();
        assert!(!text.contains("TOP SECRET"), "{target}: {text}");
    }
}

#[test]
fn absolute_paths_stay_inside_the_directory() {
    let d = Dir::new("absolute");
    // `//etc/passwd` is `etc/passwd` below the directory: `etc` there is a symlink to /etc.
    let r = serve(&d, "//etc/passwd");
    assert_eq!(r.status, Status::Forbidden, "a symlink to /etc is outside");
    // A path naming the secret's absolute place is looked up below the directory.
    let abs = format!("/{}", d.base.join("secret.txt").display());
    assert_eq!(serve(&d, &abs).status, Status::NotFound);
}

#[test]
fn symlinks_out_of_the_directory_are_refused() {
    let d = Dir::new("symlinks");
    for target in ["/out.txt", "/sub/out.html", "/etc/passwd", "/etc/", "/etc"] {
        let r = serve(&d, target);
        assert_eq!(r.status, Status::Forbidden, "{target}");
        assert!(r.file.is_none(), "{target}");
    }
}

#[test]
fn symlinks_may_lead_only_to_the_configured_places_outside() {
    let d = Dir::new("targets");
    let secret = std::fs::canonicalize(d.base.join("secret.txt")).unwrap();
    let req = get("/out.txt", "");
    let mut files = WebFiles::open(&d.web(), "", "", &secret.display().to_string()).unwrap();
    assert_eq!(files.serve("/out.txt", &req).status, Status::Ok, "the pattern names the target");
    assert_eq!(files.serve("/etc/passwd", &get("/etc/passwd", "")).status, Status::Forbidden);
    files.targets = SimplePattern::parse(&format!("!{} *", secret.display()));
    assert_eq!(files.serve("/out.txt", &req).status, Status::Forbidden, "a negative word refuses");
    let files =
        WebFiles::open(&d.web(), "", "", "/usr/share/fonts/* /usr/share/fonts-* /usr/share/javascript/*")
            .unwrap();
    assert_eq!(
        files.serve("/out.txt", &req).status,
        Status::Forbidden,
        "the default names only public places"
    );
}

#[test]
fn only_regular_files_are_served() {
    let d = Dir::new("kinds");
    let fifo = d.web().join("fifo.txt");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    if made {
        // Opening it must not block (O_NONBLOCK), and it is refused.
        assert_eq!(serve(&d, "/fifo.txt").status, Status::Forbidden);
    }
    symlink("/dev/null", d.web().join("null.txt")).unwrap();
    assert_eq!(serve(&d, "/null.txt").status, Status::Forbidden);
}

#[test]
fn owner_and_group_are_checked_when_set() {
    let d = Dir::new("owner");
    let meta = std::fs::metadata(d.web().join("app.js")).unwrap();
    let root = d.files.root().to_path_buf();
    let req = get("/app.js", "");
    let same = WebFiles::with_ids(root.clone(), Some(meta.uid()), Some(meta.gid()));
    assert_eq!(same.serve("/app.js", &req).status, Status::Ok);
    let other_user = WebFiles::with_ids(root.clone(), Some(meta.uid() + 1), None);
    assert_eq!(other_user.serve("/app.js", &req).status, Status::Forbidden);
    let other_group = WebFiles::with_ids(root, None, Some(meta.gid() + 1));
    assert_eq!(other_group.serve("/app.js", &req).status, Status::Forbidden);
}

#[test]
fn conditional_requests_get_304() {
    let d = Dir::new("cond");
    let first = serve(&d, "/app.js");
    let tag = header(&first, "ETag").unwrap().to_owned();
    let lm = header(&first, "Last-Modified").unwrap().to_owned();
    let ask = |h: String| {
        let req = get("/app.js", &h);
        d.files.serve(&req.path, &req)
    };
    let r = ask(format!("If-None-Match: {tag}\r\n"));
    assert_eq!(r.status, Status::NotModified);
    assert!(r.file.is_none() && r.body.is_empty());
    assert_eq!(header(&r, "ETag"), Some(tag.as_str()), "a 304 repeats the validators");
    // Weak comparison: the tag without W/, in a list, or `*`.
    let strong = tag.trim_start_matches("W/");
    assert_eq!(ask(format!("If-None-Match: \"x\", {strong}\r\n")).status, Status::NotModified);
    assert_eq!(ask("If-None-Match: *\r\n".into()).status, Status::NotModified);
    assert_eq!(ask("If-None-Match: \"other\"\r\n".into()).status, Status::Ok);
    assert_eq!(ask(format!("If-Modified-Since: {lm}\r\n")).status, Status::NotModified);
    let mtime = types::parse_http_date(&lm).unwrap();
    assert_eq!(
        ask(format!("If-Modified-Since: {}\r\n", types::http_date(mtime - 1))).status,
        Status::Ok,
        "modified after the date"
    );
    assert_eq!(ask("If-Modified-Since: yesterday\r\n".into()).status, Status::Ok);
    // If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3).
    assert_eq!(ask(format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {lm}\r\n")).status, Status::Ok);
}

#[test]
fn a_changed_file_gets_a_new_etag() {
    let d = Dir::new("etag");
    let tag = |d: &Dir| header(&serve(d, "/sub/page.html"), "ETag").unwrap().to_owned();
    let before = tag(&d);
    std::fs::write(d.web().join("sub/page.html"), "<p>sub, longer</p>").unwrap();
    assert_ne!(tag(&d), before);
}

#[test]
fn the_directory_needs_an_index() {
    let d = Dir::new("open");
    assert!(WebFiles::open(&d.web(), "", "", "").is_some());
    assert!(WebFiles::open(&d.web().join("empty"), "", "", "").is_none(), "no index.html");
    assert!(WebFiles::open(&d.base.join("missing"), "", "", "").is_none());
    assert!(WebFiles::open(Path::new(""), "", "", "").is_none());
    let files = WebFiles::open(&d.web(), "root", "root", "").unwrap();
    assert_eq!((files.owner, files.group), (Some(0), Some(0)));
    let files = WebFiles::open(&d.web(), "12345", "", "").unwrap();
    assert_eq!(files.owner, Some(12345), "a number is an id");
}

#[test]
fn names() {
    assert!(check_name("index.html").is_ok());
    assert!(check_name("static/js/2.92ca8446.chunk.js").is_ok());
    assert!(check_name(".well-known/dnt/cookies").is_ok());
    assert!(check_name("a/./b").is_ok());
    for bad in ["..", "a/..", "a..b", "a b", "a%2e", "a\\b", "a:b", "é", ".git/x", "a/.htpasswd"] {
        assert!(check_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn bodies_arrive_whole_plain_and_gzipped() {
    let d = Dir::new("bodies");
    // 200 KiB: four pieces.
    let text: Vec<u8> = (0..200 * 1024).map(|i| b"abcdefghij\n"[(i * 7 + i / 13) % 11]).collect();
    std::fs::write(d.web().join("big.txt"), &text).unwrap();
    let mut ws = Workspace::new(3);
    let mut plain = Vec::new();
    let mut body = serve(&d, "/big.txt").file.unwrap();
    while !body.done() {
        body.fill(&mut plain, &mut ws).unwrap();
    }
    assert_eq!(plain, text);
    let mut chunked = Vec::new();
    let mut body = serve(&d, "/big.txt").file.unwrap();
    body.use_gzip();
    let mut pieces = 0;
    while !body.done() {
        body.fill(&mut chunked, &mut ws).unwrap();
        pieces += 1;
    }
    assert_eq!(pieces, 4);
    let gz = dechunk(&chunked);
    assert_eq!(crate::web::gzip::decompress(&gz).unwrap(), text);
}

#[test]
fn a_file_that_shrinks_ends_the_body_with_an_error() {
    let d = Dir::new("shrink");
    std::fs::write(d.web().join("s.txt"), vec![b'x'; 100_000]).unwrap();
    let mut body = serve(&d, "/s.txt").file.unwrap();
    std::fs::write(d.web().join("s.txt"), b"short").unwrap();
    let mut out = Vec::new();
    let mut ws = Workspace::new(3);
    assert!(body.fill(&mut out, &mut ws).is_err());
}

/// The payload of a chunked body (`len-hex CRLF data CRLF`…`0 CRLF CRLF`).
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap(), 16).unwrap();
        b = &b[eol + 2..];
        if n == 0 {
            assert_eq!(b, b"\r\n");
            return out;
        }
        out.extend_from_slice(&b[..n]);
        assert_eq!(&b[n..n + 2], b"\r\n");
        b = &b[n + 2..];
    }
}

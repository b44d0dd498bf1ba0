//! Request targets against the static files of `[directories] web`: `web::http::parse`, then
//! `web::api::handle` on a context serving a small directory (files, a subdirectory, a
//! symlink inside, symlinks that leave it) with a secret file beside it. Oracles: no answer
//! — headers or the whole body, read piece by piece as the server sends it — ever holds the
//! secret, and a file sent gzip-compressed in chunks inflates to the same bytes.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::symlink;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use nanodata::rrd::{Host, HostSettings, Hosts};
use nanodata::web::api;
use nanodata::web::context::Context;
use nanodata::web::files::{WebFiles, Workspace};
use nanodata::web::http::{self, Parsed};

const SECRET: &[u8] = b"FUZZ-SECRET-BESIDE-THE-WEB-DIRECTORY";

fn context() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("nanodata-fuzz-web-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let web = base.join("web");
        std::fs::create_dir_all(web.join("sub/deeper")).unwrap();
        std::fs::write(base.join("secret.txt"), SECRET).unwrap();
        std::fs::write(web.join("index.html"), "<html>fuzz</html>").unwrap();
        std::fs::write(web.join("app.js"), "var x = 1;\n".repeat(200)).unwrap();
        std::fs::write(web.join("sub/deeper/page.html"), "<p>deep</p>").unwrap();
        symlink(base.join("secret.txt"), web.join("out.txt")).unwrap();
        symlink("../secret.txt", web.join("sub/up.txt")).unwrap();
        symlink(&base, web.join("base")).unwrap();
        symlink("app.js", web.join("in.js")).unwrap();
        let files = WebFiles::open(&web, "", "", "");
        assert!(files.is_some(), "the fuzz web directory is served");
        let host = Host::new("fuzz-guid", "fuzz", HostSettings::default());
        Context::for_fuzzing(Arc::new(Hosts::new(host))).with_web_files(files)
    })
}

fuzz_target!(|data: &[u8]| {
    let ctx = context();
    let Parsed::Http(req, _) = http::parse(data, 16 * 1024) else { return };
    let mut resp = api::handle(ctx, &req, IpAddr::V4(Ipv4Addr::LOCALHOST));
    let leaks = |b: &[u8]| b.windows(SECRET.len()).any(|w| w == SECRET);
    // A refusal names the path asked for: a secret the request carries itself comes back.
    let asked = leaks(data) || leaks(req.path.as_bytes()) || leaks(req.target.as_bytes());
    if !asked {
        assert!(!leaks(&resp.body) && !leaks(resp.headers.as_bytes()), "{:?}", req.path);
    }
    let Some(body) = resp.file.take() else { return };
    let plain = send(body, false);
    assert!(!leaks(&plain), "{:?} served the secret", req.path);
    // The same file gzip-compressed in chunks inflates to the same bytes.
    if data.first().is_some_and(|b| b & 1 == 1) {
        let again = api::handle(ctx, &req, IpAddr::V4(Ipv4Addr::LOCALHOST)).file.expect("the same file");
        let gz = dechunk(&send(again, true));
        assert_eq!(nanodata::web::gzip::decompress(&gz).as_deref(), Some(plain.as_slice()), "{:?}", req.path);
    }
});

/// The body as the server sends it, piece by piece.
fn send(mut body: nanodata::web::files::FileBody, gzip: bool) -> Vec<u8> {
    if gzip {
        body.use_gzip();
    }
    let mut ws = Workspace::new(1);
    let mut out = Vec::new();
    while !body.done() {
        body.fill(&mut out, &mut ws).expect("the fuzz files do not change");
    }
    out
}

/// The payload of a chunked body.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).expect("hex"), 16).expect("hex");
        b = &b[eol + 2..];
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[..n]);
        b = &b[n + 2..];
    }
    out
}

//! Static web files: `[directories] web` (Netdata's `web files directory`), served in place
//! of the built-in dashboard when it holds an `index.html` — Netdata's own dashboard
//! (Debian's `netdata-web`) or a user's pages on Netdata's `dashboard.js` — for this node
//! and under `/host/<name>/` for every host. API paths are routed before files, so a file
//! never shadows the API.
//!
//! Safe by construction, in this order, before and while a file is opened:
//! - **Name.** The path (percent-decoded once by the HTTP parser, which also refuses NUL
//!   and control bytes) may hold only ASCII letters, digits, `/`, `.`, `-` and `_`
//!   (Netdata's rule), no `..` anywhere, and no hidden segment (`.git`, `.htpasswd`; only
//!   `.well-known` is served — Netdata serves them all): `%2e%2e` arrives here as `..`, a
//!   double-encoded `%252e` as `%2e` whose `%` is refused, and `\`, `:`, spaces and
//!   anything else never reach the disk. Refused names get 403 without a file system call
//!   (Netdata answers 400 to the first two).
//! - **Place.** The directory is resolved once at start (`canonicalize`); a requested
//!   file is resolved too (every symlink followed) and must lie inside it: a symlink whose
//!   target leaves the directory is refused with 403 — unless the real target matches
//!   `[web] web files symlink targets` (a simple pattern of absolute paths, a nanodata
//!   extension). Netdata 1.37 follows any symlink anywhere; Debian's `netdata-web` links
//!   its fonts and one stylesheet to `/usr/share/fonts*` (the alarms window of Netdata's
//!   dashboard loads the glyphicons), which the default pattern allows, with
//!   `/usr/share/javascript/*`: places that hold public web assets by Debian policy.
//! - **Kind.** The resolved path is opened with `O_NOFOLLOW | O_NONBLOCK`, and the opened
//!   file's own metadata decides: a directory means its `index.html` (a path without the
//!   trailing `/` is redirected to it first, so relative links work), anything but a
//!   regular file gets 403 (a FIFO swapped in cannot block the loop).
//! - **Owner.** `[web] web files owner` / `web files group`, when set, must own the file
//!   (403 otherwise) — the check Netdata documents; Netdata 1.37 itself ignores both keys
//!   (its `/netdata.conf` marks them "not used"), so left empty (the default) there is
//!   no check, as with Netdata. An unknown user or group falls back to the id the daemon
//!   runs as.
//! - **Size.** At most [`MAX_FILE_SIZE`] (Debian's largest dashboard file is 12.5 MB):
//!   larger ones get 403. The file is never read whole: [`body`] sends it in 64 KiB pieces.
//!
//! Validators: a weak `ETag` from size, modification time and inode, and `Last-Modified`;
//! `If-None-Match` (weak comparison, `*`) and otherwise `If-Modified-Since` get a 304.
//! `Cache-Control`: HTML pages `no-cache` (always revalidated, so an upgraded dashboard
//! shows at once; a 304 costs no body), everything else `public, max-age=86400` (Netdata
//! sends a day too).

pub mod body;
pub mod types;

use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub use body::{FileBody, Workspace};

use crate::simple_pattern::SimplePattern;
use crate::web::http::{Request, Response, Status};

/// Largest file served.
pub const MAX_FILE_SIZE: u64 = 32 * 1024 * 1024;

/// The `Cache-Control` of pages and of everything else.
const CACHE_PAGE: &str = "no-cache";
const CACHE_ASSET: &str = "public, max-age=86400";

/// A directory of static files being served.
#[derive(Debug)]
pub struct WebFiles {
    /// Canonical (absolute, symlinks resolved).
    root: PathBuf,
    owner: Option<u32>,
    group: Option<u32>,
    /// Real paths outside `root` a symlink may lead to.
    targets: SimplePattern,
}

impl WebFiles {
    /// Serves `dir` when it holds an `index.html` (logged either way: `None` keeps the
    /// built-in dashboard). `owner` / `group`: `[web] web files owner|group`, empty for no
    /// check; `targets`: `[web] web files symlink targets`.
    pub fn open(dir: &Path, owner: &str, group: &str, targets: &str) -> Option<WebFiles> {
        if dir.as_os_str().is_empty() {
            return None;
        }
        let root = match std::fs::canonicalize(dir) {
            Ok(r) => r,
            Err(e) => {
                log::info!("web: no web files in {} ({e}); serving the built-in dashboard", dir.display());
                return None;
            }
        };
        match std::fs::metadata(root.join("index.html")) {
            Ok(m) if m.is_file() => {}
            _ => {
                log::info!(
                    "web: {} has no index.html; serving the built-in dashboard ([directories] web)",
                    dir.display()
                );
                return None;
            }
        }
        let mut files = WebFiles::with_ids(root, owner_id(owner), group_id(group));
        files.targets = SimplePattern::parse(targets);
        log::info!(
            "web: serving the web files of {} ([directories] web){}",
            files.root.display(),
            match (files.owner, files.group) {
                (None, None) => String::new(),
                (u, g) => format!(
                    "; only files owned by{}{}",
                    u.map(|u| format!(" user {u}")).unwrap_or_default(),
                    g.map(|g| format!(" group {g}")).unwrap_or_default()
                ),
            }
        );
        Some(files)
    }

    /// Serves the canonical directory `root` with these id checks (tests).
    #[doc(hidden)]
    pub fn with_ids(root: PathBuf, owner: Option<u32>, group: Option<u32>) -> WebFiles {
        WebFiles { root, owner, group, targets: SimplePattern::parse("") }
    }

    /// The canonical directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Answers `req` for the file at `path` (the request path below the host prefix,
    /// starting with `/`).
    pub fn serve(&self, path: &str, req: &Request) -> Response {
        let rel = path.trim_start_matches('/');
        if let Err(why) = check_name(rel) {
            return refuse(Status::Forbidden, path, why);
        }
        let mut want = if rel.is_empty() { self.root.clone() } else { self.root.join(rel) };
        for _ in 0..2 {
            let (file, meta, real) = match self.open_inside(&want, path) {
                Ok(x) => x,
                Err((status, why)) => return refuse(status, path, why),
            };
            if meta.is_dir() {
                if !path.ends_with('/') {
                    return redirect_to_dir(req);
                }
                drop(file);
                want = real.join("index.html");
                continue;
            }
            if !meta.is_file() {
                log::warn!("web: {}: not a regular file; access denied", real.display());
                return refuse(Status::Forbidden, path, "not a regular file");
            }
            if let Err(why) = self.check_ids(&meta) {
                log::warn!("web: {}: {why}; access denied", real.display());
                return refuse(Status::Forbidden, path, "access to the file is not permitted");
            }
            if meta.len() > MAX_FILE_SIZE {
                log::warn!(
                    "web: {}: {} bytes, over the {MAX_FILE_SIZE} byte limit",
                    real.display(),
                    meta.len()
                );
                return refuse(Status::Forbidden, path, "the file is too large to be served");
            }
            return answer(file, &meta, &real, req);
        }
        refuse(Status::NotFound, path, "no such file")
    }

    /// Resolves `want` and opens it, if it lies inside the directory; else the status and
    /// reason of the refusal.
    fn open_inside(&self, want: &Path, path: &str) -> Result<(std::fs::File, Metadata, PathBuf), Refusal> {
        let real = match std::fs::canonicalize(want) {
            Ok(r) => r,
            Err(e) => return Err(not_found(&e)),
        };
        if !real.starts_with(&self.root) && !real.to_str().is_some_and(|r| self.targets.matches(r)) {
            log::warn!(
                "web: '{path}' resolves to {}, outside the web files directory {} and [web] web files symlink targets; access denied",
                real.display(),
                self.root.display()
            );
            return Err((Status::Forbidden, "the file is outside the web files directory"));
        }
        let file = match crate::sys::fs::open_nofollow_nonblock(&real) {
            Ok(f) => f,
            Err(e) if crate::sys::fs::is_symlink_loop(&e) => {
                return Err((Status::Forbidden, "the file was replaced by a symlink"))
            }
            Err(e) => return Err(not_found(&e)),
        };
        match file.metadata() {
            Ok(m) => Ok((file, m, real)),
            Err(e) => Err(not_found(&e)),
        }
    }

    fn check_ids(&self, meta: &Metadata) -> Result<(), String> {
        if let Some(u) = self.owner.filter(|&u| u != meta.uid()) {
            return Err(format!("owned by user {} ([web] web files owner is user {u})", meta.uid()));
        }
        if let Some(g) = self.group.filter(|&g| g != meta.gid()) {
            return Err(format!("owned by group {} ([web] web files group is group {g})", meta.gid()));
        }
        Ok(())
    }
}

/// Netdata's rule for file names — only `[A-Za-z0-9/._-]`, no `..` anywhere — and no
/// hidden segment but `.well-known`.
pub fn check_name(rel: &str) -> Result<(), &'static str> {
    if !rel.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_')) {
        return Err("the file name holds characters other than letters, digits, '/', '.', '-' and '_'");
    }
    if rel.contains("..") {
        return Err("relative file names ('..') are not accepted");
    }
    if rel.split('/').any(|seg| seg.starts_with('.') && seg != "." && seg != ".well-known") {
        return Err("hidden files are not served");
    }
    Ok(())
}

/// The `ETag` of a file: weak, from what changes when it is replaced or edited.
pub fn etag(meta: &Metadata) -> String {
    let ns = meta.mtime().wrapping_mul(1_000_000_000).wrapping_add(meta.mtime_nsec());
    format!("W/\"{:x}-{:x}-{:x}\"", meta.len(), ns, meta.ino())
}

/// Whether a conditional request is satisfied by a file with `etag` modified at `mtime`:
/// `If-None-Match` decides when present (weak comparison, `*` matches), else
/// `If-Modified-Since`.
pub fn not_modified(req: &Request, etag: &str, mtime: i64) -> bool {
    if let Some(inm) = &req.if_none_match {
        let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
        let mine = opaque(etag);
        return inm.split(',').any(|t| t.trim() == "*" || opaque(t) == mine);
    }
    match req.if_modified_since.as_deref().and_then(types::parse_http_date) {
        Some(since) => mtime <= since,
        None => false,
    }
}

fn answer(file: std::fs::File, meta: &Metadata, real: &Path, req: &Request) -> Response {
    let name = real.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let kind = types::kind(name);
    let tag = etag(meta);
    let mtime = meta.mtime();
    let mut r = if not_modified(req, &tag, mtime) {
        Response::new(Status::NotModified, kind.content_type, Vec::new())
    } else {
        let mut r = Response::new(Status::Ok, kind.content_type, Vec::new());
        r.file = Some(FileBody::new(file, meta.len(), kind.compressible));
        r
    };
    r.cache_control = if kind.content_type.starts_with("text/html") { CACHE_PAGE } else { CACHE_ASSET };
    r.headers = format!(
        "ETag: {tag}\r\nLast-Modified: {}\r\nX-Content-Type-Options: nosniff\r\n",
        types::http_date(mtime)
    );
    r
}

fn redirect_to_dir(req: &Request) -> Response {
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let q = if query.is_empty() { String::new() } else { format!("?{query}") };
    Response::redirect(format!("{path}/{q}"))
}

/// Why a file is not served: the status and a reason for the client.
type Refusal = (Status, &'static str);

fn not_found(e: &io::Error) -> Refusal {
    match e.kind() {
        io::ErrorKind::PermissionDenied => (Status::Forbidden, "the file cannot be read"),
        _ => (Status::NotFound, "no such file"),
    }
}

fn refuse(status: Status, path: &str, why: &str) -> Response {
    Response::text(status, format!("{path}: {why}"))
}

/// The uid of `[web] web files owner`: a user name (or a number); an unknown one falls
/// back to the user the daemon runs as, as Netdata's documentation says.
fn owner_id(name: &str) -> Option<u32> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    match crate::sys::user::getpwnam(name) {
        Ok(Some(p)) => Some(p.uid),
        _ => name.parse().ok().or_else(|| {
            let me = crate::sys::user::euid();
            log::error!(
                "web: [web] web files owner: user '{name}' is not known; serving files owned by user {me}"
            );
            Some(me)
        }),
    }
}

/// The gid of `[web] web files group` (a name or a number); unknown: the daemon's group.
fn group_id(name: &str) -> Option<u32> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    match crate::sys::user::getgrnam(name) {
        Ok(Some(g)) => Some(g),
        _ => name.parse().ok().or_else(|| {
            let me = crate::sys::user::egid();
            log::error!(
                "web: [web] web files group: group '{name}' is not known; serving files of group {me}"
            );
            Some(me)
        }),
    }
}

#[cfg(test)]
mod tests;

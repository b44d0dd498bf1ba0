//! HTTP/1.1 requests and responses: the wire type the event loop speaks.
//!
//! [`parse`] looks at the bytes a connection has buffered and returns one request, a
//! `STREAM` upgrade (the hook for the stream receiver, recognised by its own test,
//! [`request::is_stream`]), "need more bytes" or a rejection with the status to send. It
//! never allocates more than the request it returns and never looks past `limit` bytes, so
//! a 1 MB header costs the server one bounded buffer.

use std::fmt::Write as _;

use crate::stream::receiver::request;

/// A request the API can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// Percent-decoded path, always starting with `/`.
    pub path: String,
    /// The raw query string after `?` (still encoded), empty when absent.
    pub query: String,
    /// The request target as received, for the access log.
    pub target: String,
    pub keep_alive: bool,
    /// `HTTP/1.0`: no chunked responses.
    pub http10: bool,
    pub accepts_gzip: bool,
    /// `Host` header, for redirects.
    pub host: Option<String>,
    /// `X-Auth-Token` header (`/api/v1/manage/health`).
    pub auth_token: Option<String>,
    /// `If-None-Match` and `If-Modified-Since` (static web files answer 304).
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Options,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }
}

/// The outcome of looking at a connection's buffered bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// No complete request head yet (and still under the limit).
    Incomplete,
    /// A request and how many bytes of the buffer it used.
    Http(Request, usize),
    /// `STREAM <query> HTTP/1.1`: a child wants to stream (protocol.md §1.2). The query is
    /// still percent-encoded; `consumed` bytes belong to the handshake.
    Stream { query: String, consumed: usize },
    /// A request that must be refused with this status and reason; the connection closes.
    Bad(Status, &'static str),
}

/// The statuses the server sends.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    MovedPermanently,
    NotModified,
    BadRequest,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    UriTooLong,
    HeaderTooLarge,
    InternalError,
    NotImplemented,
    ServiceUnavailable,
}

impl Status {
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::MovedPermanently => 301,
            Status::NotModified => 304,
            Status::BadRequest => 400,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::UriTooLong => 414,
            Status::HeaderTooLarge => 431,
            Status::InternalError => 500,
            Status::NotImplemented => 501,
            Status::ServiceUnavailable => 503,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::MovedPermanently => "Moved Permanently",
            Status::NotModified => "Not Modified",
            Status::BadRequest => "Bad Request",
            Status::Forbidden => "Forbidden",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::RequestTimeout => "Request Timeout",
            Status::UriTooLong => "URI Too Long",
            Status::HeaderTooLarge => "Request Header Fields Too Large",
            Status::InternalError => "Internal Server Error",
            Status::NotImplemented => "Not Implemented",
            Status::ServiceUnavailable => "Service Unavailable",
        }
    }
}

/// Most header lines a request may carry.
const MAX_HEADERS: usize = 100;
/// Longest request target (Netdata's URL buffer is 8 KiB too).
const MAX_TARGET: usize = 8192;

/// Looks for one request at the start of `buf`, reading at most `limit` bytes of head.
pub fn parse(buf: &[u8], limit: usize) -> Parsed {
    let window = &buf[..buf.len().min(limit)];
    let Some((head_len, consumed)) = crate::protocol::head_end(window) else {
        if buf.len() >= limit {
            return Parsed::Bad(Status::HeaderTooLarge, "request head larger than the limit");
        }
        // Refuse garbage early: a request line must look like one.
        if let Some(line_end) = window.iter().position(|&b| b == b'\n') {
            if !looks_like_request_line(&window[..line_end]) {
                return Parsed::Bad(Status::BadRequest, "malformed request line");
            }
        } else if window.len() > MAX_TARGET + 32 {
            return Parsed::Bad(Status::UriTooLong, "request line too long");
        }
        return Parsed::Incomplete;
    };
    let Ok(head) = std::str::from_utf8(&window[..head_len]) else {
        return Parsed::Bad(Status::BadRequest, "request head is not UTF-8");
    };
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) if !m.is_empty() && !t.is_empty() => (m, t, v),
        _ => return Parsed::Bad(Status::BadRequest, "malformed request line"),
    };
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Parsed::Bad(Status::BadRequest, "unsupported HTTP version"),
    };
    if target.len() > MAX_TARGET {
        return Parsed::Bad(Status::UriTooLong, "request target too long");
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "OPTIONS" => Method::Options,
        // The method token is the line's first word: the same test as the receiver's.
        _ if request::is_stream(window) => return Parsed::Stream { query: target.to_owned(), consumed },
        "POST" | "PUT" | "DELETE" | "PATCH" | "CONNECT" | "TRACE" => {
            return Parsed::Bad(Status::MethodNotAllowed, "method not allowed")
        }
        _ => return Parsed::Bad(Status::BadRequest, "unknown method"),
    };
    let mut keep_alive = !http10;
    let mut accepts_gzip = false;
    let mut host = None;
    let mut auth_token = None;
    let mut if_none_match = None;
    let mut if_modified_since = None;
    for (n, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        if n >= MAX_HEADERS {
            return Parsed::Bad(Status::HeaderTooLarge, "too many header lines");
        }
        let Some((name, value)) = line.split_once(':') else {
            return Parsed::Bad(Status::BadRequest, "malformed header line");
        };
        if name.is_empty() || name.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Parsed::Bad(Status::BadRequest, "malformed header name");
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            let v = value.to_ascii_lowercase();
            if v.contains("close") {
                keep_alive = false;
            } else if v.contains("keep-alive") {
                keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case("accept-encoding") {
            accepts_gzip = value.split(',').any(|e| {
                let mut it = e.split(';');
                let name = it.next().unwrap_or("").trim();
                let q0 = it.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                name.eq_ignore_ascii_case("gzip") && !q0
            });
        } else if name.eq_ignore_ascii_case("host") {
            host = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("x-auth-token") {
            auth_token = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("if-none-match") {
            if_none_match = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("if-modified-since") {
            if_modified_since = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("content-length") {
            if value != "0" {
                return Parsed::Bad(Status::BadRequest, "request bodies are not accepted");
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Bad(Status::BadRequest, "request bodies are not accepted");
        }
    }
    let (raw_path, query) = match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target, ""),
    };
    if !raw_path.starts_with('/') {
        return Parsed::Bad(Status::BadRequest, "request target must start with /");
    }
    let path = match percent_decode(raw_path, false) {
        Ok(p) => p,
        Err(reason) => return Parsed::Bad(Status::BadRequest, reason),
    };
    Parsed::Http(
        Request {
            method,
            path,
            query: query.to_owned(),
            target: target.to_owned(),
            keep_alive,
            http10,
            accepts_gzip,
            host,
            auth_token,
            if_none_match,
            if_modified_since,
        },
        consumed,
    )
}

/// Decodes `%XX` (and `+` as space when `plus_is_space`); rejects bad escapes, control
/// characters and invalid UTF-8.
pub fn percent_decode(s: &str, plus_is_space: bool) -> Result<String, &'static str> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let hex = |x: u8| (x as char).to_digit(16);
            match (b.get(i + 1).and_then(|&x| hex(x)), b.get(i + 2).and_then(|&x| hex(x))) {
                (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                _ => return Err("bad percent escape"),
            }
            i += 3;
            continue;
        }
        out.push(if plus_is_space && c == b'+' { b' ' } else { c });
        i += 1;
    }
    if out.iter().any(|&c| c < 0x20 || c == 0x7f) {
        return Err("control character in the URL");
    }
    String::from_utf8(out).map_err(|_| "URL is not UTF-8")
}

/// Splits a query string into decoded `(name, value)` pairs (empty values kept; the API
/// ignores them like Netdata does).
pub fn query_pairs(query: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (n, v) = part.split_once('=').unwrap_or((part, ""));
        let name = percent_decode(n, true).map_err(|e| format!("parameter name: {e}"))?;
        let value = percent_decode(v, true).map_err(|e| format!("parameter '{name}': {e}"))?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// A response before serialisation.
#[derive(Debug)]
pub struct Response {
    pub status: Status,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The body is already gzip-compressed (a precompressed asset).
    pub gzipped: bool,
    /// The `Cache-Control` value.
    pub cache_control: &'static str,
    /// A static web file sent after the head in pieces (the body stays empty); the server
    /// decides its encoding.
    pub file: Option<crate::web::files::FileBody>,
    /// `Location` for redirects.
    pub location: Option<String>,
    /// Extra header lines, each ending in `\r\n`.
    pub headers: String,
}

impl Response {
    pub fn new(status: Status, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            content_type,
            body: body.into(),
            gzipped: false,
            cache_control: NO_CACHE,
            file: None,
            location: None,
            headers: String::new(),
        }
    }

    pub fn json(body: String) -> Response {
        Response::new(Status::Ok, "application/json", body)
    }

    pub fn text(status: Status, body: impl Into<String>) -> Response {
        let mut b: String = body.into();
        if !b.ends_with('\n') {
            b.push('\n');
        }
        Response::new(status, "text/plain; charset=utf-8", b)
    }

    pub fn redirect(location: String) -> Response {
        let mut r = Response::text(Status::MovedPermanently, format!("moved to {location}"));
        r.location = Some(location);
        r
    }
}

/// The `Cache-Control` of API answers.
pub const NO_CACHE: &str = "no-cache, no-store";

/// How the length of a body is told.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Length {
    /// `Content-Length` (left out of a 304, which has no body).
    Bytes(usize),
    /// `Transfer-Encoding: chunked` (HTTP/1.1 only).
    Chunked,
}

/// Appends the status line and headers for a body of `body_len` bytes.
pub fn write_head(
    out: &mut Vec<u8>,
    r: &Response,
    body_len: usize,
    gzip: bool,
    keep_alive: bool,
    extra: &str,
) {
    write_head_with(out, r, Length::Bytes(body_len), gzip, keep_alive, extra)
}

/// [`write_head`] for a body of any [`Length`].
pub fn write_head_with(
    out: &mut Vec<u8>,
    r: &Response,
    length: Length,
    gzip: bool,
    keep_alive: bool,
    extra: &str,
) {
    let mut h = String::with_capacity(256);
    let _ = write!(
        h,
        "HTTP/1.1 {} {}\r\nServer: {}/{}\r\nAccess-Control-Allow-Origin: *\r\nContent-Type: {}\r\n",
        r.status.code(),
        r.status.reason(),
        crate::PROGRAM,
        crate::VERSION,
        r.content_type,
    );
    match length {
        Length::Bytes(_) if r.status == Status::NotModified => {}
        Length::Bytes(n) => {
            let _ = write!(h, "Content-Length: {n}\r\n");
        }
        Length::Chunked => h.push_str("Transfer-Encoding: chunked\r\n"),
    }
    let _ = write!(h, "Cache-Control: {}\r\n", r.cache_control);
    if gzip {
        h.push_str("Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n");
    }
    if let Some(l) = &r.location {
        let _ = write!(h, "Location: {l}\r\n");
    }
    h.push_str(&r.headers);
    h.push_str(extra);
    h.push_str(if keep_alive { "Connection: keep-alive\r\n\r\n" } else { "Connection: close\r\n\r\n" });
    out.extend_from_slice(h.as_bytes());
}

fn looks_like_request_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(sp) = line.iter().position(|&b| b == b' ') else { return false };
    sp > 0
        && line[..sp].iter().all(u8::is_ascii_uppercase)
        && (line.ends_with(b"HTTP/1.1") || line.ends_with(b"HTTP/1.0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Request {
        match parse(s.as_bytes(), 16384) {
            Parsed::Http(r, n) => {
                assert_eq!(n, s.len());
                r
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_simple_get() {
        let r = req("GET /api/v1/data?chart=system.cpu&after=-60 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, deflate\r\n\r\n");
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.path, "/api/v1/data");
        assert_eq!(r.query, "chart=system.cpu&after=-60");
        assert!(r.keep_alive && r.accepts_gzip);
        assert_eq!(r.host.as_deref(), Some("x"));
    }

    #[test]
    fn http10_closes_unless_asked() {
        assert!(!req("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        assert!(!req("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
    }

    #[test]
    fn pipelined_requests_are_taken_one_at_a_time() {
        let two = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
        let Parsed::Http(r, n) = parse(two, 1000) else { panic!() };
        assert_eq!(r.path, "/a");
        let Parsed::Http(r, _) = parse(&two[n..], 1000) else { panic!() };
        assert_eq!(r.path, "/b");
    }

    #[test]
    fn incomplete_then_limits() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost:", 100), Parsed::Incomplete);
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(200));
        assert!(matches!(parse(big.as_bytes(), 100), Parsed::Bad(Status::HeaderTooLarge, _)));
    }

    #[test]
    fn garbage_is_refused_before_the_head_ends() {
        assert!(matches!(parse(b"\x16\x03\x01garbage\n", 1000), Parsed::Bad(Status::BadRequest, _)));
        assert!(matches!(parse(b"GET / HTTP/2\r\n\r\n", 1000), Parsed::Bad(Status::BadRequest, _)));
        assert!(matches!(parse(b"GET  HTTP/1.1\r\n\r\n", 1000), Parsed::Bad(Status::BadRequest, _)));
        assert!(matches!(parse(b"POST / HTTP/1.1\r\n\r\n", 1000), Parsed::Bad(Status::MethodNotAllowed, _)));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nnocolon\r\n\r\n", 1000),
            Parsed::Bad(Status::BadRequest, _)
        ));
        assert!(matches!(parse(b"GET /%zz HTTP/1.1\r\n\r\n", 1000), Parsed::Bad(Status::BadRequest, _)));
        assert!(matches!(parse(b"GET /%00 HTTP/1.1\r\n\r\n", 1000), Parsed::Bad(Status::BadRequest, _)));
    }

    #[test]
    fn stream_requests_are_a_distinct_variant() {
        let s = b"STREAM key=abc&hostname=h HTTP/1.1\r\nUser-Agent: netdata/v1.37.1\r\nAccept: */*\r\n\r\n";
        assert_eq!(parse(s, 8192), Parsed::Stream { query: "key=abc&hostname=h".into(), consumed: s.len() });
    }

    #[test]
    fn query_pairs_decode_and_drop_empty() {
        let p = query_pairs("a=1&b=&c=x%20y+z&&d").unwrap();
        assert_eq!(
            p,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "".into()),
                ("c".into(), "x y z".into()),
                ("d".into(), "".into())
            ]
        );
        assert!(query_pairs("a=%G1").is_err());
    }

    #[test]
    fn conditional_headers_are_kept() {
        let r = req("GET /a.js HTTP/1.0\r\nIf-None-Match: W/\"1-2\"\r\nIf-Modified-Since: Tue, 17 Jan 2023 17:56:13 GMT\r\n\r\n");
        assert!(r.http10);
        assert_eq!(r.if_none_match.as_deref(), Some("W/\"1-2\""));
        assert_eq!(r.if_modified_since.as_deref(), Some("Tue, 17 Jan 2023 17:56:13 GMT"));
    }

    #[test]
    fn a_304_has_no_content_length_and_chunked_has_no_length() {
        let mut r = Response::new(Status::NotModified, "text/css", Vec::new());
        let mut out = Vec::new();
        write_head(&mut out, &r, 0, false, true, "");
        let head = String::from_utf8(out).unwrap();
        assert!(
            head.starts_with("HTTP/1.1 304 Not Modified\r\n") && !head.contains("Content-Length"),
            "{head}"
        );
        r.status = Status::Ok;
        let mut out = Vec::new();
        write_head_with(&mut out, &r, Length::Chunked, true, true, "");
        let head = String::from_utf8(out).unwrap();
        assert!(
            head.contains("Transfer-Encoding: chunked\r\n") && !head.contains("Content-Length"),
            "{head}"
        );
        assert!(head.contains("Content-Encoding: gzip\r\n"), "{head}");
    }

    #[test]
    fn gzip_with_q0_is_not_accepted() {
        assert!(!req("GET / HTTP/1.1\r\nAccept-Encoding: gzip;q=0\r\n\r\n").accepts_gzip);
        assert!(req("GET / HTTP/1.1\r\nAccept-Encoding: br, GZIP\r\n\r\n").accepts_gzip);
    }
}

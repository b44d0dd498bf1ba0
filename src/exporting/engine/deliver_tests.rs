//! Delivery against loopback servers run by the tests: what each HTTP status, a connection
//! refused, a failover and a TCP peer that went away make of a batch. The servers here
//! ([`HttpSink`], [`closed_port`], [`instance`]) are the engine's tests' too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use crate::config::settings::ExportingSettings;
use crate::config::{Config, FileKind};
use crate::exporting::engine::encode;

/// The one instance of an `exporting.conf` made of section `[section]` (enabled) and the
/// lines `body`.
pub(crate) fn instance(section: &str, body: &str) -> Instance {
    let text = format!("[{section}]\n\tenabled = yes\n{body}");
    let (x, diags) = Config::parse(FileKind::Exporting, &text, "exporting.conf");
    assert!(diags.is_empty(), "{text}: {diags:?}");
    let (n, _) = Config::parse(FileKind::Netdata, "", "netdata.conf");
    let mut s = ExportingSettings::from_config(&x, &n);
    assert_eq!(s.instances.len(), 1, "{text}");
    s.instances.remove(0)
}

fn delivery(section: &str, body: &str) -> Delivery {
    let i = instance(section, body);
    Delivery::new(&i, encode::format_of(&i), None)
}

/// A port on 127.0.0.1 nothing listens on (bound and released).
pub(crate) fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One request an [`HttpSink`] received: the request line and headers, and the body.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub head: Vec<String>,
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|h| {
            let (n, v) = h.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// A loopback HTTP/1.1 server (keep-alive) that answers the n-th request (counted over all
/// its connections) with the raw response `answer(n)` and keeps every request.
pub(crate) struct HttpSink {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    accepts: Arc<AtomicUsize>,
}

impl HttpSink {
    pub fn start(answer: impl Fn(usize) -> String + Send + Sync + 'static) -> HttpSink {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let accepts = Arc::new(AtomicUsize::new(0));
        let (reqs, acc) = (Arc::clone(&requests), Arc::clone(&accepts));
        let answer = Arc::new(answer);
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { return };
                acc.fetch_add(1, Ordering::SeqCst);
                let (reqs, answer) = (Arc::clone(&reqs), Arc::clone(&answer));
                std::thread::spawn(move || serve(s, &reqs, answer.as_ref()));
            }
        });
        HttpSink { port, requests, accepts }
    }

    /// A sink answering every request `status` with a short body and `extra` headers.
    pub fn answering(status: &'static str, extra: &'static str) -> HttpSink {
        HttpSink::start(move |_| format!("HTTP/1.1 {status}\r\n{extra}Content-Length: 2\r\n\r\nok"))
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Connections accepted.
    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    pub fn destination(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn serve(s: TcpStream, requests: &Mutex<Vec<Request>>, answer: &(dyn Fn(usize) -> String + Send + Sync)) {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            head.push(line.trim_end().to_owned());
        }
        let req = Request { head, body: Vec::new() };
        let len: usize = req.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0u8; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let n = {
            let mut all = requests.lock().unwrap();
            all.push(Request { body, ..req });
            all.len() - 1
        };
        if w.write_all(answer(n).as_bytes()).is_err() {
            return;
        }
    }
}

const BODY: &[u8] = b"netdata.h.system.cpu.user 1.0000000 1700000000\n";

fn remote_write(dest: &str) -> Delivery {
    delivery(
        "prometheus_remote_write:rw",
        &format!("\tdestination = {dest}\n\tremote write URL path = /api/v1/write\n\ttimeout ms = 5000\n"),
    )
}

#[test]
fn a_2xx_answer_is_sent_and_the_request_is_the_connectors() {
    let sink = HttpSink::answering("204 No Content", "");
    let mut d = remote_write(&sink.destination());
    assert_eq!(d.send(b"first"), Outcome::Sent);
    assert_eq!(d.send(b"second"), Outcome::Sent);
    let got = sink.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].head[0], "POST /api/v1/write HTTP/1.1");
    assert_eq!(got[0].header("content-encoding"), Some("snappy"));
    assert_eq!(got[0].header("content-type"), Some("application/x-protobuf"));
    assert_eq!(got[0].header("authorization"), None, "no credentials, no header");
    assert_eq!((got[0].body.as_slice(), got[1].body.as_slice()), (&b"first"[..], &b"second"[..]));
    // One connection, kept alive; two answers.
    assert_eq!((d.traffic.connects, d.traffic.responses, sink.accepts()), (1, 2, 1));
    assert_eq!(d.traffic.received, 0, "204 has no body");

    // json:http posts to Netdata's path with its content type; a 200 with a body is sent too.
    let sink = HttpSink::answering("200 OK", "");
    let mut d = delivery("json:http:j", &format!("\tdestination = {}\n", sink.destination()));
    assert_eq!(d.send(b"[\n]\n"), Outcome::Sent);
    let got = sink.requests();
    assert_eq!(got[0].head[0], "POST /api/put HTTP/1.1");
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    assert_eq!(d.traffic.received, 2);
}

#[test]
fn server_errors_and_throttling_are_retried_with_retry_after_as_a_floor() {
    let cases: [(&str, &str, Duration); 5] = [
        ("500 Internal Server Error", "", Duration::ZERO),
        ("503 Service Unavailable", "", Duration::ZERO),
        ("408 Request Timeout", "", Duration::ZERO),
        ("429 Too Many Requests", "Retry-After: 7\r\n", Duration::from_secs(7)),
        // A day and a half: capped at an hour.
        ("429 Too Many Requests", "Retry-After: 129600\r\n", MAX_RETRY_AFTER),
    ];
    for (status, extra, want) in cases {
        let sink = HttpSink::answering(status, extra);
        let mut d = remote_write(&sink.destination());
        match d.send(BODY) {
            Outcome::Retry { why, floor } => {
                assert_eq!(floor, want, "{status} {extra}");
                let code = &status[..3];
                assert!(why.contains(&format!("HTTP {code}")) && why.contains("ok"), "{why}");
            }
            other => panic!("{status}: {other:?}, want a retry"),
        }
        assert_eq!(sink.requests().len(), 1, "{status}: one attempt is one request");
    }
    assert_eq!(MAX_RETRY_AFTER, Duration::from_secs(3600));
}

#[test]
fn other_client_errors_refuse_the_batch_for_good() {
    for status in ["400 Bad Request", "404 Not Found", "413 Payload Too Large", "401 Unauthorized"] {
        let sink = HttpSink::answering(status, "");
        let mut d = remote_write(&sink.destination());
        match d.send(BODY) {
            Outcome::Refused { why } => assert!(why.starts_with(&format!("HTTP {}", &status[..3])), "{why}"),
            other => panic!("{status}: {other:?}, want a refusal"),
        }
        assert_eq!(sink.requests().len(), 1);
    }
}

#[test]
fn a_refused_connection_fails_over_to_the_next_destination() {
    let down = closed_port();
    let sink = HttpSink::answering("200 OK", "");
    let mut d = remote_write(&format!("127.0.0.1:{down} {}", sink.destination()));
    assert_eq!(d.send(BODY), Outcome::Sent);
    assert_eq!(sink.requests().len(), 1);
    assert_eq!(d.traffic.connects, 1, "only the connection that opened counts");
    assert_eq!(d.destination().map(ToString::to_string), Some(sink.destination()));
    // The next batch stays on the destination that works.
    assert_eq!(d.send(BODY), Outcome::Sent);
    assert_eq!((d.traffic.connects, sink.accepts()), (1, 1));

    // Every destination down: a retry naming the last one tried, without a floor.
    let (a, b) = (closed_port(), closed_port());
    let mut d = remote_write(&format!("127.0.0.1:{a} 127.0.0.1:{b}"));
    match d.send(BODY) {
        Outcome::Retry { why, floor } => {
            assert!(why.starts_with(&format!("127.0.0.1:{b}: cannot connect")), "{why}");
            assert_eq!(floor, Duration::ZERO);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(d.traffic.connects, 0);
    // TCP connectors fail over the same way.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = l.local_addr().unwrap().port();
    let mut d = delivery("graphite:g", &format!("\tdestination = 127.0.0.1:{a} 127.0.0.1:{up}\n"));
    assert_eq!(d.send(BODY), Outcome::Sent);
    assert_eq!(d.traffic.connects, 1);
    let (mut s, _) = l.accept().unwrap();
    let mut got = vec![0u8; BODY.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(got, BODY);
}

/// A TCP backend: accepts one connection per entry of `script`, reads `len` bytes on it,
/// writes the entry's bytes back, then closes it when the entry says so. Sends what each
/// connection got.
fn tcp_backend(script: Vec<(usize, &'static [u8], bool)>) -> (u16, crossbeam_channel::Receiver<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        for (len, reply, close) in script {
            let Ok((mut s, _)) = l.accept() else { return };
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let mut got = vec![0u8; len];
            if s.read_exact(&mut got).is_err() {
                return;
            }
            let _ = s.write_all(reply);
            if close {
                let _ = s.shutdown(std::net::Shutdown::Both);
                drop(s);
            } else {
                kept.push(s);
            }
            let _ = tx.send(got);
        }
    });
    (port, rx)
}

/// Waits until the kernel has seen the peer's FIN (the backend closed before telling).
fn settle() {
    std::thread::sleep(Duration::from_millis(100));
}

#[test]
fn tcp_a_written_batch_is_sent() {
    let (port, got) = tcp_backend(vec![(BODY.len(), b"", false)]);
    let mut d = delivery("graphite:g", &format!("\tdestination = 127.0.0.1:{port}\n"));
    assert_eq!(d.send(BODY), Outcome::Sent);
    assert_eq!(got.recv_timeout(Duration::from_secs(10)).unwrap(), BODY);
    assert_eq!((d.traffic.connects, d.traffic.responses), (1, 1));
}

/// The backend answers the first batch with `answer` and closes; the second batch must go
/// on a new connection, not into the dead one, after the first once more (plain TCP has no
/// acknowledgement: the backend may have gone before reading it). Returns the delivery.
fn second_batch_after_a_close(section: &str, answer: &'static [u8]) -> Delivery {
    const SECOND: &[u8] = b"netdata.h.system.cpu.user 2.0000000 1700000002\n";
    let (port, got) = tcp_backend(vec![(BODY.len(), answer, true), (BODY.len() + SECOND.len(), b"", false)]);
    let mut d = delivery(section, &format!("\tdestination = 127.0.0.1:{port}\n"));
    assert_eq!(d.send(BODY), Outcome::Sent);
    assert_eq!(got.recv_timeout(Duration::from_secs(10)).unwrap(), BODY);
    settle();
    assert_eq!(d.send(SECOND), Outcome::Sent);
    assert_eq!(
        got.recv_timeout(Duration::from_secs(10)).expect("the second batch reached the backend"),
        [BODY, SECOND].concat(),
        "the batch written on the dead connection goes again, first"
    );
    assert_eq!(d.traffic.connects, 2);
    d
}

#[test]
fn tcp_a_connection_the_backend_closed_is_reopened_and_the_batch_delivered() {
    // A restart, an idle timeout.
    second_batch_after_a_close("graphite:g", b"");
}

#[test]
fn tcp_a_backend_that_answered_then_closed_is_reopened_too() {
    // OpenTSDB's telnet interface writes an error line back, then may close: what it wrote
    // is counted, and the closed connection is still noticed before the next batch.
    let d = second_batch_after_a_close("opentsdb:o", b"put: illegal argument\n");
    assert_eq!(d.traffic.received, "put: illegal argument\n".len());
}

#[test]
fn tcp_an_owned_batch_is_kept_by_exchanging_buffers_and_written_again_after_a_close() {
    const SECOND: &[u8] = b"netdata.h.system.cpu.user 2.0000000 1700000002\n";
    let (port, got) = tcp_backend(vec![(BODY.len(), b"", true), (BODY.len() + SECOND.len(), b"", false)]);
    let mut d = delivery("graphite:g", &format!("\tdestination = 127.0.0.1:{port}\n"));
    let mut first = BODY.to_vec();
    assert_eq!(d.send_owned(&mut first), Outcome::Sent);
    assert!(first.is_empty(), "the connection kept the batch and gave back what it held: nothing yet");
    assert_eq!(got.recv_timeout(Duration::from_secs(10)).unwrap(), BODY);
    settle();
    let mut second = SECOND.to_vec();
    assert_eq!(d.send_owned(&mut second), Outcome::Sent);
    assert_eq!(
        got.recv_timeout(Duration::from_secs(10)).expect("the second batch reached the backend"),
        [BODY, SECOND].concat(),
        "the kept batch goes again, first"
    );
    assert_eq!(second, BODY, "the buffer given back is the one kept before");
}

#[test]
fn tcp_a_backend_that_is_gone_is_a_retry() {
    let mut d = delivery("graphite:g", &format!("\tdestination = 127.0.0.1:{}\n", closed_port()));
    assert!(matches!(d.send(BODY), Outcome::Retry { floor: Duration::ZERO, .. }));
    assert_eq!(d.traffic.connects, 0);
}

#[test]
fn base64_of_rfc_4648_vectors() {
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];
    for (plain, encoded) in cases {
        assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
    }
    // All 64 letters, and the high bits.
    assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
    assert_eq!(base64(&[0x00, 0x10, 0x83]), "ABCD");
}

#[test]
fn credentials_go_in_a_basic_authorization_header() {
    let sink = HttpSink::answering("200 OK", "");
    let mut d = delivery(
        "json:http:j",
        &format!("\tdestination = {}\n\tusername = user\n\tpassword = pass\n", sink.destination()),
    );
    assert_eq!(d.send(b"[]"), Outcome::Sent);
    // base64("user:pass")
    assert_eq!(sink.requests()[0].header("authorization"), Some("Basic dXNlcjpwYXNz"));
    // A password alone still authenticates, with an empty user name: base64(":secret").
    let sink = HttpSink::answering("200 OK", "");
    let mut d =
        delivery("json:http:j", &format!("\tdestination = {}\n\tpassword = secret\n", sink.destination()));
    assert_eq!(d.send(b"[]"), Outcome::Sent);
    assert_eq!(sink.requests()[0].header("authorization"), Some("Basic OnNlY3JldA=="));
}

/// A TLS server on loopback with the fixtures' `leaf.pem` (signed by `ca.pem`, for
/// `localhost` and 127.0.0.1) answering every request `204`; returns its port and how many
/// requests it answered.
#[cfg(feature = "tls")]
fn tls_sink() -> (u16, Arc<AtomicUsize>) {
    use crate::net::transport::{Socket, Transport};
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let config =
        crate::net::tls::server_config(&fixtures.join("leaf.pem"), &fixtures.join("leaf.key"), "1.2")
            .expect("fixture certificate");
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let answered = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&answered);
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
            let (config, count) = (Arc::clone(&config), Arc::clone(&count));
            std::thread::spawn(move || {
                let Ok(sock) = Socket::tcp(s, Some(Duration::from_secs(5))) else { return };
                let mut t = Transport::plain(sock);
                let mut hello = Vec::new();
                if t.read_into(&mut hello, 4096).is_err() || t.accept_tls(&config, &hello).is_err() {
                    return;
                }
                let mut seen = Vec::new();
                while let Ok(n) = t.read_into(&mut seen, 1 << 16) {
                    if n == 0 {
                        return;
                    }
                    // One request: a head with Content-Length, then its body.
                    let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                    let head = String::from_utf8_lossy(&seen[..end]).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if seen.len() < end + 4 + len {
                        continue;
                    }
                    seen.drain(..end + 4 + len);
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ = std::io::Write::write_all(&mut t, b"HTTP/1.1 204 No Content\r\n\r\n");
                    let _ = std::io::Write::flush(&mut t);
                }
            });
        }
    });
    (port, answered)
}

#[cfg(feature = "tls")]
#[test]
fn https_trusts_the_configured_ca_and_refuses_an_unknown_certificate() {
    let (port, answered) = tls_sink();
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");
    let body = b"[{\"metric\":\"netdata.system.cpu.user\"}]";
    let deliver = |extra: &str| {
        let i = instance("json:https:j", &format!("\tdestination = localhost:{port}\n{extra}"));
        assert!(i.kind.tls());
        let tls = crate::net::tls::client_config(&i.tls).expect("trust");
        Delivery::new(&i, Some(Format::JsonHttp), Some(tls)).send(body)
    };
    // The CA that signed the server's certificate.
    assert_eq!(deliver(&format!("\tCAfile = {}\n", ca.display())), Outcome::Sent);
    assert_eq!(answered.load(Ordering::SeqCst), 1);
    // The system's CAs do not know it: retried later, nothing delivered.
    match deliver("") {
        Outcome::Retry { why, .. } => assert!(why.contains(&format!("localhost:{port}")), "{why}"),
        other => panic!("an unknown certificate must not pass: {other:?}"),
    }
    assert_eq!(answered.load(Ordering::SeqCst), 1);
    // Verification off, as the user asked.
    assert_eq!(deliver("\tssl skip certificate verification = yes\n"), Outcome::Sent);
    assert_eq!(answered.load(Ordering::SeqCst), 2);
}

//! The client against a tiny scripted server on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::*;

/// What the server does with the n-th request (counted over all connections).
enum Answer {
    /// Write these bytes and keep the connection.
    Keep(Vec<u8>),
    /// Write these bytes and close.
    Close(Vec<u8>),
    /// Say nothing for this long, then close.
    Silent(Duration),
}

struct Server {
    port: u16,
    accepts: Arc<AtomicUsize>,
    /// The bodies received, in order.
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

fn server(script: impl Fn(usize) -> Answer + Send + 'static) -> Server {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (a, b) = (Arc::clone(&accepts), Arc::clone(&bodies));
    std::thread::spawn(move || {
        let mut n = 0;
        for s in l.incoming() {
            let Ok(s) = s else { return };
            a.fetch_add(1, Ordering::SeqCst);
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut w = s;
            loop {
                let mut len = 0usize;
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0u8; len];
                r.read_exact(&mut body).unwrap();
                b.lock().unwrap().push(body);
                let answer = script(n);
                n += 1;
                match answer {
                    Answer::Keep(bytes) => {
                        w.write_all(&bytes).unwrap();
                    }
                    Answer::Close(bytes) => {
                        let _ = w.write_all(&bytes);
                        break;
                    }
                    Answer::Silent(d) => {
                        std::thread::sleep(d);
                        break;
                    }
                }
            }
        }
    });
    Server { port, accepts, bodies }
}

fn client(port: u16, timeout_ms: u64, max_body: usize) -> Client {
    let dest = Destination::parse(&format!("127.0.0.1:{port}"), 80).unwrap();
    Client::new(dest, None, Duration::from_millis(timeout_ms), max_body)
}

fn ok(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

#[test]
fn keep_alive_reuses_one_connection_and_sends_the_bodies() {
    let s = server(|n| Answer::Keep(ok(&format!("answer {n}"))));
    let mut c = client(s.port, 5000, 1024);
    for i in 0..3 {
        let r = c.post("/write", &[("Content-Type", "text/plain")], format!("body {i}").as_bytes()).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, format!("answer {i}").as_bytes());
        assert!(!r.truncated && r.is_success());
    }
    assert_eq!(s.accepts.load(Ordering::SeqCst), 1, "one connection for three requests");
    assert_eq!(*s.bodies.lock().unwrap(), [b"body 0".to_vec(), b"body 1".to_vec(), b"body 2".to_vec()]);
    assert!(c.connected());
}

#[test]
fn chunked_answers_are_joined_and_the_connection_kept() {
    let s = server(|_| {
        Answer::Keep(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n"
                .to_vec(),
        )
    });
    let mut c = client(s.port, 5000, 1024);
    assert_eq!(c.post("/", &[], b"a").unwrap().body, b"hello world");
    assert_eq!(c.post("/", &[], b"b").unwrap().body, b"hello world");
    assert_eq!(s.accepts.load(Ordering::SeqCst), 1);
}

#[test]
fn a_silent_server_times_out_within_the_timeout() {
    let s = server(|_| Answer::Silent(Duration::from_secs(3)));
    let mut c = client(s.port, 300, 1024);
    let started = now_monotonic();
    let e = c.post("/", &[], b"x").unwrap_err();
    assert!(matches!(e, Error::Timeout), "{e}");
    let took = now_monotonic().duration_since(started);
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(2), "{took:?}");
    assert!(!c.connected());
}

#[test]
fn a_5xx_is_an_answer_with_its_retry_after_and_4xx_too() {
    let s = server(|n| match n {
        0 => Answer::Keep(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nbusy".to_vec(),
        ),
        _ => Answer::Keep(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_vec()),
    });
    let mut c = client(s.port, 5000, 1024);
    let r = c.post("/", &[], b"x").unwrap();
    assert_eq!(
        (r.status, r.retry_after(), r.body.as_slice()),
        (503, Some(Duration::from_secs(7)), &b"busy"[..])
    );
    assert!(!r.is_success());
    let r = c.post("/", &[], b"x").unwrap();
    assert_eq!((r.status, r.retry_after()), (400, None));
    assert_eq!(s.accepts.load(Ordering::SeqCst), 1);
}

#[test]
fn a_server_that_closes_gets_a_new_connection() {
    // 0: answers with Connection: close; 1: answers and closes silently (idle timeout);
    // 2: answers and keeps.
    let s = server(|n| match n {
        0 => Answer::Close(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nr0".to_vec()),
        1 => Answer::Close(ok("r1")),
        _ => Answer::Keep(ok("r2")),
    });
    let mut c = client(s.port, 5000, 1024);
    assert_eq!(c.post("/", &[], b"0").unwrap().body, b"r0");
    assert!(!c.connected(), "Connection: close drops it");
    assert_eq!(c.post("/", &[], b"1").unwrap().body, b"r1");
    assert!(c.connected(), "the client does not know yet");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.post("/", &[], b"2").unwrap().body, b"r2", "sent again on a new connection");
    assert_eq!(s.accepts.load(Ordering::SeqCst), 3);
    let bodies = s.bodies.lock().unwrap().clone();
    assert_eq!(bodies, [b"0".to_vec(), b"1".to_vec(), b"2".to_vec()], "each body reached the server once");
}

#[test]
fn bodies_are_bounded_and_garbage_is_refused() {
    let big = "x".repeat(100_000);
    let s = server(move |n| match n {
        0 => Answer::Keep(ok(&big)),
        _ => Answer::Keep(b"SMTP ready\r\n\r\n".to_vec()),
    });
    let mut c = client(s.port, 5000, 1000);
    let r = c.post("/", &[], b"x").unwrap();
    assert_eq!(r.body.len(), 1000);
    assert!(r.truncated);
    assert!(!c.connected(), "a cut body leaves the connection unusable");
    assert!(matches!(c.post("/", &[], b"x"), Err(Error::Malformed(_))));
    assert!(matches!(c.post("/a b", &[], b""), Err(Error::Malformed(_))));
    assert!(matches!(c.post("/", &[("X", "a\r\nInjected: 1")], b""), Err(Error::Malformed(_))));
}

#[test]
fn nobody_listening_is_a_connect_failure() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut c = client(port, 1000, 10);
    match c.post("/", &[], b"") {
        Err(Error::Connect(Failure::Transport(e))) => assert!(e.starts_with("cannot connect"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[cfg(feature = "tls")]
#[test]
fn posts_over_tls_keep_the_connection() {
    use crate::net::tls;
    use crate::net::transport::Socket;
    use std::path::Path;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let server_config =
        tls::server_config(&fixtures.join("leaf.pem"), &fixtures.join("leaf.key"), "1.2").unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let a = Arc::clone(&accepts);
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
            a.fetch_add(1, Ordering::SeqCst);
            let mut t = Transport::plain(Socket::tcp(s, Some(Duration::from_secs(5))).unwrap());
            let mut hello = Vec::new();
            if t.read_into(&mut hello, 4096).is_err() || t.accept_tls(&server_config, &hello).is_err() {
                continue;
            }
            let mut seen = Vec::new();
            let mut answered = 0;
            while let Ok(n) = t.read_into(&mut seen, 4096) {
                if n == 0 {
                    break;
                }
                // Each request here is a head with an empty body.
                while let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                    seen.drain(..i + 4);
                    answered += 1;
                    let _ = t.write_all(&ok(&format!("tls {answered}")));
                    let _ = Write::flush(&mut t);
                }
            }
        }
    });
    let trust = tls::client_config(&tls::TlsSettings {
        ca_file: Some(fixtures.join("ca.pem")),
        ..Default::default()
    })
    .unwrap();
    let dest = Destination::parse(&format!("localhost:{port}:SSL"), 443).unwrap();
    let mut c = Client::new(dest, Some(trust), Duration::from_secs(5), 1024);
    assert_eq!(c.post("/", &[], b"").unwrap().body, b"tls 1");
    assert_eq!(c.post("/", &[], b"").unwrap().body, b"tls 2");
    assert_eq!(accepts.load(Ordering::SeqCst), 1);
}

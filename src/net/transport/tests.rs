//! The transport over loopback: plain and TLS, blocking and non-blocking.

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use super::*;

fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    (c, s)
}

#[test]
fn plain_non_blocking_reads_say_would_block_and_then_deliver() {
    let (c, s) = pair();
    let mut client = Transport::plain(Socket::tcp(c, Some(Duration::from_secs(5))).unwrap());
    let mut server = Transport::plain(Socket::tcp(s, None).unwrap());
    let mut buf = [0u8; 64];
    assert_eq!(server.read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    client.write_all(b"hello").unwrap();
    assert!(client.flush().unwrap());
    let mut got = Vec::new();
    for _ in 0..100 {
        match server.read_into(&mut got, 3) {
            Ok(_) if got.len() == 5 => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, b"hello", "read_into takes at most 3 bytes a call, all of it in the end");
    assert!(!client.is_tls() && !client.wants_write());
    drop(client);
    let mut n = None;
    for _ in 0..100 {
        match server.read(&mut buf) {
            Ok(k) => {
                n = Some(k);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    assert_eq!(n, Some(0), "end of stream");
}

#[cfg(feature = "tls")]
#[test]
fn tls_client_and_server_talk_both_ways_and_a_refused_certificate_is_described() {
    use crate::net::tls;
    use std::path::Path;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let server_config =
        tls::server_config(&fixtures.join("leaf.pem"), &fixtures.join("leaf.key"), "1.2").unwrap();
    let trusting = tls::client_config(&tls::TlsSettings {
        ca_file: Some(fixtures.join("ca.pem")),
        ..Default::default()
    })
    .unwrap();
    let distrusting = tls::client_config(&tls::TlsSettings {
        ca_file: Some(fixtures.join("other.pem")),
        ..Default::default()
    })
    .unwrap();

    for (config, ok) in [(trusting, true), (distrusting, false)] {
        let (c, s) = pair();
        let server_config = std::sync::Arc::clone(&server_config);
        let server = std::thread::spawn(move || -> io::Result<Vec<u8>> {
            let mut plain = Transport::plain(Socket::tcp(s, Some(Duration::from_secs(5)))?);
            let mut hello = Vec::new();
            plain.read_into(&mut hello, 4096)?;
            plain.accept_tls(&server_config, &hello)?;
            let mut got = vec![0u8; 4];
            plain.read_exact(&mut got)?;
            plain.write_all(b"pong")?;
            Write::flush(&mut plain)?;
            Ok(got)
        });
        let mut client = Transport::tls_client(
            Socket::tcp(c, Some(Duration::from_secs(5))).unwrap(),
            &config,
            "localhost",
        )
        .unwrap();
        assert!(client.is_tls());
        let result = client.write_all(b"ping").and_then(|()| {
            Write::flush(&mut client)?;
            let mut reply = [0u8; 4];
            client.read_exact(&mut reply)?;
            Ok(reply)
        });
        if ok {
            assert_eq!(&result.unwrap(), b"pong");
            assert_eq!(server.join().unwrap().unwrap(), b"ping");
        } else {
            let e = result.unwrap_err();
            let text = tls::describe_failure(&e);
            assert!(text.contains("certificate was refused"), "{text}");
            assert!(server.join().unwrap().is_err());
        }
    }
}

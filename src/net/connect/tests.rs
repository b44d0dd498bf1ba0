//! The connector's order and back-off floors, without sockets.

use super::*;

fn connector(words: &str) -> Connector {
    let (list, bad) = Destination::parse_list(words, 19999);
    assert!(bad.is_empty());
    let backoff = Backoff::try_new(Duration::from_secs(5), Duration::from_secs(60), 7).unwrap();
    Connector::new(list, backoff)
}

#[test]
fn a_round_tries_each_destination_once_and_the_one_that_worked_goes_last() {
    let mut c = connector("a:1 b:2 c:3");
    let mut tried = Vec::new();
    let r = c.round(
        |d| {
            tried.push(d.to_string());
            if d.to_string() == "b:2" {
                Ok(())
            } else {
                Err(Failure::Transport("no".into()))
            }
        },
        |_, _| {},
        || false,
    );
    assert!(matches!(r, Round::Connected((), 1)));
    assert_eq!(tried, ["a:1", "b:2"]);
    tried.clear();
    let r = c.round(
        |d| {
            tried.push(d.to_string());
            Err::<(), _>(Failure::Transport("no".into()))
        },
        |_, _| {},
        || false,
    );
    assert!(matches!(r, Round::Failed));
    assert_eq!(tried, ["c:3", "a:1", "b:2"], "the last good one is tried last");
}

#[test]
fn each_failure_class_sets_its_floor_and_stop_ends_a_round() {
    let mut c = connector("a:1 b:2 c:3");
    let mut reported = 0;
    let r = c.round(
        |d| {
            Err::<(), _>(match d.to_string().as_str() {
                "a:1" => Failure::Timeout,
                "b:2" => Failure::Refused { reason: "busy".into(), retry_after: Duration::from_secs(120) },
                _ => Failure::Transport("refused".into()),
            })
        },
        |_, _| reported += 1,
        || false,
    );
    assert!(matches!(r, Round::Failed));
    assert_eq!(reported, 3);
    let d = c.next_delay();
    assert!(
        d >= Duration::from_secs(96) && d <= Duration::from_secs(144),
        "the largest floor (120 s ±20 %): {d:?}"
    );

    let r = c.round(|_| Err::<(), _>(Failure::Tls("bad certificate".into())), |_, _| {}, || true);
    assert!(matches!(r, Round::Stopped), "stop is asked after each failure");
    assert!(c.next_delay() >= Duration::from_secs(240), "TLS failures wait 5 minutes");
    assert_eq!(Failure::Transport(String::new()).floor(), Duration::ZERO);
}

#[test]
fn opening_a_closed_port_or_unix_path_is_a_transport_failure() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let dest = Destination::parse(&format!("127.0.0.1:{port}"), 19999).unwrap();
    match open(&dest, Duration::from_secs(2), None) {
        Err(Failure::Transport(e)) => assert!(e.starts_with("cannot connect"), "{e}"),
        other => panic!("{:?}", other.err()),
    }
    // Each address refused is reported, in Netdata's words.
    let mut lines = Vec::new();
    let r =
        open_reporting(&dest, Duration::from_secs(2), None, &mut |a, e| lines.push(failed_to_connect(a, e)));
    assert!(matches!(r, Err(Failure::Transport(_))));
    // ECONNREFUSED is 111 on every Linux architecture but MIPS (146). Under qemu-user the
    // error of a connect with a timeout comes from getsockopt(SO_ERROR), which qemu passes
    // through untranslated: the host's 111, which MIPS' C library does not know.
    let want = format!("Failed to connect to '127.0.0.1', port '{port}' (errno 111, Connection refused)");
    if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        let head = format!("Failed to connect to '127.0.0.1', port '{port}' (errno ");
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with(&head)
                && (lines[0].ends_with("146, Connection refused)") || lines[0].contains("(errno 111, ")),
            "{lines:?}"
        );
    } else {
        assert_eq!(lines, [want]);
    }
    let dest = Destination::parse("unix:/nonexistent/nanodata.sock", 19999).unwrap();
    assert!(matches!(open(&dest, Duration::from_secs(2), None), Err(Failure::Transport(_))));
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dest =
        Destination::parse(&format!("127.0.0.1:{}:SSL", l.local_addr().unwrap().port()), 19999).unwrap();
    match open(&dest, Duration::from_secs(2), None) {
        Err(Failure::Transport(e)) => assert_eq!(e, "TLS is not configured"),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn failed_to_connect_uses_netdata_s_words() {
    let addr: SocketAddr = "[::1]:19999".parse().unwrap();
    let e = std::io::Error::from_raw_os_error(2);
    assert_eq!(
        failed_to_connect(&addr, &e),
        "Failed to connect to '::1', port '19999' (errno 2, No such file or directory)"
    );
    let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "connection timed out");
    assert_eq!(failed_to_connect(&addr, &e), "Timed out while connecting to '::1', port '19999'.");
}

//! No option that silently does nothing: `-W dumpconfig` marks the options nanodata accepts
//! but does not use, and setting one logs one warning at start; the child honours `[db]
//! enable replication = no` (towards a nanodata and a Netdata parent); `[web] tls version`
//! sets the lowest TLS version the web server accepts.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::netdata::{free_port, http_get, require_netdata, NetdataParent, ParentOptions, API_KEY};
use common::{Node, Run};

const UNUSED: &str = "# accepted, not used by nanodata";

#[test]
fn dumpconfig_marks_unused_options_and_the_start_warns_once_for_each_set() {
    let node = Node::new("unusedopts", "ram");
    node.append_config(
        "[global]\n\tprocess nice level = 5\n\tOOM score = 0\n[web]\n\tweb server threads = 4\n\tmode = none\n\
         [plugins]\n\ttc = no\n",
    );
    let dump = node.command(&["-W", "dumpconfig"]);
    assert!(dump.contains(&format!("\t{UNUSED}\n\tprocess nice level = 5\n")), "{dump}");
    assert!(dump.contains(&format!("\t{UNUSED}\n\tweb server threads = 4\n")), "{dump}");
    assert!(dump.contains(&format!("\t{UNUSED}\n\t# rotate log every lines = 2000\n")), "{dump}");
    assert!(!dump.contains(&format!("{UNUSED}\n\t# hostname")), "a used option is not marked: {dump}");
    let stream_dump = node.command(&["-W", "dumpconfig2"]);
    let stream_section = stream_dump.split("[stream]").nth(1).unwrap_or_default();
    assert!(!stream_section.contains(UNUSED), "every [stream] option is used: {stream_dump}");

    let mut run = node.start_ready(&[]);
    std::thread::sleep(Duration::from_millis(500));
    let warned = |name: &str| {
        run.count_in_log(&format!("'{name}' in section [global] is accepted but not used by nanodata"))
            + run.count_in_log(&format!("'{name}' in section [web] is accepted but not used by nanodata"))
            + run.count_in_log(&format!("'{name}' in section [plugins] is accepted but not used by nanodata"))
    };
    assert_eq!(warned("process nice level"), 1, "{}", run.log());
    assert_eq!(warned("web server threads"), 1, "{}", run.log());
    // Set to their defaults (Netdata's `OOM score = 0`, disabling the absent tc): no warning.
    assert_eq!(warned("OOM score"), 0, "{}", run.log());
    assert_eq!(warned("tc"), 0, "{}", run.log());
    let line = run.log().lines().find(|l| l.contains("'process nice level'")).unwrap().to_owned();
    assert!(line.contains("WARN") && line.contains("nanodata.conf:"), "names the file and line: {line}");
    run.stop_orderly();
}

/// The capabilities the child logged for its connection.
fn negotiated(run: &Run) -> String {
    let log = run.log();
    let line = log.lines().find(|l| l.contains("[send to") && l.contains("negotiated capabilities"));
    line.unwrap_or_else(|| panic!("no negotiated capabilities; log:\n{log}")).to_owned()
}

fn child(name: &str, port: u16, replication: bool) -> Node {
    let node = Node::new(name, "ram");
    if !replication {
        node.append_config("\tenable replication = no\n"); // still in [db]
    }
    node.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));
    node
}

#[test]
fn a_child_with_replication_disabled_neither_offers_nor_answers_it() {
    let parent = Node::new("replparent", "ram");
    let port = free_port();
    parent.append_config(&format!("[web]\n\tbind to = 127.0.0.1:{port}\n"));
    parent.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n"));
    let mut parent_run = parent.start_ready(&[]);

    let on = child("replon", port, true);
    let off = child("reploff", port, false);
    assert!(off.command(&["-W", "dumpconfig"]).contains("\tenable replication = no\n"));
    let mut on_run = on.start_ready(&[]);
    let mut off_run = off.start_ready(&[]);
    on_run.wait_for_log("established communication", Duration::from_secs(20));
    off_run.wait_for_log("established communication", Duration::from_secs(20));
    assert!(negotiated(&on_run).contains("REPLICATION"), "{}", negotiated(&on_run));
    assert!(!negotiated(&off_run).contains("REPLICATION"), "{}", negotiated(&off_run));
    // The parent saw the same: no replication with that child.
    parent_run.wait_for_log("it-reploff", Duration::from_secs(10));
    let parent_log = parent_run.log();
    let granted = parent_log
        .lines()
        .find(|l| l.contains("it-reploff") && l.contains("negotiated capabilities"))
        .unwrap_or_else(|| panic!("{parent_log}"));
    assert!(!granted.contains("REPLICATION"), "{granted}");
    // Its data still arrives, live.
    let mut rows = String::new();
    for _ in 0..50 {
        rows = http_get(port, "/host/it-reploff/api/v1/data?chart=system.cpu&after=-5&format=csv&points=5")
            .unwrap_or_default();
        if rows.lines().skip(1).any(|l| l.split(',').skip(1).any(|v| !v.trim().is_empty())) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(rows.lines().count() > 1, "no data from the child without replication: {rows:?}");
    assert_eq!(off_run.count_in_log("REPLAY_CHART"), 0, "{}", off_run.log());
    on_run.stop_orderly();
    off_run.stop_orderly();
    parent_run.stop_orderly();
}

#[test]
fn a_child_with_replication_disabled_streams_to_netdata_without_it() {
    if !require_netdata("replication_off_netdata") {
        return;
    }
    let base = std::env::temp_dir().join(format!("nanodata-nd-reploff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let port = free_port();
    let parent = NetdataParent::start(&base, port, ParentOptions::default());
    let off = child("ndreploff", port, false);
    let mut run = off.start_ready(&[]);
    run.wait_for_log("established communication", Duration::from_secs(30));
    assert!(!negotiated(&run).contains("REPLICATION"), "{}", negotiated(&run));
    parent.wait_for_chart("it-ndreploff", "system.cpu", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(run.count_in_log("REPLAY_CHART"), 0, "{}", run.log());
    run.stop_orderly();
    drop(parent);
    let _ = std::fs::remove_dir_all(&base);
}

/// Whether `openssl s_client` completes a handshake with `version` (`-tls1_2`, `-tls1_3`).
fn handshake_with(port: u16, version: &str) -> bool {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}"), version])
        .stdin(Stdio::null())
        .output()
        .expect("openssl must be installed for the TLS tests");
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && text.contains("Cipher is") && !text.contains("Cipher is (NONE)")
}

fn tls_server(name: &str, port: u16, dir: &Path, extra: &str) -> (Node, Run) {
    let node = Node::new(name, "ram");
    let cert = dir.join("cert.pem");
    if !cert.exists() {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem"])
            .args(["-days", "2", "-subj", "/CN=127.0.0.1"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl")
            .success();
        assert!(ok, "openssl req failed");
    }
    node.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{port}^SSL=force\n\tssl certificate = {}\n\tssl key = {}\n{extra}",
        cert.display(),
        dir.join("key.pem").display()
    ));
    let run = node.start_ready(&[]);
    (node, run)
}

#[test]
fn web_tls_version_is_the_lowest_version_accepted() {
    let dir = std::env::temp_dir().join(format!("nanodata-tlsversion-{}", std::process::id()));
    let port = free_port();
    let (_node, mut run) = tls_server("tls13", port, &dir, "");
    assert!(handshake_with(port, "-tls1_3"), "{}", run.log());
    assert!(!handshake_with(port, "-tls1_2"), "default tls version = 1.3 refuses TLS 1.2");
    run.stop_orderly();
    let port = free_port();
    let (_node, mut run) = tls_server("tls12", port, &dir, "\ttls version = 1.2\n");
    assert!(handshake_with(port, "-tls1_2"), "{}", run.log());
    assert!(handshake_with(port, "-tls1_3"), "{}", run.log());
    run.stop_orderly();
    std::fs::remove_dir_all(&dir).unwrap();
}

//! TLS as the seeds document it: a parent's self-signed certificate made with
//! `openssl req -x509 -newkey rsa:2048 -nodes … -subj /CN=…` (which OpenSSL marks `CA:TRUE`)
//! is the parent's `ssl certificate`, and the child trusts it through `CAfile` or `CApath`.
//! A nanodata child connects to a nanodata parent and to the real Netdata 1.37.1 parent that
//! way; a `CApath` with an unreadable and a junk file beside the certificate warns about each
//! and still works; a certificate that is not trusted is refused with a log line that says
//! what to do, and retried after Netdata's 5 minutes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::netdata::{free_port, http_get, require_netdata, NetdataParent, ParentOptions, API_KEY};
use common::{Node, Run};

const ESTABLISHED: &str = "established communication - sending metrics";

/// The seeds' command: a self-signed certificate and its key in `dir`, checked to be marked
/// `CA:TRUE` (the case WebPKI alone refuses). The CN is a name, not the address the child
/// connects to: neither OpenSSL nor nanodata matches names for a certificate trusted as itself.
fn seeds_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem"])
        .args(["-days", "365", "-subj", "/CN=parent.example"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl must be installed for the TLS tests");
    assert!(status.success(), "openssl req failed");
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(dir.join("cert.pem"))
        .output()
        .expect("openssl x509");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("CA:TRUE"), "the seeds' certificate is expected to be a CA:\n{text}");
    // A Netdata parent runs as the netdata user and must read them.
    let _ = Command::new("chown").arg("netdata:").arg(dir.join("cert.pem")).arg(dir.join("key.pem")).status();
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// A `CApath` directory: the certificate, a junk file, a PEM block that is no certificate,
/// and two files that cannot be read (one mode 000, which root still reads, so also a link
/// to `/proc/self/mem`, which nobody reads from offset 0).
fn ca_path(dir: &Path, cert: &Path) -> PathBuf {
    let path = dir.join("capath");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::copy(cert, path.join("parent.pem")).unwrap();
    std::fs::write(path.join("README.txt"), "certificates of the parents\n").unwrap();
    std::fs::write(path.join("broken.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        .unwrap();
    std::fs::write(path.join("secret.pem"), "private\n").unwrap();
    std::fs::set_permissions(path.join("secret.pem"), std::os::unix::fs::PermissionsExt::from_mode(0o000))
        .unwrap();
    std::os::unix::fs::symlink("/proc/self/mem", path.join("mem.pem")).unwrap();
    path
}

fn child_stream_conf(port: u16, trust: &str) -> String {
    format!(
        "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{port}:SSL\n    api key = {API_KEY}\n    \
         timeout seconds = 10\n    reconnect delay seconds = 1\n{trust}"
    )
}

/// A nanodata parent with the certificate on a port that takes TLS and plain HTTP.
fn nanodata_parent(name: &str, port: u16, cert: &Path, key: &Path) -> (Node, Run) {
    let node = Node::new(name, "ram");
    node.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{port}^SSL=optional\n\tssl certificate = {}\n\tssl key = {}\n",
        cert.display(),
        key.display()
    ));
    node.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n"));
    let run = node.start_ready(&[]);
    (node, run)
}

/// Waits until the parent on `port` lists host `hostname` (`/api/v1/info`, plain HTTP).
fn wait_for_host(port: u16, hostname: &str, log: impl Fn() -> String) {
    for _ in 0..100 {
        if http_get(port, "/api/v1/info").is_some_and(|info| info.contains(&format!("\"{hostname}\""))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the parent does not list {hostname}; parent log:\n{}", log());
}

fn assert_capath_warnings(run: &Run, capath: &Path) {
    let log = run.log();
    let warned = |file: &str| {
        let path = capath.join(file).display().to_string();
        log.lines().find(|l| l.contains("TLS trust: skipping") && l.contains(&path)).map(str::to_owned)
    };
    for (file, why) in [
        ("README.txt", "no PEM certificate in it"),
        ("broken.pem", "none of its 1 certificate(s) is usable"),
        ("mem.pem", "cannot read it"),
    ] {
        let line = warned(file).unwrap_or_else(|| panic!("no warning about {file}; log:\n{log}"));
        assert!(line.contains(why), "{line}");
    }
    // Unreadable (as a user) or without a certificate (as root): skipped either way.
    let secret = warned("secret.pem").unwrap_or_else(|| panic!("no warning about secret.pem; log:\n{log}"));
    assert!(secret.contains("cannot read it") || secret.contains("no PEM certificate"), "{secret}");
    assert!(warned("parent.pem").is_none(), "the certificate itself is used; log:\n{log}");
    assert!(!log.contains("TLS is not usable"), "{log}");
}

#[test]
fn seeds_certificate_to_a_nanodata_parent_with_cafile_and_capath() {
    let dir = std::env::temp_dir().join(format!("nanodata-seeds-nd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (cert, key) = seeds_certificate(&dir);
    let capath = ca_path(&dir, &cert);
    let port = free_port();
    let (_parent, parent_run) = nanodata_parent("seedsparent", port, &cert, &key);

    let by_file = Node::new("seedsfile", "ram");
    by_file.write_stream_conf(&child_stream_conf(port, &format!("    CAfile = {}\n", cert.display())));
    let by_path = Node::new("seedspath", "ram");
    by_path.write_stream_conf(&child_stream_conf(port, &format!("    CApath = {}\n", capath.display())));
    let mut file_run = by_file.start_ready(&[]);
    let mut path_run = by_path.start_ready(&[]);
    file_run.wait_for_log(ESTABLISHED, Duration::from_secs(20));
    path_run.wait_for_log(ESTABLISHED, Duration::from_secs(20));
    wait_for_host(port, "it-seedsfile", || parent_run.log());
    wait_for_host(port, "it-seedspath", || parent_run.log());
    assert_eq!(file_run.count_in_log("TLS handshake failed"), 0, "{}", file_run.log());
    assert_eq!(file_run.count_in_log("TLS trust"), 0, "{}", file_run.log());
    assert_capath_warnings(&path_run, &capath);
    file_run.stop_orderly();
    path_run.stop_orderly();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn seeds_certificate_to_a_netdata_parent_with_cafile_and_capath() {
    if !require_netdata("seeds_netdata") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("nanodata-seeds-netdata-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (cert, key) = seeds_certificate(&dir.join("certs"));
    let capath = ca_path(&dir, &cert);
    let port = free_port();
    let parent = NetdataParent::start(
        &dir.join("parent"),
        port,
        ParentOptions { tls: Some((cert.clone(), key)), ..Default::default() },
    );

    let by_file = Node::new("ndseedsfile", "ram");
    by_file.write_stream_conf(&child_stream_conf(port, &format!("    CAfile = {}\n", cert.display())));
    let by_path = Node::new("ndseedspath", "ram");
    by_path.write_stream_conf(&child_stream_conf(port, &format!("    CApath = {}\n", capath.display())));
    let mut file_run = by_file.start_ready(&[]);
    let mut path_run = by_path.start_ready(&[]);
    file_run.wait_for_log(ESTABLISHED, Duration::from_secs(30));
    path_run.wait_for_log(ESTABLISHED, Duration::from_secs(30));
    parent.wait_for_chart("it-ndseedsfile", "system.cpu", Duration::from_secs(30));
    parent.wait_for_chart("it-ndseedspath", "system.cpu", Duration::from_secs(30));
    assert_eq!(file_run.count_in_log("TLS handshake failed"), 0, "{}", file_run.log());
    assert_capath_warnings(&path_run, &capath);
    file_run.stop_orderly();
    path_run.stop_orderly();
    drop(parent);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_certificate_not_in_the_trust_store_is_refused_with_what_to_do() {
    let dir = std::env::temp_dir().join(format!("nanodata-seeds-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (cert, key) = seeds_certificate(&dir.join("parent"));
    let (other, _) = seeds_certificate(&dir.join("other"));
    let port = free_port();
    let (_parent, parent_run) = nanodata_parent("seedsbadparent", port, &cert, &key);
    let node = Node::new("seedsbad", "ram");
    node.write_stream_conf(&child_stream_conf(port, &format!("    CAfile = {}\n", other.display())));
    let mut run = node.start_ready(&[]);
    run.wait_for_log("next connection attempt in", Duration::from_secs(20));
    let log = run.log();
    let refused = log
        .lines()
        .find(|l| l.contains("the parent's certificate was refused"))
        .unwrap_or_else(|| panic!("no refusal line; log:\n{log}"));
    assert!(refused.contains("TLS handshake failed"), "{refused}");
    assert!(
        refused.contains("put the parent's certificate (or the CA that signed it) in [stream] CAfile or CApath, or set `ssl skip certificate verification = yes`"),
        "{refused}"
    );
    // As Netdata 1.37, a certificate failure postpones this parent for 5 minutes (± the
    // back-off's 20 % jitter).
    let next = log.lines().find(|l| l.contains("next connection attempt in")).unwrap();
    let secs: u64 = next
        .split("next connection attempt in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{next}"));
    assert!((240..=360).contains(&secs), "{next}");
    assert_eq!(run.count_in_log("established communication"), 0, "{log}");
    assert!(
        http_get(port, "/api/v1/info").is_some_and(|i| !i.contains("\"it-seedsbad\"")),
        "{}",
        parent_run.log()
    );
    run.stop_orderly();
    std::fs::remove_dir_all(&dir).unwrap();
}

//! End-to-end tests of the real `nanodata` binary in temporary directories: the machine
//! GUID, the memory modes across restarts and `kill -9`, damaged database files,
//! configuration warnings and `-W set` overrides, orderly stop on TERM.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::{assert_kept, db_points, Node, READY};

const GUID_LEN: usize = 36;

#[test]
fn machine_guid_is_created_once_and_reused() {
    let node = Node::new("guid", "ram");
    node.start_ready(&[]).stop_orderly();
    let file = node.dir.join("lib/registry/netdata.public.unique.id");
    let first = std::fs::read(&file).expect("GUID file written");
    assert_eq!(first.len(), GUID_LEN, "36 bytes, no newline: {first:?}");
    let text = String::from_utf8(first.clone()).unwrap();
    assert_eq!(text, text.to_lowercase());
    assert!(uuid::Uuid::parse_str(&text).is_ok(), "{text}");

    node.start_ready(&[]).stop_orderly();
    assert_eq!(std::fs::read(&file).unwrap(), first, "the same GUID on the second start");
}

#[test]
fn save_mode_keeps_history_across_an_orderly_restart() {
    let node = Node::new("save", "save");
    // Save mode writes its files only at stop: the points are counted through the data API.
    node.append_config("[web]\n\tbind to = 127.0.0.1:0\n");
    let mut run = node.start(&[]);
    run.wait_for_points(&node, "system.cpu", "user", 3, Duration::from_secs(15));
    let port = run.web_port().expect("the web server's address is in the log");
    let shown = common::api_points(port, "system.cpu", "user");
    assert!(shown >= 3, "the data API shows {shown} points after waiting for 3");
    run.stop_orderly();
    let before = db_points(&node.db_file("system.cpu", "user"));
    assert!(before.len() >= shown, "every point shown before the stop ({shown}) is saved: {before:?}");

    node.run_for(3);
    let after = db_points(&node.db_file("system.cpu", "user"));
    assert_kept(&before, &after);
    assert!(after.last().map(|p| p.0) > before.last().map(|p| p.0), "the second run added points");
}

#[test]
fn map_mode_keeps_history_across_kill_9() {
    let node = Node::new("map", "map");
    let mut run = node.start(&[]);
    run.wait_for_points(&node, "system.cpu", "user", 3, Duration::from_secs(15));
    run.kill_9();
    let before = db_points(&node.db_file("system.cpu", "user"));
    assert!(before.len() >= 3, "points in the mapped file after kill -9: {before:?}");

    node.run_for(3);
    assert_kept(&before, &db_points(&node.db_file("system.cpu", "user")));
}

#[test]
fn a_damaged_database_file_is_rebuilt_with_a_log_line() {
    let node = Node::new("damaged", "map");
    let mut run = node.start(&[]);
    run.wait_for_points(&node, "system.cpu", "user", 2, Duration::from_secs(15));
    run.stop_orderly();
    let file = node.db_file("system.cpu", "user");
    // Scribble over the header and cut the file short.
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.truncate(bytes.len() / 2);
    bytes[..8].copy_from_slice(b"garbage!");
    std::fs::write(&file, &bytes).unwrap();

    let mut run = node.start(&[]);
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    run.wait_for_log(&name, Duration::from_secs(10));
    run.wait_for_points(&node, "system.cpu", "user", 2, Duration::from_secs(15));
    assert!(run.is_running(), "the daemon keeps running");
    run.stop_orderly();
    let log = run.log();
    let line = log.lines().find(|l| l.contains(&name)).unwrap_or_default();
    assert!(line.contains("WARN") || line.contains("ERROR"), "a warning names the file: {line}");
    assert!(!db_points(&file).is_empty(), "the rebuilt file holds new points");
}

#[test]
fn bad_config_lines_and_unknown_keys_warn_and_the_node_still_starts() {
    let node = Node::new("badconf", "ram");
    node.append_config("[db]\n  this line has no equals sign\n  frobnicate = 12\n  mode = banana\n[nosuchsection]\n  x = 1\n");
    let mut run = node.start_ready(&[]);
    assert!(run.is_running());
    run.stop_orderly();
    let log = run.log();
    let conf = node.dir.join("nanodata.conf").display().to_string();
    let warn = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no log line about {needle:?} in:\n{log}"))
            .to_owned()
    };
    let no_equals = warn("this line has no equals sign");
    assert!(no_equals.contains(&conf) && no_equals.contains("WARN"), "{no_equals}");
    assert!(warn("frobnicate").contains("unknown"), "unknown key named");
    assert!(warn("banana").contains("mode"), "invalid value named with its key");
    assert!(warn("nosuchsection").contains("WARN"));
}

#[test]
fn w_set_overrides_the_file() {
    let node = Node::new("wset", "ram");
    // The file says ram; the command line says save, so files appear on stop.
    let mut run = node.start(&["-W", "set", "db", "mode", "save"]);
    run.wait_for_log("memory mode save", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(3));
    run.stop_orderly();
    assert!(node.db_file("system.cpu", "user").exists());

    let out = node.command(&["-W", "set", "db", "update every", "7", "-W", "get", "db", "update every", "x"]);
    assert_eq!(out.trim(), "7");
    let out = node.command(&["-W", "get", "db", "update every", "x"]);
    assert_eq!(out.trim(), "1", "the file's value without the override");
}

#[test]
fn dumpconfig_prints_the_effective_configuration() {
    let node = Node::new("dump", "ram");
    let out = node.command(&["-W", "set", "db", "retention", "123", "-W", "dumpconfig"]);
    assert!(out.contains("[db]"), "{out}");
    assert!(out.lines().any(|l| l.trim() == "retention = 123"), "{out}");
    assert!(out
        .lines()
        .any(|l| l.trim_start().starts_with("# update every") || l.trim() == "update every = 1"));
}

#[test]
fn term_stops_within_two_seconds_and_removes_the_pid_file() {
    let node = Node::new("term", "save");
    let pid_file = node.dir.join("nanodata.pid");
    let pid_arg = pid_file.display().to_string();
    let mut run = node.start_ready(&["-P", &pid_arg]);
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert_eq!(pid, run.pid());
    let took = run.stop_orderly();
    assert!(took < Duration::from_secs(2), "stopped in {took:?}");
    assert!(!Path::new(&pid_file).exists(), "pid file removed");
}

#[test]
fn hup_reopens_the_error_log_after_logrotate() {
    let node = Node::new("hup", "ram");
    let mut run = node.start_ready(&[]);
    let log = node.dir.join("log/error.log");
    let rotated = node.dir.join("log/error.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    // SAFETY: kill(2) on the pid of a child we own.
    unsafe { libc::kill(run.pid() as i32, libc::SIGHUP) };
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("log files reopened") {
        assert!(start.elapsed() < Duration::from_secs(10), "no new error.log after SIGHUP");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(run.is_running());
    run.stop_orderly();
    assert!(std::fs::read_to_string(&rotated).unwrap().contains(READY));
    assert!(
        std::fs::read_to_string(&log).unwrap().contains("nanodata stopped"),
        "later lines go to the new file"
    );
}

//! `[global] run as user` under the real daemon: started as root it hands its directories
//! to the user and switches user and groups for good (the kernel's view in
//! `/proc/<pid>/status`), keeps collecting, serving and storing, and its plugins run as the
//! user; what an earlier root run left in the cache is handed over, links planted there are
//! not followed; a missing user, or directories the user could not reach, are logged and
//! root goes on; started as another user there is nothing to switch.
//!
//! Needs root (CI runs as root); `common::require` decides what happens elsewhere.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::netdata::{free_port, http_get};
use common::{wait_until, Node, BIN, READY};

/// True when the test may run (as root); otherwise `common::require` decides.
fn require_root(_test: &str) -> bool {
    common::require(common::Dep::Root, "switching users needs root")
}

/// A user made for one test with `useradd`, with its own primary group and one
/// supplementary group; removed (with the groups) when dropped.
struct TestUser {
    name: String,
    primary: String,
    extra: String,
    uid: u32,
    gid: u32,
    extra_gid: u32,
}

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn id_of(db: &str, name: &str) -> u32 {
    let out = Command::new("getent").args([db, name]).output().expect("getent");
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    line.split(':')
        .nth(2)
        .and_then(|f| f.trim().parse().ok())
        .unwrap_or_else(|| panic!("getent {db} {name}: {line:?}"))
}

impl TestUser {
    fn create(tag: &str) -> TestUser {
        let pid = std::process::id();
        let (name, primary, extra) =
            (format!("ndru{tag}{pid}"), format!("ndrp{tag}{pid}"), format!("ndrx{tag}{pid}"));
        // Leftovers of an interrupted run with the same pid would make useradd fail.
        let _ = Command::new("userdel").args(["-f", &name]).output();
        for g in [&primary, &extra] {
            let _ = Command::new("groupdel").arg(g).output();
        }
        run("groupadd", &[&primary]);
        run("groupadd", &[&extra]);
        run(
            "useradd",
            &[
                "-M",
                "-N",
                "-g",
                &primary,
                "-G",
                &extra,
                "-d",
                "/nonexistent",
                "-s",
                "/usr/sbin/nologin",
                &name,
            ],
        );
        let (uid, gid, extra_gid) =
            (id_of("passwd", &name), id_of("group", &primary), id_of("group", &extra));
        TestUser { name, primary, extra, uid, gid, extra_gid }
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        // -f: after a failed test, a plugin of the killed daemon may still be exiting.
        let _ = Command::new("userdel").args(["-f", &self.name]).output();
        let _ = Command::new("groupdel").arg(&self.primary).output();
        let _ = Command::new("groupdel").arg(&self.extra).output();
    }
}

/// `Uid:`, `Gid:` (real, effective, saved, filesystem) and `Groups:` of a process.
fn ids_of(pid: u32) -> (Vec<u32>, Vec<u32>, BTreeSet<u32>) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status of a live process");
    let field = |name: &str| -> Vec<u32> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
            .split_whitespace()
            .map(|n| n.parse().expect("a number"))
            .collect()
    };
    (field("Uid:"), field("Gid:"), field("Groups:").into_iter().collect())
}

/// The pids whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else { continue };
        let ppid =
            status.lines().find_map(|l| l.strip_prefix("PPid:")).and_then(|v| v.trim().parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

fn owner(path: &Path) -> (u32, u32) {
    let m = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (m.uid(), m.gid())
}

/// A plugin that defines `test.runas` and collects every second.
fn write_plugin(node: &Node) {
    let dir = node.dir.join("plugins.d");
    std::fs::create_dir_all(&dir).unwrap();
    node.append_config(&format!("[directories]\n\tplugins = {}\n", dir.display()));
    let path = dir.join("runas.plugin");
    std::fs::write(
        &path,
        "#!/bin/sh\n\
         echo \"CHART test.runas '' 'Test' 'n' '' '' line 1 $1\"\n\
         echo \"DIMENSION v '' absolute 1 1\"\n\
         i=0\n\
         while :; do echo 'BEGIN test.runas'; echo \"SET v = $i\"; echo END; i=$((i+1)); sleep 1; done\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn root_switches_to_the_user_and_its_groups_and_keeps_working() {
    if !require_root("root_switches_to_the_user_and_its_groups_and_keeps_working") {
        return;
    }
    let user = TestUser::create("a");
    let node = Node::new("runas", "map");
    write_plugin(&node);
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut run =
        node.start(&["-W", "set", "global", "run as user", &user.name, "-W", "set", "web", "bind to", &bind]);
    run.wait_for_log(READY, Duration::from_secs(15));

    let log = run.log();
    assert!(log.contains(&format!("running as user '{}' (uid {}", user.name, user.uid)), "log:\n{log}");
    let (uid, gid, groups) = ids_of(run.pid());
    assert_eq!(uid, [user.uid; 4], "real, effective, saved and filesystem uid");
    assert_eq!(gid, [user.gid; 4], "real, effective, saved and filesystem gid");
    assert_eq!(groups, BTreeSet::from([user.gid, user.extra_gid]), "supplementary groups of the user");

    // Every thread, not just the main one (set*id applies to the whole process).
    let tasks: Vec<u32> = std::fs::read_dir(format!("/proc/{}/task", run.pid()))
        .expect("tasks")
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect();
    assert!(tasks.len() > 1, "the collector threads run: {tasks:?}");
    for task in tasks {
        let status =
            std::fs::read_to_string(format!("/proc/{}/task/{task}/status", run.pid())).unwrap_or_default();
        let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap_or("").to_owned();
        if !status.is_empty() {
            let ids: Vec<u32> = uid_line[4..].split_whitespace().map(|n| n.parse().unwrap()).collect();
            assert_eq!(ids, [user.uid; 4], "thread {task}");
        }
    }

    for dir in ["cache", "lib", "log"] {
        assert_eq!(owner(&node.dir.join(dir)), (user.uid, user.gid), "{dir} directory given to the user");
    }
    assert_eq!(owner(&node.dir.join("log/error.log")), (user.uid, user.gid), "the error log stays writable");
    assert_eq!(owner(&node.dir.join("lib/registry")).0, user.uid, "the GUID is written as the user");

    // Serves: /api/v1/info names this node.
    let info = http_get(port, "/api/v1/info").expect("GET /api/v1/info answers 200");
    let guid = node.guid();
    assert!(!guid.is_empty() && info.contains(&guid), "info names GUID {guid:?}: {info}");

    // Stores: map mode writes the dimension files as the user, live.
    run.wait_for_points(&node, "system.cpu", "user", 3, Duration::from_secs(20));
    let file = node.db_file("system.cpu", "user");
    assert_eq!(owner(&file).0, user.uid, "{} is the user's", file.display());

    // The plugin runs as the user, and its chart arrives.
    wait_until("the plugin's chart test.runas in /api/v1/charts", Duration::from_secs(15), &[&run], || {
        http_get(port, "/api/v1/charts").is_some_and(|c| c.contains("\"test.runas\""))
    });
    let children = children_of(run.pid());
    assert!(!children.is_empty(), "the plugin runs as a child of the daemon");
    for child in children {
        let (uid, gid, groups) = ids_of(child);
        assert_eq!((uid, gid), (vec![user.uid; 4], vec![user.gid; 4]), "plugin process {child}");
        assert_eq!(groups, BTreeSet::from([user.gid, user.extra_gid]), "plugin process {child}");
    }

    // After logrotate, SIGHUP: the user creates the new error log in its log directory.
    let log = node.dir.join("log/error.log");
    std::fs::rename(&log, node.dir.join("log/error.log.1")).unwrap();
    // SAFETY: kill(2) on the pid of a child we own.
    unsafe { libc::kill(run.pid() as i32, libc::SIGHUP) };
    wait_until("a new error.log after SIGHUP", Duration::from_secs(10), &[&run], || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("log files reopened"))
    });
    assert_eq!(owner(&log), (user.uid, user.gid), "the reopened log is the user's");
    run.stop_orderly();
}

#[test]
fn a_missing_user_is_logged_and_root_goes_on() {
    if !require_root("a_missing_user_is_logged_and_root_goes_on") {
        return;
    }
    let node = Node::new("runas-missing", "ram");
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut run = node.start(&["-u", "nanodata-no-such-user", "-W", "set", "web", "bind to", &bind]);
    run.wait_for_log(READY, Duration::from_secs(15));
    assert_eq!(
        run.count_in_log(
            "[global] run as user = nanodata-no-such-user: there is no such user; going on as root"
        ),
        1,
        "log:\n{}",
        run.log()
    );
    let (uid, gid, _) = ids_of(run.pid());
    assert_eq!((uid, gid), (vec![0; 4], vec![0; 4]));
    assert!(http_get(port, "/api/v1/info").is_some(), "serves as root");
    run.stop_orderly();
}

#[test]
fn directories_the_user_cannot_reach_keep_root_with_the_reason() {
    if !require_root("directories_the_user_cannot_reach_keep_root_with_the_reason") {
        return;
    }
    let user = TestUser::create("b");
    let node = Node::new("runas-closed", "ram");
    // Like a checkout in /root or a `mktemp -d` directory.
    std::fs::set_permissions(&node.dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut run = node.start(&["-u", &user.name]);
    run.wait_for_log(READY, Duration::from_secs(15));
    let want =
        format!("[global] run as user = {}: the user could not enter {}", user.name, node.dir.display());
    assert_eq!(run.count_in_log(&want), 1, "log:\n{}", run.log());
    let (uid, _, _) = ids_of(run.pid());
    assert_eq!(uid, vec![0; 4]);
    assert_eq!(owner(&node.dir.join("cache")).0, 0, "nothing was given away");
    run.stop_orderly();
}

#[test]
fn not_started_as_root_there_is_nothing_to_switch() {
    if !require_root("not_started_as_root_there_is_nothing_to_switch") {
        return;
    }
    let user = TestUser::create("c");
    let node = Node::new("runas-user", "ram");
    for dir in [&node.dir, &node.dir.join("log")] {
        std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid)).unwrap();
    }
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["-D", "-c", &node.config_arg(), "-u", "root", "-W", "set", "web", "bind to"])
        .arg(format!("127.0.0.1:{port}"))
        .uid(user.uid)
        .gid(user.gid)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nanodata");
    let log = node.dir.join("log/error.log");
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let start = Instant::now();
    while !read().contains(READY) && start.elapsed() < Duration::from_secs(15) {
        assert!(matches!(child.try_wait(), Ok(None)), "nanodata exited early; log:\n{}", read());
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = read();
    let (uid, _, _) = ids_of(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains(READY), "not ready; log:\n{text}");
    let want = format!("not started as root (uid {}): no switch to user 'root' is needed", user.uid);
    assert!(text.contains(&want), "log:\n{text}");
    assert_eq!(uid, vec![user.uid; 4]);
}

#[test]
fn what_a_root_run_left_is_given_to_the_user_but_links_are_not_followed() {
    if !require_root("what_a_root_run_left_is_given_to_the_user_but_links_are_not_followed") {
        return;
    }
    let user = TestUser::create("d");
    let node = Node::new("runas-upgrade", "map");
    // An earlier version ran as root: its database files are root's.
    let mut run = node.start(&[]);
    run.wait_for_points(&node, "system.cpu", "user", 2, Duration::from_secs(20));
    run.stop_orderly();
    let file = node.db_file("system.cpu", "user");
    assert_eq!(owner(&file).0, 0);
    let before = common::db_points(&file);

    // Files outside, reachable through a symbolic link and a hard link planted in the cache.
    let (secret, secret2) = (node.dir.join("secret"), node.dir.join("secret2"));
    std::fs::write(&secret, b"x").unwrap();
    std::fs::write(&secret2, b"x").unwrap();
    std::os::unix::fs::symlink(&secret, node.dir.join("cache/link")).unwrap();
    std::fs::hard_link(&secret2, node.dir.join("cache/hardlink")).unwrap();

    let mut run = node.start(&["-u", &user.name]);
    run.wait_for_log(READY, Duration::from_secs(15));
    assert_eq!(ids_of(run.pid()).0, vec![user.uid; 4]);
    assert_eq!(owner(&file), (user.uid, user.gid), "the root run's file is the user's now");
    assert_eq!(owner(file.parent().unwrap()).0, user.uid, "and its chart directory");
    // The user's run keeps writing into the file the root run made.
    let want = before.len() + 2;
    run.wait_for_points(&node, "system.cpu", "user", want, Duration::from_secs(20));
    run.stop_orderly();
    common::assert_kept(&before, &common::db_points(&file));
    assert_eq!(owner(&secret).0, 0, "a symbolic link is not followed");
    assert_eq!(owner(&secret2).0, 0, "a hard-linked file is left alone");
    assert_eq!(owner(&node.dir.join("cache/link")).0, 0, "the link itself is left alone");
}

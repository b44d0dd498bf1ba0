//! The shipped role configurations of `conf.d/roles/`, started as they are: only the
//! directories, the loopback ports, the destination, the host name and what a test adds on
//! the command line (`-W set…`) differ from the files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Node, Run, READY};

/// `conf.d/roles/<role>`.
pub fn role_dir(role: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf.d/roles").join(role)
}

/// Starts `role` from its directory: `port` is its web port (none for a node without a web
/// server), `upstream` the `[stream] destination` it streams to (a list, tried in order),
/// `extra` more `-W` overrides: `(verb, section, option, value)` with verb `set`, `set2`
/// (stream.conf) or `set3` (exporting.conf). Fails when the node complains about any option of
/// the shipped files.
pub fn start_role(
    node: &Node,
    role: &str,
    hostname: &str,
    port: Option<u16>,
    upstream: Option<&str>,
    extra: &[(&str, &str, &str, String)],
) -> Run {
    let dir = role_dir(role);
    let d = node.dir.display().to_string();
    let mut set: Vec<(&str, &str, String, String)> = vec![
        ("set", "directories", "config".into(), dir.display().to_string()),
        ("set", "directories", "cache".into(), format!("{d}/cache")),
        ("set", "directories", "lib".into(), format!("{d}/lib")),
        ("set", "directories", "log".into(), format!("{d}/log")),
        ("set", "logs", "error".into(), format!("{d}/log/error.log")),
        ("set", "logs", "health".into(), "none".into()),
        ("set", "global", "hostname".into(), hostname.into()),
    ];
    if let Some(p) = port {
        set.push(("set", "web", "bind to".into(), format!("127.0.0.1:{p}")));
    }
    if let Some(dest) = upstream {
        set.push(("set2", "stream", "destination".into(), dest.into()));
        set.push(("set2", "stream", "reconnect delay seconds".into(), "1".into()));
    }
    for (verb, section, option, value) in extra {
        set.push((verb, section, (*option).into(), value.clone()));
    }
    let mut args: Vec<&str> = Vec::new();
    for (verb, section, option, value) in &set {
        args.extend(["-W", verb, section, option.as_str(), value.as_str()]);
    }
    let config = dir.join("nanodata.conf").display().to_string();
    let mut run = node.start_config(&config, &args);
    run.wait_for_log(READY, Duration::from_secs(10));
    // A shipped configuration is understood in full: no option is unknown or invalid.
    let log = run.log();
    let complaints: Vec<&str> =
        log.lines().filter(|l| l.contains("config: ") && !l.contains("config: loaded")).collect();
    assert!(complaints.is_empty(), "{role}: {complaints:#?}");
    run
}

//! Storage tiers and `dbengine` (issue 17), end to end with the daemon:
//! - the seeds' parent recipe, literally (`default memory mode = dbengine` in the API key's
//!   section): a headless child streams to a parent; both stop; after the restart the
//!   child's history is still on the parent, point for point, in tier 0 and in tier 1;
//! - `kill -9` of a dbengine node keeps every tier.
//!
//! Tier 1 and 2 consolidate 2 points each here (`dbengine tier N update every iterations`)
//! so that they fill in seconds instead of minutes and hours.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::netdata::{free_port, http_get, parse_csv, API_KEY};
use common::{wait_until, Node, Run};

const FAST_TIERS: &str =
    "[db]\n\tdbengine tier 1 update every iterations = 2\n\tdbengine tier 2 update every iterations = 2\n";

/// `(t, value)` of `system.uptime` on `host` (`""`: the node itself) for `[after, before]`,
/// every stored point, oldest first; `extra` adds request parameters.
fn uptime(port: u16, host: &str, after: i64, before: i64, extra: &str) -> Vec<(i64, f64)> {
    let prefix = if host.is_empty() { String::new() } else { format!("/host/{host}") };
    let path = format!(
        "{prefix}/api/v1/data?chart=system.uptime&after={after}&before={before}&format=csv&options=seconds{extra}"
    );
    let Some(body) = http_get(port, &path) else { return Vec::new() };
    let (_, rows) = parse_csv(&body);
    let mut out: Vec<(i64, f64)> =
        rows.into_iter().filter_map(|(t, v)| v.first().copied().flatten().map(|v| (t, v))).collect();
    out.sort_by_key(|p| p.0);
    out
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn parent(node: &Node) -> Run {
    node.start_ready(&[])
}

fn child(node: &Node) -> Run {
    node.start_ready(&[])
}

#[test]
fn the_seeds_parent_recipe_keeps_a_childs_history_across_a_restart() {
    let port = free_port();
    let parent_node = Node::new("recipe-parent", "ram");
    parent_node.append_config(&format!("{FAST_TIERS}[web]\n\tbind to = 127.0.0.1:{port}\n"));
    // The recipe, as the seeds write it.
    parent_node.write_stream_conf(&format!(
        "[{API_KEY}]\n\tenabled = yes\n\tdefault history = 3600\n\tdefault memory mode = dbengine\n\t\
         health enabled by default = auto\n\tallow from = *\n"
    ));
    let child_node = Node::new("recipe-kid", "none");
    child_node.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{port}\n\tapi key = {API_KEY}\n\t\
         reconnect delay seconds = 1\n"
    ));
    let host = "it-recipe-kid";

    let mut parent_run = parent(&parent_node);
    let mut child_run = child(&child_node);
    let start = now();
    // The window below needs 8 s of data ending up to 5 s before now.
    wait_until(
        "16 s of the child's uptime on the parent",
        Duration::from_secs(40),
        &[&parent_run, &child_run],
        || uptime(port, host, start - 60, now(), "").len() >= 16,
    );
    // A window on tier 2's grid (4 s), wholly in the past.
    let before = (now() - 2) / 4 * 4;
    let after = before - 8 + 1;
    let stored = uptime(port, host, after, before, "&points=0");
    assert_eq!(stored.len(), 8, "every second of the window: {stored:?}");
    let tier1 = uptime(port, host, after, before, "&tier=1&points=4");
    assert_eq!(tier1.len(), 4, "tier 1 has a point every 2 s: {tier1:?}");
    // Each tier-1 point is the average of its two seconds (kept as 32-bit floats: 1e-6).
    for (k, (t, v)) in tier1.iter().enumerate() {
        let pair = &stored[2 * k..2 * k + 2];
        let want = (pair[0].1 + pair[1].1) / 2.0;
        assert_eq!(*t, pair[1].0, "{tier1:?} vs {stored:?}");
        assert!((v - want).abs() <= 1e-6 * want.abs(), "{tier1:?} vs {stored:?}");
    }
    child_run.stop_orderly();
    parent_run.stop_orderly();
    assert!(parent_node.dir.join("cache").join(child_node.guid()).is_dir(), "the child's files");

    // Both come back; the child has no history of its own (memory mode none), so what the
    // parent shows of the old window can only come from its files.
    let parent_run = parent(&parent_node);
    let child_run = child(&child_node);
    assert!(
        parent_run.log().contains("db: dbengine: ")
            && !parent_run.log().contains("db: dbengine: 0 dimension files"),
        "the restart counts the files on disk: {}",
        parent_run.log()
    );
    wait_until("the child is back", Duration::from_secs(30), &[&parent_run, &child_run], || {
        uptime(port, host, now() - 5, now(), "").len() >= 2
    });
    assert_eq!(uptime(port, host, after, before, "&points=0"), stored, "tier 0 after the restart");
    assert_eq!(uptime(port, host, after, before, "&tier=1&points=4"), tier1, "tier 1 after the restart");
    let info = http_get(port, &format!("/host/{host}/api/v1/info")).expect("info");
    assert!(info.contains("\"memory-mode\": \"dbengine\""), "{info}");
}

#[test]
fn kill_9_keeps_every_tier_of_a_dbengine_node() {
    let port = free_port();
    let node = Node::new("tiers-kill", "dbengine");
    node.append_config(&format!("{FAST_TIERS}[web]\n\tbind to = 127.0.0.1:{port}\n"));
    let mut run = node.start_ready(&[]);
    let start = now();
    // The window below needs 8 s of data ending up to 4 s before now.
    wait_until("16 s of uptime", Duration::from_secs(40), &[&run], || {
        uptime(port, "", start - 60, now(), "").len() >= 16
    });
    let before = (now() - 1) / 4 * 4;
    let after = before - 8 + 1;
    let reads: Vec<Vec<(i64, f64)>> = ["&points=0", "&tier=1&points=4", "&tier=2&points=2"]
        .iter()
        .map(|extra| uptime(port, "", after, before, extra))
        .collect();
    assert_eq!(reads.iter().map(Vec::len).collect::<Vec<_>>(), vec![8, 4, 2], "{reads:?}");
    run.kill_9();
    let run = node.start_ready(&[]);
    wait_until("the node serves again", Duration::from_secs(20), &[&run], || {
        !uptime(port, "", now() - 5, now(), "").is_empty()
    });
    for (extra, read) in ["&points=0", "&tier=1&points=4", "&tier=2&points=2"].iter().zip(&reads) {
        assert_eq!(&uptime(port, "", after, before, extra), read, "{extra} after kill -9");
    }
}

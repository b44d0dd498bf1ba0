//! A well-behaved nanodata child streaming to a parent under test, as a witness: the attack
//! tests check that it loses no second on the parent while another child misbehaves.

use std::time::{Duration, Instant};

use super::netdata::{http_get, API_KEY};
use super::{Node, Run};
use nanodata::clock::now_realtime_sec;

/// Starts the witness `name` (host `it-<name>`), streaming to the parent on `port`.
pub fn start(name: &str, port: u16) -> (Node, Run) {
    let node = Node::new(name, "ram");
    node.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));
    let run = node.start_ready(&[]);
    (node, run)
}

/// The witness's system.cpu rows on the parent for `[after, before]` as
/// `(time, all values present)`.
pub fn rows(port: u16, name: &str, after: i64, before: i64) -> Vec<(i64, bool)> {
    let body = http_get(
        port,
        &format!(
            "/host/it-{name}/api/v1/data?chart=system.cpu&after={after}&before={before}&points=0&format=csv&options=seconds"
        ),
    )
    .unwrap_or_default();
    body.lines()
        .skip(1)
        .filter_map(|l| {
            let mut fields = l.split(',');
            let t = fields.next()?.parse::<f64>().ok()? as i64;
            let complete = fields.all(|v| !v.is_empty() && v != "null" && v.parse::<f64>().is_ok());
            Some((t, complete))
        })
        .collect()
}

/// The newest second the parent holds for the witness (0: none in the last 10 s).
pub fn newest(port: u16, name: &str) -> i64 {
    let now = now_realtime_sec();
    rows(port, name, now - 10, now).iter().map(|r| r.0).max().unwrap_or(0)
}

/// Waits (up to 30 s) until the parent holds the witness's data up to `at_least`.
pub fn wait_for(port: u16, name: &str, at_least: i64, parent: &Run) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if newest(port, name) >= at_least {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("the witness '{name}' has no data up to {at_least} on the parent; log:\n{}", parent.log());
}

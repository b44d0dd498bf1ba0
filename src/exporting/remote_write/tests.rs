//! Names and label sets as Netdata's remote write forms them (protocol.md §8.4, §10), made
//! valid for Prometheus, and a batch read back through the decompressor.

use super::*;

#[test]
fn stored_names_like_netdata() {
    assert_eq!(
        stored_metric_name("netdata", "system.cpu", "percentage", Reduction::Average),
        "netdata_system_cpu_percentage_average"
    );
    assert_eq!(
        stored_metric_name("netdata", "system.cpu", "%", Reduction::Average),
        "netdata_system_cpu_percent_average"
    );
    assert_eq!(
        stored_metric_name("netdata", "net.net", "kilobits/s", Reduction::Average),
        "netdata_net_net_kilobits_persec_average"
    );
    assert_eq!(stored_metric_name("netdata", "net.net", "kilobits/s", Reduction::Sum), "netdata_net_net_sum");
    assert_eq!(
        stored_metric_name("netdata", "disk.io", "KiB/s", Reduction::Average),
        "netdata_disk_io_KiB_persec_average"
    );
    assert_eq!(
        stored_metric_name("netdata", "apps.mem", "MiB", Reduction::Average),
        "netdata_apps_mem_MiB_average"
    );
    // Netdata's quirk kept: no units at all leave a lone `_`.
    assert_eq!(stored_metric_name("netdata", "x.y", "", Reduction::Average), "netdata_x_y__average");
}

#[test]
fn collected_names_like_netdata() {
    assert_eq!(collected_metric_name("netdata", "system.cpu", None, true), "netdata_system_cpu_total");
    assert_eq!(collected_metric_name("netdata", "system.load", None, false), "netdata_system_load");
    assert_eq!(
        collected_metric_name("netdata", "system.io", Some("in-bytes"), true),
        "netdata_system_io_in_bytes_total"
    );
}

#[test]
fn names_are_made_valid_for_prometheus() {
    assert_eq!(sanitize_metric_name("nd.v1:x-y"), "nd_v1:x_y");
    assert_eq!(sanitize_metric_name("1st"), "_1st");
    assert_eq!(sanitize_metric_name("caf\u{e9}"), "caf_");
    assert_eq!(sanitize_label_name("a:b"), "a_b");
    assert_eq!(sanitize_label_name("_os_name"), "_os_name");
    assert_eq!(sanitize_label_name("9lives"), "_9lives");
    assert_eq!(sanitize_label_name(""), "");
    // A prefix with characters Prometheus refuses.
    assert_eq!(
        stored_metric_name("my-dc.nodes", "system.ram", "MiB", Reduction::Average),
        "my_dc_nodes_system_ram_MiB_average"
    );
}

#[test]
fn headers_are_the_specs() {
    assert_eq!(
        headers(),
        [
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/x-protobuf"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ]
    );
    assert_eq!(user_agent(), format!("nanodata/{}", env!("CARGO_PKG_VERSION")));
}

pub(super) type Series = (Vec<(String, String)>, Vec<(f64, i64)>);

/// The series of a block, labels and samples as text, read with an independent walk of the
/// protobuf (just enough of it for these tests).
pub(super) fn series_of(block: &[u8]) -> Vec<Series> {
    fn var(b: &[u8], at: &mut usize) -> u64 {
        let mut v = 0;
        let mut shift = 0;
        loop {
            let x = b[*at];
            *at += 1;
            v |= u64::from(x & 0x7f) << shift;
            shift += 7;
            if x < 0x80 {
                return v;
            }
        }
    }
    fn sub<'a>(b: &'a [u8], at: &mut usize) -> &'a [u8] {
        let n = var(b, at) as usize;
        let s = &b[*at..*at + n];
        *at += n;
        s
    }
    let raw = snappy::decompress(block, 1 << 20).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        assert_eq!(var(&raw, &mut at), 0x0a);
        let ts = sub(&raw, &mut at);
        let (mut labels, mut samples) = (Vec::new(), Vec::new());
        let mut k = 0;
        while k < ts.len() {
            let tag = var(ts, &mut k);
            let m = sub(ts, &mut k);
            let mut j = 0;
            if tag == 0x0a {
                let (mut n, mut v) = (String::new(), String::new());
                while j < m.len() {
                    let t = var(m, &mut j);
                    let s = String::from_utf8(sub(m, &mut j).to_vec()).unwrap();
                    if t == 0x0a {
                        n = s
                    } else {
                        v = s
                    }
                }
                labels.push((n, v));
            } else {
                let (mut v, mut t) = (0.0, 0);
                while j < m.len() {
                    match var(m, &mut j) {
                        0x09 => {
                            v = f64::from_le_bytes(m[j..j + 8].try_into().unwrap());
                            j += 8;
                        }
                        _ => t = var(m, &mut j) as i64,
                    }
                }
                samples.push((v, t));
            }
        }
        out.push((labels, samples));
    }
    out
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn a_batch_carries_host_info_and_dimensions_sorted() {
    let mut b = Batch::new();
    b.host_info(
        "router-1",
        "netdata",
        "v1.37.1",
        &[("_os_name", "OpenWrt"), ("rack.position", "3"), ("instance", "spoofed"), ("empty", "")],
        1_700_000_000_123,
    );
    let metric = stored_metric_name("netdata", "system.cpu", "percentage", Reduction::Average);
    b.dimension(&metric, "system.cpu", "cpu", "user", "router-1", 12.5, 1_700_000_000_000);
    let collected = collected_metric_name("netdata", "system.io", Some("in"), true);
    b.dimension(&collected, "system.io", "disk", "", "router-1", 4096.0, 1_700_000_000_000);
    assert_eq!((b.series_count(), b.sample_count()), (3, 3));
    let got = series_of(b.body().unwrap());
    assert_eq!(
        got,
        vec![
            (
                pairs(&[
                    ("__name__", "netdata_info"),
                    ("_os_name", "OpenWrt"),
                    ("application", "netdata"),
                    ("instance", "router-1"),
                    ("rack_position", "3"),
                    ("version", "v1.37.1"),
                ]),
                vec![(1.0, 1_700_000_000_123)]
            ),
            (
                pairs(&[
                    ("__name__", "netdata_system_cpu_percentage_average"),
                    ("chart", "system.cpu"),
                    ("dimension", "user"),
                    ("family", "cpu"),
                    ("instance", "router-1"),
                ]),
                vec![(12.5, 1_700_000_000_000)]
            ),
            (
                pairs(&[
                    ("__name__", "netdata_system_io_in_total"),
                    ("chart", "system.io"),
                    ("family", "disk"),
                    ("instance", "router-1"),
                ]),
                vec![(4096.0, 1_700_000_000_000)]
            ),
        ]
    );
    b.clear();
    assert_eq!(series_of(b.body().unwrap()), vec![]);
}

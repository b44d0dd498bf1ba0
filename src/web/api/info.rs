//! `/api/v1/info` (protocol.md §8.1): keys and their order as Netdata 1.37.1 emits them.

use std::collections::BTreeSet;

use crate::rrd::Host;
use crate::web::context::{Context, API_VERSION};
use crate::web::json;

/// The system facts `/api/v1/info` shows about one host, taken from its `NETDATA_*`
/// variables: this node's own [`SystemInfo`](crate::daemon::sysinfo::SystemInfo) (the one
/// the STREAM handshake sends) or what a child sent; `unknown` where a value is missing.
struct Facts {
    cores: String,
    ram_total: String,
    kernel_name: String,
    kernel_version: String,
    architecture: String,
    os_name: String,
    os_id: String,
    os_id_like: String,
    os_version: String,
    os_version_id: String,
    os_detection: String,
}

impl Facts {
    /// Looks every fact up with `get`; the OS names are `{os}NAME`, `{os}ID`, … (a child's
    /// request renames `NETDATA_SYSTEM_OS_*` to `NETDATA_HOST_OS_*`).
    fn lookup<'a>(os: &str, get: impl Fn(&str) -> Option<&'a str>) -> Facts {
        let value = |k: &str| get(k).unwrap_or("unknown").to_string();
        let os_value = |k: &str| value(&format!("{os}{k}"));
        Facts {
            cores: value("NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT"),
            ram_total: value("NETDATA_SYSTEM_TOTAL_RAM"),
            kernel_name: value("NETDATA_SYSTEM_KERNEL_NAME"),
            kernel_version: value("NETDATA_SYSTEM_KERNEL_VERSION"),
            architecture: value("NETDATA_SYSTEM_ARCHITECTURE"),
            os_name: os_value("NAME"),
            os_id: os_value("ID"),
            os_id_like: os_value("ID_LIKE"),
            os_version: os_value("VERSION"),
            os_version_id: os_value("VERSION_ID"),
            os_detection: os_value("DETECTION"),
        }
    }
}

/// The body of `/api/v1/info` for `host`.
pub fn info(ctx: &Context, host: &Host) -> String {
    let local = ctx.hosts.localhost();
    let is_local = local.guid() == host.guid();
    let sys = match host.child_status() {
        _ if is_local => Facts::lookup("NETDATA_SYSTEM_OS_", |k| ctx.system.get(k)),
        Some(child) => Facts::lookup("NETDATA_HOST_OS_", |k| child.info(k)),
        None => Facts::lookup("", |_| None),
    };
    let hosts = ctx.hosts.all();
    let mut o = String::with_capacity(4096);
    let mut first = true;
    o.push_str("{\n");
    json::key(&mut o, &mut first, "version");
    json::str(&mut o, API_VERSION);
    json::key(&mut o, &mut first, "uid");
    json::str(&mut o, host.guid());
    json::key(&mut o, &mut first, "mirrored_hosts");
    o.push('[');
    for (i, h) in hosts.iter().enumerate() {
        if i > 0 {
            o.push_str(", ");
        }
        json::str(&mut o, h.hostname());
    }
    o.push(']');
    json::key(&mut o, &mut first, "mirrored_hosts_status");
    o.push_str("[\n");
    for (i, h) in hosts.iter().enumerate() {
        if i > 0 {
            o.push_str(",\n");
        }
        o.push_str("\t\t{ \"guid\": ");
        json::str(&mut o, h.guid());
        o.push_str(", \"hostname\": ");
        json::str(&mut o, h.hostname());
        let (reachable, hops) = match h.child_status() {
            _ if h.guid() == local.guid() => (true, 0),
            Some(c) => (c.reachable, c.hops),
            None => (true, 1),
        };
        o.push_str(&format!(
            ", \"reachable\": {reachable}, \"hops\": {hops}, \"claim_id\": null, \"node_id\": null }}"
        ));
    }
    o.push_str("\n\t]");
    json::key(&mut o, &mut first, "alarms");
    let counts = super::alarms::info_counts(ctx, host);
    o.push_str(&format!(
        "{{\n\t\t\"normal\": {},\n\t\t\"warning\": {},\n\t\t\"critical\": {}\n\t}}",
        counts.normal, counts.warning, counts.critical
    ));
    let strings: [(&str, &str); 11] = [
        ("os_name", &sys.os_name),
        ("os_id", &sys.os_id),
        ("os_id_like", &sys.os_id_like),
        ("os_version", &sys.os_version),
        ("os_version_id", &sys.os_version_id),
        ("os_detection", &sys.os_detection),
        ("cores_total", &sys.cores),
        ("total_disk_space", "unknown"),
        ("cpu_freq", "unknown"),
        ("ram_total", &sys.ram_total),
        ("is_k8s_node", "false"),
    ];
    for (k, v) in strings {
        json::key(&mut o, &mut first, k);
        json::str(&mut o, v);
    }
    let strings: [(&str, &str); 7] = [
        ("kernel_name", &sys.kernel_name),
        ("kernel_version", &sys.kernel_version),
        ("architecture", &sys.architecture),
        ("virtualization", "unknown"),
        ("virt_detection", "unknown"),
        ("container", "unknown"),
        ("container_detection", "unknown"),
    ];
    for (k, v) in strings {
        json::key(&mut o, &mut first, k);
        json::str(&mut o, v);
    }
    json::key(&mut o, &mut first, "host_labels");
    o.push_str("{\n");
    let mut labels: Vec<(String, String)> = host.labels().into_iter().map(|l| (l.name, l.value)).collect();
    if is_local {
        let auto = [
            ("_os_name", sys.os_name.as_str()),
            ("_os_version", &sys.os_version),
            ("_kernel_version", &sys.kernel_version),
            ("_system_cores", &sys.cores),
            ("_system_ram_total", &sys.ram_total),
            ("_architecture", &sys.architecture),
            ("_is_parent", if hosts.len() > 1 { "true" } else { "false" }),
        ];
        for (k, v) in auto {
            if !labels.iter().any(|(n, _)| n == k) {
                labels.push((k.to_string(), v.to_string()));
            }
        }
    }
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            o.push_str(",\n");
        }
        o.push_str("\t\t");
        json::str(&mut o, k);
        o.push_str(": ");
        json::str(&mut o, v);
    }
    o.push_str("\n\t}");
    json::key(&mut o, &mut first, "functions");
    o.push_str("{}");
    json::key(&mut o, &mut first, "collectors");
    let collectors: BTreeSet<(String, String)> = host
        .charts()
        .iter()
        .map(|c| {
            let m = c.meta();
            (m.plugin, m.module)
        })
        .filter(|(p, _)| !p.is_empty())
        .collect();
    o.push_str("[\n");
    for (i, (p, m)) in collectors.iter().enumerate() {
        if i > 0 {
            o.push_str(",\n");
        }
        o.push_str("\t\t{ \"plugin\": ");
        json::str(&mut o, p);
        o.push_str(", \"module\": ");
        json::str(&mut o, m);
        o.push_str(" }");
    }
    o.push_str("\n\t]");
    for k in ["cloud-enabled", "cloud-available", "agent-claimed", "aclk-available"] {
        json::key(&mut o, &mut first, k);
        o.push_str("false");
    }
    json::key(&mut o, &mut first, "memory-mode");
    json::str(&mut o, host.settings().mode.as_str());
    json::key(&mut o, &mut first, "multidb-disk-quota");
    let plan = host.settings().tiers.clone();
    let quota = plan.as_ref().and_then(|p| p.options().budget_bytes.as_ref()).map_or(0, |b| b[0] >> 20);
    o.push_str(&quota.to_string());
    json::key(&mut o, &mut first, "page-cache-size");
    o.push('0');
    json::key(&mut o, &mut first, "stream-enabled");
    o.push_str(if ctx.stream_enabled { "true" } else { "false" });
    json::key(&mut o, &mut first, "stream-compression");
    o.push_str("null");
    json::key(&mut o, &mut first, "hosts-available");
    o.push_str(&hosts.len().to_string());
    json::key(&mut o, &mut first, "https-enabled");
    o.push_str(if ctx.https_enabled { "true" } else { "false" });
    json::key(&mut o, &mut first, "buildinfo");
    json::str(&mut o, &format!("{} v{}|Native HTTPS|Stream Compression", crate::PROGRAM, crate::VERSION));
    json::key(&mut o, &mut first, "release-channel");
    json::str(&mut o, "stable");
    json::key(&mut o, &mut first, "web-enabled");
    o.push_str("true");
    for k in [
        "notification-methods",
        "exporting-enabled",
        "exporting-connectors",
        "allmetrics-prometheus-used",
        "allmetrics-shell-used",
        "allmetrics-json-used",
        "dashboard-used",
    ] {
        json::key(&mut o, &mut first, k);
        o.push_str("null");
    }
    let charts = host.charts();
    let metrics: usize = charts.iter().map(|c| c.dimensions().len()).sum();
    json::key(&mut o, &mut first, "charts-count");
    o.push_str(&charts.len().to_string());
    json::key(&mut o, &mut first, "metrics-count");
    o.push_str(&metrics.to_string());
    // nanodata's own, after every key of Netdata's.
    json::key(&mut o, &mut first, "storage-tiers");
    storage_tiers(&mut o, host);
    o.push_str("\n}\n");
    o
}

/// nanodata's `storage-tiers`: per tier its step, the points of its ring, the bytes of its
/// compressed archive (0: none), the bytes per dimension, the time it keeps at least (data
/// that compresses keeps more), and the dimensions and bytes the host's plan has given out
/// (all hosts sharing it); one tier of `history` slots without a plan.
fn storage_tiers(o: &mut String, host: &crate::rrd::Host) {
    let s = host.settings();
    let ue = s.update_every.max(1);
    o.push('[');
    let Some(plan) = &s.tiers else {
        let _ = std::fmt::Write::write_fmt(
            o,
            format_args!(
                " {{ \"tier\": 0, \"update_every\": {ue}, \"points\": {}, \"archive_bytes\": 0, \
                 \"bytes_per_dimension\": {}, \"retention\": {}, \"dimensions\": 0, \"bytes\": 0 }} ]",
                s.history,
                crate::db::tier_bytes(0, s.history),
                u64::from(ue) * u64::from(s.history)
            ),
        );
        return;
    };
    let sizes = plan.sizes(ue);
    for k in 0..plan.options().tiers {
        if k > 0 {
            o.push(',');
        }
        let every = plan.tier_update_every(ue, k);
        let (points, archive) = match k {
            0 => (sizes.entries, 0),
            k => sizes.tiers.get(k - 1).map_or((0, 0), |t| (t.entries, t.bytes)),
        };
        let _ = std::fmt::Write::write_fmt(
            o,
            format_args!(
                " {{ \"tier\": {k}, \"update_every\": {every}, \"points\": {points}, \"archive_bytes\": {archive}, \
                 \"bytes_per_dimension\": {}, \"retention\": {}, \"dimensions\": {}, \"bytes\": {} }}",
                sizes.tier_bytes(k),
                every.saturating_mul(sizes.points_at_least(k)),
                plan.alive(),
                plan.allocated_bytes(k),
            ),
        );
    }
    o.push_str(" ]");
}

//! `/api/v1/info` (protocol.md §8.1): keys and their order as Netdata 1.37.1 emits them.

use std::collections::BTreeSet;

use crate::rrd::Host;
use crate::web::context::{Context, API_VERSION};
use crate::web::json;

/// Facts about the machine this node runs on, read once at start.
#[derive(Clone, Debug)]
pub struct SystemInfo {
    pub cores: String,
    pub ram_total: String,
    pub kernel_name: String,
    pub kernel_version: String,
    pub architecture: String,
    pub os_name: String,
    pub os_id: String,
    pub os_id_like: String,
    pub os_version: String,
    pub os_version_id: String,
    pub os_detection: String,
}

impl SystemInfo {
    /// Reads `uname`, `/proc/meminfo` and `/etc/os-release`; unknown facts are `unknown`.
    pub fn detect() -> SystemInfo {
        let unknown = || "unknown".to_string();
        let cores =
            std::thread::available_parallelism().map(|n| n.get().to_string()).unwrap_or_else(|_| unknown());
        let ram_total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<u64>().ok()))
            })
            .map(|kib| (kib * 1024).to_string())
            .unwrap_or_else(unknown);
        let (kernel_name, kernel_version) = uname();
        let os = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let field = |k: &str| {
            os.lines()
                .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
                .map(|v| v.trim_matches('"').to_string())
                .unwrap_or_else(unknown)
        };
        SystemInfo {
            cores,
            ram_total,
            kernel_name,
            kernel_version,
            architecture: std::env::consts::ARCH.to_string(),
            os_name: field("NAME"),
            os_id: field("ID"),
            os_id_like: field("ID_LIKE"),
            os_version: field("VERSION"),
            os_version_id: field("VERSION_ID"),
            os_detection: if os.is_empty() { unknown() } else { "/etc/os-release".into() },
        }
    }

    /// What a child said about its system in its STREAM request.
    pub fn of_child(child: &crate::rrd::ChildStatus) -> SystemInfo {
        let get = |k: &str| child.info(k).unwrap_or("unknown").to_string();
        SystemInfo {
            cores: get("NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT"),
            ram_total: get("NETDATA_SYSTEM_TOTAL_RAM"),
            kernel_name: get("NETDATA_SYSTEM_KERNEL_NAME"),
            kernel_version: get("NETDATA_SYSTEM_KERNEL_VERSION"),
            architecture: get("NETDATA_SYSTEM_ARCHITECTURE"),
            os_name: get("NETDATA_HOST_OS_NAME"),
            os_id: get("NETDATA_HOST_OS_ID"),
            os_id_like: get("NETDATA_HOST_OS_ID_LIKE"),
            os_version: get("NETDATA_HOST_OS_VERSION"),
            os_version_id: get("NETDATA_HOST_OS_VERSION_ID"),
            os_detection: get("NETDATA_HOST_OS_DETECTION"),
        }
    }

    /// What is known about a host streamed to this node without system information.
    pub fn unknown() -> SystemInfo {
        let u = || "unknown".to_string();
        SystemInfo {
            cores: u(),
            ram_total: u(),
            kernel_name: u(),
            kernel_version: u(),
            architecture: u(),
            os_name: u(),
            os_id: u(),
            os_id_like: u(),
            os_version: u(),
            os_version_id: u(),
            os_detection: u(),
        }
    }
}

fn uname() -> (String, String) {
    // SAFETY: utsname is plain old data; uname(2) fills it and returns 0 on success.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return ("unknown".into(), "unknown".into());
    }
    let text = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (text(&u.sysname), text(&u.release))
}

/// The body of `/api/v1/info` for `host`.
pub fn info(ctx: &Context, host: &Host) -> String {
    let local = ctx.hosts.localhost();
    let is_local = local.guid() == host.guid();
    let sys = match host.child_status() {
        _ if is_local => ctx.system.clone(),
        Some(child) => SystemInfo::of_child(&child),
        None => SystemInfo::unknown(),
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
    o.push_str("{\n\t\t\"normal\": 0,\n\t\t\"warning\": 0,\n\t\t\"critical\": 0\n\t}");
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
    o.push('0');
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
    o.push_str("\n}\n");
    o
}

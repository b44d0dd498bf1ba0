//! What the node knows about the system it runs on: OS, kernel, architecture, cores, RAM,
//! time zone — sent to parents in the STREAM request (as Netdata's `NETDATA_SYSTEM_*`
//! variables) and shown by the API.

use std::path::Path;

use crate::sys;

/// System information as `NETDATA_*` name/value pairs, in Netdata's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemInfo {
    pub pairs: Vec<(String, String)>,
    pub timezone: String,
    pub abbrev_timezone: String,
    pub utc_offset: i64,
}

impl SystemInfo {
    /// Reads `/etc/os-release`, `uname`, `/proc/meminfo` and the CPU count below `prefix`.
    pub fn detect(prefix: &Path) -> SystemInfo {
        let os = std::fs::read_to_string(prefix.join("etc/os-release"))
            .or_else(|_| std::fs::read_to_string(prefix.join("usr/lib/os-release")))
            .unwrap_or_default();
        let field = |name: &str| {
            os.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
                .map(|v| v.trim_matches('"').to_owned())
                .unwrap_or_else(|| "unknown".to_owned())
        };
        let (sysname, release, machine) = match sys::uname::uname() {
            Ok(u) => (u.sysname, u.release, u.machine),
            Err(_) => ("Linux".into(), "unknown".into(), std::env::consts::ARCH.into()),
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let ram = std::fs::read_to_string(prefix.join("proc/meminfo"))
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_ascii_whitespace().nth(1).and_then(|k| k.parse::<u64>().ok()))
            })
            .map_or_else(|| "unknown".to_owned(), |kib| (kib * 1024).to_string());
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut add = |k: &str, v: String| pairs.push((k.to_owned(), v));
        add("NETDATA_SYSTEM_OS_NAME", field("NAME"));
        add("NETDATA_SYSTEM_OS_ID", field("ID"));
        add("NETDATA_SYSTEM_OS_ID_LIKE", field("ID_LIKE"));
        add("NETDATA_SYSTEM_OS_VERSION", field("VERSION"));
        add("NETDATA_SYSTEM_OS_VERSION_ID", field("VERSION_ID"));
        add("NETDATA_SYSTEM_OS_DETECTION", "/etc/os-release".to_owned());
        add("NETDATA_HOST_IS_K8S_NODE", "false".to_owned());
        add("NETDATA_SYSTEM_KERNEL_NAME", sysname);
        add("NETDATA_SYSTEM_KERNEL_VERSION", release);
        add("NETDATA_SYSTEM_ARCHITECTURE", machine);
        add("NETDATA_SYSTEM_VIRTUALIZATION", "unknown".to_owned());
        add("NETDATA_SYSTEM_VIRT_DETECTION", "none".to_owned());
        add("NETDATA_SYSTEM_CONTAINER", "unknown".to_owned());
        add("NETDATA_SYSTEM_CONTAINER_DETECTION", "none".to_owned());
        add("NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT", cores.to_string());
        add("NETDATA_SYSTEM_TOTAL_RAM", ram);
        add("NETDATA_PROTOCOL_VERSION", "1.1".to_owned());
        let (timezone, abbrev_timezone, utc_offset) = timezone(prefix);
        SystemInfo { pairs, timezone, abbrev_timezone, utc_offset }
    }

    /// The value of one `NETDATA_*` variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// `(zone name, abbreviation, seconds east of UTC)`.
fn timezone(prefix: &Path) -> (String, String, i64) {
    let name = std::env::var("TZ")
        .ok()
        .map(|tz| tz.trim_start_matches(':').to_owned())
        .filter(|tz| !tz.is_empty() && !tz.starts_with('/'))
        .or_else(|| std::fs::read_to_string(prefix.join("etc/timezone")).ok().map(|s| s.trim().to_owned()))
        .or_else(|| {
            std::fs::read_link(prefix.join("etc/localtime")).ok().and_then(|p| {
                let s = p.to_string_lossy().into_owned();
                s.split_once("zoneinfo/").map(|(_, z)| z.to_owned())
            })
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "UTC".to_owned());
    let (abbrev, offset) =
        sys::time::zone_at(crate::clock::now_realtime_sec()).unwrap_or_else(|| ("UTC".to_owned(), 0));
    (name, abbrev, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_this_system() {
        let info = SystemInfo::detect(Path::new("/"));
        assert_eq!(info.get("NETDATA_SYSTEM_KERNEL_NAME"), Some("Linux"));
        assert!(info.get("NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT").unwrap().parse::<u32>().unwrap() >= 1);
        assert!(info.get("NETDATA_SYSTEM_TOTAL_RAM").unwrap().parse::<u64>().is_ok());
        assert!(!info.timezone.is_empty() && !info.abbrev_timezone.is_empty());
    }

    #[test]
    fn missing_files_give_unknown_not_errors() {
        let info = SystemInfo::detect(Path::new("/nonexistent"));
        assert_eq!(info.get("NETDATA_SYSTEM_OS_NAME"), Some("unknown"));
        assert_eq!(info.get("NETDATA_SYSTEM_TOTAL_RAM"), Some("unknown"));
    }
}

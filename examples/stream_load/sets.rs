//! The simulated charts of `stream_load`: `--set load` (M dimensions of `load.c`) and
//! `--set router` (what a router's collectors chart), each dimension with the generator of
//! its collected values, and the values a child with history stores for them (what its
//! replication answers carry: the collected values after the dimension's algorithm).

/// How a simulated dimension's collected value moves from one second to the next.
#[derive(Clone, Copy)]
pub(crate) enum Gen {
    /// The load set's counter (distinct per dimension, a little noise); the second number
    /// is the child's salt (0 for every child with `--shared yes`), shifting its noise.
    Load(u64, u64),
    /// A counter growing by this much a second.
    Rate(u64),
    /// A gauge around `base`, swinging by up to `swing` with a slow period.
    Gauge(u64, u64),
    /// A counter whose rate is random each second, uniform in ±50 % around (k + 1) × 1000:
    /// values a compressing store cannot shrink much (busy CPUs, interfaces, disks). The
    /// second number is the child's salt: children with different salts draw different
    /// values (a store compressing across series cannot find one child's data in another's).
    Noisy(u64, u64),
}

/// `--values`: the shape of the load set's values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Values {
    /// Rates that take two values (what the load set always sent; compresses very well).
    Steady,
    /// Every rate random each second ([`Gen::Noisy`]); odd dimensions in thousandths
    /// (divisor 1000: fractional values, like kilobits or percentages).
    Noisy,
    /// In each chart (dimension k % 4) zero counters (errors, drops), steady, noisy integer
    /// and noisy thousandths: closer to a real host.
    Mixed,
}

impl Values {
    pub(crate) fn parse(v: &str) -> Option<Values> {
        match v {
            "steady" => Some(Values::Steady),
            "noisy" => Some(Values::Noisy),
            "mixed" => Some(Values::Mixed),
            _ => None,
        }
    }

    /// The generator of dimension k of a child with `salt`, and its divisor.
    fn gen(self, k: u64, salt: u64) -> (Gen, i64) {
        match (self, k % 4) {
            (Values::Steady, _) | (Values::Mixed, 1) => (Gen::Load(k, salt), 1),
            (Values::Mixed, 0) => (Gen::Rate(0), 1),
            (Values::Mixed, 2) => (Gen::Noisy(k, salt), 1),
            (Values::Noisy, r) if r % 2 == 0 => (Gen::Noisy(k, salt), 1),
            _ => (Gen::Noisy(k, salt), 1000),
        }
    }
}

/// splitmix64: a well-mixed hash of one word.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Gen {
    pub(crate) fn value(self, t: u64) -> u64 {
        match self {
            Gen::Load(k, salt) => t * (k + 1) * 1000 + (t * 7919 + k + salt * 131) % 997,
            Gen::Rate(r) => t * r,
            Gen::Gauge(base, swing) => base + (t * 7 % 120).abs_diff(60) * swing / 60,
            Gen::Noisy(k, salt) => {
                let rate = (k + 1) * 1000;
                t * rate
                    + mix(t.wrapping_mul(1_000_003).wrapping_add(k).wrapping_add(salt << 40)) % (rate / 2)
            }
        }
    }
}

/// One simulated chart: its `CHART` line and its dimensions (`DIMENSION` line, generator).
pub(crate) struct ChartDef {
    pub(crate) id: String,
    pub(crate) chart: String,
    pub(crate) dims: Vec<Dim>,
}

/// One simulated dimension: its id, its `DIMENSION` line, how its collected value moves, and
/// how the parent turns collected values into stored ones.
pub(crate) struct Dim {
    pub(crate) id: String,
    pub(crate) line: String,
    pub(crate) gen: Gen,
    algorithm: Algorithm,
    /// multiplier ÷ divisor.
    factor: f64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Absolute,
    Incremental,
    PercentageOfIncrementalRow,
}

impl ChartDef {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: &str,
        title: &str,
        units: &str,
        family: &str,
        context: &str,
        kind: &str,
        prio: u32,
    ) -> ChartDef {
        ChartDef {
            id: id.to_string(),
            chart: format!(
                "CHART \"{id}\" \"\" \"{title}\" \"{units}\" \"{family}\" \"{context}\" \"{kind}\" {prio} 1 \"\" \"stream_load\" \"\""
            ),
            dims: Vec::new(),
        }
    }

    /// Adds a dimension: `algorithm multiplier divisor` as on the wire.
    pub(crate) fn dim(mut self, id: &str, algorithm: &str, mul: i64, div: i64, gen: Gen) -> ChartDef {
        self.dims.push(Dim {
            id: id.to_string(),
            line: format!("DIMENSION \"{id}\" \"{id}\" \"{algorithm}\" {mul} {div} \"\""),
            gen,
            algorithm: match algorithm {
                "incremental" => Algorithm::Incremental,
                "percentage-of-incremental-row" => Algorithm::PercentageOfIncrementalRow,
                _ => Algorithm::Absolute,
            },
            factor: mul as f64 / div as f64,
        });
        self
    }

    /// The values a parent stores for second `t` (t ≥ 2) of the generators, in dimension
    /// order: absolute values × multiplier ÷ divisor, incremental ones per second, the
    /// percentage rows as shares of the row's increments.
    pub(crate) fn stored(&self, t: u64, out: &mut Vec<f64>) {
        out.clear();
        let delta = |d: &Dim| d.gen.value(t).wrapping_sub(d.gen.value(t - 1)) as i64 as f64;
        let row: f64 = self
            .dims
            .iter()
            .filter(|d| d.algorithm == Algorithm::PercentageOfIncrementalRow)
            .map(delta)
            .sum();
        out.extend(self.dims.iter().map(|d| match d.algorithm {
            Algorithm::Absolute => d.gen.value(t) as f64 * d.factor,
            Algorithm::Incremental => delta(d) * d.factor,
            Algorithm::PercentageOfIncrementalRow if row > 0.0 => 100.0 * delta(d) * d.factor / row,
            Algorithm::PercentageOfIncrementalRow => 0.0,
        }));
    }
}

/// `--set load`: M dimensions in charts of K, context `load.c`; `salt` makes a child's
/// noise its own (0: the same as every other child's).
pub(crate) fn load_set(dims: usize, per_chart: usize, values: Values, salt: u64) -> Vec<ChartDef> {
    (0..dims.div_ceil(per_chart))
        .map(|c| {
            let mut chart = ChartDef::new(
                &format!("load.c{c}"),
                &format!("load {c}"),
                "things/s",
                "load",
                "load.c",
                "line",
                1000 + c as u32,
            );
            for k in 0..per_chart.min(dims - c * per_chart) {
                let (gen, div) = values.gen(k as u64, salt);
                chart = chart.dim(&format!("d{k}"), "incremental", 1, div, gen);
            }
            chart
        })
        .collect()
}

/// `--set router`: what a router's collectors chart, with the ids and contexts Netdata gives
/// them, so the stock health.d alarms bind to every simulated child (cpu, load, ram, entropy,
/// two interfaces, TCP/UDP, conntrack, the root filesystem, softnet).
pub(crate) fn router_set() -> Vec<ChartDef> {
    use Gen::{Gauge, Rate};
    let mut set = vec![
        ChartDef::new(
            "system.cpu",
            "Total CPU utilization",
            "percentage",
            "cpu",
            "system.cpu",
            "stacked",
            100,
        )
        .dim("guest_nice", "percentage-of-incremental-row", 1, 1, Rate(0))
        .dim("guest", "percentage-of-incremental-row", 1, 1, Rate(0))
        .dim("steal", "percentage-of-incremental-row", 1, 1, Rate(0))
        .dim("softirq", "percentage-of-incremental-row", 1, 1, Rate(4))
        .dim("irq", "percentage-of-incremental-row", 1, 1, Rate(1))
        .dim("user", "percentage-of-incremental-row", 1, 1, Rate(22))
        .dim("system", "percentage-of-incremental-row", 1, 1, Rate(11))
        .dim("nice", "percentage-of-incremental-row", 1, 1, Rate(0))
        .dim("iowait", "percentage-of-incremental-row", 1, 1, Rate(2))
        .dim("idle", "percentage-of-incremental-row", 1, 1, Rate(160)),
        ChartDef::new("system.load", "System Load Average", "load", "load", "system.load", "line", 100)
            .dim("load1", "absolute", 1, 1000, Gauge(400, 300))
            .dim("load5", "absolute", 1, 1000, Gauge(450, 100))
            .dim("load15", "absolute", 1, 1000, Gauge(420, 50)),
        ChartDef::new("system.ram", "System RAM", "MiB", "ram", "system.ram", "stacked", 200)
            .dim("free", "absolute", 1, 1048576, Gauge(40 << 20, 8 << 20))
            .dim("used", "absolute", 1, 1048576, Gauge(150 << 20, 8 << 20))
            .dim("cached", "absolute", 1, 1048576, Gauge(50 << 20, 0))
            .dim("buffers", "absolute", 1, 1048576, Gauge(8 << 20, 0)),
        ChartDef::new(
            "mem.available",
            "Available RAM for applications",
            "MiB",
            "system",
            "mem.available",
            "area",
            1010,
        )
        .dim("avail", "absolute", 1, 1048576, Gauge(90 << 20, 8 << 20)),
        ChartDef::new(
            "system.entropy",
            "Available Entropy",
            "entropy",
            "entropy",
            "system.entropy",
            "line",
            1000,
        )
        .dim("entropy", "absolute", 1, 1, Gauge(3000, 500)),
        ChartDef::new(
            "system.softnet_stat",
            "System softnet_stat",
            "events/s",
            "softnet_stat",
            "system.softnet_stat",
            "line",
            955,
        )
        .dim("processed", "incremental", 1, 1, Rate(900))
        .dim("dropped", "incremental", 1, 1, Rate(0))
        .dim("squeezed", "incremental", 1, 1, Rate(0)),
        ChartDef::new(
            "ipv4.tcphandshake",
            "IPv4 TCP Handshake Issues",
            "events/s",
            "tcp",
            "ipv4.tcphandshake",
            "line",
            2500,
        )
        .dim("EstabResets", "incremental", 1, 1, Rate(1))
        .dim("OutRsts", "incremental", 1, 1, Rate(2))
        .dim("AttemptFails", "incremental", 1, 1, Rate(0))
        .dim("SynRetrans", "incremental", 1, 1, Rate(0)),
        ChartDef::new(
            "ip.tcp_accept_queue",
            "TCP Accept Queue Issues",
            "packets/s",
            "tcp",
            "ip.tcp_accept_queue",
            "line",
            4470,
        )
        .dim("TCPListenOverflows", "incremental", 1, 1, Rate(0))
        .dim("TCPListenDrops", "incremental", 1, 1, Rate(0)),
        ChartDef::new(
            "ip.tcp_syn_queue",
            "TCP SYN Queue Issues",
            "packets/s",
            "tcp",
            "ip.tcp_syn_queue",
            "line",
            4490,
        )
        .dim("TCPReqQFullDrop", "incremental", 1, 1, Rate(0))
        .dim("TCPReqQFullDoCookies", "incremental", 1, 1, Rate(0)),
        ChartDef::new("ipv4.udperrors", "IPv4 UDP Errors", "events/s", "udp", "ipv4.udperrors", "line", 2701)
            .dim("RcvbufErrors", "incremental", 1, 1, Rate(0))
            .dim("SndbufErrors", "incremental", 1, 1, Rate(0))
            .dim("InErrors", "incremental", 1, 1, Rate(0))
            .dim("NoPorts", "incremental", 1, 1, Rate(1)),
        ChartDef::new(
            "netfilter.conntrack_sockets",
            "Connection Tracker Connections",
            "active connections",
            "connection tracker",
            "netfilter.conntrack_sockets",
            "line",
            8700,
        )
        .dim("connections", "absolute", 1, 1, Gauge(900, 300)),
        ChartDef::new(
            "disk_space._",
            "Disk Space Usage for / [overlay]",
            "GiB",
            "/",
            "disk.space",
            "stacked",
            2023,
        )
        .dim("avail", "absolute", 1, 1073741824, Gauge(6 << 30, 0))
        .dim("used", "absolute", 1, 1073741824, Gauge(2 << 30, 1 << 20))
        .dim("reserved_for_root", "absolute", 1, 1073741824, Gauge(0, 0)),
        ChartDef::new(
            "disk_inodes._",
            "Disk Files (inodes) Usage for / [overlay]",
            "inodes",
            "/",
            "disk.inodes",
            "stacked",
            2024,
        )
        .dim("avail", "absolute", 1, 1, Gauge(400_000, 0))
        .dim("used", "absolute", 1, 1, Gauge(30_000, 100))
        .dim("reserved_for_root", "absolute", 1, 1, Gauge(0, 0)),
    ];
    for (n, iface) in ["eth0", "wlan0"].iter().enumerate() {
        let prio = 7000 + n as u32 * 10;
        set.push(
            ChartDef::new(&format!("net.{iface}"), "Bandwidth", "kilobits/s", iface, "net.net", "area", prio)
                .dim("received", "incremental", 8, 1000, Rate(400_000))
                .dim("sent", "incremental", -8, 1000, Rate(90_000)),
        );
        set.push(
            ChartDef::new(
                &format!("net_packets.{iface}"),
                "Packets",
                "packets/s",
                iface,
                "net.packets",
                "line",
                prio + 1,
            )
            .dim("received", "incremental", 1, 1, Rate(350))
            .dim("sent", "incremental", -1, 1, Rate(120))
            .dim("multicast", "incremental", 1, 1, Rate(2)),
        );
        set.push(
            ChartDef::new(
                &format!("net_errors.{iface}"),
                "Interface Errors",
                "errors/s",
                iface,
                "net.errors",
                "line",
                prio + 5,
            )
            .dim("inbound", "incremental", 1, 1, Rate(0))
            .dim("outbound", "incremental", -1, 1, Rate(0)),
        );
        set.push(
            ChartDef::new(
                &format!("net_drops.{iface}"),
                "Interface Drops",
                "drops/s",
                iface,
                "net.drops",
                "line",
                prio + 6,
            )
            .dim("inbound", "incremental", 1, 1, Rate(0))
            .dim("outbound", "incremental", -1, 1, Rate(0)),
        );
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noisy_rates_stay_within_half_of_the_mean_and_vary() {
        let chart = load_set(4, 4, Values::Noisy, 0).remove(0);
        let mut seen = std::collections::HashSet::new();
        let mut v = Vec::new();
        for t in 2..1000 {
            chart.stored(t, &mut v);
            // d2's mean rate is 3000: every second between 1500 and 4500, exclusive; d1 is in
            // thousandths (mean 2000 a second: 2).
            assert!(v[2] > 1500.0 && v[2] < 4500.0, "{}", v[2]);
            assert!(v[1] > 1.0 && v[1] < 3.0, "{}", v[1]);
            seen.insert(v[2] as i64);
        }
        assert!(seen.len() > 500, "{} distinct rates", seen.len());
    }

    #[test]
    fn mixed_charts_hold_zero_steady_and_noisy_counters() {
        let chart = load_set(4, 4, Values::Mixed, 0).remove(0);
        let mut v = Vec::new();
        chart.stored(10, &mut v);
        assert_eq!(v[0], 0.0);
        assert!(chart.dims[3].line.ends_with(" 1 1000 \"\""), "{}", chart.dims[3].line);
        // d3 in thousandths: its mean rate 4000 a second is stored as about 4.
        assert!(v[3] > 2.0 && v[3] < 6.0 && v[3].fract() != 0.0, "{}", v[3]);
        // d1 steady: 2000 plus (10 × 7919 + 1) % 997 − (9 × 7919 + 1) % 997 = 428 − 485.
        assert_eq!(v[1], 1943.0);
    }
}

//! Binding entries to charts (protocol.md §9): `alarm:` to the chart whose id or name is
//! its `on:`, `template:` to every chart whose context is its `on:`, each through its
//! filters (`os`, `hosts`, `host labels` against the host; `plugin`, `module` against the
//! chart; for templates also `families` and `charts`). An alarm name is unique per chart:
//! an `alarm:` beats a `template:` of the same name, and the first entry loaded beats later
//! ones.
//!
//! The entries are compiled once ([`Entries`]): patterns parsed, indexed by `on:`, so a
//! rebind costs a hash lookup per chart, not a walk of every entry.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::health::config::{AlarmConfig, Kind};
use crate::rrd::{ChartMeta, DimensionMeta, Label};
use crate::simple_pattern::SimplePattern;

/// One entry with its filters parsed.
pub struct Entry {
    pub config: Arc<AlarmConfig>,
    /// `lookup: … foreach DIMS`: one alarm per matching dimension (id or name).
    foreach: Option<SimplePattern>,
    os: Option<SimplePattern>,
    hosts: Option<SimplePattern>,
    host_labels: Option<SimplePattern>,
    families: Option<SimplePattern>,
    charts: Option<SimplePattern>,
    plugin: Option<SimplePattern>,
    module: Option<SimplePattern>,
}

/// Every entry, indexed.
#[derive(Default)]
pub struct Entries {
    pub list: Vec<Entry>,
    /// `alarm:` entries by `on:` (chart id or name), in load order.
    alarms: HashMap<String, Vec<usize>>,
    /// `template:` entries by `on:` (context), in load order.
    templates: HashMap<String, Vec<usize>>,
}

/// What the host filters look at.
#[derive(Clone, Debug, Default)]
pub struct HostFacts {
    pub hostname: String,
    /// `linux` for this node; a child's `os` from its STREAM request.
    pub os: String,
    pub labels: Vec<Label>,
}

impl Entries {
    /// Compiles `configs`.
    pub fn new(configs: Vec<AlarmConfig>) -> Entries {
        let mut e = Entries::default();
        for config in configs {
            let p = |s: &Option<String>| s.as_deref().map(SimplePattern::parse);
            let foreach = config.lookup.as_ref().and_then(|l| l.foreach.as_deref());
            let entry = Entry {
                foreach: foreach.map(|f| SimplePattern::parse_with(f, ",| \t\r\n")),
                os: p(&config.os),
                hosts: p(&config.hosts),
                host_labels: p(&config.host_labels),
                families: p(&config.families),
                charts: p(&config.charts),
                plugin: p(&config.plugin),
                module: p(&config.module),
                config: Arc::new(config),
            };
            let index = match entry.config.kind {
                Kind::Alarm => &mut e.alarms,
                Kind::Template => &mut e.templates,
            };
            index.entry(entry.config.on.clone()).or_default().push(e.list.len());
            e.list.push(entry);
        }
        e
    }

    /// The entries whose host filters accept `host` (one flag per entry).
    pub fn for_host(&self, host: &HostFacts) -> Vec<bool> {
        self.list.iter().map(|e| e.matches_host(host)).collect()
    }

    /// The alarms to run on a host whose usable charts are `charts` (with their
    /// dimensions: `dims(chart index)`, asked only for `foreach` entries), given the entries
    /// its filters accept (`accepted`, from [`Entries::for_host`]).
    pub fn bind(
        &self,
        accepted: &[bool],
        charts: &[ChartMeta],
        dims: impl Fn(usize) -> Vec<DimensionMeta>,
    ) -> Vec<Binding> {
        let mut out = Vec::new();
        let mut names: HashSet<String> = HashSet::new();
        for (ci, meta) in charts.iter().enumerate() {
            names.clear();
            let alarms = [&meta.id, &meta.name]
                .into_iter()
                .enumerate()
                .filter(|(i, key)| *i == 0 || **key != meta.id)
                .filter_map(|(_, key)| self.alarms.get(key.as_str()))
                .flatten();
            let templates = self.templates.get(meta.context.as_str()).into_iter().flatten();
            for &ei in alarms.chain(templates) {
                let e = &self.list[ei];
                if !accepted.get(ei).copied().unwrap_or(false) || !e.matches_chart(meta) {
                    continue;
                }
                let Some(each) = &e.foreach else {
                    if names.insert(e.config.name.clone()) {
                        out.push(Binding {
                            entry: ei,
                            chart: ci,
                            name: e.config.name.clone(),
                            dimension: None,
                        });
                    }
                    continue;
                };
                for d in dims(ci).into_iter().filter(|d| each.matches(&d.id) || each.matches(&d.name)) {
                    let name = foreach_name(&e.config.name, &d.name);
                    if names.insert(name.clone()) {
                        out.push(Binding { entry: ei, chart: ci, name, dimension: Some(d.id) });
                    }
                }
            }
        }
        out
    }
}

/// One alarm to run: an entry on a chart, with its name (for `foreach`, one per dimension:
/// `<name>_<dimension>`, and the dimension id its lookup reads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub entry: usize,
    pub chart: usize,
    pub name: String,
    pub dimension: Option<String>,
}

/// The name of a `foreach` alarm: `<name>_<dimension name>`, characters other than
/// letters, digits, `_` and `-` turned into `_` (so the name stays a variable name).
fn foreach_name(name: &str, dim: &str) -> String {
    let mut out = format!("{name}_");
    out.extend(dim.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }));
    out
}

impl Entry {
    fn matches_host(&self, host: &HostFacts) -> bool {
        allows(&self.os, &host.os)
            && allows(&self.hosts, &host.hostname)
            && self.host_labels.as_ref().is_none_or(|p| labels_match(p, &host.labels))
    }

    fn matches_chart(&self, meta: &ChartMeta) -> bool {
        let template = self.config.kind == Kind::Template;
        allows(&self.plugin, &meta.plugin)
            && allows(&self.module, &meta.module)
            && (!template || allows(&self.families, &meta.family))
            && (!template
                || self.charts.as_ref().is_none_or(|p| p.matches(&meta.id) || p.matches(&meta.name)))
    }
}

/// An absent filter accepts everything; a present one is a simple pattern.
fn allows(pattern: &Option<SimplePattern>, value: &str) -> bool {
    pattern.as_ref().is_none_or(|p| p.matches(value))
}

/// `host labels: name=value …`: some label `name=value` matches a positive word and none
/// a negative one before it.
fn labels_match(p: &SimplePattern, labels: &[Label]) -> bool {
    let mut matched = false;
    for l in labels {
        match p.decide(&format!("{}={}", l.name, l.value)) {
            Some(true) => matched = true,
            Some(false) => return false,
            None => {}
        }
    }
    matched
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn config(kind: Kind, name: &str, on: &str) -> AlarmConfig {
        AlarmConfig { on: on.into(), ..AlarmConfig::new(kind, name.into(), format!("1@/test/{name}.conf")) }
    }

    fn chart(id: &str, name: &str, context: &str, family: &str) -> ChartMeta {
        let (t, i) = id.split_once('.').unwrap();
        let mut m =
            ChartMeta::new(t, i).context(context).family(family).source("proc.plugin", "/proc/net/dev");
        m.name = name.into();
        m
    }

    fn host(os: &str, labels: &[(&str, &str)]) -> HostFacts {
        HostFacts {
            hostname: "router-1".into(),
            os: os.into(),
            labels: labels
                .iter()
                .map(|(n, v)| Label { name: (*n).into(), value: (*v).into(), source: 0 })
                .collect(),
        }
    }

    fn names(b: &[Binding], charts: &[ChartMeta]) -> Vec<String> {
        b.iter().map(|b| format!("{}@{}", b.name, charts[b.chart].id)).collect()
    }

    fn no_dims(_: usize) -> Vec<DimensionMeta> {
        Vec::new()
    }

    #[test]
    fn templates_bind_by_context_and_alarms_by_chart_id_or_name() {
        let e = Entries::new(vec![
            config(Kind::Template, "inbound", "net.net"),
            config(Kind::Alarm, "wan_down", "net.wan"),
            config(Kind::Alarm, "lo_seen", "net.lo"),
            config(Kind::Template, "cpu", "system.cpu"),
        ]);
        let charts = [
            chart("net.eth0", "net.wan", "net.net", "eth0"),
            chart("net.lo", "net.lo", "net.net", "lo"),
            chart("system.load", "system.load", "system.load", "load"),
        ];
        let acc = e.for_host(&host("linux", &[]));
        let b = e.bind(&acc, &charts, no_dims);
        assert_eq!(
            names(&b, &charts),
            ["wan_down@net.eth0", "inbound@net.eth0", "lo_seen@net.lo", "inbound@net.lo"]
        );
    }

    #[test]
    fn an_alarm_beats_a_template_of_the_same_name_and_the_first_entry_wins() {
        let mut t = config(Kind::Template, "x", "net.net");
        t.source = "template".into();
        let mut a = config(Kind::Alarm, "x", "net.eth0");
        a.source = "alarm".into();
        let mut t2 = config(Kind::Template, "x", "net.net");
        t2.source = "second template".into();
        let e = Entries::new(vec![t, a, t2]);
        let charts = [
            chart("net.eth0", "net.eth0", "net.net", "eth0"),
            chart("net.eth1", "net.eth1", "net.net", "eth1"),
        ];
        let b = e.bind(&e.for_host(&host("linux", &[])), &charts, no_dims);
        let got: Vec<_> = b.iter().map(|b| (e.list[b.entry].config.source.as_str(), b.chart)).collect();
        assert_eq!(got, [("alarm", 0), ("template", 1)]);
    }

    #[test]
    fn filters() {
        let mut os = config(Kind::Template, "os", "net.net");
        os.os = Some("freebsd macos".into());
        let mut hosts = config(Kind::Template, "hosts", "net.net");
        hosts.hosts = Some("!router-* *".into());
        let mut fam = config(Kind::Template, "fam", "net.net");
        fam.families = Some("!lo *".into());
        let mut charts_f = config(Kind::Template, "charts", "net.net");
        charts_f.charts = Some("net.wan".into()); // by name
        let mut plugin = config(Kind::Template, "plugin", "net.net");
        plugin.plugin = Some("python.d.plugin".into());
        let mut module = config(Kind::Template, "module", "net.net");
        module.module = Some("/proc/net/*".into());
        let mut labels = config(Kind::Template, "labels", "net.net");
        labels.host_labels = Some("role=gateway".into());
        let mut not_labels = config(Kind::Template, "not_labels", "net.net");
        not_labels.host_labels = Some("!_os_name=OpenWrt *".into());
        let mut fam_on_alarm = config(Kind::Alarm, "alarm_ignores_families", "net.lo");
        fam_on_alarm.families = Some("nothing".into());
        let e =
            Entries::new(vec![os, hosts, fam, charts_f, plugin, module, labels, not_labels, fam_on_alarm]);
        let charts =
            [chart("net.eth0", "net.wan", "net.net", "eth0"), chart("net.lo", "net.lo", "net.net", "lo")];
        let h = host("linux", &[("role", "gateway"), ("_os_name", "OpenWrt")]);
        let b = e.bind(&e.for_host(&h), &charts, no_dims);
        assert_eq!(
            names(&b, &charts),
            [
                "fam@net.eth0",
                "charts@net.eth0",
                "module@net.eth0",
                "labels@net.eth0",
                "alarm_ignores_families@net.lo",
                "module@net.lo",
                "labels@net.lo"
            ]
        );
        let h = host("freebsd", &[("role", "ap")]);
        let b = e.bind(&e.for_host(&h), &charts[..1], no_dims);
        assert_eq!(
            names(&b, &charts),
            ["os@net.eth0", "fam@net.eth0", "charts@net.eth0", "module@net.eth0", "not_labels@net.eth0"]
        );
    }

    #[test]
    fn foreach_makes_one_alarm_per_matching_dimension() {
        let mut c = config(Kind::Template, "each", "net.net");
        c.lookup = Some(crate::health::config::Lookup {
            group: crate::query::Group::Average,
            after: -60,
            before: 0,
            every: 60,
            options: Default::default(),
            anomaly_bit: false,
            of: None,
            foreach: Some("eth* !lo wlan0".into()),
        });
        let mut plain = config(Kind::Template, "each_eth0", "net.net");
        plain.source = "taken first".into();
        let e = Entries::new(vec![plain, c]);
        let charts = [chart("net.all", "net.all", "net.net", "all")];
        let dims = |_: usize| {
            ["eth0", "lo", "wlan0", "eth1.100"].iter().map(|d| DimensionMeta::new(d)).collect::<Vec<_>>()
        };
        let b = e.bind(&e.for_host(&host("linux", &[])), &charts, dims);
        assert_eq!(names(&b, &charts), ["each_eth0@net.all", "each_wlan0@net.all", "each_eth1_100@net.all"]);
        assert_eq!(b[0].dimension, None, "the plain entry of that name came first");
        assert_eq!(b[2].dimension.as_deref(), Some("eth1.100"));
    }
}

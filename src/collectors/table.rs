//! Charts fed from named kernel counters (`/proc/net/snmp`, `netstat`, `snmp6`, `sockstat`,
//! `stat/nf_conntrack`): the one piece of code that walks their tables.
//!
//! A static table of [`Spec`]s says which counter feeds which dimension of which chart; a
//! [`FileSpec`] says where a file is, how it lays its counters out ([`Format`]) and which
//! specs it feeds; a [`FileSet`] lists the files one collector thread reads, and [`keyed`]
//! builds that collector. A new `/proc` file of named counters is a new table, not new code.
//!
//! The parsers find counters by their names, never by position, and [`Columns`] remembers
//! where each name sat, so a file whose layout does not change costs no lookups and no
//! allocation per tick; a new kernel with more (or fewer) columns just remaps.
//!
//! Charts follow Netdata's `yes`/`no`/`auto` switches: an `auto` chart appears the first
//! time one of its counters is non-zero (at once with `enable zero metrics`) and then stays.

use std::path::Path;
use std::sync::Arc;

use super::chart_def::Look;
use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{Algorithm, Chart, ChartMeta, ChartType, DimensionMeta, Host};
use crate::sys::mem::page_size;

pub use super::chart_def::PLUGIN;

/// One chart: everything of its `CHART` line, the config key switching it, its dimensions.
pub struct Spec {
    pub look: Look,
    pub id: &'static str,
    pub family: &'static str,
    /// The `[plugin:proc:<file>]` key switching this chart (`yes`/`no`/`auto`).
    pub option: &'static str,
    pub dims: &'static [Dim],
}

impl Spec {
    pub const fn new(
        type_: &'static str,
        id: &'static str,
        title: &'static str,
        units: &'static str,
        family: &'static str,
        priority: i64,
        dims: &'static [Dim],
    ) -> Spec {
        Spec { look: Look::new(type_, title, units, priority), id, family, option: "", dims }
    }
    pub const fn detail(self) -> Spec {
        Spec { look: Look { detail: true, ..self.look }, ..self }
    }
    pub const fn area(self) -> Spec {
        Spec { look: Look { chart_type: ChartType::Area, ..self.look }, ..self }
    }
    pub const fn option(self, option: &'static str) -> Spec {
        Spec { option, ..self }
    }

    /// Defines this chart (of `module` of [`PLUGIN`]) on `host`, dimensions and all: for a
    /// chart a collector feeds itself rather than through a [`Table`].
    pub fn define(&self, host: &Host, module: &str, update_every: u32) -> Arc<Chart> {
        let chart = host.chart_define(meta(self, module, update_every));
        for d in self.dims {
            chart.dimension(dimension(d));
        }
        chart
    }
}

/// One dimension and the counter (`section`, `field`) that feeds it.
pub struct Dim {
    pub section: &'static str,
    pub field: &'static str,
    pub id: &'static str,
    pub name: &'static str,
    pub multiplier: i64,
    pub divisor: i64,
    pub algorithm: Algorithm,
    /// The multiplier is the system's page size (socket memory is counted in pages).
    pub pages: bool,
}

impl Dim {
    /// An incremental dimension whose id is the counter's field name.
    pub const fn inc(section: &'static str, field: &'static str, name: &'static str, multiplier: i64) -> Dim {
        Dim {
            section,
            field,
            id: field,
            name,
            multiplier,
            divisor: 1,
            algorithm: Algorithm::Incremental,
            pages: false,
        }
    }
    /// An absolute one.
    pub const fn abs(section: &'static str, field: &'static str, name: &'static str, multiplier: i64) -> Dim {
        Dim { algorithm: Algorithm::Absolute, ..Dim::inc(section, field, name, multiplier) }
    }
    pub const fn id(self, id: &'static str) -> Dim {
        Dim { id, ..self }
    }
    pub const fn divisor(self, divisor: i64) -> Dim {
        Dim { divisor, ..self }
    }
    pub const fn pages(self) -> Dim {
        Dim { pages: true, ..self }
    }
}

/// A chart's switch.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Yes,
    No,
    /// Only once a counter is non-zero.
    Auto,
}

impl Mode {
    /// From a `tristate_in` answer (`None` = auto).
    pub fn from_tristate(v: Option<bool>) -> Mode {
        match v {
            Some(true) => Mode::Yes,
            Some(false) => Mode::No,
            None => Mode::Auto,
        }
    }
}

/// The current values of every counter the specs name, and the charts they feed.
pub struct Table {
    host: Arc<Host>,
    update_every: u32,
    zero_metrics: bool,
    keys: Vec<(&'static str, &'static str)>,
    /// Per key: only absolute dimensions read it.
    gauges: Vec<bool>,
    values: Vec<Option<i64>>,
    charts: Vec<Slot>,
}

struct Slot {
    spec: &'static Spec,
    /// The file whose `[plugin:proc:<file>]` section holds the switch.
    file: &'static str,
    module: &'static str,
    mode: Mode,
    chart: Option<Arc<Chart>>,
    /// For each dimension: the key it reads and, once created, its index in the chart.
    keys: Vec<usize>,
    dims: Vec<usize>,
    /// The keys whose non-zero value makes an `auto` chart appear: those of every chart of
    /// the file switched by the same option, as Netdata tests them together (`ipv4 ICMP
    /// packets` brings `ipv4.icmp` and `ipv4.icmp_errors` at once).
    trigger: Vec<usize>,
}

impl Table {
    /// `groups` are the chart specs of each file (named as in `[plugin:proc:<file>]`);
    /// `mode(file, spec)` answers each chart's switch (asked once, here); `module` is the
    /// `CHART` line's, or the file's when `None`.
    pub fn new(
        host: Arc<Host>,
        module: Option<&'static str>,
        groups: &[(&'static str, &'static [Spec])],
        mode: &dyn Fn(&str, &Spec) -> Mode,
        zero_metrics: bool,
        update_every: u32,
    ) -> Table {
        let mut keys: Vec<(&'static str, &'static str)> = Vec::new();
        let mut charts = Vec::new();
        for (file, spec) in groups.iter().flat_map(|(f, specs)| specs.iter().map(move |s| (*f, s))) {
            let mut slot_keys = Vec::with_capacity(spec.dims.len());
            for d in spec.dims {
                let k = (d.section, d.field);
                let i = keys.iter().position(|x| *x == k).unwrap_or_else(|| {
                    keys.push(k);
                    keys.len() - 1
                });
                slot_keys.push(i);
            }
            charts.push(Slot {
                spec,
                file,
                module: module.unwrap_or(file),
                mode: mode(file, spec),
                chart: None,
                keys: slot_keys,
                dims: Vec::new(),
                trigger: Vec::new(),
            });
        }
        for i in 0..charts.len() {
            let (file, option) = (charts[i].file, charts[i].spec.option);
            let mut trigger = charts[i].keys.clone();
            if !option.is_empty() {
                for other in charts.iter().filter(|c| c.file == file && c.spec.option == option) {
                    for &k in &other.keys {
                        if !trigger.contains(&k) {
                            trigger.push(k);
                        }
                    }
                }
            }
            charts[i].trigger = trigger;
        }
        let dims = || groups.iter().flat_map(|(_, specs)| specs.iter().flat_map(|s| s.dims.iter()));
        let gauges = keys
            .iter()
            .map(|&(section, field)| {
                dims()
                    .filter(|d| d.section == section && d.field == field)
                    .all(|d| d.algorithm == Algorithm::Absolute)
            })
            .collect();
        Table {
            host,
            update_every: update_every.max(1),
            zero_metrics,
            values: vec![None; keys.len()],
            gauges,
            keys,
            charts,
        }
    }

    /// Forgets the previous tick's values.
    pub fn clear(&mut self) {
        self.values.iter_mut().for_each(|v| *v = None);
    }

    /// The slot of counter `field` of `section`, if a chart uses it.
    pub fn slot(&self, section: &str, field: &str) -> Option<usize> {
        self.keys.iter().position(|(s, f)| *s == section && *f == field)
    }

    pub fn put(&mut self, slot: usize, value: i64) {
        self.values[slot] = Some(value);
    }

    /// Adds to a counter (per-CPU rows summed).
    pub fn add(&mut self, slot: usize, value: i64) {
        let v = &mut self.values[slot];
        *v = Some(v.unwrap_or(0).wrapping_add(value));
    }

    /// Whether this tick found any counter at all.
    pub fn found_any(&self) -> bool {
        self.values.iter().any(Option::is_some)
    }

    /// Creates the charts whose time has come and stores this tick's values.
    pub fn publish(&mut self, now_ut: u64) {
        for slot in &mut self.charts {
            if slot.mode == Mode::No || !slot.keys.iter().any(|&k| self.values[k].is_some()) {
                continue;
            }
            if slot.chart.is_none() {
                let nonzero = slot.trigger.iter().any(|&k| self.values[k].is_some_and(|v| v != 0));
                if slot.mode == Mode::Auto && !nonzero && !self.zero_metrics {
                    continue;
                }
                let chart = self.host.chart_define(meta(slot.spec, slot.module, self.update_every));
                slot.dims = slot.spec.dims.iter().map(|d| chart.dimension(dimension(d))).collect();
                slot.chart = Some(chart);
            }
            let Some(chart) = &slot.chart else { continue };
            let mut c = chart.begin(now_ut, 0, false);
            for (&k, &dim) in slot.keys.iter().zip(&slot.dims) {
                c.set(dim, self.values[k].unwrap_or(0));
            }
            c.end();
        }
    }
}

/// Remembers, per header line, which table slot each column feeds; rebuilt only when the
/// header text changes.
#[derive(Default)]
pub struct Columns {
    rows: Vec<(String, Vec<Option<usize>>)>,
}

impl Columns {
    /// The slots of header line number `n`, whose column names are `names` (whitespace
    /// separated) in `section`.
    pub fn map(
        &mut self,
        n: usize,
        header: &str,
        section: &str,
        names: &str,
        table: &Table,
    ) -> &[Option<usize>] {
        while self.rows.len() <= n {
            self.rows.push((String::new(), Vec::new()));
        }
        let row = &mut self.rows[n];
        if row.0 != header {
            row.0.clear();
            row.0.push_str(header);
            row.1.clear();
            row.1.extend(names.split_ascii_whitespace().map(|f| table.slot(section, f)));
        }
        &row.1
    }
}

/// How a file lays out its counters.
#[derive(Copy, Clone, Debug)]
pub enum Format {
    /// Pairs of lines, `Section: name name …` then `Section: value value …` (`snmp`, `netstat`).
    Pairs,
    /// `Section6Name value` per line (`snmp6`): the section ends at the first `6`.
    Lines,
    /// `SECTION: name value name value …` per line (`sockstat`).
    KeyValues,
    /// A header line of column names, then one row of hexadecimal values per CPU
    /// (`stat/nf_conntrack`): counters are summed over the rows, gauges (a counter only
    /// absolute dimensions read, like the table size every row repeats) taken once.
    HexRows,
    /// The whole file is one decimal, counter `field` of section `""` (`nf_conntrack_count`).
    Number(&'static str),
}

/// A collector reading one or more such files into one [`Table`]. A file that does not
/// exist is dropped with a log line; when none is left the collector disables itself.
pub struct KeyedFile {
    name: &'static str,
    sources: Vec<Source>,
    table: Table,
}

struct Source {
    file: ProcFile,
    format: Format,
    fallback: bool,
    columns: Columns,
}

/// One file a [`KeyedFile`] may read: its name as `[plugin:proc] <name>` and
/// `[plugin:proc:<name>]` spell it (the path below the host prefix, with a leading `/`), how
/// it lays out its counters, and the charts it feeds.
pub struct FileSpec {
    pub name: &'static str,
    pub format: Format,
    pub charts: &'static [Spec],
    /// Read only once every file before it in the set is gone (an older kernel's or a
    /// container's second-best source of the same counters).
    pub fallback: bool,
}

/// The files one [`KeyedFile`] collector may read, and which of them the configuration enables.
pub trait FileSet {
    /// The collector's name (and its thread's).
    const NAME: &'static str;
    /// The `CHART` lines' module, when it is not each file's own name.
    const MODULE: Option<&'static str>;
    /// Every file, with whether it is to be read.
    fn files(&self) -> Vec<(bool, &'static FileSpec)>;
}

/// The collector reading, below `prefix`, the files `set` enables into one table;
/// `mode(file, spec)` answers each chart's switch (`file` as `[plugin:proc:<file>]` spells it).
pub fn keyed<S: FileSet>(
    host: Arc<Host>,
    prefix: &Path,
    set: &S,
    mode: &dyn Fn(&str, &Spec) -> Mode,
    zero_metrics: bool,
    update_every: u32,
) -> KeyedFile {
    let files: Vec<&FileSpec> = set.files().into_iter().filter(|(on, _)| *on).map(|(_, f)| f).collect();
    let groups: Vec<(&'static str, &'static [Spec])> = files.iter().map(|f| (f.name, f.charts)).collect();
    let table = Table::new(host, S::MODULE, &groups, mode, zero_metrics, update_every);
    let sources = files
        .iter()
        .map(|f| Source {
            file: ProcFile::new(prefix.join(f.name.trim_start_matches('/'))),
            format: f.format,
            fallback: f.fallback,
            columns: Columns::default(),
        })
        .collect();
    KeyedFile { name: S::NAME, sources, table }
}

impl Collector for KeyedFile {
    fn name(&self) -> &str {
        self.name
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        self.table.clear();
        let mut failed = None;
        let mut i = 0;
        while i < self.sources.len() {
            let several = self.sources.len() > 1;
            if self.sources[i].fallback && self.sources[..i].iter().any(|s| !s.fallback) {
                i += 1;
                continue;
            }
            let s = &mut self.sources[i];
            match s.file.read() {
                Ok(text) => match s.format {
                    Format::Pairs => parse_pairs(text, &mut s.columns, &mut self.table),
                    Format::Lines => parse_lines(text, &mut s.columns, &mut self.table),
                    Format::KeyValues => parse_key_values(text, &mut self.table),
                    Format::HexRows => parse_hex_rows(text, &mut s.columns, &mut self.table),
                    Format::Number(field) => {
                        if let Some(slot) = self.table.slot("", field) {
                            self.table.put(slot, parse_i64(text.trim()));
                        }
                    }
                },
                Err(CollectError::Disabled(why)) if several => {
                    let next = self.sources.get(i + 1).filter(|n| n.fallback);
                    match next {
                        Some(n) => {
                            log::info!("{}: {why}; reading {} instead", self.name, n.file.path().display())
                        }
                        None => log::info!("{}: {why}; not reading it any more", self.name),
                    }
                    self.sources.remove(i);
                    continue;
                }
                Err(e) => failed = Some(e),
            }
            i += 1;
        }
        if let Some(e) = failed {
            if !self.table.found_any() {
                return Err(e);
            }
        }
        if !self.table.found_any() {
            return Err(CollectError::Failed(format!("{}: none of the expected counters", self.name)));
        }
        self.table.publish(now_ut);
        Ok(())
    }
}

/// The chart's metadata as its spec says.
pub fn meta(spec: &Spec, module: &str, update_every: u32) -> ChartMeta {
    spec.look.meta(spec.id, spec.family, module, update_every)
}

fn dimension(d: &Dim) -> DimensionMeta {
    let multiplier = if d.pages { d.multiplier * page_size() } else { d.multiplier };
    DimensionMeta::new(d.id).name(d.name).algorithm(d.algorithm).scale(multiplier, d.divisor)
}

fn parse_pairs(text: &str, columns: &mut Columns, table: &mut Table) {
    let mut header: Option<&str> = None;
    let mut n = 0;
    for line in text.lines() {
        let Some((section, rest)) = line.split_once(':') else { continue };
        match header {
            Some(h) if h.split_once(':').is_some_and(|(s, _)| s == section) => {
                let names = h.split_once(':').map_or("", |(_, r)| r);
                let slots = columns.map(n, h, section, names, table);
                for (slot, word) in slots.iter().zip(rest.split_ascii_whitespace()) {
                    if let Some(s) = *slot {
                        table.values[s] = Some(parse_signed(word));
                    }
                }
                n += 1;
                header = None;
            }
            // A header, or a value line out of step: take it as the next header.
            _ => header = Some(line),
        }
    }
}

fn parse_lines(text: &str, columns: &mut Columns, table: &mut Table) {
    for (n, line) in text.lines().enumerate() {
        let mut words = line.split_ascii_whitespace();
        let (Some(name), Some(value)) = (words.next(), words.next()) else { continue };
        let (section, field) = match name.find('6') {
            Some(i) => name.split_at(i + 1),
            None => ("", name),
        };
        if let Some(Some(s)) = columns.map(n, name, section, field, table).first() {
            table.values[*s] = Some(parse_signed(value));
        }
    }
}

fn parse_hex_rows(text: &str, columns: &mut Columns, table: &mut Table) {
    let mut lines = text.lines();
    let Some(header) = lines.next() else { return };
    let slots = columns.map(0, header, "", header, table);
    for line in lines {
        for (slot, word) in slots.iter().zip(line.split_ascii_whitespace()) {
            let Some(s) = *slot else { continue };
            let v = u64::from_str_radix(word, 16).unwrap_or(0) as i64;
            if table.gauges[s] {
                table.put(s, v);
            } else {
                table.add(s, v);
            }
        }
    }
}

fn parse_key_values(text: &str, table: &mut Table) {
    for line in text.lines() {
        let Some((section, rest)) = line.split_once(':') else { continue };
        let mut words = rest.split_ascii_whitespace();
        while let (Some(field), Some(value)) = (words.next(), words.next()) {
            if let Some(s) = table.slot(section, field) {
                table.put(s, parse_signed(value));
            }
        }
    }
}

/// A decimal that may be negative (`Tcp: MaxConn -1`).
pub fn parse_signed(word: &str) -> i64 {
    match word.strip_prefix('-') {
        Some(rest) => parse_i64(rest).wrapping_neg(),
        None => parse_i64(word),
    }
}

#[cfg(test)]
pub(crate) mod tests;

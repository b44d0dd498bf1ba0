//! Silencers: what `/api/v1/manage/health` changes (Netdata's health command API). One
//! type for every selector — `SILENCE` (evaluated, not notified) or `DISABLE` (not
//! evaluated) —, an `all` switch (`SILENCE ALL`, `DISABLE ALL`) and a list of selectors,
//! newest first, each a set of simple patterns over the alarm name, chart id, context,
//! hostname and family that must all match. They apply to every host of this node.
//!
//! The list is bounded ([`MAX_SELECTORS`]): a selector over the bound replaces the oldest.

use crate::simple_pattern::SimplePattern;

/// Most selectors kept.
pub const MAX_SELECTORS: usize = 1000;
/// Longest pattern text kept of one selector key.
pub const MAX_PATTERN: usize = 1024;

/// What the selectors (or `all`) do to the alarms they match.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum SilenceType {
    #[default]
    None,
    /// Evaluated, not notified.
    Silence,
    /// Not evaluated.
    Disable,
}

impl SilenceType {
    /// As `LIST` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceType::None => "None",
            SilenceType::Silence => "SILENCE",
            SilenceType::Disable => "DISABLE",
        }
    }
}

/// One selector: each key given must match (Netdata's `alarm`, `chart`, `context`,
/// `hosts`, `families`).
#[derive(Clone, Debug, Default)]
pub struct Selector {
    keys: Vec<(SelectorKey, String, SimplePattern)>,
}

/// The keys of a selector, in the order `LIST` shows them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SelectorKey {
    Alarm,
    Chart,
    Context,
    Hosts,
    Families,
}

impl SelectorKey {
    /// The request parameter (and `LIST` key) of each.
    pub fn parse(name: &str) -> Option<SelectorKey> {
        Some(match name {
            "alarm" => SelectorKey::Alarm,
            "chart" => SelectorKey::Chart,
            "context" => SelectorKey::Context,
            "hosts" => SelectorKey::Hosts,
            "families" => SelectorKey::Families,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SelectorKey::Alarm => "alarm",
            SelectorKey::Chart => "chart",
            SelectorKey::Context => "context",
            SelectorKey::Hosts => "hosts",
            SelectorKey::Families => "families",
        }
    }
}

/// What a selector is matched against.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub alarm: &'a str,
    pub chart: &'a str,
    pub context: &'a str,
    pub host: &'a str,
    pub family: &'a str,
}

impl Selector {
    /// Sets a key (a later value of the same key replaces the earlier one).
    pub fn set(&mut self, key: SelectorKey, pattern: &str) {
        let text: String = pattern.chars().take(MAX_PATTERN).collect();
        let p = SimplePattern::parse(&text);
        self.keys.retain(|(k, _, _)| *k != key);
        self.keys.push((key, text, p));
        self.keys.sort_by_key(|(k, _, _)| *k);
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys and their pattern texts, in `LIST` order.
    pub fn keys(&self) -> impl Iterator<Item = (SelectorKey, &str)> {
        self.keys.iter().map(|(k, t, _)| (*k, t.as_str()))
    }

    pub fn matches(&self, t: &Target<'_>) -> bool {
        !self.keys.is_empty()
            && self.keys.iter().all(|(k, _, p)| {
                p.matches(match k {
                    SelectorKey::Alarm => t.alarm,
                    SelectorKey::Chart => t.chart,
                    SelectorKey::Context => t.context,
                    SelectorKey::Hosts => t.host,
                    SelectorKey::Families => t.family,
                })
            })
    }
}

/// The silencers of this node.
#[derive(Clone, Debug, Default)]
pub struct Silencers {
    /// `SILENCE ALL` / `DISABLE ALL` in force (of `kind`).
    pub all: bool,
    pub kind: SilenceType,
    /// Newest first.
    pub selectors: Vec<Selector>,
}

impl Silencers {
    /// `RESET`: every alarm evaluated and notified again.
    pub fn reset(&mut self) {
        *self = Silencers::default();
    }

    /// Adds a selector (newest first, the oldest dropped over [`MAX_SELECTORS`]).
    pub fn add(&mut self, s: Selector) {
        if s.is_empty() {
            return;
        }
        self.selectors.insert(0, s);
        self.selectors.truncate(MAX_SELECTORS);
    }

    /// `(disabled, silenced)` for an alarm.
    pub fn flags(&self, t: &Target<'_>) -> (bool, bool) {
        let hit = match self.kind {
            SilenceType::None => false,
            _ if self.all => true,
            _ => self.selectors.iter().any(|s| s.matches(t)),
        };
        (hit && self.kind == SilenceType::Disable, hit && self.kind == SilenceType::Silence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(alarm: &'a str, chart: &'a str) -> Target<'a> {
        Target { alarm, chart, context: "system.load", host: "h", family: "load" }
    }

    #[test]
    fn selectors_match_on_every_key_given_and_the_type_decides() {
        let mut s = Silencers::default();
        let mut sel = Selector::default();
        sel.set(SelectorKey::Alarm, "load_*");
        sel.set(SelectorKey::Chart, "system.*");
        s.add(sel);
        assert_eq!(s.flags(&target("load_1", "system.load")), (false, false), "no type yet");
        s.kind = SilenceType::Silence;
        assert_eq!(s.flags(&target("load_1", "system.load")), (false, true));
        assert_eq!(s.flags(&target("load_1", "disk.load")), (false, false), "the chart must match too");
        assert_eq!(s.flags(&target("ram", "system.load")), (false, false));
        s.kind = SilenceType::Disable;
        assert_eq!(s.flags(&target("load_1", "system.load")), (true, false));
        s.all = true;
        assert_eq!(s.flags(&target("ram", "mem.x")), (true, false), "all");
        s.reset();
        assert_eq!((s.all, s.kind, s.selectors.len()), (false, SilenceType::None, 0));
        assert_eq!(s.flags(&target("load_1", "system.load")), (false, false));
    }
}

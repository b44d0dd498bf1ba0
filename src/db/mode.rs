//! How a host keeps its samples: the `[db] db` / `memory mode` setting.
//!
//! Guarantees: only the modes nanodata implements can be constructed; Netdata's names are
//! accepted on input and produced on output, so `/netdata.conf` round-trips.

/// Where dimension slots live.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum MemoryMode {
    /// Nothing is stored; queries see no data (a pure streaming child).
    None,
    /// Anonymous memory, lost at exit.
    Ram,
    /// Memory, loaded from `<dim>.db` at start and written back by `save()` on orderly stop.
    Save,
    /// A shared file mapping the kernel writes back; survives `kill -9`.
    Map,
    /// Netdata's default: here `map` with consolidated upper tiers, sized from the
    /// `dbengine … disk space MB` budgets (see [`super::TierPlan`]).
    Dbengine,
}

impl MemoryMode {
    /// Parses a configuration value: `none`, `ram`, `save`, `map`, and Netdata's `alloc`
    /// (an alias of `ram`), ignoring ASCII case and surrounding blanks.
    ///
    /// `dbengine` (Netdata's default) is [`MemoryMode::Dbengine`]; anything else gives
    /// `None`: the caller logs that the mode is not supported and falls back to its default.
    pub fn parse(s: &str) -> Option<MemoryMode> {
        let s = s.trim();
        let eq = |name: &str| s.eq_ignore_ascii_case(name);
        if eq("none") {
            Some(MemoryMode::None)
        } else if eq("ram") || eq("alloc") {
            Some(MemoryMode::Ram)
        } else if eq("save") {
            Some(MemoryMode::Save)
        } else if eq("map") {
            Some(MemoryMode::Map)
        } else if eq("dbengine") {
            Some(MemoryMode::Dbengine)
        } else {
            None
        }
    }

    /// Netdata's name for the mode.
    pub fn as_str(&self) -> &'static str {
        match self {
            MemoryMode::None => "none",
            MemoryMode::Ram => "ram",
            MemoryMode::Save => "save",
            MemoryMode::Map => "map",
            MemoryMode::Dbengine => "dbengine",
        }
    }

    /// The mode of the rings themselves: `dbengine` keeps them as `map` does.
    pub fn storage(self) -> MemoryMode {
        match self {
            MemoryMode::Dbengine => MemoryMode::Map,
            m => m,
        }
    }

    /// The host keeps files in its database directory (`save`, `map`, `dbengine`).
    pub fn has_files(self) -> bool {
        matches!(self.storage(), MemoryMode::Save | MemoryMode::Map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names_and_aliases() {
        for m in [MemoryMode::None, MemoryMode::Ram, MemoryMode::Save, MemoryMode::Map, MemoryMode::Dbengine]
        {
            assert_eq!(MemoryMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(MemoryMode::parse("alloc"), Some(MemoryMode::Ram));
        assert_eq!(MemoryMode::parse(" MAP "), Some(MemoryMode::Map));
        assert_eq!(MemoryMode::parse("dbengine").map(MemoryMode::storage), Some(MemoryMode::Map));
        assert!(MemoryMode::Dbengine.has_files() && !MemoryMode::Ram.has_files());
        assert_eq!(MemoryMode::parse(""), None);
    }
}

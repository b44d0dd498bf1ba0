//! Older spellings of keys, mapped to their Netdata 1.37 names.
//!
//! One table serves loading and `-W set`, so an old name works the same wherever it is
//! written. Only renames that are known to be plain renames are listed.

use super::keys::{DB, DIRECTORIES, GLOBAL, LOGS, PEER, STREAM, WEB};
use super::FileKind;

/// A (section, key name) pair.
type Name = (&'static str, &'static str);

/// (file, old name, new name). A section of [`PEER`] stands for any API-key or machine-GUID
/// section, and the key stays in its section.
type Alias = (FileKind, Name, Name);

use FileKind::{Netdata as N, Stream as S};

#[rustfmt::skip]
const ALIASES: &[Alias] = &[
    (N, (GLOBAL, "update every"), (DB, "update every")),
    (N, (GLOBAL, "memory mode"), (DB, "mode")),
    (N, (GLOBAL, "history"), (DB, "retention")),
    (N, (GLOBAL, "page cache size"), (DB, "dbengine page cache size MB")),
    (N, (GLOBAL, "dbengine disk space"), (DB, "dbengine disk space MB")),
    (N, (GLOBAL, "dbengine multihost disk space"), (DB, "dbengine multihost disk space MB")),
    (N, (GLOBAL, "memory deduplication (ksm)"), (DB, "memory deduplication (ksm)")),
    (N, (GLOBAL, "gap when lost iterations above"), (DB, "gap when lost iterations above")),
    (N, (GLOBAL, "cleanup obsolete charts after seconds"), (DB, "cleanup obsolete charts after secs")),
    (N, (GLOBAL, "cleanup orphan hosts after seconds"), (DB, "cleanup orphan hosts after secs")),
    (N, (GLOBAL, "delete obsolete charts files"), (DB, "delete obsolete charts files")),
    (N, (GLOBAL, "delete orphan hosts files"), (DB, "delete orphan hosts files")),
    (N, (GLOBAL, "enable zero metrics"), (DB, "enable zero metrics")),
    (N, (GLOBAL, "debug log"), (LOGS, "debug")),
    (N, (GLOBAL, "debug flags"), (LOGS, "debug flags")),
    (N, (GLOBAL, "error log"), (LOGS, "error")),
    (N, (GLOBAL, "access log"), (LOGS, "access")),
    (N, (GLOBAL, "facility log"), (LOGS, "facility")),
    (N, (GLOBAL, "errors flood protection period"), (LOGS, "errors flood protection period")),
    (N, (GLOBAL, "errors to trigger flood protection"), (LOGS, "errors to trigger flood protection")),
    (N, (GLOBAL, "bind socket to IP"), (WEB, "bind to")),
    (N, (WEB, "bind socket to IP"), (WEB, "bind to")),
    (N, (GLOBAL, "default port"), (WEB, "default port")),
    (N, (GLOBAL, "port"), (WEB, "default port")),
    (N, (GLOBAL, "web files owner"), (WEB, "web files owner")),
    (N, (GLOBAL, "web files group"), (WEB, "web files group")),
    (N, (GLOBAL, "disconnect idle web clients after seconds"), (WEB, "disconnect idle clients after seconds")),
    (N, (GLOBAL, "respect web browser do not track policy"), (WEB, "respect do not track policy")),
    (N, (GLOBAL, "web x-frame-options header"), (WEB, "x-frame-options response header")),
    (N, (GLOBAL, "enable web responses gzip compression"), (WEB, "enable gzip compression")),
    (N, (GLOBAL, "web compression strategy"), (WEB, "gzip compression strategy")),
    (N, (GLOBAL, "web compression level"), (WEB, "gzip compression level")),
    (N, (GLOBAL, "config directory"), (DIRECTORIES, "config")),
    (N, (GLOBAL, "stock config directory"), (DIRECTORIES, "stock config")),
    (N, (GLOBAL, "log directory"), (DIRECTORIES, "log")),
    (N, (GLOBAL, "web files directory"), (DIRECTORIES, "web")),
    (N, (GLOBAL, "cache directory"), (DIRECTORIES, "cache")),
    (N, (GLOBAL, "lib directory"), (DIRECTORIES, "lib")),
    (N, (GLOBAL, "home directory"), (DIRECTORIES, "home")),
    (N, (GLOBAL, "lock directory"), (DIRECTORIES, "lock")),
    (N, (GLOBAL, "plugins directory"), (DIRECTORIES, "plugins")),
    (S, (STREAM, "buffer size"), (STREAM, "buffer size bytes")),
    (S, (STREAM, "reconnect delay"), (STREAM, "reconnect delay seconds")),
    (S, (STREAM, "timeout"), (STREAM, "timeout seconds")),
    (S, (PEER, "db mode"), (PEER, "memory mode")),
    (S, (PEER, "default db mode"), (PEER, "default memory mode")),
    (S, (PEER, "replication_step"), (PEER, "seconds per replication step")),
    (S, (PEER, "replication step"), (PEER, "seconds per replication step")),
];

/// The 1.37 (section, name) of an old spelling, or `None` when `name` is not an old name.
/// The section is `None` when it does not change.
pub(crate) fn resolve(
    file: FileKind,
    section: &str,
    name: &str,
) -> Option<(Option<&'static str>, &'static str)> {
    let peer = file == FileKind::Stream && super::keys::is_uuid(section);
    let (_, _, (to_section, to_name)) = ALIASES
        .iter()
        .find(|(f, (s, n), _)| *f == file && (*s == section || (peer && *s == PEER)) && *n == name)?;
    let moved = *to_section != PEER && *to_section != section;
    Some((moved.then_some(*to_section), *to_name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys;

    #[test]
    fn every_alias_leads_to_a_registered_key() {
        for &(file, (old_section, old), (section, name)) in ALIASES {
            assert!(keys::find(file, old_section, old).is_none(), "{old} is registered");
            let section = if section == PEER { "11111111-2222-3333-4444-555555555555" } else { section };
            assert!(keys::find(file, section, name).is_some(), "[{section}] {name}");
        }
    }

    #[test]
    fn old_names_resolve() {
        assert_eq!(resolve(N, "global", "memory mode"), Some((Some(DB), "mode")));
        assert_eq!(resolve(N, "web", "bind socket to IP"), Some((None, "bind to")));
        assert_eq!(resolve(N, "db", "memory mode"), None);
        assert_eq!(resolve(S, "global", "memory mode"), None);
        assert_eq!(
            resolve(S, "11111111-2222-3333-4444-555555555555", "db mode"),
            Some((None, "memory mode"))
        );
        assert_eq!(resolve(S, "stream", "db mode"), None);
    }
}

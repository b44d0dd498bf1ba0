//! Dropping root: `[global] run as user` (and `-u USER`).
//!
//! Started as root, the daemon binds its ports, creates its directories and opens its log
//! and pid files first; then it hands those to the user (its uid and primary gid, as
//! Netdata does) and switches for good: supplementary groups, group, user — in that order,
//! because each step needs the privilege the next one drops. The switch happens before any
//! byte from outside is read (no connection is accepted, no plugin spawned, no collector
//! started before it), and is checked to be irreversible: `setuid(0)` must fail afterwards.
//!
//! A user that does not exist is logged and the daemon goes on as it is, so `make run` as
//! a developer or a root without that user still works; so are directories the user could
//! not reach, and directories shared with the system (`/var/log`), which are never given
//! away. Not started as root, there is nothing to switch (the service manager already
//! chose the user).
//!
//! The libc calls are in `sys::user`, small safe functions with bounded buffers.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::sys;

/// Longest user name accepted (Linux tools limit names to 32 bytes; leave room).
const MAX_NAME: usize = 256;
/// How deep the ownership walk goes below a directory (host / chart / dimension file is 3).
const MAX_DEPTH: usize = 8;
/// Most entries the ownership walk visits in one directory tree.
const MAX_ENTRIES: usize = 2_000_000;

/// A user from the password database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    /// The primary group.
    pub gid: u32,
    pub home: PathBuf,
}

/// What to do with the value of `run as user`, given who we are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Empty value: stay as we are.
    Keep,
    /// Not root: no switch is possible or needed; `same` when already that user.
    NotRoot { same: bool },
    /// Root, and the user exists: switch to it.
    Switch(User),
    /// Root and the user is root too (`run as user = root`).
    AlreadyRoot,
    /// Root, and there is no such user.
    Missing,
}

/// Checks a configured user name: trimmed, not empty, no NUL, no whitespace or `:` (they
/// cannot appear in a passwd entry's name field), bounded. `Ok(None)` means "keep the
/// current user".
pub fn parse_name(value: &str) -> Result<Option<String>, String> {
    let name = value.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.len() > MAX_NAME {
        return Err(format!("a user name of {} bytes is too long (at most {MAX_NAME})", name.len()));
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control() || *c == ':' || *c == '/') {
        return Err(format!("'{}' is not a user name (it contains {c:?})", name.escape_debug()));
    }
    Ok(Some(name.to_owned()))
}

/// Decides what to do for `name` (already parsed) when running with effective uid `euid`;
/// `lookup` finds the user. As root a failed lookup is an error; otherwise it only means
/// "not the same user".
pub fn plan(
    name: Option<&str>,
    euid: u32,
    lookup: impl FnOnce(&str) -> io::Result<Option<User>>,
) -> io::Result<Plan> {
    let Some(name) = name else { return Ok(Plan::Keep) };
    if euid != 0 {
        let same = matches!(lookup(name), Ok(Some(u)) if u.uid == euid);
        return Ok(Plan::NotRoot { same });
    }
    Ok(match lookup(name)? {
        None => Plan::Missing,
        Some(u) if u.uid == 0 => Plan::AlreadyRoot,
        Some(u) => Plan::Switch(u),
    })
}

/// [`run_as_configured`] failed in a way the daemon must not survive (already logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MustStop;

/// The whole step, as `main` runs it: reads `run as user`, and as root hands `dirs`
/// (cache, lib, log) and `files` (log files, pid file) to the user, then switches. Logs
/// what it did. `Err` (logged) means the daemon must not go on: the switch failed half
/// way, or the user cannot use a directory the daemon needs (`required`).
pub fn run_as_configured(value: &str, dirs: &[(&Path, bool)], files: &[PathBuf]) -> Result<(), MustStop> {
    let euid = euid();
    let name = match parse_name(value) {
        Ok(n) => n,
        Err(e) => {
            log::error!("[global] run as user: {e}; going on as uid {euid}");
            return Ok(());
        }
    };
    let who = name.as_deref().unwrap_or("");
    match plan(name.as_deref(), euid, lookup) {
        Ok(Plan::Keep) => log::debug!("[global] run as user is empty: going on as uid {euid}"),
        Ok(Plan::NotRoot { same: true }) => log::debug!("running as user {who} (uid {euid}) already"),
        Ok(Plan::NotRoot { same: false }) => log::info!(
            "not started as root (uid {euid}): no switch to user '{who}' is needed, going on as uid {euid}"
        ),
        Ok(Plan::AlreadyRoot) => log::info!("[global] run as user = {who}: going on as root"),
        Ok(Plan::Missing) => log::error!(
            "[global] run as user = {who}: there is no such user; going on as root \
             (create the user, or set the option to an existing one)"
        ),
        Err(e) => log::error!("[global] run as user = {who}: cannot look the user up: {e}; going on as root"),
        Ok(Plan::Switch(user)) => return switch_step(&user, dirs, files),
    }
    Ok(())
}

fn switch_step(user: &User, dirs: &[(&Path, bool)], files: &[PathBuf]) -> Result<(), MustStop> {
    let groups = super::groups::of(user).unwrap_or_else(|e| {
        log::error!("cannot read the groups of user '{}': {e}; using only its primary group", user.name);
        vec![user.gid]
    });
    // A directory the user could not reach (a checkout in /root, a 0700 temporary
    // directory) would leave a daemon that cannot work; as Netdata when it cannot become
    // the user, go on as root then, with the reason.
    for (dir, required) in dirs {
        if !*required {
            continue;
        }
        if let Err(blocker) = reachable(dir, user, &groups) {
            log::error!(
                "[global] run as user = {}: the user could not enter {} (to reach {}); going on as root \
                 (make the directories above it searchable, or set [global] run as user to empty)",
                user.name,
                blocker.display(),
                dir.display()
            );
            return Ok(());
        }
    }
    // A directory shared with the system (`[directories] log = /var/log`) is never given
    // away, nor what other programs keep in it.
    let shared = |dir: &Path| {
        let shared = is_system_dir(dir);
        if shared {
            log::error!(
                "[global] run as user = {}: {} is a system directory, not giving it to the user \
                 (point [directories] at directories of nanodata's own)",
                user.name,
                dir.display()
            );
        }
        shared
    };
    if dirs.iter().any(|(dir, required)| *required && shared(dir)) {
        log::error!("[global] run as user = {}: going on as root", user.name);
        return Ok(());
    }
    for (dir, required) in dirs {
        if !dir.exists() || (!*required && shared(dir)) {
            continue;
        }
        match hand_over(dir, 0, user.uid, user.gid) {
            Ok(h) => {
                if h.changed > 1 || h.skipped > 0 || h.truncated {
                    log::info!(
                        "{} given to user '{}': {} entries changed, {} left alone{}",
                        dir.display(),
                        user.name,
                        h.changed,
                        h.skipped,
                        if h.truncated { ", walk stopped at its bound" } else { "" }
                    );
                }
            }
            Err(e) => log::warn!("cannot give {} to user '{}': {e}", dir.display(), user.name),
        }
    }
    for file in files {
        let Ok(meta) = std::fs::symlink_metadata(file) else { continue };
        // `error = /var/log/messages` or `/dev/null` are not nanodata's to give away.
        if !meta.is_file() || meta.nlink() != 1 || file.parent().is_some_and(is_system_dir) {
            log::info!(
                "{} is not given to user '{}' (not a file of nanodata's own)",
                file.display(),
                user.name
            );
            continue;
        }
        if let Err(e) = chown(file, user.uid, user.gid) {
            log::warn!("cannot give {} to user '{}': {e}", file.display(), user.name);
        }
    }
    if let Err(e) = switch_to(user, &groups) {
        log::error!(
            "cannot switch to user '{}' (uid {}, gid {}): {e}; exiting",
            user.name,
            user.uid,
            user.gid
        );
        return Err(MustStop);
    }
    log::info!(
        "running as user '{}' (uid {}, gid {}, groups {:?}); setuid(0) fails as it should",
        user.name,
        user.uid,
        user.gid,
        groups
    );
    let mut ok = true;
    for (dir, required) in dirs {
        if let Err(e) = can_use_dir(dir) {
            if *required {
                log::error!(
                    "user '{}' cannot use {}: {e}; check its permissions and those of the directories \
                     above it, or set [global] run as user to another user",
                    user.name,
                    dir.display()
                );
                ok = false;
            } else if dir.exists() {
                log::warn!("user '{}' cannot use {}: {e}", user.name, dir.display());
            }
        }
    }
    if ok {
        Ok(())
    } else {
        Err(MustStop)
    }
}

/// Looks `name` up in the password database (`getpwnam_r`); `Ok(None)` if there is no such
/// user.
pub fn lookup(name: &str) -> io::Result<Option<User>> {
    Ok(sys::user::getpwnam(name)?.map(|p| User {
        name: name.to_owned(),
        uid: p.uid,
        gid: p.gid,
        home: p.home,
    }))
}

/// The groups of `user`: its primary group and every group listing it (`getgrouplist`).
pub fn group_list(user: &User) -> io::Result<Vec<u32>> {
    sys::user::group_list(&user.name, user.gid)
}

/// Real, effective and saved user ids, then the same for groups.
pub fn ids() -> ([u32; 3], [u32; 3]) {
    sys::user::ids()
}

/// The effective user id.
pub fn euid() -> u32 {
    sys::user::euid()
}

/// Switches the whole process (every thread: glibc and musl apply set*id to all of them)
/// to `user` with `groups` as supplementary groups, and checks that it cannot go back.
pub fn switch_to(user: &User, groups: &[u32]) -> io::Result<()> {
    sys::user::set_groups(groups).map_err(|e| context("setgroups", e))?;
    // As root, setgid and setuid set the real, effective and saved ids together.
    sys::user::set_gid(user.gid).map_err(|e| context("setgid", e))?;
    sys::user::set_uid(user.uid).map_err(|e| context("setuid", e))?;
    let (u, g) = ids();
    if u != [user.uid; 3] || g != [user.gid; 3] {
        return Err(io::Error::other(format!(
            "after the switch the ids are uid {u:?} gid {g:?}, not {} / {}",
            user.uid, user.gid
        )));
    }
    // The switch must be irreversible (a saved uid of 0 would allow going back).
    if user.uid != 0 && sys::user::set_uid(0).is_ok() {
        return Err(io::Error::other("setuid(0) succeeded after the switch"));
    }
    Ok(())
}

fn context(what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Changes the owner of one path, not following a symbolic link.
pub fn chown(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
}

/// Whether the user with real uid/gid of this process may read, write and enter `dir`
/// (`access(2)` checks the real ids, so after the switch this asks for the user).
pub fn can_use_dir(dir: &Path) -> io::Result<()> {
    sys::fs::can_read_write_enter(dir)
}

/// Directories the system and other programs share: never handed over.
const SYSTEM_DIRS: &[&str] = &[
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/media",
    "/mnt",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/usr/lib",
    "/usr/libexec",
    "/usr/local",
    "/usr/share",
    "/var",
    "/var/cache",
    "/var/lib",
    "/var/lib/private",
    "/var/log",
    "/var/run",
    "/var/spool",
    "/var/tmp",
    "/overlay",
    "/rom",
    "/www",
];

/// Whether `dir` is `/` or one of [`SYSTEM_DIRS`], by its real path (so `/var/cache/../log`
/// or a link to `/var/log` count too). A path that does not exist is not.
pub fn is_system_dir(dir: &Path) -> bool {
    let Ok(real) = std::fs::canonicalize(dir) else { return false };
    real.parent().is_none() || SYSTEM_DIRS.iter().any(|s| real == Path::new(s))
}

/// Whether `user` (with `groups`) may search every directory above `dir`; `Err` names the
/// first one it may not. Mode bits only (ACLs are not read): the check after the switch
/// ([`can_use_dir`]) is the exact one.
pub fn reachable(dir: &Path, user: &User, groups: &[u32]) -> Result<(), PathBuf> {
    let Ok(full) = std::fs::canonicalize(dir) else { return Err(dir.to_path_buf()) };
    let mut above: Vec<&Path> = full.ancestors().skip(1).collect();
    above.reverse();
    for p in above {
        let Ok(m) = std::fs::metadata(p) else { return Err(p.to_path_buf()) };
        if !may_search(m.mode(), m.uid(), m.gid(), user.uid, user.gid, groups) {
            return Err(p.to_path_buf());
        }
    }
    Ok(())
}

/// The kernel's rule for the search (x) bit: owner bits for the owner, else group bits for
/// a member, else the others' bits.
fn may_search(mode: u32, owner: u32, group: u32, uid: u32, gid: u32, groups: &[u32]) -> bool {
    if uid == 0 {
        return true;
    }
    if uid == owner {
        mode & 0o100 != 0
    } else if gid == group || groups.contains(&group) {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// What [`hand_over`] did with one directory tree.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HandOver {
    /// Entries whose owner was changed (the directory itself included).
    pub changed: usize,
    /// Entries left alone for safety (links, hard-linked files, writable by others).
    pub skipped: usize,
    /// The walk stopped at [`MAX_DEPTH`] or [`MAX_ENTRIES`].
    pub truncated: bool,
}

/// Gives the directory `dir` to `uid:gid`, and with it what an earlier run as `owner`
/// (root) left inside: files written before nanodata dropped root would otherwise stay
/// unwritable for the user.
///
/// Safe against a user who could already write inside: the walk only enters directories
/// owned by `owner` and writable by nobody else (so nobody can swap an entry for a link
/// while the walk runs), changes children before their directory, never follows or
/// changes a symbolic link, and skips files with more than one hard link. A directory
/// already owned by the user is not entered at all.
pub fn hand_over(dir: &Path, owner: u32, uid: u32, gid: u32) -> io::Result<HandOver> {
    let mut plan = Vec::new();
    let mut out = HandOver::default();
    walk(dir, owner, &mut plan, &mut out)?;
    for path in &plan {
        match chown(path, uid, gid) {
            Ok(()) => out.changed += 1,
            Err(e) => {
                log::warn!("cannot give {} to uid {uid}: {e}", path.display());
                out.skipped += 1;
            }
        }
    }
    Ok(out)
}

/// Lists (children first) what [`hand_over`] changes below and including `dir`.
fn walk(dir: &Path, owner: u32, plan: &mut Vec<PathBuf>, out: &mut HandOver) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other("not a directory"));
    }
    if meta.uid() == owner && meta.mode() & 0o022 == 0 {
        walk_inside(dir, owner, 1, plan, out);
    }
    // The directory itself always goes to the user (as Netdata's chown of its directories).
    plan.push(dir.to_path_buf());
    Ok(())
}

fn walk_inside(dir: &Path, owner: u32, depth: usize, plan: &mut Vec<PathBuf>, out: &mut HandOver) {
    if depth > MAX_DEPTH {
        out.truncated = true;
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        out.skipped += 1;
        return;
    };
    for entry in entries.flatten() {
        if plan.len() + out.skipped >= MAX_ENTRIES {
            out.truncated = true;
            return;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.uid() != owner {
            continue;
        }
        let ft = meta.file_type();
        if ft.is_dir() {
            if meta.mode() & 0o022 != 0 {
                out.skipped += 1;
                continue;
            }
            walk_inside(&path, owner, depth + 1, plan, out);
            plan.push(path);
        } else if ft.is_file() && meta.nlink() == 1 {
            plan.push(path);
        } else {
            out.skipped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn names_are_checked() {
        assert_eq!(parse_name(""), Ok(None));
        assert_eq!(parse_name("  \t"), Ok(None));
        assert_eq!(parse_name(" netdata "), Ok(Some("netdata".into())));
        assert_eq!(parse_name("nano-data_1$"), Ok(Some("nano-data_1$".into())));
        assert!(parse_name("net data").unwrap_err().contains("not a user name"));
        assert!(parse_name("a:b").is_err());
        assert!(parse_name("a\0b").is_err());
        assert!(parse_name("../x").is_err());
        assert!(parse_name(&"u".repeat(MAX_NAME + 1)).unwrap_err().contains("too long"));
    }

    fn user(uid: u32) -> User {
        User { name: "u".into(), uid, gid: uid + 1, home: PathBuf::from("/") }
    }

    #[test]
    fn plan_covers_every_case() {
        let found = |uid| move |_: &str| Ok(Some(user(uid)));
        let failing = |_: &str| Err(io::Error::other("EIO"));
        assert_eq!(plan(None, 0, |_| panic!("no lookup for an empty value")).unwrap(), Plan::Keep);
        assert_eq!(plan(Some("u"), 0, found(999)).unwrap(), Plan::Switch(user(999)));
        assert_eq!(plan(Some("u"), 0, found(0)).unwrap(), Plan::AlreadyRoot);
        assert_eq!(plan(Some("u"), 0, |_| Ok(None)).unwrap(), Plan::Missing);
        assert!(plan(Some("u"), 0, failing).is_err());
        assert_eq!(plan(Some("u"), 1000, found(999)).unwrap(), Plan::NotRoot { same: false });
        assert_eq!(plan(Some("u"), 999, found(999)).unwrap(), Plan::NotRoot { same: true });
        assert_eq!(plan(Some("u"), 999, |_| Ok(None)).unwrap(), Plan::NotRoot { same: false });
        assert_eq!(plan(Some("u"), 999, failing).unwrap(), Plan::NotRoot { same: false });
    }

    #[test]
    fn lookup_finds_root_and_not_a_stranger() {
        let root = lookup("root").unwrap().expect("root is in every passwd");
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(lookup("nanodata-no-such-user-x").unwrap(), None);
        assert!(lookup("a\0b").is_err());
        let groups = group_list(&root).unwrap();
        assert_eq!(groups.first(), Some(&0), "the primary group comes first: {groups:?}");
    }

    #[test]
    fn hand_over_plan_skips_what_is_unsafe() {
        let base = std::env::temp_dir().join(format!("nanodata-user-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let mode = |p: &Path, m| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
        std::fs::create_dir_all(base.join("host/chart")).unwrap();
        std::fs::create_dir_all(base.join("open")).unwrap();
        for d in [&base, &base.join("host"), &base.join("host/chart"), &base.join("open")] {
            mode(d, 0o755);
        }
        mode(&base.join("open"), 0o777);
        std::fs::write(base.join("host/chart/a.db"), b"x").unwrap();
        std::fs::write(base.join("open/b.db"), b"x").unwrap();
        std::fs::write(base.join("linked"), b"x").unwrap();
        std::fs::hard_link(base.join("linked"), base.join("linked2")).unwrap();
        std::os::unix::fs::symlink("/etc", base.join("link")).unwrap();

        let me = euid();
        let mut plan = Vec::new();
        let mut out = HandOver::default();
        walk(&base, me, &mut plan, &mut out).unwrap();
        let rel: Vec<String> =
            plan.iter().map(|p| p.strip_prefix(&base).unwrap().display().to_string()).collect();
        assert_eq!(rel, ["host/chart/a.db", "host/chart", "host", ""], "children first, dir last");
        // open/ (world-writable), linked + linked2 (2 links), link (symlink).
        assert_eq!(out.skipped, 4);
        assert!(!out.truncated);

        // Owned by someone else: only the directory itself.
        let mut plan = Vec::new();
        walk(&base, me.wrapping_add(1), &mut plan, &mut HandOver::default()).unwrap();
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0], base);

        // Chowning to ourselves is allowed for anyone: the whole pass runs.
        let done = hand_over(&base, me, me, ids().1[1]).unwrap();
        assert_eq!(done.changed, 4);
        assert!(hand_over(&base.join("linked"), me, me, 0).is_err(), "a file is not a directory");
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn search_permission_follows_the_kernel_rule() {
        // owner 10, group 20; the user is 10, or 11 in group 20, or 12 elsewhere.
        assert!(may_search(0o700, 10, 20, 10, 99, &[]));
        assert!(!may_search(0o077, 10, 20, 10, 20, &[20]), "the owner gets the owner bits only");
        assert!(may_search(0o710, 10, 20, 11, 20, &[]));
        assert!(may_search(0o710, 10, 20, 11, 99, &[5, 20]), "a supplementary group counts");
        assert!(!may_search(0o701, 10, 20, 11, 20, &[]), "a member gets the group bits only");
        assert!(may_search(0o701, 10, 20, 12, 99, &[]));
        assert!(!may_search(0o770, 10, 20, 12, 99, &[]));
        assert!(may_search(0o000, 10, 20, 0, 0, &[]));

        let base = std::env::temp_dir().join(format!("nanodata-user-reach-{}", std::process::id()));
        std::fs::create_dir_all(base.join("a/b")).unwrap();
        let stranger = User { name: "s".into(), uid: 4_000_000, gid: 4_000_000, home: PathBuf::new() };
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(base.join("a"), std::fs::Permissions::from_mode(0o700)).unwrap();
        let tmp_ok = reachable(&std::env::temp_dir(), &stranger, &[]).is_ok();
        if tmp_ok {
            assert_eq!(
                reachable(&base.join("a/b"), &stranger, &[]),
                Err(std::fs::canonicalize(base.join("a")).unwrap())
            );
            assert_eq!(
                reachable(&base.join("a"), &stranger, &[]),
                Ok(()),
                "the directory itself is not checked"
            );
        }
        assert!(reachable(&base.join("missing"), &stranger, &[]).is_err());
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn system_directories_are_recognised_through_links() {
        for d in ["/", "/var/log", "/tmp", "/etc", "/var/log/../cache", "/usr//share/"] {
            if Path::new(d).exists() {
                assert!(is_system_dir(Path::new(d)), "{d}");
            }
        }
        let base = std::env::temp_dir().join(format!("nanodata-user-sys-{}", std::process::id()));
        std::fs::create_dir_all(base.join("cache")).unwrap();
        assert!(!is_system_dir(&base.join("cache")));
        std::os::unix::fs::symlink("/tmp", base.join("tmp-link")).unwrap();
        assert!(is_system_dir(&base.join("tmp-link")), "a link to a system directory");
        assert!(!is_system_dir(&base.join("missing")), "a missing directory is not handed over anyway");
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn access_is_checked_for_the_real_user() {
        assert!(can_use_dir(&std::env::temp_dir()).is_ok());
        assert!(can_use_dir(Path::new("/nonexistent-nanodata")).is_err());
    }
}

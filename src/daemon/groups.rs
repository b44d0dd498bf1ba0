//! The supplementary groups of the user the daemon switches to, from `/etc/group` when the
//! system's name service would read only that file anyway.
//!
//! glibc's `getgrouplist` asks every service on the `group:` line of `/etc/nsswitch.conf`,
//! and loading one (`systemd`, on Debian by default) maps its shared object and the libraries
//! it needs (libnss_systemd, libcap, libm) into the daemon for good: about 800 KiB of RSS in
//! a process that is otherwise 5 MiB, for a lookup done once at start. When the line names
//! only `files` and `systemd` (whose memberships come from user records that system users
//! such as `netdata` do not have), the answer is in `/etc/group`, which this module reads
//! itself — musl does the same, it has no NSS. Any other service (ldap, sss, nis, compat
//! entries), or a file that cannot be read, falls back to `getgrouplist`.

use std::io::Read;

use super::user::User;

/// `/etc/group` larger than this is not read here (the libc lookup is used instead).
const MAX_FILE: u64 = 4 << 20;
/// As many groups as the kernel accepts in `setgroups` (NGROUPS_MAX).
const MAX_GROUPS: usize = 65_536;

/// The user's primary group first, then every group of `/etc/group` listing it, as
/// `getgrouplist` returns them.
pub fn of(user: &User) -> std::io::Result<Vec<u32>> {
    let files_only = match read("/etc/nsswitch.conf") {
        Some(text) => group_services_are_local(&text),
        None => true, // no nsswitch.conf: glibc uses "files", musl has nothing else
    };
    if files_only {
        if let Some(groups) = read("/etc/group").and_then(|t| from_group_file(&t, &user.name, user.gid)) {
            return Ok(groups);
        }
    }
    super::user::group_list(user)
}

fn read(path: &str) -> Option<String> {
    let mut text = String::new();
    std::fs::File::open(path).ok()?.take(MAX_FILE + 1).read_to_string(&mut text).ok()?;
    (text.len() as u64 <= MAX_FILE).then_some(text)
}

/// Whether the `group:` line of nsswitch.conf names only services whose answer for a system
/// user is in `/etc/group` (a missing line means "files").
fn group_services_are_local(nsswitch: &str) -> bool {
    for line in nsswitch.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some(services) = line.strip_prefix("group:") else { continue };
        return services
            .split_whitespace()
            .filter(|w| !w.starts_with('['))
            .all(|w| w == "files" || w == "systemd");
    }
    true
}

/// The groups listing `name` in the text of `/etc/group`, after `primary`; `None` when the
/// file uses NIS compat entries (`+`/`-` lines), which only the libc lookup understands.
fn from_group_file(text: &str, name: &str, primary: u32) -> Option<Vec<u32>> {
    let mut groups = vec![primary];
    for line in text.lines() {
        if line.starts_with('+') || line.starts_with('-') {
            return None;
        }
        let mut fields = line.split(':');
        let (Some(_group), Some(_pw), Some(gid), Some(members)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue; // comments, blank and malformed lines: glibc skips them too
        };
        let Ok(gid) = gid.trim().parse::<u32>() else { continue };
        if members.split(',').any(|m| m.trim() == name) && !groups.contains(&gid) {
            if groups.len() >= MAX_GROUPS {
                break;
            }
            groups.push(gid);
        }
    }
    Some(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nsswitch_lines() {
        assert!(group_services_are_local("passwd: files systemd\ngroup:          files systemd\n"));
        assert!(group_services_are_local("group: files [SUCCESS=merge] systemd # comment ldap\n"));
        assert!(group_services_are_local("passwd: files ldap\n"), "no group line: files");
        assert!(!group_services_are_local("group: files ldap\n"));
        assert!(!group_services_are_local("group: compat\n"));
        assert!(!group_services_are_local("group: sss files\n"));
    }

    #[test]
    fn group_file_memberships() {
        let text = "root:x:0:\nadm:x:4:syslog,netdata\n# comment\nbroken\nnetdata:x:995:\n\
                    docker:x:998: alice , netdata\nnetdatax:x:5:netdatax\nbad:x:notanumber:netdata\n";
        assert_eq!(from_group_file(text, "netdata", 995), Some(vec![995, 4, 998]));
        assert_eq!(from_group_file(text, "alice", 1000), Some(vec![1000, 998]));
        assert_eq!(from_group_file(text, "nobody", 65534), Some(vec![65534]));
        assert_eq!(from_group_file("+:::\n", "netdata", 1), None, "NIS compat: ask libc");
    }

    #[test]
    fn same_answer_as_getgrouplist_here() {
        // On this machine, for root (always in /etc/passwd), both ways must agree as sets.
        let root = User { name: "root".into(), uid: 0, gid: 0, home: "/root".into() };
        let mut ours = of(&root).unwrap();
        let mut libc = super::super::user::group_list(&root).unwrap();
        ours.sort_unstable();
        libc.sort_unstable();
        assert_eq!(ours, libc);
    }
}

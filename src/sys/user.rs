//! Users and groups: the password database, the process's ids, and switching them.
//!
//! Buffers are bounded: a passwd entry gets at most [`MAX_PW_BUFFER`] bytes and a user at
//! most [`MAX_GROUPS`] groups.

use std::ffi::CStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::{c_string, check};

/// Largest buffer `getpwnam_r` may ask for (a passwd entry is a few hundred bytes; NSS
/// back ends with long GECOS fields or home paths ask for more, never this much).
pub const MAX_PW_BUFFER: usize = 1 << 20;
/// Most supplementary groups taken (Linux's NGROUPS_MAX is 65536).
pub const MAX_GROUPS: usize = 65_536;

/// One entry of the password database (the fields nanodata uses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passwd {
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// The home directory (empty if the entry has none).
    pub home: PathBuf,
}

/// Looks `name` up in the password database (`getpwnam_r`); `Ok(None)` if there is no such
/// user.
pub fn getpwnam(name: &str) -> io::Result<Option<Passwd>> {
    let cname = c_string(name.as_bytes(), "user name")?;
    lookup_r(|buf| {
        // SAFETY: passwd is a plain C struct; all-zero (null pointers) is a valid value that
        // getpwnam_r overwrites.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: the NUL-terminated name, `pwd`, the
        // buffer with its true length, and `result`. The strings `pwd` points to live in
        // `buf`, which outlives their use below.
        let rc = unsafe {
            libc::getpwnam_r(cname.as_ptr(), &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result)
        };
        if rc != 0 || result.is_null() {
            return (rc, None);
        }
        let home = if pwd.pw_dir.is_null() {
            PathBuf::new()
        } else {
            // SAFETY: a non-null pw_dir points at a NUL-terminated string inside `buf`.
            PathBuf::from(std::ffi::OsStr::from_bytes(unsafe { CStr::from_ptr(pwd.pw_dir) }.to_bytes()))
        };
        (0, Some(Passwd { uid: pwd.pw_uid, gid: pwd.pw_gid, home }))
    })
}

/// The id of group `name` (`getgrnam_r`); `Ok(None)` if there is no such group.
pub fn getgrnam(name: &str) -> io::Result<Option<u32>> {
    let cname = c_string(name.as_bytes(), "group name")?;
    lookup_r(|buf| {
        // SAFETY: group is a plain C struct; all-zero (null pointers) is a valid value that
        // getgrnam_r overwrites.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: the NUL-terminated name, `grp`, the
        // buffer with its true length, and `result`; only the gid (no pointer) is read after.
        let rc = unsafe {
            libc::getgrnam_r(cname.as_ptr(), &mut grp, buf.as_mut_ptr().cast(), buf.len(), &mut result)
        };
        (rc, (rc == 0 && !result.is_null()).then_some(grp.gr_gid))
    })
}

/// Runs one reentrant `get*nam_r` lookup: `call` gets a scratch buffer and returns the C
/// return code and what it read from the entry found. The buffer doubles on `ERANGE` up to
/// [`MAX_PW_BUFFER`]; the codes POSIX allows for "not found" are `Ok(None)`.
fn lookup_r<T>(mut call: impl FnMut(&mut [u8]) -> (libc::c_int, Option<T>)) -> io::Result<Option<T>> {
    let mut len = 1024usize;
    loop {
        let mut buf = vec![0u8; len];
        let (rc, found) = call(&mut buf);
        if rc == libc::ERANGE && len < MAX_PW_BUFFER {
            len *= 2;
            continue;
        }
        if matches!(rc, libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM) {
            return Ok(None);
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        return Ok(found);
    }
}

/// The effective group id.
pub fn egid() -> u32 {
    // SAFETY: getegid has no preconditions and cannot fail.
    unsafe { libc::getegid() }
}

/// The groups of user `name` whose primary group is `gid`: `gid` first, then every group
/// listing the user (`getgrouplist`).
pub fn group_list(name: &str, gid: u32) -> io::Result<Vec<u32>> {
    let cname = c_string(name.as_bytes(), "user name")?;
    let mut want: usize = 64;
    loop {
        let mut groups: Vec<libc::gid_t> = vec![0; want];
        let mut n = libc::c_int::try_from(want).unwrap_or(libc::c_int::MAX);
        // SAFETY: `groups` has room for `n` gids, `n` is a valid c_int; getgrouplist writes
        // at most `n` entries and stores the real count in `n`.
        let rc = unsafe { libc::getgrouplist(cname.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        let n = usize::try_from(n).unwrap_or(0);
        if rc >= 0 {
            groups.truncate(n.min(want));
            return Ok(groups);
        }
        // -1: the list did not fit; `n` says how many there are (glibc and musl both).
        if n <= want || want >= MAX_GROUPS {
            return Err(io::Error::other(format!("more than {want} groups")));
        }
        want = n.min(MAX_GROUPS);
    }
}

/// Real, effective and saved user ids, then the same for groups.
pub fn ids() -> ([u32; 3], [u32; 3]) {
    let (mut ru, mut eu, mut su) = (0, 0, 0);
    let (mut rg, mut eg, mut sg) = (0, 0, 0);
    // SAFETY: the pointers are valid, writable u32s; these calls cannot fail on Linux.
    unsafe {
        libc::getresuid(&mut ru, &mut eu, &mut su);
        libc::getresgid(&mut rg, &mut eg, &mut sg);
    }
    ([ru, eu, su], [rg, eg, sg])
}

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Sets the supplementary groups of the process (at most [`MAX_GROUPS`] are taken).
pub fn set_groups(groups: &[u32]) -> io::Result<()> {
    let groups = &groups[..groups.len().min(MAX_GROUPS)];
    // SAFETY: the pointer and length describe `groups`, which lives across the call.
    check(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) })?;
    Ok(())
}

/// `setgid(2)`: as root, sets the real, effective and saved group ids together.
pub fn set_gid(gid: u32) -> io::Result<()> {
    // SAFETY: plain syscall wrapper, result checked.
    check(unsafe { libc::setgid(gid) })?;
    Ok(())
}

/// `setuid(2)`: as root, sets the real, effective and saved user ids together (glibc and
/// musl apply it to every thread of the process).
pub fn set_uid(uid: u32) -> io::Result<()> {
    // SAFETY: plain syscall wrapper, result checked.
    check(unsafe { libc::setuid(uid) })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_found_and_a_stranger_is_not() {
        let root = getpwnam("root").unwrap().expect("root is in every passwd");
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(getpwnam("nanodata-no-such-user-x").unwrap(), None);
        assert_eq!(getpwnam("a\0b").unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let groups = group_list("root", 0).unwrap();
        assert_eq!(groups.first(), Some(&0), "the primary group comes first: {groups:?}");
        assert_eq!(getgrnam("root").unwrap(), Some(0), "group root is 0 on Linux");
        assert_eq!(getgrnam("nanodata-no-such-group-x").unwrap(), None);
    }

    #[test]
    fn ids_agree_with_proc() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = |k: &str| -> Vec<u32> {
            let l = status.lines().find(|l| l.starts_with(k)).unwrap();
            l.split_whitespace().skip(1).take(3).map(|v| v.parse().unwrap()).collect()
        };
        let (u, g) = ids();
        assert_eq!(u.to_vec(), line("Uid:"));
        assert_eq!(g.to_vec(), line("Gid:"));
        assert_eq!(euid(), u[1]);
        assert_eq!(egid(), g[1]);
    }
}

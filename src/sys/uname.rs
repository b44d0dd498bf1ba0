//! The kernel's names: `uname(2)` and the host name.

use std::io;

use super::{c_chars, check};

/// What `uname(2)` says (the fields nanodata reports).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uname {
    /// The kernel name (`Linux`).
    pub sysname: String,
    /// The kernel release (`6.1.0-18-amd64`).
    pub release: String,
    /// The hardware name (`x86_64`, `armv7l`, `mips`).
    pub machine: String,
}

/// `uname(2)`.
pub fn uname() -> io::Result<Uname> {
    // SAFETY: utsname is plain old data; uname fills it and NUL-terminates every field.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname.
    check(unsafe { libc::uname(&mut u) })?;
    Ok(Uname { sysname: c_chars(&u.sysname), release: c_chars(&u.release), machine: c_chars(&u.machine) })
}

/// The kernel's host name (`gethostname`), lossy UTF-8, at most 255 bytes.
pub fn hostname() -> io::Result<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, which lives across the call; one byte
    // is held back so the result is NUL-terminated even if truncated.
    check(unsafe { libc::gethostname(buf.as_mut_ptr().cast::<libc::c_char>(), buf.len() - 1) })?;
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uname_matches_proc() {
        let u = uname().unwrap();
        assert_eq!(u.sysname, "Linux");
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert_eq!(u.release, release.trim());
        assert!(!u.machine.is_empty());
    }

    #[test]
    fn hostname_matches_proc() {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(hostname().unwrap(), name.trim_end_matches('\n'));
    }
}

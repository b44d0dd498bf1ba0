//! Every call into the C library, behind small safe functions (as mio keeps its OS code
//! under `sys/`).
//!
//! Nothing outside this module names `libc` or writes `unsafe` (the one exception is the
//! memory map of the database file in `db/`, whose safety rests on how `db/` uses that
//! file). Each function here takes and returns plain Rust values, checks the call's result
//! and turns a failure into an [`std::io::Error`], so the code above is ordinary Rust and
//! can be tested with fixtures. Constants the callers compare with (signal numbers, clock
//! flags, syslog levels) are re-exported from the submodule that uses them.

#![warn(missing_docs)]

pub mod fd;
pub mod fs;
pub mod mem;
pub mod net;
pub mod process;
pub mod signal;
pub mod syslog;
pub mod thread;
pub mod time;
pub mod uname;
pub mod user;

use std::ffi::CString;
use std::io;

/// `Ok(rc)` for a call that returned anything but -1, else the `errno` it left.
fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// `bytes` as a C string; an interior NUL is an `InvalidInput` error naming `what`.
fn c_string(bytes: &[u8], what: &str) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("NUL in {what}")))
}

/// The text of a fixed-size, NUL-terminated C character array (lossy UTF-8).
fn c_chars(field: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = field.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_maps_minus_one_to_errno() {
        assert_eq!(check(3).unwrap(), 3);
        assert_eq!(check(0).unwrap(), 0);
        // close(-1) fails with EBADF, leaving errno set for check() to read.
        // SAFETY: closing an invalid descriptor touches no memory and only sets errno.
        let rc = unsafe { libc::close(-1) };
        assert_eq!(check(rc).unwrap_err().raw_os_error(), Some(libc::EBADF));
    }

    #[test]
    fn c_helpers() {
        assert_eq!(c_string(b"abc", "x").unwrap().as_bytes(), b"abc");
        let e = c_string(b"a\0b", "user name").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("user name"));
        let field = [b'h' as libc::c_char, b'i' as libc::c_char, 0, b'x' as libc::c_char];
        assert_eq!(c_chars(&field), "hi");
        assert_eq!(c_chars(&[]), "");
    }
}

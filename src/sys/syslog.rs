//! The system log: connecting with a facility and sending one message at a priority.

pub use libc::{LOG_AUTH, LOG_AUTHPRIV, LOG_CRON, LOG_DAEMON, LOG_FTP, LOG_KERN, LOG_LPR, LOG_MAIL};
pub use libc::{LOG_DEBUG, LOG_ERR, LOG_INFO, LOG_WARNING};
pub use libc::{
    LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7,
};
pub use libc::{LOG_NEWS, LOG_SYSLOG, LOG_USER, LOG_UUCP};

/// A syslog facility or priority code (`LOG_*`).
pub type Code = libc::c_int;

/// Connects to syslog as `nanodata[pid]` with `facility` (a `LOG_*` facility code).
pub fn open(facility: Code) {
    // SAFETY: the ident is a 'static NUL-terminated string, so the pointer syslog keeps
    // stays valid for the life of the process.
    unsafe { libc::openlog(c"nanodata".as_ptr(), libc::LOG_PID, facility) };
}

/// Sends `line` at `priority` (a `LOG_*` level). The message stops at the first NUL or
/// newline, whichever comes first.
pub fn send(priority: Code, line: &[u8]) {
    let end = line.iter().position(|&b| b == 0 || b == b'\n').unwrap_or(line.len());
    let mut msg = Vec::with_capacity(end + 1);
    msg.extend_from_slice(&line[..end]);
    msg.push(0);
    // SAFETY: the format is a constant "%s" taking exactly one argument, and `msg` is a
    // NUL-terminated buffer that outlives the call.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), msg.as_ptr().cast::<libc::c_char>()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let facilities = [LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL7, LOG_AUTH];
        for (i, a) in facilities.iter().enumerate() {
            assert!(facilities[i + 1..].iter().all(|b| b != a));
        }
    }

    #[test]
    fn sending_with_nul_and_newline_is_safe() {
        // Without a syslog daemon the C library drops the message; either way no crash.
        send(LOG_DEBUG, b"nanodata sys test\0hidden\nmore");
        send(LOG_DEBUG, b"");
    }
}

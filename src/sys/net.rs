//! Socket details the standard library does not expose: the listen queue length, network
//! interface indexes, and a look at what waits on a blocking socket without blocking.

use std::io;
use std::os::fd::{AsFd, AsRawFd};

use super::{c_string, check};

/// `listen(2)` again on a listening socket `l`: Linux takes the new queue length
/// (`backlog`, at least 1).
pub fn set_listen_backlog(l: &impl AsFd, backlog: u32) -> io::Result<()> {
    let n = libc::c_int::try_from(backlog.max(1)).unwrap_or(libc::c_int::MAX);
    // SAFETY: the descriptor is borrowed from `l`, so it stays open across the call;
    // listen() only changes the length of a listening socket's queue.
    check(unsafe { libc::listen(l.as_fd().as_raw_fd(), n) })?;
    Ok(())
}

/// The index of the network interface `name` (`if_nametoindex`), for IPv6 scope ids.
pub fn interface_index(name: &str) -> io::Result<u32> {
    let c = c_string(name.as_bytes(), "interface name")?;
    // SAFETY: if_nametoindex reads a NUL-terminated string that outlives the call.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(io::Error::other(format!("no interface '{name}'"))),
        index => Ok(index),
    }
}

/// What waits to be read on `s`, without reading it or blocking (`recv` with `MSG_PEEK |
/// MSG_DONTWAIT`, into `buf`): `Ok(0)` when the peer closed, `WouldBlock` when nothing waits.
pub fn peek_nonblocking(s: &impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the descriptor is borrowed from `s`, so it stays open across the call; recv
    // writes at most `buf.len()` bytes into `buf`, which outlives the call.
    let n = unsafe {
        libc::recv(
            s.as_fd().as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlog_on_a_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        set_listen_backlog(&l, 0).unwrap();
        set_listen_backlog(&l, u32::MAX).unwrap();
        let addr = l.local_addr().unwrap();
        let _c = std::net::TcpStream::connect(addr).unwrap();
        assert!(l.accept().is_ok());
    }

    #[test]
    fn loopback_has_an_index() {
        assert!(interface_index("lo").unwrap() >= 1);
        assert!(interface_index("nanodata-no-such-if").is_err());
        assert_eq!(interface_index("a\0b").unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }
}

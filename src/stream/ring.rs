//! A circular byte buffer with a fixed cap: the sender's outgoing stream text.
//!
//! It never grows past its cap. A commit (one chart's lines) goes in whole or not at all;
//! what happens when it does not fit is the caller's [`Overflow`] policy, counted and logged
//! — never a silent loss and never "close the connection and throw everything away".
//!
//! Memory is taken only when used: the buffer starts at [`INITIAL`] bytes (a connected
//! child's steady stream is a few KiB a second and is sent at once) and doubles, up to the
//! cap, only while the parent is slower than the collectors (a reconnection, replication).
//! When it has drained [`QUIET_DRAINS`] times in a row without using a quarter of what it
//! holds, it shrinks to a quarter, so a burst does not stay resident, while a busy proxy's
//! steady volume does not free and allocate its buffer every second.

/// Bytes allocated before the first growth (or the cap, when smaller).
pub const INITIAL: usize = 16 * 1024;
/// Drains in a row that used at most a quarter of the buffer before it shrinks.
pub const QUIET_DRAINS: u32 = 16;

/// A circular buffer of bytes with a fixed capacity.
pub struct RingBuffer {
    buf: Box<[u8]>,
    /// The most `buf` may grow to; what [`RingBuffer::capacity`] reports.
    cap: usize,
    head: usize,
    len: usize,
    /// The most bytes held since the last drain.
    peak: usize,
    /// Drains in a row whose peak was at most a quarter of `buf`.
    quiet: u32,
}

/// What the sender does with a commit that does not fit.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Keep what is queued, drop the new commit, count it, and send the chart's definition
    /// again once there is room: with replication the parent then asks for the missing
    /// points, so nothing that the database (or the replication window) holds is lost.
    DropNewestAndResync,
}

impl RingBuffer {
    pub fn with_capacity(capacity: usize) -> RingBuffer {
        let cap = capacity.max(1);
        RingBuffer { buf: Box::default(), cap, head: 0, len: 0, peak: 0, quiet: 0 }
    }

    /// The most bytes it holds (the configured size), not what is allocated now.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// The bytes allocated now (at most the capacity).
    pub fn allocated(&self) -> usize {
        self.buf.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn free(&self) -> usize {
        self.cap - self.len
    }

    /// Appends all of `data`, or nothing and `false` when it does not fit.
    pub fn push(&mut self, data: &[u8]) -> bool {
        if data.len() > self.free() {
            return false;
        }
        if data.is_empty() {
            return true; // nothing to place (and no buffer to index before the first push)
        }
        if self.len + data.len() > self.buf.len() {
            self.grow(self.len + data.len());
        }
        let cap = self.buf.len();
        let tail = (self.head + self.len) % cap;
        let first = data.len().min(cap - tail);
        self.buf[tail..tail + first].copy_from_slice(&data[..first]);
        self.buf[..data.len() - first].copy_from_slice(&data[first..]);
        self.len += data.len();
        self.peak = self.peak.max(self.len);
        true
    }

    /// Reallocates to the smallest doubling of [`INITIAL`] (at most the cap) that holds
    /// `need` bytes, with the queued bytes moved to the front.
    fn grow(&mut self, need: usize) {
        let mut size = self.buf.len().max(INITIAL.min(self.cap));
        while size < need {
            size = size.saturating_mul(2).min(self.cap);
        }
        let mut bigger = vec![0u8; size].into_boxed_slice();
        let first = self.len.min(self.buf.len() - self.head);
        bigger[..first].copy_from_slice(&self.buf[self.head..self.head + first]);
        bigger[first..self.len].copy_from_slice(&self.buf[..self.len - first]);
        self.buf = bigger;
        self.head = 0;
    }

    /// Copies up to `max` bytes from the front into `out` (appending), without consuming.
    pub fn peek_into(&self, max: usize, out: &mut Vec<u8>) -> usize {
        let n = max.min(self.len);
        if n == 0 {
            return 0;
        }
        let cap = self.buf.len();
        let first = n.min(cap - self.head);
        out.extend_from_slice(&self.buf[self.head..self.head + first]);
        out.extend_from_slice(&self.buf[..n - first]);
        n
    }

    /// Drops `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        if n == 0 {
            return;
        }
        self.head = (self.head + n) % self.buf.len();
        self.len -= n;
        if self.len == 0 {
            self.head = 0;
            self.drained();
        }
    }

    /// Counts a drain; after [`QUIET_DRAINS`] quiet ones, a buffer grown past [`INITIAL`]
    /// shrinks to a quarter (it is empty: nothing to copy).
    fn drained(&mut self) {
        let size = self.buf.len();
        self.quiet = if self.peak <= size / 4 { self.quiet + 1 } else { 0 };
        self.peak = 0;
        if self.quiet >= QUIET_DRAINS && size > INITIAL {
            self.buf = vec![0u8; (size / 4).max(INITIAL)].into_boxed_slice();
            self.quiet = 0;
        }
    }

    /// Empties it (a new connection) and gives back what a burst made it grow to.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.peak = 0;
        self.quiet = 0;
        if self.buf.len() > INITIAL {
            self.buf = Box::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_grows_and_refuses_whole_commits() {
        let mut r = RingBuffer::with_capacity(10);
        assert!(r.push(b"abcdef"));
        assert!(!r.push(b"ghijk"), "5 bytes do not fit in 4");
        assert_eq!(r.len(), 6, "a refused commit leaves no partial bytes");
        assert!(r.push(b"ghij"));
        assert_eq!(r.free(), 0);
        assert_eq!(r.capacity(), 10);
        let mut out = Vec::new();
        assert_eq!(r.peek_into(100, &mut out), 10);
        assert_eq!(out, b"abcdefghij");
    }

    #[test]
    fn wraps_around() {
        let mut r = RingBuffer::with_capacity(8);
        assert!(r.push(b"123456"));
        r.consume(5);
        assert!(r.push(b"abcdef")); // wraps
        let mut out = Vec::new();
        r.peek_into(3, &mut out);
        assert_eq!(out, b"6ab");
        out.clear();
        r.peek_into(100, &mut out);
        assert_eq!(out, b"6abcdef");
        r.consume(7);
        assert!(r.is_empty());
        assert!(r.push(b"12345678"));
        r.clear();
        assert!(r.is_empty() && r.free() == 8);
    }

    #[test]
    fn grows_to_the_cap_only_when_needed_and_shrinks_when_drained() {
        let mut r = RingBuffer::with_capacity(100 * 1024);
        assert_eq!(r.allocated(), 0, "nothing before the first push");
        assert!(r.push(b""));
        assert_eq!(r.allocated(), 0, "an empty commit takes nothing");
        assert!(r.push(b"hello"));
        assert_eq!(r.allocated(), INITIAL);
        let chunk = vec![b'x'; 30 * 1024];
        assert!(r.push(&chunk));
        assert_eq!(r.allocated(), 32 * 1024, "doubled once past 16 KiB");
        r.consume(3); // the queued bytes do not start at 0 when it grows again
        assert!(r.push(&chunk) && r.push(&chunk));
        assert_eq!(r.allocated(), 100 * 1024, "never past the cap");
        assert!(!r.push(&chunk), "a full ring still refuses whole commits");
        let mut out = Vec::new();
        assert_eq!(r.peek_into(5, &mut out), 5);
        assert_eq!(out, b"loxxx");
        r.consume(r.len());
        assert!(r.is_empty());
        assert_eq!(r.allocated(), 100 * 1024, "one drain after a burst keeps the buffer");
        for _ in 0..QUIET_DRAINS {
            assert!(r.push(&[b'y'; 1000]));
            r.consume(1000);
        }
        assert_eq!(r.allocated(), 25 * 1024, "quiet drains shrink it to a quarter");
        for _ in 0..QUIET_DRAINS - 1 {
            assert!(r.push(&[b'y'; 1000]));
            r.consume(1000);
        }
        assert!(r.push(&chunk[..10 * 1024]));
        r.consume(10 * 1024); // a busy drain (over a quarter) starts the count again
        for _ in 0..QUIET_DRAINS - 1 {
            assert!(r.push(&[b'y'; 1000]));
            r.consume(1000);
        }
        assert_eq!(r.allocated(), 25 * 1024, "not yet: the busy drain reset the count");
        assert!(r.push(b"z"));
        r.consume(1);
        assert_eq!(r.allocated(), INITIAL, "never below the initial size");
        assert!(r.push(&chunk));
        r.clear();
        assert_eq!(r.allocated(), 0, "a new connection gives everything back");
        assert_eq!(r.capacity(), 100 * 1024);
    }

    #[test]
    fn growing_keeps_wrapped_bytes_in_order() {
        let mut r = RingBuffer::with_capacity(64 * 1024);
        let a: Vec<u8> = (0..12 * 1024).map(|i| (i % 251) as u8).collect();
        assert!(r.push(&a));
        r.consume(10 * 1024);
        let b: Vec<u8> = (0..10 * 1024).map(|i| (i % 13) as u8).collect();
        assert!(r.push(&b)); // wraps inside the 16 KiB
        assert_eq!(r.allocated(), INITIAL);
        let c = vec![9u8; 8 * 1024];
        assert!(r.push(&c)); // grows: the wrapped bytes are moved to the front in order
        let mut out = Vec::new();
        r.peek_into(usize::MAX, &mut out);
        let mut want = a[10 * 1024..].to_vec();
        want.extend_from_slice(&b);
        want.extend_from_slice(&c);
        assert_eq!(out, want);
    }
}

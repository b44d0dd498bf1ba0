//! A fixed circular byte buffer: the sender's outgoing stream text.
//!
//! It never grows. A commit (one chart's lines) goes in whole or not at all; what happens
//! when it does not fit is the caller's [`Overflow`] policy, counted and logged — never a
//! silent loss and never "close the connection and throw everything away".

/// A circular buffer of bytes with a fixed capacity.
pub struct RingBuffer {
    buf: Box<[u8]>,
    head: usize,
    len: usize,
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
        RingBuffer { buf: vec![0; capacity.max(1)].into_boxed_slice(), head: 0, len: 0 }
    }

    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn free(&self) -> usize {
        self.buf.len() - self.len
    }

    /// Appends all of `data`, or nothing and `false` when it does not fit.
    pub fn push(&mut self, data: &[u8]) -> bool {
        if data.len() > self.free() {
            return false;
        }
        let cap = self.buf.len();
        let tail = (self.head + self.len) % cap;
        let first = data.len().min(cap - tail);
        self.buf[tail..tail + first].copy_from_slice(&data[..first]);
        self.buf[..data.len() - first].copy_from_slice(&data[first..]);
        self.len += data.len();
        true
    }

    /// Copies up to `max` bytes from the front into `out` (appending), without consuming.
    pub fn peek_into(&self, max: usize, out: &mut Vec<u8>) -> usize {
        let n = max.min(self.len);
        let cap = self.buf.len();
        let first = n.min(cap - self.head);
        out.extend_from_slice(&self.buf[self.head..self.head + first]);
        out.extend_from_slice(&self.buf[..n - first]);
        n
    }

    /// Drops `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % self.buf.len();
        self.len -= n;
        if self.len == 0 {
            self.head = 0;
        }
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
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
}

//! Cuts a byte stream into lines with a hard length bound.
//!
//! [`LineBuffer`] owns one fixed buffer. Bytes go in either by reading straight into
//! [`LineBuffer::spare`] (a blocking pipe, a non-blocking socket) or by copying with
//! [`LineBuffer::push`] (the output of a decompressor); complete lines come out of
//! [`LineBuffer::next_line`]. Nothing it does blocks, so the plugin reader and the stream
//! receiver's event loop share it.
//!
//! Overflow policy: a line longer than the limit is never stored. Its bytes are discarded
//! up to and including its newline and [`Frame::TooLong`] is reported once in its place;
//! the caller decides what that means (plugins.d and the stream receiver treat it as an
//! error that stops the source).

/// Netdata's `PLUGINSD_LINE_MAX`: 16384 − 1024 bytes, not counting the newline.
pub const MAX_LINE: usize = 15_360;

/// What [`LineBuffer::next_line`] yields.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// One line, without its `\n` (a `\r` before it is a separator for the tokenizer).
    Line(&'a [u8]),
    /// A line longer than the limit was dropped; `at_least` bytes of it were seen.
    TooLong { at_least: usize },
}

/// A bounded line framer.
pub struct LineBuffer {
    buf: Box<[u8]>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Bytes of `buf[start..end]` already known to hold no newline.
    scanned: usize,
    max_line: usize,
    /// Dropping the rest of an over-long line until its newline.
    discarding: bool,
    /// Bytes of the over-long line seen so far, reported in [`Frame::TooLong`].
    overflow: usize,
    overflow_pending: bool,
}

impl LineBuffer {
    /// A framer for lines of at most `max_line` bytes (clamped to 1..=1 MiB).
    pub fn new(max_line: usize) -> LineBuffer {
        let max_line = max_line.clamp(1, 1 << 20);
        // Room for a whole line plus its newline, and some more so that reads are not tiny.
        let size = (max_line + 1).max(4096) + 4096;
        LineBuffer {
            buf: vec![0; size].into_boxed_slice(),
            start: 0,
            end: 0,
            scanned: 0,
            max_line,
            discarding: false,
            overflow: 0,
            overflow_pending: false,
        }
    }

    /// The longest line accepted.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// Free space to read into; call [`LineBuffer::filled`] with the count read. Empty only
    /// when the lines in the buffer must be taken out first.
    pub fn spare(&mut self) -> &mut [u8] {
        self.compact();
        &mut self.buf[self.end..]
    }

    /// Declares `n` bytes of [`LineBuffer::spare`] as filled.
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Copies as much of `data` as fits and returns how many bytes it took; take lines out
    /// with [`LineBuffer::next_line`] and push the rest again.
    pub fn push(&mut self, data: &[u8]) -> usize {
        let spare = self.spare();
        let n = spare.len().min(data.len());
        spare[..n].copy_from_slice(&data[..n]);
        self.filled(n);
        n
    }

    /// The next complete line, a [`Frame::TooLong`] report, or `None` when more bytes are
    /// needed.
    pub fn next_line(&mut self) -> Option<Frame<'_>> {
        loop {
            if self.overflow_pending {
                self.overflow_pending = false;
                return Some(Frame::TooLong { at_least: self.overflow });
            }
            let pending = &self.buf[self.start + self.scanned..self.end];
            match pending.iter().position(|&b| b == b'\n') {
                Some(pos) => {
                    let nl = self.start + self.scanned + pos;
                    let line_start = self.start;
                    self.start = nl + 1;
                    self.scanned = 0;
                    if self.discarding {
                        self.discarding = false;
                        self.overflow += nl - line_start;
                        self.overflow_pending = true;
                        continue;
                    }
                    if nl - line_start > self.max_line {
                        self.overflow = nl - line_start;
                        self.overflow_pending = true;
                        continue;
                    }
                    return Some(Frame::Line(&self.buf[line_start..nl]));
                }
                None => {
                    let len = self.end - self.start;
                    if self.discarding || len > self.max_line {
                        // Drop what we have of the over-long line and keep dropping.
                        self.discarding = true;
                        self.overflow += len;
                        self.start = 0;
                        self.end = 0;
                        self.scanned = 0;
                    } else {
                        self.scanned = len;
                    }
                    return None;
                }
            }
        }
    }

    /// At the end of the input: the last line if it had no newline (an over-long one is
    /// reported as such). Leaves the buffer empty.
    pub fn finish(&mut self) -> Option<Frame<'_>> {
        let (start, end) = (self.start, self.end);
        let discarding = std::mem::take(&mut self.discarding);
        let overflow = std::mem::take(&mut self.overflow) + (end - start);
        self.start = 0;
        self.end = 0;
        self.scanned = 0;
        self.overflow_pending = false;
        if discarding || end - start > self.max_line {
            return Some(Frame::TooLong { at_least: overflow });
        }
        (end > start).then(|| Frame::Line(&self.buf[start..end]))
    }

    /// Bytes held and not yet returned as lines.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
    }
}

/// The end of an HTTP-style head — an HTTP request or a STREAM request — at `\r\n\r\n` or a
/// bare `\n\n`: `(length of the head before the blank line, bytes the head takes)`.
pub fn head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf.get(i + 1) == Some(&b'\n') {
                return Some((i, i + 2));
            }
            if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                return Some((i, i + 3));
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(lb: &mut LineBuffer) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(f) = lb.next_line() {
            out.push(match f {
                Frame::Line(l) => String::from_utf8_lossy(l).into_owned(),
                Frame::TooLong { at_least } => format!("<too long {at_least}>"),
            });
        }
        out
    }

    #[test]
    fn lines_split_across_chunks() {
        let mut lb = LineBuffer::new(100);
        assert_eq!(lb.push(b"BEGIN a"), 7);
        assert!(lines(&mut lb).is_empty());
        lb.push(b".b\nSET x = 1\nEN");
        assert_eq!(lines(&mut lb), ["BEGIN a.b", "SET x = 1"]);
        lb.push(b"D\n\n");
        assert_eq!(lines(&mut lb), ["END", ""]);
        assert_eq!(lb.buffered(), 0);
    }

    #[test]
    fn reading_into_spare_space() {
        let mut lb = LineBuffer::new(MAX_LINE);
        let spare = lb.spare();
        assert!(spare.len() > MAX_LINE);
        spare[..4].copy_from_slice(b"END\n");
        lb.filled(4);
        assert_eq!(lines(&mut lb), ["END"]);
    }

    #[test]
    fn a_line_of_exactly_the_limit_passes() {
        let mut lb = LineBuffer::new(10);
        lb.push(b"0123456789\n01234567890\nok\n");
        assert_eq!(lines(&mut lb), ["0123456789", "<too long 11>", "ok"]);
    }

    #[test]
    fn an_over_long_line_is_dropped_in_pieces_and_reported_once() {
        let mut lb = LineBuffer::new(MAX_LINE);
        let big = vec![b'x'; 100 * 1024];
        let mut fed = 0;
        let mut seen = Vec::new();
        while fed < big.len() {
            fed += lb.push(&big[fed..]);
            seen.extend(lines(&mut lb));
            assert!(lb.buffered() <= MAX_LINE + 1, "bounded");
        }
        lb.push(b"\nEND\n");
        seen.extend(lines(&mut lb));
        assert_eq!(seen, [format!("<too long {}>", 100 * 1024), "END".to_string()]);
    }

    #[test]
    fn finish_returns_the_last_unterminated_line() {
        let mut lb = LineBuffer::new(8);
        lb.push(b"a\nEND");
        assert_eq!(lines(&mut lb), ["a"]);
        assert_eq!(lb.finish(), Some(Frame::Line(b"END")));
        assert_eq!(lb.finish(), None);
        lb.push(b"0123456789");
        assert!(lines(&mut lb).is_empty());
        assert_eq!(lb.finish(), Some(Frame::TooLong { at_least: 10 }));
    }
}

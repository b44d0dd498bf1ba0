//! The work one connection may do in one turn of the event loop, as a small policy type.
//!
//! Bytes read are not a measure of work: a few KiB of protocol lines can cost far more than
//! megabytes of others. A [`Budget`] counts what the receiver actually does — lines applied,
//! bytes of those lines, LZ4 blocks decoded — and, when the event loop asks for one, a time
//! slice read from the monotonic clock after every line that may store or define something
//! (anything but `SET`/`RSET`/`BEGIN`/`RBEGIN`, which only buffer a value or select a
//! chart) and at least every
//! [`CHECK_TIME_EVERY`] lines. When any of them
//! runs out the receiver stops *between* lines and keeps the rest of its input for the next
//! turn ([`Flow::Paused`]); the event loop then serves every other connection before it
//! continues this one.
//!
//! Guarantees: a fresh budget always allows at least one line and one block, so every turn
//! makes progress; counters only go down. (The time slice is this module's one clock read,
//! through [`crate::clock`]; everything else here is pure.)

use std::time::{Duration, Instant};

/// Lines one stream connection may apply per turn: a busy child's whole second (a 1.37 child
/// with ~2000 metrics sends ~2500 lines) fits in one turn — pausing costs more than the
/// turn it saves — and the time slice ends a turn of costly lines long before this.
pub const LINES_PER_TURN: u32 = 8192;
/// Bytes of lines one stream connection may apply per turn (tokenizing is per byte).
pub const TEXT_BYTES_PER_TURN: usize = 512 * 1024;
/// LZ4 blocks one stream connection may decode per turn (each ≤ 16 KiB of text).
pub const BLOCKS_PER_TURN: u32 = 32;
/// Wall time one stream connection may take per turn, whatever the lines cost.
pub const TIME_SLICE: Duration = Duration::from_millis(2);
/// Most lines between two reads of the clock (a clock read costs ~20 ns, a line ~100+ ns).
pub const CHECK_TIME_EVERY: u32 = 32;

/// Whether the receiver consumed everything it was given or stopped at its budget.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Every complete line was applied; more input is needed.
    Done,
    /// The budget ran out with input left (kept by the receiver): continue next turn.
    Paused,
}

/// What a line may cost.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Cost {
    /// `SET`, `RSET`, `BEGIN`, `RBEGIN`: a value is buffered or a chart selected; nothing
    /// is stored yet (the collection's cost shows at its `END`).
    Light,
    /// Anything else: may store a collection, define a chart or dimension (allocating its
    /// storage), or move a clock — its cost is not known from its size.
    Heavy,
}

impl Cost {
    /// The cost class of a protocol line.
    pub fn of(line: &[u8]) -> Cost {
        const LIGHT: [&[u8]; 4] = [b"SET ", b"RSET ", b"BEGIN ", b"RBEGIN "];
        if LIGHT.iter().any(|k| line.starts_with(k)) {
            Cost::Light
        } else {
            Cost::Heavy
        }
    }
}

/// What is left of one connection's work for this turn.
#[derive(Clone, Debug)]
pub struct Budget {
    lines: u32,
    text_bytes: usize,
    blocks: u32,
    deadline: Option<Instant>,
    until_clock: u32,
}

impl Budget {
    /// The event loop's budget for one stream connection and one turn, starting now.
    pub fn per_turn() -> Budget {
        Budget::new(LINES_PER_TURN, TEXT_BYTES_PER_TURN, BLOCKS_PER_TURN)
            .with_deadline(crate::clock::now_monotonic() + TIME_SLICE)
    }

    /// A budget of counts only (no time slice). Zero counts are raised to one, so a budget
    /// always allows some progress.
    pub fn new(lines: u32, text_bytes: usize, blocks: u32) -> Budget {
        Budget {
            lines: lines.max(1),
            text_bytes: text_bytes.max(1),
            blocks: blocks.max(1),
            deadline: None,
            until_clock: CHECK_TIME_EVERY,
        }
    }

    /// No bound at all: for callers that must apply everything at once (tests, fuzzing).
    pub fn unlimited() -> Budget {
        Budget::new(u32::MAX, usize::MAX, u32::MAX)
    }

    /// Adds a time slice ending at `deadline`, checked every [`CHECK_TIME_EVERY`] lines.
    pub fn with_deadline(mut self, deadline: Instant) -> Budget {
        self.deadline = Some(deadline);
        self
    }

    /// One line of `len` bytes (without its newline) was applied.
    pub fn line(&mut self, len: usize, cost: Cost) {
        self.lines = self.lines.saturating_sub(1);
        self.text_bytes = self.text_bytes.saturating_sub(len + 1);
        self.until_clock = match cost {
            Cost::Light => self.until_clock.saturating_sub(1),
            Cost::Heavy => 0,
        };
    }

    /// One LZ4 block is about to be decoded.
    pub fn block(&mut self) {
        self.blocks = self.blocks.saturating_sub(1);
    }

    /// Whether another line may be applied now.
    pub fn lines_exhausted(&mut self) -> bool {
        if self.lines == 0 || self.text_bytes == 0 {
            return true;
        }
        if self.until_clock == 0 {
            self.until_clock = CHECK_TIME_EVERY;
            if let Some(d) = self.deadline {
                if crate::clock::now_monotonic() >= d {
                    // Sticky: the slice does not come back.
                    self.lines = 0;
                    return true;
                }
            }
        }
        false
    }

    /// Whether another block may be decoded now (its lines still count on their own).
    pub fn blocks_exhausted(&mut self) -> bool {
        self.blocks == 0 || self.lines_exhausted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_until_exhausted(b: &mut Budget, len: usize) -> u32 {
        let mut n = 0;
        while !b.lines_exhausted() {
            b.line(len, Cost::Light);
            n += 1;
            assert!(n < 10_000_000, "never exhausted");
        }
        n
    }

    #[test]
    fn lines_bytes_and_blocks_each_end_the_turn() {
        assert_eq!(lines_until_exhausted(&mut Budget::new(100, 1 << 20, 8), 10), 100);
        // 1000 bytes of text: lines of 99 bytes + newline → 10 lines.
        assert_eq!(lines_until_exhausted(&mut Budget::new(100, 1000, 8), 99), 10);
        // A line longer than what is left still ends the turn after it.
        assert_eq!(lines_until_exhausted(&mut Budget::new(100, 1000, 8), 15_000), 1);
        let mut b = Budget::new(100, 1 << 20, 3);
        let mut blocks = 0;
        while !b.blocks_exhausted() {
            b.block();
            blocks += 1;
        }
        assert_eq!(blocks, 3);
        // Blocks spent, lines still allowed: the text already decoded is applied.
        assert!(!b.lines_exhausted());
    }

    #[test]
    fn a_budget_always_allows_progress() {
        let mut b = Budget::new(0, 0, 0);
        assert!(!b.lines_exhausted() && !b.blocks_exhausted());
        b.line(5, Cost::Light);
        assert!(b.lines_exhausted());
        // A deadline already past still lets the first CHECK_TIME_EVERY lines through.
        let mut late = Budget::new(1000, 1 << 20, 8)
            .with_deadline(crate::clock::now_monotonic() - Duration::from_secs(1));
        assert_eq!(lines_until_exhausted(&mut late, 10), CHECK_TIME_EVERY);
        assert!(late.lines_exhausted(), "the slice stays spent");
        // A heavy line (END, CHART, …) has the clock read at once.
        let mut heavy = Budget::new(1000, 1 << 20, 8)
            .with_deadline(crate::clock::now_monotonic() - Duration::from_secs(1));
        assert!(!heavy.lines_exhausted());
        heavy.line(3, Cost::Heavy);
        assert!(heavy.lines_exhausted());
    }

    #[test]
    fn only_value_lines_are_light() {
        assert_eq!(Cost::of(b"SET \"a\" = 1"), Cost::Light);
        assert_eq!(Cost::of(b"RSET \"a\" 1 \"\""), Cost::Light);
        assert_eq!(Cost::of(b"BEGIN \"x\" 3599000000"), Cost::Light, "its cost shows at END");
        for l in [&b"END"[..], b"DIMENSION a", b"CHART x", b"REND 1 2 3", b"SETX", b"RDSTATE 1", b""] {
            assert_eq!(Cost::of(l), Cost::Heavy, "{}", String::from_utf8_lossy(l));
        }
    }

    #[test]
    fn a_distant_deadline_leaves_the_counts_in_charge() {
        let far = crate::clock::now_monotonic() + Duration::from_secs(3600);
        let mut b = Budget::new(LINES_PER_TURN, TEXT_BYTES_PER_TURN, 8).with_deadline(far);
        assert_eq!(lines_until_exhausted(&mut b, 20), LINES_PER_TURN);
        let mut b = Budget::new(LINES_PER_TURN, TEXT_BYTES_PER_TURN, 8).with_deadline(far);
        // The bytes of 127-byte lines (+ newline) end the turn first.
        assert_eq!(lines_until_exhausted(&mut b, 127) as usize, TEXT_BYTES_PER_TURN / 128);
        let mut u = Budget::unlimited();
        assert_eq!(lines_until_exhausted(&mut Budget::new(5, 5, 1), 0), 5);
        for _ in 0..100_000 {
            u.line(1000, Cost::Heavy);
        }
        assert!(!u.lines_exhausted());
    }
}

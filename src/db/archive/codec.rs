//! The column codec of an archived block (codec 2): the block's counts, mins, maxes and sums
//! as columns of integers, each bit-packed at the width its spread needs.
//!
//! Collected values are decimal numbers with few digits (integer rates, thousandths of a
//! percentage, kilobits), stored as `f32`. A column of such values is written as the
//! integers `n = v × 10^e` for the smallest decimal exponent `e` (0..=9) at which every value
//! of the column comes back bit for bit from `(n as f64 × 10^-e) as f32`; a column where none
//! does (random binary fractions, `-0.0`, damage) is written as its `f32` bit patterns. The
//! integers then go through a predictor, the one of these giving the fewest bytes:
//!
//! - none, or the difference from the previous point's (`delta`);
//! - for maxima, the difference from the same point's minimum (`from min`): a span's
//!   spread is smaller than its level;
//! - for sums, `2·sum − count·(min + max)` (`midrange`): zero whenever a span holds two
//!   values, small when its values are spread evenly.
//!
//! The residuals are stored frame-of-reference: their minimum (zigzag varint), a bit width,
//! and each residual minus the minimum in that many bits (least significant first); values
//! wider than that width (a steady rate's rare steps) are patched in after the packed bits
//! when that is cheaper than widening every value. So a zero counter's block is 11 bytes, a
//! steady rate's a few more, and a noisy rate's about the entropy of its values.
//!
//! Layout: the 32 counts as one integer column, then for the points whose count is not 0
//! (the others are the empty point, all zero bytes) the minimum, maximum and sum columns,
//! each opened by a mode byte: exponent (or 15: bit patterns) in the low four bits, the
//! predictor in the high four. An integer column is `zigzag varint min`, `u8 width` (0..=64;
//! bit 7: patched), `ceil(points × width / 8)` bytes, and when patched `u8 count` then per
//! patch `u8 index` and `varint value − min`.
//!
//! Guarantees: lossless for every block it accepts (the encoder checks each value's way back
//! and declines a block whose empty points carry bytes); the decoder reads only the bytes it
//! is given, with checked arithmetic, and says false for anything that is not exactly one
//! block (a wrong length, a width over 64, a predictor naming a column in other units, a sum
//! that does not come out whole); work is a few passes over 32 points.

use super::{BLOCK, RAW};
use crate::db::tier::TIER_POINT_BYTES;

/// Most bytes an encoded block can take (32 counts of 16 bits and three columns of 64-bit
/// residuals, with their varints and mode bytes); the encoder needs this much room.
pub(crate) const MAX_ENCODED: usize = 1 + 10 + BLOCK * 2 + 3 * (1 + 1 + 10 + BLOCK * 8);

/// Largest decimal exponent tried.
const MAX_EXP: usize = 9;
/// Mode-byte exponent of a column stored as `f32` bit patterns.
const BITS: u8 = 15;
/// Largest magnitude of a scaled value: keeps `count × (min + max)` inside an `i64`.
const MAX_SCALED: i64 = 1 << 44;
const POW10: [f64; MAX_EXP + 1] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/// Their inverses (as close as an f64 gets): decoding multiplies, four times cheaper than
/// dividing; the encoder checks every value's way back through the same product, so a value
/// the inexact constant would spoil is simply stored at another exponent or as bits.
const INV10: [f64; MAX_EXP + 1] = [1.0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9];

const NONE: u8 = 0;
const DELTA: u8 = 1;
const FROM_MIN: u8 = 2;
const MIDRANGE: u8 = 3;

/// Byte offsets of the float fields in a point, in the order the columns are written.
const MIN_AT: usize = 4;
const MAX_AT: usize = 8;
const SUM_AT: usize = 0;
const COUNT_AT: usize = 12;

/// The value a scaled integer stands for; the encoder accepts `n` only when this gives the
/// original bits back, so the decoder computes exactly this.
#[inline]
fn unscale(n: i64, e: usize) -> f32 {
    (n as f64 * INV10[e]) as f32
}

/// One column of up to [`BLOCK`] values as integers.
#[derive(Clone, Copy)]
struct Column {
    /// Exponent (0..=9) or [`BITS`].
    exp: u8,
    n: [i64; BLOCK],
}

impl Column {
    fn new() -> Column {
        Column { exp: BITS, n: [0; BLOCK] }
    }
}

/// The column of `bits` at exponent `e`, if every value comes back.
fn scaled(bits: &[u32], e: usize) -> Option<Column> {
    let mut c = Column { exp: e as u8, n: [0; BLOCK] };
    for (slot, &b) in c.n.iter_mut().zip(bits) {
        let v = f64::from(f32::from_bits(b));
        let n = (v * POW10[e]).round();
        if n.is_nan() || n.abs() >= MAX_SCALED as f64 {
            return None;
        }
        let n = n as i64;
        if unscale(n, e).to_bits() != b {
            return None;
        }
        *slot = n;
    }
    Some(c)
}

fn as_bits(bits: &[u32]) -> Column {
    let mut c = Column { exp: BITS, n: [0; BLOCK] };
    for (slot, &b) in c.n.iter_mut().zip(bits) {
        *slot = i64::from(b);
    }
    c
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

fn varint_len(mut u: u64) -> usize {
    let mut n = 1;
    while u >= 0x80 {
        u >>= 7;
        n += 1;
    }
    n
}

/// Flag in an integer column's width byte: values wider than the width are patched in
/// after the packed bits.
const PATCHED: u8 = 0x80;

/// How an integer column is written: its minimum, the width of its packed values, whether
/// wider ones are patched in after them, and the bytes it all takes.
struct Frame {
    lo: i64,
    w: u32,
    patched: bool,
    len: usize,
}

/// Bits of `d` (0 for 0).
fn bit_len(d: u64) -> u32 {
    64 - d.leading_zeros()
}

/// The cheapest frame of `xs`: all values at the width of the widest, or narrower with the
/// wider ones listed after (index, value): a steady rate with a few steps is a handful of
/// patches instead of 32 wide values.
fn frame(xs: &[i64]) -> Frame {
    let lo = xs.iter().copied().min().unwrap_or(0);
    // Per bit length: how many values, and the bytes they would take as patches.
    let (mut count, mut patch) = ([0usize; 65], [0usize; 65]);
    for &x in xs {
        let d = x.wrapping_sub(lo) as u64;
        let b = bit_len(d) as usize;
        count[b] += 1;
        patch[b] += 1 + varint_len(d);
    }
    let packed = |w: usize| (xs.len() * w).div_ceil(8);
    let widest = (0..=64).rev().find(|&b| count[b] > 0).unwrap_or(0);
    let mut best = Frame { lo, w: widest as u32, patched: false, len: packed(widest) };
    let mut patches = 1; // their count
    for w in (0..widest).rev() {
        patches += patch[w + 1];
        let len = packed(w) + patches;
        if len < best.len {
            best = Frame { lo, w: w as u32, patched: true, len };
        }
    }
    best.len += varint_len(zigzag(lo)) + 1;
    best
}

/// Bytes the integer column `xs` takes.
fn int_len(xs: &[i64]) -> usize {
    frame(xs).len
}

/// Appends bytes to a buffer, refusing to overrun it.
struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn byte(&mut self, b: u8) -> Option<()> {
        *self.out.get_mut(self.at)? = b;
        self.at += 1;
        Some(())
    }

    fn varint(&mut self, mut u: u64) -> Option<()> {
        while u >= 0x80 {
            self.byte(u as u8 | 0x80)?;
            u >>= 7;
        }
        self.byte(u as u8)
    }

    fn ints(&mut self, xs: &[i64]) -> Option<()> {
        let Frame { lo, w, patched, .. } = frame(xs);
        self.varint(zigzag(lo))?;
        self.byte(w as u8 | if patched { PATCHED } else { 0 })?;
        let wide = |d: u64| bit_len(d) > w;
        let (mut acc, mut have) = (0u128, 0u32);
        for &x in xs {
            let d = x.wrapping_sub(lo) as u64;
            acc |= u128::from(if wide(d) { 0 } else { d }) << have;
            have += w;
            while have >= 8 {
                self.byte(acc as u8)?;
                acc >>= 8;
                have -= 8;
            }
        }
        if have > 0 {
            self.byte(acc as u8)?;
        }
        if patched {
            let ds = || xs.iter().map(|&x| x.wrapping_sub(lo) as u64).enumerate();
            self.byte(ds().filter(|&(_, d)| wide(d)).count() as u8)?;
            for (i, d) in ds().filter(|&(_, d)| wide(d)) {
                self.byte(i as u8)?;
                self.varint(d)?;
            }
        }
        Some(())
    }
}

/// Packed values, least significant bits first, through a 64-bit window.
struct Bits<'a> {
    src: &'a [u8],
    acc: u64,
    have: u32,
    next: usize,
}

impl Bits<'_> {
    /// The next `n` (≤ 56) bits. `src` holds exactly the bits the caller takes (it is cut to
    /// `ceil(values × width / 8)` bytes), so the index stays in it.
    #[inline(always)]
    fn take(&mut self, n: u32) -> u64 {
        while self.have < n {
            // Fewer than n ≤ 56 bits are held: a byte more fits.
            self.acc |= u64::from(self.src[self.next]) << self.have;
            self.next += 1;
            self.have += 8;
        }
        let v = self.acc & ((1u64 << n) - 1);
        self.acc >>= n;
        self.have -= n;
        v
    }
}

/// Reads what [`Writer`] wrote, never past the end.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let v = *self.b.get(self.at)?;
        self.at += 1;
        Some(v)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut u = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            u |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(u);
            }
        }
        None
    }

    fn ints(&mut self, out: &mut [i64]) -> Option<()> {
        let lo = unzigzag(self.varint()?);
        let wb = self.byte()?;
        let w = u32::from(wb & !PATCHED);
        if w > 64 {
            return None;
        }
        let bytes = (out.len() * w as usize).div_ceil(8);
        let src = self.b.get(self.at..self.at + bytes)?;
        self.at += bytes;
        let mut bits = Bits { src, acc: 0, have: 0, next: 0 };
        match w {
            0 => out.fill(lo),
            // At most 56 bits at a time through the 64-bit window; wider values in two takes.
            1..=56 => out.iter_mut().for_each(|x| *x = lo.wrapping_add(bits.take(w) as i64)),
            _ => out.iter_mut().for_each(|x| {
                let d = bits.take(32) | bits.take(w - 32) << 32;
                *x = lo.wrapping_add(d as i64);
            }),
        }
        if wb & PATCHED != 0 {
            for _ in 0..self.byte()? {
                let i = usize::from(self.byte()?);
                let d = self.varint()?;
                *out.get_mut(i)? = lo.wrapping_add(d as i64);
            }
        }
        Some(())
    }
}

/// Residuals of column `c` under predictor `pred` (`min` and `max` already chosen, at the
/// same exponent when the predictor refers to them).
fn residuals(
    pred: u8,
    c: &Column,
    p: usize,
    min: &Column,
    max: &Column,
    counts: &[i64],
) -> Option<[i64; BLOCK]> {
    let mut r = [0i64; BLOCK];
    for i in 0..p {
        r[i] = match pred {
            NONE => c.n[i],
            DELTA => c.n[i] - if i == 0 { 0 } else { c.n[i - 1] },
            FROM_MIN => c.n[i] - min.n[i],
            _ => 2 * c.n[i] - counts[i].checked_mul(min.n[i] + max.n[i])?,
        };
    }
    Some(r)
}

/// The predictor giving the fewest bytes for `c` among `preds`, and that size.
fn best(preds: &[u8], c: &Column, p: usize, min: &Column, max: &Column, counts: &[i64]) -> (u8, usize) {
    let mut best = (NONE, usize::MAX);
    for &pred in preds {
        if let Some(r) = residuals(pred, c, p, min, max, counts) {
            let len = int_len(&r[..p]);
            if len < best.1 {
                best = (pred, len);
            }
        }
    }
    best
}

/// One way to write the three float columns: each column and its predictor.
struct Plan {
    cols: [(Column, u8); 3],
    len: usize,
}

fn plan(min: Column, max: Column, sum: Column, p: usize, counts: &[i64]) -> Plan {
    let decimal = |c: &Column| c.exp != BITS;
    let same = decimal(&min) && min.exp == max.exp;
    let (pmin, lmin) = best(&[NONE, DELTA], &min, p, &min, &max, counts);
    let (pmax, lmax) =
        best(if same { &[NONE, DELTA, FROM_MIN] } else { &[NONE, DELTA] }, &max, p, &min, &max, counts);
    let mid = same && sum.exp == min.exp;
    let (psum, lsum) =
        best(if mid { &[NONE, DELTA, MIDRANGE] } else { &[NONE, DELTA] }, &sum, p, &min, &max, counts);
    Plan { cols: [(min, pmin), (max, pmax), (sum, psum)], len: 3 + lmin + lmax + lsum }
}

/// The non-zero counts, in order, at the front, and how many there are (the points
/// present, whose values the columns hold).
fn compact(counts: &[i64; BLOCK]) -> ([i64; BLOCK], usize) {
    let mut out = [0i64; BLOCK];
    let mut p = 0;
    for &c in counts.iter().filter(|&&c| c > 0) {
        out[p] = c;
        p += 1;
    }
    (out, p)
}

/// Encodes a block's point bytes into `out`; `None` when the codec does not apply (an
/// empty point whose bytes are not all zero) or `out` is too small.
pub(crate) fn encode(raw: &[u8; RAW], out: &mut [u8]) -> Option<usize> {
    let mut counts = [0i64; BLOCK];
    let mut fields = [[0u32; BLOCK]; 3];
    let mut p = 0;
    for (j, point) in raw.chunks_exact(TIER_POINT_BYTES).enumerate() {
        let count = u16::from_le_bytes([point[COUNT_AT], point[COUNT_AT + 1]]);
        counts[j] = i64::from(count);
        if count == 0 {
            if point.iter().any(|&b| b != 0) {
                return None;
            }
            continue;
        }
        for (f, at) in [MIN_AT, MAX_AT, SUM_AT].into_iter().enumerate() {
            fields[f][p] = u32::from_le_bytes([point[at], point[at + 1], point[at + 2], point[at + 3]]);
        }
        p += 1;
    }
    let (present, _) = compact(&counts);
    let own = |bits: &[u32]| (0..=MAX_EXP).find_map(|e| scaled(bits, e)).unwrap_or_else(|| as_bits(bits));
    let [fmin, fmax, fsum] = fields;
    let mut chosen = plan(own(&fmin[..p]), own(&fmax[..p]), own(&fsum[..p]), p, &present);
    // One exponent for all three lets maxima and sums be predicted from the minima.
    let common = (0..=MAX_EXP)
        .find_map(|e| Some((scaled(&fmin[..p], e)?, scaled(&fmax[..p], e)?, scaled(&fsum[..p], e)?)));
    if let Some((min, max, sum)) = common {
        let other = plan(min, max, sum, p, &present);
        if other.len < chosen.len {
            chosen = other;
        }
    }
    let mut w = Writer { out, at: 0 };
    w.ints(&counts)?;
    let [(min, _), (max, _), _] = chosen.cols;
    for (c, pred) in &chosen.cols {
        w.byte(pred << 4 | c.exp)?;
        let r = residuals(*pred, c, p, &min, &max, &present)?;
        w.ints(&r[..p])?;
    }
    Some(w.at)
}

/// Decodes a column after its mode byte into `c`; `min`/`max` are the columns decoded
/// before it.
fn column(
    r: &mut Reader<'_>,
    p: usize,
    c: &mut Column,
    min: &Column,
    max: &Column,
    counts: &[i64],
) -> Option<()> {
    let mode = r.byte()?;
    let (pred, exp) = (mode >> 4, mode & 0x0f);
    if exp != BITS && usize::from(exp) > MAX_EXP {
        return None;
    }
    c.exp = exp;
    r.ints(&mut c.n[..p])?;
    let refers = |cols: &[&Column]| exp != BITS && cols.iter().all(|o| o.exp == exp);
    match pred {
        NONE => {}
        DELTA => {
            for i in 1..p {
                c.n[i] = c.n[i].checked_add(c.n[i - 1])?;
            }
        }
        FROM_MIN if refers(&[min]) => {
            for (x, m) in c.n[..p].iter_mut().zip(&min.n) {
                *x = x.checked_add(*m)?;
            }
        }
        MIDRANGE if refers(&[min, max]) => {
            for (i, x) in c.n[..p].iter_mut().enumerate() {
                let twice = x.checked_add(counts[i].checked_mul(min.n[i].checked_add(max.n[i])?)?)?;
                if twice % 2 != 0 {
                    return None;
                }
                *x = twice / 2;
            }
        }
        _ => return None,
    }
    Some(())
}

/// The `f32` bits of the first `p` values of a decoded column, if they stand for some.
fn bits_of(c: &Column, p: usize) -> Option<[u32; BLOCK]> {
    let mut out = [0u32; BLOCK];
    if c.exp == BITS {
        for (o, &n) in out.iter_mut().zip(&c.n[..p]) {
            *o = u32::try_from(n).ok()?;
        }
    } else {
        let e = usize::from(c.exp);
        for (o, &n) in out.iter_mut().zip(&c.n[..p]) {
            *o = unscale(n, e).to_bits();
        }
    }
    Some(out)
}

/// Decodes `packed` into a block's point bytes; false unless it is exactly one block.
pub(crate) fn decode(packed: &[u8], raw: &mut [u8; RAW]) -> bool {
    decode_into(packed, raw).is_some()
}

fn decode_into(packed: &[u8], raw: &mut [u8; RAW]) -> Option<()> {
    let mut r = Reader { b: packed, at: 0 };
    let mut counts = [0i64; BLOCK];
    r.ints(&mut counts)?;
    if counts.iter().any(|&c| !(0..=i64::from(u16::MAX)).contains(&c)) {
        return None;
    }
    let (present, p) = compact(&counts);
    let empty = Column::new();
    let (mut min, mut max, mut sum) = (Column::new(), Column::new(), Column::new());
    column(&mut r, p, &mut min, &empty, &empty, &present)?;
    column(&mut r, p, &mut max, &min, &empty, &present)?;
    column(&mut r, p, &mut sum, &min, &max, &present)?;
    if r.at != packed.len() {
        return None;
    }
    let (mins, maxes, sums) = (bits_of(&min, p)?, bits_of(&max, p)?, bits_of(&sum, p)?);
    let mut i = 0;
    for (j, point) in raw.chunks_exact_mut(TIER_POINT_BYTES).enumerate() {
        if counts[j] == 0 {
            point.fill(0);
            continue;
        }
        point[MIN_AT..MIN_AT + 4].copy_from_slice(&mins[i].to_le_bytes());
        point[MAX_AT..MAX_AT + 4].copy_from_slice(&maxes[i].to_le_bytes());
        point[SUM_AT..SUM_AT + 4].copy_from_slice(&sums[i].to_le_bytes());
        point[COUNT_AT..COUNT_AT + 2].copy_from_slice(&(counts[j] as u16).to_le_bytes());
        i += 1;
    }
    Some(())
}

#[cfg(test)]
mod tests;

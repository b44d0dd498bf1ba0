//! The 4-byte slot value: a decimal floating-point number with "exists" and "reset" flags.
//!
//! Guarantees: the all-zero word is the empty slot, so a zero-filled file or buffer reads as
//! "nothing stored"; every finite `f64` packs to a value that unpacks within a relative error
//! of about 3e-7 for |v| in [0.168, 1.6e14] (24-bit mantissa, at least 1 677 726 when scaled),
//! within an absolute error of 5e-8 below that (the smallest step is 1e-7), and saturates
//! at ±16 777 215 × 100^7 above ~1.6e21. NaN and infinities pack to the empty slot.
//!
//! Bit layout (bit 0 is the least significant; files store the word little-endian):
//!
//! | bits  | meaning                                                        |
//! |-------|----------------------------------------------------------------|
//! | 0–23  | mantissa                                                       |
//! | 24    | EXISTS: a value was stored (0 ⇒ empty slot)                    |
//! | 25    | RESET: the counter was reset/overflowed at this point          |
//! | 26    | ×100: the exponent counts steps of 100 instead of 10           |
//! | 27–29 | exponent 0–7                                                   |
//! | 30    | MULTIPLY: value = mantissa × base^exp (else mantissa / 10^exp) |
//! | 31    | sign                                                           |

/// One packed slot value; see the module documentation for the layout.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct StorageNumber(u32);

impl StorageNumber {
    /// The empty slot: nothing was stored at this time.
    pub const EMPTY: StorageNumber = StorageNumber(0);
    /// The largest mantissa.
    pub const MAX_MANTISSA: u32 = 0x00FF_FFFF;

    /// Packs `value`, marking it as a counter reset when `reset` is set.
    ///
    /// NaN and ±infinity give [`StorageNumber::EMPTY`] (the reset flag is dropped with it);
    /// ±0 gives an existing zero.
    pub fn pack(value: f64, reset: bool) -> Self {
        if !value.is_finite() {
            return Self::EMPTY;
        }
        let mut bits = EXISTS | if reset { RESET } else { 0 };
        if value == 0.0 {
            return StorageNumber(bits);
        }
        if value < 0.0 {
            bits |= SIGN;
        }
        let n = value.abs();
        let max = f64::from(Self::MAX_MANTISSA);
        let scaled = if n > max {
            // Too big for the mantissa: divide. Steps of 10 keep the most precision and
            // reach max × 10^7; only beyond that do steps of 100 take over.
            let (pow, flag) = if n > max * POW10[7] { (&POW100, X100) } else { (&POW10, 0) };
            let mut e = 1;
            while e < 7 && n / pow[e] > max {
                e += 1;
            }
            bits |= MULTIPLY | flag | ((e as u32) << EXP_SHIFT);
            n / pow[e]
        } else {
            // Small enough: multiply for precision while the result stays below the max.
            let mut e = 0;
            while e < 7 && n * POW10[e] < SCALE_UP_LIMIT {
                e += 1;
            }
            if e > 0 && n * POW10[e] > max {
                e -= 1;
            }
            bits |= (e as u32) << EXP_SHIFT;
            n * POW10[e]
        };
        // Round half to even, like C's lrint() in the default rounding mode; saturate.
        let m = scaled.round_ties_even().min(max) as u32;
        StorageNumber(bits | m)
    }

    /// The stored value, or `None` for an empty slot.
    pub fn value(self) -> Option<f64> {
        if self.is_empty() {
            return None;
        }
        let m = f64::from(self.0 & Self::MAX_MANTISSA);
        let e = ((self.0 >> EXP_SHIFT) & 7) as usize;
        let v = if self.0 & MULTIPLY != 0 {
            if self.0 & X100 != 0 {
                m * POW100[e]
            } else {
                m * POW10[e]
            }
        } else {
            m / POW10[e]
        };
        Some(if self.0 & SIGN != 0 { -v } else { v })
    }

    /// True when nothing was stored.
    pub fn is_empty(self) -> bool {
        self.0 & EXISTS == 0
    }

    /// True when the value was stored with the reset flag.
    pub fn is_reset(self) -> bool {
        self.0 & RESET != 0
    }

    /// The raw word, as stored in files (little-endian there).
    pub fn to_bits(self) -> u32 {
        self.0
    }

    /// Rebuilds a number from a raw word; every word is a valid number.
    pub fn from_bits(bits: u32) -> Self {
        StorageNumber(bits)
    }
}

const EXISTS: u32 = 1 << 24;
const RESET: u32 = 1 << 25;
const X100: u32 = 1 << 26;
const EXP_SHIFT: u32 = 27;
const MULTIPLY: u32 = 1 << 30;
const SIGN: u32 = 1 << 31;
/// Multiplying by 10 again below this still fits (≈ MAX_MANTISSA / 10).
const SCALE_UP_LIMIT: f64 = 0x0019_999E as f64;

const POW10: [f64; 8] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7];
const POW100: [f64; 8] = [1.0, 1e2, 1e4, 1e6, 1e8, 1e10, 1e12, 1e14];

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(v: f64) -> f64 {
        StorageNumber::pack(v, false).value().unwrap_or(f64::NAN)
    }

    #[test]
    fn round_trip_accuracy_over_wide_range() {
        // 1e-7 .. 1e14, 40 points per decade, both signs.
        for i in 0..=(21 * 40) {
            let mag = 10f64.powf(-7.0 + f64::from(i) / 40.0);
            for v in [mag, -mag, mag * 1.234_567_89, -mag * 9.876_543_21] {
                let back = rt(v);
                let err = (back - v).abs();
                // Below 0.168 the resolution is an absolute 1e-7 step.
                let ok = err <= v.abs() * 1e-6 || err <= 0.5e-7 * (1.0 + 1e-9);
                assert!(ok, "v={v:e} back={back:e} err={err:e}");
            }
        }
    }

    #[test]
    fn round_trip_above_1e14_is_within_ten_parts_per_million() {
        for v in [1.7e14, 3.3e15, 1e18, 1.5e21, -2.2e17] {
            let back = rt(v);
            assert!(((back - v) / v).abs() < 1e-5, "v={v:e} back={back:e}");
        }
    }

    #[test]
    fn exact_values() {
        for v in [0.9, 12.5, 100.0, 1234567.0, -0.9, -12.5, 1.0, 0.1, 16777215.0, 3.0e9] {
            assert_eq!(rt(v), v, "value {v}");
        }
    }

    #[test]
    fn flags_and_special_values() {
        assert_eq!(StorageNumber::EMPTY.to_bits(), 0);
        assert!(StorageNumber::EMPTY.is_empty());
        assert_eq!(StorageNumber::EMPTY.value(), None);

        let r = StorageNumber::pack(5.0, true);
        assert!(r.is_reset() && !r.is_empty());
        assert_eq!(r.value(), Some(5.0));
        assert!(!StorageNumber::pack(5.0, false).is_reset());

        let z = StorageNumber::pack(0.0, false);
        assert!(!z.is_empty());
        assert_eq!(z.value(), Some(0.0));
        assert_eq!(StorageNumber::pack(-0.0, false), z);

        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(StorageNumber::pack(v, true), StorageNumber::EMPTY);
        }
        let b = StorageNumber::pack(-42.25, true);
        assert_eq!(StorageNumber::from_bits(b.to_bits()), b);
    }

    #[test]
    fn saturates_at_the_top() {
        let top = f64::from(StorageNumber::MAX_MANTISSA) * 1e14;
        assert_eq!(rt(1e30), top);
        assert_eq!(rt(f64::MAX), top);
        assert_eq!(rt(-1e30), -top);
        assert_eq!(rt(top), top);
    }

    #[test]
    fn tiny_values_round_to_the_smallest_step() {
        assert_eq!(rt(1e-7), 1e-7);
        assert_eq!(rt(1e-9), 0.0);
        assert_eq!(rt(0.7e-7), 1e-7);
    }
}

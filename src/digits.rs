//! Decimal digits without `core::fmt`, two per division from a table: the API's JSON and the
//! exporting line formats write millions of numbers, and `{}` costs several times this.

/// `"00" "01" … "99"`.
static PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Writes the two digits of `n % 100` at `buf[at..at + 2]`.
#[inline(always)]
pub(crate) fn pair(buf: &mut [u8], at: usize, n: u32) {
    let i = (n as usize % 100) * 2;
    buf[at] = PAIRS[i];
    buf[at + 1] = PAIRS[i + 1];
}

/// Writes `n`'s decimal digits at the end of `buf` (20 bytes hold any `u64`) and returns
/// where they start (`0` is one digit).
#[inline]
pub(crate) fn write_u64(buf: &mut [u8], mut n: u64) -> usize {
    let mut at = buf.len();
    while n >= 100 {
        at -= 2;
        pair(buf, at, (n % 100) as u32);
        n /= 100;
    }
    if n >= 10 {
        at -= 2;
        pair(buf, at, n as u32);
    } else {
        at -= 1;
        buf[at] = b'0' + n as u8;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of_every_length() {
        let mut buf = [0u8; 20];
        for (n, want) in [
            (0u64, "0"),
            (7, "7"),
            (10, "10"),
            (99, "99"),
            (100, "100"),
            (12_345, "12345"),
            (u64::MAX, "18446744073709551615"),
        ] {
            let at = write_u64(&mut buf, n);
            assert_eq!(&buf[at..], want.as_bytes(), "{n}");
        }
    }
}

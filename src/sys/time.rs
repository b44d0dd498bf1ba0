//! Clocks the standard library does not read: the kernel's clock discipline (`adjtimex`),
//! the calling thread's CPU time, and local time with its zone.

use std::io;

use super::check;

pub use libc::{STA_CLOCKERR, STA_NANO, STA_PLL, STA_UNSYNC, TIME_ERROR, TIME_OK};

/// What one read-only `adjtimex(2)` call said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockState {
    /// The call's return value: the clock state (`TIME_OK` … `TIME_ERROR`).
    pub state: i32,
    /// `timex.status` flags (`STA_*`).
    pub status: i32,
    /// `timex.offset`: nanoseconds with `STA_NANO`, else microseconds.
    pub offset: i64,
}

/// `adjtimex(2)` with no modes: reads the kernel's clock discipline without changing it.
pub fn adjtimex() -> io::Result<ClockState> {
    // SAFETY: `timex` is a plain C struct of integers, for which all-zero bytes are valid;
    // `modes = 0` asks for a read only.
    let mut t: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: `t` is a writable timex that outlives the call.
    let state = check(unsafe { libc::adjtimex(&mut t) })?;
    #[allow(clippy::unnecessary_cast)] // the field widths differ between targets
    let offset = t.offset as i64;
    Ok(ClockState { state, status: t.status, offset })
}

/// The calling thread's CPU time (user + system) in nanoseconds.
pub fn thread_cpu_ns() -> io::Result<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a writable timespec that outlives the call.
    check(unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) })?;
    #[allow(clippy::unnecessary_cast)] // the field widths differ between targets
    let ns = (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64);
    Ok(ns)
}

/// A moment broken down in the local time zone (`localtime_r`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    /// The full year (e.g. 2026).
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// 0 to 23.
    pub hour: u32,
    /// 0 to 59.
    pub minute: u32,
    /// 0 to 60 (a leap second).
    pub second: u32,
    /// Seconds east of UTC.
    pub utc_offset: i64,
}

/// `secs` since the epoch in local time; `None` if the C library cannot represent it (a
/// 32-bit `time_t` past 2038) or has no answer. Does not allocate.
pub fn local_time(secs: i64) -> Option<LocalTime> {
    let tm = tm(secs)?;
    // c_long: 32 bits on 32-bit targets, 64 elsewhere.
    #[allow(clippy::useless_conversion)]
    let utc_offset = i64::from(tm.tm_gmtoff);
    let field = |v: libc::c_int| u32::try_from(v).unwrap_or(0);
    Some(LocalTime {
        year: i64::from(tm.tm_year) + 1900,
        month: field(tm.tm_mon + 1),
        day: field(tm.tm_mday),
        hour: field(tm.tm_hour),
        minute: field(tm.tm_min),
        second: field(tm.tm_sec),
        utc_offset,
    })
}

/// The local zone's abbreviation at `secs` (`CET`, `UTC`) with its offset in seconds east of
/// UTC; `None` if the C library has none.
pub fn zone_at(secs: i64) -> Option<(String, i64)> {
    let tm = tm(secs)?;
    if tm.tm_zone.is_null() {
        return None;
    }
    // SAFETY: a non-null tm_zone points at a NUL-terminated string owned by the C library
    // that stays valid at least until the next time-zone change; it is copied at once.
    let zone = unsafe { std::ffi::CStr::from_ptr(tm.tm_zone) }.to_string_lossy().into_owned();
    // c_long: 32 bits on 32-bit targets, 64 elsewhere.
    #[allow(clippy::useless_conversion)]
    let offset = i64::from(tm.tm_gmtoff);
    Some((zone, offset))
}

fn tm(secs: i64) -> Option<libc::tm> {
    // The C time_t is 32 bits on some 32-bit targets: a time it cannot hold is refused
    // rather than wrapped to 1901. (`time_t` is not named: the libc crate deprecates the
    // alias on musl, whose width it is going to change.)
    #[allow(clippy::useless_conversion)] // time_t is i64 here, i32 on some 32-bit targets
    let t = secs.try_into().ok()?;
    // SAFETY: an all-zero `tm` is a valid value of this plain C struct (tm_zone may be null).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers refer to live, properly aligned locals; localtime_r is the
    // thread-safe variant and writes only into `tm`.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return None;
    }
    Some(tm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjtimex_reads_this_system() {
        // Reading the clock needs no privilege; containers allow it too.
        let r = adjtimex().expect("adjtimex");
        assert!((TIME_OK..=TIME_ERROR).contains(&r.state), "{r:?}");
    }

    #[test]
    fn thread_cpu_time_grows_with_work() {
        let before = thread_cpu_ns().unwrap();
        let start = crate::clock::now_monotonic();
        let mut x = 1u64;
        while start.elapsed() < std::time::Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_mul(3).wrapping_add(1));
        }
        assert!(thread_cpu_ns().unwrap() > before);
    }

    #[test]
    fn local_time_matches_the_zone_offset() {
        // 2026-12-06 13:47:20 UTC.
        let secs = 1_796_564_840;
        let t = local_time(secs).unwrap();
        let (zone, offset) = zone_at(secs).unwrap();
        assert!(!zone.is_empty());
        assert_eq!(t.utc_offset, offset);
        // Back to UTC: the broken-down time minus the offset is the same instant of the day.
        let local_sod = i64::from(t.hour * 3600 + t.minute * 60 + t.second);
        assert_eq!((local_sod - offset).rem_euclid(86_400), secs % 86_400);
        assert!((1..=12).contains(&t.month) && (1..=31).contains(&t.day), "{t:?}");
        assert!((2026..=2027).contains(&t.year), "{t:?}");
    }
}

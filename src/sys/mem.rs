//! The allocator and the process's resource use: page size, glibc malloc tuning, CPU time.

use std::io;

use super::check;

/// The size of a memory page in bytes (4096 if the system will not say).
pub fn page_size() -> i64 {
    // SAFETY: sysconf only reads a constant of the running system; it has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as i64
    } else {
        4096
    }
}

/// Limits glibc's malloc to `arenas` arenas (glibc gives each thread its own otherwise).
/// Meant to be called before any thread exists; without glibc it does nothing.
pub fn set_malloc_arenas(arenas: u32) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let n = libc::c_int::try_from(arenas).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only changes allocator tuning and takes the allocator's own locks.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, n) };
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = arenas;
}

/// Returns the allocator's free pages to the system (glibc's `malloc_trim(0)`); without
/// glibc it does nothing.
pub fn trim_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases unused pages of the allocator's heaps; it takes the
    // allocator's own locks and touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// CPU time this process has used, in microseconds: `(user, system)` (`getrusage`).
pub fn process_cpu_usec() -> io::Result<(i64, i64)> {
    // SAFETY: `rusage` is a plain C struct of integers, for which all-zero bytes are valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a writable rusage that outlives the call.
    check(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) })?;
    #[allow(clippy::unnecessary_cast)] // the field widths differ between targets
    let us = |t: libc::timeval| (t.tv_sec as i64).saturating_mul(1_000_000).saturating_add(t.tv_usec as i64);
    Ok((us(ru.ru_utime), us(ru.ru_stime)))
}

/// CPU time the calling thread has used, in microseconds: `(user, system)`
/// (`getrusage(RUSAGE_THREAD)`).
pub fn thread_cpu_usec() -> io::Result<(i64, i64)> {
    // SAFETY: `rusage` is a plain C struct of integers, for which all-zero bytes are valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a writable rusage that outlives the call.
    check(unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) })?;
    #[allow(clippy::unnecessary_cast)] // the field widths differ between targets
    let us = |t: libc::timeval| (t.tv_sec as i64).saturating_mul(1_000_000).saturating_add(t.tv_usec as i64);
    Ok((us(ru.ru_utime), us(ru.ru_stime)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_is_a_power_of_two() {
        let p = page_size();
        assert!(p >= 4096 && p.count_ones() == 1, "{p}");
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let (u0, s0) = process_cpu_usec().unwrap();
        assert!(u0 >= 0 && s0 >= 0);
        let mut x = 0u64;
        let start = crate::clock::now_monotonic();
        while start.elapsed() < std::time::Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let (u1, s1) = process_cpu_usec().unwrap();
        assert!(u1 + s1 > u0 + s0, "({u0}, {s0}) -> ({u1}, {s1})");
    }

    #[test]
    fn allocator_tuning_is_harmless() {
        trim_allocator();
        let v = vec![1u8; 1 << 20];
        drop(std::hint::black_box(v));
        trim_allocator();
    }
}

//! The on-disk form of one dimension (`<host dir>/<chart>/<dim>.db`) and its file names.
//!
//! Guarantees: the encoding is explicit little-endian, so a file written on x86 reads on
//! big-endian MIPS and back; a header is only accepted when its magic, version, size,
//! checksum, owner (chart + dimension ids) and file length all agree, and its mutable times
//! are sane; names are confined to `[A-Za-z0-9._-]`, never `.`/`..`, at most 200 bytes, and
//! different ids never share a file name.
//!
//! Layout: a 64-byte header, then `entries` slots of 4 bytes (a `StorageNumber` word); in
//! version 2, then one section per upper tier (see `tierfile.rs`). A store without upper
//! tiers writes version 1, byte for byte the format before tiers existed; both versions load.
//!
//! | offset | size | field                                                    |
//! |--------|------|----------------------------------------------------------|
//! | 0      | 8    | magic `NDRRDv1\0`                                        |
//! | 8      | 4    | format version (1: tier 0 only, 2: tier sections follow) |
//! | 12     | 4    | header size (64)                                         |
//! | 16     | 4    | update every (seconds)                                   |
//! | 20     | 4    | entries                                                  |
//! | 24     | 8    | FNV-1a 64 of `chart id \0 dim id`                        |
//! | 32     | 4    | checksum of bytes 0..32 (FNV-1a 64 folded to 32 bits)    |
//! | 36     | 4    | reserved, 0                                              |
//! | 40     | 8    | last_t, i64 (`i64::MIN` = nothing stored)                |
//! | 48     | 8    | first written t, i64 (`i64::MIN` = nothing stored)       |
//! | 56     | 8    | reserved, 0                                              |
//!
//! The two times change on every store in map mode, so the checksum leaves them out; they
//! are checked for sanity instead.

use std::fmt;
use std::path::{Path, PathBuf};

/// The directory holding one host's database: `<cache dir>/<machine guid>`.
///
/// The guid is sanitized like any other file name component.
pub fn host_dir(cache_dir: &Path, machine_guid: &str) -> PathBuf {
    cache_dir.join(file_component(machine_guid))
}

/// The file of one dimension: `<host dir>/<chart id>/<dim id>.db`, each id sanitized.
pub fn dimension_path(host_dir: &Path, chart_id: &str, dim_id: &str) -> PathBuf {
    let mut name = file_component(dim_id);
    name.push_str(".db");
    host_dir.join(file_component(chart_id)).join(name)
}

/// The most slots one dimension may have (1 GiB of slots, addressable on 32-bit targets).
pub const MAX_ENTRIES: u32 = 1 << 28;

/// Size of the header in bytes.
pub(crate) const HEADER_LEN: usize = 64;
pub(crate) const MAGIC: [u8; 8] = *b"NDRRDv1\0";
pub(crate) const VERSION: u32 = 1;
/// The version of files with upper tier sections after tier 0's slots.
pub(crate) const VERSION_TIERS: u32 = 2;
/// Marks "no time" in the header's time fields.
pub(crate) const NO_TIME: i64 = i64::MIN;
/// Offsets of the mutable fields, written in place in map mode.
pub(crate) const LAST_T_AT: usize = 40;
pub(crate) const FIRST_T_AT: usize = 48;
/// How far in the future a stored `last_t` may be before the file is distrusted.
pub(crate) const MAX_FUTURE_SECS: i64 = 86_400;

/// The decoded header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Header {
    /// [`VERSION`] or [`VERSION_TIERS`].
    pub version: u32,
    pub update_every: u32,
    pub entries: u32,
    pub ids_hash: u64,
    pub last_t: i64,
    pub first_t: i64,
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&self.version.to_le_bytes());
        b[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        b[16..20].copy_from_slice(&self.update_every.to_le_bytes());
        b[20..24].copy_from_slice(&self.entries.to_le_bytes());
        b[24..32].copy_from_slice(&self.ids_hash.to_le_bytes());
        let sum = checksum(&b[0..32]);
        b[32..36].copy_from_slice(&sum.to_le_bytes());
        b[LAST_T_AT..LAST_T_AT + 8].copy_from_slice(&self.last_t.to_le_bytes());
        b[FIRST_T_AT..FIRST_T_AT + 8].copy_from_slice(&self.first_t.to_le_bytes());
        b
    }

    /// Decodes and checks the static part; the times are checked by [`inspect`].
    pub fn decode(b: &[u8]) -> Result<Header, Damage> {
        if b.len() < HEADER_LEN {
            return Err(Damage::Truncated { len: b.len() as u64 });
        }
        if b[0..8] != MAGIC {
            return Err(Damage::BadMagic);
        }
        let version = le_u32(b, 8);
        if version != VERSION && version != VERSION_TIERS {
            return Err(Damage::BadVersion(version));
        }
        let size = le_u32(b, 12);
        if size != HEADER_LEN as u32 {
            return Err(Damage::BadHeaderSize(size));
        }
        if le_u32(b, 32) != checksum(&b[0..32]) {
            return Err(Damage::BadChecksum);
        }
        Ok(Header {
            version,
            update_every: le_u32(b, 16),
            entries: le_u32(b, 20),
            ids_hash: le_u64(b, 24),
            last_t: le_u64(b, LAST_T_AT) as i64,
            first_t: le_u64(b, FIRST_T_AT) as i64,
        })
    }
}

/// Why a file was not trusted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Damage {
    /// The file exists but is empty.
    EmptyFile,
    /// Shorter than a header.
    Truncated {
        len: u64,
    },
    BadMagic,
    BadVersion(u32),
    BadHeaderSize(u32),
    BadChecksum,
    /// The header belongs to another chart/dimension (a name collision or a copied file).
    OtherDimension,
    /// The header's entries are 0 or above [`MAX_ENTRIES`].
    BadEntries(u32),
    /// The length disagrees with the header's own entries.
    WrongLength {
        len: u64,
        expected: u64,
    },
    /// `update every` of the chart changed; old points cannot be placed on the new grid.
    UpdateEveryChanged {
        from: u32,
        to: u32,
    },
    /// The stored first/last times are unaligned, inverted or in the future.
    BadTimes {
        first_t: i64,
        last_t: i64,
    },
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Damage::EmptyFile => write!(f, "file is empty"),
            Damage::Truncated { len } => write!(f, "file is truncated ({len} bytes)"),
            Damage::BadMagic => write!(f, "wrong magic (not a nanodata db file)"),
            Damage::BadVersion(v) => write!(f, "unsupported format version {v}"),
            Damage::BadHeaderSize(s) => write!(f, "unexpected header size {s}"),
            Damage::BadChecksum => write!(f, "header checksum mismatch"),
            Damage::OtherDimension => write!(f, "file belongs to another dimension"),
            Damage::BadEntries(n) => write!(f, "unsupported number of entries {n}"),
            Damage::WrongLength { len, expected } => {
                write!(f, "file is {len} bytes, its header says {expected}")
            }
            Damage::UpdateEveryChanged { from, to } => {
                write!(f, "update every changed from {from} to {to}")
            }
            Damage::BadTimes { first_t, last_t } => {
                write!(f, "insane stored times (first {first_t}, last {last_t})")
            }
        }
    }
}

/// What to do with an existing file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Matches the wanted geometry: use as is.
    Use(Header),
    /// Valid, but with another number of entries (retention changed): migrate from it.
    Resize(Header),
    /// Do not trust: rebuild empty.
    Rebuild(Damage),
}

/// Judges a file from its first bytes (`head`, up to a header) and its length.
/// Reads a database file without changing it: every slot of its window as
/// `(time, value)`, oldest first. For tools and tests; a damaged file is an error here,
/// never rebuilt.
pub fn read_file(path: &Path) -> std::io::Result<Vec<(i64, crate::db::StorageNumber)>> {
    use std::io::{Error, ErrorKind};
    let bytes = std::fs::read(path)?;
    let bad = |d: Damage| Error::new(ErrorKind::InvalidData, d.to_string());
    let h = Header::decode(&bytes).map_err(bad)?;
    if h.entries == 0 || h.entries > MAX_ENTRIES {
        return Err(bad(Damage::BadEntries(h.entries)));
    }
    if !length_fits(h.version, bytes.len() as u64, h.entries) {
        let expected = file_len_for(h.entries);
        return Err(bad(Damage::WrongLength { len: bytes.len() as u64, expected }));
    }
    if h.version == VERSION_TIERS {
        // Tier sections do not change tier 0's points; walking them here lets the file's
        // fuzz target reach their decoding (see `read_file_tier` to read them).
        let at = HEADER_LEN + h.entries as usize * 4;
        let _ = crate::db::tierfile::walk(&bytes, at, crate::db::MAX_TIERS - 1, i64::MAX);
    }
    let mut out = Vec::new();
    if h.last_t == NO_TIME || h.first_t == NO_TIME || h.update_every == 0 {
        return Ok(out);
    }
    // The checks `inspect` makes (but any future is fine here): a negative time would index
    // before the slots, a time near i64::MAX would overflow the walk (found by fuzzing).
    if !times_are_sane(h.first_t, h.last_t, h.update_every, i64::MAX) {
        return Err(bad(Damage::BadTimes { first_t: h.first_t, last_t: h.last_t }));
    }
    let ue = i64::from(h.update_every);
    let oldest = h.first_t.max(h.last_t - (i64::from(h.entries) - 1) * ue);
    let mut t = oldest;
    while t <= h.last_t {
        let slot = ((t / ue) % i64::from(h.entries)) as usize;
        let at = HEADER_LEN + slot * 4;
        out.push((t, crate::db::StorageNumber::from_bits(le_u32(&bytes, at))));
        match t.checked_add(ue) {
            Some(next) => t = next,
            None => break,
        }
    }
    Ok(out)
}

pub(crate) fn inspect(head: &[u8], file_len: u64, want: &Header, now: i64) -> Verdict {
    if file_len == 0 {
        return Verdict::Rebuild(Damage::EmptyFile);
    }
    if file_len < HEADER_LEN as u64 || head.len() < HEADER_LEN {
        return Verdict::Rebuild(Damage::Truncated { len: file_len });
    }
    let h = match Header::decode(head) {
        Ok(h) => h,
        Err(d) => return Verdict::Rebuild(d),
    };
    if h.ids_hash != want.ids_hash {
        return Verdict::Rebuild(Damage::OtherDimension);
    }
    if h.entries == 0 || h.entries > MAX_ENTRIES {
        return Verdict::Rebuild(Damage::BadEntries(h.entries));
    }
    let expected = file_len_for(h.entries);
    if !length_fits(h.version, file_len, h.entries) {
        return Verdict::Rebuild(Damage::WrongLength { len: file_len, expected });
    }
    if h.update_every != want.update_every {
        let (from, to) = (h.update_every, want.update_every);
        return Verdict::Rebuild(Damage::UpdateEveryChanged { from, to });
    }
    if !times_are_sane(h.first_t, h.last_t, h.update_every, now) {
        return Verdict::Rebuild(Damage::BadTimes { first_t: h.first_t, last_t: h.last_t });
    }
    if h.entries != want.entries {
        return Verdict::Resize(h);
    }
    Verdict::Use(h)
}

/// Version 1 is exactly the header and slots; version 2 has tier sections after them.
pub(crate) fn length_fits(version: u32, len: u64, entries: u32) -> bool {
    if version == VERSION {
        len == file_len_for(entries)
    } else {
        len >= file_len_for(entries)
    }
}

/// Length of the header and tier 0's `entries` slots (the whole file in version 1).
pub(crate) fn file_len_for(entries: u32) -> u64 {
    HEADER_LEN as u64 + u64::from(entries) * 4
}

/// A stable 64-bit hash of the owner of a file.
pub(crate) fn ids_hash(chart_id: &str, dim_id: &str) -> u64 {
    let h = fnv1a64(FNV_OFFSET, chart_id.as_bytes());
    let h = fnv1a64(h, &[0]);
    fnv1a64(h, dim_id.as_bytes())
}

pub(crate) fn times_are_sane(first_t: i64, last_t: i64, update_every: u32, now: i64) -> bool {
    if last_t == NO_TIME || first_t == NO_TIME {
        return last_t == first_t;
    }
    let ue = i64::from(update_every.max(1));
    last_t >= 0
        && first_t >= 0
        && last_t % ue == 0
        && first_t % ue == 0
        && first_t <= last_t
        && last_t <= now.saturating_add(MAX_FUTURE_SECS)
}

/// Longest file name component we produce.
const MAX_COMPONENT: usize = 200;

/// Makes one id safe as a file name; see [`dimension_path`].
fn file_component(id: &str) -> String {
    let mut out: String = id
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"._-".contains(&b) { b as char } else { '_' })
        .collect();
    let changed = out.as_bytes() != id.as_bytes() || out.is_empty() || out == "." || out == "..";
    // Leave room for ".db" and the suffix.
    if changed || out.len() > MAX_COMPONENT - 12 {
        out.truncate(MAX_COMPONENT - 12);
        let h = fnv1a64(FNV_OFFSET, id.as_bytes());
        out.push_str(&format!("-{:08x}", (h ^ (h >> 32)) as u32));
    }
    out
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a64(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

pub(crate) fn checksum(bytes: &[u8]) -> u32 {
    let h = fnv1a64(FNV_OFFSET, bytes);
    (h ^ (h >> 32)) as u32
}

/// [`checksum`] of `a` followed by `b`, without joining them.
pub(crate) fn checksum2(a: &[u8], b: &[u8]) -> u32 {
    let h = fnv1a64(fnv1a64(FNV_OFFSET, a), b);
    (h ^ (h >> 32)) as u32
}

/// A checksum of `a` then `b` taken eight bytes at a time: each little-endian word (the last
/// one of each part zero-padded, then the part's length) mixed in by a multiply and a shift.
/// Eight times fewer steps than [`checksum`], for records read on every query; like it, not
/// a defence against forgery, only against damage.
pub(crate) fn checksum_words(a: &[u8], b: &[u8]) -> u32 {
    fn mix(h: u64, w: u64) -> u64 {
        let x = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^ (x >> 29)
    }
    let mut h = FNV_OFFSET;
    for part in [a, b] {
        let mut words = part.chunks_exact(8);
        for w in &mut words {
            h = mix(h, le_u64(w, 0));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = mix(h, u64::from_le_bytes(w));
        }
        h = mix(h, part.len() as u64);
    }
    (h ^ (h >> 32)) as u32
}

pub(crate) fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

pub(crate) fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            version: VERSION,
            update_every: 1,
            entries: 3600,
            ids_hash: 0x0102_0304_0506_0708,
            last_t: 0x1122_3344,
            first_t: NO_TIME,
        }
    }

    #[test]
    fn header_bytes_are_little_endian() {
        let b = sample().encode();
        let sum = checksum(&b[0..32]).to_le_bytes();
        #[rustfmt::skip]
        let want: [u8; 64] = [
            b'N', b'D', b'R', b'R', b'D', b'v', b'1', 0,
            1, 0, 0, 0,             64, 0, 0, 0,
            1, 0, 0, 0,             0x10, 0x0e, 0, 0,
            8, 7, 6, 5, 4, 3, 2, 1,
            sum[0], sum[1], sum[2], sum[3], 0, 0, 0, 0,
            0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0x80,
            0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(b, want);
        assert_eq!(Header::decode(&want), Ok(sample()));
    }

    #[test]
    fn checksum_is_stable() {
        // Pins the hash so a refactor cannot silently invalidate every file in the field.
        assert_eq!(fnv1a64(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(ids_hash("cpu", "user"), ids_hash("cpu", "user"));
        assert_ne!(ids_hash("cpu", "user"), ids_hash("cpuu", "ser"));
    }

    #[test]
    fn decode_rejects_damage() {
        let good = sample().encode();
        let mut b = good;
        b[0] = b'X';
        assert_eq!(Header::decode(&b), Err(Damage::BadMagic));
        let mut b = good;
        b[8] = 3;
        assert_eq!(Header::decode(&b), Err(Damage::BadVersion(3)));
        let mut b = good;
        b[12] = 32;
        assert_eq!(Header::decode(&b), Err(Damage::BadHeaderSize(32)));
        let mut b = good;
        b[20] ^= 1;
        assert_eq!(Header::decode(&b), Err(Damage::BadChecksum));
        assert_eq!(Header::decode(&good[..10]), Err(Damage::Truncated { len: 10 }));
    }

    #[test]
    fn inspect_checks_times_and_geometry() {
        let want = Header { last_t: NO_TIME, ..sample() };
        let len = file_len_for(3600);
        let mk = |h: Header| h.encode();
        let ok = Header { first_t: 100, last_t: 200, ..want };
        assert_eq!(inspect(&mk(ok), len, &want, 1000), Verdict::Use(ok));
        let future = Header { first_t: 100, last_t: 1000 + MAX_FUTURE_SECS + 1, ..want };
        assert!(matches!(inspect(&mk(future), len, &want, 1000), Verdict::Rebuild(_)));
        let inverted = Header { first_t: 300, last_t: 200, ..want };
        assert!(matches!(inspect(&mk(inverted), len, &want, 1000), Verdict::Rebuild(_)));
        let half = Header { first_t: NO_TIME, last_t: 200, ..want };
        assert!(matches!(inspect(&mk(half), len, &want, 1000), Verdict::Rebuild(_)));
        let small = Header { entries: 10, ..ok };
        assert_eq!(inspect(&mk(small), file_len_for(10), &want, 1000), Verdict::Resize(small));
        assert_eq!(
            inspect(&mk(ok), len - 4, &want, 1000),
            Verdict::Rebuild(Damage::WrongLength { len: len - 4, expected: len })
        );
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        let h = Path::new("/c");
        assert_eq!(dimension_path(h, "system.cpu", "user"), Path::new("/c/system.cpu/user.db"));
        let a = dimension_path(h, "disk/sda", "x y");
        let b = dimension_path(h, "disk_sda", "x_y");
        assert_ne!(a, b);
        assert!(a.to_string_lossy().starts_with("/c/disk_sda-"));
        for bad in ["", ".", ".."] {
            let c = file_component(bad);
            assert!(c.starts_with(bad) && c.len() == bad.len() + 9, "{c}");
        }
        assert_ne!(file_component("é"), file_component("è"));
        let long = "a".repeat(500);
        let c = file_component(&long);
        assert!(c.len() <= MAX_COMPONENT - 3);
        assert_ne!(c, file_component(&"a".repeat(501)));
        assert!(file_component(&long).bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        assert_eq!(host_dir(h, "abc-123"), Path::new("/c/abc-123"));
    }

    /// Fuzzing (fuzz/fuzz_targets/db_file.rs) found `read_file` indexing before the slots
    /// (an overflow panic) when a valid header carried a negative first time, and the walk
    /// overflowing with a last time near `i64::MAX`.
    #[test]
    fn read_file_rejects_negative_and_overflowing_times() {
        let dir = std::env::temp_dir().join(format!("nanodata-read-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.db");
        let write = |first_t: i64, last_t: i64, ue: u32| {
            let h = Header { version: VERSION, update_every: ue, entries: 4, ids_hash: 1, last_t, first_t };
            let mut b = h.encode().to_vec();
            for i in 0..4u32 {
                b.extend_from_slice(
                    &(crate::db::StorageNumber::pack(f64::from(i), false).to_bits()).to_le_bytes(),
                );
            }
            std::fs::write(&path, b).unwrap();
        };
        // The fuzzer's input: last_t 0, first_t negative.
        write(0x8000_0080_0000_0000_u64 as i64, 0, 1);
        let e = read_file(&path).expect_err("negative first time");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        write(-3, 10, 1);
        assert!(read_file(&path).is_err());
        // The largest aligned last time still reads, oldest first, without overflowing.
        let last = i64::MAX - i64::MAX % 2;
        write(last - 6, last, 2);
        let points = read_file(&path).unwrap();
        assert_eq!(points.iter().map(|p| p.0).collect::<Vec<_>>(), [last - 6, last - 4, last - 2, last]);
        // A sane file still reads.
        write(100, 103, 1);
        assert_eq!(read_file(&path).unwrap().len(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

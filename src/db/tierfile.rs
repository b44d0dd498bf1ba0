//! The upper tiers' part of a version-2 dimension file: one section per tier after tier 0's
//! slots, each a 64-byte descriptor followed by `entries` points of 14 bytes, then the
//! tier's compressed archive, `archive bytes` long (a log of compressed blocks, see
//! `archive.rs`; none when 0).
//!
//! Sections are at version 3 (magic `NDTIER3`); a version-2 section (`NDTIER2`, no archive)
//! is not read: that tier and those above are filled again from the tier below, with one
//! warning for the file.
//!
//! Guarantees: explicit little-endian like the rest of the file; a section is only trusted
//! when its magic, checksum, tier number, entries and length agree and its times are sane;
//! the first untrusted section ends the walk (the sections after it cannot be located
//! reliably), so that tier and every tier above it are rebuilt from the tier below.
//!
//! Descriptor:
//!
//! | offset | size | field                                                    |
//! |--------|------|----------------------------------------------------------|
//! | 0      | 8    | magic `NDTIER2\0`                                        |
//! | 8      | 4    | tier number (1..=4)                                      |
//! | 12     | 4    | update every (seconds)                                   |
//! | 16     | 4    | iterations (points of the tier below per point)          |
//! | 20     | 4    | entries                                                  |
//! | 24     | 4    | bytes per point (14)                                     |
//! | 28     | 4    | archive bytes (index + region; 0 = no archive)           |
//! | 32     | 4    | checksum of bytes 0..32 (FNV-1a 64 folded to 32 bits)    |
//! | 36     | 4    | archive tail: region offset of the oldest record         |
//! | 40     | 8    | last_t, i64 (`i64::MIN` = nothing stored)                |
//! | 48     | 8    | first written t, i64 (`i64::MIN` = nothing stored)       |
//! | 56     | 4    | archive used: bytes of the log from its tail to its head |
//! | 60     | 4    | archive head: region offset of the next block            |
//!
//! As in the file header, the times and the archive's position change in place in map mode,
//! so the checksum leaves them out and they are checked for sanity instead (each archived
//! block carries its own checksum).

use std::fmt;
use std::io::{Error, ErrorKind};
use std::path::Path;

use super::archive::Archive;
use super::file::{
    checksum, le_u32, le_u64, length_fits, times_are_sane, Header, HEADER_LEN, MAX_ENTRIES, NO_TIME,
    VERSION_TIERS,
};
use super::ring::Ring;
use super::tier::{for_each_point, TierPoint, TIER_POINT_BYTES};

/// Size of a tier descriptor in bytes.
pub(crate) const DESC_LEN: usize = 64;
const TIER_MAGIC: [u8; 8] = *b"NDTIER3\0";
/// The section format before archives.
const TIER_MAGIC_V2: [u8; 8] = *b"NDTIER2\0";
/// Offsets of the mutable fields of a descriptor, written in place in map mode.
pub(crate) const TIER_LAST_T_AT: usize = 40;
pub(crate) const TIER_FIRST_T_AT: usize = 48;
pub(crate) const ARCH_TAIL_AT: usize = 36;
pub(crate) const ARCH_USED_AT: usize = 56;
pub(crate) const ARCH_HEAD_AT: usize = 60;

/// A decoded tier descriptor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct TierDesc {
    pub tier: u32,
    pub update_every: u32,
    pub iterations: u32,
    pub entries: u32,
    /// Archive bytes after the points.
    pub bytes: u32,
    pub last_t: i64,
    pub first_t: i64,
    /// The archive's position: tail, bytes used, head.
    pub arch: [u32; 3],
}

impl TierDesc {
    pub fn encode(&self) -> [u8; DESC_LEN] {
        let mut b = [0u8; DESC_LEN];
        b[0..8].copy_from_slice(&TIER_MAGIC);
        b[8..12].copy_from_slice(&self.tier.to_le_bytes());
        b[12..16].copy_from_slice(&self.update_every.to_le_bytes());
        b[16..20].copy_from_slice(&self.iterations.to_le_bytes());
        b[20..24].copy_from_slice(&self.entries.to_le_bytes());
        b[24..28].copy_from_slice(&(TIER_POINT_BYTES as u32).to_le_bytes());
        b[28..32].copy_from_slice(&self.bytes.to_le_bytes());
        let sum = checksum(&b[0..32]);
        b[32..36].copy_from_slice(&sum.to_le_bytes());
        b[TIER_LAST_T_AT..TIER_LAST_T_AT + 8].copy_from_slice(&self.last_t.to_le_bytes());
        b[TIER_FIRST_T_AT..TIER_FIRST_T_AT + 8].copy_from_slice(&self.first_t.to_le_bytes());
        put_arch(&mut b, self.arch);
        b
    }

    /// Decodes and checks the static part (`b` holds at least a descriptor).
    pub fn decode(b: &[u8]) -> Result<TierDesc, TierDamage> {
        if b.len() < DESC_LEN {
            return Err(TierDamage::Truncated);
        }
        if b[0..8] == TIER_MAGIC_V2 {
            return Err(TierDamage::OldFormat);
        }
        if b[0..8] != TIER_MAGIC {
            return Err(TierDamage::BadMagic);
        }
        if le_u32(b, 32) != checksum(&b[0..32]) {
            return Err(TierDamage::BadChecksum);
        }
        if le_u32(b, 24) != TIER_POINT_BYTES as u32 {
            return Err(TierDamage::BadPointSize(le_u32(b, 24)));
        }
        Ok(TierDesc {
            tier: le_u32(b, 8),
            update_every: le_u32(b, 12),
            iterations: le_u32(b, 16),
            entries: le_u32(b, 20),
            bytes: le_u32(b, 28),
            last_t: le_u64(b, TIER_LAST_T_AT) as i64,
            first_t: le_u64(b, TIER_FIRST_T_AT) as i64,
            arch: [le_u32(b, ARCH_TAIL_AT), le_u32(b, ARCH_USED_AT), le_u32(b, ARCH_HEAD_AT)],
        })
    }
}

/// Writes an archive's position (tail, count, head) into a descriptor's bytes.
pub(crate) fn put_arch(d: &mut [u8], arch: [u32; 3]) {
    d[ARCH_TAIL_AT..ARCH_TAIL_AT + 4].copy_from_slice(&arch[0].to_le_bytes());
    d[ARCH_USED_AT..ARCH_USED_AT + 4].copy_from_slice(&arch[1].to_le_bytes());
    d[ARCH_HEAD_AT..ARCH_HEAD_AT + 4].copy_from_slice(&arch[2].to_le_bytes());
}

/// Length of a tier section with `entries` points and `bytes` of archive.
pub(crate) fn section_len(entries: u32, bytes: u32) -> u64 {
    DESC_LEN as u64 + u64::from(entries) * TIER_POINT_BYTES as u64 + u64::from(bytes)
}

/// Why an upper tier's section was not used as it was.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TierDamage {
    /// The section is cut short by the end of the file.
    Truncated,
    BadMagic,
    /// A version-2 section (before archives).
    OldFormat,
    BadChecksum,
    BadPointSize(u32),
    /// The section says it is another tier.
    WrongTier(u32),
    /// Entries of 0 or above `MAX_ENTRIES`.
    BadEntries(u32),
    /// The stored first/last times are unaligned, inverted or in the future.
    BadTimes {
        first_t: i64,
        last_t: i64,
    },
    /// The configuration changed the tier's step: its points cannot be placed on the new grid.
    UpdateEveryChanged {
        from: u32,
        to: u32,
    },
    /// The configuration changed the points per point.
    IterationsChanged {
        from: u32,
        to: u32,
    },
    /// The archive's size or position is impossible.
    BadArchive,
    /// A tier below this one was rebuilt, so this one was too.
    BelowRebuilt,
}

impl fmt::Display for TierDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TierDamage::Truncated => write!(f, "damaged (truncated)"),
            TierDamage::BadMagic => write!(f, "damaged (bad magic)"),
            TierDamage::OldFormat => write!(f, "is in the older uncompressed format (version 2)"),
            TierDamage::BadChecksum => write!(f, "damaged (bad checksum)"),
            TierDamage::BadPointSize(n) => write!(f, "damaged (point size {n})"),
            TierDamage::WrongTier(n) => write!(f, "damaged (says it is tier {n})"),
            TierDamage::BadEntries(n) => write!(f, "damaged (entries {n})"),
            TierDamage::BadTimes { first_t, last_t } => {
                write!(f, "damaged (insane times: first {first_t}, last {last_t})")
            }
            TierDamage::UpdateEveryChanged { from, to } => {
                write!(f, "update every changed from {from} to {to}")
            }
            TierDamage::IterationsChanged { from, to } => {
                write!(f, "iterations changed from {from} to {to}")
            }
            TierDamage::BadArchive => write!(f, "damaged (archive geometry)"),
            TierDamage::BelowRebuilt => write!(f, "rebuilt with the tier below"),
        }
    }
}

/// A tier section found in a file image.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Section {
    pub desc: TierDesc,
    /// Offset of the descriptor in the image; the points follow it.
    pub at: usize,
}

/// Walks the tier sections of a version-2 image from `at` (the end of tier 0's slots), at
/// most `max` of them: the valid sections in order, then the damage that stopped the walk,
/// if any (`None` when the image simply ended). Bytes after the last section are ignored.
pub(crate) fn walk(image: &[u8], mut at: usize, max: usize, now: i64) -> (Vec<Section>, Option<TierDamage>) {
    let mut found = Vec::new();
    while found.len() < max && at < image.len() {
        let desc = match TierDesc::decode(&image[at..]) {
            Ok(d) => d,
            Err(e) => return (found, Some(e)),
        };
        let want_tier = found.len() as u32 + 1;
        let damage = if desc.tier != want_tier {
            Some(TierDamage::WrongTier(desc.tier))
        } else if desc.entries == 0 || desc.entries > MAX_ENTRIES {
            Some(TierDamage::BadEntries(desc.entries))
        } else if !archive_is_sane(&desc) {
            Some(TierDamage::BadArchive)
        } else if ((image.len() - at) as u64) < section_len(desc.entries, desc.bytes) {
            Some(TierDamage::Truncated)
        } else if desc.update_every == 0 || !times_are_sane(desc.first_t, desc.last_t, desc.update_every, now)
        {
            Some(TierDamage::BadTimes { first_t: desc.first_t, last_t: desc.last_t })
        } else {
            None
        };
        if damage.is_some() {
            return (found, damage);
        }
        found.push(Section { desc, at });
        at += section_len(desc.entries, desc.bytes) as usize;
    }
    (found, None)
}

/// The archive's size and position can be those of a real archive.
fn archive_is_sane(d: &TierDesc) -> bool {
    super::archive::state_is_sane(d.bytes, d.arch)
}

/// Reads one tier of a database file without changing it: every point of its window,
/// oldest first (tier 0's values as points of count 1; nothing for an upper tier a file
/// does not have). For tools, tests and fuzzing; a damaged file or section is an error
/// here, never rebuilt.
pub fn read_file_tier(path: &Path, tier: usize) -> std::io::Result<Vec<TierPoint>> {
    if tier == 0 {
        let points = super::read_file(path)?;
        return Ok(points.into_iter().map(|(t, v)| TierPoint::single(t, v.value())).collect());
    }
    let bytes = std::fs::read(path)?;
    let bad = |what: String| Error::new(ErrorKind::InvalidData, what);
    let h = Header::decode(&bytes).map_err(|d| bad(d.to_string()))?;
    if h.entries == 0 || h.entries > MAX_ENTRIES || !length_fits(h.version, bytes.len() as u64, h.entries) {
        return Err(bad(format!("bad tier 0 geometry ({} entries, {} bytes)", h.entries, bytes.len())));
    }
    if h.version != VERSION_TIERS || tier >= super::MAX_TIERS {
        return Ok(Vec::new());
    }
    let (found, damage) = walk(&bytes, HEADER_LEN + h.entries as usize * 4, tier, i64::MAX);
    let Some(s) = found.get(tier - 1) else {
        return match damage {
            Some(d) => Err(bad(format!("tier {} {}", found.len() + 1, d))),
            None => Ok(Vec::new()),
        };
    };
    let mut out = Vec::new();
    if s.desc.last_t == NO_TIME {
        return Ok(out);
    }
    let mut ring = Ring::new(s.desc.update_every, s.desc.entries);
    ring.load_times(s.desc.last_t, s.desc.first_t);
    let body = &bytes[s.at + DESC_LEN..s.at + section_len(s.desc.entries, s.desc.bytes) as usize];
    let mut arch = Archive::new(s.desc.bytes);
    if let Some(a) = arch.as_mut() {
        let [tail, count, head] = s.desc.arch;
        if !a.load(&body[s.desc.entries as usize * TIER_POINT_BYTES..], tail, count, head) {
            return Err(bad(format!("tier {tier} {}", TierDamage::BadArchive)));
        }
    }
    let what = || format!("{} tier {tier}", path.display());
    for_each_point(&ring, arch.as_ref(), body, (i64::MIN, i64::MAX), &what, &mut |p| out.push(p));
    Ok(out)
}

/// How an upper tier of a dimension file uses its space: the points of its ring, the bytes of
/// its archive and how many of them hold records. For tools (the storage bench); `None` when
/// the file has no such tier; a damaged file or section is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierUsage {
    pub ring_points: u32,
    pub archive_bytes: u32,
    pub archive_used: u32,
}

pub fn tier_file_usage(path: &Path, tier: usize) -> std::io::Result<Option<TierUsage>> {
    let bytes = std::fs::read(path)?;
    let bad = |what: String| Error::new(ErrorKind::InvalidData, what);
    let h = Header::decode(&bytes).map_err(|d| bad(d.to_string()))?;
    if tier == 0 || h.version != VERSION_TIERS || tier >= super::MAX_TIERS {
        return Ok(None);
    }
    if h.entries == 0 || h.entries > MAX_ENTRIES || !length_fits(h.version, bytes.len() as u64, h.entries) {
        return Err(bad(format!("bad tier 0 geometry ({} entries, {} bytes)", h.entries, bytes.len())));
    }
    let (found, _) = walk(&bytes, HEADER_LEN + h.entries as usize * 4, tier, i64::MAX);
    Ok(found.get(tier - 1).map(|s| TierUsage {
        ring_points: s.desc.entries,
        archive_bytes: s.desc.bytes,
        archive_used: s.desc.arch[1],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::file::NO_TIME;

    fn sample() -> TierDesc {
        TierDesc {
            tier: 2,
            update_every: 3600,
            iterations: 60,
            entries: 0x0102,
            last_t: 0x1122_3344,
            first_t: NO_TIME,
            bytes: 0,
            arch: [0; 3],
        }
    }

    #[test]
    fn descriptor_bytes_are_little_endian() {
        let b = sample().encode();
        let sum = checksum(&b[0..32]).to_le_bytes();
        #[rustfmt::skip]
        let want: [u8; 64] = [
            b'N', b'D', b'T', b'I', b'E', b'R', b'3', 0,
            2, 0, 0, 0,             0x10, 0x0e, 0, 0,
            60, 0, 0, 0,            0x02, 0x01, 0, 0,
            14, 0, 0, 0,            0, 0, 0, 0,
            sum[0], sum[1], sum[2], sum[3], 0, 0, 0, 0,
            0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0x80,
            0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(b, want);
        assert_eq!(TierDesc::decode(&want), Ok(sample()));
    }

    #[test]
    fn decode_rejects_damage() {
        let good = sample().encode();
        let mut b = good;
        b[1] = b'x';
        assert_eq!(TierDesc::decode(&b), Err(TierDamage::BadMagic));
        let mut b = good;
        b[16] = 61;
        assert_eq!(TierDesc::decode(&b), Err(TierDamage::BadChecksum));
        assert_eq!(TierDesc::decode(&good[..63]), Err(TierDamage::Truncated));
        // The times are outside the checksum: changing them keeps the descriptor valid.
        let mut b = good;
        b[TIER_LAST_T_AT] = 0;
        assert!(TierDesc::decode(&b).is_ok());
    }

    #[test]
    fn walk_stops_at_the_first_bad_section() {
        let one = TierDesc {
            tier: 1,
            update_every: 60,
            iterations: 30,
            entries: 3,
            last_t: 120,
            first_t: 60,
            bytes: 0,
            arch: [0; 3],
        };
        let two = TierDesc {
            tier: 2,
            update_every: 120,
            iterations: 2,
            entries: 2,
            last_t: NO_TIME,
            first_t: NO_TIME,
            bytes: 0,
            arch: [0; 3],
        };
        let mut img = vec![0u8; 8];
        img.extend_from_slice(&one.encode());
        img.extend_from_slice(&[0; 3 * 14]);
        let two_at = img.len();
        img.extend_from_slice(&two.encode());
        img.extend_from_slice(&[0; 2 * 14]);
        let (found, damage) = walk(&img, 8, 4, 1000);
        assert_eq!(found, vec![Section { desc: one, at: 8 }, Section { desc: two, at: two_at }]);
        assert_eq!(damage, None);
        assert_eq!(walk(&img, 8, 1, 1000).0.len(), 1, "at most `max`");
        // Cut inside tier 2's points.
        let (found, damage) = walk(&img[..img.len() - 1], 8, 4, 1000);
        assert_eq!((found.len(), damage), (1, Some(TierDamage::Truncated)));
        // Tier 1 in the future.
        let mut bad = img.clone();
        bad[8 + TIER_LAST_T_AT..8 + TIER_LAST_T_AT + 8]
            .copy_from_slice(&(1000i64 + 2 * 86_400).to_le_bytes());
        let (found, damage) = walk(&bad, 8, 4, 1000);
        assert!(found.is_empty());
        assert!(matches!(damage, Some(TierDamage::BadTimes { .. })));
        // Two tier-1 sections.
        let mut dup = img.clone();
        dup[two_at..two_at + 64].copy_from_slice(&TierDesc { tier: 1, ..two }.encode());
        assert_eq!(walk(&dup, 8, 4, 1000).1, Some(TierDamage::WrongTier(1)));
        assert_eq!(TierDamage::BadChecksum.to_string(), "damaged (bad checksum)");
    }
}

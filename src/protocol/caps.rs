//! Stream capabilities: the `ver=` bitmask of the STREAM handshake (protocol.md §1.4). Both
//! ends agree on them before the first line, and they decide which lines the wire carries
//! (chart labels, replication), so they live with the protocol; `stream` negotiates them.

use std::fmt;

/// A set of stream capabilities.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct Caps(pub u32);

impl Caps {
    pub const V1: Caps = Caps(1 << 3);
    pub const V2: Caps = Caps(1 << 4);
    pub const VN: Caps = Caps(1 << 5);
    pub const VCAPS: Caps = Caps(1 << 6);
    pub const HLABELS: Caps = Caps(1 << 7);
    pub const CLAIM: Caps = Caps(1 << 8);
    pub const CLABELS: Caps = Caps(1 << 9);
    pub const COMPRESSION: Caps = Caps(1 << 10);
    pub const FUNCTIONS: Caps = Caps(1 << 11);
    pub const REPLICATION: Caps = Caps(1 << 12);
    pub const BINARY: Caps = Caps(1 << 13);

    const NAMES: [(Caps, &'static str); 11] = [
        (Caps::V1, "V1"),
        (Caps::V2, "V2"),
        (Caps::VN, "VN"),
        (Caps::VCAPS, "VCAPS"),
        (Caps::HLABELS, "HLABELS"),
        (Caps::CLAIM, "CLAIM"),
        (Caps::CLABELS, "CLABELS"),
        (Caps::COMPRESSION, "COMPRESSION"),
        (Caps::FUNCTIONS, "FUNCTIONS"),
        (Caps::REPLICATION, "REPLICATION"),
        (Caps::BINARY, "BINARY"),
    ];

    /// What a nanodata child offers: bitmask negotiation, host and chart labels, the claim
    /// line, replication, and LZ4 when `compression` is on. Functions and binary splitting
    /// are not offered (nanodata compresses whole lines and serves no functions).
    pub fn ours(compression: bool) -> Caps {
        let mut c = Caps::VCAPS | Caps::HLABELS | Caps::CLAIM | Caps::CLABELS | Caps::REPLICATION;
        if compression {
            c = c | Caps::COMPRESSION;
        }
        c
    }

    /// Netdata's conversion of a version number (`ver=` or the number in the reply) into
    /// capabilities, limited to `ours`.
    pub fn from_version(version: u32, ours: Caps) -> Caps {
        let mut c = match version {
            0 | 1 => Caps::V1,
            2 => Caps::V2 | Caps::HLABELS,
            3 => Caps::VN | Caps::HLABELS | Caps::CLAIM,
            4 => Caps::VN | Caps::HLABELS | Caps::CLAIM | Caps::CLABELS,
            5 => Caps::VN | Caps::HLABELS | Caps::CLAIM | Caps::CLABELS | Caps::COMPRESSION,
            n => Caps(n),
        };
        if c.has(Caps::VCAPS) {
            c = c.without(Caps::V1 | Caps::V2 | Caps::VN);
        }
        if c.has(Caps::VN) {
            c = c.without(Caps::V1 | Caps::V2);
        }
        if c.has(Caps::V2) {
            c = c.without(Caps::V1);
        }
        Caps(c.0 & ours.0)
    }

    pub fn has(self, other: Caps) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn without(self, other: Caps) -> Caps {
        Caps(self.0 & !other.0)
    }
}

impl std::ops::BitOr for Caps {
    type Output = Caps;
    fn bitor(self, rhs: Caps) -> Caps {
        Caps(self.0 | rhs.0)
    }
}

impl fmt::Display for Caps {
    /// The names Netdata logs: `VCAPS HLABELS CLAIM CLABELS COMPRESSION REPLICATION`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (cap, name) in Caps::NAMES {
            if self.has(cap) {
                if !first {
                    f.write_str(" ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netdata_1_37_numbers() {
        let all = Caps((1 << 14) - 8); // 16376: bits 3..13, what a 1.37 child sends
        assert_eq!(all.0, 16376);
        // A 1.37 parent answers a 1.37 child with 16320 (compression on).
        assert_eq!(Caps::from_version(16376, Caps(16320)).0, 16320);
        assert_eq!(
            Caps(16320).to_string(),
            "VCAPS HLABELS CLAIM CLABELS COMPRESSION FUNCTIONS REPLICATION BINARY"
        );
    }

    #[test]
    fn old_versions_map_like_netdata() {
        let ours = Caps::ours(true);
        assert_eq!(
            Caps::from_version(5, ours),
            Caps::HLABELS | Caps::CLAIM | Caps::CLABELS | Caps::COMPRESSION
        );
        assert_eq!(Caps::from_version(4, Caps::ours(false)), Caps::HLABELS | Caps::CLAIM | Caps::CLABELS);
        assert_eq!(Caps::from_version(2, ours), Caps::HLABELS);
        assert_eq!(Caps::from_version(1, ours), Caps(0));
        // 6 is a bitmask without any version bit: nothing in common.
        assert_eq!(Caps::from_version(6, ours), Caps(0));
    }

    #[test]
    fn ours_and_a_parent_without_compression() {
        assert_eq!(Caps::ours(true).0, 6080);
        assert_eq!(Caps::ours(false).0, 5056);
        // 15296 = a 1.37 parent with compression disabled.
        let got = Caps::from_version(15296, Caps::ours(true));
        assert!(!got.has(Caps::COMPRESSION) && got.has(Caps::REPLICATION) && got.has(Caps::VCAPS));
    }
}

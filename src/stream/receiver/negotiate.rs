//! What the parent grants a child, and the exact reply bytes (protocol.md §1.3–1.4).
//!
//! Guarantees: the granted set is always a subset of both the child's offer (after Netdata's
//! `ver` conversion) and what the parent supports; the reply is one of Netdata 1.37's four
//! accepted prompts, with no trailing newline, to be written alone on the socket.

use super::access::ChildSettings;
use crate::db::MemoryMode;
use crate::protocol::Caps;
use crate::stream::handshake::{PROMPT_V1, PROMPT_V2, PROMPT_VN};

/// What a child was granted and the reply that tells it so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The negotiated capabilities: what the session must speak (and whether the stream is
    /// LZ4-compressed, whether `CHART_DEFINITION_END` / replication follows).
    pub caps: Caps,
    /// The reply, written raw and alone.
    pub reply: String,
}

/// What this parent supports: bitmask negotiation, host and chart labels, the claim line;
/// replication only when it stores history for the child (`replication`), LZ4 only when
/// `enable compression` resolved to yes for the child. Functions and binary splitting are
/// never offered.
pub fn supported(compression: bool, replication: bool) -> Caps {
    let mut c = Caps::VCAPS | Caps::HLABELS | Caps::CLAIM | Caps::CLABELS;
    if replication {
        c = c | Caps::REPLICATION;
    }
    // A build without the `compression` feature cannot decompress: never offer it.
    if compression && cfg!(feature = "compression") {
        c = c | Caps::COMPRESSION;
    }
    c
}

/// [`negotiate`] for an accepted child: LZ4 if its `enable compression` resolved to yes,
/// replication if `enable replication` did and its memory mode stores history (not `none`).
pub fn for_child(ver: Option<u32>, settings: &ChildSettings) -> Grant {
    let replication = settings.replication && settings.memory_mode != MemoryMode::None;
    negotiate(ver, supported(settings.compression, replication))
}

/// Grants `Caps::from_version(ver)` ∩ `supported` (`ver` absent = V1) and builds the reply:
/// VCAPS ⇒ `…version=<bitmask>`; VN ⇒ `…version=5` if COMPRESSION was kept, else 4 if
/// CLABELS, else 3; V2 ⇒ the host-labels prompt; otherwise the V1 prompt.
pub fn negotiate(ver: Option<u32>, supported: Caps) -> Grant {
    // The protocol-generation bits are not features: every parent speaks all of them.
    let ours = supported | Caps::V1 | Caps::V2 | Caps::VN;
    let caps = Caps::from_version(ver.unwrap_or(0), ours);
    let reply = if caps.has(Caps::VCAPS) {
        format!("{PROMPT_VN}{}", caps.0)
    } else if caps.has(Caps::VN) {
        let n = if caps.has(Caps::COMPRESSION) {
            5
        } else if caps.has(Caps::CLABELS) {
            4
        } else {
            3
        };
        format!("{PROMPT_VN}{n}")
    } else if caps.has(Caps::V2) {
        PROMPT_V2.to_string()
    } else {
        PROMPT_V1.to_string()
    };
    Grant { caps, reply }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::stream::handshake::{parse_reply, Reply};

    #[test]
    fn netdata_1_37_child() {
        let ours = supported(true, true);
        assert_eq!(ours.0, 6080);
        let g = negotiate(Some(16376), ours);
        assert_eq!(g.caps.0, 16320 & 6080);
        assert_eq!(g.reply, "Hit me baby, push them over with the version=6080");
        // Without compression: 15296 & ours.
        let g = negotiate(Some(15352), supported(false, true));
        assert_eq!(g.caps.0, 15296 & 5056);
        assert_eq!(g.reply, "Hit me baby, push them over with the version=5056");
        assert!(!g.caps.has(Caps::COMPRESSION));
        // A 1.37 child compressing but this parent refusing it.
        assert!(!negotiate(Some(16376), supported(false, true)).caps.has(Caps::COMPRESSION));
        // No history kept: no replication.
        assert_eq!(negotiate(Some(16376), supported(true, false)).caps.0, 6080 - 4096);
    }

    #[test]
    fn netdata_1_36_child() {
        let g = negotiate(Some(5), supported(true, true));
        assert_eq!(g.reply, "Hit me baby, push them over with the version=5");
        assert_eq!(g.caps, Caps::VN | Caps::HLABELS | Caps::CLAIM | Caps::CLABELS | Caps::COMPRESSION);
        let g = negotiate(Some(5), supported(false, true));
        assert_eq!(g.reply, "Hit me baby, push them over with the version=4");
        assert_eq!(negotiate(Some(4), supported(true, true)).reply, format!("{PROMPT_VN}4"));
        assert_eq!(negotiate(Some(3), supported(true, true)).reply, format!("{PROMPT_VN}3"));
    }

    #[test]
    fn old_children() {
        let ours = supported(true, true);
        assert_eq!(negotiate(None, ours).reply, "Hit me baby, push them over...");
        assert_eq!(negotiate(None, ours).caps, Caps::V1);
        assert_eq!(negotiate(Some(1), ours).reply, PROMPT_V1);
        let g = negotiate(Some(2), ours);
        assert_eq!(g.reply, "Hit me baby, push them over and bring the host labels...");
        assert_eq!(g.caps, Caps::V2 | Caps::HLABELS);
        // 6 is a bitmask without a version bit: nothing in common, V1 prompt.
        assert_eq!(negotiate(Some(6), ours).reply, PROMPT_V1);
        // A bitmask without VCAPS but with VN gets a numeric reply.
        assert_eq!(negotiate(Some(32 | 128 | 256), ours).reply, format!("{PROMPT_VN}3"));
    }

    pub(crate) fn settings() -> ChildSettings {
        ChildSettings {
            memory_mode: MemoryMode::Ram,
            history: 3600,
            health: None,
            postpone_alarms: 60,
            health_log_history: 432_000,
            proxy_enabled: false,
            proxy_destination: String::new(),
            proxy_api_key: String::new(),
            proxy_send_charts: "*".into(),
            compression: true,
            replication: true,
            seconds_to_replicate: 86_400,
            replication_step: 600,
            update_every: 1,
        }
    }

    #[test]
    fn per_child_settings() {
        let mut s = settings();
        assert_eq!(for_child(Some(16376), &s).caps.0, 6080);
        s.memory_mode = MemoryMode::None;
        assert_eq!(for_child(Some(16376), &s).caps.0, 6080 - 4096, "no history, no replication");
        s.compression = false;
        assert_eq!(for_child(Some(5), &s).reply, format!("{PROMPT_VN}4"));
    }

    #[test]
    fn our_child_understands_every_reply() {
        for ver in
            [None, Some(1), Some(2), Some(3), Some(4), Some(5), Some(16376), Some(6080), Some(u32::MAX)]
        {
            for (c, r) in [(true, true), (false, true), (true, false), (false, false)] {
                let g = negotiate(ver, supported(c, r));
                assert!(
                    matches!(parse_reply(g.reply.as_bytes(), Caps::ours(true)), Reply::Accepted(_)),
                    "{ver:?}"
                );
                let child = Caps::from_version(ver.unwrap_or(0), Caps(u32::MAX));
                assert_eq!(g.caps.0 & !child.0, 0, "granted only what was offered");
            }
        }
    }
}

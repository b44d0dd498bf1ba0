//! The machine GUID file (`registry/netdata.public.unique.id`, protocol.md §7).
//!
//! The file holds exactly 36 bytes: a lowercase hyphenated UUID, no newline. A valid file is
//! never rewritten (an uppercase one is accepted as is); a missing, short, garbled or
//! blacklisted one is replaced by a fresh time-based (v1) UUID, written to a temporary file
//! and renamed into place so a crash never leaves a half-written GUID.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use uuid::{ContextV1, Timestamp, Uuid};

/// GUIDs shipped in old images and cloned VMs; Netdata rejects them, and so do we.
pub const BLACKLISTED: [&str; 2] =
    ["8a795b0c-2311-11e6-8563-000c295076a6", "4aed1458-1c3e-11e6-a53f-000c290fc8f5"];

/// Length of the canonical text form, and of the file.
pub const LEN: usize = 36;

/// Reads the machine GUID from `path`, creating the file if needed. Returns the GUID and
/// whether it was just created. Fails only if a new GUID cannot be written.
pub fn load_or_create(path: &Path) -> io::Result<(Uuid, bool)> {
    match read(path) {
        Ok(Some(guid)) => return Ok((guid, false)),
        Ok(None) => log::warn!(
            "machine GUID file {} is invalid or blacklisted; generating a new GUID",
            path.display()
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => log::warn!("cannot read machine GUID file {}: {e}; generating a new GUID", path.display()),
    }
    let guid = generate();
    write(path, &guid)?;
    Ok((guid, true))
}

/// Parses the first 36 bytes of a GUID file; `None` if they are not an acceptable GUID.
pub fn parse(bytes: &[u8]) -> Option<Uuid> {
    let text = std::str::from_utf8(bytes.get(..LEN)?).ok()?;
    let guid = Uuid::try_parse(text).ok()?;
    let lower = guid.hyphenated().to_string();
    if BLACKLISTED.contains(&lower.as_str()) {
        return None;
    }
    Some(guid)
}

/// A new time-based (v1) UUID with a random node id marked as such (multicast bit set,
/// as RFC 9562 asks when no MAC address is used).
pub fn generate() -> Uuid {
    let random = Uuid::new_v4();
    let mut node = [0u8; 6];
    node.copy_from_slice(&random.as_bytes()[..6]);
    node[0] |= 0x01;
    let context = ContextV1::new_random();
    Uuid::new_v1(Timestamp::now(&context), &node)
}

fn read(path: &Path) -> io::Result<Option<Uuid>> {
    let mut bytes = Vec::with_capacity(LEN);
    File::open(path)?.take(LEN as u64).read_to_end(&mut bytes)?;
    Ok(parse(&bytes))
}

fn write(path: &Path, guid: &Uuid) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        super::dirs::ensure_dir(parent)?;
    }
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o644).open(&tmp)?;
        let mut text = [0u8; LEN];
        guid.hyphenated().encode_lower(&mut text);
        file.write_all(&text)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// `<file>.tmp.<pid>` beside the target, so the rename stays on one filesystem.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp.{}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nanodata-guid-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn assert_canonical_file(path: &Path, guid: &Uuid) {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(bytes.len(), LEN);
        assert_eq!(bytes, guid.hyphenated().to_string().as_bytes());
        assert!(!bytes.iter().any(|b| b.is_ascii_uppercase() || *b == b'\n'));
    }

    #[test]
    fn created_once_then_reused() {
        let dir = temp_dir("reuse");
        let path = dir.join("registry/netdata.public.unique.id");
        let (first, created) = load_or_create(&path).unwrap();
        assert!(created);
        assert_eq!(first.get_version_num(), 1);
        assert_canonical_file(&path, &first);
        let (second, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first, second);
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "temporary file left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn garbage_and_short_files_replaced() {
        let dir = temp_dir("garbage");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("id");
        for junk in [&b"not a uuid at all, not at all at all!"[..], b"8a795b0c-2311", b"", &[0xff; 40]] {
            std::fs::write(&path, junk).unwrap();
            let (guid, created) = load_or_create(&path).unwrap();
            assert!(created);
            assert_canonical_file(&path, &guid);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn blacklisted_replaced() {
        let dir = temp_dir("blacklist");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("id");
        for bad in BLACKLISTED {
            for text in [bad.to_owned(), bad.to_uppercase()] {
                std::fs::write(&path, &text).unwrap();
                let (guid, created) = load_or_create(&path).unwrap();
                assert!(created);
                assert_ne!(guid.hyphenated().to_string(), bad);
                assert_canonical_file(&path, &guid);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn uppercase_accepted_and_left_alone() {
        let dir = temp_dir("upper");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("id");
        let upper = "0D9F6E2A-6B1C-11EF-9A3B-0242AC120002\n";
        std::fs::write(&path, upper).unwrap();
        let (guid, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(guid.hyphenated().to_string(), "0d9f6e2a-6b1c-11ef-9a3b-0242ac120002");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), upper);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn generated_guids_differ_and_have_multicast_node() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 1);
        assert_eq!(a.as_bytes()[10] & 0x01, 0x01);
    }
}

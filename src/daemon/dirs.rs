//! Directories the daemon writes to, and the host's name.

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// Creates `path` and any missing parents with mode 0o755 (minus umask); an existing
/// directory is fine.
pub fn ensure_dir(path: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o755).create(path)
}

/// The kernel's host name, or `localhost` when it is unset or unreadable.
pub fn hostname() -> String {
    let Ok(name) = crate::sys::uname::hostname() else {
        return "localhost".to_owned();
    };
    let name = name.trim().to_owned();
    if name.is_empty() {
        "localhost".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_dir_nested_and_idempotent() {
        let dir = std::env::temp_dir().join(format!("nanodata-dirs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let nested = dir.join("a/b/c");
        ensure_dir(&nested).unwrap();
        ensure_dir(&nested).unwrap();
        assert!(nested.is_dir());
        std::fs::write(dir.join("file"), b"").unwrap();
        assert!(ensure_dir(&dir.join("file")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn hostname_is_not_empty() {
        let name = hostname();
        assert!(!name.is_empty());
        assert!(!name.contains('\0'));
    }
}

//! Keeps the skip policy in one place: only `tests/common/mod.rs` (`require`) may decide that a
//! test runs without something it needs, so that under `CI=true` nothing is skipped. This test
//! reads the sources and fails on any other way to skip: `#[ignore]`, a test of its own reading
//! `CI`, or a `SKIPPED`/"skipped" message.

use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())).flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn only_common_require_decides_to_skip() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let decider = root.join("tests/common/mod.rs");
    let me = root.join("tests/skip_policy.rs");
    // Built from pieces so that this file does not match itself.
    let ignore = ["#[", "ignore"].concat();
    let ci_var = ["var(\"", "CI\")"].concat();
    let skipped = ["SKIP", "PED"].concat();
    let mut files = rust_files(&root.join("tests"));
    files.extend(rust_files(&root.join("src")));
    assert!(files.len() > 20, "the sources were not found: {files:?}");
    let mut found = Vec::new();
    for file in files.iter().filter(|f| **f != decider && **f != me) {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let lower = line.to_ascii_lowercase();
            let why = if line.contains(&ignore) {
                "an ignored test"
            } else if line.contains(&ci_var) {
                "reads CI itself"
            } else if line.contains(&skipped) || (lower.contains("eprintln!") && lower.contains("skip")) {
                "prints a skip"
            } else {
                continue;
            };
            found.push(format!("{}:{}: {why}: {}", file.display(), n + 1, line.trim()));
        }
    }
    assert!(
        found.is_empty(),
        "a test skips outside common::require (use `if !require(Dep::…, why) {{ return; }}`):\n{}",
        found.join("\n")
    );
}

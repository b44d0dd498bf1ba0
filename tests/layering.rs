//! The module layering README.md's architecture section draws: a module may use modules on
//! its own layer's right or on lower layers, never one above it. Read from the sources, so
//! a `use crate::web::…` slipped into `protocol/` fails here, with the file named.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Top to bottom; a module may use any module of a later row.
const LAYERS: &[&[&str]] = &[
    &["web"],
    &["stream", "plugins", "cli"],
    &["health", "exporting"],
    &["collectors", "protocol", "query"],
    &["rrd"],
    &["config"],
    &["db", "logging", "net", "daemon"],
    &["sys", "rng", "simple_pattern", "digits"],
    &["clock"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable").flatten() {
        let p = entry.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a source file belongs to (`src/stream/sender/mod.rs` → `stream`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src/");
    let first = rel.components().next().expect("a component").as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::<name>` a file mentions.
fn uses(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

#[test]
fn no_module_uses_a_module_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 50, "only {} source files found under {}", files.len(), src.display());
    let mut upward = Vec::new();
    let mut unplaced = BTreeSet::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "main" || module == "lib" {
            continue; // the wiring sits above everything
        }
        let Some(own) = layer_of(&module) else {
            unplaced.insert(module);
            continue;
        };
        let text = fs::read_to_string(file).expect("readable source");
        for used in uses(&text) {
            if used == module {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < own => upward.push(format!("{} uses crate::{used}", file.display())),
                Some(_) => {}
                None => {
                    unplaced.insert(used);
                }
            }
        }
    }
    assert!(unplaced.is_empty(), "modules missing from LAYERS (place them): {unplaced:?}");
    assert!(upward.is_empty(), "imports against the layering:\n{}", upward.join("\n"));
}

#[test]
fn the_checker_sees_an_upward_import() {
    // The scan itself: a line naming a higher module is found.
    let found = uses("use crate::web::context::Context;\nlet x = crate::clock::now_realtime_sec();");
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["clock", "web"]);
    assert!(layer_of("web") < layer_of("protocol"));
}

/// 32-bit MIPS (a router target) has no 64-bit atomics: `AtomicU64` or `AtomicI64` in `src/`
/// builds here and breaks the router build (cross/ci.sh). Counters are `usize`, or behind a
/// lock.
#[test]
fn no_64_bit_atomics_for_32_bit_mips() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let needles = [["Atomic", "U64"].concat(), ["Atomic", "I64"].concat()];
    let mut found = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            if needles.iter().any(|w| line.contains(w.as_str())) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(files.len() > 50, "the sources were not found");
    assert!(found.is_empty(), "64-bit atomics (none on 32-bit MIPS):\n{}", found.join("\n"));
}

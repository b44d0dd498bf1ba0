//! The configuration dialect (`config::Config::parse`) for every file kind, every typed
//! getter, and the rendering: what `render` writes must parse back to the same rendering.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::config::{keys, Config, FileKind, Kind};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, text)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(text);
    let kind = match mode % 3 {
        0 => FileKind::Netdata,
        1 => FileKind::Stream,
        _ => FileKind::Exporting,
    };
    let all = keys::all(kind);
    let (cfg, diags) = Config::parse(kind, &text, "fuzz.conf");
    for d in &diags {
        let _ = format!("{d:?}");
    }
    for key in all {
        match key.kind {
            Kind::Bool => drop(cfg.bool(key)),
            Kind::BoolAuto => drop(cfg.tristate(key)),
            Kind::Integer => drop(cfg.integer(key)),
            Kind::Seconds => drop(cfg.seconds(key)),
            Kind::Bytes => drop(cfg.bytes(key)),
            _ => drop(cfg.text(key)),
        }
    }
    let sections: Vec<String> = cfg.sections().map(str::to_owned).collect();
    for s in &sections {
        for (name, value) in cfg.entries(s) {
            let _ = (cfg.integer_in(s, name, 0), cfg.seconds_in(s, name, 0), cfg.bytes_in(s, name, 0));
            let _ = (cfg.bool_in(s, name, false), cfg.tristate_in(s, name, None), value.len());
        }
    }
    let rendered = cfg.render();
    let (again, _) = Config::parse(kind, &rendered, "rendered.conf");
    assert_eq!(again.render(), rendered, "render → parse → render changed the file");
    let mut set = cfg;
    if let Some(s) = sections.first() {
        let _ = set.set(s, "fuzz key", &text.chars().take(64).collect::<String>());
    }
});

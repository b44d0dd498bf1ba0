//! Configuration: Netdata's `netdata.conf` / `stream.conf` / `exporting.conf` dialect and
//! vocabulary.
//!
//! A [`Config`] holds the sections and keys of one file as written (after old key names are
//! mapped to Netdata 1.37's, see `alias.rs`), each value with the `file:line` it came from.
//! Defaults live only in the registry ([`keys`]); typed getters return the written value when
//! it is valid for the key's [`Kind`] and the default otherwise. [`settings`] reads the
//! files once into the typed values the roles receive; no role reads a [`Config`] itself.
//!
//! Guarantees: reading a file never panics and never stops the daemon. Input is bounded
//! ([`MAX_FILE_BYTES`], [`MAX_LINE_BYTES`]); every line that is refused, every unknown key or
//! section, every invalid value and every old name produces a [`Diagnostic`] naming
//! `file:line`, and the offending line has no effect (an invalid value falls back to the
//! default). Only a file that cannot be read at all is an error, for the caller to judge.

mod alias;
mod dialect;
pub mod keys;
pub mod settings;
pub mod units;

pub use dialect::MAX_LINE_BYTES;
pub use keys::{Key, Kind};

use keys::Class;
use log::Level;
use std::fmt::{self, Write as _};
use std::io::Read;
use std::path::{Path, PathBuf};
use units::ValueError;

/// Files larger than this are refused (built-in defaults apply, with a diagnostic).
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// Which file a [`Config`] holds, and so which vocabulary applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `nanodata.conf`, with the sections and keys of Netdata's `netdata.conf`.
    Netdata,
    /// `stream.conf`: `[stream]` plus API-key and machine-GUID sections.
    Stream,
    /// `exporting.conf`: `[exporting:global]`, `[prometheus:exporter]` and one
    /// `[<type>:<name>]` section per connector instance.
    Exporting,
}

/// Something worth telling the user about a configuration, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// `path:line`, `path` for the whole file, or `-W` for a command-line `set`.
    pub origin: String,
    pub message: String,
    /// `Warn` for problems, `Info` for notes (an old key name, an unused section).
    pub level: Level,
}

/// One configuration file: ordered sections of ordered keys.
#[derive(Debug, Clone)]
pub struct Config {
    kind: FileKind,
    sections: Vec<Section>,
}

impl Config {
    /// Built-in defaults only, as if an empty file had been read.
    pub fn new(kind: FileKind) -> Config {
        Config { kind, sections: Vec::new() }
    }

    /// Reads `text`; `origin` (usually the file's path) prefixes every diagnostic's line.
    /// Nothing is logged: the diagnostics are returned.
    pub fn parse(kind: FileKind, text: &str, origin: &str) -> (Config, Vec<Diagnostic>) {
        let mut config = Config::new(kind);
        let mut diags = Vec::new();
        if text.len() > MAX_FILE_BYTES {
            diags.push(too_big(origin));
            return (config, diags);
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // None before the first header and after a broken one (its keys are dropped).
        let mut current: Option<String> = None;
        let mut after_bad_header = false;
        for (i, line) in text.split('\n').enumerate() {
            let at = format!("{origin}:{}", i + 1);
            match dialect::line(line) {
                Ok(dialect::Line::Blank) => {}
                Ok(dialect::Line::Section(name)) => {
                    if let Some(message) = config.instance_name_taken(name) {
                        diags.push(warn(&at, message));
                        current = None;
                        after_bad_header = true;
                        continue;
                    }
                    config.section_mut(name, &at, &mut diags);
                    current = Some(name.to_string());
                }
                Ok(dialect::Line::Entry { name, value }) => match &current {
                    Some(section) => config.apply(section, name, value, &at, Via::File, &mut diags),
                    None if after_bad_header => {}
                    None => diags.push(warn(&at, format!("key '{name}' is not in any section (ignored)"))),
                },
                Err(message) if line.trim_start().starts_with('[') => {
                    diags.push(warn(&at, format!("{message}; the keys up to the next section are ignored")));
                    current = None;
                    after_bad_header = true;
                }
                Err(message) => diags.push(warn(&at, message)),
            }
        }
        (config, diags)
    }

    /// Reads the file at `path` and logs every diagnostic (`config: path:line: message`).
    /// `Err` only when the file cannot be read; its content never makes this fail.
    pub fn load(kind: FileKind, path: &Path) -> std::io::Result<(Config, Vec<Diagnostic>)> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)?.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes)?;
        let origin = path.display().to_string();
        let (config, diags) = if bytes.len() > MAX_FILE_BYTES {
            (Config::new(kind), vec![too_big(&origin)])
        } else {
            match String::from_utf8(bytes) {
                Ok(text) => Config::parse(kind, &text, &origin),
                Err(e) => {
                    let text = String::from_utf8_lossy(e.as_bytes());
                    let (config, mut diags) = Config::parse(kind, &text, &origin);
                    let note = "file is not valid UTF-8; invalid bytes were replaced";
                    diags.insert(0, warn(&origin, note.to_string()));
                    (config, diags)
                }
            }
        };
        diags.iter().for_each(Diagnostic::log);
        Ok((config, diags))
    }

    /// Sets one value, as `-W set section name value` does: old names are mapped, the value
    /// is checked, and it overrides whatever a file said. Diagnostics are logged and returned.
    pub fn set(&mut self, section: &str, name: &str, value: &str) -> Vec<Diagnostic> {
        let (section, name, value) = (section.trim(), name.trim(), value.trim());
        let mut diags = Vec::new();
        let unwritable = section.is_empty()
            || name.is_empty()
            || section.contains([']', '\n', '\r'])
            || name.contains(['=', '\n', '\r'])
            || name.starts_with(['#', ';', '['])
            || value.contains(['\n', '\r'])
            // It must fit in a line when rendered: "[section]" and "\tname = value".
            || section.len() + 2 > MAX_LINE_BYTES
            || name.len() + value.len() + 4 > MAX_LINE_BYTES;
        if unwritable {
            let message =
                format!("cannot set [{section}] '{name}' = {value:?}: not a valid key and value (ignored)");
            diags.push(warn("-W", message));
        } else {
            self.apply(section, name, value, "-W", Via::Set, &mut diags);
        }
        diags.iter().for_each(Diagnostic::log);
        diags
    }

    /// The value as written (after old names are mapped), or `None` when not set.
    pub fn raw(&self, section: &str, name: &str) -> Option<&str> {
        self.entry(section, name).map(|e| e.value.as_str())
    }

    /// Where the value was set: `path:line`, or `-W` for a command-line `set`.
    pub fn origin(&self, section: &str, name: &str) -> Option<&str> {
        self.entry(section, name).map(|e| e.origin.as_str())
    }

    /// A registered key's value, or its default when unset or invalid.
    pub fn text(&self, key: &Key) -> String {
        self.effective(key).to_string()
    }

    /// A `Bool` key.
    pub fn bool(&self, key: &Key) -> bool {
        units::parse_bool(self.effective(key)).unwrap_or(false)
    }

    /// A `BoolAuto` key: `None` means auto.
    pub fn tristate(&self, key: &Key) -> Option<bool> {
        units::parse_tristate(self.effective(key)).unwrap_or(None)
    }

    /// An `Integer` key (0 for an empty, inheriting default).
    pub fn integer(&self, key: &Key) -> i64 {
        units::parse_integer(self.effective(key)).unwrap_or(0)
    }

    /// A `Seconds` key (0 for an empty, inheriting default).
    pub fn seconds(&self, key: &Key) -> u64 {
        units::parse_duration_secs(self.effective(key)).unwrap_or(0)
    }

    /// A `Bytes` key (0 for an empty, inheriting default).
    pub fn bytes(&self, key: &Key) -> u64 {
        units::parse_bytes(self.effective(key)).unwrap_or(0)
    }

    /// A key of a dynamic section (a plugin's, an API key's, a machine GUID's), or `default`.
    pub fn text_in(&self, section: &str, name: &str, default: &str) -> String {
        self.raw(section, name).unwrap_or(default).to_string()
    }

    /// Like [`Config::text_in`] for a boolean; an unparsable value is logged and gives
    /// `default`.
    pub fn bool_in(&self, section: &str, name: &str, default: bool) -> bool {
        self.typed_in(section, name, default, units::parse_bool)
    }

    /// Like [`Config::bool_in`] for `yes`/`no`/`auto` (`None` = auto).
    pub fn tristate_in(&self, section: &str, name: &str, default: Option<bool>) -> Option<bool> {
        self.typed_in(section, name, default, units::parse_tristate)
    }

    /// Like [`Config::bool_in`] for an integer.
    pub fn integer_in(&self, section: &str, name: &str, default: i64) -> i64 {
        self.typed_in(section, name, default, units::parse_integer)
    }

    /// Like [`Config::bool_in`] for a duration in seconds.
    pub fn seconds_in(&self, section: &str, name: &str, default: u64) -> u64 {
        self.typed_in(section, name, default, units::parse_duration_secs)
    }

    /// Like [`Config::bool_in`] for a size in bytes.
    pub fn bytes_in(&self, section: &str, name: &str, default: u64) -> u64 {
        self.typed_in(section, name, default, units::parse_bytes)
    }

    /// Section names in the order they first appeared.
    pub fn sections(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|s| s.name.as_str())
    }

    /// The keys set in `section`, in order, with their values: for open sections such as
    /// `[host labels]`, `[plugins]` or `[plugin:proc]`.
    pub fn entries<'a>(&'a self, section: &str) -> impl Iterator<Item = (&'a str, &'a str)> {
        let entries = self.sections.iter().find(|s| s.name == section).map(|s| &s.entries[..]);
        entries.unwrap_or(&[]).iter().map(|e| (e.name.as_str(), e.value.as_str()))
    }

    /// The machine GUID file: `[registry] netdata unique id file`, or by default
    /// `netdata.public.unique.id` in `[directories] registry` when set, else in
    /// `<[directories] lib>/registry`.
    pub fn machine_guid_file(&self) -> PathBuf {
        match self.text(&keys::REGISTRY_UNIQUE_ID_FILE) {
            file if file.is_empty() => match self.raw(keys::DIR_REGISTRY.section, keys::DIR_REGISTRY.name) {
                // As in Netdata, the registry directory follows [directories] lib unless set.
                Some(dir) if !dir.trim().is_empty() => Path::new(dir.trim()).join("netdata.public.unique.id"),
                _ => Path::new(&self.text(&keys::DIR_LIB)).join("registry/netdata.public.unique.id"),
            },
            file => file.into(),
        }
    }

    /// The external plugin directories of `[directories] plugins` (double-quoted words, or
    /// plain words, separated by spaces).
    pub fn plugin_dirs(&self) -> Vec<String> {
        words(&self.text(&keys::DIR_PLUGINS))
    }

    /// The effective configuration in the dialect, as served at `/netdata.conf`: every
    /// registered key, set ones as `name = value` and the others commented out with their
    /// default; keys accepted but not used, and keys nanodata does not know, are marked. Reading it back gives the same values.
    pub fn render(&self) -> String {
        let list = keys::all(self.kind);
        let title = match self.kind {
            FileKind::Netdata => "netdata.conf",
            FileKind::Stream => "stream.conf",
            FileKind::Exporting => "exporting.conf",
        };
        let mut out = format!(
            "# {} {} effective configuration ({title} dialect)\n#\n\
             # Uncommented keys are set (in a file or with -W set);\n\
             # commented keys show their default.\n",
            crate::PROGRAM,
            crate::VERSION
        );
        let mut order: Vec<&str> = Vec::new();
        let names = list.iter().map(|k| k.section).chain(self.sections());
        for name in names {
            // Templates are not sections; [backend] was removed in Netdata 1.34, so it is shown
            // only to those who still have it.
            let hidden = name == keys::PEER
                || name == keys::INSTANCE
                || (name == keys::BACKEND && self.kind == FileKind::Netdata && !self.has_section(name));
            if !hidden && !order.contains(&name) {
                order.push(name);
            }
        }
        for name in order {
            self.render_section(&mut out, name, list);
        }
        out
    }
}

impl Diagnostic {
    /// Logs it as `config: origin: message` at its level.
    pub fn log(&self) {
        log::log!(self.level, "config: {self}");
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// How a value arrives: a file's later lines override with a diagnostic, `set` just wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    File,
    Set,
}

#[derive(Debug, Clone)]
struct Section {
    name: String,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    value: String,
    /// `path:line` or `-W`.
    origin: String,
    /// Written under an old name.
    aliased: bool,
}

impl Config {
    /// Stores one `name = value` read at `at`: maps old names, resolves duplicates (a 1.37
    /// name beats an old one, otherwise the later value wins, and `set` always wins), and
    /// reports unknown keys and invalid values.
    fn apply(
        &mut self,
        section: &str,
        name: &str,
        value: &str,
        at: &str,
        via: Via,
        diags: &mut Vec<Diagnostic>,
    ) {
        let (new_section, new_name, aliased) = match alias::resolve(self.kind, section, name) {
            Some((to_section, to_name)) => {
                let to_section = to_section.unwrap_or(section);
                diags.push(note(
                    at,
                    format!(
                        "'{name}' in section [{section}] is an old name of '{to_name}' \
                         in section [{to_section}]; please use the new name"
                    ),
                ));
                (to_section, to_name, true)
            }
            None => (section, name, false),
        };
        let kind = self.kind;
        let entries = &mut self.section_mut(new_section, at, diags).entries;
        let existing = entries.iter().position(|e| e.name == new_name);
        if let (Some(i), Via::File) = (existing, via) {
            let earlier = &entries[i];
            let message = if aliased && !earlier.aliased {
                diags.push(warn(
                    at,
                    format!(
                        "'{name}' in section [{section}] is ignored: its new name '{new_name}' \
                         in section [{new_section}] is set at {}",
                        earlier.origin
                    ),
                ));
                return;
            } else if earlier.aliased && !aliased {
                format!(
                    "'{new_name}' in section [{new_section}] overrides the value set under an \
                     old name at {}",
                    earlier.origin
                )
            } else {
                format!(
                    "duplicate key '{new_name}' in section [{new_section}]; this value overrides \
                     the one at {}",
                    earlier.origin
                )
            };
            diags.push(warn(at, message));
        }
        if let Some(message) = check(kind, new_section, new_name, value) {
            diags.push(warn(at, message));
        } else if let Some(key) = keys::find(kind, new_section, new_name).filter(|k| k.unused()) {
            if !key.is_default(value) {
                diags.push(warn(
                    at,
                    format!(
                        "'{new_name}' in section [{new_section}] is accepted but not used by {}; \
                         '{value}' has no effect",
                        crate::PROGRAM
                    ),
                ));
            }
        }
        let entry =
            Entry { name: new_name.to_string(), value: value.to_string(), origin: at.to_string(), aliased };
        match existing {
            Some(i) => entries[i] = entry,
            None => entries.push(entry),
        }
    }

    /// The section `name`, created (and reported if not a known one) on first use.
    fn section_mut(&mut self, name: &str, at: &str, diags: &mut Vec<Diagnostic>) -> &mut Section {
        let index = match self.sections.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                let message = match (keys::classify(self.kind, name), self.kind) {
                    (Class::Unused | Class::Unknown, FileKind::Exporting) => {
                        settings::SectionName::parse(name).problem(name).map(|m| warn(at, m))
                    }
                    (Class::Unused, _) => {
                        Some(note(at, format!("section [{name}] is not used by nanodata (ignored)")))
                    }
                    (Class::Unknown, FileKind::Netdata) => {
                        Some(warn(at, format!("unknown section [{name}] (ignored)")))
                    }
                    (Class::Unknown, FileKind::Stream) => Some(warn(
                        at,
                        format!("section [{name}] is not [stream], an API key or a machine GUID (ignored)"),
                    )),
                    _ => None,
                };
                diags.extend(message);
                self.sections.push(Section { name: name.to_string(), entries: Vec::new() });
                self.sections.len() - 1
            }
        };
        &mut self.sections[index]
    }

    fn has_section(&self, name: &str) -> bool {
        self.sections.iter().any(|s| s.name == name)
    }

    /// exporting.conf: a new `[<type>:<name>]` whose instance name another section of
    /// another type already has (Netdata keys instances by name and refuses the second).
    fn instance_name_taken(&self, section: &str) -> Option<String> {
        use settings::SectionName;
        if self.kind != FileKind::Exporting || self.has_section(section) {
            return None;
        }
        let SectionName::Instance { name, .. } = SectionName::parse(section) else {
            return None;
        };
        let earlier = self.sections.iter().map(|s| s.name.as_str()).find(|s| {
            matches!(SectionName::parse(s), SectionName::Instance { name: n, .. } if n == name && !name.is_empty())
        })?;
        Some(format!(
            "section [{section}]: instance name '{name}' is already used by section [{earlier}]; \
             the keys up to the next section are ignored"
        ))
    }

    fn entry(&self, section: &str, name: &str) -> Option<&Entry> {
        let section = self.sections.iter().find(|s| s.name == section)?;
        section.entries.iter().find(|e| e.name == name)
    }

    /// The value of a registered key if valid for its kind, else its default.
    fn effective<'a>(&'a self, key: &'a Key) -> &'a str {
        match self.raw(key.section, key.name) {
            Some(value) if key.kind.accepts(value, key.default) => value,
            _ => key.default,
        }
    }

    fn typed_in<T: fmt::Debug>(
        &self,
        section: &str,
        name: &str,
        default: T,
        parse: fn(&str) -> Result<T, ValueError>,
    ) -> T {
        let Some(entry) = self.entry(section, name) else {
            return default;
        };
        match parse(&entry.value) {
            Ok(value) => value,
            Err(e) => {
                // Registered keys were reported when they were read.
                if keys::find(self.kind, section, name).is_none() {
                    log::warn!(
                        "config: {}: invalid value '{}' for '{name}' in section [{section}] \
                         ({e}); using the default {default:?}",
                        entry.origin,
                        entry.value
                    );
                }
                default
            }
        }
    }

    fn render_section(&self, out: &mut String, name: &str, list: &[Key]) {
        let class = keys::classify(self.kind, name);
        out.push('\n');
        match class {
            Class::Unused => out.push_str("# not used by nanodata\n"),
            Class::Unknown => out.push_str("# unknown section (ignored)\n"),
            _ => {}
        }
        let _ = writeln!(out, "[{name}]");
        let template = match class {
            Class::Peer => keys::PEER,
            Class::Instance => keys::INSTANCE,
            _ => name,
        };
        for key in list.iter().filter(|k| k.section == template) {
            if key.unused() {
                let _ = writeln!(out, "\t# accepted, not used by {}", crate::PROGRAM);
            }
            let _ = match self.raw(name, key.name) {
                Some(value) => writeln!(out, "\t{} = {value}", key.name),
                // An instance inherits what [exporting:global] sets.
                None if class == Class::Instance => {
                    let global = self.raw(keys::EXPORTING_GLOBAL, key.name);
                    let inherited =
                        global.filter(|v| key.kind.accepts(v, key.default)).unwrap_or(key.default);
                    writeln!(out, "\t# {} = {inherited}", key.name)
                }
                None => writeln!(out, "\t# {} = {}", key.name, key.default),
            };
        }
        let closed = matches!(class, Class::Closed | Class::Peer | Class::Instance);
        for (key, value) in self.entries(name) {
            if keys::find(self.kind, name, key).is_some() {
                continue;
            }
            if closed && !keys::tolerated(name, key) {
                out.push_str("\t# unknown key (ignored):\n");
            }
            let _ = writeln!(out, "\t{key} = {value}");
        }
    }
}

/// What is wrong with `value` for the key `name` of `section`, if anything.
fn check(file: FileKind, section: &str, name: &str, value: &str) -> Option<String> {
    let class = keys::classify(file, section);
    match keys::find(file, section, name) {
        Some(key) => key.kind.check(value, key.default).err().map(|why| {
            let fallback = match class {
                Class::Instance => {
                    format!("using [{}]'s value or the default '{}'", keys::EXPORTING_GLOBAL, key.default)
                }
                _ => format!("using the default '{}'", key.default),
            };
            format!("invalid value '{value}' for '{name}' in section [{section}] ({why}); {fallback}")
        }),
        None => match class {
            Class::Closed | Class::Peer | Class::Instance if !keys::tolerated(section, name) => {
                Some(format!("unknown key '{name}' in section [{section}] (ignored)"))
            }
            _ => None,
        },
    }
}

/// Words separated by spaces; a word in double quotes may hold spaces. Not the wire's
/// tokenizer (`protocol::Words`), on purpose: these words are paths in netdata.conf, where
/// `=`, `'` and `\` are ordinary characters, empty words mean nothing and there is no limit
/// of 20 words; the wire's rules would cut `/opt/a=b` in two and read `/a\ /b` as one word.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (word, after) = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"').unwrap_or((quoted, "")),
            None => rest.split_once(char::is_whitespace).unwrap_or((rest, "")),
        };
        if !word.is_empty() {
            words.push(word.to_string());
        }
        rest = after.trim_start();
    }
    words
}

fn warn(origin: &str, message: String) -> Diagnostic {
    Diagnostic { origin: origin.to_string(), message, level: Level::Warn }
}

fn note(origin: &str, message: String) -> Diagnostic {
    Diagnostic { origin: origin.to_string(), message, level: Level::Info }
}

fn too_big(origin: &str) -> Diagnostic {
    let message = format!("file is larger than {MAX_FILE_BYTES} bytes; refused, built-in defaults apply");
    warn(origin, message)
}

#[cfg(test)]
mod tests;

//! Reading the stock and user `health.d` directories, Netdata's rule
//! (`recursive_config_double_dir_load`): every `*.conf` file of the user directory is read;
//! a stock file is read only when the user directory has no file of the same name; a
//! subdirectory is followed (up to [`MAX_DEPTH`] levels) in the user directory, and in the
//! stock directory only when the user directory has no subdirectory of that name (the user
//! walk covers both then). Netdata reads in `readdir` order; nanodata reads a directory's
//! files in sorted name order, then its subdirectories in sorted name order, so the result
//! does not depend on the filesystem.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{parse, AlarmConfig, ConfigError, Dirs, Kind, MAX_DEPTH, MAX_FILE, MAX_FILES};

/// Everything read from the directories.
#[derive(Debug, Default)]
pub struct Loaded {
    pub entries: Vec<AlarmConfig>,
    pub errors: Vec<ConfigError>,
    /// The files read, in the order read.
    pub files: Vec<PathBuf>,
}

/// Reads both directories, logs every error (`log::error!`, file and line) and one summary
/// line, and returns the entries.
pub fn load(dirs: &Dirs) -> Vec<AlarmConfig> {
    let loaded = read(dirs);
    for e in &loaded.errors {
        log::error!("health: {e}");
    }
    let alarms = loaded.entries.iter().filter(|e| e.kind == Kind::Alarm).count();
    log::info!(
        "health: read {} files from '{}' and '{}': {} alarms, {} templates, {} errors",
        loaded.files.len(),
        dirs.user.display(),
        dirs.stock.display(),
        alarms,
        loaded.entries.len() - alarms,
        loaded.errors.len()
    );
    loaded.entries
}

/// Reads both directories without logging (the caller decides what to do with errors).
pub fn read(dirs: &Dirs) -> Loaded {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    walk(&dirs.user, &dirs.stock, 0, &mut files, &mut errors);
    if files.len() > MAX_FILES {
        errors.push(ConfigError {
            path: dirs.user.clone(),
            line: 0,
            message: format!("more than {MAX_FILES} health configuration files; the rest are not read"),
            entry_skipped: false,
        });
        files.truncate(MAX_FILES);
    }
    let mut loaded = Loaded { entries: Vec::new(), errors, files: Vec::new() };
    for path in files {
        let text = match read_bounded(&path) {
            Ok(text) => text,
            Err(message) => {
                loaded.errors.push(ConfigError { path, line: 0, message, entry_skipped: false });
                continue;
            }
        };
        let (entries, errors) = parse(&text, &path);
        loaded.entries.extend(entries);
        loaded.errors.extend(errors);
        loaded.files.push(path);
    }
    loaded
}

/// Collects the files to read from `user` and `stock` (the same relative directory in
/// both trees).
fn walk(user: &Path, stock: &Path, depth: usize, out: &mut Vec<PathBuf>, errors: &mut Vec<ConfigError>) {
    if depth > MAX_DEPTH {
        errors.push(ConfigError {
            path: user.to_path_buf(),
            line: 0,
            message: format!("directories nested deeper than {MAX_DEPTH} levels are not read"),
            entry_skipped: false,
        });
        return;
    }
    let user_listing = list(user, errors);
    let stock_listing = if user == stock { Listing::default() } else { list(stock, errors) };
    // name → path; a user file replaces the stock file of the same name.
    let mut chosen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for name in &stock_listing.files {
        if !user_listing.has_file(name) {
            chosen.insert(name.clone(), stock.join(name));
        }
    }
    for name in &user_listing.files {
        chosen.insert(name.clone(), user.join(name));
    }
    out.extend(chosen.into_values().filter(|p| is_conf(p)));
    if out.len() > MAX_FILES {
        return;
    }
    let mut subdirs: BTreeMap<&String, ()> = BTreeMap::new();
    for d in user_listing.dirs.iter().chain(&stock_listing.dirs) {
        subdirs.insert(d, ());
    }
    for name in subdirs.keys() {
        walk(&user.join(name), &stock.join(name), depth + 1, out, errors);
    }
}

/// A directory's regular files (symlinks followed) and subdirectories, by name.
#[derive(Default)]
struct Listing {
    files: Vec<String>,
    dirs: Vec<String>,
}

impl Listing {
    fn has_file(&self, name: &str) -> bool {
        self.files.iter().any(|f| f == name)
    }
}

fn list(dir: &Path, errors: &mut Vec<ConfigError>) -> Listing {
    let mut listing = Listing::default();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        // A missing directory is normal (no user overrides, or no stock files installed).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return listing,
        Err(e) => {
            errors.push(ConfigError {
                path: dir.to_path_buf(),
                line: 0,
                message: format!("cannot read the directory: {e}"),
                entry_skipped: false,
            });
            return listing;
        }
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else { continue };
        // `metadata` follows symlinks, as Netdata's stat() does.
        match fs::metadata(entry.path()) {
            Ok(m) if m.is_dir() => listing.dirs.push(name),
            Ok(m) if m.is_file() => listing.files.push(name),
            _ => {}
        }
        if listing.files.len() + listing.dirs.len() > MAX_FILES {
            break;
        }
    }
    listing
}

/// Netdata reads names longer than `.conf` that end in `.conf`.
fn is_conf(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.len() > 5 && n.ends_with(".conf"))
}

fn read_bounded(path: &Path) -> Result<String, String> {
    let file = fs::File::open(path).map_err(|e| format!("cannot open the file: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(format!("file larger than {MAX_FILE} bytes; not read"));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

//! External plugins (plugins.d, protocol.md §5): discovery, start, output parsing, restarts.
//!
//! Every `*.plugin` file of the plugin directories (`[directories] plugins`) is a plugin,
//! enabled by `[plugins] <name> = yes|no` (default `[plugins] enable running new plugins`).
//! The directories are scanned at start and every `[plugins] check for new plugins every`
//! seconds. Each plugin runs as `/bin/sh -c "exec <path> <update every> <command options>"`
//! with the environment of §5.2, its stdout parsed by [`crate::protocol::Session`] on a
//! thread of its own, its stdin kept open (for function calls later) and its stderr
//! appended to the error log. `NETDATA_LOCK_DIR` is created at start: Netdata's
//! `python.d.plugin` takes a lock file there for each of its jobs.
//!
//! A plugin that prints something unusable, a line longer than 15360 bytes, or nothing for
//! `[plugin:<name>] kill after silent seconds` (default 10 × update every + 60) is stopped —
//! SIGTERM to its process group, SIGKILL after a grace period, always reaped — and then
//! restarted or disabled by the §5.6 rules ([`lifecycle`]). Nothing a plugin does reaches
//! another plugin, another host, or the daemon's other threads.

pub mod lifecycle;
#[cfg(test)]
mod pythond_lines;
mod runner;

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::config::settings::PluginSettings;
use crate::rrd::Host;

pub use runner::Spec;

/// The plugin runner. [`Plugins::stop`] (or drop) terminates and reaps every plugin.
pub struct Plugins {
    stop: Option<Sender<()>>,
    manager: Option<JoinHandle<()>>,
}

/// Starts the plugin runner for `host` (the local host): scans now, then periodically.
/// `host_prefix` is the `/proc` prefix given to plugins as `NETDATA_HOST_PREFIX` (`/` means
/// none).
pub fn start(settings: PluginSettings, host: Arc<Host>, host_prefix: &Path) -> Plugins {
    prepare_lock_dir(&settings);
    let (stop, stop_rx) = crossbeam_channel::bounded::<()>(0);
    let every = settings.check_every;
    let manager = Manager {
        env: Arc::new(environment(&settings, &host, host_prefix)),
        dirs: settings.dirs.iter().map(PathBuf::from).collect(),
        settings,
        host,
        running: HashMap::new(),
        skipped: HashSet::new(),
    };
    let handle = crate::sys::thread::spawn("plugins.d", crate::sys::thread::MEDIUM, move || {
        manager.run(Duration::from_secs(every), &stop_rx)
    });
    match handle {
        Ok(h) => Plugins { stop: Some(stop), manager: Some(h) },
        Err(e) => {
            log::error!("plugins.d: cannot start its thread: {e}; no external plugins");
            Plugins { stop: None, manager: None }
        }
    }
}

impl Plugins {
    /// Stops every plugin (SIGTERM, SIGKILL after half a second) and waits for their threads.
    pub fn stop(&mut self) {
        self.stop.take();
        if let Some(h) = self.manager.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Plugins {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Manager {
    settings: PluginSettings,
    env: Arc<Vec<(String, String)>>,
    dirs: Vec<PathBuf>,
    host: Arc<Host>,
    /// Every plugin started since the daemon started, running or not (a disabled plugin is
    /// not started again by a rescan).
    running: HashMap<String, JoinHandle<()>>,
    /// Plugins found but not started (disabled by configuration, not executable): logged once.
    skipped: HashSet<String>,
}

impl Manager {
    fn run(mut self, every: Duration, stop: &Receiver<()>) {
        loop {
            self.scan(stop);
            match stop.recv_timeout(every) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => break,
            }
        }
        for (_, h) in self.running.drain() {
            let _ = h.join();
        }
    }

    fn scan(&mut self, stop: &Receiver<()>) {
        for (name, path) in discover(&self.dirs) {
            if self.running.contains_key(&name) {
                continue;
            }
            if !self.settings.enabled(&name) {
                if self.skipped.insert(name.clone()) {
                    log::info!("plugins.d: '{name}.plugin' is disabled by [plugins] {name} = no");
                }
                continue;
            }
            if !is_executable(&path) {
                if self.skipped.insert(name.clone()) {
                    log::error!("plugins.d: {} is not executable; not started", path.display());
                }
                continue;
            }
            self.skipped.remove(&name);
            let spec = self.spec(&name, path);
            let host = Arc::clone(&self.host);
            let stop = stop.clone();
            let thread_name = format!("PLUGINSD[{name}]");
            let stack = crate::sys::thread::MEDIUM;
            let handle = crate::sys::thread::spawn(thread_name, stack, move || runner::run(spec, host, stop));
            match handle {
                Ok(h) => {
                    self.running.insert(name, h);
                }
                Err(e) => log::error!("plugins.d: '{name}': cannot start its thread: {e}"),
            }
        }
    }

    fn spec(&self, name: &str, path: PathBuf) -> Spec {
        let section = format!("plugin:{name}");
        let host_every = u64::from(self.host.settings().update_every.max(1));
        let cfg = self.settings.sections();
        let update_every = cfg.seconds_in(&section, "update every", host_every).clamp(1, 86_400) as u32;
        let silence = cfg
            .seconds_in(&section, "kill after silent seconds", 10 * u64::from(update_every) + 60)
            .clamp(1, 7 * 86_400);
        let stderr = self.settings.stderr.clone();
        Spec {
            name: name.to_owned(),
            path,
            update_every,
            command_options: cfg.text_in(&section, "command options", ""),
            silence: Duration::from_secs(silence),
            env: Arc::clone(&self.env),
            stderr,
        }
    }
}

/// The `*.plugin` files of `dirs`: (name, path), the first directory winning a name.
pub fn discover(dirs: &[PathBuf]) -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut here: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let file = e.file_name().into_string().ok()?;
                let name = file.strip_suffix(".plugin")?;
                let path = e.path();
                (!name.is_empty() && path.metadata().is_ok_and(|m| m.is_file()))
                    .then(|| (name.to_owned(), path))
            })
            .collect();
        here.sort();
        for (name, path) in here {
            if !found.iter().any(|(n, _)| *n == name) {
                found.push((name, path));
            }
        }
    }
    found
}

/// Creates `NETDATA_LOCK_DIR` when plugins may run: Netdata's `python.d.plugin` takes a lock
/// file there for every job (`<job>.collector.lock`) and drops any job whose lock it cannot
/// create, so without the directory it collects nothing.
fn prepare_lock_dir(settings: &PluginSettings) {
    let dir = Path::new(&settings.env.lock_dir);
    if settings.dirs.is_empty() || settings.env.lock_dir.is_empty() || dir.is_dir() {
        return;
    }
    match crate::daemon::ensure_dir(dir) {
        Ok(()) => log::info!("plugins.d: created the lock directory {}", dir.display()),
        Err(e) => log::error!(
            "plugins.d: cannot create the lock directory {} ([directories] lock): {e}; \
             plugins that lock their jobs there (python.d.plugin) will skip them",
            dir.display()
        ),
    }
}

fn is_executable(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

/// The environment of protocol.md §5.2 that nanodata can fill. `NETDATA_UPDATE_EVERY` is set
/// per plugin. `NETDATA_VERSION` is nanodata's own version with a `v` prefix (`v0.1.0`), so a
/// plugin can tell the agents apart; the `NETDATA_SYSTEM_*` family of Netdata's
/// `system-info.sh` is not set.
pub fn environment(settings: &PluginSettings, host: &Host, host_prefix: &Path) -> Vec<(String, String)> {
    let dirs = &settings.dirs;
    let e = &settings.env;
    let prefix = match host_prefix.to_string_lossy() {
        p if p == "/" => String::new(),
        p => p.trim_end_matches('/').to_owned(),
    };
    let registry_hostname = match &e.registry_hostname {
        h if h.is_empty() => host.hostname().to_owned(),
        h => h.clone(),
    };
    let path = match &e.path {
        Some(p) => p.clone(),
        None => {
            let base = std::env::var("PATH").unwrap_or_else(|_| "/bin:/usr/bin".into());
            format!("{base}:/sbin:/usr/sbin:/usr/local/bin:/usr/local/sbin")
        }
    };
    let mut env: Vec<(String, String)> = vec![
        ("NETDATA_VERSION".into(), format!("v{}", crate::VERSION)),
        ("NETDATA_HOSTNAME".into(), host.hostname().to_owned()),
        ("NETDATA_CONFIG_DIR".into(), e.config_dir.clone()),
        ("NETDATA_USER_CONFIG_DIR".into(), e.config_dir.clone()),
        ("NETDATA_STOCK_CONFIG_DIR".into(), e.stock_config_dir.clone()),
        ("NETDATA_PLUGINS_DIR".into(), dirs.first().cloned().unwrap_or_default()),
        ("NETDATA_USER_PLUGINS_DIRS".into(), dirs.iter().skip(1).cloned().collect::<Vec<_>>().join(" ")),
        ("NETDATA_WEB_DIR".into(), e.web_dir.clone()),
        ("NETDATA_CACHE_DIR".into(), e.cache_dir.clone()),
        ("NETDATA_LIB_DIR".into(), e.lib_dir.clone()),
        ("NETDATA_LOCK_DIR".into(), e.lock_dir.clone()),
        ("NETDATA_LOG_DIR".into(), e.log_dir.clone()),
        ("HOME".into(), e.home_dir.clone()),
        ("NETDATA_HOST_PREFIX".into(), prefix),
        ("NETDATA_LISTEN_PORT".into(), e.listen_port.to_string()),
        ("NETDATA_REGISTRY_HOSTNAME".into(), registry_hostname),
        ("NETDATA_REGISTRY_URL".into(), e.registry_url.clone()),
        ("NETDATA_REGISTRY_UNIQUE_ID".into(), host.guid().to_owned()),
        ("NETDATA_ERRORS_THROTTLE_PERIOD".into(), e.errors_throttle_period.to_string()),
        ("NETDATA_ERRORS_PER_PERIOD".into(), e.errors_per_period.to_string()),
        ("NETDATA_INTERNALS_MONITORING".into(), if e.internals_monitoring { "YES" } else { "NO" }.into()),
        ("NETDATA_DEBUG_FLAGS".into(), e.debug_flags.clone()),
        ("PATH".into(), path),
        ("PYTHONUNBUFFERED".into(), "1".into()),
        ("LC_ALL".into(), "C".into()),
        ("MALLOC_ARENA_MAX".into(), e.malloc_arena_max.to_string()),
    ];
    if let Some(p) = &e.pythonpath {
        env.push(("PYTHONPATH".into(), p.clone()));
    }
    if std::env::var_os("TZ").is_none() {
        env.push(("TZ".into(), e.tz.clone()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::settings::NodeSettings;
    use crate::config::{Config, FileKind};
    use crate::rrd::HostSettings;

    fn plugin_settings(netdata: Config) -> PluginSettings {
        let stream = Config::new(FileKind::Stream);
        NodeSettings::from_config(&netdata, &stream).plugins
    }

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nanodata-plugins-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn discovery_finds_plugin_files_and_the_first_directory_wins() {
        let a = temp("disc-a");
        let b = temp("disc-b");
        for (dir, file) in
            [(&a, "x.plugin"), (&a, "notes.txt"), (&b, "x.plugin"), (&b, "y.plugin"), (&b, ".plugin")]
        {
            std::fs::write(dir.join(file), "").unwrap();
        }
        std::fs::create_dir(a.join("dir.plugin")).unwrap();
        let found = discover(&[a.clone(), PathBuf::from("/nonexistent"), b.clone()]);
        assert_eq!(found, [("x".to_string(), a.join("x.plugin")), ("y".to_string(), b.join("y.plugin"))]);
        std::fs::remove_dir_all(a).unwrap();
        std::fs::remove_dir_all(b).unwrap();
    }

    #[test]
    fn environment_carries_the_netdata_variables() {
        let (cfg, _) = Config::parse(
            FileKind::Netdata,
            "[directories]\n plugins = \"/p/one\" \"/p/two\" \"/p/three\"\n config = /etc/x\n\
             [environment variables]\n PATH = /only\n",
            "test",
        );
        let settings = HostSettings { history: 10, ..HostSettings::default() };
        let host = Host::new("guid-1", "router", settings);
        let cfg = plugin_settings(cfg);
        let env = environment(&cfg, &host, Path::new("/host"));
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("NETDATA_PLUGINS_DIR"), Some("/p/one"));
        assert_eq!(get("NETDATA_USER_PLUGINS_DIRS"), Some("/p/two /p/three"));
        assert_eq!(get("NETDATA_USER_CONFIG_DIR"), Some("/etc/x"));
        assert_eq!(get("NETDATA_HOSTNAME"), Some("router"));
        assert_eq!(get("NETDATA_REGISTRY_UNIQUE_ID"), Some("guid-1"));
        assert_eq!(get("NETDATA_HOST_PREFIX"), Some("/host"));
        assert_eq!(get("NETDATA_LISTEN_PORT"), Some("19999"));
        assert_eq!(get("PATH"), Some("/only"));
        assert_eq!(get("LC_ALL"), Some("C"));
        assert_eq!(get("MALLOC_ARENA_MAX"), Some("1"));
        let (arenas, _) =
            Config::parse(FileKind::Netdata, "[global]\nglibc malloc arena max for plugins = 4\n", "t");
        let env4 = environment(&plugin_settings(arenas), &host, Path::new("/"));
        assert!(env4.contains(&("MALLOC_ARENA_MAX".to_string(), "4".to_string())));
        assert!(get("NETDATA_VERSION").is_some_and(|v| v.starts_with('v')));
        let env = environment(&cfg, &host, Path::new("/"));
        assert_eq!(env.iter().find(|(n, _)| n == "NETDATA_HOST_PREFIX").map(|(_, v)| v.as_str()), Some(""));
    }

    /// Netdata 1.37: `[directories] lock` defaults to `<lib>/lock`; `NETDATA_DEBUG_FLAGS` is
    /// `[logs] debug flags` (old name `[global] debug flags`), default `0x0000000000000000`.
    #[test]
    fn lock_dir_follows_lib_and_debug_flags_are_passed() {
        let host = Host::new("g", "h", HostSettings { history: 10, ..HostSettings::default() });
        let var = |text: &str, key: &str| {
            let (cfg, _) = Config::parse(FileKind::Netdata, text, "test");
            let env = environment(&plugin_settings(cfg), &host, Path::new("/"));
            env.into_iter().find(|(n, _)| n == key).map(|(_, v)| v)
        };
        let lib = "[directories]\n lib = /srv/nd/lib/\n";
        assert_eq!(var(lib, "NETDATA_LOCK_DIR").as_deref(), Some("/srv/nd/lib/lock"));
        assert_eq!(var(lib, "NETDATA_LIB_DIR").as_deref(), Some("/srv/nd/lib/"));
        let own = "[directories]\n lib = /srv/nd/lib\n lock = /run/nd-lock\n";
        assert_eq!(var(own, "NETDATA_LOCK_DIR").as_deref(), Some("/run/nd-lock"));
        assert_eq!(var("", "NETDATA_LOCK_DIR").as_deref(), Some("/var/lib/nanodata/lock"));
        assert_eq!(var("", "NETDATA_DEBUG_FLAGS").as_deref(), Some("0x0000000000000000"));
        assert_eq!(var("[global]\n debug flags = 0x10\n", "NETDATA_DEBUG_FLAGS").as_deref(), Some("0x10"));
        assert_eq!(var("[logs]\n debug flags = 0xff\n", "NETDATA_DEBUG_FLAGS").as_deref(), Some("0xff"));
    }

    /// python.d.plugin drops every job whose lock file it cannot create in NETDATA_LOCK_DIR.
    #[test]
    fn the_lock_directory_is_created_when_plugins_may_run() {
        let base = temp("lockdir");
        let conf = |lock: &Path| {
            let (cfg, _) = Config::parse(
                FileKind::Netdata,
                &format!("[directories]\n plugins = {}\n lock = {}\n", base.display(), lock.display()),
                "test",
            );
            plugin_settings(cfg)
        };
        let lock = base.join("lib/lock");
        prepare_lock_dir(&conf(&lock));
        assert!(lock.is_dir());
        prepare_lock_dir(&conf(&lock)); // already there: nothing to do
        assert!(lock.is_dir());
        // Cannot be created (a file is in the way): logged, not fatal.
        std::fs::write(base.join("file"), "").unwrap();
        prepare_lock_dir(&conf(&base.join("file/lock")));
        assert!(!base.join("file/lock").exists());
        std::fs::remove_dir_all(base).unwrap();
    }
}

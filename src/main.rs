//! The `nanodata` binary: reads the command line and the configuration, starts every role
//! on its own thread and waits for signals. Nothing else lives here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use nanodata::cli::{self, Command, Options};
use nanodata::collectors::{self, Collectors};
use nanodata::config::settings::{DbSettings, GlobalSettings, NodeSettings};
use nanodata::config::{keys, Config, FileKind};
use nanodata::daemon::sysinfo::SystemInfo;
use nanodata::daemon::{self, signals, Signal};
use nanodata::db::TierPlans;
use nanodata::rrd::{label_source, Host, HostSettings, Hosts, Label};
use nanodata::{logging, stream, PROGRAM, VERSION};

/// Where the configuration lives when `-c` is not given.
const DEFAULT_CONFIG_FILE: &str = "/etc/nanodata/nanodata.conf";

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROGRAM}: {e}");
            return ExitCode::from(1);
        }
    };
    match command {
        Command::Help => print!("{}", cli::help()),
        Command::Version => println!("{PROGRAM} v{VERSION}"),
        Command::BuildInfo => print!("{}", nanodata::build_info()),
        Command::DumpConfig(o) => match load_config(&o) {
            Ok(c) => print!("{}", c.netdata.render()),
            Err(code) => return code,
        },
        Command::DumpStreamConfig(o) => match load_config(&o) {
            Ok(c) => print!("{}", c.stream.render()),
            Err(code) => return code,
        },
        Command::DumpExportingConfig(o) => match load_config(&o) {
            Ok(c) => print!("{}", c.exporting.render()),
            Err(code) => return code,
        },
        Command::Get { options, file, section, name, default } => match load_config(&options) {
            Ok(c) => {
                let file = match file {
                    FileKind::Netdata => &c.netdata,
                    FileKind::Stream => &c.stream,
                    FileKind::Exporting => &c.exporting,
                };
                println!("{}", file.raw(&section, &name).unwrap_or(&default));
            }
            Err(code) => return code,
        },
        Command::Run(o) => return run(o),
    }
    ExitCode::SUCCESS
}

/// The configuration files, with command-line overrides applied.
struct Configs {
    netdata: Config,
    stream: Config,
    exporting: Config,
}

fn load_config(o: &Options) -> Result<Configs, ExitCode> {
    logging::init_stderr(log::LevelFilter::Info);
    let (path, explicit) = match &o.config_file {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    let mut netdata = match Config::load(FileKind::Netdata, &path) {
        Ok((c, _)) => {
            log::info!("config: loaded {}", path.display());
            c
        }
        Err(e) if explicit => {
            log::error!("config: cannot read {}: {e}", path.display());
            return Err(ExitCode::from(1));
        }
        Err(_) => {
            log::info!("config: {} not found; using the built-in defaults", path.display());
            Config::new(FileKind::Netdata)
        }
    };
    for ov in &o.set {
        netdata.set(&ov.section, &ov.name, &ov.value);
    }
    if let Some(port) = o.port {
        netdata.set(keys::WEB_DEFAULT_PORT.section, keys::WEB_DEFAULT_PORT.name, &port.to_string());
    }
    if let Some(user) = &o.user {
        netdata.set(keys::GLOBAL_RUN_AS_USER.section, keys::GLOBAL_RUN_AS_USER.name, user);
    }

    // stream.conf and exporting.conf sit in the configuration directory, like Netdata's.
    let dir = PathBuf::from(netdata.text(&keys::DIR_CONFIG));
    let stream = load_optional(FileKind::Stream, &dir.join("stream.conf"), &o.set_stream);
    let exporting = load_optional(FileKind::Exporting, &dir.join("exporting.conf"), &o.set_exporting);
    Ok(Configs { netdata, stream, exporting })
}

/// A file of the configuration directory: built-in defaults when it cannot be read, then
/// the command line's `set`s.
fn load_optional(kind: FileKind, path: &Path, set: &[cli::Override]) -> Config {
    let mut config = match Config::load(kind, path) {
        Ok((c, _)) => {
            log::info!("config: loaded {}", path.display());
            c
        }
        Err(_) => Config::new(kind),
    };
    for ov in set {
        config.set(&ov.section, &ov.name, &ov.value);
    }
    config
}

fn run(o: Options) -> ExitCode {
    let configs = match load_config(&o) {
        Ok(c) => c,
        Err(code) => return code,
    };

    // Fork before any thread exists; stderr is still the terminal for the last words.
    if !o.foreground {
        if let Err(e) = daemon::daemonize() {
            log::error!("cannot go to the background: {e}");
            return ExitCode::from(1);
        }
    }

    // Everything the roles need, read once; the configurations themselves are not kept.
    let settings = NodeSettings::from_configs(&configs.netdata, &configs.stream, &configs.exporting);
    drop(configs);
    let NodeSettings {
        global,
        logs,
        dirs,
        db,
        web,
        sender,
        parent,
        collectors: collector_settings,
        plugins,
        health: health_settings,
        exporting: exporting_settings,
        ..
    } = settings;
    #[cfg(not(feature = "health"))]
    drop(health_settings);
    #[cfg(not(feature = "web"))]
    drop((web, parent));

    let (log_dir, cache_dir, lib_dir) = (&dirs.log, &dirs.cache, &dirs.lib);
    for dir in [cache_dir, lib_dir] {
        if let Err(e) = daemon::ensure_dir(dir) {
            log::error!("cannot create directory {}: {e}", dir.display());
            return ExitCode::from(1);
        }
    }
    // Only log files need it; without it (not root, say) they fall back to stderr.
    if let Err(e) = daemon::ensure_dir(log_dir) {
        log::debug!("cannot create directory {}: {e}", log_dir.display());
    }
    if let Err(e) = logging::configure(&logs) {
        log::error!("logs: {e}; logging to stderr instead");
    }
    log::info!("{PROGRAM} v{VERSION} starting (pid {})", std::process::id());

    let _pid_file = match &o.pid_file {
        Some(p) => match daemon::PidFile::create(p) {
            Ok(f) => Some(f),
            Err(e) => {
                log::error!("cannot write the pid file {}: {e}", p.display());
                return ExitCode::from(1);
            }
        },
        None => None,
    };

    // Privileged steps first: the ports (which may be below 1024) and the TLS key, then the
    // switch to `[global] run as user`. Nothing from outside has been read yet: no
    // connection is served, no plugin or collector runs before the switch.
    #[cfg(feature = "web")]
    let web_bound = nanodata::web::bind(&web);
    let log_files: Vec<PathBuf> = [&logs.error, &logs.access, &logs.health]
        .into_iter()
        .filter_map(|t| match t {
            logging::Target::File(p) => Some(p.clone()),
            _ => None,
        })
        .chain(o.pid_file.clone())
        .collect();
    let owned = [(cache_dir.as_path(), true), (lib_dir.as_path(), true), (log_dir.as_path(), false)];
    if daemon::user::run_as_configured(&global.run_as_user, &owned, &log_files).is_err() {
        return ExitCode::from(1);
    }

    let guid_file = &global.machine_guid_file;
    let guid = match daemon::guid::load_or_create(guid_file) {
        Ok((guid, created)) => {
            if created {
                log::info!("machine GUID {guid} created in {}", guid_file.display());
            }
            guid.hyphenated().to_string()
        }
        Err(e) => {
            log::error!("cannot read or write the machine GUID file {}: {e}", guid_file.display());
            return ExitCode::from(1);
        }
    };

    // One malloc arena for all threads: glibc would give each thread its own, and a small
    // daemon with twenty threads would pay for twenty (Netdata does the same).
    nanodata::sys::mem::set_malloc_arenas(global.malloc_arena);

    // Every thread started from here on inherits the blocked signal mask; only main takes them.
    signals::block_all();

    let hostname = match &global.hostname {
        s if s.is_empty() => daemon::hostname(),
        s => s.clone(),
    };
    let prefix = match (&o.host_prefix, &global.host_access_prefix) {
        (Some(p), _) => p.clone(),
        (None, p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from("/"),
    };
    let info = SystemInfo::detect(&prefix);
    #[cfg(feature = "web")]
    let plans = tier_plans(&db, Some(&parent), cache_dir);
    #[cfg(not(feature = "web"))]
    let plans = tier_plans(&db, None, cache_dir);
    #[cfg(feature = "web")]
    let parent = nanodata::config::settings::ParentSettings { tier_plans: plans.clone(), ..parent };
    let hosts = Arc::new(Hosts::new(Host::new(&guid, &hostname, host_settings(&db, cache_dir, &plans))));
    let localhost = Arc::clone(hosts.localhost());
    match &localhost.settings().tiers {
        Some(plan) => log::info!(
            "host '{hostname}' ({guid}): memory mode {}, {}",
            localhost.settings().mode.as_str(),
            plan.describe(localhost.settings().update_every)
        ),
        None => log::info!(
            "host '{hostname}' ({guid}): memory mode {}, {} slots of {} s per dimension",
            localhost.settings().mode.as_str(),
            localhost.settings().history,
            localhost.settings().update_every
        ),
    }

    let mut housekeeping = match nanodata::rrd::cleanup::start(
        Arc::clone(&hosts),
        nanodata::rrd::CleanupPolicy::from_settings(&db.cleanup),
    ) {
        Ok(h) => Some(h),
        Err(e) => {
            log::error!("cannot start the housekeeping thread: {e}; obsolete charts stay in memory");
            None
        }
    };

    let mut collectors = Collectors::new();
    localhost.set_labels(host_labels(&global, &info));
    collectors::start_internal(&collector_settings, &localhost, &prefix, &mut collectors);
    if let Some(c) = collectors::db_tiers::DbTiers::new(Arc::clone(&localhost), &plans, db.update_every) {
        if let Err(e) = collectors.spawn(Box::new(c), db.update_every) {
            log::error!("cannot start the storage tiers collector: {e}");
        }
    }
    drop(collector_settings);
    // Built before the web server, which shows its alarms; its thread starts below.
    #[cfg(feature = "health")]
    let health = new_health(&health_settings, &hosts)
        .map(|h| Arc::new(h.with_environment(nanodata::plugins::environment(&plugins, &localhost, &prefix))));
    #[cfg(all(feature = "web", feature = "health"))]
    let web_health = health.clone();
    #[cfg(all(feature = "web", not(feature = "health")))]
    let web_health = None;
    #[cfg(feature = "web")]
    let web = web_bound
        .and_then(|b| nanodata::web::start_bound(b, web, Some(parent), Arc::clone(&hosts), web_health));
    log::info!("{} collector thread(s) running", collectors.len());
    #[cfg(feature = "exporting")]
    let mut exporting = nanodata::exporting::start(
        &exporting_settings,
        &nanodata::exporting::Context {
            hosts: Arc::clone(&hosts),
            hostname: hostname.clone(),
            spool_dir: Some(nanodata::exporting::engine::spool_dir(cache_dir)),
        },
    );
    #[cfg(not(feature = "exporting"))]
    for i in exporting_settings.enabled_instances() {
        log::warn!("exporting: instance '{}' is enabled, but this build has no exporting (cargo feature `exporting`)", i.name);
    }
    drop(exporting_settings);
    let mut plugins = nanodata::plugins::start(plugins, Arc::clone(&localhost), &prefix);
    #[cfg(feature = "health")]
    let mut health_thread = health.as_ref().and_then(|h| match h.start(Arc::clone(&hosts)) {
        Ok(running) => Some(running),
        Err(e) => {
            log::error!("health: cannot start the health thread: {e}; no alarms");
            None
        }
    });
    let mut sender = stream::start(&sender, &localhost, &info, localhost.settings().update_every);
    if let Some(s) = &sender {
        let stats = s.stats_reader();
        *collectors.stream_slot().lock() = Some(Box::new(move || {
            let s = stats();
            collectors::self_stats::StreamUse {
                buffer_used: s.buffer_used as u64,
                buffer_size: s.buffer_size as u64,
                bytes_sent: s.bytes_sent,
                commits_dropped: s.commits_dropped,
            }
        }));
    }

    loop {
        match signals::wait(None) {
            Some(Signal::Reload) => {
                logging::reopen();
            }
            Some(Signal::ReloadHealth) =>
            {
                #[cfg(feature = "health")]
                match &health {
                    Some(h) => h.reload(nanodata::health::load_config(&health_dirs(&health_settings))),
                    None => log::info!("SIGUSR2: health is off, nothing to reload"),
                }
            }
            Some(Signal::Terminate) => {
                log::info!("signal received: stopping");
                break;
            }
            _ => {}
        }
    }

    plugins.stop();
    #[cfg(feature = "web")]
    if let Some(web) = web {
        web.stop();
    }
    collectors.stop();
    #[cfg(feature = "health")]
    if let Some(running) = health_thread.as_mut() {
        running.stop();
    }
    if let Some(h) = housekeeping.as_mut() {
        h.stop();
    }
    if let Some(s) = sender.as_mut() {
        s.stop();
    }
    #[cfg(feature = "exporting")]
    exporting.stop();
    if let Err(e) = hosts.save() {
        log::error!("database: saving failed: {e}");
    }
    log::info!("{PROGRAM} stopped");
    logging::flush();
    ExitCode::SUCCESS
}

/// The health engine when `[health] enabled` and this node has a database, with the
/// entries of the stock and user `health.d` directories (what the web API reads).
#[cfg(feature = "health")]
fn new_health(
    settings: &nanodata::config::settings::HealthSettings,
    hosts: &Hosts,
) -> Option<nanodata::health::Health> {
    use nanodata::health::Health;
    if !settings.enabled {
        log::info!("health: disabled ([health] enabled = no)");
        return None;
    }
    if hosts.localhost().settings().mode == nanodata::db::MemoryMode::None {
        log::info!("health: off on a node without a database ([db] mode = none)");
        return None;
    }
    Some(Health::new(settings, nanodata::health::load_config(&health_dirs(settings))))
}

/// The stock and user `health.d` directories. Without the stock directory the user
/// directory stands in for it: a user file replaces the stock file of the same name, so
/// each file is read once.
#[cfg(feature = "health")]
fn health_dirs(settings: &nanodata::config::settings::HealthSettings) -> nanodata::health::config::Dirs {
    nanodata::health::config::Dirs {
        stock: settings.stock_dir.clone().unwrap_or_else(|| settings.user_dir.clone()),
        user: settings.user_dir.clone(),
    }
}

/// The node's tier plans: the fixed one when `storage tiers` is written for `ram`, `save` or
/// `map`, and the dbengine one when any host may be stored as `dbengine` (`[db] mode`, or a
/// memory mode of stream.conf), sized for the dimension files found in the cache directory
/// (one log line says how the budget became retention).
fn tier_plans(
    db: &DbSettings,
    parent: Option<&nanodata::config::settings::ParentSettings>,
    cache_dir: &Path,
) -> TierPlans {
    use nanodata::db::{count_dimension_files, MemoryMode, TierPlan};
    let dbengine = |m: Option<Option<MemoryMode>>| m == Some(Some(MemoryMode::Dbengine));
    let wanted = db.mode == MemoryMode::Dbengine
        || parent.is_some_and(|p| {
            p.defaults.memory_mode == MemoryMode::Dbengine
                || p.conf.sections().any(|s| dbengine(s.memory_mode) || dbengine(s.default_memory_mode))
        });
    let fixed = db.fixed_tiers.clone().map(|o| Arc::new(TierPlan::new(o, 0)));
    let dbengine = wanted.then(|| {
        let on_disk = count_dimension_files(cache_dir);
        let plan = TierPlan::new(db.dbengine.clone(), on_disk);
        log::info!(
            "db: dbengine: {on_disk} dimension files in {}; {}",
            cache_dir.display(),
            plan.describe(db.update_every)
        );
        // One mapping per dimension: say so now rather than with an error per dimension later.
        let max_maps = std::fs::read_to_string("/proc/sys/vm/max_map_count").ok().and_then(|t| t.trim().parse().ok());
        if let Some(max) = max_maps.filter(|&m: &usize| plan.expected() + 2000 > m) {
            log::warn!(
                "db: dbengine: sized for {} dimensions, one memory mapping each, but vm.max_map_count is {max}: \
                 dimensions past it will be kept in ram; raise it (sysctl vm.max_map_count={})",
                plan.expected(),
                (plan.expected() * 2).max(262_144)
            );
        }
        Arc::new(plan)
    });
    TierPlans { fixed, dbengine }
}

fn host_settings(db: &DbSettings, cache_dir: &Path, plans: &TierPlans) -> HostSettings {
    HostSettings {
        tiers: plans.for_mode(db.mode),
        mode: db.mode,
        history: db.history,
        update_every: db.update_every,
        cache_dir: cache_dir.to_path_buf(),
        gap_when_lost_iterations_above: db.gap_when_lost_iterations_above,
        replication_window: db.replication_window,
    }
}

/// The host's labels: Netdata's automatic `_…` labels from the system information, then
/// `[host labels]` of the configuration.
fn host_labels(global: &GlobalSettings, info: &SystemInfo) -> Vec<Label> {
    let auto = label_source::AUTO;
    let mut labels = Vec::new();
    let mut add = |name: &str, value: &str, source: u32| {
        labels.push(Label { name: name.to_owned(), value: value.to_owned(), source });
    };
    for (name, var) in [
        ("_os_name", "NETDATA_SYSTEM_OS_NAME"),
        ("_os_version", "NETDATA_SYSTEM_OS_VERSION"),
        ("_kernel_version", "NETDATA_SYSTEM_KERNEL_VERSION"),
        ("_system_cores", "NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT"),
        ("_system_ram_total", "NETDATA_SYSTEM_TOTAL_RAM"),
        ("_architecture", "NETDATA_SYSTEM_ARCHITECTURE"),
    ] {
        add(name, info.get(var).unwrap_or("unknown"), auto);
    }
    add("_is_parent", "false", auto);
    // Netdata 1.37 marks these two as configured labels, so its exports carry them by default.
    let yes_no = |b: bool| if b { "true" } else { "false" };
    add("_is_ephemeral", yes_no(global.is_ephemeral), label_source::CONFIG);
    add("_has_unstable_connection", yes_no(global.has_unstable_connection), label_source::CONFIG);
    for (name, value) in &global.host_labels {
        add(name, value, label_source::CONFIG);
    }
    labels
}

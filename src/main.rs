//! The `nanodata` binary: reads the command line and the configuration, starts every role
//! on its own thread and waits for signals. Nothing else lives here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use nanodata::cli::{self, Command, Options};
use nanodata::collectors::{self, Collectors};
use nanodata::config::{keys, Config, FileKind};
use nanodata::daemon::sysinfo::SystemInfo;
use nanodata::daemon::{self, signals, Signal};
use nanodata::db::MemoryMode;
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
        Command::Get { options, stream, section, name, default } => match load_config(&options) {
            Ok(c) => {
                let file = if stream { &c.stream } else { &c.netdata };
                println!("{}", file.raw(&section, &name).unwrap_or(&default));
            }
            Err(code) => return code,
        },
        Command::Run(o) => return run(o),
    }
    ExitCode::SUCCESS
}

/// Both configuration files, with command-line overrides applied.
struct Configs {
    netdata: Config,
    stream: Config,
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

    // stream.conf sits in the configuration directory, like Netdata's.
    let stream_path = PathBuf::from(netdata.text(&keys::DIR_CONFIG)).join("stream.conf");
    let mut stream = match Config::load(FileKind::Stream, &stream_path) {
        Ok((c, _)) => {
            log::info!("config: loaded {}", stream_path.display());
            c
        }
        Err(_) => Config::new(FileKind::Stream),
    };
    for ov in &o.set_stream {
        stream.set(&ov.section, &ov.name, &ov.value);
    }
    Ok(Configs { netdata, stream })
}

fn run(o: Options) -> ExitCode {
    let configs = match load_config(&o) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let cfg = &configs.netdata;

    // Fork before any thread exists; stderr is still the terminal for the last words.
    if !o.foreground {
        if let Err(e) = daemon::daemonize() {
            log::error!("cannot go to the background: {e}");
            return ExitCode::from(1);
        }
    }

    let log_dir = PathBuf::from(cfg.text(&keys::DIR_LOG));
    let cache_dir = PathBuf::from(cfg.text(&keys::DIR_CACHE));
    let lib_dir = PathBuf::from(cfg.text(&keys::DIR_LIB));
    for dir in [&cache_dir, &lib_dir] {
        if let Err(e) = daemon::ensure_dir(dir) {
            log::error!("cannot create directory {}: {e}", dir.display());
            return ExitCode::from(1);
        }
    }
    // Only log files need it; without it (not root, say) they fall back to stderr.
    if let Err(e) = daemon::ensure_dir(&log_dir) {
        log::debug!("cannot create directory {}: {e}", log_dir.display());
    }
    let settings = logging::Settings {
        error: logging::Target::parse(&cfg.text(&keys::LOGS_ERROR), &log_dir),
        access: logging::Target::parse(&cfg.text(&keys::LOGS_ACCESS), &log_dir),
        health: logging::Target::parse(&cfg.text(&keys::LOGS_HEALTH), &log_dir),
        level: level(&cfg.text(&keys::LOGS_SEVERITY)),
        flood_period_secs: cfg.seconds(&keys::LOGS_FLOOD_PERIOD),
        flood_max_lines: cfg.integer(&keys::LOGS_FLOOD_ERRORS).max(0) as u64,
        syslog_facility: cfg.text(&keys::LOGS_FACILITY),
    };
    if let Err(e) = logging::configure(&settings) {
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
    let web_bound = nanodata::web::bind(cfg);
    let log_files: Vec<PathBuf> = [&settings.error, &settings.access, &settings.health]
        .into_iter()
        .filter_map(|t| match t {
            logging::Target::File(p) => Some(p.clone()),
            _ => None,
        })
        .chain(o.pid_file.clone())
        .collect();
    let dirs = [(cache_dir.as_path(), true), (lib_dir.as_path(), true), (log_dir.as_path(), false)];
    if daemon::user::run_as_configured(&cfg.text(&keys::GLOBAL_RUN_AS_USER), &dirs, &log_files).is_err() {
        return ExitCode::from(1);
    }

    let guid_file = cfg.machine_guid_file();
    let guid = match daemon::guid::load_or_create(&guid_file) {
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
    nanodata::sys::mem::set_malloc_arenas(cfg.integer(&keys::GLOBAL_MALLOC_ARENA).clamp(1, 64) as u32);

    // Every thread started from here on inherits the blocked signal mask; only main takes them.
    signals::block_all();

    let hostname = match cfg.text(&keys::GLOBAL_HOSTNAME) {
        s if s.is_empty() => daemon::hostname(),
        s => s,
    };
    let prefix = match (&o.host_prefix, cfg.text(&keys::GLOBAL_HOST_ACCESS_PREFIX)) {
        (Some(p), _) => p.clone(),
        (None, p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from("/"),
    };
    let info = SystemInfo::detect(&prefix);
    let mut settings = host_settings(cfg, &cache_dir);
    if configs.stream.bool(&keys::STREAM_ENABLED) {
        settings.replication_window =
            configs.stream.seconds(&keys::STREAM_REPLICATION_WINDOW).min(86_400) as u32;
    }
    let hosts = Arc::new(Hosts::new(Host::new(&guid, &hostname, settings)));
    let localhost = Arc::clone(hosts.localhost());
    log::info!(
        "host '{hostname}' ({guid}): memory mode {}, {} slots of {} s per dimension",
        localhost.settings().mode.as_str(),
        localhost.settings().history,
        localhost.settings().update_every
    );

    let mut housekeeping = match nanodata::rrd::cleanup::start(
        Arc::clone(&hosts),
        nanodata::rrd::CleanupPolicy::from_config(cfg),
    ) {
        Ok(h) => Some(h),
        Err(e) => {
            log::error!("cannot start the housekeeping thread: {e}; obsolete charts stay in memory");
            None
        }
    };

    let mut collectors = Collectors::new();
    localhost.set_labels(host_labels(cfg, &info));
    collectors::start_internal(cfg, &localhost, &prefix, &mut collectors);
    #[cfg(feature = "web")]
    let web = web_bound.and_then(|b| nanodata::web::start_bound(b, cfg, Some(&configs.stream), Arc::clone(&hosts)));
    log::info!("{} collector thread(s) running", collectors.len());
    let mut plugins = nanodata::plugins::start(cfg, Arc::clone(&localhost), &prefix);
    let mut sender =
        stream::start(&configs.stream, cfg, &localhost, &info, localhost.settings().update_every);
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
    if let Some(h) = housekeeping.as_mut() {
        h.stop();
    }
    if let Some(s) = sender.as_mut() {
        s.stop();
    }
    if let Err(e) = hosts.save() {
        log::error!("database: saving failed: {e}");
    }
    log::info!("{PROGRAM} stopped");
    logging::flush();
    ExitCode::SUCCESS
}

fn level(name: &str) -> log::LevelFilter {
    match name {
        "debug" => log::LevelFilter::Debug,
        "warning" | "warn" => log::LevelFilter::Warn,
        "error" => log::LevelFilter::Error,
        _ => log::LevelFilter::Info,
    }
}

fn host_settings(cfg: &Config, cache_dir: &Path) -> HostSettings {
    let mode_name = cfg.text(&keys::DB_MODE);
    let mode = MemoryMode::parse(&mode_name).unwrap_or_else(|| {
        log::warn!("[db] mode = {mode_name} is not supported by {PROGRAM}; using ram");
        MemoryMode::Ram
    });
    HostSettings {
        mode,
        history: cfg.integer(&keys::DB_RETENTION).clamp(5, 10_000_000) as u32,
        update_every: cfg.seconds(&keys::DB_UPDATE_EVERY).clamp(1, 86_400) as u32,
        cache_dir: cache_dir.to_path_buf(),
        gap_when_lost_iterations_above: cfg.integer(&keys::DB_GAP).clamp(1, 1_000_000) as u32,
        replication_window: 0,
    }
}

/// The host's labels: Netdata's automatic `_…` labels from the system information, then
/// `[host labels]` of the configuration.
fn host_labels(cfg: &Config, info: &SystemInfo) -> Vec<Label> {
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
    for (name, value) in cfg.entries("host labels") {
        add(name, value, label_source::CONFIG);
    }
    labels
}

use super::*;
use crate::config::FileKind;

fn settings(netdata: &str, stream: &str) -> NodeSettings {
    let (n, _) = Config::parse(FileKind::Netdata, netdata, "netdata.conf");
    let (s, _) = Config::parse(FileKind::Stream, stream, "stream.conf");
    NodeSettings::from_config(&n, &s)
}

#[test]
fn defaults_and_clamps() {
    let d = NodeSettings::default();
    assert_eq!((d.db.mode, d.db.history, d.db.update_every), (MemoryMode::Ram, 3600, 1));
    assert_eq!(d.db.replication_window, 0, "no window unless streaming");
    assert!(d.web.enabled);
    assert_eq!(d.web.netdata_conf.is_empty(), !cfg!(feature = "web"), "rendered when served");
    assert_eq!(d.web.default_port, 19999);
    assert_eq!(d.sender.buffer_size, 1 << 20);
    assert_eq!(d.sender.timeout, Duration::from_secs(60));
    assert_eq!(d.parent.defaults.memory_mode, MemoryMode::Ram);
    assert_eq!(d.parent.max_children, 200);

    let s = settings(
        "[db]\n mode = dbengine\n retention = 1\n update every = 0\n\
         [web]\n mode = none\n gzip compression level = 42\n max connections = 0\n",
        "[stream]\n enabled = yes\n buffer size bytes = 1\n reconnect delay seconds = 9000\n\
         maximum reconnect delay seconds = 10\n replication window = 999999\n",
    );
    assert_eq!(s.db.mode, MemoryMode::Dbengine, "dbengine is map with tiers");
    assert_eq!(s.db.fixed_tiers, None, "no tiers for other modes unless written");
    let e = &s.db.dbengine;
    assert_eq!((e.tiers, &e.iterations[..]), (3, &[60, 60][..]), "Netdata's defaults");
    assert_eq!(e.budget_bytes.as_deref(), Some(&[256 << 20, 128 << 20, 64 << 20][..]));
    assert_eq!((s.db.history, s.db.update_every), (5, 1));
    assert_eq!(s.db.replication_window, 86_400);
    assert!(!s.web.enabled && s.web.netdata_conf.is_empty(), "nothing rendered for a disabled server");
    assert_eq!((s.web.gzip_level, s.web.max_connections), (Some(9), 1));
    assert_eq!(s.sender.buffer_size, 64 * 1024);
    assert_eq!(s.sender.reconnect_delay, Duration::from_secs(3600));
    assert_eq!(s.sender.max_backoff, Duration::from_secs(9000), "at least the reconnect delay");
    assert_eq!(s.parent.proxy, s.sender, "proxied children are sent with the node's [stream]");
}

#[test]
fn peer_sections_keep_the_inheritance_rules() {
    let key = "11111111-2222-3333-4444-555555555555";
    let s = settings(
        "",
        &format!(
            "[{key}]\n enabled = maybe\n type = api\n default memory mode = save\n memory mode = bogus\n\
             proxy destination =   \n health enabled = auto\n history = x\n\
             [stream]\n enabled = no\n"
        ),
    );
    let peers: Vec<&PeerSection> = s.parent.conf.sections().collect();
    assert_eq!(peers.len(), 1, "[stream] is not a peer");
    let p = peers[0];
    assert_eq!(p.name, key);
    assert_eq!(p.enabled, None, "invalid: the caller's default");
    assert_eq!(p.kind.as_deref(), Some("api"));
    assert_eq!(p.default_memory_mode, Some(Some(MemoryMode::Save)));
    assert_eq!(p.memory_mode, Some(None), "written, not a mode");
    assert_eq!(p.proxy_destination, None, "blank inherits");
    assert_eq!(p.health, Some(None), "auto");
    assert_eq!(p.history, None);
}

#[test]
fn plugins_and_open_sections() {
    let s = settings(
        "[plugins]\n enable running new plugins = no\n apps = yes\n mine = yes\n\
         [plugin:proc]\n /proc/stat = no\n[logs]\n error = /tmp/e.log\n",
        "",
    );
    assert!(s.plugins.enabled("apps") && s.plugins.enabled("mine"));
    assert!(!s.plugins.enabled("other") && !s.plugins.enabled("slabinfo"));
    assert_eq!(s.plugins.stderr, Some(PathBuf::from("/tmp/e.log")));
    assert!(!s.collectors.sections.bool_in("plugin:proc", "/proc/stat", true));
    assert_eq!(s.collectors.sections.entries("logs").count(), 0, "only open sections are kept");
}

#[test]
fn health_defaults_follow_the_directories() {
    let d = NodeSettings::default().health;
    assert!(d.enabled);
    assert_eq!((d.run_every, d.postpone_hibernation, d.max_log_entries), (10, 60, 1000));
    assert_eq!((d.repeat_warning, d.repeat_critical), (0, 0));
    assert_eq!(d.script, PathBuf::from("/usr/libexec/nanodata/plugins.d/alarm-notify.sh"));
    assert_eq!(d.stock_dir, Some(PathBuf::from("/usr/lib/nanodata/conf.d/health.d")));
    assert_eq!(d.user_dir, PathBuf::from("/etc/nanodata/health.d"));
    assert_eq!(d.log_dir, PathBuf::from("/var/lib/nanodata/health"));

    let s = settings(
        "[directories]\n config = /c\n stock config = /s\n lib = /l\n plugins = \"/p\" \"/q\"\n\
         [health]\n enabled = no\n run at least every seconds = 0\n in memory max health log entries = 3\n\
         default repeat warning = 10m\n default repeat critical = 1h\n",
        "",
    )
    .health;
    assert!(!s.enabled);
    assert_eq!((s.run_every, s.max_log_entries), (1, 10));
    assert_eq!((s.repeat_warning, s.repeat_critical), (600, 3600));
    assert_eq!(s.script, PathBuf::from("/p/alarm-notify.sh"));
    assert_eq!(s.stock_dir, Some(PathBuf::from("/s/health.d")));
    assert_eq!(s.user_dir, PathBuf::from("/c/health.d"));
    assert_eq!(s.log_dir, PathBuf::from("/l/health"));

    let s = settings(
        "[directories]\n health config = /h\n stock health config = /sh\n\
         [health]\n script to execute on alarm = /bin/notify\n enable stock health configuration = no\n",
        "",
    )
    .health;
    assert_eq!((s.user_dir, s.stock_dir), (PathBuf::from("/h"), None));
    assert_eq!(s.script, PathBuf::from("/bin/notify"));
}

#[test]
fn tier_options_are_read_in_netdatas_words() {
    let s = settings(
        "[db]\n mode = map\n storage tiers = 4\n retention = 500\n\
         dbengine tier 1 update every iterations = 10\n dbengine tier 2 update every iterations = 1000\n\
         dbengine tier 3 update every iterations = 7\n dbengine tier 1 retention time = 7d\n\
         dbengine disk space MB = 100\n dbengine tier 3 multihost disk space MB = 3\n",
        "",
    );
    let f = s.db.fixed_tiers.as_ref().expect("storage tiers written: map gets tiers");
    assert_eq!((f.tiers, &f.iterations[..]), (4, &[10, 255, 7][..]), "1000 is taken as 255");
    assert_eq!(f.retention, 500);
    assert_eq!(f.retention_secs, vec![None, Some(7 * 86_400), None, None]);
    assert_eq!(f.budget_bytes, None, "fixed sizes for map");
    let b = s.db.dbengine.budget_bytes.as_deref().unwrap();
    assert_eq!(b, &[100 << 20, 128 << 20, 64 << 20, 3 << 20][..], "the per-host budget stands in for tier 0");
}

use super::keys::*;
use super::*;

const NETDATA_CONF: &str = include_str!("../../tests/fixtures/config/netdata.conf");
const STREAM_CONF: &str = include_str!("../../tests/fixtures/config/stream.conf");
const EXPORTING_CONF: &str = include_str!("../../tests/fixtures/config/exporting.conf");
const API_KEY: &str = "11111111-2222-3333-4444-555555555555";
const GUID: &str = "8f1e2f4a-0d5c-11ee-9b2e-0242ac120002";

fn netdata(text: &str) -> (Config, Vec<Diagnostic>) {
    Config::parse(FileKind::Netdata, text, "t.conf")
}

fn stream(text: &str) -> (Config, Vec<Diagnostic>) {
    Config::parse(FileKind::Stream, text, "s.conf")
}

fn exporting(text: &str) -> (Config, Vec<Diagnostic>) {
    Config::parse(FileKind::Exporting, text, "x.conf")
}

fn warnings(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().filter(|d| d.level == Level::Warn).map(|d| d.to_string()).collect()
}

/// Warnings other than "accepted but not used".
fn problems(diags: &[Diagnostic]) -> Vec<String> {
    warnings(diags).into_iter().filter(|w| !w.contains("is accepted but not used")).collect()
}

/// The "accepted but not used" warnings, without their origin.
fn unused(diags: &[Diagnostic]) -> Vec<String> {
    let all =
        diags.iter().filter(|d| d.level == Level::Warn && d.message.contains("is accepted but not used"));
    all.map(|d| d.message.clone()).collect()
}

fn notes(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().filter(|d| d.level == Level::Info).map(|d| d.to_string()).collect()
}

#[test]
fn defaults_without_a_file() {
    let c = Config::new(FileKind::Netdata);
    assert_eq!(c.text(&DB_MODE), "ram");
    assert_eq!(c.seconds(&DB_UPDATE_EVERY), 1);
    assert_eq!(c.integer(&DB_RETENTION), 3600);
    assert!(c.bool(&DB_REPLICATION));
    assert_eq!(c.integer(&WEB_DEFAULT_PORT), 19999);
    assert_eq!(c.text(&GLOBAL_HOSTNAME), "");
    assert_eq!(c.seconds(&PROC_UPDATE_EVERY), 0, "empty default = inherit");
    assert_eq!(c.sections().count(), 0);
    let s = Config::new(FileKind::Stream);
    assert!(!s.bool(&STREAM_ENABLED));
    assert_eq!(s.bytes(&STREAM_BUFFER_SIZE), 1 << 20);
}

#[test]
fn dialect_in_context() {
    let text =
        "[global]\n  hostname = a=b # c\n\n# comment\n; comment\n[plugin:proc]\n/proc/net/dev = no\r\n";
    let (c, diags) = netdata(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(c.text(&GLOBAL_HOSTNAME), "a=b # c");
    assert_eq!(c.raw("plugin:proc", "/proc/net/dev"), Some("no"));
    assert!(!c.bool_in("plugin:proc", "/proc/net/dev", true));
    assert_eq!(c.sections().collect::<Vec<_>>(), ["global", "plugin:proc"]);
}

#[test]
fn crlf_file() {
    let (c, diags) = netdata("[db]\r\nmode = map\r\nupdate every = 3\r\n");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(c.text(&DB_MODE), "map");
    assert_eq!(c.seconds(&DB_UPDATE_EVERY), 3);
}

#[test]
fn line_without_equals() {
    let (c, diags) = netdata("[db]\nfoo bar\nmode = save\n");
    assert_eq!(warnings(&diags), [r#"t.conf:2: line has no '=': "foo bar" (ignored)"#]);
    assert_eq!(c.text(&DB_MODE), "save");
}

#[test]
fn key_before_any_section() {
    let (c, diags) = netdata("mode = save\n[db]\n");
    assert_eq!(warnings(&diags), ["t.conf:1: key 'mode' is not in any section (ignored)"]);
    assert_eq!(c.text(&DB_MODE), "ram");
}

#[test]
fn broken_header_drops_its_keys() {
    let (c, diags) = netdata("[db]\nmode = save\n[web\nmode = none\n[db]\nretention = 10\n");
    let w = warnings(&diags);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("t.conf:3: section header without ']'"), "{w:?}");
    assert_eq!(c.raw("db", "mode"), Some("save"));
    assert_eq!(c.text(&WEB_MODE), "static-threaded");
    assert_eq!(c.integer(&DB_RETENTION), 10);
}

#[test]
fn very_long_line_is_skipped() {
    let text = format!("[global]\nhostname = {}\n[db]\nmode = map\n", "x".repeat(5000));
    let (c, diags) = netdata(&text);
    assert_eq!(warnings(&diags), ["t.conf:2: line is longer than 4096 bytes (ignored)"]);
    assert_eq!(c.raw("global", "hostname"), None);
    assert_eq!(c.text(&DB_MODE), "map");
}

#[test]
fn huge_file_is_refused() {
    let text = format!("[db]\nmode = map\n{}", "# filler\n".repeat(MAX_FILE_BYTES / 9 + 1));
    let (c, diags) = netdata(&text);
    assert_eq!(diags.len(), 1);
    assert!(diags[0].message.contains("larger than"), "{diags:?}");
    assert_eq!(c.text(&DB_MODE), "ram");
}

#[test]
fn duplicate_key_later_wins() {
    let (c, diags) = netdata("[db]\nmode = save\nmode = map\n");
    assert_eq!(
        warnings(&diags),
        ["t.conf:3: duplicate key 'mode' in section [db]; this value overrides the one at t.conf:2"]
    );
    assert_eq!(c.text(&DB_MODE), "map");
}

#[test]
fn section_names_are_case_sensitive() {
    let (c, diags) = netdata("[DB]\nmode = map\n");
    assert_eq!(warnings(&diags), ["t.conf:1: unknown section [DB] (ignored)"]);
    assert_eq!(c.text(&DB_MODE), "ram");
    assert_eq!(c.raw("DB", "mode"), Some("map"));
}

#[test]
fn repeated_section_merges() {
    let (c, diags) = netdata("[db]\nmode = map\n[web]\n[db]\nretention = 5\n");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(c.sections().collect::<Vec<_>>(), ["db", "web"]);
    assert_eq!(c.text(&DB_MODE), "map");
    assert_eq!(c.integer(&DB_RETENTION), 5);
}

/// Every alias: the old name, read back through the new key.
#[test]
fn every_old_name_reaches_its_new_key() {
    let cases: &[(&str, &str, &str, &Key)] = &[
        ("global", "update every", "7", &DB_UPDATE_EVERY),
        ("global", "memory mode", "map", &DB_MODE),
        ("global", "history", "99", &DB_RETENTION),
        ("global", "page cache size", "64", &DB_PAGE_CACHE_MB),
        ("global", "dbengine disk space", "512", &DB_DISK_SPACE_MB),
        ("global", "dbengine multihost disk space", "1024", &DB_MULTIHOST_DISK_SPACE_MB),
        ("global", "memory deduplication (ksm)", "yes", &DB_KSM),
        ("global", "gap when lost iterations above", "3", &DB_GAP),
        ("global", "cleanup obsolete charts after seconds", "60", &DB_CLEANUP_OBSOLETE_CHARTS),
        ("global", "cleanup orphan hosts after seconds", "61", &DB_CLEANUP_ORPHAN_HOSTS),
        ("global", "delete obsolete charts files", "no", &DB_DELETE_OBSOLETE_FILES),
        ("global", "delete orphan hosts files", "no", &DB_DELETE_ORPHAN_FILES),
        ("global", "enable zero metrics", "yes", &DB_ZERO_METRICS),
        ("global", "debug log", "/tmp/debug.log", &LOGS_DEBUG),
        ("global", "debug flags", "0x10", &LOGS_DEBUG_FLAGS),
        ("global", "error log", "syslog", &LOGS_ERROR),
        ("global", "access log", "none", &LOGS_ACCESS),
        ("global", "facility log", "local0", &LOGS_FACILITY),
        ("global", "errors flood protection period", "10", &LOGS_FLOOD_PERIOD),
        ("global", "errors to trigger flood protection", "11", &LOGS_FLOOD_ERRORS),
        ("global", "bind socket to IP", "127.0.0.1", &WEB_BIND_TO),
        ("web", "bind socket to IP", "::1", &WEB_BIND_TO),
        ("global", "default port", "8080", &WEB_DEFAULT_PORT),
        ("global", "port", "8081", &WEB_DEFAULT_PORT),
        ("global", "web files owner", "root", &WEB_FILES_OWNER),
        ("global", "web files group", "wheel", &WEB_FILES_GROUP),
        ("global", "disconnect idle web clients after seconds", "30", &WEB_IDLE_TIMEOUT),
        ("global", "respect web browser do not track policy", "yes", &WEB_DO_NOT_TRACK),
        ("global", "web x-frame-options header", "DENY", &WEB_X_FRAME_OPTIONS),
        ("global", "enable web responses gzip compression", "no", &WEB_GZIP),
        ("global", "web compression strategy", "rle", &WEB_GZIP_STRATEGY),
        ("global", "web compression level", "9", &WEB_GZIP_LEVEL),
        ("global", "config directory", "/c", &DIR_CONFIG),
        ("global", "stock config directory", "/sc", &DIR_STOCK_CONFIG),
        ("global", "log directory", "/l", &DIR_LOG),
        ("global", "web files directory", "/w", &DIR_WEB),
        ("global", "cache directory", "/ca", &DIR_CACHE),
        ("global", "lib directory", "/li", &DIR_LIB),
        ("global", "home directory", "/h", &DIR_HOME),
        ("global", "lock directory", "/lo", &DIR_LOCK),
        ("global", "plugins directory", "/p", &DIR_PLUGINS),
    ];
    for &(section, name, value, key) in cases {
        let (c, diags) = netdata(&format!("[{section}]\n{name} = {value}\n"));
        assert_eq!(problems(&diags), Vec::<String>::new(), "{name}");
        assert_eq!(unused(&diags).len(), usize::from(key.unused()), "{name}: {diags:?}");
        assert_eq!(c.text(key), value, "[{section}] {name}");
        assert_eq!(c.raw(section, name), None, "stored under the new name only");
        let expected = format!(
            "t.conf:2: '{name}' in section [{section}] is an old name of '{}' in section [{}]; \
             please use the new name",
            key.name, key.section
        );
        assert_eq!(notes(&diags), [expected]);
        // The same through -W set.
        let mut c = Config::new(FileKind::Netdata);
        let diags = c.set(section, name, value);
        assert_eq!(problems(&diags), Vec::<String>::new(), "{name}");
        assert_eq!(unused(&diags).len(), usize::from(key.unused()), "{name}: {diags:?}");
        assert_eq!(c.text(key), value, "set [{section}] {name}");
    }
}

#[test]
fn every_old_stream_name_reaches_its_new_key() {
    let (c, diags) = stream(&format!(
        "[stream]\nbuffer size = 2MiB\nreconnect delay = 9\ntimeout = 1m\n\
         [{API_KEY}]\ndefault db mode = map\nreplication_step = 60\n\
         [{GUID}]\ndb mode = save\nreplication step = 120\n"
    ));
    assert_eq!(warnings(&diags), Vec::<String>::new());
    assert_eq!(notes(&diags).len(), 7);
    assert_eq!(c.bytes(&STREAM_BUFFER_SIZE), 2 << 20);
    assert_eq!(c.seconds(&STREAM_RECONNECT_DELAY), 9);
    assert_eq!(c.seconds(&STREAM_TIMEOUT), 60);
    assert_eq!(c.text_in(API_KEY, "default memory mode", "ram"), "map");
    assert_eq!(c.seconds_in(API_KEY, "seconds per replication step", 600), 60);
    assert_eq!(c.text_in(GUID, "memory mode", "ram"), "save");
    assert_eq!(c.seconds_in(GUID, "seconds per replication step", 600), 120);
    assert_eq!(c.raw(GUID, "db mode"), None);
}

#[test]
fn new_name_wins_over_old_in_either_order() {
    for text in [
        "[global]\nmemory mode = save\n[db]\nmode = map\n",
        "[db]\nmode = map\n[global]\nmemory mode = save\n",
    ] {
        let (c, diags) = netdata(text);
        assert_eq!(c.text(&DB_MODE), "map", "{text}");
        let w = warnings(&diags);
        assert_eq!(w.len(), 1, "{w:?}");
    }
    let (_, diags) = netdata("[db]\nmode = map\n[global]\nmemory mode = save\n");
    assert_eq!(
        warnings(&diags),
        ["t.conf:4: 'memory mode' in section [global] is ignored: its new name 'mode' in \
          section [db] is set at t.conf:2"]
    );
    let (_, diags) = netdata("[global]\nmemory mode = save\n[db]\nmode = map\n");
    assert_eq!(
        warnings(&diags),
        ["t.conf:4: 'mode' in section [db] overrides the value set under an old name at t.conf:2"]
    );
}

#[test]
fn unknown_keys_and_sections() {
    let (_, diags) = netdata("[db]\nfoo = 1\n[bogus]\nx = 1\n[ml]\nenabled = yes\n[plugin:proc]\n/proc/foo = yes\n[plugins]\nmy.plugin = yes\n[host labels]\nanything = at all\n");
    assert_eq!(
        warnings(&diags),
        [
            "t.conf:2: unknown key 'foo' in section [db] (ignored)",
            "t.conf:3: unknown section [bogus] (ignored)"
        ]
    );
    assert_eq!(notes(&diags), ["t.conf:5: section [ml] is not used by nanodata (ignored)"]);
}

#[test]
fn dbengine_tuning_keys_are_tolerated() {
    let (_, diags) = netdata("[db]\ndbengine page cache with malloc = no\n");
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn stream_sections() {
    let (_, diags) = stream(&format!("[stream]\nenabled = yes\nfoo = 1\n[web]\n[{API_KEY}]\nbar = 2\n"));
    assert_eq!(
        warnings(&diags),
        [
            "s.conf:3: unknown key 'foo' in section [stream] (ignored)",
            "s.conf:4: section [web] is not [stream], an API key or a machine GUID (ignored)",
            format!("s.conf:6: unknown key 'bar' in section [{API_KEY}] (ignored)").as_str(),
        ]
    );
}

#[test]
fn invalid_values_fall_back_to_the_default() {
    let (c, diags) =
        netdata("[db]\nmode = banana\nupdate every = x\nretention = 12abc\nenable replication = maybe\n");
    assert_eq!(
        warnings(&diags),
        [
            "t.conf:2: invalid value 'banana' for 'mode' in section [db] (expected one of \
             none|ram|save|map|alloc|dbengine); using the default 'ram'",
            "t.conf:3: invalid value 'x' for 'update every' in section [db] (not a valid value; \
             expected seconds, or a duration like 30s, 5m, 1h); using the default '1'",
            "t.conf:4: invalid value '12abc' for 'retention' in section [db] (not a valid value; \
             expected an integer); using the default '3600'",
            "t.conf:5: invalid value 'maybe' for 'enable replication' in section [db] (not a valid \
             value; expected yes or no); using the default 'yes'",
        ]
    );
    assert_eq!(c.text(&DB_MODE), "ram");
    assert_eq!(c.seconds(&DB_UPDATE_EVERY), 1);
    assert_eq!(c.integer(&DB_RETENTION), 3600);
    assert!(c.bool(&DB_REPLICATION));
    assert_eq!(c.raw("db", "mode"), Some("banana"), "raw keeps what was written");
}

#[test]
fn values_with_units() {
    let (c, diags) = netdata("[db]\nseconds to replicate = 1d\nupdate every = 5s\n");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(c.seconds(&DB_SECONDS_TO_REPLICATE), 86_400);
    assert_eq!(c.seconds(&DB_UPDATE_EVERY), 5);
    let (c, diags) = stream("[stream]\nbuffer size bytes = 10MiB\n");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(c.bytes(&STREAM_BUFFER_SIZE), 10 << 20);
    let (c, diags) = stream("[stream]\nbuffer size bytes = 99999999999T\n");
    assert!(warnings(&diags)[0].contains("value too large"), "{diags:?}");
    assert_eq!(c.bytes(&STREAM_BUFFER_SIZE), 1 << 20);
}

#[test]
fn empty_value_of_an_inheriting_key_is_valid() {
    let (c, diags) = netdata("[plugin:proc]\nupdate every =\n[db]\nupdate every =\n");
    assert_eq!(warnings(&diags).len(), 1, "only [db] update every needs a value: {diags:?}");
    assert_eq!(c.seconds(&PROC_UPDATE_EVERY), 0);
    assert_eq!(c.seconds(&DB_UPDATE_EVERY), 1);
}

#[test]
fn set_overrides_a_file_value() {
    let (mut c, _) = netdata("[db]\nmode = save\n[global]\nmemory mode = none\n");
    assert_eq!(c.text(&DB_MODE), "save");
    assert!(c.set("db", "mode", "map").is_empty());
    assert_eq!(c.text(&DB_MODE), "map");
    // Through an old name, too: the command line is the last word.
    let diags = c.set("global", "memory mode", "none");
    assert_eq!(warnings(&diags), Vec::<String>::new());
    assert_eq!(c.text(&DB_MODE), "none");
    // set checks the value like a file does.
    let diags = c.set("db", "update every", "soon");
    assert!(warnings(&diags)[0].starts_with("-W: invalid value 'soon' for 'update every'"));
    assert_eq!(c.seconds(&DB_UPDATE_EVERY), 1);
    // A new section is created.
    assert!(c.set("plugin:proc", "/proc/net/dev", "no").is_empty());
    assert!(!c.bool_in("plugin:proc", "/proc/net/dev", true));
}

#[test]
fn set_refuses_what_cannot_be_written_back() {
    let mut c = Config::new(FileKind::Netdata);
    for (section, name, value) in [
        ("db", "mode", "ram\n[web]"),
        ("d]b", "mode", "ram"),
        ("db", "a = b", "c"),
        ("db", "", "c"),
        ("db", "#x", "c"),
    ] {
        let diags = c.set(section, name, value);
        assert_eq!(warnings(&diags).len(), 1, "{section} {name}");
    }
    assert_eq!(c.sections().count(), 0);
}

#[test]
fn dynamic_getters_parse_or_default() {
    let (c, _) =
        netdata("[plugin:proc:diskspace]\ncheck every = 15m\nbad = soon\nflag = on\nn = -3\nsize = 4K\n");
    let s = "plugin:proc:diskspace";
    assert_eq!(c.seconds_in(s, "check every", 1), 900);
    assert_eq!(c.seconds_in(s, "bad", 7), 7);
    assert_eq!(c.seconds_in(s, "missing", 8), 8);
    assert!(c.bool_in(s, "flag", false));
    assert!(c.bool_in(s, "bad", true));
    assert_eq!(c.integer_in(s, "n", 0), -3);
    assert_eq!(c.bytes_in(s, "size", 0), 4096);
    assert_eq!(c.tristate_in(s, "flag", None), Some(true));
    assert_eq!(c.text_in(s, "missing", "dflt"), "dflt");
    assert_eq!(c.entries(s).count(), 5);
    assert_eq!(c.entries("nothing").count(), 0);
}

#[test]
fn derived_paths() {
    let (c, _) = netdata(
        "[directories]\nlog = /l\nlib = /v\n[logs]\ndebug = d.log\naccess = /a.log\nerror = syslog\n",
    );
    assert_eq!(c.machine_guid_file(), PathBuf::from("/v/registry/netdata.public.unique.id"));
    let d = Config::new(FileKind::Netdata);
    assert_eq!(d.plugin_dirs(), ["/usr/libexec/nanodata/plugins.d", "/etc/nanodata/custom-plugins.d"]);
    assert_eq!(words("a \"b c\"  d \"\""), ["a", "b c", "d"]);
}

#[test]
fn netdata_1_37_sample() {
    let (c, diags) = netdata(NETDATA_CONF);
    // `tc = no` and `cgroups = no` disable what nanodata does not have: no warning.
    assert_eq!(warnings(&diags), Vec::<String>::new());
    let notes = notes(&diags);
    assert!(notes.iter().any(|n| n.contains("'memory mode' in section [global]")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("section [ml] is not used")), "{notes:?}");
    assert_eq!(c.text(&GLOBAL_HOSTNAME), "edge-router-01");
    assert_eq!(c.text(&DB_MODE), "save");
    assert_eq!(c.text(&WEB_BIND_TO), "127.0.0.1");
    assert_eq!(c.seconds(&DB_UPDATE_EVERY), 2);
    assert_eq!(c.integer(&DB_RETENTION), 1800);
    assert_eq!(c.seconds(&DB_SECONDS_TO_REPLICATE), 3600);
    assert_eq!(c.text(&DIR_CACHE), "/tmp/nanodata-cache");
    assert_eq!(c.text(&LOGS_ERROR), "syslog");
    assert_eq!(c.text(&LOGS_ACCESS), "none");
    assert_eq!(c.seconds(&HEALTH_RUN_EVERY), 20);
    assert_eq!(c.text(&WEB_ALLOW_CONNECTIONS), "localhost 10.* 192.168.*");
    assert_eq!(c.integer(&WEB_GZIP_LEVEL), 1);
    assert!(!c.bool(&PLUGINS_TC));
    assert!(c.bool(&PLUGINS_PROC));
    assert!(!c.bool_in(PLUGINS, "python.d", true));
    assert_eq!(c.seconds(&PROC_UPDATE_EVERY), 5);
    assert!(!c.bool_in(PLUGIN_PROC, "/proc/diskstats", true));
    assert!(c.bool_in(PLUGIN_PROC, "/proc/net/dev", true));
    assert_eq!(c.tristate_in("plugin:proc:/proc/net/dev", "bandwidth for all interfaces", Some(false)), None);
    let labels: Vec<_> = c.entries("host labels").collect();
    assert_eq!(labels, [("location", "rack 4 # top shelf"), ("role", "gateway")]);
}

#[test]
fn stream_sample() {
    let (c, diags) = stream(STREAM_CONF);
    // The health keys of the API key and machine GUID sections are used (per-child health).
    assert_eq!(
        unused(&diags),
        [format!("'multiple connections' in section [{GUID}] is accepted but not used by nanodata; 'deny' has no effect")]
    );
    assert_eq!(problems(&diags), Vec::<String>::new());
    assert_eq!(notes(&diags).len(), 3, "{diags:?}");
    assert!(c.bool(&STREAM_ENABLED));
    assert_eq!(c.text(&STREAM_DESTINATION), "tcp:192.168.1.10:19999 parent.example.org:SSL");
    assert_eq!(c.text(&STREAM_API_KEY), API_KEY);
    assert_eq!(c.text(&STREAM_SEND_CHARTS), "* !apps.*");
    assert_eq!(c.bytes(&STREAM_BUFFER_SIZE), 2 << 20);
    assert!(c.bool(&STREAM_SSL_SKIP_VERIFY));
    assert_eq!(c.sections().collect::<Vec<_>>(), ["stream", API_KEY, GUID]);

    assert_eq!(c.text_in(API_KEY, PEER_TYPE.name, PEER_TYPE.default), "api");
    assert!(c.bool_in(API_KEY, PEER_ENABLED.name, false));
    assert_eq!(c.text_in(API_KEY, "allow from", "*"), "10.* 192.168.*");
    assert_eq!(c.integer_in(API_KEY, "default history", 3600), 7200);
    assert_eq!(c.tristate_in(API_KEY, "health enabled by default", Some(false)), None);
    assert_eq!(c.seconds_in(API_KEY, "seconds to replicate", 86400), 43200);
    assert_eq!(c.seconds_in(API_KEY, "seconds per replication step", 600), 300);

    assert_eq!(c.text_in(GUID, "type", "api"), "machine");
    assert_eq!(c.text_in(GUID, "memory mode", "ram"), "save");
    assert_eq!(c.tristate_in(GUID, "health enabled", None), Some(true));
    assert_eq!(c.seconds_in(GUID, "postpone alarms on connect seconds", 60), 120);
    assert_eq!(c.tristate_in(GUID, "proxy enabled", None), Some(false));
}

/// Every value a config holds, for comparing two of them.
fn effective(c: &Config) -> Vec<(String, String, String)> {
    let mut all: Vec<_> = c
        .sections()
        .flat_map(|s| c.entries(s).map(move |(k, v)| (s.to_string(), k.to_string(), v.to_string())))
        .collect();
    all.sort();
    all
}

#[test]
fn render_round_trips() {
    // The sample's keys are all used now: one that is not, to see it marked.
    let netdata_conf = format!("{NETDATA_CONF}\n[global]\n\tprocess nice level = 5\n");
    let cases = [
        (FileKind::Netdata, netdata_conf.as_str(), "host labels", "allow from"),
        (FileKind::Stream, STREAM_CONF, GUID, "allow from"),
        (FileKind::Exporting, EXPORTING_CONF, "graphite:carbon", "prefix"),
    ];
    for (kind, text, section, key) in cases {
        let (mut c, first) = Config::parse(kind, text, "x");
        assert!(c.set(section, key, "10.*").is_empty());
        let rendered = c.render();
        let (again, diags) = Config::parse(kind, &rendered, "rendered");
        assert_eq!(problems(&diags), Vec::<String>::new(), "{rendered}");
        assert_eq!(unused(&diags), unused(&first), "{rendered}");
        assert!(!unused(&diags).is_empty());
        assert_eq!(effective(&again), effective(&c), "{rendered}");
        for key in NETDATA.iter().chain(STREAM_KEYS).chain(EXPORTING_KEYS) {
            assert_eq!(again.text(key), c.text(key));
        }
        assert_eq!(again.render(), rendered);
    }
}

#[test]
fn render_shows_defaults_sets_and_unknowns() {
    let (c, _) = netdata("[db]\nmode = map\nfoo = bar\n[bogus]\nx = 1\n[global]\nhistory = 10\n");
    let r = c.render();
    assert!(r.starts_with("# nanodata"), "{r}");
    assert!(r.contains("[db]\n\t# update every = 1\n\tmode = map\n\tretention = 10\n"), "{r}");
    assert!(r.contains("\t# unknown key (ignored):\n\tfoo = bar\n"), "{r}");
    assert!(r.contains("# unknown section (ignored)\n[bogus]\n\tx = 1\n"), "{r}");
    let order: Vec<_> = r.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(
        order,
        [
            "[global]",
            "[db]",
            "[directories]",
            "[logs]",
            "[web]",
            "[health]",
            "[registry]",
            "[plugins]",
            "[plugin:proc]",
            "[bogus]"
        ]
    );
    let (s, _) = stream(&format!("[{GUID}]\nhistory = 5\n"));
    let r = s.render();
    assert!(r.contains(&format!("[{GUID}]\n\t# type = api\n")), "{r}");
    assert!(r.contains("\thistory = 5\n"), "{r}");
}

#[test]
fn load_reads_a_file_and_reports_unreadable_ones() {
    let dir = std::env::temp_dir().join(format!("nanodata-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("nanodata.conf");
    std::fs::write(&path, b"[db]\nmode = map\n[global]\nhostname = r\xffx\n").unwrap();
    let (c, diags) = Config::load(FileKind::Netdata, &path).unwrap();
    assert_eq!(c.text(&DB_MODE), "map");
    assert_eq!(c.text(&GLOBAL_HOSTNAME), "r\u{fffd}x");
    assert!(diags[0].message.contains("not valid UTF-8"));
    assert!(diags[1..].is_empty());
    assert!(Config::load(FileKind::Netdata, &dir.join("missing.conf")).is_err());
    let big = dir.join("big.conf");
    std::fs::write(&big, vec![b'#'; MAX_FILE_BYTES + 1]).unwrap();
    let (c, diags) = Config::load(FileKind::Netdata, &big).unwrap();
    assert!(diags[0].message.contains("larger than"));
    assert_eq!(c.sections().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Arbitrary bytes (a cheap stand-in for a fuzz target) never panic the parser.
#[test]
fn garbage_never_panics() {
    let alphabet = "[]=#; \t\r\nab:é€0123456789-dbglobalmodeupdate everygraphitejson\u{feff}";
    let chars: Vec<char> = alphabet.chars().collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..300 {
        let mut text = String::new();
        for _ in 0..200 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push(chars[(seed % chars.len() as u64) as usize]);
        }
        for kind in [FileKind::Netdata, FileKind::Stream, FileKind::Exporting] {
            let (c, _) = Config::parse(kind, &text, "fuzz");
            let (again, _) = Config::parse(kind, &c.render(), "rendered");
            assert_eq!(effective(&again), effective(&c), "{text:?}");
        }
    }
}

#[test]
fn config_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Config>();
}

#[test]
fn unused_keys_are_warned_about_once_unless_set_to_their_default() {
    let (_, diags) = netdata(
        "[global]\nprocess nice level = 5\nOOM score = 0\n[web]\nweb server threads = 4\n\
         [plugins]\ntc = false\nidlejitter = yes\n[db]\nmode = save\n",
    );
    assert_eq!(
        warnings(&diags),
        [
            "t.conf:2: 'process nice level' in section [global] is accepted but not used by nanodata; '5' has no effect",
            "t.conf:5: 'web server threads' in section [web] is accepted but not used by nanodata; '4' has no effect",
            "t.conf:8: 'idlejitter' in section [plugins] is accepted but not used by nanodata; 'yes' has no effect",
        ]
    );
    // The default spelled another way is still the default.
    let (_, diags) =
        netdata("[health]\nrun at least every seconds = 10s\nenabled = false\n[global]\nOOM score = 0\n");
    assert_eq!(warnings(&diags), Vec::<String>::new());
    // An invalid value gets the invalid-value warning only.
    let (_, diags) = netdata("[global]\nprocess nice level = high\n");
    assert_eq!(warnings(&diags).len(), 1);
    assert!(warnings(&diags)[0].contains("invalid value 'high'"), "{diags:?}");
    // -W set too.
    let mut c = Config::new(FileKind::Netdata);
    assert_eq!(unused(&c.set("registry", "enabled", "yes")).len(), 1);
}

#[test]
fn render_marks_unused_keys() {
    let (c, _) = netdata("[global]\nprocess nice level = 5\n");
    let r = c.render();
    assert!(r.contains("\t# accepted, not used by nanodata\n\tprocess nice level = 5\n"), "{r}");
    assert!(r.contains("\t# accepted, not used by nanodata\n\t# OOM score = 0\n"), "{r}");
    assert!(r.contains("[global]\n\t# hostname = \n"), "used keys are not marked: {r}");
    let marked = r.matches("# accepted, not used by nanodata\n").count();
    // [backend] is shown only when the file has it.
    assert!(!r.contains("[backend]"), "{r}");
    assert_eq!(marked, NETDATA.iter().filter(|k| k.unused() && k.section != BACKEND).count());
    assert!(marked > 30, "{marked}");
    let s = Config::new(FileKind::Stream).render();
    assert!(!s.contains("not used"), "every [stream] key is used: {s}");
}

#[test]
fn registry_directory_holds_the_machine_guid_unless_the_file_is_named() {
    let (c, _) = netdata("[directories]\nlib = /v\nregistry = /r\n");
    assert_eq!(c.machine_guid_file(), PathBuf::from("/r/netdata.public.unique.id"));
    let (c, _) = netdata("[directories]\nregistry = /r\n[registry]\nnetdata unique id file = /f/id\n");
    assert_eq!(c.machine_guid_file(), PathBuf::from("/f/id"));
    let d = Config::new(FileKind::Netdata);
    assert_eq!(d.machine_guid_file(), PathBuf::from("/var/lib/nanodata/registry/netdata.public.unique.id"));
}

mod exporting;

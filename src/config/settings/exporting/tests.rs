use super::*;
use crate::config::settings::{NodeSettings, Transport};
use crate::config::Diagnostic;
use log::Level;

fn parse(exporting: &str, netdata: &str) -> (ExportingSettings, Vec<Diagnostic>) {
    let (x, diags) = Config::parse(FileKind::Exporting, exporting, "exporting.conf");
    let (n, _) = Config::parse(FileKind::Netdata, netdata, "netdata.conf");
    (ExportingSettings::from_config(&x, &n), diags)
}

fn settings(exporting: &str) -> ExportingSettings {
    parse(exporting, "").0
}

fn warnings(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().filter(|d| d.level == Level::Warn).map(|d| d.to_string()).collect()
}

fn tcp(host: &str, port: u16, tls: bool) -> Destination {
    Destination { endpoint: Endpoint::Tcp { host: host.into(), interface: None, port }, tls }
}

fn only(s: &ExportingSettings) -> &Instance {
    assert_eq!(s.instances.len(), 1, "{:#?}", s.instances);
    &s.instances[0]
}

#[test]
fn defaults_without_a_file() {
    let d = ExportingSettings::default();
    assert!(!d.enabled);
    assert!(d.send_configured_labels && !d.send_automatic_labels);
    assert_eq!((d.update_every, d.hostname.as_str()), (10, ""));
    assert!(d.instances.is_empty());
    let p = &d.prometheus;
    assert_eq!((p.prefix.as_str(), p.data_source), ("netdata", DataSource::Average));
    assert!(p.send_names_instead_of_ids && p.send_timestamps);
    assert!(p.send_configured_labels && !p.send_automatic_labels);
    assert_eq!(p.update_every, 10);
    assert_eq!(p.send_charts_matching, SimplePattern::parse("*"));
    assert_eq!(p.send_hosts_matching, SimplePattern::parse("localhost *"));
    assert_eq!(NodeSettings::default().exporting, d);
}

#[test]
fn an_instance_gets_netdata_s_defaults() {
    let (s, diags) = parse("[graphite:carbon]\n\tenabled = yes\n", "");
    assert!(diags.is_empty(), "{diags:?}");
    let i = only(&s);
    assert_eq!((i.name.as_str(), i.type_name.as_str()), ("carbon", "graphite"));
    assert_eq!((i.kind.connector(), i.kind.transport()), (Connector::Graphite, Transport::Plain));
    assert!(i.enabled);
    assert_eq!(i.destinations, [tcp("localhost", 2003, false)]);
    assert_eq!(i.data_source, DataSource::Average);
    assert_eq!((i.prefix.as_str(), i.hostname.as_str()), ("netdata", ""));
    assert_eq!((i.update_every, i.buffer_on_failures, i.timeout_ms), (10, 10, 10_000));
    assert_eq!(i.timeout(), Duration::from_secs(10));
    assert!(i.send_names_instead_of_ids && i.send_variables);
    assert!(i.send_configured_labels && !i.send_automatic_labels);
    assert_eq!(i.send_charts_matching, SimplePattern::parse("*"));
    assert_eq!(i.send_hosts_matching, SimplePattern::parse("localhost *"));
    assert_eq!((i.username.as_str(), i.password.as_str()), ("", ""));
    assert_eq!(i.remote_write_url_path, "/receive");
    assert_eq!(s.enabled_instances().count(), 1);
}

#[test]
fn every_type_string_as_a_section() {
    let cases = [
        ("graphite", 2003, false),
        ("graphite:plaintext", 2003, false),
        ("graphite:http", 2003, false),
        ("graphite:https", 2003, true),
        ("json", 5448, false),
        ("json:plaintext", 5448, false),
        ("json:http", 5448, false),
        ("json:https", 5448, true),
        ("opentsdb", 4242, false),
        ("opentsdb:telnet", 4242, false),
        ("opentsdb:http", 4242, false),
        ("opentsdb:https", 4242, true),
        ("prometheus_remote_write", 80, false),
        ("prometheus_remote_write:http", 80, false),
        ("prometheus_remote_write:https", 443, true),
    ];
    for (type_name, port, tls) in cases {
        let (s, diags) = parse(&format!("[{type_name}:x]\nenabled = yes\ndestination = db.lan\n"), "");
        assert!(diags.is_empty(), "{type_name}: {diags:?}");
        let i = only(&s);
        assert_eq!(i.kind, ConnectorKind::parse(type_name).unwrap());
        assert_eq!((i.name.as_str(), i.type_name.as_str()), ("x", type_name));
        assert_eq!(i.destinations, [tcp("db.lan", port, tls)], "{type_name}");
    }
}

#[test]
fn section_names_split_and_unnamed_instances_are_numbered() {
    let text = "[graphite:http:my_name]\nenabled = yes\n\
                [graphite:]\nenabled = yes\n\
                [opentsdb:http]\nenabled = yes\n\
                [json:]\nenabled = yes\n\
                [kinesis:aws]\nenabled = yes\n\
                [influxdb:i]\nenabled = yes\n\
                [graphite]\nenabled = yes\n";
    let (s, diags) = parse(text, "");
    let names: Vec<(&str, &str)> =
        s.instances.iter().map(|i| (i.name.as_str(), i.type_name.as_str())).collect();
    assert_eq!(names, [("my_name", "graphite:http"), ("instance_1", "graphite"), ("instance_2", "json")]);
    assert_eq!(
        warnings(&diags),
        [
            "exporting.conf:5: section [opentsdb:http] names a connector type but no instance; write \
             [opentsdb:http:<name>] (ignored)",
            "exporting.conf:9: section [kinesis:aws]: connector type 'kinesis' is not supported by \
             nanodata (ignored)",
            format!(
                "exporting.conf:11: section [influxdb:i]: unknown connector type 'influxdb' (known: {}) (ignored)",
                ConnectorKind::names().collect::<Vec<_>>().join(", ")
            )
            .as_str(),
            "exporting.conf:13: section [graphite] names a connector type but no instance; write \
             [graphite:<name>] (ignored)",
        ]
    );
}

#[test]
fn a_section_without_keys_is_not_an_instance() {
    // As in Netdata, a connector instance exists once its section has a key.
    let s = settings("[exporting:global]\nenabled = yes\n[graphite:empty]\n[json:j]\nprefix = p\n");
    let i = only(&s);
    assert_eq!(i.name, "j");
    assert!(i.enabled, "inherited from [exporting:global]");
}

#[test]
fn instances_inherit_exporting_global() {
    let s = settings(
        "[exporting:global]\n\
         enabled = yes\nhostname = edge\nupdate every = 30\ndestination = tsdb.lan:4000\n\
         data source = sum\nprefix = fleet\nbuffer on failures = 60\ntimeout ms = 2500\n\
         send names instead of ids = no\nsend charts matching = system.*\nsend hosts matching = *\n\
         send variables = no\nsend configured labels = no\nsend automatic labels = yes\n\
         username = u\npassword = p\nremote write URL path = /api/v1/write\n\
         [opentsdb:a]\nprefix = own\nupdate every = 5\n\
         [opentsdb:b]\nenabled = no\n\
         [prometheus_remote_write:c]\ndestination = vm.lan:8428\n",
    );
    assert!(s.enabled && !s.send_configured_labels && s.send_automatic_labels);
    assert_eq!((s.update_every, s.hostname.as_str()), (30, "edge"));
    let [a, b, c] = &s.instances[..] else { panic!("{:#?}", s.instances) };
    assert!(a.enabled && !b.enabled && c.enabled);
    assert_eq!((a.prefix.as_str(), a.update_every), ("own", 5));
    assert_eq!((b.prefix.as_str(), b.update_every), ("fleet", 30));
    for i in [a, b] {
        assert_eq!(i.destinations, [tcp("tsdb.lan", 4000, false)]);
    }
    assert_eq!(c.destinations, [tcp("vm.lan", 8428, false)]);
    for i in [a, b, c] {
        assert_eq!(i.hostname, "edge");
        assert_eq!((i.data_source, i.buffer_on_failures, i.timeout_ms), (DataSource::Sum, 60, 2500));
        assert!(!i.send_names_instead_of_ids && !i.send_variables);
        assert!(!i.send_configured_labels && i.send_automatic_labels);
        assert_eq!(i.send_charts_matching, SimplePattern::parse("system.*"));
        assert_eq!(i.send_hosts_matching, SimplePattern::parse("*"));
        assert_eq!((i.username.as_str(), i.password.as_str()), ("u", "p"));
        assert_eq!(i.remote_write_url_path, "/api/v1/write");
    }
    assert_eq!(s.enabled_instances().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["a", "c"]);
}

#[test]
fn an_instance_that_says_enabled_runs_even_when_global_is_off() {
    // Netdata 1.37 reads [exporting:global] enabled only as the instances' default.
    let s = settings("[exporting:global]\nenabled = no\n[json:j]\nenabled = yes\n[json:k]\nprefix = k\n");
    assert!(!s.enabled);
    assert_eq!(s.enabled_instances().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["j"]);
}

#[test]
fn data_source_spellings_in_a_section() {
    for (text, source) in [
        ("average", DataSource::Average),
        ("sum", DataSource::Sum),
        ("volume", DataSource::Sum),
        ("as collected", DataSource::AsCollected),
        ("as-collected", DataSource::AsCollected),
        ("as_collected", DataSource::AsCollected),
        ("ascollected", DataSource::AsCollected),
        ("raw", DataSource::AsCollected),
    ] {
        let (s, diags) = parse(&format!("[graphite:g]\ndata source = {text}\n"), "");
        assert!(diags.is_empty(), "{text}: {diags:?}");
        assert_eq!(only(&s).data_source, source, "{text}");
    }
}

#[test]
fn destinations_with_failover_lists() {
    let (s, _) = parse(
        "[graphite:g]\nenabled = yes\n\
         destination = tcp:10.0.0.1:2004 backup.lan [::1] udp:10.0.0.2 host:99999 unix:/run/carbon.sock\n",
        "",
    );
    let i = only(&s);
    assert!(i.enabled);
    assert_eq!(
        i.destinations,
        [
            tcp("10.0.0.1", 2004, false),
            tcp("backup.lan", 2003, false),
            tcp("::1", 2003, false),
            Destination { endpoint: Endpoint::Unix("/run/carbon.sock".into()), tls: false },
        ]
    );
    // :https: every destination uses TLS, and a unix socket cannot.
    let s = settings("[json:https:j]\ndestination = a.lan b.lan:9000 unix:/x\n");
    assert_eq!(only(&s).destinations, [tcp("a.lan", 5448, true), tcp("b.lan", 9000, true)]);
    // Nothing valid: an enabled instance cannot run.
    let s = settings("[graphite:g]\nenabled = yes\ndestination = udp:1.2.3.4 [::1\n");
    let i = only(&s);
    assert!(i.destinations.is_empty() && !i.enabled);
    assert_eq!(s.enabled_instances().count(), 0);
}

#[test]
fn bad_values_are_reported_and_fall_back() {
    let (s, diags) = parse(
        "[exporting:global]\ndata source = sum\n\
         [graphite:g]\nupdate every = soon\ndata source = mean\nenabled = maybe\nfoo = 1\n\
         buffer on failures = 99999999\ntimeout ms = 0\n\
         [json:j]\nupdate every = 0\nbuffer on failures = -5\ntimeout ms = 99999999999\n",
        "",
    );
    assert_eq!(
        warnings(&diags),
        [
            "exporting.conf:4: invalid value 'soon' for 'update every' in section [graphite:g] (not a valid \
             value; expected seconds, or a duration like 30s, 5m, 1h); using [exporting:global]'s value or \
             the default '10'",
            "exporting.conf:5: invalid value 'mean' for 'data source' in section [graphite:g] (expected one \
             of average|sum|volume|as collected|as-collected|as_collected|ascollected|raw); using \
             [exporting:global]'s value or the default 'average'",
            "exporting.conf:6: invalid value 'maybe' for 'enabled' in section [graphite:g] (not a valid value; \
             expected yes or no); using [exporting:global]'s value or the default 'no'",
            "exporting.conf:7: unknown key 'foo' in section [graphite:g] (ignored)",
        ]
    );
    let [g, j] = &s.instances[..] else { panic!("{:#?}", s.instances) };
    assert_eq!(g.update_every, 10);
    assert_eq!(g.data_source, DataSource::Sum, "the global value, not the built-in default");
    assert!(!g.enabled);
    assert_eq!((g.buffer_on_failures, g.timeout_ms), (10_000, 1), "clamped");
    assert_eq!((j.update_every, j.buffer_on_failures, j.timeout_ms), (1, 0, 3_600_000), "clamped");
    let (_, diags) = parse("[exporting:global]\nupdate every = x\n[prometheus:exporter]\nbogus = 1\n", "");
    assert_eq!(warnings(&diags).len(), 2, "{diags:?}");
    assert!(warnings(&diags)[0].contains("using the default '10'"), "{diags:?}");
}

#[test]
fn an_instance_name_is_unique_across_types() {
    let (s, diags) = parse(
        "[graphite:a]\nenabled = yes\n[json:a]\nenabled = yes\nprefix = j\n[graphite:a]\nprefix = g\n",
        "",
    );
    assert_eq!(
        warnings(&diags),
        ["exporting.conf:3: section [json:a]: instance name 'a' is already used by section [graphite:a]; \
          the keys up to the next section are ignored"]
    );
    let i = only(&s);
    assert_eq!((i.type_name.as_str(), i.prefix.as_str()), ("graphite", "g"), "a repeated section merges");
}

#[test]
fn remote_write_path_gets_its_slash() {
    let s = settings("[prometheus_remote_write:vm]\nremote write URL path = api/v1/write\n");
    assert_eq!(only(&s).remote_write_url_path, "/api/v1/write");
}

#[test]
fn backend_section_becomes_one_instance() {
    let netdata = "[backend]\n\tenabled = yes\n\ttype = opentsdb\n\tdestination = tsdb.lan backup.lan:4343\n\
                   \tupdate every = 5\n\tdata source = as collected\n\tprefix = router\n\thostname = r1\n\
                   \tbuffer on failures = 3\n\tsend names instead of ids = no\n\
                   \tsend charts matching = system.*\n\tsend hosts matching = *\n";
    // [backend] has its own defaults: [exporting:global] does not reach it.
    let (s, _) =
        parse("[exporting:global]\nprefix = fleet\nsend automatic labels = yes\ntimeout ms = 1\n", netdata);
    let b = only(&s);
    assert_eq!((b.name.as_str(), b.type_name.as_str()), ("backend", "opentsdb"));
    assert_eq!((b.kind.connector(), b.kind.transport()), (Connector::Opentsdb, Transport::Telnet));
    assert!(b.enabled);
    assert_eq!(b.destinations, [tcp("tsdb.lan", 4242, false), tcp("backup.lan", 4343, false)]);
    assert_eq!((b.update_every, b.timeout_ms), (5, 10_000), "timeout: 2 × update every");
    assert_eq!(b.data_source, DataSource::AsCollected);
    assert_eq!((b.prefix.as_str(), b.hostname.as_str(), b.buffer_on_failures), ("router", "r1", 3));
    assert!(!b.send_names_instead_of_ids);
    assert!(b.send_configured_labels && !b.send_automatic_labels && b.send_variables);
    assert_eq!(b.send_charts_matching, SimplePattern::parse("system.*"));
    assert_eq!(b.send_hosts_matching, SimplePattern::parse("*"));

    // Netdata's backend defaults: graphite to localhost:2003 every 10 s, 20 s timeout.
    let (s, _) = parse("", "[backend]\nenabled = no\n");
    let b = only(&s);
    assert_eq!((b.kind.name(), b.enabled, b.update_every, b.timeout_ms), ("graphite", false, 10, 20_000));
    assert_eq!(b.destinations, [tcp("localhost", 2003, false)]);
    let (s, _) = parse("", "[backend]\ntype = json\ntimeout ms = 1234\n");
    assert_eq!((only(&s).kind.name(), only(&s).timeout_ms), ("json", 1234));
}

#[test]
fn exporting_conf_wins_over_backend() {
    let netdata = "[backend]\nenabled = yes\ntype = graphite\n";
    let (s, _) = parse("[json:backend]\nenabled = yes\n[graphite:other]\nenabled = yes\n", netdata);
    let kinds: Vec<_> = s.instances.iter().map(|i| (i.name.as_str(), i.type_name.as_str())).collect();
    assert_eq!(kinds, [("backend", "json"), ("other", "graphite")]);
    // Both kept otherwise, exporting.conf's first.
    let (s, _) = parse("[graphite:other]\nenabled = yes\n", netdata);
    let names: Vec<_> = s.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["other", "backend"]);
}

#[test]
fn backend_that_cannot_be_an_instance() {
    for netdata in
        ["[backend]\ntype = kinesis\nenabled = yes\n", "[backend]\ntype = influxdb\n", "[backend]\n"]
    {
        assert!(parse("", netdata).0.instances.is_empty(), "{netdata}");
    }
}

#[test]
fn prometheus_exporter_reads_exporting_conf_then_netdata_conf_then_global() {
    let (s, diags) = parse(
        "[exporting:global]\nprefix = g\nsend names instead of ids = no\nsend hosts matching = *\n\
         [prometheus:exporter]\nprefix = p1\nsend automatic labels = yes\n",
        "[prometheus:exporter]\ndata source = volume\nsend timestamps = no\nprefix = p2\nsend names instead of ids = maybe\n",
    );
    assert_eq!(
        warnings(&diags),
        ["exporting.conf:7: 'send automatic labels' in section [prometheus:exporter] is accepted but not \
          used by nanodata; 'yes' has no effect"]
    );
    let p = &s.prometheus;
    assert_eq!((p.prefix.as_str(), p.data_source), ("p1", DataSource::Sum));
    assert!(!p.send_timestamps, "from netdata.conf");
    assert!(!p.send_names_instead_of_ids, "netdata.conf's is invalid: [exporting:global]'s");
    assert!(p.send_automatic_labels);
    assert_eq!(p.send_hosts_matching, SimplePattern::parse("*"));

    // The web server's allmetrics defaults come from here.
    let (x, _) =
        Config::parse(FileKind::Exporting, "[prometheus:exporter]\nprefix = edge\ndata source = raw\n", "x");
    let (n, _) = Config::parse(FileKind::Netdata, "", "n");
    let node = NodeSettings::from_configs(&n, &Config::new(FileKind::Stream), &x);
    if cfg!(feature = "web") {
        assert_eq!(node.web.prometheus.prefix, "edge");
        assert_eq!(node.web.prometheus.data_source, "as collected");
    }
    assert_eq!(node.exporting.prometheus.prefix, "edge");
}

#[test]
fn debug_does_not_show_the_password() {
    let s = settings("[json:http:j]\nusername = me\npassword = hunter2\n");
    let text = format!("{:?}", s);
    assert!(!text.contains("hunter2") && text.contains("<set>") && text.contains("\"me\""), "{text}");
}

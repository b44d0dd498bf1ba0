//! exporting.conf in the dialect: the fixture, the rendering of instances, the shipped file,
//! and `[backend]` of netdata.conf.

use super::*;

#[test]
fn exporting_sample() {
    let (c, diags) = exporting(EXPORTING_CONF);
    assert_eq!(problems(&diags), Vec::<String>::new());
    assert_eq!(
        unused(&diags),
        ["'send hosts matching' in section [prometheus:exporter] is accepted but not used by nanodata; \
          'localhost' has no effect"]
    );
    assert_eq!(
        c.sections().collect::<Vec<_>>(),
        [
            "exporting:global",
            "prometheus:exporter",
            "graphite:carbon",
            "opentsdb:http:tsdb",
            "prometheus_remote_write:https:vm",
            "json:"
        ]
    );
    assert!(c.bool(&EXPORTING_ENABLED));
    assert_eq!(c.text(&EXPORTING_HOSTNAME), "parent-01");
    assert_eq!(c.text(&PROMETHEUS_PREFIX), "edge");
    assert_eq!(c.raw("graphite:carbon", "destination"), Some("10.1.0.5 10.1.0.6:2103"));

    let (n, _) = netdata("");
    let s = settings::ExportingSettings::from_config(&c, &n);
    let names: Vec<_> = s.instances.iter().map(|i| (i.name.as_str(), i.kind.name(), i.enabled)).collect();
    assert_eq!(
        names,
        [
            ("carbon", "graphite", true),
            ("tsdb", "opentsdb:http", false),
            ("vm", "prometheus_remote_write:https", true),
            ("instance_1", "json", true),
        ]
    );
    let ports: Vec<Vec<String>> =
        s.instances.iter().map(|i| i.destinations.iter().map(|d| d.to_string()).collect()).collect();
    assert_eq!(
        ports,
        [
            vec!["10.1.0.5:2003", "10.1.0.6:2103"],
            vec!["tsdb.example.org:4242"],
            vec!["vm.example.org:8428:SSL"],
            vec!["unix:/run/json-sink.sock"],
        ]
    );
    assert!(s.instances.iter().all(|i| i.hostname == "parent-01" && i.send_automatic_labels));
    assert_eq!(s.instances[2].remote_write_url_path, "/api/v1/write");
    assert_eq!((s.instances[2].buffer_on_failures, s.instances[2].timeout_ms), (60, 5000));
    assert_eq!(s.instances[1].password, "s3cret");
    assert!(!s.prometheus.send_timestamps);
}

#[test]
fn exporting_render_shows_what_instances_inherit() {
    let (c, _) = exporting(
        "[exporting:global]\nprefix = fleet\ndata source = bogus\n[graphite:g]\nenabled = yes\n[kinesis:k]\nx = 1\n",
    );
    let r = c.render();
    assert!(r.contains("(exporting.conf dialect)"), "{r}");
    assert!(
        r.contains("[graphite:g]\n\tenabled = yes\n\t# destination = localhost\n\t# data source = average\n\t# prefix = fleet\n"),
        "{r}"
    );
    assert!(r.contains("# not used by nanodata\n[kinesis:k]\n\tx = 1\n"), "{r}");
    assert!(!r.contains(INSTANCE), "templates are not sections: {r}");
    let order: Vec<_> = r.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(order, ["[exporting:global]", "[prometheus:exporter]", "[graphite:g]", "[kinesis:k]"]);

    let (n, diags) = netdata("[backend]\ntype = json\nhost tags = a b\nfoo = 1\n");
    assert_eq!(
        warnings(&diags),
        [
            "t.conf:3: 'host tags' in section [backend] is accepted but not used by nanodata; 'a b' has no effect",
            "t.conf:4: unknown key 'foo' in section [backend] (ignored)",
        ]
    );
    assert!(n.render().contains("[backend]\n\t# enabled = no\n\ttype = json\n"), "{}", n.render());
}

#[test]
fn shipped_exporting_conf_exports_nothing_and_documents_valid_values() {
    let text = include_str!("../../../conf.d/exporting.conf");
    let (c, diags) = exporting(text);
    assert!(diags.is_empty(), "{diags:?}");
    let (n, _) = netdata("");
    assert_eq!(settings::ExportingSettings::from_config(&c, &n), settings::ExportingSettings::default());
    // Every commented option, uncommented, is valid and leaves each instance disabled.
    let uncommented: String = text
        .lines()
        .map(|l| match (l.strip_prefix("#["), l.strip_prefix("\t# ")) {
            (Some(_), _) => &l[1..],
            (_, Some(option)) if option.contains(" = ") || option.ends_with(" =") => option,
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let (c, diags) = exporting(&uncommented);
    assert_eq!(problems(&diags), Vec::<String>::new(), "{uncommented}");
    let s = settings::ExportingSettings::from_config(&c, &n);
    let names: Vec<_> = s.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["carbon", "tsdb", "vm", "sink"]);
    assert_eq!(s.enabled_instances().count(), 0);
    assert_eq!(s.instances[0].destinations.len(), 2);
}

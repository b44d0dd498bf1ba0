//! `/api/v1/badge.svg` over sockets: a chart badge shows what `/api/v1/data` answers for the
//! same window and options; an alarm badge (a `health.d` file in the node's own directory)
//! changes colour with the alarm's status; `allow badges from` (with `allow dashboard
//! from`, as in Netdata 1.37) and listeners' `=badges` decide who gets them; and, with the
//! real Netdata 1.37 installed, the same badge URLs against a Netdata child and against a
//! nanodata parent it streams to show the same texts and colours.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::netdata::{free_port, http_get, ChildOptions, NetdataChild, API_KEY};
use common::{require, wait_until, Dep, Node, Run};

const LIMIT: Duration = Duration::from_secs(40);
const FORBIDDEN: &str = "You are not allowed to access this resource.";

/// An HTTP answer: status, head, body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

fn fetch(port: u16, path: &str) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("{path}: no head in {text:?}"));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Answer { status, head: head.to_owned(), body: body.to_owned() }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// What a badge shows.
#[derive(Clone, Debug, PartialEq)]
struct Shown {
    label: String,
    value: String,
    label_fill: String,
    value_fill: String,
    label_text_fill: String,
    value_text_fill: String,
    height: String,
    font_size: String,
}

/// The attribute `name` of the first element in `svg` that starts with `start`.
fn attr(svg: &str, start: &str, name: &str) -> String {
    let at = svg.find(start).unwrap_or_else(|| panic!("no {start} in {svg}"));
    let el = &svg[at..at + svg[at..].find('>').unwrap()];
    let key = format!(" {name}=\"");
    let from = el.find(&key).unwrap_or_else(|| panic!("no {name} in {el}")) + key.len();
    el[from..from + el[from..].find('"').unwrap()].to_owned()
}

/// The text of the last `<text class="CLASS"` element (the one drawn over its shadow).
fn text(svg: &str, class: &str) -> String {
    let marker = format!("<text class=\"{class}\"");
    let at = svg.rfind(&marker).unwrap_or_else(|| panic!("no {class} in {svg}"));
    let from = at + svg[at..].find('>').unwrap() + 1;
    svg[from..from + svg[from..].find("</text>").unwrap()].to_owned()
}

fn shown(svg: &str) -> Shown {
    let last = |class: &str| {
        let marker = format!("<text class=\"{class}\"");
        let at = svg.rfind(&marker).unwrap();
        attr(&svg[at..], &marker, "fill")
    };
    Shown {
        label: text(svg, "bdge-lbl-lbl"),
        value: text(svg, "bdge-lbl-val"),
        label_fill: attr(svg, "<rect class=\"bdge-rect-lbl\"", "fill"),
        value_fill: attr(svg, "<rect class=\"bdge-rect-val\"", "fill"),
        label_text_fill: last("bdge-lbl-lbl"),
        value_text_fill: last("bdge-lbl-val"),
        height: attr(svg, "<svg", "height"),
        font_size: attr(svg, "<g text-anchor", "font-size"),
    }
}

fn badge(port: u16, query: &str) -> Shown {
    let a = fetch(port, &format!("/api/v1/badge.svg?{query}"));
    assert_eq!(a.status, 200, "{query}: {}", a.body);
    assert_eq!(header(&a.head, "Content-Type"), Some("image/svg+xml"), "{query}");
    shown(&a.body)
}

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A node with a plugin chart `test.bval` (dimension `v` read from the file `value`, `w`
/// the second of the minute modulo 7) and the alarm `bval_level` on it.
fn node_with_plugin(name: &str, port: u16) -> (Node, Run) {
    let node = Node::new(name, "ram");
    let plugins = node.dir.join("plugins.d");
    let health = node.dir.join("health.d");
    let stock = node.dir.join("stock-health.d");
    for d in [&plugins, &health, &stock] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(node.dir.join("value"), "1\n").unwrap();
    write_exec(
        &plugins.join("bval.plugin"),
        &format!(
            "#!/bin/sh\necho \"CHART test.bval '' 'Badge value' 'things' 'bfam' 'test.bctx' line 1 1\"\n\
             echo \"DIMENSION v '' absolute 1 1\"\necho \"DIMENSION w '' absolute 1 1\"\n\
             while :; do v=$(cat '{}' 2>/dev/null || echo 0)\n  echo 'BEGIN test.bval'; echo \"SET v = $v\"; echo \"SET w = $(( $(date +%s) % 7 ))\"; echo END\n  sleep 1\ndone\n",
            node.dir.join("value").display()
        ),
    );
    std::fs::write(
        health.join("badges.conf"),
        "alarm: bval_level\n   on: test.bval\n lookup: max -3s unaligned of v\n every: 1s\n  warn: $this > 5\n  crit: $this > 50\n units: things\n",
    )
    .unwrap();
    node.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{port}\n\
         [health]\n\tenabled = yes\n\tscript to execute on alarm = /bin/true\n\
         [directories]\n\tplugins = {}\n\thealth config = {}\n\tstock health config = {}\n",
        plugins.display(),
        health.display(),
        stock.display()
    ));
    let run = node.start_ready(&[]);
    (node, run)
}

/// The newest stored second of `chart`.
fn last_entry(port: u16, chart: &str) -> Option<i64> {
    let csv = http_get(port, &format!("/api/v1/data?chart={chart}&after=-5&format=csv&options=seconds"))?;
    csv.lines().nth(1)?.split(',').next()?.parse().ok()
}

#[test]
fn a_chart_badge_shows_what_the_data_api_answers() {
    let port = free_port();
    let (_node, run) = node_with_plugin("badges-data", port);
    wait_until("15 s of test.bval and system.cpu", LIMIT, &[&run], || {
        let rows = |c: &str| {
            http_get(port, &format!("/api/v1/data?chart={c}&after=-20&format=csv"))
                .map_or(0, |b| b.lines().count())
        };
        rows("test.bval") > 15 && rows("system.cpu") > 15
    });
    let mut last = None;
    wait_until("the last point of system.cpu", LIMIT, &[&run], || {
        last = last_entry(port, "system.cpu");
        last.is_some()
    });
    let before = last.unwrap_or_default() - 2;
    let after = before - 9;
    let window = format!("after={after}&before={before}");
    for (chart, params) in [
        ("system.cpu", ""),
        ("system.cpu", "&group=max"),
        ("system.cpu", "&group=min&points=3"),
        ("system.cpu", "&points=2&group=sum"),
        ("system.cpu", "&dimension=user&dimension=system"),
        ("system.cpu", "&dimension=user&options=percentage"),
        ("system.cpu", "&options=unaligned"),
        ("test.bval", ""),
        ("test.bval", "&dimension=w&group=max"),
        ("test.bval", "&options=percentage&dimension=w"),
    ] {
        // The badge's default is one point for the window.
        let data =
            http_get(port, &format!("/api/v1/data?chart={chart}&{window}&format=ssv&points=1{params}"))
                .unwrap_or_else(|| panic!("{chart} {params}: no data"));
        // `ssv` lists each row's value (its dimensions summed), newest first.
        let newest: f64 = data.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
        let s = badge(port, &format!("chart={chart}&{window}{params}&units=empty&precision=4"));
        // The data API prints 7 significant digits: the badge's 4 decimals may round the
        // unrounded value the other way.
        let want = if newest.is_nan() { "-".to_string() } else { format!("{newest:.4}") };
        assert!(same_value(&s.value, &want), "{chart} {params}: badge {:?}, data answered {data:?}", s.value);
        assert_eq!(s.value_fill, if newest.is_nan() { "#999" } else { "#4c1" });
    }

    // Defaults: the chart's name and units, the last point.
    let s = badge(port, &format!("chart=test.bval&{window}"));
    assert_eq!(s.label, "test.bval");
    assert!(s.value.ends_with(" things"), "{s:?}");
    let s = badge(port, "chart=test.bval&dimension=v&label=level&value_color=red>5|green");
    assert_eq!((s.label.as_str(), s.value.as_str(), s.value_fill.as_str()), ("level", "1 things", "#97CA00"));
    let s = badge(port, "chart=test.bval&dimension=v&multiply=30&divide=4&units=%25&precision=1&scale=200");
    assert_eq!((s.value.as_str(), s.height.as_str(), s.font_size.as_str()), ("7.5%", "40.00", "22.00"));

    // Not found: a badge saying so; no chart: 400.
    let s = badge(port, "chart=no.such&label=x");
    assert_eq!((s.label.as_str(), s.value.as_str(), s.value_fill.as_str()), ("chart not found", "-", "#999"));
    let a = fetch(port, "/api/v1/badge.svg?label=x");
    assert_eq!((a.status, a.body.trim()), (400, "No chart id is given at the request."));

    // Refresh: the window for `auto`, else the number; `Expires` that far ahead.
    let a = fetch(port, "/api/v1/badge.svg?chart=system.cpu&after=-10&refresh=auto");
    assert_eq!(header(&a.head, "Refresh"), Some("10"), "{}", a.head);
    assert!(header(&a.head, "Expires").is_some_and(|e| e.ends_with(" GMT")), "{}", a.head);
    let a = fetch(port, "/api/v1/badge.svg?chart=system.cpu&refresh=5");
    assert_eq!(header(&a.head, "Refresh"), Some("5"));
    let a = fetch(port, "/api/v1/badge.svg?chart=system.cpu");
    assert_eq!((header(&a.head, "Refresh"), header(&a.head, "Pragma")), (None, Some("no-cache")));
    assert_eq!(header(&a.head, "Cache-Control"), Some("no-cache, no-store, must-revalidate"));
}

#[test]
fn an_alarm_badge_changes_colour_with_the_status() {
    let port = free_port();
    let (node, run) = node_with_plugin("badges-alarm", port);
    let q = "chart=test.bval&alarm=bval_level";
    let expect = |value: &str, colour: &str, what: &str| {
        let start = Instant::now();
        loop {
            let s = badge(port, q);
            if s.label == "bval level" && s.value == value && s.value_fill == colour {
                return;
            }
            assert!(
                start.elapsed() < LIMIT,
                "{what}: the badge shows {s:?}; alarms: {}\nlog:\n{}",
                http_get(port, "/api/v1/alarms?all").unwrap_or_default(),
                run.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    expect("1 things", "#4c1", "CLEAR: bright green");
    std::fs::write(node.dir.join("value"), "10\n").unwrap();
    expect("10 things", "#fe7d37", "WARNING: orange");
    std::fs::write(node.dir.join("value"), "100\n").unwrap();
    expect("100 things", "#e05d44", "CRITICAL: red");
    // The value colour of the request wins over the status; `refresh=auto` is the `every`.
    let s = badge(port, &format!("{q}&value_color=blue&label=Level"));
    assert_eq!((s.label.as_str(), s.value_fill.as_str()), ("Level", "#007ec6"));
    let a = fetch(port, &format!("/api/v1/badge.svg?{q}&refresh=auto"));
    assert_eq!(header(&a.head, "Refresh"), Some("1"), "{}", a.head);
    assert_eq!(header(&a.head, "Cache-Control"), Some("public"), "{}", a.head);
    let s = badge(port, "chart=test.bval&alarm=no_such_alarm");
    assert_eq!((s.label.as_str(), s.value.as_str()), ("alarm not found", "-"));
}

#[test]
fn allow_badges_from_and_the_listeners_acl_decide_who_gets_badges() {
    let (open, badges_only) = (free_port(), free_port());
    // The dashboard is refused to 127.0.0.1; badges are not.
    let node = Node::new("badges-acl", "ram");
    node.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{open} 127.0.0.1:{badges_only}=badges\n\
         \tallow dashboard from = 10.*\n\tallow badges from = localhost\n"
    ));
    let run = node.start_ready(&[]);
    wait_until("system.cpu", LIMIT, &[&run], || {
        fetch(open, "/api/v1/badge.svg?chart=system.cpu").body.contains("system.cpu")
    });
    for port in [open, badges_only] {
        let a = fetch(port, "/api/v1/badge.svg?chart=system.cpu");
        assert_eq!(a.status, 200, "{port}: {}", a.body);
        let a = fetch(port, "/api/v1/info");
        assert_eq!((a.status, a.body.trim()), (403, FORBIDDEN), "{port}");
    }
    drop(run);

    // `allow badges from` refuses 127.0.0.1 and so does `allow dashboard from`: 403, as
    // Netdata answers. (Netdata 1.37 lets a client through under either permission, so
    // refusing badges alone refuses nothing to a client that may see the dashboard.)
    let port = free_port();
    let node = Node::new("badges-refused", "ram");
    node.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{port}\n\tallow dashboard from = 10.*\n\tallow badges from = !127.0.0.1 *\n"
    ));
    let run = node.start_ready(&[]);
    for path in [
        "/api/v1/badge.svg?chart=system.cpu",
        "/api/v1/badge.svg",
        "/host/it-badges-refused/api/v1/badge.svg?chart=system.cpu",
    ] {
        let a = fetch(port, path);
        assert_eq!((a.status, a.body.trim()), (403, FORBIDDEN), "{path}; log:\n{}", run.log());
    }
}

// ---- against the real Netdata 1.37 ----

/// Alarms with constant values (the same on both sides whenever they run).
const CONST_ALARMS: &str = "\
alarm: badge_clear\n   on: system.cpu\n calc: 0\n every: 1s\n  warn: $this > 1\n units: things\n\n\
alarm: badge_warn\n   on: system.cpu\n calc: 42\n every: 1s\n  warn: $this > 1\n  crit: $this > 100\n units: things\n\n\
alarm: badge_crit\n   on: system.cpu\n calc: 7.25\n every: 1s\n  warn: $this > 1\n  crit: $this > 5\n units: s\n";

/// Two value texts are the same number when they differ by at most one unit of their last
/// digit (the two databases may round a stored value apart by a hair).
fn same_value(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let num = |s: &str| -> Option<(f64, f64, String)> {
        let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(s.len());
        let n: f64 = s[..end].parse().ok()?;
        let decimals = s[..end].split_once('.').map_or(0, |(_, d)| d.len());
        Some((n, 10f64.powi(-(decimals as i32)), s[end..].to_owned()))
    };
    match (num(a), num(b)) {
        (Some((x, ux, rest_a)), Some((y, uy, rest_b))) => {
            rest_a == rest_b && (x - y).abs() <= ux.max(uy) * 1.000_001
        }
        _ => false,
    }
}

#[test]
fn the_same_badges_as_netdata_for_a_streamed_child() {
    if !require(Dep::Netdata, "the side-by-side badge test runs the real Netdata 1.37 as the child") {
        return;
    }
    let port = free_port();
    let parent = Node::new("badges-parent", "ram");
    let health = parent.dir.join("health.d");
    let stock = parent.dir.join("stock-health.d");
    std::fs::create_dir_all(&health).unwrap();
    std::fs::create_dir_all(&stock).unwrap();
    std::fs::write(health.join("badges.conf"), CONST_ALARMS).unwrap();
    parent.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{port}\n\
         [health]\n\tenabled = yes\n\tscript to execute on alarm = /bin/true\n\
         [directories]\n\thealth config = {}\n\tstock health config = {}\n",
        health.display(),
        stock.display()
    ));
    parent.write_stream_conf(&format!(
        "[{API_KEY}]\n\tenabled = yes\n\tdefault memory mode = ram\n\tdefault history = 3600\n\
         \thealth enabled by default = yes\n\tdefault postpone alarms on connect seconds = 0\n"
    ));
    let run = parent.start_ready(&[]);

    let child_port = free_port();
    let base = std::env::temp_dir().join(format!("nanodata-badges-child-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(base.join("etc/health.d")).unwrap();
    std::fs::write(base.join("etc/health.d/badges.conf"), CONST_ALARMS).unwrap();
    let host = "ndbadges";
    let mut child = NetdataChild::start(
        &base,
        ChildOptions {
            hostname: host.into(),
            destination: format!("127.0.0.1:{port}"),
            api_key: API_KEY.into(),
            compression: true,
            memory_mode: "ram".into(),
            web_port: Some(child_port),
            health: true,
        },
    );
    let nd = |q: &str| badge(child_port, q);
    let ours = |q: &str| {
        let a = fetch(port, &format!("/host/{host}/api/v1/badge.svg?{q}"));
        assert_eq!(a.status, 200, "{q}: {}", a.body);
        shown(&a.body)
    };

    // 20 s of streamed data on the parent, and the constant alarms run on both sides.
    let start = Instant::now();
    wait_until("20 s of the child's system.cpu on the parent", Duration::from_secs(90), &[&run], || {
        http_get(port, &format!("/host/{host}/api/v1/data?chart=system.cpu&after=-30&format=csv"))
            .is_some_and(|b| b.lines().count() > 20)
    });
    let limit = Duration::from_secs(60);
    wait_until("the constant alarms on both sides", limit, &[&run], || {
        ["badge_clear", "badge_warn", "badge_crit"].iter().all(|a| {
            let q = format!("chart=system.cpu&alarm={a}");
            let (n, o) = (nd(&q), ours(&q));
            n.value != "-" && n == o
        })
    });
    // `unaligned`: Netdata 1.37 moves a window of several points per group to end on a
    // multiple of the group's length (even in the future); nanodata's query engine does not.
    let mut last = None;
    wait_until("the child's own system.cpu", LIMIT, &[&run], || {
        last = last_entry(child_port, "system.cpu");
        last.is_some()
    });
    let before = last.unwrap_or_default() - 3;
    let window = format!("after={}&before={before}&options=unaligned", before - 9);
    let mut checked = 0;
    for q in [
        format!("chart=system.cpu&{window}"),
        format!("chart=system.cpu&{window}&group=max&precision=3"),
        // (Several points of several slots each are grouped differently: Netdata 1.37 makes
        // groups of window ÷ points slots from the newest end, dropping the oldest rest.)
        format!("chart=system.cpu&{window}&group=min&points=10"),
        format!("chart=system.cpu&after={}&before={before}&points=0", before - 9),
        format!("chart=system.cpu&{window}&dimension=user&dimension=system"),
        format!("chart=system.cpu&{window}|percentage&dimensions=user,system&label=us"),
        format!("chart=system.cpu&{window}&label=CPU&value_color=red>50|yellow>1|green&text_color_lbl=blue"),
        format!("chart=system.cpu&{window}&multiply=10&divide=3&units=seconds"),
        format!("chart=system.cpu&{window}&units=pcent&precision=0&scale=150&label_color=orange"),
        format!("chart=system.cpu&{window}&fixed_width_lbl=80&fixed_width_val=40&value_color=0af"),
        // (On a chart updated every 5 s a several-slot window also differs: not compared.)
        format!("chart=system.load&after={}&before={before}&points=0&dimension=load1", before - 9),
        format!("chart=system.ram&{window}"),
        format!("chart=system.uptime&{window}"),
        format!("chart=system.uptime&{window}&units=on/off"),
        "chart=system.cpu&dimension=no_such&label=x".to_string(),
        "chart=no.such.chart".to_string(),
        "chart=system.cpu&alarm=no_such_alarm".to_string(),
        "chart=system.cpu&alarm=badge_clear".to_string(),
        "chart=system.cpu&alarm=badge_warn&precision=2".to_string(),
        "chart=system.cpu&alarm=badge_crit&label=c".to_string(),
        "chart=system.cpu&alarm=badge_warn&value_color=blue".to_string(),
    ] {
        let (n, o) = (nd(&q), ours(&q));
        let same = n.label == o.label
            && same_value(&n.value, &o.value)
            && Shown { value: n.value.clone(), ..o.clone() } == n;
        if !same {
            let data = |p: u16, prefix: &str| {
                let chart = q.split('&').find_map(|kv| kv.strip_prefix("chart=")).unwrap_or("");
                http_get(
                    p,
                    &format!("{prefix}/api/v1/data?chart={chart}&{window}&format=csv&options=seconds"),
                )
                .unwrap_or_default()
            };
            panic!(
                "{q}:\n  Netdata  {n:?}\n  nanodata {o:?}\nNetdata's data:\n{}\nnanodata's data:\n{}",
                data(child_port, ""),
                data(port, &format!("/host/{host}"))
            );
        }
        checked += 1;
    }
    // Headers: refresh from the window or the alarm's every; kept or not.
    for q in [
        format!("chart=system.cpu&{window}&refresh=auto"),
        "chart=system.cpu&after=-10&refresh=5".into(),
        "chart=system.cpu&alarm=badge_warn&refresh=auto".into(),
        "chart=system.cpu&alarm=badge_warn".into(),
    ] {
        let n = fetch(child_port, &format!("/api/v1/badge.svg?{q}"));
        let o = fetch(port, &format!("/host/{host}/api/v1/badge.svg?{q}"));
        assert_eq!(header(&o.head, "Refresh"), header(&n.head, "Refresh"), "{q}");
        assert_eq!(header(&o.head, "Cache-Control"), header(&n.head, "Cache-Control"), "{q}");
        assert_eq!(header(&o.head, "Pragma"), header(&n.head, "Pragma"), "{q}");
        assert_eq!(header(&o.head, "Content-Type"), header(&n.head, "Content-Type"), "{q}");
    }
    let (n, o) =
        (fetch(child_port, "/api/v1/badge.svg"), fetch(port, &format!("/host/{host}/api/v1/badge.svg")));
    assert_eq!((o.status, o.body.trim()), (n.status, n.body.trim()));
    eprintln!("{checked} badges the same on Netdata and nanodata after {:?}", start.elapsed());
    child.stop();
    let _ = std::fs::remove_dir_all(&base);
}

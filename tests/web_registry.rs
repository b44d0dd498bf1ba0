//! `/api/v1/registry`: the actions Netdata's dashboard sends (`hello`, `access`, `delete`,
//! `search`, `switch`), answered as Netdata 1.37.1 answers them with its registry off
//! (recorded against Debian's package), for the node and for a child under `/host/<name>/`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use nanodata::config::settings::NodeSettings;
use nanodata::config::{Config, FileKind};
use nanodata::db::MemoryMode;
use nanodata::rrd::{Host, HostSettings, Hosts};
use nanodata::web::{self, WebServer};

const PARENT_GUID: &str = "03096a8c-e5fb-11f1-8630-02fc00000001";
const CHILD_GUID: &str = "08beed44-e5fb-11f1-a5d6-02fc00000001";

/// A web server for a parent and a child `child1`, with extra configuration lines.
struct Server(Option<WebServer>);

impl Server {
    fn start(extra: &str) -> Server {
        let text =
            format!("[web]\n\tbind to = 127.0.0.1:0\n{extra}\n[directories]\n\tconfig = /nonexistent\n");
        let (cfg, _) = Config::parse(FileKind::Netdata, &text, "test");
        let settings = HostSettings {
            mode: MemoryMode::Ram,
            history: 60,
            update_every: 1,
            cache_dir: std::env::temp_dir(),
            gap_when_lost_iterations_above: 1,
            replication_window: 0,
            tiers: None,
        };
        let hosts = Arc::new(Hosts::new(Host::new(PARENT_GUID, "parent", settings.clone())));
        hosts.add(Host::new(CHILD_GUID, "child1", settings));
        let node = NodeSettings::from_config(&cfg, &Config::new(FileKind::Stream));
        Server(Some(web::start(node.web, hosts).expect("web server started")))
    }

    /// Status and body of a GET.
    fn get(&self, target: &str) -> Reply {
        let addr = self.0.as_ref().unwrap().local_addrs()[0];
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
        let mut all = Vec::new();
        let _ = s.read_to_end(&mut all);
        let text = String::from_utf8_lossy(&all).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("a response");
        Reply {
            status: head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0),
            body: body.to_owned(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(w) = self.0.take() {
            w.stop();
        }
    }
}

struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    fn text(&self) -> &str {
        &self.body
    }
}

/// The registry answers recorded from Netdata 1.37.1 with `[registry] enabled = no`
/// (`/api/v1/registry?action=…` against the Debian package), with nanodata's two
/// documented differences: no global registry is announced unless configured, and a
/// disabled action has no `registry` to redirect the dashboard to.
#[test]
fn registry_actions_answer_as_netdata_with_its_registry_off() {
    let srv = Server::start("");
    let r = srv.get("/api/v1/registry?action=hello");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        format!("{{\n\t\"action\": \"hello\",\n\t\"status\": \"ok\",\n\t\"hostname\": \"parent\",\n\t\"machine_guid\": \"{PARENT_GUID}\",\n\t\"registry\": \"\",\n\t\"cloud_base_url\": \"https://app.netdata.cloud\",\n\t\"anonymous_statistics\": false\n}}\n")
    );
    // A child's hello names the child.
    let r = srv.get("/host/child1/api/v1/registry?action=hello");
    assert!(
        r.text().contains(&format!("\"hostname\": \"child1\",\n\t\"machine_guid\": \"{CHILD_GUID}\"")),
        "{}",
        r.text()
    );
    for (q, action) in [
        ("action=access&machine=m&name=n&url=u", "access"),
        ("action=delete&machine=m&url=u&delete_url=d", "delete"),
        ("action=search&machine=m&url=u&for=f", "search"),
        ("action=switch&machine=m&url=u&to=t", "switch"),
    ] {
        let r = srv.get(&format!("/api/v1/registry?{q}"));
        assert_eq!(r.status, 200, "{q}");
        assert_eq!(
            r.text(),
            format!("{{\n\t\"action\": \"{action}\",\n\t\"status\": \"disabled\",\n\t\"hostname\": \"parent\",\n\t\"machine_guid\": \"{PARENT_GUID}\"\n}}\n"),
            "{q}"
        );
    }
    for (q, msg) in [
        ("action=access&machine=m&url=u", "Invalid registry Access request."),
        ("action=access&machine=&name=n&url=u", "Invalid registry Access request."),
        ("action=delete&machine=m&url=u", "Invalid registry Delete request."),
        ("action=search&machine=m&url=u", "Invalid registry Search request."),
        ("action=switch&machine=m&url=u", "Invalid registry Switch request."),
        (
            "action=HELLO",
            "Invalid registry request - you need to set an action: hello, access, delete, search",
        ),
        ("", "Invalid registry request - you need to set an action: hello, access, delete, search"),
    ] {
        let r = srv.get(&format!("/api/v1/registry?{q}"));
        assert_eq!((r.status, r.text().trim_end()), (400, msg), "{q}");
    }
    // A registry set in the configuration is announced, as Netdata does.
    let own = Server::start("[registry]\n\tregistry to announce = http://reg.example:19999\n[web]\n");
    let r = own.get("/api/v1/registry?action=access&machine=m&name=n&url=u");
    assert!(r.text().contains("\"registry\": \"http://reg.example:19999\"\n}"), "{}", r.text());
    assert!(own
        .get("/api/v1/registry?action=hello")
        .text()
        .contains("\"registry\": \"http://reg.example:19999\""));
}

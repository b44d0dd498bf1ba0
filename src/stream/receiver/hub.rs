//! The streaming hub, the parent side of streaming that the web event loop drives: a
//! `STREAM` request on the web port is checked and answered here, and the connection then
//! carries the child's stream.
//!
//! This module owns what the receivers share — `stream.conf` (typed, as
//! [`ParentSettings`]), the rate limit, which GUID is attached to which connection, the
//! orphan-host timer, the proxy senders — and turns a request head into a [`Upgrade`]. The
//! socket work (reading, TLS, writing the reply) stays in the web server; the per-child
//! stream logic is [`super::Receiver`].
//!
//! Guarantees: one receiver per machine GUID (a second gets Netdata's "already streaming"
//! reply unless the first was silent for [`access::STALE_AFTER`] seconds); our own GUID is
//! refused; every refusal is logged with its `Forbidding access` reason and in the access
//! log; a disconnected child's host stays readable until `[db] cleanup orphan hosts after
//! secs` have passed, checked by a timer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::charts::ChildCharts;
use super::{access, negotiate, request, Decision, Receiver, ReceiverLimits};
use crate::config::settings::ParentSettings;
use crate::db::MemoryMode;
use crate::rrd::{ChildStatus, HealthPolicy, Host, HostSettings, Hosts};
use crate::stream::handshake::{REPLY_ALREADY, REPLY_BUSY, REPLY_LOCALHOST, REPLY_NOT_ALLOWED};

/// A stream connection silent for this long is closed (children send every second).
pub const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// How often the orphan-host timer looks at the hosts.
const CLEANUP_EVERY: i64 = 1;

/// What the receivers share.
pub struct Streaming {
    settings: ParentSettings,
    last_accepted: Option<i64>,
    limits: ReceiverLimits,
    /// The receiver attached to each GUID.
    active: HashMap<Uuid, Active>,
    /// Children streamed onward (proxy), by GUID.
    senders: HashMap<Uuid, crate::stream::Sender>,
    last_cleanup: i64,
    /// The connection chart of each child, on localhost.
    charts: ChildCharts,
}

/// A connected child.
#[derive(Clone, Copy, Debug)]
pub struct Active {
    /// The server's connection id and slot.
    pub conn_id: u64,
    pub slot: usize,
    /// When data last arrived (unix seconds).
    pub last_data: i64,
}

/// The outcome of a STREAM request head.
pub enum Upgrade {
    /// More bytes are needed.
    Incomplete,
    /// Not a request that can be answered: close without a reply (logged).
    Close,
    /// Write `reply` alone, then close.
    Refuse { reply: &'static str, status: u16 },
    /// Write `reply` alone; from `head_len` on, the connection is the child's stream.
    Accept(Box<Accepted>),
}

/// An accepted child.
pub struct Accepted {
    pub head_len: usize,
    pub reply: String,
    pub receiver: Receiver,
    pub guid: Uuid,
    /// The log prefix: `STREAM <hostname> [receive from [IP]:PORT]`.
    pub name: String,
    /// A stale receiver of the same GUID to close first.
    pub replaces: Option<Active>,
}

impl Streaming {
    /// The hub of a parent configured by `settings`.
    pub fn new(settings: ParentSettings) -> Streaming {
        Streaming {
            limits: limits(&settings),
            settings,
            last_accepted: None,
            active: HashMap::new(),
            senders: HashMap::new(),
            last_cleanup: 0,
            charts: ChildCharts::default(),
        }
    }

    /// Answers the STREAM head at the start of `buf` from `peer`. `listener_allows` is the
    /// listening address's `streaming` permission (`[web] bind to`).
    pub fn upgrade(
        &mut self,
        hosts: &Hosts,
        buf: &[u8],
        peer: SocketAddr,
        listener_allows: bool,
        now: i64,
    ) -> Upgrade {
        let ip = peer.ip().to_canonical();
        let prefix = format!("STREAM [receive from [{ip}]:{}]", peer.port());
        let parsed = match request::parse(buf) {
            Ok(Some(p)) => p,
            Ok(None) => return Upgrade::Incomplete,
            Err(e) => {
                log::info!("{prefix}: new client connection.");
                log::info!("{prefix}: {e}; closing.");
                return Upgrade::Close;
            }
        };
        // The words of Netdata's streaming guide, for every complete STREAM request.
        log::info!("{prefix}: new client connection.");
        let ip_text = ip.to_string();
        let pattern = &self.settings.allow_streaming;
        let allow = |_: &str| listener_allows && (pattern.is_empty() || pattern.matches_ip(ip));
        let active = &self.active;
        let last_activity = |g: &Uuid| active.get(g).map(|a| a.last_data);
        let ctx = access::Context {
            client_ip: &ip_text,
            client_port: peer.port(),
            stream: &self.settings.conf,
            defaults: &self.settings.defaults,
            allow_streaming: &allow,
            accept_every: self.settings.accept_every,
            last_accepted: self.last_accepted,
            now,
            last_activity: &last_activity,
            our_guid: Uuid::parse_str(hosts.localhost().guid()).unwrap_or_default(),
        };
        let accepted = match access::decide(&parsed.request, &ctx) {
            Decision::Refuse { reply, log } => {
                log::error!("{log}");
                return Upgrade::Refuse { reply, status: status_of(reply) };
            }
            Decision::Accept(a) => a,
        };
        let Ok(req) = parsed.request else { return Upgrade::Close };
        let guid_text = req.machine_guid.hyphenated().to_string();
        let is_new = hosts.find(&guid_text).is_none();
        if is_new {
            if let Err(why) = self.limits.check_hosts(hosts.children()) {
                log::error!("{prefix}: host '{}': {why}. Forbidding access.", req.hostname);
                return Upgrade::Refuse { reply: REPLY_BUSY, status: 503 };
            }
        }
        for (name, value) in &parsed.unknown {
            log::debug!("{prefix}: unknown parameter '{name}' = '{value}' ignored");
        }
        let replaces =
            if accepted.replaces_stale { self.active.get(&req.machine_guid).copied() } else { None };
        self.last_accepted = Some(now);
        log::info!("{}", accepted.log);

        let s = &accepted.settings;
        let mode = s.memory_mode;
        let replication_window = self.settings.replication_window;
        let settings = HostSettings {
            mode,
            history: u32::try_from(s.history.clamp(5, 10_000_000)).unwrap_or(3600),
            update_every: s.update_every,
            cache_dir: self.settings.cache_dir.clone(),
            gap_when_lost_iterations_above: self.settings.gap_when_lost_iterations_above,
            // A headless proxy answers its parent's replication from RAM, as a headless child.
            replication_window: if s.proxy_enabled { replication_window } else { 0 },
            tiers: self.settings.tier_plans.for_mode(mode),
        };
        let host = hosts.add(Host::new(&guid_text, &req.hostname, settings));
        let name = format!("STREAM {} [receive from [{ip}]:{}]", req.hostname, peer.port());
        if is_new {
            // Netdata's thread name (STREAM_RECEIVER[…]) makes `grep STREAM` find this line;
            // the receivers share the web thread here, so the line carries the prefix.
            log::info!("{name}: {}", host_initialized(&host, &req.os, s, &self.settings.lib_dir));
        }
        let status = ChildStatus {
            reachable: true,
            hops: req.hops,
            since: now,
            system_info: req.system_info.clone(),
            program: req.program.clone(),
            program_version: req.program_version.clone(),
            os: req.os.clone(),
            timezone: req.timezone.clone(),
            abbrev_timezone: req.abbrev_timezone.clone(),
            utc_offset: req.utc_offset,
            tags: req.tags.clone(),
        };
        host.set_child_status(status.clone());
        // On every (re)connection: `health enabled`, and a fresh postponement of alarms.
        host.set_health_policy(HealthPolicy::on_connect(
            s.health,
            s.postpone_alarms,
            s.health_log_history,
            now,
        ));
        if !self.senders.contains_key(&req.machine_guid) {
            if let Some(sender) = crate::stream::proxy::start(&self.settings.proxy, &host, &status, s) {
                self.senders.insert(req.machine_guid, sender);
            }
        }
        // A headless proxy keeps a RAM window (like a headless child), so it replicates too:
        // its collection clock then follows the child's, and its parent's gaps are filled.
        let grant = if s.proxy_enabled && mode == MemoryMode::None && replication_window > 0 {
            negotiate::negotiate(req.ver, negotiate::supported(s.compression, s.replication))
        } else {
            negotiate::for_child(req.ver, &accepted.settings)
        };
        log::info!(
            "{name}: client willing to stream metrics for host '{}' with machine_guid '{guid_text}': \
             update every = {}, history = {}, memory mode = {}, health {}",
            req.hostname,
            s.update_every,
            host.settings().history,
            mode.as_str(),
            health_word(s.health)
        );
        log::info!("{name}: initializing communication...");
        log::info!("{name}: established link with negotiated capabilities: {}", grant.caps);
        log::info!("{name}: receiving metrics...");
        let receiver = Receiver::new(host, grant.caps, &accepted.settings, &self.limits, &peer.to_string());
        Upgrade::Accept(Box::new(Accepted {
            head_len: parsed.head_len,
            reply: grant.reply,
            receiver,
            guid: req.machine_guid,
            name,
            replaces,
        }))
    }

    /// A receiver was attached to connection `conn_id` in `slot`.
    pub fn attach(&mut self, guid: Uuid, conn_id: u64, slot: usize, now: i64) {
        self.active.insert(guid, Active { conn_id, slot, last_data: now });
    }

    /// Data arrived for `guid`.
    pub fn data(&mut self, guid: &Uuid, now: i64) {
        if let Some(a) = self.active.get_mut(guid) {
            a.last_data = now;
        }
    }

    /// The receiver of connection `conn_id` ended.
    pub fn detach(&mut self, guid: &Uuid, conn_id: u64, host: &Host, now: i64) {
        if self.active.get(guid).is_some_and(|a| a.conn_id == conn_id) {
            self.active.remove(guid);
            host.set_reachable(false, now);
        }
    }

    /// Once a second: removes the hosts of children gone for longer than `[db] cleanup
    /// orphan hosts after secs` (their files too, with `[db] delete orphan hosts files`),
    /// then collects each child's connection chart (see [`super::charts`]).
    pub fn cleanup(&mut self, hosts: &Hosts, now: i64) {
        if now - self.last_cleanup < CLEANUP_EVERY {
            return;
        }
        self.last_cleanup = now;
        self.remove_orphans(hosts, now);
        let active = &self.active;
        let last_data =
            |h: &Host| Uuid::parse_str(h.guid()).ok().and_then(|g| active.get(&g)).map(|a| a.last_data);
        self.charts.collect(hosts, &last_data, now);
    }

    fn remove_orphans(&mut self, hosts: &Hosts, now: i64) {
        for host in hosts.all().into_iter().skip(1) {
            let Some(status) = host.child_status() else { continue };
            let cleanup_after = self.settings.cleanup_orphans_after;
            if status.reachable || now.saturating_sub(status.since) < cleanup_after {
                continue;
            }
            if Uuid::parse_str(host.guid()).is_ok_and(|g| self.active.contains_key(&g)) {
                continue;
            }
            log::info!(
                "host '{}' ({}): disconnected for {} s, more than [db] cleanup orphan hosts after secs = {}; removing it",
                host.hostname(),
                host.guid(),
                now - status.since,
                cleanup_after
            );
            hosts.remove(host.guid());
            let sender = Uuid::parse_str(host.guid()).ok().and_then(|g| self.senders.remove(&g));
            let delete = self.settings.delete_orphan_files;
            // Stopping the sender joins its thread, and freeing thousands of charts (their
            // files, their mappings) can take the file system seconds: not in the event loop.
            let _ = crate::sys::thread::spawn("host.free", crate::sys::thread::MEDIUM, move || {
                drop(sender);
                if host.settings().mode.has_files() {
                    if delete {
                        let _ = std::fs::remove_dir_all(host.db_dir());
                    } else if let Err(e) = host.save() {
                        log::error!("host '{}': cannot save its database: {e}", host.hostname());
                    }
                }
                let name = host.hostname().to_owned();
                let last = Arc::strong_count(&host) == 1;
                drop(host);
                if last {
                    crate::rrd::cleanup::give_back_free_memory();
                    log::info!("host '{name}': freed");
                }
            });
        }
    }
}

/// `health auto`, `health enabled`, `health disabled`, as Netdata words a child's health.
fn health_word(health: Option<bool>) -> &'static str {
    match health {
        None => "auto",
        Some(true) => "enabled",
        Some(false) => "disabled",
    }
}

/// The line Netdata's streaming guide quotes when a parent creates a child's host:
/// `Host '…' with guid '…' initialized, os: …, update every: …, memory mode: …, history
/// entries: …, streaming: …, health: …, cache_dir: '…', varlib_dir: '…'`.
fn host_initialized(
    host: &Host,
    os: &str,
    s: &crate::config::settings::ChildSettings,
    lib_dir: &Path,
) -> String {
    let streaming =
        if s.proxy_enabled { format!("enabled (to '{}')", s.proxy_destination) } else { "disabled".into() };
    let settings = host.settings();
    format!(
        "Host '{}' with guid '{}' initialized, os: {}, update every: {}, memory mode: {}, history entries: {}, \
         streaming: {streaming}, health: {}, cache_dir: '{}', varlib_dir: '{}'",
        host.hostname(),
        host.guid(),
        if os.is_empty() { "unknown" } else { os },
        settings.update_every,
        settings.mode.as_str(),
        settings.history,
        health_word(s.health),
        host.db_dir().display(),
        lib_dir.display()
    )
}

/// `max child hosts`, `max charts per child`, `max dimensions per chart`, `max dimensions
/// per child` of `[stream]`; out-of-range values fall back to the defaults with a log line.
fn limits(s: &ParentSettings) -> ReceiverLimits {
    let d = ReceiverLimits::DEFAULT;
    match ReceiverLimits::try_new(
        s.max_children,
        s.max_charts,
        s.max_dimensions,
        d.line(),
        d.decompressed_block(),
        d.receive_buffer(),
    )
    .and_then(|l| l.with_dimensions_per_host(s.max_dimensions_per_child))
    {
        Ok(l) => l,
        Err(e) => {
            log::error!("stream.conf [stream]: {e}; using the default limits");
            d
        }
    }
}

/// The access-log status of a refusal (Netdata's).
fn status_of(reply: &str) -> u16 {
    match reply {
        REPLY_NOT_ALLOWED => 403,
        REPLY_ALREADY => 409,
        REPLY_BUSY => 503,
        REPLY_LOCALHOST => 401,
        _ => 401,
    }
}

/// A receiver with its connection's identity, kept by the server.
pub struct StreamConn {
    pub receiver: Receiver,
    pub guid: Uuid,
    pub name: String,
    pub host: Arc<Host>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::{NodeSettings, StreamConf};
    use crate::config::{Config, FileKind};
    use crate::rrd::HealthEnabled;

    const KEY: &str = "11111111-2222-3333-4444-555555555555";
    const GUID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    fn connect(hub: &mut Streaming, hosts: &Hosts, now: i64) -> Arc<Host> {
        let head = format!(
            "STREAM key={KEY}&hostname=kid&machine_guid={GUID}&update_every=1 HTTP/1.1\r\nUser-Agent: netdata/v1.37.1\r\n\r\n"
        );
        let peer: SocketAddr = "127.0.0.1:40000".parse().expect("address");
        let Upgrade::Accept(a) = hub.upgrade(hosts, head.as_bytes(), peer, true, now) else {
            panic!("not accepted")
        };
        hub.attach(a.guid, 7, 0, now);
        Arc::clone(a.receiver.host())
    }

    #[test]
    fn every_connection_sets_the_child_s_health_policy_afresh() {
        let mut settings = NodeSettings::default().parent;
        let text = format!(
            "[{KEY}]\n enabled = yes\n health enabled by default = auto\n\
             default postpone alarms on connect seconds = 30\n default health log history = 7200\n"
        );
        settings.conf = StreamConf::from_config(&Config::parse(FileKind::Stream, &text, "stream.conf").0);
        let mut hub = Streaming::new(settings);
        let hosts =
            Hosts::new(Host::new("99999999-8888-7777-6666-555555555555", "parent", HostSettings::default()));

        let host = connect(&mut hub, &hosts, 1_000);
        let policy = host.health_policy();
        assert_eq!(
            (policy.enabled, policy.postpone_until, policy.log_history_secs),
            (HealthEnabled::Auto, 1_030, 7200)
        );
        assert!(host.health_active(), "auto, connected");
        assert!(hosts.localhost().health_active() && !hosts.localhost().health_policy().postponed(1_000));

        let guid = Uuid::parse_str(GUID).expect("uuid");
        hub.detach(&guid, 7, &host, 1_010);
        assert!(!host.health_active(), "auto, disconnected");

        // Back 1000 s later: a new postponement from the new connection.
        let again = connect(&mut hub, &hosts, 2_000);
        assert!(Arc::ptr_eq(&again, &host));
        assert_eq!(host.health_policy().postpone_until, 2_030);
        assert!(host.health_active());
        // And the parent charts it.
        hub.cleanup(&hosts, 2_001);
        assert!(hosts.localhost().chart("netdata.streaming_child_kid").is_some());
    }
}

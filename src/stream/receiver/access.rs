//! Whether a STREAM request is accepted, in Netdata's order of checks, with its exact reply
//! (protocol.md §1.3), and the effective settings of an accepted child.
//!
//! Guarantees: [`decide`] is a pure function of its inputs (no clock, no I/O, no global
//! state); it applies the checks in this order and stops at the first that fails:
//! 1. `[web] allow streaming from` ⇒ `You are not allowed to access this resource.`
//! 2. the request itself (API key, hostname, machine GUID present and UUIDs), then the API key
//!    section (`type = api`, `enabled` default no, `allow from`), then the machine GUID section
//!    (`type = machine`, `enabled` default yes, `allow from`) ⇒ `You are not permitted to
//!    access this. Check the logs for more info.`
//! 3. `[web] accept a streaming request every seconds` ⇒ `The server is too busy now to
//!    accept this request. Try later.`
//! 4. another receiver of the same GUID that got data within [`STALE_AFTER`] seconds ⇒
//!    `This GUID is already streaming to this server` (an older one is to be replaced);
//! 5. our own machine GUID ⇒ `Don't hit me baby, you are trying to stream my localhost back`.
//!
//! Every refusal carries a log line `STREAM [receive from [IP]:PORT]: <reason>…` in the spirit
//! of Netdata's "Forbidding access" messages, with the values a user needs to fix the
//! configuration. Differences from Netdata, on purpose: the rate limit lets the very first
//! request through (Netdata's refuses it), a clock that stepped back does not block streams,
//! and the caller stamps "last accepted" only on [`Decision::Accept`].

use uuid::Uuid;

use super::request::{parse_uuid, Refusal, StreamRequest};
pub use crate::config::settings::ChildSettings;
use crate::config::settings::{PeerSection, StreamConf};
use crate::simple_pattern::SimplePattern;
use crate::stream::handshake::{REPLY_ALREADY, REPLY_BUSY, REPLY_DENIED, REPLY_LOCALHOST, REPLY_NOT_ALLOWED};

/// A receiver that got data within this many seconds blocks a new one for the same GUID.
pub const STALE_AFTER: i64 = 30;

/// Everything [`decide`] looks at besides the request.
pub struct Context<'a> {
    pub client_ip: &'a str,
    pub client_port: u16,
    /// The API-key and machine-GUID sections of `stream.conf`.
    pub stream: &'a StreamConf,
    /// What applies before the API key and machine GUID sections override it.
    pub defaults: &'a ChildSettings,
    /// `[web] allow streaming from` (`ParentSettings::allow_streaming`).
    pub allow_streaming: &'a dyn Fn(&str) -> bool,
    /// `[web] accept a streaming request every seconds` (0: no limit).
    pub accept_every: u64,
    /// When a stream was last accepted (unix seconds), if ever.
    pub last_accepted: Option<i64>,
    /// Wall clock, unix seconds.
    pub now: i64,
    /// When the receiver currently attached to this GUID last got data, if there is one.
    pub last_activity: &'a dyn Fn(&Uuid) -> Option<i64>,
    /// This parent's machine GUID.
    pub our_guid: Uuid,
}

/// The outcome of [`decide`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Accept(AcceptedStream),
    /// Write `reply` alone on the socket, log `log` (and the access log), close.
    Refuse {
        reply: &'static str,
        log: String,
    },
}

/// An accepted child: what to do next and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedStream {
    pub settings: ChildSettings,
    /// A receiver of this GUID exists but was silent for more than [`STALE_AFTER`] seconds:
    /// stop it before attaching this one.
    pub replaces_stale: bool,
    /// The line to log on acceptance.
    pub log: String,
}

/// Applies the checks in Netdata's order; see the module documentation.
pub fn decide(request: &Result<StreamRequest, Refusal>, ctx: &Context<'_>) -> Decision {
    let prefix = format!("STREAM [receive from [{}]:{}]: ", ctx.client_ip, ctx.client_port);
    let forbid = |reply: &'static str, reason: String| Decision::Refuse {
        reply,
        log: format!("{prefix}{reason}. Forbidding access."),
    };

    // 1. The web server's ACL, before the request is even looked at.
    if !(ctx.allow_streaming)(ctx.client_ip) {
        return forbid(REPLY_NOT_ALLOWED, "the address is not in [web] allow streaming from".into());
    }

    // 2. The request, then the API key's and the machine GUID's sections.
    let req = match request {
        Ok(req) => req,
        Err(refusal) => return forbid(refusal.reply, refusal.reason.clone()),
    };
    let key = req.api_key.hyphenated().to_string();
    let guid = req.machine_guid.hyphenated().to_string();
    let key_section = find_section(ctx.stream, &req.api_key);
    let guid_section = find_section(ctx.stream, &req.machine_guid);
    let from = |section: Option<&PeerSection>, value: fn(&PeerSection) -> &Option<String>, default: &str| {
        section.and_then(|s| value(s).clone()).unwrap_or_else(|| default.to_string())
    };

    let key_type = from(key_section, |s| &s.kind, "api");
    if key_type != "api" {
        let reason = if key_type == "machine" {
            format!("API key '{key}' is a machine GUID (its section has type = machine)")
        } else {
            format!("API key '{key}' has type = '{key_type}', not 'api'")
        };
        return forbid(REPLY_DENIED, reason);
    }
    let key_enabled = key_section.and_then(|s| s.enabled).unwrap_or(false);
    if !key_enabled {
        let why = if key_section.is_some() { "not enabled" } else { "not in stream.conf" };
        return forbid(REPLY_DENIED, format!("API key '{key}' is not allowed ({why})"));
    }
    if !SimplePattern::parse(&from(key_section, |s| &s.allow_from, "*")).allows(ctx.client_ip) {
        return forbid(REPLY_DENIED, format!("API key '{key}' is not permitted from this IP (allow from)"));
    }

    // Netdata stores a default when it first reads a key, so a GUID equal to the API key
    // finds the `type = api` its key check left behind: a key never doubles as a GUID.
    let guid_type =
        if req.machine_guid == req.api_key { key_type } else { from(guid_section, |s| &s.kind, "machine") };
    if guid_type != "machine" {
        return forbid(
            REPLY_DENIED,
            format!(
                "machine GUID '{guid}' of host '{}' has a section of type = '{guid_type}', not 'machine'",
                req.hostname
            ),
        );
    }
    let guid_enabled = guid_section.and_then(|s| s.enabled).unwrap_or(true);
    if !guid_enabled {
        return forbid(
            REPLY_DENIED,
            format!("machine GUID '{guid}' of host '{}' is not allowed (not enabled)", req.hostname),
        );
    }
    if !SimplePattern::parse(&from(guid_section, |s| &s.allow_from, "*")).allows(ctx.client_ip) {
        return forbid(
            REPLY_DENIED,
            format!(
                "machine GUID '{guid}' of host '{}' is not permitted from this IP (allow from)",
                req.hostname
            ),
        );
    }

    // 3. The rate limit.
    if ctx.accept_every > 0 {
        if let Some(last) = ctx.last_accepted {
            let elapsed = ctx.now.saturating_sub(last);
            let every = i64::try_from(ctx.accept_every).unwrap_or(i64::MAX);
            if (0..every).contains(&elapsed) {
                return Decision::Refuse {
                    reply: REPLY_BUSY,
                    // Netdata's words, then which child and which setting.
                    log: format!(
                        "{prefix}too busy to accept new streaming request. Will be allowed in {} secs. \
                         (host '{}', machine GUID '{guid}'; [web] accept a streaming request every seconds = {})",
                        every - elapsed,
                        req.hostname,
                        ctx.accept_every
                    ),
                };
            }
        }
    }

    // 4. One stream per GUID.
    let mut replaces_stale = false;
    if let Some(last) = (ctx.last_activity)(&req.machine_guid) {
        let age = ctx.now.saturating_sub(last);
        if age <= STALE_AFTER {
            return Decision::Refuse {
                reply: REPLY_ALREADY,
                log: format!(
                    "{prefix}host '{}' (machine GUID '{guid}') is already streaming to this server \
                     (last data {age} s ago, within {STALE_AFTER} s); rejecting the new connection.",
                    req.hostname
                ),
            };
        }
        replaces_stale = true;
    }

    // 5. Our own GUID.
    if req.machine_guid == ctx.our_guid {
        return Decision::Refuse {
            reply: REPLY_LOCALHOST,
            log: format!(
                "{prefix}host '{}' uses my own machine GUID '{guid}'; refusing to receive my localhost back.",
                req.hostname
            ),
        };
    }

    let settings = resolve(ctx.defaults, key_section, guid_section, req);
    let stale = if replaces_stale { " (replacing a stale receiver of the same GUID)" } else { "" };
    let log = format!(
        "{prefix}host '{}' (machine GUID '{guid}', {}/{}) accepted with API key '{key}'{stale}.",
        req.hostname, req.program, req.program_version
    );
    Decision::Accept(AcceptedStream { settings, replaces_stale, log })
}

/// The effective settings: defaults ← API key section `default …` ← machine GUID section.
/// An empty or invalid value keeps what was inherited (invalid ones are logged by the
/// configuration reader); an invalid memory mode falls back to the defaults' mode.
pub fn resolve(
    d: &ChildSettings,
    key_section: Option<&PeerSection>,
    guid_section: Option<&PeerSection>,
    req: &StreamRequest,
) -> ChildSettings {
    let (k, g) = (key_section, guid_section);
    // The machine GUID section's `guid` key, else the API key section's `key`, else the
    // defaults' (`ChildSettings` and `PeerSection` name their fields alike).
    macro_rules! inherit {
        ($guid:ident, $key:ident) => {
            g.and_then(|s| s.$guid.clone())
                .or_else(|| k.and_then(|s| s.$key.clone()))
                .unwrap_or_else(|| d.$guid.clone())
        };
    }
    let memory_mode = g
        .and_then(|s| s.memory_mode)
        .or_else(|| k.and_then(|s| s.default_memory_mode))
        .flatten()
        .unwrap_or(d.memory_mode);
    let guid_update_every = g.and_then(|s| s.update_every).unwrap_or(0);
    let update_every = if guid_update_every > 0 {
        guid_update_every
    } else {
        u64::from(req.update_every.unwrap_or(d.update_every))
    };
    ChildSettings {
        memory_mode,
        history: inherit!(history, default_history).max(5),
        health: inherit!(health, default_health),
        postpone_alarms: inherit!(postpone_alarms, default_postpone_alarms),
        health_log_history: inherit!(health_log_history, default_health_log_history),
        proxy_enabled: inherit!(proxy_enabled, default_proxy_enabled),
        proxy_destination: inherit!(proxy_destination, default_proxy_destination),
        proxy_api_key: inherit!(proxy_api_key, default_proxy_api_key),
        proxy_send_charts: inherit!(proxy_send_charts, default_proxy_send_charts),
        compression: inherit!(compression, compression),
        replication: inherit!(replication, replication),
        seconds_to_replicate: inherit!(seconds_to_replicate, seconds_to_replicate),
        replication_step: inherit!(replication_step, replication_step).max(1),
        update_every: u32::try_from(update_every.clamp(1, 86_400)).unwrap_or(1),
    }
}

/// The `stream.conf` section of a UUID: the one written exactly as the canonical lowercase
/// form, else the first whose name is the same UUID in another case.
pub fn find_section<'c>(stream: &'c StreamConf, id: &Uuid) -> Option<&'c PeerSection> {
    let canonical = id.hyphenated().to_string();
    stream
        .sections()
        .find(|s| s.name == canonical)
        .or_else(|| stream.sections().find(|s| parse_uuid(&s.name) == Some(*id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::NodeSettings;
    use crate::config::{Config, FileKind};
    use crate::db::MemoryMode;
    use crate::stream::receiver::request::parse;

    const KEY: &str = "11111111-2222-3333-4444-555555555555";
    const GUID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    const OURS: &str = "99999999-8888-7777-6666-555555555555";

    fn request(key: &str, guid: &str) -> Result<StreamRequest, Refusal> {
        let head = format!("STREAM key={key}&hostname=child&machine_guid={guid}&update_every=2 HTTP/1.1\r\nUser-Agent: netdata/v1.37.1\r\n\r\n");
        parse(head.as_bytes()).expect("parses").expect("complete").request
    }

    fn stream_conf(text: &str) -> StreamConf {
        let (conf, _) = Config::parse(FileKind::Stream, text, "stream.conf");
        StreamConf::from_config(&conf)
    }

    fn enabled_key() -> String {
        format!("[{KEY}]\n    enabled = yes\n")
    }

    struct World {
        stream: StreamConf,
        defaults: ChildSettings,
        ip: &'static str,
        allow: bool,
        accept_every: u64,
        last_accepted: Option<i64>,
        activity: Option<i64>,
        our: &'static str,
    }

    impl World {
        fn new(conf: &str) -> World {
            World {
                stream: stream_conf(conf),
                defaults: NodeSettings::default().parent.defaults,
                ip: "10.0.0.2",
                allow: true,
                accept_every: 0,
                last_accepted: None,
                activity: None,
                our: OURS,
            }
        }
        fn decide(&self, req: &Result<StreamRequest, Refusal>) -> Decision {
            let allow = |_: &str| self.allow;
            let activity = |_: &Uuid| self.activity;
            let ctx = Context {
                client_ip: self.ip,
                client_port: 41000,
                stream: &self.stream,
                defaults: &self.defaults,
                allow_streaming: &allow,
                accept_every: self.accept_every,
                last_accepted: self.last_accepted,
                now: 1_000_000,
                last_activity: &activity,
                our_guid: Uuid::parse_str(self.our).expect("uuid"),
            };
            decide(req, &ctx)
        }
        fn refused(&self, req: &Result<StreamRequest, Refusal>) -> (&'static str, String) {
            match self.decide(req) {
                Decision::Refuse { reply, log } => (reply, log),
                Decision::Accept(a) => panic!("accepted: {a:?}"),
            }
        }
        fn accepted(&self, req: &Result<StreamRequest, Refusal>) -> AcceptedStream {
            match self.decide(req) {
                Decision::Accept(a) => a,
                Decision::Refuse { log, .. } => panic!("refused: {log}"),
            }
        }
    }

    #[test]
    fn web_acl_comes_first() {
        let mut w = World::new(&enabled_key());
        w.allow = false;
        // Even a request that would be refused for its own reasons gets the web 403 text.
        let (reply, log) = w.refused(&request("bad", GUID));
        assert_eq!(reply, "You are not allowed to access this resource.");
        assert_eq!(
            log,
            "STREAM [receive from [10.0.0.2]:41000]: the address is not in [web] allow streaming from. Forbidding access."
        );
        let p = NodeSettings::default().parent.allow_streaming;
        assert!(p.allows("192.0.2.1"), "default `*`");
    }

    #[test]
    fn request_refusals_pass_through() {
        let w = World::new(&enabled_key());
        let (reply, log) = w.refused(&request("bad", GUID));
        assert_eq!(reply, "You are not permitted to access this. Check the logs for more info.");
        assert!(
            log.starts_with("STREAM [receive from [10.0.0.2]:41000]: API key 'bad' is not a valid UUID"),
            "{log}"
        );
        assert!(log.ends_with("Forbidding access."));
    }

    #[test]
    fn api_key_section_checks() {
        let denied = |conf: &str| {
            let (reply, log) = World::new(conf).refused(&request(KEY, GUID));
            assert_eq!(reply, REPLY_DENIED, "{log}");
            log
        };
        assert!(denied("").contains(&format!("API key '{KEY}' is not allowed (not in stream.conf)")));
        assert!(denied(&format!("[{KEY}]\n  allow from = *\n")).contains("is not allowed (not enabled)"));
        assert!(denied(&format!("[{KEY}]\n  enabled = no\n")).contains("(not enabled)"));
        assert!(
            denied(&format!("[{KEY}]\n  enabled = yes\n  type = machine\n")).contains("is a machine GUID")
        );
        assert!(denied(&format!("[{KEY}]\n  enabled = yes\n  allow from = 192.168.* !10.*\n"))
            .contains("is not permitted from this IP"));
        let ok = World::new(&format!("[{KEY}]\n  enabled = yes\n  allow from = !10.0.0.3 10.0.0.*\n"));
        ok.accepted(&request(KEY, GUID));
        // Sections are found whatever the case of the UUID.
        let upper = World::new(&format!("[{}]\n  enabled = yes\n", KEY.to_uppercase()));
        upper.accepted(&request(KEY, GUID));
    }

    #[test]
    fn machine_guid_section_checks() {
        let denied = |guid_conf: &str| {
            let w = World::new(&format!("{}[{GUID}]\n{guid_conf}", enabled_key()));
            let (reply, log) = w.refused(&request(KEY, GUID));
            assert_eq!(reply, REPLY_DENIED, "{log}");
            assert!(log.contains(GUID) && log.contains("host 'child'"), "{log}");
            log
        };
        assert!(denied("  type = api\n").contains("type = 'api', not 'machine'"));
        assert!(denied("  enabled = no\n").contains("is not allowed (not enabled)"));
        assert!(denied("  allow from = 10.0.0.9\n").contains("not permitted from this IP"));
        // Present and silent on `enabled`: enabled by default.
        World::new(&format!("{}[{GUID}]\n  history = 10\n", enabled_key())).accepted(&request(KEY, GUID));
        // The key used as its own GUID can never pass both type checks.
        let w = World::new(&format!("[{KEY}]\n  enabled = yes\n"));
        assert_eq!(w.refused(&request(KEY, KEY)).0, REPLY_DENIED);
    }

    #[test]
    fn rate_limit_after_permissions() {
        let mut w = World::new(&enabled_key());
        w.accept_every = 10;
        w.last_accepted = Some(1_000_000 - 4);
        let (reply, log) = w.refused(&request(KEY, GUID));
        assert_eq!(reply, "The server is too busy now to accept this request. Try later.");
        assert!(
            log.starts_with(
                "STREAM [receive from [10.0.0.2]:41000]: too busy to accept new streaming request. \
                 Will be allowed in 6 secs."
            ),
            "{log}"
        );
        // A denied request is denied, not "busy".
        assert_eq!(
            World { accept_every: 10, last_accepted: Some(999_999), ..World::new("") }
                .refused(&request(KEY, GUID))
                .0,
            REPLY_DENIED
        );
        w.last_accepted = Some(1_000_000 - 10);
        w.accepted(&request(KEY, GUID));
        w.last_accepted = None;
        w.accepted(&request(KEY, GUID));
        w.last_accepted = Some(1_000_000 + 50); // the clock stepped back
        w.accepted(&request(KEY, GUID));
    }

    #[test]
    fn one_stream_per_guid() {
        let mut w = World::new(&enabled_key());
        w.activity = Some(1_000_000 - 30);
        let (reply, log) = w.refused(&request(KEY, GUID));
        assert_eq!(reply, "This GUID is already streaming to this server");
        assert!(log.contains("last data 30 s ago"), "{log}");
        w.activity = Some(1_000_000 - 31);
        let a = w.accepted(&request(KEY, GUID));
        assert!(a.replaces_stale && a.log.contains("replacing a stale receiver"));
        // Busy comes before "already streaming".
        w.activity = Some(1_000_000);
        w.accept_every = 60;
        w.last_accepted = Some(1_000_000);
        assert_eq!(w.refused(&request(KEY, GUID)).0, REPLY_BUSY);
    }

    #[test]
    fn our_own_guid_is_last() {
        let mut w = World::new(&enabled_key());
        w.our = GUID;
        let (reply, log) = w.refused(&request(KEY, GUID));
        assert_eq!(reply, "Don't hit me baby, you are trying to stream my localhost back");
        assert!(log.contains("my own machine GUID"));
        w.activity = Some(1_000_000 - 5);
        assert_eq!(w.refused(&request(KEY, GUID)).0, REPLY_ALREADY);
    }

    #[test]
    fn settings_inherit_and_override() {
        let w = World::new(&enabled_key());
        let a = w.accepted(&request(KEY, GUID));
        assert_eq!(
            a.settings,
            // Netdata's defaults (negotiate's fixture lists them), but these two.
            ChildSettings {
                health: Some(true), // [health] enabled (default yes)
                update_every: 2,
                ..super::super::negotiate::tests::settings()
            }
        );
        assert!(!a.replaces_stale);
        assert_eq!(
            a.log,
            format!("STREAM [receive from [10.0.0.2]:41000]: host 'child' (machine GUID '{GUID}', netdata/v1.37.1) accepted with API key '{KEY}'.")
        );

        let conf = format!(
            "[{KEY}]\n enabled = yes\n default history = 7200\n default memory mode = none\n\
             health enabled by default = auto\n default postpone alarms on connect seconds = 10\n\
             default proxy enabled = yes\n default proxy destination = parent2:19999\n\
             default proxy api key = {OURS}\n default proxy send charts matching = system.*\n\
             enable compression = no\n enable replication = no\n seconds to replicate = 3600\n\
             seconds per replication step = 60\n\
             [{GUID}]\n history = 2\n memory mode = save\n health enabled = no\n\
             postpone alarms on connect seconds = 5\n proxy enabled = no\n proxy destination = \n\
             enable compression = yes\n seconds per replication step = 0\n update every = 5\n"
        );
        let s = World::new(&conf).accepted(&request(KEY, GUID)).settings;
        assert_eq!(s.history, 5, "at least 5");
        assert_eq!(s.memory_mode, MemoryMode::Save);
        assert_eq!(s.health, Some(false));
        assert_eq!(s.postpone_alarms, 5);
        assert!(!s.proxy_enabled);
        assert_eq!(s.proxy_destination, "parent2:19999", "an empty override inherits");
        assert_eq!(s.proxy_api_key, OURS);
        assert_eq!(s.proxy_send_charts, "system.*");
        assert!(s.compression && !s.replication);
        assert_eq!((s.seconds_to_replicate, s.replication_step), (3600, 1));
        assert_eq!(s.update_every, 5, "the GUID section forces update every");

        let key_only = format!(
            "[{KEY}]\n enabled = yes\n health enabled by default = auto\n default memory mode = none\n"
        );
        let s = World::new(&key_only).accepted(&request(KEY, GUID)).settings;
        assert_eq!((s.health, s.memory_mode), (None, MemoryMode::None));
    }

    #[test]
    fn health_policy_from_the_key_and_guid_sections() {
        use crate::rrd::{HealthEnabled, HealthPolicy};
        let policy = |conf: &str| {
            let s = World::new(conf).accepted(&request(KEY, GUID)).settings;
            HealthPolicy::on_connect(s.health, s.postpone_alarms, s.health_log_history, 1_000_000)
        };
        let key = |extra: &str| format!("[{KEY}]\n enabled = yes\n{extra}");
        let guid = |extra: &str| format!("[{GUID}]\n{extra}");

        // Netdata's defaults but `[health] enabled` (the defaults' health): 60 s, 5 days.
        let p = policy(&key(" health enabled by default = auto\n"));
        assert_eq!(p.enabled, HealthEnabled::Auto);
        assert_eq!((p.postpone_until, p.log_history_secs), (1_000_060, 432_000));
        assert!(p.active(true) && !p.active(false));

        let keyed =
            key(" health enabled by default = yes\n default postpone alarms on connect seconds = 10\n\
             default health log history = 1d\n");
        let p = policy(&keyed);
        assert_eq!(
            (p.enabled, p.postpone_until, p.log_history_secs),
            (HealthEnabled::Yes, 1_000_010, 86_400)
        );

        // The GUID section overrides each; a blank value inherits the key's.
        let both = format!(
            "{keyed}{}",
            guid(" health enabled = no\n postpone alarms on connect seconds = 0\n health log history = \n")
        );
        let p = policy(&both);
        assert_eq!((p.enabled, p.postpone_until, p.log_history_secs), (HealthEnabled::No, 1_000_000, 86_400));
        assert!(!p.active(true));
        let auto = format!("{keyed}{}", guid(" health enabled = auto\n health log history = 3600\n"));
        let p = policy(&auto);
        assert_eq!((p.enabled, p.postpone_until, p.log_history_secs), (HealthEnabled::Auto, 1_000_010, 3600));
    }
}

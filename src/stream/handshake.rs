//! The STREAM handshake of the child: the request line and the parent's reply
//! (protocol.md §1.2–1.3).
//!
//! The reply is a bare string compared exactly, as a 1.37 child does; every rejection gets
//! its own class, log wording and back-off, so a misconfigured child never retries in a
//! tight loop.

use std::time::Duration;

use crate::protocol::Caps;

/// The accepted-with-version prompt; the negotiated bitmask follows in decimal.
pub const PROMPT_VN: &str = "Hit me baby, push them over with the version=";
pub const PROMPT_V2: &str = "Hit me baby, push them over and bring the host labels...";
pub const PROMPT_V1: &str = "Hit me baby, push them over...";
pub const REPLY_LOCALHOST: &str = "Don't hit me baby, you are trying to stream my localhost back";
pub const REPLY_ALREADY: &str = "This GUID is already streaming to this server";
pub const REPLY_DENIED: &str = "You are not permitted to access this. Check the logs for more info.";
pub const REPLY_NOT_ALLOWED: &str = "You are not allowed to access this resource.";
pub const REPLY_BUSY: &str = "The server is too busy now to accept this request. Try later.";

/// The most a reply may be (the parent sends it in one segment, the child reads 8 KiB).
pub const MAX_REPLY: usize = 8192;
/// The most a request may be (Netdata's URL buffer).
pub const MAX_REQUEST: usize = 8192;

/// What the parent answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Streaming may start with these capabilities (already limited to ours).
    Accepted(Caps),
    Rejected(Rejection),
}

/// Why the parent refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The parent is this very host.
    Localhost,
    /// Another connection of this machine GUID is active on the parent.
    AlreadyStreaming,
    /// API key, machine GUID or `allow from` refused (the parent's log says which).
    Denied,
    /// `[web] allow streaming from` refused this address.
    NotAllowed,
    /// The parent's rate limit for new streams.
    Busy,
    /// Anything else, kept for the log.
    NotUnderstood(String),
}

impl Rejection {
    /// How long to wait before the next attempt (Netdata's delays; busy: the usual delay).
    pub fn retry_after(&self, reconnect_delay: Duration) -> Duration {
        match self {
            Rejection::Localhost => Duration::from_secs(3600),
            Rejection::AlreadyStreaming => Duration::from_secs(120),
            Rejection::Denied | Rejection::NotAllowed | Rejection::NotUnderstood(_) => {
                Duration::from_secs(60)
            }
            Rejection::Busy => reconnect_delay,
        }
    }

    /// The log wording, close to Netdata's so its troubleshooting guides apply.
    pub fn describe(&self) -> String {
        match self {
            Rejection::Localhost => {
                "remote server rejected this stream, the host we are trying to stream is its localhost".into()
            }
            Rejection::AlreadyStreaming => {
                "remote server reports that this host is already streamed to it".into()
            }
            Rejection::Denied => {
                "remote server denied access (check the API key and the parent's allow from)".into()
            }
            Rejection::NotAllowed => {
                "remote server does not allow streaming from this IP ([web] allow streaming from)".into()
            }
            Rejection::Busy => "remote server is too busy to accept the stream now".into(),
            Rejection::NotUnderstood(r) => format!(
                "server is not replying properly (is it a netdata?). Its response is not understood: '{}'",
                printable(r)
            ),
        }
    }
}

/// Classifies the parent's reply exactly like a 1.37 child.
pub fn parse_reply(reply: &[u8], ours: Caps) -> Reply {
    let text = String::from_utf8_lossy(reply);
    let text = text.as_ref();
    if let Some(number) = text.strip_prefix(PROMPT_VN) {
        if !number.is_empty() && text.len() < PROMPT_VN.len() + 30 {
            // str2i: leading digits, trailing junk ignored.
            let digits: String = number.chars().take_while(|c| c.is_ascii_digit()).collect();
            let version = digits.parse::<u32>().unwrap_or(0);
            return Reply::Accepted(Caps::from_version(version, ours));
        }
    }
    let rejection = match text {
        PROMPT_V2 => return Reply::Accepted(Caps::from_version(2, ours)),
        PROMPT_V1 => return Reply::Accepted(Caps::from_version(1, ours)),
        REPLY_LOCALHOST => Rejection::Localhost,
        REPLY_ALREADY => Rejection::AlreadyStreaming,
        REPLY_DENIED => Rejection::Denied,
        REPLY_NOT_ALLOWED => Rejection::NotAllowed,
        REPLY_BUSY => Rejection::Busy,
        other => Rejection::NotUnderstood(other.chars().take(120).collect()),
    };
    Reply::Rejected(rejection)
}

/// Everything the request line says about the child.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub api_key: String,
    pub hostname: String,
    pub registry_hostname: String,
    pub machine_guid: String,
    pub update_every: u32,
    pub os: String,
    pub timezone: String,
    pub abbrev_timezone: String,
    pub utc_offset: i64,
    /// This node's own hops + 1 (a leaf sends 1).
    pub hops: u32,
    pub tags: String,
    pub caps: Caps,
    /// `NETDATA_SYSTEM_*`-style system information, in order.
    pub system_info: Vec<(String, String)>,
    /// `User-Agent` program and version.
    pub program: String,
    pub version: String,
}

impl Request {
    /// The request bytes: `STREAM <query> HTTP/1.1\r\nUser-Agent: …\r\nAccept: */*\r\n\r\n`,
    /// every value percent-encoded. Errors if it exceeds what a parent accepts.
    pub fn encode(&self) -> Result<Vec<u8>, String> {
        let mut q = String::with_capacity(1024);
        let mut add = |name: &str, value: &str| {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(name);
            q.push('=');
            percent_encode(value, &mut q);
        };
        add("key", &self.api_key);
        add("hostname", &self.hostname);
        add("registry_hostname", &self.registry_hostname);
        add("machine_guid", &self.machine_guid);
        add("update_every", &self.update_every.to_string());
        add("os", &self.os);
        add("timezone", &self.timezone);
        add("abbrev_timezone", &self.abbrev_timezone);
        add("utc_offset", &self.utc_offset.to_string());
        add("hops", &self.hops.to_string());
        add("ml_capable", "0");
        add("ml_enabled", "0");
        add("mc_version", "0");
        add("tags", &self.tags);
        add("ver", &self.caps.0.to_string());
        for (k, v) in &self.system_info {
            add(k, v);
        }
        let request = format!(
            "STREAM {q} HTTP/1.1\r\nUser-Agent: {}/{}\r\nAccept: */*\r\n\r\n",
            self.program, self.version
        );
        if request.len() > MAX_REQUEST {
            return Err(format!(
                "the STREAM request would be {} bytes, more than {MAX_REQUEST}",
                request.len()
            ));
        }
        Ok(request.into_bytes())
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

fn printable(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

pub use crate::net::backoff::Backoff;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_classified_exactly() {
        let ours = Caps::ours(true);
        assert_eq!(
            parse_reply(b"Hit me baby, push them over with the version=16320", ours),
            Reply::Accepted(Caps(16320 & ours.0))
        );
        // A 1.36 parent clamps to 5.
        assert_eq!(
            parse_reply(b"Hit me baby, push them over with the version=5", ours),
            Reply::Accepted(Caps::HLABELS | Caps::CLAIM | Caps::CLABELS | Caps::COMPRESSION)
        );
        assert_eq!(parse_reply(PROMPT_V2.as_bytes(), ours), Reply::Accepted(Caps::HLABELS));
        assert_eq!(parse_reply(PROMPT_V1.as_bytes(), ours), Reply::Accepted(Caps(0)));
        // Trailing junk after the number is ignored, as str2i does.
        assert_eq!(
            parse_reply(b"Hit me baby, push them over with the version=6080xyz", ours),
            Reply::Accepted(Caps(6080))
        );
        let rej = |b: &[u8]| match parse_reply(b, ours) {
            Reply::Rejected(r) => r,
            other => panic!("{other:?}"),
        };
        assert_eq!(rej(REPLY_LOCALHOST.as_bytes()), Rejection::Localhost);
        assert_eq!(rej(REPLY_ALREADY.as_bytes()), Rejection::AlreadyStreaming);
        assert_eq!(rej(REPLY_DENIED.as_bytes()), Rejection::Denied);
        assert_eq!(rej(REPLY_NOT_ALLOWED.as_bytes()), Rejection::NotAllowed);
        assert_eq!(rej(REPLY_BUSY.as_bytes()), Rejection::Busy);
        // Exact comparison: a newline makes it something else.
        assert!(matches!(
            rej(b"This GUID is already streaming to this server\n"),
            Rejection::NotUnderstood(_)
        ));
        assert!(matches!(rej(b"HTTP/1.1 404 Not Found\r\n"), Rejection::NotUnderstood(_)));
        // The version prompt must be shorter than prompt + 30.
        let long = format!("{PROMPT_VN}{}", "1".repeat(40));
        assert!(matches!(rej(long.as_bytes()), Rejection::NotUnderstood(_)));
        assert!(matches!(rej(PROMPT_VN.as_bytes()), Rejection::NotUnderstood(_)));
    }

    #[test]
    fn rejections_wait_like_netdata() {
        let d = Duration::from_secs(5);
        assert_eq!(Rejection::Localhost.retry_after(d), Duration::from_secs(3600));
        assert_eq!(Rejection::AlreadyStreaming.retry_after(d), Duration::from_secs(120));
        assert_eq!(Rejection::Denied.retry_after(d), Duration::from_secs(60));
        assert_eq!(Rejection::NotUnderstood("x".into()).retry_after(d), Duration::from_secs(60));
        assert_eq!(Rejection::Busy.retry_after(d), d);
        assert!(Rejection::NotUnderstood("a\u{1}b".into()).describe().contains("a?b"));
    }

    #[test]
    fn request_is_percent_encoded_in_netdata_order() {
        let r = Request {
            api_key: "11111111-2222-3333-4444-555555555555".into(),
            hostname: "my router".into(),
            registry_hostname: "my router".into(),
            machine_guid: "08beed44-e5fb-11f1-a5d6-02fc00000001".into(),
            update_every: 1,
            os: "linux".into(),
            timezone: "Europe/Athens".into(),
            abbrev_timezone: "EET".into(),
            utc_offset: 7200,
            hops: 1,
            tags: String::new(),
            caps: Caps(6080),
            system_info: vec![("NETDATA_SYSTEM_OS_NAME".into(), "OpenWrt & co=1".into())],
            program: "nanodata".into(),
            version: "v0.1.0".into(),
        };
        let text = String::from_utf8(r.encode().unwrap()).unwrap();
        assert!(text.starts_with(
            "STREAM key=11111111-2222-3333-4444-555555555555&hostname=my%20router&registry_hostname=my%20router&machine_guid="
        ));
        assert!(text
            .contains("&timezone=Europe%2FAthens&abbrev_timezone=EET&utc_offset=7200&hops=1&ml_capable=0"));
        assert!(text.contains("&tags=&ver=6080&NETDATA_SYSTEM_OS_NAME=OpenWrt%20%26%20co%3D1 HTTP/1.1\r\n"));
        assert!(text.ends_with("\r\nUser-Agent: nanodata/v0.1.0\r\nAccept: */*\r\n\r\n"));
        let huge = Request { tags: "x".repeat(9000), ..r };
        assert!(huge.encode().is_err());
    }
}

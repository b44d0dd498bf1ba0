//! The STREAM request head a child sends (protocol.md §1.2), parsed into typed values.
//!
//! Guarantees: [`parse`] looks at no more than [`MAX_HEAD`] bytes, never panics, and is
//! incremental (call it again with more bytes; `Ok(None)` means "not complete yet"). The query
//! is URL-decoded as a whole first (`%XX`, `+` → space), then split on `&` and on the first
//! `=`, as Netdata does; a decoded control byte (or an invalid `%` escape, or bytes that are
//! not UTF-8) makes the head malformed. Parsing does not validate: a request without an API
//! key, hostname or machine GUID, or with a key or GUID that is not a UUID, parses into a
//! [`Refusal`] for [`super::access::decide`] to answer in Netdata's order of checks.

use uuid::Uuid;

use crate::protocol::number;
use crate::stream::handshake::REPLY_DENIED;

/// The most bytes a head may take (Netdata's URL buffer and the child's request buffer).
pub const MAX_HEAD: usize = 8192;

/// What a complete head parsed into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// Bytes of the head including its blank line; what follows belongs to the stream.
    pub head_len: usize,
    /// The request, or why it is refused (after `[web] allow streaming from` is checked).
    pub request: Result<StreamRequest, Refusal>,
    /// Parameters nanodata does not know, `name=value`, for the log (at most 32 kept).
    pub unknown: Vec<(String, String)>,
}

/// A request that is refused with `reply`; `reason` completes the log line
/// `STREAM [receive from [IP]:PORT]: <reason>. Forbidding access.`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub reply: &'static str,
    pub reason: String,
}

/// Everything the child said about itself. Defaults are protocol.md §1.2's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRequest {
    pub api_key: Uuid,
    pub hostname: String,
    /// Defaults to `hostname`.
    pub registry_hostname: String,
    pub machine_guid: Uuid,
    /// `None`: absent, zero or negative (the parent's own `update every` applies).
    pub update_every: Option<u32>,
    /// Default `unknown`.
    pub os: String,
    /// Default `unknown`.
    pub timezone: String,
    /// Default `UTC`.
    pub abbrev_timezone: String,
    /// Seconds east of UTC, default 0.
    pub utc_offset: i32,
    /// The child's hops + 1, default 1 (also for 0, which only this node itself can be).
    pub hops: u16,
    /// Host tags, default empty.
    pub tags: String,
    /// The `ver=` number; `None` when absent (V1).
    pub ver: Option<u32>,
    /// System information (`NETDATA_SYSTEM_OS_*` renamed `NETDATA_HOST_OS_*`), in order of
    /// first appearance; a repeated name keeps its last value.
    pub system_info: Vec<(String, String)>,
    /// `User-Agent` before the first `/` (empty when absent).
    pub program: String,
    /// `User-Agent` after the first `/` (empty when absent).
    pub program_version: String,
}

/// Why a head cannot be parsed at all; the connection is closed (nothing to answer with).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadError {
    /// No blank line within [`MAX_HEAD`] bytes.
    TooLarge,
    /// The bytes do not start with `STREAM `.
    NotStream,
    /// A broken request line or query; the text says what.
    Malformed(String),
}

impl std::fmt::Display for HeadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadError::TooLarge => write!(f, "the STREAM request is larger than {MAX_HEAD} bytes"),
            HeadError::NotStream => f.write_str("not a STREAM request"),
            HeadError::Malformed(why) => write!(f, "malformed STREAM request: {why}"),
        }
    }
}

/// The start of every STREAM request head.
pub const METHOD: &[u8] = b"STREAM ";

/// Whether `buf` starts with a STREAM request (the one test for it: the web server's HTTP
/// parser and event loop hand such a connection to the receiver, whose [`parse`] reads it).
pub fn is_stream(buf: &[u8]) -> bool {
    buf.starts_with(METHOD)
}

/// Parses the head at the start of `buf`: `Ok(None)` until the blank line has arrived.
pub fn parse(buf: &[u8]) -> Result<Option<Parsed>, HeadError> {
    let n = buf.len().min(METHOD.len());
    if buf[..n] != METHOD[..n] {
        return Err(HeadError::NotStream);
    }
    let window = &buf[..buf.len().min(MAX_HEAD)];
    let Some((head_end, head_len)) = crate::protocol::head_end(window) else {
        return if buf.len() >= MAX_HEAD { Err(HeadError::TooLarge) } else { Ok(None) };
    };
    let head = &window[..head_end];
    let mut lines = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let after_method = &first[METHOD.len().min(first.len())..];
    let Some(end) = find(after_method, b" HTTP/") else {
        return Err(HeadError::Malformed("no ' HTTP/' after the query".into()));
    };
    let query = url_decode(&after_method[..end]).map_err(HeadError::Malformed)?;

    let mut user_agent = None;
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        if line[..colon].eq_ignore_ascii_case(b"user-agent") {
            user_agent = Some(String::from_utf8_lossy(&line[colon + 1..]).trim().to_string());
        }
    }

    let mut fields = Fields::default();
    let mut unknown = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name.is_empty() || value.is_empty() {
            continue;
        }
        if !fields.set(name, value) && unknown.len() < 32 {
            unknown.push((name.to_string(), value.to_string()));
        }
    }
    let (program, program_version) = match user_agent {
        Some(ua) => match ua.split_once('/') {
            Some((p, v)) => (p.to_string(), v.to_string()),
            None => (ua, String::new()),
        },
        None => (String::new(), String::new()),
    };
    Ok(Some(Parsed { head_len, request: fields.finish(program, program_version), unknown }))
}

/// System-information names stored for `/api/v1/info` (after the OS rename).
const SYSTEM_INFO: &[&str] = &[
    "NETDATA_INSTANCE_CLOUD_TYPE",
    "NETDATA_INSTANCE_CLOUD_INSTANCE_TYPE",
    "NETDATA_INSTANCE_CLOUD_INSTANCE_REGION",
    "NETDATA_HOST_OS_NAME",
    "NETDATA_HOST_OS_ID",
    "NETDATA_HOST_OS_ID_LIKE",
    "NETDATA_HOST_OS_VERSION",
    "NETDATA_HOST_OS_VERSION_ID",
    "NETDATA_HOST_OS_DETECTION",
    "NETDATA_HOST_IS_K8S_NODE",
    "NETDATA_SYSTEM_KERNEL_NAME",
    "NETDATA_SYSTEM_KERNEL_VERSION",
    "NETDATA_SYSTEM_ARCHITECTURE",
    "NETDATA_SYSTEM_VIRTUALIZATION",
    "NETDATA_SYSTEM_VIRT_DETECTION",
    "NETDATA_SYSTEM_CONTAINER",
    "NETDATA_SYSTEM_CONTAINER_DETECTION",
    "NETDATA_CONTAINER_OS_NAME",
    "NETDATA_CONTAINER_OS_ID",
    "NETDATA_CONTAINER_OS_ID_LIKE",
    "NETDATA_CONTAINER_OS_VERSION",
    "NETDATA_CONTAINER_OS_VERSION_ID",
    "NETDATA_CONTAINER_OS_DETECTION",
    "NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT",
    "NETDATA_SYSTEM_CPU_FREQ",
    "NETDATA_SYSTEM_TOTAL_RAM",
    "NETDATA_SYSTEM_TOTAL_DISK_SIZE",
    "NETDATA_PROTOCOL_VERSION",
];

/// Accepted and dropped without a log line, as Netdata does.
const SILENTLY_IGNORED: &[&str] = &[
    "ml_capable",
    "ml_enabled",
    "mc_version",
    "NETDATA_SYSTEM_CPU_VENDOR",
    "NETDATA_SYSTEM_CPU_MODEL",
    "NETDATA_SYSTEM_CPU_DETECTION",
    "NETDATA_SYSTEM_RAM_DETECTION",
    "NETDATA_SYSTEM_DISK_DETECTION",
    "NETDATA_CONTAINER_IS_OFFICIAL_IMAGE",
];

#[derive(Default)]
struct Fields {
    key: Option<String>,
    hostname: Option<String>,
    registry_hostname: Option<String>,
    machine_guid: Option<String>,
    update_every: Option<u32>,
    os: Option<String>,
    timezone: Option<String>,
    abbrev_timezone: Option<String>,
    utc_offset: i32,
    hops: Option<u16>,
    tags: Option<String>,
    ver: Option<u32>,
    system_info: Vec<(String, String)>,
}

impl Fields {
    /// Stores one parameter; false when the name is unknown.
    fn set(&mut self, name: &str, value: &str) -> bool {
        let text = || Some(value.to_string());
        match name {
            "key" => self.key = text(),
            "hostname" => self.hostname = text(),
            "registry_hostname" => self.registry_hostname = text(),
            "machine_guid" => self.machine_guid = text(),
            "update_every" => {
                self.update_every = u32::try_from(number::c_integer(value)).ok().filter(|&u| u > 0)
            }
            "os" => self.os = text(),
            "timezone" => self.timezone = text(),
            "abbrev_timezone" => self.abbrev_timezone = text(),
            "utc_offset" => self.utc_offset = i32::try_from(number::c_integer(value)).unwrap_or(0),
            // 0 hops is this node itself: a child claiming it would show as local in
            // `/api/v1/info` (found by fuzzing), so it counts as absent, i.e. 1.
            "hops" => self.hops = u16::try_from(number::c_integer(value)).ok().filter(|&h| h > 0),
            "tags" => self.tags = text(),
            "ver" => self.ver = Some(u32::try_from(number::c_integer(value)).unwrap_or(0)),
            _ if SILENTLY_IGNORED.contains(&name) => {}
            _ => {
                let renamed = match name.strip_prefix("NETDATA_SYSTEM_OS_") {
                    Some(rest) => format!("NETDATA_HOST_OS_{rest}"),
                    None => name.to_string(),
                };
                if !SYSTEM_INFO.contains(&renamed.as_str()) {
                    return false;
                }
                match self.system_info.iter_mut().find(|(k, _)| *k == renamed) {
                    Some(slot) => slot.1 = value.to_string(),
                    None => self.system_info.push((renamed, value.to_string())),
                }
            }
        }
        true
    }

    /// The typed request, or the first missing or invalid required field (Netdata's order:
    /// key, hostname, machine GUID, then the key's and the GUID's format).
    fn finish(self, program: String, program_version: String) -> Result<StreamRequest, Refusal> {
        let refuse = |reason: String| Refusal { reply: REPLY_DENIED, reason };
        let Some(key) = self.key else { return Err(refuse("request without an API key".into())) };
        let Some(hostname) = self.hostname else { return Err(refuse("request without a hostname".into())) };
        let Some(guid) = self.machine_guid else {
            return Err(refuse(format!("request from host '{hostname}' without a machine GUID")));
        };
        let Some(api_key) = parse_uuid(&key) else {
            return Err(refuse(format!(
                "API key '{}' is not a valid UUID (use the command uuidgen to generate one)",
                clip(&key)
            )));
        };
        let Some(machine_guid) = parse_uuid(&guid) else {
            return Err(refuse(format!(
                "machine GUID '{}' of host '{hostname}' is not a valid UUID",
                clip(&guid)
            )));
        };
        Ok(StreamRequest {
            api_key,
            registry_hostname: self.registry_hostname.unwrap_or_else(|| hostname.clone()),
            hostname,
            machine_guid,
            update_every: self.update_every,
            os: self.os.unwrap_or_else(|| "unknown".into()),
            timezone: self.timezone.unwrap_or_else(|| "unknown".into()),
            abbrev_timezone: self.abbrev_timezone.unwrap_or_else(|| "UTC".into()),
            utc_offset: self.utc_offset,
            hops: self.hops.unwrap_or(1),
            tags: self.tags.unwrap_or_default(),
            ver: self.ver,
            system_info: self.system_info,
            program,
            program_version,
        })
    }
}

/// A UUID in the 36-character form only, as `uuid_parse` takes it (either case).
pub fn parse_uuid(s: &str) -> Option<Uuid> {
    if s.len() != 36 {
        return None;
    }
    Uuid::parse_str(s).ok()
}

/// Log text is kept short: a hostile value is at most 8 KiB, but one line need not be.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `%XX` → byte, `+` → space; control bytes, bad escapes and invalid UTF-8 are errors.
fn url_decode(raw: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = match raw[i] {
            b'%' => {
                let hex = |j: usize| raw.get(j).and_then(|&c| char::from(c).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    (Some(h), Some(l)) => {
                        i += 2;
                        (h * 16 + l) as u8
                    }
                    _ => return Err(format!("invalid %-escape at byte {i} of the query")),
                }
            }
            b'+' => b' ',
            b => b,
        };
        if b < 0x20 || b == 0x7f {
            return Err(format!("the query decodes to the control byte 0x{b:02x}"));
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "the query is not valid UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Caps;
    use crate::stream::handshake::Request;

    const KEY: &str = "11111111-2222-3333-4444-555555555555";
    const GUID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    /// What a 1.37 child sends (values raw, as Netdata does, except the encoded OS names).
    fn netdata_head() -> String {
        format!(
            "STREAM key={KEY}&hostname=child1&registry_hostname=child1&machine_guid={GUID}\
             &update_every=1&os=linux&timezone=Europe/Athens&abbrev_timezone=EET&utc_offset=7200\
             &hops=1&ml_capable=1&ml_enabled=0&mc_version=1&tags=&ver=16376\
             &NETDATA_SYSTEM_OS_NAME=Debian%20GNU%2FLinux&NETDATA_SYSTEM_OS_ID=debian\
             &NETDATA_SYSTEM_KERNEL_VERSION=6.1.0&NETDATA_PROTOCOL_VERSION=1.1\
             &NETDATA_SYSTEM_CPU_VENDOR=x HTTP/1.1\r\nUser-Agent: netdata/v1.37.1\r\nAccept: */*\r\n\r\n"
        )
    }

    fn ok(head: &str) -> (StreamRequest, Parsed) {
        let p = parse(head.as_bytes()).expect("parses").expect("complete");
        (p.request.clone().expect("accepted"), p)
    }

    #[test]
    fn netdata_child_request() {
        let head = netdata_head();
        let (r, p) = ok(&head);
        assert_eq!(p.head_len, head.len());
        assert_eq!(r.api_key.to_string(), KEY);
        assert_eq!(r.machine_guid.to_string(), GUID);
        assert_eq!((r.hostname.as_str(), r.registry_hostname.as_str()), ("child1", "child1"));
        assert_eq!(r.update_every, Some(1));
        assert_eq!(
            (r.os.as_str(), r.timezone.as_str(), r.abbrev_timezone.as_str()),
            ("linux", "Europe/Athens", "EET")
        );
        assert_eq!((r.utc_offset, r.hops, r.tags.as_str(), r.ver), (7200, 1, "", Some(16376)));
        assert_eq!(
            r.system_info,
            vec![
                ("NETDATA_HOST_OS_NAME".to_string(), "Debian GNU/Linux".to_string()),
                ("NETDATA_HOST_OS_ID".into(), "debian".into()),
                ("NETDATA_SYSTEM_KERNEL_VERSION".into(), "6.1.0".into()),
                ("NETDATA_PROTOCOL_VERSION".into(), "1.1".into()),
            ]
        );
        assert_eq!((r.program.as_str(), r.program_version.as_str()), ("netdata", "v1.37.1"));
        assert!(p.unknown.is_empty(), "{:?}", p.unknown);
    }

    #[test]
    fn our_own_child_request_round_trips() {
        let req = Request {
            api_key: KEY.into(),
            hostname: "router one".into(),
            registry_hostname: "router one".into(),
            machine_guid: GUID.into(),
            update_every: 2,
            os: "linux".into(),
            timezone: "UTC".into(),
            abbrev_timezone: "UTC".into(),
            utc_offset: -3600,
            hops: 2,
            tags: "a=b&c".into(),
            caps: Caps(6080),
            system_info: vec![("NETDATA_SYSTEM_OS_NAME".into(), "Open=Wrt ü".into())],
            program: "nanodata".into(),
            version: "v0.1.0".into(),
        };
        let bytes = req.encode().expect("encodes");
        let p = parse(&bytes).expect("parses").expect("complete");
        let r = p.request.expect("accepted");
        assert_eq!(r.hostname, "router one");
        assert_eq!((r.update_every, r.utc_offset, r.hops, r.ver), (Some(2), -3600, 2, Some(6080)));
        // The query is decoded before splitting: `%26` becomes a separator, as in Netdata.
        assert_eq!(r.tags, "a=b");
        assert!(p.unknown.is_empty(), "`c` has no value and is ignored: {:?}", p.unknown);
        assert_eq!(r.system_info, vec![("NETDATA_HOST_OS_NAME".to_string(), "Open=Wrt ü".to_string())]);
        assert_eq!(r.program, "nanodata");
    }

    #[test]
    fn defaults_empty_values_unknown_names() {
        let head = format!(
            "STREAM key={KEY}&hostname=h&machine_guid={GUID}&os=&update_every=0&bogus=1&ver=\
             &NETDATA_SYSTEM_CPU_MODEL=x&=v&noequals HTTP/1.1\r\n\r\n"
        );
        let (r, p) = ok(&head);
        assert_eq!(r.registry_hostname, "h");
        assert_eq!(
            (r.os.as_str(), r.timezone.as_str(), r.abbrev_timezone.as_str()),
            ("unknown", "unknown", "UTC")
        );
        assert_eq!((r.update_every, r.hops, r.ver, r.utc_offset), (None, 1, None, 0));
        assert_eq!((r.program.as_str(), r.program_version.as_str()), ("", ""));
        assert_eq!(p.unknown, vec![("bogus".to_string(), "1".to_string())]);
    }

    #[test]
    fn plus_is_space_and_value_may_hold_equals() {
        let head = format!("STREAM key={KEY}&hostname=a+b&machine_guid={GUID}&tags=x=y=z HTTP/1.1\n\n");
        let (r, p) = ok(&head);
        assert_eq!((r.hostname.as_str(), r.tags.as_str()), ("a b", "x=y=z"));
        assert_eq!(p.head_len, head.len(), "bare LF line ends are accepted");
    }

    #[test]
    fn refusals_in_netdata_order() {
        let refused = |q: &str| {
            let head = format!("STREAM {q} HTTP/1.1\r\n\r\n");
            let p = parse(head.as_bytes()).expect("parses").expect("complete");
            let r = p.request.expect_err("refused");
            assert_eq!(r.reply, REPLY_DENIED);
            r.reason
        };
        assert_eq!(refused(&format!("hostname=h&machine_guid={GUID}")), "request without an API key");
        assert_eq!(refused(&format!("key=bad&machine_guid={GUID}")), "request without a hostname");
        assert!(refused("key=bad&hostname=h").contains("without a machine GUID"));
        assert!(refused(&format!("key=bad&hostname=h&machine_guid={GUID}"))
            .starts_with("API key 'bad' is not a valid UUID"));
        assert!(
            refused(&format!("key={KEY}&hostname=h&machine_guid=nope")).starts_with("machine GUID 'nope'")
        );
        // 32 hex digits without dashes is not the form uuid_parse takes.
        assert!(refused(&format!("key=11111111222233334444555555555555&hostname=h&machine_guid={GUID}"))
            .starts_with("API key"));
    }

    #[test]
    fn incomplete_oversized_malformed() {
        let head = netdata_head();
        for cut in [0, 3, 7, 100, head.len() - 1] {
            assert_eq!(parse(&head.as_bytes()[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(parse(b"GET / HTTP/1.1\r\n\r\n"), Err(HeadError::NotStream));
        assert_eq!(parse(b"STR\x00"), Err(HeadError::NotStream));
        let mut big = b"STREAM key=".to_vec();
        big.resize(MAX_HEAD, b'a');
        assert_eq!(parse(&big), Err(HeadError::TooLarge));
        let bad = |q: &str| {
            matches!(parse(format!("STREAM {q} HTTP/1.1\r\n\r\n").as_bytes()), Err(HeadError::Malformed(_)))
        };
        assert!(bad("key=%0a"), "a decoded LF");
        assert!(bad("key=%7F"));
        assert!(bad("key=a\tb"), "a raw TAB");
        assert!(bad("key=%zz"));
        assert!(bad("key=%4"));
        assert!(bad("key=%C3"), "a lone UTF-8 lead byte");
        assert!(matches!(parse(b"STREAM key=a\r\n\r\n"), Err(HeadError::Malformed(_))));
        // Bytes after the head are not part of it.
        let mut more = head.clone().into_bytes();
        more.extend_from_slice(b"CHART x");
        assert_eq!(parse(&more).expect("ok").expect("complete").head_len, head.len());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = crate::rng::Rng::new(0x9E37_79B9_7F4A_7C15);
        let seed = netdata_head().into_bytes();
        let alphabet = b"%+&=/:\r\n 0123456789abcdefABCDEF-\x00\xff\xc3\xa9STREAM HTTP/1.1";
        for round in 0..20_000 {
            let mut buf = match round % 3 {
                // Pure noise.
                0 => (0..rng.below(400)).map(|_| rng.next_u64() as u8).collect::<Vec<u8>>(),
                // Noise from a protocol-flavoured alphabet behind the method.
                1 => {
                    let mut b = b"STREAM ".to_vec();
                    b.extend((0..rng.below(600)).map(|_| alphabet[rng.below(alphabet.len())]));
                    if rng.below(2) == 0 {
                        b.extend_from_slice(b" HTTP/1.1\r\n\r\n");
                    }
                    b
                }
                // A real request with a few bytes mutated, inserted or cut.
                _ => {
                    let mut b = seed.clone();
                    for _ in 0..1 + rng.below(8) {
                        let at = rng.below(b.len());
                        match rng.below(3) {
                            0 => b[at] = alphabet[rng.below(alphabet.len())],
                            1 => b.insert(at, rng.next_u64() as u8),
                            _ => b.truncate(at.max(1)),
                        }
                    }
                    b
                }
            };
            if round % 97 == 0 {
                buf.resize(MAX_HEAD + rng.below(100), b'%');
            }
            if let Ok(Some(p)) = parse(&buf) {
                assert!(p.head_len <= buf.len() && p.head_len <= MAX_HEAD);
                assert!(p.unknown.len() <= 32);
                if let Ok(r) = p.request {
                    assert!(!r.hostname.is_empty());
                    assert!(!r.hostname.chars().any(|c| c.is_ascii_control()));
                }
            }
        }
    }

    /// Fuzzing (fuzz/fuzz_targets/stream_request.rs) found `hops=0` taken as given: a
    /// remote child then showed in `/api/v1/info` at 0 hops, like this node itself.
    #[test]
    fn hops_zero_is_one_hop() {
        for (hops, want) in [("0", 1), ("00", 1), ("-0", 1), ("1", 1), ("3", 3), ("70000", 1)] {
            let head = netdata_head().replace("&hops=1&", &format!("&hops={hops}&"));
            let p = parse(head.as_bytes()).unwrap().unwrap();
            assert_eq!(p.request.unwrap().hops, want, "hops={hops}");
        }
    }
}

//! `[stream] destination`: a space-separated list of `[PROTOCOL:]HOST[%INTERFACE][:PORT][:SSL]`.
//!
//! IPv6 addresses go in brackets (`[fe80::1%eth0]:19999`); `unix:/path` is a local socket;
//! host names are resolved again on every connection attempt.

use std::fmt;

/// Where one destination is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP host (name or address) and port; `interface` scopes link-local IPv6 addresses.
    Tcp { host: String, interface: Option<String>, port: u16 },
    /// A local (unix-domain) socket.
    Unix(String),
}

/// One parsed destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub endpoint: Endpoint,
    /// Connect with TLS (`:SSL`).
    pub tls: bool,
}

impl Destination {
    /// Parses one word of the destination list.
    pub fn parse(word: &str, default_port: u16) -> Result<Destination, String> {
        let bad = |why: &str| format!("destination '{word}': {why}");
        let mut rest = word;
        let mut tls = false;
        if let Some(r) = rest.strip_suffix(":SSL") {
            tls = true;
            rest = r;
        }
        let (protocol, after) = match rest.split_once(':') {
            Some((p @ ("tcp" | "unix" | "udp"), after)) => (p, after),
            _ => ("tcp", rest),
        };
        match protocol {
            "unix" => {
                if after.is_empty() {
                    return Err(bad("a unix socket needs a path"));
                }
                if tls {
                    return Err(bad("TLS over a unix socket is not supported"));
                }
                return Ok(Destination { endpoint: Endpoint::Unix(after.to_owned()), tls });
            }
            "udp" => return Err(bad("streaming runs over TCP, not UDP")),
            _ => {}
        }
        let (host, port_text) = if let Some(inner) = after.strip_prefix('[') {
            let (host, tail) = inner.split_once(']').ok_or_else(|| bad("missing ']'"))?;
            let port = match tail {
                "" => None,
                t => Some(t.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            };
            (host, port)
        } else {
            match after.split_once(':') {
                Some((h, p)) if !p.contains(':') => (h, Some(p)),
                Some(_) => return Err(bad("IPv6 addresses must be in brackets, e.g. [::1]:19999")),
                None => (after, None),
            }
        };
        let (host, interface) = match host.split_once('%') {
            Some((h, i)) if !i.is_empty() => (h, Some(i.to_owned())),
            Some(_) => return Err(bad("empty interface after '%'")),
            None => (host, None),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port_text {
            None | Some("") => default_port,
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| bad("bad port"))?,
        };
        Ok(Destination { endpoint: Endpoint::Tcp { host: host.to_owned(), interface, port }, tls })
    }

    /// Parses the whole `destination` value; bad words are reported and skipped.
    pub fn parse_list(value: &str, default_port: u16) -> (Vec<Destination>, Vec<String>) {
        let mut good = Vec::new();
        let mut errors = Vec::new();
        for word in value.split_ascii_whitespace() {
            match Destination::parse(word, default_port) {
                Ok(d) => good.push(d),
                Err(e) => errors.push(e),
            }
        }
        (good, errors)
    }
}

impl fmt::Display for Destination {
    /// How log lines name the destination (`127.0.0.1:19999`, `[::1]:19999`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.endpoint {
            Endpoint::Unix(path) => write!(f, "unix:{path}"),
            Endpoint::Tcp { host, interface, port } => {
                let scoped = match interface {
                    Some(i) => format!("{host}%{i}"),
                    None => host.clone(),
                };
                if host.contains(':') {
                    write!(f, "[{scoped}]:{port}")?;
                } else {
                    write!(f, "{scoped}:{port}")?;
                }
                if self.tls {
                    f.write_str(":SSL")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp { host: host.into(), interface: None, port }
    }

    #[test]
    fn every_form_parses() {
        let p = |w| Destination::parse(w, 19999);
        assert_eq!(p("10.0.0.1").unwrap(), Destination { endpoint: tcp("10.0.0.1", 19999), tls: false });
        assert_eq!(p("parent.lan:20000").unwrap().endpoint, tcp("parent.lan", 20000));
        assert_eq!(
            p("tcp:10.0.0.1:1234:SSL").unwrap(),
            Destination { endpoint: tcp("10.0.0.1", 1234), tls: true }
        );
        assert_eq!(p("[::1]").unwrap().endpoint, tcp("::1", 19999));
        assert!(p("[::1]:20000:SSL").unwrap().tls);
        assert_eq!(
            p("tcp:[fe80::1%eth0]:19999").unwrap().endpoint,
            Endpoint::Tcp { host: "fe80::1".into(), interface: Some("eth0".into()), port: 19999 }
        );
        assert_eq!(
            p("10.0.0.1%br-lan:19999").unwrap().endpoint,
            Endpoint::Tcp { host: "10.0.0.1".into(), interface: Some("br-lan".into()), port: 19999 }
        );
        assert_eq!(p("unix:/run/nd.sock").unwrap().endpoint, Endpoint::Unix("/run/nd.sock".into()));
    }

    #[test]
    fn bad_words_say_why() {
        let p = |w| Destination::parse(w, 19999).unwrap_err();
        assert!(p("::1").contains("brackets"));
        assert!(p("[::1").contains("']'"));
        assert!(p("host:0").contains("bad port"));
        assert!(p("host:99999").contains("bad port"));
        assert!(p("udp:host").contains("TCP"));
        assert!(p(":19999").contains("no host"));
        assert!(p("unix:").contains("path"));
        let (good, bad) = Destination::parse_list("a:1  [::1 b", 19999);
        assert_eq!(good.len(), 2);
        assert_eq!(bad.len(), 1);
    }

    #[test]
    fn display_round_trips() {
        for w in ["10.0.0.1:19999", "[::1]:19999:SSL", "[fe80::1%eth0]:20000", "unix:/x"] {
            assert_eq!(Destination::parse(w, 19999).unwrap().to_string(), w);
        }
    }
}

//! `[web] bind to`: Netdata's syntax, one word per address:
//! `HOST[:PORT][=ACL|ACL…][^SSL=force|optional]` where HOST is `*`, `localhost`, an IPv4
//! address, `[IPv6]`, a bare IPv6 address (no port then) or a host name.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// TLS on a listening address.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// Plain HTTP only.
    None,
    /// TLS and plain HTTP on one port, told apart by the first byte.
    Optional,
    /// TLS only; plain HTTP requests are redirected to `https://`.
    Force,
}

impl SslMode {
    pub fn suffix(self) -> &'static str {
        match self {
            SslMode::None => "",
            SslMode::Optional => " (TLS optional)",
            SslMode::Force => " (TLS forced)",
        }
    }
}

/// One parsed word of `bind to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindSpec {
    pub host: String,
    pub port: u16,
    pub ssl: SslMode,
    /// The `=ACL` list (`dashboard`, `registry`, `badges`, `management`, `streaming`,
    /// `netdata.conf`); empty = everything.
    pub acl: Vec<String>,
}

const ACLS: &[&str] = &["dashboard", "registry", "badges", "management", "streaming", "netdata.conf"];

/// Parses the whole `bind to` value.
pub fn parse(value: &str, default_port: u16) -> Result<Vec<BindSpec>, String> {
    let mut out = Vec::new();
    for word in value.split_whitespace() {
        if word.starts_with("unix:") {
            log::warn!("web: bind to {word}: unix sockets are not supported; skipped");
            continue;
        }
        out.push(parse_word(word, default_port)?);
    }
    if out.is_empty() {
        return Err("no address".into());
    }
    Ok(out)
}

fn parse_word(word: &str, default_port: u16) -> Result<BindSpec, String> {
    let (rest, ssl) = match word.split_once('^') {
        Some((r, s)) => {
            let ssl = match s {
                "SSL=force" => SslMode::Force,
                "SSL=optional" => SslMode::Optional,
                _ => {
                    return Err(format!("'{word}': unknown option '^{s}' (use ^SSL=force or ^SSL=optional)"))
                }
            };
            (r, ssl)
        }
        None => (word, SslMode::None),
    };
    let (addr, acl) = match rest.split_once('=') {
        Some((a, acl)) => {
            let list: Vec<String> = acl.split('|').filter(|s| !s.is_empty()).map(str::to_owned).collect();
            if let Some(bad) = list.iter().find(|a| !ACLS.contains(&a.as_str())) {
                return Err(format!("'{word}': unknown ACL '{bad}'"));
            }
            (a, list)
        }
        None => (rest, Vec::new()),
    };
    let bad_port = |p: &str| format!("'{word}': bad port '{p}'");
    let (host, port) = if let Some(r) = addr.strip_prefix('[') {
        let (h, after) = r.split_once(']').ok_or_else(|| format!("'{word}': missing ']'"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad_port(p))?,
            None if after.is_empty() => default_port,
            None => return Err(format!("'{word}': junk after ']'")),
        };
        (h.to_owned(), port)
    } else if addr.matches(':').count() > 1 {
        (addr.to_owned(), default_port) // a bare IPv6 address
    } else if let Some((h, p)) = addr.rsplit_once(':') {
        (h.to_owned(), p.parse().map_err(|_| bad_port(p))?)
    } else {
        (addr.to_owned(), default_port)
    };
    if host.is_empty() {
        return Err(format!("'{word}': empty host"));
    }
    if host.contains(':') && host.parse::<Ipv6Addr>().is_err() {
        return Err(format!("'{word}': bad IPv6 address '{host}'"));
    }
    Ok(BindSpec { host, port, ssl, acl })
}

impl BindSpec {
    /// The socket addresses to listen on: `*` is every address (IPv6 dual-stack, with IPv4
    /// as a fallback when IPv6 is absent), `localhost` both loopbacks.
    pub fn resolve(&self) -> Vec<SocketAddr> {
        match self.host.as_str() {
            "*" => vec![SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), self.port)],
            "localhost" => vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), self.port),
            ],
            h => match h.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, self.port)],
                Err(_) => match (h, self.port).to_socket_addrs() {
                    Ok(it) => it.collect(),
                    Err(e) => {
                        log::error!("web: cannot resolve '{h}': {e}");
                        Vec::new()
                    }
                },
            },
        }
    }

    /// Whether this address serves requests under `acl` (no list = everything).
    pub fn allows(acl: &[String], what: &str) -> bool {
        acl.is_empty() || acl.iter().any(|a| a == what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> BindSpec {
        parse(s, 19999).unwrap().remove(0)
    }

    #[test]
    fn netdata_syntax() {
        assert_eq!(one("*"), BindSpec { host: "*".into(), port: 19999, ssl: SslMode::None, acl: vec![] });
        assert_eq!(one("127.0.0.1:8080").port, 8080);
        let s = one("[::1]:443=dashboard|netdata.conf^SSL=force");
        assert_eq!((s.host.as_str(), s.port, s.ssl), ("::1", 443, SslMode::Force));
        assert_eq!(s.acl, vec!["dashboard".to_string(), "netdata.conf".to_string()]);
        assert_eq!(one("::1").host, "::1");
        assert_eq!(one("localhost^SSL=optional").ssl, SslMode::Optional);
        assert_eq!(parse("127.0.0.1 ::1 unix:/run/x", 1).unwrap().len(), 2);
    }

    #[test]
    fn bad_words_are_errors() {
        assert!(parse("127.0.0.1:http", 1).is_err());
        assert!(parse("*^TLS=yes", 1).is_err());
        assert!(parse("*=everything", 1).is_err());
        assert!(parse("[::1", 1).is_err());
        assert!(parse("", 1).is_err());
    }

    #[test]
    fn resolution() {
        assert_eq!(one("localhost:5").resolve().len(), 2);
        assert_eq!(one("127.0.0.1:5").resolve(), vec!["127.0.0.1:5".parse().unwrap()]);
        assert!(one("*:5").resolve()[0].ip().is_unspecified());
    }
}

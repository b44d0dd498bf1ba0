//! The words of `exporting.conf` that are more than text: connector types, data sources,
//! and the grammar of a section name.
//!
//! A section is `[exporting:global]`, `[prometheus:exporter]`, or `[<type>:<name>]` where
//! the type may itself hold a colon (`graphite:http:my_name`). As in Netdata 1.37
//! (`is_valid_connector`), the name is what follows the **last** colon and the type is what
//! comes before it; a section whose whole name is a type (`[graphite:http]`,
//! `[graphite]`) names no instance; an empty name (`[graphite:]`) is given
//! `instance_<n>` by the settings, `n` counting such sections in file order.

use std::fmt;

/// What an instance sends, and how it frames it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Connector {
    /// `<prefix>.<host>.<chart>.<dimension> <value> <time>` lines.
    Graphite,
    /// `put` lines (telnet) or JSON objects (HTTP).
    Opentsdb,
    /// One JSON object per metric.
    Json,
    /// Protobuf `WriteRequest`, snappy-compressed, over HTTP.
    PrometheusRemoteWrite,
}

/// How the bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Lines on a TCP connection (graphite, json).
    Plain,
    /// OpenTSDB's telnet-style `put` lines on a TCP connection.
    Telnet,
    /// HTTP POSTs.
    Http,
    /// HTTP POSTs over TLS.
    Https,
}

/// A connector type of `exporting.conf`: a [`Connector`] with a [`Transport`]. Only the
/// combinations Netdata 1.37 has can be built (by [`ConnectorKind::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectorKind {
    connector: Connector,
    transport: Transport,
}

/// Where the values of a metric come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DataSource {
    /// The last collected raw integer and its collection time.
    AsCollected,
    /// The average of the stored values since the last export (Netdata's default).
    #[default]
    Average,
    /// The sum of the stored values since the last export.
    Sum,
}

/// What an `exporting.conf` section name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionName<'a> {
    /// `[exporting:global]`.
    Global,
    /// `[prometheus:exporter]`.
    PrometheusExporter,
    /// `[<type>:<name>]` of a type nanodata exports to; `name` may be empty.
    Instance { kind: ConnectorKind, type_name: &'a str, name: &'a str },
    /// `[<type>:<name>]` of a type Netdata has and nanodata does not (`kinesis`, `pubsub`,
    /// `mongodb`).
    Unsupported { type_name: &'a str, name: &'a str },
    /// The whole name is a type (`[graphite:http]`): no instance is named.
    TypeOnly(&'a str),
    /// `[<type>:<name>]` with a type nobody has.
    UnknownType { type_name: &'a str, name: &'a str },
    /// No colon at all, and not a type.
    NoType,
}

/// Every type nanodata exports to, in Netdata's spellings, with what it means.
const TYPES: &[(&str, Connector, Transport)] = &[
    ("graphite", Connector::Graphite, Transport::Plain),
    ("graphite:plaintext", Connector::Graphite, Transport::Plain),
    ("graphite:http", Connector::Graphite, Transport::Http),
    ("graphite:https", Connector::Graphite, Transport::Https),
    ("json", Connector::Json, Transport::Plain),
    ("json:plaintext", Connector::Json, Transport::Plain),
    ("json:http", Connector::Json, Transport::Http),
    ("json:https", Connector::Json, Transport::Https),
    ("opentsdb", Connector::Opentsdb, Transport::Telnet),
    ("opentsdb:telnet", Connector::Opentsdb, Transport::Telnet),
    ("opentsdb:http", Connector::Opentsdb, Transport::Http),
    ("opentsdb:https", Connector::Opentsdb, Transport::Https),
    ("prometheus_remote_write", Connector::PrometheusRemoteWrite, Transport::Http),
    ("prometheus_remote_write:http", Connector::PrometheusRemoteWrite, Transport::Http),
    ("prometheus_remote_write:https", Connector::PrometheusRemoteWrite, Transport::Https),
];

/// Types Netdata 1.37 knows that nanodata does not export to.
pub const UNSUPPORTED_TYPES: &[&str] =
    &["kinesis", "kinesis:plaintext", "pubsub", "pubsub:plaintext", "mongodb", "mongodb:plaintext"];

impl ConnectorKind {
    /// A type as written in a section name or in `[backend] type` (exact, case-sensitive,
    /// as Netdata compares them); `None` for any other word, the unsupported ones included.
    pub fn parse(type_name: &str) -> Option<ConnectorKind> {
        TYPES
            .iter()
            .find(|(name, _, _)| *name == type_name)
            .map(|&(_, connector, transport)| ConnectorKind { connector, transport })
    }

    /// Every type string [`ConnectorKind::parse`] accepts.
    pub fn names() -> impl Iterator<Item = &'static str> {
        TYPES.iter().map(|(name, _, _)| *name)
    }

    pub fn connector(self) -> Connector {
        self.connector
    }

    pub fn transport(self) -> Transport {
        self.transport
    }

    /// The connection is TLS (`:https` types).
    pub fn tls(self) -> bool {
        self.transport == Transport::Https
    }

    /// Batches are HTTP POSTs (`:http`, `:https`, and remote write always).
    pub fn http(self) -> bool {
        matches!(self.transport, Transport::Http | Transport::Https)
    }

    /// The port of a destination that names none: Netdata's per connector (graphite 2003,
    /// opentsdb 4242, json 5448, whatever the transport). Netdata 1.37 has none for remote
    /// write (it reads an unrelated field as the port); nanodata uses HTTP's, 80 or 443.
    pub fn default_port(self) -> u16 {
        match (self.connector, self.transport) {
            (Connector::Graphite, _) => 2003,
            (Connector::Opentsdb, _) => 4242,
            (Connector::Json, _) => 5448,
            (Connector::PrometheusRemoteWrite, Transport::Https) => 443,
            (Connector::PrometheusRemoteWrite, _) => 80,
        }
    }

    /// The shortest type string of this kind (`graphite`, `opentsdb:http`,
    /// `prometheus_remote_write:https`, …).
    pub fn name(self) -> &'static str {
        TYPES
            .iter()
            .find(|&&(_, c, t)| c == self.connector && t == self.transport)
            .map(|(name, _, _)| *name)
            .unwrap_or("unknown")
    }
}

impl fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl DataSource {
    /// Netdata's spellings (`exporting_parse_data_source`): `average`; `sum` or `volume`;
    /// `as collected`, `as-collected`, `as_collected`, `ascollected` or `raw`. Exact and
    /// case-sensitive, as Netdata compares them.
    pub fn parse(text: &str) -> Option<DataSource> {
        Some(match text {
            "average" => DataSource::Average,
            "sum" | "volume" => DataSource::Sum,
            "as collected" | "as-collected" | "as_collected" | "ascollected" | "raw" => {
                DataSource::AsCollected
            }
            _ => return None,
        })
    }

    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DataSource::AsCollected => "as collected",
            DataSource::Average => "average",
            DataSource::Sum => "sum",
        }
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'a> SectionName<'a> {
    /// Reads a section name of `exporting.conf`.
    pub fn parse(section: &'a str) -> SectionName<'a> {
        match section {
            super::super::keys::EXPORTING_GLOBAL => return SectionName::Global,
            super::super::keys::PROMETHEUS_EXPORTER => return SectionName::PrometheusExporter,
            _ => {}
        }
        if ConnectorKind::parse(section).is_some() || UNSUPPORTED_TYPES.contains(&section) {
            return SectionName::TypeOnly(section);
        }
        let Some((type_name, name)) = section.rsplit_once(':') else {
            return SectionName::NoType;
        };
        match ConnectorKind::parse(type_name) {
            Some(kind) => SectionName::Instance { kind, type_name, name },
            None if UNSUPPORTED_TYPES.contains(&type_name) => SectionName::Unsupported { type_name, name },
            None => SectionName::UnknownType { type_name, name },
        }
    }

    /// Why the section is not read, for a log line (`None` for the sections that are).
    pub fn problem(&self, section: &str) -> Option<String> {
        Some(match self {
            SectionName::Global | SectionName::PrometheusExporter | SectionName::Instance { .. } => return None,
            SectionName::Unsupported { type_name, .. } => {
                format!("section [{section}]: connector type '{type_name}' is not supported by nanodata (ignored)")
            }
            SectionName::TypeOnly(type_name) => format!(
                "section [{section}] names a connector type but no instance; write [{type_name}:<name>] (ignored)"
            ),
            SectionName::UnknownType { type_name, .. } => format!(
                "section [{section}]: unknown connector type '{type_name}' (known: {}) (ignored)",
                ConnectorKind::names().collect::<Vec<_>>().join(", ")
            ),
            SectionName::NoType => format!(
                "section [{section}] is not [exporting:global], [prometheus:exporter] or a \
                 [<type>:<name>] connector instance (ignored)"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Connector::*;
    use Transport::*;

    #[test]
    fn every_type_string() {
        let cases = [
            ("graphite", Graphite, Plain, 2003),
            ("graphite:plaintext", Graphite, Plain, 2003),
            ("graphite:http", Graphite, Http, 2003),
            ("graphite:https", Graphite, Https, 2003),
            ("json", Json, Plain, 5448),
            ("json:plaintext", Json, Plain, 5448),
            ("json:http", Json, Http, 5448),
            ("json:https", Json, Https, 5448),
            ("opentsdb", Opentsdb, Telnet, 4242),
            ("opentsdb:telnet", Opentsdb, Telnet, 4242),
            ("opentsdb:http", Opentsdb, Http, 4242),
            ("opentsdb:https", Opentsdb, Https, 4242),
            ("prometheus_remote_write", PrometheusRemoteWrite, Http, 80),
            ("prometheus_remote_write:http", PrometheusRemoteWrite, Http, 80),
            ("prometheus_remote_write:https", PrometheusRemoteWrite, Https, 443),
        ];
        for (text, connector, transport, port) in cases {
            let kind = ConnectorKind::parse(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(
                (kind.connector(), kind.transport(), kind.default_port()),
                (connector, transport, port)
            );
            assert_eq!(kind.tls(), transport == Https, "{text}");
            assert_eq!(kind.http(), matches!(transport, Http | Https), "{text}");
            assert_eq!(ConnectorKind::parse(kind.name()), Some(kind), "{text}");
        }
        assert_eq!(ConnectorKind::names().count(), cases.len());
        assert_eq!(ConnectorKind::parse("graphite:plaintext").map(|k| k.name()), Some("graphite"));
        assert_eq!(
            ConnectorKind::parse("opentsdb:telnet").map(|k| k.to_string()).as_deref(),
            Some("opentsdb")
        );
        for bad in [
            "Graphite",
            "graphite:udp",
            "opentsdb:plaintext",
            "json:telnet",
            "prometheus_remote_write:plaintext",
            "kinesis",
            "pubsub",
            "mongodb",
            "prometheus",
            "",
            " graphite",
        ] {
            assert_eq!(ConnectorKind::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn data_source_spellings() {
        use DataSource::*;
        for (text, source) in [
            ("average", Average),
            ("sum", Sum),
            ("volume", Sum),
            ("as collected", AsCollected),
            ("as-collected", AsCollected),
            ("as_collected", AsCollected),
            ("ascollected", AsCollected),
            ("raw", AsCollected),
        ] {
            assert_eq!(DataSource::parse(text), Some(source), "{text}");
        }
        for bad in ["Average", "avg", "as  collected", "", "mean"] {
            assert_eq!(DataSource::parse(bad), None, "{bad}");
        }
        // The registry's Choice list and the parser agree.
        for text in crate::config::keys::DATA_SOURCES {
            assert!(DataSource::parse(text).is_some(), "{text}");
        }
        assert_eq!(crate::config::keys::DATA_SOURCES.len(), 8);
        assert_eq!(Sum.to_string(), "sum");
        assert_eq!(DataSource::parse(AsCollected.as_str()), Some(AsCollected));
    }

    #[test]
    fn section_names_split_at_the_last_colon() {
        let kind = |t| ConnectorKind::parse(t).unwrap();
        assert_eq!(SectionName::parse("exporting:global"), SectionName::Global);
        assert_eq!(SectionName::parse("prometheus:exporter"), SectionName::PrometheusExporter);
        assert_eq!(
            SectionName::parse("graphite:my_name"),
            SectionName::Instance { kind: kind("graphite"), type_name: "graphite", name: "my_name" }
        );
        assert_eq!(
            SectionName::parse("graphite:http:my_name"),
            SectionName::Instance {
                kind: kind("graphite:http"),
                type_name: "graphite:http",
                name: "my_name"
            }
        );
        assert_eq!(
            SectionName::parse("opentsdb:https:tsdb"),
            SectionName::Instance { kind: kind("opentsdb:https"), type_name: "opentsdb:https", name: "tsdb" }
        );
        assert_eq!(
            SectionName::parse("prometheus_remote_write:vm"),
            SectionName::Instance {
                kind: kind("prometheus_remote_write"),
                type_name: "prometheus_remote_write",
                name: "vm"
            }
        );
        // A type written with its transport keeps it; the name is after the last colon.
        assert_eq!(
            SectionName::parse("json:plaintext:x"),
            SectionName::Instance { kind: kind("json"), type_name: "json:plaintext", name: "x" }
        );
        assert_eq!(
            SectionName::parse("graphite:"),
            SectionName::Instance { kind: kind("graphite"), type_name: "graphite", name: "" }
        );
        assert_eq!(SectionName::parse("graphite:http"), SectionName::TypeOnly("graphite:http"));
        assert_eq!(SectionName::parse("graphite"), SectionName::TypeOnly("graphite"));
        assert_eq!(SectionName::parse("kinesis"), SectionName::TypeOnly("kinesis"));
        assert_eq!(
            SectionName::parse("kinesis:aws"),
            SectionName::Unsupported { type_name: "kinesis", name: "aws" }
        );
        assert_eq!(
            SectionName::parse("mongodb:plaintext:db"),
            SectionName::Unsupported { type_name: "mongodb:plaintext", name: "db" }
        );
        assert_eq!(
            SectionName::parse("influxdb:x"),
            SectionName::UnknownType { type_name: "influxdb", name: "x" }
        );
        assert_eq!(
            SectionName::parse("graphite:udp:x"),
            SectionName::UnknownType { type_name: "graphite:udp", name: "x" }
        );
        assert_eq!(SectionName::parse("global"), SectionName::NoType);
        assert_eq!(SectionName::parse("exporting"), SectionName::NoType);
    }

    #[test]
    fn problems_name_the_section() {
        let p = |s| SectionName::parse(s).problem(s);
        assert_eq!(p("graphite:a"), None);
        assert_eq!(p("exporting:global"), None);
        assert_eq!(
            p("kinesis:aws").as_deref(),
            Some("section [kinesis:aws]: connector type 'kinesis' is not supported by nanodata (ignored)")
        );
        assert_eq!(
            p("opentsdb:http").as_deref(),
            Some("section [opentsdb:http] names a connector type but no instance; write [opentsdb:http:<name>] (ignored)")
        );
        assert!(p("influx:x")
            .is_some_and(|m| m.contains("unknown connector type 'influx'") && m.contains("graphite:https")));
        assert!(p("foo").is_some_and(|m| m.contains("[<type>:<name>]")));
    }
}

//! One batch of one instance, in its connector's wire format: the line formats through
//! [`crate::exporting::format`], remote write through [`crate::exporting::remote_write`].

use crate::config::settings::{Connector, Instance, Transport};
use crate::exporting::format::{self, Batch, Format, FormatOptions, Formatter, SendLabels};
use crate::exporting::names::NameSource;
use crate::exporting::remote_write;
use crate::rrd::Hosts;

/// Writes the batches of one instance.
pub enum Encoder {
    Lines(Box<dyn Formatter>),
    RemoteWrite {
        batch: Box<remote_write::Batch>,
        options: FormatOptions,
        /// `send variables`: the hosts' custom variables too.
        variables: bool,
    },
}

/// The line format of an instance's type; `None` for remote write.
pub fn format_of(instance: &Instance) -> Option<Format> {
    let http = instance.kind.http();
    Some(match (instance.kind.connector(), instance.kind.transport()) {
        (Connector::Graphite, _) => Format::Graphite,
        (Connector::Opentsdb, Transport::Http | Transport::Https) => Format::OpentsdbHttp,
        (Connector::Opentsdb, _) => Format::OpentsdbTelnet,
        (Connector::Json, _) if http => Format::JsonHttp,
        (Connector::Json, _) => Format::Json,
        (Connector::PrometheusRemoteWrite, _) => return None,
    })
}

/// What the formats take from an instance.
pub fn options(instance: &Instance) -> FormatOptions {
    FormatOptions {
        prefix: instance.prefix.clone(),
        names: if instance.send_names_instead_of_ids { NameSource::Names } else { NameSource::Ids },
        labels: SendLabels {
            configured: instance.send_configured_labels,
            automatic: instance.send_automatic_labels,
        },
    }
}

impl Encoder {
    pub fn new(instance: &Instance) -> Encoder {
        match format_of(instance) {
            Some(f) => Encoder::Lines(f.formatter(options(instance))),
            None => Encoder::RemoteWrite {
                batch: Box::default(),
                options: options(instance),
                variables: instance.send_variables,
            },
        }
    }

    /// Waiting batches are worth compressing (remote write is snappy already).
    pub fn compressible(&self) -> bool {
        matches!(self, Encoder::Lines(_))
    }

    /// Writes one batch of `hosts` into `out` (cleared first); returns the metrics in it.
    pub fn encode(&mut self, hosts: &Hosts, batch: &Batch<'_>, out: &mut Vec<u8>) -> Result<usize, String> {
        out.clear();
        match self {
            Encoder::Lines(fmt) => Ok(format::write_batch(fmt.as_mut(), out, hosts, batch)),
            Encoder::RemoteWrite { batch: rw, options, variables } => {
                rw.clear();
                let mut n = remote_write::write_batch(rw, hosts, batch, options);
                if *variables && n > 0 {
                    n += remote_write::hosts::write_variables(rw, hosts, batch, &options.prefix);
                }
                let body =
                    rw.body().map_err(|_| "the request is over 4 GiB, too large to compress".to_string())?;
                out.extend_from_slice(body);
                Ok(n)
            }
        }
    }
}

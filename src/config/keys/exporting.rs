//! The keys of `exporting.conf` (Netdata 1.37's vocabulary): `[exporting:global]`,
//! `[prometheus:exporter]`, and the [`INSTANCE`] template keys of every `[<type>:<name>]`
//! connector instance.
//!
//! As in Netdata, an instance reads each key from its own section, then from
//! `[exporting:global]`, then the built-in default: so every instance key is also a key of
//! `[exporting:global]`, where it sets the default of all instances.

use super::Kind::*;
use super::{Key, DATA_SOURCES, EXPORTING_GLOBAL, INSTANCE, PROMETHEUS_EXPORTER};

registry! { EXPORTING_KEYS:
    EXPORTING_ENABLED = EXPORTING_GLOBAL, "enabled", "no", Bool,
        "Default of every instance's enabled (as in Netdata 1.37, an instance with its own enabled = yes runs even when this is no).";
    EXPORTING_HOSTNAME = EXPORTING_GLOBAL, "hostname", "", Text,
        "Name sent for this node by every instance; empty = [global] hostname of nanodata.conf (children keep their own names).";
    EXPORTING_UPDATE_EVERY = EXPORTING_GLOBAL, "update every", "10", Seconds,
        "Default of every instance's update every.";
    EXPORTING_SEND_CONFIGURED_LABELS = EXPORTING_GLOBAL, "send configured labels", "yes", Bool,
        "Default of every instance's send configured labels.";
    EXPORTING_SEND_AUTOMATIC_LABELS = EXPORTING_GLOBAL, "send automatic labels", "no", Bool,
        "Default of every instance's send automatic labels.";
    EXPORTING_DESTINATION = EXPORTING_GLOBAL, "destination", "localhost", Text,
        "Default of every instance's destination.";
    EXPORTING_DATA_SOURCE = EXPORTING_GLOBAL, "data source", "average", Choice(DATA_SOURCES),
        "Default of every instance's data source.";
    EXPORTING_PREFIX = EXPORTING_GLOBAL, "prefix", "netdata", Text,
        "Default of every instance's prefix.";
    EXPORTING_BUFFER_ON_FAILURES = EXPORTING_GLOBAL, "buffer on failures", "10", Integer,
        "Default of every instance's buffer on failures.";
    EXPORTING_TIMEOUT_MS = EXPORTING_GLOBAL, "timeout ms", "10000", Integer,
        "Default of every instance's timeout ms.";
    EXPORTING_SEND_NAMES = EXPORTING_GLOBAL, "send names instead of ids", "yes", Bool,
        "Default of every instance's send names instead of ids.";
    EXPORTING_SEND_CHARTS = EXPORTING_GLOBAL, "send charts matching", "*", Pattern,
        "Default of every instance's send charts matching.";
    EXPORTING_SEND_HOSTS = EXPORTING_GLOBAL, "send hosts matching", "localhost *", Pattern,
        "Default of every instance's send hosts matching.";
    EXPORTING_SEND_VARIABLES = EXPORTING_GLOBAL, "send variables", "yes", Bool,
        "Default of every instance's send variables.";
    EXPORTING_USERNAME = EXPORTING_GLOBAL, "username", "", Text,
        "Default of every instance's username.";
    EXPORTING_PASSWORD = EXPORTING_GLOBAL, "password", "", Text,
        "Default of every instance's password.";
    EXPORTING_REMOTE_WRITE_PATH = EXPORTING_GLOBAL, "remote write URL path", "/receive", Text,
        "Default of every remote write instance's remote write URL path.";
    EXPORTING_KEEP_BACKLOG = EXPORTING_GLOBAL, "keep backlog on restart", "yes", Bool,
        "Default of every instance's keep backlog on restart (nanodata extension).";

    PROMETHEUS_PREFIX = PROMETHEUS_EXPORTER, "prefix", "netdata", Text,
        "/api/v1/allmetrics: prefix of the prometheus metric names (the prefix= parameter overrides it).";
    PROMETHEUS_DATA_SOURCE = PROMETHEUS_EXPORTER, "data source", "average", Choice(DATA_SOURCES),
        "/api/v1/allmetrics: average, sum or as collected (the data source= parameter overrides it).";
    PROMETHEUS_SEND_NAMES = PROMETHEUS_EXPORTER, "send names instead of ids", "yes", Bool,
        "/api/v1/allmetrics: chart and dimension names instead of ids (the names= parameter overrides it).";
    PROMETHEUS_SEND_TIMESTAMPS = PROMETHEUS_EXPORTER, "send timestamps", "yes", Bool,
        "/api/v1/allmetrics: a timestamp on every sample (the timestamps= parameter overrides it; nanodata extension).";
    PROMETHEUS_UPDATE_EVERY = PROMETHEUS_EXPORTER, "update every", "10", Seconds,
        "Accepted, not used by nanodata yet (the first average/sum window of a scraper is the chart's update every).";
    PROMETHEUS_SEND_CONFIGURED_LABELS = PROMETHEUS_EXPORTER, "send configured labels", "yes", Bool,
        "Accepted, not used by nanodata yet (netdata_info carries every host label).";
    PROMETHEUS_SEND_AUTOMATIC_LABELS = PROMETHEUS_EXPORTER, "send automatic labels", "no", Bool,
        "Accepted, not used by nanodata yet (netdata_info carries every host label).";
    PROMETHEUS_SEND_CHARTS = PROMETHEUS_EXPORTER, "send charts matching", "*", Pattern,
        "Accepted, not used by nanodata yet (use the filter= parameter).";
    PROMETHEUS_SEND_HOSTS = PROMETHEUS_EXPORTER, "send hosts matching", "localhost *", Pattern,
        "Accepted, not used by nanodata yet (prometheus_all_hosts sends every host).";

    INSTANCE_ENABLED = INSTANCE, "enabled", "no", Bool,
        "Run this instance; unset = [exporting:global] enabled.";
    INSTANCE_DESTINATION = INSTANCE, "destination", "localhost", Text,
        "[PROTOCOL:]HOST[%IFACE][:PORT], separated by spaces, tried in order (failover); default port graphite 2003, opentsdb 4242, json 5448, remote write 80 (443 for :https).";
    INSTANCE_DATA_SOURCE = INSTANCE, "data source", "average", Choice(DATA_SOURCES),
        "average or sum (volume) of the stored values since the last export, or as collected (raw) last collected values.";
    INSTANCE_PREFIX = INSTANCE, "prefix", "netdata", Text,
        "First part of every metric name.";
    INSTANCE_HOSTNAME = INSTANCE, "hostname", "", Text,
        "Name sent for this node; empty = [exporting:global] hostname, else [global] hostname.";
    INSTANCE_UPDATE_EVERY = INSTANCE, "update every", "10", Seconds,
        "Seconds between exports (1 ..= 86 400).";
    INSTANCE_BUFFER_ON_FAILURES = INSTANCE, "buffer on failures", "10", Integer,
        "Batches kept while the destination fails (0 ..= 10 000); then the oldest is dropped and counted.";
    INSTANCE_TIMEOUT_MS = INSTANCE, "timeout ms", "10000", Integer,
        "Connect, send and response timeout in milliseconds (1 ..= 3 600 000).";
    INSTANCE_SEND_NAMES = INSTANCE, "send names instead of ids", "yes", Bool,
        "Chart and dimension names instead of ids in metric names.";
    INSTANCE_SEND_CHARTS = INSTANCE, "send charts matching", "*", Pattern,
        "Charts (id or name) exported.";
    INSTANCE_SEND_HOSTS = INSTANCE, "send hosts matching", "localhost *", Pattern,
        "Hosts exported (localhost is this node, the others their host names).";
    INSTANCE_SEND_VARIABLES = INSTANCE, "send variables", "yes", Bool,
        "Remote write: send the hosts' custom variables too.";
    INSTANCE_SEND_CONFIGURED_LABELS = INSTANCE, "send configured labels", "yes", Bool,
        "Send each host's [host labels].";
    INSTANCE_SEND_AUTOMATIC_LABELS = INSTANCE, "send automatic labels", "no", Bool,
        "Send each host's automatic _… labels.";
    INSTANCE_USERNAME = INSTANCE, "username", "", Text,
        "HTTP basic authentication user (:http and :https types).";
    INSTANCE_PASSWORD = INSTANCE, "password", "", Text,
        "HTTP basic authentication password (:http and :https types).";
    INSTANCE_REMOTE_WRITE_PATH = INSTANCE, "remote write URL path", "/receive", Text,
        "prometheus_remote_write: the path POSTed to.";
    INSTANCE_KEEP_BACKLOG = INSTANCE, "keep backlog on restart", "yes", Bool,
        "nanodata extension: on stop, write the batches not yet accepted and the time of the last export to [directories] cache/exporting/<name>.spool; the next start sends them and exports from there (written once per stop).";
}

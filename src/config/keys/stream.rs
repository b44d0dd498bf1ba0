//! The keys of `stream.conf`: `[stream]` (this node's sender and the receiving side's
//! limits) and the [`PEER`] template keys of every API-key and machine-GUID section.

use super::Kind::*;
use super::{Key, DB_MODES, DNS_MODES, PEER, STREAM};

registry! { STREAM_KEYS:
    STREAM_ENABLED = STREAM, "enabled", "no", Bool,
        "Stream this node's metrics to a parent.";
    STREAM_DESTINATION = STREAM, "destination", "", Text,
        "Parents, tried in order: [PROTOCOL:]HOST[%IFACE][:PORT][:SSL], separated by spaces.";
    STREAM_API_KEY = STREAM, "api key", "", Text,
        "API key (a UUID) the parent accepts.";
    STREAM_TIMEOUT = STREAM, "timeout seconds", "60", Seconds,
        "Connect, send and receive timeout.";
    STREAM_DEFAULT_PORT = STREAM, "default port", "19999", Integer,
        "Port for destinations that give none.";
    STREAM_SEND_CHARTS = STREAM, "send charts matching", "*", Pattern,
        "Charts (id or name) that are streamed.";
    STREAM_BUFFER_SIZE = STREAM, "buffer size bytes", "1048576", Bytes,
        "Send buffer; when full the connection is restarted (nanodata default 1 MiB; Netdata: 10 MiB).";
    STREAM_RECONNECT_DELAY = STREAM, "reconnect delay seconds", "5", Seconds,
        "Pause before reconnecting to a parent.";
    STREAM_CLOCK_RESYNC = STREAM, "initial clock resync iterations", "60", Integer,
        "Collections during which the clock is resynchronised after start.";
    STREAM_COMPRESSION = STREAM, "enable compression", "yes", Bool,
        "Offer LZ4 compression to the parent.";
    STREAM_SSL_SKIP_VERIFY = STREAM, "ssl skip certificate verification", "no", Bool,
        "Accept any certificate from the parent.";
    STREAM_CA_PATH = STREAM, "CApath", "", Path,
        "Directory of trusted CA certificates; empty = the system's.";
    STREAM_CA_FILE = STREAM, "CAfile", "", Path,
        "File of trusted CA certificates; empty = the system's.";
    STREAM_REPLICATION_WINDOW = STREAM, "replication window", "300", Seconds,
        "In memory mode none, seconds of recent values kept in RAM to fill the parent's gaps after a reconnection (nanodata extension; 0: off).";
    STREAM_MAX_BACKOFF = STREAM, "maximum reconnect delay seconds", "300", Seconds,
        "Upper bound of the growing, jittered reconnection delay (nanodata extension).";
    STREAM_MAX_CHILDREN = STREAM, "max child hosts", "200", Integer,
        "Receiving side: most child hosts this node keeps; a new child beyond it gets the busy reply (nanodata extension).";
    STREAM_MAX_CHARTS = STREAM, "max charts per child", "2000", Integer,
        "Receiving side: charts one child may define; one more closes its connection (nanodata extension).";
    STREAM_MAX_DIMENSIONS = STREAM, "max dimensions per chart", "1000", Integer,
        "Receiving side: dimensions per chart of a child; one more closes its connection (nanodata extension).";
    STREAM_MAX_DIMENSIONS_PER_CHILD = STREAM, "max dimensions per child", "10000", Integer,
        "Receiving side: dimensions of all the charts of one child together (each keeps its own ring of slots); one more closes its connection (nanodata extension).";

    PEER_TYPE = PEER, "type", "api", Choice(&["api", "machine"]),
        "api: the section is an API key; machine: it is a child's machine GUID.";
    PEER_ENABLED = PEER, "enabled", "no", Bool,
        "Accept children using this API key or GUID.";
    PEER_ALLOW_FROM = PEER, "allow from", "*", Pattern,
        "Addresses allowed to use it.";
    PEER_ALLOW_DNS = PEER, "allow by dns", "heuristic", Choice(DNS_MODES),
        "Accepted, not used by nanodata (patterns match addresses only; names are not resolved).";
    PEER_DEFAULT_HISTORY = PEER, "default history", "3600", Integer,
        "API key: slots per dimension for its children.";
    PEER_HISTORY = PEER, "history", "3600", Integer,
        "Machine GUID: slots per dimension; overrides the API key's default history.";
    PEER_DEFAULT_MEMORY_MODE = PEER, "default memory mode", "ram", Choice(DB_MODES),
        "API key: database mode of its children.";
    PEER_MEMORY_MODE = PEER, "memory mode", "ram", Choice(DB_MODES),
        "Machine GUID: database mode; overrides the API key's default memory mode.";
    PEER_DEFAULT_HEALTH = PEER, "health enabled by default", "auto", BoolAuto,
        "API key: alarms for its children; auto: while the child is connected.";
    PEER_HEALTH = PEER, "health enabled", "auto", BoolAuto,
        "Machine GUID: alarms for this child (yes/no/auto); overrides the API key's default.";
    PEER_DEFAULT_POSTPONE = PEER, "default postpone alarms on connect seconds", "60", Seconds,
        "API key: after a child connects, its alarms notify nothing for this long.";
    PEER_POSTPONE = PEER, "postpone alarms on connect seconds", "60", Seconds,
        "Machine GUID: overrides the API key's default postpone alarms on connect seconds.";
    PEER_DEFAULT_HEALTH_LOG_HISTORY = PEER, "default health log history", "432000", Seconds,
        "API key: seconds of alarm log kept per child.";
    PEER_HEALTH_LOG_HISTORY = PEER, "health log history", "432000", Seconds,
        "Machine GUID: overrides the API key's default health log history.";
    PEER_DEFAULT_PROXY_ENABLED = PEER, "default proxy enabled", "", BoolAuto,
        "API key: re-stream its children; empty = [stream] enabled.";
    PEER_PROXY_ENABLED = PEER, "proxy enabled", "", BoolAuto,
        "Machine GUID: re-stream this child; empty = the API key's setting.";
    PEER_DEFAULT_PROXY_DESTINATION = PEER, "default proxy destination", "", Text,
        "API key: where to re-stream; empty = [stream] destination.";
    PEER_PROXY_DESTINATION = PEER, "proxy destination", "", Text,
        "Machine GUID: where to re-stream; empty = the API key's setting.";
    PEER_DEFAULT_PROXY_API_KEY = PEER, "default proxy api key", "", Text,
        "API key: key used when re-streaming; empty = [stream] api key.";
    PEER_PROXY_API_KEY = PEER, "proxy api key", "", Text,
        "Machine GUID: key used when re-streaming; empty = the API key's setting.";
    PEER_DEFAULT_PROXY_SEND_CHARTS = PEER, "default proxy send charts matching", "*", Pattern,
        "API key: charts re-streamed.";
    PEER_PROXY_SEND_CHARTS = PEER, "proxy send charts matching", "*", Pattern,
        "Machine GUID: charts re-streamed.";
    PEER_COMPRESSION = PEER, "enable compression", "yes", Bool,
        "Accept LZ4 compression from these children.";
    PEER_REPLICATION = PEER, "enable replication", "yes", Bool,
        "Ask these children to fill gaps.";
    PEER_SECONDS_TO_REPLICATE = PEER, "seconds to replicate", "86400", Seconds,
        "How far back replication goes.";
    PEER_REPLICATION_STEP = PEER, "seconds per replication step", "600", Seconds,
        "Seconds of data per replication request.";
    PEER_UPDATE_EVERY = PEER, "update every", "0", Seconds,
        "Collection interval forced on the child; 0 = the child's own.";
    PEER_MULTIPLE_CONNECTIONS = PEER, "multiple connections", "allow", Choice(&["allow", "deny"]),
        "Accepted, not used by nanodata.";
}

//! `/api/v1/registry`: the registry actions Netdata's dashboard sends, answered as Netdata
//! 1.37 answers them with its registry off (`[registry] enabled = no`, its default on every
//! node but the one users pick as their registry). nanodata keeps no registry: `hello` tells
//! the dashboard the node's name and GUID, and every other action (`access`, `delete`,
//! `search`, `switch`), given its parameters, answers `"status": "disabled"` — the dashboard
//! then works without a global registry.
//!
//! One difference, on purpose: Netdata announces `https://registry.my-netdata.io` (its
//! `registry to announce`) even with the registry off, so every browser that opens the
//! dashboard tells that outside service the node's GUID, name and URL. nanodata announces
//! `[registry] registry to announce` only when the configuration sets it, and otherwise an
//! empty registry: the dashboard then sends `access` to this node itself, which answers
//! `disabled` without a `registry` to redirect to (with one, even empty, the dashboard asks
//! twice more), and nothing leaves the network.
//!
//! `cloud_base_url` is Netdata's `https://app.netdata.cloud`: Netdata 1.37's dashboard draws
//! no chart until hello gave it a non-empty one (found by running it against nanodata); it
//! loads nothing from there unless the user clicks its sign-in button.

use crate::rrd::Host;
use crate::web::http::{Response, Status};
use crate::web::json;

/// What hello tells the dashboard (Netdata's default `cloud base url`).
pub const CLOUD_BASE_URL: &str = "https://app.netdata.cloud";

/// Answers `/api/v1/registry` for `host`, announcing `announce` as the registry.
pub fn registry(host: &Host, pairs: &[(String, String)], announce: &str) -> Response {
    // Netdata takes the last value of a repeated parameter and treats an empty one as absent.
    let param =
        |name: &str| pairs.iter().rev().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.as_str());
    let action = param("action").unwrap_or("");
    let needs: &[&str] = match action {
        "hello" => &[],
        "access" => &["machine", "url", "name"],
        "delete" => &["machine", "url", "delete_url"],
        "search" => &["machine", "url", "for"],
        "switch" => &["machine", "url", "to"],
        _ => {
            return Response::text(
                Status::BadRequest,
                "Invalid registry request - you need to set an action: hello, access, delete, search",
            )
        }
    };
    if needs.iter().any(|n| param(n).is_none()) {
        let mut title = action.to_owned();
        title[..1].make_ascii_uppercase();
        return Response::text(Status::BadRequest, format!("Invalid registry {title} request."));
    }
    let mut out = String::with_capacity(256);
    out.push_str("{\n\t\"action\": ");
    json::str(&mut out, action);
    out.push_str(if action == "hello" { ",\n\t\"status\": \"ok\"" } else { ",\n\t\"status\": \"disabled\"" });
    out.push_str(",\n\t\"hostname\": ");
    json::str(&mut out, host.hostname());
    out.push_str(",\n\t\"machine_guid\": ");
    json::str(&mut out, host.guid());
    if action == "hello" || !announce.is_empty() {
        out.push_str(",\n\t\"registry\": ");
        json::str(&mut out, announce);
    }
    if action == "hello" {
        out.push_str(",\n\t\"cloud_base_url\": ");
        json::str(&mut out, CLOUD_BASE_URL);
        out.push_str(",\n\t\"anonymous_statistics\": false");
    }
    out.push_str("\n}\n");
    Response::json(out)
}

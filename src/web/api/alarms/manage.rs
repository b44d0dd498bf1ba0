//! `/api/v1/manage/health` (Netdata's health command API): `cmd=SILENCE ALL | DISABLE ALL |
//! SILENCE | DISABLE | RESET | LIST`, and selectors `alarm=`, `chart=`, `context=`,
//! `hosts=`, `families=` (simple patterns; one request adds at most one selector).
//!
//! A request must come from an address `[web] allow management from` allows (else 403, the
//! dashboard's refusal) and carry `X-Auth-Token: <the token in <lib>/netdata.api.key>` (else
//! 403 `Auth Error`). The answers are Netdata's texts, one line per thing done.

use std::net::IpAddr;

use crate::web::context::{Acl, Context};
use crate::web::http::{Request, Response, Status};

/// The refusal of a missing or wrong token.
pub const AUTH_ERROR: &str = "Auth Error\n";
pub const MSG_SILENCE_ALL: &str = "All alarm notifications are silenced\n";
pub const MSG_DISABLE_ALL: &str = "All health checks are disabled\n";
pub const MSG_RESET: &str = "All health checks and notifications are enabled\n";
pub const MSG_DISABLE: &str = "Health checks disabled for alarms matching the selectors\n";
pub const MSG_SILENCE: &str = "Alarm notifications silenced for alarms matching the selectors\n";
pub const MSG_ADDED: &str = "Alarm selector added\n";
pub const MSG_NO_TYPE: &str =
    "WARNING: Added alarm selector to silence/disable alarms without a SILENCE or DISABLE command.\n";

/// Answers `/api/v1/manage/health` for a client at `peer`.
pub fn health(ctx: &Context, req: &Request, pairs: &[(String, String)], peer: IpAddr) -> Response {
    if !ctx.allowed(Acl::Management, peer) {
        return Response::text(Status::Forbidden, "You are not allowed to access this resource.");
    }
    if !authorized(ctx, req) {
        return Response::new(Status::Forbidden, "text/plain; charset=utf-8", AUTH_ERROR);
    }
    #[cfg(feature = "health")]
    if let Some(h) = &ctx.health {
        return run(h, pairs);
    }
    let _ = pairs;
    Response::text(Status::Ok, "Health is disabled on this node: there is nothing to manage.")
}

/// The token matches (compared in full; an empty configured token matches nothing).
fn authorized(ctx: &Context, req: &Request) -> bool {
    let Some(given) = req.auth_token.as_deref() else { return false };
    !ctx.api_token.is_empty() && constant_time_eq(given.as_bytes(), ctx.api_token.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(feature = "health")]
fn run(h: &crate::health::Health, pairs: &[(String, String)]) -> Response {
    use crate::health::engine::{Selector, SelectorKey, SilenceType};

    let mut out = String::new();
    let mut selector = Selector::default();
    for (name, value) in pairs {
        if name == "cmd" {
            match value.as_str() {
                "SILENCE ALL" => h.change_silencers(|s| {
                    s.all = true;
                    s.kind = SilenceType::Silence;
                    out.push_str(MSG_SILENCE_ALL);
                }),
                "DISABLE ALL" => h.change_silencers(|s| {
                    s.all = true;
                    s.kind = SilenceType::Disable;
                    out.push_str(MSG_DISABLE_ALL);
                }),
                "SILENCE" => h.change_silencers(|s| {
                    s.kind = SilenceType::Silence;
                    out.push_str(MSG_SILENCE);
                }),
                "DISABLE" => h.change_silencers(|s| {
                    s.kind = SilenceType::Disable;
                    out.push_str(MSG_DISABLE);
                }),
                "RESET" => h.change_silencers(|s| {
                    s.reset();
                    out.push_str(MSG_RESET);
                }),
                "LIST" => return Response::json(list(&h.silencers())),
                _ => {}
            }
        } else if let Some(key) = SelectorKey::parse(name) {
            if !value.is_empty() {
                selector.set(key, value);
            }
        }
    }
    if !selector.is_empty() {
        let kind = h.change_silencers(|s| {
            s.add(selector);
            s.kind
        });
        out.push_str(MSG_ADDED);
        if kind == SilenceType::None {
            out.push_str(MSG_NO_TYPE);
        }
    }
    Response::new(Status::Ok, "text/plain; charset=utf-8", out)
}

/// `cmd=LIST`: `{"all", "type", "silencers": [{<key>: <pattern>, …}, …]}`, newest first.
#[cfg(feature = "health")]
pub fn list(s: &crate::health::engine::Silencers) -> String {
    use crate::web::json;
    let mut o =
        format!("{{\n\t\"all\": {},\n\t\"type\": \"{}\",\n\t\"silencers\": [", s.all, s.kind.as_str());
    for (i, sel) in s.selectors.iter().enumerate() {
        o.push_str(if i > 0 { ",\n\t\t{" } else { "\n\t\t{" });
        for (j, (k, text)) in sel.keys().enumerate() {
            o.push_str(if j > 0 { ",\n\t\t\t\"" } else { "\n\t\t\t\"" });
            o.push_str(k.as_str());
            o.push_str("\": ");
            json::str(&mut o, text);
        }
        o.push_str("\n\t\t}");
    }
    o.push_str(if s.selectors.is_empty() { "]\n}\n" } else { "\n\t]\n}\n" });
    o
}

//! Routing of HTTP requests to the API v1 endpoints, the dashboard (or the static web files
//! of `[directories] web`) and `/netdata.conf`, for this node and for every host it holds
//! (`/host/<hostname or guid>/…`). API paths are matched first: a file never shadows them.

pub mod alarms;
pub mod allmetrics;
pub mod badge;
pub mod charts;
pub mod data;
pub mod info;
pub mod registry;

use std::net::IpAddr;
use std::sync::Arc;

use crate::rrd::Host;
use crate::web::context::{Acl, Context};
use crate::web::dashboard;
use crate::web::http::{query_pairs, Method, Request, Response, Status};

/// Answers one request. `peer` is the client address for the ACLs.
pub fn handle(ctx: &Context, req: &Request, peer: IpAddr) -> Response {
    if req.method == Method::Options {
        let mut r = Response::new(Status::Ok, "text/plain", Vec::new());
        r.headers.push_str("Access-Control-Allow-Methods: GET, OPTIONS\r\nAccess-Control-Allow-Headers: accept, x-requested-with, origin, content-type, cookie, pragma, cache-control, x-auth-token\r\nAccess-Control-Max-Age: 1209600\r\n");
        return r;
    }
    // Netdata's URL parser skips empty path segments: its dashboard asks `//api/v1/info`.
    let collapsed;
    let path = if req.path.contains("//") {
        collapsed = collapse_slashes(&req.path);
        collapsed.as_str()
    } else {
        req.path.as_str()
    };
    if path == "/netdata.conf" {
        if !ctx.allowed(Acl::NetdataConf, peer) {
            return forbidden();
        }
        return Response::new(Status::Ok, "text/plain; charset=utf-8", ctx.netdata_conf.clone());
    }
    let badges_allowed = || badge::is_badge_path(path) && ctx.allowed(Acl::Badges, peer);
    if !(ctx.allowed(Acl::Dashboard, peer) || badges_allowed()) {
        return forbidden();
    }
    if let Some(rest) = path.strip_prefix("/host/") {
        let (key, sub) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let Some(host) = ctx.hosts.find(key) else {
            return Response::text(Status::NotFound, format!("host '{key}' is not found"));
        };
        if sub.is_empty() {
            return Response::redirect(format!("/host/{key}/"));
        }
        return host_route(ctx, &host, sub, req, peer);
    }
    let localhost = Arc::clone(ctx.hosts.localhost());
    host_route(ctx, &localhost, path, req, peer)
}

fn host_route(ctx: &Context, host: &Arc<Host>, path: &str, req: &Request, peer: IpAddr) -> Response {
    if let Some(api) = path.strip_prefix("/api/v1/") {
        let pairs = match query_pairs(&req.query) {
            Ok(p) => p,
            Err(e) => return Response::text(Status::BadRequest, e),
        };
        if let Some(r) = alarms::route(ctx, host, api, &pairs) {
            return r;
        }
        return match api {
            "info" => Response::json(info::info(ctx, host)),
            "charts" => Response::json(charts::charts(ctx, host)),
            "chart" => charts::chart(ctx, host, &pairs),
            "data" => data_endpoint(host, &pairs),
            "allmetrics" => allmetrics::allmetrics(ctx, host, &pairs),
            "manage/health" => alarms::manage::health(ctx, req, &pairs, peer),
            badge::ENDPOINT => badge::badge(ctx, host, &pairs),
            "registry" => registry::registry(host, &pairs, &ctx.registry_announce),
            _ => Response::text(Status::NotFound, format!("API endpoint '{api}' is not found")),
        };
    }
    if let Some(files) = &ctx.web_files {
        let r = files.serve(path, req);
        // Browsers ask for it by themselves; a user's directory may have none.
        if r.status == Status::NotFound && path == "/favicon.ico" {
            return Response::new(Status::Ok, "image/svg+xml", dashboard::FAVICON);
        }
        return r;
    }
    match path {
        "/" | "/index.html" => dashboard::page(),
        "/favicon.ico" => Response::new(Status::Ok, "image/svg+xml", dashboard::FAVICON),
        _ => Response::text(Status::NotFound, "not found"),
    }
}

/// `path` with every run of `/` made one.
fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

fn forbidden() -> Response {
    Response::text(Status::Forbidden, "You are not allowed to access this resource.")
}

fn data_endpoint(host: &Host, pairs: &[(String, String)]) -> Response {
    let q = match data::DataQuery::parse(pairs) {
        Ok(q) => q,
        Err(e) => return Response::text(Status::BadRequest, e),
    };
    let rows = match data::run(host, &q, crate::clock::now_realtime_sec()) {
        Ok(r) => r,
        Err(data::QueryError::NotFound(e)) => return Response::text(Status::NotFound, e),
        Err(data::QueryError::TooLarge(e)) => return Response::text(Status::BadRequest, e),
    };
    let (id, name) = match &q.target {
        crate::query::Target::Chart(c) => match host.chart_by_id_or_name(c) {
            Some(ch) => {
                let m = ch.meta();
                (m.id, m.name)
            }
            None => (c.clone(), c.clone()),
        },
        crate::query::Target::Context(c) => (c.clone(), c.clone()),
    };
    let (body, ct) = data::render(&q, &id, &name, &rows);
    let mut r = Response::new(Status::Ok, ct, body);
    if let Some(f) = &q.filename {
        r.headers.push_str(&format!("Content-Disposition: attachment; filename=\"{f}\"\r\n"));
    }
    r
}

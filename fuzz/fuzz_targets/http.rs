//! HTTP request heads and query strings: `web::http::parse`, then the request is routed
//! through `web::api::handle` against a small host with data, as the server would.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use nanodata::rrd::{Algorithm, ChartMeta, DimensionMeta, Host, HostSettings, Hosts};
use nanodata::web::http::{self, Parsed};
use nanodata::web::api;
use nanodata::web::context::Context;

/// One context for the whole run: a host with two charts and a minute of data.
fn context() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        let host = Host::new("fuzz-guid", "fuzz", HostSettings { history: 120, ..HostSettings::default() });
        let now = nanodata::clock::now_realtime_sec() as u64;
        for (id, algorithm) in [("cpu", Algorithm::Absolute), ("net", Algorithm::Incremental)] {
            let c = host.chart_define(ChartMeta::new("system", id).units("things").family(id).context(id));
            c.dimension(DimensionMeta::new("a").algorithm(algorithm));
            c.dimension(DimensionMeta::new("b").algorithm(algorithm).scale(-1, 8));
            for s in 0..60u64 {
                let mut col = c.begin((now - 60 + s) * 1_000_000, 0, false);
                col.set(0, (s * 7) as i64);
                col.set(1, (s * s) as i64);
                col.end();
            }
        }
        Context::for_fuzzing(Arc::new(Hosts::new(host)))
    })
}

fuzz_target!(|data: &[u8]| {
    let ctx = context();
    let mut rest = data;
    // Pipelined requests, as a keep-alive connection buffers them.
    for _ in 0..4 {
        match http::parse(rest, 16 * 1024) {
            Parsed::Http(req, consumed) => {
                assert!(consumed > 0 && consumed <= rest.len());
                assert!(req.path.starts_with('/'));
                let _ = http::query_pairs(&req.query);
                let resp = api::handle(ctx, &req, IpAddr::V4(Ipv4Addr::LOCALHOST));
                let mut head = Vec::new();
                http::write_head(&mut head, &resp, resp.body.len(), false, req.keep_alive, "");
                rest = &rest[consumed..];
            }
            Parsed::Stream { query, consumed } => {
                assert!(consumed > 0 && consumed <= rest.len());
                let _ = http::query_pairs(query.trim_start_matches('/').trim_start_matches('?'));
                break;
            }
            Parsed::Incomplete | Parsed::Bad(..) => break,
        }
    }
});

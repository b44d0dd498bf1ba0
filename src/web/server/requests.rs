//! HTTP requests on a connection: one request answered per turn (pipelined ones wait for
//! the next), a static file's body sent a piece at a time within the turn's write share,
//! the access log, and the hand-over of a STREAM head to `upgrade.rs`.

use std::time::Duration;

use super::conn::{Conn, Fill, Flushed, State};
use super::{EventLoop, HEAD_LIMIT, WRITE_PER_TURN};
use crate::clock::now_monotonic;
use crate::web::api;
use crate::web::bind::BindSpec;
use crate::web::http::{self, Parsed, Request, Response, Status};

impl EventLoop {
    /// One HTTP connection's share of a turn: at most one request answered and
    /// [`WRITE_PER_TURN`] bytes written; what is left waits on the `ready` list.
    pub(super) fn step(&mut self, conn: &mut Conn, slot: usize) -> bool {
        let mut answered = false;
        // Bytes of static file put in `wbuf` this turn.
        let mut produced = 0usize;
        loop {
            match conn.flush(WRITE_PER_TURN) {
                Ok(Flushed::All) => {}
                Ok(Flushed::Full) => return true, // wait until writable
                Ok(Flushed::Budget) => {
                    self.ready.push((slot, conn.id));
                    return true;
                }
                Err(e) => {
                    log::debug!("web: {}: write failed: {e}", conn.peer);
                    return false;
                }
            }
            let State::Http(h) = &mut conn.state else { return false };
            if let Some(body) = h.body.as_mut() {
                if produced >= WRITE_PER_TURN {
                    self.ready.push((slot, conn.id));
                    return true;
                }
                match body.fill(&mut conn.wbuf, &mut self.files) {
                    Ok(n) => produced += n.max(1),
                    Err(e) => {
                        log::warn!("web: {}: cannot send the rest of a file: {e}; closing", conn.peer);
                        return false;
                    }
                }
                if body.done() {
                    h.body = None;
                }
                continue;
            }
            if h.close_when_flushed {
                return false;
            }
            if answered {
                // A pipelined request, or unread bytes in the socket: next turn.
                self.ready.push((slot, conn.id));
                return true;
            }
            // A STREAM head goes to the receiver's own parser: 1.37 children put raw spaces
            // in the query, which no HTTP request line may hold.
            if self.streaming.is_some() && h.rbuf.starts_with(b"STREAM ") {
                if let Some(keep) = self.stream_request(conn, slot) {
                    return keep;
                }
            } else if !h.rbuf.is_empty() {
                match http::parse(&h.rbuf, HEAD_LIMIT) {
                    Parsed::Http(req, used) => {
                        h.rbuf.drain(..used);
                        h.request_started = if h.rbuf.is_empty() { None } else { Some(now_monotonic()) };
                        self.respond(conn, &req);
                        answered = true;
                        continue;
                    }
                    Parsed::Stream { query, .. } => {
                        if self.streaming.is_none() {
                            let host =
                                query.split('&').find_map(|kv| kv.strip_prefix("hostname=")).unwrap_or("?");
                            log::info!(
                                "STREAM {host} [receive from [{}]:{}]: streaming is not enabled on this node; closing",
                                conn.peer.ip(),
                                conn.peer.port()
                            );
                            return false;
                        }
                        if let Some(keep) = self.stream_request(conn, slot) {
                            return keep;
                        }
                    }
                    Parsed::Bad(status, reason) => {
                        log::info!("web: {}: {} {reason}; closing", conn.peer, status.code());
                        let r = Response::text(status, reason);
                        h.rbuf.clear();
                        h.close_when_flushed = true;
                        http::write_head(&mut conn.wbuf, &r, r.body.len(), false, false, "");
                        conn.wbuf.extend_from_slice(&r.body);
                        access_log(conn, "-", status, r.body.len(), r.body.len(), Duration::ZERO, "-");
                        continue;
                    }
                    Parsed::Incomplete => {}
                }
            }
            let State::Http(h) = &mut conn.state else { return false };
            if h.peer_eof {
                return false;
            }
            let before = h.rbuf.len();
            match conn.fill(&self.tls) {
                Ok(Fill::Got) => {
                    if let State::Http(h) = &mut conn.state {
                        if before == 0 && !h.rbuf.is_empty() {
                            h.request_started = Some(now_monotonic());
                        }
                    }
                    conn.last_activity = now_monotonic();
                }
                Ok(Fill::WouldBlock) => return true,
                Ok(Fill::Eof) => {
                    if let State::Http(h) = &mut conn.state {
                        h.peer_eof = true;
                    }
                }
                Err(e) => {
                    log::debug!("web: {}: {e}; closing", conn.peer);
                    return false;
                }
            }
        }
    }

    fn respond(&mut self, conn: &mut Conn, req: &Request) {
        let started = now_monotonic();
        let State::Http(h) = &mut conn.state else { return };
        let listener = &self.listeners[conn.listener];
        let mut resp = if h.redirect_to_tls {
            h.close_when_flushed = true;
            let host = req.host.clone().unwrap_or_else(|| listener.addr.to_string());
            Response::redirect(format!("https://{host}{}", req.target))
        } else if api::badge::is_badge_path(&req.path)
            && !api::badge::allowed(&self.ctx, &listener.acl, conn.peer.ip())
            || req.path == "/netdata.conf" && !BindSpec::allows(&listener.acl, "netdata.conf")
            || req.path != "/netdata.conf"
                && !api::badge::is_badge_path(&req.path)
                && !BindSpec::allows(&listener.acl, "dashboard")
        {
            Response::text(Status::Forbidden, "You are not allowed to access this resource.")
        } else {
            api::handle(&self.ctx, req, conn.peer.ip())
        };
        let keep_alive = req.keep_alive && !h.close_when_flushed && !h.peer_eof;
        if !keep_alive {
            h.close_when_flushed = true;
        }
        if let Some(mut body) = resp.file.take() {
            // A static file: its head now, its body a piece at a time from `step`.
            let gzip = self.limits.gzip_level.is_some()
                && req.accepts_gzip
                && !req.http10
                && body.compressible()
                && body.size() >= 1024;
            let size = usize::try_from(body.size()).unwrap_or(usize::MAX);
            let length = if gzip {
                body.use_gzip();
                http::Length::Chunked
            } else {
                http::Length::Bytes(size)
            };
            http::write_head_with(
                &mut conn.wbuf,
                &resp,
                length,
                gzip,
                keep_alive,
                &self.limits.extra_headers,
            );
            if req.method != http::Method::Head {
                h.body = Some(body);
            }
            access_log(conn, req.method.as_str(), resp.status, size, size, started.elapsed(), &req.target);
            return;
        }
        let size = resp.body.len();
        let mut gzip = false;
        if resp.gzipped {
            if req.accepts_gzip {
                gzip = true;
            } else if let Some(plain) = crate::web::gzip::decompress(&resp.body) {
                resp.body = plain;
                resp.gzipped = false;
            }
        } else if let Some(level) = self.limits.gzip_level {
            if req.accepts_gzip && resp.body.len() >= 1024 {
                resp.body = crate::web::gzip::compress(&resp.body, level);
                gzip = true;
            }
        }
        http::write_head(
            &mut conn.wbuf,
            &resp,
            resp.body.len(),
            gzip,
            keep_alive,
            &self.limits.extra_headers,
        );
        if req.method != http::Method::Head {
            conn.wbuf.extend_from_slice(&resp.body);
        }
        access_log(
            conn,
            req.method.as_str(),
            resp.status,
            resp.body.len(),
            size,
            started.elapsed(),
            &req.target,
        );
    }
}

fn access_log(
    conn: &Conn,
    method: &str,
    status: Status,
    sent: usize,
    size: usize,
    took: Duration,
    target: &str,
) {
    let ratio = if size > 0 { sent as f64 * 100.0 / size as f64 } else { 100.0 };
    crate::logging::access(&format!(
        "{}: {} '{}' (sent/all = {sent}/{size} bytes {ratio:.0}%, prep = {:.3} ms) {} '{}'",
        conn.id,
        conn.peer,
        method,
        took.as_secs_f64() * 1000.0,
        status.code(),
        target.escape_debug()
    ));
}

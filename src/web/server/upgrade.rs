//! STREAM requests (a child connecting) and, once one is accepted, the child's stream: its
//! bytes go to the receiver within a per-turn [`Budget`], its replies (replication requests)
//! go back on the same connection.

use std::sync::Arc;

use super::conn::{Conn, State};
use super::{EventLoop, STREAM_READ_BUDGET};
use crate::clock::now_monotonic;
use crate::stream::receiver::hub::{StreamConn, Upgrade};
use crate::stream::receiver::{Budget, Flow};
use crate::web::bind::BindSpec;

impl EventLoop {
    /// A STREAM request head in the read buffer: answers it. `None` while the head is
    /// incomplete; `Some(keep)` once answered.
    pub(super) fn stream_request(&mut self, conn: &mut Conn, slot: usize) -> Option<bool> {
        let Some(streaming) = self.streaming.as_mut() else { return Some(false) };
        let State::Http(h) = &mut conn.state else { return Some(false) };
        let line_end = h.rbuf.iter().position(|&b| b == b'\n').unwrap_or(h.rbuf.len());
        let line = String::from_utf8_lossy(&h.rbuf[..line_end]);
        let query = line
            .strip_prefix("STREAM ")
            .map(|l| l.trim_end().trim_end_matches("HTTP/1.1").trim_end_matches("HTTP/1.0").trim_end())
            .unwrap_or("")
            .to_owned();
        let query = query.as_str();
        if h.redirect_to_tls {
            log::error!(
                "STREAM [receive from [{}]:{}]: a plain-text STREAM request on an address with ^SSL=force. Forbidding access.",
                conn.peer.ip(),
                conn.peer.port()
            );
            return Some(false);
        }
        let allows = BindSpec::allows(&self.listeners[conn.listener].acl, "streaming");
        let now = crate::clock::now_realtime_sec();
        match streaming.upgrade(&self.ctx.hosts, &h.rbuf, conn.peer, allows, now) {
            Upgrade::Incomplete => None,
            Upgrade::Close => Some(false),
            Upgrade::Refuse { reply, status } => {
                h.rbuf.clear();
                conn.wbuf.extend_from_slice(reply.as_bytes());
                h.close_when_flushed = true;
                h.request_started = None;
                stream_access_log(conn, status, query);
                Some(self.step(conn, slot))
            }
            Upgrade::Accept(a) => {
                let a = *a;
                if let Some(old) = a.replaces {
                    log::info!("{}: closing the stale receiver of the same machine GUID", a.name);
                    if self.conns.get(old.slot).and_then(Option::as_ref).is_some_and(|c| c.id == old.conn_id)
                    {
                        self.close(old.slot);
                    }
                }
                let Some(streaming) = self.streaming.as_mut() else { return Some(false) };
                streaming.attach(a.guid, conn.id, slot, now);
                let rest = h.rbuf.split_off(a.head_len.min(h.rbuf.len()));
                stream_access_log(conn, 200, query);
                conn.wbuf.extend_from_slice(a.reply.as_bytes());
                let host = Arc::clone(a.receiver.host());
                let mut st = Box::new(StreamConn { receiver: a.receiver, guid: a.guid, name: a.name, host });
                // Bytes that came with the head are applied within the stream's budget.
                st.receiver.queue(&rest);
                conn.state = State::Stream(st);
                Some(self.stream_step(conn, slot))
            }
        }
    }

    /// Runs a child's stream as far as it goes without blocking, or until its [`Budget`]
    /// for this turn (or [`STREAM_READ_BUDGET`]) is spent: what is left is continued on the
    /// next turn, before anything more is read.
    pub(super) fn stream_step(&mut self, conn: &mut Conn, slot: usize) -> bool {
        let mut budget = Budget::per_turn();
        let mut read = 0;
        let mut flow = match self.stream_apply(conn, None, &mut budget) {
            Some(flow) => flow,
            None => return false,
        };
        loop {
            if let Err(e) = conn.flush(usize::MAX) {
                if let Some(st) = conn.stream() {
                    log::error!("{}: cannot write to the child: {e}; closing the connection.", st.name);
                }
                return false;
            }
            if flow == Flow::Paused || read >= STREAM_READ_BUDGET {
                self.ready.push((slot, conn.id));
                return true;
            }
            let n = match conn.read_stream(&mut self.scratch) {
                Ok(Some(0)) => {
                    if let Some(st) = conn.stream() {
                        // Netdata's words (its streaming guide quotes them), then ours.
                        log::info!("{}: read failed: end of file; the child closed the connection.", st.name);
                    }
                    return false;
                }
                Ok(Some(n)) => n,
                Ok(None) => return true,
                Err(e) => {
                    if let Some(st) = conn.stream() {
                        log::error!("{}: read failed: {e}; closing the connection.", st.name);
                    }
                    return false;
                }
            };
            read += n;
            conn.last_activity = now_monotonic();
            let scratch = std::mem::take(&mut self.scratch);
            let applied = self.stream_apply(conn, Some(&scratch[..n]), &mut budget);
            self.scratch = scratch;
            flow = match applied {
                Some(flow) => flow,
                None => return false,
            };
        }
    }

    /// Hands `bytes` (or, with `None`, what the receiver kept from an earlier turn) to the
    /// child's receiver; `None` when the connection must close (logged).
    fn stream_apply(&mut self, conn: &mut Conn, bytes: Option<&[u8]>, budget: &mut Budget) -> Option<Flow> {
        let State::Stream(st) = &mut conn.state else { return None };
        let now = crate::clock::now_realtime_usec();
        let result = match bytes {
            Some(b) => st.receiver.feed_within(b, now, &mut conn.wbuf, budget),
            None if st.receiver.has_held_input() => st.receiver.resume(now, &mut conn.wbuf, budget),
            None => return Some(Flow::Done),
        };
        match result {
            Ok(flow) => {
                if let Some(s) = self.streaming.as_mut() {
                    s.data(&st.guid, crate::clock::now_realtime_sec());
                }
                Some(flow)
            }
            Err(why) => {
                // Netdata's sentences end with a full stop ("… Disabling it.").
                let then =
                    if why.ends_with('.') { " Closing the connection." } else { "; closing the connection." };
                log::error!("{}: {why}{then}", st.name);
                None
            }
        }
    }
}

/// The access-log line of a STREAM request (Netdata logs the query as the target).
fn stream_access_log(conn: &Conn, status: u16, query: &str) {
    crate::logging::access(&format!(
        "{}: {} 'STREAM' (sent/all = 0/0 bytes -0%, prep = 0.000 ms) {status} '{}'",
        conn.id,
        conn.peer,
        query.escape_debug()
    ));
}

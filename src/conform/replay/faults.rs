//! The faults of a replay made real: a session expired by a second connection, a connection
//! closed, the server killed and restarted, and the reconnects that follow.

use super::*;
use lockscope_models::lock::Phase;
use quorum::told_at;

impl<Z: Replayed> Harness<'_, Z> {
    /// Expire `c`'s session at this step: a second connection attaches to it and closes it.
    pub(super) fn expire(&mut self, c: usize, after: &LockState<Z>) -> Done {
        if after.zk.ensemble().is_some() {
            return self.expire_on_ensemble(c, after);
        }
        let keys = self.clients[c]
            .keys
            .clone()
            .ok_or_else(|| unrealisable(format!("{} has no session", name(c))))?;
        let mut second = match Conn::open(self.target.address, Some(&keys), 0) {
            Ok(Handshake::Connected(conn)) => conn,
            Ok(Handshake::Expired) => {
                return Err(diverged(
                    format!("{}'s session had already ended", name(c)),
                    "the session was not live",
                ))
            }
            Err(e) => return Err(unrealisable(format!("cannot attach to the session: {e}"))),
        };
        second
            .call(op::CLOSE_SESSION, |out| out)
            .map_err(|e| unrealisable(format!("cannot close the session: {e}")))?;
        drop(second);
        // The server closed the client's own connection when the second one attached: take what
        // it sent before that, then reconnect as the library would, and hear that it expired.
        if !self.receive_until_closed(c)? {
            return Err(unrealisable(format!(
                "the server did not drop {}'s connection",
                name(c)
            )));
        }
        let crashed = self.crashed(c);
        let client = &mut self.clients[c];
        client.conn = None;
        client.sent.clear();
        client.session = SessionEnd::Ended;
        if crashed {
            let text = format!(
                "a second connection attaches to session {:#x} and closes it; {} crashed and hears nothing",
                keys.id,
                name(c)
            );
            self.compare_tree(after).map_err(|d| diverged(&text, d))?;
            return Ok(text);
        }
        let text = match Conn::open(self.target.address, Some(&keys), client.last_zxid()) {
            Ok(Handshake::Expired) => {
                client
                    .incoming
                    .push_back(Arrived::notice(Reply::SessionExpired));
                format!(
                    "a second connection attaches to session {:#x} and closes it; {}'s reconnect hears SessionExpired",
                    keys.id,
                    name(c)
                )
            }
            Ok(Handshake::Connected(_)) => {
                return Err(diverged(
                    "the session survived its closeSession",
                    "the session did not end",
                ))
            }
            Err(e) => return Err(unrealisable(format!("cannot reconnect: {e}"))),
        };
        self.compare_tree(after).map_err(|d| diverged(&text, d))?;
        Ok(text)
    }

    /// `c` crashes: the harness's client stops for good and its connection closes, as the
    /// kernel closes a dead process's sockets. What it had not sent yet, and what was on its
    /// way to it, is lost; the server closes the connection, not the session (a request it
    /// already took goes on, its answer written to nobody), so the client's nodes stay until
    /// the leader expires the session.
    pub(super) fn crash_client(&mut self, c: usize, after: &LockState<Z>) -> Done {
        let client = &mut self.clients[c];
        client.logic.phase = Phase::Crashed;
        client.conn = None;
        client.outgoing.clear();
        client.sent.clear();
        client.incoming.clear();
        client.watches.clear();
        let text = format!(
            "{} stops for good: the harness closes its connection; its session stays",
            name(c)
        );
        if after.zk.ensemble().is_some() {
            self.settle(after).map_err(told_at(&text))?;
        } else {
            self.compare_tree(after).map_err(|d| diverged(&text, d))?;
        }
        Ok(text)
    }

    /// Whether `c` crashed: it hears nothing more.
    pub(super) fn crashed(&self, c: usize) -> bool {
        self.clients[c].logic.phase == Phase::Crashed
    }

    /// Attach `c` again to its session, setting its watches again as a client library does.
    pub(super) fn reconnect(&mut self, c: usize) -> Result<(), Failure> {
        let address = self.address_of_client(c);
        let client = &mut self.clients[c];
        let keys = client.keys.clone().expect("a client has had a session");
        let last = client.last_zxid();
        match Conn::open(address, Some(&keys), last) {
            Ok(Handshake::Connected(mut conn)) => {
                let listed = |kind: WatchKind| -> Vec<String> {
                    client
                        .watches
                        .iter()
                        .filter(|w| w.kind == kind)
                        .map(|w| w.path.clone())
                        .collect()
                };
                let (data, exist, child) = (
                    listed(WatchKind::Data),
                    listed(WatchKind::Exist),
                    listed(WatchKind::Child),
                );
                if !(data.is_empty() && exist.is_empty() && child.is_empty()) {
                    conn.send_with_xid(xid::SET_WATCHES, op::SET_WATCHES, |out| {
                        out.long(last)
                            .strings(&data)
                            .strings(&exist)
                            .strings(&child)
                    })
                    .map_err(|e| unrealisable(format!("cannot set watches again: {e}")))?;
                }
                client.conn = Some(conn);
                Ok(())
            }
            Ok(Handshake::Expired) => {
                client.session = SessionEnd::Ended;
                client.sent.clear();
                client
                    .incoming
                    .push_back(Arrived::notice(Reply::SessionExpired));
                Ok(())
            }
            Err(e) => Err(unrealisable(format!("{} cannot reconnect: {e}", name(c)))),
        }
    }

    /// SIGKILL the server. Clients waiting on a reply lose what was in flight and read
    /// `ConnectionLoss`; the others keep what they had received; the model must name the same
    /// clients.
    pub(super) fn crash(&mut self, before: &LockState<Z>, after: &LockState<Z>) -> Done {
        let Some(server) = self.target.spawned.as_mut() else {
            return Err(unrealisable(
                "crashing the server needs a server the harness started (--spawn)".into(),
            ));
        };
        server.crash();
        self.admin = None;
        let mut lost = Vec::new();
        for c in 0..self.clients.len() {
            // A connection the server did not close in time is dropped below all the same.
            self.receive_until_closed(c)?;
            let client = &mut self.clients[c];
            if client.awaits_reply() {
                client.lose_in_flight();
                lost.push(name(c).to_string());
            } else {
                client.conn = None;
                client.sent.clear();
                // An ended session's requests stay: the server drops them when they arrive.
                if client.session == SessionEnd::Live {
                    client.outgoing.clear();
                }
            }
        }
        // The model's clients that read ConnectionLoss are those the crash gave one.
        let losses = |state: &LockState<Z>, c: usize| {
            state.links[c]
                .from_server
                .iter()
                .filter(|&&r| r == Reply::ConnectionLoss)
                .count()
        };
        let model_lost: Vec<String> = (0..self.clients.len())
            .filter(|&c| losses(after, c) > losses(before, c))
            .map(|c| name(c).to_string())
            .collect();
        let text = format!(
            "the harness SIGKILLs the server; ConnectionLoss for {}",
            if lost.is_empty() {
                "nobody".to_string()
            } else {
                lost.join(", ")
            }
        );
        if model_lost != lost {
            return Err(diverged(
                text,
                format!(
                    "ConnectionLoss for: model [{}], real [{}]",
                    model_lost.join(", "),
                    lost.join(", ")
                ),
            ));
        }
        Ok(text)
    }

    /// Start the server again on its data directory and port; every live session reconnects
    /// (a client cut off past its read timeout waits for the heal).
    pub(super) fn restart(&mut self) -> Done {
        let Some(server) = self.target.spawned.as_mut() else {
            return Err(unrealisable(
                "restarting the server needs a server the harness started (--spawn)".into(),
            ));
        };
        server.start().map_err(unrealisable)?;
        for c in 0..self.clients.len() {
            let client = &self.clients[c];
            // A client cut off past its read timeout reconnects when the partition heals.
            if client.session == SessionEnd::Live
                && client.conn.is_none()
                && !client.reconnect_on_heal
            {
                self.reconnect(c)?;
            }
        }
        self.admin = Some(self.connect(None).map_err(unrealisable)?);
        Ok("the server restarts on the same data directory and port; clients reconnect".into())
    }
}

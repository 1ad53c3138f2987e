//! The steps of a world on an ensemble: client requests sent to the client's own server, and
//! the broadcast's packets between the servers (REQUEST, PROPOSAL, ACK, COMMIT) released one
//! model message at a time from the proxies that hold them. After every step the harness waits
//! until reality shows what the model's step did (the packets it sent are held, the replies and
//! events it sent have arrived, each server has applied what the model's has) and compares.

use lockscope_models::ensemble::{Ensemble, EnsembleConfig, EnsembleStep};
use lockscope_models::zab;
use lockscope_models::zookeeper::{LockTxn, Server};

use super::super::ensemble::{kind, kind_name, txn, LinkId, Packet, Proposed, RealEnsemble};
use super::*;

mod failover;
mod moved;
mod packets;
mod settle;

use packets::Matched;
pub(super) use settle::told_at;

/// What the harness needs to know of the service a world runs on.
pub trait Replayed: lockscope_models::zookeeper::ZkService {
    /// The ensemble, when the world runs on one.
    fn ensemble(&self) -> Option<&Ensemble>;
    /// The ensemble's options, when the world runs on one.
    fn ensemble_config(config: &Self::Config) -> Option<&EnsembleConfig>;

    /// Whether `client`'s `request` is a read its server answers while behind the leader
    /// (it may be stale).
    fn read_behind_leader(&self, client: u8, request: Request) -> bool {
        self.ensemble()
            .is_some_and(|e| request.is_read() && e.behind_leader(e.server_of_client(client)) > 0)
    }
}

impl Replayed for Server {
    fn ensemble(&self) -> Option<&Ensemble> {
        None
    }

    fn ensemble_config(_config: &Self::Config) -> Option<&EnsembleConfig> {
        None
    }
}

impl Replayed for Ensemble {
    fn ensemble(&self) -> Option<&Ensemble> {
        Some(self)
    }

    fn ensemble_config(config: &EnsembleConfig) -> Option<&EnsembleConfig> {
        Some(config)
    }
}

impl<Z: Replayed> Harness<'_, Z> {
    pub(super) fn real_ensemble(&self) -> Option<&RealEnsemble> {
        self.target.ensemble.as_ref()
    }

    fn session_of(&self, c: usize) -> i64 {
        self.clients[c].keys.as_ref().map_or(0, |k| k.id)
    }

    /// A client's request reaches its server: a read is answered there, a write is forwarded to
    /// the leader (the last release's closeSession goes right behind its delete).
    pub(super) fn serve_on_ensemble(
        &mut self,
        c: usize,
        request: Request,
        before: &LockState<Z>,
        after: &LockState<Z>,
    ) -> Done {
        let ensemble = after.zk.ensemble().expect("an ensemble");
        self.note_refused_release(request, before, after);
        let server = ensemble.server_of_client(c as u8);
        let real = self.send(c, request)?;
        let mut text = format!("{} sends {real} to S{server}", name(c));
        if let Request::Delete {
            close_session: true,
            ..
        } = request
        {
            self.send_close_session(c)?;
            self.clients[c].session = SessionEnd::Ended;
            text.push_str(" and closeSession");
        }
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// The leader's session tracker expires `c`'s session: it marks the session closing and
    /// proposes its closeSession. A second connection attaches to the session at the leader and
    /// sends closeSession: the leader's request pipeline marks the session closing and proposes
    /// the close, as its expirer does. Attaching makes the leader the session's owner, which
    /// changes nothing for a closing session: ZooKeeper refuses a closing session's writes before
    /// it looks at the owner. The proposal is held like any other; the client's own server drops
    /// the client's connection when it applies the close, and its reconnect hears that the
    /// session expired (see [`Harness::settle`]).
    pub(super) fn expire_on_ensemble(&mut self, c: usize, after: &LockState<Z>) -> Done {
        let ensemble = after.zk.ensemble().expect("an ensemble");
        let Some(leader) = ensemble.leader() else {
            return Err(unrealisable(format!(
                "{}'s session expires with no established leader: failover on an ensemble is not replayed yet",
                name(c)
            )));
        };
        let keys = self.clients[c]
            .keys
            .clone()
            .ok_or_else(|| unrealisable(format!("{} has no session", name(c))))?;
        let mut expirer = self.connect_to(leader, Some(&keys)).map_err(|e| {
            unrealisable(format!(
                "cannot attach to {}'s session at S{leader}: {e}",
                name(c)
            ))
        })?;
        // With xid 0, as the leader's expirer submits it: a follower matches a committed
        // transaction with its own client's pending request by session and xid, and a client's
        // xids start at 1.
        expirer
            .send_with_xid(0, op::CLOSE_SESSION, |out| out)
            .map_err(|e| unrealisable(format!("cannot close {}'s session: {e}", name(c))))?;
        self.expirers.push(expirer);
        let text = format!(
            "a second connection attaches to session {:#x} at the leader S{leader} and sends closeSession: S{leader} marks the session closing and proposes the close",
            keys.id
        );
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// One of the ensemble's own steps. A delivery releases the packets the link's head message
    /// stands for. The leader's write of its own proposal and its own ACK happen inside the
    /// process right after it proposes, where the harness cannot hold them: the model's step for
    /// them is bound to that moment and realised as nothing. The real leader may then commit
    /// earlier than the model's (at a follower's ACK that the model's leader has not yet
    /// matched with its own); its COMMITs are held all the same, so the followers see them in the
    /// model's order (the order a leader with a slower disk sends them in). Only the leader's own
    /// tree runs ahead, which a client connected to it could see: such a step cannot be realised.
    pub(super) fn ensemble_step(
        &mut self,
        step: EnsembleStep,
        before: &LockState<Z>,
        after: &LockState<Z>,
    ) -> Done {
        let ensemble = before.zk.ensemble().expect("an ensemble").clone();
        if let Some(done) = self.failover_step(step, &ensemble, after) {
            return done;
        }
        // A leader writes its own proposals, also one cut off in a minority while the majority
        // has elected another.
        if let EnsembleStep::LogProposal { server } = step {
            if ensemble.zab.server(server).leading().is_some() {
                let text = format!(
                    "S{server} wrote its proposal and counted its own ACK inside the process right after proposing (nothing the harness can hold)"
                );
                self.settle(after).map_err(told_at(&text))?;
                return Ok(text);
            }
        }
        let Some(leader) = ensemble.leader() else {
            return Err(unrealisable(format!(
                "{step} with no established leader: the harness steps the broadcast's packets only under a leader"
            )));
        };
        // A client whose last release is on its way still reads the delete's answer.
        let leader_has_clients = (0..self.clients.len()).any(|c| {
            let client = &self.clients[c];
            ensemble.server_of_client(c as u8) == leader
                && client.conn.is_some()
                && (client.session == SessionEnd::Live
                    || client.sent.iter().any(|(_, request)| request.is_none()))
        });
        match step {
            EnsembleStep::LogProposal { server } => Err(unrealisable(format!(
                "S{server}'s queued write of a proposal (zk-4712's follower) happens inside the process: the harness cannot hold it"
            ))),
            EnsembleStep::Deliver { from, to } => {
                let msg = ensemble.zab.head(from, to).expect("a delivery is enabled").msg;
                if let zab::Msg::Ack { zxid } = msg {
                    let server = ensemble.zab.server(leader);
                    let written = server.leading().map_or(0, |l| {
                        usize::from(server.disk.log.len() as u8 - l.unwritten)
                    });
                    let acked = server.disk.log.iter().position(|t| t.zxid == zxid);
                    if leader_has_clients && acked.is_some_and(|i| i >= written) {
                        return Err(unrealisable(format!(
                            "S{from}'s ACK of {zxid} reaches S{leader} before S{leader} wrote that proposal: the real leader writes and acknowledges its own proposals at once, so it would commit here, and a live client connected to S{leader} could see it commit earlier than in the model"
                        )));
                    }
                }
                if let zab::Msg::Forward { request, .. } = msg {
                    self.note_refused_release(request, before, after);
                }
                let released = self.release(&ensemble, (from, to), msg)?;
                let text = format!("the harness releases S{from} → S{to} {released}");
                self.settle(after).map_err(told_at(&text))?;
                Ok(text)
            }
            step => Err(unrealisable(format!(
                "{step}: a step of the flawed versions' synchronisation happens inside the process: the harness cannot hold it"
            ))),
        }
    }

    /// A last release (its delete and closeSession) that the model's leader refuses is one
    /// error transaction in the model and two in ZooKeeper: the delete's error, then the
    /// closeSession, which the leader proposes whatever the session's state (it checks no
    /// session for a close). Note the model's transaction as standing for both.
    fn note_refused_release(
        &mut self,
        request: Request,
        before: &LockState<Z>,
        after: &LockState<Z>,
    ) {
        let pair = matches!(
            request,
            Request::Delete {
                close_session: true,
                ..
            }
        );
        let txns = |state: &LockState<Z>| state.zk.ensemble().map(|e| e.txns);
        if let (true, Some(before), Some(after)) = (pair, txns(before), txns(after)) {
            if after.len() > before.len() && matches!(after.last(), Some(LockTxn::Error { .. })) {
                self.refused_releases.insert(after.len() as u8);
            }
        }
    }

    /// Release the packets `msg`, the head of `link` in the model, stands for.
    fn release(
        &mut self,
        ensemble: &Ensemble,
        link: LinkId,
        msg: zab::Msg,
    ) -> Result<String, Failure> {
        let links = Arc::clone(&self.real_ensemble().expect("an ensemble").links);
        let held: Vec<Packet> = links.lock().held(link).cloned().collect();
        let first = self.wants(ensemble, msg)?.len();
        let indices = match self.match_link(ensemble, link, &held)? {
            Matched::All(indices) => indices,
            Matched::Missing(what) | Matched::Differs(what) => {
                return Err(diverged(
                    format!("S{} → S{}: nothing to release", link.0, link.1),
                    what,
                ))
            }
        };
        let mut texts = Vec::new();
        for (n, &index) in indices[..first].iter().enumerate() {
            let gone = indices[..n].iter().filter(|&&i| i < index).count();
            let packet = links
                .release(link, index - gone)
                .map_err(|e| unrealisable(format!("cannot pass a packet on: {e}")))?;
            texts.push(describe(&packet));
        }
        Ok(texts.join(" + "))
    }
}

/// A released packet in words: a REQUEST by its operation, the others by their zxid.
fn describe(packet: &Packet) -> String {
    match packet.request() {
        Ok((session, op)) if packet.kind == kind::REQUEST => {
            format!("REQUEST({} of session {session:#x})", txn::name(op))
        }
        _ => format!("{} {:#x}", kind_name(packet.kind), packet.zxid),
    }
}

//! The steps of a world on an ensemble: client requests sent to the client's own server, and
//! the broadcast's packets between the servers (REQUEST, PROPOSAL, ACK, COMMIT) released one
//! model message at a time from the proxies that hold them. After every step the harness waits
//! until reality shows what the model's step did (the packets it sent are held, the replies and
//! events it sent have arrived, each server has applied what the model's has) and compares.

use lockscope_models::ensemble::{Ensemble, EnsembleConfig, EnsembleStep};
use lockscope_models::zab;
use lockscope_models::zookeeper::{LockTxn, Server};

use super::super::ensemble::{kind, kind_name, txn, LinkId, Packet, RealEnsemble};
use super::*;

/// What the harness needs to know of the service a world runs on.
pub trait Replayed: lockscope_models::zookeeper::ZkService {
    /// The ensemble, when the world runs on one.
    fn ensemble(&self) -> Option<&Ensemble>;
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

/// One real packet a model message stands for. A model message is one packet, except the last
/// release's delete and closeSession, which the model makes one transaction and ZooKeeper two:
/// its REQUEST, PROPOSAL, ACK and COMMIT are each two packets, released together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Request { session: i64, op: i32 },
    Proposal { value: u8, part: usize },
    Ack { value: u8, part: usize },
    Commit { value: u8, part: usize },
}

impl Want {
    fn kind(self) -> i32 {
        match self {
            Want::Request { .. } => kind::REQUEST,
            Want::Proposal { .. } => kind::PROPOSAL,
            Want::Ack { .. } => kind::ACK,
            Want::Commit { .. } => kind::COMMIT,
        }
    }
}

/// How the model's messages on a link stand against the packets held there.
enum Matched {
    /// Each wanted packet's index among the held ones.
    All(Vec<usize>),
    /// Some have not arrived yet.
    Missing(String),
    Differs(String),
}

/// How many real transactions a model transaction is.
fn parts(txn: LockTxn) -> usize {
    match txn {
        LockTxn::Delete {
            close_session: true,
            ..
        } => 2,
        _ => 1,
    }
}

impl<Z: Replayed> Harness<'_, Z> {
    pub(super) fn real_ensemble(&self) -> Option<&RealEnsemble> {
        self.target.ensemble.as_ref()
    }

    fn session_of(&self, c: usize) -> i64 {
        self.clients[c].keys.as_ref().map_or(0, |k| k.id)
    }

    /// The real packets a model message on a link stands for.
    fn wants(&self, ensemble: &Ensemble, msg: zab::Msg) -> Result<Vec<Want>, Failure> {
        let value_of = |zxid: zab::Zxid| {
            ensemble
                .zab
                .servers
                .iter()
                .flat_map(|s| s.disk.log.iter())
                .find(|t| t.zxid == zxid)
                .map(|t| t.value)
                .ok_or_else(|| unrealisable(format!("no transaction has zxid {zxid}")))
        };
        let group = |value: u8, want: fn(u8, usize) -> Want| {
            let n = parts(ensemble.txns[usize::from(value - 1)]);
            (0..n).map(|part| want(value, part)).collect()
        };
        Ok(match msg {
            zab::Msg::Forward { client, request } => {
                let session = self.session_of(usize::from(client));
                let ops: &[i32] = match request {
                    Request::Create { .. } => &[txn::CREATE2],
                    Request::Delete {
                        close_session: true,
                        ..
                    } => &[txn::DELETE, txn::CLOSE_SESSION],
                    Request::Delete { .. } => &[txn::DELETE],
                    other => {
                        return Err(unrealisable(format!(
                            "a forwarded {other}: the harness opens sessions before the replay"
                        )))
                    }
                };
                ops.iter()
                    .map(|&op| Want::Request { session, op })
                    .collect()
            }
            zab::Msg::Proposal { txn } => group(txn.value, |value, part| Want::Proposal {
                value,
                part,
            }),
            zab::Msg::Ack { zxid } => group(value_of(zxid)?, |value, part| Want::Ack {
                value,
                part,
            }),
            zab::Msg::Commit { zxid } => group(value_of(zxid)?, |value, part| Want::Commit {
                value,
                part,
            }),
            other => {
                return Err(unrealisable(format!(
                    "{other}: the harness steps only the broadcast's packets (the ensemble is synced before the replay)"
                )))
            }
        })
    }

    /// Whether a held packet is the one `want` names, binding a proposal's real zxid to the
    /// model's transaction the first time one is seen.
    fn is_wanted(
        &mut self,
        ensemble: &Ensemble,
        want: Want,
        packet: &Packet,
    ) -> Result<bool, String> {
        if packet.kind != want.kind() {
            return Ok(false);
        }
        let bound = |values: &BTreeMap<u8, Vec<i64>>, value: u8, part: usize| {
            values
                .get(&value)
                .and_then(|zxids| zxids.get(part))
                .copied()
        };
        match want {
            Want::Request { session, op } => {
                let (real_session, real_op) = packet
                    .request()
                    .map_err(|e| format!("a malformed REQUEST: {e}"))?;
                if (real_session, real_op) != (session, op) {
                    return Err(format!(
                        "REQUEST: model {} of session {session:#x}, real {} of session {real_session:#x}",
                        txn::name(op),
                        txn::name(real_op)
                    ));
                }
                Ok(true)
            }
            Want::Proposal { value, part } => {
                if let Some(zxid) = bound(&self.values, value, part) {
                    return Ok(packet.zxid == zxid);
                }
                if part != self.values.get(&value).map_or(0, Vec::len) {
                    return Ok(false);
                }
                let proposed = packet
                    .proposed()
                    .map_err(|e| format!("a malformed PROPOSAL: {e}"))?;
                let model = ensemble.txns[usize::from(value - 1)];
                let (client, kinds): (u8, &[i32]) = match model {
                    LockTxn::Create { creator, .. } => (creator, &[txn::CREATE2, txn::CREATE]),
                    LockTxn::Delete { client, path, .. } => match (path, part) {
                        (_, 1) => (client, &[txn::CLOSE_SESSION]),
                        (Some(_), _) => (client, &[txn::DELETE]),
                        (None, _) => (client, &[txn::ERROR]),
                    },
                    LockTxn::Error { client, .. } => (client, &[txn::ERROR]),
                    LockTxn::CreateSession { client } => (client, &[txn::CREATE_SESSION]),
                    LockTxn::Expire { client } => (client, &[txn::CLOSE_SESSION]),
                };
                let session = self.session_of(usize::from(client));
                if !kinds.contains(&proposed.kind) || proposed.session != session {
                    return Err(format!(
                        "proposal: model {model:?} (session {session:#x}), real {} of session {:#x}",
                        txn::name(proposed.kind),
                        proposed.session
                    ));
                }
                self.values.entry(value).or_default().push(packet.zxid);
                Ok(true)
            }
            Want::Ack { value, part } | Want::Commit { value, part } => {
                Ok(bound(&self.values, value, part) == Some(packet.zxid))
            }
        }
    }

    /// Match the model's messages on `link` with the packets held there, in order. A COMMIT
    /// may be held ahead of its turn: the real leader writes and acknowledges its own proposal
    /// at once (see [`Harness::ensemble_step`]), so it may commit before the model's leader does.
    fn match_link(
        &mut self,
        ensemble: &Ensemble,
        link: LinkId,
        held: &[Packet],
    ) -> Result<Matched, Failure> {
        let model: Vec<zab::Msg> = ensemble
            .zab
            .net
            .iter()
            .filter(|p| (p.from, p.to) == link)
            .map(|p| p.msg)
            .collect();
        let mut indices = Vec::new();
        for msg in model {
            for want in self.wants(ensemble, msg)? {
                let mut found = None;
                for (i, packet) in held.iter().enumerate() {
                    if indices.contains(&i) {
                        continue;
                    }
                    match self.is_wanted(ensemble, want, packet) {
                        Ok(true) => {
                            found = Some(i);
                            break;
                        }
                        Ok(false) if packet.kind == kind::COMMIT => {}
                        Ok(false) => {
                            return Ok(Matched::Differs(format!(
                                "S{} → S{}: model {msg}, real {} {:#x}",
                                link.0,
                                link.1,
                                kind_name(packet.kind),
                                packet.zxid
                            )))
                        }
                        Err(difference) => return Ok(Matched::Differs(difference)),
                    }
                }
                let Some(i) = found else {
                    return Ok(Matched::Missing(format!(
                        "S{} → S{}: model {msg}, real nothing held",
                        link.0, link.1
                    )));
                };
                indices.push(i);
            }
        }
        for (i, packet) in held.iter().enumerate() {
            if !indices.contains(&i) && !self.early_commit(ensemble, packet) {
                return Ok(Matched::Differs(format!(
                    "S{} → S{}: real {} {:#x} held, which the model does not send",
                    link.0,
                    link.1,
                    kind_name(packet.kind),
                    packet.zxid
                )));
            }
        }
        Ok(Matched::All(indices))
    }

    /// A COMMIT of a transaction the model's leader has not committed yet.
    fn early_commit(&self, ensemble: &Ensemble, packet: &Packet) -> bool {
        if packet.kind != kind::COMMIT {
            return false;
        }
        let Some(value) = self
            .values
            .iter()
            .find(|(_, zxids)| zxids.contains(&packet.zxid))
            .map(|(&value, _)| value)
        else {
            return false;
        };
        let leader = ensemble.leader().expect("a leader serves");
        let server = ensemble.zab.server(leader);
        let committed = &server.disk.log[..usize::from(server.disk.delivered)];
        !committed.iter().any(|t| t.value == value)
    }

    /// Every link the model or reality has something on.
    fn busy_links(&self, ensemble: &Ensemble) -> Vec<LinkId> {
        let real = self.real_ensemble().expect("an ensemble");
        let mut links: Vec<LinkId> = real.links.lock().holding_links().map(|(l, _)| l).collect();
        links.extend(ensemble.zab.net.iter().map(|p| (p.from, p.to)));
        links.sort_unstable();
        links.dedup();
        links
    }

    /// Wait until the held packets match the model's messages on every link.
    fn settle_links(&mut self, ensemble: &Ensemble) -> Result<(), String> {
        let links = Arc::clone(&self.real_ensemble().expect("an ensemble").links);
        let deadline = Instant::now() + WAIT;
        loop {
            let seen: usize = links.lock().holding_links().map(|(_, n)| n).sum();
            let mut missing = None;
            for link in self.busy_links(ensemble) {
                let held: Vec<Packet> = links.lock().held(link).cloned().collect();
                match self.match_link(ensemble, link, &held) {
                    Ok(Matched::All(_)) => {}
                    Ok(Matched::Missing(what)) => missing = Some(what),
                    Ok(Matched::Differs(what)) => return Err(what),
                    Err(
                        Failure::Unrealisable(why)
                        | Failure::Diverged {
                            difference: why, ..
                        },
                    ) => return Err(why),
                }
            }
            let Some(missing) = missing else {
                return Ok(());
            };
            let changed = links.wait_until(deadline, |state| {
                state.holding_links().map(|(_, n)| n).sum::<usize>() != seen
            });
            if !changed {
                return Err(format!("{missing} within {WAIT:?}"));
            }
        }
    }

    /// Wait until every client has received what the model's servers sent it, and compare.
    fn settle_clients(&mut self, after: &LockState<Z>) -> Result<(), String> {
        let deadline = Instant::now() + WAIT;
        for c in 0..self.clients.len() {
            let model = after.links[c].from_server;
            while self.clients[c].incoming.len() < model.len() {
                let open = self.clients[c]
                    .conn
                    .as_ref()
                    .is_some_and(|c| !c.is_closed());
                let got = self.receive(c, Some(deadline)).map_err(failure_text)?;
                if !got || !open {
                    break;
                }
            }
            self.receive(c, None).map_err(failure_text)?;
            let arrived = self.clients[c].incoming.clone();
            let same = arrived.len() == model.len()
                && model
                    .iter()
                    .zip(&arrived)
                    .all(|(&m, r)| self.compare(m, r).is_ok());
            if !same {
                let model: Vec<String> = model.iter().map(Reply::to_string).collect();
                let real: Vec<String> = arrived.iter().map(|a| a.text(self.fenced())).collect();
                return Err(format!(
                    "in flight to {}: model [{}], real [{}]",
                    name(c),
                    model.join(", "),
                    real.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The real zxid a server has applied when it has applied what the model's has.
    fn applied_zxid(&self, ensemble: &Ensemble, server: u8) -> i64 {
        ensemble
            .applied(server)
            .last()
            .and_then(|t| self.values.get(&t.value))
            .and_then(|zxids| zxids.last().copied())
            .unwrap_or(self.base_zxid)
    }

    /// Wait until each server has applied what the model's has, and compare its children with
    /// the model's tree at that server (stale reads included). The leader is left out while the
    /// model's has a proposal it has not written: the real one may have committed it already.
    fn settle_trees(&mut self, ensemble: &Ensemble) -> Result<(), String> {
        let config = Z::ensemble_config(self.model.service_config()).expect("an ensemble");
        let leader = ensemble.leader().expect("a leader serves");
        let lock = format!("{}/lock", self.root);
        for server in ensemble.zab.ids() {
            let unwritten = ensemble
                .zab
                .server(server)
                .leading()
                .is_some_and(|l| l.unwritten > 0);
            if server == leader && unwritten {
                continue;
            }
            let want = self.applied_zxid(ensemble, server);
            let deadline = Instant::now() + WAIT;
            let observer = &mut self.observers[usize::from(server)];
            let reply = loop {
                let reply = observer
                    .call(op::GET_CHILDREN, |out| out.string(&lock).bool(false))
                    .map_err(|e| format!("the observer on S{server} cannot list {lock}: {e}"))?;
                if reply.zxid >= want || Instant::now() > deadline {
                    break reply;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            };
            if reply.zxid != want {
                return Err(format!(
                    "S{server} has applied up to zxid {:#x}, the model's up to {want:#x}",
                    reply.zxid
                ));
            }
            let tree = ensemble.tree_of(config, server);
            let names = if reply.err == wire::err::OK {
                wire::In::new(&reply.body)
                    .strings()
                    .map_err(|e| format!("a malformed listing: {e}"))?
            } else {
                Vec::new()
            };
            let mut real: Vec<u8> = names.iter().map(|n| seq_of(n)).collect::<Result<_, _>>()?;
            real.sort_unstable();
            let model = tree.children();
            let shown: Vec<String> = real.iter().map(u8::to_string).collect();
            let differs = || {
                format!(
                    "S{server}'s tree: model children {model}, real [{}]",
                    shown.join(", ")
                )
            };
            if real.len() != model.len() {
                return Err(differs());
            }
            for (r, m) in real.iter().zip(model.iter()) {
                self.seqs
                    .unify(*r, m)
                    .map_err(|e| format!("{}: {e}", differs()))?;
            }
        }
        Ok(())
    }

    /// After a step on an ensemble: reality caught up with the model, and the same.
    pub(super) fn settle(&mut self, after: &LockState<Z>) -> Result<(), String> {
        let ensemble = after.zk.ensemble().expect("an ensemble").clone();
        self.settle_links(&ensemble)?;
        self.settle_trees(&ensemble)?;
        self.settle_clients(after)
    }

    /// A client's request reaches its server: a read is answered there, a write is forwarded to
    /// the leader (the last release's closeSession goes right behind its delete).
    pub(super) fn serve_on_ensemble(
        &mut self,
        c: usize,
        request: Request,
        after: &LockState<Z>,
    ) -> Done {
        let ensemble = after.zk.ensemble().expect("an ensemble");
        let server = ensemble.server_of_client(c as u8);
        let real = self.send(c, request)?;
        let mut text = format!("{} sends {real} to S{server}", name(c));
        if let Request::Delete {
            close_session: true,
            ..
        } = request
        {
            let client = &mut self.clients[c];
            let conn = client.conn.as_mut().expect("the delete went out on it");
            let xid = conn
                .send(op::CLOSE_SESSION, |out| out)
                .map_err(|e| unrealisable(format!("cannot close {}'s session: {e}", name(c))))?;
            client.sent.push((xid, None));
            client.session = SessionEnd::Ended;
            text.push_str(" and closeSession");
        }
        self.settle(after).map_err(|d| diverged(&text, d))?;
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
        let leader = ensemble.leader().expect("a leader serves");
        let leader_has_clients = (0..self.clients.len()).any(|c| {
            ensemble.server_of_client(c as u8) == leader
                && self.clients[c].session == SessionEnd::Live
        });
        match step {
            EnsembleStep::LogProposal { server } if server == leader => {
                let text = format!(
                    "S{leader} wrote its proposal and counted its own ACK inside the process right after proposing (nothing the harness can hold)"
                );
                self.settle(after).map_err(|d| diverged(&text, d))?;
                Ok(text)
            }
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
                let released = self.release(&ensemble, (from, to), msg)?;
                let text = format!("the harness releases S{from} → S{to} {released}");
                self.settle(after).map_err(|d| diverged(&text, d))?;
                Ok(text)
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

fn failure_text(failure: Failure) -> String {
    match failure {
        Failure::Diverged { difference, .. } => difference,
        Failure::Unrealisable(why) => why,
    }
}

//! Which real packets a model message between servers stands for, and finding them among the
//! packets a link holds.

use super::*;

/// One real packet a model message stands for. A model message is one packet, except the last
/// release's delete and closeSession, which the model makes one transaction and ZooKeeper two:
/// its REQUEST, PROPOSAL, ACK and COMMIT are each two packets, released together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Want {
    Request {
        session: i64,
        op: i32,
    },
    Proposal {
        value: u8,
        part: usize,
    },
    Ack {
        value: u8,
        part: usize,
    },
    Commit {
        value: u8,
        part: usize,
    },
    /// The leader's answer to a forwarded `sync`.
    Sync,
}

impl Want {
    fn kind(self) -> i32 {
        match self {
            Want::Request { .. } => kind::REQUEST,
            Want::Proposal { .. } => kind::PROPOSAL,
            Want::Ack { .. } => kind::ACK,
            Want::Commit { .. } => kind::COMMIT,
            Want::Sync => kind::SYNC,
        }
    }
}

/// How the model's messages on a link stand against the packets held there.
pub(super) enum Matched {
    /// Each wanted packet's index among the held ones.
    All(Vec<usize>),
    /// Some have not arrived yet.
    Missing(String),
    Differs(String),
}

impl<Z: Replayed> Harness<'_, Z> {
    /// How many real transactions the model's transaction `value` is.
    fn parts(&self, ensemble: &Ensemble, value: u8) -> usize {
        match ensemble.txns[usize::from(value - 1)] {
            LockTxn::Delete {
                close_session: true,
                ..
            } => 2,
            LockTxn::Error { .. } if self.refused_releases.contains(&value) => 2,
            _ => 1,
        }
    }

    /// The real packets a model message on a link stands for.
    pub(super) fn wants(&self, ensemble: &Ensemble, msg: zab::Msg) -> Result<Vec<Want>, Failure> {
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
            let n = self.parts(ensemble, value);
            (0..n).map(|part| want(value, part)).collect()
        };
        Ok(match msg {
            zab::Msg::Forward {
                client, request, ..
            } => {
                let session = self.session_of(usize::from(client));
                let ops: &[i32] = match request {
                    Request::Create { .. } => &[txn::CREATE2],
                    Request::Delete {
                        close_session: true,
                        ..
                    } => &[txn::DELETE, txn::CLOSE_SESSION],
                    Request::Delete { .. } => &[txn::DELETE],
                    Request::Sync { .. } => &[txn::SYNC],
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
            zab::Msg::Synced { .. } => vec![Want::Sync],
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
                    LockTxn::Error { client, .. } if part == 1 => (client, &[txn::CLOSE_SESSION]),
                    LockTxn::Error { client, .. } => (client, &[txn::ERROR]),
                    LockTxn::CreateSession { client } => (client, &[txn::CREATE_SESSION]),
                    LockTxn::Expire { client } => (client, &[txn::CLOSE_SESSION]),
                };
                let session = self.session_of(usize::from(client));
                if !kinds.contains(&proposed.kind) || proposed.session != session {
                    return Err(format!(
                        "proposal: model {model} (session {session:#x}), real {} of session {:#x}",
                        proposed_text(&proposed),
                        proposed.session
                    ));
                }
                self.values.entry(value).or_default().push(packet.zxid);
                Ok(true)
            }
            Want::Ack { value, part } | Want::Commit { value, part } => {
                Ok(bound(&self.values, value, part) == Some(packet.zxid))
            }
            // A SYNC names no client: the follower answers its syncs in the order it sent them.
            Want::Sync => Ok(true),
        }
    }

    /// The synchronisation the model's leader sends a follower carries transactions the real
    /// leader, which synchronised that follower in the batch bound to its `Join` or `Elect`,
    /// forwarded as PROPOSALs and COMMITs (held since: see [`ahead_of_sync`]). They are part of
    /// the synchronisation: released when the model's DIFF, SNAP or TRUNC is sent, the
    /// follower's ACKs of them passing as of the batch.
    pub(super) fn release_into_sync(&mut self, ensemble: &Ensemble) -> Result<(), Failure> {
        let links = Arc::clone(&self.real_ensemble().expect("an ensemble").links);
        for p in &ensemble.zab.net {
            let zab::Msg::Sync { txns, .. } = p.msg else {
                continue;
            };
            let zxids: Vec<i64> = txns
                .iter()
                .filter_map(|t| self.values.get(&t.value))
                .flatten()
                .copied()
                .collect();
            links
                .release_into_sync((p.from, p.to), &zxids)
                .map_err(|e| unrealisable(format!("cannot pass a packet on: {e}")))?;
        }
        Ok(())
    }

    /// Bind the model's proposals that no packet on a live link shows to the PROPOSALs the
    /// severed connections of a partition dropped (a leader cut off from every follower), in
    /// the leader's order. The harness waits for the real leader's proposal as it waits for a
    /// held one: nothing else tells that the leader made it.
    pub(super) fn bind_lost_proposals(&mut self, ensemble: &Ensemble) -> Result<(), Failure> {
        let in_flight = |value: u8| {
            ensemble
                .zab
                .net
                .iter()
                .any(|p| matches!(p.msg, zab::Msg::Proposal { txn } if txn.value == value))
        };
        let mut needed = Vec::new();
        for server in &ensemble.zab.servers {
            if server.leading().is_none() {
                continue;
            }
            for t in server.disk.log.iter() {
                let bound = self.values.get(&t.value).map_or(0, Vec::len);
                for part in bound..self.parts(ensemble, t.value) {
                    let want = Want::Proposal {
                        value: t.value,
                        part,
                    };
                    if !in_flight(t.value) && !needed.contains(&want) {
                        needed.push(want);
                    }
                }
            }
        }
        if needed.is_empty() {
            return Ok(());
        }
        let links = Arc::clone(&self.real_ensemble().expect("an ensemble").links);
        let values = self.values.clone();
        let unbound = |p: &Packet| !values.values().any(|zxids| zxids.contains(&p.zxid));
        links.wait_until(Instant::now() + WAIT, |state| {
            state.lost_proposals.iter().filter(|p| unbound(p)).count() >= needed.len()
        });
        let lost: Vec<Packet> = links
            .lock()
            .lost_proposals
            .iter()
            .filter(|p| unbound(p))
            .cloned()
            .collect();
        if lost.len() < needed.len() {
            return Err(diverged(
                "",
                format!(
                    "the leader's proposal that no follower could receive: none seen within {WAIT:?}"
                ),
            ));
        }
        for (want, packet) in needed.into_iter().zip(&lost) {
            self.is_wanted(ensemble, want, packet)
                .map_err(|difference| diverged("", difference))?;
        }
        Ok(())
    }

    /// Match the model's messages on `link` with the packets held there, in order. A COMMIT
    /// may be held ahead of its turn: the real leader writes and acknowledges its own proposal
    /// at once (see [`Harness::ensemble_step`]), so it may commit before the model's leader does.
    pub(super) fn match_link(
        &mut self,
        ensemble: &Ensemble,
        link: LinkId,
        held: &[Packet],
    ) -> Result<Matched, Failure> {
        let model: Vec<zab::Msg> = ensemble
            .zab
            .net
            .iter()
            .filter(|p| (p.from, p.to) == link && !failover::is_synchronisation(p.msg))
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
            if !indices.contains(&i)
                && !self.early_commit(ensemble, packet)
                && !early_ack(ensemble, link, packet)
                && !ahead_of_sync(ensemble, link, packet)
            {
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
        let Some(leader) = ensemble.leader() else {
            return false;
        };
        let server = ensemble.zab.server(leader);
        let committed = &server.disk.log[..usize::from(server.disk.delivered)];
        !committed.iter().any(|t| t.value == value)
    }
}

/// A proposed transaction's type in words; an error transaction with its code.
fn proposed_text(proposed: &Proposed) -> String {
    match proposed.err {
        Some(wire::err::SESSION_EXPIRED) => "error SessionExpired".into(),
        Some(wire::err::SESSION_MOVED) => "error SessionMoved".into(),
        Some(code) => format!("error {code}"),
        None => txn::name(proposed.kind).to_string(),
    }
}

/// A PROPOSAL or COMMIT the real leader forwarded to a follower that the model's leader has not
/// sent its synchronisation yet: the real one synchronised it in the batch bound to its `Join`
/// or `Elect` and forwards it what it proposes from then on, where the model's leader puts what
/// it proposed meanwhile in the synchronisation it sends later. Held until then
/// ([`Harness::release_into_sync`]).
fn ahead_of_sync(ensemble: &Ensemble, (from, to): LinkId, packet: &Packet) -> bool {
    matches!(packet.kind, kind::PROPOSAL | kind::COMMIT)
        && ensemble
            .zab
            .server(to)
            .following()
            .is_some_and(|f| f.leader == from)
        && ensemble
            .zab
            .server(from)
            .leading()
            .is_some_and(|l| l.learners & 1 << to == 0)
}

/// An ACK from a follower that the model is still synchronising: the real one was synchronised
/// in the batch bound to the election (see `failover`), so it acknowledges a proposal at once,
/// where the model's does after its UPTODATE. The ACK stays held until the model sends it.
fn early_ack(ensemble: &Ensemble, (from, _): LinkId, packet: &Packet) -> bool {
    packet.kind == kind::ACK && !ensemble.serves(from) && ensemble.zab.server(from).up
}

//! After a step on an ensemble: waiting until reality shows what the model's step did, and
//! comparing: the packets held on every link, each server's tree, what each client received.

use super::packets::Matched;
use super::*;

impl<Z: Replayed> Harness<'_, Z> {
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
    fn settle_links(&mut self, ensemble: &Ensemble) -> Result<(), Failure> {
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
                    Ok(Matched::Differs(what)) => return Err(diverged("", what)),
                    Err(failure) => return Err(failure),
                }
            }
            let Some(missing) = missing else {
                return Ok(());
            };
            let changed = links.wait_until(deadline, |state| {
                state.holding_links().map(|(_, n)| n).sum::<usize>() != seen
            });
            if !changed {
                return Err(diverged("", format!("{missing} within {WAIT:?}")));
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
            self.hear_why_closed(c)?;
            self.compare_in_flight(c, &model)?;
        }
        Ok(())
    }

    /// The server closed the connection of a session the client did not end (it has not, or
    /// its own closeSession has no answer yet: the leader's close came first): the client's
    /// library reconnects to its server, which tells it whether the session expired.
    fn hear_why_closed(&mut self, c: usize) -> Result<(), String> {
        let client = &self.clients[c];
        let closed = client.conn.as_ref().is_some_and(Conn::is_closed);
        let closing = client.sent.iter().any(|(_, request)| request.is_none());
        if closed && (client.session == SessionEnd::Live || closing) {
            self.reconnect(c).map_err(failure_text)?;
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
        let lock = format!("{}/lock", self.root);
        for server in ensemble.zab.ids() {
            let unwritten = ensemble
                .zab
                .server(server)
                .leading()
                .is_some_and(|l| l.unwritten > 0);
            // A server out of broadcast serves nobody; an observer reads it once it serves.
            if unwritten || !ensemble.serves(server) {
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
            // A leader establishing epoch e sets its servers' last zxid to (e, 0), above every
            // transaction before it.
            let new_epoch = reply.zxid & 0xffff_ffff == 0 && reply.zxid > want;
            if reply.zxid != want && !new_epoch {
                return Err(format!(
                    "S{server} has applied up to zxid {:#x}, the model's up to {want:#x}",
                    reply.zxid
                ));
            }
            let tree = ensemble.tree_of(config, server);
            let (model_exists, real_exists) =
                (tree.node(Path::Lock).is_some(), reply.err == wire::err::OK);
            if model_exists != real_exists {
                return Err(format!(
                    "S{server}: /lock exists: model {model_exists}, real {real_exists}"
                ));
            }
            let names = if real_exists {
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

    /// After a step on an ensemble: reality caught up with the model, and the same. A
    /// divergence found here has no real event of its own yet: see [`told_at`].
    pub(in crate::conform::replay) fn settle(
        &mut self,
        after: &LockState<Z>,
    ) -> Result<(), Failure> {
        let ensemble = after.zk.ensemble().expect("an ensemble").clone();
        self.bind_lost_proposals(&ensemble)?;
        self.release_into_sync(&ensemble)?;
        self.settle_links(&ensemble)?;
        self.settle_trees(&ensemble)
            .map_err(|difference| diverged("", difference))?;
        self.settle_clients(after)
            .map_err(|difference| diverged("", difference))
    }
}

/// A failure [`Harness::settle`] found, told at the step whose real event is `real`.
pub(in crate::conform::replay) fn told_at(real: &str) -> impl Fn(Failure) -> Failure + '_ {
    move |failure| match failure {
        Failure::Diverged { difference, .. } => diverged(real, difference),
        unrealisable => unrealisable,
    }
}

pub(super) fn failure_text(failure: Failure) -> String {
    match failure {
        Failure::Diverged { difference, .. } => difference,
        Failure::Unrealisable(why) => why,
    }
}

//! Each server's per-session request queue (`CommitProcessor`): a server that has taken a write
//! of a session keeps that session's later requests behind it until it has applied the write.
//! `CommitProcessor.run` queues a request in `pendingRequests`, keyed by session id, when it
//! needs a commit or when the session already has a request queued there, and drains a
//! session's queue only when the commit of the write at its head arrives. So a session's read
//! waits at a server while that server holds one of the session's writes, even after the
//! connection the write came on has closed: the queue is the session's, not the connection's.
//! A server that leaves broadcast shuts its processors down, and its queues with them.
//!
//! Who holds a write:
//! - the follower that took it, from forwarding it (`FollowerRequestProcessor` queues it
//!   locally before it sends it to the leader) until it applies it;
//! - the leader that prepared it, until it applies it: the leader's processors run
//!   `CommitProcessor` too, and a learner's forwarded write goes through it unless the
//!   non-default property `zookeeper.forward_learner_requests_to_commit_processor_disabled` is
//!   set (`ProposalRequestProcessor.shouldForwardToNextProcessor`). The leader's expiry of a
//!   session is a closeSession request of that session, queued the same way.

use super::state::Ensemble;
use super::tree::processed;
use crate::zab::types::MAX_SERVERS;
use crate::zab::{Msg, Sid};
use crate::zookeeper::ClientId;

/// Bits per transaction in [`Ensemble::held_at`]: a server id + 1.
const HOLDER_BITS: u32 = 3;

const _: () = assert!(
    MAX_SERVERS < 1 << HOLDER_BITS,
    "a holder is a server id + 1 in 3 bits"
);
const _: () = assert!(
    crate::zab::types::MAX_TXNS as u32 * HOLDER_BITS <= 32,
    "every transaction's holder fits in 32 bits"
);

impl Ensemble {
    /// Whether `server` holds a write of `client`'s session that it has taken and not yet
    /// applied: it is forwarding it to its leader, it forwarded it and the leader prepared it,
    /// or it leads and prepared it itself in its own epoch.
    pub(super) fn holds_write_of(&self, server: Sid, client: ClientId) -> bool {
        let forwarding = self.zab.net.iter().any(|p| {
            p.from == server && matches!(p.msg, Msg::Forward { client: c, .. } if c == client)
        });
        let forwarded = (0..self.txns.len())
            .any(|i| self.holder(i) == Some(server) && self.txns[i].client() == client);
        forwarding || forwarded || self.prepared_unapplied(server, client)
    }

    /// Whether `server` leads in broadcast and has prepared a transaction of `client`'s session
    /// in its epoch that it has not applied yet.
    fn prepared_unapplied(&self, server: Sid, client: ClientId) -> bool {
        if !self.leads(server) {
            return false;
        }
        let s = self.zab.server(server);
        let epoch = s.leading().map(|l| l.epoch);
        s.disk.log[processed(s).len()..]
            .iter()
            .any(|t| Some(t.zxid.epoch) == epoch && self.txn(*t).client() == client)
    }

    /// The follower holding the transaction at table index `index`, if one does.
    fn holder(&self, index: usize) -> Option<Sid> {
        match self.held_at >> (HOLDER_BITS * index as u32) & ((1 << HOLDER_BITS) - 1) {
            0 => None,
            s => Some(s as Sid - 1),
        }
    }

    /// The leader prepared the table's last transaction from a write that the follower `via`
    /// forwarded: `via` holds it until it applies it.
    pub(super) fn hold_at(&mut self, via: Sid) {
        let shift = HOLDER_BITS * (self.txns.len() - 1) as u32;
        self.held_at |= (u32::from(via) + 1) << shift;
    }

    /// After a step: a follower that has applied a transaction it held, or that has stopped
    /// serving (its queues went with its processors), holds it no more.
    pub(super) fn release_holds(&mut self) {
        for i in 0..self.txns.len() {
            let Some(s) = self.holder(i) else { continue };
            let server = self.zab.server(s);
            let applied = processed(server)
                .iter()
                .any(|t| usize::from(t.value) == i + 1);
            if applied || !self.serves(s) {
                self.held_at &= !(((1 << HOLDER_BITS) - 1) << (HOLDER_BITS * i as u32));
            }
        }
    }
}

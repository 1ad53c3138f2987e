//! The established leader's session tracker (docs/design/ensemble.md, §5.2): which sessions it
//! knows and which it is closing, as ZooKeeper's `SessionTrackerImpl` keeps them on the leader.
//!
//! It is volatile: a new leader builds it from its data tree when it is established (every open
//! session tracked, with a fresh timeout, none closing), and then keeps it as the leader's
//! request processors do:
//! - preparing a `createSession` tracks the session (`trackSession`);
//! - preparing a `closeSession` (the client's own, or the tracker's expiry) marks it closing
//!   (`setSessionClosing`);
//! - applying a `closeSession` at the leader removes it (`removeSession`);
//! - preparing a create or a delete checks the session first (`checkSession`): an unknown session
//!   is refused `SessionExpired`, and so is a closing one, the check ZOOKEEPER-1208's fix added;
//!   then the owner: a write that came through another server than the session's owner is refused
//!   `SessionMoved`, and a session with no owner yet is claimed by the server its write came
//!   through;
//! - revalidating a reconnecting session makes the server it reconnected through its owner
//!   (`setOwner`, from `Leader.revalidateSession` for a follower's client, from
//!   `LeaderZooKeeperServer.revalidateSession` for the leader's own).
//!
//! ZooKeeper's owner is the object a request arrived through: a follower's `LearnerHandler` at the
//! leader, or `ServerCnxn.me` for the leader's own clients. The model names the server instead. A
//! follower that rejoins gets a new handler, but its clients were disconnected when it left and
//! every one of them revalidates (a new owner) before it writes again, so the server's id tells
//! the same owners apart.

use crate::zab::Sid;
use crate::zookeeper::{ClientId, LockTxn, Reply, Server, ServerFlaw};

/// The sessions the leader's tracker holds, as bit sets over client slots.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Tracker {
    /// Bit `c`: C`c`'s session is tracked (`sessionsById` holds it).
    pub(super) tracked: u8,
    /// Bit `c`: its closeSession is prepared and not yet applied at the leader (`isClosing`).
    pub(super) closing: u8,
    /// Four bits per client slot: 0 while the session has no owner (`SessionImpl.owner` is null),
    /// `s + 1` once server `s` owns it. Kept only in worlds where a session can move while a
    /// write it left behind is still on its way (`EnsembleConfig::checks_owners`); 0 elsewhere.
    pub(super) owners: u32,
}

const _: () = assert!(
    crate::zookeeper::MAX_CLIENTS <= 8,
    "a tracker's sets are 8-bit, its owners 4 bits per client in 32"
);
const _: () = assert!(
    crate::zab::types::MAX_SERVERS < 16,
    "an owner is a server id + 1 in 4 bits"
);

fn bit(client: ClientId) -> u8 {
    1 << client
}

/// The session a transaction closes: the tracker's expiry, or a client's last release.
fn closed_session(txn: LockTxn) -> Option<ClientId> {
    match txn {
        LockTxn::Expire { client }
        | LockTxn::Delete {
            client,
            close_session: true,
            ..
        } => Some(client),
        _ => None,
    }
}

impl Tracker {
    /// A newly established leader's tracker: every session open in its tree, none closing, and
    /// none owned (`SessionTrackerImpl` builds a new `SessionImpl` per session, whose owner is
    /// null until a write or a revalidation sets it).
    pub fn established(tree: &Server, clients: usize) -> Self {
        let tracked = (0..clients as ClientId)
            .filter(|&c| tree.is_live(c))
            .fold(0, |set, c| set | bit(c));
        Tracker {
            tracked,
            closing: 0,
            owners: 0,
        }
    }

    /// The same tracker without the sessions in `clients` (a set of client bits): a new leader's
    /// session table lacks them (zk-1367).
    pub fn without(self, clients: u8) -> Self {
        Tracker {
            tracked: self.tracked & !clients,
            ..self
        }
    }

    /// The server that owns `client`'s session, if one does.
    pub fn owner(&self, client: ClientId) -> Option<Sid> {
        match self.owners >> (4 * client) & 0xf {
            0 => None,
            s => Some(s as Sid - 1),
        }
    }

    /// `setOwner`: `server` owns `client`'s session from now on (the session was created or
    /// revalidated through it).
    pub fn set_owner(&mut self, client: ClientId, server: Sid) {
        let shift = 4 * u32::from(client);
        self.owners = self.owners & !(0xf << shift) | (u32::from(server) + 1) << shift;
    }

    pub fn is_tracked(&self, client: ClientId) -> bool {
        self.tracked & bit(client) != 0
    }

    pub fn is_closing(&self, client: ClientId) -> bool {
        self.closing & bit(client) != 0
    }

    /// `checkSession`, as preparing a create or a delete calls it: refused `SessionExpired` if the
    /// tracker does not know the session, or (unless the servers run `zk-1208`'s code) if it is
    /// closing. Before ZOOKEEPER-1208's fix the check had no closing part at all, so zk-1208 lets
    /// a closing session's delete through too; that one is harmless (the closeSession prepared
    /// before it deletes the session's nodes, so the delete finds none), the create is the flaw.
    ///
    /// `via` is the server the write came through when the world checks owners (`None`
    /// otherwise): a session owned by another server is refused `SessionMoved`, and one with no
    /// owner becomes `via`'s.
    pub fn check(
        &mut self,
        client: ClientId,
        via: Option<Sid>,
        flaw: Option<ServerFlaw>,
    ) -> Result<(), Reply> {
        let skips_closing_check = flaw == Some(ServerFlaw::Zk1208);
        if !self.is_tracked(client) || (self.is_closing(client) && !skips_closing_check) {
            return Err(Reply::SessionExpired);
        }
        let Some(via) = via else {
            return Ok(());
        };
        match self.owner(client) {
            None => self.set_owner(client, via),
            Some(owner) if owner != via => return Err(Reply::SessionMoved),
            Some(_) => {}
        }
        Ok(())
    }

    /// The leader prepared `txn`: a `createSession` tracks its session, a `closeSession` marks a
    /// tracked session closing.
    pub fn prepared(&mut self, txn: LockTxn) {
        if let LockTxn::CreateSession { client } = txn {
            self.tracked |= bit(client);
            self.closing &= !bit(client);
        } else if let Some(client) = closed_session(txn) {
            self.closing |= self.tracked & bit(client);
        }
    }

    /// The leader applied `txn`: a `closeSession` removes its session, owner and all.
    pub fn applied(&mut self, txn: LockTxn) {
        if let Some(client) = closed_session(txn) {
            self.tracked &= !bit(client);
            self.closing &= !bit(client);
            self.owners &= !(0xf << (4 * u32::from(client)));
        }
    }

    /// Whether the tracker may expire `client`'s session: it is tracked and not already closing
    /// (its expiry thread expires a session once).
    pub fn may_expire(&self, client: ClientId) -> bool {
        self.is_tracked(client) && !self.is_closing(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: the closing check is what ZOOKEEPER-1208's fix adds: a closing session's create is
    /// refused by the fixed code and let through by zk-1208's, while an unknown session is refused
    /// by both. Method: a tracker through one session's life.
    #[test]
    fn a_closing_session_is_refused_unless_the_closing_check_is_skipped() {
        let mut tracker = Tracker::established(&Server::new(2, true), 2);
        assert_eq!(tracker.check(0, None, None), Ok(()));
        tracker.prepared(LockTxn::Expire { client: 0 });
        assert!(tracker.is_closing(0) && !tracker.may_expire(0));
        assert_eq!(tracker.check(0, None, None), Err(Reply::SessionExpired));
        assert_eq!(tracker.check(0, None, Some(ServerFlaw::Zk1208)), Ok(()));
        assert_eq!(tracker.check(1, None, None), Ok(()), "C1 is not touched");
        tracker.applied(LockTxn::Expire { client: 0 });
        assert!(!tracker.is_tracked(0) && !tracker.is_closing(0));
        for flaw in [None, Some(ServerFlaw::Zk1208)] {
            assert_eq!(tracker.check(0, None, flaw), Err(Reply::SessionExpired));
        }
        tracker.prepared(LockTxn::CreateSession { client: 0 });
        assert_eq!(tracker.check(0, None, None), Ok(()));
    }

    /// Goal: the owner check as `SessionTrackerImpl.checkSession` does it: a new leader's tracker
    /// owns nothing, the first write claims the session for the server it came through, a write
    /// through another server is refused `SessionMoved`, and a revalidation (`setOwner`) moves the
    /// session, after which its old server's late write is the one refused. A closing or unknown
    /// session is refused `SessionExpired` before the owner is looked at. Method: one tracker, two
    /// sessions.
    #[test]
    fn a_write_through_a_server_the_session_left_is_refused_session_moved() {
        let mut tracker = Tracker::established(&Server::new(2, true), 2);
        assert_eq!((tracker.owner(0), tracker.owner(1)), (None, None));
        assert_eq!(tracker.check(0, Some(0), None), Ok(()));
        assert_eq!(
            tracker.owner(0),
            Some(0),
            "the first write claims the session"
        );
        assert_eq!(tracker.check(0, Some(1), None), Err(Reply::SessionMoved));
        tracker.set_owner(0, 1);
        assert_eq!((tracker.owner(0), tracker.owner(1)), (Some(1), None));
        assert_eq!(tracker.check(0, Some(0), None), Err(Reply::SessionMoved));
        assert_eq!(tracker.check(0, Some(1), None), Ok(()));
        assert_eq!(
            tracker.check(0, None, None),
            Ok(()),
            "no owner check without a via"
        );
        tracker.set_owner(1, 4);
        assert_eq!(tracker.owner(1), Some(4));
        assert_eq!(tracker.owner(0), Some(1), "C1's owner leaves C0's alone");
        tracker.prepared(LockTxn::Expire { client: 0 });
        assert_eq!(tracker.check(0, Some(0), None), Err(Reply::SessionExpired));
    }
}

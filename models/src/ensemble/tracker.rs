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
//!   is refused `SessionExpired`, and so is a closing one, the check ZOOKEEPER-1208's fix added.

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
}

const _: () = assert!(
    crate::zookeeper::MAX_CLIENTS <= 8,
    "a tracker's sets are 8-bit"
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
    /// A newly established leader's tracker: every session open in its tree, none closing.
    pub fn established(tree: &Server, clients: usize) -> Self {
        let tracked = (0..clients as ClientId)
            .filter(|&c| tree.is_live(c))
            .fold(0, |set, c| set | bit(c));
        Tracker {
            tracked,
            closing: 0,
        }
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
    pub fn check(&self, client: ClientId, flaw: Option<ServerFlaw>) -> Result<(), Reply> {
        let skips_closing_check = flaw == Some(ServerFlaw::Zk1208);
        if !self.is_tracked(client) || (self.is_closing(client) && !skips_closing_check) {
            return Err(Reply::SessionExpired);
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

    /// The leader applied `txn`: a `closeSession` removes its session.
    pub fn applied(&mut self, txn: LockTxn) {
        if let Some(client) = closed_session(txn) {
            self.tracked &= !bit(client);
            self.closing &= !bit(client);
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
        assert_eq!(tracker.check(0, None), Ok(()));
        tracker.prepared(LockTxn::Expire { client: 0 });
        assert!(tracker.is_closing(0) && !tracker.may_expire(0));
        assert_eq!(tracker.check(0, None), Err(Reply::SessionExpired));
        assert_eq!(tracker.check(0, Some(ServerFlaw::Zk1208)), Ok(()));
        assert_eq!(tracker.check(1, None), Ok(()), "C1 is not touched");
        tracker.applied(LockTxn::Expire { client: 0 });
        assert!(!tracker.is_tracked(0) && !tracker.is_closing(0));
        for flaw in [None, Some(ServerFlaw::Zk1208)] {
            assert_eq!(tracker.check(0, flaw), Err(Reply::SessionExpired));
        }
        tracker.prepared(LockTxn::CreateSession { client: 0 });
        assert_eq!(tracker.check(0, None), Ok(()));
    }
}

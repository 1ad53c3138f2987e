//! Sessions on an ensemble (docs/design/ensemble.md, §5.1, §5.2, §5.5): the established leader
//! checks a session against its tracker before it prepares the session's write, expires a
//! session by preparing a closeSession, and forgets the session when it applies the
//! closeSession; every server closes the connection of a session when it applies its end.

use super::state::{Ensemble, EnsembleConfig};
use super::tracker::Tracker;
use super::tree::processed;
use crate::zab::{Sid, Txn};
use crate::zookeeper::{ClientId, ClientView, LockTxn, Reply, Request, Server};

impl Ensemble {
    /// The established leader builds its tracker from its tree: every open session, none
    /// closing. Called once at the start (no failover yet).
    pub(crate) fn establish_tracker(&mut self, config: &EnsembleConfig) {
        let leader = self.leader().expect("a leader is established");
        let tree = self.replay(&config.zk, processed(self.zab.server(leader)));
        self.tracker = Tracker::established(&tree, self.connections.len());
    }

    /// `PrepRequestProcessor` on `leader`: the tracker checks the session of a create or delete
    /// (`checkSession`), then the prepared view decides the transaction. A refusal is an error
    /// transaction, proposed like any other.
    pub(super) fn prepare_request(
        &self,
        config: &EnsembleConfig,
        leader: Sid,
        client: ClientId,
        request: Request,
    ) -> LockTxn {
        let checked = if request == Request::CreateSession {
            Ok(())
        } else {
            self.tracker.check(client, config.flaw)
        };
        checked
            .and_then(|()| {
                self.prepared_view(&config.zk, leader)
                    .prepare(client, request)
            })
            .unwrap_or_else(|reply| LockTxn::Error { client, reply })
    }

    /// Whether the leader may expire `client`'s session now: a leader is established, its
    /// tracker holds the session and is not closing it already, and the timing assumptions allow
    /// it for a client in `view`'s situation.
    pub(super) fn may_expire_session(
        &self,
        config: &EnsembleConfig,
        client: ClientId,
        view: ClientView,
    ) -> bool {
        self.leader().is_some()
            && self.tracker.may_expire(client)
            && config.timing.allows_expiry(view)
    }

    /// The tracker expires `client`'s session: the leader prepares its closeSession (marking it
    /// closing) and proposes it. Each server applies it in log order: the session's ephemeral
    /// nodes go and the watches on them fire there, and the client's own server queues
    /// `SessionExpired` to it.
    pub(super) fn expire_session(&mut self, config: &EnsembleConfig, client: ClientId) {
        let leader = self.leader().expect("only an established leader expires");
        self.propose(config, leader, LockTxn::Expire { client });
    }

    /// "S2 expires C0's session: closeSession prepared and proposed (1,3); C0 reads
    /// SessionExpired once S0 applies it".
    pub(super) fn expiry_text(&self, client: ClientId, after: &Ensemble) -> Option<String> {
        let leader = self.leader()?;
        let txn = after.zab.server(leader).disk.log.last()?;
        Some(format!(
            "S{leader} expires C{client}'s session: closeSession prepared and proposed {}; C{client} reads SessionExpired once S{} applies it",
            txn.zxid,
            self.server_of_client(client)
        ))
    }

    /// What the leader's preparation of `client`'s `request` decided about its session, when it
    /// was closing or unknown: refused (the check), or let through (zk-1208's prepare).
    pub(super) fn session_check_text(
        &self,
        leader: Sid,
        client: ClientId,
        request: Request,
        prepared: Txn,
        after: &Ensemble,
    ) -> Option<String> {
        let session = if self.tracker.is_closing(client) {
            "a closing session"
        } else if !self.tracker.is_tracked(client) && request != Request::CreateSession {
            "an ended session"
        } else {
            return None;
        };
        let proposed = after.txn_text(prepared);
        Some(match after.txn(prepared) {
            LockTxn::Error {
                reply: Reply::SessionExpired,
                ..
            } => format!(
                "; S{leader} prepares C{client}'s {request} of {session}: refused SessionExpired, proposes {proposed}"
            ),
            _ => format!(
                "; S{leader} prepares C{client}'s {request} of {session} without checking it (zk-1208) and proposes {proposed}"
            ),
        })
    }
}

/// The clients `server` still has a connection for before it applies `txn`: those whose session
/// is open in its tree, and the one `txn` opens a session for. A server closes a session's
/// connection when it applies the session's end, so what a later transaction has for that
/// session (the reply to a create prepared after the closeSession, an error transaction) is
/// never sent.
pub(super) fn connected_before(tree: &Server, clients: usize, txn: LockTxn) -> u8 {
    (0..clients as ClientId)
        .filter(|&c| tree.is_live(c) || txn == LockTxn::CreateSession { client: c })
        .fold(0, |set, c| set | 1 << c)
}

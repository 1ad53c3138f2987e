//! Sessions on an ensemble (docs/design/ensemble.md, §5.1, §5.2, §5.5): the established leader
//! checks a session against its tracker before it prepares the session's write, expires a
//! session by preparing a closeSession, and forgets the session when it applies the
//! closeSession; every server closes the connection of a session when it applies its end.

use super::state::{Ensemble, EnsembleConfig};
use super::tracker::Tracker;
use super::tree::processed;
use crate::zab::types::MAX_SERVERS;
use crate::zab::{Sid, Txn};
use crate::zookeeper::{ClientId, ClientView, LockTxn, Reply, Request, Server};

impl Ensemble {
    /// After a step: a server that now leads in broadcast and did not before (`leading_before`)
    /// builds its tracker from its own tree, every session open there tracked with a fresh
    /// timeout and none closing (`LeaderZooKeeperServer.createSessionTracker` reads the
    /// database's `sessionsWithTimeouts` when the new leader starts serving; its sessions are
    /// new `SessionImpl`s, so no closing mark of an earlier leader survives); a server that no
    /// longer leads has no tracker, and so can expire no one. With zk-1367's code the sessions its
    /// table lacks are not tracked ([`super::untracked`]).
    pub(crate) fn establish_trackers(
        &mut self,
        config: &EnsembleConfig,
        leading_before: [bool; MAX_SERVERS],
    ) {
        for s in self.zab.ids() {
            let i = usize::from(s);
            self.trackers[i] = if !self.leads(s) {
                Tracker::default()
            } else if leading_before[i] {
                continue;
            } else {
                let tree = self.replay(&config.zk, processed(self.zab.server(s)));
                Tracker::established(&tree, self.connections.len()).without(self.untracked[i])
            };
        }
    }

    /// `PrepRequestProcessor` on `leader`: the tracker checks the session of a create or delete
    /// (`checkSession`, with the server `via` that the request came through as its owner where
    /// the world checks owners), then the prepared view decides the transaction. A refusal is an
    /// error transaction, proposed like any other.
    pub(super) fn prepare_request(
        &mut self,
        config: &EnsembleConfig,
        leader: Sid,
        via: Sid,
        client: ClientId,
        request: Request,
    ) -> LockTxn {
        let owner = config.checks_owners().then_some(via);
        if request == Request::CreateSession {
            return self.prepare_session(leader, client, owner);
        }
        match self.trackers[usize::from(leader)].check(client, owner, config.flaw) {
            Ok(()) => self
                .prepared_view(&config.zk, leader)
                .prepare(client, request)
                .unwrap_or_else(|reply| LockTxn::Error { client, reply }),
            // A last release from a server the session has left: its delete is refused, but
            // not the closeSession sent right behind it, which no owner check guards (the
            // leader's own expiry sends one without owning the session): the session closes,
            // and its nodes go with it. ZooKeeper proposes the delete's error and the close as
            // two transactions; here they are one, a release whose delete found nothing to do.
            Err(Reply::SessionMoved)
                if matches!(
                    request,
                    Request::Delete {
                        close_session: true,
                        ..
                    }
                ) =>
            {
                LockTxn::Delete {
                    client,
                    path: None,
                    close_session: true,
                }
            }
            Err(reply) => LockTxn::Error { client, reply },
        }
    }

    /// `PrepRequestProcessor` on `leader` for a connect request without a session
    /// (`ZooKeeperServer.processConnectRequest` submits a createSession): the leader's tracker
    /// tracks the new session from now on (`trackSession` once `propose` notes it) and, where the
    /// world keeps owners, makes the server it came through its owner (`setOwner`). A client that
    /// lost its connection before it learned its session connects again with a new request: the
    /// model gives the new session the client's slot, so a session the client never learned of,
    /// which holds no node, is the same slot as its next one.
    fn prepare_session(&mut self, leader: Sid, client: ClientId, owner: Option<Sid>) -> LockTxn {
        if self.opening & 1 << client != 0 {
            // A new session after an expiry: the client touches a session again.
            self.ended &= !(1 << client);
        }
        if let Some(server) = owner {
            self.trackers[usize::from(leader)].set_owner(client, server);
        }
        LockTxn::CreateSession { client }
    }

    /// Whether `client` has a session as its library knows it: every session is open at the
    /// start, or it has read the answer to its createSession (the first answer it reads, whose
    /// zxid it has seen since); and it is not opening a new one after an expiry. Until then it is
    /// in its handshake, and a lost connection makes it connect again with a new connect
    /// request, with no session to revalidate.
    pub(super) fn knows_session(&self, client: ClientId) -> bool {
        self.opening & 1 << client == 0
            && (self.sessions_at_start || self.seen(client) != crate::zab::types::Zxid::ZERO)
    }

    /// `sessions_tracked`: every established leader in broadcast tracks every session open in its
    /// own tree, so each one can expire (zk-1367's leader lacks those it learned in a sync).
    pub(super) fn sessions_tracked(&self, config: &EnsembleConfig) -> bool {
        self.zab.ids().filter(|&s| self.leads(s)).all(|s| {
            let tree = self.replay(&config.zk, processed(self.zab.server(s)));
            let tracker = &self.trackers[usize::from(s)];
            (0..self.connections.len() as ClientId)
                .all(|c| !tree.is_live(c) || tracker.is_tracked(c))
        })
    }

    /// Whether the leader may expire `client`'s session now: a leader is established, its
    /// tracker holds the session and is not closing it already, the timing assumptions allow
    /// it for a client in `view`'s situation, which the leader may or may not hear, and, where
    /// they say so, for this leader while an older one may still serve; and the log has room
    /// (the budgeted expiries always fit; those of sessions nothing touches again are bounded
    /// by the log, as every write is).
    pub(super) fn may_expire_session(
        &self,
        config: &EnsembleConfig,
        client: ClientId,
        view: ClientView,
    ) -> bool {
        let room = self.zab.injected < config.zab.transactions;
        room && self.leader().is_some_and(|leader| {
            self.trackers[usize::from(leader)].may_expire(client)
                && config
                    .timing
                    .allows_expiry(view, self.hears(leader, client))
                && (!config.timing.expiry_waits_for_old_leaders()
                    || self.only_leadership_served(leader))
        })
    }

    /// Whether every server that serves clients serves them for `leader`: no older leader cut
    /// off in a minority, nor a follower of one, still answers reads or revalidates sessions.
    fn only_leadership_served(&self, leader: Sid) -> bool {
        self.zab
            .ids()
            .all(|s| !self.serves(s) || self.leader_of(s) == Some(leader))
    }

    /// Whether `leader` hears from `client`: the client has a connection, to `leader` itself or
    /// to a follower of `leader`'s that reaches it, which forwards the session's pings as touches.
    fn hears(&self, leader: Sid, client: ClientId) -> bool {
        let server = self.server_of_client(client);
        self.is_connected(client)
            && (server == leader
                || (self.zab.connected(server, leader)
                    && self.zab.follows_leadership(server, leader)))
    }

    /// The tracker expires `client`'s session: the leader prepares its closeSession (marking it
    /// closing) and proposes it. Each server applies it in log order: the session's ephemeral
    /// nodes go and the watches on them fire there, and the client's own server queues
    /// `SessionExpired` to it.
    pub(super) fn expire_session(&mut self, config: &EnsembleConfig, client: ClientId) {
        let leader = self.leader().expect("only an established leader expires");
        self.propose(config, leader, LockTxn::Expire { client });
    }

    /// "; S1 (leader of epoch 2) re-arms C0's and C1's sessions" for a server that began leading
    /// in broadcast in the step to `after`, or "; S1 (leader of epoch 2) tracks no session".
    pub(super) fn established_text(&self, after: &Ensemble) -> String {
        let mut text = String::new();
        for s in after
            .zab
            .ids()
            .filter(|&s| after.leads(s) && !self.leads(s))
        {
            let epoch = after.zab.server(s).leading().map_or(0, |l| l.epoch);
            let tracker = &after.trackers[usize::from(s)];
            let sessions: Vec<String> = (0..after.connections.len() as ClientId)
                .filter(|&c| tracker.is_tracked(c))
                .map(|c| format!("C{c}'s"))
                .collect();
            let what = match sessions.len() {
                0 => "tracks no session".to_string(),
                1 => format!("re-arms {} session", sessions[0]),
                _ => format!("re-arms {} sessions", sessions.join(" and ")),
            };
            text.push_str(&format!("; S{s} (leader of epoch {epoch}) {what}"));
        }
        text
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

    /// What the leader's preparation of `client`'s `request`, which came through `via`, decided
    /// about its session, when it was closing or unknown (refused, or let through by zk-1208's
    /// prepare) or had moved away from `via` (refused `SessionMoved`, or let through by zk-710's).
    pub(super) fn session_check_text(
        &self,
        leader: Sid,
        via: Sid,
        client: ClientId,
        request: Request,
        prepared: Txn,
        after: &Ensemble,
    ) -> Option<String> {
        let tracker = &self.trackers[usize::from(leader)];
        if let Some(text) = self.moved_text(leader, via, client, request, prepared, after) {
            return Some(text);
        }
        let session = if tracker.is_closing(client) {
            "a closing session"
        } else if !tracker.is_tracked(client) && request != Request::CreateSession {
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

impl Ensemble {
    /// "; S2 prepares C0's create(...) from S0, which C0's session has left for S1: refused
    /// SessionMoved, proposes error SessionMoved for C0 (1,2)", or zk-710's "... without checking
    /// its owner (zk-710) and proposes create /lock/lock-0000000001 by C0 (1,2)": what the
    /// leader did with a write that came through a server its client had left (it is
    /// disconnected from it, or connected elsewhere).
    fn moved_text(
        &self,
        leader: Sid,
        via: Sid,
        client: ClientId,
        request: Request,
        prepared: Txn,
        after: &Ensemble,
    ) -> Option<String> {
        let now = self.server_of_client(client);
        let left = if !self.is_connected(client) {
            format!("which C{client} has lost its connection to")
        } else if now != via {
            format!("which C{client}'s session has left for S{now}")
        } else {
            return None;
        };
        let proposed = after.txn_text(prepared);
        Some(match after.txn(prepared) {
            LockTxn::Error {
                reply: Reply::SessionMoved,
                ..
            } => format!(
                "; S{leader} prepares C{client}'s {request} from S{via}, {left}: refused SessionMoved, proposes {proposed}"
            ),
            LockTxn::Error { .. } => return None,
            LockTxn::Delete {
                path: None,
                close_session: true,
                ..
            } if self.trackers[usize::from(leader)]
                .owner(client)
                .is_some_and(|owner| owner != via) =>
            {
                format!(
                    "; S{leader} prepares C{client}'s {request} from S{via}, {left}: the delete is refused SessionMoved, but the closeSession behind it is not checked for its owner and closes the session; proposes {proposed}"
                )
            }
            _ => {
                let owner = match after.trackers[usize::from(leader)].owner(client) {
                    Some(s) if self.trackers[usize::from(leader)].owner(client) == Some(s) => {
                        format!("S{s} still owns the session")
                    }
                    Some(s) => format!("the session had no owner: S{s} claims it"),
                    None => "without checking the session's owner (zk-710)".to_string(),
                };
                format!(
                    "; S{leader} prepares C{client}'s {request} from S{via}, {left}, {owner}, and proposes {proposed}"
                )
            }
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

impl Ensemble {
    /// Whether a leader in broadcast has prepared the removal of `client`'s node at `path`: in its
    /// prepared view (every transaction it logged applied, committed or not) the node is gone,
    /// deleted or with its session's close. Its removal then happens when that transaction commits
    /// (`DataTree.processTxn` kills the session or deletes the node); a failover that drops it
    /// leaves a session nothing will touch again, which the new leader re-arms and expires.
    pub(super) fn removal_prepared(&self, client: ClientId, path: crate::zookeeper::Path) -> bool {
        let zk = crate::zookeeper::ZkConfig {
            record_zxids: false,
            protected_names: false,
        };
        self.zab.ids().filter(|&s| self.leads(s)).any(|s| {
            let view = self.prepared_view(&zk, s);
            view.node(path).and_then(|n| n.owner) != Some(client)
        })
    }
}

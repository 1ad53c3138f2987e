//! The ensemble as the lock world's ZooKeeper service: reads at the client's server, writes
//! forwarded to the leader, prepared, proposed through ZAB, and answered by the client's server
//! when it applies them.

use std::borrow::Cow;
use std::ops::ControlFlow;

use stateright::Model;

use super::action::EnsembleStep;
use super::sessions::connected_before;
use super::state::{Ensemble, EnsembleConfig, Unread};
use super::tree::processed;
use crate::actor::ActorId;
use crate::prop;
use crate::timeline::{Message, MessageEvent, StepKind};
use crate::zab::state::Phase;
use crate::zab::types::{bit, members, set_name, Log, Packet, Zxid, MAX_SERVERS};
use crate::zab::{props, Msg, Sid, ZabAction};
use crate::zookeeper::{
    ClientId, ClientView, LockTxn, Outbox, Path, Reply, Request, Seq, SeqMap, Served, Server,
    ServiceProperty, SessionState, Watch, ZkService, ZxidMap,
};

impl Ensemble {
    /// The leader takes `client`'s write, which came through `via` (a follower that forwarded
    /// it, or the leader itself): it prepares it (the session checked by its tracker, the
    /// transaction decided against its prepared view) and proposes the transaction in the same
    /// step (`PrepRequestProcessor`, then `ProposalRequestProcessor`). A refused write becomes an
    /// error transaction, proposed like any other.
    fn prepare_and_propose(
        &mut self,
        config: &EnsembleConfig,
        leader: Sid,
        via: Sid,
        client: ClientId,
        request: Request,
    ) {
        let txn = self.prepare_request(config, leader, via, client, request);
        self.propose(config, leader, txn);
    }

    /// `leader` proposes the transaction it prepared: its tracker notes a session it opens or
    /// closes, the table records it, and ZAB's leader appends and broadcasts it.
    pub(super) fn propose(&mut self, config: &EnsembleConfig, leader: Sid, txn: LockTxn) {
        self.trackers[usize::from(leader)].prepared(txn);
        self.txns.push(txn);
        config
            .zab_model()
            .step(&mut self.zab, &ZabAction::ClientRequest { leader });
        assert_eq!(
            usize::from(self.zab.injected),
            self.txns.len(),
            "a transaction's value indexes the table"
        );
    }

    /// `follower` forwards `client`'s `request` to its `leader` (`FollowerRequestProcessor`), on
    /// their connection.
    pub(super) fn forward(
        &mut self,
        follower: Sid,
        leader: Sid,
        client: ClientId,
        request: Request,
    ) {
        let msg = Msg::Forward {
            client,
            request,
            connection_closed: false,
        };
        self.zab.send(follower, leader, msg);
    }

    /// Order the messages in flight by link, keeping each link's order. ZAB keeps them in one
    /// list in send order, which also records how sends on different links interleaved: nothing
    /// reads that (a delivery takes its link's oldest message), so here, where the clients' steps
    /// multiply those interleavings, states that differ only by it are made one. ZAB's own worlds
    /// keep their order, and their counts.
    fn sort_links(&mut self) {
        self.zab.net.sort_by_key(|p| (p.from, p.to));
    }

    /// Each server's processed prefix, to compare after a step.
    fn processed_prefixes(&self) -> [Log; MAX_SERVERS] {
        std::array::from_fn(|s| {
            self.zab.servers.get(s).map_or_else(Log::new, |server| {
                processed(server).iter().copied().collect()
            })
        })
    }

    /// After a ZAB step: every server whose processed prefix grew applies the new transactions in
    /// order, firing its clients' watches and answering its clients' requests
    /// (`FinalRequestProcessor`) on the connections it still has; the other clients' watches stay
    /// registered at their servers, and the leader's tracker forgets the sessions it closed. A
    /// prefix that was cut or replaced only changes the derived tree. A transaction whose client
    /// lost the connection it was sent on is applied without an answer, and a client that a
    /// reconnection told its session had ended has no connection left to be told anything on.
    fn apply_processed(
        &mut self,
        config: &EnsembleConfig,
        before: &[Log; MAX_SERVERS],
        out: &mut Outbox,
    ) {
        for s in self.zab.ids() {
            let old = &before[usize::from(s)];
            let now: Log = processed(self.zab.server(s)).iter().copied().collect();
            if now.len() <= old.len() || !now.starts_with(old) {
                continue;
            }
            // Every client's watches, though only `s`'s clients are told: a deletion's watchers
            // on servers that have not applied it yet are woken by it too, when they do, and
            // `no_herd` counts them all at the first server that applies it (the leader).
            let mut tree = self.replay(&config.zk, old);
            tree.set_watches(self.watches.iter().copied());
            for &entry in &now[old.len()..] {
                let txn = self.txn(entry);
                let connected = connected_before(&tree, self.connections.len(), txn);
                let mut applied = Outbox::default();
                tree.apply(config.zk, txn, &mut applied);
                for (client, reply) in applied.messages {
                    let lost = self.unanswered & entry.bit() != 0;
                    let told_ended = self.ended & 1 << client != 0;
                    // A client opening a new session reads nothing of its old one's transactions
                    // (a close its server applies late went to the expired handle's connection).
                    let old_session =
                        self.opening & 1 << client != 0 && txn.client() == client && lost;
                    if !self.watches_of_at(client, s)
                        || connected & 1 << client == 0
                        || told_ended
                        || old_session
                    {
                        continue;
                    }
                    if reply.answers_request() && lost {
                        // A release that closed the session came through a connection the
                        // client has left: the server it is connected to now closes its
                        // connection (`FinalRequestProcessor` closes the session's connection
                        // for a closeSession from elsewhere), and the client's library learns
                        // on reconnecting that the session has ended.
                        if let LockTxn::Delete {
                            close_session: true,
                            ..
                        } = txn
                        {
                            out.send(client, Reply::SessionExpired);
                        }
                        continue;
                    }
                    if reply.answers_request() {
                        self.answer(config, client, reply, entry.zxid, None, out);
                    } else {
                        out.send(client, reply);
                    }
                }
                if self.leads(s) {
                    self.trackers[usize::from(s)].applied(txn);
                }
                out.woken_by_one_deletion =
                    out.woken_by_one_deletion.max(applied.woken_by_one_deletion);
            }
            self.keep_watches(s, &tree);
        }
    }

    /// `server` sends `client` an answer carrying `zxid`; with failover the ensemble notes it, and
    /// the watch the request registered, until the client reads it.
    pub(super) fn answer(
        &mut self,
        config: &EnsembleConfig,
        client: ClientId,
        reply: Reply,
        zxid: Zxid,
        watch: Option<Watch>,
        out: &mut Outbox,
    ) {
        out.send(client, reply);
        if config.reconnects() {
            self.unread.push(Unread {
                client,
                zxid,
                watch,
            });
        }
    }

    /// After a step, the clients of every server that served before it and no longer does (it
    /// crashed, or left broadcast: a follower that lost its leader, a leader that stepped down)
    /// lose their connections: the server closed them. Not a client whose session its server had
    /// closed (the server closed that connection then), nor one told its session had ended. A
    /// client still in its handshake (its createSession not yet answered) loses its connection
    /// too, session or not.
    /// The client's transactions its server had not applied will not be answered, nor those it
    /// had (their answers were on the broken connection) by a server that applies them later:
    /// only the server a request came through answers it, on that connection; the answers in
    /// flight are lost, and with them the watches they registered, which the client library
    /// never learned of (the others it re-registers when it reconnects).
    fn drop_connections(
        &mut self,
        config: &EnsembleConfig,
        before: &[Log; MAX_SERVERS],
        served: &[bool; MAX_SERVERS],
        out: &mut Outbox,
    ) {
        for s in self.zab.ids() {
            if !served[usize::from(s)] || self.serves(s) {
                continue;
            }
            self.forget_leader_syncs_for(s);
            let old = &before[usize::from(s)];
            let tree = self.replay(&config.zk, old);
            for c in 0..self.connections.len() as ClientId {
                let open = self.watches_of_at(c, s) && !self.gone(c);
                if open && (tree.is_live(c) || !self.knows_session(c)) {
                    self.close_connection(s, c, old, out);
                }
            }
        }
    }

    /// `server`, having applied `applied`, closes `client`'s connection: the client is
    /// disconnected; the client's transactions `server` has not applied, or that another server
    /// may still apply, will not be answered; the answers in flight are lost, and with them the
    /// watches they registered.
    fn close_connection(
        &mut self,
        server: Sid,
        client: ClientId,
        applied: &[crate::zab::Txn],
        out: &mut Outbox,
    ) {
        self.disconnected |= 1 << client;
        out.lost_connections |= 1 << client;
        self.forget_syncs_of(server, client);
        for (txn, value) in self.txns.iter().zip(1u8..) {
            let applied_by = |log: &[crate::zab::Txn]| log.iter().any(|t| t.value == value);
            let another_may_apply = self
                .zab
                .ids()
                .any(|t| t != server && !applied_by(processed(self.zab.server(t))));
            if txn.client() == client && (!applied_by(applied) || another_may_apply) {
                self.unanswered |= 1 << (value - 1);
            }
        }
        for unread in self.unread.iter().filter(|u| u.client == client) {
            if let Some(watch) = unread.watch {
                self.watches.retain(|w| *w != watch);
            }
        }
        self.unread.retain(|u| u.client != client);
    }

    /// `late_forwards`: whether `action` delivers a write whose client's connection closed
    /// while the client has not reconnected yet (the write reaches the leader late, after the
    /// session moved).
    fn forward_held_back(&self, action: &ZabAction) -> bool {
        matches!(*action, ZabAction::Deliver { from, to, .. }
            if matches!(self.zab.head(from, to).map(|p| p.msg), Some(Msg::Forward {
                client,
                connection_closed: true,
                ..
            }) if !self.is_connected(client)))
    }

    /// Whether `client`'s server is forwarding its write to the leader, on the connection the
    /// client still has.
    fn forwarding(&self, client: ClientId) -> bool {
        self.zab.net.iter().any(|p| {
            matches!(p.msg, Msg::Forward { client: c, connection_closed: false, .. } if c == client)
        })
    }

    /// Whether `client`'s write is on its way to an answer beyond its own connection: a follower
    /// is forwarding it, or the leader has prepared it and the client's server, which will
    /// answer it, has not applied it yet.
    fn write_pending(&self, client: ClientId) -> bool {
        let applied = processed(self.zab.server(self.server_of_client(client)));
        self.forwarding(client)
            || self.txns.iter().zip(1u8..).any(|(txn, value)| {
                txn.client() == client
                    && !matches!(txn, LockTxn::Expire { .. })
                    && self.unanswered & 1 << (value - 1) == 0
                    && !applied.iter().any(|t| t.value == value)
            })
    }

    /// Whether `client`, disconnected, may connect to `server`: the server serves, reaches the
    /// leader that checks the session, is on the client's side of a partition (the side of the
    /// server it was connected to), and is not behind the last zxid the client has seen
    /// (`ZooKeeperServer.processConnectRequest` refuses a client that has seen a later zxid than
    /// the server's last processed one).
    fn may_reconnect(&self, client: ClientId, server: Sid) -> bool {
        let reaches_leader = self.leader_of(server).is_some_and(|leader| {
            leader == server
                || (self.zab.connected(server, leader)
                    && self.zab.follows_leadership(server, leader)
                    && self.zab.server(leader).phase == Phase::Broadcast)
        });
        let cut_off = |s: Sid| self.zab.cut_off & bit(s) != 0;
        let same_side = cut_off(server) == cut_off(self.server_of_client(client));
        self.serves(server)
            && reaches_leader
            && same_side
            && self.seen(client) <= self.zab.server(server).processed_zxid()
    }

    /// The last zxid `client` has read in an answer.
    pub fn seen(&self, client: ClientId) -> Zxid {
        self.seen
            .get(usize::from(client))
            .copied()
            .unwrap_or(Zxid::ZERO)
    }

    /// `client` connects to `server`. The session check goes to the leader, whose prepared view
    /// says whether the session is still open; if it is not, the client reads `SessionExpired`.
    /// Otherwise the leader's tracker makes `server` the session's owner where the world checks
    /// owners (`revalidateSession`, then `setOwner`), the client reads `Reconnected` first (the
    /// answer to its connect request, ahead of everything else on the connection), and it
    /// re-registers its watches (`SetWatches` with its last seen zxid): the server fires at once
    /// each watch whose node changed after that zxid in its tree (a node deleted, a child list
    /// changed), and keeps the others. A client still in its handshake has no session to
    /// revalidate: it connects to `server` with a new connect request (its library sends the
    /// createSession again), and nothing is read before that request's answer.
    fn reconnect(
        &mut self,
        config: &EnsembleConfig,
        client: ClientId,
        server: Sid,
        out: &mut Outbox,
    ) {
        let leader = self
            .leader_of(server)
            .expect("a serving server has a leader");
        // `revalidateSession`: the leader's tracker touches the session; one it does not track
        // (zk-1367's) has expired as far as it knows.
        let live = self.prepared_view(&config.zk, leader).is_live(client)
            && self.trackers[usize::from(leader)].is_tracked(client);
        self.disconnected &= !(1 << client);
        self.connections[usize::from(client)] = server;
        if !self.knows_session(client) {
            return;
        }
        if !live {
            self.ended |= 1 << client;
            out.send(client, Reply::SessionExpired);
            return;
        }
        if config.checks_owners() {
            self.trackers[usize::from(leader)].set_owner(client, server);
        }
        out.send(client, Reply::Reconnected);
        let seen = self.seen(client);
        let log = processed(self.zab.server(server));
        let known = log.iter().take_while(|t| t.zxid <= seen).count();
        let mut tree = self.replay(&config.zk, &log[..known]);
        tree.set_watches(self.watches.iter().copied().filter(|w| w.client == client));
        let mut fired = Outbox::default();
        for &txn in &log[known..] {
            tree.apply(config.zk, self.txn(txn), &mut fired);
        }
        for (to, reply) in fired.messages {
            if to == client && matches!(reply, Reply::Event { .. }) {
                out.send(client, reply);
            }
        }
        self.watches.retain(|w| w.client != client);
        for &watch in tree.watches().iter().filter(|w| w.client == client) {
            let at = self.watches.partition_point(|w| *w < watch);
            self.watches.insert(at, watch);
        }
    }

    /// Whether `client` will never connect again: it crashed, or a reconnection told it its
    /// session had ended, and it is not opening a new session.
    pub(super) fn gone(&self, client: ClientId) -> bool {
        self.ended & !self.opening & 1 << client != 0
    }

    /// The server that has delivered the most: its tree is the agreed tree.
    fn most_delivered(&self) -> Sid {
        self.zab
            .ids()
            .max_by_key(|&s| (self.zab.server(s).disk.delivered, std::cmp::Reverse(s)))
            .expect("an ensemble has servers")
    }

    /// How many transactions `server` has processed fewer than the leader has committed.
    pub fn behind_leader(&self, server: Sid) -> usize {
        let Some(leader) = self.leader() else {
            return 0;
        };
        let committed = usize::from(self.zab.server(leader).disk.delivered);
        committed.saturating_sub(processed(self.zab.server(server)).len())
    }

    /// "S0 (1 transaction behind the leader)", or "S0 (up to date)".
    fn server_name(&self, server: Sid) -> String {
        match self.behind_leader(server) {
            0 => format!("S{server} (up to date)"),
            1 => format!("S{server} (1 transaction behind the leader)"),
            n => format!("S{server} ({n} transactions behind the leader)"),
        }
    }

    /// What applying `txn` at a server means, in words.
    pub(super) fn txn_text(&self, txn: crate::zab::Txn) -> String {
        format!("{} {}", self.txn(txn), txn.zxid)
    }

    /// "; S0 applies create /lock/lock-0 by C0 (1,1)" for every server whose prefix grew.
    fn applied_text(&self, after: &Ensemble) -> String {
        let mut text = String::new();
        for s in self.zab.ids() {
            let old = processed(self.zab.server(s));
            let now = processed(after.zab.server(s));
            if now.len() > old.len() && now.starts_with(old) {
                for &txn in &now[old.len()..] {
                    text.push_str(&format!("; S{s} applies {}", after.txn_text(txn)));
                }
            }
        }
        text
    }
}

impl ZkService for Ensemble {
    type Config = EnsembleConfig;

    fn new(config: &EnsembleConfig, clients: usize, lock_parent: bool) -> Self {
        Ensemble::prepared(config, clients, lock_parent)
    }

    fn server_of(&self, client: ClientId) -> ActorId {
        ActorId::Replica(self.server_of_client(client))
    }

    /// Only a client with a connection sends (a disconnected client's library holds its requests
    /// until it reconnects), and only to a serving server. A server that stops serving closes its
    /// clients' connections, but not those of clients it has already told `SessionExpired` (their
    /// connections closed then): a request such a client had on its way stays there, and a
    /// server that crashed must not take it (it answered a held read after `SessionExpired`).
    fn takes_request(&self, client: ClientId) -> bool {
        self.is_connected(client) && self.serves(self.server_of_client(client))
    }

    /// A read waits while its server holds a write of the same session that it has not applied
    /// (the server's `CommitProcessor` queues the session's requests behind it).
    ///
    /// A new session's connect request waits while the leader still tracks the client's expired
    /// session, which only a reconnection can have told it ended (its close prepared but not
    /// applied, or dropped by a failover and to be expired again): the model names a session by
    /// its client, so the two must not overlap. Once the leader has prepared a createSession for
    /// the client, the session it tracks is that one, which the client may never have learned of
    /// (it lost its connection first), and the client's next connect request takes its slot;
    /// unless the leader is closing it (it expired before that request arrived): then the
    /// request waits for the close too, which would otherwise end the slot's next session.
    fn request_waits(&self, client: ClientId, request: Request) -> bool {
        let server = self.server_of_client(client);
        match request {
            Request::CreateSession => self.leader_of(server).is_some_and(|leader| {
                let tracker = &self.trackers[usize::from(leader)];
                tracker.is_closing(client)
                    || (self.opening & self.ended & 1 << client != 0 && tracker.is_tracked(client))
            }),
            // The expired handle's requests are dropped when taken.
            _ if self.opening & 1 << client != 0 => false,
            Request::Sync { .. } => self.holds_write_of(server, client),
            _ => request.is_read() && self.holds_write_of(server, client),
        }
    }

    /// A read is answered from the server's own tree, possibly behind the leader's; a
    /// write goes to the leader: prepared at once on the leader itself, forwarded by a follower
    /// (lost if the follower's connection to its leader is down: the follower will time out and
    /// drop its clients).
    fn take_request(
        &mut self,
        config: &EnsembleConfig,
        client: ClientId,
        request: Request,
        out: &mut Outbox,
    ) -> Served {
        // A request the expired handle of a client opening a new session asked went with its
        // connection.
        let expired_handles = self.opening & 1 << client != 0 && request != Request::CreateSession;
        if expired_handles || self.gone(client) {
            return Served::Dropped;
        }
        if let Request::Sync { .. } = request {
            let served = self.take_sync(config, client, request, out);
            self.sort_links();
            return served;
        }
        let server = self.server_of_client(client);
        if request.is_read() {
            let mut tree = self.tree_at(&config.zk, server);
            if !tree.is_live(client) {
                return Served::Dropped;
            }
            let reply = tree.read(config.zk, client, request);
            let before = self.watches;
            self.keep_watches(server, &tree);
            let registered = self
                .watches
                .iter()
                .copied()
                .find(|w| w.client == client && !before.contains(w));
            let zxid = self.zab.server(server).processed_zxid();
            self.answer(config, client, reply, zxid, registered, out);
            return Served::Applied;
        }
        // A server closes the connection of a session it has closed: nothing more is read on it.
        let open = request == Request::CreateSession
            || self
                .replay(&config.zk, processed(self.zab.server(server)))
                .is_live(client);
        if !open {
            return Served::Dropped;
        }
        match self.leader_of(server) {
            Some(leader) if leader == server => {
                self.prepare_and_propose(config, leader, leader, client, request)
            }
            Some(leader) => self.forward(server, leader, client, request),
            None => unreachable!("a connected client's server serves"),
        }
        self.sort_links();
        Served::Applied
    }

    /// The create was prepared (its transaction is in the table) and the client's server has not
    /// processed it: that server sends `Created` when it applies it.
    fn create_answer_pending(&self, client: ClientId, path: Path) -> bool {
        let applied = processed(self.zab.server(self.server_of_client(client)));
        self.is_connected(client)
            && self.txns.iter().zip(1..).any(|(txn, value)| {
                matches!(*txn, LockTxn::Create { creator, path: p, .. } if creator == client && p == path)
                    && self.unanswered & 1 << (value - 1) == 0
                    && !applied.iter().any(|t| t.value == value)
            })
    }

    fn session(&self, client: ClientId) -> SessionState {
        self.agreed_tree().session(client)
    }

    /// A server takes a session's requests until it has applied the session's close (then it
    /// closes the connection), and never after a reconnection was told the session ended.
    fn takes_requests_of(&self, config: &EnsembleConfig, client: ClientId) -> bool {
        self.ended & 1 << client == 0
            && self
                .tree_at(&config.zk, self.server_of_client(client))
                .is_live(client)
    }

    fn removal_under_way(&self, client: ClientId, path: Path) -> bool {
        self.told_session_ended(client) || self.removal_prepared(client, path)
    }

    /// A reconnection found the session closed in the leader's prepared view (a crashed client is
    /// marked the same way, and never touches its session again either).
    fn told_session_ended(&self, client: ClientId) -> bool {
        self.ended & 1 << client != 0
    }

    fn may_expire(&self, config: &EnsembleConfig, client: ClientId, view: ClientView) -> bool {
        self.may_expire_session(config, client, view)
    }

    /// The leader prepares and proposes the closeSession; nothing reaches the client until its
    /// server applies it.
    fn expire(&mut self, config: &EnsembleConfig, client: ClientId, _out: &mut Outbox) {
        self.expire_session(config, client);
        self.sort_links();
    }

    fn expiring_server(&self) -> ActorId {
        ActorId::Replica(self.leader().expect("only an established leader expires"))
    }

    fn describe_expiry(&self, client: ClientId, after: &Self) -> Option<String> {
        self.expiry_text(client, after)
    }

    /// Watches live per client in an ensemble (at the client's server while it is connected).
    fn has_watch(&self, client: ClientId) -> bool {
        self.watches.iter().any(|watch| watch.client == client)
    }

    fn connections_may_break(config: &EnsembleConfig) -> bool {
        config.reconnects()
    }

    fn client_reads_change_the_service(config: &EnsembleConfig) -> bool {
        config.reopens_sessions
    }

    fn opens_sessions(config: &EnsembleConfig) -> bool {
        !config.sessions_at_start
    }

    /// The tree of the longest delivered prefix (the leader's, while one leads), with every
    /// client's watches: committed transactions only, never a restarted server's replay of
    /// proposals that a new leader may still truncate.
    fn agreed_tree(&self) -> Cow<'_, Server> {
        let zk = crate::zookeeper::ZkConfig {
            record_zxids: false,
            protected_names: false,
        };
        let mut tree = self.replay(&zk, self.zab.server(self.most_delivered()).disk.delivered());
        tree.set_watches(self.watches.iter().copied());
        Cow::Owned(tree)
    }

    fn map_values(&mut self, _seq: SeqMap, _zxid: ZxidMap) {
        unreachable!("an ensemble refuses acquisitions = 0, the only world that renames values")
    }

    fn set_next_seq(&mut self, _next: Seq) {
        unreachable!("an ensemble refuses acquisitions = 0, the only world that renames values")
    }

    const PROPERTIES: &'static [ServiceProperty<Self>] = &[
        (prop::LEADER_UNIQUENESS, |_, e| {
            props::leader_uniqueness(&e.zab)
        }),
        (prop::INTEGRITY, |_, e| props::integrity(&e.zab)),
        (prop::AGREEMENT, |_, e| props::agreement(&e.zab)),
        (prop::TOTAL_ORDER, |_, e| props::total_order(&e.zab)),
        (prop::LOCAL_PRIMARY_ORDER, |_, e| {
            props::local_primary_order(&e.zab)
        }),
        (prop::GLOBAL_PRIMARY_ORDER, |_, e| {
            props::global_primary_order(&e.zab)
        }),
        (prop::PRIMARY_INTEGRITY, |_, e| {
            props::primary_integrity(&e.zab)
        }),
        (prop::COMMITTED_LOG_DURABILITY, |_, e| {
            props::committed_log_durability(&e.zab)
        }),
        (prop::COMMITTED_LOG_MONOTONICITY, |_, e| {
            props::committed_log_monotonicity(&e.zab)
        }),
        (prop::HISTORY_CONSISTENCY, |_, e| {
            props::history_consistency(&e.zab)
        }),
        (prop::ACK_CONSISTENT, |_, e| props::ack_consistent(&e.zab)),
        (prop::STATE_CONSISTENT, |_, e| {
            props::state_consistent(&e.zab)
        }),
        (prop::COMMIT_CONSISTENT, |_, e| {
            props::commit_consistent(&e.zab)
        }),
        (prop::MINORITY_COMMITS_NOTHING_NEW, |config, e| {
            props::minority_commits_nothing_new(&config.zab, &e.zab)
        }),
        (prop::SESSIONS_TRACKED, |config, e| {
            e.sessions_tracked(config)
        }),
    ];

    /// ZAB's enabled steps, in ZAB's order, but its client writes (those come from the clients)
    /// and crashes of servers the scenario does not name; then each disconnected client's
    /// reconnections, by server.
    fn steps(
        &self,
        config: &EnsembleConfig,
        each: &mut dyn FnMut(EnsembleStep) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut actions = Vec::new();
        config.zab_model().actions(&self.zab, &mut actions);
        for action in actions {
            if matches!(action, ZabAction::Crash { server } if config.crashable & bit(server) == 0)
            {
                continue;
            }
            if config.late_forwards && self.forward_held_back(&action) {
                continue;
            }
            if let Some(step) = EnsembleStep::of_zab(action) {
                each(step)?;
            }
        }
        for client in 0..self.connections.len() as ClientId {
            if self.is_connected(client) || self.gone(client) {
                continue;
            }
            for server in self.zab.ids() {
                let moves = !config.late_forwards || server != self.server_of_client(client);
                if moves && self.may_reconnect(client, server) {
                    each(EnsembleStep::Reconnect { client, server })?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn take_step(&mut self, config: &EnsembleConfig, step: EnsembleStep, out: &mut Outbox) {
        let before = self.processed_prefixes();
        let served: [bool; MAX_SERVERS] =
            std::array::from_fn(|s| s < self.zab.servers.len() && self.serves(s as Sid));
        let leading = self.leading();
        let syncing = self.syncing(config);
        let model = config.zab_model();
        match step {
            EnsembleStep::Deliver { from, to } => {
                let msg = self.zab.head(from, to).expect("a delivery is enabled").msg;
                if let Msg::Forward {
                    client,
                    request: Request::Sync { .. },
                    connection_closed,
                } = msg
                {
                    self.zab.take_head(from, to);
                    self.leader_takes_sync(to, from, client, connection_closed);
                } else if let Msg::Synced {
                    client,
                    after,
                    connection_closed,
                } = msg
                {
                    self.zab.take_head(from, to);
                    self.follower_reads_synced(config, to, client, after, connection_closed, out);
                } else if let Msg::Forward {
                    client,
                    request,
                    connection_closed,
                } = msg
                {
                    self.zab.take_head(from, to);
                    self.prepare_and_propose(config, to, from, client, request);
                    self.hold_at(from);
                    if connection_closed {
                        self.unanswered |= 1 << (self.txns.len() - 1);
                    }
                } else {
                    model.step(&mut self.zab, &ZabAction::Deliver { from, to, msg });
                }
            }
            EnsembleStep::Reconnect { client, server } => {
                self.reconnect(config, client, server, out)
            }
            other => model.step(
                &mut self.zab,
                &other.zab_action().expect("one of ZAB's actions"),
            ),
        }
        self.drop_connections(config, &before, &served, out);
        self.apply_processed(config, &before, out);
        self.answer_committed_syncs();
        self.answer_caught_up_syncs(config, out);
        self.note_session_tables(config, &before, &syncing);
        self.release_holds();
        self.establish_trackers(config, leading);
        self.sort_links();
    }

    /// A connected client's connection matters while its write is on its way too: the answer
    /// will come back on it. With `late_forwards`, only while its server is forwarding its
    /// write to the leader.
    fn connection_may_break(
        &self,
        config: &EnsembleConfig,
        client: ClientId,
        on_link: bool,
    ) -> bool {
        let when = if config.late_forwards {
            self.forwarding(client)
        } else {
            on_link || self.write_pending(client) || self.sync_under_way(client)
        };
        self.is_connected(client) && !self.gone(client) && when
    }

    /// The client's server closes the connection as when it stops serving, but keeps serving,
    /// and keeps forwarding what the client sent before: a write already on its way to the
    /// leader is still prepared there (refused `SessionMoved` if the session has moved to another
    /// server since), and nobody answers it: its answer belonged to the closed connection.
    fn break_connection(
        &mut self,
        _config: &EnsembleConfig,
        client: ClientId,
        out: &mut Outbox,
    ) -> bool {
        let server = self.server_of_client(client);
        let applied: Log = processed(self.zab.server(server)).iter().copied().collect();
        self.close_connection(server, client, &applied, out);
        for packet in self.zab.net.iter_mut().filter(|p| p.from == server) {
            if let Msg::Forward {
                client: c,
                connection_closed,
                ..
            } = &mut packet.msg
            {
                *connection_closed |= *c == client;
            }
        }
        true
    }

    /// Curator replaces an expired handle with a new one: it has no watch and has seen no zxid,
    /// and its connect request goes through the server the old one was connected to, or, if
    /// that server no longer serves, through the server it reconnects to. The writes the old
    /// handle's server is still forwarding are dropped: whichever leader takes them has the
    /// session's close prepared and refuses them, and their answers would reach nobody; taken
    /// later, they would pass for the new session's, which has the same client. Nothing the old
    /// session's transactions bring is read any more: they are unanswered.
    fn client_reopens(&mut self, client: ClientId) {
        self.opening |= 1 << client;
        self.watches.retain(|w| w.client != client);
        if let Some(seen) = self.seen.get_mut(usize::from(client)) {
            *seen = Zxid::ZERO;
        }
        if !self.serves(self.server_of_client(client)) {
            self.disconnected |= 1 << client;
        }
        self.zab.net.retain(|p| {
            !matches!(p.msg, Msg::Forward { client: c, .. } | Msg::Synced { client: c, .. } if c == client)
        });
        self.syncs.retain(|s| s.client != client);
        self.leader_syncs.retain(|s| s.client != client);
        for (value, txn) in self.txns.iter().enumerate() {
            if txn.client() == client {
                self.unanswered |= 1 << value;
            }
        }
    }

    /// A crashed client never connects again, as one told its session ended does not. Its
    /// server closes its connection, not its session: the session's nodes stay, and the leader
    /// tracks the session until it expires it. The watches go with the connection (a server
    /// keeps watches per connection and drops them when it closes), so no later change wakes
    /// the dead client; and the answers in flight to it will never be read.
    fn client_crashed(&mut self, client: ClientId) {
        self.ended |= 1 << client;
        self.opening &= !(1 << client);
        self.watches.retain(|w| w.client != client);
        self.unread.retain(|u| u.client != client);
        self.forget_syncs_of(self.server_of_client(client), client);
    }

    /// With failover: the answer `client` reads is the oldest in flight to it, and its zxid is
    /// now the last the client has seen.
    fn client_read(&mut self, client: ClientId, reply: Reply) {
        if reply == Reply::SessionCreated {
            self.opening &= !(1 << client);
        }
        if self.seen.is_empty() || !reply.answers_request() {
            return;
        }
        let at = self
            .unread
            .iter()
            .position(|u| u.client == client)
            .expect("an answer the server sent");
        self.seen[usize::from(client)] = self.unread.remove(at).zxid;
    }

    fn describe_step(&self, config: &EnsembleConfig, step: EnsembleStep, after: &Self) -> String {
        let applied = self.applied_text(after) + &self.established_text(after);
        let lost = self.lost_text(after);
        match step {
            EnsembleStep::Deliver { from, to } => {
                let msg = self.zab.head(from, to).expect("a delivery is enabled").msg;
                let proposed = match msg {
                    Msg::Forward {
                        request: Request::Sync { .. },
                        ..
                    } => self.sync_taken_text(after, to),
                    Msg::Forward {
                        client, request, ..
                    } => self.proposed_text(after, to, from, client, request),
                    Msg::Synced {
                        client,
                        after: proposal,
                        connection_closed,
                    } => self.synced_text(config, after, to, client, proposal, connection_closed),
                    _ => String::new(),
                };
                format!("S{from} → S{to} {msg}{proposed}{lost}{applied}")
            }
            EnsembleStep::LogProposal { server } => {
                format!("S{server} writes its oldest queued proposal and acknowledges it{lost}{applied}")
            }
            EnsembleStep::Reconnect { client, server } => {
                let seen = self.seen(client);
                let at = self.zab.server(server).processed_zxid();
                let outcome = if !self.knows_session(client) {
                    format!("; it has no session yet: its library sends a new connect request to S{server}")
                } else if after.ended & 1 << client != 0 {
                    format!("; S{server}'s leader finds the session closed: C{client} will read SessionExpired")
                } else {
                    String::new()
                };
                format!(
                    "C{client} reconnects to S{server} (seen {}, S{server} at {}){outcome}",
                    hex(seen),
                    hex(at)
                )
            }
            step => format!("{step}{lost}{applied}"),
        }
    }

    fn describe_request(
        &self,
        _config: &EnsembleConfig,
        client: ClientId,
        request: Request,
        after: &Self,
    ) -> Option<String> {
        let server = self.server_of_client(client);
        let name = self.server_name(server);
        let leads = self.leader_of(server) == Some(server);
        Some(if request.is_read() {
            format!("{name} serves C{client}'s {request} from its own tree")
        } else if leads && matches!(request, Request::Sync { .. }) {
            format!("{name} answers C{client}'s {request} at once: it leads")
        } else if leads {
            format!(
                "{name} takes C{client}'s {request}{}",
                self.proposed_text(after, server, server, client, request)
            )
        } else {
            let leader = self
                .leader_of(server)
                .expect("a serving server has a leader");
            format!("S{server} forwards C{client}'s {request} to its leader S{leader}")
        })
    }

    /// ZAB's spurious timeouts, a budget of their own (crashes and partitions are the lock
    /// world's budgets of the same name).
    fn own_fault_kinds(config: &EnsembleConfig) -> Vec<&'static str> {
        if config.zab.timeouts > 0 {
            vec!["timeouts"]
        } else {
            Vec::new()
        }
    }

    const WORLD_FAULTS: bool = false;

    /// ZAB's `epochs` bound stops the ensemble when one more epoch would enable a step of ZAB's
    /// that this world does not (an election, a join), as ZAB's own liveness reads the bound.
    fn stopped_by_bound(&self, config: &EnsembleConfig) -> Option<crate::Bound> {
        if config.zab.epochs == 0 || self.leader().is_some() {
            return None;
        }
        let mut raised = config.zab;
        raised.epochs += 1;
        let (mut now, mut then) = (Vec::new(), Vec::new());
        config.zab_model().actions(&self.zab, &mut now);
        crate::zab::ZabModel::unvalidated(raised).actions(&self.zab, &mut then);
        then.iter()
            .any(|a| !now.contains(a))
            .then_some(crate::Bound {
                key: "epochs",
                value: u64::from(config.zab.epochs),
            })
    }

    fn step_task(config: &EnsembleConfig, step: EnsembleStep) -> Option<usize> {
        config.task(step)
    }

    fn step_task_name(config: &EnsembleConfig, index: usize) -> String {
        config.task_name(index)
    }

    fn servers(config: &EnsembleConfig) -> Vec<ActorId> {
        (0..config.zab.servers).map(ActorId::Replica).collect()
    }

    fn step_actor(&self, step: EnsembleStep) -> (ActorId, StepKind, String) {
        let server = |s: Sid| ActorId::Replica(s);
        match step {
            EnsembleStep::Deliver { from, to } => {
                let msg = self.zab.head(from, to).expect("a delivery is enabled").msg;
                (server(to), StepKind::Deliver, msg.to_string())
            }
            EnsembleStep::LogProposal { server: s } => (
                server(s),
                StepKind::Local,
                "writes a queued proposal, acknowledges it".into(),
            ),
            EnsembleStep::Reconnect { client, server: s } => (
                ActorId::Client(client),
                StepKind::Local,
                format!("reconnects to S{s}"),
            ),
            EnsembleStep::Elect { leader, .. } => {
                (server(leader), StepKind::Local, "elected leader".into())
            }
            EnsembleStep::Join { server: s, leader } => (
                server(s),
                StepKind::Local,
                format!("joins leader S{leader}"),
            ),
            EnsembleStep::Timeout { server: s } => (server(s), StepKind::Local, "times out".into()),
            EnsembleStep::SpuriousTimeout { server: s } => {
                (server(s), StepKind::Fault, "times out (spurious)".into())
            }
            EnsembleStep::Crash { server: s } => (server(s), StepKind::Fault, "crashes".into()),
            EnsembleStep::Restart { server: s } => {
                (server(s), StepKind::Recover, "restarts".into())
            }
            EnsembleStep::Partition { side } => (
                server(members(side).next().expect("a side has a server")),
                StepKind::Fault,
                format!("partition: {{{}}} cut off", set_name(side)),
            ),
            EnsembleStep::Heal => (
                server(members(self.zab.cut_off).next().unwrap_or(0)),
                StepKind::Recover,
                "heals".into(),
            ),
            EnsembleStep::LogSynced { server: s }
            | EnsembleStep::AckNewLeader { server: s }
            | EnsembleStep::ApplyCommitted { server: s }
            | EnsembleStep::LogOrphan { server: s } => {
                (server(s), StepKind::Local, step.to_string())
            }
        }
    }

    /// The delivered message, if the step is a delivery, and the messages sent: on each link, a
    /// step takes the head (a delivery) and appends what it sends behind what was there.
    fn server_events(&self, step: Option<EnsembleStep>, after: &Self) -> Vec<MessageEvent> {
        let message = |p: &Packet| Message {
            from: ActorId::Replica(p.from).to_string(),
            to: ActorId::Replica(p.to).to_string(),
            label: p.msg.to_string(),
        };
        let mut events = Vec::new();
        let delivered = match step {
            Some(EnsembleStep::Deliver { from, to }) => {
                let head = self.zab.head(from, to).expect("a delivery is enabled");
                events.push(MessageEvent::Delivered(message(head)));
                Some((from, to))
            }
            _ => None,
        };
        for from in self.zab.ids() {
            for to in self.zab.ids() {
                let on_link = |p: &&Packet| (p.from, p.to) == (from, to);
                let before = self.zab.net.iter().filter(on_link).count();
                let kept = before - usize::from(delivered == Some((from, to)));
                let sent = after.zab.net.iter().filter(on_link).skip(kept);
                events.extend(sent.map(|p| MessageEvent::Sent(message(p))));
            }
        }
        events
    }
}

/// A zxid as ZooKeeper prints one, in hex: epoch, then a two-digit counter ("0x102").
fn hex(zxid: Zxid) -> String {
    format!("0x{:x}{:02x}", zxid.epoch, zxid.counter)
}

impl Ensemble {
    /// "; S2 is down: C0 and C1 disconnected" for every server whose clients the step cut off.
    fn lost_text(&self, after: &Ensemble) -> String {
        let mut text = String::new();
        for s in self.zab.ids() {
            let lost: Vec<String> = (0..self.connections.len() as ClientId)
                .filter(|&c| {
                    self.is_connected(c) && !after.is_connected(c) && self.server_of_client(c) == s
                })
                .map(|c| format!("C{c}"))
                .collect();
            if lost.is_empty() {
                continue;
            }
            let why = if after.zab.server(s).up {
                "left broadcast"
            } else {
                "is down"
            };
            text.push_str(&format!(
                "; S{s} {why}: {} disconnected",
                lost.join(" and ")
            ));
        }
        text
    }

    /// "; S2 prepares it and proposes create /lock/lock-0 by C0 (1,1)": what `leader` did with
    /// `client`'s `request`, which came through `via`, in the step from this state to `after`,
    /// with what its tracker said of a closing, ended or moved session.
    fn proposed_text(
        &self,
        after: &Ensemble,
        leader: Sid,
        via: Sid,
        client: ClientId,
        request: Request,
    ) -> String {
        if after.txns.len() == self.txns.len() {
            return format!("; S{leader} drops it: the session has ended");
        }
        let txn = *after
            .zab
            .server(leader)
            .disk
            .log
            .last()
            .expect("the leader logged its proposal");
        self.session_check_text(leader, via, client, request, txn, after)
            .unwrap_or_else(|| {
                format!(
                    "; S{leader} prepares it and proposes {}",
                    after.txn_text(txn)
                )
            })
    }
}

//! The ensemble as the lock world's ZooKeeper service: reads at the client's server, writes
//! forwarded to the leader, prepared, proposed through ZAB, and answered by the client's server
//! when it applies them.

use std::borrow::Cow;
use std::ops::ControlFlow;

use stateright::Model;

use super::action::EnsembleStep;
use super::sessions::connected_before;
use super::state::{Ensemble, EnsembleConfig};
use super::tree::processed;
use crate::actor::ActorId;
use crate::prop;
use crate::timeline::{Message, MessageEvent};
use crate::zab::types::Packet;
use crate::zab::types::{Log, MAX_SERVERS};
use crate::zab::{props, Msg, Sid, ZabAction};
use crate::zookeeper::{
    ClientId, ClientView, LockTxn, Outbox, Path, Request, Seq, SeqMap, Served, Server,
    ServiceProperty, SessionState, ZkService, ZxidMap,
};

impl Ensemble {
    /// The leader takes `client`'s write: it prepares it (the session checked by its tracker,
    /// the transaction decided against its prepared view) and proposes the transaction in the
    /// same step (`PrepRequestProcessor`, then `ProposalRequestProcessor`). A refused write
    /// becomes an error transaction, proposed like any other.
    fn prepare_and_propose(
        &mut self,
        config: &EnsembleConfig,
        leader: Sid,
        client: ClientId,
        request: Request,
    ) {
        let txn = self.prepare_request(config, leader, client, request);
        self.propose(config, leader, txn);
    }

    /// `leader` proposes the transaction it prepared: its tracker notes a session it opens or
    /// closes, the table records it, and ZAB's leader appends and broadcasts it.
    pub(super) fn propose(&mut self, config: &EnsembleConfig, leader: Sid, txn: LockTxn) {
        self.tracker.prepared(txn);
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
    /// prefix that was cut or replaced only changes the derived tree.
    fn apply_processed(
        &mut self,
        config: &EnsembleConfig,
        before: &[Log; MAX_SERVERS],
        out: &mut Outbox,
    ) {
        let leader = self.leader();
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
            for &txn in &now[old.len()..] {
                let txn = self.txn(txn);
                let connected = connected_before(&tree, self.connections.len(), txn);
                let mut applied = Outbox::default();
                tree.apply(config.zk, txn, &mut applied);
                for (client, reply) in applied.messages {
                    if self.server_of_client(client) == s && connected & 1 << client != 0 {
                        out.send(client, reply);
                    }
                }
                if leader == Some(s) {
                    self.tracker.applied(txn);
                }
                out.woken_by_one_deletion =
                    out.woken_by_one_deletion.max(applied.woken_by_one_deletion);
            }
            self.keep_watches(s, &tree);
        }
    }

    /// The tree of the server that has processed the most: the agreed tree.
    fn most_processed(&self) -> Sid {
        self.zab
            .ids()
            .max_by_key(|&s| (processed(self.zab.server(s)).len(), std::cmp::Reverse(s)))
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
        let zxid = txn.zxid;
        match self.txn(txn) {
            LockTxn::CreateSession { client } => format!("createSession of C{client} {zxid}"),
            LockTxn::Create { creator, path, .. } => format!("create {path} by C{creator} {zxid}"),
            LockTxn::Delete {
                client,
                path,
                close_session,
            } => {
                let what = path.map_or("no node".to_string(), |p| format!("delete {p}"));
                let close = if close_session { " + closeSession" } else { "" };
                format!("{what}{close} by C{client} {zxid}")
            }
            LockTxn::Expire { client } => format!("closeSession of C{client} {zxid}"),
            LockTxn::Error { client, reply } => format!("error {reply} for C{client} {zxid}"),
        }
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

    /// A read is answered at once from the server's own tree, possibly behind the leader's; a
    /// write goes to the leader: prepared at once on the leader itself, forwarded by a follower.
    fn take_request(
        &mut self,
        config: &EnsembleConfig,
        client: ClientId,
        request: Request,
        out: &mut Outbox,
    ) -> Served {
        let server = self.server_of_client(client);
        if request.is_read() {
            let mut tree = self.tree_at(&config.zk, server);
            if !tree.is_live(client) {
                return Served::Dropped;
            }
            let reply = tree.read(config.zk, client, request);
            self.keep_watches(server, &tree);
            out.send(client, reply);
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
        let leader = self
            .leader()
            .expect("a leader serves: this ensemble has no failover yet");
        if leader == server {
            self.prepare_and_propose(config, leader, client, request);
        } else {
            self.zab
                .send(server, leader, Msg::Forward { client, request });
        }
        self.sort_links();
        Served::Applied
    }

    /// The create was prepared (its transaction is in the table) and the client's server has not
    /// processed it: that server sends `Created` when it applies it.
    fn create_answer_pending(&self, client: ClientId, path: Path) -> bool {
        let applied = processed(self.zab.server(self.server_of_client(client)));
        self.txns.iter().zip(1..).any(|(txn, value)| {
            matches!(*txn, LockTxn::Create { creator, path: p, .. } if creator == client && p == path)
                && !applied.iter().any(|t| t.value == value)
        })
    }

    fn session(&self, client: ClientId) -> SessionState {
        self.agreed_tree().session(client)
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

    /// The tree of the server that has processed the most (the leader's, while one leads), with
    /// every client's watches.
    fn agreed_tree(&self) -> Cow<'_, Server> {
        let zk = crate::zookeeper::ZkConfig {
            record_zxids: false,
            protected_names: false,
        };
        let mut tree = self.replay(&zk, processed(self.zab.server(self.most_processed())));
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
    ];

    /// ZAB's enabled steps, in ZAB's order, but its client writes: those come from the clients.
    fn steps(
        &self,
        config: &EnsembleConfig,
        each: &mut dyn FnMut(EnsembleStep) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut actions = Vec::new();
        config.zab_model().actions(&self.zab, &mut actions);
        for action in actions {
            let step = match action {
                ZabAction::Deliver { from, to, .. } => EnsembleStep::Deliver { from, to },
                ZabAction::LogProposal { server } => EnsembleStep::LogProposal { server },
                ZabAction::ClientRequest { .. } => continue,
                other => unreachable!("{other} needs failover, which this ensemble does not model"),
            };
            each(step)?;
        }
        ControlFlow::Continue(())
    }

    fn take_step(&mut self, config: &EnsembleConfig, step: EnsembleStep, out: &mut Outbox) {
        let before = self.processed_prefixes();
        let model = config.zab_model();
        match step {
            EnsembleStep::Deliver { from, to } => {
                let msg = self.zab.head(from, to).expect("a delivery is enabled").msg;
                if let Msg::Forward { client, request } = msg {
                    self.zab.take_head(from, to);
                    self.prepare_and_propose(config, to, client, request);
                } else {
                    model.step(&mut self.zab, &ZabAction::Deliver { from, to, msg });
                }
            }
            EnsembleStep::LogProposal { server } => {
                model.step(&mut self.zab, &ZabAction::LogProposal { server })
            }
        }
        self.apply_processed(config, &before, out);
        self.sort_links();
    }

    fn describe_step(&self, _config: &EnsembleConfig, step: EnsembleStep, after: &Self) -> String {
        let applied = self.applied_text(after);
        match step {
            EnsembleStep::Deliver { from, to } => {
                let msg = self.zab.head(from, to).expect("a delivery is enabled").msg;
                let proposed = match msg {
                    Msg::Forward { client, request } => {
                        self.proposed_text(after, to, client, request)
                    }
                    _ => String::new(),
                };
                format!("S{from} → S{to} {msg}{proposed}{applied}")
            }
            EnsembleStep::LogProposal { server } => {
                format!("S{server} writes its oldest queued proposal and acknowledges it{applied}")
            }
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
        Some(if request.is_read() {
            format!("{name} serves C{client}'s {request} from its own tree")
        } else if self.leader() == Some(server) {
            format!(
                "{name} takes C{client}'s {request}{}",
                self.proposed_text(after, server, client, request)
            )
        } else {
            let leader = self.leader().expect("a leader serves");
            format!("S{server} forwards C{client}'s {request} to its leader S{leader}")
        })
    }

    fn servers(config: &EnsembleConfig) -> Vec<ActorId> {
        (0..config.zab.servers).map(ActorId::Replica).collect()
    }

    fn step_actor(&self, step: EnsembleStep) -> (ActorId, bool, String) {
        match step {
            EnsembleStep::Deliver { from, to } => {
                let msg = self.zab.head(from, to).expect("a delivery is enabled").msg;
                (ActorId::Replica(to), true, msg.to_string())
            }
            EnsembleStep::LogProposal { server } => (
                ActorId::Replica(server),
                false,
                "writes a queued proposal, acknowledges it".into(),
            ),
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

impl Ensemble {
    /// "; S2 prepares it and proposes create /lock/lock-0 by C0 (1,1)": what `leader` did with
    /// `client`'s `request` in the step from this state to `after`, with what its tracker said
    /// of a closing or ended session.
    fn proposed_text(
        &self,
        after: &Ensemble,
        leader: Sid,
        client: ClientId,
        request: Request,
    ) -> String {
        let txn = *after
            .zab
            .server(leader)
            .disk
            .log
            .last()
            .expect("the leader logged its proposal");
        self.session_check_text(leader, client, request, txn, after)
            .unwrap_or_else(|| {
                format!(
                    "; S{leader} prepares it and proposes {}",
                    after.txn_text(txn)
                )
            })
    }
}

//! The ensemble's state: ZAB's world plus what the lock world adds to it, and its start.

use stateright::Model;

use crate::ActionInfo;

use crate::lock::LockConfig;
use crate::zab::state::Phase;
use crate::zab::types::{all_servers, ServerSet, Zxid, MAX_SERVERS, MAX_TXNS};
use crate::zab::{Sid, ZabAction, ZabConfig, ZabModel, ZabState};
use crate::zookeeper::{ClientId, LockTxn, ServerFlaw, Watch, ZkConfig, MAX_CLIENTS};
use crate::Slots;

use super::timing::Timing;
use super::tracker::Tracker;

/// Most watches registered at once: every client may hold a data and a child watch.
pub(super) const MAX_WATCHES: usize = 2 * MAX_CLIENTS;

/// What is fixed per world for an ensemble.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnsembleConfig {
    /// ZAB's options: servers, variant, election, leader write. Its `transactions` is the log
    /// capacity: a lock world proposes what its clients' writes need, up to that.
    pub zab: ZabConfig,
    /// The data tree's options, as on one server: set by the lock world from its recipe.
    pub zk: ZkConfig,
    /// Each client's server (index = client).
    pub connections: [Sid; MAX_CLIENTS],
    /// The servers' flaw outside ZAB, if their code has one (`[model] zookeeper`).
    pub flaw: Option<ServerFlaw>,
    /// When the leader may expire a session (`[timing]`).
    pub timing: Timing,
    /// The servers that may crash (ZAB's `crashes` budget is in `zab`).
    pub crashable: ServerSet,
    /// How many times a client's own connection to its server may break while its server keeps
    /// serving (the lock world's `message_loss` budget).
    pub connection_losses: u8,
    /// `[faults] late_forwards`, the order of ZOOKEEPER-710's story and nothing else: a
    /// client's own connection breaks only while its server is forwarding its write to the
    /// leader, the client reconnects to another server, and the write reaches the leader only
    /// after that. The other orders are left out: in them Curator's protection lookup may read a
    /// server that has not applied a write the leader already took, which orphans a node with the
    /// owner check or without it.
    pub late_forwards: bool,
    /// Whether every session is open before the first step (`[model] sessions_at_start`, the
    /// default), or each client opens its own with a createSession transaction as its first write.
    pub sessions_at_start: bool,
    /// A client whose session expired opens a new one and tries again (the lock world's
    /// `retry_after_expiry`, with expiries in its budget): set by `LockModel::on_ensemble`.
    pub reopens_sessions: bool,
}

impl EnsembleConfig {
    /// ZAB's model with this world's options, for its handlers and its list of enabled steps.
    pub(super) fn zab_model(&self) -> ZabModel {
        ZabModel::unvalidated(self.zab)
    }

    /// The leader of the prepared initial state: with empty logs the best vote is the highest
    /// server id.
    pub fn first_leader(servers: u8) -> Sid {
        servers - 1
    }

    /// Clients on the followers in turn (S0, S1, S0, ... with three servers), the default of
    /// `connections`.
    pub fn followers_in_turn(servers: u8) -> [Sid; MAX_CLIENTS] {
        std::array::from_fn(|c| (c % usize::from(servers - 1)) as Sid)
    }

    /// Whether clients may lose their connections and reconnect: a server may crash, be cut off
    /// or time out, or a client's own connection may break. Only then does the ensemble keep what
    /// a reconnection reads (the zxid each client has seen), which would otherwise only split
    /// states.
    pub fn reconnects(&self) -> bool {
        self.zab.crashes + self.zab.partitions + self.zab.timeouts + self.connection_losses > 0
    }

    /// Whether the leader's tracker keeps each session's owner and checks it: the servers' code
    /// has the check (all but `zk-710`), and a session can move to another server while a write
    /// it sent through the old one is still on its way to the leader. That needs a client's own
    /// connection to break (`connection_losses`): when a server stops serving, it loses its
    /// connection to the leader with every write it was forwarding, so without such a break no
    /// write is ever left behind and the owner check refuses nothing (the owner would only tell
    /// states apart).
    pub fn checks_owners(&self) -> bool {
        self.connection_losses > 0 && self.flaw != Some(ServerFlaw::Zk710)
    }

    /// The most transactions one execution of `lock` on this ensemble proposes: the scenario's
    /// own count ([`LockConfig::transactions_needed`], which the scenario reader checks where
    /// it can point at the file), the writes its clients send again after its servers' faults,
    /// and the closes a failover makes the leader repeat for clients that retry.
    /// `LockModel::on_ensemble` refuses a world whose count exceeds the log.
    pub fn transactions_needed(&self, lock: &LockConfig) -> usize {
        lock.transactions_needed(self.sessions_at_start)
            + self.resent_writes(lock.clients)
            + self.closes_again(lock)
    }

    /// A client that retries after an expiry may have been told its session ended by a
    /// reconnection while the close was only prepared; a failover can drop that close, and the
    /// new leader then expires the session again (a session nothing touches) before the client's
    /// new one may open: one more closeSession per expiry, in worlds whose servers fail over.
    fn closes_again(&self, lock: &LockConfig) -> usize {
        let zab = &self.zab;
        let fails_over = zab.crashes + zab.partitions + zab.timeouts > 0;
        if self.reopens_sessions && fails_over {
            usize::from(lock.session_expiries)
        } else {
            0
        }
    }

    /// The most writes `clients` may send again after losing their connections to their servers'
    /// faults (each client `losses_per_client` times): each loss fails at most one outstanding
    /// write, which the recipe sends again (the standard recipe's blind create, a release's
    /// delete, Curator's create after its lookup), or the library (a connect request whose
    /// answer it never read).
    fn resent_writes(&self, clients: u8) -> usize {
        let zab = &self.zab;
        let losses = losses_per_client(zab.servers, zab.crashes, zab.partitions, zab.timeouts);
        usize::from(clients) * losses as usize
    }

    /// An ensemble of `zab.servers` running `zab`'s code (with its fault budgets), with a log for
    /// up to `MAX_TXNS` transactions, each client `c` connected to `connections[c]`, every server
    /// crashable.
    pub fn new(zab: ZabConfig, connections: [Sid; MAX_CLIENTS]) -> Self {
        EnsembleConfig {
            zab: ZabConfig {
                transactions: MAX_TXNS as u8,
                ..zab
            },
            zk: ZkConfig {
                record_zxids: false,
                protected_names: false,
            },
            connections,
            flaw: None,
            timing: Timing::default(),
            crashable: all_servers(zab.servers),
            connection_losses: 0,
            late_forwards: false,
            reopens_sessions: false,
            sessions_at_start: true,
        }
    }
}

/// The most times one client may lose its connection: once per crash or spurious timeout, and
/// once per partition, twice with five servers (on a cut-off follower, then on the cut-off leader
/// it reconnected to before that leader stepped down; with three servers a cut-off side is one
/// server).
fn losses_per_client(servers: u8, crashes: u8, partitions: u8, timeouts: u8) -> u32 {
    let per_partition = if servers > 3 { 2 } else { 1 };
    u32::from(crashes) + u32::from(timeouts) + per_partition * u32::from(partitions)
}

/// An answer a server sent a client that the client has not read yet: the zxid it carries (the
/// server's last processed zxid when it sent it), and the watch the request registered, if it
/// did. Kept only in worlds where clients reconnect ([`EnsembleConfig::reconnects`]).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Unread {
    pub client: ClientId,
    pub zxid: Zxid,
    pub watch: Option<Watch>,
}

/// A `sync` its follower has been answered by the leader for (`Msg::Synced`) and will answer
/// once it has applied `after`, the last proposal the leader had made when it took the sync.
/// It belongs to the client's current connection: closing that connection drops it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct PendingSync {
    pub client: ClientId,
    pub after: Zxid,
}

/// A `sync` a follower forwarded, which its leader answers once it has committed `after`, the
/// last proposal it had made when it took the sync (`Leader.pendingSyncs`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct LeaderSync {
    pub client: ClientId,
    pub leader: Sid,
    pub follower: Sid,
    pub after: Zxid,
    /// The client's connection to the follower closed after it sent the sync.
    pub connection_closed: bool,
}

/// Most answers in flight at once: one per client (a client waits for each answer before it
/// sends its next request).
pub(super) const MAX_UNREAD: usize = MAX_CLIENTS;

/// An ensemble serving a lock world's clients.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Ensemble {
    /// ZAB's world: servers with their logs, links, ghost. A transaction's value `v` stands for
    /// `txns[v - 1]`.
    pub zab: ZabState,
    /// The lock transactions the leaders prepared, in proposal order. A transaction is proposed
    /// once and never re-proposed, so the table is an exact encoding of every PROPOSAL.
    pub txns: Slots<LockTxn, MAX_TXNS>,
    /// Each client's server.
    pub connections: Slots<Sid, MAX_CLIENTS>,
    /// Every client's registered watches, sorted. They live at the client's server; kept here
    /// (per client) because the trees are derived.
    pub watches: Slots<Watch, MAX_WATCHES>,
    /// `/lock` exists before the first step (the recipe uses it as a parent).
    pub lock_parent: bool,
    /// Every session is open before the first step ([`EnsembleConfig::sessions_at_start`]).
    pub sessions_at_start: bool,
    /// Each server's session tracker (index = server): a leader's in broadcast, built when it
    /// became one; empty at every other server (a follower forwards its sessions' touches to its
    /// leader and tracks nothing of its own here).
    pub trackers: [Tracker; MAX_SERVERS],
    /// The clients whose connection broke (their server crashed or left broadcast), one bit
    /// each, until they reconnect. Their watches stay with the client library, at no server.
    pub disconnected: u8,
    /// The clients that never connect again: a reconnection told them their session had ended,
    /// or they crashed.
    pub ended: u8,
    /// The clients that read `SessionExpired` and opened a new session (`reopens_sessions`),
    /// whose new connect request has not been answered yet: like a client in its first
    /// handshake, such a client has no session to revalidate, and what its old handle had
    /// asked is dropped.
    pub opening: u8,
    /// zk-1367: per server, the clients whose open session its session table lacks (bit `c`), the
    /// sessions it learned at NEWLEADER from a DIFF; empty with every other code.
    pub untracked: [u8; MAX_SERVERS],
    /// The transactions (bit `value - 1`) whose client lost the connection it sent them on before
    /// its server applied them: no server answers them.
    pub unanswered: u8,
    /// The follower that forwarded each transaction (3 bits per table index, server id + 1) while
    /// it holds it in its session queue: until it applies it or stops serving
    /// (`session_queue`).
    pub held_at: u32,
    /// The last zxid each client has read in an answer (ZooKeeper's `lastZxidSeen`), and the
    /// answers in flight, in send order. Kept only in worlds with failover.
    pub seen: Slots<Zxid, MAX_CLIENTS>,
    pub unread: Slots<Unread, MAX_UNREAD>,
    /// The syncs the clients' followers wait to answer, in the order they arrived (at most one
    /// per client: a client waits for each answer).
    pub syncs: Slots<PendingSync, MAX_CLIENTS>,
    /// The syncs the leaders hold until they commit their last proposal, in the order they took
    /// them (at most one per client).
    pub leader_syncs: Slots<LeaderSync, MAX_CLIENTS>,
}

impl Ensemble {
    /// The prepared start (docs/design/ensemble.md, §3.3 item 4): ZAB's initial state, then the
    /// oracle elects the whole ensemble and the first enabled ZAB step (no fault, timeout or client
    /// write) is taken until every server is in broadcast and the links are empty: deliveries, and the
    /// flawed versions' own steps of the synchronisation. A leader is established in epoch 1 with empty logs,
    /// which removes the first election's interleavings from every search.
    pub fn prepared(config: &EnsembleConfig, clients: usize, lock_parent: bool) -> Self {
        let model = config.zab_model();
        let servers = config.zab.servers;
        let mut zab = ZabState::new(servers);
        model.step(
            &mut zab,
            &ZabAction::Elect {
                leader: EnsembleConfig::first_leader(servers),
                quorum: all_servers(servers),
            },
        );
        let mut actions = Vec::new();
        while !(zab.net.is_empty() && zab.servers.iter().all(|s| s.phase == Phase::Broadcast)) {
            actions.clear();
            model.actions(&zab, &mut actions);
            let first = actions
                .iter()
                .find(|a| {
                    let takes_writes_or_gives_up = matches!(
                        a,
                        ZabAction::ClientRequest { .. } | ZabAction::Timeout { .. }
                    );
                    model.fault_kind(a).is_none() && !takes_writes_or_gives_up
                })
                .expect("the oracle's run to broadcast has a step at every state");
            model.step(&mut zab, first);
        }
        let mut ensemble = Ensemble {
            zab,
            txns: Slots::new(),
            connections: config.connections[..clients].iter().copied().collect(),
            watches: Slots::new(),
            lock_parent,
            sessions_at_start: config.sessions_at_start,
            disconnected: 0,
            ended: 0,
            opening: 0,
            untracked: [0; MAX_SERVERS],
            unanswered: 0,
            held_at: 0,
            seen: if config.reconnects() {
                (0..clients).map(|_| Zxid::ZERO).collect()
            } else {
                Slots::new()
            },
            unread: Slots::new(),
            syncs: Slots::new(),
            leader_syncs: Slots::new(),
            trackers: Default::default(),
        };
        ensemble.establish_trackers(config, [false; MAX_SERVERS]);
        if config.checks_owners() && config.sessions_at_start {
            // Each session was created through its client's first server (a createSession
            // prepared by the leader sets its owner to the server it came through).
            let leader = EnsembleConfig::first_leader(servers);
            for (client, &server) in (0..).zip(&ensemble.connections) {
                ensemble.trackers[usize::from(leader)].set_owner(client, server);
            }
        }
        ensemble
    }

    /// An ensemble with no server, client or transaction, for a packed state to be read into.
    pub(crate) fn empty() -> Self {
        Ensemble {
            zab: ZabState::new(0),
            txns: Slots::new(),
            connections: Slots::new(),
            watches: Slots::new(),
            lock_parent: false,
            sessions_at_start: true,
            trackers: Default::default(),
            disconnected: 0,
            ended: 0,
            opening: 0,
            untracked: [0; MAX_SERVERS],
            unanswered: 0,
            held_at: 0,
            seen: Slots::new(),
            unread: Slots::new(),
            syncs: Slots::new(),
            leader_syncs: Slots::new(),
        }
    }

    /// Whether `server` is an established leader in broadcast: its request processors run, and
    /// its session tracker with them.
    pub fn leads(&self, server: Sid) -> bool {
        let s = self.zab.server(server);
        s.is_established_leader() && s.phase == Phase::Broadcast
    }

    /// Which servers lead in broadcast now, one flag per server.
    pub(super) fn leading(&self) -> [bool; MAX_SERVERS] {
        std::array::from_fn(|s| s < self.zab.servers.len() && self.leads(s as Sid))
    }

    /// The established leader in broadcast, if there is one; of two (an old leader cut off in a
    /// minority that has not timed out yet, and the leader the majority elected since), the one
    /// of the newer epoch.
    pub fn leader(&self) -> Option<Sid> {
        self.zab
            .ids()
            .filter(|&s| self.leads(s))
            .max_by_key(|&s| self.zab.server(s).leading().map_or(0, |l| l.epoch))
    }

    /// The server `client` is connected to, or was last connected to while it is disconnected.
    pub fn server_of_client(&self, client: ClientId) -> Sid {
        self.connections[usize::from(client)]
    }

    /// Whether `client` has a connection to its server.
    pub fn is_connected(&self, client: ClientId) -> bool {
        self.disconnected & 1 << client == 0
    }

    /// Whether `server` serves clients: it is up and in broadcast, leading or following
    /// (ZooKeeper runs a server's request processors only then; a server that leaves broadcast
    /// shuts them down and closes its client connections).
    pub fn serves(&self, server: Sid) -> bool {
        let s = self.zab.server(server);
        s.up && s.phase == Phase::Broadcast && (s.leading().is_some() || s.following().is_some())
    }

    /// The leader `server` takes writes to: itself if it leads, the leader it follows otherwise.
    pub fn leader_of(&self, server: Sid) -> Option<Sid> {
        let s = self.zab.server(server);
        if s.leading().is_some() {
            Some(server)
        } else {
            s.following().map(|f| f.leader)
        }
    }
}

//! The state of a ZAB world: servers (durable and volatile parts kept apart), the links, the
//! faults used, and the ghost history the properties read.

use std::fmt;

use crate::Slots;

use super::types::{
    bit, Log, Notice, Notification, Packet, ServerSet, Sid, Txn, Vote, Zxid, MAX_EPOCHS,
    MAX_SERVERS,
};

/// What survives a crash: the files on the server's disk (docs/zab.md).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Durable {
    /// The transaction log, including proposals logged but never committed.
    pub log: Log,
    /// How many entries of `log` this server has delivered (applied as committed). It stands for
    /// the snapshot point: restarting replays the log up to it, so it survives a crash. A TRUNC
    /// that cuts below it lowers it (which the durability property flags).
    pub delivered: u8,
    /// The `acceptedEpoch` file: the last epoch this server promised to follow (paper's f.p).
    pub accepted_epoch: u8,
    /// The `currentEpoch` file: the epoch of the last NEWLEADER it accepted (paper's f.a).
    pub current_epoch: u8,
}

impl Durable {
    pub fn last_zxid(&self) -> Zxid {
        self.log.last().map_or(Zxid::ZERO, |txn| txn.zxid)
    }

    /// The delivered prefix of the log.
    pub fn delivered(&self) -> &[Txn] {
        &self.log[..usize::from(self.delivered)]
    }

    /// Append `txn` unless the log holds it already: a log holds a transaction at most once,
    /// and a sync, a buffered proposal and zk-4712's stray writes can each bring one again.
    pub fn append_once(&mut self, txn: Txn) {
        if !self.log.contains(&txn) {
            let overflow = self.log.try_push(txn);
            assert!(
                overflow.is_none(),
                "a log holds every transaction at most once"
            );
        }
    }
}

/// ZooKeeper's zabState.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    Election,
    Discovery,
    Synchronization,
    Broadcast,
}

/// A leader's volatile bookkeeping (`Leader` and its `LearnerHandler`s).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Leading {
    /// The epoch this leader proposes; 0 until a quorum's FOLLOWERINFO decided it.
    pub epoch: u8,
    /// Servers whose FOLLOWERINFO arrived (the leader counts itself), and the highest
    /// acceptedEpoch among them.
    pub infos: ServerSet,
    /// Followers whose connection (opened by their FOLLOWERINFO) is still open.
    pub connected: ServerSet,
    pub max_accepted: u8,
    /// Servers whose ACKEPOCH counts towards the epoch quorum (the leader counts itself).
    pub epoch_acks: ServerSet,
    /// Followers that sent ACKEPOCH and wait to be synced, with the last zxid each reported.
    pub to_sync: ServerSet,
    pub last_zxids: [Zxid; MAX_SERVERS],
    /// Followers that were sent a sync: new proposals and commits are forwarded to them.
    pub learners: ServerSet,
    /// Servers that acknowledged NEWLEADER (the leader counts itself): the quorum count.
    pub newleader_acks: ServerSet,
    /// Learners whose NEWLEADER ACK came on their current connection: their LearnerHandler is
    /// past the handshake and takes proposal ACKs.
    pub ready: ServerSet,
    /// For each entry of the leader's log not yet committed: who acknowledged it. The leader
    /// counts itself only once its own write of the entry is done ([`Leading::unwritten`]).
    pub acks: Slots<ServerSet, { super::types::MAX_TXNS }>,
    /// How many of the last entries of the leader's log are proposals its SyncRequestProcessor
    /// has not written yet. While it leads, a leader's `disk.log` is what `Leader` holds in
    /// memory (its committed log and `outstandingProposals`), which is what it syncs learners
    /// from; only the entries before these are on its disk. A crash loses them, and the
    /// leader's ACK of each comes only once it is written (`AckRequestProcessor`).
    pub unwritten: u8,
}

impl Leading {
    /// How many entries of `log` (the leader's) are on its disk.
    pub fn written(&self, log: &Log) -> usize {
        log.len() - usize::from(self.unwritten)
    }
}

/// A follower's volatile bookkeeping (`Learner.syncWithLeader` and the request processors).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Following {
    pub leader: Sid,
    /// Transactions received in the sync (the PROPOSAL+COMMIT pairs of a DIFF, or a SNAP) and
    /// not yet on disk.
    pub synced: Log,
    /// The sync was a SNAP: the synced transactions replace the log instead of extending it.
    pub snap: bool,
    /// The sync was a SNAP or a TRUNC, not a DIFF: `Learner.syncWithLeader` then takes a
    /// snapshot at NEWLEADER, before it writes the new epoch, in every version, so the flawed
    /// NEWLEADER handling of the bug variants can only catch a DIFF's transactions.
    pub snapshot_needed: bool,
    /// NEWLEADER was handled only in part (the flawed variants): the synced transactions still
    /// have to reach the disk.
    pub unlogged: bool,
    /// How many log entries the follower had when it reported its last zxid in ACKEPOCH: the
    /// part of its log the leader's sync builds on.
    pub reported: u8,
    /// PROPOSALs received during synchronization and not yet logged (`packetsNotLogged`): the
    /// leader's outstanding proposals, sent between the sync and NEWLEADER, and new ones. They
    /// are logged at UPTODATE (zk-4394: at NEWLEADER).
    pub pending: Log,
    /// How many of `pending`, from the first, a COMMIT has reached (`packetsCommitted`).
    pub pending_committed: u8,
    /// zk-4685: NEWLEADER was handled, but the QuorumPeer thread has not written its ACK yet.
    pub newleader_ack_due: bool,
    /// zk-3023: log entries (after the delivered prefix) that are committed but wait for the
    /// CommitProcessor; it takes them only after UPTODATE was acknowledged.
    pub to_apply: u8,
    /// Fast Leader Election chose a leader that was not LEADING yet: the follower's connection
    /// attempt (`Learner.connectToLeader` retries) succeeds, and FOLLOWERINFO goes out, when that
    /// server starts leading. Never set with the oracle, which makes leader and followers at once.
    pub awaits_leader: bool,
}

impl Following {
    /// A follower of `leader` that has just sent FOLLOWERINFO: nothing synced yet.
    pub fn new(leader: Sid) -> Self {
        Following {
            leader,
            synced: Log::new(),
            snap: false,
            snapshot_needed: false,
            unlogged: false,
            reported: 0,
            pending: Log::new(),
            pending_committed: 0,
            newleader_ack_due: false,
            to_apply: 0,
            awaits_leader: false,
        }
    }
}

/// A server's Fast Leader Election state (`FastLeaderElection`): volatile, so a crash resets it.
/// With the oracle election it stays at its default.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct FleState {
    /// `logicalclock`: the election round this server is in, or decided in. 0 after a (re)start
    /// until its first round; one more per round it starts; a newer round seen in a notification
    /// is adopted.
    pub logical_clock: u8,
    /// While LOOKING, the vote it proposes; once decided, the vote it decided on (ZooKeeper's
    /// `currentVote`, which it sends to LOOKING peers).
    pub vote: Vote,
    /// LOOKING but not in a round: starting one would pass the round bound (the scenario's
    /// `epochs`), so, as TLC's constraints prune, this server is not explored further.
    pub stalled: bool,
    /// `recvset`: the newest notification of the current round from each peer (index = sid).
    /// The server's own vote is not stored: it always counts for the own proposal.
    pub received: [Option<Notification>; MAX_SERVERS],
    /// `outofelection`: the newest notification from each FOLLOWING or LEADING peer, any round.
    pub out_of_election: [Option<Notification>; MAX_SERVERS],
}

/// Role, as ZooKeeper's ServerState, with the role's volatile state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Role {
    Looking,
    Following(Following),
    Leading(Leading),
}

/// One ZooKeeper server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Server {
    pub disk: Durable,
    /// False between a crash and its restart.
    pub up: bool,
    pub role: Role,
    pub phase: Phase,
    /// zk-4712 only: proposals received in broadcast by the current role and queued for its
    /// SyncRequestProcessor, not yet on disk. They are logged and acknowledged in order, and the
    /// role's later PROPOSALs and COMMITs wait behind them.
    pub sync_queue: Log,
    /// zk-4712 only: what the SyncRequestProcessor of an ended role still had queued. The flaw:
    /// a shutdown to LOOKING does not stop that thread, so it still writes these to the log; only
    /// a crash loses them. It acknowledges them through the old role's Follower, whose socket
    /// `Learner.shutdown` closed, so no ACK reaches anyone, and a new role's PROPOSALs do not
    /// wait for them (each FOLLOWING round has a processor of its own).
    pub orphans: Log,
    /// How far the in-memory data tree was loaded from the log beyond the delivered prefix: at a
    /// restart (the whole log is replayed, committed or not) and, in the fixed code, when a role
    /// ends (`ZKDatabase.fastForwardDataBase`, ZOOKEEPER-2845's fix). In zk-2355 it may name a
    /// zxid beyond the log: a DIFF's, claimed before its transactions were applied.
    /// `Zxid::ZERO` once the delivered prefix reaches it, so that it tells states apart only
    /// when it matters (see [`Server::processed_zxid`]).
    pub loaded: Zxid,
    /// Fast Leader Election's volatile state (unused by the oracle election).
    pub fle: FleState,
}

impl Server {
    pub fn new() -> Self {
        Server {
            disk: Durable::default(),
            up: true,
            role: Role::Looking,
            phase: Phase::Election,
            sync_queue: Log::new(),
            orphans: Log::new(),
            loaded: Zxid::ZERO,
            fle: FleState::default(),
        }
    }

    /// Forget everything volatile and look for a leader again.
    pub fn become_looking(&mut self) {
        self.role = Role::Looking;
        self.phase = Phase::Election;
    }

    pub fn leading(&self) -> Option<&Leading> {
        match &self.role {
            Role::Leading(leading) => Some(leading),
            _ => None,
        }
    }

    pub fn leading_mut(&mut self) -> Option<&mut Leading> {
        match &mut self.role {
            Role::Leading(leading) => Some(leading),
            _ => None,
        }
    }

    pub fn following(&self) -> Option<&Following> {
        match &self.role {
            Role::Following(following) => Some(following),
            _ => None,
        }
    }

    pub fn following_mut(&mut self) -> Option<&mut Following> {
        match &mut self.role {
            Role::Following(following) => Some(following),
            _ => None,
        }
    }

    /// A leader that has established its epoch: a quorum acknowledged it and it wrote
    /// currentEpoch (ZK-spec doc.md's "established").
    pub fn is_established_leader(&self) -> bool {
        self.up
            && self.leading().is_some()
            && matches!(self.phase, Phase::Synchronization | Phase::Broadcast)
    }

    /// The FLE vote this server starts a round with: itself, with its currentEpoch and last
    /// processed zxid (`getInitId`, `getInitLastLoggedZxid`, `getPeerEpoch`; despite its name,
    /// `QuorumPeer.getLastLoggedZxid` reads the data tree's last processed zxid).
    pub fn vote(&self, sid: Sid) -> Vote {
        Vote {
            peer_epoch: self.disk.current_epoch,
            zxid: self.processed_zxid(),
            leader: sid,
        }
    }

    /// The data tree's last processed zxid (`ZKDatabase.getDataTreeLastProcessedZxid`), which
    /// votes and ACKEPOCH report: the delivered prefix, or further where the log was replayed
    /// into the tree ([`Server::loaded`]). Below the log's last zxid when the tree holds
    /// transactions logged after it was loaded (zk-4712's stray writes) or was never loaded
    /// from the whole log (zk-2845).
    pub fn processed_zxid(&self) -> Zxid {
        let delivered = self.disk.delivered().last().map_or(Zxid::ZERO, |t| t.zxid);
        delivered.max(self.loaded)
    }

    /// Load the whole log into the data tree (a restart's replay, or `fastForwardDataBase`).
    pub fn load_log(&mut self) {
        self.loaded = self.disk.last_zxid();
        self.forget_covered_load();
    }

    /// `ZKDatabase.fastForwardDataBase`: replay the log entries after the tree's last processed
    /// zxid. That reaches the log's last zxid, unless the tree claims a zxid beyond its log (a
    /// DIFF's, zk-2355): then nothing is replayed and the claim stands. (The fixed code's tree
    /// never claims more than its log, so it uses [`Server::load_log`].)
    pub fn fast_forward(&mut self) {
        self.loaded = self.loaded.max(self.disk.last_zxid());
        self.forget_covered_load();
    }

    /// Forget [`Server::loaded`] once the delivered prefix reaches it: from then on it says
    /// nothing the delivered prefix does not.
    pub fn forget_covered_load(&mut self) {
        let delivered = self.disk.delivered().last().map_or(Zxid::ZERO, |t| t.zxid);
        if self.loaded <= delivered {
            self.loaded = Zxid::ZERO;
        }
    }
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

/// Faults used so far in this execution.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct FaultsUsed {
    pub crashes: u8,
    pub partitions: u8,
    pub timeouts: u8,
}

/// What the properties need to know about the past, and nothing more.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Ghost {
    /// Per epoch, the servers that established leadership in it (`Leadership2`), in epoch
    /// order, epochs with nobody left out. A list rather than an array indexed by epoch: with
    /// unbounded epochs (`epochs = 0`) the renamed epochs are not bounded by `MAX_EPOCHS`, and
    /// [`super::canonical`] forgets the entries that can no longer change.
    pub established: Slots<Established, MAX_EPOCHS>,
    /// Every PROPOSAL a leader broadcast, in broadcast order.
    pub proposals: Slots<Proposal, { super::types::MAX_TXNS }>,
    /// Per transaction value (index value − 1): the epoch in which a leader first committed it
    /// with a quorum, or 0 while it is not committed.
    pub committed_in: [u8; super::types::MAX_TXNS],
    /// How many client writes had been proposed when the current partition began (0 while the
    /// network is whole): the later ones, values above it, were proposed during the partition,
    /// which `minority_commits_nothing_new` needs to tell apart.
    pub injected_before_cut: u8,
    /// The "during-action" checks of docs/properties.md: set when a server receives a message the real
    /// code rejects or crashes on, so that the property reads a state, as all properties do.
    pub during_action: DuringAction,
    /// Per server (index = sid), every transaction it ever delivered, in the order it first
    /// delivered each. Append-only: a TRUNC or a SNAP that lowers or replaces the delivered
    /// prefix of the log does not shrink it, so the order properties see what a server once
    /// delivered and then lost (docs/properties.md defines them over deliveries, not over
    /// today's log).
    ///
    /// Delivered means applied by a server in BROADCAST, which serves clients. A follower
    /// applies the transactions of its sync at NEWLEADER, before the leader has the quorum of
    /// NEWLEADER ACKs that commits them and before the follower serves (UPTODATE): with 4 or 5
    /// servers it can apply a transaction only it and the leader hold, and lose it again, and
    /// no client can have read it. Those count as delivered once it serves.
    ///
    /// A leader applies a transaction once it is committed, which followers' ACKs alone can do
    /// before the leader's own write of it (`Leader.tryToCommit` does not wait for the leader's
    /// SyncRequestProcessor); a crash then takes it back from that server, which has it again
    /// from its next sync (a quorum logged it). No client sees that regression: a server refuses
    /// a session whose client has seen a zxid beyond its own (`ZooKeeperServer`'s connect
    /// request handling). So a leader's transaction counts as delivered once it is also written.
    pub history: [Log; MAX_SERVERS],
    /// Per transaction value (index value − 1), the servers that ever had it in their log (that
    /// accepted it, in the ZAB paper's words), or every server once that is a quorum: the
    /// properties ask only whether a quorum did, so the set stops growing there.
    pub logged_by: [ServerSet; super::types::MAX_TXNS],
}

/// The implementation-level checks ZooKeeper's code makes while it handles a message (ZTS
/// `daInv`): each is set once the named surprise happened in this execution.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct DuringAction {
    /// A leader waiting for a follower's NEWLEADER ACK got an ACK of a proposal instead
    /// (`Leader.waitForNewLeaderAck`: "NEWLEADER ACK ... is from a different epoch").
    pub unexpected_ack: bool,
    /// A leader read a follower's ACK of UPTODATE while that follower had not yet applied every
    /// transaction of an earlier epoch the leader has (its lastProcessedZxid lags).
    pub uptodate_before_applied: bool,
    /// A follower in synchronization got a COMMIT with no proposal buffered for it.
    pub commit_without_proposal: bool,
}

impl Ghost {
    /// Values of the committed transactions, one bit each.
    pub fn committed(&self) -> u8 {
        (0..super::types::MAX_TXNS)
            .filter(|&i| self.committed_in[i] != 0)
            .fold(0, |set, i| set | 1 << i)
    }

    /// `leader` established leadership in `epoch`.
    pub fn establish(&mut self, epoch: u8, leader: Sid) {
        match self.established.binary_search_by_key(&epoch, |e| e.epoch) {
            Ok(i) => self.established[i].servers |= bit(leader),
            Err(i) => self.established.insert(
                i,
                Established {
                    epoch,
                    servers: bit(leader),
                },
            ),
        }
    }

    /// Record what the step that led to `servers` delivered and logged: every transaction of the
    /// delivered prefix of a server in broadcast that its history lacks is appended (in log
    /// order), and every logged transaction (for a leader, every one it has written) marks its
    /// server in `logged_by`. Called after every
    /// step, so no handler has to remember it: whatever a step does to a log (append, cut,
    /// replace), the delivered prefix after it is what the server has applied.
    pub fn record(&mut self, servers: &[Server]) {
        let everyone = super::types::all_servers(servers.len() as u8);
        for (s, server) in servers.iter().enumerate() {
            let history = &mut self.history[s];
            let serving = server.up && server.phase == Phase::Broadcast;
            let written = server
                .leading()
                .map_or(server.disk.log.len(), |l| l.written(&server.disk.log));
            let delivered = &server.disk.delivered()[..written.min(server.disk.delivered().len())];
            for &txn in delivered.iter().filter(|_| serving) {
                if !history.contains(&txn) {
                    let overflow = history.try_push(txn);
                    assert!(
                        overflow.is_none(),
                        "a server delivers at most every transaction once"
                    );
                }
            }
            for txn in &server.disk.log[..written] {
                let logged = &mut self.logged_by[usize::from(txn.value - 1)];
                *logged |= bit(s as Sid);
                if 2 * logged.count_ones() > everyone.count_ones() {
                    *logged = everyone;
                }
            }
        }
    }

    /// A leader of `epoch` committed `txn` (if no leader did before).
    pub fn commit(&mut self, txn: Txn, epoch: u8) {
        let slot = &mut self.committed_in[usize::from(txn.value - 1)];
        if *slot == 0 {
            *slot = epoch;
        }
    }
}

/// The servers that established leadership in one epoch.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Established {
    pub epoch: u8,
    pub servers: ServerSet,
}

/// A broadcast proposal and what its primary had delivered when it broadcast it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Proposal {
    pub txn: Txn,
    pub primary: Sid,
    /// Values of the transactions the primary had delivered at that moment.
    pub primary_delivered: u8,
}

/// Packed field by field ([`super::pack`]), and fingerprinted from those bytes: the derived
/// `Hash` feeds the hasher field by field (every vote, notification and packet of every server),
/// which cost more than packing every successor and hashing its bytes at once.
impl crate::pack::PackState for ZabState {
    const FINGERPRINT_PACKED: bool = true;

    fn pack_state(&self, out: &mut Vec<u8>) {
        crate::pack::pack_fields(self, out);
    }

    fn unpack_state(bytes: &[u8]) -> Self {
        crate::pack::unpack_fields(bytes)
    }
}

/// The whole world.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ZabState {
    pub servers: Slots<Server, MAX_SERVERS>,
    /// Messages in flight, oldest first; each link's are delivered in this order. A `Vec`, not
    /// a fixed-capacity array: a handful of messages is typical and dozens are possible, and a
    /// state is stored in the search frontier at its actual size.
    pub net: Vec<Packet>,
    /// FLE notifications in flight, at most one per election link, sorted by (from, to): a newer
    /// notification replaces an unread older one (see `election::fle`). Empty with the oracle.
    pub election_net: Vec<Notice>,
    /// One side of the current partition (never holding S0, so each split has one name);
    /// 0 when the network is whole.
    pub cut_off: ServerSet,
    pub faults: FaultsUsed,
    /// Client transactions injected so far.
    pub injected: u8,
    pub ghost: Ghost,
}

impl ZabState {
    pub fn new(servers: u8) -> Self {
        ZabState {
            servers: (0..servers).map(|_| Server::new()).collect(),
            net: Vec::new(),
            election_net: Vec::new(),
            cut_off: 0,
            faults: FaultsUsed::default(),
            injected: 0,
            ghost: Ghost::default(),
        }
    }

    pub fn server(&self, s: Sid) -> &Server {
        &self.servers[usize::from(s)]
    }

    pub fn server_mut(&mut self, s: Sid) -> &mut Server {
        &mut self.servers[usize::from(s)]
    }

    pub fn ids(&self) -> impl Iterator<Item = Sid> {
        0..self.servers.len() as Sid
    }

    /// Every server of the world, as a set.
    pub fn everyone(&self) -> ServerSet {
        super::types::all_servers(self.servers.len() as u8)
    }

    /// Both up and on the same side of any partition.
    pub fn connected(&self, a: Sid, b: Sid) -> bool {
        self.server(a).up
            && self.server(b).up
            && (self.cut_off & bit(a) == 0) == (self.cut_off & bit(b) == 0)
    }

    /// Whether `follower` follows `leader`'s current leadership: it follows `leader`, which leads
    /// and has its connection open or about to open (its FOLLOWERINFO, or anything it sent since,
    /// is on the way). A follower of an earlier leadership of the same server is not: its
    /// connection closed when that leadership ended.
    pub fn follows_leadership(&self, follower: Sid, leader: Sid) -> bool {
        self.server(follower)
            .following()
            .is_some_and(|f| f.leader == leader)
            && self.server(leader).leading().is_some_and(|l| {
                l.connected & bit(follower) != 0 || self.head(follower, leader).is_some()
            })
    }

    /// Send `msg` on the connection between a follower and its leader. FOLLOWERINFO opens it;
    /// anything else needs it open. A message written to a closed connection (its peer crashed,
    /// stepped down or was cut off) is lost, as a write to a reset TCP socket is.
    pub fn send(&mut self, from: Sid, to: Sid, msg: super::types::Msg) {
        let (follower, leader) = if msg.to_leader() {
            (from, to)
        } else {
            (to, from)
        };
        let opens = matches!(msg, super::types::Msg::FollowerInfo { .. });
        let open = self
            .server(follower)
            .following()
            .is_some_and(|f| f.leader == leader)
            && self
                .server(leader)
                .leading()
                .is_some_and(|l| opens || l.connected & bit(follower) != 0);
        if self.connected(from, to) && open {
            self.net.push(Packet { from, to, msg });
        }
    }

    /// The oldest message on the link `from → to`.
    pub fn head(&self, from: Sid, to: Sid) -> Option<&Packet> {
        self.net.iter().find(|p| p.from == from && p.to == to)
    }

    /// Remove and return the oldest message on the link `from → to`.
    pub fn take_head(&mut self, from: Sid, to: Sid) -> Option<Packet> {
        let i = self.net.iter().position(|p| p.from == from && p.to == to)?;
        Some(self.net.remove(i))
    }

    /// The TCP connection between `a` and `b` closes: what was in flight on it is lost, and a
    /// leader stops forwarding to the peer (its LearnerHandler ends).
    pub fn close_connection(&mut self, a: Sid, b: Sid) {
        self.net
            .retain(|p| !((p.from == a && p.to == b) || (p.from == b && p.to == a)));
        for (leader, peer) in [(a, b), (b, a)] {
            if let Some(leading) = self.server_mut(leader).leading_mut() {
                leading.connected &= !bit(peer);
                leading.learners &= !bit(peer);
                leading.to_sync &= !bit(peer);
                leading.ready &= !bit(peer);
            }
        }
    }

    /// Send an FLE notification on the election link `from → to`. It replaces one still unread on
    /// that link (QuorumCnxManager's send queue holds one message and drops the older); one sent
    /// to a peer that is down or cut off is lost.
    pub fn notify(&mut self, from: Sid, to: Sid, notification: Notification) {
        if !self.connected(from, to) {
            return;
        }
        let notice = Notice {
            from,
            to,
            notification,
        };
        match self
            .election_net
            .binary_search_by_key(&(from, to), |n| (n.from, n.to))
        {
            Ok(at) => self.election_net[at] = notice,
            Err(at) => self.election_net.insert(at, notice),
        }
    }

    /// The notification in flight on the election link `from → to`.
    pub fn notice(&self, from: Sid, to: Sid) -> Option<&Notice> {
        self.election_net
            .iter()
            .find(|n| n.from == from && n.to == to)
    }

    /// The election connection between `a` and `b` breaks (a crash, a partition): notifications
    /// in flight on it are lost.
    pub fn cut_election_link(&mut self, a: Sid, b: Sid) {
        self.election_net
            .retain(|n| !((n.from == a && n.to == b) || (n.from == b && n.to == a)));
    }

    /// Every server's delivered prefix.
    pub fn delivered(&self) -> impl Iterator<Item = (Sid, &[Txn])> {
        self.ids().map(|s| (s, self.server(s).disk.delivered()))
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Election => "ELECTION",
            Phase::Discovery => "DISCOVERY",
            Phase::Synchronization => "SYNCHRONIZATION",
            Phase::Broadcast => "BROADCAST",
        })
    }
}

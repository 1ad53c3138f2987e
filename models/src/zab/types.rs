//! ZAB's identifiers and messages (docs/zab.md).

use std::fmt;

/// A server id, printed `S0`, `S1`, ...
pub type Sid = u8;

/// A set of servers, one bit per id: quorums, ack sets and partition sides fit in a byte.
pub type ServerSet = u8;

/// The most servers a world may have (the 5-server teaching ensemble).
pub const MAX_SERVERS: usize = 5;

/// The capacity of a log, since a transaction is proposed once and a log never holds it twice, and
/// of the ghost's per-value arrays: the most transactions one execution proposes. A lock world on
/// an ensemble needs up to 8 (docs/design/ensemble.md, §3.2); values are numbered from 1 and their
/// sets are `u8` bitsets, so 8 is also the most that fits without changing types.
pub const MAX_TXNS: usize = 8;

/// The most client writes a ZAB scenario injects (`transactions`): the bound ZAB's own worlds
/// had before the lock world needed larger logs, kept so that no ZAB scenario changes.
pub const MAX_ZAB_TRANSACTIONS: usize = 4;

/// The most epochs a world may reach (the `epochs` bound is at most this).
pub const MAX_EPOCHS: usize = 8;

/// A ZooKeeper transaction id: the epoch of the leader that proposed it, then a counter within
/// that epoch. Ordered numerically, epoch first, as the 64-bit zxid is. `(0, 0)` is "nothing
/// logged yet" and `(e, 0)` is the zxid a NEWLEADER carries.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Zxid {
    pub epoch: u8,
    pub counter: u8,
}

impl Zxid {
    pub const ZERO: Zxid = Zxid {
        epoch: 0,
        counter: 0,
    };

    pub fn new(epoch: u8, counter: u8) -> Self {
        Zxid { epoch, counter }
    }
}

impl fmt::Display for Zxid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{})", self.epoch, self.counter)
    }
}

/// A transaction in a log: its zxid and which client request it carries (1 for the first one
/// injected in the execution, 2 for the second, ...). The value makes two proposals that share a
/// zxid (possible only if two leaders share an epoch) tell apart, so the properties can see it.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Txn {
    pub zxid: Zxid,
    pub value: u8,
}

impl Txn {
    /// The bit of this transaction's value in a set of values.
    pub fn bit(self) -> u8 {
        1 << (self.value - 1)
    }
}

impl fmt::Display for Txn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.zxid, self.value)
    }
}

/// A log, or a list of transactions carried by a sync message.
pub type Log = crate::Slots<Txn, MAX_TXNS>;

/// How the leader brings a follower's log up to its own (`LearnerHandler.syncFollower`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum SyncMode {
    /// The follower's last zxid is in the leader's log: send the missing transactions.
    Diff,
    /// The follower has transactions the leader does not: cut its log back to `to`, then send
    /// what follows `to` in the leader's log (ZooKeeper's TRUNC, possibly followed by a DIFF).
    Trunc { to: Zxid },
    /// The follower has nothing the leader can diff against: send the whole state.
    Snap,
}

/// A message between two servers. Every link is a TCP connection: FIFO, and lost as a whole
/// when the connection closes (crash, partition, a peer giving up).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Msg {
    /// Discovery 1 (CEPOCH): a follower connects and tells the leader its acceptedEpoch.
    FollowerInfo { accepted_epoch: u8 },
    /// Discovery 3 (NEWEPOCH): the epoch the leader proposes.
    LeaderInfo { epoch: u8 },
    /// Discovery 3 (ACK-E): the follower's currentEpoch and last logged zxid. `counted` is false
    /// when the follower had already accepted this epoch (ZooKeeper sends -1 then): the leader
    /// syncs it but does not count it towards the epoch quorum.
    AckEpoch {
        current_epoch: u8,
        last_zxid: Zxid,
        counted: bool,
    },
    /// Synchronization: DIFF, TRUNC or SNAP together with the PROPOSAL+COMMIT pairs it is made of
    /// (they travel back to back on the connection, so one message stands for the run of them).
    Sync { mode: SyncMode, txns: Log },
    /// Synchronization: the leader's NEWLEADER for epoch `epoch`.
    NewLeader { epoch: u8 },
    /// Synchronization: the leader has a quorum and serves; the follower may serve too.
    UpToDate,
    /// Broadcast: a new transaction.
    Proposal { txn: Txn },
    /// An ACK. Its zxid is `(e, 0)` for a NEWLEADER of epoch e (ZooKeeper has no separate
    /// ACK-LD type), otherwise the proposal it acknowledges.
    Ack { zxid: Zxid },
    /// Broadcast: commit the transaction with this zxid.
    Commit { zxid: Zxid },
    /// A lock world on an ensemble: a follower forwards a client's write to its leader
    /// (`FollowerRequestProcessor`), on the follower–leader connection, so a closed connection
    /// loses it with everything else in flight. ZAB's own handlers never see it: the ensemble
    /// takes its delivery and prepares the request at the leader.
    Forward {
        client: crate::zookeeper::ClientId,
        request: crate::zookeeper::Request,
        /// The client's connection to the follower broke after the follower forwarded this:
        /// the follower's pending request belongs to a closed connection, so nobody answers it
        /// (ZooKeeper sends an answer on the connection the request came on).
        connection_closed: bool,
    },
    /// A lock world on an ensemble: the leader's answer (SYNC) to a `sync` a follower forwarded
    /// (`Leader.processSync`), sent once the last proposal it had made when it took the sync,
    /// `after`, is committed, right behind that COMMIT; the follower answers the client once it
    /// has applied `after` (its `CommitProcessor` takes the sync behind the commits).
    Synced {
        client: crate::zookeeper::ClientId,
        after: Zxid,
        /// As [`Msg::Forward`]'s: the client's connection to the follower closed meanwhile.
        connection_closed: bool,
    },
}

impl Msg {
    /// Whether a follower sends this message to its leader (else the leader sends it).
    pub fn to_leader(&self) -> bool {
        match self {
            Msg::FollowerInfo { .. }
            | Msg::AckEpoch { .. }
            | Msg::Ack { .. }
            | Msg::Forward { .. } => true,
            Msg::LeaderInfo { .. }
            | Msg::Sync { .. }
            | Msg::NewLeader { .. }
            | Msg::UpToDate
            | Msg::Proposal { .. }
            | Msg::Commit { .. }
            | Msg::Synced { .. } => false,
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::FollowerInfo { accepted_epoch } => {
                write!(f, "FOLLOWERINFO(acceptedEpoch {accepted_epoch})")
            }
            Msg::LeaderInfo { epoch } => write!(f, "LEADERINFO({epoch})"),
            Msg::AckEpoch {
                current_epoch,
                last_zxid,
                counted,
            } => {
                if *counted {
                    write!(
                        f,
                        "ACKEPOCH(currentEpoch {current_epoch}, last {last_zxid})"
                    )
                } else {
                    write!(f, "ACKEPOCH(-1, last {last_zxid})")
                }
            }
            Msg::Sync { mode, txns } => {
                match mode {
                    SyncMode::Diff => f.write_str("DIFF")?,
                    SyncMode::Trunc { to } => write!(f, "TRUNC({to})")?,
                    SyncMode::Snap => f.write_str("SNAP")?,
                }
                for txn in txns {
                    write!(f, " +{txn}")?;
                }
                Ok(())
            }
            Msg::NewLeader { epoch } => write!(f, "NEWLEADER({epoch})"),
            Msg::UpToDate => f.write_str("UPTODATE"),
            Msg::Proposal { txn } => write!(f, "PROPOSAL{txn}"),
            Msg::Ack { zxid } => write!(f, "ACK{zxid}"),
            Msg::Commit { zxid } => write!(f, "COMMIT{zxid}"),
            Msg::Forward {
                client,
                request,
                connection_closed: false,
            } => write!(f, "FORWARD(C{client} {request})"),
            Msg::Forward {
                client,
                request,
                connection_closed: true,
            } => write!(
                f,
                "FORWARD(C{client} {request}, from a connection since closed)"
            ),
            Msg::Synced {
                client,
                after,
                connection_closed,
            } => {
                write!(f, "SYNC(C{client}, after {after})")?;
                if *connection_closed {
                    f.write_str(", for a connection since closed")?;
                }
                Ok(())
            }
        }
    }
}

/// A Fast Leader Election vote: who should lead, and that server's credentials as the voter
/// knows them. The derived order is FLE's `totalOrderPredicate`: higher peerEpoch (the
/// candidate's currentEpoch) wins, then higher zxid (its last logged zxid), then higher sid.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Vote {
    pub peer_epoch: u8,
    pub zxid: Zxid,
    pub leader: Sid,
}

impl fmt::Display for Vote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S{} e{} {}", self.leader, self.peer_epoch, self.zxid)
    }
}

/// The sender's role as a notification reports it (ZooKeeper's `ServerState`; observers are not
/// modelled).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum PeerState {
    Looking,
    Following,
    Leading,
}

/// An FLE notification: the sender's vote, tagged with its logical clock (`electionEpoch`: which
/// election round the vote belongs to) and its role.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Notification {
    pub vote: Vote,
    pub election_epoch: u8,
    pub state: PeerState,
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            PeerState::Looking => "LOOKING",
            PeerState::Following => "FOLLOWING",
            PeerState::Leading => "LEADING",
        };
        write!(
            f,
            "NOTIFICATION({}, round {}, {state})",
            self.vote, self.election_epoch
        )
    }
}

/// A notification in flight on the election link `from → to` (QuorumCnxManager's connection,
/// not the follower–leader one).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Notice {
    pub from: Sid,
    pub to: Sid,
    pub notification: Notification,
}

/// A message in flight on the link `from → to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Packet {
    pub from: Sid,
    pub to: Sid,
    pub msg: Msg,
}

/// The bit of server `s` in a [`ServerSet`].
pub fn bit(s: Sid) -> ServerSet {
    1 << s
}

/// The set of every server of an ensemble of `servers`.
pub fn all_servers(servers: u8) -> ServerSet {
    ((1u16 << servers) - 1) as ServerSet
}

/// The servers of a set, in id order.
pub fn members(set: ServerSet) -> impl Iterator<Item = Sid> {
    (0..8).filter(move |s| set & bit(*s) != 0)
}

/// `S0, S2` for a set.
pub fn set_name(set: ServerSet) -> String {
    members(set)
        .map(|s| format!("S{s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

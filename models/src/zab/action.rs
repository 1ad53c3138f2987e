//! The steps of a ZAB world, explicit and printable: traces are lists of these.

use std::fmt;

use super::types::{set_name, Msg, Notification, ServerSet, Sid};

/// One step of a ZAB world.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ZabAction {
    /// Oracle election: the LOOKING servers of `quorum`, all up and connected to each other,
    /// agree on the best vote among them, `leader`'s. The others start discovery by sending it
    /// FOLLOWERINFO.
    Elect { leader: Sid, quorum: ServerSet },
    /// A LOOKING server learns of an existing leader (FLE's out-of-election notifications) and
    /// follows it: it sends FOLLOWERINFO.
    Join { server: Sid, leader: Sid },
    /// FLE: `to` receives the notification in flight on the election link from `from`.
    Notify {
        from: Sid,
        to: Sid,
        notification: Notification,
    },
    /// FLE: a quorum of `server`'s recorded votes equals its proposal and finalizeWait passed
    /// without a better one: it leads (the proposal is itself) or follows.
    Decide { server: Sid },
    /// `to` takes the oldest message on the link from `from` and handles it.
    Deliver { from: Sid, to: Sid, msg: Msg },
    /// A client's write reaches the leader, which logs it and broadcasts the PROPOSAL.
    ClientRequest { leader: Sid },
    /// A follower's disk catches up with a NEWLEADER handled in part (the flawed variants): the
    /// synced transactions are written (zk-4643: then the ACK goes out; zk-4685: each one's ACK
    /// goes out).
    LogSynced { server: Sid },
    /// zk-4685: the follower's QuorumPeer thread writes the ACK of a NEWLEADER it has handled,
    /// racing the SyncRequestProcessor's ACKs of the synced transactions.
    AckNewLeader { server: Sid },
    /// zk-3023: the follower's CommitProcessor applies the transactions committed in the sync,
    /// after the follower acknowledged UPTODATE.
    ApplyCommitted { server: Sid },
    /// A server's SyncRequestProcessor writes the oldest proposal it queued and acknowledges it:
    /// a leader its own proposal, counting its own ACK; a follower (zk-4712) to its leader.
    LogProposal { server: Sid },
    /// zk-4712: the SyncRequestProcessor of a role that ended (it was not shut down) writes the
    /// oldest proposal it still had queued. Its ACK goes to the old role's closed socket.
    LogOrphan { server: Sid },
    /// A follower gives up on a leader it cannot reach, or a leader that no longer hears from a
    /// quorum steps down; either goes back to LOOKING.
    Timeout { server: Sid },
    /// Fault: a follower or leader whose peers are alive and reachable times out all the same
    /// (initLimit or syncLimit ran out: a slow disk, a GC pause) and goes back to LOOKING.
    SpuriousTimeout { server: Sid },
    /// Fault: the server crashes; it loses its volatile state and its connections.
    Crash { server: Sid },
    /// The crashed server restarts from its disk, LOOKING.
    Restart { server: Sid },
    /// Fault: the network splits; `side` is cut off from the other servers.
    Partition { side: ServerSet },
    /// The partition heals.
    Heal,
}

impl fmt::Display for ZabAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZabAction::Elect { leader, quorum } => {
                write!(f, "{{{}}} elect S{leader}", set_name(*quorum))
            }
            ZabAction::Join { server, leader } => write!(f, "S{server} joins leader S{leader}"),
            ZabAction::Notify {
                from,
                to,
                notification,
            } => write!(f, "S{from} → S{to} {notification}"),
            ZabAction::Decide { server } => write!(f, "S{server} decides (finalizeWait passed)"),
            ZabAction::Deliver { from, to, msg } => write!(f, "S{from} → S{to} {msg}"),
            ZabAction::ClientRequest { leader } => write!(f, "a client write reaches S{leader}"),
            ZabAction::LogSynced { server } => write!(f, "S{server} logs the synced txns"),
            ZabAction::AckNewLeader { server } => {
                write!(f, "S{server}'s QuorumPeer thread acknowledges NEWLEADER")
            }
            ZabAction::ApplyCommitted { server } => {
                write!(f, "S{server}'s CommitProcessor applies the synced txns")
            }
            ZabAction::LogProposal { server } => {
                write!(f, "S{server}'s SyncRequestProcessor logs a queued proposal")
            }
            ZabAction::LogOrphan { server } => write!(
                f,
                "S{server}'s SyncRequestProcessor of an ended role logs a queued proposal"
            ),
            ZabAction::Timeout { server } => write!(f, "S{server} times out"),
            ZabAction::SpuriousTimeout { server } => {
                write!(f, "S{server} times out although its peers are alive")
            }
            ZabAction::Crash { server } => write!(f, "crash S{server}"),
            ZabAction::Restart { server } => write!(f, "restart S{server}"),
            ZabAction::Partition { side } => write!(f, "partition {{{}}} off", set_name(*side)),
            ZabAction::Heal => f.write_str("heal the partition"),
        }
    }
}

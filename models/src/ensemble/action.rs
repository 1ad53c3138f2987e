//! The ensemble's own steps in a lock world: what ZAB's servers do between the clients' steps,
//! and the client library's reconnection.

use std::fmt;

use crate::zab::types::ServerSet;
use crate::zab::{Sid, ZabAction};
use crate::zookeeper::ClientId;

/// One step of the servers of an ensemble. A delivery names only its link: the message is the
/// head of that link (links are FIFO), so a lock world's actions stay small; narratives print the
/// message from the state. Every other ZAB step is ZAB's own action, its fields copied.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum EnsembleStep {
    /// `to` takes the oldest message on ZAB's link from `from`: a ZAB message, or a client write
    /// a follower forwarded to its leader.
    Deliver {
        from: Sid,
        to: Sid,
    },
    /// A server's SyncRequestProcessor writes its oldest queued proposal and acknowledges it
    /// (ZAB's `LogProposal`): the leader its own, counting its own ACK; a follower of zk-4712 one
    /// it received.
    LogProposal {
        server: Sid,
    },
    /// The oracle elects `leader` among the LOOKING servers of `quorum` (ZAB's `Elect`).
    Elect {
        leader: Sid,
        quorum: ServerSet,
    },
    /// A LOOKING server follows an established leader (ZAB's `Join`).
    Join {
        server: Sid,
        leader: Sid,
    },
    /// The flawed versions' own steps of the synchronisation (ZAB's `LogSynced`, `AckNewLeader`,
    /// `ApplyCommitted`, `LogOrphan`).
    LogSynced {
        server: Sid,
    },
    AckNewLeader {
        server: Sid,
    },
    ApplyCommitted {
        server: Sid,
    },
    LogOrphan {
        server: Sid,
    },
    /// A server gives up on its leader or its quorum and goes back to LOOKING (ZAB's `Timeout`).
    Timeout {
        server: Sid,
    },
    /// Fault (`timeouts`): a server times out although its peers are alive.
    SpuriousTimeout {
        server: Sid,
    },
    /// Fault (`crashes`, among `crashable`): a server crashes, keeping its disk.
    Crash {
        server: Sid,
    },
    /// The crashed server restarts from its disk, LOOKING.
    Restart {
        server: Sid,
    },
    /// Fault (`partitions`): the servers of `side` are cut off from the others; each client stays
    /// on the side of its server.
    Partition {
        side: ServerSet,
    },
    /// The partition heals.
    Heal,
    /// `client`'s library, disconnected, connects to `server` with its session and the last zxid
    /// it has seen, and re-registers its watches (`SetWatches`).
    Reconnect {
        client: ClientId,
        server: Sid,
    },
}

impl EnsembleStep {
    /// The ensemble's step for one of ZAB's enabled actions; `None` for a client write, which
    /// only a client's request makes in a lock world.
    pub(super) fn of_zab(action: ZabAction) -> Option<Self> {
        Some(match action {
            ZabAction::Deliver { from, to, .. } => EnsembleStep::Deliver { from, to },
            ZabAction::LogProposal { server } => EnsembleStep::LogProposal { server },
            ZabAction::Elect { leader, quorum } => EnsembleStep::Elect { leader, quorum },
            ZabAction::Join { server, leader } => EnsembleStep::Join { server, leader },
            ZabAction::LogSynced { server } => EnsembleStep::LogSynced { server },
            ZabAction::AckNewLeader { server } => EnsembleStep::AckNewLeader { server },
            ZabAction::ApplyCommitted { server } => EnsembleStep::ApplyCommitted { server },
            ZabAction::LogOrphan { server } => EnsembleStep::LogOrphan { server },
            ZabAction::Timeout { server } => EnsembleStep::Timeout { server },
            ZabAction::SpuriousTimeout { server } => EnsembleStep::SpuriousTimeout { server },
            ZabAction::Crash { server } => EnsembleStep::Crash { server },
            ZabAction::Restart { server } => EnsembleStep::Restart { server },
            ZabAction::Partition { side } => EnsembleStep::Partition { side },
            ZabAction::Heal => EnsembleStep::Heal,
            ZabAction::ClientRequest { .. } => return None,
            ZabAction::Notify { .. } | ZabAction::Decide { .. } => {
                unreachable!("an ensemble elects with the oracle")
            }
        })
    }

    /// ZAB's action for this step, but a delivery (whose message is the link's head) and a
    /// reconnection (not ZAB's).
    pub(super) fn zab_action(self) -> Option<ZabAction> {
        Some(match self {
            EnsembleStep::LogProposal { server } => ZabAction::LogProposal { server },
            EnsembleStep::Elect { leader, quorum } => ZabAction::Elect { leader, quorum },
            EnsembleStep::Join { server, leader } => ZabAction::Join { server, leader },
            EnsembleStep::LogSynced { server } => ZabAction::LogSynced { server },
            EnsembleStep::AckNewLeader { server } => ZabAction::AckNewLeader { server },
            EnsembleStep::ApplyCommitted { server } => ZabAction::ApplyCommitted { server },
            EnsembleStep::LogOrphan { server } => ZabAction::LogOrphan { server },
            EnsembleStep::Timeout { server } => ZabAction::Timeout { server },
            EnsembleStep::SpuriousTimeout { server } => ZabAction::SpuriousTimeout { server },
            EnsembleStep::Crash { server } => ZabAction::Crash { server },
            EnsembleStep::Restart { server } => ZabAction::Restart { server },
            EnsembleStep::Partition { side } => ZabAction::Partition { side },
            EnsembleStep::Heal => ZabAction::Heal,
            EnsembleStep::Deliver { .. } | EnsembleStep::Reconnect { .. } => return None,
        })
    }

    /// The `[faults]` budget the step draws on, if it is a fault.
    pub fn fault_kind(self) -> Option<&'static str> {
        match self {
            EnsembleStep::Crash { .. } => Some("crashes"),
            EnsembleStep::Partition { .. } => Some("partitions"),
            EnsembleStep::SpuriousTimeout { .. } => Some("timeouts"),
            _ => None,
        }
    }
}

impl fmt::Display for EnsembleStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnsembleStep::Deliver { from, to } => write!(f, "S{from} → S{to} delivers"),
            EnsembleStep::LogProposal { server } => {
                write!(f, "S{server} logs its oldest queued proposal")
            }
            EnsembleStep::Reconnect { client, server } => {
                write!(f, "C{client} reconnects to S{server}")
            }
            step => step.zab_action().expect("one of ZAB's actions").fmt(f),
        }
    }
}

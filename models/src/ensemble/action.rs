//! The ensemble's own steps in a lock world: what ZAB's servers do between the clients' steps.

use std::fmt;

use crate::zab::Sid;

/// One step of the servers of an ensemble. A delivery names only its link: the message is the
/// head of that link (links are FIFO), so a lock world's actions stay small; narratives print the
/// message from the state.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum EnsembleStep {
    /// `to` takes the oldest message on ZAB's link from `from`: a ZAB message, or a client write
    /// a follower forwarded to its leader.
    Deliver { from: Sid, to: Sid },
    /// A server's SyncRequestProcessor writes its oldest queued proposal and acknowledges it
    /// (ZAB's `LogProposal`): the leader its own, counting its own ACK; a follower of zk-4712 one
    /// it received.
    LogProposal { server: Sid },
}

impl fmt::Display for EnsembleStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnsembleStep::Deliver { from, to } => write!(f, "S{from} → S{to} delivers"),
            EnsembleStep::LogProposal { server } => {
                write!(f, "S{server} logs its oldest queued proposal")
            }
        }
    }
}

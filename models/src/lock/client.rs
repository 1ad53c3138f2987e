//! A lock client's local state and the reactions every recipe shares: session expiry, a new
//! session after expiry, and the end of a release.

use crate::pack::Word;
use crate::zookeeper::{Seq, Zxid};

/// Where a client is in its recipe. The waiting phases name the reply the client waits for.
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
pub enum Phase {
    /// Not yet started this acquisition: the create has not been sent.
    #[default]
    Init,
    /// Waiting for a new session (only with `retry_after_expiry`).
    WaitSession,
    WaitCreated,
    WaitChildren,
    /// Waiting for the `exists` reply.
    WaitStat,
    /// Waiting for a watch to fire.
    WaitWatch,
    /// Holds the lock: in the critical section.
    InCs,
    /// Fenced recipe: holds the lock and waits for the resource to answer its write.
    WaitWrite,
    /// Released; waiting for the delete reply.
    WaitDeleted,
    /// Every acquisition done.
    Done,
    /// Gave up because its session expired.
    Abandoned,
    /// Curator: after a `ConnectionLoss` on its create, waiting for the children list in which it
    /// looks for the node carrying its protection id (its create may have been applied).
    WaitLookup,
    /// Curator: waiting for the `getData` reply on its predecessor.
    WaitData,
    /// Its process died (the `client_crashes` fault): it takes no step and reads nothing again,
    /// and believes nothing; its session lives on at the servers until the leader expires it.
    Crashed,
    /// Curator: held the lock and read `Disconnected` (SUSPENDED): it does not act as the holder
    /// until the library reconnects with its session (`Reconnected`) and it has verified its
    /// node; its node and its place in the queue stay.
    Suspended,
    /// Curator with `sync-before-lookup`: after a `ConnectionLoss` on its create, waiting for
    /// the answer to the `sync` it sends before it looks for its node.
    WaitSync,
}

impl Phase {
    /// Waiting for the reply to a request of the recipe's own (not a session's handshake): a
    /// broken connection fails that request with `ConnectionLoss`.
    pub fn awaits_reply(self) -> bool {
        matches!(
            self,
            Phase::WaitCreated
                | Phase::WaitSync
                | Phase::WaitLookup
                | Phase::WaitChildren
                | Phase::WaitStat
                | Phase::WaitData
                | Phase::WaitDeleted
        )
    }

    /// Every phase, in declaration order (a phase's index is its number in a packed client).
    const ALL: [Phase; 16] = [
        Phase::Init,
        Phase::WaitSession,
        Phase::WaitCreated,
        Phase::WaitChildren,
        Phase::WaitStat,
        Phase::WaitWatch,
        Phase::InCs,
        Phase::WaitWrite,
        Phase::WaitDeleted,
        Phase::Done,
        Phase::Abandoned,
        Phase::WaitLookup,
        Phase::WaitData,
        Phase::Crashed,
        Phase::Suspended,
        Phase::WaitSync,
    ];

    /// Inside a protected create call: the create, or the lookup for its node (and the sync
    /// before it) after a `ConnectionLoss`. A node carrying its protection id may exist that the
    /// client does not know the name of yet.
    #[inline]
    pub fn in_create_call(self) -> bool {
        matches!(
            self,
            Phase::WaitCreated | Phase::WaitSync | Phase::WaitLookup
        )
    }

    /// The client believes it holds the lock (docs/properties.md `believes_holds`).
    #[inline]
    pub fn holds_lock(self) -> bool {
        matches!(self, Phase::InCs | Phase::WaitWrite)
    }

    /// Done with the lock for good: every acquisition made, given up, or dead.
    #[inline]
    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Done | Phase::Abandoned | Phase::Crashed)
    }

    /// Whether the client reads its ZooKeeper channel in this phase. A client in `Init` has sent
    /// nothing yet; a fenced client in `WaitWrite` is blocked on the resource.
    #[inline]
    pub fn reads_zookeeper(self) -> bool {
        !matches!(
            self,
            Phase::Init | Phase::WaitWrite | Phase::Done | Phase::Abandoned | Phase::Crashed
        )
    }

    /// Whether the client's watcher hears the library's `Disconnected` and `Reconnected` in this
    /// phase: in every phase of a client that has not finished or died, as ZooKeeper's event
    /// thread delivers them whatever the application waits for.
    #[inline]
    pub fn hears_connection_state(self) -> bool {
        !matches!(self, Phase::Done | Phase::Abandoned | Phase::Crashed)
    }
}

/// A client's own variables. It does not remember its predecessor: the `exists` request carries
/// it, as in the benchmark workload.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Client {
    pub phase: Phase,
    /// Its lock node's sequence number, once created.
    pub seq: Option<Seq>,
    /// Fenced recipe: its lock node's `czxid`, sent with every write (0 otherwise).
    pub token: Zxid,
    /// Which acquisition (from 0) it is on.
    pub round: u8,
    /// Paused by the pause fault: takes no step until resumed.
    pub paused: bool,
    /// Curator: the predecessor it reads with `getData` and watches, so that a retry after
    /// `ConnectionLoss` repeats the same read (the other recipes list again instead; always `None`).
    pub predecessor: Option<Seq>,
}

impl Client {
    pub fn new() -> Self {
        Client {
            phase: Phase::Init,
            seq: None,
            token: 0,
            round: 0,
            paused: false,
            predecessor: None,
        }
    }

    /// Forget the lock node: the acquisition ended (released or expired).
    pub(crate) fn forget_node(&mut self) {
        self.seq = None;
        self.token = 0;
        self.predecessor = None;
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

/// One word per client instead of one per field: fingerprinting a state hashes every client of
/// every successor, and a hasher mixes once per write; packed states store the word. The packing
/// is injective (each field has its own bits), so equal clients hash equally and the fingerprint
/// tells as much apart as the derived `Hash` did.
impl Word for Client {
    fn word(self) -> u64 {
        let seq = self.seq.map_or(0u64, |seq| u64::from(seq) + 1);
        let predecessor = self.predecessor.map_or(0u64, |seq| u64::from(seq) + 1);
        self.phase as u64
            | seq << 8
            | u64::from(self.token) << 24
            | u64::from(self.round) << 40
            | u64::from(self.paused) << 48
            | predecessor << 49
    }

    fn from_word(word: u64) -> Self {
        Client {
            phase: Phase::ALL[(word & 0xff) as usize],
            seq: match word >> 8 & 0xffff {
                0 => None,
                seq => Some((seq - 1) as Seq),
            },
            token: (word >> 24) as Zxid,
            round: (word >> 40) as u8,
            paused: word >> 48 & 1 != 0,
            predecessor: match word >> 49 {
                0 => None,
                seq => Some((seq - 1) as Seq),
            },
        }
    }
}

crate::pack::hash_as_word!(Client);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_listed_in_declaration_order() {
        for (index, phase) in Phase::ALL.into_iter().enumerate() {
            assert_eq!(phase as usize, index);
        }
    }

    #[test]
    fn clients_read_back_from_their_word() {
        let client = Client {
            phase: Phase::Abandoned,
            seq: Some(31),
            token: u16::MAX,
            round: 255,
            paused: true,
            predecessor: Some(31),
        };
        for client in [Client::new(), client] {
            assert_eq!(Client::from_word(client.word()), client);
        }
    }
}

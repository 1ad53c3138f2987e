//! The global state of a lock world: clients, server, resource, network, faults used.

use super::client::Client;
use super::resource::Resource;
use crate::actor::Group;
use crate::zookeeper::{ClientId, Path, Reply, Request, Server, Zxid, MAX_CLIENTS};
use crate::Slots;

/// The most duplications one execution may make (the `message_duplication` budget). Each adds
/// one message to a channel, so the channel capacities below leave room for them.
pub const MAX_DUPLICATIONS: u8 = 2;
/// Requests in flight from one client: one outstanding request, a stale one when a client that
/// retries after expiry opens a new session before the server dropped the old request, and
/// duplicates.
pub const REQUESTS_IN_FLIGHT: usize = 2 + MAX_DUPLICATIONS as usize;
/// Replies and notifications in flight to one client: a reply, a watch event, `SessionExpired`,
/// one spare, and duplicated notifications.
pub const REPLIES_IN_FLIGHT: usize = 4 + MAX_DUPLICATIONS as usize;

/// A request on its way to the server; `copy` marks a duplicate made by the network.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Outgoing {
    pub request: Request,
    pub copy: bool,
}

/// One word per request in flight (see `Request::word`): the copy mark above the request's bits.
impl std::hash::Hash for Outgoing {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.request.word() | u64::from(self.copy) << 15);
    }
}

/// The channels between one client and the server and resource: FIFO unless the scenario
/// allows reordering.
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
pub struct Links {
    pub to_server: Slots<Outgoing, REQUESTS_IN_FLIGHT>,
    pub from_server: Slots<Reply, REPLIES_IN_FLIGHT>,
    /// A write (its token) on its way to the resource.
    pub to_resource: Option<Zxid>,
    /// The resource's answer: accepted or rejected.
    pub from_resource: Option<bool>,
}

impl Links {
    pub(crate) fn send_request(&mut self, request: Request) {
        let overflow = self.to_server.try_push(Outgoing {
            request,
            copy: false,
        });
        assert!(
            overflow.is_none(),
            "a client has at most two requests in flight"
        );
    }

    pub(crate) fn send_reply(&mut self, reply: Reply) {
        let overflow = self.from_server.try_push(reply);
        assert!(
            overflow.is_none(),
            "a client has at most four replies in flight"
        );
    }

    pub fn is_empty(&self) -> bool {
        self.to_server.is_empty()
            && self.from_server.is_empty()
            && self.to_resource.is_none()
            && self.from_resource.is_none()
    }
}

/// How much of each fault budget this execution has used.
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
pub struct FaultsUsed {
    pub session_expiries: u8,
    pub client_pauses: u8,
    pub message_loss: u8,
    pub message_duplication: u8,
    pub partitions: u8,
    pub crashes: u8,
}

/// One global state. Every collection is fixed-size and kept in a canonical order, so the derived
/// `Hash` and `Eq` identify exactly the states a step or a property can tell apart.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct LockState {
    pub clients: Slots<Client, MAX_CLIENTS>,
    pub server: Server,
    /// The fenced resource (unused, at its default, for the other recipes).
    pub resource: Resource,
    /// Channels, indexed like `clients`.
    pub links: Slots<Links, MAX_CLIENTS>,
    pub faults: FaultsUsed,
    /// The actors cut off from the server by a partition (empty: no partition).
    pub cut: Group,
    /// The server has crashed and not yet restarted.
    pub server_down: bool,
    /// Ghost for `no_herd`: some znode deletion woke more than one waiting client.
    pub herd_seen: bool,
}

impl LockState {
    /// Whether messages between `a` and `b` get through: they are on the same side of the
    /// partition, if there is one.
    pub fn connected(&self, a: crate::ActorId, b: crate::ActorId) -> bool {
        self.cut.contains(a) == self.cut.contains(b)
    }

    /// How many clients believe they hold the lock.
    pub fn holders(&self) -> usize {
        self.clients.iter().filter(|c| c.phase.holds_lock()).count()
    }

    /// Znodes owned by a live session whose client neither holds their name nor has it in flight
    /// (a `Created` reply not yet read): created by an attempt the client lost track of.
    pub fn orphan_nodes(&self) -> usize {
        let mut orphans = 0;
        for (c, (client, links)) in self.clients.iter().zip(&self.links).enumerate() {
            let c = c as ClientId;
            if !self.server.is_live(c) {
                continue;
            }
            let announced = |path: Path| {
                links
                    .from_server
                    .iter()
                    .any(|r| matches!(r, Reply::Created { path: p, .. } if *p == path))
            };
            orphans += self
                .server
                .children_owned_by(c)
                .filter(|&seq| client.seq != Some(seq) && !announced(Path::Child(seq)))
                .count();
            // The naive lock's node is known to its owner while it holds or releases the lock.
            let owns_lock_node = self
                .server
                .node(Path::Lock)
                .is_some_and(|node| node.owner == Some(c));
            let knows =
                client.phase.holds_lock() || client.phase == super::client::Phase::WaitDeleted;
            if owns_lock_node && !knows && !announced(Path::Lock) {
                orphans += 1;
            }
        }
        orphans
    }

    pub fn all_finished(&self) -> bool {
        self.clients.iter().all(|c| c.phase.is_finished())
    }
}

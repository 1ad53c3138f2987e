//! The global state of a lock world: clients, server, resource, network, faults used.

use std::sync::LazyLock;

use super::client::{Client, Phase};
use super::resource::Resource;
use crate::actor::{Compact, Group};
use crate::pack::{pack_parts, unpack_parts, Pack, PackState, Packer, Unpacker, Word};
use crate::zookeeper::{
    ClientId, Path, Reply, Request, Seq, Server, ZkService, Zxid, MAX_CLIENTS, MAX_SEQ,
};
use crate::Slots;

/// Requests in flight from one client: one outstanding request, and a stale one when a client that
/// retries after expiry opens a new session before the server dropped the old request.
pub const REQUESTS_IN_FLIGHT: usize = 2;
/// Replies and notifications in flight to one client: a reply, a watch event, `SessionExpired`,
/// and on an ensemble a broken connection's `Disconnected` and the reconnection's `Reconnected`.
pub const REPLIES_IN_FLIGHT: usize = 5;

/// The channels between one client and the server and resource: FIFO, as TCP connections are.
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
    pub to_server: Slots<Request, REQUESTS_IN_FLIGHT>,
    pub from_server: Slots<Reply, REPLIES_IN_FLIGHT>,
    /// A write (its token) on its way to the resource.
    pub to_resource: Option<Zxid>,
    /// The resource's answer: accepted or rejected.
    pub from_resource: Option<bool>,
}

impl Links {
    #[inline]
    pub(crate) fn send_request(&mut self, request: Request) {
        let overflow = self.to_server.try_push(request);
        assert!(
            overflow.is_none(),
            "a client has at most two requests in flight"
        );
    }

    #[inline]
    pub(crate) fn send_reply(&mut self, reply: Reply) {
        let overflow = self.from_server.try_push(reply);
        assert!(
            overflow.is_none(),
            "a client has at most five replies in flight"
        );
    }

    #[inline]
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
    pub partitions: u8,
    pub crashes: u8,
}

/// A set of lock node paths a client keeps track of ([`LockState::tracked_nodes`]): a bit per
/// child's sequence number, one for `/lock`, and one for "every child".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tracked(u64);

impl Tracked {
    const LOCK: u64 = 1 << MAX_SEQ;
    const EVERY_CHILD: u64 = 1 << (MAX_SEQ + 1);

    fn bit(path: Path) -> u64 {
        match path {
            Path::Lock => Self::LOCK,
            Path::Child(seq) => 1 << seq,
        }
    }

    fn add(&mut self, path: Path) {
        self.0 |= Self::bit(path);
    }

    /// Whether every node this set covers is covered by `other` too (each bit of this set is
    /// one of `other`'s).
    pub fn within(self, other: Tracked) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the client keeps track of the node at `path`.
    pub fn covers(self, path: Path) -> bool {
        let every = match path {
            Path::Lock => 0,
            Path::Child(_) => Self::EVERY_CHILD,
        };
        self.0 & (Self::bit(path) | every) != 0
    }
}

/// One global state. Every collection is fixed-size and kept in a canonical order, so the derived
/// `Hash` and `Eq` identify exactly the states a step or a property can tell apart. Generic over
/// the ZooKeeper service (see [`ZkService`]); with the single [`Server`], the default, it is
/// plain data, `Copy`, and a transition copies it with one `memcpy`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct LockState<Z = Server> {
    pub clients: Slots<Client, MAX_CLIENTS>,
    /// What serves the clients: one server, or (later) an ensemble.
    pub zk: Z,
    /// The fenced resource (unused, at its default, for the other recipes).
    pub resource: Resource,
    /// Channels, indexed like `clients`.
    pub links: Slots<Links, MAX_CLIENTS>,
    pub faults: FaultsUsed,
    /// The actors cut off from the server by a partition (empty: no partition).
    pub cut: Group,
    /// The partition has outlasted the clients' read timeout: the cut-off clients' connections
    /// were declared lost (see `faults.rs`).
    pub cut_past_read_timeout: bool,
    /// The server has crashed and not yet restarted.
    pub server_down: bool,
    /// Ghost for `no_herd`: some znode deletion woke more than one waiting client.
    pub herd_seen: bool,
}

// The packed layouts below give each count and set a fixed number of bits: the channel header 3
// bits per count, the sessions word 4 bits of count and 2 per session, the flags word 10 bits of
// partition (8 clients, the server, the resource). Widening a bound past them must fail here.
const _: () = assert!(REQUESTS_IN_FLIGHT < 8 && REPLIES_IN_FLIGHT < 8);
const _: () = assert!(MAX_CLIENTS < 16 && 4 + 2 * MAX_CLIENTS <= 64 && MAX_CLIENTS + 2 <= 10);

/// A header word (how many requests and replies are in flight, the resource's answer, whether a
/// write is on its way), then the messages and the write's token: a client's quiet channels take
/// one byte.
impl Links {
    // Always inlined: as a call (four to eight per state packed), the packer's position went
    // through memory at every byte; inlined, it stays in a register (callgrind: 4 % of a search's
    // instructions).
    #[inline(always)]
    fn pack(&self, out: &mut Packer) {
        let answer = match self.from_resource {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        out.put(
            self.to_server.len() as u64
                | (self.from_server.len() as u64) << 3
                | answer << 6
                | u64::from(self.to_resource.is_some()) << 8,
        );
        for &request in &self.to_server {
            out.put(request.word());
        }
        for &reply in &self.from_server {
            out.put(reply.word());
        }
        if let Some(token) = self.to_resource {
            out.put(u64::from(token));
        }
    }

    /// Read back what `pack` wrote into these channels, which are empty: in place, as returning
    /// them by value copied them once more on their way into the state.
    #[inline(always)]
    fn unpack_into(&mut self, input: &mut Unpacker<'_>) {
        debug_assert!(self.is_empty(), "channels are unpacked into empty ones");
        let header = input.take();
        for _ in 0..header & 0x7 {
            self.to_server.push(Request::from_word(input.take()));
        }
        for _ in 0..header >> 3 & 0x7 {
            self.from_server.push(Reply::from_word(input.take()));
        }
        self.from_resource = match header >> 6 & 0x3 {
            0 => None,
            answer => Some(answer == 2),
        };
        if header >> 8 != 0 {
            self.to_resource = Some(input.take() as Zxid);
        }
    }
}

/// Packed by hand, the ensemble's ZAB state field by field (as ZAB's own worlds pack it). Unpacked
/// into a fresh empty state: an ensemble's is small when empty (its collections are a `Vec` and
/// short fixed arrays).
impl PackState for LockState<crate::ensemble::Ensemble> {
    const FINGERPRINT_PACKED: bool = true;

    fn pack_state(&self, out: &mut Vec<u8>) {
        pack_parts(self, out);
    }

    fn unpack_state(bytes: &[u8]) -> Self {
        let mut state = LockState::empty(crate::ensemble::Ensemble::empty());
        unpack_parts(bytes, &mut state);
        state
    }
}

/// What an unpacked state is filled into: a lock state is about 900 bytes, most of them the unused
/// slots of its collections, and building those afresh for every state read back cost more than
/// copying them from here. Its unused slots hold default (empty) values.
static EMPTY: LazyLock<LockState> = LazyLock::new(|| LockState::empty(Server::new(0, false)));

impl<Z> LockState<Z> {
    /// A state with no client, served by `zk`, for a packed state to be read into.
    fn empty(zk: Z) -> Self {
        LockState {
            clients: Slots::new(),
            zk,
            resource: Resource::default(),
            links: Slots::new(),
            faults: FaultsUsed::default(),
            cut: Group::default(),
            cut_past_read_timeout: false,
            server_down: false,
            herd_seen: false,
        }
    }
}

/// Packed by hand (see [`crate::pack`]).
impl PackState for LockState {
    const FINGERPRINT_PACKED: bool = true;

    fn pack_state(&self, out: &mut Vec<u8>) {
        pack_parts(self, out);
    }

    fn unpack_state(bytes: &[u8]) -> Self {
        let mut state = *EMPTY;
        unpack_parts(bytes, &mut state);
        state
    }
}

/// The clients with their channels, the service, then the small fields.
impl<Z: ZkService + Pack> Pack for LockState<Z> {
    #[inline]
    fn pack(&self, out: &mut Packer) {
        assert_eq!(self.clients.len(), self.links.len(), "a channel per client");
        out.put(self.clients.len() as u64);
        for (client, links) in self.clients.iter().zip(&self.links) {
            out.put(client.word());
            links.pack(out);
        }
        self.zk.pack(out);
        let faults = self.faults;
        // The fault counters, a byte each: 0 in most states.
        out.put(u64::from_le_bytes([
            faults.session_expiries,
            faults.client_pauses,
            faults.message_loss,
            faults.partitions,
            faults.crashes,
            0,
            0,
            0,
        ]));
        let latest_grant = self
            .resource
            .latest_grant
            .map_or(0, |grant| u64::from(grant) + 1);
        out.put(
            u64::from(self.server_down)
                | u64::from(self.herd_seen) << 1
                | u64::from(self.resource.accepted_earlier_grant) << 2
                | u64::from(self.cut.to_compact()) << 3
                | u64::from(self.cut_past_read_timeout) << 13
                | u64::from(self.resource.highest) << 16
                | latest_grant << 32,
        );
    }

    #[inline]
    fn unpack_into(&mut self, input: &mut Unpacker<'_>) {
        debug_assert!(
            self.clients.is_empty() && self.links.is_empty(),
            "a state is unpacked into an empty one"
        );
        // The template's unused channels are empty: taking them into use reads straight into them.
        self.links.set_len(input.take() as usize);
        for links in &mut self.links {
            self.clients.push(Client::from_word(input.take()));
            links.unpack_into(input);
        }
        self.zk.unpack_into(input);
        let [session_expiries, client_pauses, message_loss, partitions, crashes, _, _, _] =
            input.take().to_le_bytes();
        self.faults = FaultsUsed {
            session_expiries,
            client_pauses,
            message_loss,
            partitions,
            crashes,
        };
        let flags = input.take();
        self.resource = Resource {
            highest: (flags >> 16) as Zxid,
            latest_grant: match flags >> 32 & 0xffff {
                0 => None,
                grant => Some((grant - 1) as Seq),
            },
            accepted_earlier_grant: flags & 4 != 0,
        };
        self.cut =
            Group::from_compact((flags >> 3) as u16 & 0x3ff).expect("every bit pattern is a group");
        self.cut_past_read_timeout = flags >> 13 & 1 != 0;
        self.server_down = flags & 1 != 0;
        self.herd_seen = flags & 2 != 0;
    }
}

impl<Z: ZkService> LockState<Z> {
    /// Whether messages between `a` and `b` get through: they are on the same side of the
    /// partition, if there is one.
    pub fn connected(&self, a: crate::ActorId, b: crate::ActorId) -> bool {
        self.cut.contains(a) == self.cut.contains(b)
    }

    /// How many clients believe they hold the lock.
    pub fn holders(&self) -> usize {
        self.clients.iter().filter(|c| c.phase.holds_lock()).count()
    }

    /// Znodes owned by an ended session (an ensemble's leader that let a closing session's create
    /// through, ZOOKEEPER-1208: one server deletes a session's nodes when the session ends, so it
    /// never has one), and znodes owned by a live session whose client does not keep track of
    /// them ([`LockState::tracked_nodes`]), whose create is not waiting to be answered by an
    /// ensemble's server, and whose removal is not under way without the client (a leader has
    /// prepared it, or the client was told its session ended: [`ZkService::removal_under_way`]):
    /// created by an attempt the client lost track of.
    ///
    /// `no_orphan_nodes` asks this of every new state, so it walks the znodes once rather than
    /// once per client.
    pub fn orphan_nodes(&self, protected_names: bool) -> usize {
        // The nodes a client knows of first: most owned nodes are, and the channel is not read.
        let lost = |c: ClientId, path: Path| {
            !self.zk.is_live(c)
                || !(self.known_nodes(c, protected_names).covers(path)
                    || self.announced(c).any(|p| p == path)
                    || self.zk.create_answer_pending(c, path)
                    || self.zk.removal_under_way(c, path))
        };
        let tree = self.zk.agreed_tree();
        let mut orphans = 0;
        for &(seq, node) in tree.child_nodes() {
            if let Some(c) = node.owner {
                orphans += usize::from(lost(c, Path::Child(seq)));
            }
        }
        if let Some(c) = tree.node(Path::Lock).and_then(|node| node.owner) {
            orphans += usize::from(lost(c, Path::Lock));
        }
        orphans
    }

    /// The lock nodes client `c` keeps track of: those it knows of
    /// ([`LockState::known_nodes`]) and those a `Created` reply on its way to it names.
    /// `no_orphan_nodes` reads a client only through this set, so a client's own step that adds
    /// nothing to it cannot repair that property (a reduced search asks, `lock::reduction`).
    pub fn tracked_nodes(&self, c: ClientId, protected_names: bool) -> Tracked {
        let mut tracked = self.known_nodes(c, protected_names);
        for path in self.announced(c) {
            tracked.add(path);
        }
        tracked
    }

    /// The lock nodes client `c` knows of: the child it holds the name of; `/lock` while it holds
    /// or releases it (the naive recipe's lock node); with `protected_names` (Curator's
    /// protection mode) every child while its create call is under way
    /// ([`Phase::in_create_call`]: it looks for its node by the id in the name before it
    /// creates again); every
    /// node of a crashed client, which go with its session when the leader expires it.
    fn known_nodes(&self, c: ClientId, protected_names: bool) -> Tracked {
        let client = &self.clients[usize::from(c)];
        let mut known = Tracked::default();
        if let Some(seq) = client.seq {
            known.add(Path::Child(seq));
        }
        if client.phase.holds_lock() || client.phase == Phase::WaitDeleted {
            known.add(Path::Lock);
        }
        if protected_names && client.phase.in_create_call() {
            known.0 |= Tracked::EVERY_CHILD;
        }
        if client.phase == Phase::Crashed {
            known.0 |= Tracked::EVERY_CHILD;
            known.add(Path::Lock);
        }
        known
    }

    /// The nodes the `Created` replies on their way to client `c` name.
    fn announced(&self, c: ClientId) -> impl Iterator<Item = Path> + '_ {
        self.links[usize::from(c)]
            .from_server
            .iter()
            .filter_map(|reply| match reply {
                Reply::Created { path, .. } => Some(*path),
                _ => None,
            })
    }

    /// The clients that have crashed: each dies at most once, so this is the `client_crashes`
    /// used.
    pub fn crashed_clients(&self) -> u8 {
        self.clients
            .iter()
            .filter(|c| c.phase == Phase::Crashed)
            .count() as u8
    }

    pub fn all_finished(&self) -> bool {
        self.clients.iter().all(|c| c.phase.is_finished())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::lock::test_worlds::{reachable, varied_worlds};
    use crate::lock::LockModel;
    use crate::pack::round_trip;

    /// Goal: the single-server world did not grow when it became generic over its service: its
    /// state is still plain data (`Copy`, one `memcpy` per transition) of the size it had with a
    /// `server: Server` field (684 bytes on 64-bit targets, 700 since the Curator recipe gave each
    /// client the predecessor it watches, 764 since the `Reconnected` event gave each client a
    /// fifth reply slot). Method: the bound and the size.
    #[test]
    fn the_single_server_state_stays_copy_and_its_size() {
        fn plain_data<T: Copy>() {}
        plain_data::<LockState>();
        assert_eq!(std::mem::size_of::<LockState>(), 764);
    }

    /// Packing is what a search stores and fingerprints: every reachable state must read back
    /// equal, and two different states must never pack to the same bytes.
    #[test]
    fn reachable_states_pack_apart_and_read_back_equal() {
        for config in varied_worlds() {
            let model = LockModel::new(config).expect("valid world");
            let mut packed: HashMap<Vec<u8>, LockState> = HashMap::new();
            for state in reachable(&model, 20_000) {
                assert_eq!(round_trip(&state), state, "{config:?}");
                let mut bytes = Vec::new();
                state.pack_state(&mut bytes);
                if let Some(other) = packed.insert(bytes, state) {
                    assert_eq!(other, state, "two states pack alike in {config:?}");
                }
            }
            assert!(packed.len() > 1_000, "{config:?} reached {}", packed.len());
        }
    }
}

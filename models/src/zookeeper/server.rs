//! The server: applies one request at a time and says what it sends back.

use arrayvec::ArrayVec;

use crate::pack::{Pack, Packer, Unpacker, Word};
use crate::Slots;

use super::txn::LockTxn;
use super::types::*;

/// Most watches registered at once: every client may hold a data and a child watch.
const MAX_WATCHES: usize = 2 * MAX_CLIENTS;
/// Most children of `/lock` at once: one per session, plus room for orphans of dead attempts.
const MAX_CHILDREN: usize = 2 * MAX_CLIENTS;

/// Server options that change which states are told apart, fixed per world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZkConfig {
    /// Keep the transaction counter and each znode's `czxid`: needed only when a client reads
    /// `czxid` (the fenced recipe's token).
    pub record_zxids: bool,
    /// Lock node names carry their creator's protection id (Curator's `withProtection()`,
    /// `_c_<id>-lock-<seq>`), so a `getChildren` reply tells the requester which child is its own
    /// (`Reply::Children::own`). On this one atomic server the id of an ephemeral node is its
    /// owner's client slot: see `lock::curator` for why that stands for Curator's per-attempt id.
    pub protected_names: bool,
}

/// A znode's stat fields that the recipes can observe.
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
pub struct Znode {
    pub czxid: Zxid,
    /// `ephemeralOwner`: the session's client slot, `None` for a persistent node.
    pub owner: Option<ClientId>,
}

/// One word per znode (see `Request::word`): the owner (0 for none, else its slot plus one) in the
/// low 9 bits (room for any `ClientId` plus one), `czxid` above. Most worlds keep no `czxid` (it
/// stays 0), so an ephemeral znode packs into one byte.
impl Word for Znode {
    fn word(self) -> u64 {
        let owner = self.owner.map_or(0u64, |c| u64::from(c) + 1);
        owner | u64::from(self.czxid) << 9
    }

    fn from_word(word: u64) -> Self {
        Znode {
            czxid: (word >> 9) as Zxid,
            owner: match word & 0x1ff {
                0 => None,
                owner => Some((owner - 1) as ClientId),
            },
        }
    }
}

crate::pack::hash_as_word!(Znode);

/// Packed field by field; a child is its sequence number and its znode's word, and `/lock` is 0
/// when absent, else its word plus one.
impl Pack for Server {
    #[inline]
    fn pack(&self, out: &mut Packer) {
        out.put(self.lock_node.map_or(0, |node| node.word() + 1));
        out.put(u64::from(self.next_seq));
        out.put(self.children.len() as u64);
        for &(seq, node) in &self.children {
            out.put(u64::from(seq));
            out.put(node.word());
        }
        // The sessions in one word: their number, then two bits each (0 for a live one).
        let sessions = self
            .sessions
            .iter()
            .enumerate()
            .fold(0u64, |word, (c, &session)| {
                word | session.word() << (4 + 2 * c)
            });
        out.put(self.sessions.len() as u64 | sessions);
        out.put_words(&self.watches);
        out.put(u64::from(self.last_zxid));
    }

    #[inline]
    fn unpack_into(&mut self, input: &mut Unpacker<'_>) {
        debug_assert!(
            self.children.is_empty() && self.sessions.is_empty() && self.watches.is_empty(),
            "a server is unpacked into an empty one"
        );
        self.lock_node = match input.take() {
            0 => None,
            word => Some(Znode::from_word(word - 1)),
        };
        self.next_seq = input.take_u8();
        for _ in 0..input.take() {
            let seq = input.take_u8();
            self.children.push((seq, Znode::from_word(input.take())));
        }
        let word = input.take();
        self.sessions
            .extend((0..word & 0xf).map(|c| SessionState::from_word(word >> (4 + 2 * c) & 0x3)));
        input.take_words(&mut self.watches);
        self.last_zxid = input.take() as Zxid;
    }
}

/// The messages one server step sends, in the order it sends them, plus what `no_herd` needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    pub messages: ArrayVec<(ClientId, Reply), { 2 * MAX_CLIENTS + 2 }>,
    /// The most sessions, other than the one that caused it, that a single znode deletion in this
    /// step notified.
    pub woken_by_one_deletion: u8,
    /// The clients whose connection the step broke, one bit each: their ensemble server crashed
    /// or left broadcast. One server breaks connections only by its crash, a world-level step.
    pub lost_connections: u8,
}

impl Outbox {
    pub(crate) fn send(&mut self, client: ClientId, reply: Reply) {
        self.messages.push((client, reply));
    }
}

/// What became of a served request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Served {
    /// The request was applied (and answered, possibly with an error reply).
    Applied,
    /// The session had ended: the request was discarded without a reply.
    Dropped,
}

/// The state of the single ZooKeeper server. Collections are kept sorted, so derived `Hash` and
/// `Eq` see one canonical form per state.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Server {
    /// `/lock` itself, if it exists.
    lock_node: Option<Znode>,
    /// `/lock`'s child-create counter (`cversion`): the next sequence number.
    next_seq: Seq,
    /// Children of `/lock`, sorted by sequence number.
    children: Slots<(Seq, Znode), MAX_CHILDREN>,
    /// One session per client slot.
    sessions: Slots<SessionState, MAX_CLIENTS>,
    /// Registered one-shot watches, sorted.
    watches: Slots<Watch, MAX_WATCHES>,
    /// The last transaction id (stays 0 unless `record_zxids`).
    last_zxid: Zxid,
}

impl Server {
    /// A server with a live session per client; `/lock` exists as a persistent node when the
    /// recipe uses it as a parent.
    pub fn new(clients: usize, lock_parent: bool) -> Self {
        assert!(clients <= MAX_CLIENTS, "at most {MAX_CLIENTS} clients");
        Server {
            lock_node: lock_parent.then_some(Znode {
                czxid: 0,
                owner: None,
            }),
            next_seq: 0,
            children: Slots::new(),
            sessions: (0..clients).map(|_| SessionState::Live).collect(),
            watches: Slots::new(),
            last_zxid: 0,
        }
    }

    #[inline]
    pub fn session(&self, client: ClientId) -> SessionState {
        self.sessions[usize::from(client)]
    }

    /// The same server before any client has opened a session (an ensemble whose clients open
    /// theirs with a createSession transaction).
    pub fn without_sessions(mut self) -> Self {
        self.sessions.as_mut_slice().fill(SessionState::Unopened);
        self
    }

    #[inline]
    pub fn is_live(&self, client: ClientId) -> bool {
        self.session(client) == SessionState::Live
    }

    #[inline]
    pub fn node(&self, path: Path) -> Option<Znode> {
        match path {
            Path::Lock => self.lock_node,
            Path::Child(seq) => self
                .children
                .iter()
                .find(|(s, _)| *s == seq)
                .map(|(_, n)| *n),
        }
    }

    /// The sequence numbers of `/lock`'s children.
    #[inline]
    pub fn children(&self) -> SeqSet {
        self.children.iter().map(|(seq, _)| *seq).collect()
    }

    /// `/lock`'s children with their znodes, by sequence number.
    #[inline]
    pub fn child_nodes(&self) -> &[(Seq, Znode)] {
        &self.children
    }

    /// The children of `/lock` owned by `client`'s session.
    pub fn children_owned_by(&self, client: ClientId) -> impl Iterator<Item = Seq> + '_ {
        self.children
            .iter()
            .filter(move |(_, node)| node.owner == Some(client))
            .map(|(seq, _)| *seq)
    }

    pub fn watches(&self) -> &[Watch] {
        &self.watches
    }

    /// Serve the head request of `client`'s channel: a read is answered from the tree; a write is
    /// prepared, then applied at once (one server is its own leader and its only replica).
    pub fn serve(
        &mut self,
        config: ZkConfig,
        client: ClientId,
        request: Request,
        out: &mut Outbox,
    ) -> Served {
        if request != Request::CreateSession && !self.is_live(client) {
            return Served::Dropped;
        }
        if let Request::Sync { .. } = request {
            // One server is never behind itself: the sync is answered at once.
            out.send(client, Reply::Synced);
        } else if request.is_read() {
            let reply = self.read(config, client, request);
            out.send(client, reply);
        } else {
            match self.prepare(client, request) {
                Ok(txn) => self.apply(config, txn, out),
                Err(reply) => out.send(client, reply),
            }
        }
        Served::Applied
    }

    /// The session tracker expires `client`'s live session: its watches go, its ephemeral znodes
    /// are deleted (firing other sessions' watches), and `SessionExpired` is queued to it.
    pub fn expire(&mut self, config: ZkConfig, client: ClientId, out: &mut Outbox) {
        assert!(self.is_live(client), "only a live session can expire");
        self.apply(config, LockTxn::Expire { client }, out);
    }

    /// Answer a read of a live session, registering its watch if it asks for one and the node
    /// exists (or, for `exists`, may be created again).
    pub(crate) fn read(&mut self, config: ZkConfig, client: ClientId, request: Request) -> Reply {
        match request {
            Request::GetChildren { path, watch } => match self.node(path) {
                Some(_) if path == Path::Lock => {
                    if watch {
                        self.add_watch(Watch {
                            client,
                            path,
                            kind: WatchKind::Child,
                        });
                    }
                    Reply::Children {
                        children: self.children(),
                        own: if config.protected_names {
                            self.children_owned_by(client).next()
                        } else {
                            None
                        },
                    }
                }
                // Only `/lock` has children in this namespace.
                Some(_) => Reply::Children {
                    children: SeqSet::default(),
                    own: None,
                },
                None => Reply::NoNode,
            },
            Request::Exists { path, watch } => {
                let exists = self.node(path).is_some();
                // ZooKeeper registers the watch before it looks the node up
                // (`DataTree.statNode`), so a missing node gets one too, which its creation fires.
                // The model keeps it only where a create can come: on `/lock`, the naive recipe's
                // lock node, created again after every release. A missing child's name is never
                // created again (sequence numbers are not reused), so its watch could never fire:
                // keeping it would only tell apart states that behave alike, and leaving it out
                // keeps the benchmark workload's reading (docs/benchmark.md: "no watch").
                if watch && (exists || path.may_be_created_again()) {
                    self.add_watch(Watch {
                        client,
                        path,
                        kind: WatchKind::Data,
                    });
                }
                Reply::Stat { exists }
            }
            Request::GetData { path, watch } => match self.node(path) {
                Some(node) => {
                    if watch {
                        self.add_watch(Watch {
                            client,
                            path,
                            kind: WatchKind::Data,
                        });
                    }
                    Reply::Data { czxid: node.czxid }
                }
                None => Reply::NoNode,
            },
            Request::CreateSession
            | Request::Create { .. }
            | Request::Delete { .. }
            | Request::Sync { .. } => {
                unreachable!("{request:?} is not a read")
            }
        }
    }

    /// Turn `client`'s write into the transaction it makes, decided against this tree, or into
    /// the error it is answered with (no transaction): ZooKeeper's `PrepRequestProcessor`. Here
    /// a sequential create gets its number and a delete finds its node or not; nothing changes
    /// until [`Server::apply`], so an ensemble's leader can prepare against its view and every
    /// replica apply the same transaction later. The session must be live, except for
    /// `createSession`, which opens an ended one.
    pub fn prepare(&self, client: ClientId, request: Request) -> Result<LockTxn, Reply> {
        match request {
            Request::CreateSession => {
                assert!(
                    !self.is_live(client),
                    "C{client} opens a session while its session is live"
                );
                Ok(LockTxn::CreateSession { client })
            }
            Request::Create { path, mode } => {
                let path = if mode.is_sequential() {
                    assert_eq!(path, Path::Lock, "sequential creates happen under /lock");
                    if self.lock_node.is_none() {
                        return Err(Reply::NoNode);
                    }
                    let seq = self.next_seq;
                    assert!(
                        usize::from(seq) < MAX_SEQ,
                        "sequence counter past {MAX_SEQ}"
                    );
                    Path::Child(seq)
                } else if self.node(path).is_some() {
                    return Err(Reply::NodeExists);
                } else {
                    path
                };
                Ok(LockTxn::Create {
                    creator: client,
                    path,
                    owner: mode.is_ephemeral().then_some(client),
                })
            }
            Request::Delete {
                path,
                close_session,
            } => {
                let found = self.node(path).is_some();
                if !found && !close_session {
                    return Err(Reply::NoNode);
                }
                Ok(LockTxn::Delete {
                    client,
                    path: found.then_some(path),
                    close_session,
                })
            }
            Request::GetChildren { .. }
            | Request::Exists { .. }
            | Request::GetData { .. }
            | Request::Sync { .. } => {
                unreachable!("{request:?} makes no transaction")
            }
        }
    }

    /// Apply a prepared transaction: change the tree and the sessions, fire the watches it
    /// triggers and queue the replies, in the order ZooKeeper's `FinalRequestProcessor` sends
    /// them (watch events before the reply of the request that caused them).
    pub fn apply(&mut self, config: ZkConfig, txn: LockTxn, out: &mut Outbox) {
        match txn {
            LockTxn::CreateSession { client } => {
                self.sessions[usize::from(client)] = SessionState::Live;
                self.next_zxid(config);
                out.send(client, Reply::SessionCreated);
            }
            LockTxn::Create {
                creator,
                path,
                owner,
            } => {
                let czxid = self.next_zxid(config);
                let node = Znode { czxid, owner };
                match path {
                    Path::Lock => self.lock_node = Some(node),
                    Path::Child(seq) => {
                        // Child creates, sequential or not, consume the parent's counter
                        // (ZOOKEEPER-1046).
                        self.next_seq = seq.max(self.next_seq) + 1;
                        let at = self.children.partition_point(|(s, _)| *s < seq);
                        self.children.insert(at, (seq, node));
                    }
                }
                self.fire(path, EventKind::NodeCreated, None, out);
                out.send(creator, Reply::Created { path, czxid });
            }
            LockTxn::Delete {
                client,
                path,
                close_session,
            } => {
                let reply = match path {
                    Some(path) => {
                        self.next_zxid(config);
                        self.delete_node(path, client, out);
                        Reply::Deleted
                    }
                    None => Reply::NoNode,
                };
                out.send(client, reply);
                if close_session {
                    self.end_session(config, client, SessionState::Closed, out);
                }
            }
            LockTxn::Expire { client } => {
                self.end_session(config, client, SessionState::Expired, out);
                out.send(client, Reply::SessionExpired);
            }
            LockTxn::Error { client, reply } => {
                self.next_zxid(config);
                out.send(client, reply);
            }
        }
    }

    /// Remove `path` and fire the watches on it and on its parent. `cause` is the session whose
    /// request or expiry deleted it; it does not count as a woken waiter.
    fn delete_node(&mut self, path: Path, cause: ClientId, out: &mut Outbox) {
        match path {
            Path::Lock => self.lock_node = None,
            Path::Child(seq) => self.children.retain(|(s, _)| *s != seq),
        }
        let woken = self.fire(path, EventKind::NodeDeleted, Some(cause), out);
        out.woken_by_one_deletion = out.woken_by_one_deletion.max(woken);
    }

    /// Fire and clear the watches a change of `path` triggers; returns how many sessions other
    /// than `cause` were notified.
    ///
    /// A session with both a data and a child watch on a deleted node is told once: ZooKeeper
    /// triggers the data watches, then the child watches minus the watchers already told
    /// (`DataTree.deleteNode`), and a session's watches share its one default watcher.
    fn fire(
        &mut self,
        path: Path,
        kind: EventKind,
        cause: Option<ClientId>,
        out: &mut Outbox,
    ) -> u8 {
        let parent = path.parent();
        let mut notified: ArrayVec<ClientId, MAX_WATCHES> = ArrayVec::new();
        let mut told: ArrayVec<(ClientId, Reply), MAX_WATCHES> = ArrayVec::new();
        self.watches.retain(|watch| {
            let event = if watch.path == path {
                // A node's own deletion fires both its data and its child watches.
                match (watch.kind, kind) {
                    (WatchKind::Data, _) | (WatchKind::Child, EventKind::NodeDeleted) => {
                        Some((kind, path))
                    }
                    (WatchKind::Child, _) => None,
                }
            } else if Some(watch.path) == parent && watch.kind == WatchKind::Child {
                Some((EventKind::NodeChildrenChanged, watch.path))
            } else {
                None
            };
            match event {
                Some((kind, path)) => {
                    let event = (watch.client, Reply::Event { kind, path });
                    if !told.contains(&event) {
                        told.push(event);
                        out.send(event.0, event.1);
                    }
                    if Some(watch.client) != cause && !notified.contains(&watch.client) {
                        notified.push(watch.client);
                    }
                    false
                }
                None => true,
            }
        });
        notified.len() as u8
    }

    fn end_session(
        &mut self,
        config: ZkConfig,
        client: ClientId,
        end: SessionState,
        out: &mut Outbox,
    ) {
        self.next_zxid(config);
        self.sessions[usize::from(client)] = end;
        self.watches.retain(|watch| watch.client != client);
        if self
            .lock_node
            .is_some_and(|node| node.owner == Some(client))
        {
            self.delete_node(Path::Lock, client, out);
        }
        let owned: ArrayVec<Seq, MAX_CHILDREN> = self.children_owned_by(client).collect();
        for seq in owned {
            self.delete_node(Path::Child(seq), client, out);
        }
    }

    /// Rewrite every sequence number and zxid the server holds, and set the sequence counter.
    /// The maps must preserve order, so that sorted collections stay sorted.
    pub fn map_values(&mut self, seq: SeqMap, zxid: ZxidMap) {
        if let Some(node) = &mut self.lock_node {
            node.czxid = zxid(node.czxid);
        }
        for (s, node) in &mut self.children {
            *s = seq(*s);
            node.czxid = zxid(node.czxid);
        }
        for watch in &mut self.watches {
            watch.path = watch.path.map_values(seq);
        }
        self.last_zxid = zxid(self.last_zxid);
    }

    /// Rename client slots: slot `old` becomes `new_of[old]` (a permutation), in sessions, owners
    /// and watches, keeping the collections sorted.
    pub fn rename_clients(&mut self, new_of: &[ClientId]) {
        let old_sessions = self.sessions;
        for (old, &session) in old_sessions.iter().enumerate() {
            self.sessions[usize::from(new_of[old])] = session;
        }
        let rename = |owner: &mut Option<ClientId>| {
            *owner = owner.map(|c| new_of[usize::from(c)]);
        };
        if let Some(node) = &mut self.lock_node {
            rename(&mut node.owner);
        }
        for (_, node) in &mut self.children {
            rename(&mut node.owner);
        }
        for watch in &mut self.watches {
            watch.client = new_of[usize::from(watch.client)];
        }
        self.watches.sort_unstable();
    }

    /// The watches `client` has registered, in order.
    pub fn watches_of(&self, client: ClientId) -> impl Iterator<Item = &Watch> + '_ {
        self.watches.iter().filter(move |w| w.client == client)
    }

    /// Set the next sequence number (only to rename: it must stay above every existing one).
    pub fn set_next_seq(&mut self, next: Seq) {
        assert!(
            self.children.iter().all(|(s, _)| *s < next),
            "the counter stays above every child"
        );
        self.next_seq = next;
    }

    /// Replace the registered watches (an ensemble keeps its clients' watches itself and lends a
    /// server the watches of the clients connected to it). `watches` must be sorted.
    pub(crate) fn set_watches(&mut self, watches: impl IntoIterator<Item = Watch>) {
        self.watches = watches.into_iter().collect();
        debug_assert!(
            self.watches.windows(2).all(|w| w[0] < w[1]),
            "watches are kept sorted"
        );
    }

    /// Drop `client`'s watches of `kind` (see [`ZkService::read_answer_lost`]).
    pub fn forget_watches(&mut self, client: ClientId, kind: WatchKind) {
        self.watches
            .retain(|watch| watch.client != client || watch.kind != kind);
    }

    fn add_watch(&mut self, watch: Watch) {
        if let Err(at) = self.watches.binary_search(&watch) {
            self.watches.insert(at, watch);
        }
    }

    /// Allocate the next transaction id, or 0 when zxids are not kept.
    fn next_zxid(&mut self, config: ZkConfig) -> Zxid {
        if config.record_zxids {
            self.last_zxid += 1;
        }
        self.last_zxid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZXIDS: ZkConfig = ZkConfig {
        record_zxids: true,
        protected_names: false,
    };

    fn serve(server: &mut Server, client: ClientId, request: Request) -> Vec<(ClientId, Reply)> {
        let mut out = Outbox::default();
        server.serve(ZXIDS, client, request, &mut out);
        out.messages.to_vec()
    }

    fn create_request() -> Request {
        Request::Create {
            path: Path::Lock,
            mode: CreateMode::EphemeralSequential,
        }
    }

    fn create_seq(server: &mut Server, client: ClientId) -> Vec<(ClientId, Reply)> {
        serve(server, client, create_request())
    }

    #[test]
    fn sequential_creates_number_children_and_record_czxid() {
        let mut server = Server::new(2, true);
        assert_eq!(
            create_seq(&mut server, 0),
            [(
                0,
                Reply::Created {
                    path: Path::Child(0),
                    czxid: 1
                }
            )]
        );
        assert_eq!(
            create_seq(&mut server, 1),
            [(
                1,
                Reply::Created {
                    path: Path::Child(1),
                    czxid: 2
                }
            )]
        );
        assert_eq!(server.children().to_string(), "[0, 1]");
    }

    #[test]
    fn deletes_do_not_reuse_sequence_numbers() {
        let mut server = Server::new(1, true);
        create_seq(&mut server, 0);
        serve(
            &mut server,
            0,
            Request::Delete {
                path: Path::Child(0),
                close_session: false,
            },
        );
        assert_eq!(
            create_seq(&mut server, 0),
            [(
                0,
                Reply::Created {
                    path: Path::Child(1),
                    czxid: 3
                }
            )]
        );
    }

    /// Goal: NodeDeleted reaches a session once however many of its watches the node had
    /// (ZooKeeper tells each watcher once). Method: a data and a child watch on `/lock`, then its
    /// delete.
    #[test]
    fn a_deleted_node_tells_each_watching_session_once() {
        let mut server = Server::new(2, false);
        let create = Request::Create {
            path: Path::Lock,
            mode: CreateMode::Ephemeral,
        };
        serve(&mut server, 0, create);
        for request in [
            Request::Exists {
                path: Path::Lock,
                watch: true,
            },
            Request::GetChildren {
                path: Path::Lock,
                watch: true,
            },
        ] {
            serve(&mut server, 1, request);
        }
        assert_eq!(server.watches_of(1).count(), 2);
        let deleted = serve(
            &mut server,
            0,
            Request::Delete {
                path: Path::Lock,
                close_session: false,
            },
        );
        let event = Reply::Event {
            kind: EventKind::NodeDeleted,
            path: Path::Lock,
        };
        assert_eq!(deleted, [(1, event), (0, Reply::Deleted)]);
        assert_eq!(server.watches_of(1).count(), 0, "both watches fired");
    }

    #[test]
    fn exists_watch_fires_once_on_delete() {
        let mut server = Server::new(2, true);
        create_seq(&mut server, 0);
        assert_eq!(
            serve(
                &mut server,
                1,
                Request::Exists {
                    path: Path::Child(0),
                    watch: true
                }
            ),
            [(1, Reply::Stat { exists: true })]
        );
        let deleted = serve(
            &mut server,
            0,
            Request::Delete {
                path: Path::Child(0),
                close_session: false,
            },
        );
        assert_eq!(
            deleted,
            [
                (
                    1,
                    Reply::Event {
                        kind: EventKind::NodeDeleted,
                        path: Path::Child(0)
                    }
                ),
                (0, Reply::Deleted)
            ]
        );
        assert!(server.watches().is_empty(), "watches are one-shot");
    }

    /// Goal: a missing child, whose name is never created again, gets no watch from `exists`.
    #[test]
    fn exists_on_a_missing_child_leaves_no_watch() {
        let mut server = Server::new(1, true);
        assert_eq!(
            serve(
                &mut server,
                0,
                Request::Exists {
                    path: Path::Child(3),
                    watch: true
                }
            ),
            [(0, Reply::Stat { exists: false })]
        );
        assert!(server.watches().is_empty());
    }

    /// Goal: `exists` on a missing `/lock` leaves a creation watch, as ZooKeeper's does, which the
    /// next create of `/lock` fires (event ahead of the create's reply), also when the watcher
    /// creates it itself; then it is gone. Method: C1 asks twice while `/lock` is missing (one
    /// watch) and C0 creates it; C1 watches it and C0 deletes it; C1 watches the missing node and
    /// creates it itself.
    #[test]
    fn exists_on_a_missing_lock_node_leaves_a_creation_watch() {
        let mut server = Server::new(2, false);
        let exists = Request::Exists {
            path: Path::Lock,
            watch: true,
        };
        let create = Request::Create {
            path: Path::Lock,
            mode: CreateMode::Ephemeral,
        };
        let event = |kind| Reply::Event {
            kind,
            path: Path::Lock,
        };
        for _ in 0..2 {
            assert_eq!(
                serve(&mut server, 1, exists),
                [(1, Reply::Stat { exists: false })]
            );
        }
        assert_eq!(server.watches_of(1).count(), 1);
        let created = serve(&mut server, 0, create);
        assert_eq!(created[0], (1, event(EventKind::NodeCreated)));
        assert_eq!(created.len(), 2, "{created:?}");
        assert!(server.watches().is_empty(), "the watch fired and is gone");
        let deleted = Request::Delete {
            path: Path::Lock,
            close_session: false,
        };
        serve(&mut server, 1, exists);
        assert_eq!(
            serve(&mut server, 0, deleted),
            [(1, event(EventKind::NodeDeleted)), (0, Reply::Deleted)]
        );
        serve(&mut server, 1, exists);
        assert_eq!(
            serve(&mut server, 1, create),
            [
                (1, event(EventKind::NodeCreated)),
                (
                    1,
                    Reply::Created {
                        path: Path::Lock,
                        czxid: 3
                    }
                )
            ]
        );
    }

    #[test]
    fn get_data_on_a_missing_node_fails_and_leaves_no_watch() {
        let mut server = Server::new(1, true);
        assert_eq!(
            serve(
                &mut server,
                0,
                Request::GetData {
                    path: Path::Child(0),
                    watch: true
                }
            ),
            [(0, Reply::NoNode)]
        );
        assert!(server.watches().is_empty());
        create_seq(&mut server, 0);
        assert_eq!(
            serve(
                &mut server,
                0,
                Request::GetData {
                    path: Path::Child(0),
                    watch: true
                }
            ),
            [(0, Reply::Data { czxid: 1 })]
        );
        assert_eq!(server.watches().len(), 1);
    }

    #[test]
    fn child_watches_fire_on_create_and_delete_of_any_child() {
        let mut server = Server::new(3, true);
        serve(
            &mut server,
            1,
            Request::GetChildren {
                path: Path::Lock,
                watch: true,
            },
        );
        serve(
            &mut server,
            2,
            Request::GetChildren {
                path: Path::Lock,
                watch: true,
            },
        );
        let created = create_seq(&mut server, 0);
        let changed = Reply::Event {
            kind: EventKind::NodeChildrenChanged,
            path: Path::Lock,
        };
        assert_eq!(created[..2], [(1, changed), (2, changed)]);
    }

    #[test]
    fn a_deletion_counts_the_other_sessions_it_wakes() {
        let mut server = Server::new(3, true);
        create_seq(&mut server, 0);
        serve(
            &mut server,
            1,
            Request::Exists {
                path: Path::Child(0),
                watch: true,
            },
        );
        serve(
            &mut server,
            2,
            Request::Exists {
                path: Path::Child(0),
                watch: true,
            },
        );
        let mut out = Outbox::default();
        server.serve(
            ZXIDS,
            0,
            Request::Delete {
                path: Path::Child(0),
                close_session: true,
            },
            &mut out,
        );
        assert_eq!(out.woken_by_one_deletion, 2);
    }

    #[test]
    fn expiry_deletes_ephemerals_notifies_watchers_then_the_owner() {
        let mut server = Server::new(2, true);
        create_seq(&mut server, 0);
        serve(
            &mut server,
            0,
            Request::GetChildren {
                path: Path::Lock,
                watch: true,
            },
        );
        serve(
            &mut server,
            1,
            Request::Exists {
                path: Path::Child(0),
                watch: true,
            },
        );
        let mut out = Outbox::default();
        server.expire(ZXIDS, 0, &mut out);
        assert_eq!(
            out.messages.to_vec(),
            [
                (
                    1,
                    Reply::Event {
                        kind: EventKind::NodeDeleted,
                        path: Path::Child(0)
                    }
                ),
                (0, Reply::SessionExpired)
            ],
            "the expired session's own watch is cleared before its node goes"
        );
        assert_eq!(server.session(0), SessionState::Expired);
        assert_eq!(server.children(), SeqSet::default());
        assert_eq!(out.woken_by_one_deletion, 1);
    }

    #[test]
    fn requests_of_an_ended_session_are_dropped_until_a_new_session() {
        let mut server = Server::new(1, true);
        let mut out = Outbox::default();
        server.expire(ZXIDS, 0, &mut out);
        let create = Request::Create {
            path: Path::Lock,
            mode: CreateMode::EphemeralSequential,
        };
        assert_eq!(
            server.serve(ZXIDS, 0, create, &mut Outbox::default()),
            Served::Dropped
        );
        assert_eq!(
            serve(&mut server, 0, Request::CreateSession),
            [(0, Reply::SessionCreated)]
        );
        assert!(server.is_live(0));
        assert_eq!(
            server.serve(ZXIDS, 0, create, &mut Outbox::default()),
            Served::Applied
        );
    }

    #[test]
    fn the_naive_lock_node_is_exclusive_and_ephemeral() {
        let mut server = Server::new(2, false);
        let create = Request::Create {
            path: Path::Lock,
            mode: CreateMode::Ephemeral,
        };
        assert!(matches!(
            serve(&mut server, 0, create)[0],
            (
                0,
                Reply::Created {
                    path: Path::Lock,
                    ..
                }
            )
        ));
        assert_eq!(serve(&mut server, 1, create), [(1, Reply::NodeExists)]);
        server.expire(ZXIDS, 0, &mut Outbox::default());
        assert!(server.node(Path::Lock).is_none());
    }

    /// Goal: with protected names a listing names the requester's own child, and only then.
    #[test]
    fn a_listing_names_the_own_child_only_when_names_are_protected() {
        let list = Request::GetChildren {
            path: Path::Lock,
            watch: false,
        };
        let children: SeqSet = [0, 1].into_iter().collect();
        for (protected_names, own) in [(false, None), (true, Some(1))] {
            let config = ZkConfig {
                record_zxids: false,
                protected_names,
            };
            let mut server = Server::new(2, true);
            let mut out = Outbox::default();
            for (client, request) in [(0, create_request()), (1, create_request()), (1, list)] {
                server.serve(config, client, request, &mut out);
            }
            assert_eq!(
                out.messages.last(),
                Some(&(1, Reply::Children { children, own }))
            );
        }
    }

    #[test]
    fn without_recorded_zxids_czxid_stays_zero() {
        let mut server = Server::new(1, true);
        let mut out = Outbox::default();
        let create = Request::Create {
            path: Path::Lock,
            mode: CreateMode::EphemeralSequential,
        };
        server.serve(
            ZkConfig {
                record_zxids: false,
                protected_names: false,
            },
            0,
            create,
            &mut out,
        );
        assert_eq!(
            out.messages[0],
            (
                0,
                Reply::Created {
                    path: Path::Child(0),
                    czxid: 0
                }
            )
        );
    }
}

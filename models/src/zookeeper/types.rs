//! The ZooKeeper API subset the lock recipes use: paths, requests, replies, watch events.

use std::fmt;
use std::str::FromStr;

use crate::actor::serde_via_string;
use crate::pack::Word;

/// A client slot. Each client owns at most one live session at a time.
pub type ClientId = u8;
/// A sequence number appended by a sequential create (ZooKeeper's `%010d` suffix).
pub type Seq = u8;
/// A transaction id; `czxid` of a znode is the id of the transaction that created it.
pub type Zxid = u16;

/// Most clients a world may have: bounded so that states stay small and fixed-size.
pub const MAX_CLIENTS: usize = 8;
/// Sequence numbers are kept below this bound so that a set of them fits in one word.
pub const MAX_SEQ: usize = 32;

/// A znode path in the lock namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Path {
    /// `/lock`: the naive recipe's lock node, or the sequential recipes' parent.
    #[default]
    Lock,
    /// `/lock/lock-<seq>`: a sequential child of `/lock`.
    Child(Seq),
}

impl Path {
    /// The parent whose child watches fire when this node is created or deleted.
    pub fn parent(self) -> Option<Path> {
        match self {
            Path::Lock => None,
            Path::Child(_) => Some(Path::Lock),
        }
    }

    /// Whether a create can make this node exist after a read found it missing: `/lock` can (the
    /// naive recipe creates it again after every release); a child cannot, because a sequence
    /// number is given once (a missing child was created and deleted before, as every child a
    /// client learns of comes from a listing).
    pub fn may_be_created_again(self) -> bool {
        matches!(self, Path::Lock)
    }
}

/// Rewrites the sequence numbers and zxids a value holds (see `lock::canonical`).
pub type SeqMap<'a> = &'a mut dyn FnMut(Seq) -> Seq;
/// Rewrites zxids.
pub type ZxidMap<'a> = &'a mut dyn FnMut(Zxid) -> Zxid;

impl Path {
    pub fn map_values(self, seq: SeqMap) -> Path {
        match self {
            Path::Lock => Path::Lock,
            Path::Child(s) => Path::Child(seq(s)),
        }
    }
}

impl Request {
    /// Whether the request only reads the tree (and may set a watch): it makes no transaction.
    #[inline]
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Request::GetChildren { .. } | Request::Exists { .. } | Request::GetData { .. }
        )
    }

    pub fn map_values(self, seq: SeqMap) -> Request {
        match self {
            Request::CreateSession => Request::CreateSession,
            Request::Create { path, mode } => Request::Create {
                path: path.map_values(seq),
                mode,
            },
            Request::GetChildren { path, watch } => Request::GetChildren {
                path: path.map_values(seq),
                watch,
            },
            Request::Exists { path, watch } => Request::Exists {
                path: path.map_values(seq),
                watch,
            },
            Request::GetData { path, watch } => Request::GetData {
                path: path.map_values(seq),
                watch,
            },
            Request::Delete {
                path,
                close_session,
            } => Request::Delete {
                path: path.map_values(seq),
                close_session,
            },
            Request::Sync { path } => Request::Sync {
                path: path.map_values(seq),
            },
        }
    }
}

impl Reply {
    /// The kind of watch the read this answers may have registered (a listing's child watch, the
    /// data watch of `exists` or `getData`), or the kind of watch this event fired; `None` for
    /// every other reply. In the lock recipes a client waits on one read at a time and, while it
    /// waits, holds no other watch of the kind that read sets: the kind names the watch.
    pub fn watch_kind(self) -> Option<WatchKind> {
        match self {
            Reply::Children { .. }
            | Reply::Event {
                kind: EventKind::NodeChildrenChanged,
                ..
            } => Some(WatchKind::Child),
            Reply::Stat { .. } | Reply::Data { .. } | Reply::Event { .. } => Some(WatchKind::Data),
            _ => None,
        }
    }

    /// Whether this is the server's answer to one of the client's requests (as opposed to a watch
    /// event, or news of the session or connection, which the library hands to watchers).
    #[inline]
    pub fn answers_request(self) -> bool {
        !matches!(
            self,
            Reply::Event { .. }
                | Reply::SessionExpired
                | Reply::ConnectionLoss
                | Reply::Disconnected
                | Reply::Reconnected
        )
    }

    pub fn map_values(self, seq: SeqMap, zxid: ZxidMap) -> Reply {
        match self {
            Reply::Created { path, czxid } => Reply::Created {
                path: path.map_values(seq),
                czxid: zxid(czxid),
            },
            Reply::Children { children, own } => Reply::Children {
                children: children.map(seq),
                own: own.map(seq),
            },
            Reply::Data { czxid } => Reply::Data { czxid: zxid(czxid) },
            Reply::Event { kind, path } => Reply::Event {
                kind,
                path: path.map_values(seq),
            },
            Reply::SessionCreated
            | Reply::NodeExists
            | Reply::NoNode
            | Reply::Stat { .. }
            | Reply::Deleted
            | Reply::SessionExpired
            | Reply::ConnectionLoss
            | Reply::Disconnected
            | Reply::Reconnected
            | Reply::SessionMoved
            | Reply::Synced => self,
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Lock => f.write_str("/lock"),
            Path::Child(seq) => write!(f, "/lock/lock-{seq:010}"),
        }
    }
}

impl FromStr for Path {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "/lock" {
            return Ok(Path::Lock);
        }
        text.strip_prefix("/lock/lock-")
            .filter(|digits| digits.len() == 10)
            .and_then(|digits| digits.parse::<Seq>().ok())
            .filter(|&seq| usize::from(seq) < MAX_SEQ)
            .map(Path::Child)
            .ok_or_else(|| format!("expected /lock or /lock/lock-<10 digits>, found {text:?}"))
    }
}

serde_via_string!(Path);

impl crate::actor::Compact for Path {
    type Repr = u8;
    fn to_compact(&self) -> u8 {
        match self {
            Path::Lock => u8::MAX,
            Path::Child(seq) => *seq,
        }
    }
    fn from_compact(repr: u8) -> Result<Self, String> {
        Ok(match repr {
            u8::MAX => Path::Lock,
            seq => Path::Child(seq),
        })
    }
}

/// A set of sequence numbers, as a `getChildren` reply carries it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeqSet(u32);

impl SeqSet {
    /// Bit `seq` is set for each member.
    pub fn bits(self) -> u32 {
        self.0
    }

    pub fn insert(&mut self, seq: Seq) {
        assert!(
            usize::from(seq) < MAX_SEQ,
            "sequence number {seq} out of range"
        );
        self.0 |= 1 << seq;
    }

    pub fn contains(self, seq: Seq) -> bool {
        usize::from(seq) < MAX_SEQ && self.0 & (1 << seq) != 0
    }

    pub fn lowest(self) -> Option<Seq> {
        (self.0 != 0).then(|| self.0.trailing_zeros() as Seq)
    }

    /// The largest member below `seq`: the standard recipe's predecessor.
    pub fn next_lower(self, seq: Seq) -> Option<Seq> {
        let below = self.0 & ((1u32 << seq) - 1);
        (below != 0).then(|| (31 - below.leading_zeros()) as Seq)
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many members are below `seq`: its rank if it is a member.
    pub fn rank(self, seq: Seq) -> Seq {
        (self.0 & ((1u32 << seq) - 1)).count_ones() as Seq
    }

    /// The set with every member replaced by `f(member)`.
    pub fn map(self, f: &mut dyn FnMut(Seq) -> Seq) -> SeqSet {
        self.iter().map(f).collect()
    }

    pub fn iter(self) -> impl Iterator<Item = Seq> {
        (0..MAX_SEQ as Seq).filter(move |&seq| self.contains(seq))
    }
}

impl FromIterator<Seq> for SeqSet {
    fn from_iter<I: IntoIterator<Item = Seq>>(iter: I) -> Self {
        let mut set = SeqSet::default();
        for seq in iter {
            set.insert(seq);
        }
        set
    }
}

impl fmt::Display for SeqSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.iter().map(|seq| seq.to_string()).collect();
        write!(f, "[{}]", items.join(", "))
    }
}

/// A list of sequence numbers for people, the bitmask for machines.
impl serde::Serialize for SeqSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_seq(self.iter())
        } else {
            serializer.serialize_u32(self.0)
        }
    }
}

impl<'de> serde::Deserialize<'de> for SeqSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !deserializer.is_human_readable() {
            return u32::deserialize(deserializer).map(SeqSet);
        }
        let seqs = Vec::<Seq>::deserialize(deserializer)?;
        if let Some(bad) = seqs.iter().find(|&&seq| usize::from(seq) >= MAX_SEQ) {
            return Err(serde::de::Error::custom(format!(
                "sequence number {bad} out of range (below {MAX_SEQ})"
            )));
        }
        Ok(seqs.into_iter().collect())
    }
}

/// ZooKeeper's create modes (CONTAINER and TTL are not needed by these recipes).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum CreateMode {
    Persistent,
    Ephemeral,
    PersistentSequential,
    EphemeralSequential,
}

impl CreateMode {
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential | CreateMode::EphemeralSequential
        )
    }

    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }
}

/// A request a client sends on its session's FIFO channel.
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
pub enum Request {
    /// Open a new session (a client retrying after its old one expired).
    #[default]
    CreateSession,
    /// For sequential modes `path` is the parent; the server appends the sequence number.
    Create {
        path: Path,
        mode: CreateMode,
    },
    GetChildren {
        path: Path,
        watch: bool,
    },
    Exists {
        path: Path,
        watch: bool,
    },
    GetData {
        path: Path,
        watch: bool,
    },
    /// Delete `path` (version -1); with `close_session` the client closes its session right after.
    Delete {
        path: Path,
        close_session: bool,
    },
    /// `sync(path)`: the answer comes once the client's server has applied every transaction
    /// the leader had proposed when it took the sync, so a read sent after it sees every write
    /// committed before the sync (ZooKeeper reads are otherwise served from a server that may
    /// lag). On the leader itself, or on one server, it is answered at once.
    Sync {
        path: Path,
    },
}

/// What a watch event reports.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum EventKind {
    NodeCreated,
    NodeDeleted,
    NodeChildrenChanged,
}

/// A reply or notification on a session's FIFO channel from the server.
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
pub enum Reply {
    #[default]
    SessionCreated,
    /// `path` is the created node (with its sequence number); `czxid` is 0 unless zxids are kept.
    Created {
        path: Path,
        czxid: Zxid,
    },
    NodeExists,
    NoNode,
    /// `own` is the child whose name carries the requester's protection id, when names carry
    /// one (Curator's protection mode, `ZkConfig::protected_names`): ZooKeeper returns the names
    /// and Curator's `findNode` picks the one with its id; the model returns the pick. Always
    /// `None` otherwise, so it is neither written nor told apart in worlds without protection.
    Children {
        children: SeqSet,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        own: Option<Seq>,
    },
    /// The `exists` reply: ZooKeeper returns a `Stat`, or null when the node does not exist.
    Stat {
        exists: bool,
    },
    Data {
        czxid: Zxid,
    },
    Deleted,
    /// A one-shot watch fired.
    Event {
        kind: EventKind,
        path: Path,
    },
    /// The session expired; the client learns of it only when it reads this.
    SessionExpired,
    /// The client library's error for a request whose connection broke: the request may or may
    /// not have been applied (the session is still alive).
    ConnectionLoss,
    /// The client library's event for a connection that broke (`KeeperState.Disconnected`): an
    /// ensemble's server crashed or left broadcast. The library reconnects by itself; the session
    /// and its watches survive. Queued after the `ConnectionLoss` of an outstanding request.
    Disconnected,
    /// The client library's event for a connection made again with the session alive
    /// (`KeeperState.SyncConnected` after a `Disconnected`; Curator's RECONNECTED): the server
    /// accepted the session. The library queues it as it reads the server's answer to its
    /// connect request, which comes before anything else on the new connection
    /// (`ClientCnxn.primeConnection` puts the connect request ahead of `SetWatches` and of the
    /// requests it held), so it comes before the watch events the re-registration fires and
    /// before any reply.
    Reconnected,
    /// An ensemble's leader refused a write because the session has moved: the write came
    /// through a server other than the one the session last (re)connected through (the owner
    /// check of `SessionTrackerImpl.checkSession`). The answer belongs to the connection the
    /// session left, so no client reads it.
    SessionMoved,
    /// The answer to `sync`: the client's server has caught up with the leader as of the sync.
    Synced,
}

/// A session's state on the server.
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
pub enum SessionState {
    #[default]
    Live,
    Expired,
    Closed,
    /// Not opened yet: on an ensemble whose clients open their sessions with a createSession
    /// (`sessions_at_start = false`), until the server has applied it.
    Unopened,
}

/// Which read set a watch: data watches (`exists`, `getData`) or child watches (`getChildren`).
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
pub enum WatchKind {
    #[default]
    Data,
    Child,
}

/// A one-shot watch registered by a session.
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
pub struct Watch {
    pub client: ClientId,
    pub path: Path,
    pub kind: WatchKind,
}

/// One word per message or path instead of one write per field: fingerprinting hashes every
/// message in flight of every successor, and a hasher mixes once per write; packed states store
/// these words. Each packing is injective (a variant number in the low 4 bits, each field in bits
/// of its own above), so equal values hash equally and nothing the derived `Hash` told apart is
/// merged; `from_word` reads a word back.
impl Word for Path {
    /// `Lock` is 0, `Child(seq)` is `seq + 1`: 9 bits.
    fn word(self) -> u64 {
        match self {
            Path::Lock => 0,
            Path::Child(seq) => u64::from(seq) + 1,
        }
    }

    fn from_word(word: u64) -> Self {
        match word {
            0 => Path::Lock,
            seq => Path::Child((seq - 1) as Seq),
        }
    }
}

impl CreateMode {
    fn from_index(index: u64) -> Self {
        match index {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            _ => unreachable!("create mode {index} was never packed"),
        }
    }
}

impl Word for Request {
    /// The request packed in 15 bits (see the comment on `impl Word for Path`).
    fn word(self) -> u64 {
        let (variant, path, flag) = match self {
            Request::CreateSession => (0, Path::Lock, 0),
            Request::Create { path, mode } => (1, path, mode as u64),
            Request::GetChildren { path, watch } => (2, path, u64::from(watch)),
            Request::Exists { path, watch } => (3, path, u64::from(watch)),
            Request::GetData { path, watch } => (4, path, u64::from(watch)),
            Request::Delete {
                path,
                close_session,
            } => (5, path, u64::from(close_session)),
            Request::Sync { path } => (6, path, 0),
        };
        variant | path.word() << 4 | flag << 13
    }

    #[inline]
    fn from_word(word: u64) -> Self {
        let path = Path::from_word(word >> 4 & 0x1ff);
        let flag = word >> 13;
        match word & 0xf {
            0 => Request::CreateSession,
            1 => Request::Create {
                path,
                mode: CreateMode::from_index(flag),
            },
            2 => Request::GetChildren {
                path,
                watch: flag != 0,
            },
            3 => Request::Exists {
                path,
                watch: flag != 0,
            },
            4 => Request::GetData {
                path,
                watch: flag != 0,
            },
            5 => Request::Delete {
                path,
                close_session: flag != 0,
            },
            6 => Request::Sync { path },
            variant => unreachable!("request variant {variant} was never packed"),
        }
    }
}

crate::pack::hash_as_word!(Request);

impl EventKind {
    fn from_index(index: u64) -> Self {
        match index {
            0 => EventKind::NodeCreated,
            1 => EventKind::NodeDeleted,
            2 => EventKind::NodeChildrenChanged,
            _ => unreachable!("event kind {index} was never packed"),
        }
    }
}

impl Word for Reply {
    /// The reply packed in 42 bits (see the comment on `impl Word for Path`).
    fn word(self) -> u64 {
        match self {
            Reply::SessionCreated => 0,
            Reply::Created { path, czxid } => 1 | path.word() << 4 | u64::from(czxid) << 13,
            Reply::NodeExists => 2,
            Reply::NoNode => 3,
            Reply::Children { children, own } => {
                let own = own.map_or(0, |seq| u64::from(seq) + 1);
                4 | u64::from(children.bits()) << 4 | own << 36
            }
            Reply::Stat { exists } => 5 | u64::from(exists) << 4,
            Reply::Data { czxid } => 6 | u64::from(czxid) << 4,
            Reply::Deleted => 7,
            Reply::Event { kind, path } => 8 | (kind as u64) << 4 | path.word() << 6,
            Reply::SessionExpired => 9,
            Reply::ConnectionLoss => 10,
            Reply::Disconnected => 11,
            Reply::SessionMoved => 12,
            Reply::Reconnected => 13,
            Reply::Synced => 14,
        }
    }

    #[inline]
    fn from_word(word: u64) -> Self {
        let fields = word >> 4;
        match word & 0xf {
            0 => Reply::SessionCreated,
            1 => Reply::Created {
                path: Path::from_word(fields & 0x1ff),
                czxid: (fields >> 9) as Zxid,
            },
            2 => Reply::NodeExists,
            3 => Reply::NoNode,
            4 => Reply::Children {
                children: SeqSet(fields as u32),
                own: match fields >> 32 {
                    0 => None,
                    seq => Some((seq - 1) as Seq),
                },
            },
            5 => Reply::Stat {
                exists: fields != 0,
            },
            6 => Reply::Data {
                czxid: fields as Zxid,
            },
            7 => Reply::Deleted,
            8 => Reply::Event {
                kind: EventKind::from_index(fields & 0x3),
                path: Path::from_word(fields >> 2),
            },
            9 => Reply::SessionExpired,
            10 => Reply::ConnectionLoss,
            11 => Reply::Disconnected,
            12 => Reply::SessionMoved,
            13 => Reply::Reconnected,
            14 => Reply::Synced,
            variant => unreachable!("reply variant {variant} was never packed"),
        }
    }
}

crate::pack::hash_as_word!(Reply);

impl Word for SessionState {
    fn word(self) -> u64 {
        self as u64
    }

    fn from_word(word: u64) -> Self {
        match word {
            0 => SessionState::Live,
            1 => SessionState::Expired,
            2 => SessionState::Closed,
            3 => SessionState::Unopened,
            _ => unreachable!("session state {word} was never packed"),
        }
    }
}

/// One word per watch (see `Request::word`): the kind, the client, then the path, so that a
/// watch on `/lock` packs into one byte.
impl Word for Watch {
    fn word(self) -> u64 {
        self.kind as u64 | u64::from(self.client) << 1 | self.path.word() << 9
    }

    fn from_word(word: u64) -> Self {
        Watch {
            client: (word >> 1) as ClientId,
            path: Path::from_word(word >> 9),
            kind: if word & 1 == 0 {
                WatchKind::Data
            } else {
                WatchKind::Child
            },
        }
    }
}

crate::pack::hash_as_word!(Watch);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_zookeeper_and_parse_back() {
        assert_eq!(Path::Child(3).to_string(), "/lock/lock-0000000003");
        for path in [Path::Lock, Path::Child(0), Path::Child(31)] {
            assert_eq!(path.to_string().parse::<Path>(), Ok(path));
        }
        assert!("/lock/lock-3".parse::<Path>().is_err());
        assert!("/lock/lock-0000000099".parse::<Path>().is_err());
    }

    #[test]
    fn seq_set_finds_lowest_and_predecessor() {
        let set: SeqSet = [1, 4, 6].into_iter().collect();
        assert_eq!(set.lowest(), Some(1));
        assert_eq!(set.next_lower(6), Some(4));
        assert_eq!(set.next_lower(4), Some(1));
        assert_eq!(set.next_lower(1), None);
        assert_eq!(set.next_lower(0), None);
        assert_eq!(set.to_string(), "[1, 4, 6]");
        assert_eq!(SeqSet::default().lowest(), None);
    }

    #[test]
    fn distinct_messages_pack_into_distinct_words_that_read_back() {
        let paths = [Path::Lock, Path::Child(0), Path::Child(7), Path::Child(31)];
        let mut requests = vec![Request::CreateSession];
        let mut replies = vec![
            Reply::SessionCreated,
            Reply::NodeExists,
            Reply::NoNode,
            Reply::Deleted,
            Reply::SessionExpired,
            Reply::ConnectionLoss,
            Reply::SessionMoved,
            Reply::Synced,
            Reply::Stat { exists: false },
            Reply::Stat { exists: true },
        ];
        for path in paths {
            requests.push(Request::Sync { path });
            for flag in [false, true] {
                requests.push(Request::GetChildren { path, watch: flag });
                requests.push(Request::Exists { path, watch: flag });
                requests.push(Request::GetData { path, watch: flag });
                requests.push(Request::Delete {
                    path,
                    close_session: flag,
                });
            }
            for mode in [
                CreateMode::Persistent,
                CreateMode::Ephemeral,
                CreateMode::PersistentSequential,
                CreateMode::EphemeralSequential,
            ] {
                requests.push(Request::Create { path, mode });
            }
            for kind in [
                EventKind::NodeCreated,
                EventKind::NodeDeleted,
                EventKind::NodeChildrenChanged,
            ] {
                replies.push(Reply::Event { kind, path });
            }
            for czxid in [0, 1, u16::MAX] {
                replies.push(Reply::Created { path, czxid });
            }
        }
        for czxid in [0, 1, 300, u16::MAX] {
            replies.push(Reply::Data { czxid });
        }
        let mut some = SeqSet::default();
        some.insert(0);
        some.insert(31);
        for children in [SeqSet::default(), some] {
            for own in [None, Some(0), Some(31)] {
                replies.push(Reply::Children { children, own });
            }
        }
        let words: std::collections::HashSet<u64> = requests.iter().map(|r| r.word()).collect();
        assert_eq!(words.len(), requests.len(), "requests");
        let words: std::collections::HashSet<u64> = replies.iter().map(|r| r.word()).collect();
        assert_eq!(words.len(), replies.len(), "replies");
        for request in requests {
            assert_eq!(Request::from_word(request.word()), request);
        }
        for reply in replies {
            assert_eq!(Reply::from_word(reply.word()), reply);
        }
        for client in [0, 7] {
            for path in paths {
                for kind in [WatchKind::Data, WatchKind::Child] {
                    let watch = Watch { client, path, kind };
                    assert_eq!(Watch::from_word(watch.word()), watch);
                }
            }
        }
    }
}

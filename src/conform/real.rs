//! The real side of a replay: each client as the harness runs it (the model's recipe code fed
//! with what the server really sent), its connection, the frames it has received but not yet
//! read, and the requests it has sent that the harness has not yet put on the wire.

use std::collections::VecDeque;

use lockscope_models::lock::Client;
use lockscope_models::zookeeper::{EventKind, Path, Reply, Request, SeqSet};

use super::conn::{Conn, SessionKeys};
use super::wire::{err, event, In, ReplyFrame};

/// What kind of watch a read left on a path, as the client library records it to set it again
/// after a reconnect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchKind {
    Data,
    /// An `exists` on a missing node: it fires when the node is created.
    Exist,
    Child,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealWatch {
    pub path: String,
    pub kind: WatchKind,
}

/// A message a client has received and not yet read, in the real server's values.
#[derive(Clone, Debug)]
pub struct Arrived {
    /// With the real sequence numbers; `czxid` fields are 0 (the real one is below).
    pub reply: Reply,
    pub czxid: i64,
    /// The data version of a created node (a `node-version-token` is it).
    pub version: i32,
    /// The frame's zxid (0 for messages the client library makes up).
    pub zxid: i64,
    /// The watches this event fired, to set again if the event is lost with its connection.
    pub fired: Vec<RealWatch>,
    /// The watch this reply's request left, registered as the reply arrived: taken back if the
    /// reply is lost with its connection before the client read it (a library registers the
    /// watch when it takes the reply in, which the model's client does at that read).
    pub left: Option<RealWatch>,
    /// A created node's or a listing's names, as the server spelled them.
    pub names: Vec<String>,
}

impl Arrived {
    /// A message the client library itself reports (`ConnectionLoss`, `SessionExpired`, a new
    /// session).
    pub fn notice(reply: Reply) -> Arrived {
        Arrived {
            reply,
            czxid: 0,
            version: 0,
            zxid: 0,
            fired: Vec::new(),
            left: None,
            names: Vec::new(),
        }
    }

    /// In words, with the real names and zxids.
    pub fn text(&self, fenced: bool) -> String {
        match self.reply {
            Reply::Created { path, .. } if fenced => {
                format!("Created({path}, czxid {:#x})", self.czxid)
            }
            Reply::Data { .. } => format!("Data(czxid {:#x})", self.czxid),
            reply => reply.to_string(),
        }
    }
}

/// Where a client's session stands, as far as the harness knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    Live,
    /// Expired or closed: the server dropped it.
    Ended,
}

pub struct RealClient {
    pub logic: Client,
    pub conn: Option<Conn>,
    pub keys: Option<SessionKeys>,
    /// The server its connection goes to (on an ensemble; 0 on one server).
    pub server: u8,
    pub session: SessionEnd,
    /// Its connection broke while a partition lasted: it reconnects when the partition heals.
    pub reconnect_on_heal: bool,
    pub outgoing: VecDeque<Request>,
    pub incoming: VecDeque<Arrived>,
    /// Requests on the wire awaiting their reply: the xid and the request (`None` for the
    /// harness's own, such as the closeSession after a last release), with the real path.
    pub sent: Vec<(i32, Option<(Request, String)>)>,
    pub watches: Vec<RealWatch>,
    /// The highest zxid the client has read.
    pub read_zxid: i64,
    /// Curator's protection id for the current create call.
    pub protection: String,
    /// The node it created: its name, `czxid` and data version.
    pub node: Option<(String, i64, i32)>,
    /// A write on its way to the resource (the real token), and the resource's answer.
    pub to_resource: Option<i64>,
    pub from_resource: Option<bool>,
    pub paused: bool,
}

impl RealClient {
    pub fn new(logic: Client) -> RealClient {
        RealClient {
            logic,
            conn: None,
            keys: None,
            server: 0,
            session: SessionEnd::Live,
            reconnect_on_heal: false,
            outgoing: VecDeque::new(),
            incoming: VecDeque::new(),
            sent: Vec::new(),
            watches: Vec::new(),
            read_zxid: 0,
            protection: String::new(),
            node: None,
            to_resource: None,
            from_resource: None,
            paused: false,
        }
    }

    /// The last zxid the client saw, counting what it received and kept: a reconnect tells the
    /// server this, and watches set again fire for changes after it.
    pub fn last_zxid(&self) -> i64 {
        self.incoming
            .iter()
            .map(|a| a.zxid)
            .fold(self.read_zxid, i64::max)
    }

    /// Whether the client library has a request whose reply the recipe has not read: a broken
    /// connection fails it with `ConnectionLoss`.
    pub fn awaits_reply(&self) -> bool {
        let waits = self.logic.phase.awaits_reply();
        let in_flight = !self.outgoing.is_empty()
            || !self.sent.is_empty()
            || self.incoming.iter().any(|a| a.reply.answers_request());
        self.session == SessionEnd::Live && waits && in_flight
    }

    /// Its connection to an ensemble's server closed (the server stopped serving, or the harness
    /// broke it) while the server may still apply what it sent: a last release whose
    /// closeSession has no answer yet leaves the session live until a leader commits the close.
    /// A live session's library fails the request it waits on with `ConnectionLoss` (in place of
    /// whatever was still unread of an earlier loss: it fails the outstanding call once) and
    /// reports `Disconnected`. Returns whether it did; an ended session's library says nothing.
    pub fn lose_connection(&mut self) -> bool {
        if self.sent.iter().any(|(_, request)| request.is_none()) {
            self.session = SessionEnd::Live;
        }
        if self.session != SessionEnd::Live {
            self.conn = None;
            return false;
        }
        if self.logic.phase.awaits_reply() {
            self.lose_in_flight();
        } else {
            self.conn = None;
            self.sent.clear();
        }
        self.incoming
            .push_back(Arrived::notice(Reply::Disconnected));
        true
    }

    /// The connection broke: what was in flight is lost (the watches its events fired are set
    /// again on reconnect) and the library reports `ConnectionLoss`.
    pub fn lose_in_flight(&mut self) {
        self.conn = None;
        self.outgoing.clear();
        self.sent.clear();
        // A watch whose answer is lost was never the library's, nor is the event it fired.
        let mut unlearned = Vec::new();
        for lost in self.incoming.drain(..) {
            let known = lost.fired.into_iter().filter(|w| !unlearned.contains(w));
            self.watches.extend(known);
            if let Some(left) = lost.left {
                if let Some(at) = self.watches.iter().position(|w| *w == left) {
                    self.watches.remove(at);
                }
                unlearned.push(left);
            }
        }
        self.incoming
            .push_back(Arrived::notice(Reply::ConnectionLoss));
    }

    /// Whether it can still take a step by itself or has something on its way to it.
    pub fn can_act(&self) -> bool {
        use lockscope_models::lock::Phase;
        if self.paused {
            return true;
        }
        matches!(self.logic.phase, Phase::Init | Phase::InCs)
            || (self.logic.phase.reads_zookeeper() && !self.incoming.is_empty())
            || (self.session == SessionEnd::Live && !self.outgoing.is_empty())
            || self.to_resource.is_some()
            || self.from_resource.is_some()
    }
}

/// The sequence number a server-made name ends with (`%010d`).
pub fn seq_of(name: &str) -> Result<u8, String> {
    let digits = name.get(name.len().saturating_sub(10)..).unwrap_or("");
    let seq: u64 = digits
        .parse()
        .map_err(|_| format!("{name:?} does not end in a sequence number"))?;
    u8::try_from(seq)
        .ok()
        .filter(|&s| usize::from(s) < lockscope_models::zookeeper::MAX_SEQ)
        .ok_or_else(|| format!("sequence number {seq} is past what the model numbers"))
}

/// The model path of a real one under `root`.
pub fn model_path(root: &str, real: &str) -> Result<Path, String> {
    let lock = format!("{root}/lock");
    if real == lock {
        return Ok(Path::Lock);
    }
    match real.strip_prefix(&format!("{lock}/")) {
        Some(name) => Ok(Path::Child(seq_of(name)?)),
        None => Err(format!("{real:?} is outside the lock namespace {lock}")),
    }
}

/// Decode the answer to `request`; `Err` when the server answered something the model has no
/// word for.
pub fn decode_reply(
    root: &str,
    request: Request,
    frame: &ReplyFrame,
    protection: &str,
) -> Result<Arrived, String> {
    let mut arrived = Arrived::notice(Reply::Deleted);
    arrived.zxid = frame.zxid;
    let bad = |e: std::io::Error| format!("a malformed reply: {e}");
    let mut body = In::new(&frame.body);
    arrived.reply = match (request, frame.err) {
        (_, err::SESSION_EXPIRED) => Reply::SessionExpired,
        (Request::Create { .. }, err::OK) => {
            let path = body.string().map_err(bad)?;
            let stat = body.stat().map_err(bad)?;
            arrived.czxid = stat.czxid;
            arrived.version = stat.version;
            arrived.names.push(path.clone());
            Reply::Created {
                path: model_path(root, &path)?,
                czxid: 0,
            }
        }
        (Request::Create { .. }, err::NODE_EXISTS) => Reply::NodeExists,
        (Request::GetChildren { .. }, err::OK) => {
            let names = body.strings().map_err(bad)?;
            let mut children = SeqSet::default();
            let mut own = None;
            for name in &names {
                let seq = seq_of(name)?;
                children.insert(seq);
                // Curator takes the first child carrying its id in the server's order, which
                // is arbitrary; two carry it only after an orphan, and the model (like this
                // comparison) names the lowest.
                if !protection.is_empty() && name.contains(protection) {
                    own = Some(own.map_or(seq, |o: u8| o.min(seq)));
                }
            }
            arrived.names = names;
            Reply::Children { children, own }
        }
        (Request::Exists { .. }, err::OK) => Reply::Stat { exists: true },
        (Request::Exists { .. }, err::NO_NODE) => Reply::Stat { exists: false },
        (Request::GetData { .. }, err::OK) => {
            body.bytes().map_err(bad)?;
            arrived.czxid = body.stat().map_err(bad)?.czxid;
            Reply::Data { czxid: 0 }
        }
        (Request::Delete { .. }, err::OK) => Reply::Deleted,
        (Request::Sync { .. }, err::OK) => {
            body.string().map_err(bad)?;
            Reply::Synced
        }
        (
            Request::Create { .. }
            | Request::GetChildren { .. }
            | Request::GetData { .. }
            | Request::Delete { .. },
            err::NO_NODE,
        ) => Reply::NoNode,
        (request, code) => {
            return Err(format!(
                "the server answered {request} with error code {code}"
            ))
        }
    };
    Ok(arrived)
}

/// Decode a watch event.
pub fn decode_event(root: &str, frame: &ReplyFrame) -> Result<(Arrived, String), String> {
    let bad = |e: std::io::Error| format!("a malformed watch event: {e}");
    let mut body = In::new(&frame.body);
    let kind = body.int().map_err(bad)?;
    let _state = body.int().map_err(bad)?;
    let path = body.string().map_err(bad)?;
    let kind = match kind {
        event::NODE_CREATED => EventKind::NodeCreated,
        event::NODE_DELETED => EventKind::NodeDeleted,
        event::NODE_CHILDREN_CHANGED => EventKind::NodeChildrenChanged,
        other => return Err(format!("a watch event of type {other} on {path}")),
    };
    let reply = Reply::Event {
        kind,
        path: model_path(root, &path)?,
    };
    Ok((Arrived::notice(reply), path))
}

/// Remove the watches an event on `path` fires, as the server does; returns them.
pub fn fire(watches: &mut Vec<RealWatch>, kind: EventKind, path: &str) -> Vec<RealWatch> {
    let fires = |w: &RealWatch| {
        w.path == path
            && match kind {
                EventKind::NodeDeleted => true,
                EventKind::NodeCreated => w.kind != WatchKind::Child,
                EventKind::NodeChildrenChanged => w.kind == WatchKind::Child,
            }
    };
    let fired: Vec<RealWatch> = watches.iter().filter(|w| fires(w)).cloned().collect();
    watches.retain(|w| !fires(w));
    fired
}

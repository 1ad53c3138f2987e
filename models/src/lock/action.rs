//! The steps of a lock world, explicit and printable: traces are lists of these.

use std::fmt;

use crate::actor::{ActorId, Group};
use crate::ensemble::EnsembleStep;
use crate::zookeeper::{CreateMode, EventKind, Reply, Request, Zxid};

/// A message on one of the world's channels.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Msg {
    /// Client to server.
    Request(Request),
    /// Server to client: a reply or a notification.
    Reply(Reply),
    /// Client to resource: a write carrying a fencing token.
    Write { token: Zxid },
    /// Resource to client.
    WriteResult { accepted: bool },
}

/// One step of a lock world.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum LockAction {
    /// A client in `Init` starts an acquisition: it sends its create.
    StartAcquire { client: ActorId },
    /// A fenced holder writes to the resource with its token.
    UseResource { client: ActorId },
    /// A holder leaves the critical section and sends the delete of its lock node.
    Release { client: ActorId },
    /// `to` consumes the head of its channel from `from` and reacts.
    Deliver {
        from: ActorId,
        to: ActorId,
        msg: Msg,
    },
    /// Fault: the server expires the client's live session.
    ExpireSession { client: ActorId },
    /// Fault (`message_loss`): the client's TCP connection to the server breaks and everything in
    /// flight on it is lost; the client library reports `ConnectionLoss` and reconnects with the
    /// same session.
    LoseConnection { client: ActorId },
    /// Fault: the client stops taking steps (a GC pause).
    Pause { client: ActorId },
    /// The paused client resumes where it was.
    Resume { client: ActorId },
    /// Fault (`client_crashes`, an ensemble's): the client's process dies. It sends nothing more
    /// and what was in flight on its connection is lost; its server closes the connection but
    /// not the session, which lives until the leader's tracker expires it.
    CrashClient { client: ActorId },
    /// `unsynchronised-event-thread` client: `to`'s event thread runs the watcher for the watch
    /// event `msg`, which lies right behind a reply its caller thread has not read yet.
    EventThreadFirst {
        from: ActorId,
        to: ActorId,
        msg: Msg,
    },
    /// Fault (`partitions`): the actors in `cut` lose contact with the others (the server is never
    /// in `cut`). Messages across the cut stay in flight until the partition heals.
    Partition { cut: Group },
    /// The partition outlasts the clients' read timeout (2/3 of the session timeout): each
    /// cut-off client waiting on a request declares its connection lost and reads
    /// `ConnectionLoss`, as with `LoseConnection`.
    ReadTimeout,
    /// The partition heals.
    Heal,
    /// Fault (`crashes`): the ZooKeeper server crashes. Its data tree and sessions are durable;
    /// every connection breaks, losing what was in flight on it.
    CrashServer,
    /// The crashed server restarts from its durable state.
    RestartServer,
    /// A step of the ensemble's servers (a lock world with `servers > 1`): ZAB's broadcast, and
    /// the leader preparing a forwarded write.
    Ensemble(EnsembleStep),
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let watch = |watch: bool| if watch { ", watch" } else { "" };
        match self {
            Request::CreateSession => f.write_str("createSession"),
            Request::Create { path, mode } => {
                let mode = match mode {
                    CreateMode::Persistent => "PERSISTENT",
                    CreateMode::Ephemeral => "EPHEMERAL",
                    CreateMode::PersistentSequential => "PERSISTENT_SEQUENTIAL",
                    CreateMode::EphemeralSequential => "EPHEMERAL_SEQUENTIAL",
                };
                let suffix = if self.is_sequential_create() {
                    "/lock-"
                } else {
                    ""
                };
                write!(f, "create({path}{suffix}, {mode})")
            }
            Request::GetChildren { path, watch: w } => {
                write!(f, "getChildren({path}{})", watch(*w))
            }
            Request::Exists { path, watch: w } => write!(f, "exists({path}{})", watch(*w)),
            Request::GetData { path, watch: w } => write!(f, "getData({path}{})", watch(*w)),
            Request::Delete {
                path,
                close_session,
            } => {
                write!(f, "delete({path})")?;
                if *close_session {
                    f.write_str(" + closeSession")?;
                }
                Ok(())
            }
            Request::Sync { path } => write!(f, "sync({path})"),
        }
    }
}

impl Request {
    fn is_sequential_create(&self) -> bool {
        matches!(self, Request::Create { mode, .. } if mode.is_sequential())
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::SessionCreated => f.write_str("SessionCreated"),
            Reply::Created { path, czxid: 0 } => write!(f, "Created({path})"),
            Reply::Created { path, czxid } => write!(f, "Created({path}, czxid {czxid})"),
            Reply::NodeExists => f.write_str("NodeExists"),
            Reply::NoNode => f.write_str("NoNode"),
            Reply::Children {
                children,
                own: None,
            } => write!(f, "Children {children}"),
            Reply::Children {
                children,
                own: Some(own),
            } => write!(f, "Children {children} (own node {own})"),
            Reply::Stat { exists: true } => f.write_str("Stat(exists)"),
            Reply::Stat { exists: false } => f.write_str("Stat(null)"),
            Reply::Data { czxid } => write!(f, "Data(czxid {czxid})"),
            Reply::Deleted => f.write_str("Deleted"),
            Reply::Event { kind, path } => {
                let kind = match kind {
                    EventKind::NodeCreated => "NodeCreated",
                    EventKind::NodeDeleted => "NodeDeleted",
                    EventKind::NodeChildrenChanged => "NodeChildrenChanged",
                };
                write!(f, "{kind}({path})")
            }
            Reply::SessionExpired => f.write_str("SessionExpired"),
            Reply::ConnectionLoss => f.write_str("ConnectionLoss"),
            Reply::Disconnected => f.write_str("Disconnected"),
            Reply::Reconnected => f.write_str("Reconnected"),
            Reply::SessionMoved => f.write_str("SessionMoved"),
            Reply::Synced => f.write_str("Synced"),
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Request(request) => request.fmt(f),
            Msg::Reply(reply) => reply.fmt(f),
            Msg::Write { token } => write!(f, "write(token {token})"),
            Msg::WriteResult { accepted: true } => f.write_str("WriteAccepted"),
            Msg::WriteResult { accepted: false } => f.write_str("WriteRejected"),
        }
    }
}

impl fmt::Display for LockAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockAction::StartAcquire { client } => write!(f, "{client} starts to acquire"),
            LockAction::UseResource { client } => write!(f, "{client} writes to the resource"),
            LockAction::Release { client } => write!(f, "{client} releases"),
            LockAction::Deliver { from, to, msg } => write!(f, "{from} → {to} {msg}"),
            LockAction::ExpireSession { client } => write!(f, "expire {client}'s session"),
            LockAction::LoseConnection { client } => write!(f, "break {client}'s connection"),
            LockAction::Pause { client } => write!(f, "pause {client}"),
            LockAction::Resume { client } => write!(f, "resume {client}"),
            LockAction::CrashClient { client } => write!(f, "crash {client}"),
            LockAction::EventThreadFirst { from, to, msg } => {
                write!(
                    f,
                    "{from} → {to} {msg} (event thread, before the reply ahead of it)"
                )
            }
            LockAction::Partition { cut } => write!(f, "partition {cut} from the others"),
            LockAction::ReadTimeout => f.write_str("the partition outlasts the read timeout"),
            LockAction::Heal => f.write_str("heal the partition"),
            LockAction::CrashServer => f.write_str("crash S"),
            LockAction::RestartServer => f.write_str("restart S"),
            LockAction::Ensemble(step) => step.fmt(f),
        }
    }
}

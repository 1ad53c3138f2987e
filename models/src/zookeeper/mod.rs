//! A ZooKeeper service with one server that handles one request at a time, and the interface
//! ([`ZkService`]) through which the lock world reaches whatever serves it.
//!
//! What is modelled (docs/zookeeper.md):
//! - the lock namespace: the node `/lock` and its children `/lock/lock-<seq>`, with the create
//!   modes persistent, ephemeral and (ephemeral-)sequential. Sequence numbers come from the
//!   parent's child-create counter (ZooKeeper's `cversion`): creates increment it, deletes do not;
//! - `czxid` per znode, from a transaction counter that every write (create, delete, session
//!   create and close) increments;
//! - sessions per client slot: live, expired or closed. Expiry deletes the session's ephemeral
//!   znodes, fires the watches on them and queues `SessionExpired` to the client, which learns of
//!   it only when it reads that notification;
//! - one-shot watches set by `exists`, `getData` and `getChildren`; `exists` on a missing `/lock`
//!   leaves one too (ZooKeeper's creation watch), which the next create of `/lock` fires.
//!
//! What is left out, and why:
//! - Only the paths the recipes touch exist; a general tree would add states no recipe can reach.
//! - `exists` on a missing child of `/lock` records no watch (the benchmark workload's reading).
//!   ZooKeeper leaves a creation watch there too, but a sequential name is never created twice,
//!   so it could never fire: keeping it would only split states.
//! - The transaction counter is kept only when a client reads `czxid` (the fenced recipe's token):
//!   otherwise it would tell apart states that no step and no property can distinguish.
//! - Replies do not repeat the request's path, as in ZooKeeper's API (`exists` returns a `Stat`).

mod code;
mod server;
mod service;
mod txn;
mod types;

pub use code::{ServerCode, ServerFlaw};
pub use server::{Outbox, Served, Server, ZkConfig};
pub use service::{ClientView, ServiceProperty, ZkService};
pub use txn::LockTxn;
pub use types::{
    ClientId, CreateMode, EventKind, Path, Reply, Request, Seq, SeqMap, SeqSet, SessionState,
    Watch, WatchKind, Zxid, ZxidMap, MAX_CLIENTS, MAX_SEQ,
};

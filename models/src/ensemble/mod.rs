//! The lock world's ZooKeeper service as an ensemble of servers running ZAB
//! (docs/design/ensemble.md; issue 19).
//!
//! [`Ensemble`] embeds ZAB's own state and drives ZAB's own handlers (`crate::zab`), so every
//! broadcast message is a step of the lock world. On top of ZAB it keeps only what ZAB does not:
//! the table of lock transactions that ZAB's transaction values stand for, each client's server,
//! and the clients' watches. Each server's data tree is derived from the prefix of its log it has
//! processed ([`tree`]), so it costs no state.
//!
//! A request follows ZooKeeper's path (`FollowerRequestProcessor`, `PrepRequestProcessor`,
//! `CommitProcessor`, `FinalRequestProcessor`):
//! 1. a read is answered by the client's own server, from its tree, which may be behind the
//!    leader's, once that server holds no write of the read's session it has not applied yet
//!    ([`session_queue`]);
//! 2. a write reaching a follower is forwarded to the leader on the follower–leader connection;
//! 3. the leader prepares it against its view with every logged transaction applied, committed or
//!    not (`outstandingChanges`), and proposes the transaction in the same step;
//! 4. ZAB's broadcast logs, acknowledges and commits it;
//! 5. each server applies it when its processed prefix reaches it: it fires the watches of its own
//!    clients, and the client's own server sends the reply.
//!
//! Sessions ([`sessions`]): the established leader's tracker checks a session when it prepares
//! its create or delete, expires a session by preparing a closeSession (the `session_expiries`
//! fault, under the `[timing]` assumptions), and forgets it when it applies the closeSession; a
//! server closes the connection of a session it has closed, so replies of later transactions
//! for it go nowhere. `zk-1208` is the flaw of that check. Where a client's own connection can
//! break (`message_loss`), the tracker also records each session's owner, the server it was
//! created or revalidated through, and refuses a write forwarded by another server with
//! `SessionMoved`; `zk-710` is the code without that check.
//!
//! A crashed client's server closes its connection, not its session: its nodes stay until the
//! leader expires the session, a weakly fair step since the client is silent for good.
//!
//! With `sessions_at_start = false` no session is open at the start: each client's first step is
//! its connect request, a createSession its server forwards to the leader like any write, and
//! its recipe starts once its own server has applied it and answered.
//!
//! `sync()` ([`sync`]) makes a follower catch up with its leader before it answers.
//!
//! What is left out so far (each comes with a later step of the design's §8): the other
//! server-side session flaws. A lock world on an ensemble refuses the keys that would need them.

mod action;
mod pack;
mod service;
mod session_queue;
mod sessions;
mod state;
mod sync;
mod tasks;
mod timing;
mod tracker;
mod tree;
mod untracked;

pub use action::EnsembleStep;
pub use state::{Ensemble, EnsembleConfig, Unread};
pub use timing::Timing;
pub use tracker::Tracker;
#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod ended_tests;
#[cfg(test)]
mod failover_tests;
#[cfg(test)]
mod join_tests;
#[cfg(test)]
mod moved_tests;
#[cfg(test)]
mod open_tests;
#[cfg(test)]
mod retry_tests;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod sync_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod zab_bug_tests;

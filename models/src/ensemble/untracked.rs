//! ZOOKEEPER-1367 (`zookeeper = "zk-1367"`): the sessions a server learned while synchronising
//! with its leader without recording them.
//!
//! A follower synchronised by DIFF (or after a TRUNC) receives the leader's committed
//! transactions before NEWLEADER and applies them straight to its database
//! (`Learner.syncWithLeader` called `ZKDatabase.processTxn`). That updates the data tree, but
//! not the database's table of sessions (`sessionsWithTimeouts`), which only the server's own
//! `processTxn` fills through its session tracker. The snapshot the follower takes at NEWLEADER
//! records the table as it is, so a restart does not bring the session back either. When that
//! server later leads, its tracker is built from the table (`createSessionTracker`): the session
//! is open in its tree but not tracked, so it never expires, its ephemeral nodes stay, and a
//! revalidation or a write of it is refused as if it had expired. The fix applies the sync's
//! transactions through `ZooKeeperServer.processTxn`, which records createSession and
//! closeSession in the tracker and the table, as the request pipeline does in broadcast.
//!
//! The model keeps, per server, the clients whose session that server's table lacks
//! ([`Ensemble::untracked`]), only with zk-1367's code (always empty otherwise):
//! - a createSession the server applies at NEWLEADER from a DIFF adds its client;
//! - one it applies through its pipeline (in broadcast, or at UPTODATE from the proposals it
//!   buffered after NEWLEADER) removes it (`addSession`), and so does a closeSession;
//! - a SNAP replaces the table with the leader's (the snapshot carries the leader's table);
//! - a crash changes nothing (the table comes back from the snapshot as it was);
//! - a server that becomes the established leader tracks the sessions open in its tree that its
//!   table has.

use super::state::{Ensemble, EnsembleConfig};
use super::tree::processed;
use crate::zab::state::Phase;
use crate::zab::types::{Log, MAX_SERVERS};
use crate::zab::Sid;
use crate::zookeeper::{LockTxn, ServerFlaw};

/// What each server was doing before a step, as far as its session table is concerned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Syncing {
    /// Not synchronising with a leader: what it applies goes through its pipeline.
    #[default]
    No,
    /// Synchronising with `leader` after a DIFF or a TRUNC.
    Diff { leader: Sid },
    /// Synchronising with `leader` after a SNAP.
    Snap { leader: Sid },
}

/// Whether the servers run zk-1367's code: with any other, every table agrees with its tree and
/// [`Ensemble::untracked`] stays empty, so neither function below has anything to do.
fn tables_may_lag(config: &EnsembleConfig) -> bool {
    config.flaw == Some(ServerFlaw::Zk1367)
}

impl Ensemble {
    /// Before a step: which servers are synchronising, and how. Only zk-1367's code asks.
    pub(super) fn syncing(&self, config: &EnsembleConfig) -> [Syncing; MAX_SERVERS] {
        let mut syncing = [Syncing::No; MAX_SERVERS];
        if !tables_may_lag(config) {
            return syncing;
        }
        for s in self.zab.ids() {
            let server = self.zab.server(s);
            if let (Phase::Synchronization, Some(following)) = (server.phase, server.following()) {
                let leader = following.leader;
                syncing[usize::from(s)] = if following.snap {
                    Syncing::Snap { leader }
                } else {
                    Syncing::Diff { leader }
                };
            }
        }
        syncing
    }

    /// After a step: each server that applied transactions records their sessions in its table,
    /// or (zk-1367, at NEWLEADER after a DIFF) does not. `before` is each server's processed
    /// prefix before the step, `syncing` what [`Ensemble::syncing`] said then.
    pub(super) fn note_session_tables(
        &mut self,
        config: &EnsembleConfig,
        before: &[Log; MAX_SERVERS],
        syncing: &[Syncing; MAX_SERVERS],
    ) {
        if !tables_may_lag(config) {
            return;
        }
        for s in self.zab.ids() {
            let i = usize::from(s);
            let old = &before[i];
            let now: Log = processed(self.zab.server(s)).iter().copied().collect();
            if now.len() <= old.len() || !now.starts_with(old) {
                continue;
            }
            // Still synchronising after the step: it handled NEWLEADER, and applied the sync's
            // committed transactions directly; UPTODATE moves it to broadcast in the same step
            // that hands the buffered proposals to its pipeline.
            let at_newleader = self.zab.server(s).phase == Phase::Synchronization;
            let sync = if at_newleader {
                syncing[i]
            } else {
                Syncing::No
            };
            if let Syncing::Snap { leader } = sync {
                self.untracked[i] = self.untracked[usize::from(leader)];
                continue;
            }
            for &entry in &now[old.len()..] {
                let txn = self.txn(entry);
                let session = match txn {
                    LockTxn::CreateSession { client }
                    | LockTxn::Expire { client }
                    | LockTxn::Delete {
                        client,
                        close_session: true,
                        ..
                    } => client,
                    _ => continue,
                };
                let opened = matches!(txn, LockTxn::CreateSession { .. });
                if opened && sync != Syncing::No {
                    self.untracked[i] |= 1 << session;
                } else {
                    // Recorded (`addSession`), or closed: the table agrees with the tree.
                    self.untracked[i] &= !(1 << session);
                }
            }
        }
    }
}

//! Phase 2: synchronization (docs/zab.md; `LearnerHandler.syncFollower`,
//! `Learner.syncWithLeader`).
//!
//! Leader, per follower that acknowledged the epoch:
//! 1. Choose from the follower's last zxid: DIFF (it is in the leader's log: send what follows),
//!    TRUNC (the follower has transactions the leader does not: cut back to the last zxid both
//!    have, then send what follows), SNAP (the follower's log is empty: send everything).
//!    In synchronization the leader's whole log is sent as committed (PROPOSAL+COMMIT pairs);
//!    in broadcast, a late follower gets the committed part, then the outstanding proposals as
//!    PROPOSALs (`Leader.startForwarding`), whose COMMITs follow later.
//! 2. Queue NEWLEADER(e) and forward new proposals and commits to the follower from now on.
//! 3. With NEWLEADER acks from a quorum (itself included) commit the whole log, enter broadcast
//!    and send UPTODATE; a follower acking later gets UPTODATE at once. The first ACK after
//!    NEWLEADER counts as the NEWLEADER ACK whatever its zxid (see
//!    `on_ack_in_handshake` in [`super::broadcast`]). A later ACK(e, 0) from a follower is its ACK of
//!    UPTODATE, which the leader ignores (`Leader.processAck`).
//!
//! Follower:
//! 4. TRUNC cuts the log at once; DIFF and SNAP transactions are kept in memory. PROPOSALs are
//!    buffered, COMMITs mark the buffered proposal they name. (zk-2355: a DIFF also sets the
//!    tree's last processed zxid to the leader's at once.)
//! 5. NEWLEADER: write the synced transactions to disk (delivering them), write currentEpoch = e,
//!    send ACK(e, 0) — in this order and as one step in the fixed protocol. The flawed variants
//!    split or reorder this step (see [`super::ZabVariant`]); their later halves are
//!    [`ZabModel::log_synced`], [`ZabModel::ack_new_leader`] and [`ZabModel::apply_committed`].
//! 6. UPTODATE: send ACK(e, 0), log and acknowledge the buffered proposals, deliver those
//!    committed, enter broadcast.

use super::state::{Phase, ZabState};
use super::types::{bit, members, Log, Msg, Sid, SyncMode, Txn, Zxid};
use super::{Flaw, ZabModel};

/// Step 1: how to bring a follower whose last zxid is `theirs` up to `log`, and which
/// transactions to send.
pub fn choose_sync(log: &[Txn], theirs: Zxid) -> (SyncMode, Log) {
    let after = |i: usize| log[i..].iter().copied().collect::<Log>();
    if theirs == Zxid::ZERO {
        return if log.is_empty() {
            (SyncMode::Diff, Log::new())
        } else {
            (SyncMode::Snap, after(0))
        };
    }
    if let Some(i) = log.iter().position(|t| t.zxid == theirs) {
        return (SyncMode::Diff, after(i + 1));
    }
    // The follower has something the leader lacks: cut back to the last zxid below its own that
    // the leader has, and send what follows it.
    let keep = log.iter().take_while(|t| t.zxid < theirs).count();
    let to = if keep == 0 {
        Zxid::ZERO
    } else {
        log[keep - 1].zxid
    };
    (SyncMode::Trunc { to }, after(keep))
}

impl ZabModel {
    /// Steps 1–2 for every follower waiting to be synced.
    pub(super) fn sync_learners(&self, state: &mut ZabState, leader: Sid) {
        let server = state.server(leader);
        let leading = server.leading().expect("leading");
        let waiting = leading.to_sync;
        let epoch = leading.epoch;
        let log = server.disk.log;
        let delivered = usize::from(server.disk.delivered);
        // In synchronization the whole log is about to be committed; in broadcast only the
        // delivered part is, and the rest is outstanding.
        let committed = if server.phase == Phase::Synchronization {
            log.len()
        } else {
            delivered
        };
        for follower in members(waiting) {
            let theirs = leading_last_zxid(state, leader, follower);
            let (mode, txns) = choose_sync(&log[..committed], theirs);
            state.send(leader, follower, Msg::Sync { mode, txns });
            let outstanding = if self.forwards_outstanding() {
                &log[committed..]
            } else {
                &[]
            };
            for &txn in outstanding {
                state.send(leader, follower, Msg::Proposal { txn });
            }
            state.send(leader, follower, Msg::NewLeader { epoch });
            let leading = state.server_mut(leader).leading_mut().expect("leading");
            leading.to_sync &= !bit(follower);
            leading.learners |= bit(follower);
        }
    }

    /// Step 4, at the follower.
    pub(super) fn on_sync(&self, state: &mut ZabState, follower: Sid, mode: SyncMode, txns: Log) {
        let server = state.server_mut(follower);
        if server.following().is_none() {
            return;
        }
        if let SyncMode::Trunc { to } = mode {
            // A TRUNC may cut a proposal that the leader commits meanwhile: the leader sends
            // it again after NEWLEADER, so only a leader without it would lose it.
            let keep = server.disk.log.iter().take_while(|t| t.zxid <= to).count();
            server.disk.log.truncate(keep);
            server.disk.delivered = server.disk.delivered.min(keep as u8);
            // `ZKDatabase.truncateLog` reloads the data tree from the cut log.
            server.loaded = server.loaded.min(to);
            let following = server.following_mut().expect("checked");
            following.reported = following.reported.min(keep as u8);
        }
        if mode == SyncMode::Diff && self.has(Flaw::Zk2355) {
            claim_diff_zxid(state, follower, &txns);
        }
        let following = state.server_mut(follower).following_mut().expect("checked");
        following.synced = txns;
        following.snap = mode == SyncMode::Snap;
        // Only the flawed NEWLEADER handling asks (see `Following::snapshot_needed`).
        following.snapshot_needed = mode != SyncMode::Diff && self.flawed_after_diff();
    }

    /// Whether the code handles NEWLEADER or UPTODATE differently after a DIFF.
    fn flawed_after_diff(&self) -> bool {
        [
            Flaw::Zk4643,
            Flaw::Zk4646,
            Flaw::Zk3911,
            Flaw::Zk4685,
            Flaw::Zk3023,
        ]
        .into_iter()
        .any(|flaw| self.has(flaw))
    }

    /// Step 4, at the follower: a PROPOSAL during synchronization is buffered, not logged.
    ///
    /// `syncWithLeader` buffers every PROPOSAL, whatever its log holds: one the log has already
    /// (logged before an election that did not count it, zk-2845, or by a stray thread, zk-4712)
    /// is buffered too, and its COMMIT finds it.
    pub(super) fn on_sync_proposal(&self, state: &mut ZabState, follower: Sid, txn: Txn) {
        let server = state.server_mut(follower);
        let following = server.following_mut().expect("a follower in sync");
        if !following.pending.contains(&txn) {
            let overflow = following.pending.try_push(txn);
            assert!(
                overflow.is_none(),
                "transactions are bounded by the buffer capacity"
            );
        }
    }

    /// Step 4, at the follower: a COMMIT during synchronization marks the next buffered proposal
    /// (`packetsCommitted`). With nothing buffered, `syncWithLeader` dereferences the missing
    /// proposal and the follower's QuorumPeer thread dies (ZOOKEEPER-4394): it goes back to
    /// LOOKING.
    pub(super) fn on_sync_commit(&self, state: &mut ZabState, follower: Sid, zxid: Zxid) {
        let following = state
            .server_mut(follower)
            .following_mut()
            .expect("a follower in sync");
        if following.pending.is_empty() {
            state.ghost.during_action.commit_without_proposal = true;
            self.stop_following(state, follower);
            return;
        }
        let next = usize::from(following.pending_committed);
        // A COMMIT that names another proposal is only logged as a warning by ZooKeeper.
        if following.pending.get(next).map(|t| t.zxid) == Some(zxid) {
            following.pending_committed += 1;
        }
    }

    /// Step 5, at the follower: NEWLEADER, handled as the code does. Where flaws combine (a
    /// release), the SyncRequestProcessor's race with the QuorumPeer thread (zk-4685) is the
    /// handling: it also leaves currentEpoch on disk before the transactions (zk-4643) and may
    /// acknowledge NEWLEADER before they are written (zk-4646).
    pub(super) fn on_new_leader(&self, state: &mut ZabState, follower: Sid, epoch: u8) {
        let server = state.server_mut(follower);
        let Some(following) = server.following() else {
            return;
        };
        let leader = following.leader;
        let snapshot_needed =
            std::mem::take(&mut server.following_mut().expect("following").snapshot_needed);
        // After a SNAP or a TRUNC every version takes its snapshot before it writes the epoch.
        let after_diff = !snapshot_needed && self.flawed_after_diff();
        let epoch_first = [Flaw::Zk4643, Flaw::Zk4646, Flaw::Zk3911]
            .into_iter()
            .any(|flaw| self.has(flaw));
        if after_diff && self.has(Flaw::Zk4685) {
            // The transactions go to the SyncRequestProcessor, whose thread logs and
            // acknowledges them (`log_synced`) while this thread still has to write the
            // ACK of NEWLEADER (`ack_new_leader`): either may go first.
            let server = state.server_mut(follower);
            server.disk.current_epoch = epoch;
            let following = server.following_mut().expect("following");
            following.unlogged = true;
            following.newleader_ack_due = true;
            if self.has(Flaw::Zk4394) {
                // The buffered proposals go to the same processor and the buffer is emptied.
                // (The model writes and acknowledges them at once, so their ACKs reach the
                // leader before the NEWLEADER ACK: a simplification of that thread's timing.)
                for txn in log_pending(state, follower) {
                    state.send(follower, leader, Msg::Ack { zxid: txn.zxid });
                }
            }
        } else if after_diff && epoch_first {
            // currentEpoch first, the transactions later.
            let server = state.server_mut(follower);
            server.disk.current_epoch = epoch;
            server.following_mut().expect("following").unlogged = true;
            if !self.has(Flaw::Zk4643) {
                // zk-4646: the transactions go to the SyncRequestProcessor's queue; zk-3911:
                // they stay in memory until UPTODATE. Either way the ACK goes at once.
                // (zk-4643 sends it once they are written.)
                state.send(follower, leader, ack_new_leader(epoch));
            }
        } else {
            let applied = write_synced(state, follower);
            if self.has(Flaw::Zk3023) && after_diff {
                // Logged, but applied only after UPTODATE was acknowledged.
                let server = state.server_mut(follower);
                server.disk.delivered -= applied;
                server.following_mut().expect("following").to_apply = applied;
            }
            let logged = if self.has(Flaw::Zk4394) {
                log_pending(state, follower)
            } else {
                Log::new()
            };
            state.server_mut(follower).disk.current_epoch = epoch;
            state.send(follower, leader, ack_new_leader(epoch));
            for txn in logged {
                state.send(follower, leader, Msg::Ack { zxid: txn.zxid });
            }
        }
    }

    /// Step 5's second half in the flawed variants: the synced transactions reach the disk
    /// (zk-4643: and the ACK of NEWLEADER goes out; zk-4685: and the SyncRequestProcessor
    /// acknowledges each one).
    pub(super) fn log_synced(&self, state: &mut ZabState, follower: Sid) {
        let synced = state
            .server(follower)
            .following()
            .expect("only followers log synced txns")
            .synced;
        let applied = write_synced(state, follower);
        let server = state.server_mut(follower);
        if self.has(Flaw::Zk3023) && server.phase == Phase::Synchronization {
            // Logged, but applied only after UPTODATE was acknowledged.
            server.disk.delivered -= applied;
            server.following_mut().expect("following").to_apply += applied;
        }
        let following = server
            .following_mut()
            .expect("only followers log synced txns");
        following.unlogged = false;
        let leader = following.leader;
        let epoch = server.disk.current_epoch;
        if self.has(Flaw::Zk4685) {
            for txn in synced {
                state.send(follower, leader, Msg::Ack { zxid: txn.zxid });
            }
        } else if self.has(Flaw::Zk4643) {
            state.send(follower, leader, ack_new_leader(epoch));
        }
    }

    /// zk-4685: the QuorumPeer thread writes the ACK of NEWLEADER, after or before the
    /// SyncRequestProcessor's ACKs of the synced transactions.
    pub(super) fn ack_new_leader(&self, state: &mut ZabState, follower: Sid) {
        let server = state.server_mut(follower);
        let epoch = server.disk.current_epoch;
        let following = server
            .following_mut()
            .expect("only followers ack NEWLEADER");
        following.newleader_ack_due = false;
        let leader = following.leader;
        state.send(follower, leader, ack_new_leader(epoch));
    }

    /// zk-3023: the CommitProcessor applies the transactions committed in the sync, after the
    /// follower acknowledged UPTODATE.
    pub(super) fn apply_committed(&self, state: &mut ZabState, follower: Sid) {
        let server = state.server_mut(follower);
        let following = server.following_mut().expect("only followers apply");
        let count = std::mem::take(&mut following.to_apply);
        server.disk.delivered += count;
        assert!(
            usize::from(server.disk.delivered) <= server.disk.log.len(),
            "only logged transactions are applied"
        );
    }

    /// Step 3, at the leader: an ACK with zxid (e, 0). From a follower still in its handshake it
    /// acknowledges NEWLEADER; from one past it, UPTODATE.
    pub(super) fn on_ack_new_leader(&self, state: &mut ZabState, leader: Sid, follower: Sid) {
        let server = state.server_mut(leader);
        let phase = server.phase;
        let Some(leading) = server.leading_mut() else {
            return;
        };
        if leading.ready & bit(follower) != 0 {
            self.on_ack_up_to_date(state, leader, follower);
            return;
        }
        leading.newleader_acks |= bit(follower);
        leading.ready |= bit(follower);
        match phase {
            Phase::Synchronization
                if self.config.is_quorum(leading.newleader_acks | bit(leader)) =>
            {
                // Every learner past its handshake gets UPTODATE, also one whose NEWLEADER ACK
                // did not count (see `on_ack_in_handshake`).
                let past_handshake = leading.ready;
                // The whole log is committed: deliver it, and send UPTODATE.
                server.disk.delivered = server.disk.log.len() as u8;
                server.phase = Phase::Broadcast;
                let epoch = server.disk.current_epoch;
                let log = server.disk.log;
                for txn in log {
                    state.ghost.commit(txn, epoch);
                }
                for peer in members(past_handshake).filter(|&s| s != leader) {
                    state.send(leader, peer, Msg::UpToDate);
                }
            }
            Phase::Broadcast => state.send(leader, follower, Msg::UpToDate),
            _ => {}
        }
    }

    /// Step 3, at the leader: the ACK of UPTODATE. ZooKeeper ignores it, but by then the
    /// follower must have processed every transaction the leader committed before its epoch
    /// (`Zab1_0Test` asserts the follower's lastProcessedZxid): the `state_consistent` check.
    fn on_ack_up_to_date(&self, state: &mut ZabState, leader: Sid, follower: Sid) {
        let server = state.server(leader);
        let epoch = server.disk.current_epoch;
        let earlier = server
            .disk
            .log
            .iter()
            .filter(|t| t.zxid.epoch < epoch)
            .count();
        if usize::from(state.server(follower).disk.delivered) < earlier {
            state.ghost.during_action.uptodate_before_applied = true;
        }
    }

    /// Step 6, at the follower (zk-3911: only now the synced transactions are written).
    pub(super) fn on_up_to_date(&self, state: &mut ZabState, follower: Sid) {
        let server = state.server_mut(follower);
        let Some(following) = server.following_mut() else {
            return;
        };
        if following.unlogged {
            assert!(self.has(Flaw::Zk3911), "others wait for the disk");
            following.unlogged = false;
            write_synced(state, follower);
        }
        let server = state.server_mut(follower);
        server.phase = Phase::Broadcast;
        let epoch = server.disk.current_epoch;
        let following = server.following_mut().expect("following");
        let leader = following.leader;
        let committed = usize::from(following.pending_committed);
        state.send(follower, leader, ack_new_leader(epoch));
        let logged = log_pending(state, follower);
        for txn in &logged {
            state.send(follower, leader, Msg::Ack { zxid: txn.zxid });
        }
        // The committed ones are applied next, if they follow what is applied already (a stray
        // write of zk-4712 can stand between).
        let server = state.server_mut(follower);
        let from = usize::from(server.disk.delivered)
            + usize::from(server.following().expect("following").to_apply);
        if server.disk.log.get(from..from + committed) != Some(&logged[..committed]) {
            return;
        }
        if self.has(Flaw::Zk3023) {
            server.following_mut().expect("following").to_apply += committed as u8;
        } else {
            server.disk.delivered += committed as u8;
        }
    }
}

/// zk-2355, at the follower: `syncWithLeader` sets the data tree's last processed zxid to the
/// DIFF's zxid, the last committed transaction the leader sends in it, as soon as the DIFF
/// arrives, before any of those transactions is applied (they are applied at NEWLEADER, or
/// logged and applied after UPTODATE). The fix sets it only after a SNAP or a TRUNC, whose
/// tree is already the leader's at that zxid. The claim lives in memory: a restart replays the
/// log and forgets it, but a follower that goes back to LOOKING keeps it
/// ([`Server::fast_forward`]).
///
/// [`Server::fast_forward`]: super::state::Server::fast_forward
fn claim_diff_zxid(state: &mut ZabState, follower: Sid, txns: &Log) {
    if let Some(last) = txns.last() {
        let server = state.server_mut(follower);
        server.loaded = server.loaded.max(last.zxid);
    }
}

/// Log the proposals buffered in the sync, in order, and return them (their ACKs follow).
fn log_pending(state: &mut ZabState, follower: Sid) -> Log {
    let server = state.server_mut(follower);
    let following = server.following_mut().expect("only followers buffer");
    let pending = std::mem::take(&mut following.pending);
    following.pending_committed = 0;
    for &txn in &pending {
        server.disk.append_once(txn);
    }
    pending
}

/// The ACK of NEWLEADER(e): an ACK with zxid (e, 0).
fn ack_new_leader(epoch: u8) -> Msg {
    Msg::Ack {
        zxid: Zxid::new(epoch, 0),
    }
}

/// The last zxid `follower` reported in its ACKEPOCH.
fn leading_last_zxid(state: &ZabState, leader: Sid, follower: Sid) -> Zxid {
    state.server(leader).leading().expect("leading").last_zxids[usize::from(follower)]
}

/// Write the synced transactions to the follower's disk and deliver them (they came as
/// PROPOSAL+COMMIT pairs, or as a snapshot of committed state); return how many were delivered.
///
/// What the follower applies is the part of its log the leader synced against plus the synced
/// transactions. In zk-4712 a stray proposal of the old leader may have been written after the
/// ACKEPOCH; it sits in the log but is never applied, so the delivered prefix then stops
/// before it (the log is no longer the leader's: `history_consistency`).
fn write_synced(state: &mut ZabState, follower: Sid) -> u8 {
    let server = state.server_mut(follower);
    let following = server.following_mut().expect("only followers sync");
    let txns = std::mem::take(&mut following.synced);
    let base = if std::mem::replace(&mut following.snap, false) {
        server.disk.log.clear();
        server.loaded = Zxid::ZERO;
        0
    } else {
        usize::from(std::mem::take(&mut following.reported))
    };
    for &txn in &txns {
        // Only zk-4712's stray writes can put a synced transaction in the log already.
        server.disk.append_once(txn);
    }
    let synced_end = base + txns.len();
    if server.disk.log.get(base..synced_end) == Some(&txns[..]) {
        server.disk.delivered = synced_end as u8;
        txns.len() as u8
    } else {
        server.disk.delivered = base as u8;
        0
    }
}

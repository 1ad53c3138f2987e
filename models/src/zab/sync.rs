//! Phase 2: synchronization (DOMAIN.md §5.4; `LearnerHandler.syncFollower`,
//! `Learner.syncWithLeader`).
//!
//! Leader, per follower that acknowledged the epoch:
//! 1. Choose from the follower's last zxid: DIFF (it is in the leader's log: send what follows),
//!    TRUNC (the follower has transactions the leader does not: cut back to the last zxid both
//!    have, then send what follows), SNAP (the follower's log is empty: send everything).
//!    In synchronization the leader's whole log is sent as committed (PROPOSAL+COMMIT pairs);
//!    in broadcast, a late follower gets the committed part, and the outstanding proposals follow
//!    NEWLEADER as PROPOSALs.
//! 2. Queue NEWLEADER(e) and forward new proposals and commits to the follower from now on.
//! 3. With NEWLEADER acks from a quorum (itself included) commit the whole log, enter broadcast
//!    and send UPTODATE; a follower acking later gets UPTODATE at once.
//!
//! Follower:
//! 4. TRUNC cuts the log at once; DIFF and SNAP transactions are kept in memory.
//! 5. NEWLEADER: write the synced transactions to disk (delivering them), write currentEpoch = e,
//!    send ACK(e, 0) — in this order and as one step in the fixed protocol. The flawed variants
//!    split this step (see [`super::ZabVariant`]); their second half is [`ZabModel::log_synced`].
//! 6. UPTODATE: enter broadcast.

use super::state::{Phase, ZabState};
use super::types::{bit, members, Log, Msg, Sid, SyncMode, Txn, Zxid};
use super::{ZabModel, ZabVariant};

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
        let log = server.disk.log.clone();
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
            state.send(leader, follower, Msg::NewLeader { epoch });
            for &txn in &log[committed..] {
                state.send(leader, follower, Msg::Proposal { txn });
            }
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
            let following = server.following_mut().expect("checked");
            following.reported = following.reported.min(keep as u8);
        }
        let following = state.server_mut(follower).following_mut().expect("checked");
        following.synced = txns;
        following.snap = mode == SyncMode::Snap;
        // Only the flawed NEWLEADER handling asks (see `Following::snapshot_needed`).
        following.snapshot_needed = mode != SyncMode::Diff
            && !matches!(self.config.variant, ZabVariant::Fixed | ZabVariant::Zk4712);
    }

    /// Step 5, at the follower: NEWLEADER, handled as the variant does.
    pub(super) fn on_new_leader(&self, state: &mut ZabState, follower: Sid, epoch: u8) {
        let server = state.server_mut(follower);
        let Some(following) = server.following() else {
            return;
        };
        let leader = following.leader;
        let snapshot_needed =
            std::mem::take(&mut server.following_mut().expect("following").snapshot_needed);
        // zk-4712's flaw is elsewhere (broadcast proposals): its NEWLEADER is the fixed one. And
        // after a SNAP or a TRUNC every version takes its snapshot before it writes the epoch.
        if snapshot_needed || matches!(self.config.variant, ZabVariant::Fixed | ZabVariant::Zk4712)
        {
            write_synced(state, follower);
            state.server_mut(follower).disk.current_epoch = epoch;
            state.send(follower, leader, ack_new_leader(epoch));
            return;
        }
        // The flawed variants, after a DIFF: currentEpoch first, the transactions later.
        let server = state.server_mut(follower);
        server.disk.current_epoch = epoch;
        server.following_mut().expect("following").unlogged = true;
        if self.config.variant != ZabVariant::Zk4643 {
            // zk-4646: the transactions go to the SyncRequestProcessor's queue; zk-3911: they
            // stay in memory until UPTODATE. Either way the ACK goes at once. (zk-4643 sends it
            // once they are written.)
            state.send(follower, leader, ack_new_leader(epoch));
        }
    }

    /// Step 5's second half in the flawed variants: the synced transactions reach the disk
    /// (zk-4643: and the ACK of NEWLEADER goes out).
    pub(super) fn log_synced(&self, state: &mut ZabState, follower: Sid) {
        write_synced(state, follower);
        let server = state.server_mut(follower);
        let following = server
            .following_mut()
            .expect("only followers log synced txns");
        following.unlogged = false;
        let leader = following.leader;
        let epoch = server.disk.current_epoch;
        if self.config.variant == ZabVariant::Zk4643 {
            state.send(follower, leader, ack_new_leader(epoch));
        }
    }

    /// Step 3, at the leader: an ACK of NEWLEADER.
    pub(super) fn on_ack_new_leader(&self, state: &mut ZabState, leader: Sid, follower: Sid) {
        let server = state.server_mut(leader);
        let phase = server.phase;
        let Some(leading) = server.leading_mut() else {
            return;
        };
        leading.newleader_acks |= bit(follower);
        leading.ready |= bit(follower);
        match phase {
            Phase::Synchronization
                if self.config.is_quorum(leading.newleader_acks | bit(leader)) =>
            {
                let acked = leading.newleader_acks;
                // The whole log is committed: deliver it, and send UPTODATE.
                server.disk.delivered = server.disk.log.len() as u8;
                server.phase = Phase::Broadcast;
                let epoch = server.disk.current_epoch;
                let log = server.disk.log.clone();
                for txn in log {
                    state.ghost.commit(txn, epoch);
                }
                for peer in members(acked).filter(|&s| s != leader) {
                    state.send(leader, peer, Msg::UpToDate);
                }
            }
            Phase::Broadcast => state.send(leader, follower, Msg::UpToDate),
            _ => {}
        }
    }

    /// Step 6, at the follower (zk-3911: only now the synced transactions are written).
    pub(super) fn on_up_to_date(&self, state: &mut ZabState, follower: Sid) {
        let server = state.server_mut(follower);
        let Some(following) = server.following_mut() else {
            return;
        };
        if following.unlogged {
            assert_eq!(
                self.config.variant,
                ZabVariant::Zk3911,
                "others wait for the disk"
            );
            following.unlogged = false;
            write_synced(state, follower);
        }
        state.server_mut(follower).phase = Phase::Broadcast;
    }
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
/// PROPOSAL+COMMIT pairs, or as a snapshot of committed state).
///
/// What the follower applies is the part of its log the leader synced against plus the synced
/// transactions. In zk-4712 a stray proposal of the old leader may have been written after the
/// ACKEPOCH; it sits in the log but is never applied, so the delivered prefix then stops
/// before it (the log is no longer the leader's: `history_consistency`).
fn write_synced(state: &mut ZabState, follower: Sid) {
    let server = state.server_mut(follower);
    let following = server.following_mut().expect("only followers sync");
    let txns = std::mem::take(&mut following.synced);
    let base = if std::mem::replace(&mut following.snap, false) {
        server.disk.log.clear();
        0
    } else {
        usize::from(std::mem::take(&mut following.reported))
    };
    for &txn in &txns {
        // Only zk-4712's stray writes can put a synced transaction in the log already.
        if !server.disk.log.contains(&txn) {
            server
                .disk
                .log
                .try_push(txn)
                .expect("a log holds every transaction at most once");
        }
    }
    let synced_end = base + txns.len();
    server.disk.delivered = if server.disk.log.get(base..synced_end) == Some(&txns[..]) {
        synced_end as u8
    } else {
        base as u8
    };
}

//! Phase 1: discovery (docs/zab.md; `Leader.getEpochToPropose`, `Leader.waitForEpochAck`,
//! `Learner.registerWithLeader`).
//!
//! 1. The follower connects and sends FOLLOWERINFO with its acceptedEpoch.
//! 2. Once FOLLOWERINFO came from a quorum (the leader counts itself), the leader proposes
//!    e = max(acceptedEpoch) + 1, writes it to its own acceptedEpoch, and sends LEADERINFO(e);
//!    a follower that connects later gets LEADERINFO(e) at once.
//! 3. The follower: e > acceptedEpoch → writes acceptedEpoch = e and sends ACKEPOCH(currentEpoch,
//!    last zxid); e = acceptedEpoch → ACKEPOCH(-1), not counted; e < acceptedEpoch → back to
//!    LOOKING. The last zxid is the data tree's last processed one, not the log's.
//! 4. The leader gives up (LOOKING) if a counted ACKEPOCH is more recent than its own
//!    (currentEpoch, last zxid). With a quorum of counted ACKEPOCHs it writes currentEpoch = e:
//!    it is *established*, enters synchronization and syncs every follower that acknowledged.

use super::state::{Phase, ZabState};
use super::types::{bit, Msg, Sid, Zxid};
use super::{Flaw, ZabModel};

impl ZabModel {
    /// Steps 1–2, at the leader.
    pub(super) fn on_follower_info(
        &self,
        state: &mut ZabState,
        leader: Sid,
        follower: Sid,
        accepted_epoch: u8,
    ) {
        let Some(leading) = state.server_mut(leader).leading_mut() else {
            return; // no longer leading: the connection is stale
        };
        leading.infos |= bit(follower);
        leading.connected |= bit(follower);
        if leading.epoch != 0 {
            let epoch = leading.epoch;
            state.send(leader, follower, Msg::LeaderInfo { epoch });
            return;
        }
        leading.max_accepted = leading.max_accepted.max(accepted_epoch);
        if !self.config.is_quorum(leading.infos) {
            return;
        }
        let epoch = leading.max_accepted + 1;
        if !self.config.epoch_allowed(epoch) {
            // Beyond the scenario's `epochs` bound (two elections raced for the last epoch):
            // this leadership is not explored further, as TLC's MaxEpoch constraint prunes it.
            self.step_down(state, leader);
            return;
        }
        leading.epoch = epoch;
        let waiting = leading.infos & leading.connected;
        state.server_mut(leader).disk.accepted_epoch = epoch;
        for peer in super::types::members(waiting).filter(|&s| s != leader) {
            state.send(leader, peer, Msg::LeaderInfo { epoch });
        }
    }

    /// Step 3, at the follower.
    pub(super) fn on_leader_info(&self, state: &mut ZabState, follower: Sid, epoch: u8) {
        let server = state.server_mut(follower);
        let Some(leader) = server.following().map(|f| f.leader) else {
            return;
        };
        let counted = if epoch > server.disk.accepted_epoch {
            if self.keeps_epoch_promise() {
                server.disk.accepted_epoch = epoch;
            }
            true
        } else if epoch == server.disk.accepted_epoch {
            false
        } else {
            // A leader behind what this server already promised: leave it.
            self.stop_following(state, follower);
            return;
        };
        server.phase = Phase::Synchronization;
        // The data tree's last processed zxid (`Learner.registerWithLeader`), and the part of the
        // log up to it: what the leader's sync builds on.
        let last_zxid = server.processed_zxid();
        let reported = server
            .disk
            .log
            .iter()
            .take_while(|t| t.zxid <= last_zxid)
            .count() as u8;
        server.following_mut().expect("following").reported = reported;
        let ack = Msg::AckEpoch {
            current_epoch: server.disk.current_epoch,
            last_zxid,
            counted,
        };
        state.send(follower, leader, ack);
    }

    /// Step 4, at the leader.
    pub(super) fn on_ack_epoch(
        &self,
        state: &mut ZabState,
        leader: Sid,
        follower: Sid,
        current_epoch: u8,
        last_zxid: Zxid,
        counted: bool,
    ) {
        let server = state.server(leader);
        if server.leading().is_none() {
            return;
        }
        let own = (server.disk.current_epoch, server.processed_zxid());
        if counted && (current_epoch, last_zxid) > own {
            // The follower knows more than the leader: the leader must not lead.
            self.step_down(state, leader);
            return;
        }
        let phase = server.phase;
        let leading = state
            .server_mut(leader)
            .leading_mut()
            .expect("checked above");
        if counted {
            leading.epoch_acks |= bit(follower);
        }
        leading.to_sync |= bit(follower);
        leading.last_zxids[usize::from(follower)] = last_zxid;
        if phase != Phase::Discovery {
            self.sync_learners(state, leader);
        } else if self.config.is_quorum(leading.epoch_acks | bit(leader)) {
            self.establish(state, leader);
        }
    }

    /// A quorum acknowledged the new epoch: write currentEpoch, enter synchronization.
    fn establish(&self, state: &mut ZabState, leader: Sid) {
        let server = state.server_mut(leader);
        let epoch = server.leading().expect("leading").epoch;
        server.disk.current_epoch = epoch;
        server.phase = Phase::Synchronization;
        state.ghost.establish(epoch, leader);
        self.sync_learners(state, leader);
    }

    /// A follower stops following: it closes its connection and looks for a leader again.
    ///
    /// zk-4643 and zk-4646: transactions already handed to the SyncRequestProcessor are not lost
    /// by going back to LOOKING (that thread keeps running, and a shutdown that is not full keeps
    /// the in-memory database); only a crash loses them. So they reach the disk first. (zk-3911's
    /// `packetsNotCommitted` is local to `syncWithLeader`: leaving it does lose them.)
    pub(super) fn stop_following(&self, state: &mut ZabState, follower: Sid) {
        let queued = state
            .server(follower)
            .following()
            .is_some_and(|f| f.unlogged);
        if queued && (self.has(Flaw::Zk4643) || self.has(Flaw::Zk4646)) {
            self.log_synced(state, follower);
        }
        if let Some(leader) = state.server(follower).following().map(|f| f.leader) {
            state.close_connection(follower, leader);
        }
        self.look_for_leader(state, follower);
    }

    /// A leader gives up: its own queued proposals reach its disk (see `log_own_proposals`),
    /// it closes every learner connection and looks for a leader again.
    pub(super) fn step_down(&self, state: &mut ZabState, leader: Sid) {
        self.log_own_proposals(state, leader);
        for peer in state.ids().filter(|&s| s != leader).collect::<Vec<_>>() {
            state.close_connection(leader, peer);
        }
        self.look_for_leader(state, leader);
    }
}

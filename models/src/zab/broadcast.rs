//! Phase 3: broadcast (docs/zab.md).
//!
//! 1. A client write reaches the leader: it assigns zxid (e, c+1), adds the proposal to its
//!    outstanding proposals, sends PROPOSAL to every follower it forwards to (`Leader.propose`),
//!    and only then queues it for its own disk (`ProposalRequestProcessor`).
//! 2. A follower logs the proposal (fsync) and sends ACK. (In synchronization it buffers it
//!    instead, see [`super::sync`].) The leader's SyncRequestProcessor writes its queued
//!    proposals in order, and its `AckRequestProcessor` counts the leader's own ACK of each
//!    after the write: a step of its own, in any order with the followers' ACKs.
//! 3. The leader commits a proposal once any quorum acknowledged it (`Leader.tryToCommit`: the
//!    leader need not be in it, so it may commit a proposal it has not written yet), and only in
//!    zxid order (not while its predecessor is outstanding); it sends COMMIT.
//! 4. A follower delivers committed transactions in order.
//!
//! `leader_write = "atomic"` folds the leader's write and own ACK into step 1 (an abstraction:
//! no leader ever has a proposal it has not written).

use super::state::{Phase, Proposal, ZabState};
use super::types::{bit, members, Msg, ServerSet, Sid, Txn, Zxid};
use super::{Flaw, LeaderWrite, ZabModel};

impl ZabModel {
    /// Whether `leader` may take a client write now.
    pub(super) fn takes_writes(&self, state: &ZabState, leader: Sid) -> bool {
        let server = state.server(leader);
        server.up
            && server.leading().is_some()
            && server.phase == Phase::Broadcast
            && state.injected < self.config.transactions
    }

    /// Step 1.
    pub(super) fn on_client_request(&self, state: &mut ZabState, leader: Sid) {
        state.injected += 1;
        let value = state.injected;
        let server = state.server_mut(leader);
        let epoch = server.disk.current_epoch;
        let last = server.disk.last_zxid();
        let counter = if last.epoch == epoch {
            last.counter + 1
        } else {
            1
        };
        let txn = Txn {
            zxid: Zxid::new(epoch, counter),
            value,
        };
        let primary_delivered = server
            .disk
            .delivered()
            .iter()
            .fold(0, |set, t| set | t.bit());
        // In the leader's memory at once; on its disk only at its own write (`log_own_proposal`),
        // unless the atomic abstraction writes and acknowledges it here.
        let overflow = server.disk.log.try_push(txn);
        assert!(
            overflow.is_none(),
            "transactions are bounded by the log capacity"
        );
        let leading = server.leading_mut().expect("leading");
        match self.config.leader_write {
            LeaderWrite::Queued => {
                leading.unwritten += 1;
                leading.acks.push(0);
            }
            LeaderWrite::Atomic => leading.acks.push(bit(leader)),
        }
        let learners = leading.learners;
        state.ghost.proposals.push(Proposal {
            txn,
            primary: leader,
            primary_delivered,
        });
        for follower in members(learners) {
            state.send(leader, follower, Msg::Proposal { txn });
        }
    }

    /// Step 2, at the follower.
    pub(super) fn on_proposal(&self, state: &mut ZabState, follower: Sid, txn: Txn) {
        let server = state.server_mut(follower);
        let Some(leader) = server.following().map(|f| f.leader) else {
            return;
        };
        if server.phase == Phase::Synchronization {
            self.on_sync_proposal(state, follower, txn);
            return;
        }
        if txn.zxid <= server.disk.last_zxid() {
            return; // already logged (ZooKeeper would not log it twice)
        }
        if self.has(Flaw::Zk4712) {
            // Handed to the SyncRequestProcessor: logged and acknowledged later.
            let overflow = server.sync_queue.try_push(txn);
            assert!(
                overflow.is_none(),
                "transactions are bounded by the queue capacity"
            );
            return;
        }
        let overflow = server.disk.log.try_push(txn);
        assert!(
            overflow.is_none(),
            "transactions are bounded by the log capacity"
        );
        state.send(follower, leader, Msg::Ack { zxid: txn.zxid });
    }

    /// A server's SyncRequestProcessor writes its oldest queued proposal and acknowledges it: a
    /// leader its own (step 2), a follower (zk-4712) to its leader.
    pub(super) fn log_queued_proposal(&self, state: &mut ZabState, server: Sid) {
        if state.server(server).leading().is_some() {
            self.log_own_proposal(state, server);
            return;
        }
        let me = state.server_mut(server);
        let txn = me.sync_queue.remove(0);
        // A sync may have brought the same transaction meanwhile; a log holds it once.
        me.disk.append_once(txn);
        let leader = me
            .following()
            .expect("a role's queue ends with the role")
            .leader;
        state.send(server, leader, Msg::Ack { zxid: txn.zxid });
    }

    /// Step 2, at the leader: its SyncRequestProcessor writes the oldest proposal it has not
    /// written, and `AckRequestProcessor` hands the leader's own ACK to `Leader.processAck`,
    /// which counts it unless the proposal is committed already (by followers' ACKs alone).
    ///
    /// Like every ACK, it joins the ACKs the proposal has: `Leader.removeLearnerHandler` does not
    /// take a departed follower's ACKs out of `outstandingProposals`, so an ACK from a follower
    /// that has since been cut back by a TRUNC still counts (see `docs/zab.md`, "The leader's
    /// own ACK").
    pub(super) fn log_own_proposal(&self, state: &mut ZabState, leader: Sid) {
        let server = state.server_mut(leader);
        let delivered = usize::from(server.disk.delivered);
        let log = server.disk.log;
        let leading = server
            .leading_mut()
            .expect("a leader writes its own proposals");
        let i = leading.written(&log);
        leading.unwritten -= 1;
        if i >= delivered {
            leading.acks[i - delivered] |= bit(leader);
            self.commit_ready(state, leader);
        }
    }

    /// A leader that steps down shuts its processors down (`Leader.shutdown`): its
    /// SyncRequestProcessor writes what it still has queued before it stops, and each write's
    /// ACK reaches `processAck`, which may still commit (the COMMITs go to connections about to
    /// close). The role ends with its whole log on disk.
    pub(super) fn log_own_proposals(&self, state: &mut ZabState, leader: Sid) {
        while state
            .server(leader)
            .leading()
            .is_some_and(|l| l.unwritten > 0)
        {
            self.log_own_proposal(state, leader);
        }
    }

    /// zk-4712: the SyncRequestProcessor of an ended role writes its oldest queued proposal.
    /// Its SendAckRequestProcessor writes the ACK to the old Follower's socket, which
    /// `Learner.shutdown` closed: the ACK is lost.
    pub(super) fn log_orphan(&self, state: &mut ZabState, server: Sid) {
        let me = state.server_mut(server);
        let txn = me.orphans.remove(0);
        me.disk.append_once(txn);
    }

    /// Step 3, at the leader: an ACK of a proposal.
    pub(super) fn on_ack(&self, state: &mut ZabState, leader: Sid, follower: Sid, zxid: Zxid) {
        let server = state.server_mut(leader);
        let in_handshake = server
            .leading()
            .is_some_and(|l| l.learners & !l.ready & bit(follower) != 0);
        if in_handshake {
            self.on_ack_in_handshake(state, leader, follower);
            return;
        }
        if server.phase != Phase::Broadcast {
            return;
        }
        let delivered = usize::from(server.disk.delivered);
        let Some(i) = server.disk.log.iter().position(|t| t.zxid == zxid) else {
            return;
        };
        let Some(leading) = server.leading_mut() else {
            return;
        };
        if leading.ready & bit(follower) == 0 {
            return; // not synced: no proposal was sent to it
        }
        if i < delivered {
            return; // committed already
        }
        leading.acks[i - delivered] |= bit(follower);
        self.commit_ready(state, leader);
    }

    /// Step 3, at the leader: the first ACK a LearnerHandler reads after NEWLEADER is taken as
    /// the NEWLEADER ACK, whatever its zxid (`LearnerHandler.run`, `Leader.waitForNewLeaderAck`).
    /// Once a NEWLEADER quorum has formed, that returns at once and the follower is sent
    /// UPTODATE. Before, an ACK of a proposal is logged as "from a different epoch"
    /// (ZOOKEEPER-4685, `ack_consistent`) and not counted, and the handler goes on all the same:
    /// the follower is sent UPTODATE when the leader starts. Its real NEWLEADER ACK then reaches
    /// `processAck`, which ignores an ACK of (e, 0), so this follower never counts towards the
    /// NEWLEADER quorum.
    fn on_ack_in_handshake(&self, state: &mut ZabState, leader: Sid, follower: Sid) {
        let server = state.server_mut(leader);
        let phase = server.phase;
        server.leading_mut().expect("leading").ready |= bit(follower);
        if phase == Phase::Broadcast {
            state.send(leader, follower, Msg::UpToDate);
        } else {
            state.ghost.during_action.unexpected_ack = true;
        }
    }

    /// Commit, in zxid order, every outstanding proposal a quorum acknowledged.
    fn commit_ready(&self, state: &mut ZabState, leader: Sid) {
        loop {
            let server = state.server_mut(leader);
            let leading = server.leading_mut().expect("leading");
            match leading.acks.first() {
                Some(&acks) if self.commits_with(acks) => {}
                _ => return,
            }
            leading.acks.remove(0);
            let learners = leading.learners;
            let txn = server.disk.log[usize::from(server.disk.delivered)];
            server.disk.delivered += 1;
            let epoch = server.disk.current_epoch;
            state.ghost.commit(txn, epoch);
            for follower in members(learners) {
                state.send(leader, follower, Msg::Commit { zxid: txn.zxid });
            }
        }
    }

    /// Whether the servers in `acks` are enough to commit: a strict majority (under test, the
    /// broken rule of the mutation, any two).
    fn commits_with(&self, acks: ServerSet) -> bool {
        #[cfg(test)]
        if self.commits_on_two_acks {
            return acks.count_ones() >= 2;
        }
        self.config.is_quorum(acks)
    }

    /// Step 4, at the follower (`FollowerZooKeeperServer.commit`): a COMMIT applies the oldest
    /// proposal this role logged (`pendingTxns`); with none it is ignored with a warning. A
    /// COMMIT that names another zxid makes the server exit (`UNMATCHED_TXN_COMMIT`): a crash
    /// that uses no fault budget.
    ///
    /// This role's proposals carry the follower's currentEpoch; an older entry after the
    /// delivered prefix is a stray write of an ended role (zk-4712) or was logged before an
    /// election that did not replay it (zk-2845), and is in no `pendingTxns`. The delivered
    /// prefix cannot skip it, so a COMMIT behind such an entry is not applied: the log has
    /// diverged from the leader's already (`history_consistency`).
    pub(super) fn on_commit(&self, state: &mut ZabState, follower: Sid, zxid: Zxid) {
        let server = state.server_mut(follower);
        if server.following().is_none() {
            return;
        }
        if server.phase == Phase::Synchronization {
            self.on_sync_commit(state, follower, zxid);
            return;
        }
        let next = usize::from(server.disk.delivered);
        let epoch = server.disk.current_epoch;
        let Some(head) = server.disk.log[next..]
            .iter()
            .position(|t| t.zxid.epoch == epoch)
            .map(|i| next + i)
        else {
            return;
        };
        if server.disk.log[head].zxid != zxid {
            self.exit(state, follower);
        } else if head == next {
            server.disk.delivered += 1;
        }
    }
}

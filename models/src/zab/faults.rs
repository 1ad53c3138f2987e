//! Crashes, partitions and the timeouts that notice them (docs/zab.md).
//!
//! - Crash: the server stops (as it does when it exits on an error, which uses no budget); its
//!   volatile state (role, zabState, queues, synced transactions not yet written, a leader's
//!   proposals not yet written) is lost, and so is everything in flight on its connections (TCP
//!   resets). Its disk is kept. Restart: LOOKING again, from the disk.
//! - Partition: the servers split into two groups; connections across the cut close. Heal joins
//!   them again (new connections are made by the protocol, as after a restart).
//! - Timeout: a follower that cannot reach its leader (down, cut off, no longer leading, or no
//!   longer knowing this follower) goes back to LOOKING; so does a leader that no longer sees a
//!   quorum of servers following it (`Leader`'s syncLimit check; in broadcast only synced
//!   followers count), and a leader in discovery whose
//!   proposed epoch can no longer be acknowledged by a quorum (`waitForEpochAck`'s initLimit).
//! - Spurious timeout (`[faults] timeouts`, a budget): the same timers expire while the peers
//!   are alive and reachable (a slow disk, a GC pause); the server goes back to LOOKING as above.

use super::state::ZabState;
use super::types::{bit, members, ServerSet, Sid, Zxid};
use super::{Election, ZabModel};

impl ZabModel {
    pub(super) fn crash(&self, state: &mut ZabState, server: Sid) {
        self.exit(state, server);
        state.faults.crashes += 1;
    }

    /// The server's process ends, by a crash or by exiting on an error it cannot handle.
    pub(super) fn exit(&self, state: &mut ZabState, server: Sid) {
        for peer in state.ids().filter(|&s| s != server).collect::<Vec<_>>() {
            state.close_connection(server, peer);
            state.cut_election_link(server, peer);
        }
        let crashed = state.server_mut(server);
        if let Some(leading) = crashed.leading() {
            // A leader's proposals not yet written are lost with its memory; what it applied
            // of them too (a restart rebuilds the data tree from the disk).
            let written = leading.written(&crashed.disk.log);
            crashed.disk.log.truncate(written);
            crashed.disk.delivered = crashed.disk.delivered.min(written as u8);
        }
        crashed.become_looking();
        crashed.sync_queue.clear();
        crashed.orphans.clear();
        crashed.loaded = Zxid::ZERO;
        crashed.fle = Default::default();
        crashed.up = false;
    }

    pub(super) fn restart(&self, state: &mut ZabState, server: Sid) {
        let restarted = state.server_mut(server);
        assert!(!restarted.up, "only a crashed server restarts");
        restarted.up = true;
        // The whole log, committed or not, is replayed into the data tree.
        restarted.load_log();
        self.look_for_leader(state, server);
        if self.config.election == Election::Fle {
            for peer in state.ids().filter(|&p| p != server).collect::<Vec<_>>() {
                if state.connected(server, peer) {
                    self.reconnect_election(state, server, peer);
                }
            }
        }
    }

    /// The partition heals; with FLE the election connections across it are made again.
    pub(super) fn heal(&self, state: &mut ZabState) {
        let side = state.cut_off;
        state.cut_off = 0;
        state.ghost.injected_before_cut = 0;
        if self.config.election == Election::Fle {
            for a in members(side) {
                for b in state
                    .ids()
                    .filter(|&b| side & bit(b) == 0)
                    .collect::<Vec<_>>()
                {
                    if state.connected(a, b) {
                        self.reconnect_election(state, a, b);
                    }
                }
            }
        }
    }

    /// The sides a new partition may cut off: every non-empty group without S0, or only the
    /// side of the split the scenario names.
    pub(super) fn partition_sides(&self, state: &ZabState) -> impl Iterator<Item = ServerSet> {
        let all = state.everyone();
        let named = self.config.named_cut_off();
        (1..=all).filter(move |&side| {
            side & bit(0) == 0 && side & !all == 0 && named.map_or(true, |n| n == side)
        })
    }

    pub(super) fn partition(&self, state: &mut ZabState, side: ServerSet) {
        state.cut_off = side;
        state.ghost.injected_before_cut = state.injected;
        for a in state.ids().collect::<Vec<_>>() {
            for b in state.ids().filter(|&b| b > a).collect::<Vec<_>>() {
                if (side & bit(a) == 0) != (side & bit(b) == 0) {
                    state.close_connection(a, b);
                    state.cut_election_link(a, b);
                }
            }
        }
        state.faults.partitions += 1;
    }

    /// Whether `server` would time out now.
    pub(super) fn times_out(&self, state: &ZabState, server: Sid) -> bool {
        let me = state.server(server);
        if !me.up {
            return false;
        }
        if let Some(following) = me.following() {
            let leader = following.leader;
            if following.awaits_leader {
                let round = me.fle.logical_clock;
                return !state.connected(server, leader)
                    || !self.may_still_lead(state, leader, round);
            }
            return !state.connected(server, leader) || !state.follows_leadership(server, leader);
        }
        if let Some(leading) = me.leading() {
            // In broadcast only synced followers count (`Leader.lead`'s syncedAckSet: learners
            // that acknowledged NEWLEADER), so followers that join and leave again in discovery
            // do not keep a leader without a quorum alive. Before broadcast, a server still in
            // FLE's round that proposes this leader counts too: its decision may still come
            // (ZooKeeper's leader waits initLimit ticks for it, far longer than a round takes).
            let in_broadcast = me.phase == super::state::Phase::Broadcast;
            let supporters = state
                .ids()
                .filter(|&s| {
                    s == server
                        || (state.connected(server, s)
                            && state
                                .server(s)
                                .following()
                                .is_some_and(|f| f.leader == server)
                            && (!in_broadcast || leading.ready & bit(s) != 0))
                        || (!in_broadcast
                            && state.connected(server, s)
                            && self.may_still_follow(state, s, server))
                })
                .fold(0, |set, s| set | bit(s));
            return !self.config.is_quorum(supporters) || self.epoch_doomed(state, server);
        }
        false
    }

    /// A leader whose epoch can no longer be acknowledged by a quorum: it waits for ever unless
    /// it gives up, as ZooKeeper's leader does when `waitForEpochAck` or `waitForNewLeaderAck`
    /// runs out of initLimit. The model lets it time out exactly when waiting can no longer
    /// succeed, so that a healthy discovery or synchronization is never cut short (weak fairness
    /// would otherwise force a leader to give up while it still makes progress) and a doomed one
    /// does not wait for ever. acceptedEpoch only grows, and the ack sets only grow while the
    /// leader leads, so once doomed a leader stays doomed.
    ///
    /// - Discovery, epoch e proposed: a counted ACKEPOCH can still come only from a server whose
    ///   acceptedEpoch is below e, or one whose counted ACKEPOCH is in flight (a server that
    ///   accepted e already answers -1, one that accepted more leaves).
    /// - Synchronization: an ACK of NEWLEADER(e) can still count only from a server whose
    ///   acceptedEpoch is at most e (it is synced; one that accepted more leaves) and whose
    ///   handler did not take another ACK for it (zk-4685).
    fn epoch_doomed(&self, state: &ZabState, server: Sid) -> bool {
        use super::state::Phase;
        use super::types::Msg;
        let me = state.server(server);
        let Some(leading) = me.leading() else {
            return false;
        };
        let epoch = leading.epoch;
        let others = state.ids().filter(|&s| s != server);
        let (acked, can_ack) = match me.phase {
            Phase::Discovery if epoch != 0 => (
                leading.epoch_acks,
                others
                    .filter(|&s| {
                        state.server(s).disk.accepted_epoch < epoch
                            || state.net.iter().any(|p| {
                                p.from == s
                                    && p.to == server
                                    && matches!(p.msg, Msg::AckEpoch { counted: true, .. })
                            })
                    })
                    .fold(0, |set, s| set | bit(s)),
            ),
            Phase::Synchronization => (
                leading.newleader_acks,
                others
                    .filter(|&s| {
                        // One whose first ACK after NEWLEADER was not its NEWLEADER ACK is past
                        // the handshake without counting: it never counts.
                        let passed_uncounted =
                            leading.ready & !leading.newleader_acks & bit(s) != 0;
                        state.server(s).disk.accepted_epoch <= epoch && !passed_uncounted
                    })
                    .fold(0, |set, s| set | bit(s)),
            ),
            _ => return false,
        };
        !self.config.is_quorum(acked | can_ack | bit(server))
    }

    /// Whether `server` may time out spuriously now: it has a role, so a timer runs
    /// (initLimit, syncLimit), that timer would not expire by itself ([`Self::times_out`]), and
    /// the budget allows one more.
    pub(super) fn times_out_spuriously(&self, state: &ZabState, server: Sid) -> bool {
        let me = state.server(server);
        me.up
            && state.faults.timeouts < self.config.timeouts
            && (me.following().is_some() || me.leading().is_some())
            && !self.times_out(state, server)
    }

    pub(super) fn time_out(&self, state: &mut ZabState, server: Sid) {
        if state.server(server).leading().is_some() {
            self.step_down(state, server);
        } else {
            self.stop_following(state, server);
        }
    }
}

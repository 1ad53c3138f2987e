//! Phase 0: who leads (docs/zab.md), in one of two ways the scenario chooses
//! (`model.election`):
//!
//! - [`oracle`] (the default): a quorum of LOOKING servers that can talk to each other agrees at
//!   once on the best vote among them. Small spaces, for teaching and for the phases after it.
//! - [`fle`]: Fast Leader Election's notification exchange as ZooKeeper runs it: rounds
//!   (logical clocks), votes sent on the election links, a decision on a quorum of equal votes.
//!
//! Both only nominate: the winner must still pass discovery. Both end the same way, in
//! [`ZabModel::lead`] and [`ZabModel::follow`] below, so the phases after the election do not
//! know which one ran.

pub mod fle;
pub mod oracle;

use super::state::{Following, Leading, Phase, Role, ZabState};
use super::types::{bit, Msg, Sid};
use super::{Election, Flaw, ZabModel};

impl ZabModel {
    /// Whether the `epochs` bound still allows an election: each one may move some acceptedEpoch
    /// up by one, so elections stop once a server accepted the last epoch (as TLC's MaxEpoch).
    pub(super) fn elections_left(&self, state: &ZabState) -> bool {
        let highest = state
            .servers
            .iter()
            .map(|s| s.disk.accepted_epoch)
            .max()
            .unwrap_or(0);
        self.config.epoch_allowed(highest + 1)
    }

    /// `leader` starts leading (discovery), and servers that already chose it and wait to
    /// connect (FLE) connect now.
    pub(super) fn lead(&self, state: &mut ZabState, leader: Sid) {
        let server = state.server_mut(leader);
        let accepted = server.disk.accepted_epoch;
        server.role = Role::Leading(Leading {
            infos: bit(leader),
            max_accepted: accepted,
            ..Leading::default()
        });
        server.phase = Phase::Discovery;
        let waiting: Vec<Sid> = state
            .ids()
            .filter(|&s| {
                state
                    .server(s)
                    .following()
                    .is_some_and(|f| f.leader == leader && f.awaits_leader)
            })
            .collect();
        for follower in waiting {
            self.follow(state, follower, leader);
        }
    }

    /// `server` follows `leader` and starts discovery: FOLLOWERINFO with its acceptedEpoch
    /// (`Learner.registerWithLeader`). If `leader` is not LEADING yet (FLE: it has not decided),
    /// the follower waits for it to start ([`Following::awaits_leader`]).
    pub(super) fn follow(&self, state: &mut ZabState, server: Sid, leader: Sid) {
        let leads = state.server(leader).leading().is_some();
        let follower = state.server_mut(server);
        follower.role = Role::Following(Following {
            awaits_leader: !leads,
            ..Following::new(leader)
        });
        follower.phase = Phase::Discovery;
        if leads {
            let accepted_epoch = follower.disk.accepted_epoch;
            state.send(server, leader, Msg::FollowerInfo { accepted_epoch });
        }
    }

    /// `server` goes back to LOOKING (it lost its leader, stepped down or restarted); with FLE it
    /// starts a new election round at once, as `QuorumPeer.run` calls `lookForLeader`.
    ///
    /// The role's ZooKeeperServer shuts down, but not fully (`shutdown(false)`): the data tree
    /// is kept. The fixed code then replays the rest of the log into it
    /// (`fastForwardDataBase`), so it reports its last logged zxid; before ZOOKEEPER-2845's fix
    /// it reports what it had applied. In zk-4712 the role's SyncRequestProcessor is not shut
    /// down: its queue lives on, orphaned. In zk-2355 the tree may claim a DIFF's zxid it never
    /// applied; replaying the log after that zxid keeps the claim.
    pub(super) fn look_for_leader(&self, state: &mut ZabState, server: Sid) {
        let me = state.server_mut(server);
        for txn in std::mem::take(&mut me.sync_queue) {
            if !me.orphans.contains(&txn) {
                me.orphans.push(txn);
            }
        }
        if self.has(Flaw::Zk2355) {
            me.fast_forward();
        } else if !self.has(Flaw::Zk2845) {
            me.load_log();
        }
        me.become_looking();
        if self.config.election == Election::Fle {
            self.start_round(state, server);
        }
    }
}

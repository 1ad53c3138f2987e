//! Phase 0 as an oracle (`election = "oracle"`, the default).
//!
//! Fast Leader Election lets LOOKING servers exchange votes (leader, zxid, peerEpoch) until a
//! quorum agrees; a better vote wins: higher currentEpoch, then higher last zxid, then higher sid.
//! The oracle keeps that outcome and drops the exchange: any quorum of LOOKING servers that are up
//! and connected to each other may elect the best vote among them. Which quorum forms is the
//! nondeterminism FLE has (timing decides who hears whom), and choosing by currentEpoch first is
//! the lever of ZOOKEEPER-4643 and 4646. FLE only nominates: the winner must still pass discovery.
//!
//! A LOOKING server joins an existing leader as FLE lets it (`FastLeaderElection.lookForLeader`,
//! a notification from a FOLLOWING or LEADING peer, `receivedFollowingNotification` and
//! `checkLeader`): only when the peers it can reach report a quorum for that leader, the leader
//! itself reporting LEADING. Here: the leader is up, LEADING and reachable, and it together with
//! the reachable servers following its current leadership ([`ZabState::follows_leadership`]) is
//! a quorum; the joiner itself does not count, as FLE's `outofelection` holds only the others'
//! reports. "The current leadership" stands for FLE's "the same (leader, peerEpoch)": a follower
//! left over from an earlier leadership of the same server reports an older vote, and a server
//! already LOOKING reports none. What the oracle leaves out is FLE's other way in, a round in
//! which the joiner's own vote makes the quorum (a LOOKING server of the leader's election
//! round that has not decided yet): the oracle's servers decide together in one `Elect`.

use crate::zab::state::{Role, ZabState};
use crate::zab::types::{bit, members, ServerSet, Sid};
use crate::zab::ZabModel;

impl ZabModel {
    /// Every (leader, quorum) the oracle may pick in `state`.
    pub(in crate::zab) fn elections(&self, state: &ZabState) -> Vec<(Sid, ServerSet)> {
        if !self.elections_left(state) {
            return Vec::new();
        }
        let looking: ServerSet = state
            .ids()
            .filter(|&s| state.server(s).up && state.server(s).role == Role::Looking)
            .fold(0, |set, s| set | bit(s));
        let mut found = Vec::new();
        for quorum in 1..=u8::MAX {
            if quorum & !looking != 0 || !self.config.is_quorum(quorum) {
                continue;
            }
            let connected =
                members(quorum).all(|a| members(quorum).all(|b| a == b || state.connected(a, b)));
            if !connected {
                continue;
            }
            let leader = members(quorum)
                .max_by_key(|&s| state.server(s).vote(s))
                .expect("a quorum is not empty");
            found.push((leader, quorum));
        }
        found
    }

    /// The quorum elects `leader`: it starts leading (discovery), the others follow it.
    pub(in crate::zab) fn on_elected(&self, state: &mut ZabState, leader: Sid, quorum: ServerSet) {
        self.lead(state, leader);
        for follower in members(quorum).filter(|&s| s != leader) {
            self.follow(state, follower, leader);
        }
    }

    /// LOOKING servers that may join a leader: (server, leader) pairs. The leader is LEADING
    /// and reachable, and with the reachable followers of its current leadership makes a quorum
    /// (see the module doc).
    pub(in crate::zab) fn joins(&self, state: &ZabState) -> Vec<(Sid, Sid)> {
        let mut found = Vec::new();
        for server in state.ids() {
            if !state.server(server).up || state.server(server).role != Role::Looking {
                continue;
            }
            for leader in state.ids() {
                if self.reported_leader(state, server, leader) {
                    found.push((server, leader));
                }
            }
        }
        found
    }

    /// Whether `server` hears a quorum report `leader`: `leader` says LEADING, and it and the
    /// followers of its current leadership that `server` can reach are a quorum.
    fn reported_leader(&self, state: &ZabState, server: Sid, leader: Sid) -> bool {
        if state.server(leader).leading().is_none() || !state.connected(server, leader) {
            return false;
        }
        let reports = state
            .ids()
            .filter(|&f| state.connected(server, f) && state.follows_leadership(f, leader))
            .fold(bit(leader), |set, f| set | bit(f));
        self.config.is_quorum(reports)
    }
}

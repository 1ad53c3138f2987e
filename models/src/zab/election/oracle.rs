//! Phase 0 as an oracle (`election = "oracle"`, the default).
//!
//! Fast Leader Election lets LOOKING servers exchange votes (leader, zxid, peerEpoch) until a
//! quorum agrees; a better vote wins: higher currentEpoch, then higher last zxid, then higher sid.
//! The oracle keeps that outcome and drops the exchange: any quorum of LOOKING servers that are up
//! and connected to each other may elect the best vote among them. Which quorum forms is the
//! nondeterminism FLE has (timing decides who hears whom), and choosing by currentEpoch first is
//! the lever of ZOOKEEPER-4643 and 4646. FLE only nominates: the winner must still pass discovery.
//!
//! A server that finds the others already FOLLOWING or LEADING joins the leader they report
//! (FLE's out-of-election case), whatever its own vote.
//!
//! The oracle's joins allow more than FLE does. FLE (`FastLeaderElection.lookForLeader`, a
//! notification from a FOLLOWING or LEADING peer) joins a leader only when a quorum of peers has
//! reported it in that state (`outofelection`, or the current round's votes) and `checkLeader`
//! holds: the leader itself reported LEADING (or the joiner is the leader). The oracle lets any
//! LOOKING server join any LEADING server it can reach, however few servers follow it: e.g. a
//! leader in discovery whose only follower crashed is joined by a third server and establishes
//! with it, where FLE's third server would keep looking and the leader would give up after
//! initLimit. So oracle scenarios explore some executions that FLE scenarios (`election =
//! "fle"`, which implements the rule) do not; a violation found with the oracle should be
//! confirmed with FLE before it is blamed on ZooKeeper.

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

    /// LOOKING servers that may join a leader: (server, leader) pairs. Any LEADING server the
    /// LOOKING one can reach, without FLE's quorum of reports (see the module doc).
    pub(in crate::zab) fn joins(&self, state: &ZabState) -> Vec<(Sid, Sid)> {
        let mut found = Vec::new();
        for server in state.ids() {
            if !state.server(server).up || state.server(server).role != Role::Looking {
                continue;
            }
            for leader in state.ids() {
                if state.server(leader).leading().is_some() && state.connected(server, leader) {
                    found.push((server, leader));
                }
            }
        }
        found
    }
}

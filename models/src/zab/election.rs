//! Phase 0: who leads (DOMAIN.md §5.2), as an oracle.
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

use super::state::{Following, Leading, Phase, Role, ZabState};
use super::types::{bit, members, Msg, ServerSet, Sid};
use super::ZabModel;

impl ZabModel {
    /// Every (leader, quorum) the oracle may pick in `state`.
    pub(super) fn elections(&self, state: &ZabState) -> Vec<(Sid, ServerSet)> {
        // Each election may move some acceptedEpoch up by one: stop at the `epochs` bound.
        let highest = state
            .servers
            .iter()
            .map(|s| s.disk.accepted_epoch)
            .max()
            .unwrap_or(0);
        if !self.config.epoch_allowed(highest + 1) {
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
    pub(super) fn on_elected(&self, state: &mut ZabState, leader: Sid, quorum: ServerSet) {
        let server = state.server_mut(leader);
        let accepted = server.disk.accepted_epoch;
        server.role = Role::Leading(Leading {
            infos: bit(leader),
            max_accepted: accepted,
            ..Leading::default()
        });
        server.phase = Phase::Discovery;
        for follower in members(quorum).filter(|&s| s != leader) {
            self.follow(state, follower, leader);
        }
    }

    /// `server` follows `leader` and starts discovery: FOLLOWERINFO with its acceptedEpoch
    /// (`Learner.registerWithLeader`).
    pub(super) fn follow(&self, state: &mut ZabState, server: Sid, leader: Sid) {
        let follower = state.server_mut(server);
        follower.role = Role::Following(Following::new(leader));
        follower.phase = Phase::Discovery;
        let accepted_epoch = follower.disk.accepted_epoch;
        state.send(server, leader, Msg::FollowerInfo { accepted_epoch });
    }

    /// LOOKING servers that may join a leader: (server, leader) pairs.
    pub(super) fn joins(&self, state: &ZabState) -> Vec<(Sid, Sid)> {
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

//! Unit tests of Fast Leader Election's handlers (`election::fle`), driven through the model's
//! enabled actions like the other phase tests: each step a test takes must be one the model
//! offers.

use stateright::{Checker, Model};

use super::state::Role;
use super::tests::{settle_by, step};
use super::types::{Notification, PeerState, Vote, Zxid};
use super::*;

fn fle_model(crashes: u8) -> ZabModel {
    let config = ZabConfig {
        election: Election::Fle,
        crashes,
        ..ZabConfig::new(3, 1)
    };
    ZabModel::new(config).expect("valid")
}

fn start(model: &ZabModel) -> ZabState {
    model.init_states().swap_remove(0)
}

/// A LOOKING server's notification for `leader`, with nothing logged, in `round`.
fn looking(leader: Sid, round: u8) -> Notification {
    Notification {
        vote: vote(leader, 0, Zxid::ZERO),
        election_epoch: round,
        state: PeerState::Looking,
    }
}

fn vote(leader: Sid, peer_epoch: u8, zxid: Zxid) -> Vote {
    Vote {
        peer_epoch,
        zxid,
        leader,
    }
}

/// The notification on the election link `from → to`.
fn in_flight(state: &ZabState, from: Sid, to: Sid) -> Option<Notification> {
    state.notice(from, to).map(|n| n.notification)
}

fn notify(model: &ZabModel, state: &ZabState, from: Sid, to: Sid) -> ZabState {
    let notification = in_flight(state, from, to).expect("a notification in flight");
    step(
        model,
        state,
        ZabAction::Notify {
            from,
            to,
            notification,
        },
    )
}

/// Take the first enabled notification, decision or ZAB delivery until none is left.
fn settle(model: &ZabModel, state: ZabState) -> ZabState {
    settle_by(model, state, |a| {
        matches!(
            a,
            ZabAction::Notify { .. } | ZabAction::Decide { .. } | ZabAction::Deliver { .. }
        )
    })
}

#[test]
fn every_server_starts_round_one_proposing_itself_to_every_peer() {
    let model = fle_model(0);
    let state = start(&model);
    for s in 0..3 {
        let fle = &state.server(s).fle;
        assert_eq!(fle.logical_clock, 1);
        assert_eq!(fle.vote, vote(s, 0, Zxid::ZERO));
        for peer in (0..3).filter(|&p| p != s) {
            assert_eq!(in_flight(&state, s, peer), Some(looking(s, 1)));
        }
    }
    let mut enabled = Vec::new();
    model.actions(&state, &mut enabled);
    assert!(
        enabled
            .iter()
            .all(|a| matches!(a, ZabAction::Notify { .. })),
        "nobody can decide before it heard from a peer"
    );
}

#[test]
fn a_better_vote_of_the_same_round_is_adopted_and_sent_on_a_worse_one_only_recorded() {
    let model = fle_model(0);
    let state = notify(&model, &start(&model), 2, 0);
    let s0 = &state.server(0).fle;
    assert_eq!(s0.vote.leader, 2, "S2's vote beats S0's (higher sid)");
    assert_eq!(s0.received[2].map(|n| n.vote.leader), Some(2));
    assert_eq!(in_flight(&state, 0, 1).map(|n| n.vote.leader), Some(2));
    assert_eq!(
        in_flight(&state, 0, 2).map(|n| n.vote.leader),
        Some(2),
        "the newer notification replaced the unread one on S0 → S2"
    );
    let state = notify(&model, &state, 1, 2);
    let s2 = &state.server(2).fle;
    assert_eq!(s2.vote.leader, 2, "S1's vote is worse: S2 keeps its own");
    assert_eq!(s2.received[1].map(|n| n.vote.leader), Some(1));
}

#[test]
fn votes_are_ordered_by_peer_epoch_before_zxid_and_sid() {
    let older_but_newer_epoch = vote(0, 2, Zxid::new(1, 1));
    let longer_log = vote(2, 1, Zxid::new(1, 3));
    assert!(older_but_newer_epoch > longer_log);
    assert!(vote(0, 1, Zxid::new(1, 3)) > vote(2, 1, Zxid::new(1, 2)));
    assert!(vote(2, 1, Zxid::new(1, 2)) > vote(1, 1, Zxid::new(1, 2)));
}

#[test]
fn a_newer_round_clears_the_recorded_votes_and_an_older_round_is_answered() {
    let model = fle_model(0);
    let mut state = notify(&model, &start(&model), 0, 1);
    assert!(state.server(1).fle.received[0].is_some());
    // S2 moves on to round 2 (as after a timeout) and tells S1.
    state.server_mut(2).fle.logical_clock = 2;
    let newer = looking(2, 2);
    state.notify(2, 1, newer);
    let state = notify(&model, &state, 2, 1);
    let s1 = &state.server(1).fle;
    assert_eq!(s1.logical_clock, 2);
    assert_eq!(s1.received[0], None, "round 1's votes are gone");
    assert_eq!(s1.received[2], Some(newer));
    // S0, still in round 1, sends its vote again (as on a new connection): S1 answers with its
    // round-2 vote and counts nothing from S0.
    let mut state = state;
    state.election_net.retain(|n| (n.from, n.to) != (1, 0));
    state.notify(0, 1, looking(0, 1));
    let state = notify(&model, &state, 0, 1);
    assert_eq!(state.server(1).fle.received[0], None);
    assert_eq!(
        in_flight(&state, 1, 0).map(|n| n.election_epoch),
        Some(2),
        "S1 answers S0 with its round-2 vote"
    );
}

#[test]
fn a_quorum_of_equal_votes_decides_even_with_a_better_vote_in_flight() {
    let model = fle_model(0);
    let state = notify(&model, &start(&model), 1, 0);
    let state = notify(&model, &state, 0, 1);
    // S0 and S1 both propose S1; S2's better vote is still on its way to both.
    assert!(in_flight(&state, 2, 0).is_some());
    let state = step(&model, &state, ZabAction::Decide { server: 0 });
    let follower = state.server(0).following().expect("S0 follows");
    assert_eq!(follower.leader, 1);
    assert!(follower.awaits_leader, "S1 is not leading yet");
    assert!(state.net.is_empty(), "no FOLLOWERINFO before S1 leads");
    assert!(
        in_flight(&state, 2, 0).is_none(),
        "leaveInstance: unread notifications go"
    );
    // S1 leads: S0's connection is made and its FOLLOWERINFO goes out.
    let state = step(&model, &state, ZabAction::Decide { server: 1 });
    assert!(state.server(1).leading().is_some());
    assert!(
        !state
            .server(0)
            .following()
            .expect("S0 follows")
            .awaits_leader
    );
    assert!(matches!(
        state.head(0, 1).map(|p| &p.msg),
        Some(Msg::FollowerInfo { .. })
    ));
}

#[test]
fn a_follower_waits_for_its_leader_only_while_that_server_may_still_lead() {
    let model = fle_model(0);
    let state = notify(&model, &start(&model), 1, 0);
    let state = notify(&model, &state, 0, 1);
    let state = step(&model, &state, ZabAction::Decide { server: 0 });
    assert!(!model.times_out(&state, 0), "S1 proposes itself: wait");
    // Were S1 in a newer round, S0's round-1 vote would no longer count for it: give up.
    let mut moved_on = state.clone();
    moved_on.server_mut(1).fle.logical_clock = 2;
    assert!(model.times_out(&moved_on, 0));
    // S2's better vote reaches S1, which stops proposing itself: S0 gives up on it.
    let state = notify(&model, &state, 2, 1);
    assert_eq!(state.server(1).fle.vote.leader, 2);
    assert!(model.times_out(&state, 0));
}

#[test]
fn a_leader_in_discovery_waits_for_servers_still_voting_for_it() {
    let model = fle_model(0);
    let state = notify(&model, &start(&model), 1, 0);
    let state = notify(&model, &state, 0, 1);
    let state = step(&model, &state, ZabAction::Decide { server: 1 });
    assert!(state.server(1).leading().is_some());
    assert!(
        !model.times_out(&state, 1),
        "S0 proposes S1 and may still decide"
    );
    let state = notify(&model, &state, 2, 0);
    assert_eq!(state.server(0).fle.vote.leader, 2);
    assert!(model.times_out(&state, 1), "nobody is left to follow S1");
}

#[test]
fn a_restarted_server_joins_the_leader_a_quorum_reports() {
    let model = fle_model(1);
    let state = settle(&model, start(&model));
    let leader = (0..3)
        .find(|&s| state.server(s).is_established_leader())
        .expect("an election without faults ends with a leader");
    let late = (0..3).find(|&s| s != leader).expect("a follower");
    let state = step(&model, &state, ZabAction::Crash { server: late });
    let state = step(&model, &state, ZabAction::Restart { server: late });
    assert_eq!(state.server(late).fle.logical_clock, 1, "a new process");
    let other = (0..3).find(|&s| s != leader && s != late).expect("3");
    // The follower answers first: one report is not enough, the leader has not confirmed.
    let state = notify(&model, &state, late, other);
    let state = notify(&model, &state, other, late);
    assert_eq!(state.server(late).role, Role::Looking);
    assert_eq!(
        state.server(late).fle.out_of_election[usize::from(other)].map(|n| n.state),
        Some(PeerState::Following)
    );
    let state = notify(&model, &state, late, leader);
    let state = notify(&model, &state, leader, late);
    let joined = state.server(late).following().expect("joined");
    assert_eq!(joined.leader, leader);
    assert!(matches!(
        state.head(late, leader).map(|p| &p.msg),
        Some(Msg::FollowerInfo { .. })
    ));
}

#[test]
fn a_server_stalls_instead_of_starting_a_round_past_the_bound() {
    let model = fle_model(0);
    let mut state = start(&model);
    state.server_mut(0).fle.logical_clock = model.config.epochs;
    model.start_round(&mut state, 0);
    let fle = &state.server(0).fle;
    assert!(fle.stalled);
    assert_eq!(fle.logical_clock, model.config.epochs);
    assert!(!model.takes_notifications(&state, 0));
    assert!(!model.may_decide(&state, 0));
}

#[test]
fn a_crash_loses_the_election_state_and_its_links_and_a_partition_cuts_them() {
    let model = ZabModel::new(ZabConfig {
        election: Election::Fle,
        crashes: 1,
        partitions: 1,
        ..ZabConfig::new(3, 1)
    })
    .expect("valid");
    let state = notify(&model, &start(&model), 2, 0);
    let crashed = step(&model, &state, ZabAction::Crash { server: 0 });
    assert_eq!(crashed.server(0).fle, Default::default());
    assert!(crashed
        .election_net
        .iter()
        .all(|n| n.from != 0 && n.to != 0));
    let cut = step(&model, &state, ZabAction::Partition { side: 0b100 });
    assert!(cut.election_net.iter().all(|n| n.from != 2 && n.to != 2));
    // Healing makes the connections again: LOOKING servers send their current vote across.
    let healed = step(&model, &cut, ZabAction::Heal);
    assert!(in_flight(&healed, 2, 0).is_some() && in_flight(&healed, 0, 2).is_some());
}

#[test]
fn the_fle_state_space_of_one_write_without_faults_is_pinned() {
    // 47,463 before synchronization buffered proposals (the zk-4685/3023/4394 work) met FLE;
    // 66,189 (the atomic abstraction's count) before the leader's own log write became a step
    // of its own.
    for (leader_write, states) in [(LeaderWrite::Queued, 96_978), (LeaderWrite::Atomic, 66_189)] {
        let model = ZabModel::new(ZabConfig {
            leader_write,
            ..fle_model(0).config
        })
        .expect("valid");
        let checker = model.checker().spawn_bfs().join();
        assert_eq!(checker.unique_state_count(), states, "{leader_write:?}");
        checker.assert_properties();
    }
}

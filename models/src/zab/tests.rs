//! Unit tests of each phase's handlers, driven through the model's own enabled actions: every
//! step a test takes must be one the model offers, so the tests also pin what is enabled.

use std::collections::{HashSet, VecDeque};

use stateright::{Checker, Model};

use crate::ActionInfo;

use super::state::{Phase, Role};
use super::sync::choose_sync;
use super::types::{Log, Msg, SyncMode, Txn, Zxid};
use super::*;

fn txn(epoch: u8, counter: u8, value: u8) -> Txn {
    Txn {
        zxid: Zxid::new(epoch, counter),
        value,
    }
}

fn log(txns: &[Txn]) -> Log {
    txns.iter().copied().collect()
}

fn model(servers: u8, variant: ZabVariant) -> ZabModel {
    let config = ZabConfig {
        variant,
        crashes: 3,
        partitions: 1,
        epochs: 3,
        ..ZabConfig::new(servers, 2)
    };
    ZabModel::new(config).expect("valid")
}

/// Take the enabled action `action`; panics, listing what is enabled, if it is not.
pub(super) fn step(model: &ZabModel, state: &ZabState, action: ZabAction) -> ZabState {
    let mut enabled = Vec::new();
    model.actions(state, &mut enabled);
    assert!(
        enabled.contains(&action),
        "{action} is not enabled; enabled: {}",
        enabled
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    model.next_state(state, action).expect("a step")
}

/// Deliver the oldest message on `from → to`.
pub(super) fn deliver(model: &ZabModel, state: &ZabState, from: Sid, to: Sid) -> ZabState {
    let msg = state.head(from, to).expect("a message in flight").msg;
    step(model, state, ZabAction::Deliver { from, to, msg })
}

/// Take the first enabled step that `pick` accepts until there is none.
pub(super) fn settle_by(
    model: &ZabModel,
    mut state: ZabState,
    pick: impl Fn(&ZabAction) -> bool,
) -> ZabState {
    loop {
        let mut enabled = Vec::new();
        model.actions(&state, &mut enabled);
        let Some(action) = enabled.into_iter().find(|a| pick(a)) else {
            return state;
        };
        state = step(model, &state, action);
    }
}

/// `server` joins the existing leader `leader`.
fn join(model: &ZabModel, state: &ZabState, server: Sid, leader: Sid) -> ZabState {
    step(model, state, ZabAction::Join { server, leader })
}

/// Take the first enabled delivery or background-thread step (a leader's own log writes, but
/// not zk-4712's follower queue) until there is none.
fn settle(model: &ZabModel, mut state: ZabState) -> ZabState {
    loop {
        let mut enabled = Vec::new();
        model.actions(&state, &mut enabled);
        let Some(action) = enabled.into_iter().find(|a| match *a {
            ZabAction::Deliver { .. }
            | ZabAction::LogSynced { .. }
            | ZabAction::AckNewLeader { .. }
            | ZabAction::ApplyCommitted { .. } => true,
            ZabAction::LogProposal { server } => state.server(server).leading().is_some(),
            _ => false,
        }) else {
            return state;
        };
        state = step(model, &state, action);
    }
}

/// `leader` elected by `quorum`, everything delivered: the leader is in broadcast.
fn established(model: &ZabModel, leader: Sid, quorum: u8) -> ZabState {
    let state = ZabState::new(model.config.servers);
    let state = step(model, &state, ZabAction::Elect { leader, quorum });
    settle(model, state)
}

#[test]
fn sync_chooses_diff_trunc_or_snap_from_the_followers_last_zxid() {
    let leader = log(&[txn(1, 1, 1), txn(1, 2, 2), txn(2, 1, 3)]);
    assert_eq!(
        choose_sync(&leader, Zxid::new(1, 1)),
        (SyncMode::Diff, log(&[txn(1, 2, 2), txn(2, 1, 3)]))
    );
    assert_eq!(
        choose_sync(&leader, Zxid::new(2, 1)),
        (SyncMode::Diff, Log::new()),
        "up to date"
    );
    assert_eq!(choose_sync(&leader, Zxid::ZERO), (SyncMode::Snap, leader));
    assert_eq!(
        choose_sync(&leader, Zxid::new(2, 2)),
        (
            SyncMode::Trunc {
                to: Zxid::new(2, 1)
            },
            Log::new()
        ),
        "the follower is ahead"
    );
    assert_eq!(
        choose_sync(&leader, Zxid::new(1, 3)),
        (
            SyncMode::Trunc {
                to: Zxid::new(1, 2)
            },
            log(&[txn(2, 1, 3)])
        ),
        "diverged after (1,2): cut back, then diff"
    );
}

#[test]
fn discovery_proposes_one_past_the_highest_accepted_epoch() {
    let model = model(3, ZabVariant::Fixed);
    let mut state = ZabState::new(3);
    state.server_mut(1).disk.accepted_epoch = 2;
    let state = step(
        &model,
        &state,
        ZabAction::Elect {
            leader: 2,
            quorum: 0b110,
        },
    );
    let state = deliver(&model, &state, 1, 2);
    assert_eq!(state.server(2).leading().expect("leading").epoch, 3);
    assert_eq!(
        state.server(2).disk.accepted_epoch,
        3,
        "the leader accepts it too"
    );
    assert_eq!(
        state.head(2, 1).map(|p| &p.msg),
        Some(&Msg::LeaderInfo { epoch: 3 })
    );
}

#[test]
fn an_election_picks_the_best_vote_current_epoch_first() {
    let model = model(3, ZabVariant::Fixed);
    let mut state = ZabState::new(3);
    state.server_mut(0).disk.current_epoch = 2;
    state.server_mut(2).disk.log.push(txn(1, 1, 1));
    let elections = model.elections(&state);
    assert!(elections.contains(&(0, 0b011)), "{elections:?}");
    assert!(
        elections.contains(&(0, 0b101)),
        "newer epoch beats a longer log"
    );
    assert!(elections.contains(&(2, 0b110)), "then the longer log");
    assert!(elections.contains(&(0, 0b111)));
    assert_eq!(elections.len(), 4);
}

#[test]
fn a_leader_gives_up_when_a_follower_is_more_recent() {
    let model = model(3, ZabVariant::Fixed);
    let state = step(
        &model,
        &ZabState::new(3),
        ZabAction::Elect {
            leader: 1,
            quorum: 0b011,
        },
    );
    // S2 logged something meanwhile (as if it had been away) and joins.
    let mut state = deliver(&model, &state, 0, 1);
    state.server_mut(2).disk.log.push(txn(1, 1, 1));
    state.server_mut(2).disk.current_epoch = 1;
    let state = step(
        &model,
        &state,
        ZabAction::Join {
            server: 2,
            leader: 1,
        },
    );
    let state = deliver(&model, &state, 2, 1); // FOLLOWERINFO: LEADERINFO(1) at once
    let state = deliver(&model, &state, 1, 2);
    let state = deliver(&model, &state, 2, 1); // ACKEPOCH(1, (1,1)) is more recent than (0, 0)
    assert_eq!(state.server(1).role, Role::Looking);
}

#[test]
fn a_follower_behind_an_accepted_epoch_leaves_the_leader() {
    let model = model(3, ZabVariant::Fixed);
    let state = step(
        &model,
        &ZabState::new(3),
        ZabAction::Elect {
            leader: 1,
            quorum: 0b011,
        },
    );
    let mut state = deliver(&model, &state, 0, 1);
    state.server_mut(0).disk.accepted_epoch = 5;
    let state = deliver(&model, &state, 1, 0);
    assert_eq!(state.server(0).role, Role::Looking);
    assert!(state.net.is_empty(), "its connection closed");
}

#[test]
fn a_leader_whose_epoch_can_no_longer_be_acknowledged_times_out() {
    // S2 proposes epoch 1 to S0 and S1, which accept it; each crashes before its ACKEPOCH
    // arrives, comes back and joins S2 again (the other one still follows S2, so the two make a
    // quorum of reports). Having accepted epoch 1 already, each now answers ACKEPOCH(-1), which
    // does not count: S2 can never establish epoch 1 (ZooKeeper's waitForEpochAck runs out of
    // initLimit).
    let model = model(3, ZabVariant::Fixed);
    let elect = ZabAction::Elect {
        leader: 2,
        quorum: 0b111,
    };
    let state = step(&model, &ZabState::new(3), elect);
    let state = deliver(&model, &state, 0, 2); // FOLLOWERINFO: S2 proposes epoch 1
    let state = deliver(&model, &state, 1, 2);
    let state = deliver(&model, &state, 2, 0); // LEADERINFO(1): S0 accepts it
    let state = deliver(&model, &state, 2, 1); // and S1
    assert!(
        !model.times_out(&state, 2),
        "the counted ACKEPOCHs are on their way"
    );
    let mut state = state;
    for server in [0, 1] {
        state = step(&model, &state, ZabAction::Crash { server });
        state = step(&model, &state, ZabAction::Restart { server });
        state = step(&model, &state, ZabAction::Join { server, leader: 2 });
    }
    assert!(
        model.times_out(&state, 2),
        "no quorum can ack epoch 1 any more"
    );
    let state = settle(&model, state);
    assert_eq!(
        state.server(2).phase,
        Phase::Discovery,
        "ACKEPOCH(-1) is not counted"
    );
    let state = step(&model, &state, ZabAction::Timeout { server: 2 });
    assert_eq!(state.server(2).role, Role::Looking);
}

#[test]
fn a_leader_in_broadcast_counts_only_synced_followers() {
    let model = model(3, ZabVariant::Fixed);
    let state = established(&model, 1, 0b011);
    assert!(!model.times_out(&state, 1));
    // S2, which never synced, joins, and S0 crashes: S1 still has a follower connected, but no
    // quorum of synced ones (`Leader.lead`'s syncedAckSet).
    let state = step(
        &model,
        &state,
        ZabAction::Join {
            server: 2,
            leader: 1,
        },
    );
    let state = step(&model, &state, ZabAction::Crash { server: 0 });
    assert!(model.times_out(&state, 1));
}

#[test]
fn a_looking_server_joins_a_leader_only_on_a_quorum_of_reports() {
    // FLE's rule for joining an existing leader (`receivedFollowingNotification`,
    // `checkLeader`): the leader reports LEADING, and it and its followers make a quorum of the
    // reports the LOOKING server receives. S1 leads with S0; S2 may join. Once S0 crashed, S1
    // alone is no quorum: S2 may not join, and S1 gives up.
    let model = model(3, ZabVariant::Fixed);
    let joins = |state: &ZabState| {
        let mut enabled = Vec::new();
        model.actions(state, &mut enabled);
        enabled
            .into_iter()
            .filter(|a| matches!(a, ZabAction::Join { .. }))
            .collect::<Vec<_>>()
    };
    let elected = step(
        &model,
        &ZabState::new(3),
        ZabAction::Elect {
            leader: 1,
            quorum: 0b011,
        },
    );
    let join = ZabAction::Join {
        server: 2,
        leader: 1,
    };
    let expected = std::slice::from_ref(&join);
    assert_eq!(joins(&elected), expected, "S0's FOLLOWERINFO is on its way");
    let established = settle(&model, elected);
    assert_eq!(joins(&established), expected);
    let crashed = step(&model, &established, ZabAction::Crash { server: 0 });
    assert_eq!(joins(&crashed), []);
    // Nor when a partition cuts S0 off: S2 no longer hears its report.
    let cut = step(&model, &established, ZabAction::Partition { side: 0b110 });
    assert_eq!(joins(&cut), []);
}

#[test]
fn broadcast_commits_with_a_quorum_in_zxid_order() {
    let model = model(3, ZabVariant::Fixed);
    let state = established(&model, 2, 0b111);
    assert_eq!(state.server(2).phase, Phase::Broadcast);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = deliver(&model, &state, 2, 1); // PROPOSAL (2's epoch is 1)
    let state = deliver(&model, &state, 2, 1); // PROPOSAL
    let state = deliver(&model, &state, 1, 2); // ACK(1,1): S1 alone is no quorum
    assert_eq!(state.server(2).disk.delivered, 0);
    let state = step(&model, &state, ZabAction::LogProposal { server: 2 });
    // The leader wrote (1,1): its own ACK and S1's are a quorum.
    assert_eq!(state.server(2).disk.delivered, 1);
    assert_eq!(state.ghost.committed(), 0b01);
    let state = deliver(&model, &state, 1, 2); // ACK(1,2)
    assert_eq!(state.server(2).disk.delivered, 1);
    let state = step(&model, &state, ZabAction::LogProposal { server: 2 });
    assert_eq!(state.server(2).disk.delivered, 2);
    let state = settle(&model, state);
    for s in 0..3 {
        assert_eq!(state.server(s).disk.delivered, 2, "S{s} delivered both");
    }
}

/// S2 leads S0 and S1 in broadcast and has proposed (1,1), which it has not written yet.
fn proposed_not_written(model: &ZabModel) -> ZabState {
    let state = established(model, 2, 0b111);
    let state = step(model, &state, ZabAction::ClientRequest { leader: 2 });
    let leader = state.server(2);
    assert_eq!(leader.disk.log, log(&[txn(1, 1, 1)]), "in its memory");
    assert_eq!(leader.leading().map(|l| l.unwritten), Some(1));
    assert_eq!(state.ghost.logged_by[0], 0, "on nobody's disk");
    assert!(
        state.head(2, 0).is_some() && state.head(2, 1).is_some(),
        "the PROPOSALs go out before the leader's own write"
    );
    state
}

#[test]
fn a_leader_may_commit_before_its_own_log_write() {
    let model = model(3, ZabVariant::Fixed);
    let state = proposed_not_written(&model);
    let state = deliver(&model, &state, 2, 0);
    let state = deliver(&model, &state, 2, 1);
    let state = deliver(&model, &state, 0, 2);
    assert_eq!(
        state.ghost.committed(),
        0,
        "one follower's ACK is no quorum"
    );
    let state = deliver(&model, &state, 1, 2);
    // `Leader.tryToCommit` takes any quorum: S0 and S1 commit (1,1) without the leader.
    assert_eq!(state.ghost.committed(), 0b01);
    let leader = state.server(2);
    assert_eq!(leader.disk.delivered, 1, "the leader applies it");
    assert_eq!(leader.leading().map(|l| l.unwritten), Some(1), "unwritten");
    assert_eq!(
        state.ghost.history[2],
        Log::new(),
        "not counted as delivered by the leader before it is written"
    );
    assert_eq!(state.ghost.logged_by[0], 0b111, "S0 and S1 are a quorum");
    // Its write comes later; the ACK it then counts finds the proposal committed.
    let state = step(&model, &state, ZabAction::LogProposal { server: 2 });
    let leader = state.server(2);
    assert_eq!(leader.leading().map(|l| l.unwritten), Some(0));
    assert_eq!((leader.disk.log.len(), leader.disk.delivered), (1, 1));
    assert_eq!(state.ghost.history[2], log(&[txn(1, 1, 1)]));
}

#[test]
fn the_leaders_own_ack_counts_once_and_only_after_its_write() {
    let model = model(3, ZabVariant::Fixed);
    let state = proposed_not_written(&model);
    let state = step(&model, &state, ZabAction::LogProposal { server: 2 });
    let leading = *state.server(2).leading().expect("leading");
    assert_eq!((leading.unwritten, leading.acks[0]), (0, 0b100));
    assert_eq!(state.ghost.logged_by[0], 0b100);
    assert_eq!(state.ghost.committed(), 0, "its own ACK alone is no quorum");
    let mut enabled = Vec::new();
    model.actions(&state, &mut enabled);
    assert!(
        !enabled.contains(&ZabAction::LogProposal { server: 2 }),
        "nothing left to write: no second ACK of its own"
    );
    let state = deliver(&model, &state, 2, 0);
    let state = deliver(&model, &state, 0, 2);
    assert_eq!(state.ghost.committed(), 0b01, "its ACK and S0's");
}

#[test]
fn a_leader_crash_before_its_write_loses_the_proposal_from_its_log() {
    let model = model(3, ZabVariant::Fixed);
    let state = proposed_not_written(&model);
    let crashed = step(&model, &state, ZabAction::Crash { server: 2 });
    assert_eq!(crashed.server(2).disk.log, Log::new());
    assert_eq!(crashed.ghost.logged_by[0], 0);
    // Committed by S0 and S1 and applied, then the crash: the leader's disk lacks it still.
    let state = deliver(&model, &state, 2, 0);
    let state = deliver(&model, &state, 2, 1);
    let state = deliver(&model, &state, 0, 2);
    let state = deliver(&model, &state, 1, 2);
    let crashed = step(&model, &state, ZabAction::Crash { server: 2 });
    assert_eq!(crashed.server(2).disk.log, Log::new());
    assert_eq!(crashed.server(2).disk.delivered, 0);
    assert!(props::committed_log_monotonicity(&crashed));
}

/// 3 servers, 1 write, the fixed code, `timeouts` spurious timeouts.
fn timeouts_model(timeouts: u8) -> ZabModel {
    ZabModel::new(ZabConfig {
        timeouts,
        ..ZabConfig::new(3, 1)
    })
    .expect("valid")
}

#[test]
fn a_leader_that_steps_down_writes_its_queued_proposals_and_counts_their_acks() {
    let model = timeouts_model(1);
    let state = proposed_not_written(&model);
    let state = deliver(&model, &state, 2, 0);
    let state = deliver(&model, &state, 0, 2);
    // `Leader.shutdown` stops the SyncRequestProcessor, which drains its queue first; the ACK
    // it hands to `processAck` completes the quorum.
    let state = step(&model, &state, ZabAction::SpuriousTimeout { server: 2 });
    assert_eq!(state.server(2).role, Role::Looking);
    assert_eq!(state.server(2).disk.log, log(&[txn(1, 1, 1)]), "on disk");
    assert_eq!(state.ghost.committed(), 0b01);
}

/// The finding of this model (docs/zab.md, "The leader's own ACK"): a follower's ACK outlives
/// the TRUNC that takes the proposal back from it, and the leader's late write of its own
/// completes a quorum with it. Two spurious timeouts of S0 then lose the committed, applied
/// transaction.
#[test]
fn a_truncated_followers_stale_ack_commits_with_the_leaders_late_own_ack() {
    let model = timeouts_model(2);
    let elect = ZabAction::Elect {
        leader: 2,
        quorum: 0b111,
    };
    // S0 syncs with S2 and serves; S1's FOLLOWERINFO stays on its way (it follows S2 but is not
    // its learner yet).
    let mut state = step(&model, &ZabState::new(3), elect);
    for (from, to) in [
        (0, 2),
        (2, 0),
        (0, 2),
        (2, 0),
        (2, 0),
        (0, 2),
        (2, 0),
        (0, 2),
    ] {
        state = deliver(&model, &state, from, to);
    }
    assert_eq!(state.server(0).phase, Phase::Broadcast);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = deliver(&model, &state, 2, 0); // PROPOSAL(1,1)
    let state = deliver(&model, &state, 0, 2); // ACK(1,1): S0's ACK is recorded
    assert_eq!(state.server(2).leading().map(|l| l.acks[0]), Some(0b001));
    // S0 leaves (its read of the leader timed out) and joins S2 again.
    let state = step(&model, &state, ZabAction::SpuriousTimeout { server: 0 });
    let state = join(&model, &state, 0, 2);
    let state = deliver(&model, &state, 0, 2); // FOLLOWERINFO
    let state = deliver(&model, &state, 2, 0); // LEADERINFO
    let state = deliver(&model, &state, 0, 2); // ACKEPOCH(last (1,1))
                                               // (1,1) is not committed: the leader cuts S0 back (`syncFollower`: peerLastZxid above
                                               // maxCommittedLog).
    assert!(matches!(
        state.head(2, 0).map(|p| p.msg),
        Some(Msg::Sync {
            mode: SyncMode::Trunc { .. },
            ..
        })
    ));
    let state = deliver(&model, &state, 2, 0); // TRUNC
    assert_eq!(state.server(0).disk.log, Log::new());
    assert_eq!(
        state.server(2).leading().map(|l| l.acks[0]),
        Some(0b001),
        "the ACK of the old connection still counts (`removeLearnerHandler` keeps it)"
    );
    let state = step(&model, &state, ZabAction::LogProposal { server: 2 });
    assert_eq!(
        state.ghost.committed(),
        0b01,
        "S2's own ACK and S0's stale one"
    );
    assert_eq!(state.ghost.history[2], log(&[txn(1, 1, 1)]), "S2 serves it");
    // S2, left without a quorum of followers, gives up; S0 and S1, neither holding (1,1), give
    // up on it and elect S0.
    let mut state = state;
    for server in [2, 0, 1] {
        state = step(&model, &state, ZabAction::Timeout { server });
    }
    let elect = ZabAction::Elect {
        leader: 0,
        quorum: 0b011,
    };
    let state = step(&model, &state, elect);
    let state = settle_by(&model, state, |a| {
        matches!(
            a,
            ZabAction::Deliver {
                from: 0 | 1,
                to: 0 | 1,
                ..
            }
        )
    });
    assert!(state.server(0).is_established_leader());
    assert!(!props::committed_log_durability(&state));
}

#[test]
fn a_crash_keeps_the_disk_and_loses_the_rest() {
    let model = model(3, ZabVariant::Fixed);
    let state = established(&model, 2, 0b111);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = deliver(&model, &state, 2, 0);
    let state = step(&model, &state, ZabAction::Crash { server: 0 });
    let crashed = state.server(0);
    assert!(!crashed.up);
    assert_eq!(crashed.role, Role::Looking);
    assert_eq!(crashed.disk.log, log(&[txn(1, 1, 1)]), "the log survives");
    assert_eq!(crashed.disk.current_epoch, 1);
    assert!(
        state.net.iter().all(|p| p.from != 0 && p.to != 0),
        "its connections closed: its ACK is lost"
    );
    let state = step(&model, &state, ZabAction::Restart { server: 0 });
    assert!(state.server(0).up);
}

#[test]
fn newleader_in_the_fixed_protocol_writes_txns_and_epoch_together() {
    let (state, follower) = synced_but_newleader_pending(ZabVariant::Fixed);
    let model = model(3, ZabVariant::Fixed);
    let state = deliver(&model, &state, 2, follower);
    let disk = &state.server(follower).disk;
    assert_eq!((disk.current_epoch, disk.log.len()), (2, 2));
    assert!(matches!(
        state.head(follower, 2).map(|p| &p.msg),
        Some(Msg::Ack { .. })
    ));
}

#[test]
fn newleader_in_zk_4643_writes_the_epoch_before_the_txns() {
    let (state, follower) = synced_but_newleader_pending(ZabVariant::Zk4643);
    let model = model(3, ZabVariant::Zk4643);
    let state = deliver(&model, &state, 2, follower);
    let disk = &state.server(follower).disk;
    assert_eq!((disk.current_epoch, disk.log.len()), (2, 1), "epoch first");
    assert!(state.head(follower, 2).is_none(), "no ACK yet");
    let crashed = step(&model, &state, ZabAction::Crash { server: follower });
    let disk = &crashed.server(follower).disk;
    assert_eq!(
        (disk.current_epoch, disk.log.len()),
        (2, 1),
        "a newer epoch, a shorter log"
    );
    let state = step(&model, &state, ZabAction::LogSynced { server: follower });
    assert_eq!(state.server(follower).disk.log.len(), 2);
    assert!(matches!(
        state.head(follower, 2).map(|p| &p.msg),
        Some(Msg::Ack { .. })
    ));
}

#[test]
fn newleader_in_zk_4646_acks_before_the_txns_are_logged() {
    let (state, follower) = synced_but_newleader_pending(ZabVariant::Zk4646);
    let model = model(3, ZabVariant::Zk4646);
    let state = deliver(&model, &state, 2, follower);
    let disk = &state.server(follower).disk;
    assert_eq!((disk.current_epoch, disk.log.len()), (2, 1));
    assert!(
        matches!(state.head(follower, 2).map(|p| &p.msg), Some(Msg::Ack { zxid }) if zxid.counter == 0),
        "the ACK of NEWLEADER is out"
    );
    let state = step(&model, &state, ZabAction::LogSynced { server: follower });
    assert_eq!(state.server(follower).disk.log.len(), 2);
}

/// S1 has the first write but missed the second (it was down), and S2, which leads again in
/// epoch 2 with S1, has sent it DIFF +(1,2) and NEWLEADER(2); the DIFF is delivered, NEWLEADER
/// waits. (A DIFF, not a SNAP: after a SNAP or a TRUNC every version takes its snapshot before
/// it writes the epoch, see `a_snap_is_on_disk_before_the_epoch_in_every_variant`.)
fn synced_but_newleader_pending(variant: ZabVariant) -> (ZabState, Sid) {
    let model = model(3, variant);
    let state = step(
        &model,
        &ZabState::new(3),
        ZabAction::Elect {
            leader: 2,
            quorum: 0b111,
        },
    );
    let state = settle(&model, state);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = settle(&model, state);
    assert_eq!(state.server(1).disk.log.len(), 1);
    let state = step(&model, &state, ZabAction::Crash { server: 1 });
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = settle(&model, state);
    assert_eq!(state.ghost.committed(), 0b11, "both writes committed");
    let state = step(&model, &state, ZabAction::Restart { server: 1 });
    let state = step(&model, &state, ZabAction::Crash { server: 0 });
    let state = step(&model, &state, ZabAction::Timeout { server: 2 });
    let state = step(
        &model,
        &state,
        ZabAction::Elect {
            leader: 2,
            quorum: 0b110,
        },
    );
    let state = deliver(&model, &state, 1, 2); // FOLLOWERINFO
    let state = deliver(&model, &state, 2, 1); // LEADERINFO(2)
    let state = deliver(&model, &state, 1, 2); // ACKEPOCH: established, DIFF + NEWLEADER sent
    let state = deliver(&model, &state, 2, 1); // DIFF +(1,2)
    assert_eq!(
        state.head(2, 1).map(|p| &p.msg),
        Some(&Msg::NewLeader { epoch: 2 })
    );
    (state, 1)
}

#[test]
fn a_snap_is_on_disk_before_the_epoch_in_every_variant() {
    for variant in ZabVariant::ALL {
        // S1 never saw the committed write: S2 syncs it with a SNAP.
        let model = model(3, variant);
        let state = step(
            &model,
            &ZabState::new(3),
            ZabAction::Elect {
                leader: 2,
                quorum: 0b101,
            },
        );
        let state = settle(&model, state);
        let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
        let state = settle(&model, state);
        let state = step(&model, &state, ZabAction::Crash { server: 0 });
        let state = step(&model, &state, ZabAction::Timeout { server: 2 });
        let state = step(
            &model,
            &state,
            ZabAction::Elect {
                leader: 2,
                quorum: 0b110,
            },
        );
        let state = deliver(&model, &state, 1, 2);
        let state = deliver(&model, &state, 2, 1);
        let state = deliver(&model, &state, 1, 2);
        let state = deliver(&model, &state, 2, 1); // SNAP
        let state = deliver(&model, &state, 2, 1); // NEWLEADER(2)
        let disk = &state.server(1).disk;
        assert_eq!(
            (disk.current_epoch, disk.log.len()),
            (2, 1),
            "{}: the snapshot before the epoch",
            variant.name()
        );
    }
}

/// Five servers, {S3, S4} cut off: {S0, S1, S2} elect S2, which takes the next write; every
/// message is delivered.
fn majority_elects_s2_and_writes(model: &ZabModel, state: &ZabState) -> ZabState {
    let quorum = 0b00111;
    let state = step(model, state, ZabAction::Elect { leader: 2, quorum });
    let state = settle(model, state);
    let state = step(model, &state, ZabAction::ClientRequest { leader: 2 });
    settle(model, state)
}

#[test]
fn a_minority_cannot_elect_and_the_majority_commits() {
    // Five servers, {S3, S4} cut off: no quorum can form on their side, the other three elect,
    // establish and commit.
    let model = ZabModel::new(ZabConfig {
        partitions: 1,
        ..ZabConfig::new(5, 1)
    })
    .expect("valid");
    let state = step(
        &model,
        &ZabState::new(5),
        ZabAction::Partition { side: 0b11000 },
    );
    let elections = model.elections(&state);
    assert!(
        elections.iter().all(|&(_, quorum)| quorum & 0b11000 == 0),
        "every quorum lies on the majority side: {elections:?}"
    );
    let state = majority_elects_s2_and_writes(&model, &state);
    assert_eq!(state.ghost.committed(), 1, "the majority commits");
    assert!(
        model.joins(&state).iter().all(|&(s, _)| s < 3),
        "the minority cannot join"
    );
}

/// Five servers, S4 leading all four in broadcast, then `{S3, S4}` cut off for good: the leader
/// sits in a minority with one follower.
fn leader_cut_off(model: &ZabModel) -> ZabState {
    let state = established(model, 4, 0b11111);
    assert_eq!(state.server(4).phase, Phase::Broadcast);
    step(model, &state, ZabAction::Partition { side: 0b11000 })
}

fn split_model(transactions: u8) -> ZabModel {
    ZabModel::new(ZabConfig {
        partitions: 1,
        permanent_partitions: true,
        partition_sides: Some([0b00111, 0b11000]),
        ..ZabConfig::new(5, transactions)
    })
    .expect("valid")
}

#[test]
fn a_leader_cut_off_into_a_minority_cannot_commit_and_the_majority_elects_and_commits() {
    let model = split_model(2);
    let state = leader_cut_off(&model);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 4 });
    let state = settle(&model, state);
    assert_eq!(state.server(3).disk.log.len(), 1, "S3 logged the proposal");
    assert_eq!(state.ghost.committed(), 0, "S3 and S4 are no quorum");
    assert!(props::minority_commits_nothing_new(&model.config, &state));
    // The majority notices, elects S2 in epoch 2 and commits the second write.
    let state = settle_by(
        &model,
        state,
        |a| matches!(a, ZabAction::Timeout { server } if *server < 3),
    );
    let state = majority_elects_s2_and_writes(&model, &state);
    assert_eq!(
        state.ghost.committed(),
        0b10,
        "the majority commits write 2"
    );
    assert!(state.ids().filter(|&s| s < 3).all(|s| state
        .server(s)
        .disk
        .delivered()
        .iter()
        .any(|t| t.value == 2)));
    assert!(props::minority_commits_nothing_new(&model.config, &state));
}

#[test]
fn a_proposal_acknowledged_across_the_cut_before_it_may_commit_in_the_minority() {
    // S2's ACK arrives before the cut, S3's after: {S2, S3, S4} is a quorum, rightly.
    let model = split_model(1);
    let state = established(&model, 4, 0b11111);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 4 });
    let state = deliver(&model, &state, 4, 2);
    let state = deliver(&model, &state, 2, 4);
    let state = step(&model, &state, ZabAction::Partition { side: 0b11000 });
    let state = settle(&model, state);
    assert_eq!(
        state.ghost.committed(),
        1,
        "committed by S4 in the minority"
    );
    assert!(props::minority_commits_nothing_new(&model.config, &state));
}

#[test]
fn a_leader_that_commits_on_two_acks_is_caught_by_the_minority_check_and_integrity() {
    // The mutation: a broken quorum rule lets the cut-off leader commit with S3 alone. Only S3
    // and S4 ever logged the write, so its delivery also breaks `integrity`.
    let mut model = split_model(1);
    model.commits_on_two_acks = true;
    let state = leader_cut_off(&model);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 4 });
    let state = settle(&model, state);
    assert_eq!(state.ghost.committed(), 1, "the mutation commits");
    assert!(!props::minority_commits_nothing_new(&model.config, &state));
    let safety_verdicts: Vec<&str> = model
        .properties()
        .into_iter()
        .filter(|p| !(p.condition)(&model, &state))
        .map(|p| p.name)
        .collect();
    assert_eq!(
        safety_verdicts,
        [
            crate::prop::INTEGRITY,
            crate::prop::MINORITY_COMMITS_NOTHING_NEW
        ],
        "the two checks of a quorum see it, and no other"
    );
    let why = crate::Explain::describe_violation(&model, crate::prop::INTEGRITY, &state)
        .expect("violated");
    assert!(
        why.starts_with("S3 delivered (1,1)#1, which no quorum of servers ever logged"),
        "{why}"
    );
    let why = crate::Explain::describe_violation(
        &model,
        crate::prop::MINORITY_COMMITS_NOTHING_NEW,
        &state,
    )
    .expect("violated");
    assert!(
        why.starts_with(
            "S3 delivered (1,1)#1, which was proposed after the partition cut {S3, S4} off"
        ),
        "{why}"
    );
}

#[test]
fn a_search_finds_the_two_ack_quorum_through_the_minority_check_and_integrity() {
    // Four servers split 2 | 2 for good, so neither side is a quorum: the complete space of the
    // fixed protocol keeps every property, the mutation's breaks the minority check and
    // integrity (a write delivered that only two of four servers ever logged), and no other.
    let config = ZabConfig {
        epochs: 1,
        partitions: 1,
        permanent_partitions: true,
        partition_sides: Some([0b0011, 0b1100]),
        ..ZabConfig::new(4, 1)
    };
    let violated = |model: ZabModel| {
        let checker = model.clone().checker().spawn_bfs().join();
        model
            .properties()
            .into_iter()
            .filter(|p| checker.discovery(p.name).is_some())
            .map(|p| p.name)
            .collect::<Vec<_>>()
    };
    let fixed = ZabModel::new(config).expect("valid");
    assert_eq!(violated(fixed.clone()), Vec::<&str>::new());
    let mut broken = fixed;
    broken.commits_on_two_acks = true;
    assert_eq!(
        violated(broken),
        [
            crate::prop::INTEGRITY,
            crate::prop::MINORITY_COMMITS_NOTHING_NEW
        ]
    );
}

/// The safety properties a complete breadth-first search of `model` finds violated.
fn violated_in_complete_search(model: &ZabModel) -> Vec<&'static str> {
    let checker = model.clone().checker().spawn_bfs().join();
    assert!(checker.is_done(), "the search is complete");
    model
        .properties()
        .into_iter()
        .filter(|p| p.expectation == stateright::Expectation::Always)
        .filter(|p| checker.discovery(p.name).is_some())
        .map(|p| p.name)
        .collect()
}

#[test]
fn a_search_finds_two_leaders_of_one_epoch_when_followers_forget_their_promise() {
    // ACKEPOCH's promise is what keeps two leaders out of one epoch: a follower that counts
    // for a leader of epoch 1 without writing acceptedEpoch = 1 can count for a second leader
    // of epoch 1 after the first crashed. Three servers, no writes, one crash: the fixed
    // protocol keeps every property, the mutation breaks leader uniqueness and nothing else.
    let config = ZabConfig {
        crashes: 1,
        ..ZabConfig::new(3, 0)
    };
    let fixed = ZabModel::new(config).expect("valid");
    assert_eq!(violated_in_complete_search(&fixed), Vec::<&str>::new());
    let mut broken = fixed;
    broken.forgets_epoch_promise = true;
    assert_eq!(
        violated_in_complete_search(&broken),
        [crate::prop::LEADER_UNIQUENESS]
    );
}

#[test]
fn a_search_finds_a_proposal_delivered_without_its_predecessor_when_a_late_follower_misses_it() {
    // A follower that joins while a proposal is outstanding must get it between the sync and
    // NEWLEADER. Without it, the follower logs and delivers the next proposal of the same
    // primary alone: agreement (while the others have delivered only the first), total order
    // and local primary order break, its log is no prefix of its leader's, and the missing
    // proposal's COMMIT can reach it in synchronization with nothing buffered. Three servers,
    // two writes, no faults.
    let config = ZabConfig::new(3, 2);
    let fixed = ZabModel::new(config).expect("valid");
    assert_eq!(violated_in_complete_search(&fixed), Vec::<&str>::new());
    let mut broken = fixed;
    broken.skips_outstanding_proposals = true;
    assert_eq!(
        violated_in_complete_search(&broken),
        [
            crate::prop::AGREEMENT,
            crate::prop::TOTAL_ORDER,
            crate::prop::LOCAL_PRIMARY_ORDER,
            crate::prop::HISTORY_CONSISTENCY,
            crate::prop::COMMIT_CONSISTENT
        ]
    );
}

#[test]
fn a_search_finds_an_old_epoch_delivered_last_when_syncs_are_written_newest_first() {
    // A sync that crosses an epoch must be written oldest first: a follower that writes it
    // newest first delivers the new epoch's transaction before the old epoch's. Reaching such a
    // sync takes two epochs, each with a write, and a late follower: three servers, two writes,
    // one spurious timeout to end the first epoch. The fixed protocol keeps every property; the
    // mutation breaks global primary order (and, with it, the order the other servers deliver
    // in, the follower's own earlier deliveries, and its log as a prefix of its leader's).
    // The leader writes atomically: in ZooKeeper's order the spurious timeout already lets the
    // fixed protocol lose a committed write (stale-ack-after-trunc.toml).
    let config = ZabConfig {
        timeouts: 1,
        leader_write: LeaderWrite::Atomic,
        ..ZabConfig::new(3, 2)
    };
    let fixed = ZabModel::new(config).expect("valid");
    assert_eq!(violated_in_complete_search(&fixed), Vec::<&str>::new());
    let mut broken = fixed;
    broken.writes_sync_newest_first = true;
    let checker = broken.clone().checker().spawn_bfs().join();
    let path = checker
        .discovery(crate::prop::GLOBAL_PRIMARY_ORDER)
        .expect("global primary order is violated");
    let last = path.last_state();
    let newer_then_older = last.ghost.history.iter().any(|history| {
        history
            .windows(2)
            .any(|pair| pair[0].zxid.epoch > pair[1].zxid.epoch)
    });
    assert!(newer_then_older, "{:?}", last.ghost.history);
    assert!(checker.is_done(), "the search is complete");
    let violated: Vec<&str> = broken
        .properties()
        .into_iter()
        .filter(|p| checker.discovery(p.name).is_some())
        .map(|p| p.name)
        .collect();
    assert_eq!(
        violated,
        [
            crate::prop::AGREEMENT,
            crate::prop::TOTAL_ORDER,
            crate::prop::LOCAL_PRIMARY_ORDER,
            crate::prop::GLOBAL_PRIMARY_ORDER,
            crate::prop::COMMITTED_LOG_MONOTONICITY,
            crate::prop::HISTORY_CONSISTENCY,
            crate::prop::STATE_CONSISTENT,
        ]
    );
}

/// Every state reachable in `model` from `start`, breadth-first.
pub(super) fn reachable(model: &ZabModel, start: ZabState) -> HashSet<ZabState> {
    let mut seen = HashSet::from([start.clone()]);
    let mut queue = VecDeque::from([start]);
    while let Some(state) = queue.pop_front() {
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        for action in actions {
            let next = model.next_state(&state, action).expect("a step");
            if seen.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    seen
}

/// How many states reachable in `model` owe something to `property` while no fairness task is
/// enabled (only a fault or a client write could move them on): in a weakly fair run each may
/// last forever, so each ends a lasso that violates `property` (the checker's "stuck" lasso).
fn stuck_owing(model: &ZabModel, property: &str) -> usize {
    use crate::Liveness;
    let start = model.init_states().remove(0);
    reachable(model, start)
        .iter()
        .filter(|s| model.pending(property, s) != 0 && crate::enabled_tasks(model, s) == 0)
        .count()
}

#[test]
fn a_search_finds_a_write_never_committed_when_the_leader_drops_the_acks_of_proposals() {
    // A leader that stays must get its proposal delivered by a quorum: one that drops its
    // followers' ACKs counts only its own and never commits. Three servers, one write, no
    // faults: no reachable state of the fixed protocol is left owing the write with nothing
    // fair to do (the bundled liveness-no-faults.toml checks the whole property, cycles too);
    // the mutation's are, and it breaks no safety property.
    let config = ZabConfig {
        epochs: 1,
        ..ZabConfig::new(3, 1)
    };
    let owed = crate::prop::PROPOSALS_EVENTUALLY_COMMITTED;
    let fixed = ZabModel::new(config).expect("valid");
    assert_eq!(stuck_owing(&fixed, owed), 0);
    let mut broken = fixed;
    broken.drops_proposal_acks = true;
    assert!(stuck_owing(&broken, owed) > 0);
    assert_eq!(violated_in_complete_search(&broken), Vec::<&str>::new());
}

#[test]
fn the_state_space_of_one_write_without_faults_is_pinned() {
    // A changed count is a semantic change of the model: say so in the commit message.
    // ZooKeeper's order, then the atomic abstraction (1,421 was every count before the leader's
    // own write became a step of its own).
    for (leader_write, states) in [(LeaderWrite::Queued, 2290), (LeaderWrite::Atomic, 1421)] {
        let model = ZabModel::new(ZabConfig {
            epochs: 2,
            leader_write,
            ..ZabConfig::new(3, 1)
        })
        .expect("valid");
        let checker = model.clone().checker().spawn_bfs().join();
        assert_eq!(checker.unique_state_count(), states, "{leader_write:?}");
        for property in model.properties() {
            if property.expectation == stateright::Expectation::Always {
                assert!(
                    checker.discovery(property.name).is_none(),
                    "{leader_write:?}: {} holds",
                    property.name
                );
            }
        }
    }
}

#[test]
fn in_zk_4712_a_stray_proposal_reaches_the_disk_after_the_follower_left_its_leader() {
    let model = model(3, ZabVariant::Zk4712);
    let state = established(&model, 2, 0b111);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = deliver(&model, &state, 2, 0);
    assert_eq!(state.server(0).disk.log.len(), 0, "queued, not logged");
    assert_eq!(state.server(0).sync_queue.len(), 1);
    assert!(state.head(0, 2).is_none(), "no ACK before the write");
    let state = step(&model, &state, ZabAction::Crash { server: 2 });
    let state = step(&model, &state, ZabAction::Timeout { server: 0 });
    assert_eq!(state.server(0).role, Role::Looking);
    assert!(
        state.server(0).sync_queue.is_empty(),
        "the role's queue ended"
    );
    assert_eq!(state.server(0).orphans, log(&[txn(1, 1, 1)]), "orphaned");
    let state = step(&model, &state, ZabAction::LogOrphan { server: 0 });
    assert_eq!(
        state.server(0).disk.log,
        log(&[txn(1, 1, 1)]),
        "written while LOOKING"
    );
    assert_eq!(
        state.server(0).vote(0).zxid,
        Zxid::ZERO,
        "the data tree was fast-forwarded before the write: the vote does not count it"
    );
    let crashed = step(&model, &state, ZabAction::Crash { server: 0 });
    assert!(
        crashed.server(0).orphans.is_empty(),
        "a crash stops the thread"
    );
}

#[test]
fn in_zk_4712_an_orphaned_write_sends_no_ack_and_blocks_no_new_proposal() {
    let model = model(3, ZabVariant::Zk4712);
    let state = established(&model, 2, 0b111);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = deliver(&model, &state, 2, 0);
    // S0 is cut off from S2 with the proposal still queued, leaves it, and joins it again.
    let state = step(&model, &state, ZabAction::Partition { side: 0b110 });
    let state = step(&model, &state, ZabAction::Timeout { server: 0 });
    let state = step(&model, &state, ZabAction::Heal);
    let state = step(
        &model,
        &state,
        ZabAction::Join {
            server: 0,
            leader: 2,
        },
    );
    let state = settle(&model, state);
    assert_eq!(state.server(0).phase, Phase::Broadcast);
    assert_eq!(state.server(0).orphans, log(&[txn(1, 1, 1)]));
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = deliver(&model, &state, 2, 0);
    assert_eq!(
        state.server(0).sync_queue,
        log(&[txn(1, 2, 2)]),
        "the new role's proposal is taken although the old queue still holds one"
    );
    let state = step(&model, &state, ZabAction::LogOrphan { server: 0 });
    assert!(state.head(0, 2).is_none(), "no ACK of the orphaned write");
}

#[test]
fn votes_and_ackepoch_report_the_processed_zxid_not_the_logs_last() {
    // S0 logs a proposal that is never committed, then goes back to LOOKING.
    for (variant, reported) in [
        (ZabVariant::Fixed, Zxid::new(1, 1)),
        (ZabVariant::Zk2845, Zxid::ZERO),
    ] {
        let model = model(3, variant);
        let state = established(&model, 2, 0b111);
        let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
        let state = deliver(&model, &state, 2, 0);
        assert_eq!(state.server(0).disk.log, log(&[txn(1, 1, 1)]));
        assert_eq!(state.server(0).processed_zxid(), Zxid::ZERO, "logged only");
        let state = step(&model, &state, ZabAction::Partition { side: 0b110 });
        let state = step(&model, &state, ZabAction::Timeout { server: 0 });
        assert_eq!(
            state.server(0).vote(0).zxid,
            reported,
            "{}: fastForwardDataBase replays the log only in the fixed code",
            variant.name()
        );
        let restarted = step(&model, &state, ZabAction::Crash { server: 0 });
        let restarted = step(&model, &restarted, ZabAction::Restart { server: 0 });
        assert_eq!(
            restarted.server(0).vote(0).zxid,
            Zxid::new(1, 1),
            "a restart replays the whole log"
        );
    }
}

#[test]
fn a_commit_for_another_zxid_than_the_pending_one_makes_the_follower_exit() {
    let model = model(3, ZabVariant::Fixed);
    let state = established(&model, 2, 0b111);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = deliver(&model, &state, 2, 0);
    let mut forged = state.clone();
    let commit = Msg::Commit {
        zxid: Zxid::new(1, 2),
    };
    forged.net.retain(|p| (p.from, p.to) != (2, 0));
    forged.net.push(types::Packet {
        from: 2,
        to: 0,
        msg: commit,
    });
    let exited = deliver(&model, &forged, 2, 0);
    assert!(!exited.server(0).up, "UNMATCHED_TXN_COMMIT");
    assert_eq!(exited.faults.crashes, 0, "an exit is no injected fault");
    let state = deliver(&model, &state, 0, 2);
    let state = step(&model, &state, ZabAction::LogProposal { server: 2 });
    let state = deliver(&model, &state, 2, 0);
    assert!(state.server(0).up);
    assert_eq!(
        state.server(0).disk.delivered,
        1,
        "the matching COMMIT applies"
    );
}

#[test]
fn the_fixed_protocol_logs_a_proposal_as_it_takes_it() {
    let model = model(3, ZabVariant::Fixed);
    let state = established(&model, 2, 0b111);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = deliver(&model, &state, 2, 0);
    assert_eq!(state.server(0).disk.log, log(&[txn(1, 1, 1)]));
    assert!(state.server(0).sync_queue.is_empty());
    assert_eq!(
        state.head(0, 2).map(|p| &p.msg),
        Some(&Msg::Ack {
            zxid: Zxid::new(1, 1)
        })
    );
}

#[test]
fn newleader_in_zk_3911_acks_at_once_and_uptodate_writes_the_txns() {
    let (state, follower) = synced_but_newleader_pending(ZabVariant::Zk3911);
    let model = model(3, ZabVariant::Zk3911);
    let state = deliver(&model, &state, 2, follower);
    assert_eq!(state.server(follower).disk.log.len(), 1, "still in memory");
    let mut enabled = Vec::new();
    model.actions(&state, &mut enabled);
    assert!(
        !enabled.contains(&ZabAction::LogSynced { server: follower }),
        "no separate write: it waits for UPTODATE"
    );
    let state = deliver(&model, &state, follower, 2); // ACK(2,0): the leader commits
    let state = deliver(&model, &state, 2, follower); // UPTODATE
    let disk = &state.server(follower).disk;
    assert_eq!((disk.log.len(), disk.delivered), (2, 2));
    assert_eq!(state.server(follower).phase, Phase::Broadcast);
}

#[test]
fn a_release_variant_is_the_set_of_its_flaws() {
    use super::Flaw;
    let v36 = ZabVariant::V36To391;
    for flaw in [
        Flaw::Zk4643,
        Flaw::Zk4646,
        Flaw::Zk4685,
        Flaw::Zk3023,
        Flaw::Zk4394,
        Flaw::Zk4712,
    ] {
        assert!(v36.has(flaw), "{flaw:?}");
    }
    assert!(!v36.has(Flaw::Zk3911) && !v36.has(Flaw::Zk2845));
    assert_eq!(
        ZabVariant::V392.flaws(),
        &[Flaw::Zk3023, Flaw::Zk4394, Flaw::Zk4712]
    );
    assert!(ZabVariant::Fixed.flaws().is_empty());
    for variant in ZabVariant::ALL {
        let single = variant.flaws().len() == 1;
        assert_eq!(
            single,
            variant.name().starts_with("zk-"),
            "{}: a teaching variant has one flaw, a release several, fixed none",
            variant.name()
        );
    }
}

#[test]
fn the_first_ack_after_newleader_is_taken_as_its_ack_once_a_quorum_formed() {
    // S0 and S2 are in broadcast; S1 joins late and its first ACK after NEWLEADER is a
    // proposal's (as zk-4685's SyncRequestProcessor may send it): the handler takes it as the
    // NEWLEADER ACK and sends UPTODATE, without flagging it.
    let (model, state) = late_follower_after_newleader(ZabVariant::Fixed);
    let mut state = state;
    state.net.retain(|p| (p.from, p.to) != (1, 2));
    state.net.push(types::Packet {
        from: 1,
        to: 2,
        msg: Msg::Ack {
            zxid: Zxid::new(1, 1),
        },
    });
    let state = deliver(&model, &state, 1, 2);
    assert!(!state.ghost.during_action.unexpected_ack);
    assert_ne!(
        state.server(2).leading().expect("leading").ready & 0b010,
        0,
        "past its handshake"
    );
    assert_eq!(
        state
            .net
            .iter()
            .rfind(|p| (p.from, p.to) == (2, 1))
            .map(|p| p.msg),
        Some(Msg::UpToDate)
    );
}

#[test]
fn a_spurious_timeout_is_a_budgeted_fault_of_a_server_with_a_role() {
    let model = timeouts_model(1);
    let state = ZabState::new(3);
    let mut enabled = Vec::new();
    model.actions(&state, &mut enabled);
    assert!(
        !enabled.contains(&ZabAction::SpuriousTimeout { server: 0 }),
        "LOOKING: no timer runs"
    );
    let state = established(&model, 2, 0b111);
    let state = step(&model, &state, ZabAction::SpuriousTimeout { server: 0 });
    assert_eq!(state.server(0).role, Role::Looking);
    assert_eq!(state.faults.timeouts, 1);
    assert!(
        state
            .server(2)
            .leading()
            .is_some_and(|l| l.learners & 0b001 == 0),
        "the leader's LearnerHandler ended with the connection"
    );
    let mut enabled = Vec::new();
    model.actions(&state, &mut enabled);
    assert!(
        !enabled
            .iter()
            .any(|a| matches!(a, ZabAction::SpuriousTimeout { .. })),
        "the budget is spent"
    );
    assert_eq!(
        model.fault_kind(&ZabAction::SpuriousTimeout { server: 2 }),
        Some("timeouts")
    );
}

#[test]
fn an_ack_on_a_connection_still_in_its_handshake_is_not_counted() {
    // As if S0 had reconnected and not acknowledged NEWLEADER yet: its LearnerHandler takes
    // no proposal ACK, so the leader alone is no quorum.
    let model = model(3, ZabVariant::Fixed);
    let state = established(&model, 2, 0b111);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let mut state = step(&model, &state, ZabAction::LogProposal { server: 2 });
    state.server_mut(2).leading_mut().expect("leading").ready &= !0b001;
    let state = deliver(&model, &state, 2, 0); // PROPOSAL
    let state = deliver(&model, &state, 0, 2); // ACK(1,1), ignored
    assert_eq!(state.server(2).disk.delivered, 0);
    let state = deliver(&model, &state, 2, 1);
    let state = deliver(&model, &state, 1, 2); // S1's ACK counts
    assert_eq!(state.server(2).disk.delivered, 1);
}

/// S2 leads S0 in broadcast with the write (1,1) proposed and written by S2 but not yet
/// acknowledged by S0; S1 joins
/// late and is synced: DIFF (nothing committed yet), PROPOSAL(1,1), NEWLEADER(1), all delivered
/// to S1. S0's ACK then commits (1,1), so COMMIT(1,1) is next for S1, before UPTODATE.
fn late_follower_after_newleader(variant: ZabVariant) -> (ZabModel, ZabState) {
    let model = model(3, variant);
    let state = established(&model, 2, 0b101);
    let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = step(&model, &state, ZabAction::LogProposal { server: 2 });
    let join = ZabAction::Join {
        server: 1,
        leader: 2,
    };
    let state = step(&model, &state, join);
    let state = deliver(&model, &state, 1, 2); // FOLLOWERINFO: LEADERINFO(1) at once
    let state = deliver(&model, &state, 2, 1);
    let state = deliver(&model, &state, 1, 2); // ACKEPOCH: the sync is sent
    let state = deliver(&model, &state, 2, 1); // DIFF
    let state = deliver(&model, &state, 2, 1); // PROPOSAL(1,1)
    assert_eq!(
        state.server(1).following().expect("following").pending,
        log(&[txn(1, 1, 1)]),
        "buffered, not logged"
    );
    assert!(state.server(1).disk.log.is_empty());
    assert_eq!(
        state.head(2, 1).map(|p| &p.msg),
        Some(&Msg::NewLeader { epoch: 1 })
    );
    let state = deliver(&model, &state, 2, 1); // NEWLEADER(1)
    let state = deliver(&model, &state, 2, 0); // PROPOSAL(1,1) to S0
    let state = deliver(&model, &state, 0, 2); // its ACK: (1,1) committed
    assert_eq!(
        state.head(2, 1).map(|p| &p.msg),
        Some(&Msg::Commit {
            zxid: Zxid::new(1, 1)
        })
    );
    (model, state)
}

#[test]
fn a_late_followers_buffered_proposal_waits_for_uptodate_in_the_fixed_protocol() {
    let (model, state) = late_follower_after_newleader(ZabVariant::Fixed);
    assert_eq!(
        state.server(1).disk.log.len(),
        0,
        "NEWLEADER keeps it buffered"
    );
    let state = deliver(&model, &state, 2, 1); // COMMIT(1,1) marks it
    assert!(props::commit_consistent(&state));
    assert_eq!(
        state
            .server(1)
            .following()
            .expect("following")
            .pending_committed,
        1
    );
    let state = deliver(&model, &state, 1, 2); // ACK(1,0): UPTODATE
    let state = deliver(&model, &state, 2, 1);
    let follower = state.server(1);
    assert_eq!(follower.phase, Phase::Broadcast);
    assert_eq!((follower.disk.log.len(), follower.disk.delivered), (1, 1));
    let acks: Vec<&Msg> = state
        .net
        .iter()
        .filter(|p| p.from == 1)
        .map(|p| &p.msg)
        .collect();
    let ack = |counter| Msg::Ack {
        zxid: Zxid::new(1, counter),
    };
    assert_eq!(
        acks,
        [&ack(0), &ack(1)],
        "UPTODATE's ACK, then the proposal's"
    );
    let state = settle(&model, state);
    assert!(props::state_consistent(&state) && props::ack_consistent(&state));
}

#[test]
fn in_zk_4394_newleader_drains_the_buffer_and_the_late_commit_finds_nothing() {
    let (model, state) = late_follower_after_newleader(ZabVariant::Zk4394);
    assert_eq!(
        state.server(1).disk.log,
        log(&[txn(1, 1, 1)]),
        "NEWLEADER logged the buffered proposal"
    );
    assert!(props::commit_consistent(&state));
    let state = deliver(&model, &state, 2, 1); // COMMIT(1,1)
    assert!(!props::commit_consistent(&state));
    assert_eq!(
        state.server(1).role,
        Role::Looking,
        "its QuorumPeer thread died"
    );
}

#[test]
fn in_zk_4685_the_synced_txns_ack_can_overtake_the_newleader_ack() {
    let (state, follower) = synced_but_newleader_pending(ZabVariant::Zk4685);
    let model = model(3, ZabVariant::Zk4685);
    let state = deliver(&model, &state, 2, follower); // NEWLEADER(2): nothing sent yet
    assert!(state.head(follower, 2).is_none());
    // The SyncThread first: ACK(1,2) leads the link and the leader rejects it.
    let synced_first = step(&model, &state, ZabAction::LogSynced { server: follower });
    let synced_first = step(
        &model,
        &synced_first,
        ZabAction::AckNewLeader { server: follower },
    );
    assert_eq!(
        synced_first.head(follower, 2).map(|p| &p.msg),
        Some(&Msg::Ack {
            zxid: Zxid::new(1, 2)
        })
    );
    let rejected = deliver(&model, &synced_first, follower, 2);
    assert!(!props::ack_consistent(&rejected));
    assert_eq!(rejected.server(2).phase, Phase::Synchronization);
    // The QuorumPeer thread first: the NEWLEADER ACK establishes the epoch, the later ACK(1,2)
    // is one of a committed proposal.
    let acked_first = step(&model, &state, ZabAction::AckNewLeader { server: follower });
    let acked_first = step(
        &model,
        &acked_first,
        ZabAction::LogSynced { server: follower },
    );
    let acked_first = settle(&model, acked_first);
    assert!(props::ack_consistent(&acked_first));
    assert_eq!(acked_first.server(2).phase, Phase::Broadcast);
}

#[test]
fn in_zk_3023_the_uptodate_ack_can_precede_applying_the_synced_txns() {
    let (state, follower) = synced_but_newleader_pending(ZabVariant::Zk3023);
    let model = model(3, ZabVariant::Zk3023);
    let state = deliver(&model, &state, 2, follower); // NEWLEADER(2)
    let disk = &state.server(follower).disk;
    assert_eq!(
        (disk.log.len(), disk.delivered),
        (2, 1),
        "logged, not applied"
    );
    let state = deliver(&model, &state, follower, 2); // ACK(2,0): quorum, UPTODATE
    let state = deliver(&model, &state, 2, follower); // UPTODATE: ACK(2,0) sent
    let mut enabled = Vec::new();
    model.actions(&state, &mut enabled);
    assert!(enabled.contains(&ZabAction::ApplyCommitted { server: follower }));
    let lagging = deliver(&model, &state, follower, 2);
    assert!(!props::state_consistent(&lagging));
    let applied = step(
        &model,
        &state,
        ZabAction::ApplyCommitted { server: follower },
    );
    assert_eq!(applied.server(follower).disk.delivered, 2);
    let applied = deliver(&model, &applied, follower, 2);
    assert!(props::state_consistent(&applied));
}

#[test]
fn the_fixed_protocol_applies_the_synced_txns_before_any_ack() {
    let (state, follower) = synced_but_newleader_pending(ZabVariant::Fixed);
    let model = model(3, ZabVariant::Fixed);
    let state = settle(&model, state);
    assert_eq!(state.server(follower).disk.delivered, 2);
    assert_eq!(state.server(follower).phase, Phase::Broadcast);
    assert_eq!(state.ghost.during_action, Default::default());
}

/// 3 servers, 3 writes, two spurious timeouts, the code `variant`.
fn diff_timeouts_model(variant: ZabVariant) -> ZabModel {
    ZabModel::new(ZabConfig {
        variant,
        timeouts: 2,
        crashes: 1,
        ..ZabConfig::new(3, 3)
    })
    .expect("valid")
}

/// S2 leads epoch 1; (1,1) is everywhere; S1 gave up on S2 (a spurious timeout) and (1,2) was
/// committed without it; S1 joined again, reported (1,1) and has just received DIFF +(1,2).
fn diff_received(model: &ZabModel) -> ZabState {
    let state = established(model, 2, 0b111);
    let state = step(model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = settle(model, state);
    let state = step(model, &state, ZabAction::SpuriousTimeout { server: 1 });
    let state = step(model, &state, ZabAction::ClientRequest { leader: 2 });
    let state = settle(model, state);
    assert_eq!(state.ghost.committed(), 0b11, "both writes committed");
    let state = join(model, &state, 1, 2);
    let state = deliver(model, &state, 1, 2); // FOLLOWERINFO
    let state = deliver(model, &state, 2, 1); // LEADERINFO(1)
    let state = deliver(model, &state, 1, 2); // ACKEPOCH, last (1,1)
    let state = deliver(model, &state, 2, 1); // DIFF +(1,2)
    assert_eq!(
        state.head(2, 1).map(|p| &p.msg),
        Some(&Msg::NewLeader { epoch: 1 })
    );
    state
}

/// ZOOKEEPER-2355 (`EphemeralNodeDeletionTest`): a follower whose connection to the leader fails
/// between a DIFF and NEWLEADER. zk-2355 takes the DIFF's zxid (1,2) as processed when the DIFF
/// arrives; going back to LOOKING keeps that claim, the next ACKEPOCH reports it, the leader sends
/// an empty DIFF, and (1,2) never reaches S1: after a third write S1's log skips it
/// (`history_consistency`, `total_order`). The fixed code claims nothing before applying, reports
/// (1,1) again and gets DIFF +(1,2). A crash instead of the timeout forgets the claim in every
/// version: a restart replays the log.
#[test]
fn zk_2355_a_follower_cut_off_after_a_diff_claims_it_and_gets_an_empty_diff() {
    for variant in [ZabVariant::Zk2355, ZabVariant::Fixed] {
        let flawed = variant == ZabVariant::Zk2355;
        let model = diff_timeouts_model(variant);
        let state = diff_received(&model);
        let s1 = state.server(1);
        assert_eq!(
            s1.disk.log,
            log(&[txn(1, 1, 1)]),
            "(1,2) is not applied yet"
        );
        let claimed = if flawed {
            Zxid::new(1, 2)
        } else {
            Zxid::new(1, 1)
        };
        assert_eq!(s1.processed_zxid(), claimed, "{variant:?}");

        let crashed = step(&model, &state, ZabAction::Crash { server: 1 });
        let restarted = step(&model, &crashed, ZabAction::Restart { server: 1 });
        assert_eq!(restarted.server(1).processed_zxid(), Zxid::new(1, 1));

        let state = step(&model, &state, ZabAction::SpuriousTimeout { server: 1 });
        assert_eq!(state.server(1).role, Role::Looking);
        assert_eq!(state.server(1).processed_zxid(), claimed, "kept in memory");
        let state = join(&model, &state, 1, 2);
        let state = deliver(&model, &state, 1, 2); // FOLLOWERINFO
        let state = deliver(&model, &state, 2, 1); // LEADERINFO(1)
        let state = deliver(&model, &state, 1, 2); // ACKEPOCH with the claim
        let sent = state.head(2, 1).map(|p| p.msg);
        let missed = if flawed {
            Log::new()
        } else {
            log(&[txn(1, 2, 2)])
        };
        assert_eq!(
            sent,
            Some(Msg::Sync {
                mode: SyncMode::Diff,
                txns: missed
            }),
            "{variant:?}"
        );
        let state = settle(&model, state);
        assert_eq!(state.server(1).phase, Phase::Broadcast);
        let state = step(&model, &state, ZabAction::ClientRequest { leader: 2 });
        let state = settle(&model, state);
        let s1_log = &state.server(1).disk.log;
        if flawed {
            assert_eq!(*s1_log, log(&[txn(1, 1, 1), txn(1, 3, 3)]), "(1,2) skipped");
            assert!(!props::history_consistency(&state));
            assert!(
                !props::total_order(&state),
                "S1 delivers (1,3) without (1,2)"
            );
        } else {
            assert_eq!(*s1_log, state.server(2).disk.log);
            assert!(props::history_consistency(&state) && props::total_order(&state));
        }
    }
}

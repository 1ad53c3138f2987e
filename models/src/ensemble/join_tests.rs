//! Sessions joined with failover (docs/design/ensemble.md §5.2, §5.5, §7.2): a new leader builds
//! its tracker from its own tree, a leader that no longer leads tracks nothing, and the timing
//! assumptions read the clients' connection state.

use stateright::Model;

use super::failover_tests::{enabled, run_until_told as run_until};
use super::{Ensemble, EnsembleConfig, EnsembleStep, Timing};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, LockState, Msg, Phase, Recipe};
use crate::zab::ZabConfig;
use crate::zookeeper::{Reply, ZkService};

/// `recipe`, 2 clients on S0 and S1, S2 leading epoch 1, one session expiry under `timing`, one
/// partition that never heals and can only cut off the servers in `cut`, epochs up to `epochs`.
fn cut_off(recipe: Recipe, timing: Timing, cut: u8, epochs: u8) -> LockModel<Ensemble> {
    let config = LockConfig {
        session_expiries: 1,
        partitions: 1,
        ..LockConfig::new(recipe, 2)
    };
    LockModel::on_ensemble(config, cut_off_ensemble(timing, cut, epochs)).expect("valid")
}

/// `cut_off`'s ensemble.
fn cut_off_ensemble(timing: Timing, cut: u8, epochs: u8) -> EnsembleConfig {
    let zab = ZabConfig {
        partitions: 1,
        permanent_partitions: true,
        partition_sides: Some([cut, 0b111 & !cut]),
        epochs,
        ..ZabConfig::new(3, 0)
    };
    EnsembleConfig {
        timing,
        ..EnsembleConfig::new(zab, EnsembleConfig::followers_in_turn(3))
    }
}

fn expire(client: u8) -> LockAction {
    LockAction::ExpireSession {
        client: ActorId::Client(client),
    }
}

/// C0 acquires alone, with no fault, no expiry and no release.
fn c0_holds(model: &LockModel<Ensemble>) -> LockState<Ensemble> {
    let alone = |action: &LockAction| match action {
        LockAction::Ensemble(step) => step.fault_kind().is_none(),
        LockAction::StartAcquire { client } => *client == ActorId::Client(0),
        LockAction::Release { .. } | LockAction::ExpireSession { .. } => false,
        LockAction::Pause { .. } => false,
        _ => true,
    };
    let start = model.init_states().swap_remove(0);
    let holds = |s: &LockState<Ensemble>| s.clients[0].phase == Phase::InCs;
    run_until(model, start, alone, holds, &mut Vec::new())
}

fn ensemble_step(
    model: &LockModel<Ensemble>,
    state: &LockState<Ensemble>,
    step: EnsembleStep,
) -> LockState<Ensemble> {
    let action = LockAction::Ensemble(step);
    assert!(enabled(model, state).contains(&action), "{step} enabled");
    model.next_state(state, action).expect("a step")
}

/// Goal: scenario 2's mechanism and what each timing assumption makes of it. The holder C0's
/// server S0 is cut off in a minority: the leader S2 no longer hears C0, so under
/// `expiry_needs_silence` it may expire C0 at once, before S0 has even timed out; under
/// `disconnect_before_expiry` it may not until C0 has read `Disconnected`, which S0 queues when
/// it times out. Reading it, a Curator holder stops acting as the holder (`Suspended`, its node
/// kept); a standard holder ignores it and still holds. Method: C0
/// acquires, the partition, S0's timeout and C0's read, with the expiry's enabledness checked at
/// each point, for both recipes and both assumptions.
#[test]
fn a_holder_cut_off_in_a_minority_expires_only_as_its_timing_assumption_allows() {
    let [silence, disconnect] = Timing::each_alone();
    for recipe in [Recipe::Curator, Recipe::Standard] {
        for timing in [silence, disconnect] {
            let model = cut_off(recipe, timing, 0b001, 2);
            let holding = c0_holds(&model);
            assert!(
                !enabled(&model, &holding).contains(&expire(0)),
                "S2 hears C0 through S0"
            );
            let cut = ensemble_step(&model, &holding, EnsembleStep::Partition { side: 0b110 });
            let may_expire = |s: &LockState<Ensemble>| enabled(&model, s).contains(&expire(0));
            assert_eq!(may_expire(&cut), timing == silence, "{timing:?}");
            let timed_out = ensemble_step(&model, &cut, EnsembleStep::Timeout { server: 0 });
            assert_eq!(
                timed_out.links[0].from_server.as_slice(),
                [Reply::Disconnected]
            );
            assert_eq!(may_expire(&timed_out), timing == silence, "{timing:?}");
            let read = LockAction::Deliver {
                from: ActorId::Replica(0),
                to: ActorId::Client(0),
                msg: Msg::Reply(Reply::Disconnected),
            };
            let suspended = model.next_state(&timed_out, read).expect("a step");
            assert!(may_expire(&suspended), "{recipe:?} {timing:?}");
            let left = match recipe {
                Recipe::Curator => Phase::Suspended,
                _ => Phase::InCs,
            };
            assert_eq!(suspended.clients[0].phase, left, "{recipe:?}");
        }
    }
}

/// Curator, 2 clients on S0 and S1, S2 leading epoch 1; S0 may crash once, and the leader may
/// expire one session at any time (no timing assumption).
fn curator_s0_crashes() -> LockModel<Ensemble> {
    let zab = ZabConfig {
        crashes: 1,
        epochs: 1,
        ..ZabConfig::new(3, 0)
    };
    let ensemble = EnsembleConfig {
        crashable: 0b001,
        ..EnsembleConfig::new(zab, EnsembleConfig::followers_in_turn(3))
    };
    let config = LockConfig {
        crashes: 1,
        session_expiries: 1,
        ..LockConfig::new(Recipe::Curator, 2)
    };
    LockModel::on_ensemble(config, ensemble).expect("valid")
}

/// C0 reads the head of its channel, which must be `reply`.
fn read(
    model: &LockModel<Ensemble>,
    state: &LockState<Ensemble>,
    reply: Reply,
) -> LockState<Ensemble> {
    assert_eq!(state.links[0].from_server.first(), Some(&reply));
    let action = LockAction::Deliver {
        from: state.zk.server_of(0),
        to: ActorId::Client(0),
        msg: Msg::Reply(reply),
    };
    assert!(enabled(model, state).contains(&action), "{action} enabled");
    model.next_state(state, action).expect("a step")
}

/// C0 holds, S0 crashes, and C0 reads `Disconnected`: Curator's SUSPENDED.
fn c0_suspended(model: &LockModel<Ensemble>) -> LockState<Ensemble> {
    let holding = c0_holds(model);
    let crashed = ensemble_step(model, &holding, EnsembleStep::Crash { server: 0 });
    let suspended = read(model, &crashed, Reply::Disconnected);
    assert_eq!(suspended.clients[0].phase, Phase::Suspended);
    assert!(!suspended.clients[0].phase.holds_lock());
    assert_eq!(suspended.zk.agreed_tree().children().len(), 1, "node kept");
    suspended
}

/// The servers run, without faults or clients, until S1 has applied all that C0 has seen; then
/// C0 reconnects to S1.
fn c0_reconnects_to_s1(
    model: &LockModel<Ensemble>,
    state: LockState<Ensemble>,
) -> LockState<Ensemble> {
    let servers = |action: &LockAction| {
        matches!(action, LockAction::Ensemble(step)
            if step.fault_kind().is_none() && !matches!(step, EnsembleStep::Reconnect { .. }))
    };
    let to_s1 = EnsembleStep::Reconnect {
        client: 0,
        server: 1,
    };
    let may_reconnect =
        |s: &LockState<Ensemble>| enabled(model, s).contains(&LockAction::Ensemble(to_s1));
    let caught_up = run_until(model, state, servers, may_reconnect, &mut Vec::new());
    ensemble_step(model, &caught_up, to_s1)
}

/// Goal: a suspended Curator holder whose session lived reads `Reconnected` from the server it
/// reconnects to, verifies its node there with a listing and holds again, with the same node.
/// Method: C0 holds on S0, S0 crashes, C0 reads `Disconnected`, reconnects to S1 and reads on.
#[test]
fn a_suspended_curator_holder_verifies_its_node_and_holds_again() {
    let model = curator_s0_crashes();
    let suspended = c0_suspended(&model);
    let node = suspended.clients[0].seq;
    let back = c0_reconnects_to_s1(&model, suspended);
    let verifying = read(&model, &back, Reply::Reconnected);
    assert_eq!(verifying.clients[0].phase, Phase::WaitChildren);
    let served = model
        .next_state(
            &verifying,
            LockAction::Deliver {
                from: ActorId::Client(0),
                to: ActorId::Replica(1),
                msg: Msg::Request(verifying.links[0].to_server[0]),
            },
        )
        .expect("S1 serves the listing");
    let listing = served.links[0].from_server[0];
    assert!(
        matches!(listing, Reply::Children { own, .. } if own == node),
        "{listing}"
    );
    let again = read(&model, &served, listing);
    assert_eq!(again.clients[0].phase, Phase::InCs);
    assert_eq!(again.clients[0].seq, node);
}

/// Goal: a suspended Curator holder whose session the leader expired meanwhile learns it on
/// reconnecting (LOST): it reads `SessionExpired`, never `Reconnected`, and gives the lock up.
/// Method: as above, with S2 expiring C0 before C0 reconnects to S1.
#[test]
fn a_suspended_curator_holder_whose_session_expired_does_not_hold_again() {
    let model = curator_s0_crashes();
    let suspended = c0_suspended(&model);
    assert!(enabled(&model, &suspended).contains(&expire(0)));
    let expiring = model
        .next_state(&suspended, expire(0))
        .expect("S2 expires C0");
    let back = c0_reconnects_to_s1(&model, expiring);
    assert_eq!(
        back.links[0].from_server.as_slice(),
        [Reply::SessionExpired]
    );
    let lost = read(&model, &back, Reply::SessionExpired);
    assert_eq!(lost.clients[0].phase, Phase::Abandoned);
    assert_eq!(lost.clients[0].seq, None);
}

/// Goal: a new leader builds its tracker from its own tree, with every open session re-armed
/// and no closing mark of the old leader's, and the old leader, cut off in a minority, keeps its
/// own tracker only while it still leads; the expiry is the newer leader's. Method: S2 is cut
/// off alone; it prepares C1's closeSession (it cannot commit it); S0 and S1 time out, elect S1,
/// which synchronises S0; then S2 times out.
#[test]
fn a_new_leader_re_arms_every_session_of_its_tree_and_an_old_one_tracks_nothing() {
    let model = cut_off(Recipe::Standard, Timing::default(), 0b100, 2);
    let start = model.init_states().swap_remove(0);
    let cut = ensemble_step(&model, &start, EnsembleStep::Partition { side: 0b100 });
    assert_eq!(cut.zk.expiring_server(), ActorId::Replica(2));
    let expiring = model.next_state(&cut, expire(1)).expect("S2 still leads");
    assert!(expiring.zk.trackers[2].is_closing(1));
    let not_s2 = |action: &LockAction| match action {
        LockAction::Ensemble(step) => {
            step.fault_kind().is_none()
                && !matches!(step, EnsembleStep::Timeout { server: 2 })
                && !matches!(step, EnsembleStep::Reconnect { .. })
        }
        _ => false,
    };
    let mut told = Vec::new();
    let s1_leads = |s: &LockState<Ensemble>| s.zk.leads(1);
    let elected = run_until(&model, expiring, not_s2, s1_leads, &mut told);
    let established = told.last().expect("steps were taken");
    assert!(
        established.ends_with("; S1 (leader of epoch 2) re-arms C0's and C1's sessions"),
        "{established}"
    );
    let new = elected.zk.trackers[1];
    assert!(new.is_tracked(0) && new.is_tracked(1) && !new.is_closing(1));
    assert!(elected.zk.leads(2), "S2 has not timed out yet");
    assert!(elected.zk.trackers[2].is_closing(1), "S2's own tracker");
    assert_eq!(
        elected.zk.expiring_server(),
        ActorId::Replica(1),
        "the newer"
    );
    let stepped_down = ensemble_step(&model, &elected, EnsembleStep::Timeout { server: 2 });
    assert_eq!(stepped_down.zk.trackers[2], Default::default());
    assert!(
        elected.zk.agreed_tree().is_live(1),
        "S2's closeSession was never committed"
    );
}

/// Goal: under `disconnect_before_expiry` a new leader expires no session while an old leader,
/// cut off in a minority, still serves (it answers reads and revalidates sessions until it times
/// out, which happens long before a session re-armed by the new leader can expire); without
/// the assumption it may. Method: C0 holds; S2, the leader, is cut off alone; S0 and S1 time
/// out, elect S1 and C0 reads `Disconnected`; the expiry of C0 is checked before and after S2
/// times out, under each assumption.
#[test]
fn a_new_leader_expires_nobody_while_an_old_leader_still_serves() {
    let [silence, disconnect] = Timing::each_alone();
    for timing in [silence, disconnect] {
        let model = cut_off(Recipe::Curator, timing, 0b100, 2);
        let holding = c0_holds(&model);
        let cut = ensemble_step(&model, &holding, EnsembleStep::Partition { side: 0b100 });
        let majority_only = |action: &LockAction| match action {
            LockAction::Ensemble(step) => {
                step.fault_kind().is_none()
                    && !matches!(step, EnsembleStep::Timeout { server: 2 })
                    && !matches!(step, EnsembleStep::Reconnect { .. })
            }
            _ => false,
        };
        let s1_leads = |s: &LockState<Ensemble>| s.zk.leads(1);
        let elected = run_until(&model, cut, majority_only, s1_leads, &mut Vec::new());
        let suspended = read(&model, &elected, Reply::Disconnected);
        assert!(
            suspended.zk.serves(2) && suspended.zk.leads(2),
            "S2 still leads"
        );
        let may_expire = |s: &LockState<Ensemble>| enabled(&model, s).contains(&expire(0));
        assert_eq!(may_expire(&suspended), timing == silence, "{timing:?}");
        let stepped_down = ensemble_step(&model, &suspended, EnsembleStep::Timeout { server: 2 });
        assert!(may_expire(&stepped_down), "{timing:?}");
    }
}

/// Goal: the `epochs` bound stops an ensemble exactly when no leader leads and one more epoch
/// would enable a step: not while an old leader cut off in a minority still leads (its timeout is
/// still to come), not while an election within the bound is possible, and once the bound's
/// last epoch has failed too. Method: S2 cut off for good with `epochs` 1 (no second leader) and
/// 2 (one), the answer read as S0, S1 and then S2 time out; then, with `epochs = 2` and two
/// crashes, S2 crashes, S1 is elected in epoch 2 and crashes, and S0 and the restarted S2 look
/// for a leader the bound forbids.
#[test]
fn the_epochs_bound_stops_an_ensemble_only_when_no_leader_can_come() {
    let bound = |value| {
        Some(crate::Bound {
            key: "epochs",
            value,
        })
    };
    for epochs in [1, 2] {
        let ensemble = cut_off_ensemble(Timing::default(), 0b100, epochs);
        let model = cut_off(Recipe::Standard, Timing::default(), 0b100, epochs);
        let start = model.init_states().swap_remove(0);
        let cut = ensemble_step(&model, &start, EnsembleStep::Partition { side: 0b100 });
        let s0 = ensemble_step(&model, &cut, EnsembleStep::Timeout { server: 0 });
        let looking = ensemble_step(&model, &s0, EnsembleStep::Timeout { server: 1 });
        assert_eq!(
            looking.zk.stopped_by_bound(&ensemble),
            None,
            "S2 still leads"
        );
        let alone = ensemble_step(&model, &looking, EnsembleStep::Timeout { server: 2 });
        let expected = if epochs == 1 { bound(1) } else { None };
        assert_eq!(
            alone.zk.stopped_by_bound(&ensemble),
            expected,
            "epochs = {epochs}"
        );
    }
    let zab = ZabConfig {
        crashes: 2,
        epochs: 2,
        ..ZabConfig::new(3, 0)
    };
    let ensemble = EnsembleConfig {
        crashable: 0b110,
        ..EnsembleConfig::new(zab, EnsembleConfig::followers_in_turn(3))
    };
    let config = LockConfig {
        crashes: 2,
        ..LockConfig::new(Recipe::Standard, 2)
    };
    let model = LockModel::on_ensemble(config, ensemble).expect("valid");
    let mut state = model.init_states().swap_remove(0);
    for step in [
        EnsembleStep::Crash { server: 2 },
        EnsembleStep::Timeout { server: 0 },
        EnsembleStep::Timeout { server: 1 },
        EnsembleStep::Elect {
            leader: 1,
            quorum: 0b011,
        },
    ] {
        state = ensemble_step(&model, &state, step);
    }
    let servers = |action: &LockAction| {
        matches!(action, LockAction::Ensemble(step) if step.fault_kind().is_none()
            && !matches!(step, EnsembleStep::Reconnect { .. } | EnsembleStep::Restart { .. }))
    };
    let s1_leads = |s: &LockState<Ensemble>| s.zk.leads(1);
    state = run_until(&model, state, servers, s1_leads, &mut Vec::new());
    assert_eq!(
        state.zk.stopped_by_bound(&ensemble),
        None,
        "S1 leads epoch 2"
    );
    for step in [
        EnsembleStep::Crash { server: 1 },
        EnsembleStep::Timeout { server: 0 },
        EnsembleStep::Restart { server: 2 },
    ] {
        state = ensemble_step(&model, &state, step);
    }
    assert_eq!(state.zk.stopped_by_bound(&ensemble), bound(2));
}

/// Goal: a waiter that the `epochs` bound left without a leader for good is stuck by the bound,
/// not by the protocol, so its lasso is reported `unknown (bounded: epochs = 1 exhausted)`; a
/// state the bound stopped with nobody waiting, or one where a leader may still come, is no
/// such case. Method: the minority-leader world (S2 cut off for good, `epochs = 1`), breadth
/// first, each state's answer compared with whether the bound stopped the ensemble and whether
/// a client waits; each of the three cases must be met.
#[test]
fn a_waiter_left_without_a_leader_by_the_epochs_bound_is_blocked_by_the_bound() {
    use crate::{prop, Bound, Liveness};
    let model = cut_off(Recipe::Standard, Timing::default(), 0b100, 1);
    let ensemble = cut_off_ensemble(Timing::default(), 0b100, 1);
    let property = prop::EVERY_WAITER_ACQUIRES;
    let epochs = Bound {
        key: "epochs",
        value: 1,
    };
    let (mut blocked, mut idle, mut free) = (0, 0, 0);
    super::tests::each_reachable(&model, 60_000, |state| {
        let waiting = model.pending(property, state) != 0;
        let stopped = state.zk.stopped_by_bound(&ensemble).is_some();
        let answer = model.blocked_by_bound(property, state);
        match (waiting, stopped) {
            (true, true) => {
                assert_eq!(answer, Some(epochs));
                blocked += 1;
            }
            (false, true) => {
                assert_eq!(answer, None, "nobody waits");
                idle += 1;
            }
            (true, false) => {
                assert_eq!(answer, None, "a leader may still come");
                free += 1;
            }
            (false, false) => assert_eq!(answer, None),
        }
    });
    assert!(
        blocked > 0 && idle > 0 && free > 0,
        "{blocked} blocked, {idle} idle, {free} free"
    );
}

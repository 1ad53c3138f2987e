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
    let zab = ZabConfig {
        partitions: 1,
        permanent_partitions: true,
        partition_sides: Some([cut, 0b111 & !cut]),
        epochs,
        ..ZabConfig::new(3, 0)
    };
    let config = LockConfig {
        session_expiries: 1,
        partitions: 1,
        ..LockConfig::new(recipe, 2)
    };
    let ensemble = EnsembleConfig {
        timing,
        ..EnsembleConfig::new(zab, EnsembleConfig::followers_in_turn(3))
    };
    LockModel::on_ensemble(config, ensemble).expect("valid")
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
/// it times out. Reading it, a Curator holder leaves its critical section and releases (the
/// delete waits for a reconnection); a standard holder ignores it and still holds. Method: C0
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
                Recipe::Curator => Phase::WaitDeleted,
                _ => Phase::InCs,
            };
            assert_eq!(suspended.clients[0].phase, left, "{recipe:?}");
        }
    }
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

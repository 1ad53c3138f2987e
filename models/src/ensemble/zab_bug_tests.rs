//! A ZAB durability bug seen as a lock bug (issue 19's scenario 6,
//! `scenarios/ensemble/zk-2845.toml`): with ZOOKEEPER-2845 a follower whose leader is cut off
//! keeps its data tree, votes with a zxid below a create it acknowledged, and a leader without
//! that create is elected, so a second client finds itself lowest while the first still holds.

use stateright::Model;

use super::failover_tests::{enabled, run_until_told as run_until};
use super::{Ensemble, EnsembleConfig, EnsembleStep};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, LockState, Phase, Recipe};
use crate::zab::types::Zxid;
use crate::zab::{ZabConfig, ZabVariant};

/// The world of `zk-2845.toml` with the servers' code `variant`: the standard recipe, C0 on the
/// leader S2 and C1 on S1, one partition that never heals and can only cut S2 off, epochs up to 2.
fn cut_leader(variant: ZabVariant) -> LockModel<Ensemble> {
    let zab = ZabConfig {
        partitions: 1,
        permanent_partitions: true,
        partition_sides: Some([0b100, 0b011]),
        epochs: 2,
        variant,
        ..ZabConfig::new(3, 0)
    };
    let mut connections = EnsembleConfig::followers_in_turn(3);
    connections[..2].copy_from_slice(&[2, 1]);
    let config = LockConfig {
        partitions: 1,
        ..LockConfig::new(Recipe::Standard, 2)
    };
    LockModel::on_ensemble(config, EnsembleConfig::new(zab, connections)).expect("valid")
}

fn ensemble(step: EnsembleStep) -> LockAction {
    LockAction::Ensemble(step)
}

fn take(
    model: &LockModel<Ensemble>,
    state: &LockState<Ensemble>,
    step: EnsembleStep,
) -> LockState<Ensemble> {
    assert!(
        enabled(model, state).contains(&ensemble(step)),
        "{step} enabled"
    );
    model.next_state(state, ensemble(step)).expect("a step")
}

/// C0 acquires alone, no fault, no release; S1 never receives anything from S2 and, once S0
/// has logged C0's create, S0 neither: the create is committed by S2 and S0's ACK, and only S2
/// has applied it. Returns the state and the steps' narratives.
fn c0_holds_on_the_leader_alone(model: &LockModel<Ensemble>) -> (LockState<Ensemble>, Vec<String>) {
    let mut told = Vec::new();
    let start = model.init_states().swap_remove(0);
    let c0_only = |action: &LockAction| match action {
        LockAction::Ensemble(step) => {
            step.fault_kind().is_none() && *step != EnsembleStep::Deliver { from: 2, to: 1 }
        }
        LockAction::StartAcquire { client } => *client == ActorId::Client(0),
        LockAction::Release { .. } => false,
        _ => true,
    };
    let s0_logged = |s: &LockState<Ensemble>| s.zk.zab.server(0).disk.log.len() == 1;
    let logged = run_until(model, start, c0_only, s0_logged, &mut told);
    let no_commit_to_s0 = |action: &LockAction| {
        c0_only(action) && *action != ensemble(EnsembleStep::Deliver { from: 2, to: 0 })
    };
    let holds = |s: &LockState<Ensemble>| s.clients[0].phase == Phase::InCs;
    let holding = run_until(model, logged, no_commit_to_s0, holds, &mut told);
    (holding, told)
}

/// Goal: scenario 6's mechanism, step by step, and the fix that removes it. C0's create is
/// committed (S2's own write and S0's ACK) and answered, and C0 holds; S2 is cut off before S0
/// applies the create; S0 times out. zk-2845 keeps S0's tree, so S0 reports (0,0), and of
/// {S0, S1} only S1 (the higher id at equal zxids) can be elected: it leads without C0's node,
/// and C1's create gets the same name, lock-0000000000, and C1 holds while C0 still does. The
/// fixed code reloads S0's tree from its log: S0 reports (1,1), only S0 can be elected, and C1's
/// node comes after C0's. Method: walk both worlds with the same steps up to the election, then
/// run C1, reconnected to S1, to its verdict.
#[test]
fn a_follower_that_keeps_its_tree_elects_a_leader_without_c0s_acknowledged_create() {
    for variant in [ZabVariant::Zk2845, ZabVariant::Fixed] {
        let model = cut_leader(variant);
        let (holding, told) = c0_holds_on_the_leader_alone(&model);
        assert!(
            told.iter()
                .any(|t| t.ends_with("notifies C0: Created(/lock/lock-0000000000)")),
            "{told:?}"
        );
        let s0 = holding.zk.zab.server(0);
        assert_eq!(s0.disk.log.len(), 1, "S0 logged C0's create");
        assert_eq!(s0.processed_zxid(), Zxid::ZERO, "and has not applied it");
        let cut = take(&model, &holding, EnsembleStep::Partition { side: 0b100 });
        let s0_out = take(&model, &cut, EnsembleStep::Timeout { server: 0 });
        let both_out = take(&model, &s0_out, EnsembleStep::Timeout { server: 1 });
        let reported = both_out.zk.zab.server(0).processed_zxid();
        let electable: Vec<LockAction> = enabled(&model, &both_out)
            .into_iter()
            .filter(|a| matches!(a, LockAction::Ensemble(EnsembleStep::Elect { .. })))
            .collect();
        let elect = |leader| {
            ensemble(EnsembleStep::Elect {
                leader,
                quorum: 0b011,
            })
        };
        let fixed = variant == ZabVariant::Fixed;
        if fixed {
            assert_eq!(
                reported,
                Zxid {
                    epoch: 1,
                    counter: 1
                },
                "S0 reloaded its log"
            );
            assert_eq!(electable, [elect(0)], "S0 has C0's create");
        } else {
            assert_eq!(reported, Zxid::ZERO, "S0 kept its tree");
            assert_eq!(electable, [elect(1)], "S1 wins the tie on its id");
        }
        let elected = model.next_state(&both_out, electable[0]).expect("a step");
        let c1_acts = |action: &LockAction| match action {
            LockAction::Ensemble(EnsembleStep::Reconnect { server, .. }) => *server == 1,
            LockAction::Ensemble(step) => step.fault_kind().is_none(),
            LockAction::Release { .. } => false,
            _ => true,
        };
        let mut after = Vec::new();
        let c1_decided =
            |s: &LockState<Ensemble>| matches!(s.clients[1].phase, Phase::InCs | Phase::WaitWatch);
        let end = run_until(&model, elected, c1_acts, c1_decided, &mut after);
        assert_eq!(end.clients[0].phase, Phase::InCs, "C0 still holds");
        if fixed {
            assert_eq!(end.clients[1].phase, Phase::WaitWatch, "C1 waits behind C0");
            assert_eq!(end.holders(), 1);
        } else {
            assert!(
                after
                    .iter()
                    .any(|t| t.ends_with("notifies C1: Created(/lock/lock-0000000000)")),
                "C1's node has the name C0's had: {after:?}"
            );
            assert_eq!(end.holders(), 2, "mutual exclusion is violated");
        }
    }
}

//! ZAB's delivery properties fail end to end on a lost commit. The bundled zk-4643 trace ends
//! where a leader established without the committed write #2; with a third write allowed, a
//! complete breadth-first search of everything that can follow that state finds the
//! properties the lost commit breaks, each at its shortest distance. They read the servers'
//! delivery histories (the ghost), so a follower that applied #2 and had it cut by TRUNC still
//! counts as having delivered it: without that history agreement, total order and primary
//! integrity could not see the loss.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;

use lockscope::trace::Trace;
use lockscope_models::prop;
use lockscope_models::zab::{Election, LeaderWrite, ZabConfig};
use lockscope_models::zab::{ZabAction, ZabModel, ZabState, ZabVariant};
use stateright::Model;

/// zk-4643 at its bundled bounds, but `transactions` writes.
fn zk_4643(transactions: u8) -> ZabModel {
    ZabModel::new(ZabConfig {
        variant: ZabVariant::Zk4643,
        election: Election::Oracle,
        leader_write: LeaderWrite::Atomic,
        epochs: 3,
        crashes: 2,
        ..ZabConfig::new(3, transactions)
    })
    .expect("valid")
}

/// The state the bundled zk-4643 counterexample ends in, reached by `model`'s own steps.
fn end_of_bundled_trace(model: &ZabModel) -> ZabState {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/traces/zk-4643.committed_log_durability.trace.json");
    let trace = Trace::load(&file).unwrap_or_else(|err| panic!("{err}"));
    let mut state = model.init_states().remove(0);
    for (i, step) in trace.steps.iter().enumerate() {
        let action: ZabAction = serde_json::from_value(step.action.clone()).expect("a ZAB action");
        let mut enabled = Vec::new();
        model.actions(&state, &mut enabled);
        assert!(
            enabled.contains(&action),
            "step {} ({action}) is enabled",
            i + 1
        );
        state = model.next_state(&state, action).expect("a step");
    }
    state
}

/// Breadth-first over every state reachable from `start`: for each safety property violated
/// somewhere, the fewest steps to a state violating it; and how many states there are.
fn first_violations(model: &ZabModel, start: ZabState) -> (BTreeMap<&'static str, usize>, usize) {
    let properties = model.properties();
    let mut first = BTreeMap::new();
    let mut seen = HashSet::from([start.clone()]);
    let mut queue = VecDeque::from([(start, 0)]);
    while let Some((state, depth)) = queue.pop_front() {
        for property in &properties {
            let always = property.expectation == stateright::Expectation::Always;
            if always && !first.contains_key(property.name) && !(property.condition)(model, &state)
            {
                first.insert(property.name, depth);
            }
        }
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        for action in actions {
            let next = model.next_state(&state, action).expect("a step");
            if seen.insert(next.clone()) {
                queue.push_back((next, depth + 1));
            }
        }
    }
    (first, seen.len())
}

#[test]
fn a_lost_commit_breaks_agreement_total_order_and_primary_integrity() {
    let model = zk_4643(3);
    let start = end_of_bundled_trace(&model);
    let (first, states) = first_violations(&model, start);
    // Already at the start: the leader lacks the committed #2.
    assert_eq!(first.get(prop::COMMITTED_LOG_DURABILITY), Some(&0));
    // TRUNC takes #2 back from the follower that applied it.
    // The new leader syncs the follower (TRUNC, NEWLEADER, its ACK) and takes write #3: four
    // steps, and it broadcasts #3 without ever having delivered #2, which another server did.
    assert_eq!(first.get(prop::PRIMARY_INTEGRITY), Some(&4), "{first:?}");
    let broken: Vec<&str> = first.keys().copied().collect();
    assert_eq!(
        broken,
        [
            prop::AGREEMENT,
            prop::COMMITTED_LOG_DURABILITY,
            prop::COMMITTED_LOG_MONOTONICITY,
            prop::PRIMARY_INTEGRITY,
            prop::TOTAL_ORDER,
        ],
        "first violations: {first:?} in {states} states"
    );
}

#[test]
fn without_a_third_write_the_loss_breaks_only_durability_and_monotonicity() {
    // The control: the same search with the two writes of the bundled scenario. Nothing new is
    // delivered after the loss, so the delivery histories cannot disagree.
    let model = zk_4643(2);
    let start = end_of_bundled_trace(&model);
    let (first, states) = first_violations(&model, start);
    let broken: Vec<&str> = first.keys().copied().collect();
    assert_eq!(
        broken,
        [
            prop::COMMITTED_LOG_DURABILITY,
            prop::COMMITTED_LOG_MONOTONICITY,
        ],
        "first violations: {first:?} in {states} states"
    );
}

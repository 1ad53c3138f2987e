//! Symmetry reduction for lock worlds: clients are interchangeable.
//!
//! Every client runs the same recipe from the same initial state, the server treats sessions
//! alike, and no property names a client, so renaming clients maps behaviours to behaviours and
//! keeps every verdict. The representative of a state orders the clients by everything that
//! belongs to one client: its variables, its channels, its session, the lock nodes it owns, its
//! watches and its side of a partition. Everything else in the state (sequence numbers, zxids,
//! the resource, fault counts) is shared and not renamed, so two clients with equal signatures are
//! indistinguishable and the sorted order is canonical: two states get the same representative
//! exactly when one is a renaming of the other.
//!
//! Liveness is not checked under this reduction: fairness is per client, and a cycle in the
//! reduced graph may rename clients as it goes round.

use arrayvec::ArrayVec;

use super::client::Client;
use super::model::LockModel;
use super::state::{Links, LockState};
use crate::actor::{ActorId, Group};
use crate::zookeeper::{ClientId, Path, SeqSet, SessionState, Watch, MAX_CLIENTS};
use crate::Symmetry;

/// Everything in a state that belongs to one client, in a fixed order of comparison.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Signature<'a> {
    client: &'a Client,
    links: &'a Links,
    session: SessionState,
    owns_lock_node: bool,
    owned_children: SeqSet,
    watches: ArrayVec<(Path, crate::zookeeper::WatchKind), 8>,
    cut_off: bool,
}

fn signature(state: &LockState, c: usize) -> Signature<'_> {
    let id = c as ClientId;
    let mut owned_children = SeqSet::default();
    for seq in state.zk.children_owned_by(id) {
        owned_children.insert(seq);
    }
    Signature {
        client: &state.clients[c],
        links: &state.links[c],
        session: state.zk.session(id),
        owns_lock_node: state
            .zk
            .node(Path::Lock)
            .is_some_and(|node| node.owner == Some(id)),
        owned_children,
        watches: state
            .zk
            .watches_of(id)
            .map(|w: &Watch| (w.path, w.kind))
            .collect(),
        cut_off: state.cut.contains(ActorId::Client(id)),
    }
}

impl Symmetry for LockModel {
    fn symmetry(&self) -> Option<&'static str> {
        Some("clients")
    }

    fn representative(&self, state: &LockState) -> LockState {
        let mut order: ArrayVec<usize, MAX_CLIENTS> = (0..state.clients.len()).collect();
        order.sort_by(|&a, &b| signature(state, a).cmp(&signature(state, b)));
        if order.iter().enumerate().all(|(new, &old)| new == old) {
            return *state;
        }
        rename(state, &order)
    }
}

/// `state` with client `order[new]` renamed `new`.
fn rename(state: &LockState, order: &[usize]) -> LockState {
    let mut new_of = [0 as ClientId; MAX_CLIENTS];
    for (new, &old) in order.iter().enumerate() {
        new_of[old] = new as ClientId;
    }
    let mut renamed = *state;
    let mut cut = Group::default();
    for (new, &old) in order.iter().enumerate() {
        renamed.clients[new] = state.clients[old];
        renamed.links[new] = state.links[old];
        if state.cut.contains(ActorId::Client(old as ClientId)) {
            cut = cut.with(ActorId::Client(new as ClientId));
        }
    }
    if state.cut.contains(ActorId::Resource) {
        cut = cut.with(ActorId::Resource);
    }
    renamed.cut = cut;
    renamed.zk.rename_clients(&new_of[..order.len()]);
    renamed
}

#[cfg(test)]
mod tests {
    use stateright::Model;

    use super::*;
    use crate::lock::{LockConfig, Recipe};

    const PERMUTATIONS: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];

    /// States along a few deterministic walks that use every fault kind.
    fn reachable_states(model: &LockModel) -> Vec<LockState> {
        let mut states = Vec::new();
        for walk in 0..12usize {
            let mut state = model.init_states().swap_remove(0);
            for step in 0..40usize {
                let mut actions = Vec::new();
                model.actions(&state, &mut actions);
                if actions.is_empty() {
                    break;
                }
                let pick = (walk * 7 + step * (walk + 3)) % actions.len();
                state = model.next_state(&state, actions.swap_remove(pick)).unwrap();
                states.push(state);
            }
        }
        states
    }

    #[test]
    fn every_renaming_of_a_state_has_the_same_representative() {
        for recipe in [Recipe::Naive, Recipe::Standard, Recipe::Fenced] {
            let model = LockModel::new(LockConfig {
                session_expiries: 1,
                client_pauses: 1,
                message_loss: 1,
                partitions: 1,
                crashes: 1,
                acquisitions: 2,
                ..LockConfig::new(recipe, 3)
            })
            .expect("valid");
            for state in reachable_states(&model) {
                let representative = model.representative(&state);
                assert_eq!(model.representative(&representative), representative);
                for order in PERMUTATIONS {
                    let renamed = rename(&state, &order);
                    assert_eq!(renamed.holders(), state.holders());
                    assert_eq!(renamed.orphan_nodes(false), state.orphan_nodes(false));
                    assert_eq!(model.representative(&renamed), representative);
                }
            }
        }
    }

    #[test]
    fn states_that_differ_by_more_than_a_renaming_stay_apart() {
        let model = LockModel::new(LockConfig::new(Recipe::Standard, 3)).expect("valid");
        let states = reachable_states(&model);
        for a in &states {
            for b in &states {
                let renaming = PERMUTATIONS.iter().any(|order| rename(a, order) == *b);
                assert_eq!(
                    model.representative(a) == model.representative(b),
                    renaming,
                    "{a:?} / {b:?}"
                );
            }
        }
    }
}

//! Lock worlds and their reachable states, for tests that check a property of every state a
//! search can meet.

use std::collections::{HashSet, VecDeque};

use stateright::Model;

use super::{LockConfig, LockModel, LockState, Recipe};

/// Every recipe twice: once with expiry, pause and connection loss (retrying after expiry), once
/// with a partition and a server crash. Together they use every fault and the fields only some
/// recipes touch (tokens, the resource and its ghost, a partition past the read timeout, a
/// crashed server).
pub(crate) fn varied_worlds() -> Vec<LockConfig> {
    let mut worlds = Vec::new();
    for recipe in Recipe::ALL {
        worlds.push(LockConfig {
            session_expiries: 1,
            client_pauses: 1,
            message_loss: 1,
            retry_after_expiry: true,
            ..LockConfig::new(recipe, 2)
        });
        worlds.push(LockConfig {
            partitions: 1,
            crashes: 1,
            ..LockConfig::new(recipe, 2)
        });
    }
    worlds
}

/// Every state the model reaches (up to `limit`), breadth-first.
pub(crate) fn reachable(model: &LockModel, limit: usize) -> Vec<LockState> {
    let mut seen: HashSet<LockState> = model.init_states().into_iter().collect();
    let mut queue: VecDeque<LockState> = seen.iter().copied().collect();
    let mut states = Vec::new();
    let mut actions = Vec::new();
    while let Some(state) = queue.pop_front() {
        states.push(state);
        if states.len() == limit {
            break;
        }
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            if let Some(next) = model.next_state(&state, action) {
                if seen.insert(next) {
                    queue.push_back(next);
                }
            }
        }
    }
    states
}

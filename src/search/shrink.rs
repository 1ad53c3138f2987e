//! Shrinking a random counterexample: delta debugging over its list of steps.
//!
//! Remove a chunk of steps (halving the chunk size down to one step), replay the rest, and keep
//! the shorter trace if the same property is still violated. A removed step may change what later
//! deliveries carry, so replay lets an enabled action the model says "stands in for" the recorded
//! one (the delivery on the same channel) replace it, and records the action actually taken. The
//! result is therefore always a trace that replays exactly and violates the property; a test checks
//! this on every shrink.

use super::{Checkable, PropertyTable};

/// A shortest-found version of `steps` that still violates safety property `bit`.
pub(super) fn shrink<M: Checkable>(
    model: &M,
    table: &PropertyTable<M>,
    bit: usize,
    steps: Vec<M::Action>,
) -> Vec<M::Action> {
    let mut best =
        replay_loosely(model, table, bit, &steps).expect("the original run violates the property");
    let mut chunk = best.len() / 2;
    while chunk >= 1 {
        let mut shrank = false;
        let mut at = 0;
        while at < best.len() {
            let end = (at + chunk).min(best.len());
            let candidate: Vec<M::Action> =
                best[..at].iter().chain(&best[end..]).cloned().collect();
            match replay_loosely(model, table, bit, &candidate) {
                Some(shorter) if shorter.len() < best.len() => {
                    best = shorter;
                    shrank = true;
                }
                _ => at += chunk,
            }
        }
        if !shrank {
            chunk /= 2;
        }
    }
    best
}

/// Replay `steps` from the first initial state, letting a standing-in action replace a recorded
/// one that is not enabled; returns the actions taken up to the first state violating property
/// `bit`, or `None` if a step has no stand-in or the property is never violated.
fn replay_loosely<M: Checkable>(
    model: &M,
    table: &PropertyTable<M>,
    bit: usize,
    steps: &[M::Action],
) -> Option<Vec<M::Action>> {
    let mut state = model.init_states().swap_remove(0);
    let mut taken = Vec::with_capacity(steps.len());
    let mut enabled = Vec::new();
    if table.violations(model, &state) & (1 << bit) != 0 {
        return Some(taken);
    }
    for recorded in steps {
        enabled.clear();
        model.actions(&state, &mut enabled);
        let action = match enabled.iter().position(|a| a == recorded) {
            Some(exact) => enabled.swap_remove(exact),
            None => enabled
                .iter()
                .find(|a| model.stands_in_for(recorded, a))
                .cloned()?,
        };
        state = model.next_state(&state, action.clone())?;
        taken.push(action);
        if table.violations(model, &state) & (1 << bit) != 0 {
            return Some(taken);
        }
    }
    None
}

//! Shrinking a random counterexample: delta debugging over its list of steps.
//!
//! Remove a window of steps (halving the window down to one step, sliding it one step at a time),
//! then pairs of steps apart from each other (a fault and its recovery), replay the rest, and keep
//! the shorter trace if the same property is still violated; repeat until nothing shrinks. A removed step may change what later
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
    loop {
        let before = best.len();
        best = remove_chunks(model, table, bit, best);
        best = remove_pairs(model, table, bit, best);
        if best.len() == before {
            return best;
        }
    }
}

/// Delta debugging: remove windows of `chunk` consecutive steps, from half the trace down to one
/// step. The window slides one step at a time, so a pair such as a partition and its heal is
/// removed wherever it starts.
fn remove_chunks<M: Checkable>(
    model: &M,
    table: &PropertyTable<M>,
    bit: usize,
    mut best: Vec<M::Action>,
) -> Vec<M::Action> {
    let mut chunk = best.len() / 2;
    while chunk >= 1 {
        let mut at = 0;
        while at + chunk <= best.len() {
            let candidate: Vec<M::Action> = best[..at]
                .iter()
                .chain(&best[at + chunk..])
                .cloned()
                .collect();
            match replay_loosely(model, table, bit, &candidate) {
                Some(shorter) if shorter.len() < best.len() => best = shorter,
                _ => at += 1,
            }
        }
        chunk /= 2;
    }
    best
}

/// Remove two steps that are not adjacent, which neither can leave alone: a fault and the recovery
/// it enables (a pause and its resume, a crash and its restart) with other steps between them.
fn remove_pairs<M: Checkable>(
    model: &M,
    table: &PropertyTable<M>,
    bit: usize,
    mut best: Vec<M::Action>,
) -> Vec<M::Action> {
    let mut first = 0;
    while first < best.len() {
        let mut second = first + 2;
        let mut shrank = false;
        while second < best.len() {
            let candidate: Vec<M::Action> = best
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != first && i != second)
                .map(|(_, action)| action.clone())
                .collect();
            match replay_loosely(model, table, bit, &candidate) {
                Some(shorter) if shorter.len() < best.len() => {
                    best = shorter;
                    shrank = true;
                    break;
                }
                _ => second += 1,
            }
        }
        if !shrank {
            first += 1;
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

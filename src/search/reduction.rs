//! Partial-order reduction in the breadth-first search: which of a state's steps to take
//! (docs/reduction.md has the argument).
//!
//! The model names persistent sets ([`lockscope_models::PartialOrder`]): steps that every other
//! step commutes with until one of them is taken. The search takes only such a set's steps when
//! both conditions that keep a violation in reach hold:
//!
//! - **visibility**: every step of the set keeps each checked safety property violated (the
//!   model judges each step, [`lockscope_models::PartialOrder::invisible`]); otherwise the next
//!   set is tried, and with none left the state takes every step;
//! - **the cycle proviso**: no step of the set leads to a state already at this depth or less.
//!   A step that does could close a cycle along which the other steps are put off forever; the
//!   state then takes every step. A state's depth is told by its id: the ids of a level are
//!   handed out after those of every level before it.
//!
//! Liveness is not checked under the reduction: the argument covers reachable states only.

use std::ops::ControlFlow;

use super::Checkable;

#[cfg(test)]
thread_local! {
    /// Test settings: leave out the visibility condition, the cycle proviso (a naive reduction,
    /// which the tests show misses violations).
    pub(super) static NAIVE: std::cell::Cell<(bool, bool)> = const { std::cell::Cell::new((false, false)) };
}

fn checks_visibility() -> bool {
    #[cfg(test)]
    return !NAIVE.get().0;
    #[cfg(not(test))]
    true
}

fn checks_cycles() -> bool {
    #[cfg(test)]
    return !NAIVE.get().1;
    #[cfg(not(test))]
    true
}

/// What the reduced expansion of one level needs.
pub(super) struct Ample<'a> {
    /// The checked safety properties, by name.
    properties: &'a [&'static str],
    /// The first id of the next level: a state with a smaller id is at the expanded level's depth
    /// or less.
    deeper_from: u32,
}

impl<'a> Ample<'a> {
    pub(super) fn new(properties: &'a [&'static str], deeper_from: u32) -> Self {
        Ample {
            properties,
            deeper_from,
        }
    }

    /// The first persistent set of `state` whose every step keeps each checked property
    /// violated, into `ample` in action order; left empty when there is none (take every step).
    /// The successors made to judge the sets stay in `successors`, their slots marked in `made`.
    pub(super) fn choose<M: Checkable>(
        &self,
        model: &M,
        state: &M::State,
        actions: &[M::Action],
        successors: &mut [Option<M::State>],
        made: &mut [bool],
        ample: &mut Vec<usize>,
    ) {
        ample.clear();
        model.persistent_sets(state, actions, &mut |set| {
            assert!(!set.is_empty(), "a persistent set has a step");
            for &index in set {
                if !made[index] {
                    model.next_state_into(state, actions[index].clone(), &mut successors[index]);
                    made[index] = true;
                }
            }
            let invisible = |index: usize| match &successors[index] {
                None => true,
                Some(next) => self
                    .properties
                    .iter()
                    .all(|property| model.invisible(property, state, &actions[index], next)),
            };
            if checks_visibility() && !set.iter().all(|&index| invisible(index)) {
                return ControlFlow::Continue(());
            }
            ample.extend_from_slice(set);
            ample.sort_unstable();
            ControlFlow::Break(())
        });
    }

    /// Whether a successor whose id in the visited set is `id` (`None`: not visited) lies at the
    /// expanded state's depth or less, so that the state must take every step.
    pub(super) fn closes_cycle(&self, id: Option<u32>) -> bool {
        checks_cycles() && id.is_some_and(|id| id < self.deeper_from)
    }
}

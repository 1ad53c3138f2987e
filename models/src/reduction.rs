//! Partial-order reduction: what a model tells the search about steps that commute.
//!
//! Many interleavings of independent steps (two clients each reading their own channel) lead to
//! the same states; a search for reachable bad states need not try them all. From a state, a
//! reduced search takes only the steps of one *persistent set* the model names, when the search
//! can show that skipping the others hides no violation (lockscope's docs/reduction.md gives the
//! argument). The model answers two questions; the search adds the rest (which properties are
//! checked, and the cycle proviso).

use std::ops::ControlFlow;

/// The two questions a reduced search asks of a model. The default offers no persistent set, so a
/// model that does not implement them is searched in full.
pub trait PartialOrder: stateright::Model {
    /// Whether the model names persistent sets at all (a reduction asked of one that does not is
    /// refused rather than silently a full search).
    fn partial_order(&self) -> bool {
        false
    }

    /// Persistent sets among `state`'s enabled `actions` (indices into `actions`), in order of
    /// preference, handed to `each` until it breaks. A set must be non-empty, and *persistent*:
    /// on every path from `state` that takes none of its actions, every step taken (including
    /// steps not enabled in `state` yet) is independent of each action of the set: it does not
    /// disable that action, that action does not disable it, and the two orders reach the same
    /// state.
    fn persistent_sets(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        each: &mut dyn FnMut(&[usize]) -> ControlFlow<()>,
    ) {
        let _ = (state, actions, each);
    }

    /// Whether `action`, one of a persistent set of `state` whose successor is `next`, keeps
    /// the safety property `property` violated wherever a reduced search may postpone it: taken
    /// after any steps independent of it, from a state that violates `property` it leads to one
    /// that violates it too. (A step that may repair a violation, or make a bad state good, is
    /// visible.) `false` when unsure: the search then takes every enabled step of `state`.
    fn invisible(
        &self,
        property: &str,
        state: &Self::State,
        action: &Self::Action,
        next: &Self::State,
    ) -> bool {
        let _ = (property, state, action, next);
        false
    }
}

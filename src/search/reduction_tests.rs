//! Two hand-built worlds where a naive partial-order reduction misses a violation: one needs the
//! visibility condition, the other the cycle proviso. Each world's persistent sets are honest
//! (its two processes share nothing); the search must still find what the unreduced one finds.

use std::fmt;

use lockscope_models::pack::PackState;
use lockscope_models::timeline::{Condition, StepKind, StepView};
use lockscope_models::{ActionInfo, Explain, Liveness, PartialOrder, StepInto, Symmetry, Timeline};
use stateright::{Model, Property};

use super::reduction::NAIVE;
use super::{search, Reduction, SearchOptions, Verdict};

/// Two processes with a counter each: `P` steps `p`, `Q` steps `q`. Neither reads the other's
/// counter, so each step commutes with the other process's.
#[derive(Clone, Copy, Debug)]
enum World {
    /// `p` goes 0 → 1 once, `q` goes 0 → 1 → 2; bad: `q` at 2 while `p` is still 0. `P`'s step
    /// is a persistent set, but it repairs that violation: it is visible.
    Visibility,
    /// `p` goes round 0 → 1 → 0 forever, `q` goes 0 → 1; bad: `q` at 1. `P`'s step is a
    /// persistent set the property cannot see; taking only it goes round a cycle for ever.
    Cycle,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
struct Counters {
    p: u8,
    q: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
enum Step {
    P,
    Q,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?} steps")
    }
}

struct Toy(World);

impl Toy {
    fn bad(&self, state: &Counters) -> bool {
        match self.0 {
            World::Visibility => state.p == 0 && state.q == 2,
            World::Cycle => state.q == 1,
        }
    }
}

impl Model for Toy {
    type State = Counters;
    type Action = Step;

    fn init_states(&self) -> Vec<Counters> {
        vec![Counters::default()]
    }

    fn actions(&self, state: &Counters, actions: &mut Vec<Step>) {
        let p_steps = match self.0 {
            World::Visibility => state.p == 0,
            World::Cycle => true,
        };
        let q_last = match self.0 {
            World::Visibility => 2,
            World::Cycle => 1,
        };
        if p_steps {
            actions.push(Step::P);
        }
        if state.q < q_last {
            actions.push(Step::Q);
        }
    }

    fn next_state(&self, last: &Counters, action: Step) -> Option<Counters> {
        let mut next = *last;
        match action {
            Step::P => next.p = (next.p + 1) % 2,
            Step::Q => next.q += 1,
        }
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::always("bad_unreached", |toy: &Toy, state| {
            !toy.bad(state)
        })]
    }
}

impl PartialOrder for Toy {
    fn partial_order(&self) -> bool {
        true
    }

    /// `P`'s step alone, whenever it is enabled: nothing else touches `p`.
    fn persistent_sets(
        &self,
        _state: &Counters,
        actions: &[Step],
        each: &mut dyn FnMut(&[usize]) -> std::ops::ControlFlow<()>,
    ) {
        if let Some(index) = actions.iter().position(|&a| a == Step::P) {
            let _ = each(&[index]);
        }
    }

    /// `P`'s step keeps a violation only where the property does not read `p`.
    fn invisible(
        &self,
        _property: &str,
        _state: &Counters,
        action: &Step,
        _next: &Counters,
    ) -> bool {
        *action == Step::P && matches!(self.0, World::Cycle)
    }
}

impl PackState for Counters {
    const FINGERPRINT_PACKED: bool = true;

    fn pack_state(&self, out: &mut Vec<u8>) {
        out.extend([self.p, self.q]);
    }

    fn unpack_state(bytes: &[u8]) -> Self {
        Counters {
            p: bytes[0],
            q: bytes[1],
        }
    }
}

impl Explain for Toy {
    fn describe_step(&self, _before: &Counters, action: &Step, _after: &Counters) -> String {
        action.to_string()
    }

    fn describe_violation(&self, _property: &str, state: &Counters) -> Option<String> {
        self.bad(state).then(|| format!("{state:?}"))
    }

    fn describe_state(&self, state: &Counters) -> String {
        format!("{state:?}")
    }
}

impl Liveness for Toy {
    fn liveness_properties(&self) -> Vec<&'static str> {
        Vec::new()
    }

    fn pending(&self, _property: &str, _state: &Counters) -> u64 {
        0
    }

    fn task(&self, _state: &Counters, _action: &Step) -> Option<lockscope_models::Task> {
        None
    }

    fn task_name(&self, task: lockscope_models::Task) -> String {
        task.to_string()
    }

    fn obligation_name(&self, _property: &str, bit: u32) -> String {
        bit.to_string()
    }
}

impl ActionInfo for Toy {
    fn fault_kind(&self, _action: &Step) -> Option<&'static str> {
        None
    }

    fn fault_kinds(&self) -> Vec<&'static str> {
        Vec::new()
    }

    fn stands_in_for(&self, recorded: &Step, candidate: &Step) -> bool {
        recorded == candidate
    }
}

impl Symmetry for Toy {}

impl StepInto for Toy {}

impl Timeline for Toy {
    fn lifelines(&self) -> Vec<String> {
        vec!["P".into(), "Q".into()]
    }

    fn step_view(&self, _before: &Counters, action: &Step) -> StepView {
        StepView {
            actor: format!("{action:?}"),
            kind: StepKind::Local,
            label: action.to_string(),
            events: Vec::new(),
        }
    }

    fn conditions(&self, _state: &Counters) -> Vec<(String, Condition)> {
        Vec::new()
    }
}

/// The verdict of a search of `world` (reduced or not), with the visibility condition and the
/// cycle proviso left out as `naive` says; a counterexample found must lead to a bad state.
fn verdict(world: World, reduction: Reduction, naive: (bool, bool)) -> Verdict {
    let toy = Toy(world);
    let options = SearchOptions {
        reduction,
        check_liveness: false,
        ..SearchOptions::default()
    };
    NAIVE.set(naive);
    let report = search(&toy, &options, &mut |_| {});
    NAIVE.set((false, false));
    let property = &report.properties[0];
    if let Some(counterexample) = &property.counterexample {
        let end = counterexample
            .steps
            .iter()
            .fold(Counters::default(), |state, &step| {
                toy.next_state(&state, step).expect("a step")
            });
        assert!(
            toy.bad(&end),
            "{world:?}: the counterexample ends in a bad state"
        );
    }
    property.verdict
}

/// The whole search and the reduced one find `world`'s violation; a reduction without the
/// condition `naive` leaves out (visibility, cycle proviso) misses it.
fn assert_needed(world: World, naive: (bool, bool)) {
    let found = |reduction, naive| verdict(world, reduction, naive) == Verdict::Violated;
    assert!(
        found(Reduction::None, (false, false)),
        "{world:?}: violated"
    );
    assert!(
        !found(Reduction::PartialOrder, naive),
        "{world:?}: the naive reduction misses it"
    );
    assert!(
        found(Reduction::PartialOrder, (false, false)),
        "{world:?}: the reduction finds it"
    );
}

#[test]
fn a_persistent_set_that_can_repair_a_violation_is_not_taken_alone() {
    assert_needed(World::Visibility, (true, false));
}

#[test]
fn a_persistent_set_that_closes_a_cycle_is_not_taken_alone() {
    assert_needed(World::Cycle, (false, true));
}

//! How one run of a random search chooses among the enabled actions: the schedulers of
//! [`Scheduler`], each set up afresh per run from the run's own generator, so that a run depends
//! on its seed alone.
//!
//! No single scheduler finds every bug: uniform choice spends a fault budget in the first steps,
//! before anything interesting happened; PCT lets one actor run far ahead of another but takes a
//! fault only when its pseudo-task has the top priority; fault-biased choice spreads faults over
//! the run at a rate drawn per run, and which rate finds a bug depends on the bug. The swarm
//! scheduler (swarm testing: every run its own random configuration) draws per run the order of
//! the protocol steps (uniform, or PCT with a depth of its own), the fault rate (when faults
//! happen), and which fault kinds the run may use at all, so that a search of many runs covers
//! many configurations, and a run that leaves out a fault kind explores what the others do without
//! it getting in the way. Its distribution favours what found the bundled bugs in the fewest runs
//! (the table in docs/random.md).

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Checkable, PropertyTable, Scheduler};

/// PCT's depth when it is the scheduler: the number of priority change points per run is one
/// less.
const PCT_DEPTH: u32 = 3;
/// The fault-biased scheduler draws each run's fault rate from these (some runs fault almost at
/// once, some late, some rarely).
const FAULT_RATES: [f64; 4] = [0.01, 0.03, 0.1, 0.3];
/// A swarm run's fault rate, one of these: measured on the bundled bugs (docs/random.md), 3 % and
/// 10 % each found them in fewer runs than the fault-biased scheduler's mix, and 1 % and 30 % mostly
/// cost runs (with 30 % the ZAB bugs were missed for many seeds: the fault comes before the state
/// it needs).
const SWARM_FAULT_RATES: [f64; 2] = [0.03, 0.1];
/// One swarm run in this many orders its protocol steps by PCT instead of uniformly: rare, as no
/// bundled bug needs it and each such run costs one that finds the fault-timing bugs.
const SWARM_PCT_ONE_IN: u32 = 16;
/// The depths a swarm run draws PCT's from.
const SWARM_PCT_DEPTHS: [u32; 4] = [1, 2, 3, 5];
/// One swarm run in this many leaves out some fault kinds: rare, for the same reason.
const SWARM_OMIT_ONE_IN: u32 = 16;
/// Fault actions have no fairness task; PCT gives them this pseudo-task.
const FAULT_TASK: usize = 64;

/// One run's scheduler: the order of its protocol steps, how it takes faults, and which fault
/// kinds it leaves out. The named schedulers are points of this space; a swarm run draws one.
pub(super) struct RunScheduler {
    /// How the run orders its actions: its protocol steps, and its faults too unless it has a
    /// fault rate.
    order: Order,
    /// When set, a fault (when one is enabled) is taken with this probability and otherwise a
    /// protocol step, so that faults spread over the run instead of being spent at once.
    fault_rate: Option<f64>,
    /// Fault kinds this run never takes, a bit each (indexed like the model's fault kinds); only a
    /// swarm run leaves any out.
    omitted_faults: u64,
}

/// How a run picks among candidate actions.
enum Order {
    /// Every candidate equally likely.
    Uniform,
    /// Probabilistic concurrency testing: the candidate of the task with the highest priority;
    /// at a few random steps the chosen task drops to a priority below every other.
    Pct {
        priority: Box<[u32; FAULT_TASK + 1]>,
        change_points: Vec<u32>,
        next_low: u32,
    },
}

impl RunScheduler {
    /// The scheduler of a run of at most `steps` steps of a model with `fault_kinds` fault kinds,
    /// drawn from the run's generator.
    pub(super) fn start(
        scheduler: Scheduler,
        steps: u32,
        fault_kinds: usize,
        rng: &mut ChaCha8Rng,
    ) -> RunScheduler {
        let (order, fault_rate) = match scheduler {
            Scheduler::Uniform => (Order::Uniform, None),
            Scheduler::FaultBiased => (Order::Uniform, Some(fault_rate(rng))),
            Scheduler::Pct => (Order::pct(PCT_DEPTH, steps, rng), None),
            Scheduler::Swarm => return RunScheduler::swarm(steps, fault_kinds, rng),
        };
        RunScheduler {
            order,
            fault_rate,
            omitted_faults: 0,
        }
    }

    /// A swarm run's scheduler: protocol steps in uniform order or, in one run in
    /// [`SWARM_PCT_ONE_IN`], in PCT's with a depth of its own; a fault rate of 3 % or 10 %; and in
    /// one run in [`SWARM_OMIT_ONE_IN`], each fault kind left out with probability one half.
    fn swarm(steps: u32, fault_kinds: usize, rng: &mut ChaCha8Rng) -> RunScheduler {
        let order = if rng.random_ratio(1, SWARM_PCT_ONE_IN) {
            Order::pct(
                SWARM_PCT_DEPTHS[rng.random_range(0..SWARM_PCT_DEPTHS.len())],
                steps,
                rng,
            )
        } else {
            Order::Uniform
        };
        let fault_rate = SWARM_FAULT_RATES[rng.random_range(0..SWARM_FAULT_RATES.len())];
        let omitted_faults = if rng.random_ratio(1, SWARM_OMIT_ONE_IN) {
            (0..fault_kinds)
                .filter(|_| rng.random_bool(0.5))
                .fold(0, |bits, kind| bits | 1 << kind)
        } else {
            0
        };
        RunScheduler {
            order,
            fault_rate: Some(fault_rate),
            omitted_faults,
        }
    }

    /// Remove from `actions` the faults of the kinds this run leaves out.
    pub(super) fn drop_omitted_faults<M: Checkable>(
        &self,
        model: &M,
        table: &PropertyTable<M>,
        actions: &mut Vec<M::Action>,
    ) {
        if self.omitted_faults != 0 {
            actions.retain(|action| {
                table
                    .fault_index(model, action)
                    .map_or(true, |kind| self.omitted_faults & (1 << kind) == 0)
            });
        }
    }

    /// The index in `actions` (not empty) of the action to take at step `step`.
    pub(super) fn choose<M: Checkable>(
        &mut self,
        model: &M,
        state: &M::State,
        actions: &[M::Action],
        step: u32,
        rng: &mut ChaCha8Rng,
    ) -> usize {
        let Some(rate) = self.fault_rate else {
            let all: Vec<usize> = (0..actions.len()).collect();
            return self.order.choose(model, state, actions, &all, step, rng);
        };
        let (faults, steps): (Vec<usize>, Vec<usize>) =
            (0..actions.len()).partition(|&i| model.fault_kind(&actions[i]).is_some());
        if steps.is_empty() || (!faults.is_empty() && rng.random_bool(rate)) {
            faults[rng.random_range(0..faults.len())]
        } else {
            self.order.choose(model, state, actions, &steps, step, rng)
        }
    }
}

impl Order {
    /// Random distinct priorities per task, all above the `depth - 1` low priorities that the
    /// change points at random steps hand out.
    fn pct(depth: u32, steps: u32, rng: &mut ChaCha8Rng) -> Order {
        let mut priority = Box::new([0u32; FAULT_TASK + 1]);
        let mut values: Vec<u32> = (depth..depth + priority.len() as u32).collect();
        values.shuffle(rng);
        priority.copy_from_slice(&values);
        let change_points = (1..depth)
            .map(|_| rng.random_range(0..steps.max(1)))
            .collect();
        Order::Pct {
            priority,
            change_points,
            next_low: depth - 1,
        }
    }

    /// The index in `actions` of the one to take among `candidates` (indices, not empty).
    fn choose<M: Checkable>(
        &mut self,
        model: &M,
        state: &M::State,
        actions: &[M::Action],
        candidates: &[usize],
        step: u32,
        rng: &mut ChaCha8Rng,
    ) -> usize {
        match self {
            Order::Uniform => candidates[rng.random_range(0..candidates.len())],
            Order::Pct {
                priority,
                change_points,
                next_low,
            } => {
                let task = |i: usize| {
                    model
                        .task(state, &actions[i])
                        .map_or(FAULT_TASK, usize::from)
                };
                let best = candidates
                    .iter()
                    .map(|&i| priority[task(i)])
                    .max()
                    .expect("some action is a candidate");
                let ties: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&i| priority[task(i)] == best)
                    .collect();
                let chosen = ties[rng.random_range(0..ties.len())];
                if change_points.contains(&step) {
                    priority[task(chosen)] = *next_low;
                    *next_low = next_low.saturating_sub(1);
                }
                chosen
            }
        }
    }
}

/// A fault-biased run's fault rate.
fn fault_rate(rng: &mut ChaCha8Rng) -> f64 {
    FAULT_RATES[rng.random_range(0..FAULT_RATES.len())]
}

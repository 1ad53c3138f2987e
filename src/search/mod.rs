//! Exhaustive search over any model: breadth-first (shortest counterexamples, parallel) and
//! depth-first (little memory).
//!
//! Why lockscope runs its own search instead of stateright's checkers (see the design notes):
//! stateright's BFS is not level-synchronous with several threads, so its counterexamples are not
//! always the shortest and its depths are inflated; its depth bound is off by two; it keeps the
//! last, not the first, trace of a property in a full run; and it does not expand violating states
//! unless every property stays undecided. lockscope keeps stateright's `Model` trait (and its
//! Explorer) and implements the search here, so that every verdict states exactly what was looked
//! at: states, transitions, the depth covered and whether the search was complete.

mod bfs;
mod dfs;
mod fingerprint;
mod frontier;
pub mod liveness;
mod parents;
mod random;
mod reduction;
#[cfg(test)]
mod reduction_tests;
mod scheduler;
mod seen;
mod shrink;
mod words;

use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lockscope_models::pack::PackState;
use lockscope_models::{
    ActionInfo, Bound, Explain, Liveness, PartialOrder, StepInto, Symmetry, Timeline,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use stateright::{Expectation, Model};

pub use fingerprint::{fingerprint, Fingerprint};
pub use random::walk as random_walk;

/// A model the engine can search, trace and replay: states hash to fingerprints, actions are
/// printable and serialisable (they are the steps of a trace file), and renderers can draw its
/// steps ([`Timeline`]).
pub trait Checkable:
    Model<
        State: Clone
                   + Hash
                   + Eq
                   + fmt::Debug
                   + Serialize
                   + DeserializeOwned
                   + PackState
                   + Send
                   + Sync,
        Action: Clone + Eq + fmt::Debug + fmt::Display + Serialize + DeserializeOwned + Send + Sync,
    > + Explain
    + Liveness
    + ActionInfo
    + Symmetry
    + PartialOrder
    + StepInto
    + Timeline
    + Sync
{
}

impl<M> Checkable for M where
    M: Model<
            State: Clone
                       + Hash
                       + Eq
                       + fmt::Debug
                       + Serialize
                       + DeserializeOwned
                       + PackState
                       + Send
                       + Sync,
            Action: Clone
                        + Eq
                        + fmt::Debug
                        + fmt::Display
                        + Serialize
                        + DeserializeOwned
                        + Send
                        + Sync,
        > + Explain
        + Liveness
        + ActionInfo
        + Symmetry
        + PartialOrder
        + StepInto
        + Timeline
        + Sync
{
}

/// How the state space is traversed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Bfs,
    Dfs,
    Random,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Bfs => "bfs",
            Strategy::Dfs => "dfs",
            Strategy::Random => "random",
        }
    }
}

/// Which reduction of interleavings a breadth-first search makes (`[check] reduction`,
/// `--reduction`). Off by default, so that counts stay those of the whole space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reduction {
    #[default]
    None,
    /// Partial-order reduction for safety: from a state, only the steps of a persistent set the
    /// model names, where that hides no violation (docs/reduction.md). Liveness is not checked.
    PartialOrder,
}

impl Reduction {
    /// The name in `[check] reduction`, `--reduction` and the JSON result.
    pub fn name(self) -> &'static str {
        match self {
            Reduction::None => "none",
            Reduction::PartialOrder => "partial-order",
        }
    }
}

/// Bounds for one search run; `None` means no bound (the scenario's 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchLimits {
    pub max_states: Option<u64>,
    pub max_depth: Option<u32>,
    pub time_limit: Option<Duration>,
    /// The process's resident set, in bytes, at which the search stops with what it has (rather
    /// than be killed by the system's out-of-memory killer with nothing).
    pub max_memory: Option<u64>,
}

/// Set when the process is asked to stop (SIGINT, SIGTERM): searches then stop at their next
/// check, as at a bound, and report what they found so far.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Ask every running search to stop at its next check (a signal handler calls this).
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// The resident set of this process in bytes (Linux's `/proc/self/status`, which gives it in
/// KiB whatever the page size; `None` elsewhere).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl SearchLimits {
    /// The bound of those not tied to the search's own counts — an interrupt, the time limit,
    /// the memory bound — that stops the search now, if one does. The drivers ask between
    /// batches of states, so a stop overshoots by at most one batch.
    pub fn reached(&self, started: Instant) -> Option<Stop> {
        if INTERRUPTED.load(Ordering::Relaxed) {
            return Some(Stop::Interrupted);
        }
        if self
            .time_limit
            .is_some_and(|limit| started.elapsed() >= limit)
        {
            return Some(Stop::TimeLimit);
        }
        let over = |max: u64| resident_bytes().is_some_and(|bytes| bytes >= max);
        self.max_memory.is_some_and(over).then_some(Stop::MaxMemory)
    }
}

/// Everything a search needs besides the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchOptions {
    pub strategy: Strategy,
    pub limits: SearchLimits,
    /// Worker threads for breadth-first expansion (results do not depend on it).
    pub threads: usize,
    /// Keep exploring after every safety property has been violated, to count the whole space.
    pub full_space: bool,
    /// Stop as soon as any safety property is violated (the benchmark's first-violation runs).
    pub stop_at_first_violation: bool,
    /// Random search only: the seed, runs, steps per run, which runs to do and how to choose.
    pub random: RandomOptions,
    /// Record the state graph and check liveness properties after a complete search (BFS only).
    /// The benchmark turns it off to time safety alone.
    pub check_liveness: bool,
    /// Depth-first only: this member `(i, n)` of a swarm of n searches that try actions in different
    /// orders (member 0 in the model's order), seeded by `random.seed`.
    pub swarm: Option<(u64, u64)>,
    /// Keep one representative per class of states equal up to renaming interchangeable actors
    /// (BFS only; the model must offer [`Symmetry`]). Liveness is then not checked.
    pub symmetry: bool,
    /// The properties to check; the others are reported [`Verdict::NotChecked`].
    pub properties: Selection,
    /// Partial-order reduction (BFS only; the model must offer [`PartialOrder`]). Liveness is then
    /// not checked, and a counterexample is the shortest in the reduced graph only.
    pub reduction: Reduction,
}

/// Which of a model's properties a search checks: a bit per property, in report order (see
/// [`property_names`]). A property left out is never evaluated, and when no liveness property is
/// selected the breadth-first search records no state graph: that graph is most of the memory
/// and time of a search that checks liveness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection(u64);

impl Selection {
    /// Every property.
    pub const ALL: Selection = Selection(u64::MAX);

    /// The properties of `model` named in `names` (names the model does not declare select
    /// nothing: the scenario's validation has refused them).
    pub fn named<M: Checkable>(model: &M, names: &[String]) -> Selection {
        let all = property_names(model);
        assert!(all.len() <= 64, "a selection holds at most 64 properties");
        let bits = all
            .iter()
            .enumerate()
            .filter(|(_, name)| names.iter().any(|n| n == *name))
            .fold(0, |bits, (i, _)| bits | 1 << i);
        Selection(bits)
    }

    fn contains(self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }
}

/// The names of `model`'s properties in report order: its stateright properties in declaration
/// order, then its liveness properties.
pub fn property_names<M: Checkable>(model: &M) -> Vec<&'static str> {
    let properties = model.properties().into_iter().map(|p| p.name);
    properties.chain(model.liveness_properties()).collect()
}

impl Default for SearchOptions {
    /// A complete breadth-first search on one thread that checks liveness.
    fn default() -> Self {
        SearchOptions {
            strategy: Strategy::Bfs,
            limits: SearchLimits::default(),
            threads: 1,
            full_space: false,
            stop_at_first_violation: false,
            random: RandomOptions::default(),
            check_liveness: true,
            symmetry: false,
            swarm: None,
            properties: Selection::ALL,
            reduction: Reduction::None,
        }
    }
}

/// How a random search chooses among enabled actions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheduler {
    /// Every enabled action equally likely.
    Uniform,
    /// Probabilistic concurrency testing: random priorities per task, a few priority change
    /// points per run; finds bugs that need one actor to run far ahead of another.
    Pct,
    /// Faults at a rate drawn per run (swarm testing): a fault, when one is enabled, is taken
    /// with that probability, otherwise a protocol step uniformly. Uniform choice spends the
    /// fault budget in the first steps, before anything interesting happened; spreading faults
    /// over the run finds bugs that need a fault at the right moment.
    #[serde(rename = "fault-biased")]
    FaultBiased,
    /// Swarm testing: each run draws its own configuration — a fault rate (when faults happen),
    /// the order of its protocol steps (uniform, or PCT with a depth of its own) and, rarely, fault
    /// kinds left out — so that one search covers many. The default: no single fixed scheduler
    /// finds every bug (docs/random.md measures them).
    #[default]
    Swarm,
}

impl Scheduler {
    /// The name in `[check] scheduler` and `--scheduler`.
    pub fn name(self) -> &'static str {
        match self {
            Scheduler::Uniform => "uniform",
            Scheduler::Pct => "pct",
            Scheduler::FaultBiased => "fault-biased",
            Scheduler::Swarm => "swarm",
        }
    }
}

/// The parameters of a random search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomOptions {
    pub seed: u64,
    /// Runs in the whole search (all shards together).
    pub runs: u64,
    /// Most steps per run.
    pub steps: u32,
    /// Only this run (`--run K`).
    pub only_run: Option<u64>,
    /// This shard `(i, n)`: the i-th of n contiguous slices of the runs.
    pub shard: Option<(u64, u64)>,
    pub scheduler: Scheduler,
}

impl Default for RandomOptions {
    fn default() -> Self {
        RandomOptions {
            seed: 1,
            runs: 1000,
            steps: 200,
            only_run: None,
            shard: None,
            scheduler: Scheduler::default(),
        }
    }
}

/// Why a search stopped. Anything but `Exhausted` makes every would-be "holds" an "unknown".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Every reachable state was explored.
    Exhausted,
    MaxStates,
    MaxDepth,
    TimeLimit,
    /// The resident set reached `max_memory`.
    MaxMemory,
    /// Asked to stop (SIGINT, SIGTERM).
    Interrupted,
    /// Every safety property already had a counterexample, so nothing was left to decide.
    AllViolated,
    /// Asked to stop at the first violation.
    FirstViolation,
    /// A random search did all its runs: it never proves that a property holds.
    Runs,
}

impl Stop {
    /// The contract's name for the bound in the JSON result (`null` for a complete search).
    pub fn bound_name(self) -> Option<&'static str> {
        match self {
            Stop::Exhausted => None,
            Stop::MaxStates => Some("max_states"),
            Stop::MaxDepth => Some("max_depth"),
            Stop::TimeLimit => Some("time_limit"),
            Stop::MaxMemory => Some("max_memory"),
            Stop::Interrupted => Some("interrupted"),
            Stop::AllViolated => Some("all_violated"),
            Stop::FirstViolation => Some("first_violation"),
            Stop::Runs => Some("runs"),
        }
    }
}

/// Safety (a bad state is reachable) or liveness (a good state is never reached).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PropertyKind {
    Safety,
    Liveness,
}

/// The verdict on one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Holds,
    Violated,
    Unknown,
    /// Left out of the search by a property selection (`--property`, `[check] properties`).
    /// The JSON result writes it as `"unknown"` with `"checked": false`, so that consumers
    /// that know the three verdicts keep working.
    NotChecked,
}

impl Verdict {
    /// The verdict's name in the JSON result: a property not checked is `"unknown"` there.
    pub fn json_name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Unknown | Verdict::NotChecked => "unknown",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Unknown => "unknown",
            Verdict::NotChecked => "not checked",
        })
    }
}

/// A path to a violation: for safety, to a bad state; for liveness, a lasso whose cycle starts
/// after `loop_start` steps and returns to the state it started from (an empty cycle means the
/// last state has no step and stays forever).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample<A> {
    pub steps: Vec<A>,
    pub loop_start: Option<usize>,
    /// For a lasso: the modelling bound whose exhaustion alone keeps it going (see
    /// [`liveness::Lasso::bound`]); its property's verdict is then `unknown`, not `violated`.
    pub bound: Option<Bound>,
    /// For a random search: which run found it, and how long it was before shrinking.
    pub random: Option<RandomOrigin>,
}

impl<A> Counterexample<A> {
    /// A path to a bad state.
    pub fn path(steps: Vec<A>) -> Self {
        Counterexample {
            steps,
            loop_start: None,
            bound: None,
            random: None,
        }
    }

    /// A stem of `loop_start` steps followed by a cycle.
    pub fn lasso(steps: Vec<A>, loop_start: usize) -> Self {
        Counterexample {
            steps,
            loop_start: Some(loop_start),
            bound: None,
            random: None,
        }
    }
}

/// Where a random search found a counterexample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomOrigin {
    /// The run's index; `--run K` re-runs it alone.
    pub run: u64,
    /// The number of steps of the run up to the violation, before shrinking.
    pub original_length: usize,
}

/// What a search concluded about one property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyResult<A> {
    pub name: &'static str,
    pub kind: PropertyKind,
    pub verdict: Verdict,
    /// Why the verdict is `unknown`.
    pub reason: Option<String>,
    pub counterexample: Option<Counterexample<A>>,
}

/// The statistics and verdicts of one search.
#[derive(Clone, Debug)]
pub struct SearchReport<A> {
    pub strategy: Strategy,
    pub stop: Stop,
    /// Transitions explored: every (state, enabled action) pair.
    pub transitions: u64,
    pub unique_states: u64,
    /// The deepest state found (steps from the initial state).
    pub max_depth: u32,
    /// Every state at this depth or less has been found and checked.
    pub depth_covered: u32,
    pub elapsed: Duration,
    pub threads: usize,
    pub properties: Vec<PropertyResult<A>>,
    /// For a random search: the seed and the number of runs tried.
    pub seed: Option<u64>,
    pub runs: Option<u64>,
    /// Per fault kind: transitions of that kind explored (exhaustive), or runs that used it
    /// (random). Shows that a fault was actually exercised.
    pub fault_coverage: Vec<(&'static str, u64)>,
    /// What symmetry reduction treated as interchangeable, if it was on: counts are then of
    /// representatives.
    pub symmetry: Option<&'static str>,
    /// The reduction the search made (counts are then of the reduced graph).
    pub reduction: Reduction,
    /// The member of a depth-first swarm this search was.
    pub swarm: Option<(u64, u64)>,
}

impl<A> SearchReport<A> {
    pub fn complete(&self) -> bool {
        self.stop == Stop::Exhausted
    }

    pub fn property(&self, name: &str) -> Option<&PropertyResult<A>> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Transitions per second.
    pub fn rate(&self) -> f64 {
        self.transitions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The chance that two distinct states shared a 64-bit fingerprint, so one was never explored
    /// (TLC's estimate, n²/2⁶⁵ for n states).
    pub fn collision_probability(&self) -> f64 {
        let n = self.unique_states as f64;
        n * n / 2f64.powi(65)
    }
}

/// Progress of a long search, for a status line on a terminal.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub transitions: u64,
    pub unique_states: u64,
    /// The deepest level reached; in a random search, the longest run.
    pub depth: u32,
    pub elapsed: Duration,
    /// A random search keeps no states: it counts the runs done instead.
    pub runs_done: Option<u64>,
}

/// Search `model` with `options` (exhaustively, or by random runs), calling `progress` now and then.
pub fn search<M: Checkable>(
    model: &M,
    options: &SearchOptions,
    progress: &mut dyn FnMut(Progress),
) -> SearchReport<M::Action> {
    match options.strategy {
        Strategy::Bfs => bfs::search(model, options, progress),
        Strategy::Dfs => dfs::search(model, options, progress),
        Strategy::Random => random::search(model, options, progress),
    }
}

/// Give every safety property in `violations` (a bit each) that has no counterexample yet the one
/// `found` makes. Every strategy keeps the first counterexample per property this way.
pub(crate) fn record_first<T>(first: &mut [Option<T>], violations: u64, found: impl Fn() -> T) {
    for (bit, slot) in first.iter_mut().enumerate() {
        if violations & (1 << bit) != 0 && slot.is_none() {
            *slot = Some(found());
        }
    }
}

/// The model's properties split by kind, with the verdict-building shared by every strategy.
pub(crate) struct PropertyTable<M: Model> {
    properties: Vec<stateright::Property<M>>,
    /// Indices of the selected `always` properties, in declaration order.
    safety: Vec<usize>,
    /// The selected liveness properties.
    liveness: Vec<&'static str>,
    /// Every liveness property, and whether it is selected.
    all_liveness: Vec<(&'static str, bool)>,
    selection: Selection,
    /// The model's fault kinds, for coverage counts.
    pub(crate) fault_kinds: Vec<&'static str>,
}

impl<M: Checkable> PropertyTable<M> {
    /// The table of `model`'s properties that `selection` keeps.
    pub(crate) fn new(model: &M, selection: Selection) -> Self {
        let properties = model.properties();
        let safety = (0..properties.len())
            .filter(|&i| properties[i].expectation == Expectation::Always && selection.contains(i))
            .collect();
        let all_liveness: Vec<(&'static str, bool)> = model
            .liveness_properties()
            .into_iter()
            .enumerate()
            .map(|(k, name)| (name, selection.contains(properties.len() + k)))
            .collect();
        PropertyTable {
            properties,
            safety,
            liveness: all_liveness
                .iter()
                .filter(|(_, selected)| *selected)
                .map(|&(name, _)| name)
                .collect(),
            all_liveness,
            selection,
            fault_kinds: model.fault_kinds(),
        }
    }

    /// The selected safety properties' names, in report order.
    pub(crate) fn safety_names(&self) -> Vec<&'static str> {
        self.safety
            .iter()
            .map(|&i| self.properties[i].name)
            .collect()
    }

    pub(crate) fn safety_count(&self) -> usize {
        self.safety.len()
    }

    /// The liveness properties' names, in report order.
    pub(crate) fn liveness_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.liveness.iter().copied()
    }

    pub(crate) fn liveness_count(&self) -> usize {
        self.liveness.len()
    }

    /// A bit per safety property that `state` violates.
    pub(crate) fn violations(&self, model: &M, state: &M::State) -> u64 {
        let mut bits = 0;
        for (bit, &i) in self.safety.iter().enumerate() {
            if !(self.properties[i].condition)(model, state) {
                bits |= 1 << bit;
            }
        }
        bits
    }

    /// Fault coverage: each fault kind with its count (indexed like `fault_kinds`).
    pub(crate) fn coverage(&self, counts: Vec<u64>) -> Vec<(&'static str, u64)> {
        self.fault_kinds.iter().copied().zip(counts).collect()
    }

    /// The index of `action`'s fault kind in `fault_kinds`, if it is a fault.
    pub(crate) fn fault_index(&self, model: &M, action: &M::Action) -> Option<usize> {
        let kind = model.fault_kind(action)?;
        Some(
            self.fault_kinds
                .iter()
                .position(|k| *k == kind)
                .expect("a model lists its fault kinds"),
        )
    }

    /// The pending obligations of each liveness property in `state`.
    pub(crate) fn pending<'a>(
        &'a self,
        model: &'a M,
        state: &'a M::State,
    ) -> impl Iterator<Item = u64> + 'a {
        self.liveness
            .iter()
            .map(move |name| model.pending(name, state))
    }

    /// Turn what the search found into verdicts, for every property (those not selected are
    /// [`Verdict::NotChecked`]). `safety[k]` is the counterexample of the k-th selected safety
    /// property, if one was found; `liveness[k]` is `None` when the k-th selected liveness
    /// property was not checked (for `unchecked_reason`), else its counterexample if violated.
    pub(crate) fn verdicts(
        &self,
        stop: Stop,
        mut safety: Vec<Option<Counterexample<M::Action>>>,
        liveness: Vec<Option<Option<Counterexample<M::Action>>>>,
        unchecked_reason: &str,
    ) -> Vec<PropertyResult<M::Action>> {
        let mut results: Vec<PropertyResult<M::Action>> = self
            .properties
            .iter()
            .enumerate()
            .map(|(i, property)| {
                let kind = match property.expectation {
                    Expectation::Always => PropertyKind::Safety,
                    _ => PropertyKind::Liveness,
                };
                if !self.selection.contains(i) {
                    return not_checked(property.name, kind);
                }
                let Some(k) = self.safety.iter().position(|&s| s == i) else {
                    return PropertyResult {
                        name: property.name,
                        kind: PropertyKind::Liveness,
                        verdict: Verdict::Unknown,
                        reason: Some(
                            "stateright `eventually`/`sometimes` properties are not checked".into(),
                        ),
                        counterexample: None,
                    };
                };
                let counterexample = safety[k].take();
                let (verdict, reason) = match (&counterexample, stop) {
                    (Some(_), _) => (Verdict::Violated, None),
                    (None, Stop::Exhausted) => (Verdict::Holds, None),
                    (None, stop) => (
                        Verdict::Unknown,
                        Some(format!("bounded: {}", stop.bound_name().unwrap_or("?"))),
                    ),
                };
                PropertyResult {
                    name: property.name,
                    kind: PropertyKind::Safety,
                    verdict,
                    reason,
                    counterexample,
                }
            })
            .collect();
        let mut liveness = liveness.into_iter();
        for &(name, selected) in &self.all_liveness {
            if !selected {
                results.push(not_checked(name, PropertyKind::Liveness));
                continue;
            }
            let outcome = liveness.next().expect("an outcome per selected property");
            let (verdict, reason, counterexample) = match outcome {
                None => (Verdict::Unknown, Some(unchecked_reason.to_string()), None),
                Some(None) => (Verdict::Holds, None, None),
                Some(Some(lasso)) => match lasso.bound {
                    Some(bound) => (
                        Verdict::Unknown,
                        Some(format!("bounded: {bound}")),
                        Some(lasso),
                    ),
                    None => (Verdict::Violated, None, Some(lasso)),
                },
            };
            results.push(PropertyResult {
                name,
                kind: PropertyKind::Liveness,
                verdict,
                reason,
                counterexample,
            });
        }
        results
    }
}

/// The result of a property the selection left out.
fn not_checked<A>(name: &'static str, kind: PropertyKind) -> PropertyResult<A> {
    PropertyResult {
        name,
        kind,
        verdict: Verdict::NotChecked,
        reason: Some(NOT_SELECTED.into()),
        counterexample: None,
    }
}

/// Why a property has no verdict when the selection left it out.
pub const NOT_SELECTED: &str = "not checked: not selected (--property, [check] properties)";

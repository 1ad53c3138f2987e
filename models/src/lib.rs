//! Protocol models checked by lockscope.
//!
//! Each protocol is an actor model written against [`stateright::Model`]: a state type, the
//! messages its actors exchange, and handlers that read like the protocol's step list. This crate
//! holds protocol logic only; it does no I/O, reads no clock and draws no random numbers, so every
//! state and every trace is reproducible.
//!
//! - [`zookeeper`]: a single ZooKeeper server (znodes, sessions, one-shot watches).
//! - [`zab`]: ZooKeeper's atomic broadcast among N servers, with crashes and partitions, and
//!   named variants that reproduce known ZooKeeper bugs.
//! - [`ensemble`]: ZooKeeper as an ensemble of servers running [`zab`], serving the lock world.
//! - [`lock`]: the znode lock recipes (naive, herd, standard, fenced, curator) as clients of that
//!   server, with the faults that break them (session expiry, client pauses).
//!
//! The search engine, scenario files and reports live in the `lockscope` crate; it reaches a model
//! through [`stateright::Model`] plus [`Explain`], which turns steps and states into the sentences
//! of a counterexample narrative, and [`Timeline`], which tells the diagram renderers what each
//! step looks like.

// Models do no I/O: no printing, no `dbg!` left behind.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod actor;
pub mod ensemble;
pub mod lock;
pub mod pack;
pub mod prop;
pub mod reduction;
pub mod timeline;
pub mod zab;
pub mod zookeeper;

pub use actor::{ActorId, Group};
pub use reduction::PartialOrder;
pub use timeline::Timeline;

/// A fixed-capacity vector that is `Copy` when its items are. A search copies a state once per
/// transition: built from these, the lock world's state is plain data and that copy is one
/// `memcpy` instead of an item-by-item clone (which took a fifth of a search). Unused slots hold
/// `T::default()` and are never observed: equality, order, hashing and serialization see only the
/// items in use.
pub type Slots<T, const N: usize> = tinyvec::ArrayVec<[T; N]>;

/// Successors made where the search keeps them. [`stateright::Model::next_state`] returns a new
/// state, and a caller that keeps it somewhere moves it there: a copy of the whole state (a
/// kilobyte for the lock world) on every transition, on top of the one that makes it.
pub trait StepInto: stateright::Model {
    /// `next_state(last, action)`, written into `into`.
    fn next_state_into(
        &self,
        last: &Self::State,
        action: Self::Action,
        into: &mut Option<Self::State>,
    ) {
        *into = self.next_state(last, action);
    }
}

/// What the engine needs to know about actions beyond the `Model` trait: which are faults (for
/// fault coverage) and which may stand in for one another when a trace is shrunk.
pub trait ActionInfo: stateright::Model {
    /// The fault budget an action draws on, named by its `[faults]` key (e.g. "session_expiries"),
    /// or `None` for a protocol step.
    fn fault_kind(&self, action: &Self::Action) -> Option<&'static str>;

    /// The fault kinds this model can inject, in report order.
    fn fault_kinds(&self) -> Vec<&'static str>;

    /// Whether `candidate` may replace `recorded` when a shortened trace is replayed: e.g. the
    /// delivery on the same channel, whose message changed because an earlier step was removed.
    fn stands_in_for(&self, recorded: &Self::Action, candidate: &Self::Action) -> bool;
}

/// Symmetry reduction: states that differ only by a renaming of interchangeable actors (e.g. the
/// clients of a lock world) have the same futures up to that renaming, so a search may keep one
/// representative of each class. The properties a model declares must not depend on actor names.
pub trait Symmetry: stateright::Model {
    /// What is interchangeable, for reports ("clients"); `None` if the model offers no reduction
    /// (then the default representative, the state itself, is never asked for).
    fn symmetry(&self) -> Option<&'static str> {
        None
    }

    /// The canonical member of `state`'s class: equal for two states exactly when one is a
    /// renaming of the other. Only called when [`Symmetry::symmetry`] is `Some`.
    fn representative(&self, state: &Self::State) -> Self::State
    where
        Self::State: Clone,
    {
        state.clone()
    }
}

/// Which fairness the liveness checker assumes for the tasks a model marks as strong-capable
/// ([`Liveness::strong_tasks`]); every other task is weakly fair either way.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Fairness {
    /// A task that stays enabled is eventually taken.
    #[default]
    Weak,
    /// A strong-capable task that is enabled again and again (infinitely often, though maybe
    /// not continuously) is eventually taken.
    Strong,
}

impl Fairness {
    pub fn name(self) -> &'static str {
        match self {
            Fairness::Weak => "weak",
            Fairness::Strong => "strong",
        }
    }
}

/// A fairness task: a group of actions that weak fairness treats as one (one actor's own steps,
/// or the deliveries of one channel). Tasks are numbered below 64 so that a set fits in a word.
pub type Task = u8;

/// Liveness properties, checked by lockscope's own checker under weak fairness, and strong
/// fairness for the tasks of [`Liveness::strong_tasks`]. (stateright's `Property::eventually` is
/// not used: it misses cycles and knows no fairness.)
///
/// A liveness property here is a set of obligations, such as "client 1, who is waiting, gets the
/// lock". It is violated by an infinite behaviour that is fair (every task that stays enabled is
/// eventually taken; every strong task that is enabled infinitely often is taken infinitely
/// often) and along which some obligation stays pending forever; a state with no step at all
/// counts as repeating forever.
pub trait Liveness: stateright::Model {
    /// The names of the liveness properties, in report order.
    fn liveness_properties(&self) -> Vec<&'static str>;

    /// The obligations of `property` pending in `state`, one bit each.
    fn pending(&self, property: &str, state: &Self::State) -> u64;

    /// The fairness task of `action` taken in `state`, or `None` for an action the environment
    /// may take or not (faults are never obligations). A task is a set of transitions, so it
    /// may depend on the state: ZAB tells a server's timeout that lets it join a leaderless
    /// election apart from its other timeouts.
    fn task(&self, state: &Self::State, action: &Self::Action) -> Option<Task>;

    /// The tasks that are strongly fair: taken eventually when enabled again and again, not only
    /// when enabled continuously. Empty (weak fairness for every task) unless the model offers
    /// strong fairness and the scenario asks for it (`[check] fairness = "strong"`).
    fn strong_tasks(&self) -> u64 {
        0
    }

    /// A name for a task, e.g. "deliveries from S to C1".
    fn task_name(&self, task: Task) -> String;

    /// A name for obligation `bit` of `property`, e.g. "C1 gets the lock".
    fn obligation_name(&self, property: &str, bit: u32) -> String;

    /// The modelling bound (e.g. ZAB's `epochs`) whose exhaustion alone disables, in `state`, a
    /// fairness task that `property` is pending on: with that bound one higher, some task would be
    /// enabled in `state` that is not now. A lasso whose every state is blocked this way ends only
    /// because the model stops where the protocol would go on, so the checker reports it as
    /// `unknown (bounded: ...)` rather than as a protocol failure. `None` (the default) when no
    /// bound is in the way, or the model has no bound that can disable a task.
    fn blocked_by_bound(&self, property: &str, state: &Self::State) -> Option<Bound> {
        let _ = (property, state);
        None
    }
}

/// A modelling bound, by its scenario key and the value it had (`epochs = 2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    /// The scenario key, e.g. "epochs"; also the JSON result's `bound` field.
    pub key: &'static str,
    pub value: u64,
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} = {} exhausted", self.key, self.value)
    }
}

/// The fairness tasks of the actions `model` enables in `state`, one bit each (for
/// [`Liveness::blocked_by_bound`], which compares them with those of a model whose bound is
/// higher).
pub fn enabled_tasks<M: Liveness>(model: &M, state: &M::State) -> u64 {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    actions
        .iter()
        .filter_map(|action| model.task(state, action))
        .fold(0, |tasks, task| tasks | 1 << task)
}

/// Words for a person reading a counterexample: what one step did, and why a state violates a
/// property. The engine stays protocol-agnostic by asking the model for these sentences.
pub trait Explain: stateright::Model {
    /// One line saying which actor acted, on which message or fault, and the state change that
    /// matters, e.g. "C1 reads children [0, 1] (computed before its session expired)".
    fn describe_step(
        &self,
        before: &Self::State,
        action: &Self::Action,
        after: &Self::State,
    ) -> String;

    /// Why `state` violates `property`, in a sentence or two; `None` when it does not.
    fn describe_violation(&self, property: &str, state: &Self::State) -> Option<String>;

    /// A readable multi-line rendering of the whole state (for the Explorer and step-by-step views).
    fn describe_state(&self, state: &Self::State) -> String;
}

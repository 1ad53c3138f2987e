//! Liveness under weak and strong fairness, on the explicit state graph of a complete
//! breadth-first search.
//!
//! A liveness property is a set of obligations (see `lockscope_models::Liveness`); it is violated
//! by a fair infinite behaviour along which some obligation stays pending forever. A behaviour is
//! fair when every weak task that stays enabled from some point on is taken again and again, and
//! every strong task (the model's `strong_tasks`) that is enabled again and again is taken again
//! and again. For one obligation, restrict the graph to the states where it is pending and
//! compute the strongly connected components of that subgraph (Tarjan, iterative). A component
//! contains a fair cycle exactly when the cycle through all its states and edges is fair, or when
//! a fair cycle lies in a smaller part of it, found as follows (Emerson and Lei's algorithm for
//! Streett conditions, as in Lichtenstein–Pnueli's model checking under fairness):
//!
//! - a weak task enabled in all its states but taken by no edge inside it: no cycle inside it is
//!   fair (every cycle passes only through states where the task is enabled and never takes it);
//! - otherwise, a strong task enabled in some of its states but taken by no edge inside it: a fair
//!   cycle inside it cannot pass through those states (it would have to take the task), so remove
//!   them, split the rest into components again and test each the same way;
//! - otherwise the component is fair: the cycle through all of it takes every strong task enabled
//!   anywhere in it and every weak task enabled everywhere in it.
//!
//! Each split removes at least one state, so the recursion ends. With no strong task (the lock
//! models, and ZAB under weak fairness) no split happens and the cost is one Tarjan pass.
//!
//! A state where only faults could happen (no task enabled), with the obligation pending, is a
//! violation too: the behaviour stays there forever (a "stutter" lasso with an empty cycle).
//!
//! Why this algorithm rather than SPIN's nested depth-first search: fairness over tasks is a
//! per-component test here (SPIN's nested search handles weak fairness only, by unrolling the
//! graph per process), the graph of the reference workload (7.5 M states, 32 M edges) fits in
//! well under 1 GB (6 bytes per edge), and components give, besides the verdict, the material for
//! a short fair lasso. It is complete for finite spaces and needs the whole graph, so it runs only
//! after an exhaustive search; a bounded search reports liveness as unknown.

use std::collections::VecDeque;

use lockscope_models::{Bound, Task};

/// Marks an edge whose action is no fairness obligation (a fault).
pub const NO_TASK: u8 = u8::MAX;

/// The reachable graph in compressed rows: the edges of state `s` are `offsets[s]..offsets[s+1]`.
/// (`Clone` lets a test hand a copy to a thread it can give up waiting for.)
#[derive(Clone, Default)]
pub struct Graph {
    offsets: Vec<u64>,
    target: Vec<u32>,
    /// The index of the edge's action among the source's enabled actions.
    action: Vec<u8>,
    task: Vec<u8>,
}

impl Graph {
    /// Append an edge of state `source`; sources must come in increasing order.
    pub fn push_edge(&mut self, source: u32, target: u32, action: u8, task: Option<Task>) {
        self.close_rows(source as usize);
        self.target.push(target);
        self.action.push(action);
        self.task.push(task.unwrap_or(NO_TASK));
    }

    /// Make rows `..=last` exist (a state may have no edges).
    fn close_rows(&mut self, last: usize) {
        while self.offsets.len() <= last {
            self.offsets.push(self.target.len() as u64);
        }
    }

    /// Finish the graph once all `states` are known.
    pub fn finish(&mut self, states: usize) {
        self.close_rows(states);
        self.offsets.truncate(states + 1);
    }

    pub fn states(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    fn edges(&self, state: u32) -> std::ops::Range<usize> {
        self.offsets[state as usize] as usize..self.offsets[state as usize + 1] as usize
    }

    /// The tasks enabled in `state`: those of its outgoing edges.
    fn enabled(&self, state: u32) -> u64 {
        self.edges(state)
            .filter(|&e| self.task[e] != NO_TASK)
            .fold(0, |bits, e| bits | 1 << self.task[e])
    }
}

/// A violation: from the initial state to `entry`, then around `cycle` forever.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lasso {
    /// The obligation that stays pending.
    pub obligation: u32,
    pub entry: u32,
    /// Action indices from `entry` back to `entry`; empty when `entry` has no step (stutter).
    pub cycle: Vec<u8>,
    /// The modelling bound whose exhaustion alone makes the lasso fair: in every state of its
    /// cycle (or its last state, for a stutter) a task would be enabled with the bound one higher
    /// (see `Liveness::blocked_by_bound`). `None`: a violation of the protocol as modelled.
    pub bound: Option<Bound>,
}

/// Find a fair lasso for some obligation, if any. `pending[s]` holds the pending obligations of
/// state `s`; `strong` the strongly fair tasks; `blocked(s)` the bound that alone disables a task
/// in state `s` (asked only of candidate states, as it may be costly). A violation that no bound
/// explains wins over one that a bound does (a real failure is never hidden behind a bounded one);
/// among those of one kind, it returns the one whose entry state was found first by the
/// breadth-first search (so its stem is shortest among them), then the lowest obligation.
pub fn find_violation(
    graph: &Graph,
    pending: &[u64],
    strong: u64,
    blocked: &mut dyn FnMut(u32) -> Option<Bound>,
) -> Option<Lasso> {
    let mut cache: std::collections::HashMap<u32, Option<Bound>> = Default::default();
    let mut blocked = |s: u32| *cache.entry(s).or_insert_with(|| blocked(s));
    let obligations = pending.iter().fold(0u64, |all, p| all | p);
    // The best genuine and the best bounded lasso so far.
    let mut best: [Option<Lasso>; 2] = [None, None];
    for obligation in (0..64u32).filter(|bit| obligations & (1 << bit) != 0) {
        let inside = |s: u32| pending[s as usize] & (1 << obligation) != 0;
        // A state where no task is enabled can last forever: only faults could move it on, and
        // faults are no obligation. The first such state of each kind (bounded or not).
        let mut stuck: [Option<(u32, Option<Bound>)>; 2] = [None, None];
        for s in (0..graph.states() as u32).filter(|&s| inside(s) && graph.enabled(s) == 0) {
            let bound = blocked(s);
            let slot = &mut stuck[usize::from(bound.is_some())];
            if slot.is_none() {
                *slot = Some((s, bound));
            }
            if stuck[0].is_some() {
                break;
            }
        }
        let components = components(graph, &inside);
        let mut fair = fair_components(graph, &components, &inside, strong);
        fair.sort_by_key(|c| c.first);
        // The first fair component of each kind: bounded when every state of it is blocked.
        let mut cycles: [Option<(&FairComponent, Option<Bound>)>; 2] = [None, None];
        for component in &fair {
            let mut bound = None;
            for s in component.states(&components) {
                bound = blocked(s);
                if bound.is_none() {
                    break;
                }
            }
            let slot = &mut cycles[usize::from(bound.is_some())];
            if slot.is_none() {
                *slot = Some((component, bound));
            }
            if cycles[0].is_some() {
                break;
            }
        }
        for kind in 0..2 {
            let entry = match (stuck[kind], cycles[kind]) {
                (Some((s, _)), Some((c, _))) if c.first < s => c.first,
                (Some((s, _)), _) => s,
                (None, Some((c, _))) => c.first,
                (None, None) => continue,
            };
            if best[kind].as_ref().is_some_and(|b| b.entry <= entry) {
                continue;
            }
            let (cycle, bound) = match cycles[kind] {
                Some((c, bound)) if c.first == entry => {
                    let cycle = match &c.members {
                        Members::Component(id) => {
                            fair_cycle(graph, entry, &|s| components.id[s as usize] == *id)
                        }
                        Members::Part(states) => {
                            fair_cycle(graph, entry, &|s| states.binary_search(&s).is_ok())
                        }
                    };
                    (cycle, bound)
                }
                _ => (Vec::new(), stuck[kind].and_then(|(_, bound)| bound)),
            };
            best[kind] = Some(Lasso {
                obligation,
                entry,
                cycle,
                bound,
            });
        }
    }
    let [genuine, bounded] = best;
    genuine.or(bounded)
}

/// Strongly connected components of the subgraph of states satisfying `inside`.
struct Components {
    /// Component of each state (`u32::MAX` outside the subgraph).
    id: Vec<u32>,
    count: u32,
}

fn components(graph: &Graph, inside: &dyn Fn(u32) -> bool) -> Components {
    let n = graph.states();
    let (id, count) = tarjan(graph, 0..n as u32, n, &|s| inside(s).then_some(s as usize));
    Components { id, count }
}

/// The strongly connected components of the subgraph on `states` (sorted), each sorted.
fn components_of(graph: &Graph, states: &[u32]) -> Vec<Vec<u32>> {
    let (id, count) = tarjan(graph, states.iter().copied(), states.len(), &|s| {
        states.binary_search(&s).ok()
    });
    let mut split: Vec<Vec<u32>> = vec![Vec::new(); count as usize];
    for (slot, &state) in states.iter().enumerate() {
        split[id[slot] as usize].push(state);
    }
    split
}

/// Tarjan's algorithm (iterative) on the subgraph of the states that `slot` places, each at its
/// own index below `slots` (so a small subgraph needs small arrays); returns the component of
/// each slot (`u32::MAX` for unused slots) and the number of components.
fn tarjan(
    graph: &Graph,
    roots: impl Iterator<Item = u32>,
    slots: usize,
    slot: &dyn Fn(u32) -> Option<usize>,
) -> (Vec<u32>, u32) {
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; slots];
    let mut low = vec![0u32; slots];
    let mut on_stack = vec![false; slots];
    let mut id = vec![UNSEEN; slots];
    // Slots are below 2^32 (state ids are u32): keep the stacks as small as the state ids.
    let mut stack: Vec<u32> = Vec::new();
    // Call stack of (a state's slot, its edges not yet followed). The edges are an iterator, not
    // a position advanced by hand, so each step of the loop below follows one edge or returns.
    let mut calls: Vec<(u32, std::ops::Range<usize>)> = Vec::new();
    let mut next_index = 0u32;
    let mut count = 0u32;
    for root in roots {
        let Some(root_slot) = slot(root).filter(|&r| index[r] == UNSEEN) else {
            continue;
        };
        calls.push((root_slot as u32, graph.edges(root)));
        index[root_slot] = next_index;
        low[root_slot] = next_index;
        next_index += 1;
        stack.push(root_slot as u32);
        on_stack[root_slot] = true;
        while let Some((at, edges)) = calls.last_mut() {
            let at = *at as usize;
            if let Some(edge) = edges.next() {
                let target = graph.target[edge];
                let Some(to) = slot(target) else {
                    continue;
                };
                if index[to] == UNSEEN {
                    index[to] = next_index;
                    low[to] = next_index;
                    next_index += 1;
                    stack.push(to as u32);
                    on_stack[to] = true;
                    calls.push((to as u32, graph.edges(target)));
                } else if on_stack[to] {
                    low[at] = low[at].min(index[to]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                let parent = parent as usize;
                low[parent] = low[parent].min(low[at]);
            }
            if low[at] == index[at] {
                loop {
                    let member = stack.pop().expect("the root is on the stack") as usize;
                    on_stack[member] = false;
                    id[member] = count;
                    if member == at {
                        break;
                    }
                }
                count += 1;
            }
        }
    }
    (id, count)
}

/// The states of a fair component.
enum Members {
    /// A whole component of the pending subgraph, by its id.
    Component(u32),
    /// A part of one that remained after strong-fairness splits, sorted.
    Part(Vec<u32>),
}

struct FairComponent {
    members: Members,
    /// Its state with the least id.
    first: u32,
}

impl FairComponent {
    /// Its states, in increasing order.
    fn states<'a>(&'a self, components: &'a Components) -> Box<dyn Iterator<Item = u32> + 'a> {
        match &self.members {
            Members::Component(id) => Box::new(
                (0..components.id.len() as u32).filter(move |&s| components.id[s as usize] == *id),
            ),
            Members::Part(states) => Box::new(states.iter().copied()),
        }
    }
}

/// What the fairness test needs to know about each of `len` sets of states, column by column: the
/// pending subgraph of the reference workload has millions of components, so a row costs 17
/// bytes, plus 8 only when some task is strong.
struct Summaries {
    /// Tasks enabled in every state of the set.
    enabled_everywhere: Vec<u64>,
    /// Tasks enabled in some state of the set (empty without strong tasks).
    enabled_somewhere: Vec<u64>,
    /// Tasks of the edges between its states.
    taken_inside: Vec<u64>,
    has_internal_edge: Vec<bool>,
    strong: u64,
}

impl Summaries {
    fn new(len: usize, strong: u64) -> Self {
        Summaries {
            enabled_everywhere: vec![u64::MAX; len],
            enabled_somewhere: vec![0; if strong == 0 { 0 } else { len }],
            taken_inside: vec![0; len],
            has_internal_edge: vec![false; len],
            strong,
        }
    }

    /// Add `state` to set `set`, whose edges into the set are those `member` accepts.
    fn add(&mut self, set: usize, graph: &Graph, state: u32, member: &dyn Fn(u32) -> bool) {
        let enabled = graph.enabled(state);
        self.enabled_everywhere[set] &= enabled;
        if self.strong != 0 {
            self.enabled_somewhere[set] |= enabled;
        }
        for e in graph.edges(state) {
            if member(graph.target[e]) {
                self.has_internal_edge[set] = true;
                if graph.task[e] != NO_TASK {
                    self.taken_inside[set] |= 1 << graph.task[e];
                }
            }
        }
    }

    /// Whether some cycle of the set could be fair: it has one, and no weak task is enabled
    /// everywhere in it without being taken inside.
    fn weakly_fair(&self, set: usize) -> bool {
        self.has_internal_edge[set]
            && self.enabled_everywhere[set] & !self.strong & !self.taken_inside[set] == 0
    }

    /// The strong tasks enabled somewhere in the set but taken nowhere inside it.
    fn starved_strong(&self, set: usize) -> u64 {
        if self.strong == 0 {
            return 0;
        }
        self.enabled_somewhere[set] & self.strong & !self.taken_inside[set]
    }
}

/// The components that contain a fair cycle, each reduced to a fair part when strong tasks
/// require it (see the module doc).
fn fair_components(
    graph: &Graph,
    components: &Components,
    inside: &dyn Fn(u32) -> bool,
    strong: u64,
) -> Vec<FairComponent> {
    let count = components.count as usize;
    let mut summaries = Summaries::new(count, strong);
    let mut first = vec![u32::MAX; count];
    for state in 0..graph.states() as u32 {
        if !inside(state) {
            continue;
        }
        let c = components.id[state as usize];
        first[c as usize] = first[c as usize].min(state);
        summaries.add(c as usize, graph, state, &|t| {
            inside(t) && components.id[t as usize] == c
        });
    }
    let mut fair = Vec::new();
    let mut to_split: Vec<u32> = Vec::new();
    for (c, &first) in first.iter().enumerate() {
        if !summaries.weakly_fair(c) {
            continue;
        }
        if summaries.starved_strong(c) == 0 {
            fair.push(FairComponent {
                members: Members::Component(c as u32),
                first,
            });
        } else {
            to_split.push(c as u32);
        }
    }
    if !to_split.is_empty() {
        let mut states_of: Vec<Vec<u32>> = vec![Vec::new(); to_split.len()];
        for state in 0..graph.states() as u32 {
            if !inside(state) {
                continue;
            }
            if let Ok(i) = to_split.binary_search(&components.id[state as usize]) {
                states_of[i].push(state);
            }
        }
        for states in states_of {
            fair.extend(fair_parts(graph, states, strong));
        }
    }
    fair
}

/// The fair parts of a set of states (sorted) that is strongly connected and weakly fair but
/// starves some strong task: remove the states where the starved tasks are enabled, split the
/// rest into components, and test each again.
fn fair_parts(graph: &Graph, states: Vec<u32>, strong: u64) -> Vec<FairComponent> {
    let mut fair = Vec::new();
    let mut work = vec![states];
    while let Some(states) = work.pop() {
        let member = |s: u32| states.binary_search(&s).is_ok();
        let mut summary = Summaries::new(1, strong);
        for &s in &states {
            summary.add(0, graph, s, &member);
        }
        if !summary.weakly_fair(0) {
            continue;
        }
        let starved = summary.starved_strong(0);
        if starved == 0 {
            fair.push(FairComponent {
                first: states[0],
                members: Members::Part(states),
            });
            continue;
        }
        let rest: Vec<u32> = states
            .iter()
            .copied()
            .filter(|&s| graph.enabled(s) & starved == 0)
            .collect();
        // What makes the splitting end: the starved tasks are enabled in some state of the set,
        // so each split leaves fewer states. A split that removed none would test the same set
        // again forever.
        assert!(
            rest.len() < states.len(),
            "a split removes the states where a starved strong task is enabled"
        );
        work.extend(components_of(graph, &rest));
    }
    fair
}

/// A fair cycle through `entry` inside the component `member`: for every task enabled somewhere
/// in the component it takes an edge of that task, or visits a state where the task is disabled.
fn fair_cycle(graph: &Graph, entry: u32, member: &dyn Fn(u32) -> bool) -> Vec<u8> {
    // A cycle from a state outside the component would leave it (or find no way back): a wrong
    // entry is a bug in the caller, named here rather than as a failed path search later.
    assert!(
        member(entry),
        "the lasso's entry {entry} is in its component"
    );
    let mut taken: u64 = 0;
    let mut enabled_somewhere: u64 = 0;
    for state in (0..graph.states() as u32).filter(|&s| member(s)) {
        enabled_somewhere |= graph.enabled(state);
        for e in graph.edges(state) {
            if member(graph.target[e]) && graph.task[e] != NO_TASK {
                taken |= 1 << graph.task[e];
            }
        }
    }
    let mut cycle: Vec<u8> = Vec::new();
    let mut at = entry;
    for task in (0..64u8).filter(|t| enabled_somewhere & (1 << t) != 0) {
        let bit = 1u64 << task;
        let (path, end) = if taken & bit != 0 {
            path_through_edge(graph, at, member, &|e| graph.task[e] == task)
        } else {
            path_to_state(graph, at, member, &|s| graph.enabled(s) & bit == 0)
        };
        cycle.extend(path);
        at = end;
    }
    if cycle.is_empty() {
        // No task is enabled anywhere (only faults remain): any cycle is fair.
        let (path, end) = path_through_edge(graph, entry, member, &|_| true);
        cycle.extend(path);
        at = end;
    }
    let (path, end) = path_to_state(graph, at, member, &|s| s == entry);
    debug_assert_eq!(end, entry);
    cycle.extend(path);
    cycle
}

/// Breadth-first parents inside a component, for rebuilding paths.
struct Parents {
    from: u32,
    parent: std::collections::HashMap<u32, (u32, usize)>,
}

impl Parents {
    fn path(&self, graph: &Graph, mut state: u32) -> Vec<u8> {
        let mut path = Vec::new();
        while state != self.from {
            let (previous, edge) = self.parent[&state];
            path.push(graph.action[edge]);
            state = previous;
        }
        path.reverse();
        path
    }
}

/// The shortest path inside the component from `from` to a state satisfying `goal` (empty when
/// `from` does); returns its action indices and the state it ends in.
fn path_to_state(
    graph: &Graph,
    from: u32,
    member: &dyn Fn(u32) -> bool,
    goal: &dyn Fn(u32) -> bool,
) -> (Vec<u8>, u32) {
    if goal(from) {
        return (Vec::new(), from);
    }
    path_through_edge(graph, from, member, &|e| goal(graph.target[e]))
}

/// The shortest path inside the component from `from` that ends by taking an edge satisfying
/// `goal`; returns its action indices and the state it ends in.
fn path_through_edge(
    graph: &Graph,
    from: u32,
    member: &dyn Fn(u32) -> bool,
    goal: &dyn Fn(usize) -> bool,
) -> (Vec<u8>, u32) {
    let mut parents = Parents {
        from,
        parent: Default::default(),
    };
    let mut queue = VecDeque::from([from]);
    while let Some(state) = queue.pop_front() {
        for e in graph.edges(state) {
            let target = graph.target[e];
            if !member(target) {
                continue;
            }
            if goal(e) {
                let mut path = parents.path(graph, state);
                path.push(graph.action[e]);
                return (path, target);
            }
            if target != from && !parents.parent.contains_key(&target) {
                parents.parent.insert(target, (state, e));
                queue.push_back(target);
            }
        }
    }
    panic!(
        "a strongly connected component connects its states, and has an edge of each task it takes"
    );
}

#[cfg(test)]
mod tests;

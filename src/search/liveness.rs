//! Liveness under weak fairness, on the explicit state graph of a complete breadth-first search.
//!
//! A liveness property is a set of obligations (see `lockscope_models::Liveness`); it is violated
//! by a weakly fair infinite behaviour along which some obligation stays pending forever. For one
//! obligation, restrict the graph to the states where it is pending and compute the strongly
//! connected components of that subgraph (Tarjan, iterative). A component contains a weakly fair
//! cycle exactly when every task enabled in all of its states is taken by some edge inside it:
//! then the cycle through all its states and edges is fair, and if some task is enabled in all
//! its states but only leaves the component, every cycle inside it starves that task. A state
//! where only faults could happen (no task enabled), with the obligation pending, is a violation too: the behaviour stays
//! there forever (a "stutter" lasso with an empty cycle).
//!
//! Why this algorithm rather than SPIN's nested depth-first search: weak fairness over tasks is a
//! simple per-component test here, the graph of the reference workload (7.5 M states, 32 M edges)
//! fits in well under 1 GB (6 bytes per edge), and components give, besides the verdict, the
//! material for a short fair lasso. It is complete for finite spaces and needs the whole graph,
//! so it runs only after an exhaustive search; a bounded search reports liveness as unknown.
//!
//! Strong fairness is not offered: it needs a recursive decomposition of each component, and no
//! bundled property needs it.

use std::collections::VecDeque;

use lockscope_models::Task;

/// Marks an edge whose action is no fairness obligation (a fault).
pub const NO_TASK: u8 = u8::MAX;

/// The reachable graph in compressed rows: the edges of state `s` are `offsets[s]..offsets[s+1]`.
#[derive(Default)]
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
}

/// Find a fair lasso for some obligation, if any. `pending[s]` holds the pending obligations of
/// state `s`. Among all violations it returns the one whose entry state was found first by the
/// breadth-first search (so its stem is shortest among them), then the lowest obligation.
pub fn find_violation(graph: &Graph, pending: &[u64]) -> Option<Lasso> {
    let obligations = pending.iter().fold(0u64, |all, p| all | p);
    let mut best: Option<Lasso> = None;
    for obligation in (0..64u32).filter(|bit| obligations & (1 << bit) != 0) {
        let inside = |s: u32| pending[s as usize] & (1 << obligation) != 0;
        // A state where no task is enabled can last forever: only faults could move it on, and
        // faults are no obligation.
        let stuck = (0..graph.states() as u32).find(|&s| inside(s) && graph.enabled(s) == 0);
        let components = components(graph, &inside);
        let fair = fair_components(graph, &components, &inside)
            .into_iter()
            .min_by_key(|c| c.first);
        let entry = match (stuck, &fair) {
            (Some(s), Some(c)) if c.first < s => c.first,
            (Some(s), _) => s,
            (None, Some(c)) => c.first,
            (None, None) => continue,
        };
        if best.as_ref().is_some_and(|b| b.entry <= entry) {
            continue;
        }
        let cycle = match &fair {
            Some(c) if c.first == entry => {
                fair_cycle(graph, entry, &|s| components.id[s as usize] == c.id)
            }
            _ => Vec::new(),
        };
        best = Some(Lasso {
            obligation,
            entry,
            cycle,
        });
    }
    best
}

/// Strongly connected components of the subgraph of states satisfying `inside`.
struct Components {
    /// Component of each state (`u32::MAX` outside the subgraph).
    id: Vec<u32>,
    count: u32,
}

fn components(graph: &Graph, inside: &dyn Fn(u32) -> bool) -> Components {
    const UNSEEN: u32 = u32::MAX;
    let n = graph.states();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut id = vec![UNSEEN; n];
    let mut stack: Vec<u32> = Vec::new();
    // Call stack of (state, next edge position).
    let mut calls: Vec<(u32, usize)> = Vec::new();
    let mut next_index = 0u32;
    let mut count = 0u32;
    for root in 0..n as u32 {
        if !inside(root) || index[root as usize] != UNSEEN {
            continue;
        }
        calls.push((root, graph.edges(root).start));
        index[root as usize] = next_index;
        low[root as usize] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (state, ref mut edge)) = calls.last_mut() {
            let end = graph.edges(state).end;
            if *edge < end {
                let target = graph.target[*edge];
                *edge += 1;
                if !inside(target) {
                    continue;
                }
                if index[target as usize] == UNSEEN {
                    index[target as usize] = next_index;
                    low[target as usize] = next_index;
                    next_index += 1;
                    stack.push(target);
                    on_stack[target as usize] = true;
                    calls.push((target, graph.edges(target).start));
                } else if on_stack[target as usize] {
                    low[state as usize] = low[state as usize].min(index[target as usize]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent as usize] = low[parent as usize].min(low[state as usize]);
            }
            if low[state as usize] == index[state as usize] {
                loop {
                    let member = stack.pop().expect("the root is on the stack");
                    on_stack[member as usize] = false;
                    id[member as usize] = count;
                    if member == state {
                        break;
                    }
                }
                count += 1;
            }
        }
    }
    Components { id, count }
}

struct FairComponent {
    id: u32,
    /// Its state with the least id.
    first: u32,
}

/// The components that contain a weakly fair cycle.
fn fair_components(
    graph: &Graph,
    components: &Components,
    inside: &dyn Fn(u32) -> bool,
) -> Vec<FairComponent> {
    let count = components.count as usize;
    let mut enabled_everywhere = vec![u64::MAX; count];
    let mut taken_inside = vec![0u64; count];
    let mut has_internal_edge = vec![false; count];
    let mut first = vec![u32::MAX; count];
    for state in 0..graph.states() as u32 {
        if !inside(state) {
            continue;
        }
        let c = components.id[state as usize] as usize;
        first[c] = first[c].min(state);
        enabled_everywhere[c] &= graph.enabled(state);
        for e in graph.edges(state) {
            let target = graph.target[e];
            if inside(target) && components.id[target as usize] as usize == c {
                has_internal_edge[c] = true;
                if graph.task[e] != NO_TASK {
                    taken_inside[c] |= 1 << graph.task[e];
                }
            }
        }
    }
    (0..count)
        .filter(|&c| has_internal_edge[c] && enabled_everywhere[c] & !taken_inside[c] == 0)
        .map(|c| FairComponent {
            id: c as u32,
            first: first[c],
        })
        .collect()
}

/// A fair cycle through `entry` inside the component `member`: for every task enabled somewhere
/// in the component it takes an edge of that task, or visits a state where the task is disabled.
fn fair_cycle(graph: &Graph, entry: u32, member: &dyn Fn(u32) -> bool) -> Vec<u8> {
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

//! Depth-first search: memory grows with the depth of the space rather than its width, at the price
//! of counterexamples that are not the shortest.
//!
//! With a depth bound, a state is explored again when it is reached by a shorter path than before
//! (as SPIN does), so that every state within the bound is found; without one, each state is
//! explored once. The bound stopped the search only if some state was reached solely beyond it.
//!
//! Swarm (`--shard I/N`): N independent searches, each trying the actions of every state in its
//! own order, so that searches bounded by states or time cover different parts of a space too
//! large for one; `lockscope merge` unites their violations and reports each member's coverage.
//! A member that is not bounded explores the whole space, whatever its order.
//!
//! `max_depth` here is the deepest path the search went down, which can exceed the longest
//! shortest path that a breadth-first search reports: depth-first paths are not shortest. This loop and the breadth-first one share the property table and verdicts but
//! not their traversal: merging them would make both harder to read.

use std::time::Instant;

use super::fingerprint::{fingerprint, Fingerprint};
use super::{
    record_first, Checkable, Counterexample, Progress, PropertyTable, SearchOptions, SearchReport,
    Stop,
};

/// Reorder the actions of a state for swarm member `member`: by a hash of (state, seed, member,
/// position), so the order depends only on the state, never on the path to it, and each member
/// goes down different branches first.
fn swarm_order<A>(actions: &mut Vec<A>, state: Fingerprint, seed: u64, member: u64) {
    let mut keyed: Vec<(u64, A)> = actions
        .drain(..)
        .enumerate()
        .map(|(position, action)| (fingerprint(&(state, seed, member, position)), action))
        .collect();
    keyed.sort_by_key(|&(key, _)| key);
    actions.extend(keyed.into_iter().map(|(_, action)| action));
}

/// How often (in transitions) the time limit is checked and progress reported.
const CHECK_EVERY: u64 = 1 << 14;

struct Frame<S, A> {
    state: S,
    actions: Vec<A>,
    next: usize,
}

pub(super) fn search<M: Checkable>(
    model: &M,
    options: &SearchOptions,
    progress: &mut dyn FnMut(Progress),
) -> SearchReport<M::Action> {
    let started = Instant::now();
    let table = PropertyTable::new(model, options.properties);
    let limits = options.limits;
    let mut first: Vec<Option<Vec<M::Action>>> = vec![None; table.safety_count()];
    // Fingerprint → the least depth at which the state was explored.
    let mut seen: hashbrown::HashMap<Fingerprint, u32, rustc_hash::FxBuildHasher> =
        Default::default();
    let mut transitions = 0u64;
    let mut fault_counts = vec![0u64; table.fault_kinds.len()];
    let mut max_depth = 0u32;
    // States reached only past the depth bound (so far).
    let mut pruned: hashbrown::HashSet<Fingerprint, rustc_hash::FxBuildHasher> = Default::default();
    let mut path: Vec<M::Action> = Vec::new();
    let mut stack: Vec<Frame<M::State, M::Action>> = Vec::new();

    let enter = |state: M::State, stack: &mut Vec<Frame<M::State, M::Action>>| {
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        if let Some((member, _)) = options.swarm.filter(|&(member, _)| member > 0) {
            swarm_order(
                &mut actions,
                fingerprint(&state),
                options.random.seed,
                member,
            );
        }
        stack.push(Frame {
            state,
            actions,
            next: 0,
        });
    };

    let mut stop = None;
    for state in model.init_states() {
        if seen.insert(fingerprint(&state), 0).is_some() {
            continue;
        }
        record_first(&mut first, table.violations(model, &state), || path.clone());
        enter(state, &mut stack);
        while let Some(frame) = stack.last_mut() {
            let all_violated = !first.is_empty() && first.iter().all(Option::is_some);
            if options.stop_at_first_violation && first.iter().any(Option::is_some) {
                stop = Some(Stop::FirstViolation);
            } else if all_violated && !options.full_space {
                stop = Some(Stop::AllViolated);
            } else if limits
                .max_states
                .is_some_and(|max| seen.len() as u64 >= max)
            {
                stop = Some(Stop::MaxStates);
            }
            if stop.is_some() {
                break;
            }
            let Some(action) = frame.actions.get(frame.next).cloned() else {
                stack.pop();
                path.pop();
                continue;
            };
            frame.next += 1;
            if let Some(kind) = table.fault_index(model, &action) {
                fault_counts[kind] += 1;
            }
            let Some(next) = model.next_state(&frame.state, action.clone()) else {
                continue;
            };
            transitions += 1;
            if transitions % CHECK_EVERY == 0 {
                progress(Progress {
                    transitions,
                    unique_states: seen.len() as u64,
                    depth: stack.len() as u32,
                    elapsed: started.elapsed(),
                    runs_done: None,
                });
                if let Some(reached) = limits.reached(started) {
                    stop = Some(reached);
                    break;
                }
            }
            let depth = stack.len() as u32;
            let fingerprint = fingerprint(&next);
            let known = seen.get(&fingerprint).copied();
            // Without a depth bound a state is explored once; with one, again when reached sooner.
            if known.is_some_and(|at| limits.max_depth.is_none() || at <= depth) {
                continue;
            }
            if limits.max_depth.is_some_and(|max| depth > max) {
                // Beyond the bound, unless the state turns out to be within it by another path.
                pruned.insert(fingerprint);
                continue;
            }
            seen.insert(fingerprint, depth);
            max_depth = max_depth.max(depth);
            path.push(action);
            if known.is_none() {
                record_first(&mut first, table.violations(model, &next), || path.clone());
            }
            enter(next, &mut stack);
        }
        if stop.is_some() {
            break;
        }
    }
    let beyond_bound = pruned
        .iter()
        .any(|fingerprint| !seen.contains_key(fingerprint));
    let stop = stop.unwrap_or(if beyond_bound {
        Stop::MaxDepth
    } else {
        Stop::Exhausted
    });
    let depth_covered = match stop {
        Stop::Exhausted => max_depth,
        Stop::MaxDepth => limits.max_depth.unwrap_or(max_depth),
        // A depth-first search that stopped early guarantees no depth.
        _ => 0,
    };
    SearchReport {
        symmetry: None,
        reduction: super::Reduction::None,
        swarm: options.swarm,
        strategy: options.strategy,
        stop,
        transitions,
        unique_states: seen.len() as u64,
        max_depth,
        depth_covered,
        elapsed: started.elapsed(),
        threads: 1,
        properties: table.verdicts(
            stop,
            first
                .into_iter()
                .map(|steps| steps.map(Counterexample::path))
                .collect(),
            vec![None; table.liveness_count()],
            "liveness is checked by --strategy bfs only",
        ),
        seed: None,
        runs: None,
        fault_coverage: table.coverage(fault_counts),
    }
}

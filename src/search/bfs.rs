//! Level-synchronous breadth-first search with parallel expansion and a deterministic merge.
//!
//! Each level (all states at one depth) is cut into chunks that worker threads expand; every
//! worker drops successors already in the visited set and checks the properties on the rest. The
//! main thread then merges the chunks in frontier order, so state ids, the first counterexample
//! found for each property and all counts are the same whatever the number of threads. Because a
//! level is finished before the next one starts, the first violating state found is at the least
//! possible depth: counterexamples are shortest.
//!
//! Memory: the visited set keeps 64-bit fingerprints only; each state also keeps its parent's id
//! (4 bytes) and the index of the action that reached it (1 byte). Full states live only in the
//! current and the next level. A counterexample is rebuilt by walking parent ids back to the
//! initial state and re-running the recorded action indices.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::fingerprint::{fingerprint, Fingerprint};
use super::{Checkable, Progress, PropertyTable, SearchOptions, SearchReport, Stop};

type FingerprintSet = hashbrown::HashSet<Fingerprint, rustc_hash::FxBuildHasher>;

/// States per unit of work handed to a thread.
const CHUNK_STATES: usize = 1024;
/// Chunks expanded per merge, per thread: bounds the memory held by not-yet-merged successors.
const CHUNKS_PER_BATCH_PER_THREAD: usize = 16;
/// Marks an initial state's parent.
const NO_PARENT: u32 = u32::MAX;

/// A successor not yet known when its chunk was expanded.
struct Candidate<S> {
    fingerprint: Fingerprint,
    parent: u32,
    action: u8,
    state: S,
    violations: u64,
}

struct ChunkResult<S> {
    transitions: u64,
    candidates: Vec<Candidate<S>>,
}

/// Everything kept per visited state.
#[derive(Default)]
struct Visited {
    seen: FingerprintSet,
    /// The parent's id, or `NO_PARENT` for an initial state.
    parent: Vec<u32>,
    /// The index of the action (among the parent's enabled actions) that reached the state; for an
    /// initial state, its index among the initial states.
    action: Vec<u8>,
}

impl Visited {
    fn push(&mut self, parent: u32, action: u8) -> u32 {
        let id = u32::try_from(self.parent.len()).expect("at most 2^32 states");
        self.parent.push(parent);
        self.action.push(action);
        id
    }

    fn len(&self) -> u64 {
        self.parent.len() as u64
    }
}

/// Record `id` as the first counterexample of every property in `violations` that has none yet.
fn record(first: &mut [Option<(u32, u32)>], violations: u64, id: u32, depth: u32) {
    for (bit, slot) in first.iter_mut().enumerate() {
        if violations & (1 << bit) != 0 && slot.is_none() {
            *slot = Some((id, depth));
        }
    }
}

pub(super) fn search<M: Checkable>(
    model: &M,
    options: &SearchOptions,
    progress: &mut dyn FnMut(Progress),
) -> SearchReport<M::Action> {
    let started = Instant::now();
    let table = PropertyTable::new(model);
    let limits = options.limits;
    let threads = options.threads.max(1);
    let mut first: Vec<Option<(u32, u32)>> = vec![None; table.safety_count()];
    let mut visited = Visited::default();
    let mut transitions = 0u64;
    let mut frontier: Vec<(u32, M::State)> = Vec::new();
    for (i, state) in model.init_states().into_iter().enumerate() {
        if visited.seen.insert(fingerprint(&state)) {
            let id = visited.push(
                NO_PARENT,
                u8::try_from(i).expect("at most 256 initial states"),
            );
            record(&mut first, table.violations(model, &state), id, 0);
            frontier.push((id, state));
        }
    }

    let timed_out = |started: &Instant| {
        limits
            .time_limit
            .is_some_and(|limit| started.elapsed() >= limit)
    };
    let mut depth = 0u32;
    let mut max_depth = 0u32;
    let (stop, depth_covered) = loop {
        let any_violated = first.iter().any(Option::is_some);
        let all_violated = !first.is_empty() && first.iter().all(Option::is_some);
        if options.stop_at_first_violation && any_violated {
            break (Stop::FirstViolation, depth);
        }
        if all_violated && !options.full_space {
            break (Stop::AllViolated, depth);
        }
        if frontier.is_empty() {
            break (Stop::Exhausted, max_depth);
        }
        if timed_out(&started) {
            break (Stop::TimeLimit, depth);
        }
        let probe_only = limits.max_depth == Some(depth);
        let mut next: Vec<(u32, M::State)> = Vec::new();
        let mut stopped = None;
        let mut beyond_bound = false;
        for batch in frontier.chunks(CHUNK_STATES * CHUNKS_PER_BATCH_PER_THREAD * threads) {
            for chunk in expand_batch(model, &table, batch, &visited.seen, threads) {
                transitions += chunk.transitions;
                if probe_only {
                    beyond_bound |= !chunk.candidates.is_empty();
                    continue;
                }
                for candidate in chunk.candidates {
                    if stopped.is_some() || !visited.seen.insert(candidate.fingerprint) {
                        continue;
                    }
                    let id = visited.push(candidate.parent, candidate.action);
                    record(&mut first, candidate.violations, id, depth + 1);
                    next.push((id, candidate.state));
                    if limits.max_states.is_some_and(|max| visited.len() >= max) {
                        stopped = Some(Stop::MaxStates);
                    }
                }
            }
            progress(Progress {
                transitions,
                unique_states: visited.len(),
                depth,
                elapsed: started.elapsed(),
            });
            if stopped.is_none() && timed_out(&started) {
                stopped = Some(Stop::TimeLimit);
            }
            if stopped.is_some() {
                break;
            }
        }
        if !next.is_empty() {
            max_depth = depth + 1;
        }
        if probe_only {
            break (
                if beyond_bound {
                    Stop::MaxDepth
                } else {
                    Stop::Exhausted
                },
                depth,
            );
        }
        if let Some(stop) = stopped {
            break (stop, depth);
        }
        frontier = next;
        depth += 1;
    };
    let counterexamples = first
        .iter()
        .map(|slot| slot.map(|(id, _)| rebuild_trace(model, &visited, id)))
        .collect();
    SearchReport {
        strategy: options.strategy,
        stop,
        transitions,
        unique_states: visited.len(),
        max_depth,
        depth_covered,
        elapsed: started.elapsed(),
        threads,
        properties: table.verdicts(stop, counterexamples),
    }
}

/// Expand a batch of frontier states, in parallel when there are several chunks. The results come
/// back in frontier order.
fn expand_batch<M: Checkable>(
    model: &M,
    table: &PropertyTable<M>,
    batch: &[(u32, M::State)],
    seen: &FingerprintSet,
    threads: usize,
) -> Vec<ChunkResult<M::State>> {
    let chunks: Vec<&[(u32, M::State)]> = batch.chunks(CHUNK_STATES).collect();
    if threads == 1 || chunks.len() == 1 {
        return chunks
            .into_iter()
            .map(|chunk| expand_chunk(model, table, chunk, seen))
            .collect();
    }
    let next_chunk = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<ChunkResult<M::State>>>> =
        chunks.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(chunks.len()) {
            scope.spawn(|| loop {
                let i = next_chunk.fetch_add(1, Ordering::Relaxed);
                let Some(chunk) = chunks.get(i) else { break };
                let result = expand_chunk(model, table, chunk, seen);
                *results[i]
                    .lock()
                    .expect("no worker panics while holding a slot") = Some(result);
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .expect("workers finished")
                .expect("every chunk was expanded")
        })
        .collect()
}

fn expand_chunk<M: Checkable>(
    model: &M,
    table: &PropertyTable<M>,
    chunk: &[(u32, M::State)],
    seen: &FingerprintSet,
) -> ChunkResult<M::State> {
    let mut result = ChunkResult {
        transitions: 0,
        candidates: Vec::new(),
    };
    let mut actions = Vec::new();
    for (id, state) in chunk {
        model.actions(state, &mut actions);
        assert!(
            actions.len() <= 256,
            "at most 256 actions per state (action indices are one byte)"
        );
        for (index, action) in actions.drain(..).enumerate() {
            let Some(next) = model.next_state(state, action) else {
                continue;
            };
            result.transitions += 1;
            let fingerprint = fingerprint(&next);
            if seen.contains(&fingerprint) {
                continue;
            }
            let violations = table.violations(model, &next);
            result.candidates.push(Candidate {
                fingerprint,
                parent: *id,
                action: index as u8,
                state: next,
                violations,
            });
        }
    }
    result
}

/// Re-run the path to state `id` from its initial state, recovering the actions from their indices.
fn rebuild_trace<M: Checkable>(model: &M, visited: &Visited, id: u32) -> Vec<M::Action> {
    let mut indices = Vec::new();
    let mut at = id as usize;
    while visited.parent[at] != NO_PARENT {
        indices.push(visited.action[at]);
        at = visited.parent[at] as usize;
    }
    let mut state = model
        .init_states()
        .swap_remove(usize::from(visited.action[at]));
    let mut trace = Vec::with_capacity(indices.len());
    let mut actions = Vec::new();
    for &index in indices.iter().rev() {
        actions.clear();
        model.actions(&state, &mut actions);
        let action = actions.swap_remove(usize::from(index));
        state = model
            .next_state(&state, action.clone())
            .expect("a recorded step is enabled");
        trace.push(action);
    }
    trace
}

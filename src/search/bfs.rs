//! Level-synchronous breadth-first search with parallel expansion and a deterministic merge.
//!
//! Each level (all states at one depth) is cut into chunks that worker threads expand; every
//! worker drops successors already in the visited set and checks the properties on the rest. The
//! main thread then merges the chunks in frontier order, so state ids, the first counterexample
//! found for each property and all counts are the same whatever the number of threads. Because a
//! level is finished before the next one starts, the first violating state found is at the least
//! possible depth: counterexamples are shortest.
//!
//! Memory: the visited set ([`super::seen`]) keeps 64-bit fingerprints only (and, when the graph
//! is recorded, each state's id); each state also keeps its parent's id and the index of the
//! action that reached it, in about a byte ([`super::parents`]). States live only in the current
//! and the next level, packed and compressed ([`super::frontier`]). A counterexample is rebuilt by walking parent ids back to the initial
//! state and re-running the recorded action indices.
//!
//! A successor reached again from the same chunk is dropped in the worker (checked and packed
//! once); one reached again from another chunk of the level is dropped at the merge. Without a
//! recorded graph the workers enter the new successors into the visited set themselves, and the
//! merge settles which chunk's copy comes first ([`super::seen`]'s claims). Such a merge needs
//! nothing of the visited set, so the main thread makes it while the other workers start on the
//! next batch, then joins them: a level's batches are still merged one after the other, in order.
//!
//! When the model has liveness properties the search also records the whole graph (every edge
//! with its action index and fairness task) and each state's pending obligations, so that
//! [`super::liveness`] can look for fair cycles once the space is exhausted. It then does not stop
//! early when every safety property is violated: liveness still needs the complete graph.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use lockscope_models::Task;

use super::fingerprint::Fingerprint;
use super::frontier::{compress, unpack, Fingerprinted, Frontier, Kept};
use super::liveness::{self, Graph};
use super::parents::Parents;
use super::reduction::Ample;
use super::seen::{as_stored, Claim, Claims, Entered, FingerprintSet, Resolver, Seen, Share};
use super::{
    record_first, Checkable, Counterexample, Progress, PropertyTable, Reduction, SearchLimits,
    SearchOptions, SearchReport, Stop,
};

/// Pending obligations of each liveness property, inline (a model has at most
/// `MAX_LIVENESS_PROPERTIES`).
type Pending = [u64; MAX_LIVENESS_PROPERTIES];
const MAX_LIVENESS_PROPERTIES: usize = 4;

/// New states a batch is expected to make per state expanded, at most: the room the visited set
/// keeps for a batch's claims (a claim beyond it is settled in the merge instead).
const EXPECTED_NEW_PER_STATE: usize = 4;

/// The most states in a frontier block, the unit of work handed to a thread: a worker cuts the
/// successors it makes into blocks of this many (the merge may drop some as duplicates).
const CHUNK_STATES: usize = 1024;
/// Chunks expanded per merge, per thread: bounds the memory held by not-yet-merged successors
/// (at most two batches' worth, since a batch's merge overlaps the next batch's expansion).
const CHUNKS_PER_BATCH_PER_THREAD: usize = 16;

#[cfg(test)]
thread_local! {
    /// Test settings, for the thread that runs the search: chunks per batch and thread (small,
    /// so that levels take several batches), and whether chunks are handed out last first.
    static TEST_BATCHES: std::cell::Cell<(usize, bool)> =
        const { std::cell::Cell::new((CHUNKS_PER_BATCH_PER_THREAD, false)) };
}

fn chunks_per_batch_per_thread() -> usize {
    #[cfg(test)]
    return TEST_BATCHES.get().0;
    #[cfg(not(test))]
    CHUNKS_PER_BATCH_PER_THREAD
}

fn hand_out_backwards() -> bool {
    #[cfg(test)]
    return TEST_BATCHES.get().1;
    #[cfg(not(test))]
    false
}
/// Marks an initial state's parent.
const NO_PARENT: u32 = u32::MAX;

/// A successor not yet known when its chunk was expanded. Small: the workers write, and the
/// merge reads, one for every new state and every state reached again from another chunk.
struct Candidate {
    fingerprint: Fingerprint,
    violations: u64,
    parent: u32,
    /// The chunk's block holding the packed state, and its place among the block's states.
    block: u32,
    index: u16,
    action: u8,
    task: Option<Task>,
    /// What the worker's claim found (always `Deferred` when it only looked).
    claim: Claim,
}

/// One successor, in the order the parent's actions are enabled.
enum Successor {
    /// Already visited when the chunk was expanded; kept only when the graph is recorded.
    Known {
        parent: u32,
        target: u32,
        action: u8,
        task: Option<Task>,
    },
    New(Candidate),
    /// Found again in the same chunk after a `New` one; kept only when the graph is recorded (the
    /// merge names the first one's id).
    Repeat {
        parent: u32,
        fingerprint: Fingerprint,
        action: u8,
        task: Option<Task>,
    },
}

struct ChunkResult {
    transitions: u64,
    /// Transitions per fault kind (indexed like `PropertyTable::fault_kinds`).
    faults: Vec<u64>,
    successors: Vec<Successor>,
    /// The new successors' states, packed and compressed, [`CHUNK_STATES`] per block (so that
    /// a block of the next level is one unit of work).
    blocks: Vec<Vec<u8>>,
    /// With a recorded graph: the pending obligations of each candidate, in order.
    pending: Vec<Pending>,
    /// The fingerprints of the candidates whose claim was contested or deferred.
    disputed: Vec<Fingerprint>,
    /// Some claim was deferred.
    deferred: bool,
}

/// Everything kept per visited state besides its fingerprint.
struct Visited {
    /// The parent's id (`NO_PARENT` for an initial state) and the index of the action (among the
    /// parent's enabled actions) that reached the state; for an initial state, its index among the
    /// initial states.
    parents: Parents,
    /// With a recorded graph: pending obligations, per liveness property, per state.
    pending: Vec<Vec<u64>>,
    /// The states are class representatives (symmetry reduction).
    symmetry: bool,
}

impl Visited {
    fn push(&mut self, parent: u32, action: u8, pending: &[u64]) -> u32 {
        let id = self.next_id();
        self.parents.push(parent, action);
        for (property, &bits) in self.pending.iter_mut().zip(pending) {
            property.push(bits);
        }
        id
    }

    fn len(&self) -> u64 {
        self.parents.len() as u64
    }

    /// The id the next state will get.
    fn next_id(&self) -> u32 {
        u32::try_from(self.parents.len()).expect("at most 2^32 states")
    }

    /// How state `id` was reached: the index of its initial state, and the action indices from
    /// there.
    fn path(&self, id: u32) -> (u8, Vec<u8>) {
        let mut indices = Vec::new();
        let (mut parent, mut action) = self.parents.get(id);
        while parent != NO_PARENT {
            indices.push(action);
            (parent, action) = self.parents.get(parent);
        }
        indices.reverse();
        (action, indices)
    }
}

fn pending_of<M: Checkable>(table: &PropertyTable<M>, model: &M, state: &M::State) -> Pending {
    let mut pending = Pending::default();
    for (slot, bits) in pending.iter_mut().zip(table.pending(model, state)) {
        *slot = bits;
    }
    pending
}

pub(super) fn search<M: Checkable>(
    model: &M,
    options: &SearchOptions,
    progress: &mut dyn FnMut(Progress),
) -> SearchReport<M::Action> {
    let started = Instant::now();
    let table = PropertyTable::new(model, options.properties);
    let limits = options.limits;
    let threads = options.threads.max(1);
    let symmetry = options.symmetry.then(|| {
        model
            .symmetry()
            .expect("symmetry reduction is asked only of models that offer it")
    });
    let record_graph = options.check_liveness
        && table.liveness_count() > 0
        && !options.stop_at_first_violation
        && symmetry.is_none()
        && options.reduction == Reduction::None;
    let reduced = options.reduction == Reduction::PartialOrder;
    assert!(
        !reduced || (symmetry.is_none() && model.partial_order()),
        "partial-order reduction is asked only of models that offer it, without symmetry"
    );
    let reduced_properties = table.safety_names();
    // A reduced search's cycle proviso asks for the ids of visited states.
    let mut seen = Seen::new(record_graph || reduced);
    let mut tally = Tally {
        visited: Visited {
            pending: vec![
                Vec::new();
                if record_graph {
                    table.liveness_count()
                } else {
                    0
                }
            ],
            symmetry: symmetry.is_some(),
            parents: Parents::default(),
        },
        first: vec![None; table.safety_count()],
        graph: Graph::default(),
        transitions: 0,
        fault_counts: vec![0; table.fault_kinds.len()],
        max_states: limits.max_states,
    };
    let mut frontier = Frontier::default();
    let mut packed = Vec::new();
    let mut scratch = Vec::new();
    let mut initial = Kept::default();
    for (i, state) in model.init_states().into_iter().enumerate() {
        // Under symmetry reduction, the search stores class representatives.
        let state = if symmetry.is_some() {
            model.representative(&state)
        } else {
            state
        };
        let visited = &mut tally.visited;
        let id = visited.next_id();
        let fingerprinted = Fingerprinted::of(&state, &mut scratch);
        if seen.insert(fingerprinted.fingerprint, id) {
            let pending = if record_graph {
                pending_of(&table, model, &state)
            } else {
                Pending::default()
            };
            visited.push(
                NO_PARENT,
                u8::try_from(i).expect("at most 256 initial states"),
                &pending,
            );
            record_first(&mut tally.first, table.violations(model, &state), || id);
            initial.keep(i as u32, id);
        }
        // Packed even when a repeat: the block marks the kept states by their place.
        fingerprinted.keep(&state, &scratch, &mut packed);
        scratch.clear();
    }
    frontier.push_block(compress(&packed, &mut Vec::new()), initial);

    let mut pace = Pace {
        started,
        limits,
        progress,
    };
    let mut depth = 0u32;
    let mut max_depth = 0u32;
    let (stop, depth_covered) = loop {
        let any_violated = tally.first.iter().any(Option::is_some);
        let all_violated = !tally.first.is_empty() && tally.first.iter().all(Option::is_some);
        if options.stop_at_first_violation && any_violated {
            break (Stop::FirstViolation, depth);
        }
        if all_violated && !options.full_space && !record_graph {
            break (Stop::AllViolated, depth);
        }
        if frontier.is_empty() {
            break (Stop::Exhausted, max_depth);
        }
        if let Some(stop) = pace.limits.reached(pace.started) {
            break (stop, depth);
        }
        let probe_only = limits.max_depth == Some(depth);
        // Without a graph the visited set keeps no ids, and the workers enter the new successors
        // themselves ([`super::seen`]'s claims); the merge settles which are new. With a graph
        // the merge enters them, naming each with its id.
        let claiming = !record_graph && !reduced && !probe_only;
        // States with smaller ids are at this depth or less: the whole level is merged.
        let deeper_from = tally.visited.next_id();
        let mut level = Level::default();
        let batch_size = CHUNK_STATES * chunks_per_batch_per_thread() * threads;
        for (batch, batch_states) in batches(&frontier, batch_size) {
            // As many shares of the room as workers will run.
            let workers = threads.min(batch.len());
            let visits = if claiming {
                Visits::Claim(seen.claims(workers, batch_states * EXPECTED_NEW_PER_STATE))
            } else {
                Visits::Look(&seen)
            };
            let expansion = Expansion {
                model,
                table: &table,
                visits,
                record_graph,
                symmetry: symmetry.is_some(),
                reduction: reduced.then(|| Ample::new(&reduced_properties, deeper_from)),
            };
            let merge_waiting = || tally.merge_waiting(&mut level, &mut pace, depth);
            let (mut chunks, entered) =
                expand_batch(&expansion, &frontier, batch, threads, merge_waiting);
            drop(expansion);
            if level.stopped.is_some() {
                // The previous batch's merge stopped the search: this batch, expanded while that
                // merge ran, is not counted. A time limit therefore overshoots by one batch's
                // expansion (tens of milliseconds), and a stop reports the same counts as it would
                // without the overlap.
                break;
            }
            if claiming {
                seen.count(&entered);
                settle_deferred(&mut chunks, &mut seen);
                let resolver = resolver(&chunks);
                level.waiting = Some((chunks, resolver));
                continue;
            }
            let mut entering = if probe_only {
                Entering::Probe
            } else if reduced {
                Entering::Numbered(&mut seen)
            } else {
                Entering::Graph(&mut seen)
            };
            tally.merge(chunks, &mut entering, &mut level);
            pace.merged(&tally, depth, &mut level);
            if level.stopped.is_some() {
                break;
            }
        }
        if level.stopped.is_none() {
            tally.merge_waiting(&mut level, &mut pace, depth);
        }
        let Level {
            next,
            stopped,
            beyond_bound,
            ..
        } = level;
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
    drop(frontier);
    let Tally {
        visited,
        first,
        mut graph,
        transitions,
        fault_counts,
        ..
    } = tally;
    let safety = first
        .iter()
        .map(|slot| slot.map(|id| Counterexample::path(rebuild_trace(model, &visited, id, &[]))))
        .collect();
    let liveness = if record_graph && stop == Stop::Exhausted {
        graph.finish(visited.parents.len());
        visited
            .pending
            .iter()
            .zip(table.liveness_names())
            .map(|(pending, property)| {
                // Asked only of the states a lasso could end in: each is rebuilt by replay.
                let mut blocked =
                    |id: u32| model.blocked_by_bound(property, &rebuild_state(model, &visited, id));
                let lasso =
                    liveness::find_violation(&graph, pending, model.strong_tasks(), &mut blocked);
                Some(lasso.map(|lasso| {
                    let steps = rebuild_trace(model, &visited, lasso.entry, &lasso.cycle);
                    let stem = steps.len() - lasso.cycle.len();
                    Counterexample {
                        bound: lasso.bound,
                        ..Counterexample::lasso(steps, stem)
                    }
                }))
            })
            .collect()
    } else {
        vec![None; table.liveness_count()]
    };
    let liveness_reason = if !options.check_liveness {
        "liveness checking was turned off".to_string()
    } else if symmetry.is_some() {
        "liveness is not checked under symmetry reduction".to_string()
    } else if reduced {
        "liveness is not checked under partial-order reduction".to_string()
    } else if stop != Stop::Exhausted {
        format!("bounded: {}", stop.bound_name().unwrap_or("?"))
    } else {
        "liveness is checked only by a complete search".to_string()
    };
    SearchReport {
        strategy: options.strategy,
        stop,
        transitions,
        unique_states: visited.len(),
        max_depth,
        depth_covered,
        elapsed: started.elapsed(),
        threads,
        properties: table.verdicts(stop, safety, liveness, &liveness_reason),
        seed: None,
        runs: None,
        fault_coverage: table.coverage(fault_counts),
        symmetry,
        reduction: options.reduction,
        swarm: None,
    }
}

/// What expanding a frontier state needs, shared by the worker threads.
struct Expansion<'a, M: Checkable> {
    model: &'a M,
    table: &'a PropertyTable<M>,
    /// How the visited set is asked (and, with claims, told) about successors.
    visits: Visits<'a>,
    record_graph: bool,
    /// Replace each successor by its class representative.
    symmetry: bool,
    /// Take only a persistent set's steps where that hides no violation (partial-order reduction).
    reduction: Option<Ample<'a>>,
}

/// The frontier's blocks cut into batches of about `size` states, each with its number of states.
fn batches(frontier: &Frontier, size: usize) -> Vec<(std::ops::Range<usize>, usize)> {
    let mut batches = Vec::new();
    let mut end = 0;
    while end < frontier.blocks() {
        let start = end;
        let mut states = 0;
        while end < frontier.blocks() && states < size {
            states += frontier.block_len(end);
            end += 1;
        }
        batches.push((start..end, states));
    }
    batches
}

/// Make the claims the workers deferred ([`Seen::claim_late`]), in frontier order, before the
/// merge settles them with the others.
fn settle_deferred(chunks: &mut [ChunkResult], seen: &mut Seen) {
    if !chunks.iter().any(|chunk| chunk.deferred) {
        return;
    }
    let won: FingerprintSet = chunks
        .iter()
        .flat_map(|chunk| &chunk.successors)
        .filter_map(|successor| match successor {
            Successor::New(candidate) if candidate.claim == Claim::Won => {
                Some(candidate.fingerprint)
            }
            _ => None,
        })
        .collect();
    for successor in chunks.iter_mut().flat_map(|chunk| &mut chunk.successors) {
        let Successor::New(candidate) = successor else {
            continue;
        };
        if candidate.claim != Claim::Deferred {
            continue;
        }
        candidate.claim = seen.claim_late(candidate.fingerprint, &won);
    }
}

/// What settles which of a batch's (settled) claims are new.
fn resolver(chunks: &[ChunkResult]) -> Resolver {
    let disputed: Vec<&[Fingerprint]> = chunks.iter().map(|chunk| &chunk.disputed[..]).collect();
    Resolver::new(&disputed)
}

/// What the merges of a search build up, besides the visited set.
struct Tally {
    visited: Visited,
    /// The first state found violating each safety property.
    first: Vec<Option<u32>>,
    graph: Graph,
    transitions: u64,
    /// Transitions per fault kind (indexed like `PropertyTable::fault_kinds`).
    fault_counts: Vec<u64>,
    max_states: Option<u64>,
}

/// What the merges of one level build up.
#[derive(Default)]
struct Level {
    /// A batch whose workers made claims, waiting for its merge. Such a merge needs nothing of
    /// the visited set, so the main thread makes it while the other workers start on the next
    /// batch, and joins them after ([`expand_batch`]'s `first`): one core no longer idles
    /// through every merge.
    waiting: Option<(Vec<ChunkResult>, Resolver)>,
    next: Frontier,
    stopped: Option<Stop>,
    /// With the depth bound reached: some successor is new.
    beyond_bound: bool,
}

/// What a search reports as it goes, and when it must stop.
struct Pace<'a> {
    started: Instant,
    limits: SearchLimits,
    progress: &'a mut dyn FnMut(Progress),
}

impl Pace<'_> {
    /// After each merge: report progress, and stop the level at the time limit, the memory bound
    /// or an interrupt.
    fn merged(&mut self, tally: &Tally, depth: u32, level: &mut Level) {
        (self.progress)(Progress {
            transitions: tally.transitions,
            unique_states: tally.visited.len(),
            depth,
            elapsed: self.started.elapsed(),
            runs_done: None,
        });
        if level.stopped.is_none() {
            level.stopped = self.limits.reached(self.started);
        }
    }
}

/// How the merge learns which candidates are new.
enum Entering<'a> {
    /// From the workers' claims, settled in frontier order.
    Claimed(Resolver),
    /// By entering them, with their ids, into the visited set (a recorded graph).
    Graph(&'a mut Seen),
    /// The same without a graph: a reduced search's cycle proviso asks for the ids.
    Numbered(&'a mut Seen),
    /// Not at all: the depth bound is reached, the merge only looks for a new successor.
    Probe,
}

impl Tally {
    /// Merge the batch waiting for its merge, if there is one, and report progress.
    fn merge_waiting(&mut self, level: &mut Level, pace: &mut Pace<'_>, depth: u32) {
        if let Some((chunks, resolver)) = level.waiting.take() {
            self.merge(chunks, &mut Entering::Claimed(resolver), level);
            pace.merged(self, depth, level);
        }
    }

    /// Merge a batch's chunks in frontier order: number the new states, keep them for the next
    /// level and record the first violations (and the graph's edges).
    fn merge(&mut self, chunks: Vec<ChunkResult>, entering: &mut Entering<'_>, level: &mut Level) {
        for chunk in chunks {
            // Past a stop the counts would depend on how many chunks a batch has (on the
            // number of threads).
            if level.stopped.is_some() {
                break;
            }
            self.transitions += chunk.transitions;
            for (total, count) in self.fault_counts.iter_mut().zip(&chunk.faults) {
                *total += count;
            }
            if matches!(entering, Entering::Probe) {
                level.beyond_bound |= chunk
                    .successors
                    .iter()
                    .any(|s| matches!(s, Successor::New(_)));
                continue;
            }
            let mut kept = vec![Kept::default(); chunk.blocks.len()];
            let mut pending = chunk.pending.iter();
            for successor in chunk.successors {
                if level.stopped.is_some() {
                    break;
                }
                let candidate = match successor {
                    Successor::Known {
                        parent,
                        target,
                        action,
                        task,
                    } => {
                        self.graph.push_edge(parent, target, action, task);
                        continue;
                    }
                    Successor::Repeat {
                        parent,
                        fingerprint,
                        action,
                        task,
                    } => {
                        let Entering::Graph(seen) = entering else {
                            unreachable!("repeats are kept only for a recorded graph")
                        };
                        let target = seen
                            .id(fingerprint)
                            .expect("a repeat follows its first occurrence, kept with its id");
                        self.graph.push_edge(parent, target, action, task);
                        continue;
                    }
                    Successor::New(candidate) => candidate,
                };
                let fresh = self.visited.next_id();
                let is_new = match entering {
                    Entering::Claimed(resolver) => {
                        resolver.is_new(candidate.fingerprint, candidate.claim)
                    }
                    Entering::Graph(seen) | Entering::Numbered(seen) => {
                        seen.insert(candidate.fingerprint, fresh)
                    }
                    Entering::Probe => unreachable!("a probe merges nothing"),
                };
                let pending = match entering {
                    Entering::Graph(_) => {
                        pending.next().expect("pending obligations per candidate")
                    }
                    _ => &Pending::default(),
                };
                if is_new {
                    self.visited
                        .push(candidate.parent, candidate.action, pending);
                    record_first(&mut self.first, candidate.violations, || fresh);
                    kept[candidate.block as usize].keep(u32::from(candidate.index), fresh);
                    if self.max_states.is_some_and(|max| self.visited.len() >= max) {
                        level.stopped = Some(Stop::MaxStates);
                    }
                }
                if let Entering::Graph(seen) = entering {
                    // Found twice in this level: the edge goes to the first one's id.
                    let id = if is_new {
                        fresh
                    } else {
                        seen.id(candidate.fingerprint)
                            .expect("a recorded graph keeps ids")
                    };
                    self.graph
                        .push_edge(candidate.parent, id, candidate.action, candidate.task);
                }
            }
            for (block, states) in chunk.blocks.into_iter().zip(kept) {
                level.next.push_block(block, states);
            }
        }
    }
}

/// How a worker asks the visited set about a successor.
enum Visits<'a> {
    /// Only looks: the merge enters new states (to name them by id, or not at all).
    Look(&'a Seen),
    /// Enters the new ones itself.
    Claim(Claims<'a>),
}

impl Visits<'_> {
    /// A worker's share of the claims, if it makes claims.
    fn share(&self) -> Option<Share> {
        match self {
            Visits::Look(_) => None,
            Visits::Claim(claims) => Some(claims.share()),
        }
    }

    /// The id of a visited state, where the visited set keeps ids (a recorded graph, a reduced
    /// search).
    fn id(&self, fingerprint: Fingerprint) -> Option<u32> {
        match self {
            Visits::Look(seen) => seen.id(fingerprint),
            Visits::Claim(_) => None,
        }
    }

    fn prefetch(&self, fingerprint: Fingerprint) {
        match self {
            Visits::Look(seen) => seen.prefetch(fingerprint),
            Visits::Claim(claims) => claims.prefetch(fingerprint),
        }
    }

    /// End a worker's claims (see [`Claims::unmark`]).
    fn unmark(&self, share: Share) -> Entered {
        match self {
            Visits::Look(_) => unreachable!("only claims are unmarked"),
            Visits::Claim(claims) => claims.unmark(share),
        }
    }

    fn claim(&self, fingerprint: Fingerprint, share: Option<&mut Share>) -> Claim {
        match (self, share) {
            (Visits::Claim(claims), Some(share)) => claims.claim(fingerprint, share),
            (Visits::Look(seen), _) if seen.contains(fingerprint) => Claim::Visited,
            _ => Claim::Deferred,
        }
    }
}

/// Expand the frontier blocks `batch` (one chunk each), in parallel when there are several.
/// The calling thread is one of the workers: it first does `first` (the previous batch's merge),
/// while the others start. The results come back in frontier order, with what each worker entered
/// into the visited set.
fn expand_batch<M: Checkable>(
    expansion: &Expansion<'_, M>,
    frontier: &Frontier,
    batch: std::ops::Range<usize>,
    threads: usize,
    first: impl FnOnce(),
) -> (Vec<ChunkResult>, Vec<Entered>) {
    let chunks: Vec<usize> = batch.collect();
    // The order chunks are handed out in: frontier order (tests turn it around, so that later
    // chunks win the claims that earlier ones must get).
    let order: Vec<usize> = if hand_out_backwards() {
        (0..chunks.len()).rev().collect()
    } else {
        (0..chunks.len()).collect()
    };
    let results: Vec<Mutex<Option<ChunkResult>>> =
        chunks.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut share = expansion.visits.share();
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let result = expand_chunk(expansion, frontier, chunks[i], share.as_mut());
            *results[i]
                .lock()
                .expect("no worker panics while holding a slot") = Some(result);
        }
        share
    };
    let shares: Vec<Share> = if threads == 1 || chunks.len() == 1 {
        first();
        work().into_iter().collect()
    } else {
        std::thread::scope(|scope| {
            let others: Vec<_> = (1..threads.min(chunks.len()))
                .map(|_| scope.spawn(work))
                .collect();
            first();
            let own = work();
            // A worker's panic is passed on here, before anything waits for it.
            others
                .into_iter()
                .filter_map(|worker| worker.join().expect("a worker does not panic"))
                .chain(own)
                .collect()
        })
    };
    // Only now, with every worker done claiming, may the marks go: in parallel, one worker's
    // claims each.
    let entered = if shares.len() <= 1 {
        shares
            .into_iter()
            .map(|share| expansion.visits.unmark(share))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let unmarking: Vec<_> = shares
                .into_iter()
                .map(|share| scope.spawn(|| expansion.visits.unmark(share)))
                .collect();
            unmarking
                .into_iter()
                .map(|worker| worker.join().expect("unmarking does not panic"))
                .collect()
        })
    };
    let results = results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .expect("workers finished")
                .expect("every chunk was expanded")
        })
        .collect();
    (results, entered)
}

/// One parent's successors as they are made: by action index, the states (under symmetry
/// reduction, their representatives), and, in the order they were made, those that exist with
/// their fingerprints and where their packed bytes lie in `scratch`.
struct ParentSteps<M: Checkable> {
    successors: Vec<Option<M::State>>,
    probes: Vec<(u8, Fingerprinted)>,
    scratch: Vec<u8>,
}

impl<M: Checkable> Default for ParentSteps<M> {
    fn default() -> Self {
        ParentSteps {
            successors: Vec::new(),
            probes: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

impl<M: Checkable> ParentSteps<M> {
    /// Empty, with a slot for each of `actions` successors.
    fn clear(&mut self, actions: usize) {
        self.probes.clear();
        self.scratch.clear();
        self.successors.clear();
        // Each `None` made in place: cloning one costs a state's worth of copying when the
        // state's `Clone` is not a plain copy (a model generic over one of its parts).
        self.successors.resize_with(actions, || None);
    }

    /// Make the successor of action `index` in its slot (unless a reduced search made it there
    /// to judge a persistent set), fingerprint it, and start loading its slot in the visited set.
    #[inline(always)]
    fn probe(
        &mut self,
        expansion: &Expansion<'_, M>,
        state: &M::State,
        actions: &[M::Action],
        index: usize,
        made_already: bool,
        result: &mut ChunkResult,
    ) {
        let Expansion {
            model,
            table,
            ref visits,
            symmetry,
            ..
        } = *expansion;
        let action = &actions[index];
        if let Some(kind) = table.fault_index(model, action) {
            result.faults[kind] += 1;
        }
        // Made where it is kept, not moved there: a lock state is a kilobyte.
        let successor = &mut self.successors[index];
        if !made_already {
            model.next_state_into(state, action.clone(), successor);
        }
        let Some(next) = successor.as_ref() else {
            return;
        };
        result.transitions += 1;
        if symmetry {
            *successor = Some(model.representative(next));
        }
        let next = successor.as_ref().expect("made above");
        let mut fingerprinted = Fingerprinted::of(next, &mut self.scratch);
        fingerprinted.fingerprint = as_stored(fingerprinted.fingerprint);
        visits.prefetch(fingerprinted.fingerprint);
        self.probes.push((index as u8, fingerprinted));
    }
}

fn expand_chunk<M: Checkable>(
    expansion: &Expansion<'_, M>,
    frontier: &Frontier,
    block: usize,
    mut share: Option<&mut Share>,
) -> ChunkResult {
    let Expansion {
        model,
        table,
        ref visits,
        record_graph,
        ref reduction,
        ..
    } = *expansion;
    let mut result = ChunkResult {
        transitions: 0,
        faults: vec![0; table.fault_kinds.len()],
        successors: Vec::with_capacity(frontier.block_len(block) * 2),
        blocks: Vec::new(),
        pending: Vec::new(),
        disputed: Vec::new(),
        deferred: false,
    };
    let mut buffer = Vec::new();
    // Room for a block of typical states from the start, rather than growing to it every chunk.
    let mut made_bytes = Vec::with_capacity(CHUNK_STATES * 64);
    let mut compressed = Vec::new();
    let mut made_states = 0;
    let mut actions = Vec::new();
    let mut steps = ParentSteps::<M>::default();
    // A reduced search: which slots of `steps.successors` were made to judge persistent sets,
    // and the persistent set taken (empty: every step).
    let mut made_slots: Vec<bool> = Vec::new();
    let mut ample_set: Vec<usize> = Vec::new();
    // Successors already made from this chunk: a state reached from several parents is checked
    // and packed once.
    let mut made = FingerprintSet::with_capacity_and_hasher(
        frontier.block_len(block) * 4,
        rustc_hash::FxBuildHasher,
    );
    for (parent, packed) in frontier.block(block, &mut buffer) {
        let state: M::State = unpack(packed);
        actions.clear();
        model.actions(&state, &mut actions);
        assert!(
            actions.len() <= 256,
            "at most 256 actions per state (action indices are one byte)"
        );
        // First every successor is made and fingerprinted, and the visited set is asked for the
        // slots where its lookup will look: those loads then overlap instead of each stalling
        // the lookup below in turn.
        steps.clear(actions.len());
        let ample: &[usize] = match &reduction {
            Some(reduction) => {
                made_slots.clear();
                made_slots.resize(actions.len(), false);
                reduction.choose(
                    model,
                    &state,
                    &actions,
                    &mut steps.successors,
                    &mut made_slots,
                    &mut ample_set,
                );
                &ample_set
            }
            None => &[],
        };
        if ample.is_empty() {
            for index in 0..actions.len() {
                let made_already = made_slots.get(index).copied().unwrap_or(false);
                steps.probe(
                    expansion,
                    &state,
                    &actions,
                    index,
                    made_already,
                    &mut result,
                );
            }
        } else {
            for &index in ample {
                steps.probe(expansion, &state, &actions, index, true, &mut result);
            }
            // The cycle proviso: a persistent set that leads back to this level or an earlier
            // one is not enough; the state takes every step.
            let closes_cycle = |(_, probed): &(u8, Fingerprinted)| {
                reduction
                    .as_ref()
                    .is_some_and(|r| r.closes_cycle(visits.id(probed.fingerprint)))
            };
            if steps.probes.iter().any(closes_cycle) {
                for index in (0..actions.len()).filter(|index| !ample.contains(index)) {
                    steps.probe(
                        expansion,
                        &state,
                        &actions,
                        index,
                        made_slots[index],
                        &mut result,
                    );
                }
                steps.probes.sort_unstable_by_key(|&(index, _)| index);
            }
        }
        for (action, fingerprinted) in steps.probes.drain(..) {
            let fingerprint = fingerprinted.fingerprint;
            let task = if record_graph {
                model.task(&state, &actions[usize::from(action)])
            } else {
                None
            };
            let claim = visits.claim(fingerprint, share.as_deref_mut());
            if claim == Claim::Visited {
                if record_graph {
                    let Visits::Look(seen) = visits else {
                        unreachable!("a recorded graph is entered by the merge")
                    };
                    let target = seen.id(fingerprint).expect("a recorded graph keeps ids");
                    result.successors.push(Successor::Known {
                        parent,
                        target,
                        action,
                        task,
                    });
                }
                continue;
            }
            if !made.insert(fingerprint) {
                if record_graph {
                    result.successors.push(Successor::Repeat {
                        parent,
                        fingerprint,
                        action,
                        task,
                    });
                }
                continue;
            }
            let next = steps.successors[usize::from(action)]
                .as_ref()
                .expect("a probed successor was made");
            if made_states == CHUNK_STATES {
                result.blocks.push(compress(&made_bytes, &mut compressed));
                made_bytes.clear();
                made_states = 0;
            }
            let violations = table.violations(model, next);
            if record_graph {
                result.pending.push(pending_of(table, model, next));
            }
            fingerprinted.keep(next, &steps.scratch, &mut made_bytes);
            let index = u16::try_from(made_states).expect("a block holds at most CHUNK_STATES");
            made_states += 1;
            if matches!(claim, Claim::Contested | Claim::Deferred) && share.is_some() {
                result.disputed.push(fingerprint);
                result.deferred |= claim == Claim::Deferred;
            }
            result.successors.push(Successor::New(Candidate {
                fingerprint,
                claim,
                parent,
                action,
                task,
                block: u32::try_from(result.blocks.len()).expect("a chunk makes few blocks"),
                index,
                violations,
            }));
        }
    }
    if made_states > 0 {
        result.blocks.push(compress(&made_bytes, &mut compressed));
    }
    result
}

/// The state with id `id`, by replaying its path from the initial state (liveness runs without
/// symmetry reduction, so the recorded steps are the model's own).
fn rebuild_state<M: Checkable>(model: &M, visited: &Visited, id: u32) -> M::State {
    let (initial, _) = visited.path(id);
    let init = model.init_states().swap_remove(usize::from(initial));
    rebuild_trace(model, visited, id, &[])
        .into_iter()
        .fold(init, |state, action| {
            model
                .next_state(&state, action)
                .expect("a recorded step is enabled")
        })
}

/// The actions from the initial state to state `id` (re-run from their recorded indices), followed
/// by the actions with indices `then` from there.
///
/// Under symmetry reduction the recorded indices are steps between representatives. The trace is
/// then a run of the model itself that passes through the same classes: at each step, the first
/// enabled action whose successor has the recorded successor's representative. One exists because
/// the run's state is a renaming of the representative, so the renamed action is enabled.
fn rebuild_trace<M: Checkable>(
    model: &M,
    visited: &Visited,
    id: u32,
    then: &[u8],
) -> Vec<M::Action> {
    let (initial, mut indices) = visited.path(id);
    indices.extend_from_slice(then);
    let mut state = model.init_states().swap_remove(usize::from(initial));
    let mut representative = visited.symmetry.then(|| model.representative(&state));
    let mut trace = Vec::with_capacity(indices.len());
    let mut actions = Vec::new();
    for index in indices {
        actions.clear();
        let Some(recorded) = representative.as_mut() else {
            model.actions(&state, &mut actions);
            let action = actions.swap_remove(usize::from(index));
            state = model
                .next_state(&state, action.clone())
                .expect("a recorded step is enabled");
            trace.push(action);
            continue;
        };
        model.actions(recorded, &mut actions);
        let step = actions.swap_remove(usize::from(index));
        let target = model.representative(
            &model
                .next_state(recorded, step)
                .expect("a recorded step is enabled"),
        );
        actions.clear();
        model.actions(&state, &mut actions);
        let (action, next) = actions
            .drain(..)
            .find_map(|action| {
                let next = model.next_state(&state, action.clone())?;
                (model.representative(&next) == target).then_some((action, next))
            })
            .expect("a renaming of the recorded step is enabled");
        trace.push(action);
        state = next;
        *recorded = target;
    }
    trace
}

#[cfg(test)]
mod tests {
    use lockscope_models::lock::{LockConfig, LockModel, Recipe};
    use lockscope_models::prop;
    use lockscope_models::zab::{ZabAction, ZabConfig, ZabModel, ZabState};
    use stateright::Model;

    use super::super::seen::SHARE_CAP;
    use super::super::{Counterexample, PropertyKind, SearchLimits, Selection, Verdict};
    use super::*;

    /// Counts, depth and every counterexample (as its actions) of a safety search, complete or
    /// stopped after `max_states`.
    fn outcome(
        model: &LockModel,
        threads: usize,
        max_states: Option<u64>,
        reduction: Reduction,
    ) -> (u64, u64, u32, Vec<String>) {
        let options = SearchOptions {
            threads,
            full_space: true,
            check_liveness: false,
            reduction,
            limits: SearchLimits {
                max_states,
                ..SearchLimits::default()
            },
            ..SearchOptions::default()
        };
        let report = search(model, &options, &mut |_| {});
        let stop = if max_states.is_some() {
            Stop::MaxStates
        } else {
            Stop::Exhausted
        };
        assert_eq!(report.stop, stop);
        let counterexamples = report
            .properties
            .iter()
            .map(|property| format!("{:?}", property.counterexample))
            .collect();
        (
            report.unique_states,
            report.transitions,
            report.max_depth,
            counterexamples,
        )
    }

    /// Once every safety property has a counterexample there is nothing left to find, so a search
    /// that keeps no graph for liveness stops there and says so; one asked for the full space, or
    /// one recording the graph to check liveness afterwards, goes on to the end.
    #[test]
    fn a_search_stops_once_every_safety_property_is_violated() {
        // The naive lock with three clients, an expiry and a crash violates all four safety
        // properties.
        let model = LockModel::new(LockConfig {
            session_expiries: 1,
            crashes: 1,
            ..LockConfig::new(Recipe::Naive, 3)
        })
        .expect("a valid configuration");
        let run = |full_space: bool, check_liveness: bool| {
            let options = SearchOptions {
                full_space,
                check_liveness,
                ..SearchOptions::default()
            };
            search(&model, &options, &mut |_| {})
        };
        let whole = run(true, false);
        assert_eq!(whole.stop, Stop::Exhausted);
        assert!(
            whole
                .properties
                .iter()
                .filter(|p| p.kind == PropertyKind::Safety)
                .all(|p| p.counterexample.is_some()),
            "every safety property is violated somewhere"
        );
        let unchecked = &whole.properties[whole.properties.len() - 1];
        assert_eq!(
            (unchecked.kind, unchecked.verdict),
            (PropertyKind::Liveness, Verdict::Unknown),
            "liveness was not asked for: no verdict"
        );
        assert_eq!(
            unchecked.reason.as_deref(),
            Some("liveness checking was turned off")
        );
        let stopped = run(false, false);
        assert_eq!(stopped.stop, Stop::AllViolated);
        assert!(
            stopped.unique_states < whole.unique_states,
            "{} states of {}",
            stopped.unique_states,
            whole.unique_states
        );
        let with_liveness = run(false, true);
        assert_eq!(with_liveness.stop, Stop::Exhausted);
        assert_eq!(with_liveness.unique_states, whole.unique_states);
        // A bounded search decides no liveness property, and names its bound.
        let options = SearchOptions {
            limits: SearchLimits {
                max_states: Some(1_000),
                ..SearchLimits::default()
            },
            ..SearchOptions::default()
        };
        let bounded = search(&model, &options, &mut |_| {});
        let unchecked = &bounded.properties[bounded.properties.len() - 1];
        assert_eq!(
            (unchecked.verdict, unchecked.reason.as_deref()),
            (Verdict::Unknown, Some("bounded: max_states"))
        );
    }

    /// A selection without liveness properties records no state graph (so the search may stop
    /// once its safety properties are violated, as one without liveness does); the properties
    /// left out are never evaluated: no counterexample, verdict `NotChecked`.
    #[test]
    fn a_selection_without_liveness_records_no_graph_and_evaluates_only_what_it_names() {
        let model = LockModel::new(LockConfig {
            session_expiries: 1,
            ..LockConfig::new(Recipe::Standard, 3)
        })
        .expect("a valid configuration");
        let run = |names: &[&str]| {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let options = SearchOptions {
                properties: Selection::named(&model, &names),
                ..SearchOptions::default()
            };
            search(&model, &options, &mut |_| {})
        };
        let whole = search(&model, &SearchOptions::default(), &mut |_| {});
        assert_eq!(whole.stop, Stop::Exhausted);
        let safety = run(&["mutual_exclusion"]);
        assert_eq!(safety.stop, Stop::AllViolated, "no graph kept it going");
        assert!(safety.unique_states < whole.unique_states);
        let with_liveness = run(&["mutual_exclusion", "every_waiter_acquires"]);
        assert_eq!(
            with_liveness.stop,
            Stop::Exhausted,
            "liveness needs the graph"
        );
        let selections: [(&SearchReport<_>, &[&str]); 2] = [
            (&safety, &["mutual_exclusion"]),
            (
                &with_liveness,
                &["mutual_exclusion", "every_waiter_acquires"],
            ),
        ];
        for (report, selected) in selections {
            assert_eq!(report.properties.len(), whole.properties.len());
            for (property, unselected) in report.properties.iter().zip(&whole.properties) {
                assert_eq!(
                    (property.name, property.kind),
                    (unselected.name, unselected.kind)
                );
                if selected.contains(&property.name) {
                    assert_eq!(property.verdict, unselected.verdict, "{}", property.name);
                } else {
                    assert_eq!(property.verdict, Verdict::NotChecked, "{}", property.name);
                    assert!(property.counterexample.is_none());
                }
            }
        }
        let mutual = |report: &SearchReport<_>| {
            report
                .property("mutual_exclusion")
                .unwrap()
                .counterexample
                .clone()
        };
        assert_eq!(
            mutual(&safety),
            mutual(&whole),
            "the same shortest counterexample"
        );
    }

    /// The lasso ZAB's search reports for `leader_eventually_elected`, replayed: every state it
    /// passes through, and the property's verdict and counterexample.
    fn elected_lasso(config: ZabConfig) -> (Verdict, Counterexample<ZabAction>, Vec<ZabState>) {
        let model = ZabModel::new(config).expect("a valid configuration");
        let report = search(&model, &SearchOptions::default(), &mut |_| {});
        assert_eq!(report.stop, Stop::Exhausted);
        let elected = report
            .properties
            .into_iter()
            .find(|p| p.name == prop::LEADER_EVENTUALLY_ELECTED)
            .expect("ZAB declares it");
        let lasso = elected.counterexample.expect("a leaderless run");
        let mut states = vec![model.init_states().remove(0)];
        for action in &lasso.steps {
            let next = model
                .next_state(states.last().expect("a state"), action.clone())
                .expect("every step is enabled");
            states.push(next);
        }
        (elected.verdict, lasso, states)
    }

    /// A lasso is reported as its stem, then a cycle that returns to the state the stem ended in
    /// (the election race of unbounded epochs: a genuine cycle), and keeps the bound its lasso
    /// search named (ZAB with `epochs = 2` and a crash: stuck only where the bound forbids the
    /// next election).
    #[test]
    fn a_lasso_is_a_stem_and_a_cycle_back_and_keeps_its_bound() {
        let race = ZabConfig {
            crashes: 1,
            epochs: 0,
            ..ZabConfig::new(3, 1)
        };
        let (verdict, lasso, states) = elected_lasso(race);
        assert_eq!(verdict, Verdict::Violated);
        assert_eq!(lasso.bound, None);
        let stem = lasso.loop_start.expect("a lasso");
        assert!(stem < lasso.steps.len(), "a cycle of at least one step");
        assert_eq!(
            states[stem],
            states[states.len() - 1],
            "the cycle returns to where the stem ended"
        );

        let bounded = ZabConfig {
            crashes: 1,
            ..ZabConfig::new(3, 0)
        };
        let (verdict, lasso, _) = elected_lasso(bounded);
        assert_eq!(verdict, Verdict::Unknown);
        assert!(lasso.bound.is_some(), "the epoch bound is named");
    }

    /// A reduced search's graph does not depend on the number of threads or on how levels are
    /// cut into batches: the cycle proviso reads the ids of earlier levels, never what another
    /// worker happened to enter first.
    #[test]
    fn a_reduced_search_is_the_same_at_any_thread_count_and_batching() {
        let model = LockModel::new(LockConfig {
            session_expiries: 1,
            ..LockConfig::new(Recipe::Standard, 3)
        })
        .expect("a valid configuration");
        let reduced = Reduction::PartialOrder;
        let expected = outcome(&model, 1, None, reduced);
        assert!(expected.0 < 32_091, "fewer states than the whole space");
        for threads in [1, 2, 3, 8] {
            for batching in [(CHUNKS_PER_BATCH_PER_THREAD, false), (1, false), (1, true)] {
                TEST_BATCHES.set(batching);
                let label = format!("{threads} threads, {batching:?}");
                assert_eq!(outcome(&model, threads, None, reduced), expected, "{label}");
            }
        }
        TEST_BATCHES.set((CHUNKS_PER_BATCH_PER_THREAD, false));
    }

    /// Workers enter new states themselves; however the claims fall out (any number of threads,
    /// claims deferred to the merge when a worker's share of the room runs out), the search finds
    /// what one thread with room to spare finds: the same states, and the same first
    /// counterexamples.
    #[test]
    fn claims_give_the_same_search_at_any_thread_count_and_share_of_room() {
        let model = LockModel::new(LockConfig {
            session_expiries: 1,
            ..LockConfig::new(Recipe::Standard, 3)
        })
        .expect("a valid configuration");
        let expected = outcome(&model, 1, None, Reduction::None);
        assert_eq!(
            (expected.0, expected.1),
            (32_091, 100_653),
            "the oracle's counts"
        );
        assert!(
            expected.3.iter().any(|c| c.starts_with("Some")),
            "a counterexample to compare"
        );
        let bounded = outcome(&model, 1, Some(20_000), Reduction::None);
        assert_eq!(bounded.0, 20_000);
        // Levels in one batch or in several (with growth between them); chunks handed out in
        // order or last first (later chunks then win the claims earlier ones must get).
        let batchings = [(CHUNKS_PER_BATCH_PER_THREAD, false), (1, false), (1, true)];
        for threads in [1, 2, 3, 8] {
            for cap in [usize::MAX, 5, 0] {
                for batching in batchings {
                    SHARE_CAP.set(cap);
                    TEST_BATCHES.set(batching);
                    let label = format!("{threads} threads, share cap {cap}, {batching:?}");
                    assert_eq!(
                        outcome(&model, threads, None, Reduction::None),
                        expected,
                        "{label}"
                    );
                    assert_eq!(
                        outcome(&model, threads, Some(20_000), Reduction::None),
                        bounded,
                        "{label}"
                    );
                }
            }
        }
        SHARE_CAP.set(usize::MAX);
        TEST_BATCHES.set((CHUNKS_PER_BATCH_PER_THREAD, false));
    }
}

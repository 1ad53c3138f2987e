//! Seeded random simulation: lockscope's own random walks over a model (stateright's simulation
//! checker can record wrong traces, see the design notes).
//!
//! Run `k` draws every choice from a ChaCha8 generator seeded with a sub-seed of `(seed, k)` only,
//! so a run depends on nothing else: not on the runs before it, the thread that executes it, or the
//! shard it falls in. `--run K` therefore re-runs exactly run K, shards of the runs are disjoint
//! and together equal one unsharded search, and results are merged in run order, so the reported
//! counterexample of each property is the one from the lowest run that found it, whatever the
//! number of threads. Each run starts in the first initial state.
//!
//! A random search never proves a property: its verdicts are `violated` or `unknown`. Violations
//! are shrunk before they are reported (see [`super::shrink`]).

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::scheduler::RunScheduler;
use super::shrink::shrink;
use super::{
    record_first, Checkable, Counterexample, Progress, PropertyTable, RandomOptions, RandomOrigin,
    SearchOptions, SearchReport, Selection, Stop,
};

/// Runs handed to a thread at a time.
const RUNS_PER_CHUNK: usize = 16;

/// The sub-seed of run `run` (SplitMix64 of the pair), so neighbouring runs are unrelated.
pub fn run_seed(seed: u64, run: u64) -> u64 {
    fn splitmix64(mut x: u64) -> u64 {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }
    splitmix64(seed ^ splitmix64(run))
}

/// The runs this search does: one run, one shard, or all.
pub fn run_range(options: &RandomOptions) -> Range<u64> {
    if let Some(run) = options.only_run {
        return run..run + 1;
    }
    match options.shard {
        Some((i, n)) => {
            // In 128 bits: runs × (i + 1) overflows 64 for the large run counts CI may give.
            let at = |k: u64| (u128::from(options.runs) * u128::from(k) / u128::from(n)) as u64;
            at(i)..at(i + 1)
        }
        None => 0..options.runs,
    }
}

/// What one run did.
struct RunResult<A> {
    steps: u64,
    /// Safety properties violated in its last state (a bit each).
    violations: u64,
    /// The path to the violation, kept only when there is one.
    path: Vec<A>,
    /// Fault kinds it used (a bit each).
    faults: u64,
}

/// Run `run` of a random search to its end, past any violation: the path a random walk takes
/// (`lockscope conform --random` replays it against a real server).
pub fn walk<M: Checkable>(model: &M, options: &RandomOptions, run: u64) -> Vec<M::Action> {
    run_one(
        model,
        &PropertyTable::new(model, Selection::ALL),
        run,
        options,
        true,
    )
    .path
}

/// One run; `to_the_end` keeps going past a violation and keeps the path in any case.
fn run_one<M: Checkable>(
    model: &M,
    table: &PropertyTable<M>,
    run: u64,
    options: &RandomOptions,
    to_the_end: bool,
) -> RunResult<M::Action> {
    let mut rng = ChaCha8Rng::seed_from_u64(run_seed(options.seed, run));
    let mut scheduler = RunScheduler::start(
        options.scheduler,
        options.steps,
        table.fault_kinds.len(),
        &mut rng,
    );
    let mut state = model.init_states().swap_remove(0);
    let mut result = RunResult {
        steps: 0,
        violations: table.violations(model, &state),
        path: Vec::new(),
        faults: 0,
    };
    let mut actions = Vec::new();
    for step in 0..options.steps {
        if result.violations != 0 && !to_the_end {
            break;
        }
        actions.clear();
        model.actions(&state, &mut actions);
        scheduler.drop_omitted_faults(model, table, &mut actions);
        if actions.is_empty() {
            break;
        }
        let action = actions.swap_remove(scheduler.choose(model, &state, &actions, step, &mut rng));
        if let Some(kind) = table.fault_index(model, &action) {
            result.faults |= 1 << kind;
        }
        let Some(next) = model.next_state(&state, action.clone()) else {
            continue;
        };
        result.steps += 1;
        result.path.push(action);
        result.violations = table.violations(model, &next);
        state = next;
    }
    if result.violations == 0 && !to_the_end {
        result.path = Vec::new();
    }
    result
}

pub(super) fn search<M: Checkable>(
    model: &M,
    options: &SearchOptions,
    progress: &mut dyn FnMut(Progress),
) -> SearchReport<M::Action> {
    let started = Instant::now();
    let table = PropertyTable::new(model, options.properties);
    let random = options.random;
    let threads = options.threads.max(1);
    // Batches are drawn from the range as they go: a range can hold up to 2^64 runs.
    let runs = run_range(&random);
    let batch_runs = (RUNS_PER_CHUNK * threads * 4) as u64;
    let mut next_run = runs.start;
    let mut first: Vec<Option<(u64, Vec<M::Action>)>> = vec![None; table.safety_count()];
    let mut transitions = 0u64;
    let mut longest = 0u64;
    let mut runs_done = 0u64;
    let mut fault_runs = vec![0u64; table.fault_kinds.len()];
    let mut stop = Stop::Runs;
    while next_run < runs.end {
        if let Some(reached) = options.limits.reached(started) {
            stop = reached;
            break;
        }
        let batch: Vec<u64> =
            (next_run..runs.end.min(next_run.saturating_add(batch_runs))).collect();
        next_run += batch.len() as u64;
        for (run, result) in batch
            .iter()
            .zip(run_batch(model, &table, &batch, &random, threads))
        {
            runs_done += 1;
            transitions += result.steps;
            longest = longest.max(result.steps);
            for (kind, count) in fault_runs.iter_mut().enumerate() {
                *count += u64::from(result.faults & (1 << kind) != 0);
            }
            record_first(&mut first, result.violations, || {
                (*run, result.path.clone())
            });
        }
        progress(Progress {
            transitions,
            unique_states: 0,
            depth: longest as u32,
            elapsed: started.elapsed(),
            runs_done: Some(runs_done),
        });
    }
    let safety = first
        .into_iter()
        .enumerate()
        .map(|(bit, found)| {
            found.map(|(run, path)| {
                let original_length = path.len();
                let mut counterexample = Counterexample::path(shrink(model, &table, bit, path));
                counterexample.random = Some(RandomOrigin {
                    run,
                    original_length,
                });
                counterexample
            })
        })
        .collect();
    let reason = format!(
        "random search: {} found no violation; only a complete search proves a property",
        crate::report::count(runs_done, "run", "runs")
    );
    let mut properties = table.verdicts(
        stop,
        safety,
        vec![None; table.liveness_count()],
        "liveness needs a complete search",
    );
    for property in &mut properties {
        if property.verdict == super::Verdict::Unknown
            && property.kind == super::PropertyKind::Safety
        {
            property.reason = Some(reason.clone());
        }
    }
    SearchReport {
        symmetry: None,
        reduction: super::Reduction::None,
        swarm: None,
        strategy: options.strategy,
        stop,
        transitions,
        unique_states: 0,
        max_depth: longest as u32,
        depth_covered: 0,
        elapsed: started.elapsed(),
        threads,
        properties,
        seed: Some(random.seed),
        runs: Some(runs_done),
        fault_coverage: table.coverage(fault_runs),
    }
}

/// Do the runs of `batch` on `threads` threads; results come back in run order.
fn run_batch<M: Checkable>(
    model: &M,
    table: &PropertyTable<M>,
    batch: &[u64],
    options: &RandomOptions,
    threads: usize,
) -> Vec<RunResult<M::Action>> {
    let chunks: Vec<&[u64]> = batch.chunks(RUNS_PER_CHUNK).collect();
    let do_chunk = |chunk: &[u64]| {
        chunk
            .iter()
            .map(|&run| run_one(model, table, run, options, false))
            .collect::<Vec<_>>()
    };
    if threads == 1 || chunks.len() == 1 {
        return chunks.into_iter().flat_map(do_chunk).collect();
    }
    let next_chunk = AtomicUsize::new(0);
    let results: Vec<Mutex<Vec<RunResult<M::Action>>>> =
        chunks.iter().map(|_| Mutex::new(Vec::new())).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(chunks.len()) {
            scope.spawn(|| loop {
                let i = next_chunk.fetch_add(1, Ordering::Relaxed);
                let Some(chunk) = chunks.get(i) else { break };
                *results[i]
                    .lock()
                    .expect("no worker panics while holding a slot") = do_chunk(chunk);
            });
        }
    });
    results
        .into_iter()
        .flat_map(|slot| slot.into_inner().expect("workers finished"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_seeds_differ_between_runs_and_seeds() {
        assert_ne!(run_seed(1, 0), run_seed(1, 1));
        assert_ne!(run_seed(1, 0), run_seed(2, 0));
        assert_eq!(run_seed(7, 3), run_seed(7, 3));
    }

    #[test]
    fn shards_partition_the_runs() {
        let options = |shard| RandomOptions {
            runs: 10,
            shard,
            ..RandomOptions::default()
        };
        let all: Vec<u64> = (0..4)
            .flat_map(|i| run_range(&options(Some((i, 4)))))
            .collect();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(
            run_range(&RandomOptions {
                only_run: Some(7),
                ..options(None)
            }),
            7..8
        );
    }
}

//! `lockscope bench`: the reference workload of `docs/benchmark.md`.
//!
//! Sizes: N = 2..5 clients without expiry (complete search), N = 2..5 with one expiry (the whole
//! space, continuing past violations; N = 5 has no oracle count, and its row says "no oracle"), and N = 2..4 with one expiry
//! searched until the first violation, whose trace must be the shortest. Every complete count is compared with the counts
//! of an independent implementation of the workload text (`tests/oracle/results.jsonl`).
//!
//! Symmetry rows search the same sizes with clients interchangeable (`--symmetry`), and one size
//! more with an expiry, and compare the verdict with the unreduced search where that ran;
//! partial-order rows search the sizes of the safety and full-space rows under
//! `--reduction partial-order` and compare the same way.
//!
//! Then ZAB: the fixed protocol's complete space with 3 servers (1 write and 1 crash with
//! `--quick`; 2 writes, 1 crash and 1 partition otherwise, the bounds of `scenarios/zab/fixed.toml`),
//! where every property must hold, and, except with `--quick`, a breadth-first search that stops at
//! the first violation of zk-4643 (2 writes, 2 crashes), whose trace must be the shortest one, 38
//! steps: about 4 million states, far more than every quick row together.
//!
//! Then the lock on a ZooKeeper ensemble: each bundled ensemble scenario's complete space, safety
//! only, built from the scenario file itself, its counts compared with the independent oracle of
//! that world where there is one (`tests/oracle/ensemble_results.jsonl`, the control's), then, in
//! the control, the same space under partial-order reduction. Every safety verdict must be the
//! scenario's `[expect]` (a property it does not name must hold): the control holds all of them,
//! the minority holder violates mutual exclusion. The control's rows are in `--quick` too (22
//! thousand states); the minority holder's (about half a million) only in the full suite.
//!
//! Memory is the process's peak resident set during one run: before each run the allocator's free
//! memory goes back to the system (glibc's `malloc_trim`) and the peak is reset (Linux
//! `clear_refs`), and bytes per state divide the growth over the run by the unique states.

use std::collections::BTreeMap;
use std::time::Instant;

use lockscope_models::lock::{LockConfig, LockModel, Recipe};
use lockscope_models::prop;
use lockscope_models::zab::{LeaderWrite, ZabConfig, ZabModel, ZabVariant};

use crate::registry;
use crate::report::thousands;
use crate::scenario::{Expected, Scenario};
use crate::search::{
    search, RandomOptions, Reduction, SearchLimits, SearchOptions, SearchReport, Selection,
    Strategy, Verdict,
};

/// Complete counts of the independent oracle, one JSON object per line.
const ORACLE: &str = include_str!("../tests/oracle/results.jsonl");

/// A bundled ensemble scenario the bench runs.
struct EnsembleRun {
    label: &'static str,
    /// The scenario file's text.
    scenario: &'static str,
    /// The oracle's complete counts (unique states, transitions, max depth), where an independent
    /// search of that world exists.
    oracle: Option<(u64, u64, u32)>,
    /// The runs of its rows: `Safety` and `PartialOrder` for a world without violations,
    /// `FullSpace` for one with them. A world with failover gets no partial-order row: it names
    /// no persistent sets, so the reduced search would repeat the whole one.
    runs: &'static [Run],
    /// Whether `--quick` runs it.
    quick: bool,
}

/// The ensemble scenarios the bench runs: the fault-free control, and the holder cut off in a
/// minority while the majority expires its session (issues 19 and 22).
fn ensemble_scenarios() -> Vec<EnsembleRun> {
    vec![
        EnsembleRun {
            label: "ensemble control",
            scenario: include_str!("../scenarios/ensemble/control.toml"),
            oracle: ensemble_oracle(include_str!("../tests/oracle/ensemble_results.jsonl")),
            runs: &[Run::Safety, Run::PartialOrder],
            quick: true,
        },
        EnsembleRun {
            label: "ensemble minority",
            scenario: include_str!("../scenarios/ensemble/minority-holder.toml"),
            oracle: None,
            runs: &[Run::FullSpace],
            quick: false,
        },
    ]
}

/// The counts in an ensemble oracle's output line.
fn ensemble_oracle(line: &str) -> Option<(u64, u64, u32)> {
    let row: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    Some((
        row["states"].as_u64()?,
        row["transitions"].as_u64()?,
        u32::try_from(row["depth"].as_u64()?).ok()?,
    ))
}

/// (unique states, transitions, max depth) for N clients and E expiries, from the oracle.
fn oracle_counts(clients: u8, expiries: u8) -> Option<(u64, u64, u32)> {
    ORACLE.lines().find_map(|line| {
        let row: serde_json::Value = serde_json::from_str(line).ok()?;
        let matches =
            row["n"].as_u64()? == u64::from(clients) && row["e"].as_u64()? == u64::from(expiries);
        matches.then(|| {
            Some((
                row["states"].as_u64()?,
                row["transitions"].as_u64()?,
                row["max_depth"].as_u64()? as u32,
            ))
        })?
    })
}

/// The benchmark's model: the standard recipe, one acquisition each, E expiries, nothing else.
pub fn reference_model(clients: u8, session_expiries: u8) -> LockModel {
    LockModel::new(LockConfig {
        session_expiries,
        ..LockConfig::new(Recipe::Standard, clients)
    })
    .expect("the reference configuration is valid")
}

/// A field of /proc/self/status, in bytes.
fn proc_status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Reset the peak resident set, so that the next reading covers one run only. The reset lowers
/// the peak to the present resident set, which still holds what the allocator kept of earlier
/// runs' freed memory (a large run leaves hundreds of MiB): that goes back to the system first, or
/// every run after a large one would report the large one's leftovers as its own peak.
fn reset_peak_memory() {
    release_free_memory();
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Give the allocator's free memory back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_memory() {
    // SAFETY: `malloc_trim` only returns free pages of glibc's heap to the system; it takes no
    // pointer and leaves every live allocation where it is.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}

/// What a run cost: wall-clock time and memory.
struct Cost {
    seconds: f64,
    peak_bytes: u64,
    /// The growth of the resident set over the run, per unique state.
    bytes_per_state: f64,
}

/// Run one search and measure it (peak memory from a reset peak: see the module doc).
fn measure<A>(search: impl FnOnce() -> SearchReport<A>) -> (SearchReport<A>, Cost) {
    reset_peak_memory();
    let baseline = proc_status_bytes("VmRSS:").unwrap_or(0);
    let started = Instant::now();
    let report = search();
    let seconds = started.elapsed().as_secs_f64();
    let peak_bytes = proc_status_bytes("VmHWM:").unwrap_or(0);
    let bytes_per_state =
        peak_bytes.saturating_sub(baseline) as f64 / report.unique_states.max(1) as f64;
    let cost = Cost {
        seconds,
        peak_bytes,
        bytes_per_state,
    };
    (report, cost)
}

/// One row of the table, as `bench --json` writes it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Row {
    /// The row's label in the table, e.g. "N=5 E=0 safety".
    pub label: String,
    /// "lock" (the reference workload), "zab" or "ensemble" (the lock on a ZooKeeper ensemble).
    pub model: &'static str,
    /// What the row measures: "safety", "liveness", "full_space", "first_violation",
    /// "symmetry" or "partial_order".
    pub run: &'static str,
    /// The lock's clients (`null` for ZAB rows).
    pub clients: Option<u8>,
    /// The lock's session expiries (`null` for ZAB rows).
    pub expiries: Option<u8>,
    pub threads: usize,
    pub unique_states: u64,
    pub transitions: u64,
    pub max_depth: u32,
    /// Whether the search explored its whole space (a first-violation run stops early).
    pub complete: bool,
    pub seconds: f64,
    pub states_per_second: f64,
    /// The process's peak resident set during the run.
    pub peak_rss_bytes: u64,
    /// The resident set's growth over the run, per unique state.
    pub bytes_per_state: f64,
    /// What the row checks (oracle counts, verdicts, the shortest trace), as the table says it.
    pub check: String,
    /// Whether that check held.
    pub ok: bool,
    /// Whether the counts equal the independent oracle's; `None` (`null`) where there is none to
    /// compare with (N=5 E=1, symmetry and first-violation rows, ZAB), which the table says as
    /// "no oracle": such a row's `ok` says nothing about its counts.
    pub oracle: Option<bool>,
}

/// What a row checks, and whether it held.
struct Check {
    text: String,
    ok: bool,
    /// Whether the counts equal the oracle's, where it has them.
    oracle: Option<bool>,
}

impl Check {
    fn new(text: impl Into<String>, ok: bool) -> Self {
        Check {
            text: text.into(),
            ok,
            oracle: None,
        }
    }

    /// The comparison of a complete search's counts with the oracle's, if it has them.
    fn oracle(expected: Option<(u64, u64, u32)>, counts: (u64, u64, u32)) -> Self {
        let Some(expected) = expected else {
            return Check::new("no oracle", true);
        };
        let equal = expected == counts;
        Check {
            oracle: Some(equal),
            ..if equal {
                Check::new("= oracle ✓", true)
            } else {
                Check::new(format!("≠ oracle {expected:?} ✗"), false)
            }
        }
    }
}

/// What a row is: its label, model, kind of run and size.
struct RowId {
    label: String,
    model: &'static str,
    run: &'static str,
    size: Option<(u8, u8)>,
}

impl Row {
    fn new<A>(id: RowId, report: &SearchReport<A>, cost: &Cost, check: Check) -> Self {
        Row {
            label: id.label,
            model: id.model,
            run: id.run,
            clients: id.size.map(|(clients, _)| clients),
            expiries: id.size.map(|(_, expiries)| expiries),
            threads: report.threads,
            unique_states: report.unique_states,
            transitions: report.transitions,
            max_depth: report.max_depth,
            complete: report.complete(),
            seconds: cost.seconds,
            states_per_second: report.unique_states as f64 / cost.seconds.max(1e-9),
            peak_rss_bytes: cost.peak_bytes,
            bytes_per_state: cost.bytes_per_state,
            check: check.text,
            ok: check.ok,
            oracle: check.oracle,
        }
    }

    /// The row in the table.
    fn write(&self, out: &mut dyn std::io::Write) {
        let _ = writeln!(
            out,
            "{:<30} {:>12} {:>13} {:>6} {:>9.2} {:>12} {:>10.1} {:>8.1}  {}",
            self.label,
            thousands(self.unique_states),
            thousands(self.transitions),
            self.max_depth,
            self.seconds,
            thousands(self.states_per_second as u64),
            self.peak_rss_bytes as f64 / (1024.0 * 1024.0),
            self.bytes_per_state,
            self.check
        );
    }
}

/// What one benchmark run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    /// The complete space, safety properties only.
    Safety,
    /// The complete space with the graph recorded and `every_waiter_acquires` checked.
    Liveness,
    /// The complete space of a configuration with violations (continuing past them).
    FullSpace,
    /// Breadth-first search stopping at the first violation.
    FirstViolation,
    /// The complete space under symmetry reduction (clients interchangeable), safety only:
    /// counts of representatives, reported apart from the reference counts.
    Symmetry,
    /// The complete space under partial-order reduction, safety only: counts of the reduced
    /// graph, reported apart from the reference counts.
    PartialOrder,
}

impl Run {
    /// The kind of run in `bench --json`.
    fn key(self) -> &'static str {
        match self {
            Run::Safety => "safety",
            Run::Liveness => "liveness",
            Run::FullSpace => "full_space",
            Run::FirstViolation => "first_violation",
            Run::Symmetry => "symmetry",
            Run::PartialOrder => "partial_order",
        }
    }

    /// The reduction the run makes.
    fn reduction(self) -> Reduction {
        match self {
            Run::PartialOrder => Reduction::PartialOrder,
            _ => Reduction::None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Run::Safety => "safety",
            Run::Liveness => "+ liveness",
            Run::FullSpace => "full space",
            Run::FirstViolation => "first-viol.",
            Run::Symmetry => "symmetry",
            Run::PartialOrder => "partial-order",
        }
    }
}

/// What one benchmark run measured, for `bench --plot`.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    pub clients: u8,
    pub expiries: u8,
    /// "safety", "+ liveness", "full space", "first-viol.", "symmetry" or "partial-order".
    pub run: &'static str,
    pub unique_states: u64,
    pub seconds: f64,
    /// (BFS depth, unique states found once that level was expanded), one entry per level.
    pub growth: Vec<(u32, u64)>,
}

/// What a run of the suite measured.
pub struct Suite {
    /// One per row of the table, in its order.
    pub rows: Vec<Row>,
    /// The lock workload's runs with their growth by depth, for plots.
    pub measured: Vec<Measured>,
}

impl Suite {
    /// Whether every row's check held.
    pub fn ok(&self) -> bool {
        self.rows.iter().all(|row| row.ok)
    }

    /// The suite as `bench --json` writes it.
    pub fn json(&self, threads: usize, quick: bool) -> serde_json::Value {
        serde_json::json!({
            "benchmark": "lock-recipe-reference",
            "threads": threads,
            "quick": quick,
            "ok": self.ok(),
            "rows": self.rows,
        })
    }
}

/// Run the suite and write one row per run to `out` (write errors, such as a closed pipe, end
/// nothing: the rows are a report, not a result); with `only`, just the rows whose label contains
/// it.
pub fn run(quick: bool, threads: usize, only: Option<&str>, out: &mut dyn std::io::Write) -> Suite {
    let selected = |label: &str| only.map_or(true, |text| label.contains(text));
    let max_clients = if quick { 3 } else { 5 };
    let max_clients_expiry = if quick { 3 } else { 4 };
    let _ = writeln!(
        out,
        "lockscope bench · lock-recipe-reference · {threads} thread(s)"
    );
    let _ = writeln!(
        out,
        "{:<30} {:>12} {:>13} {:>6} {:>9} {:>12} {:>10} {:>8}  check",
        "run", "states", "transitions", "depth", "seconds", "states/s", "peak MiB", "B/state"
    );
    let mut runs: Vec<(u8, u8, Run)> = Vec::new();
    for n in 2..=max_clients {
        runs.extend([(n, 0, Run::Safety), (n, 0, Run::Liveness)]);
    }
    runs.extend((2..=max_clients_expiry).map(|n| (n, 1, Run::FullSpace)));
    if !quick {
        // The largest size: over 70 million states, beyond the oracle's reach.
        runs.push((5, 1, Run::FullSpace));
    }
    runs.extend((2..=max_clients_expiry).map(|n| (n, 1, Run::FirstViolation)));
    runs.extend((2..=max_clients).map(|n| (n, 0, Run::Symmetry)));
    runs.extend((2..=max_clients).map(|n| (n, 1, Run::Symmetry)));
    runs.extend((2..=max_clients).map(|n| (n, 0, Run::PartialOrder)));
    runs.extend((2..=max_clients_expiry).map(|n| (n, 1, Run::PartialOrder)));
    // The safety row's time per size, for the liveness row's ratio (when both are run).
    let mut safety_seconds = std::collections::BTreeMap::new();
    let mut measured = Vec::new();
    let mut rows = Vec::new();
    // Unreduced (states, mutual_exclusion verdict) per (clients, expiries), for the symmetry rows.
    let mut unreduced = std::collections::BTreeMap::new();
    for (clients, expiries, run) in runs {
        let label = format!("N={clients} E={expiries} {}", run.label());
        if !selected(&label) {
            continue;
        }
        let model = reference_model(clients, expiries);
        let options = SearchOptions {
            strategy: Strategy::Bfs,
            limits: SearchLimits::default(),
            threads,
            full_space: run != Run::FirstViolation,
            stop_at_first_violation: run == Run::FirstViolation,
            check_liveness: run == Run::Liveness,
            symmetry: run == Run::Symmetry,
            reduction: run.reduction(),
            swarm: None,
            properties: Selection::ALL,
            random: RandomOptions::default(),
        };
        // The search reports progress after each batch of a level: keep the last report per level.
        let mut growth: Vec<(u32, u64)> = Vec::new();
        let (report, cost) = measure(|| {
            search(&model, &options, &mut |progress| match growth.last_mut() {
                Some(last) if last.0 == progress.depth => last.1 = progress.unique_states,
                _ => growth.push((progress.depth, progress.unique_states)),
            })
        });
        let seconds = cost.seconds;
        let counts = (report.unique_states, report.transitions, report.max_depth);
        let exclusion = report.property(prop::MUTUAL_EXCLUSION).map(|p| p.verdict);
        if matches!(run, Run::Safety | Run::FullSpace) {
            unreduced.insert((clients, expiries), (report.unique_states, exclusion));
        }
        let oracle = Check::oracle(oracle_counts(clients, expiries), counts);
        let check = match run {
            Run::Safety => {
                safety_seconds.insert((clients, expiries), seconds);
                oracle
            }
            Run::Liveness => {
                let verdict = report
                    .property(prop::EVERY_WAITER_ACQUIRES)
                    .map(|p| p.verdict);
                let holds = verdict == Some(Verdict::Holds);
                let mark = if holds { "✓" } else { "✗" };
                let verdict = verdict.map_or("missing".to_string(), |v| v.to_string());
                let ratio = match safety_seconds.get(&(clients, expiries)) {
                    Some(safety) => format!(" · {:.1}× safety", seconds / f64::max(*safety, 1e-9)),
                    None => String::new(),
                };
                Check {
                    oracle: oracle.oracle,
                    ..Check::new(
                        format!(
                            "{} · every_waiter_acquires {verdict} {mark}{ratio}",
                            oracle.text
                        ),
                        oracle.ok && holds,
                    )
                }
            }
            Run::FullSpace => oracle,
            Run::Symmetry | Run::PartialOrder => {
                let verdict = exclusion.map_or("missing".to_string(), |v| v.to_string());
                match unreduced.get(&(clients, expiries)) {
                    Some((states, same)) => Check::new(
                        format!(
                            "{:.1}× fewer states · mutual_exclusion {verdict} {}",
                            *states as f64 / report.unique_states.max(1) as f64,
                            if *same == exclusion {
                                "= unreduced ✓"
                            } else {
                                "≠ unreduced ✗"
                            }
                        ),
                        *same == exclusion,
                    ),
                    None => Check::new(
                        format!("mutual_exclusion {verdict} (unreduced space not run)"),
                        true,
                    ),
                }
            }
            Run::FirstViolation => {
                let length = report
                    .property(prop::MUTUAL_EXCLUSION)
                    .and_then(|p| p.counterexample.as_ref())
                    .map(|c| c.steps.len());
                match length {
                    Some(11) => Check::new("shortest trace: 11 steps ✓", true),
                    Some(other) => {
                        Check::new(format!("trace {other} steps ✗ (shortest is 11)"), false)
                    }
                    None => Check::new("no violation found ✗", false),
                }
            }
        };
        let id = RowId {
            label,
            model: "lock",
            run: run.key(),
            size: Some((clients, expiries)),
        };
        let row = Row::new(id, &report, &cost, check);
        row.write(out);
        rows.push(row);
        measured.push(Measured {
            clients,
            expiries,
            run: run.label(),
            unique_states: report.unique_states,
            seconds,
            growth,
        });
    }
    rows.extend(zab_runs(quick, threads, &selected, out));
    rows.extend(ensemble_runs(quick, threads, &selected, out));
    Suite { rows, measured }
}

/// The ensemble rows: each bundled ensemble scenario's complete space, safety only.
fn ensemble_runs(
    quick: bool,
    threads: usize,
    selected: &dyn Fn(&str) -> bool,
    out: &mut dyn std::io::Write,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for EnsembleRun {
        label,
        scenario,
        oracle,
        runs,
        quick: in_quick,
    } in ensemble_scenarios()
    {
        if quick && !in_quick {
            continue;
        }
        let scenario = Scenario::parse(scenario, std::path::Path::new("scenarios/ensemble"))
            .expect("a bundled scenario is valid");
        let ensemble = scenario
            .model
            .ensemble
            .as_ref()
            .expect("an ensemble scenario has more than one server");
        let model = LockModel::on_ensemble(
            registry::lock_config(&scenario.model, Some(&scenario.faults)),
            registry::ensemble_config(&scenario.model, ensemble, &scenario.faults, scenario.timing)
                .expect("a bundled ensemble scenario is built"),
        )
        .expect("a bundled ensemble scenario is valid");
        // The unreduced row's states, for the reduced row's ratio (when both are run).
        let mut unreduced = None;
        for &run in runs {
            let label = format!("{label} {}", run.label());
            if !selected(&label) {
                continue;
            }
            let options = SearchOptions {
                threads,
                full_space: true,
                check_liveness: false,
                properties: Selection::ALL,
                reduction: run.reduction(),
                ..SearchOptions::default()
            };
            let (report, cost) = measure(|| search(&model, &options, &mut |_| {}));
            let counts = (report.unique_states, report.transitions, report.max_depth);
            let safety = safety_as_expected(&report, &scenario.expect);
            let counted = if run != Run::PartialOrder {
                unreduced = Some(report.unique_states);
                Check::oracle(oracle, counts)
            } else {
                let fewer = unreduced.map_or("unreduced space not run".to_string(), |states| {
                    let ratio = states as f64 / report.unique_states.max(1) as f64;
                    format!("{ratio:.1}× fewer states")
                });
                Check::new(fewer, true)
            };
            let id = RowId {
                label,
                model: "ensemble",
                run: run.key(),
                size: Some((scenario.model.clients, scenario.faults.session_expiries)),
            };
            let check = Check {
                oracle: counted.oracle,
                ..Check::new(
                    format!("{} · {}", counted.text, safety.text),
                    counted.ok && safety.ok,
                )
            };
            let row = Row::new(id, &report, &cost, check);
            row.write(out);
            rows.push(row);
        }
    }
    rows
}

/// Whether every safety property of a complete search holds.
fn safety_held<A>(report: &SearchReport<A>) -> Check {
    let safety: Vec<_> = report
        .properties
        .iter()
        .filter(|p| p.kind == crate::search::PropertyKind::Safety)
        .collect();
    let held = safety
        .iter()
        .filter(|p| p.verdict == Verdict::Holds)
        .count();
    let ok = held == safety.len() && report.complete();
    let mark = if ok { "✓" } else { "✗" };
    Check::new(
        format!("{held} of {} safety properties hold {mark}", safety.len()),
        ok,
    )
}

/// Whether a complete search gives each safety property that `expect` names the verdict it names
/// (the control names every property, as holding; a scenario with violations is measured
/// against its own file).
fn safety_as_expected<A>(report: &SearchReport<A>, expect: &BTreeMap<String, Expected>) -> Check {
    let safety: Vec<_> = report
        .properties
        .iter()
        .filter(|p| p.kind == crate::search::PropertyKind::Safety)
        .collect();
    let meets = |name: &str, verdict: Verdict| match expect.get(name) {
        Some(Expected::Holds) => verdict == Verdict::Holds,
        Some(Expected::Violated) => verdict == Verdict::Violated,
        None => true,
    };
    let met = safety.iter().all(|p| meets(p.name, p.verdict)) && report.complete();
    let held = safety
        .iter()
        .filter(|p| p.verdict == Verdict::Holds)
        .count();
    let mark = if met { "✓" } else { "✗" };
    let text = if held == safety.len() {
        format!("{held} of {held} safety properties hold {mark}")
    } else {
        let met = if met { "met" } else { "not met" };
        format!(
            "{held} of {} safety properties hold, [expect] {met} {mark}",
            safety.len()
        )
    };
    Check::new(text, met)
}

/// The length of zk-4643's shortest counterexample (`scenarios/zab/zk-4643.toml`).
const ZK_4643_SHORTEST: usize = 38;

/// The ZAB rows: the fixed protocol's complete space, and (not `quick`) zk-4643's first violation.
fn zab_runs(
    quick: bool,
    threads: usize,
    selected: &dyn Fn(&str) -> bool,
    out: &mut dyn std::io::Write,
) -> Vec<Row> {
    let mut rows = Vec::new();
    // The bundled scenarios' abstraction, so the rows measure what they check.
    let atomic = |config: ZabConfig| ZabConfig {
        leader_write: LeaderWrite::Atomic,
        ..config
    };
    let fixed = if quick {
        atomic(ZabConfig {
            crashes: 1,
            ..ZabConfig::new(3, 1)
        })
    } else {
        atomic(ZabConfig {
            crashes: 1,
            partitions: 1,
            ..ZabConfig::new(3, 2)
        })
    };
    let bug = atomic(ZabConfig {
        variant: ZabVariant::Zk4643,
        crashes: 2,
        epochs: 3,
        ..ZabConfig::new(3, 2)
    });
    let configs = if quick {
        vec![(fixed, false)]
    } else {
        vec![(fixed, false), (bug, true)]
    };
    for (config, first_violation) in configs {
        let label = if first_violation {
            "ZAB 4643 first-viol.".to_string()
        } else {
            format!(
                "ZAB T={} C={} P={}",
                config.transactions, config.crashes, config.partitions
            )
        };
        if !selected(&label) {
            continue;
        }
        let model = ZabModel::new(config).expect("the benchmark configurations are valid");
        let options = SearchOptions {
            strategy: Strategy::Bfs,
            limits: SearchLimits::default(),
            threads,
            full_space: !first_violation,
            stop_at_first_violation: first_violation,
            check_liveness: false,
            symmetry: false,
            reduction: Default::default(),
            swarm: None,
            properties: Selection::ALL,
            random: RandomOptions::default(),
        };
        let (report, cost) = measure(|| search(&model, &options, &mut |_| {}));
        let check = if first_violation {
            let length = report
                .property(prop::COMMITTED_LOG_DURABILITY)
                .and_then(|p| p.counterexample.as_ref())
                .map(|c| c.steps.len());
            match length {
                Some(ZK_4643_SHORTEST) => Check::new(
                    format!("committed_log_durability: {ZK_4643_SHORTEST} steps ✓"),
                    true,
                ),
                Some(other) => Check::new(
                    format!("trace {other} steps ✗ (shortest is {ZK_4643_SHORTEST})"),
                    false,
                ),
                None => Check::new("no violation found ✗", false),
            }
        } else {
            safety_held(&report)
        };
        let id = RowId {
            label,
            model: "zab",
            run: if first_violation {
                Run::FirstViolation.key()
            } else {
                Run::FullSpace.key()
            },
            size: None,
        };
        let row = Row::new(id, &report, &cost, check);
        row.write(out);
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed check fails the suite (and `lockscope bench` exits 1), in the table and in JSON.
    #[test]
    fn one_failed_check_fails_the_suite() {
        let model = reference_model(2, 0);
        let options = SearchOptions {
            strategy: Strategy::Bfs,
            limits: SearchLimits::default(),
            threads: 1,
            full_space: true,
            stop_at_first_violation: false,
            check_liveness: false,
            symmetry: false,
            reduction: Default::default(),
            swarm: None,
            properties: Selection::ALL,
            random: RandomOptions::default(),
        };
        let (report, cost) = measure(|| search(&model, &options, &mut |_| {}));
        let row = |ok| {
            let id = RowId {
                label: "N=2 E=0 safety".to_string(),
                model: "lock",
                run: Run::Safety.key(),
                size: Some((2, 0)),
            };
            Row::new(id, &report, &cost, Check::new("check", ok))
        };
        let passing = Suite {
            rows: vec![row(true), row(true)],
            measured: Vec::new(),
        };
        assert!(passing.ok());
        assert_eq!(passing.json(1, true)["ok"], true);
        let failing = Suite {
            rows: vec![row(true), row(false)],
            measured: Vec::new(),
        };
        assert!(!failing.ok());
        assert_eq!(failing.json(1, true)["ok"], false);
        assert_eq!(failing.json(1, true)["rows"][0]["unique_states"], 151);
    }

    /// Issue 20: `--quick` is quick: its ZAB row is the small fixed space (about 45 thousand
    /// states), not zk-4643's first violation (about 4 million), which only the full suite runs.
    #[test]
    fn the_quick_suite_leaves_out_the_zk_4643_row() {
        let mut out = Vec::new();
        let suite = run(true, 1, Some("ZAB"), &mut out);
        let labels: Vec<&str> = suite.rows.iter().map(|row| row.label.as_str()).collect();
        assert_eq!(labels, ["ZAB T=1 C=1 P=0"]);
        assert!(suite.ok(), "{}", String::from_utf8_lossy(&out));
        assert!(suite.rows[0].unique_states < 100_000);
    }

    /// A row without an oracle count says so ("no oracle", `oracle: null` in JSON) instead of
    /// wearing the ✓ of a comparison that was never made; equal and different counts are told
    /// apart in the text, `ok` and `oracle`.
    #[test]
    fn a_row_without_an_oracle_count_says_no_oracle() {
        let counts = (151, 260, 16);
        let none = Check::oracle(oracle_counts(5, 1), counts);
        assert_eq!(
            (none.text.as_str(), none.ok, none.oracle),
            ("no oracle", true, None)
        );
        let equal = Check::oracle(oracle_counts(2, 0), counts);
        assert_eq!((equal.ok, equal.oracle), (true, Some(true)));
        assert!(equal.text.contains('✓'), "{}", equal.text);
        let differs = Check::oracle(oracle_counts(2, 0), (151, 261, 16));
        assert_eq!((differs.ok, differs.oracle), (false, Some(false)));
        assert!(differs.text.contains('✗'), "{}", differs.text);
        let mut out = Vec::new();
        let suite = run(true, 1, Some("N=2 E=0 symmetry"), &mut out);
        let json = suite.json(1, true);
        assert_eq!(json["rows"][0]["oracle"], serde_json::Value::Null, "{json}");
        let suite = run(true, 1, Some("N=2 E=0 safety"), &mut out);
        assert_eq!(suite.json(1, true)["rows"][0]["oracle"], true);
    }

    /// The ensemble control's row searches the bundled scenario's complete space: the counts of
    /// the independent oracle of that world (22,085 states), every safety property holding, in
    /// `--quick` too; its JSON names the model and size.
    #[test]
    fn the_ensemble_control_row_counts_what_its_oracle_counts() {
        assert_eq!(
            ensemble_scenarios()[0].oracle,
            Some((22_085, 67_746, 48)),
            "the oracle's line"
        );
        let mut out = Vec::new();
        let suite = run(true, 2, Some("ensemble"), &mut out);
        let table = String::from_utf8_lossy(&out);
        assert_eq!(suite.rows.len(), 2, "unreduced and partial-order: {table}");
        let row = &suite.rows[0];
        assert_eq!(row.label, "ensemble control safety");
        assert_eq!(
            (
                row.unique_states,
                row.transitions,
                row.max_depth,
                row.complete
            ),
            (22_085, 67_746, 48, true)
        );
        assert_eq!((row.ok, row.oracle), (true, Some(true)), "{table}");
        assert!(
            row.check.contains("= oracle ✓") && row.check.contains("safety properties hold ✓"),
            "{}",
            row.check
        );
        let json = suite.json(2, true);
        let row = &json["rows"][0];
        assert_eq!(
            (
                &row["model"],
                &row["run"],
                &row["clients"],
                &row["expiries"]
            ),
            (
                &serde_json::json!("ensemble"),
                &serde_json::json!("safety"),
                &serde_json::json!(2),
                &serde_json::json!(0)
            )
        );
        // The reduced row: fewer states, every safety property still holding.
        let reduced = &suite.rows[1];
        assert_eq!(
            (reduced.label.as_str(), reduced.run),
            ("ensemble control partial-order", "partial_order")
        );
        assert!(reduced.unique_states < 22_085 && reduced.complete);
        assert!(
            reduced.ok && reduced.check.contains("× fewer states"),
            "{}",
            reduced.check
        );
    }

    /// Issues 19 and 22: the minority holder's row searches the complete space of the bundled
    /// scenario (past its violations: the count `check` reports) and meets its `[expect]`: mutual
    /// exclusion violated, the properties it names as holding hold. It is not in `--quick`, and has no partial-order row
    /// (a world with failover names no persistent sets).
    #[test]
    fn the_minority_holder_row_meets_its_scenarios_expectations() {
        let mut out = Vec::new();
        let quick = run(true, 2, Some("ensemble minority"), &mut out);
        assert!(quick.rows.is_empty(), "not in --quick");
        let suite = run(false, 2, Some("ensemble minority"), &mut out);
        let table = String::from_utf8_lossy(&out);
        assert_eq!(suite.rows.len(), 1, "{table}");
        let row = &suite.rows[0];
        assert_eq!(
            (row.label.as_str(), row.run, row.complete),
            ("ensemble minority full space", "full_space", true)
        );
        assert_eq!(
            (row.unique_states, row.transitions, row.max_depth),
            (429_605, 1_334_859, 49),
            "the count of docs/ensemble.md: {table}"
        );
        assert!(
            row.ok && row.check.contains("[expect] met ✓"),
            "{}",
            row.check
        );
        // The resident set's growth is the process's, and the test harness runs other tests in
        // this process at the same time: one that frees memory during the run can make the
        // growth zero. The peak itself is always there; `lockscope bench`, a process of its own,
        // is where bytes per state mean something.
        assert!(
            row.peak_rss_bytes > 0 && row.states_per_second > 0.0,
            "{table}"
        );
    }

    /// Memory an earlier run freed must not count in the next run's peak: 256 MiB of small
    /// allocations (which the allocator keeps when freed) are gone from the resident set once the
    /// peak is reset. Half of it is the margin for other tests allocating at the same time.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn freed_memory_leaves_the_resident_set_before_a_run() {
        const MIB: u64 = 1024 * 1024;
        let blocks: Vec<Box<[u8; 1024]>> = (0..256 * 1024).map(|_| Box::new([1; 1024])).collect();
        let holding = proc_status_bytes("VmRSS:").expect("Linux reports the resident set");
        drop(blocks);
        reset_peak_memory();
        let after = proc_status_bytes("VmRSS:").expect("Linux reports the resident set");
        assert!(
            after + 128 * MIB < holding,
            "resident {} MiB while holding the blocks, {} MiB after the reset",
            holding / MIB,
            after / MIB
        );
    }
}

//! `lockscope bench`: the reference workload of `shared/bench/lock-recipe-reference.md`.
//!
//! Sizes: N = 2..5 clients without expiry (complete search), N = 2..4 with one expiry (the whole
//! space, continuing past violations, and separately a breadth-first search that stops at the first
//! violation, whose trace must be the shortest). Every complete count is compared with the counts
//! of an independent implementation of the workload text (`tests/oracle/results.jsonl`).
//!
//! Memory is the process's peak resident set during one run: the peak is reset before each run
//! (Linux `clear_refs`), and bytes per state divide the growth over the run by the unique states.

use std::time::Instant;

use lockscope_models::lock::{LockConfig, LockModel, Recipe, Variant};
use lockscope_models::prop;

use crate::report::thousands;
use crate::search::{search, SearchLimits, SearchOptions, Strategy};

/// Complete counts of the independent oracle, one JSON object per line.
const ORACLE: &str = include_str!("../tests/oracle/results.jsonl");

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
        recipe: Recipe::Standard,
        variant: Variant::Fixed,
        clients,
        acquisitions: 1,
        retry_after_expiry: false,
        session_expiries,
        client_pauses: 0,
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

/// Reset the peak resident set, so that the next reading covers one run only.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Run the suite and print one row per run.
pub fn run(quick: bool, threads: usize) {
    let max_clients = if quick { 3 } else { 5 };
    let max_clients_expiry = if quick { 3 } else { 4 };
    println!("lockscope bench · lock-recipe-reference · {threads} thread(s)");
    println!(
        "{:<22} {:>12} {:>13} {:>6} {:>9} {:>12} {:>10} {:>8}  check",
        "run", "states", "transitions", "depth", "seconds", "states/s", "peak MiB", "B/state"
    );
    let mut runs: Vec<(u8, u8, bool)> = (2..=max_clients).map(|n| (n, 0, false)).collect();
    runs.extend((2..=max_clients_expiry).map(|n| (n, 1, false)));
    runs.extend((2..=max_clients_expiry).map(|n| (n, 1, true)));
    for (clients, expiries, first_violation) in runs {
        let model = reference_model(clients, expiries);
        let options = SearchOptions {
            strategy: Strategy::Bfs,
            limits: SearchLimits::default(),
            threads,
            full_space: !first_violation,
            stop_at_first_violation: first_violation,
        };
        reset_peak_memory();
        let baseline = proc_status_bytes("VmRSS:").unwrap_or(0);
        let started = Instant::now();
        let report = search(&model, &options, &mut |_| {});
        let seconds = started.elapsed().as_secs_f64();
        let peak = proc_status_bytes("VmHWM:").unwrap_or(0);
        let per_state = peak.saturating_sub(baseline) as f64 / report.unique_states.max(1) as f64;
        let check = if first_violation {
            let length = report
                .property(prop::MUTUAL_EXCLUSION)
                .and_then(|p| p.counterexample.as_ref())
                .map(|c| c.steps.len());
            match length {
                Some(11) => "shortest trace: 11 steps ✓".to_string(),
                Some(other) => format!("trace {other} steps ✗ (shortest is 11)"),
                None => "no violation found ✗".to_string(),
            }
        } else {
            match oracle_counts(clients, expiries) {
                Some(expected)
                    if expected == (report.unique_states, report.transitions, report.max_depth) =>
                {
                    "= oracle ✓".to_string()
                }
                Some(expected) => format!("≠ oracle {expected:?} ✗"),
                None => "no oracle count".to_string(),
            }
        };
        let label = format!(
            "N={clients} E={expiries} {}",
            if first_violation {
                "first-viol."
            } else if expiries > 0 {
                "full space"
            } else {
                "complete"
            }
        );
        println!(
            "{:<22} {:>12} {:>13} {:>6} {:>9.2} {:>12} {:>10.1} {:>8.1}  {}",
            label,
            thousands(report.unique_states),
            thousands(report.transitions),
            report.max_depth,
            seconds,
            thousands((report.unique_states as f64 / seconds.max(1e-9)) as u64),
            peak as f64 / (1024.0 * 1024.0),
            per_state,
            check
        );
    }
}

//! Scenario 1a of the ensemble design (docs/design/ensemble.md §7: the standard recipe, two clients
//! on the followers S0 and S1 of a 3-server ensemble led by S2, no faults) searched by lockscope's
//! engine: its counts must equal those of an independent Python search at the same step
//! granularity (`tests/oracle/ensemble_oracle.py --exact`), pinned in
//! `tests/oracle/ensemble_results.jsonl` and re-run here, and every lock and ZAB property holds.

use std::path::Path;
use std::process::Command;

use lockscope::search::{search, SearchOptions, Stop, Strategy, Verdict};
use lockscope_models::ensemble::{Ensemble, EnsembleConfig};
use lockscope_models::lock::{LockConfig, LockModel, Recipe};
use lockscope_models::zab::ZabConfig;
use lockscope_models::{prop, Liveness};
use stateright::Model;

mod common;

/// The oracle's output for scenario 1a, as it prints it.
const PINNED: &str = include_str!("oracle/ensemble_results.jsonl");

fn pinned() -> serde_json::Value {
    serde_json::from_str(PINNED.trim()).expect("one JSON line")
}

fn control() -> LockModel<Ensemble> {
    let ensemble = EnsembleConfig::new(ZabConfig::new(3, 0), EnsembleConfig::followers_in_turn(3));
    LockModel::on_ensemble(LockConfig::new(Recipe::Standard, 2), ensemble).expect("valid")
}

fn options(strategy: Strategy, threads: usize) -> SearchOptions {
    SearchOptions {
        strategy,
        threads,
        full_space: true,
        ..SearchOptions::default()
    }
}

/// The oracle, run again: its output must be the pinned line. Under `CI=true` a missing python3
/// fails the test; elsewhere it is skipped with a message.
#[test]
fn the_ensemble_oracle_still_prints_the_pinned_counts() {
    if !common::python3_runs() {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/ensemble_oracle.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg("--exact")
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let printed: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|err| panic!("the oracle's output is one JSON line ({err}): {stdout}"));
    assert_eq!(printed, pinned());
}

/// Goal: the complete space of scenario 1a is the oracle's, on one thread and two, breadth- and
/// depth-first, and every property the world declares holds (the lock's, ZAB's, and, where the
/// search checks liveness (breadth-first), `every_waiter_acquires`).
#[test]
fn the_no_fault_control_counts_what_the_oracle_counts_and_holds_everything() {
    let oracle = pinned();
    let model = control();
    let declared: Vec<&str> = model
        .properties()
        .iter()
        .map(|p| p.name)
        .chain(model.liveness_properties())
        .collect();
    for name in [
        prop::MUTUAL_EXCLUSION,
        prop::AGREEMENT,
        prop::EVERY_WAITER_ACQUIRES,
    ] {
        assert!(declared.contains(&name), "{name} is checked");
    }
    for (strategy, threads) in [(Strategy::Bfs, 1), (Strategy::Bfs, 2), (Strategy::Dfs, 1)] {
        let report = search(&model, &options(strategy, threads), &mut |_| {});
        let label = format!("{strategy:?} threads={threads}");
        assert_eq!(report.stop, Stop::Exhausted, "{label}");
        assert_eq!(
            Some(report.unique_states),
            oracle["states"].as_u64(),
            "{label}"
        );
        assert_eq!(
            Some(report.transitions),
            oracle["transitions"].as_u64(),
            "{label}"
        );
        if strategy == Strategy::Bfs {
            assert_eq!(
                Some(u64::from(report.max_depth)),
                oracle["depth"].as_u64(),
                "{label}"
            );
        }
        assert_eq!(report.properties.len(), declared.len(), "{label}");
        for property in &report.properties {
            let checked = strategy == Strategy::Bfs || property.name != prop::EVERY_WAITER_ACQUIRES;
            if checked {
                assert_eq!(
                    property.verdict,
                    Verdict::Holds,
                    "{label}: {}",
                    property.name
                );
            }
        }
    }
}

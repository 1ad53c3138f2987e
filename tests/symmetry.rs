//! Symmetry reduction keeps every safety verdict and every shortest counterexample length of the
//! bundled lock scenarios, visits fewer states, and its traces are ordinary runs that replay.

use std::path::Path;

use lockscope::check::{self, RunOptions, ScenarioOutcome};
use lockscope::commands::scenario_files;
use lockscope::scenario::Scenario;
use lockscope::search::{PropertyKind, Strategy, Verdict};

fn run(scenario: &Scenario, file: &Path, symmetry: bool) -> ScenarioOutcome {
    let reports = tempfile::tempdir().expect("temporary folder");
    let options = RunOptions {
        threads: 2,
        full_space: false,
        report_dir: reports.path().to_path_buf(),
        only_run: None,
        shard: None,
        symmetry,
        reduction: Default::default(),
    };
    // `check::run` replays every trace it writes: a reduced search's traces must be real runs.
    check::run(scenario, file, &options, &mut |_| {}).expect("the run writes its traces")
}

#[test]
fn symmetry_reduction_keeps_safety_verdicts_and_shortest_lengths() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/lock");
    let mut compared = 0;
    for file in scenario_files(&[folder]).expect("the bundled scenarios") {
        let scenario = Scenario::load(&file).unwrap_or_else(|err| panic!("{err}"));
        if scenario.check.strategy != Strategy::Bfs {
            continue;
        }
        let full = run(&scenario, &file, false);
        let reduced = run(&scenario, &file, true);
        let name = &scenario.name;
        assert_eq!(reduced.search.symmetry, Some("clients"));
        assert!(
            reduced.search.unique_states <= full.search.unique_states,
            "{name}: the reduction never adds states"
        );
        if scenario.model.clients > 1 && full.search.complete {
            assert!(
                reduced.search.unique_states < full.search.unique_states,
                "{name}: interchangeable clients merge some states"
            );
        }
        for (a, b) in full.properties.iter().zip(&reduced.properties) {
            assert_eq!(a.name, b.name);
            if a.kind == PropertyKind::Liveness {
                assert_eq!(b.verdict, Verdict::Unknown, "{name}: liveness not checked");
                continue;
            }
            assert_eq!(a.verdict, b.verdict, "{name}: {}", a.name);
            assert_eq!(
                a.trace_length, b.trace_length,
                "{name}: {} shortest",
                a.name
            );
        }
        compared += 1;
    }
    assert!(compared >= 20, "compared {compared} scenarios");
}

#[test]
fn symmetry_reduction_is_refused_where_it_does_not_apply() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/lock/random-expiry.toml");
    let scenario = Scenario::load(&file).expect("valid");
    let options = RunOptions {
        threads: 1,
        full_space: false,
        report_dir: std::env::temp_dir(),
        only_run: None,
        shard: None,
        symmetry: true,
        reduction: Default::default(),
    };
    let error = check::run(&scenario, &file, &options, &mut |_| {}).expect_err("random search");
    assert!(
        error.contains(
            "symmetry reduction (--symmetry, [check] symmetry) needs a breadth-first search"
        ),
        "{error}"
    );
}

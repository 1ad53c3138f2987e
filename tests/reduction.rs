//! Partial-order reduction hides no violation: every bundled scenario a complete search can
//! afford gets the same safety verdicts with and without it (docs/reduction.md). A reduction
//! that took a step a property can see, or put a step off around a cycle, would lose a
//! violation here, or in the hand-built worlds of `search::reduction`'s unit tests.

mod common;

use std::path::{Path, PathBuf};

use lockscope::check::{self, ScenarioOutcome};
use lockscope::commands::scenario_files;
use lockscope::scenario::Scenario;
use lockscope::search::{PropertyKind, Reduction, Strategy, Verdict};
use lockscope_models::prop;

/// Scenarios left out, and why: each is named, so that a new large scenario is a decision.
const TOO_LARGE: &[(&str, &str)] = &[
    (
        "bench/reference-n5-e0.toml",
        "7.5 million states unreduced: minutes in a test",
    ),
    (
        "ensemble/zk-2845.toml",
        "3.0 million states, and an ensemble with failover names no persistent sets: the reduced search is the whole one again",
    ),
    (
        "ensemble/curator-retry.toml",
        "5.7 million states, and an ensemble whose clients open a new session after an expiry names no persistent sets: the reduced search is the whole one again",
    ),
    (
        "ensemble/zk-2845-fixed.toml",
        "3.8 million states, and an ensemble with failover names no persistent sets: the reduced search is the whole one again",
    ),
];

fn run(
    scenario: &Scenario,
    file: &Path,
    reduction: Reduction,
    threads: usize,
) -> Result<ScenarioOutcome, String> {
    let reports = tempfile::tempdir().expect("temporary folder");
    let options = check::RunOptions {
        threads,
        ..common::run_options(reports.path(), reduction)
    };
    // `check::run` replays every trace it writes: a reduced search's traces must be real runs.
    check::run(scenario, file, &options, &mut |_| {})
}

/// Why `scenario` is not compared, if it is not.
fn left_out(relative: &str, scenario: &Scenario) -> Option<&'static str> {
    if let Some((_, why)) = TOO_LARGE.iter().find(|(name, _)| *name == relative) {
        return Some(why);
    }
    if scenario.check.strategy != Strategy::Bfs {
        return Some("not a breadth-first search");
    }
    let check = &scenario.check;
    if check.max_depth > 0 || check.max_states > 0 || !check.time_limit.is_zero() {
        // A reduced graph's depths are not the whole graph's: only complete searches compare.
        return Some("bounded");
    }
    None
}

/// Every safety property: a reduced search checks no liveness.
fn safety_properties() -> Vec<String> {
    let liveness = [
        prop::EVERY_WAITER_ACQUIRES,
        prop::LEADER_EVENTUALLY_ELECTED,
        prop::PROPOSALS_EVENTUALLY_COMMITTED,
    ];
    prop::ALL
        .iter()
        .filter(|name| !liveness.contains(name))
        .map(|name| name.to_string())
        .collect()
}

#[test]
fn every_complete_scenario_keeps_its_safety_verdicts_under_partial_order_reduction() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let files: Vec<PathBuf> = scenario_files(std::slice::from_ref(&root)).expect("scenarios");
    let (mut compared, mut smaller) = (0, 0);
    for file in files {
        let relative = file
            .strip_prefix(&root)
            .expect("under scenarios/")
            .to_string_lossy()
            .into_owned();
        let mut scenario = Scenario::load(&file).unwrap_or_else(|err| panic!("{err}"));
        if let Some(why) = left_out(&relative, &scenario) {
            eprintln!("{relative}: left out ({why})");
            continue;
        }
        // Safety only, in both searches: the unreduced one then records no graph either.
        scenario.check.properties = safety_properties();
        let reduced = match run(&scenario, &file, Reduction::PartialOrder, 2) {
            Ok(outcome) => outcome,
            Err(err) => {
                // ZAB's worlds name no persistent sets: the reduction is refused, not ignored.
                assert!(
                    relative.starts_with("zab/") && err.contains("is not offered by this model"),
                    "{relative}: {err}"
                );
                continue;
            }
        };
        let whole = run(&scenario, &file, Reduction::None, 2).expect("an unreduced run");
        assert!(
            whole.search.complete && reduced.search.complete,
            "{relative}"
        );
        assert_eq!(reduced.search.reduction, Reduction::PartialOrder);
        assert!(
            reduced.search.unique_states <= whole.search.unique_states,
            "{relative}: the reduction never adds states"
        );
        smaller += usize::from(reduced.search.unique_states < whole.search.unique_states);
        compared += 1;
        for (w, r) in whole.properties.iter().zip(&reduced.properties) {
            assert_eq!(w.name, r.name);
            if w.kind != PropertyKind::Safety || w.verdict == Verdict::NotChecked {
                continue;
            }
            assert_eq!(
                (r.name, r.verdict),
                (w.name, w.verdict),
                "{relative}: the same verdict"
            );
            if let (Some(shortest), Some(length)) = (w.trace_length, r.trace_length) {
                assert!(
                    length >= shortest,
                    "{relative}: {} no shorter than the shortest",
                    w.name
                );
            }
        }
    }
    assert!(
        compared >= 30,
        "the bundled scenarios are compared ({compared})"
    );
    assert!(
        smaller * 2 > compared,
        "the reduction removes states in most of them ({smaller} of {compared})"
    );
}

/// The option end to end: set in `[check]` or on the command line, named in the summary and the
/// JSON result, a counterexample "shortest in the reduced graph", liveness not checked; refused
/// (exit 2, naming the option) where it does not apply.
#[test]
fn the_reduction_is_named_where_it_runs_and_refused_where_it_does_not_apply() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let world = "[model]\nkind = \"lock\"\nrecipe = \"standard\"\nclients = 3\n[faults]\nsession_expiries = 1\n";
    let file = dir.path().join("po.toml");
    let text = format!(
        "{world}[check]\nreduction = \"partial-order\"\n[expect]\nmutual_exclusion = \"violated\"\n"
    );
    std::fs::write(&file, text).expect("written");
    let file = file.to_str().expect("a UTF-8 path");
    let output = common::lockscope(dir.path(), &["check", file, "--json", "out.json"]);
    let out = common::stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{out}{}",
        common::stderr(&output)
    );
    assert!(
        out.contains("partial-order reduction · 11,141 unique states"),
        "{out}"
    );
    assert!(out.contains("shortest in the reduced graph"), "{out}");
    assert!(
        out.contains("liveness is not checked under partial-order reduction"),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.json")).unwrap())
            .expect("JSON");
    assert_eq!(json["results"][0]["search"]["reduction"], "partial-order");

    let output = common::lockscope(dir.path(), &["check", file, "--reduction", "none"]);
    let out = common::stdout(&output);
    assert!(out.contains("· 32,091 unique states"), "{out}");
    assert!(!out.contains("partial-order"), "{out}");

    let refused = |args: &[&str], expected: &str| {
        let output = common::lockscope(dir.path(), args);
        let err = common::stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(err.contains(expected), "{err}");
    };
    let reduced = ["--reduction", "partial-order"];
    let depth_first = [&["check", file, "--strategy", "dfs"][..], &reduced].concat();
    refused(
        &depth_first,
        "partial-order reduction (--reduction, [check] reduction) needs a breadth-first search",
    );
    let with_symmetry = [&["check", file, "--symmetry"][..], &reduced].concat();
    refused(
        &with_symmetry,
        "is not made together with symmetry reduction",
    );
    let zab = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/zab/fixed-one-crash.toml");
    let zab = [&["check", zab.to_str().unwrap()][..], &reduced].concat();
    refused(&zab, "is not offered by this model");
    let misspelt = dir.path().join("misspelt.toml");
    std::fs::write(&misspelt, format!("{world}[check]\nreduction = \"por\"\n")).unwrap();
    refused(
        &["check", misspelt.to_str().unwrap()],
        "check.reduction: expected none or partial-order; found \"por\"",
    );
}

/// The reduced graph is the search's own (docs/reduction.md): the same states at any thread
/// count, and pinned here per kind of world, so that a change to which sets are taken (a
/// condition made stricter offers fewer sets and still keeps every verdict) is seen. The counts
/// were measured when the reduction was written; beside each, the whole space's.
#[test]
fn the_reduced_graph_is_the_same_at_any_thread_count_and_pinned() {
    let pinned: &[(&str, usize, usize)] = &[
        // 3 clients, one session expiry: whole space 32,091 states.
        ("bench/reference-n3-e1.toml", 11_141, 22_406),
        // 4 clients, no fault: 142,549.
        ("bench/reference-n4-e0.toml", 31_469, 54_593),
        // A partition, sets only once it is spent and healed: 1,527.
        ("lock/curator-partition.toml", 1_509, 3_442),
        // The standard recipe with an expiry: 749.
        ("lock/standard-expiry.toml", 405, 682),
        // Three servers, no fault: the servers' steps are never in a set: 22,085.
        ("ensemble/control.toml", 18_142, 42_810),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for &(relative, states, transitions) in pinned {
        let file = root.join(relative);
        let mut scenario = Scenario::load(&file).unwrap_or_else(|err| panic!("{err}"));
        scenario.check.properties = safety_properties();
        for threads in [1, 2] {
            let outcome = run(&scenario, &file, Reduction::PartialOrder, threads)
                .unwrap_or_else(|err| panic!("{relative}: {err}"));
            assert!(outcome.search.complete, "{relative}");
            assert_eq!(
                (outcome.search.unique_states, outcome.search.transitions),
                (states as u64, transitions as u64),
                "{relative} with {threads} thread(s)"
            );
        }
    }
}

//! The search engine's promises: shortest counterexamples (checked against a brute force),
//! honest bounds, determinism across thread counts, and traces that round-trip and replay.

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use lockscope::registry::lock_scenario;
use lockscope::scenario::Scenario;
use lockscope::search::{
    search, Counterexample, SearchLimits, SearchOptions, Stop, Strategy, Verdict,
};
use lockscope::trace::{self, Trace};
use lockscope_models::lock::{LockAction, LockConfig, LockModel, Recipe, Variant};
use lockscope_models::pack::PackState;
use lockscope_models::prop;
use proptest::prelude::*;
use stateright::Model;

fn model(recipe: Recipe, variant: Variant, clients: u8, expiries: u8, pauses: u8) -> LockModel {
    let config = LockConfig {
        variant,
        session_expiries: expiries,
        client_pauses: pauses,
        ..LockConfig::new(recipe, clients)
    };
    LockModel::new(config).expect("valid configuration")
}

fn bfs(threads: usize, limits: SearchLimits) -> SearchOptions {
    SearchOptions {
        limits,
        threads,
        ..SearchOptions::default()
    }
}

/// The least number of steps to a state violating `property`, by a plain breadth-first search
/// that keeps full states in a map: slow, simple, and independent of the engine.
fn brute_force_shortest(model: &LockModel, property: &str) -> Option<usize> {
    let condition = model
        .properties()
        .into_iter()
        .find(|p| p.name == property)
        .expect("declared")
        .condition;
    let init = model.init_states().swap_remove(0);
    let mut depth = HashMap::from([(init, 0usize)]);
    let mut queue = VecDeque::from([init]);
    while let Some(state) = queue.pop_front() {
        let d = depth[&state];
        if !condition(model, &state) {
            return Some(d);
        }
        for next in model.next_states(&state) {
            if let std::collections::hash_map::Entry::Vacant(slot) = depth.entry(next) {
                slot.insert(d + 1);
                queue.push_back(next);
            }
        }
    }
    None
}

#[test]
fn breadth_first_counterexamples_are_the_shortest() {
    let cases = [
        (
            model(Recipe::Standard, Variant::Fixed, 2, 1, 0),
            prop::MUTUAL_EXCLUSION,
        ),
        (
            model(Recipe::Standard, Variant::Fixed, 3, 1, 1),
            prop::MUTUAL_EXCLUSION,
        ),
        (
            model(Recipe::Herd, Variant::SkipRecheck, 3, 0, 0),
            prop::MUTUAL_EXCLUSION,
        ),
        (model(Recipe::Naive, Variant::Fixed, 3, 0, 0), prop::NO_HERD),
        (
            model(Recipe::Fenced, Variant::UncheckedResource, 2, 1, 1),
            prop::FENCED_RESOURCE_SAFETY,
        ),
        (
            model(Recipe::Standard, Variant::IgnoreMissingPredecessor, 3, 0, 0),
            prop::NO_DEADLOCK,
        ),
    ];
    for (model, property) in cases {
        let expected =
            brute_force_shortest(&model, property).expect("the brute force finds a violation");
        for threads in [1, 2] {
            let report = search(&model, &bfs(threads, SearchLimits::default()), &mut |_| {});
            let found = report
                .property(property)
                .and_then(|p| p.counterexample.as_ref())
                .map(|c| c.steps.len());
            assert_eq!(
                found,
                Some(expected),
                "{property} with {threads} thread(s) in {:?}",
                model.config
            );
        }
    }
}

#[test]
fn a_depth_bound_covers_exactly_that_many_steps() {
    // The shortest mutual-exclusion violation with one expiry takes 11 steps.
    let model = model(Recipe::Standard, Variant::Fixed, 2, 1, 0);
    let at = |depth| {
        search(
            &model,
            &bfs(
                2,
                SearchLimits {
                    max_depth: Some(depth),
                    ..SearchLimits::default()
                },
            ),
            &mut |_| {},
        )
    };
    let eleven = at(11);
    assert_eq!(
        eleven.property(prop::MUTUAL_EXCLUSION).unwrap().verdict,
        Verdict::Violated
    );
    let ten = at(10);
    assert_eq!(ten.stop, Stop::MaxDepth);
    assert_eq!(ten.depth_covered, 10);
    assert_eq!(ten.max_depth, 10);
    let me = ten.property(prop::MUTUAL_EXCLUSION).unwrap();
    assert_eq!(
        (me.verdict, me.reason.as_deref()),
        (Verdict::Unknown, Some("bounded: max_depth"))
    );
    let deadlock = ten.property(prop::NO_DEADLOCK).unwrap();
    assert_eq!(
        deadlock.verdict,
        Verdict::Unknown,
        "a bounded search never says holds"
    );
}

#[test]
fn a_bound_at_the_diameter_is_still_complete() {
    let model = model(Recipe::Standard, Variant::Fixed, 2, 0, 0);
    let report = search(
        &model,
        &bfs(
            1,
            SearchLimits {
                max_depth: Some(16),
                ..SearchLimits::default()
            },
        ),
        &mut |_| {},
    );
    assert_eq!(report.stop, Stop::Exhausted, "nothing lies beyond depth 16");
    assert_eq!(
        report.property(prop::MUTUAL_EXCLUSION).unwrap().verdict,
        Verdict::Holds
    );
}

#[test]
fn a_state_bound_stops_the_search_and_says_so() {
    let model = model(Recipe::Standard, Variant::Fixed, 3, 0, 0);
    for strategy in [Strategy::Bfs, Strategy::Dfs] {
        let options = SearchOptions {
            strategy,
            ..bfs(
                2,
                SearchLimits {
                    max_states: Some(100),
                    ..SearchLimits::default()
                },
            )
        };
        let report = search(&model, &options, &mut |_| {});
        assert_eq!(report.stop, Stop::MaxStates, "{strategy:?}");
        assert_eq!(report.unique_states, 100, "{strategy:?}");
        assert_eq!(
            report.property(prop::MUTUAL_EXCLUSION).unwrap().verdict,
            Verdict::Unknown,
            "{strategy:?}"
        );
    }
}

fn scenario_for(model: &LockModel) -> Scenario {
    lock_scenario("engine-test", model.config)
}

#[test]
fn results_and_traces_do_not_depend_on_the_thread_count() {
    let model = model(Recipe::Fenced, Variant::UncheckedResource, 3, 1, 1);
    let scenario = scenario_for(&model);
    let mut runs = Vec::new();
    for threads in [1, 2, 3] {
        let options = SearchOptions {
            full_space: true,
            ..bfs(threads, SearchLimits::default())
        };
        let report = search(&model, &options, &mut |_| {});
        let traces: Vec<String> = report
            .properties
            .iter()
            .filter_map(|p| {
                p.counterexample
                    .as_ref()
                    .map(|steps| Trace::record(&model, &scenario, p.name, None, steps).to_json())
            })
            .collect();
        runs.push((
            report.unique_states,
            report.transitions,
            report.max_depth,
            traces,
        ));
    }
    assert!(
        !runs[0].3.is_empty(),
        "the scenario has counterexamples to compare"
    );
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
}

#[test]
fn a_step_that_is_no_longer_enabled_is_a_divergence() {
    let model = model(Recipe::Standard, Variant::Fixed, 2, 1, 0);
    let report = search(&model, &bfs(1, SearchLimits::default()), &mut |_| {});
    let steps = report
        .property(prop::MUTUAL_EXCLUSION)
        .unwrap()
        .counterexample
        .clone()
        .unwrap();
    let mut trace = Trace::record(
        &model,
        &scenario_for(&model),
        prop::MUTUAL_EXCLUSION,
        None,
        &steps,
    );
    trace.steps.swap(2, 3);
    let err =
        trace::replay(&model, &trace, Path::new("t.json")).expect_err("the swapped steps diverge");
    let message = err.to_string();
    assert!(
        message.starts_with("t.json: step 3: divergence: `S → C0 Created(/lock/lock-0000000000)`"),
        "{message}"
    );
    assert!(message.contains("is not enabled; enabled:"), "{message}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A random walk, recorded as a trace, survives JSON and replays to the same steps.
    #[test]
    fn traces_round_trip_through_json_and_replay(
        recipe in proptest::sample::select(Recipe::ALL.to_vec()),
        clients in 1u8..4,
        expiries in 0u8..2,
        pauses in 0u8..2,
        choices in proptest::collection::vec(any::<proptest::sample::Index>(), 0..40),
    ) {
        let model = model(recipe, Variant::Fixed, clients, expiries, pauses);
        let mut state = model.init_states().swap_remove(0);
        let mut steps: Vec<LockAction> = Vec::new();
        for choice in choices {
            let mut actions = Vec::new();
            model.actions(&state, &mut actions);
            if actions.is_empty() {
                break;
            }
            let action = actions[choice.index(actions.len())];
            state = model.next_state(&state, action).expect("enabled");
            steps.push(action);
        }
        let walk = Counterexample::path(steps);
        let trace = Trace::record(&model, &scenario_for(&model), prop::MUTUAL_EXCLUSION, None, &walk);
        let text = trace.to_json();
        let parsed: Trace = serde_json::from_str(&text).expect("a written trace parses");
        prop_assert_eq!(&parsed, &trace);
        prop_assert_eq!(parsed.to_json(), text, "byte-identical after a round trip");
        let replayed = trace::replay(&model, &parsed, Path::new("t.json")).expect("a recorded walk replays");
        let summaries: Vec<&str> = trace.steps.iter().map(|s| s.summary.as_str()).collect();
        prop_assert_eq!(replayed.summaries.iter().map(String::as_str).collect::<Vec<_>>(), summaries);
        prop_assert_eq!(replayed.violated, state.holders() > 1);
    }
}

#[test]
fn a_depth_first_search_bounded_at_the_diameter_is_complete() {
    let model = model(Recipe::Standard, Variant::Fixed, 3, 0, 0);
    let options = SearchOptions {
        strategy: Strategy::Dfs,
        limits: SearchLimits {
            max_depth: Some(24),
            ..SearchLimits::default()
        },
        ..SearchOptions::default()
    };
    let report = search(&model, &options, &mut |_| {});
    assert_eq!(
        report.stop,
        Stop::Exhausted,
        "every state lies within 24 steps, as BFS shows"
    );
    assert_eq!(report.unique_states, 3_831);
    let shallower = SearchOptions {
        limits: SearchLimits {
            max_depth: Some(20),
            ..SearchLimits::default()
        },
        ..options
    };
    assert_eq!(search(&model, &shallower, &mut |_| {}).stop, Stop::MaxDepth);
}

#[test]
fn faults_that_could_still_happen_do_not_hide_a_deadlock() {
    // The lost wakeup deadlocks in 15 steps; an unused pause budget must not make the shortest
    // counterexample end in a pointless pause and resume.
    let shortest = |pauses| {
        let model = model(
            Recipe::Standard,
            Variant::IgnoreMissingPredecessor,
            2,
            0,
            pauses,
        );
        let report = search(&model, &bfs(2, SearchLimits::default()), &mut |_| {});
        report
            .property(prop::NO_DEADLOCK)
            .unwrap()
            .counterexample
            .as_ref()
            .map(|c| c.steps.len())
    };
    assert_eq!(shortest(0), Some(15));
    assert_eq!(shortest(1), Some(15));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The breadth-first search keeps states packed by hand (`lockscope_models::pack`) and
    /// fingerprints the packed bytes: every state a walk reaches, with every fault kind, three
    /// clients, several rounds and the fenced recipe's tokens, unpacks to itself, and two
    /// different states never pack alike. A lossy encoding would silently merge or corrupt states.
    #[test]
    fn packed_states_round_trip(
        recipe in proptest::sample::select(vec![Recipe::Naive, Recipe::Herd, Recipe::Standard, Recipe::Fenced]),
        acquisitions in 0u8..3,
        choices in proptest::collection::vec(any::<u16>(), 1..60),
    ) {
        let model = LockModel::new(LockConfig {
            acquisitions,
            retry_after_expiry: true,
            session_expiries: 1,
            client_pauses: 1,
            message_loss: 1,
            partitions: 1,
            crashes: 1,
            ..LockConfig::new(recipe, 3)
        })
        .expect("valid");
        let mut state = model.init_states().swap_remove(0);
        let mut packed_as = HashMap::new();
        for choice in choices {
            prop_assert_eq!(&lockscope_models::pack::round_trip(&state), &state);
            let mut packed = Vec::new();
            state.pack_state(&mut packed);
            if let Some(other) = packed_as.insert(packed, state) {
                prop_assert_eq!(other, state, "two states pack alike");
            }
            let mut actions = Vec::new();
            model.actions(&state, &mut actions);
            if actions.is_empty() {
                break;
            }
            let action = actions.swap_remove(usize::from(choice) % actions.len());
            state = model.next_state(&state, action).expect("a next state");
        }
    }
}

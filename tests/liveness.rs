//! Liveness end to end: canonical renaming (acquisitions forever) merges nothing a property can
//! tell apart, and every reported lasso replays: the stem reaches the loop state, the cycle returns
//! to it, stays fair, and keeps the obligation pending.

use std::path::Path;

use lockscope::registry::lock_scenario;
use lockscope::scenario::Scenario;
use lockscope::search::{search, SearchOptions, SearchReport, Stop, Verdict};
use lockscope::trace::{self, Trace};
use lockscope_models::lock::{LockAction, LockConfig, LockModel, Recipe, Variant};
use lockscope_models::prop;
use proptest::prelude::*;

fn config(
    recipe: Recipe,
    variant: Variant,
    clients: u8,
    acquisitions: u8,
    expiries: u8,
    pauses: u8,
) -> LockConfig {
    LockConfig {
        variant,
        acquisitions,
        session_expiries: expiries,
        client_pauses: pauses,
        ..LockConfig::new(recipe, clients)
    }
}

fn check(model: &LockModel) -> SearchReport<LockAction> {
    let options = SearchOptions {
        threads: 2,
        full_space: true,
        ..SearchOptions::default()
    };
    let report = search(model, &options, &mut |_| {});
    assert_eq!(report.stop, Stop::Exhausted);
    report
}

fn verdicts(report: &SearchReport<LockAction>) -> Vec<(&'static str, Verdict)> {
    report
        .properties
        .iter()
        .map(|p| (p.name, p.verdict))
        .collect()
}

#[test]
fn renaming_values_changes_no_verdict() {
    for recipe in Recipe::ALL {
        for (expiries, pauses) in [(0, 0), (1, 0), (1, 1)] {
            let config = config(recipe, Variant::Fixed, 2, 2, expiries, pauses);
            let plain = check(&LockModel::new(config).unwrap());
            let renamed = check(&LockModel::new(config).unwrap().with_canonical_values(true));
            assert_eq!(verdicts(&plain), verdicts(&renamed), "{config:?}");
            assert!(renamed.unique_states <= plain.unique_states, "{config:?}");
        }
    }
    // And on a flawed recipe whose violations depend on the order of sequence numbers.
    let config = config(Recipe::Standard, Variant::SkipRecheck, 3, 1, 1, 0);
    let plain = check(&LockModel::new(config).unwrap());
    let renamed = check(&LockModel::new(config).unwrap().with_canonical_values(true));
    assert_eq!(verdicts(&plain), verdicts(&renamed));
}

fn scenario_for(config: LockConfig) -> Scenario {
    lock_scenario("liveness-test", config)
}

/// Check `config`; if `every_waiter_acquires` is violated, its lasso must replay as a violation.
fn lasso_replays(config: LockConfig) -> Option<usize> {
    let model = LockModel::new(config).expect("valid configuration");
    let report = check(&model);
    let property = report
        .property(prop::EVERY_WAITER_ACQUIRES)
        .expect("declared");
    let lasso = property.counterexample.as_ref()?;
    let start = lasso
        .loop_start
        .expect("a liveness counterexample is a lasso");
    assert!(start <= lasso.steps.len());
    let trace = Trace::record(
        &model,
        &scenario_for(config),
        prop::EVERY_WAITER_ACQUIRES,
        None,
        lasso,
    );
    let text = trace.to_json();
    let parsed: Trace = serde_json::from_str(&text).expect("the trace parses");
    let replayed =
        trace::replay(&model, &parsed, Path::new("lasso.json")).expect("the lasso replays");
    assert!(replayed.violated, "{config:?}: {:?}", replayed.explanation);
    Some(lasso.steps.len())
}

#[test]
fn the_bundled_liveness_violations_replay() {
    assert!(
        lasso_replays(config(Recipe::Naive, Variant::Fixed, 2, 0, 0, 0)).is_some(),
        "naive starves a client"
    );
    assert!(
        lasso_replays(config(
            Recipe::Standard,
            Variant::IgnoreMissingPredecessor,
            2,
            1,
            0,
            0
        ))
        .is_some(),
        "lost wakeup"
    );
    assert!(
        lasso_replays(config(
            Recipe::Standard,
            Variant::IgnoreMissingPredecessor,
            2,
            0,
            0,
            0
        ))
        .is_some(),
        "lost wakeup, forever"
    );
    assert_eq!(
        lasso_replays(config(Recipe::Standard, Variant::Fixed, 2, 0, 1, 1)),
        None,
        "the standard recipe is live"
    );
    assert_eq!(
        lasso_replays(config(Recipe::Herd, Variant::Fixed, 2, 0, 0, 0)),
        None,
        "the herd recipe is a queue too"
    );
}

#[test]
fn a_tampered_lasso_no_longer_replays_as_a_violation() {
    let config = config(Recipe::Naive, Variant::Fixed, 2, 0, 0, 0);
    let model = LockModel::new(config).unwrap();
    let report = check(&model);
    let lasso = report
        .property(prop::EVERY_WAITER_ACQUIRES)
        .unwrap()
        .counterexample
        .clone()
        .unwrap();
    let mut trace = Trace::record(
        &model,
        &scenario_for(config),
        prop::EVERY_WAITER_ACQUIRES,
        None,
        &lasso,
    );
    trace.steps.pop();
    let replayed =
        trace::replay(&model, &trace, Path::new("t.json")).expect("a prefix still replays");
    assert!(
        !replayed.violated,
        "a cycle that does not close is no violation"
    );
    assert!(replayed.explanation.unwrap().contains("does not return"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the configuration, a reported lasso replays as a fair violating cycle.
    #[test]
    fn every_reported_lasso_replays(
        recipe in proptest::sample::select(Recipe::ALL.to_vec()),
        flawed in any::<bool>(),
        clients in 1u8..3,
        acquisitions in 0u8..2,
        expiries in 0u8..2,
        pauses in 0u8..2,
    ) {
        let variant = if flawed && matches!(recipe, Recipe::Standard | Recipe::Fenced) { Variant::IgnoreMissingPredecessor } else { Variant::Fixed };
        lasso_replays(config(recipe, variant, clients, acquisitions, expiries, pauses));
    }
}

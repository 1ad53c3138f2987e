//! Liveness end to end: canonical renaming (the lock model's acquisitions forever, ZAB's
//! unbounded epochs) merges nothing a property can tell apart, and every reported lasso replays,
//! under weak and strong fairness: the stem reaches the loop state, the cycle returns to it,
//! stays fair, and keeps the obligation pending.

use std::cell::Cell;
use std::path::Path;
use std::time::Duration;

use lockscope::registry::{lock_scenario, zab_config};
use lockscope::scenario::Scenario;
use lockscope::search::{search, SearchOptions, SearchReport, Stop, Verdict};
use lockscope::trace::{self, Trace};
use lockscope_models::lock::{LockConfig, LockModel, Recipe, Variant};
use lockscope_models::zab::{ZabAction, ZabModel};
use lockscope_models::{prop, Fairness};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseResult, TestRunner};

mod common;

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

/// A complete search of `model`, given up on after five minutes (the largest world here takes
/// seconds): a strong-fairness split that loops forever fails the test instead of hanging it.
fn check<M>(model: &M) -> SearchReport<M::Action>
where
    M: lockscope::search::Checkable + Clone + Send + 'static,
{
    let options = SearchOptions {
        threads: 2,
        full_space: true,
        ..SearchOptions::default()
    };
    let model = model.clone();
    let report = common::within(Duration::from_secs(300), "the search", move || {
        search(&model, &options, &mut |_| {})
    });
    assert_eq!(report.stop, Stop::Exhausted);
    report
}

/// A property-based test's runner with a fixed seed: the tests below count what their cases
/// found, and a count must not depend on the run.
fn seeded_runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(1),
        // A failing case is shown in the test's output; there is no source file to keep it in.
        failure_persistence: None,
        ..Config::default()
    })
}

fn verdicts<A>(report: &SearchReport<A>) -> Vec<(&'static str, Verdict)> {
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

/// Whatever the configuration, a reported lasso replays as a fair violating cycle. The test would
/// pass vacuously if no case reported a lasso (a liveness check that never finds anything), so it
/// counts them: with this seed 3 of the 48 cases report one (most worlds are live), and fewer than
/// two fails.
#[test]
fn every_reported_lasso_replays() {
    const MIN_LASSOS: usize = 2;
    let lassos = Cell::new(0);
    let cases = (
        proptest::sample::select(Recipe::ALL.to_vec()),
        any::<bool>(),
        1u8..3,
        0u8..2,
        0u8..2,
        0u8..2,
    );
    seeded_runner(48)
        .run(
            &cases,
            |(recipe, flawed, clients, acquisitions, expiries, pauses)| {
                let variant = if flawed && matches!(recipe, Recipe::Standard | Recipe::Fenced) {
                    Variant::IgnoreMissingPredecessor
                } else {
                    Variant::Fixed
                };
                let config = config(recipe, variant, clients, acquisitions, expiries, pauses);
                if lasso_replays(config).is_some() {
                    lassos.set(lassos.get() + 1);
                }
                Ok(())
            },
        )
        .expect("every case passes");
    assert!(
        lassos.get() >= MIN_LASSOS,
        "only {} of 48 cases reported a lasso",
        lassos.get()
    );
}

/// A ZAB world from the keys of a scenario file, as `lockscope check` builds it.
fn zab_world(
    variant: &str,
    servers: u8,
    transactions: u8,
    epochs: u8,
    crashes: u8,
    partitions: u8,
    fairness: Fairness,
) -> (ZabModel, Scenario) {
    let text = format!(
        "[model]\nkind = \"zab\"\nvariant = \"{variant}\"\nservers = {servers}\ntransactions = {transactions}\n\
         epochs = {epochs}\n[faults]\ncrashes = {crashes}\npartitions = {partitions}\n\
         [check]\nfairness = \"{}\"\n",
        fairness.name()
    );
    let scenario = Scenario::parse(&text, Path::new("zab-liveness-test.toml")).expect("valid");
    let model = ZabModel::new(zab_config(&scenario.model, &scenario.faults))
        .expect("valid configuration")
        .with_fairness(scenario.check.fairness);
    (model, scenario)
}

/// Without an epoch bound and without renaming, a world whose elections cannot repeat forever is
/// finite; renaming must then change no verdict, safety or liveness, under either fairness, and
/// only merge states.
#[test]
fn renaming_epochs_changes_no_verdict() {
    let worlds = [
        ("fixed", 3, 1, 0, 0), // one election, then broadcast
        ("fixed", 3, 2, 0, 0),
        ("fixed", 2, 1, 2, 0), // two servers: every election includes both; crashes bound them
        ("fixed", 2, 1, 1, 1),
        ("zk-3911", 2, 2, 2, 0), // both liveness properties violated
    ];
    for (variant, servers, transactions, crashes, partitions) in worlds {
        for fairness in [Fairness::Weak, Fairness::Strong] {
            let (model, _) = zab_world(
                variant,
                servers,
                transactions,
                0,
                crashes,
                partitions,
                fairness,
            );
            let plain = check(&model.clone().with_canonical_epochs(false));
            let renamed = check(&model);
            let world = (
                variant,
                servers,
                transactions,
                crashes,
                partitions,
                fairness,
            );
            assert_eq!(verdicts(&plain), verdicts(&renamed), "{world:?}");
            assert!(
                renamed.unique_states <= plain.unique_states,
                "{world:?}: {} > {}",
                renamed.unique_states,
                plain.unique_states
            );
        }
    }
}

/// Check a ZAB world; every liveness lasso it reports must replay as a fair violation.
fn zab_lassos_replay(model: &ZabModel, scenario: &Scenario) -> usize {
    let report = check(model);
    let mut lassos = 0;
    for property in [
        prop::LEADER_EVENTUALLY_ELECTED,
        prop::PROPOSALS_EVENTUALLY_COMMITTED,
    ] {
        let Some(lasso) = report
            .property(property)
            .and_then(|p| p.counterexample.as_ref())
        else {
            continue;
        };
        assert!(
            lasso.loop_start.is_some(),
            "a liveness counterexample is a lasso"
        );
        let trace = Trace::record(model, scenario, property, None, lasso);
        let parsed: Trace = serde_json::from_str(&trace.to_json()).expect("the trace parses");
        assert_eq!(
            parsed.scenario.check.fairness, scenario.check.fairness,
            "a replay judges the cycle under the fairness it was found under"
        );
        let replayed: trace::Replay =
            trace::replay(model, &parsed, Path::new("zab-lasso.json")).expect("the lasso replays");
        assert!(replayed.violated, "{property}: {:?}", replayed.explanation);
        lassos += 1;
    }
    lassos
}

/// The race of `liveness-election-race.toml` without an epoch bound: a true cycle under weak
/// fairness (its lasso replays, and says why the cycle is fair), gone under strong fairness.
#[test]
fn the_election_race_is_a_fair_cycle_under_weak_fairness_only() {
    let (weak, scenario) = zab_world("fixed", 3, 1, 0, 1, 0, Fairness::Weak);
    assert_eq!(zab_lassos_replay(&weak, &scenario), 1);
    let report = check(&weak);
    let lasso = report
        .property(prop::LEADER_EVENTUALLY_ELECTED)
        .and_then(|p| p.counterexample.as_ref())
        .expect("violated under weak fairness");
    let start = lasso.loop_start.expect("a lasso");
    assert!(
        start < lasso.steps.len(),
        "a cycle, not a state that lasts forever"
    );
    let elections = lasso.steps[start..]
        .iter()
        .filter(|action| matches!(action, ZabAction::Elect { .. }))
        .count();
    assert!(elections >= 1, "the cycle elects again and again");
    let (strong, scenario) = zab_world("fixed", 3, 1, 0, 1, 0, Fairness::Strong);
    assert_eq!(zab_lassos_replay(&strong, &scenario), 0);
    let report = check(&strong);
    assert_eq!(
        report
            .property(prop::LEADER_EVENTUALLY_ELECTED)
            .map(|p| p.verdict),
        Some(Verdict::Holds)
    );
}

/// A weak lasso replayed under strong fairness is no violation: the strongly fair election it
/// keeps skipping is named.
#[test]
fn a_weakly_fair_lasso_is_not_strongly_fair() {
    let (weak, scenario) = zab_world("fixed", 3, 1, 0, 1, 0, Fairness::Weak);
    let report = check(&weak);
    let lasso = report
        .property(prop::LEADER_EVENTUALLY_ELECTED)
        .and_then(|p| p.counterexample.clone())
        .expect("violated under weak fairness");
    let trace = Trace::record(
        &weak,
        &scenario,
        prop::LEADER_EVENTUALLY_ELECTED,
        None,
        &lasso,
    );
    let (strong, _) = zab_world("fixed", 3, 1, 0, 1, 0, Fairness::Strong);
    let replayed = trace::replay(&strong, &trace, Path::new("t.json")).expect("it replays");
    assert!(!replayed.violated);
    let explanation = replayed.explanation.expect("a reason");
    assert!(explanation.contains("(strong)"), "{explanation}");
}

/// Whatever the ZAB world and the fairness, a reported lasso replays as a fair violating cycle
/// (or a state that lasts forever). Counted as in `every_reported_lasso_replays`, so that a check
/// that never reports a lasso fails: with this seed the 12 cases and the regression give 6 lassos,
/// and fewer than three fails.
#[test]
fn every_reported_zab_lasso_replays() {
    const MIN_LASSOS: usize = 3;
    let lassos = Cell::new(0);
    let cases = (2u8..4, 0u8..2, any::<bool>(), 0u8..2, 0u8..2, any::<bool>());
    let case = |(servers, transactions, bounded, crashes, partitions, strong): (
        u8,
        u8,
        bool,
        u8,
        u8,
        bool,
    )|
     -> TestCaseResult {
        // Keep the space small: with 3 servers, a crash and a partition together are 1.2 M
        // states without a bound.
        let partitions = if servers == 3 && crashes > 0 {
            0
        } else {
            partitions
        };
        let epochs = if bounded { 2 } else { 0 };
        let fairness = if strong {
            Fairness::Strong
        } else {
            Fairness::Weak
        };
        let (model, scenario) = zab_world(
            "fixed",
            servers,
            transactions,
            epochs,
            crashes,
            partitions,
            fairness,
        );
        lassos.set(lassos.get() + zab_lassos_replay(&model, &scenario));
        Ok(())
    };
    // A case that failed once (while the search's parallel claims were written, 9c238f0), kept
    // from the regressions file proptest wrote for it.
    case((3, 1, false, 0, 1, false)).expect("the regression passes");
    seeded_runner(12)
        .run(&cases, case)
        .expect("every case passes");
    assert!(
        lassos.get() >= MIN_LASSOS,
        "only {} lassos in 13 cases",
        lassos.get()
    );
}

/// Issue 20, item 5. With `epochs = 2` and one crash the only leaderless lassos end in a state
/// where every server is LOOKING and the bound forbids the next election: the model stops where
/// ZooKeeper would elect again. That is the bound's doing, so the verdict is `unknown` with the
/// bound named, in the table, the JSON and the last line of the narrative, and a replay of the
/// trace says the same (it used to be reported as `violated`, read as a ZAB bug).
#[test]
fn a_lasso_that_only_the_epoch_bound_keeps_going_is_unknown_not_violated() {
    let (outcome, _reports) = common::check_bundled("zab/fixed-one-crash.toml");
    let elected = leader_eventually_elected(&outcome);
    assert_eq!(elected.verdict, Verdict::Unknown);
    assert_eq!(
        elected.reason.as_deref(),
        Some("bounded: epochs = 2 exhausted")
    );
    assert_eq!(
        elected.trace_length,
        Some(14),
        "the stuck state is still shown"
    );
    let entry = leader_eventually_elected_in_json(&outcome);
    assert_eq!(entry["verdict"], "unknown");
    assert_eq!(entry["bound"], "epochs");
    let narrative = lockscope::report::narrative(elected, &outcome);
    let last = narrative.lines().last().expect("a narrative");
    assert!(
        last.contains("bounded: epochs = 2 exhausted") && last.contains("not a failure"),
        "{narrative}"
    );
    let path = elected.trace_path.as_ref().expect("a trace");
    let (_, timeline) = lockscope::render::load(path).expect("the trace replays");
    assert_eq!(
        timeline.verdict(),
        "leader_eventually_elected unknown (bounded: epochs = 2 exhausted)"
    );
    // Nothing else changed: every expectation of the scenario is still met.
    assert!(outcome.ok());
}

/// The verdict of `leader_eventually_elected` in a ZAB run.
fn leader_eventually_elected(
    outcome: &lockscope::check::ScenarioOutcome,
) -> &lockscope::check::PropertyOutcome {
    outcome
        .properties
        .iter()
        .find(|p| p.name == prop::LEADER_EVENTUALLY_ELECTED)
        .expect("ZAB declares it")
}

/// `leader_eventually_elected`'s entry in the JSON result of `outcome`.
fn leader_eventually_elected_in_json(
    outcome: &lockscope::check::ScenarioOutcome,
) -> serde_json::Value {
    lockscope::report::json(outcome)["properties"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["name"] == prop::LEADER_EVENTUALLY_ELECTED)
        .expect("listed")
        .clone()
}

/// FLE bounds its rounds by `epochs` too: a server that would start a round past the bound stays
/// LOOKING without taking part. Three servers, no writes, one round, one spurious timeout: the
/// leader and its follower give up (one spuriously, the other for want of it) and may not start
/// round 2, so the last state lasts forever. That is the round bound's doing, as the narrative's
/// "(round 1 was the last the bound allows)" says, and the verdict is `unknown (bounded)`.
#[test]
fn a_lasso_that_only_fle_s_round_bound_keeps_going_is_unknown_not_violated() {
    let text = "[model]\nkind = \"zab\"\nelection = \"fle\"\nservers = 3\ntransactions = 0\n\
                epochs = 1\n[faults]\ntimeouts = 1\n";
    let file = Path::new("fle-round-bound-test.toml");
    let scenario = Scenario::parse(text, file).expect("valid");
    let (outcome, _reports) = common::check_scenario(&scenario, file);
    assert!(outcome.search.complete);
    let elected = leader_eventually_elected(&outcome);
    assert_eq!(elected.verdict, Verdict::Unknown);
    assert_eq!(
        elected.reason.as_deref(),
        Some("bounded: epochs = 1 exhausted")
    );
    let narrative = lockscope::report::narrative(elected, &outcome);
    assert!(
        narrative.contains("the last the bound allows"),
        "{narrative}"
    );
}

/// The other side of the line: the election race of `liveness-election-race.toml` cycles under
/// weak fairness with no epoch bound at all, so it is a violation of the protocol as modelled
/// and stays `violated`, with no bound named anywhere.
#[test]
fn a_fair_cycle_with_room_in_every_bound_stays_violated() {
    let (outcome, _reports) = common::check_bundled("zab/liveness-election-race.toml");
    let elected = leader_eventually_elected(&outcome);
    assert_eq!(elected.verdict, Verdict::Violated);
    assert_eq!((elected.bound, elected.reason.as_deref()), (None, None));
    let entry = leader_eventually_elected_in_json(&outcome);
    assert_eq!(entry["verdict"], "violated");
    assert!(entry["bound"].is_null());
    let narrative = lockscope::report::narrative(elected, &outcome);
    assert!(!narrative.contains("bounded"), "{narrative}");
    let (_, timeline) =
        lockscope::render::load(elected.trace_path.as_ref().expect("a trace")).expect("replays");
    assert_eq!(timeline.verdict(), "leader_eventually_elected violated");
}

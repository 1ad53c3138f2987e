//! Mutation-style tests: each deliberately flawed variant must be caught by the property it breaks,
//! in a configuration where the documented recipe passes that same property.

use lockscope::search::{search, SearchOptions, Stop, Verdict};
use lockscope_models::lock::{LockConfig, LockModel, Recipe, Variant};
use lockscope_models::prop;

fn verdict(
    recipe: Recipe,
    variant: Variant,
    clients: u8,
    expiries: u8,
    pauses: u8,
    property: &str,
) -> Verdict {
    let model = LockModel::new(LockConfig {
        variant,
        session_expiries: expiries,
        client_pauses: pauses,
        ..LockConfig::new(recipe, clients)
    })
    .expect("valid configuration");
    let options = SearchOptions {
        threads: 2,
        full_space: false,
        ..SearchOptions::default()
    };
    let report = search(&model, &options, &mut |_| {});
    assert!(
        matches!(report.stop, Stop::Exhausted | Stop::AllViolated),
        "the search decided every property"
    );
    report.property(property).expect("declared").verdict
}

/// (recipe, flaw, clients, expiries, pauses, property the flaw breaks)
const CASES: &[(Recipe, Variant, u8, u8, u8, &str)] = &[
    (
        Recipe::Herd,
        Variant::SkipRecheck,
        3,
        0,
        0,
        prop::MUTUAL_EXCLUSION,
    ),
    (
        Recipe::Standard,
        Variant::WatchLowest,
        3,
        0,
        0,
        prop::NO_HERD,
    ),
    (
        Recipe::Standard,
        Variant::IgnoreMissingPredecessor,
        2,
        0,
        0,
        prop::NO_DEADLOCK,
    ),
    (
        Recipe::Fenced,
        Variant::IgnoreMissingPredecessor,
        2,
        0,
        0,
        prop::NO_DEADLOCK,
    ),
    (
        Recipe::Fenced,
        Variant::UncheckedResource,
        2,
        1,
        1,
        prop::FENCED_RESOURCE_SAFETY,
    ),
];

#[test]
fn every_flaw_is_caught_where_the_documented_recipe_passes() {
    for &(recipe, flaw, clients, expiries, pauses, property) in CASES {
        let label = format!("{} {} {property}", recipe.name(), flaw.name());
        assert_eq!(
            verdict(recipe, Variant::Fixed, clients, expiries, pauses, property),
            Verdict::Holds,
            "{label}: fixed"
        );
        assert_eq!(
            verdict(recipe, flaw, clients, expiries, pauses, property),
            Verdict::Violated,
            "{label}: flawed"
        );
    }
}

#[test]
fn skipping_the_recheck_in_the_standard_recipe_is_safe_until_a_waiter_leaves() {
    // Without faults a predecessor's node goes only after it held and released, so the shortcut
    // happens to be right; one expiry of a waiting predecessor makes its successor enter early.
    assert_eq!(
        verdict(
            Recipe::Standard,
            Variant::SkipRecheck,
            3,
            0,
            0,
            prop::MUTUAL_EXCLUSION
        ),
        Verdict::Holds
    );
    assert_eq!(
        verdict(
            Recipe::Standard,
            Variant::SkipRecheck,
            3,
            1,
            0,
            prop::MUTUAL_EXCLUSION
        ),
        Verdict::Violated
    );
}

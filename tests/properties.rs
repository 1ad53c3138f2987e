//! Every property is either violated by a named mutant in a complete search, or says why it holds
//! by construction (issue 18 §2): a "holds" from a property that nothing can violate tells a user
//! nothing. The lock model's evidence is `prop::LOCK_EVIDENCE`; this file runs it.

mod common;

use std::path::Path;

use lockscope::scenario::Scenario;
use lockscope::search::Verdict;
use lockscope_models::lock::{LockConfig, LockModel, Recipe};
use lockscope_models::prop::{self, Evidence};
use lockscope_models::Liveness;
use stateright::Model;

/// Every property a lock world declares, safety and liveness: the fenced recipe has them all.
fn lock_properties() -> Vec<&'static str> {
    let model = LockModel::new(LockConfig::new(Recipe::Fenced, 2)).expect("valid");
    let mut names: Vec<&'static str> = model.properties().iter().map(|p| p.name).collect();
    names.extend(model.liveness_properties());
    names
}

/// Goal: each lock property names evidence. Method: ask for it by every name the model declares.
#[test]
fn every_lock_property_names_a_mutant_or_a_reason() {
    let properties = lock_properties();
    assert_eq!(properties.len(), 6, "{properties:?}");
    for name in properties {
        assert!(prop::evidence(name).is_some(), "{name} has no evidence");
    }
}

/// Goal: each named mutant really violates its property, in a complete search. Method: run the
/// scenario breadth-first to the end and read the property's verdict.
#[test]
fn every_lock_property_has_a_mutant_that_violates_it() {
    for &(name, evidence) in prop::LOCK_EVIDENCE {
        let Evidence::Mutant { scenario, .. } = evidence else {
            continue;
        };
        let (outcome, _reports) = common::check_bundled(scenario);
        assert!(
            outcome.search.complete,
            "{scenario}: the search is complete"
        );
        let verdict = outcome
            .properties
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{scenario} checks {name}"))
            .verdict;
        assert_eq!(verdict, Verdict::Violated, "{scenario}: {name}");
    }
}

/// Every property a ZAB world declares, safety and liveness.
fn zab_properties() -> Vec<&'static str> {
    use lockscope_models::zab::{ZabConfig, ZabModel};
    let model = ZabModel::new(ZabConfig::new(3, 1)).expect("valid");
    let mut names: Vec<&'static str> = model.properties().iter().map(|p| p.name).collect();
    names.extend(model.liveness_properties());
    names
}

/// Goal: the ZAB evidence stays true as files change. Method: every ZAB property, safety and
/// liveness, has evidence; a scenario named as evidence expects the property violated (the
/// scenario test runs it to a complete search and checks that); a test named for a test-only
/// mutation exists, by its function name, in the models' ZAB tests or under `tests/`.
#[test]
fn every_zab_property_names_evidence_that_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let properties = zab_properties();
    assert_eq!(properties.len(), 16, "{properties:?}");
    for name in properties {
        let evidence = prop::evidence(name).unwrap_or_else(|| panic!("{name} has no evidence"));
        match evidence {
            Evidence::Mutant { scenario, .. } => {
                let file = root.join("scenarios").join(scenario);
                let loaded = Scenario::load(&file).unwrap_or_else(|err| panic!("{err}"));
                assert_eq!(
                    loaded.expect.get(name).map(|e| e.to_string()).as_deref(),
                    Some("violated"),
                    "{scenario} expects {name} violated"
                );
            }
            Evidence::Mutation { test, .. } => {
                let (module, function) = test.rsplit_once("::").expect("module::function");
                let source = match module {
                    "zab::tests" => root.join("models/src/zab/tests.rs"),
                    file => root.join("tests").join(format!("{file}.rs")),
                };
                let text = std::fs::read_to_string(&source)
                    .unwrap_or_else(|err| panic!("{}: {err}", source.display()));
                assert!(
                    text.contains(&format!("fn {function}()")),
                    "{test} is not in {}",
                    source.display()
                );
            }
            Evidence::ByConstruction(_) => {}
        }
    }
}

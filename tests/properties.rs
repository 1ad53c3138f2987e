//! Every property is either violated by a named mutant in a complete search, or says why it holds
//! by construction (issue 18 §2): a "holds" from a property that nothing can violate tells a user
//! nothing. The lock model's evidence is `prop::LOCK_EVIDENCE`; this file runs it.

use std::path::Path;

use lockscope::check::{self, RunOptions};
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let reports = tempfile::tempdir().expect("temporary folder");
    let options = RunOptions {
        threads: 2,
        full_space: false,
        report_dir: reports.path().to_path_buf(),
        only_run: None,
        shard: None,
        symmetry: false,
    };
    for &(name, evidence) in prop::LOCK_EVIDENCE {
        let Evidence::Mutant { scenario, .. } = evidence else {
            continue;
        };
        let file = root.join(scenario);
        let loaded = Scenario::load(&file).unwrap_or_else(|err| panic!("{err}"));
        let outcome = check::run(&loaded, &file, &options, &mut |_| {}).expect("the run");
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

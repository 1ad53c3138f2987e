//! Scenario parsing: valid files load, every kind of bad input is one clear located error, and
//! (proptest) valid scenarios round-trip while mutated files never panic.

use std::path::Path;

use proptest::prelude::{any, prop, prop_assert_eq, proptest, Just, TestCaseError};
use proptest::strategy::Strategy as Generator;

use super::*;

const STANDARD: &str = r#"
description = "test"
[model]
kind = "lock"
recipe = "standard"
clients = 3
[faults]
session_expiries = 1
[expect]
mutual_exclusion = "violated"
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(text, Path::new("scenarios/x.toml"))
}

/// The single error line for `text`.
fn error(text: &str) -> String {
    parse(text)
        .expect_err("the scenario is invalid")
        .to_string()
}

#[test]
fn a_valid_scenario_loads_with_defaults_filled_in() {
    let scenario = parse(STANDARD).expect("valid");
    assert_eq!(scenario.name, "x", "the name defaults to the file stem");
    assert_eq!(scenario.model.recipe, Recipe::Standard);
    assert_eq!(scenario.model.variant, Variant::Fixed);
    assert_eq!(scenario.model.acquisitions, 1);
    assert_eq!(scenario.faults.session_expiries, 1);
    assert_eq!(scenario.check, CheckSpec::default());
    assert_eq!(
        scenario.expect.get("mutual_exclusion"),
        Some(&Expected::Violated)
    );
}

#[test]
fn malformed_toml_names_file_line_and_column() {
    let text = "[model]\nkind = \"lock\"\nclients = \n";
    let message = error(text);
    assert!(message.starts_with("scenarios/x.toml:3:"), "{message}");
}

#[test]
fn an_unknown_key_is_named_with_the_expected_ones() {
    let message = error(&STANDARD.replace("clients = 3", "clients = 3\nthreads = 2"));
    assert!(
        message.starts_with("scenarios/x.toml:7:1: unknown field `threads`"),
        "{message}"
    );
    assert!(message.contains("expected one of"), "{message}");
}

#[test]
fn a_wrong_type_is_located() {
    let message = error(&STANDARD.replace("clients = 3", "clients = \"three\""));
    // Issue 20: the key, the range and the value, not serde's "invalid type ... expected u32".
    assert_eq!(
        message,
        "scenarios/x.toml:6:11: model.clients: expected an integer from 0 to 4294967295, found string \"three\""
    );
}

#[test]
fn zero_clients_is_out_of_range() {
    assert_eq!(
        error(&STANDARD.replace("clients = 3", "clients = 0")),
        "scenarios/x.toml:6:11: model.clients: expected a number from 1 to 8, found 0"
    );
}

#[test]
fn an_unknown_recipe_lists_the_known_ones() {
    assert_eq!(
        error(&STANDARD.replace("\"standard\"", "\"bakery\"")),
        "scenarios/x.toml:5:10: model.recipe: expected one of naive, herd, standard, fenced, curator; found \"bakery\""
    );
}

#[test]
fn a_variant_for_another_recipe_is_rejected() {
    let text = STANDARD.replace(
        "clients = 3",
        "clients = 3\nvariant = \"unchecked-resource\"",
    );
    assert_eq!(error(&text), "scenarios/x.toml:7:11: model.variant: unchecked-resource applies to recipes fenced, not to standard");
}

#[test]
fn an_unknown_property_in_expect_lists_the_known_ones() {
    let message = error(&STANDARD.replace("mutual_exclusion =", "single_holder ="));
    assert!(message.starts_with("scenarios/x.toml:10:1: expect.single_holder: unknown property; known: mutual_exclusion, no_deadlock"), "{message}");
}

#[test]
fn a_fenced_only_property_is_unknown_for_other_recipes() {
    let message = error(&STANDARD.replace("mutual_exclusion =", "fenced_resource_safety ="));
    assert!(
        message.contains("expect.fenced_resource_safety: unknown property"),
        "{message}"
    );
}

#[test]
fn fault_budgets_beyond_what_the_model_supports_are_rejected() {
    let message = error(&STANDARD.replace("session_expiries = 1", "crashes = 9"));
    assert!(
        message.contains("faults.crashes: expected 0 to 8"),
        "{message}"
    );
    let scenario = parse(&STANDARD.replace(
        "session_expiries = 1",
        "partitions = 1\ncrashes = 1\nmessage_loss = 2",
    ))
    .expect("every fault kind is supported by the lock model");
    assert_eq!(
        (
            scenario.faults.partitions,
            scenario.faults.crashes,
            scenario.faults.message_loss
        ),
        (1, 1, 2)
    );
}

/// Goal: the faults a TCP connection cannot produce are refused for lock models, naming the key
/// and the reason; 0 and false (as traces written before the refusal record them) still load.
#[test]
fn duplication_and_reordering_are_refused_because_client_links_are_tcp() {
    let message = error(&STANDARD.replace("session_expiries = 1", "message_duplication = 1"));
    assert!(
        message.starts_with("scenarios/x.toml:8:23: faults.message_duplication: not a fault of model kind lock: ZooKeeper client links are TCP: "),
        "{message}"
    );
    assert!(message.ends_with("expected 0, found 1"), "{message}");
    let message = error(&STANDARD.replace("session_expiries = 1", "reordering = true"));
    assert!(
        message.starts_with("scenarios/x.toml:8:14: faults.reordering: not a fault of model kind lock: ZooKeeper client links are TCP: "),
        "{message}"
    );
    assert!(
        message.contains("model.variant = \"unsynchronised-event-thread\""),
        "{message}"
    );
    let scenario = parse(&STANDARD.replace(
        "session_expiries = 1",
        "message_duplication = 0\nreordering = false",
    ))
    .expect("zero budgets are no faults");
    assert_eq!(scenario.faults, Faults::default());
}

#[test]
fn planned_kinds_say_they_are_not_implemented() {
    assert!(error(&STANDARD.replace("\"lock\"", "\"rwlock\""))
        .contains("model.kind: \"rwlock\" is not implemented yet"));
}

const ZAB: &str = r#"
description = "test"
[model]
kind = "zab"
servers = 3
transactions = 1
variant = "zk-4643"
[faults]
crashes = 2
partitions = 1
[expect]
committed_log_durability = "violated"
"#;

#[test]
fn a_zab_scenario_loads_and_round_trips() {
    let scenario = parse(ZAB).expect("valid");
    let zab = scenario.model.zab.expect("a zab spec");
    assert_eq!(
        (zab.transactions, zab.epochs, zab.variant),
        (1, 2, lockscope_models::zab::ZabVariant::Zk4643)
    );
    assert_eq!(
        (scenario.faults.crashes, scenario.faults.partitions),
        (2, 1)
    );
    let text = toml::to_string(&scenario).expect("serialises");
    assert!(
        !text.contains("recipe"),
        "no lock keys in a zab model: {text}"
    );
    assert_eq!(parse(&text).expect("round trip"), scenario);
}

#[test]
fn zab_rejects_lock_keys_and_lock_faults() {
    let message = error(&ZAB.replace("servers = 3", "servers = 3\nclients = 2"));
    assert_eq!(
        message,
        "scenarios/x.toml:6:11: model.clients: applies to lock kinds only, not to zab"
    );
    let message = error(&ZAB.replace("partitions = 1", "partitions = 1\nsession_expiries = 1"));
    assert!(
        message.contains("faults.session_expiries: applies to lock kinds only"),
        "{message}"
    );
    let message = error(&ZAB.replace("zk-4643", "zk-9999"));
    assert!(
        message.contains("model.variant: expected one of fixed, zk-4643"),
        "{message}"
    );
    let message = error(&ZAB.replace("servers = 3", "servers = 3\nelection = \"paxos\""));
    assert!(
        message.contains("model.election: expected one of oracle, fle; found \"paxos\""),
        "{message}"
    );
}

#[test]
fn spurious_timeouts_are_a_zab_budget_of_up_to_eight() {
    let scenario =
        parse(&ZAB.replace("partitions = 1", "partitions = 1\ntimeouts = 2")).expect("valid");
    assert_eq!(scenario.faults.timeouts, 2);
    assert_eq!(scenario.faults.budget("timeouts"), 2);
    let text = toml::to_string(&scenario).expect("serialises");
    assert_eq!(parse(&text).expect("round trip"), scenario);
    let without = toml::to_string(&parse(ZAB).expect("valid")).expect("serialises");
    assert!(!without.contains("timeouts"), "written only when set");
    let message = error(&ZAB.replace("partitions = 1", "partitions = 1\ntimeouts = 9"));
    assert_eq!(
        message,
        "scenarios/x.toml:11:12: faults.timeouts: expected 0 to 8, found 9"
    );
    let message = error(&ZAB.replace("partitions = 1", "partitions = 1\ntimeouts = -1"));
    assert!(message.starts_with("scenarios/x.toml:11:12: "), "{message}");
    let message = error(&STANDARD.replace("session_expiries = 1", "timeouts = 1"));
    assert!(
        message.contains(
            "faults.timeouts: applies to an ensemble (servers = 3 to 5); this lock world has 1 server"
        ),
        "{message}"
    );
}

#[test]
fn permanent_partitions_need_a_zab_partition() {
    let scenario = parse(&ZAB.replace(
        "partitions = 1",
        "partitions = 1\npermanent_partitions = true",
    ))
    .expect("valid");
    assert!(scenario.faults.permanent_partitions);
    let text = toml::to_string(&scenario).expect("serialises");
    assert_eq!(parse(&text).expect("round trip"), scenario);
    assert!(
        !toml::to_string(&parse(ZAB).expect("valid"))
            .expect("serialises")
            .contains("permanent_partitions"),
        "written only when set"
    );
    let message = error(&ZAB.replace(
        "partitions = 1",
        "partitions = 0\npermanent_partitions = true",
    ));
    assert!(
        message.contains("faults.permanent_partitions: a partition that never heals needs faults.partitions of at least 1"),
        "{message}"
    );
    let message = error(&STANDARD.replace(
        "session_expiries = 1",
        "session_expiries = 1\npartitions = 1\npermanent_partitions = true",
    ));
    assert!(
        message.contains("faults.permanent_partitions: applies to model kind zab and to a lock over an ensemble (servers > 1) only"),
        "{message}"
    );
}

/// `ZAB` with `sides` as its `partition_sides`.
fn with_sides(sides: &str) -> String {
    ZAB.replace(
        "partitions = 1",
        &format!("partitions = 1\npartition_sides = {sides}"),
    )
}

#[test]
fn partition_sides_name_one_split_and_round_trip() {
    let scenario = parse(&with_sides(r#"[["S0", "S2"], ["S1"]]"#)).expect("valid");
    assert_eq!(
        scenario.faults.partition_sides,
        Some(PartitionSides([0b101, 0b010]))
    );
    let config = crate::registry::zab_config(&scenario.model, &scenario.faults);
    assert_eq!(config.named_cut_off(), Some(0b010), "the side without S0");
    let text = toml::to_string(&scenario).expect("serialises");
    assert!(
        text.contains(r#"partition_sides = [["S0", "S2"], ["S1"]]"#),
        "{text}"
    );
    assert_eq!(parse(&text).expect("round trip"), scenario);
    let json = serde_json::to_string(&scenario).expect("serialises");
    let embedded: Scenario = serde_json::from_str(&json).expect("a trace's scenario reads back");
    assert_eq!(embedded, scenario);
    assert!(
        !toml::to_string(&parse(ZAB).expect("valid"))
            .expect("serialises")
            .contains("partition_sides"),
        "written only when set"
    );
}

#[test]
fn bad_partition_sides_are_located_and_explained() {
    let cases = [
        (
            r#"[["S0", "S1", "S2"]]"#,
            "expected two groups of server names, as [[\"S0\", \"S1\"], [\"S2\"]]; found 1 group(s)",
        ),
        (r#"[["S0"], ["server1"]]"#, "each S0 to S4; found \"server1\""),
        (r#"[["S0"], ["S01"]]"#, "found \"S01\""),
        (r#"[["S0", "S0"], ["S1", "S2"]]"#, "S0 is listed twice in one group"),
        (r#"[["S0", "S1"], ["S1", "S2"]]"#, "found S1 on both sides"),
        (r#"[["S0", "S1", "S2"], []]"#, "found each side needs at least one server"),
        (r#"[["S0"], ["S1"]]"#, "found S2 on neither side; every server is on one"),
        (
            r#"[["S0", "S1"], ["S2", "S3"]]"#,
            "found S3 not in the ensemble of 3 servers",
        ),
    ];
    for (sides, expected) in cases {
        let message = error(&with_sides(sides));
        assert!(
            message.starts_with("scenarios/x.toml:11:19: faults.partition_sides: ")
                && message.contains(expected),
            "{sides}: {message}"
        );
    }
    let others = [
        (
            with_sides(r#""S0,S1""#),
            "11:19: faults.partition_sides: expected a sequence, found string \"S0,S1\"",
        ),
        (
            ZAB.replace(
                "partitions = 1",
                "partitions = 0\npartition_sides = [[\"S0\"], [\"S1\", \"S2\"]]",
            ),
            "faults.partition_sides: names the split of a partition, so it needs faults.partitions of at least 1",
        ),
        (
            STANDARD.replace(
                "session_expiries = 1",
                "partitions = 1\npartition_sides = [[\"S0\"], [\"S1\"]]",
            ),
            "faults.partition_sides: applies to an ensemble (servers = 3 to 5)",
        ),
    ];
    for (text, expected) in others {
        let message = error(&text);
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn all_problems_of_a_file_are_reported_together() {
    let text = STANDARD
        .replace("clients = 3", "clients = 0")
        .replace("mutual_exclusion =", "nope =");
    let err = parse(&text).expect_err("invalid");
    assert_eq!(err.problems.len(), 2, "{err}");
}

#[test]
fn an_impossible_bound_is_rejected() {
    let text = format!("{STANDARD}\n[check]\nruns = 0\n");
    assert!(error(&text).contains("check.runs: expected at least 1, found 0"));
    let text = STANDARD.replace("session_expiries = 1", "session_expiries = -1");
    assert!(
        error(&text).contains(
            "faults.session_expiries: expected an integer from 0 to 255, found integer -1"
        ),
        "negative budgets are rejected"
    );
}

#[test]
fn a_missing_model_table_is_an_error() {
    assert_eq!(
        error("description = \"x\"\n"),
        "scenarios/x.toml: [model]: missing; expected a table with at least `kind`"
    );
}

fn valid_scenario() -> impl Generator<Value = Scenario> {
    let recipe = prop::sample::select(Recipe::ALL.to_vec());
    (
        recipe,
        1u8..=8,
        1u8..=3,
        any::<bool>(),
        0u8..3,
        0u8..3,
        prop::bool::ANY,
        0u32..50,
        // The whole u64 range: the command line accepts it, and TOML's integers stop at 2^63 - 1.
        any::<u64>(),
        any::<u64>(),
        (any::<u64>(), 1u64..=u64::MAX),
    )
        .prop_flat_map(
            |(
                recipe,
                clients,
                acquisitions,
                retry,
                expiries,
                pauses,
                dfs,
                depth,
                states,
                time,
                (seed, runs),
            )| {
                let variants: Vec<Variant> = Variant::ALL
                    .into_iter()
                    .filter(|v| v.recipes().contains(&recipe))
                    .collect();
                let model = ModelSpec {
                    kind: ModelKind::Lock,
                    recipe,
                    variant: Variant::Fixed,
                    clients,
                    acquisitions,
                    retry_after_expiry: retry,
                    servers: 1,
                    zab: None,
                    ensemble: None,
                };
                let names: Vec<&'static str> = crate::registry::property_names(&model);
                let expect = prop::collection::btree_map(
                    prop::sample::select(names),
                    prop::sample::select(vec![Expected::Holds, Expected::Violated]),
                    0..4,
                );
                (
                    prop::sample::select(variants),
                    expect,
                    "[a-z][a-z0-9-]{0,12}",
                    ".{0,40}",
                )
                    .prop_map(move |(variant, expect, name, description)| {
                        Scenario {
                            name,
                            description,
                            model: ModelSpec {
                                variant,
                                ..model.clone()
                            },
                            faults: Faults {
                                session_expiries: expiries,
                                client_pauses: pauses,
                                ..Faults::default()
                            },
                            timing: Timing::default(),
                            check: CheckSpec {
                                strategy: if dfs { Strategy::Dfs } else { Strategy::Bfs },
                                max_depth: depth,
                                max_states: states,
                                time_limit: std::time::Duration::from_secs(time),
                                seed,
                                runs,
                                ..CheckSpec::default()
                            },
                            expect: expect
                                .into_iter()
                                .map(|(k, v)| (k.to_string(), v))
                                .collect(),
                        }
                    })
            },
        )
}

/// `scenario` written as a scenario file reads back the same.
fn through_toml(scenario: &Scenario) -> Result<(), TestCaseError> {
    let text = toml::to_string(scenario).expect("scenarios serialise to TOML");
    let parsed = parse(&text).map_err(|err| TestCaseError::fail(format!("{err}\n{text}")))?;
    prop_assert_eq!(&parsed, scenario);
    Ok(())
}

/// `scenario` embedded in a trace file reads back the same.
fn through_trace(scenario: &Scenario) -> Result<(), TestCaseError> {
    let trace = crate::trace::Trace {
        format: crate::trace::FORMAT.into(),
        scenario: scenario.clone(),
        property: "mutual_exclusion".into(),
        seed: Some(scenario.check.seed),
        steps: Vec::new(),
        loop_start: None,
        run: None,
        shrunk_from: None,
    };
    let dir = tempfile::tempdir().expect("scratch folder");
    let file = dir.path().join("t.trace.json");
    std::fs::write(&file, trace.to_json()).expect("scratch file");
    let loaded =
        crate::trace::Trace::load(&file).map_err(|err| TestCaseError::fail(err.to_string()))?;
    prop_assert_eq!(loaded, trace);
    Ok(())
}

proptest! {
    #[test]
    fn valid_scenarios_round_trip_through_toml(scenario in valid_scenario()) {
        through_toml(&scenario)?;
    }

    /// A trace embeds its scenario, command-line overrides included: every value survives the
    /// trace file (issue 20, item 1: seeds of 2^63 and more panicked).
    #[test]
    fn valid_scenarios_round_trip_through_a_trace_file(scenario in valid_scenario()) {
        through_trace(&scenario)?;
    }

    /// Issue 19: every ensemble key survives a scenario file and a trace's header.
    #[test]
    fn ensemble_scenarios_round_trip_through_toml_and_a_trace_file(
        scenario in valid_ensemble_scenario()
    ) {
        through_toml(&scenario)?;
        through_trace(&scenario)?;
    }

    #[test]
    fn mutated_scenarios_never_panic(cut in 0usize..STANDARD.len(), at in 0usize..STANDARD.len(), byte in any::<u8>()) {
        let mut bytes = STANDARD.as_bytes().to_vec();
        bytes[at] = byte;
        let mutated = String::from_utf8_lossy(&bytes).into_owned();
        let _ = parse(&mutated);
        let _ = parse(&STANDARD[..cut]);
    }
}

#[test]
fn the_election_is_the_oracle_unless_fle_is_asked_for() {
    use lockscope_models::zab::Election;
    let election = |text: &str| {
        parse(text)
            .expect("a valid scenario")
            .model
            .zab
            .expect("a zab model")
            .election
    };
    assert_eq!(election(ZAB), Election::Oracle);
    let fle = ZAB.replace("servers = 3", "servers = 3\nelection = \"fle\"");
    assert_eq!(election(&fle), Election::Fle);
}

#[test]
fn the_leader_writes_in_zookeepers_order_unless_the_atomic_abstraction_is_asked_for() {
    use lockscope_models::zab::LeaderWrite;
    let leader_write = |text: &str| {
        parse(text)
            .expect("a valid scenario")
            .model
            .zab
            .expect("a zab model")
            .leader_write
    };
    assert_eq!(leader_write(ZAB), LeaderWrite::Queued);
    let atomic = ZAB.replace("servers = 3", "servers = 3\nleader_write = \"atomic\"");
    assert_eq!(leader_write(&atomic), LeaderWrite::Atomic);
    let queued = ZAB.replace("servers = 3", "servers = 3\nleader_write = \"queued\"");
    assert_eq!(leader_write(&queued), LeaderWrite::Queued);
    // Both values survive a scenario file and a trace's embedded scenario, which names the key.
    for text in [&atomic, &queued] {
        let scenario = parse(text).expect("valid");
        let toml_text = toml::to_string(&scenario).expect("serialises");
        assert_eq!(parse(&toml_text).expect("round trip"), scenario);
        let json = serde_json::to_string(&scenario).expect("serialises");
        let name = leader_write(text).name();
        assert!(
            json.contains(&format!("\"leader_write\":\"{name}\"")),
            "{json}"
        );
        let back: Scenario = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, scenario);
    }
    let message = error(&ZAB.replace("servers = 3", "servers = 3\nleader_write = \"later\""));
    assert_eq!(
        message,
        "scenarios/x.toml:6:16: model.leader_write: expected one of queued, atomic; found \"later\""
    );
    let message = error(&STANDARD.replace("clients = 3", "clients = 3\nleader_write = \"atomic\""));
    assert!(
        message.contains("model.leader_write: applies to model kind zab only"),
        "{message}"
    );
}

#[test]
fn unbounded_epochs_are_refused_with_fast_leader_election() {
    // FLE's rounds are bounded by `epochs`; only the oracle election may leave epochs unbounded.
    let unbounded = ZAB.replace("servers = 3", "servers = 3\nepochs = 0");
    assert!(parse(&unbounded).is_ok());
    let message = error(&unbounded.replace("epochs = 0", "epochs = 0\nelection = \"fle\""));
    assert!(
        message.contains("model.epochs: 0 (no bound) needs election = \"oracle\""),
        "{message}"
    );
}

#[test]
fn every_wrong_type_and_unknown_key_is_reported_even_after_a_wrongly_typed_kind() {
    // Issue 20: a wrongly typed required key (`kind`) ended the collection and hid the problems
    // after it, and only the first unknown key was reported.
    let text = STANDARD
        .replace("kind = \"lock\"", "kind = 5")
        .replace("clients = 3", "clients = \"three\"\nbogus = 1")
        .replace("session_expiries = 1", "session_expiries = \"y\"")
        + "[extra]\nx = 1\n[check]\nmax_states = \"z\"\nfoo = 2\n";
    let err = parse(&text).expect_err("invalid");
    let lines: Vec<String> = err.to_string().lines().map(String::from).collect();
    let known_check = "`strategy`, `max_depth`, `max_states`, `time_limit`, `max_memory`, `seed`, `runs`, `steps`, `scheduler`, `fairness`, `properties`, `symmetry`, `reduction`, `threads`, `full_space`";
    assert_eq!(
        lines,
        [
            "scenarios/x.toml:4:8: model.kind: expected a string, found integer 5".to_string(),
            "scenarios/x.toml:6:11: model.clients: expected an integer from 0 to 4294967295, found string \"three\"".into(),
            "scenarios/x.toml:7:1: unknown field `bogus`, expected one of `kind`, `recipe`, `variant`, `clients`, `acquisitions`, `retry_after_expiry`, `servers`, `zookeeper`, `connections`, `sessions_at_start`, `transactions`, `epochs`, `election`, `leader_write`".into(),
            "scenarios/x.toml:9:20: faults.session_expiries: expected an integer from 0 to 255, found string \"y\"".into(),
            "scenarios/x.toml:12:2: unknown field `extra`, expected one of `name`, `description`, `model`, `faults`, `timing`, `check`, `expect`".into(),
            "scenarios/x.toml:15:14: check.max_states: expected an integer from 0 to 18446744073709551615 (above 9223372036854775807, a decimal string such as \"18446744073709551615\"), found string \"z\"".into(),
            format!("scenarios/x.toml:16:1: unknown field `foo`, expected one of {known_check}"),
        ]
    );
}

#[test]
fn a_missing_kind_is_an_error() {
    assert_eq!(
        error("[model]\nrecipe = \"standard\"\nclients = 2\n"),
        "scenarios/x.toml: model.kind: missing; expected one of lock, zab, lock-over-zab, rwlock, election, barrier"
    );
}

/// A lock over an ensemble with every key of its own set away from its default.
const ENSEMBLE: &str = r#"
description = "test"
[model]
kind = "lock"
recipe = "curator"
clients = 2
servers = 3
zookeeper = "zk-1208"
connections = ["S1", "S1"]
sessions_at_start = false
epochs = 3
election = "fle"
[faults]
session_expiries = 1
client_crashes = 1
partitions = 1
partition_sides = [["S0"], ["S1", "S2"]]
crashes = 1
crashable = ["S2"]
timeouts = 2
[timing]
expiry_needs_silence = true
disconnect_before_expiry = true
[expect]
mutual_exclusion = "holds"
"#;

/// The same world's `[model]` with only `servers` of the ensemble keys.
const ENSEMBLE_DEFAULTS: &str = r#"
[model]
kind = "lock"
recipe = "standard"
clients = 3
servers = 3
"#;

#[test]
fn an_ensemble_scenario_parses_into_its_spec() {
    use lockscope_models::zab::Election;
    use lockscope_models::zookeeper::{ServerCode, ServerFlaw};
    let scenario = parse(ENSEMBLE).expect("valid");
    assert_eq!(scenario.model.servers, 3);
    assert_eq!(
        scenario.model.ensemble,
        Some(EnsembleSpec {
            zookeeper: ServerCode::Server(ServerFlaw::Zk1208),
            connections: vec![1, 1],
            sessions_at_start: false,
            epochs: 3,
            election: Election::Fle,
        })
    );
    let faults = &scenario.faults;
    assert_eq!(
        (faults.partitions, faults.crashes, faults.timeouts),
        (1, 1, 2)
    );
    assert_eq!(faults.partition_sides, Some(PartitionSides([0b001, 0b110])));
    assert_eq!(faults.crashable, Some(Crashable(0b100)));
    assert_eq!(faults.client_crashes, 1);
    assert_eq!(
        scenario.timing,
        Timing {
            expiry_needs_silence: true,
            disconnect_before_expiry: true,
        }
    );
    let zab_code = ENSEMBLE.replace("zk-1208", "zk-4643");
    assert_eq!(
        parse(&zab_code)
            .expect("valid")
            .model
            .ensemble
            .unwrap()
            .zookeeper,
        ServerCode::Zab(lockscope_models::zab::ZabVariant::Zk4643),
        "every ZAB variant is a code of the servers"
    );
}

#[test]
fn an_ensemble_without_its_keys_gets_the_documented_defaults() {
    use lockscope_models::zab::Election;
    use lockscope_models::zookeeper::ServerCode;
    let scenario = parse(ENSEMBLE_DEFAULTS).expect("valid");
    assert_eq!(
        scenario.model.ensemble,
        Some(EnsembleSpec {
            zookeeper: ServerCode::default(),
            connections: vec![0, 1, 0],
            sessions_at_start: true,
            epochs: 2,
            election: Election::Oracle,
        }),
        "the followers S0 and S1 in turn; S2 leads at start"
    );
    assert_eq!(scenario.timing, Timing::default());
    let five = parse(&ENSEMBLE_DEFAULTS.replace("servers = 3", "servers = 5")).expect("valid");
    assert_eq!(five.model.ensemble.unwrap().connections, [0, 1, 2]);
    assert_eq!(parse(STANDARD).expect("valid").model.ensemble, None);
}

#[test]
fn ensemble_keys_are_refused_on_one_server_where_they_stand() {
    let one = ENSEMBLE.replace("servers = 3\n", "");
    let err = parse(&one).expect_err("invalid");
    let lines: Vec<String> = err.to_string().lines().map(String::from).collect();
    let refused = |at: &str, key: &str| {
        format!("scenarios/x.toml:{at}: {key}: applies to an ensemble (servers = 3 to 5); this lock world has 1 server")
    };
    assert_eq!(
        lines,
        [
            refused("7:13", "model.zookeeper"),
            refused("8:15", "model.connections"),
            refused("9:21", "model.sessions_at_start"),
            refused("10:10", "model.epochs"),
            refused("11:12", "model.election"),
            refused("16:19", "faults.partition_sides"),
            refused("18:13", "faults.crashable"),
            refused("19:12", "faults.timeouts"),
            refused("14:18", "faults.client_crashes"),
            refused("21:24", "timing.expiry_needs_silence"),
            refused("22:28", "timing.disconnect_before_expiry"),
        ]
    );
}

#[test]
fn a_lock_runs_on_one_server_or_an_ensemble_of_three_to_five() {
    for servers in [1, 3, 4, 5] {
        let text = ENSEMBLE_DEFAULTS.replace("servers = 3", &format!("servers = {servers}"));
        assert_eq!(parse(&text).expect("valid").model.servers, servers);
    }
    let expected =
        "model.servers: expected 1 (one atomic server) or 3 to 5 (an ensemble) for model kind lock";
    for (servers, why) in [
        (0, ""),
        (
            2,
            " (with 2, a quorum is both servers and any crash stops the service)",
        ),
        (6, ""),
    ] {
        let text = ENSEMBLE_DEFAULTS.replace("servers = 3", &format!("servers = {servers}"));
        assert_eq!(
            error(&text),
            format!("scenarios/x.toml:6:11: {expected}{why}; found {servers}")
        );
    }
}

#[test]
fn a_servers_code_in_the_recipe_variant_points_to_model_zookeeper() {
    for code in ["zk-4643", "zk-1208", "v3.9.2"] {
        let text = ENSEMBLE_DEFAULTS.replace("servers = 3", &format!("variant = \"{code}\""));
        assert_eq!(
            error(&text),
            format!("scenarios/x.toml:6:11: model.variant: \"{code}\" names the servers' code, not a recipe's flaw: the servers' code is model.zookeeper, on an ensemble (servers = 3 to 5)")
        );
    }
    let message = error(&ENSEMBLE.replace("\"zk-1208\"", "\"skip-recheck\""));
    assert!(
        message.starts_with("scenarios/x.toml:8:13: model.zookeeper: expected one of fixed, zk-1208, zk-1367, zk-710, zk-4643, "),
        "{message}"
    );
    assert!(
        message.ends_with("v3.9.2; found \"skip-recheck\""),
        "{message}"
    );
}

#[test]
fn connections_name_one_server_of_the_ensemble_per_client() {
    let cases = [
        (
            r#"["S0"]"#,
            r#"expected one server per client (2), as ["S0", "S1"]; found 1 server(s)"#,
        ),
        (
            r#"["S0", "S1", "S0"]"#,
            r#"expected one server per client (2), as ["S0", "S1"]; found 3 server(s)"#,
        ),
        (
            r#"["S0", "S3"]"#,
            r#"expected servers of the ensemble, S0 to S2; found "S3""#,
        ),
        (
            r#"["S0", "leader"]"#,
            r#"expected servers of the ensemble, S0 to S2; found "leader""#,
        ),
    ];
    for (connections, expected) in cases {
        let text = ENSEMBLE.replace(r#"["S1", "S1"]"#, connections);
        assert_eq!(
            error(&text),
            format!("scenarios/x.toml:9:15: model.connections: {expected}"),
            "{connections}"
        );
    }
    // A bad client count is reported once, not again as a wrong number of connections.
    let message = error(&ENSEMBLE.replace("clients = 2", "clients = 0"));
    assert!(!message.contains("connections"), "{message}");
}

#[test]
fn crashable_names_servers_of_the_ensemble_for_a_crash() {
    let cases = [
        (
            r#"["S3"]"#,
            "expected servers of the ensemble, S0 to S2; found S3 not in it",
        ),
        (r#"[]"#, "expected at least one server; found none"),
        (r#"["S2", "S2"]"#, "S2 is listed twice"),
        (
            r#"["two"]"#,
            "expected server names, each S0 to S4; found \"two\"",
        ),
    ];
    for (crashable, expected) in cases {
        let text = ENSEMBLE.replace(r#"["S2"]"#, crashable);
        assert_eq!(
            error(&text),
            format!("scenarios/x.toml:19:13: faults.crashable: {expected}"),
            "{crashable}"
        );
    }
    assert_eq!(
        error(&ENSEMBLE.replace("\ncrashes = 1", "\ncrashes = 0")),
        "scenarios/x.toml:19:13: faults.crashable: names the servers that may crash, so it needs faults.crashes of at least 1; found 0"
    );
    let message = error(&ZAB.replace("partitions = 1", "partitions = 1\ncrashable = [\"S0\"]"));
    assert!(
        message.contains("faults.crashable: applies to a lock over an ensemble only"),
        "{message}"
    );
}

#[test]
fn server_faults_of_an_ensemble_are_bounded_as_zabs() {
    let cases = [
        ("timeouts = 2", "timeouts = 9", "20:12: faults.timeouts: expected 0 to 8, found 9"),
        (
            "client_crashes = 1",
            "client_crashes = 3",
            "15:18: faults.client_crashes: expected 0 to 2 (each client dies at most once), found 3",
        ),
        (
            r#"partition_sides = [["S0"], ["S1", "S2"]]"#,
            r#"partition_sides = [["S0"], ["S1"]]"#,
            "17:19: faults.partition_sides: expected two disjoint, non-empty groups that together hold S0 to S2; found S2 on neither side; every server is on one",
        ),
        (
            "epochs = 3",
            "epochs = 0",
            "11:10: model.epochs: 0 (no bound) needs election = \"oracle\"",
        ),
    ];
    for (from, to, expected) in cases {
        let message = error(&ENSEMBLE.replace(from, to));
        assert!(
            message.starts_with(&format!("scenarios/x.toml:{expected}")),
            "{to}: {message}"
        );
    }
    let never_heals = ENSEMBLE.replace(
        "\ncrashes = 1\n",
        "\ncrashes = 1\npermanent_partitions = true\n",
    );
    let scenario = parse(&never_heals).expect("a lock over an ensemble takes ZAB's partitions");
    assert!(scenario.faults.permanent_partitions);
    let text = toml::to_string(&scenario).expect("serialises");
    assert_eq!(parse(&text).expect("round trip"), scenario);
    let message = error(&never_heals.replace("partitions = 1\n", "partitions = 0\n"));
    assert!(
        message.contains("faults.permanent_partitions: a partition that never heals needs faults.partitions of at least 1"),
        "{message}"
    );
}

#[test]
fn an_ensemble_refuses_more_transactions_than_its_log_holds() {
    // 2 clients × (createSession + create + delete) + 1 expiry = 7: a client crash writes
    // nothing, and the writes resent after the servers' faults are the model's to add.
    let scenario = parse(ENSEMBLE).expect("7 transactions fit");
    assert_eq!(transactions_needed(&scenario.model, &scenario.faults), 7);
    let message = error(&ENSEMBLE.replace("session_expiries = 1", "session_expiries = 3"));
    assert!(
        message.starts_with(
            "scenarios/x.toml:7:11: model.servers: this world may write 9 transactions"
        ),
        "{message}"
    );
    assert!(
        message.ends_with("an ensemble's log holds at most 8"),
        "{message}"
    );
    let retry = ENSEMBLE.replace("clients = 2", "clients = 2\nretry_after_expiry = true");
    assert!(error(&retry).contains("may write 9 transactions"));
    let lost = ENSEMBLE.replace(
        "session_expiries = 1",
        "session_expiries = 2\nmessage_loss = 1",
    );
    assert!(error(&lost).contains("may write 9 transactions"));
    // The naive recipe's refused creates are error transactions: with 3 clients one acquisition
    // each, 6 creates and deletes and up to 6 refusals (each client once per other's holding).
    let naive = "[model]\nkind = \"lock\"\nrecipe = \"naive\"\nclients = 3\nservers = 3\n";
    assert_eq!(
        error(naive),
        "scenarios/x.toml:5:11: model.servers: this world may write 12 transactions (per client: a create and a delete per acquisition, a createSession unless sessions_at_start; one per session expiry and connection loss; two per expiry with retry_after_expiry; the naive recipe: one refused create per client per other client's acquisition); an ensemble's log holds at most 8"
    );
    let two = parse(&naive.replace("clients = 3", "clients = 2")).expect("4 + 2 transactions fit");
    assert_eq!(transactions_needed(&two.model, &two.faults), 6);
    let forever = error(&ENSEMBLE.replace("clients = 2", "clients = 2\nacquisitions = 0"));
    assert_eq!(
        forever,
        "scenarios/x.toml:7:16: model.acquisitions: 0 (forever) is not supported on an ensemble: its log holds at most 8 transactions; expected 1 to 8"
    );
}

#[test]
fn timing_takes_its_two_assumptions_and_nothing_else() {
    let message = error(&ENSEMBLE.replace("disconnect_before_expiry", "pings"));
    assert!(
        message.starts_with("scenarios/x.toml:23:1: unknown field `pings`, expected `expiry_needs_silence` or `disconnect_before_expiry`"),
        "{message}"
    );
    let message =
        error(&ENSEMBLE.replace("expiry_needs_silence = true", "expiry_needs_silence = 1"));
    assert!(
        message.starts_with(
            "scenarios/x.toml:22:24: timing.expiry_needs_silence: expected true or false"
        ),
        "{message}"
    );
}

#[test]
fn every_problem_of_an_ensemble_file_is_reported_at_once() {
    let text = ENSEMBLE
        .replace("\"zk-1208\"", "\"zk-0\"")
        .replace(r#"["S1", "S1"]"#, r#"["S5"]"#)
        .replace(r#"["S2"]"#, r#"["S4"]"#)
        .replace("client_crashes = 1", "client_crashes = 5");
    let err = parse(&text).expect_err("invalid");
    assert_eq!(err.problems.len(), 4, "{err}");
}

#[test]
fn a_single_server_scenario_writes_no_ensemble_key() {
    let scenario = parse(STANDARD).expect("valid");
    let text = toml::to_string(&scenario).expect("serialises");
    let json = serde_json::to_string(&scenario).expect("serialises");
    for key in [
        "zookeeper",
        "connections",
        "sessions_at_start",
        "epochs",
        "election",
        "crashable",
        "client_crashes",
        "timing",
    ] {
        assert!(!text.contains(key) && !json.contains(key), "{key}: {text}");
    }
}

#[test]
fn a_single_server_trace_with_an_ensemble_key_is_refused() {
    let scenario = parse(STANDARD).expect("valid");
    let json = serde_json::to_string(&scenario)
        .expect("serialises")
        .replace("\"servers\":1", "\"servers\":1,\"zookeeper\":\"fixed\"");
    let err = serde_json::from_str::<Scenario>(&json).expect_err("refused");
    assert!(
        err.to_string()
            .contains("model.zookeeper: applies to an ensemble (servers > 1)"),
        "{err}"
    );
}

/// Lock worlds over an ensemble with every key of theirs varied, within the log's 8 transactions.
fn valid_ensemble_scenario() -> impl Generator<Value = Scenario> {
    use lockscope_models::zab::Election;
    use lockscope_models::zookeeper::ServerCode;
    let codes: Vec<ServerCode> = ServerCode::all().collect();
    (3u8..=5, 1u8..=3, any::<bool>())
        .prop_flat_map(move |(servers, clients, sessions_at_start)| {
            (
                Just((servers, clients, sessions_at_start)),
                prop::collection::vec(0..servers, usize::from(clients)),
                prop::sample::select(codes.clone()),
                (1u8..=8, any::<bool>()),
                (0u32..=2, 1u8..(1 << servers), 0..=clients),
                (0u32..=2, 0u32..=8, any::<bool>(), any::<bool>()),
            )
        })
        .prop_map(
            |(
                (servers, clients, sessions_at_start),
                connections,
                zookeeper,
                (epochs, fle),
                (crashes, crashable, client_crashes),
                (partitions, timeouts, expiry_needs_silence, disconnect_before_expiry),
            )| {
                let scenario = parse(ENSEMBLE_DEFAULTS).expect("valid");
                Scenario {
                    model: ModelSpec {
                        recipe: Recipe::Curator,
                        clients,
                        servers,
                        ensemble: Some(EnsembleSpec {
                            zookeeper,
                            connections,
                            sessions_at_start,
                            epochs,
                            election: if fle { Election::Fle } else { Election::Oracle },
                        }),
                        ..scenario.model
                    },
                    faults: Faults {
                        crashes,
                        crashable: (crashes > 0).then_some(Crashable(crashable)),
                        client_crashes,
                        partitions,
                        partition_sides: (partitions > 0).then(|| {
                            let all = (1u8 << servers) - 1;
                            PartitionSides([1, all & !1])
                        }),
                        timeouts,
                        ..Faults::default()
                    },
                    timing: Timing {
                        expiry_needs_silence,
                        disconnect_before_expiry,
                    },
                    ..scenario
                }
            },
        )
        .prop_filter("fits the log", |s| {
            transactions_needed(&s.model, &s.faults) <= super::ensemble::MAX_ENSEMBLE_TRANSACTIONS
        })
}

/// Issue 19, scenario 7: `late_forwards` orders a client's own connection break, so it needs
/// `message_loss` on an ensemble; it is refused with one server and in kind zab, read as true
/// otherwise, and written into a trace's scenario only when true.
#[test]
fn late_forwards_needs_an_ensembles_message_loss() {
    let late = ENSEMBLE.replace("timeouts = 2", "timeouts = 2\nlate_forwards = true");
    assert_eq!(
        error(&late),
        "scenarios/x.toml:21:17: faults.late_forwards: orders a client's own connection break, which needs faults.message_loss of at least 1; found 0"
    );
    let with_loss = late.replace("client_crashes = 1", "message_loss = 1");
    let scenario = parse(&with_loss).expect("valid");
    assert!(scenario.faults.late_forwards);
    let written = toml::to_string(&scenario.faults).expect("faults serialise");
    assert!(written.contains("late_forwards = true"), "{written}");
    let without = parse(ENSEMBLE).expect("valid").faults;
    assert!(!toml::to_string(&without).unwrap().contains("late_forwards"));
    let one_server = error(
        "[model]\nkind = \"lock\"\nrecipe = \"curator\"\nclients = 1\n[faults]\nmessage_loss = 1\nlate_forwards = true\n",
    );
    assert!(
        one_server.contains("faults.late_forwards: applies to an ensemble (servers = 3 to 5)"),
        "{one_server}"
    );
    let zab = error(&ZAB.replace("partitions = 1", "partitions = 1\nlate_forwards = true"));
    assert!(
        zab.contains("faults.late_forwards: applies to a lock over an ensemble only"),
        "{zab}"
    );
}

//! The command line as users and CI scripts run it: exit codes 0/1/2, error texts, the JSON
//! result, trace files, replay and list. Each test runs the real binary in a scratch folder.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{lockscope, stderr, stdout};

fn scenario(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(relative)
        .display()
        .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("scratch file");
    path
}

/// An input error: exit 2, `lockscope:` prefixed lines, and never a panic.
fn assert_input_error(output: &Output, expected: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    assert!(
        err.lines().all(|line| line.starts_with("lockscope:")
            || line.starts_with("error:")
            || line.is_empty()
            || line.starts_with(' ')
            || line.starts_with("Usage")
            || line.starts_with("For more")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_met_expectation_exits_0_and_prints_the_search_summary() {
    let dir = tempfile::tempdir().unwrap();
    let output = lockscope(dir.path(), &["check", &scenario("lock/standard.toml")]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}{}", stderr(&output));
    for expected in [
        "scenario  standard",
        "bfs · complete · 3,831 unique states · 9,828 transitions · max depth 24 (covered 24)",
        "mutual_exclusion",
        "holds",
        "result    ok",
    ] {
        assert!(out.contains(expected), "{expected:?} missing from:\n{out}");
    }
    assert!(
        out.contains("every_waiter_acquires    liveness  holds"),
        "liveness is checked after a complete search:\n{out}"
    );
}

#[test]
fn a_violation_writes_a_trace_prints_the_narrative_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let output = lockscope(
        dir.path(),
        &[
            "check",
            &scenario("lock/standard-expiry.toml"),
            "--json",
            "result.json",
        ],
    );
    let out = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "the violation was expected:\n{out}"
    );
    assert!(
        out.contains("counterexample for mutual_exclusion (safety): 11 steps, shortest possible"),
        "{out}"
    );
    assert!(
        out.contains("  11. C1 reads Children [1] → HOLDS THE LOCK"),
        "{out}"
    );
    assert!(out.contains("⇒ C0 and C1 both believe they hold the lock; C0's session has expired but C0 has not read the notification"), "{out}");
    let trace = dir
        .path()
        .join("reports/standard-expiry/mutual_exclusion.trace.json");
    assert!(trace.exists());

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("result.json")).unwrap())
            .unwrap();
    assert_eq!(json["scenario"], "standard-expiry");
    assert_eq!(json["search"]["strategy"], "bfs");
    assert_eq!(json["search"]["complete"], true);
    assert_eq!(json["search"]["bound"], serde_json::Value::Null);
    assert_eq!(json["search"]["unique_states"], 749);
    assert_eq!(json["search"]["states"], 1712);
    assert_eq!(json["search"]["max_depth"], 16);
    assert_eq!(json["ok"], true);
    let me = &json["properties"][0];
    assert_eq!(me["name"], "mutual_exclusion");
    assert_eq!(me["kind"], "safety");
    assert_eq!(me["verdict"], "violated");
    assert_eq!(me["expected"], "violated");
    assert_eq!(
        me["trace"],
        "reports/standard-expiry/mutual_exclusion.trace.json"
    );
    assert_eq!(me["trace_length"], 11);

    let replay = lockscope(
        dir.path(),
        &[
            "replay",
            "reports/standard-expiry/mutual_exclusion.trace.json",
        ],
    );
    assert_eq!(
        replay.status.code(),
        Some(1),
        "the recorded violation recurs"
    );
    assert!(
        stdout(&replay).contains("   9. S expires C0's session"),
        "{}",
        stdout(&replay)
    );
    let rendered = lockscope(
        dir.path(),
        &[
            "render",
            "reports/standard-expiry/mutual_exclusion.trace.json",
            "--format",
            "text",
        ],
    );
    assert_eq!(stdout(&rendered), stdout(&replay));
}

#[test]
fn an_unmet_expectation_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenario("lock/standard-expiry.toml"))
        .unwrap()
        .replace(
            "mutual_exclusion = \"violated\"",
            "mutual_exclusion = \"holds\"",
        );
    let file = write(dir.path(), "wrong.toml", &text);
    let output = lockscope(dir.path(), &["check", file.to_str().unwrap(), "--quiet"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("NOT MET"), "{}", stdout(&output));
    assert!(stdout(&output).contains("result    FAILED"));
}

#[test]
fn a_bounded_search_says_unknown_and_does_not_pass_a_holds_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let output = lockscope(
        dir.path(),
        &[
            "check",
            &scenario("lock/standard.toml"),
            "--max-depth",
            "5",
            "--json",
            "-",
            "--quiet",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let report = stderr(&output);
    assert!(report.contains("bounded: stopped by max_depth"), "{report}");
    assert!(report.contains("(bounded: max_depth)"), "{report}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["search"]["complete"], false);
    assert_eq!(json["search"]["bound"], "max_depth");
    assert_eq!(json["properties"][0]["verdict"], "unknown");
    let liveness = json["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "every_waiter_acquires")
        .unwrap();
    assert_eq!(
        liveness["verdict"], "unknown",
        "a bounded search never says a liveness property holds"
    );
    assert_eq!(liveness["reason"], "bounded: max_depth");
}

#[test]
fn bad_scenarios_exit_2_with_file_line_and_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(scenario("lock/standard.toml")).unwrap();
    let cases = [
        (
            "zero.toml",
            good.replace("clients = 3", "clients = 0"),
            "zero.toml:9:11: model.clients: expected a number from 1 to 8, found 0",
        ),
        (
            "unknown-key.toml",
            good.replace("clients = 3", "clients = 3\ncolour = \"red\""),
            "unknown-key.toml:10:1: unknown field `colour`",
        ),
        (
            "recipe.toml",
            good.replace("\"standard\"", "\"bakery\""),
            "model.recipe: expected one of naive, herd, standard, fenced; found \"bakery\"",
        ),
        (
            "type.toml",
            good.replace("clients = 3", "clients = true"),
            "type.toml:9:11: invalid type: boolean `true`",
        ),
        (
            "syntax.toml",
            good.replace("[expect]", "[expect"),
            "syntax.toml:11:8: invalid table header",
        ),
    ];
    for (name, text, expected) in cases {
        let file = write(dir.path(), name, &text);
        assert_input_error(
            &lockscope(dir.path(), &["check", file.to_str().unwrap()]),
            expected,
        );
    }
    assert_input_error(
        &lockscope(dir.path(), &["check", "missing.toml"]),
        "missing.toml: no such file or folder",
    );
    assert_input_error(
        &lockscope(
            dir.path(),
            &["check", &scenario("lock/standard.toml"), "--threads", "0"],
        ),
        "--threads: expected 1 to 1024, found 0",
    );
    assert_eq!(
        lockscope(dir.path(), &["check", "--no-such-flag", "x"])
            .status
            .code(),
        Some(2),
        "usage errors exit 2"
    );
}

#[test]
fn corrupt_and_truncated_traces_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        lockscope(
            dir.path(),
            &["check", &scenario("lock/standard-expiry.toml"), "--quiet"]
        )
        .status
        .code(),
        Some(0)
    );
    let trace_path = dir
        .path()
        .join("reports/standard-expiry/mutual_exclusion.trace.json");
    let text = std::fs::read_to_string(&trace_path).unwrap();

    let truncated = write(dir.path(), "truncated.json", &text[..text.len() / 2]);
    assert_input_error(
        &lockscope(dir.path(), &["replay", truncated.to_str().unwrap()]),
        "truncated.json:",
    );

    let wrong_format = write(
        dir.path(),
        "format.json",
        &text.replace("lockscope-trace/1", "lockscope-trace/9"),
    );
    assert_input_error(
        &lockscope(dir.path(), &["replay", wrong_format.to_str().unwrap()]),
        "format: expected \"lockscope-trace/1\"",
    );

    let bad_action = write(
        dir.path(),
        "action.json",
        &text.replacen("\"StartAcquire\"", "\"Teleport\"", 1),
    );
    assert_input_error(
        &lockscope(dir.path(), &["replay", bad_action.to_str().unwrap()]),
        "step 1: divergence: cannot read the action",
    );

    let not_enabled = write(
        dir.path(),
        "enabled.json",
        &text.replacen("\"client\": \"C0\"", "\"client\": \"C7\"", 1),
    );
    assert_input_error(
        &lockscope(dir.path(), &["replay", not_enabled.to_str().unwrap()]),
        "step 1: divergence: `C7 starts to acquire`",
    );

    assert_input_error(
        &lockscope(dir.path(), &["replay", "nothing.json"]),
        "nothing.json: cannot read the trace",
    );
}

#[test]
fn traces_are_byte_identical_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario("lock/fenced-pause-expiry.toml");
    for threads in ["1", "2"] {
        let out = lockscope(
            dir.path(),
            &[
                "check",
                &file,
                "--threads",
                threads,
                "--report",
                &format!("r{threads}"),
                "--quiet",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    }
    let trace = |threads: &str| {
        std::fs::read(dir.path().join(format!(
            "r{threads}/fenced-pause-expiry/mutual_exclusion.trace.json"
        )))
        .unwrap()
    };
    assert_eq!(trace("1"), trace("2"));
}

#[test]
fn list_prints_every_scenario_with_its_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let output = lockscope(dir.path(), &["list", &scenario("lock")]);
    assert_eq!(output.status.code(), Some(0));
    let out = stdout(&output);
    assert!(out.contains("standard-expiry  ("), "{out}");
    assert!(
        out.contains("expect   mutual_exclusion violated, no_deadlock holds, no_herd holds"),
        "{out}"
    );
    assert!(out.contains("One session expiry is enough"), "{out}");
    // Each expected property says what its "holds" rests on (issue 18 §2).
    let evidence = out
        .split_once("\nproperties  ")
        .map(|(_, tail)| tail)
        .unwrap_or_else(|| panic!("a properties section: {out}"));
    for (property, mutant) in [
        ("mutual_exclusion", "lock/broken-skip-recheck.toml"),
        ("no_orphan_nodes", "lock/standard-orphan.toml"),
        (
            "fenced_resource_safety",
            "lock/broken-node-version-token.toml",
        ),
    ] {
        assert!(
            evidence.contains(&format!("  {property:<32} violated by {mutant} (test")),
            "{evidence}"
        );
    }
}

#[test]
fn misapplied_options_say_so_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario("lock/standard.toml");
    assert_input_error(
        &lockscope(dir.path(), &["check", &file, "--run", "3"]),
        "--run applies to random searches",
    );
    assert_input_error(
        &lockscope(
            dir.path(),
            &["check", &file, "--strategy", "random", "--shard", "4/4"],
        ),
        "--shard: expected I/N with 0 <= I < N",
    );
    assert_input_error(
        &lockscope(
            dir.path(),
            &["check", &file, "--strategy", "random", "--run", "1000"],
        ),
        "--run 1000: the search has runs 0 to 999",
    );
    let result = write(
        dir.path(),
        "bfs.json",
        "{\"scenario\": \"x\", \"search\": {\"strategy\": \"bfs\"}}",
    );
    assert_input_error(
        &lockscope(dir.path(), &["merge", result.to_str().unwrap()]),
        "only the shards of random searches and the members of dfs swarms can be merged",
    );
    assert_input_error(
        &lockscope(dir.path(), &["check", &file, "--shard", "0/4"]),
        "--shard applies to random searches (slices of the runs) and to dfs",
    );
    let broken = write(dir.path(), "broken.json", "{\"scenario\": ");
    assert_input_error(
        &lockscope(dir.path(), &["merge", broken.to_str().unwrap()]),
        "broken.json:1:",
    );
}

#[test]
fn json_on_stdout_is_json_alone() {
    let dir = tempfile::tempdir().unwrap();
    let output = lockscope(
        dir.path(),
        &[
            "check",
            &scenario("lock/standard-expiry.toml"),
            "--json",
            "-",
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(json["scenario"], "standard-expiry");
    assert!(
        stderr(&output).contains("scenario  standard-expiry"),
        "the report went to stderr"
    );
}

#[test]
fn hostile_inputs_exit_2_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario("lock/standard.toml");
    assert_input_error(
        &lockscope(
            dir.path(),
            &["check", &file, "--threads", "1125899906842624"],
        ),
        "--threads: expected 1 to 1024",
    );
    let good = std::fs::read_to_string(&file).unwrap();
    let dots = write(dir.path(), "dots.toml", &format!("name = \"..\"\n{good}"));
    assert_input_error(
        &lockscope(dir.path(), &["check", dots.to_str().unwrap()]),
        "name: expected a letter or digit",
    );
    std::fs::create_dir(dir.path().join("a")).unwrap();
    std::fs::create_dir(dir.path().join("b")).unwrap();
    write(dir.path(), "a/same.toml", &good);
    write(dir.path(), "b/same.toml", &good);
    assert_input_error(
        &lockscope(dir.path(), &["check", "a", "b"]),
        "traces would overwrite each other",
    );
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    assert_input_error(
        &lockscope(dir.path(), &["explore", &file, "--port", &port]),
        "cannot listen on 127.0.0.1",
    );
}

#[test]
fn a_trace_whose_embedded_scenario_is_invalid_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        lockscope(
            dir.path(),
            &["check", &scenario("lock/standard-expiry.toml"), "--quiet"]
        )
        .status
        .code(),
        Some(0)
    );
    let text = std::fs::read_to_string(
        dir.path()
            .join("reports/standard-expiry/mutual_exclusion.trace.json"),
    )
    .unwrap();
    let bad = write(
        dir.path(),
        "servers.json",
        &text.replace("\"servers\": 1", "\"servers\": 3"),
    );
    assert_input_error(
        &lockscope(dir.path(), &["replay", bad.to_str().unwrap()]),
        "the embedded scenario is invalid: model.servers",
    );
}

#[test]
fn a_named_partition_split_is_listed_embedded_in_traces_and_replayed() {
    // 4 servers split 2 | 2 for good: no side has a quorum, so no leader is elected.
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "split.toml",
        r#"description = "a split with no quorum on either side"
[model]
kind = "zab"
servers = 4
transactions = 0
epochs = 1
[faults]
partitions = 1
permanent_partitions = true
partition_sides = [["S0", "S1"], ["S2", "S3"]]
[expect]
leader_eventually_elected = "violated"
minority_commits_nothing_new = "holds"
"#,
    );
    let file = file.to_str().unwrap();
    let listed = stdout(&lockscope(dir.path(), &["list", file]));
    assert!(
        listed.contains("partitions 1 (never heal) · split {S0, S1} | {S2, S3}"),
        "{listed}"
    );
    let output = lockscope(dir.path(), &["check", file, "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let trace = dir
        .path()
        .join("reports/split/leader_eventually_elected.trace.json");
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(
        text.contains("\"partition_sides\": [\n"),
        "the split is part of the embedded scenario"
    );
    let replayed = lockscope(dir.path(), &["replay", trace.to_str().unwrap()]);
    assert_eq!(replayed.status.code(), Some(1), "{}", stdout(&replayed));
    assert!(
        stdout(&replayed).contains("partition {S2, S3} off"),
        "{}",
        stdout(&replayed)
    );
    let bad = write(dir.path(), "bad.json", &text.replace("\"S3\"", "\"S7\""));
    assert_input_error(
        &lockscope(dir.path(), &["replay", bad.to_str().unwrap()]),
        "faults.partition_sides: expected two groups of server names",
    );
}

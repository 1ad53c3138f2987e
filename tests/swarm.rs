//! A depth-first swarm (`check --strategy dfs --shard I/N`, then `merge`): members search in
//! different orders, the merge unites their violations and reports each member's coverage, and a
//! complete member proves what holds.

use std::path::Path;

use serde_json::Value;

mod common;
use common::lockscope_result as lockscope;

fn scenario(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(relative)
        .to_str()
        .unwrap()
        .to_string()
}

/// Run the four members of a swarm with `extra` options and merge them.
fn swarm(dir: &Path, file: &str, extra: &[&str]) -> (Vec<Value>, Value) {
    let mut members = Vec::new();
    let mut files = Vec::new();
    for i in 1..=4 {
        let json = format!("member{i}.json");
        let shard = format!("{i}/4");
        let report = format!("member{i}");
        let mut args = vec![
            "check",
            file,
            "--quiet",
            "--strategy",
            "dfs",
            "--shard",
            &shard,
            "--json",
            &json,
            "--report",
            &report,
        ];
        args.extend_from_slice(extra);
        lockscope(dir, &args);
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(&json)).unwrap()).unwrap();
        members.push(document["results"][0].clone());
        files.push(json);
    }
    let mut args = vec!["merge"];
    args.extend(files.iter().map(String::as_str));
    let merged = lockscope(dir, &args);
    let merged: Value = serde_json::from_slice(&merged.stdout).unwrap();
    (members, merged["results"][0].clone())
}

fn verdict<'a>(result: &'a Value, property: &str) -> &'a Value {
    &result["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == property)
        .unwrap()["verdict"]
}

#[test]
fn bounded_members_differ_and_the_merge_unites_their_violations() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario("bench/reference-n4-e1.toml");
    let (members, merged) = swarm(dir.path(), &file, &["--max-states", "3000"]);
    let traces: Vec<&Value> = members
        .iter()
        .map(|m| &m["search"]["transitions"])
        .collect();
    assert!(
        traces.iter().any(|t| *t != traces[0]),
        "members go down different branches: {traces:?}"
    );
    let any_violated = members
        .iter()
        .any(|m| verdict(m, "mutual_exclusion") == "violated");
    assert!(any_violated, "some member finds the double lock");
    assert_eq!(verdict(&merged, "mutual_exclusion"), "violated");
    let shortest = members
        .iter()
        .filter(|m| verdict(m, "mutual_exclusion") == "violated")
        .filter_map(|m| {
            m["properties"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "mutual_exclusion")?["trace_length"]
                .as_u64()
        })
        .min();
    let merged_length = merged["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "mutual_exclusion")
        .unwrap()["trace_length"]
        .as_u64();
    assert_eq!(merged_length, shortest, "the shortest member trace is kept");
    let coverage = merged["search"]["shards"].as_array().unwrap();
    assert_eq!(coverage.len(), 4);
    assert!(coverage
        .iter()
        .all(|c| c["unique_states"] == 3000 && c["complete"] == false));
    assert_eq!(merged["search"]["complete"], false);
    assert_eq!(
        verdict(&merged, "no_deadlock"),
        "unknown",
        "no member was complete"
    );
}

#[test]
fn complete_members_each_see_the_whole_space_and_prove_what_holds() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario("lock/standard.toml");
    let (members, merged) = swarm(dir.path(), &file, &[]);
    let unique: Vec<&Value> = members
        .iter()
        .map(|m| &m["search"]["unique_states"])
        .collect();
    assert!(unique.iter().all(|u| *u == unique[0]), "{unique:?}");
    assert_eq!(merged["search"]["complete"], true);
    for property in ["mutual_exclusion", "no_deadlock", "no_herd"] {
        assert_eq!(verdict(&merged, property), "holds", "{property}");
    }
    assert_eq!(
        verdict(&merged, "every_waiter_acquires"),
        "unknown",
        "liveness needs a breadth-first search"
    );
}

#[test]
fn a_member_given_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario("lock/standard.toml");
    lockscope(
        dir.path(),
        &[
            "check",
            &file,
            "--quiet",
            "--strategy",
            "dfs",
            "--shard",
            "1/4",
            "--json",
            "a.json",
        ],
    );
    std::fs::copy(dir.path().join("a.json"), dir.path().join("b.json")).unwrap();
    let output = common::lockscope(dir.path(), &["merge", "a.json", "b.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("shard 1/4 given 2 times: a.json, b.json")
    );
}

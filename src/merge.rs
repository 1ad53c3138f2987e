//! `lockscope merge`: combine the JSON results of the shards of a random search into the result
//! one unsharded search would have given, or those of a depth-first swarm into their union.
//!
//! Shards split the runs into disjoint slices and every run depends only on (seed, run index), so
//! the union is exact: counts and fault coverage add up, and each property's counterexample is the
//! one from the lowest run that found it — the one an unsharded search reports. Only timing fields
//! (`elapsed_ms`, here the slowest shard's) and `threads` may differ from an unsharded run.
//!
//! The members of a depth-first swarm search the same space in different orders, so their union
//! is not one search: a property is violated if any member found a violation (the shortest trace
//! is kept), holds if any member was complete (then it saw every state), and is unknown
//! otherwise. `search.shards` lists each member's coverage: its unique states and whether it was
//! complete.
//!
//! Either way the set must be exactly the shards 1/N to N/N of one search (one N, one seed): a
//! missing shard would drop runs or members without a word, a doubled one count them twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::commands::InputError;

fn read(file: &Path) -> Result<Vec<Value>, InputError> {
    let text = std::fs::read_to_string(file)
        .map_err(|err| format!("{}: cannot read: {err}", file.display()))?;
    let value: Value = serde_json::from_str(&text).map_err(|err| {
        format!(
            "{}:{}:{}: not a lockscope result: {err}",
            file.display(),
            err.line(),
            err.column()
        )
    })?;
    let format = crate::report::RESULTS_FORMAT;
    let not_a_result = |what: &str| {
        format!(
            "{}: not a lockscope result (the output of `check --json`): {what}",
            file.display()
        )
    };
    match value {
        Value::Object(mut document) if document.get("format") == Some(&json!(format)) => {
            match document.remove("results") {
                Some(Value::Array(results)) => Ok(results),
                _ => Err(not_a_result("expected a list `results`")),
            }
        }
        _ => Err(not_a_result(&format!(
            "expected an object with \"format\": {format:?}"
        ))),
    }
}

fn field<'a>(value: &'a Value, file: &Path, path: &[&str]) -> Result<&'a Value, InputError> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .ok_or_else(|| {
            format!(
                "{}: not a lockscope result: missing {}",
                file.display(),
                path.join(".")
            )
        })
}

fn number(value: &Value, file: &Path, path: &[&str]) -> Result<u64, InputError> {
    field(value, file, path)?
        .as_u64()
        .ok_or_else(|| format!("{}: {}: expected a number", file.display(), path.join(".")))
}

/// Merge the results in `files`; returns the merged results (one per scenario, in first-seen
/// order) in the document `check --json` writes.
pub fn merge(files: &[PathBuf]) -> Result<Value, InputError> {
    let mut groups: Vec<(String, Vec<(PathBuf, Value)>)> = Vec::new();
    for file in files {
        for result in read(file)? {
            let name = field(&result, file, &["scenario"])?
                .as_str()
                .unwrap_or_default()
                .to_string();
            let strategy = field(&result, file, &["search", "strategy"])?;
            if strategy != "random" && strategy != "dfs" {
                return Err(format!(
                    "{}: scenario {name}: only the shards of random searches and the members of dfs swarms can be merged",
                    file.display()
                ));
            }
            match groups.iter_mut().find(|(n, _)| *n == name) {
                Some((_, members)) => members.push((file.clone(), result)),
                None => groups.push((name, vec![(file.clone(), result)])),
            }
        }
    }
    let merged: Result<Vec<Value>, InputError> = groups
        .into_iter()
        .map(|(name, members)| {
            let (first_file, first) = &members[0];
            let strategy = &first["search"]["strategy"];
            if let Some((file, _)) = members
                .iter()
                .find(|(_, m)| &m["search"]["strategy"] != strategy)
            {
                return Err(format!(
                    "{}: scenario {name}: strategy differs from {}'s {strategy}",
                    file.display(),
                    first_file.display()
                ));
            }
            check_shard_set(&name, &members)?;
            if strategy == "dfs" {
                merge_swarm(&name, &members)
            } else {
                merge_scenario(&name, &members)
            }
        })
        .collect();
    Ok(crate::report::results_document(merged?))
}

fn merge_scenario(name: &str, shards: &[(PathBuf, Value)]) -> Result<Value, InputError> {
    let (_, first) = &shards[0];
    let seed = first["search"]["seed"].clone();
    let mut transitions = 0;
    let mut runs = 0;
    let mut max_depth = 0;
    let mut elapsed_ms = 0;
    let mut threads = 0;
    let mut coverage: Map<String, Value> = Map::new();
    let mut bound = "runs".to_string();
    for (file, shard) in shards {
        transitions += number(shard, file, &["search", "transitions"])?;
        runs += number(shard, file, &["search", "runs"])?;
        max_depth = max_depth.max(number(shard, file, &["search", "max_depth"])?);
        elapsed_ms = elapsed_ms.max(number(shard, file, &["search", "elapsed_ms"])?);
        threads = threads.max(number(shard, file, &["search", "threads"])?);
        if let Some(other) = shard["search"]["bound"].as_str().filter(|b| *b != "runs") {
            bound = other.to_string();
        }
        add_coverage(&mut coverage, shard);
    }
    let mut properties = Vec::new();
    for entries in per_property(shards)? {
        let violated = entries
            .iter()
            .filter(|p| p["verdict"] == "violated")
            .min_by_key(|p| p["run"].as_u64().unwrap_or(u64::MAX));
        let property = match violated {
            Some(found) => (*found).clone(),
            None => {
                let mut unknown = entries[0].clone();
                let reason = if entries[0]["kind"] == "liveness" {
                    entries[0]["reason"].clone()
                } else {
                    json!(format!(
                        "random search: {} found no violation; only a complete search proves a property",
                        crate::report::count(runs, "run", "runs")
                    ))
                };
                unknown["verdict"] = json!("unknown");
                unknown["reason"] = reason;
                for key in ["trace", "trace_length", "run", "shrunk_from"] {
                    unknown[key] = Value::Null;
                }
                unknown
            }
        };
        properties.push(property);
    }
    let strict = first["strict"] == true;
    let ok = all_met(&properties, strict);
    Ok(json!({
        "scenario": name,
        "file": first["file"],
        "search": {
            "strategy": "random",
            "complete": false,
            "bound": bound,
            "transitions": transitions,
            "unique_states": null,
            "max_depth": max_depth,
            "depth_covered": 0,
            "elapsed_ms": elapsed_ms,
            "seed": seed,
            "runs": runs,
            "threads": threads,
            "fingerprint_collision_probability": first["search"]["fingerprint_collision_probability"],
            "fault_coverage": coverage,
            "symmetry": null,
            "reduction": null,
            "fairness": first["search"]["fairness"],
            "shard": null,
        },
        "properties": properties,
        "strict": strict,
        "ok": ok,
    }))
}

/// The union of a depth-first swarm's members (see the module doc).
fn merge_swarm(name: &str, members: &[(PathBuf, Value)]) -> Result<Value, InputError> {
    let (_, first) = &members[0];
    let mut transitions = 0;
    let mut max_depth = 0;
    let mut elapsed_ms = 0;
    let mut coverage: Map<String, Value> = Map::new();
    let mut shards = Vec::new();
    for (file, member) in members {
        transitions += number(member, file, &["search", "transitions"])?;
        max_depth = max_depth.max(number(member, file, &["search", "max_depth"])?);
        elapsed_ms = elapsed_ms.max(number(member, file, &["search", "elapsed_ms"])?);
        add_coverage(&mut coverage, member);
        shards.push(json!({
            "shard": member["search"]["shard"],
            "unique_states": member["search"]["unique_states"],
            "complete": member["search"]["complete"],
            "bound": member["search"]["bound"],
        }));
    }
    let complete = members.iter().any(|(_, m)| m["search"]["complete"] == true);
    let mut properties = Vec::new();
    for entries in per_property(members)? {
        let violated = entries
            .iter()
            .filter(|p| p["verdict"] == "violated")
            .min_by_key(|p| p["trace_length"].as_u64().unwrap_or(u64::MAX));
        let holds = entries.iter().find(|p| p["verdict"] == "holds");
        let property = match (violated, holds) {
            (Some(found), _) => (*found).clone(),
            (None, Some(found)) => (*found).clone(),
            (None, None) => {
                let mut unknown = entries[0].clone();
                unknown["verdict"] = json!("unknown");
                if entries[0]["kind"] != "liveness" {
                    unknown["reason"] = json!(format!(
                        "no member of the swarm of {} found a violation, and none was complete",
                        members.len()
                    ));
                }
                unknown
            }
        };
        properties.push(property);
    }
    let strict = first["strict"] == true;
    let ok = all_met(&properties, strict);
    Ok(json!({
        "scenario": name,
        "file": first["file"],
        "search": {
            "strategy": "dfs",
            "complete": complete,
            "bound": if complete { Value::Null } else { first["search"]["bound"].clone() },
            "transitions": transitions,
            "unique_states": null,
            "max_depth": max_depth,
            "depth_covered": null,
            "elapsed_ms": elapsed_ms,
            "seed": first["search"]["seed"],
            "runs": null,
            "threads": members.len(),
            "fingerprint_collision_probability": first["search"]["fingerprint_collision_probability"],
            "fault_coverage": coverage,
            "symmetry": null,
            "reduction": null,
            "fairness": first["search"]["fairness"],
            "shard": null,
            "swarm": members.len(),
            "shards": shards,
        },
        "properties": properties,
        "strict": strict,
        "ok": ok,
    }))
}

/// A result's shard as `check` records it (`"I/N"`, counted from 1).
fn shard_of(result: &Value, file: &Path, name: &str) -> Result<(u64, u64), InputError> {
    field(result, file, &["search", "shard"])?
        .as_str()
        .and_then(|text| text.split_once('/'))
        .and_then(|(i, n)| Some((i.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
        .filter(|&(i, n)| 1 <= i && i <= n)
        .ok_or_else(|| {
            format!(
                "{}: scenario {name}: not a shard (run it with --shard I/N)",
                file.display()
            )
        })
}

/// Refuse anything but exactly shards 1..N of one N, all of one seed: a missing shard would drop
/// runs (or swarm members) without a word, a doubled one count them twice, and shards of another
/// N or seed are slices of another search. Every problem is named: which shards are missing,
/// which are doubled and where.
fn check_shard_set(name: &str, members: &[(PathBuf, Value)]) -> Result<(), InputError> {
    let (first_file, first) = &members[0];
    let seed = field(first, first_file, &["search", "seed"])?;
    let (_, count) = shard_of(first, first_file, name)?;
    let mut files_of: BTreeMap<u64, Vec<&Path>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (file, member) in members {
        let (i, n) = shard_of(member, file, name)?;
        let member_seed = field(member, file, &["search", "seed"])?;
        if member_seed != seed {
            problems.push(format!(
                "{}: seed {member_seed} differs from {}'s {seed}",
                file.display(),
                first_file.display()
            ));
        }
        if n == count {
            files_of.entry(i).or_default().push(file);
        } else {
            problems.push(format!(
                "{}: shard {i}/{n} is one of {n} shards, {}'s one of {count}",
                file.display(),
                first_file.display()
            ));
        }
    }
    // A shard count far beyond the results given would list millions: name the first few.
    const LISTED: usize = 10;
    let missing: Vec<u64> = (1..=count)
        .filter(|i| !files_of.contains_key(i))
        .take(LISTED + 1)
        .collect();
    if !missing.is_empty() {
        let absent = count - files_of.len() as u64;
        let mut names: Vec<String> = missing
            .iter()
            .take(LISTED)
            .map(|i| format!("{i}/{count}"))
            .collect();
        if absent > LISTED as u64 {
            names.push(format!("and {} more", absent - LISTED as u64));
        }
        problems.push(format!(
            "missing shard{} {}",
            if absent == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    for (i, files) in files_of.iter().filter(|(_, files)| files.len() > 1) {
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        problems.push(format!(
            "shard {i}/{count} given {} times: {}",
            files.len(),
            files.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "scenario {name}: not exactly the shards 1/{count} to {count}/{count} of one search:\n  {}",
            problems.join("\n  ")
        ))
    }
}

/// Add a result's fault coverage to `coverage`, kind by kind.
fn add_coverage(coverage: &mut Map<String, Value>, result: &Value) {
    if let Some(kinds) = result["search"]["fault_coverage"].as_object() {
        for (kind, count) in kinds {
            let total = coverage.get(kind).and_then(Value::as_u64).unwrap_or(0)
                + count.as_u64().unwrap_or(0);
            coverage.insert(kind.clone(), json!(total));
        }
    }
}

/// For each property of the first result, in its order, that property's entry in every result.
fn per_property(results: &[(PathBuf, Value)]) -> Result<Vec<Vec<&Value>>, InputError> {
    let (first_file, first) = &results[0];
    let names = field(first, first_file, &["properties"])?
        .as_array()
        .ok_or_else(|| format!("{}: properties: expected a list", first_file.display()))?;
    Ok(names
        .iter()
        .map(|property| {
            results
                .iter()
                .filter_map(|(_, result)| {
                    result["properties"]
                        .as_array()?
                        .iter()
                        .find(|p| p["name"] == property["name"])
                })
                .collect()
        })
        .collect())
}

/// Whether every expectation is met and, with none or under `--strict`, nothing is violated, as
/// `check` decides (`ScenarioOutcome::failure`).
fn all_met(properties: &[Value], strict: bool) -> bool {
    let any_expected = properties.iter().any(|p| !p["expected"].is_null());
    properties
        .iter()
        .all(|property| match property["expected"].as_str() {
            Some(expected) => property["verdict"] == expected,
            None => (any_expected && !strict) || property["verdict"] != "violated",
        })
}

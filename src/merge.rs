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
    Ok(match value {
        Value::Array(items) => items,
        single => vec![single],
    })
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
/// order) as the `check --json` output would give them.
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
            if strategy == "dfs" {
                merge_swarm(&name, &members)
            } else {
                merge_scenario(&name, &members)
            }
        })
        .collect();
    let merged = merged?;
    Ok(if merged.len() == 1 {
        merged.into_iter().next().expect("one")
    } else {
        Value::Array(merged)
    })
}

fn merge_scenario(name: &str, shards: &[(PathBuf, Value)]) -> Result<Value, InputError> {
    let (first_file, first) = &shards[0];
    let seed = field(first, first_file, &["search", "seed"])?.clone();
    let mut states = 0;
    let mut runs = 0;
    let mut max_depth = 0;
    let mut elapsed_ms = 0;
    let mut threads = 0;
    let mut coverage: Map<String, Value> = Map::new();
    let mut bound = "runs".to_string();
    for (file, shard) in shards {
        if field(shard, file, &["search", "seed"])? != &seed {
            return Err(format!(
                "{}: scenario {name}: seed {} differs from {}'s {seed}",
                file.display(),
                shard["search"]["seed"],
                first_file.display()
            ));
        }
        states += number(shard, file, &["search", "states"])?;
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
                    json!(format!("random search: {runs} runs found no violation; only a complete search proves a property"))
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
    let ok = all_met(&properties);
    Ok(json!({
        "scenario": name,
        "file": first["file"],
        "search": {
            "strategy": "random",
            "complete": false,
            "bound": bound,
            "states": states,
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
            "fairness": first["search"]["fairness"],
            "shard": null,
        },
        "properties": properties,
        "ok": ok,
    }))
}

/// The union of a depth-first swarm's members (see the module doc).
fn merge_swarm(name: &str, members: &[(PathBuf, Value)]) -> Result<Value, InputError> {
    let (_, first) = &members[0];
    let mut seen_members: Vec<(u64, &Path)> = Vec::new();
    let mut count = None;
    let mut states = 0;
    let mut max_depth = 0;
    let mut elapsed_ms = 0;
    let mut coverage: Map<String, Value> = Map::new();
    let mut shards = Vec::new();
    for (file, member) in members {
        let shard = field(member, file, &["search", "shard"])?
            .as_str()
            .and_then(|text| text.split_once('/'))
            .and_then(|(i, n)| Some((i.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
            .ok_or_else(|| {
                format!(
                    "{}: scenario {name}: not a swarm member (run it with --shard I/N)",
                    file.display()
                )
            })?;
        if *count.get_or_insert(shard.1) != shard.1 {
            return Err(format!(
                "{}: scenario {name}: member of a swarm of {}, not {}",
                file.display(),
                shard.1,
                count.unwrap_or_default()
            ));
        }
        if let Some((_, other)) = seen_members.iter().find(|(i, _)| *i == shard.0) {
            return Err(format!(
                "{}: scenario {name}: member {} is also in {}",
                file.display(),
                shard.0,
                other.display()
            ));
        }
        seen_members.push((shard.0, file));
        states += number(member, file, &["search", "states"])?;
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
    let ok = all_met(&properties);
    Ok(json!({
        "scenario": name,
        "file": first["file"],
        "search": {
            "strategy": "dfs",
            "complete": complete,
            "bound": if complete { Value::Null } else { first["search"]["bound"].clone() },
            "states": states,
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
            "fairness": first["search"]["fairness"],
            "shard": null,
            "swarm": members.len(),
            "shards": shards,
        },
        "properties": properties,
        "ok": ok,
    }))
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

/// Whether every expectation is met (with none, whether nothing is violated), as `check` decides.
fn all_met(properties: &[Value]) -> bool {
    if properties.iter().all(|p| p["expected"].is_null()) {
        return properties.iter().all(|p| p["verdict"] != "violated");
    }
    properties.iter().all(|property| {
        property["expected"]
            .as_str()
            .map_or(true, |expected| property["verdict"] == expected)
    })
}

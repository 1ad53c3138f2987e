//! `lockscope merge`: combine the JSON results of the shards of a random search into the result
//! one unsharded search would have given.
//!
//! Shards split the runs into disjoint slices and every run depends only on (seed, run index), so
//! the union is exact: counts and fault coverage add up, and each property's counterexample is the
//! one from the lowest run that found it — the one an unsharded search reports. Only timing fields
//! (`elapsed_ms`, here the slowest shard's) and `threads` may differ from an unsharded run.

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
            if field(&result, file, &["search", "strategy"])? != "random" {
                return Err(format!(
                    "{}: scenario {name}: only the shards of random searches can be merged",
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
        .map(|(name, members)| merge_scenario(&name, &members))
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
        if let Some(kinds) = shard["search"]["fault_coverage"].as_object() {
            for (kind, count) in kinds {
                let total = coverage.get(kind).and_then(Value::as_u64).unwrap_or(0)
                    + count.as_u64().unwrap_or(0);
                coverage.insert(kind.clone(), json!(total));
            }
        }
    }
    let names: Vec<Value> = field(first, first_file, &["properties"])?
        .as_array()
        .ok_or_else(|| format!("{}: properties: expected a list", first_file.display()))?
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    let mut properties = Vec::new();
    let mut ok = true;
    for property_name in names {
        let entries: Vec<&Value> = shards
            .iter()
            .filter_map(|(_, shard)| {
                shard["properties"]
                    .as_array()?
                    .iter()
                    .find(|p| p["name"] == property_name)
            })
            .collect();
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
        let met = property["expected"]
            .as_str()
            .map(|expected| property["verdict"] == expected);
        ok &= met != Some(false);
        properties.push(property);
    }
    if properties.iter().all(|p| p["expected"].is_null()) {
        ok = properties.iter().all(|p| p["verdict"] != "violated");
    }
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
        },
        "properties": properties,
        "ok": ok,
    }))
}

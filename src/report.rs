//! Rendering outcomes: the terminal summary, the numbered narrative of a counterexample, and the
//! JSON result of the contract. Renderers read finished outcomes and never the live world.

use std::fmt::Write as _;

use lockscope_models::Fairness;
use serde_json::json;

use crate::check::{PropertyOutcome, ScenarioOutcome};
use crate::search::{PropertyKind, Reduction, Verdict};

/// "safety" or "liveness", as the JSON result and the reports spell it.
pub fn kind_name(kind: PropertyKind) -> &'static str {
    match kind {
        PropertyKind::Safety => "safety",
        PropertyKind::Liveness => "liveness",
    }
}

/// A count with thousands separators: 1234567 → "1,234,567".
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A shard as users write it: counted from 1 (`1/4` … `4/4`, as jest's and cargo-nextest's
/// shards are), though the search numbers them from 0.
pub fn shard_name((index, count): (u64, u64)) -> String {
    format!("{}/{count}", index + 1)
}

/// A count and its noun, singular or plural, with thousands separators: "1 run", "230,656 runs".
pub fn count(value: u64, singular: &str, plural: &str) -> String {
    format!(
        "{} {}",
        thousands(value),
        if value == 1 { singular } else { plural }
    )
}

/// The per-scenario block printed by `check`, even on success.
pub fn summary(outcome: &ScenarioOutcome) -> String {
    let search = &outcome.search;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "scenario  {}  ({})",
        outcome.scenario.name,
        outcome.file.display()
    );
    let seconds = search.elapsed.as_secs_f64();
    if let (Some(seed), Some(runs)) = (search.seed, search.runs) {
        let check = &outcome.scenario.check;
        let _ = writeln!(
            text,
            "search    random · {} · {} of at most {} · {} taken · longest run {} · seed {seed} · {} scheduler · {} thread{}",
            search.bound.map_or("complete".to_string(), |bound| format!("bounded: {bound}")),
            count(runs, "run", "runs"),
            count(u64::from(check.steps), "step", "steps"),
            count(search.transitions, "step", "steps"),
            search.max_depth,
            check.scheduler.name(),
            search.threads,
            if search.threads == 1 { "" } else { "s" }
        );
        let _ = writeln!(
            text,
            "          {seconds:.2} s · {} steps/s · a random search never proves a property",
            thousands((search.transitions as f64 / seconds.max(1e-9)) as u64)
        );
    } else {
        let completeness = match search.bound {
            None => "complete".to_string(),
            Some(bound) => format!("bounded: stopped by {bound}"),
        };
        let mut reduced = match (search.symmetry, search.shard) {
            (Some(what), _) => format!("symmetry reduction ({what}) · "),
            (None, Some(shard)) => format!("swarm member {} · ", shard_name(shard)),
            (None, None) => String::new(),
        };
        if search.reduction != Reduction::None {
            reduced.push_str(&format!("{} reduction · ", search.reduction.name()));
        }
        if outcome.scenario.check.fairness == Fairness::Strong {
            reduced.push_str("strong fairness · ");
        }
        let unit = if search.symmetry.is_some() {
            "representative states"
        } else {
            "unique states"
        };
        // A depth-first search that stopped early has not seen every state of any depth: say
        // so instead of a bare "covered 0".
        let covered =
            if search.strategy == "dfs" && search.bound.is_some() && search.depth_covered == 0 {
                "no depth covered: a depth-first search stopped early misses states at every depth"
                    .to_string()
            } else {
                format!("covered {}", search.depth_covered)
            };
        let _ = writeln!(
            text,
            "search    {} · {} · {reduced}{} {unit} · {} transitions · max depth {} ({covered}) · {} thread{}",
            search.strategy,
            completeness,
            thousands(search.unique_states),
            thousands(search.transitions),
            search.max_depth,
            search.threads,
            if search.threads == 1 { "" } else { "s" }
        );
        let _ = writeln!(
            text,
            "          {:.2} s · {} transitions/s · 64-bit fingerprints (collision probability {:.1e})",
            seconds,
            thousands((search.transitions as f64 / seconds.max(1e-9)) as u64),
            search.collision_probability
        );
    }
    let budget = |kind: &str| outcome.scenario.faults.budget(kind);
    let coverage: Vec<String> = search
        .fault_coverage
        .iter()
        .filter(|(kind, _)| budget(kind) > 0)
        .map(|(kind, count)| {
            let unit = if search.seed.is_some() {
                "runs"
            } else {
                "transitions"
            };
            format!("{kind} {} {unit}", thousands(*count))
        })
        .collect();
    if !coverage.is_empty() {
        let _ = writeln!(text, "faults    used in {}", coverage.join(" · "));
    }
    // The name column fits the longest name, so that long names do not push a row's columns
    // out of line (at least 24 wide, so that tables of short names read as they always did).
    let width = outcome
        .properties
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(24);
    let _ = writeln!(
        text,
        "  {:<width$} {:<9} {:<9} expected",
        "property", "kind", "verdict"
    );
    for property in &outcome.properties {
        let _ = writeln!(text, "  {}", property_row(outcome, property, width));
    }
    let _ = writeln!(
        text,
        "result    {}",
        if outcome.ok() { "ok" } else { "FAILED" }
    );
    text
}

fn property_row(outcome: &ScenarioOutcome, property: &PropertyOutcome, width: usize) -> String {
    let expected = property.expected.map_or("-".to_string(), |e| e.to_string());
    let status = match property.expectation_met() {
        Some(true) => "met",
        Some(false) => "NOT MET",
        None if outcome.strict && outcome.failure(property).is_some() => "FAILS (--strict)",
        None => "",
    };
    let mut row = format!(
        "{:<width$} {:<9} {:<9} {:<9} {status}",
        property.name,
        kind_name(property.kind),
        match property.verdict {
            // Its reason, at the row's end, says "not checked".
            Verdict::NotChecked => "-".to_string(),
            verdict => verdict.to_string(),
        },
        expected
    );
    if let Some(length) = property.trace_length {
        let _ = write!(row, "  trace: {}", count(length as u64, "step", "steps"));
    }
    if let (Verdict::Unknown | Verdict::NotChecked, Some(reason)) =
        (property.verdict, &property.reason)
    {
        let _ = write!(row, "  ({reason})");
    }
    row.trim_end().to_string()
}

/// The numbered narrative of a counterexample, with the trace file and the replay command.
pub fn narrative(property: &PropertyOutcome, outcome: &ScenarioOutcome) -> String {
    let shortest = outcome.search.strategy == "bfs";
    let reduced = outcome.search.reduction != Reduction::None;
    let mut text = String::new();
    let length = property.trace_length.unwrap_or(0);
    let shape = match property.loop_start {
        Some(stem) if stem == length => format!("a {stem}-step path to a state that lasts forever"),
        Some(stem) => format!(
            "a lasso: {stem}-step stem, then a {}-step fair cycle",
            length - stem
        ),
        None => match property.random {
            Some(origin) => format!(
                "{length} steps (shrunk from {} steps of run {})",
                origin.original_length, origin.run
            ),
            None if shortest && reduced => format!("{length} steps, shortest in the reduced graph"),
            None if shortest => format!("{length} steps, shortest possible"),
            None => format!("{length} steps"),
        },
    };
    let _ = writeln!(
        text,
        "counterexample for {} ({}): {shape}",
        property.name,
        kind_name(property.kind)
    );
    text.push_str(&numbered(&property.narrative, property.loop_start));
    if let Some(explanation) = &property.explanation {
        let _ = writeln!(text, "  ⇒ {explanation}");
    }
    if let Some(path) = &property.trace_path {
        let _ = writeln!(text, "  trace   {}", path.display());
        let _ = writeln!(text, "  replay  lockscope replay {}", path.display());
    }
    if let Some(origin) = property.random {
        let _ = writeln!(
            text,
            "  rerun   {} --run {} (the unshrunk run, alone)",
            outcome.check_command(),
            origin.run
        );
    }
    // Last, so that whoever reads to the end of a bounded lasso learns it is no verdict.
    if let Some(bound) = property.bound {
        let _ = writeln!(
            text,
            "  ⇒ bounded: {bound}. This is the model's bound, not a failure of the protocol: with \
             {} = {}, a step the property waits for would be enabled here, so the verdict is unknown.",
            bound.key,
            bound.value + 1
        );
    }
    text
}

/// Steps as a numbered list, one line each; a lasso's cycle is marked where it starts.
pub fn numbered(steps: &[String], loop_start: Option<usize>) -> String {
    let width = steps.len().to_string().len();
    let mut text = String::new();
    for (i, step) in steps.iter().enumerate() {
        if loop_start == Some(i) {
            let _ = writeln!(
                text,
                "  {:>width$}  ── the cycle starts here and repeats forever ──",
                ""
            );
        }
        let _ = writeln!(text, "  {:>width$}. {step}", i + 1);
    }
    if loop_start == Some(steps.len()) {
        let _ = writeln!(
            text,
            "  {:>width$}  ── from here only faults could happen: the last state may last forever ──",
            ""
        );
    }
    text
}

/// The format tag of `check --json` and `merge` output.
pub const RESULTS_FORMAT: &str = "lockscope-results/1";

/// The JSON document of a run: one shape however many scenarios ran (a consumer never has to
/// tell an object from an array), tagged like trace files so a reader can tell what it holds.
pub fn results_document(results: Vec<serde_json::Value>) -> serde_json::Value {
    json!({ "format": RESULTS_FORMAT, "results": results })
}

/// The contract's JSON result for one scenario.
pub fn json(outcome: &ScenarioOutcome) -> serde_json::Value {
    let search = &outcome.search;
    let properties: Vec<serde_json::Value> = outcome
        .properties
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "kind": kind_name(p.kind),
                "verdict": p.verdict.json_name(),
                "checked": p.verdict != Verdict::NotChecked,
                "expected": p.expected,
                "trace": p.trace_path.as_ref().map(|path| path.display().to_string()),
                "trace_length": p.trace_length,
                "reason": p.reason,
                "bound": p.bound.map(|bound| bound.key),
                "run": p.random.map(|origin| origin.run),
                "shrunk_from": p.random.map(|origin| origin.original_length),
            })
        })
        .collect();
    json!({
        "scenario": outcome.scenario.name,
        "file": outcome.file.display().to_string(),
        "search": {
            "strategy": search.strategy,
            "complete": search.complete,
            "bound": search.bound,
            "transitions": search.transitions,
            // A random search does not count distinct states.
            "unique_states": if search.seed.is_some() { None } else { Some(search.unique_states) },
            "max_depth": search.max_depth,
            "depth_covered": search.depth_covered,
            "elapsed_ms": search.elapsed.as_millis() as u64,
            "seed": search.seed,
            "runs": search.runs,
            "fault_coverage": search.fault_coverage.iter().map(|(kind, count)| (kind.to_string(), json!(count))).collect::<serde_json::Map<_, _>>(),
            "symmetry": search.symmetry,
            "reduction": (search.reduction != Reduction::None).then(|| search.reduction.name()),
            "fairness": outcome.scenario.check.fairness.name(),
            "shard": search.shard.map(shard_name),
            "threads": search.threads,
            "fingerprint_collision_probability": if search.seed.is_some() { None } else { Some(search.collision_probability) },
        },
        "properties": properties,
        "strict": outcome.strict,
        "ok": outcome.ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(7_454_953), "7,454,953");
    }
}

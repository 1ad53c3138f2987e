//! Trace files: a counterexample as self-contained JSON, and its replay.
//!
//! The format is a contract (docs/results.md, "Trace files"): the full scenario, the property, the
//! seed, and the steps, each an action plus a one-line summary. `replay` rebuilds the world from the
//! embedded scenario and re-applies each action, failing with a divergence error at the first step
//! that is not enabled, so a trace file alone reproduces a run on any machine.

use std::fmt;
use std::path::{Path, PathBuf};

use lockscope_models::Bound;
use stateright::Expectation;

use crate::scenario::{read_capped, Scenario};
use crate::search::{Checkable, Counterexample};

/// The largest trace file read (see [`crate::scenario::MAX_SCENARIO_BYTES`]); a trace of a
/// million steps is smaller.
pub const MAX_TRACE_BYTES: u64 = 256 << 20;

/// The format tag of version 1 trace files.
pub const FORMAT: &str = "lockscope-trace/1";

/// One step: the action (model-specific JSON) and what it did, in words.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceStep {
    pub action: serde_json::Value,
    pub summary: String,
}

/// A trace file's content.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trace {
    pub format: String,
    pub scenario: Scenario,
    pub property: String,
    /// The seed of a random run; `null` for exhaustive searches.
    pub seed: Option<u64>,
    pub steps: Vec<TraceStep>,
    /// Where a liveness lasso's cycle begins; `null` for safety counterexamples.
    pub loop_start: Option<usize>,
    /// Random searches (an addition to the contract's format): the run that found the violation,
    /// re-run alone by `check --run K`, and its length before shrinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrunk_from: Option<usize>,
}

/// Why a trace could not be read or replayed (exit code 2).
#[derive(Debug)]
pub enum TraceError {
    /// The file is unreadable, not JSON, or not a trace.
    BadFile { file: PathBuf, message: String },
    /// A step is not enabled in the state the earlier steps reached.
    Divergence {
        file: PathBuf,
        step: usize,
        message: String,
    },
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::BadFile { file, message } => write!(f, "{}: {message}", file.display()),
            TraceError::Divergence {
                file,
                step,
                message,
            } => {
                write!(f, "{}: step {step}: divergence: {message}", file.display())
            }
        }
    }
}

impl std::error::Error for TraceError {}

impl Trace {
    /// Build the trace of a counterexample in `model`, summarising each step.
    pub fn record<M: Checkable>(
        model: &M,
        scenario: &Scenario,
        property: &str,
        seed: Option<u64>,
        counterexample: &Counterexample<M::Action>,
    ) -> Trace {
        let mut state = model.init_states().swap_remove(0);
        let steps = counterexample
            .steps
            .iter()
            .map(|action| {
                let next = model
                    .next_state(&state, action.clone())
                    .expect("a recorded step is enabled");
                let summary = model.describe_step(&state, action, &next);
                state = next;
                TraceStep {
                    action: serde_json::to_value(action).expect("actions serialise to JSON"),
                    summary,
                }
            })
            .collect();
        Trace {
            format: FORMAT.into(),
            scenario: scenario.clone(),
            property: property.into(),
            seed,
            steps,
            loop_start: counterexample.loop_start,
            run: counterexample.random.map(|origin| origin.run),
            shrunk_from: counterexample.random.map(|origin| origin.original_length),
        }
    }

    /// The file's text: pretty JSON and a final newline, byte-identical for identical traces.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("traces serialise to JSON");
        text.push('\n');
        text
    }

    /// Read a trace file.
    pub fn load(file: &Path) -> Result<Trace, TraceError> {
        let bad = |message: String| TraceError::BadFile {
            file: file.to_path_buf(),
            message,
        };
        let text = read_capped(file, MAX_TRACE_BYTES)
            .map_err(|err| bad(format!("cannot read the trace: {err}")))?;
        let trace: Trace = serde_json::from_str(&text).map_err(|err| {
            // serde_json's text ends in " at line L column C": the position goes in front,
            // `file:L:C:`, as for scenario files, and only once.
            let text = err.to_string();
            let suffix = format!(" at line {} column {}", err.line(), err.column());
            let message = text.strip_suffix(&suffix).unwrap_or(&text);
            match err.line() {
                0 => bad(format!("not a lockscope trace: {message}")),
                line => TraceError::BadFile {
                    file: PathBuf::from(format!("{}:{line}:{}", file.display(), err.column())),
                    message: format!("not a lockscope trace: {message}"),
                },
            }
        })?;
        if trace.format != FORMAT {
            return Err(bad(format!(
                "format: expected {FORMAT:?}, found {:?}",
                trace.format
            )));
        }
        // The embedded scenario must pass the same validation as a scenario file.
        let toml_text = toml::to_string(&trace.scenario)
            .map_err(|err| bad(format!("scenario: cannot be checked: {err}")))?;
        if let Err(err) = Scenario::parse(&toml_text, Path::new("scenario.toml")) {
            let problems: Vec<String> = err.problems.iter().map(|p| p.message.clone()).collect();
            return Err(bad(format!(
                "the embedded scenario is invalid: {}",
                problems.join("; ")
            )));
        }
        if trace
            .loop_start
            .is_some_and(|start| start > trace.steps.len())
        {
            return Err(bad(format!(
                "loop_start: expected at most {} (the number of steps)",
                trace.steps.len()
            )));
        }
        Ok(trace)
    }
}

/// What re-running a trace showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// One summary per step, as the model describes it now.
    pub summaries: Vec<String>,
    /// Where a lasso's cycle starts.
    pub loop_start: Option<usize>,
    /// Whether the trace still shows a violation of its property: a safety property false in the
    /// last state, or a fair cycle along which a liveness obligation stays pending.
    pub violated: bool,
    /// Why, in words.
    pub explanation: Option<String>,
    /// For a lasso that reproduces: the modelling bound whose exhaustion alone keeps it going
    /// (`Liveness::blocked_by_bound` in every state it repeats), so that it shows the bound, not
    /// the protocol, and its verdict is `unknown`.
    pub bound: Option<Bound>,
}

/// Re-execute `trace` in `model` step by step.
pub fn replay<M: Checkable>(model: &M, trace: &Trace, file: &Path) -> Result<Replay, TraceError> {
    let bad = |message: String| TraceError::BadFile {
        file: file.to_path_buf(),
        message,
    };
    let safety = model
        .properties()
        .into_iter()
        .find(|p| p.name == trace.property && p.expectation == Expectation::Always);
    let is_liveness = model
        .liveness_properties()
        .contains(&trace.property.as_str());
    if safety.is_none() && !is_liveness {
        return Err(bad(format!(
            "property: the model declares no property {:?}",
            trace.property
        )));
    }
    if is_liveness != trace.loop_start.is_some() {
        let expected = if is_liveness {
            "a liveness trace needs loop_start"
        } else {
            "a safety trace has no loop_start"
        };
        return Err(bad(format!("loop_start: {expected}")));
    }
    let mut states = vec![model.init_states().swap_remove(0)];
    let mut actions = Vec::with_capacity(trace.steps.len());
    let mut summaries = Vec::with_capacity(trace.steps.len());
    let mut enabled = Vec::new();
    for (index, step) in trace.steps.iter().enumerate() {
        let diverge = |message: String| TraceError::Divergence {
            file: file.to_path_buf(),
            step: index + 1,
            message,
        };
        let action: M::Action = serde_json::from_value(step.action.clone())
            .map_err(|err| diverge(format!("cannot read the action: {err}")))?;
        let state = states.last().expect("the initial state is there");
        enabled.clear();
        model.actions(state, &mut enabled);
        if !enabled.contains(&action) {
            let names: Vec<String> = enabled.iter().map(|a| a.to_string()).collect();
            return Err(diverge(format!(
                "`{action}` (\"{}\") is not enabled; enabled: {}",
                step.summary,
                if names.is_empty() {
                    "nothing".to_string()
                } else {
                    names.join("; ")
                }
            )));
        }
        let next = model
            .next_state(state, action.clone())
            .ok_or_else(|| diverge(format!("`{action}` changes nothing")))?;
        summaries.push(model.describe_step(state, &action, &next));
        states.push(next);
        actions.push(action);
    }
    let last = states.last().expect("the initial state is there");
    let (violated, explanation) = match (safety, trace.loop_start) {
        (Some(property), _) => (
            (!(property.condition)(model, last)),
            model.describe_violation(&trace.property, last),
        ),
        (None, Some(start)) => check_lasso(model, &trace.property, &states, &actions, start),
        (None, None) => unreachable!("checked above"),
    };
    let bound = match trace.loop_start {
        Some(start) if violated => lasso_bound(model, &trace.property, &states, start),
        _ => None,
    };
    Ok(Replay {
        summaries,
        loop_start: trace.loop_start,
        violated,
        explanation: Some(explanation).flatten(),
        bound,
    })
}

/// The bound that blocks every state the lasso from `start` repeats (its last state, for one that
/// lasts forever), if one does: the same test the search applies to the lassos it finds.
fn lasso_bound<M: Checkable>(
    model: &M,
    property: &str,
    states: &[M::State],
    start: usize,
) -> Option<Bound> {
    // The cycle's states (its last state is its first again), or the one state that lasts forever.
    let end = (states.len() - 1).max(start + 1);
    let repeated = &states[start..end];
    let mut bound = None;
    for state in repeated {
        bound = Some(model.blocked_by_bound(property, state)?);
    }
    bound
}

/// Whether `states` (after `actions`) end in a fair cycle from `start` along which an obligation of
/// `property` stays pending, and why.
fn check_lasso<M: Checkable>(
    model: &M,
    property: &str,
    states: &[M::State],
    actions: &[M::Action],
    start: usize,
) -> (bool, Option<String>) {
    let cycle_states = &states[start..states.len() - 1];
    let last = states.last().expect("the initial state is there");
    if cycle_states.is_empty() {
        let mut enabled = Vec::new();
        model.actions(last, &mut enabled);
        // Only faults (no obligation) may be enabled in a state that lasts forever.
        let stuck = enabled
            .iter()
            .all(|action| model.task(last, action).is_none());
        let pending = model.pending(property, last);
        let Some(bit) = lowest_bit(pending).filter(|_| stuck) else {
            return (false, Some("the last state is meant to last forever, but a fair step is enabled in it or no obligation is pending".into()));
        };
        return (
            true,
            Some(format!(
                "no step is enabled in the last state, so it lasts forever: {}",
                model.obligation_name(property, bit)
            )),
        );
    }
    if &states[start] != last {
        return (
            false,
            Some(format!(
                "the cycle from step {} does not return to the state it started from",
                start + 1
            )),
        );
    }
    let pending = cycle_states
        .iter()
        .fold(u64::MAX, |all, state| all & model.pending(property, state));
    let Some(bit) = lowest_bit(pending) else {
        return (
            false,
            Some("every obligation is met somewhere on the cycle".into()),
        );
    };
    let strong = model.strong_tasks();
    let mut enabled_throughout = u64::MAX;
    let mut enabled_somewhere = 0u64;
    let mut scratch = Vec::new();
    for state in cycle_states {
        scratch.clear();
        model.actions(state, &mut scratch);
        let enabled = scratch
            .iter()
            .filter_map(|a| model.task(state, a))
            .fold(0u64, |bits, t| bits | 1 << t);
        enabled_throughout &= enabled;
        enabled_somewhere |= enabled;
    }
    let taken = cycle_states
        .iter()
        .zip(&actions[start..])
        .filter_map(|(state, a)| model.task(state, a))
        .fold(0u64, |bits, t| bits | 1 << t);
    let names = |tasks: u64| -> Vec<String> {
        (0..64u8)
            .filter(|t| tasks & (1 << t) != 0)
            .map(|t| model.task_name(t))
            .collect()
    };
    let starved = enabled_throughout & !strong & !taken;
    if starved != 0 {
        return (
            false,
            Some(format!(
                "the cycle is not fair: {} stay enabled but are never taken",
                names(starved).join(", ")
            )),
        );
    }
    let starved_strong = enabled_somewhere & strong & !taken;
    if starved_strong != 0 {
        return (
            false,
            Some(format!(
                "the cycle is not fair: {} (strongly fair) are enabled on it but never taken",
                names(starved_strong).join(", ")
            )),
        );
    }
    let weak_taken = names(enabled_throughout & !strong);
    let mut fairness = if weak_taken.is_empty() {
        "every task is disabled somewhere on it".to_string()
    } else {
        format!("what stays enabled throughout it is taken in it ({}), and every other task is disabled somewhere on it", weak_taken.join(", "))
    };
    if strong != 0 {
        let strong_taken = names(enabled_somewhere & strong);
        if strong_taken.is_empty() {
            fairness.push_str("; every strongly fair task is disabled everywhere on it");
        } else {
            fairness.push_str(&format!("; the strongly fair tasks enabled somewhere on it are taken in it ({}), the others are disabled everywhere on it", strong_taken.join(", ")));
        }
    }
    let steps = actions.len() - start;
    (true, Some(format!(
        "{}: the cycle of the last {steps} step{} repeats forever and it stays waiting. The cycle is fair: {fairness}",
        model.obligation_name(property, bit),
        if steps == 1 { "" } else { "s" }
    )))
}

fn lowest_bit(bits: u64) -> Option<u32> {
    (bits != 0).then(|| bits.trailing_zeros())
}

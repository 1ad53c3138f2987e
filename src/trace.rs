//! Trace files: a counterexample as self-contained JSON, and its replay.
//!
//! The format is a contract (design README, "Trace files"): the full scenario, the property, the
//! seed, and the steps, each an action plus a one-line summary. `replay` rebuilds the world from the
//! embedded scenario and re-applies each action, failing with a divergence error at the first step
//! that is not enabled, so a trace file alone reproduces a run on any machine.

use std::fmt;
use std::path::{Path, PathBuf};

use stateright::Expectation;

use crate::scenario::Scenario;
use crate::search::Checkable;

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
    /// Build the trace of `actions` in `model`, summarising each step.
    pub fn record<M: Checkable>(
        model: &M,
        scenario: &Scenario,
        property: &str,
        seed: Option<u64>,
        actions: &[M::Action],
    ) -> Trace {
        let mut state = model.init_states().swap_remove(0);
        let steps = actions
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
            loop_start: None,
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
        let text = std::fs::read_to_string(file)
            .map_err(|err| bad(format!("cannot read the trace: {err}")))?;
        let trace: Trace = serde_json::from_str(&text).map_err(|err| {
            let place = if err.line() > 0 {
                format!("{}:{}: ", err.line(), err.column())
            } else {
                String::new()
            };
            bad(format!("{place}not a lockscope trace: {err}"))
        })?;
        if trace.format != FORMAT {
            return Err(bad(format!(
                "format: expected {FORMAT:?}, found {:?}",
                trace.format
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
    /// Whether the trace's property is violated in the final state.
    pub violated: bool,
    /// Why, in words, when violated.
    pub explanation: Option<String>,
}

/// Re-execute `trace` in `model` step by step.
pub fn replay<M: Checkable>(model: &M, trace: &Trace, file: &Path) -> Result<Replay, TraceError> {
    let property = model
        .properties()
        .into_iter()
        .find(|p| p.name == trace.property)
        .ok_or_else(|| TraceError::BadFile {
            file: file.to_path_buf(),
            message: format!(
                "property: the model declares no property {:?}",
                trace.property
            ),
        })?;
    if property.expectation != Expectation::Always || trace.loop_start.is_some() {
        return Err(TraceError::BadFile {
            file: file.to_path_buf(),
            message: format!("property {}: only safety traces can be replayed yet (liveness checking is not implemented)", trace.property),
        });
    }
    let mut state = model.init_states().swap_remove(0);
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
        enabled.clear();
        model.actions(&state, &mut enabled);
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
            .next_state(&state, action.clone())
            .ok_or_else(|| diverge(format!("`{action}` changes nothing")))?;
        summaries.push(model.describe_step(&state, &action, &next));
        state = next;
    }
    let violated = !(property.condition)(model, &state);
    let explanation = model.describe_violation(&trace.property, &state);
    Ok(Replay {
        summaries,
        violated,
        explanation,
    })
}

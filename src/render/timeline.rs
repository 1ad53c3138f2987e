//! A trace as a timeline: the model-independent picture every diagram renderer draws.
//!
//! A trace file holds actions only. Replaying it in its model gives, per step, the acting actor,
//! the kind of step and the messages it moved ([`lockscope_models::Timeline`]), and per state the
//! lasting conditions of each actor. This module pairs each delivery with the send it consumes and
//! turns the per-state conditions into intervals, so renderers only lay things out.
//!
//! Pairing: a delivery or loss on channel (from, to) consumes the oldest in-flight message on that
//! channel with the same label, or else the oldest on that channel. The second rule covers
//! canonical renaming (with `acquisitions = 0` sequence numbers are renamed between steps, so a
//! label can change while the message is in flight); on FIFO channels the two rules agree.

use std::path::Path;

use lockscope_models::timeline::{Condition, MessageEvent, StepKind};
use lockscope_models::Bound;

use crate::search::Checkable;
use crate::trace::{self, Trace, TraceError};

/// One step of the trace. Step `i` (from 0) leads from state `i` to state `i + 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Index into [`TimelineData::actors`].
    pub actor: usize,
    pub kind: StepKind,
    /// A short label: the message consumed or the fault.
    pub label: String,
    /// The model's full sentence for the step (the narrative line).
    pub summary: String,
}

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Consumed by its receiver in this step.
    Delivered(usize),
    /// Lost in this step.
    Lost(usize),
    /// Still on its channel when the trace ends.
    InFlight,
}

/// One message from its send to its fate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageLine {
    /// Actor indices.
    pub from: usize,
    pub to: usize,
    pub label: String,
    /// The step that sent it, `None` when it was in flight in the initial state.
    pub sent: Option<usize>,
    pub fate: Fate,
}

/// A condition that holds for an actor in states `from..to` (`to` is `None` when it lasts to
/// the end of the trace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub actor: usize,
    pub condition: Condition,
    pub from: usize,
    pub to: Option<usize>,
}

/// Everything the diagram renderers draw, for one trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineData {
    pub scenario: String,
    pub property: String,
    pub actors: Vec<String>,
    pub steps: Vec<Step>,
    /// In the order they were sent (initially in-flight messages first).
    pub messages: Vec<MessageLine>,
    /// Sorted by actor, condition, start.
    pub intervals: Vec<Interval>,
    /// Where a liveness lasso's cycle begins (a step index; equal to the number of steps when the
    /// last state lasts forever).
    pub loop_start: Option<usize>,
    /// Whether the replay shows the violation, and why.
    pub violated: bool,
    pub explanation: Option<String>,
    /// The exhausted modelling bound that alone keeps a lasso going (see `trace::Replay::bound`).
    pub bound: Option<Bound>,
    /// `describe_state` of every state, from the initial one: one more than there are steps.
    pub states: Vec<String>,
}

impl TimelineData {
    /// The verdict a replay shows, after "⇒ ": the property violated, or (for a lasso that only an
    /// exhausted bound keeps going) unknown with the bound, or not violated.
    pub fn verdict(&self) -> String {
        match (self.violated, self.bound) {
            (true, Some(bound)) => format!("{} unknown (bounded: {bound})", self.property),
            (true, None) => format!("{} violated", self.property),
            (false, _) => format!("{} is not violated at the end of this trace", self.property),
        }
    }
}

/// Replay `trace` (read from `file`) in `model` and build its timeline. Errors are those of
/// replay: a divergence or a trace that does not fit the model.
pub fn extract<M: Checkable>(
    model: &M,
    trace: &Trace,
    file: &Path,
) -> Result<TimelineData, TraceError> {
    // Replay validates every step first, so the walk below can rely on it.
    let replayed = trace::replay(model, trace, file)?;
    let actors = model.lifelines();
    let actor_index = |name: &str| -> Result<usize, TraceError> {
        actors
            .iter()
            .position(|a| a == name)
            .ok_or_else(|| TraceError::BadFile {
                file: file.to_path_buf(),
                message: format!("the model names an actor {name:?} that has no lifeline"),
            })
    };
    let mut state = model.init_states().swap_remove(0);
    let mut states = vec![model.describe_state(&state)];
    let mut conditions = vec![model.conditions(&state)];
    let mut steps = Vec::with_capacity(trace.steps.len());
    let mut messages: Vec<MessageLine> = Vec::new();
    let mut in_flight: Vec<usize> = Vec::new();
    for (index, (step, summary)) in trace.steps.iter().zip(&replayed.summaries).enumerate() {
        let action: M::Action =
            serde_json::from_value(step.action.clone()).expect("replay has read every action");
        let view = model.step_view(&state, &action);
        for event in view.events {
            let (m, fate) = match event {
                MessageEvent::Sent(m) => (m, None),
                MessageEvent::Delivered(m) => (m, Some(Fate::Delivered(index))),
                MessageEvent::Lost(m) => (m, Some(Fate::Lost(index))),
            };
            let (from, to) = (actor_index(&m.from)?, actor_index(&m.to)?);
            match fate {
                None => {
                    in_flight.push(messages.len());
                    messages.push(MessageLine {
                        from,
                        to,
                        label: m.label,
                        sent: Some(index),
                        fate: Fate::InFlight,
                    });
                }
                Some(fate) => {
                    let on_channel =
                        |i: &&usize| messages[**i].from == from && messages[**i].to == to;
                    let found = in_flight
                        .iter()
                        .filter(on_channel)
                        .find(|&&i| messages[i].label == m.label)
                        .or_else(|| in_flight.iter().find(on_channel))
                        .copied();
                    let line = match found {
                        Some(line) => {
                            in_flight.retain(|&i| i != line);
                            line
                        }
                        // In flight since the initial state: drawn from the top.
                        None => {
                            messages.push(MessageLine {
                                from,
                                to,
                                label: String::new(),
                                sent: None,
                                fate: Fate::InFlight,
                            });
                            messages.len() - 1
                        }
                    };
                    // The label as the receiver reads it: with canonical renaming it can differ
                    // from the label at the send, and the narrative uses this one.
                    messages[line].label = m.label;
                    messages[line].fate = fate;
                }
            }
        }
        steps.push(Step {
            actor: actor_index(&view.actor)?,
            kind: view.kind,
            label: view.label,
            summary: summary.clone(),
        });
        state = model
            .next_state(&state, action)
            .expect("replay has applied every action");
        states.push(model.describe_state(&state));
        conditions.push(model.conditions(&state));
    }
    let intervals = intervals(&conditions, &actor_index)?;
    Ok(TimelineData {
        scenario: trace.scenario.name.clone(),
        property: trace.property.clone(),
        actors,
        steps,
        messages,
        intervals,
        loop_start: trace.loop_start,
        violated: replayed.violated,
        explanation: replayed.explanation,
        bound: replayed.bound,
        states,
    })
}

/// Turn the conditions of each state into intervals: a run of consecutive states in which an actor
/// is in a condition is one interval.
fn intervals(
    conditions: &[Vec<(String, Condition)>],
    actor_index: &dyn Fn(&str) -> Result<usize, TraceError>,
) -> Result<Vec<Interval>, TraceError> {
    let mut open: Vec<Interval> = Vec::new();
    let mut closed = Vec::new();
    for (state, present) in conditions.iter().enumerate() {
        let mut now = Vec::with_capacity(present.len());
        for (actor, condition) in present {
            now.push((actor_index(actor)?, *condition));
        }
        open.retain(|interval| {
            let goes_on = now.contains(&(interval.actor, interval.condition));
            if !goes_on {
                closed.push(Interval {
                    to: Some(state),
                    ..*interval
                });
            }
            goes_on
        });
        for (actor, condition) in now {
            if !open
                .iter()
                .any(|i| i.actor == actor && i.condition == condition)
            {
                open.push(Interval {
                    actor,
                    condition,
                    from: state,
                    to: None,
                });
            }
        }
    }
    closed.extend(open);
    closed.sort_by_key(|i| (i.actor, i.condition, i.from));
    Ok(closed)
}

//! A timeline as a ShiViz log: one event per step, on the host that took the step, with a vector
//! clock that orders it after the sends it received.
//!
//! Each event is two lines, the event text and then `HOST {"HOST": n, ...}`. Give ShiViz the
//! parser regular expression `(?<event>.*)\n(?<host>\S*) (?<clock>{.*})` and leave the multiple
//! executions delimiter empty: the log is one execution. (README, "Rendering traces".)
//!
//! A host ticks its own entry once per step it takes; a step that consumes a message first takes
//! the entry-wise maximum with the clock of the step that sent it. Lost and in-flight messages
//! were never received, so they order nothing.

use std::fmt::Write as _;

use super::timeline::{Fate, TimelineData};

/// The ShiViz log of a timeline.
pub fn render(timeline: &TimelineData) -> String {
    let hosts = timeline.actors.len();
    let mut clocks: Vec<Vec<u64>> = vec![vec![0; hosts]; hosts];
    // The clock of each step's event, for the receivers of what it sent.
    let mut event_clocks: Vec<Vec<u64>> = Vec::with_capacity(timeline.steps.len());
    let mut out = String::new();
    for (index, step) in timeline.steps.iter().enumerate() {
        let host = step.actor;
        for message in timeline
            .messages
            .iter()
            .filter(|m| m.fate == Fate::Delivered(index))
        {
            if let Some(sent) = message.sent {
                for (mine, theirs) in clocks[host].iter_mut().zip(&event_clocks[sent]) {
                    *mine = (*mine).max(*theirs);
                }
            }
        }
        clocks[host][host] += 1;
        event_clocks.push(clocks[host].clone());
        let entries: Vec<String> = timeline
            .actors
            .iter()
            .zip(&clocks[host])
            .filter(|(_, &tick)| tick > 0)
            .map(|(name, tick)| format!("\"{name}\":{tick}"))
            .collect();
        let _ = writeln!(out, "{}. {}", index + 1, step.summary);
        let _ = writeln!(out, "{} {{{}}}", timeline.actors[host], entries.join(", "));
    }
    out
}

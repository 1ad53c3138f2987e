//! The numbered narrative of a trace (`render --format text`, and what `replay` prints): one
//! sentence per step, where a lasso's cycle starts, the verdict with why the last state violates
//! the property, and when each lasting condition (holding the lock, an expired session, a pause,
//! a crash, a partition) began and ended, so that a reader sees at once, say, that a client's
//! session expired at step 9 while it still held the lock from step 6.

use std::fmt::Write as _;

use super::timeline::TimelineData;
use crate::report;

/// When an interval of states `from..to` held, in step numbers: the step that began it and the
/// step that ended it.
fn span(from: usize, to: Option<usize>) -> String {
    let start = if from == 0 {
        "from the start".to_string()
    } else {
        format!("from step {from}")
    };
    match to {
        Some(end) => format!("{start} to step {end}"),
        None => format!("{start} on"),
    }
}

/// The narrative text of a timeline.
pub fn render(timeline: &TimelineData) -> String {
    let mut text = format!(
        "trace of {} in scenario {} ({} steps)\n",
        timeline.property,
        timeline.scenario,
        timeline.steps.len()
    );
    let summaries: Vec<String> = timeline.steps.iter().map(|s| s.summary.clone()).collect();
    text.push_str(&report::numbered(&summaries, timeline.loop_start));
    match (&timeline.explanation, timeline.violated) {
        (Some(explanation), true) => {
            let _ = writeln!(text, "  ⇒ {}: {explanation}", timeline.verdict());
        }
        (None, true) => {
            let _ = writeln!(text, "  ⇒ {}", timeline.verdict());
        }
        (_, false) => {
            let _ = writeln!(
                text,
                "  ⇒ {} is NOT violated at the end of this trace",
                timeline.property
            );
        }
    }
    if !timeline.intervals.is_empty() {
        text.push_str("  conditions:\n");
        // In the order they began, as the story goes.
        let mut intervals: Vec<_> = timeline.intervals.iter().collect();
        intervals.sort_by_key(|i| (i.from, i.actor, i.condition));
        for interval in intervals {
            let _ = writeln!(
                text,
                "    {} {} {}",
                timeline.actors[interval.actor],
                interval.condition.name(),
                span(interval.from, interval.to)
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_step_numbers() {
        assert_eq!(span(0, None), "from the start on");
        assert_eq!(span(6, None), "from step 6 on");
        assert_eq!(span(6, Some(8)), "from step 6 to step 8");
    }
}

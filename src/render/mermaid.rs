//! A timeline as a Mermaid `sequenceDiagram`, which GitHub draws inside Markdown.
//!
//! Mermaid draws a message as one horizontal arrow, so a message appears at the step that
//! consumed it, numbered with that step and saying in which step it was sent when it waited. Every
//! step is one line that starts with its number after the colon (`C0->>S: 3. ...` or
//! `Note over S: 9. ...`), so the diagram reads in the order of the narrative. A lost message is an
//! arrow ending in a cross (`-x`), holding the lock is an activation bar and a note, a lasso's cycle is a
//! `loop` block, and the violating step is shaded. Long notes are broken with `<br/>`, since
//! Mermaid does not wrap them. (Checked with Mermaid 11's parser and renderer.)

use std::fmt::Write as _;

use lockscope_models::timeline::{Condition, StepKind};

use super::timeline::{Fate, TimelineData};

/// Mermaid does not wrap notes: break long ones into lines of about `NOTE_WIDTH` characters.
const NOTE_WIDTH: usize = 60;

fn wrap_note(text: &str) -> String {
    super::svg::wrap(text, NOTE_WIDTH).join("<br/>")
}

/// Text Mermaid would misread: `;` ends a statement and `#` starts an entity code. The `;` goes
/// first: the entity code written for `#` ends in one that must stay.
fn clean(text: &str) -> String {
    text.replace(';', ",").replace('#', "#35;")
}

/// The Mermaid source of a timeline, ending with a newline.
pub fn render(timeline: &TimelineData) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let _ = writeln!(
        out,
        "    %% {} · {} · {} steps",
        timeline.scenario,
        timeline.property,
        timeline.steps.len()
    );
    for actor in &timeline.actors {
        let _ = writeln!(out, "    participant {actor}");
    }
    let first = timeline.actors.first().map_or("", String::as_str);
    let last = timeline.actors.last().map_or("", String::as_str);
    let violating = (timeline.violated && timeline.loop_start.is_none())
        .then(|| timeline.steps.len().checked_sub(1))
        .flatten();
    for (index, step) in timeline.steps.iter().enumerate() {
        let number = index + 1;
        if timeline.loop_start == Some(index) {
            out.push_str("    loop the cycle repeats forever\n");
        }
        if violating == Some(index) {
            out.push_str("    rect rgb(255, 205, 210)\n");
        }
        let actor = &timeline.actors[step.actor];
        let delivered = timeline
            .messages
            .iter()
            .find(|m| m.fate == Fate::Delivered(index));
        let mark = match step.kind {
            StepKind::Fault => "⚡ ",
            StepKind::Recover => "↺ ",
            StepKind::Local | StepKind::Deliver => "",
        };
        match delivered {
            // A delivery is an arrow, also when it is a fault (a reordered message overtakes).
            Some(message) => {
                let waited = match message.sent {
                    Some(sent) if sent + 1 < index => format!(" (sent in step {})", sent + 1),
                    Some(_) => String::new(),
                    None => " (in flight from the start)".into(),
                };
                let overtakes = if step.kind == StepKind::Fault {
                    format!(" ({})", clean(&step.label))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "    {}->>{}: {number}. {mark}{}{waited}{overtakes}",
                    timeline.actors[message.from],
                    timeline.actors[message.to],
                    clean(&message.label)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "    Note over {actor}: {number}. {mark}{}",
                    clean(&step.label)
                );
            }
        }
        for message in timeline
            .messages
            .iter()
            .filter(|m| m.fate == Fate::Lost(index))
        {
            let _ = writeln!(
                out,
                "    {}-x{}: lost: {}",
                timeline.actors[message.from],
                timeline.actors[message.to],
                clean(&message.label)
            );
        }
        // Holding the lock is an activation from the step that took it to the step that let go.
        for interval in timeline
            .intervals
            .iter()
            .filter(|i| i.condition == Condition::CriticalSection)
        {
            let name = &timeline.actors[interval.actor];
            if interval.to == Some(index + 1) {
                let _ = writeln!(out, "    deactivate {name}");
            }
            if interval.from == index + 1 {
                // An activation shows only once later messages give it length: say it too.
                let _ = writeln!(out, "    activate {name}");
                let _ = writeln!(out, "    Note right of {name}: holds the lock");
            }
        }
        if violating == Some(index) {
            out.push_str("    end\n");
        }
    }
    if timeline
        .loop_start
        .is_some_and(|start| start < timeline.steps.len())
    {
        out.push_str("    end\n");
    }
    for message in timeline
        .messages
        .iter()
        .filter(|m| m.fate == Fate::InFlight)
    {
        let _ = writeln!(
            out,
            "    Note over {},{}: in flight: {}",
            timeline.actors[message.from],
            timeline.actors[message.to],
            wrap_note(&clean(&message.label))
        );
    }
    if timeline.loop_start == Some(timeline.steps.len()) {
        let _ = writeln!(
            out,
            "    Note over {first},{last}: from here only faults could happen: the last state may last forever"
        );
    }
    let verdict = format!("⇒ {}", timeline.verdict());
    let why = timeline
        .explanation
        .as_deref()
        .map(|e| format!(": {}", clean(e)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "    Note over {first},{last}: {}",
        wrap_note(&format!("{verdict}{why}"))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn a_hash_becomes_its_entity_code_and_a_semicolon_a_comma() {
        assert_eq!(clean("PROPOSAL(1,1)#1; ack"), "PROPOSAL(1,1)#35;1, ack");
    }
}

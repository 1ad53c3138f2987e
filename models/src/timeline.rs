//! How a step looks on a sequence diagram: which actor acted, what kind of step it was, and which
//! messages it delivered, sent or lost; and which lasting conditions (critical section,
//! pause, expired session, ...) each actor is in.
//!
//! The renderers in the `lockscope` crate (SVG, Mermaid, ShiViz, HTML) know no protocol: they replay
//! a trace file and ask the model these questions through [`Timeline`]. A model answers them from
//! the states before and after each step, so a new action is one more match arm in the model's
//! implementation, and every renderer draws it.
//!
//! Actors are named by strings (`C0`, `S`, `R`, or a ZAB peer's name) so that every model can use
//! the same renderers whatever its actor type.

/// What kind of step an action is. Renderers pick shapes and colours from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepKind {
    /// An actor's own protocol step that consumes no message (start an acquisition, release).
    Local,
    /// An actor consumes a message and reacts.
    Deliver,
    /// The environment injects a fault, drawing on a `[faults]` budget.
    Fault,
    /// The environment ends a fault: a paused client resumes, a crashed server restarts, a
    /// partition heals.
    Recover,
}

impl StepKind {
    /// The lowercase name used in renderer output (ShiViz event text, HTML classes).
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Local => "local",
            StepKind::Deliver => "deliver",
            StepKind::Fault => "fault",
            StepKind::Recover => "recover",
        }
    }
}

/// A message on the channel from one actor to another, with its printed label.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Message {
    pub from: String,
    pub to: String,
    pub label: String,
}

/// What happened to a message within one step.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageEvent {
    /// Put on its channel; it arrives at a later step (or never).
    Sent(Message),
    /// Consumed by its receiver in this step.
    Delivered(Message),
    /// Taken off its channel without being delivered (a broken connection, a lossy link).
    Lost(Message),
}

/// One step as a diagram draws it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepView {
    /// The actor that takes the step (for a fault: the one it happens to, or the server that
    /// injects it, as the model decides).
    pub actor: String,
    pub kind: StepKind,
    /// A short label: the message consumed, or the fault, e.g. `expire C0's session`.
    pub label: String,
    /// In this order: deliveries, then losses, then sends.
    pub events: Vec<MessageEvent>,
}

/// A lasting condition of one actor, drawn as a bar or band along its lifeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Condition {
    /// The actor believes it holds the lock.
    CriticalSection,
    /// The actor takes no steps (a GC pause).
    Paused,
    /// The server has expired the actor's session (the actor may not know yet).
    SessionExpired,
    /// The actor has crashed and not restarted.
    Crashed,
    /// The actor is cut off from some others by a network partition.
    Partitioned,
    /// The actor is the leader (of a ZAB ensemble, say).
    Leading,
}

impl Condition {
    /// Every condition, in legend order.
    pub const ALL: [Condition; 6] = [
        Condition::CriticalSection,
        Condition::Paused,
        Condition::SessionExpired,
        Condition::Crashed,
        Condition::Partitioned,
        Condition::Leading,
    ];

    /// Words for a legend.
    pub fn name(self) -> &'static str {
        match self {
            Condition::CriticalSection => "holds the lock",
            Condition::Paused => "paused",
            Condition::SessionExpired => "session expired",
            Condition::Crashed => "crashed",
            Condition::Partitioned => "partitioned",
            Condition::Leading => "leads",
        }
    }
}

/// A model's state in words (its `Explain::describe_state`) as a small SVG of text lines, for
/// stateright's Explorer, which draws a model's SVG above the state it shows (on a dark panel,
/// hence the white background): people read the state, not a debug dump.
pub fn state_svg(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let width = 20 + 8 * lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let height = 16 + 18 * lines.len();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
    );
    for (i, line) in lines.iter().enumerate() {
        let escaped = line
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        svg.push_str(&format!(
            "<text x=\"10\" y=\"{}\" font-family=\"monospace\" font-size=\"13\" xml:space=\"preserve\" fill=\"#212121\">{escaped}</text>",
            20 + 18 * i
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The questions renderers ask a model about a trace, step by step (see the module doc).
pub trait Timeline: stateright::Model {
    /// The actors, one lifeline each, in the order they are drawn.
    fn lifelines(&self) -> Vec<String>;

    /// What `action`, taken in `before`, looks like on a diagram.
    fn step_view(&self, before: &Self::State, action: &Self::Action) -> StepView;

    /// The lasting conditions actors are in at `state`, as (actor, condition) pairs.
    fn conditions(&self, state: &Self::State) -> Vec<(String, Condition)>;
}

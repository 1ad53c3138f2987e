//! A timeline as an SVG sequence diagram, drawn with plotters' SVG backend.
//!
//! Time runs down the page, one row per step, and every actor has a lifeline. A message is an
//! arrow from the row of the step that sent it to the row of the step that consumed it, so a
//! message that waited is a diagonal; a lost message ends in a red ✕ at the row that lost it; a
//! message still in flight at the end runs dashed to the bottom. Lasting conditions are bars along the lifeline (see [`bar`]). Faults are red
//! diamonds, recoveries green circles. The violating step is shaded red, a lasso's cycle is
//! bracketed on the left, and the full sentence of every step stands in a column on the right.
//!
//! Readability at 10 actors and 200 steps: the diagram is never scaled down or wrapped. Columns
//! and rows have a fixed size (`COLUMN` × `ROW` pixels), so text stays at its reading size and a
//! long trace becomes a tall page that scrolls like a log (200 steps are about 5,000 pixels). The
//! actor names are repeated every `HEADER_EVERY` rows so that a reader deep in the page still
//! knows which lifeline is which. Arrow labels sit at the receiving end, where each row has
//! exactly one delivery, so they never collide with each other; they are cut to the arrow's
//! length, and the right-hand column has the full text.
//!
//! The output is deterministic: the same timeline gives byte-identical SVG.

use plotters::backend::{DrawingBackend, SVGBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontStyle, FontTransform, IntoFont, RGBColor, ShapeStyle, TextStyle};

use super::timeline::{Fate, Interval, MessageLine, TimelineData};
use lockscope_models::timeline::{Condition, StepKind};

/// Width of one actor's column, in pixels.
const COLUMN: i32 = 130;
/// Height of one step's row, in pixels.
const ROW: i32 = 24;
/// Room left of the first lifeline: the lasso bracket and the step numbers.
const LEFT: i32 = 70;
/// Height of the title, legend and actor names above the first row.
const TOP: i32 = 96;
/// Width of the right-hand column holding each step's sentence.
const SENTENCES: i32 = 640;
/// Repeat the actor names every this many rows.
const HEADER_EVERY: usize = 40;
/// Text sizes in plotters' units (the SVG says about 1/1.24 of it).
const TEXT: f64 = 14.0;
const SMALL: f64 = 12.5;
/// Average character width of `SMALL` text, for cutting labels to fit.
const SMALL_CHAR: f64 = 5.6;

const INK: RGBColor = RGBColor(33, 33, 33);
const GREY: RGBColor = RGBColor(150, 150, 150);
const FAULT: RGBColor = RGBColor(198, 40, 40);
const RECOVER: RGBColor = RGBColor(46, 125, 50);
const MESSAGE: RGBColor = RGBColor(25, 82, 160);
const VIOLATION: RGBColor = RGBColor(255, 205, 210);
const LASSO: RGBColor = RGBColor(106, 27, 154);

/// The colour of a condition's bar.
fn bar_color(condition: Condition) -> RGBColor {
    match condition {
        Condition::CriticalSection => RGBColor(46, 125, 50),
        Condition::Paused => RGBColor(158, 158, 158),
        Condition::SessionExpired => RGBColor(239, 108, 0),
        Condition::Crashed => RGBColor(66, 66, 66),
        Condition::Partitioned => RGBColor(100, 181, 246),
        Condition::Leading => RGBColor(0, 131, 143),
    }
}

/// Where a condition's bar sits relative to the lifeline (left and right edge offsets, opacity),
/// chosen so that any combination stays visible: the critical section is a solid bar on the
/// line, a pause a wide grey band behind it, an expired session a thin orange bar to its left, a
/// crash a dark band, a partition a wide light band, leadership a thin teal bar to its right.
fn bar(condition: Condition) -> (i32, i32, f64) {
    match condition {
        Condition::CriticalSection => (-5, 5, 0.9),
        Condition::Paused => (-13, 13, 0.35),
        Condition::SessionExpired => (-19, -14, 0.9),
        Condition::Crashed => (-13, 13, 0.5),
        Condition::Partitioned => (-COLUMN / 2 + 8, COLUMN / 2 - 8, 0.18),
        Condition::Leading => (14, 19, 0.9),
    }
}

/// The pixel geometry of one diagram.
struct Layout {
    actors: usize,
    steps: usize,
}

impl Layout {
    fn lifeline(&self, actor: usize) -> i32 {
        LEFT + COLUMN / 2 + COLUMN * actor as i32
    }

    /// The middle of step `step`'s row.
    fn row(&self, step: usize) -> i32 {
        TOP + ROW * step as i32 + ROW / 2
    }

    /// Where the bar of a condition that starts or ends at `state` begins or ends: the middle of
    /// the row of the step that reached that state (the top for the initial state).
    fn state(&self, state: usize) -> i32 {
        if state == 0 {
            TOP
        } else {
            self.row(state - 1)
        }
    }

    fn bottom(&self) -> i32 {
        TOP + ROW * self.steps as i32
    }

    fn sentences_x(&self) -> i32 {
        LEFT + COLUMN * self.actors as i32 + 16
    }
}

type Draw<'a> = SVGBackend<'a>;

fn text_style(size: f64, color: RGBColor, h: HPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&color)
        .pos(Pos::new(h, VPos::Center))
}

fn bold_style(size: f64, color: RGBColor, h: HPos) -> TextStyle<'static> {
    ("sans-serif", size, FontStyle::Bold)
        .into_font()
        .color(&color)
        .pos(Pos::new(h, VPos::Center))
}

fn text(draw: &mut Draw, content: &str, at: (i32, i32), style: &TextStyle) {
    draw.draw_text(content, style, at)
        .expect("SVG drawing into a string does not fail");
}

fn rect(draw: &mut Draw, from: (i32, i32), to: (i32, i32), style: &ShapeStyle, fill: bool) {
    draw.draw_rect(from, to, style, fill)
        .expect("SVG drawing into a string does not fail");
}

fn line(draw: &mut Draw, from: (i32, i32), to: (i32, i32), style: &ShapeStyle) {
    draw.draw_line(from, to, style)
        .expect("SVG drawing into a string does not fail");
}

fn polygon(draw: &mut Draw, points: Vec<(i32, i32)>, style: &ShapeStyle) {
    draw.fill_polygon(points, style)
        .expect("SVG drawing into a string does not fail");
}

fn circle(draw: &mut Draw, at: (i32, i32), radius: u32, style: &ShapeStyle, fill: bool) {
    draw.draw_circle(at, radius, style, fill)
        .expect("SVG drawing into a string does not fail");
}

/// Small text on a white halo, so that it stays legible where it crosses an arrow or a bar.
fn label(draw: &mut Draw, content: &str, at: (i32, i32), style: &TextStyle) {
    let width = (content.chars().count() as f64 * SMALL_CHAR).ceil() as i32 + 4;
    let (x, y) = at;
    let left = match style.pos.h_pos {
        HPos::Left => x - 2,
        HPos::Center => x - width / 2,
        HPos::Right => x - width + 2,
    };
    rect(
        draw,
        (left, y - 7),
        (left + width, y + 7),
        &RGBColor(255, 255, 255).mix(0.85).filled(),
        true,
    );
    text(draw, content, at, style);
}

/// `content` cut to about `pixels` wide at the small text size, with an ellipsis when cut.
fn fit(content: &str, pixels: f64) -> String {
    let most = (pixels / SMALL_CHAR).floor().max(4.0) as usize;
    if content.chars().count() <= most {
        content.to_string()
    } else {
        let cut: String = content.chars().take(most - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// Greedy word wrap to at most `width` characters per line.
pub(crate) fn wrap(content: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in content.split_whitespace() {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// An arrowhead at `tip`, pointing along the direction from `from`.
fn arrowhead(draw: &mut Draw, from: (i32, i32), tip: (i32, i32), color: RGBColor) {
    let (dx, dy) = (f64::from(tip.0 - from.0), f64::from(tip.1 - from.1));
    let length = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / length, dy / length);
    let (back, half) = (9.0, 4.0);
    let base = (f64::from(tip.0) - ux * back, f64::from(tip.1) - uy * back);
    let left = (base.0 - uy * half, base.1 + ux * half);
    let right = (base.0 + uy * half, base.1 - ux * half);
    let round = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
    polygon(draw, vec![tip, round(left), round(right)], &color.filled());
}

/// A dashed straight line (plotters' dashed element needs a chart; this is the same thing).
fn dashed(draw: &mut Draw, from: (i32, i32), to: (i32, i32), style: &ShapeStyle) {
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    let length = (dx * dx + dy * dy).sqrt();
    let (dash, gap) = (6.0, 4.0);
    let mut at = 0.0;
    while at < length {
        let end = (at + dash).min(length);
        let point = |t: f64| {
            (
                (f64::from(from.0) + dx * t / length).round() as i32,
                (f64::from(from.1) + dy * t / length).round() as i32,
            )
        };
        line(draw, point(at), point(end), style);
        at += dash + gap;
    }
}

/// The SVG sequence diagram of a timeline.
pub fn render(timeline: &TimelineData) -> String {
    let layout = Layout {
        actors: timeline.actors.len(),
        steps: timeline.steps.len(),
    };
    let explanation = explanation_lines(timeline);
    let width = layout.sentences_x() + SENTENCES;
    let in_flight = timeline
        .messages
        .iter()
        .filter(|m| m.fate == Fate::InFlight)
        .count() as i32;
    // Room for the in-flight labels and for the note that the last state lasts forever.
    let forever = timeline.loop_start == Some(timeline.steps.len());
    let below = layout.bottom() + 14 * in_flight + 26 + if forever { 22 } else { 0 };
    let height = below + 18 * explanation.len() as i32 + 12;
    let mut svg = String::new();
    {
        let mut draw = SVGBackend::with_string(&mut svg, (width as u32, height as u32));
        rect(
            &mut draw,
            (0, 0),
            (width, height),
            &RGBColor(255, 255, 255).filled(),
            true,
        );
        draw_violation_band(&mut draw, &layout, timeline, width);
        draw_header(&mut draw, &layout, timeline);
        draw_lifelines(&mut draw, &layout, timeline);
        let mut in_flight = 0;
        for message in &timeline.messages {
            draw_message(&mut draw, &layout, message, in_flight);
            in_flight += usize::from(message.fate == Fate::InFlight);
        }
        // Bars go over the arrows' label halos, so that a halo never cuts a bar.
        for interval in &timeline.intervals {
            draw_interval(&mut draw, &layout, interval);
        }
        draw_steps(&mut draw, &layout, timeline);
        draw_lasso(&mut draw, &layout, timeline);
        let mut y = below;
        for (i, content) in explanation.iter().enumerate() {
            let color = if timeline.violated { FAULT } else { INK };
            let style = if i == 0 {
                bold_style(TEXT, color, HPos::Left)
            } else {
                text_style(TEXT, color, HPos::Left)
            };
            text(&mut draw, content, (12, y), &style);
            y += 18;
        }
        draw.present()
            .expect("SVG drawing into a string does not fail");
    }
    svg
}

/// The closing sentence under the diagram, wrapped to the diagram's width.
fn explanation_lines(timeline: &TimelineData) -> Vec<String> {
    let mut lines = vec![format!("⇒ {}", timeline.verdict())];
    if let Some(explanation) = &timeline.explanation {
        let width = (LEFT + COLUMN * timeline.actors.len() as i32 + SENTENCES) as f64 / 7.0;
        lines.extend(wrap(explanation, width as usize));
    }
    lines
}

/// Shade the step that completes a safety violation.
fn draw_violation_band(draw: &mut Draw, layout: &Layout, timeline: &TimelineData, width: i32) {
    if !timeline.violated || timeline.loop_start.is_some() || timeline.steps.is_empty() {
        return;
    }
    let last = layout.row(timeline.steps.len() - 1);
    rect(
        draw,
        (0, last - ROW / 2),
        (width, last + ROW / 2),
        &VIOLATION.mix(0.7).filled(),
        true,
    );
}

fn draw_header(draw: &mut Draw, layout: &Layout, timeline: &TimelineData) {
    let title = format!(
        "{} · {} · {} step{}",
        timeline.scenario,
        timeline.property,
        timeline.steps.len(),
        if timeline.steps.len() == 1 { "" } else { "s" }
    );
    text(draw, &title, (12, 16), &bold_style(16.0, INK, HPos::Left));
    // The legend: one swatch per condition the diagram shows, then the markers.
    let mut x = 12;
    let y = 40;
    let shown = Condition::ALL
        .into_iter()
        .filter(|&c| timeline.intervals.iter().any(|i| i.condition == c));
    for condition in shown {
        let (left, right, opacity) = bar(condition);
        let swatch = (right - left).clamp(6, 16);
        rect(
            draw,
            (x, y - 6),
            (x + swatch, y + 6),
            &bar_color(condition).mix(opacity.max(0.35)).filled(),
            true,
        );
        text(
            draw,
            condition.name(),
            (x + swatch + 4, y),
            &text_style(SMALL, INK, HPos::Left),
        );
        x += swatch + 16 + (condition.name().len() as f64 * SMALL_CHAR * 1.1) as i32;
    }
    diamond(draw, (x + 5, y), FAULT);
    text(
        draw,
        "fault",
        (x + 14, y),
        &text_style(SMALL, INK, HPos::Left),
    );
    x += 50;
    circle(draw, (x + 5, y), 4, &RECOVER.filled(), true);
    text(
        draw,
        "recovery",
        (x + 14, y),
        &text_style(SMALL, INK, HPos::Left),
    );
    x += 70;
    cross(draw, (x + 5, y));
    text(
        draw,
        "lost message",
        (x + 14, y),
        &text_style(SMALL, INK, HPos::Left),
    );
    for (actor, name) in timeline.actors.iter().enumerate() {
        let x = layout.lifeline(actor);
        rect(
            draw,
            (x - COLUMN / 2 + 10, TOP - 30),
            (x + COLUMN / 2 - 10, TOP - 8),
            &RGBColor(236, 239, 241).filled(),
            true,
        );
        rect(
            draw,
            (x - COLUMN / 2 + 10, TOP - 30),
            (x + COLUMN / 2 - 10, TOP - 8),
            &GREY.stroke_width(1),
            false,
        );
        text(
            draw,
            name,
            (x, TOP - 19),
            &bold_style(TEXT, INK, HPos::Center),
        );
    }
    text(
        draw,
        "step",
        (LEFT - 8, TOP - 19),
        &text_style(SMALL, GREY, HPos::Right),
    );
    text(
        draw,
        "what happens",
        (layout.sentences_x(), TOP - 19),
        &text_style(SMALL, GREY, HPos::Left),
    );
}

fn draw_lifelines(draw: &mut Draw, layout: &Layout, timeline: &TimelineData) {
    for actor in 0..timeline.actors.len() {
        let x = layout.lifeline(actor);
        line(
            draw,
            (x, TOP - 8),
            (x, layout.bottom()),
            &GREY.stroke_width(1),
        );
    }
    // Faint row separators every 5 steps help the eye follow a row to its sentence.
    for step in (5..timeline.steps.len()).step_by(5) {
        let y = TOP + ROW * step as i32;
        line(
            draw,
            (LEFT, y),
            (layout.sentences_x() + SENTENCES - 12, y),
            &RGBColor(236, 236, 236).stroke_width(1),
        );
    }
    for step in (HEADER_EVERY..timeline.steps.len()).step_by(HEADER_EVERY) {
        let y = TOP + ROW * step as i32;
        for (actor, name) in timeline.actors.iter().enumerate() {
            text(
                draw,
                name,
                (layout.lifeline(actor) + 4, y),
                &bold_style(SMALL, GREY, HPos::Left),
            );
        }
    }
}

fn draw_interval(draw: &mut Draw, layout: &Layout, interval: &Interval) {
    let x = layout.lifeline(interval.actor);
    let (left, right, opacity) = bar(interval.condition);
    let top = layout.state(interval.from);
    let bottom = interval.to.map_or(layout.bottom(), |to| layout.state(to));
    rect(
        draw,
        (x + left, top),
        (x + right, bottom.max(top + 2)),
        &bar_color(interval.condition).mix(opacity).filled(),
        true,
    );
}

fn diamond(draw: &mut Draw, at: (i32, i32), color: RGBColor) {
    let (x, y) = at;
    polygon(
        draw,
        vec![(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)],
        &color.filled(),
    );
}

fn cross(draw: &mut Draw, at: (i32, i32)) {
    let (x, y) = at;
    let style = FAULT.stroke_width(3);
    line(draw, (x - 5, y - 5), (x + 5, y + 5), &style);
    line(draw, (x - 5, y + 5), (x + 5, y - 5), &style);
}

/// Draw one message; `in_flight` counts the in-flight messages drawn before it, whose labels
/// stand in rows below the diagram.
fn draw_message(draw: &mut Draw, layout: &Layout, message: &MessageLine, in_flight: usize) {
    let from_x = layout.lifeline(message.from);
    let to_x = layout.lifeline(message.to);
    let start = (from_x, message.sent.map_or(TOP, |step| layout.row(step)));
    let direction = if to_x >= from_x { 1 } else { -1 };
    let style = MESSAGE.stroke_width(2);
    let span = f64::from((to_x - from_x).abs());
    match message.fate {
        Fate::Delivered(step) => {
            let tip = (to_x - direction * 6, layout.row(step));
            line(draw, start, tip, &style);
            arrowhead(draw, start, tip, MESSAGE);
            // The label sits just above the receiving end, on the arrow's side of the lifeline.
            let anchor = if direction > 0 {
                HPos::Right
            } else {
                HPos::Left
            };
            label(
                draw,
                &fit(&message.label, span - 16.0),
                (tip.0 - direction * 10, tip.1 - 8),
                &text_style(SMALL, MESSAGE, anchor),
            );
        }
        Fate::Lost(step) => {
            let y = layout.row(step);
            let end = (from_x + (to_x - from_x) * 3 / 5, y);
            dashed(draw, start, end, &FAULT.stroke_width(2));
            cross(draw, end);
            label(
                draw,
                &fit(&format!("lost: {}", message.label), span * 0.6 - 12.0),
                (end.0 - direction * 10, y - 9),
                &text_style(
                    SMALL,
                    FAULT,
                    if direction > 0 {
                        HPos::Right
                    } else {
                        HPos::Left
                    },
                ),
            );
        }
        Fate::InFlight => {
            let end = (
                from_x + (to_x - from_x) / 2,
                layout.bottom().max(start.1 + ROW),
            );
            dashed(draw, start, end, &MESSAGE.mix(0.6).stroke_width(1));
            label(
                draw,
                &fit(&format!("in flight: {}", message.label), span * 0.5 + 40.0),
                (end.0, end.1 + 8 + 14 * in_flight as i32),
                &text_style(SMALL, MESSAGE, HPos::Center),
            );
        }
    }
}

fn draw_steps(draw: &mut Draw, layout: &Layout, timeline: &TimelineData) {
    let violating = timeline
        .violated
        .then(|| timeline.steps.len().checked_sub(1))
        .flatten()
        .filter(|_| timeline.loop_start.is_none());
    for (index, step) in timeline.steps.iter().enumerate() {
        let y = layout.row(index);
        let x = layout.lifeline(step.actor);
        // A fault's or recovery's label goes on the side with room: left of the last lifeline,
        // so that it does not run into the sentences.
        let (side, anchor) = if step.actor + 1 == timeline.actors.len() {
            (-9, HPos::Right)
        } else {
            (9, HPos::Left)
        };
        let short = fit(&step.label, f64::from(COLUMN) - 24.0);
        match step.kind {
            StepKind::Fault => {
                diamond(draw, (x, y), FAULT);
                // A fault that delivers (a reordered message) has its arrow's label already.
                let delivers = timeline
                    .messages
                    .iter()
                    .any(|m| m.fate == Fate::Delivered(index));
                if !delivers {
                    label(
                        draw,
                        &short,
                        (x + side, y),
                        &bold_style(SMALL, FAULT, anchor),
                    );
                }
            }
            StepKind::Recover => {
                circle(draw, (x, y), 5, &RECOVER.filled(), true);
                label(
                    draw,
                    &short,
                    (x + side, y),
                    &text_style(SMALL, RECOVER, anchor),
                );
            }
            StepKind::Local | StepKind::Deliver => {
                circle(draw, (x, y), 3, &INK.filled(), true);
            }
        }
        let number_style = if Some(index) == violating {
            bold_style(SMALL, FAULT, HPos::Right)
        } else {
            text_style(SMALL, GREY, HPos::Right)
        };
        text(draw, &(index + 1).to_string(), (LEFT - 8, y), &number_style);
        let sentence_color = match step.kind {
            StepKind::Fault => FAULT,
            StepKind::Recover => RECOVER,
            StepKind::Local | StepKind::Deliver => INK,
        };
        text(
            draw,
            &fit(&step.summary, f64::from(SENTENCES - 20)),
            (layout.sentences_x(), y),
            &text_style(SMALL, sentence_color, HPos::Left),
        );
    }
}

/// A bracket left of the step numbers around a lasso's cycle.
fn draw_lasso(draw: &mut Draw, layout: &Layout, timeline: &TimelineData) {
    let Some(start) = timeline.loop_start else {
        return;
    };
    let style = LASSO.stroke_width(2);
    if start >= timeline.steps.len() {
        let in_flight = timeline
            .messages
            .iter()
            .filter(|m| m.fate == Fate::InFlight)
            .count() as i32;
        let y = layout.bottom() + 14 * in_flight + 24;
        text(
            draw,
            "from here only faults could happen: the last state may last forever",
            (LEFT, y),
            &bold_style(SMALL, LASSO, HPos::Left),
        );
        return;
    }
    let top = TOP + ROW * start as i32 + 2;
    let bottom = layout.bottom() - 2;
    let x = 30;
    line(draw, (x + 8, top), (x, top), &style);
    line(draw, (x, top), (x, bottom), &style);
    line(draw, (x, bottom), (x + 8, bottom), &style);
    arrowhead(draw, (x, bottom), (x, top - 1), LASSO);
    text(
        draw,
        "cycle repeats forever",
        (x - 10, (top + bottom) / 2),
        &bold_style(SMALL, LASSO, HPos::Center).transform(FontTransform::Rotate270),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_cut_with_an_ellipsis() {
        assert_eq!(fit("create", 100.0), "create");
        let cut = fit("create(/lock/lock-, EPHEMERAL_SEQUENTIAL)", 60.0);
        assert!(cut.ends_with('…') && cut.chars().count() <= 10, "{cut}");
    }

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
    }
}

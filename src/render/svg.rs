//! A timeline as an SVG sequence diagram, drawn with plotters' SVG backend.
//!
//! Time runs down the page, one row per step, and every actor has a lifeline. A message is an
//! arrow from the row of the step that sent it to the row of the step that consumed it, so a
//! message that waited is a diagonal; a lost message ends in a red ✕ just before its receiver, at
//! the row that lost it; a message still in flight at the end runs dashed to the bottom of its
//! receiver's lifeline. Lasting conditions are bars along the lifeline (see [`bar`]). Faults are
//! red diamonds, recoveries green circles. The violating step is shaded red, a lasso's cycle is
//! bracketed on the left, and the full sentence of every step stands in a column on the right.
//!
//! Readability at 10 actors and 200 steps: the diagram is never scaled down. Columns have a fixed
//! width (`COLUMN` pixels) and rows at least a fixed height (`ROW`), so text stays at its reading
//! size and a long trace becomes a tall page that scrolls like a log (200 steps are about 7,000
//! pixels). The actor names are repeated every `HEADER_EVERY` rows so that a reader deep in the
//! page still knows which lifeline is which.
//!
//! Nothing is cut and no two texts overlap (a test lays out every bundled trace and checks both):
//! a row grows to hold what it has to say ([`Layout::new`]). A step's sentence wraps onto as many
//! lines as it needs; the labels of the messages a step delivers or loses stand on lines of their
//! own above the row's event line, packed so that labels side by side share a line and labels that
//! would touch take the next one (a crash that loses several messages at once stacks their labels).
//! Every arrow ends at the lifeline of the actor it was for: a delivery at its receiver, a lost
//! message in a ✕ just before it, a message still in flight dashed down to the bottom of it.
//! Whether texts touch is decided on an estimate of their width ([`text_width`]), since the SVG
//! does not know the reader's font; the estimate is generous for common sans-serif fonts.
//!
//! The output is deterministic: the same timeline gives byte-identical SVG.

use plotters::backend::{DrawingBackend, SVGBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontStyle, FontTransform, IntoFont, RGBColor, ShapeStyle, TextStyle};

use super::timeline::{Fate, Interval, MessageLine, TimelineData};
use lockscope_models::timeline::{Condition, StepKind};

/// Width of one actor's column, in pixels.
const COLUMN: i32 = 130;
/// Height of one step's row, in pixels, when it has one line of text and no message labels.
const ROW: i32 = 24;
/// Height of one line of small text where lines are stacked (sentences, labels, actor names).
const LINE: i32 = 13;
/// How far before its receiver's lifeline a lost message's ✕ stands.
const LOST_GAP: i32 = 16;
/// Room left of the first lifeline: the lasso bracket and the step numbers.
const LEFT: i32 = 70;
/// Height of the title, legend and actor names above the first row.
const TOP: i32 = 96;
/// Width of the right-hand column holding each step's sentence.
const SENTENCES: i32 = 640;
/// Repeat the actor names every this many rows.
const HEADER_EVERY: usize = 40;
/// Text sizes in plotters' units (the SVG says `1 / PLOTTERS_SCALE` of it).
const TEXT: f64 = 14.0;
const SMALL: f64 = 12.5;
/// What plotters divides a font size by when it writes the SVG's `font-size`.
const PLOTTERS_SCALE: f64 = 1.24;
/// The estimated width of a character, as a share of the SVG font size: a little more than the
/// average of common sans-serif fonts, so that texts estimated apart are apart on the page.
const CHAR_WIDTH: f64 = 0.6;

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

/// The estimated width in pixels of `content` at plotters size `size` (see [`CHAR_WIDTH`]).
fn text_width(content: &str, size: f64) -> i32 {
    (content.chars().count() as f64 * size / PLOTTERS_SCALE * CHAR_WIDTH).ceil() as i32
}

/// A label of small text: its left edge, the middle of its first line, and its lines (a label
/// wider than the diagram is wrapped).
#[derive(Clone, Debug)]
struct Label {
    left: i32,
    y: i32,
    lines: Vec<String>,
}

impl Label {
    fn width(&self) -> i32 {
        self.lines
            .iter()
            .map(|l| text_width(l, SMALL))
            .max()
            .unwrap_or(0)
    }
}

/// One step's row: its top and height, whether the actor names are repeated at its top, its event
/// line (where arrows end and markers stand) and its sentence, wrapped.
struct Row {
    top: i32,
    height: i32,
    header: bool,
    event: i32,
    sentence: Vec<String>,
}

/// The pixel geometry of one diagram, laid out before anything is drawn.
struct Layout {
    actors: usize,
    rows: Vec<Row>,
    /// Per message (as in [`TimelineData::messages`]): where its label stands.
    labels: Vec<Label>,
    /// Lines taken by the labels of messages still in flight, below the diagram.
    in_flight_lines: i32,
}

impl Layout {
    fn new(timeline: &TimelineData) -> Layout {
        let mut layout = Layout {
            actors: timeline.actors.len(),
            rows: Vec::with_capacity(timeline.steps.len()),
            labels: Vec::with_capacity(timeline.messages.len()),
            in_flight_lines: 0,
        };
        let mut labels: Vec<Option<Label>> = vec![None; timeline.messages.len()];
        let sentence_chars =
            (f64::from(SENTENCES - 20) / (SMALL / PLOTTERS_SCALE * CHAR_WIDTH)).floor() as usize;
        let mut top = TOP;
        for (index, step) in timeline.steps.iter().enumerate() {
            let header = index > 0 && index % HEADER_EVERY == 0;
            let band = top + if header { LINE } else { 0 };
            // Lines of labels: on each, the horizontal extents (with halo) already taken.
            let mut lines: Vec<Vec<(i32, i32)>> = Vec::new();
            let mut placed = Vec::new();
            for (m, message) in timeline.messages.iter().enumerate() {
                let (content, end) = match message.fate {
                    Fate::Delivered(s) if s == index => {
                        (message.label.clone(), layout.tip(message))
                    }
                    Fate::Lost(s) if s == index => {
                        (format!("lost: {}", message.label), layout.lost_at(message))
                    }
                    _ => continue,
                };
                // The label stands just before the end of the arrow, on the arrow's side.
                let mut label = layout.label(&content);
                label.left = if layout.direction(message) > 0 {
                    end - 10 - label.width()
                } else {
                    end + 10
                };
                layout.clamp(&mut label);
                let extent = (label.left - 3, label.left + label.width() + 3);
                let free = |line: &Vec<(i32, i32)>| {
                    line.iter().all(|&(a, b)| b <= extent.0 || extent.1 <= a)
                };
                let first = (0..)
                    .find(|&i| (i..i + label.lines.len()).all(|j| lines.get(j).map_or(true, &free)))
                    .expect("some line is free");
                for j in first..first + label.lines.len() {
                    if j >= lines.len() {
                        lines.resize(j + 1, Vec::new());
                    }
                    lines[j].push(extent);
                }
                label.y = band + LINE * first as i32 + LINE / 2;
                placed.push((m, label));
            }
            let used = LINE * lines.len() as i32;
            let sentence = wrap(&step.summary, sentence_chars);
            let height = (band - top + used + ROW).max(LINE * sentence.len() as i32 + 8);
            layout.rows.push(Row {
                top,
                height,
                header,
                event: band + used + (top + height - band - used) / 2,
                sentence,
            });
            for (m, label) in placed {
                labels[m] = Some(label);
            }
            top += height;
        }
        // The labels of messages still in flight stand below the diagram, one under another.
        let bottom = layout.bottom();
        for (m, message) in timeline.messages.iter().enumerate() {
            if message.fate != Fate::InFlight {
                continue;
            }
            let mut label = layout.label(&format!("in flight: {}", message.label));
            label.left = layout.lifeline(message.to) - label.width() / 2;
            label.y = bottom + 8 + LINE * layout.in_flight_lines;
            layout.clamp(&mut label);
            layout.in_flight_lines += label.lines.len() as i32;
            labels[m] = Some(label);
        }
        layout.labels = labels
            .into_iter()
            .map(|l| l.expect("every message ends in a step or in flight"))
            .collect();
        layout
    }

    fn lifeline(&self, actor: usize) -> i32 {
        LEFT + COLUMN / 2 + COLUMN * actor as i32
    }

    /// 1 for a message drawn rightwards, -1 leftwards.
    fn direction(&self, message: &MessageLine) -> i32 {
        if message.to >= message.from {
            1
        } else {
            -1
        }
    }

    /// Where a message's arrowhead ends: just before its receiver's lifeline.
    fn tip(&self, message: &MessageLine) -> i32 {
        self.lifeline(message.to) - self.direction(message) * 6
    }

    /// Where a lost message's ✕ stands: before its receiver's lifeline, so that the reader sees
    /// whom it was for.
    fn lost_at(&self, message: &MessageLine) -> i32 {
        self.lifeline(message.to) - self.direction(message) * LOST_GAP
    }

    /// The event line of step `step`'s row: where its arrows end and its marker stands.
    fn row(&self, step: usize) -> i32 {
        self.rows[step].event
    }

    /// Where the bar of a condition that starts or ends at `state` begins or ends: the event line
    /// of the step that reached that state (the top for the initial state).
    fn state(&self, state: usize) -> i32 {
        if state == 0 {
            TOP
        } else {
            self.row(state - 1)
        }
    }

    fn bottom(&self) -> i32 {
        self.rows.last().map_or(TOP, |row| row.top + row.height)
    }

    fn sentences_x(&self) -> i32 {
        LEFT + COLUMN * self.actors as i32 + 16
    }

    /// The right edge diagram labels keep clear of, so that they never reach the sentences.
    fn diagram_right(&self) -> i32 {
        self.sentences_x() - 12
    }

    /// A label of `content`, wrapped to the diagram's width; its position is set by the caller.
    fn label(&self, content: &str) -> Label {
        let room = f64::from(self.diagram_right() - LEFT - 4);
        let chars = (room / (SMALL / PLOTTERS_SCALE * CHAR_WIDTH)).floor() as usize;
        Label {
            left: LEFT,
            y: 0,
            lines: wrap(content, chars.max(1)),
        }
    }

    /// Shift a label sideways into the diagram: right of the step numbers and the lasso bracket,
    /// left of the sentences.
    fn clamp(&self, label: &mut Label) {
        let most = (self.diagram_right() - label.width()).max(LEFT + 2);
        label.left = label.left.clamp(LEFT + 2, most);
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

/// A laid-out label (its style anchored left), line by line, each on a white halo so that it
/// stays legible where it crosses an arrow or a bar.
fn draw_label(draw: &mut Draw, placed: &Label, style: &TextStyle) {
    for (i, content) in placed.lines.iter().enumerate() {
        let y = placed.y + LINE * i as i32;
        rect(
            draw,
            (placed.left - 2, y - 7),
            (placed.left + text_width(content, SMALL) + 2, y + 7),
            &RGBColor(255, 255, 255).mix(0.85).filled(),
            true,
        );
        text(draw, content, (placed.left, y), style);
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
fn arrowhead(draw: &mut Draw, from: (i32, i32), tip: (i32, i32), fill: &ShapeStyle) {
    let (dx, dy) = (f64::from(tip.0 - from.0), f64::from(tip.1 - from.1));
    let length = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / length, dy / length);
    let (back, half) = (9.0, 4.0);
    let base = (f64::from(tip.0) - ux * back, f64::from(tip.1) - uy * back);
    let left = (base.0 - uy * half, base.1 + ux * half);
    let right = (base.0 + uy * half, base.1 - ux * half);
    let round = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
    polygon(draw, vec![tip, round(left), round(right)], fill);
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
    let layout = Layout::new(timeline);
    let explanation = explanation_lines(timeline);
    let width = layout.sentences_x() + SENTENCES;
    // Room for the in-flight labels and for the note that the last state lasts forever.
    let forever = timeline.loop_start == Some(timeline.steps.len());
    let below = layout.bottom() + LINE * layout.in_flight_lines + 26 + if forever { 22 } else { 0 };
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
        for (message, placed) in timeline.messages.iter().zip(&layout.labels) {
            draw_message(&mut draw, &layout, message, placed);
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

/// Each step's row in the diagram `render` draws, as (top, height) in its pixels: where a page
/// that steps through the trace highlights the current step.
pub fn rows(timeline: &TimelineData) -> Vec<(i32, i32)> {
    Layout::new(timeline)
        .rows
        .iter()
        .map(|row| (row.top, row.height))
        .collect()
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
    let last = &layout.rows[timeline.steps.len() - 1];
    rect(
        draw,
        (0, last.top),
        (width, last.top + last.height),
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
        x += swatch + 16 + text_width(condition.name(), SMALL);
    }
    diamond(draw, (x + 5, y), FAULT);
    text(
        draw,
        "fault",
        (x + 14, y),
        &text_style(SMALL, INK, HPos::Left),
    );
    x += 24 + text_width("fault", SMALL);
    circle(draw, (x + 5, y), 4, &RECOVER.filled(), true);
    text(
        draw,
        "recovery",
        (x + 14, y),
        &text_style(SMALL, INK, HPos::Left),
    );
    x += 24 + text_width("recovery", SMALL);
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
        let y = layout.rows[step].top;
        line(
            draw,
            (LEFT, y),
            (layout.sentences_x() + SENTENCES - 12, y),
            &RGBColor(236, 236, 236).stroke_width(1),
        );
    }
    for row in layout.rows.iter().filter(|row| row.header) {
        let y = row.top + LINE / 2;
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

/// Draw one message, with its label where the layout put it.
fn draw_message(draw: &mut Draw, layout: &Layout, message: &MessageLine, placed: &Label) {
    let from_x = layout.lifeline(message.from);
    let start = (from_x, message.sent.map_or(TOP, |step| layout.row(step)));
    let style = MESSAGE.stroke_width(2);
    match message.fate {
        Fate::Delivered(step) => {
            let tip = (layout.tip(message), layout.row(step));
            line(draw, start, tip, &style);
            arrowhead(draw, start, tip, &MESSAGE.filled());
            draw_label(draw, placed, &text_style(SMALL, MESSAGE, HPos::Left));
        }
        Fate::Lost(step) => {
            let end = (layout.lost_at(message), layout.row(step));
            dashed(draw, start, end, &FAULT.stroke_width(2));
            cross(draw, end);
            draw_label(draw, placed, &text_style(SMALL, FAULT, HPos::Left));
        }
        Fate::InFlight => {
            // Down to the bottom of the receiver's lifeline: it would arrive after the end.
            let tip = (layout.tip(message), layout.bottom().max(start.1 + 8));
            dashed(draw, start, tip, &MESSAGE.mix(0.6).stroke_width(1));
            arrowhead(draw, start, tip, &MESSAGE.mix(0.6).filled());
            draw_label(draw, placed, &text_style(SMALL, MESSAGE, HPos::Left));
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
        // A fault's or recovery's label goes on the event line, on the side with room: left of
        // the last lifeline, so that it does not run into the sentences.
        let mut marker = layout.label(&step.label);
        marker.y = y;
        marker.left = if step.actor + 1 == timeline.actors.len() {
            x - 9 - marker.width()
        } else {
            x + 9
        };
        layout.clamp(&mut marker);
        match step.kind {
            StepKind::Fault => {
                diamond(draw, (x, y), FAULT);
                // A fault that delivers (a reordered message) has its arrow's label already.
                let delivers = timeline
                    .messages
                    .iter()
                    .any(|m| m.fate == Fate::Delivered(index));
                if !delivers {
                    draw_label(draw, &marker, &bold_style(SMALL, FAULT, HPos::Left));
                }
            }
            StepKind::Recover => {
                circle(draw, (x, y), 5, &RECOVER.filled(), true);
                draw_label(draw, &marker, &text_style(SMALL, RECOVER, HPos::Left));
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
        // The sentence, wrapped, centred on the row.
        let row = &layout.rows[index];
        let first = row.top + (row.height - LINE * row.sentence.len() as i32) / 2 + LINE / 2;
        for (i, content) in row.sentence.iter().enumerate() {
            text(
                draw,
                content,
                (layout.sentences_x(), first + LINE * i as i32),
                &text_style(SMALL, sentence_color, HPos::Left),
            );
        }
    }
}

/// A bracket left of the step numbers around a lasso's cycle.
fn draw_lasso(draw: &mut Draw, layout: &Layout, timeline: &TimelineData) {
    let Some(start) = timeline.loop_start else {
        return;
    };
    let style = LASSO.stroke_width(2);
    if start >= timeline.steps.len() {
        let y = layout.bottom() + LINE * layout.in_flight_lines + 24;
        text(
            draw,
            "from here only faults could happen: the last state may last forever",
            (LEFT, y),
            &bold_style(SMALL, LASSO, HPos::Left),
        );
        return;
    }
    let top = layout.rows[start].top + 2;
    let bottom = layout.bottom() - 2;
    let x = 30;
    line(draw, (x + 8, top), (x, top), &style);
    line(draw, (x, top), (x, bottom), &style);
    line(draw, (x, bottom), (x + 8, bottom), &style);
    arrowhead(draw, (x, bottom), (x, top - 1), &LASSO.filled());
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
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
    }
}

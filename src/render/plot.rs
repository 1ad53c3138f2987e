//! `bench --plot DIR`: the benchmark's measurements as SVG line charts, drawn with plotters' SVG
//! backend like the sequence diagrams.
//!
//! - `state-growth.svg`: unique states found by each BFS depth, one line per size, on a log scale
//!   (sizes differ by orders of magnitude; the slope shows where the space stops growing).
//! - `rate.svg`: states per second against the number of clients, one line per kind of run.
//!
//! Timings differ between machines and runs; the state counts do not.

use std::path::Path;

use plotters::backend::{DrawingBackend, SVGBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontTransform, IntoFont, RGBColor, ShapeStyle, TextStyle};

use crate::bench::Measured;
use crate::check::write_file;
use crate::report::thousands;

/// Line colours, in series order (a colour-blind-safe palette).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

const WIDTH: i32 = 760;
const HEIGHT: i32 = 480;
/// The plot area inside the picture.
const LEFT: i32 = 90;
const RIGHT: i32 = WIDTH - 190;
const TOP: i32 = 50;
const BOTTOM: i32 = HEIGHT - 60;

/// One line of a chart.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

fn style(size: f64, h: HPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&RGBColor(33, 33, 33))
        .pos(Pos::new(h, VPos::Center))
}

fn ok<E: std::fmt::Debug>(result: Result<(), E>) {
    result.expect("SVG drawing into a string does not fail");
}

fn segment(draw: &mut SVGBackend, from: (i32, i32), to: (i32, i32), line: &ShapeStyle) {
    ok(draw.draw_line(from, to, line));
}

/// A line chart. With `log_y` the y axis is logarithmic (base 10) and y values must be positive.
fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series], log_y: bool) -> String {
    let transform = |y: f64| if log_y { y.max(1.0).log10() } else { y };
    let all = || series.iter().flat_map(|s| s.points.iter());
    let x_max = all().map(|p| p.0).fold(1.0, f64::max);
    let x_min = all()
        .map(|p| p.0)
        .fold(x_max, f64::min)
        .min(0.0_f64.max(x_max - 1.0));
    let y_top = all().map(|p| transform(p.1)).fold(1.0, f64::max);
    let y_max = if log_y {
        y_top.ceil()
    } else {
        round_up(y_top * 1.05)
    };
    let x_span = (x_max - x_min).max(1.0);
    let px = |x: f64| LEFT + ((x - x_min) / x_span * f64::from(RIGHT - LEFT)).round() as i32;
    let py = |y: f64| BOTTOM - (transform(y) / y_max * f64::from(BOTTOM - TOP)).round() as i32;
    let mut svg = String::new();
    {
        let mut draw = SVGBackend::with_string(&mut svg, (WIDTH as u32, HEIGHT as u32));
        ok(draw.draw_rect(
            (0, 0),
            (WIDTH, HEIGHT),
            &RGBColor(255, 255, 255).filled(),
            true,
        ));
        ok(draw.draw_text(title, &style(17.0, HPos::Left), (LEFT, 20)));
        let axis = RGBColor(120, 120, 120).stroke_width(1);
        let grid = RGBColor(230, 230, 230).stroke_width(1);
        segment(&mut draw, (LEFT, BOTTOM), (RIGHT, BOTTOM), &axis);
        segment(&mut draw, (LEFT, TOP), (LEFT, BOTTOM), &axis);
        // y ticks: every power of ten (log), or five even steps.
        let ticks: Vec<f64> = if log_y {
            (0..=y_max as i32).map(|e| 10f64.powi(e)).collect()
        } else {
            (0..=5).map(|i| y_max * f64::from(i) / 5.0).collect()
        };
        for tick in ticks {
            let y = py(tick);
            segment(&mut draw, (LEFT, y), (RIGHT, y), &grid);
            ok(draw.draw_text(
                &thousands(tick.round() as u64),
                &style(12.0, HPos::Right),
                (LEFT - 6, y),
            ));
        }
        // x ticks: whole numbers, at most about ten of them.
        let step = ((x_span / 10.0).ceil() as i64).max(1);
        let mut x = x_min.ceil() as i64;
        while x as f64 <= x_max {
            let at = px(x as f64);
            segment(&mut draw, (at, BOTTOM), (at, BOTTOM + 4), &axis);
            ok(draw.draw_text(
                &x.to_string(),
                &style(12.0, HPos::Center),
                (at, BOTTOM + 14),
            ));
            x += step;
        }
        ok(draw.draw_text(
            x_label,
            &style(13.0, HPos::Center),
            ((LEFT + RIGHT) / 2, BOTTOM + 36),
        ));
        ok(draw.draw_text(
            y_label,
            &style(13.0, HPos::Center).transform(FontTransform::Rotate270),
            (20, (TOP + BOTTOM) / 2),
        ));
        for (i, line) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let points: Vec<(i32, i32)> =
                line.points.iter().map(|&(x, y)| (px(x), py(y))).collect();
            ok(draw.draw_path(points.iter().copied(), &color.stroke_width(2)));
            for &point in &points {
                ok(draw.draw_circle(point, 3, &color.filled(), true));
            }
            let y = TOP + 10 + 20 * i as i32;
            segment(
                &mut draw,
                (RIGHT + 16, y),
                (RIGHT + 40, y),
                &color.stroke_width(3),
            );
            ok(draw.draw_text(&line.name, &style(12.5, HPos::Left), (RIGHT + 46, y)));
        }
        ok(draw.present());
    }
    svg
}

/// The smallest of 1, 2, 5 or 10 times a power of ten that is at least `value`: an axis end whose
/// fifths are round numbers.
fn round_up(value: f64) -> f64 {
    let power = 10f64.powf(value.max(1.0).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&end| end >= value)
        .unwrap_or(10.0 * power)
}

fn size_name(measured: &Measured) -> String {
    format!("N={} E={}", measured.clients, measured.expiries)
}

/// Unique states by BFS depth, one line per size (the complete safety and full-space runs).
pub fn state_growth(measured: &[Measured]) -> String {
    let series: Vec<Series> = measured
        .iter()
        .filter(|m| m.run == "safety" || m.run == "full space")
        .map(|m| Series {
            name: size_name(m),
            points: m
                .growth
                .iter()
                .map(|&(depth, states)| (f64::from(depth + 1), states as f64))
                .collect(),
        })
        .collect();
    line_chart(
        "State space growth by BFS depth",
        "BFS depth",
        "unique states found (log scale)",
        &series,
        true,
    )
}

/// States per second by number of clients, one line per kind of run.
pub fn rate(measured: &[Measured]) -> String {
    let mut kinds: Vec<(&'static str, u8)> = Vec::new();
    for m in measured {
        if !kinds.contains(&(m.run, m.expiries)) {
            kinds.push((m.run, m.expiries));
        }
    }
    let series: Vec<Series> = kinds
        .iter()
        .map(|&(run, expiries)| Series {
            name: format!("E={expiries} {run}"),
            points: measured
                .iter()
                .filter(|m| m.run == run && m.expiries == expiries)
                .map(|m| {
                    (
                        f64::from(m.clients),
                        m.unique_states as f64 / m.seconds.max(1e-9),
                    )
                })
                .collect(),
        })
        .collect();
    line_chart(
        "Search speed by size",
        "clients (N)",
        "unique states per second",
        &series,
        false,
    )
}

/// Write `state-growth.svg` and `rate.svg` into `dir`.
pub fn write(dir: &Path, measured: &[Measured]) -> Result<(), String> {
    write_file(&dir.join("state-growth.svg"), &state_growth(measured))?;
    write_file(&dir.join("rate.svg"), &rate(measured))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ends_are_round() {
        assert_eq!(round_up(154_123.0), 200_000.0);
        assert_eq!(round_up(0.5), 1.0);
        assert_eq!(round_up(1_000.0), 1_000.0);
        assert_eq!(round_up(1_001.0), 2_000.0);
    }

    fn measured(clients: u8, run: &'static str, growth: Vec<(u32, u64)>) -> Measured {
        Measured {
            clients,
            expiries: 0,
            run,
            unique_states: growth.last().map_or(1, |g| g.1),
            seconds: 0.5,
            growth,
        }
    }

    /// Goal: each chart has a line per series and parses as SVG. Method: count the polylines.
    #[test]
    fn charts_draw_one_line_per_series() {
        let runs = [
            measured(2, "safety", vec![(0, 3), (1, 10), (2, 40)]),
            measured(3, "safety", vec![(0, 4), (1, 30), (2, 200), (3, 900)]),
            measured(2, "+ liveness", vec![(0, 3), (1, 10), (2, 40)]),
            measured(3, "+ liveness", vec![(0, 4), (1, 30), (2, 200), (3, 900)]),
        ];
        let polylines = |svg: &str| svg.matches("<polyline").count();
        let growth = state_growth(&runs);
        assert_eq!(polylines(&growth), 2, "the safety runs, one per size");
        assert!(growth.contains("N=3 E=0"));
        let rate = rate(&runs);
        assert_eq!(polylines(&rate), 2, "one per kind of run");
        assert!(rate.contains("E=0 + liveness"));
        assert_eq!(state_growth(&runs), growth, "deterministic");
    }
}

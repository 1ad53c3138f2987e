//! HTML reports: one self-contained file per scenario (or per trace) holding the scenario, the
//! verdicts table, and for each counterexample the inline SVG diagram, the narrative and a step
//! slider that shows the whole world state after each step.
//!
//! Self-contained means no network: styles and the few lines of script are inline, the SVG is
//! inline (without its XML namespace URL, which HTML does not need), and nothing is loaded from
//! anywhere, so a report opens the same from a CI artifact, a mail attachment or a laptop offline.
//! Without script the page still shows everything but the slider's moving state.
//!
//! Nothing time-dependent is written (no dates, no durations), so a report is byte-identical for
//! the same input.

use std::fmt::Write as _;

use super::svg;
use super::timeline::TimelineData;
use crate::scenario::Scenario;

/// One row of the verdicts table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerdictRow {
    pub property: String,
    /// "safety" or "liveness".
    pub kind: String,
    pub verdict: String,
    /// The scenario's `[expect]` for the property, if any.
    pub expected: Option<String>,
    /// Whether the expectation is met (`None` without one).
    pub met: Option<bool>,
    /// Why a verdict is `unknown`, or the trace length of a violation.
    pub note: Option<String>,
}

/// One counterexample to show: its timeline and where its trace file is, relative to the page.
pub struct TraceSection<'a> {
    pub timeline: &'a TimelineData,
    pub trace_link: Option<String>,
}

/// Escape text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The SVG diagram ready to inline into HTML: the XML namespace (a URL) is dropped, as HTML's
/// parser places `<svg>` in the SVG namespace by itself.
pub fn inline_svg(svg: &str) -> String {
    svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
}

/// Styles shared by the scenario pages and the index. `body.large` is the projector's large type;
/// a diagram of few actors (`.fit`) is scaled to the page's width, so that it never scrolls
/// sideways, while a wider one keeps its reading size and scrolls in its own box.
pub(crate) const STYLE: &str = "
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; color: #212121; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #eceff1; }
.violated, .failed { color: #c62828; font-weight: bold; }
.holds, .ok { color: #2e7d32; }
.unknown { color: #6a6a6a; }
pre { background: #f5f5f5; padding: 0.6em; overflow-x: auto; }
.diagram { overflow: auto; border: 1px solid #ddd; max-height: 80vh; }
.diagram.fit svg { width: 100%; height: auto; display: block; }
.wide-note { display: none; color: #6a6a6a; }
section.wide .wide-note { display: block; }
rect.current-row { fill: #ffd54f; opacity: 0.45; }
.controls { position: sticky; top: 0; background: #fff; padding: 0.4em 0; z-index: 1; }
.controls button { font-size: 1em; padding: 0.2em 0.8em; }
ol.steps li { cursor: pointer; padding: 1px 0; }
ol.steps li.cycle { list-style: none; cursor: default; }
ol.steps li.current { background: #fff3cd; }
li.fault { color: #c62828; } li.recover { color: #2e7d32; }
.state { white-space: pre-wrap; }
.cycle { color: #6a1b9a; font-weight: bold; }
body.large { font-size: 150%; max-width: none; }
body.large button { font-size: 1em; }
";

/// The stepping script. Each section's states, and its diagram's row per step, are JSON in script
/// elements; the buttons, the slider, a click on a step, the left and right arrow keys or Page Up
/// and Page Down (what a presenter's clicker sends; Home and End: the
/// initial and the last state) show the state after that step and highlight the step's row in the
/// diagram and in the narrative. The keys move the section last used (at first, the first one).
/// `?step=K` in the address opens every section at step K, `?large` in large type; the Large type
/// button toggles it and the browser remembers the choice.
const SCRIPT: &str = "
var params = new URLSearchParams(window.location.search);
var remembered = null;
try { remembered = localStorage.getItem('lockscope-large'); } catch (e) {}
var sections = [];
var active = null;
function setLarge(on, remember) {
  document.body.classList.toggle('large', on);
  if (remember) {
    try { localStorage.setItem('lockscope-large', on ? '1' : '0'); } catch (e) {}
  }
  document.querySelectorAll('button.large').forEach(function (b) { b.setAttribute('aria-pressed', on); });
  sections.forEach(function (s) { s.fitCheck(); });
}
document.querySelectorAll('section.trace').forEach(function (section) {
  var states = JSON.parse(section.querySelector('script.states').textContent);
  var rows = JSON.parse(section.querySelector('script.rows').textContent);
  var slider = section.querySelector('input.slider');
  var label = section.querySelector('.position');
  var state = section.querySelector('pre.state');
  var steps = section.querySelectorAll('ol.steps li[data-step]');
  var diagram = section.querySelector('.diagram');
  var highlight = section.querySelector('rect.current-row');
  var back = section.querySelector('button.back');
  var forward = section.querySelector('button.forward');
  var last = states.length - 1;
  var entry = {
    moved: false,
    step: function () { return Number(slider.value); },
    fitCheck: function () { section.classList.toggle('wide', diagram.scrollWidth > diagram.clientWidth + 1); }
  };
  entry.show = function (k) {
    k = Math.max(0, Math.min(last, k));
    active = entry;
    slider.value = k;
    state.textContent = states[k];
    label.textContent = k == 0 ? 'initial state' : 'after step ' + k + ' of ' + last;
    steps.forEach(function (li, i) { li.classList.toggle('current', i + 1 == k); });
    back.disabled = k == 0;
    forward.disabled = k == last;
    if (highlight) {
      var row = k > 0 ? rows[k - 1] : [0, 0];
      highlight.setAttribute('y', row[0]);
      highlight.setAttribute('height', row[1]);
      if (k > 0 && entry.moved) { highlight.scrollIntoView({ block: 'nearest' }); }
    }
    section.dataset.step = k;
  };
  function move(k) { entry.moved = true; entry.show(k); }
  slider.addEventListener('input', function () { move(Number(slider.value)); });
  steps.forEach(function (li, i) { li.addEventListener('click', function () { move(i + 1); }); });
  back.addEventListener('click', function () { move(entry.step() - 1); });
  forward.addEventListener('click', function () { move(entry.step() + 1); });
  sections.push(entry);
  var wanted = Number(params.get('step'));
  entry.show(params.has('step') && Number.isInteger(wanted) ? wanted : last);
});
active = sections[0] || null;
document.querySelectorAll('button.large').forEach(function (b) {
  b.addEventListener('click', function () { setLarge(!document.body.classList.contains('large'), true); });
});
document.addEventListener('keydown', function (event) {
  if (!active || event.target.tagName === 'INPUT' || event.altKey || event.ctrlKey || event.metaKey) { return; }
  var k = active.step();
  var to = { ArrowRight: k + 1, PageDown: k + 1, ArrowLeft: k - 1, PageUp: k - 1, Home: 0, End: Infinity }[event.key];
  if (to === undefined) { return; }
  event.preventDefault();
  active.moved = true;
  active.show(to === Infinity ? Number.MAX_SAFE_INTEGER : to);
});
setLarge(params.has('large') || remembered === '1', false);
window.addEventListener('resize', function () { sections.forEach(function (s) { s.fitCheck(); }); });
";

/// Diagrams of at most this many actors are scaled to the page's width: a lock scenario's two or
/// three clients and its server, or ZAB's three servers, read on a projector without scrolling
/// sideways.
pub const FIT_ACTORS: usize = 4;

/// The diagram with a highlight for the current step's row, drawn first (under everything) right
/// after the diagram's white background; the script moves it.
pub fn with_row_highlight(svg: &str) -> String {
    let highlight = "<rect class=\"current-row\" x=\"0\" y=\"0\" width=\"100%\" height=\"0\"/>\n";
    let background_end = svg
        .find("<rect")
        .and_then(|start| svg[start..].find("/>").map(|end| start + end + 2));
    match background_end {
        Some(at) => {
            let at = at + usize::from(svg[at..].starts_with('\n'));
            format!("{}{highlight}{}", &svg[..at], &svg[at..])
        }
        None => svg.to_string(),
    }
}

/// A complete page: the scenario, its verdicts (with `search`, a line saying how they were
/// reached, when there is one) and a section per counterexample.
pub fn page(
    scenario: &Scenario,
    search: Option<&str>,
    verdicts: &[VerdictRow],
    sections: &[TraceSection],
    index_link: Option<&str>,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>lockscope · {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&scenario.name)
    );
    if let Some(index) = index_link {
        let _ = writeln!(
            out,
            "<p><a href=\"{}\">← all scenarios</a></p>",
            escape(index)
        );
    }
    out.push_str("<p><button type=\"button\" class=\"large\" aria-pressed=\"false\">Large type</button></p>\n");
    let _ = writeln!(out, "<h1>Scenario {}</h1>", escape(&scenario.name));
    if !scenario.description.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", escape(&scenario.description));
    }
    let toml = toml::to_string(scenario).expect("a scenario serialises to TOML");
    let _ = writeln!(
        out,
        "<details><summary>scenario file</summary><pre>{}</pre></details>",
        escape(&toml)
    );
    out.push_str(&verdicts_table(verdicts));
    if let Some(search) = search {
        let _ = writeln!(out, "<p>search: {}</p>", escape(search));
    }
    for section in sections {
        out.push_str(&trace_section(section));
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

fn verdicts_table(verdicts: &[VerdictRow]) -> String {
    let mut out = String::from(
        "<h2>Verdicts</h2>\n<table>\n<tr><th>property</th><th>kind</th><th>verdict</th><th>expected</th><th>expectation</th><th>note</th></tr>\n",
    );
    for row in verdicts {
        let met = match row.met {
            Some(true) => "<span class=\"ok\">met</span>",
            Some(false) => "<span class=\"failed\">NOT MET</span>",
            None => "",
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{met}</td><td>{}</td></tr>",
            escape(&row.property),
            escape(&row.kind),
            escape(&row.verdict),
            escape(&row.verdict),
            escape(row.expected.as_deref().unwrap_or("-")),
            escape(row.note.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</table>\n");
    out
}

fn trace_section(section: &TraceSection) -> String {
    let timeline = section.timeline;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<section class=\"trace\" id=\"{}\">\n<h2>Counterexample for {} ({} steps)</h2>",
        escape(&timeline.property),
        escape(&timeline.property),
        timeline.steps.len()
    );
    if let Some(link) = &section.trace_link {
        let _ = writeln!(
            out,
            "<p>trace file <a href=\"{0}\">{0}</a> · replay with <code>lockscope replay {0}</code></p>",
            escape(link)
        );
    }
    let last = timeline.states.len() - 1;
    let _ = writeln!(
        out,
        "<div class=\"controls\"><button type=\"button\" class=\"back\">← Back</button> <button type=\"button\" class=\"forward\">Forward →</button> <input class=\"slider\" type=\"range\" min=\"0\" max=\"{last}\" value=\"{last}\" aria-label=\"step\"> <span class=\"position\">after step {last}</span> <span class=\"hint\">(arrow keys: one step back or forward)</span></div>"
    );
    // Few actors fit the page's width; more keep their reading size and scroll sideways.
    let fit = if timeline.actors.len() <= FIT_ACTORS {
        " fit"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<div class=\"diagram{fit}\">\n{}</div>\n<p class=\"wide-note\">The diagram is wider than the window: scroll it sideways, or zoom out.</p>",
        with_row_highlight(&inline_svg(&svg::render(timeline)))
    );
    out.push_str("<h3>Narrative</h3>\n<ol class=\"steps\">\n");
    for (i, step) in timeline.steps.iter().enumerate() {
        if timeline.loop_start == Some(i) {
            out.push_str(
                "<li class=\"cycle\">── the cycle starts here and repeats forever ──</li>\n",
            );
        }
        let _ = writeln!(
            out,
            "<li class=\"{0}\" value=\"{1}\" data-step=\"{1}\">{2}</li>",
            step.kind.name(),
            i + 1,
            escape(&step.summary)
        );
    }
    out.push_str("</ol>\n");
    if timeline.loop_start == Some(timeline.steps.len()) {
        out.push_str("<p class=\"cycle\">── from here only faults could happen: the last state may last forever ──</p>\n");
    }
    let verdict = format!("⇒ {}", timeline.verdict());
    let _ = writeln!(
        out,
        "<p class=\"violated\">{}{}</p>",
        escape(&verdict),
        timeline
            .explanation
            .as_deref()
            .map(|e| format!(": {}", escape(e)))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "<h3>World state</h3>\n<pre class=\"state\">{}</pre>",
        escape(&timeline.states[last])
    );
    let states = serde_json::to_string(&timeline.states).expect("strings serialise to JSON");
    let rows = serde_json::to_string(&svg::rows(timeline)).expect("numbers serialise to JSON");
    // `</` would end the script element early.
    let _ = writeln!(
        out,
        "<script type=\"application/json\" class=\"states\">{}</script>\n<script type=\"application/json\" class=\"rows\">{rows}</script>\n</section>",
        states.replace("</", "<\\/")
    );
    out
}

/// The verdict row of a lone trace: its property, violated or not on replay.
pub fn trace_verdict(timeline: &TimelineData) -> VerdictRow {
    VerdictRow {
        property: timeline.property.clone(),
        kind: if timeline.loop_start.is_some() {
            "liveness"
        } else {
            "safety"
        }
        .into(),
        verdict: match (timeline.violated, timeline.bound) {
            (true, Some(bound)) => format!("unknown (bounded: {bound})"),
            (true, None) => "violated".into(),
            (false, _) => "not violated".into(),
        },
        expected: None,
        met: None,
        note: Some("verdict of replaying this trace".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

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

/// Styles shared by the scenario pages and the index.
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
ol.steps li { cursor: pointer; padding: 1px 0; }
ol.steps li.cycle { list-style: none; cursor: default; }
ol.steps li.current { background: #fff3cd; }
li.fault { color: #c62828; } li.recover { color: #2e7d32; }
.state { white-space: pre; }
.cycle { color: #6a1b9a; font-weight: bold; }
";

/// The slider script: each section's states are a JSON array in a script element; moving the
/// slider (or clicking a step) shows the state after that step.
const SCRIPT: &str = "
document.querySelectorAll('section.trace').forEach(function (section) {
  var states = JSON.parse(section.querySelector('script.states').textContent);
  var slider = section.querySelector('input.slider');
  var label = section.querySelector('.position');
  var state = section.querySelector('pre.state');
  var steps = section.querySelectorAll('ol.steps li[data-step]');
  function show(k) {
    slider.value = k;
    state.textContent = states[k];
    label.textContent = k == 0 ? 'initial state' : 'after step ' + k + ' of ' + (states.length - 1);
    steps.forEach(function (li, i) { li.classList.toggle('current', i + 1 == k); });
  }
  slider.addEventListener('input', function () { show(Number(slider.value)); });
  steps.forEach(function (li, i) { li.addEventListener('click', function () { show(i + 1); }); });
  show(Number(slider.value));
});
";

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
    let _ = writeln!(
        out,
        "<div class=\"diagram\">\n{}</div>",
        inline_svg(&svg::render(timeline))
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
    let last = timeline.states.len() - 1;
    let _ = writeln!(
        out,
        "<h3>World state</h3>\n<p><input class=\"slider\" type=\"range\" min=\"0\" max=\"{last}\" value=\"{last}\" aria-label=\"step\"> <span class=\"position\">after step {last}</span></p>\n<pre class=\"state\">{}</pre>",
        escape(&timeline.states[last])
    );
    let states = serde_json::to_string(&timeline.states).expect("strings serialise to JSON");
    // `</` would end the script element early.
    let _ = writeln!(
        out,
        "<script type=\"application/json\" class=\"states\">{}</script>\n</section>",
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

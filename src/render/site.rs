//! The report folder of `check --report DIR`: per scenario `DIR/<scenario>/report.html` and an SVG
//! diagram per violation beside its trace, and `DIR/index.html` linking every scenario of the run
//! with its verdicts. Pages link each other by relative paths, so the folder can be uploaded as a
//! CI artifact or copied anywhere and still browses.

use std::fmt::Write as _;
use std::path::Path;

use super::html::{self, escape, TraceSection, VerdictRow};
use super::timeline::TimelineData;
use crate::check::{write_file, PropertyOutcome, ScenarioOutcome};
use crate::report::{self, kind_name};
use crate::search::Verdict;

/// The verdicts table row of a checked property; under `--strict` a violation nothing was
/// expected of is "not met" too, since it fails the run.
pub fn verdict_row(outcome: &ScenarioOutcome, property: &PropertyOutcome) -> VerdictRow {
    let note = match (property.verdict, &property.reason, property.trace_length) {
        (Verdict::Unknown | Verdict::NotChecked, Some(reason), _) => Some(reason.clone()),
        (_, _, Some(length)) => Some(format!("trace: {length} steps")),
        _ => None,
    };
    VerdictRow {
        property: property.name.to_string(),
        kind: kind_name(property.kind).to_string(),
        verdict: property.verdict.to_string(),
        expected: property.expected.map(|e| e.to_string()),
        met: property
            .expectation_met()
            .or((outcome.strict && outcome.failure(property).is_some()).then_some(false)),
        note,
    }
}

/// Write every scenario's page and diagrams, and the index, under `dir`.
pub fn write(dir: &Path, outcomes: &[ScenarioOutcome]) -> Result<(), String> {
    for outcome in outcomes {
        let folder = dir.join(&outcome.scenario.name);
        let mut timelines: Vec<(TimelineData, String)> = Vec::new();
        for property in &outcome.properties {
            let Some(trace_path) = &property.trace_path else {
                continue;
            };
            let (_, timeline) = super::load(trace_path)?;
            write_file(
                &folder.join(crate::check::diagram_file_name(property.name)),
                &super::svg::render(&timeline),
            )?;
            let link = trace_path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            timelines.push((timeline, link));
        }
        let sections: Vec<TraceSection> = timelines
            .iter()
            .map(|(timeline, link)| TraceSection {
                timeline,
                trace_link: Some(link.clone()),
            })
            .collect();
        let verdicts: Vec<VerdictRow> = outcome
            .properties
            .iter()
            .map(|p| verdict_row(outcome, p))
            .collect();
        let page = html::page(
            &outcome.scenario,
            Some(&search_line(outcome)),
            &verdicts,
            &sections,
            Some("../index.html"),
        );
        write_file(&folder.join("report.html"), &page)?;
    }
    write_file(&dir.join("index.html"), &index(outcomes))
}

/// How the verdicts were reached, without timings (so that the page is the same run to run).
fn search_line(outcome: &ScenarioOutcome) -> String {
    let search = &outcome.search;
    let completeness = match search.bound {
        None => "complete".to_string(),
        Some(bound) => format!("bounded: {bound}"),
    };
    match (search.seed, search.runs) {
        (Some(seed), Some(runs)) => format!(
            "random · {completeness} · {} runs · seed {seed} · a random search never proves a property",
            report::thousands(runs)
        ),
        _ => format!(
            "{} · {completeness} · {} unique states · {} transitions · max depth {} (covered {})",
            search.strategy,
            report::thousands(search.unique_states),
            report::thousands(search.transitions),
            search.max_depth,
            search.depth_covered
        ),
    }
}

/// The index page: one row per scenario, its verdicts and whether every expectation was met.
fn index(outcomes: &[ScenarioOutcome]) -> String {
    let failed = outcomes.iter().filter(|o| !o.ok()).count();
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>lockscope · {} scenarios</title>\n<style>{}</style>\n</head>\n<body>\n<h1>lockscope: {} scenarios, {} ok, {} failed</h1>\n<table>\n<tr><th>scenario</th><th>file</th><th>search</th><th>verdicts</th><th>expectations</th><th>result</th></tr>\n",
        outcomes.len(),
        html::STYLE,
        outcomes.len(),
        outcomes.len() - failed,
        failed
    );
    for outcome in outcomes {
        let name = escape(&outcome.scenario.name);
        let verdicts: Vec<String> = outcome
            .properties
            .iter()
            .map(|p| {
                let verdict = p.verdict.to_string();
                let cell = format!(
                    "{} <span class=\"{verdict}\">{verdict}</span>",
                    escape(p.name)
                );
                match p.trace_path {
                    Some(_) => format!(
                        "<a href=\"{name}/report.html#{}\">{cell}</a>",
                        escape(p.name)
                    ),
                    None => cell,
                }
            })
            .collect();
        // Beside each verdict whether it passes: a red "violated" that was expected is met.
        let expectations: Vec<String> = outcome
            .properties
            .iter()
            .map(|p| match (p.expected, outcome.failure(p)) {
                (_, Some(_)) => "<span class=\"failed\">not met</span>".to_string(),
                (Some(expected), None) => {
                    format!("<span class=\"ok\">met</span> (expected {expected})")
                }
                (None, None) => "-".to_string(),
            })
            .collect();
        let (class, result) = if outcome.ok() {
            ("ok", "ok")
        } else {
            ("failed", "FAILED")
        };
        let _ = writeln!(
            out,
            "<tr><td><a href=\"{name}/report.html\">{name}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{result}</td></tr>",
            escape(&outcome.file.display().to_string()),
            escape(&search_line(outcome)),
            verdicts.join("<br>"),
            expectations.join("<br>")
        );
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}

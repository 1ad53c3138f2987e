//! JUnit XML for CI systems: one test suite per scenario and one test case per (scenario,
//! property), so a CI page lists every property with its verdict and a failed expectation shows up
//! as a failed test carrying the counterexample's narrative.
//!
//! A test case fails exactly when it makes `check` exit 1 ([`ScenarioOutcome::failure`]): the
//! scenario expects a verdict the search did not give; or the property is violated and nothing is
//! expected of it, in a scenario with no `[expect]` or under `--strict`. A property left out by
//! the property selection is a skipped test case. No time
//! attributes are written, so the file is byte-identical run to run.

use std::fmt::Write as _;

use crate::check::ScenarioOutcome;
use crate::report;
use crate::search::Verdict;

/// Escape text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even when escaped.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{FFFD}'),
            other => out.push(other),
        }
    }
    out
}

/// The JUnit XML of a `check` run.
pub fn render(outcomes: &[ScenarioOutcome]) -> String {
    let cases: usize = outcomes.iter().map(|o| o.properties.len()).sum();
    let failures: usize = outcomes
        .iter()
        .map(|o| {
            o.properties
                .iter()
                .filter(|p| o.failure(p).is_some())
                .count()
        })
        .sum();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"lockscope\" tests=\"{cases}\" failures=\"{failures}\" errors=\"0\">\n"
    );
    for outcome in outcomes {
        let suite_failures = outcome
            .properties
            .iter()
            .filter(|p| outcome.failure(p).is_some())
            .count();
        let skipped = outcome
            .properties
            .iter()
            .filter(|p| p.verdict == Verdict::NotChecked)
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{suite_failures}\" errors=\"0\" skipped=\"{skipped}\" file=\"{}\">",
            escape(&outcome.scenario.name),
            outcome.properties.len(),
            escape(&outcome.file.display().to_string())
        );
        for property in &outcome.properties {
            let _ = writeln!(
                out,
                "    <testcase name=\"{}\" classname=\"lockscope.{}\">",
                escape(property.name),
                escape(&outcome.scenario.name)
            );
            if property.verdict == Verdict::NotChecked {
                let _ = writeln!(
                    out,
                    "      <skipped message=\"{}\"/>",
                    escape(property.reason.as_deref().unwrap_or("not checked"))
                );
            }
            if let Some(message) = outcome.failure(property) {
                let why = property
                    .explanation
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                let body = if property.trace_path.is_some() {
                    report::narrative(property, outcome)
                } else {
                    property.reason.clone().unwrap_or_default()
                };
                let _ = writeln!(
                    out,
                    "      <failure type=\"expectation\" message=\"{}\">{}</failure>",
                    escape(&format!("{}: {message}{why}", property.name)),
                    escape(&body)
                );
            }
            let _ = writeln!(
                out,
                "      <system-out>{} {}: {}</system-out>\n    </testcase>",
                report::kind_name(property.kind),
                escape(property.name),
                property.verdict
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

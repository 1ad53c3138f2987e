//! `lockscope course`: the generated half of the course book (`docs/course/`, an mdBook).
//!
//! The lessons are hand-written Markdown, but everything in them that the checker decides (the
//! scenario files, verdict tables, trace lengths, state counts, sequence diagrams, numbered
//! narratives, the change that makes a property hold, the exercises' answers) is written here, at
//! build time, from real runs, into a folder of includes the book pulls in (`{{#include ...}}`).
//! So the book cannot disagree with `lockscope check`: a lesson states no verdict of its own.
//!
//! The course's manifest (`course.toml` in the book's folder) names what to generate; its paths are
//! relative to the folder the command runs in (the repository's root), like every other path
//! lockscope takes, so that the commands the book shows can be pasted there:
//!
//! - `scenarios`: checked (a complete search each), shown with their verdicts and counterexamples;
//! - `traces`: committed traces whose search is too long for a build, replayed and shown;
//! - `fix`: pairs of scenarios, a broken one and the one that changes what makes it hold;
//! - `exercises`: scenario files whose `[expect]` is the answer, shown without it; the teacher's
//!   appendix takes the answers from the check, and a wrong key fails the generation.
//!
//! Per scenario `NAME`, the folder `NAME/` holds `scenario.toml` (the file's settings, without its
//! description and `[expect]`, which would give the answer away), `verdicts.md` (the verdict table and how it was reached), `states.txt`, one
//! `PROPERTY.verdict.txt` per property, and per counterexample `PROPERTY.steps.txt`,
//! `PROPERTY.svg`, `PROPERTY.trace.json` and `PROPERTY.md` (the diagram, a link to step through it
//! and the numbered narrative), beside `report.html`, the page to step through on a projector.
//! The `.txt` files hold one word or number without a newline, to be included inside a sentence.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::check::{self, write_file, RunOptions, ScenarioOutcome};
use crate::render::html::{self, escape};
use crate::render::timeline::TimelineData;
use crate::render::{self, site};
use crate::report::{kind_name, thousands};
use crate::scenario::Scenario;
use crate::search::Verdict;

/// The manifest file in the book's folder.
pub const MANIFEST: &str = "course.toml";

/// Where the includes go, under the book's folder, unless `--out` says otherwise.
pub const GENERATED: &str = "src/generated";

/// What `course.toml` names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub scenarios: Vec<PathBuf>,
    #[serde(default)]
    pub traces: Vec<PathBuf>,
    #[serde(default)]
    pub exercises: Vec<PathBuf>,
    #[serde(default, rename = "fix")]
    pub fixes: Vec<Fix>,
}

/// A broken scenario and the one whose change makes the property hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    /// The include's name: `fix/NAME.md`.
    pub name: String,
    pub from: PathBuf,
    pub to: PathBuf,
}

impl Manifest {
    /// Read `DIR/course.toml`; the error names the file and what is wrong.
    pub fn load(book: &Path) -> Result<Manifest, String> {
        let path = book.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .map_err(|err| format!("{}: cannot read: {err}", path.display()))?;
        toml::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))
    }

    /// Every scenario file the course cites: shown, fixed or set as an exercise.
    pub fn cited(&self) -> Vec<&Path> {
        let mut cited: Vec<&Path> = self.scenarios.iter().map(PathBuf::as_path).collect();
        for fix in &self.fixes {
            cited.extend([fix.from.as_path(), fix.to.as_path()]);
        }
        cited.extend(self.exercises.iter().map(PathBuf::as_path));
        cited
    }
}

/// What a generation did: the scenarios whose expectations were not met (then the book must not
/// be built: its answer key or a lesson's scenario disagrees with the checker).
pub struct Generated {
    pub checked: usize,
    pub failed: Vec<String>,
}

/// Generate every include of the book in `book` into `out` (emptied first).
pub fn generate(book: &Path, out: &Path, threads: usize) -> Result<Generated, String> {
    let manifest = Manifest::load(book)?;
    for path in manifest
        .cited()
        .into_iter()
        .chain(manifest.traces.iter().map(PathBuf::as_path))
    {
        if !path.is_file() {
            return Err(format!(
                "{}: cites {}, which is no file (paths are relative to the folder lockscope runs in)",
                book.join(MANIFEST).display(),
                path.display()
            ));
        }
    }
    match std::fs::remove_dir_all(out) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("{}: cannot empty the folder: {err}", out.display()))
        }
        _ => {}
    }
    let mut files: Vec<&Path> = Vec::new();
    for path in manifest.cited() {
        if !files.contains(&path) {
            files.push(path);
        }
    }
    let options = RunOptions {
        threads,
        full_space: false,
        report_dir: out.to_path_buf(),
        only_run: None,
        shard: None,
        symmetry: false,
        reduction: Default::default(),
    };
    let mut outcomes: Vec<ScenarioOutcome> = Vec::new();
    for file in files {
        let scenario = Scenario::load(file).map_err(|err| err.to_string())?;
        // Each scenario's includes are in a folder named after it.
        if let Some(other) = outcomes.iter().find(|o| o.scenario.name == scenario.name) {
            return Err(format!(
                "{}: scenario name {:?} is also the name of {}; their includes would overwrite each other (set `name` in one of them)",
                file.display(),
                scenario.name,
                other.file.display()
            ));
        }
        outcomes.push(check::run(&scenario, file, &options, &mut |_| {})?);
    }
    site::write(out, &outcomes)?;
    for outcome in &outcomes {
        write_scenario(out, outcome)?;
    }
    for trace in &manifest.traces {
        write_trace(out, trace)?;
    }
    for fix in &manifest.fixes {
        write_file(
            &out.join("fix").join(format!("{}.md", fix.name)),
            &change(fix)?,
        )?;
    }
    let exercises: Vec<&ScenarioOutcome> = manifest
        .exercises
        .iter()
        .filter_map(|file| outcomes.iter().find(|o| &o.file == file))
        .collect();
    write_file(&out.join("answers.md"), &answers(&exercises))?;
    Ok(Generated {
        checked: outcomes.len(),
        failed: outcomes
            .iter()
            .filter(|o| !o.ok())
            .map(|o| o.file.display().to_string())
            .collect(),
    })
}

/// A scenario's includes (the report folder already holds its page, traces and diagrams).
fn write_scenario(out: &Path, outcome: &ScenarioOutcome) -> Result<(), String> {
    let folder = out.join(&outcome.scenario.name);
    let text = std::fs::read_to_string(&outcome.file)
        .map_err(|err| format!("{}: cannot read: {err}", outcome.file.display()))?;
    write_file(&folder.join("scenario.toml"), &settings_only(&text))?;
    write_file(&folder.join("verdicts.md"), &verdicts_table(outcome))?;
    write_file(
        &folder.join("states.txt"),
        &thousands(outcome.search.unique_states),
    )?;
    for property in &outcome.properties {
        write_file(
            &folder.join(format!("{}.verdict.txt", property.name)),
            &property.verdict.to_string(),
        )?;
        let Some(trace_path) = &property.trace_path else {
            continue;
        };
        let (_, timeline) = render::load(trace_path)?;
        write_file(
            &folder.join(format!("{}.steps.txt", property.name)),
            &timeline.steps.len().to_string(),
        )?;
        let base = format!("generated/{}", outcome.scenario.name);
        write_file(
            &folder.join(format!("{}.md", property.name)),
            &counterexample(
                &timeline,
                &format!("{base}/{}", check::diagram_file_name(property.name)),
                &format!("{base}/report.html#{}", property.name),
            ),
        )?;
    }
    Ok(())
}

/// A committed trace, replayed: its diagram, narrative, verdict and step count, and a page to
/// step through, in `out/<file stem>/` (the stem without `.trace`).
fn write_trace(out: &Path, file: &Path) -> Result<(), String> {
    let (trace, timeline) = render::load(file)?;
    let name = file
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(".trace.json")
                .to_string()
        })
        .unwrap_or_default();
    // A replay shows a violation, or nothing: a trace that no longer violates its property (or
    // only because a bound ran out) proves nothing the lesson could state.
    if !timeline.violated || timeline.bound.is_some() {
        return Err(format!(
            "{}: the trace no longer shows its violation of {} on replay; regenerate it with lockscope check",
            file.display(),
            timeline.property
        ));
    }
    let folder = out.join(&name);
    write_file(
        &folder.join(format!("{}.verdict.txt", timeline.property)),
        &Verdict::Violated.to_string(),
    )?;
    write_file(
        &folder.join(format!("{}.steps.txt", timeline.property)),
        &timeline.steps.len().to_string(),
    )?;
    write_file(
        &folder.join(check::diagram_file_name(&timeline.property)),
        &render::svg::render(&timeline),
    )?;
    let section = html::TraceSection {
        timeline: &timeline,
        trace_link: None,
    };
    let page = html::page(
        &trace.scenario,
        Some(&format!("replay of the committed trace {}", file.display())),
        &[html::trace_verdict(&timeline)],
        &[section],
        None,
    );
    write_file(&folder.join("report.html"), &page)?;
    let base = format!("generated/{name}");
    write_file(
        &folder.join(format!("{}.md", timeline.property)),
        &counterexample(
            &timeline,
            &format!("{base}/{}", check::diagram_file_name(&timeline.property)),
            &format!("{base}/report.html#{}", timeline.property),
        ),
    )
}

/// A scenario file as the class sees it before the answer: its settings, without the
/// `description` (which tells the story) and the `[expect]` table (which gives the verdicts).
pub fn settings_only(text: &str) -> String {
    let mut shown = String::new();
    let mut in_expect = false;
    let mut in_description = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if in_description {
            in_description = !trimmed.contains("\"\"\"");
            continue;
        }
        if trimmed.starts_with('[') {
            in_expect = trimmed.starts_with("[expect]");
        }
        if trimmed.starts_with("description") && trimmed[11..].trim_start().starts_with('=') {
            // A multi-line string opens with three quotes and closes on a later line.
            in_description = trimmed.matches("\"\"\"").count() == 1;
            continue;
        }
        if !in_expect {
            shown.push_str(line);
            shown.push('\n');
        }
    }
    shown.trim().to_string() + "\n"
}

/// The verdict table in Markdown, and a line saying how the verdicts were reached.
fn verdicts_table(outcome: &ScenarioOutcome) -> String {
    let mut text = String::from(
        "| property | kind | verdict | expected | counterexample |\n|---|---|---|---|---|\n",
    );
    for property in &outcome.properties {
        // An unknown verdict names the bound that stopped it, beside its lasso if it has one.
        let steps = property
            .trace_length
            .map(|length| format!("{length} steps"));
        let note = match (steps, &property.reason) {
            (Some(steps), Some(reason)) if property.verdict == Verdict::Unknown => {
                format!("{steps} ({reason})")
            }
            (None, Some(reason)) if property.verdict == Verdict::Unknown => reason.clone(),
            (steps, _) => steps.unwrap_or_default(),
        };
        let verdict = match property.verdict {
            Verdict::Holds => "holds".to_string(),
            other => format!("**{other}**"),
        };
        let _ = writeln!(
            text,
            "| `{}` | {} | {verdict} | {} | {note} |",
            property.name,
            kind_name(property.kind),
            property.expected.map_or("-".to_string(), |e| e.to_string()),
        );
    }
    let search = &outcome.search;
    let _ = write!(
        text,
        "\n`lockscope check {}`: {} search, {}, {} unique states, depth {}.\n",
        outcome.file.display(),
        search.strategy,
        match search.bound {
            None => "complete".to_string(),
            Some(bound) => format!("bounded ({bound})"),
        },
        thousands(search.unique_states),
        search.max_depth
    );
    text
}

/// A counterexample as the lesson shows it: the diagram (a link to the page that steps through
/// it), then the numbered narrative and why its end violates the property, in HTML (which mdBook
/// passes through) so that nothing in a step's sentence is read as Markdown.
fn counterexample(timeline: &TimelineData, diagram: &str, page: &str) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "<p class=\"diagram\"><a href=\"{page}\"><img src=\"{diagram}\" alt=\"sequence diagram: the counterexample for {} in {} steps\"></a></p>",
        escape(&timeline.property),
        timeline.steps.len()
    );
    let _ = writeln!(
        text,
        "<p class=\"step-through\"><a href=\"{page}\">Step through it</a> (arrow keys, large type for a projector).</p>\n"
    );
    text.push_str("<ol class=\"narrative\">\n");
    for (i, step) in timeline.steps.iter().enumerate() {
        if timeline.loop_start == Some(i) {
            text.push_str("<li class=\"cycle\">the cycle starts here and repeats forever</li>\n");
        }
        let _ = writeln!(
            text,
            "<li value=\"{}\">{}</li>",
            i + 1,
            escape(&step.summary)
        );
    }
    text.push_str("</ol>\n");
    if timeline.loop_start == Some(timeline.steps.len()) {
        text.push_str("<p class=\"cycle\">From here only faults could happen: the last state may last forever.</p>\n");
    }
    let _ = writeln!(
        text,
        "<p class=\"verdict\">⇒ {}{}</p>",
        escape(&timeline.verdict()),
        timeline
            .explanation
            .as_deref()
            .map(|e| format!(": {}", escape(e)))
            .unwrap_or_default()
    );
    text
}

/// What changes from a fix's broken scenario to the one that holds: every setting of `[model]`,
/// `[faults]` and `[check]` that differs, as a Markdown table, and the command that proves it.
fn change(fix: &Fix) -> Result<String, String> {
    let read = |path: &Path| -> Result<toml::Table, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("{}: cannot read: {err}", path.display()))?;
        toml::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))
    };
    let (from, to) = (read(&fix.from)?, read(&fix.to)?);
    let mut text = format!(
        "| in `{}` | from | to |\n|---|---|---|\n",
        fix.from.display()
    );
    let empty = toml::Table::new();
    let mut changed = 0;
    for table in ["model", "faults", "check"] {
        let table_of = |doc: &toml::Table| doc.get(table).and_then(|v| v.as_table()).cloned();
        let (a, b) = (
            table_of(&from).unwrap_or_else(|| empty.clone()),
            table_of(&to).unwrap_or_else(|| empty.clone()),
        );
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            if a.get(key) != b.get(key) {
                let shown = |v: Option<&toml::Value>| {
                    v.map_or("(not set)".to_string(), |v| format!("`{v}`"))
                };
                let _ = writeln!(
                    text,
                    "| `[{table}] {key}` | {} | {} |",
                    shown(a.get(key)),
                    shown(b.get(key))
                );
                changed += 1;
            }
        }
    }
    if changed == 0 {
        return Err(format!(
            "fix {}: {} and {} have the same [model], [faults] and [check]",
            fix.name,
            fix.from.display(),
            fix.to.display()
        ));
    }
    let _ = write!(
        text,
        "\nThat is `{}`; the run that proves it: `lockscope check {}`\n",
        fix.to.display(),
        fix.to.display()
    );
    Ok(text)
}

/// The teacher's appendix: per exercise, the question (its description) and the verdicts the
/// check gave, with the key's expectation beside each.
fn answers(exercises: &[&ScenarioOutcome]) -> String {
    let mut text = String::new();
    for outcome in exercises {
        let _ = writeln!(
            text,
            "### `{}`\n\n{}\n\n{}",
            outcome.file.display(),
            outcome.scenario.description.trim(),
            verdicts_table(outcome)
        );
        let met = outcome.properties.iter().filter(|p| p.expected.is_some());
        let all = met.clone().count();
        let ok = met.filter(|p| p.expectation_met() == Some(true)).count();
        let _ = writeln!(
            text,
            "The key (`[expect]`): {ok} of {all} answers confirmed by the check.\n"
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_sees_the_settings_without_the_story_or_the_answer() {
        let file = "description = \"\"\"\nThe story, \\\nwith the answer.\"\"\"\n\n[model]\nkind = \"lock\"\n\n[expect]\nmutual_exclusion = \"violated\"\n\n[check]\nmax_depth = 3\n";
        assert_eq!(
            settings_only(file),
            "[model]\nkind = \"lock\"\n\n[check]\nmax_depth = 3\n"
        );
        let one_line = "description = \"short\"\n[model]\nkind = \"zab\"\n";
        assert_eq!(settings_only(one_line), "[model]\nkind = \"zab\"\n");
    }
}

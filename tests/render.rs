//! Renderers: each output is checked for what a reader relies on (an arrow per delivered message,
//! a cross per lost one, monotone vector clocks, one Mermaid line per step), golden files pin the
//! text formats of a fixed trace, and bad input is an error naming the file, never a panic.
//!
//! Set `LOCKSCOPE_BLESS=1` to rewrite the golden files after a deliberate change (refused under
//! `CI=true`).

use std::path::{Path, PathBuf};

use lockscope::render::timeline::{Fate, TimelineData};

mod common;
use common::{lockscope, stderr, stdout};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The committed regression traces (scenarios/traces), sorted.
fn committed_traces() -> Vec<PathBuf> {
    let mut traces: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios/traces"))
        .expect("scenarios/traces exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.to_string_lossy().ends_with(".trace.json"))
        .collect();
    traces.sort();
    traces
}

/// A trace with a lost message: check the naive connection-loss scenario into `dir`.
fn connection_loss_trace(dir: &Path) -> PathBuf {
    let output = lockscope(
        dir,
        &[
            "check",
            &root()
                .join("scenarios/lock/naive-connection-loss.toml")
                .display()
                .to_string(),
            "--quiet",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    dir.join("reports/naive-connection-loss/no_deadlock.trace.json")
}

fn render(trace: &Path, format: &str) -> String {
    let output = lockscope(
        &root(),
        &["render", &trace.display().to_string(), "--format", format],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

fn timeline(trace: &Path) -> TimelineData {
    lockscope::render::load(trace).expect("the trace loads").1
}

/// Whether to rewrite the golden files (`LOCKSCOPE_BLESS` set) instead of comparing with them.
/// Refused in CI: a job that blesses passes whatever the code under test now prints, so the
/// golden files would check nothing.
fn blessing() -> bool {
    let bless = std::env::var_os("LOCKSCOPE_BLESS").is_some();
    assert!(
        !(bless && common::in_ci()),
        "LOCKSCOPE_BLESS is refused under CI=true: golden files are rewritten by hand, after a \
         deliberate change, and committed; CI only compares with them"
    );
    bless
}

/// Compare with a golden file, printing both in full on a mismatch.
fn assert_golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if blessing() {
        std::fs::write(&path, actual).expect("golden file written");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} differs (LOCKSCOPE_BLESS=1 rewrites it)\n--- expected\n```\n{expected}```\n--- actual\n```\n{actual}```",
        path.display()
    );
}

const FIXED: &str = "scenarios/traces/standard-expiry.mutual_exclusion.trace.json";

#[test]
fn text_mermaid_and_shiviz_of_a_fixed_trace_match_their_golden_files() {
    let trace = root().join(FIXED);
    assert_golden("standard-expiry.txt", &render(&trace, "text"));
    assert_golden("standard-expiry.mmd", &render(&trace, "mermaid"));
    assert_golden("standard-expiry.shiviz", &render(&trace, "shiviz"));
}

/// Colours the SVG renderer draws with (src/render/svg.rs): message arrowheads and lost-message
/// crosses are told apart by them.
const MESSAGE_FILL: &str = "#1952A0";
const FAULT_STROKE: &str = "#C62828";

struct SvgCounts {
    arrowheads: usize,
    crosses: usize,
    texts: Vec<String>,
}

fn parse_svg(svg: &str) -> SvgCounts {
    let document = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let nodes: Vec<roxmltree::Node> = document.descendants().collect();
    let arrowheads = nodes
        .iter()
        // Opaque: a message still in flight has a faint arrowhead.
        .filter(|n| {
            n.has_tag_name("polygon")
                && n.attribute("fill") == Some(MESSAGE_FILL)
                && n.attribute("opacity") == Some("1")
        })
        .count();
    let cross_strokes = nodes
        .iter()
        .filter(|n| {
            n.has_tag_name("line")
                && n.attribute("stroke") == Some(FAULT_STROKE)
                && n.attribute("stroke-width") == Some("3")
        })
        .count();
    let texts = nodes
        .iter()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().trim().to_string())
        .collect();
    SvgCounts {
        arrowheads,
        // Two strokes per cross, and one cross in the legend.
        crosses: cross_strokes / 2 - 1,
        texts,
    }
}

#[test]
fn the_svg_has_a_lifeline_per_actor_an_arrow_per_delivery_and_a_cross_per_loss() {
    let dir = tempfile::tempdir().unwrap();
    let mut traces = committed_traces();
    traces.push(connection_loss_trace(dir.path()));
    let mut losses = 0;
    for trace in traces {
        let expected = timeline(&trace);
        let svg = render(&trace, "svg");
        let counts = parse_svg(&svg);
        let delivered = expected
            .messages
            .iter()
            .filter(|m| matches!(m.fate, Fate::Delivered(_)))
            .count();
        let lost = expected
            .messages
            .iter()
            .filter(|m| matches!(m.fate, Fate::Lost(_)))
            .count();
        losses += lost;
        assert_eq!(counts.arrowheads, delivered, "{}", trace.display());
        assert_eq!(counts.crosses, lost, "{}", trace.display());
        for actor in &expected.actors {
            assert!(
                counts.texts.iter().any(|t| t == actor),
                "{}: no lifeline named {actor}",
                trace.display()
            );
        }
        // A delivery step consumes exactly one message, and no step consumes more.
        for (index, step) in expected.steps.iter().enumerate() {
            let consumed = expected
                .messages
                .iter()
                .filter(|m| m.fate == Fate::Delivered(index))
                .count();
            if step.kind == lockscope_models::timeline::StepKind::Deliver {
                assert_eq!(consumed, 1, "{}: step {}", trace.display(), index + 1);
            }
            assert!(consumed <= 1, "{}: step {}", trace.display(), index + 1);
        }
        assert!(counts.texts.iter().any(|t| t.contains("violated")));
    }
    assert!(losses > 0, "some trace lost a message");
}

#[test]
fn a_lasso_is_bracketed_and_a_safety_violation_shaded() {
    let lasso = render(
        &root().join("scenarios/traces/naive-forever.every_waiter_acquires.trace.json"),
        "svg",
    );
    assert!(lasso.contains("cycle repeats forever"));
    let safety = render(&root().join(FIXED), "svg");
    assert!(!safety.contains("cycle repeats forever"));
    assert!(safety.contains("#FFCDD2"), "the violating step is shaded");
}

#[test]
fn rendering_is_byte_identical_run_to_run() {
    let trace = root().join(FIXED);
    for format in ["svg", "mermaid", "shiviz", "html", "text"] {
        assert_eq!(render(&trace, format), render(&trace, format), "{format}");
    }
}

#[test]
fn mermaid_has_one_numbered_line_per_step_in_order() {
    for trace in committed_traces() {
        let steps = timeline(&trace).steps.len();
        let mermaid = render(&trace, "mermaid");
        let mut lines = mermaid.lines();
        assert_eq!(lines.next(), Some("sequenceDiagram"));
        let numbered: Vec<usize> = lines
            .filter_map(|line| line.split_once(": ").map(|(_, rest)| rest))
            .filter_map(|rest| rest.split_once(". ").and_then(|(n, _)| n.parse().ok()))
            .collect();
        assert_eq!(
            numbered,
            (1..=steps).collect::<Vec<_>>(),
            "{}\n{mermaid}",
            trace.display()
        );
        let opened = mermaid
            .lines()
            .filter(|l| l.trim_start().starts_with("loop ") || l.trim_start().starts_with("rect "))
            .count();
        let closed = mermaid.lines().filter(|l| l.trim() == "end").count();
        assert_eq!(opened, closed, "blocks are balanced\n{mermaid}");
    }
}

#[test]
fn shiviz_clocks_tick_by_one_per_host_and_never_go_back() {
    for trace in committed_traces() {
        let log = render(&trace, "shiviz");
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len() % 2, 0);
        let mut last: std::collections::BTreeMap<
            String,
            serde_json::Map<String, serde_json::Value>,
        > = Default::default();
        for pair in lines.chunks(2) {
            let (host, clock) = pair[1].split_once(' ').expect("HOST {clock}");
            assert!(!host.is_empty() && !host.contains(char::is_whitespace));
            let clock: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(clock).expect("the clock is a JSON object");
            let own = clock[host].as_u64().expect("a host's own entry");
            let previous = last.entry(host.to_string()).or_default();
            let before = previous.get(host).and_then(|v| v.as_u64()).unwrap_or(0);
            assert_eq!(own, before + 1, "{}: {}", trace.display(), pair[1]);
            for (name, tick) in previous.iter() {
                let now = clock.get(name).and_then(|v| v.as_u64()).unwrap_or(0);
                assert!(
                    now >= tick.as_u64().unwrap(),
                    "{}: {}",
                    trace.display(),
                    pair[1]
                );
            }
            *previous = clock;
        }
    }
}

#[test]
fn a_corrupt_trace_or_an_unknown_format_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.trace.json");
    std::fs::write(&corrupt, "{\"format\": \"lockscope-trace/1\", \"steps\": [").unwrap();
    for format in ["svg", "mermaid", "shiviz", "html", "text"] {
        let output = lockscope(
            dir.path(),
            &["render", "corrupt.trace.json", "--format", format],
        );
        assert_eq!(output.status.code(), Some(2), "{format}");
        let err = stderr(&output);
        assert!(err.starts_with("lockscope: corrupt.trace.json:"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let output = lockscope(
        dir.path(),
        &["render", "corrupt.trace.json", "--format", "png"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("invalid value 'png'"),
        "{}",
        stderr(&output)
    );
    // A well-formed trace whose step is not enabled diverges: named, with the step number.
    let text = std::fs::read_to_string(root().join(FIXED))
        .unwrap()
        .replacen("\"StartAcquire\"", "\"Release\"", 1);
    std::fs::write(dir.path().join("diverges.trace.json"), text).unwrap();
    for format in ["svg", "html"] {
        let output = lockscope(
            dir.path(),
            &["render", "diverges.trace.json", "--format", format],
        );
        assert_eq!(output.status.code(), Some(2), "{format}");
        let err = stderr(&output);
        assert!(
            err.starts_with("lockscope: diverges.trace.json: step 1: divergence:"),
            "{err}"
        );
    }
    // An output path that cannot be written is an error naming it.
    let output = lockscope(
        dir.path(),
        &[
            "render",
            &root().join(FIXED).display().to_string(),
            "--format",
            "svg",
            "-o",
            ".",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("lockscope: .: cannot write"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_html_page_is_self_contained_and_shows_every_step_and_state() {
    let trace = root().join(FIXED);
    let expected = timeline(&trace);
    let html = render(&trace, "html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("http"), "no external reference");
    for forbidden in ["src=", "<link", "@import", "url("] {
        assert!(!html.contains(forbidden), "{forbidden} in the page");
    }
    let svg_start = html.find("<svg").expect("the diagram is inline");
    let svg_end = html.find("</svg>").expect("closed") + "</svg>".len();
    parse_svg(&html[svg_start..svg_end]);
    for step in &expected.steps {
        let escaped = step
            .summary
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\'', "&#39;");
        assert!(html.contains(&escaped), "step missing: {}", step.summary);
    }
    // Every state is in the slider's data, as JSON strings.
    let states_start = html.find("class=\"states\">").expect("states") + "class=\"states\">".len();
    let states_end = states_start + html[states_start..].find("</script>").expect("closed");
    let states: Vec<String> =
        serde_json::from_str(&html[states_start..states_end].replace("<\\/", "</")).expect("JSON");
    assert_eq!(states, expected.states);
    assert_eq!(states.len(), expected.steps.len() + 1);
    assert!(html.contains("<td class=\"violated\">violated</td>"));
}

/// Goal: a counterexample can be stepped through on a projector: back and forward buttons, a
/// highlight for the current step's row in the diagram, a large-type switch, and a three-actor
/// diagram that fits the page's width. Method: the page's controls, and its row data against the
/// diagram's own rows (each step's row lies inside the diagram, below the previous one).
#[test]
fn the_html_page_steps_with_the_diagram_row_highlighted_and_has_large_type() {
    let trace = root().join(FIXED);
    let expected = timeline(&trace);
    let html = render(&trace, "html");
    for control in [
        "<button type=\"button\" class=\"back\">",
        "<button type=\"button\" class=\"forward\">",
        "<button type=\"button\" class=\"large\"",
        "<rect class=\"current-row\"",
        "<div class=\"diagram fit\">",
    ] {
        assert!(html.contains(control), "{control} missing");
    }
    assert_eq!(expected.actors.len(), 3, "a three-actor trace");
    // The highlight is drawn under everything: right after the diagram's white background.
    let svg = &html[html.find("<svg").expect("inline")..];
    let highlight = svg.find("current-row").expect("highlight");
    assert_eq!(
        svg[..highlight].matches("<rect").count(),
        2,
        "{}",
        &svg[..highlight + 40]
    );
    let rows_start = html.find("class=\"rows\">").expect("rows") + "class=\"rows\">".len();
    let rows_end = rows_start + html[rows_start..].find("</script>").expect("closed");
    let rows: Vec<(i32, i32)> = serde_json::from_str(&html[rows_start..rows_end]).expect("JSON");
    assert_eq!(rows.len(), expected.steps.len());
    let height: i32 = svg[svg.find("height=\"").expect("height") + 8..]
        .split('"')
        .next()
        .and_then(|h| h.parse().ok())
        .expect("the diagram's height");
    for pair in rows.windows(2) {
        assert_eq!(
            pair[0].0 + pair[0].1,
            pair[1].0,
            "rows follow each other: {rows:?}"
        );
    }
    assert!(rows
        .iter()
        .all(|&(top, h)| top > 0 && h > 0 && top + h < height));
}

/// Goal: `check --report DIR --junit FILE` writes a browsable folder and JUnit XML whose failures
/// are exactly the unmet expectations. Method: check a scenario whose expectation is met and one
/// whose expectation is changed to fail.
#[test]
fn check_writes_the_report_folder_and_junit_with_the_right_failures() {
    let dir = tempfile::tempdir().unwrap();
    let failing = std::fs::read_to_string(root().join("scenarios/lock/standard-expiry.toml"))
        .unwrap()
        .replace(
            "mutual_exclusion = \"violated\"",
            "mutual_exclusion = \"holds\"",
        )
        .replace("description = ", "name = \"expects-holds\"\ndescription = ");
    std::fs::write(dir.path().join("failing.toml"), failing).unwrap();
    let output = lockscope(
        dir.path(),
        &[
            "check",
            &root()
                .join("scenarios/lock/naive-connection-loss.toml")
                .display()
                .to_string(),
            "failing.toml",
            "--report",
            "out",
            "--junit",
            "out/junit.xml",
            "--quiet",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let out = dir.path().join("out");
    let index = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    // A second run writes the same bytes: no timings, no dates.
    let page = |name: &str| std::fs::read(out.join(name)).expect(name);
    let first = (
        page("index.html"),
        page("expects-holds/report.html"),
        page("junit.xml"),
    );
    let again = lockscope(
        dir.path(),
        &[
            "check",
            &root()
                .join("scenarios/lock/naive-connection-loss.toml")
                .display()
                .to_string(),
            "failing.toml",
            "--report",
            "out",
            "--junit",
            "out/junit.xml",
            "--quiet",
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        first
            == (
                page("index.html"),
                page("expects-holds/report.html"),
                page("junit.xml")
            ),
        "the report folder is deterministic"
    );
    assert!(!index.contains("http"));
    for name in ["naive-connection-loss", "expects-holds"] {
        assert!(
            index.contains(&format!("href=\"{name}/report.html\"")),
            "{index}"
        );
        let page = std::fs::read_to_string(out.join(name).join("report.html")).expect("report");
        assert!(!page.contains("http"), "{name}: no external reference");
    }
    for svg in [
        "naive-connection-loss/no_deadlock.svg",
        "naive-connection-loss/no_orphan_nodes.svg",
        "naive-connection-loss/every_waiter_acquires.svg",
        "expects-holds/mutual_exclusion.svg",
    ] {
        let text = std::fs::read_to_string(out.join(svg)).expect(svg);
        parse_svg(&text);
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit.xml");
    let document = roxmltree::Document::parse(&junit).expect("JUnit is well-formed XML");
    let suites = document.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let cases: Vec<roxmltree::Node> = document
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(
        suites.attribute("tests"),
        Some(cases.len().to_string().as_str())
    );
    let failed: Vec<String> = cases
        .iter()
        .filter(|case| case.children().any(|c| c.has_tag_name("failure")))
        .map(|case| {
            format!(
                "{}/{}",
                case.attribute("classname").unwrap(),
                case.attribute("name").unwrap()
            )
        })
        .collect();
    assert_eq!(failed, ["lockscope.expects-holds/mutual_exclusion"]);
    assert_eq!(suites.attribute("failures"), Some("1"));
    let failure = document
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(failure
        .attribute("message")
        .unwrap()
        .starts_with("mutual_exclusion: expected holds, found violated"));
    assert!(
        failure
            .text()
            .unwrap()
            .contains("9. S expires C0's session"),
        "the narrative is in the failure"
    );
}

/// Goal: the SVG stays readable at 10 actors and 200 steps (src/render/svg.rs explains the layout:
/// fixed column and row sizes, repeated actor names). Method: walk 200 steps of a fenced world with
/// 8 clients (10 actors) with a fixed choice rule, render it, and check the geometry.
#[test]
fn ten_actors_and_two_hundred_steps_keep_their_reading_size() {
    use lockscope::search::Counterexample;
    use lockscope_models::lock::{LockConfig, LockModel, Recipe};
    use lockscope_models::ActionInfo;
    use stateright::Model;

    let config = LockConfig {
        acquisitions: 0,
        session_expiries: 2,
        client_pauses: 2,
        message_loss: 2,
        ..LockConfig::new(Recipe::Fenced, 8)
    };
    let model = LockModel::new(config).expect("valid");
    let mut state = model.init_states().swap_remove(0);
    let mut steps = Vec::new();
    let mut actions = Vec::new();
    for i in 0..200 {
        actions.clear();
        model.actions(&state, &mut actions);
        // Mostly protocol steps, a fault now and then, so that the walk does not stop early.
        let faults: Vec<_> = actions
            .iter()
            .filter(|a| model.fault_kind(a).is_some())
            .copied()
            .collect();
        actions.retain(|a| model.fault_kind(a).is_none());
        let action = match faults.first() {
            Some(&fault) if i % 30 == 10 || actions.is_empty() => fault,
            _ => actions[(i * 7 + 3) % actions.len()],
        };
        state = model.next_state(&state, action).expect("enabled");
        steps.push(action);
    }
    let scenario = lockscope::registry::lock_scenario("ten-actors", config);
    let trace = lockscope::trace::Trace::record(
        &model,
        &scenario,
        "mutual_exclusion",
        None,
        &Counterexample::path(steps),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.trace.json");
    std::fs::write(&file, trace.to_json()).unwrap();
    let data = timeline(&file);
    assert_eq!((data.actors.len(), data.steps.len()), (10, 200));
    let svg = render(&file, "svg");
    if let Some(keep) = std::env::var_os("LOCKSCOPE_KEEP_SVG") {
        std::fs::write(keep, &svg).unwrap();
    }
    let document = roxmltree::Document::parse(&svg).expect("well-formed");
    let size = |name: &str| -> u32 {
        document
            .root_element()
            .attribute(name)
            .unwrap()
            .parse()
            .unwrap()
    };
    // 24 px per row and 130 px per actor column, plus the margins: nothing is scaled down.
    assert!(size("height") >= 200 * 24, "height {}", size("height"));
    assert!(size("width") <= 10 * 130 + 800, "width {}", size("width"));
    assert_readable("ten actors", &svg, &data);
    let counts = parse_svg(&svg);
    // The actor names stand at the top and again every 40 rows.
    for actor in &data.actors {
        assert_eq!(
            counts.texts.iter().filter(|t| *t == actor).count(),
            5,
            "{actor}"
        );
    }
}

/// The committed examples (reports/examples, shown in the README) are what the renderers make
/// now from the committed regression traces. `LOCKSCOPE_BLESS=1` regenerates them.
#[test]
fn the_committed_examples_are_up_to_date() {
    let examples = [
        (
            "standard-expiry.mutual_exclusion",
            &["svg", "html", "mermaid"][..],
        ),
        ("naive-forever.every_waiter_acquires", &["svg", "html"][..]),
    ];
    for (name, formats) in examples {
        let trace = root().join(format!("scenarios/traces/{name}.trace.json"));
        for format in formats {
            let extension = if *format == "mermaid" { "mmd" } else { format };
            let path = root().join(format!("reports/examples/{name}.{extension}"));
            let actual = render(&trace, format);
            if blessing() {
                std::fs::write(&path, &actual).expect("example written");
                continue;
            }
            let expected = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                expected == actual,
                "{} is out of date: LOCKSCOPE_BLESS=1 cargo test --test render regenerates it",
                path.display()
            );
        }
    }
}

#[test]
fn bench_plot_writes_two_charts() {
    let dir = tempfile::tempdir().unwrap();
    let output = lockscope(
        dir.path(),
        &["bench", "--quick", "--threads", "1", "--plot", "plots"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for chart in ["state-growth.svg", "rate.svg"] {
        let svg = std::fs::read_to_string(dir.path().join("plots").join(chart)).expect(chart);
        let document = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        let lines = document
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .count();
        assert!(lines >= 2, "{chart}: {lines} lines");
    }
}

/// The liveness row compares its time with the safety row's of the same size, and says nothing of
/// the kind when that row was not run (it once divided by zero).
#[test]
fn bench_compares_liveness_with_safety_only_when_both_ran() {
    let dir = tempfile::tempdir().unwrap();
    let rows = |only: &str| {
        let output = lockscope(
            dir.path(),
            &["bench", "--quick", "--threads", "1", "--only", only],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    let both = rows("N=3 E=0");
    let liveness = both.lines().find(|l| l.contains("+ liveness")).unwrap();
    assert!(liveness.contains("× safety"), "{liveness}");
    let alone = rows("N=3 E=0 + liveness");
    let liveness = alone.lines().find(|l| l.contains("+ liveness")).unwrap();
    assert!(
        liveness.contains("holds ✓") && !liveness.contains("safety"),
        "{liveness}"
    );
}

/// `bench --json -` gives one object per row of the table (which goes to stderr), with the
/// oracle's counts, whether the search was complete, its cost and its check.
#[test]
fn bench_json_has_a_row_per_table_row_with_counts_cost_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let output = lockscope(
        dir.path(),
        &[
            "bench",
            "--quick",
            "--threads",
            "2",
            "--only",
            "N=2",
            "--json",
            "-",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON on stdout");
    assert_eq!(json["ok"], true);
    assert_eq!(json["threads"], 2);
    let rows = json["rows"].as_array().expect("rows");
    let table = stderr(&output);
    let table_rows: Vec<&str> = table.lines().filter(|l| l.starts_with("N=2")).collect();
    assert_eq!(rows.len(), table_rows.len(), "{table}");
    assert_eq!(rows.len(), 8, "{table}");
    for (row, line) in rows.iter().zip(&table_rows) {
        let label = row["label"].as_str().expect("label");
        assert!(line.starts_with(label), "{line} / {label}");
        assert_eq!(row["ok"], true, "{row}");
        assert_eq!(row["clients"], 2);
        assert_eq!(row["complete"], row["run"] != "first_violation", "{row}");
        assert!(row["seconds"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["states_per_second"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["peak_rss_bytes"].as_u64().unwrap() > 0, "{row}");
    }
    // The complete counts are the independent oracle's.
    let oracle = std::fs::read_to_string(root().join("tests/oracle/results.jsonl")).unwrap();
    let n2e0: serde_json::Value = oracle
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|row| row["n"] == 2 && row["e"] == 0)
        .expect("the oracle counts N=2 E=0");
    let safety = rows
        .iter()
        .find(|row| row["label"] == "N=2 E=0 safety")
        .unwrap();
    for (ours, theirs) in [
        ("unique_states", "states"),
        ("transitions", "transitions"),
        ("max_depth", "max_depth"),
    ] {
        assert_eq!(safety[ours], n2e0[theirs], "{ours}");
    }

    // To a file, with the table on stdout.
    let output = lockscope(
        dir.path(),
        &[
            "bench",
            "--quick",
            "--only",
            "N=2 E=0 safety",
            "--json",
            "out/bench.json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("N=2 E=0 safety"));
    let written = std::fs::read_to_string(dir.path().join("out/bench.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 1);
}

/// The box a `<text>` element covers, estimated as the layout estimates it (src/render/svg.rs,
/// `text_width`): each character 0.6 of the font size wide, one font size high, centred on `y`
/// (the renderer centres text vertically), placed by `text-anchor`; a rotated text turns its box.
fn text_box(node: &roxmltree::Node) -> ([f64; 2], [f64; 2], String) {
    let number = |name: &str| -> f64 {
        node.attribute(name)
            .unwrap_or_else(|| panic!("<text> without {name}"))
            .parse()
            .expect("a number")
    };
    let content = node.text().unwrap_or_default().trim().to_string();
    let (x, y, size) = (number("x"), number("y"), number("font-size"));
    let width = content.chars().count() as f64 * 0.6 * size;
    let left = match node.attribute("text-anchor") {
        Some("middle") => x - width / 2.0,
        Some("end") => x - width,
        _ => x,
    };
    if node
        .attribute("transform")
        .is_some_and(|t| t.starts_with("rotate"))
    {
        // Rotated about (x, y) by a quarter turn: the run of characters is vertical.
        return (
            [x - size / 2.0, x + size / 2.0],
            [y - width / 2.0, y + width / 2.0],
            content,
        );
    }
    (
        [left, left + width],
        [y - size / 2.0, y + size / 2.0],
        content,
    )
}

/// Goal (issue 20 items 8 and 9): every diagram a class is shown is readable. For every bundled
/// trace, (a) no two text boxes overlap, (b) every message arrow ends at an actor's lifeline
/// (an arrowhead's tip beside a lifeline; a lost message's ✕ beside the lifeline it was meant
/// for, not halfway under another actor), (c) nothing is cut with "…", and every word of every
/// step's sentence is in the SVG.
#[test]
fn every_bundled_trace_lays_out_without_overlaps_cuts_or_stray_arrows() {
    for trace in committed_traces() {
        let name = trace.file_name().unwrap().to_string_lossy().to_string();
        assert_readable(&name, &render(&trace, "svg"), &timeline(&trace));
    }
}

/// The checks of [`every_bundled_trace_lays_out_without_overlaps_cuts_or_stray_arrows`] on the
/// SVG of one trace (`data` is its timeline), failing with `name`.
fn assert_readable(name: &str, svg: &str, data: &TimelineData) {
    let document = roxmltree::Document::parse(svg).expect("well-formed");
    let nodes: Vec<roxmltree::Node> = document.descendants().collect();
    let boxes: Vec<_> = nodes
        .iter()
        .filter(|n| n.has_tag_name("text"))
        .map(text_box)
        .collect();
    for (i, (ax, ay, a)) in boxes.iter().enumerate() {
        for (bx, by, b) in &boxes[i + 1..] {
            let apart = ax[1] <= bx[0] || bx[1] <= ax[0] || ay[1] <= by[0] || by[1] <= ay[0];
            assert!(
                apart,
                "{name}: {a:?} at {ax:?}×{ay:?} overlaps {b:?} at {bx:?}×{by:?}"
            );
        }
    }
    // (c) no cut, and the full sentences are there word for word.
    let texts: Vec<&str> = boxes.iter().map(|(_, _, t)| t.as_str()).collect();
    for text in &texts {
        assert!(!text.contains('…'), "{name}: cut label {text:?}");
    }
    let words: std::collections::HashSet<&str> =
        texts.iter().flat_map(|t| t.split_whitespace()).collect();
    for step in &data.steps {
        for word in step.summary.split_whitespace() {
            assert!(
                words.contains(word),
                "{name}: {word:?} of {:?} is missing",
                step.summary
            );
        }
    }
    // (b) Lifelines are the grey vertical lines.
    let attr = |n: &roxmltree::Node, a: &str| -> f64 {
        n.attribute(a)
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    let lifelines: Vec<f64> = nodes
        .iter()
        .filter(|n| {
            n.has_tag_name("line")
                && n.attribute("stroke") == Some("#969696")
                && attr(n, "x1") == attr(n, "x2")
        })
        .map(|n| attr(n, "x1"))
        .collect();
    assert!(!lifelines.is_empty(), "{name}: no lifelines");
    let nearest = |x: f64| {
        lifelines
            .iter()
            .map(|l| (l - x).abs())
            .fold(f64::INFINITY, f64::min)
    };
    // A message still in flight ends in a faint arrowhead (it would arrive after the end).
    let in_flight = data
        .messages
        .iter()
        .filter(|m| m.fate == Fate::InFlight)
        .count();
    let faint = nodes
        .iter()
        .filter(|n| {
            n.has_tag_name("polygon")
                && n.attribute("fill") == Some(MESSAGE_FILL)
                && n.attribute("opacity") != Some("1")
        })
        .count();
    assert_eq!(
        faint, in_flight,
        "{name}: an arrowhead per message in flight"
    );
    // Arrowheads (delivered, and in flight) have their tip first.
    for polygon in nodes
        .iter()
        .filter(|n| n.has_tag_name("polygon") && n.attribute("fill") == Some(MESSAGE_FILL))
    {
        let tip: f64 = polygon
            .attribute("points")
            .unwrap()
            .split([',', ' '])
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            nearest(tip) <= 8.0,
            "{name}: an arrow ends at x = {tip}, off every lifeline {lifelines:?}"
        );
    }
    // A lost message's ✕ (two thick red strokes; the legend's is above the actors).
    let top = lifelines_top(&nodes);
    for stroke in nodes.iter().filter(|n| {
        n.has_tag_name("line")
            && n.attribute("stroke") == Some(FAULT_STROKE)
            && n.attribute("stroke-width") == Some("3")
            && attr(n, "y1") > top
    }) {
        let centre = (attr(stroke, "x1") + attr(stroke, "x2")) / 2.0;
        assert!(
            nearest(centre) <= 24.0,
            "{name}: a lost message's ✕ at x = {centre} is away from every lifeline {lifelines:?}"
        );
    }
}

/// Where the lifelines begin: below the legend and the actor names.
fn lifelines_top(nodes: &[roxmltree::Node]) -> f64 {
    nodes
        .iter()
        .filter(|n| n.has_tag_name("line") && n.attribute("stroke") == Some("#969696"))
        .filter_map(|n| n.attribute("y1")?.parse().ok())
        .fold(f64::INFINITY, f64::min)
}

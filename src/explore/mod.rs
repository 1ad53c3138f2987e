//! `lockscope explore`: stateright's Explorer on a scenario's world, with lockscope's own page,
//! optionally opened on a counterexample (`--trace FILE`) to step through it.
//!
//! stateright serves the Explorer's data: `GET /.status` (its own search's counts and the safety
//! properties it found counterexamples to), `GET /.states/<init>/<action>/...` (the steps enabled
//! after a path of action indices, each with the state drawn by the model's `as_svg`) and
//! `POST /.runtocompletion`. Its page is replaced by lockscope's (`page.html`, `app.js`,
//! `app.css`), because stateright's page lists only the properties its own checker decides (so no
//! liveness property), shows emoji for verdicts (empty boxes on a machine without an emoji font)
//! and shows states as Rust debug dumps. lockscope's page says every verdict in words, lists the
//! liveness properties as decided by `lockscope check` (the Explorer's search does not check
//! liveness), shows each state in the narrative's words, and follows a counterexample step by step.
//!
//! stateright serves `./ui/index.htm`, `./ui/app.js` and `./ui/app.css` from the working directory
//! in place of its built-in files when they exist. So the command writes lockscope's page into a
//! folder of its own, makes that folder the working directory, and serves; the folder is removed
//! on Ctrl-C. This also keeps a `ui/` folder where the user started the command from taking the
//! page over.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::registry::{self, ModelVisitor};
use crate::render::{html, svg, timeline};
use crate::report::kind_name;
use crate::scenario::Scenario;
use crate::search::{Checkable, PropertyKind};
use crate::trace::{self, Trace};

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("app.css");

/// The address the Explorer listens on: the loopback interface only, since the server has no
/// authentication (anyone who reaches it can make it search).
const HOST: &str = "127.0.0.1";

/// Serve the Explorer for `scenario`, read from `file`, on `port`; opened on a counterexample
/// when `file` is a trace file and `trace` its content. Returns only on an error, each naming
/// its file; the server runs until the process is stopped.
pub fn serve(
    scenario: &Scenario,
    file: &Path,
    trace: Option<&Trace>,
    port: u16,
) -> Result<(), String> {
    registry::with_model(
        scenario,
        Explorer {
            scenario,
            trace: trace.map(|trace| (trace, file)),
            port,
        },
    )
    .map_err(|err| format!("{}: {err}", file.display()))?
}

struct Explorer<'a> {
    scenario: &'a Scenario,
    trace: Option<(&'a Trace, &'a Path)>,
    port: u16,
}

impl ModelVisitor for Explorer<'_> {
    type Output = Result<(), String>;

    fn visit<M: Checkable + Send + 'static>(self, model: M) -> Self::Output
    where
        M::State: 'static,
        M::Action: 'static,
    {
        let opened = self
            .trace
            .map(|(trace, file)| OpenedTrace::new(&model, trace, file))
            .transpose()?;
        let data = page_data(&model, self.scenario, opened.as_ref());
        let folder = write_page(&data)?;
        remove_on_signals(folder.clone());
        std::env::set_current_dir(&folder)
            .map_err(|err| format!("{}: cannot enter the folder: {err}", folder.display()))?;
        let root = format!("http://{HOST}:{}/", self.port);
        eprintln!("lockscope: Explorer on {root} (Ctrl-C to stop)");
        if let Some(opened) = &opened {
            // The address of the counterexample goes to stdout, alone on its line, for scripts.
            let mut stdout = std::io::stdout();
            let _ = writeln!(stdout, "{root}{}", opened.url);
            let _ = stdout.flush();
        }
        model.checker().serve((HOST, self.port));
        Ok(())
    }
}

/// A counterexample replayed in the model: its path as the Explorer's action indices, and what
/// the page shows beside each step.
struct OpenedTrace {
    file: PathBuf,
    property: String,
    kind: PropertyKind,
    /// The Explorer's path: the initial state's index, then each step's index among the actions
    /// enabled before it.
    path: Vec<usize>,
    /// `#/steps/<path>?offset=<steps>`: the path with its initial state selected.
    url: String,
    summaries: Vec<String>,
    loop_start: Option<usize>,
    violated: bool,
    explanation: Option<String>,
    /// A lasso that only an exhausted modelling bound keeps going (its verdict is `unknown`).
    bound: Option<String>,
    /// The sequence diagram (inline SVG with a row highlight the page moves), each step's row in
    /// it as (top, height), and whether it is narrow enough to fit the panel's width.
    diagram: String,
    rows: Vec<(i32, i32)>,
    fit: bool,
}

impl OpenedTrace {
    /// Replay `trace` in `model` (a divergence or a bad file is an input error) and find each
    /// step's action among those the Explorer offers.
    fn new<M: Checkable>(model: &M, trace: &Trace, file: &Path) -> Result<Self, String> {
        let replayed = trace::replay(model, trace, file).map_err(|err| err.to_string())?;
        let timeline = timeline::extract(model, trace, file).map_err(|err| err.to_string())?;
        let mut state = model.init_states().swap_remove(0);
        let mut path = vec![0];
        let mut enabled = Vec::new();
        for step in &trace.steps {
            let action: M::Action =
                serde_json::from_value(step.action.clone()).expect("replay read every action");
            enabled.clear();
            model.actions(&state, &mut enabled);
            let index = enabled
                .iter()
                .position(|a| *a == action)
                .expect("replay found every action enabled");
            path.push(index);
            state = model
                .next_state(&state, action)
                .expect("replay found every action changes the state");
        }
        let indices: Vec<String> = path.iter().map(|i| i.to_string()).collect();
        let url = format!("#/steps/{}?offset={}", indices.join("/"), trace.steps.len());
        let kind = if trace.loop_start.is_some() {
            PropertyKind::Liveness
        } else {
            PropertyKind::Safety
        };
        Ok(OpenedTrace {
            file: file.to_path_buf(),
            property: trace.property.clone(),
            kind,
            path,
            url,
            summaries: replayed.summaries,
            loop_start: replayed.loop_start,
            violated: replayed.violated,
            explanation: replayed.explanation,
            bound: replayed.bound.map(|bound| bound.to_string()),
            diagram: html::with_row_highlight(&html::inline_svg(&svg::render(&timeline))),
            rows: svg::rows(&timeline),
            fit: timeline.actors.len() <= html::FIT_ACTORS,
        })
    }
}

/// What the page needs that stateright's API does not give: the scenario, every property with
/// its kind, and the opened counterexample.
fn page_data<M: Checkable>(
    model: &M,
    scenario: &Scenario,
    opened: Option<&OpenedTrace>,
) -> serde_json::Value {
    let safety: Vec<&str> = model
        .properties()
        .into_iter()
        .filter(|p| p.expectation == stateright::Expectation::Always)
        .map(|p| p.name)
        .collect();
    json!({
        "scenario": scenario.name,
        "description": scenario.description,
        "safety": safety,
        "liveness": model.liveness_properties(),
        "trace": opened.map(|t| json!({
            "file": t.file.display().to_string(),
            "property": t.property,
            "kind": kind_name(t.kind),
            "path": t.path,
            "url": t.url,
            "summaries": t.summaries,
            "loop_start": t.loop_start,
            "violated": t.violated,
            "explanation": t.explanation,
            "bound": t.bound,
            "diagram": t.diagram,
            "rows": t.rows,
            "fit": t.fit,
        })),
    })
}

/// Write the page into a new folder `lockscope-explorer-<pid>/ui` under the system's temporary
/// folder; returns the folder that holds `ui`.
fn write_page(data: &serde_json::Value) -> Result<PathBuf, String> {
    let folder = std::env::temp_dir().join(format!("lockscope-explorer-{}", std::process::id()));
    let ui = folder.join("ui");
    // `</` cannot end the script element the data sits in.
    let data = data.to_string().replace("</", "<\\/");
    let files = [
        ("index.htm", PAGE.replace("{{DATA}}", &data)),
        ("app.js", SCRIPT.to_string()),
        ("app.css", STYLE.to_string()),
    ];
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&ui)
        .map_err(|err| format!("{}: cannot create the folder: {err}", ui.display()))?;
    for (name, text) in files {
        let path = ui.join(name);
        std::fs::write(&path, text)
            .map_err(|err| format!("{}: cannot write: {err}", path.display()))?;
    }
    Ok(folder)
}

/// On SIGINT or SIGTERM, remove the page's folder and end (exit 130, as a shell reports Ctrl-C).
fn remove_on_signals(folder: PathBuf) {
    // Without a handler (another one is installed), a signal still ends the process.
    let _ = ctrlc::set_handler(move || {
        let _ = std::fs::remove_dir_all(&folder);
        std::process::exit(130);
    });
}

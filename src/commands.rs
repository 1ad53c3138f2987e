//! What each subcommand does. Every function returns the process exit code, or an input error
//! (exit 2) whose text names the file and what was wrong.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::check::{self, RunOptions, ScenarioOutcome};
use crate::cli::{
    BenchArgs, CheckArgs, ExploreArgs, FairnessArg, ListArgs, MergeArgs, RenderArgs, RenderFormat,
    ReplayArgs, SchedulerArg, StrategyArg,
};
use crate::registry::{self, ModelVisitor};
use crate::render;
use crate::report;
use crate::scenario::Scenario;
use crate::search::{Checkable, Progress, Scheduler, Strategy, Verdict};
use lockscope_models::Fairness;

/// An input or usage error: exit code 2.
pub type InputError = String;

/// Exit codes of the contract.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;

/// Every scenario file under `paths`: files as given, folders searched recursively for `*.toml`,
/// in sorted order.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), InputError> {
        let entries = std::fs::read_dir(dir)
            .map_err(|err| format!("{}: cannot read the folder: {err}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                walk(&path, found)?;
            } else if path.extension().is_some_and(|ext| ext == "toml") {
                found.push(path);
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found)?;
        } else if path.exists() {
            found.push(path.clone());
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    if found.is_empty() {
        return Err(format!(
            "no scenario files (*.toml) under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(found)
}

/// Load every file, reporting all that fail.
fn load_all(files: &[PathBuf]) -> Result<Vec<(PathBuf, Scenario)>, InputError> {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match Scenario::load(file) {
            Ok(scenario) => loaded.push((file.clone(), scenario)),
            Err(err) => errors.push(err.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors.join("\n"))
    }
}

fn apply_overrides(scenario: &mut Scenario, args: &CheckArgs) -> Result<(), InputError> {
    let check = &mut scenario.check;
    if let Some(strategy) = args.strategy {
        check.strategy = match strategy {
            StrategyArg::Bfs => Strategy::Bfs,
            StrategyArg::Dfs => Strategy::Dfs,
            StrategyArg::Random => Strategy::Random,
        };
    }
    if let Some(max_depth) = args.max_depth {
        check.max_depth = max_depth;
    }
    if let Some(max_states) = args.max_states {
        check.max_states = max_states;
    }
    if let Some(time_limit) = args.time_limit {
        check.time_limit = time_limit;
    }
    if let Some(seed) = args.seed {
        check.seed = seed;
    }
    if let Some(scheduler) = args.scheduler {
        check.scheduler = match scheduler {
            SchedulerArg::Uniform => Scheduler::Uniform,
            SchedulerArg::Pct => Scheduler::Pct,
            SchedulerArg::FaultBiased => Scheduler::FaultBiased,
        };
    }
    if let Some(fairness) = args.fairness {
        check.fairness = match fairness {
            FairnessArg::Weak => Fairness::Weak,
            FairnessArg::Strong => Fairness::Strong,
        };
    }
    if let Some(steps) = args.steps {
        if steps == 0 {
            return Err("--steps: expected at least 1, found 0".into());
        }
        check.steps = steps;
    }
    if let Some(runs) = args.runs {
        if runs == 0 {
            return Err("--runs: expected at least 1, found 0".into());
        }
        check.runs = runs;
    }
    Ok(())
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A status line on stderr, at most twice a second, only when stderr is a terminal.
fn progress_printer(enabled: bool) -> impl FnMut(Progress) {
    let mut last = Instant::now();
    move |progress: Progress| {
        if enabled && last.elapsed() >= Duration::from_millis(500) {
            last = Instant::now();
            let rate = progress.transitions as f64 / progress.elapsed.as_secs_f64().max(1e-9);
            eprint!(
                "\r\x1b[Klockscope: {} states · depth {} · {} transitions/s",
                report::thousands(progress.unique_states),
                progress.depth,
                report::thousands(rate as u64)
            );
            let _ = std::io::stderr().flush();
        }
    }
}

/// `--shard I/N`: the I-th (from 0) of N slices.
fn parse_shard(text: &str) -> Result<(u64, u64), InputError> {
    let expected = || format!("--shard: expected I/N with 0 <= I < N (e.g. 0/4), found {text:?}");
    let (i, n) = text.split_once('/').ok_or_else(expected)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| expected())?,
        n.trim().parse().map_err(|_| expected())?,
    );
    if n == 0 || i >= n {
        return Err(expected());
    }
    Ok((i, n))
}

/// Most worker threads: far more than this machine has, and small enough for batch arithmetic.
const MAX_THREADS: usize = 1024;

fn check_threads(threads: Option<usize>) -> Result<(), InputError> {
    match threads {
        Some(n) if n == 0 || n > MAX_THREADS => {
            Err(format!("--threads: expected 1 to {MAX_THREADS}, found {n}"))
        }
        _ => Ok(()),
    }
}

pub fn check(args: &CheckArgs) -> Result<u8, InputError> {
    check_threads(args.threads)?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let files = scenario_files(&args.paths)?;
    let mut scenarios = load_all(&files)?;
    for (_, scenario) in &mut scenarios {
        apply_overrides(scenario, args)?;
    }
    for (file, scenario) in &scenarios {
        let random = scenario.check.strategy == Strategy::Random;
        if !random && args.run.is_some() {
            return Err(format!("{}: --run applies to random searches (strategy = \"random\"); this scenario uses {}", file.display(), scenario.check.strategy.name()));
        }
        if scenario.check.strategy == Strategy::Bfs && shard.is_some() {
            return Err(format!("{}: --shard applies to random searches (slices of the runs) and to dfs (a swarm of search orders); this scenario uses bfs", file.display()));
        }
        if let Some(run) = args.run.filter(|&run| run >= scenario.check.runs) {
            return Err(format!(
                "{}: --run {run}: the search has runs 0 to {}",
                file.display(),
                scenario.check.runs - 1
            ));
        }
    }
    let mut names: Vec<(&str, &PathBuf)> = Vec::new();
    for (file, scenario) in &scenarios {
        if let Some((_, other)) = names.iter().find(|(name, _)| *name == scenario.name) {
            return Err(format!(
                "{}: scenario name {:?} is also the name of {}; traces would overwrite each other (set `name` in one of them)",
                file.display(),
                scenario.name,
                other.display()
            ));
        }
        names.push((&scenario.name, file));
    }
    let options = RunOptions {
        only_run: args.run,
        shard,
        threads: args.threads.unwrap_or_else(default_threads),
        full_space: args.full_space,
        report_dir: args.report.clone(),
        symmetry: args.symmetry,
    };
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    // Write errors (a closed pipe) are ignored: the run still finishes and writes its files.
    let mut out = text_output(args.json.as_deref());
    let mut outcomes: Vec<ScenarioOutcome> = Vec::new();
    for (file, scenario) in &scenarios {
        let mut progress = progress_printer(show_progress);
        let outcome = check::run(scenario, file, &options, &mut progress)?;
        if show_progress {
            eprint!("\r\x1b[K");
        }
        let _ = write!(out, "{}", report::summary(&outcome));
        if !args.quiet {
            let shortest = outcome.search.strategy == "bfs";
            for property in outcome
                .properties
                .iter()
                .filter(|p| p.verdict == Verdict::Violated)
            {
                let _ = write!(
                    out,
                    "{}",
                    report::narrative(property, shortest, &outcome.file)
                );
            }
        }
        let _ = writeln!(out);
        outcomes.push(outcome);
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.ok())
        .map(|o| o.scenario.name.as_str())
        .collect();
    if outcomes.len() > 1 {
        let _ = writeln!(
            out,
            "{} scenarios: {} ok, {} failed{}",
            outcomes.len(),
            outcomes.len() - failed.len(),
            failed.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(" ({})", failed.join(", "))
            }
        );
    }
    render::site::write(&args.report, &outcomes)?;
    if let Some(junit) = &args.junit {
        check::write_file(junit, &render::junit::render(&outcomes))?;
    }
    if let Some(json_path) = &args.json {
        let value = match outcomes.as_slice() {
            [one] => report::json(one),
            many => serde_json::Value::Array(many.iter().map(report::json).collect()),
        };
        write_json(json_path, &value)?;
    }
    Ok(if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

pub fn replay(args: &ReplayArgs) -> Result<u8, InputError> {
    let (_, replayed) = render::load(&args.trace)?;
    let _ = std::io::stdout().write_all(render::text::render(&replayed).as_bytes());
    Ok(if replayed.violated {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

pub fn render(args: &RenderArgs) -> Result<u8, InputError> {
    let text = match args.format {
        RenderFormat::Text => render::text::render(&render::load(&args.trace)?.1),
        RenderFormat::Svg => render::svg::render(&render::load(&args.trace)?.1),
        RenderFormat::Mermaid => render::mermaid::render(&render::load(&args.trace)?.1),
        RenderFormat::Shiviz => render::shiviz::render(&render::load(&args.trace)?.1),
        RenderFormat::Html => {
            let (trace, timeline) = render::load(&args.trace)?;
            let section = render::html::TraceSection {
                timeline: &timeline,
                trace_link: None,
            };
            let verdict = render::html::trace_verdict(&timeline);
            let origin = match (trace.seed, trace.run, trace.shrunk_from) {
                (Some(seed), Some(run), Some(original)) => format!(
                    "random, seed {seed}, run {run}, shrunk from {original} steps to {}",
                    trace.steps.len()
                ),
                (Some(seed), _, _) => format!("random, seed {seed}"),
                _ => format!("{}, exhaustive", trace.scenario.check.strategy.name()),
            };
            render::html::page(&trace.scenario, Some(&origin), &[verdict], &[section], None)
        }
    };
    match &args.output {
        Some(path) => check::write_file(path, &text)?,
        None => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    Ok(EXIT_OK)
}

struct Explorer {
    port: u16,
}

impl ModelVisitor for Explorer {
    type Output = ();

    fn visit<M: Checkable + Send + 'static>(self, model: M) -> Self::Output
    where
        M::State: 'static,
        M::Action: 'static,
    {
        let address = ("127.0.0.1", self.port);
        eprintln!(
            "lockscope: Explorer on http://127.0.0.1:{}/ (Ctrl-C to stop)",
            self.port
        );
        model.checker().serve(address);
    }
}

pub fn explore(args: &ExploreArgs) -> Result<u8, InputError> {
    // stateright's server panics when it cannot bind: find out first, and say so.
    std::net::TcpListener::bind(("127.0.0.1", args.port)).map_err(|err| {
        format!(
            "--port {}: cannot listen on 127.0.0.1:{}: {err}",
            args.port, args.port
        )
    })?;
    let scenario = Scenario::load(&args.scenario).map_err(|err| err.to_string())?;
    registry::with_model(&scenario, Explorer { port: args.port })
        .map_err(|err| format!("{}: {err}", args.scenario.display()))?;
    Ok(EXIT_OK)
}

pub fn list(args: &ListArgs) -> Result<u8, InputError> {
    let files = scenario_files(std::slice::from_ref(&args.path))?;
    let mut errors = Vec::new();
    for file in &files {
        match Scenario::load(file) {
            Ok(scenario) => {
                let _ = std::io::stdout().write_all(describe(&scenario, file).as_bytes());
            }
            Err(err) => errors.push(err.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(EXIT_OK)
    } else {
        Err(errors.join("\n"))
    }
}

fn describe(scenario: &Scenario, file: &Path) -> String {
    let model = &scenario.model;
    let faults = &scenario.faults;
    let mut text = format!("{}  ({})\n", scenario.name, file.display());
    if let Some(zab) = &model.zab {
        text.push_str(&format!(
            "  model    zab · variant {} · {} servers · {} transaction(s) · {} · {} election\n",
            zab.variant.name(),
            model.servers,
            zab.transactions,
            match zab.epochs {
                0 => "epochs unbounded".to_string(),
                n => format!("epochs up to {n}"),
            },
            zab.election.name(),
        ));
        text.push_str(&format!(
            "  faults   crashes {} · partitions {}{}{}{}\n  check    {} · {} fairness\n",
            faults.crashes,
            faults.partitions,
            if faults.permanent_partitions {
                " (never heal)"
            } else {
                ""
            },
            faults
                .partition_sides
                .map_or(String::new(), |sides| format!(" · split {sides}")),
            match faults.timeouts {
                0 => String::new(),
                n => format!(" · timeouts {n}"),
            },
            scenario.check.strategy.name(),
            scenario.check.fairness.name()
        ));
    } else {
        text.push_str(&format!(
            "  model    lock · recipe {} · variant {} · {} clients · {}{}\n",
            model.recipe.name(),
            model.variant.name(),
            model.clients,
            match model.acquisitions {
                0 => "acquiring forever".to_string(),
                1 => "1 acquisition".to_string(),
                n => format!("{n} acquisitions"),
            },
            if model.retry_after_expiry {
                " · retry after expiry"
            } else {
                ""
            }
        ));
        text.push_str(&format!(
            "  faults   session expiries {} · client pauses {}\n  check    {}\n",
            faults.session_expiries,
            faults.client_pauses,
            scenario.check.strategy.name()
        ));
    }
    let expect: Vec<String> = scenario
        .expect
        .iter()
        .map(|(name, verdict)| format!("{name} {verdict}"))
        .collect();
    text.push_str(&format!(
        "  expect   {}\n",
        if expect.is_empty() {
            "-".to_string()
        } else {
            expect.join(", ")
        }
    ));
    for line in textwrap(&scenario.description, 90) {
        text.push_str(&format!("  {line}\n"));
    }
    text.push('\n');
    text
}

/// Greedy word wrap.
fn textwrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

pub fn merge(args: &MergeArgs) -> Result<u8, InputError> {
    let merged = crate::merge::merge(&args.results)?;
    let results = match &merged {
        serde_json::Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    let text = serde_json::to_string_pretty(&merged).expect("JSON values serialise") + "\n";
    match &args.json {
        Some(path) if path.as_os_str() != "-" => check::write_file(path, &text)?,
        _ => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    Ok(if results.iter().all(|r| r["ok"] == true) {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// Where a command's text goes: stdout, unless `--json -` gives stdout to the JSON alone; then
/// stderr.
fn text_output(json: Option<&Path>) -> Box<dyn std::io::Write> {
    if json.is_some_and(json_to_stdout) {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    }
}

fn json_to_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Write `value`, pretty-printed, to `path` ("-" for stdout).
fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).expect("JSON values serialise") + "\n";
    if json_to_stdout(path) {
        let _ = std::io::stdout().write_all(text.as_bytes());
        Ok(())
    } else {
        check::write_file(path, &text)
    }
}

pub fn bench(args: &BenchArgs) -> Result<u8, InputError> {
    check_threads(args.threads)?;
    let threads = args.threads.unwrap_or_else(default_threads);
    let mut out = text_output(args.json.as_deref());
    let suite = crate::bench::run(args.quick, threads, args.only.as_deref(), &mut out);
    if let Some(json_path) = &args.json {
        write_json(json_path, &suite.json(threads, args.quick))?;
    }
    if let Some(dir) = &args.plot {
        render::plot::write(dir, &suite.measured)?;
    }
    Ok(if suite.ok() { EXIT_OK } else { EXIT_FAILED })
}

//! What each subcommand does. Every function returns the process exit code, or an input error
//! (exit 2) whose text names the file and what was wrong.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::check::{self, RunOptions, ScenarioOutcome};
use crate::cli::{
    BenchArgs, CheckArgs, CourseArgs, ExploreArgs, FairnessArg, ListArgs, MergeArgs, ReductionArg,
    RenderArgs, RenderFormat, ReplayArgs, SchedulerArg, StrategyArg, DEFAULT_REPORT_DIR,
};
use crate::course;
use crate::explore;
use crate::render;
use crate::report;
use crate::scenario::{
    read_capped, units, CheckSpec, EnsembleSpec, Scenario, MAX_SCENARIO_BYTES, MAX_THREADS,
};
use crate::search::{Progress, Reduction, Scheduler, Strategy, Verdict};
use crate::trace::Trace;
use lockscope_models::zab::types::set_name;
use lockscope_models::Fairness;

/// An input or usage error: exit code 2.
pub type InputError = String;

/// Exit codes of the contract.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;

/// Every scenario file under `paths`: files as given, folders searched recursively for `*.toml`
/// files with a `[model]` table (a folder also holds `Cargo.toml` and other TOML), in sorted
/// order, each file once however often it is named.
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
            } else if path.extension().is_some_and(|ext| ext == "toml") && has_model_table(&path) {
                found.push(path);
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found)?;
        } else if path.extension().is_some_and(|ext| ext == "json") {
            return Err(format!(
                "{}: a JSON file, not a scenario (TOML); a trace is re-run with `lockscope replay {}`",
                path.display(),
                path.display()
            ));
        } else if path.exists() {
            found.push(path.clone());
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    // `check a.toml ./a.toml` names one file twice: run it once (its traces would clash).
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|path| seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())));
    if found.is_empty() {
        return Err(format!(
            "no scenario files (*.toml with a [model] table) under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(found)
}

/// Whether a TOML file found in a folder is a scenario: it has a `[model]` table. A file that
/// is no valid TOML counts as one, so that its error is reported rather than the file skipped.
fn has_model_table(path: &Path) -> bool {
    let Ok(text) = read_capped(path, MAX_SCENARIO_BYTES) else {
        return true;
    };
    match toml::from_str::<toml::Table>(&text) {
        Ok(table) => table.contains_key("model"),
        Err(_) => true,
    }
}

/// Load every file, reporting all that fail; `selected` is the command line's property
/// selection, validated against each scenario (see [`Scenario::load_selecting`]).
fn load_all(
    files: &[PathBuf],
    selected: Option<&[String]>,
) -> Result<Vec<(PathBuf, Scenario)>, InputError> {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match Scenario::load_selecting(file, selected) {
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

/// `--property` names, each once, in the order given; `None` without any.
fn property_selection(args: &CheckArgs) -> Option<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for name in &args.property {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    (!names.is_empty()).then_some(names)
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
    if let Some(max_memory) = args.max_memory {
        check.max_memory = max_memory;
    }
    if let Some(seed) = args.seed {
        check.seed = seed;
    }
    if let Some(scheduler) = args.scheduler {
        check.scheduler = match scheduler {
            SchedulerArg::Uniform => Scheduler::Uniform,
            SchedulerArg::Pct => Scheduler::Pct,
            SchedulerArg::FaultBiased => Scheduler::FaultBiased,
            SchedulerArg::Swarm => Scheduler::Swarm,
        };
    }
    if let Some(fairness) = args.fairness {
        check.fairness = match fairness {
            FairnessArg::Weak => Fairness::Weak,
            FairnessArg::Strong => Fairness::Strong,
        };
    }
    if let Some(symmetry) = args.symmetry {
        check.symmetry = symmetry;
    }
    if let Some(reduction) = args.reduction {
        check.reduction = match reduction {
            ReductionArg::None => Reduction::None,
            ReductionArg::PartialOrder => Reduction::PartialOrder,
        };
    }
    if let Some(full_space) = args.full_space {
        check.full_space = full_space;
    }
    if let Some(threads) = args.threads {
        check.threads = Some(threads);
    }
    if let Some(selected) = property_selection(args) {
        check.properties = selected;
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

/// The options of a rerun command that reproduce this run of a scenario: each `[check]` value
/// the command line changed, and the run options that change what is searched or where traces
/// go. Built from the values (not the words typed), so a rerun cannot drift from the run. Threads
/// are left out: results do not depend on them.
fn changed_options(from_file: &CheckSpec, run: &CheckSpec, args: &CheckArgs) -> Vec<String> {
    let mut options: Vec<String> = Vec::new();
    let mut changed = |flag: &str, old: String, new: String| {
        if old != new {
            options.extend([flag.to_string(), new]);
        }
    };
    changed(
        "--strategy",
        from_file.strategy.name().into(),
        run.strategy.name().into(),
    );
    changed(
        "--max-depth",
        from_file.max_depth.to_string(),
        run.max_depth.to_string(),
    );
    changed(
        "--max-states",
        from_file.max_states.to_string(),
        run.max_states.to_string(),
    );
    changed(
        "--time-limit",
        units::duration_text(from_file.time_limit),
        units::duration_text(run.time_limit),
    );
    changed(
        "--max-memory",
        from_file.max_memory.to_string(),
        run.max_memory.to_string(),
    );
    changed("--seed", from_file.seed.to_string(), run.seed.to_string());
    changed("--runs", from_file.runs.to_string(), run.runs.to_string());
    changed(
        "--steps",
        from_file.steps.to_string(),
        run.steps.to_string(),
    );
    changed(
        "--scheduler",
        from_file.scheduler.name().into(),
        run.scheduler.name().into(),
    );
    changed(
        "--fairness",
        from_file.fairness.name().into(),
        run.fairness.name().into(),
    );
    changed(
        "--reduction",
        from_file.reduction.name().into(),
        run.reduction.name().into(),
    );
    let mut switched = |flag: &str, old: bool, new: bool| {
        if old != new {
            options.push(if new {
                flag.into()
            } else {
                format!("{flag}=false")
            });
        }
    };
    switched("--full-space", from_file.full_space, run.full_space);
    switched("--symmetry", from_file.symmetry, run.symmetry);
    if from_file.properties != run.properties {
        for name in &run.properties {
            options.extend(["--property".to_string(), name.clone()]);
        }
    }
    if args.strict {
        options.push("--strict".into());
    }
    if args.report != Path::new(DEFAULT_REPORT_DIR) {
        options.extend(["--report".into(), args.report.display().to_string()]);
    }
    options
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How often a progress line is printed when stderr is not a terminal (a CI log): often enough
/// to show a long run is alive, rarely enough not to flood the log.
const LOG_PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Progress on stderr: on a terminal a status line redrawn at most twice a second; otherwise (a
/// CI log) a line every [`LOG_PROGRESS_EVERY`]. Each gives the counts, the rate, the time spent
/// and, with a time limit, the time left.
fn progress_printer(terminal: bool, time_limit: Duration) -> impl FnMut(Progress) {
    let interval = if terminal {
        Duration::from_millis(500)
    } else {
        LOG_PROGRESS_EVERY
    };
    let mut last = Instant::now();
    move |progress: Progress| {
        if last.elapsed() < interval {
            return;
        }
        last = Instant::now();
        let line = progress_line(progress, time_limit);
        if terminal {
            eprint!("\r\x1b[K{line}");
        } else {
            eprintln!("{line}");
        }
        let _ = std::io::stderr().flush();
    }
}

/// One progress line: states and depth, or for a random search (which keeps no states) runs
/// and the longest run; the rate; the time spent and, with a time limit, the time left.
fn progress_line(progress: Progress, time_limit: Duration) -> String {
    let rate = progress.transitions as f64 / progress.elapsed.as_secs_f64().max(1e-9);
    let left = if time_limit.is_zero() {
        String::new()
    } else {
        format!(
            " · {} s left",
            time_limit.saturating_sub(progress.elapsed).as_secs()
        )
    };
    let elapsed = progress.elapsed.as_secs();
    let rate = report::thousands(rate as u64);
    match progress.runs_done {
        Some(runs) => format!(
            "lockscope: {} runs · longest {} steps · {rate} steps/s · {elapsed} s elapsed{left}",
            report::thousands(runs),
            progress.depth,
        ),
        None => format!(
            "lockscope: {} states · depth {} · {rate} transitions/s · {elapsed} s elapsed{left}",
            report::thousands(progress.unique_states),
            progress.depth,
        ),
    }
}

/// On SIGINT or SIGTERM the running search stops at its next check and the run ends as at a
/// bound (`bound: interrupted`), writing its summary, JSON, JUnit and reports; a second signal
/// ends the process at once. Installed once per process.
fn stop_searches_on_signals() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let signals = std::sync::atomic::AtomicU32::new(0);
        let handler = move || {
            if signals.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
                eprintln!("\nlockscope: interrupted; stopping the search and writing what it found (again to quit now)");
                crate::search::interrupt();
            } else {
                std::process::exit(130);
            }
        };
        // Without a handler (another one is installed), a signal still ends the process.
        let _ = ctrlc::set_handler(handler);
    });
}

/// `--shard I/N`: the I-th of N slices, counted from 1 as CI users know it (jest, playwright,
/// cargo-nextest); returned counted from 0, as the search numbers them.
pub fn parse_shard(text: &str) -> Result<(u64, u64), InputError> {
    let expected = |why: &str| {
        format!("--shard: expected I/N with 1 <= I <= N (1/4, 2/4, 3/4, 4/4 for four jobs){why}; found {text:?}")
    };
    let (i, n) = text.split_once('/').ok_or_else(|| expected(""))?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| expected(""))?,
        n.trim().parse().map_err(|_| expected(""))?,
    );
    if n == 0 {
        return Err(expected(""));
    }
    if i == 0 || i > n {
        return Err(expected(&format!(", so here 1 to {n}")));
    }
    Ok((i - 1, n))
}

/// Find out before a search, which may take hours, that its results could not be written: the
/// `--json` and `--junit` files are opened for writing (created if new, left as they are
/// otherwise) and a file is created and removed in the `--report` folder.
fn check_writable(args: &CheckArgs) -> Result<(), InputError> {
    let documents = [args.json.as_deref(), args.junit.as_deref()];
    for path in documents.into_iter().flatten().filter(|p| !to_stdout(p)) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|err| format!("{}: cannot create the folder: {err}", dir.display()))?;
        }
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|err| format!("{}: cannot write: {err}", path.display()))?;
    }
    std::fs::create_dir_all(&args.report)
        .map_err(|err| format!("{}: cannot create the folder: {err}", args.report.display()))?;
    let probe = args.report.join(".lockscope-write-probe");
    std::fs::write(&probe, "")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|err| {
            format!(
                "{}: cannot write in the folder: {err}",
                args.report.display()
            )
        })
}

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
    if args.json.as_deref().is_some_and(to_stdout) && args.junit.as_deref().is_some_and(to_stdout) {
        return Err(
            "--json - and --junit -: only one document can have stdout; write the other to a file"
                .into(),
        );
    }
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let files = scenario_files(&args.paths)?;
    let mut scenarios = load_all(&files, property_selection(args).as_deref())?;
    let mut rerun_options = Vec::new();
    for (_, scenario) in &mut scenarios {
        let from_file = scenario.check.clone();
        apply_overrides(scenario, args)?;
        rerun_options.push(changed_options(&from_file, &scenario.check, args));
    }
    for (file, scenario) in &scenarios {
        let random = scenario.check.strategy == Strategy::Random;
        if !random && args.run.is_some() {
            return Err(format!("{}: --run applies to random searches (strategy = \"random\"); this scenario uses {}", file.display(), scenario.check.strategy.name()));
        }
        if random && scenario.check.max_depth > 0 {
            return Err(format!("{}: max_depth applies to bfs and dfs; a random search bounds each run's length by steps (--steps, [check] steps)", file.display()));
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
    check_writable(args)?;
    let terminal = std::io::stderr().is_terminal();
    stop_searches_on_signals();
    // Write errors (a closed pipe) are ignored: the run still finishes and writes its files.
    let mut out = text_output(
        args.json.as_deref().is_some_and(to_stdout) || args.junit.as_deref().is_some_and(to_stdout),
    );
    let mut outcomes: Vec<ScenarioOutcome> = Vec::new();
    for ((file, scenario), rerun_options) in scenarios.iter().zip(rerun_options) {
        let mut progress = progress_printer(terminal, scenario.check.time_limit);
        let mut quiet = |_: Progress| {};
        let progress: &mut dyn FnMut(Progress) = if args.quiet {
            &mut quiet
        } else {
            &mut progress
        };
        // The scenario's [check] after the command line's overrides decides these.
        let options = RunOptions {
            only_run: args.run,
            shard,
            threads: scenario.check.threads.unwrap_or_else(default_threads),
            full_space: scenario.check.full_space,
            report_dir: args.report.clone(),
            symmetry: scenario.check.symmetry,
            reduction: scenario.check.reduction,
        };
        let mut outcome = check::run(scenario, file, &options, progress)?;
        outcome.rerun_options = rerun_options;
        outcome.strict = args.strict;
        if terminal && !args.quiet {
            eprint!("\r\x1b[K");
        }
        let _ = write!(out, "{}", report::summary(&outcome));
        if !args.quiet {
            for property in outcome
                .properties
                .iter()
                .filter(|p| p.verdict == Verdict::Violated || p.bound.is_some())
            {
                let _ = write!(out, "{}", report::narrative(property, &outcome));
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
    // Where the run's traces and pages went, in full: a relative --report (the default
    // `reports`) is under the folder the command ran in.
    let index = args.report.join("index.html");
    let _ = writeln!(
        out,
        "reports   {}",
        std::path::absolute(&index).unwrap_or(index).display()
    );
    if let Some(junit) = &args.junit {
        write_output(junit, &render::junit::render(&outcomes))?;
    }
    if let Some(json_path) = &args.json {
        let value = report::results_document(outcomes.iter().map(report::json).collect());
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

pub fn explore(args: &ExploreArgs) -> Result<u8, InputError> {
    // stateright's server panics when it cannot bind: find out first, and say so.
    std::net::TcpListener::bind(("127.0.0.1", args.port)).map_err(|err| {
        format!(
            "--port {}: cannot listen on 127.0.0.1:{}: {err}",
            args.port, args.port
        )
    })?;
    match (&args.scenario, &args.trace) {
        (_, Some(file)) => {
            let trace = Trace::load(file).map_err(|err| err.to_string())?;
            explore::serve(&trace.scenario, file, Some(&trace), args.port)?;
        }
        (Some(file), None) => {
            let scenario = Scenario::load(file).map_err(|err| err.to_string())?;
            explore::serve(&scenario, file, None, args.port)?;
        }
        (None, None) => unreachable!("clap requires a scenario or --trace"),
    }
    Ok(EXIT_OK)
}

pub fn list(args: &ListArgs) -> Result<u8, InputError> {
    let files = scenario_files(&args.paths)?;
    let mut errors = Vec::new();
    let mut expected: Vec<&'static str> = Vec::new();
    for file in &files {
        match Scenario::load(file) {
            Ok(scenario) => {
                let _ = std::io::stdout().write_all(describe(&scenario, file).as_bytes());
                expected.extend(scenario.expect.keys().filter_map(|name| {
                    lockscope_models::prop::ALL
                        .iter()
                        .find(|known| *known == name)
                        .copied()
                }));
            }
            Err(err) => errors.push(err.to_string()),
        }
    }
    if !expected.is_empty() {
        let _ = std::io::stdout().write_all(describe_evidence(&expected).as_bytes());
    }
    if errors.is_empty() {
        Ok(EXIT_OK)
    } else {
        Err(errors.join("\n"))
    }
}

/// " · properties a, b" when the scenario checks only some properties (`[check] properties`), so
/// that a listing does not suggest the others are checked.
fn selection(scenario: &Scenario) -> String {
    match scenario.check.properties.as_slice() {
        [] => String::new(),
        names => format!(" · properties {}", names.join(", ")),
    }
}

fn describe(scenario: &Scenario, file: &Path) -> String {
    let model = &scenario.model;
    let faults = &scenario.faults;
    let mut text = format!("{}  ({})\n", scenario.name, file.display());
    if let Some(zab) = &model.zab {
        text.push_str(&format!(
            "  model    zab · variant {} · {} servers · {} · {} · {} election · leader write {}\n",
            zab.variant.name(),
            model.servers,
            report::count(u64::from(zab.transactions), "transaction", "transactions"),
            match zab.epochs {
                0 => "epochs unbounded".to_string(),
                n => format!("epochs up to {n}"),
            },
            zab.election.name(),
            zab.leader_write.name(),
        ));
        text.push_str(&format!(
            "  faults   crashes {} · partitions {}{}{}{}\n  check    {} · {} fairness{}\n",
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
            scenario.check.fairness.name(),
            selection(scenario)
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
        if let Some(ensemble) = &model.ensemble {
            text.push_str(&describe_ensemble(scenario, ensemble));
        }
        text.push_str(&format!(
            "  faults   session expiries {} · client pauses {}\n  check    {}{}\n",
            faults.session_expiries,
            faults.client_pauses,
            scenario.check.strategy.name(),
            selection(scenario)
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

/// The ensemble under a lock world: its servers and code, where each client starts, its server
/// faults and the timing assumptions its sessions expire under.
fn describe_ensemble(scenario: &Scenario, ensemble: &EnsembleSpec) -> String {
    let faults = &scenario.faults;
    let first: Vec<String> = ensemble
        .connections
        .iter()
        .enumerate()
        .map(|(client, server)| format!("C{client} on S{server}"))
        .collect();
    let mut server_faults = format!(
        "crashes {}{} · partitions {}{}{}",
        faults.crashes,
        faults
            .crashable
            .map_or(String::new(), |c| format!(" (of {})", set_name(c.0))),
        faults.partitions,
        faults
            .partition_sides
            .map_or(String::new(), |sides| format!(" (split {sides})")),
        if faults.permanent_partitions {
            " (never heal)"
        } else {
            ""
        },
    );
    if faults.timeouts > 0 {
        server_faults.push_str(&format!(" · timeouts {}", faults.timeouts));
    }
    if faults.client_crashes > 0 {
        server_faults.push_str(&format!(" · client crashes {}", faults.client_crashes));
    }
    if faults.message_loss > 0 {
        server_faults.push_str(&format!(
            " · client connection breaks {}",
            faults.message_loss
        ));
    }
    if faults.late_forwards {
        server_faults.push_str(
            " · late forwards (a connection breaks only while its write is forwarded; the client moves to another server; the write reaches the leader after that)",
        );
    }
    let timing = &scenario.timing;
    let assumptions: Vec<&str> = [
        (timing.expiry_needs_silence, "expiry needs silence"),
        (timing.disconnect_before_expiry, "disconnect before expiry"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    format!(
        "  ensemble {} servers · zookeeper {} · {} · sessions {} · {} · {} election\n  servers  {server_faults}\n  timing   {}\n",
        scenario.model.servers,
        ensemble.zookeeper.name(),
        first.join(", "),
        if ensemble.sessions_at_start {
            "open at start"
        } else {
            "opened by transactions"
        },
        match ensemble.epochs {
            0 => "epochs unbounded".to_string(),
            n => format!("epochs up to {n}"),
        },
        ensemble.election.name(),
        if assumptions.is_empty() {
            "no assumption: a session may expire at any moment".to_string()
        } else {
            assumptions.join(", ")
        }
    )
}

/// Why each property the listed scenarios expect can be trusted when it holds: the mutant that
/// violates it, or why it holds by construction (`prop::evidence`), in report order.
fn describe_evidence(expected: &[&'static str]) -> String {
    use lockscope_models::prop::{self, Evidence};
    let mut text = String::from(
        "properties  the mutant whose complete search violates each (see its test), or why it holds by construction\n",
    );
    for &name in prop::ALL.iter().filter(|name| expected.contains(name)) {
        let line = match prop::evidence(name) {
            Some(Evidence::Mutant { scenario, test }) => {
                format!("violated by {scenario} (test {test})")
            }
            Some(Evidence::Mutation { mutation, test }) => {
                format!("violated by a test-only mutation: {mutation} (test {test})")
            }
            Some(Evidence::ByConstruction(reason)) => format!("holds by construction: {reason}"),
            None => "no mutant recorded yet".to_string(),
        };
        let mut lines = textwrap(&line, 70).into_iter();
        text.push_str(&format!(
            "  {name:<32} {}\n",
            lines.next().unwrap_or_default()
        ));
        for more in lines {
            text.push_str(&format!("  {:<32} {more}\n", ""));
        }
    }
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
    let text = serde_json::to_string_pretty(&merged).expect("JSON values serialise") + "\n";
    match &args.json {
        Some(path) if path.as_os_str() != "-" => check::write_file(path, &text)?,
        _ => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    let results = merged["results"]
        .as_array()
        .expect("merge returns a results document");
    Ok(if results.iter().all(|r| r["ok"] == true) {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// Where a command's text goes: stdout, unless `--json -` or `--junit -` gives stdout to a
/// machine-readable document alone; then stderr.
fn text_output(document_to_stdout: bool) -> Box<dyn std::io::Write> {
    if document_to_stdout {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    }
}

/// `-` names stdout, as in `--json -` and `--junit -`.
fn to_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Write `text` to `path` ("-" for stdout).
fn write_output(path: &Path, text: &str) -> Result<(), String> {
    if to_stdout(path) {
        let _ = std::io::stdout().write_all(text.as_bytes());
        Ok(())
    } else {
        check::write_file(path, text)
    }
}

/// Write `value`, pretty-printed, to `path` ("-" for stdout).
fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), String> {
    write_output(
        path,
        &(serde_json::to_string_pretty(value).expect("JSON values serialise") + "\n"),
    )
}

pub fn bench(args: &BenchArgs) -> Result<u8, InputError> {
    check_threads(args.threads)?;
    let threads = args.threads.unwrap_or_else(default_threads);
    let mut out = text_output(args.json.as_deref().is_some_and(to_stdout));
    let suite = crate::bench::run(args.quick, threads, args.only.as_deref(), &mut out);
    if let Some(json_path) = &args.json {
        write_json(json_path, &suite.json(threads, args.quick))?;
    }
    if let Some(dir) = &args.plot {
        render::plot::write(dir, &suite.measured)?;
    }
    Ok(if suite.ok() { EXIT_OK } else { EXIT_FAILED })
}

pub fn course(args: &CourseArgs) -> Result<u8, InputError> {
    check_threads(args.threads)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.book.join(course::GENERATED));
    let generated = course::generate(
        &args.book,
        &out,
        args.threads.unwrap_or_else(default_threads),
    )?;
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "course    {} scenarios checked; includes in {}",
        generated.checked,
        out.display()
    );
    if generated.failed.is_empty() {
        Ok(EXIT_OK)
    } else {
        let _ = writeln!(
            stdout,
            "FAILED    expectations not met (a lesson or an answer disagrees with the checker): {}",
            generated.failed.join(", ")
        );
        Ok(EXIT_FAILED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: a random search's progress line counts runs, not the states it never keeps (it said
    /// "0 states"). Method: one progress of each kind, with and without a time limit.
    #[test]
    fn a_random_search_reports_runs_and_an_exhaustive_one_states() {
        let exhaustive = Progress {
            transitions: 3_000_000,
            unique_states: 1_234_567,
            depth: 40,
            elapsed: Duration::from_secs(10),
            runs_done: None,
        };
        assert_eq!(
            progress_line(exhaustive, Duration::ZERO),
            "lockscope: 1,234,567 states · depth 40 · 300,000 transitions/s · 10 s elapsed"
        );
        let random = Progress {
            unique_states: 0,
            runs_done: Some(12_000),
            ..exhaustive
        };
        assert_eq!(
            progress_line(random, Duration::from_secs(60)),
            "lockscope: 12,000 runs · longest 40 steps · 300,000 steps/s · 10 s elapsed · 50 s left"
        );
    }
}

//! Running one scenario end to end: build its model, search, write a trace per violation, and
//! collect what the reports need into a [`ScenarioOutcome`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use lockscope_models::Bound;

use crate::registry::{self, ModelVisitor};
use crate::scenario::{Expected, Scenario};
use crate::search::{
    self, Checkable, Progress, PropertyKind, RandomOptions, RandomOrigin, Reduction, SearchLimits,
    SearchOptions, Selection, Verdict,
};
use crate::trace::{self, Trace};

/// Options of a `check` run that are not part of the scenario.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub threads: usize,
    pub full_space: bool,
    /// Where traces go: `<report_dir>/<scenario>/<property>.trace.json`.
    pub report_dir: PathBuf,
    /// Random searches: only this run (`--run K`), or only this shard (`--shard I/N`); depth-first
    /// searches: this member of a swarm (`--shard I/N`).
    pub only_run: Option<u64>,
    pub shard: Option<(u64, u64)>,
    /// Symmetry reduction (`--symmetry` or `[check] symmetry`, breadth-first searches only).
    pub symmetry: bool,
    /// Partial-order reduction (`--reduction` or `[check] reduction`, breadth-first only).
    pub reduction: Reduction,
}

/// The search statistics of one scenario, as reported.
#[derive(Clone, Debug)]
pub struct SearchSummary {
    pub strategy: &'static str,
    pub complete: bool,
    /// The bound that stopped an incomplete search.
    pub bound: Option<&'static str>,
    pub transitions: u64,
    pub unique_states: u64,
    pub max_depth: u32,
    pub depth_covered: u32,
    pub elapsed: Duration,
    pub threads: usize,
    pub collision_probability: f64,
    /// Random searches: the seed and the runs done.
    pub seed: Option<u64>,
    pub runs: Option<u64>,
    /// Per fault kind: transitions explored (exhaustive) or runs that used it (random).
    pub fault_coverage: Vec<(&'static str, u64)>,
    /// What symmetry reduction treated as interchangeable, if it was on.
    pub symmetry: Option<&'static str>,
    /// The partial-order reduction made: counts are then of the reduced graph, and a
    /// counterexample is the shortest in it.
    pub reduction: Reduction,
    /// The member `(i, n)` of a depth-first swarm, or the shard of a random search.
    pub shard: Option<(u64, u64)>,
}

/// The outcome for one property.
#[derive(Clone, Debug)]
pub struct PropertyOutcome {
    pub name: &'static str,
    pub kind: PropertyKind,
    pub verdict: Verdict,
    pub expected: Option<Expected>,
    pub reason: Option<String>,
    pub trace_path: Option<PathBuf>,
    pub trace_length: Option<usize>,
    /// One sentence per step of the counterexample.
    pub narrative: Vec<String>,
    /// Where a liveness lasso's cycle starts in `narrative`.
    pub loop_start: Option<usize>,
    /// Why the last state of the counterexample violates the property.
    pub explanation: Option<String>,
    /// Random searches: the run that found the counterexample and its length before shrinking.
    pub random: Option<RandomOrigin>,
    /// A liveness lasso that only an exhausted modelling bound keeps going: the verdict is then
    /// `unknown`, and the narrative ends by naming the bound.
    pub bound: Option<Bound>,
}

impl PropertyOutcome {
    /// `None` when the scenario expects nothing of this property.
    pub fn expectation_met(&self) -> Option<bool> {
        self.expected.map(|expected| match expected {
            Expected::Holds => self.verdict == Verdict::Holds,
            Expected::Violated => self.verdict == Verdict::Violated,
        })
    }
}

/// Everything the reports need about one checked scenario.
#[derive(Clone, Debug)]
pub struct ScenarioOutcome {
    pub scenario: Scenario,
    pub file: PathBuf,
    pub search: SearchSummary,
    pub properties: Vec<PropertyOutcome>,
    /// The command-line options that made this run differ from the scenario file (overrides of
    /// `[check]`, `--full-space`, ...), so that a printed rerun command reproduces it; empty from
    /// [`run`], filled in by the command line.
    pub rerun_options: Vec<String>,
    /// `--strict`: a violated property fails the run even when the scenario expects nothing of
    /// it (a CI gate should not pass a violation nobody anticipated).
    pub strict: bool,
}

impl ScenarioOutcome {
    /// `lockscope check FILE OPTIONS`, quoted for a POSIX shell: this run again.
    pub fn check_command(&self) -> String {
        let mut words = vec![
            "lockscope".to_string(),
            "check".to_string(),
            self.file.display().to_string(),
        ];
        words.extend(self.rerun_options.iter().cloned());
        shell_words::join(words)
    }
}

impl ScenarioOutcome {
    /// Why `property` fails the run, or `None` when it does not: its expectation is not met; or
    /// it is violated and nothing is expected of it, in a scenario with no `[expect]` at all or
    /// under `--strict`. The exit code, the JSON's `ok`, JUnit and the reports all ask this.
    pub fn failure(&self, property: &PropertyOutcome) -> Option<String> {
        match property.expected {
            Some(expected) if property.expectation_met() == Some(false) => {
                Some(format!("expected {expected}, found {}", property.verdict))
            }
            None if property.verdict == Verdict::Violated && self.scenario.expect.is_empty() => {
                Some("violated (the scenario has no [expect], so any violation fails)".into())
            }
            None if property.verdict == Verdict::Violated && self.strict => {
                Some("violated (nothing expected of it, and --strict fails any violation)".into())
            }
            _ => None,
        }
    }

    /// No property fails the run (see [`ScenarioOutcome::failure`]).
    pub fn ok(&self) -> bool {
        self.properties.iter().all(|p| self.failure(p).is_none())
    }
}

/// Check `scenario` (read from `file`), writing its traces. Errors are I/O failures.
pub fn run(
    scenario: &Scenario,
    file: &Path,
    options: &RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ScenarioOutcome, String> {
    registry::with_model(
        scenario,
        Runner {
            scenario,
            file,
            options,
            progress,
        },
    )
    .map_err(|err| format!("{}: {err}", file.display()))?
}

struct Runner<'a> {
    scenario: &'a Scenario,
    file: &'a Path,
    options: &'a RunOptions,
    progress: &'a mut dyn FnMut(Progress),
}

impl ModelVisitor for Runner<'_> {
    type Output = Result<ScenarioOutcome, String>;

    fn visit<M: Checkable + Send + 'static>(self, model: M) -> Self::Output
    where
        M::State: 'static,
        M::Action: 'static,
    {
        let check = &self.scenario.check;
        if self.options.symmetry {
            if check.strategy != search::Strategy::Bfs {
                return Err(format!(
                    "{}: symmetry reduction (--symmetry, [check] symmetry) needs a breadth-first search; the scenario's strategy is {}",
                    self.file.display(),
                    check.strategy.name()
                ));
            }
            if model.symmetry().is_none() {
                return Err(format!(
                    "{}: this model offers no symmetry reduction",
                    self.file.display()
                ));
            }
        }
        if self.options.reduction != Reduction::None {
            let name = self.options.reduction.name();
            let refusal = if check.strategy != search::Strategy::Bfs {
                Some(format!(
                    "needs a breadth-first search; the scenario's strategy is {}",
                    check.strategy.name()
                ))
            } else if self.options.symmetry {
                Some("is not made together with symmetry reduction".to_string())
            } else if !model.partial_order() {
                Some("is not offered by this model".to_string())
            } else {
                None
            };
            if let Some(refusal) = refusal {
                return Err(format!(
                    "{}: {name} reduction (--reduction, [check] reduction) {refusal}",
                    self.file.display()
                ));
            }
        }
        let bound = |value: u64| (value > 0).then_some(value);
        let search_options = SearchOptions {
            strategy: check.strategy,
            limits: SearchLimits {
                max_states: bound(check.max_states),
                max_depth: bound(u64::from(check.max_depth)).map(|d| d as u32),
                time_limit: (!check.time_limit.is_zero()).then_some(check.time_limit),
                max_memory: bound(check.max_memory),
            },
            threads: self.options.threads,
            full_space: self.options.full_space,
            stop_at_first_violation: false,
            check_liveness: true,
            symmetry: self.options.symmetry,
            reduction: self.options.reduction,
            properties: if check.properties.is_empty() {
                Selection::ALL
            } else {
                Selection::named(&model, &check.properties)
            },
            swarm: self
                .options
                .shard
                .filter(|_| check.strategy == search::Strategy::Dfs),
            random: RandomOptions {
                seed: check.seed,
                runs: check.runs,
                steps: check.steps,
                only_run: self.options.only_run,
                shard: self.options.shard,
                scheduler: check.scheduler,
            },
        };
        let mut report = search::search(&model, &search_options, self.progress);
        let folder = self.options.report_dir.join(&self.scenario.name);
        remove_earlier_traces(&folder, report.properties.iter().map(|p| p.name))?;
        let mut properties = Vec::new();
        for result in std::mem::take(&mut report.properties) {
            let mut outcome = PropertyOutcome {
                name: result.name,
                kind: result.kind,
                verdict: result.verdict,
                expected: self.scenario.expect.get(result.name).copied(),
                reason: result.reason,
                trace_path: None,
                trace_length: None,
                narrative: Vec::new(),
                loop_start: None,
                explanation: None,
                random: None,
                bound: result.counterexample.as_ref().and_then(|c| c.bound),
            };
            if let Some(counterexample) = &result.counterexample {
                let trace = Trace::record(
                    &model,
                    self.scenario,
                    result.name,
                    report.seed,
                    counterexample,
                );
                let path = folder.join(trace_file_name(result.name));
                write_file(&path, &trace.to_json())?;
                let replayed = trace::replay(&model, &trace, &path).map_err(|err| {
                    format!("internal error: a fresh trace does not replay: {err}")
                })?;
                assert!(replayed.violated, "a counterexample replays to a violation");
                outcome.trace_length = Some(counterexample.steps.len());
                outcome.loop_start = counterexample.loop_start;
                outcome.random = counterexample.random;
                outcome.narrative = replayed.summaries;
                outcome.explanation = replayed.explanation;
                outcome.trace_path = Some(path);
            }
            properties.push(outcome);
        }
        Ok(ScenarioOutcome {
            scenario: self.scenario.clone(),
            file: self.file.to_path_buf(),
            search: SearchSummary {
                strategy: report.strategy.name(),
                complete: report.stop == search::Stop::Exhausted,
                bound: report.stop.bound_name(),
                transitions: report.transitions,
                unique_states: report.unique_states,
                max_depth: report.max_depth,
                depth_covered: report.depth_covered,
                elapsed: report.elapsed,
                threads: report.threads,
                collision_probability: report.collision_probability(),
                seed: report.seed,
                runs: report.runs,
                fault_coverage: report.fault_coverage.clone(),
                symmetry: report.symmetry,
                reduction: report.reduction,
                shard: report.swarm.or(self.options.shard),
            },
            properties,
            rerun_options: Vec::new(),
            strict: false,
        })
    }
}

/// The name of a property's trace file in its scenario's report folder.
pub fn trace_file_name(property: &str) -> String {
    format!("{property}.trace.json")
}

/// The name of a property's sequence diagram beside its trace (written by the report folder).
pub fn diagram_file_name(property: &str) -> String {
    format!("{property}.svg")
}

/// Remove from a scenario's report `folder` the trace and diagram an earlier run wrote for each
/// of `properties`, so that a trace in the folder is always this run's: a property no longer
/// violated leaves none behind. Other files, and other scenarios' folders, are left alone.
fn remove_earlier_traces<'a>(
    folder: &Path,
    properties: impl Iterator<Item = &'a str>,
) -> Result<(), String> {
    for property in properties {
        for name in [trace_file_name(property), diagram_file_name(property)] {
            let path = folder.join(name);
            match std::fs::remove_file(&path) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                    return Err(format!(
                        "{}: cannot remove an earlier run's file: {err}",
                        path.display()
                    ))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Write `text` to `path`, creating its folder.
pub fn write_file(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|err| format!("{}: cannot create the folder: {err}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|err| format!("{}: cannot write: {err}", path.display()))
}

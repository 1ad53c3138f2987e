//! The command line (design README, "The command line": a contract). One clap struct per
//! subcommand; each flag's doc comment is its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A deterministic simulator and model checker for lock protocols built on ZooKeeper.
///
/// Exit codes: 0 every expectation met (or, with no [expect], no property violated); 1 a property
/// violated or an expectation not met; 2 bad input or usage.
#[derive(Debug, Parser)]
#[command(name = "lockscope", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Printed after `lockscope check --help`: what the verdicts mean and which fairness liveness assumes.
const CHECK_HELP: &str = "\
Verdicts: safety properties are checked in every reachable state. A property \"holds\" only after a
complete search; a search stopped by a bound says \"unknown (bounded: ...)\".

Liveness (every_waiter_acquires; for zab leader_eventually_elected and
proposals_eventually_committed) is checked after a complete breadth-first search, under weak
fairness: a step that stays enabled is eventually taken, separately for each actor's own steps and
for the deliveries of each channel (zab: each server's own steps, disk writes and timeout, each
link, and the election as one task); a paused client eventually resumes, a partition eventually
heals and a crashed server eventually restarts. Faults (session expiry, pauses, connection loss,
partitions and whether they outlast the read timeout, crashes) and zab's client writes are no
obligation: the environment may use its budget or not. A violation is a lasso: a path to a cycle
that repeats forever while an obligation stays pending, or to a state where nothing can happen.

Strong fairness (--fairness strong, or [check] fairness = \"strong\"): a strongly fair task that is
enabled again and again, even if not continuously, is eventually taken. It applies only to the
tasks a model marks as strong-capable; every other task stays weakly fair. zab marks its election
outcomes: per server, the elections it would win, and its timeout as a follower while no server
leads (going LOOKING in time to take part in the election). This is the timing Fast Leader
Election relies on: an election in which the most up-to-date server takes part, if possible
infinitely often, eventually happens. The lock models mark nothing, so the setting changes nothing
there.

Exit codes: 0 every expectation met (or, with no [expect], no property violated); 1 a property
violated or an expectation not met; 2 bad input or usage.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check scenarios: files, or folders searched recursively for *.toml.
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Re-execute a trace step by step, print its narrative, and verify that the recorded
    /// violation recurs (exit 1 if it does, 0 if not, 2 on divergence or a bad file).
    Replay(ReplayArgs),
    /// Render a trace file.
    Render(RenderArgs),
    /// Serve stateright's Explorer on a scenario's world: click through states and actions.
    Explore(ExploreArgs),
    /// List scenarios with their description and expectations.
    List(ListArgs),
    /// Combine the JSON results of the shards of a random search (`check --shard I/N --json`) into
    /// the result one unsharded search gives; exit 1 if an expectation is not met.
    Merge(MergeArgs),
    /// Run the benchmark suite (shared/bench/lock-recipe-reference.md); exit 1 if a row's check fails.
    Bench(BenchArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchedulerArg {
    /// Every enabled action equally likely.
    Uniform,
    /// Probabilistic concurrency testing: random task priorities with a few change points.
    Pct,
    /// Faults at a rate drawn per run, spread over the run instead of spent at once.
    FaultBiased,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FairnessArg {
    Weak,
    Strong,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    Bfs,
    Dfs,
    Random,
}

/// Options of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files or folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Search strategy (overrides [check] strategy). bfs gives shortest counterexamples.
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,
    /// Explore states up to this depth only; 0 = no bound (overrides [check] max_depth).
    #[arg(long)]
    pub max_depth: Option<u32>,
    /// Stop after this many unique states; 0 = no bound (overrides [check] max_states).
    #[arg(long)]
    pub max_states: Option<u64>,
    /// Stop after this many seconds; 0 = no bound (overrides [check] time_limit).
    #[arg(long)]
    pub time_limit: Option<u64>,
    /// Seed of a random search (overrides [check] seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Executions of a random search (overrides [check] runs).
    #[arg(long)]
    pub runs: Option<u64>,
    /// Most steps per execution of a random search (overrides [check] steps).
    #[arg(long)]
    pub steps: Option<u32>,
    /// How a random search chooses among enabled actions (overrides [check] scheduler).
    #[arg(long, value_enum)]
    pub scheduler: Option<SchedulerArg>,
    /// Liveness: which fairness the election's outcomes get (overrides [check] fairness). weak:
    /// a step that stays enabled is eventually taken. strong: zab's election outcomes that are
    /// possible again and again eventually happen (see below); other models are unaffected.
    #[arg(long, value_enum)]
    pub fairness: Option<FairnessArg>,
    /// Re-run only the K-th execution (from 0) of a random search.
    #[arg(long, value_name = "K")]
    pub run: Option<u64>,
    /// Worker threads for breadth-first search; results do not depend on it [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Keep exploring past violations, so that a complete space containing violating states is
    /// counted in full.
    #[arg(long)]
    pub full_space: bool,
    /// Symmetry reduction: keep one state per class of states equal up to renaming clients
    /// (breadth-first only). Counts are of representatives; traces are ordinary runs; liveness is
    /// not checked.
    #[arg(long)]
    pub symmetry: bool,
    /// Run the I-th (from 0) of N disjoint slices of a random search's runs; combine the JSON
    /// results with `lockscope merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Write the JSON result to FILE ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write JUnit XML to FILE: one test case per (scenario, property), failed when the
    /// expectation is not met, with the counterexample's narrative.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Folder for traces and reports: DIR/<scenario>/ holds each trace, its SVG diagram and the
    /// scenario's report.html; DIR/index.html links every scenario of the run.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report: PathBuf,
    /// Print only the summary: no narratives, no progress.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A trace file written by `check`.
    pub trace: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    Text,
    Svg,
    Shiviz,
    Mermaid,
    Html,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// A trace file written by `check`.
    pub trace: PathBuf,
    /// Output format: the numbered narrative, an SVG sequence diagram, a ShiViz log, a Mermaid
    /// sequenceDiagram, or a self-contained HTML page.
    #[arg(long, value_enum, default_value = "text")]
    pub format: RenderFormat,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// The scenario whose world to explore.
    pub scenario: PathBuf,
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Scenario files or folders.
    #[arg(default_value = "scenarios")]
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON results of shards.
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    /// Write the merged result to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Only the small sizes (N ≤ 3), for a quick look.
    #[arg(long)]
    pub quick: bool,
    /// Worker threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write charts into DIR: state-growth.svg (unique states by BFS depth per size) and
    /// rate.svg (states per second by number of clients).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Run only the rows whose label contains TEXT (e.g. "N=5 E=0", "liveness", "ZAB"), to
    /// measure one size without the whole suite.
    #[arg(long, value_name = "TEXT")]
    pub only: Option<String>,
    /// Also write the rows as JSON to FILE ("-" for stdout, the table then goes to stderr): per
    /// row its counts, whether the search was complete, seconds, states per second, peak RSS,
    /// bytes per state, and its check.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

//! The command line (docs/cli.md: a contract). One clap struct per
//! subcommand; each flag's doc comment is its help text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::scenario::units;

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
Examples:
  lockscope check scenarios/                      every bundled scenario, as CI does
  lockscope check scenarios/lock/standard-expiry.toml --json result.json --junit -
  lockscope check my-lock.toml --strategy random --seed 7 --runs 5000 --scheduler pct
  lockscope check big.toml -j 2 --time-limit 30m --max-memory 8GiB
  lockscope check big.toml --strategy dfs --max-states 50000000 --shard 3/16 --json m3.json
  lockscope check scenarios/ --strict             also fail on violations [expect] does not name

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

/// A count option: a non-negative integer, refused with its range. clap's own parser says
/// "invalid digit found in string", and for `-1` suggests `-- -1`; the options that take one allow
/// a leading hyphen so that a negative number reaches this message.
fn integer<T: std::str::FromStr + Bounded>(text: &str) -> Result<T, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "expected an integer from 0 to {}, found {text:?}",
            T::MAX_TEXT
        )
    })
}

/// The largest value of an unsigned count type, as text for [`integer`]'s message.
trait Bounded {
    const MAX_TEXT: &'static str;
}

impl Bounded for u32 {
    const MAX_TEXT: &'static str = "4294967295";
}

impl Bounded for u64 {
    const MAX_TEXT: &'static str = "18446744073709551615";
}

impl Bounded for usize {
    // lockscope runs on 64-bit machines (its state counts need them).
    const MAX_TEXT: &'static str = "18446744073709551615";
}

/// Where `check` writes traces and reports unless `--report` says otherwise.
pub const DEFAULT_REPORT_DIR: &str = "reports";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check scenarios: files, or folders searched recursively for *.toml.
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Re-execute a trace step by step, print its narrative, and verify that the recorded
    /// violation recurs (exit 1 if it does, 0 if not, 2 on divergence or a bad file).
    #[command(
        after_help = "Example:\n  lockscope replay reports/standard-expiry/mutual_exclusion.trace.json"
    )]
    Replay(ReplayArgs),
    /// Render a trace file.
    #[command(
        after_help = "Examples:\n  lockscope render reports/standard-expiry/mutual_exclusion.trace.json --format svg -o expiry.svg\n  lockscope render TRACE.json --format mermaid          a sequenceDiagram for Markdown\n  lockscope render TRACE.json --format html -o page.html"
    )]
    Render(RenderArgs),
    /// Serve the Explorer (a web page on stateright's Explorer) on a scenario's world: click
    /// through states and actions, or step through a counterexample (--trace).
    #[command(
        override_usage = "lockscope explore <SCENARIO> [--port <PORT>]\n       lockscope explore --trace <FILE> [--port <PORT>]",
        after_help = "Examples:\n  lockscope explore scenarios/lock/standard-expiry.toml --port 3000   then open http://127.0.0.1:3000/\n  lockscope explore --trace reports/standard-expiry/mutual_exclusion.trace.json\n      prints the counterexample's address (http://127.0.0.1:3000/#/steps/0/...), opened on its initial state;\n      the arrow keys step forward and back along it"
    )]
    Explore(ExploreArgs),
    /// List scenarios with their description and expectations.
    #[command(
        after_help = "Examples:\n  lockscope list                                  the bundled scenarios\n  lockscope list scenarios/zab my-lock.toml"
    )]
    List(ListArgs),
    /// Combine the JSON results of shards (`check --shard I/N --json`): the shards of a random
    /// search into the result one unsharded search gives, the members of a dfs swarm into their
    /// union. Needs exactly the shards 1/N to N/N of one search (one N, one seed); exit 1 if an
    /// expectation is not met.
    #[command(
        after_help = "Examples:\n  for i in 1 2 3 4; do lockscope check s.toml --strategy random --runs 100000 --shard $i/4 --json r$i.json; done\n  lockscope merge r1.json r2.json r3.json r4.json --json all.json\n  for i in 1 2 3 4; do lockscope check s.toml --strategy dfs --max-states 1000000 --shard $i/4 --json m$i.json; done\n  lockscope merge m*.json                          a dfs swarm's union"
    )]
    Merge(MergeArgs),
    /// Replay lock traces against a real ZooKeeper server, step by step: each step's model text,
    /// what really happened, and ok or DIVERGED; then the trace's property asked of what really
    /// happened. Exit 0 when every step matched and the violation recurred, 1 on a divergence, 2
    /// when a step cannot be realised, a trace is bad or there is no ZooKeeper.
    #[command(
        after_help = "Examples:\n  lockscope conform scenarios/traces/standard-expiry.mutual_exclusion.trace.json\n  lockscope conform scenarios/traces/standard-*.trace.json --runs 100 --json conform.json\n  lockscope conform TRACE.json --zookeeper 127.0.0.1:2181     a server you run (no crash steps)\n  lockscope conform --random scenarios/lock/random-all-faults.toml --runs 20 --seed 7\n  lockscope conform --random scenarios/ensemble/control.toml --runs 20 --seed 7    on a 3-server ensemble"
    )]
    Conform(ConformArgs),
    /// Run the benchmark suite (its workload: docs/benchmark.md); exit 1 if a row's check fails.
    #[command(
        after_help = "Examples:\n  lockscope bench --quick\n  lockscope bench --only \"N=5 E=0\" -j 2 --json bench.json"
    )]
    Bench(BenchArgs),
    /// Generate the course book's includes (docs/course, an mdBook): check every scenario its
    /// course.toml cites and write their files, verdict tables, diagrams, narratives, fixes and the
    /// exercises' answers; exit 1 if a scenario's [expect] (an exercise's answer) is not met.
    #[command(
        after_help = "Example (from the repository's root):\n  lockscope course docs/course && mdbook build docs/course"
    )]
    Course(CourseArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchedulerArg {
    /// The default: each run draws its own fault rate, step order (uniform or PCT) and, rarely,
    /// fault kinds to leave out.
    Swarm,
    /// Every enabled action equally likely.
    Uniform,
    /// Probabilistic concurrency testing: random task priorities with a few change points.
    Pct,
    /// Faults at a rate drawn per run, spread over the run instead of spent at once.
    FaultBiased,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReductionArg {
    /// Every interleaving (the default).
    None,
    /// Partial-order reduction: only one persistent set's steps where that hides no safety
    /// violation. Safety only; counterexamples are the shortest in the reduced graph.
    PartialOrder,
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
    #[arg(long, value_name = "N", value_parser = integer::<u32>, allow_hyphen_values = true)]
    pub max_depth: Option<u32>,
    /// Stop after this many unique states; 0 = no bound (overrides [check] max_states).
    #[arg(long, value_name = "N", value_parser = integer::<u64>, allow_hyphen_values = true)]
    pub max_states: Option<u64>,
    /// Stop after this long: seconds (90, 0.5) or a duration with a unit (90s, 5m, 1h30m); 0 = no
    /// bound (overrides [check] time_limit).
    #[arg(long, value_name = "DURATION", value_parser = units::parse_duration, allow_hyphen_values = true)]
    pub time_limit: Option<Duration>,
    /// Stop when the process's resident memory reaches SIZE (512MiB, 8GiB, or bytes), reporting
    /// what was found so far instead of being killed; 0 = no bound (overrides [check]
    /// max_memory).
    #[arg(long, value_name = "SIZE", value_parser = units::parse_size, allow_hyphen_values = true)]
    pub max_memory: Option<u64>,
    /// Seed of a random search (overrides [check] seed).
    #[arg(long, value_name = "S", value_parser = integer::<u64>, allow_hyphen_values = true)]
    pub seed: Option<u64>,
    /// Executions of a random search (overrides [check] runs).
    #[arg(long, value_name = "N", value_parser = integer::<u64>, allow_hyphen_values = true)]
    pub runs: Option<u64>,
    /// Most steps per execution of a random search (overrides [check] steps).
    #[arg(long, value_name = "N", value_parser = integer::<u32>, allow_hyphen_values = true)]
    pub steps: Option<u32>,
    /// How a random search chooses among enabled actions (overrides [check] scheduler).
    #[arg(long, value_enum)]
    pub scheduler: Option<SchedulerArg>,
    /// Liveness: which fairness the election's outcomes get (overrides [check] fairness). weak:
    /// a step that stays enabled is eventually taken. strong: zab's election outcomes that are
    /// possible again and again eventually happen (see below); other models are unaffected.
    #[arg(long, value_enum)]
    pub fairness: Option<FairnessArg>,
    /// Check only this property (repeatable; overrides [check] properties). The others are
    /// reported "not checked"; without a liveness property the search keeps no state graph,
    /// which is most of the memory and time of a liveness check.
    #[arg(long = "property", value_name = "NAME")]
    pub property: Vec<String>,
    /// Re-run only the K-th execution (from 0) of a random search.
    #[arg(long, value_name = "K", value_parser = integer::<u64>, allow_hyphen_values = true)]
    pub run: Option<u64>,
    /// Worker threads for breadth-first search; results do not depend on it (overrides [check]
    /// threads) [default: all cores].
    #[arg(short = 'j', long, value_name = "N", value_parser = integer::<usize>, allow_hyphen_values = true)]
    pub threads: Option<usize>,
    /// Keep exploring past violations, so that a complete space containing violating states is
    /// counted in full (overrides [check] full_space; --full-space=false turns it off).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub full_space: Option<bool>,
    /// Symmetry reduction: keep one state per class of states equal up to renaming clients
    /// (breadth-first only). Counts are of representatives; traces are ordinary runs; liveness is
    /// not checked (overrides [check] symmetry; --symmetry=false turns it off).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub symmetry: Option<bool>,
    /// Partial-order reduction (breadth-first only): from a state, take only the steps of one
    /// client's own persistent set where that hides no safety violation. Counts are of the
    /// reduced graph; liveness is not checked; a counterexample is the shortest in the reduced
    /// graph (overrides [check] reduction).
    #[arg(long, value_name = "KIND")]
    pub reduction: Option<ReductionArg>,
    /// Run the I-th of N jobs, counted from 1 (1/4, 2/4, 3/4, 4/4): for a random search a
    /// disjoint slice of its runs, for dfs a member of a swarm that tries actions in its own
    /// order (1/N in the model's order). Combine all N JSON results with `lockscope merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Write the JSON result to FILE ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write JUnit XML to FILE ("-" for stdout): one test case per (scenario, property), failed
    /// when it fails the run, with the counterexample's narrative.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Fail the run (exit 1) on any violated property, also one the scenario's [expect] does not
    /// name: for a CI gate that no unanticipated violation may pass.
    #[arg(long)]
    pub strict: bool,
    /// Folder for traces and reports: DIR/<scenario>/ holds each trace, its SVG diagram and the
    /// scenario's report.html; DIR/index.html links every scenario of the run.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_REPORT_DIR)]
    pub report: PathBuf,
    /// Print only the summary: no narratives, no progress.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A trace file written by `check`.
    pub trace: PathBuf,
}

#[derive(Debug, Args)]
pub struct ConformArgs {
    /// Lock trace files written by `check` (on one server, or on an ensemble of servers, which
    /// conform spawns with every link between the servers held by the harness).
    #[arg(required_unless_present = "random", conflicts_with = "random")]
    pub traces: Vec<PathBuf>,
    /// Model-based testing: replay --runs seeded random runs of this lock scenario's model (each
    /// to its end, past any violation) and compare every step, not just counterexamples.
    #[arg(long, value_name = "SCENARIO")]
    pub random: Option<PathBuf>,
    /// The seed of --random [default: the scenario's [check] seed].
    #[arg(long, value_name = "S", requires = "random", value_parser = integer::<u64>)]
    pub seed: Option<u64>,
    /// Start a ZooKeeper server (or, for a world of several servers, an ensemble) of its own on
    /// loopback and stop it at the end (the default): found through ZOOKEEPER_CLASSPATH or
    /// Debian's libzookeeper-java.
    #[arg(long, conflicts_with = "zookeeper")]
    pub spawn: bool,
    /// Use the ZooKeeper server at HOST:PORT instead (one server only); steps that crash the
    /// server cannot be realised on it.
    #[arg(long, value_name = "HOST:PORT")]
    pub zookeeper: Option<String>,
    /// Replay each trace N times, each in a fresh namespace (with --random: N random runs).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = integer::<u32>)]
    pub runs: u32,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
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
    #[arg(required_unless_present = "trace", conflicts_with = "trace")]
    pub scenario: Option<PathBuf>,
    /// Open a counterexample (a trace file `check` wrote) to step through it; its scenario is
    /// the one the trace embeds.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Scenario files or folders.
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
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
    /// Only the small sizes, for a quick look (seconds): lock N ≤ 3 clients, ZAB with 1 write and
    /// 1 crash; without the larger sizes and zk-4643's first violation (about 4 million states).
    #[arg(long)]
    pub quick: bool,
    /// Worker threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N", value_parser = integer::<usize>, allow_hyphen_values = true)]
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

#[derive(Debug, Args)]
pub struct CourseArgs {
    /// The book's folder, holding course.toml.
    #[arg(default_value = "docs/course")]
    pub book: PathBuf,
    /// Write the includes into DIR (emptied first) [default: BOOK/src/generated].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads for the searches; results do not depend on it [default: all cores].
    #[arg(short = 'j', long, value_name = "N", value_parser = integer::<usize>, allow_hyphen_values = true)]
    pub threads: Option<usize>,
}

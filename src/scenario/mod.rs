//! Scenario files: parse, validate, and hold the result as a [`Scenario`].
//!
//! The file format is a contract (docs/scenarios.md). Parsing happens in two stages,
//! as ripgrep's "low" and "high" arguments do: serde reads the TOML into [`raw`] structs that keep
//! the source position of every value that still needs checking, then validation turns them into a
//! [`Scenario`] whose values are all in range. Every problem names the file, line and column, the
//! key, what was expected and what was found; all problems of a file are reported together.

mod ensemble;
mod raw;
mod sides;
pub mod units;
mod wide;
mod wire;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lockscope_models::lock::{Recipe, Variant};
use lockscope_models::zab::{Election, LeaderWrite, ZabVariant};
use lockscope_models::Fairness;

use crate::search::{Reduction, Scheduler, Strategy};

pub use ensemble::{default_connections, transactions_needed, EnsembleSpec, Timing};
pub use sides::{Crashable, PartitionSides};

/// A validated scenario. It is also embedded, whole, in every trace file, so that a trace alone
/// rebuilds its world.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub model: ModelSpec,
    pub faults: Faults,
    /// A lock over an ensemble: when its sessions may expire. Written only when an assumption is
    /// set, so files and traces without it read as before.
    #[serde(default, skip_serializing_if = "Timing::is_default")]
    pub timing: Timing,
    pub check: CheckSpec,
    /// Property name → expected verdict. Properties not listed are checked and reported but do
    /// not decide the exit code.
    pub expect: BTreeMap<String, Expected>,
}

/// `[model]`: which protocol, which variant, how many of each actor.
///
/// The lock fields (`recipe` to `retry_after_expiry`) describe lock kinds; a zab scenario keeps
/// them at their defaults and has its own in `zab`. A lock world with more than one server has its
/// ensemble's in `ensemble`. Serialised, a spec has exactly the keys of its
/// kind's `[model]` table (see [`wire`]), so an embedded scenario reads like a scenario file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "wire::ModelWire", try_from = "wire::ModelWire")]
pub struct ModelSpec {
    pub kind: ModelKind,
    pub recipe: Recipe,
    pub variant: Variant,
    pub clients: u8,
    /// How many times each client acquires and releases.
    pub acquisitions: u8,
    pub retry_after_expiry: bool,
    pub servers: u8,
    /// Kind zab only.
    pub zab: Option<ZabSpec>,
    /// Kind lock with `servers` > 1 only: the ensemble that serves the lock.
    pub ensemble: Option<EnsembleSpec>,
}

/// `[model]` keys of kind zab besides `servers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZabSpec {
    /// Client writes injected in one execution.
    pub transactions: u8,
    /// The highest epoch a leader may propose.
    pub epochs: u8,
    pub variant: ZabVariant,
    pub election: Election,
    /// When the leader writes and acknowledges its own proposals.
    pub leader_write: LeaderWrite,
}

/// The model kinds lockscope checks today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    Lock,
    Zab,
}

/// Kinds the contract names that are not built yet: an error says so instead of "unknown".
pub const PLANNED_KINDS: &[&str] = &["lock-over-zab", "rwlock", "election", "barrier"];

/// `[faults]`: how many of each fault one execution may contain.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    pub message_loss: u32,
    /// Refused for every kind (TCP links do not duplicate or reorder; docs/faults.md): always 0
    /// and false, written by traces made before they were refused, and read back from them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub message_duplication: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reordering: bool,
    pub partitions: u32,
    pub crashes: u32,
    pub session_expiries: u8,
    pub client_pauses: u8,
    /// Zab and a lock over an ensemble: a partition never heals (no heal step). Written only when
    /// true, so files and
    /// traces of scenarios without it read as before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub permanent_partitions: bool,
    /// Zab only: the one split a partition may make; none means any split. Written only when
    /// set, as `permanent_partitions` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_sides: Option<PartitionSides>,
    /// Zab only: how many initLimit/syncLimit timeouts of a live peer one execution may hold (a
    /// slow disk, a GC pause, a lost tick). A budget, never a fairness obligation. Written only
    /// when not 0, so files and traces of scenarios without it read as before.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeouts: u32,
    /// A lock over an ensemble only: the servers that may crash; none means any. Written only
    /// when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crashable: Option<Crashable>,
    /// A lock over an ensemble only: how many clients may die (a crashed client takes no more
    /// steps; its session lives until the service expires it). Written only when not 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub client_crashes: u8,
    /// A lock over an ensemble only: ZOOKEEPER-710's order of events and no other (a client's
    /// connection breaks only while its server forwards its write, the client reconnects to
    /// another server, and the write reaches the leader after that). Written only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub late_forwards: bool,
}

/// Whether a count or size is zero, so that a field added to the format is written only when set.
fn is_zero<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl Faults {
    /// The budget of a fault kind, by its key in `[faults]`.
    pub fn budget(&self, kind: &str) -> u64 {
        match kind {
            "message_loss" => u64::from(self.message_loss),
            "partitions" => u64::from(self.partitions),
            "crashes" => u64::from(self.crashes),
            "session_expiries" => u64::from(self.session_expiries),
            "client_pauses" => u64::from(self.client_pauses),
            "client_crashes" => u64::from(self.client_crashes),
            "timeouts" => u64::from(self.timeouts),
            other => panic!("no fault kind {other:?}"),
        }
    }
}

/// `[check]`: how to search. 0 means "no bound" for the three bounds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub strategy: Strategy,
    pub max_depth: u32,
    /// The `u64` fields are written as strings above `i64::MAX`, which TOML cannot hold (see
    /// [`wide`]), so every value the command line accepts survives a trace and a report.
    #[serde(with = "wide")]
    pub max_states: u64,
    /// Zero: no bound. Written as whole seconds when it is whole (see [`units`]).
    #[serde(with = "units::duration")]
    pub time_limit: Duration,
    #[serde(with = "wide")]
    pub seed: u64,
    #[serde(with = "wide")]
    pub runs: u64,
    /// Bytes of resident memory at which the search stops, reporting what it found; 0: no
    /// bound. Written only when set, so traces without it read as before.
    #[serde(default, with = "units::size", skip_serializing_if = "is_zero")]
    pub max_memory: u64,
    pub steps: u32,
    /// Random only: how a run chooses among enabled actions.
    #[serde(default)]
    pub scheduler: Scheduler,
    /// Liveness: weak fairness for every task, or strong fairness for the tasks the model marks
    /// as strong-capable (ZAB: the election's outcomes; the lock models have none). Left out of
    /// a trace's scenario when weak, so traces that do not use it read as before.
    #[serde(default, skip_serializing_if = "is_weak")]
    pub fairness: Fairness,
    /// The properties to check, by name (`[check] properties`, `--property`); empty: every
    /// property. Written only when set, so traces without it read as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
    /// How the search runs rather than what it finds, so not written into traces (a trace is
    /// the same whatever they are): symmetry reduction and partial-order reduction (bfs only),
    /// exploring past violations to count a complete space, and worker threads (`None`: all
    /// cores).
    #[serde(skip)]
    pub symmetry: bool,
    #[serde(skip)]
    pub reduction: Reduction,
    #[serde(skip)]
    pub full_space: bool,
    #[serde(skip)]
    pub threads: Option<usize>,
}

/// Most worker threads (`threads`, `--threads`): far more than a machine has, and small enough
/// for the search's batch arithmetic.
pub const MAX_THREADS: usize = 1024;

fn is_weak(fairness: &Fairness) -> bool {
    *fairness == Fairness::Weak
}

impl Default for CheckSpec {
    fn default() -> Self {
        CheckSpec {
            strategy: Strategy::Bfs,
            max_depth: 0,
            max_states: 0,
            time_limit: Duration::ZERO,
            seed: 1,
            runs: 1000,
            max_memory: 0,
            steps: 200,
            scheduler: Scheduler::default(),
            fairness: Fairness::Weak,
            properties: Vec::new(),
            symmetry: false,
            reduction: Reduction::None,
            full_space: false,
            threads: None,
        }
    }
}

/// An expected verdict in `[expect]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    Holds,
    Violated,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::Holds => "holds",
            Expected::Violated => "violated",
        })
    }
}

/// One problem in a scenario file, located where possible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line and column.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

/// Every problem found in one file; displays as one `file:line:col: message` line per problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match problem.position {
                Some((line, column)) => write!(
                    f,
                    "{}:{line}:{column}: {}",
                    self.file.display(),
                    problem.message
                )?,
                None => write!(f, "{}: {}", self.file.display(), problem.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// The largest scenario file read: far beyond any real one, small enough that naming
/// `/dev/zero` or a disk image by mistake fails at once instead of filling the memory.
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;

/// Read a UTF-8 text file of at most `max` bytes; a longer one is refused, unread past the cap.
pub fn read_capped(path: &Path, max: u64) -> Result<String, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|err| err.to_string())?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| err.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "larger than {} MiB, more than a lockscope file holds",
            max >> 20
        ));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

impl Scenario {
    /// Read and validate a scenario file.
    pub fn load(file: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::load_selecting(file, None)
    }

    /// Read and validate a scenario file that will be checked with the command line's property
    /// selection `selected` (`--property`) instead of its own `[check] properties`: the names must
    /// be the model's, and `[expect]` may name only selected properties. The scenario returned
    /// keeps the file's own selection (the command line overrides it as it does other keys).
    pub fn load_selecting(
        file: &Path,
        selected: Option<&[String]>,
    ) -> Result<Scenario, ScenarioError> {
        let text = read_capped(file, MAX_SCENARIO_BYTES).map_err(|err| ScenarioError {
            file: file.to_path_buf(),
            problems: vec![Problem {
                position: None,
                message: format!("cannot read the scenario: {err}"),
            }],
        })?;
        Scenario::parse_selecting(&text, file, selected)
    }

    /// Parse and validate scenario text; `file` names it in errors and gives the default name.
    pub fn parse(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::parse_selecting(text, file, None)
    }

    /// [`Scenario::parse`], with the command line's property selection (see
    /// [`Scenario::load_selecting`]).
    pub fn parse_selecting(
        text: &str,
        file: &Path,
        selected: Option<&[String]>,
    ) -> Result<Scenario, ScenarioError> {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        raw::parse(text, &stem, selected).map_err(|problems| ScenarioError {
            file: file.to_path_buf(),
            problems,
        })
    }
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests;

//! The "low" form of a scenario: what serde reads from TOML, with source positions kept for every
//! value that validation may still reject.

use std::collections::BTreeMap;

use lockscope_models::lock::{Recipe, Variant};
use lockscope_models::zab::types::{MAX_EPOCHS, MAX_SERVERS, MAX_ZAB_TRANSACTIONS};
use lockscope_models::zab::{Election, LeaderWrite, ZabConfig, ZabVariant};
use lockscope_models::zookeeper::{ServerCode, MAX_CLIENTS, MAX_SEQ};
use lockscope_models::Fairness;
use serde::Deserialize;
use toml::Spanned;

use super::units::{DurationValue, SizeValue};
use super::wide::Wide;
use super::{
    line_column, CheckSpec, Expected, Faults, ModelKind, ModelSpec, PartitionSides, Problem,
    Scenario, ZabSpec, MAX_THREADS, PLANNED_KINDS,
};
use crate::registry;
use crate::search::{Reduction, Scheduler, Strategy};

mod ensemble;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<Spanned<String>>,
    description: Option<String>,
    model: Option<RawModel>,
    #[serde(default)]
    faults: RawFaults,
    #[serde(default)]
    timing: ensemble::RawTiming,
    #[serde(default)]
    check: RawCheck,
    #[serde(default)]
    expect: BTreeMap<Spanned<String>, Expected>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    /// Optional here so that a wrongly typed `kind`, blanked to read on (see
    /// [`deserialize_all`]), does not hide the problems after it; validation requires it.
    kind: Option<Spanned<String>>,
    recipe: Option<Spanned<String>>,
    variant: Option<Spanned<String>>,
    clients: Option<Spanned<u32>>,
    acquisitions: Option<Spanned<u32>>,
    retry_after_expiry: Option<bool>,
    servers: Option<Spanned<u32>>,
    zookeeper: Option<Spanned<String>>,
    connections: Option<Spanned<Vec<String>>>,
    sessions_at_start: Option<Spanned<bool>>,
    transactions: Option<Spanned<u32>>,
    epochs: Option<Spanned<u32>>,
    election: Option<Spanned<String>>,
    leader_write: Option<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaults {
    message_loss: Option<Spanned<u32>>,
    message_duplication: Option<Spanned<u32>>,
    reordering: Option<Spanned<bool>>,
    partitions: Option<Spanned<u32>>,
    crashes: Option<Spanned<u32>>,
    session_expiries: Option<Spanned<u8>>,
    client_pauses: Option<Spanned<u8>>,
    permanent_partitions: Option<Spanned<bool>>,
    partition_sides: Option<Spanned<Vec<Vec<String>>>>,
    timeouts: Option<Spanned<u32>>,
    crashable: Option<Spanned<Vec<String>>>,
    client_crashes: Option<Spanned<u8>>,
    late_forwards: Option<Spanned<bool>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    strategy: Option<Spanned<String>>,
    max_depth: Option<u32>,
    max_states: Option<Wide>,
    time_limit: Option<DurationValue>,
    max_memory: Option<SizeValue>,
    seed: Option<Wide>,
    runs: Option<Spanned<Wide>>,
    steps: Option<Spanned<u32>>,
    scheduler: Option<Spanned<String>>,
    fairness: Option<Spanned<String>>,
    properties: Option<Spanned<Vec<Spanned<String>>>>,
    symmetry: Option<bool>,
    reduction: Option<Spanned<String>>,
    threads: Option<Spanned<u32>>,
    full_space: Option<bool>,
}

/// Collects problems with their positions in one source text.
struct Problems<'a> {
    text: &'a str,
    found: Vec<Problem>,
}

impl Problems<'_> {
    fn at<T>(&mut self, value: &Spanned<T>, message: String) {
        let position = line_column(self.text, value.span().start);
        self.found.push(Problem {
            position: Some(position),
            message,
        });
    }

    fn unplaced(&mut self, message: String) {
        self.found.push(Problem {
            position: None,
            message,
        });
    }
}

fn one_of<'n>(names: impl IntoIterator<Item = &'n str>) -> String {
    names.into_iter().collect::<Vec<_>>().join(", ")
}

/// A scenario name names its report folder: a letter or digit first (so never "." or ".."), then
/// letters, digits, '-', '_' or '.'.
fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Parse and validate; every problem found is returned.
pub(super) fn parse(
    text: &str,
    stem: &str,
    selected: Option<&[String]>,
) -> Result<Scenario, Vec<Problem>> {
    let raw = deserialize_all(text)?;
    let mut problems = Problems {
        text,
        found: Vec::new(),
    };
    let scenario = validate(raw, stem, selected, &mut problems);
    match scenario {
        Some(scenario) if problems.found.is_empty() => Ok(scenario),
        _ => Err(problems.found),
    }
}

/// Most wrongly typed values and unknown keys reported from one file.
const MAX_TYPE_ERRORS: usize = 20;

/// Read the raw scenario, reporting every wrongly typed value and every unknown key, not only
/// the first: serde stops at the first error, so the lines holding a bad value or key are blanked
/// (spaces of the same length, so every later position stays right) and the text is read again.
/// Every key is optional at this stage, so blanking one causes no error of its own; an unknown
/// table is blanked with its keys. A syntax error ends the collection.
fn deserialize_all(text: &str) -> Result<RawScenario, Vec<Problem>> {
    let mut current = text.to_string();
    let mut problems = Vec::new();
    loop {
        let err = match toml::from_str::<RawScenario>(&current) {
            Ok(raw) if problems.is_empty() => return Ok(raw),
            Ok(_) => return Err(problems),
            Err(err) => err,
        };
        let message = err.message().trim().replace('\n', "; ");
        let value_error =
            message.starts_with("invalid type") || message.starts_with("invalid value");
        let span = err.span();
        let unknown_key = message.starts_with("unknown field") && span.is_some();
        if !problems.is_empty() && !value_error && !unknown_key {
            return Err(problems);
        }
        problems.push(Problem {
            position: span.as_ref().map(|span| line_column(text, span.start)),
            message: match &span {
                Some(span) if value_error => explain_type_error(text, span.start, &message),
                _ => message,
            },
        });
        match span {
            Some(span) if (value_error || unknown_key) && problems.len() < MAX_TYPE_ERRORS => {
                if line_at(text, span.start).trim_start().starts_with('[') {
                    // An unknown table: its keys go too, or they would join the table above.
                    blank_lines(&mut current, span.start..table_end(text, span.end))
                } else {
                    blank_lines(&mut current, span)
                }
            }
            _ => return Err(problems),
        }
    }
}

/// Where the table whose header ends at `offset` ends: the start of the next header line, or the
/// end of the text.
fn table_end(text: &str, offset: usize) -> usize {
    let mut start = text[offset.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| offset + i + 1);
    while start < text.len() {
        let line = line_at(text, start);
        if line.trim_start().starts_with('[') {
            return start.saturating_sub(1);
        }
        start += line.len() + 1;
    }
    text.len()
}

/// The line of `text` that holds byte `offset`.
fn line_at(text: &str, offset: usize) -> &str {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    text[start..].lines().next().unwrap_or("")
}

/// Replace the lines that `span` touches with spaces, keeping their line breaks.
fn blank_lines(text: &mut String, span: std::ops::Range<usize>) {
    let start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let end = text[span.end.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i);
    let blanked: String = text[start..end]
        .chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect();
    text.replace_range(start..end, &blanked);
}

/// serde's `invalid value: integer `99999999999`, expected u8` in the file's words: the key (its
/// table and name, read from the text around the value), the range, and the value found.
fn explain_type_error(text: &str, offset: usize, message: &str) -> String {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let key = line
        .split_once('=')
        .map(|(key, _)| key.trim().trim_matches('"').to_string())
        .filter(|key| !key.is_empty() && !key.starts_with('['));
    let table = text[..line_start].lines().rev().find_map(|l| {
        let l = l.trim();
        l.strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
            .map(|t| t.trim().to_string())
    });
    let key = match (table, key) {
        (Some(table), Some(key)) => format!("{table}.{key}: "),
        (None, Some(key)) => format!("{key}: "),
        _ => String::new(),
    };
    let Some((found, expected)) = message
        .strip_prefix("invalid value: ")
        .or_else(|| message.strip_prefix("invalid type: "))
        .and_then(|rest| rest.split_once(", expected "))
    else {
        return format!("{key}{message}");
    };
    let expected = match expected {
        "u8" => format!("an integer from 0 to {}", u8::MAX),
        "u16" => format!("an integer from 0 to {}", u16::MAX),
        "u32" => format!("an integer from 0 to {}", u32::MAX),
        "u64" | "usize" => format!("an integer from 0 to {}", u64::MAX),
        "a boolean" => "true or false".to_string(),
        other => other.to_string(),
    };
    format!("{key}expected {expected}, found {}", found.replace('`', ""))
}

fn validate(
    raw: RawScenario,
    stem: &str,
    command_line: Option<&[String]>,
    problems: &mut Problems,
) -> Option<Scenario> {
    let name = match &raw.name {
        Some(name) => {
            if !valid_name(name.get_ref()) {
                problems.at(name, format!("name: expected a letter or digit, then letters, digits, '-', '_' or '.'; found {:?}", name.get_ref()));
            }
            name.get_ref().clone()
        }
        None => {
            if !valid_name(stem) {
                problems.unplaced(format!("name: the file name {stem:?} is no valid scenario name (it names the report folder); set `name`"));
            }
            stem.to_string()
        }
    };
    let Some(raw_model) = raw.model else {
        problems.unplaced("[model]: missing; expected a table with at least `kind`".into());
        return None;
    };
    let before_model = problems.found.len();
    let servers_key = raw_model.servers.clone();
    let model = validate_model(raw_model, problems)?;
    // Counts out of range were reported above and stand clamped in `model`: a count computed
    // from them would be wrong (1000 clients "need 232 sequence numbers").
    let model_in_range = problems.found.len() == before_model;
    let faults = validate_faults(raw.faults, &model, problems);
    let needed = registry::lock_config(&model, Some(&faults)).sequence_numbers_needed();
    if model.kind == ModelKind::Lock && model_in_range && needed > MAX_SEQ {
        problems.unplaced(format!(
            "model: clients × acquisitions (+ one per expiry when retrying) needs {needed} sequence numbers; at most {MAX_SEQ} are supported"
        ));
    }
    if model_in_range {
        ensemble::check_transactions(&model, &faults, servers_key.as_ref(), problems);
    }
    let timing = ensemble::validate_timing(raw.timing, model.ensemble.is_some(), problems);
    let mut raw_check = raw.check;
    let listed = raw_check.properties.take();
    let mut check = validate_check(raw_check, problems);
    let known = registry::property_names(&model);
    check.properties = validate_properties(listed, &known, problems);
    let selection = validate_selection(command_line, &check.properties, &known, problems);
    let mut expect = BTreeMap::new();
    for (property, verdict) in raw.expect {
        if let Some((selected, source)) = selection
            .as_ref()
            .filter(|(selected, _)| !selected.contains(property.get_ref()))
        {
            let message = format!(
                "expect.{}: not checked, so no verdict can be expected of it: {source} selects {}",
                property.get_ref(),
                one_of(selected.iter().map(String::as_str))
            );
            problems.at(&property, message);
        } else if known.contains(&property.get_ref().as_str()) {
            expect.insert(property.into_inner(), verdict);
        } else {
            let message = format!(
                "expect.{}: unknown property; known: {}",
                property.get_ref(),
                one_of(known.iter().copied())
            );
            problems.at(&property, message);
        }
    }
    Some(Scenario {
        name,
        description: raw.description.unwrap_or_default(),
        model,
        faults,
        timing,
        check,
        expect,
    })
}

fn validate_model(raw: RawModel, problems: &mut Problems) -> Option<ModelSpec> {
    let Some(kind) = &raw.kind else {
        problems.unplaced(format!(
            "model.kind: missing; expected one of lock, zab, {}",
            one_of(PLANNED_KINDS.iter().copied())
        ));
        return None;
    };
    match kind.get_ref().as_str() {
        "lock" => {}
        "zab" => return Some(validate_zab_model(raw, problems)),
        planned if PLANNED_KINDS.contains(&planned) => {
            let hint = if planned == "lock-over-zab" {
                " (a lock over an ensemble is kind = \"lock\" with servers = 3)"
            } else {
                ""
            };
            problems.at(
                kind,
                format!(
                    "model.kind: {planned:?} is not implemented yet; implemented: lock, zab{hint}"
                ),
            );
            return None;
        }
        other => {
            problems.at(
                kind,
                format!(
                    "model.kind: expected one of lock, zab, {}; found {other:?}",
                    one_of(PLANNED_KINDS.iter().copied())
                ),
            );
            return None;
        }
    };
    let kind = ModelKind::Lock;
    let zab_only = [
        ("transactions", raw.transactions.as_ref().map(|v| v.span())),
        ("leader_write", raw.leader_write.as_ref().map(|v| v.span())),
    ];
    for (key, span) in zab_only {
        if let Some(span) = span {
            problems.at(
                &Spanned::new(span, ()),
                format!("model.{key}: applies to model kind zab only"),
            );
        }
    }
    let recipe = match &raw.recipe {
        None => {
            problems.unplaced(format!(
                "model.recipe: missing; expected one of {}",
                one_of(Recipe::ALL.iter().map(|r| r.name()))
            ));
            None
        }
        Some(recipe) => match Recipe::ALL
            .into_iter()
            .find(|r| r.name() == recipe.get_ref())
        {
            Some(found) => Some(found),
            None => {
                let known = one_of(Recipe::ALL.iter().map(|r| r.name()));
                problems.at(
                    recipe,
                    format!(
                        "model.recipe: expected one of {known}; found {:?}",
                        recipe.get_ref()
                    ),
                );
                None
            }
        },
    };
    let variant = match &raw.variant {
        None => Variant::Fixed,
        Some(variant) => match Variant::ALL
            .into_iter()
            .find(|v| v.name() == variant.get_ref())
        {
            Some(found) => {
                if let Some(recipe) = recipe.filter(|r| !found.recipes().contains(r)) {
                    let recipes = one_of(found.recipes().iter().map(|r| r.name()));
                    problems.at(
                        variant,
                        format!(
                            "model.variant: {} applies to recipes {recipes}, not to {}",
                            found.name(),
                            recipe.name()
                        ),
                    );
                }
                found
            }
            None if ServerCode::named(variant.get_ref()).is_some() => {
                problems.at(
                    variant,
                    format!(
                        "model.variant: {:?} names the servers' code, not a recipe's flaw: the servers' code is model.zookeeper, on an ensemble (servers = 3 to 5)",
                        variant.get_ref()
                    ),
                );
                Variant::Fixed
            }
            None => {
                let known = one_of(Variant::ALL.iter().map(|v| v.name()));
                problems.at(
                    variant,
                    format!(
                        "model.variant: expected one of {known}; found {:?}",
                        variant.get_ref()
                    ),
                );
                Variant::Fixed
            }
        },
    };
    let clients = match &raw.clients {
        None => {
            problems.unplaced(format!(
                "model.clients: missing; expected a number from 1 to {MAX_CLIENTS}"
            ));
            None
        }
        Some(clients) => {
            let in_range = (1..=MAX_CLIENTS).contains(&(*clients.get_ref() as usize));
            if !in_range {
                problems.at(
                    clients,
                    format!(
                        "model.clients: expected a number from 1 to {MAX_CLIENTS}, found {}",
                        clients.get_ref()
                    ),
                );
            }
            Some(*clients.get_ref() as u8).filter(|_| in_range)
        }
    };
    let acquisitions = match &raw.acquisitions {
        None => 1,
        Some(acquisitions) => match *acquisitions.get_ref() {
            n @ 0..=8 => n as u8,
            n => {
                problems.at(
                    acquisitions,
                    format!("model.acquisitions: expected 0 (forever) to 8, found {n}"),
                );
                1
            }
        },
    };
    let servers = ensemble::servers(&raw.servers, problems);
    let ensemble = ensemble::validate_model(&raw, servers, clients, problems);
    Some(ModelSpec {
        kind,
        recipe: recipe?,
        variant,
        clients: raw.clients.as_ref().map_or(0, |c| *c.get_ref() as u8),
        acquisitions,
        retry_after_expiry: raw.retry_after_expiry.unwrap_or(false),
        servers,
        zab: None,
        ensemble,
    })
}

/// `[model]` of kind zab: `servers`, `transactions`, `epochs`, `variant`, `election`,
/// `leader_write`.
fn validate_zab_model(raw: RawModel, problems: &mut Problems) -> ModelSpec {
    let lock_only = [
        ("recipe", raw.recipe.as_ref().map(|v| v.span())),
        ("clients", raw.clients.as_ref().map(|v| v.span())),
        ("acquisitions", raw.acquisitions.as_ref().map(|v| v.span())),
    ];
    for (key, span) in lock_only {
        if let Some(span) = span {
            problems.at(
                &Spanned::new(span, ()),
                format!("model.{key}: applies to lock kinds only, not to zab"),
            );
        }
    }
    if raw.retry_after_expiry.is_some() {
        problems
            .unplaced("model.retry_after_expiry: applies to lock kinds only, not to zab".into());
    }
    let mut number =
        |value: &Option<Spanned<u32>>, key: &str, range: (u32, u32), default: u32| match value {
            None => default as u8,
            Some(v) if (range.0..=range.1).contains(v.get_ref()) => *v.get_ref() as u8,
            Some(v) => {
                problems.at(
                    v,
                    format!(
                        "model.{key}: expected {} to {}, found {}",
                        range.0,
                        range.1,
                        v.get_ref()
                    ),
                );
                default as u8
            }
        };
    let servers = number(&raw.servers, "servers", (1, MAX_SERVERS as u32), 3);
    let transactions = number(
        &raw.transactions,
        "transactions",
        (0, MAX_ZAB_TRANSACTIONS as u32),
        2,
    );
    let variant = match &raw.variant {
        None => ZabVariant::Fixed,
        Some(variant) => match ZabVariant::ALL
            .into_iter()
            .find(|v| v.name() == variant.get_ref())
        {
            Some(found) => found,
            None => {
                let known = one_of(ZabVariant::ALL.iter().map(|v| v.name()));
                problems.at(
                    variant,
                    format!(
                        "model.variant: expected one of {known} for kind zab; found {:?}",
                        variant.get_ref()
                    ),
                );
                ZabVariant::Fixed
            }
        },
    };
    let (epochs, election) = epochs_and_election(&raw.epochs, &raw.election, problems);
    let leader_write = match &raw.leader_write {
        None => LeaderWrite::default(),
        Some(raw_value) => LeaderWrite::ALL
            .into_iter()
            .find(|w| w.name() == raw_value.get_ref())
            .unwrap_or_else(|| {
                let known = one_of(LeaderWrite::ALL.iter().map(|w| w.name()));
                problems.at(
                    raw_value,
                    format!(
                        "model.leader_write: expected one of {known}; found {:?}",
                        raw_value.get_ref()
                    ),
                );
                LeaderWrite::default()
            }),
    };
    ModelSpec {
        servers,
        zab: Some(ZabSpec {
            transactions,
            epochs,
            variant,
            election,
            leader_write,
        }),
        ..ModelSpec::zab_defaults()
    }
}

/// `model.epochs` and `model.election`, as kind zab reads them and a lock over an ensemble too:
/// epochs 0 (no bound) to the most the model holds, 2 by default; the oracle election by default;
/// no bound only with the oracle.
fn epochs_and_election(
    raw_epochs: &Option<Spanned<u32>>,
    raw_election: &Option<Spanned<String>>,
    problems: &mut Problems,
) -> (u8, Election) {
    let epochs = match raw_epochs {
        None => 2,
        Some(v) if *v.get_ref() <= MAX_EPOCHS as u32 => *v.get_ref() as u8,
        Some(v) => {
            problems.at(
                v,
                format!(
                    "model.epochs: expected 0 to {MAX_EPOCHS}, found {}",
                    v.get_ref()
                ),
            );
            2
        }
    };
    let election = match raw_election {
        None => Election::Oracle,
        Some(election) => match election.get_ref().as_str() {
            "oracle" => Election::Oracle,
            "fle" => Election::Fle,
            other => {
                problems.at(
                    election,
                    format!("model.election: expected one of oracle, fle; found {other:?}"),
                );
                Election::Oracle
            }
        },
    };
    if let (Some(raw_epochs), Err(message)) = (
        raw_epochs,
        ZabConfig::check_epochs_with_election(epochs, election),
    ) {
        problems.at(raw_epochs, message);
    }
    (epochs, election)
}

fn validate_faults(raw: RawFaults, model: &ModelSpec, problems: &mut Problems) -> Faults {
    if model.kind == ModelKind::Zab {
        return validate_zab_faults(raw, model.servers, problems);
    }
    let mut budget = |key: &str, value: &Option<Spanned<u32>>, max: u32, unit: &str| match value {
        Some(value) if *value.get_ref() > max => {
            problems.at(
                value,
                format!(
                    "faults.{key}: expected 0 to {max} {unit}, found {}",
                    value.get_ref()
                ),
            );
            0
        }
        Some(value) => *value.get_ref(),
        None => 0,
    };
    let message_loss = budget("message_loss", &raw.message_loss, 8, "connection losses");
    let partitions = budget("partitions", &raw.partitions, 8, "partitions");
    let crashes = budget("crashes", &raw.crashes, 8, "server crashes");
    refuse_tcp_faults(&raw, problems);
    let small = |value: &Option<Spanned<u8>>| value.as_ref().map_or(0, |v| *v.get_ref());
    let faults = Faults {
        message_loss,
        partitions,
        crashes,
        session_expiries: small(&raw.session_expiries),
        client_pauses: small(&raw.client_pauses),
        ..Faults::default()
    };
    ensemble::validate_faults(&raw, model, faults, problems)
}

/// `faults.message_duplication` and `faults.reordering` of a lock kind: a ZooKeeper session runs
/// over one TCP connection, which neither duplicates nor reorders, and the client library turns a
/// reply it does not expect into a connection loss (docs/zookeeper.md). (0 and false are accepted:
/// traces written before these faults went say so.)
fn refuse_tcp_faults(raw: &RawFaults, problems: &mut Problems) {
    if let Some(value) = raw
        .message_duplication
        .as_ref()
        .filter(|v| *v.get_ref() != 0)
    {
        problems.at(
            value,
            format!(
                "faults.message_duplication: not a fault of model kind lock: ZooKeeper client links are TCP: nothing is duplicated, and a reply the client library does not expect closes the connection (a connection loss: use faults.message_loss); expected 0, found {}",
                value.get_ref()
            ),
        );
    }
    if let Some(reordering) = raw.reordering.as_ref().filter(|v| *v.get_ref()) {
        problems.at(
            reordering,
            "faults.reordering: not a fault of model kind lock: ZooKeeper client links are TCP: a session's replies and watch events arrive in the order the server sent them (a client whose event thread races its caller thread is model.variant = \"unsynchronised-event-thread\"); expected false".into(),
        );
    }
}

/// `[faults]` of kind zab: crashes, partitions and spurious timeouts, up to 8 each, and which
/// split a partition makes. On TCP links a lost message is a closed connection, which crashes and partitions
/// already cause; the other faults do not apply.
fn validate_zab_faults(raw: RawFaults, servers: u8, problems: &mut Problems) -> Faults {
    let unsupported = [
        ("message_loss", &raw.message_loss),
        ("message_duplication", &raw.message_duplication),
    ];
    for (key, value) in unsupported {
        if let Some(value) = value.as_ref().filter(|v| *v.get_ref() != 0) {
            problems.at(
                value,
                format!(
                    "faults.{key}: not supported by model kind zab (its links are TCP connections, lost whole by crashes and partitions); expected 0, found {}",
                    value.get_ref()
                ),
            );
        }
    }
    for (key, value) in [
        ("session_expiries", &raw.session_expiries),
        ("client_pauses", &raw.client_pauses),
        ("client_crashes", &raw.client_crashes),
    ] {
        if let Some(value) = value.as_ref().filter(|v| *v.get_ref() != 0) {
            problems.at(
                value,
                format!(
                    "faults.{key}: applies to lock kinds only; expected 0, found {}",
                    value.get_ref()
                ),
            );
        }
    }
    if let Some(crashable) = &raw.crashable {
        problems.at(
            crashable,
            "faults.crashable: applies to a lock over an ensemble only (kind lock, servers = 3 to 5)".into(),
        );
    }
    if let Some(late) = raw.late_forwards.as_ref().filter(|v| *v.get_ref()) {
        problems.at(
            late,
            "faults.late_forwards: applies to a lock over an ensemble only (kind lock, servers = 3 to 5)".into(),
        );
    }
    if let Some(reordering) = raw.reordering.as_ref().filter(|v| *v.get_ref()) {
        problems.at(
            reordering,
            "faults.reordering: not supported by model kind zab (links are FIFO); expected false"
                .into(),
        );
    }
    let mut budget = |value: &Option<Spanned<u32>>, key: &str| match value {
        Some(v) if *v.get_ref() > 8 => {
            problems.at(
                v,
                format!("faults.{key}: expected 0 to 8, found {}", v.get_ref()),
            );
            0
        }
        Some(v) => *v.get_ref(),
        None => 0,
    };
    let partitions = budget(&raw.partitions, "partitions");
    let crashes = budget(&raw.crashes, "crashes");
    let timeouts = budget(&raw.timeouts, "timeouts");
    let permanent_partitions =
        permanent_partitions(raw.permanent_partitions.as_ref(), partitions, problems);
    let partition_sides = raw
        .partition_sides
        .and_then(|sides| validate_partition_sides(&sides, servers, partitions, problems));
    Faults {
        partitions,
        crashes,
        permanent_partitions,
        partition_sides,
        timeouts,
        ..Faults::default()
    }
}

/// `faults.permanent_partitions` of a world with ZAB's partitions (kind zab, a lock over an
/// ensemble): a partition that never heals needs a partition.
fn permanent_partitions(
    raw: Option<&Spanned<bool>>,
    partitions: u32,
    problems: &mut Problems,
) -> bool {
    match raw {
        Some(permanent) if *permanent.get_ref() && partitions == 0 => {
            problems.at(
                permanent,
                "faults.permanent_partitions: a partition that never heals needs faults.partitions of at least 1; found 0".into(),
            );
            false
        }
        Some(permanent) => *permanent.get_ref(),
        None => false,
    }
}

/// `faults.partition_sides`: two groups of server names that split this ensemble, for a
/// scenario that has a partition to split it with.
fn validate_partition_sides(
    raw: &Spanned<Vec<Vec<String>>>,
    servers: u8,
    partitions: u32,
    problems: &mut Problems,
) -> Option<PartitionSides> {
    if partitions == 0 {
        problems.at(
            raw,
            "faults.partition_sides: names the split of a partition, so it needs faults.partitions of at least 1; found 0".into(),
        );
        return None;
    }
    let checked = PartitionSides::try_from(raw.get_ref().clone()).and_then(|sides| {
        ZabConfig::check_partition_sides(servers, sides.0)?;
        Ok(sides)
    });
    checked.map_err(|message| problems.at(raw, message)).ok()
}

/// `[check] properties`: names of the model's properties, at least one; each listed once.
fn validate_properties(
    listed: Option<Spanned<Vec<Spanned<String>>>>,
    known: &[&str],
    problems: &mut Problems,
) -> Vec<String> {
    let Some(listed) = listed else {
        return Vec::new();
    };
    if listed.get_ref().is_empty() {
        problems.at(&listed, "check.properties: expected at least one property name (leave the key out to check every property)".into());
    }
    let mut names: Vec<String> = Vec::new();
    for name in listed.into_inner() {
        if !known.contains(&name.get_ref().as_str()) {
            let message = format!(
                "check.properties: unknown property {:?}; known: {}",
                name.get_ref(),
                one_of(known.iter().copied())
            );
            problems.at(&name, message);
        } else if !names.contains(name.get_ref()) {
            names.push(name.into_inner());
        }
    }
    names
}

/// The selection a run checks and where it comes from: the command line's (`--property`, whose
/// names must be the model's) over the file's; `None` when every property is checked.
fn validate_selection(
    command_line: Option<&[String]>,
    from_file: &[String],
    known: &[&str],
    problems: &mut Problems,
) -> Option<(Vec<String>, &'static str)> {
    match command_line {
        Some(names) => {
            for name in names.iter().filter(|n| !known.contains(&n.as_str())) {
                problems.unplaced(format!(
                    "--property {name}: unknown property of this scenario's model; known: {}",
                    one_of(known.iter().copied())
                ));
            }
            Some((names.to_vec(), "--property"))
        }
        None if from_file.is_empty() => None,
        None => Some((from_file.to_vec(), "[check] properties")),
    }
}

fn validate_check(raw: RawCheck, problems: &mut Problems) -> CheckSpec {
    let defaults = CheckSpec::default();
    let strategy = match &raw.strategy {
        None => defaults.strategy,
        Some(strategy) => match strategy.get_ref().as_str() {
            "bfs" => Strategy::Bfs,
            "dfs" => Strategy::Dfs,
            "random" => Strategy::Random,
            other => {
                problems.at(
                    strategy,
                    format!("check.strategy: expected one of bfs, dfs, random; found {other:?}"),
                );
                defaults.strategy
            }
        },
    };
    let at_least_one = |value: &Option<Spanned<u64>>,
                        key: &str,
                        default: u64,
                        problems: &mut Problems| match value {
        Some(v) if *v.get_ref() == 0 => {
            problems.at(v, format!("check.{key}: expected at least 1, found 0"));
            default
        }
        Some(v) => *v.get_ref(),
        None => default,
    };
    let scheduler = match &raw.scheduler {
        None => defaults.scheduler,
        Some(scheduler) => match scheduler.get_ref().as_str() {
            "uniform" => Scheduler::Uniform,
            "pct" => Scheduler::Pct,
            "fault-biased" => Scheduler::FaultBiased,
            "swarm" => Scheduler::Swarm,
            other => {
                problems.at(scheduler, format!("check.scheduler: expected one of swarm, uniform, pct, fault-biased; found {other:?}"));
                defaults.scheduler
            }
        },
    };
    let reduction = match &raw.reduction {
        None => defaults.reduction,
        Some(reduction) => match reduction.get_ref().as_str() {
            "none" => Reduction::None,
            "partial-order" => Reduction::PartialOrder,
            other => {
                problems.at(
                    reduction,
                    format!("check.reduction: expected none or partial-order; found {other:?}"),
                );
                defaults.reduction
            }
        },
    };
    let fairness = match &raw.fairness {
        None => defaults.fairness,
        Some(fairness) => match fairness.get_ref().as_str() {
            "weak" => Fairness::Weak,
            "strong" => Fairness::Strong,
            other => {
                problems.at(
                    fairness,
                    format!("check.fairness: expected one of weak, strong; found {other:?}"),
                );
                defaults.fairness
            }
        },
    };
    let runs_wide = raw
        .runs
        .as_ref()
        .map(|r| Spanned::new(r.span(), r.get_ref().0));
    let runs = at_least_one(&runs_wide, "runs", defaults.runs, problems);
    let steps_wide = raw
        .steps
        .as_ref()
        .map(|s| Spanned::new(s.span(), u64::from(*s.get_ref())));
    let steps = at_least_one(&steps_wide, "steps", u64::from(defaults.steps), problems) as u32;
    let threads = raw.threads.and_then(|threads| {
        let n = *threads.get_ref() as usize;
        if (1..=MAX_THREADS).contains(&n) {
            Some(n)
        } else {
            problems.at(
                &threads,
                format!("check.threads: expected 1 to {MAX_THREADS}, found {n}"),
            );
            None
        }
    });
    CheckSpec {
        strategy,
        max_depth: raw.max_depth.unwrap_or(defaults.max_depth),
        max_states: raw.max_states.map_or(defaults.max_states, |v| v.0),
        time_limit: raw.time_limit.map_or(defaults.time_limit, |v| v.0),
        max_memory: raw.max_memory.map_or(defaults.max_memory, |v| v.0),
        seed: raw.seed.map_or(defaults.seed, |v| v.0),
        runs,
        steps,
        scheduler,
        fairness,
        properties: Vec::new(),
        symmetry: raw.symmetry.unwrap_or(defaults.symmetry),
        reduction,
        full_space: raw.full_space.unwrap_or(defaults.full_space),
        threads,
    }
}

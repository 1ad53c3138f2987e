//! Validation of a lock over an ensemble (`[model] servers` 3 to 5): its `[model]` keys, the
//! server faults it reads as kind zab's, `[faults] crashable` and `client_crashes`, `[timing]`;
//! and the refusal of every one of them in a lock world with one server.

use lockscope_models::zab::types::{all_servers, set_name, Sid};
use lockscope_models::zookeeper::ServerCode;
use serde::Deserialize;
use toml::Spanned;

use super::super::ensemble::{
    default_connections, transactions_needed, DEFAULT_EPOCHS, MAX_ENSEMBLE_TRANSACTIONS,
};
use super::super::sides::{server_id, server_name};
use super::super::{Crashable, EnsembleSpec, Faults, ModelSpec, Timing};
use super::{
    epochs_and_election, one_of, permanent_partitions, validate_partition_sides, Problems,
    RawFaults, RawModel,
};

/// The largest ensemble a lock world runs on, and the smallest: with 2 servers a quorum is both,
/// so any crash stops the service.
const SERVERS: std::ops::RangeInclusive<u32> = 3..=5;

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTiming {
    expiry_needs_silence: Option<Spanned<bool>>,
    disconnect_before_expiry: Option<Spanned<bool>>,
}

/// `model.servers` of a lock: 1 (the single atomic server) or an ensemble of 3 to 5. A count out of
/// range is reported and stands in as the nearest valid one, so that the keys after it are
/// checked against a world the file could have meant.
pub(super) fn servers(raw: &Option<Spanned<u32>>, problems: &mut Problems) -> u8 {
    let Some(servers) = raw else { return 1 };
    let n = *servers.get_ref();
    if n == 1 || SERVERS.contains(&n) {
        return n as u8;
    }
    let why = if n == 2 {
        " (with 2, a quorum is both servers and any crash stops the service)"
    } else {
        ""
    };
    problems.at(
        servers,
        format!(
            "model.servers: expected 1 (one atomic server) or {} to {} (an ensemble) for model kind lock{why}; found {n}",
            SERVERS.start(),
            SERVERS.end()
        ),
    );
    match n {
        0 => 1,
        n => n.clamp(*SERVERS.start(), *SERVERS.end()) as u8,
    }
}

/// Where a key meant for an ensemble is reported in a lock world with one server.
fn refuse(problems: &mut Problems, key: &str, span: Option<std::ops::Range<usize>>) {
    if let Some(span) = span {
        problems.at(
            &Spanned::new(span, ()),
            format!(
                "{key}: applies to an ensemble (servers = 3 to 5); this lock world has 1 server"
            ),
        );
    }
}

/// The ensemble's `[model]` keys, or their refusal with one server (`None`).
pub(super) fn validate_model(
    raw: &RawModel,
    servers: u8,
    clients: Option<u8>,
    problems: &mut Problems,
) -> Option<EnsembleSpec> {
    if servers == 1 {
        let keys = [
            ("zookeeper", raw.zookeeper.as_ref().map(|v| v.span())),
            ("connections", raw.connections.as_ref().map(|v| v.span())),
            (
                "sessions_at_start",
                raw.sessions_at_start.as_ref().map(|v| v.span()),
            ),
            ("epochs", raw.epochs.as_ref().map(|v| v.span())),
            ("election", raw.election.as_ref().map(|v| v.span())),
        ];
        for (key, span) in keys {
            refuse(problems, &format!("model.{key}"), span);
        }
        return None;
    }
    if let Some(acquisitions) = raw.acquisitions.as_ref().filter(|a| *a.get_ref() == 0) {
        problems.at(
            acquisitions,
            format!("model.acquisitions: 0 (forever) is not supported on an ensemble: its log holds at most {MAX_ENSEMBLE_TRANSACTIONS} transactions; expected 1 to 8"),
        );
    }
    let zookeeper = match &raw.zookeeper {
        None => ServerCode::default(),
        Some(name) => ServerCode::named(name.get_ref()).unwrap_or_else(|| {
            let known = one_of(ServerCode::all().map(ServerCode::name));
            problems.at(
                name,
                format!(
                    "model.zookeeper: expected one of {known}; found {:?}",
                    name.get_ref()
                ),
            );
            ServerCode::default()
        }),
    };
    let connections = connections(&raw.connections, servers, clients, problems);
    let (epochs, election) = epochs_and_election(&raw.epochs, &raw.election, problems);
    Some(EnsembleSpec {
        zookeeper,
        connections,
        sessions_at_start: raw
            .sessions_at_start
            .as_ref()
            .map_or(true, |v| *v.get_ref()),
        epochs: if raw.epochs.is_some() {
            epochs
        } else {
            DEFAULT_EPOCHS
        },
        election,
    })
}

/// `model.connections`: one server of the ensemble per client, by name (`clients`: `None` when
/// out of range, which was reported).
fn connections(
    raw: &Option<Spanned<Vec<String>>>,
    servers: u8,
    clients: Option<u8>,
    problems: &mut Problems,
) -> Vec<Sid> {
    let defaults = default_connections(servers, clients.unwrap_or(0));
    let Some(names) = raw else {
        return defaults;
    };
    if let Some(clients) = clients.filter(|&n| names.get_ref().len() != usize::from(n)) {
        let example: Vec<String> = defaults.iter().map(|&s| server_name(s)).collect();
        problems.at(
            names,
            format!(
                "model.connections: expected one server per client ({clients}), as {example:?}; found {} server(s)",
                names.get_ref().len()
            ),
        );
        return defaults;
    }
    let mut first = Vec::new();
    for name in names.get_ref() {
        match server_id(name).filter(|&s| s < servers) {
            Some(server) => first.push(server),
            None => {
                problems.at(
                    names,
                    format!(
                        "model.connections: expected servers of the ensemble, S0 to S{}; found {name:?}",
                        servers - 1
                    ),
                );
                return defaults;
            }
        }
    }
    first
}

/// `[faults]` that only an ensemble has (`partition_sides`, `permanent_partitions`, `timeouts`,
/// `crashable`, `client_crashes`, `late_forwards`), as `faults` leaves them otherwise; refused with
/// one server.
pub(super) fn validate_faults(
    raw: &RawFaults,
    model: &ModelSpec,
    faults: Faults,
    problems: &mut Problems,
) -> Faults {
    if model.ensemble.is_none() {
        refuse(
            problems,
            "faults.partition_sides",
            raw.partition_sides.as_ref().map(|v| v.span()),
        );
        refuse(
            problems,
            "faults.crashable",
            raw.crashable.as_ref().map(|v| v.span()),
        );
        let set =
            |v: &Option<Spanned<u8>>| v.as_ref().filter(|v| *v.get_ref() != 0).map(|v| v.span());
        let timeouts = raw.timeouts.as_ref().filter(|v| *v.get_ref() != 0);
        refuse(problems, "faults.timeouts", timeouts.map(|v| v.span()));
        refuse(problems, "faults.client_crashes", set(&raw.client_crashes));
        if let Some(permanent) = raw.permanent_partitions.as_ref().filter(|v| *v.get_ref()) {
            problems.at(
                permanent,
                "faults.permanent_partitions: applies to model kind zab and to a lock over an ensemble (servers > 1) only; expected false".into(),
            );
        }
        let late = raw.late_forwards.as_ref().filter(|v| *v.get_ref());
        refuse(problems, "faults.late_forwards", late.map(|v| v.span()));
        return faults;
    }
    let late_forwards = match raw.late_forwards.as_ref().filter(|v| *v.get_ref()) {
        Some(late) if faults.message_loss == 0 => {
            problems.at(
                late,
                "faults.late_forwards: orders a client's own connection break, which needs faults.message_loss of at least 1; found 0".into(),
            );
            false
        }
        late => late.is_some(),
    };
    let permanent_partitions = permanent_partitions(
        raw.permanent_partitions.as_ref(),
        faults.partitions,
        problems,
    );
    let partition_sides = raw.partition_sides.as_ref().and_then(|sides| {
        validate_partition_sides(sides, model.servers, faults.partitions, problems)
    });
    let crashable = raw
        .crashable
        .as_ref()
        .and_then(|names| crashable(names, model.servers, faults.crashes, problems));
    let timeouts = match &raw.timeouts {
        Some(v) if *v.get_ref() > 8 => {
            problems.at(
                v,
                format!("faults.timeouts: expected 0 to 8, found {}", v.get_ref()),
            );
            0
        }
        Some(v) => *v.get_ref(),
        None => 0,
    };
    let client_crashes = match &raw.client_crashes {
        Some(v) if *v.get_ref() > model.clients => {
            problems.at(
                v,
                format!(
                    "faults.client_crashes: expected 0 to {} (each client dies at most once), found {}",
                    model.clients,
                    v.get_ref()
                ),
            );
            0
        }
        Some(v) => *v.get_ref(),
        None => 0,
    };
    Faults {
        partition_sides,
        timeouts,
        crashable,
        client_crashes,
        permanent_partitions,
        late_forwards,
        ..faults
    }
}

/// `faults.crashable`: servers of this ensemble, for a scenario that has a crash to give them.
fn crashable(
    raw: &Spanned<Vec<String>>,
    servers: u8,
    crashes: u32,
    problems: &mut Problems,
) -> Option<Crashable> {
    if crashes == 0 {
        problems.at(
            raw,
            "faults.crashable: names the servers that may crash, so it needs faults.crashes of at least 1; found 0".into(),
        );
        return None;
    }
    let checked = Crashable::try_from(raw.get_ref().clone()).and_then(|crashable| {
        let outside = crashable.0 & !all_servers(servers);
        if crashable.0 == 0 {
            Err("faults.crashable: expected at least one server; found none".to_string())
        } else if outside != 0 {
            Err(format!(
                "faults.crashable: expected servers of the ensemble, S0 to S{}; found {} not in it",
                servers - 1,
                set_name(outside)
            ))
        } else {
            Ok(crashable)
        }
    });
    checked.map_err(|message| problems.at(raw, message)).ok()
}

/// `[timing]`: named booleans, for an ensemble only.
pub(super) fn validate_timing(raw: RawTiming, ensemble: bool, problems: &mut Problems) -> Timing {
    if !ensemble {
        for (key, value) in [
            ("expiry_needs_silence", &raw.expiry_needs_silence),
            ("disconnect_before_expiry", &raw.disconnect_before_expiry),
        ] {
            refuse(
                problems,
                &format!("timing.{key}"),
                value.as_ref().map(|v| v.span()),
            );
        }
        return Timing::default();
    }
    let value = |v: &Option<Spanned<bool>>| v.as_ref().is_some_and(|v| *v.get_ref());
    Timing {
        expiry_needs_silence: value(&raw.expiry_needs_silence),
        disconnect_before_expiry: value(&raw.disconnect_before_expiry),
    }
}

/// More transactions than an ensemble's log holds: refused at `servers` (the key that makes the
/// log bound apply), with the count and where it comes from.
pub(super) fn check_transactions(
    model: &ModelSpec,
    faults: &Faults,
    servers: Option<&Spanned<u32>>,
    problems: &mut Problems,
) {
    let needed = transactions_needed(model, faults);
    if model.ensemble.is_none() || needed <= MAX_ENSEMBLE_TRANSACTIONS {
        return;
    }
    let message = format!(
        "model.servers: this world may write {needed} transactions (per client: a create and a delete per acquisition, a createSession unless sessions_at_start; one per session expiry and connection loss; two per expiry with retry_after_expiry; the naive recipe: one refused create per client per other client's acquisition); an ensemble's log holds at most {MAX_ENSEMBLE_TRANSACTIONS}"
    );
    match servers {
        Some(servers) => problems.at(servers, message),
        None => problems.unplaced(message),
    }
}

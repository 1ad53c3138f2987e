//! The serialised form of a [`ModelSpec`]: the keys of its kind's `[model]` table and no others,
//! so that a scenario embedded in a trace passes the same validation as a scenario file. A lock
//! over an ensemble writes every ensemble key, defaults included (its world is then read from the
//! trace alone); a lock on one server writes none, as before they existed.

use lockscope_models::lock::{Recipe, Variant};
use lockscope_models::zab::{Election, LeaderWrite, ZabVariant};
use lockscope_models::zookeeper::ServerCode;

use super::ensemble::DEFAULT_EPOCHS;
use super::sides::{server_id, server_name};
use super::{default_connections, EnsembleSpec, ModelKind, ModelSpec, ZabSpec};

#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelWire {
    kind: ModelKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recipe: Option<Recipe>,
    variant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clients: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    acquisitions: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_expiry: Option<bool>,
    servers: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zookeeper: Option<ServerCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    connections: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sessions_at_start: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transactions: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    epochs: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    election: Option<Election>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    leader_write: Option<LeaderWrite>,
}

impl From<ModelSpec> for ModelWire {
    fn from(spec: ModelSpec) -> Self {
        match spec.zab {
            None => ModelWire {
                kind: spec.kind,
                recipe: Some(spec.recipe),
                variant: spec.variant.name().into(),
                clients: Some(spec.clients),
                acquisitions: Some(spec.acquisitions),
                retry_after_expiry: Some(spec.retry_after_expiry),
                servers: spec.servers,
                zookeeper: spec.ensemble.as_ref().map(|e| e.zookeeper),
                connections: spec
                    .ensemble
                    .as_ref()
                    .map(|e| e.connections.iter().map(|&s| server_name(s)).collect()),
                sessions_at_start: spec.ensemble.as_ref().map(|e| e.sessions_at_start),
                transactions: None,
                epochs: spec.ensemble.as_ref().map(|e| e.epochs),
                election: spec.ensemble.as_ref().map(|e| e.election),
                leader_write: None,
            },
            Some(zab) => ModelWire {
                kind: spec.kind,
                recipe: None,
                variant: zab.variant.name().into(),
                clients: None,
                acquisitions: None,
                retry_after_expiry: None,
                servers: spec.servers,
                zookeeper: None,
                connections: None,
                sessions_at_start: None,
                transactions: Some(zab.transactions),
                epochs: Some(zab.epochs),
                election: Some(zab.election),
                leader_write: Some(zab.leader_write),
            },
        }
    }
}

impl TryFrom<ModelWire> for ModelSpec {
    type Error = String;

    fn try_from(wire: ModelWire) -> Result<Self, String> {
        let missing = |key: &str| format!("model.{key}: missing");
        match wire.kind {
            ModelKind::Lock => Ok(ModelSpec {
                kind: wire.kind,
                recipe: wire.recipe.ok_or_else(|| missing("recipe"))?,
                variant: Variant::ALL
                    .into_iter()
                    .find(|v| v.name() == wire.variant)
                    .ok_or_else(|| format!("model.variant: unknown {:?}", wire.variant))?,
                clients: wire.clients.ok_or_else(|| missing("clients"))?,
                acquisitions: wire.acquisitions.ok_or_else(|| missing("acquisitions"))?,
                retry_after_expiry: wire
                    .retry_after_expiry
                    .ok_or_else(|| missing("retry_after_expiry"))?,
                servers: wire.servers,
                ensemble: ensemble_of(&wire)?,
                zab: None,
            }),
            ModelKind::Zab => Ok(ModelSpec {
                servers: wire.servers,
                zab: Some(ZabSpec {
                    transactions: wire.transactions.ok_or_else(|| missing("transactions"))?,
                    epochs: wire.epochs.ok_or_else(|| missing("epochs"))?,
                    variant: ZabVariant::ALL
                        .into_iter()
                        .find(|v| v.name() == wire.variant)
                        .ok_or_else(|| format!("model.variant: unknown {:?}", wire.variant))?,
                    election: wire.election.ok_or_else(|| missing("election"))?,
                    leader_write: wire.leader_write.ok_or_else(|| missing("leader_write"))?,
                }),
                ..ModelSpec::zab_defaults()
            }),
        }
    }
}

impl ModelSpec {
    /// A zab spec's lock fields, which it does not use.
    pub(super) fn zab_defaults() -> ModelSpec {
        ModelSpec {
            kind: ModelKind::Zab,
            recipe: Recipe::Standard,
            variant: Variant::Fixed,
            clients: 0,
            acquisitions: 0,
            retry_after_expiry: false,
            servers: 3,
            zab: None,
            ensemble: None,
        }
    }
}

/// The ensemble keys of a lock's wire form: none with one server; with more, each key written or
/// its default, as in a scenario file.
fn ensemble_of(wire: &ModelWire) -> Result<Option<EnsembleSpec>, String> {
    if wire.servers <= 1 {
        let present = [
            ("zookeeper", wire.zookeeper.is_some()),
            ("connections", wire.connections.is_some()),
            ("sessions_at_start", wire.sessions_at_start.is_some()),
            ("epochs", wire.epochs.is_some()),
            ("election", wire.election.is_some()),
        ];
        return match present.into_iter().find(|(_, present)| *present) {
            Some((key, _)) => Err(format!(
                "model.{key}: applies to an ensemble (servers > 1); found servers = {}",
                wire.servers
            )),
            None => Ok(None),
        };
    }
    let connections = match &wire.connections {
        None => default_connections(wire.servers, wire.clients.unwrap_or(0)),
        Some(names) => names
            .iter()
            .map(|name| {
                server_id(name).ok_or_else(|| format!("model.connections: unknown server {name:?}"))
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(Some(EnsembleSpec {
        zookeeper: wire.zookeeper.unwrap_or_default(),
        connections,
        sessions_at_start: wire.sessions_at_start.unwrap_or(true),
        epochs: wire.epochs.unwrap_or(DEFAULT_EPOCHS),
        election: wire.election.unwrap_or(Election::Oracle),
    }))
}

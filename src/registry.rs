//! Maps a scenario's `model.kind` to a model. This is the only place in `src/` that names a
//! protocol: everything downstream works on any [`Checkable`] model through [`ModelVisitor`].

use lockscope_models::ensemble::{Ensemble, EnsembleConfig};
use lockscope_models::lock::{LockConfig, LockModel};
use lockscope_models::zab::{Election, ZabConfig, ZabModel, ZabVariant};
use lockscope_models::zookeeper::{ServerCode, ServiceProperty, ZkService, MAX_CLIENTS};
use lockscope_models::Liveness;
use stateright::Model;

use crate::scenario::{EnsembleSpec, Faults, ModelKind, ModelSpec, Scenario, Timing};
use crate::search::{self, Checkable};

/// Something to do with a model whose concrete type only the registry knows.
pub trait ModelVisitor {
    type Output;
    fn visit<M: Checkable + Send + 'static>(self, model: M) -> Self::Output
    where
        M::State: 'static,
        M::Action: 'static;
}

/// The lock model's configuration for a scenario's model and (when given) fault budgets.
pub fn lock_config(
    spec: &ModelSpec,
    scenario_faults: Option<&crate::scenario::Faults>,
) -> LockConfig {
    LockConfig {
        recipe: spec.recipe,
        variant: spec.variant,
        clients: spec.clients,
        acquisitions: spec.acquisitions,
        retry_after_expiry: spec.retry_after_expiry,
        session_expiries: scenario_faults.map_or(0, |f| f.session_expiries),
        client_pauses: scenario_faults.map_or(0, |f| f.client_pauses),
        message_loss: scenario_faults.map_or(0, |f| f.message_loss as u8),
        partitions: scenario_faults.map_or(0, |f| f.partitions as u8),
        crashes: scenario_faults.map_or(0, |f| f.crashes as u8),
        client_crashes: scenario_faults.map_or(0, |f| f.client_crashes),
    }
}

/// The scenario that describes a lock model built in code, so that its traces are self-contained
/// like those of a scenario file.
pub fn lock_scenario(name: &str, config: LockConfig) -> Scenario {
    Scenario {
        name: name.into(),
        description: String::new(),
        model: ModelSpec {
            kind: ModelKind::Lock,
            recipe: config.recipe,
            variant: config.variant,
            clients: config.clients,
            acquisitions: config.acquisitions,
            retry_after_expiry: config.retry_after_expiry,
            servers: 1,
            zab: None,
            ensemble: None,
        },
        faults: Faults {
            session_expiries: config.session_expiries,
            client_pauses: config.client_pauses,
            message_loss: u32::from(config.message_loss),
            message_duplication: 0,
            reordering: false,
            partitions: u32::from(config.partitions),
            crashes: u32::from(config.crashes),
            permanent_partitions: false,
            partition_sides: None,
            timeouts: 0,
            crashable: None,
            client_crashes: config.client_crashes,
            late_forwards: false,
        },
        timing: Default::default(),
        check: Default::default(),
        expect: Default::default(),
    }
}

/// The ZAB model's configuration for a scenario of kind zab.
pub fn zab_config(spec: &ModelSpec, faults: &Faults) -> ZabConfig {
    let zab = spec.zab.expect("a zab scenario has its zab keys");
    ZabConfig {
        servers: spec.servers,
        transactions: zab.transactions,
        epochs: zab.epochs,
        variant: zab.variant,
        election: zab.election,
        leader_write: zab.leader_write,
        crashes: faults.crashes.min(u32::from(u8::MAX)) as u8,
        partitions: faults.partitions.min(u32::from(u8::MAX)) as u8,
        timeouts: faults.timeouts.min(u32::from(u8::MAX)) as u8,
        permanent_partitions: faults.permanent_partitions,
        partition_sides: faults.partition_sides.map(|sides| sides.0),
    }
}

/// The ensemble's configuration for a lock scenario with `servers > 1`, or why this version cannot
/// check it yet: no Fast Leader Election (docs/design/ensemble.md, §8), refused with its own
/// reason; the lock model refuses the fault budgets it cannot take. Server crashes, partitions and timeouts
/// are ZAB's own, with its budgets.
pub fn ensemble_config(
    spec: &ModelSpec,
    ensemble: &EnsembleSpec,
    faults: &Faults,
    timing: Timing,
) -> Result<EnsembleConfig, String> {
    // Each refusal keeps the prefix users and docs match on, then says what is missing.
    let not_yet = |key: &str, missing: &str| {
        Err(format!(
            "{key}: not built yet on an ensemble (servers > 1); {missing}"
        ))
    };
    let (variant, flaw) = match ensemble.zookeeper {
        ServerCode::Zab(variant) => (variant, None),
        ServerCode::Server(flaw) => (ZabVariant::Fixed, Some(flaw)),
    };
    if ensemble.election != Election::Oracle {
        return not_yet(
            "model.election = \"fle\"",
            "a lock over an ensemble elects its leaders with the oracle (election = \"oracle\", the default); Fast Leader Election runs in kind zab only",
        );
    }
    let mut connections = [0; MAX_CLIENTS];
    for (slot, &server) in connections.iter_mut().zip(&ensemble.connections) {
        *slot = server;
    }
    let zab = ZabConfig {
        epochs: ensemble.epochs,
        variant,
        election: ensemble.election,
        crashes: faults.crashes.min(u32::from(u8::MAX)) as u8,
        partitions: faults.partitions.min(u32::from(u8::MAX)) as u8,
        timeouts: faults.timeouts.min(u32::from(u8::MAX)) as u8,
        permanent_partitions: faults.permanent_partitions,
        partition_sides: faults.partition_sides.map(|sides| sides.0),
        ..ZabConfig::new(spec.servers, 0)
    };
    let config = EnsembleConfig::new(zab, connections);
    Ok(EnsembleConfig {
        flaw,
        timing,
        crashable: faults.crashable.map_or(config.crashable, |c| c.0),
        late_forwards: faults.late_forwards,
        sessions_at_start: ensemble.sessions_at_start,
        ..config
    })
}

/// Build the scenario's model and hand it to `visitor`.
pub fn with_model<V: ModelVisitor>(scenario: &Scenario, visitor: V) -> Result<V::Output, String> {
    match (scenario.model.kind, &scenario.model.ensemble) {
        (ModelKind::Lock, None) => Ok(visitor.visit(LockModel::new(lock_config(
            &scenario.model,
            Some(&scenario.faults),
        ))?)),
        (ModelKind::Lock, Some(ensemble)) => Ok(visitor.visit(LockModel::on_ensemble(
            lock_config(&scenario.model, Some(&scenario.faults)),
            ensemble_config(&scenario.model, ensemble, &scenario.faults, scenario.timing)?,
        )?)),
        (ModelKind::Zab, _) => Ok(visitor.visit(
            ZabModel::new(zab_config(&scenario.model, &scenario.faults))?
                .with_fairness(scenario.check.fairness),
        )),
    }
}

/// The property names the model of `spec` declares, in declaration order.
pub fn property_names(spec: &ModelSpec) -> Vec<&'static str> {
    match spec.kind {
        ModelKind::Lock => {
            // Only the recipe decides which properties a lock model declares; the other values
            // are set to valid ones so that a bad `clients` does not hide the property names.
            let mut config = lock_config(spec, None);
            config.clients = 1;
            config.acquisitions = 1;
            config.variant = lockscope_models::lock::Variant::Fixed;
            // An ensemble adds its own (ZAB's) after the lock's safety properties.
            let service: &[ServiceProperty<Ensemble>] = if spec.ensemble.is_some() {
                <Ensemble as ZkService>::PROPERTIES
            } else {
                &[]
            };
            LockModel::new(config)
                .map(|model| {
                    let safety = model.properties().into_iter().map(|p| p.name);
                    let service = service.iter().map(|&(name, _)| name);
                    safety
                        .chain(service)
                        .chain(model.liveness_properties())
                        .collect()
                })
                .unwrap_or_default()
        }
        ModelKind::Zab => search::property_names(
            &ZabModel::new(ZabConfig::new(3, 0)).expect("a valid configuration"),
        ),
    }
}

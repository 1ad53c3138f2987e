//! The keys of a lock world whose ZooKeeper service is an ensemble (`[model] servers` 3 to 5):
//! `[model]`'s ensemble keys, the `[timing]` assumptions, and what validation derives from them
//! (the default first connections, the transactions an execution may need).

use lockscope_models::zab::types::Sid;
use lockscope_models::zab::Election;
use lockscope_models::zookeeper::ServerCode;

use super::{Faults, ModelSpec};

/// `[model]` keys of a lock over an ensemble besides `servers`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnsembleSpec {
    /// The servers' code (the recipe's stays `variant`).
    pub zookeeper: ServerCode,
    /// Each client's first server, one per client: the server its session is opened on.
    pub connections: Vec<Sid>,
    /// Whether every session is open before the first step (true) or opened by a createSession
    /// transaction, one per client, as the execution's first writes.
    pub sessions_at_start: bool,
    /// As kind zab: the highest epoch a leader may propose (0: no bound). The ensemble starts
    /// with a leader established in epoch 1, so 2 allows one failover.
    pub epochs: u8,
    pub election: Election,
}

/// A lock world's default `epochs` on an ensemble, as kind zab's.
pub const DEFAULT_EPOCHS: u8 = 2;

/// Most transactions one execution of a lock over an ensemble may write: the capacity of a ZAB
/// log in that world. Every transaction is a value of ZAB's log, and value sets are 8-bit.
pub const MAX_ENSEMBLE_TRANSACTIONS: u32 = 8;

/// The default first servers: the followers in turn. The ensemble starts with its highest server
/// leading (S2 of 3, S4 of 5), so client `i` starts on `S(i mod (servers - 1))`: with 3 servers
/// C0 on S0, C1 on S1, C2 on S0, ...
pub fn default_connections(servers: u8, clients: u8) -> Vec<Sid> {
    let followers = servers.saturating_sub(1).max(1);
    (0..clients).map(|client| client % followers).collect()
}

/// How many transactions one execution may write at most, which the log capacity
/// ([`MAX_ENSEMBLE_TRANSACTIONS`]) bounds: the model's own count
/// (`LockConfig::transactions_needed`), so that a world this accepts is one the model builds
/// unless its servers' faults make clients send writes again, which the model adds and refuses.
pub fn transactions_needed(model: &ModelSpec, faults: &Faults) -> u32 {
    let open_at_start = model
        .ensemble
        .as_ref()
        .map_or(true, |e| e.sessions_at_start);
    let needed =
        crate::registry::lock_config(model, Some(faults)).transactions_needed(open_at_start);
    u32::try_from(needed).unwrap_or(u32::MAX)
}

/// `[timing]`: the timing assumptions an ensemble's session expiry is allowed under, as the
/// model reads them. Written to traces only when one is set.
pub use lockscope_models::ensemble::Timing;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_start_on_the_followers_in_turn() {
        assert_eq!(default_connections(3, 3), [0, 1, 0]);
        assert_eq!(default_connections(5, 5), [0, 1, 2, 3, 0]);
    }
}

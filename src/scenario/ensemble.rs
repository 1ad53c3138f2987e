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
/// ([`MAX_ENSEMBLE_TRANSACTIONS`]) bounds: per client a createSession unless sessions are open at
/// start, per acquisition a create and a delete (the last release's delete closes the session in
/// the same transaction); per session expiry and per client crash a closeSession; per expiry
/// with `retry_after_expiry` a createSession and a create; per connection loss one create sent
/// again (the standard recipe retries blindly).
pub fn transactions_needed(model: &ModelSpec, faults: &Faults) -> u32 {
    let clients = u32::from(model.clients);
    let open_at_start = model
        .ensemble
        .as_ref()
        .map_or(true, |e| e.sessions_at_start);
    let sessions = if open_at_start { 0 } else { clients };
    let expiries = u32::from(faults.session_expiries);
    let retries = if model.retry_after_expiry {
        2 * expiries
    } else {
        0
    };
    sessions
        + clients * 2 * u32::from(model.acquisitions)
        + expiries
        + u32::from(faults.client_crashes)
        + retries
        + faults.message_loss
}

/// `[timing]`: the timing assumptions an ensemble's session expiry is allowed under. The model has
/// no clock, so each is a named condition on when the leader may expire a session; all false by
/// default, which lets the service expire a live session at any moment (the single server's
/// reading). Written to traces only when one is set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// A session expires only while the quorum hears nothing from its client (paused, crashed,
    /// disconnected, or connected to a server cut off from the leader): pings keep a healthy
    /// client's session alive.
    #[serde(default)]
    pub expiry_needs_silence: bool,
    /// Implies `expiry_needs_silence`: a client that is not paused has read `Disconnected`
    /// before its session can expire (the read timeout, 2/3 of the session timeout, fires first).
    #[serde(default)]
    pub disconnect_before_expiry: bool,
}

impl Timing {
    /// No assumption: the table is left out of traces.
    pub fn is_default(&self) -> bool {
        *self == Timing::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_start_on_the_followers_in_turn() {
        assert_eq!(default_connections(3, 3), [0, 1, 0]);
        assert_eq!(default_connections(5, 5), [0, 1, 2, 3, 0]);
    }
}

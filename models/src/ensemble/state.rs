//! The ensemble's state: ZAB's world plus what the lock world adds to it, and its start.

use stateright::Model;

use crate::ActionInfo;

use crate::zab::state::Phase;
use crate::zab::types::{all_servers, MAX_TXNS};
use crate::zab::{Sid, ZabAction, ZabConfig, ZabModel, ZabState};
use crate::zookeeper::{ClientId, LockTxn, ServerFlaw, Watch, ZkConfig, MAX_CLIENTS};
use crate::Slots;

use super::timing::Timing;
use super::tracker::Tracker;

/// Most watches registered at once: every client may hold a data and a child watch.
pub(super) const MAX_WATCHES: usize = 2 * MAX_CLIENTS;

/// What is fixed per world for an ensemble.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnsembleConfig {
    /// ZAB's options: servers, variant, election, leader write. Its `transactions` is the log
    /// capacity: a lock world proposes what its clients' writes need, up to that.
    pub zab: ZabConfig,
    /// The data tree's options, as on one server: set by the lock world from its recipe.
    pub zk: ZkConfig,
    /// Each client's server (index = client).
    pub connections: [Sid; MAX_CLIENTS],
    /// The servers' flaw outside ZAB, if their code has one (`[model] zookeeper`).
    pub flaw: Option<ServerFlaw>,
    /// When the leader may expire a session (`[timing]`).
    pub timing: Timing,
}

impl EnsembleConfig {
    /// ZAB's model with this world's options, for its handlers and its list of enabled steps.
    pub(super) fn zab_model(&self) -> ZabModel {
        ZabModel::unvalidated(self.zab)
    }

    /// The leader of the prepared initial state: with empty logs the best vote is the highest
    /// server id.
    pub fn first_leader(servers: u8) -> Sid {
        servers - 1
    }

    /// Clients on the followers in turn (S0, S1, S0, ... with three servers), the default of
    /// `connections`.
    pub fn followers_in_turn(servers: u8) -> [Sid; MAX_CLIENTS] {
        std::array::from_fn(|c| (c % usize::from(servers - 1)) as Sid)
    }

    /// An ensemble of `zab.servers` running `zab`'s code, with a log for up to `MAX_TXNS`
    /// transactions, each client `c` connected to `connections[c]`.
    pub fn new(zab: ZabConfig, connections: [Sid; MAX_CLIENTS]) -> Self {
        EnsembleConfig {
            zab: ZabConfig {
                transactions: MAX_TXNS as u8,
                ..zab
            },
            zk: ZkConfig {
                record_zxids: false,
                protected_names: false,
            },
            connections,
            flaw: None,
            timing: Timing::default(),
        }
    }
}

/// An ensemble serving a lock world's clients.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Ensemble {
    /// ZAB's world: servers with their logs, links, ghost. A transaction's value `v` stands for
    /// `txns[v - 1]`.
    pub zab: ZabState,
    /// The lock transactions the leaders prepared, in proposal order. A transaction is proposed
    /// once and never re-proposed, so the table is an exact encoding of every PROPOSAL.
    pub txns: Slots<LockTxn, MAX_TXNS>,
    /// Each client's server.
    pub connections: Slots<Sid, MAX_CLIENTS>,
    /// Every client's registered watches, sorted. They live at the client's server; kept here
    /// (per client) because the trees are derived.
    pub watches: Slots<Watch, MAX_WATCHES>,
    /// `/lock` exists before the first step (the recipe uses it as a parent).
    pub lock_parent: bool,
    /// The established leader's session tracker.
    pub tracker: Tracker,
}

impl Ensemble {
    /// The prepared start (docs/design/ensemble.md, §3.3 item 4): ZAB's initial state, then the
    /// oracle elects the whole ensemble and the first enabled ZAB step (no fault, timeout or client
    /// write) is taken until every server is in broadcast and the links are empty: deliveries, and the
    /// flawed versions' own steps of the synchronisation. A leader is established in epoch 1 with empty logs,
    /// which removes the first election's interleavings from every search.
    pub fn prepared(config: &EnsembleConfig, clients: usize, lock_parent: bool) -> Self {
        let model = config.zab_model();
        let servers = config.zab.servers;
        let mut zab = ZabState::new(servers);
        model.step(
            &mut zab,
            &ZabAction::Elect {
                leader: EnsembleConfig::first_leader(servers),
                quorum: all_servers(servers),
            },
        );
        let mut actions = Vec::new();
        while !(zab.net.is_empty() && zab.servers.iter().all(|s| s.phase == Phase::Broadcast)) {
            actions.clear();
            model.actions(&zab, &mut actions);
            let first = actions
                .iter()
                .find(|a| {
                    let takes_writes_or_gives_up = matches!(
                        a,
                        ZabAction::ClientRequest { .. } | ZabAction::Timeout { .. }
                    );
                    model.fault_kind(a).is_none() && !takes_writes_or_gives_up
                })
                .expect("the oracle's run to broadcast has a step at every state");
            model.step(&mut zab, first);
        }
        let mut ensemble = Ensemble {
            zab,
            txns: Slots::new(),
            connections: config.connections[..clients].iter().copied().collect(),
            watches: Slots::new(),
            lock_parent,
            tracker: Tracker::default(),
        };
        ensemble.establish_tracker(config);
        ensemble
    }

    /// An ensemble with no server, client or transaction, for a packed state to be read into.
    pub(crate) fn empty() -> Self {
        Ensemble {
            zab: ZabState::new(0),
            txns: Slots::new(),
            connections: Slots::new(),
            watches: Slots::new(),
            lock_parent: false,
            tracker: Tracker::default(),
        }
    }

    /// The established leader in broadcast, if there is one.
    pub fn leader(&self) -> Option<Sid> {
        self.zab.ids().find(|&s| {
            let server = self.zab.server(s);
            server.is_established_leader() && server.phase == Phase::Broadcast
        })
    }

    /// The server `client` is connected to.
    pub fn server_of_client(&self, client: ClientId) -> Sid {
        self.connections[usize::from(client)]
    }
}

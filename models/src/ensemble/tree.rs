//! Per-server data trees, derived from the prefix of the log each server has processed
//! (docs/design/ensemble.md, §4): a stored tree per server would be a function of the logs, and
//! would only make states larger.

use crate::zab::state::Server as ZabServer;
use crate::zab::{Sid, Txn};
use crate::zookeeper::{ClientId, Outbox, Server, Watch, ZkConfig, MAX_CLIENTS};

use super::state::Ensemble;

/// The part of `server`'s log its data tree holds: up to its last processed zxid (the delivered
/// prefix, or the whole log replayed after a restart, committed or not, as ZooKeeper's data tree
/// does).
pub(super) fn processed(server: &ZabServer) -> &[Txn] {
    let upto = server.processed_zxid();
    let len = server
        .disk
        .log
        .iter()
        .take_while(|t| t.zxid <= upto)
        .count();
    &server.disk.log[..len]
}

impl Ensemble {
    /// The tree at the start, before any transaction: `/lock` if the recipe uses it, and a live
    /// session per client unless the clients open their sessions by transactions.
    fn base_tree(&self) -> Server {
        let tree = Server::new(self.connections.len(), self.lock_parent);
        if self.sessions_at_start {
            tree
        } else {
            tree.without_sessions()
        }
    }

    /// The tree `txns` build from the start. Replies and watch events are not wanted here: the
    /// tree holds no watches while it replays.
    pub(super) fn replay(&self, config: &ZkConfig, txns: &[Txn]) -> Server {
        let mut tree = self.base_tree();
        for txn in txns {
            tree.apply(*config, self.txn(*txn), &mut Outbox::default());
        }
        tree
    }

    /// `server`'s data tree, holding the watches of the clients connected to it.
    pub(super) fn tree_at(&self, config: &ZkConfig, server: Sid) -> Server {
        let mut tree = self.replay(config, processed(self.zab.server(server)));
        tree.set_watches(self.watches_at(server));
        tree
    }

    /// What `server` has applied, in log order: the transactions its data tree holds.
    pub fn applied(&self, server: Sid) -> &[Txn] {
        processed(self.zab.server(server))
    }

    /// `server`'s data tree as its own clients read it (conform compares it with a real
    /// server's).
    pub fn tree_of(&self, config: &super::EnsembleConfig, server: Sid) -> Server {
        self.tree_at(&config.zk, server)
    }

    /// The leader's prepared view: its tree with every transaction it has logged applied,
    /// committed or not (ZooKeeper's `outstandingChanges`), against which it prepares requests.
    pub(super) fn prepared_view(&self, config: &ZkConfig, leader: Sid) -> Server {
        self.replay(config, &self.zab.server(leader).disk.log)
    }

    /// Whether `client`'s watches are registered at `server`: it is connected to it. A
    /// disconnected client's watches are its library's, at no server, until it reconnects.
    pub(super) fn watches_of_at(&self, client: ClientId, server: Sid) -> bool {
        self.server_of_client(client) == server && self.is_connected(client)
    }

    /// The watches registered at `server`: those of its clients.
    pub(super) fn watches_at(
        &self,
        server: Sid,
    ) -> impl Iterator<Item = crate::zookeeper::Watch> + '_ {
        self.watches
            .iter()
            .copied()
            .filter(move |w| self.watches_of_at(w.client, server))
    }

    /// Take back the watches of `server`'s clients from its tree after a read or an apply
    /// registered or fired some (those of other clients in `tree` are not `server`'s to change).
    pub(super) fn keep_watches(&mut self, server: Sid, tree: &Server) {
        let at: [bool; MAX_CLIENTS] = std::array::from_fn(|c| {
            c < self.connections.len() && self.watches_of_at(c as ClientId, server)
        });
        let at_server = |w: &Watch| at[usize::from(w.client)];
        self.watches.retain(|w| !at_server(w));
        for &watch in tree.watches().iter().filter(|w| at_server(w)) {
            let at = self.watches.partition_point(|w| *w < watch);
            self.watches.insert(at, watch);
        }
    }

    /// The lock transaction a ZAB transaction carries.
    pub(super) fn txn(&self, txn: Txn) -> crate::zookeeper::LockTxn {
        self.txns[usize::from(txn.value - 1)]
    }
}

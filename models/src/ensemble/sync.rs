//! `sync()` on an ensemble: the one way a client can make its server catch up before it reads.
//!
//! ZooKeeper serves a read from the client's own server, which may be behind the leader. `sync`
//! takes this path:
//! 1. on the leader, it is answered at once, after the session's own writes (the leader's
//!    `CommitProcessor` treats it as a read);
//! 2. a follower forwards it to its leader, behind the writes it is forwarding;
//! 3. the leader answers it on the same connection ([`Msg::Synced`]) at once if every proposal
//!    it has made is committed, otherwise right after the COMMIT of the last one
//!    (`Leader.processSync`, `pendingSyncs`, `tryToCommit`);
//! 4. the follower answers the client once it has applied that proposal (its `CommitProcessor`
//!    takes the sync in order behind the commits), so a read the client sends next sees every
//!    write committed before the sync.
//!
//! The leader's pending syncs are volatile: they end with its leadership, and those of a
//! follower that stops serving end with its connection. What a closed client connection asked is
//! answered to nobody: the leader still answers it (it does not know), and the follower drops the
//! answer, as a forwarded write's.

use super::state::{Ensemble, EnsembleConfig, LeaderSync, PendingSync};
use crate::zab::{Msg, Sid, Zxid};
use crate::zookeeper::{ClientId, Outbox, Reply, Request, Served};

impl Ensemble {
    /// Steps 1 and 2: `client`'s server takes its `sync`.
    pub(super) fn take_sync(
        &mut self,
        config: &EnsembleConfig,
        client: ClientId,
        request: Request,
        out: &mut Outbox,
    ) -> Served {
        let server = self.server_of_client(client);
        if !self.tree_at(&config.zk, server).is_live(client) {
            return Served::Dropped;
        }
        match self.leader_of(server) {
            Some(leader) if leader == server => {
                let zxid = self.zab.server(server).processed_zxid();
                self.answer(config, client, Reply::Synced, zxid, None, out);
            }
            Some(leader) => self.forward(server, leader, client, request),
            None => unreachable!("a connected client's server serves"),
        }
        Served::Applied
    }

    /// Step 3: `leader` takes the `sync` `follower` forwarded: it answers once its last
    /// proposal is committed.
    pub(super) fn leader_takes_sync(
        &mut self,
        leader: Sid,
        follower: Sid,
        client: ClientId,
        connection_closed: bool,
    ) {
        let after = self.zab.server(leader).disk.last_zxid();
        self.leader_syncs.push(LeaderSync {
            client,
            leader,
            follower,
            after,
            connection_closed,
        });
    }

    /// Step 3, after every step (the one that took a sync included): each leader answers the syncs whose proposal it has committed
    /// (right behind that COMMIT on the connection), in the order it took them; a leader that
    /// stepped down answers none.
    pub(super) fn answer_committed_syncs(&mut self) {
        let mut i = 0;
        while i < self.leader_syncs.len() {
            let sync = self.leader_syncs[i];
            let delivered = self.zab.server(sync.leader).disk.delivered();
            let committed = delivered.last().map_or(Zxid::ZERO, |t| t.zxid);
            if !self.leads(sync.leader) {
                self.leader_syncs.remove(i);
            } else if committed >= sync.after {
                self.leader_syncs.remove(i);
                self.zab.send(
                    sync.leader,
                    sync.follower,
                    Msg::Synced {
                        client: sync.client,
                        after: sync.after,
                        connection_closed: sync.connection_closed,
                    },
                );
            } else {
                i += 1;
            }
        }
    }

    /// `follower` stopped serving: its connection to the leader closed, and with it the leader's
    /// handle to answer its syncs.
    pub(super) fn forget_leader_syncs_for(&mut self, follower: Sid) {
        self.leader_syncs.retain(|s| s.follower != follower);
    }

    /// Step 4, as the leader's answer arrives: the follower answers at once if it has applied
    /// `after` already, otherwise once it has; nobody, if the sync came on a connection the
    /// follower has closed since.
    pub(super) fn follower_reads_synced(
        &mut self,
        config: &EnsembleConfig,
        follower: Sid,
        client: ClientId,
        after: Zxid,
        connection_closed: bool,
        out: &mut Outbox,
    ) {
        if self.takes_synced(config, follower, client, connection_closed) {
            self.syncs.push(PendingSync { client, after });
            self.answer_caught_up_syncs(config, out);
        }
    }

    /// Whether the leader's answer to `client`'s sync reaching `follower` is for a connection
    /// still open.
    fn takes_synced(
        &self,
        config: &EnsembleConfig,
        follower: Sid,
        client: ClientId,
        connection_closed: bool,
    ) -> bool {
        !connection_closed
            && self.is_connected(client)
            && self.server_of_client(client) == follower
            && !self.gone(client)
            && self.tree_at(&config.zk, follower).is_live(client)
    }

    /// Step 4, after every step: each pending sync whose follower has applied its proposal is
    /// answered, in the order they arrived.
    pub(super) fn answer_caught_up_syncs(&mut self, config: &EnsembleConfig, out: &mut Outbox) {
        let mut i = 0;
        while i < self.syncs.len() {
            let PendingSync { client, after } = self.syncs[i];
            let processed = self
                .zab
                .server(self.server_of_client(client))
                .processed_zxid();
            if processed >= after {
                self.syncs.remove(i);
                self.answer(config, client, Reply::Synced, processed, None, out);
            } else {
                i += 1;
            }
        }
    }

    /// `server` closes `client`'s connection: the leader's answer on its way for a sync the
    /// client sent on it is for a closed connection, and a pending one is dropped.
    pub(super) fn forget_syncs_of(&mut self, server: Sid, client: ClientId) {
        self.syncs.retain(|s| s.client != client);
        for sync in self.leader_syncs.iter_mut() {
            sync.connection_closed |= sync.client == client && sync.follower == server;
        }
        for packet in self.zab.net.iter_mut().filter(|p| p.to == server) {
            if let Msg::Synced {
                client: c,
                connection_closed,
                ..
            } = &mut packet.msg
            {
                *connection_closed |= *c == client;
            }
        }
    }

    /// Whether `client`'s sync has been taken by the leader and is not answered yet: its
    /// connection matters, as for a write on its way.
    pub(super) fn sync_under_way(&self, client: ClientId) -> bool {
        self.syncs.iter().any(|s| s.client == client)
            || self
                .leader_syncs
                .iter()
                .any(|s| s.client == client && !s.connection_closed)
            || self.zab.net.iter().any(|p| {
                matches!(p.msg, Msg::Synced { client: c, connection_closed: false, .. } if c == client)
            })
    }

    /// What `follower` did with the leader's answer to `client`'s sync, which names
    /// `proposal`, in the step to `after`.
    pub(super) fn synced_text(
        &self,
        config: &EnsembleConfig,
        after: &Ensemble,
        follower: Sid,
        client: ClientId,
        proposal: Zxid,
        connection_closed: bool,
    ) -> String {
        if !self.takes_synced(config, follower, client, connection_closed) {
            format!("; C{client}'s connection to S{follower} has closed: nobody reads the answer")
        } else if after.syncs.iter().any(|s| s.client == client) {
            format!("; S{follower} answers C{client} once it has applied {proposal}")
        } else {
            format!("; S{follower} has applied {proposal}: it replies Synced to C{client}")
        }
    }

    /// What `leader` did with a forwarded sync, in the step to `after`.
    pub(super) fn sync_taken_text(&self, after: &Ensemble, leader: Sid) -> String {
        let last = self.zab.server(leader).disk.last_zxid();
        if after.leader_syncs.len() > self.leader_syncs.len() {
            format!("; S{leader} answers it once it has committed {last}, its last proposal")
        } else {
            format!("; S{leader} has committed every proposal: it answers at once")
        }
    }
}

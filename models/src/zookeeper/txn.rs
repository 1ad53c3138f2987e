//! A write as a transaction: what [`super::Server::prepare`] decides and
//! [`super::Server::apply`] carries out.
//!
//! ZooKeeper splits a write in two: the leader *prepares* it against its view of the tree (picks
//! the sequence number, checks that the node exists, that the session is open), and every server
//! *applies* the resulting transaction when it delivers it. One server does both in one step; an
//! ensemble does them at different servers and times (docs/design/ensemble.md, §5.1), so the
//! transaction carries everything applying needs and nothing applying could decide differently.

use super::types::{ClientId, Path};

/// One transaction of the lock namespace.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum LockTxn {
    /// `createSession`: the client's slot gets a live session.
    CreateSession { client: ClientId },
    /// A create that preparation let through: the node's full path (a sequential create's number
    /// was allotted from the parent's counter), owned by `owner`'s session if it is ephemeral;
    /// `creator` is answered.
    Create {
        creator: ClientId,
        path: Path,
        owner: Option<ClientId>,
    },
    /// A release: delete `path` (`None`: preparation found no node, and the client is answered
    /// `NoNode`), then close the session when `close_session`. The last release's delete and
    /// closeSession are pipelined on one connection and served in one step.
    Delete {
        client: ClientId,
        path: Option<Path>,
        close_session: bool,
    },
    /// The session tracker's closeSession of an expired session.
    Expire { client: ClientId },
    /// A write that preparation refused (`PrepRequestProcessor` turns the error into an error
    /// transaction with a zxid of its own, which is proposed like any other): applying it changes
    /// nothing but answers `client` with `reply`. Only an ensemble proposes one; a single server
    /// answers the refusal at once.
    Error {
        client: ClientId,
        reply: super::types::Reply,
    },
}

impl LockTxn {
    /// The client the transaction answers (the tracker's closeSession answers its client too).
    pub fn client(self) -> ClientId {
        match self {
            LockTxn::CreateSession { client }
            | LockTxn::Create {
                creator: client, ..
            }
            | LockTxn::Delete { client, .. }
            | LockTxn::Expire { client }
            | LockTxn::Error { client, .. } => client,
        }
    }
}

/// The transaction in words, as the narratives write it: "create /lock/lock-0000000000 by C0".
impl std::fmt::Display for LockTxn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            LockTxn::CreateSession { client } => write!(f, "createSession of C{client}"),
            LockTxn::Create { creator, path, .. } => write!(f, "create {path} by C{creator}"),
            LockTxn::Delete {
                client,
                path,
                close_session,
            } => {
                match path {
                    Some(path) => write!(f, "delete {path}")?,
                    None => f.write_str("no node")?,
                }
                let close = if close_session { " + closeSession" } else { "" };
                write!(f, "{close} by C{client}")
            }
            LockTxn::Expire { client } => write!(f, "closeSession of C{client}"),
            LockTxn::Error { client, reply } => write!(f, "error {reply} for C{client}"),
        }
    }
}

/// The unused slots of a fixed-capacity table of transactions hold this; it is never observed.
impl Default for LockTxn {
    fn default() -> Self {
        LockTxn::Expire { client: 0 }
    }
}

#[cfg(test)]
mod tests {
    use crate::lock::test_worlds::{reachable, varied_worlds};
    use crate::lock::{LockModel, Recipe};
    use crate::pack::{pack_parts, Word};
    use crate::zookeeper::*;

    /// Every request a client of these worlds could send: each create mode on `/lock`, and every
    /// read and delete of `/lock` and of each child up to one past the counter.
    fn requests(server: &Server, client: ClientId) -> Vec<Request> {
        if !server.is_live(client) {
            return vec![Request::CreateSession];
        }
        let mut requests: Vec<Request> = [
            CreateMode::Persistent,
            CreateMode::Ephemeral,
            CreateMode::PersistentSequential,
            CreateMode::EphemeralSequential,
        ]
        .into_iter()
        .map(|mode| Request::Create {
            path: Path::Lock,
            mode,
        })
        .collect();
        let seqs = server
            .children()
            .iter()
            .chain([server.children().len() as Seq + 2]);
        let paths: Vec<Path> = [Path::Lock]
            .into_iter()
            .chain(seqs.map(Path::Child))
            .collect();
        for path in paths {
            for watch in [false, true] {
                requests.push(Request::GetChildren { path, watch });
                requests.push(Request::Exists { path, watch });
                requests.push(Request::GetData { path, watch });
                requests.push(Request::Delete {
                    path,
                    close_session: watch,
                });
            }
        }
        requests
    }

    /// FNV-1a, 64 bits: a digest that does not depend on the standard library's hasher.
    fn fnv(digest: &mut u64, bytes: &[u8]) {
        for &byte in bytes {
            *digest = (*digest ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
    }

    /// What serving a request did: the server after it, whether it was applied, and the messages
    /// in order, packed.
    fn outcome(server: &Server, served: Served, out: &Outbox) -> Vec<u8> {
        let mut bytes = Vec::new();
        pack_parts(server, &mut bytes);
        bytes.push(served as u8);
        bytes.push(out.woken_by_one_deletion);
        for &(client, reply) in &out.messages {
            bytes.push(client);
            bytes.extend(reply.word().to_le_bytes());
        }
        bytes
    }

    /// Goal: serving a write is preparing it, then applying the transaction, and the split changed
    /// nothing any request's outcome shows. Method: every request a client could send (and every
    /// expiry) in every reachable state of the varied worlds, with and without zxids: serve and
    /// prepare-then-apply must agree, and the digest of every outcome must be the one the single
    /// `serve` step gave before the split (recorded at commit b52e16e; the naive worlds left out
    /// of it at issue 21, with the digest of the others taken from the code before that change;
    /// taken again when a read answer lost with its connection began to take its watch with it,
    /// which changed which states are reachable, not how a request is served: `serve`, `prepare`
    /// and `apply` were untouched by that change).
    #[test]
    fn serving_a_write_is_preparing_then_applying_it_as_before_the_split() {
        let mut digest = 0xcbf2_9ce4_8422_2325u64;
        let mut cases = 0usize;
        for config in varied_worlds() {
            // The digest covers the sequential recipes that existed before the split. Curator's
            // worlds (added later) and the naive recipe's (whose `exists` on a missing `/lock`
            // leaves a creation watch since issue 21: `server::tests`) are checked for serve =
            // prepare + apply only.
            let before_split = !matches!(config.recipe, Recipe::Curator | Recipe::Naive);
            let model = LockModel::new(config).expect("valid world");
            let states = reachable(&model, 100_000);
            assert!(states.len() < 100_000, "{config:?}: every state is reached");
            for state in states {
                for (client, request) in (0..config.clients)
                    .flat_map(|c| requests(&state.zk, c).into_iter().map(move |r| (c, r)))
                {
                    for record_zxids in [false, true] {
                        let zk = ZkConfig {
                            record_zxids,
                            protected_names: false,
                        };
                        let mut served = state.zk;
                        let mut out = Outbox::default();
                        let result = served.serve(zk, client, request, &mut out);
                        let outcome_of_serve = outcome(&served, result, &out);
                        if !request.is_read() {
                            let mut applied = state.zk;
                            let mut out = Outbox::default();
                            match applied.prepare(client, request) {
                                Ok(txn) => applied.apply(zk, txn, &mut out),
                                Err(reply) => out.messages.push((client, reply)),
                            }
                            assert_eq!(
                                outcome(&applied, Served::Applied, &out),
                                outcome_of_serve,
                                "C{client} {request:?} in {:?}",
                                state.zk
                            );
                        }
                        if before_split {
                            fnv(&mut digest, &outcome_of_serve);
                            cases += 1;
                        }
                    }
                }
                for client in (0..config.clients).filter(|&c| state.zk.is_live(c)) {
                    for record_zxids in [false, true] {
                        let zk = ZkConfig {
                            record_zxids,
                            protected_names: false,
                        };
                        let mut expired = state.zk;
                        let mut out = Outbox::default();
                        expired.expire(zk, client, &mut out);
                        if before_split {
                            fnv(&mut digest, &outcome(&expired, Served::Applied, &out));
                            cases += 1;
                        }
                    }
                }
            }
        }
        assert_eq!((cases, digest), (19_640_916, 0xf1a5_d687_8d9a_5349));
    }
}

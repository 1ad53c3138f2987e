//! The naive lock: one well-known ephemeral node (docs/recipes.md).
//!
//! 1. `create(/lock, EPHEMERAL)`. Created → hold.
//! 2. NodeExists → `exists(/lock, watch)`.
//! 3. `exists` returned false → go to 1. Otherwise wait for the watch event, then go to 1.
//!    (An `exists` that returned false leaves a watch too, which fires when `/lock` is created
//!    again; the client, busy with step 1, does not wait for it and ignores it.)
//! 4. Release: `delete(/lock)` (or the session ends).
//!
//! Every waiter watches the same node, so every release wakes every waiter (the herd effect), and
//! they all race to create. The create is the atomic test-and-set, so mutual exclusion holds while
//! the holder's session lives.

use super::client::{Client, Phase};
use super::unexpected;
use crate::zookeeper::{CreateMode, EventKind, Path, Reply, Request};

/// Step 1.
pub(super) fn create_request() -> Request {
    Request::Create {
        path: Path::Lock,
        mode: CreateMode::Ephemeral,
    }
}

/// Step 4.
pub(super) fn release_request(close_session: bool) -> Request {
    Request::Delete {
        path: Path::Lock,
        close_session,
    }
}

/// Steps 1–3: the client's reaction to a reply; returns the request it sends next, if any.
pub(super) fn on_reply(client: &mut Client, reply: Reply) -> Option<Request> {
    match (client.phase, reply) {
        (Phase::WaitCreated, Reply::Created { .. }) => {
            client.phase = Phase::InCs;
            None
        }
        (Phase::WaitCreated, Reply::NodeExists) => {
            client.phase = Phase::WaitStat;
            Some(Request::Exists {
                path: Path::Lock,
                watch: true,
            })
        }
        (Phase::WaitStat, Reply::Stat { exists: false }) => retry_create(client),
        (Phase::WaitStat, Reply::Stat { exists: true }) => {
            client.phase = Phase::WaitWatch;
            None
        }
        (
            Phase::WaitWatch,
            Reply::Event {
                kind: EventKind::NodeDeleted,
                path: Path::Lock,
            },
        ) => retry_create(client),
        // Step 3 waits for an event only after `exists` found `/lock`. Any other event reaches a
        // watcher nobody waits on, and the reply the client does wait for decides: ignored. That
        // is the creation watch an `exists` answered null left (it fires when `/lock` is created
        // again, by another client or by this one, ahead of its `Created`), or a watch set
        // before a connection loss that fires while the client already asks again.
        (_, Reply::Event { .. }) => None,
        _ => unexpected(client, reply),
    }
}

fn retry_create(client: &mut Client) -> Option<Request> {
    client.phase = Phase::WaitCreated;
    Some(create_request())
}

#[cfg(test)]
mod tests {
    use super::super::test_worlds::{reachable, varied_worlds};
    use super::super::{LockConfig, LockModel, Recipe};
    use super::*;

    /// Goal: ignoring every event but `NodeDeleted` in `WaitWatch` loses no wakeup: a creation
    /// watch's `NodeCreated` never reaches a client that waits for a watch event (it fires
    /// before the client can have found `/lock` again, so it comes ahead of the reply that sends
    /// the client to wait). Method: every reachable state of the naive worlds with every fault,
    /// and of three clients acquiring twice: no client in `WaitWatch` has `NodeCreated` next.
    #[test]
    fn no_creation_event_reaches_a_waiting_client() {
        let mut worlds: Vec<LockConfig> = varied_worlds()
            .into_iter()
            .filter(|w| w.recipe == Recipe::Naive)
            .collect();
        worlds.push(LockConfig {
            acquisitions: 2,
            ..LockConfig::new(Recipe::Naive, 3)
        });
        let created = Reply::Event {
            kind: EventKind::NodeCreated,
            path: Path::Lock,
        };
        let mut creation_events_read = 0;
        for config in worlds {
            let model = LockModel::new(config).expect("valid world");
            let states = reachable(&model, 200_000);
            assert!(states.len() < 200_000, "{config:?}: every state is reached");
            for state in states {
                for (client, links) in state.clients.iter().zip(&state.links) {
                    if links.from_server.first() == Some(&created) {
                        assert_ne!(client.phase, Phase::WaitWatch, "{state:?}");
                        creation_events_read += 1;
                    }
                }
            }
        }
        assert!(creation_events_read > 0, "creation events are read");
    }
}

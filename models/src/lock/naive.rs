//! The naive lock: one well-known ephemeral node (docs/recipes.md).
//!
//! 1. `create(/lock, EPHEMERAL)`. Created → hold.
//! 2. NodeExists → `exists(/lock, watch)`.
//! 3. `exists` returned false → go to 1. Otherwise wait for the watch event, then go to 1.
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
        // A watch set before a connection loss fires while the client already re-asks: ignored.
        (_, Reply::Event { .. }) => None,
        _ => unexpected(client, reply),
    }
}

fn retry_create(client: &mut Client) -> Option<Request> {
    client.phase = Phase::WaitCreated;
    Some(create_request())
}

//! The standard lock recipe of the ZooKeeper documentation ("Recipes and Solutions: Locks",
//! docs/recipes.md). Each waiter watches only its predecessor, so a release wakes one client.
//!
//! 1. `create(/lock/lock-, EPHEMERAL_SEQUENTIAL)`.
//! 2. `getChildren(/lock)` without a watch (a watch here would bring back the herd).
//! 3. Own node has the lowest sequence number → hold.
//! 4. `exists(next-lower node, watch)`.
//! 5. `exists` returned false → go to 2. Otherwise wait for the notification, then go to 2.
//! 6. Release: `delete(own node)`.
//!
//! Step 5 matters: the predecessor may be deleted between steps 2 and 4 (then `exists` says so; the
//! creation watch ZooKeeper leaves on the missing name never fires, as sequential names are not
//! created again), and a non-holding predecessor may leave (its session expired), so after a
//! wakeup the client lists again instead of assuming it holds. The flawed [`Variant`]s each break
//! one of these steps.

use super::client::{Client, Phase};
use super::{unexpected, Variant};
use crate::zookeeper::{CreateMode, EventKind, Path, Reply, Request, SeqSet};

/// Step 1.
pub(super) fn create_request() -> Request {
    Request::Create {
        path: Path::Lock,
        mode: CreateMode::EphemeralSequential,
    }
}

/// Step 6.
pub(super) fn release_request(client: &Client, close_session: bool) -> Request {
    let seq = client.seq.expect("a holder has its lock node");
    Request::Delete {
        path: Path::Child(seq),
        close_session,
    }
}

/// Step 2.
fn list(client: &mut Client) -> Option<Request> {
    client.phase = Phase::WaitChildren;
    Some(Request::GetChildren {
        path: Path::Lock,
        watch: false,
    })
}

/// Steps 3 and 4.
fn on_children(client: &mut Client, children: SeqSet, variant: Variant) -> Option<Request> {
    let own = client.seq.expect("a listing client has created its node");
    assert!(
        children.contains(own),
        "own node missing from a listing made while its session lived"
    );
    if children.lowest() == Some(own) {
        client.phase = Phase::InCs;
        return None;
    }
    let watched = if variant == Variant::WatchLowest {
        // Flaw: still safe (the client lists again on wakeup) but every waiter watches one node.
        children.lowest()
    } else {
        children.next_lower(own)
    };
    let watched = watched.expect("a node that is not the lowest has a lower one");
    client.phase = Phase::WaitStat;
    Some(Request::Exists {
        path: Path::Child(watched),
        watch: true,
    })
}

/// Steps 1–5: the client's reaction to a reply; returns the request it sends next, if any.
pub(super) fn on_reply(client: &mut Client, reply: Reply, variant: Variant) -> Option<Request> {
    match (client.phase, reply) {
        (
            Phase::WaitCreated,
            Reply::Created {
                path: Path::Child(seq),
                czxid,
            },
        ) => {
            client.seq = Some(seq);
            client.token = czxid;
            list(client)
        }
        (Phase::WaitChildren, Reply::Children { children, .. }) => {
            on_children(client, children, variant)
        }
        (Phase::WaitStat, Reply::Stat { exists: true }) => {
            client.phase = Phase::WaitWatch;
            None
        }
        (Phase::WaitStat, Reply::Stat { exists: false }) => {
            if variant == Variant::IgnoreMissingPredecessor {
                // Flaw: waits for a watch that cannot fire, since the node was already gone.
                client.phase = Phase::WaitWatch;
                None
            } else {
                list(client)
            }
        }
        (
            Phase::WaitWatch,
            Reply::Event {
                kind: EventKind::NodeDeleted,
                ..
            },
        ) => {
            if variant == Variant::SkipRecheck {
                // Flaw: the predecessor's deletion is taken to mean "I hold it".
                client.phase = Phase::InCs;
                None
            } else {
                list(client)
            }
        }
        // A watch set before a connection loss fires while the client already re-asks: it
        // re-checks anyway, so the event is read and ignored.
        (_, Reply::Event { .. }) => None,
        _ => unexpected(client, reply),
    }
}

//! The sequential lock whose waiters all watch the parent: the "herd" recipe (docs/recipes.md).
//!
//! 1. `create(/lock/lock-, EPHEMERAL_SEQUENTIAL)` → own name.
//! 2. `getChildren(/lock, watch)`.
//! 3. Own node lowest → hold. Otherwise wait for the child watch, then go to 2.
//! 4. Release: `delete(own node)`.
//!
//! As safe as the standard recipe, but every change under `/lock` wakes every waiter: O(n) reads
//! per release. A child watch outlives the wait (it fires on the next change under `/lock`), so a
//! client also reads, and ignores, events that arrive after it stopped waiting.

use super::client::{Client, Phase};
use super::{unexpected, Variant};
use crate::zookeeper::{EventKind, Path, Reply, Request};

/// Step 2.
fn list(client: &mut Client) -> Option<Request> {
    client.phase = Phase::WaitChildren;
    Some(Request::GetChildren {
        path: Path::Lock,
        watch: true,
    })
}

/// Steps 1–3: the client's reaction to a reply; returns the request it sends next, if any.
pub(super) fn on_reply(client: &mut Client, reply: Reply, variant: Variant) -> Option<Request> {
    match (client.phase, reply) {
        (
            Phase::WaitCreated,
            Reply::Created {
                path: Path::Child(seq),
                ..
            },
        ) => {
            client.seq = Some(seq);
            list(client)
        }
        (Phase::WaitChildren, Reply::Children { children, .. }) => {
            let own = client.seq.expect("a listing client has created its node");
            assert!(
                children.contains(own),
                "C's own node is missing from a listing made while its session lived"
            );
            client.phase = if children.lowest() == Some(own) {
                Phase::InCs
            } else {
                Phase::WaitWatch
            };
            None
        }
        (
            Phase::WaitWatch,
            Reply::Event {
                kind: EventKind::NodeChildrenChanged,
                ..
            },
        ) => {
            if variant == Variant::SkipRecheck {
                // Flaw: any change is taken to mean "I hold it".
                client.phase = Phase::InCs;
                None
            } else {
                list(client)
            }
        }
        // A child watch set by an earlier listing fires after the client stopped waiting.
        (
            _,
            Reply::Event {
                kind: EventKind::NodeChildrenChanged,
                ..
            },
        ) => None,
        _ => unexpected(client, reply),
    }
}

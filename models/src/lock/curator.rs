//! Apache Curator's `InterProcessMutex` (docs/recipes.md): the standard recipe as Curator's
//! `LockInternals`, `StandardLockInternalsDriver` and protected `CreateBuilder` run it.
//!
//! 1. `create(/lock/_c_<id>-lock-, EPHEMERAL_SEQUENTIAL)` with protection: the name carries a
//!    protection id, fresh for each create call.
//! 2. `ConnectionLoss` on the create: `getChildren(/lock)` and look for the child carrying its
//!    id (`findProtectedNodeInForeground`). Found: that is its node, go to 3. Not found: create
//!    again with the same id (step 1). No second node, so no orphan.
//! 3. `getChildren(/lock)` without a watch.
//! 4. Own node lowest → hold.
//! 5. `getData(next-lower node, watch)`: a data watch, which also fires when that node is
//!    deleted. `NoNode` → go to 3 (no watch was left). Otherwise wait for the event, then go to 3.
//!    The watcher wakes the waiting thread on *any* event it is given, and ZooKeeper's client
//!    gives every registered watcher the connection's `Disconnected` and `SyncConnected` (an
//!    event of type None): a waiter woken so goes to 3 too, and its listing waits in the library
//!    until the connection is back.
//! 6. Release: `delete(own node)` (`NoNode` counts as done).
//!
//! Steps 7 and 8 are not `InterProcessMutex`'s, which never reads the connection state: they
//! are the connection-state listener Curator's documentation asks a lock user to add
//! (docs/recipes.md), and step 8's listing is the model's own way to resume.
//!
//! 7. SUSPENDED while holding (the library's `Disconnected`, which only an ensemble's server
//!    faults produce): stop acting as the holder, keeping the node (`Suspended`).
//! 8. RECONNECTED while suspended (the library's `Reconnected`: the session lived): verify the
//!    node with `getChildren(/lock)` at the new server, which is not behind anything the client
//!    has seen, and go on as in step 4 (the node, its session's, is still lowest: hold again).
//!    LOST while suspended (`SessionExpired`): the lock is lost, as anywhere else.
//!
//! `ConnectionLoss` anywhere else: Curator's retry policy repeats the operation that failed (the
//! lookup, the listing, the `getData` on the same predecessor, the delete); a waiter's watch
//! survives with its session. Session expiry is Curator's LOST: the session-level handler of
//! [`super::LockModel`] ends the acquisition (or, with `retry_after_expiry`, starts over with a
//! new session). Reentrancy, timeouts, revocation and the container parent are left out: they
//! change nothing between processes.
//!
//! **Why the owner stands for the protection id.** The server reports as `own` the child whose
//! ephemeral owner is the requester's client slot (`ZkConfig::protected_names`). Curator's id is a
//! UUID per create call; on this one atomic server the two pick the same node: (a) every live
//! node of the slot belongs to its current session (an expiry deletes the old session's nodes in
//! the same step as it ends it), (b) within a session a client has at most one create call going
//! (a round's node is deleted before the next round starts, and step 2 never creates a second
//! node), and (c) no earlier create of the call can still be in flight when the lookup is served
//! (a lost connection loses what was in flight, and the channel is FIFO). So CURATOR-498, a retry
//! under a new session that finds the old session's node before its closeSession has removed it,
//! cannot happen here: it needs a server whose tree lags behind the session's end.

use super::client::{Client, Phase};
use super::{standard, unexpected};
use crate::zookeeper::{EventKind, Path, Reply, Request, SeqSet};

/// Step 1: the create is the standard recipe's; the protection id is the server's business
/// (`ZkConfig::protected_names`).
pub(super) fn create_request() -> Request {
    standard::create_request()
}

/// Step 2 with `sync-before-lookup`: first make the server catch up with the leader.
fn sync(client: &mut Client) -> Option<Request> {
    client.phase = Phase::WaitSync;
    Some(Request::Sync { path: Path::Lock })
}

/// Step 2: look for its own node among the children.
fn look_up(client: &mut Client) -> Option<Request> {
    client.phase = Phase::WaitLookup;
    Some(Request::GetChildren {
        path: Path::Lock,
        watch: false,
    })
}

/// Step 3.
fn list(client: &mut Client) -> Option<Request> {
    client.phase = Phase::WaitChildren;
    client.predecessor = None;
    Some(Request::GetChildren {
        path: Path::Lock,
        watch: false,
    })
}

/// Step 5: read the predecessor and leave a watch on it.
fn read_predecessor(client: &mut Client, predecessor: crate::zookeeper::Seq) -> Option<Request> {
    client.phase = Phase::WaitData;
    client.predecessor = Some(predecessor);
    Some(Request::GetData {
        path: Path::Child(predecessor),
        watch: true,
    })
}

/// Steps 4 and 5 (`StandardLockInternalsDriver.getsTheLock`).
fn on_children(client: &mut Client, children: SeqSet) -> Option<Request> {
    let own = client.seq.expect("a listing client has its node");
    assert!(
        children.contains(own),
        "own node missing from a listing made while its session lived"
    );
    match children.next_lower(own) {
        None => {
            client.phase = Phase::InCs;
            None
        }
        Some(predecessor) => read_predecessor(client, predecessor),
    }
}

/// Steps 1–5: the client's reaction to a reply; returns the request it sends next, if any.
pub(super) fn on_reply(client: &mut Client, reply: Reply) -> Option<Request> {
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
        (Phase::WaitSync, Reply::Synced) => look_up(client),
        (Phase::WaitLookup, Reply::Children { own: Some(seq), .. }) => {
            client.seq = Some(seq);
            list(client)
        }
        (Phase::WaitLookup, Reply::Children { own: None, .. }) => {
            client.phase = Phase::WaitCreated;
            Some(create_request())
        }
        (Phase::WaitChildren, Reply::Children { children, .. }) => on_children(client, children),
        (Phase::WaitData, Reply::Data { .. }) => {
            client.phase = Phase::WaitWatch;
            client.predecessor = None;
            None
        }
        (Phase::WaitData, Reply::NoNode) => list(client),
        (
            Phase::WaitWatch,
            Reply::Event {
                kind: EventKind::NodeDeleted,
                ..
            },
        ) => list(client),
        // A watch set by a `getData` whose reply a connection loss took fires while the client
        // already reads again: it lists anyway, so the event is read and ignored.
        (_, Reply::Event { .. }) => None,
        _ => unexpected(client, reply),
    }
}

/// Step 5's wake-up by a connection event (the library's `Disconnected` or `Reconnected`) while
/// waiting for the watch: the waiting thread lists again (step 3). In any other phase nobody
/// waits on the monitor, and the event wakes no one.
pub(super) fn woken_by_connection_event(client: &mut Client) -> Option<Request> {
    assert_eq!(client.phase, Phase::WaitWatch, "only a waiter is woken");
    list(client)
}

/// Step 7, SUSPENDED (the library's `Disconnected`) while holding: Curator's documentation tells
/// a lock user's `ConnectionStateListener` that the lock may be lost once the connection is, so
/// the client stops acting as the holder at once. It keeps its node: if the session lives, the
/// lock is still its own. A client that waits keeps waiting: its watch survives with its session.
pub(super) fn on_suspended(client: &mut Client) {
    if client.phase == Phase::InCs {
        client.phase = Phase::Suspended;
    }
}

/// Step 8, RECONNECTED (the library's `Reconnected`): a suspended holder verifies its node with a
/// listing (step 3), which holds again if the node is there and lowest. Anyone else reads it
/// and goes on: a request held while disconnected goes out by itself.
pub(super) fn on_reconnected(client: &mut Client) -> Option<Request> {
    if client.phase == Phase::Suspended {
        list(client)
    } else {
        None
    }
}

/// `ConnectionLoss` while acquiring: step 2 after a create (with `sync_first`, the sync before
/// it), otherwise Curator's retry policy repeats the read that failed. (The delete's retry is
/// every recipe's: `LockModel`.)
pub(super) fn on_connection_loss(client: &mut Client, sync_first: bool) -> Option<Request> {
    match client.phase {
        Phase::WaitCreated | Phase::WaitSync | Phase::WaitLookup if sync_first => sync(client),
        Phase::WaitCreated | Phase::WaitLookup => look_up(client),
        Phase::WaitChildren => list(client),
        Phase::WaitData => {
            let predecessor = client.predecessor.expect("a reader knows what it reads");
            read_predecessor(client, predecessor)
        }
        _ => unexpected(client, Reply::ConnectionLoss),
    }
}

#[cfg(test)]
mod tests {
    use stateright::Model;

    use super::*;
    use crate::actor::ActorId;
    use crate::lock::{LockAction, LockConfig, LockModel, LockState, Msg, Recipe};

    const C0: ActorId = ActorId::Client(0);
    const S: ActorId = ActorId::Server;

    fn model(recipe: Recipe) -> LockModel {
        let config = LockConfig {
            message_loss: 1,
            ..LockConfig::new(recipe, 1)
        };
        LockModel::new(config).expect("valid")
    }

    /// Take `action`, which must be enabled.
    fn step(model: &LockModel, state: &LockState, action: LockAction) -> LockState {
        let mut actions = Vec::new();
        model.actions(state, &mut actions);
        assert!(actions.contains(&action), "{action} is not enabled");
        model.next_state(state, action).expect("a next state")
    }

    /// The server serves C0's head request.
    fn serve(model: &LockModel, state: &LockState) -> LockState {
        let request = state.links[0].to_server[0];
        let action = LockAction::Deliver {
            from: C0,
            to: S,
            msg: Msg::Request(request),
        };
        step(model, state, action)
    }

    /// C0 reads the head of its channel.
    fn read(model: &LockModel, state: &LockState) -> LockState {
        let reply = state.links[0].from_server[0];
        let action = LockAction::Deliver {
            from: S,
            to: C0,
            msg: Msg::Reply(reply),
        };
        step(model, state, action)
    }

    /// C0's create is applied, then its connection breaks before the reply arrives; C0 reads
    /// `ConnectionLoss` and the server serves whatever C0 sent next.
    fn lose_the_created_reply(model: &LockModel) -> LockState {
        let mut state = model.init_states().swap_remove(0);
        state = step(model, &state, LockAction::StartAcquire { client: C0 });
        state = serve(model, &state);
        state = step(model, &state, LockAction::LoseConnection { client: C0 });
        state = read(model, &state);
        serve(model, &state)
    }

    /// Goal: after a lost create reply, the protected lookup finds the node the create made and
    /// the client takes it as its own: no second create, no orphan. Method: the run above with
    /// Curator's recipe, then the client reads the lookup and lists.
    #[test]
    fn the_protected_lookup_finds_the_own_node_after_a_lost_create_reply() {
        let model = model(Recipe::Curator);
        let mut state = lose_the_created_reply(&model);
        assert_eq!(state.clients[0].phase, Phase::WaitLookup);
        let lookup = state.links[0].from_server[0];
        assert_eq!(
            lookup,
            Reply::Children {
                children: [0].into_iter().collect(),
                own: Some(0),
            }
        );
        state = read(&model, &state);
        assert_eq!(state.clients[0].seq, Some(0), "adopts the node it created");
        assert_eq!(state.zk.children().len(), 1, "no second create");
        assert_eq!(state.orphan_nodes(model.protected_names()), 0);
        state = serve(&model, &state);
        state = read(&model, &state);
        assert_eq!(state.clients[0].phase, Phase::InCs);
    }

    /// Goal: with `sync-before-lookup`, the lookup after a lost create reply is preceded by a
    /// `sync`, which one server answers at once; the lookup then finds the node. Method: the run
    /// above with the variant.
    #[test]
    fn on_one_server_a_sync_before_the_lookup_is_answered_at_once() {
        let config = LockConfig {
            variant: crate::lock::Variant::SyncBeforeLookup,
            message_loss: 1,
            ..LockConfig::new(Recipe::Curator, 1)
        };
        let model = LockModel::new(config).expect("valid");
        let mut state = lose_the_created_reply(&model);
        assert_eq!(state.clients[0].phase, Phase::WaitSync);
        assert_eq!(state.links[0].from_server.as_slice(), [Reply::Synced]);
        state = read(&model, &state);
        assert_eq!(state.clients[0].phase, Phase::WaitLookup);
        state = serve(&model, &state);
        state = read(&model, &state);
        assert_eq!(state.clients[0].seq, Some(0), "adopts the node it created");
    }

    /// Goal: the same run without protection (the standard recipe) creates a second node and
    /// orphans the first, so the test above shows what protection changes.
    #[test]
    fn without_protection_the_same_run_orphans_a_node() {
        let model = model(Recipe::Standard);
        let state = lose_the_created_reply(&model);
        assert_eq!(state.zk.children().len(), 2, "created again");
        assert_eq!(state.orphan_nodes(model.protected_names()), 1);
    }

    /// Goal: a create lost before the server applied it is looked up, not found, and created
    /// again. Method: break the connection while the create is still in flight.
    #[test]
    fn a_lookup_that_finds_nothing_creates_again() {
        let model = model(Recipe::Curator);
        let mut state = model.init_states().swap_remove(0);
        state = step(&model, &state, LockAction::StartAcquire { client: C0 });
        state = step(&model, &state, LockAction::LoseConnection { client: C0 });
        state = read(&model, &state);
        state = serve(&model, &state);
        assert_eq!(
            state.links[0].from_server[0],
            Reply::Children {
                children: SeqSet::default(),
                own: None,
            }
        );
        state = read(&model, &state);
        assert_eq!(state.clients[0].phase, Phase::WaitCreated);
        assert_eq!(state.links[0].to_server[0], create_request());
    }

    /// Goal: a connection event wakes a waiting `InterProcessMutex`, listener or not: its watcher
    /// hears `Disconnected` and `Reconnected` (events of type None), and the woken thread lists
    /// again; a client not waiting on the monitor lists nothing, and the standard recipe, whose
    /// client waits on nothing of the kind, ignores both. Method: a waiter and a holder read each
    /// event, through the lock world's session-level handler.
    #[test]
    fn a_connection_event_wakes_a_waiting_mutex_which_lists_again() {
        let listing = Some(Request::GetChildren {
            path: Path::Lock,
            watch: false,
        });
        for variant in [
            crate::lock::Variant::Fixed,
            crate::lock::Variant::NoConnectionListener,
        ] {
            let config = LockConfig {
                variant,
                ..LockConfig::new(Recipe::Curator, 2)
            };
            let model = LockModel::new(config).expect("valid");
            for event in [Reply::Disconnected, Reply::Reconnected] {
                let mut waiter = Client {
                    phase: Phase::WaitWatch,
                    seq: Some(1),
                    ..Client::new()
                };
                assert_eq!(
                    model.client_reads(&mut waiter, event),
                    listing,
                    "{variant:?}"
                );
                assert_eq!(waiter.phase, Phase::WaitChildren);
                let mut reading = Client {
                    phase: Phase::WaitData,
                    seq: Some(1),
                    predecessor: Some(0),
                    ..Client::new()
                };
                assert_eq!(model.client_reads(&mut reading, event), None);
                assert_eq!(reading.phase, Phase::WaitData);
            }
        }
        let standard = LockModel::new(LockConfig::new(Recipe::Standard, 2)).expect("valid");
        let mut waiter = Client {
            phase: Phase::WaitWatch,
            seq: Some(1),
            ..Client::new()
        };
        assert_eq!(
            standard.client_reads(&mut waiter, Reply::Disconnected),
            None
        );
        assert_eq!(waiter.phase, Phase::WaitWatch);
    }

    /// Goal: a waiter reads its predecessor with `getData` and a watch, retries that very read
    /// after `ConnectionLoss`, and lists again when the predecessor is already gone.
    #[test]
    fn a_waiter_reads_its_predecessor_again_after_connection_loss() {
        let mut client = Client {
            phase: Phase::WaitChildren,
            seq: Some(3),
            ..Client::new()
        };
        let children: SeqSet = [1, 3].into_iter().collect();
        let read = Some(Request::GetData {
            path: Path::Child(1),
            watch: true,
        });
        let listing = Reply::Children {
            children,
            own: Some(3),
        };
        assert_eq!(on_reply(&mut client, listing), read);
        assert_eq!(on_connection_loss(&mut client, false), read);
        assert_eq!(client.phase, Phase::WaitData);
        assert_eq!(
            on_reply(&mut client, Reply::NoNode),
            Some(Request::GetChildren {
                path: Path::Lock,
                watch: false,
            })
        );
        assert_eq!(client.predecessor, None);
    }
}

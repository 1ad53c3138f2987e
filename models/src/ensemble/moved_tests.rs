//! SessionMoved (ZOOKEEPER-710, -2886; docs/design/ensemble.md §5.3): the leader's tracker records
//! the server a session was created or revalidated through, a reconnection moves it, and a write
//! that a follower forwarded from a connection the client has since lost is refused
//! `SessionMoved` by the fixed code and carried out by zk-710's.

use stateright::Model;

use super::tests::{assert_packs_injectively, reply, request, run_until_quiet, take, zab};
use super::{Ensemble, EnsembleConfig, EnsembleStep};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, LockState, Phase, Recipe};
use crate::zab::ZabConfig;
use crate::zookeeper::{LockTxn, Reply, ServerFlaw, ZkService};
use crate::Explain;

/// The world of `scenarios/ensemble/zk-710*.toml`: the Curator recipe, one client on S0, S2
/// leading, one break of the client's own connection, in the late-forward order or not.
fn moved(flaw: Option<ServerFlaw>, late_forwards: bool) -> LockModel<Ensemble> {
    let config = LockConfig {
        message_loss: 1,
        ..LockConfig::new(Recipe::Curator, 1)
    };
    let ensemble = EnsembleConfig {
        flaw,
        late_forwards,
        ..EnsembleConfig::new(ZabConfig::new(3, 0), [0; crate::zookeeper::MAX_CLIENTS])
    };
    LockModel::on_ensemble(config, ensemble).expect("valid")
}

fn lose_c0() -> LockAction {
    LockAction::LoseConnection {
        client: ActorId::Client(0),
    }
}

fn reconnect(server: u8) -> LockAction {
    LockAction::Ensemble(EnsembleStep::Reconnect { client: 0, server })
}

/// C0 starts, S0 takes its create and forwards it to S2, and C0's connection breaks before S2
/// takes it; C0 reads `ConnectionLoss` (and looks for its node) and `Disconnected`.
fn broken_while_forwarding(model: &LockModel<Ensemble>) -> LockState<Ensemble> {
    let c0 = ActorId::Client(0);
    let mut state = model.init_states().swap_remove(0);
    state = take(model, &state, LockAction::StartAcquire { client: c0 });
    state = take(model, &state, request(&state, 0));
    state = take(model, &state, lose_c0());
    assert_eq!(
        state.links[0].from_server.as_slice(),
        [Reply::ConnectionLoss, Reply::Disconnected]
    );
    state = take(model, &state, reply(&state, 0));
    take(model, &state, reply(&state, 0))
}

/// Goal: a reconnection's revalidation makes the new server the session's owner at the leader's
/// tracker (`setOwner`), where the world checks owners: from the start it is the server the
/// session was created through; zk-710's code keeps no owner. Method: the start, then C0's
/// connection breaks and C0 reconnects to S1.
#[test]
fn a_revalidated_session_is_owned_by_the_server_it_reconnected_through() {
    let fixed = moved(None, true);
    let start = fixed.init_states().swap_remove(0);
    assert_eq!(start.zk.trackers[2].owner(0), Some(0), "created through S0");
    let broken = broken_while_forwarding(&fixed);
    assert_eq!(broken.zk.trackers[2].owner(0), Some(0), "not moved yet");
    let moved_to_s1 = take(&fixed, &broken, reconnect(1));
    assert_eq!(moved_to_s1.zk.trackers[2].owner(0), Some(1));
    assert_eq!(moved_to_s1.zk.server_of_client(0), 1);

    let flawed = moved(Some(ServerFlaw::Zk710), true);
    let broken = broken_while_forwarding(&flawed);
    let moved_to_s1 = take(&flawed, &broken, reconnect(1));
    assert_eq!(
        moved_to_s1.zk.trackers[2].owner(0),
        None,
        "zk-710 keeps no owner"
    );
}

/// Goal: ZOOKEEPER-710's story and its fix. C0's create, forwarded by S0 from a connection that
/// has since broken, reaches the leader after C0 reconnected to S1 and created again through it:
/// the fixed leader refuses it with `SessionMoved` (an error transaction, answered to nobody), so
/// C0's second node is its only one and C0 holds; zk-710's leader carries it out, and the node it
/// creates is owned by C0's live session but named in no reply, so C0 waits behind it for ever
/// (`no_orphan_nodes` counts it). Method: the race by hand, then every step until nothing is
/// left.
#[test]
fn a_write_forwarded_from_a_lost_connection_is_refused_session_moved_unless_the_owner_is_unchecked()
{
    for flaw in [None, Some(ServerFlaw::Zk710)] {
        let model = moved(flaw, true);
        let broken = broken_while_forwarding(&model);
        assert!(
            !super::failover_tests::enabled(&model, &broken).contains(&zab(0, 2)),
            "the forward is held back until C0 has moved"
        );
        assert!(
            !super::failover_tests::enabled(&model, &broken).contains(&reconnect(0)),
            "C0 moves to another server"
        );
        let mut state = take(&model, &broken, reconnect(1));
        state = take(&model, &state, request(&state, 0)); // S1 serves the lookup
        assert_eq!(
            state.links[0].from_server.as_slice(),
            [
                Reply::Reconnected,
                Reply::Children {
                    children: Default::default(),
                    own: None
                }
            ],
            "no node of C0's yet"
        );
        state = take(&model, &state, reply(&state, 0)); // Reconnected
        state = take(&model, &state, reply(&state, 0)); // C0 creates again
        let late = zab(0, 2);
        let prepared = take(&model, &state, late);
        let told = model.describe_step(&state, &late, &prepared);
        let create = "create(/lock/lock-, EPHEMERAL_SEQUENTIAL)";
        let expected = match flaw {
            None => format!("S2 prepares C0's {create} from S0, which C0's session has left for S1: refused SessionMoved, proposes error SessionMoved for C0 (1,1)"),
            Some(_) => format!("S2 prepares C0's {create} from S0, which C0's session has left for S1, without checking the session's owner (zk-710), and proposes create /lock/lock-0000000000 by C0 (1,1)"),
        };
        assert!(told.ends_with(&expected), "{told}");
        let txn = prepared.zk.txns[0];
        match flaw {
            None => assert_eq!(
                txn,
                LockTxn::Error {
                    client: 0,
                    reply: Reply::SessionMoved
                }
            ),
            Some(_) => assert!(matches!(txn, LockTxn::Create { creator: 0, .. })),
        }
        assert_eq!(prepared.zk.unanswered & 1, 1, "its connection is gone");
        let end = run_until_quiet(&model, prepared, &[0], false);
        assert!(
            !end.links[0].from_server.contains(&Reply::SessionMoved),
            "no client reads SessionMoved"
        );
        let nodes = end.zk.agreed_tree().child_nodes().len();
        match flaw {
            None => {
                assert_eq!(end.clients[0].phase, Phase::InCs);
                assert_eq!((nodes, end.orphan_nodes(true)), (1, 0));
            }
            Some(_) => {
                assert_eq!(end.clients[0].phase, Phase::WaitWatch);
                assert_eq!((nodes, end.orphan_nodes(true)), (2, 1));
            }
        }
    }
}

/// Goal: a late last release is refused SessionMoved only in part: the leader refuses its delete
/// but carries out the closeSession behind it, which ZooKeeper's leader prepares without an owner
/// check (its own expiry sends one without owning the session); the session ends and its node
/// with it. A real ensemble showed this (docs/conform.md). Method: C0 holds, releases through S0,
/// its connection breaks while S0 forwards the release, C0 reconnects to S1, and the late
/// forward reaches the leader S2.
#[test]
fn a_late_last_release_has_its_delete_refused_and_its_close_carried_out() {
    let model = moved(None, true);
    let c0 = ActorId::Client(0);
    let start = model.init_states().swap_remove(0);
    let start = take(&model, &start, LockAction::StartAcquire { client: c0 });
    let holds = run_until_quiet(&model, start, &[0], false);
    assert_eq!(holds.clients[0].phase, Phase::InCs);
    let mut state = take(&model, &holds, LockAction::Release { client: c0 });
    state = take(&model, &state, request(&state, 0)); // S0 forwards delete + closeSession
    state = take(&model, &state, lose_c0());
    state = take(&model, &state, reply(&state, 0)); // ConnectionLoss: C0 retries its delete
    state = take(&model, &state, reply(&state, 0)); // Disconnected
    state = take(&model, &state, reconnect(1));
    let late = zab(0, 2);
    let prepared = take(&model, &state, late);
    assert_eq!(
        prepared.zk.txns.last().copied(),
        Some(LockTxn::Delete {
            client: 0,
            path: None,
            close_session: true
        })
    );
    assert!(
        prepared.zk.trackers[2].is_closing(0),
        "the close is prepared"
    );
    let told = model.describe_step(&state, &late, &prepared);
    assert!(
        told.contains("the delete is refused SessionMoved, but the closeSession behind it is not checked for its owner"),
        "{told}"
    );
    let end = run_until_quiet(&model, prepared, &[0], false);
    assert!(
        end.zk.agreed_tree().child_nodes().is_empty(),
        "the node went with the session"
    );
    assert_eq!(end.orphan_nodes(true), 0);
}

/// Goal: the fixed leader refuses only what came through a server the session left: a write
/// forwarded from a lost connection that reaches the leader before the client has moved is
/// carried out (its server still owns the session), as ZooKeeper does; that order, with Curator's
/// lookup reading a server that has not applied it, is why `late_forwards` exists. Method:
/// without `late_forwards`, the late forward delivered before C0 reconnects.
#[test]
fn a_forward_that_arrives_before_the_session_moves_is_carried_out() {
    let model = moved(None, false);
    let broken = broken_while_forwarding(&model);
    let prepared = take(&model, &broken, zab(0, 2));
    assert!(matches!(
        prepared.zk.txns[0],
        LockTxn::Create { creator: 0, .. }
    ));
    assert_eq!(prepared.zk.unanswered & 1, 1, "nobody answers it");
    assert_eq!(prepared.zk.trackers[2].owner(0), Some(0));
}

/// Goal: the owners, the flag of a forward from a closed connection and the held-back deliveries
/// pack injectively. Method: the fixed world, breadth first.
#[test]
fn moved_sessions_pack_injectively() {
    let mut moved_owner = false;
    let packed = assert_packs_injectively(&moved(None, true), 20_000, |state| {
        moved_owner |= state.zk.trackers[2].owner(0).is_some_and(|s| s != 0);
    });
    assert!(packed > 1_000 && moved_owner, "{packed}");
}

/// Goal: why a world whose clients lose connections only with their servers keeps no owners
/// (`EnsembleConfig::checks_owners`): there, a server that stops serving loses its connection to
/// the leader with every write it was forwarding, so every write in flight to a leader comes from
/// the server its client is connected to now, and the owner check could refuse nothing. Method:
/// two clients, one server crash and one spurious timeout, breadth first, every forward in every
/// state.
#[test]
fn without_a_broken_client_connection_no_write_is_left_behind() {
    let zab = ZabConfig {
        crashes: 1,
        timeouts: 1,
        ..ZabConfig::new(3, 0)
    };
    let config = LockConfig {
        crashes: 1,
        ..LockConfig::new(Recipe::Standard, 2)
    };
    let ensemble = EnsembleConfig::new(zab, EnsembleConfig::followers_in_turn(3));
    let model = LockModel::on_ensemble(config, ensemble).expect("valid");
    assert!(!model.service_config().checks_owners());
    let mut forwards = 0;
    assert_packs_injectively(&model, 30_000, |state| {
        for packet in &state.zk.zab.net {
            if let crate::zab::Msg::Forward { client, .. } = packet.msg {
                forwards += 1;
                assert!(state.zk.is_connected(client), "{state:?}");
                assert_eq!(state.zk.server_of_client(client), packet.from);
            }
        }
    });
    assert!(forwards > 100, "{forwards}");
}

/// Goal: a late release that closes the session, carried out by zk-710's leader after the client
/// moved, ends the session under the client's new connection: the new server closes that
/// connection when it applies the close, and the client reads `SessionExpired` instead of waiting
/// for ever for the answer of the delete it sent again (which the server drops: the session is
/// closed). Method: C0 acquires alone, releases, loses its connection while S0 forwards the
/// release, moves to the leader S2, then the late release and every step until nothing is left.
#[test]
fn a_late_release_that_closes_the_session_ends_it_under_the_new_connection() {
    let model = moved(Some(ServerFlaw::Zk710), true);
    let c0 = ActorId::Client(0);
    let no_fault = |action: &LockAction| {
        !matches!(
            action,
            LockAction::LoseConnection { .. } | LockAction::Release { .. }
        )
    };
    let start = model.init_states().swap_remove(0);
    let started = take(&model, &start, LockAction::StartAcquire { client: c0 });
    let holding = super::failover_tests::run_until_told(
        &model,
        started,
        no_fault,
        |s| s.clients[0].phase == Phase::InCs,
        &mut Vec::new(),
    );
    let mut state = take(&model, &holding, LockAction::Release { client: c0 });
    state = take(&model, &state, request(&state, 0)); // S0 forwards the release
    state = take(&model, &state, lose_c0());
    state = take(&model, &state, reply(&state, 0)); // ConnectionLoss: the delete again
    state = take(&model, &state, reply(&state, 0)); // Disconnected
    state = take(&model, &state, reconnect(2)); // S1 may not have the create yet
    state = take(&model, &state, zab(0, 2));
    assert!(matches!(
        state.zk.txns.last(),
        Some(LockTxn::Delete {
            close_session: true,
            ..
        })
    ));
    let end = run_until_quiet(&model, state, &[0], false);
    assert_eq!(end.clients[0].phase, Phase::Abandoned);
    assert!(end.links[0].is_empty());
}

/// Goal: a server answers a session's read only once it has applied every write of that session
/// it took (`CommitProcessor` queues a session's requests behind its pending write, by session
/// id, so the queue outlives the connection the write came on). C0's create, forwarded by S0 and
/// prepared by the leader S2, is on its way when C0's connection breaks; C0's protection lookup
/// after reconnecting waits at S0 (which forwarded it) and at S2 (which prepared it) until that
/// server applies the create, and then finds C0's node; at S1, which took nothing of C0's, it is
/// answered at once from a tree without the node. Method: the race by hand, then a reconnection
/// to each server; the servers' steps run until the lookup may be delivered.
#[test]
fn a_read_waits_at_a_server_that_holds_an_unapplied_write_of_its_session() {
    let model = moved(None, false);
    let c0 = ActorId::Client(0);
    let mut state = model.init_states().swap_remove(0);
    state = take(&model, &state, LockAction::StartAcquire { client: c0 });
    state = take(&model, &state, request(&state, 0)); // S0 forwards the create
    state = take(&model, &state, zab(0, 2)); // S2 prepares and proposes it
    state = take(&model, &state, lose_c0());
    state = take(&model, &state, reply(&state, 0)); // ConnectionLoss: the lookup waits to be sent
    state = take(&model, &state, reply(&state, 0)); // Disconnected
    for (server, holds) in [(0, true), (1, false), (2, true)] {
        let mut moved = take(&model, &state, reconnect(server));
        moved = take(&model, &moved, reply(&moved, 0)); // Reconnected
        let lookup = request(&moved, 0);
        let enabled = |s: &LockState<Ensemble>| super::failover_tests::enabled(&model, s);
        assert_eq!(enabled(&moved).contains(&lookup), !holds, "at S{server}");
        let mut steps = 0;
        while !enabled(&moved).contains(&lookup) {
            let step = enabled(&moved)
                .into_iter()
                .find(|a| matches!(a, LockAction::Ensemble(_)))
                .expect("the servers move on");
            moved = take(&model, &moved, step);
            steps += 1;
            assert!(steps < 20, "S{server} applies the create");
        }
        moved = take(&model, &moved, lookup);
        let found = matches!(
            moved.links[0].from_server.last(),
            Some(Reply::Children { own: Some(_), .. })
        );
        assert_eq!(
            found, holds,
            "at S{server}: {:?}",
            moved.links[0].from_server
        );
    }
}

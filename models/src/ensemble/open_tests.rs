//! Sessions opened by transactions (`sessions_at_start = false`): a client's first step is its
//! connect request, a createSession its server forwards to the leader, which prepares it, tracks
//! the session and proposes it like any write; the client starts its recipe only once its own
//! server has applied the createSession and answered.

use stateright::Model;

use super::tests::{each_reachable, request, run_until_quiet, take};
use super::{Ensemble, EnsembleConfig, EnsembleStep};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, LockState, Phase, Recipe};
use crate::zab::ZabConfig;
use crate::zookeeper::{LockTxn, Reply, Request, SessionState, ZkService};

/// Standard recipe, `clients` on the followers in turn, 3 servers with S2 leading, every session
/// opened by its client's createSession; `faults` as given.
fn opening(clients: u8, faults: LockConfig, zab: ZabConfig) -> LockModel<Ensemble> {
    let config = LockConfig { clients, ..faults };
    let ensemble = EnsembleConfig {
        sessions_at_start: false,
        ..EnsembleConfig::new(zab, EnsembleConfig::followers_in_turn(3))
    };
    LockModel::on_ensemble(config, ensemble).expect("valid")
}

/// Whether `server` has applied `client`'s createSession.
fn applied_session(state: &LockState<Ensemble>, server: u8, client: u8) -> bool {
    let zk = &state.zk;
    zk.applied(server)
        .iter()
        .any(|&t| zk.txn(t) == LockTxn::CreateSession { client })
}

/// Whether `client`'s createSession is in the log of the leader, which prepared it.
fn prepared_session(state: &LockState<Ensemble>, client: u8) -> bool {
    state.zk.leader().is_some_and(|leader| {
        let log = &state.zk.zab.server(leader).disk.log;
        log.iter()
            .any(|&t| state.zk.txn(t) == LockTxn::CreateSession { client })
    })
}

/// Goal: a client acts only once its own server has applied its createSession: before that it
/// has sent nothing but its connect request, and its session is open nowhere its recipe could
/// use it. Method: every reachable state of two clients' world, no fault: each client past its
/// handshake is connected to a server that has applied its createSession, and one still in it has
/// no other request on its channel. The walk must see both kinds of client.
#[test]
fn no_client_acts_before_its_server_has_applied_its_session() {
    let model = opening(
        2,
        LockConfig::new(Recipe::Standard, 2),
        ZabConfig::new(3, 0),
    );
    let (mut opening_seen, mut acting_seen) = (0, 0);
    let states = each_reachable(&model, usize::MAX, |state| {
        for c in 0..2u8 {
            let client = &state.clients[usize::from(c)];
            let links = &state.links[usize::from(c)];
            match client.phase {
                Phase::Init => assert!(links.is_empty()),
                Phase::WaitSession => {
                    opening_seen += 1;
                    assert!(links.to_server.iter().all(|&r| r == Request::CreateSession));
                    assert!(links
                        .from_server
                        .iter()
                        .all(|&r| r == Reply::SessionCreated));
                }
                _ => {
                    acting_seen += 1;
                    let server = state.zk.server_of_client(c);
                    assert!(
                        applied_session(state, server, c),
                        "C{c} acts in {:?} before S{server} applied its createSession",
                        client.phase
                    );
                }
            }
        }
    });
    assert!(opening_seen > 0 && acting_seen > 0);
    assert_eq!(
        states, 246_319,
        "the world of scenarios/ensemble/open-sessions.toml"
    );
}

/// Goal: the leader can expire only a session it has prepared the createSession of: before that
/// its tracker does not hold the session (a new leader's tracker holds only the sessions open in
/// its tree). Method: every reachable state of one client's world with one expiry: the expiry is
/// enabled only where the leader's log has the createSession, and it is enabled somewhere, and
/// somewhere it is not because of that.
#[test]
fn a_session_the_leader_never_prepared_cannot_be_expired() {
    let faults = LockConfig {
        session_expiries: 1,
        ..LockConfig::new(Recipe::Standard, 1)
    };
    let model = opening(1, faults, ZabConfig::new(3, 0));
    let expire = LockAction::ExpireSession {
        client: ActorId::Client(0),
    };
    let (mut enabled, mut unprepared) = (0, 0);
    let mut actions = Vec::new();
    each_reachable(&model, usize::MAX, |state| {
        actions.clear();
        model.actions(state, &mut actions);
        let expires = actions.contains(&expire);
        assert!(!expires || prepared_session(state, 0));
        enabled += usize::from(expires);
        unprepared += usize::from(!prepared_session(state, 0));
    });
    assert!(enabled > 0 && unprepared > 0);
    let start = model.init_states().swap_remove(0);
    assert_eq!(start.zk.agreed_tree().session(0), SessionState::Unopened);
    assert!(!start.zk.trackers[2].is_tracked(0));
}

/// Goal: a client whose server crashes before the client has read the answer to its connect
/// request has no session to resume: it reads no `Disconnected` (it never was connected), its
/// library connects to another server with a new connect request, and the recipe starts when
/// that server answers. Method: C0's createSession forwarded by S0, then S0 crashes; C0 connects
/// to S1 and runs until it waits for its create.
#[test]
fn a_client_whose_server_crashes_during_its_handshake_connects_again_with_a_new_request() {
    let faults = LockConfig {
        crashes: 1,
        ..LockConfig::new(Recipe::Standard, 1)
    };
    let zab = ZabConfig {
        crashes: 1,
        ..ZabConfig::new(3, 0)
    };
    let model = opening(1, faults, zab);
    let mut state = model.init_states().swap_remove(0);
    let c0 = ActorId::Client(0);
    state = take(&model, &state, LockAction::StartAcquire { client: c0 });
    assert_eq!(state.clients[0].phase, Phase::WaitSession);
    state = take(&model, &state, request(&state, 0)); // S0 forwards the createSession
    let crash = LockAction::Ensemble(EnsembleStep::Crash { server: 0 });
    state = take(&model, &state, crash);
    assert!(!state.zk.is_connected(0));
    assert_eq!(state.links[0].to_server[..], [Request::CreateSession]);
    assert!(
        state.links[0].from_server.is_empty(),
        "no Disconnected before a session"
    );
    let reconnect = LockAction::Ensemble(EnsembleStep::Reconnect {
        client: 0,
        server: 1,
    });
    let after = take(&model, &state, reconnect);
    use crate::Explain;
    assert_eq!(
        model.describe_step(&state, &reconnect, &after),
        "C0 reconnects to S1 (seen 0x000, S1 at 0x000); it has no session yet: its library sends a new connect request to S1"
    );
    assert!(
        after.links[0].from_server.is_empty(),
        "no Reconnected either"
    );
    let end = run_until_quiet(&model, after, &[0], false);
    assert_eq!(end.clients[0].phase, Phase::InCs);
    assert!(applied_session(&end, 1, 0));
    let sessions = end
        .zk
        .txns
        .iter()
        .filter(|t| matches!(t, LockTxn::CreateSession { .. }))
        .count();
    assert_eq!(sessions, 1, "S0's forward was lost with S0");
}

//! A client whose session expired opens a new session and tries again (`retry_after_expiry` on an
//! ensemble): the new connect request becomes a createSession once the leader no longer tracks
//! the old session, what the expired handle had asked is dropped, and the client acquires with
//! its new session.

use stateright::Model;

use super::tests::{log_own, reply, request, run_until_quiet, take, zab};
use super::{Ensemble, EnsembleConfig, EnsembleStep, Timing};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, LockState, Phase, Recipe};
use crate::zab::ZabConfig;
use crate::zookeeper::{LockTxn, Request, ZkService, MAX_CLIENTS};

const C0: ActorId = ActorId::Client(0);

/// Curator, C0 alone on `server`, retrying after its one session expiry; `message_loss` breaks
/// of its own connection, each expiry only after it read `Disconnected` when `disconnect_first`.
fn retrying(server: u8, message_loss: u8, disconnect_first: bool) -> LockModel<Ensemble> {
    let config = LockConfig {
        message_loss,
        session_expiries: 1,
        retry_after_expiry: true,
        ..LockConfig::new(Recipe::Curator, 1)
    };
    let ensemble = EnsembleConfig {
        timing: Timing {
            expiry_needs_silence: false,
            disconnect_before_expiry: disconnect_first,
        },
        ..EnsembleConfig::new(ZabConfig::new(3, 0), [server; MAX_CLIENTS])
    };
    LockModel::on_ensemble(config, ensemble).expect("valid")
}

/// The standard recipe, one client on S0 with no fault but `session_expiries`, retrying after
/// them if `retry`.
fn standard_alone(session_expiries: u8, retry: bool) -> LockModel<Ensemble> {
    let config = LockConfig {
        session_expiries,
        retry_after_expiry: retry,
        ..LockConfig::new(Recipe::Standard, 1)
    };
    let ensemble = EnsembleConfig::new(ZabConfig::new(3, 0), [0; MAX_CLIENTS]);
    LockModel::on_ensemble(config, ensemble).expect("valid")
}

/// The kinds of the transactions proposed so far, in order.
fn proposed(state: &LockState<Ensemble>) -> Vec<&'static str> {
    state
        .zk
        .txns
        .iter()
        .map(|txn| match txn {
            LockTxn::CreateSession { .. } => "createSession",
            LockTxn::Create { .. } => "create",
            LockTxn::Delete { .. } => "delete",
            LockTxn::Expire { .. } => "closeSession",
            LockTxn::Error { .. } => "error",
        })
        .collect()
}

/// Goal: a holder whose session the leader expires reads `SessionExpired`, opens a new session
/// (a createSession transaction after the closeSession), creates a new node with it and holds
/// again, then releases and is done. Method: C0 on the follower S0, every step but the
/// release taken in turn until nothing is left, then the release.
#[test]
fn a_client_whose_session_expired_opens_a_new_one_and_acquires_with_it() {
    let model = retrying(0, 0, false);
    let start = model.init_states().swap_remove(0);
    let holding = run_until_quiet(&model, start, &[0], false);
    assert_eq!(holding.clients[0].phase, Phase::InCs);
    let expired = take(&model, &holding, LockAction::ExpireSession { client: C0 });
    let again = run_until_quiet(&model, expired, &[0], false);
    assert_eq!(
        again.clients[0].phase,
        Phase::InCs,
        "holds with its new session"
    );
    assert_eq!(
        proposed(&again),
        ["create", "closeSession", "createSession", "create"]
    );
    assert_eq!(again.zk.opening, 0, "the new session's answer was read");
    assert!(again.zk.agreed_tree().is_live(0));
    let done = run_until_quiet(&model, again, &[0], true);
    assert_eq!(done.clients[0].phase, Phase::Done);
    assert!(done.zk.agreed_tree().child_nodes().is_empty());
}

/// Goal: told by a reconnection that its session ended while the leader has only prepared the
/// close, a client's new connect request waits until the leader has applied the close (the
/// model names a session by its client, so the two sessions must not overlap), and the lookup
/// its expired handle still held is dropped. Method: C0 on the leader S2: its create is applied
/// there and the answer lost with C0's connection; S2 expires C0; C0 reconnects to S0, is told
/// its session ended and reads it; the servers then commit the close.
#[test]
fn a_new_connect_request_waits_until_the_leader_applied_the_old_sessions_close() {
    let model = retrying(2, 1, true);
    let mut state = model.init_states().swap_remove(0);
    state = take(&model, &state, LockAction::StartAcquire { client: C0 });
    state = take(&model, &state, request(&state, 0));
    state = take(&model, &state, zab(2, 0));
    state = take(&model, &state, zab(0, 2));
    state = take(&model, &state, log_own(2));
    state = take(&model, &state, LockAction::LoseConnection { client: C0 });
    state = take(&model, &state, reply(&state, 0)); // ConnectionLoss: the lookup waits
    state = take(&model, &state, reply(&state, 0)); // Disconnected
    state = take(&model, &state, LockAction::ExpireSession { client: C0 });
    let to_s0 = EnsembleStep::Reconnect {
        client: 0,
        server: 0,
    };
    state = take(&model, &state, LockAction::Ensemble(to_s0));
    state = take(&model, &state, reply(&state, 0)); // SessionExpired
    assert_eq!(state.clients[0].phase, Phase::WaitSession);
    assert_eq!(state.zk.opening, 0b1);
    let held = state.links[0].to_server;
    assert_eq!(held.last(), Some(&Request::CreateSession));
    assert_eq!(
        held.len(),
        2,
        "the expired handle's lookup, then the new connect request"
    );
    state = take(&model, &state, request(&state, 0));
    assert_eq!(
        state.links[0].to_server.as_slice(),
        [Request::CreateSession],
        "the lookup was dropped"
    );
    assert!(state.links[0].from_server.is_empty());
    let connect = request(&state, 0);
    let enabled = |s: &LockState<Ensemble>| {
        let mut actions = Vec::new();
        model.actions(s, &mut actions);
        actions.contains(&connect)
    };
    assert!(
        state.zk.trackers[2].is_tracked(0),
        "S2 prepared the close only"
    );
    assert!(!enabled(&state));
    let servers_only = |action: &LockAction| {
        matches!(action, LockAction::Ensemble(step) if step.fault_kind().is_none()
            && !matches!(step, EnsembleStep::Reconnect { .. }))
    };
    let applied = super::failover_tests::run_until_told(
        &model,
        state,
        servers_only,
        |s: &LockState<Ensemble>| !s.zk.trackers[2].is_tracked(0),
        &mut Vec::new(),
    );
    assert!(enabled(&applied), "S2 applied the close");
    let asked = model.next_state(&applied, connect).expect("a step");
    let again = run_until_quiet(&model, asked, &[0], false);
    assert_eq!(again.clients[0].phase, Phase::InCs);
    assert_eq!(
        proposed(&again),
        ["create", "closeSession", "createSession", "create"]
    );
}

/// Goal: retrying after an expiry is refused where the model's naming of a session by its
/// client would blur two sessions: with a server flaw, and with `late_forwards`. Method: each
/// refusal's message.
#[test]
fn retrying_is_refused_where_two_sessions_of_a_client_could_overlap() {
    use crate::zookeeper::ServerFlaw;
    let config = LockConfig {
        session_expiries: 1,
        message_loss: 1,
        retry_after_expiry: true,
        ..LockConfig::new(Recipe::Curator, 1)
    };
    let ensemble = EnsembleConfig::new(ZabConfig::new(3, 0), [0; MAX_CLIENTS]);
    for flaw in ServerFlaw::ALL {
        let flawed = EnsembleConfig {
            flaw: Some(flaw),
            ..ensemble
        };
        let message = LockModel::on_ensemble(config, flawed).expect_err("refused");
        assert!(
            message.starts_with(&format!(
                "model.retry_after_expiry: not with zookeeper = \"{}\"",
                flaw.name()
            )),
            "{message}"
        );
    }
    let late = EnsembleConfig {
        late_forwards: true,
        ..ensemble
    };
    let message = LockModel::on_ensemble(config, late).expect_err("refused");
    assert!(message.starts_with("faults.late_forwards: not with model.retry_after_expiry"));
    assert!(LockModel::on_ensemble(config, ensemble).is_ok());
}

/// Goal: the states of a retrying world pack injectively and unpack to themselves (the new
/// `opening` bits included). Method: every reachable state of the second test's world.
#[test]
fn retrying_states_pack_injectively_and_unpack_to_themselves() {
    let model = retrying(2, 1, true);
    let mut opening = 0;
    super::tests::assert_packs_injectively(&model, usize::MAX, |state| {
        if state.zk.opening != 0 {
            opening += 1;
        }
    });
    assert!(opening > 0, "some state opens a new session");
}

/// Goal: a retrying world whose servers fail over has room in its log for the close a failover
/// makes the leader repeat (the close of a session whose client was told it ended, dropped with
/// the old leader), and a world that does not retry or does not fail over has no such room.
/// Method: the count of one client with one expiry, with and without retrying and a crash.
#[test]
fn a_retrying_world_that_fails_over_counts_a_repeated_close() {
    let count = |retry: bool, crashes: u8| {
        let config = LockConfig {
            session_expiries: 1,
            crashes,
            retry_after_expiry: retry,
            ..LockConfig::new(Recipe::Curator, 1)
        };
        let ensemble = EnsembleConfig {
            reopens_sessions: retry,
            ..EnsembleConfig::new(
                ZabConfig {
                    crashes,
                    ..ZabConfig::new(3, 0)
                },
                [0; MAX_CLIENTS],
            )
        };
        ensemble.transactions_needed(&config)
    };
    // A create and a delete, the expiry, and with retrying a createSession and a create more;
    // a crash makes the client send one write again.
    assert_eq!(count(false, 0), 3);
    assert_eq!(count(true, 0), 5);
    assert_eq!(count(false, 1), 4);
    assert_eq!(count(true, 1), 7, "the repeated close");
}

/// Goal: the writes the expired handle's old server is still forwarding are dropped when the
/// client opens its new session: taken later by a leader, they would pass for the new session's
/// (the same client), where ZooKeeper refuses them by their old session id. Method: C0's create
/// is forwarded by S1 and its connection breaks with the forward on its way; C0 reconnects to
/// S0; S2 expires C0 and commits the close with S0 while S1's link to S2 holds the forward;
/// C0 reads `SessionExpired` and opens a new session: the forward is gone.
#[test]
fn an_expired_handles_forwarded_write_is_dropped_when_the_client_opens_a_new_session() {
    let model = retrying(1, 1, false);
    let mut state = model.init_states().swap_remove(0);
    state = take(&model, &state, LockAction::StartAcquire { client: C0 });
    state = take(&model, &state, request(&state, 0)); // S1 forwards the create
    state = take(&model, &state, LockAction::LoseConnection { client: C0 });
    let forwarded = |s: &LockState<Ensemble>| {
        s.zk.zab
            .net
            .iter()
            .any(|p| matches!(p.msg, crate::zab::Msg::Forward { client: 0, .. }))
    };
    assert!(forwarded(&state), "the forward outlives the connection");
    let to_s0 = EnsembleStep::Reconnect {
        client: 0,
        server: 0,
    };
    let allowed = |action: &LockAction| match action {
        LockAction::Ensemble(step) => {
            step.fault_kind().is_none()
                && !matches!(step, EnsembleStep::Deliver { from: 1, to: 2 })
                && (!matches!(step, EnsembleStep::Reconnect { .. }) || *step == to_s0)
        }
        LockAction::Deliver { .. } => true,
        _ => false,
    };
    let reconnected = super::failover_tests::run_until_told(
        &model,
        state,
        allowed,
        |s: &LockState<Ensemble>| s.zk.is_connected(0) && s.zk.server_of_client(0) == 0,
        &mut Vec::new(),
    );
    let expiring = take(
        &model,
        &reconnected,
        LockAction::ExpireSession { client: C0 },
    );
    let mut told = Vec::new();
    let reopened = super::failover_tests::run_until_told(
        &model,
        expiring,
        allowed,
        |s: &LockState<Ensemble>| s.clients[0].phase == Phase::WaitSession,
        &mut told,
    );
    assert_eq!(reopened.zk.opening, 0b1, "{told:#?}");
    assert!(!forwarded(&reopened), "{told:#?}");
}

/// Goal: a client whose new session expires too, before it has read that session's answer,
/// learns it (its server's news of the new session reaches it; only the old session's is
/// dropped), so nothing is left stuck. Method: a complete search of one client retrying after
/// each of two expiries: no safety property is violated (`no_deadlock` was, in 30 steps, when
/// every news was dropped until the client read its new session's answer).
#[test]
fn a_new_session_that_expires_before_its_answer_is_read_leaves_nothing_stuck() {
    let search = super::tests::search(&standard_alone(2, true));
    assert!(search.violated.is_empty(), "{:?}", search.violated);
    assert_eq!(search.states, 390_325);
}

/// Goal: a reduced search takes every step of a retrying ensemble world: reading
/// `SessionExpired` there changes the servers (the expired handle's forwards are dropped), so a
/// client's reading is not its own step and no persistent set may hold it. Method: every
/// reachable state of a world with no fault but the expiry, where without retrying the
/// reduction names sets: none is named.
#[test]
fn a_retrying_ensemble_names_no_persistent_sets() {
    use crate::PartialOrder;
    use std::ops::ControlFlow;
    let named = |retry: bool| {
        let model = standard_alone(1, retry);
        let mut sets = 0;
        super::tests::each_reachable(&model, usize::MAX, |state| {
            let mut actions = Vec::new();
            model.actions(state, &mut actions);
            model.persistent_sets(state, &actions, &mut |_| {
                sets += 1;
                ControlFlow::Continue(())
            });
        });
        sets
    };
    assert!(named(false) > 0, "the reduction applies without retrying");
    assert_eq!(named(true), 0);
}

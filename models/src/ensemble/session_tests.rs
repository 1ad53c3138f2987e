//! Sessions on the ensemble: the leader's expiry as a closeSession through ZAB, the tracker's
//! closing check and ZOOKEEPER-1208's race walked step by step, and the `[timing]` guards.

use stateright::Model;

use super::tests::{assert_packs_injectively, request, run_until_quiet, take, zab};
use super::{Ensemble, EnsembleConfig, Timing};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, LockState, Phase, Recipe};
use crate::zab::ZabConfig;
use crate::zookeeper::{Reply, ServerFlaw, SessionState, ZkService};
use crate::Explain;

/// Standard recipe, 2 clients on S0 and S1, 3 servers with S2 leading, one session expiry, the
/// servers running `flaw`'s code (none: the fixed code) under `timing`.
fn with_expiry(flaw: Option<ServerFlaw>, timing: Timing, pauses: u8) -> LockModel<Ensemble> {
    let config = LockConfig {
        session_expiries: 1,
        client_pauses: pauses,
        ..LockConfig::new(Recipe::Standard, 2)
    };
    let ensemble = EnsembleConfig {
        flaw,
        timing,
        ..EnsembleConfig::new(ZabConfig::new(3, 0), EnsembleConfig::followers_in_turn(3))
    };
    LockModel::on_ensemble(config, ensemble).expect("valid")
}

fn expire(client: u8) -> LockAction {
    LockAction::ExpireSession {
        client: ActorId::Client(client),
    }
}

/// Goal: ZOOKEEPER-1208's race and its fix. C0's create, forwarded by S0, reaches the leader S2
/// after S2 prepared C0's closeSession: the fixed code refuses it (the session is closing), and
/// zk-1208's prepares it, so it is applied after the closeSession on every server and its node
/// is owned by an ended session, which `no_orphan_nodes` counts. In both, C0 reads only
/// `SessionExpired`: its server closed the connection before applying what came after. Method:
/// the race by hand, then every server step and C0's reads until nothing is left.
#[test]
fn a_create_prepared_after_its_sessions_close_outlives_it_unless_the_closing_check_refuses_it() {
    for flaw in [Some(ServerFlaw::Zk1208), None] {
        let model = with_expiry(flaw, Timing::default(), 0);
        let mut state = model.init_states().swap_remove(0);
        let c0 = ActorId::Client(0);
        state = take(&model, &state, LockAction::StartAcquire { client: c0 });
        state = take(&model, &state, request(&state, 0)); // S0 forwards the create
        let expiry = expire(0);
        let expired = take(&model, &state, expiry);
        assert_eq!(
            model.describe_step(&state, &expiry, &expired),
            "S2 expires C0's session: closeSession prepared and proposed (1,1); C0 reads SessionExpired once S0 applies it"
        );
        assert!(expired.zk.trackers[2].is_closing(0));
        assert!(
            expired.links[0].from_server.is_empty(),
            "nothing reaches C0 before S0 applies the closeSession"
        );
        let prepare = zab(0, 2);
        let prepared = take(&model, &expired, prepare);
        let told = model.describe_step(&expired, &prepare, &prepared);
        let create = "create(/lock/lock-, EPHEMERAL_SEQUENTIAL)";
        let expected = match flaw {
            Some(_) => format!("S2 prepares C0's {create} of a closing session without checking it (zk-1208) and proposes create /lock/lock-0000000000 by C0 (1,2)"),
            None => format!("S2 prepares C0's {create} of a closing session: refused SessionExpired, proposes error SessionExpired for C0 (1,2)"),
        };
        assert!(told.ends_with(&expected), "{told}");
        let end = run_until_quiet(&model, prepared, &[0], false);
        assert_eq!(end.clients[0].phase, Phase::Abandoned, "{flaw:?}");
        assert!(end.links[0].is_empty(), "{flaw:?}");
        assert_eq!(end.zk.session(0), SessionState::Expired);
        assert!(
            !end.zk.trackers[2].is_tracked(0),
            "the leader applied the close"
        );
        let tree = end.zk.agreed_tree();
        let no_orphans = model
            .properties()
            .into_iter()
            .find(|p| p.name == crate::prop::NO_ORPHAN_NODES)
            .expect("declared");
        match flaw {
            Some(_) => {
                assert_eq!(tree.child_nodes().len(), 1);
                assert_eq!(tree.child_nodes()[0].1.owner, Some(0));
                assert_eq!(end.orphan_nodes(false), 1);
                assert!(!(no_orphans.condition)(&model, &end));
            }
            None => {
                assert!(tree.child_nodes().is_empty());
                assert_eq!(end.orphan_nodes(false), 0);
                assert!((no_orphans.condition)(&model, &end));
            }
        }
    }
}

/// Whether the leader may expire `client`'s session in `state`.
fn may_expire(model: &LockModel<Ensemble>, state: &LockState<Ensemble>, client: u8) -> bool {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    actions.contains(&expire(client))
}

/// Goal: without a timing assumption the leader may expire any session it tracks, once; each
/// assumption holds the expiry back until the client is paused, when the quorum no longer hears
/// from it. Method: the expiry step's guard at the start, after C0 pauses, and after C0's
/// session is closing.
#[test]
fn timing_assumptions_hold_the_expiry_back_until_the_client_is_silent() {
    let anytime = with_expiry(None, Timing::default(), 1);
    let start = anytime.init_states().swap_remove(0);
    assert!(may_expire(&anytime, &start, 0) && may_expire(&anytime, &start, 1));
    let closing = anytime.next_state(&start, expire(0)).expect("a step");
    assert!(!may_expire(&anytime, &closing, 0), "expired once");
    for timing in Timing::each_alone() {
        let model = with_expiry(None, timing, 1);
        let start = model.init_states().swap_remove(0);
        assert!(!may_expire(&model, &start, 0), "{timing:?}");
        let pause = LockAction::Pause {
            client: ActorId::Client(0),
        };
        let paused = take(&model, &start, pause);
        assert!(may_expire(&model, &paused, 0), "{timing:?}");
        assert!(!may_expire(&model, &paused, 1), "{timing:?}: C1 runs");
    }
}

/// Goal: a reply of a transaction applied after its session's end is never sent (the server
/// closed the connection), so a client reads `SessionExpired` last, as the lock world asserts.
/// Method: the expiry of a holder on the fixed code, every step run: C0 reads `SessionExpired`
/// and nothing after it.
#[test]
fn nothing_reaches_a_client_after_session_expired() {
    let model = with_expiry(None, Timing::default(), 0);
    let state = run_until_quiet(&model, model.init_states().swap_remove(0), &[0], false);
    assert_eq!(state.clients[0].phase, Phase::InCs);
    let state = take(&model, &state, expire(0));
    let state = run_until_quiet(&model, state, &[], false);
    assert_eq!(state.links[0].from_server[..], [Reply::SessionExpired]);
    assert!(state.zk.agreed_tree().child_nodes().is_empty());
}

/// Goal: the tracker is packed with the rest of the state, so states that differ only in it
/// (which the flawed and fixed codes reach) pack apart and unpack to themselves. Method: the
/// first 30,000 states of the zk-1208 world, breadth first.
#[test]
fn states_with_closing_sessions_pack_injectively_and_unpack_to_themselves() {
    let model = with_expiry(Some(ServerFlaw::Zk1208), Timing::default(), 0);
    let mut closing = 0;
    assert_packs_injectively(&model, 30_000, |state| {
        closing += usize::from(state.zk.trackers[2].is_closing(0));
    });
    assert!(
        closing > 1_000,
        "{closing} states with C0's session closing"
    );
}

/// Goal: the narrative names the ensemble server that drops a request of an ended session (it
/// used to say "S", the single server's name). Method: C0's create waits on its link while the
/// leader expires C0 and S0 applies the close; then the create reaches S0.
#[test]
fn the_server_that_drops_an_ended_sessions_request_is_named() {
    let model = with_expiry(None, Timing::default(), 0);
    let mut state = model.init_states().swap_remove(0);
    let c0 = ActorId::Client(0);
    state = take(&model, &state, LockAction::StartAcquire { client: c0 });
    state = take(&model, &state, expire(0));
    let create = request(&state, 0);
    state = super::failover_tests::run_until_told(
        &model,
        state,
        |action| *action != create,
        |state| !state.zk.takes_requests_of(model.service_config(), 0),
        &mut Vec::new(),
    );
    let dropped = take(&model, &state, create);
    let told = model.describe_step(&state, &create, &dropped);
    assert!(
        told.starts_with("S0 drops C0's create(/lock/lock-, EPHEMERAL_SEQUENTIAL)"),
        "{told}"
    );
}

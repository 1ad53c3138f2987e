//! Failover on an ensemble: server crashes, connection loss, reconnection and watch
//! re-registration, walked step by step and searched (docs/design/ensemble.md §5.3).

use std::collections::{HashSet, VecDeque};

use stateright::Model;

use super::tests::reply;
use super::{Ensemble, EnsembleConfig, EnsembleStep};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, LockState, Phase, Recipe};
use crate::zab::types::Zxid;
use crate::zab::ZabConfig;
use crate::zookeeper::{EventKind, Path, Reply, ZkService};
use crate::Explain;

/// Standard recipe, 2 clients on S0 and S1, S2 leading epoch 1; `crashable` the only server that
/// may crash, once; epochs up to 2 (one failover).
fn one_crash(crashable: u8) -> LockModel<Ensemble> {
    let zab = ZabConfig {
        crashes: 1,
        epochs: 2,
        ..ZabConfig::new(3, 0)
    };
    let ensemble = EnsembleConfig {
        crashable: 1 << crashable,
        ..EnsembleConfig::new(zab, EnsembleConfig::followers_in_turn(3))
    };
    let config = LockConfig {
        crashes: 1,
        ..LockConfig::new(Recipe::Standard, 2)
    };
    LockModel::on_ensemble(config, ensemble).expect("valid")
}

pub(super) fn enabled(model: &LockModel<Ensemble>, state: &LockState<Ensemble>) -> Vec<LockAction> {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    actions
}

/// Take `action`, which must be enabled in `state`.
fn take(
    model: &LockModel<Ensemble>,
    state: &LockState<Ensemble>,
    action: LockAction,
) -> LockState<Ensemble> {
    let actions = enabled(model, state);
    assert!(
        actions.contains(&action),
        "{action} is not enabled: {actions:?}"
    );
    model.next_state(state, action).expect("a step")
}

/// Take the first enabled step that `allowed` lets through, and again, until `done` holds.
fn run_until(
    model: &LockModel<Ensemble>,
    state: LockState<Ensemble>,
    allowed: impl Fn(&LockAction) -> bool,
    done: impl Fn(&LockState<Ensemble>) -> bool,
) -> LockState<Ensemble> {
    run_until_told(model, state, allowed, done, &mut Vec::new())
}

/// [`run_until`], with each step's narrative pushed to `told`.
pub(super) fn run_until_told(
    model: &LockModel<Ensemble>,
    mut state: LockState<Ensemble>,
    allowed: impl Fn(&LockAction) -> bool,
    done: impl Fn(&LockState<Ensemble>) -> bool,
    told: &mut Vec<String>,
) -> LockState<Ensemble> {
    for _ in 0..200 {
        if done(&state) {
            return state;
        }
        let action = *enabled(model, &state)
            .iter()
            .find(|a| allowed(a))
            .unwrap_or_else(|| panic!("no step the test allows after {told:#?}"));
        let next = model.next_state(&state, action).expect("a step");
        told.push(model.describe_step(&state, &action, &next));
        state = next;
    }
    panic!("not done after 200 steps: {state:?}")
}

/// No fault, no reconnection, and no release by C0 unless `release`.
fn no_fault(release: bool) -> impl Fn(&LockAction) -> bool {
    move |action| match action {
        LockAction::Ensemble(step) => {
            step.fault_kind().is_none() && !matches!(step, EnsembleStep::Reconnect { .. })
        }
        LockAction::Release { client } => release || *client != ActorId::Client(0),
        _ => true,
    }
}

fn ensemble(step: EnsembleStep) -> LockAction {
    LockAction::Ensemble(step)
}

fn reconnect(client: u8, server: u8) -> LockAction {
    ensemble(EnsembleStep::Reconnect { client, server })
}

/// Goal: a follower that loses its leader drops its clients: when it times out, a client with a
/// request outstanding reads `ConnectionLoss` and then `Disconnected`, a client waiting on
/// nothing only `Disconnected`; until then, the follower keeps them. Method: C0's create reaches
/// S0, which forwards it to S2; S2 crashes (the forward is lost with the connection); S0, then
/// S1 (whose C1 has not started), time out.
#[test]
fn a_follower_that_loses_its_leader_drops_its_clients() {
    let model = one_crash(2);
    let mut state = model.init_states().swap_remove(0);
    state = take(
        &model,
        &state,
        LockAction::StartAcquire {
            client: ActorId::Client(0),
        },
    );
    let request = LockAction::Deliver {
        from: ActorId::Client(0),
        to: ActorId::Replica(0),
        msg: crate::lock::Msg::Request(state.links[0].to_server[0]),
    };
    state = take(&model, &state, request);
    state = take(&model, &state, ensemble(EnsembleStep::Crash { server: 2 }));
    assert!(state.zk.is_connected(0), "S0 has not noticed yet");
    assert!(state.links[0].from_server.is_empty());
    state = take(
        &model,
        &state,
        ensemble(EnsembleStep::Timeout { server: 0 }),
    );
    assert!(!state.zk.is_connected(0) && state.zk.is_connected(1));
    assert_eq!(
        state.links[0].from_server.as_slice(),
        [Reply::ConnectionLoss, Reply::Disconnected]
    );
    assert_eq!(
        state.clients[0].phase,
        Phase::WaitCreated,
        "it has not read them yet"
    );
    let before = state.clone();
    let timeout = ensemble(EnsembleStep::Timeout { server: 1 });
    state = take(&model, &state, timeout);
    let text = model.describe_step(&before, &timeout, &state);
    assert!(
        text.contains("S1 times out; S1 left broadcast: C1 disconnected"),
        "{text}"
    );
    assert!(!state.zk.is_connected(1));
    assert_eq!(state.links[1].from_server.as_slice(), [Reply::Disconnected]);
    assert!(
        !enabled(&model, &state)
            .iter()
            .any(|a| matches!(a, LockAction::Ensemble(EnsembleStep::Reconnect { .. }))),
        "no server serves: nobody reconnects"
    );
}

/// Goal: a client's library connects again only once its application has read the
/// `Disconnected` of the connection it lost (what bounds the replies in flight to a client).
/// Method: S1 crashes; C1, waiting on nothing, has `Disconnected` unread: no reconnection of C1
/// is enabled until it reads it, then one to each serving server is.
#[test]
fn a_library_reconnects_only_after_its_application_read_disconnected() {
    let model = one_crash(1);
    let mut state = model.init_states().swap_remove(0);
    state = take(&model, &state, ensemble(EnsembleStep::Crash { server: 1 }));
    assert_eq!(state.links[1].from_server.as_slice(), [Reply::Disconnected]);
    let reconnects = |state: &LockState<Ensemble>| {
        enabled(&model, state)
            .into_iter()
            .filter(|a| matches!(a, LockAction::Ensemble(EnsembleStep::Reconnect { .. })))
            .collect::<Vec<_>>()
    };
    assert_eq!(reconnects(&state), []);
    state = take(&model, &state, reply(&state, 1));
    assert_eq!(reconnects(&state), [reconnect(1, 0), reconnect(1, 2)]);
}

/// Goal: a client does not reconnect to a server behind the last zxid it has seen
/// (`processConnectRequest` refuses it), and may once that server catches up. Method: C0's
/// create is committed and applied by S2 and S0 while nothing reaches S1; C0 reads `Created`
/// (seen (1,1)); S0 crashes; S1 is at (0,0)... until it takes S2's PROPOSAL and COMMIT.
#[test]
fn a_reconnect_to_a_server_behind_seen_is_not_enabled() {
    let model = one_crash(0);
    let mut state = model.init_states().swap_remove(0);
    let to_s1 =
        |a: &LockAction| matches!(a, LockAction::Ensemble(EnsembleStep::Deliver { to: 1, .. }));
    let allowed = |a: &LockAction| no_fault(false)(a) && !to_s1(a);
    state = take(
        &model,
        &state,
        LockAction::StartAcquire {
            client: ActorId::Client(0),
        },
    );
    state = run_until(&model, state, allowed, |s| {
        s.clients[0].phase == Phase::WaitChildren
    });
    let seen = state.zk.seen(0);
    assert_eq!(seen, Zxid::new(1, 1), "C0 read its create's answer");
    state = take(&model, &state, ensemble(EnsembleStep::Crash { server: 0 }));
    assert!(!state.zk.is_connected(0));
    assert!(state.zk.zab.server(1).processed_zxid() < seen);
    assert_eq!(
        state.links[0].from_server.as_slice(),
        [Reply::ConnectionLoss, Reply::Disconnected]
    );
    state = take(&model, &state, reply(&state, 0));
    state = take(&model, &state, reply(&state, 0));
    let actions = enabled(&model, &state);
    assert!(!actions.contains(&reconnect(0, 1)), "S1 is behind C0");
    assert!(actions.contains(&reconnect(0, 2)));
    state = run_until(
        &model,
        state,
        |a| to_s1(a),
        |s| s.zk.zab.server(1).processed_zxid() >= seen,
    );
    let before = state.clone();
    state = take(&model, &state, reconnect(0, 1));
    let text = model.describe_step(&before, &reconnect(0, 1), &state);
    assert!(
        text.contains("C0 reconnects to S1 (seen 0x101, S1 at 0x101)"),
        "{text}"
    );
}

/// Goal: watches move with a reconnecting client, and the new server fires at once a watch whose
/// node changed after the client's last seen zxid (`SetWatches`). Method: C0 holds; C1 (on S1)
/// waits on a watch of C0's node; S1 crashes (C1 reads only `Disconnected`: it waited on
/// nothing); C0 releases, applied by S2 and S0; C1 reconnects to S0, which fires
/// `NodeDeleted(/lock/lock-0)` at once; C1 then acquires through S0.
#[test]
fn watch_re_registration_fires_on_reconnect() {
    let model = one_crash(1);
    let mut state = model.init_states().swap_remove(0);
    state = run_until(&model, state, no_fault(false), |s| {
        s.clients[0].phase == Phase::InCs && s.clients[1].phase == Phase::WaitWatch
    });
    state = take(&model, &state, ensemble(EnsembleStep::Crash { server: 1 }));
    assert_eq!(state.links[1].from_server.as_slice(), [Reply::Disconnected]);
    assert!(
        !state.zk.watches.is_empty(),
        "C1's watch stays with its library"
    );
    state = run_until(&model, state, no_fault(true), |s| {
        s.clients[0].phase == Phase::Done
    });
    assert!(
        state.links[1]
            .from_server
            .iter()
            .all(|r| !matches!(r, Reply::Event { .. })),
        "nobody told C1"
    );
    state = take(&model, &state, reconnect(1, 0));
    let deleted = Reply::Event {
        kind: EventKind::NodeDeleted,
        path: Path::Child(0),
    };
    assert_eq!(
        state.links[1].from_server.as_slice(),
        [Reply::Reconnected, deleted],
        "Reconnected, then the watch S0 fired at once"
    );
    assert!(state.zk.watches.is_empty(), "the watch fired");
    assert_eq!(state.zk.server_of(1), ActorId::Replica(0));
    state = run_until(&model, state, no_fault(true), |s| {
        s.clients[1].phase == Phase::InCs
    });
    assert_eq!(state.holders(), 1);
}

/// Goal: a reconnection's watch is re-registered, not fired, when its node did not change after
/// the client's last seen zxid. Method: as above, but C1 reconnects to S0 before C0 releases.
#[test]
fn an_unchanged_watch_is_re_registered_on_reconnect() {
    let model = one_crash(1);
    let mut state = model.init_states().swap_remove(0);
    state = run_until(&model, state, no_fault(false), |s| {
        s.clients[0].phase == Phase::InCs && s.clients[1].phase == Phase::WaitWatch
    });
    let watches = state.zk.watches;
    state = take(&model, &state, ensemble(EnsembleStep::Crash { server: 1 }));
    state = take(&model, &state, reply(&state, 1));
    state = take(&model, &state, reconnect(1, 0));
    assert_eq!(state.links[1].from_server.as_slice(), [Reply::Reconnected]);
    assert_eq!(state.zk.watches, watches);
    state = run_until(&model, state, no_fault(true), |s| {
        s.clients[1].phase == Phase::InCs
    });
    assert_eq!(state.clients[0].phase, Phase::Done);
}

/// Goal: an ensemble state with failover packs injectively and unpacks to itself (the
/// connection states, seen zxids and answers in flight included). Method: the first 30,000
/// states of a leader crash, breadth-first.
#[test]
fn failover_states_pack_injectively_and_unpack_to_themselves() {
    use crate::pack::PackState;
    let model = one_crash(2);
    let mut queue: VecDeque<LockState<Ensemble>> = model.init_states().into();
    let mut seen: HashSet<LockState<Ensemble>> = queue.iter().cloned().collect();
    let mut packed = HashSet::new();
    let mut disconnected = 0;
    while let Some(state) = queue.pop_front() {
        let mut bytes = Vec::new();
        state.pack_state(&mut bytes);
        assert_eq!(LockState::<Ensemble>::unpack_state(&bytes), state);
        assert!(packed.insert(bytes), "two states pack alike");
        disconnected += usize::from(state.zk.disconnected != 0);
        if seen.len() > 30_000 {
            continue;
        }
        for action in enabled(&model, &state) {
            let next = model.next_state(&state, action).expect("a step");
            if seen.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    assert!(
        disconnected > 100,
        "{disconnected} states with a client disconnected"
    );
}

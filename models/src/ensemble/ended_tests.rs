//! A session whose end is under way or whose client has left it for good: its nodes are not
//! orphans while a leader has prepared their removal or the client was told the session ended,
//! and the leader expires a session nothing will touch again as a weakly fair step, outside the
//! `session_expiries` budget.

use stateright::Model;

use super::tests::{log_own, reply, request, take, zab};
use super::{Ensemble, EnsembleConfig, EnsembleStep, Timing};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, Phase, Recipe};
use crate::zab::ZabConfig;
use crate::zookeeper::{Reply, ZkService};

const C0: ActorId = ActorId::Client(0);

/// Curator, C0 alone on the leader S2, one break of its own connection, one expiry, the
/// expiry only after the client read `Disconnected`.
fn on_the_leader() -> LockModel<Ensemble> {
    let config = LockConfig {
        message_loss: 1,
        session_expiries: 1,
        ..LockConfig::new(Recipe::Curator, 1)
    };
    let ensemble = EnsembleConfig {
        timing: Timing {
            expiry_needs_silence: false,
            disconnect_before_expiry: true,
        },
        ..EnsembleConfig::new(ZabConfig::new(3, 0), [2; crate::zookeeper::MAX_CLIENTS])
    };
    LockModel::on_ensemble(config, ensemble).expect("valid")
}

/// Goal: a node whose removal the leader has prepared is not an orphan, nor one whose client was
/// told its session ended. C0's create is applied at S2 and the reply is lost with C0's
/// connection; S2 expires C0 (its closeSession prepared, not committed), C0 reconnects to S0, is
/// told its session ended and abandons: the agreed tree still has C0's node, which goes when the
/// closeSession commits. Method: the shortest trace the search found before the change, step by
/// step.
#[test]
fn a_node_whose_sessions_close_is_prepared_is_not_an_orphan() {
    let model = on_the_leader();
    let mut state = model.init_states().swap_remove(0);
    state = take(&model, &state, LockAction::StartAcquire { client: C0 });
    state = take(&model, &state, request(&state, 0)); // S2 prepares and proposes (1,1)
    state = take(&model, &state, zab(2, 0));
    state = take(&model, &state, zab(0, 2));
    state = take(&model, &state, log_own(2)); // committed, applied at S2: Created sent
    state = take(&model, &state, LockAction::LoseConnection { client: C0 });
    state = take(&model, &state, reply(&state, 0)); // ConnectionLoss: the lookup waits
    state = take(&model, &state, reply(&state, 0)); // Disconnected
    state = take(&model, &state, LockAction::ExpireSession { client: C0 });
    assert_eq!(state.orphan_nodes(true), 0, "S2 prepared the close");
    state = take(
        &model,
        &state,
        LockAction::Ensemble(EnsembleStep::Reconnect {
            client: 0,
            server: 0,
        }),
    );
    assert_eq!(
        state.links[0].from_server.as_slice(),
        [Reply::SessionExpired]
    );
    assert_eq!(state.zk.agreed_tree().child_nodes().len(), 1, "C0's node");
    assert_eq!(state.orphan_nodes(true), 0, "told its session ended");
    state = take(&model, &state, reply(&state, 0));
    assert_eq!(state.clients[0].phase, Phase::Abandoned);
    assert_eq!(state.orphan_nodes(true), 0);
}

/// Goal: the leader expires the session of a client that will never touch it again whatever is
/// left of the `session_expiries` budget. Method: C0 crashes in a world with no expiry budget:
/// its expiry is enabled and leaves the budget as it was.
#[test]
fn a_crashed_clients_session_is_expired_outside_the_budget() {
    let config = LockConfig {
        client_crashes: 1,
        ..LockConfig::new(Recipe::Standard, 1)
    };
    let ensemble = EnsembleConfig::new(ZabConfig::new(3, 0), [0; crate::zookeeper::MAX_CLIENTS]);
    let model = LockModel::on_ensemble(config, ensemble).expect("valid");
    let mut state = model.init_states().swap_remove(0);
    state = take(&model, &state, LockAction::StartAcquire { client: C0 });
    state = take(&model, &state, LockAction::CrashClient { client: C0 });
    let mut actions = Vec::new();
    model.actions(&state, &mut actions);
    let expire = LockAction::ExpireSession { client: C0 };
    assert!(actions.contains(&expire), "{actions:?}");
    let expired = take(&model, &state, expire);
    assert_eq!(expired.faults.session_expiries, 0);
}

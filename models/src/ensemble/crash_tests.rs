//! Client crashes on an ensemble (docs/design/ensemble.md §5.2): a crashed client sends and reads
//! nothing more, its server closes its connection but not its session, so its nodes stay until
//! the leader's expiry of the session commits; that expiry is a weakly fair step.

use stateright::Model;

use super::failover_tests::{enabled, run_until_told as run_until};
use super::{Ensemble, EnsembleConfig, Timing};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, LockState, Phase, Recipe};
use crate::timeline::{Condition, Timeline};
use crate::zab::ZabConfig;
use crate::zookeeper::ZkService;
use crate::{ActionInfo, Liveness};

/// `scenarios/ensemble/holder-crash.toml`: the standard recipe, 2 clients on S0 and S1, S2
/// leading, one client crash and one session expiry, under `expiry_needs_silence`.
fn holder_crash() -> LockModel<Ensemble> {
    let config = LockConfig {
        session_expiries: 1,
        client_crashes: 1,
        ..LockConfig::new(Recipe::Standard, 2)
    };
    LockModel::on_ensemble(config, holder_crash_ensemble()).expect("valid")
}

/// The holder-crash world's ensemble: 3 servers, S2 leading.
fn holder_crash_ensemble() -> EnsembleConfig {
    EnsembleConfig {
        timing: Timing {
            expiry_needs_silence: true,
            disconnect_before_expiry: false,
        },
        ..EnsembleConfig::new(ZabConfig::new(3, 0), EnsembleConfig::followers_in_turn(3))
    }
}

const C0: ActorId = ActorId::Client(0);

fn expire_c0() -> LockAction {
    LockAction::ExpireSession { client: C0 }
}

/// Whether `action` is a step of C0's own or a delivery to or from it.
fn involves_c0(action: &LockAction) -> bool {
    match *action {
        LockAction::StartAcquire { client }
        | LockAction::UseResource { client }
        | LockAction::Release { client } => client == C0,
        LockAction::Deliver { from, to, .. } => from == C0 || to == C0,
        _ => false,
    }
}

/// C0 acquires with C1 queued behind it (C1 has created its node and waits for C0's), no fault.
fn c0_holds_c1_waits(model: &LockModel<Ensemble>) -> LockState<Ensemble> {
    let no_fault = |action: &LockAction| match action {
        LockAction::Ensemble(step) => step.fault_kind().is_none(),
        LockAction::Release { .. }
        | LockAction::ExpireSession { .. }
        | LockAction::Pause { .. }
        | LockAction::CrashClient { .. } => false,
        _ => true,
    };
    let start = model.init_states().swap_remove(0);
    let queued = |s: &LockState<Ensemble>| {
        s.clients[0].phase == Phase::InCs && s.clients[1].phase == Phase::WaitWatch
    };
    run_until(model, start, no_fault, queued, &mut Vec::new())
}

/// Goal: a crashed holder sends and reads nothing more, yet its node stays while its session is
/// open: no one else acquires until the leader's expiry of the session commits, and the expiry
/// is enabled only once the client is silent. Method: C0 holds and C1 waits; the expiry is not
/// enabled (S2 hears C0); C0 crashes; every other step is taken until none is left but the
/// expiry; then the expiry, which deletes C0's node only once S1 applies the committed
/// closeSession, and C1 acquires.
#[test]
fn a_crashed_holders_node_stays_until_its_sessions_expiry_commits() {
    let model = holder_crash();
    let holding = c0_holds_c1_waits(&model);
    assert!(!enabled(&model, &holding).contains(&expire_c0()), "heard");
    let crash = LockAction::CrashClient { client: C0 };
    assert!(enabled(&model, &holding).contains(&crash));
    let crashed = model.next_state(&holding, crash).expect("a step");
    assert_eq!(crashed.clients[0].phase, Phase::Crashed);
    assert!(
        !crashed.clients[0].phase.holds_lock(),
        "a dead process holds nothing"
    );
    let links = &crashed.links[0];
    assert!(links.to_server.is_empty() && links.from_server.is_empty());
    assert!(enabled(&model, &crashed).contains(&expire_c0()), "silent");
    assert!(model
        .conditions(&crashed)
        .contains(&("C0".to_string(), Condition::Crashed)));

    let not_expiry =
        |action: &LockAction| model.fault_kind(action).is_none() && !involves_c0(action);
    let quiet = |s: &LockState<Ensemble>| !enabled(&model, s).iter().any(not_expiry);
    let waited = run_until(&model, crashed, not_expiry, quiet, &mut Vec::new());
    assert!(
        enabled(&model, &waited).iter().all(|a| !involves_c0(a)),
        "C0 sends nothing"
    );
    assert_eq!(waited.clients[1].phase, Phase::WaitWatch, "C1 still waits");
    assert!(waited.zk.is_live(0));
    let owned_by_c0 = |s: &LockState<Ensemble>| {
        s.zk.agreed_tree()
            .child_nodes()
            .iter()
            .any(|(_, node)| node.owner == Some(0))
    };
    assert!(
        owned_by_c0(&waited),
        "the node stays while the session is open"
    );
    assert!(
        model.has_step(&waited),
        "the expiry will come: not a deadlock"
    );

    let proposed = model.next_state(&waited, expire_c0()).expect("a step");
    assert!(owned_by_c0(&proposed), "proposed, not yet committed");
    let acquired = |s: &LockState<Ensemble>| s.clients[1].phase == Phase::InCs;
    let mut told = Vec::new();
    let after = run_until(&model, proposed, not_expiry, acquired, &mut told);
    assert!(!owned_by_c0(&after) && !after.zk.is_live(0));
    assert!(
        after.links[0].from_server.is_empty(),
        "SessionExpired reaches no one"
    );
    assert!(
        told.iter()
            .any(|t| t.contains("S1 applies closeSession of C0")),
        "{told:#?}"
    );
}

/// Goal: the expiry of a crashed client's session is a weakly fair step (its client is silent for
/// good, so the leader's timeout does fire), the expiry of a live client's a fault only. Method:
/// the fairness task of C0's expiry before and after C0 crashes, in a world where a live
/// client's session may expire too (no timing assumption).
#[test]
fn the_expiry_of_a_crashed_clients_session_is_weakly_fair() {
    let model = LockModel::on_ensemble(
        LockConfig {
            session_expiries: 1,
            client_crashes: 1,
            ..LockConfig::new(Recipe::Standard, 2)
        },
        EnsembleConfig::new(ZabConfig::new(3, 0), EnsembleConfig::followers_in_turn(3)),
    )
    .expect("valid");
    let start = model.init_states().swap_remove(0);
    assert!(enabled(&model, &start).contains(&expire_c0()));
    assert_eq!(model.task(&start, &expire_c0()), None, "a live client's");
    let crashed = model
        .next_state(&start, LockAction::CrashClient { client: C0 })
        .expect("a step");
    let task = model
        .task(&crashed, &expire_c0())
        .expect("a crashed client's expiry is a task");
    assert_eq!(
        model.task_name(task),
        "C0's resume, or its session's expiry once it has crashed"
    );
    assert!(
        !enabled(&model, &crashed).contains(&LockAction::CrashClient { client: C0 }),
        "a client dies once"
    );
}

/// Goal: the states a client crash adds (a crashed phase, the crash's count, a client that never
/// connects again) pack injectively and unpack to themselves. Method: the first 20,000 states of
/// the holder-crash world, breadth first, some of them with C0 or C1 crashed.
#[test]
fn crashed_states_pack_injectively() {
    let mut crashed = 0;
    super::tests::assert_packs_injectively(&holder_crash(), 20_000, |s| {
        crashed += usize::from(s.clients.iter().any(|c| c.phase == Phase::Crashed));
    });
    assert!(crashed > 1_000, "{crashed} states with a crashed client");
}

/// Goal: a lasso names each ensemble task the cycle takes by the ensemble's own name for it, so
/// that "S1's disk writes" in a report is the task the lasso ran. Method: every ensemble step of
/// the first 2,000 states of the holder-crash world, breadth first, named through the lock world
/// and through the ensemble's numbering; both must agree.
#[test]
fn an_ensemble_step_is_named_by_the_ensembles_own_task() {
    let model = holder_crash();
    let ensemble = holder_crash_ensemble();
    let mut named = 0;
    super::tests::each_reachable(&model, 2_000, |state| {
        for action in enabled(&model, state) {
            if let LockAction::Ensemble(step) = action {
                if let Some(index) = ensemble.task(step) {
                    let task = model.task(state, &action).expect("an ensemble task");
                    assert_eq!(model.task_name(task), ensemble.task_name(index), "{step:?}");
                    named += 1;
                }
            }
        }
    });
    assert!(named > 1_000, "{named} ensemble steps named");
}

/// Goal: a crashed client's watches go with its connection, as a server drops a connection's
/// watches when it closes it: the holder's release then wakes no one, and no state keeps a
/// watch nobody can read. Method: C0 holds and C1 waits on a watch of C0's node; C1 crashes.
#[test]
fn a_crashed_clients_watches_are_dropped() {
    let model = holder_crash();
    let queued = c0_holds_c1_waits(&model);
    let watches_of_c1 =
        |s: &LockState<Ensemble>| s.zk.watches.iter().filter(|w| w.client == 1).count();
    assert_eq!(watches_of_c1(&queued), 1, "C1 waits on a watch");
    let crashed = model
        .next_state(
            &queued,
            LockAction::CrashClient {
                client: ActorId::Client(1),
            },
        )
        .expect("a step");
    assert_eq!(watches_of_c1(&crashed), 0);
    assert!(crashed.zk.unread.iter().all(|u| u.client != 1));
}

//! The ensemble with no faults: scenario 1a of docs/design/ensemble.md §7, searched completely,
//! and a stale read walked step by step.

use std::collections::{HashSet, VecDeque};

use stateright::Model;

use super::{Ensemble, EnsembleConfig, EnsembleStep};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, LockState, Msg, Phase, Recipe};
use crate::zab::ZabConfig;
use crate::zookeeper::{Reply, Request, SeqSet, ZkService};

/// Standard recipe, 2 clients on S0 and S1, 3 servers with S2 leading epoch 1, no faults.
fn control() -> LockModel<Ensemble> {
    let followers = EnsembleConfig::followers_in_turn(3);
    let config = LockConfig::new(Recipe::Standard, 2);
    LockModel::on_ensemble(config, EnsembleConfig::new(ZabConfig::new(3, 0), followers))
        .expect("valid")
}

/// What a complete breadth-first search found: states, the longest shortest path, and the
/// properties that failed somewhere.
pub(super) struct Search {
    pub(super) states: usize,
    pub(super) transitions: usize,
    pub(super) depth: usize,
    pub(super) violated: Vec<&'static str>,
}

pub(super) fn search(model: &LockModel<Ensemble>) -> Search {
    let properties = model.properties();
    let mut seen: HashSet<LockState<Ensemble>> = HashSet::new();
    let mut queue = VecDeque::new();
    for state in model.init_states() {
        seen.insert(state.clone());
        queue.push_back((state, 0));
    }
    let (mut depth, mut transitions, mut violated) = (0, 0, Vec::new());
    let mut actions = Vec::new();
    while let Some((state, d)) = queue.pop_front() {
        depth = depth.max(d);
        for property in &properties {
            if !(property.condition)(model, &state) && !violated.contains(&property.name) {
                violated.push(property.name);
            }
        }
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            transitions += 1;
            let next = model
                .next_state(&state, action)
                .expect("every action is a step");
            if seen.insert(next.clone()) {
                queue.push_back((next, d + 1));
            }
        }
    }
    Search {
        states: seen.len(),
        transitions,
        depth,
        violated,
    }
}

/// Goal: scenario 1a holds every lock property and every ZAB property, by a complete search, and
/// its space is the size the independent Python count gives (tests/oracle/ensemble_oracle.py
/// --exact, pinned in tests/oracle/ensemble_results.jsonl; tests/ensemble_counts.rs re-runs it).
#[test]
fn the_no_fault_control_holds_every_property() {
    let model = control();
    let names: Vec<&str> = model.properties().iter().map(|p| p.name).collect();
    assert!(names.contains(&crate::prop::MUTUAL_EXCLUSION));
    assert!(
        names.contains(&crate::prop::AGREEMENT),
        "ZAB's properties are checked too"
    );
    let found = search(&model);
    assert!(found.violated.is_empty(), "violated: {:?}", found.violated);
    assert_eq!(
        (found.states, found.transitions, found.depth),
        (22_085, 67_746, 48)
    );
}

/// Take `action`, which must be enabled in `state`.
pub(super) fn take(
    model: &LockModel<Ensemble>,
    state: &LockState<Ensemble>,
    action: LockAction,
) -> LockState<Ensemble> {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    assert!(
        actions.contains(&action),
        "{action} is not enabled: {actions:?}"
    );
    model.next_state(state, action).expect("a step")
}

/// The head request of client `c`'s channel reaches its server.
pub(super) fn request(state: &LockState<Ensemble>, c: u8) -> LockAction {
    LockAction::Deliver {
        from: ActorId::Client(c),
        to: ActorId::Replica(state.zk.server_of_client(c)),
        msg: Msg::Request(state.links[usize::from(c)].to_server[0]),
    }
}

/// Client `c` reads the head of its channel from its server.
pub(super) fn reply(state: &LockState<Ensemble>, c: u8) -> LockAction {
    LockAction::Deliver {
        from: ActorId::Replica(state.zk.server_of_client(c)),
        to: ActorId::Client(c),
        msg: Msg::Reply(state.links[usize::from(c)].from_server[0]),
    }
}

pub(super) fn zab(from: u8, to: u8) -> LockAction {
    LockAction::Ensemble(EnsembleStep::Deliver { from, to })
}

pub(super) fn log_own(server: u8) -> LockAction {
    LockAction::Ensemble(EnsembleStep::LogProposal { server })
}

/// Goal: a read is served from the client's own server's tree, which can be behind the leader's:
/// a stale read, as ZooKeeper allows. Method: C0 (on S0) creates lock-0, committed and applied
/// everywhere it matters; C1 (on S1) creates lock-1, which the leader S2 commits and S1 applies
/// while S0's PROPOSAL and COMMIT of it are still on the link; C0 then lists the children at S0:
/// the reply lacks lock-1, the narrative says S0 is one transaction behind, and C0, lowest, holds.
#[test]
fn a_server_behind_the_leader_answers_get_children_without_the_newest_node() {
    let model = control();
    let mut state = model.init_states().swap_remove(0);
    assert_eq!(state.zk.leader(), Some(2), "S2 leads the prepared start");
    let c0 = ActorId::Client(0);
    let c1 = ActorId::Client(1);
    // C0's create: forwarded, prepared, proposed, committed by {S0, S2}, applied at S0.
    state = take(&model, &state, LockAction::StartAcquire { client: c0 });
    state = take(&model, &state, request(&state, 0));
    assert!(
        state.links[0].from_server.is_empty(),
        "S0 forwards, does not answer"
    );
    state = take(&model, &state, zab(0, 2));
    state = take(&model, &state, log_own(2));
    state = take(&model, &state, zab(2, 0)); // PROPOSAL #1
    state = take(&model, &state, zab(0, 2)); // ACK #1: committed
    state = take(&model, &state, zab(2, 0)); // COMMIT #1: S0 applies, answers C0
    assert!(matches!(
        state.links[0].from_server[..],
        [Reply::Created { .. }]
    ));
    // C1's create: S1 catches up on lock-0, then lock-1 is committed by {S1, S2} and applied at
    // S1; S0 has not heard of it.
    state = take(&model, &state, LockAction::StartAcquire { client: c1 });
    state = take(&model, &state, request(&state, 1));
    state = take(&model, &state, zab(1, 2));
    state = take(&model, &state, log_own(2));
    for _ in 0..3 {
        state = take(&model, &state, zab(2, 1)); // PROPOSAL #1, COMMIT #1, PROPOSAL #2
    }
    state = take(&model, &state, zab(1, 2)); // ACK #1 (committed already)
    state = take(&model, &state, zab(1, 2)); // ACK #2: committed
    state = take(&model, &state, zab(2, 1)); // COMMIT #2: S1 applies, answers C1
    assert_eq!(state.zk.behind_leader(0), 1);
    assert_eq!(state.zk.behind_leader(1), 0);
    // C0 reads Created and lists the children at S0.
    state = take(&model, &state, reply(&state, 0));
    assert_eq!(
        state.links[0].to_server[..],
        [Request::GetChildren {
            path: crate::zookeeper::Path::Lock,
            watch: false
        }]
    );
    let list = request(&state, 0);
    let listed = take(&model, &state, list);
    let only_lock_0: SeqSet = [0].into_iter().collect();
    assert_eq!(
        listed.links[0].from_server[..],
        [Reply::Children {
            children: only_lock_0,
            own: None
        }],
        "S0's tree lacks lock-1, which the leader has"
    );
    assert_eq!(state.zk.agreed_tree().children().len(), 2);
    use crate::Explain;
    let told = model.describe_step(&state, &list, &listed);
    assert!(
        told.starts_with("S0 (1 transaction behind the leader) serves C0's getChildren(/lock)"),
        "{told}"
    );
    let state = take(&model, &listed, reply(&listed, 0));
    assert_eq!(state.clients[0].phase, Phase::InCs, "lowest: C0 holds");
}

/// Walk `model` breadth first, up to `limit` states, asserting that every state unpacks to itself
/// and no two pack alike; `each` sees every state. Returns how many states were packed.
pub(super) fn assert_packs_injectively(
    model: &LockModel<Ensemble>,
    limit: usize,
    mut each: impl FnMut(&LockState<Ensemble>),
) -> usize {
    use crate::pack::PackState;
    let mut packed = HashSet::new();
    let seen = each_reachable(model, limit, |state| {
        let mut bytes = Vec::new();
        state.pack_state(&mut bytes);
        assert_eq!(&LockState::<Ensemble>::unpack_state(&bytes), state);
        assert!(packed.insert(bytes), "two states pack alike");
        each(state);
    });
    assert_eq!(packed.len(), seen);
    packed.len()
}

/// Calls `each` on every state of `model`'s world breadth first, up to `limit` states; returns
/// how many were seen.
pub(super) fn each_reachable(
    model: &LockModel<Ensemble>,
    limit: usize,
    mut each: impl FnMut(&LockState<Ensemble>),
) -> usize {
    let mut queue: VecDeque<LockState<Ensemble>> = model.init_states().into();
    let mut seen: HashSet<LockState<Ensemble>> = queue.iter().cloned().collect();
    let mut actions = Vec::new();
    while let Some(state) = queue.pop_front() {
        each(&state);
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            let next = model.next_state(&state, action).expect("a step");
            if seen.len() < limit && seen.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    seen.len()
}

/// Goal: an ensemble state packs injectively and unpacks to itself, so a search may store and
/// fingerprint the packed bytes. Method: every reachable state of the control.
#[test]
fn every_state_of_the_control_packs_injectively_and_unpacks_to_itself() {
    assert_eq!(
        assert_packs_injectively(&control(), usize::MAX, |_| {}),
        22_085
    );
}

/// Goal: sequence diagrams and narratives show the ensemble: a lifeline per server, a forward
/// from a follower to the leader as a message sent by the step that took the client's request,
/// and the PROPOSALs the leader sends as it prepares it. Method: two clients' creates by hand,
/// C1's second while C0's PROPOSAL to S1 is still on its link.
#[test]
fn timelines_and_narratives_show_forwards_and_proposals_between_servers() {
    use crate::timeline::{Message, MessageEvent};
    use crate::{Explain, Timeline};
    let message = |from: &str, to: &str, label: &str| Message {
        from: from.into(),
        to: to.into(),
        label: label.into(),
    };
    let create = "create(/lock/lock-, EPHEMERAL_SEQUENTIAL)";
    let model = control();
    assert_eq!(model.lifelines(), ["C0", "C1", "S0", "S1", "S2"]);
    let mut state = model.init_states().swap_remove(0);
    for c in 0..2 {
        let start = LockAction::StartAcquire {
            client: ActorId::Client(c),
        };
        state = take(&model, &state, start);
    }
    state = take(&model, &state, request(&state, 0));
    state = take(&model, &state, zab(0, 2));
    let forward = request(&state, 1);
    assert_eq!(
        model.step_view(&state, &forward).events,
        [
            MessageEvent::Delivered(message("C1", "S1", create)),
            MessageEvent::Sent(message("S1", "S2", &format!("FORWARD(C1 {create})"))),
        ]
    );
    let after = take(&model, &state, forward);
    assert_eq!(
        model.describe_step(&state, &forward, &after),
        format!("S1 forwards C1's {create} to its leader S2")
    );
    state = after;
    let prepare = zab(1, 2);
    assert_eq!(
        model.step_view(&state, &prepare).events,
        [
            MessageEvent::Delivered(message("S1", "S2", &format!("FORWARD(C1 {create})"))),
            MessageEvent::Sent(message("S2", "S0", "PROPOSAL(1,2)#2")),
            MessageEvent::Sent(message("S2", "S1", "PROPOSAL(1,2)#2")),
        ]
    );
    let after = take(&model, &state, prepare);
    assert_eq!(
        model.describe_step(&state, &prepare, &after),
        format!(
            "S1 → S2 FORWARD(C1 {create}); S2 prepares it and proposes create /lock/lock-0000000001 by C1 (1,2)"
        )
    );
}

/// Goal: every version of ZAB's code starts prepared (a leader in broadcast, links empty), and in
/// the control world offers no step the ensemble does not take yet (failover). Method: the
/// control's complete search with each version; the lock properties and ZAB's hold in each.
#[test]
fn every_zab_version_serves_the_control() {
    for variant in crate::zab::ZabVariant::ALL {
        let zab = ZabConfig {
            variant,
            ..ZabConfig::new(3, 0)
        };
        let ensemble = EnsembleConfig::new(zab, EnsembleConfig::followers_in_turn(3));
        let model =
            LockModel::on_ensemble(LockConfig::new(Recipe::Standard, 2), ensemble).expect("valid");
        let start = model.init_states().swap_remove(0);
        assert_eq!(start.zk.leader(), Some(2), "{variant:?}");
        assert!(start.zk.zab.net.is_empty(), "{variant:?}");
        let found = search(&model);
        assert!(
            found.violated.is_empty(),
            "{variant:?}: {:?}",
            found.violated
        );
    }
}

/// Run `state` until no step is left that the clients in `allowed` (and the servers) may take,
/// taking the first such step each time; a holder releases only if `release`.
pub(super) fn run_until_quiet(
    model: &LockModel<Ensemble>,
    state: LockState<Ensemble>,
    allowed: &[u8],
    release: bool,
) -> LockState<Ensemble> {
    run_until(model, state, allowed, release, |_| false)
}

/// As [`run_until_quiet`], but stop as soon as `reached` holds.
fn run_until(
    model: &LockModel<Ensemble>,
    mut state: LockState<Ensemble>,
    allowed: &[u8],
    release: bool,
    reached: impl Fn(&LockState<Ensemble>) -> bool,
) -> LockState<Ensemble> {
    let lets_through = |action: &LockAction| match *action {
        LockAction::Ensemble(_) => true,
        LockAction::StartAcquire { client } => {
            matches!(client, ActorId::Client(c) if allowed.contains(&c))
        }
        LockAction::Release { client } => {
            release && matches!(client, ActorId::Client(c) if allowed.contains(&c))
        }
        LockAction::Deliver { from, to, .. } => [from, to]
            .iter()
            .any(|a| matches!(a, ActorId::Client(c) if allowed.contains(c))),
        _ => false,
    };
    let mut actions = Vec::new();
    while !reached(&state) {
        actions.clear();
        model.actions(&state, &mut actions);
        let Some(&action) = actions.iter().find(|a| lets_through(a)) else {
            return state;
        };
        state = model.next_state(&state, action).expect("a step");
    }
    state
}

/// Goal: `no_herd` sees a deletion that wakes waiters connected to different servers: each server
/// tells only its own clients, but the deletion woke them all. Method: the herd recipe with C0
/// on S0, C1 on S1 and C2 on S0; C0 acquires, C1 and C2 wait on `/lock`'s children, C0
/// releases.
#[test]
fn a_herd_across_servers_is_one_herd() {
    let config = LockConfig::new(Recipe::Herd, 3);
    let ensemble = EnsembleConfig::new(ZabConfig::new(3, 0), EnsembleConfig::followers_in_turn(3));
    let model = LockModel::on_ensemble(config, ensemble).expect("valid");
    let state = run_until_quiet(&model, model.init_states().swap_remove(0), &[0], false);
    assert_eq!(state.clients[0].phase, Phase::InCs);
    let state = run_until_quiet(&model, state, &[1, 2], false);
    assert_eq!(state.clients[1].phase, Phase::WaitWatch);
    assert_eq!(state.clients[2].phase, Phase::WaitWatch);
    assert!(!state.herd_seen);
    let state = run_until_quiet(&model, state, &[0], true);
    assert_eq!(state.clients[0].phase, Phase::Done);
    assert!(
        state.herd_seen,
        "C0's delete woke C1 (on S1) and C2 (on S0)"
    );
}

/// Goal: on an ensemble too, the naive recipe's `exists` on a missing `/lock` leaves a creation
/// watch at the client's server, which tells the client of the next create of `/lock` when that
/// server applies it (before the create's reply). Method: C0 (on S0) holds; C1 (on S1) is refused
/// and asks `exists`; C0 releases and S1 applies the delete before it serves C1's `exists`
/// (answered null); C1 creates `/lock` itself.
#[test]
fn a_creation_watch_on_the_naive_lock_node_fires_at_the_clients_server() {
    use crate::zookeeper::{EventKind, Path, Watch, WatchKind};
    let config = LockConfig::new(Recipe::Naive, 2);
    let ensemble = EnsembleConfig::new(ZabConfig::new(3, 0), EnsembleConfig::followers_in_turn(3));
    let model = LockModel::on_ensemble(config, ensemble).expect("valid");
    let state = run_until_quiet(&model, model.init_states().swap_remove(0), &[0], false);
    assert_eq!(state.clients[0].phase, Phase::InCs);
    let state = run_until(&model, state, &[1], false, |s| {
        s.clients[1].phase == Phase::WaitStat
    });
    let state = run_until_quiet(&model, state, &[0], true);
    assert_eq!(state.clients[0].phase, Phase::Done);
    assert_eq!(state.zk.behind_leader(1), 0, "S1 applied the delete");
    let state = run_until(&model, state, &[1], false, |s| {
        s.clients[1].phase == Phase::WaitCreated
    });
    let watch = Watch {
        client: 1,
        path: Path::Lock,
        kind: WatchKind::Data,
    };
    assert_eq!(state.zk.watches_at(1).collect::<Vec<_>>(), [watch]);
    let state = run_until(&model, state, &[1], false, |s| {
        !s.links[1].from_server.is_empty()
    });
    assert!(
        matches!(
            state.links[1].from_server[..],
            [
                Reply::Event {
                    kind: EventKind::NodeCreated,
                    path: Path::Lock
                },
                Reply::Created { .. }
            ]
        ),
        "{:?}",
        state.links[1].from_server
    );
    assert_eq!(state.zk.watches_at(1).count(), 0, "the watch fired");
}

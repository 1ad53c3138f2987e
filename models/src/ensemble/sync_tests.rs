//! `sync()` on an ensemble ([`super::sync`]): the leader answers once its last proposal is
//! committed, the follower once it has applied it, and Curator's protection lookup after a `sync`
//! finds the node a lagging server had not applied yet.

use super::tests::{assert_packs_injectively, log_own, reply, request, take, zab};
use super::{Ensemble, EnsembleConfig};
use crate::actor::ActorId;
use crate::lock::{LockAction, LockConfig, LockModel, LockState, Phase, Recipe, Variant};
use crate::zab::{Msg, ZabConfig};
use crate::zookeeper::{Path, Reply, Request};
use crate::Explain;
use stateright::Model;

/// The world of `scenarios/ensemble/lookup-lagging*.toml`: Curator's recipe, one client on S0,
/// S2 leading, one break of the client's own connection.
fn lookup(variant: Variant) -> LockModel<Ensemble> {
    let config = LockConfig {
        variant,
        message_loss: 1,
        ..LockConfig::new(Recipe::Curator, 1)
    };
    let ensemble = EnsembleConfig::new(ZabConfig::new(3, 0), [0; crate::zookeeper::MAX_CLIENTS]);
    LockModel::on_ensemble(config, ensemble).expect("valid")
}

/// C0's create is prepared and proposed by S2 (not yet sent to S1), C0's connection to S0
/// breaks, C0 reads `ConnectionLoss` and `Disconnected`, reconnects to S1 and reads
/// `Reconnected`.
fn moved_to_s1_with_the_create_proposed(model: &LockModel<Ensemble>) -> LockState<Ensemble> {
    let c0 = ActorId::Client(0);
    let mut state = model.init_states().swap_remove(0);
    state = take(model, &state, LockAction::StartAcquire { client: c0 });
    state = take(model, &state, request(&state, 0)); // S0 forwards the create
    state = take(model, &state, zab(0, 2)); // S2 prepares and proposes it
    state = take(model, &state, LockAction::LoseConnection { client: c0 });
    state = take(model, &state, reply(&state, 0)); // ConnectionLoss
    state = take(model, &state, reply(&state, 0)); // Disconnected
    state = take(
        model,
        &state,
        LockAction::Ensemble(super::EnsembleStep::Reconnect {
            client: 0,
            server: 1,
        }),
    );
    take(model, &state, reply(&state, 0)) // Reconnected
}

/// Goal: with `sync-before-lookup`, the lookup after a lost create waits for S1 to apply every
/// proposal the leader had made when it took the sync, so it finds the node the create made;
/// as Curator ships, the same lookup at S1 finds nothing. Method: the race by hand: the sync
/// reaches S2 while S2's proposal of the create is not committed; S2 holds its answer until
/// it commits, then sends it right behind the COMMIT, and S1 answers C0 as it reads it.
#[test]
fn a_sync_is_answered_once_the_leaders_last_proposal_is_committed_and_applied() {
    let model = lookup(Variant::SyncBeforeLookup);
    let mut state = moved_to_s1_with_the_create_proposed(&model);
    assert_eq!(state.clients[0].phase, Phase::WaitSync);
    assert_eq!(
        state.links[0].to_server.as_slice(),
        [Request::Sync { path: Path::Lock }]
    );
    state = take(&model, &state, request(&state, 0)); // S1 forwards the sync
    let before = state.clone();
    state = take(&model, &state, zab(1, 2)); // S2 holds its answer: (1,1) is not committed
    let told = model.describe_step(&before, &zab(1, 2), &state);
    assert!(
        told.contains("answers it once it has committed (1,1)"),
        "{told}"
    );
    assert_eq!(state.zk.leader_syncs.len(), 1);
    let on_link = |state: &LockState<Ensemble>| -> Vec<Msg> {
        let net = &state.zk.zab.net;
        net.iter()
            .filter(|p| (p.from, p.to) == (2, 1))
            .map(|p| p.msg)
            .collect()
    };
    assert!(matches!(on_link(&state).as_slice(), [Msg::Proposal { .. }]));
    // S1 and S2 acknowledge, S2 commits and sends its answer behind the COMMIT, and S1 applies
    // the create at the COMMIT, then answers C0.
    let mut steps = 0;
    let mut answer_behind_commit = false;
    while state.links[0].from_server.is_empty() {
        answer_behind_commit |= matches!(
            on_link(&state).as_slice(),
            [.., Msg::Commit { .. }, Msg::Synced { client: 0, after, connection_closed: false }] if after.counter == 1
        );
        let next = [zab(1, 2), log_own(2), log_own(1), zab(2, 1)]
            .into_iter()
            .find(|a| {
                let mut actions = Vec::new();
                model.actions(&state, &mut actions);
                actions.contains(a)
            })
            .expect("the commit is under way");
        state = take(&model, &state, next);
        steps += 1;
        assert!(steps < 10, "S1 answered the sync");
    }
    assert!(answer_behind_commit);
    assert_eq!(state.links[0].from_server.as_slice(), [Reply::Synced]);
    assert!(state.zk.syncs.is_empty() && state.zk.leader_syncs.is_empty());
    state = take(&model, &state, reply(&state, 0)); // Synced → the lookup
    assert_eq!(state.clients[0].phase, Phase::WaitLookup);
    state = take(&model, &state, request(&state, 0));
    assert_eq!(
        state.links[0].from_server.as_slice(),
        [Reply::Children {
            children: [0].into_iter().collect(),
            own: Some(0)
        }],
        "the lookup finds the node"
    );
}

/// Goal: the same race without the sync is the lagging lookup: S1 answers from a tree that lacks
/// the create, and Curator creates a second node. Method: as above, with Curator as it ships.
#[test]
fn without_a_sync_the_lookup_reads_a_server_that_lacks_the_create() {
    let model = lookup(Variant::Fixed);
    let mut state = moved_to_s1_with_the_create_proposed(&model);
    assert_eq!(state.clients[0].phase, Phase::WaitLookup);
    state = take(&model, &state, request(&state, 0));
    assert_eq!(
        state.links[0].from_server.as_slice(),
        [Reply::Children {
            children: Default::default(),
            own: None
        }]
    );
}

/// Goal: a sync asked on a connection that closes is answered to nobody: the leader still
/// answers it, the follower drops the answer, and the client syncs again on its next
/// connection. Method: the sync is pending at the leader S2 when C0's connection to S1 breaks
/// (the budget allows a second break here).
#[test]
fn a_sync_pending_on_a_closed_connection_is_dropped() {
    let config = LockConfig {
        variant: Variant::SyncBeforeLookup,
        message_loss: 2,
        ..LockConfig::new(Recipe::Curator, 1)
    };
    let ensemble = EnsembleConfig::new(ZabConfig::new(3, 0), [0; crate::zookeeper::MAX_CLIENTS]);
    let model = LockModel::on_ensemble(config, ensemble).expect("valid");
    let mut state = moved_to_s1_with_the_create_proposed(&model);
    state = take(&model, &state, request(&state, 0));
    state = take(&model, &state, zab(1, 2));
    assert_eq!(state.zk.leader_syncs.len(), 1);
    let c0 = ActorId::Client(0);
    state = take(&model, &state, LockAction::LoseConnection { client: c0 });
    assert!(state.zk.leader_syncs[0].connection_closed);
    assert_eq!(
        state.links[0].from_server.as_slice(),
        [Reply::ConnectionLoss, Reply::Disconnected]
    );
    state = take(&model, &state, reply(&state, 0));
    assert_eq!(state.clients[0].phase, Phase::WaitSync, "syncs again");
}

/// Goal: the syncs the leader holds and the leader's answers pack injectively and read back, in
/// a world that reaches both. Method: a bounded breadth-first walk of the `sync-before-lookup`
/// world.
#[test]
fn pending_syncs_pack_injectively() {
    let model = lookup(Variant::SyncBeforeLookup);
    let (mut pending, mut answering) = (0, 0);
    assert_packs_injectively(&model, 20_000, |state| {
        pending += usize::from(!state.zk.leader_syncs.is_empty());
        answering += usize::from(
            state
                .zk
                .zab
                .net
                .iter()
                .any(|p| matches!(p.msg, Msg::Synced { .. })),
        );
    });
    assert!(pending > 0 && answering > 0, "{pending} {answering}");
}

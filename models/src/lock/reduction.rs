//! A lock world's persistent sets: one client's own steps (docs/reduction.md).
//!
//! A client's own steps are its start, its release and its reading of the head of its channel
//! from its server. Each changes only that client and the two ends of its channels with its
//! server that nothing else uses: it takes the head of the incoming channel and appends to the
//! outgoing one. Every other step of the world (another client's, a request reaching a server,
//! which takes the head of the outgoing channel and may append to the incoming one, a server's
//! own step, a session expiry) reads and writes neither that client nor those ends, so either
//! order reaches the same state and neither step disables the other, provided that:
//!
//! - no fault can reach the client any more: a pause stops it, a crash ends it, and a lost
//!   connection, a partition, the single server's crash or an ensemble's failover rewrite its
//!   channels according to its phase. Sets are offered once those budgets are spent (or when there are
//!   none), with no partition in place;
//! - no own step of the client can become enabled by the others' steps before it acts (it would
//!   then be a dependent step outside the set): a client whose phase reads ZooKeeper either has
//!   a message waiting, whose reading is in the set, or can be sent nothing unasked (no watch,
//!   no request unanswered, no session expiry in the world);
//! - no step rewrites everyone's values (`acquisitions = 0` renames sequence numbers after every
//!   step), and the client has no step besides these three (a fenced client's writes, the
//!   unsynchronised event thread's early reading): such worlds offer no sets.

use std::ops::ControlFlow;

use super::action::{LockAction, Msg};
use super::model::{LockModel, Recipe, Variant};
use super::state::LockState;
use crate::actor::ActorId;
use crate::prop;
use crate::zookeeper::{ClientId, ZkService};
use crate::PartialOrder;

/// Whose step `action` is, if a client's: the client, and whether it is one of its own steps
/// (start, release, reading the head of its channel from its server) rather than another of its
/// steps (resuming, a fenced client's resource, the event thread's early reading).
fn client_step(action: &LockAction) -> Option<(ClientId, bool)> {
    match *action {
        LockAction::StartAcquire {
            client: ActorId::Client(c),
        }
        | LockAction::Release {
            client: ActorId::Client(c),
        } => Some((c, true)),
        // Only a client's server sends it replies (the resource answers with `WriteResult`).
        LockAction::Deliver {
            to: ActorId::Client(c),
            msg: Msg::Reply(_),
            ..
        } => Some((c, true)),
        LockAction::UseResource {
            client: ActorId::Client(c),
        }
        | LockAction::Resume {
            client: ActorId::Client(c),
        }
        | LockAction::Deliver {
            to: ActorId::Client(c),
            ..
        }
        | LockAction::EventThreadFirst {
            to: ActorId::Client(c),
            ..
        } => Some((c, false)),
        _ => None,
    }
}

impl<Z: ZkService> LockModel<Z> {
    /// Whether a client's own steps can be independent of everything else in `state`'s world
    /// (the first and third conditions of the module's list).
    fn clients_act_alone(&self, state: &LockState<Z>) -> bool {
        let (budget, used) = (&self.config, &state.faults);
        let faults_spent = used.client_pauses >= budget.client_pauses
            && used.message_loss >= budget.message_loss
            && used.partitions >= budget.partitions
            && used.crashes >= budget.crashes
            && state.crashed_clients() >= budget.client_crashes
            && state.cut.is_empty();
        faults_spent
            && !Z::connections_may_break(&self.zk)
            && !Z::client_reads_change_the_service(&self.zk)
            && !self.renames_values()
            && self.config.recipe != Recipe::Fenced
            && self.config.variant != Variant::UnsynchronisedEventThread
    }

    /// Whether the service may send client `c` a message it has not asked for yet: a watch
    /// event, the answer to a request still on its way, or `SessionExpired`.
    fn may_be_sent(&self, state: &LockState<Z>, c: ClientId) -> bool {
        let i = usize::from(c);
        self.config.session_expiries > 0
            || state.zk.has_watch(c)
            || state.clients[i].phase.awaits_reply()
            || !state.links[i].to_server.is_empty()
    }
}

impl<Z: ZkService> PartialOrder for LockModel<Z> {
    fn partial_order(&self) -> bool {
        true
    }

    /// Each client's own enabled steps, client by client, when they form a persistent set.
    fn persistent_sets(
        &self,
        state: &LockState<Z>,
        actions: &[LockAction],
        each: &mut dyn FnMut(&[usize]) -> ControlFlow<()>,
    ) {
        if !self.clients_act_alone(state) {
            return;
        }
        let mut set = Vec::with_capacity(2);
        for c in 0..self.client_count() {
            set.clear();
            let mut other_steps = false;
            for (index, action) in actions.iter().enumerate() {
                match client_step(action) {
                    Some((client, true)) if client == c => set.push(index),
                    Some((client, false)) if client == c => other_steps = true,
                    _ => {}
                }
            }
            let client = &state.clients[usize::from(c)];
            let silent_channel = state.links[usize::from(c)].from_server.is_empty();
            let may_start_reading =
                client.phase.reads_zookeeper() && silent_channel && self.may_be_sent(state, c);
            if set.is_empty() || other_steps || may_start_reading {
                continue;
            }
            if each(&set).is_break() {
                return;
            }
        }
    }

    /// A client's own step can change only what the properties read of that client: whether it
    /// holds the lock (`mutual_exclusion`) and the nodes it keeps track of (`no_orphan_nodes`).
    /// How it changes them does not depend on the steps it commutes with, so the step in `state`
    /// tells: a step that does not end the client's hold keeps two holders two, and one that
    /// keeps track of no node it did not already (it may forget one) keeps an orphan an orphan.
    fn invisible(
        &self,
        property: &str,
        state: &LockState<Z>,
        action: &LockAction,
        next: &LockState<Z>,
    ) -> bool {
        let Some((c, true)) = client_step(action) else {
            return false;
        };
        let i = usize::from(c);
        match property {
            prop::MUTUAL_EXCLUSION => {
                !state.clients[i].phase.holds_lock() || next.clients[i].phase.holds_lock()
            }
            prop::NO_ORPHAN_NODES => {
                let protected = self.protected_names();
                next.tracked_nodes(c, protected)
                    .within(state.tracked_nodes(c, protected))
            }
            // An own step is a protocol step: no state where it is enabled is a deadlock.
            prop::NO_DEADLOCK => true,
            // Only a server's step sets the herd flag.
            prop::NO_HERD => true,
            // The service's properties read the service alone, which an own step leaves as it
            // is (it notes the zxid a client read only where connections may break).
            _ => Z::PROPERTIES.iter().any(|&(name, _)| name == property),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashSet, VecDeque};

    use stateright::Model;

    use super::*;
    use crate::ensemble::{Ensemble, EnsembleConfig};
    use crate::lock::test_worlds::varied_worlds;
    use crate::lock::LockConfig;
    use crate::zab::ZabConfig;

    /// Every state of `model`'s world, breadth-first (up to `limit`).
    fn reachable<Z: ZkService>(model: &LockModel<Z>, limit: usize) -> Vec<LockState<Z>> {
        let mut seen: HashSet<LockState<Z>> = model.init_states().into_iter().collect();
        let mut queue: VecDeque<LockState<Z>> = seen.iter().cloned().collect();
        let mut states = Vec::new();
        let mut actions = Vec::new();
        while let Some(state) = queue.pop_front() {
            model.actions(&state, &mut actions);
            for action in actions.drain(..) {
                let next = model.next_state(&state, action).expect("a step");
                if seen.insert(next.clone()) {
                    queue.push_back(next);
                }
            }
            states.push(state);
            if states.len() == limit {
                break;
            }
        }
        states
    }

    /// The persistent sets of every state, checked one step deep: each step `b` outside a set
    /// commutes with each step `a` of it (both stay enabled, both orders reach one state), and
    /// leaves the set's client no own step the set lacks; and a step judged invisible to a
    /// property keeps it violated, in the state and after each `b`. Returns how many sets were
    /// offered.
    fn check_sets<Z: ZkService>(model: &LockModel<Z>, limit: usize) -> usize {
        let properties = model.properties();
        let keeps_violations = |a: LockAction, from: &LockState<Z>, judged: &LockState<Z>| {
            let next = model.next_state(judged, a).expect("a step");
            for property in &properties {
                let invisible = model.invisible(property.name, judged, &a, &next);
                let violated = |s: &LockState<Z>| !(property.condition)(model, s);
                if invisible && violated(from) {
                    let after = model.next_state(from, a).expect("a step");
                    assert!(
                        violated(&after),
                        "{a} repairs {} in {from:?}",
                        property.name
                    );
                }
            }
        };
        let mut offered = 0;
        for state in reachable(model, limit) {
            let mut actions = Vec::new();
            model.actions(&state, &mut actions);
            let mut sets: Vec<Vec<usize>> = Vec::new();
            model.persistent_sets(&state, &actions, &mut |set| {
                sets.push(set.to_vec());
                ControlFlow::Continue(())
            });
            for set in sets {
                offered += 1;
                assert!(!set.is_empty());
                let members: Vec<LockAction> = set.iter().map(|&i| actions[i]).collect();
                let (c, _) = client_step(&members[0]).expect("a client's step");
                for (i, &b) in actions.iter().enumerate() {
                    if set.contains(&i) {
                        continue;
                    }
                    let after_b = model.next_state(&state, b).expect("a step");
                    let mut enabled_after_b = Vec::new();
                    model.actions(&after_b, &mut enabled_after_b);
                    for step in &enabled_after_b {
                        if client_step(step).is_some_and(|(client, _)| client == c) {
                            assert!(
                                members.contains(step),
                                "{b} gives {step} to C{c}, outside {members:?}, in {state:?}"
                            );
                        }
                    }
                    for &a in &members {
                        assert!(enabled_after_b.contains(&a), "{b} disables {a}");
                        keeps_violations(a, &state, &state);
                        keeps_violations(a, &after_b, &state);
                        let after_a = model.next_state(&state, a).expect("a step");
                        let mut enabled_after_a = Vec::new();
                        model.actions(&after_a, &mut enabled_after_a);
                        assert!(enabled_after_a.contains(&b), "{a} disables {b}");
                        assert_eq!(
                            model.next_state(&after_b, a),
                            model.next_state(&after_a, b),
                            "{a} and {b} commute in {state:?}"
                        );
                    }
                }
            }
        }
        offered
    }

    /// The single server's worlds: every recipe under every fault (sets come once a world's
    /// budgets are spent), with expiries alone, and with none.
    #[test]
    fn a_clients_own_steps_commute_with_every_other_step_on_one_server() {
        let mut worlds = varied_worlds();
        for recipe in crate::lock::Recipe::ALL {
            worlds.push(LockConfig::new(recipe, 3));
            worlds.push(LockConfig {
                session_expiries: 1,
                ..LockConfig::new(recipe, 2)
            });
        }
        let offered: usize = worlds
            .into_iter()
            .map(|config| check_sets(&LockModel::new(config).expect("valid"), 20_000))
            .sum();
        assert!(offered > 10_000, "sets to check ({offered})");
    }

    /// An ensemble without faults, and with a session expiry: the servers' steps (ZAB's
    /// broadcast, the leader preparing, a server answering) commute with a client's own steps.
    #[test]
    fn a_clients_own_steps_commute_with_every_other_step_on_an_ensemble() {
        let followers = EnsembleConfig::followers_in_turn(3);
        let ensemble = EnsembleConfig::new(ZabConfig::new(3, 0), followers);
        let mut offered = 0;
        for expiries in [0, 1] {
            let config = LockConfig {
                session_expiries: expiries,
                ..LockConfig::new(Recipe::Standard, 2)
            };
            let model: LockModel<Ensemble> =
                LockModel::on_ensemble(config, ensemble).expect("valid");
            offered += check_sets(&model, 6_000);
        }
        assert!(offered > 1_000, "sets to check ({offered})");
    }
}

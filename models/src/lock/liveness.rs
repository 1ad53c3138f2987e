//! `every_waiter_acquires` and the fairness tasks of a lock world.
//!
//! Obligation: a client that is waiting for the lock (it has sent its create, or is between
//! sessions when it retries after expiry) eventually holds it, or abandons because its session
//! expired. Tasks (weak fairness): each client's own steps; the deliveries of each channel (both
//! directions between each client and the server, and the resource); a paused client's resume;
//! the healing of a partition and the restart of a crashed server (the environment recovers
//! eventually); the expiry of the session of a client that will never touch it again (crashed,
//! abandoned, or told its session ended), in the same task as its resume (such a client is never
//! paused again): silent for good, it is eventually expired, outside the `session_expiries`
//! budget. Session expiry of a live client, pauses, client crashes, connection loss, partitions (and whether one outlasts the
//! read timeout) and crashes are faults: the environment may use its budget or not. An
//! unsynchronised event thread's handling of an event ahead of the reply before it is one of the
//! deliveries from the server. An ensemble's own steps are tasks too: the deliveries of each ZAB
//! link, each server's disk writes, and with failover each server's joins, timeout and restart,
//! the election, the heal, and each client's reconnection (`ensemble::tasks`).

use super::action::LockAction;
use super::client::Phase;
use super::model::LockModel;
use super::state::LockState;
use crate::actor::ActorId;
use crate::zookeeper::ZkService;
use crate::{prop, Liveness, Task};

/// Tasks are numbered by kind, then client: `kind * clients + client`; an ensemble's follow
/// (see [`LockModel::ensemble_task`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskKind {
    ClientStep,
    FromServer,
    ToServer,
    ToResource,
    FromResource,
    Resume,
    /// Not per client: numbered as client 0.
    Heal,
    Restart,
}

const TASK_KINDS: [TaskKind; 8] = [
    TaskKind::ClientStep,
    TaskKind::FromServer,
    TaskKind::ToServer,
    TaskKind::ToResource,
    TaskKind::FromResource,
    TaskKind::Resume,
    TaskKind::Heal,
    TaskKind::Restart,
];

/// How many kinds of task each client has: the lock world's tasks before the service's own.
pub(super) const CLIENT_TASK_KINDS: usize = TASK_KINDS.len();

/// Waiting for the lock: the obligation of `every_waiter_acquires` is pending.
fn waits_for_lock(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::WaitSession
            | Phase::WaitCreated
            | Phase::WaitSync
            | Phase::WaitLookup
            | Phase::WaitChildren
            | Phase::WaitStat
            | Phase::WaitData
            | Phase::WaitWatch
    )
}

impl<Z: ZkService> Liveness for LockModel<Z> {
    fn liveness_properties(&self) -> Vec<&'static str> {
        vec![prop::EVERY_WAITER_ACQUIRES]
    }

    fn pending(&self, property: &str, state: &LockState<Z>) -> u64 {
        assert_eq!(
            property,
            prop::EVERY_WAITER_ACQUIRES,
            "the lock model's only liveness property"
        );
        state
            .clients
            .iter()
            .enumerate()
            .filter(|(_, client)| waits_for_lock(client.phase))
            .fold(0, |bits, (c, _)| bits | 1 << c)
    }

    fn task(&self, state: &LockState<Z>, action: &LockAction) -> Option<Task> {
        let client = |actor: ActorId| match actor {
            ActorId::Client(c) => c,
            other => panic!("{other} is not a client"),
        };
        let task = |kind, c| self.task_number(kind, c);
        match *action {
            LockAction::StartAcquire { client: c }
            | LockAction::UseResource { client: c }
            | LockAction::Release { client: c } => Some(task(TaskKind::ClientStep, client(c))),
            LockAction::Deliver {
                from: ActorId::Server | ActorId::Replica(_),
                to,
                ..
            }
            | LockAction::EventThreadFirst { to, .. } => {
                Some(task(TaskKind::FromServer, client(to)))
            }
            LockAction::Deliver {
                from: ActorId::Resource,
                to,
                ..
            } => Some(task(TaskKind::FromResource, client(to))),
            LockAction::Deliver {
                from,
                to: ActorId::Server | ActorId::Replica(_),
                ..
            } => Some(task(TaskKind::ToServer, client(from))),
            LockAction::Deliver {
                from,
                to: ActorId::Resource,
                ..
            } => Some(task(TaskKind::ToResource, client(from))),
            LockAction::Deliver { from, to, .. } => panic!("no channel from {from} to {to}"),
            LockAction::Resume { client: c } => Some(task(TaskKind::Resume, client(c))),
            LockAction::ExpireSession { client: c } if self.expires_unattended(state, action) => {
                Some(task(TaskKind::Resume, client(c)))
            }
            LockAction::Heal => Some(task(TaskKind::Heal, 0)),
            LockAction::RestartServer => Some(task(TaskKind::Restart, 0)),
            LockAction::Ensemble(step) => Z::step_task(&self.zk, step).map(|index| {
                let first = TASK_KINDS.len() * usize::from(self.config.clients);
                (first + index) as Task
            }),
            LockAction::ExpireSession { .. }
            | LockAction::Pause { .. }
            | LockAction::CrashClient { .. }
            | LockAction::LoseConnection { .. }
            | LockAction::Partition { .. }
            | LockAction::ReadTimeout
            | LockAction::CrashServer => None,
        }
    }

    fn task_name(&self, task: Task) -> String {
        let clients = usize::from(self.config.clients);
        let first_ensemble = TASK_KINDS.len() * clients;
        if usize::from(task) >= first_ensemble {
            return Z::step_task_name(&self.zk, usize::from(task) - first_ensemble);
        }
        let kind = TASK_KINDS[usize::from(task) / clients];
        let c = usize::from(task) % clients;
        match kind {
            TaskKind::ClientStep => format!("C{c}'s own steps"),
            TaskKind::FromServer => format!("deliveries S → C{c}"),
            TaskKind::ToServer => format!("deliveries C{c} → S"),
            TaskKind::ToResource => format!("deliveries C{c} → R"),
            TaskKind::FromResource => format!("deliveries R → C{c}"),
            TaskKind::Resume if self.config.client_crashes > 0 => {
                format!("C{c}'s resume, or its session's expiry once it has crashed")
            }
            TaskKind::Resume => format!("C{c}'s resume"),
            TaskKind::Heal => "the partition's heal".into(),
            TaskKind::Restart => "S's restart".into(),
        }
    }

    /// An ensemble's `epochs` bound may leave it without a leader for good: a waiter's lasso
    /// there is the bound's doing.
    fn blocked_by_bound(&self, property: &str, state: &LockState<Z>) -> Option<crate::Bound> {
        if self.pending(property, state) == 0 {
            return None;
        }
        state.zk.stopped_by_bound(&self.zk)
    }

    fn obligation_name(&self, _property: &str, bit: u32) -> String {
        format!("C{bit} never gets the lock (nor gives up)")
    }
}

impl<Z: ZkService> LockModel<Z> {
    /// The number of a client's task: `kind * clients + client`, which keeps the tasks in the
    /// order of (kind, client).
    fn task_number(&self, kind: TaskKind, client: u8) -> Task {
        let index = TASK_KINDS.iter().position(|k| *k == kind).expect("listed");
        (index * usize::from(self.config.clients)) as Task + client
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::{LockConfig, Recipe};

    /// Fairness is per task: two kinds of step, or two clients' steps, that shared a number would
    /// let one stand in for the other, and a cycle that starves one of them would pass as fair.
    #[test]
    fn every_kind_of_every_client_has_a_task_of_its_own() {
        for clients in 1..=4 {
            let model = LockModel::new(LockConfig::new(Recipe::Fenced, clients)).expect("valid");
            let mut seen = std::collections::BTreeMap::new();
            for kind in TASK_KINDS {
                for c in 0..clients {
                    let task = model.task_number(kind, c);
                    assert!(task < 64, "{kind:?} of C{c} is {task}");
                    if let Some(other) = seen.insert(task, (kind, c)) {
                        panic!("{kind:?} of C{c} and {other:?} share task {task}");
                    }
                }
            }
        }
    }

    /// On an ensemble the servers' tasks are numbered after every client task: one that shared
    /// a client's number would let a server step stand in for that client's step in a fair
    /// cycle. Checked on every action enabled in the first states of a world with a leader crash
    /// (deliveries, writes, elections, timeouts, reconnections).
    #[test]
    fn an_ensembles_tasks_never_share_a_clients_number() {
        use std::collections::{BTreeSet, HashSet, VecDeque};

        use stateright::Model;

        use crate::ensemble::EnsembleConfig;
        use crate::zab::ZabConfig;

        let zab = ZabConfig {
            crashes: 1,
            epochs: 2,
            ..ZabConfig::new(3, 0)
        };
        let config = LockConfig {
            crashes: 1,
            ..LockConfig::new(Recipe::Standard, 2)
        };
        let ensemble = EnsembleConfig::new(zab, EnsembleConfig::followers_in_turn(3));
        let model = LockModel::on_ensemble(config, ensemble).expect("valid");
        let clients: BTreeSet<Task> = TASK_KINDS
            .iter()
            .flat_map(|&kind| (0..2).map(move |c| (kind, c)))
            .map(|(kind, c)| model.task_number(kind, c))
            .collect();
        let mut server_tasks = BTreeSet::new();
        let mut queue: VecDeque<_> = model.init_states().into();
        let mut seen = HashSet::new();
        let mut actions = Vec::new();
        while let Some(state) = queue.pop_front() {
            if seen.len() > 5_000 || !seen.insert(state.clone()) {
                continue;
            }
            actions.clear();
            model.actions(&state, &mut actions);
            for action in &actions {
                if let (LockAction::Ensemble(_), Some(task)) = (action, model.task(&state, action))
                {
                    server_tasks.insert(task);
                }
                if let Some(next) = model.next_state(&state, *action) {
                    queue.push_back(next);
                }
            }
        }
        assert!(server_tasks.len() > 5, "{server_tasks:?}");
        let shared: Vec<_> = server_tasks.intersection(&clients).collect();
        assert!(
            shared.is_empty(),
            "server tasks {shared:?} are clients' too"
        );
    }

    /// The obligation of `every_waiter_acquires` is one bit per waiting client, each its own:
    /// a client other than C0 that waits forever must be seen waiting.
    #[test]
    fn each_waiting_client_is_pending_on_its_own_bit() {
        use stateright::Model;

        use crate::ActorId;

        let model = LockModel::new(LockConfig::new(Recipe::Standard, 3)).expect("valid");
        let mut state = model.init_states().swap_remove(0);
        assert_eq!(model.pending(prop::EVERY_WAITER_ACQUIRES, &state), 0);
        for (c, bits) in [(2, 0b100), (1, 0b110), (0, 0b111)] {
            let start = LockAction::StartAcquire {
                client: ActorId::Client(c),
            };
            state = model.next_state(&state, start).expect("enabled");
            assert_eq!(model.pending(prop::EVERY_WAITER_ACQUIRES, &state), bits);
        }
    }

    /// A lasso's report names the tasks a cycle takes and the client that never acquires: the
    /// names must be of the right client and kind, as a reader checks the lasso against them.
    #[test]
    fn tasks_and_obligations_are_named_after_their_client() {
        let model = LockModel::new(LockConfig::new(Recipe::Fenced, 3)).expect("valid");
        let name = |kind, c| model.task_name(model.task_number(kind, c));
        assert_eq!(name(TaskKind::ClientStep, 2), "C2's own steps");
        assert_eq!(name(TaskKind::FromServer, 1), "deliveries S → C1");
        assert_eq!(name(TaskKind::ToServer, 0), "deliveries C0 → S");
        assert_eq!(name(TaskKind::ToResource, 2), "deliveries C2 → R");
        assert_eq!(name(TaskKind::FromResource, 1), "deliveries R → C1");
        assert_eq!(name(TaskKind::Resume, 2), "C2's resume");
        assert_eq!(name(TaskKind::Heal, 0), "the partition's heal");
        assert_eq!(name(TaskKind::Restart, 0), "S's restart");
        assert_eq!(
            model.obligation_name(prop::EVERY_WAITER_ACQUIRES, 1),
            "C1 never gets the lock (nor gives up)"
        );
    }
}

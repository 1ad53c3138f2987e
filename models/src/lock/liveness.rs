//! `every_waiter_acquires` and the fairness tasks of a lock world.
//!
//! Obligation: a client that is waiting for the lock (it has sent its create, or is between
//! sessions when it retries after expiry) eventually holds it, or abandons because its session
//! expired. Tasks (weak fairness): each client's own steps; the deliveries of each channel (both
//! directions between each client and the server, and the resource); a paused client's resume;
//! the healing of a partition and the restart of a crashed server (the environment recovers
//! eventually). Session expiry, pauses, connection loss, partitions (and whether one outlasts the
//! read timeout) and crashes are faults: the environment may use its budget or not. An
//! unsynchronised event thread's handling of an event ahead of the reply before it is one of the
//! deliveries from the server.

use super::action::LockAction;
use super::client::Phase;
use super::model::LockModel;
use super::state::LockState;
use crate::actor::ActorId;
use crate::zookeeper::{ZkService, MAX_CLIENTS};
use crate::{prop, Liveness, Task};

/// Tasks are numbered by kind, then client: `kind * MAX_CLIENTS + client`.
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

fn task(kind: TaskKind, client: u8) -> Task {
    let index = TASK_KINDS.iter().position(|k| *k == kind).expect("listed");
    (index * MAX_CLIENTS) as Task + client
}

/// Waiting for the lock: the obligation of `every_waiter_acquires` is pending.
fn waits_for_lock(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::WaitSession
            | Phase::WaitCreated
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

    fn task(&self, _state: &LockState<Z>, action: &LockAction) -> Option<Task> {
        let client = |actor: ActorId| match actor {
            ActorId::Client(c) => c,
            other => panic!("{other} is not a client"),
        };
        match *action {
            LockAction::StartAcquire { client: c }
            | LockAction::UseResource { client: c }
            | LockAction::Release { client: c } => Some(task(TaskKind::ClientStep, client(c))),
            LockAction::Deliver {
                from: ActorId::Server,
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
                to: ActorId::Server,
                ..
            } => Some(task(TaskKind::ToServer, client(from))),
            LockAction::Deliver {
                from,
                to: ActorId::Resource,
                ..
            } => Some(task(TaskKind::ToResource, client(from))),
            LockAction::Deliver { from, to, .. } => panic!("no channel from {from} to {to}"),
            LockAction::Resume { client: c } => Some(task(TaskKind::Resume, client(c))),
            LockAction::Heal => Some(task(TaskKind::Heal, 0)),
            LockAction::RestartServer => Some(task(TaskKind::Restart, 0)),
            LockAction::ExpireSession { .. }
            | LockAction::Pause { .. }
            | LockAction::LoseConnection { .. }
            | LockAction::Partition { .. }
            | LockAction::ReadTimeout
            | LockAction::CrashServer => None,
        }
    }

    fn task_name(&self, task: Task) -> String {
        let kind = TASK_KINDS[usize::from(task) / MAX_CLIENTS];
        let c = usize::from(task) % MAX_CLIENTS;
        match kind {
            TaskKind::ClientStep => format!("C{c}'s own steps"),
            TaskKind::FromServer => format!("deliveries S → C{c}"),
            TaskKind::ToServer => format!("deliveries C{c} → S"),
            TaskKind::ToResource => format!("deliveries C{c} → R"),
            TaskKind::FromResource => format!("deliveries R → C{c}"),
            TaskKind::Resume => format!("C{c}'s resume"),
            TaskKind::Heal => "the partition's heal".into(),
            TaskKind::Restart => "S's restart".into(),
        }
    }

    fn obligation_name(&self, _property: &str, bit: u32) -> String {
        format!("C{bit} never gets the lock (nor gives up)")
    }
}

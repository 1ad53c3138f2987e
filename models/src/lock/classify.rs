//! Which lock-world actions are faults, and which may stand in for one another in a shrunk trace.

use super::action::LockAction;
use super::model::LockModel;
use crate::zookeeper::ZkService;
use crate::ActionInfo;

impl<Z: ZkService> ActionInfo for LockModel<Z> {
    fn fault_kind(&self, action: &LockAction) -> Option<&'static str> {
        match action {
            LockAction::ExpireSession { .. } => Some("session_expiries"),
            LockAction::Pause { .. } => Some("client_pauses"),
            LockAction::CrashClient { .. } => Some("client_crashes"),
            LockAction::LoseConnection { .. } => Some("message_loss"),
            LockAction::Partition { .. } | LockAction::ReadTimeout => Some("partitions"),
            LockAction::CrashServer => Some("crashes"),
            LockAction::Ensemble(step) => step.fault_kind(),
            LockAction::StartAcquire { .. }
            | LockAction::UseResource { .. }
            | LockAction::Release { .. }
            | LockAction::Deliver { .. }
            | LockAction::EventThreadFirst { .. }
            | LockAction::Resume { .. }
            | LockAction::Heal
            | LockAction::RestartServer => None,
        }
    }

    fn fault_kinds(&self) -> Vec<&'static str> {
        let mut kinds = vec!["session_expiries", "client_pauses", "message_loss"];
        kinds.extend(
            [
                ("partitions", self.config.partitions),
                ("crashes", self.config.crashes),
                ("client_crashes", self.config.client_crashes),
            ]
            .into_iter()
            .filter(|&(_, budget)| budget > 0)
            .map(|(kind, _)| kind),
        );
        kinds.extend(Z::own_fault_kinds(&self.zk));
        kinds
    }

    /// A delivery stands in for a delivery on the same channel (FIFO: the head is whatever the
    /// earlier steps put there); every other action only for itself.
    fn stands_in_for(&self, recorded: &LockAction, candidate: &LockAction) -> bool {
        match (recorded, candidate) {
            (LockAction::Deliver { from, to, .. }, LockAction::Deliver { from: f, to: t, .. }) => {
                from == f && to == t
            }
            // An ensemble's delivery names its link only, so it already stands for any message
            // at that link's head.
            _ => recorded == candidate,
        }
    }
}

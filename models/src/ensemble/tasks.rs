//! The fairness tasks of an ensemble's own steps, numbered after the lock world's clients' tasks,
//! grouped as ZAB's own liveness groups them (`zab::liveness`): each link's deliveries, each
//! server's disk and processor steps, and, when servers can fail, each server's joins, timeout
//! and restart, the election, the heal, and each client's reconnection.

use super::action::EnsembleStep;
use super::state::EnsembleConfig;
use crate::zab::Sid;

/// One group of an ensemble's steps that weak fairness treats as one task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Link { from: Sid, to: Sid },
    Disk(Sid),
    Join(Sid),
    Timeout(Sid),
    Restart(Sid),
    Election,
    Heal,
    Reconnect(u8),
}

impl EnsembleConfig {
    fn servers(&self) -> usize {
        usize::from(self.zab.servers)
    }

    /// How many tasks the ensemble's steps take: links and disks always; the failover groups only
    /// in a world where servers fail, so a world without faults keeps its numbering.
    pub fn tasks(&self, clients: u8) -> usize {
        let n = self.servers();
        let failover = if self.reconnects() {
            3 * n + 2 + usize::from(clients)
        } else {
            0
        };
        n * n + n + failover
    }

    /// The index of `step`'s task among the ensemble's, or `None` for a fault.
    pub fn task(&self, step: EnsembleStep) -> Option<usize> {
        let group = match step {
            EnsembleStep::Deliver { from, to } => Group::Link { from, to },
            EnsembleStep::LogProposal { server }
            | EnsembleStep::LogSynced { server }
            | EnsembleStep::AckNewLeader { server }
            | EnsembleStep::ApplyCommitted { server }
            | EnsembleStep::LogOrphan { server } => Group::Disk(server),
            EnsembleStep::Join { server, .. } => Group::Join(server),
            EnsembleStep::Timeout { server } => Group::Timeout(server),
            EnsembleStep::Restart { server } => Group::Restart(server),
            EnsembleStep::Elect { .. } => Group::Election,
            EnsembleStep::Heal => Group::Heal,
            EnsembleStep::Reconnect { client, .. } => Group::Reconnect(client),
            EnsembleStep::Crash { .. }
            | EnsembleStep::SpuriousTimeout { .. }
            | EnsembleStep::Partition { .. } => return None,
        };
        Some(self.number(group))
    }

    fn number(&self, group: Group) -> usize {
        let n = self.servers();
        let s = usize::from;
        match group {
            Group::Link { from, to } => s(from) * n + s(to),
            Group::Disk(server) => n * n + s(server),
            Group::Join(server) => n * n + n + s(server),
            Group::Timeout(server) => n * n + 2 * n + s(server),
            Group::Restart(server) => n * n + 3 * n + s(server),
            Group::Election => n * n + 4 * n,
            Group::Heal => n * n + 4 * n + 1,
            Group::Reconnect(client) => n * n + 4 * n + 2 + usize::from(client),
        }
    }

    /// The name of the ensemble's task `index`, as reports print it.
    pub fn task_name(&self, index: usize) -> String {
        let n = self.servers();
        if index < n * n {
            return format!("deliveries S{} → S{}", index / n, index % n);
        }
        let (kind, i) = ((index - n * n) / n, (index - n * n) % n);
        match kind {
            0 => format!("S{i}'s disk writes"),
            1 => format!("S{i}'s joins"),
            2 => format!("S{i}'s timeout"),
            3 => format!("S{i}'s restart"),
            _ => match index - n * n - 4 * n {
                0 => "the election".into(),
                1 => "the partition's heal".into(),
                c => format!("C{}'s reconnection", c - 2),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zab::ZabConfig;

    /// Every group has a number of its own below the count, the numbers leave no gap, and a
    /// group's name says which it is. Three clients: with two, a count that doubled the
    /// clients' reconnections instead of adding two would pass.
    #[test]
    fn each_group_has_its_own_task_and_name() {
        for servers in [3, 5] {
            let zab = ZabConfig {
                crashes: 1,
                ..ZabConfig::new(servers, 0)
            };
            let config = EnsembleConfig::new(zab, [0; crate::zookeeper::MAX_CLIENTS]);
            let mut groups = vec![
                Group::Election,
                Group::Heal,
                Group::Reconnect(0),
                Group::Reconnect(1),
                Group::Reconnect(2),
            ];
            for s in 0..servers {
                groups.extend([
                    Group::Disk(s),
                    Group::Join(s),
                    Group::Timeout(s),
                    Group::Restart(s),
                ]);
                groups.extend((0..servers).map(|to| Group::Link { from: s, to }));
            }
            let mut names = std::collections::BTreeSet::new();
            for group in groups {
                let number = config.number(group);
                assert!(number < config.tasks(3), "{group:?} is {number}");
                assert!(
                    names.insert(config.task_name(number)),
                    "{group:?} shares a name"
                );
            }
            assert_eq!(
                config.task_name(config.number(Group::Reconnect(1))),
                "C1's reconnection"
            );
            assert_eq!(
                config.task_name(config.number(Group::Timeout(2))),
                "S2's timeout"
            );
            assert_eq!(names.len(), config.tasks(3), "numbered without gaps");
        }
    }
}

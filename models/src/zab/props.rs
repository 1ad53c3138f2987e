//! ZAB's safety properties (DOMAIN.md §6), each a function of one state.
//!
//! "s delivers a" means a is in s's delivered prefix (`log[..delivered]`). Transactions are
//! compared whole (zxid and value), so two proposals that share a zxid are told apart. The ghost
//! part of the state records what no server remembers: who established leadership in which
//! epoch, every proposal broadcast, and which transactions a leader committed.

use super::state::{Phase, Proposal, ZabState};
use super::types::{members, Sid, Txn};
use super::ZabConfig;

fn position(delivered: &[Txn], txn: Txn) -> Option<usize> {
    delivered.iter().position(|&t| t == txn)
}

/// At most one server established leadership in each epoch (`Leadership2`), and no two
/// established leaders share a currentEpoch right now (`Leadership1`).
pub fn leader_uniqueness(state: &ZabState) -> bool {
    if state
        .ghost
        .established
        .iter()
        .any(|e| e.servers.count_ones() > 1)
    {
        return false;
    }
    let leaders: Vec<(Sid, u8)> = state
        .ids()
        .filter(|&s| state.server(s).is_established_leader())
        .map(|s| (s, state.server(s).disk.current_epoch))
        .collect();
    leaders
        .iter()
        .all(|&(a, ea)| leaders.iter().all(|&(b, eb)| a == b || ea != eb))
}

/// Every delivered transaction was broadcast by some primary.
pub fn integrity(state: &ZabState) -> bool {
    state.delivered().all(|(_, delivered)| {
        delivered
            .iter()
            .all(|t| state.ghost.proposals.iter().any(|p| p.txn == *t))
    })
}

/// If s delivers a and t delivers b, then s delivers b or t delivers a.
pub fn agreement(state: &ZabState) -> bool {
    state.delivered().all(|(_, ds)| {
        state.delivered().all(|(_, dt)| {
            ds.iter().all(|&a| {
                dt.iter()
                    .all(|&b| position(ds, b).is_some() || position(dt, a).is_some())
            })
        })
    })
}

/// If s delivers a before b, any server that delivers b delivers a, and before b.
pub fn total_order(state: &ZabState) -> bool {
    state.delivered().all(|(_, ds)| {
        state.delivered().all(|(_, dt)| {
            ds.iter().enumerate().all(|(i, &a)| {
                ds[i + 1..].iter().all(|&b| match position(dt, b) {
                    None => true,
                    Some(jb) => position(dt, a).is_some_and(|ja| ja < jb),
                })
            })
        })
    })
}

/// If a primary broadcasts a before b (same primary, same epoch), a server that delivers b
/// delivers a before b.
pub fn local_primary_order(state: &ZabState) -> bool {
    let proposals = &state.ghost.proposals;
    proposals.iter().enumerate().all(|(i, a)| {
        proposals[i + 1..]
            .iter()
            .filter(|b| same_primary(a, b))
            .all(|b| {
                state.delivered().all(|(_, d)| match position(d, b.txn) {
                    None => true,
                    Some(jb) => position(d, a.txn).is_some_and(|ja| ja < jb),
                })
            })
    })
}

fn same_primary(a: &Proposal, b: &Proposal) -> bool {
    a.primary == b.primary && a.txn.zxid.epoch == b.txn.zxid.epoch
}

/// A server that delivers a of epoch e and b of a later epoch delivers a before b.
pub fn global_primary_order(state: &ZabState) -> bool {
    state.delivered().all(|(_, d)| {
        d.iter()
            .enumerate()
            .all(|(i, a)| d[i + 1..].iter().all(|b| b.zxid.epoch >= a.zxid.epoch))
    })
}

/// If the primary of epoch e broadcasts a, and some server delivers b of an epoch below e, the
/// primary had delivered b before broadcasting a.
pub fn primary_integrity(state: &ZabState) -> bool {
    state.ghost.proposals.iter().all(|a| {
        state.delivered().all(|(_, d)| {
            d.iter()
                .filter(|b| b.zxid.epoch < a.txn.zxid.epoch)
                .all(|b| a.primary_delivered & b.bit() != 0)
        })
    })
}

/// A committed transaction is never lost: every leader established in an epoch later than the
/// one in which the transaction was committed has it in its log (ZTS `CommitCompleteness`, Remix
/// `LeaderLogCompleteness`). A TRUNC that removes it from the leader's future quorum shows up
/// here, when a leader without it is established; a TRUNC of a follower's copy alone loses
/// nothing (ZooKeeper truncates an outstanding proposal that is committed meanwhile, and sends
/// it again after NEWLEADER).
///
/// "Later than the commit's epoch", not "later than the transaction's": a leader established
/// before the commit, in an epoch that then never gathered a quorum again, cannot know it.
pub fn committed_log_durability(state: &ZabState) -> bool {
    let committed: Vec<(Txn, u8)> = committed_txns(state)
        .into_iter()
        .map(|t| (t, state.ghost.committed_in[usize::from(t.value - 1)]))
        .collect();
    state
        .servers
        .iter()
        .filter(|s| s.is_established_leader())
        .all(|leader| {
            committed
                .iter()
                .filter(|(_, epoch)| *epoch < leader.disk.current_epoch)
                .all(|(t, _)| leader.disk.log.contains(t))
        })
}

/// Implementation-level (ZTS `HistoryConsistency`): a follower in broadcast under a leader in
/// broadcast of the same epoch has a log that is a prefix of the leader's.
pub fn history_consistency(state: &ZabState) -> bool {
    state.ids().all(|s| {
        let follower = state.server(s);
        let Some(leader) = follower.following().map(|f| state.server(f.leader)) else {
            return true;
        };
        let both_broadcast = follower.up
            && follower.phase == Phase::Broadcast
            && leader.is_established_leader()
            && leader.phase == Phase::Broadcast
            && leader.disk.current_epoch == follower.disk.current_epoch;
        !both_broadcast || leader.disk.log.starts_with(&follower.disk.log)
    })
}

/// Implementation-level (ZTS `ackConsistent`): no leader waiting for a follower's ACK of
/// NEWLEADER got an ACK of a proposal from it (ZOOKEEPER-4685).
pub fn ack_consistent(state: &ZabState) -> bool {
    !state.ghost.during_action.unexpected_ack
}

/// Implementation-level (ZTS `stateConsistent`): no leader read a follower's ACK of UPTODATE
/// before that follower applied every transaction of an earlier epoch in the leader's log
/// (ZOOKEEPER-3023).
pub fn state_consistent(state: &ZabState) -> bool {
    !state.ghost.during_action.uptodate_before_applied
}

/// Implementation-level (ZTS `commitConsistent`): no follower in synchronization got a COMMIT
/// with no buffered proposal to commit (ZOOKEEPER-4394's NullPointerException).
pub fn commit_consistent(state: &ZabState) -> bool {
    !state.ghost.during_action.commit_without_proposal
}

/// While a partition lasts, no server on a side without a quorum has delivered (committed, for a
/// leader) a transaction proposed after the partition began: such a transaction can gather ACKs
/// only on its own side. A transaction proposed before the cut may still be committed there,
/// rightly, when ACKs from across the cut arrived before it (5 servers, leader S0 cut off with
/// S1: S2's ACK before the cut and S1's after it make 3).
pub fn minority_commits_nothing_new(config: &ZabConfig, state: &ZabState) -> bool {
    minority_commit(config, state).is_none()
}

/// A server on a side without a quorum that delivered a transaction proposed during the current
/// partition, and that transaction.
pub fn minority_commit(config: &ZabConfig, state: &ZabState) -> Option<(Sid, Txn)> {
    if state.cut_off == 0 {
        return None;
    }
    let sides = [state.cut_off, state.everyone() & !state.cut_off];
    sides
        .into_iter()
        .filter(|&side| !config.is_quorum(side))
        .flat_map(members)
        .find_map(|s| {
            let delivered = state.server(s).disk.delivered();
            let new = delivered
                .iter()
                .find(|t| t.value > state.ghost.injected_before_cut);
            new.map(|&t| (s, t))
        })
}

/// The committed transactions, from the proposals that carried them.
pub fn committed_txns(state: &ZabState) -> Vec<Txn> {
    state
        .ghost
        .proposals
        .iter()
        .map(|p| p.txn)
        .filter(|t| state.ghost.committed() & t.bit() != 0)
        .collect()
}

#[cfg(test)]
mod tests {
    //! Each property is fed a hand-built state that violates it, and the same state repaired.
    use super::*;
    use crate::zab::state::{Leading, Phase, Role};
    use crate::zab::types::Zxid;

    fn txn(epoch: u8, counter: u8, value: u8) -> Txn {
        Txn {
            zxid: Zxid::new(epoch, counter),
            value,
        }
    }

    /// Three servers; `txns` were proposed by S0 in their epochs, with nothing delivered before.
    fn world(txns: &[Txn]) -> ZabState {
        let mut state = ZabState::new(3);
        for &t in txns {
            state.ghost.proposals.push(Proposal {
                txn: t,
                primary: 0,
                primary_delivered: 0,
            });
        }
        state
    }

    fn deliver(state: &mut ZabState, s: Sid, log: &[Txn]) {
        let disk = &mut state.server_mut(s).disk;
        disk.log = log.iter().copied().collect();
        disk.delivered = log.len() as u8;
    }

    fn establish(state: &mut ZabState, s: Sid, epoch: u8) {
        let server = state.server_mut(s);
        server.role = Role::Leading(Leading {
            epoch,
            ..Leading::default()
        });
        server.phase = Phase::Synchronization;
        server.disk.current_epoch = epoch;
    }

    #[test]
    fn two_leaders_established_in_one_epoch_violate_leader_uniqueness() {
        let mut state = world(&[]);
        establish(&mut state, 0, 1);
        assert!(leader_uniqueness(&state));
        establish(&mut state, 1, 1);
        assert!(!leader_uniqueness(&state), "two live leaders of epoch 1");
        let mut past = world(&[]);
        past.ghost.establish(1, 0);
        past.ghost.establish(1, 1);
        assert!(
            !leader_uniqueness(&past),
            "two leaders recorded for epoch 1"
        );
    }

    #[test]
    fn a_delivered_txn_nobody_proposed_violates_integrity() {
        let mut state = world(&[txn(1, 1, 1)]);
        deliver(&mut state, 1, &[txn(1, 1, 1)]);
        assert!(integrity(&state));
        deliver(&mut state, 2, &[txn(1, 1, 2)]);
        assert!(!integrity(&state));
    }

    #[test]
    fn divergent_deliveries_violate_agreement() {
        let (a, b) = (txn(1, 1, 1), txn(2, 1, 2));
        let mut state = world(&[a, b]);
        deliver(&mut state, 0, &[a]);
        deliver(&mut state, 1, &[a, b]);
        assert!(agreement(&state), "a prefix agrees");
        deliver(&mut state, 2, &[b]);
        assert!(!agreement(&state), "S0 has a only, S2 b only");
    }

    #[test]
    fn swapped_deliveries_violate_total_order() {
        let (a, b) = (txn(1, 1, 1), txn(1, 2, 2));
        let mut state = world(&[a, b]);
        deliver(&mut state, 0, &[a, b]);
        deliver(&mut state, 1, &[b]);
        assert!(!total_order(&state), "S1 delivers b without a");
        deliver(&mut state, 1, &[b, a]);
        assert!(!total_order(&state), "S1 delivers b before a");
        deliver(&mut state, 1, &[a, b]);
        assert!(total_order(&state));
    }

    #[test]
    fn a_later_proposal_delivered_first_violates_local_primary_order() {
        let (a, b) = (txn(1, 1, 1), txn(1, 2, 2));
        let mut state = world(&[a, b]);
        deliver(&mut state, 0, &[a, b]);
        assert!(local_primary_order(&state));
        deliver(&mut state, 0, &[b]);
        assert!(!local_primary_order(&state));
    }

    #[test]
    fn an_older_epoch_delivered_last_violates_global_primary_order() {
        let (a, b) = (txn(1, 1, 1), txn(2, 1, 2));
        let mut state = world(&[a, b]);
        deliver(&mut state, 0, &[a, b]);
        assert!(global_primary_order(&state));
        deliver(&mut state, 0, &[b, a]);
        assert!(!global_primary_order(&state));
    }

    #[test]
    fn an_old_txn_its_primary_never_delivered_violates_primary_integrity() {
        let (a, b) = (txn(1, 1, 1), txn(2, 1, 2));
        let mut state = world(&[a, b]);
        deliver(&mut state, 1, &[a]);
        assert!(
            !primary_integrity(&state),
            "b's primary had not delivered a"
        );
        state.ghost.proposals[1].primary_delivered = a.bit();
        assert!(primary_integrity(&state));
    }

    #[test]
    fn a_later_leader_without_a_committed_txn_violates_durability() {
        let a = txn(1, 1, 1);
        let mut state = world(&[a]);
        state.ghost.commit(a, 1);
        establish(&mut state, 2, 2);
        assert!(
            !committed_log_durability(&state),
            "S2 leads epoch 2 without a"
        );
        deliver(&mut state, 2, &[a]);
        assert!(committed_log_durability(&state));
    }

    #[test]
    fn a_follower_log_beyond_its_leaders_violates_history_consistency() {
        let (a, b) = (txn(1, 1, 1), txn(1, 2, 2));
        let mut state = world(&[a, b]);
        establish(&mut state, 0, 2);
        state.server_mut(0).phase = Phase::Broadcast;
        deliver(&mut state, 0, &[a]);
        let follower = state.server_mut(1);
        follower.role = Role::Following(crate::zab::state::Following::new(0));
        follower.phase = Phase::Broadcast;
        follower.disk.current_epoch = 2;
        follower.disk.log = [a].into_iter().collect();
        assert!(history_consistency(&state));
        follower_log(&mut state, &[a, b]);
        assert!(
            !history_consistency(&state),
            "S1 logged b, which its leader lacks"
        );
    }

    #[test]
    fn each_during_action_flag_violates_its_own_check_and_no_other() {
        // A proposal's ACK in the NEWLEADER handshake (ZOOKEEPER-4685), an UPTODATE ACK before
        // the synced txns were applied (3023), a COMMIT with nothing buffered (4394).
        type Flag = fn(&mut crate::zab::state::DuringAction);
        let checks: [(&str, Flag); 3] = [
            (crate::prop::ACK_CONSISTENT, |d| d.unexpected_ack = true),
            (crate::prop::STATE_CONSISTENT, |d| {
                d.uptodate_before_applied = true
            }),
            (crate::prop::COMMIT_CONSISTENT, |d| {
                d.commit_without_proposal = true
            }),
        ];
        let verdicts = |state: &ZabState| {
            [
                (crate::prop::ACK_CONSISTENT, ack_consistent(state)),
                (crate::prop::STATE_CONSISTENT, state_consistent(state)),
                (crate::prop::COMMIT_CONSISTENT, commit_consistent(state)),
            ]
        };
        assert!(verdicts(&world(&[])).iter().all(|(_, holds)| *holds));
        for (name, set) in checks {
            let mut state = world(&[]);
            set(&mut state.ghost.during_action);
            for (property, holds) in verdicts(&state) {
                assert_eq!(holds, property != name, "{name} set: {property}");
            }
        }
    }

    #[test]
    fn a_minority_delivering_a_txn_proposed_during_the_partition_violates_the_minority_check() {
        // Five servers, {S3, S4} cut off. S3 delivering write 1 is a violation only if write 1
        // was proposed after the cut; the majority side may deliver it either way.
        let config = ZabConfig::new(5, 1);
        let a = txn(1, 1, 1);
        let mut state = ZabState::new(5);
        deliver(&mut state, 3, &[a]);
        assert!(
            minority_commits_nothing_new(&config, &state),
            "no partition, nothing to check"
        );
        state.cut_off = 0b11000;
        assert!(!minority_commits_nothing_new(&config, &state));
        assert_eq!(minority_commit(&config, &state), Some((3, a)));
        state.ghost.injected_before_cut = 1;
        assert!(
            minority_commits_nothing_new(&config, &state),
            "proposed before the cut: ACKs from across it may have made the quorum"
        );
        let mut majority = ZabState::new(5);
        majority.cut_off = 0b11000;
        deliver(&mut majority, 0, &[a]);
        assert!(
            minority_commits_nothing_new(&config, &majority),
            "{{S0, S1, S2}} is a quorum"
        );
    }

    fn follower_log(state: &mut ZabState, log: &[Txn]) {
        state.server_mut(1).disk.log = log.iter().copied().collect();
    }

    #[test]
    fn a_leader_established_before_the_commit_need_not_hold_it() {
        // A txn of epoch 1 committed only in epoch 3: a stale leader of epoch 2, established
        // before and cut off since, cannot know it.
        let a = txn(1, 1, 1);
        let mut state = world(&[a]);
        state.ghost.commit(a, 3);
        establish(&mut state, 0, 2);
        assert!(committed_log_durability(&state));
        establish(&mut state, 1, 4);
        assert!(
            !committed_log_durability(&state),
            "a leader of epoch 4 must hold it"
        );
    }
}

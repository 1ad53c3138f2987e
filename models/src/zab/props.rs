//! ZAB's safety properties (docs/properties.md), each a function of one state.
//!
//! "s delivers a" means a is in s's delivery history (`ghost.history`): every transaction s ever
//! applied while serving (in broadcast), in the order it first did, which a TRUNC or a SNAP that
//! lowers or replaces the delivered prefix of its log cannot shrink. The order properties read that history, not today's
//! log, so a server that delivered a transaction and lost it again still counts as having
//! delivered it (and `committed_log_monotonicity` reports the loss itself). Transactions are
//! compared whole (zxid and value), so two proposals that share a zxid are told apart. The ghost
//! part of the state records what no server remembers: who established leadership in which
//! epoch, every proposal broadcast, which transactions a leader committed, who logged each one.

use super::state::{Phase, Proposal, ZabState};
use super::types::{members, Sid, Txn};
use super::ZabConfig;

fn position(delivered: &[Txn], txn: Txn) -> Option<usize> {
    delivered.iter().position(|&t| t == txn)
}

/// Every server's delivery history, with its id.
fn histories(state: &ZabState) -> impl Iterator<Item = (Sid, &[Txn])> {
    state
        .ids()
        .map(|s| (s, state.ghost.history[usize::from(s)].as_slice()))
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

/// Every delivered transaction was broadcast by some primary and accepted (logged) by a quorum
/// of servers: a server never applies a transaction that only a minority ever held, such as a
/// proposal committed on too few ACKs, a stray write, or an uncommitted entry replayed into the
/// data tree. The quorum may span epochs (the ghost keeps one set per transaction), which is
/// weaker than "acknowledged by a quorum of one leader's epoch" with 5 servers and the same with
/// 3, where any two servers are a quorum.
pub fn integrity(state: &ZabState) -> bool {
    histories(state).all(|(_, delivered)| {
        delivered
            .iter()
            .all(|t| state.ghost.proposals.iter().any(|p| p.txn == *t) && accepted(state, *t))
    })
}

/// Whether a quorum of servers ever logged `txn`.
fn accepted(state: &ZabState, txn: Txn) -> bool {
    let logged_by = state.ghost.logged_by[usize::from(txn.value - 1)];
    2 * logged_by.count_ones() > state.servers.len() as u32
}

/// A transaction outside the quorum rule of [`integrity`], and the server that delivered it.
pub fn unaccepted_delivery(state: &ZabState) -> Option<(Sid, Txn)> {
    histories(state).find_map(|(s, delivered)| {
        delivered
            .iter()
            .find(|&&t| !accepted(state, t))
            .map(|&t| (s, t))
    })
}

/// If s delivers a and t delivers b, then s delivers b or t delivers a.
pub fn agreement(state: &ZabState) -> bool {
    histories(state).all(|(_, ds)| {
        histories(state).all(|(_, dt)| {
            ds.iter().all(|&a| {
                dt.iter()
                    .all(|&b| position(ds, b).is_some() || position(dt, a).is_some())
            })
        })
    })
}

/// If s delivers a before b, any server that delivers b delivers a, and before b.
pub fn total_order(state: &ZabState) -> bool {
    histories(state).all(|(_, ds)| {
        histories(state).all(|(_, dt)| {
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
                histories(state).all(|(_, d)| match position(d, b.txn) {
                    None => true,
                    Some(jb) => position(d, a.txn).is_some_and(|ja| ja < jb),
                })
            })
    })
}

/// Both broadcast by one primary: the same server in the same epoch. A server that leads twice
/// is two primaries, and so are two servers that (wrongly) lead one epoch.
fn same_primary(a: &Proposal, b: &Proposal) -> bool {
    a.primary == b.primary && a.txn.zxid.epoch == b.txn.zxid.epoch
}

/// A server that delivers a of epoch e and b of a later epoch delivers a before b.
pub fn global_primary_order(state: &ZabState) -> bool {
    histories(state).all(|(_, d)| {
        d.iter()
            .enumerate()
            .all(|(i, a)| d[i + 1..].iter().all(|b| b.zxid.epoch >= a.zxid.epoch))
    })
}

/// If the primary of epoch e broadcasts a, and some server delivers b of an epoch below e, the
/// primary had delivered b before broadcasting a.
pub fn primary_integrity(state: &ZabState) -> bool {
    state.ghost.proposals.iter().all(|a| {
        histories(state).all(|(_, d)| {
            d.iter()
                .filter(|b| b.zxid.epoch < a.txn.zxid.epoch)
                .all(|b| a.primary_delivered & b.bit() != 0)
        })
    })
}

/// A server's deliveries only grow (the published specs' `CommittedLogMonotonicity`, Remix's
/// `monotonicRead`): its delivered prefix today starts with everything it ever delivered, in
/// the same order (a follower in synchronization may have applied more, not yet served). A
/// TRUNC or SNAP that takes back a delivered transaction breaks it, which is how a lost commit
/// shows up at the follower that had applied it.
pub fn committed_log_monotonicity(state: &ZabState) -> bool {
    taken_back(state).is_none()
}

/// A server whose delivered prefix no longer starts with its delivery history, and the first
/// transaction of that history it lost or holds elsewhere.
pub fn taken_back(state: &ZabState) -> Option<(Sid, Txn)> {
    histories(state).find_map(|(s, history)| {
        let now = state.server(s).disk.delivered();
        history
            .iter()
            .enumerate()
            .find(|&(i, t)| now.get(i) != Some(t))
            .map(|(_, &t)| (s, t))
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
            let delivered = &state.ghost.history[usize::from(s)];
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

    /// `s` has logged and delivered `log`, and delivered nothing else before: its delivery
    /// history is `log` (as the model's step would record it), accepted by everyone.
    fn deliver(state: &mut ZabState, s: Sid, log: &[Txn]) {
        let txns: crate::zab::types::Log = log.iter().copied().collect();
        let disk = &mut state.server_mut(s).disk;
        disk.log = txns;
        disk.delivered = log.len() as u8;
        state.ghost.history[usize::from(s)] = txns;
        for t in log {
            state.ghost.logged_by[usize::from(t.value - 1)] = state.everyone();
        }
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

    #[test]
    fn s0_delivering_a_new_txn_in_the_minority_violates_the_minority_check() {
        // `cut_off` never holds S0, so with {S2, S3, S4} cut off the minority is S0's side: the
        // check must look at both sides, not only the one `cut_off` names.
        let config = ZabConfig::new(5, 1);
        let a = txn(1, 1, 1);
        let mut state = ZabState::new(5);
        state.cut_off = 0b11100;
        deliver(&mut state, 0, &[a]);
        assert_eq!(minority_commit(&config, &state), Some((0, a)));
        assert!(!minority_commits_nothing_new(&config, &state));
        let mut majority = ZabState::new(5);
        majority.cut_off = 0b11100;
        deliver(&mut majority, 2, &[a]);
        assert!(
            minority_commits_nothing_new(&config, &majority),
            "{{S2, S3, S4}} is a quorum"
        );
    }

    #[test]
    fn history_consistency_asks_only_when_every_guard_holds() {
        // A follower S1 whose log holds b beyond its leader S0's: a violation when both are up,
        // in broadcast, S0 an established leader, and both in epoch 2. Each guard alone, made
        // false, excuses it (so each is needed, and none is joined to the others by "or").
        type Guard = fn(&mut ZabState);
        let (a, b) = (txn(1, 1, 1), txn(1, 2, 2));
        let diverged = || {
            let mut state = world(&[a, b]);
            establish(&mut state, 0, 2);
            state.server_mut(0).phase = Phase::Broadcast;
            deliver(&mut state, 0, &[a]);
            let follower = state.server_mut(1);
            follower.role = Role::Following(crate::zab::state::Following::new(0));
            follower.phase = Phase::Broadcast;
            follower.disk.current_epoch = 2;
            follower_log(&mut state, &[a, b]);
            state
        };
        assert!(!history_consistency(&diverged()));
        let guards: [(&str, Guard); 5] = [
            ("the follower is down", |s| s.server_mut(1).up = false),
            ("the follower is still in synchronization", |s| {
                s.server_mut(1).phase = Phase::Synchronization
            }),
            ("the leader is down", |s| s.server_mut(0).up = false),
            ("the leader is still in synchronization", |s| {
                s.server_mut(0).phase = Phase::Synchronization
            }),
            ("the follower is in another epoch", |s| {
                s.server_mut(1).disk.current_epoch = 1
            }),
        ];
        for (why, unset) in guards {
            let mut state = diverged();
            unset(&mut state);
            assert!(history_consistency(&state), "{why}");
        }
    }

    #[test]
    fn one_server_leading_two_epochs_is_two_primaries() {
        // S0 broadcast a in epoch 1, lost it uncommitted, and broadcast b in epoch 3: S1
        // delivering b without a keeps local primary order, which relates proposals of one
        // primary (server and epoch) only.
        let (a, b) = (txn(1, 1, 1), txn(3, 1, 2));
        let mut state = world(&[a, b]);
        deliver(&mut state, 1, &[b]);
        assert!(local_primary_order(&state));
        assert!(!same_primary(
            &state.ghost.proposals[0],
            &state.ghost.proposals[1]
        ));
        // Two servers broadcasting in one epoch are two primaries too.
        state.ghost.proposals[1] = Proposal {
            txn: txn(1, 2, 2),
            primary: 1,
            primary_delivered: 0,
        };
        deliver(&mut state, 1, &[txn(1, 2, 2)]);
        assert!(local_primary_order(&state));
    }

    #[test]
    fn a_leader_of_the_commits_own_epoch_is_not_asked() {
        // "Later than the commit's epoch": a leader of epoch 2 lacking a txn committed in epoch
        // 2 is not a durability violation. In a reachable state that leader is the one that
        // committed it (the only one established in epoch 2, or `leader_uniqueness` fails) and
        // holds it, so the two readings agree there; this pins the boundary.
        let a = txn(1, 1, 1);
        let mut state = world(&[a]);
        state.ghost.commit(a, 2);
        establish(&mut state, 1, 2);
        assert!(committed_log_durability(&state));
        establish(&mut state, 1, 3);
        assert!(!committed_log_durability(&state));
    }

    #[test]
    fn a_delivery_taken_back_violates_monotonicity() {
        // S1 delivered a and b; a TRUNC cuts b: its history keeps b, its log does not.
        let (a, b, c) = (txn(1, 1, 1), txn(1, 2, 2), txn(3, 1, 3));
        let mut state = world(&[a, b, c]);
        deliver(&mut state, 1, &[a, b]);
        assert!(committed_log_monotonicity(&state));
        let disk = &mut state.server_mut(1).disk;
        disk.log.truncate(1);
        disk.delivered = 1;
        assert_eq!(taken_back(&state), Some((1, b)));
        // c applied in b's place during a sync: not delivered until S1 serves; then the
        // history goes on after b, while the log has c there.
        let disk = &mut state.server_mut(1).disk;
        disk.log.push(c);
        disk.delivered = 2;
        state.server_mut(1).phase = Phase::Synchronization;
        state.ghost.record(&state.servers);
        assert_eq!(state.ghost.history[1].as_slice(), &[a, b]);
        state.server_mut(1).phase = Phase::Broadcast;
        state.ghost.record(&state.servers);
        assert_eq!(state.ghost.history[1].as_slice(), &[a, b, c]);
        assert_eq!(taken_back(&state), Some((1, b)));
    }

    #[test]
    fn a_follower_in_sync_may_have_applied_more_than_it_delivered() {
        // Applied at NEWLEADER, not yet served: the delivered log goes beyond the history.
        let (a, b) = (txn(1, 1, 1), txn(1, 2, 2));
        let mut state = world(&[a, b]);
        deliver(&mut state, 1, &[a]);
        let disk = &mut state.server_mut(1).disk;
        disk.log.push(b);
        disk.delivered = 2;
        assert!(committed_log_monotonicity(&state));
    }

    #[test]
    fn a_txn_delivered_that_no_quorum_logged_violates_integrity() {
        let a = txn(1, 1, 1);
        let mut state = world(&[a]);
        deliver(&mut state, 0, &[a]);
        assert!(integrity(&state));
        state.ghost.logged_by[0] = 0b011;
        assert!(integrity(&state), "S0 and S1 are a quorum of three");
        state.ghost.logged_by[0] = 0b001;
        assert!(!integrity(&state), "S0 alone is not");
        // The ghost widens a quorum to everyone when it records one (fewer states).
        state.ghost.logged_by[0] = 0;
        state.server_mut(1).disk.log = [a].into_iter().collect();
        state.ghost.record(&state.servers);
        assert_eq!(state.ghost.logged_by[0], 0b111);
        assert!(integrity(&state));
        state.ghost.logged_by[0] = 0;
        state.server_mut(1).disk.log.clear();
        state.ghost.record(&state.servers);
        assert_eq!(state.ghost.logged_by[0], 0b001, "S0 alone is no quorum");
        assert_eq!(unaccepted_delivery(&state), Some((0, a)));
    }

    /// A quorum is a strict majority of the ensemble, whatever its size: three of five, but
    /// two of five is not one (the bound `2 * logged > servers`, not `2 + logged > servers`,
    /// which agrees with it at three and four servers only).
    #[test]
    fn a_quorum_of_five_is_three() {
        let a = txn(1, 1, 1);
        let mut state = ZabState::new(5);
        state.ghost.proposals.push(Proposal {
            txn: a,
            primary: 0,
            primary_delivered: 0,
        });
        deliver(&mut state, 0, &[a]);
        state.ghost.logged_by[0] = 0b00111;
        assert!(integrity(&state), "three of five are a quorum");
        state.ghost.logged_by[0] = 0b00011;
        assert!(!integrity(&state), "two of five are not");
    }
}

//! Keeping the space finite without an epoch bound (`epochs = 0`).
//!
//! Every election round takes a new epoch, so a ZAB world whose elections can repeat forever (the
//! race of `liveness-election-race.toml`) never repeats a state, and a bounded `epochs` turns
//! such a cycle into a state where elections simply stop. Instead, after each step every epoch in
//! the state is renamed, order-preserving, so that two states that differ only in the epoch
//! numbers become one.
//!
//! Why that is sound: the model does three things with epochs. It compares them (`<`, `=`, and
//! the lexicographic order of votes and zxids), it tests for 0 ("nothing yet": no epoch proposed,
//! nothing committed, the initial zxid), and it proposes `e + 1` for the largest `e` among a
//! quorum's acceptedEpochs. Dense ranks (as the lock model gives sequence numbers) would not do,
//! because the proposed epoch is not always above every epoch present: servers outside the
//! quorum may have accepted more, and whether `e + 1` equals such an epoch or lies below it
//! decides whether a follower answers LEADERINFO with ACKEPOCH(-1) or leaves. So the renaming
//! keeps 0, keeps the order, keeps a gap of one (consecutive epochs stay consecutive) and shrinks
//! every larger gap to two: for sorted epochs `0 = e0 < e1 < ...` it maps `e(i+1)` to
//! `f(e(i)) + min(e(i+1) - e(i), 2)`. For epochs `a`, `b` present, `a < b`, `a = b` and
//! `a + 1 = b` then hold after the renaming exactly when before, and `a + 1` is absent after it
//! exactly when before; every step therefore does the same thing to the renamed state, up to the
//! renaming, and every property (which also only compares epochs) gives the same answer. The
//! renamed state is a bisimilar stand-in, merging no states a step or a property tells apart
//! (`tests/liveness.rs` compares verdicts with and without renaming).
//!
//! The ghost record of who established leadership in which epoch would still grow without bound
//! (one entry per round), so before renaming it forgets an entry that can no longer change: an
//! epoch `e` in which one server established, when no server is LEADING with epoch `e` and the
//! servers whose acceptedEpoch is below `e` are not a quorum. A new establishment in `e` needs a
//! leader of `e` and a quorum of counted ACKEPOCHs for `e` (the leader counts itself), and a
//! server acknowledges `e` (or proposes it) only while its acceptedEpoch is below `e`; since
//! acceptedEpoch never decreases (it is on disk and only `max`ed up), such a quorum can no
//! longer form. An entry with two servers is a `leader_uniqueness` violation and is kept.
//!
//! The fields renamed, all of them: each server's acceptedEpoch, currentEpoch, log, the zxid
//! its data tree was loaded to, and zk-4712's sync queue and orphaned queue; a leader's proposed epoch, highest acceptedEpoch seen and the last
//! zxids its followers reported; a follower's synced transactions and the proposals it buffers
//! in synchronization; every message in flight; and
//! the ghost's established epochs, proposals, commit epochs and delivery histories. A new field that holds an epoch
//! or a zxid must be added to [`visit_epochs`], or states that differ in it would be merged
//! wrongly.
//!
//! What a reader of a trace notices: epoch numbers are these renamed values, so a trace may show
//! epoch 2 after epoch 3 was proposed once epoch 1 has gone from the state.

use super::state::{Role, ZabState};
use super::types::{members, Msg, SyncMode, Txn, Zxid};
use super::ZabConfig;

/// Apply `rename` to every epoch the state holds (the list in the module doc).
pub fn visit_epochs(state: &mut ZabState, rename: &mut dyn FnMut(u8) -> u8) {
    for server in &mut state.servers {
        server.disk.accepted_epoch = rename(server.disk.accepted_epoch);
        server.disk.current_epoch = rename(server.disk.current_epoch);
        rename_txns(&mut server.disk.log, rename);
        rename_txns(&mut server.sync_queue, rename);
        rename_txns(&mut server.orphans, rename);
        rename_zxid(&mut server.loaded, rename);
        match &mut server.role {
            Role::Looking => {}
            Role::Leading(leading) => {
                leading.epoch = rename(leading.epoch);
                leading.max_accepted = rename(leading.max_accepted);
                for zxid in &mut leading.last_zxids {
                    rename_zxid(zxid, rename);
                }
            }
            Role::Following(following) => {
                rename_txns(&mut following.synced, rename);
                rename_txns(&mut following.pending, rename);
            }
        }
    }
    for packet in &mut state.net {
        rename_msg(&mut packet.msg, rename);
    }
    for established in &mut state.ghost.established {
        established.epoch = rename(established.epoch);
    }
    for proposal in &mut state.ghost.proposals {
        rename_zxid(&mut proposal.txn.zxid, rename);
    }
    for epoch in &mut state.ghost.committed_in {
        *epoch = rename(*epoch);
    }
    for history in &mut state.ghost.history {
        rename_txns(history, rename);
    }
}

fn rename_zxid(zxid: &mut Zxid, rename: &mut dyn FnMut(u8) -> u8) {
    zxid.epoch = rename(zxid.epoch);
}

fn rename_txns<'a>(txns: impl IntoIterator<Item = &'a mut Txn>, rename: &mut dyn FnMut(u8) -> u8) {
    for txn in txns {
        rename_zxid(&mut txn.zxid, rename);
    }
}

fn rename_msg(msg: &mut Msg, rename: &mut dyn FnMut(u8) -> u8) {
    match msg {
        Msg::FollowerInfo { accepted_epoch } => *accepted_epoch = rename(*accepted_epoch),
        Msg::LeaderInfo { epoch } | Msg::NewLeader { epoch } => *epoch = rename(*epoch),
        Msg::AckEpoch {
            current_epoch,
            last_zxid,
            counted: _,
        } => {
            *current_epoch = rename(*current_epoch);
            rename_zxid(last_zxid, rename);
        }
        Msg::Sync { mode, txns } => {
            match mode {
                SyncMode::Trunc { to } => rename_zxid(to, rename),
                SyncMode::Diff | SyncMode::Snap => {}
            }
            rename_txns(txns, rename);
        }
        Msg::UpToDate => {}
        Msg::Proposal { txn } => rename_zxid(&mut txn.zxid, rename),
        Msg::Ack { zxid } | Msg::Commit { zxid } | Msg::Synced { after: zxid, .. } => {
            rename_zxid(zxid, rename)
        }
        Msg::Forward { .. } => {}
    }
}

/// Forget the ghost's establishments that can no longer change (see the module doc).
pub fn forget_settled_establishments(config: &ZabConfig, state: &mut ZabState) {
    let leading_epochs: Vec<u8> = state
        .servers
        .iter()
        .filter_map(|s| s.leading().map(|l| l.epoch))
        .collect();
    let below = |epoch: u8| {
        state
            .ids()
            .filter(|&s| state.server(s).disk.accepted_epoch < epoch)
            .fold(0, |set, s| set | super::types::bit(s))
    };
    let keep: Vec<bool> = state
        .ghost
        .established
        .iter()
        .map(|e| {
            members(e.servers).count() > 1
                || leading_epochs.contains(&e.epoch)
                || config.is_quorum(below(e.epoch))
        })
        .collect();
    let mut keep = keep.into_iter();
    state
        .ghost
        .established
        .retain(|_| keep.next().expect("one flag per entry"));
}

/// The renaming of the module doc for the sorted, distinct epochs `present` (which hold 0):
/// the new name of each, in the same order.
fn compressed(present: &[u8]) -> Vec<u8> {
    let mut names = Vec::with_capacity(present.len());
    let mut previous: Option<(u8, u8)> = None;
    for &epoch in present {
        let name = match previous {
            None => epoch,
            Some((old, new)) => new + (epoch - old).min(2),
        };
        names.push(name);
        previous = Some((epoch, name));
    }
    names
}

/// Forget settled establishments, then rename every epoch (see the module doc).
pub fn rename_epochs(config: &ZabConfig, state: &mut ZabState) {
    forget_settled_establishments(config, state);
    let mut present = vec![0u8];
    visit_epochs(state, &mut |epoch| {
        present.push(epoch);
        epoch
    });
    present.sort_unstable();
    present.dedup();
    let names = compressed(&present);
    visit_epochs(state, &mut |epoch| {
        let i = present
            .binary_search(&epoch)
            .expect("every epoch was collected");
        names[i]
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zab::state::{Established, Following, Leading};
    use crate::zab::types::Packet;

    #[test]
    fn gaps_of_one_stay_and_larger_gaps_become_two() {
        assert_eq!(compressed(&[0, 1, 2]), vec![0, 1, 2]);
        assert_eq!(compressed(&[0, 3, 4, 9]), vec![0, 2, 3, 5]);
        assert_eq!(compressed(&[0, 2]), vec![0, 2]);
        assert_eq!(compressed(&[0]), vec![0]);
    }

    /// Three servers with accepted epochs 7, 5, 5 and current epochs 5, 5, 3, a leader of 7 and
    /// messages and ghost entries that mention epochs: every one is renamed, and the order, the
    /// zeros and the successor relation survive.
    #[test]
    fn renaming_visits_every_field_and_keeps_order_and_successors() {
        let config = ZabConfig::new(3, 2);
        let mut state = ZabState::new(3);
        for (s, (accepted, current)) in [(7, 5), (5, 5), (5, 3)].into_iter().enumerate() {
            state.servers[s].disk.accepted_epoch = accepted;
            state.servers[s].disk.current_epoch = current;
        }
        let txn = Txn {
            zxid: Zxid::new(3, 1),
            value: 1,
        };
        state.servers[2].disk.log.push(txn);
        state.servers[0].role = Role::Leading(Leading {
            epoch: 7,
            max_accepted: 6,
            ..Leading::default()
        });
        let mut following = Following::new(0);
        following.pending.push(Txn {
            zxid: Zxid::new(5, 1),
            value: 2,
        });
        state.servers[1].role = Role::Following(following);
        state.net.push(Packet {
            from: 0,
            to: 1,
            msg: Msg::LeaderInfo { epoch: 7 },
        });
        state.ghost.establish(7, 0);
        state.ghost.committed_in[0] = 3;
        rename_epochs(&config, &mut state);
        // Present: 0, 3, 5, 6, 7 → 0, 2, 4, 5, 6.
        let disk = |s: usize| &state.servers[s].disk;
        assert_eq!((disk(0).accepted_epoch, disk(0).current_epoch), (6, 4));
        assert_eq!((disk(1).accepted_epoch, disk(1).current_epoch), (4, 4));
        assert_eq!((disk(2).accepted_epoch, disk(2).current_epoch), (4, 2));
        assert_eq!(disk(2).log[0].zxid, Zxid::new(2, 1), "the counter stays");
        let leading = state.servers[0].leading().expect("still leading");
        assert_eq!((leading.epoch, leading.max_accepted), (6, 5));
        assert_eq!(leading.last_zxids[1], Zxid::ZERO, "zero stays zero");
        assert_eq!(state.net[0].msg, Msg::LeaderInfo { epoch: 6 });
        let buffered = state.servers[1].following().expect("following").pending[0];
        assert_eq!(buffered.zxid, Zxid::new(4, 1));
        assert_eq!(
            state.ghost.established.as_slice(),
            &[Established {
                epoch: 6,
                servers: 0b001
            }]
        );
        assert_eq!(state.ghost.committed_in, [2, 0, 0, 0, 0, 0, 0, 0]);
        let again = {
            let mut again = state.clone();
            rename_epochs(&config, &mut again);
            again
        };
        assert_eq!(again, state, "a renamed state is its own renaming");
    }

    #[test]
    fn an_establishment_is_forgotten_once_no_quorum_can_acknowledge_its_epoch_again() {
        let config = ZabConfig::new(3, 0);
        let mut state = ZabState::new(3);
        state.ghost.establish(2, 1);
        state.servers[1].disk.accepted_epoch = 2;
        // S0 and S2 are still below 2: together they could acknowledge a leader of epoch 2.
        forget_settled_establishments(&config, &mut state);
        assert_eq!(state.ghost.established.len(), 1);
        state.servers[2].disk.accepted_epoch = 3;
        forget_settled_establishments(&config, &mut state);
        assert!(state.ghost.established.is_empty(), "only S0 is below 2");
        // Kept while a leader of that epoch is there, and kept when it is a violation.
        state.ghost.establish(3, 2);
        state.servers[2].role = Role::Leading(Leading {
            epoch: 3,
            ..Leading::default()
        });
        for s in 0..3 {
            state.servers[s].disk.accepted_epoch = 3;
        }
        forget_settled_establishments(&config, &mut state);
        assert_eq!(state.ghost.established.len(), 1);
        state.servers[2].role = Role::Looking;
        state.ghost.establish(3, 0);
        forget_settled_establishments(&config, &mut state);
        assert_eq!(state.ghost.established[0].servers, 0b101);
    }
}

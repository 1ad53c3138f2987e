//! Keeping the space finite when clients acquire forever (`acquisitions = 0`).
//!
//! Sequence numbers and zxids only grow, so a world that acquires forever would never repeat a
//! state. But the recipes only ever compare them (lowest child, next-lower child, equal node, token
//! at least the highest accepted), and a new one is always above every existing one. So after each
//! step every sequence number in the state (in znodes, watches, messages, client variables) is
//! replaced by its rank among those present, the sequence counter by their number, and likewise
//! every zxid by its rank among the non-zero zxids present (the last zxid is the largest, so the
//! counter stays above every czxid). The renaming preserves order and equality, so the renamed
//! state has exactly the same futures as the original: it merges no states that a step or a
//! property can tell apart (`tests/liveness.rs` checks this against searches without renaming).
//!
//! What a reader of a trace notices: node names are ranks, so `/lock/lock-0000000000` is always
//! the lowest node present, not the first ever created.

use crate::zookeeper::{Seq, SeqMap, SeqSet, ZkService, Zxid, ZxidMap};

use super::state::LockState;

/// Apply `seq` and `zxid` to every value the state holds.
fn visit<Z: ZkService>(state: &mut LockState<Z>, seq: SeqMap, zxid: ZxidMap) {
    for client in &mut state.clients {
        client.seq = client.seq.map(&mut *seq);
        client.predecessor = client.predecessor.map(&mut *seq);
        client.token = zxid(client.token);
    }
    state.zk.map_values(seq, zxid);
    for links in &mut state.links {
        for request in &mut links.to_server {
            *request = request.map_values(seq);
        }
        for reply in &mut links.from_server {
            *reply = reply.map_values(seq, zxid);
        }
        links.to_resource = links.to_resource.map(&mut *zxid);
    }
    state.resource.highest = zxid(state.resource.highest);
    state.resource.latest_grant = state.resource.latest_grant.map(&mut *seq);
}

/// How one step renamed values to their ranks: which old value became which. A harness that binds
/// real names to the model's (`lockscope conform`) follows them through it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Renaming {
    /// The sequence numbers present before the renaming.
    seqs: SeqSet,
    /// The non-zero zxids present before the renaming, sorted.
    zxids: Vec<Zxid>,
}

impl Renaming {
    /// The new name of sequence number `old`; `None` when it was no longer in the state.
    pub fn seq(&self, old: Seq) -> Option<Seq> {
        self.seqs.contains(old).then(|| self.seqs.rank(old))
    }

    /// The new value of zxid `old` (0 stays 0); `None` when it was no longer in the state.
    pub fn zxid(&self, old: Zxid) -> Option<Zxid> {
        if old == 0 {
            return Some(0);
        }
        self.zxids
            .binary_search(&old)
            .ok()
            .map(|rank| rank as Zxid + 1)
    }
}

/// Replace every sequence number and zxid by its rank; returns the renaming.
///
/// The resource's ghost of the latest accepted grant is kept only while some sequence number in
/// the state is below it: a later write's grant is one of those or a new, higher number, so a
/// latest grant at or below all of them can never again be above a write's grant, and forgetting
/// it changes no future (it would otherwise hold a rank of its own for ever).
pub(super) fn rename_values<Z: ZkService>(state: &mut LockState<Z>) -> Renaming {
    let mut seqs = SeqSet::default();
    let mut zxids: Vec<Zxid> = Vec::new();
    let latest_grant = state.resource.latest_grant.take();
    visit(
        state,
        &mut |s| {
            seqs.insert(s);
            s
        },
        &mut |z| {
            zxids.push(z);
            z
        },
    );
    state.resource.latest_grant =
        latest_grant.filter(|&grant| seqs.lowest().is_some_and(|lowest| lowest < grant));
    if let Some(grant) = state.resource.latest_grant {
        seqs.insert(grant);
    }
    zxids.retain(|&z| z != 0);
    zxids.sort_unstable();
    zxids.dedup();
    let renaming = Renaming { seqs, zxids };
    visit(
        state,
        &mut |s| {
            renaming
                .seq(s)
                .expect("every sequence number was collected")
        },
        &mut |z| renaming.zxid(z).expect("every zxid was collected"),
    );
    state.zk.set_next_seq(renaming.seqs.len() as Seq);
    renaming
}

#[cfg(test)]
mod tests {
    use stateright::Model;

    use crate::lock::{LockAction, LockConfig, LockModel, Recipe};
    use crate::ActorId;

    #[test]
    fn renaming_keeps_order_and_closes_the_gaps() {
        let model = LockModel::new(LockConfig {
            acquisitions: 0,
            ..LockConfig::new(Recipe::Fenced, 1)
        })
        .expect("valid");
        // Drive one client through two whole rounds: the second node would be seq 1, czxid 4.
        let mut state = model.init_states().swap_remove(0);
        for _ in 0..40 {
            let mut actions = Vec::new();
            model.actions(&state, &mut actions);
            let Some(action) = actions.into_iter().next() else {
                break;
            };
            state = model.next_state(&state, action).expect("enabled");
            if matches!(
                action,
                LockAction::Deliver {
                    to: ActorId::Client(0),
                    ..
                }
            ) && state.clients[0].token > 0
            {
                assert_eq!(
                    state.clients[0].seq,
                    Some(0),
                    "the only live node has rank 0"
                );
                assert!(
                    state.clients[0].token <= 2,
                    "zxids are ranks among those present: {state:?}"
                );
            }
        }
    }
}

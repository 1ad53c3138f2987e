//! ZAB states packed field by field ([`crate::pack::Fields`]): every struct lists its fields, every
//! enum writes its variant's index, then that variant's fields.
//!
//! A search packs every successor to fingerprint it, and unpacks every state it expands. Through
//! serde (postcard) that was a third of a ZAB search, most of it in serde's calls per field; the
//! packed bytes are the same kind (a variable-length integer per field, lengths before
//! collections), written straight into the packer's buffer.

use super::state::{
    Durable, DuringAction, Established, FaultsUsed, FleState, Following, Ghost, Leading, Phase,
    Proposal, Role, Server, ZabState,
};
use super::types::{Msg, Notice, Notification, Packet, PeerState, SyncMode, Txn, Vote, Zxid};
use crate::pack::{fields_of_struct, Fields, Packer, Unpacker};

fields_of_struct!(Zxid { epoch, counter });
fields_of_struct!(Txn { zxid, value });
fields_of_struct!(Vote {
    peer_epoch,
    zxid,
    leader
});
fields_of_struct!(Notification {
    vote,
    election_epoch,
    state
});
fields_of_struct!(Notice {
    from,
    to,
    notification
});
fields_of_struct!(Packet { from, to, msg });
fields_of_struct!(Durable {
    log,
    delivered,
    accepted_epoch,
    current_epoch
});
fields_of_struct!(Leading {
    epoch,
    infos,
    connected,
    max_accepted,
    epoch_acks,
    to_sync,
    last_zxids,
    learners,
    newleader_acks,
    ready,
    acks,
    unwritten
});
fields_of_struct!(Following {
    leader,
    synced,
    snap,
    snapshot_needed,
    unlogged,
    reported,
    pending,
    pending_committed,
    newleader_ack_due,
    to_apply,
    awaits_leader
});
fields_of_struct!(FleState {
    logical_clock,
    vote,
    stalled,
    received,
    out_of_election
});
fields_of_struct!(Server {
    disk,
    up,
    role,
    phase,
    sync_queue,
    orphans,
    loaded,
    fle
});
fields_of_struct!(FaultsUsed {
    crashes,
    partitions,
    timeouts
});
fields_of_struct!(Established { epoch, servers });
fields_of_struct!(Proposal {
    txn,
    primary,
    primary_delivered
});
fields_of_struct!(DuringAction {
    unexpected_ack,
    uptodate_before_applied,
    commit_without_proposal
});
fields_of_struct!(Ghost {
    established,
    proposals,
    committed_in,
    injected_before_cut,
    during_action,
    history,
    logged_by
});
fields_of_struct!(ZabState {
    servers,
    net,
    election_net,
    cut_off,
    faults,
    injected,
    ghost
});

/// A variant's index, read back: `count` variants are known.
fn take_variant(input: &mut Unpacker<'_>, count: u8, type_name: &str) -> u8 {
    let variant = input.take_u8();
    assert!(variant < count, "{type_name} has no variant {variant}");
    variant
}

impl Fields for Phase {
    fn put_fields(&self, out: &mut Packer) {
        out.put(match self {
            Phase::Election => 0,
            Phase::Discovery => 1,
            Phase::Synchronization => 2,
            Phase::Broadcast => 3,
        });
    }

    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        match take_variant(input, 4, "Phase") {
            0 => Phase::Election,
            1 => Phase::Discovery,
            2 => Phase::Synchronization,
            _ => Phase::Broadcast,
        }
    }
}

impl Fields for PeerState {
    fn put_fields(&self, out: &mut Packer) {
        out.put(match self {
            PeerState::Looking => 0,
            PeerState::Following => 1,
            PeerState::Leading => 2,
        });
    }

    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        match take_variant(input, 3, "PeerState") {
            0 => PeerState::Looking,
            1 => PeerState::Following,
            _ => PeerState::Leading,
        }
    }
}

impl Fields for Role {
    fn put_fields(&self, out: &mut Packer) {
        match self {
            Role::Looking => out.put(0),
            Role::Following(following) => {
                out.put(1);
                following.put_fields(out);
            }
            Role::Leading(leading) => {
                out.put(2);
                leading.put_fields(out);
            }
        }
    }

    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        match take_variant(input, 3, "Role") {
            0 => Role::Looking,
            1 => Role::Following(Fields::take_fields(input)),
            _ => Role::Leading(Fields::take_fields(input)),
        }
    }
}

impl Fields for SyncMode {
    fn put_fields(&self, out: &mut Packer) {
        match self {
            SyncMode::Diff => out.put(0),
            SyncMode::Trunc { to } => {
                out.put(1);
                to.put_fields(out);
            }
            SyncMode::Snap => out.put(2),
        }
    }

    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        match take_variant(input, 3, "SyncMode") {
            0 => SyncMode::Diff,
            1 => SyncMode::Trunc {
                to: Fields::take_fields(input),
            },
            _ => SyncMode::Snap,
        }
    }
}

impl Fields for Msg {
    fn put_fields(&self, out: &mut Packer) {
        match self {
            Msg::FollowerInfo { accepted_epoch } => {
                out.put(0);
                accepted_epoch.put_fields(out);
            }
            Msg::LeaderInfo { epoch } => {
                out.put(1);
                epoch.put_fields(out);
            }
            Msg::AckEpoch {
                current_epoch,
                last_zxid,
                counted,
            } => {
                out.put(2);
                current_epoch.put_fields(out);
                last_zxid.put_fields(out);
                counted.put_fields(out);
            }
            Msg::Sync { mode, txns } => {
                out.put(3);
                mode.put_fields(out);
                txns.put_fields(out);
            }
            Msg::NewLeader { epoch } => {
                out.put(4);
                epoch.put_fields(out);
            }
            Msg::UpToDate => out.put(5),
            Msg::Proposal { txn } => {
                out.put(6);
                txn.put_fields(out);
            }
            Msg::Ack { zxid } => {
                out.put(7);
                zxid.put_fields(out);
            }
            Msg::Commit { zxid } => {
                out.put(8);
                zxid.put_fields(out);
            }
            Msg::Forward {
                client,
                request,
                connection_closed,
            } => {
                out.put(9);
                client.put_fields(out);
                out.put(crate::pack::Word::word(*request) << 1 | u64::from(*connection_closed));
            }
            Msg::Synced {
                client,
                after,
                connection_closed,
            } => {
                out.put(10);
                client.put_fields(out);
                after.put_fields(out);
                connection_closed.put_fields(out);
            }
        }
    }

    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        match take_variant(input, 11, "Msg") {
            0 => Msg::FollowerInfo {
                accepted_epoch: Fields::take_fields(input),
            },
            1 => Msg::LeaderInfo {
                epoch: Fields::take_fields(input),
            },
            2 => Msg::AckEpoch {
                current_epoch: Fields::take_fields(input),
                last_zxid: Fields::take_fields(input),
                counted: Fields::take_fields(input),
            },
            3 => Msg::Sync {
                mode: Fields::take_fields(input),
                txns: Fields::take_fields(input),
            },
            4 => Msg::NewLeader {
                epoch: Fields::take_fields(input),
            },
            5 => Msg::UpToDate,
            6 => Msg::Proposal {
                txn: Fields::take_fields(input),
            },
            7 => Msg::Ack {
                zxid: Fields::take_fields(input),
            },
            8 => Msg::Commit {
                zxid: Fields::take_fields(input),
            },
            9 => {
                let client = Fields::take_fields(input);
                let word = input.take();
                Msg::Forward {
                    client,
                    request: crate::pack::Word::from_word(word >> 1),
                    connection_closed: word & 1 != 0,
                }
            }
            _ => Msg::Synced {
                client: Fields::take_fields(input),
                after: Fields::take_fields(input),
                connection_closed: Fields::take_fields(input),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet, VecDeque};

    use stateright::Model;

    use super::*;
    use crate::pack::{round_trip, PackState};
    use crate::zab::{Election, ZabConfig, ZabModel, ZabVariant};

    /// Every state the model reaches (up to `limit`), breadth-first.
    fn reachable(model: &ZabModel, limit: usize) -> Vec<ZabState> {
        let mut seen: HashSet<ZabState> = model.init_states().into_iter().collect();
        let mut queue: VecDeque<ZabState> = seen.iter().cloned().collect();
        let mut states = Vec::new();
        let mut actions = Vec::new();
        while let Some(state) = queue.pop_front() {
            if states.len() == limit {
                break;
            }
            model.actions(&state, &mut actions);
            for action in actions.drain(..) {
                if let Some(next) = model.next_state(&state, action) {
                    if seen.insert(next.clone()) {
                        queue.push_back(next);
                    }
                }
            }
            states.push(state);
        }
        states
    }

    /// What a search stores and fingerprints: every reachable state reads back equal, and two
    /// different states never pack alike. The worlds take every role, sync mode, message and
    /// ghost field into use: both elections, crashes, partitions and the bug variants (zk-4712
    /// keeps a sync queue, zk-4685 a NEWLEADER ACK due).
    #[test]
    fn reachable_states_pack_apart_and_read_back_equal() {
        let mut worlds = Vec::new();
        for variant in [
            ZabVariant::Fixed,
            ZabVariant::Zk4643,
            ZabVariant::Zk4712,
            ZabVariant::Zk4685,
        ] {
            for election in [Election::Oracle, Election::Fle] {
                worlds.push(ZabConfig {
                    variant,
                    election,
                    crashes: 1,
                    partitions: 1,
                    ..ZabConfig::new(3, 2)
                });
            }
        }
        let mut kinds = HashSet::new();
        for config in worlds {
            let model = ZabModel::new(config).expect("valid world");
            let mut packed: HashMap<Vec<u8>, ZabState> = HashMap::new();
            for state in reachable(&model, 40_000) {
                assert_eq!(round_trip(&state), state, "{config:?}");
                for packet in &state.net {
                    kinds.insert(std::mem::discriminant(&packet.msg));
                }
                let mut bytes = Vec::new();
                state.pack_state(&mut bytes);
                if let Some(other) = packed.insert(bytes, state.clone()) {
                    assert_eq!(other, state, "two states pack alike in {config:?}");
                }
            }
            assert!(packed.len() > 1_000, "{config:?} reached {}", packed.len());
        }
        assert_eq!(kinds.len(), 9, "every kind of message was packed");
    }

    /// Malformed bytes are a bug (packed states never leave the process), and panic with what
    /// was expected rather than read as some state.
    #[test]
    #[should_panic(expected = "Role has no variant 7")]
    fn an_unknown_variant_is_refused() {
        let mut input = Unpacker::new(&[7]);
        Role::take_fields(&mut input);
    }
}

//! The ensemble's packed form: ZAB's state field by field (as ZAB's own worlds pack it), then the
//! transaction table, the clients' servers and their watches. Injective, so a search may
//! fingerprint the packed bytes.

use super::state::{Ensemble, LeaderSync, PendingSync, Unread};
use crate::pack::{Fields, Pack, Packer, Unpacker, Word};
use crate::zab::types::Zxid;
use crate::zab::ZabState;
use crate::zookeeper::{LockTxn, Path, Reply, Watch};

/// A zxid in 16 bits: epoch, then counter.
fn zxid_word(zxid: Zxid) -> u64 {
    u64::from(zxid.epoch) << 8 | u64::from(zxid.counter)
}

fn zxid_of(word: u64) -> Zxid {
    Zxid {
        epoch: (word >> 8) as u8,
        counter: word as u8,
    }
}

/// A transaction as its variant, then its fields, a word each.
fn pack_txn(txn: LockTxn, out: &mut Packer) {
    let client_or_none = |c: Option<u8>| c.map_or(0, |c| u64::from(c) + 1);
    match txn {
        LockTxn::CreateSession { client } => {
            out.put(0);
            out.put(u64::from(client));
        }
        LockTxn::Create {
            creator,
            path,
            owner,
        } => {
            out.put(1);
            out.put(u64::from(creator));
            out.put(path.word());
            out.put(client_or_none(owner));
        }
        LockTxn::Delete {
            client,
            path,
            close_session,
        } => {
            out.put(2);
            out.put(u64::from(client));
            out.put(path.map_or(0, |p| p.word() + 1));
            out.put(u64::from(close_session));
        }
        LockTxn::Expire { client } => {
            out.put(3);
            out.put(u64::from(client));
        }
        LockTxn::Error { client, reply } => {
            out.put(4);
            out.put(u64::from(client));
            out.put(reply.word());
        }
    }
}

fn unpack_txn(input: &mut Unpacker<'_>) -> LockTxn {
    let variant = input.take();
    let client = input.take_u8();
    match variant {
        0 => LockTxn::CreateSession { client },
        1 => LockTxn::Create {
            creator: client,
            path: Path::from_word(input.take()),
            owner: match input.take() {
                0 => None,
                c => Some((c - 1) as u8),
            },
        },
        2 => LockTxn::Delete {
            client,
            path: match input.take() {
                0 => None,
                word => Some(Path::from_word(word - 1)),
            },
            close_session: input.take() != 0,
        },
        3 => LockTxn::Expire { client },
        _ => LockTxn::Error {
            client,
            reply: Reply::from_word(input.take()),
        },
    }
}

impl Pack for Ensemble {
    fn pack(&self, out: &mut Packer) {
        self.zab.put_fields(out);
        out.put(self.txns.len() as u64);
        for &txn in &self.txns {
            pack_txn(txn, out);
        }
        out.put(self.connections.len() as u64);
        for &server in &self.connections {
            out.put(u64::from(server));
        }
        out.put_words(&self.watches);
        out.put(u64::from(self.lock_parent) | u64::from(!self.sessions_at_start) << 1);
        for tracker in &self.trackers[..self.zab.servers.len()] {
            out.put(
                u64::from(tracker.tracked)
                    | u64::from(tracker.closing) << 8
                    | u64::from(tracker.owners) << 16,
            );
        }
        out.put(
            u64::from(self.disconnected)
                | u64::from(self.ended) << 8
                | u64::from(self.unanswered) << 16
                | u64::from(self.held_at) << 24
                | u64::from(self.opening) << 56,
        );
        let untracked = self.untracked[..self.zab.servers.len()].iter();
        out.put(
            untracked
                .rev()
                .fold(0, |word, &set| word << 8 | u64::from(set)),
        );
        out.put(self.seen.len() as u64);
        for &zxid in &self.seen {
            out.put(zxid_word(zxid));
        }
        out.put(self.unread.len() as u64);
        for unread in &self.unread {
            let watch = unread.watch.map_or(0, |w| w.word() + 1);
            out.put(u64::from(unread.client) | zxid_word(unread.zxid) << 8 | watch << 24);
        }
        out.put(self.syncs.len() as u64);
        for sync in &self.syncs {
            out.put(u64::from(sync.client) | zxid_word(sync.after) << 8);
        }
        out.put(self.leader_syncs.len() as u64);
        for sync in &self.leader_syncs {
            out.put(
                u64::from(sync.client)
                    | u64::from(sync.leader) << 8
                    | u64::from(sync.follower) << 16
                    | zxid_word(sync.after) << 24
                    | u64::from(sync.connection_closed) << 40,
            );
        }
    }

    fn unpack_into(&mut self, input: &mut Unpacker<'_>) {
        self.zab = ZabState::take_fields(input);
        for _ in 0..input.take() {
            self.txns.push(unpack_txn(input));
        }
        for _ in 0..input.take() {
            self.connections.push(input.take_u8());
        }
        input.take_words(&mut self.watches);
        let start = input.take();
        (self.lock_parent, self.sessions_at_start) = (start & 1 != 0, start & 2 == 0);
        for s in 0..self.zab.servers.len() {
            let word = input.take();
            self.trackers[s].tracked = word as u8;
            self.trackers[s].closing = (word >> 8) as u8;
            self.trackers[s].owners = (word >> 16) as u32;
        }
        let flags = input.take();
        (self.disconnected, self.ended, self.unanswered) =
            (flags as u8, (flags >> 8) as u8, (flags >> 16) as u8);
        self.held_at = (flags >> 24) as u32;
        self.opening = (flags >> 56) as u8;
        let untracked = input.take();
        for s in 0..self.zab.servers.len() {
            self.untracked[s] = (untracked >> (8 * s)) as u8;
        }
        for _ in 0..input.take() {
            self.seen.push(zxid_of(input.take()));
        }
        for _ in 0..input.take() {
            let word = input.take();
            self.unread.push(Unread {
                client: word as u8,
                zxid: zxid_of(word >> 8 & 0xffff),
                watch: match word >> 24 {
                    0 => None,
                    w => Some(Watch::from_word(w - 1)),
                },
            });
        }
        for _ in 0..input.take() {
            let word = input.take();
            self.syncs.push(PendingSync {
                client: word as u8,
                after: zxid_of(word >> 8 & 0xffff),
            });
        }
        for _ in 0..input.take() {
            let word = input.take();
            self.leader_syncs.push(LeaderSync {
                client: word as u8,
                leader: (word >> 8) as u8,
                follower: (word >> 16) as u8,
                after: zxid_of(word >> 24 & 0xffff),
                connection_closed: word >> 40 & 1 != 0,
            });
        }
    }
}

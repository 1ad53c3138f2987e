//! The ensemble's packed form: ZAB's state field by field (as ZAB's own worlds pack it), then the
//! transaction table, the clients' servers and their watches. Injective, so a search may
//! fingerprint the packed bytes.

use super::state::Ensemble;
use crate::pack::{Fields, Pack, Packer, Unpacker, Word};
use crate::zab::ZabState;
use crate::zookeeper::{LockTxn, Path, Reply};

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
        out.put(u64::from(self.lock_parent));
        out.put(u64::from(self.tracker.tracked));
        out.put(u64::from(self.tracker.closing));
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
        self.lock_parent = input.take() != 0;
        self.tracker.tracked = input.take_u8();
        self.tracker.closing = input.take_u8();
    }
}

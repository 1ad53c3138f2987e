//! A crashed server's transaction log, cut back to what the model's server had written.
//!
//! The model's leader writes a proposal of its own in a step of its own, and may crash before
//! it; the real leader writes each right after proposing it, where the harness cannot hold the
//! write. A crash before the write loses it on a real disk too (the write was not synced: power
//! lost, or the operating system crashed), so the harness realises the model's crash by cutting
//! the crashed server's log back to before that proposal while the server is down.
//!
//! The format (`FileTxnLog`): a 16-byte file header, then one record after another: a checksum
//! (8 bytes), the transaction's length (4), the transaction (its header starts with the session
//! (8), the xid (4) and the zxid (8)), and an end-of-record byte. ZooKeeper reads a log up to
//! its end or to a record of length 0 (the rest of a preallocated file).

use std::io;
use std::path::Path;

const FILE_HEADER: u64 = 16;

/// Cut every transaction log in `dir` (a server's `version-2` folder) before its first record
/// with a zxid of `first` or later; returns how many records went.
pub fn cut_from(dir: &Path, first: i64) -> io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_log = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("log."));
        if is_log {
            removed += cut_file(&path, first)?;
        }
    }
    Ok(removed)
}

fn cut_file(path: &Path, first: i64) -> io::Result<usize> {
    let bytes = std::fs::read(path)?;
    let records = records(&bytes);
    let Some(at) = records.iter().position(|&(_, zxid)| zxid >= first) else {
        return Ok(0);
    };
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_len(records[at].0)?;
    Ok(records.len() - at)
}

/// Each record's offset and zxid, up to the end of the log.
fn records(bytes: &[u8]) -> Vec<(u64, i64)> {
    let mut found = Vec::new();
    let mut at = FILE_HEADER as usize;
    loop {
        let Some(length) = bytes.get(at + 8..at + 12) else {
            return found;
        };
        let length = i32::from_be_bytes(length.try_into().expect("4 bytes"));
        let Ok(length) = usize::try_from(length) else {
            return found;
        };
        let txn = at + 12;
        let zxid = bytes.get(txn + 12..txn + 20);
        match zxid {
            Some(zxid) if length >= 20 && txn + length < bytes.len() => {
                found.push((
                    at as u64,
                    i64::from_be_bytes(zxid.try_into().expect("8 bytes")),
                ));
                at = txn + length + 1;
            }
            _ => return found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log of three records (zxids 5, 6, 7) then zeros, as ZooKeeper preallocates.
    fn log() -> Vec<u8> {
        let mut bytes = vec![0; FILE_HEADER as usize];
        for zxid in [5_i64, 6, 7] {
            let mut txn = vec![0; 12];
            txn.extend_from_slice(&zxid.to_be_bytes());
            txn.extend_from_slice(&[1; 16]);
            bytes.extend_from_slice(&[9; 8]);
            bytes.extend_from_slice(&(txn.len() as i32).to_be_bytes());
            bytes.extend_from_slice(&txn);
            bytes.push(b'B');
        }
        bytes.extend_from_slice(&[0; 64]);
        bytes
    }

    #[test]
    fn records_are_read_up_to_the_zeros() {
        let zxids: Vec<i64> = records(&log()).iter().map(|&(_, z)| z).collect();
        assert_eq!(zxids, [5, 6, 7]);
    }

    #[test]
    fn a_cut_leaves_the_records_before_the_first_lost_zxid() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("log.5");
        std::fs::write(&path, log()).expect("written");
        assert_eq!(cut_from(dir.path(), 6).expect("cut"), 2);
        let left: Vec<i64> = records(&std::fs::read(&path).expect("read"))
            .iter()
            .map(|&(_, z)| z)
            .collect();
        assert_eq!(left, [5]);
        assert_eq!(cut_from(dir.path(), 6).expect("cut again"), 0);
    }
}

//! ZooKeeper's quorum protocol between a learner and its leader, the part the harness reads:
//! the framing of a `QuorumPacket` (`zookeeper.jute`: `int type; long zxid; buffer data;
//! vector<Id> authinfo`, written back to back with no length prefix of its own), and the
//! transaction header a PROPOSAL carries and the request a REQUEST carries.

use std::io::{self, Read};

use super::super::wire::In;

/// Packet types (`Leader`'s constants) the harness tells apart.
pub mod kind {
    /// A learner forwards a client's write to its leader.
    pub const REQUEST: i32 = 1;
    pub const PROPOSAL: i32 = 2;
    pub const ACK: i32 = 3;
    pub const COMMIT: i32 = 4;
    /// The leader's answer to a learner's forwarded `sync` (no zxid: 0).
    pub const SYNC: i32 = 7;
    /// The leader's last packet of a synchronisation: the follower serves from now on.
    pub const UPTODATE: i32 = 12;
    /// The leader's snapshot follows this packet as a raw serialised tree, not as packets.
    pub const SNAP: i32 = 15;
}

/// The transaction types (`ZooDefs.OpCode`) a lock world's writes become.
pub mod txn {
    pub const CREATE: i32 = 1;
    pub const DELETE: i32 = 2;
    pub const CREATE2: i32 = 15;
    /// Not a transaction: the operation of a forwarded `sync` REQUEST.
    pub const SYNC: i32 = 9;
    pub const CREATE_SESSION: i32 = -10;
    pub const CLOSE_SESSION: i32 = -11;
    pub const ERROR: i32 = -1;

    /// An operation's name, for messages.
    pub fn name(op: i32) -> String {
        match op {
            CREATE => "create".into(),
            DELETE => "delete".into(),
            CREATE2 => "create2".into(),
            SYNC => "sync".into(),
            CREATE_SESSION => "createSession".into(),
            CLOSE_SESSION => "closeSession".into(),
            ERROR => "error".into(),
            other => format!("operation {other}"),
        }
    }
}

/// One packet as it crossed a link: its bytes, to pass on unchanged, and its fields.
#[derive(Clone, Debug)]
pub struct Packet {
    pub kind: i32,
    pub zxid: i64,
    pub data: Vec<u8>,
    pub raw: Vec<u8>,
}

/// The largest `data` accepted (ZooKeeper's `jute.maxbuffer` default).
const MAX_DATA: usize = 1 << 20;

/// Read one packet from a learner connection.
pub fn read_packet(input: &mut impl Read) -> io::Result<Packet> {
    let mut raw = Vec::new();
    let kind = read_int(input, &mut raw)?;
    let zxid = i64::from_be_bytes(read_n::<8>(input, &mut raw)?);
    let data = read_buffer(input, &mut raw)?;
    let ids = read_int(input, &mut raw)?;
    for _ in 0..ids.max(0) {
        read_buffer(input, &mut raw)?; // scheme
        read_buffer(input, &mut raw)?; // id
    }
    Ok(Packet {
        kind,
        zxid,
        data,
        raw,
    })
}

fn read_n<const N: usize>(input: &mut impl Read, raw: &mut Vec<u8>) -> io::Result<[u8; N]> {
    let mut bytes = [0; N];
    input.read_exact(&mut bytes)?;
    raw.extend_from_slice(&bytes);
    Ok(bytes)
}

fn read_int(input: &mut impl Read, raw: &mut Vec<u8>) -> io::Result<i32> {
    Ok(i32::from_be_bytes(read_n::<4>(input, raw)?))
}

fn read_buffer(input: &mut impl Read, raw: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let length = read_int(input, raw)?;
    if length < 0 {
        return Ok(Vec::new());
    }
    let length = length as usize;
    if length > MAX_DATA {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a quorum packet's buffer of {length} bytes"),
        ));
    }
    let mut bytes = vec![0; length];
    input.read_exact(&mut bytes)?;
    raw.extend_from_slice(&bytes);
    Ok(bytes)
}

/// What a PROPOSAL proposes: its `TxnHeader` and, for the types that name one, the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposed {
    pub session: i64,
    pub zxid: i64,
    pub kind: i32,
    /// The node a create or delete names.
    pub path: Option<String>,
    /// An error transaction's code.
    pub err: Option<i32>,
}

impl Packet {
    /// A REQUEST's session and operation (`Learner.request`: session id, cxid, type, body).
    pub fn request(&self) -> io::Result<(i64, i32)> {
        let mut input = In::new(&self.data);
        let session = input.long()?;
        let _cxid = input.int()?;
        Ok((session, input.int()?))
    }

    /// A PROPOSAL's transaction (`TxnHeader`, then the transaction record).
    pub fn proposed(&self) -> io::Result<Proposed> {
        let mut input = In::new(&self.data);
        let session = input.long()?;
        let _cxid = input.int()?;
        let zxid = input.long()?;
        let _time = input.long()?;
        let kind = input.int()?;
        let (path, err) = match kind {
            txn::CREATE | txn::CREATE2 | txn::DELETE => (Some(input.string()?), None),
            txn::ERROR => (None, Some(input.int()?)),
            _ => (None, None),
        };
        Ok(Proposed {
            session,
            zxid,
            kind,
            path,
            err,
        })
    }
}

/// A packet type's name, for messages.
pub fn kind_name(kind: i32) -> String {
    match kind {
        kind::REQUEST => "REQUEST".into(),
        kind::PROPOSAL => "PROPOSAL".into(),
        kind::ACK => "ACK".into(),
        kind::COMMIT => "COMMIT".into(),
        kind::SYNC => "SYNC".into(),
        other => format!("packet type {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::wire::Out;
    use super::*;

    /// A packet written field by field as `BinaryOutputArchive` writes one reads back whole,
    /// with the bytes that follow it left for the next.
    #[test]
    fn a_packet_reads_back_and_stops_at_its_end() {
        let body = Out::default()
            .long(0x55)
            .int(3)
            .long(0x1_0000_0007)
            .long(0)
            .int(txn::CREATE2)
            .string("/r/lock/lock-0000000001");
        let mut data = Vec::new();
        body.send(&mut data).expect("a vector takes every write");
        let data = &data[4..]; // the frame's length prefix is not part of a buffer field
        let mut stream = Vec::new();
        stream.extend_from_slice(&kind::PROPOSAL.to_be_bytes());
        stream.extend_from_slice(&0x1_0000_0007_i64.to_be_bytes());
        stream.extend_from_slice(&(data.len() as i32).to_be_bytes());
        stream.extend_from_slice(data);
        stream.extend_from_slice(&1_i32.to_be_bytes());
        for field in ["ip", "127.0.0.1"] {
            stream.extend_from_slice(&(field.len() as i32).to_be_bytes());
            stream.extend_from_slice(field.as_bytes());
        }
        let first = stream.len();
        stream.extend_from_slice(&kind::COMMIT.to_be_bytes());
        stream.extend_from_slice(&0x1_0000_0007_i64.to_be_bytes());
        stream.extend_from_slice(&(-1_i32).to_be_bytes());
        stream.extend_from_slice(&(-1_i32).to_be_bytes());
        let mut input = stream.as_slice();
        let proposal = read_packet(&mut input).expect("a whole packet");
        assert_eq!(proposal.raw, stream[..first]);
        let proposed = proposal.proposed().expect("a transaction header");
        assert_eq!(proposed.session, 0x55);
        assert_eq!(proposed.kind, txn::CREATE2);
        assert_eq!(proposed.path.as_deref(), Some("/r/lock/lock-0000000001"));
        let commit = read_packet(&mut input).expect("the next packet");
        assert_eq!((commit.kind, commit.zxid), (kind::COMMIT, 0x1_0000_0007));
        assert!(input.is_empty());
    }
}

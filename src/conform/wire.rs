//! ZooKeeper's client wire protocol, the part the lock recipes use: length-prefixed frames of
//! jute records (big-endian integers, length-prefixed strings and vectors).
//!
//! The harness speaks it itself rather than through a client library, so that it decides when
//! each frame goes out and when each received frame is read: every trace step is then exactly
//! one real event, with no library thread racing the harness.

use std::io::{self, Read, Write};

/// Operation codes (`ZooDefs.OpCode`).
pub mod op {
    pub const DELETE: i32 = 2;
    pub const EXISTS: i32 = 3;
    pub const GET_DATA: i32 = 4;
    pub const GET_CHILDREN: i32 = 8;
    pub const SYNC: i32 = 9;
    pub const CREATE2: i32 = 15;
    pub const SET_WATCHES: i32 = 101;
    pub const CLOSE_SESSION: i32 = -11;
    pub const PING: i32 = 11;
}

/// Reserved transaction ids of frames that answer no numbered request.
pub mod xid {
    /// A watch event.
    pub const NOTIFICATION: i32 = -1;
    /// A ping and its answer.
    pub const PING: i32 = -2;
    /// The answer to `setWatches` (the Java client's number for it).
    pub const SET_WATCHES: i32 = -8;
}

/// Error codes (`KeeperException.Code`) the recipes meet.
pub mod err {
    pub const OK: i32 = 0;
    pub const NO_NODE: i32 = -101;
    pub const NODE_EXISTS: i32 = -110;
    pub const SESSION_EXPIRED: i32 = -112;
    pub const SESSION_MOVED: i32 = -118;
}

/// Watch event types (`Watcher.Event.EventType`).
pub mod event {
    pub const NODE_CREATED: i32 = 1;
    pub const NODE_DELETED: i32 = 2;
    pub const NODE_CHILDREN_CHANGED: i32 = 4;
}

/// The largest frame accepted: ZooKeeper's own default limit (`jute.maxbuffer`, 1 MiB).
const MAX_FRAME: usize = 1 << 20;

/// A record being written.
#[derive(Default)]
pub struct Out(Vec<u8>);

impl Out {
    pub fn int(mut self, value: i32) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn long(mut self, value: i64) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn bool(mut self, value: bool) -> Self {
        self.0.push(u8::from(value));
        self
    }

    pub fn bytes(self, value: &[u8]) -> Self {
        let mut out = self.int(value.len() as i32);
        out.0.extend_from_slice(value);
        out
    }

    pub fn string(self, value: &str) -> Self {
        self.bytes(value.as_bytes())
    }

    pub fn strings(self, values: &[String]) -> Self {
        values
            .iter()
            .fold(self.int(values.len() as i32), |out, value| {
                out.string(value)
            })
    }

    /// Send the record as one frame.
    pub fn send(&self, stream: &mut impl Write) -> io::Result<()> {
        let mut frame = (self.0.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&self.0);
        stream.write_all(&frame)
    }
}

/// A received frame being read. Reading past its end is an error, not a panic: the bytes came
/// from a server.
pub struct In<'a>(&'a [u8]);

impl<'a> In<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        In(bytes)
    }

    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a frame ends inside a record",
            ));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    pub fn int(&mut self) -> io::Result<i32> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    pub fn long(&mut self) -> io::Result<i64> {
        Ok(i64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    pub fn bytes(&mut self) -> io::Result<&'a [u8]> {
        match self.int()? {
            -1 => Ok(&[]),
            n if n < 0 => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a negative length",
            )),
            n => self.take(n as usize),
        }
    }

    pub fn string(&mut self) -> io::Result<String> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }

    pub fn strings(&mut self) -> io::Result<Vec<String>> {
        let n = self.int()?;
        (0..n.max(0)).map(|_| self.string()).collect()
    }

    /// A `Stat`: its `czxid` and data `version`, the fields a token can come from.
    pub fn stat(&mut self) -> io::Result<Stat> {
        let czxid = self.long()?;
        let _mzxid = self.long()?;
        let _ctime = self.long()?;
        let _mtime = self.long()?;
        let version = self.int()?;
        let _cversion = self.int()?;
        let _aversion = self.int()?;
        let owner = self.long()?;
        self.take(4 + 4 + 8)?;
        Ok(Stat {
            czxid,
            version,
            owner,
        })
    }
}

/// The fields of a znode's `Stat` that the recipes and the harness read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub czxid: i64,
    pub version: i32,
    /// `ephemeralOwner`: the owning session's id, 0 for a persistent node.
    pub owner: i64,
}

/// Read one frame.
pub fn read_frame(stream: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut length = [0; 4];
    stream.read_exact(&mut length)?;
    let length = u32::from_be_bytes(length) as usize;
    if length > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {length} bytes"),
        ));
    }
    let mut frame = vec![0; length];
    stream.read_exact(&mut frame)?;
    Ok(frame)
}

/// A reply frame's header, and the rest of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyFrame {
    pub xid: i32,
    pub zxid: i64,
    pub err: i32,
    pub body: Vec<u8>,
}

impl ReplyFrame {
    pub fn parse(frame: &[u8]) -> io::Result<ReplyFrame> {
        let mut input = In::new(frame);
        Ok(ReplyFrame {
            xid: input.int()?,
            zxid: input.long()?,
            err: input.int()?,
            body: input.0.to_vec(),
        })
    }
}

/// The `create` flags of the recipes' create modes.
pub fn create_flags(mode: lockscope_models::zookeeper::CreateMode) -> i32 {
    use lockscope_models::zookeeper::CreateMode;
    match mode {
        CreateMode::Persistent => 0,
        CreateMode::Ephemeral => 1,
        CreateMode::PersistentSequential => 2,
        CreateMode::EphemeralSequential => 3,
    }
}

/// The body of a create: no data, the open ACL (`world:anyone`, every permission).
pub fn create_body(out: Out, path: &str, flags: i32) -> Out {
    out.string(path)
        .bytes(&[])
        .int(1)
        .int(31)
        .string("world")
        .string("anyone")
        .int(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back() {
        let out = Out::default()
            .int(-1)
            .long(7)
            .bool(true)
            .string("/lock")
            .strings(&["a".into(), "bc".into()]);
        let mut wire = Vec::new();
        out.send(&mut wire).expect("a vector takes every write");
        let frame = read_frame(&mut wire.as_slice()).expect("one frame");
        let mut input = In::new(&frame);
        assert_eq!(input.int().unwrap(), -1);
        assert_eq!(input.long().unwrap(), 7);
        assert_eq!(input.take(1).unwrap(), &[1]);
        assert_eq!(input.string().unwrap(), "/lock");
        assert_eq!(input.strings().unwrap(), ["a", "bc"]);
        assert!(input.int().is_err(), "reading past the end fails");
    }
}

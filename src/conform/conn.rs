//! One TCP connection to ZooKeeper, owned by the harness: the handshake, writing request frames
//! when the harness says so, and a reader thread that only collects what arrives. Nothing is read
//! by a recipe until the harness hands it over, so a received frame is "in flight" until then.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::wire::{self, In, Out, ReplyFrame};

/// The session timeout the harness asks for: far longer than any replay, so that no session
/// expires unless a step expires it (the server's `maxSessionTimeout` allows it).
pub const SESSION_TIMEOUT_MS: i32 = 60_000;
/// How long a connect or an awaited frame may take before the step is judged not to happen.
pub const WAIT: Duration = Duration::from_secs(10);

/// What identifies a session to the server: a new connection with these attaches to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionKeys {
    pub id: i64,
    pub password: Vec<u8>,
}

/// What the reader thread saw.
#[derive(Debug)]
pub enum Received {
    Frame(ReplyFrame),
    /// The server closed the connection (or it broke): nothing more comes.
    Closed,
}

/// The handshake's outcome.
pub enum Handshake {
    Connected(Conn),
    /// The server no longer knows the session: a library reports `SessionExpired`.
    Expired,
}

pub struct Conn {
    pub keys: SessionKeys,
    stream: TcpStream,
    frames: Receiver<Received>,
    reader: Option<JoinHandle<()>>,
    next_xid: i32,
    closed: bool,
}

impl Conn {
    /// Connect to `server`: a new session (`keys` `None`) or an attach to an existing one, as a
    /// client library does on reconnect (`last_zxid`: the last transaction the client saw).
    pub fn open(
        server: SocketAddr,
        keys: Option<&SessionKeys>,
        last_zxid: i64,
    ) -> io::Result<Handshake> {
        let mut stream = TcpStream::connect_timeout(&server, WAIT)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(WAIT))?;
        let (id, password) = keys.map_or((0, vec![0; 16]), |k| (k.id, k.password.clone()));
        Out::default()
            .int(0)
            .long(last_zxid)
            .int(SESSION_TIMEOUT_MS)
            .long(id)
            .bytes(&password)
            .bool(false)
            .send(&mut stream)?;
        let frame = wire::read_frame(&mut stream)?;
        let mut answer = In::new(&frame);
        let _protocol = answer.int()?;
        let timeout = answer.int()?;
        let id = answer.long()?;
        let password = answer.bytes()?.to_vec();
        if timeout <= 0 {
            return Ok(Handshake::Expired);
        }
        stream.set_read_timeout(None)?;
        let (send, frames) = mpsc::channel();
        let mut reading = stream.try_clone()?;
        let reader = std::thread::spawn(move || loop {
            let received = match wire::read_frame(&mut reading).and_then(|f| ReplyFrame::parse(&f))
            {
                Ok(frame) => Received::Frame(frame),
                Err(_) => Received::Closed,
            };
            let closed = matches!(received, Received::Closed);
            if send.send(received).is_err() || closed {
                break;
            }
        });
        Ok(Handshake::Connected(Conn {
            keys: SessionKeys { id, password },
            stream,
            frames,
            reader: Some(reader),
            next_xid: 1,
            closed: false,
        }))
    }

    /// Write one request frame now; returns its xid.
    pub fn send(&mut self, op: i32, body: impl FnOnce(Out) -> Out) -> io::Result<i32> {
        let xid = self.next_xid;
        self.next_xid += 1;
        self.send_with_xid(xid, op, body)?;
        Ok(xid)
    }

    pub fn send_with_xid(
        &mut self,
        xid: i32,
        op: i32,
        body: impl FnOnce(Out) -> Out,
    ) -> io::Result<()> {
        body(Out::default().int(xid).int(op)).send(&mut self.stream)?;
        self.stream.flush()
    }

    /// What has arrived, without waiting.
    pub fn try_next(&mut self) -> Option<Received> {
        if self.closed {
            return None;
        }
        let received = self.frames.try_recv().ok()?;
        self.closed |= matches!(received, Received::Closed);
        Some(received)
    }

    /// The next thing to arrive, waiting until `deadline`.
    pub fn next_before(&mut self, deadline: Instant) -> Option<Received> {
        if self.closed {
            return None;
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.frames.recv_timeout(wait) {
            Ok(received) => {
                self.closed |= matches!(received, Received::Closed);
                Some(received)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                self.closed = true;
                Some(Received::Closed)
            }
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Send a request and wait for its reply, taking nothing else off the connection: for the
    /// harness's own requests on connections no recipe reads.
    pub fn call(&mut self, op: i32, body: impl FnOnce(Out) -> Out) -> io::Result<ReplyFrame> {
        let xid = self.send(op, body)?;
        let deadline = Instant::now() + WAIT;
        loop {
            match self.next_before(deadline) {
                Some(Received::Frame(frame)) if frame.xid == xid => return Ok(frame),
                Some(Received::Frame(_)) => {}
                Some(Received::Closed) => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the server closed the connection",
                    ))
                }
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no reply within the wait",
                    ))
                }
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Ask a four-letter word; `None` if the server does not answer within half a second (a 3.8
/// server can leave such a socket open during start-up).
pub fn four_letter_word(server: SocketAddr, word: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&server, Duration::from_millis(500)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    stream.write_all(word.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

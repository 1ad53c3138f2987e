//! The proxies between the servers of a spawned ensemble. Each server reaches every other one
//! through a port dedicated to that ordered pair, so the harness sits on every link:
//! - election links only pass bytes on (the election runs freely at start);
//! - learner links (a follower and its leader) are read packet by packet; while the harness
//!   holds, the packets a trace steps (REQUEST, PROPOSAL, ACK, COMMIT) wait on their link until
//!   the harness releases them one at a time, and the rest (PINGs above all) pass at once.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::packet::{kind, read_packet, Packet};

/// A link between two servers, by model server id: `(from, to)`.
pub type LinkId = (u8, u8);

/// What the learner links hold, shared with their reader threads.
#[derive(Default)]
pub struct Links {
    state: Mutex<LinkState>,
    changed: Condvar,
}

#[derive(Default)]
pub struct LinkState {
    holding: bool,
    /// While holding: packets of transactions up to this zxid still pass (a follower may ACK
    /// the set-up's last transactions after every server has applied them).
    floor: i64,
    links: BTreeMap<LinkId, Link>,
}

#[derive(Default)]
struct Link {
    /// The packets waiting for a step, oldest first.
    held: VecDeque<Packet>,
    /// Where this link's packets go: the connection to `to`.
    out: Option<TcpStream>,
    /// Which connection of the pair is current (a learner may reconnect).
    generation: u64,
}

impl LinkState {
    /// The packets held on a link, oldest first.
    pub fn held(&self, link: LinkId) -> impl Iterator<Item = &Packet> {
        self.links
            .get(&link)
            .into_iter()
            .flat_map(|l| l.held.iter())
    }

    /// Every link with packets held on it.
    pub fn holding_links(&self) -> impl Iterator<Item = (LinkId, usize)> + '_ {
        self.links
            .iter()
            .filter(|(_, l)| !l.held.is_empty())
            .map(|(&id, l)| (id, l.held.len()))
    }
}

/// Whether a packet is one a trace steps (the rest pass while the harness holds).
fn stepped(kind: i32) -> bool {
    matches!(
        kind,
        kind::REQUEST | kind::PROPOSAL | kind::ACK | kind::COMMIT
    )
}

impl Links {
    pub fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().expect("not poisoned")
    }

    /// Start holding the stepped packets of transactions after `floor` (every server has
    /// applied up to it), and the REQUESTs.
    pub fn hold(&self, floor: i64) {
        let mut state = self.lock();
        state.holding = true;
        state.floor = floor;
    }

    /// Stop holding: release everything held, in order per link, and pass all from now on.
    pub fn pass(&self) {
        let mut state = self.lock();
        state.holding = false;
        for link in state.links.values_mut() {
            while let Some(packet) = link.held.pop_front() {
                if let Some(out) = link.out.as_mut() {
                    let _ = out.write_all(&packet.raw);
                }
            }
        }
    }

    /// Release the held packet at `index` of `link`: it goes on to its server now.
    pub fn release(&self, link: LinkId, index: usize) -> io::Result<Packet> {
        let mut state = self.lock();
        let entry = state.links.entry(link).or_default();
        let packet = entry
            .held
            .remove(index)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such packet is held"))?;
        match entry.out.as_mut() {
            Some(out) => out.write_all(&packet.raw)?,
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the link has no connection",
                ))
            }
        }
        Ok(packet)
    }

    /// Wait until `done` says so of the links, or `deadline` passes; returns whether it did.
    pub fn wait_until(&self, deadline: Instant, mut done: impl FnMut(&LinkState) -> bool) -> bool {
        let mut state = self.lock();
        loop {
            if done(&state) {
                return true;
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, wait)
                .expect("not poisoned")
                .0;
        }
    }

    /// A new connection on `link`'s pair: packets from `from` go out on `out`.
    fn connect(&self, link: LinkId, out: TcpStream, generation: u64) {
        let mut state = self.lock();
        let entry = state.links.entry(link).or_default();
        entry.held.clear();
        entry.out = Some(out);
        entry.generation = generation;
    }

    /// A packet from `link`'s connection `generation` arrived: hold it or pass it on.
    fn arrived(&self, link: LinkId, generation: u64, packet: Packet) -> io::Result<()> {
        let mut state = self.lock();
        let holding = state.holding
            && stepped(packet.kind)
            && (packet.kind == kind::REQUEST || packet.zxid > state.floor);
        let entry = state.links.entry(link).or_default();
        if entry.generation != generation {
            return Err(io::Error::other("a replaced connection"));
        }
        if holding {
            entry.held.push_back(packet);
            self.changed.notify_all();
            return Ok(());
        }
        match entry.out.as_mut() {
            Some(out) => out.write_all(&packet.raw),
            None => Ok(()),
        }
    }

    /// Bytes that are not packets (a SNAP's tree) pass on at once.
    fn pass_raw(&self, link: LinkId, generation: u64, bytes: &[u8]) -> io::Result<()> {
        let mut state = self.lock();
        let entry = state.links.entry(link).or_default();
        match entry.out.as_mut() {
            Some(out) if entry.generation == generation => out.write_all(bytes),
            _ => Err(io::Error::other("a replaced connection")),
        }
    }
}

/// The end of the tree a SNAP sends: `LearnerHandler` writes the string `BenWasHere` after it
/// (a jute string: its length, then its bytes), and packets follow.
const TREE_END: &[u8] = b"\0\0\0\x0aBenWasHere";

/// Pass on the serialised tree that follows a SNAP, up to and with its closing signature, so the
/// packets after it are read as packets again.
fn pass_tree(
    input: &mut impl BufRead,
    links: &Links,
    link: LinkId,
    generation: u64,
) -> io::Result<()> {
    // The last bytes passed on: the signature may straddle two reads.
    let mut last: Vec<u8> = Vec::new();
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let mut window = std::mem::take(&mut last);
        let before = window.len();
        window.extend_from_slice(available);
        let end = window
            .windows(TREE_END.len())
            .position(|w| w == TREE_END)
            .map(|at| at + TREE_END.len());
        let take = end.map_or(available.len(), |end| end - before);
        window.truncate(before + take);
        links.pass_raw(link, generation, &window[before..])?;
        input.consume(take);
        if end.is_some() {
            return Ok(());
        }
        last = window[window.len().saturating_sub(TREE_END.len() - 1)..].to_vec();
    }
}

/// Listen on `listen` for server `from`'s connections to server `to` (at `target`) and pass
/// bytes on both ways: an election link.
pub fn election_proxy(listen: TcpListener, target: SocketAddr) {
    std::thread::spawn(move || {
        for accepted in listen.incoming() {
            let Ok(inbound) = accepted else { continue };
            let Ok(outbound) = TcpStream::connect(target) else {
                let _ = inbound.shutdown(Shutdown::Both);
                continue;
            };
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            for (from, to) in [(&inbound, &outbound), (&outbound, &inbound)] {
                let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
                    continue;
                };
                std::thread::spawn(move || {
                    let _ = io::copy(&mut from, &mut to);
                    let _ = to.shutdown(Shutdown::Write);
                });
            }
        }
    });
}

/// How long a learner connection waits for its leader to listen.
const LEADER_WAIT: Duration = Duration::from_secs(10);

/// A connection to `target`, tried again until it listens or `wait` has passed.
fn connect_within(target: SocketAddr, wait: Duration) -> Option<TcpStream> {
    let deadline = Instant::now() + wait;
    loop {
        match TcpStream::connect(target) {
            Ok(stream) => return Some(stream),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => return None,
        }
    }
}

/// Listen on `listen` for server `from`'s learner connections to server `to` (at `target`) and
/// read each direction packet by packet into `links`.
pub fn learner_proxy(
    listen: TcpListener,
    target: SocketAddr,
    (from, to): LinkId,
    links: Arc<Links>,
) {
    std::thread::spawn(move || {
        let mut generation = 0;
        for accepted in listen.incoming() {
            let Ok(inbound) = accepted else { continue };
            // A follower may connect as soon as it has voted, before its leader listens: the
            // connection waits for the leader (as a SYN would be retried) instead of failing,
            // which would send the follower back to an election and its backed-off
            // notifications.
            let Some(outbound) = connect_within(target, LEADER_WAIT) else {
                let _ = inbound.shutdown(Shutdown::Both);
                continue;
            };
            generation += 1;
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            for (link, reading, writing) in [
                ((from, to), &inbound, &outbound),
                ((to, from), &outbound, &inbound),
            ] {
                let (Ok(reading), Ok(writing)) = (reading.try_clone(), writing.try_clone()) else {
                    continue;
                };
                let Ok(shut) = writing.try_clone() else {
                    continue;
                };
                links.connect(link, writing, generation);
                let links = Arc::clone(&links);
                std::thread::spawn(move || {
                    let mut input = BufReader::new(reading);
                    while let Ok(packet) = read_packet(&mut input) {
                        let snap = packet.kind == kind::SNAP;
                        if links.arrived(link, generation, packet).is_err()
                            || (snap && pass_tree(&mut input, &links, link, generation).is_err())
                        {
                            break;
                        }
                    }
                    let _ = shut.shutdown(Shutdown::Both);
                });
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// The tree after a SNAP passes on whole, up to and with its signature (here split across
    /// two reads), and the packet after it is read as a packet.
    #[test]
    fn a_snap_tree_passes_on_and_the_next_packet_is_read() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let out = TcpStream::connect(listener.local_addr().expect("an address")).expect("connect");
        let (mut received, _) = listener.accept().expect("accept");
        let links = Links::default();
        links.connect((2, 0), out, 1);
        let mut tree = b"some serialised tree \0\0\0\x0aBenWas".to_vec();
        tree.extend_from_slice(b"Here");
        let mut stream = tree.clone();
        stream.extend_from_slice(&kind::COMMIT.to_be_bytes());
        stream.extend_from_slice(&7_i64.to_be_bytes());
        stream.extend_from_slice(&(-1_i32).to_be_bytes());
        stream.extend_from_slice(&(-1_i32).to_be_bytes());
        // A reader that hands out at most 30 bytes at a time splits the signature.
        let mut input = BufReader::with_capacity(30, stream.as_slice());
        pass_tree(&mut input, &links, (2, 0), 1).expect("the tree ends");
        let next = read_packet(&mut input).expect("the packet after the tree");
        assert_eq!((next.kind, next.zxid), (kind::COMMIT, 7));
        drop(links);
        let mut passed = Vec::new();
        received.read_to_end(&mut passed).expect("what passed");
        assert_eq!(passed, tree);
    }
}

//! The proxies between the servers of a spawned ensemble. Each server reaches every other one
//! through a port dedicated to that ordered pair, so the harness sits on every link:
//! - election links ([`super::election`]) pass bytes on, freely at start; while the harness
//!   holds, only between the servers whose election it lets run (the model's elections are
//!   steps of their own);
//! - learner links (a follower and its leader) are read packet by packet; while the harness
//!   holds, the packets a trace steps (REQUEST, PROPOSAL, ACK, COMMIT) wait on their link until
//!   the harness releases them one at a time, and the rest (PINGs above all) pass at once. A
//!   synchronisation (a learner connecting while the harness holds: a failover) passes whole,
//!   up to the leader's UPTODATE, and so do the ACKs of a new epoch. A leader's end of a
//!   connection that closes (a crash) is not passed on to its follower while the harness holds:
//!   the follower hears nothing, as from a silent leader, until the harness cuts the connection
//!   at the step where the model's follower gives up on its leader.
//! - a partition severs the connections across its cut: they stay open and carry nothing either
//!   way (PINGs included), as a link that drops every segment; the election traffic across it
//!   waits.

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
    /// How many times a follower acknowledged a proposal before its leader's NEWLEADER on a
    /// connection made while the harness held (ZooKeeper 3.8's ZOOKEEPER-4685: the leader takes
    /// it for an ACK of the wrong epoch and gives up on that synchronisation).
    pub early_acks: u32,
    /// The servers the harness killed and has not restarted: what is sent to them is lost.
    down: std::collections::BTreeSet<u8>,
    /// While holding: the pairs of servers whose election traffic passes (lower id first).
    elections: std::collections::BTreeSet<(u8, u8)>,
    /// While holding: packets of transactions up to this zxid still pass (a follower may ACK
    /// the set-up's last transactions after every server has applied them).
    floor: i64,
    /// The servers a partition cuts off from the others (a set of server bits; 0: none).
    cut_off: u8,
    /// The PROPOSALs a severed connection dropped, once each, oldest first: the only sign of a
    /// proposal a leader cut off from every follower made, whose zxid the harness binds.
    pub lost_proposals: Vec<Packet>,
    /// The ensemble is gone: its proxies stop.
    stopped: bool,
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
    /// This link carries the leader's packets to its follower.
    from_leader: bool,
    /// The leader has sent its UPTODATE on this connection (or the connection was synchronised
    /// before the harness started holding): its broadcast packets are held from now on.
    synced: bool,
    /// The leader's end closed while the harness held: the follower's end is left open.
    leader_gone: bool,
    /// The follower has acknowledged its leader's NEWLEADER on this connection.
    epoch_acked: bool,
    /// The proposals the leader sent in its synchronisation on this connection: the follower
    /// acknowledges those it logs after UPTODATE, which belongs to the synchronisation too.
    synchronised: std::collections::BTreeSet<i64>,
    /// A partition cut this connection: it carries nothing more, either way.
    severed: bool,
}

impl LinkState {
    /// Whether a partition separates servers `a` and `b`.
    fn across(&self, a: u8, b: u8) -> bool {
        (self.cut_off >> a & 1) != (self.cut_off >> b & 1)
    }

    /// The packets held on a link, oldest first.
    pub fn held(&self, link: LinkId) -> impl Iterator<Item = &Packet> {
        self.links
            .get(&link)
            .into_iter()
            .flat_map(|l| l.held.iter())
    }

    /// Close both ends of the connection between `follower` and `leader`; only the follower's
    /// when a partition severed it (the close does not cross the cut: the leader notices at its
    /// own timeout).
    fn cut(&mut self, (follower, leader): LinkId) {
        let severed = self
            .links
            .get(&(leader, follower))
            .is_some_and(|link| link.severed);
        let ends = if severed {
            vec![(leader, follower)]
        } else {
            vec![(follower, leader), (leader, follower)]
        };
        for id in ends {
            if let Some(link) = self.links.get_mut(&id) {
                if let Some(out) = link.out.take() {
                    let _ = out.shutdown(Shutdown::Both);
                }
                link.held.clear();
                link.leader_gone = false;
            }
        }
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
        kind::REQUEST | kind::PROPOSAL | kind::ACK | kind::COMMIT | kind::SYNC
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
        for link in state.links.values_mut() {
            link.synced = true;
        }
    }

    /// Stop holding: release everything held, in order per link, and pass all from now on; a
    /// follower whose leader is gone hears it now.
    /// A partition ends: its severed connections are cut, so their servers connect again.
    pub fn pass(&self) {
        let mut state = self.lock();
        state.holding = false;
        state.cut_off = 0;
        self.changed.notify_all();
        for link in state.links.values_mut() {
            while let Some(packet) = link.held.pop_front() {
                if let Some(out) = link.out.as_mut() {
                    let _ = out.write_all(&packet.raw);
                }
            }
        }
        let gone: Vec<LinkId> = state
            .links
            .iter()
            .filter(|(_, l)| l.leader_gone || (l.severed && l.from_leader))
            .map(|(&id, _)| id)
            .collect();
        for link in state.links.values_mut() {
            link.severed = false;
        }
        for (leader, follower) in gone {
            state.cut((follower, leader));
        }
    }

    /// A partition cuts the servers of `side` off from the others: what is held on a link
    /// across the cut is lost, and its connection carries nothing more (it stays open: each end
    /// notices only when its own timer runs out, a step of its own); election traffic across
    /// waits.
    pub fn partition(&self, side: u8) {
        let mut state = self.lock();
        state.cut_off = side;
        let cut: Vec<LinkId> = state
            .links
            .keys()
            .filter(|&&(from, to)| state.across(from, to))
            .copied()
            .collect();
        for id in cut {
            let link = state.links.get_mut(&id).expect("listed");
            link.held.clear();
            link.severed = true;
        }
        self.changed.notify_all();
    }

    /// The partition heals: new connections and election traffic cross again. A connection it
    /// severed stays severed, as the model's closed connection stays closed.
    pub fn heal(&self) {
        self.lock().cut_off = 0;
        self.changed.notify_all();
    }

    /// `leader` stops counting its followers: the harness closes the leader's end of every
    /// learner connection to it, which is what its own timer does (`LearnerHandler.ping` closes
    /// a follower's connection whose acknowledgements are `syncLimit` late), and
    /// `Leader.lead`'s check, finding no quorum synced, steps it down. The followers' ends stay
    /// open and silent (the leader's close does not reach them: [`Links::leave_open`]) until
    /// their own timeouts; what was held on its links is lost.
    pub fn close_leader_ends(&self, leader: u8) {
        let mut state = self.lock();
        for (&(from, to), link) in state.links.iter_mut() {
            if to == leader && !link.from_leader {
                if let Some(out) = link.out.take() {
                    let _ = out.shutdown(Shutdown::Both);
                }
            }
            if from == leader || to == leader {
                link.held.clear();
            }
        }
    }

    /// The ensemble is gone: the proxies' threads end (a relay waiting for its election to be
    /// let run included).
    pub fn stop(&self) {
        self.lock().stopped = true;
        self.changed.notify_all();
    }

    pub(super) fn stopped(&self) -> bool {
        self.lock().stopped
    }

    /// `server` runs again: its new connections carry packets as any.
    pub fn restarted(&self, server: u8) {
        self.lock().down.remove(&server);
    }

    /// Let the election traffic between every two of `servers` pass (it waits otherwise while
    /// the harness holds).
    pub fn open_elections(&self, servers: &[u8]) {
        let mut state = self.lock();
        for &a in servers {
            for &b in servers {
                if a < b {
                    state.elections.insert((a, b));
                }
            }
        }
        self.changed.notify_all();
    }

    /// Let the election traffic between `hub` and each of `others` pass, and no other.
    pub fn open_elections_with(&self, hub: u8, others: &[u8]) {
        let mut state = self.lock();
        for &other in others.iter().filter(|&&o| o != hub) {
            state.elections.insert((hub.min(other), hub.max(other)));
        }
        self.changed.notify_all();
    }

    /// Hold all election traffic again.
    pub fn close_elections(&self) {
        self.lock().elections.clear();
    }

    /// Wait until election traffic between `a` and `b` may pass.
    pub(super) fn wait_election(&self, a: u8, b: u8) {
        let pair = (a.min(b), a.max(b));
        let mut state = self.lock();
        while !state.stopped
            && state.holding
            && (!state.elections.contains(&pair) || state.across(a, b))
        {
            state = self.changed.wait(state).expect("not poisoned");
        }
    }

    /// Cut every learner connection of `follower` at once, both ways: it and its leader see it
    /// close.
    pub fn cut_follower(&self, follower: u8) {
        let mut state = self.lock();
        let pairs: Vec<LinkId> = state
            .links
            .iter()
            .filter(|(&(from, _), link)| from == follower && !link.from_leader)
            .map(|(&id, _)| id)
            .collect();
        for pair in pairs {
            state.cut(pair);
        }
    }

    /// `server` crashed: forget what is held on the links to and from it (what was in flight
    /// is lost), and lose what is sent to it until it restarts.
    pub fn crashed(&self, server: u8) {
        let mut state = self.lock();
        state.down.insert(server);
        for (&(from, to), link) in state.links.iter_mut() {
            if from == server || to == server {
                link.held.clear();
            }
        }
    }

    /// Release the held packets of `link` whose zxid is among `zxids` into the synchronisation
    /// running on it: they go on now, and the follower's ACKs of them pass as a synchronised
    /// proposal's do. Returns how many went.
    pub fn release_into_sync(&self, link: LinkId, zxids: &[i64]) -> io::Result<usize> {
        let mut state = self.lock();
        let entry = state.links.entry(link).or_default();
        let (going, staying): (VecDeque<Packet>, VecDeque<Packet>) =
            std::mem::take(&mut entry.held)
                .into_iter()
                .partition(|p| zxids.contains(&p.zxid));
        entry.held = staying;
        for packet in &going {
            if packet.kind == kind::PROPOSAL {
                entry.synchronised.insert(packet.zxid);
            }
            if let Some(out) = entry.out.as_mut() {
                out.write_all(&packet.raw)?;
            }
        }
        Ok(going.len())
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

    /// A new connection on `link`'s pair: packets from `from` go out on `out`; `from_leader`:
    /// the leader's packets to its follower.
    fn connect(&self, link: LinkId, out: TcpStream, generation: u64, from_leader: bool) {
        let mut state = self.lock();
        let synced = !state.holding;
        let severed = state.across(link.0, link.1);
        let entry = state.links.entry(link).or_default();
        entry.held.clear();
        entry.out = Some(out);
        entry.generation = generation;
        entry.from_leader = from_leader;
        entry.synced = synced;
        entry.leader_gone = false;
        entry.epoch_acked = synced;
        entry.synchronised.clear();
        entry.severed = severed;
    }

    /// `link`'s connection `generation` closed on the reading side: whether its other end is
    /// to be left open (the leader's end of a synchronised connection closed while the harness
    /// holds: the follower notices at its own timeout, a step of its own). A leader that gives
    /// up on a synchronisation (ZOOKEEPER-4685's refused ACK) closes a connection that is part
    /// of the batch the servers run by themselves: its follower hears it at once and looks for
    /// a leader again, as in ZooKeeper. Neither end's close crosses a partition.
    fn leave_open(&self, link: LinkId, generation: u64) -> bool {
        let mut state = self.lock();
        let holding = state.holding;
        let entry = state.links.entry(link).or_default();
        let current = holding && entry.generation == generation;
        let leader_gone = current && entry.from_leader && entry.synced;
        entry.leader_gone |= leader_gone;
        leader_gone || (current && entry.severed)
    }

    /// A packet from `link`'s connection `generation` arrived: hold it or pass it on.
    fn arrived(&self, link: LinkId, generation: u64, packet: Packet) -> io::Result<()> {
        let mut state = self.lock();
        // A new epoch's ACKs (of NEWLEADER and UPTODATE) are the synchronisation's, not a
        // transaction's.
        let epoch_ack = packet.kind == kind::ACK && packet.zxid & 0xffff_ffff == 0;
        let mut holding = state.holding
            && stepped(packet.kind)
            && !epoch_ack
            && (matches!(packet.kind, kind::REQUEST | kind::SYNC) || packet.zxid > state.floor);
        let LinkState {
            links,
            early_acks,
            down,
            lost_proposals,
            ..
        } = &mut *state;
        // Sent to a server that crashed, on the connection to it that the harness keeps open.
        let lost = down.contains(&link.1)
            || links
                .get(&(link.1, link.0))
                .is_some_and(|back| back.leader_gone);
        let severed = links
            .get(&link)
            .is_some_and(|l| l.severed && l.generation == generation);
        if severed
            && packet.kind == kind::PROPOSAL
            && !lost_proposals.iter().any(|p| p.zxid == packet.zxid)
        {
            lost_proposals.push(packet);
            self.changed.notify_all();
            return Ok(());
        }
        if lost || severed {
            return Ok(());
        }
        let of_sync = packet.kind == kind::ACK
            && links
                .get(&(link.1, link.0))
                .is_some_and(|back| back.from_leader && back.synchronised.contains(&packet.zxid));
        if of_sync {
            holding = false;
        }
        let entry = links.entry(link).or_default();
        if entry.generation != generation {
            return Err(io::Error::other("a replaced connection"));
        }
        // The harness cut this connection: what its reader still takes in goes nowhere.
        if entry.out.is_none() {
            return Ok(());
        }
        if entry.from_leader && !entry.synced {
            holding = false;
            entry.synced = packet.kind == kind::UPTODATE;
            if packet.kind == kind::PROPOSAL {
                entry.synchronised.insert(packet.zxid);
            }
        }
        if !entry.from_leader && !entry.epoch_acked && packet.kind == kind::ACK {
            entry.epoch_acked = epoch_ack;
            if !epoch_ack {
                holding = false;
                *early_acks += 1;
            }
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
/// read each direction packet by packet into `links`, until the links stop (the thread is
/// returned: it ends at the next connection after [`Links::stop`]).
pub fn learner_proxy(
    listen: TcpListener,
    target: SocketAddr,
    (from, to): LinkId,
    links: Arc<Links>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut generation = 0;
        for accepted in listen.incoming() {
            if links.stopped() {
                break;
            }
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
            for (link, reading, writing, from_leader) in [
                ((from, to), &inbound, &outbound, false),
                ((to, from), &outbound, &inbound, true),
            ] {
                let (Ok(reading), Ok(writing)) = (reading.try_clone(), writing.try_clone()) else {
                    continue;
                };
                let Ok(shut) = writing.try_clone() else {
                    continue;
                };
                links.connect(link, writing, generation, from_leader);
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
                    if !links.leave_open(link, generation) {
                        let _ = shut.shutdown(Shutdown::Both);
                    }
                });
            }
        }
    })
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
        links.connect((2, 0), out, 1, true);
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

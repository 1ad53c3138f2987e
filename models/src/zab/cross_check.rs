//! An independent cross-check of the broadcast phase: a second, deliberately simple
//! implementation of its step relation, written from docs/zab.md and sharing no code with
//! the model's handlers, must reach exactly the states the model reaches.
//!
//! What it checks: from a leader established with every follower in BROADCAST and nothing in
//! flight (3 servers, no faults), the set of reachable states of client writes, PROPOSALs, ACKs
//! and COMMITs on FIFO links, the leader's own log writes (each one its own ACK, in proposal
//! order, at any point after the proposal; or, with `leader_write = "atomic"`, in the proposing
//! step), commits on any quorum of ACKs in zxid order, and in-order delivery. States are compared abstracted to every server's log on disk and
//! delivered count, the leader's proposals not yet on its disk, and every link's messages, in
//! order; the model's bookkeeping (ack sets, ghost) is a function of those in this phase. What
//! it does not check: election, discovery, synchronization, faults, or the bug variants; the
//! model's count of those rests on the model alone.

use super::tests::{reachable, settle_by, step};
use super::types::{Msg, Sid};
use super::{LeaderWrite, ZabAction, ZabConfig, ZabModel, ZabState};
use std::collections::{BTreeSet, HashSet, VecDeque};

const SERVERS: usize = 3;
const LEADER: usize = 2;

/// A message of the simple implementation: which write (by value) it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Message {
    Proposal(u8),
    Ack(u8),
    Commit(u8),
}

/// Everything the broadcast phase can change, and nothing else.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Abstract {
    /// What each server has on disk.
    logs: [Vec<u8>; SERVERS],
    /// The leader's proposals its disk does not have yet, oldest first.
    unwritten: Vec<u8>,
    /// How many transactions each server applied: the leader counts its proposals, written or
    /// not; a follower its log.
    delivered: [usize; SERVERS],
    /// `links[from][to]`: the messages in flight, oldest first.
    links: [[Vec<Message>; SERVERS]; SERVERS],
}

/// The simple implementation's state: the abstract state plus the leader's proposals (written
/// or not), one ack set per proposal and the number of writes so far.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Simple {
    view: Abstract,
    proposals: Vec<u8>,
    acks: Vec<u8>,
    writes: u8,
}

/// `from` acknowledged the write `v`: record it, then commit, in order, what a quorum has.
fn acknowledge(n: &mut Simple, v: u8, from: usize) {
    let i = n
        .proposals
        .iter()
        .position(|&w| w == v)
        .expect("an acknowledged write");
    n.acks[i] |= 1 << from;
    while n.view.delivered[LEADER] < n.acks.len() && is_quorum(n.acks[n.view.delivered[LEADER]]) {
        let committed = n.proposals[n.view.delivered[LEADER]];
        n.view.delivered[LEADER] += 1;
        for f in (0..SERVERS).filter(|&f| f != LEADER) {
            n.view.links[LEADER][f].push(Message::Commit(committed));
        }
    }
}

fn is_quorum(set: u8) -> bool {
    2 * set.count_ones() as usize > SERVERS
}

fn successors(s: &Simple, max_writes: u8, leader_write: LeaderWrite) -> Vec<Simple> {
    let mut next = Vec::new();
    if s.writes < max_writes {
        let mut n = s.clone();
        n.writes += 1;
        n.proposals.push(n.writes);
        match leader_write {
            LeaderWrite::Queued => {
                n.view.unwritten.push(n.writes);
                n.acks.push(0);
            }
            LeaderWrite::Atomic => {
                n.view.logs[LEADER].push(n.writes);
                n.acks.push(1 << LEADER);
            }
        }
        for f in (0..SERVERS).filter(|&f| f != LEADER) {
            n.view.links[LEADER][f].push(Message::Proposal(n.writes));
        }
        next.push(n);
    }
    if let Some(&v) = s.view.unwritten.first() {
        let mut n = s.clone();
        n.view.unwritten.remove(0);
        n.view.logs[LEADER].push(v);
        acknowledge(&mut n, v, LEADER);
        next.push(n);
    }
    for from in 0..SERVERS {
        for to in 0..SERVERS {
            let Some(&message) = s.view.links[from][to].first() else {
                continue;
            };
            let mut n = s.clone();
            n.view.links[from][to].remove(0);
            match message {
                Message::Proposal(v) => {
                    n.view.logs[to].push(v);
                    n.view.links[to][from].push(Message::Ack(v));
                }
                Message::Commit(v) => {
                    if n.view.logs[to].get(n.view.delivered[to]) == Some(&v) {
                        n.view.delivered[to] += 1;
                    }
                }
                Message::Ack(v) => acknowledge(&mut n, v, from),
            }
            next.push(n);
        }
    }
    next
}

fn simple_reachable(max_writes: u8, leader_write: LeaderWrite) -> BTreeSet<Abstract> {
    let start = Simple {
        view: Abstract::default(),
        proposals: Vec::new(),
        acks: Vec::new(),
        writes: 0,
    };
    let mut seen = HashSet::from([start.clone()]);
    let mut queue = VecDeque::from([start]);
    while let Some(s) = queue.pop_front() {
        for n in successors(&s, max_writes, leader_write) {
            if seen.insert(n.clone()) {
                queue.push_back(n);
            }
        }
    }
    seen.into_iter().map(|s| s.view).collect()
}

fn abstracted(state: &ZabState) -> Abstract {
    let mut view = Abstract::default();
    for s in 0..SERVERS {
        let server = state.server(s as Sid);
        let disk = &server.disk;
        let written = server
            .leading()
            .map_or(disk.log.len(), |l| l.written(&disk.log));
        view.logs[s] = disk.log[..written].iter().map(|t| t.value).collect();
        view.delivered[s] = usize::from(disk.delivered);
        if s == LEADER {
            view.unwritten = disk.log[written..].iter().map(|t| t.value).collect();
        }
    }
    for packet in &state.net {
        let value = |zxid| {
            let log = &state.server(LEADER as Sid).disk.log;
            log.iter()
                .find(|t| t.zxid == zxid)
                .expect("a message about a logged write")
                .value
        };
        let message = match packet.msg {
            Msg::Proposal { txn } => Message::Proposal(txn.value),
            Msg::Ack { zxid } => Message::Ack(value(zxid)),
            Msg::Commit { zxid } => Message::Commit(value(zxid)),
            other => panic!("no {other} in the broadcast phase"),
        };
        view.links[usize::from(packet.from)][usize::from(packet.to)].push(message);
    }
    view
}

/// The model's reachable states from S2 established with S0 and S1 in broadcast, abstracted;
/// and how many states the model tells apart.
fn model_reachable(max_writes: u8, leader_write: LeaderWrite) -> (BTreeSet<Abstract>, usize) {
    let config = ZabConfig {
        leader_write,
        ..ZabConfig::new(SERVERS as u8, max_writes)
    };
    let model = ZabModel::new(config).expect("valid");
    let elected = step(
        &model,
        &ZabState::new(SERVERS as u8),
        ZabAction::Elect {
            leader: LEADER as Sid,
            quorum: 0b111,
        },
    );
    let start = settle_by(&model, elected, |a| matches!(a, ZabAction::Deliver { .. }));
    assert!(
        start.net.is_empty()
            && start
                .ids()
                .all(|s| start.server(s).phase == super::state::Phase::Broadcast)
    );
    let seen = reachable(&model, start);
    (seen.iter().map(abstracted).collect(), seen.len())
}

#[test]
fn the_broadcast_phase_reaches_what_a_simple_implementation_reaches() {
    // The model keeps one list of packets for every link, in sending order, so it also tells
    // apart states that differ only in the order of packets on *different* links, which no
    // step can observe (a link's head is its oldest packet): it has more states than views.
    // (1 write: 41 states, 33 views; with the atomic write, 28 states, 21 views.)
    let modes = [
        (LeaderWrite::Queued, (41, 33)),
        (LeaderWrite::Atomic, (28, 21)),
    ];
    for (leader_write, one_write) in modes {
        for writes in 1..=3 {
            let simple = simple_reachable(writes, leader_write);
            let (model, states) = model_reachable(writes, leader_write);
            let only_model: Vec<_> = model.difference(&simple).take(3).collect();
            let only_simple: Vec<_> = simple.difference(&model).take(3).collect();
            assert!(
                only_model.is_empty() && only_simple.is_empty(),
                "{leader_write:?}, {writes} writes: {} views in the model, {} in the simple one; \
             only in the model: {only_model:?}; only in the simple one: {only_simple:?}",
                model.len(),
                simple.len()
            );
            assert!(states >= model.len());
            if writes == 1 {
                assert_eq!((states, model.len()), one_write, "{leader_write:?}");
            }
        }
    }
}

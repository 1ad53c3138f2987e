//! Phase 0 as ZooKeeper runs it: Fast Leader Election (`election = "fle"`; docs/zab.md,
//! `FastLeaderElection.lookForLeader` with its `WorkerReceiver`, and `QuorumCnxManager`).
//!
//! A vote is (leader sid, zxid, peerEpoch), ordered by peerEpoch, then zxid, then sid
//! ([`Vote`]'s order); a notification carries the sender's vote, its logical clock
//! (electionEpoch: its round) and its role. The steps:
//!
//! 1. **Start a round** ([`ZabModel::start_round`]) whenever a server becomes LOOKING: logical
//!    clock + 1, forget the round's votes, propose itself (currentEpoch, last logged zxid, sid) and
//!    notify every peer.
//! 2. **Receive** a notification ([`ZabModel::on_notification`]), as the `WorkerReceiver` and the
//!    loop of `lookForLeader` handle it, in one step:
//!    - a receiver that is not LOOKING answers a LOOKING sender with the vote it decided on;
//!    - a LOOKING receiver, from a LOOKING sender of a *newer* round: adopt the round, clear the
//!      recorded votes, propose the better of the sender's vote and its own initial vote, notify
//!      everyone; of an *older* round: answer the sender with the current vote and count nothing;
//!      of the *same* round: adopt the sender's vote if it is better and notify everyone. Then
//!      record the notification (`recvset`);
//!    - a LOOKING receiver, from a FOLLOWING or LEADING sender (`receivedFollowingNotification`):
//!      of the same round, record it and follow its leader if a quorum reports that leader and the
//!      leader itself said LEADING; in any case record it out of election (`outofelection`) and
//!      join the leader if a quorum of FOLLOWING/LEADING peers reports it and the leader confirmed.
//! 3. **Decide** ([`ZabModel::decide`]): when a quorum of the recorded votes (its own counted)
//!    equals its proposal, the server waits `finalizeWait` for a better vote and, if none came,
//!    leads (the proposal is itself) or follows. The wait is nondeterminism here: the decision is
//!    a step of its own that may be taken while a better notification is still in flight.
//! 4. **Reconnect** ([`ZabModel::reconnect_election`]): when an election connection is made
//!    again (a restart, a healed partition), a LOOKING side sends its current vote again, as
//!    `QuorumCnxManager` re-sends its last message on a new connection.
//!
//! What is abstracted, and why it keeps the behaviours the bugs and properties need:
//!
//! - **One notification per election link, the newest.** `QuorumCnxManager` gives each peer a
//!   send queue of capacity 1 (`SEND_CAPACITY = 1`, "to prevent sending stale notifications";
//!   a `CircularBlockingQueue` drops the older one), and the receiver keeps only the newest
//!   notification per peer (`recvset` and `outofelection` are maps keyed by sid). A newer
//!   notification replacing an unread one is therefore a real behaviour (the older one was still
//!   queued); what is lost is a receiver reading an older notification after the newer was
//!   *written to the socket*. Within a round a server's vote only grows, so such an older vote
//!   is never better than the newer one, which the receiver reads next anyway; the model may
//!   still let the receiver read the older one first in the interleaving where it arrives before
//!   the newer is sent. So the abstraction under-approximates by dropping only stale reads,
//!   never adds a behaviour, and a violation it reports is one ZooKeeper has.
//! - **Rounds are bounded** by the scenario's `epochs`: a server whose next round would pass it
//!   stays LOOKING without taking part ([`FleState::stalled`]), as TLC's constraints prune (a
//!   crash resets the clock, so a restarted server counts from round 1 again); and,
//!   as the oracle, no server decides once some server accepted the last epoch (joining an
//!   existing leader stays possible). A liveness lasso that only a stalled round keeps going is
//!   the bound's doing, not FLE's (`Liveness::blocked_by_bound` resumes the round).
//! - The own notification (`sendNotifications` sends to the sender too) is recorded at once:
//!   it always holds the current proposal.
//! - During `finalizeWait` ZooKeeper discards notifications that are not better; the model
//!   lets the decision step come first instead, which reaches the same states (a discarded
//!   notification can only have been no better, or of a round the decision leaves behind).
//! - **No `notTimeout` re-send.** ZooKeeper's LOOKING server sends its vote again when nothing
//!   arrived for a while. Here a notification is lost only with its connection (re-sent on
//!   reconnection, step 4) or when its receiver decides (`leaveInstance` clears the receive queue,
//!   [`ZabModel::decided`]); a LOOKING server whose notification went that second way may wait for
//!   ever where ZooKeeper would re-send. Modelled as a step, the re-send multiplied the states by
//!   19 without faults (9,899 → 184,158; 3 servers, 1 write, epochs 1) and by 3 with one crash, so
//!   it is left out. What that leaves out: a re-sent vote can draw an answer from a server that
//!   decided meanwhile, and a third server may follow a leader on such an answer; the searches
//!   here explore fewer election outcomes than ZooKeeper has (never more), and the liveness
//!   verdicts with faults are the model's (the README gives both measurements).
//! - A follower that chose a leader not yet LEADING connects when the leader starts leading
//!   ([`super::super::state::Following::awaits_leader`]); it gives up (a timeout) only when the
//!   leader is unreachable, no longer proposes itself, or moved on to a newer round (where the
//!   follower's vote no longer counts for it). ZooKeeper's follower gives up after a fixed number
//!   of connection attempts whatever the leader does; the model keeps it waiting while waiting can
//!   still succeed, as it does for the leader's own timeouts.
//!
//! Epochs and zxids in this state (`Vote::peer_epoch`, `Vote::zxid`) are the ZAB types, so a
//! renaming of epochs reaches them; the logical clock is a separate counter.

use crate::zab::state::{FleState, Role, ZabState};
use crate::zab::types::{bit, Notification, PeerState, ServerSet, Sid, Vote};
use crate::zab::ZabModel;

/// ZooKeeper's `Vote.equals`: with a LOOKING side, the whole vote and its round; between
/// FOLLOWING/LEADING reports, only the leader and its epoch (they may come from different rounds).
fn same_vote(a: &Notification, b: &Notification) -> bool {
    if a.state == PeerState::Looking || b.state == PeerState::Looking {
        a.vote == b.vote && a.election_epoch == b.election_epoch
    } else {
        a.vote.leader == b.vote.leader && a.vote.peer_epoch == b.vote.peer_epoch
    }
}

/// The servers whose recorded notification equals `vote` (`getVoteTracker`).
fn supporters(recorded: &[Option<Notification>], vote: &Notification) -> ServerSet {
    recorded
        .iter()
        .enumerate()
        .filter(|(_, n)| n.is_some_and(|n| same_vote(&n, vote)))
        .fold(0, |set, (s, _)| set | bit(s as Sid))
}

impl ZabModel {
    /// Step 1: `server`, now LOOKING, starts a round, or stalls at the round bound.
    pub(in crate::zab) fn start_round(&self, state: &mut ZabState, server: Sid) {
        let me = state.server_mut(server);
        let initial = me.vote(server);
        let clock = me.fle.logical_clock;
        me.fle = FleState {
            logical_clock: clock,
            vote: initial,
            ..FleState::default()
        };
        if clock >= self.max_round() {
            me.fle.stalled = true;
            return;
        }
        me.fle.logical_clock = clock + 1;
        self.send_notifications(state, server);
    }

    /// Every LOOKING server stalled at the round bound starts its next round, if this world's
    /// bound allows it: what the state would be had the bound let the round start (for
    /// `Liveness::blocked_by_bound`, which asks this of a world whose bound is one higher).
    pub(in crate::zab) fn resume_stalled_rounds(&self, state: &mut ZabState) {
        for server in state.ids().collect::<Vec<_>>() {
            let me = state.server(server);
            let stalled = me.up && me.role == Role::Looking && me.fle.stalled;
            if stalled && me.fle.logical_clock < self.max_round() {
                self.start_round(state, server);
            }
        }
    }

    /// The last election round a server may start.
    pub(in crate::zab) fn max_round(&self) -> u8 {
        self.config.epochs
    }

    /// The notification `server` sends about itself: its vote, round and role.
    fn own_notification(state: &ZabState, server: Sid) -> Notification {
        let me = state.server(server);
        Notification {
            vote: me.fle.vote,
            election_epoch: me.fle.logical_clock,
            state: match me.role {
                Role::Looking => PeerState::Looking,
                Role::Following(_) => PeerState::Following,
                Role::Leading(_) => PeerState::Leading,
            },
        }
    }

    /// `sendNotifications`: the current proposal to every peer.
    fn send_notifications(&self, state: &mut ZabState, server: Sid) {
        let notification = Self::own_notification(state, server);
        for peer in state.ids().filter(|&p| p != server).collect::<Vec<_>>() {
            state.notify(server, peer, notification);
        }
    }

    /// Whether `server` takes notifications now: it is up and not stalled.
    pub(in crate::zab) fn takes_notifications(&self, state: &ZabState, server: Sid) -> bool {
        let me = state.server(server);
        me.up && !(me.role == Role::Looking && me.fle.stalled)
    }

    /// Step 2: `to` receives `n` from `from`.
    pub(in crate::zab) fn on_notification(
        &self,
        state: &mut ZabState,
        to: Sid,
        from: Sid,
        n: Notification,
    ) {
        if state.server(to).role != Role::Looking {
            if n.state == PeerState::Looking {
                let answer = Self::own_notification(state, to);
                state.notify(to, from, answer);
            }
            return;
        }
        match n.state {
            PeerState::Looking => self.on_looking_notification(state, to, from, n),
            PeerState::Following | PeerState::Leading => self.on_leader_report(state, to, from, n),
        }
    }

    /// Step 2, a LOOKING receiver and a LOOKING sender: compare rounds, then votes.
    fn on_looking_notification(&self, state: &mut ZabState, me: Sid, from: Sid, n: Notification) {
        let clock = state.server(me).fle.logical_clock;
        if n.election_epoch < clock {
            // The sender is behind: tell it the current round's vote; count nothing.
            let answer = Self::own_notification(state, me);
            state.notify(me, from, answer);
            return;
        }
        let server = state.server_mut(me);
        let initial = server.vote(me);
        let fle = &mut server.fle;
        let changed = if n.election_epoch > clock {
            fle.logical_clock = n.election_epoch;
            fle.received = Default::default();
            fle.vote = n.vote.max(initial);
            true
        } else if n.vote > fle.vote {
            fle.vote = n.vote;
            true
        } else {
            false
        };
        fle.received[usize::from(from)] = Some(n);
        if changed {
            self.send_notifications(state, me);
        }
    }

    /// Step 2, a LOOKING receiver and a FOLLOWING or LEADING sender: follow the leader it
    /// reports once a quorum reports it and the leader confirmed (`checkLeader`).
    fn on_leader_report(&self, state: &mut ZabState, me: Sid, from: Sid, n: Notification) {
        let fle = &state.server(me).fle;
        let clock = fle.logical_clock;
        let own = Self::own_notification(state, me);
        let confirmed = |recorded: &[Option<Notification>], round: u8| {
            if n.vote.leader == me {
                clock == round
            } else {
                recorded[usize::from(n.vote.leader)]
                    .is_some_and(|leader| leader.state == PeerState::Leading)
            }
        };
        if n.election_epoch == clock {
            let mut received = fle.received;
            received[usize::from(from)] = Some(n);
            let with_me = supporters(&received, &n) | if same_vote(&own, &n) { bit(me) } else { 0 };
            state.server_mut(me).fle.received = received;
            if self.config.is_quorum(with_me) && confirmed(&received, n.election_epoch) {
                self.decided(state, me, n.vote);
                return;
            }
        }
        let fle = &mut state.server_mut(me).fle;
        fle.out_of_election[usize::from(from)] = Some(n);
        let out_of_election = fle.out_of_election;
        if self.config.is_quorum(supporters(&out_of_election, &n))
            && confirmed(&out_of_election, n.election_epoch)
        {
            state.server_mut(me).fle.logical_clock = n.election_epoch;
            self.decided(state, me, n.vote);
        }
    }

    /// Step 3's condition: `server` is LOOKING in a round, a quorum of recorded votes equals its
    /// proposal, and the `epochs` bound still allows an election.
    pub(in crate::zab) fn may_decide(&self, state: &ZabState, server: Sid) -> bool {
        let me = state.server(server);
        if !me.up || me.role != Role::Looking || me.fle.stalled {
            return false;
        }
        if !self.elections_left(state) {
            return false;
        }
        let own = Self::own_notification(state, server);
        self.config
            .is_quorum(supporters(&me.fle.received, &own) | bit(server))
    }

    /// Step 3: finalizeWait passed without a better vote; `server` decides on its proposal.
    pub(in crate::zab) fn decide(&self, state: &mut ZabState, server: Sid) {
        let vote = state.server(server).fle.vote;
        self.decided(state, server, vote);
    }

    /// `server` ends its round on `vote` (`setPeerState`, `leaveInstance`): it leads or follows.
    /// The round's vote sets were locals of `lookForLeader` and go; `leaveInstance` clears the
    /// receive queue, so notifications not yet read go too.
    pub(in crate::zab) fn decided(&self, state: &mut ZabState, server: Sid, vote: Vote) {
        let fle = &mut state.server_mut(server).fle;
        fle.vote = vote;
        fle.received = Default::default();
        fle.out_of_election = Default::default();
        state.election_net.retain(|n| n.to != server);
        if vote.leader == server {
            self.lead(state, server);
        } else {
            self.follow(state, server, vote.leader);
        }
    }

    /// Step 4: the election connection between `a` and `b` is made again (one of them restarted,
    /// or a partition between them healed). `QuorumCnxManager`'s new sender thread re-sends the
    /// last notification when its queue is empty, so a LOOKING side's current vote reaches the
    /// other again; a FOLLOWING or LEADING side answers the LOOKING one's notification anyway.
    pub(in crate::zab) fn reconnect_election(&self, state: &mut ZabState, a: Sid, b: Sid) {
        for (from, to) in [(a, b), (b, a)] {
            let sender = state.server(from);
            if sender.up && sender.role == Role::Looking && !sender.fle.stalled {
                let notification = Self::own_notification(state, from);
                state.notify(from, to, notification);
            }
        }
    }

    /// Whether `leader`, which a follower chose in round `round`, may still start leading: it is
    /// LOOKING, proposes itself, and is not in a newer round (there the follower's vote, cast in
    /// `round`, no longer counts for it). A follower waiting for it gives up otherwise, as
    /// `Learner.connectToLeader` does after its retries.
    pub(in crate::zab) fn may_still_lead(&self, state: &ZabState, leader: Sid, round: u8) -> bool {
        let it = state.server(leader);
        it.up
            && it.role == Role::Looking
            && !it.fle.stalled
            && it.fle.vote.leader == leader
            && it.fle.logical_clock <= round
    }

    /// Whether `server` is LOOKING and proposes `leader`, so it may still decide to follow it: a
    /// leader in discovery waits for it rather than give up.
    pub(in crate::zab) fn may_still_follow(
        &self,
        state: &ZabState,
        server: Sid,
        leader: Sid,
    ) -> bool {
        let it = state.server(server);
        self.config.election == crate::zab::Election::Fle
            && it.up
            && it.role == Role::Looking
            && !it.fle.stalled
            && it.fle.vote.leader == leader
    }
}

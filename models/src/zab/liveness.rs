//! ZAB's liveness properties (docs/properties.md, L1 and L2) and the fairness tasks of a ZAB world.
//!
//! **`leader_eventually_elected`** has one obligation, pending in every state where no server is
//! an *established broadcast leader*: up, LEADING, in BROADCAST, with a quorum (itself counted)
//! of servers that are up, FOLLOWING it, in BROADCAST themselves, and still on an open connection
//! to it (the leader's `connected` set). It is violated by a weakly fair behaviour in which from
//! some point on there never is such a leader again. The usual statement of L1 assumes "from some point a
//! quorum is up and pairwise connected forever"; here that premise comes from the fairness below
//! (fault budgets are finite and every crash and partition is eventually repaired), unless the
//! scenario says partitions never heal (`permanent_partitions`), which is how a violation is shown.
//!
//! **`proposals_eventually_committed`** has one obligation per client transaction value (bit
//! `value - 1`), read off the ghost record of proposals (`Ghost::proposals`): pending while the
//! transaction has been proposed, its primary is still leading the leadership that proposed it
//! (up, LEADING, in BROADCAST, with `currentEpoch` equal to the proposal's epoch), and fewer than a
//! quorum of servers have it in their delivered prefix. This is L2, "every proposal of a leader
//! that stays established is eventually committed and delivered by a quorum": ZAB does not
//! promise more. A proposal whose leader crashes or steps down before a quorum acknowledged it
//! may be truncated away by the next leader, and that is correct behaviour, so the obligation
//! lapses when the leadership ends (it does not lapse merely because faults happen while the
//! leader stays). Faults stop in every fair behaviour (finite budgets), so "once faults stop"
//! needs no separate premise.
//!
//! **Tasks** (weak fairness: an action of a task that stays enabled is eventually taken):
//! - the deliveries of each directed link `from → to` (TCP: what was sent is eventually read,
//!   unless the connection closes first);
//! - each server's own steps: joining an existing leader (FLE's out-of-election notification);
//! - each server's disk writes and other background-thread steps of the flawed variants
//!   (`LogSynced`, `LogProposal`, `LogOrphan`, `AckNewLeader`, `ApplyCommitted`), a task apart from its joins
//!   so that joining again and again cannot stand in for a write that stays enabled;
//! - each server's timeout, a task of its own: a timer fires independently of the server's other
//!   work. A timeout is enabled only while its cause holds (the leader is unreachable or no longer
//!   knows the follower; a leader no longer sees a quorum), so fairness never makes a healthy
//!   server time out, and a server cannot "keep timing out" without something breaking each time;
//! - the election (every `Elect`, whatever leader and quorum: the oracle's choice among quorums is
//!   the nondeterminism of who hears whom first, so weak fairness asks only that *some* election
//!   happens while one stays possible, not a particular one; strong fairness splits it by winner,
//!   see below);
//! - with Fast Leader Election instead: the notifications of each directed election link `from →
//!   to` (a task apart from the follower–leader link, as it is a connection apart), and each
//!   server's decision (`Decide`, in the server's own-steps task: a server whose quorum of equal
//!   votes stays is eventually done with finalizeWait);
//! - each crashed server's restart, and the heal of a partition: recoveries, so the environment
//!   eventually repairs what a fault broke. (With `permanent_partitions` there is no heal.)
//!
//! Not tasks: crashes and partitions (faults: the environment may use its budget or not) and
//! client writes (`ClientRequest`: input from outside; clients may write or not, so no behaviour is
//! unfair for lacking a write).
//!
//! **The `epochs` bound.** With `model.epochs = n > 0` elections stop when some server has
//! accepted epoch `n` (as TLC's MaxEpoch), so a behaviour that needs one more election than the
//! bound allows ends with every server LOOKING and nothing enabled: a state that lasts forever with
//! the obligation pending, although the real protocol would hold another election.
//! [`Liveness::blocked_by_bound`] tells such a state apart (with `epochs + 1` a task would be
//! enabled in it), so the checker reports `unknown (bounded: epochs = n exhausted)` instead of a
//! violation: `fixed.toml`'s (a crash and a partition each spoil one of its two epochs) is the
//! bound's doing. With FLE the same key bounds rounds, and a server that would start a round past
//! it stays LOOKING, stalled: the state with one more epoch is the one in which each stalled
//! server starts that round (`resume_stalled_rounds`). With
//! `epochs = 0` there is no bound: epochs are renamed after every step ([`super::canonical`]), the
//! space stays finite, and a violation is a true cycle of the protocol.
//!
//! **What weak fairness does not give.** With 3 servers a single crash is enough for a weakly
//! fair behaviour without a leader (`liveness-election-race.toml`): one server ends up with a
//! newer currentEpoch, the other two elect without it, it joins, its ACKEPOCH is ahead of the
//! leader, the leader gives up, and the two elect again before it notices. Each round returns to
//! the same state up to the epoch numbers (`the_election_race_repeats_with_every_epoch`), so
//! without a bound it is a cycle. Real ZooKeeper leaves this race to timing: FLE's finalizeWait
//! holds an election open for the votes still coming, and the newer server notices its leader's
//! departure about as fast as the others.
//!
//! **Strong fairness of elections** (`[check] fairness = "strong"`, [`Fairness::Strong`]) states
//! that timing as two kinds of strongly fair task (a task enabled again and again, though maybe
//! not continuously, is eventually taken):
//! - per server S, *S's election*: every `Elect` whose winner is S. An election that S would win,
//!   if possible again and again, eventually happens (the oracle may not always pick a quorum
//!   without the best vote);
//! - per server S, *S joining a leaderless election*: S's timeout as a follower in a state where
//!   no server is up and LEADING. A follower that could again and again go back to LOOKING while
//!   the election is still open eventually does so in time (the election does not always end
//!   just before its vote arrives).
//!
//! Together: an election in which the most up-to-date server takes part, if possible infinitely
//! often, eventually happens. Neither kind alone breaks the race: with only the election outcomes
//! strong, the newer server can always go LOOKING just after the other two have elected, so its
//! election is never enabled on the cycle; with only the timeouts strong, the other two can always
//! elect without it. With both, `liveness-election-strong.toml` (one crash) holds, and so do one
//! crash with one partition, and two crashes (measured without a bound). Every other task keeps
//! weak fairness, and under `fairness = "weak"` the election is the single weak task above, as
//! before. Only these tasks may be strong: they are the ones whose outcome real ZooKeeper leaves
//! to timing; making deliveries or disk writes strong would assume more than TCP and disks give.

use super::action::ZabAction;
use super::model::ZabModel;
use super::state::{Phase, ZabState};
use super::types::{bit, Sid, MAX_SERVERS, MAX_TXNS};
use super::Election;
use crate::{enabled_tasks, prop, Bound, Fairness, Liveness, Task};

/// Directed links between distinct servers: one task number each.
const LINKS: usize = MAX_SERVERS * (MAX_SERVERS - 1);

/// Tasks, in this order (the liveness checker builds a lasso's cycle task by task in number
/// order, so the order is part of what a trace looks like): the deliveries of each follower–leader
/// link, then per server its own steps, its disk writes, its timeout and its restart; then the
/// oracle's election and the heal; last the deliveries of each FLE election link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskKind {
    Link {
        from: Sid,
        to: Sid,
    },
    Step(Sid),
    Disk(Sid),
    Timeout(Sid),
    Restart(Sid),
    Election,
    Heal,
    /// Fast Leader Election only: the notifications of one election link.
    ElectionLink {
        from: Sid,
        to: Sid,
    },
    /// Strong fairness (oracle election only): an election that `Sid` wins.
    Elected(Sid),
    /// Strong fairness (oracle election only): `Sid`, a follower, times out while no server
    /// leads, and so takes part in the election under way.
    Rejoin(Sid),
}

const STEP: usize = LINKS;
const DISK: usize = STEP + MAX_SERVERS;
const TIMEOUT: usize = DISK + MAX_SERVERS;
const RESTART: usize = TIMEOUT + MAX_SERVERS;
const ELECTION: usize = RESTART + MAX_SERVERS;
const HEAL: usize = ELECTION + 1;
/// After the heal come tasks that exist in one kind of world only, so they share numbers: FLE's
/// election links, or (oracle election, strong fairness) the strong election tasks.
const ELECTION_LINK: usize = HEAL + 1;
const ELECTED: usize = HEAL + 1;
const REJOIN: usize = ELECTED + MAX_SERVERS;
const _: () = assert!(ELECTION_LINK + LINKS <= 64, "tasks fit in a word");
const _: () = assert!(REJOIN + MAX_SERVERS <= 64, "tasks fit in a word");

/// The link `from → to` (`from != to`) as a number below [`LINKS`], in (from, to) order.
fn link_number(from: Sid, to: Sid) -> usize {
    debug_assert_ne!(from, to, "no link from a server to itself");
    let (from, to) = (usize::from(from), usize::from(to));
    from * (MAX_SERVERS - 1) + if to > from { to - 1 } else { to }
}

/// The link numbered `n` by [`link_number`].
fn link(n: usize) -> (Sid, Sid) {
    let from = n / (MAX_SERVERS - 1);
    let rest = n % (MAX_SERVERS - 1);
    let to = if rest >= from { rest + 1 } else { rest };
    (from as Sid, to as Sid)
}

fn number(kind: TaskKind) -> Task {
    let n = match kind {
        TaskKind::Link { from, to } => link_number(from, to),
        TaskKind::Step(s) => STEP + usize::from(s),
        TaskKind::Disk(s) => DISK + usize::from(s),
        TaskKind::Timeout(s) => TIMEOUT + usize::from(s),
        TaskKind::Restart(s) => RESTART + usize::from(s),
        TaskKind::Election => ELECTION,
        TaskKind::Heal => HEAL,
        TaskKind::ElectionLink { from, to } => ELECTION_LINK + link_number(from, to),
        TaskKind::Elected(s) => ELECTED + usize::from(s),
        TaskKind::Rejoin(s) => REJOIN + usize::from(s),
    };
    n as Task
}

/// The task numbered `task` in a world whose election is `election` (see [`ELECTION_LINK`]).
fn kind(task: Task, election: Election) -> TaskKind {
    let n = usize::from(task);
    let server = |base: usize| (n - base) as Sid;
    match n {
        _ if n < STEP => {
            let (from, to) = link(n);
            TaskKind::Link { from, to }
        }
        _ if n < DISK => TaskKind::Step(server(STEP)),
        _ if n < TIMEOUT => TaskKind::Disk(server(DISK)),
        _ if n < RESTART => TaskKind::Timeout(server(TIMEOUT)),
        _ if n < ELECTION => TaskKind::Restart(server(RESTART)),
        ELECTION => TaskKind::Election,
        HEAL => TaskKind::Heal,
        _ if election == Election::Fle && n < ELECTION_LINK + LINKS => {
            let (from, to) = link(n - ELECTION_LINK);
            TaskKind::ElectionLink { from, to }
        }
        _ if election == Election::Oracle && n < REJOIN => TaskKind::Elected(server(ELECTED)),
        _ if election == Election::Oracle && n < REJOIN + MAX_SERVERS => {
            TaskKind::Rejoin(server(REJOIN))
        }
        _ => panic!("no ZAB task {task}"),
    }
}

impl ZabModel {
    /// The servers following `leader` in broadcast on an open connection, plus `leader` itself,
    /// when `leader` is up, LEADING and in BROADCAST; 0 otherwise.
    fn broadcast_quorum(state: &ZabState, leader: Sid) -> u8 {
        let server = state.server(leader);
        let Some(leading) = server.leading() else {
            return 0;
        };
        if !server.up || server.phase != Phase::Broadcast {
            return 0;
        }
        state
            .ids()
            .filter(|&f| {
                let follower = state.server(f);
                f != leader
                    && follower.up
                    && follower.phase == Phase::Broadcast
                    && follower.following().is_some_and(|x| x.leader == leader)
                    && leading.connected & bit(f) != 0
                    && state.connected(leader, f)
            })
            .fold(bit(leader), |set, f| set | bit(f))
    }

    /// Whether elections are strongly fair: asked for, and the oracle election (whose `Elect`
    /// steps the strong tasks name; the scenario refuses strong fairness with FLE).
    fn strong_elections(&self) -> bool {
        self.fairness == Fairness::Strong && self.config.election == Election::Oracle
    }

    /// A timeout of `server` that takes it, a follower, back to LOOKING while no server is
    /// LEADING: it will take part in the election that has to come.
    fn rejoins_election(state: &ZabState, server: Sid) -> bool {
        state.server(server).following().is_some()
            && !state.servers.iter().any(|s| s.up && s.leading().is_some())
    }

    /// Some server leads in BROADCAST with a quorum of followers in BROADCAST.
    pub fn has_established_leader(&self, state: &ZabState) -> bool {
        state
            .ids()
            .any(|s| self.config.is_quorum(Self::broadcast_quorum(state, s)))
    }

    /// The transaction values whose proposal is still owed a commit (see the module doc).
    fn uncommitted_proposals(&self, state: &ZabState) -> u64 {
        let mut pending = 0u64;
        for proposal in &state.ghost.proposals {
            let primary = state.server(proposal.primary);
            let still_leading = primary.up
                && primary.leading().is_some()
                && primary.phase == Phase::Broadcast
                && primary.disk.current_epoch == proposal.txn.zxid.epoch;
            if !still_leading {
                continue;
            }
            let delivered_by = state
                .delivered()
                .filter(|(_, delivered)| delivered.contains(&proposal.txn))
                .fold(0u8, |set, (s, _)| set | bit(s));
            if !self.config.is_quorum(delivered_by) {
                pending |= 1 << (proposal.txn.value - 1);
            }
        }
        pending
    }
}

impl Liveness for ZabModel {
    fn liveness_properties(&self) -> Vec<&'static str> {
        vec![
            prop::LEADER_EVENTUALLY_ELECTED,
            prop::PROPOSALS_EVENTUALLY_COMMITTED,
        ]
    }

    fn pending(&self, property: &str, state: &ZabState) -> u64 {
        match property {
            prop::LEADER_EVENTUALLY_ELECTED => u64::from(!self.has_established_leader(state)),
            prop::PROPOSALS_EVENTUALLY_COMMITTED => self.uncommitted_proposals(state),
            other => panic!("ZAB has no liveness property {other}"),
        }
    }

    /// The `epochs` bound: a state where the obligation is pending and the same world with one
    /// more epoch would enable a task this one does not (an election; with FLE a decision, or the
    /// notifications of a round that a LOOKING server stalled at the round bound would start).
    /// `transactions` never blocks a task: client writes are no obligation.
    fn blocked_by_bound(&self, property: &str, state: &ZabState) -> Option<Bound> {
        if self.config.epochs == 0 || self.pending(property, state) == 0 {
            return None;
        }
        let mut raised = self.clone();
        raised.config.epochs += 1;
        // A stalled server refused its next round when it went LOOKING; under the raised bound
        // it would have started it, so it starts it here.
        let mut resumed = state.clone();
        if self.config.election == Election::Fle {
            raised.resume_stalled_rounds(&mut resumed);
        }
        let unlocked = enabled_tasks(&raised, &resumed) & !enabled_tasks(self, state);
        (unlocked != 0).then_some(Bound {
            key: "epochs",
            value: u64::from(self.config.epochs),
        })
    }

    fn task(&self, state: &ZabState, action: &ZabAction) -> Option<Task> {
        let strong = self.strong_elections();
        let kind = match *action {
            ZabAction::Deliver { from, to, .. } => TaskKind::Link { from, to },
            ZabAction::Notify { from, to, .. } => TaskKind::ElectionLink { from, to },
            ZabAction::Join { server, .. } | ZabAction::Decide { server } => TaskKind::Step(server),
            ZabAction::LogSynced { server }
            | ZabAction::AckNewLeader { server }
            | ZabAction::ApplyCommitted { server }
            | ZabAction::LogProposal { server }
            | ZabAction::LogOrphan { server } => TaskKind::Disk(server),
            ZabAction::Timeout { server } if strong && Self::rejoins_election(state, server) => {
                TaskKind::Rejoin(server)
            }
            ZabAction::Timeout { server } => TaskKind::Timeout(server),
            ZabAction::Restart { server } => TaskKind::Restart(server),
            ZabAction::Elect { leader, .. } if strong => TaskKind::Elected(leader),
            ZabAction::Elect { .. } => TaskKind::Election,
            ZabAction::Heal => TaskKind::Heal,
            ZabAction::ClientRequest { .. }
            | ZabAction::Crash { .. }
            | ZabAction::SpuriousTimeout { .. }
            | ZabAction::Partition { .. } => return None,
        };
        Some(number(kind))
    }

    fn task_name(&self, task: Task) -> String {
        match kind(task, self.config.election) {
            TaskKind::Link { from, to } => format!("deliveries S{from} → S{to}"),
            TaskKind::Step(s) => match self.config.election {
                Election::Oracle => format!("S{s}'s joins"),
                Election::Fle => format!("S{s}'s decision"),
            },
            TaskKind::Disk(s) => format!("S{s}'s disk writes"),
            TaskKind::Timeout(s) => format!("S{s}'s timeout"),
            TaskKind::Restart(s) => format!("S{s}'s restart"),
            TaskKind::Election => "the election".into(),
            TaskKind::Heal => "the partition's heal".into(),
            TaskKind::ElectionLink { from, to } => format!("notifications S{from} → S{to}"),
            TaskKind::Elected(s) => format!("S{s}'s election (strong)"),
            TaskKind::Rejoin(s) => format!("S{s} joining a leaderless election (strong)"),
        }
    }

    fn strong_tasks(&self) -> u64 {
        if !self.strong_elections() {
            return 0;
        }
        (0..self.config.servers)
            .flat_map(|s| [TaskKind::Elected(s), TaskKind::Rejoin(s)])
            .fold(0, |set, kind| set | 1 << number(kind))
    }

    fn obligation_name(&self, property: &str, bit: u32) -> String {
        match property {
            prop::LEADER_EVENTUALLY_ELECTED => {
                "no server ever leads in BROADCAST with a quorum again".into()
            }
            prop::PROPOSALS_EVENTUALLY_COMMITTED => {
                debug_assert!((bit as usize) < MAX_TXNS);
                format!(
                    "write #{} is never delivered by a quorum while its leader stays",
                    bit + 1
                )
            }
            other => panic!("ZAB has no liveness property {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zab::{ZabConfig, ZabState};
    use stateright::Model;

    fn model() -> ZabModel {
        ZabModel::new(ZabConfig {
            crashes: 1,
            partitions: 1,
            ..ZabConfig::new(3, 1)
        })
        .expect("valid")
    }

    /// Take the first enabled action `wanted` accepts.
    fn take(model: &ZabModel, state: &ZabState, wanted: impl Fn(&ZabAction) -> bool) -> ZabState {
        let mut enabled = Vec::new();
        model.actions(state, &mut enabled);
        let action = enabled
            .into_iter()
            .find(|a| wanted(a))
            .expect("the wanted step is enabled");
        model.next_state(state, action).expect("a step")
    }

    /// Deliver messages until none is in flight.
    fn settle(model: &ZabModel, mut state: ZabState) -> ZabState {
        while !state.net.is_empty() {
            state = take(model, &state, |a| matches!(a, ZabAction::Deliver { .. }));
        }
        state
    }

    #[test]
    fn every_task_has_its_own_number_and_name() {
        let model = model();
        let mut seen = std::collections::HashSet::new();
        for from in 0..MAX_SERVERS as Sid {
            for to in (0..MAX_SERVERS as Sid).filter(|&to| to != from) {
                let link = TaskKind::Link { from, to };
                assert!(seen.insert(number(link)), "{link:?}");
                assert_eq!(super::kind(number(link), Election::Oracle), link);
                let election_link = TaskKind::ElectionLink { from, to };
                assert!(seen.insert(number(election_link)), "{election_link:?}");
                assert_eq!(
                    super::kind(number(election_link), Election::Fle),
                    election_link
                );
            }
        }
        for s in 0..MAX_SERVERS as Sid {
            for kind in [
                TaskKind::Step(s),
                TaskKind::Disk(s),
                TaskKind::Timeout(s),
                TaskKind::Restart(s),
            ] {
                assert!(seen.insert(number(kind)), "{kind:?}");
                assert_eq!(super::kind(number(kind), Election::Oracle), kind);
            }
        }
        assert!(seen.insert(number(TaskKind::Election)));
        assert!(seen.insert(number(TaskKind::Heal)));
        // The strong election tasks (oracle only) share numbers with FLE's election links.
        let mut strong = std::collections::HashSet::new();
        for s in 0..MAX_SERVERS as Sid {
            for kind in [TaskKind::Elected(s), TaskKind::Rejoin(s)] {
                assert!(strong.insert(number(kind)), "{kind:?}");
                assert!(usize::from(number(kind)) >= ELECTION_LINK, "{kind:?}");
                assert_eq!(super::kind(number(kind), Election::Oracle), kind);
            }
        }
        assert_eq!(
            model.task_name(number(TaskKind::Link { from: 2, to: 0 })),
            "deliveries S2 → S0"
        );
        assert_eq!(
            model.task_name(number(TaskKind::Timeout(1))),
            "S1's timeout"
        );
    }

    #[test]
    fn faults_and_writes_are_no_task_and_recoveries_are() {
        let model = model();
        assert_eq!(
            model.task(&ZabState::new(3), &ZabAction::Crash { server: 0 }),
            None
        );
        assert_eq!(
            model.task(&ZabState::new(3), &ZabAction::Partition { side: 2 }),
            None
        );
        assert_eq!(
            model.task(&ZabState::new(3), &ZabAction::ClientRequest { leader: 0 }),
            None
        );
        assert_eq!(
            model.task(&ZabState::new(3), &ZabAction::Restart { server: 2 }),
            Some(number(TaskKind::Restart(2)))
        );
        assert_eq!(
            model.task(&ZabState::new(3), &ZabAction::Heal),
            Some(number(TaskKind::Heal))
        );
        // Every election is one task, whoever wins.
        assert_eq!(
            model.task(
                &ZabState::new(3),
                &ZabAction::Elect {
                    leader: 2,
                    quorum: 0b110
                }
            ),
            model.task(
                &ZabState::new(3),
                &ZabAction::Elect {
                    leader: 1,
                    quorum: 0b011
                }
            )
        );
    }

    /// Under strong fairness an election is the winner's task, and a follower's timeout while
    /// no server leads is a task apart from its other timeouts; those are the strong tasks.
    /// Under weak fairness nothing is strong and the election is one task.
    #[test]
    fn strong_fairness_splits_the_election_by_winner_and_the_leaderless_timeouts() {
        let weak = model();
        let strong = model().with_fairness(Fairness::Strong);
        assert_eq!(weak.strong_tasks(), 0);
        let state = ZabState::new(3);
        let elect = |leader, quorum| ZabAction::Elect { leader, quorum };
        assert_eq!(
            strong.task(&state, &elect(2, 0b110)),
            Some(number(TaskKind::Elected(2)))
        );
        assert_eq!(
            strong.task(&state, &elect(1, 0b011)),
            Some(number(TaskKind::Elected(1)))
        );
        assert_eq!(
            weak.task(&state, &elect(2, 0b110)),
            Some(number(TaskKind::Election))
        );
        // S2 leads S1 in broadcast: a timeout of S1 now (its task is a function of the state
        // and the action, enabled or not) is its ordinary timeout.
        let led = settle(&strong, take(&strong, &state, |a| *a == elect(2, 0b110)));
        let timeout = ZabAction::Timeout { server: 1 };
        assert_eq!(
            strong.task(&led, &timeout),
            Some(number(TaskKind::Timeout(1)))
        );
        // The leader crashed: no server leads, so S1's timeout joins the coming election.
        let crashed = take(&strong, &led, |a| *a == ZabAction::Crash { server: 2 });
        assert_eq!(
            strong.task(&crashed, &timeout),
            Some(number(TaskKind::Rejoin(1)))
        );
        assert_eq!(
            weak.task(&crashed, &timeout),
            Some(number(TaskKind::Timeout(1)))
        );
        let expected = (0..3).fold(0u64, |set, s| {
            set | 1 << number(TaskKind::Elected(s)) | 1 << number(TaskKind::Rejoin(s))
        });
        assert_eq!(strong.strong_tasks(), expected);
        assert_eq!(
            strong.task_name(number(TaskKind::Rejoin(1))),
            "S1 joining a leaderless election (strong)"
        );
    }

    #[test]
    fn fle_notifications_are_a_task_per_election_link_and_a_decision_the_servers_own() {
        let model = ZabModel::new(ZabConfig {
            election: Election::Fle,
            ..ZabConfig::new(3, 1)
        })
        .expect("valid");
        let init = model.init_states().swap_remove(0);
        let notification = init.election_net[0].notification;
        let notify = |from, to| ZabAction::Notify {
            from,
            to,
            notification,
        };
        let link = model.task(&init, &notify(0, 1)).expect("a fair step");
        assert_ne!(Some(link), model.task(&init, &notify(1, 0)));
        assert_ne!(
            Some(link),
            model.task(
                &init,
                &ZabAction::Deliver {
                    from: 0,
                    to: 1,
                    msg: crate::zab::Msg::UpToDate
                }
            ),
            "the election connection is not the follower–leader one"
        );
        assert_eq!(model.task_name(link), "notifications S0 → S1");
        let decide = model
            .task(&init, &ZabAction::Decide { server: 2 })
            .expect("a fair step");
        assert_eq!(model.task_name(decide), "S2's decision");
    }

    #[test]
    fn a_leader_is_pending_until_a_quorum_is_in_broadcast_and_again_after_its_crash() {
        let model = model();
        let elected = prop::LEADER_EVENTUALLY_ELECTED;
        let state = ZabState::new(3);
        assert_eq!(model.pending(elected, &state), 1, "nobody leads at first");
        let state = take(&model, &state, |a| {
            *a == ZabAction::Elect {
                leader: 2,
                quorum: 0b110,
            }
        });
        assert_eq!(
            model.pending(elected, &state),
            1,
            "elected is not established"
        );
        let state = settle(&model, state);
        assert_eq!(state.server(2).phase, Phase::Broadcast);
        assert_eq!(
            model.pending(elected, &state),
            0,
            "S2 leads S1 in broadcast"
        );
        let crashed = take(&model, &state, |a| *a == ZabAction::Crash { server: 2 });
        assert_eq!(model.pending(elected, &crashed), 1, "the leader crashed");
        // A follower's crash leaves S2 alone: no quorum in broadcast, although S2 has not
        // noticed yet.
        let follower_crashed = take(&model, &state, |a| *a == ZabAction::Crash { server: 1 });
        assert!(follower_crashed.server(2).leading().is_some());
        assert_eq!(model.pending(elected, &follower_crashed), 1);
    }

    /// Which enabled step a test takes.
    type Wanted = Box<dyn Fn(&ZabAction) -> bool>;

    /// The election race of `scenarios/zab/liveness-election-race.toml` is a cycle, not an
    /// artefact of the `epochs` bound: each round returns to the same state up to the epoch
    /// numbers, with the obligation pending throughout, using only fair steps.
    #[test]
    fn the_election_race_repeats_with_every_epoch() {
        let model = ZabModel::new(ZabConfig {
            crashes: 1,
            epochs: 8,
            ..ZabConfig::new(3, 0)
        })
        .expect("valid");
        let deliver = |from, to| move |a: &ZabAction| matches!(a, ZabAction::Deliver { from: f, to: t, .. } if *f == from && *t == to);
        let mut state = ZabState::new(3);
        let stem: Vec<Wanted> = vec![
            Box::new(|a| {
                *a == ZabAction::Elect {
                    leader: 1,
                    quorum: 0b011,
                }
            }),
            Box::new(deliver(0, 1)),
            Box::new(deliver(1, 0)),
            Box::new(deliver(0, 1)), // S1 establishes epoch 1: currentEpoch 1
            Box::new(|a| *a == ZabAction::Crash { server: 0 }),
            Box::new(|a| *a == ZabAction::Timeout { server: 1 }),
            Box::new(|a| *a == ZabAction::Restart { server: 0 }),
            Box::new(|a| {
                *a == ZabAction::Elect {
                    leader: 2,
                    quorum: 0b101,
                }
            }),
            Box::new(|a| {
                *a == ZabAction::Join {
                    server: 1,
                    leader: 2,
                }
            }),
            Box::new(deliver(1, 2)),
            Box::new(deliver(2, 1)),
            Box::new(deliver(1, 2)), // S1's ACKEPOCH is ahead of S2: S2 gives up
        ];
        for wanted in &stem {
            state = take(&model, &state, wanted);
        }
        let round: Vec<Wanted> = vec![
            Box::new(|a| *a == ZabAction::Timeout { server: 0 }),
            Box::new(|a| {
                *a == ZabAction::Elect {
                    leader: 2,
                    quorum: 0b101,
                }
            }),
            Box::new(|a| *a == ZabAction::Timeout { server: 1 }),
            Box::new(|a| {
                *a == ZabAction::Join {
                    server: 1,
                    leader: 2,
                }
            }),
            Box::new(deliver(1, 2)),
            Box::new(deliver(2, 1)),
            Box::new(deliver(1, 2)),
        ];
        let without_epochs = |state: &ZabState| {
            let mut state = state.clone();
            for server in &mut state.servers {
                server.disk.accepted_epoch = 0;
            }
            state
        };
        let start = state.clone();
        for k in 1..=4u8 {
            for wanted in &round {
                let mut enabled = Vec::new();
                model.actions(&state, &mut enabled);
                let action = enabled.into_iter().find(|a| wanted(a)).expect("enabled");
                assert!(
                    model.task(&state, &action).is_some(),
                    "{action} is a fair step"
                );
                state = model.next_state(&state, action).expect("a step");
                assert_eq!(model.pending(prop::LEADER_EVENTUALLY_ELECTED, &state), 1);
            }
            assert_eq!(without_epochs(&state), without_epochs(&start), "round {k}");
            assert_eq!(state.server(2).disk.accepted_epoch, 2 + k);
        }
    }

    #[test]
    fn a_proposal_is_owed_until_a_quorum_delivers_it_or_its_leader_goes() {
        let model = model();
        let committed = prop::PROPOSALS_EVENTUALLY_COMMITTED;
        let state = ZabState::new(3);
        let state = take(&model, &state, |a| {
            *a == ZabAction::Elect {
                leader: 2,
                quorum: 0b110,
            }
        });
        let state = settle(&model, state);
        assert_eq!(model.pending(committed, &state), 0, "nothing proposed");
        let proposed = take(&model, &state, |a| {
            *a == ZabAction::ClientRequest { leader: 2 }
        });
        assert_eq!(model.pending(committed, &proposed), 0b1, "write #1 is owed");
        // The leader writes it and commits on S1's ACK, but only S2 has delivered: still owed.
        let written = take(&model, &proposed, |a| {
            *a == ZabAction::LogProposal { server: 2 }
        });
        let acked = take(&model, &written, |a| {
            matches!(a, ZabAction::Deliver { from: 2, to: 1, .. })
        });
        let acked = take(&model, &acked, |a| {
            matches!(a, ZabAction::Deliver { from: 1, to: 2, .. })
        });
        assert_eq!(acked.ghost.committed(), 0b1);
        assert_eq!(model.pending(committed, &acked), 0b1);
        let delivered = settle(&model, acked);
        assert_eq!(
            model.pending(committed, &delivered),
            0,
            "S1 and S2 delivered it"
        );
        // The leader crashes before anyone else has the proposal: the obligation lapses.
        let crashed = take(&model, &proposed, |a| *a == ZabAction::Crash { server: 2 });
        assert_eq!(model.pending(committed, &crashed), 0);
    }
}

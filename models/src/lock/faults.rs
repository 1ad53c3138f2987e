//! The faults of a lock world and the recoveries they enable: which are enabled, and what each
//! does to the state.
//!
//! - `message_loss`: a TCP connection breaks while a request is outstanding; everything in flight
//!   on it is lost and the client reads `ConnectionLoss` (its session survives).
//! - `partitions`: some clients (and, fenced, the resource) lose contact with the server. Either
//!   the partition heals before the clients' read timeout (2/3 of the session timeout), and was
//!   only a delay, or it outlasts it: the client library declares the connection lost, and every
//!   cut-off client waiting on a request reads `ConnectionLoss` (docs/zookeeper.md). Whether it
//!   also outlasts the session timeout is the `session_expiries` budget's business.
//! - `crashes`: the server crashes, keeping its data tree and sessions (ZooKeeper logs both), and
//!   later restarts.
//! - `session_expiries` and `client_pauses`.
//! - `client_crashes` (an ensemble's): a client's process dies for good. Its session is not
//!   closed with its connection (ZooKeeper's server only closes the connection when it reads its
//!   end): its nodes stay until the leader expires the session, which, the client being silent
//!   for good, it eventually does (a weakly fair expiry, outside the `session_expiries` budget,
//!   as for every client that will never touch its session again: one that abandoned, or that a
//!   reconnection told its session had ended).
//!
//! There is no duplication and no reordering: a session's requests, replies and watch events travel
//! over one TCP connection, and a reply the client library does not expect closes the connection
//! (`ClientCnxn.readResponse`), which is a connection loss. The lost wakeup once shown by
//! reordering is a race between the client's own threads:
//! [`super::Variant::UnsynchronisedEventThread`].

use arrayvec::ArrayVec;

use super::action::LockAction;
use super::model::{LockModel, Recipe};
use super::state::LockState;
use crate::actor::{ActorId, Group};
use crate::zookeeper::{ClientId, ClientView, Reply, ZkService};

impl<Z: ZkService> LockModel<Z> {
    /// Break `client`'s connection: everything in flight between it and the server is lost. The
    /// client learns it as `ConnectionLoss`. Watch events that were in flight come again after it
    /// (the library re-registers the watches it knows on reconnect and the server fires the
    /// changed ones), except those of the watch a lost read answer registered: the library
    /// learns of a watch only from the answer, so that watch is gone with the connection, and
    /// so is its event.
    pub(super) fn lose_connection(&self, state: &mut LockState<Z>, c: ClientId) {
        let links = &mut state.links[usize::from(c)];
        links.to_server.clear();
        let lost: ArrayVec<Reply, { super::state::REPLIES_IN_FLIGHT }> =
            links.from_server.drain(..).collect();
        links.send_reply(Reply::ConnectionLoss);
        let unlearned = lost
            .iter()
            .position(|r| r.answers_request())
            .and_then(|at| {
                let kind = lost[at].watch_kind()?;
                Some((at, kind))
            });
        for (at, event) in lost.iter().enumerate() {
            let unlearned_event = unlearned
                .is_some_and(|(answer, kind)| at > answer && event.watch_kind() == Some(kind));
            if matches!(event, Reply::Event { .. }) && !unlearned_event {
                links.send_reply(*event);
            }
        }
        if let Some((_, kind)) = unlearned {
            state.zk.read_answer_lost(c, kind);
        }
    }

    /// Whether breaking `c`'s connection now would take a request the client waits on, or its
    /// reply, with it: then `ConnectionLoss` always refers to the request the client waits for.
    /// (Not while a new session is being opened: the library redoes a lost handshake by itself,
    /// and the model keeps the handshake's outcome.)
    pub(super) fn connection_loss_matters(&self, state: &LockState<Z>, c: ClientId) -> bool {
        let client = &state.clients[usize::from(c)];
        let links = &state.links[usize::from(c)];
        let awaits_reply = client.phase.awaits_reply();
        let reply_in_flight = links.from_server.iter().any(|r| r.answers_request());
        let on_link = !links.to_server.is_empty() || reply_in_flight;
        state.zk.is_live(c) && awaits_reply && state.zk.connection_may_break(&self.zk, c, on_link)
    }

    /// The server crashes: every live session's connection breaks. Clients waiting on a request
    /// read `ConnectionLoss`; requests of the others (none is outstanding) are lost. Sessions whose end is
    /// already decided keep their `SessionExpired`, which the restarted server would tell them.
    pub(super) fn crash_server(&self, state: &mut LockState<Z>) {
        for c in 0..self.client_count() {
            if self.connection_loss_matters(state, c) {
                self.lose_connection(state, c);
            } else if state.zk.is_live(c) {
                state.links[usize::from(c)].to_server.clear();
            }
        }
        state.server_down = true;
    }

    /// `c`'s process dies: it believes nothing any more and sends nothing more. What was in
    /// flight on its connection is lost both ways (a request it had sent may have reached the
    /// server first: the crash may come after that delivery), and the service learns that the
    /// client will never connect again; its session stays open. A fenced write already on its
    /// way still reaches the resource, whose answer finds nobody.
    pub(super) fn crash_client(&self, state: &mut LockState<Z>, c: ClientId) {
        state.clients[usize::from(c)].phase = super::client::Phase::Crashed;
        let links = &mut state.links[usize::from(c)];
        links.to_server.clear();
        links.from_server.clear();
        links.from_resource = None;
        state.zk.client_crashed(c);
    }

    /// Whether `c`'s connection is broken (its requests reach no server) and it has read the
    /// `Disconnected` that told it so.
    fn read_disconnected(&self, state: &LockState<Z>, c: ClientId) -> bool {
        !state.zk.takes_request(c)
            && !state.links[usize::from(c)]
                .from_server
                .contains(&Reply::Disconnected)
    }

    pub(super) fn fault_actions(
        &self,
        state: &LockState<Z>,
        c: ClientId,
        actions: &mut Vec<LockAction>,
    ) {
        let client = &state.clients[usize::from(c)];
        let id = ActorId::Client(c);
        let server_up = !state.server_down;
        let unattended = self.leaves_session(state, c);
        if server_up
            && state.zk.may_expire(
                &self.zk,
                c,
                ClientView {
                    // A client that will never touch its session again is as silent as a paused
                    // one, for good.
                    paused: client.paused || unattended,
                    read_disconnected: self.read_disconnected(state, c),
                },
            )
            && (unattended || state.faults.session_expiries < self.config.session_expiries)
        {
            actions.push(LockAction::ExpireSession { client: id });
        }
        if server_up
            && self.connection_loss_matters(state, c)
            && state.faults.message_loss < self.config.message_loss
        {
            actions.push(LockAction::LoseConnection { client: id });
        }
        if client.paused {
            actions.push(LockAction::Resume { client: id });
        } else if !client.phase.is_finished() {
            if state.faults.client_pauses < self.config.client_pauses {
                actions.push(LockAction::Pause { client: id });
            }
            if state.crashed_clients() < self.config.client_crashes {
                actions.push(LockAction::CrashClient { client: id });
            }
        }
    }

    /// Faults and recoveries of the whole world: partitions and server crashes.
    pub(super) fn world_fault_actions(&self, state: &LockState<Z>, actions: &mut Vec<LockAction>) {
        if !Z::WORLD_FAULTS {
            return;
        }
        let unfinished = !state.all_finished();
        if !state.cut.is_empty() {
            actions.push(LockAction::Heal);
            if self.read_timeout_matters(state) {
                actions.push(LockAction::ReadTimeout);
            }
        } else if unfinished && state.faults.partitions < self.config.partitions {
            // Every split with the server on one side: the other side is any non-empty set of
            // clients (and, in fenced worlds, possibly the resource).
            let mut members: Vec<ActorId> = (0..self.client_count()).map(ActorId::Client).collect();
            if self.config.recipe == Recipe::Fenced {
                members.push(ActorId::Resource);
            }
            for subset in 1u32..(1 << members.len()) {
                let cut = members
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| subset & (1 << i) != 0)
                    .fold(Group::default(), |group, (_, &actor)| group.with(actor));
                actions.push(LockAction::Partition { cut });
            }
        }
        if state.server_down {
            actions.push(LockAction::RestartServer);
        } else if unfinished && state.faults.crashes < self.config.crashes {
            actions.push(LockAction::CrashServer);
        }
    }

    /// Whether the partition, not yet past the read timeout, would break a connection that
    /// matters if it outlasted it: a client on the cut-off side waits on a request. (A client
    /// waiting on nothing is told `Disconnected`, which the recipes ignore: its session and
    /// watches survive, and the library re-registers the watches on reconnect.)
    fn read_timeout_matters(&self, state: &LockState<Z>) -> bool {
        !state.cut_past_read_timeout
            && (0..self.client_count()).any(|c| {
                state.cut.contains(ActorId::Client(c)) && self.connection_loss_matters(state, c)
            })
    }

    /// The partition outlasts the clients' read timeout: every cut-off client waiting on a
    /// request loses its connection, as with `message_loss`. Its retry waits for the heal: while
    /// the partition lasts, each reconnection attempt fails and fails the queued request again,
    /// which the recipe retries again, all of it before anything reaches the server.
    pub(super) fn read_timeout(&self, state: &mut LockState<Z>) {
        assert!(!state.cut.is_empty() && !state.cut_past_read_timeout);
        for c in 0..self.client_count() {
            if state.cut.contains(ActorId::Client(c)) && self.connection_loss_matters(state, c) {
                self.lose_connection(state, c);
            }
        }
        state.cut_past_read_timeout = true;
    }
}

#[cfg(test)]
mod tests {
    use stateright::Model;

    use super::*;
    use crate::lock::client::Phase;
    use crate::lock::{LockConfig, Msg, Variant};
    use crate::zookeeper::{EventKind, Path, SessionState};

    const C0: ActorId = ActorId::Client(0);
    const C1: ActorId = ActorId::Client(1);

    fn model(configure: impl FnOnce(&mut LockConfig)) -> LockModel {
        let mut config = LockConfig::new(Recipe::Standard, 2);
        configure(&mut config);
        LockModel::new(config).expect("valid")
    }

    fn enabled(model: &LockModel, state: &LockState) -> Vec<LockAction> {
        let mut actions = Vec::new();
        model.actions(state, &mut actions);
        actions
    }

    /// Take `action`, which must be enabled.
    fn step(model: &LockModel, state: &LockState, action: LockAction) -> LockState {
        assert!(
            enabled(model, state).contains(&action),
            "{action} is not enabled"
        );
        model.next_state(state, action).expect("a next state")
    }

    fn request_of(c: ActorId, request: crate::zookeeper::Request) -> LockAction {
        LockAction::Deliver {
            from: c,
            to: ActorId::Server,
            msg: Msg::Request(request),
        }
    }

    fn create() -> crate::zookeeper::Request {
        super::super::standard::create_request()
    }

    #[test]
    fn a_partition_holds_messages_until_it_heals() {
        let model = model(|c| c.partitions = 1);
        let mut state = model.init_states().swap_remove(0);
        state = step(&model, &state, LockAction::StartAcquire { client: C0 });
        let cut = Group::default().with(C0);
        state = step(&model, &state, LockAction::Partition { cut });
        let actions = enabled(&model, &state);
        assert!(
            !actions.contains(&request_of(C0, create())),
            "C0 is cut off"
        );
        assert!(actions.contains(&LockAction::StartAcquire { client: C1 }));
        assert!(!actions
            .iter()
            .any(|a| matches!(a, LockAction::Partition { .. })));
        state = step(&model, &state, LockAction::Heal);
        assert!(enabled(&model, &state).contains(&request_of(C0, create())));
        assert!(
            !enabled(&model, &state).contains(&LockAction::Partition { cut }),
            "one partition in the budget"
        );
    }

    /// Goal: a partition that outlasts the read timeout loses the reply of a create the server
    /// applied, and the documented recipe's blind retry leaves an orphan node (docs/zookeeper.md).
    /// Method: walk that execution step by step.
    #[test]
    fn a_partition_past_the_read_timeout_loses_the_reply_and_the_retry_orphans_a_node() {
        let model = model(|c| c.partitions = 1);
        let mut state = model.init_states().swap_remove(0);
        let cut = Group::default().with(C0);
        state = step(&model, &state, LockAction::StartAcquire { client: C0 });
        state = step(&model, &state, request_of(C0, create()));
        state = step(&model, &state, LockAction::Partition { cut });
        let created = LockAction::Deliver {
            from: ActorId::Server,
            to: C0,
            msg: Msg::Reply(state.links[0].from_server[0]),
        };
        assert!(
            !enabled(&model, &state).contains(&created),
            "the reply waits across the cut"
        );
        state = step(&model, &state, LockAction::ReadTimeout);
        assert_eq!(
            state.links[0].from_server.as_slice(),
            [Reply::ConnectionLoss]
        );
        assert!(!enabled(&model, &state).contains(&LockAction::ReadTimeout));
        let loss = LockAction::Deliver {
            from: ActorId::Server,
            to: C0,
            msg: Msg::Reply(Reply::ConnectionLoss),
        };
        state = step(&model, &state, loss);
        assert!(
            !enabled(&model, &state).contains(&request_of(C0, create())),
            "the retry waits for the heal"
        );
        state = step(&model, &state, LockAction::Heal);
        state = step(&model, &state, request_of(C0, create()));
        assert_eq!(state.orphan_nodes(false), 1);
    }

    #[test]
    fn a_crash_keeps_znodes_and_sessions_and_breaks_connections() {
        let model = model(|c| {
            c.crashes = 1;
            c.session_expiries = 1;
        });
        let mut state = model.init_states().swap_remove(0);
        state = step(&model, &state, LockAction::StartAcquire { client: C0 });
        state = step(&model, &state, LockAction::StartAcquire { client: C1 });
        state = step(&model, &state, request_of(C0, create()));
        state = step(&model, &state, LockAction::CrashServer);
        assert_eq!(state.zk.children_owned_by(0).count(), 1, "durable");
        assert_eq!(state.zk.session(0), SessionState::Live, "durable");
        assert_eq!(
            state.links[0].from_server.as_slice(),
            [Reply::ConnectionLoss]
        );
        assert!(state.links[1].to_server.is_empty(), "C1's create is lost");
        assert_eq!(
            state.links[1].from_server.as_slice(),
            [Reply::ConnectionLoss]
        );
        let actions = enabled(&model, &state);
        assert!(actions.contains(&LockAction::RestartServer));
        assert!(!actions
            .iter()
            .any(|a| matches!(a, LockAction::ExpireSession { .. })));
        // C0 retries while S is down: the request waits for the restart.
        let loss = LockAction::Deliver {
            from: ActorId::Server,
            to: C0,
            msg: Msg::Reply(Reply::ConnectionLoss),
        };
        state = step(&model, &state, loss);
        assert!(!enabled(&model, &state).contains(&request_of(C0, create())));
        state = step(&model, &state, LockAction::RestartServer);
        state = step(&model, &state, request_of(C0, create()));
        assert_eq!(
            state.orphan_nodes(false),
            1,
            "the retried create made a second node"
        );
    }

    /// Goal: only the `unsynchronised-event-thread` client takes a watch event before the reply
    /// ahead of it, and then waits for a watch that has fired. Method: a channel holding
    /// Stat(exists) and then the predecessor's NodeDeleted, with and without the variant.
    #[test]
    fn an_unsynchronised_event_thread_takes_the_event_before_the_reply_and_loses_the_wakeup() {
        let stat = Reply::Stat { exists: true };
        let event = Reply::Event {
            kind: EventKind::NodeDeleted,
            path: Path::Child(0),
        };
        for variant in [Variant::Fixed, Variant::UnsynchronisedEventThread] {
            let model = model(|c| c.variant = variant);
            let mut state = model.init_states().swap_remove(0);
            state.clients[1].phase = Phase::WaitStat;
            state.clients[1].seq = Some(1);
            state.links[1].from_server = [stat, event].into_iter().collect();
            let first: Vec<LockAction> = enabled(&model, &state)
                .into_iter()
                .filter(|a| matches!(a, LockAction::EventThreadFirst { .. }))
                .collect();
            let event_first = LockAction::EventThreadFirst {
                from: ActorId::Server,
                to: C1,
                msg: Msg::Reply(event),
            };
            if variant == Variant::Fixed {
                assert!(first.is_empty());
                continue;
            }
            assert_eq!(first, [event_first]);
            let next = step(&model, &state, event_first);
            assert_eq!(next.links[1].from_server.as_slice(), [stat]);
            assert_eq!(next.clients[1].phase, Phase::WaitStat, "nobody waits yet");
            let stat_read = LockAction::Deliver {
                from: ActorId::Server,
                to: C1,
                msg: Msg::Reply(stat),
            };
            let next = step(&model, &next, stat_read);
            assert_eq!(next.clients[1].phase, Phase::WaitWatch);
            assert!(next.links[1].from_server.is_empty(), "nothing will wake it");
        }
    }

    /// Goal: a read answer lost with its connection takes its watch with it. ZooKeeper's server
    /// drops a closed connection's watches and the client library re-registers only those whose
    /// answer it read, so neither the watch nor an event it fired may outlive the break; an
    /// event the model kept could wake a waiter ZooKeeper never wakes.
    /// Method: in every recipe's fault worlds, break connections (lost connection, read timeout,
    /// server crash) in every reachable state, and check each client whose unread answer to a
    /// read was lost; there must be such breaks, with an event of that watch in flight too.
    #[test]
    fn a_lost_read_answer_takes_its_watch_and_its_event_with_it() {
        let (mut breaks, mut events_dropped) = (0, 0);
        for config in crate::lock::test_worlds::varied_worlds() {
            let model = LockModel::new(config).expect("valid");
            for state in crate::lock::test_worlds::reachable(&model, 50_000) {
                for action in enabled(&model, &state).into_iter().filter(|a| {
                    matches!(
                        a,
                        LockAction::LoseConnection { .. }
                            | LockAction::ReadTimeout
                            | LockAction::CrashServer
                    )
                }) {
                    let next = model.next_state(&state, action).expect("a next state");
                    for c in 0..2u8 {
                        let before = &state.links[usize::from(c)].from_server;
                        let after = &next.links[usize::from(c)].from_server;
                        let Some(at) = before.iter().position(|r| r.answers_request()) else {
                            continue;
                        };
                        let Some(kind) = before[at].watch_kind() else {
                            continue;
                        };
                        if after.contains(&before[at]) {
                            continue;
                        }
                        breaks += 1;
                        if before[at + 1..]
                            .iter()
                            .any(|r| r.watch_kind() == Some(kind))
                        {
                            events_dropped += 1;
                        }
                        assert!(
                            !after.iter().any(|r| matches!(r, Reply::Event { .. })
                                && r.watch_kind() == Some(kind)),
                            "{action} re-sends the event of a watch C{c} never learned: {after:?}"
                        );
                        assert!(
                            !next.zk.watches_of(c).any(|w| w.kind == kind),
                            "{action} leaves C{c} a watch it never learned: {:?}",
                            next.zk.watches()
                        );
                    }
                }
            }
        }
        assert!(breaks > 100, "only {breaks} lost read answers");
        assert!(
            events_dropped > 0,
            "no lost answer had its watch's event behind it"
        );
    }
}

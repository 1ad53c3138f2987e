//! The faults of a lock world and the recoveries they enable: which are enabled, and what each
//! does to the state.
//!
//! - `message_loss`: a TCP connection breaks while a request is outstanding; everything in flight
//!   on it is lost and the client reads `ConnectionLoss` (its session survives).
//! - `message_duplication`: the network copies a request or a watch notification in flight.
//! - `reordering`: a message to a client overtakes the one in front of it (see
//!   [`super::model::REORDERING_WINDOW`]); the step itself is in `model.rs`, beside the in-order
//!   delivery.
//! - `partitions`: some clients (and, fenced, the resource) lose contact with the server until the
//!   partition heals.
//! - `crashes`: the server crashes, keeping its data tree and sessions (ZooKeeper logs both), and
//!   later restarts.
//! - `session_expiries` and `client_pauses`.

use arrayvec::ArrayVec;

use super::action::{LockAction, Msg};
use super::client::Phase;
use super::model::{LockModel, Recipe};
use super::state::{LockState, Outgoing};
use crate::actor::{ActorId, Group};
use crate::zookeeper::{ClientId, Reply, Request};

impl LockModel {
    /// Break `client`'s connection: everything in flight between it and the server is lost. The
    /// client learns it as `ConnectionLoss`; watch events that were in flight come again after it
    /// (the library re-registers its watches on reconnect and the server fires the changed ones).
    pub(super) fn lose_connection(&self, state: &mut LockState, c: ClientId) {
        let links = &mut state.links[usize::from(c)];
        links.to_server.clear();
        let lost: ArrayVec<Reply, { super::state::REPLIES_IN_FLIGHT }> =
            links.from_server.drain(..).collect();
        links.send_reply(Reply::ConnectionLoss);
        for event in lost
            .into_iter()
            .filter(|r| matches!(r, Reply::Event { .. }))
        {
            links.send_reply(event);
        }
    }

    /// Whether breaking `c`'s connection now would take a request the client waits on, or its
    /// reply, with it: then `ConnectionLoss` always refers to the request the client waits for.
    /// (Not while a new session is being opened: the library redoes a lost handshake by itself,
    /// and the model keeps the handshake's outcome.)
    pub(super) fn connection_loss_matters(&self, state: &LockState, c: ClientId) -> bool {
        let client = &state.clients[usize::from(c)];
        let links = &state.links[usize::from(c)];
        let awaits_reply = matches!(
            client.phase,
            Phase::WaitCreated | Phase::WaitChildren | Phase::WaitStat | Phase::WaitDeleted
        );
        let reply_in_flight = links.from_server.iter().any(|r| {
            !matches!(
                r,
                Reply::Event { .. } | Reply::ConnectionLoss | Reply::SessionExpired
            )
        });
        let in_flight = !links.to_server.is_empty() || reply_in_flight;
        state.server.is_live(c) && awaits_reply && in_flight
    }

    /// The server crashes: every live session's connection breaks. Clients waiting on a request
    /// read `ConnectionLoss`; requests of the others (duplicates) are lost. Sessions whose end is
    /// already decided keep their `SessionExpired`, which the restarted server would tell them.
    pub(super) fn crash_server(&self, state: &mut LockState) {
        for c in 0..self.client_count() {
            if self.connection_loss_matters(state, c) {
                self.lose_connection(state, c);
            } else if state.server.is_live(c) {
                state.links[usize::from(c)].to_server.clear();
            }
        }
        state.server_down = true;
    }

    pub(super) fn fault_actions(
        &self,
        state: &LockState,
        c: ClientId,
        actions: &mut Vec<LockAction>,
    ) {
        let client = &state.clients[usize::from(c)];
        let id = ActorId::Client(c);
        let server_up = !state.server_down;
        if server_up
            && state.server.is_live(c)
            && state.faults.session_expiries < self.config.session_expiries
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
        } else if !client.phase.is_finished()
            && state.faults.client_pauses < self.config.client_pauses
        {
            actions.push(LockAction::Pause { client: id });
        }
        if state.faults.message_duplication < self.config.message_duplication {
            self.duplications(state, c, actions);
        }
    }

    /// The messages on `c`'s channels a duplication can copy: requests (but not the session
    /// handshake, which ZooKeeper answers idempotently) and watch notifications. A duplicated
    /// reply would change nothing: the client library matches replies to requests by xid and
    /// drops a second one. The resource link is not duplicated: a repeated write with the same
    /// token is accepted or rejected exactly as the first.
    fn duplications(&self, state: &LockState, c: ClientId, actions: &mut Vec<LockAction>) {
        let links = &state.links[usize::from(c)];
        let id = ActorId::Client(c);
        if !links.to_server.is_full() {
            for (i, sent) in links.to_server.iter().enumerate() {
                let repeated = links.to_server[..i]
                    .iter()
                    .any(|earlier| earlier.request == sent.request);
                if !repeated && sent.request != Request::CreateSession {
                    actions.push(LockAction::Duplicate {
                        from: id,
                        to: ActorId::Server,
                        msg: Msg::Request(sent.request),
                    });
                }
            }
        }
        if !links.from_server.is_full() {
            for (i, &reply) in links.from_server.iter().enumerate() {
                if matches!(reply, Reply::Event { .. }) && !links.from_server[..i].contains(&reply)
                {
                    actions.push(LockAction::Duplicate {
                        from: ActorId::Server,
                        to: id,
                        msg: Msg::Reply(reply),
                    });
                }
            }
        }
    }

    /// Faults and recoveries of the whole world: partitions and server crashes.
    pub(super) fn world_fault_actions(&self, state: &LockState, actions: &mut Vec<LockAction>) {
        let unfinished = !state.all_finished();
        if !state.cut.is_empty() {
            actions.push(LockAction::Heal);
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

    /// The network copies a message in flight; the copy follows the original.
    pub(super) fn duplicate(&self, state: &mut LockState, from: ActorId, to: ActorId, msg: Msg) {
        match (from, to, msg) {
            (ActorId::Client(c), ActorId::Server, Msg::Request(request)) => {
                let channel = &mut state.links[usize::from(c)].to_server;
                let at = channel
                    .iter()
                    .position(|sent| sent.request == request)
                    .expect("the duplicated request is in flight");
                channel.insert(
                    at + 1,
                    Outgoing {
                        request,
                        copy: true,
                    },
                );
            }
            (ActorId::Server, ActorId::Client(c), Msg::Reply(reply)) => {
                let channel = &mut state.links[usize::from(c)].from_server;
                let at = channel
                    .iter()
                    .position(|&r| r == reply)
                    .expect("the duplicated notification is in flight");
                channel.insert(at + 1, reply);
            }
            other => panic!("the network does not duplicate {other:?}"),
        }
        state.faults.message_duplication += 1;
    }
}

#[cfg(test)]
mod tests {
    use stateright::Model;

    use super::*;
    use crate::lock::LockConfig;
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

    fn request_of(c: ActorId, request: Request) -> LockAction {
        LockAction::Deliver {
            from: c,
            to: ActorId::Server,
            msg: Msg::Request(request),
        }
    }

    fn create() -> Request {
        super::super::standard::create_request()
    }

    #[test]
    fn a_duplicated_create_is_applied_twice_and_answered_once() {
        let model = model(|c| c.message_duplication = 1);
        let mut state = model.init_states().swap_remove(0);
        state = step(&model, &state, LockAction::StartAcquire { client: C0 });
        let duplicate = LockAction::Duplicate {
            from: C0,
            to: ActorId::Server,
            msg: Msg::Request(create()),
        };
        state = step(&model, &state, duplicate);
        assert!(
            !enabled(&model, &state)
                .iter()
                .any(|a| matches!(a, LockAction::Duplicate { .. })),
            "the budget is spent"
        );
        state = step(&model, &state, request_of(C0, create()));
        let copy = LockAction::Deliver {
            from: C0,
            to: ActorId::Server,
            msg: Msg::RequestCopy(create()),
        };
        state = step(&model, &state, copy);
        assert_eq!(state.server.children_owned_by(0).count(), 2);
        let created = |r: &Reply| matches!(r, Reply::Created { .. });
        assert_eq!(
            state.links[0]
                .from_server
                .iter()
                .filter(|r| created(r))
                .count(),
            1
        );
        assert_eq!(state.orphan_nodes(), 1);
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
        assert_eq!(state.server.children_owned_by(0).count(), 1, "durable");
        assert_eq!(state.server.session(0), SessionState::Live, "durable");
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
            state.orphan_nodes(),
            1,
            "the retried create made a second node"
        );
    }

    #[test]
    fn reordering_lets_a_notification_overtake_one_reply_only_when_enabled() {
        let stat = Reply::Stat { exists: true };
        let event = Reply::Event {
            kind: EventKind::NodeDeleted,
            path: Path::Child(0),
        };
        for reordering in [false, true] {
            let model = model(|c| c.reordering = reordering);
            let mut state = model.init_states().swap_remove(0);
            state.clients[1].phase = Phase::WaitStat;
            state.clients[1].seq = Some(1);
            state.links[1].from_server = [stat, event, stat].into_iter().collect();
            let out_of_order: Vec<LockAction> = enabled(&model, &state)
                .into_iter()
                .filter(|a| matches!(a, LockAction::DeliverOutOfOrder { .. }))
                .collect();
            let overtake = LockAction::DeliverOutOfOrder {
                from: ActorId::Server,
                to: C1,
                msg: Msg::Reply(event),
            };
            if reordering {
                assert_eq!(out_of_order, [overtake], "only the second message");
                let next = step(&model, &state, overtake);
                assert_eq!(next.links[1].from_server.as_slice(), [stat, stat]);
                assert_eq!(
                    next.clients[1].phase,
                    Phase::WaitStat,
                    "ignored while waiting"
                );
            } else {
                assert!(out_of_order.is_empty());
            }
        }
    }

    #[test]
    fn reading_session_expired_discards_what_follows_it() {
        let model = model(|c| c.reordering = true);
        let mut state = model.init_states().swap_remove(0);
        state.clients[0].phase = Phase::WaitChildren;
        state.clients[0].seq = Some(0);
        let children = Reply::Children {
            children: Default::default(),
        };
        state.links[0].from_server = [children, Reply::SessionExpired].into_iter().collect();
        let expired = LockAction::DeliverOutOfOrder {
            from: ActorId::Server,
            to: C0,
            msg: Msg::Reply(Reply::SessionExpired),
        };
        let next = step(&model, &state, expired);
        assert_eq!(next.clients[0].phase, Phase::Abandoned);
        assert!(
            next.links[0].from_server.is_empty(),
            "the closed handle reads nothing"
        );
    }
}

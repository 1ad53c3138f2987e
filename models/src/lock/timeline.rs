//! A lock world's steps as a sequence diagram draws them (see [`crate::timeline`]).
//!
//! What a step did to the channels is found by comparing each channel before and after it. The
//! messages a step consumed itself (its delivery) are taken off first; if what remains still stands
//! at the head of the channel afterwards, everything behind it was sent by the step; if not, the
//! step broke the channel (a lost connection, a crash, a closed session handle), so what remained
//! was lost and everything now on it was sent. That covers every action at once (a server step that
//! replies and fires watches, an expiry that notifies, a connection loss that queues
//! `ConnectionLoss`), so a new action needs only its arm in [`Timeline::step_view`].

use super::action::{LockAction, Msg};
use super::client::Phase;
use super::model::{LockModel, Recipe};
use super::state::{Links, LockState};
use crate::actor::ActorId;
use crate::timeline::{Condition, Message, MessageEvent, StepKind, StepView, Timeline};
use crate::zookeeper::{ClientId, SessionState, ZkService};

fn message(from: ActorId, to: ActorId, label: impl ToString) -> Message {
    Message {
        from: from.to_string(),
        to: to.to_string(),
        label: label.to_string(),
    }
}

/// Which message, by its position on one of a client's channels, a step consumed.
#[derive(Clone, Copy, Default)]
struct Consumed {
    to_server: Option<usize>,
    from_server: Option<usize>,
    to_resource: bool,
    from_resource: bool,
}

impl Consumed {
    fn of(action: &LockAction, client: ActorId) -> Consumed {
        let (from, to, msg, at) = match *action {
            LockAction::Deliver { from, to, msg } => (from, to, msg, 0),
            LockAction::EventThreadFirst { from, to, msg } => (from, to, msg, 1),
            LockAction::StartAcquire { .. }
            | LockAction::UseResource { .. }
            | LockAction::Release { .. }
            | LockAction::ExpireSession { .. }
            | LockAction::LoseConnection { .. }
            | LockAction::Pause { .. }
            | LockAction::CrashClient { .. }
            | LockAction::Resume { .. }
            | LockAction::Partition { .. }
            | LockAction::ReadTimeout
            | LockAction::Heal
            | LockAction::CrashServer
            | LockAction::RestartServer
            | LockAction::Ensemble(_) => return Consumed::default(),
        };
        if from != client && to != client {
            return Consumed::default();
        }
        match msg {
            Msg::Request(_) => Consumed {
                to_server: Some(at),
                ..Consumed::default()
            },
            Msg::Reply(_) => Consumed {
                from_server: Some(at),
                ..Consumed::default()
            },
            Msg::Write { .. } => Consumed {
                to_resource: true,
                ..Consumed::default()
            },
            Msg::WriteResult { .. } => Consumed {
                from_resource: true,
                ..Consumed::default()
            },
        }
    }
}

/// What happened on one channel from `from` to `to` (labels in channel order), given the message
/// the step consumed from it: see the module doc.
fn channel_events(
    from: ActorId,
    to: ActorId,
    mut before: Vec<String>,
    consumed: Option<usize>,
    after: Vec<String>,
    events: &mut Vec<MessageEvent>,
) {
    if let Some(at) = consumed.filter(|&at| at < before.len()) {
        before.remove(at);
    }
    let kept = after.len() >= before.len() && after[..before.len()] == before[..];
    let new = if kept {
        &after[before.len()..]
    } else {
        for label in &before {
            events.push(MessageEvent::Lost(message(from, to, label)));
        }
        &after[..]
    };
    for label in new {
        events.push(MessageEvent::Sent(message(from, to, label)));
    }
}

/// The losses and sends on `client`'s channels in a step.
fn link_events(
    client: ActorId,
    server: ActorId,
    before: &Links,
    after: &Links,
    consumed: Consumed,
    events: &mut Vec<MessageEvent>,
) {
    let labels = |items: &mut dyn Iterator<Item = String>| items.collect::<Vec<_>>();
    let requests = |links: &Links| labels(&mut links.to_server.iter().map(ToString::to_string));
    let replies = |links: &Links| labels(&mut links.from_server.iter().map(|r| r.to_string()));
    let write = |links: &Links| {
        labels(
            &mut links
                .to_resource
                .map(|token| Msg::Write { token }.to_string())
                .into_iter(),
        )
    };
    let result = |links: &Links| {
        labels(
            &mut links
                .from_resource
                .map(|accepted| Msg::WriteResult { accepted }.to_string())
                .into_iter(),
        )
    };
    let resource = ActorId::Resource;
    channel_events(
        client,
        server,
        requests(before),
        consumed.to_server,
        requests(after),
        events,
    );
    channel_events(
        server,
        client,
        replies(before),
        consumed.from_server,
        replies(after),
        events,
    );
    let write_taken = consumed.to_resource.then_some(0);
    channel_events(
        client,
        resource,
        write(before),
        write_taken,
        write(after),
        events,
    );
    let result_taken = consumed.from_resource.then_some(0);
    channel_events(
        resource,
        client,
        result(before),
        result_taken,
        result(after),
        events,
    );
}

/// The actor a partition step is drawn on: the first actor cut off.
fn first_member(cut: crate::actor::Group) -> ActorId {
    cut.members().next().unwrap_or(ActorId::Server)
}

impl<Z: ZkService> Timeline for LockModel<Z> {
    fn lifelines(&self) -> Vec<String> {
        let mut actors: Vec<String> = (0..self.config.clients)
            .map(|c| ActorId::Client(c).to_string())
            .collect();
        actors.extend(Z::servers(&self.zk).iter().map(|s| s.to_string()));
        if self.config.recipe == Recipe::Fenced {
            actors.push(ActorId::Resource.to_string());
        }
        actors
    }

    fn step_view(&self, before: &LockState<Z>, action: &LockAction) -> StepView {
        let mut events = Vec::new();
        let (actor, kind, label) = match *action {
            LockAction::StartAcquire { client } => {
                (client, StepKind::Local, "starts to acquire".to_string())
            }
            LockAction::UseResource { client } => {
                (client, StepKind::Local, "writes to the resource".into())
            }
            LockAction::Release { client } => (client, StepKind::Local, "releases".into()),
            LockAction::Deliver { from, to, msg } => {
                events.push(MessageEvent::Delivered(message(from, to, msg)));
                (to, StepKind::Deliver, msg.to_string())
            }
            LockAction::EventThreadFirst { from, to, msg } => {
                events.push(MessageEvent::Delivered(message(from, to, msg)));
                (to, StepKind::Deliver, format!("{msg} (event thread first)"))
            }
            LockAction::ExpireSession { client } => (
                before.zk.expiring_server(),
                StepKind::Fault,
                format!("expires {client}'s session"),
            ),
            LockAction::LoseConnection { client } => {
                (client, StepKind::Fault, "connection breaks".into())
            }
            LockAction::Pause { client } => (client, StepKind::Fault, "pauses".into()),
            LockAction::CrashClient { client } => (client, StepKind::Fault, "crashes".into()),
            LockAction::Resume { client } => (client, StepKind::Recover, "resumes".into()),
            LockAction::Partition { cut } => (
                first_member(cut),
                StepKind::Fault,
                format!("partition: {cut} cut off"),
            ),
            LockAction::ReadTimeout => (
                first_member(before.cut),
                StepKind::Fault,
                "read timeout: connection lost".into(),
            ),
            LockAction::Heal => (first_member(before.cut), StepKind::Recover, "heals".into()),
            LockAction::CrashServer => (ActorId::Server, StepKind::Fault, "crashes".into()),
            LockAction::RestartServer => (ActorId::Server, StepKind::Recover, "restarts".into()),
            LockAction::Ensemble(step) => before.zk.step_actor(step),
        };
        // The state after the step before renaming, so that labels keep the step's own names.
        let after = self.apply(before, *action);
        for (c, (old, new)) in before.links.iter().zip(&after.links).enumerate() {
            let client = ActorId::Client(c as ClientId);
            let server = before.zk.server_of(c as ClientId);
            let consumed = Consumed::of(action, client);
            link_events(client, server, old, new, consumed, &mut events);
        }
        let step = match *action {
            LockAction::Ensemble(step) => Some(step),
            _ => None,
        };
        events.extend(before.zk.server_events(step, &after.zk));
        StepView {
            actor: actor.to_string(),
            kind,
            label,
            events,
        }
    }

    fn conditions(&self, state: &LockState<Z>) -> Vec<(String, Condition)> {
        let mut conditions = Vec::new();
        for (c, client) in state.clients.iter().enumerate() {
            let id = ActorId::Client(c as ClientId);
            let name = id.to_string();
            if client.phase.holds_lock() {
                conditions.push((name.clone(), Condition::CriticalSection));
            }
            if client.paused {
                conditions.push((name.clone(), Condition::Paused));
            }
            if client.phase == Phase::Crashed {
                conditions.push((name.clone(), Condition::Crashed));
            }
            if state.zk.session(c as ClientId) == SessionState::Expired {
                conditions.push((name.clone(), Condition::SessionExpired));
            }
            if state.cut.contains(id) {
                conditions.push((name, Condition::Partitioned));
            }
        }
        if state.server_down {
            conditions.push((ActorId::Server.to_string(), Condition::Crashed));
        }
        if state.cut.contains(ActorId::Resource) {
            conditions.push((ActorId::Resource.to_string(), Condition::Partitioned));
        }
        conditions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::LockConfig;
    use stateright::Model;

    /// Goal: each step of a short run reports the messages it moved. Method: start, serve and read
    /// the create of one client by hand and compare the events.
    #[test]
    fn a_request_and_its_reply_are_sent_then_delivered() {
        let model = LockModel::new(LockConfig::new(Recipe::Standard, 1)).expect("valid");
        let c0 = ActorId::Client(0);
        let start = model.init_states().swap_remove(0);
        let view = model.step_view(&start, &LockAction::StartAcquire { client: c0 });
        assert_eq!((view.actor.as_str(), view.kind), ("C0", StepKind::Local));
        let [MessageEvent::Sent(create)] = view.events.as_slice() else {
            panic!("one send expected: {:?}", view.events)
        };
        assert_eq!((create.from.as_str(), create.to.as_str()), ("C0", "S"));

        let sent = model.apply(&start, LockAction::StartAcquire { client: c0 });
        let request = sent.links[0].to_server[0];
        let serve = LockAction::Deliver {
            from: c0,
            to: ActorId::Server,
            msg: Msg::Request(request),
        };
        let view = model.step_view(&sent, &serve);
        assert_eq!((view.actor.as_str(), view.kind), ("S", StepKind::Deliver));
        assert_eq!(view.events.len(), 2, "{:?}", view.events);
        assert_eq!(view.events[0], MessageEvent::Delivered(create.clone()));
        assert!(
            matches!(&view.events[1], MessageEvent::Sent(reply) if reply.from == "S" && reply.to == "C0")
        );
    }

    /// Goal: a connection loss loses what was in flight and sends `ConnectionLoss`.
    #[test]
    fn a_connection_loss_loses_the_request_in_flight() {
        let config = LockConfig {
            message_loss: 1,
            ..LockConfig::new(Recipe::Standard, 1)
        };
        let model = LockModel::new(config).expect("valid");
        let c0 = ActorId::Client(0);
        let start = model.init_states().swap_remove(0);
        let sent = model.apply(&start, LockAction::StartAcquire { client: c0 });
        let view = model.step_view(&sent, &LockAction::LoseConnection { client: c0 });
        assert_eq!(view.kind, StepKind::Fault);
        assert!(matches!(&view.events[0], MessageEvent::Lost(m) if m.from == "C0"));
        assert!(
            matches!(&view.events[1], MessageEvent::Sent(m) if m.label == "ConnectionLoss"),
            "{:?}",
            view.events
        );
    }

    /// Goal: crashes, partitions and a partition outlasting the read timeout draw as they happen.
    /// Method: take each from a state with a create in flight and compare events and conditions.
    #[test]
    fn crash_partition_and_read_timeout_show_as_events_and_conditions() {
        let config = LockConfig {
            partitions: 1,
            crashes: 1,
            ..LockConfig::new(Recipe::Standard, 1)
        };
        let model = LockModel::new(config).expect("valid");
        let c0 = ActorId::Client(0);
        let start = model.init_states().swap_remove(0);
        let sent = model.apply(&start, LockAction::StartAcquire { client: c0 });

        let view = model.step_view(&sent, &LockAction::CrashServer);
        assert_eq!((view.actor.as_str(), view.kind), ("S", StepKind::Fault));
        assert!(matches!(&view.events[0], MessageEvent::Lost(m) if m.from == "C0"));
        let crashed = model.apply(&sent, LockAction::CrashServer);
        assert!(model
            .conditions(&crashed)
            .contains(&("S".to_string(), Condition::Crashed)));

        let cut = crate::actor::Group::default().with(c0);
        let view = model.step_view(&sent, &LockAction::Partition { cut });
        assert_eq!((view.actor.as_str(), view.kind), ("C0", StepKind::Fault));
        assert!(view.events.is_empty(), "messages wait across the cut");
        let parted = model.apply(&sent, LockAction::Partition { cut });
        assert!(model
            .conditions(&parted)
            .contains(&("C0".to_string(), Condition::Partitioned)));
        let view = model.step_view(&parted, &LockAction::Heal);
        assert_eq!((view.actor.as_str(), view.kind), ("C0", StepKind::Recover));
        let view = model.step_view(&parted, &LockAction::ReadTimeout);
        assert_eq!((view.actor.as_str(), view.kind), ("C0", StepKind::Fault));
        assert!(
            matches!(view.events.as_slice(), [MessageEvent::Lost(lost), MessageEvent::Sent(loss)]
                if lost.from == "C0" && loss.label == "ConnectionLoss"),
            "{:?}",
            view.events
        );
    }

    #[test]
    fn the_explorer_svg_spells_out_the_state() {
        let model = LockModel::new(LockConfig::new(Recipe::Standard, 2)).expect("valid");
        let state = model.init_states().swap_remove(0);
        let svg = crate::timeline::state_svg(&crate::Explain::describe_state(&model, &state));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(">C0 is idle (not acquiring)"), "{svg}");
        assert!(svg.contains("C0→S []"), "{svg}");
    }

    #[test]
    fn conditions_name_holders_and_expired_sessions() {
        let model = LockModel::new(LockConfig::new(Recipe::Fenced, 2)).expect("valid");
        assert_eq!(model.lifelines(), ["C0", "C1", "S", "R"]);
        let mut state = model.init_states().swap_remove(0);
        state.clients[1].phase = crate::lock::Phase::InCs;
        state.clients[0].paused = true;
        assert_eq!(
            model.conditions(&state),
            [
                ("C0".to_string(), Condition::Paused),
                ("C1".to_string(), Condition::CriticalSection)
            ]
        );
    }
}

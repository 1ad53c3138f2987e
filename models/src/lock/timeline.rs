//! A lock world's steps as a sequence diagram draws them (see [`crate::timeline`]).
//!
//! Sends are found by comparing each channel before and after the step: whatever the step did not
//! consume and now stands at the tail was sent by it. That covers every action at once (a server
//! step that replies and fires watches, an expiry that notifies, a connection loss that queues
//! `ConnectionLoss`), so a new action needs only its arm in [`Timeline::step_view`].

use super::action::{LockAction, Msg};
use super::model::{LockModel, Recipe};
use super::state::{Links, LockState};
use crate::actor::ActorId;
use crate::timeline::{Condition, Message, MessageEvent, StepKind, StepView, Timeline};
use crate::zookeeper::{ClientId, SessionState};

fn message(from: ActorId, to: ActorId, label: impl ToString) -> Message {
    Message {
        from: from.to_string(),
        to: to.to_string(),
        label: label.to_string(),
    }
}

/// How much of one client's channels a step took off the head (delivered or lost), so that what
/// stands behind it afterwards is known to be new.
#[derive(Clone, Copy, Default)]
struct Consumed {
    to_server: usize,
    from_server: usize,
    to_resource: bool,
    from_resource: bool,
}

impl Consumed {
    fn of(action: &LockAction, client: ActorId, links: &Links) -> Consumed {
        match *action {
            LockAction::Deliver { from, to, msg } if from == client || to == client => match msg {
                Msg::Request(_) => Consumed {
                    to_server: 1,
                    ..Consumed::default()
                },
                Msg::Reply(_) => Consumed {
                    from_server: 1,
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
            },
            LockAction::LoseConnection { client: lost } if lost == client => Consumed {
                to_server: links.to_server.len(),
                from_server: links.from_server.len(),
                ..Consumed::default()
            },
            LockAction::StartAcquire { .. }
            | LockAction::UseResource { .. }
            | LockAction::Release { .. }
            | LockAction::Deliver { .. }
            | LockAction::ExpireSession { .. }
            | LockAction::LoseConnection { .. }
            | LockAction::Pause { .. }
            | LockAction::Resume { .. } => Consumed::default(),
        }
    }
}

/// The messages `client`'s channels gained in a step, given what the step consumed.
fn sends(client: ActorId, before: &Links, after: &Links, consumed: Consumed) -> Vec<Message> {
    let kept = |old: usize, taken: usize| old - taken.min(old);
    let mut sent = Vec::new();
    let requests = kept(before.to_server.len(), consumed.to_server);
    for request in after.to_server.iter().skip(requests) {
        sent.push(message(client, ActorId::Server, request));
    }
    let replies = kept(before.from_server.len(), consumed.from_server);
    for reply in after.from_server.iter().skip(replies) {
        sent.push(message(ActorId::Server, client, reply));
    }
    let write_kept = before.to_resource.is_some() && !consumed.to_resource;
    if let (Some(token), false) = (after.to_resource, write_kept) {
        sent.push(message(client, ActorId::Resource, Msg::Write { token }));
    }
    let result_kept = before.from_resource.is_some() && !consumed.from_resource;
    if let (Some(accepted), false) = (after.from_resource, result_kept) {
        sent.push(message(
            ActorId::Resource,
            client,
            Msg::WriteResult { accepted },
        ));
    }
    sent
}

impl Timeline for LockModel {
    fn lifelines(&self) -> Vec<String> {
        let mut actors: Vec<String> = (0..self.config.clients)
            .map(|c| ActorId::Client(c).to_string())
            .collect();
        actors.push(ActorId::Server.to_string());
        if self.config.recipe == Recipe::Fenced {
            actors.push(ActorId::Resource.to_string());
        }
        actors
    }

    fn step_view(&self, before: &LockState, action: &LockAction) -> StepView {
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
            LockAction::ExpireSession { client } => (
                ActorId::Server,
                StepKind::Fault,
                format!("expires {client}'s session"),
            ),
            LockAction::LoseConnection { client } => {
                let ActorId::Client(c) = client else {
                    panic!("{client} is not a client")
                };
                let links = &before.links[usize::from(c)];
                for request in &links.to_server {
                    events.push(MessageEvent::Lost(message(
                        client,
                        ActorId::Server,
                        request,
                    )));
                }
                for reply in &links.from_server {
                    events.push(MessageEvent::Lost(message(ActorId::Server, client, reply)));
                }
                (client, StepKind::Fault, "connection breaks".into())
            }
            LockAction::Pause { client } => (client, StepKind::Fault, "pauses".into()),
            LockAction::Resume { client } => (client, StepKind::Recover, "resumes".into()),
        };
        // The state after the step before renaming, so that labels keep the step's own names.
        let after = self.apply(before, *action);
        for (c, (old, new)) in before.links.iter().zip(&after.links).enumerate() {
            let client = ActorId::Client(c as ClientId);
            let consumed = Consumed::of(action, client, old);
            events.extend(
                sends(client, old, new, consumed)
                    .into_iter()
                    .map(MessageEvent::Sent),
            );
        }
        StepView {
            actor: actor.to_string(),
            kind,
            label,
            events,
        }
    }

    fn conditions(&self, state: &LockState) -> Vec<(String, Condition)> {
        let mut conditions = Vec::new();
        for (c, client) in state.clients.iter().enumerate() {
            let name = ActorId::Client(c as ClientId).to_string();
            if client.phase.holds_lock() {
                conditions.push((name.clone(), Condition::CriticalSection));
            }
            if client.paused {
                conditions.push((name.clone(), Condition::Paused));
            }
            if state.server.session(c as ClientId) == SessionState::Expired {
                conditions.push((name, Condition::SessionExpired));
            }
        }
        conditions
    }
}

/// The world state as a small SVG of text lines, for stateright's Explorer, which draws a model's
/// SVG above the state it shows (on a dark panel, hence the white background).
pub(super) fn state_svg(model: &LockModel, state: &LockState) -> String {
    use crate::Explain;
    let text = model.describe_state(state);
    let lines: Vec<&str> = text.lines().collect();
    let width = 20 + 8 * lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let height = 16 + 18 * lines.len();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
    );
    for (i, line) in lines.iter().enumerate() {
        let escaped = line
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        svg.push_str(&format!(
            "<text x=\"10\" y=\"{}\" font-family=\"monospace\" font-size=\"13\" xml:space=\"preserve\" fill=\"#212121\">{escaped}</text>",
            20 + 18 * i
        ));
    }
    svg.push_str("</svg>");
    svg
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

    #[test]
    fn the_explorer_svg_spells_out_the_state() {
        let model = LockModel::new(LockConfig::new(Recipe::Standard, 2)).expect("valid");
        let state = model.init_states().swap_remove(0);
        let svg = state_svg(&model, &state);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(">C0: Init"), "{svg}");
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

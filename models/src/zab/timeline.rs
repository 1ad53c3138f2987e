//! A ZAB world's steps as a sequence diagram draws them (see [`crate::timeline`]).
//!
//! Messages travel in one list, oldest first, and FLE notifications in another, so what a step
//! did to them is a comparison of the two lists before and after it: the message a delivery
//! consumed is taken off first; of the rest, those gone afterwards were lost (a crash or a
//! partition closed their connection, or a newer notification replaced an unread one), and those
//! new afterwards were sent.

use stateright::Model;

use super::action::ZabAction;
use super::model::ZabModel;
use super::state::ZabState;
use super::types::{Notice, Packet, Sid};
use crate::timeline::{Condition, Message, MessageEvent, StepKind, StepView, Timeline};

fn name(server: Sid) -> String {
    format!("S{server}")
}

fn message(packet: &Packet) -> Message {
    Message {
        from: name(packet.from),
        to: name(packet.to),
        label: packet.msg.to_string(),
    }
}

fn notice(notice: &Notice) -> Message {
    Message {
        from: name(notice.from),
        to: name(notice.to),
        label: notice.notification.to_string(),
    }
}

/// Every message in flight in `state`: follower–leader packets, then FLE notifications.
fn in_flight(state: &ZabState) -> Vec<Message> {
    let packets = state.net.iter().map(message);
    packets
        .chain(state.election_net.iter().map(notice))
        .collect()
}

/// The messages of `after` that are not in `before` (as multisets, in `after`'s order), and the
/// messages of `before` that are not in `after`.
fn difference(before: &[Message], after: &[Message]) -> (Vec<Message>, Vec<Message>) {
    let mut gone: Vec<Message> = before.to_vec();
    let mut new = Vec::new();
    for packet in after {
        match gone.iter().position(|p| p == packet) {
            Some(at) => {
                gone.remove(at);
            }
            None => new.push(packet.clone()),
        }
    }
    (new, gone)
}

impl Timeline for ZabModel {
    fn lifelines(&self) -> Vec<String> {
        (0..self.config.servers).map(name).collect()
    }

    fn step_view(&self, before: &ZabState, action: &ZabAction) -> StepView {
        let after = self
            .next_state(before, action.clone())
            .expect("a ZAB step always has a next state");
        let mut events = Vec::new();
        let mut remaining = in_flight(before);
        let (actor, kind) = match *action {
            ZabAction::Deliver { from, to, ref msg } => {
                let delivered = message(&Packet {
                    from,
                    to,
                    msg: *msg,
                });
                let at = remaining
                    .iter()
                    .position(|m| *m == delivered)
                    .expect("the delivered message is in flight");
                events.push(MessageEvent::Delivered(remaining.remove(at)));
                (to, StepKind::Deliver)
            }
            ZabAction::Notify {
                from,
                to,
                notification,
            } => {
                let delivered = notice(&Notice {
                    from,
                    to,
                    notification,
                });
                let at = remaining
                    .iter()
                    .position(|m| *m == delivered)
                    .expect("the delivered notification is in flight");
                events.push(MessageEvent::Delivered(remaining.remove(at)));
                (to, StepKind::Deliver)
            }
            ZabAction::Elect { leader, .. } => (leader, StepKind::Local),
            ZabAction::Join { server, .. }
            | ZabAction::Decide { server }
            | ZabAction::LogSynced { server }
            | ZabAction::AckNewLeader { server }
            | ZabAction::ApplyCommitted { server }
            | ZabAction::LogProposal { server }
            | ZabAction::LogOrphan { server }
            | ZabAction::Timeout { server } => (server, StepKind::Local),
            ZabAction::ClientRequest { leader } => (leader, StepKind::Local),
            ZabAction::Crash { server } | ZabAction::SpuriousTimeout { server } => {
                (server, StepKind::Fault)
            }
            ZabAction::Restart { server } => (server, StepKind::Recover),
            // A partition and its heal happen to the network; they are drawn on the first server
            // of the side cut off (S0 is never in it) or, for a heal, on S0.
            ZabAction::Partition { side } => (
                super::types::members(side).next().unwrap_or(0),
                StepKind::Fault,
            ),
            ZabAction::Heal => (0, StepKind::Recover),
        };
        let (sent, lost) = difference(&remaining, &in_flight(&after));
        events.extend(lost.into_iter().map(MessageEvent::Lost));
        events.extend(sent.into_iter().map(MessageEvent::Sent));
        let label = match action {
            ZabAction::Deliver { msg, .. } => msg.to_string(),
            ZabAction::Notify { notification, .. } => notification.to_string(),
            other => other.to_string(),
        };
        StepView {
            actor: name(actor),
            kind,
            label,
            events,
        }
    }

    fn conditions(&self, state: &ZabState) -> Vec<(String, Condition)> {
        let mut conditions = Vec::new();
        for (sid, server) in state.servers.iter().enumerate() {
            let sid = sid as Sid;
            if !server.up {
                conditions.push((name(sid), Condition::Crashed));
            }
            if state.cut_off & (1 << sid) != 0 {
                conditions.push((name(sid), Condition::Partitioned));
            }
            if server.up && server.leading().is_some() {
                conditions.push((name(sid), Condition::Leading));
            }
        }
        conditions
    }
}

#[cfg(test)]
mod tests {
    use stateright::Model;

    use super::*;
    use crate::zab::ZabConfig;

    #[test]
    fn a_delivery_shows_the_packet_consumed_and_the_replies_sent() {
        let model = ZabModel::new(ZabConfig::new(3, 1)).expect("valid");
        let state = model.init_states().swap_remove(0);
        let elect = ZabAction::Elect {
            leader: 1,
            quorum: 0b011,
        };
        let view = model.step_view(&state, &elect);
        assert_eq!((view.actor.as_str(), view.kind), ("S1", StepKind::Local));
        let sent: Vec<&Message> = view
            .events
            .iter()
            .filter_map(|e| match e {
                MessageEvent::Sent(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(sent.len(), 1, "S0 sends FOLLOWERINFO to S1");
        assert_eq!((sent[0].from.as_str(), sent[0].to.as_str()), ("S0", "S1"));
        let elected = model.next_state(&state, elect).expect("a next state");
        assert!(model
            .conditions(&elected)
            .contains(&("S1".to_string(), Condition::Leading)));
        let packet = elected.net[0];
        let deliver = ZabAction::Deliver {
            from: packet.from,
            to: packet.to,
            msg: packet.msg,
        };
        let view = model.step_view(&elected, &deliver);
        assert_eq!(view.kind, StepKind::Deliver);
        assert!(
            matches!(&view.events[0], MessageEvent::Delivered(m) if m.from == "S0" && m.to == "S1")
        );
    }

    #[test]
    fn the_explorer_svg_spells_out_the_servers() {
        let model = ZabModel::new(ZabConfig::new(3, 1)).expect("valid");
        let state = model.init_states().swap_remove(0);
        let svg = crate::timeline::state_svg(&crate::Explain::describe_state(&model, &state));
        assert!(svg.starts_with("<svg") && svg.contains("S0"), "{svg}");
    }
}

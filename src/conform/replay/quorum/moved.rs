//! What the harness does not replay of a session that moves between servers (SessionMoved,
//! ZOOKEEPER-710): each such step is refused by name, with exit code 2, rather than guessed at.

use lockscope_models::ensemble::Ensemble;
use lockscope_models::lock::LockAction;
use lockscope_models::zookeeper::{ClientId, LockTxn, Reply};

/// Why the harness cannot replay `action`, the step from `before` to `after` of a world on an
/// ensemble, if it is one of a moving session's: a client's own connection breaking while its
/// server keeps serving (the real client library would reconnect by itself, where the model moves
/// it by a step of its own, and a write its server was forwarding would reach the leader at a
/// moment the harness does not choose), a revalidation that changes the owner the leader's
/// tracker records, or a write the leader refuses with `SessionMoved`.
pub(in crate::conform::replay) fn moved_session(
    action: LockAction,
    before: &Ensemble,
    after: &Ensemble,
) -> Option<String> {
    if let LockAction::LoseConnection { client } = action {
        return Some(format!(
            "{action}: conform does not replay a client's own connection break on an ensemble yet ({client}'s late write and its move to another server)"
        ));
    }
    let clients = before.connections.len() as ClientId;
    for (leader, (was, now)) in before.trackers.iter().zip(&after.trackers).enumerate() {
        if let Some(c) = (0..clients).find(|&c| {
            was.is_tracked(c)
                && now.is_tracked(c)
                && was.owner(c).is_some()
                && was.owner(c) != now.owner(c)
        }) {
            return Some(format!(
                "{action}: S{leader}'s tracker moves C{c}'s session from S{} to S{}: conform does not replay a change of a session's owner yet",
                was.owner(c).map_or(0, |s| s),
                now.owner(c).map_or(0, |s| s)
            ));
        }
    }
    let moved = after.txns[before.txns.len()..]
        .iter()
        .find_map(|txn| match *txn {
            LockTxn::Error {
                client,
                reply: Reply::SessionMoved,
            } => Some(client),
            _ => None,
        });
    moved.map(|client| {
        format!(
            "{action}: the leader refuses C{client}'s write with SessionMoved: conform does not replay SessionMoved yet"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockscope_models::ensemble::{EnsembleConfig, EnsembleStep};
    use lockscope_models::lock::{LockConfig, LockModel, Recipe};
    use lockscope_models::zab::ZabConfig;
    use lockscope_models::zookeeper::ServerFlaw;
    use stateright::Model;

    /// Goal: each step of a moving session that the harness cannot replay is refused by name:
    /// the client's own connection break, the revalidation that moves the owner, and the late
    /// write refused SessionMoved; an ordinary step is not. Method: zk-710-fixed's world, with
    /// each step found in its reachable states.
    #[test]
    fn the_steps_of_a_moving_session_are_refused_by_name() {
        let config = LockConfig {
            message_loss: 1,
            ..LockConfig::new(Recipe::Curator, 1)
        };
        let ensemble = EnsembleConfig {
            late_forwards: true,
            flaw: None::<ServerFlaw>,
            ..EnsembleConfig::new(
                ZabConfig::new(3, 0),
                [0; lockscope_models::zookeeper::MAX_CLIENTS],
            )
        };
        let model = LockModel::on_ensemble(config, ensemble).expect("valid");
        let mut found = [false; 4];
        let mut frontier = model.init_states();
        let mut actions = Vec::new();
        for _ in 0..14 {
            let mut next = Vec::new();
            for state in &frontier {
                actions.clear();
                model.actions(state, &mut actions);
                for &action in &actions {
                    let after = model.next_state(state, action).expect("a step");
                    let refusal = moved_session(action, &state.zk, &after.zk);
                    next.push(after);
                    let kind = match (action, &refusal) {
                        (LockAction::LoseConnection { .. }, Some(r)) => {
                            assert!(r.contains("own connection break"), "{r}");
                            0
                        }
                        (LockAction::Ensemble(EnsembleStep::Reconnect { .. }), Some(r)) => {
                            assert!(r.contains("change of a session's owner"), "{r}");
                            1
                        }
                        (LockAction::Ensemble(EnsembleStep::Deliver { .. }), Some(r)) => {
                            assert!(r.contains("SessionMoved"), "{r}");
                            2
                        }
                        (LockAction::StartAcquire { .. }, None) => 3,
                        (_, None) => continue,
                        (action, Some(r)) => panic!("{action} refused: {r}"),
                    };
                    found[kind] = true;
                }
            }
            next.sort_by_key(|s| format!("{s:?}"));
            next.dedup();
            next.truncate(4_000);
            frontier = next;
        }
        assert_eq!(found, [true; 4], "every kind of step met");
    }
}

//! `[timing]`: the timing assumptions under which an ensemble's leader may expire a session
//! (docs/design/ensemble.md, §5.5). The model has no clock, so each assumption is a named
//! condition on when the expiry step is enabled, stated in the scenario and printed with every
//! report.

use crate::zookeeper::ClientView;

/// The timing assumptions a world is checked under; all false by default, which lets the leader
/// expire a live session at any moment (the single server's reading, the worst case).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// A session expires only while the quorum hears nothing from its client (paused, crashed,
    /// disconnected, or connected to a server cut off from the leader): pings keep a healthy
    /// client's session alive.
    #[serde(default)]
    pub expiry_needs_silence: bool,
    /// Implies `expiry_needs_silence`: a client that is not paused has read `Disconnected`
    /// before its session can expire (the read timeout, 2/3 of the session timeout, fires first).
    #[serde(default)]
    pub disconnect_before_expiry: bool,
}

impl Timing {
    /// Whether a leader must wait, before it expires any session, until no server serves for an
    /// older leader. It rests on what `disconnect_before_expiry` rests on, `syncLimit × tickTime`
    /// shorter than the session timeout: an old leader cut off from its quorum steps down (and
    /// its followers with it) within `syncLimit` ticks of losing it, a quorum left it before the
    /// new leader was established, and the new leader re-arms every session with a whole timeout
    /// when it is. So while an old leader still answers reads and revalidates reconnecting
    /// sessions, no session it serves can have expired at the new one.
    pub fn expiry_waits_for_old_leaders(&self) -> bool {
        self.disconnect_before_expiry
    }

    /// No assumption: the table is left out of traces.
    pub fn is_default(&self) -> bool {
        *self == Timing::default()
    }

    /// Whether these assumptions let the leader expire the session of a client in `client`'s
    /// situation, `heard` saying whether the leader hears from it (it has a connection to a
    /// server that reaches the leader). Silence: the client is paused or not heard. Disconnect
    /// before expiry: a running client has read `Disconnected` (its read timeout fired before the
    /// session timeout could), while a paused client may be expired at any time, which is what
    /// a pause breaks.
    pub fn allows_expiry(&self, client: ClientView, heard: bool) -> bool {
        if self.disconnect_before_expiry {
            client.paused || client.read_disconnected
        } else if self.expiry_needs_silence {
            client.paused || !heard
        } else {
            true
        }
    }
}

#[cfg(test)]
impl Timing {
    /// Each assumption alone.
    pub(super) fn each_alone() -> [Timing; 2] {
        [
            Timing {
                expiry_needs_silence: true,
                disconnect_before_expiry: false,
            },
            Timing {
                expiry_needs_silence: false,
                disconnect_before_expiry: true,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: each assumption is a guard, none holds back a paused client, silence lets an unheard
    /// client expire and only a read `Disconnected` lets a running one expire under the second.
    /// Method: every assumption against every client situation.
    #[test]
    fn assumptions_guard_the_expiry_of_a_running_client() {
        let view = |paused, read_disconnected| ClientView {
            paused,
            read_disconnected,
        };
        let [silence, disconnect] = Timing::each_alone();
        for (client, heard) in [(view(false, false), true), (view(true, false), true)] {
            assert!(Timing::default().allows_expiry(client, heard));
        }
        for timing in [silence, disconnect] {
            assert!(
                !timing.allows_expiry(view(false, false), true),
                "{timing:?}"
            );
            assert!(timing.allows_expiry(view(true, false), true), "{timing:?}");
            assert!(timing.allows_expiry(view(false, true), false), "{timing:?}");
        }
        assert!(silence.allows_expiry(view(false, false), false));
        assert!(
            !disconnect.allows_expiry(view(false, false), false),
            "not heard, but it has not read Disconnected yet"
        );
    }
}

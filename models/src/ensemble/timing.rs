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
    /// No assumption: the table is left out of traces.
    pub fn is_default(&self) -> bool {
        *self == Timing::default()
    }

    /// Whether these assumptions let the leader expire the session of a client in `client`'s
    /// situation. Without connection state (no connection loss or reconnection yet) the quorum
    /// stops hearing from a client only while it is paused, and a client that runs could have
    /// read `Disconnected` only after losing its connection: both assumptions come down to a
    /// pause. Connection loss will add the disconnected client, and the one whose server is cut
    /// off from the leader, to the silent ones, and a read `Disconnected` to the second.
    pub fn allows_expiry(&self, client: ClientView) -> bool {
        let assumes_silence = self.expiry_needs_silence || self.disconnect_before_expiry;
        !assumes_silence || client.paused
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

    /// Goal: each assumption is a guard, and none holds back a paused client, whose session
    /// the quorum no longer hears. Method: every assumption against a running and a paused client.
    #[test]
    fn assumptions_allow_the_expiry_of_a_paused_client_only() {
        let running = ClientView { paused: false };
        let paused = ClientView { paused: true };
        let none = Timing::default();
        assert!(none.allows_expiry(running) && none.allows_expiry(paused));
        for timing in Timing::each_alone() {
            assert!(!timing.allows_expiry(running), "{timing:?}");
            assert!(timing.allows_expiry(paused), "{timing:?}");
        }
    }
}

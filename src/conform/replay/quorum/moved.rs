//! A session that moves between servers (ZOOKEEPER-710's setting), made real: a client's own
//! connection breaks while its server keeps serving. The harness closes that connection; the
//! server goes on forwarding what the client had sent, which the proxies hold like any
//! packet between servers and release at the model's step. The client reconnects to another
//! server at the model's `Reconnect` step, whose revalidation makes that server the session's
//! owner at the leader; a write its old server forwarded and the leader takes after that is
//! refused `SessionMoved`, an error transaction proposed like any other.

use super::*;

impl<Z: Replayed> Harness<'_, Z> {
    /// `c`'s own connection breaks (the model's `LoseConnection` on an ensemble): the harness
    /// closes it. The library fails the request it waits on with `ConnectionLoss` (what was in
    /// flight on the connection is lost) and reports `Disconnected`; it reconnects at the model's
    /// `Reconnect` step.
    pub(in crate::conform::replay) fn break_own_connection(
        &mut self,
        c: usize,
        after: &LockState<Z>,
    ) -> Done {
        let server = self.clients[c].server;
        self.clients[c].lose_connection();
        let text = format!(
            "the harness closes {}'s connection to S{server}, which keeps serving (what it is forwarding still reaches the leader); the library reports ConnectionLoss, then Disconnected",
            name(c)
        );
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }
}

//! Moving frames: a held request onto the wire, what arrived into a client's incoming queue,
//! and the ping that shows nothing more is in flight.

use super::*;

impl<Z: Replayed> Harness<'_, Z> {
    /// Take what has arrived on `c`'s connection into its incoming queue; with a deadline, wait
    /// until something arrives or the connection closes. Returns whether anything came.
    pub(super) fn receive(&mut self, c: usize, deadline: Option<Instant>) -> Result<bool, Failure> {
        let mut got = false;
        loop {
            let Some(conn) = self.clients[c].conn.as_mut() else {
                return Ok(got);
            };
            let received = match deadline {
                Some(deadline) if !got => conn.next_before(deadline),
                _ => conn.try_next(),
            };
            match received {
                None => return Ok(got),
                Some(Received::Closed) => return Ok(true),
                Some(Received::Frame(frame)) => {
                    got = true;
                    self.take_frame(c, frame)?;
                }
            }
        }
    }

    /// Take everything the server has sent `c` so far: a ping goes through the server's request
    /// pipeline behind every request before it, and a connection's frames arrive in the order
    /// the server sent them, so all that the earlier steps made the server send to `c` arrives
    /// before the ping's answer.
    pub(super) fn barrier(&mut self, c: usize) -> Result<(), Failure> {
        // On an ensemble a ping waits behind the client's own writes that are not committed
        // (`CommitProcessor` keeps a session's order), which a step may be holding.
        let awaits_write = self.clients[c]
            .sent
            .iter()
            .any(|(_, sent)| sent.as_ref().is_some_and(|(request, _)| !request.is_read()));
        let Some(conn) = self.clients[c].conn.as_mut() else {
            return Ok(());
        };
        if conn.is_closed() || (self.target.ensemble.is_some() && awaits_write) {
            return self.receive(c, None).map(|_| ());
        }
        conn.send_with_xid(xid::PING, op::PING, |out| out)
            .map_err(|e| unrealisable(format!("cannot ping the server for {}: {e}", name(c))))?;
        let deadline = Instant::now() + WAIT;
        loop {
            let conn = self.clients[c].conn.as_mut().expect("checked above");
            match conn.next_before(deadline) {
                Some(Received::Frame(frame)) if frame.xid == xid::PING => return Ok(()),
                Some(Received::Frame(frame)) => self.take_frame(c, frame)?,
                Some(Received::Closed) => return Ok(()),
                None => {
                    return Err(unrealisable(format!(
                        "the server did not answer {}'s ping within {WAIT:?}",
                        name(c)
                    )))
                }
            }
        }
    }

    /// File one received frame: a watch event, or the reply to a request sent.
    pub(super) fn take_frame(&mut self, c: usize, frame: wire::ReplyFrame) -> Result<(), Failure> {
        let root = self.root.clone();
        let client = &mut self.clients[c];
        if frame.xid == xid::NOTIFICATION {
            let (mut arrived, path) =
                decode_event(&root, &frame).map_err(|e| diverged(e.clone(), e))?;
            if let Reply::Event { kind, .. } = arrived.reply {
                arrived.fired = fire(&mut client.watches, kind, &path);
            }
            client.incoming.push_back(arrived);
            return Ok(());
        }
        if frame.xid < 0 {
            // The answer to setWatches (or a ping): the library's own business.
            return Ok(());
        }
        let Some(at) = client.sent.iter().position(|(x, _)| *x == frame.xid) else {
            return Err(diverged(
                format!("a reply to xid {} nobody asked for", frame.xid),
                "the server answered a request that was not sent",
            ));
        };
        let Some((request, path)) = client.sent.remove(at).1 else {
            return Ok(());
        };
        let mut arrived = decode_reply(&root, request, &frame, &client.protection)
            .map_err(|e| diverged(e.clone(), e))?;
        if let Some(kind) = watch_left(request, &arrived) {
            let watch = RealWatch { path, kind };
            client.watches.push(watch.clone());
            arrived.left = Some(watch);
        }
        client.incoming.push_back(arrived);
        Ok(())
    }

    /// Write `request` on `c`'s connection; returns it in real terms.
    pub(super) fn send(&mut self, c: usize, request: Request) -> Result<String, Failure> {
        let real_text;
        let (op, path, watch, flags) = match request {
            Request::Create { path, mode } => {
                let mut real = self.real_path(path)?;
                if mode.is_sequential() {
                    if self.model.config.recipe == Recipe::Curator {
                        real.push_str(&format!("/_c_{}-lock-", self.clients[c].protection));
                    } else {
                        real.push_str("/lock-");
                    }
                }
                real_text = format!("create({real}, {})", mode_name(mode));
                (op::CREATE2, real, false, wire::create_flags(mode))
            }
            Request::GetChildren { path, watch } => {
                let real = self.real_path(path)?;
                real_text = format!("getChildren({real}{})", watch_text(watch));
                (op::GET_CHILDREN, real, watch, 0)
            }
            Request::Exists { path, watch } => {
                let real = self.real_path(path)?;
                real_text = format!("exists({real}{})", watch_text(watch));
                (op::EXISTS, real, watch, 0)
            }
            Request::GetData { path, watch } => {
                let real = self.real_path(path)?;
                real_text = format!("getData({real}{})", watch_text(watch));
                (op::GET_DATA, real, watch, 0)
            }
            Request::Delete { path, .. } => {
                let real = self.real_path(path)?;
                real_text = format!("delete({real})");
                (op::DELETE, real, false, 0)
            }
            Request::Sync { path } => {
                let real = self.real_path(path)?;
                real_text = format!("sync({real})");
                (op::SYNC, real, false, 0)
            }
            Request::CreateSession => unreachable!("a session is opened by a connect"),
        };
        let client = &mut self.clients[c];
        let Some(conn) = client.conn.as_mut() else {
            return Err(unrealisable(format!(
                "{} has no connection to send {request} on",
                name(c)
            )));
        };
        let sent = match op {
            op::CREATE2 => conn.send(op, |out| wire::create_body(out, &path, flags)),
            op::DELETE => conn.send(op, |out| out.string(&path).int(-1)),
            op::SYNC => conn.send(op, |out| out.string(&path)),
            _ => conn.send(op, |out| out.string(&path).bool(watch)),
        };
        let xid = sent
            .map_err(|e| unrealisable(format!("cannot write to {}'s connection: {e}", name(c))))?;
        client.sent.push((xid, Some((request, path))));
        Ok(real_text)
    }

    /// Put `c`'s closeSession on the wire right after its last delete, without waiting for the
    /// answer: its xid.
    pub(super) fn send_close_session(&mut self, c: usize) -> Result<i32, Failure> {
        let client = &mut self.clients[c];
        let conn = client.conn.as_mut().expect("the delete went out on it");
        let xid = conn
            .send(op::CLOSE_SESSION, |out| out)
            .map_err(|e| unrealisable(format!("cannot close {}'s session: {e}", name(c))))?;
        client.sent.push((xid, None));
        Ok(xid)
    }

    /// Wait until `c`'s connection closes, reading what the server sent before: whether it
    /// closed within the harness's wait.
    pub(super) fn receive_until_closed(&mut self, c: usize) -> Result<bool, Failure> {
        let deadline = Instant::now() + WAIT;
        while self.clients[c]
            .conn
            .as_ref()
            .is_some_and(|conn| !conn.is_closed())
        {
            if !self.receive(c, Some(deadline))? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The last release closes the session right after the delete.
    pub(super) fn close_session(&mut self, c: usize) -> Result<(), Failure> {
        let xid = self.send_close_session(c)?;
        let deadline = Instant::now() + WAIT;
        while self.clients[c].sent.iter().any(|(x, _)| *x == xid) {
            if !self.receive(c, Some(deadline))? {
                return Err(unrealisable(format!(
                    "{}'s closeSession got no answer",
                    name(c)
                )));
            }
            if self.clients[c]
                .conn
                .as_ref()
                .is_some_and(|conn| conn.is_closed())
            {
                break;
            }
        }
        let client = &mut self.clients[c];
        client.sent.clear();
        client.conn = None;
        client.session = SessionEnd::Ended;
        Ok(())
    }
}

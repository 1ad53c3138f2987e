//! Failover on an ensemble made real: a server crashed (SIGKILL) and restarted on its data
//! directory and ports, a partition between servers (the proxies sever the connections across
//! it) and its heal, a follower giving up on its leader (the harness cuts its connection), a
//! leader giving up on its quorum (the harness closes its ends of its followers' connections),
//! the election and synchronisation that follow (ZooKeeper's own, let run and bound to the
//! model's steps), and a client reconnecting to a server with its session.
//!
//! The model's election is an oracle (the quorum it names elects the server with the highest
//! log, then the highest id) and its synchronisation a few messages; ZooKeeper's are Fast Leader
//! Election and many packets, which the harness does not step one by one. While it holds, the
//! election traffic between servers waits in its proxies, so a server looking for a leader finds
//! none. At the model's `Elect` the harness lets the election traffic between the model's winner
//! and each other server of the quorum pass (and no other), and waits until they serve: the one FLE elected leading (it votes for the
//! highest epoch, then zxid, then id: the oracle's choice; another leader is a divergence), the
//! others following, synchronised. At `Join` it lets the joining server's election traffic pass
//! and waits until it follows. The model's discovery and synchronisation messages are realised as
//! part of that batch. Nothing a client can see happens in between: a server serves only once
//! synchronised, and the harness's clients connect only at the model's `Reconnect` steps.

use super::*;

/// How long an election and synchronisation may take (Fast Leader Election waits 200 ms for
/// late votes; a follower that voted before its leader listens retries its connection).
/// A synchronisation that ZooKeeper 3.8 gives up on (ZOOKEEPER-4685, see
/// [`Harness::retried_syncs`]) costs `initLimit` × `tickTime` (5 s here) and another election.
const ELECTION_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl<Z: Replayed> Harness<'_, Z> {
    /// A step of the ensemble's failover, realised; `None` for the broadcast's steps.
    pub(super) fn failover_step(
        &mut self,
        step: EnsembleStep,
        ensemble: &Ensemble,
        after: &LockState<Z>,
    ) -> Option<Done> {
        let done = match step {
            EnsembleStep::Crash { server } => self.crash_member(server, ensemble, after),
            EnsembleStep::Restart { server } => self.restart_member(server, after),
            EnsembleStep::Timeout { server } | EnsembleStep::SpuriousTimeout { server } => {
                self.give_up_leader(server, ensemble, after)
            }
            EnsembleStep::Elect { leader, quorum } => self.elect(leader, quorum, after),
            EnsembleStep::Join { server, leader } => self.join(server, leader, after),
            EnsembleStep::Reconnect { client, server } => {
                self.reconnect_to(usize::from(client), server, after)
            }
            EnsembleStep::Deliver { from, to } => {
                let msg = ensemble
                    .zab
                    .head(from, to)
                    .expect("a delivery is enabled")
                    .msg;
                if !is_synchronisation(msg) {
                    return None;
                }
                let text = format!(
                    "S{from} → S{to} {msg}: part of the election and synchronisation the servers ran by themselves (bound to the step that ended it)"
                );
                self.settle(after).map_err(told_at(&text)).map(|()| text)
            }
            EnsembleStep::Partition { side } => self.partition(side, after),
            EnsembleStep::Heal => self.heal(after),
            _ => return None,
        };
        Some(done)
    }

    fn real_mut(&mut self) -> &mut RealEnsemble {
        self.target.ensemble.as_mut().expect("an ensemble")
    }

    /// SIGKILL `server`: its clients lose their connections, and what its links held is lost.
    /// The model's leader may crash before it wrote a proposal of its own; the real one writes
    /// each right after proposing it: the harness cuts them from its log while it is down, as a
    /// crash before the write reached the disk would lose them.
    fn crash_member(&mut self, server: u8, ensemble: &Ensemble, after: &LockState<Z>) -> Done {
        let log = &ensemble.zab.server(server).disk.log;
        let unwritten = ensemble
            .zab
            .server(server)
            .leading()
            .map_or(0, |l| usize::from(l.unwritten));
        let lost: Option<Vec<i64>> = log[log.len() - unwritten..]
            .iter()
            .map(|t| {
                self.values
                    .get(&t.value)
                    .and_then(|zxids| zxids.first().copied())
            })
            .collect();
        self.real_mut().crash(server);
        let mut text = format!("the harness SIGKILLs S{server}");
        match lost.as_deref() {
            Some([]) => {}
            Some(lost) => {
                let first = *lost.iter().min().expect("not empty");
                let cut = self
                    .real_ensemble()
                    .expect("an ensemble")
                    .lose_writes(server, first)
                    .map_err(unrealisable)?;
                text.push_str(&format!(
                    " and cuts from its transaction log the {cut} transaction(s) from {first:#x} on, which the model's S{server} had not written (a crash before the write reached the disk loses them)"
                ));
            }
            None => {
                self.lost_writes.insert(server);
            }
        }
        let dropped = self.drop_clients_of(server)?;
        text.push_str(&format!(
            "{dropped}; its followers hear nothing from it until they give up"
        ));
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// Start `server` again on its data directory and ports: it looks for a leader. Not a
    /// leader that crashed before writing a proposal of its own in the model that the harness
    /// could not cut from its log (no real packet showed its zxid).
    fn restart_member(&mut self, server: u8, after: &LockState<Z>) -> Done {
        if self.lost_writes.contains(&server) {
            return Err(unrealisable(format!(
                "S{server} restarts, but in the model it crashed before writing a proposal of its own, which the real leader wrote right after proposing it, and whose real zxid no packet showed, so the harness could not cut it from the log: its log, and so its votes and what it synchronises, would differ"
            )));
        }
        self.real_mut().restart(server).map_err(unrealisable)?;
        let text = format!(
            "S{server} restarts on the same data directory and ports, looking for a leader"
        );
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// `server` gives up on its leader (the model's timeout): the harness cuts its connection
    /// to the leader, so it leaves broadcast at once and closes its clients' connections. Until
    /// now the harness kept that connection open and silent (a crashed leader's end included),
    /// which a follower takes for a live leader for `syncLimit` × `tickTime` (50 s here).
    fn give_up_leader(&mut self, server: u8, ensemble: &Ensemble, after: &LockState<Z>) -> Done {
        if ensemble.zab.server(server).leading().is_some() {
            return self.step_down(server, after);
        }
        let links = Arc::clone(&self.real_mut().links);
        links.cut_follower(server);
        self.real_mut().disturbed = true;
        let dropped = self.drop_clients_of(server)?;
        let text = format!(
            "the harness cuts S{server}'s connection to its leader: S{server} leaves broadcast{dropped}"
        );
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// The leader `server` gives up on its quorum (the model's timeout of a leader): the
    /// harness closes the leader's end of each learner connection, as the leader's own timer
    /// closes a follower's whose acknowledgements are `syncLimit` late; `Leader.lead`'s check
    /// then finds no quorum synced and the leader steps down, LOOKING, closing its clients'
    /// connections. The followers' ends stay open and silent: each notices at its own timeout.
    fn step_down(&mut self, server: u8, after: &LockState<Z>) -> Done {
        let real = self.real_mut();
        real.disturbed = true;
        real.links.close_leader_ends(server);
        let mode = self.wait_modes(&[server], |modes| modes[0].as_deref() != Some("leader"));
        let text = format!(
            "the harness closes S{server}'s end of its followers' connections (what its syncLimit timer does to late followers): S{server} finds no quorum synced and steps down"
        );
        if mode[0].as_deref() == Some("leader") {
            return Err(diverged(
                text,
                format!("S{server} still leads after {ELECTION_WAIT:?}"),
            ));
        }
        let dropped = self.drop_clients_of(server).map_err(told_at(&text))?;
        let text = format!("{text}{dropped}");
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// A partition cuts the servers of `side` off from the others: the connections across
    /// the cut carry nothing more, either way, and what was in flight on them is lost (the
    /// model closes them); nobody notices until its own timeout, a step of its own. Clients
    /// stay with their servers.
    fn partition(&mut self, side: u8, after: &LockState<Z>) -> Done {
        self.real_mut().partition(side);
        let cut: Vec<String> = (0..self.observers.len() as u8)
            .filter(|&s| side & 1 << s != 0)
            .map(|s| format!("S{s}"))
            .collect();
        let text = format!(
            "the proxies drop everything between {{{}}} and the other servers from now on, PINGs included (what they held across is lost); the connections stay open and silent",
            cut.join(", ")
        );
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// The partition heals: new connections and election traffic cross again; a connection
    /// it severed stays silent until its end times out, as the model's stays closed.
    fn heal(&mut self, after: &LockState<Z>) -> Done {
        self.real_mut().links.heal();
        let text = "the proxies pass new connections and election traffic across the cut again"
            .to_string();
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// The clients connected to `server` lose their connections, which the server closes as it
    /// crashes or leaves broadcast: a request waiting for its reply fails with ConnectionLoss,
    /// then the library reports Disconnected; it reconnects at the model's `Reconnect` step.
    /// Returns the clients in words.
    fn drop_clients_of(&mut self, server: u8) -> Result<String, Failure> {
        let mut dropped = Vec::new();
        for c in 0..self.clients.len() {
            let client = &self.clients[c];
            if client.server != server || client.conn.is_none() {
                continue;
            }
            if !self.receive_until_closed(c)? {
                return Err(unrealisable(format!(
                    "S{server} did not close {}'s connection within {WAIT:?}",
                    name(c)
                )));
            }
            if self.clients[c].lose_connection() {
                dropped.push(name(c).to_string());
            }
        }
        Ok(if dropped.is_empty() {
            String::new()
        } else {
            format!("; it closes the connections of {}", dropped.join(", "))
        })
    }

    /// The model's oracle elects `leader` among `quorum`: the real servers looking for a leader
    /// elect one and synchronise by themselves; wait until they serve, and compare the leader.
    fn elect(&mut self, leader: u8, quorum: u8, after: &LockState<Z>) -> Done {
        let members: Vec<u8> = (0..self.observers.len() as u8)
            .filter(|&s| quorum & 1 << s != 0)
            .collect();
        let links = Arc::clone(&self.real_mut().links);
        // Only between the model's winner and each other member: FLE ignores a notification of
        // an earlier election round (`n.electionEpoch < logicalclock`), and a server that
        // restarted counts its rounds from 0 while the others counted theirs, so two of them
        // could agree on the best vote between themselves before the restarted one caught up,
        // a quorum the model's step did not name. Delaying the others' traffic is a timing the
        // network may take; through the winner every member sees its better vote.
        links.open_elections_with(leader, &members);
        let modes = self.wait_modes(&members, |modes| {
            modes
                .iter()
                .filter(|m| m.as_deref() == Some("leader"))
                .count()
                == 1
                && modes.iter().all(Option::is_some)
        });
        links.close_elections();
        let real_leader = members
            .iter()
            .zip(&modes)
            .find(|(_, m)| m.as_deref() == Some("leader"))
            .map(|(&s, _)| s);
        let shown: Vec<String> = members
            .iter()
            .zip(&modes)
            .map(|(s, m)| format!("S{s} {}", m.as_deref().unwrap_or("not serving")))
            .collect();
        let text = format!(
            "the servers looking for a leader run Fast Leader Election and synchronise (one batch, bound to this step): {}{}",
            shown.join(", "),
            self.retried_syncs()
        );
        match real_leader {
            Some(real) if real == leader => {}
            Some(real) => {
                return Err(diverged(
                    text,
                    format!("elected leader: model S{leader}, real S{real}"),
                ))
            }
            None => {
                return Err(diverged(
                    text,
                    format!("elected leader: model S{leader}, real none within {ELECTION_WAIT:?}"),
                ))
            }
        }
        for s in members {
            self.reopen_observer(s)?;
        }
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// A looking server follows the established `leader` (the model's `Join`): the real one
    /// finds it by itself; wait until it follows, synchronised.
    fn join(&mut self, server: u8, leader: u8, after: &LockState<Z>) -> Done {
        let links = Arc::clone(&self.real_mut().links);
        let everyone: Vec<u8> = (0..self.observers.len() as u8).collect();
        links.open_elections(&everyone);
        let modes = self.wait_modes(&[server, leader], |modes| {
            modes[0].as_deref() == Some("follower") && modes[1].as_deref() == Some("leader")
        });
        links.close_elections();
        let text = format!(
            "S{server} finds the leader S{leader} and synchronises with it (one batch, bound to this step): S{server} {}{}",
            modes[0].as_deref().unwrap_or("not serving"),
            self.retried_syncs()
        );
        if modes[0].as_deref() != Some("follower") || modes[1].as_deref() != Some("leader") {
            return Err(diverged(
                text,
                format!(
                    "S{server} follows S{leader} in the model; in reality S{server} is {} and S{leader} {}",
                    modes[0].as_deref().unwrap_or("not serving"),
                    modes[1].as_deref().unwrap_or("not serving")
                ),
            ));
        }
        self.reopen_observer(server)?;
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// `c`'s library connects to `server` with its session and the last zxid it saw, setting its
    /// watches again.
    fn reconnect_to(&mut self, c: usize, server: u8, after: &LockState<Z>) -> Done {
        self.clients[c].server = server;
        self.reconnect(c)?;
        let heard = if self.clients[c].session == SessionEnd::Ended {
            "; the session expired"
        } else {
            // The library's SyncConnected, queued as it reads the connect answer, ahead of
            // everything the new connection brings.
            self.clients[c]
                .incoming
                .push_back(Arrived::notice(Reply::Reconnected));
            ""
        };
        let text = format!(
            "{} reconnects to S{server} with its session, setting its watches again{heard}",
            name(c)
        );
        self.settle(after).map_err(told_at(&text))?;
        Ok(text)
    }

    /// What a synchronisation that ZooKeeper 3.8 gave up on since the last look added, in
    /// words: a follower acknowledged a proposal of its DIFF before NEWLEADER (its log writer
    /// raced the NEWLEADER acknowledgement: ZOOKEEPER-4685), the leader refused it as an ACK of
    /// the wrong epoch and gave up after `initLimit`, and the servers elected again. The fixed
    /// code the model runs does not do this; the end, a leader and synchronised followers, is
    /// the same, and no client can see the difference (nobody serves in between).
    fn retried_syncs(&mut self) -> String {
        let real = self.real_ensemble().expect("an ensemble");
        let early = real.links.lock().early_acks;
        let new = early - std::mem::replace(&mut self.early_acks_seen, early);
        if new == 0 {
            return String::new();
        }
        format!(
            " (on the way, {new} time(s) a follower acknowledged a proposal of its synchronisation before NEWLEADER, which ZooKeeper 3.8's leader refuses as an ACK of another epoch (ZOOKEEPER-4685): that synchronisation was given up after initLimit and the servers elected again)"
        )
    }

    /// The `srvr` modes of `servers` once `done` says so of them, or when the wait runs out.
    fn wait_modes(
        &self,
        servers: &[u8],
        done: impl Fn(&[Option<String>]) -> bool,
    ) -> Vec<Option<String>> {
        let real = self.real_ensemble().expect("an ensemble");
        let deadline = Instant::now() + ELECTION_WAIT;
        loop {
            let modes: Vec<Option<String>> = servers.iter().map(|&s| real.mode(s)).collect();
            if done(&modes) || Instant::now() > deadline {
                return modes;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// After a replay that disturbed the ensemble, the property is asked of the servers once
    /// they are let go: the links pass everything (a follower whose leader is gone hears it
    /// now), the servers elect and synchronise, and the harness looks at the leader's tree.
    /// Returns what it did, in words, or `None` when the ensemble was not disturbed.
    pub(in crate::conform::replay) fn after_failover(&mut self) -> Option<String> {
        let real = self.real_ensemble().filter(|real| real.disturbed)?;
        real.links.pass();
        let real = self.real_ensemble().expect("an ensemble");
        let servers: Vec<u8> = (0..real.members.len() as u8).collect();
        let modes = self.wait_modes(&servers, |modes| {
            modes.iter().any(|m| m.as_deref() == Some("leader"))
        });
        let Some(leader) = servers
            .iter()
            .zip(&modes)
            .find(|(_, m)| m.as_deref() == Some("leader"))
            .map(|(&s, _)| s)
        else {
            self.admin = None;
            return Some(format!(
                "after the last step the servers were let go and elected no leader within {ELECTION_WAIT:?}"
            ));
        };
        self.admin = self.connect_to(leader, None).ok();
        Some(format!(
            "after the last step the servers were let go (every held packet and connection close passed on); S{leader} leads{}",
            self.retried_syncs()
        ))
    }

    /// The observer on `server` connects again (with its session) once the server serves (it
    /// may say it follows a moment before it takes connections).
    fn reopen_observer(&mut self, server: u8) -> Result<(), Failure> {
        let keys = self.observers[usize::from(server)].keys.clone();
        let deadline = Instant::now() + ELECTION_WAIT;
        loop {
            match self.connect_to(server, Some(&keys)) {
                Ok(observer) => {
                    self.observers[usize::from(server)] = observer;
                    return Ok(());
                }
                Err(e) if Instant::now() > deadline => {
                    return Err(unrealisable(format!(
                        "the observer cannot connect to S{server}: {e}"
                    )))
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    }
}

/// Whether a message between servers belongs to discovery or synchronisation (the servers run
/// those by themselves) rather than to the broadcast the harness steps.
pub(super) fn is_synchronisation(msg: zab::Msg) -> bool {
    match msg {
        zab::Msg::FollowerInfo { .. }
        | zab::Msg::LeaderInfo { .. }
        | zab::Msg::AckEpoch { .. }
        | zab::Msg::Sync { .. }
        | zab::Msg::NewLeader { .. }
        | zab::Msg::UpToDate => true,
        zab::Msg::Ack { zxid } => zxid.counter == 0,
        zab::Msg::Proposal { .. }
        | zab::Msg::Commit { .. }
        | zab::Msg::Forward { .. }
        | zab::Msg::Synced { .. } => false,
    }
}

//! The trace's property asked of what really happened.

use super::*;

impl<Z: Replayed> Harness<'_, Z> {
    /// For `no_herd`: after a step that deletes a node (a delete, an expiry), how many other
    /// clients got a watch event from it.
    pub(super) fn count_woken(&mut self, action: LockAction) -> Result<(), Failure> {
        let cause = match action {
            LockAction::Deliver {
                from: ActorId::Client(c),
                msg: Msg::Request(Request::Delete { .. }),
                ..
            }
            | LockAction::ExpireSession {
                client: ActorId::Client(c),
            } => usize::from(c),
            _ => return Ok(()),
        };
        if !self.count_woken {
            return Ok(());
        }
        let events = |client: &RealClient| {
            client
                .incoming
                .iter()
                .filter(|a| matches!(a.reply, Reply::Event { .. }))
                .count()
        };
        let mut woken = 0;
        for c in (0..self.clients.len()).filter(|&c| c != cause) {
            let before = events(&self.clients[c]);
            self.barrier(c)?;
            woken += usize::from(events(&self.clients[c]) > before);
        }
        self.most_woken = self.most_woken.max(woken);
        Ok(())
    }

    /// The lock nodes whose owner's session lives but whose client does not know them (it
    /// neither holds their name nor has it in a reply on its way), as an observer sees them.
    pub(super) fn orphans(&mut self) -> Result<Vec<String>, String> {
        if self.admin.is_none() && self.target.ensemble.is_some() {
            return Err("no server of the ensemble serves".into());
        }
        if self.admin.is_none() {
            // The trace ended with the server down: its tree is on disk, and a restart (after
            // the last step) shows it.
            self.start_server()?;
            self.admin = Some(self.connect(None)?);
        }
        let admin = self.admin.as_mut().expect("connected above");
        let lock = format!("{}/lock", self.root);
        let sequential = self.model.config.recipe != Recipe::Naive;
        let paths: Vec<String> = if sequential {
            let reply = admin
                .call(op::GET_CHILDREN, |out| out.string(&lock).bool(false))
                .map_err(|e| e.to_string())?;
            wire::In::new(&reply.body)
                .strings()
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|name| format!("{lock}/{name}"))
                .collect()
        } else {
            vec![lock.clone()]
        };
        let mut orphans = Vec::new();
        for path in paths {
            let reply = admin
                .call(op::EXISTS, |out| out.string(&path).bool(false))
                .map_err(|e| e.to_string())?;
            if reply.err != wire::err::OK {
                continue;
            }
            let owner = wire::In::new(&reply.body)
                .stat()
                .map_err(|e| e.to_string())?
                .owner;
            let Some(c) = self
                .clients
                .iter()
                .position(|client| client.keys.as_ref().is_some_and(|k| k.id == owner))
            else {
                continue;
            };
            let client = &self.clients[c];
            let short = path.rsplit('/').next().unwrap_or("");
            let announced = client
                .incoming
                .iter()
                .any(|a| a.names.first().is_some_and(|n| n.ends_with(short)));
            let phase = client.logic.phase;
            let known = if sequential {
                let real_seq = seq_of(short).ok();
                let holds_name = client
                    .logic
                    .seq
                    .is_some_and(|m| self.seqs.real_of(m) == real_seq);
                let looks_up =
                    self.model.config.recipe == Recipe::Curator && phase.in_create_call();
                holds_name || looks_up
            } else {
                phase.holds_lock() || phase == lockscope_models::lock::Phase::WaitDeleted
            };
            if !known && !announced {
                orphans.push(format!("{} ({})", short, name(c)));
            }
        }
        Ok(orphans)
    }

    /// Ask the trace's property of what really happened.
    pub(super) fn recheck(
        &mut self,
        property: &str,
        loop_start: Option<usize>,
        history: &[Vec<lockscope_models::lock::Client>],
    ) -> (bool, String) {
        use lockscope_models::prop;
        let holders: Vec<String> = (0..self.clients.len())
            .filter(|&c| self.clients[c].logic.phase.holds_lock())
            .map(|c| name(c).to_string())
            .collect();
        let stuck: Vec<String> = (0..self.clients.len())
            .filter(|&c| {
                let client = &self.clients[c];
                !client.logic.phase.is_finished() && !client.can_act()
            })
            .map(|c| name(c).to_string())
            .collect();
        let everyone_stuck = self
            .clients
            .iter()
            .all(|c| c.logic.phase.is_finished() || !c.can_act())
            && !stuck.is_empty();
        match property {
            "" => (
                true,
                format!(
                    "no property asked; {} client(s) believe they hold the lock at the end",
                    holders.len()
                ),
            ),
            prop::MUTUAL_EXCLUSION => (
                holders.len() > 1,
                format!(
                    "{} client(s) believe they hold the lock ({})",
                    holders.len(),
                    holders.join(", ")
                ),
            ),
            prop::FENCED_RESOURCE_SAFETY => {
                let writes: Vec<String> = self
                    .resource
                    .writes
                    .iter()
                    .map(|(c, token, ok)| {
                        format!(
                            "{c} {token:#x} {}",
                            if *ok { "accepted" } else { "rejected" }
                        )
                    })
                    .collect();
                (
                    self.resource.accepted_earlier_grant,
                    format!(
                        "the resource took [{}]{}",
                        writes.join(", "),
                        if self.resource.accepted_earlier_grant {
                            ": an earlier grant's write after a later one's"
                        } else {
                            ""
                        }
                    ),
                )
            }
            prop::NO_HERD => (
                self.most_woken > 1,
                format!(
                    "the most waiters one deleting step woke: {}",
                    self.most_woken
                ),
            ),
            prop::NO_ORPHAN_NODES => match self.orphans() {
                Ok(orphans) => (
                    !orphans.is_empty(),
                    format!(
                        "lock nodes of live sessions their clients lost track of: [{}]",
                        orphans.join(", ")
                    ),
                ),
                Err(reason) => (false, format!("orphans not looked for: {reason}")),
            },
            prop::NO_DEADLOCK => (
                everyone_stuck,
                if everyone_stuck {
                    format!(
                        "nothing is in flight and no client can act; waiting forever: {}",
                        stuck.join(", ")
                    )
                } else {
                    "some client can still act".into()
                },
            ),
            _ => match loop_start {
                Some(start) if start + 1 < history.len() => {
                    let back = history[start] == *history.last().expect("a state");
                    let starved: Vec<String> = (0..self.clients.len())
                        .filter(|&c| {
                            history[start..]
                                .iter()
                                .all(|clients| !clients[c].phase.holds_lock())
                                && !history[start][c].phase.is_finished()
                        })
                        .map(|c| name(c).to_string())
                        .collect();
                    (
                        back && !starved.is_empty(),
                        format!(
                            "the clients are back where the cycle began: {back}; never acquiring in it: [{}]",
                            starved.join(", ")
                        ),
                    )
                }
                _ => (
                    !stuck.is_empty(),
                    format!(
                        "waiting with nothing in flight for them: [{}]",
                        stuck.join(", ")
                    ),
                ),
            },
        }
    }
}

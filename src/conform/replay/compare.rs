//! Comparing what really happened with the model: messages, the tree as an observer sees it,
//! and what is left in flight after the last step.

use super::*;

impl<Z: Replayed> Harness<'_, Z> {
    /// Compare a real message with the model's, binding real names and zxids to the model's.
    pub(super) fn compare(&mut self, model: Reply, real: &Arrived) -> Result<(), String> {
        let shape = |r: Reply| r.map_values(&mut |_| 0, &mut |_| 0);
        let differs = || format!("model {model}, real {}", real.text(self.fenced()));
        if shape(model) != shape(real.reply) {
            return Err(differs());
        }
        match (model, real.reply) {
            (
                Reply::Created {
                    path: Path::Child(m),
                    czxid,
                },
                Reply::Created {
                    path: Path::Child(r),
                    ..
                },
            ) => {
                self.bind_seq(r, m, real.names.first())?;
                if self.fenced() {
                    self.zxids.unify(real.czxid, czxid)?;
                }
            }
            (
                Reply::Children {
                    children: m,
                    own: model_own,
                },
                Reply::Children {
                    children: r,
                    own: real_own,
                },
            ) => {
                if m.len() != r.len() {
                    return Err(format!("children: model {m}, real {r}"));
                }
                for (name, (r, m)) in real.names_sorted().iter().zip(r.iter().zip(m.iter())) {
                    self.bind_seq(r, m, Some(name))
                        .map_err(|e| format!("children: model {m}, real {r}: {e}"))?;
                }
                if let (Some(m), Some(r)) = (model_own, real_own) {
                    self.seqs.unify(r, m)?;
                } else if model_own.is_some() != real_own.is_some() {
                    return Err(format!("own node: model {model_own:?}, real {real_own:?}"));
                }
            }
            (
                Reply::Event {
                    path: Path::Child(m),
                    ..
                },
                Reply::Event {
                    path: Path::Child(r),
                    ..
                },
            ) => self.seqs.unify(r, m)?,
            (Reply::Data { czxid }, Reply::Data { .. }) if self.fenced() => {
                self.zxids.unify(real.czxid, czxid)?
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn bind_seq(
        &mut self,
        real: u8,
        model: u8,
        name: Option<&String>,
    ) -> Result<(), String> {
        self.seqs.unify(real, model)?;
        if let Some(name) = name {
            let short = name.rsplit('/').next().unwrap_or(name).to_string();
            self.names.insert(real, short);
        }
        Ok(())
    }

    /// The tree as an observer session sees it, against the model's server.
    pub(super) fn compare_tree(&mut self, after: &LockState<Z>) -> Result<(), String> {
        let Some(admin) = self.admin.as_mut() else {
            return Ok(());
        };
        let lock = format!("{}/lock", self.root);
        let reply = admin
            .call(op::GET_CHILDREN, |out| out.string(&lock).bool(false))
            .map_err(|e| format!("the observer cannot list {lock}: {e}"))?;
        let tree = after.zk.agreed_tree();
        let model_exists = tree.node(Path::Lock).is_some();
        let real_exists = reply.err == wire::err::OK;
        if model_exists != real_exists {
            return Err(format!(
                "/lock exists: model {model_exists}, real {real_exists}"
            ));
        }
        if !real_exists {
            return Ok(());
        }
        let names = wire::In::new(&reply.body)
            .strings()
            .map_err(|e| format!("a malformed listing: {e}"))?;
        let mut real: Vec<u8> = names.iter().map(|n| seq_of(n)).collect::<Result<_, _>>()?;
        real.sort_unstable();
        let model = tree.children();
        let shown: Vec<String> = real.iter().map(u8::to_string).collect();
        let tree = || format!("tree: model children {model}, real [{}]", shown.join(", "));
        if real.len() != model.len() {
            return Err(tree());
        }
        for (r, m) in real.iter().zip(model.iter()) {
            self.seqs
                .unify(*r, m)
                .map_err(|e| format!("{}: {e}", tree()))?;
        }
        Ok(())
    }

    /// After the last step: anything in flight that the model does not have.
    pub(super) fn leftovers(&mut self, last: &LockState<Z>) -> Option<String> {
        if last.zk.ensemble().is_some() {
            if let Err(Failure::Diverged { difference, .. } | Failure::Unrealisable(difference)) =
                self.settle(last)
            {
                return Some(difference);
            }
        }
        for c in 0..self.clients.len() {
            if let Err(Failure::Diverged { difference, .. } | Failure::Unrealisable(difference)) =
                self.barrier(c)
            {
                return Some(difference);
            }
            if let Err(difference) = self.compare_in_flight(c, &last.links[c].from_server) {
                return Some(difference);
            }
        }
        None
    }
}

impl<Z: Replayed> Harness<'_, Z> {
    /// What has arrived for `c` and not been read, against what the model has in flight to it.
    pub(super) fn compare_in_flight(&mut self, c: usize, model: &[Reply]) -> Result<(), String> {
        let arrived = self.clients[c].incoming.clone();
        let same = arrived.len() == model.len()
            && model
                .iter()
                .zip(&arrived)
                .all(|(&m, r)| self.compare(m, r).is_ok());
        if same {
            return Ok(());
        }
        let model: Vec<String> = model.iter().map(Reply::to_string).collect();
        let real: Vec<String> = arrived.iter().map(|a| a.text(self.fenced())).collect();
        Err(format!(
            "in flight to {}: model [{}], real [{}]",
            name(c),
            model.join(", "),
            real.join(", ")
        ))
    }
}

impl Arrived {
    /// A listing's names in sequence order.
    pub(super) fn names_sorted(&self) -> Vec<String> {
        let mut names = self.names.clone();
        names.sort_by_key(|n| seq_of(n).unwrap_or(u8::MAX));
        names
    }
}

//! The fenced resource inside the harness, on the real tokens.

use super::*;

impl<Z: Replayed> Harness<'_, Z> {
    pub(super) fn use_resource(&mut self, c: usize, after: &LockState<Z>) -> Done {
        let model_token = self.model.client_writes(&mut self.clients[c].logic);
        let client = &mut self.clients[c];
        let (_, czxid, version) = client.node.clone().unwrap_or_default();
        let token = if self.model.config.variant == Variant::NodeVersionToken {
            i64::from(version)
        } else {
            czxid
        };
        client.to_resource = Some(token);
        let text = format!("{} sends write(token {token:#x}) to the resource", name(c));
        let model_sent = after.links[c].to_resource;
        if model_sent != Some(model_token) {
            return Err(diverged(text, "the model sends no write"));
        }
        if self.model.config.variant == Variant::NodeVersionToken {
            if token != i64::from(model_token) {
                return Err(diverged(
                    text,
                    format!("token: model {model_token}, real {token}"),
                ));
            }
        } else {
            self.zxids
                .unify(token, model_token)
                .map_err(|d| diverged(&text, format!("token: {d}")))?;
        }
        Ok(text)
    }

    /// The resource (in the harness) takes `c`'s write.
    pub(super) fn write(&mut self, c: usize, after: &LockState<Z>) -> Done {
        let client = &mut self.clients[c];
        let token = client
            .to_resource
            .take()
            .ok_or_else(|| diverged(format!("{} has sent no write", name(c)), "no write"))?;
        let grant = client
            .node
            .as_ref()
            .and_then(|(name, _, _)| seq_of(name).ok())
            .unwrap_or(0);
        let checks = self.model.config.variant != Variant::UncheckedResource;
        let resource = &mut self.resource;
        let accepted = !checks || resource.highest.map_or(true, |highest| token >= highest);
        if accepted {
            resource.highest = resource.highest.max(Some(token));
            if resource.latest_grant.is_some_and(|latest| grant < latest) {
                resource.accepted_earlier_grant = true;
            }
            resource.latest_grant = resource.latest_grant.max(Some(grant));
        }
        resource.writes.push((name(c).to_string(), token, accepted));
        self.clients[c].from_resource = Some(accepted);
        let text = format!(
            "the resource {} {}'s write (token {token:#x})",
            if accepted { "accepts" } else { "rejects" },
            name(c)
        );
        match after.links[c].from_resource {
            Some(model) if model == accepted => Ok(text),
            model => Err(diverged(
                text,
                format!("resource answer: model {model:?}, real {accepted}"),
            )),
        }
    }

    pub(super) fn write_answered(
        &mut self,
        c: usize,
        accepted: bool,
        after: &LockState<Z>,
    ) -> Done {
        let client = &mut self.clients[c];
        let real = client.from_resource.take();
        if real != Some(accepted) {
            return Err(diverged(
                format!("{} reads {real:?} from the resource", name(c)),
                format!("resource answer: model {accepted}, real {real:?}"),
            ));
        }
        let request = self.model.client_write_answered(&mut client.logic);
        self.queue_request(c, request, after)
    }
}

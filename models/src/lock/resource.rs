//! The shared resource that fenced clients write to (docs/recipes.md, "fenced").
//!
//! The resource remembers the highest token it accepted and rejects any write with a lower one.
//! ZooKeeper cannot enforce this; only the resource can, which is why fencing works on the
//! resource side even when mutual exclusion among clients fails.
//!
//! `fenced_resource_safety` is not about tokens, which the resource itself orders: it is about
//! grants. The recipe grants the lock in queue order, the order of the lock nodes' sequence
//! numbers (a node is granted once every lower node is gone, and every later node gets a higher
//! number), so a ghost keeps the latest grant whose write was accepted, and the property asks that
//! no write of an earlier grant is accepted after it. A checking resource keeps that promise only
//! if the token source increases across grants: the `czxid` does, a token that does not
//! (`node-version-token`) is caught.

use crate::zookeeper::{Seq, Zxid};

/// The resource's state, plus the ghost of accepted grants `fenced_resource_safety` needs.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Resource {
    /// The highest token accepted so far (0: none yet).
    pub highest: Zxid,
    /// Ghost: the latest grant (the writer's lock node's sequence number) among the accepted
    /// writes.
    pub latest_grant: Option<Seq>,
    /// Ghost: a write of an earlier grant was accepted after a write of a later one.
    pub accepted_earlier_grant: bool,
}

impl Resource {
    /// Handle one write of the holder granted the lock on node `grant`; returns whether it was
    /// accepted. With `checks_tokens = false` (the `unchecked-resource` variant) every write is
    /// accepted, as a resource without fencing does.
    pub fn on_write(&mut self, token: Zxid, grant: Seq, checks_tokens: bool) -> bool {
        if checks_tokens && token < self.highest {
            return false;
        }
        self.highest = self.highest.max(token);
        if self.latest_grant.is_some_and(|latest| grant < latest) {
            self.accepted_earlier_grant = true;
        }
        self.latest_grant = self.latest_grant.max(Some(grant));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checking_resource_rejects_lower_tokens() {
        let mut resource = Resource::default();
        assert!(resource.on_write(5, 1, true));
        assert!(!resource.on_write(3, 0, true));
        assert!(
            resource.on_write(5, 1, true),
            "equal tokens come from the same holder"
        );
        assert!(!resource.accepted_earlier_grant);
    }

    #[test]
    fn an_unchecked_resource_records_the_earlier_grant_after_the_later() {
        let mut resource = Resource::default();
        assert!(resource.on_write(5, 1, false));
        assert!(resource.on_write(3, 0, false));
        assert!(resource.accepted_earlier_grant);
        assert_eq!(resource.highest, 5);
    }

    /// Goal: the ghost judges grants, not tokens. Method: a checking resource given equal tokens
    /// for two grants (a token that does not grow) accepts the earlier grant's write last.
    #[test]
    fn equal_tokens_of_two_grants_let_the_earlier_grant_in_after_the_later() {
        let mut resource = Resource::default();
        assert!(resource.on_write(0, 1, true));
        assert!(resource.on_write(0, 0, true));
        assert!(resource.accepted_earlier_grant);
    }
}

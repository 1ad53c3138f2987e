//! The shared resource that fenced clients write to (DOMAIN.md §3, Kleppmann 2016).
//!
//! The resource remembers the highest token it accepted and rejects any write with a lower one.
//! ZooKeeper cannot enforce this; only the resource can, which is why fencing works on the
//! resource side even when mutual exclusion among clients fails.

use crate::zookeeper::Zxid;

/// The resource's state, plus the one bit of accept history `fenced_resource_safety` needs.
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
    /// The highest token accepted so far (0: none yet; real tokens are czxids, at least 1).
    pub highest: Zxid,
    /// Ghost: some accepted write carried a token lower than one accepted before it.
    pub accepted_out_of_order: bool,
}

impl Resource {
    /// Handle one write; returns whether it was accepted. With `checks_tokens = false` (the
    /// `unchecked-resource` variant) every write is accepted, as a resource without fencing does.
    pub fn on_write(&mut self, token: Zxid, checks_tokens: bool) -> bool {
        let in_order = token >= self.highest;
        if checks_tokens && !in_order {
            return false;
        }
        if !in_order {
            self.accepted_out_of_order = true;
        }
        self.highest = self.highest.max(token);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checking_resource_rejects_lower_tokens() {
        let mut resource = Resource::default();
        assert!(resource.on_write(5, true));
        assert!(!resource.on_write(3, true));
        assert!(
            resource.on_write(5, true),
            "equal tokens come from the same holder"
        );
        assert!(!resource.accepted_out_of_order);
    }

    #[test]
    fn an_unchecked_resource_records_the_out_of_order_write() {
        let mut resource = Resource::default();
        assert!(resource.on_write(5, false));
        assert!(resource.on_write(3, false));
        assert!(resource.accepted_out_of_order);
        assert_eq!(resource.highest, 5);
    }
}

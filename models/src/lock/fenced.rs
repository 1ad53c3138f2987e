//! The standard recipe plus fencing tokens (docs/recipes.md).
//!
//! Steps 1–5 are the standard recipe's; the token is the `czxid` of the client's lock node, which
//! increases with every grant. Then:
//!
//! 6. In the critical section: send `write(token)` to the resource.
//! 7. On the resource's answer (accepted or rejected), leave the critical section and
//!    `delete(own node)`.
//!
//! The resource rejects any token lower than the highest it accepted, so a holder that was paused
//! past its session's expiry cannot overwrite the work of the holder after it, even though both
//! believed they held the lock. That needs a token that increases from one grant to the next:
//! the `node-version-token` variant takes one that does not.

use super::client::{Client, Phase};
use super::{standard, Variant};
use crate::zookeeper::{Request, Zxid};

/// The data version of a lock node: each one is created afresh and never written, so it is 0.
const NEW_NODE_VERSION: Zxid = 0;

/// Step 6: the holder's write; returns the token it sends.
pub(super) fn use_resource(client: &mut Client, variant: Variant) -> Zxid {
    assert_eq!(client.phase, Phase::InCs);
    client.phase = Phase::WaitWrite;
    token(client, variant)
}

/// The token a holder sends with its write: its node's czxid, or with the `node-version-token`
/// flaw the same version for every grant. The narrative prints it from here, so it names the
/// token the resource then receives.
pub(super) fn token(client: &Client, variant: Variant) -> Zxid {
    if variant == Variant::NodeVersionToken {
        NEW_NODE_VERSION
    } else {
        client.token
    }
}

/// Step 7: the write was answered; the client releases.
pub(super) fn on_write_result(client: &mut Client, close_session: bool) -> Request {
    assert_eq!(client.phase, Phase::WaitWrite);
    client.phase = Phase::WaitDeleted;
    standard::release_request(client, close_session)
}

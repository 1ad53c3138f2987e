//! State fingerprints: a 64-bit hash that stands for a state in the visited set.

use std::hash::Hash;
use std::sync::OnceLock;

/// A state's fingerprint.
pub type Fingerprint = u64;

/// Fixed seeds, so that fingerprints (and with them the search order) never depend on a random
/// source. They are never written anywhere: traces store actions, not fingerprints.
fn hasher_seeds() -> &'static ahash::RandomState {
    static SEEDS: OnceLock<ahash::RandomState> = OnceLock::new();
    SEEDS.get_or_init(|| ahash::RandomState::with_seeds(0x6c6f636b, 0x73636f70, 0x65206670, 0x2f31))
}

/// The fingerprint of `state`.
pub fn fingerprint<T: Hash>(state: &T) -> Fingerprint {
    hasher_seeds().hash_one(state)
}

/// The fingerprint of a state packed by [`lockscope_models::pack::PackState`]: equal states pack to
/// equal bytes and different states to different bytes, so the bytes stand for the state, and
/// hashing a few dozen bytes in bulk is several times cheaper than feeding a hasher field by field.
pub fn fingerprint_packed(bytes: &[u8]) -> Fingerprint {
    hasher_seeds().hash_one(bytes)
}

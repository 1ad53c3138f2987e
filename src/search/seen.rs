//! The visited set of a breadth-first search: 64-bit fingerprints in open-addressing tables.
//!
//! Memory per state decides how large a space fits, and a general-purpose hash set spends it
//! badly here: hashbrown keeps a control byte per slot, doubles its table (so right after a growth
//! it is less than half full) and holds the old and the new table at once while it grows. For the
//! reference N = 5 space (7.45 M states) that peak was 30 bytes per state for 8 bytes of
//! fingerprint. This set is made of [`SEGMENTS`] tables chosen by a fingerprint's top bits; each
//! is a plain array of fingerprints (0 marks an empty slot), probed linearly, and grows by half
//! when three quarters full (checked between batches, so a batch may fill it a little further,
//! never past seven eighths). The tables stay between half and three quarters full (11 to 16 bytes
//! per state), and at most [`GROWING_AT_ONCE`] tables (an eighth of the set) are being copied at
//! any time. Sixteen
//! tables rather than more: a large table gets huge pages ([`super::words`]), which a lookup's
//! address translation needs far more than a growth needs small tables.
//!
//! **Claims.** A worker expanding part of a level looks every successor up; the new ones used to be
//! entered afterwards, in frontier order, which looked each of them up a second time (a cache miss
//! again, a tenth of a search on one thread, and hardly faster on two). Instead a worker now
//! enters a new fingerprint itself, with a compare-and-swap on the slot its lookup just read,
//! marked *fresh* ([`Claims`]). That the state is new is then settled in the merge, in frontier
//! order, as before: a fingerprint entered during this batch and found again from another chunk
//! is contested, and the copy first in frontier order is the new one, whichever thread entered it
//! ([`Resolver`]). So ids, counts and counterexamples stay what one thread finds. Once every worker
//! has stopped claiming, each removes the marks it made. A table does not grow while workers claim
//! in it: before a batch each gets room for what the batch is expected to add, shared out among
//! the workers; a claim beyond a worker's share is deferred, and made once the workers are done,
//! in frontier order ([`Seen::claim_late`]).
//!
//! A table keeps a fingerprint's bits below the [`SEGMENT_BITS`] that chose it (the key); those top
//! bits, the same for all its keys, are free for the fresh mark.
//!
//! When the search records the state graph, each slot also keeps the state's id.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::fingerprint::Fingerprint;
use super::words::Words;

/// Tables, chosen by a fingerprint's top [`SEGMENT_BITS`] bits.
const SEGMENTS: usize = 1 << SEGMENT_BITS;
const SEGMENT_BITS: u32 = 4;
/// Tables grown at the same time, in parallel: they fill evenly, so they tend to grow in the same
/// batch, and a growth holds the old and the new table. Two, for two cores, and an eighth of the
/// set as the most memory a growth adds.
const GROWING_AT_ONCE: usize = 2;
/// Slots of a table before its first growth.
const INITIAL_SLOTS: usize = 64;
/// The bits of a fingerprint that its table keeps: all but the ones that chose the table.
const KEY_BITS: u64 = u64::MAX >> SEGMENT_BITS;
/// Marks an empty slot; a key that happens to be 0 is stored as [`ZERO_STANDS_IN`].
const EMPTY: u64 = 0;
const ZERO_STANDS_IN: u64 = 1;
/// Marks a slot claimed during the current batch.
const FRESH: u64 = 1 << 63;
// A new table is zeroed memory: all of it empty slots; the mark lies outside every key.
const _: () = assert!(EMPTY == 0 && FRESH & KEY_BITS == 0);

/// The fingerprints of the visited states, and their ids if asked for.
pub(super) struct Seen {
    tables: Vec<Table>,
    with_ids: bool,
}

struct Table {
    slots: Words,
    /// The id of the state in each slot (empty unless the set keeps ids).
    ids: Vec<u32>,
    len: usize,
}

impl Seen {
    /// An empty set; `with_ids` keeps each state's id (a recorded graph names edge targets).
    pub(super) fn new(with_ids: bool) -> Self {
        let tables = (0..SEGMENTS)
            .map(|_| Table {
                slots: Words::zeroed(INITIAL_SLOTS),
                ids: if with_ids {
                    vec![0; INITIAL_SLOTS]
                } else {
                    Vec::new()
                },
                len: 0,
            })
            .collect();
        Seen { tables, with_ids }
    }

    pub(super) fn contains(&self, fingerprint: Fingerprint) -> bool {
        let table = &self.tables[segment(fingerprint)];
        table.find(key(fingerprint)).is_ok()
    }

    /// Start loading the slot where a lookup of `fingerprint` begins, so that a
    /// [`Seen::contains`] or an insert made a little later finds it in cache. A visited set of
    /// millions of states is far larger than the caches: without this, a search spends a fifth of
    /// its time waiting for these loads one at a time.
    pub(super) fn prefetch(&self, fingerprint: Fingerprint) {
        prefetch(home_slot(
            &self.tables[segment(fingerprint)].slots,
            fingerprint,
        ));
    }

    /// The id of a visited state (`None` when it is not visited, or ids are not kept).
    pub(super) fn id(&self, fingerprint: Fingerprint) -> Option<u32> {
        if !self.with_ids {
            return None;
        }
        let table = &self.tables[segment(fingerprint)];
        table
            .find(key(fingerprint))
            .ok()
            .map(|slot| table.ids[slot])
    }

    /// Record a state as visited under `id`; `false` if it already was.
    pub(super) fn insert(&mut self, fingerprint: Fingerprint, id: u32) -> bool {
        let with_ids = self.with_ids;
        self.tables[segment(fingerprint)].insert(key(fingerprint), id, with_ids)
    }

    /// Open the set to claims for one batch by up to `workers` threads, with room for `expected`
    /// new states in all (a sixteenth of it in each table; each worker gets its share). Only for
    /// a set without ids. Each worker ends with [`Claims::unmark`], the batch with
    /// [`Seen::count`].
    pub(super) fn claims(&mut self, workers: usize, expected: usize) -> Claims<'_> {
        assert!(!self.with_ids, "claims give no ids");
        let expected_per_table = expected.div_ceil(SEGMENTS);
        let workers = workers.max(1);
        let too_full = |table: &Table| {
            table.len * 4 >= table.slots.len() * 3 || table.room() < expected_per_table
        };
        let grow = |tables: &mut [&mut Table]| {
            for table in tables {
                while too_full(table) {
                    table.grow(false);
                }
            }
        };
        let mut growing: Vec<&mut Table> = self.tables.iter_mut().filter(|t| too_full(t)).collect();
        let growers = workers.min(GROWING_AT_ONCE).min(growing.len());
        if growers <= 1 {
            grow(&mut growing);
        } else {
            let per_grower = growing.len().div_ceil(growers);
            std::thread::scope(|scope| {
                for tables in growing.chunks_mut(per_grower) {
                    scope.spawn(move || grow(tables));
                }
            });
        }
        let mut share = [0; SEGMENTS];
        for (table, share) in self.tables.iter().zip(&mut share) {
            *share = table.room() / workers;
            #[cfg(test)]
            {
                *share = (*share).min(SHARE_CAP.get());
            }
        }
        Claims {
            tables: self
                .tables
                .iter_mut()
                .map(|table| table.slots.atomic())
                .collect(),
            share,
            shares_left: AtomicUsize::new(workers),
        }
    }

    /// Make a claim that a worker deferred, once every worker has stopped claiming; `won` holds
    /// the fingerprints claimed during the batch. A state another chunk won is contested; one
    /// visited before (or entered just now for an earlier deferred copy: claims are made late in
    /// frontier order) is visited; any other is entered now.
    pub(super) fn claim_late(&mut self, fingerprint: Fingerprint, won: &FingerprintSet) -> Claim {
        if won.contains(&fingerprint) {
            Claim::Contested
        } else if self.insert(fingerprint, 0) {
            Claim::Won
        } else {
            Claim::Visited
        }
    }

    /// End a batch: count the states the workers entered.
    pub(super) fn count(&mut self, entered: &[Entered]) {
        for entered in entered {
            for (table, count) in self.tables.iter_mut().zip(entered.0) {
                table.len += count;
            }
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Caps every worker's share of a table's room (for the thread that opens the claims), so
    /// that tests can have claims deferred.
    pub(super) static SHARE_CAP: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// What a worker learns of a successor's fingerprint from [`Claims::claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Claim {
    /// Visited before this batch (or, for a claim made late, entered for an earlier copy): not
    /// new.
    Visited,
    /// Entered by this claim: new, unless another chunk earlier in the batch reached it too.
    Won,
    /// Entered during this batch by another chunk's claim: new if this chunk comes first.
    Contested,
    /// Not visited before this batch and not entered (the worker's share of the table's room is
    /// used up, or the search only looks): the merge decides.
    Deferred,
}

/// The visited set open to claims during one batch; see the module's doc.
pub(super) struct Claims<'a> {
    tables: Vec<&'a [AtomicU64]>,
    /// How many claims each worker may win in each table: the table's room, shared out.
    share: [usize; SEGMENTS],
    /// Shares not yet handed out: more would overfill a table.
    shares_left: AtomicUsize,
}

/// One worker's part of a batch's claims: its room left per table, and the slots it claimed.
pub(super) struct Share {
    room: [usize; SEGMENTS],
    claimed: Vec<ClaimedSlot>,
}

/// A slot claimed during a batch, to be unmarked when it ends.
#[derive(Clone, Copy, Debug)]
struct ClaimedSlot {
    table: usize,
    slot: usize,
}

/// How many states a worker entered in each table during a batch.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Entered([usize; SEGMENTS]);

impl Claims<'_> {
    /// A worker's share of the room.
    pub(super) fn share(&self) -> Share {
        let left = self.shares_left.fetch_sub(1, Ordering::Relaxed);
        assert!(left > 0, "no more shares than workers");
        Share {
            room: self.share,
            claimed: Vec::new(),
        }
    }

    /// Start loading the slot where a claim of `fingerprint` begins (see [`Seen::prefetch`]).
    pub(super) fn prefetch(&self, fingerprint: Fingerprint) {
        prefetch(home_slot(self.tables[segment(fingerprint)], fingerprint));
    }

    /// Look `fingerprint` up and, if it is not there, enter it marked fresh, within `share`.
    pub(super) fn claim(&self, fingerprint: Fingerprint, share: &mut Share) -> Claim {
        let table = segment(fingerprint);
        let key = key(fingerprint);
        let slots = self.tables[table];
        let mut slot = home(key, slots.len());
        loop {
            let mut found = slots[slot].load(Ordering::Relaxed);
            if found == EMPTY {
                if share.room[table] == 0 {
                    return Claim::Deferred;
                }
                // Nothing else is published through a slot: relaxed order suffices.
                match slots[slot].compare_exchange(
                    EMPTY,
                    key | FRESH,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        share.room[table] -= 1;
                        share.claimed.push(ClaimedSlot { table, slot });
                        return Claim::Won;
                    }
                    // Another worker filled the slot first: look at what it wrote.
                    Err(now) => found = now,
                }
            }
            if found & KEY_BITS == key {
                return if found & FRESH == 0 {
                    Claim::Visited
                } else {
                    Claim::Contested
                };
            }
            slot = next(slot, slots.len());
        }
    }

    /// Remove the fresh marks of a worker's claims; only once no worker claims any more (a claim
    /// would take an unmarked state for one visited before the batch).
    pub(super) fn unmark(&self, share: Share) -> Entered {
        let mut entered = Entered::default();
        for (i, &ClaimedSlot { table, slot }) in share.claimed.iter().enumerate() {
            // The slots were claimed in no particular order; long evicted from the cache.
            if let Some(ahead) = share.claimed.get(i + PREFETCH_DISTANCE) {
                prefetch(&self.tables[ahead.table][ahead.slot]);
            }
            let before = self.tables[table][slot].fetch_and(!FRESH, Ordering::Relaxed);
            debug_assert!(before & FRESH != 0, "a claimed slot is fresh");
            entered.0[table] += 1;
        }
        entered
    }
}

/// How far ahead of its unmarking [`Claims::unmark`] asks for slots: enough loads in flight to
/// cover a memory access.
const PREFETCH_DISTANCE: usize = 16;

/// Settles, in frontier order, which of a batch's claims are new states: a fingerprint claimed by
/// one chunk only is new if that chunk won it; one that several chunks reached (they then hold it
/// contested) is new at its first copy in frontier order. Deferred claims must have been made
/// first (as won, contested or visited, in frontier order).
pub(super) struct Resolver {
    /// A bit per hash of the fingerprints that more than one chunk may hold: a won claim whose
    /// bit is clear is new without further ado (most are). A bitmap, not a set: it is asked of
    /// every won claim, and a few bits per fingerprint stay in the fastest cache.
    disputed: Vec<u64>,
    /// Fingerprints with a set bit already settled as new.
    taken: FingerprintSet,
}

pub(super) type FingerprintSet = hashbrown::HashSet<Fingerprint, rustc_hash::FxBuildHasher>;

impl Resolver {
    /// A resolver for a batch whose contested and deferred claims have the fingerprints
    /// `disputed`.
    pub(super) fn new(disputed: &[&[Fingerprint]]) -> Self {
        let count: usize = disputed.iter().map(|part| part.len()).sum();
        // About eight bits per disputed fingerprint: one won claim in eight at most goes the
        // slower way for nothing.
        let words = (count / 8 + 1).next_power_of_two();
        let mut resolver = Resolver {
            disputed: vec![0; words],
            taken: FingerprintSet::default(),
        };
        for &fingerprint in disputed.iter().copied().flatten() {
            let (word, bit) = resolver.bit(fingerprint);
            resolver.disputed[word] |= bit;
        }
        resolver
    }

    /// Where `fingerprint`'s bit lies in `disputed`: its low bits (the tables use its high ones).
    fn bit(&self, fingerprint: Fingerprint) -> (usize, u64) {
        let word = (fingerprint >> 6) as usize & (self.disputed.len() - 1);
        (word, 1 << (fingerprint & 63))
    }

    /// Whether the successor with `fingerprint`, which got `claim`, is a new state. Asked in
    /// frontier order, of every candidate.
    pub(super) fn is_new(&mut self, fingerprint: Fingerprint, claim: Claim) -> bool {
        let (word, bit) = self.bit(fingerprint);
        match claim {
            Claim::Visited => false,
            Claim::Won if self.disputed[word] & bit == 0 => true,
            Claim::Won | Claim::Contested => self.taken.insert(fingerprint),
            Claim::Deferred => unreachable!("deferred claims are made before they are settled"),
        }
    }
}

impl Table {
    /// Slots that may still be filled before the table is seven eighths full, where linear
    /// probing starts to slow down.
    fn room(&self) -> usize {
        (self.slots.len() / 8 * 7).saturating_sub(self.len)
    }

    /// Add `key` (with `id` if ids are kept); `false` if it is here already.
    fn insert(&mut self, key: u64, id: u32, with_ids: bool) -> bool {
        let Err(slot) = self.find(key) else {
            return false;
        };
        self.slots[slot] = key;
        if with_ids {
            self.ids[slot] = id;
        }
        self.len += 1;
        if self.len * 4 >= self.slots.len() * 3 {
            self.grow(with_ids);
        }
        true
    }

    /// `Ok(slot)` holding `key` (fresh or not), or `Err(slot)`: the empty slot where it would go.
    fn find(&self, key: u64) -> Result<usize, usize> {
        let mut slot = home(key, self.slots.len());
        loop {
            match self.slots[slot] {
                EMPTY => return Err(slot),
                found if found & KEY_BITS == key => return Ok(slot),
                _ => slot = next(slot, self.slots.len()),
            }
        }
    }

    /// Move every entry into a table half as large again. Never during a batch: no slot is fresh.
    fn grow(&mut self, with_ids: bool) {
        let size = self.slots.len() + self.slots.len() / 2;
        let old_slots = std::mem::replace(&mut self.slots, Words::zeroed(size));
        let old_ids = std::mem::replace(
            &mut self.ids,
            if with_ids { vec![0; size] } else { Vec::new() },
        );
        for (i, &key) in old_slots.iter().enumerate() {
            if key == EMPTY {
                continue;
            }
            debug_assert!(key & FRESH == 0, "tables grow between batches");
            let slot = self.find(key).expect_err("keys are distinct");
            self.slots[slot] = key;
            if with_ids {
                self.ids[slot] = old_ids[i];
            }
        }
    }
}

/// Ask the CPU to start loading `value`'s cache line (a hint; a no-op off x86-64).
#[inline]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints at the cache: it reads nothing the program sees and cannot
    // fault, and `value` is a live reference anyway. (Newer compilers call it safe; Rust 1.80,
    // the oldest this crate builds with, does not.)
    #[allow(unused_unsafe)]
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// The fingerprint as the set tells states apart: with the key's stand-in for 0 (a fingerprint
/// whose bits below the table's are all 0 is the one with only the lowest of them set). Sets kept
/// beside this one must use it too, or they would tell apart two states that are one here.
pub(super) fn as_stored(fingerprint: Fingerprint) -> Fingerprint {
    (fingerprint & !KEY_BITS) | key(fingerprint)
}

/// The key a table keeps for a fingerprint: its bits below the table's, except that 0 marks empty
/// slots.
fn key(fingerprint: Fingerprint) -> u64 {
    match fingerprint & KEY_BITS {
        EMPTY => ZERO_STANDS_IN,
        key => key,
    }
}

/// The table of a fingerprint: its top bits.
fn segment(fingerprint: Fingerprint) -> usize {
    (fingerprint >> (64 - SEGMENT_BITS)) as usize
}

/// A key's first slot in a table of `size`: the key scaled to the size.
fn home(key: u64, size: usize) -> usize {
    (((key << SEGMENT_BITS) as u128 * size as u128) >> 64) as usize
}

/// The slot of `slots` (its fingerprint's table) where a lookup of `fingerprint` begins.
fn home_slot<T>(slots: &[T], fingerprint: Fingerprint) -> &T {
    &slots[home(key(fingerprint), slots.len())]
}

/// The slot after `slot`, wrapping around.
fn next(slot: usize, size: usize) -> usize {
    if slot + 1 == size {
        0
    } else {
        slot + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spread-out fingerprints, as a hash gives them.
    fn fingerprints(count: u64) -> impl Iterator<Item = Fingerprint> {
        (0..count).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i << 7))
    }

    #[test]
    fn inserts_are_found_and_repeats_refused_across_growths() {
        let mut seen = Seen::new(false);
        for (id, fingerprint) in fingerprints(100_000).enumerate() {
            assert!(!seen.contains(fingerprint));
            assert!(seen.insert(fingerprint, id as u32));
        }
        for fingerprint in fingerprints(100_000) {
            assert!(seen.contains(fingerprint));
            assert!(!seen.insert(fingerprint, 0));
            assert_eq!(seen.id(fingerprint), None, "ids are not kept");
        }
        assert!(!seen.contains(fingerprints(100_001).last().unwrap()));
        let total: usize = seen.tables.iter().map(|t| t.len).sum();
        assert_eq!(total, 100_000);
        for table in &seen.tables {
            assert!(table.len * 4 < table.slots.len() * 3, "grown at 3/4 full");
        }
    }

    /// A batch's fingerprints in frontier order, cut into chunks, claimed by `threads` workers
    /// taking chunks in turn (from the last one if `backwards`: later chunks then win the claims
    /// that earlier ones must get), then resolved in order: whether each is new.
    fn claim_batch(
        seen: &mut Seen,
        chunks: &[Vec<Fingerprint>],
        threads: usize,
        backwards: bool,
    ) -> Vec<bool> {
        // As the search does: the sets beside the tables tell fingerprints apart as they do.
        let chunks: Vec<Vec<Fingerprint>> = chunks
            .iter()
            .map(|chunk| chunk.iter().map(|&f| as_stored(f)).collect())
            .collect();
        let chunks = &chunks[..];
        let expected = chunks.iter().map(Vec::len).sum();
        let claims = seen.claims(threads, expected);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let answers: Vec<std::sync::Mutex<Vec<Claim>>> =
            chunks.iter().map(|_| Default::default()).collect();
        let claims_over = std::sync::Barrier::new(threads);
        let entered: Vec<Entered> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut share = claims.share();
                        loop {
                            let taken = next.fetch_add(1, Ordering::Relaxed);
                            if taken >= chunks.len() {
                                break;
                            }
                            let i = if backwards {
                                chunks.len() - 1 - taken
                            } else {
                                taken
                            };
                            let chunk = &chunks[i];
                            let mut made = FingerprintSet::default();
                            *answers[i].lock().unwrap() = chunk
                                .iter()
                                .map(|&f| match claims.claim(f, &mut share) {
                                    // Repeats within a chunk are the chunk's own business.
                                    Claim::Visited => Claim::Visited,
                                    _ if !made.insert(f) => Claim::Visited,
                                    claim => claim,
                                })
                                .collect();
                        }
                        claims_over.wait();
                        claims.unmark(share)
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        seen.count(&entered);
        let answers: Vec<Vec<Claim>> = answers
            .into_iter()
            .map(|a| a.into_inner().unwrap())
            .collect();
        let claimed = |wanted: &[Claim]| -> Vec<Vec<Fingerprint>> {
            chunks
                .iter()
                .zip(&answers)
                .map(|(chunk, claims)| {
                    chunk
                        .iter()
                        .zip(claims)
                        .filter(|(_, claim)| wanted.contains(claim))
                        .map(|(&f, _)| f)
                        .collect()
                })
                .collect()
        };
        let disputed = claimed(&[Claim::Contested, Claim::Deferred]);
        let disputed: Vec<&[Fingerprint]> = disputed.iter().map(Vec::as_slice).collect();
        let won: FingerprintSet = claimed(&[Claim::Won]).into_iter().flatten().collect();
        let settled: Vec<Claim> = chunks
            .iter()
            .flatten()
            .zip(answers.iter().flatten())
            .map(|(&f, &claim)| match claim {
                Claim::Deferred => seen.claim_late(f, &won),
                claim => claim,
            })
            .collect();
        let mut resolver = Resolver::new(&disputed);
        chunks
            .iter()
            .flatten()
            .zip(settled)
            .map(|(&f, claim)| resolver.is_new(f, claim))
            .collect()
    }

    #[test]
    fn claims_settle_the_first_of_equal_fingerprints_in_order_as_one_by_one() {
        // 3 << 60 and 3 << 60 | 1 have the same key: one state to the set, in two chunks.
        let batch: Vec<Fingerprint> = [3 << 60]
            .into_iter()
            .chain(fingerprints(30_000))
            .chain(fingerprints(40_000).step_by(3))
            .chain([0, 1 << 60, 0, 1, u64::MAX, 3 << 60 | 1])
            .collect();
        let before = || fingerprints(10_000).step_by(2);
        let mut one_by_one = Seen::new(false);
        for fingerprint in before() {
            one_by_one.insert(fingerprint, 0);
        }
        let expected: Vec<bool> = batch.iter().map(|&f| one_by_one.insert(f, 0)).collect();
        for (threads, backwards) in [1, 2, 3, 8]
            .into_iter()
            .flat_map(|t| [(t, false), (t, true)])
        {
            // Ample room, then none (every claim deferred to the merge), then a little.
            for cap in [usize::MAX, 0, 7] {
                SHARE_CAP.set(cap);
                let mut seen = Seen::new(false);
                for fingerprint in before() {
                    seen.insert(fingerprint, 0);
                }
                let chunks: Vec<Vec<Fingerprint>> = batch.chunks(1000).map(<[_]>::to_vec).collect();
                assert_eq!(
                    claim_batch(&mut seen, &chunks, threads, backwards),
                    expected,
                    "{threads} threads, backwards {backwards}, share cap {cap}"
                );
                assert!(batch.iter().all(|&f| seen.contains(f)));
                assert!(seen
                    .tables
                    .iter()
                    .all(|t| t.slots.iter().all(|&s| s & FRESH == 0)));
                let total: usize = seen.tables.iter().map(|t| t.len).sum();
                assert_eq!(
                    total,
                    one_by_one.tables.iter().map(|t| t.len).sum::<usize>()
                );
                // A second batch finds the first one's states visited.
                assert!(claim_batch(&mut seen, &chunks, threads, backwards)
                    .iter()
                    .all(|&new| !new));
            }
            SHARE_CAP.set(usize::MAX);
        }
    }

    #[test]
    fn tables_large_enough_for_huge_pages_keep_every_fingerprint() {
        // As many fingerprints as tables of 2 MiB of slots hold three quarters full: the tables
        // grow into mapped memory on the way.
        let count = (SEGMENTS * (2 << 20) / 8 * 3 / 4) as u64;
        let mut seen = Seen::new(false);
        for fingerprint in fingerprints(count) {
            seen.insert(fingerprint, 0);
        }
        assert!(seen
            .tables
            .iter()
            .any(|table| matches!(table.slots, Words::Mapped { .. })));
        assert!(fingerprints(count).all(|fingerprint| seen.contains(fingerprint)));
        assert!(!seen.contains(fingerprints(count + 1).last().unwrap()));
    }

    #[test]
    fn ids_survive_growth() {
        let mut seen = Seen::new(true);
        for (id, fingerprint) in fingerprints(50_000).enumerate() {
            seen.insert(fingerprint, id as u32);
        }
        for (id, fingerprint) in fingerprints(50_000).enumerate() {
            assert_eq!(seen.id(fingerprint), Some(id as u32));
        }
        assert_eq!(seen.id(12345), None);
    }

    #[test]
    fn zero_and_top_bit_fingerprints_are_ordinary_members() {
        let mut seen = Seen::new(true);
        for (id, fingerprint) in [0, u64::MAX, 1 << 63].into_iter().enumerate() {
            assert!(seen.insert(fingerprint, id as u32));
        }
        assert!(seen.contains(0) && seen.contains(u64::MAX) && seen.contains(1 << 63));
        assert_eq!(seen.id(u64::MAX), Some(1));
        // A key of 0 is stored as 1, so the two stand for one state: a collision like any other
        // pair's, of probability 2^-64, covered by the printed collision probability.
        assert!(!seen.insert(1, 3));
        assert!(!seen.insert(1 << 63 | 1, 3));
    }
}

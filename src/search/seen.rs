//! The visited set of a breadth-first search: 64-bit fingerprints in open-addressing tables.
//!
//! Memory per state decides how large a space fits, and a general-purpose hash set spends it
//! badly here: hashbrown keeps a control byte per slot, doubles its table (so right after a growth
//! it is less than half full) and holds the old and the new table at once while it grows. For the
//! reference N = 5 space (7.45 M states) that peak was 30 bytes per state for 8 bytes of
//! fingerprint. This set is made of [`SEGMENTS`] tables chosen by a fingerprint's top bits; each
//! is a plain array of fingerprints (0 marks an empty slot), probed linearly, and grows by half
//! when three quarters full. The tables stay between half and three quarters full (11 to 16 bytes
//! per state), and only one table (a sixteenth of the set) is being copied at any time. Sixteen
//! tables rather than more: a large table gets huge pages ([`super::words`]), which a lookup's
//! address translation needs far more than a growth needs small tables.
//!
//! When the search records the state graph, each slot also keeps the state's id.

use super::fingerprint::Fingerprint;
use super::words::Words;

/// Tables, chosen by a fingerprint's top [`SEGMENT_BITS`] bits.
const SEGMENTS: usize = 1 << SEGMENT_BITS;
const SEGMENT_BITS: u32 = 4;
/// Slots of a table before its first growth.
const INITIAL_SLOTS: usize = 64;
/// Marks an empty slot; a fingerprint that happens to be 0 is stored as [`ZERO_STANDS_IN`].
const EMPTY: Fingerprint = 0;
const ZERO_STANDS_IN: Fingerprint = 1;
// A new table is zeroed memory: all of it empty slots.
const _: () = assert!(EMPTY == 0);

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
        let (table, key) = self.locate(fingerprint);
        table.find(key).is_ok()
    }

    /// Start loading the slot where a lookup of `fingerprint` begins, so that a
    /// [`Seen::contains`] or an insert made a little later finds it in cache. A visited set of
    /// millions of states is far larger than the caches: without this, a search spends a fifth of
    /// its time waiting for these loads one at a time.
    pub(super) fn prefetch(&self, fingerprint: Fingerprint) {
        let (table, key) = self.locate(fingerprint);
        table.prefetch(key);
    }

    /// The id of a visited state (`None` when it is not visited, or ids are not kept).
    pub(super) fn id(&self, fingerprint: Fingerprint) -> Option<u32> {
        if !self.with_ids {
            return None;
        }
        let (table, key) = self.locate(fingerprint);
        table.find(key).ok().map(|slot| table.ids[slot])
    }

    /// Record a state as visited under `id`; `false` if it already was.
    pub(super) fn insert(&mut self, fingerprint: Fingerprint, id: u32) -> bool {
        let key = stored(fingerprint);
        let with_ids = self.with_ids;
        self.tables[segment(key)].insert(key, id, with_ids)
    }

    /// Record many states as visited, `threads` ways in parallel; whether each was new, in order.
    /// Thread `t` owns the tables whose number is `t` modulo `threads` and walks the whole list,
    /// inserting the fingerprints of its tables in the list's order: of two equal fingerprints
    /// the first is the new one, exactly as with [`Seen::insert`] one by one. Inserts into the
    /// visited set are cache misses, the largest part of a breadth-first search's merge, which
    /// would otherwise run on one thread. Only for a set without ids.
    pub(super) fn insert_all(&mut self, fingerprints: &[Fingerprint], threads: usize) -> Vec<bool> {
        assert!(!self.with_ids, "parallel inserts give no ids");
        let threads = threads.clamp(1, SEGMENTS);
        let mut owned: Vec<Vec<&mut Table>> = (0..threads).map(|_| Vec::new()).collect();
        for (number, table) in self.tables.iter_mut().enumerate() {
            owned[number % threads].push(table);
        }
        let insert = |part: usize, tables: &mut [&mut Table]| {
            // The stored key of a fingerprint whose table `part` owns, and that table's place
            // among `tables`.
            let owned_key = |fingerprint: Fingerprint| {
                let key = stored(fingerprint);
                let number = segment(key);
                (number % threads == part).then_some((number / threads, key))
            };
            let mut new = Vec::new();
            for (i, &fingerprint) in fingerprints.iter().enumerate() {
                let ahead = fingerprints.get(i + PREFETCH_DISTANCE);
                if let Some((table, key)) = ahead.and_then(|&ahead| owned_key(ahead)) {
                    tables[table].prefetch(key);
                }
                if let Some((table, key)) = owned_key(fingerprint) {
                    if tables[table].insert(key, 0, false) {
                        new.push(i);
                    }
                }
            }
            new
        };
        let news: Vec<Vec<usize>> = if threads == 1 {
            owned.iter_mut().map(|tables| insert(0, tables)).collect()
        } else {
            std::thread::scope(|scope| {
                let workers: Vec<_> = owned
                    .into_iter()
                    .enumerate()
                    .map(|(part, mut tables)| scope.spawn(move || insert(part, &mut tables)))
                    .collect();
                workers
                    .into_iter()
                    .map(|worker| worker.join().expect("an insert thread does not panic"))
                    .collect()
            })
        };
        let mut is_new = vec![false; fingerprints.len()];
        for i in news.into_iter().flatten() {
            is_new[i] = true;
        }
        is_new
    }

    fn locate(&self, fingerprint: Fingerprint) -> (&Table, Fingerprint) {
        let key = stored(fingerprint);
        (&self.tables[segment(key)], key)
    }
}

impl Table {
    /// Start loading the slot where a lookup of `key` begins.
    fn prefetch(&self, key: Fingerprint) {
        prefetch(&self.slots[home(key, self.slots.len())]);
    }

    /// Add `key` (with `id` if ids are kept); `false` if it is here already.
    fn insert(&mut self, key: Fingerprint, id: u32, with_ids: bool) -> bool {
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

    /// `Ok(slot)` holding `key`, or `Err(slot)`: the empty slot where it would go.
    fn find(&self, key: Fingerprint) -> Result<usize, usize> {
        let mut slot = home(key, self.slots.len());
        loop {
            match self.slots[slot] {
                k if k == key => return Ok(slot),
                EMPTY => return Err(slot),
                _ => {
                    slot = if slot + 1 == self.slots.len() {
                        0
                    } else {
                        slot + 1
                    }
                }
            }
        }
    }

    /// Move every entry into a table half as large again.
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
            let slot = self.find(key).expect_err("keys are distinct");
            self.slots[slot] = key;
            if with_ids {
                self.ids[slot] = old_ids[i];
            }
        }
    }
}

/// How far ahead of its inserts [`Seen::insert_all`] asks for slots: enough loads in flight to
/// cover a memory access while the inserts between them run.
const PREFETCH_DISTANCE: usize = 16;

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

/// The value stored for a fingerprint: itself, except that 0 marks empty slots.
fn stored(fingerprint: Fingerprint) -> Fingerprint {
    if fingerprint == EMPTY {
        ZERO_STANDS_IN
    } else {
        fingerprint
    }
}

fn segment(key: Fingerprint) -> usize {
    (key >> (64 - SEGMENT_BITS)) as usize
}

/// A key's first slot in a table of `size`: the bits below the segment's, scaled to the size.
fn home(key: Fingerprint, size: usize) -> usize {
    (((key << SEGMENT_BITS) as u128 * size as u128) >> 64) as usize
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

    #[test]
    fn parallel_inserts_find_the_first_of_equal_fingerprints_as_one_by_one() {
        let batch: Vec<Fingerprint> = fingerprints(30_000)
            .chain(fingerprints(40_000).step_by(3))
            .chain([0, 1, 0])
            .collect();
        let mut one_by_one = Seen::new(false);
        for fingerprint in fingerprints(10_000).step_by(2) {
            one_by_one.insert(fingerprint, 0);
        }
        let expected: Vec<bool> = batch.iter().map(|&f| one_by_one.insert(f, 0)).collect();
        for threads in [1, 2, 3, 8] {
            let mut seen = Seen::new(false);
            for fingerprint in fingerprints(10_000).step_by(2) {
                seen.insert(fingerprint, 0);
            }
            assert_eq!(
                seen.insert_all(&batch, threads),
                expected,
                "{threads} threads"
            );
            assert!(batch.iter().all(|&f| seen.contains(f)));
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
        // 0 is stored as 1, so the two stand for one state: a collision like any other pair's,
        // of probability 2^-64, covered by the printed collision probability.
        assert!(!seen.insert(1, 3));
    }
}

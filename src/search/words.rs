//! Zeroed arrays of 64-bit words for the visited set's tables; large ones on huge pages.
//!
//! A lookup in the visited set lands on a random slot of a table of megabytes. With 4 KiB pages
//! almost every such lookup also misses the TLB, and the page walk that follows (two-level under
//! virtualization) costs about as much as the cache miss itself: a prefetch cannot hide it, since
//! the processor must translate the address before it can fetch anything. A table of at least
//! [`HUGE_PAGE`] bytes therefore gets a mapping of its own and asks the kernel to back it with
//! 2 MiB pages (`MADV_HUGEPAGE`), which Linux grants where transparent huge pages are enabled
//! (`always` or `madvise`, the common default). Elsewhere, or if the kernel declines, the mapping
//! simply keeps small pages.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::AtomicU64;

// `Words::atomic` views words as atomics: the two must be laid out alike.
const _: () = assert!(
    std::mem::size_of::<u64>() == std::mem::size_of::<AtomicU64>()
        && std::mem::align_of::<u64>() == std::mem::align_of::<AtomicU64>()
);

/// The size of a huge page on x86-64 and most arm64 kernels: a table smaller than this could not
/// fill one.
const HUGE_PAGE: usize = 2 << 20;

/// A zeroed array of words: on the heap when small, in its own (huge-page) mapping when large.
pub(super) enum Words {
    Heap(Vec<u64>),
    /// The mapping, whole huge pages from a huge-page boundary, and the words in use: its first
    /// `len`.
    Mapped {
        map: memmap2::MmapMut,
        start: usize,
        len: usize,
    },
}

impl Words {
    /// `len` zero words.
    pub(super) fn zeroed(len: usize) -> Self {
        let bytes = len * std::mem::size_of::<u64>();
        if bytes >= HUGE_PAGE {
            // The kernel backs only the aligned 2 MiB stretches of a mapping with huge pages: map
            // a page more than whole pages need, and start at the first boundary in it. An
            // anonymous mapping is zeroed by the kernel; if there is none to be had, the heap will
            // not have the memory either, and the allocation below reports it.
            let whole = bytes.div_ceil(HUGE_PAGE) * HUGE_PAGE;
            if let Ok(map) = memmap2::MmapMut::map_anon(whole + HUGE_PAGE) {
                let start = map.as_ptr().align_offset(HUGE_PAGE).min(HUGE_PAGE);
                // A hint: without transparent huge pages the table works the same, only slower.
                #[cfg(target_os = "linux")]
                let _ = map.advise_range(memmap2::Advice::HugePage, start, whole);
                return Words::Mapped { map, start, len };
            }
        }
        Words::Heap(vec![0; len])
    }
}

impl Words {
    /// The words as atomics, for threads that share the array while this borrow lasts. (What the
    /// standard library's unstable `AtomicU64::from_mut_slice` does.)
    pub(super) fn atomic(&mut self) -> &[AtomicU64] {
        let words: &mut [u64] = self;
        // SAFETY: `AtomicU64` has the size, alignment (asserted above) and bit validity of `u64`,
        // and the words are borrowed exclusively for as long as the atomics live, so nothing
        // reads or writes them other than through the atomics.
        unsafe { &*(std::ptr::from_mut(words) as *const [AtomicU64]) }
    }
}

impl Deref for Words {
    type Target = [u64];

    fn deref(&self) -> &[u64] {
        match self {
            Words::Heap(words) => words,
            // The words start on a huge-page boundary, so they are aligned.
            Words::Mapped { map, start, len } => &bytemuck::cast_slice(&map[*start..])[..*len],
        }
    }
}

impl DerefMut for Words {
    fn deref_mut(&mut self) -> &mut [u64] {
        match self {
            Words::Heap(words) => words,
            Words::Mapped { map, start, len } => {
                &mut bytemuck::cast_slice_mut(&mut map[*start..])[..*len]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn small_and_large_arrays_start_zeroed_and_hold_what_is_written() {
        for len in [0, 1, 64, HUGE_PAGE / 8, HUGE_PAGE / 8 * 3 + 5] {
            let mut words = Words::zeroed(len);
            assert_eq!(
                matches!(words, Words::Mapped { .. }),
                len * 8 >= HUGE_PAGE,
                "{len}"
            );
            assert_eq!(words.len(), len);
            assert!(words.iter().all(|&w| w == 0));
            for (i, word) in words.iter_mut().enumerate() {
                *word = i as u64 * 3;
            }
            assert!(words.iter().enumerate().all(|(i, &w)| w == i as u64 * 3));
        }
    }

    #[test]
    fn atomics_read_and_write_the_words_themselves() {
        for len in [3, HUGE_PAGE / 8 + 1] {
            let mut words = Words::zeroed(len);
            words[len - 1] = 7;
            let atomics = words.atomic();
            assert_eq!(atomics.len(), len);
            assert_eq!(atomics[len - 1].load(Ordering::Relaxed), 7);
            atomics[0].store(5, Ordering::Relaxed);
            assert_eq!(words[0], 5);
        }
    }
}

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

/// The size of a huge page on x86-64 and most arm64 kernels: a table smaller than this could not
/// fill one.
const HUGE_PAGE: usize = 2 << 20;

/// A zeroed array of words: on the heap when small, in its own (huge-page) mapping when large.
pub(super) enum Words {
    Heap(Vec<u64>),
    Mapped(memmap2::MmapMut),
}

impl Words {
    /// `len` zero words.
    pub(super) fn zeroed(len: usize) -> Self {
        let bytes = len * std::mem::size_of::<u64>();
        if bytes >= HUGE_PAGE {
            // An anonymous mapping is zeroed by the kernel; if there is none to be had, the heap
            // will not have the memory either, and the allocation below reports it.
            if let Ok(map) = memmap2::MmapMut::map_anon(bytes) {
                // A hint: without transparent huge pages the table works the same, only slower.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                return Words::Mapped(map);
            }
        }
        Words::Heap(vec![0; len])
    }
}

impl Deref for Words {
    type Target = [u64];

    fn deref(&self) -> &[u64] {
        match self {
            Words::Heap(words) => words,
            // A mapping starts on a page boundary and has a whole number of words.
            Words::Mapped(map) => bytemuck::cast_slice(map),
        }
    }
}

impl DerefMut for Words {
    fn deref_mut(&mut self) -> &mut [u64] {
        match self {
            Words::Heap(words) => words,
            Words::Mapped(map) => bytemuck::cast_slice_mut(map),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_arrays_start_zeroed_and_hold_what_is_written() {
        for len in [0, 1, 64, HUGE_PAGE / 8, HUGE_PAGE / 8 * 3 + 5] {
            let mut words = Words::zeroed(len);
            assert_eq!(
                matches!(words, Words::Mapped(_)),
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
}

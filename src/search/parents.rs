//! Each visited state's parent and the index of the action that reached it, about one byte per
//! state instead of five.
//!
//! A breadth-first search keeps these only to rebuild a counterexample, yet for every state: as a
//! `u32` and a `u8` they were a fifth of a search's memory. They are written in state order, and
//! within a level the parents come in frontier order, so a state's parent is almost always its
//! predecessor's parent or one of the next few states, and its action index is small. An entry is
//! therefore one byte, the parent's distance from the previous entry's parent in the high nibble
//! and the action index in the low one; anything else (a parent behind or far ahead, as at the
//! start of a level, an action index from 15 up) is written in full: a marker byte, the action
//! index and the parent's four bytes. Every [`SEGMENT`]-th entry is written in full too, so that
//! an entry is read by decoding at most a segment from its start.

/// Entries between two entries written in full (and indexed).
const SEGMENT: usize = 256;
/// Starts an entry written in full; never a short entry (distance 15 with action 15 is written in
/// full).
const FULL: u8 = 0xff;
/// The largest parent distance and action index of a short entry.
const SHORT_MAX: u32 = 15;

/// The parent and action index of each state, by id.
#[derive(Default)]
pub(super) struct Parents {
    bytes: Vec<u8>,
    /// Where each segment's first entry (written in full) starts in `bytes`.
    segments: Vec<usize>,
    len: usize,
    /// The last entry's parent.
    last_parent: u32,
}

impl Parents {
    /// Append the entry of the next state.
    pub(super) fn push(&mut self, parent: u32, action: u8) {
        if self.len % SEGMENT == 0 {
            self.segments.push(self.bytes.len());
            self.push_full(parent, action);
        } else {
            match parent.checked_sub(self.last_parent) {
                Some(distance)
                    if distance <= SHORT_MAX
                        && u32::from(action) <= SHORT_MAX
                        && (distance as u8) << 4 | action != FULL =>
                {
                    self.bytes.push((distance as u8) << 4 | action);
                }
                _ => self.push_full(parent, action),
            }
        }
        self.last_parent = parent;
        self.len += 1;
    }

    fn push_full(&mut self, parent: u32, action: u8) {
        self.bytes.push(FULL);
        self.bytes.push(action);
        self.bytes.extend_from_slice(&parent.to_le_bytes());
    }

    /// How many states have an entry.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The parent and action index of state `id`.
    pub(super) fn get(&self, id: u32) -> (u32, u8) {
        let id = id as usize;
        assert!(id < self.len, "state {id} of {}", self.len);
        let mut at = self.segments[id / SEGMENT];
        let mut entry = (0, 0);
        for _ in 0..=id % SEGMENT {
            entry = match self.bytes[at] {
                FULL => {
                    let parent = &self.bytes[at + 2..at + 6];
                    at += 6;
                    let parent = u32::from_le_bytes(parent.try_into().expect("four bytes"));
                    (parent, self.bytes[at - 5])
                }
                short => {
                    at += 1;
                    (entry.0 + u32::from(short >> 4), short & 0xf)
                }
            };
        }
        entry
    }

    /// Bytes held, for tests of the encoding's size.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes.len() + self.segments.len() * std::mem::size_of::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_reads_back_whatever_its_form() {
        // Levels: parents that stay, step ahead, jump back (a new level), jump far ahead; action
        // indices small and large; the marker's own combination (distance 15, action 15).
        let mut entries = vec![(u32::MAX, 0), (u32::MAX, 1)];
        let mut parent = 0;
        for i in 0..5_000u32 {
            parent += match i % 7 {
                0 | 1 => 0,
                2 => 1,
                3 => 15,
                4 => 16,
                5 => 1_000_000,
                _ => 3,
            };
            let action = match i % 5 {
                0 => 15,
                1 => 16,
                2 => 255,
                _ => (i % 15) as u8,
            };
            entries.push((parent, action));
            if i % 1_000 == 999 {
                parent = 7;
            }
        }
        let mut parents = Parents::default();
        for &(parent, action) in &entries {
            parents.push(parent, action);
        }
        assert_eq!(parents.len(), entries.len());
        for (id, &entry) in entries.iter().enumerate() {
            assert_eq!(parents.get(id as u32), entry, "state {id}");
        }
    }

    #[test]
    fn a_level_in_frontier_order_takes_about_a_byte_per_state() {
        let mut parents = Parents::default();
        let states = 100_000u32;
        for id in 0..states {
            // Two or three successors per parent, parents in order.
            parents.push(id * 2 / 5, (id % 3) as u8);
        }
        assert!(
            parents.bytes() < states as usize * 11 / 10,
            "{} bytes",
            parents.bytes()
        );
    }

    #[test]
    #[should_panic(expected = "state 3 of 3")]
    fn a_state_without_an_entry_is_refused() {
        let mut parents = Parents::default();
        for id in 0..3 {
            parents.push(id, 0);
        }
        parents.get(3);
    }
}

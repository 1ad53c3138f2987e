//! The states of one breadth-first level, packed.
//!
//! A model's state type is built for stepping, not for storage: the lock world keeps fixed room for
//! eight clients and their channels (about a kilobyte), most of it empty. A level of a large
//! search holds hundreds of thousands of states, so they wait in their serialized form
//! (`postcard`: small integers as single bytes, collections as their used length), one byte arena
//! per level, and are unpacked one at a time when a worker expands them. Successors are packed
//! where they are made, so nothing larger than a few dozen bytes is moved between buffers.

use std::ops::Range;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Room for one packed state on the stack: writing into a slice is several times faster than
/// growing a `Vec` a byte at a time; a larger state falls back to the `Vec`.
const SCRATCH: usize = 1024;

/// Pack `state` at the end of `bytes`; returns where it lies.
pub(super) fn pack<S: Serialize>(state: &S, bytes: &mut Vec<u8>) -> Range<usize> {
    let start = bytes.len();
    let mut scratch = [0u8; SCRATCH];
    match postcard::to_slice(state, &mut scratch) {
        Ok(packed) => bytes.extend_from_slice(packed),
        Err(_) => {
            let extended = postcard::to_extend(state, std::mem::take(bytes))
                .expect("a state always serializes (no maps, no unsized values)");
            *bytes = extended;
        }
    }
    start..bytes.len()
}

/// The state packed in `bytes`.
pub(super) fn unpack<S: DeserializeOwned>(bytes: &[u8]) -> S {
    postcard::from_bytes(bytes).expect("bytes packed by `pack` unpack")
}

/// States with their ids, in order.
#[derive(Default)]
pub(super) struct Frontier {
    ids: Vec<u32>,
    /// Where each state's bytes end in `bytes` (each starts where the previous one ends).
    ends: Vec<usize>,
    bytes: Vec<u8>,
}

impl Frontier {
    pub(super) fn push<S: Serialize>(&mut self, id: u32, state: &S) {
        pack(state, &mut self.bytes);
        self.ids.push(id);
        self.ends.push(self.bytes.len());
    }

    pub(super) fn push_packed(&mut self, id: u32, packed: &[u8]) {
        self.bytes.extend_from_slice(packed);
        self.ids.push(id);
        self.ends.push(self.bytes.len());
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The states at positions `range`, as (id, packed bytes).
    pub(super) fn slice(&self, range: Range<usize>) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        range.map(move |i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            (self.ids[i], &self.bytes[start..self.ends[i]])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type State = (u8, Vec<u16>, Option<bool>);

    #[test]
    fn packed_states_come_back_equal_and_in_order() {
        let states: Vec<State> = vec![
            (0, vec![], None),
            (7, vec![1, 300, 65535], Some(true)),
            (255, vec![2], Some(false)),
        ];
        let mut frontier = Frontier::default();
        for (id, state) in states.iter().enumerate() {
            frontier.push(id as u32 * 10, state);
        }
        assert_eq!(frontier.len(), 3);
        let back: Vec<(u32, State)> = frontier
            .slice(0..3)
            .map(|(id, bytes)| (id, unpack(bytes)))
            .collect();
        let expected: Vec<_> = states
            .into_iter()
            .enumerate()
            .map(|(i, s)| (i as u32 * 10, s))
            .collect();
        assert_eq!(back, expected);
        let middle: Vec<u32> = frontier.slice(1..2).map(|(id, _)| id).collect();
        assert_eq!(middle, [10]);
    }
}

//! The states of one breadth-first level, packed and compressed.
//!
//! A level of a large search holds hundreds of thousands of states, so they wait in their packed
//! form ([`lockscope_models::pack`]: a lock state is a few dozen bytes instead of about 900), and
//! those bytes are compressed in blocks (LZ4). A block is what one worker made from one chunk of
//! the level before: its states are similar (neighbours of the same few parents), so they compress
//! several-fold. Workers compress the blocks they make and decompress the ones they expand, in
//! parallel; the merge only moves them.
//!
//! Not every state a worker packs belongs to the level (the merge drops those another chunk
//! reached first), and the level must know which do and what their ids are. A block therefore
//! holds each state's length before its bytes (a LEB128 word, compressed with them), and beside
//! the compressed bytes a bit per state packed, set for the ones kept, and the first kept one's
//! id: a block's kept states have consecutive ids, since the merge numbers new states in the
//! order they were made. An id and a range of bytes per kept state took 12 bytes, more than the
//! compressed state itself.

use std::hash::Hash;
use std::ops::Range;

use lockscope_models::pack::PackState;

use super::fingerprint::{fingerprint, fingerprint_packed, Fingerprint};

/// Pack `state` at the end of `bytes`; returns where it lies.
pub(super) fn pack<S: PackState>(state: &S, bytes: &mut Vec<u8>) -> Range<usize> {
    let start = bytes.len();
    state.pack_state(bytes);
    start..bytes.len()
}

/// A successor's fingerprint, taken the cheaper way for its type
/// ([`PackState::FINGERPRINT_PACKED`]): from its packed bytes, which then wait in a scratch buffer
/// in case it is kept, or from its `Hash`.
pub(super) struct Fingerprinted {
    pub(super) fingerprint: Fingerprint,
    /// Where the packed bytes lie in the scratch buffer given to [`Fingerprinted::of`].
    packed: Option<Range<usize>>,
}

impl Fingerprinted {
    pub(super) fn of<S: PackState + Hash>(state: &S, scratch: &mut Vec<u8>) -> Self {
        if S::FINGERPRINT_PACKED {
            let packed = pack(state, scratch);
            Fingerprinted {
                fingerprint: fingerprint_packed(&scratch[packed.clone()]),
                packed: Some(packed),
            }
        } else {
            Fingerprinted {
                fingerprint: fingerprint(state),
                packed: None,
            }
        }
    }

    /// The state is kept: its length and packed form are appended to `bytes`, a block's (copied
    /// from `scratch`, or packed now if it was not yet).
    pub(super) fn keep<S: PackState>(&self, state: &S, scratch: &[u8], bytes: &mut Vec<u8>) {
        match &self.packed {
            Some(packed) => {
                write_length(packed.len(), bytes);
                bytes.extend_from_slice(&scratch[packed.clone()]);
            }
            None => {
                let mut packed = Vec::new();
                pack(state, &mut packed);
                write_length(packed.len(), bytes);
                bytes.extend_from_slice(&packed);
            }
        }
    }
}

/// A state's length in a block, before its bytes: LEB128 (one byte below 128).
fn write_length(mut length: usize, bytes: &mut Vec<u8>) {
    while length >= 0x80 {
        bytes.push(length as u8 | 0x80);
        length >>= 7;
    }
    bytes.push(length as u8);
}

/// The length at the start of `bytes`, and the bytes after it.
fn read_length(bytes: &[u8]) -> (usize, &[u8]) {
    let mut length = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        length |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return (length, &bytes[i + 1..]);
        }
    }
    panic!("a block's length words end")
}

/// The state packed in `bytes`.
pub(super) fn unpack<S: PackState>(bytes: &[u8]) -> S {
    S::unpack_state(bytes)
}

/// Compress a block of packed states: its length, then its LZ4 block, in a vector of just that
/// size. The compressor writes into `scratch`, which a worker keeps from block to block: making
/// the worst case's room in the result and shrinking it after cost an allocation and a copy more
/// per block.
pub(super) fn compress(packed: &[u8], scratch: &mut Vec<u8>) -> Vec<u8> {
    let room = lz4_flex::block::get_maximum_output_size(packed.len());
    if scratch.len() < room {
        scratch.resize(room, 0);
    }
    let written = lz4_flex::block::compress_into(packed, scratch)
        .expect("the output has the compressor's worst-case room");
    let length = u32::try_from(packed.len()).expect("a block is under 4 GiB");
    let mut compressed = Vec::with_capacity(4 + written);
    compressed.extend_from_slice(&length.to_le_bytes());
    compressed.extend_from_slice(&scratch[..written]);
    compressed
}

/// One block: compressed packed states, and which of them belong to the level.
struct Block {
    compressed: Vec<u8>,
    kept: Kept,
}

/// Which of a block's packed states belong to the level, and their ids: a bit per state in the
/// order they were packed, and the first kept state's id (the others follow it).
#[derive(Clone, Default)]
pub(super) struct Kept {
    bits: Vec<u64>,
    count: u32,
    first_id: u32,
}

impl Kept {
    /// The `index`-th state packed in the block is kept, with id `id`: the id after the previous
    /// kept state's, with a greater index.
    pub(super) fn keep(&mut self, index: u32, id: u32) {
        if self.count == 0 {
            self.first_id = id;
        } else {
            assert_eq!(
                id,
                self.first_id + self.count,
                "a block's kept states have consecutive ids"
            );
        }
        let word = index as usize / 64;
        if self.bits.len() <= word {
            self.bits.resize(word + 1, 0);
        }
        self.bits[word] |= 1 << (index % 64);
        self.count += 1;
    }

    fn contains(&self, index: usize) -> bool {
        self.bits
            .get(index / 64)
            .is_some_and(|word| word & 1 << (index % 64) != 0)
    }
}

/// A level's states with their ids, in order, in blocks.
#[derive(Default)]
pub(super) struct Frontier {
    blocks: Vec<Block>,
    len: usize,
}

impl Frontier {
    /// Append a block: `compressed` (made by [`compress`] of states written by
    /// [`Fingerprinted::keep`]), of which `kept` belong to the level.
    pub(super) fn push_block(&mut self, compressed: Vec<u8>, kept: Kept) {
        if kept.count == 0 {
            return;
        }
        self.len += kept.count as usize;
        self.blocks.push(Block { compressed, kept });
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// States in block `block`.
    pub(super) fn block_len(&self, block: usize) -> usize {
        self.blocks[block].kept.count as usize
    }

    /// The states of block `block` as (id, packed bytes), decompressed into `buffer`.
    pub(super) fn block<'a>(
        &'a self,
        block: usize,
        buffer: &'a mut Vec<u8>,
    ) -> impl Iterator<Item = (u32, &'a [u8])> + 'a {
        let block = &self.blocks[block];
        let (length, compressed) = lz4_flex::block::uncompressed_size(&block.compressed)
            .expect("a block starts with its length");
        buffer.resize(length, 0);
        let written = lz4_flex::block::decompress_into(compressed, buffer)
            .expect("blocks compressed by `compress` decompress");
        assert_eq!(
            written, length,
            "a block decompresses to its recorded length"
        );
        let mut bytes: &'a [u8] = buffer;
        let kept = &block.kept;
        let mut next_id = kept.first_id;
        (0..)
            .map(move |index| {
                let (length, rest) = read_length(bytes);
                let (state, rest) = rest.split_at(length);
                bytes = rest;
                (index, state)
            })
            .filter(|(index, _)| kept.contains(*index))
            .take(kept.count as usize)
            .map(move |(_, state)| {
                next_id += 1;
                (next_id - 1, state)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Hash, serde::Serialize, serde::Deserialize)]
    struct State(u8, Vec<u16>, Option<bool>);

    impl PackState for State {
        const FINGERPRINT_PACKED: bool = false;

        fn pack_state(&self, out: &mut Vec<u8>) {
            lockscope_models::pack::pack_serde(self, out);
        }

        fn unpack_state(bytes: &[u8]) -> Self {
            lockscope_models::pack::unpack_serde(bytes)
        }
    }

    #[test]
    fn packed_states_come_back_equal_and_in_order() {
        let states: Vec<State> = vec![
            State(0, vec![], None),
            State(7, vec![1, 300, 65535], Some(true)),
            State(255, vec![2], Some(false)),
        ];
        let mut frontier = Frontier::default();
        let mut packed = Vec::new();
        let mut scratch = Vec::new();
        for state in &states {
            Fingerprinted::of(state, &mut scratch).keep(state, &scratch, &mut packed);
        }
        let kept = |states: &[(u32, u32)]| {
            let mut kept = Kept::default();
            for &(index, id) in states {
                kept.keep(index, id);
            }
            kept
        };
        // The first block keeps states 0 and 2 (1 was a duplicate), the second state 1.
        frontier.push_block(compress(&packed, &mut scratch), kept(&[(0, 10), (2, 11)]));
        frontier.push_block(compress(&packed, &mut scratch), Kept::default());
        frontier.push_block(compress(&packed, &mut scratch), kept(&[(1, 12)]));
        assert_eq!(
            (frontier.len, frontier.blocks()),
            (3, 2),
            "empty blocks are dropped"
        );
        assert_eq!((frontier.block_len(0), frontier.block_len(1)), (2, 1));
        let mut buffer = Vec::new();
        let mut back: Vec<(u32, State)> = Vec::new();
        for block in 0..frontier.blocks() {
            back.extend(
                frontier
                    .block(block, &mut buffer)
                    .map(|(id, bytes)| (id, unpack(bytes))),
            );
        }
        let expected = vec![
            (10, states[0].clone()),
            (11, states[2].clone()),
            (12, states[1].clone()),
        ];
        assert_eq!(back, expected);
    }

    /// States of 128 bytes and more have lengths of two LEB128 bytes, which read back.
    #[test]
    fn long_states_read_back() {
        let states: Vec<State> = (0..3u16)
            .map(|i| State(i as u8, (0..100 * i).collect(), None))
            .collect();
        let mut packed = Vec::new();
        let mut scratch = Vec::new();
        let mut kept = Kept::default();
        for (i, state) in states.iter().enumerate() {
            Fingerprinted::of(state, &mut scratch).keep(state, &scratch, &mut packed);
            kept.keep(i as u32, 5 + i as u32);
        }
        let mut frontier = Frontier::default();
        frontier.push_block(compress(&packed, &mut scratch), kept);
        let mut buffer = Vec::new();
        let back: Vec<(u32, State)> = frontier
            .block(0, &mut buffer)
            .map(|(id, bytes)| (id, unpack(bytes)))
            .collect();
        assert_eq!(
            back,
            vec![
                (5, states[0].clone()),
                (6, states[1].clone()),
                (7, states[2].clone())
            ]
        );
    }

    #[test]
    #[should_panic(expected = "consecutive ids")]
    fn a_block_refuses_ids_that_do_not_follow_each_other() {
        let mut kept = Kept::default();
        kept.keep(0, 4);
        kept.keep(1, 6);
    }
}

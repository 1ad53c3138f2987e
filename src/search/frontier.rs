//! The states of one breadth-first level, packed and compressed.
//!
//! A level of a large search holds hundreds of thousands of states, so they wait in their packed
//! form ([`lockscope_models::pack`]: a lock state is a few dozen bytes instead of about 900), and
//! those bytes are compressed in blocks (LZ4). A block is what one worker made from one chunk of
//! the level before: its states are similar (neighbours of the same few parents), so they compress
//! several-fold. Workers compress the blocks they make and decompress the ones they expand, in
//! parallel; the merge only moves them.

use std::ops::Range;

use std::hash::Hash;

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

    /// The state is kept: its packed form is appended to `bytes`, a block's (copied from
    /// `scratch`, or packed now if it was not yet); returns where it lies there.
    pub(super) fn keep<S: PackState>(
        &self,
        state: &S,
        scratch: &[u8],
        bytes: &mut Vec<u8>,
    ) -> Range<u32> {
        let range = match &self.packed {
            Some(packed) => {
                let start = bytes.len();
                bytes.extend_from_slice(&scratch[packed.clone()]);
                start..bytes.len()
            }
            None => pack(state, bytes),
        };
        narrow(range)
    }
}

/// A range of a block's bytes, which are far fewer than 4 GiB.
fn narrow(range: Range<usize>) -> Range<u32> {
    let start = u32::try_from(range.start).expect("a block is under 4 GiB");
    let end = u32::try_from(range.end).expect("a block is under 4 GiB");
    start..end
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

/// One block: compressed packed states, and the id and place (in the decompressed bytes) of the
/// ones that belong to the level.
struct Block {
    compressed: Vec<u8>,
    states: Vec<(u32, Range<u32>)>,
}

/// A level's states with their ids, in order, in blocks.
#[derive(Default)]
pub(super) struct Frontier {
    blocks: Vec<Block>,
    len: usize,
}

impl Frontier {
    /// Append a block: `compressed` (made by [`compress`]) holds the states at `states`' ranges.
    pub(super) fn push_block(&mut self, compressed: Vec<u8>, states: Vec<(u32, Range<u32>)>) {
        if states.is_empty() {
            return;
        }
        self.len += states.len();
        self.blocks.push(Block { compressed, states });
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// States in block `block`.
    pub(super) fn block_len(&self, block: usize) -> usize {
        self.blocks[block].states.len()
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
        let bytes: &'a [u8] = buffer;
        block
            .states
            .iter()
            .map(move |(id, range)| (*id, &bytes[range.start as usize..range.end as usize]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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
        let ranges: Vec<_> = states
            .iter()
            .map(|s| narrow(pack(s, &mut packed)))
            .collect();
        // The first block keeps states 0 and 2 (1 was a duplicate), the second state 1.
        let mut scratch = Vec::new();
        frontier.push_block(
            compress(&packed, &mut scratch),
            vec![(10, ranges[0].clone()), (12, ranges[2].clone())],
        );
        frontier.push_block(compress(&packed, &mut scratch), Vec::new());
        frontier.push_block(
            compress(&packed, &mut scratch),
            vec![(11, ranges[1].clone())],
        );
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
            (12, states[2].clone()),
            (11, states[1].clone()),
        ];
        assert_eq!(back, expected);
    }
}

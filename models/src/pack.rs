//! States packed into bytes: the form a search stores them in and fingerprints.
//!
//! A model's state type is built for stepping: the lock world keeps fixed room for eight clients
//! and their channels (about 900 bytes), most of it empty. A breadth-first search makes a
//! successor for every transition, fingerprints it and stores the new ones until the next level
//! expands them; doing that through the derived `Hash` and through serde (a visitor call per field)
//! took over 40 % of a lock search. Packed by hand, a lock state is a few dozen bytes: each
//! message, client, znode and watch is one word (its fields in bits of their own, so the packing
//! is injective), written as a variable-length integer; collections write their used length first.
//! Equal states pack to equal bytes and different states to different bytes, so a hash of the
//! bytes is a fingerprint of the state.
//!
//! ZAB's state, many small structs and enums, is packed through [`Fields`]: the same words, one
//! per field, written by a list of fields per struct. A state type with neither implements
//! [`PackState`] with [`pack_serde`] and [`unpack_serde`] (postcard), whose output is equally
//! canonical for plain data.

use std::cell::RefCell;

/// A state type with a packed form: what a search stores and fingerprints. `unpack_state` reads
/// back exactly what `pack_state` wrote; it is only ever given bytes that `pack_state` made in the
/// same process (packed states are never written to disk), so malformed input is a bug and panics.
pub trait PackState: Sized {
    /// Whether a search fingerprints a state by hashing its packed bytes (then every successor is
    /// packed) rather than through `Hash` (then only new ones are). Worth it when packing is about
    /// as cheap as hashing, as a hand packing or a [`Fields`] list is (ZAB's state, whose derived
    /// `Hash` makes a hasher call per field, gains by it); with postcard, measure.
    const FINGERPRINT_PACKED: bool;

    /// Append the packed form of `self` to `out`.
    fn pack_state(&self, out: &mut Vec<u8>);
    /// Read back a state that `pack_state` wrote.
    fn unpack_state(bytes: &[u8]) -> Self;
}

/// A part of a hand-packed state: a struct writes its fields' words in a fixed order and reads them
/// back in the same order.
pub trait Pack {
    /// Append this value's words to `out`.
    fn pack(&self, out: &mut Packer);
    /// Read one value from the front of `input` into `self`, whose collections are empty. In place
    /// rather than returned: a lock state is about 900 bytes, and every return copied it.
    fn unpack_into(&mut self, input: &mut Unpacker<'_>);
}

/// A value packed as one word: a small integer with each field in bits of its own.
pub trait Word: Sized {
    /// The packed word: distinct values give distinct words.
    fn word(self) -> u64;
    /// The inverse of [`Word::word`].
    fn from_word(word: u64) -> Self;
}

/// `Hash` for a [`Word`] type: one `write_u64` of its word. A hasher mixes once per write, and
/// fingerprinting a state hashes every message and client of every successor, so one write per
/// value (rather than one per field) is the cheaper `Hash`, and an injective word loses nothing.
macro_rules! hash_as_word {
    ($type:ty) => {
        impl std::hash::Hash for $type {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                state.write_u64($crate::pack::Word::word(*self));
            }
        }
    };
}

pub(crate) use hash_as_word;

/// A value packed field by field, in [`Packer::put`] words, and read back by value: for state
/// types made of many small structs and enums (ZAB's), where a word per type, as the lock world
/// packs its messages, would be much code. An enum writes its variant's index first and a
/// collection its length, so the packing is injective, as postcard's is, without serde's calls
/// per field. Structs implement it with [`fields_of_struct`], which lists every field.
pub trait Fields: Sized {
    /// Append this value's words to `out`.
    fn put_fields(&self, out: &mut Packer);
    /// Read one value from the front of `input`.
    fn take_fields(input: &mut Unpacker<'_>) -> Self;
}

impl Fields for u8 {
    #[inline]
    fn put_fields(&self, out: &mut Packer) {
        out.put(u64::from(*self));
    }

    #[inline]
    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        input.take_u8()
    }
}

impl Fields for bool {
    #[inline]
    fn put_fields(&self, out: &mut Packer) {
        out.put(u64::from(*self));
    }

    #[inline]
    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        match input.take() {
            0 => false,
            1 => true,
            word => panic!("packed as a bool: {word}"),
        }
    }
}

impl<T: Fields> Fields for Option<T> {
    #[inline]
    fn put_fields(&self, out: &mut Packer) {
        match self {
            None => out.put(0),
            Some(value) => {
                out.put(1);
                value.put_fields(out);
            }
        }
    }

    #[inline]
    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        bool::take_fields(input).then(|| T::take_fields(input))
    }
}

/// Every element, without a length: the array's is fixed.
impl<T: Fields, const N: usize> Fields for [T; N] {
    #[inline]
    fn put_fields(&self, out: &mut Packer) {
        for item in self {
            item.put_fields(out);
        }
    }

    #[inline]
    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        std::array::from_fn(|_| T::take_fields(input))
    }
}

impl<T: Fields + Default, const N: usize> Fields for crate::Slots<T, N> {
    #[inline]
    fn put_fields(&self, out: &mut Packer) {
        put_sequence(self, out);
    }

    #[inline]
    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        take_sequence(input)
    }
}

impl<T: Fields> Fields for Vec<T> {
    #[inline]
    fn put_fields(&self, out: &mut Packer) {
        put_sequence(self, out);
    }

    #[inline]
    fn take_fields(input: &mut Unpacker<'_>) -> Self {
        take_sequence(input)
    }
}

/// A collection's length, then its items.
#[inline]
fn put_sequence<T: Fields>(items: &[T], out: &mut Packer) {
    out.put(items.len() as u64);
    for item in items {
        item.put_fields(out);
    }
}

/// A collection written by [`put_sequence`].
#[inline]
fn take_sequence<T: Fields, C: FromIterator<T>>(input: &mut Unpacker<'_>) -> C {
    let len = input.take();
    (0..len).map(|_| T::take_fields(input)).collect()
}

/// [`Fields`] for a struct: its fields, in the order listed. The value is read back as a struct
/// expression naming every listed field, so a field left out of the list does not compile.
macro_rules! fields_of_struct {
    ($type:ty { $($field:ident),* $(,)? }) => {
        impl $crate::pack::Fields for $type {
            #[inline]
            fn put_fields(&self, out: &mut $crate::pack::Packer) {
                $( $crate::pack::Fields::put_fields(&self.$field, out); )*
            }

            #[inline]
            fn take_fields(input: &mut $crate::pack::Unpacker<'_>) -> Self {
                Self {
                    $( $field: $crate::pack::Fields::take_fields(input), )*
                }
            }
        }
    };
}

pub(crate) use fields_of_struct;

/// Pack a state through its [`Fields`].
pub fn pack_fields<T: Fields>(value: &T, out: &mut Vec<u8>) {
    pack_with(out, |packer| value.put_fields(packer));
}

/// Read a state written by [`pack_fields`].
pub fn unpack_fields<T: Fields>(bytes: &[u8]) -> T {
    let mut input = Unpacker::new(bytes);
    let value = T::take_fields(&mut input);
    assert!(input.is_empty(), "a packed state is read to its end");
    value
}

/// The most bytes a hand-packed state may take. The lock world's largest (eight clients with full
/// channels, sixteen znodes, sixteen watches) is under 800; a ZAB world of five servers with
/// dozens of messages in flight stays well under this.
const PACKER_BYTES: usize = 4096;
// A packer finds its place in the buffer by masking its position (see `Packer::byte`).
const _: () = assert!(PACKER_BYTES.is_power_of_two());

thread_local! {
    /// The buffer every packing on this thread writes into: packing a state takes several hundred
    /// instructions, and zeroing a fresh buffer for each added about a tenth to that.
    static BUFFER: RefCell<[u8; PACKER_BYTES]> = const { RefCell::new([0; PACKER_BYTES]) };
}

/// Writes one state's words into a buffer, then hands them over at once: a state's words are many
/// and small, and a write to an array, its position kept in a register, costs a few instructions
/// where growing a `Vec` byte by byte costs several times that. The buffer is borrowed rather than
/// a field: a byte stored into a field of the packer might, for all the compiler knows, overwrite
/// its position, which would then be read back from memory after every byte.
pub struct Packer<'a> {
    bytes: &'a mut [u8; PACKER_BYTES],
    len: usize,
}

impl Packer<'_> {
    /// Append `word` as a LEB128 variable-length integer: seven bits per byte, low bits first;
    /// the small words most fields are take one byte.
    #[inline]
    pub fn put(&mut self, mut word: u64) {
        while word >= 0x80 {
            self.byte(word as u8 | 0x80);
            word >>= 7;
        }
        self.byte(word as u8);
    }

    /// Append one byte. The position is masked rather than bounds-checked (no branch per byte);
    /// a state that overflowed the buffer would wrap around in it, and [`Packer::bytes`] refuses
    /// it.
    #[inline]
    fn byte(&mut self, byte: u8) {
        self.bytes[self.len % PACKER_BYTES] = byte;
        self.len += 1;
    }

    /// Append a collection's used length, then each item's word.
    #[inline]
    pub fn put_words<T: Word + Copy>(&mut self, items: &[T]) {
        self.put(items.len() as u64);
        for &item in items {
            self.put(item.word());
        }
    }

    /// The bytes written.
    pub fn bytes(&self) -> &[u8] {
        assert!(self.len <= PACKER_BYTES, "a packed state fits its buffer");
        &self.bytes[..self.len]
    }
}

/// Reads packed bytes from the front.
pub struct Unpacker<'a> {
    bytes: &'a [u8],
}

impl<'a> Unpacker<'a> {
    /// Read `bytes` from their start.
    pub fn new(bytes: &'a [u8]) -> Self {
        Unpacker { bytes }
    }

    /// The next word written by [`Packer::put`].
    #[inline]
    pub fn take(&mut self) -> u64 {
        match self.bytes {
            [byte, rest @ ..] if *byte < 0x80 => {
                self.bytes = rest;
                u64::from(*byte)
            }
            _ => self.take_long(),
        }
    }

    /// A word of more than one byte.
    fn take_long(&mut self) -> u64 {
        let mut word = 0u64;
        let mut shift = 0;
        loop {
            let (&byte, rest) = self
                .bytes
                .split_first()
                .expect("packed bytes end inside a word");
            self.bytes = rest;
            word |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return word;
            }
            shift += 7;
        }
    }

    /// The next word, which was written from a `u8`.
    #[inline]
    pub fn take_u8(&mut self) -> u8 {
        u8::try_from(self.take()).expect("packed as a byte")
    }

    /// A collection written by [`Packer::put_words`], appended to `items`.
    #[inline]
    pub fn take_words<T: Word, E: Extend<T>>(&mut self, items: &mut E) {
        let len = self.take();
        items.extend((0..len).map(|_| T::from_word(self.take())));
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Pack a hand-packed state: its parts into a [`Packer`], then onto `out`.
pub fn pack_parts<T: Pack>(value: &T, out: &mut Vec<u8>) {
    pack_with(out, |packer| value.pack(packer));
}

/// Run `write` on a packer over this thread's buffer, then append what it wrote to `out`.
#[inline]
fn pack_with(out: &mut Vec<u8>, write: impl FnOnce(&mut Packer<'_>)) {
    BUFFER.with_borrow_mut(|bytes| {
        let mut packer = Packer { bytes, len: 0 };
        write(&mut packer);
        out.extend_from_slice(packer.bytes());
    });
}

/// Read a hand-packed state written by [`pack_parts`] into `value`, whose collections are empty.
pub fn unpack_parts<T: Pack>(bytes: &[u8], value: &mut T) {
    let mut input = Unpacker::new(bytes);
    value.unpack_into(&mut input);
    assert!(input.is_empty(), "a packed state is read to its end");
}

/// Pack `value` with postcard: for state types without a hand packing.
pub fn pack_serde<T: serde::Serialize>(value: &T, out: &mut Vec<u8>) {
    let packed = postcard::to_extend(value, std::mem::take(out))
        .expect("a state always serializes (no maps, no unsized values)");
    *out = packed;
}

/// Read a value written by [`pack_serde`].
pub fn unpack_serde<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
    postcard::from_bytes(bytes).expect("bytes packed by pack_serde unpack")
}

/// `state` packed into a new vector, then read back: what a search does with every state it
/// stores. For round-trip tests.
pub fn round_trip<T: PackState>(state: &T) -> T {
    let mut bytes = Vec::new();
    state.pack_state(&mut bytes);
    T::unpack_state(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn words_read_back_in_order(words in proptest::collection::vec(any::<u64>(), 0..20)) {
            let mut bytes = Vec::new();
            pack_with(&mut bytes, |packer| {
                for &word in &words {
                    packer.put(word);
                }
            });
            let mut input = Unpacker::new(&bytes);
            for &word in &words {
                prop_assert_eq!(input.take(), word);
            }
            prop_assert!(input.is_empty());
        }
    }

    #[test]
    fn small_words_take_one_byte() {
        let mut bytes = Vec::new();
        pack_with(&mut bytes, |packer| {
            packer.put(0);
            packer.put(127);
        });
        assert_eq!(bytes, [0, 127]);
        pack_with(&mut bytes, |packer| packer.put(128));
        assert_eq!(bytes.len(), 4);
    }

    #[test]
    #[should_panic(expected = "a packed state fits its buffer")]
    fn words_past_the_buffer_are_refused() {
        pack_with(&mut Vec::new(), |packer| {
            for _ in 0..=PACKER_BYTES {
                packer.put(0);
            }
        });
    }
}

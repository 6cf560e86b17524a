//! The canonical binary codec.
//!
//! Fixed-width integers are little-endian; lengths and small counters are LEB128 varints with the shortest
//! form enforced, so every value has exactly one encoding and `decode(encode(x)) == x` and
//! `encode(decode(b)) == b` for every accepted `b`. Every variable-length field is read with an explicit
//! maximum, checked before any allocation.

use thiserror::Error;

/// Why bytes were rejected by a decoder.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended before the value did.
    #[error("unexpected end of input")]
    UnexpectedEnd,
    /// Bytes were left after a complete value.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// A length exceeded the bound for its field.
    #[error("{what} is {len} long, the maximum is {max}")]
    TooLong {
        /// The field.
        what: &'static str,
        /// The length found.
        len: u64,
        /// The bound.
        max: u64,
    },
    /// An enum tag or version byte is unknown.
    #[error("unknown {what} tag {tag}")]
    UnknownTag {
        /// The enum.
        what: &'static str,
        /// The tag found.
        tag: u64,
    },
    /// A varint was overlong, non-minimal or overflowed.
    #[error("malformed varint")]
    BadVarint,
    /// A field decoded but its value is not allowed.
    #[error("invalid {0}")]
    Invalid(&'static str),
}

/// A value with a canonical encoding.
pub trait Encode {
    /// Appends the encoding of `self` to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// The encoding as a new vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }
}

/// A value that can be decoded from untrusted bytes.
pub trait Decode: Sized {
    /// Reads one value from `d`.
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError>;

    /// Decodes exactly one value from `bytes`, rejecting trailing bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut d = Decoder::new(bytes);
        let v = Self::decode_from(&mut d)?;
        d.finish()?;
        Ok(v)
    }
}

/// A cursor over untrusted input.
pub struct Decoder<'a> {
    buf: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// Starts reading `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Decoder { buf }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.buf.len() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::UnexpectedEnd);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    /// Reads a little-endian u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian u64.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian u128.
    pub fn u128(&mut self) -> Result<u128, DecodeError> {
        Ok(u128::from_le_bytes(self.array()?))
    }

    /// Reads a minimal LEB128 varint of at most 128 bits.
    pub fn varint(&mut self) -> Result<u128, DecodeError> {
        let mut value: u128 = 0;
        for i in 0..19 {
            let byte = self.u8()?;
            let chunk = (byte & 0x7f) as u128;
            let shift = 7 * i;
            if shift == 126 && chunk > 0b11 {
                return Err(DecodeError::BadVarint);
            }
            value |= chunk << shift;
            if byte & 0x80 == 0 {
                // A zero final byte after the first is a non-minimal encoding.
                if i > 0 && byte == 0 {
                    return Err(DecodeError::BadVarint);
                }
                return Ok(value);
            }
        }
        Err(DecodeError::BadVarint)
    }

    /// Reads a varint that must fit a u64.
    pub fn varint_u64(&mut self) -> Result<u64, DecodeError> {
        u64::try_from(self.varint()?).map_err(|_| DecodeError::BadVarint)
    }

    /// Reads a varint length and checks it against `max` before anything is allocated.
    pub fn len(&mut self, what: &'static str, max: usize) -> Result<usize, DecodeError> {
        let len = self.varint_u64()?;
        if len > max as u64 {
            return Err(DecodeError::TooLong {
                what,
                len,
                max: max as u64,
            });
        }
        Ok(len as usize)
    }

    /// Reads a length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let n = self.len(what, max)?;
        self.take(n)
    }

    /// Reads a length-prefixed list of at most `max` items.
    pub fn list<T: Decode>(
        &mut self,
        what: &'static str,
        max: usize,
    ) -> Result<Vec<T>, DecodeError> {
        let n = self.len(what, max)?;
        // Every item takes at least one byte, so the input bounds the allocation too.
        let mut items = Vec::with_capacity(n.min(self.remaining()));
        for _ in 0..n {
            items.push(T::decode_from(self)?);
        }
        Ok(items)
    }
}

/// Appends a minimal LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends a varint length and then the bytes.
pub fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u128);
    out.extend_from_slice(bytes);
}

/// Appends a varint count and then each item.
pub fn put_list<T: Encode>(out: &mut Vec<u8>, items: &[T]) {
    put_varint(out, items.len() as u128);
    for item in items {
        item.encode_to(out);
    }
}

/// Parses exactly `N` bytes of hex, with or without a `0x` prefix.
pub fn parse_hex_array<const N: usize>(s: &str) -> Result<[u8; N], DecodeError> {
    let bytes = parse_hex(s)?;
    bytes
        .try_into()
        .map_err(|_| DecodeError::Invalid("hex length"))
}

/// Parses hex of any length, with or without a `0x` prefix.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, DecodeError> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(s).map_err(|_| DecodeError::Invalid("hex"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varint_roundtrips_and_is_canonical(v in any::<u128>()) {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut d = Decoder::new(&out);
            prop_assert_eq!(d.varint().unwrap(), v);
            prop_assert!(d.finish().is_ok());
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut d = Decoder::new(&bytes);
            let _ = d.varint();
            let _ = d.bytes("field", 16);
            let _ = d.list::<crate::Hash>("hashes", 4);
        }
    }

    #[test]
    fn non_minimal_and_overlong_varints_are_rejected() {
        assert_eq!(
            Decoder::new(&[0x80, 0x00]).varint(),
            Err(DecodeError::BadVarint)
        );
        assert_eq!(
            Decoder::new(&[0xff; 20]).varint(),
            Err(DecodeError::BadVarint)
        );
        assert_eq!(
            Decoder::new(&[0x80]).varint(),
            Err(DecodeError::UnexpectedEnd)
        );
    }

    #[test]
    fn lengths_are_bounded_before_allocation() {
        let mut out = Vec::new();
        put_varint(&mut out, u64::MAX as u128);
        let err = Decoder::new(&out).bytes("blob", 1024).unwrap_err();
        assert!(matches!(err, DecodeError::TooLong { what: "blob", .. }));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = crate::hash(b"x").to_bytes();
        bytes.push(0);
        assert_eq!(
            crate::Hash::from_bytes(&bytes),
            Err(DecodeError::TrailingBytes(1))
        );
    }
}

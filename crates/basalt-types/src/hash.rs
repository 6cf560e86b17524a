use crate::codec::{Decode, DecodeError, Decoder, Encode};
use std::fmt;

/// A 32-byte blake3 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero digest, used as "no parent" and as the empty commitment.
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// The digest as lowercase hex with a `0x` prefix.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// Parses 32 bytes of hex, with or without a `0x` prefix.
    pub fn from_hex(s: &str) -> Result<Self, DecodeError> {
        crate::codec::parse_hex_array::<32>(s).map(Hash)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", &self.to_hex()[..18])
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Encode for Hash {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Hash {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Hash(d.array()?))
    }
}

/// blake3 of `data`.
pub fn hash(data: &[u8]) -> Hash {
    Hash(*blake3::hash(data).as_bytes())
}

/// blake3 over a domain tag and several parts, each length-prefixed so distinct splits never collide.
pub fn hash_parts(domain: &str, parts: &[&[u8]]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&(domain.len() as u32).to_le_bytes());
    h.update(domain.as_bytes());
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    Hash(*h.finalize().as_bytes())
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Hash::from_hex(&s).map_err(|e| {
            serde::de::Error::custom(format!(
                "hash must be 32 bytes of hex (0x + 64 hex digits): {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_parts_separates_domains_and_splits() {
        assert_ne!(hash_parts("a", &[b"xy"]), hash_parts("b", &[b"xy"]));
        assert_ne!(hash_parts("a", &[b"x", b"y"]), hash_parts("a", &[b"xy"]));
    }

    #[test]
    fn hex_roundtrip_and_rejects_bad_input() {
        let h = hash(b"basalt");
        assert_eq!(Hash::from_hex(&h.to_hex()).unwrap(), h);
        assert!(Hash::from_hex("0x1234").is_err());
        assert!(Hash::from_hex("zz").is_err());
    }
}

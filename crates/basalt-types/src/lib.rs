//! Basalt primitives shared by every layer.
//!
//! - [`Hash`]: 32-byte blake3 digests with domain separation ([`hash_parts`]).
//! - [`PublicKey`], [`Signature`], [`Keypair`]: ed25519 identities for L1 accounts and validators.
//! - [`zk`]: the BN254 field, circomlib's Poseidon and EdDSA-Poseidon over BabyJubJub (ZK rollups).
//! - [`codec`]: the canonical binary encoding. Decoding is total over untrusted bytes: it yields a typed
//!   value or a [`DecodeError`], bounds every length before allocating, and rejects trailing bytes.
//!
//! This crate does no I/O, reads no clock and uses no randomness except what a caller seeds.

pub mod codec;
mod crypto;
mod hash;
#[cfg(feature = "testing")]
pub mod testing;
pub mod zk;

pub use codec::{Decode, DecodeError, Decoder, Encode};
pub use crypto::{
    dev_keypair, verify_batch, verify_each, Keypair, PublicKey, Signature, SignatureError,
};
pub use hash::{hash, hash_parts, Hash};

/// An amount of the native token in base units.
pub type Amount = u128;

/// Serde for token amounts as decimal strings (JSON numbers cannot hold every u128 exactly);
/// plain JSON numbers are accepted on input too.
pub mod serde_amount {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// Writes an amount as a decimal string.
    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    /// Reads an amount from a decimal string or a JSON number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Number(u128),
        }
        match Repr::deserialize(d)? {
            Repr::Number(n) => Ok(n),
            Repr::Text(t) => t.parse().map_err(|_| {
                D::Error::custom(format!("amount {t:?} is not a non-negative integer"))
            }),
        }
    }
}

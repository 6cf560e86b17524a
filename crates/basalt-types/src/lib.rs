//! Basalt primitives shared by every layer.
//!
//! - [`Hash`]: 32-byte blake3 digests with domain separation ([`hash_parts`]).
//! - [`PublicKey`], [`Signature`], [`Keypair`]: ed25519 identities for L1 accounts and validators.
//! - [`codec`]: the canonical binary encoding. Decoding is total over untrusted bytes: it yields a typed
//!   value or a [`DecodeError`], bounds every length before allocating, and rejects trailing bytes.
//!
//! This crate does no I/O, reads no clock and uses no randomness except what a caller seeds.

pub mod codec;
mod crypto;
mod hash;

pub use codec::{Decode, DecodeError, Decoder, Encode};
pub use crypto::{dev_keypair, verify_batch, Keypair, PublicKey, Signature, SignatureError};
pub use hash::{hash, hash_parts, Hash};

/// An amount of the native token in base units.
pub type Amount = u128;

//! The cryptography of ZK rollups, native side: the BN254 scalar field, Poseidon as circomlib
//! defines it, and EdDSA-Poseidon over BabyJubJub as circomlibjs signs.
//!
//! Everything here is compatible with the iden3 tools: a key made by circomlibjs from a private key
//! is the key [`BabyKeypair::from_private`] makes, a signature it makes verifies here, and the
//! encodings ([`BabyPublicKey`] and [`BabySignature`] bytes) are its packed forms. The batch circuit
//! (`basalt-zk`) enforces the same rules over the same constants; tests hold the two equal.

mod babyjub;
mod eddsa;
mod field;
mod poseidon;

pub use babyjub::{BabyPoint, SubScalar};
pub use eddsa::{BabyKeypair, BabyPublicKey, BabySignature};
pub use field::{Felt, Fr};
pub use poseidon::{poseidon, poseidon_tagged, POSEIDON_MAX_INPUTS};

//! Validity proofs for Basalt's ZK rollups: R1CS gadgets over BN254 that enforce the rules of the
//! native ZK cryptography in `basalt_types::zk` (Poseidon, BabyJubJub, EdDSA-Poseidon), and on
//! them the batch circuit, its Groth16 prover and verifier, and key management.
//!
//! Every gadget is a second encoding of a native rule; its tests hold the two equal on random and
//! published inputs, and count the constraints it costs (the circuit's budget is per transfer).

pub mod batch;
pub mod demo;
pub mod gadgets;
mod groth16;
pub mod keys;
pub mod measure;

pub use groth16::{
    dev_setup, key_bytes_hash, verifying_key_bytes, verifying_key_hash, Keys, Prover, Verifier,
    ZkError, DEV_SETUP_SEED, PROOF_BYTES,
};

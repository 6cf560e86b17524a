//! Merkle commitments for Basalt state.
//!
//! [`MerkleTree`] is a tree of fixed depth and arity (2 or 4, the hasher's) (32 by default, so any `u32` is a leaf index) whose
//! empty leaves all hash to [`TreeHasher::empty_leaf`]; an empty subtree of any height therefore has a
//! known digest and is never stored. Leaves are stored densely up to the highest index written, which
//! suits state whose indices are allocated in order (accounts assigned at first credit). Updates are
//! batched: writes mark leaves dirty and [`MerkleTree::commit`] rehashes each touched path once.
//! [`MerkleTree::root_with`] computes the root a set of extra writes would give without changing the tree,
//! which is how unfinalized blocks are checked against finalized state.
//!
//! The hasher is a parameter ([`TreeHasher`]): blake3 for L1 and optimistic rollups, a SNARK-friendly hash
//! for ZK rollups ([`PoseidonHasher`], 4-ary). Proofs ([`MerkleProof`]) carry `ARITY - 1` siblings per
//! level and verify with the same hasher.

//!
//! [`PartialTree`] holds only a few proven paths of a tree: enough to update those leaves and compute
//! the new root, which is how a one-step fraud proof re-executes a transaction against a witness.

mod partial;
mod poseidon;
mod tree;

pub use partial::{PartialError, PartialTree};
pub use poseidon::PoseidonHasher;
pub use tree::{list_root, Blake3Hasher, MerkleProof, MerkleTree, TreeHasher, DEFAULT_DEPTH};

//! BFT consensus for the L1: commonware simplex over ed25519, with marshal delivering finalized blocks
//! in height order (backfilling from peers after a restart) and `basalt-l1` deciding validity.
//!
//! Guarantees (from simplex): with at most f faulty validators out of n >= 3f+1, finalized blocks never
//! conflict, and the chain keeps finalizing while 2f+1 validators are online and connected. Every vote
//! is on a block this node re-executed; a finalized block is applied and committed durably before it is
//! acknowledged to marshal, so a restart resumes from the store and marshal redelivers the rest.
//!
//! The committee changes only at epoch boundaries: the last block of each epoch picks the next
//! committee, and once it is finalized and applied the next epoch runs a fresh simplex engine with
//! that committee (see [`epochs`]).

pub mod application;
pub mod block;
pub mod engine;
pub mod epochs;
pub mod gossip;
pub mod tally;

//! BFT consensus for the L1: commonware simplex over ed25519, with marshal delivering finalized blocks
//! in height order (backfilling from peers after a restart) and `basalt-l1` deciding validity.
//!
//! Guarantees (from simplex): with at most f faulty validators out of n >= 3f+1, finalized blocks never
//! conflict, and the chain keeps finalizing while 2f+1 validators are online and connected. Every vote
//! is on a block this node re-executed; a finalized block is applied and committed durably before it is
//! acknowledged to marshal, so a restart resumes from the store and marshal redelivers the rest.
//!
//! Not handled yet: committee changes at epoch boundaries are computed by the state machine (and shown
//! over RPC) but consensus keeps the genesis committee.

pub mod application;
pub mod block;
pub mod engine;
pub mod gossip;

//! The Basalt rollup node: the imperative shell around `basalt-l2`.
//!
//! - [`Sequencer`]: orders transactions into L2 blocks, logs each durably ([`BlockLog`]) before
//!   confirming it, and applies L1 deposits in queue order.
//! - [`Derivation`]: the L2 state rebuilt from L1 data alone; the proposer proposes its outputs
//!   and a verifier checks every posted output against it.
//! - [`ZkDerivation`]: the same for a ZK rollup, from posted data without signatures; a verifier
//!   checks the L1's data hash of every batch and every settled output against it.
//!
//! - [`escape`]: the last settled state rebuilt from L1 data alone, for exits from a frozen
//!   rollup without any L2 node.
//! - [`plan_batch`]: what the batcher posts next.
//! - [`start`]: the node process around them: actors by role (block loop, L1 follower, batcher,
//!   proposer, challenger, rescuer, and the outbox that owns the L1 nonces) and the L2 JSON-RPC API,
//!   reaching the L1 through an [`L1Source`] ([`HttpSource`] for JSON-RPC, an in-process one in
//!   tests).
//! - `faults` and `lab` (cargo feature `faults`, for tests, benchmarks and demos only): dishonest
//!   derivations, batches and sybil crowds, and an in-process L1 to play them against.
//!
//! Every rule comes from `basalt-l2`; nothing here decides what a transaction does.

mod batcher;
mod derive;
pub mod escape;
#[cfg(feature = "faults")]
pub mod faults;
mod game;
pub mod l1client;
pub mod l1source;
#[cfg(feature = "faults")]
pub mod lab;
mod log;
pub mod metrics;
mod node;
pub mod rpc;
mod rpc_fee;
mod sequencer;
mod zkderive;

pub use batcher::{plan_batch, BatchPlan, Compression};
pub use derive::{Derivation, DeriveError, DerivedBatch, PostedTx, Verdict};
#[cfg(feature = "faults")]
pub use faults::{Fault, FAULT_AMOUNT};
pub use game::{dispute_actions, trace_at, OpenTree, Traces};
pub use l1client::{L1Client, L1Error, RollupRef};
pub use l1source::{HttpSource, L1Source};
pub use log::{BlockLog, L2Block, LogError};
#[cfg(feature = "faults")]
pub use node::censor_margin;
pub use node::{
    start, start_with, BatcherConfig, NodeConfig, NodeError, Role, RollupNode, EXAMPLE_CONFIG,
    MAX_PENDING_PER_SENDER, MAX_PENDING_TXS,
};
pub use sequencer::{Admission, Sequencer, SequencerError, TxPosition};
pub use zkderive::{ZkDerivation, ZkDeriveError};

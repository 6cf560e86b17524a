//! The Basalt rollup node: the imperative shell around `basalt-l2`.
//!
//! - [`Sequencer`]: orders transactions into L2 blocks, logs each durably ([`BlockLog`]) before
//!   confirming it, and applies L1 deposits in queue order.
//! - [`Derivation`]: the L2 state rebuilt from L1 data alone; the proposer proposes its outputs
//!   and a verifier checks every posted output against it.
//!
//! - [`plan_batch`]: what the batcher posts next.
//! - [`start`]: the node process around them: the block loop, the L1 loop (derivation, output
//!   checks, batcher, proposer) and the L2 JSON-RPC API, following the L1 through its JSON-RPC
//!   ([`L1Client`]).
//!
//! Every rule comes from `basalt-l2`; nothing here decides what a transaction does.

pub mod adversary;
mod batcher;
mod derive;
mod game;
pub mod l1client;
pub mod l1source;
pub mod lab;
mod log;
pub mod metrics;
mod node;
pub mod rpc;
mod sequencer;

pub use batcher::{plan_batch, BatchPlan};
pub use derive::{Derivation, DeriveError, DerivedBatch, PostedTx, Verdict};
pub use game::{dispute_actions, trace_at, Fault, OpenTree, FAULT_AMOUNT};
pub use l1client::{L1Client, L1Error, RollupRef};
pub use l1source::{HttpSource, L1Source};
pub use log::{BlockLog, L2Block, LogError};
pub use node::{
    start, start_with, BatcherConfig, NodeConfig, NodeError, Role, RollupNode, EXAMPLE_CONFIG,
};
pub use sequencer::{Admission, Sequencer, SequencerError, TxPosition};

//! The Basalt rollup node: the imperative shell around `basalt-l2`.
//!
//! - [`Sequencer`]: orders transactions into L2 blocks, logs each durably ([`BlockLog`]) before
//!   confirming it, and applies L1 deposits in queue order.
//! - [`Derivation`]: the L2 state rebuilt from L1 data alone; the proposer proposes its outputs
//!   and a verifier checks every posted output against it.
//!
//! - [`plan_batch`]: what the batcher posts next.
//!
//! Every rule comes from `basalt-l2`; nothing here decides what a transaction does.

mod batcher;
mod derive;
mod log;
mod sequencer;

pub use batcher::{plan_batch, BatchPlan};
pub use derive::{Derivation, DeriveError, DerivedBatch, Verdict};
pub use log::{BlockLog, L2Block, LogError};
pub use sequencer::{Admission, Sequencer, SequencerError, TxPosition};

//! The rollup registry and bridge: what the L1 keeps for each rollup, how it is committed, and the
//! rules that change it.
//!
//! For each registered rollup the L1 keeps its parameters, the funds it escrows, the queue of
//! deposits, the batches its sequencer posted, every output proposed on top of them (each with a
//! bond and its own claim tree; several may compete for a batch), the chain of settled outputs
//! (one per batch) and the withdrawals already paid. The L1 never executes L2 transactions here,
//! except the single step a dispute narrows down to: it orders data, holds funds and settles an
//! output once its tree resolves with the output standing.
//!
//! Types are in `params`, `records`, `header` and `state`; each rule is one module that adds its
//! action to [`crate::BlockBuilder`]: `registry`, `deposits`, `batches`, `outputs`, `withdrawals`
//! and `settlement`; `zk` holds the rules of validity-proof settlement (deposit keys, batch
//! inputs, proofs and reverts).

mod batches;
mod deposits;
mod error;
mod exits;
mod header;
mod outputs;
mod params;
mod records;
mod registry;
mod risk;
mod settlement;
mod state;
mod withdrawals;
mod zk;

pub use batches::MAX_FORCED_PER_BATCH;
pub(crate) use deposits::ViewDeposits;
pub use error::{RestoreError, RollupError};
pub(crate) use exits::settled_items;
pub use exits::{
    exit_key, exit_message, frozen_from, refund_key, ExitClaim, SettledState, L2_SIGNATURE_BYTES,
};
pub use header::{chain_leaf, RollupDiff, RollupHeader};
pub use params::{
    RollupKind, RollupParams, ZkParams, MAX_CHALLENGE_WINDOW, MAX_CLOCK_EXTENSION,
    MAX_ESCAPE_BLOCKS, MAX_FORCE_INCLUSION_BLOCKS, MAX_ROLLUP_NAME, MAX_VERIFYING_KEY_BYTES,
    MAX_ZK_SLOTS, MIN_CHALLENGE_WINDOW, MIN_CLOCK_EXTENSION, MIN_FORCE_INCLUSION_BLOCKS,
    ZK_PUBLIC_INPUTS,
};
pub use records::{
    fold, BatchRecord, DepositRecord, OutputRecord, WithdrawalClaim, BATCHES_DOMAIN, CLAIMS_DOMAIN,
    DEPOSITS_DOMAIN, OUTPUTS_DOMAIN,
};
pub use risk::{rollup_risk, RiskCategory, RiskLevel, RollupRisk, STAGE1_CHALLENGE_DAYS};
pub(crate) use settlement::{due_rollups, wake_height};
pub use state::RollupState;
pub use zk::{felt_hash, hash_felt, zk_key, MAX_UNPROVEN_BATCHES};

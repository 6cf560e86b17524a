//! The Basalt L1 settlement state machine.
//!
//! The L1 only settles: accounts and transfers, EIP-1559 gas fees and a separate blob fee market,
//! staking with an equal-weight committee chosen per epoch, and data-availability blobs kept for a
//! retention window; and the rollup registry and bridge: deposits escrowed and queued, batches posted
//! by each rollup's sequencer, bonded output proposals (any number per batch) that settle once their
//! claim tree resolves upheld, and withdrawals paid once against a Merkle proof into a settled
//! output; and the dispute game ([`ClaimTree`]) that anyone may play on any proposal, ending in a
//! one-step proof re-executed through the shared L2 state transition function.
//!
//! Everything here is pure and deterministic: no I/O, no clock, no randomness. The node calls
//! [`BlockBuilder`] to propose, [`verify_block`] to vote, and [`L1State::apply`] on finalization.
//!
//! Guarantees, each covered by tests:
//! - supply is conserved: balances + stake + unbonding + burned fees always equal the genesis supply;
//! - a transaction applies at most once (the nonce must equal the account's next nonce);
//! - every header field is recomputed by verifiers, so a proposer cannot claim a state it did not compute;
//! - a rollup's escrow only grows by deposits and only shrinks by withdrawals paid once each, against
//!   a settled output.

mod blobs;
mod block;
mod bridge;
mod dispute;
mod exec;
mod failure;
pub mod gas;
mod params;
mod state;
mod tx;
mod view;

pub use basalt_l2::FeeModel;
pub use blobs::{BlobSource, Blobs};
pub use block::{Block, Header, Receipt, HEADER_VERSION, MAX_BLOCK_BYTES};
pub use bridge::{
    chain_leaf, exit_key, exit_message, felt_hash, frozen_from, hash_felt, refund_key, rollup_risk,
    zk_key, BatchRecord, DepositRecord, ExitClaim, OutputRecord, RestoreError, RiskCategory,
    RiskLevel, RollupDiff, RollupError, RollupHeader, RollupKind, RollupParams, RollupRisk,
    RollupState, SettledState, WithdrawalClaim, ZkParams, L2_SIGNATURE_BYTES, MAX_CHALLENGE_WINDOW,
    MAX_CLOCK_EXTENSION, MAX_ESCAPE_BLOCKS, MAX_FORCED_PER_BATCH, MAX_FORCE_INCLUSION_BLOCKS,
    MAX_ROLLUP_NAME, MAX_UNPROVEN_BATCHES, MAX_VERIFYING_KEY_BYTES, MAX_ZK_SLOTS,
    MIN_CHALLENGE_WINDOW, MIN_CLOCK_EXTENSION, MIN_FORCE_INCLUSION_BLOCKS, STAGE1_CHALLENGE_DAYS,
    ZK_PUBLIC_INPUTS,
};
pub use dispute::tree::{
    honest_moves, Claim, ClaimTree, Claims, HonestMove, Resolution, Rules, StepCheck, TreeError,
    MAX_TREE_DEPTH,
};
pub use dispute::{Dispute, DisputeResult, LayeredTree, MAX_WITNESS_BYTES};
pub use exec::{
    check_tx, child_fees, estimate_gas, max_cost, next_base_fee, precheck_action, threads_worth,
    verify_block, verify_block_threads, verify_block_with, verify_block_with_threads,
    ActionFailure, BlockBuilder, BlockError, BlockOverlay, ExecutedBlock, PrecheckError, TxError,
};
pub use failure::{FailureCode, FAILURE_CODES_VERSION};
pub use gas::{
    BLOB_TX_GAS, COUNTER_GAS, DEPOSIT_GAS, FINALIZE_WITHDRAWAL_GAS, POST_BATCH_GAS,
    PROPOSE_OUTPUT_GAS, REGISTER_ROLLUP_GAS, STAKE_GAS, STEP_GAS, TRANSFER_GAS,
};
pub use params::{
    format_tokens, Genesis, GenesisAccount, GenesisError, GenesisValidator, Params, MAX_BLOB_BYTES,
    MAX_BLOCK_TXS, MAX_TX_BYTES, ONE_TOKEN,
};
pub use state::{
    blob_hash, committee_hash, select_committee, state_root, Account, L1State, StateDiff,
    StoredBlob,
};
pub use tx::{
    verify_all, verify_all_threads, Action, SignedTransaction, Transaction, VerifiedTx, TX_VERSION,
};
pub use view::{Layer, StateRead, StateView};

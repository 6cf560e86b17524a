//! The Basalt L2: accounts, transactions and the state transition function of a rollup, written once
//! over a [`Profile`] (tree hasher + signature scheme) so that the optimistic profile (blake3, ed25519)
//! and the ZK profile share every rule.
//!
//! - [`apply_tx`] is the STF. It runs over any [`Access`]: the full [`L2State`] (sequencer, deriving
//!   verifier) or a [`StepWitness`] (the one-step fraud proof, [`execute_step`]).
//! - A transaction that breaks a rule is a no-op with a recorded [`TxFailure`], so every batch has
//!   exactly one outcome.
//! - The output after a batch is H(state root, withdrawals root) ([`Commitment`]);
//!   [`L2State::apply_traced`] gives the output after every transaction, the trace a dispute bisects.
//!
//! - Batches ([`encode_batch`], [`decode_batch`]) carry transactions to L1 as one compressed blob.
//!
//! Pure: no I/O, no clocks, no randomness.

mod batch;
mod fees;
mod profile;
mod state;
mod stf;
mod types;
mod witness;
mod zkbatch;
mod zkverify;

pub use batch::{
    batch_header, batch_trace_txs, compress, decode_batch, decompress, encode_batch,
    encode_batch_with, encode_payload, posted_batch_txs, BatchError, BatchHeader, Codec, Effort,
    BATCH_VERSION, MAX_BATCH_RAW_BYTES, MAX_BATCH_TXS,
};
pub use fees::{posted_bytes, FeeMarket, FeeModel, BASE_FEE_CHANGE_DENOMINATOR, MAX_BLOCK_TXS};
pub use profile::{key_halves, zk_tags, Optimistic, Profile, Zk};
pub use state::{output, withdrawals_root, Commitment, L2State, TraceStep};
pub use stf::{
    apply_tx, batch_deposits, Access, DepositWindow, Deposits, Outcome, SigCheck, TxFailure,
};
pub use types::{
    Account, Config, DepositEntry, L2Tx, Withdrawal, FEE_ACCOUNT, L2_TX_VERSION, MAX_L2_TX_BYTES,
};
pub use witness::{execute_step, AccountWitness, StepWitness, WitnessError, MAX_WITNESS_ACCOUNTS};
pub use zkbatch::{
    decode_zk_batch, encode_zk_batch, encode_zk_payload, PostedTx, ZK_BATCH_VERSION,
};
pub use zkverify::{
    apply_posted, data_hash, replayed_tx, unchecked_signature, PostedBatchError, DATA_SEED_TAG,
    DATA_TAG, FORCED_KIND,
};

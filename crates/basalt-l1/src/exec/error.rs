//! Why a transaction cannot be included, why an action failed, why a block is invalid.

use crate::bridge::RollupError;
use crate::failure::FailureCode;
use basalt_types::{Amount, PublicKey, SignatureError};

/// Why a transaction cannot be included at this point of a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The chain id is not this chain's.
    #[error("wrong chain id: expected {expected}, got {got}")]
    WrongChainId {
        /// This chain.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The nonce was already used (a replay).
    #[error("stale nonce: account is at {expected}, transaction has {got}")]
    StaleNonce {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The nonce is ahead of the account's next nonce.
    #[error("future nonce: account is at {expected}, transaction has {got}")]
    FutureNonce {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The fee cap is below the block's base fee.
    #[error("max fee per gas {max_fee} is below the base fee {base_fee}")]
    FeeBelowBaseFee {
        /// The cap.
        max_fee: u64,
        /// The base fee.
        base_fee: u64,
    },
    /// The tip per gas is above the fee cap, which no block could pay.
    #[error("priority fee per gas {tip} exceeds the max fee per gas {max_fee}")]
    TipAboveMaxFee {
        /// The tip.
        tip: u64,
        /// The cap.
        max_fee: u64,
    },
    /// The blob fee cap is below the block's blob base fee.
    #[error("max fee per blob byte {max_fee} is below the blob base fee {base_fee}")]
    BlobFeeBelowBaseFee {
        /// The cap.
        max_fee: u64,
        /// The blob base fee.
        base_fee: u64,
    },
    /// The sender cannot cover value plus maximum fees.
    #[error("insufficient balance: need {need}, have {have}")]
    InsufficientBalance {
        /// Value plus maximum fees.
        need: Amount,
        /// Balance.
        have: Amount,
    },
    /// The blob is empty or larger than the chain allows.
    #[error("blob of {len} bytes is outside 1..={max}")]
    BadBlobSize {
        /// Its size.
        len: u64,
        /// The chain's limit.
        max: u64,
    },
    /// The gas limit is below the transaction's intrinsic gas.
    #[error("gas limit {limit} is below the transaction's intrinsic gas {intrinsic}")]
    GasLimitBelowIntrinsic {
        /// The limit.
        limit: u64,
        /// What the transaction pays before its action runs.
        intrinsic: u64,
    },
    /// The gas limit is above the block gas limit, so no block could include it.
    #[error("gas limit {limit} is above the block gas limit {max}")]
    GasLimitAboveBlock {
        /// The limit.
        limit: u64,
        /// The block gas limit.
        max: u64,
    },
    /// The block has no gas left for it.
    #[error("block gas limit reached")]
    BlockGasFull,
    /// The block has no blob space left for it.
    #[error("block blob space reached")]
    BlockBlobSpaceFull,
    /// The block has the maximum number of transactions.
    #[error("block transaction count limit reached")]
    BlockTxCountFull,
    /// The state tree is full.
    #[error("account index space exhausted")]
    AccountsFull,
    /// An amount overflowed 128 bits.
    #[error("amount overflow")]
    Overflow,
}

/// Why an action would fail or failed, in full; its receipt keeps only [`ActionFailure::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionFailure {
    /// A stake of zero.
    #[error("stake amount is zero")]
    ZeroStake,
    /// An unstake of zero or of more than the stake.
    #[error("unstake {amount} exceeds stake {stake}")]
    UnstakeExceedsStake {
        /// Asked.
        amount: Amount,
        /// Staked.
        stake: Amount,
    },
    /// A stake (or what an unstake leaves, unless nothing) below the chain's minimum.
    #[error("stake {stake} would be below the minimum stake {min}: stake more, or unstake all")]
    StakeBelowMinimum {
        /// The stake it would leave.
        stake: Amount,
        /// The minimum.
        min: Amount,
    },
    /// A rollup or dispute rule refused it.
    #[error(transparent)]
    Rollup(#[from] RollupError),
}

impl ActionFailure {
    /// The code its receipt commits to.
    pub fn code(&self) -> FailureCode {
        match self {
            ActionFailure::ZeroStake => FailureCode::ZeroStake,
            ActionFailure::UnstakeExceedsStake { .. } => FailureCode::UnstakeExceedsStake,
            ActionFailure::StakeBelowMinimum { .. } => FailureCode::StakeBelowMinimum,
            ActionFailure::Rollup(e) => e.code(),
        }
    }
}

/// Why [`precheck_action`] expects a transaction to be wasted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrecheckError {
    /// It would be included, pay its fee, and its action would fail.
    #[error(transparent)]
    Fails(#[from] ActionFailure),
    /// It could not be included at all.
    #[error(transparent)]
    Invalid(#[from] TxError),
}

impl PrecheckError {
    /// The receipt code it would get, if it would be included.
    pub fn code(&self) -> Option<FailureCode> {
        match self {
            PrecheckError::Fails(f) => Some(f.code()),
            PrecheckError::Invalid(_) => None,
        }
    }
}

/// Why a proposed block is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The header does not extend the expected parent.
    #[error("block does not extend its parent: {0}")]
    BadLink(&'static str),
    /// The timestamp does not increase.
    #[error("timestamp {got} is not after the parent's {parent}")]
    NonIncreasingTimestamp {
        /// The parent's.
        parent: u64,
        /// The block's.
        got: u64,
    },
    /// The proposer is not in the committee.
    #[error("proposer {0} is not in the committee")]
    UnknownProposer(PublicKey),
    /// A transaction's signature is invalid.
    #[error("transaction {index}: {err}")]
    BadSignature {
        /// Position in the block.
        index: usize,
        /// The failure.
        err: SignatureError,
    },
    /// A transaction cannot be included.
    #[error("transaction {index}: {err}")]
    InvalidTx {
        /// Position in the block.
        index: usize,
        /// The failure.
        err: TxError,
    },
    /// A header field differs from what executing the block gives.
    #[error("header field {0} does not match execution")]
    HeaderMismatch(&'static str),
}

//! Why a rollup action failed, and why stored rollup state cannot be restored.

use crate::dispute::DisputeError;
use basalt_types::{Amount, Hash, PublicKey};

/// Why a rollup action failed. The transaction still pays its fee; nothing else changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollupError {
    /// Registration parameters are out of range.
    #[error("invalid rollup parameters: {0}")]
    BadParams(&'static str),
    /// The name is taken.
    #[error("a rollup named {0:?} is already registered")]
    NameTaken(String),
    /// No rollup has this id.
    #[error("no rollup with id {0}")]
    UnknownRollup(u32),
    /// The id space is exhausted.
    #[error("rollup registry is full")]
    RegistryFull,
    /// An amount is zero where it must be positive.
    #[error("amount must be positive")]
    ZeroAmount,
    /// The sender cannot pay the amount.
    #[error("insufficient balance: need {need}, have {have}")]
    InsufficientBalance {
        /// Amount needed beyond fees.
        need: Amount,
        /// Balance after fees.
        have: Amount,
    },
    /// Only the rollup's sequencer posts batches.
    #[error("only the sequencer {sequencer} may post batches, not {sender}")]
    NotSequencer {
        /// The registered sequencer.
        sequencer: PublicKey,
        /// Who tried.
        sender: PublicKey,
    },
    /// The declared data hash is not the hash of the posted data.
    #[error("data hash {declared} does not match the blob's hash {actual}")]
    DataHashMismatch {
        /// What the batch declared.
        declared: Hash,
        /// What the data hashes to.
        actual: Hash,
    },
    /// The deposit range goes backwards or past the queue.
    #[error("deposit range ..{end} must cover at least ..{consumed} and at most the {queued} queued deposits")]
    BadDepositRange {
        /// The batch's declared end.
        end: u64,
        /// Where the previous batch ended.
        consumed: u64,
        /// Deposits queued.
        queued: u64,
    },
    /// Outputs are proposed in batch order, one per batch.
    #[error("the next output to propose is for batch {expected}, not {got}")]
    WrongBatch {
        /// The next batch without an output.
        expected: u64,
        /// The batch named.
        got: u64,
    },
    /// The batch has not been posted.
    #[error("batch {0} has not been posted")]
    BatchNotPosted(u64),
    /// The claimed prior output is not the output of the previous batch.
    #[error("prior output {got} is not the output {expected} of the previous batch")]
    WrongPrior {
        /// The previous batch's output.
        expected: Hash,
        /// What the proposal builds on.
        got: Hash,
    },
    /// The output has not settled (or does not exist).
    #[error("the output of batch {0} has not settled")]
    NotSettled(u64),
    /// The roots given do not hash to the settled output.
    #[error("state root and withdrawals root do not hash to the settled output of batch {0}")]
    OutputMismatch(u64),
    /// The withdrawal is beyond the withdrawals the output commits to.
    #[error("withdrawal {index} is beyond the {count} withdrawals of that output")]
    WithdrawalOutOfRange {
        /// The index claimed.
        index: u64,
        /// Withdrawals in the output.
        count: u64,
    },
    /// The Merkle proof does not place this withdrawal under the withdrawals root.
    #[error("withdrawal proof does not verify against the settled withdrawals root")]
    BadWithdrawalProof,
    /// The withdrawal was paid already.
    #[error("withdrawal {0} was already claimed")]
    AlreadyClaimed(u64),
    /// The escrow cannot cover the payment (a broken invariant: refused rather than minted).
    #[error("escrow {escrow} cannot pay {amount}")]
    EscrowShort {
        /// Escrow held.
        escrow: Amount,
        /// Payment asked.
        amount: Amount,
    },
    /// An amount overflowed 128 bits.
    #[error("amount overflow")]
    Overflow,
    /// The transaction's gas limit cannot pay for the work the action needs next.
    #[error("out of gas: the next step needs {needed} gas and {left} is left of the limit")]
    OutOfGas {
        /// Gas the next step costs.
        needed: u64,
        /// Gas left of the limit.
        left: u64,
    },
    /// The live output of the batch is not the one named.
    #[error("the live output of batch {batch} is {live:?}, not {named}")]
    NotLive {
        /// The batch.
        batch: u64,
        /// Its live output, if it has one.
        live: Option<Hash>,
        /// The output the action named.
        named: Hash,
    },
    /// The output has settled: it can no longer be disputed.
    #[error("the output of batch {0} has settled")]
    AlreadySettled(u64),
    /// The output's challenge window (or, for a defender, the window plus one clock) has closed.
    #[error("joining the dispute over batch {batch} closed at block {until}")]
    JoinClosed {
        /// The batch.
        batch: u64,
        /// The first block at which joining was refused.
        until: u64,
    },
    /// Nobody has challenged the output, so there is nothing to defend.
    #[error("the output of batch {0} is not disputed")]
    NotDisputed(u64),
    /// This very output was proposed on this prior before and removed by a dispute.
    #[error("output {output} of batch {batch} was already proven wrong and removed")]
    ProvenWrong {
        /// The batch.
        batch: u64,
        /// The output.
        output: Hash,
    },
    /// The batch's data has passed the L1's retention window.
    #[error("the data of batch {0} is no longer retained")]
    DataExpired(u64),
    /// The batch's data would expire before a dispute over this proposal could end.
    #[error(
        "batch {batch} data expires at block {expires}, before a dispute could end at {horizon}"
    )]
    TooLate {
        /// The batch.
        batch: u64,
        /// The first block without its data.
        expires: u64,
        /// The last block a dispute over a proposal made now could need it.
        horizon: u64,
    },
    /// The one-step witness does not decode.
    #[error("one-step proof: malformed witness: {0}")]
    MalformedWitness(basalt_types::DecodeError),
    /// The disputed step is past the batch's transactions.
    #[error("one-step proof: the batch has no transaction {0}")]
    NoSuchStep(u64),
    /// The witness does not open the agreed claim or cannot decide the step.
    #[error("one-step proof: {0}")]
    BadWitness(#[from] basalt_l2::WitnessError),
    /// A dispute rule refused the action.
    #[error(transparent)]
    Dispute(#[from] DisputeError),
}

/// Why stored state cannot be restored: it does not match its own commitments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// A rollup is stored out of id order.
    #[error("stored rollup at position {position} has id {id}")]
    RollupOutOfPlace {
        /// Where it was found.
        position: u64,
        /// Its id.
        id: u32,
    },
    /// A dispute is stored out of id order.
    #[error("stored dispute at position {position} of rollup {rollup} has id {id}")]
    DisputeOutOfPlace {
        /// The rollup.
        rollup: u32,
        /// Where it was found.
        position: u64,
        /// Its id.
        id: u64,
    },
    /// A rollup's stored lists do not match the counts, digests and roots of its header.
    #[error("stored lists of rollup {0} do not match its header")]
    RollupMismatch(u32),
    /// The stored accounts, committee and registry do not hash to the head's state root.
    #[error("stored accounts do not match the stored head's state root")]
    StateRootMismatch,
}

//! Why a rollup action failed, and why stored rollup state cannot be restored.

use crate::dispute::tree::TreeError;
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
    /// The batch does not take the next number: an earlier post of the sequencer failed or is
    /// still to come.
    #[error("batch posted as number {got}, but the next batch is number {expected}")]
    BatchOutOfOrder {
        /// The rollup's next batch number.
        expected: u64,
        /// The number the post declared.
        got: u64,
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
    /// The batch has not been posted.
    #[error("batch {0} has not been posted")]
    BatchNotPosted(u64),
    /// The claimed prior output is not the genesis output (batch 0) or an output proposed for the
    /// previous batch.
    #[error("prior output {got} of batch {batch} is not an output proposed for the batch before")]
    WrongPrior {
        /// The batch proposed for.
        batch: u64,
        /// What the proposal builds on.
        got: Hash,
    },
    /// This very output was proposed on this prior before (it stands or fell on its own tree).
    #[error("output {output} on this prior was already proposed for batch {batch}")]
    AlreadyProposed {
        /// The batch.
        batch: u64,
        /// The output.
        output: Hash,
    },
    /// No proposal has this id.
    #[error("no proposal {0}")]
    UnknownProposal(u64),
    /// The proposal's tree has resolved.
    #[error("the claim tree of proposal {0} has resolved")]
    Resolved(u64),
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
    /// The batch's output has settled: nothing more can be proposed for it.
    #[error("the output of batch {0} has settled")]
    AlreadySettled(u64),
    /// The batch's data has passed the L1's retention window.
    #[error("the data of batch {0} is no longer retained")]
    DataExpired(u64),
    /// The batch's data would expire before a claim tree over this proposal must resolve.
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
    /// The witness does not open the agreed claim or cannot decide the step.
    #[error("one-step proof: {0}")]
    BadWitness(#[from] basalt_l2::WitnessError),
    /// A ZK deposit's key is not a BabyJubJub point of prime order.
    #[error("the L2 key is not a packed BabyJubJub point of prime order")]
    BadL2Key,
    /// A ZK batch's blob does not decode, or consumes deposits the queue does not hold: no proof
    /// could ever exist for it.
    #[error(
        "the batch data does not decode as a ZK batch of queued deposits: it could never be proven"
    )]
    Unprovable,
    /// A ZK batch holds more transactions than its circuit has slots.
    #[error("the batch holds {txs} transactions, the rollup's circuit has {slots} slots")]
    TooManyTxs {
        /// Transactions the batch declares.
        txs: u64,
        /// Slots of the circuit.
        slots: u32,
    },
    /// A ZK rollup has as many unproven batches as it may hold.
    #[error("the rollup already has {0} unproven batches: prove or revert them first")]
    TooManyUnproven(u64),
    /// The action needs a ZK rollup.
    #[error("the rollup is not a ZK rollup")]
    NotZk,
    /// The action needs an optimistic rollup.
    #[error("the rollup is a ZK rollup: its outputs settle by validity proof, not by proposal")]
    NotOptimistic,
    /// ZK batches are proven, and reverted, from the first unsettled one.
    #[error("batch {got} is not the first unsettled batch, {next}")]
    ProveInOrder {
        /// The first unsettled batch.
        next: u64,
        /// The batch named.
        got: u64,
    },
    /// A claimed output or withdrawal root is not a BN254 field element.
    #[error(
        "a claimed output or root is not a field element (32 big-endian bytes below the modulus)"
    )]
    NotAFieldElement,
    /// The validity proof was refused.
    #[error("validity proof refused: {0}")]
    BadProof(basalt_zk::ZkError),
    /// The rollup is frozen: it takes nothing more but exits, refunds and settled withdrawals.
    #[error("the rollup is frozen since block {0}: its users exit on L1")]
    Frozen(u64),
    /// Exits and refunds wait for the rollup to freeze.
    #[error("the rollup is not frozen: exits and refunds open once it is")]
    NotFrozen,
    /// The account is past the state's accounts.
    #[error("account {index} is beyond the {count} accounts of the settled state")]
    AccountOutOfRange {
        /// The account claimed.
        index: u32,
        /// Accounts in the state.
        count: u32,
    },
    /// The Merkle proof does not place this account under the settled accounts root.
    #[error("account proof does not verify against the settled accounts root")]
    BadAccountProof,
    /// The exit is not signed by the account's L2 key.
    #[error("the exit is not signed by the account's L2 key")]
    BadExitSignature,
    /// The account has exited already.
    #[error("account {0} has already exited")]
    AlreadyExited(u32),
    /// No deposit has this index.
    #[error("no deposit {0} is queued")]
    UnknownDeposit(u64),
    /// The settled state consumed the deposit: its funds are in an account, which exits.
    #[error("deposit {index} was applied by the settled state (its next deposit is {next})")]
    DepositApplied {
        /// The deposit.
        index: u64,
        /// The settled state's next deposit.
        next: u64,
    },
    /// The deposit was refunded already.
    #[error("deposit {0} was already refunded")]
    AlreadyRefunded(u64),
    /// The batch leaves a queued item past its force-inclusion deadline unconsumed.
    #[error("the batch's deposit range ends at {end}, but items up to {overdue} are past their force-inclusion deadline")]
    OverdueSkipped {
        /// The batch's range end.
        end: u64,
        /// Where the overdue items it must consume end.
        overdue: u64,
    },
    /// The batch's trace (its transactions and its deposit range) is longer than a claim tree
    /// holds.
    #[error("the batch applies {steps} transactions with its deposit range, at most {max} fit a claim tree")]
    TooManySteps {
        /// Transactions and deposits it applies.
        steps: u64,
        /// The most a claim tree holds.
        max: u64,
    },
    /// The forced transaction's signature does not verify under the key it names.
    #[error("forced transaction refused: its signature does not verify under the key it names")]
    BadForcedSignature,
    /// The forced transaction is not one.
    #[error("forced transaction refused: {0}")]
    BadForcedTx(&'static str),
    /// A rule of the claim tree refused the move.
    #[error(transparent)]
    Tree(#[from] TreeError),
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
    /// A dispute is stored out of proposal order.
    #[error("stored dispute at position {position} of rollup {rollup} is proposal {id}'s")]
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

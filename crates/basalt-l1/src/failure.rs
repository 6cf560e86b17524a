//! Why an included transaction's action had no effect, as a stable code.
//!
//! A receipt commits to a [`FailureCode`], never to English: the receipts root is consensus data,
//! so rewording a message must not fork the chain. Codes are append-only: a code keeps its number
//! and meaning forever, new failures take new numbers, and [`FAILURE_CODES_VERSION`] counts the
//! revisions of the table. Messages are rendered from codes by RPC and the CLI.

use crate::bridge::RollupError;
use crate::dispute::tree::TreeError;

/// Revision of the code table; bumped when codes are added (never when one is reworded).
pub const FAILURE_CODES_VERSION: u16 = 7;

macro_rules! failure_codes {
    ($($name:ident = $code:literal, $id:literal, $text:literal;)*) => {
        /// A stable, numbered reason for a failed action (see the module docs).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum FailureCode {
            $(
                #[doc = $text]
                $name = $code,
            )*
        }

        impl FailureCode {
            /// Every code, in numeric order.
            pub const ALL: &'static [FailureCode] = &[$(FailureCode::$name),*];

            /// The code's number, as committed in receipts.
            pub fn code(self) -> u16 {
                self as u16
            }

            /// The failure with this number, if there is one.
            pub fn from_code(code: u16) -> Option<Self> {
                match code {
                    $($code => Some(FailureCode::$name),)*
                    _ => None,
                }
            }

            /// A stable snake_case identifier, for JSON and scripts.
            pub fn id(self) -> &'static str {
                match self {
                    $(FailureCode::$name => $id,)*
                }
            }

            /// A sentence for people; free to change, never committed anywhere.
            pub fn describe(self) -> &'static str {
                match self {
                    $(FailureCode::$name => $text,)*
                }
            }
        }
    };
}

failure_codes! {
    ZeroStake = 1, "zero_stake", "the stake amount is zero";
    UnstakeExceedsStake = 2, "unstake_exceeds_stake", "the unstake amount is zero or exceeds the stake";
    StakeBelowMinimum = 3, "stake_below_minimum", "the stake would be below the minimum stake";
    OutOfGas = 4, "out_of_gas", "the gas limit cannot pay for the work the action needs";
    BadRollupParams = 100, "bad_rollup_params", "the rollup parameters are out of range";
    NameTaken = 101, "name_taken", "a rollup with this name is already registered";
    UnknownRollup = 102, "unknown_rollup", "no rollup has this id";
    RegistryFull = 103, "registry_full", "the rollup registry is full";
    ZeroAmount = 110, "zero_amount", "the amount must be positive";
    InsufficientBalance = 111, "insufficient_balance", "the balance after fees cannot pay the amount or bond";
    Overflow = 112, "overflow", "an amount overflowed";
    NotSequencer = 120, "not_sequencer", "only the rollup's sequencer may post batches";
    DataHashMismatch = 121, "data_hash_mismatch", "the declared data hash is not the blob's hash";
    BadDepositRange = 122, "bad_deposit_range", "the deposit range goes backwards or past the queue";
    BatchOutOfOrder = 123, "batch_out_of_order", "the batch does not take the rollup's next batch number";
    WrongBatch = 130, "wrong_batch", "(retired in version 3) outputs are proposed in batch order";
    BatchNotPosted = 131, "batch_not_posted", "the batch has not been posted";
    WrongPrior = 132, "wrong_prior", "the prior output is not an output proposed for the previous batch";
    ProvenWrong = 133, "proven_wrong", "(retired in version 3) this output was proven wrong and removed before";
    DataExpired = 134, "data_expired", "the batch's data is no longer retained";
    TooLate = 135, "too_late", "the batch's data would expire before a dispute could end";
    AlreadyProposed = 136, "already_proposed", "this output on this prior was already proposed for the batch";
    NotSettled = 140, "not_settled", "the output has not settled";
    OutputMismatch = 141, "output_mismatch", "the roots do not hash to the settled output";
    WithdrawalOutOfRange = 142, "withdrawal_out_of_range", "the withdrawal is beyond the output's withdrawals";
    BadWithdrawalProof = 143, "bad_withdrawal_proof", "the withdrawal proof does not verify";
    AlreadyClaimed = 144, "already_claimed", "the withdrawal was already claimed";
    EscrowShort = 145, "escrow_short", "the escrow cannot cover the payment";
    NotLive = 150, "not_live", "(retired in version 3) the named output is not the batch's live output";
    AlreadySettled = 151, "already_settled", "the batch's output has settled";
    JoinClosed = 152, "join_closed", "(retired in version 3) joining this dispute has closed";
    NotDisputed = 153, "not_disputed", "(retired in version 3) the output is not disputed";
    BadWitness = 154, "bad_witness", "the one-step witness is malformed or does not match the agreed claim";
    UnknownDispute = 200, "unknown_dispute", "no proposal has this id";
    DisputeEnded = 201, "dispute_ended", "the proposal's claim tree has resolved";
    UnknownGame = 202, "unknown_game", "(retired in version 3) the dispute has no game with this index";
    GameEnded = 203, "game_ended", "(retired in version 3) the game has ended";
    NotYourTurn = 204, "not_your_turn", "(retired in version 3) it is not the sender's turn in this game";
    BadChoice = 205, "bad_choice", "(retired in version 3) the choice does not fit the opponent's last claims";
    NeedsOneStep = 206, "needs_one_step", "(retired in version 3) the segment is one step: send a one-step proof";
    NeedsBisect = 207, "needs_bisect", "(retired in version 3) the segment spans several steps: bisect it";
    NoDisagreement = 208, "no_disagreement", "(retired in version 3) the end claim equals the claim it disputes";
    AlreadyParty = 209, "already_party", "(retired in version 3) the sender is already a party to this dispute";
    SideFull = 210, "side_full", "(retired in version 3) this side of the dispute is full";
    UnknownClaim = 211, "unknown_claim", "the tree has no claim with this index";
    AtBottom = 212, "at_bottom", "the claim is at the bottom of the tree: send a one-step proof";
    NotAtBottom = 213, "not_at_bottom", "the claim is not at the bottom of the tree: counter it with a claim";
    DefendRoot = 214, "defend_root", "the proposed output can only be attacked";
    ClockRanOut = 215, "clock_ran_out", "the clock to counter this claim has run out";
    DuplicateClaim = 216, "duplicate_claim", "the same claim already counters this one";
    AlreadyStepped = 217, "already_stepped", "a one-step proof already countered this claim";
    ValidStep = 218, "valid_step", "the step agrees with the claim: it does not counter it";
    NoTraceAncestor = 219, "no_trace_ancestor", "the tree holds no state the step needs";
    BadL2Key = 300, "bad_l2_key", "the L2 key is not a BabyJubJub point of prime order";
    Unprovable = 301, "unprovable", "the batch data could never be proven (it does not decode, or its deposits are not queued)";
    TooManyTxs = 302, "too_many_txs", "the batch holds more transactions than the circuit has slots";
    TooManyUnproven = 303, "too_many_unproven", "the rollup holds as many unproven batches as it may";
    NotZk = 304, "not_zk", "the rollup is not a ZK rollup";
    NotOptimistic = 305, "not_optimistic", "the rollup is a ZK rollup: outputs settle by proof";
    ProveInOrder = 306, "prove_in_order", "the batch is not the first unsettled batch";
    NotAFieldElement = 307, "not_a_field_element", "a claimed output or root is not a field element";
    BadProof = 308, "bad_proof", "the validity proof does not verify";
    Frozen = 309, "frozen", "the rollup is frozen: it takes nothing more but exits, refunds and settled withdrawals";
    NotFrozen = 310, "not_frozen", "the rollup is not frozen: exits and refunds open once it is";
    AccountOutOfRange = 311, "account_out_of_range", "the account is beyond the accounts of the settled state";
    BadAccountProof = 312, "bad_account_proof", "the account proof does not verify against the settled accounts root";
    BadExitSignature = 313, "bad_exit_signature", "the exit is not signed by the account's L2 key";
    AlreadyExited = 314, "already_exited", "the account has already exited";
    UnknownDeposit = 315, "unknown_deposit", "no deposit with this index is queued";
    DepositApplied = 316, "deposit_applied", "the settled state applied this deposit: its funds exit with the account";
    AlreadyRefunded = 317, "already_refunded", "the deposit was already refunded";
    OverdueSkipped = 318, "overdue_skipped", "the batch leaves a queued item past its force-inclusion deadline unconsumed";
    // 320 was forced_tx_unsupported, retired in revision 7: ZK rollups take forced transactions.
    BadForcedTx = 321, "bad_forced_tx", "the forced transaction does not decode as an L2 transfer or withdrawal, or pays less than the rollup's minimum fee";
    BadForcedSignature = 322, "bad_forced_signature", "the forced transaction is not signed by the key it names";
    TooManySteps = 319, "too_many_steps", "the batch's transactions and deposit range are more than a claim tree holds";
}

impl std::fmt::Display for FailureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl TreeError {
    /// The receipt code of this failure.
    pub fn code(&self) -> FailureCode {
        match self {
            TreeError::UnknownClaim(_) => FailureCode::UnknownClaim,
            TreeError::AtBottom(_) => FailureCode::AtBottom,
            TreeError::NotAtBottom(_) => FailureCode::NotAtBottom,
            TreeError::DefendRoot => FailureCode::DefendRoot,
            TreeError::ClockRanOut(_) => FailureCode::ClockRanOut,
            TreeError::Duplicate(_) => FailureCode::DuplicateClaim,
            TreeError::AlreadyStepped(_) => FailureCode::AlreadyStepped,
            TreeError::ValidStep(_) => FailureCode::ValidStep,
            TreeError::NoTraceAncestor(..) => FailureCode::NoTraceAncestor,
        }
    }
}

impl RollupError {
    /// The receipt code of this failure.
    pub fn code(&self) -> FailureCode {
        match self {
            RollupError::BadParams(_) => FailureCode::BadRollupParams,
            RollupError::NameTaken(_) => FailureCode::NameTaken,
            RollupError::UnknownRollup(_) => FailureCode::UnknownRollup,
            RollupError::RegistryFull => FailureCode::RegistryFull,
            RollupError::ZeroAmount => FailureCode::ZeroAmount,
            RollupError::InsufficientBalance { .. } => FailureCode::InsufficientBalance,
            RollupError::NotSequencer { .. } => FailureCode::NotSequencer,
            RollupError::DataHashMismatch { .. } => FailureCode::DataHashMismatch,
            RollupError::BadDepositRange { .. } => FailureCode::BadDepositRange,
            RollupError::BatchOutOfOrder { .. } => FailureCode::BatchOutOfOrder,
            RollupError::BatchNotPosted(_) => FailureCode::BatchNotPosted,
            RollupError::WrongPrior { .. } => FailureCode::WrongPrior,
            RollupError::NotSettled(_) => FailureCode::NotSettled,
            RollupError::OutputMismatch(_) => FailureCode::OutputMismatch,
            RollupError::WithdrawalOutOfRange { .. } => FailureCode::WithdrawalOutOfRange,
            RollupError::BadWithdrawalProof => FailureCode::BadWithdrawalProof,
            RollupError::AlreadyClaimed(_) => FailureCode::AlreadyClaimed,
            RollupError::EscrowShort { .. } => FailureCode::EscrowShort,
            RollupError::Overflow => FailureCode::Overflow,
            RollupError::OutOfGas { .. } => FailureCode::OutOfGas,
            RollupError::AlreadySettled(_) => FailureCode::AlreadySettled,
            RollupError::AlreadyProposed { .. } => FailureCode::AlreadyProposed,
            RollupError::UnknownProposal(_) => FailureCode::UnknownDispute,
            RollupError::Resolved(_) => FailureCode::DisputeEnded,
            RollupError::DataExpired(_) => FailureCode::DataExpired,
            RollupError::TooLate { .. } => FailureCode::TooLate,
            RollupError::MalformedWitness(_) | RollupError::BadWitness(_) => {
                FailureCode::BadWitness
            }
            RollupError::Tree(e) => e.code(),
            RollupError::BadL2Key => FailureCode::BadL2Key,
            RollupError::Unprovable => FailureCode::Unprovable,
            RollupError::TooManyTxs { .. } => FailureCode::TooManyTxs,
            RollupError::TooManyUnproven(_) => FailureCode::TooManyUnproven,
            RollupError::NotZk => FailureCode::NotZk,
            RollupError::NotOptimistic => FailureCode::NotOptimistic,
            RollupError::ProveInOrder { .. } => FailureCode::ProveInOrder,
            RollupError::NotAFieldElement => FailureCode::NotAFieldElement,
            RollupError::BadProof(_) => FailureCode::BadProof,
            RollupError::Frozen(_) => FailureCode::Frozen,
            RollupError::NotFrozen => FailureCode::NotFrozen,
            RollupError::AccountOutOfRange { .. } => FailureCode::AccountOutOfRange,
            RollupError::BadAccountProof => FailureCode::BadAccountProof,
            RollupError::BadExitSignature => FailureCode::BadExitSignature,
            RollupError::AlreadyExited(_) => FailureCode::AlreadyExited,
            RollupError::UnknownDeposit(_) => FailureCode::UnknownDeposit,
            RollupError::DepositApplied { .. } => FailureCode::DepositApplied,
            RollupError::AlreadyRefunded(_) => FailureCode::AlreadyRefunded,
            RollupError::OverdueSkipped { .. } => FailureCode::OverdueSkipped,
            RollupError::TooManySteps { .. } => FailureCode::TooManySteps,
            RollupError::BadForcedSignature => FailureCode::BadForcedSignature,
            RollupError::BadForcedTx(_) => FailureCode::BadForcedTx,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed numbers: changing one is a hard fork, so this table may only grow.
    #[test]
    fn codes_keep_their_numbers_and_ids_are_unique() {
        let pinned: &[(u16, &str)] = &[
            (1, "zero_stake"),
            (2, "unstake_exceeds_stake"),
            (4, "out_of_gas"),
            (100, "bad_rollup_params"),
            (111, "insufficient_balance"),
            (122, "bad_deposit_range"),
            (135, "too_late"),
            (144, "already_claimed"),
            (154, "bad_witness"),
            (200, "unknown_dispute"),
            (210, "side_full"),
            (215, "clock_ran_out"),
            (300, "bad_l2_key"),
            (308, "bad_proof"),
            (309, "frozen"),
            (314, "already_exited"),
        ];
        for (code, id) in pinned {
            assert_eq!(
                FailureCode::from_code(*code).map(FailureCode::id),
                Some(*id)
            );
        }
        let mut ids: Vec<_> = FailureCode::ALL.iter().map(|c| c.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), FailureCode::ALL.len());
        for c in FailureCode::ALL {
            assert_eq!(FailureCode::from_code(c.code()), Some(*c));
        }
        assert_eq!(FailureCode::from_code(0), None);
        assert_eq!(FAILURE_CODES_VERSION, 7);
    }
}

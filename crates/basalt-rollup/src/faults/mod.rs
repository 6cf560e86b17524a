//! Dishonest behaviours, for tests, benchmarks and labs, behind the cargo feature `faults` (which
//! the devnet binary `basalt` enables for `lab dispute` and the benchmarks): a build without it has
//! no way to derive, post or play dishonestly. The honest code paths only call in here under that
//! feature, at three seams: a derivation may carry a [`Fault`] it injects at one step
//! ([`crate::Derivation::with_fault`]), a faulty sequencer's batcher posts data the fault misreads
//! ([`misleading_batch`]), and the node configuration names the fault. A crowd of [`Sybil`]s,
//! driven by a test or benchmark, counters every claim of one honest party.
//!
//! A dishonest party's view is the true one with one [`Fault`] injected at one step, so the claims
//! it posts are real claims that lose where the L1's re-execution contradicts them.

mod batch;
pub(crate) mod plan;
mod sybil;

pub use batch::misleading_batch;
pub use sybil::Sybil;

use basalt_l2::{
    Access, Account, DepositEntry, DepositWindow, Deposits, L2State, L2Tx, Optimistic, Outcome,
    SigCheck, TxFailure, Withdrawal, FEE_ACCOUNT,
};
use basalt_types::Amount;

type P = Optimistic;

/// Tokens (in base units) a minting or stealing fault conjures: a million tokens.
pub const FAULT_AMOUNT: Amount = 1_000_000 * 1_000_000_000_000_000_000;

/// A way of being wrong about a batch. A faulty proposer posts the output its faulty view gives;
/// a faulty challenger disputes the true one. Some faults need the batch to hold a transaction
/// only a faulty sequencer posts (see [`Fault::needs_sequencer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A transfer's amount lands on the fee account instead of its recipient.
    Balance,
    /// A deposit in the batch is not applied.
    SkipDeposit,
    /// A deposit credits the next deposit's recipient and amount instead of its own.
    ReorderDeposits,
    /// A transaction with a bad signature is applied (the sequencer posts a forged transfer).
    BadSignature,
    /// A transaction with a used nonce is applied again (the sequencer posts a replay).
    Replay,
    /// The fee account is credited a million tokens from nothing.
    Mint,
    /// A withdrawal is followed by a forged one of a million tokens to the same L1 account.
    WithdrawalsRoot,
    /// The sequencer posts data that does not decode, and the output claims it applied something.
    Undecodable,
}

impl Fault {
    /// Every fault, in documentation order.
    pub const ALL: [Fault; 8] = [
        Fault::Balance,
        Fault::SkipDeposit,
        Fault::ReorderDeposits,
        Fault::BadSignature,
        Fault::Replay,
        Fault::Mint,
        Fault::WithdrawalsRoot,
        Fault::Undecodable,
    ];

    /// The name `--fault` takes.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Balance => "balance",
            Fault::SkipDeposit => "skip-deposit",
            Fault::ReorderDeposits => "reorder-deposits",
            Fault::BadSignature => "bad-signature",
            Fault::Replay => "replay",
            Fault::Mint => "mint",
            Fault::WithdrawalsRoot => "withdrawals-root",
            Fault::Undecodable => "undecodable",
        }
    }

    /// Parses a `--fault` name.
    pub fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == s)
    }

    /// Whether the fault needs the node to be the sequencer (it posts the data the fault misreads).
    pub fn needs_sequencer(self) -> bool {
        matches!(
            self,
            Fault::BadSignature | Fault::Replay | Fault::Undecodable
        )
    }

    /// Applies `tx` to `state` the faulty way if the fault fits this transaction (`None`);
    /// otherwise applies it honestly and returns its outcome. The caller commits.
    pub fn apply(
        self,
        state: &mut L2State<P>,
        window: &DepositWindow<'_, P>,
        tx: &L2Tx<P>,
    ) -> Option<Outcome> {
        if let L2Tx::Deposit { index } = tx {
            let next = state.next_deposit();
            let fits = *index == next && window.get(next).is_some();
            match self {
                Fault::SkipDeposit if fits => return None,
                Fault::ReorderDeposits if fits && window.get(next + 1).is_some() => {
                    let swapped = Swapped { window, at: next };
                    state.apply(&swapped, tx, SigCheck::Verify);
                    return None;
                }
                _ => {}
            }
        }
        let outcome = state.apply(window, tx, SigCheck::Verify);
        let faulted = match (self, tx, outcome) {
            (
                Fault::Balance,
                L2Tx::Transfer {
                    from, to, amount, ..
                },
                Outcome::Applied,
            ) if *to != FEE_ACCOUNT && to != from && *amount > 0 => {
                credit(state, *to, |b| b - amount);
                credit(state, FEE_ACCOUNT, |b| b + amount);
                true
            }
            (Fault::Mint, _, Outcome::Applied) => {
                credit(state, FEE_ACCOUNT, |b| b.saturating_add(FAULT_AMOUNT));
                true
            }
            (Fault::BadSignature, _, Outcome::Failed(TxFailure::BadSignature)) => {
                state.apply(window, tx, SigCheck::Known(true));
                true
            }
            (
                Fault::Replay,
                L2Tx::Transfer { from, .. } | L2Tx::Withdraw { from, .. },
                Outcome::Failed(TxFailure::BadNonce { expected, got }),
            ) if got < expected => {
                set_nonce(state, *from, got);
                let replayed = state.apply(window, tx, SigCheck::Verify);
                set_nonce(state, *from, expected);
                if replayed != Outcome::Applied {
                    // Replaying failed for another reason (the balance): nothing changed after all.
                    return Some(outcome);
                }
                true
            }
            (Fault::WithdrawalsRoot, L2Tx::Withdraw { recipient, .. }, Outcome::Applied) => {
                state
                    .push_withdrawal(Withdrawal {
                        recipient: *recipient,
                        amount: FAULT_AMOUNT,
                    })
                    .expect("a full state covers every index");
                true
            }
            _ => false,
        };
        (!faulted).then_some(outcome)
    }
}

fn credit(state: &mut L2State<P>, index: u32, f: impl FnOnce(Amount) -> Amount) {
    let mut a: Account<P> = *state.get(index).expect("an allocated account");
    a.balance = f(a.balance);
    state
        .set_account(index, a)
        .expect("a full state covers every index");
}

fn set_nonce(state: &mut L2State<P>, index: u32, nonce: u64) {
    let mut a: Account<P> = *state.get(index).expect("an allocated account");
    a.nonce = nonce;
    state
        .set_account(index, a)
        .expect("a full state covers every index");
}

/// A deposit window with entries `at` and `at + 1` swapped.
struct Swapped<'a, 'w> {
    window: &'a DepositWindow<'w, P>,
    at: u64,
}

impl Deposits<P> for Swapped<'_, '_> {
    fn get(&self, index: u64) -> Option<DepositEntry<P>> {
        let source = if index == self.at {
            self.at + 1
        } else if index == self.at + 1 {
            self.at
        } else {
            index
        };
        self.window.get(source)
    }
}

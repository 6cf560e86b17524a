//! The state transition function: one transaction against any [`Access`] to the state.
//!
//! Every party runs this one function: the sequencer and a deriving verifier over the full state
//! ([`crate::L2State`]), the one-step fraud proof over a Merkle witness ([`crate::StepWitness`]).
//! A transaction that breaks a rule is a recorded no-op: it changes nothing (not even a nonce), so a
//! batch always has exactly one outcome whatever it contains.

use crate::profile::Profile;
use crate::types::{Account, Config, DepositEntry, L2Tx, Withdrawal, FEE_ACCOUNT};
use basalt_merkle::PartialError;
use basalt_types::Amount;

/// Why a transaction was a no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TxFailure {
    /// The deposit is not the next one in the L1 queue.
    #[error("deposit {got} applied out of order (next is {expected})")]
    DepositOutOfOrder {
        /// The next deposit in queue order.
        expected: u64,
        /// The one the batch applied.
        got: u64,
    },
    /// The deposit is not in the range of the queue this batch may consume.
    #[error("deposit {0} is not available to this batch")]
    DepositUnavailable(u64),
    /// The account index is not allocated.
    #[error("account {0} does not exist")]
    UnknownAccount(u32),
    /// Every account index is in use.
    #[error("no free account index")]
    AccountsFull,
    /// The signature does not verify under the sender's key.
    #[error("bad signature")]
    BadSignature,
    /// The nonce is not the sender's next.
    #[error("nonce {got} but the account expects {expected}")]
    BadNonce {
        /// The sender's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The fee is below the rollup's minimum.
    #[error("fee below the minimum")]
    FeeTooLow,
    /// Amount plus fee exceed the balance.
    #[error("insufficient balance")]
    InsufficientBalance,
    /// A balance or nonce would overflow.
    #[error("balance or nonce overflow")]
    Overflow,
    /// The withdrawals tree is full.
    #[error("no free withdrawal index")]
    WithdrawalsFull,
}

/// What one transaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied.
    Applied,
    /// A no-op, for this reason.
    Failed(TxFailure),
}

/// Whether a signature has already been checked (the sequencer verifies in batches) or must be now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigCheck {
    /// Verify it here.
    Verify,
    /// Already verified elsewhere with this result.
    Known(bool),
}

/// The deposits a batch may consume: a window of the rollup's L1 queue.
pub trait Deposits<P: Profile> {
    /// Deposit `index` of the queue, if this batch may consume it.
    fn get(&self, index: u64) -> Option<DepositEntry<P>>;
}

/// A contiguous window of the deposit queue starting at `first`.
#[derive(Debug, Clone, Copy)]
pub struct DepositWindow<'a, P: Profile> {
    /// Queue index of `entries[0]`.
    pub first: u64,
    /// The deposits.
    pub entries: &'a [DepositEntry<P>],
}

impl<P: Profile> Deposits<P> for DepositWindow<'_, P> {
    fn get(&self, index: u64) -> Option<DepositEntry<P>> {
        let offset = usize::try_from(index.checked_sub(self.first)?).ok()?;
        self.entries.get(offset).copied()
    }
}

/// The deposits posted batch may consume: every queued deposit below the batch's `deposits_end`
/// (in queue order; the state's own cursor says which is next). `None` if `queue` is shorter.
pub fn batch_deposits<P: Profile>(
    queue: &[DepositEntry<P>],
    deposits_end: u64,
) -> Option<DepositWindow<'_, P>> {
    let end = usize::try_from(deposits_end).ok()?;
    Some(DepositWindow {
        first: 0,
        entries: queue.get(..end)?,
    })
}

/// Reads and writes of the state the STF needs. A witness-backed access fails with
/// [`PartialError`] when the witness does not cover what the transaction touches.
pub trait Access<P: Profile> {
    /// Allocated accounts (indices `0..count`).
    fn account_count(&self) -> u32;
    /// The account at an allocated index.
    fn account(&mut self, index: u32) -> Result<Account<P>, PartialError>;
    /// Writes an account; `index == account_count()` allocates it.
    fn set_account(&mut self, index: u32, account: Account<P>) -> Result<(), PartialError>;
    /// Queue index of the next deposit to apply.
    fn next_deposit(&self) -> u64;
    /// Sets the next deposit.
    fn set_next_deposit(&mut self, next: u64);
    /// Withdrawals so far (indices `0..count` of the withdrawals tree).
    fn withdrawal_count(&self) -> u64;
    /// Appends a withdrawal.
    fn push_withdrawal(&mut self, withdrawal: Withdrawal) -> Result<(), PartialError>;
}

/// Applies one transaction. `Err` only when the access itself fails (an incomplete witness); rule
/// violations are `Ok(Outcome::Failed(..))` and leave the state untouched.
pub fn apply_tx<P: Profile, A: Access<P>>(
    config: &Config,
    state: &mut A,
    deposits: &impl Deposits<P>,
    tx: &L2Tx<P>,
    sig: SigCheck,
) -> Result<Outcome, PartialError> {
    match tx {
        L2Tx::Deposit { index } => apply_deposit(config, state, deposits, *index),
        L2Tx::Transfer {
            from,
            to,
            amount,
            fee,
            nonce,
            signature,
        } => {
            let (sender, cost) = match check_debit(
                config, state, tx, *from, *nonce, *amount, *fee, signature, sig,
            )? {
                Ok(found) => found,
                Err(f) => return Ok(Outcome::Failed(f)),
            };
            if *to >= state.account_count() {
                return Ok(Outcome::Failed(TxFailure::UnknownAccount(*to)));
            }
            settle(
                state,
                *from,
                sender,
                cost,
                &[(*to, *amount), (FEE_ACCOUNT, *fee)],
            )
        }
        L2Tx::Withdraw {
            from,
            recipient,
            amount,
            fee,
            nonce,
            signature,
        } => {
            let (sender, cost) = match check_debit(
                config, state, tx, *from, *nonce, *amount, *fee, signature, sig,
            )? {
                Ok(found) => found,
                Err(f) => return Ok(Outcome::Failed(f)),
            };
            if state.withdrawal_count() >= P::tree_capacity() {
                return Ok(Outcome::Failed(TxFailure::WithdrawalsFull));
            }
            let outcome = settle(state, *from, sender, cost, &[(FEE_ACCOUNT, *fee)])?;
            if outcome == Outcome::Applied {
                state.push_withdrawal(Withdrawal {
                    recipient: *recipient,
                    amount: *amount,
                })?;
            }
            Ok(outcome)
        }
    }
}

fn apply_deposit<P: Profile, A: Access<P>>(
    config: &Config,
    state: &mut A,
    deposits: &impl Deposits<P>,
    index: u64,
) -> Result<Outcome, PartialError> {
    let expected = state.next_deposit();
    if index != expected {
        return Ok(Outcome::Failed(TxFailure::DepositOutOfOrder {
            expected,
            got: index,
        }));
    }
    let Some(entry) = deposits.get(index) else {
        return Ok(Outcome::Failed(TxFailure::DepositUnavailable(index)));
    };
    if let Some(tx) = entry.forced {
        // A forced transaction takes this place in the queue: it runs as if the sequencer had
        // sent it, and its place is consumed whatever it does. The L1 checked its signature under
        // the entry's key before queueing it, so it is signed by its sender exactly when the
        // sender's account holds that key (one rule for every party, the circuit included).
        let outcome = match tx {
            L2Tx::Deposit { .. } => Outcome::Failed(TxFailure::DepositUnavailable(index)),
            L2Tx::Transfer { from, .. } | L2Tx::Withdraw { from, .. } => {
                let signed = from < state.account_count() && state.account(from)?.key == entry.key;
                apply_tx(config, state, deposits, &tx, SigCheck::Known(signed))?
            }
        };
        state.set_next_deposit(expected + 1);
        return Ok(outcome);
    }
    // Credit the named account if it is the depositor's; otherwise open a new one, so deposited
    // funds always reach an account the depositor's key controls.
    let existing = match entry.account {
        Some(i) if i < state.account_count() => {
            let acc = state.account(i)?;
            (acc.key == entry.key).then_some((i, acc))
        }
        _ => None,
    };
    let (index_to_write, mut account) = match existing {
        Some(found) => found,
        None => {
            let next = state.account_count();
            if next == u32::MAX || u64::from(next) >= P::tree_capacity() {
                // The deposit still counts as consumed; its funds stay in escrow, owed to nobody on L2.
                state.set_next_deposit(expected + 1);
                return Ok(Outcome::Failed(TxFailure::AccountsFull));
            }
            (next, Account::new(entry.key))
        }
    };
    // Unreachable while L1 supply fits in 128 bits; a no-op rather than a panic all the same.
    let Some(balance) = account.balance.checked_add(entry.amount) else {
        return Ok(Outcome::Failed(TxFailure::Overflow));
    };
    account.balance = balance;
    state.set_account(index_to_write, account)?;
    state.set_next_deposit(expected + 1);
    Ok(Outcome::Applied)
}

/// Checks the sender of a signed transaction and that it can pay `amount + fee`; returns its account
/// and that cost, or why the transaction fails.
#[allow(clippy::too_many_arguments)]
fn check_debit<P: Profile, A: Access<P>>(
    config: &Config,
    state: &mut A,
    tx: &L2Tx<P>,
    from: u32,
    nonce: u64,
    amount: Amount,
    fee: Amount,
    signature: &P::Signature,
    sig: SigCheck,
) -> Result<Result<(Account<P>, Amount), TxFailure>, PartialError> {
    if from >= state.account_count() {
        return Ok(Err(TxFailure::UnknownAccount(from)));
    }
    let sender = state.account(from)?;
    let valid = match sig {
        SigCheck::Known(v) => v,
        SigCheck::Verify => P::verify(
            &sender.key,
            &tx.signing_message(config.rollup_id),
            signature,
        ),
    };
    if !valid {
        return Ok(Err(TxFailure::BadSignature));
    }
    if nonce != sender.nonce {
        return Ok(Err(TxFailure::BadNonce {
            expected: sender.nonce,
            got: nonce,
        }));
    }
    if fee < config.min_fee {
        return Ok(Err(TxFailure::FeeTooLow));
    }
    let Some(cost) = amount.checked_add(fee) else {
        return Ok(Err(TxFailure::Overflow));
    };
    if sender.balance < cost {
        return Ok(Err(TxFailure::InsufficientBalance));
    }
    Ok(Ok((sender, cost)))
}

/// Debits `cost` from the sender (bumping its nonce) and pays each credit, reading every account
/// before writing any, so that aliases (a self-transfer, the sequencer paying itself) are exact.
fn settle<P: Profile, A: Access<P>>(
    state: &mut A,
    from: u32,
    mut sender: Account<P>,
    cost: Amount,
    credits: &[(u32, Amount)],
) -> Result<Outcome, PartialError> {
    sender.balance -= cost; // checked by the caller
    let Some(nonce) = sender.nonce.checked_add(1) else {
        return Ok(Outcome::Failed(TxFailure::Overflow));
    };
    sender.nonce = nonce;
    let mut touched: Vec<(u32, Account<P>)> = vec![(from, sender)];
    for (index, amount) in credits {
        let pos = match touched.iter().position(|(i, _)| i == index) {
            Some(p) => p,
            None => {
                let acc = state.account(*index)?;
                touched.push((*index, acc));
                touched.len() - 1
            }
        };
        let Some(balance) = touched[pos].1.balance.checked_add(*amount) else {
            return Ok(Outcome::Failed(TxFailure::Overflow));
        };
        touched[pos].1.balance = balance;
    }
    for (index, account) in touched {
        state.set_account(index, account)?;
    }
    Ok(Outcome::Applied)
}

//! The action of a transaction, dispatched to the rule that runs it. Staking and transfers are
//! here; the bridge's rules are in [`crate::bridge`] and the dispute game's in [`crate::dispute`].

use super::{ActionFailure, BlockBuilder, TxError};
use crate::bridge::{DepositRecord, RollupError};
use crate::state::{blob_hash, Account, StoredBlob};
use crate::tx::Action;
use crate::view::StateRead;
use basalt_l2::DepositEntry;
use basalt_types::PublicKey;

impl BlockBuilder<'_> {
    /// Runs an action for `signer`, whose account (fees already paid) is `sender`; the caller
    /// writes `sender` back. `Ok(Some(reason))` is a failed action: nothing but `sender`'s fee and
    /// nonce changes. `Err` makes the whole transaction invalid.
    pub(crate) fn run_action(
        &mut self,
        signer: PublicKey,
        sender: &mut Account,
        action: &Action,
    ) -> Result<Option<ActionFailure>, TxError> {
        let failed = |e: RollupError| Ok(Some(ActionFailure::Rollup(e)));
        match action {
            Action::Transfer { to, amount } => {
                // Nothing is written until every fallible step has passed.
                if *to != signer {
                    sender.balance -= amount;
                    let recipient = self.credit(*to, *amount)?;
                    self.write(*to, recipient);
                }
            }
            Action::Stake { amount } => {
                if *amount == 0 {
                    return Ok(Some(ActionFailure::ZeroStake));
                }
                let stake = sender.stake.checked_add(*amount).ok_or(TxError::Overflow)?;
                // Every staker is weighed at each epoch's committee selection: dust stakes
                // would make that work grow for free.
                if stake < self.params.min_stake {
                    return Ok(Some(ActionFailure::StakeBelowMinimum {
                        stake,
                        min: self.params.min_stake,
                    }));
                }
                sender.balance -= amount;
                sender.stake = stake;
            }
            Action::Unstake { amount } => {
                if *amount == 0 || *amount > sender.stake {
                    return Ok(Some(ActionFailure::UnstakeExceedsStake {
                        amount: *amount,
                        stake: sender.stake,
                    }));
                }
                let left = sender.stake - amount;
                if left != 0 && left < self.params.min_stake {
                    return Ok(Some(ActionFailure::StakeBelowMinimum {
                        stake: left,
                        min: self.params.min_stake,
                    }));
                }
                sender.stake -= amount;
                sender.unbonding += amount;
            }
            Action::PostBlob { data, .. } => {
                self.changes.blobs.push(StoredBlob {
                    hash: blob_hash(data),
                    height: self.height,
                    sender: signer,
                    data: data.clone(),
                });
            }
            Action::RegisterRollup { params } => {
                if let Err(e) = self.register_rollup(params) {
                    return failed(e);
                }
            }
            Action::Deposit {
                rollup,
                account,
                key,
                amount,
            } => {
                let record = DepositRecord {
                    entry: DepositEntry {
                        forced: None,
                        account: *account,
                        key: *key,
                        amount: *amount,
                    },
                    sender: signer,
                    height: self.height,
                    zk_forced: None,
                };
                if let Err(e) = self.deposit(*rollup, sender, record) {
                    return failed(e);
                }
            }
            Action::ForceInclude { rollup, key, tx } => {
                if let Err(e) = self.force_include(*rollup, signer, *key, tx) {
                    return failed(e);
                }
            }
            Action::PostBatch {
                rollup,
                index,
                data,
                data_hash,
                deposits_end,
                ..
            } => {
                if let Err(e) =
                    self.post_batch(*rollup, signer, *index, data, *data_hash, *deposits_end)
                {
                    return failed(e);
                }
            }
            Action::ProposeOutput {
                rollup,
                batch,
                prior,
                output,
            } => {
                if let Err(e) =
                    self.propose_output(*rollup, signer, sender, *batch, *prior, *output)
                {
                    return failed(e);
                }
            }
            Action::FinalizeWithdrawal(claim) => {
                let r = self.pay_out(signer, sender, claim.recipient, claim.amount, |b| {
                    b.finalize_withdrawal(claim)
                })?;
                if let Err(e) = r {
                    return failed(e);
                }
            }
            Action::Exit(claim) => {
                let r = self.pay_out(signer, sender, claim.recipient, claim.balance, |b| {
                    b.exit(claim)
                })?;
                if let Err(e) = r {
                    return failed(e);
                }
            }
            Action::RefundDeposit {
                rollup,
                index,
                state,
            } => {
                // The payee and amount are the queued deposit's: read them first (the rule
                // checks them again), so that the payment is worked out before anything is written.
                let Some(d) = self.state().deposit(*rollup, *index) else {
                    return failed(RollupError::UnknownDeposit(*index));
                };
                let r = self.pay_out(signer, sender, d.sender, d.entry.amount, |b| {
                    b.refund_deposit(*rollup, *index, state).map(|_| ())
                })?;
                if let Err(e) = r {
                    return failed(e);
                }
            }
            Action::Counter {
                rollup,
                proposal,
                parent,
                attack,
                value,
            } => {
                let r = self
                    .counter_claim(*rollup, signer, sender, *proposal, *parent, *attack, *value);
                if let Err(e) = r {
                    return failed(e);
                }
            }
            Action::Step {
                rollup,
                proposal,
                leaf,
                attack,
                witness,
            } => {
                if let Err(e) = self.step_claim(*rollup, signer, *proposal, *leaf, *attack, witness)
                {
                    return failed(e);
                }
            }
            Action::ProveBatch {
                rollup,
                batch,
                output,
                proof,
            } => {
                if let Err(e) = self.prove_batch(*rollup, signer, *batch, *output, proof) {
                    return failed(e);
                }
            }
            Action::RevertBatches { rollup, from } => {
                if let Err(e) = self.revert_batches(*rollup, signer, *from) {
                    return failed(e);
                }
            }
        }
        Ok(None)
    }

    /// Pays `amount` to `recipient` if `rule` (which takes it out of a rollup's escrow) passes:
    /// the credit is worked out before the rule writes anything, so that no error after the rule
    /// can leave a payment recorded but unpaid. `sender` is the signer's account, written by the
    /// caller.
    fn pay_out(
        &mut self,
        signer: PublicKey,
        sender: &mut Account,
        recipient: PublicKey,
        amount: basalt_types::Amount,
        rule: impl FnOnce(&mut Self) -> Result<(), RollupError>,
    ) -> Result<Result<(), RollupError>, TxError> {
        let paid_sender = if recipient == signer {
            Some(
                sender
                    .balance
                    .checked_add(amount)
                    .ok_or(TxError::Overflow)?,
            )
        } else {
            None
        };
        let paid_other = match paid_sender {
            None => Some(self.credit(recipient, amount)?),
            Some(_) => None,
        };
        if let Err(e) = rule(self) {
            return Ok(Err(e));
        }
        if let Some(balance) = paid_sender {
            sender.balance = balance;
        }
        if let Some(acc) = paid_other {
            self.write(recipient, acc);
        }
        Ok(Ok(()))
    }
}

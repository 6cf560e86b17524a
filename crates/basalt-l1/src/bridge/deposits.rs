//! Deposits: funds escrowed on L1 and queued for the rollup's next batches.

use super::{fold, DepositRecord, RollupError, DEPOSITS_DOMAIN};
use crate::exec::BlockBuilder;
use crate::state::Account;
use crate::view::StateRead;
use basalt_l2::{DepositEntry, Deposits, L2Tx, Optimistic};
use basalt_types::{Decode, Encode, PublicKey};

impl BlockBuilder<'_> {
    pub(crate) fn deposit(
        &mut self,
        rollup: u32,
        sender: &mut Account,
        record: DepositRecord,
    ) -> Result<(), RollupError> {
        let h = self.rollup(rollup)?;
        self.refuse_frozen(&h)?;
        if record.entry.amount == 0 {
            return Err(RollupError::ZeroAmount);
        }
        if h.params.kind.zk().is_some() {
            self.check_zk_deposit(&record.entry.key)?;
        }
        let balance = sender.balance.checked_sub(record.entry.amount).ok_or(
            RollupError::InsufficientBalance {
                need: record.entry.amount,
                have: sender.balance,
            },
        )?;
        let escrow = h
            .escrow
            .checked_add(record.entry.amount)
            .ok_or(RollupError::Overflow)?;
        sender.balance = balance;
        self.queue_item(h, record).header.escrow = escrow;
        Ok(())
    }

    /// Appends `record` to the queue of rollup `h`; returns the rollup's diff.
    fn queue_item(
        &mut self,
        h: super::RollupHeader,
        record: DepositRecord,
    ) -> &mut super::RollupDiff {
        let d = self.rollup_diff(h);
        d.header.deposit_count += 1;
        d.header.deposits_digest = fold(
            d.header.deposits_digest,
            DEPOSITS_DOMAIN,
            &record.to_bytes(),
        );
        d.deposits.push(record);
        d
    }
}

impl BlockBuilder<'_> {
    /// Queues the signed L2 transaction `tx` of `signer` in an optimistic rollup's queue, as a
    /// deposit of nothing: the batches apply it (checking its signature) by its deadline.
    pub(crate) fn force_include(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        tx: &[u8],
    ) -> Result<(), RollupError> {
        let h = self.rollup(rollup)?;
        self.refuse_frozen(&h)?;
        if h.params.kind.zk().is_some() {
            return Err(RollupError::ForcedTxUnsupported);
        }
        let tx = L2Tx::<Optimistic>::from_bytes(tx)
            .map_err(|_| RollupError::BadForcedTx("it does not decode as an L2 transaction"))?;
        if matches!(tx, L2Tx::Deposit { .. }) {
            return Err(RollupError::BadForcedTx(
                "only a transfer or a withdrawal can be forced in",
            ));
        }
        let record = DepositRecord {
            entry: DepositEntry {
                account: None,
                key: signer,
                amount: 0,
                forced: Some(tx),
            },
            sender: signer,
            height: self.height,
        };
        self.queue_item(h, record);
        Ok(())
    }
}

/// The deposit queue of a rollup as a state read sees it, up to a batch's deposit range end: what
/// a one-step proof's re-execution reads.
pub(crate) struct ViewDeposits<'a, S> {
    /// The state read.
    pub state: &'a S,
    /// The rollup.
    pub rollup: u32,
    /// The batch's deposit range end.
    pub end: u64,
}

impl<S: StateRead> Deposits<Optimistic> for ViewDeposits<'_, S> {
    fn get(&self, index: u64) -> Option<DepositEntry<Optimistic>> {
        if index >= self.end {
            return None;
        }
        self.state.deposit(self.rollup, index).map(|r| r.entry)
    }
}

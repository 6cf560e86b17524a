//! Deposits: funds escrowed on L1 and queued for the rollup's next batches.

use super::{fold, DepositRecord, RollupError, DEPOSITS_DOMAIN};
use crate::exec::BlockBuilder;
use crate::state::Account;
use crate::view::StateRead;
use basalt_l2::{DepositEntry, Deposits, L2Tx, Optimistic, Profile, Zk};
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
    /// Queues the signed L2 transaction `tx`, paid for by `signer`, in a rollup's queue as a
    /// deposit of nothing: the batches apply it by its deadline if its sender holds `key`. Its
    /// kind, fee and signature under `key` are checked first (charged before the check), so a
    /// batch never has to prove a place holds nothing it could apply.
    pub(crate) fn force_include(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        key: PublicKey,
        tx: &[u8],
    ) -> Result<(), RollupError> {
        let h = self.rollup(rollup)?;
        self.refuse_frozen(&h)?;
        let config = basalt_l2::Config {
            rollup_id: rollup,
            min_fee: h.params.min_fee,
        };
        let mut record = DepositRecord {
            entry: DepositEntry {
                account: None,
                key,
                amount: 0,
                forced: None,
            },
            sender: signer,
            height: self.height,
            zk_forced: None,
        };
        if h.params.kind.zk().is_some() {
            self.charge(crate::gas::ZK_KEY_GAS + crate::gas::ZK_SIGNATURE_GAS)?;
            let key = super::zk_key(&key).ok_or(RollupError::BadL2Key)?;
            record.zk_forced = Some(checked_forced::<Zk>(&config, &key, tx)?);
        } else {
            record.entry.forced = Some(checked_forced::<Optimistic>(&config, &key, tx)?);
        }
        self.queue_item(h, record);
        Ok(())
    }
}

/// `bytes` as a forced transaction of a rollup with rules `config`: a transfer or withdrawal that
/// pays at least the minimum fee, whose amount and fee add up, signed by `key`.
fn checked_forced<P: Profile>(
    config: &basalt_l2::Config,
    key: &P::PublicKey,
    bytes: &[u8],
) -> Result<L2Tx<P>, RollupError> {
    let tx = L2Tx::<P>::from_bytes(bytes)
        .map_err(|_| RollupError::BadForcedTx("it does not decode as an L2 transaction"))?;
    let (L2Tx::Transfer {
        amount,
        fee,
        signature,
        ..
    }
    | L2Tx::Withdraw {
        amount,
        fee,
        signature,
        ..
    }) = &tx
    else {
        return Err(RollupError::BadForcedTx(
            "only a transfer or a withdrawal can be forced in",
        ));
    };
    if *fee < config.min_fee {
        return Err(RollupError::BadForcedTx(
            "its fee is below the rollup's minimum",
        ));
    }
    if amount.checked_add(*fee).is_none() {
        return Err(RollupError::BadForcedTx("its amount and fee overflow"));
    }
    if !P::verify(key, &tx.signing_message(config.rollup_id), signature) {
        return Err(RollupError::BadForcedSignature);
    }
    Ok(tx)
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

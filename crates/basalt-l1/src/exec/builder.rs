//! The block builder: applies transactions one at a time on top of a view, charging gas and fees,
//! then settles the rollups and seals the block. Proposers build with it and verifiers re-execute
//! with it, so there is one implementation of every rule.

use super::{check_tx, child_fees, BlockOverlay, Changes, TxError};
use crate::block::{Block, Header, Receipt};
use crate::bridge::{RollupDiff, RollupError, RollupHeader};
use crate::params::{Params, MAX_BLOCK_TXS};
use crate::state::{select_committee, state_root, Account, StateDiff};
use crate::tx::{SignedTransaction, VerifiedTx};
use crate::view::{StateRead, StateView};
use basalt_l2::Optimistic;
use basalt_merkle::list_root;
use basalt_types::{Amount, Hash, PublicKey};
use std::collections::HashMap;
use std::sync::Arc;

/// Executes transactions one at a time on top of a view, then seals a block.
pub struct BlockBuilder<'a> {
    pub(crate) view: &'a StateView<'a>,
    pub(crate) params: Params,
    chain_id: u64,
    pub(crate) height: u64,
    base_fee: u64,
    blob_base_fee: u64,
    /// What the block has changed so far: the layer its reads see on top of `view`.
    pub(crate) changes: Changes,
    gas_used: u64,
    /// Gas the transaction being applied may still use.
    pub(crate) gas_left: u64,
    blob_bytes: u64,
    tips: Amount,
    pub(crate) burned: Amount,
    txs: Vec<SignedTransaction>,
    tx_hashes: Vec<Hash>,
    receipts: Vec<Receipt>,
    /// Batches decoded by this block's actions, by rollup and batch (a trace holds its batch's
    /// deposit range, so two batches with the same data may differ).
    pub(crate) decoded: HashMap<(u32, u64), BatchTxs>,
    /// ZK rollups' verifying keys decoded by this block's proofs, by rollup.
    pub(crate) verifiers: HashMap<u32, Arc<basalt_zk::Verifier>>,
    /// Charge for work without doing it (estimates and admission prechecks): nothing heavy runs.
    pub(crate) pricing_only: bool,
    /// Whether `apply` checks the block's transaction count, gas and blob space: off in a share
    /// of a block executed apart ([`super::parallel`]), whose merge checks them in block order.
    pub(crate) block_limits: bool,
}

/// What a share of a block executed apart hands to the merge.
pub(crate) struct Share {
    pub txs: Vec<SignedTransaction>,
    pub tx_hashes: Vec<Hash>,
    pub receipts: Vec<Receipt>,
    pub changes: Changes,
    pub tips: Amount,
    pub burned: Amount,
}

/// A decoded batch's transactions, shared by the actions of one block.
pub(crate) type BatchTxs = Arc<Vec<basalt_l2::L2Tx<Optimistic>>>;

/// A sealed block with the state diff it makes.
#[derive(Debug, Clone)]
pub struct ExecutedBlock {
    /// The block.
    pub block: Block,
    /// Its effect on state.
    pub diff: StateDiff,
}

impl<'a> BlockBuilder<'a> {
    /// Starts a block on top of the view's head.
    pub fn new(view: &'a StateView<'a>) -> Self {
        let base = view.base();
        let parent = view.head();
        let (base_fee, blob_base_fee) = child_fees(parent, base.params());
        BlockBuilder {
            view,
            params: base.params().clone(),
            chain_id: base.chain_id(),
            height: parent.height + 1,
            base_fee,
            blob_base_fee,
            changes: Changes::default(),
            gas_used: 0,
            gas_left: 0,
            blob_bytes: 0,
            tips: 0,
            burned: 0,
            txs: Vec::new(),
            tx_hashes: Vec::new(),
            receipts: Vec::new(),
            decoded: HashMap::new(),
            verifiers: HashMap::new(),
            pricing_only: false,
            block_limits: true,
        }
    }

    /// Base fee per gas of the block being built.
    pub fn base_fee(&self) -> u64 {
        self.base_fee
    }

    /// Gas used so far.
    pub fn gas_used(&self) -> u64 {
        self.gas_used
    }

    /// Number of transactions applied.
    pub fn tx_count(&self) -> usize {
        self.txs.len()
    }

    /// An account as of the transactions applied so far.
    pub fn account(&self, key: &PublicKey) -> Option<Account> {
        self.state().account(key)
    }

    /// The state as of the transactions applied so far: the view with this block's changes on top.
    pub fn state(&self) -> BlockOverlay<'_> {
        BlockOverlay::new(self.view, &self.changes)
    }

    pub(crate) fn credit(&mut self, key: PublicKey, amount: Amount) -> Result<Account, TxError> {
        let mut acc = match self.account(&key) {
            Some(a) => a,
            None => {
                let index = self.state().next_index();
                let index = u32::try_from(index).map_err(|_| TxError::AccountsFull)?;
                Account {
                    index,
                    ..Default::default()
                }
            }
        };
        acc.balance = acc.balance.checked_add(amount).ok_or(TxError::Overflow)?;
        Ok(acc)
    }

    pub(crate) fn write(&mut self, key: PublicKey, acc: Account) {
        if self.account(&key).is_none() {
            self.changes.new_accounts.push(key);
        }
        self.changes.accounts.insert(key, acc);
    }

    /// Applies one transaction. On error nothing changed and the transaction is not in the block.
    pub fn apply(&mut self, vtx: &VerifiedTx) -> Result<&Receipt, TxError> {
        let stx = vtx.tx();
        let t = &stx.tx;
        if self.block_limits && self.txs.len() >= MAX_BLOCK_TXS {
            return Err(TxError::BlockTxCountFull);
        }
        let sender_before = self.account(&stx.signer);
        check_tx(
            stx,
            self.chain_id,
            &self.params,
            sender_before,
            self.base_fee,
            self.blob_base_fee,
        )?;
        // check_tx already refused a sender with no account: it has no balance for any fee.
        let mut sender = sender_before.ok_or(TxError::InsufficientBalance { need: 1, have: 0 })?;
        if t.nonce != sender.nonce {
            return Err(TxError::FutureNonce {
                expected: sender.nonce,
                got: t.nonce,
            });
        }
        let blob_len = t.action.blob_bytes();
        if self.block_limits {
            self.check_limits(t.gas_limit, blob_len)?;
        }

        // Valid: from here on the transaction is included and pays, even if its action fails.
        // It pays for its whole gas limit up front and is refunded what its action leaves.
        let tip_per_gas = t
            .priority_fee_per_gas
            .min(t.max_fee_per_gas - self.base_fee);
        let price = self.base_fee as u128 + tip_per_gas as u128;
        let blob_fee = blob_len as u128 * self.blob_base_fee as u128;
        sender.balance -= t.gas_limit as u128 * price + blob_fee; // check_tx bounded it by the balance
        sender.nonce += 1;
        let intrinsic = t.action.intrinsic_gas();
        self.gas_left = t.gas_limit - intrinsic; // check_tx: the limit covers the intrinsic gas
        let error = self.run_action(stx.signer, &mut sender, &t.action)?;
        let gas = t.gas_limit - std::mem::take(&mut self.gas_left);
        sender.balance += (t.gas_limit - gas) as u128 * price;
        let burned = gas as u128 * self.base_fee as u128 + blob_fee;
        let tip = gas as u128 * tip_per_gas as u128;
        let fee = burned + tip;
        self.write(stx.signer, sender);
        self.gas_used += gas;
        self.blob_bytes += blob_len;
        self.tips += tip;
        self.burned += burned;
        self.txs.push(stx.clone());
        self.tx_hashes.push(vtx.hash());
        self.receipts.push(Receipt {
            tx_hash: vtx.hash(),
            failure: error.map(|e| e.code()),
            gas_used: gas,
            fee_paid: fee,
        });
        Ok(self.receipts.last().expect("just pushed"))
    }

    /// Whether a transaction of `gas_limit` and `blob_len` blob bytes fits the block after those
    /// applied so far.
    pub(crate) fn check_limits(&self, gas_limit: u64, blob_len: u64) -> Result<(), TxError> {
        if self.txs.len() >= MAX_BLOCK_TXS {
            return Err(TxError::BlockTxCountFull);
        }
        if self.gas_used + gas_limit > self.params.block_gas_limit {
            return Err(TxError::BlockGasFull);
        }
        if self.blob_bytes + blob_len > self.params.blob_max_bytes_per_block {
            return Err(TxError::BlockBlobSpaceFull);
        }
        Ok(())
    }

    /// The transactions applied, in order, with their hashes and receipts, and the changes, tips
    /// and burn they made: what a share executed apart hands to the merge.
    pub(crate) fn into_share(self) -> Share {
        Share {
            txs: self.txs,
            tx_hashes: self.tx_hashes,
            receipts: self.receipts,
            changes: self.changes,
            tips: self.tips,
            burned: self.burned,
        }
    }

    /// Appends transactions applied apart, in block order, checking the block's limits before
    /// each as `apply` does; their fees ([`Self::add_fees`]) and account changes are the caller's
    /// to merge. On error those before the failing one are appended, and its position in `txs`
    /// is returned.
    pub(crate) fn append(
        &mut self,
        txs: impl IntoIterator<Item = (SignedTransaction, Hash, Receipt)>,
    ) -> Result<(), (usize, TxError)> {
        for (i, (tx, hash, receipt)) in txs.into_iter().enumerate() {
            let blob_len = tx.tx.action.blob_bytes();
            self.check_limits(tx.tx.gas_limit, blob_len)
                .map_err(|e| (i, e))?;
            self.gas_used += receipt.gas_used;
            self.blob_bytes += blob_len;
            self.txs.push(tx);
            self.tx_hashes.push(hash);
            self.receipts.push(receipt);
        }
        Ok(())
    }

    /// Adds tips and burn of transactions applied apart.
    pub(crate) fn add_fees(&mut self, tips: Amount, burned: Amount) {
        self.tips += tips;
        self.burned += burned;
    }

    /// Charges `gas` to the transaction being applied, before the work it pays for. When its
    /// limit cannot pay, the action fails and the transaction pays its whole limit.
    pub(crate) fn charge(&mut self, gas: u64) -> Result<(), RollupError> {
        if gas > self.gas_left {
            let left = std::mem::take(&mut self.gas_left);
            return Err(RollupError::OutOfGas { needed: gas, left });
        }
        self.gas_left -= gas;
        Ok(())
    }

    /// Credits `amount` to `to` outside any transaction.
    pub(crate) fn pay(&mut self, to: PublicKey, amount: Amount) -> Result<(), TxError> {
        if amount > 0 {
            let acc = self.credit(to, amount)?;
            self.write(to, acc);
        }
        Ok(())
    }

    /// A rollup's header as of the transactions applied so far.
    pub(crate) fn rollup(&self, id: u32) -> Result<RollupHeader, RollupError> {
        self.state()
            .rollup(id)
            .ok_or(RollupError::UnknownRollup(id))
    }

    /// The diff of rollup `id` in this block, starting from `header` if the block has not touched it.
    pub(crate) fn rollup_diff(&mut self, header: RollupHeader) -> &mut RollupDiff {
        self.changes
            .rollups
            .entry(header.id)
            .or_insert_with(|| RollupDiff::new(header))
    }

    /// The diff of rollup `header.id` in this block, with `header` as its new header.
    pub(crate) fn write_header(&mut self, header: RollupHeader) -> &mut RollupDiff {
        match self.changes.rollups.entry(header.id) {
            std::collections::btree_map::Entry::Occupied(e) => {
                let d = e.into_mut();
                d.header = header;
                d
            }
            std::collections::btree_map::Entry::Vacant(e) => e.insert(RollupDiff::new(header)),
        }
    }

    /// How many distinct batches this block has decoded so far (each costs a decompression).
    pub fn batches_decoded(&self) -> usize {
        self.decoded.len()
    }

    /// Pays tips, closes the epoch if due, prunes expired blobs and seals the block.
    pub fn finish(
        mut self,
        timestamp_ms: u64,
        proposer: PublicKey,
    ) -> Result<ExecutedBlock, TxError> {
        self.settle_rollups()?;
        let touched: Vec<u32> = self.changes.rollups.keys().copied().collect();
        for id in touched {
            let (chain_root, disputes_root) = self.state().rollup_roots(id);
            let header = &mut self.changes.rollups.get_mut(&id).expect("touched").header;
            header.chain_root = chain_root;
            header.disputes_root = disputes_root;
        }
        if self.tips > 0 {
            let acc = self.credit(proposer, self.tips)?;
            self.write(proposer, acc);
        }
        let mut committee = None;
        if self.params.closes_epoch(self.height) {
            let stakers = self.state().stakers();
            for (key, mut acc) in stakers.clone() {
                if acc.unbonding > 0 {
                    acc.balance = acc
                        .balance
                        .checked_add(acc.unbonding)
                        .ok_or(TxError::Overflow)?;
                    acc.unbonding = 0;
                    self.write(key, acc);
                }
            }
            let next = select_committee(
                stakers.iter().map(|(k, a)| (*k, a.stake)),
                self.params.min_stake,
                self.params.max_validators,
            );
            // An epoch with no eligible staker keeps the old committee rather than halting the chain.
            if !next.is_empty() && next != self.view.committee() {
                committee = Some(next);
            }
        }
        let committee_now = committee
            .clone()
            .unwrap_or_else(|| self.view.committee().to_vec());
        let accounts_root = self.state().accounts_root();
        let blob_hashes: Vec<Hash> = self.changes.blobs.iter().map(|b| b.hash).collect();
        let receipt_hashes: Vec<Hash> = self.receipts.iter().map(|r| r.hash()).collect();
        let parent = self.view.head();
        let header = Header {
            chain_id: self.chain_id,
            height: self.height,
            parent: parent.hash(),
            timestamp_ms,
            proposer,
            state_root: state_root(accounts_root, &committee_now, self.state().rollups_root()),
            tx_root: list_root(&self.tx_hashes),
            blob_root: list_root(&blob_hashes),
            receipts_root: list_root(&receipt_hashes),
            gas_used: self.gas_used,
            base_fee_per_gas: self.base_fee,
            blob_bytes: self.blob_bytes,
            blob_base_fee: self.blob_base_fee,
        };
        let prune_blobs_through = self.height.checked_sub(self.params.blob_retention_blocks);
        let diff = StateDiff {
            header: header.clone(),
            accounts: self.changes.accounts,
            new_accounts: self.changes.new_accounts,
            committee,
            blobs: self.changes.blobs,
            prune_blobs_through,
            rollups: self.changes.rollups,
            burned: self.burned,
            receipts: self.receipts,
        };
        Ok(ExecutedBlock {
            block: Block {
                header,
                txs: self.txs,
            },
            diff,
        })
    }
}

/// The sender's balance after locking `bond`, or why it cannot.
pub(crate) fn balance_after(sender: &Account, bond: Amount) -> Result<Amount, RollupError> {
    sender
        .balance
        .checked_sub(bond)
        .ok_or(RollupError::InsufficientBalance {
            need: bond,
            have: sender.balance,
        })
}

//! Block execution: the one implementation of L1 rules, used to build proposals and to verify them.

use crate::block::{Block, Header, Receipt};
use crate::params::{Params, MAX_BLOCK_TXS};
use crate::state::{
    blob_hash, select_committee, state_root, Account, StateDiff, StateView, StoredBlob,
};
use crate::tx::{verify_all, Action, SignedTransaction, VerifiedTx};
use basalt_merkle::list_root;
use basalt_types::{Amount, Hash, PublicKey, SignatureError};
use std::collections::BTreeMap;

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

/// The base fee after a block that used `used` against `target` (EIP-1559, 1/8 max change).
pub fn next_base_fee(fee: u64, used: u64, target: u64, min: u64) -> u64 {
    let (fee_w, used_w, target_w) = (fee as u128, used as u128, target as u128);
    let next = if used_w > target_w {
        let delta = (fee_w * (used_w - target_w) / target_w / 8).max(1);
        fee_w + delta
    } else {
        fee_w - fee_w * (target_w - used_w) / target_w / 8
    };
    (next.min(u64::MAX as u128) as u64).max(min)
}

/// The base fees of the block after `parent`.
pub fn child_fees(parent: &Header, params: &Params) -> (u64, u64) {
    if parent.height == 0 {
        return (parent.base_fee_per_gas, parent.blob_base_fee);
    }
    (
        next_base_fee(
            parent.base_fee_per_gas,
            parent.gas_used,
            params.block_gas_target,
            params.min_base_fee,
        ),
        next_base_fee(
            parent.blob_base_fee,
            parent.blob_bytes,
            params.blob_target_bytes_per_block,
            params.min_blob_base_fee,
        ),
    )
}

/// The most a transaction can cost its sender: value, gas at the cap, blob bytes at the cap.
pub fn max_cost(tx: &SignedTransaction) -> Option<Amount> {
    let gas = (tx.tx.action.gas() as u128).checked_mul(tx.tx.max_fee_per_gas as u128)?;
    let blob = match &tx.tx.action {
        Action::PostBlob {
            data,
            max_fee_per_blob_byte,
        } => (data.len() as u128).checked_mul(*max_fee_per_blob_byte as u128)?,
        _ => 0,
    };
    gas.checked_add(blob)?.checked_add(tx.tx.action.value())
}

/// Checks the rules that do not depend on the block's other transactions: chain, fees, nonce order
/// against `account_nonce`, blob size and balance. The mempool uses the same function at admission.
pub fn check_tx(
    tx: &SignedTransaction,
    chain_id: u64,
    params: &Params,
    account: Option<Account>,
    base_fee: u64,
    blob_base_fee: u64,
) -> Result<(), TxError> {
    let t = &tx.tx;
    if t.chain_id != chain_id {
        return Err(TxError::WrongChainId {
            expected: chain_id,
            got: t.chain_id,
        });
    }
    if t.max_fee_per_gas < base_fee {
        return Err(TxError::FeeBelowBaseFee {
            max_fee: t.max_fee_per_gas,
            base_fee,
        });
    }
    if let Action::PostBlob {
        data,
        max_fee_per_blob_byte,
    } = &t.action
    {
        let len = data.len() as u64;
        if len == 0 || len > params.max_blob_bytes {
            return Err(TxError::BadBlobSize {
                len,
                max: params.max_blob_bytes,
            });
        }
        if *max_fee_per_blob_byte < blob_base_fee {
            return Err(TxError::BlobFeeBelowBaseFee {
                max_fee: *max_fee_per_blob_byte,
                base_fee: blob_base_fee,
            });
        }
    }
    let acc = account.unwrap_or_default();
    if t.nonce < acc.nonce {
        return Err(TxError::StaleNonce {
            expected: acc.nonce,
            got: t.nonce,
        });
    }
    let need = max_cost(tx).ok_or(TxError::Overflow)?;
    if need > acc.balance {
        return Err(TxError::InsufficientBalance {
            need,
            have: acc.balance,
        });
    }
    Ok(())
}

/// Executes transactions one at a time on top of a view, then seals a block.
pub struct BlockBuilder<'a> {
    view: &'a StateView<'a>,
    params: Params,
    chain_id: u64,
    height: u64,
    base_fee: u64,
    blob_base_fee: u64,
    changes: BTreeMap<PublicKey, Account>,
    new_accounts: Vec<PublicKey>,
    gas_used: u64,
    blob_bytes: u64,
    tips: Amount,
    burned: Amount,
    txs: Vec<SignedTransaction>,
    tx_hashes: Vec<Hash>,
    receipts: Vec<Receipt>,
    blobs: Vec<StoredBlob>,
}

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
            changes: BTreeMap::new(),
            new_accounts: Vec::new(),
            gas_used: 0,
            blob_bytes: 0,
            tips: 0,
            burned: 0,
            txs: Vec::new(),
            tx_hashes: Vec::new(),
            receipts: Vec::new(),
            blobs: Vec::new(),
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
        self.changes
            .get(key)
            .copied()
            .or_else(|| self.view.account(key))
    }

    fn credit(&mut self, key: PublicKey, amount: Amount) -> Result<Account, TxError> {
        let mut acc = match self.account(&key) {
            Some(a) => a,
            None => {
                let index = self.view.next_index() + self.new_accounts.len() as u64;
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

    fn write(&mut self, key: PublicKey, acc: Account) {
        if self.view.account(&key).is_none() && !self.changes.contains_key(&key) {
            self.new_accounts.push(key);
        }
        self.changes.insert(key, acc);
    }

    /// Applies one transaction. On error nothing changed and the transaction is not in the block.
    pub fn apply(&mut self, vtx: &VerifiedTx) -> Result<&Receipt, TxError> {
        let stx = vtx.tx();
        let t = &stx.tx;
        if self.txs.len() >= MAX_BLOCK_TXS {
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
        let gas = t.action.gas();
        if self.gas_used + gas > self.params.block_gas_limit {
            return Err(TxError::BlockGasFull);
        }
        let blob_len = t.action.blob_bytes();
        if self.blob_bytes + blob_len > self.params.blob_max_bytes_per_block {
            return Err(TxError::BlockBlobSpaceFull);
        }

        // Valid: from here on the transaction is included and pays, even if its action fails.
        let tip_per_gas = t
            .priority_fee_per_gas
            .min(t.max_fee_per_gas - self.base_fee);
        let burned =
            gas as u128 * self.base_fee as u128 + blob_len as u128 * self.blob_base_fee as u128;
        let tip = gas as u128 * tip_per_gas as u128;
        let fee = burned + tip;
        sender.balance -= fee; // check_tx bounded the maximum cost by the balance
        sender.nonce += 1;
        let mut error = None;
        match &t.action {
            Action::Transfer { to, amount } => {
                // Nothing is written until every fallible step has passed.
                if *to != stx.signer {
                    sender.balance -= amount;
                    let recipient = self.credit(*to, *amount)?;
                    self.write(*to, recipient);
                }
            }
            Action::Stake { amount } => {
                if *amount == 0 {
                    error = Some("stake amount is zero".to_string());
                } else {
                    sender.balance -= amount;
                    sender.stake = sender.stake.checked_add(*amount).ok_or(TxError::Overflow)?;
                }
            }
            Action::Unstake { amount } => {
                if *amount == 0 || *amount > sender.stake {
                    error = Some(format!("unstake {amount} exceeds stake {}", sender.stake));
                } else {
                    sender.stake -= amount;
                    sender.unbonding += amount;
                }
            }
            Action::PostBlob { data, .. } => {
                self.blobs.push(StoredBlob {
                    hash: blob_hash(data),
                    height: self.height,
                    sender: stx.signer,
                    data: data.clone(),
                });
            }
        }
        self.write(stx.signer, sender);
        self.gas_used += gas;
        self.blob_bytes += blob_len;
        self.tips += tip;
        self.burned += burned;
        self.txs.push(stx.clone());
        self.tx_hashes.push(vtx.hash());
        self.receipts.push(Receipt {
            tx_hash: vtx.hash(),
            success: error.is_none(),
            error,
            gas_used: gas,
            fee_paid: fee,
        });
        Ok(self.receipts.last().expect("just pushed"))
    }

    /// Pays tips, closes the epoch if due, prunes expired blobs and seals the block.
    pub fn finish(
        mut self,
        timestamp_ms: u64,
        proposer: PublicKey,
    ) -> Result<ExecutedBlock, TxError> {
        if self.tips > 0 {
            let acc = self.credit(proposer, self.tips)?;
            self.write(proposer, acc);
        }
        let mut committee = None;
        if self.params.closes_epoch(self.height) {
            let stakers = self.view.stakers_with(&self.changes);
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
        let accounts_root = self.view.accounts_root_with(&self.changes);
        let blob_hashes: Vec<Hash> = self.blobs.iter().map(|b| b.hash).collect();
        let receipt_hashes: Vec<Hash> = self.receipts.iter().map(|r| r.hash()).collect();
        let parent = self.view.head();
        let header = Header {
            chain_id: self.chain_id,
            height: self.height,
            parent: parent.hash(),
            timestamp_ms,
            proposer,
            state_root: state_root(accounts_root, &committee_now),
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
            accounts: self.changes,
            new_accounts: self.new_accounts,
            committee,
            blobs: self.blobs,
            prune_blobs_through,
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

/// Verifies a proposed block on top of a view: link, timestamp, proposer, every signature and
/// transaction, and every header field against re-execution.
pub fn verify_block(view: &StateView<'_>, block: &Block) -> Result<ExecutedBlock, BlockError> {
    let verified = verify_all(block.txs.clone())
        .map_err(|(index, err)| BlockError::BadSignature { index, err })?;
    verify_block_with(view, &block.header, &verified)
}

/// As [`verify_block`], for transactions whose signatures were already checked.
pub fn verify_block_with(
    view: &StateView<'_>,
    header: &Header,
    txs: &[VerifiedTx],
) -> Result<ExecutedBlock, BlockError> {
    let parent = view.head();
    if header.parent != parent.hash() {
        return Err(BlockError::BadLink("parent hash"));
    }
    if header.height != parent.height + 1 {
        return Err(BlockError::BadLink("height"));
    }
    if header.chain_id != view.base().chain_id() {
        return Err(BlockError::BadLink("chain id"));
    }
    if header.timestamp_ms <= parent.timestamp_ms {
        return Err(BlockError::NonIncreasingTimestamp {
            parent: parent.timestamp_ms,
            got: header.timestamp_ms,
        });
    }
    if !view.committee().contains(&header.proposer) {
        return Err(BlockError::UnknownProposer(header.proposer));
    }
    let mut builder = BlockBuilder::new(view);
    for (index, tx) in txs.iter().enumerate() {
        builder
            .apply(tx)
            .map_err(|err| BlockError::InvalidTx { index, err })?;
    }
    let executed = builder
        .finish(header.timestamp_ms, header.proposer)
        .map_err(|err| BlockError::InvalidTx {
            index: txs.len(),
            err,
        })?;
    let h = &executed.block.header;
    let fields: [(&'static str, bool); 8] = [
        ("state_root", h.state_root == header.state_root),
        ("tx_root", h.tx_root == header.tx_root),
        ("blob_root", h.blob_root == header.blob_root),
        ("receipts_root", h.receipts_root == header.receipts_root),
        ("gas_used", h.gas_used == header.gas_used),
        (
            "base_fee_per_gas",
            h.base_fee_per_gas == header.base_fee_per_gas,
        ),
        ("blob_bytes", h.blob_bytes == header.blob_bytes),
        ("blob_base_fee", h.blob_base_fee == header.blob_base_fee),
    ];
    if let Some((name, _)) = fields.iter().find(|(_, ok)| !ok) {
        return Err(BlockError::HeaderMismatch(name));
    }
    debug_assert_eq!(h, header);
    Ok(executed)
}

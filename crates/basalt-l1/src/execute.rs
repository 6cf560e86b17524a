//! Block execution: the one implementation of L1 rules, used to build proposals and to verify them.

use crate::block::{Block, Header, Receipt};
use crate::dispute::{Choice, Dispute, DisputeError, DisputeResult, Side, Slash};
use crate::failure::FailureCode;
use crate::params::{Params, MAX_BLOCK_TXS};
use crate::rollup::{
    fold, BatchRecord, ChainUpdate, DepositRecord, OutputRecord, RollupDiff, RollupError,
    RollupHeader, RollupParams, WithdrawalClaim, BATCHES_DOMAIN, CLAIMS_DOMAIN, DEPOSITS_DOMAIN,
    OUTPUTS_DOMAIN,
};
use crate::state::{blob_hash, select_committee, state_root, Account, StateDiff, StoredBlob};
use crate::tx::{verify_all, Action, SignedTransaction, VerifiedTx};
use crate::view::StateView;
use basalt_l2::{DepositEntry, Deposits, Optimistic, StepWitness, Withdrawal};
use basalt_merkle::{list_root, Blake3Hasher, MerkleProof, DEFAULT_DEPTH};
use basalt_types::{Amount, Decode, Encode, Hash, PublicKey, SignatureError};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

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
    /// The tip per gas is above the fee cap, which no block could pay.
    #[error("priority fee per gas {tip} exceeds the max fee per gas {max_fee}")]
    TipAboveMaxFee {
        /// The tip.
        tip: u64,
        /// The cap.
        max_fee: u64,
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
    /// The gas limit is below the transaction's intrinsic gas.
    #[error("gas limit {limit} is below the transaction's intrinsic gas {intrinsic}")]
    GasLimitBelowIntrinsic {
        /// The limit.
        limit: u64,
        /// What the transaction pays before its action runs.
        intrinsic: u64,
    },
    /// The gas limit is above the block gas limit, so no block could include it.
    #[error("gas limit {limit} is above the block gas limit {max}")]
    GasLimitAboveBlock {
        /// The limit.
        limit: u64,
        /// The block gas limit.
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

/// Why an action would fail or failed, in full; its receipt keeps only [`ActionFailure::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionFailure {
    /// A stake of zero.
    #[error("stake amount is zero")]
    ZeroStake,
    /// An unstake of zero or of more than the stake.
    #[error("unstake {amount} exceeds stake {stake}")]
    UnstakeExceedsStake {
        /// Asked.
        amount: Amount,
        /// Staked.
        stake: Amount,
    },
    /// A stake (or what an unstake leaves, unless nothing) below the chain's minimum.
    #[error("stake {stake} would be below the minimum stake {min}: stake more, or unstake all")]
    StakeBelowMinimum {
        /// The stake it would leave.
        stake: Amount,
        /// The minimum.
        min: Amount,
    },
    /// A rollup or dispute rule refused it.
    #[error(transparent)]
    Rollup(#[from] RollupError),
}

impl ActionFailure {
    /// The code its receipt commits to.
    pub fn code(&self) -> FailureCode {
        match self {
            ActionFailure::ZeroStake => FailureCode::ZeroStake,
            ActionFailure::UnstakeExceedsStake { .. } => FailureCode::UnstakeExceedsStake,
            ActionFailure::StakeBelowMinimum { .. } => FailureCode::StakeBelowMinimum,
            ActionFailure::Rollup(e) => e.code(),
        }
    }
}

/// Why [`precheck_action`] expects a transaction to be wasted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrecheckError {
    /// It would be included, pay its fee, and its action would fail.
    #[error(transparent)]
    Fails(#[from] ActionFailure),
    /// It could not be included at all.
    #[error(transparent)]
    Invalid(#[from] TxError),
}

impl PrecheckError {
    /// The receipt code it would get, if it would be included.
    pub fn code(&self) -> Option<FailureCode> {
        match self {
            PrecheckError::Fails(f) => Some(f.code()),
            PrecheckError::Invalid(_) => None,
        }
    }
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

/// The most a transaction can cost its sender: value, its gas limit at the cap, blob bytes at the cap.
pub fn max_cost(tx: &SignedTransaction) -> Option<Amount> {
    let gas = (tx.tx.gas_limit as u128).checked_mul(tx.tx.max_fee_per_gas as u128)?;
    let blob = match tx.tx.action.blob() {
        Some((data, max_fee_per_blob_byte)) => {
            (data.len() as u128).checked_mul(max_fee_per_blob_byte as u128)?
        }
        None => 0,
    };
    gas.checked_add(blob)?.checked_add(tx.tx.action.value())
}

/// Checks the rules that do not depend on the block's other transactions: chain, fees, gas limit,
/// nonce order against `account_nonce`, blob size and balance. The mempool uses the same function
/// at admission.
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
    if t.priority_fee_per_gas > t.max_fee_per_gas {
        return Err(TxError::TipAboveMaxFee {
            tip: t.priority_fee_per_gas,
            max_fee: t.max_fee_per_gas,
        });
    }
    if t.max_fee_per_gas < base_fee {
        return Err(TxError::FeeBelowBaseFee {
            max_fee: t.max_fee_per_gas,
            base_fee,
        });
    }
    if t.gas_limit > params.block_gas_limit {
        return Err(TxError::GasLimitAboveBlock {
            limit: t.gas_limit,
            max: params.block_gas_limit,
        });
    }
    let intrinsic = t.action.intrinsic_gas();
    if t.gas_limit < intrinsic {
        return Err(TxError::GasLimitBelowIntrinsic {
            limit: t.gas_limit,
            intrinsic,
        });
    }
    if let Some((data, max_fee_per_blob_byte)) = t.action.blob() {
        let len = data.len() as u64;
        if len == 0 || len > params.max_blob_bytes {
            return Err(TxError::BadBlobSize {
                len,
                max: params.max_blob_bytes,
            });
        }
        if max_fee_per_blob_byte < blob_base_fee {
            return Err(TxError::BlobFeeBelowBaseFee {
                max_fee: max_fee_per_blob_byte,
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
    /// Gas the transaction being applied may still use.
    gas_left: u64,
    blob_bytes: u64,
    tips: Amount,
    burned: Amount,
    txs: Vec<SignedTransaction>,
    tx_hashes: Vec<Hash>,
    receipts: Vec<Receipt>,
    blobs: Vec<StoredBlob>,
    rollups: BTreeMap<u32, RollupDiff>,
    /// Batches decoded by this block's actions, by data hash.
    decoded: HashMap<Hash, BatchTxs>,
    /// Charge for work without doing it (estimates and admission prechecks): nothing heavy runs.
    pricing_only: bool,
}

/// A decoded batch's transactions, shared by the actions of one block.
type BatchTxs = Arc<Vec<basalt_l2::L2Tx<Optimistic>>>;

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
            gas_left: 0,
            blob_bytes: 0,
            tips: 0,
            burned: 0,
            txs: Vec::new(),
            tx_hashes: Vec::new(),
            receipts: Vec::new(),
            blobs: Vec::new(),
            rollups: BTreeMap::new(),
            decoded: HashMap::new(),
            pricing_only: false,
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
        if self.gas_used + t.gas_limit > self.params.block_gas_limit {
            return Err(TxError::BlockGasFull);
        }
        let blob_len = t.action.blob_bytes();
        if self.blob_bytes + blob_len > self.params.blob_max_bytes_per_block {
            return Err(TxError::BlockBlobSpaceFull);
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

    /// Runs an action for `signer`, whose account (fees already paid) is `sender`; the caller
    /// writes `sender` back. `Ok(Some(reason))` is a failed action: nothing but `sender`'s fee and
    /// nonce changes. `Err` makes the whole transaction invalid.
    fn run_action(
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
                self.blobs.push(StoredBlob {
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
                        account: *account,
                        key: *key,
                        amount: *amount,
                    },
                    sender: signer,
                    height: self.height,
                };
                if let Err(e) = self.deposit(*rollup, sender, record) {
                    return failed(e);
                }
            }
            Action::PostBatch {
                rollup,
                data,
                data_hash,
                deposits_end,
                ..
            } => {
                if let Err(e) = self.post_batch(*rollup, signer, data, *data_hash, *deposits_end) {
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
                // Work out the payment before the claim writes anything, so that no error after
                // the claim can leave it recorded but unpaid.
                let (recipient, amount) = (claim.recipient, claim.amount);
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
                if let Err(e) = self.finalize_withdrawal(claim) {
                    return failed(e);
                }
                if let Some(balance) = paid_sender {
                    sender.balance = balance;
                }
                if let Some(acc) = paid_other {
                    self.write(recipient, acc);
                }
            }
            Action::Challenge {
                rollup,
                batch,
                output,
            }
            | Action::Defend {
                rollup,
                batch,
                output,
            } => {
                let side = match action {
                    Action::Challenge { .. } => Side::Challenger,
                    _ => Side::Defender,
                };
                match self.join_dispute(side, *rollup, signer, sender, *batch, *output) {
                    Ok(payouts) => self.pay_all(signer, sender, payouts)?,
                    Err(e) => return failed(e),
                }
            }
            Action::Bisect {
                rollup,
                dispute,
                game,
                choice,
                mid,
                end,
            } => {
                if let Err(e) = self.bisect(*rollup, signer, *dispute, *game, *choice, *mid, *end) {
                    return failed(e);
                }
            }
            Action::OneStepProof {
                rollup,
                dispute,
                game,
                choice,
                witness,
            } => match self.one_step(*rollup, signer, *dispute, *game, *choice, witness) {
                Ok(payouts) => self.pay_all(signer, sender, payouts)?,
                Err(e) => return failed(e),
            },
        }
        Ok(None)
    }

    /// Charges `gas` to the transaction being applied, before the work it pays for. When its
    /// limit cannot pay, the action fails and the transaction pays its whole limit.
    fn charge(&mut self, gas: u64) -> Result<(), RollupError> {
        if gas > self.gas_left {
            let left = std::mem::take(&mut self.gas_left);
            return Err(RollupError::OutOfGas { needed: gas, left });
        }
        self.gas_left -= gas;
        Ok(())
    }

    /// Pays each `(account, amount)`; the sender's own account is the one the caller holds.
    fn pay_all(
        &mut self,
        signer: PublicKey,
        sender: &mut Account,
        payouts: Vec<(PublicKey, Amount)>,
    ) -> Result<(), TxError> {
        for (to, amount) in payouts {
            if amount == 0 {
                continue;
            }
            if to == signer {
                sender.balance = sender
                    .balance
                    .checked_add(amount)
                    .ok_or(TxError::Overflow)?;
            } else {
                let acc = self.credit(to, amount)?;
                self.write(to, acc);
            }
        }
        Ok(())
    }

    /// A rollup's header as of the transactions applied so far.
    fn rollup(&self, id: u32) -> Result<RollupHeader, RollupError> {
        self.view
            .rollup_with(&self.rollups, id)
            .ok_or(RollupError::UnknownRollup(id))
    }

    /// The diff of rollup `id` in this block, starting from `header` if the block has not touched it.
    fn rollup_diff(&mut self, header: RollupHeader) -> &mut RollupDiff {
        self.rollups
            .entry(header.id)
            .or_insert_with(|| RollupDiff::new(header))
    }

    /// The diff of rollup `header.id` in this block, with `header` as its new header.
    fn write_header(&mut self, header: RollupHeader) -> &mut RollupDiff {
        match self.rollups.entry(header.id) {
            std::collections::btree_map::Entry::Occupied(e) => {
                let d = e.into_mut();
                d.header = header;
                d
            }
            std::collections::btree_map::Entry::Vacant(e) => e.insert(RollupDiff::new(header)),
        }
    }

    fn register_rollup(&mut self, params: &RollupParams) -> Result<(), RollupError> {
        params.validate()?;
        if params.dispute_horizon() >= self.params.blob_retention_blocks {
            return Err(RollupError::BadParams(
                "challenge window plus three dispute clocks must be shorter than the blob retention",
            ));
        }
        if self
            .view
            .rollup_name_taken_with(&self.rollups, &params.name)
        {
            return Err(RollupError::NameTaken(params.name.clone()));
        }
        let id = u32::try_from(self.view.rollup_count_with(&self.rollups))
            .map_err(|_| RollupError::RegistryFull)?;
        self.rollups
            .insert(id, RollupDiff::new(RollupHeader::new(id, params.clone())));
        Ok(())
    }

    fn deposit(
        &mut self,
        rollup: u32,
        sender: &mut Account,
        record: DepositRecord,
    ) -> Result<(), RollupError> {
        let h = self.rollup(rollup)?;
        if record.entry.amount == 0 {
            return Err(RollupError::ZeroAmount);
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
        let d = self.rollup_diff(h);
        d.header.escrow = escrow;
        d.header.deposit_count += 1;
        d.header.deposits_digest = fold(
            d.header.deposits_digest,
            DEPOSITS_DOMAIN,
            &record.to_bytes(),
        );
        d.deposits.push(record);
        Ok(())
    }

    fn post_batch(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        data: &[u8],
        data_hash: Hash,
        deposits_end: u64,
    ) -> Result<(), RollupError> {
        let h = self.rollup(rollup)?;
        if signer != h.params.sequencer {
            return Err(RollupError::NotSequencer {
                sequencer: h.params.sequencer,
                sender: signer,
            });
        }
        let actual = blob_hash(data);
        if actual != data_hash {
            return Err(RollupError::DataHashMismatch {
                declared: data_hash,
                actual,
            });
        }
        if deposits_end < h.deposits_end || deposits_end > h.deposit_count {
            return Err(RollupError::BadDepositRange {
                end: deposits_end,
                consumed: h.deposits_end,
                queued: h.deposit_count,
            });
        }
        // A blob whose header does not parse decodes to no transactions, at the base price.
        let header = basalt_l2::batch_header(data).unwrap_or(basalt_l2::BatchHeader {
            raw_len: 0,
            tx_count: 0,
        });
        let record = BatchRecord {
            data_hash,
            deposits_end,
            height: self.height,
            raw_len: header.raw_len,
            tx_count: header.tx_count,
        };
        self.blobs.push(StoredBlob {
            hash: data_hash,
            height: self.height,
            sender: signer,
            data: data.to_vec(),
        });
        let d = self.rollup_diff(h);
        d.header.batch_count += 1;
        d.header.deposits_end = deposits_end;
        d.header.batches_digest = fold(d.header.batches_digest, BATCHES_DOMAIN, &record.to_bytes());
        d.batches.push(record);
        Ok(())
    }

    fn propose_output(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        sender: &mut Account,
        batch: u64,
        prior: Hash,
        output: Hash,
    ) -> Result<(), RollupError> {
        let h = self.rollup(rollup)?;
        if batch != h.output_count {
            return Err(RollupError::WrongBatch {
                expected: h.output_count,
                got: batch,
            });
        }
        let posted = self
            .view
            .batch_with(&self.rollups, rollup, batch)
            .ok_or(RollupError::BatchNotPosted(batch))?;
        let expected = match batch.checked_sub(1) {
            None => h.genesis_output,
            Some(previous) => {
                self.view
                    .output_with(&self.rollups, rollup, previous)
                    .expect("outputs below output_count exist")
                    .1
                    .output
            }
        };
        if prior != expected {
            return Err(RollupError::WrongPrior {
                expected,
                got: prior,
            });
        }
        if self
            .view
            .proven_wrong_with(&self.rollups, rollup, batch, &prior, &output)
        {
            return Err(RollupError::ProvenWrong { batch, output });
        }
        // Every dispute over this proposal must be able to read the batch's data to its end.
        let expires = posted
            .height
            .saturating_add(self.params.blob_retention_blocks);
        let horizon = self.height.saturating_add(h.params.dispute_horizon());
        if expires <= horizon {
            return Err(RollupError::TooLate {
                batch,
                expires,
                horizon,
            });
        }
        let bond = h.params.proposer_bond;
        let balance = balance_after(sender, bond)?;
        let bonds = h.bonds.checked_add(bond).ok_or(RollupError::Overflow)?;
        sender.balance = balance;
        let record = OutputRecord {
            batch,
            prior,
            output,
            proposer: signer,
            bond,
            height: self.height,
        };
        let d = self.rollup_diff(h);
        let id = d.header.proposal_count;
        d.header.bonds = bonds;
        d.header.proposal_count += 1;
        d.header.proposals_digest = fold(
            d.header.proposals_digest,
            OUTPUTS_DOMAIN,
            &record.to_bytes(),
        );
        d.proposals.push(record);
        match &mut d.chain {
            Some(update) => update.append.push(id),
            None => {
                d.chain = Some(ChainUpdate {
                    keep: d.header.output_count,
                    append: vec![id],
                })
            }
        }
        d.header.output_count += 1;
        Ok(())
    }

    /// A posted batch and its transactions, decoded once per block however many actions need
    /// them; `None` for the transactions in a pricing-only run, which charges the decode and does
    /// none. A blob that does not decode means no transactions, as [`basalt_l2::posted_batch_txs`]
    /// has it for every L2 node.
    fn batch_txs(
        &mut self,
        rollup: u32,
        batch: u64,
    ) -> Result<(BatchRecord, Option<BatchTxs>), RollupError> {
        let record = self
            .view
            .batch_with(&self.rollups, rollup, batch)
            .ok_or(RollupError::BatchNotPosted(batch))?;
        // The whole price is known from the record, before any work. Every action that needs the
        // batch pays it, cached or not, so its price does not depend on the rest of the block.
        self.charge(crate::gas::batch_decode(record.raw_len, record.tx_count))?;
        if self.pricing_only {
            return Ok((record, None));
        }
        if let Some(txs) = self.decoded.get(&record.data_hash) {
            return Ok((record, Some(txs.clone())));
        }
        let blob = self
            .view
            .blob_with(&self.blobs, &record.data_hash, self.height)
            .ok_or(RollupError::DataExpired(batch))?;
        let txs = Arc::new(basalt_l2::posted_batch_txs::<Optimistic>(&blob.data).0);
        self.decoded.insert(record.data_hash, txs.clone());
        Ok((record, Some(txs)))
    }

    /// How many distinct batches this block has decoded so far (each costs a decompression).
    pub fn batches_decoded(&self) -> usize {
        self.decoded.len()
    }

    /// Joins the dispute over the live output of `batch` on `side`, opening it on the first
    /// challenge. Returns the payouts of any game decided at once.
    fn join_dispute(
        &mut self,
        side: Side,
        rollup: u32,
        signer: PublicKey,
        sender: &mut Account,
        batch: u64,
        output: Hash,
    ) -> Result<Vec<(PublicKey, Amount)>, RollupError> {
        let mut h = self.rollup(rollup)?;
        let live = self.view.output_with(&self.rollups, rollup, batch);
        let (proposal, record) = match live {
            Some((id, r)) if r.output == output => (id, r),
            _ => {
                return Err(RollupError::NotLive {
                    batch,
                    live: live.map(|(_, r)| r.output),
                    named: output,
                })
            }
        };
        if batch < h.settled {
            return Err(RollupError::AlreadySettled(batch));
        }
        let params = h.params.clone();
        let challenge_until = record.settles_at(params.challenge_window);
        let existing = self
            .view
            .dispute_over_ref_with(&self.rollups, rollup, proposal)
            .map(|d| crate::gas::dispute_join(d, side));
        let mut dispute = match existing {
            Some(gas) => {
                self.charge(gas)?;
                self.view
                    .dispute_over_with(&self.rollups, rollup, proposal)
                    .expect("found above")
            }
            None if side == Side::Defender => return Err(RollupError::NotDisputed(batch)),
            None if self.height >= challenge_until => {
                return Err(RollupError::JoinClosed {
                    batch,
                    until: challenge_until,
                })
            }
            None => {
                // Every cheap refusal comes before the batch is decoded to count its steps.
                if record.proposer == signer {
                    return Err(DisputeError::AlreadyParty(signer).into());
                }
                balance_after(sender, params.dispute_bond)?;
                let (posted, txs) = self.batch_txs(rollup, batch)?;
                let steps = txs.map_or(posted.tx_count, |t| t.len() as u64);
                let d = Dispute::open(
                    h.dispute_count,
                    proposal,
                    &record,
                    steps,
                    self.height,
                    params.challenge_window,
                    params.dispute_clock,
                );
                h.dispute_count += 1;
                self.charge(crate::gas::dispute_join(&d, side))?;
                d
            }
        };
        let until = match side {
            Side::Challenger => dispute.challenge_until,
            Side::Defender => dispute.defend_until,
        };
        if dispute.result.is_some() || self.height >= until {
            return Err(RollupError::JoinClosed { batch, until });
        }
        let bond = params.dispute_bond;
        let balance = balance_after(sender, bond)?;
        h.bonds = h.bonds.checked_add(bond).ok_or(RollupError::Overflow)?;
        let slashes = dispute.join(side, signer, bond, self.height)?;
        sender.balance = balance;
        let payouts = self.slash(&mut h, &slashes);
        let d = self.write_header(h);
        d.disputes.insert(dispute.id, dispute);
        Ok(payouts)
    }

    /// Takes slashed bonds out of the rollup's holdings: each winner's share is returned for
    /// payment, the rest is burned.
    fn slash(&mut self, h: &mut RollupHeader, slashes: &[Slash]) -> Vec<(PublicKey, Amount)> {
        slashes
            .iter()
            .map(|s| {
                let reward = h.params.slash_reward(s.bond);
                h.bonds -= s.bond;
                self.burned += s.bond - reward;
                (s.winner, reward)
            })
            .collect()
    }

    /// The open dispute `dispute` of `rollup`, if `signer` may move in its game `game`.
    fn dispute_for_move(
        &mut self,
        rollup: u32,
        signer: &PublicKey,
        dispute: u64,
        game: u32,
    ) -> Result<(RollupHeader, Dispute), RollupError> {
        let h = self.rollup(rollup)?;
        let gas = self
            .view
            .dispute_ref_with(&self.rollups, rollup, dispute)
            .map(crate::gas::dispute_touch)
            .ok_or(DisputeError::UnknownDispute(dispute))?;
        self.charge(gas)?;
        let d = self
            .view
            .dispute_with(&self.rollups, rollup, dispute)
            .expect("found above");
        d.mover(game, signer)?;
        Ok((h, d))
    }

    #[allow(clippy::too_many_arguments)]
    fn bisect(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        dispute: u64,
        game: u32,
        choice: Choice,
        mid: Hash,
        end: Hash,
    ) -> Result<(), RollupError> {
        let (h, mut d) = self.dispute_for_move(rollup, &signer, dispute, game)?;
        d.bisect(game, choice, mid, end, self.height)?;
        self.rollup_diff(h).disputes.insert(d.id, d);
        Ok(())
    }

    /// Re-executes the disputed step through the shared L2 state transition function against
    /// the witness, and ends the game.
    fn one_step(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        dispute: u64,
        game: u32,
        choice: Choice,
        witness: &[u8],
    ) -> Result<Vec<(PublicKey, Amount)>, RollupError> {
        let (mut h, mut d) = self.dispute_for_move(rollup, &signer, dispute, game)?;
        let segment = d.one_step_segment(game, choice)?;
        let witness = StepWitness::<Optimistic>::from_bytes(witness)
            .map_err(RollupError::MalformedWitness)?;
        // A witness that does not open the agreed claim is refused before the batch is decoded.
        witness.check_prior(&segment.start)?;
        let (batch, txs) = self.batch_txs(rollup, d.batch)?;
        let Some(txs) = txs else {
            return Ok(Vec::new()); // pricing only: the step itself is in the base price
        };
        let tx = txs
            .get(segment.a as usize)
            .ok_or(RollupError::NoSuchStep(segment.a))?;
        let deposits = ViewDeposits {
            view: self.view,
            extra: &self.rollups,
            rollup,
            end: batch.deposits_end,
        };
        let config = h.params.l2_config(rollup);
        let (_, result) =
            basalt_l2::execute_step(&config, &segment.start, &witness, &deposits, tx)?;
        let slash = d.one_step(game, choice, result, self.height)?;
        let payouts = self.slash(&mut h, &[slash]);
        let diff = self.write_header(h);
        diff.disputes.insert(d.id, d);
        Ok(payouts)
    }

    fn finalize_withdrawal(&mut self, claim: &WithdrawalClaim) -> Result<(), RollupError> {
        let rollup = claim.rollup;
        let h = self.rollup(rollup)?;
        if claim.batch >= h.settled {
            return Err(RollupError::NotSettled(claim.batch));
        }
        let settled = self
            .view
            .output_with(&self.rollups, rollup, claim.batch)
            .expect("settled outputs exist")
            .1;
        let withdrawals_root = basalt_l2::withdrawals_root::<Optimistic>(
            claim.withdrawals_tree_root,
            claim.withdrawal_count,
        );
        if basalt_l2::output::<Optimistic>(claim.state_root, withdrawals_root) != settled.output {
            return Err(RollupError::OutputMismatch(claim.batch));
        }
        if claim.index >= claim.withdrawal_count || claim.index > u32::MAX as u64 {
            return Err(RollupError::WithdrawalOutOfRange {
                index: claim.index,
                count: claim.withdrawal_count,
            });
        }
        let proof = MerkleProof {
            index: claim.index as u32,
            siblings: claim.proof.clone(),
        };
        let withdrawal = Withdrawal {
            recipient: claim.recipient,
            amount: claim.amount,
        };
        if claim.proof.len() != DEFAULT_DEPTH as usize
            || !proof.verify::<Blake3Hasher>(
                &claim.withdrawals_tree_root,
                withdrawal.leaf::<Optimistic>(),
            )
        {
            return Err(RollupError::BadWithdrawalProof);
        }
        if self.view.claimed_with(&self.rollups, rollup, claim.index) {
            return Err(RollupError::AlreadyClaimed(claim.index));
        }
        let amount = claim.amount;
        let escrow = h
            .escrow
            .checked_sub(amount)
            .ok_or(RollupError::EscrowShort {
                escrow: h.escrow,
                amount,
            })?;
        let d = self.rollup_diff(h);
        d.header.escrow = escrow;
        d.header.claim_count += 1;
        d.header.claims_digest = fold(
            d.header.claims_digest,
            CLAIMS_DOMAIN,
            &claim.index.to_le_bytes(),
        );
        d.claims.push(claim.index);
        Ok(())
    }

    /// Credits `amount` to `to` outside any transaction.
    fn pay(&mut self, to: PublicKey, amount: Amount) -> Result<(), TxError> {
        if amount > 0 {
            let acc = self.credit(to, amount)?;
            self.write(to, acc);
        }
        Ok(())
    }

    /// Ends the games whose clocks ran out, decides the disputes whose joining has closed and whose
    /// games have all ended (removing lost outputs with every output built on them), then settles
    /// every output whose window has passed and which no challenger still contests, in order.
    fn settle_rollups(&mut self) -> Result<(), TxError> {
        for id in self.view.active_rollups_with(&self.rollups) {
            for dispute in self.view.open_disputes_with(&self.rollups, id) {
                self.advance_dispute(id, dispute)?;
            }
            self.settle_outputs(id)?;
        }
        Ok(())
    }

    fn advance_dispute(&mut self, id: u32, dispute: u64) -> Result<(), TxError> {
        let due = self
            .view
            .dispute_ref_with(&self.rollups, id, dispute)
            .expect("open disputes exist")
            .due(self.height);
        if !due {
            return Ok(()); // nothing to do, or dropped earlier in this block: no copy made
        }
        let mut h = self.rollup(id).expect("listed rollups exist");
        let mut d = self
            .view
            .dispute_with(&self.rollups, id, dispute)
            .expect("open disputes exist");
        let slashes = d.timeouts(self.height);
        let decision = d.decide(self.height);
        if slashes.is_empty() && decision.is_none() {
            return Ok(());
        }
        let mut payouts = self.slash(&mut h, &slashes);
        if let Some(result) = decision {
            d.result = Some(result);
            // Bonds still in are returned; the proposer's stays locked until its output settles.
            let refunded = match result {
                DisputeResult::Removed { .. } => &d.challengers[..],
                _ => &d.defenders[1..],
            };
            for p in refunded.iter().filter(|p| p.active()) {
                h.bonds -= p.bond;
                payouts.push((p.key, p.bond));
            }
        }
        let batch = d.batch;
        let diff = self.write_header(h);
        diff.disputes.insert(d.id, d);
        for (to, amount) in payouts {
            self.pay(to, amount)?;
        }
        if matches!(decision, Some(DisputeResult::Removed { .. })) {
            self.remove_outputs(id, batch)?;
        }
        Ok(())
    }

    /// Removes the live output of `batch` and every output built on it. Outputs after the first
    /// lost nothing to a challenger: their proposers get their bonds back, and disputes over them
    /// are dropped with every bond still in returned.
    fn remove_outputs(&mut self, id: u32, batch: u64) -> Result<(), TxError> {
        let mut h = self.rollup(id).expect("listed rollups exist");
        let mut payouts = Vec::new();
        let mut dropped = Vec::new();
        for later in batch + 1..h.output_count {
            let (proposal, record) = self
                .view
                .output_with(&self.rollups, id, later)
                .expect("outputs below output_count exist");
            match self.view.dispute_over_with(&self.rollups, id, proposal) {
                None => payouts.push((record.proposer, record.bond)),
                Some(mut d) => {
                    let open = d.result.is_none();
                    for p in d.challengers.iter().chain(&d.defenders) {
                        let proposer_after_upheld = p.key == record.proposer;
                        if p.active() && (open || proposer_after_upheld) {
                            payouts.push((p.key, p.bond));
                        }
                    }
                    if open {
                        d.cancel_games(self.height);
                        d.result = Some(DisputeResult::Dropped {
                            height: self.height,
                        });
                        dropped.push(d);
                    }
                }
            }
        }
        for (_, bond) in &payouts {
            h.bonds -= bond;
        }
        h.output_count = batch;
        let diff = self.write_header(h);
        match &mut diff.chain {
            Some(update) if batch >= update.keep => {
                update.append.truncate((batch - update.keep) as usize)
            }
            chain => {
                *chain = Some(ChainUpdate {
                    keep: batch,
                    append: Vec::new(),
                })
            }
        }
        for d in dropped {
            diff.disputes.insert(d.id, d);
        }
        for (to, amount) in payouts {
            self.pay(to, amount)?;
        }
        Ok(())
    }

    /// Settles, in order, every output whose window has passed and that no dispute holds back,
    /// returning its proposer's bond unless a game slashed it.
    fn settle_outputs(&mut self, id: u32) -> Result<(), TxError> {
        let h = self.rollup(id).expect("listed rollups exist");
        let window = h.params.challenge_window;
        let mut header = h.clone();
        let mut refunds = Vec::new();
        while header.settled < header.output_count {
            let (proposal, out) = self
                .view
                .output_with(&self.rollups, id, header.settled)
                .expect("outputs below output_count exist");
            if out.settles_at(window) > self.height {
                break;
            }
            let refund = match self.view.dispute_over_with(&self.rollups, id, proposal) {
                None => true,
                Some(d) if d.result.is_none() => break,
                Some(d) => d.defenders[0].active(),
            };
            if refund {
                header.bonds -= out.bond;
                refunds.push((out.proposer, out.bond));
            }
            header.settled += 1;
        }
        if header.settled == h.settled {
            return Ok(());
        }
        self.write_header(header);
        for (proposer, bond) in refunds {
            self.pay(proposer, bond)?;
        }
        Ok(())
    }

    /// Pays tips, closes the epoch if due, prunes expired blobs and seals the block.
    pub fn finish(
        mut self,
        timestamp_ms: u64,
        proposer: PublicKey,
    ) -> Result<ExecutedBlock, TxError> {
        self.settle_rollups()?;
        let touched: Vec<u32> = self.rollups.keys().copied().collect();
        for id in touched {
            let (chain_root, disputes_root) = self.view.rollup_roots_with(&self.rollups, id);
            let header = &mut self.rollups.get_mut(&id).expect("touched").header;
            header.chain_root = chain_root;
            header.disputes_root = disputes_root;
        }
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
            state_root: state_root(
                accounts_root,
                &committee_now,
                self.view.rollups_root_with(&self.rollups),
            ),
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
            rollups: self.rollups,
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

/// Why `signer`'s `action`, with this `gas_limit`, would fail on top of `view` right now, if it
/// would. A node refuses such a transaction from its own clients with this reason rather than let
/// it pay a fee for nothing. `max_gas_cost` is what the sender pays for gas up front.
pub fn precheck_action(
    view: &StateView<'_>,
    signer: &PublicKey,
    action: &Action,
    gas_limit: u64,
    max_gas_cost: Amount,
) -> Result<(), PrecheckError> {
    if matches!(
        action,
        Action::Transfer { .. }
            | Action::Stake { .. }
            | Action::Unstake { .. }
            | Action::PostBlob { .. }
    ) {
        // check_tx covers every way these fail.
        return Ok(());
    }
    dry_run(view, signer, action, gas_limit, max_gas_cost).map(|_| ())
}

/// The gas `signer`'s `action` would use on top of `view` right now, with the most gas a block
/// allows; or why it would fail. Clients set their gas limit from it, with room for the state to
/// change before inclusion.
pub fn estimate_gas(
    view: &StateView<'_>,
    signer: &PublicKey,
    action: &Action,
) -> Result<u64, PrecheckError> {
    dry_run(
        view,
        signer,
        action,
        view.base().params().block_gas_limit,
        0,
    )
}

/// Runs `action` in a throwaway block; returns the gas it used.
fn dry_run(
    view: &StateView<'_>,
    signer: &PublicKey,
    action: &Action,
    gas_limit: u64,
    max_gas_cost: Amount,
) -> Result<u64, PrecheckError> {
    let intrinsic = action.intrinsic_gas();
    let left = gas_limit
        .checked_sub(intrinsic)
        .ok_or(TxError::GasLimitBelowIntrinsic {
            limit: gas_limit,
            intrinsic,
        })?;
    let mut builder = BlockBuilder::new(view);
    let mut sender = builder.account(signer).unwrap_or_default();
    sender.balance = sender.balance.saturating_sub(max_gas_cost);
    builder.gas_left = left;
    builder.pricing_only = true;
    match builder.run_action(*signer, &mut sender, action) {
        Ok(None) => Ok(gas_limit - builder.gas_left),
        Ok(Some(failure)) => Err(PrecheckError::Fails(failure)),
        Err(e) => Err(PrecheckError::Invalid(e)),
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

/// The sender's balance after locking `bond`, or why it cannot.
fn balance_after(sender: &Account, bond: Amount) -> Result<Amount, RollupError> {
    sender
        .balance
        .checked_sub(bond)
        .ok_or(RollupError::InsufficientBalance {
            need: bond,
            have: sender.balance,
        })
}

/// The deposit queue of a rollup as the view holds it, up to a batch's deposit range end.
struct ViewDeposits<'a> {
    view: &'a StateView<'a>,
    extra: &'a BTreeMap<u32, RollupDiff>,
    rollup: u32,
    end: u64,
}

impl Deposits<Optimistic> for ViewDeposits<'_> {
    fn get(&self, index: u64) -> Option<DepositEntry<Optimistic>> {
        if index >= self.end {
            return None;
        }
        self.view
            .deposit_with(self.extra, self.rollup, index)
            .map(|r| r.entry)
    }
}

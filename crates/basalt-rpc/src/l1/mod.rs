//! The L1 API's answers: blocks, accounts, transactions and validators here, the rollup registry
//! (deposits, batches, outputs, disputes and their claims) in [`registry`].

use crate::HexBytes;
use basalt_l1::Params;
use basalt_types::{serde_amount, Amount, Hash, PublicKey};
use serde::{Deserialize, Serialize};

mod registry;
pub use registry::*;

/// `l1_chainInfo`: the chain as of its finalized head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainInfo {
    /// Chain id, signed into every transaction.
    pub chain_id: u64,
    /// Newest finalized height.
    pub finalized_height: u64,
    /// Hash of the newest finalized block.
    pub finalized_hash: Hash,
    /// Its state root.
    pub state_root: Hash,
    /// Base fee per gas of the next block.
    pub next_base_fee_per_gas: u64,
    /// Blob base fee per byte of the next block.
    pub next_blob_base_fee: u64,
    /// Validators in the committee.
    pub validators: u64,
    /// Accounts in state.
    pub accounts: u64,
    /// Transactions in this node's mempool.
    pub mempool: u64,
    /// Base fees burned so far.
    #[serde(with = "serde_amount")]
    pub burned: Amount,
    /// Chain parameters.
    pub params: Params,
}

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderInfo {
    /// Its hash.
    pub hash: Hash,
    /// Height.
    pub height: u64,
    /// Parent's hash.
    pub parent: Hash,
    /// Chain id.
    pub chain_id: u64,
    /// Proposer's timestamp.
    pub timestamp_ms: u64,
    /// Proposer.
    pub proposer: PublicKey,
    /// State root after the block.
    pub state_root: Hash,
    /// Root of its transactions.
    pub tx_root: Hash,
    /// Root of its blobs.
    pub blob_root: Hash,
    /// Root of its receipts.
    pub receipts_root: Hash,
    /// Gas used.
    pub gas_used: u64,
    /// Base fee per gas it paid.
    pub base_fee_per_gas: u64,
    /// Blob bytes it carried.
    pub blob_bytes: u64,
    /// Blob base fee per byte it paid.
    pub blob_base_fee: u64,
}

/// `l1_getBlock`: a finalized block with its transactions decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockInfo {
    /// Header.
    pub header: HeaderInfo,
    /// Transactions, in order.
    pub transactions: Vec<TxInfo>,
}

/// A transaction of a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxInfo {
    /// Its hash.
    pub hash: Hash,
    /// Signer.
    pub from: PublicKey,
    /// Nonce.
    pub nonce: u64,
    /// Most it pays per gas.
    pub max_fee_per_gas: u64,
    /// Tip per gas.
    pub priority_fee_per_gas: u64,
    /// Encoded size.
    pub bytes: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// What it does.
    pub action: ActionInfo,
}

/// A counter's or a step's side of a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Move {
    /// Disagrees with the parent claim.
    Attack,
    /// Agrees with the parent claim.
    Defend,
}

impl Move {
    /// `attack` if `attack`, else `defend`.
    pub fn of(attack: bool) -> Self {
        if attack {
            Move::Attack
        } else {
            Move::Defend
        }
    }
}

/// An action, as a block shows it (large payloads by size and hash, not in full).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ActionInfo {
    /// Pays `amount` to `to`.
    Transfer {
        /// Recipient.
        to: PublicKey,
        /// Amount.
        #[serde(with = "serde_amount")]
        amount: Amount,
    },
    /// Bonds stake.
    Stake {
        /// Amount.
        #[serde(with = "serde_amount")]
        amount: Amount,
    },
    /// Starts unbonding stake.
    Unstake {
        /// Amount.
        #[serde(with = "serde_amount")]
        amount: Amount,
    },
    /// Posts a blob.
    PostBlob {
        /// Its hash.
        blob_hash: Hash,
        /// Its size.
        bytes: u64,
        /// Most it pays per blob byte.
        max_fee_per_blob_byte: u64,
    },
    /// Registers a rollup.
    RegisterRollup {
        /// Its parameters.
        params: RollupParamsInfo,
    },
    /// Queues a deposit to a rollup.
    Deposit {
        /// Rollup id.
        rollup: u32,
        /// Existing L2 account, or none for a new one.
        account: Option<u32>,
        /// L2 key.
        key: PublicKey,
        /// Amount.
        #[serde(with = "serde_amount")]
        amount: Amount,
    },
    /// Posts a rollup batch.
    PostBatch {
        /// Rollup id.
        rollup: u32,
        /// Batch index.
        index: u64,
        /// Hash of its data.
        data_hash: Hash,
        /// Its size.
        bytes: u64,
        /// Deposit queue end it consumes up to.
        deposits_end: u64,
        /// Most it pays per blob byte.
        max_fee_per_blob_byte: u64,
    },
    /// Proposes a batch's output.
    ProposeOutput {
        /// Rollup id.
        rollup: u32,
        /// Batch index.
        batch: u64,
        /// The output it builds on.
        prior: Hash,
        /// The claimed output.
        output: Hash,
    },
    /// Pays a settled withdrawal.
    FinalizeWithdrawal {
        /// Rollup id.
        rollup: u32,
        /// Batch it was proven against.
        batch: u64,
        /// Withdrawal index.
        index: u64,
        /// L1 recipient.
        recipient: PublicKey,
        /// Amount.
        #[serde(with = "serde_amount")]
        amount: Amount,
    },
    /// Counters a claim of a dispute.
    Counter {
        /// Rollup id.
        rollup: u32,
        /// Disputed proposal.
        proposal: u64,
        /// Claim countered.
        parent: u32,
        /// Attack or defend.
        #[serde(rename = "move")]
        side: Move,
        /// The counter's claimed state.
        value: Hash,
    },
    /// Plays a dispute's one-step proof.
    Step {
        /// Rollup id.
        rollup: u32,
        /// Disputed proposal.
        proposal: u64,
        /// Bottom claim stepped on.
        leaf: u32,
        /// Attack or defend.
        #[serde(rename = "move")]
        side: Move,
        /// Size of its witness.
        witness_bytes: u64,
    },
    /// Proves a ZK batch.
    ProveBatch {
        /// Rollup id.
        rollup: u32,
        /// Batch index.
        batch: u64,
        /// Proven output.
        output: Hash,
        /// Size of the proof.
        proof_bytes: u64,
    },
    /// Reverts a ZK rollup's unprovable batches.
    RevertBatches {
        /// Rollup id.
        rollup: u32,
        /// First batch reverted.
        from: u64,
    },
    /// Exits a frozen rollup with an account's balance.
    Exit {
        /// Rollup id.
        rollup: u32,
        /// L2 account.
        account: u32,
        /// Its balance.
        #[serde(with = "serde_amount")]
        amount: Amount,
        /// L1 recipient.
        recipient: PublicKey,
    },
    /// Queues a forced L2 transaction.
    ForceInclude {
        /// Rollup id.
        rollup: u32,
        /// L2 key of its sender.
        key: PublicKey,
        /// Its size.
        tx_bytes: u64,
    },
    /// Refunds a deposit a frozen rollup never applied.
    RefundDeposit {
        /// Rollup id.
        rollup: u32,
        /// Queue index.
        index: u64,
    },
}

/// `l1_getAccount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// The key asked about.
    pub account: PublicKey,
    /// Whether it is in state.
    pub exists: bool,
    /// Balance.
    #[serde(with = "serde_amount")]
    pub balance: Amount,
    /// Next nonce in the finalized state.
    pub nonce: u64,
    /// Next nonce counting this node's mempool.
    pub pending_nonce: u64,
    /// Bonded stake.
    #[serde(with = "serde_amount")]
    pub stake: Amount,
    /// Stake unbonding.
    #[serde(with = "serde_amount")]
    pub unbonding: Amount,
    /// The finalized height read.
    pub height: u64,
}

/// `l1_getTransaction`: where a transaction is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxStatusInfo {
    /// Its hash.
    pub hash: Hash,
    /// Where it is.
    #[serde(flatten)]
    pub status: L1TxStatus,
}

/// Where an L1 transaction is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "status",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub enum L1TxStatus {
    /// In the node's mempool.
    Pending,
    /// In a block not final yet.
    Included {
        /// Its height.
        height: u64,
    },
    /// In a finalized block; `error` if its action failed.
    Finalized {
        /// Its height.
        height: u64,
        /// Whether its action succeeded.
        success: bool,
        /// Why its action failed, if it did.
        error: Option<String>,
        /// The failure's stable code, if it failed.
        error_code: Option<String>,
    },
    /// Dropped after acceptance.
    Rejected {
        /// Why.
        error: String,
    },
    /// Never seen.
    Unknown,
}

/// `l1_getBlob`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobInfo {
    /// Its hash.
    pub hash: Hash,
    /// L1 height it was posted at.
    pub height: u64,
    /// Who posted it.
    pub sender: PublicKey,
    /// Its bytes.
    pub data: HexBytes,
}

/// `l1_validators`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorsInfo {
    /// Epoch of the next block.
    pub epoch: u64,
    /// First height of the epoch after.
    pub next_epoch_at: u64,
    /// The committee that finalizes the next block.
    pub committee: Vec<Stake>,
    /// Every account with stake bonded or unbonding.
    pub stakers: Vec<Stake>,
}

/// A staker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stake {
    /// Its key.
    pub key: PublicKey,
    /// Bonded stake.
    #[serde(with = "serde_amount")]
    pub stake: Amount,
    /// Stake unbonding (in `stakers` only).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_amount")]
    pub unbonding: Option<Amount>,
}

/// An optional amount as an optional decimal string.
pub(crate) mod opt_amount {
    use basalt_types::Amount;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Amount>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(a) => basalt_types::serde_amount::serialize(a, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amount>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "basalt_types::serde_amount")] Amount);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

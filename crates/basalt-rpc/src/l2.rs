//! The L2 API's answers: a rollup node's view of its chain, transactions, accounts, blocks,
//! fees and withdrawal claims, for either kind of rollup (fields of one kind only are absent on
//! the other).

use crate::HexBytes;
use basalt_l1::FeeModel;
use basalt_types::{serde_amount, Amount, Hash, PublicKey};
use serde::{Deserialize, Serialize};

/// `l2_chainInfo`: what the node knows of its rollup, soft and on L1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L2ChainInfo {
    /// Registry id on L1.
    pub rollup_id: u32,
    /// Registered name.
    pub name: String,
    /// `optimistic` or `zk`.
    pub kind: String,
    /// `sequencer` or `verifier`.
    pub role: String,
    /// The sequencer's L1 key.
    pub sequencer: PublicKey,
    /// Least fee.
    #[serde(with = "serde_amount")]
    pub min_fee: Amount,
    /// The fee model and the prices it stands at.
    pub fees: FeesInfo,
    /// An optimistic rollup's challenge window, in L1 blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge_window: Option<u64>,
    /// An optimistic rollup's bond per output.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::l1::opt_amount"
    )]
    pub proposer_bond: Option<Amount>,
    /// A ZK rollup's circuit slots: the most transactions a batch holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<u32>,
    /// The L1 endpoint the node reads.
    pub l1_rpc: String,
    /// The finalized L1 height last read.
    pub l1_height: u64,
    /// The last L1 read's error, if it failed.
    pub l1_error: Option<String>,
    /// The sequencer's soft chain (none on a verifier).
    pub soft: Option<SoftInfo>,
    /// Transactions waiting in the queue.
    pub pending: u64,
    /// Why the sequencer stopped, if it did.
    pub halted: Option<String>,
    /// What the node derived from the L1's data.
    pub derived: DerivedInfo,
    /// The rollup as the L1 records it.
    pub l1: L1SideInfo,
    /// Proposed outputs that differ from the derived ones (optimistic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatches: Option<Vec<Mismatch>>,
    /// The prover's progress (a ZK sequencer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prover: Option<ProverInfo>,
    /// The node's own L1 transactions not yet released.
    pub in_flight: Vec<InFlight>,
}

/// The fee part of `l2_chainInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeesInfo {
    /// The fee model.
    pub model: FeeModel,
    /// Least fee.
    #[serde(with = "serde_amount")]
    pub min_fee: Amount,
    /// The EIP-1559 base fee of the next block (sequencers only).
    #[serde(with = "crate::l1::opt_amount")]
    pub l2_base_fee: Option<Amount>,
    /// The least bid of the last full auction block.
    #[serde(with = "serde_amount")]
    pub clearing_fee: Amount,
    /// The L1 gas price the sequencer expects to pay.
    pub l1_gas_price: u64,
    /// The L1 blob base fee per byte.
    pub l1_blob_base_fee: u64,
}

/// A sequencer's soft chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SoftInfo {
    /// Blocks made.
    pub blocks: u64,
    /// Transactions confirmed.
    pub transactions: u64,
    /// L2 accounts.
    pub accounts: u64,
    /// Deposits applied.
    pub deposits_applied: u64,
    /// The state's output.
    pub output: HexBytes,
}

/// What a node derived from the L1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivedInfo {
    /// Batches derived.
    pub batches: u64,
    /// Transactions in them.
    pub transactions: u64,
    /// Queue items known.
    pub deposits_known: u64,
    /// The output after the last batch.
    pub output: Option<Hash>,
    /// Batches proven (ZK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proven_batches: Option<u64>,
    /// Batches reverted (ZK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverted: Option<u64>,
    /// The batch derivation is stuck on and why (ZK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck: Option<Stuck>,
}

/// Where and why a ZK derivation stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stuck {
    /// The batch.
    pub batch: u64,
    /// Why.
    pub reason: String,
}

/// The rollup as the L1 records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L1SideInfo {
    /// Funds held for the rollup.
    #[serde(with = "serde_amount")]
    pub escrow: Amount,
    /// Queue items.
    pub deposits: u64,
    /// Batches posted.
    pub batches: u64,
    /// Outputs proposed (optimistic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposals: Option<u64>,
    /// Batches settled (optimistic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled: Option<u64>,
    /// Unresolved proposals (optimistic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unresolved: Option<u64>,
    /// Blocks from a proposal to its resolution at the latest (optimistic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute_bound: Option<u64>,
    /// Batches proven (ZK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proven: Option<u64>,
    /// Withdrawals paid.
    pub withdrawals_paid: u64,
}

/// A proposed output that differs from the derived one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mismatch {
    /// The batch.
    pub batch: u64,
    /// The output proposed.
    pub proposed: Hash,
    /// The output derived.
    pub derived: Hash,
    /// The proposal.
    pub proposal: u64,
    /// Its proposer.
    pub proposer: PublicKey,
    /// L1 height by which its dispute resolves.
    pub resolves_by: u64,
}

/// A ZK sequencer's prover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProverInfo {
    /// The next batch to prove.
    pub next_batch: u64,
    /// The batch being proven and for how long.
    pub proving: Option<Proving>,
    /// Proofs made.
    pub proven: u64,
    /// Proofs reused from disk.
    pub reused: u64,
    /// Mean seconds per proof.
    pub mean_seconds: Option<f64>,
    /// Batches posted but not proven.
    pub lag_batches: u64,
    /// Seconds until the lag is proven, at the mean.
    pub eta_seconds: Option<f64>,
    /// The last proving error.
    pub error: Option<String>,
}

/// A proof under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proving {
    /// Its batch.
    pub batch: u64,
    /// Milliseconds so far.
    pub elapsed_ms: u64,
}

/// One of the node's L1 transactions not yet released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InFlight {
    /// Its hash.
    pub hash: Hash,
    /// What it does.
    pub what: Posting,
    /// L1 height it was included at.
    pub included_at: Option<u64>,
    /// Whether it failed.
    pub failed: bool,
}

/// What an L1 transaction of a rollup node does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Posting {
    /// Posts a batch of transactions `from_tx..to_tx`.
    Batch {
        /// Batch index.
        batch: u64,
        /// First transaction.
        from_tx: u64,
        /// End of its transactions.
        to_tx: u64,
    },
    /// Proposes a batch's output.
    Output {
        /// Batch index.
        batch: u64,
    },
    /// Proves a batch.
    Proof {
        /// Batch index.
        batch: u64,
    },
    /// A move in a batch's dispute.
    Dispute {
        /// Batch index.
        batch: u64,
        /// The move.
        action: String,
    },
    /// Fills a nonce gap.
    Filler,
}

/// Where an L2 transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum L2TxState {
    /// Queued at the sequencer.
    Pending,
    /// In a sequencer block.
    Soft,
    /// In a batch in an L1 block not final yet.
    Posted,
    /// In a batch final on L1.
    L1Final,
    /// In a proven batch (ZK).
    Proven,
    /// In a batch whose output settled (optimistic).
    Settled,
    /// Refused, or confirmed as a no-op.
    Failed,
    /// Not known to this node.
    Unknown,
}

/// `l2_getTransaction` and `l2_sendTransaction`: where a transaction stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L2TxStatus {
    /// Its hash.
    pub hash: Hash,
    /// Where it stands.
    pub status: L2TxState,
    /// Sequencer block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
    /// Position in the rollup's transaction order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// A withdrawal's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal_index: Option<u64>,
    /// Batch holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// L1 height of that batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_height: Option<u64>,
    /// L1 height by which its batch's output settles whatever is played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settles_by: Option<u64>,
    /// L1 height its batch was proven at (ZK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proven_at: Option<u64>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl L2TxStatus {
    /// A transaction in state `status` and nothing more known.
    pub fn new(hash: Hash, status: L2TxState) -> Self {
        L2TxStatus {
            hash,
            status,
            block: None,
            sequence: None,
            withdrawal_index: None,
            batch: None,
            l1_height: None,
            settles_by: None,
            proven_at: None,
            reason: None,
        }
    }
}

/// `l2_getAccount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L2AccountInfo {
    /// Account index.
    pub index: u32,
    /// Owner's L2 key.
    pub key: HexBytes,
    /// Balance.
    #[serde(with = "serde_amount")]
    pub balance: Amount,
    /// Next nonce in the state read.
    pub nonce: u64,
    /// Every account of the key (when asked by key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indices: Option<Vec<u32>>,
    /// Next nonce counting the queue (sequencers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_nonce: Option<u64>,
    /// `soft` (a sequencer's state) or `l1_final` (derived from the L1).
    pub at: String,
}

/// An L2 transaction as a block shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L2TxInfo {
    /// Its hash.
    pub hash: Hash,
    /// What it does.
    #[serde(flatten)]
    pub tx: L2TxKind,
}

/// What an L2 transaction does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum L2TxKind {
    /// Applies queue item `index`.
    Deposit {
        /// Queue index.
        index: u64,
    },
    /// Pays another account.
    Transfer {
        /// Sender.
        from: u32,
        /// Recipient.
        to: u32,
        /// Amount.
        #[serde(with = "serde_amount")]
        amount: Amount,
        /// Fee.
        #[serde(with = "serde_amount")]
        fee: Amount,
        /// Nonce.
        nonce: u64,
    },
    /// Withdraws to an L1 account.
    Withdraw {
        /// Sender.
        from: u32,
        /// L1 recipient.
        recipient: PublicKey,
        /// Amount.
        #[serde(with = "serde_amount")]
        amount: Amount,
        /// Fee.
        #[serde(with = "serde_amount")]
        fee: Amount,
        /// Nonce.
        nonce: u64,
    },
}

/// `l2_getBlock` and `l2_block` notifications: a sequencer block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L2BlockInfo {
    /// Block number.
    pub number: u64,
    /// When it was made.
    pub timestamp_ms: u64,
    /// The state's output after it.
    pub output: HexBytes,
    /// Its transactions.
    pub transactions: Vec<L2TxInfo>,
}

/// `l2_estimateFee`'s query: the transaction to price, unsigned and without its fee. What is
/// left out is taken as typical (account 1, one token, the sender's next nonce).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeeQuery {
    /// `transfer` or `withdraw`.
    pub kind: String,
    /// Sender account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u32>,
    /// Recipient account (a transfer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<u32>,
    /// L1 recipient (a withdrawal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<PublicKey>,
    /// Base units, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// Nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
}

impl FeeQuery {
    /// A query for a typical transaction of `kind`.
    pub fn of(kind: &str) -> Self {
        FeeQuery {
            kind: kind.to_string(),
            ..FeeQuery::default()
        }
    }
}

/// `l2_estimateFee`: the fee to sign and its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeEstimate {
    /// The fee to sign: room for the L1 to rise two blocks and the L2 base fee one.
    #[serde(with = "serde_amount")]
    pub fee: Amount,
    /// The least fee admitted now.
    #[serde(with = "serde_amount")]
    pub least: Amount,
    /// The execution part of `fee`.
    #[serde(with = "serde_amount")]
    pub execution: Amount,
    /// The L1 data part of `fee`.
    #[serde(with = "serde_amount")]
    pub l1_data: Amount,
    /// Bytes the transaction takes in a batch.
    pub bytes: u64,
    /// The fee model.
    pub model: FeeModel,
    /// The EIP-1559 base fee of the next block.
    #[serde(with = "serde_amount")]
    pub l2_base_fee: Amount,
    /// The L1 gas price the sequencer expects to pay.
    pub l1_gas_price: u64,
    /// The L1 blob base fee per byte.
    pub l1_blob_base_fee: u64,
}

/// `l2_getWithdrawalProof`: a withdrawal's claim, or why it is not ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalProof {
    /// Whether `claim` is there.
    pub ready: bool,
    /// Withdrawal index.
    pub index: u64,
    /// Why it is not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its batch, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// L1 height by which its batch's output settles (optimistic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settles_by: Option<u64>,
    /// Batches proven (ZK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proven_batches: Option<u64>,
    /// The L1 height read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_height: Option<u64>,
    /// The claim `l1 finalizeWithdrawal` takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<WithdrawalClaimInfo>,
}

/// A withdrawal claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalClaimInfo {
    /// Rollup id.
    pub rollup: u32,
    /// Settled batch it is proven against.
    pub batch: u64,
    /// That batch's state root.
    pub state_root: Hash,
    /// Root of its withdrawals tree.
    pub withdrawals_tree_root: Hash,
    /// Withdrawals in the tree.
    pub withdrawal_count: u64,
    /// Withdrawal index.
    pub index: u64,
    /// L1 recipient.
    pub recipient: PublicKey,
    /// Amount.
    #[serde(with = "serde_amount")]
    pub amount: Amount,
    /// Merkle path.
    pub proof: Vec<Hash>,
}

impl From<&basalt_l1::WithdrawalClaim> for WithdrawalClaimInfo {
    fn from(c: &basalt_l1::WithdrawalClaim) -> Self {
        WithdrawalClaimInfo {
            rollup: c.rollup,
            batch: c.batch,
            state_root: c.state_root,
            withdrawals_tree_root: c.withdrawals_tree_root,
            withdrawal_count: c.withdrawal_count,
            index: c.index,
            recipient: c.recipient,
            amount: c.amount,
            proof: c.proof.clone(),
        }
    }
}

impl From<WithdrawalClaimInfo> for basalt_l1::WithdrawalClaim {
    fn from(c: WithdrawalClaimInfo) -> Self {
        basalt_l1::WithdrawalClaim {
            rollup: c.rollup,
            batch: c.batch,
            state_root: c.state_root,
            withdrawals_tree_root: c.withdrawals_tree_root,
            withdrawal_count: c.withdrawal_count,
            index: c.index,
            recipient: c.recipient,
            amount: c.amount,
            proof: c.proof,
        }
    }
}

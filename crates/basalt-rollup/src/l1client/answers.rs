//! The L1's answers as a rollup node and a wallet read them: typed, with bounded sizes.

use super::L1Error;
use basalt_l1::Params;
use basalt_l2::{DepositEntry, L2Tx, Optimistic, Zk};
use basalt_types::zk::BabyPublicKey;
use basalt_types::{serde_amount, Amount, Decode, Hash, PublicKey};
use serde::Deserialize;
use serde_json::Value;

/// The parts of `l1_chainInfo` a rollup node uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainInfo {
    /// Chain id, signed into every transaction.
    pub chain_id: u64,
    /// Newest finalized height.
    pub finalized_height: u64,
    /// Base fee per gas of the next block.
    pub next_base_fee_per_gas: u64,
    /// Blob base fee per byte of the next block.
    pub next_blob_base_fee: u64,
    /// Chain parameters.
    pub params: Params,
}

/// Rollup parameters as the L1 reports them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupParamsInfo {
    /// Unique name.
    pub name: String,
    /// `optimistic` or `zk`.
    pub kind: String,
    /// The only key that may post batches.
    pub sequencer: PublicKey,
    /// L1 blocks an output waits before it settles.
    pub challenge_window: u64,
    /// Bond locked with each output.
    #[serde(with = "serde_amount")]
    pub proposer_bond: Amount,
    /// Least L2 fee.
    #[serde(with = "serde_amount")]
    pub min_fee: Amount,
    /// Blocks a side of a dispute is always left to answer a counter.
    pub clock_extension: u64,
    /// Bond of each counter in a dispute.
    #[serde(with = "serde_amount")]
    pub dispute_bond: Amount,
    /// Blocks a queued item may wait before a batch must consume it.
    #[serde(default)]
    pub force_inclusion_blocks: u64,
    /// Blocks the rollup may owe something with no batch settled before it freezes.
    #[serde(default)]
    pub escape_blocks: u64,
    /// How the sequencer prices execution and fills blocks.
    #[serde(default)]
    pub fee_model: basalt_l2::FeeModel,
    /// A ZK rollup's circuit and fee account.
    #[serde(default)]
    pub zk: Option<ZkParamsInfo>,
}

/// A ZK rollup's parameters as the L1 reports them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZkParamsInfo {
    /// The BabyJubJub key of L2 account 0 (circomlib's packed point, hex).
    pub fee_key: String,
    /// Transaction slots of the batch circuit: the most transactions a batch may hold.
    pub slots: u32,
    /// Digest of the registered verifying key.
    pub verifying_key_hash: Hash,
}

impl ZkParamsInfo {
    /// The fee account's key, checked to be a point of the prime-order subgroup.
    pub fn fee_key(&self) -> Result<BabyPublicKey, L1Error> {
        basalt_types::codec::parse_hex(&self.fee_key)
            .ok()
            .and_then(|b| BabyPublicKey::from_bytes(&b).ok())
            .ok_or_else(|| L1Error::Malformed {
                method: "l1_getRollup",
                reason: format!("feeKey {} is not a BabyJubJub key", self.fee_key),
            })
    }
}

/// `l1_getRollup`: a rollup's registry entry and counters, as of the finalized height.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupInfo {
    /// Registry id.
    pub id: u32,
    /// Parameters.
    pub params: RollupParamsInfo,
    /// The output batch 0 builds on.
    pub genesis_output: Hash,
    /// Funds held for the rollup.
    #[serde(with = "serde_amount")]
    pub escrow: Amount,
    /// Deposits queued so far.
    pub deposits: u64,
    /// Batches posted.
    pub batches: u64,
    /// Deposit queue end consumed by the last batch.
    pub deposits_end: u64,
    /// Outputs ever proposed, competing and removed ones included.
    pub proposals: u64,
    /// Batches whose output has settled.
    pub settled: u64,
    /// Proposals whose claim trees have not resolved.
    pub unresolved: u64,
    /// The lowest batch with an unresolved proposal.
    pub oldest_open_batch: Option<u64>,
    /// Blocks from a proposal to its resolution at the latest, whatever is played.
    pub dispute_bound: u64,
    /// Withdrawals paid.
    pub withdrawals_paid: u64,
    /// The L1 block from which the rollup is frozen, if it owes something.
    #[serde(default)]
    pub frozen_from: Option<u64>,
    /// Whether the next block finds it frozen: it takes only exits, refunds and settled
    /// withdrawals.
    #[serde(default)]
    pub frozen: bool,
    /// Exits paid from it once frozen.
    #[serde(default)]
    pub exits: u64,
    /// Deposits refunded once frozen.
    #[serde(default)]
    pub refunds: u64,
    /// The finalized L1 height these numbers are from.
    pub height: u64,
}

/// One deposit of the queue.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepositInfo {
    /// Queue index.
    pub index: u64,
    /// Existing L2 account credited, or none for a new one.
    pub account: Option<u32>,
    /// L2 key owning the funds.
    pub key: PublicKey,
    /// Amount.
    #[serde(with = "serde_amount")]
    pub amount: Amount,
    /// L1 height it was queued at.
    pub height: u64,
    /// The L1 account that paid it (and is refunded if a frozen rollup never applied it).
    pub sender: PublicKey,
    /// A forced L2 transaction in its place (hex, as `l2_sendTransaction` takes it).
    #[serde(default)]
    pub forced: Option<String>,
}

impl DepositInfo {
    /// The forced transaction in this place, decoded for profile `P`.
    fn forced<P: basalt_l2::Profile>(&self) -> Result<Option<L2Tx<P>>, L1Error> {
        let Some(h) = &self.forced else {
            return Ok(None);
        };
        basalt_types::codec::parse_hex(h)
            .ok()
            .and_then(|b| L2Tx::<P>::from_bytes(&b).ok())
            .map(Some)
            .ok_or_else(|| L1Error::Malformed {
                method: "l1_getRollupDeposits",
                reason: format!("deposit {} holds no forced transaction", self.index),
            })
    }

    /// The own hash of the forced transaction in this place (by which the L2 nodes know it), on a
    /// rollup of kind `zk` or not; `None` for a deposit.
    pub fn forced_hash(&self, zk: bool) -> Result<Option<Hash>, L1Error> {
        Ok(match zk {
            false => self.forced::<Optimistic>()?.map(|t| t.hash()),
            true => self.forced::<Zk>()?.map(|t| t.hash()),
        })
    }

    /// The entry the L2 applies, with its forced transaction decoded.
    pub fn entry(&self) -> Result<DepositEntry<Optimistic>, L1Error> {
        Ok(DepositEntry {
            forced: self.forced()?,
            account: self.account,
            key: self.key,
            amount: self.amount,
        })
    }

    /// The entry a ZK rollup applies: its key bytes as a BabyJubJub key (the L1 checked them
    /// when it queued the item).
    pub fn zk_entry(&self) -> Result<DepositEntry<Zk>, L1Error> {
        Ok(DepositEntry {
            forced: self.forced()?,
            account: self.account,
            key: basalt_l1::zk_key(&self.key).ok_or_else(|| L1Error::Malformed {
                method: "l1_getRollupDeposits",
                reason: format!("deposit {} holds no BabyJubJub key", self.index),
            })?,
            amount: self.amount,
        })
    }
}

/// One posted batch.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchInfo {
    /// Batch index.
    pub index: u64,
    /// Hash of its blob.
    pub data_hash: Hash,
    /// Deposit queue end it consumed up to.
    pub deposits_end: u64,
    /// L1 height it was posted at.
    pub height: u64,
    /// Decompressed length its blob header declares (prices its decode).
    pub raw_bytes: u64,
    /// Transactions its blob header declares.
    pub tx_count: u64,
    /// Steps of its trace: its blob's transactions and, for an optimistic batch, a deposit for each
    /// of its range (prices its decode).
    pub steps: u64,
    /// A ZK batch's data hash, its proof's public input.
    #[serde(default)]
    pub proof_input: Option<Hash>,
}

/// One proposed output.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputInfo {
    /// Its proposal id (proposals count from 0, removed ones included).
    pub proposal: u64,
    /// `pending`, `disputed`, `upheld`, `settled` or `removed`.
    pub status: String,
    /// Batch index it claims the output of.
    pub batch: u64,
    /// The output it builds on.
    pub prior: Hash,
    /// The claimed output.
    pub output: Hash,
    /// Who proposed it.
    pub proposer: PublicKey,
    /// L1 height it was proposed at.
    pub height: u64,
    /// L1 height at which its claim tree resolves, as of the read (later counters extend it);
    /// 0 for a ZK rollup's outputs, which are proven, never disputed.
    #[serde(default)]
    pub resolves_at: u64,
    /// L1 height by which its tree resolves whatever is played (0 for a ZK rollup's outputs).
    #[serde(default)]
    pub bound: u64,
    /// Whether it has settled.
    pub settled: bool,
}

/// `l1_getDispute`: a proposal's dispute record.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeInfo {
    /// The proposal.
    pub proposal: u64,
    /// The batch it follows.
    pub batch: u64,
    /// The agreed state its trace starts from.
    pub prior: Hash,
    /// Transactions in the batch.
    pub steps: u64,
    /// Depth of the bottom claims.
    pub depth: u32,
    /// Each side's clock along a path.
    pub max_clock: u64,
    /// Blocks a side is always left to answer.
    pub clock_extension: u64,
    /// Claims in the tree.
    pub claims: u64,
    /// Running digest of the claims.
    pub claims_digest: Hash,
    /// When the tree resolves, as of the read.
    pub resolves_at: u64,
    /// Whether it has not resolved.
    pub open: bool,
}

/// `l1_getAccount`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// Balance.
    #[serde(with = "serde_amount")]
    pub balance: Amount,
    /// Next nonce in the finalized state.
    pub nonce: u64,
    /// Next nonce counting this node's mempool.
    pub pending_nonce: u64,
}

/// `l1_getTransaction`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        /// Why its action failed, if it did.
        error: Option<String>,
    },
    /// Dropped after acceptance.
    Rejected {
        /// Why.
        error: String,
    },
    /// Never seen.
    Unknown,
}

/// A rollup by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollupRef {
    /// Registry id.
    Id(u32),
    /// Registered name.
    Name(String),
}

impl RollupRef {
    /// Reads a number as an id and anything else as a name.
    pub fn parse(s: &str) -> Self {
        match s.parse::<u32>() {
            Ok(id) => RollupRef::Id(id),
            Err(_) => RollupRef::Name(s.to_string()),
        }
    }

    /// The parameter that names it in an RPC call.
    pub(super) fn json(&self) -> Value {
        match self {
            RollupRef::Id(id) => Value::from(*id),
            RollupRef::Name(n) => Value::from(n.as_str()),
        }
    }
}

impl std::fmt::Display for RollupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RollupRef::Id(id) => write!(f, "{id}"),
            RollupRef::Name(n) => f.write_str(n),
        }
    }
}

//! The L1 API's answers about the rollup registry: parameters, counters and risks, the queue,
//! batches, outputs, disputes and their claims.

use crate::HexBytes;
use basalt_l1::FeeModel;
use basalt_types::{serde_amount, Amount, Hash, PublicKey};
use serde::{Deserialize, Serialize};

/// Rollup parameters, as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Share of a slashed bond paid to who won against it.
    pub slash_reward_percent: u8,
    /// Blocks a queued item may wait before a batch must consume it.
    pub force_inclusion_blocks: u64,
    /// Blocks the rollup may owe something with no batch settled before it freezes.
    pub escape_blocks: u64,
    /// How the sequencer prices execution and fills blocks.
    pub fee_model: FeeModel,
    /// A ZK rollup's circuit and fee account.
    pub zk: Option<ZkParamsInfo>,
}

/// A ZK rollup's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZkParamsInfo {
    /// The BabyJubJub key of L2 account 0 (circomlib's packed point).
    pub fee_key: HexBytes,
    /// Transaction slots of the batch circuit: the most transactions a batch may hold.
    pub slots: u32,
    /// Digest of the registered verifying key.
    pub verifying_key_hash: Hash,
    /// Size of the registered verifying key.
    pub verifying_key_bytes: u64,
}

/// `l1_getRollup`: a rollup's registry entry and counters, as of the finalized height.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Bonds held.
    #[serde(with = "serde_amount")]
    pub bonds: Amount,
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
    /// Claims ever made in its disputes.
    pub claim_total: u64,
    /// Proposals whose claim trees have not resolved.
    pub unresolved: u64,
    /// The lowest batch with an unresolved proposal.
    pub oldest_open_batch: Option<u64>,
    /// The first ids of unresolved proposals (at most 1000).
    pub first_unresolved: Vec<u64>,
    /// Blocks from a proposal to its resolution at the latest, whatever is played.
    pub dispute_bound: u64,
    /// How the bound follows from the parameters.
    pub dispute_bound_rule: String,
    /// The newest settled output.
    pub last_settled_output: Option<Hash>,
    /// Withdrawals paid.
    pub withdrawals_paid: u64,
    /// L1 height of the last settlement.
    pub settled_at: u64,
    /// The L1 block from which the rollup is frozen, if it owes something.
    pub frozen_from: Option<u64>,
    /// Whether the next block finds it frozen: it takes only exits, refunds and settled
    /// withdrawals.
    pub frozen: bool,
    /// Exits paid from it once frozen.
    pub exits: u64,
    /// Deposits refunded once frozen.
    pub refunds: u64,
    /// The finalized L1 height these numbers are from.
    pub height: u64,
}

/// `l1_getRollupRisk`: a rollup's risks and stage, from its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskInfo {
    /// Registry id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// `optimistic` or `zk`.
    pub kind: String,
    /// Stage reached: 0, 1 or 2.
    pub stage: u8,
    /// The first requirement of the next stage it does not meet.
    pub next_requirement: Option<String>,
    /// Every requirement it does not meet.
    pub unmet: Vec<Unmet>,
    /// The five categories, in L2BEAT's order.
    pub categories: Vec<RiskCategoryInfo>,
}

/// A stage requirement not met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmet {
    /// The stage that asks it.
    pub stage: u8,
    /// What it asks.
    pub requirement: String,
}

/// One risk category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskCategoryInfo {
    /// Stable identifier, e.g. `sequencer_failure`.
    pub id: String,
    /// `good`, `warning` or `bad`.
    pub level: String,
    /// Why, with the numbers it comes from.
    pub summary: String,
}

/// One item of a rollup's queue: a deposit, or a forced L2 transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The L1 account that paid it (and is refunded if a frozen rollup never applied it).
    pub sender: PublicKey,
    /// L1 height it was queued at.
    pub height: u64,
    /// A forced L2 transaction in its place, as `l2_sendTransaction` takes it.
    pub forced: Option<HexBytes>,
}

/// One posted batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_input: Option<Hash>,
}

/// One proposed output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputInfo {
    /// Its proposal id (proposals count from 0, removed ones included).
    pub proposal: u64,
    /// Batch index it claims the output of.
    pub batch: u64,
    /// The output it builds on.
    pub prior: Hash,
    /// The claimed output.
    pub output: Hash,
    /// Who proposed it.
    pub proposer: PublicKey,
    /// Bond locked with it.
    #[serde(with = "serde_amount")]
    pub bond: Amount,
    /// L1 height it was proposed at.
    pub height: u64,
    /// `pending`, `disputed`, `upheld`, `settled` or `removed` (a ZK rollup's outputs are
    /// `settled` once proven).
    pub status: String,
    /// Whether it has settled.
    pub settled: bool,
    /// An optimistic output's dispute: when its tree resolves as of the read, its claims, and the
    /// height by which it resolves whatever is played. A ZK rollup's outputs have none.
    #[serde(flatten)]
    pub dispute: Option<OutputDispute>,
    /// A ZK output: whether a proof moved it past its prior.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proven: Option<bool>,
}

impl OutputInfo {
    /// L1 height by which its tree resolves whatever is played (0 for a ZK rollup's outputs).
    pub fn bound(&self) -> u64 {
        self.dispute.map_or(0, |d| d.bound)
    }

    /// L1 height at which its tree resolves as of the read (0 for a ZK rollup's outputs).
    pub fn resolves_at(&self) -> u64 {
        self.dispute.map_or(0, |d| d.resolves_at)
    }
}

/// The dispute summary of an optimistic output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputDispute {
    /// L1 height at which its claim tree resolves, as of the read (later counters extend it).
    pub resolves_at: u64,
    /// Claims in its tree.
    pub claims: u64,
    /// L1 height by which its tree resolves whatever is played.
    pub bound: u64,
}

/// A proposal's dispute record: rules, claim count and digest, resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeInfo {
    /// The proposal.
    pub proposal: u64,
    /// The batch it follows.
    pub batch: u64,
    /// The agreed state its trace starts from.
    pub prior: Hash,
    /// Steps of the batch's trace.
    pub steps: u64,
    /// Depth of the bottom claims.
    pub depth: u32,
    /// Each side's clock along a path.
    pub max_clock: u64,
    /// Blocks a side is always left to answer.
    pub clock_extension: u64,
    /// Blocks from the proposal to resolution at the latest.
    pub bound: u64,
    /// Claims in the tree.
    pub claims: u64,
    /// Running digest of the claims.
    pub claims_digest: Hash,
    /// When the tree resolves, as of the read.
    pub resolves_at: u64,
    /// Whether it has not resolved.
    pub open: bool,
    /// How it resolved.
    pub result: Option<DisputeOutcome>,
}

/// How a dispute resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeOutcome {
    /// `upheld` or `removed`.
    pub outcome: String,
    /// L1 height it resolved at.
    pub height: u64,
}

/// `l1_getClaims`: a page of a dispute's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsPage {
    /// Claims in the tree.
    pub total: u64,
    /// Index of the first claim of the page.
    pub from: u64,
    /// The claims.
    pub claims: Vec<ClaimInfo>,
}

/// One claim of a dispute's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimInfo {
    /// Index in the tree.
    pub index: u64,
    /// The claim it counters (none for the root).
    pub parent: Option<u32>,
    /// Position in the game tree.
    pub position: u64,
    /// Claimed state.
    pub value: Hash,
    /// Who made it.
    pub claimant: PublicKey,
    /// Bond locked with it.
    #[serde(with = "serde_amount")]
    pub bond: Amount,
    /// L1 height it was made at.
    pub created: u64,
    /// Its side's clock when it was made.
    pub clock: u64,
    /// Its consensus encoding, which clients decode.
    pub data: HexBytes,
}

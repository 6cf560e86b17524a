//! A rollup's committed summary, and what one block changes in a rollup.

use super::{BatchRecord, DepositRecord, OutputRecord, RollupKind, RollupParams};
use crate::dispute::tree::Claim;
use crate::dispute::Dispute;
use basalt_l2::{L2State, Optimistic, Zk};
use basalt_merkle::{Blake3Hasher, MerkleTree, DEFAULT_DEPTH};
use basalt_types::codec::put_varint;
use basalt_types::{hash_parts, Amount, Decode, DecodeError, Decoder, Encode, Hash};
use std::collections::BTreeMap;

/// The summary of a rollup that the L1 state root commits to. Append-only lists are committed by
/// running digests, so a block that appends to them costs the same however long they are; the
/// settled chain and the disputes (whose records change in place), by Merkle trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupHeader {
    /// Registry index; also the L2 `rollup_id` that signatures bind to.
    pub id: u32,
    /// Registration parameters.
    pub params: RollupParams,
    /// The output of the rollup's genesis state: what batch 0's output builds on.
    pub genesis_output: Hash,
    /// Funds held for the rollup's users.
    pub escrow: Amount,
    /// Proposer and dispute bonds held.
    pub bonds: Amount,
    /// Deposits queued so far.
    pub deposit_count: u64,
    /// Running digest of the deposit queue.
    pub deposits_digest: Hash,
    /// Batches posted so far.
    pub batch_count: u64,
    /// Running digest of the batches.
    pub batches_digest: Hash,
    /// The deposit range end of the last batch.
    pub deposits_end: u64,
    /// The deposits consumed by the settled batches (ZK rollups, where each batch consumes an
    /// exact range; 0 for optimistic ones): where the queue resumes if unproven batches revert.
    pub settled_deposits: u64,
    /// Outputs ever proposed, each with its own dispute game; several may compete for a batch.
    pub proposal_count: u64,
    /// Running digest of every proposal.
    pub proposals_digest: Hash,
    /// Merkle root of the settled chain: position `k` holds the proposal id of batch `k`'s output.
    pub chain_root: Hash,
    /// Batches whose output has settled, in order.
    pub settled: u64,
    /// The L1 block that last settled a batch (a ZK revert does not count), or that registered
    /// the rollup: where its escape clock restarts.
    pub settled_at: u64,
    /// Merkle root of the disputes: position `i` holds the digest of proposal `i`'s dispute.
    pub disputes_root: Hash,
    /// Claims posted in all disputes so far (roots and one-step proofs included).
    pub claim_total: u64,
    /// Withdrawals paid so far.
    pub claim_count: u64,
    /// Running digest of the paid withdrawal indices.
    pub claims_digest: Hash,
    /// Exits paid from a frozen rollup (each also in the claims, by [`super::exit_key`]).
    pub exit_count: u64,
    /// Deposits refunded from a frozen rollup (each also in the claims, by [`super::refund_key`]).
    pub refund_count: u64,
}

impl RollupHeader {
    /// A rollup registered at L1 block `height`.
    pub fn new(id: u32, params: RollupParams, height: u64) -> Self {
        let genesis_output = match &params.kind {
            RollupKind::Optimistic => {
                L2State::<Optimistic>::genesis(params.l2_config(id), params.sequencer).output()
            }
            RollupKind::Zk(z) => super::zk::felt_hash(
                L2State::<Zk>::genesis(params.l2_config(id), z.fee_key).output(),
            ),
        };
        let empty_root = MerkleTree::<Blake3Hasher>::new(DEFAULT_DEPTH).root();
        RollupHeader {
            id,
            params,
            genesis_output,
            escrow: 0,
            bonds: 0,
            deposit_count: 0,
            deposits_digest: Hash::ZERO,
            batch_count: 0,
            batches_digest: Hash::ZERO,
            deposits_end: 0,
            settled_deposits: 0,
            proposal_count: 0,
            proposals_digest: Hash::ZERO,
            chain_root: empty_root,
            settled: 0,
            settled_at: height,
            disputes_root: empty_root,
            claim_total: 0,
            claim_count: 0,
            claims_digest: Hash::ZERO,
            exit_count: 0,
            refund_count: 0,
        }
    }

    /// The digest the L1 state root commits to.
    pub fn hash(&self) -> Hash {
        hash_parts("basalt/l1/rollup", &[&self.to_bytes()])
    }
}

impl Encode for RollupHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_le_bytes());
        self.params.encode_to(out);
        self.genesis_output.encode_to(out);
        put_varint(out, self.escrow);
        put_varint(out, self.bonds);
        put_varint(out, self.deposit_count as u128);
        self.deposits_digest.encode_to(out);
        put_varint(out, self.batch_count as u128);
        self.batches_digest.encode_to(out);
        put_varint(out, self.deposits_end as u128);
        put_varint(out, self.settled_deposits as u128);
        put_varint(out, self.proposal_count as u128);
        self.proposals_digest.encode_to(out);
        self.chain_root.encode_to(out);
        put_varint(out, self.settled as u128);
        put_varint(out, self.settled_at as u128);
        self.disputes_root.encode_to(out);
        put_varint(out, self.claim_total as u128);
        put_varint(out, self.claim_count as u128);
        self.claims_digest.encode_to(out);
        put_varint(out, self.exit_count as u128);
        put_varint(out, self.refund_count as u128);
    }
}

impl Decode for RollupHeader {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(RollupHeader {
            id: d.u32()?,
            params: RollupParams::decode_from(d)?,
            genesis_output: Hash::decode_from(d)?,
            escrow: d.varint()?,
            bonds: d.varint()?,
            deposit_count: d.varint_u64()?,
            deposits_digest: Hash::decode_from(d)?,
            batch_count: d.varint_u64()?,
            batches_digest: Hash::decode_from(d)?,
            deposits_end: d.varint_u64()?,
            settled_deposits: d.varint_u64()?,
            proposal_count: d.varint_u64()?,
            proposals_digest: Hash::decode_from(d)?,
            chain_root: Hash::decode_from(d)?,
            settled: d.varint_u64()?,
            settled_at: d.varint_u64()?,
            disputes_root: Hash::decode_from(d)?,
            claim_total: d.varint_u64()?,
            claim_count: d.varint_u64()?,
            claims_digest: Hash::decode_from(d)?,
            exit_count: d.varint_u64()?,
            refund_count: d.varint_u64()?,
        })
    }
}

/// The leaf of the chain tree that holds proposal `id`.
pub fn chain_leaf(id: u64) -> Hash {
    Blake3Hasher::leaf(&id.to_le_bytes())
}

/// What one block changed in one rollup: its new header, what it appended and what it rewrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupDiff {
    /// The header after the block.
    pub header: RollupHeader,
    /// Deposits queued by the block.
    pub deposits: Vec<DepositRecord>,
    /// Batches posted by the block.
    pub batches: Vec<BatchRecord>,
    /// Outputs proposed by the block.
    pub proposals: Vec<OutputRecord>,
    /// Proposal ids the block settled, appended to the settled chain in batch order.
    pub chain: Vec<u64>,
    /// Dispute records the block opened or changed, each in its final state, by proposal.
    pub disputes: BTreeMap<u64, Dispute>,
    /// Claims the block appended to each tree, by proposal (a new tree's root first).
    pub tree_claims: BTreeMap<u64, Vec<Claim>>,
    /// Withdrawal indices paid by the block.
    pub claims: Vec<u64>,
}

impl RollupDiff {
    /// A diff that changes nothing yet.
    pub fn new(header: RollupHeader) -> Self {
        RollupDiff {
            header,
            deposits: Vec::new(),
            batches: Vec::new(),
            proposals: Vec::new(),
            chain: Vec::new(),
            disputes: BTreeMap::new(),
            tree_claims: BTreeMap::new(),
            claims: Vec::new(),
        }
    }
}
